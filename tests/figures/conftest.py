"""A small synthetic run written with the pipeline's own writers: identities, expressions, surfaces,
permutation tests and the aggregated summary, in the formats of ``facesym.pipeline``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from facesym.classifiers.embedded import EMBEDDED_CLASSES
from facesym.config import load_schema, validate_config
from facesym.emotions import EMOTIONS
from facesym.face.configured import face_model_from_config
from facesym.identities import identity_names, sample_identity
from facesym.io import write_json
from facesym.io.records import Expressions, Slot, Surfaces, write_expressions, write_surfaces
from facesym.pipeline.statistics import aggregate_scores_job, permutations_job

REPO = Path(__file__).resolve().parents[2]
KINDS = ("permutations", "expressions", "surfaces")


@dataclass
class SyntheticRun:
    """Paths of the files of a synthetic run, keyed like the pipeline's wildcards."""

    root: Path
    config: dict
    classifiers: list[str]
    identities: list[str]
    softmax: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    def identity(self, identity: str) -> Path:
        return self.root / "results" / "identities" / f"{identity}.json"

    def stage(self, stage: str, classifier: str, identity: str) -> Path:
        return self.root / "results" / stage / classifier / f"{identity}.h5"

    def slot(self, classifier: str, identity: str) -> Slot:
        """Where the pipeline expects a record of (classifier, identity); the digest is not checked here."""
        return Slot(classifier, identity)

    @property
    def summary(self) -> Path:
        return self.root / "results" / "summary.csv"


def synthetic_softmax(rng: np.random.Generator, s: np.ndarray, t: np.ndarray, strength: float) -> np.ndarray:
    """Softmax ``(E, S, T, K)`` over the embedded classes: each emotion's class grows with onset and symmetry.

    Fear is made weak, so that at low symmetry its mean prediction is another class (a misclassification).
    """
    classes = list(EMBEDDED_CLASSES)
    logits = rng.normal(0.0, 0.3, size=(len(EMOTIONS), s.size, t.size, len(classes)))
    logits[..., classes.index("neutral")] += 2.0 * (1.0 - t)[None, None, :]
    for e, emotion in enumerate(EMOTIONS):
        gain = 1.2 if emotion == "fear" else 4.0
        logits[e, :, :, classes.index(emotion)] += gain * strength * t[None, :] * (0.3 + 0.7 * s[:, None])
        if emotion == "fear":
            logits[e, :, :, classes.index("sad")] += 1.5 * t[None, :]
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)


def write_run(root: Path, classifiers=("cnn_a", "cnn_b"), n_identities: int = 3, steps=(5, 7)) -> SyntheticRun:
    """Write a complete synthetic run under ``root/results``."""
    config = validate_config(
        {
            "seed": 5,
            "identities": {"count": n_identities},
            "render": {"size": 48},
            "grid": {"symmetry_steps": steps[0], "time_steps": steps[1]},
            "statistics": {"permutations": 199, "bootstrap": 50, "delta": 0.05},
        },
        load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml"),
    )
    model = face_model_from_config(config)
    run = SyntheticRun(root, config, list(classifiers), identity_names(n_identities))
    s, t = np.linspace(0, 1, steps[0]), np.linspace(0, 1, steps[1])
    rng = np.random.default_rng(0)
    classes = list(EMBEDDED_CLASSES)
    target = np.array([classes.index(e) for e in EMOTIONS])
    for name in run.identities:
        dims = {k: v for k, v in config["identities"].items() if k != "count"}
        identity = sample_identity(config["seed"], name, **dims)
        write_json(run.identity(name), identity.to_json())
    for c, classifier in enumerate(classifiers):
        for name in run.identities:
            phi = rng.uniform(-1.5, 1.5, size=(len(EMOTIONS), model.n_expression))
            reached = rng.uniform(0.5, 1.0, size=len(EMOTIONS))
            write_expressions(
                run.stage("expressions", classifier, name),
                Expressions(
                    phi=phi, reached=reached, history=np.tile(reached[:, None], (1, 3)),
                    n_evaluations=np.full(len(EMOTIONS), 30), parameters=tuple(model.expression_names), seed=1,
                    config={}, classifier=classifier, identity=name,
                ),
            )  # fmt: skip
            softmax = synthetic_softmax(rng, s, t, strength=1.0 + 0.5 * c)
            run.softmax[classifier, name] = softmax
            # the intensity-matched control: symmetric, at the mean intensity; its own generator keeps the
            # stream of the other draws as it was
            sham = synthetic_softmax(np.random.default_rng(c), np.ones_like(s), t, strength=1.0 + 0.5 * c)
            write_surfaces(
                run.stage("surfaces", classifier, name),
                Surfaces(
                    softmax=softmax, softmax_sham=sham, logits=None, logits_sham=None, target_class=target, phi=phi,
                    s=s, t=t, classes=tuple(classes), parameters=tuple(model.expression_names), seed=1, config={},
                    classifier=classifier, identity=name,
                ),
            )  # fmt: skip
            permutations_job(
                surfaces_file=run.stage("surfaces", classifier, name),
                expected=run.slot(classifier, name),
                config=config,
                output=run.stage("permutations", classifier, name),
            )
    results = root / "results"
    checks = root / "classifier_checks.csv"
    pd.DataFrame({"classifier": classifiers, "s": 1.0, "accuracy": 0.5}).to_csv(checks, index=False)
    aggregate_scores_job(
        permutation_files=[run.stage("permutations", c, i) for c in classifiers for i in run.identities],
        expression_files=[run.stage("expressions", c, i) for c in classifiers for i in run.identities],
        surface_files=[run.stage("surfaces", c, i) for c in classifiers for i in run.identities],
        checks_file=checks,
        groups={classifiers[0]: "synthetic A", **{c: "synthetic B" for c in classifiers[1:]}},
        config=config,
        outputs={
            "table2": results / "table2.csv",
            "table2_tex": results / "table2.tex",
            "table2_specific": results / "table2_specific.csv",
            "table_s1": results / "table_s1.csv",
            "summary": results / "summary.csv",
            "scores": results / "scores.csv",
        },
        expected={kind: [run.slot(c, i) for c in classifiers for i in run.identities] for kind in KINDS},
    )
    return run


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory) -> SyntheticRun:
    """One synthetic run shared by the figure tests (written once: the face model takes a second to build)."""
    return write_run(tmp_path_factory.mktemp("run"))
