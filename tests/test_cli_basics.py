from __future__ import annotations

from conftest import RunCli


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
