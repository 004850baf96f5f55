"""The synthetic AU corpus: subjects with groups, random action-unit trials with exact labels, two render datasets.

Design (every draw from :func:`facesym.seeds.derive_seed` of the global seed, a ``deepfn`` stage and the
subject's name, so adding subjects never changes existing ones):

* **subjects** — ``healthy`` subjects (the analysed pool), ``palsy`` subjects (test only) and ``template``
  candidates (one becomes DeepFN's template and is excluded from recognition, as in the paper). Identity β,
  appearance α and lighting are standard-normal draws (:func:`facesym.identities.sample_identity`).
* **groups** — each healthy and palsy subject gets one cell of skin × face shape × dataset, the cells balanced
  over a seeded shuffle of the subjects, so the groups are independent of each other:

  - *skin type*: the appearance model's ``skin_tone`` coefficient α₀ is set to ``∓(margin + |z|)``; lighter skin
    maps to the fair end of the palette, darker to the brown/dark end (the model also darkens hair and eyes with
    the tone, as it always does). Nothing else of the subject changes.
  - *face shape* (standing in for the paper's gender, whose "shape of the jaw" the model can express but whose
    sex it cannot): ``face_width`` and ``jaw_width`` set to ``∓(margin + |z|)``: narrow vs wide faces.
  - *dataset*: two render settings (camera framing, light offset, render resolution) standing in for BP4D vs
    DISFA; images of both are resampled to the same input size.
  - *palsy*: palsy subjects have the subject's left half weakened by a per-subject ``s ~ U[lo, hi]`` (the face
    model's symmetry knob); healthy and template subjects have ``s = 1``.
* **trials** — each image activates every analysed AU independently with probability ``p`` at an intensity
  ``U(0, 1]``; the label is ``intensity >= threshold`` (exact: the face model is FACS-native). Under palsy the
  label is unchanged — FACS codes an action that is visible on one side (the unaffected right) as present.
* **pairs** — the template rendered with every trial of every subject (same AU intensities and ``s``) in the
  template's setting: the exact normalised image, used only by the supervised upper bound and the oracle.
* **symmetry grid** — every palsy subject and the template performing each AU alone at onset
  ``t ∈ linspace(0, 1, T)`` and symmetry ``s ∈ linspace(0, 1, S)``.

Images are gray, 8-bit (as a camera would deliver them), ``image_size`` pixels square.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from facesym.face import MorphableModel
from facesym.face.procedural import IDENTITY_COMPONENTS
from facesym.identities import Identity, sample_identity
from facesym.io import read_h5, write_h5
from facesym.render import OrthographicCamera, lighting_from_coefficients, render
from facesym.seeds import derive_seed, rng_for

__all__ = [
    "GROUPS",
    "ROLES",
    "Corpus",
    "Subject",
    "au_labels",
    "choose_template",
    "draw_subjects",
    "draw_trials",
    "read_corpus",
    "render_corpus",
    "write_corpus",
]

GROUPS: dict[str, tuple[str, str]] = {
    "skin": ("lighter", "darker"),
    "face_shape": ("narrow", "wide"),
    "dataset": ("A", "B"),
}
"""Group split -> its two values; the first value's coefficient is pushed negative, the second positive."""

ROLES = ("healthy", "palsy", "template")

_SKIN_TONE = 0  # index of "skin_tone" in facesym.face.appearance.APPEARANCE_NAMES
_SHAPE_COMPONENTS = tuple(IDENTITY_COMPONENTS.index(name) for name in ("face_width", "jaw_width"))
_LIGHT_COEFFICIENTS = 5  # lighting_from_coefficients reads at most five


@dataclass(frozen=True)
class Subject:
    """One person of the corpus.

    Attributes
    ----------
    name
        ``"h000"`` (healthy), ``"p000"`` (palsy) or ``"t000"`` (template candidate).
    role
        One of :data:`ROLES`.
    groups
        Group split -> value (``{"skin": "darker", "face_shape": "narrow", "dataset": "A"}``).
    s
        Symmetry of the subject's expressions in [0, 1] (1 = healthy).
    identity
        β, α and lighting after the group constraints.
    """

    name: str
    role: str
    groups: dict[str, str]
    s: float
    identity: Identity


