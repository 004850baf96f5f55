import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from facesym.config import ConfigError, classifier_entry, load_schema, validate_config

REPO = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")


def default_config() -> dict:
    with open(REPO / "config" / "config.yaml") as fh:
        return yaml.safe_load(fh)


def test_default_config_is_valid_and_completed_with_defaults():
    config = validate_config(default_config(), SCHEMA)
    assert config["grid"] == {"symmetry_steps": 10, "time_steps": 90}
    # keys absent from the file come from the schema's defaults
    assert config["expressions"]["bound"] == 3.0
    assert config["training"]["epochs"] >= 1


def test_minimal_config_gets_every_section():
    config = validate_config({"seed": 3}, SCHEMA)
    for section in ("face_model", "identities", "render", "grid", "statistics", "expressions", "training"):
        assert isinstance(config[section], dict), section
    assert config["statistics"]["statistic"] == "gradient"


def test_validation_does_not_modify_its_input():
    raw = {"seed": 3}
    validate_config(raw, SCHEMA)
    assert raw == {"seed": 3}


@pytest.mark.parametrize(
    ("change", "key", "expected"),
    [
        (lambda c: c["grid"].update(symmetry_steps=1), "grid.symmetry_steps", "minimum of 2"),
        (lambda c: c["identities"].update(count=-3), "identities.count", "minimum of 1"),
        (lambda c: c["grid"].update(time_steps="ninety"), "grid.time_steps", "not of type 'integer'"),
        (lambda c: c.update(seeds=5), "seeds", "not a known key"),
        (lambda c: c["statistics"].update(permutaions=10), "statistics.permutaions", "not a known key"),
        (lambda c: c["statistics"].update(delta=1.5), "statistics.delta", "1.5"),
        (lambda c: c["render"].update(size=12), "render.size", "minimum of 48"),
        (lambda c: c.update(device="tpu"), "device", "'tpu' is not one of"),
        (
            lambda c: c.update(classifiers=[{"name": "mine", "kind": "tensorflow"}]),
            "classifiers[0] (mine).kind",
            "'tensorflow' is not one of",
        ),
        (
            lambda c: c.update(classifiers=[{"name": "ts", "kind": "torchscript", "classes": ["a", "b"]}]),
            "classifiers[0] (ts).path",
            "required",
        ),
        (lambda c: c.update(face_model={"kind": "flame"}), "face_model.path", "required when kind = flame"),
        (lambda c: c.pop("seed"), "seed", "required"),
    ],
)
def test_bad_config_names_the_key(change, key, expected):
    config = default_config()
    change(config)
    with pytest.raises(ConfigError) as info:
        validate_config(config, SCHEMA)
    message = str(info.value)
    assert f"'{key}'" in message
    assert expected in message


def test_all_problems_are_reported_at_once():
    config = default_config()
    config["grid"]["symmetry_steps"] = 0
    config["identities"]["count"] = 0
    with pytest.raises(ConfigError) as info:
        validate_config(config, SCHEMA)
    assert "grid.symmetry_steps" in str(info.value)
    assert "identities.count" in str(info.value)


def test_duplicate_classifier_names_are_rejected():
    entry = {"name": "a", "kind": "embedded", "architecture": "cnn"}
    with pytest.raises(ConfigError, match=r"classifiers\[1\]\.name.*already used"):
        validate_config({"seed": 1, "classifiers": [entry, dict(entry)]}, SCHEMA)


def real_entry(**changes) -> dict:
    entry = {
        "name": "real",
        "kind": "torchscript",
        "path": "model.pt",
        "classes": ["Anger", "Disgust", "Fear", "Happiness", "Neutral", "Sadness", "Surprise"],
        "input_size": 48,
        "color": "gray",
        "mean": [0.5],
        "std": [0.5],
    }
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not None}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"mean": None}, r"classifiers\[0\] \(real\)\.mean.*required"),
        ({"std": None}, r"classifiers\[0\] \(real\)\.std.*required"),
        ({"output": "softmax"}, r"classifiers\[0\] \(real\)\.output.*'softmax' is not one of"),
        ({"kwargs": [1, 2]}, r"classifiers\[0\] \(real\)\.kwargs.*not of type 'object'"),
        ({"classes": ["angry", "happy"]}, r"entry 'real': no class maps onto \['disgust', 'fear', 'sad', 'surprise'\]"),
        ({"classes": ["angry", "happy", "joy"] + ["disgust", "fear", "sad", "surprise"]}, r"entry 'real': class 'joy'"),
        ({"mean": [0.5, 0.5]}, r"entry 'real': 'mean' has 2 values but 'color: gray' has 1"),
        ({"emotion_map": {"Smile": "happy"}}, r"entry 'real': 'emotion_map' names class 'Smile'"),
    ],
)
def test_bad_real_classifier_entry_stops_validation(changes, expected):
    with pytest.raises(ConfigError, match=expected):
        validate_config({"seed": 1, "classifiers": [real_entry(**changes)]}, SCHEMA)


def test_real_classifier_entry_gets_output_default():
    config = validate_config({"seed": 1, "classifiers": [real_entry()]}, SCHEMA)
    assert config["classifiers"][0]["output"] == "logits"


