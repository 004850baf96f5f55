"""Load a user-supplied FLAME ``generic_model.pkl`` (Li et al. 2017) without chumpy and without running code.

The licensed file is a Python-2 pickle of a dict whose arrays are partly chumpy ``Ch`` objects and whose joint
regressor is a scipy sparse matrix. Unpickling can call any importable function, so the file is read with an
unpickler that resolves exactly the classes such a file needs — numpy array reconstruction, ``chumpy.ch.Ch``
(mapped to a stub that keeps only its array), scipy's CSC/CSR matrix (mapped to a stub that keeps only its
arrays) and the builtins that pickle uses to rebuild them (sets, ``copyreg._reconstructor`` and latin-1
bytes, each replaced by a checked equivalent) — and refuses everything else with :class:`FlameFormatError`.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse
import torch

from facesym.face.appearance import REGIONS, PaletteAppearance
from facesym.face.model import MIDLINE_BAND_MM, MM_PER_UNIT, MorphableModel, left_weights
from facesym.render.camera import OrthographicCamera

__all__ = ["FlameFormatError", "load_flame", "read_flame_pickle", "FLAME_KEYS"]

FLAME_KEYS = ("v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table")
"""Entries of a FLAME model file that the loader uses."""

_EYE_DISTANCE = 0.84
"""Distance between the eyeball joints after normalisation: the procedural face's eye spacing, model units."""


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


def _parents(kintree: np.ndarray) -> np.ndarray:
    kintree = np.asarray(kintree).astype(np.int64)
    order = kintree[1]
    parents = np.full(order.size, -1, dtype=np.int64)
    for parent, child in zip(kintree[0], order, strict=True):
        parents[child] = parent if 0 <= parent < order.size else -1
    if parents[0] != -1 or np.any(parents[1:] >= np.arange(1, order.size)) or np.any(parents[1:] < 0):
        raise FlameFormatError("kintree_table must describe a tree whose parents precede their children")
    return parents


def load_flame(
    path: str | Path,
    n_shape: int = 100,
    n_expression: int = 50,
    n_appearance: int = 6,
    left_side: str = "+x",
    *,
    n_identity_total: int = 300,
    normalize: bool = True,
    midline_tol: float = 1e-3,
    midline_band: float = MIDLINE_BAND_MM,
) -> MorphableModel:
    """A :class:`MorphableModel` from a FLAME model file.

    Parameters
    ----------
    path
        ``generic_model.pkl``.
    n_shape, n_expression
        Identity and expression components to use (the paper: 100 and 50).
    n_appearance
        Appearance coefficients. FLAME has no licence-free albedo, so α only sets a uniform skin colour
        (tone and hue, see ``facesym.face.appearance``).
    left_side
        ``"+x"`` (FLAME's convention: the subject's left at positive x) or ``"-x"``.
    n_identity_total
        Number of identity columns in ``shapedirs`` before the expression columns (300 in FLAME).
    normalize
        Translate and scale the model so that the eyeball joints sit at ``(±0.42, 0)`` like the procedural
        face; the default camera then frames it. Without eyeball joints (fewer than 5), the template's bounding
        box is used instead.
    midline_tol
        Vertices with ``|x| <= midline_tol`` (model units after normalisation) are on the midline (weight 0.5).
    midline_band
        Width of the smooth left/right transition across the midline, millimetres
        (:func:`facesym.face.model.left_weights`; assumes the normalised scale, :data:`MM_PER_UNIT`).

    Returns
    -------
    MorphableModel
        Joints and pose as in FLAME: ``pose`` holds axis-angle triples of global, neck, jaw and the eyes
        (length 15); the jaw opens by linear blend skinning.
    """
    data = read_flame_pickle(path)
    template = np.asarray(data["v_template"], dtype=np.float64)
    n_vertices = template.shape[0]
    shapedirs = np.asarray(data["shapedirs"], dtype=np.float64)
    if template.shape != (n_vertices, 3) or shapedirs.shape[:2] != (n_vertices, 3):
        raise FlameFormatError(f"{path}: v_template must be (N, 3) and shapedirs (N, 3, K)")
    if n_shape > n_identity_total or n_identity_total + n_expression > shapedirs.shape[2]:
        raise FlameFormatError(
            f"{path}: shapedirs has {shapedirs.shape[2]} columns, {n_identity_total} identity + "
            f"{shapedirs.shape[2] - n_identity_total} expression; asked for {n_shape} + {n_expression}"
        )
    regressor = np.asarray(data["J_regressor"], dtype=np.float64)
    weights = np.asarray(data["weights"], dtype=np.float64)
    parents = _parents(data["kintree_table"])
    n_joints = parents.size
    posedirs = np.asarray(data["posedirs"], dtype=np.float64).reshape(n_vertices * 3, -1).T
    if regressor.shape != (n_joints, n_vertices) or weights.shape != (n_vertices, n_joints):
        raise FlameFormatError(f"{path}: J_regressor must be (K, N) and weights (N, K) with K = {n_joints}")
    if posedirs.shape[0] != 9 * (n_joints - 1):
        raise FlameFormatError(f"{path}: posedirs must have 9·(K−1) = {9 * (n_joints - 1)} columns")

    camera = OrthographicCamera()
    if normalize:
        joints = regressor @ template
        if n_joints >= 5 and np.linalg.norm(joints[3] - joints[4]) > 0:
            center = 0.5 * (joints[3] + joints[4])
            scale = _EYE_DISTANCE / np.linalg.norm(joints[3] - joints[4])
        else:
            lo, hi = template.min(0), template.max(0)
            center = 0.5 * (lo + hi)
            scale = 2.0 / max(hi[0] - lo[0], 1e-12)
        center[2] = 0.0
        template = (template - center) * scale
        shapedirs = shapedirs * scale
        posedirs = posedirs * scale
    else:
        lo, hi = template.min(0), template.max(0)
        camera = OrthographicCamera(float(0.5 * (lo[0] + hi[0])), float(0.5 * (lo[1] + hi[1])),
                                    float(0.55 * max(hi[0] - lo[0], hi[1] - lo[1])))

    masks = np.zeros((n_vertices, len(REGIONS)), dtype=np.float32)
    masks[:, REGIONS.index("skin")] = 1.0
    f32 = torch.float32
    names = ["global", "neck", "jaw", "eye0", "eye1"] if n_joints == 5 else [f"joint{k}" for k in range(n_joints)]
    return MorphableModel(
        name="flame",
        template=torch.tensor(template, dtype=f32),
        triangles=torch.tensor(np.asarray(data["f"]).astype(np.int64)),
        shapedirs=torch.tensor(shapedirs[:, :, :n_shape], dtype=f32),
        exprdirs=torch.tensor(shapedirs[:, :, n_identity_total:n_identity_total + n_expression], dtype=f32),
        expression_names=[f"psi{k}" for k in range(n_expression)],
        left_weight=torch.tensor(left_weights(template[:, 0], left_side, midline_tol,
                                                band=midline_band / MM_PER_UNIT if normalize else 0.0)),
        left_side=left_side,
        appearance=PaletteAppearance(torch.from_numpy(masks), n_appearance),
        joint_names=names,
        parents=torch.tensor(parents),
        skin_weights=torch.tensor(weights, dtype=f32),
        joint_regressor=torch.tensor(regressor, dtype=f32),
        posedirs=torch.tensor(posedirs, dtype=f32),
        camera=camera,
    )
