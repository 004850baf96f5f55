"""Experiment 1's cohort checked before any job: every manifest image is opened, and a bad one named by its line."""

from pathlib import Path

import pytest

from facesym.cohort import ManifestError
from facesym.cohort.checks import check_cohort_config
from facesym.config import load_schema, validate_config

from .test_manifest import write_cohort, write_images

SPEC = {"properties": {"palsy": "binary"}}


def _config(repo: Path) -> dict:
    schema = load_schema(repo / "workflow" / "schemas" / "config.schema.yaml")
    return validate_config({"seed": 1, "experiment1": {"cohort": "cohort.csv"}}, schema)


def _cohort(folder: Path) -> list[str]:
    names = [f"{i}.png" for i in range(12)]
    write_images(folder / "images", names)
    return ["image,subject,label,group,palsy"] + [
        f"images/{name},s{i // 2:02d},happy,{'patient' if i % 2 else 'proband'},{i % 2}" for i, name in enumerate(names)
    ]


def test_a_row_whose_file_is_not_an_image_is_named_by_its_line(tmp_path, repo):
    rows = _cohort(tmp_path)
    write_cohort(tmp_path, rows, SPEC)
    assert check_cohort_config(_config(repo), tmp_path) is not None
    (tmp_path / "images" / "notes.png").write_text("subject s01 wore glasses\n")
    rows[3] = rows[3].replace("images/2.png", "images/notes.png")
    write_cohort(tmp_path, rows, SPEC)
    with pytest.raises(ManifestError) as error:
        check_cohort_config(_config(repo), tmp_path)
    message = str(error.value)
    assert f"cohort manifest {tmp_path / 'cohort.csv'}: 1 problem" in message
    assert "line 4: image 'images/notes.png' is not an image Pillow can read" in message
