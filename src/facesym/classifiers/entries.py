"""Classifier config entries, checked without loading torch.

Everything here reads a ``classifiers`` entry of the config and nothing else, so the workflow can check every entry
(kind, keys, preprocessing, class order, files) when it validates the config, before any job is planned and
without paying torch's import time in every Snakemake invocation. The one exception is a TorchScript file, which
states its input and outputs only when run (:func:`check_model_file`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from facesym.emotions import EMOTIONS, NEUTRAL

__all__ = [
    "KINDS",
    "ARCHITECTURES",
    "EXTRA_CLASSES",
    "EMBEDDED_DEFAULTS",
    "MIN_INPUT_SIZE",
    "ARCH_KEYS",
    "ClassifierConfigError",
    "entry_error",
    "emotion_indices",
    "Preprocessing",
    "preprocessing_from_entry",
    "resolve_file",
    "embedded_spec",
    "check_entry",
    "check_declared_input",
    "check_model_file",
    "check_trained_weights",
    "rebuild_command",
    "model_files",
]

Color = Literal["gray", "rgb"]

KINDS: tuple[str, ...] = ("embedded", "torchscript", "onnx", "python", "keras")

ARCHITECTURES: tuple[str, ...] = ("cnn", "resnet", "convnext")
"""Network families of :mod:`facesym.classifiers.architectures`."""

EXTRA_CLASSES: tuple[str, ...] = (NEUTRAL, "contempt")
"""Class names that may exist beside the six emotions without being mapped onto one."""

_SYNONYMS: dict[str, str] = {
    "angry": "angry",
    "anger": "angry",
    "disgust": "disgust",
    "disgusted": "disgust",
    "fear": "fear",
    "fearful": "fear",
    "happy": "happy",
    "happiness": "happy",
    "sad": "sad",
    "sadness": "sad",
    "surprise": "surprise",
    "surprised": "surprise",
}


class ClassifierConfigError(ValueError):
    """A classifier's config entry, or the model file it names, cannot be used; the message names the entry."""


def entry_error(name: str, message: str) -> ClassifierConfigError:
    """Build a :class:`ClassifierConfigError` whose message starts with the config entry it concerns.

    Parameters
    ----------
    name : str
        The entry's ``name`` key.
    message : str
        What is wrong and, where possible, how to fix it.
    """
    return ClassifierConfigError(f"config classifiers entry '{name}': {message}")


def emotion_indices(name: str, classes: Sequence[str], emotion_map: Mapping[str, str] | None = None) -> tuple[int, ...]:
    """Position of each of the six emotions among a classifier's classes.

    Class names are matched case-insensitively, with common synonyms (``anger``, ``happiness``, ``fearful``,
    ...). ``emotion_map`` overrides a class's meaning: ``{class: emotion}``, or ``{class: neutral}`` (or
    ``contempt``) to declare an extra class that is none of the six. Classes named ``neutral`` or ``contempt``
    are extra classes without declaration.

    Parameters
    ----------
    name : str
        The config entry's name, for error messages.
    classes : sequence of str, length K
        The model's output classes, in output order.
    emotion_map : mapping, optional
        Class name → one of :data:`~facesym.emotions.EMOTIONS`, or one of :data:`EXTRA_CLASSES` for a class
        that is none of the six.

    Returns
    -------
    tuple of int, length 6
        ``indices[i]`` is the output column of ``EMOTIONS[i]``.

    Raises
    ------
    ClassifierConfigError
        If an emotion is missing or claimed twice, a class is unknown, or ``emotion_map`` names a class the
        model does not have or an emotion that does not exist.
    """
    emotion_map = dict(emotion_map or {})
    if len(set(classes)) != len(classes):
        raise entry_error(name, f"'classes' lists a class twice: {list(classes)}")
    for cls, emotion in emotion_map.items():
        if cls not in classes:
            raise entry_error(name, f"'emotion_map' names class '{cls}', which is not in 'classes' {list(classes)}")
        if emotion not in EMOTIONS + EXTRA_CLASSES:
            raise entry_error(
                name, f"'emotion_map' maps '{cls}' to '{emotion}'; use one of {list(EMOTIONS + EXTRA_CLASSES)}"
            )
    found: dict[str, int] = {}
    for index, cls in enumerate(classes):
        if cls in emotion_map:
            emotion = emotion_map[cls]
        elif cls.lower() in _SYNONYMS:
            emotion = _SYNONYMS[cls.lower()]
        elif cls.lower() in EXTRA_CLASSES:
            emotion = cls.lower()
        else:
            raise entry_error(
                name,
                f"class '{cls}' is none of the six emotions {list(EMOTIONS)}; map it with "
                f"'emotion_map: {{{cls}: <emotion>}}', or to neutral if it is an extra class",
            )
        if emotion in EXTRA_CLASSES:
            continue
        if emotion in found:
            raise entry_error(
                name, f"classes '{classes[found[emotion]]}' and '{cls}' both map onto emotion '{emotion}'"
            )
        found[emotion] = index
    missing = [e for e in EMOTIONS if e not in found]
    if missing:
        raise entry_error(name, f"no class maps onto {missing}; 'classes' is {list(classes)} (add an 'emotion_map')")
    return tuple(found[e] for e in EMOTIONS)


