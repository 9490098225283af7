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


def _png_size(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.mark.exe
def test_dpi_sets_the_png_resolution(run_cli: RunCli, tmp_path: Path) -> None:
    default, small = tmp_path / "default.png", tmp_path / "small.png"
    assert run_cli("render", XOR, "-o", str(default)).returncode == 0
    assert run_cli("render", XOR, "--dpi", "96", "-o", str(small)).returncode == 0
    (w192, h192), (w96, h96) = _png_size(default.read_bytes()), _png_size(small.read_bytes())
    assert abs(w192 - 2 * w96) <= 2 and abs(h192 - 2 * h96) <= 2  # default 192 dpi
    bad = run_cli("render", XOR, "--dpi", "5", "-o", str(tmp_path / "bad.png"))
    assert bad.returncode == 2
    assert _one_line_error(bad.stderr).endswith("--dpi must be between 36 and 1200, got 5")
    assert not (tmp_path / "bad.png").exists()


@pytest.mark.exe
def test_a_png_past_the_side_limit_is_scaled_down_with_a_note(
    run_cli: RunCli, tmp_path: Path
) -> None:
    # XOR at 1200 dpi would be wider than MAX_PNG_SIDE pixels: cairo would rasterise it all.
    from nndiagram.diagram.backend import MAX_PNG_SIDE

    big, normal = tmp_path / "big.png", tmp_path / "normal.png"
    done = run_cli("render", XOR, "--dpi", "1200", "-o", str(big))
    assert done.returncode == 0, done.stderr
    assert max(_png_size(big.read_bytes())) in (MAX_PNG_SIDE - 1, MAX_PNG_SIDE)
    assert done.stderr.count("\n") == 1 and "note: the PNG is scaled down to" in done.stderr
    quiet = run_cli("render", XOR, "-o", str(normal))
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert max(_png_size(normal.read_bytes())) < MAX_PNG_SIDE


@pytest.mark.exe
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_png_has_the_theme_background_unless_transparent(
    run_cli: RunCli, tmp_path: Path, theme: str
) -> None:
    from PIL import Image

    from nndiagram.diagram.theme import THEMES

    opaque, clear = tmp_path / "opaque.png", tmp_path / "clear.png"
    assert run_cli("render", XOR, "--theme", theme, "-o", str(opaque)).returncode == 0
    args = ("render", XOR, "--theme", theme, "--transparent", "-o", str(clear))
    assert run_cli(*args).returncode == 0
    background = THEMES[theme].background.lstrip("#")
    expected = tuple(int(background[i : i + 2], 16) for i in (0, 2, 4))
    with Image.open(opaque) as image:
        assert image.convert("RGBA").getpixel((1, 1)) == (*expected, 255)
    with Image.open(clear) as image:
        assert image.convert("RGBA").getpixel((1, 1))[3] == 0


@pytest.mark.exe
def test_a_left_out_part_is_named_on_stderr(run_cli: RunCli, tmp_path: Path) -> None:
    spec = tmp_path / "wide.yaml"
    spec.write_text(
        "inputs: 4\nlayers:\n  - units: 5\n  - units: 1\nview: network\nshow: {weights: true}\n"
    )
    done = run_cli("render", str(spec), "-o", str(tmp_path / "wide.svg"))
    assert done.returncode == 0
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"{spec}: note: weight labels left out: 25 edges")
    assert "show: {weights: false}" in line
    both = tmp_path / "both.yaml"
    both.write_text(spec.read_text().replace("weights: true", "weights: true, equations: true"))
    done = run_cli("render", str(both), "-o", str(tmp_path / "both.svg"))
    assert [line.split(": note: ")[1][:30] for line in done.stderr.splitlines()] == [
        "equations are not drawn in the",
        "weight labels left out: 25 edg",
    ]
    quiet = tmp_path / "quiet.yaml"  # weights on by default, not asked for: no note
    quiet.write_text("inputs: 4\nlayers:\n  - units: 5\n  - units: 1\nview: network\n")
    done = run_cli("render", str(quiet), "-o", str(tmp_path / "quiet.svg"))
    assert done.returncode == 0 and done.stderr == ""
