"""Per-job CSV results that state where they belong, and the check that they sit there.

Experiment 1 writes one CSV per classifier (its predictions on the cohort, its conditional-independence tests,
their calibration), the DeepFN experiment one per normalisation (scores, symmetry); later jobs read and aggregate
them. Like the HDF5 records of :mod:`facesym.io.records`, each such file carries its provenance, here as columns a
spreadsheet or ``pandas.read_csv`` shows like any other:

- the slot's key column, ``classifier`` or ``normalisation``: whose outputs these are (already a column of every
  such table);
- ``config_digest``: the digest of the config values that made the file (:func:`facesym.io.records.config_digest`
  of what the workflow passes), the same in every row;
- ``facesym_version``: the package version that wrote it.

A reader is given the slot the workflow expects and stops with :class:`~facesym.io.records.ProvenanceError`,
naming the file, the column and both values, when the file says otherwise: a valid CSV copied over another
classifier's would otherwise count one classifier twice and drop another from Table 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from facesym import __version__
from facesym.io.atomic import write_text
from facesym.io.records import ProvenanceError

__all__ = ["PROVENANCE_COLUMNS", "misplaced", "read_slot_table", "write_slot_table"]

PROVENANCE_COLUMNS = ("config_digest", "facesym_version")
"""Columns :func:`write_slot_table` appends; :func:`read_slot_table` checks and removes them."""

_REMEDY = "delete the file and run the same snakemake command again to rebuild it"


def misplaced(path: str | Path, what: str, found: str, wanted: str) -> ProvenanceError:
    """The error for a result file that names another slot than its place: ``what`` (e.g. ``classifier``) is
    ``found`` in ``path`` but the workflow expects ``wanted`` (both as they should be shown); names the remedy."""
    return ProvenanceError(f"{path}: {what} is {found} but this file's place in the workflow expects {wanted}; "
                           f"{_REMEDY}")


def write_slot_table(path: str | Path, table: pd.DataFrame, slot: Mapping[str, Any], *, key: str = "classifier",
                     float_format: str = "%.6g") -> None:
    """Write one slot's table with its provenance columns, atomically.

    Parameters
    ----------
    path
        The CSV to write.
    table
        Rows to write; must have a ``key`` column equal to ``slot[key]`` in every row.
    slot
        ``{key: value, "config_digest": digest}`` as the workflow computes it for this file.
    key
        The column that names the slot: ``classifier`` (Experiment 1) or ``normalisation`` (DeepFN).
    float_format
        Format of floating-point cells.
    """
    if key not in table.columns or set(table[key].astype(str)) - {str(slot[key])}:
        raise ValueError(f"{path}: every row's '{key}' must be {slot[key]!r}")
    out = table.assign(config_digest=slot["config_digest"], facesym_version=__version__)
    write_text(path, out.to_csv(index=False, float_format=float_format))


def read_slot_table(path: str | Path, slot: Mapping[str, Any], *, key: str = "classifier") -> pd.DataFrame:
    """Read one slot's table and check that it belongs to ``slot``.

    Parameters
    ----------
    path
        A CSV written by :func:`write_slot_table`.
    slot
        ``{key: value, "config_digest": digest or None}``: what the workflow expects at ``path`` (``None`` skips
        the digest, for callers outside the workflow).
    key
        As for :func:`write_slot_table`.

    Returns
    -------
    pandas.DataFrame
        The rows without the provenance columns; empty cells stay empty strings.

    Raises
    ------
    ProvenanceError
        The file lacks the columns or names another classifier or config; the message names the file, the
        column, both values and the remedy.
    """
    table = pd.read_csv(path, keep_default_na=False)
    for column, wanted in ((key, slot[key]), ("config_digest", slot.get("config_digest"))):
        if column not in table.columns:
            raise ProvenanceError(f"{path}: no '{column}' column, so it cannot be checked where it belongs "
                                  f"(written by another facesym version?); {_REMEDY}")
        if wanted is None or table.empty:
            continue
        found = sorted(set(table[column].astype(str)))
        if found != [str(wanted)]:
            raise misplaced(path, column, ", ".join(map(repr, found)), repr(str(wanted)))
    return table.drop(columns=[c for c in PROVENANCE_COLUMNS if c in table.columns])
