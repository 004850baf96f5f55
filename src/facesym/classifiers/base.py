"""The classifier interface every part of facesym talks to.

A :class:`Classifier` maps rendered images (``B × C × H × W``, float in ``[0, 1]``, the renderer's output) to
softmax probabilities ``B × K``. It owns its preprocessing (colour conversion, resizing, per-channel
normalisation), so callers never need to know what a model expects, and it declares how its ``K`` classes map
onto the six basic emotions of :data:`facesym.emotions.EMOTIONS`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from facesym.classifiers.entries import Color, Preprocessing, emotion_indices, entry_error
from facesym.classifiers.framing import Box, crop_images

__all__ = ["Classifier", "Preprocess", "channels_last_on_cpu", "inference_graph_on_cpu"]

log = logging.getLogger(__name__)

Output = Literal["logits", "probabilities"]

# ITU-R BT.601 luma, the weights FER datasets' greyscale images were made with.
_LUMA = (0.299, 0.587, 0.114)


def channels_last_on_cpu(module: nn.Module, device: str | torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
    """The forward pass of one of facesym's own convolutional networks, in channels-last layout on the CPU.

    oneDNN's CPU convolutions (depthwise ones most) run faster on NHWC tensors: measured side by side on the
    project's 2-core machine, fer2013's mini-Xception took half the time per 512 images, the embedded networks
    10–55 % less (``benchmarks/README.md``). The outputs differ from the NCHW pass at float32 round-off only
    (up to 6e-6 in fer2013's logits), because the convolutions sum in another order.

    Parameters
    ----------
    module
        A network in eval mode on ``device``; converted in place on the CPU.
    device
        Where it runs; on other devices the module is returned unchanged.

    Returns
    -------
    callable
        Maps ``(B, C, H, W)`` to the module's output.
    """
    if torch.device(device).type != "cpu":
        return module
    module.to(memory_format=torch.channels_last)

    def forward(x: torch.Tensor) -> torch.Tensor:
        return module(x.contiguous(memory_format=torch.channels_last))

    return forward


def inference_graph_on_cpu(
    module: nn.Module, device: str | torch.device, example: torch.Tensor, eager: Callable[[torch.Tensor], torch.Tensor]
) -> Callable[[torch.Tensor], torch.Tensor]:
    """A forward pass that runs a frozen, oneDNN-optimised graph of ``module`` whenever no gradient is wanted.

    ``torch.jit.optimize_for_inference`` folds each batch normalisation into its convolution and keeps the
    activations in oneDNN's blocked layout from layer to layer. For the FER2013 mini-Xception it took a third to
    two thirds of the channels-last time per 512 images on the project's 2-core machine (``benchmarks/README.md``),
    and its outputs do not depend on the batch an image is in. With gradients enabled (gradient-based
    optimisation) ``eager`` runs instead; the two differ at float32 round-off (7e-6 in fer2013's logits).

    Parameters
    ----------
    module
        A network in eval mode on ``device`` whose input size is fixed (the trace keeps its spatial sizes).
    device
        Where it runs; on other devices ``eager`` is returned.
    example
        A model input ``(B, C, S, S)`` to trace with and to compare the graph against ``eager`` on.
    eager
        The forward pass to use with gradients, and whenever the graph cannot be built or disagrees.

    Returns
    -------
    callable
        Maps ``(B, C, S, S)`` to the module's output.
    """
    if torch.device(device).type != "cpu":
        return eager
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The trace turns the convolutions' "same" padding, computed from the input's size, into constants: right
            # for a classifier, whose preprocessing always delivers its one input size.
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            # torch 2.13 deprecates TorchScript for torch.compile, which needs a C++ toolchain on the compute node and
            # tens of seconds per job; if a later torch drops the trace, the except below keeps the network eager.
            warnings.simplefilter("ignore", DeprecationWarning)
            traced = torch.jit.trace(module, example, check_trace=False)
            graph = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
            expected, got = eager(example), graph(example)
    except Exception as exc:  # an operation the trace or oneDNN's graph passes do not support
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        log.info("no optimised inference graph (%s); the network runs as it is", first_line)
        return eager
    if got.shape != expected.shape or not torch.allclose(got, expected, rtol=1e-4, atol=1e-4):
        log.warning("the optimised inference graph disagrees with the network; the network runs as it is")
        return eager

    def forward(x: torch.Tensor) -> torch.Tensor:
        return eager(x) if torch.is_grad_enabled() else graph(x)

    return forward


class Preprocess(nn.Module):
    """Framing crop, colour conversion, resizing and normalisation as a differentiable module.

    Parameters
    ----------
    spec : Preprocessing
        The model's input specification.
    crop : Box, optional
        The classifier's framing in the canonical render frame (:mod:`facesym.classifiers.framing`); cut out
        before resizing. ``None`` reads the whole image.

    Notes
    -----
    Input ``(B, C, H, W)`` float in ``[0, 1]`` with ``C`` 1 or 3; output ``(B, spec.channels, S, S)`` with
    ``S = spec.input_size``. Downscaling is antialiased so that a model sees the same face whether it was
    rendered at its input size or larger.
    """

    def __init__(self, spec: Preprocessing, crop: Box | None = None) -> None:
        super().__init__()
        self.spec = spec
        self.crop = crop
        self.register_buffer("mean", torch.tensor(spec.mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(spec.std, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("luma", torch.tensor(_LUMA, dtype=torch.float32).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Convert ``(B, C, H, W)`` images in ``[0, 1]`` to the model's normalised input."""
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"expected images of shape (B, 1 or 3, H, W), got {tuple(images.shape)}")
        x = images.float()
        if self.crop is not None:
            x = crop_images(x, self.crop)
        if self.spec.color == "gray" and x.shape[1] == 3:
            x = (x * self.luma).sum(dim=1, keepdim=True)
        elif self.spec.color == "rgb" and x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        size = self.spec.input_size
        if x.shape[-2:] != (size, size):
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        return (x - self.mean) / self.std


class Classifier:
    """A facial-expression classifier behind facesym's single interface.

    Parameters
    ----------
    name : str
        The config entry's name (the ``{classifier}`` wildcard).
    classes : sequence of str, length K
        Output classes in the model's output order.
    preprocessing : Preprocessing
        Input size, colour and normalisation the model expects.
    forward : callable
        Maps a preprocessed batch ``(B, C, S, S)`` float32 tensor on ``device`` to ``(B, K)`` scores.
    device : str or torch.device
        Where preprocessing runs and ``forward`` receives its input.
    output : {"logits", "probabilities"}
        What ``forward`` returns; logits are passed through a softmax.
    emotion_map : mapping, optional
        See :func:`emotion_indices`.
    batch_size : int
        Largest batch sent to ``forward`` at once; bigger inputs are split.
    crop : Box, optional
        The framing crop applied before everything else (see :meth:`frame`).

    Attributes
    ----------
    emotion_indices : tuple of int, length 6
        Output column of each emotion of :data:`~facesym.emotions.EMOTIONS`.
    """

    def __init__(
        self,
        name: str,
        classes: Sequence[str],
        preprocessing: Preprocessing,
        forward: Callable[[torch.Tensor], torch.Tensor],
        *,
        device: str | torch.device = "cpu",
        output: Output = "logits",
        emotion_map: Mapping[str, str] | None = None,
        batch_size: int = 256,
        crop: Box | None = None,
    ) -> None:
        self.name = name
        self.classes = tuple(classes)
        self.preprocessing = preprocessing
        self.device = torch.device(device)
        self.output = output
        self.batch_size = batch_size
        self.emotion_indices = emotion_indices(name, self.classes, emotion_map)
        self._forward = forward
        self.frame(crop)

    def frame(self, crop: Box | None) -> None:
        """Read only ``crop`` of every image from now on (``None``: the whole image).

        Parameters
        ----------
        crop : Box or None
            Fractions of the image in the canonical render frame, see
            :func:`facesym.classifiers.framing.framing_box`.
        """
        self.crop = crop
        self._preprocess = Preprocess(self.preprocessing, crop).to(self.device)

    @property
    def n_classes(self) -> int:
        """Number of output classes K."""
        return len(self.classes)

    @property
    def input_size(self) -> int:
        """Side of the model's square input in pixels."""
        return self.preprocessing.input_size

    @property
    def color(self) -> Color:
        """Colour the model reads."""
        return self.preprocessing.color

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Softmax probabilities for a batch of rendered images.

        Parameters
        ----------
        images : torch.Tensor, shape (B, C, H, W)
            Float in ``[0, 1]``, ``C`` 1 (gray) or 3 (rgb), any device and size.

        Returns
        -------
        torch.Tensor, shape (B, K)
            float32 on the CPU; rows sum to 1; column ``k`` is ``classes[k]``.
        """
        return self.probabilities(images)

    __call__ = predict

    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """:meth:`predict` without ``torch.no_grad``: the same values, differentiable w.r.t. ``images``.

        Used by gradient-based optimisation (``expressions.method: gradient``); everything else calls
        :meth:`predict`, which builds no autograd graph.
        """
        chunks = [
            (scores.softmax(dim=1) if self.output == "logits" else scores).cpu()
            for scores in self._score_batches(images)
        ]
        return torch.cat(chunks) if chunks else torch.zeros(0, self.n_classes)

    def _score_batches(self, images: torch.Tensor) -> Iterator[torch.Tensor]:
        """The model's raw output ``(b, K)`` float32 for each batch of at most :attr:`batch_size` images, checked
        against ``classes``."""
        for start in range(0, images.shape[0], self.batch_size):
            batch = images[start : start + self.batch_size]
            scores = self.scores(self.preprocess(batch))
            if scores.ndim != 2 or scores.shape[1] != self.n_classes:
                raise entry_error(
                    self.name,
                    f"the model returned scores of shape {tuple(scores.shape)} for a batch of {batch.shape[0]}; "
                    f"expected ({batch.shape[0]}, {self.n_classes}) for the {self.n_classes} 'classes'",
                )
            yield scores

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """The model's input for rendered images: framing crop, colour, resizing, normalisation.

        Parameters
        ----------
        images : torch.Tensor, shape (B, C, H, W)
            As for :meth:`predict`.

        Returns
        -------
        torch.Tensor, shape (B, C', S, S)
            float32 on :attr:`device`; ``C'`` and ``S`` as the model reads them.
        """
        return self._preprocess(images.to(self.device))

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        """The model's raw output, shape ``(B, K)`` float32, for a :meth:`preprocess`-ed batch ``(B, C', S, S)``."""
        return self._forward(x).float()

    @torch.no_grad()
    def predict_with_logits(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Softmax probabilities and, when the model gives them, its logits, from one forward pass.

        Returns
        -------
        probabilities : torch.Tensor, shape (B, K)
            As :meth:`predict`.
        logits : torch.Tensor, shape (B, K), or None
            The model's raw scores (float32, CPU) when ``output == "logits"``; None for a model that returns
            probabilities (its logits are unknown: log-probabilities differ from them by a per-image constant).
        """
        probs, logits = [], []
        for scores in self._score_batches(images):
            if self.output == "logits":
                logits.append(scores.cpu())
                scores = scores.softmax(dim=1)
            probs.append(scores.cpu())
        if not probs:
            empty = torch.zeros(0, self.n_classes)
            return empty, (empty if self.output == "logits" else None)
        return torch.cat(probs), (torch.cat(logits) if logits else None)

    def emotion_probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """Probabilities of the six emotions only.

        Parameters
        ----------
        images : torch.Tensor, shape (B, C, H, W)
            As for :meth:`predict`.

        Returns
        -------
        torch.Tensor, shape (B, 6)
            Column ``i`` is ``EMOTIONS[i]``'s softmax probability over all K classes (rows need not sum to 1
            when the model has extra classes such as neutral).
        """
        return self.predict(images)[:, list(self.emotion_indices)]

    def __repr__(self) -> str:
        p = self.preprocessing
        return (
            f"Classifier({self.name!r}, classes={list(self.classes)}, input={p.input_size}px {p.color}, "
            f"device={self.device})"
        )
