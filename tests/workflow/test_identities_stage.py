import json

import pytest

pytestmark = pytest.mark.workflow


def test_identities_are_built_once_and_extended_incrementally(workflow_factory):
    wf = workflow_factory({"seed": 11, "identities": {"count": 2}})
    targets = [f"results/identities/id000{i}.json" for i in range(2)]
    wf.run(*targets)
    first = {t: wf.path(t).stat().st_mtime_ns for t in targets}
    beta = json.loads(wf.path(targets[0]).read_text())["beta"]
    assert len(beta) == 20

    # a second run has nothing to do
    assert wf.planned_jobs(*targets) == {}

    # adding identities builds only the new ones
    wf.write_config({"seed": 11, "identities": {"count": 3}})
    more = [*targets, "results/identities/id0002.json"]
    assert wf.planned_jobs(*more) == {"sample_identity": 1}
    wf.run(*more)
    assert {t: wf.path(t).stat().st_mtime_ns for t in targets} == first
    assert wf.path("results/identities/id0002.json").is_file()
    assert json.loads(wf.path(targets[0]).read_text())["beta"] == beta


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"seed": 1, "grid": {"symmetry_steps": 1}}, "grid.symmetry_steps"),
        ({"seed": 1, "identities": {"count": -2}}, "identities.count"),
        ({"seed": 1, "statistic": "slope"}, "statistic"),
        ({"seed": 1, "classifiers": [{"name": "x", "kind": "caffe"}]}, "classifiers[0] (x).kind"),
        ({"seed": "one"}, "seed"),
    ],
)
def test_bad_config_stops_before_any_job(workflow_factory, config, key):
    wf = workflow_factory(config)
    result = wf.run("results/identities/id0000.json", check=False)
    assert result.returncode != 0
    assert f"'{key}'" in result.stderr + result.stdout
    assert not wf.path("results").exists(), "no job may run on a bad config"
