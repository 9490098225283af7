from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, RunCli


def test_version_through_the_console_script(run_cli: RunCli) -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("nndiagram ")


def test_unknown_command_is_one_line_and_exit_2(run_cli: RunCli) -> None:
    result = run_cli("frobnicate")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_missing_required_option_is_usage_error(run_cli: RunCli) -> None:
    result = run_cli("evaluate", "diagrams/xor.yaml")
    assert result.returncode == 2
    assert "--params" in result.stderr


FREEZE_PROBE = """
import gc, sys
from nndiagram.cli import main
sys.argv = ["nndiagram", "equations", "diagrams/xor.yaml", "-o", sys.argv[1]]
status = main()
print(status, gc.get_freeze_count() > 0, gc.isenabled())
"""


def test_a_command_that_owns_its_process_freezes_its_imports(tmp_path: Path) -> None:
    # The console script: SymPy's objects go to the permanent generation, the collector stays on.
    out = subprocess.run(
        [sys.executable, "-c", FREEZE_PROBE, str(tmp_path / "e.tex")],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    assert out.stdout.split() == ["0", "True", "True"]


def test_main_called_in_process_leaves_the_collector_alone(tmp_path: Path) -> None:
    # A notebook or test calling main(argv) keeps collecting what its own work leaves behind.
    from nndiagram.cli import main

    frozen = gc.get_freeze_count()
    assert main(["equations", "diagrams/xor.yaml", "-o", str(tmp_path / "e.tex")]) == 0
    assert gc.get_freeze_count() == frozen
    assert gc.isenabled()
