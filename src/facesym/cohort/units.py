"""The unit of analysis of Experiment 1: every image, or one row per subject and instructed label.

A cohort has several images per subject and label (the paper: four repetitions of each of six emotions). The CI
tests assume independent samples; images of one subject share identity, skin, light and the subject's palsy, so
for a property of the subject (palsy) they are not independent, and image-level tests reject true nulls far more
often than their level (the calibration's subject placebo measures by how much). Averaging the repetitions of each
(subject, label) leaves, within every label group, exactly one row per subject: the rows the tests compare at a
fixed label are then independent across subjects, which is what the tests conditional on the label rely on.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

__all__ = ["UNITS", "analysis_units"]

UNITS: tuple[str, ...] = ("image", "subject")
"""``image``: every image is a sample (the paper); ``subject``: the mean over a subject's images of one label."""

_KEPT = ("cohort", "classifier", "training_set", "group")


def analysis_units(
    table: pd.DataFrame, columns: list[str], types: Mapping[str, str], unit: str
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The rows and property types the tests see.

    Parameters
    ----------
    table : DataFrame, one row per image
        With columns ``subject``, ``label``, the tested properties (keys of ``types``) and ``columns`` (outputs).
    columns : list of str
        Numeric columns to average besides the properties (the classifier's probabilities).
    types : mapping
        Property name → ``binary`` or ``continuous``.
    unit : {"image", "subject"}
        See :data:`UNITS`.

    Returns
    -------
    table : DataFrame
        ``unit="image"``: unchanged. ``unit="subject"``: one row per (subject, label) with the mean of every
        property and output column and ``n_images``, the images averaged.
    types : dict
        Property types of the returned rows: a binary property that varies between the images of one
        (subject, label) becomes a share, tested as continuous.

    Raises
    ------
    ValueError
        For an unknown ``unit``.
    """
    if unit not in UNITS:
        raise ValueError(f"unknown unit of analysis {unit!r}; choose one of {list(UNITS)}")
    if unit == "image":
        return table, dict(types)
    numeric = [*types, *columns]
    keys = ["subject", "label"]
    grouped = table.groupby(keys, sort=True)
    rows = grouped[numeric].mean()
    rows["n_images"] = grouped.size()
    for name in _KEPT:
        if name in table.columns:
            rows[name] = grouped[name].first()
    rows = rows.reset_index()
    varying = [name for name, kind in types.items() if kind == "binary" and (grouped[name].nunique() > 1).any()]
    return rows, {name: "continuous" if name in varying else kind for name, kind in types.items()}
