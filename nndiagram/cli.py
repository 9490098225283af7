"""The command line: parse arguments, call the library, report. No logic lives here.

Library functions raise ``NNDiagramError``; ``main`` turns one into a single line on stderr and
its exit code (0 done, 1 invalid network or failed check, 2 bad input or usage).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .errors import NNDiagramError, UsageError
from .output import write_atomic

if TYPE_CHECKING:
    from .numeric.train import Training

Handler = Callable[[argparse.Namespace], int]

DESCRIPTION = (
    "One neural-network spec in; a Graphviz diagram, SymPy equations and a NumPy evaluation "
    "out, checked against each other."
)
EPILOG = "Exit codes: 0 done, 1 invalid network or failed check, 2 bad input or usage."
DEBUG_HELP = "show the Python traceback of an error (for bug reports)"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse prints usage over several lines; the contract is one line and exit 2.
        raise UsageError(f"{self.prog}: {message}")


# True when ``main`` runs as the process (the console script, ``python -m nndiagram``), not
# called from a test or a notebook: only then may it freeze the garbage collector's view.
_OWNS_PROCESS = False


@contextlib.contextmanager
def _importing() -> Iterator[None]:
    """Around a command's imports: they allocate for good (SymPy alone is ~10^6 objects), yet
    every full collection after them would walk them all again. Collect none while importing,
    then move what was imported to the permanent generation: ``equations`` of a 32-32-16 network
    spends ~0.15 s less CPU (benchmarks/bench_startup.py). A process that goes on after the
    command (a caller of ``main``) keeps its collector as it was."""
    if not _OWNS_PROCESS:
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


# --- handlers: one per command, each a few lines -------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    with _importing():
        from .errors import SpecError
        from .spec.graph import MAX_REPORTED_MISSING
        from .spec.load import load_spec

    # Like a linter: every file is checked; the exit code is the worst (2 > 1 > 0).
    status = 0
    for path in args.specs:
        try:
            network = load_spec(path)
        except SpecError as error:
            if args.debug:
                raise
            print(error, file=sys.stderr)
            status = 2
            continue
        if network.graph is not None and not network.graph.is_valid:
            status = max(status, 1)
            problems = network.graph.problems()
            capped = len(network.graph.missing) >= MAX_REPORTED_MISSING
            more = f" (only the first {MAX_REPORTED_MISSING:,} missing edges)" if capped else ""
            print(f"{path}: not a valid network: {len(problems)} problem(s){more}", file=sys.stderr)
            for problem in problems:
                print(f"{path}: {problem}", file=sys.stderr)
            if network.graph.skipping:
                print(
                    f"{path}: an explicit graph has no skip connections: for a residual or "
                    "concatenating network write inputs and layers with add: or concat:",
                    file=sys.stderr,
                )
        else:
            print(f"{path}: ok ({_describe(network)})")
            for remark in network.remarks():
                print(f"{path}: note: {remark}", file=sys.stderr)
    return status


def _describe(network: object) -> str:
    from .model import Network

    assert isinstance(network, Network)
    return "-".join(str(s) for s in network.sizes)


def cmd_schema(args: argparse.Namespace) -> int:
    with _importing():
        from .spec.load import spec_json_schema

    print(json.dumps(spec_json_schema(), indent=2, sort_keys=True))
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    options = {"view": args.view, "fmt": args.format, "theme": args.theme, "labels": args.labels}
    options |= {"dpi": args.dpi, "transparent": args.transparent}
    if args.params is None:
        from .diagram import render_file

        if args.input is not None or args.sample is not None:
            raise UsageError("--input and --sample are drawn through the weights: give --params")

        def note(line: str) -> None:
            print(f"{args.spec}: note: {line}", file=sys.stderr)

        render_file(args.spec, args.output, **options, legend=args.legend, note=note)
        return 0
    from .notebook import render_numbers_file

    render_numbers_file(
        args.spec, args.output, args.params, args.input, args.sample, **options, legend=args.legend
    )
    return 0


def cmd_equations(args: argparse.Namespace) -> int:
    with _importing():
        from . import notation
        from .spec.load import load_spec
        from .symbolic import derive

    fmt = args.format or _format_from_suffix(args.output, EQUATION_SUFFIXES, "latex")
    derivation = derive(load_spec(args.spec, numbering=args.numbering))
    if fmt == "latex":  # a long equation as aligned lines, readable in a file or a terminal
        text = notation.latex_document_lines(derivation.to_latex())
    elif fmt == "text":
        text = notation.text_document_lines(derivation.to_text())
    else:
        text = json.dumps(derivation.to_json(), indent=2, sort_keys=True, ensure_ascii=False)
    write_atomic(args.output, text if text.endswith("\n") else text + "\n")
    return 0


EQUATION_SUFFIXES = {".tex": "latex", ".latex": "latex", ".txt": "text", ".json": "json"}


def _format_from_suffix(output: str, suffixes: dict[str, str], default: str) -> str:
    """Like ``render``: the output's suffix picks the format; stdout and others get ``default``."""
    return suffixes.get(Path(output).suffix.lower(), default) if output != "-" else default


