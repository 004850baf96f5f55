"""Build a demonstration folder of photographs and its manifest for Experiment 1 on real images.

    python docs/photo_cohort.py demo        # writes demo/photos/*.png, demo/cohort.csv, .yaml, demo/config.yaml

A DEMONSTRATION of the mechanics, not a cohort: scikit-image ships one photograph of a face
(``skimage.data.astronaut``), so the "subjects" are that one smiling face, turned, shifted, rescaled and relit as a
real recording session would frame it differently, all labelled happy; ``lit_left`` (binary) marks the pictures lit
from the left. Three photographs without a face (coffee, a cat, bricks) show face quality control: they are listed
in ``results/experiment1/cohort/face_qc.csv`` with their manifest lines and left out. Table 1 on this folder says
nothing about any classifier; a real cohort replaces the folder and the manifest.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import yaml
from PIL import Image
from skimage import data, transform

VARIANTS = [  # (turn in degrees counter-clockwise, shift x, y in pixels, scale, light from the left)
    (0, 0, 0, 1.0, 0), (8, 20, -10, 1.0, 1), (-8, -25, 15, 1.0, 0), (15, 30, 25, 0.9, 1), (-15, -30, 20, 0.9, 0),
    (4, -10, -20, 1.1, 1), (-4, 15, 10, 1.1, 0), (12, -20, 30, 0.8, 1), (-12, 25, -25, 0.8, 0), (20, 0, 0, 1.0, 1),
    (-20, 10, 10, 1.0, 0), (0, 40, 30, 0.85, 1),
]  # fmt: skip


def photograph(angle: float, dx: float, dy: float, scale: float, lit_left: int) -> np.ndarray:
    """The astronaut portrait turned about its centre, rescaled, shifted and lit from one side, ``(H, W, 3)`` uint8."""
    image = data.astronaut().astype(np.float64) / 255.0
    centre = (np.array(image.shape[1::-1]) - 1) / 2.0
    a = np.deg2rad(angle)
    rotation = scale * np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    matrix = np.eye(3)
    matrix[:2, :2] = rotation
    matrix[:2, 2] = centre - rotation @ centre + (dx, dy)
    moved = transform.warp(image, transform.AffineTransform(matrix=matrix).inverse, order=3, mode="edge")
    ramp = np.linspace(1.15, 0.85, image.shape[1]) if lit_left else np.ones(image.shape[1])
    return np.round(np.clip(moved * ramp[None, :, None], 0, 1) * 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where to write photos/, cohort.csv, cohort.yaml and config.yaml")
    folder = parser.parse_args().folder
    (folder / "photos").mkdir(parents=True, exist_ok=True)
    rows = ["image,subject,label,group,lit_left"]
    for index, (angle, dx, dy, scale, lit_left) in enumerate(VARIANTS):
        name = f"photos/astronaut_{index:02d}.png"
        Image.fromarray(photograph(angle, dx, dy, scale, lit_left)).save(folder / name)
        rows.append(f"{name},session{index:02d},happy,demo,{lit_left}")
    without_face = (("coffee", data.coffee()), ("cat", data.chelsea()), ("brick", np.stack([data.brick()] * 3, 2)))
    for index, (name, pixels) in enumerate(without_face):
        Image.fromarray(pixels).save(folder / f"photos/{name}.png")
        rows.append(f"photos/{name}.png,nonface{index},happy,demo,{index % 2}")
    (folder / "cohort.csv").write_text("\n".join(rows) + "\n")
    (folder / "cohort.yaml").write_text(
        yaml.safe_dump({"properties": {"lit_left": {"type": "binary", "description": "lit from the left"}}})
    )
    config = {
        "classifiers": [{"name": "fer2013"}],  # replaced below by the default config's entry
        "experiment1": {
            "cohort": str(folder / "cohort.csv"),
            "unit": "image",  # one "subject" per session: the demonstration has no repeated subjects
            "calibration_shuffles": 0,
            "face_qc_max_fraction": 0.25,  # the three pictures without a face are 20 % of the folder
        },
    }
    default = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "config.yaml").read_text())
    config["classifiers"] = [entry for entry in default["classifiers"] if entry["name"] == "fer2013"]
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    print(f"{len(rows) - 1} photographs, manifest {folder / 'cohort.csv'}, config {folder / 'config.yaml'}")


if __name__ == "__main__":
    main()
