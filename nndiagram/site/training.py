"""The ```` ```training ```` fence: a network trained while the site builds, shown with its numbers.

The body names a spec, the training data inline and the run's options, the ones of
``nndiagram train``::

    ```training
    spec: diagrams/xor.yaml
    data: [[0, 0, 1, 1], [0, 1, 0, 1]]     # X: one column per sample
    targets: [[0, 1, 1, 0]]                # Y
    steps: 2000
    lr: 2
    seed: 1
    layer: 0                               # whose equations get the learned numbers
    ```

It runs the ``train`` command's code (``numeric.train.train_files``) on the fence's data and
draws the page from the P.npz and H.csv it writes. It shows the command that reproduces
the run, the cost curve, the decision boundary of a two-input network, the learned network with
its weights, each sample's activations in tabs, one layer's equations with the learned numbers,
and every sample's output from the NumPy evaluator beside the lambdified symbolic output. The
HTML is cached by the fence body like every fence, so an unchanged page never trains again.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

from ..errors import NNDiagramError, SpecError
from .html import PALETTE_STYLE, diagram_html
from .plots import _FOREGROUND, inline_plot_svg
from .request import resolve_spec_path

KEYS = ("spec", "data", "targets", "steps", "lr", "seed", "momentum", "loss", "layer")
AGREE = 1e-12  # NumPy and the lambdified SymPy output, relative
POSITIVE = "#0072b2"  # the figures' positive-weight blue, for target-1 samples
NEGATIVE = "#d55e00"


def training_options(source: str, where: str) -> dict[str, Any]:
    """The fence body as checked options; every refusal names the key and what it takes."""
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as error:
        raise SpecError(f"training fence is not YAML: {error}", path=where) from None
    if not isinstance(data, dict):
        raise SpecError("training fence: expected spec:, data:, targets: and options", path=where)
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise SpecError(
            f"training fence: unknown key {unknown[0]!r} (must be one of: {', '.join(KEYS)})",
            path=where,
        )
    for key in ("spec", "data", "targets"):
        if key not in data:
            raise SpecError(f"training fence: {key}: is required", path=where)
    for key in ("data", "targets"):
        try:
            data[key] = np.array(data[key], dtype=np.float64, ndmin=2)
        except (TypeError, ValueError):
            raise SpecError(
                f"training fence: {key}: must be a list of rows of numbers", path=where
            ) from None
    for key, kind, default in (("steps", int, 1000), ("seed", int, 0), ("layer", int, 0)):
        value = data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise SpecError(f"training fence: {key}: must be a whole number", path=where)
        data[key] = kind(value)
    for key, default_rate in (("lr", 0.5), ("momentum", 0.0)):
        rate = data.get(key, default_rate)
        if not isinstance(rate, int | float) or isinstance(rate, bool):
            raise SpecError(f"training fence: {key}: must be a number", path=where)
        data[key] = float(rate)
    loss = data.setdefault("loss", None)
    if loss is not None and loss not in ("mse", "bce", "ce"):
        raise SpecError(
            f"training fence: loss: {loss!r} (must be one of: mse, bce, ce)", path=where
        )
    return data


def command_line(options: Mapping[str, Any]) -> str:
    """The ``nndiagram train`` command that reproduces the fence's run."""
    parts = [
        "nndiagram train",
        options["spec"],
        "--data X.npy --targets Y.npy",
        f"--steps {options['steps']} --lr {options['lr']:g} --seed {options['seed']}",
    ]
    if options["momentum"]:
        parts.append(f"--momentum {options['momentum']:g}")
    if options["loss"]:
        parts.append(f"--loss {options['loss']}")
    return " ".join([*parts, "-o P.npz --history H.csv"])


def training_html(source: str, root: Any, where: str, prefix: str) -> str:
    from ..notebook import figure_numbers
    from ..spec.load import load_spec
    from ..verify.engines import evaluate

    options = training_options(source, where)
    path = resolve_spec_path(options["spec"], root)
    network = load_spec(str(path))
    X, Y = options["data"], options["targets"]
    layer = options["layer"]
    if not 0 <= layer < len(network.layers):
        raise SpecError(f"training fence: layer: {layer} is not a layer of the network", path=where)
    run = run_train_command(str(path), options, where)

    parts = [PALETTE_STYLE, _summary(options, run)]
    parts.append(_figure(cost_curve_svg(run.history, f"{prefix}-cost"), "The cost J step by step"))
    if network.n_inputs == 2 and network.n_outputs == 1:
        svg = decision_boundary_svg(network, run.params, X, Y, f"{prefix}-boundary")
        parts.append(_figure(svg, "What the network answers for every input"))
    learned = figure_numbers(network, run.params)
    parts.append(_network(network, learned, f"{prefix}-net", "The learned weights"))
    parts.append(_tabs(network, run.params, X, prefix))
    parts.append(_equations(network, run.params, layer))
    numpy_out = evaluate(network, run.params, X, engine="numpy")
    sympy_out = evaluate(network, run.params, X, engine="sympy")
    parts.append(_agreement(X, numpy_out, sympy_out))
    return f'<div class="nndiagram-training">{"".join(parts)}</div>'


