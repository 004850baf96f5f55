"""Readability of the face model by a classifier: accuracy and confusion on the EMFACS prototypes plus neutral.

Renders the prototypes (:mod:`facesym.classifiers.readability`) for held-out identities at s = 1 and s = 0 and
classifies them with one classifier of a config, once for each framing: the entry's own ``framing``, none (the
whole render), and any ``--scale`` given. Prints accuracy over the seven labels (chance 1/7), accuracy over the
six emotions, recall per label and the confusion matrix at s = 1. The library's check is reused unchanged, so the
figures are those ``results/classifiers/{name}_check.json`` reports for the same identities and render size.

``--detector CASCADE_XML`` also measures the face box that OpenCV's Haar cascade (the detector FER2013's crops
came from, and the one the ``fer`` package uses: scaleFactor 1.1, minNeighbors 5) finds on the neutral
prototypes, and prints the framing that reproduces it. It needs ``cv2`` (opencv-python-headless < 5, which still
has the cascade classifier), which facesym does not depend on; put it on ``PYTHONPATH`` for that run.

Usage (repository root)::

    .venv/bin/python benchmarks/bench_readability.py --classifier fer2013        # config/config.yaml, 30 ids
    .venv/bin/python benchmarks/bench_readability.py --classifier fer2013 --size 112 --scale 0.8 1.0
    PYTHONPATH=/path/to/cv2 .venv/bin/python benchmarks/bench_readability.py --classifier fer2013 \\
        --detector haarcascade_frontalface_default.xml
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from facesym.classifiers.base import Classifier
from facesym.classifiers.framing import Box, Framing, framing_box, framing_from_entry, reference_box
from facesym.classifiers.readability import LABELS, heldout_identities, readability, render_prototypes
from facesym.config import classifier_entry, load_schema, validate_config
from facesym.face import MorphableModel
from facesym.face.configured import face_model_from_config

ROOT = Path(__file__).resolve().parents[1]


def detector_framing(model: MorphableModel, identities, render_config: Mapping[str, Any], cascade: str) -> Framing:
    """The framing whose crop is the mean Haar-cascade box on the neutral faces, relative to the reference box."""
    import cv2

    detector = cv2.CascadeClassifier(cascade)
    size = 256
    prototypes = render_prototypes(
        model, identities, {**render_config, "size": size, "color": "gray"}, symmetries=(1.0,)
    )
    neutral = [i for i, label in enumerate(prototypes.labels) if label == "neutral"]
    boxes = []
    for index in neutral:
        pixels = (prototypes.images[index, 0].numpy() * 255).round().astype(np.uint8)
        found = detector.detectMultiScale(pixels, scaleFactor=1.1, minNeighbors=5, minSize=(50, 50))
        if len(found):
            x, y, w, h = max(found, key=lambda r: r[2] * r[3])
            # fer squares the box on the longer side (the cascade's boxes are square already).
            side = max(w, h)
            boxes.append((x + w / 2, y + h / 2, side))
    if not boxes:
        raise SystemExit("the cascade found no face in any neutral render")
    cx, cy, side = np.asarray(boxes, dtype=float).mean(axis=0) / size
    spread = np.asarray(boxes, dtype=float).std(axis=0) / size
    ref = reference_box(model)
    framing = Framing(side / ref.width, ((cx - ref.left) / ref.width, (cy - ref.top) / ref.height))
    print(
        f"detector: {len(boxes)}/{len(neutral)} faces found; mean box centre ({cx:.4f}, {cy:.4f}), side {side:.4f} "
        f"of the image (sd {spread[0]:.4f}, {spread[1]:.4f}, {spread[2]:.4f}); reference box {ref}"
    )
    print(f"  -> framing: {{scale: {framing.scale:.4f}, center: [{framing.center[0]:.4f}, {framing.center[1]:.4f}]}}")
    return framing


def table(name: str, crop: Box | None, result: Mapping[str, Any]) -> list[str]:
    """Printable lines of one framing's result."""
    where = "whole image" if crop is None else (
        f"crop x {crop.left:.3f}-{crop.right:.3f}, y {crop.top:.3f}-{crop.bottom:.3f}"
    )
    lines = [f"== {name}: {where}"]
    header = "  s    acc(7)  acc(6)  " + "  ".join(f"{label[:7]:>7}" for label in LABELS)
    lines.append(header)
    for level in result["checks"]:
        recall = "  ".join(f"{level['recall'][label]:7.2f}" for label in LABELS)
        lines.append(f"  {level['s']:.0f}    {level['accuracy']:.3f}   {level['accuracy_emotions']:.3f}   {recall}")
    first = result["checks"][0]
    columns = ", ".join(result["predicted"])
    lines.append(f"  confusion at s = {first['s']:.0f} (rows true, columns predicted: {columns})")
    for label, row in zip(result["labels"], first["confusion"], strict=True):
        lines.append(f"    {label:>8} " + " ".join(f"{count:4d}" for count in row))
    return lines