@dataclass(frozen=True)
class Preprocessing:
    """What a model expects as input.

    Attributes
    ----------
    input_size : int
        Side of the square input in pixels.
    color : {"gray", "rgb"}
        Channels the model reads (1 or 3).
    mean, std : tuple of float
        Per-channel normalisation ``(x - mean) / std`` applied to images in ``[0, 1]``; one value per channel.
    """

    input_size: int
    color: Color
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def channels(self) -> int:
        """Number of input channels (1 for gray, 3 for rgb)."""
        return 1 if self.color == "gray" else 3


EMBEDDED_DEFAULTS: dict[str, Any] = {"width": 16, "depth": 1, "input_size": 48, "color": "gray"}
"""Values an embedded entry may leave out. ``mean``/``std`` default to 0.5 per channel."""

MIN_INPUT_SIZE = 16
"""Smallest input every embedded network takes (the ConvNeXt downsamples by 16 before its head)."""

ARCH_KEYS: tuple[str, ...] = ("architecture", "width", "depth")
"""Keys that fix an embedded network's shape."""


def resolve_file(entry: Mapping[str, Any], key: str, base_dir: str | Path) -> Path:
    """The existing file an entry names under ``key``, relative paths taken from ``base_dir``.

    Raises
    ------
    ClassifierConfigError
        If the key is missing or the file does not exist.
    """
    name = entry["name"]
    if key not in entry:
        raise entry_error(name, f"kind '{entry['kind']}' needs the key '{key}'")
    path = Path(entry[key])
    if not path.is_absolute():
        path = Path(base_dir) / path
    if not path.is_file():
        raise entry_error(name, f"'{key}' file '{entry[key]}' does not exist (looked for {path.resolve()})")
    return path


def preprocessing_from_entry(entry: Mapping[str, Any], default_mean: float | None = None) -> Preprocessing:
    """The input specification an entry declares.

    Parameters
    ----------
    entry : mapping
        A ``classifiers`` config entry with ``input_size``, ``color``, ``mean`` and ``std``.
    default_mean : float, optional
        If given, ``mean`` defaults to it and ``std`` to 0.5 per channel (embedded classifiers); real models
        must state their normalisation, since a silent default would feed them wrongly scaled pixels.

    Returns
    -------
    Preprocessing
        ``mean``/``std`` given as one value are repeated for every channel.
    """
    name = entry["name"]
    missing = [k for k in ("input_size", "color") if k not in entry]
    if default_mean is None:
        missing += [k for k in ("mean", "std") if k not in entry]
    if missing:
        raise entry_error(name, f"kind '{entry['kind']}' needs the keys {missing}")
    color = entry["color"]
    if color not in ("gray", "rgb"):
        raise entry_error(name, f"'color' must be gray or rgb, got '{color}'")
    channels = 1 if color == "gray" else 3
    mean = list(entry.get("mean", [default_mean]))
    std = list(entry.get("std", [0.5]))
    for key, values in (("mean", mean), ("std", std)):
        if len(values) == 1:
            values *= channels
        if len(values) != channels:
            raise entry_error(name, f"'{key}' has {len(values)} values but 'color: {color}' has {channels} channel(s)")
    if any(s <= 0 for s in std):
        raise entry_error(name, f"'std' must be positive, got {std}")
    return Preprocessing(int(entry["input_size"]), color, tuple(map(float, mean)), tuple(map(float, std)))


