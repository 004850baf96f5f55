"""The cohort manifest: one format for the synthetic cohort and for real recordings.

A manifest is a CSV file with one row per image::

    image,subject,label,group,palsy,symmetry
    images/p01_happy_1.png,p01,happy,patient,1,0.71

``image`` is a path relative to the CSV's folder (or absolute), ``label`` the instructed expression (one of
:data:`facesym.emotions.EMOTIONS` or ``neutral``), ``group`` a free-form cohort group (e.g. proband /
patient), and every further column a property. Beside it, a YAML file of the same name
(``cohort.csv`` → ``cohort.yaml``) declares each property's type::

    synthetic: false          # optional; true for the embedded synthetic cohort
    properties:
      palsy:
        type: binary          # values 0 or 1
        description: unilateral facial palsy
      symmetry: continuous    # short form: just the type

:func:`load_manifest` checks everything at once and raises one :class:`ManifestError` listing every problem
with its CSV line number (the header is line 1), so a user fixes the file in one pass before any job runs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml

from facesym.emotions import EMOTIONS, NEUTRAL
from facesym.io.atomic import write_text

__all__ = [
    "LABELS",
    "PROPERTY_TYPES",
    "REQUIRED_COLUMNS",
    "Manifest",
    "ManifestError",
    "Problem",
    "PropertySpec",
    "load_manifest",
    "spec_path",
    "write_manifest",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("image", "subject", "label", "group")
"""Columns every manifest has, in this order, before the property columns."""

LABELS: tuple[str, ...] = (*EMOTIONS, NEUTRAL)
"""Instructed labels a manifest may use."""

PROPERTY_TYPES: tuple[str, ...] = ("binary", "continuous")

PropertyType = Literal["binary", "continuous"]


@dataclass(frozen=True)
class PropertySpec:
    """Declaration of one property column."""

    type: PropertyType
    description: str = ""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a manifest: ``line`` is the CSV line (header = 1), ``None`` for the whole file."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return self.message if self.line is None else f"line {self.line}: {self.message}"


class ManifestError(ValueError):
    """A manifest that cannot be used; ``problems`` lists every reason, the message prints them all."""

    def __init__(self, source: Path, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"cohort manifest {source}: {count}\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class Manifest:
    """A validated cohort.

    Attributes
    ----------
    table
        One row per image, in file order. ``image``: absolute path (str); ``subject``, ``group``: str;
        ``label``: lower-case label; binary properties: int 0/1; continuous properties: float64.
    properties
        Property name → declaration, in column order.
    synthetic
        Whether the cohort is the embedded synthetic one (every output must say so).
    path
        The CSV file.
    """

    table: pd.DataFrame
    properties: dict[str, PropertySpec]
    synthetic: bool
    path: Path

    @property
    def property_types(self) -> dict[str, PropertyType]:
        """Property name → ``"binary"`` or ``"continuous"``."""
        return {name: spec.type for name, spec in self.properties.items()}


def spec_path(csv_path: str | os.PathLike[str]) -> Path:
    """The YAML declaration file beside a manifest CSV."""
    return Path(csv_path).with_suffix(".yaml")


def _read_spec(path: Path, problems: list[Problem]) -> tuple[dict[str, PropertySpec], bool]:
    """Property declarations and the synthetic flag; problems are appended, not raised."""
    if not path.is_file():
        problems.append(Problem(None, f"property declarations not found: expected {path} beside the CSV"))
        return {}, False
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        problems.append(Problem(None, f"{path.name} is not valid YAML: {error}"))
        return {}, False
    if not isinstance(raw, dict) or not isinstance(raw.get("properties", {}), dict):
        problems.append(Problem(None, f"{path.name} must be a mapping with a 'properties' mapping"))
        return {}, False
    for key in sorted(set(raw) - {"properties", "synthetic"}):
        problems.append(Problem(None, f"{path.name}: unknown key '{key}' (allowed: properties, synthetic)"))
    synthetic = raw.get("synthetic", False)
    if not isinstance(synthetic, bool):
        problems.append(Problem(None, f"{path.name}: 'synthetic' must be true or false, got {synthetic!r}"))
        synthetic = False
    specs: dict[str, PropertySpec] = {}
    for name, entry in (raw.get("properties") or {}).items():
        entry = {"type": entry} if isinstance(entry, str) else entry
        if not isinstance(entry, dict) or entry.get("type") not in PROPERTY_TYPES:
            problems.append(
                Problem(None, f"{path.name}: property '{name}' needs a type, one of {', '.join(PROPERTY_TYPES)}")
            )
            continue
        unknown = sorted(set(entry) - {"type", "description"})
        if unknown:
            problems.append(Problem(None, f"{path.name}: property '{name}' has unknown keys {unknown}"))
        if name in REQUIRED_COLUMNS:
            problems.append(Problem(None, f"{path.name}: '{name}' is a required column, not a property"))
            continue
        specs[str(name)] = PropertySpec(entry["type"], str(entry.get("description", "")))
    return specs, synthetic


def _parse_property(text: str, spec: PropertySpec) -> tuple[float | None, str | None]:
    """The value of one property cell, or the reason it is bad."""
    if text.strip() == "":
        return None, "is empty"
    try:
        value = float(text)
    except ValueError:
        return None, f"must be a number, got '{text}'"
    if not math.isfinite(value):
        return None, f"must be a finite number, got '{text}'"
    if spec.type == "binary" and value not in (0.0, 1.0):
        return None, f"must be 0 or 1 (binary), got '{text}'"
    return value, None


def load_manifest(csv_path: str | os.PathLike[str]) -> Manifest:
    """Read and validate a manifest CSV and the YAML declarations beside it.

    Parameters
    ----------
    csv_path
        The manifest CSV; its YAML is :func:`spec_path` of it.

    Returns
    -------
    Manifest

    Raises
    ------
    ManifestError
        Listing every problem at once: a missing or malformed YAML, missing or undeclared columns, and per row
        an empty field, a missing image file, an unknown label, a non-numeric or non-binary property value, or
        an image already listed on another line.
    """
    path = Path(csv_path).resolve()
    if not path.is_file():
        raise ManifestError(path, [Problem(None, "file not found")])
    problems: list[Problem] = []
    specs, synthetic = _read_spec(spec_path(path), problems)
    try:
        # utf-8-sig: spreadsheet programs often start a CSV with a byte-order mark, which would rename "image".
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ManifestError(path, [*problems, Problem(None, f"not a readable CSV file: {error}")]) from None
    columns = list(raw.columns)
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            problems.append(Problem(None, f"missing column '{column}'"))
    for name in specs:
        if name not in columns:
            problems.append(Problem(None, f"property '{name}' is declared in {spec_path(path).name} but has no column"))
    for column in columns:
        if column not in REQUIRED_COLUMNS and column not in specs:
            problems.append(
                Problem(None, f"column '{column}' is not declared in {spec_path(path).name} (add it under properties)")
            )
    if raw.empty:
        problems.append(Problem(None, "no rows"))

    images: list[str] = []
    labels: list[str] = []
    values: dict[str, list[float | None]] = {name: [] for name in specs if name in columns}
    first_line: dict[str, int] = {}
    for index, row in enumerate(raw.to_dict("records")):
        line = index + 2
        for column in ("subject", "group"):
            if column in row and row[column].strip() == "":
                problems.append(Problem(line, f"{column} is empty"))
        image = ""
        if "image" in row:
            text = row["image"].strip()
            if text == "":
                problems.append(Problem(line, "image path is empty"))
            else:
                image = os.path.normpath(path.parent / text)
                if image in first_line:
                    problems.append(Problem(line, f"image '{text}' is already listed on line {first_line[image]}"))
                else:
                    first_line[image] = line
                if not os.path.isfile(image):
                    problems.append(Problem(line, f"image '{text}' not found (looked for {image})"))
        images.append(image)
        label = row.get("label", "").strip().lower()
        if "label" in row and label == "":
            problems.append(Problem(line, "label is empty"))
        elif "label" in row and label not in LABELS:
            problems.append(Problem(line, f"label '{row['label']}' is not one of {', '.join(LABELS)}"))
        labels.append(label)
        for name in values:
            value, reason = _parse_property(row[name], specs[name])
            if reason is not None:
                problems.append(Problem(line, f"property '{name}' {reason}"))
            values[name].append(value)
    if problems:
        raise ManifestError(path, problems)

    table = pd.DataFrame(
        {
            "image": images,
            "subject": raw["subject"].str.strip(),
            "label": labels,
            "group": raw["group"].str.strip(),
        }
    )
    for name, spec in specs.items():
        column = pd.Series(values[name], dtype="float64")
        table[name] = column.astype("int64") if spec.type == "binary" else column
    return Manifest(table, specs, synthetic, path)


def write_manifest(
    csv_path: str | os.PathLike[str],
    table: pd.DataFrame,
    properties: Mapping[str, PropertySpec | PropertyType],
    *,
    synthetic: bool = False,
) -> Path:
    """Write a manifest CSV and its YAML declarations, each atomically (YAML first).

    Parameters
    ----------
    csv_path
        Where the CSV goes; the YAML goes to :func:`spec_path` of it.
    table
        The :data:`REQUIRED_COLUMNS` and one column per entry of ``properties``; other columns are an error.
        Absolute image paths under the CSV's folder are written relative to it; relative ones are taken as
        relative to it already.
    properties
        Property name → declaration (or just its type).
    synthetic
        Mark the cohort as synthetic.

    Returns
    -------
    pathlib.Path
        The CSV path. Read it back with :func:`load_manifest`, which validates it.
    """
    path = Path(csv_path)
    specs = {name: PropertySpec(s) if isinstance(s, str) else s for name, s in properties.items()}
    columns = [*REQUIRED_COLUMNS, *specs]
    extra = sorted(set(table.columns) - set(columns))
    missing = [c for c in columns if c not in table.columns]
    if extra or missing:
        raise ValueError(f"table columns do not match the manifest: missing {missing}, undeclared {extra}")
    folder = path.parent.resolve()
    out = table[columns].copy()

    def relative(image: Any) -> str:
        image_path = Path(image)
        if not image_path.is_absolute():
            return image_path.as_posix()
        try:
            return image_path.resolve().relative_to(folder).as_posix()
        except ValueError:
            return str(image_path)

    out["image"] = out["image"].map(relative)
    declaration: dict[str, Any] = {
        "synthetic": synthetic,
        "properties": {
            name: {"type": spec.type, **({"description": spec.description} if spec.description else {})}
            for name, spec in specs.items()
        },
    }
    # Each file appears complete or not at all; the CSV last, since jobs depend on it and read the YAML beside it.
    write_text(spec_path(path), yaml.safe_dump(declaration, sort_keys=False))
    write_text(path, out.to_csv(index=False))
    return path