def run(
    classifier: Classifier,
    entry: Mapping[str, Any],
    model: MorphableModel,
    config: Mapping[str, Any],
    *,
    identities: int,
    size: int | None,
    scales: list[float],
    detector: str | None,
) -> dict[str, Any]:
    """Check ``classifier`` under each framing; print and return the results."""
    people = heldout_identities(config["seed"], identities, config["identities"])
    render_config = {**config["render"], **({"size": size} if size else {})}
    started = time.perf_counter()
    prototypes = render_prototypes(model, people, render_config)
    render_seconds = time.perf_counter() - started
    framings: dict[str, Framing | None] = {"none": None}
    own = framing_from_entry(entry)
    if own is not None:
        framings["entry"] = own
    if detector:
        framings["detector"] = detector_framing(model, people, config["render"], detector)
    for scale in scales:
        framings[f"scale {scale:g}"] = Framing(scale, own.center if own else (0.5, 0.5))
    results = {}
    for name, framing in framings.items():
        crop = None if framing is None else framing_box(framing, reference_box(model))
        classifier.frame(crop)
        started = time.perf_counter()
        result = readability(classifier, prototypes)
        print("\n".join(table(name, crop, result)))
        results[name] = {
            "framing": None if framing is None else {"scale": framing.scale, "center": list(framing.center)},
            "crop": None if crop is None else crop.to_json(),
            "classify_seconds": time.perf_counter() - started,
            **result,
        }
    return {
        "classifier": classifier.name,
        "identities": identities,
        "render": render_config,
        "images": len(prototypes.labels),
        "render_seconds": render_seconds,
        "load_average": os.getloadavg(),
        "results": results,
    }


def load_config(path: str) -> dict[str, Any]:
    raw = yaml.safe_load(Path(path).read_text())
    return validate_config(raw, load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml"), base_dir=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "config" / "config.yaml"))
    parser.add_argument("--classifier", required=True, help="name of a classifiers entry of the config")
    parser.add_argument("--weights", help="embedded entries: the trained .pt (default results/classifiers/NAME.pt)")
    parser.add_argument("--identities", type=int, default=30, help="held-out identities (default 30)")
    parser.add_argument("--size", type=int, help="render size in pixels (default: the config's render.size)")
    parser.add_argument("--scale", type=float, nargs="*", default=[], help="extra framings at the entry's centre")
    parser.add_argument("--detector", help="Haar cascade XML: also measure the detector's face box (needs cv2)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()

    from facesym.classifiers.registry import load_classifier

    config = load_config(args.config)
    entry = classifier_entry(config, args.classifier)
    model = face_model_from_config(config, ROOT)
    classifier = load_classifier(entry, weights=args.weights, base_dir=ROOT, face_model=model)
    figures = run(
        classifier,
        entry,
        model,
        config,
        identities=args.identities,
        size=args.size,
        scales=args.scale,
        detector=args.detector,
    )
    print(f"{figures['images']} images rendered in {figures['render_seconds']:.1f} s; load {figures['load_average']}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
