from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from facesym.cohort import ManifestError, PropertySpec, load_manifest, spec_path, write_manifest

SPEC = {
    "synthetic": False,
    "properties": {
        "palsy": {"type": "binary", "description": "unilateral facial palsy"},
        "symmetry": "continuous",
    },
}


def write_images(folder: Path, names: list[str]) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(folder / name)


def write_cohort(folder: Path, rows: list[str], spec: dict | None = None) -> Path:
    """A manifest CSV from raw text rows (header included) and its YAML beside it."""
    csv = folder / "cohort.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    spec_path(csv).write_text(yaml.safe_dump(SPEC if spec is None else spec), encoding="utf-8")
    return csv


def test_user_folder_of_images_loads_with_types(tmp_path):
    write_images(tmp_path / "images", ["a.png", "b.png", "c.png"])
    outside = tmp_path / "elsewhere"
    write_images(outside, ["d.png"])
    csv = write_cohort(
        tmp_path,
        [
            "image,subject,label,group,palsy,symmetry",
            "images/a.png,s01,happy,proband,0,0.97",
            "images/b.png,s01, Sad ,proband,0,0.95",
            f"{outside / 'd.png'},s02,neutral,patient,1,0.61",
            "images/c.png,s02,fear,patient,1,0.7",
        ],
    )
    manifest = load_manifest(csv)
    table = manifest.table
    assert list(table.columns) == ["image", "subject", "label", "group", "palsy", "symmetry"]
    assert table["image"].tolist()[0] == str(tmp_path / "images" / "a.png")
    assert table["image"].tolist()[2] == str(outside / "d.png")
    assert table["label"].tolist() == ["happy", "sad", "neutral", "fear"]
    assert table["palsy"].dtype == np.int64 and table["palsy"].tolist() == [0, 0, 1, 1]
    assert table["symmetry"].dtype == np.float64
    assert manifest.property_types == {"palsy": "binary", "symmetry": "continuous"}
    assert manifest.properties["palsy"].description == "unilateral facial palsy"
    assert manifest.synthetic is False
    assert all(Path(p).is_file() for p in table["image"])


def test_every_bad_row_is_reported_at_once_with_its_line(tmp_path):
    write_images(tmp_path / "images", ["a.png", "b.png", "c.png", "d.png", "e.png"])
    csv = write_cohort(
        tmp_path,
        [
            "image,subject,label,group,palsy,symmetry",
            "images/a.png,s01,happy,proband,0,0.97",  # line 2: fine
            "images/missing.png,s01,happy,proband,0,0.9",  # line 3: no such file
            "images/b.png,s01,joy,proband,0,0.9",  # line 4: unknown label
            "images/c.png,s02,sad,patient,2,0.8",  # line 5: not binary
            "images/d.png,s02,fear,patient,1,high",  # line 6: not a number
            "images/a.png,s03,angry,patient,1,0.5",  # line 7: duplicate of line 2
            "images/e.png,,angry,,1,",  # line 8: empty subject, group and property
        ],
    )
    with pytest.raises(ManifestError) as caught:
        load_manifest(csv)
    error = caught.value
    assert [p.line for p in error.problems] == [3, 4, 5, 6, 7, 8, 8, 8]
    message = str(error)
    assert str(csv) in message and "8 problems" in message
    assert "line 3: image 'images/missing.png' not found" in message
    assert "line 4: label 'joy' is not one of angry, disgust, fear, happy, sad, surprise, neutral" in message
    assert "line 5: property 'palsy' must be 0 or 1 (binary), got '2'" in message
    assert "line 6: property 'symmetry' must be a number, got 'high'" in message
    assert "line 7: image 'images/a.png' is already listed on line 2" in message
    assert "line 8: subject is empty" in message and "line 8: group is empty" in message
    assert "line 8: property 'symmetry' is empty" in message


def test_missing_and_undeclared_columns_are_named(tmp_path):
    write_images(tmp_path, ["a.png"])
    csv = write_cohort(tmp_path, ["image,subject,label,palsy,age", "a.png,s01,happy,1,40"])
    with pytest.raises(ManifestError) as caught:
        load_manifest(csv)
    message = str(caught.value)
    assert "missing column 'group'" in message
    assert "property 'symmetry' is declared in cohort.yaml but has no column" in message
    assert "column 'age' is not declared in cohort.yaml" in message


def test_declaration_file_problems_are_reported(tmp_path):
    write_images(tmp_path, ["a.png"])
    rows = ["image,subject,label,group,palsy", "a.png,s01,happy,proband,1"]
    csv = write_cohort(tmp_path, rows, {"properties": {"palsy": {"type": "ordinal"}}, "world": "real"})
    with pytest.raises(ManifestError) as caught:
        load_manifest(csv)
    message = str(caught.value)
    assert "unknown key 'world'" in message
    assert "property 'palsy' needs a type, one of binary, continuous" in message

    spec_path(csv).unlink()
    with pytest.raises(ManifestError, match="property declarations not found: expected .*cohort.yaml"):
        load_manifest(csv)


def test_missing_manifest_file_is_named(tmp_path):
    with pytest.raises(ManifestError, match="nowhere.csv: 1 problem\n  file not found"):
        load_manifest(tmp_path / "nowhere.csv")


def test_write_then_load_round_trip(tmp_path):
    write_images(tmp_path / "out" / "images", ["a.png", "b.png"])
    table = pd.DataFrame(
        {
            "image": [tmp_path / "out" / "images" / "a.png", "images/b.png"],
            "subject": ["s01", "s02"],
            "label": ["happy", "surprise"],
            "group": ["proband", "patient"],
            "palsy": [0, 1],
            "symmetry": [0.98, 0.62],
        }
    )
    csv = write_manifest(
        tmp_path / "out" / "cohort.csv",
        table,
        {"palsy": PropertySpec("binary", "palsy yes/no"), "symmetry": "continuous"},
        synthetic=True,
    )
    assert csv.read_text().splitlines()[1].startswith("images/a.png,")
    manifest = load_manifest(csv)
    assert manifest.synthetic is True
    assert manifest.properties == {
        "palsy": PropertySpec("binary", "palsy yes/no"),
        "symmetry": PropertySpec("continuous"),
    }
    assert manifest.table["symmetry"].tolist() == [0.98, 0.62]
    assert manifest.table["image"].tolist() == [str(tmp_path / "out" / "images" / n) for n in ("a.png", "b.png")]

    with pytest.raises(ValueError, match=r"undeclared \['age'\]"):
        write_manifest(tmp_path / "x.csv", table.assign(age=40), {"palsy": "binary", "symmetry": "continuous"})


def test_spreadsheet_csv_with_byte_order_mark_loads(tmp_path):
    write_images(tmp_path, ["a.png", "b.png"])
    csv = write_cohort(tmp_path, ["image,subject,label,group,palsy,symmetry", "a.png,s01,Happy,proband,1,0.8"])
    csv.write_bytes(b"\xef\xbb\xbf" + csv.read_bytes())
    assert load_manifest(csv).table["label"].tolist() == ["happy"]

    csv.write_text("image,subject,label,group,palsy,symmetry\nb.png,s01,,proband,1,0.8\n")
    with pytest.raises(ManifestError, match="line 2: label is empty"):
        load_manifest(csv)
