"""The README is the front door: its picture, commands and example must stay true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT, RunCli

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_two_setup_commands_are_the_makefile_targets() -> None:
    assert "make site" in README and "make test" in README
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^site:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_relative_link_points_at_a_file() -> None:
    links = re.findall(r"\]\(([^)#\s]+)\)", README)
    local = [link for link in links if "://" not in link]
    assert local, "the README links into the docs"
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing


@pytest.mark.exe
def test_the_picture_is_what_render_draws_today(run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "xor.svg"
    result = run_cli("render", "diagrams/xor.yaml", "-o", str(out))
    assert result.returncode == 0, result.stderr
    committed = (ROOT / "docs" / "assets" / "xor.svg").read_bytes()
    assert out.read_bytes() == committed, (
        "docs/assets/xor.svg is stale: nndiagram render diagrams/xor.yaml -o docs/assets/xor.svg"
    )


def test_the_pytorch_example_draws_the_model_and_checks_it(tmp_path: Path) -> None:
    """The three lines, run as written in a fresh interpreter on a real nn.Module."""
    import subprocess
    import sys

    block = re.search(r"```python\n(network, params = nndiagram.from_torch.*?)```", README, re.S)
    assert block is not None and len(block.group(1).strip().splitlines()) == 3
    script = (
        "import torch, nndiagram\n"
        "torch.manual_seed(0)\n"
        "model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),\n"
        "                            torch.nn.Linear(8, 3), torch.nn.Softmax(dim=1))\n"
        + block.group(1)
        + "assert nndiagram.check(network, params=params, against=model).passed\n"
        + "print(svg[:200].decode())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "<svg" in done.stdout


def test_the_five_line_example_validates(run_cli: RunCli, tmp_path: Path) -> None:
    block = re.search(r"```yaml\n# classifier.yaml\n(.*?)```", README, re.S)
    assert block is not None
    spec = tmp_path / "classifier.yaml"
    spec.write_text(block.group(1), encoding="utf-8")
    assert len(block.group(1).strip().splitlines()) == 5
    result = run_cli("validate", str(spec))
    assert result.returncode == 0, result.stderr
    check = run_cli("check", str(spec))
    assert check.returncode == 0, check.stdout + check.stderr
