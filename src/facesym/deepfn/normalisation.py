"""DeepFN's face normalisation: histogram equalisation, augmentation and the two-decoder autoencoder.

The paper (Sec. 3.1, Eq. 1–2): a shared encoder ``E`` and one decoder per appearance, ``D^x`` for the subject and
``D^y`` for the template, trained to minimise the reconstruction error of each appearance from its own
pre-processed (gray, histogram-equalised, affine + warp augmented) images; batches of the template and of the
subject alternate. No pairs are used: the shared encoder has to encode what the two appearances share (the
expression). A subject's image is normalised by decoding its code with the *template's* decoder,
``X^y = D^y(E(X))``.

Scaled to this project: 64-pixel inputs instead of 128, the layer pattern of the paper's Tables 1–2 (stride-2
5×5 convolutions with LeakyReLU, a dense bottleneck, pixel-shuffle upsampling) with ``width`` channels in the first
layer instead of 128, and a few hundred iterations instead of 50,000. Two changes make that budget enough to learn
the expression rather than one average face (issue 19): batch normalisation after every convolution, and decoders
that start from their appearance's mean face and learn the deviations from it (a linear output, see
:class:`Decoder`). The paper's loss is
written as an absolute error in Eq. 1 and called RMSE in the text; we minimise the RMSE.

Because the face model renders the template performing exactly the subject's expression, a **supervised** variant
is possible too (the paper's future work): the same encoder and template decoder trained on the pairs
``(subject image, template image of the same trial)``; it is an upper bound for what the self-supervised
transfer can learn with this architecture and budget.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from facesym.deepfn.corpus import Corpus
from facesym.deepfn.protocol import DataView
from facesym.seeds import derive_seed

__all__ = [
    "LEARNED",
    "NORMALISATIONS",
    "TEMPLATE",
    "Autoencoder",
    "NormalisationResult",
    "augment",
    "data_view",
    "equalise",
    "expression_correlation",
    "to_uint8",
    "to_unit",
    "train_autoencoder",
    "transfer_corpus",
]

log = logging.getLogger(__name__)


def equalise(images: np.ndarray) -> np.ndarray:
    """Histogram equalisation of each image over its face pixels.

    Every face pixel (value > 0; the renderer's background is 0) is replaced by the empirical CDF of the face
    pixels at its value, so the face's gray levels become uniform on (0, 1] whatever the skin tone or light; the
    background stays 0 (equalising it would give it the CDF of the background fraction instead).

    Parameters
    ----------
    images
        Shape ``(B, H, W)``, uint8 or float in [0, 1].

    Returns
    -------
    np.ndarray
        Shape ``(B, H, W)`` float32 in [0, 1].
    """
    flat = np.asarray(images).reshape(len(images), -1)
    out = np.zeros(flat.shape, dtype=np.float32)
    for index, row in enumerate(flat):
        face = row > 0
        values = row[face]
        if values.size:
            ordered = np.sort(values)
            out[index, face] = np.searchsorted(ordered, values, side="right") / values.size
    return out.reshape(np.shape(images))


def augment(images: torch.Tensor, generator: torch.Generator, settings: Mapping[str, Any]) -> torch.Tensor:
    """Random affine transformations and smooth Gaussian warps (the paper's augmentation).

    Parameters
    ----------
    images
        Shape ``(B, 1, H, W)`` in [0, 1].
    generator
        The job's random stream.
    settings
        ``rotation`` (max degrees), ``scale`` (max relative zoom), ``shift`` (max fraction of the half width),
        ``warp`` (standard deviation of the warp displacement, fraction of the half width).

    Returns
    -------
    torch.Tensor
        Same shape, resampled bilinearly (zeros outside).
    """
    batch = images.shape[0]

    def uniform(limit: float) -> torch.Tensor:
        return (torch.rand(batch, generator=generator) * 2.0 - 1.0) * limit

    angle = uniform(math.radians(settings["rotation"]))
    scale = 1.0 + uniform(settings["scale"])
    shift = torch.stack([uniform(settings["shift"]), uniform(settings["shift"])], dim=1)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = nn.functional.affine_grid(theta, list(images.shape), align_corners=False)
    # A coarse 5x5 field of Gaussian displacements, upsampled smoothly: a "Gaussian warp".
    coarse = torch.randn(batch, 2, 5, 5, generator=generator) * settings["warp"]
    field = nn.functional.interpolate(coarse, size=images.shape[-2:], mode="bicubic", align_corners=True)
    grid = grid + field.permute(0, 2, 3, 1)
    return nn.functional.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _conv(cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Sequential:
    # Batch normalisation: without it the few hundred iterations we can afford did not get the deeper layers going
    # (issue 19: transfer correlation 0.57 without, 0.61 with, supervised variant).
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, bias=False), nn.BatchNorm2d(cout),
                         nn.LeakyReLU(0.1))


def _upscale(cin: int, cout: int) -> nn.Sequential:
    """Conv to 4·cout channels, then a pixel shuffle that doubles the resolution (the paper's PixelShuffler)."""
    return nn.Sequential(_conv(cin, 4 * cout, 3), nn.PixelShuffle(2))


class Encoder(nn.Module):
    """Image ``(B, 1, 64, 64)`` -> code ``(B, 4w, 8, 8)`` (paper Table 1, scaled: four stride-2 convolutions, a
    dense bottleneck of ``latent`` units, a dense layer back to 4×4 and one pixel-shuffle upscale)."""

    def __init__(self, size: int, width: int, latent: int):
        super().__init__()
        if size % 16:
            raise ValueError(f"deepfn.image_size must be a multiple of 16, got {size}")
        self.side = size // 16
        self.width = width
        self.convs = nn.Sequential(_conv(1, width, 5, 2), _conv(width, 2 * width, 5, 2),
                                   _conv(2 * width, 4 * width, 5, 2), _conv(4 * width, 8 * width, 5, 2))
        self.dense = nn.Sequential(nn.Flatten(), nn.Linear(8 * width * self.side**2, latent),
                                   nn.Linear(latent, 8 * width * self.side**2))
        self.up = _upscale(8 * width, 4 * width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.dense(self.convs(x)).view(-1, 8 * self.width, self.side, self.side)
        return self.up(z)


class Decoder(nn.Module):
    """Code ``(B, 4w, 8, 8)`` -> image ``(B, 1, 64, 64)`` (paper Table 2, scaled), plus a learned mean face.

    The network's output is added to a per-pixel image ``mean``, a parameter initialised to the mean of the images
    this decoder reconstructs, so training starts from the appearance's average face and the network only has to
    learn the deviations from it: the expression. Without it, the expression (an RMS deviation of about 0.05 from
    the mean face on the equalised renders) was never learned within our budget: after 400 iterations even the
    supervised variant still sat above the mean face's own error and returned one neutral face for every input
    (issue 19). The output layer is linear, not the paper's sigmoid (which saturated on the renders' flat
    background); images are clipped to [0, 1] when transferred.
    """

    def __init__(self, width: int, mean: torch.Tensor):
        super().__init__()
        self.net = nn.Sequential(_upscale(4 * width, 4 * width), _upscale(4 * width, 2 * width),
                                 _upscale(2 * width, width), nn.Conv2d(width, 1, 5, padding=2))
        self.mean = nn.Parameter(torch.as_tensor(mean, dtype=torch.float32).reshape(1, 1, *mean.shape[-2:]).clone())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z) + self.mean


TEMPLATE = "y"
"""Key of the template's decoder (the paper's ``D^y``)."""


class Autoencoder(nn.Module):
    """A shared encoder with one decoder per appearance: ``decoders["y"]`` for the template, ``decoders["0"]``,
    ``decoders["1"]`` … for the subjects (the paper's ``D^x``; one subject per model in the paper's procedure).

    Parameters
    ----------
    size, width, latent
        Input side in pixels, channels of the first encoder layer, dense bottleneck units.
    means
        The mean image ``(H, W)`` of each decoder's targets, template first, then one per subject: each decoder's
        starting face (see :class:`Decoder`).
    """

    def __init__(self, size: int, width: int, latent: int, means: Sequence[np.ndarray]):
        super().__init__()
        self.encoder = Encoder(size, width, latent)
        template, *subjects = [torch.as_tensor(mean, dtype=torch.float32) for mean in means]
        self.decoders = nn.ModuleDict({TEMPLATE: Decoder(width, template),
                                       **{str(i): Decoder(width, mean) for i, mean in enumerate(subjects)}})

    def forward(self, images: torch.Tensor, appearance: str) -> torch.Tensor:
        return self.decoders[appearance](self.encoder(images))


def _rmse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(nn.functional.mse_loss(prediction, target) + 1e-12)


def _step(optimiser: torch.optim.Optimizer, loss: torch.Tensor) -> float:
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()
    return float(loss.detach())


@dataclass
class NormalisationResult:
    """What :func:`train_autoencoder` returns.

    Attributes
    ----------
    model
        The trained autoencoder.
    loss
        RMSE per iteration, shape ``(iterations, 2)``: the subject batch (its own reconstruction, or the error
        against the template pairs when supervised) and the template's reconstruction.
    """

    model: Autoencoder
    loss: np.ndarray

    @torch.no_grad()
    def transfer(self, images: np.ndarray, appearance: str = TEMPLATE, batch: int = 256) -> np.ndarray:
        """``D^appearance(E(X))`` of equalised images ``(B, H, W)`` in [0, 1]; returns ``(B, H, W)`` float32 in
        [0, 1]."""
        self.model.eval()
        x = torch.as_tensor(np.asarray(images), dtype=torch.float32)[:, None]
        parts = [self.model(x[i:i + batch], appearance)[:, 0].clamp(0.0, 1.0) for i in range(0, len(x), batch)]
        return torch.cat(parts).numpy() if parts else np.zeros(np.shape(images), dtype=np.float32)


def train_autoencoder(subjects: Sequence[np.ndarray], template: np.ndarray, settings: Mapping[str, Any], seed: int,
                      pairs: Sequence[np.ndarray] | None = None) -> NormalisationResult:
    """Train DeepFN's autoencoder (Eq. 1) for one subject (the paper) or several subjects at once.

    Parameters
    ----------
    subjects
        Each subject's equalised images ``(I, H, W)`` in [0, 1]. With one subject this is the paper's procedure;
        with several, the encoder and the template decoder are shared by all of them and each subject keeps its
        own decoder (a batch mixes the subjects, each image decoded by its subject's decoder), which costs one
        training instead of one per subject.
    template
        The template's equalised images ``(J, H, W)`` in [0, 1] (its own trials: unpaired).
    settings
        ``deepfn.autoencoder``: ``iterations``, ``batch_size``, ``width``, ``latent``, ``learning_rate`` and
        ``augmentation`` (see :func:`augment`).
    seed
        Seed of initialisation, batches and augmentation.
    pairs
        ``None`` for the self-supervised DeepFN. For the supervised variant, per subject the template's equalised
        images of the subject's trials ``(I, H, W)``: the template decoder is then trained to map the augmented
        subject image onto its pair (no subject decoder is used), alternating with template reconstruction.

    Returns
    -------
    NormalisationResult
    """
    if not subjects:
        raise ValueError("no subject images to normalise")
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    supervised = pairs is not None
    means = [np.mean(template, axis=0)] + ([] if supervised else [np.mean(images, axis=0) for images in subjects])
    model = Autoencoder(template.shape[-1], settings["width"], settings["latent"], means)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings["learning_rate"], betas=(0.5, 0.999))
    x = torch.cat([torch.as_tensor(images, dtype=torch.float32)[:, None] for images in subjects])
    owner = torch.cat([torch.full((len(images),), k) for k, images in enumerate(subjects)])
    target_x = x if pairs is None else torch.cat([torch.as_tensor(p, dtype=torch.float32)[:, None] for p in pairs])
    y = torch.as_tensor(template, dtype=torch.float32)[:, None]
    batch = settings["batch_size"]
    losses = np.zeros((settings["iterations"], 2), dtype=np.float32)
    model.train()
    for iteration in range(settings["iterations"]):
        # The paper alternates a batch of the subject's images with a batch of template images. With several
        # subjects, a batch mixes them and each image goes through its own subject's decoder.
        index = torch.randint(len(x), (batch,), generator=generator)
        inputs, target = augment(x[index], generator, settings["augmentation"]), target_x[index]
        if supervised:
            output = model(inputs, TEMPLATE)
        else:
            code = model.encoder(inputs)
            output = torch.empty_like(target)
            for k in owner[index].unique().tolist():
                rows = owner[index] == k
                output[rows] = model.decoders[str(k)](code[rows])
        losses[iteration, 0] = _step(optimiser, _rmse(output, target))
        y_batch = y[torch.randint(len(y), (batch,), generator=generator)]
        template_output = model(augment(y_batch, generator, settings["augmentation"]), TEMPLATE)
        losses[iteration, 1] = _step(optimiser, _rmse(template_output, y_batch))
        if (iteration + 1) % max(1, settings["iterations"] // 10) == 0:
            log.info("iteration %d: RMSE subject %.4f, template %.4f", iteration + 1, *losses[iteration])
    tail = losses[-max(1, len(losses) // 10):].mean(axis=0)
    log.info("autoencoder (%s, %d subjects, %d iterations): final RMSE subject %.4f, template %.4f",
             "supervised" if supervised else "self-supervised", len(subjects), len(losses), *tail)
    return NormalisationResult(model, losses)


NORMALISATIONS = ("none", "histeq", "deepfn", "supervised", "oracle")
"""What the recogniser can be shown: the original images; histogram-equalised ones (DeepFN's pre-processing
alone); DeepFN's transfer onto the template; the supervised autoencoder's transfer; the exact template render of
the same trial (the best any normalisation could do)."""

LEARNED = ("deepfn", "supervised")
"""Normalisations that need a trained autoencoder (a file of transferred images)."""


def to_unit(images: np.ndarray) -> np.ndarray:
    """8-bit gray images -> float32 in [0, 1]."""
    return np.asarray(images, dtype=np.float32) / 255.0


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Images in [0, 1] -> 8-bit gray (for storage)."""
    return (np.clip(images, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def data_view(corpus: Corpus, normalisation: str, transferred: Mapping[str, np.ndarray] | None = None,
              transferred_grid: Mapping[str, np.ndarray] | None = None) -> DataView:
    """The corpus as the recogniser sees it under one normalisation (healthy and palsy subjects only).

    Parameters
    ----------
    corpus
        The rendered corpus.
    normalisation
        One of :data:`NORMALISATIONS`.
    transferred, transferred_grid
        For the learned normalisations: subject -> transferred images ``(I, H, W)`` and palsy subject -> transferred
        grid ``(A, S, T, H, W)``, 8-bit.
    """
    if normalisation not in NORMALISATIONS:
        raise ValueError(f"unknown normalisation {normalisation!r}; choose from {NORMALISATIONS}")
    names = [s.name for s in corpus.subjects if s.role != "template"]
    palsy = [s.name for s in corpus.subjects if s.role == "palsy"]
    labels = {name: corpus.labels[name] for name in names}
    if normalisation in LEARNED:
        if transferred is None or transferred_grid is None:
            raise ValueError(f"the {normalisation} normalisation needs its transferred images")
        images = {name: to_unit(transferred[name]) for name in names}
        grid = {name: to_unit(transferred_grid[name]) for name in palsy}
    elif normalisation == "oracle":
        images = {name: to_unit(corpus.pairs[name]) for name in names}
        grid = {name: to_unit(corpus.grid[corpus.template]) for name in palsy}
    elif normalisation == "histeq":
        images = {name: equalise(corpus.images[name]) for name in names}
        grid = {name: _equalised_grid(corpus.grid[name]) for name in palsy}
    else:
        images = {name: to_unit(corpus.images[name]) for name in names}
        grid = {name: to_unit(corpus.grid[name]) for name in palsy}
    return DataView(images, labels, grid)


def expression_correlation(transferred: np.ndarray, exact: np.ndarray) -> float:
    """How much of the expression a normalisation carries over: the correlation, per image, of its deviation from
    the subject's mean transferred face with the exact template render's deviation from its mean, averaged over the
    images.

    A transfer that returns one face whatever the input scores 0 (the collapse of issue 19), the exact template
    render scores 1; the appearance (the template's mean face) does not enter.

    Parameters
    ----------
    transferred
        One subject's normalised images ``(I, H, W)`` (any gray scale).
    exact
        The template rendered with the same trials, equalised, ``(I, H, W)``.

    Returns
    -------
    float
        Mean correlation in [-1, 1]; images without any deviation count as 0.
    """
    a = np.asarray(transferred, dtype=np.float64)
    b = np.asarray(exact, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 3:
        raise ValueError(f"expected two image stacks (I, H, W) of one shape, got {a.shape} and {b.shape}")
    a = (a - a.mean(axis=0)).reshape(len(a), -1)
    b = (b - b.mean(axis=0)).reshape(len(b), -1)
    # Deviations at rounding level (an identical stack minus its mean) count as none.
    size_a, size_b = np.sqrt((a * a).sum(axis=1)), np.sqrt((b * b).sum(axis=1))
    tiny = 1e-9 * np.sqrt(a.shape[1])
    valid = (size_a > tiny) & (size_b > tiny)
    norm = np.where(valid, size_a * size_b, 1.0)
    return float(np.mean(np.where(valid, (a * b).sum(axis=1) / norm, 0.0)))


def _equalised_grid(grid: np.ndarray) -> np.ndarray:
    return equalise(grid.reshape(-1, *grid.shape[-2:])).reshape(grid.shape)


def transfer_corpus(corpus: Corpus, method: str, settings: Mapping[str, Any],
                    seed: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Train the autoencoder(s) of one learned normalisation and transfer every analysed subject's images.

    Parameters
    ----------
    corpus
        The rendered corpus.
    method
        ``"deepfn"`` (self-supervised, unpaired) or ``"supervised"`` (trained on the exact template pairs).
    settings
        ``deepfn.autoencoder``; ``mode`` is ``per_subject`` (the paper: one autoencoder per subject and template)
        or ``joint`` (one shared encoder and template decoder for all subjects, a decoder per subject).
    seed
        The job's seed; each autoencoder's seed is derived from it and the subject (per_subject mode).

    Returns
    -------
    tuple
        Subject -> transferred images ``(I, H, W)`` uint8; palsy subject -> transferred grid ``(A, S, T, H, W)``
        uint8; the training losses ``(models, iterations, 2)``.
    """
    if method not in LEARNED:
        raise ValueError(f"{method!r} is not a learned normalisation {LEARNED}")
    names = [s.name for s in corpus.subjects if s.role != "template"]
    template = equalise(corpus.images[corpus.template])
    subject_images = {name: equalise(corpus.images[name]) for name in names}
    pairs = {name: equalise(corpus.pairs[name]) for name in names} if method == "supervised" else None
    batches = [[name] for name in names] if settings["mode"] == "per_subject" else [names]
    transferred, grids, losses = {}, {}, []
    for batch in batches:
        batch_seed = derive_seed(seed, method, *batch) if settings["mode"] == "per_subject" else seed
        result = train_autoencoder([subject_images[n] for n in batch], template, settings, batch_seed,
                                   None if pairs is None else [pairs[n] for n in batch])
        losses.append(result.loss)
        for name in batch:
            transferred[name] = to_uint8(result.transfer(subject_images[name]))
            if name in corpus.grid:
                grid = _equalised_grid(corpus.grid[name])
                flat = result.transfer(grid.reshape(-1, *grid.shape[-2:]))
                grids[name] = to_uint8(flat.reshape(grid.shape))
    return transferred, grids, np.stack(losses)
