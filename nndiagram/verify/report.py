"""What a check reports: ``Check`` rows with a status and a measured relative error, collected
in a ``Report`` that prints as a terminal table or as JSON."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class Check:
    """One row of a report. ``instance`` names the activation a generic g was replaced by."""

    name: str
    status: Status
    error: float | None = None
    tolerance: float | None = None
    detail: str = ""
    instance: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "instance": self.instance,
            "status": self.status,
            "error": _rounded(self.error),
            "tolerance": self.tolerance,
            "detail": self.detail,
        }


def _rounded(value: float | None) -> float | str | None:
    # Three significant digits are enough to read, and keep the JSON from churning on the
    # last bits of rounding noise; JSON has no inf or nan, so those become strings.
    if value is None:
        return None
    if not math.isfinite(value):
        return "inf" if value > 0 else "nan"
    return float(f"{value:.3g}")


def status_of(ok: bool) -> Status:
    return "pass" if ok else "fail"


def compare(
    name: str, value: Any, reference: Any, tolerance: float, detail: str, **extra: Any
) -> Check:
    """A row for ``value`` vs ``reference`` measured normwise (see the module docstring)."""
    error = relative_error(value, reference)
    return Check(name, status_of(error <= tolerance), error, tolerance, detail, **extra)


def relative_error(value: Any, reference: Any) -> float:
    """``max |value − reference| / max |reference|``; inf when shapes differ or a value is nan."""
    a = np.asarray(value, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape or not np.isfinite(a).all():
        return math.inf
    scale = max(float(np.max(np.abs(b), initial=0.0)), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(a - b), initial=0.0)) / scale


@dataclass(frozen=True)
class Report:
    """The checks of one network, printable as a terminal table or the JSON the site shows."""

    spec: str
    checks: tuple[Check, ...]
    seed: int = 0

    @property
    def passed(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        """Stable keys, deterministic values: ``json.dumps(report.to_json(), sort_keys=True)``."""
        counts = {s: sum(c.status == s for c in self.checks) for s in ("pass", "fail", "skip")}
        return {
            "spec": self.spec,
            "seed": self.seed,
            "passed": self.passed,
            "counts": counts,
            "checks": [check.to_json() for check in self.checks],
        }

    def to_text(self, color: bool = False) -> str:
        """A fixed-width table; ``color`` paints the status words (for a terminal)."""
        paint = {"pass": "32", "fail": "31", "skip": "33"}
        header = ("check", "status", "rel. error", "tolerance", "detail")
        rows = [
            (
                check.name + (f" [{check.instance}]" if check.instance else ""),
                check.status,
                "-" if check.error is None else f"{check.error:.2e}",
                "-" if check.tolerance is None else f"{check.tolerance:.0e}",
                check.detail,
            )
            for check in self.checks
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]

        def line(row: Sequence[str], status_color: str | None = None) -> str:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            if status_color:
                cells[1] = f"\033[{status_color}m{cells[1]}\033[0m"
            return "  ".join([*cells, row[4]]).rstrip()

        verdict = "all checks pass" if self.passed else "CHECKS FAILED"
        out = [f"{self.spec}: {verdict}", line(header)]
        out += [line(row, paint[row[1]] if color else None) for row in rows]
        return "\n".join(out) + "\n"

    def __repr__(self) -> str:
        counts = ", ".join(
            f"{sum(c.status == s for c in self.checks)} {s}" for s in ("pass", "fail", "skip")
        )
        verdict = "all checks pass" if self.passed else "CHECKS FAILED"
        return f"<Report {self.spec}: {verdict} ({counts}); print(report.to_text()) for rows>"

    def _repr_html_(self) -> str:
        """Jupyter: the report as a table, failures in red (every value escaped)."""
        from html import escape

        colour = {"pass": "#2e7d32", "fail": "#c62828", "skip": "#9e9e9e"}
        cells = "".join(
            "<tr>"
            f"<td>{escape(c.name + (f' [{c.instance}]' if c.instance else ''))}</td>"
            f'<td style="color:{colour[c.status]};font-weight:bold">{c.status}</td>'
            f"<td>{'-' if c.error is None else f'{c.error:.2e}'}</td>"
            f"<td>{'-' if c.tolerance is None else f'{c.tolerance:.0e}'}</td>"
            f'<td style="text-align:left">{escape(c.detail)}</td>'
            "</tr>"
            for c in self.checks
        )
        verdict = "all checks pass" if self.passed else "CHECKS FAILED"
        return (
            f"<p><b>{escape(self.spec)}</b>: {verdict}</p><table>"
            "<thead><tr><th>check</th><th>status</th><th>rel. error</th><th>tolerance</th>"
            f'<th style="text-align:left">detail</th></tr></thead><tbody>{cells}</tbody></table>'
        )
