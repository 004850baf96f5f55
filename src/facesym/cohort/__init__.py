"""Cohorts for Experiment 1: the manifest format shared by the synthetic cohort and real recordings."""

from facesym.cohort.manifest import (
    LABELS,
    PROPERTY_TYPES,
    REQUIRED_COLUMNS,
    Manifest,
    ManifestError,
    Problem,
    PropertySpec,
    load_manifest,
    spec_path,
    write_manifest,
)

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
