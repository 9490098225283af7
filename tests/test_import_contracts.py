"""The import contracts in pyproject.toml hold, and `lint-imports` really fails when one breaks.

The failing half runs the linter on a copy of the package with one import against the pipeline
(numbers importing SymPy's stage), so a contract that silently stopped checking would show here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is in the dev extra")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(root)},
    )


def test_the_contracts_hold() -> None:
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


def test_a_import_against_the_pipeline_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "nndiagram", tmp_path / "nndiagram")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    forward = tmp_path / "nndiagram" / "numeric" / "forward.py"
    forward.write_text(forward.read_text() + "\nfrom ..symbolic import derive  # noqa: E402\n")
    done = _lint(tmp_path)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout or "broken" in done.stdout
    assert "nndiagram.numeric.forward -> nndiagram.symbolic" in done.stdout


def test_the_architecture_page_and_readme_name_every_stage() -> None:
    """The README's Layout and docs/guide/architecture.md match the tree: every folder of the
    package and every top-level module is named on the page, and every folder in the README."""
    page = (ROOT / "docs" / "guide" / "architecture.md").read_text()
    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout") :]
    package = ROOT / "nndiagram"
    folders = sorted(p.name for p in package.iterdir() if (p / "__init__.py").exists())
    modules = sorted(p.name for p in package.glob("*.py") if not p.name.startswith("__"))
    for folder in folders:
        assert f"`{folder}/`" in page, folder
        assert f"`{folder}/`" in layout, folder
    for module in modules:
        assert f"`{module}`" in page, module
