"""Read a FLAME ``generic_model.pkl`` (Li et al. 2017) without chumpy, without running code and without torch.

The licensed file is a Python-2 pickle of a dict whose arrays are partly chumpy ``Ch`` objects and whose joint
regressor is a scipy sparse matrix. Unpickling can call any importable function, so the file is read with an
unpickler that resolves exactly the classes such a file needs — numpy array reconstruction, ``chumpy.ch.Ch``
(mapped to a stub that keeps only its array), scipy's CSC/CSR matrix (mapped to a stub that keeps only its
arrays) and the builtins that pickle uses to rebuild them (sets, ``copyreg._reconstructor`` and latin-1
bytes, each replaced by a checked equivalent) — and refuses everything else with :class:`FlameFormatError`.
It imports no torch, so the workflow reads the file this way while it validates the config, before any job;
:func:`facesym.face.flame.load_flame` builds the face model from it.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FlameFormatError", "read_flame_pickle", "FLAME_KEYS"]

FLAME_KEYS = ("v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table")
"""Entries of a FLAME model file that the loader uses."""


class FlameFormatError(ValueError):
    """The file is not a FLAME model the loader can read safely."""


class _ChStub:
    """Stands in for ``chumpy.ch.Ch`` during unpickling; keeps the array ``x`` and nothing else."""

    x: np.ndarray

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict) or "x" not in state:
            raise FlameFormatError("a chumpy object in the file has no array 'x'")
        self.x = np.asarray(state["x"])


class _SparseStub:
    """Stands in for scipy's compressed sparse matrices; keeps ``data``/``indices``/``indptr``/shape only."""

    fmt = "csc"
    state: dict

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise FlameFormatError("a sparse matrix in the file has an unexpected state")
        self.state = state

    def to_dense(self) -> np.ndarray:
        try:
            shape = self.state.get("_shape", self.state.get("shape"))
            parts = (np.asarray(self.state["data"]), np.asarray(self.state["indices"]),
                     np.asarray(self.state["indptr"]))
        except KeyError as exc:
            raise FlameFormatError(f"a sparse matrix in the file lacks {exc}") from exc
        import scipy.sparse  # here, not at the top: every job imports this module, few read a FLAME file

        cls = scipy.sparse.csc_matrix if self.fmt == "csc" else scipy.sparse.csr_matrix
        return cls(parts, shape=tuple(int(n) for n in shape)).toarray()


class _CsrStub(_SparseStub):
    fmt = "csr"


def _reconstructor(cls: type, base: type, state: Any) -> object:
    """Safe replacement of ``copyreg._reconstructor`` (protocol 0/1 pickles): only for the stub classes."""
    if cls not in (_ChStub, _SparseStub, _CsrStub) or base is not object or state is not None:
        raise FlameFormatError(f"refusing to reconstruct {cls!r} from a FLAME file")
    return object.__new__(cls)


def _latin1_bytes(text: str, encoding: str) -> bytes:
    """Safe replacement of ``_codecs.encode``, which Python 3 uses for bytes in protocol-2 pickles."""
    if encoding != "latin1" or not isinstance(text, str):
        raise FlameFormatError(f"refusing to decode bytes with codec {encoding!r} in a FLAME file")
    return text.encode("latin1")


_ARRAY_RECONSTRUCT = np.zeros(1).__reduce__()[0]
_SCALAR = np.float64(0.0).__reduce__()[0]
_ALLOWED: dict[tuple[str, str], Any] = {
    ("chumpy.ch", "Ch"): _ChStub,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("copy_reg", "_reconstructor"): _reconstructor,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("__builtin__", "object"): object,
    ("builtins", "object"): object,
    ("__builtin__", "set"): set,
    ("builtins", "set"): set,
    ("_codecs", "encode"): _latin1_bytes,
}
for _mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED[(_mod, "_reconstruct")] = _ARRAY_RECONSTRUCT
    _ALLOWED[(_mod, "scalar")] = _SCALAR
for _mod in ("scipy.sparse.csc", "scipy.sparse._csc"):
    _ALLOWED[(_mod, "csc_matrix")] = _SparseStub
for _mod in ("scipy.sparse.csr", "scipy.sparse._csr"):
    _ALLOWED[(_mod, "csr_matrix")] = _CsrStub


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise FlameFormatError(
                f"refusing to load '{module}.{name}': a FLAME model file contains only arrays (numpy, chumpy, "
                "scipy.sparse); this file asks for something else and may run code, so it is not read"
            ) from None


def _plain(value: Any) -> Any:
    if isinstance(value, _ChStub):
        return value.x
    if isinstance(value, _SparseStub):
        return value.to_dense()
    return value


def read_flame_pickle(path: str | Path) -> dict[str, Any]:
    """Read a FLAME model file into plain numpy arrays, without chumpy and without running code.

    Parameters
    ----------
    path
        The model file (``generic_model.pkl``, FLAME 2017–2023 layout).

    Returns
    -------
    dict
        The file's entries; chumpy arrays become ``np.ndarray``, sparse matrices dense ``np.ndarray``.

    Raises
    ------
    FileNotFoundError
        No such file.
    FlameFormatError
        The pickle refers to any class beyond the allowed ones, or is not a dict with the FLAME keys.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"FLAME model file not found: {path} (download generic_model.pkl from "
                                "https://flame.is.tue.mpg.de after registering, and set its path in the config)")
    try:
        with path.open("rb") as fh:
            data = _RestrictedUnpickler(fh, encoding="latin1").load()
    except FlameFormatError as exc:
        raise FlameFormatError(f"{path}: {exc}") from None
    except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError) as exc:
        raise FlameFormatError(f"{path}: not a readable FLAME model pickle ({exc})") from exc
    if not isinstance(data, dict):
        raise FlameFormatError(f"{path}: a FLAME model file holds a dict, this one a {type(data).__name__}")
    missing = [key for key in FLAME_KEYS if key not in data]
    if missing:
        raise FlameFormatError(f"{path}: not a FLAME model, missing {missing}")
    return {key: _plain(value) for key, value in data.items()}
