"""The ```` ```cost ```` fence: the cost and loss formulas, as the library defines them.

The cost page shows the same ``J`` and ``L`` that ``symbolic.cost`` differentiates and
``numeric.cost`` evaluates, rather than a copy typed into the page. Body: nothing (the cost
``J``), or one loss name per line (``mse``, ``bce``, ``ce``: ``J`` with that loss).
"""

from __future__ import annotations

import html
from typing import Any

from ..errors import NNDiagramError, SpecError
from ..model import LOSSES


def _block(latex: str) -> str:
    return f'<div class="arithmatex">\\[{html.escape(latex, quote=False)}\\]</div>'


def cost_formulas_html(losses: list[str]) -> str:
    """``J`` alone, or ``L`` for each named loss, as arithmatex blocks MathJax typesets."""
    from ..symbolic.cost import J_LATEX, LOSS_LATEX

    unknown = [name for name in losses if name not in LOSSES]
    if unknown:
        raise SpecError(f"unknown loss {unknown[0]!r} (must be one of: {', '.join(LOSSES)})")
    blocks = [LOSS_LATEX[name] for name in losses] if losses else [J_LATEX]
    return "".join(_block(latex) for latex in blocks)


def cost_fence_format(
    source: str,
    language: str,
    css_class: str,
    options: dict[str, Any],
    md: Any,
    **kwargs: Any,
) -> str:
    """pymdownx.superfences custom-fence signature."""
    from .fence import FenceError

    try:
        formulas = cost_formulas_html(source.split())
    except NNDiagramError as error:
        raise FenceError(f"```{language} fence: {error}") from error
    return f'<div class="{html.escape(css_class)}">{formulas}</div>'