def cmd_evaluate(args: argparse.Namespace) -> int:
    with _importing():
        from .verify.engines import evaluate_files

    evaluate_files(args.spec, args.params, args.input, args.output, engine=args.engine)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    with _importing():
        from .verify.checks import check_files

    against = None
    if args.against is not None:
        if args.params is None:
            raise UsageError("nndiagram check: --against needs --params P.npz (the spec's weights)")
        from .importers.frameworks import reference_for

        against = reference_for(args.against)
    elif args.params is not None or args.input is not None:
        raise UsageError("nndiagram check: --params and --input go with --against MODEL")
    return check_files(
        args.specs,
        fmt=args.format,
        seed=args.seed,
        params=args.params,
        against=against,
        inputs=args.input,
    )


def cmd_import(args: argparse.Namespace) -> int:
    with _importing():
        from .importers import import_files

    imported = import_files(args.model, args.output, args.params, spec=args.spec)
    sizes = "-".join(str(s) for s in imported.network.sizes)
    print(
        f"{args.model}: {imported.framework} {imported.dtype} network {sizes} -> "
        f"{args.output}, {args.params}",
        file=sys.stderr,
    )
    return 0


def cmd_gradients(args: argparse.Namespace) -> int:
    with _importing():
        from .numeric.backward import gradients_files

    gradients_files(args.spec, args.params, args.input, args.target, args.output, loss=args.loss)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    with _importing():
        from .numeric.train import train_files

    def run(on_step: Callable[[int, float], None] | None = None) -> Training:
        return train_files(
            args.spec, args.data, args.targets, args.output, steps=args.steps, lr=args.lr,
            seed=args.seed, init_path=args.init, batch=args.batch, momentum=args.momentum,
            loss=args.loss, history_path=args.history, on_step=on_step,
        )  # fmt: skip

    if sys.stderr.isatty():
        with _progress_bar(args.steps) as on_step:
            training = run(on_step)
    else:
        training = run()
    batch = "full batch" if training.batch == training.samples else f"batches of {training.batch}"
    wrote = "" if args.output == "-" else f"; wrote {args.output}"
    print(
        f"{args.spec}: {args.steps} steps, lr {args.lr:g}, {batch} ({training.samples} samples), "
        f"{training.loss}: cost {training.initial_cost:.4g} -> {training.final_cost:.4g}{wrote}",
        file=sys.stderr if args.output == "-" else sys.stdout,
    )
    return 0


