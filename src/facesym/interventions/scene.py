"""One identity in front of a fixed camera and light: images as a function of (φ, s, t) only.

Everything but the expression geometry is fixed per identity (paper Sec. 3.2), so the classifier's output can
change only through φ, the symmetry s and the onset t.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from facesym.face import MorphableModel
from facesym.identities import Identity
from facesym.render import lighting_from_coefficients, render

__all__ = ["Scene", "build_scene"]


@dataclass
class Scene:
    """A fixed identity, appearance, light and camera.

    Attributes
    ----------
    model
        The morphable face model.
    beta
        Identity coefficients, shape ``(n_shape,)``.
    colors
        Per-vertex albedo, shape ``(N, 3)`` in ``[0, 1]``.
    lighting
        The light, shape ``(27,)`` (see :func:`facesym.render.lighting_from_coefficients`).
    size
        Image side in pixels.
    color
        ``"gray"`` or ``"rgb"``.
    backend
        Renderer backend (``"numba"`` or ``"torch"``).
    device
        Where geometry and rendering run.
    alpha
        The appearance coefficients ``colors`` was made from, shape ``(n_appearance,)``; ``None`` when the albedo
        was given directly (appearance interventions then have nothing to recompute it from).
    """

    model: MorphableModel
    beta: torch.Tensor
    colors: torch.Tensor
    lighting: torch.Tensor
    size: int
    color: str
    backend: str
    device: torch.device
    alpha: torch.Tensor | None = None

    def images(
        self,
        phi: torch.Tensor | np.ndarray,
        s: torch.Tensor | np.ndarray,
        t: torch.Tensor | np.ndarray,
        *,
        intensity_matched: bool = False,
    ):
        """Render the identity with expression ``phi`` at symmetry ``s`` and onset ``t``.

        Parameters
        ----------
        phi
            Expression parameters, shape ``(B, n_expression)``.
        s, t
            Symmetry and onset in ``[0, 1]``, shape ``(B,)`` each.
        intensity_matched
            Render the intensity-matched control instead: a symmetric face whose halves both move at
            ``t·(1 + s)/2`` (see :meth:`facesym.face.MorphableModel.vertices`).

        Returns
        -------
        torch.Tensor
            Images ``(B, C, size, size)``, float in ``[0, 1]``.
        """
        return self.render(self.vertices(phi, s, t, intensity_matched=intensity_matched))

    def vertices(
        self,
        phi: torch.Tensor | np.ndarray,
        s: torch.Tensor | np.ndarray,
        t: torch.Tensor | np.ndarray,
        *,
        intensity_matched: bool = False,
    ) -> torch.Tensor:
        """The face geometry :meth:`images` renders: shape ``(B, N, 3)``, model units (arguments as there)."""
        phi = torch.as_tensor(phi, dtype=torch.float32, device=self.device)
        batch = phi.shape[0]
        s = torch.as_tensor(s, dtype=torch.float32, device=self.device).expand(batch)
        t = torch.as_tensor(t, dtype=torch.float32, device=self.device).expand(batch)
        # β, albedo and light are shared by the batch: pass them once and let broadcasting do the rest.
        return self.model.vertices(self.beta[None], phi, s, t, intensity_matched=intensity_matched)

    def render(self, vertices: torch.Tensor) -> torch.Tensor:
        """Images ``(B, C, size, size)`` in ``[0, 1]`` of vertices ``(B, N, 3)`` under this scene's light and camera."""
        return render(
            vertices,
            self.model.triangles,
            self.colors,
            size=self.size,
            lighting=self.lighting,
            color=self.color,
            backend=self.backend,
            device=self.device,
            camera=getattr(self.model, "camera", None),
        )


def _fit(values: np.ndarray, length: int, what: str) -> torch.Tensor:
    if values.shape[0] > length:
        raise ValueError(f"config key 'identities.{what}' is {values.shape[0]} but the face model has {length}")
    padded = np.zeros(length, dtype=np.float32)
    padded[: values.shape[0]] = values
    return torch.from_numpy(padded)


def build_scene(
    model: MorphableModel, identity: Identity, render_config: Mapping[str, Any], device: torch.device
) -> Scene:
    """The scene of one identity.

    Identity vectors shorter than the model's bases leave the remaining components at zero (the mean face), so
    a config may analyse e.g. the first 20 of FLAME's 300 identity components.
    """
    beta = _fit(identity.beta, model.n_shape, "shape_dim").to(device)
    alpha = _fit(identity.alpha, model.n_appearance, "appearance_dim").to(device)
    colors = model.albedo(alpha[None])[0].to(device)
    lighting = lighting_from_coefficients(identity.lighting)[0]
    return Scene(
        model=model,
        beta=beta,
        colors=colors,
        lighting=lighting.to(device),
        size=int(render_config["size"]),
        color=str(render_config["color"]),
        backend=str(render_config["backend"]),
        device=device,
        alpha=alpha,
    )