def test_unknown_embedded_architecture_is_named():
    entry = {"name": "a", "kind": "embedded", "architecture": "transformer"}
    with pytest.raises(ConfigError, match=r"classifiers\[0\] \(a\)\.architecture.*'transformer' is not one of"):
        validate_config({"seed": 1, "classifiers": [entry]}, SCHEMA)


def test_missing_input_file_is_named(tmp_path):
    config = {"seed": 1, "classifiers": [real_entry(path="models/missing.pt")]}
    with pytest.raises(ConfigError, match=r"classifiers\[0\] \(real\)\.path.*models/missing.pt.*does not exist"):
        validate_config(config, SCHEMA, base_dir=tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "missing.pt").write_bytes(b"x")
    # the file is there now, and opened: one byte is no TorchScript archive
    with pytest.raises(ConfigError) as error:
        validate_config(config, SCHEMA, base_dir=tmp_path)
    assert "does not exist" not in str(error.value)
    assert "'path' file 'models/missing.pt' cannot be read as a TorchScript file" in str(error.value)


def test_a_flame_file_that_asks_to_run_code_stops_validation(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (tmp_path / "generic_model.pkl").write_bytes(pickle.dumps({"v_template": Exploit()}, protocol=2))
    config = {"seed": 1, "face_model": {"kind": "flame", "path": "generic_model.pkl"}}
    with pytest.raises(ConfigError, match=r"config key 'face_model.path': .*generic_model.pkl: refusing to load"):
        validate_config(config, SCHEMA, base_dir=tmp_path)
    assert not marker.exists()


def test_classifier_entry_by_name():
    config = validate_config(
        {"seed": 1, "classifiers": [{"name": "a", "kind": "embedded", "architecture": "cnn"}]}, SCHEMA
    )
    assert classifier_entry(config, "a")["architecture"] == "cnn"
    with pytest.raises(KeyError, match="no classifier named 'b'"):
        classifier_entry(config, "b")


def test_expressions_method_cmaes_validates_and_leaves_de_defaults_alone():
    config = default_config()
    config["expressions"] = {"method": "cmaes", "sigma0": 0.2}
    expressions = validate_config(config, SCHEMA)["expressions"]
    assert expressions["method"] == "cmaes" and expressions["sigma0"] == 0.2
    assert expressions["population"] == 24 and expressions["generations"] == 20
    # the default config's section (a DE job's parameters) gains no CMA-ES key
    assert "sigma0" not in validate_config(default_config(), SCHEMA)["expressions"]


def test_expressions_method_gradient_validates_and_leaves_de_defaults_alone():
    config = default_config()
    config["expressions"] = {"method": "gradient", "starts": 4, "learning_rate": 0.2}
    expressions = validate_config(config, SCHEMA)["expressions"]
    assert (expressions["method"], expressions["starts"], expressions["learning_rate"]) == ("gradient", 4, 0.2)
    default = validate_config(default_config(), SCHEMA)["expressions"]
    assert "starts" not in default and "learning_rate" not in default


@pytest.mark.parametrize(
    ("section", "key", "expected"),
    [
        ({"method": "nelder-mead"}, "expressions.method", "'nelder-mead' is not one of ['de', 'cmaes', 'gradient']"),
        ({"method": "cmaes", "sigma0": 0}, "expressions.sigma0", "less than or equal to the minimum of 0"),
        ({"method": "gradient", "starts": 0}, "expressions.starts", "less than the minimum of 1"),
        ({"method": "gradient", "learning_rate": 0}, "expressions.learning_rate", "less than or equal to the minimum"),
    ],
)
def test_bad_expressions_method_names_the_key(section, key, expected):
    config = default_config()
    config["expressions"] = section
    with pytest.raises(ConfigError) as info:
        validate_config(config, SCHEMA)
    assert f"'{key}'" in str(info.value)
    assert expected in str(info.value)


def test_population_resolution_warns_below_eight_identities():
    from facesym.config import population_resolution_warning

    four = validate_config({"seed": 1, "identities": {"count": 4}}, SCHEMA)
    message = population_resolution_warning(four)
    assert "'identities.count' (4)" in message and "0.125" in message and "8 identities" in message
    eight = validate_config({"seed": 1, "identities": {"count": 8}}, SCHEMA)
    assert population_resolution_warning(eight) is None


def test_validating_a_flame_config_reads_the_file_without_importing_torch(tmp_path):
    # the workflow validates on every Snakemake invocation; torch's import costs seconds
    n = 6
    arrays = {key: np.zeros((n, 3)) for key in ("v_template", "shapedirs", "posedirs", "J_regressor", "weights")}
    (tmp_path / "generic_model.pkl").write_bytes(pickle.dumps({**arrays, "f": [], "kintree_table": []}, protocol=2))
    code = (
        "import sys; from facesym.config import load_schema, validate_config; "
        f"validate_config({{'seed': 1, 'face_model': {{'kind': 'flame', 'path': 'generic_model.pkl'}}}}, "
        f"load_schema({str(REPO / 'workflow' / 'schemas' / 'config.schema.yaml')!r}), base_dir={str(tmp_path)!r}); "
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
