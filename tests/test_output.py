from __future__ import annotations

import os
from pathlib import Path

import pytest

from nndiagram.output import write_atomic


def test_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a.txt", "x")
    finally:
        os.umask(umask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644


def test_existing_file_keeps_its_mode_and_no_temp_is_left(tmp_path: Path) -> None:
    target = tmp_path / "b.txt"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, b"new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["b.txt"]


def test_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "c.txt"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_atomic(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["c.txt"]


def test_a_failed_write_removes_the_folders_it_created(tmp_path: Path) -> None:
    (tmp_path / "kept").mkdir()
    with pytest.raises(TypeError):
        write_atomic(tmp_path / "kept" / "a" / "b" / "out.svg", 42)  # type: ignore[arg-type]
    assert [p.name for p in tmp_path.rglob("*")] == ["kept"]


def test_a_write_into_new_folders_creates_them(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a" / "b" / "out.svg", "<svg/>")
    assert (tmp_path / "a" / "b" / "out.svg").read_text() == "<svg/>"
