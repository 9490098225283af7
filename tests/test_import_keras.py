"""Keras 3 in (torch backend): .keras archives and live models, the evaluator equal to Keras,
and archives with a Lambda layer, a custom object or an unsupported layer refused by name."""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import pytest

import nndiagram
from nndiagram.errors import NNDiagramError
from nndiagram.importers import from_keras, import_model
from nndiagram.numeric.forward import forward


def save(model: keras.Model, path: Path) -> None:
    # Keras 3.15 on torch converts its variables with __array__ lacking numpy 2's copy keyword
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        model.save(path)


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def keras_output(
    model: keras.Model, X: np.ndarray, shape: tuple[int, ...], dtype: str
) -> np.ndarray:
    batch = X.T.reshape(X.shape[1], *shape).astype(dtype)
    return model(batch, training=False).detach().numpy().astype(np.float64).T


def mnist(dtype: str = "float32") -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((28, 28), dtype=dtype),
            keras.layers.Flatten(dtype=dtype),
            keras.layers.Dense(128, activation="relu", dtype=dtype, name="hidden1"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(64, dtype=dtype),
            keras.layers.LeakyReLU(0.1, dtype=dtype),
            keras.layers.Dense(10, activation="softmax", dtype=dtype, bias_initializer="ones"),
        ],
        name="digits",
    )


def test_mnist_sized_archive_equals_keras(tmp_path: Path) -> None:
    model = mnist()
    save(model, tmp_path / "digits.keras")
    imported = import_model(tmp_path / "digits.keras")
    network = imported.network
    assert network.title == "digits" and network.sizes == (784, 128, 64, 10)
    kinds = [(layer.activation.name, layer.activation.alpha) for layer in network.layers]
    assert kinds == [("relu", None), ("leaky_relu", pytest.approx(0.1)), ("softmax", None)]
    assert imported.dtype == "float32" and imported.input_shape == (28, 28)
    X = np.random.default_rng(0).uniform(size=(784, 16)).astype(np.float32).astype(np.float64)
    assert (
        relative(forward(network, imported.params, X), keras_output(model, X, (28, 28), "float32"))
        < 1e-5
    )
    assert np.array_equal(imported.params["b2"], np.ones(10))
    report = nndiagram.check(network, params=imported.params, against=tmp_path / "digits.keras")
    assert report.checks[-1].name == "framework" and report.checks[-1].status == "pass"


def test_float64_functional_chain_keeps_its_weights_and_is_held_to_keras_precision() -> None:
    """Keras 3 computes a float64 model's products in float32 (its type promotion turns 64-bit
    results into 32-bit, as JAX does): the weights come in exact, the check is float32's."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((5,), dtype="float64")
    h = keras.layers.Dense(4, activation="tanh", dtype="float64")(inputs)
    h = keras.layers.Dense(3, use_bias=False, dtype="float64")(h)
    out = keras.layers.Activation("sigmoid", dtype="float64")(h)
    model = keras.Model(inputs, out)
    network, params = from_keras(model)
    assert network.sizes == (5, 4, 3)
    assert [layer.activation.name for layer in network.layers] == ["tanh", "sigmoid"]
    assert np.array_equal(params["b1"], np.zeros(3))
    X = np.random.default_rng(2).normal(size=(5, 9))
    assert np.array_equal(params["W0"], model.layers[1].kernel.value.detach().numpy().T)
    assert params["W0"].dtype == np.float64
    assert relative(forward(network, params, X), keras_output(model, X, (5,), "float64")) < 1e-5
    report = nndiagram.check(network, params=params, against=model)
    assert report.passed and report.checks[-1].tolerance == 1e-5


def refusal(path: Path) -> str:
    with pytest.raises(NNDiagramError) as caught:
        import_model(path)
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)
    assert str(path) in str(caught.value)
    return str(caught.value)


def rewrite_config(source: Path, target: Path, change) -> Path:
    """A copy of an archive whose config.json was edited (as an attacker would)."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                change(config)
                data = json.dumps(config).encode()
            copy.writestr(item, data)
    return target


def test_lambda_custom_and_unsupported_layers_are_refused_before_loading(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    save(model, tmp_path / "plain.keras")
    marker = tmp_path / "ran"

    def to_lambda(config):
        layer = config["config"]["layers"][2]
        layer["class_name"] = "Lambda"
        layer["config"]["function"] = {"class_name": "__lambda__", "config": {"code": str(marker)}}

    message = refusal(
        rewrite_config(tmp_path / "plain.keras", tmp_path / "lambda.keras", to_lambda)
    )
    assert "(Lambda, layer 3 of 3): a Lambda layer runs Python code" in message

    def to_custom(config):
        layer = config["config"]["layers"][1]
        layer["module"] = "evil_package.layers"
        layer["registered_name"] = "Custom>Backdoor"

    message = refusal(
        rewrite_config(tmp_path / "plain.keras", tmp_path / "custom.keras", to_custom)
    )
    assert "layer 2 of 3) is a custom object" in message
    assert not marker.exists()

    conv = keras.Sequential(
        [
            keras.Input((8, 1)),
            keras.layers.Conv1D(2, 3, name="c1"),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    save(conv, tmp_path / "conv.keras")
    assert "layer 'c1' (Conv1D, layer 2 of 4) is not supported" in refusal(tmp_path / "conv.keras")


def test_branching_functional_models_and_bad_activations_are_refused(tmp_path: Path) -> None:
    inputs = keras.Input((4,))
    a = keras.layers.Dense(3, name="left")(inputs)
    b = keras.layers.Dense(3, name="right")(inputs)
    model = keras.Model(inputs, keras.layers.Add(name="sum")([a, b]))
    save(model, tmp_path / "branch.keras")
    message = refusal(tmp_path / "branch.keras")  # two Dense layers read the input
    assert "the output of 'input_layer" in message and "feeds left, right" in message
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3, activation="gelu", name="g")]
    )
    with pytest.raises(NNDiagramError, match="activation 'gelu' is not supported"):
        from_keras(model)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(3, activation="relu"),
            keras.layers.Activation("tanh", name="twice"),
        ]
    )
    with pytest.raises(NNDiagramError, match=r"'twice'.*follows another activation"):
        from_keras(model)


def test_a_file_that_is_not_a_keras_archive(tmp_path: Path) -> None:
    (tmp_path / "text.keras").write_text("hello")
    assert "not a Keras 3 archive" in refusal(tmp_path / "text.keras")
    with zipfile.ZipFile(tmp_path / "empty.keras", "w") as archive:
        archive.writestr("metadata.json", "{}")
    assert "no config.json inside" in refusal(tmp_path / "empty.keras")