def _pushed(value: float, negative: bool, margin: float) -> float:
    return -(margin + abs(value)) if negative else margin + abs(value)


def _with_groups(identity: Identity, groups: Mapping[str, str], margin: float) -> Identity:
    alpha, beta = identity.alpha.copy(), identity.beta.copy()
    if "skin" in groups:
        alpha[_SKIN_TONE] = _pushed(alpha[_SKIN_TONE], groups["skin"] == GROUPS["skin"][0], margin)
    if "face_shape" in groups:
        for index in _SHAPE_COMPONENTS:
            if index < beta.shape[0]:
                beta[index] = _pushed(beta[index], groups["face_shape"] == GROUPS["face_shape"][0], margin)
    return Identity(identity.name, identity.seed, beta, alpha, identity.lighting)


def draw_subjects(config: Mapping[str, Any]) -> list[Subject]:
    """All subjects of the corpus: healthy, palsy and template candidates, in that order.

    Parameters
    ----------
    config
        The validated config (``seed``, ``identities`` dims and the ``deepfn`` section).

    Returns
    -------
    list of Subject
        ``deepfn.subjects`` healthy, ``deepfn.palsy_subjects`` palsy and ``deepfn.template_candidates`` template
        subjects. Healthy and palsy subjects are spread evenly over the 8 cells of skin × face shape × dataset.
    """
    deepfn, dims, seed = config["deepfn"], config["identities"], int(config["seed"])
    if dims["appearance_dim"] < 1:
        raise ValueError("deepfn needs identities.appearance_dim >= 1 (the skin-tone coefficient)")
    if dims["shape_dim"] < max(_SHAPE_COMPONENTS) + 1:
        raise ValueError(f"deepfn needs identities.shape_dim >= {max(_SHAPE_COMPONENTS) + 1} (face and jaw width)")
    base_seed = derive_seed(seed, "deepfn")
    cells = list(itertools.product(*GROUPS.values()))
    low, high = deepfn["palsy_s"]
    subjects = []
    for role, prefix, count in (("healthy", "h", deepfn["subjects"]), ("palsy", "p", deepfn["palsy_subjects"])):
        order = rng_for(seed, "deepfn-cells", role).permutation(count)
        for index in range(count):
            name = f"{prefix}{index:03d}"
            groups = dict(zip(GROUPS, cells[int(order[index]) % len(cells)], strict=True))
            identity = sample_identity(base_seed, name, dims["shape_dim"], dims["appearance_dim"],
                                       dims["lighting_dim"])
            s = 1.0 if role == "healthy" else float(rng_for(seed, "deepfn-palsy", name).uniform(low, high))
            subjects.append(Subject(name, role, groups, s, _with_groups(identity, groups, deepfn["group_margin"])))
    for index in range(deepfn["template_candidates"]):
        name = f"t{index:03d}"
        identity = sample_identity(base_seed, name, dims["shape_dim"], dims["appearance_dim"], dims["lighting_dim"])
        if deepfn["template"] == "average":
            # The mean face of the model: every coefficient at its mean, the reference light.
            identity = Identity(name, identity.seed, np.zeros_like(identity.beta), np.zeros_like(identity.alpha),
                                np.zeros_like(identity.lighting))
        # The template is recorded in the first dataset, as the paper's came from BP4D.
        subjects.append(Subject(name, "template", {"dataset": GROUPS["dataset"][0]}, 1.0, identity))
    return subjects


