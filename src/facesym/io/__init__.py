"""Reading and writing facesym outputs: atomic files and self-describing HDF5."""

from facesym.io.atomic import atomic_path, write_json, write_text
from facesym.io.hdf5 import H5Contents, H5FormatError, read_h5, write_h5

__all__ = ["H5Contents", "H5FormatError", "atomic_path", "read_h5", "write_h5", "write_json", "write_text"]
