"""`nndiagram render` through the installed console script."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import DIAGRAMS, RunCli

XOR = str(DIAGRAMS / "xor.yaml")


def _one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.mark.exe
@pytest.mark.parametrize(
    ("name", "magic"),
    [("x.svg", b"<?xml"), ("x.png", b"\x89PNG"), ("x.pdf", b"%PDF-"), ("x.dot", b"digraph G {")],
)
def test_format_comes_from_the_suffix(
    run_cli: RunCli, tmp_path: Path, name: str, magic: bytes
) -> None:
    out = tmp_path / name
    result = run_cli("render", XOR, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(magic)


@pytest.mark.exe
def test_format_option_wins_over_the_suffix(run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "figure.out"
    assert run_cli("render", XOR, "-o", str(out), "--format", "pdf").returncode == 0
    assert out.read_bytes().startswith(b"%PDF-")


@pytest.mark.exe
def test_default_output_is_the_spec_stem_in_the_current_directory(
    run_cli: RunCli, tmp_path: Path
) -> None:
    result = run_cli("render", XOR, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    ET.parse(tmp_path / "xor.svg")
    result = run_cli("render", XOR, "--format", "png", cwd=tmp_path)
    assert (tmp_path / "xor.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.exe
def test_dash_writes_svg_to_stdout(run_cli: RunCli) -> None:
    result = run_cli("render", XOR, "-o", "-")
    assert result.returncode == 0
    assert "z_1_0" in result.stdout
    ET.fromstring(result.stdout.encode("utf-8"))


def test_view_theme_and_labels_options(run_cli: RunCli) -> None:
    args = ("render", str(DIAGRAMS / "mnist-mlp.yaml"), "-o", "-", "--format", "dot")
    layers = run_cli(*args).stdout
    network = run_cli(*args, "--view", "network").stdout
    assert 'ℝ<SUP><FONT POINT-SIZE="8.6">128×784</FONT></SUP>' in layers
    assert "z_0_127" in network
    dark = run_cli(*args, "--theme", "dark").stdout
    assert "#e6e6e6" in dark and "#e6e6e6" not in layers
    plain = run_cli(*args, "--labels", "plain").stdout
    assert "<SUP>" not in plain and "W^[0] ∈ ℝ^128×784" in plain


def test_bad_format_exits_2_with_one_line(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("render", XOR, "--format", "gif")
    assert result.returncode == 2
    assert "gif" in _one_line_error(result.stderr)
    result = run_cli("render", XOR, "-o", str(tmp_path / "x.jpg"))
    assert result.returncode == 2
    assert "--format" in _one_line_error(result.stderr)
    assert not (tmp_path / "x.jpg").exists()


def test_missing_spec_exits_2_with_one_line(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("render", str(tmp_path / "nope.yaml"), "-o", str(tmp_path / "x.svg"))
    assert result.returncode == 2
    assert "nope.yaml" in _one_line_error(result.stderr)
    assert not (tmp_path / "x.svg").exists()


def test_missing_graphviz_exits_2_and_keeps_the_old_file(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "x.svg"
    out.write_text("old")
    monkeypatch.setenv("PATH", str(tmp_path))  # the console script is run by absolute path
    result = run_cli("render", XOR, "-o", str(out))
    assert result.returncode == 2
    assert "install" in _one_line_error(result.stderr)
    assert out.read_text() == "old"
