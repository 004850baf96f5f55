"""Typed result records: one writer and one reader per kind of per-job result file, each reader checking that the
file belongs where it sits.

Kinds, one file per (classifier, identity):

========================  ==========================================================================================
:class:`Expressions`      φ^(e) per emotion (paper Eq. 4), the reached probability, the optimiser's trace
:class:`Surfaces`         the classifier's softmax (and logits) over the symmetry × onset grid, intervention and
                          intensity-matched control (paper Sec. 3.3)
:class:`Permutations`     impact scores, their permutation nulls and p-values (paper Eq. 6–7)
:class:`PropertySurfaces` the softmax over (axis value a, onset t) of one intervention beyond symmetry
========================  ==========================================================================================

Each file records its provenance: ``classifier``, ``identity`` (and ``property``), ``config_digest`` (a hash of
the config values that produced it, :func:`config_digest` of :func:`provenance_config`) and ``facesym_version``.
A reader is given the :class:`Slot` the job expects (the path's wildcards and the digest of the config the rules
hold for that file) and stops with :class:`ProvenanceError`, naming the file, the attribute and both values, when
they differ: a valid file copied over another identity's or classifier's, or left from a run with another
config, would otherwise enter the tables silently.

The remedy the error names is to delete the file and run the same ``snakemake`` command again: Snakemake rebuilds
a missing file that an output needs, and reruns the jobs downstream of it (their input is newer).
``--forcerun <rule>`` is no shorter and easy to get wrong, because the rule that wrote a file and the job that
found it wrong differ (a wrong surfaces file is found by ``permutation_test`` and ``aggregate_scores``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facesym.emotions import EMOTIONS
from facesym.io.hdf5 import H5Contents, H5FormatError, read_h5, write_h5

__all__ = [
    "PERMUTATION_VALUES",
    "SURFACE_OUTPUTS",
    "Expressions",
    "Permutations",
    "PropertySurfaces",
    "ProvenanceError",
    "Slot",
    "Surfaces",
    "config_digest",
    "provenance_config",
    "read_expressions",
    "read_permutations",
    "read_property_surfaces",
    "read_surfaces",
    "target_surfaces",
    "write_expressions",
    "write_permutations",
    "write_property_surfaces",
    "write_surfaces",
]

Array = np.ndarray


def target_surfaces(softmax: Array, target_class: Sequence[int]) -> Array:
    """F^(e) over the grid: each emotion's own class, ``(E, S, T, K)`` -> ``(E, S, T)``."""
    index = np.asarray(target_class)[:, None, None, None]
    return np.take_along_axis(softmax, np.broadcast_to(index, (*softmax.shape[:3], 1)), axis=-1)[..., 0]