def embedded_spec(entry: Mapping[str, Any]) -> tuple[dict[str, Any], Preprocessing]:
    """Architecture and preprocessing of an embedded entry, with defaults filled in.

    Returns
    -------
    arch : dict
        ``{"architecture", "width", "depth"}``.
    preprocessing : Preprocessing
        ``input_size``/``color`` from the entry or :data:`EMBEDDED_DEFAULTS`; ``mean``/``std`` default 0.5.
    """
    full = {**EMBEDDED_DEFAULTS, **entry}
    if full.get("architecture") not in ARCHITECTURES:
        raise entry_error(
            entry["name"], f"'architecture' must be one of {list(ARCHITECTURES)}, got {full.get('architecture')!r}"
        )
    arch = {key: full[key] for key in ARCH_KEYS}
    spec = preprocessing_from_entry(full, default_mean=0.5)
    if spec.input_size < MIN_INPUT_SIZE:
        raise entry_error(
            entry["name"], f"'input_size' of an embedded classifier must be at least {MIN_INPUT_SIZE} pixels"
        )
    return arch, spec


def check_entry(entry: Mapping[str, Any], base_dir: str | Path | None = None) -> None:
    """Check an entry without loading its model: kind, keys, preprocessing, class mapping and (optionally) files.

    Cheap enough to run for every entry before any job is planned.

    Parameters
    ----------
    entry : mapping
        A ``classifiers`` config entry.
    base_dir : str or Path, optional
        If given, the entry's input files must exist relative to it.

    Raises
    ------
    ClassifierConfigError
        Naming the entry and the key at fault.
    """
    name = entry["name"]
    kind = entry.get("kind")
    if kind not in KINDS:
        raise entry_error(name, f"'kind' must be one of {list(KINDS)}, got {kind!r}")
    if kind == "embedded":
        embedded_spec(entry)
        return
    preprocessing_from_entry(entry)
    if "classes" not in entry:
        raise entry_error(name, f"kind '{kind}' needs the key 'classes' (the model's output order)")
    emotion_indices(name, entry["classes"], entry.get("emotion_map"))
    if base_dir is not None:
        check_model_file(entry, resolve_file(entry, "weights" if kind == "python" else "path", base_dir))


def check_declared_input(
    name: str, channels: int, input_size: int, declared: tuple[int | None, int | None, int | None]
) -> None:
    """Compare an entry's ``color`` and ``input_size`` with the input a model file declares.

    Parameters
    ----------
    name : str
        The entry's name, for the message.
    channels, input_size : int
        From the entry (``color`` gray = 1, rgb = 3).
    declared : tuple
        ``(channels, height, width)`` from the model file, ``None`` where it accepts any value.

    Raises
    ------
    ClassifierConfigError
        Naming the entry, the key and both values.
    """
    file_channels, height, width = declared
    if file_channels is not None and file_channels != channels:
        raise entry_error(
            name, f"'color' gives {channels} channel(s) but the model file's input has {file_channels} channel(s)"
        )
    if any(side is not None and side != input_size for side in (height, width)):
        raise entry_error(
            name,
            f"'input_size: {input_size}' but the model file's input is {height}×{width} pixels; set 'input_size: "
            f"{height if height is not None else width}'",
        )


