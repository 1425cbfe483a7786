"""Assembling a packaged model from its parts: size and SHA-256 checked, atomically."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from familiar.errors import ModelNotFound
from familiar_hub.models import _join


def _parts(tmp_path: Path) -> tuple[list[Path], bytes]:
    data = [b"first part ", b"second part"]
    paths = []
    for index, chunk in enumerate(data):
        path = tmp_path / f"part{index}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    return paths, b"".join(data)


def test_a_good_join_is_kept_with_its_digest(tmp_path: Path) -> None:
    parts, whole = _parts(tmp_path)
    digest = hashlib.sha256(whole).hexdigest()
    target = tmp_path / "out" / "model.bin"
    assert _join(target, parts, len(whole), digest, {}) == target
    assert target.read_bytes() == whole
    assert (tmp_path / "out" / "model.bin.sha256").read_text().strip() == digest
    parts[0].write_bytes(b"changed afterwards")  # a verified model is not re-read or re-joined
    assert _join(target, parts, len(whole), digest, {}).read_bytes() == whole


def test_a_corrupt_part_leaves_no_model_behind(tmp_path: Path) -> None:
    parts, whole = _parts(tmp_path)
    digest = hashlib.sha256(whole).hexdigest()
    parts[1].write_bytes(b"second pXrt")  # same size, other bytes
    target = tmp_path / "out" / "model.bin"
    with pytest.raises(ModelNotFound, match="SHA-256"):
        _join(target, parts, len(whole), digest, {})
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == []


def test_an_unverified_model_of_the_right_size_is_joined_again(tmp_path: Path) -> None:
    parts, whole = _parts(tmp_path)
    digest = hashlib.sha256(whole).hexdigest()
    target = tmp_path / "model.bin"
    target.write_bytes(b"x" * len(whole))  # e.g. left by an older version: no digest stamp
    assert _join(target, parts, len(whole), digest, {}).read_bytes() == whole
