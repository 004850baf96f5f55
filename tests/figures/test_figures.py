"""Each figure from a small synthetic run: a non-empty PDF and PNG, and the CSV of plotted values equal to the
values in the HDF5 files they were drawn from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from facesym.emotions import EMOTIONS
from facesym.figures import (
    EMOTION_COLORS,
    derivative_along_s,
    onset_indices,
    surface_figure,
    symmetry_curves,
    write_figure,
)
from facesym.io import read_h5
from facesym.pipeline.figures import (
    expressions_figure_job,
    surface_figure_job,
    symmetry_figure_job,
    table2_figure_job,
)
from facesym.stats import impact_score


def outputs(folder, name, html=False):
    paths = {kind: folder / f"{name}.{kind}" for kind in ("pdf", "png", "csv")}
    if html:
        paths["html"] = folder / f"{name}.html"
    return paths


def assert_figure_files(paths) -> pd.DataFrame:
    """PDF and PNG exist and are real images; returns the plotted values."""
    assert paths["pdf"].read_bytes().startswith(b"%PDF")
    with Image.open(paths["png"]) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert width > 400 and height > 200
        # not a blank canvas
        assert np.asarray(image.convert("L")).std() > 5
    assert not list(paths["png"].parent.glob(".*tmp*")), "temporary files left behind"
    return pd.read_csv(paths["csv"], keep_default_na=False, na_values=["", "nan", "NaN"])


def test_every_emotion_has_a_colour():
    assert set(EMOTIONS) <= set(EMOTION_COLORS)


def test_fig3_values_are_the_surface_and_its_gradient(synthetic_run, tmp_path):
    run = synthetic_run
    paths = outputs(tmp_path, "fig3")
    surface_figure_job(
        surfaces_file=run.stage("surfaces", "cnn_b", "id0001"),
        permutations_file=run.stage("permutations", "cnn_b", "id0001"),
        emotion="sad",
        spacing="step",
        outputs=paths,
        expected={"surfaces": run.slot("cnn_b", "id0001"), "permutations": run.slot("cnn_b", "id0001")},
    )
    values = assert_figure_files(paths)
    surfaces = read_h5(run.stage("surfaces", "cnn_b", "id0001"), kind="surfaces")
    e = list(EMOTIONS).index("sad")
    expected = surfaces.data["softmax"][e, :, :, surfaces.data["target_class"][e]]
    n_s, n_t = expected.shape
    plotted = values["F"].to_numpy().reshape(n_s, n_t)
    np.testing.assert_allclose(plotted, expected, rtol=1e-7)
    np.testing.assert_allclose(values["s"].to_numpy().reshape(n_s, n_t)[:, 0], surfaces.coords["s"])
    np.testing.assert_allclose(values["t"].to_numpy().reshape(n_s, n_t)[0], surfaces.coords["t"])
    derivative = values["dF_ds"].to_numpy().reshape(n_s, n_t)
    np.testing.assert_allclose(derivative, np.gradient(expected.astype(np.float64), axis=0), rtol=1e-6, atol=1e-9)
    # the map's mean is the identity's impact score in the permutations file (Eq. 6)
    permutations = read_h5(run.stage("permutations", "cnn_b", "id0001"), kind="permutations")
    assert derivative.mean() == pytest.approx(permutations.data["score"][e], abs=1e-7)
    assert set(values["emotion"]) == {"sad"} and set(values["identity"]) == {"id0001"}


def test_derivative_per_unit_of_s_is_the_step_derivative_times_steps():
    s = np.linspace(0, 1, 6)
    surface = np.random.default_rng(1).random((6, 4))
    step = derivative_along_s(surface, s, "step")
    np.testing.assert_allclose(derivative_along_s(surface, s, "unit"), step * 5)
    assert step.mean() == pytest.approx(impact_score(surface))
    with pytest.raises(ValueError, match="spacing"):
        derivative_along_s(surface, s, "per-step")


@pytest.mark.parametrize("n_t", [1, 2, 90])
def test_surface_axes_span_the_grid_domain_and_no_more(n_t):
    s, t = np.linspace(0, 1, 3), np.linspace(0, 1, n_t) if n_t > 1 else np.ones(1)
    surface = np.full((3, n_t), 0.5)
    figure = surface_figure(s, t, surface, derivative_along_s(surface, s), emotion="happy", classifier="c",
                            identity="i")  # fmt: skip
    for ax in figure.axes[:2]:
        assert ax.get_xlim() == (0.0, 1.0)
        assert ax.get_ylim()[1] == 1.0 and ax.get_ylim()[0] == (0.0 if n_t > 1 else 0.5)


def test_surface_figure_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\(S, T\)"):
        surface_figure(np.linspace(0, 1, 3), np.linspace(0, 1, 4), np.zeros((4, 3)), np.zeros((4, 3)),
                       emotion="happy", classifier="c", identity="i")  # fmt: skip


def test_fig5_values_are_mean_and_std_over_identities_at_full_onset(synthetic_run, tmp_path):
    run = synthetic_run
    paths = outputs(tmp_path, "fig5")
    files = [run.stage("surfaces", "cnn_a", identity) for identity in run.identities]
    symmetry_figure_job(
        surfaces_files=files, outputs=paths, expected=[run.slot("cnn_a", identity) for identity in run.identities]
    )
    values = assert_figure_files(paths)
    contents = [read_h5(path, kind="surfaces") for path in files]
    softmax = np.stack([c.data["softmax"] for c in contents]).astype(np.float64)  # (N, E, S, T, K)
    target = contents[0].data["target_class"]
    classes = list(contents[0].coords["class"])
    n_s = softmax.shape[2]
    assert len(values) == len(EMOTIONS) * n_s
    assert (values["t"] == 1.0).all() and (values["n_identities"] == len(files)).all()
    for e, emotion in enumerate(EMOTIONS):
        rows = values[values["emotion"] == emotion].sort_values("s")
        own = softmax[:, e, :, -1, target[e]]  # (N, S) at t = 1
        np.testing.assert_allclose(rows["s"], contents[0].coords["s"])
        np.testing.assert_allclose(rows["mean"], own.mean(axis=0), rtol=1e-7)
        np.testing.assert_allclose(rows["std"], own.std(axis=0, ddof=1), rtol=1e-6)
        predicted = softmax[:, e, :, -1, :].mean(axis=0).argmax(axis=-1)
        assert list(rows["predicted_class"]) == [classes[k] for k in predicted]
        assert list(rows["misclassified"]) == list(predicted != target[e])
        sham = np.stack([c.data["softmax_sham"][e, :, -1, target[e]] for c in contents]).astype(np.float64)
        np.testing.assert_allclose(rows["sham_mean"], sham.mean(axis=0), rtol=1e-6)  # the control's curve
    # the synthetic fear is weak: misclassified at least at the lowest symmetry; happy is not at full symmetry
    fear = values[values["emotion"] == "fear"].sort_values("s")
    assert fear["misclassified"].iloc[0]
    assert not values[(values["emotion"] == "happy") & (values["s"] == 1.0)]["misclassified"].iloc[0]


def test_fig5_marks_a_misclassification_by_the_mean_not_by_each_identity():
    # two identities, one class-0 emotion: identity 1 says class 1 strongly, identity 2 class 0 weakly
    softmax = np.array([[[[0.1, 0.9]]], [[[0.6, 0.4]]]])  # (N = 2, E = 1, S = 1, K = 2)
    curves = symmetry_curves(softmax, [0], np.array([1.0]), ["happy"], ["happy", "other"], "c")
    assert curves.loc[0, "predicted_class"] == "other" and curves.loc[0, "misclassified"]
    assert curves.loc[0, "mean"] == pytest.approx(0.35)
    single = symmetry_curves(softmax[:1], [0], np.array([1.0]), ["happy"], ["happy", "other"], "c")
    assert single.loc[0, "std"] == 0.0


def test_fig5_refuses_surfaces_of_another_classifier(synthetic_run, tmp_path):
    run = synthetic_run
    files = [run.stage("surfaces", "cnn_a", "id0000"), run.stage("surfaces", "cnn_b", "id0001")]
    with pytest.raises(OSError, match=r"cnn_b/id0001\.h5: its classifier is 'cnn_b', but .* expects 'cnn_a'"):
        symmetry_figure_job(
            surfaces_files=files,
            outputs=outputs(tmp_path, "fig5"),
            expected=[run.slot("cnn_a", "id0000"), run.slot("cnn_a", "id0001")],
        )
    assert not (tmp_path / "fig5.png").exists()


def test_table2_values_are_the_summary(synthetic_run, tmp_path):
    run = synthetic_run
    paths = outputs(tmp_path, "table2", html=True)
    table2_figure_job(summary_file=run.summary, statistics=run.config["statistics"], outputs=paths)
    values = assert_figure_files(paths)
    summary = pd.read_csv(run.summary)
    merged = summary.merge(values, on=["classifier", "emotion"], suffixes=("", "_plotted"))
    assert len(merged) == len(summary) == len(values)
    np.testing.assert_allclose(merged["mean_score_plotted"], merged["mean_score"], rtol=1e-9)
    assert (merged["n_significant_plotted"] == merged["n_significant"]).all()
    assert (values["majority_significant"] == (values["n_significant"] > values["n_identities"] / 2)).all()
    # the synthetic run has both kinds of cells, so the marking is exercised
    assert values["majority_significant"].any() and not values["majority_significant"].all()
    assert list(values["classifier"].unique()) == run.classifiers
    page = paths["html"].read_text()
    for _, row in summary.iterrows():
        assert f"{row['mean_score']:.3g}" in page
    assert "synthetic B" in page


def test_fig2_panels_show_the_optimised_expressions_and_the_onset(synthetic_run, tmp_path):
    run = synthetic_run
    paths = outputs(tmp_path, "fig2")
    expressions_figure_job(
        identity_file=run.identity("id0002"),
        expressions_file=run.stage("expressions", "cnn_a", "id0002"),
        surfaces_file=run.stage("surfaces", "cnn_a", "id0002"),
        config=run.config,
        onset_emotion="happy",
        n_onset=4,
        render_size=None,
        outputs=paths,
        expected={"expressions": run.slot("cnn_a", "id0002"), "surfaces": run.slot("cnn_a", "id0002")},
    )
    values = assert_figure_files(paths)
    expressions = read_h5(run.stage("expressions", "cnn_a", "id0002"), kind="expressions")
    surfaces = read_h5(run.stage("surfaces", "cnn_a", "id0002"), kind="surfaces")
    softmax, target = surfaces.data["softmax"], surfaces.data["target_class"]
    classes = list(surfaces.coords["class"])
    phi_columns = [f"phi_{name}" for name in expressions.coords["parameter"]]

    top = values[values["row"] == "optimised"].reset_index(drop=True)
    assert list(top["emotion"]) == ["neutral", *EMOTIONS]
    # φ = 0 renders the same at every onset; its probabilities are those of the t = 0 column
    assert (top["s"] == 1.0).all() and list(top["t"]) == [0.0] + [1.0] * len(EMOTIONS)
    np.testing.assert_array_equal(top.loc[0, phi_columns].to_numpy(float), 0.0)
    np.testing.assert_allclose(top.loc[1:, phi_columns].to_numpy(float), expressions.data["phi"], rtol=1e-8)
    for e, emotion in enumerate(EMOTIONS):
        scores = softmax[e, -1, -1]
        row = top[top["emotion"] == emotion].iloc[0]
        assert row["probability"] == pytest.approx(scores[target[e]], rel=1e-6)
        assert row["predicted_class"] == classes[int(np.argmax(scores))]
    # neutral: phi = 0 is the t = 0 column of any surface
    assert top.loc[0, "probability"] == pytest.approx(softmax[0, -1, 0, classes.index("neutral")], rel=1e-6)

    strip = values[values["row"] == "onset"]
    happy = list(EMOTIONS).index("happy")
    steps = onset_indices(len(surfaces.coords["t"]), 4)
    assert (strip["s"] == 0.0).all() and (strip["emotion"] == "happy").all()
    np.testing.assert_allclose(strip["t"], surfaces.coords["t"][steps])
    np.testing.assert_allclose(strip["probability"], softmax[happy, 0, steps, target[happy]], rtol=1e-6)
    np.testing.assert_allclose(strip[phi_columns].to_numpy(float), np.tile(expressions.data["phi"][happy], (4, 1)))


def test_fig2_refuses_files_of_different_identities(synthetic_run, tmp_path):
    run = synthetic_run
    with pytest.raises(OSError, match=r"cnn_a/id0001\.h5: its identity is 'id0001', but .* expects 'id0000'"):
        expressions_figure_job(
            identity_file=run.identity("id0000"),
            expressions_file=run.stage("expressions", "cnn_a", "id0000"),
            surfaces_file=run.stage("surfaces", "cnn_a", "id0001"),
            config=run.config,
            onset_emotion="happy",
            n_onset=3,
            render_size=None,
            outputs=outputs(tmp_path, "fig2"),
            expected={"expressions": run.slot("cnn_a", "id0000"), "surfaces": run.slot("cnn_a", "id0000")},
        )


@pytest.mark.parametrize(("n_time", "n_panels", "expected"), [(90, 7, [0, 15, 30, 44, 59, 74, 89]), (3, 7, [0, 1, 2]),
                                                              (1, 7, [0]), (5, 2, [0, 4])])  # fmt: skip
def test_onset_strip_uses_grid_steps_from_first_to_last(n_time, n_panels, expected):
    assert onset_indices(n_time, n_panels).tolist() == expected


def test_writer_needs_values_and_csv_together(tmp_path):
    from facesym.figures.style import new_figure

    figure = new_figure(2, 2)
    with pytest.raises(ValueError, match="both"):
        write_figure(figure, png=tmp_path / "a.png", values=pd.DataFrame({"x": [1]}))
    write_figure(figure, pdf=tmp_path / "a.pdf")
    assert (tmp_path / "a.pdf").stat().st_size > 0 and not (tmp_path / "a.png").exists()