def check_model_file(entry: Mapping[str, Any], path: str | Path) -> None:
    """Open an entry's model file the cheapest way that shows it can be used, before any job loads it.

    Keras HDF5 and ONNX files: the header is parsed and its input shape and output count are compared with
    ``input_size``, ``color`` and ``classes``. Files written by ``torch.save`` (a ``python`` entry's ``weights``)
    and ``torch.jit.save``: the zip archive's structure and checksums. A TorchScript module states neither its
    input nor its outputs, so it is loaded on the CPU and run once on a blank batch of its declared input, as the
    job will (this alone imports torch).

    Parameters
    ----------
    entry : mapping
        A checked ``classifiers`` entry (:func:`check_entry`).
    path : str or Path
        The entry's existing model file (``path``, or ``weights`` for ``kind: python``).

    Raises
    ------
    ClassifierConfigError
        Naming the entry, the file and what is wrong: another format, truncated or damaged, or an input shape
        or output count that differs from the entry.
    """
    from facesym.classifiers.modelfiles import ModelFileError, read_header

    name, kind = entry["name"], entry["kind"]
    key = "weights" if kind == "python" else "path"
    readable = {
        "python": "a torch.save file",
        "onnx": "an ONNX model",
        "keras": "a Keras HDF5 model",
        "torchscript": "a TorchScript file",
    }[kind]
    try:
        header = read_header(kind, path)
    except ImportError:  # onnx is an optional extra; the job that loads the model says how to install it
        return
    except (ModelFileError, KeyError, OSError, ValueError) as exc:
        raise entry_error(name, f"'{key}' file '{entry.get(key)}' cannot be read as {readable}: {exc}") from exc
    if header.input is not None:
        spec = preprocessing_from_entry(entry)
        check_declared_input(name, spec.channels, spec.input_size, header.input)
    classes = list(entry.get("classes", []))
    if header.outputs is not None and header.outputs != len(classes):
        raise entry_error(
            name,
            f"the model file '{entry.get(key)}' returns {header.outputs} scores per image but 'classes' lists "
            f"{len(classes)}: {classes}",
        )
    if kind == "torchscript":
        from facesym.classifiers.adapters import load_torchscript

        try:
            load_torchscript({**entry, "path": str(Path(path).resolve())}, device="cpu", batch_size=8)
        except ClassifierConfigError as exc:
            said = str(exc).removeprefix(str(entry_error(name, "")))
            raise entry_error(name, f"'path' file '{entry.get(key)}', run on a blank batch: {said}") from exc


def rebuild_command(path: str | Path) -> str:
    """The commands that replace a damaged file the pipeline wrote (the workflow refuses to start while it is there)."""
    return f"rm {path} && snakemake --cores 1 {path}"


def check_trained_weights(entry: Mapping[str, Any], path: str | Path, base_dir: str | Path = ".") -> None:
    """Check that an embedded classifier's existing weights file is a complete ``torch.save`` archive.

    The pipeline writes it atomically, so a damaged one was copied in or damaged later; Snakemake would take it
    as up to date and every job using it would fail.

    Parameters
    ----------
    entry : mapping
        The ``kind: embedded`` config entry.
    path : str or Path
        The weights file as the workflow names it, relative to ``base_dir``.
    base_dir : str or Path
        The workflow's working directory.

    Raises
    ------
    ClassifierConfigError
        Naming the entry, the file, and the command that rebuilds it.
    """
    from facesym.classifiers.modelfiles import ModelFileError, check_torch_archive

    try:
        check_torch_archive(Path(base_dir) / path, scripted=False)
    except (ModelFileError, OSError) as exc:
        raise entry_error(
            entry["name"], f"the trained weights '{path}' cannot be read: {exc}. Rebuild them: {rebuild_command(path)}"
        ) from exc


def model_files(entry: Mapping[str, Any], embedded_weights: str) -> list[str]:
    """The files a job using this classifier depends on (Snakemake inputs).

    Parameters
    ----------
    entry
        A ``classifiers`` config entry.
    embedded_weights
        Where the workflow keeps an embedded classifier's trained weights (the workflow states its paths).

    Returns
    -------
    list of str
        ``[embedded_weights]`` for embedded entries, ``[path]`` for TorchScript/ONNX/Keras, ``[weights]`` for
        Python entry points.
    """
    kind = entry["kind"]
    if kind == "embedded":
        return [str(embedded_weights)]
    return [str(entry["weights" if kind == "python" else "path"])]