def provenance_config(
    config: Mapping[str, Any],
    sections: Sequence[str],
    classifier_entry: Mapping[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The config values a record stores: the seed, the named sections, the classifier's entry (if given) and
    ``extra`` (e.g. ``axis``, an intervention axis's settings).

    The workflow computes the digest a reader expects from the same function and the same values, so a record's
    ``config_digest`` matches exactly when it was made with the config the workflow holds now.
    """
    values: dict[str, Any] = {"seed": config["seed"], **{section: config[section] for section in sections}}
    if classifier_entry is not None:
        values["classifier"] = dict(classifier_entry)
    return {**values, **extra}


def config_digest(values: Mapping[str, Any]) -> str:
    """A short hash of config values (JSON with sorted keys): equal values, equal digest."""
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class ProvenanceError(H5FormatError):
    """A valid result file that does not belong where it sits (another classifier, identity or config)."""


@dataclass(frozen=True)
class Slot:
    """Where a record belongs: the ``{classifier}`` and ``{identity}`` wildcards of its path and the digest of the
    config the workflow holds for it (``None``: not checked, for callers outside the workflow)."""

    classifier: str
    identity: str
    config_digest: str | None = None
    property: str | None = None

    @classmethod
    def of(cls, values: Mapping[str, Any] | Slot) -> Slot:
        """A slot from a mapping with the same keys (how Snakemake params pass it), or the slot itself."""
        return values if isinstance(values, Slot) else cls(**values)


def _check(path: str | Path, contents: H5Contents, expected: Slot | Mapping[str, Any]) -> None:
    slot = Slot.of(expected)
    wanted = {"classifier": slot.classifier, "identity": slot.identity}
    if slot.property is not None:
        wanted["property"] = slot.property
    if slot.config_digest is not None:
        wanted["config_digest"] = slot.config_digest
    for key, value in wanted.items():
        found = contents.attrs.get(key)
        if str(found) != str(value):
            shown = "none (written before facesym recorded it)" if found is None else repr(str(found))
            raise ProvenanceError(
                f"{path}: its {key} is {shown}, but this place in the workflow expects {str(value)!r}; the file "
                f"was copied or moved here from another slot or left from another config. Delete it and run the "
                f"same snakemake command again, which rebuilds it and what depends on it"
            )


def _attrs(record: Any) -> dict[str, Any]:
    return {
        "classifier": record.classifier,
        "identity": record.identity,
        "config_digest": config_digest(record.config),
    }


@dataclass(frozen=True)
class Expressions:
    """φ^(e) of one (classifier, identity).

    Attributes
    ----------
    phi
        ``(emotion, parameter)`` expression coefficients.
    reached
        ``(emotion,)`` the classifier's probability of each emotion at φ^(e), s = 1, t = 1.
    history
        ``(emotion, generation)`` best probability per generation (or step) of the optimiser.
    n_evaluations
        ``(emotion,)`` classifier evaluations spent.
    parameters
        Names of the expression parameters.
    seed, config, classifier, identity
        Provenance: the job's seed, the config values that produced it and its slot.
    """

    phi: Array
    reached: Array
    history: Array
    n_evaluations: Array
    parameters: tuple[str, ...]
    seed: int
    config: Mapping[str, Any]
    classifier: str
    identity: str
    emotions: tuple[str, ...] = EMOTIONS


def write_expressions(path: str | Path, record: Expressions) -> None:
    """Write an :class:`Expressions` record atomically."""
    write_h5(
        path,
        "expressions",
        {
            "phi": (record.phi, ("emotion", "parameter"), "expression coefficient"),
            "reached": (record.reached, ("emotion",), "probability"),
            "history": (record.history, ("emotion", "generation"), "probability"),
            "n_evaluations": (record.n_evaluations, ("emotion",), "classifier evaluations"),
        },
        seed=record.seed,
        config=record.config,
        coords={
            "emotion": list(record.emotions),
            "parameter": list(record.parameters),
            "generation": np.arange(np.asarray(record.history).shape[1]),
        },
        attrs=_attrs(record),
    )


def read_expressions(path: str | Path, expected: Slot | Mapping[str, Any]) -> Expressions:
    """Read an expressions file, checked against the slot the job expects.

    Raises
    ------
    H5FormatError
        A missing, corrupt or other kind of file.
    ProvenanceError
        A file of another classifier, identity or config.
    """
    contents = read_h5(path, kind="expressions")
    _check(path, contents, expected)
    data = contents.data
    return Expressions(
        phi=data["phi"], reached=data["reached"], history=data["history"], n_evaluations=data["n_evaluations"],
        parameters=tuple(str(p) for p in contents.coords["parameter"]), seed=int(contents.attrs["seed"]),
        config=contents.attrs["config"], classifier=str(contents.attrs["classifier"]),
        identity=str(contents.attrs["identity"]), emotions=tuple(str(e) for e in contents.coords["emotion"]),
    )  # fmt: skip


SURFACE_OUTPUTS = {"probability": ("softmax", "softmax_sham"), "logit": ("logits", "logits_sham")}
"""``statistics.output`` -> the :class:`Surfaces` fields the scores use (intervention, intensity-matched control)."""


@dataclass(frozen=True)
class Surfaces:
    """The classifier's outputs over the S × T grid for each φ^(e) of one (classifier, identity).

    Attributes
    ----------
    softmax, softmax_sham
        ``(emotion, s, t, class)`` probabilities: the paper's intervention, and the intensity-matched control
        (both halves at ``t·(1+s)/2``).
    logits, logits_sham
        The same as logits, or ``None`` when the model gives probabilities.
    target_class
        ``(emotion,)`` each emotion's index into ``classes``.
    phi
        ``(emotion, parameter)`` the expressions rendered.
    s, t
        Grid coordinates (symmetry, onset).
    classes, parameters
        Class names of the model, expression parameter names.
    seed, config, classifier, identity
        Provenance.
    """

    softmax: Array
    softmax_sham: Array
    logits: Array | None
    logits_sham: Array | None
    target_class: Array
    phi: Array
    s: Array
    t: Array
    classes: tuple[str, ...]
    parameters: tuple[str, ...]
    seed: int
    config: Mapping[str, Any]
    classifier: str
    identity: str
    emotions: tuple[str, ...] = EMOTIONS

    def target(self, output: str = "softmax") -> Array:
        """F^(e): each emotion's own class of ``output`` (a field name), ``(emotion, s, t)``."""
        values = getattr(self, output)
        if values is None:
            raise ValueError(f"classifier '{self.classifier}' gives probabilities; its surfaces have no {output}")
        return target_surfaces(values, self.target_class)


def write_surfaces(path: str | Path, record: Surfaces) -> None:
    """Write a :class:`Surfaces` record atomically (datasets ``softmax``, ``softmax_sham`` and, for a model that
    gives logits, ``logits``, ``logits_sham``; axes emotion, s, t, class)."""
    axes = ("emotion", "s", "t", "class")
    datasets: dict[str, tuple[Any, tuple[str, ...], str]] = {
        "softmax": (record.softmax, axes, "probability"),
        "softmax_sham": (record.softmax_sham, axes, "probability"),
    }
    if record.logits is not None and record.logits_sham is not None:
        datasets["logits"] = (record.logits, axes, "logit")
        datasets["logits_sham"] = (record.logits_sham, axes, "logit")
    write_h5(
        path,
        "surfaces",
        {
            **datasets,
            "target_class": (np.asarray(record.target_class), ("emotion",), "index into class"),
            "phi": (record.phi, ("emotion", "parameter"), "expression coefficient"),
        },
        seed=record.seed,
        config=record.config,
        coords={
            "emotion": list(record.emotions),
            "s": record.s,
            "t": record.t,
            "class": list(record.classes),
            "parameter": list(record.parameters),
        },
        attrs=_attrs(record),
    )


def read_surfaces(path: str | Path, expected: Slot | Mapping[str, Any]) -> Surfaces:
    """Read a surfaces file, checked against the slot the job expects (see :func:`read_expressions`)."""
    contents = read_h5(path, kind="surfaces")
    _check(path, contents, expected)
    data = contents.data
    return Surfaces(
        softmax=data["softmax"], softmax_sham=data["softmax_sham"], logits=data.get("logits"),
        logits_sham=data.get("logits_sham"), target_class=data["target_class"], phi=data["phi"],
        s=contents.coords["s"], t=contents.coords["t"], classes=tuple(str(c) for c in contents.coords["class"]),
        parameters=tuple(str(p) for p in contents.coords["parameter"]), seed=int(contents.attrs["seed"]),
        config=contents.attrs["config"], classifier=str(contents.attrs["classifier"]),
        identity=str(contents.attrs["identity"]), emotions=tuple(str(e) for e in contents.coords["emotion"]),
    )  # fmt: skip


PERMUTATION_VALUES = (
    "score", "pvalue", "pvalue_columns", "pvalue_joint",
    "score_sham", "pvalue_sham", "pvalue_columns_sham", "pvalue_joint_sham",
    "specific",
)  # fmt: skip
"""The per-emotion values of a :class:`Permutations` record, in the file's order."""


@dataclass(frozen=True)
class Permutations:
    """Impact scores and permutation tests of one (classifier, identity), per emotion.

    Attributes
    ----------
    values
        Name -> ``(emotion,)`` array for every name of :data:`PERMUTATION_VALUES`: the paper's score (``score``),
        the intensity-matched control's (``score_sham``), their difference (``specific``), each score's p-values
        under the column-wise and the joint null (``pvalue_columns``, ``pvalue_joint``, ``…_sham``) and the
        configured one (``pvalue``, ``pvalue_sham``).
    null, null_joint
        ``(emotion, permutation)`` and ``(emotion, relabelling)``: the score's null distributions.
    unit
        Unit of the scores (e.g. ``"probability per symmetry step"``).
    statistic
        The score's statistic (``"gradient"`` …).
    seed, config, classifier, identity
        Provenance.
    """

    values: Mapping[str, Array]
    null: Array
    null_joint: Array
    unit: str
    statistic: str
    seed: int
    config: Mapping[str, Any]
    classifier: str
    identity: str
    emotions: tuple[str, ...] = EMOTIONS


def write_permutations(path: str | Path, record: Permutations) -> None:
    """Write a :class:`Permutations` record atomically."""
    missing = [name for name in PERMUTATION_VALUES if name not in record.values]
    if missing:
        raise ValueError(f"permutations record of {record.classifier}, {record.identity} lacks {missing}")
    datasets: dict[str, tuple[Any, tuple[str, ...], str]] = {}
    for name in PERMUTATION_VALUES:
        datasets[name] = (record.values[name], ("emotion",), "" if name.startswith("pvalue") else record.unit)
        if name == "pvalue_joint":
            datasets["null"] = (record.null, ("emotion", "permutation"), record.unit)
            datasets["null_joint"] = (record.null_joint, ("emotion", "relabelling"), record.unit)
    write_h5(
        path,
        "permutations",
        datasets,
        seed=record.seed,
        config=record.config,
        coords={"emotion": list(record.emotions)},
        attrs={**_attrs(record), "statistic": record.statistic},
    )


def read_permutations(path: str | Path, expected: Slot | Mapping[str, Any]) -> Permutations:
    """Read a permutations file, checked against the slot the job expects (see :func:`read_expressions`)."""
    contents = read_h5(path, kind="permutations")
    _check(path, contents, expected)
    data = contents.data
    return Permutations(
        values={name: data[name] for name in PERMUTATION_VALUES}, null=data["null"], null_joint=data["null_joint"],
        unit=contents.units["score"], statistic=str(contents.attrs.get("statistic", "gradient")),
        seed=int(contents.attrs["seed"]), config=contents.attrs["config"],
        classifier=str(contents.attrs["classifier"]), identity=str(contents.attrs["identity"]),
        emotions=tuple(str(e) for e in contents.coords["emotion"]),
    )  # fmt: skip


@dataclass(frozen=True)
class PropertySurfaces:
    """The softmax over (axis value a, onset t) of one intervention axis for one (classifier, identity).

    Attributes
    ----------
    softmax
        ``(emotion, a, t, class)`` probabilities.
    target_class
        ``(emotion,)`` each emotion's index into ``classes``.
    a, t
        Grid coordinates (axis value, onset).
    classes
        Class names of the model.
    property
        The axis's name (``yaw``, ``symmetry_right`` …).
    seed, config, classifier, identity
        Provenance; ``config["axis"]`` holds the axis's settings.
    """

    softmax: Array
    target_class: Array
    a: Array
    t: Array
    classes: tuple[str, ...]
    property: str
    seed: int
    config: Mapping[str, Any]
    classifier: str
    identity: str
    emotions: tuple[str, ...] = EMOTIONS

    def target(self) -> Array:
        """F^(e) over the (a, t) grid, ``(emotion, a, t)``."""
        return target_surfaces(self.softmax, self.target_class)


def write_property_surfaces(path: str | Path, record: PropertySurfaces) -> None:
    """Write a :class:`PropertySurfaces` record atomically."""
    write_h5(
        path,
        "property_surfaces",
        {
            "softmax": (record.softmax, ("emotion", "a", "t", "class"), "probability"),
            "target_class": (np.asarray(record.target_class), ("emotion",), "index into class"),
        },
        seed=record.seed,
        config=record.config,
        coords={"emotion": list(record.emotions), "a": record.a, "t": record.t, "class": list(record.classes)},
        attrs={**_attrs(record), "property": record.property},
    )


def read_property_surfaces(path: str | Path, expected: Slot | Mapping[str, Any]) -> PropertySurfaces:
    """Read one axis's surfaces file, checked against the slot (``property`` included) the job expects."""
    contents = read_h5(path, kind="property_surfaces")
    _check(path, contents, expected)
    return PropertySurfaces(
        softmax=contents.data["softmax"], target_class=contents.data["target_class"], a=contents.coords["a"],
        t=contents.coords["t"], classes=tuple(str(c) for c in contents.coords["class"]),
        property=str(contents.attrs["property"]), seed=int(contents.attrs["seed"]), config=contents.attrs["config"],
        classifier=str(contents.attrs["classifier"]), identity=str(contents.attrs["identity"]),
        emotions=tuple(str(e) for e in contents.coords["emotion"]),
    )  # fmt: skip
