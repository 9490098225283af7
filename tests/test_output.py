from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import RunCli

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


def test_a_writer_killed_with_sigkill_leaves_a_file_the_next_run_removes(
    tmp_path: Path, run_cli: RunCli
) -> None:
    """Issue 19: render left a complete .tmp beside the output in 1 of 30 kills. kill -9 gives
    no chance to clean up, so the temporary name carries the writer's pid and the next write
    of that target removes the files of writers that are gone (never a live writer's)."""
    spec = tmp_path / "net.yaml"
    spec.write_text("inputs: 2\nlayers:\n  - units: 1\n", encoding="utf-8")
    target = tmp_path / "out.svg"
    target.write_text("old")
    script = (
        "import time\n"
        "from nndiagram.output import write_atomic\n"
        "def slow(handle):\n"
        "    handle.write(b'<svg>half'); handle.flush(); print('writing', flush=True)\n"
        "    time.sleep(120)\n"
        f"write_atomic({str(target)!r}, slow)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "writing\n"
        (leftover,) = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert leftover.name.startswith(f".out.svg.{child.pid}.")
        write_atomic(target, b"<svg>meanwhile</svg>")  # a live writer's file is not touched
        assert leftover.exists()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        if child.stdout is not None:
            child.stdout.close()
    assert leftover.exists() and target.read_bytes() == b"<svg>meanwhile</svg>"
    result = run_cli("render", str(spec), "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml", "out.svg"]
    assert target.read_text().lstrip().startswith("<?xml")


def test_the_sweep_leaves_other_files_alone(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    others = [".a.txt.tmp", ".a.txt.x1.tmp", ".b.txt.999999999.abc.tmp", "a.txt.1.tmp"]
    for name in others:
        (tmp_path / name).write_text("keep")
    own_pid = tmp_path / f".a.txt.{os.getpid()}.abc.tmp"  # this process: alive
    own_pid.write_text("keep")
    write_atomic(target, "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*others, own_pid.name, "a.txt"])
