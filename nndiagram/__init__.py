"""nndiagram: one neural-network spec in; diagram, equations and numbers out, checked together."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import model as _model

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from .model import Network

__all__ = [
    "Figure",
    "Network",
    "__version__",
    "check",
    "derive",
    "evaluate",
    "explore",
    "from_keras",
    "from_onnx",
    "from_torch",
    "gv",
    "load_spec",
    "load_spec_text",
    "render",
    "spec_from_dict",
    "train",
]


def __dir__() -> list[str]:
    # Tab completion in Jupyter and IPython: the lazy names are listed although not yet loaded.
    return sorted(set(globals()) | set(__all__))


def __getattr__(name: str) -> Any:
    # Lazy: `import nndiagram` stays fast; SymPy and Graphviz load only when used.
    if name == "Network":
        from .model import Network

        return Network
    if name in ("load_spec", "load_spec_text", "spec_from_dict"):
        from .spec import load

        return getattr(load, name)
    if name == "derive":
        return _derive
    if name == "evaluate":
        from .verify.engines import evaluate

        return evaluate
    if name == "check":
        return _check
    if name == "explore":
        from .site.interactive import explore

        return explore
    if name in ("from_torch", "from_keras", "from_onnx"):
        from . import importers

        return getattr(importers, name)
    if name == "Figure":
        from .notebook import Figure

        return Figure
    if name == "train":
        from .numeric.train import train

        return train
    if name == "render":
        from .diagram import render

        return render
    if name == "gv":
        from .diagram import gv

        return gv
    raise AttributeError(f"module 'nndiagram' has no attribute {name!r}")


def _network(network: Any) -> Network:
    """A Network, or a spec file's path read into one (what a new user passes first)."""
    import os

    from .model import Network

    if isinstance(network, Network):
        return network
    if isinstance(network, str | os.PathLike):
        from .spec.load import load_spec

        return load_spec(os.fspath(network))
    raise TypeError(
        f"expected a Network or a spec file's path, not {type(network).__name__} "
        "(nndiagram.load_spec, spec_from_dict and Network.from_sizes make one)"
    )


def _derive(network: Network | str, **options: Any) -> Any:
    """The equations of ``network`` (or of the spec file at that path), derived with SymPy."""
    from .symbolic import derive

    return derive(_network(network), **options)


_derive.__name__ = "derive"


def _check(
    network: Network | str,
    seed: int = 0,
    *,
    params: Any = None,
    against: Any = None,
    inputs: Any = None,
) -> Any:
    """Run every check on ``network``; the same seed gives the same report.

    ``against`` is the model the spec came from (a ``torch.nn.Module``, a Keras model, or an
    ``.onnx``/``.keras`` path) and ``params`` its weights (``P.npz`` names): a ``framework``
    row then compares the model in its own framework with nndiagram's evaluator, on ``inputs``
    (columns, shape (n_inputs, m); by default seeded random samples).

    >>> from nndiagram import Network
    >>> check(Network.from_sizes([2, 2, 1], "relu")).passed
    True
    """
    from .verify import check

    network = _network(network)
    if against is not None:
        # verify runs a model it is given; turning a framework's model into one is importers'
        from .importers.frameworks import reference_for

        against = reference_for(against)
    return check(network, seed, params=params, against=against, inputs=inputs)


_check.__name__ = "check"


def _show_network(network: Network, include: object, exclude: object) -> dict[str, str]:
    from .notebook import mimebundle

    return mimebundle(network, include, exclude)


def _from_sizes(sizes: Any, activations: Any = "identity", **options: Any) -> Network:
    from .spec.load import network_from_sizes

    return network_from_sizes(sizes, activations, **options)


# The core cannot import the stages above it; the package wires a Network's notebook display
# and the spec validation of Network.from_sizes.
_model.DISPLAY_HOOK = _show_network
_model.FROM_SIZES_HOOK = _from_sizes
