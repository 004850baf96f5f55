"""Every input that can be opened cheaply is opened while the workflow is parsed: a dry run stops, naming it."""

import hashlib
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from .conftest import REPO, Workflow

pytestmark = [
    pytest.mark.workflow,
    pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:DeprecationWarning"),
]

FER = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
SIZE = 12


def _entry(name: str, kind: str, path: str, classes: list[str] = FER) -> dict:
    return {
        "name": name,
        "kind": kind,
        "path": path,
        "classes": classes,
        "input_size": SIZE,
        "color": "gray",
        "mean": [0.5],
        "std": [0.5],
    }


def _network() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(SIZE * SIZE, len(FER))).eval()


def _write_model_files(root) -> None:
    example = torch.zeros(2, 1, SIZE, SIZE)
    (root / "models").mkdir()
    (root / "models" / "readme.pt").write_text("weights: ask the first author\n")
    torch.jit.save(torch.jit.trace(_network(), example), root / "models" / "seven.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            _network(), (example,), root / "models" / "seven.onnx", dynamo=False, input_names=["x"],
            output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
        )  # fmt: skip
    data = (root / "models" / "seven.onnx").read_bytes()
    (root / "models" / "cut.onnx").write_bytes(data[: len(data) // 2])
    weights = root / "results" / "classifiers" / "cnn.pt"
    weights.parent.mkdir(parents=True)
    torch.save({"state_dict": _network().state_dict()}, weights)
    weights.write_bytes(weights.read_bytes()[:300])


def _write_malicious_flame(root) -> None:
    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {root / 'pwned'}",))

    (root / "generic_model.pkl").write_bytes(pickle.dumps({"v_template": Exploit()}, protocol=2))


def _stops_before_any_job(wf: Workflow) -> str:
    result = wf.run("results/identities/id0000.json", extra=("--dry-run",), check=False)
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert not wf.path("results/identities").exists() and not wf.path("logs").exists(), "no job may run"
    return result.stdout + result.stderr


def test_every_model_file_and_the_flame_file_are_opened_before_any_job(tmp_path):
    _write_model_files(tmp_path)
    _write_malicious_flame(tmp_path)
    classifiers = [
        _entry("text_as_torchscript", "torchscript", "models/readme.pt"),
        _entry("torchscript_six", "torchscript", "models/seven.pt", FER[:6]),
        _entry("onnx_six", "onnx", "models/seven.onnx", FER[:6]),
        _entry("truncated_onnx", "onnx", "models/cut.onnx"),
        {"name": "cnn", "kind": "embedded", "architecture": "cnn", "width": 4},
    ]
    config = {
        "seed": 1,
        "identities": {"count": 1},
        "face_model": {"kind": "flame", "path": "generic_model.pkl"},
        "classifiers": classifiers,
    }
    message = _stops_before_any_job(Workflow(tmp_path, config))
    # every problem at once, each naming the entry or key and the file
    assert "entry 'text_as_torchscript': 'path' file 'models/readme.pt' cannot be read as a TorchScript file" in message
    assert "torch.jit.save writes a zip archive and this file is not one: it is text" in message
    assert "entry 'torchscript_six': 'path' file 'models/seven.pt', run on a blank batch: " in message
    assert "scores of shape (2, 7) for a batch of 2; expected (2, 6)" in message
    assert "entry 'onnx_six': the model file 'models/seven.onnx' returns 7 scores per image but 'classes' lists 6" in (
        message
    )
    assert "entry 'truncated_onnx': 'path' file 'models/cut.onnx' cannot be read as an ONNX model" in message
    assert "entry 'cnn': the trained weights 'results/classifiers/cnn.pt' cannot be read" in message
    assert "rm results/classifiers/cnn.pt && snakemake --cores 1 results/classifiers/cnn.pt" in message
    assert "config key 'face_model.path'" in message and "refusing to load" in message
    assert not (tmp_path / "pwned").exists()


def test_a_manifest_row_that_is_not_an_image_stops_before_any_job_naming_its_line(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "images").mkdir()
    rows = ["image,subject,label,group,palsy"]
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(tmp_path / "images" / f"{i}.png")
        rows.append(f"images/{i}.png,s{i // 2:02d},happy,{'patient' if i % 2 else 'proband'},{i % 2}")
    (tmp_path / "images" / "notes.png").write_text("s03: glasses on\n")
    rows[5] = rows[5].replace("images/4.png", "images/notes.png")
    (tmp_path / "cohort.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "cohort.yaml").write_text("properties: {palsy: binary}\n")
    config = {
        "seed": 1,
        "identities": {"count": 1},
        "classifiers": [{"name": "cnn", "kind": "embedded", "architecture": "cnn", "width": 4}],
        "experiment1": {"cohort": "cohort.csv"},
    }
    message = _stops_before_any_job(Workflow(tmp_path, config))
    assert f"cohort manifest {tmp_path / 'cohort.csv'}: 1 problem" in message
    assert "line 6: image 'images/notes.png' is not an image Pillow can read" in message


BROKEN = "seed: 1\nidentities:\n  count: 2\n   shape_dim: 3\n"  # line 4 is indented under a scalar


@pytest.mark.parametrize(("content", "said"), [(BROKEN, "', line 4, column 13: not valid YAML"), ("", "' is empty")])
def test_a_broken_default_config_file_is_named_with_its_line(tmp_path, content, said):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(content)
    wf = Workflow(tmp_path, {"seed": 1})
    message = _stops_before_any_job(wf)
    assert f"config file 'config/config.yaml{said}" in message


def _run_sh_reuses_this_environment() -> bool:
    """run.sh reinstalls a virtual environment whose stamp differs from pyproject.toml; a test must not."""
    stamp = os.path.join(sys.prefix, ".facesym-installed")
    want = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()
    return os.path.isfile(stamp) and open(stamp).read().strip() == want


@pytest.mark.skipif(not _run_sh_reuses_this_environment(), reason="run.sh would reinstall this environment")
@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("broken.yaml", BROKEN, "broken.yaml', line 4, column 13: not valid YAML: mapping values are not allowed"),
        ("empty.yaml", "", "empty.yaml' is empty"),
        ("missing.yaml", None, "missing.yaml' does not exist"),
    ],
)
def test_a_broken_configfile_is_one_line_naming_the_file(tmp_path, name, content, said):
    if content is not None:
        (tmp_path / name).write_text(content)
    command = [
        str(REPO / "run.sh"), "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
        "--cores", "1", "--dry-run", "results/identities/id0000.json", "--configfile", str(tmp_path / name),
    ]  # fmt: skip
    env = {**os.environ, "FACESYM_VENV": sys.prefix}
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode != 0
    said_lines = [line for line in result.stderr.splitlines() if not line.startswith("run.sh: ")]
    assert len(said_lines) == 1, result.stderr
    assert said_lines[0].startswith(f"facesym: config file '{tmp_path}/{said}"), result.stderr
    assert not (tmp_path / ".snakemake").exists(), "snakemake did not start"
