"""Numbers: the batched forward pass and losses (``forward``), the backward pass that gives
the gradients of the cost (``backward``) and gradient descent on it (``train``), all in NumPy
with samples as columns.
(The function ``forward`` is not re-exported here: the
name belongs to the module.)"""

from .backward import gradients
from .forward import cost, init_params, load_input, load_params, param_shapes
from .train import Training, train

__all__ = [
    "Training",
    "cost",
    "gradients",
    "init_params",
    "load_input",
    "load_params",
    "param_shapes",
    "train",
]
