"""Golden LaTeX for every spec in diagrams/, and the tutorial's own matrices.

Regenerate the golden files with ``NNDIAGRAM_REGENERATE=1 pytest tests/test_symbolic_golden.py``
and review the diff before committing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from nndiagram.errors import InvalidNetworkError
from nndiagram.spec.load import load_spec
from nndiagram.symbolic import derive
from tests.conftest import DIAGRAMS, REFERENCE

GOLDEN = Path(__file__).parent / "golden" / "latex"
SPECS = sorted(p.stem for p in DIAGRAMS.glob("*.yaml"))
INVALID = {"not-fully-connected"}
# The tutorial's "Matrix representation" blocks, in order, and the spec drawing each figure.
TUTORIAL_EXAMPLES = ["neuron", "layer", "layer-3", "multilayer", "multilayer-activation"]


@pytest.mark.parametrize("name", sorted(set(SPECS) - INVALID))
def test_latex_matches_golden(name: str) -> None:
    latex = derive(load_spec(DIAGRAMS / f"{name}.yaml")).to_latex()
    golden = GOLDEN / f"{name}.tex"
    if os.environ.get("NNDIAGRAM_REGENERATE"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(latex, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}; regenerate with NNDIAGRAM_REGENERATE=1"
    assert latex == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_network_has_no_equations(name: str) -> None:
    with pytest.raises(InvalidNetworkError, match="missing edge x_0 -> z_0_1"):
        derive(load_spec(DIAGRAMS / f"{name}.yaml"))


def _normalise(latex: str) -> str:
    """Whitespace out; the tutorial's trailing ``\\\\`` before ``\\end{bmatrix}`` dropped."""
    compact = re.sub(r"\s+", "", latex)
    return compact.replace(r"\\\end{bmatrix}", r"\end{bmatrix}")


def _tutorial_matrices() -> list[dict[str, str]]:
    """Per 'Matrix representation' block: {'x': latex, 'w[0]': latex, …} in tutorial order."""
    text = REFERENCE.read_text(encoding="utf-8")
    blocks = re.split(r"^Matrix [Rr]epresentation.*$", text, flags=re.MULTILINE)[1:]
    found = []
    for block in blocks:
        block = block.split("from fastbook")[0].split("Let’s wrap up")[0]
        matrices = {}
        pattern = (
            r"\\\[\s*(([xwb])(\^\{\[(\d)\]\})?\s*=\s*\\begin\{bmatrix\}.*?\\end\{bmatrix\})\s*\\\]"
        )
        for match in re.finditer(pattern, block, flags=re.DOTALL):
            name = match.group(2) + (f"[{match.group(4)}]" if match.group(4) else "")
            matrices[name] = match.group(1)
        found.append(matrices)
    return found


def test_tutorial_blocks_are_found() -> None:
    blocks = _tutorial_matrices()
    assert len(blocks) == len(TUTORIAL_EXAMPLES)
    assert sorted(blocks[3]) == ["b[0]", "b[1]", "w[0]", "w[1]", "x"]


@pytest.mark.parametrize("index", range(len(TUTORIAL_EXAMPLES)))
def test_matrices_equal_the_tutorials(index: int) -> None:
    expected = _tutorial_matrices()[index]
    derivation = derive(load_spec(DIAGRAMS / f"{TUTORIAL_EXAMPLES[index]}.yaml"))
    single = len(derivation.network.layers) == 1
    ours = {eq.name: eq.latex for eq in derivation.equations}
    for name, latex in expected.items():
        key = f"{name}[0]" if single and name in ("w", "b") else name
        assert _normalise(ours[key]) == _normalise(latex), name
