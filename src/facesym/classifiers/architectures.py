"""Expression-classifier networks trained inside the pipeline, in plain torch.

Three families, each sized by a ``width`` (channels of the first stage) and a ``depth`` (blocks per stage):

- ``cnn``: a VGG-like stack of conv–BN–ReLU stages with max pooling and a small spatial head;
- ``resnet``: a ResNet with basic residual blocks (He et al., 2016);
- ``convnext``: a ConvNeXt (Liu et al., 2022), the backbone of the paper's EmoNeXt models, whose tiny/small/…
  sizes the zoo echoes by width and depth.

Every network maps ``(B, C, S, S)`` normalised images to ``(B, K)`` logits and accepts any ``S >= 16``.
"""

from __future__ import annotations

import torch
from torch import nn

from facesym.classifiers.entries import ARCHITECTURES


class SmallCNN(nn.Module):
    """Stages of (conv3×3–BN–ReLU) × ``depth`` followed by 2×2 max pooling; channels double per stage.

    Parameters
    ----------
    in_channels, n_classes : int
        Input channels and output classes.
    width : int
        Channels of the first stage; later stages have 2× and 4×.
    depth : int
        Convolutions per stage.

    Notes
    -----
    The head pools to a 4×4 map and flattens it rather than pooling globally: an expression is told apart by
    *where* features occur (brows vs. mouth), which a global average of a shallow net's features loses.
    """

    def __init__(self, in_channels: int, n_classes: int, width: int = 16, depth: int = 1) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for stage in range(3):
            out = width * 2**stage
            for _ in range(depth):
                layers += [nn.Conv2d(channels, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU()]
                channels = out
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Dropout(0.2), nn.Linear(channels * 16, n_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, S, S)`` → ``(B, K)`` logits."""
        return self.head(self.features(x))


class BasicBlock(nn.Module):
    """ResNet basic block: two 3×3 convolutions with a (projected) identity shortcut."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual update of ``(B, C_in, H, W)`` to ``(B, C_out, H / stride, W / stride)``."""
        return self.act(self.body(x) + self.shortcut(x))


class ResNet(nn.Module):
    """A small ResNet: stride-2 stem, three stages of basic blocks (strides 1, 2, 2), global pooling.

    Parameters
    ----------
    in_channels, n_classes : int
        Input channels and output classes.
    width : int
        Channels of the stem and first stage; later stages have 2× and 4×.
    depth : int
        Basic blocks per stage.
    """

    def __init__(self, in_channels: int, n_classes: int, width: int = 16, depth: int = 1) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
        )
        blocks: list[nn.Module] = []
        channels = width
        for stage in range(3):
            out = width * 2**stage
            for block in range(depth):
                blocks.append(BasicBlock(channels, out, stride=2 if stage > 0 and block == 0 else 1))
                channels = out
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, S, S)`` → ``(B, K)`` logits."""
        return self.head(self.blocks(self.stem(x)))


class ConvNeXtBlock(nn.Module):
    """ConvNeXt block: depthwise 7×7 conv, normalisation, 4× inverted-bottleneck MLP with GELU, residual."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(channels, channels, 7, padding=3, groups=channels)
        self.norm = nn.BatchNorm2d(channels)
        self.mlp = nn.Sequential(nn.Conv2d(channels, 4 * channels, 1), nn.GELU(), nn.Conv2d(4 * channels, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual update of ``(B, C, H, W)``."""
        return x + self.mlp(self.norm(self.dwconv(x)))


class ConvNeXt(nn.Module):
    """A small ConvNeXt: 4×4 patchify stem, three stages separated by normalisation + 2×2 stride-2 convs.

    Parameters
    ----------
    in_channels, n_classes : int
        Input channels and output classes.
    width : int
        Channels of the first stage; later stages have 2× and 4×.
    depth : int
        Blocks in the first and last stage; the middle stage has ``2 * depth`` (ConvNeXt puts most blocks in
        its third of four stages).

    Notes
    -----
    Three stages instead of four (inputs are 48–64 px, not 224 px), and two departures forced by small grey
    renders and a few epochs of training: BatchNorm replaces LayerNorm (per-pixel LayerNorm right after a
    linear patchify stem discards each patch's brightness, which is where the renders' shading encodes
    geometry; the LayerNorm variant stayed at chance level within the training budget, and Liu et al. report
    BatchNorm only 0.1 % behind on ImageNet), and there is no layer scale, whose 1e-6 initialisation keeps the
    blocks idle for longer than the budget allows.
    """

    def __init__(self, in_channels: int, n_classes: int, width: int = 16, depth: int = 1) -> None:
        super().__init__()
        dims = [width, 2 * width, 4 * width]
        depths = [depth, 2 * depth, depth]
        layers: list[nn.Module] = [nn.Conv2d(in_channels, dims[0], 4, stride=4), nn.BatchNorm2d(dims[0])]
        for stage, (dim, n_blocks) in enumerate(zip(dims, depths, strict=True)):
            if stage > 0:
                layers += [nn.BatchNorm2d(dims[stage - 1]), nn.Conv2d(dims[stage - 1], dim, 2, stride=2)]
            layers += [ConvNeXtBlock(dim) for _ in range(n_blocks)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.BatchNorm1d(dims[-1]), nn.Linear(dims[-1], n_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, S, S)`` → ``(B, K)`` logits."""
        return self.head(self.features(x))


def build_network(architecture: str, in_channels: int, n_classes: int, width: int, depth: int) -> nn.Module:
    """Instantiate an embedded network.

    Parameters
    ----------
    architecture : {"cnn", "resnet", "convnext"}
        Network family.
    in_channels : int
        1 for gray, 3 for rgb input.
    n_classes : int
        Output classes K.
    width, depth : int
        Size, see the family's class.

    Returns
    -------
    nn.Module
        Randomly initialised (from torch's global generator); maps ``(B, in_channels, S, S)`` to ``(B, K)``.
    """
    families = {"cnn": SmallCNN, "resnet": ResNet, "convnext": ConvNeXt}
    if architecture not in families:
        raise ValueError(f"unknown architecture '{architecture}'; choose one of {list(ARCHITECTURES)}")
    if width < 1 or depth < 1:
        raise ValueError(f"width and depth must be positive, got width={width}, depth={depth}")
    return families[architecture](in_channels, n_classes, width=width, depth=depth)


def parameter_count(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
