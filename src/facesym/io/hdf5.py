"""Self-describing HDF5 files.

Every dataset carries its axes (``axes = ["emotion", "s", "t", "class"]``) and units; the file carries the
coordinates of those axes, the seed, the config values that produced it, the facesym version and a ``kind`` tag
(``"surfaces"``, ``"expressions"`` …) so a reader can refuse a file that is not what it expects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from facesym import __version__
from facesym.io.atomic import atomic_path

__all__ = ["H5Contents", "H5FormatError", "read_h5", "write_h5"]

_MAGIC = "facesym"


class H5FormatError(OSError):
    """A file that is missing, truncated, or not the facesym file the caller expected."""


@dataclass
class H5Contents:
    """Everything :func:`write_h5` stored.

    Attributes
    ----------
    kind
        What the file holds (``"surfaces"`` …).
    data
        Dataset name -> array.
    axes
        Dataset name -> axis names, one per array dimension.
    units
        Dataset name -> unit string (``""`` when dimensionless).
    coords
        Axis name -> coordinate values (grid values, class names …).
    attrs
        ``seed``, ``config`` (dict), ``facesym_version`` and any extra attributes.
    """

    kind: str
    data: dict[str, np.ndarray] = field(default_factory=dict)
    axes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    coords: dict[str, np.ndarray] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)


def _as_storable(values: Any) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind in "UO":
        return np.asarray(array, dtype=h5py.string_dtype())
    return array


def write_h5(
    path: str | Path,
    kind: str,
    datasets: Mapping[str, tuple[Any, tuple[str, ...] | list[str], str]],
    *,
    seed: int,
    config: Mapping[str, Any],
    coords: Mapping[str, Any] | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> None:
    """Write datasets with their axes, units and provenance to ``path`` atomically.

    Parameters
    ----------
    path
        Destination ``.h5`` file; it appears only once complete.
    kind
        What the file holds; :func:`read_h5` can require it.
    datasets
        Name -> ``(array, axes, units)``; ``len(axes)`` must equal ``array.ndim``.
    seed
        The seed of the job that produced the data.
    config
        The config values that produced it (stored as JSON).
    coords
        Axis name -> coordinate values (numbers or strings).
    attrs
        Extra scalar attributes.
    """
    with atomic_path(path) as temporary:
        with h5py.File(temporary, "w") as fh:
            fh.attrs["format"] = _MAGIC
            fh.attrs["kind"] = kind
            fh.attrs["facesym_version"] = __version__
            fh.attrs["seed"] = int(seed)
            fh.attrs["config"] = json.dumps(config, sort_keys=True, default=str)
            for key, value in (attrs or {}).items():
                fh.attrs[key] = value
            for name, values in (coords or {}).items():
                fh.create_dataset(f"coords/{name}", data=_as_storable(values))
            for name, (values, axes, units) in datasets.items():
                array = np.asarray(values)
                if len(axes) != array.ndim:
                    raise ValueError(f"dataset '{name}' has {array.ndim} dimensions but {len(axes)} axis names")
                dataset = fh.create_dataset(name, data=_as_storable(array))
                dataset.attrs["axes"] = list(axes)
                dataset.attrs["units"] = units


def _decode(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.dtype.kind in "OS":
        return np.array([v.decode("utf-8") if isinstance(v, bytes) else v for v in value.ravel()]).reshape(
            value.shape
        )
    return value


def read_h5(path: str | Path, kind: str | None = None) -> H5Contents:
    """Read a file written by :func:`write_h5`.

    Parameters
    ----------
    path
        The ``.h5`` file.
    kind
        If given, the file must hold this kind of data.

    Raises
    ------
    H5FormatError
        If the file is missing, truncated/corrupt, not written by facesym, or of another kind; the message names
        the file.
    """
    path = Path(path)
    if not path.is_file():
        raise H5FormatError(f"{path}: file does not exist")
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise H5FormatError(f"{path}: not a readable HDF5 file (truncated or corrupt?): {exc}") from exc
    with fh:
        if fh.attrs.get("format") != _MAGIC:
            raise H5FormatError(f"{path}: not a facesym file (no 'format = facesym' attribute)")
        found = str(fh.attrs["kind"])
        if kind is not None and found != kind:
            raise H5FormatError(f"{path}: holds '{found}' data, expected '{kind}'")
        contents = H5Contents(kind=found)
        for key, value in fh.attrs.items():
            if key in ("format", "kind"):
                continue
            contents.attrs[key] = json.loads(value) if key == "config" else _decode(value)
        try:
            if "coords" in fh:
                for name, dataset in fh["coords"].items():
                    contents.coords[name] = _decode(dataset[()])
            for name, dataset in fh.items():
                if name == "coords" or not isinstance(dataset, h5py.Dataset):
                    continue
                contents.data[name] = _decode(dataset[()])
                contents.axes[name] = tuple(_decode(np.asarray(dataset.attrs["axes"])).tolist())
                contents.units[name] = str(_decode(dataset.attrs["units"]))
        except (OSError, KeyError) as exc:
            raise H5FormatError(f"{path}: damaged facesym file: {exc}") from exc
    return contents
