"""facesym: does an expression classifier change its output when only facial symmetry changes?"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("facesym")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