def draw_trials(config: Mapping[str, Any], subject: str) -> np.ndarray:
    """Random AU intensities of one subject's images.

    Returns
    -------
    np.ndarray
        Shape ``(deepfn.images_per_subject, len(deepfn.action_units))``, float32 in [0, 1]: 0 where the AU is
        not active, ``U(0, 1]`` where it is (with probability ``deepfn.activation_probability``).
    """
    deepfn = config["deepfn"]
    rng = rng_for(config["seed"], "deepfn-trials", subject)
    shape = (deepfn["images_per_subject"], len(deepfn["action_units"]))
    active = rng.random(shape) < deepfn["activation_probability"]
    intensity = 1.0 - rng.random(shape)  # (0, 1]
    return np.where(active, intensity, 0.0).astype(np.float32)


def au_labels(intensity: np.ndarray, threshold: float) -> np.ndarray:
    """Binary AU occurrence labels: 1 where ``intensity >= threshold`` (and the AU is active), else 0.

    Parameters
    ----------
    intensity
        AU intensities, any shape, in [0, 1].
    threshold
        The occurrence threshold in (0, 1]; an AU at zero intensity is never present.

    Returns
    -------
    np.ndarray
        Same shape, uint8.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"deepfn.label_threshold must lie in (0, 1], got {threshold}")
    return ((intensity >= threshold) & (intensity > 0)).astype(np.uint8)


def choose_template(subjects: Sequence[Subject], labels: Mapping[str, np.ndarray]) -> str:
    """The paper's "most expressive subject" among the template candidates.

    The number of activations of every AU is counted per candidate; the candidate whose median count over the
    AUs is highest wins (the first one on ties).
    """
    candidates = [subject.name for subject in subjects if subject.role == "template"]
    if not candidates:
        raise ValueError("no template candidates (deepfn.template_candidates must be >= 1)")
    medians = [float(np.median(labels[name].sum(axis=0))) for name in candidates]
    return candidates[int(np.argmax(medians))]


def _phi(model: MorphableModel, action_units: Sequence[str], intensity: np.ndarray) -> torch.Tensor:
    missing = [au for au in action_units if au not in model.expression_names]
    if missing:
        raise ValueError(f"deepfn.action_units {missing} are not components of the {model.name} face model "
                         f"(it has {model.expression_names})")
    columns = [model.expression_names.index(au) for au in action_units]
    phi = torch.zeros(intensity.shape[0], model.n_expression)
    phi[:, columns] = torch.as_tensor(intensity, dtype=torch.float32)
    return phi


def _setting(config: Mapping[str, Any], dataset: str) -> Mapping[str, Any]:
    return {entry["name"]: entry for entry in config["deepfn"]["datasets"]}[dataset]


class _Renderer:
    """Renders one subject's faces in its dataset's setting, resampled to the common input size."""

    def __init__(self, model: MorphableModel, config: Mapping[str, Any], batch: int = 256):
        self.model = model
        self.config = config
        self.size = int(config["deepfn"]["image_size"])
        self.batch = batch

    def __call__(self, subject: Subject, intensity: np.ndarray, s: np.ndarray | float, t: np.ndarray | float = 1.0,
                 dataset: str | None = None) -> np.ndarray:
        """Images ``(B, size, size)`` uint8 for AU intensities ``(B, n_au)``, symmetry and onset ``(B,)``."""
        setting = _setting(self.config, dataset or subject.groups["dataset"])
        model, identity = self.model, subject.identity
        beta = torch.zeros(model.n_shape)
        beta[: identity.beta.shape[0]] = torch.as_tensor(identity.beta[: model.n_shape], dtype=torch.float32)
        alpha = torch.zeros(model.n_appearance)
        alpha[: identity.alpha.shape[0]] = torch.as_tensor(identity.alpha[: model.n_appearance], dtype=torch.float32)
        colors = model.albedo(alpha[None])[0]
        light = np.zeros(_LIGHT_COEFFICIENTS)
        light[: min(identity.lighting.shape[0], _LIGHT_COEFFICIENTS)] = identity.lighting[:_LIGHT_COEFFICIENTS]
        lighting = lighting_from_coefficients(light + np.asarray(setting["light_shift"], dtype=np.float64))[0]
        camera = OrthographicCamera(center_y=setting["center_y"], half_extent=setting["half_extent"])
        phi = _phi(model, self.config["deepfn"]["action_units"], intensity)
        n = phi.shape[0]
        s = np.broadcast_to(np.asarray(s, dtype=np.float32), (n,))
        t = np.broadcast_to(np.asarray(t, dtype=np.float32), (n,))
        out = np.empty((n, self.size, self.size), dtype=np.uint8)
        for start in range(0, n, self.batch):
            part = slice(start, min(n, start + self.batch))
            vertices = model.vertices(beta[None], phi[part], torch.from_numpy(s[part].copy()),
                                      torch.from_numpy(t[part].copy()))
            images = render(vertices, model.triangles, colors, size=int(setting["size"]), lighting=lighting,
                            color="gray", camera=camera)
            if images.shape[-1] != self.size:
                images = torch.nn.functional.interpolate(images, size=(self.size, self.size), mode="bilinear",
                                                         antialias=True, align_corners=False)
            out[part] = (images[:, 0].clamp(0, 1) * 255.0).round().to(torch.uint8).numpy()
        return out


@dataclass
class Corpus:
    """Everything the experiment renders, in memory.

    Attributes
    ----------
    subjects
        All subjects (healthy, palsy, template candidates).
    template
        Name of the chosen template subject.
    intensity
        Subject -> AU intensities ``(I, A)`` in [0, 1] (``I`` images, ``A`` action units).
    labels
        Subject -> AU occurrence ``(I, A)`` uint8.
    images
        Subject -> its images ``(I, H, W)`` uint8 (gray).
    pairs
        Subject -> the template performing the subject's trials (same intensities and ``s``) ``(I, H, W)`` uint8;
        the chosen template's own entry is its own images.
    grid
        Palsy subject or template -> each AU alone over the symmetry × onset grid, ``(A, S, T, H, W)`` uint8.
    grid_s, grid_t
        The grid's symmetry and onset values, shapes ``(S,)`` and ``(T,)``.
    """

    subjects: list[Subject]
    template: str
    intensity: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    images: dict[str, np.ndarray]
    pairs: dict[str, np.ndarray]
    grid: dict[str, np.ndarray]
    grid_s: np.ndarray
    grid_t: np.ndarray


def _grid(render_fn: _Renderer, subject: Subject, n_au: int, grid_s: np.ndarray, grid_t: np.ndarray,
          dataset: str | None = None) -> np.ndarray:
    au, s, t = np.meshgrid(np.arange(n_au), grid_s, grid_t, indexing="ij")
    intensity = np.zeros((au.size, n_au), dtype=np.float32)
    intensity[np.arange(au.size), au.ravel()] = 1.0
    images = render_fn(subject, intensity, s.ravel(), t.ravel(), dataset)
    return images.reshape(n_au, grid_s.size, grid_t.size, *images.shape[1:])


def render_corpus(model: MorphableModel, config: Mapping[str, Any]) -> Corpus:
    """Draw and render the whole corpus (see the module docstring).

    Parameters
    ----------
    model
        The procedural face model (its expression components must include ``deepfn.action_units``).
    config
        The validated config.
    """
    deepfn = config["deepfn"]
    subjects = draw_subjects(config)
    render_fn = _Renderer(model, config)
    intensity = {subject.name: draw_trials(config, subject.name) for subject in subjects}
    labels = {name: au_labels(values, deepfn["label_threshold"]) for name, values in intensity.items()}
    template_name = choose_template(subjects, labels)
    template = next(subject for subject in subjects if subject.name == template_name)
    images, pairs = {}, {}
    for subject in subjects:
        images[subject.name] = render_fn(subject, intensity[subject.name], subject.s)
        if subject.name != template_name:
            pairs[subject.name] = render_fn(template, intensity[subject.name], subject.s)
    pairs[template_name] = images[template_name]
    grid_s = np.linspace(0.0, 1.0, deepfn["symmetry"]["steps"])
    grid_t = np.linspace(0.0, 1.0, deepfn["symmetry"]["onset_steps"])
    n_au = len(deepfn["action_units"])
    grid = {subject.name: _grid(render_fn, subject, n_au, grid_s, grid_t)
            for subject in subjects if subject.role == "palsy"}
    grid[template_name] = _grid(render_fn, template, n_au, grid_s, grid_t)
    return Corpus(subjects, template_name, intensity, labels, images, pairs, grid, grid_s, grid_t)


KIND = "deepfn-corpus"


def write_corpus(path: str, corpus: Corpus, config: Mapping[str, Any]) -> None:
    """Write a corpus to one self-describing HDF5 file (:func:`facesym.io.write_h5`)."""
    names = [subject.name for subject in corpus.subjects]
    palsy = [subject.name for subject in corpus.subjects if subject.role == "palsy"]
    datasets: dict[str, tuple[Any, tuple[str, ...], str]] = {
        "images": (np.stack([corpus.images[n] for n in names]), ("subject", "image", "y", "x"), "gray level 0-255"),
        "pairs": (np.stack([corpus.pairs[n] for n in names]), ("subject", "image", "y", "x"), "gray level 0-255"),
        "intensity": (np.stack([corpus.intensity[n] for n in names]), ("subject", "image", "au"),
                      "AU intensity (0 = inactive, 1 = full)"),
        "labels": (np.stack([corpus.labels[n] for n in names]), ("subject", "image", "au"), "AU present (0/1)"),
        "s": (np.array([subject.s for subject in corpus.subjects]), ("subject",), "symmetry (1 = both halves)"),
        "role": (np.array([subject.role for subject in corpus.subjects]), ("subject",), ""),
        "template_grid": (corpus.grid[corpus.template], ("au", "grid_s", "grid_t", "y", "x"), "gray level 0-255"),
    }
    for split in GROUPS:
        datasets[split] = (np.array([subject.groups.get(split, "") for subject in corpus.subjects]), ("subject",), "")
    if palsy:
        datasets["grid"] = (np.stack([corpus.grid[n] for n in palsy]),
                            ("palsy_subject", "au", "grid_s", "grid_t", "y", "x"), "gray level 0-255")
    for key in ("beta", "alpha", "lighting"):
        datasets[key] = (np.stack([getattr(subject.identity, key) for subject in corpus.subjects]),
                         ("subject", key), "standard-normal units")
    write_h5(path, KIND, datasets, seed=derive_seed(config["seed"], "deepfn"),
             config={"seed": config["seed"], "identities": config["identities"], "deepfn": config["deepfn"]},
             coords={"subject": names, "palsy_subject": palsy, "au": list(config["deepfn"]["action_units"]),
                     "grid_s": corpus.grid_s, "grid_t": corpus.grid_t},
             attrs={"template": corpus.template})


def read_corpus(path: str) -> Corpus:
    """Read a corpus written by :func:`write_corpus`."""
    data = read_h5(path, kind=KIND)
    names = [str(n) for n in data.coords["subject"]]
    palsy = [str(n) for n in data.coords["palsy_subject"]]
    subjects = []
    for index, name in enumerate(names):
        groups = {split: str(data.data[split][index]) for split in GROUPS if str(data.data[split][index])}
        identity = Identity(name, 0, data.data["beta"][index], data.data["alpha"][index],
                            data.data["lighting"][index])
        subjects.append(Subject(name, str(data.data["role"][index]), groups, float(data.data["s"][index]), identity))
    template = str(data.attrs["template"])
    grid = {name: data.data["grid"][index] for index, name in enumerate(palsy)}
    grid[template] = data.data["template_grid"]
    return Corpus(
        subjects=subjects,
        template=template,
        intensity={n: data.data["intensity"][i] for i, n in enumerate(names)},
        labels={n: data.data["labels"][i] for i, n in enumerate(names)},
        images={n: data.data["images"][i] for i, n in enumerate(names)},
        pairs={n: data.data["pairs"][i] for i, n in enumerate(names)},
        grid=grid,
        grid_s=np.asarray(data.coords["grid_s"], dtype=np.float64),
        grid_t=np.asarray(data.coords["grid_t"], dtype=np.float64),
    )
