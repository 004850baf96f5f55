"""The figure rules and ``snakemake --report`` on the tiny config of the workflow tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from workflow.conftest import Workflow
from workflow.test_interventions import TINY

from facesym.emotions import EMOTIONS
from facesym.identities import identity_names
from facesym.io import read_h5

pytestmark = pytest.mark.workflow

CLASSIFIER = TINY["classifiers"][0]["name"]
IDENTITIES = identity_names(TINY["identities"]["count"])


@pytest.fixture(scope="module")
def figures_run(tmp_path_factory):
    """The tiny run with every default figure, one extra Fig. 3 case named by its path, and the HTML report."""
    wf = Workflow(tmp_path_factory.mktemp("figures"), TINY)
    targets = [
        f"results/figures/fig2_expressions_{CLASSIFIER}_{IDENTITIES[0]}.pdf",
        f"results/figures/fig3_surface_{CLASSIFIER}_{IDENTITIES[0]}_happy.pdf",
        f"results/figures/fig5_symmetry_{CLASSIFIER}.pdf",
        "results/figures/table2_heatmap.pdf",
    ]
    extra = f"results/figures/fig3_surface_{CLASSIFIER}_{IDENTITIES[-1]}_sad.pdf"
    wf.run(*targets, extra)
    wf.run(*targets, extra=("--report", "report.html"))
    return wf, [*targets, extra]


def test_every_figure_is_written_with_png_and_values(figures_run):
    wf, targets = figures_run
    assert len(targets) == 5
    for target in targets:
        for suffix in (".pdf", ".png", ".csv"):
            path = wf.path(target).with_suffix(suffix)
            assert path.stat().st_size > 100, path
    assert wf.path("results/figures/table2.html").stat().st_size > 100


def test_plotted_values_equal_the_pipeline_files(figures_run):
    wf, _ = figures_run
    surfaces = [read_h5(wf.path(f"results/surfaces/{CLASSIFIER}/{i}.h5"), kind="surfaces") for i in IDENTITIES]
    target = surfaces[0].data["target_class"]
    happy = EMOTIONS.index("happy")

    fig5 = pd.read_csv(wf.path(f"results/figures/fig5_symmetry_{CLASSIFIER}.csv"))
    own = np.stack([c.data["softmax"][happy, :, -1, target[happy]] for c in surfaces])
    rows = fig5[fig5["emotion"] == "happy"].sort_values("s")
    np.testing.assert_allclose(rows["mean"], own.mean(axis=0), rtol=1e-6)

    fig3 = pd.read_csv(wf.path(f"results/figures/fig3_surface_{CLASSIFIER}_{IDENTITIES[0]}_happy.csv"))
    expected = surfaces[0].data["softmax"][happy, :, :, target[happy]]
    np.testing.assert_allclose(fig3["F"].to_numpy().reshape(expected.shape), expected, rtol=1e-6)

    heat = pd.read_csv(wf.path("results/figures/table2_heatmap.csv"))
    table2 = pd.read_csv(wf.path("results/table2.csv")).set_index("classifier")
    for emotion in EMOTIONS:
        plotted = heat[(heat["classifier"] == CLASSIFIER) & (heat["emotion"] == emotion)]["mean_score"].item()
        assert plotted == pytest.approx(table2.loc[CLASSIFIER, emotion], rel=1e-5, abs=1e-12)


def test_report_shows_the_figures_captions_and_config(figures_run):
    wf, _ = figures_run
    page = wf.path("report.html").read_text(encoding="utf-8")
    for text in ("Optimised expressions", "Activation surface and its symmetry derivative",
                 "Activation against symmetry", "Impact scores per classifier", "Configuration used"):  # fmt: skip
        assert text in page, text
    # the validated config is printed on the front page, defaults included
    assert "images_per_class" in page and CLASSIFIER in page