@contextlib.contextmanager
def _progress_bar(steps: int) -> Iterator[Callable[[int, float], None]]:
    """A rich bar with the step count and the current cost, gone when the run ends."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.progress import TimeElapsedColumn as Elapsed

    every = max(1, steps // 500)  # a redraw costs more than a small network's step
    columns = (TextColumn("training"), BarColumn(), MofNCompleteColumn(),
               TextColumn("cost {task.fields[cost]}"), Elapsed())  # fmt: skip
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("train", total=steps, cost="…")

        def on_step(step: int, cost: float) -> None:
            if step % every == 0 or step == steps:
                progress.update(task, completed=step, cost=f"{cost:.4g}")

        yield on_step


def cmd_check_derivation(args: argparse.Namespace) -> int:
    with _importing():
        from .derivation.checker import check_derivation_file

    return check_derivation_file(args.file, fmt=args.format, accept_numeric=args.accept_numeric)


def cmd_build(args: argparse.Namespace) -> int:
    with _importing():
        from .site.build import build_site

    return build_site(args.config_file, strict=args.strict)


def cmd_serve(args: argparse.Namespace) -> int:
    with _importing():
        from .site.build import serve_site

    return serve_site(args.config_file, dev_addr=args.dev_addr)


def cmd_generate(args: argparse.Namespace) -> int:
    with _importing():
        from .site.gallery import generate_gallery

    written = generate_gallery(Path(args.specs_dir), Path(args.output))
    print(f"wrote {len(written)} page(s) to {args.output}")
    return 0


# --- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nndiagram", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"nndiagram {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="COMMAND"
    )

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=EPILOG)
        p.set_defaults(handler=handler)
        # Also after the command (`nndiagram validate --debug FILE`); SUPPRESS keeps the value
        # given before the command when it is not repeated.
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
        return p

    p = command("validate", cmd_validate, "check that specs are well-formed, valid networks")
    p.add_argument(
        "specs", nargs="+", metavar="SPEC", help="spec files (.yaml, .yml, .json, .toml)"
    )

    command("schema", cmd_schema, "print the JSON Schema of the spec format")

    p = command("render", cmd_render, "draw a spec as SVG, PNG, PDF or DOT")
    p.add_argument("spec", metavar="SPEC", help="the spec file to draw")
    p.add_argument(
        "--dpi",
        type=float,
        default=None,
        help="PNG resolution in pixels per inch (default 192: a slide's width for a wide figure)",
    )
    p.add_argument(
        "--transparent",
        action="store_true",
        help="no background behind a PNG or PDF (default: the theme's page colour)",
    )
    p.add_argument(
        "-o", "--output", default=None, help="output file, '-' for stdout (default: SPEC's name)"
    )
    p.add_argument(
        "--view",
        choices=["neuron", "network", "layers", "auto"],
        default=None,
        help="how to draw the network (default: the spec's view)",
    )
    p.add_argument(
        "--format",
        choices=["svg", "png", "pdf", "dot"],
        default=None,
        help="output format (default: from the output's suffix, else svg)",
    )
    p.add_argument(
        "--theme", choices=["light", "dark"], default="light", help="colours (default: light)"
    )
    p.add_argument(
        "--labels",
        choices=["math", "plain", "values"],
        default=None,
        help="math: real sub/superscripts; plain: the tutorial's text labels; "
        "values: the weights' values alone on the edges (needs --params)",
    )
    p.add_argument(
        "--params",
        default=None,
        metavar="P.npz",
        help="draw these weights: edge colour by sign, width by size, values on small networks",
    )
    p.add_argument(
        "--input",
        default=None,
        metavar="X.npy",
        help="with --params: show each neuron's z and a for one sample, filled by a",
    )
    p.add_argument(
        "--sample",
        type=int,
        default=None,
        metavar="I",
        help="the column of X.npy to draw (default 0)",
    )
    p.add_argument(
        "--legend",
        action="store_true",
        help="explain the shapes and lines under the figure (always there with --params)",
    )

    p = command("equations", cmd_equations, "derive the matrix equations with SymPy")
    p.add_argument("spec", metavar="SPEC", help="the spec file")
    p.add_argument(
        "--format",
        choices=["latex", "text", "json"],
        default=None,
        help="default: from the output's suffix (.tex, .txt, .json), else latex",
    )
    p.add_argument(
        "--numbering",
        type=int,
        choices=[0, 1],
        default=None,
        help="number layers from 0 or 1 (default: the spec's numbering)",
    )
    p.add_argument("-o", "--output", default="-", help="output file (default: '-', stdout)")

    p = command("evaluate", cmd_evaluate, "run the network on a batch of columns")
    p.add_argument("spec", metavar="SPEC", help="the spec file")
    p.add_argument("--params", required=True, metavar="P.npz", help="W0, b0, W1, b1, ...")
    p.add_argument(
        "--input",
        required=True,
        metavar="X.npy",
        help="inputs, shape (n_inputs, m): one column per sample",
    )
    p.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="Y.npy",
        help="Y.npy (or .csv, .txt as text); '-' writes .npy to a pipe "
        "(default: the numbers as text on stdout)",
    )
    p.add_argument(
        "--engine",
        choices=["numpy", "sympy", "collapsed"],
        default="numpy",
        help="numpy (default), the lambdified SymPy equations, or W x + B of a linear network",
    )

    p = command("check", cmd_check, "verify every symbolic result numerically")
    p.add_argument("specs", nargs="+", metavar="SPEC", help="spec files to check")
    p.add_argument(
        "--format", choices=["text", "json"], default="text", help="report format (default: text)"
    )
    p.add_argument("--seed", type=int, default=0, help="random parameters and inputs (default 0)")
    p.add_argument("--against", default=None, metavar="MODEL", help=".onnx or .keras to compare")
    p.add_argument("--params", default=None, metavar="P.npz", help="the spec's weights")
    p.add_argument("--input", default=None, metavar="X.npy", help="inputs (default: random)")

    p = command("gradients", cmd_gradients, "backpropagation: dW, db for a batch")
    p.add_argument("spec", metavar="SPEC", help="the spec file")
    p.add_argument("--params", required=True, metavar="P.npz", help="W0, b0, W1, b1, ...")
    p.add_argument("--input", required=True, metavar="X.npy", help="inputs, shape (n_inputs, m)")
    p.add_argument("--target", required=True, metavar="Y.npy", help="targets, shape (n_outputs, m)")
    p.add_argument(
        "--loss", choices=["mse", "bce", "ce"], default=None, help="default: the spec's loss"
    )
    p.add_argument("-o", "--output", required=True, metavar="G.npz", help="dW0, db0, ... (.npz)")

    p = command("train", cmd_train, "gradient descent on the spec's loss: X, Y -> P.npz")
    p.add_argument("spec", metavar="SPEC", help="the spec file")
    p.add_argument("--data", required=True, metavar="X.npy", help="inputs, shape (n_inputs, m)")
    p.add_argument(
        "--targets", required=True, metavar="Y.npy", help="targets, shape (n_outputs, m)"
    )
    p.add_argument("-o", "--output", required=True, metavar="P.npz", help="the trained parameters")
    p.add_argument("--steps", type=int, default=1000, help="gradient steps (default 1000)")
    p.add_argument("--lr", type=float, default=0.5, help="learning rate (default 0.5)")
    p.add_argument("--seed", type=int, default=0, help="initial parameters and batch order")
    p.add_argument("--init", default=None, metavar="P0.npz", help="start from these parameters")
    p.add_argument("--batch", type=int, default=None, help="samples per step (default: all)")
    p.add_argument("--momentum", type=float, default=0.0, help="0 (default): plain descent")
    p.add_argument(
        "--loss", choices=["mse", "bce", "ce"], default=None, help="default: the spec's loss"
    )
    p.add_argument("--history", default=None, metavar="H.csv", help="step,cost per step")

    p = command("import", cmd_import, "read an ONNX, Keras or PyTorch model into a spec + P.npz")
    p.add_argument("model", metavar="MODEL", help=".onnx, .keras, or .safetensors/.pt with --spec")
    p.add_argument("-o", "--output", required=True, metavar="SPEC.yaml", help="the spec to write")
    p.add_argument("--params", required=True, metavar="P.npz", help="the weights to write")
    p.add_argument(
        "--spec", default=None, metavar="ARCH.yaml", help="architecture of a weights file"
    )

    p = command("check-derivation", cmd_check_derivation, "check each step of a derivation")
    p.add_argument("file", metavar="FILE", help="a derivation file (YAML: symbols, steps)")
    p.add_argument(
        "--format", choices=["text", "json"], default="text", help="report format (default: text)"
    )
    p.add_argument(
        "--accept-numeric",
        action="store_true",
        help="let a step that is not proven pass when float64 agrees at every finite trial "
        "(marked ≈, never ✓)",
    )

    p = command("build", cmd_build, "build the MkDocs site")
    p.add_argument(
        "-f",
        "--config-file",
        default="mkdocs.yml",
        help="the site's configuration (default: mkdocs.yml)",
    )
    p.add_argument("--strict", action="store_true", help="fail on any warning")

    p = command("serve", cmd_serve, "serve the MkDocs site with live reload of specs")
    p.add_argument(
        "-f",
        "--config-file",
        default="mkdocs.yml",
        help="the site's configuration (default: mkdocs.yml)",
    )
    p.add_argument(
        "-a",
        "--dev-addr",
        default="127.0.0.1:8000",
        help="address to serve on (default: 127.0.0.1:8000)",
    )

    p = command("generate", cmd_generate, "write gallery pages (Markdown + SVG) for any generator")
    p.add_argument(
        "specs_dir",
        nargs="?",
        default="diagrams",
        metavar="SPECS_DIR",
        help="the folder of spec files (default: diagrams)",
    )
    p.add_argument("-o", "--output", required=True, metavar="DOCS_DIR", help="where the pages go")
    return parser


# Escape sequences start with ESC or C1 CSI; BEL, DEL, NUL, bidirectional controls and line
# separators rewrite what a terminal shows. Spec text is refused at load; this is the backstop
# for anything else an error line quotes (a file name, a command-line value).
_TERMINAL_UNSAFE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)


def terminal_safe(line: str) -> str:
    """``line`` with every character a terminal would obey written as a visible escape."""
    return _TERMINAL_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


def main(argv: Sequence[str] | None = None) -> int:
    global _OWNS_PROCESS
    _OWNS_PROCESS = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        handler: Handler = args.handler
        with warnings.catch_warnings():
            # No warning reaches the user: what a warning would say (overflow, nan) is checked
            # where it matters and refused in one line. --debug shows them.
            if not debug:
                warnings.simplefilter("ignore")
            return handler(args)
    except NNDiagramError as error:
        if debug:
            raise
        line = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(terminal_safe(line), file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("nndiagram: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
