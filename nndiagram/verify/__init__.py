"""Verification: every symbolic result checked against the numbers (``checks``, with the
gradient rows in ``gradients``), reported as ``Check`` rows (``report``); and the three
engines that evaluate a network independently (``engines``)."""

from .checks import check, check_files
from .engines import ENGINES, evaluate
from .report import Check, Report

__all__ = ["ENGINES", "Check", "Report", "check", "check_files", "evaluate"]
