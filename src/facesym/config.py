"""Validation of a facesym configuration against its JSON schema.

The schema (``workflow/schemas/config.schema.yaml``) is the single description of every key. Validation fills in
the schema's defaults, rejects unknown keys, and reports *every* problem at once, each naming the key at fault in
dotted form (``grid.symmetry_steps``, ``classifiers[1].kind``) so a user can find it in their YAML file.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from facesym.classifiers.entries import (
    ClassifierConfigError,
    check_entry,
    check_model_file,
    check_trained_weights,
)

__all__ = [
    "ConfigError",
    "classifier_entry",
    "format_key",
    "holm_resolution_problems",
    "population_resolution_warning",
    "load_schema",
    "validate_config",
]


class ConfigError(ValueError):
    """A configuration that cannot be run. The message names each key at fault and what was expected."""


def load_schema(path: str | Path) -> dict[str, Any]:
    """Read a JSON schema written as YAML."""
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _with_defaults(validator_class: type[jsonschema.protocols.Validator]) -> type:
    # jsonschema does not fill defaults by itself; fill them before the "properties" keyword validates, so that
    # nested defaults ("default: {}" on a section, then defaults of its keys) are filled in one pass.
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if isinstance(subschema, dict) and "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft202012Validator)


def format_key(path: Iterable[Any], config: Mapping[str, Any] | None = None) -> str:
    """Dotted name of a location in the config: ``("classifiers", 1, "kind")`` -> ``classifiers[1].kind``.

    Where a list item has a ``name`` it is shown too (``classifiers[1] (cnn_small).kind``).
    """
    out = ""
    node: Any = config
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("name"), str):
                out += f" ({node['name']})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "<top level>"


def _describe(error: jsonschema.ValidationError, config: Mapping[str, Any]) -> str:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        return "; ".join(
            f"config key '{format_key([*path, key], config)}' is not a known key (expected one of: "
            f"{', '.join(allowed)})"
            for key in unknown
        )
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return "; ".join(
            f"config key '{format_key([*path, key], config)}' is required here but missing" for key in missing
        )
    expected = error.schema.get("description")
    hint = f" ({expected})" if isinstance(expected, str) and len(expected) < 120 else ""
    return f"config key '{format_key(path, config)}': {error.message}{hint}"


def validate_config(
    config: Mapping[str, Any],
    schema: Mapping[str, Any],
    base_dir: str | Path | None = None,
    provided: Collection[str] = (),
    trained_weights: str | None = None,
) -> dict[str, Any]:
    """Validate a configuration and return a copy completed with the schema's defaults.

    Parameters
    ----------
    config
        The configuration as loaded from YAML (and merged with command-line overrides).
    schema
        The JSON schema (``load_schema("workflow/schemas/config.schema.yaml")``).
    base_dir
        Folder against which relative input files (FLAME model, classifier files) are checked for existence;
        the workflow's working directory. ``None`` skips the file checks. Files that exist are opened the
        cheapest way that shows they can be used (:func:`facesym.classifiers.entries.check_model_file`: format,
        completeness, input size, channels and output count; a FLAME file through its restricted unpickler).
    provided
        Input files, as written in the config, that the workflow itself puts in place (fetched resources): they
        need not exist yet.
    trained_weights
        Where the workflow keeps an embedded classifier's trained weights, a pattern with ``{classifier}``
        (relative to ``base_dir``). Those already there are opened too: a damaged one would pass as up to date and
        fail every job that reads it. ``None`` skips this check.

    Returns
    -------
    dict
        The validated configuration with every default filled in.

    Raises
    ------
    ConfigError
        Listing every problem, each naming its key.
    """
    completed = copy.deepcopy(dict(config))
    errors = sorted(_Validator(schema).iter_errors(completed), key=lambda e: list(map(str, e.absolute_path)))
    problems = [_describe(error, completed) for error in errors]
    if not problems:
        problems = _semantic_problems(completed, base_dir, provided, trained_weights)
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))
    return completed


def _semantic_problems(
    config: dict[str, Any], base_dir: str | Path | None, provided: Collection[str], trained_weights: str | None
) -> list[str]:
    """Checks a JSON schema cannot express: unique names, classifier entries, input files that must exist."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(config.get("classifiers", [])):
        if entry["name"] in seen:
            problems.append(
                f"config key 'classifiers[{index}].name': '{entry['name']}' is already used by "
                f"classifiers[{seen[entry['name']]}]; names must be unique"
            )
        seen.setdefault(entry["name"], index)
        try:
            # class order onto the six emotions, channels of mean/std: checked here so a wrong entry stops the
            # run before its first job rather than when that job loads the model
            check_entry(entry)
        except ClassifierConfigError as exc:
            problems.append(f"{exc} (classifiers[{index}])")
    problems += holm_resolution_problems(config)
    if base_dir is None:
        return problems
    base = Path(base_dir)
    files: list[tuple[list[Any], str]] = []
    if config.get("face_model", {}).get("kind") == "flame":
        files.append((["face_model", "path"], config["face_model"]["path"]))
    for index, entry in enumerate(config.get("classifiers", [])):
        for key in ("path", "weights"):
            if key in entry:
                files.append((["classifiers", index, key], entry[key]))
    for path, value in files:
        if not (base / value).is_file():
            if value not in provided:
                problems.append(f"config key '{format_key(path, config)}': file '{value}' does not exist")
        elif path[0] == "classifiers":
            try:
                check_model_file(config["classifiers"][path[1]], base / value)
            except ClassifierConfigError as exc:
                problems.append(f"{exc} ({format_key(path[:2], config)})")
        elif path[0] == "face_model":
            problems += _flame_problems(base / value, format_key(path, config))
    for index, entry in enumerate(config.get("classifiers", []) if trained_weights else []):
        # weights the pipeline trains are not there on a first run; a damaged one would pass as up to date
        weights = trained_weights.format(classifier=entry["name"])
        if entry["kind"] == "embedded" and (base / weights).is_file():
            try:
                check_trained_weights(entry, weights, base)
            except ClassifierConfigError as exc:
                problems.append(f"{exc} ({format_key(['classifiers', index], config)})")
    return problems


