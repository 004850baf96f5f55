"""Contact sheet of the procedural face: every emotion prototype at full and at zero symmetry.

Run ``python -m facesym.face.contact_sheet docs/contact_sheet.png`` to (re)write the picture in ``docs/``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from facesym.emotions import EMOTIONS, NEUTRAL
from facesym.face.model import MorphableModel
from facesym.face.procedural import build_procedural_model
from facesym.face.prototypes import PROTOTYPES, prototype_phi
from facesym.render import lighting_from_coefficients, render

__all__ = ["contact_sheet_images", "write_contact_sheet"]


def _identities(n: int, seed: int, dims: tuple[int, int, int]) -> list[tuple[torch.Tensor, ...]]:
    """β, α and light of ``n`` identities drawn from a standard normal, like the pipeline's identities."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        beta, alpha, light = (torch.as_tensor(rng.standard_normal(d), dtype=torch.float32)[None] for d in dims)
        out.append((beta, alpha, lighting_from_coefficients(light)))
    return out


def _row(model: MorphableModel, identity: tuple[torch.Tensor, ...], columns: list[str], s: float, size: int,
         color: str = "rgb") -> np.ndarray:
    beta, alpha, light = identity
    phi = torch.stack([prototype_phi(model, name) for name in columns])
    img = render(model.vertices(beta, phi, s, 1.0), model.triangles, model.albedo(alpha), size=size,
                 lighting=light, color=color)
    return img.permute(0, 2, 3, 1).numpy()


def contact_sheet_images(n_identities: int = 3, size: int = 192, seed: int = 0,
                         dims: tuple[int, int, int] = (20, 6, 4)) -> tuple[np.ndarray, list[str]]:
    """Render neutral + the six prototypes at ``s = 1`` and ``s = 0`` (``t = 1``) for a few identities.

    Parameters
    ----------
    n_identities
        Identities, drawn like the pipeline's: β, α and lighting from a standard normal (seeded).
    size
        Image side in pixels.
    seed
        Seed of the identity draws.
    dims
        Lengths of β, α and the lighting draw (the config's ``identities`` section).

    Returns
    -------
    images : np.ndarray
        RGB, shape ``(2 · n_identities, 7, size, size, 3)``, rows ordered (identity, s = 1 then s = 0).
    columns : list[str]
        ``"neutral"`` and the emotions, in column order.
    """
    model = build_procedural_model(dims[0], dims[1])
    columns = [NEUTRAL, *EMOTIONS]
    rows = [_row(model, identity, columns, s, size)
            for identity in _identities(n_identities, seed, dims) for s in (1.0, 0.0)]
    return np.stack(rows), columns


def write_contact_sheet(path: str | Path, n_identities: int = 3, size: int = 192, seed: int = 0,
                        small: int = 64) -> Path:
    """Write the contact sheet as a PNG, with a last row at ``small`` px grayscale (what classifiers see).

    Parameters
    ----------
    path
        Output PNG.
    n_identities, size, seed
        See :func:`contact_sheet_images`.
    small
        Side of the grayscale row (first identity, s = 1), shown enlarged with nearest-neighbour pixels;
        0 leaves it out.

    Returns
    -------
    Path
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images, columns = contact_sheet_images(n_identities, size, seed)
    rows = list(images)
    labels = [f"identity {i + 1}\ns = {s:g}" for i in range(n_identities) for s in (1.0, 0.0)]
    if small:
        model = build_procedural_model()
        gray = _row(model, _identities(1, seed, (20, 6, 4))[0], columns, 1.0, small, color="gray")
        rows.append(np.repeat(gray, 3, axis=-1))
        labels.append(f"identity 1\n{small} px gray")

    n_rows, n_cols = len(rows), len(columns)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.6 * n_cols + 0.9, 1.6 * n_rows + 0.5), squeeze=False)
    for r, (row, label) in enumerate(zip(rows, labels, strict=True)):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.imshow(np.clip(row[c], 0.0, 1.0), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                aus = "+".join(au[2:] for au in PROTOTYPES.get(columns[c], {}))
                ax.set_title(columns[c] + (f"\nAU {aus}" if aus else "\n"), fontsize=9)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.suptitle("facesym procedural face: EMFACS prototypes at t = 1 (FACS intensity E); s = 0 freezes the "
                 "subject's left (image right), the jaw (AU26) opens at any s", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="PNG to write, e.g. docs/contact_sheet.png")
    parser.add_argument("--identities", type=int, default=3)
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(write_contact_sheet(args.output, args.identities, args.size, args.seed))


if __name__ == "__main__":
    main()
