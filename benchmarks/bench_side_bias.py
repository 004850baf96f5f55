"""Why are symmetric-trained classifiers side-biased? The mirror test (issue 18).

Held-out training-like faces (the classifiers' own test stream) are rendered symmetric (s = 1) and with one half
frozen (s = 0): the subject's left half (the paper's intervention), the right half, and the horizontal mirror
image of each. The face model, the mean light and the renderer are mirror-symmetric (checked first: template,
identity and expression bases, albedo, the split weights, and a render against its mirror image), so
``fliplr(left frozen)`` is a right-frozen face of a mirrored identity under a mirrored light, a draw from the
same distribution as ``right frozen``. If a classifier's accuracy differs between the two frozen sides but follows
the image when it is mirrored, the bias is the classifier's (a learned function that is not mirror-invariant off
the symmetric training distribution), not the scene's.

Usage (repository root, trained classifiers in results/classifiers/)::

    .venv/bin/python benchmarks/bench_side_bias.py --classifier cnn cnn_asym --per-class 50
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
import yaml
from scipy.spatial import cKDTree

from facesym.classifiers.data import render_faces, sample_faces, training_face_model
from facesym.classifiers.embedded import EMBEDDED_CLASSES
from facesym.classifiers.registry import load_classifier
from facesym.config import classifier_entry, load_schema, validate_config
from facesym.render import lighting_from_coefficients, render
from facesym.seeds import rng_for


def mirror_checks(model) -> dict[str, float]:
    """Largest mirror asymmetry of every part of the scene (0 = mirror-symmetric)."""
    template = model.template.numpy()
    mirror = cKDTree(template).query(template * np.array([-1.0, 1.0, 1.0]))[1]
    total = {}
    for name, basis in (("shapedirs", model.shapedirs), ("exprdirs", model.exprdirs)):
        b = basis.numpy()
        # vertices sharing a position (the lips' seam) pair arbitrarily: compare summed motion per half instead
        motion = np.linalg.norm(b, axis=1)
        left, right = template[:, 0] > 1e-3, template[:, 0] < -1e-3
        total[f"{name}: max |left − right| / total motion"] = float(
            np.max(np.abs(motion[left].sum(0) - motion[right].sum(0)) / np.maximum(motion.sum(0), 1e-12)))
    albedo = model.albedo(torch.zeros(1, model.n_appearance))[0].numpy()
    total["albedo: max |a − mirror(a)|"] = float(np.abs(albedo[mirror] - albedo).max())
    weight = model.left_weight.numpy()
    total["split: max |w − (1 − mirror(w))|"] = float(np.abs(weight[mirror] - (1 - weight)).max())
    vertices = model.vertices(torch.zeros(1, model.n_shape), torch.zeros(1, model.n_expression), 1.0, 1.0)
    image = render(vertices, model.triangles, torch.as_tensor(albedo)[None], size=64,
                   lighting=lighting_from_coefficients(torch.zeros(1, 4)), color="gray", backend="numba",
                   camera=model.camera)[0, 0].numpy()
    total["render of the mean face, reference light: mean |img − fliplr(img)|"] = float(
        np.abs(image - image[:, ::-1]).mean())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--classifier", nargs="+", required=True)
    parser.add_argument("--per-class", type=int, default=50)
    args = parser.parse_args()
    with open(args.config) as fh:
        config = validate_config(yaml.safe_load(fh), load_schema("workflow/schemas/config.schema.yaml"))
    model = training_face_model(config)
    for key, value in mirror_checks(model).items():
        print(f"{key}: {value:.3g}")
    dims = config["identities"]
    faces = sample_faces(model, args.per_class, rng_for(int(config["seed"]), "training_data", "test"),
                         identity_dims=(dims["shape_dim"], dims["appearance_dim"], dims["lighting_dim"]))
    started = time.perf_counter()
    images = {
        "s=1": render_faces(model, faces, config["render"]),
        "left frozen": render_faces(model, faces, config["render"], s=0.0, right=False),
        "right frozen": render_faces(model, faces, config["render"], s=0.0, right=True),
    }
    images["fliplr(s=1)"] = images["s=1"].flip(-1)
    images["fliplr(left frozen)"] = images["left frozen"].flip(-1)
    images["fliplr(right frozen)"] = images["right frozen"].flip(-1)
    print(f"rendered {3 * len(faces)} images in {time.perf_counter() - started:.1f} s, load {os.getloadavg()[0]:.1f}")
    labels = torch.as_tensor(faces.labels)
    print("classifier".ljust(14) + "".join(name.rjust(22) for name in images))
    for name in args.classifier:
        entry = classifier_entry(config, name)
        classifier = load_classifier(entry, weights=f"results/classifiers/{name}.pt", face_model=model)
        row = []
        for batch in images.values():
            probs = torch.cat([classifier.predict(part) for part in batch.split(256)])
            assert tuple(classifier.classes) == tuple(EMBEDDED_CLASSES)  # embedded classifiers only
            row.append(float((probs.argmax(1) == labels).float().mean()))
        print(name.ljust(14) + "".join(f"{value:22.3f}" for value in row))


if __name__ == "__main__":
    main()
