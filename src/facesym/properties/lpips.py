"""LPIPS (Zhang et al., CVPR 2018), AlexNet variant v0.1, in plain torch with user-supplied weights.

The network: ImageNet-scaled input → AlexNet's five conv+ReLU stages (torchvision's ``alexnet().features``
layout) → each stage's activations normalised to unit length over channels → squared difference between the
two images → a learned non-negative 1×1 convolution per stage ("linear head") → spatial mean → sum over stages.

Nothing is downloaded. The user supplies the weights, in either of two forms:

* one file with the whole model, as ``torch.save(lpips.LPIPS(net="alex").state_dict(), path)`` writes it
  (keys ``net.slice1.0.weight`` …, ``lin0.model.1.weight`` …, optional ``scaling_layer.*``);
* the linear heads as the ``lpips`` package ships them (``weights/v0.1/alex.pth``: ``lin0.model.1.weight`` …)
  plus a separate backbone file, either torchvision's AlexNet state dict (``features.0.weight`` …; the
  classifier is ignored) or the ``net.slice*`` keys above.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

__all__ = ["LPIPS", "LPIPSWeightsError", "load_lpips"]

CHANNELS: tuple[int, ...] = (64, 192, 384, 256, 256)
"""Channels of the five AlexNet stages LPIPS compares."""

MIN_SIZE = 31
"""Smallest image side (pixels) for which every AlexNet stage still has a spatial extent."""

# Index of each conv layer in torchvision's ``alexnet().features`` and the LPIPS slice holding it.
_CONV_INDEX: dict[int, int] = {0: 1, 3: 2, 6: 3, 8: 4, 10: 5}


class LPIPSWeightsError(ValueError):
    """The supplied files do not hold LPIPS AlexNet weights of the expected keys and shapes."""


class _ScalingLayer(nn.Module):
    """Maps [-1, 1] images to the ImageNet statistics AlexNet was trained on (LPIPS' constants)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return (images - self.shift) / self.scale


class _AlexNetStages(nn.Module):
    """AlexNet's feature extractor cut after each ReLU, with torchvision's layer indices as names."""

    def __init__(self) -> None:
        super().__init__()
        layers = [
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(),
        ]
        bounds = ((0, 2), (2, 5), (5, 8), (8, 10), (10, 12))
        for number, (start, stop) in enumerate(bounds, start=1):
            stage = nn.Sequential(OrderedDict((str(i), layers[i]) for i in range(start, stop)))
            self.add_module(f"slice{number}", stage)

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for number in range(1, 6):
            images = getattr(self, f"slice{number}")(images)
            features.append(images)
        return features


class _LinearHead(nn.Module):
    """One stage's learned channel weights (a 1×1 convolution without bias; dropout only in training)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(), nn.Conv2d(channels, 1, kernel_size=1, bias=False))

    def forward(self, difference: torch.Tensor) -> torch.Tensor:
        return self.model(difference)


class LPIPS(nn.Module):
    """LPIPS distance with the AlexNet backbone; parameter names match the ``lpips`` package's state dict.

    Build it with :func:`load_lpips`; a fresh instance has random weights.
    """

    def __init__(self) -> None:
        super().__init__()
        self.scaling_layer = _ScalingLayer()
        self.net = _AlexNetStages()
        for index, channels in enumerate(CHANNELS):
            self.add_module(f"lin{index}", _LinearHead(channels))

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """Distance between two image batches.

        Parameters
        ----------
        first, second
            Shape ``(B, 3, H, W)``, values in [0, 1], H and W at least :data:`MIN_SIZE`.

        Returns
        -------
        torch.Tensor
            Shape ``(B,)``: 0 for identical images, larger for perceptually more different ones.
        """
        features = [self.net(self.scaling_layer(2 * images - 1)) for images in (first, second)]
        total = torch.zeros(first.shape[0], dtype=first.dtype, device=first.device)
        for index, (a, b) in enumerate(zip(*features, strict=True)):
            # LPIPS normalises with an epsilon of 1e-10 added to the norm, not under the square root.
            a = a / (torch.sqrt(torch.sum(a**2, dim=1, keepdim=True)) + 1e-10)
            b = b / (torch.sqrt(torch.sum(b**2, dim=1, keepdim=True)) + 1e-10)
            total = total + getattr(self, f"lin{index}")((a - b) ** 2).mean(dim=(1, 2, 3))
        return total


def _read_state_dict(path: Path, role: str) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise FileNotFoundError(
            f"LPIPS {role} file not found: {path}. LPIPS needs pretrained weights that facesym cannot download; "
            "supply them (see facesym.properties.lpips) or use the SSIM symmetry, which needs none."
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for a file that is not a tensor archive
        raise LPIPSWeightsError(f"LPIPS {role} file {path} is not a readable torch state dict: {error}") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise LPIPSWeightsError(f"LPIPS {role} file {path} does not hold a state dict of tensors")
    return state


def _backbone_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Backbone tensors under LPIPS names, from torchvision (``features.N.*``) or LPIPS (``net.*``) keys."""
    renamed = {}
    for key, tensor in state.items():
        parts = key.split(".")
        if parts[0] == "features" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) in _CONV_INDEX:
            renamed[f"net.slice{_CONV_INDEX[int(parts[1])]}.{parts[1]}.{parts[2]}"] = tensor
        elif parts[0] == "net":
            renamed[key] = tensor
    return renamed


def load_lpips(weights: str | os.PathLike[str], backbone: str | os.PathLike[str] | None = None) -> LPIPS:
    """An LPIPS model in eval mode with the user's weights, read with ``torch.load(weights_only=True)``.

    Parameters
    ----------
    weights
        The whole LPIPS state dict, or only its linear heads (``lin0.model.1.weight`` … ``lin4…``).
    backbone
        Needed when ``weights`` holds only the heads: torchvision's AlexNet state dict, or LPIPS ``net.*``
        keys. Classifier layers in it are ignored.

    Raises
    ------
    FileNotFoundError
        A file does not exist.
    LPIPSWeightsError
        A file is not a state dict, or keys are missing, unexpected or of the wrong shape; the message names
        them.
    """
    model = LPIPS()
    expected = model.state_dict()
    state = _read_state_dict(Path(weights), "weights")
    if backbone is not None:
        state = {key: t for key, t in state.items() if not key.startswith("net.")}
        state.update(_backbone_keys(_read_state_dict(Path(backbone), "backbone")))
    # The scaling constants are fixed by LPIPS, not learned; files of the heads alone do not carry them.
    for key in ("scaling_layer.shift", "scaling_layer.scale"):
        state.setdefault(key, expected[key])
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        hint = (
            " (the weights file holds only the linear heads: pass the AlexNet backbone too)"
            if (backbone is None and all(k.startswith("net.") for k in missing))
            else ""
        )
        raise LPIPSWeightsError(
            f"LPIPS weights do not match the AlexNet LPIPS model{hint}: "
            f"missing {missing or 'none'}; unexpected {unexpected or 'none'}"
        )
    wrong = [
        f"{key}: expected {tuple(expected[key].shape)}, got {tuple(state[key].shape)}"
        for key in expected
        if state[key].shape != expected[key].shape
    ]
    if wrong:
        raise LPIPSWeightsError("LPIPS weights have the wrong shapes: " + "; ".join(wrong))
    model.load_state_dict(state)
    return model.eval()