def _flame_problems(path: Path, key: str) -> list[str]:
    """A FLAME file read through the restricted unpickler: a foreign or damaged pickle stops the run here."""
    from facesym.face.flame_pickle import FlameFormatError, read_flame_pickle

    try:
        read_flame_pickle(path)
    except FlameFormatError as exc:
        return [
            f"config key '{key}': {exc} (download generic_model.pkl from https://flame.is.tue.mpg.de after "
            "registering and give its path)"
        ]
    return []


def holm_resolution_problems(config: Mapping[str, Any]) -> list[str]:
    """Settings under which Holm-Bonferroni can never reject: supplementary Table 1 would be all zeros.

    Holm's first threshold is ``δ/N`` (``statistics.delta`` over ``identities.count``); the per-identity test
    cannot give a p-value below its resolution (:func:`facesym.stats.smallest_pvalue`: ``1/(K + 1)`` for the
    columns null, ``2/P`` for the joint null's ``P`` relabellings). The message names the keys and the fix.
    """
    from facesym.stats import smallest_pvalue

    stats, n = config["statistics"], config["identities"]["count"]
    null, k, delta = stats["permutation_null"], stats["permutations"], stats["delta"]
    smallest = smallest_pvalue(null, config["grid"]["symmetry_steps"], stats["statistic"], k, stats["pvalue"])
    threshold = delta / n
    if smallest <= threshold:
        return []
    keys = (
        f"config keys 'statistics.permutation_null' ({null}), 'statistics.statistic' ({stats['statistic']}), "
        f"'statistics.permutations' ({k}), 'statistics.delta' ({delta}), 'identities.count' ({n}), "
        f"'grid.symmetry_steps' ({config['grid']['symmetry_steps']})"
    )
    needed = math.ceil(n / delta) - 1  # 1/(K + 1) <= δ/N
    if smallest > 1.0 / (k + 1):  # the null's own resolution, not K, is the limit
        fix = (
            f"the joint null of the {stats['statistic']} statistic has too few distinct values; use "
            f"statistic: slope (with permutations >= {needed}) or permutation_null: columns, or fewer identities"
        )
    else:
        fix = f"raise statistics.permutations to at least {needed}, or raise delta / lower identities.count"
    return [
        f"{keys}: the smallest p-value one identity's test can give is {smallest:.3g}, above Holm's first "
        f"threshold δ/N = {threshold:.3g}, so no identity could ever be significant; {fix}"
    ]


def population_resolution_warning(config: Mapping[str, Any]) -> str | None:
    """A warning when Table 2's population-level test can mark no cell at this number of identities.

    The sign-flip test over ``N`` identities cannot give a p-value below ``2/2^N`` (exact enumeration), and Holm
    across the six emotions starts at ``population_alpha / 6``. Not an error: Table 2's scores and the paper's
    per-identity tests stay meaningful; only the population marks are out of reach.
    """
    from facesym.emotions import EMOTIONS
    from facesym.stats import smallest_sign_flip_pvalue

    stats, n = config["statistics"], config["identities"]["count"]
    smallest = smallest_sign_flip_pvalue(n, stats["population_resamples"])
    threshold = stats["population_alpha"] / len(EMOTIONS)
    if smallest <= threshold:
        return None
    enough = next(m for m in range(n, 64) if smallest_sign_flip_pvalue(m, stats["population_resamples"]) <= threshold)
    return (
        f"config key 'identities.count' ({n}): the population-level sign-flip test's smallest p-value is "
        f"{smallest:.3g}, above Holm's first threshold statistics.population_alpha/6 = {threshold:.3g}, so Table 2 "
        f"can mark no cell as significant at the population level; {enough} identities or more make it possible"
    )


def classifier_entry(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The config entry of the classifier called ``name``."""
    for entry in config["classifiers"]:
        if entry["name"] == name:
            return dict(entry)
    raise KeyError(f"no classifier named '{name}' in config key 'classifiers'")