@dataclass(frozen=True)
class Run:
    """What ``nndiagram train`` wrote: the learned parameters (P.npz) and its history (H.csv)."""

    params: dict[str, np.ndarray]
    history: tuple[tuple[int, float], ...]

    @property
    def initial_cost(self) -> float:
        return self.history[0][1]

    @property
    def final_cost(self) -> float:
        return self.history[-1][1]


def run_train_command(spec: str, options: Mapping[str, Any], where: str) -> Run:
    """The ``train`` command's own code (``train_files``) on the fence's data, written to a
    temporary folder as X.npy and Y.npy; the page is drawn from the P.npz and H.csv it writes."""
    import tempfile
    from pathlib import Path

    from ..numeric.forward import load_params
    from ..numeric.train import train_files
    from ..spec.load import load_spec

    with tempfile.TemporaryDirectory(prefix="nndiagram-train-") as tmp:
        folder = Path(tmp)
        files = {name: str(folder / name) for name in ("X.npy", "Y.npy", "P.npz", "H.csv")}
        np.save(files["X.npy"], options["data"])
        np.save(files["Y.npy"], options["targets"])
        try:
            train_files(
                spec, files["X.npy"], files["Y.npy"], files["P.npz"], steps=options["steps"],
                lr=options["lr"], seed=options["seed"], momentum=options["momentum"],
                loss=options["loss"], history_path=files["H.csv"],
            )  # fmt: skip
        except NNDiagramError as error:  # name the fence's key, not the temporary file
            text = str(error)
            key = next((k for k, f in (("data", "X.npy"), ("targets", "Y.npy"))
                        if text.startswith(files[f])), None)  # fmt: skip
            inner = text.split(": error: ", 1)[-1]
            raise SpecError(
                f"training fence: {key}: {inner}" if key else inner, path=where
            ) from None
        params = load_params(files["P.npz"], load_spec(spec))
        rows = Path(files["H.csv"]).read_text(encoding="utf-8").splitlines()[1:]
    history = tuple((int(step), float(cost)) for step, cost in (row.split(",") for row in rows))
    return Run(params, history)


def _summary(options: Mapping[str, Any], run: Run) -> str:
    command = html.escape(command_line(options))
    return (
        "<p>Trained while this page was built, with the same code as "
        f"<code>{command}</code>: the cost went from {run.initial_cost:.4g} to "
        f"{run.final_cost:.4g} in {options['steps']:,} steps.</p>"
    )


def _figure(svg: str, caption: str) -> str:
    return (
        f'<figure class="nndiagram-plot-figure" style="width:100%">{svg}'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _network(network: Any, numbers: Any, prefix: str, caption: str) -> str:
    from ..diagram import render_svg_inline

    bundle = {
        f"svg_{theme}": render_svg_inline(network, theme=theme, numbers=numbers)
        for theme in ("light", "dark")
    }
    bundle["title"] = caption
    return diagram_html(bundle, prefix, "auto")


def _tabs(network: Any, params: Any, X: np.ndarray, prefix: str) -> str:
    """One tab per sample: the network with that sample's activations (Material's tabs)."""
    from ..notebook import figure_numbers

    group = f"__tabbed_{prefix}"
    count = X.shape[1]
    inputs = "".join(
        f'<input {"checked " if i == 0 else ""}id="{group}_{i + 1}" name="{group}" type="radio">'
        for i in range(count)
    )
    labels = "".join(
        f'<label for="{group}_{i + 1}">x = ({", ".join(f"{v:g}" for v in X[:, i])})</label>'
        for i in range(count)
    )
    blocks = "".join(
        '<div class="tabbed-block">'
        + _network(
            network,
            figure_numbers(network, params, X, i),
            f"{prefix}-sample{i}",
            f"Sample {i}: every neuron's z and a",
        )
        + "</div>"
        for i in range(count)
    )
    return (
        f'<div class="tabbed-set tabbed-alternate" data-tabs="1:{count}">{inputs}'
        f'<div class="tabbed-labels">{labels}</div>'
        f'<div class="tabbed-content">{blocks}</div></div>'
    )


def _equations(network: Any, params: Mapping[str, np.ndarray], layer: int) -> str:
    """``z^{[l]} = W x + b`` with the learned numbers (3 significant digits), set by SymPy."""
    import sympy

    from .. import notation

    def matrix(values: np.ndarray) -> Any:
        rows = np.atleast_2d(values)
        return sympy.Matrix([[sympy.Float(f"{v:.3g}", 3) for v in row] for row in rows])

    z = notation.vector(network, "z", layer).latex()
    source = "x" if layer == 0 else notation.vector(network, "a", layer - 1).latex()
    W = sympy.latex(matrix(params[f"W{layer}"]))
    b = sympy.latex(matrix(params[f"b{layer}"][:, None]))
    line = f"{z} = {W} {source} + {b}"
    return f'<div class="arithmatex">\\[{html.escape(line, quote=False)}\\]</div>'


def _agreement(X: np.ndarray, numpy_out: np.ndarray, sympy_out: np.ndarray) -> str:
    """Each sample's output by the NumPy evaluator and by the lambdified SymPy derivation."""
    rows = []
    worst = 0.0
    for i in range(X.shape[1]):
        a, b = numpy_out[:, i], sympy_out[:, i]
        error = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))
        worst = max(worst, error)
        sample = ", ".join(f"{v:g}" for v in X[:, i])
        rows.append(
            f"<tr><td>({sample})</td><td>{', '.join(f'{v:.12g}' for v in a)}</td>"
            f"<td>{', '.join(f'{v:.12g}' for v in b)}</td><td>{error:.1e}</td></tr>"
        )
    holds = worst <= AGREE
    verdict = (
        f"✓ the evaluator and the symbolic output agree to {worst:.1e} (≤ {AGREE:g})"
        if holds
        else f"✗ the evaluator and the symbolic output differ by {worst:.1e}"
    )
    return (
        f'<div class="nndiagram-check" data-agree="{str(holds).lower()}"><table>'
        "<thead><tr><th>x</th><th>NumPy evaluator</th><th>SymPy derivation</th>"
        "<th>relative difference</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table><p>{verdict}</p></div>"
    )


# --- plots -----------------------------------------------------------------------------------


def _plot_context(prefix: str) -> Any:
    import matplotlib

    return matplotlib.rc_context(
        {
            "svg.hashsalt": prefix,
            "svg.fonttype": "none",
            "font.family": "sans-serif",
            "font.size": 10,
            "text.color": _FOREGROUND,
            "axes.edgecolor": _FOREGROUND,
            "axes.labelcolor": _FOREGROUND,
            "xtick.color": _FOREGROUND,
            "ytick.color": _FOREGROUND,
        }
    )


def _save(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", transparent=True, metadata={"Date": None})
    return buffer.getvalue()


def cost_curve_svg(history: tuple[tuple[int, float], ...], prefix: str) -> str:
    """``J`` against the step, on a log scale (it falls by orders of magnitude)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    steps = np.array([step for step, _ in history])
    costs = np.array([cost for _, cost in history])
    with _plot_context(prefix):
        figure = Figure(figsize=(5.0, 3.0))
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        axes.plot(steps, costs, color=POSITIVE, linewidth=2)
        axes.set_yscale("log")
        axes.set_xlabel("step")
        axes.set_ylabel("cost J")
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        figure.tight_layout()
        document = _save(figure)
    return inline_plot_svg(document, prefix, "The cost J falling during training (log scale)")


def decision_boundary_svg(
    network: Any, params: Mapping[str, np.ndarray], X: np.ndarray, Y: np.ndarray, prefix: str
) -> str:
    """The network's output over the input plane, its 0.5 line, and the training samples."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..numeric.forward import forward

    low, high = X.min(axis=1) - 0.5, X.max(axis=1) + 0.5
    u = np.linspace(low[0], high[0], 161)
    v = np.linspace(low[1], high[1], 161)
    U, V = np.meshgrid(u, v)
    out = forward(network, params, np.vstack([U.ravel(), V.ravel()]))[0].reshape(U.shape)
    with _plot_context(prefix):
        figure = Figure(figsize=(4.4, 3.6))
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        shading = axes.contourf(U, V, out, levels=np.linspace(0, 1, 11), cmap="viridis")
        axes.contour(U, V, out, levels=[0.5], colors=[_FOREGROUND], linewidths=1.5)
        for target, colour, marker in ((1.0, POSITIVE, "o"), (0.0, NEGATIVE, "s")):
            chosen = Y[0] == target
            axes.scatter(
                X[0, chosen],
                X[1, chosen],
                s=70,
                c=colour,
                marker=marker,
                edgecolors="white",
                linewidths=1.5,
                label=f"target {target:g}",
                zorder=3,
            )
        colorbar = figure.colorbar(shading, ax=axes)
        colorbar.set_label("network output")
        axes.set_xlabel("x₀")
        axes.set_ylabel("x₁")
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)
        figure.tight_layout()
        document = _save(figure)
    label = "The decision boundary: the network's output over the input plane, 0.5 drawn as a line"
    return inline_plot_svg(document, prefix, label)


# --- the fence -------------------------------------------------------------------------------


def training_fence_format(
    source: str,
    language: str,
    css_class: str,
    options: dict[str, Any],
    md: Any,
    **kwargs: Any,
) -> str:
    """The ```` ```training ```` fence (pymdownx.superfences custom-fence signature)."""
    import hashlib

    from . import fence

    settings = fence._settings(md)
    context = fence.page_context(md)
    where = context.path or "<training fence>"
    prefix = "nndt" + hashlib.sha256(source.encode()).hexdigest()[:8]
    try:
        return training_html(source, fence.project_root(md, context), where, prefix)
    except NNDiagramError as error:
        raise settings.error_type(f"```{language} fence: {error}") from error
