"""The hand-written numpy backprop (the oracle) against central differences of its own loss, and both
engines against the oracle: the Tensor engine to 1e-12 on MLPs of several depths and activations, the
Value engine on the 2-2-1 net."""

from __future__ import annotations

import numpy as np
import pytest

import autograd
from autograd import Tensor, Value, linear
from nn.numpy_reference import ACTIVATIONS, NumpyMLP

CONFIGS = [
    ([2, 2, 1], ["sigmoid", "sigmoid"]),
    ([2, 16, 16, 1], ["relu", "sigmoid", "sigmoid"]),
    ([3, 5, 4, 3, 2], ["tanh", "leaky_relu", "identity", "sigmoid"]),
    ([4, 3], ["identity"]),
    ([1, 6, 6, 6, 6, 1], ["tanh", "relu", "leaky_relu", "sigmoid", "identity"]),
]


def data(sizes: list[int], n: int = 7, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(-2, 2, (n, sizes[0])), rng.uniform(0, 1, (n, sizes[-1]))


def central_differences(model: NumpyMLP, X: np.ndarray, Y: np.ndarray, eps: float = 1e-6) -> dict[str, np.ndarray]:
    """∂L/∂θ for every parameter entry by (L(θ + h) - L(θ - h)) / 2h, using only the oracle's forward pass."""
    grads = {}
    for l, params in enumerate(zip(model.W, model.b), start=1):
        for name, p in zip((f"W[{l}]", f"b[{l}]"), params):
            g = np.empty_like(p)
            for index in np.ndindex(p.shape):
                original = p[index]
                p[index] = original + eps
                plus = model.loss(X, Y)
                p[index] = original - eps
                minus = model.loss(X, Y)
                p[index] = original
                g[index] = (plus - minus) / (2 * eps)
            grads[name] = g
    return grads


@pytest.mark.parametrize("sizes, activations", CONFIGS)
def test_oracle_backprop_matches_central_differences(sizes, activations):
    model = NumpyMLP.random(sizes, activations, seed=3)
    X, Y = data(sizes)
    loss, grads = model.named_gradients(X, Y)
    assert loss == pytest.approx(np.mean((model.forward(X)[0] - Y) ** 2), rel=1e-15)
    numeric = central_differences(model, X, Y)
    assert sorted(grads) == sorted(numeric)
    for name in grads:
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-5, atol=1e-8, err_msg=name)


def tensor_loss(state: dict[str, np.ndarray], activations: list[str], X: np.ndarray, Y: np.ndarray):
    params = {name: Tensor(value, name, requires_grad=True) for name, value in state.items()}
    a = Tensor(X)
    for l, activation in enumerate(activations, start=1):
        z = linear(a, params[f"W[{l}]"], params[f"b[{l}]"])
        a = {"sigmoid": z.sigmoid, "tanh": z.tanh, "relu": z.relu, "identity": lambda z=z: z,
             "leaky_relu": lambda z=z: z.leaky_relu(0.01)}[activation]()
    return ((a - Y) ** 2).mean(), params


@pytest.mark.parametrize("sizes, activations", CONFIGS)
@pytest.mark.parametrize("n", [1, 100])
def test_tensor_engine_matches_the_oracle_to_1e_12(sizes, activations, n):
    model = NumpyMLP.random(sizes, activations, seed=11)
    X, Y = data(sizes, n=n, seed=n)
    loss, params = tensor_loss(model.state_dict(), activations, X, Y)
    loss.backward()
    expected_loss, expected = model.named_gradients(X, Y)
    assert abs(loss.item() - expected_loss) <= 1e-12 * max(1.0, abs(expected_loss))
    for name, p in params.items():
        assert p.grad.shape == expected[name].shape
        np.testing.assert_allclose(p.grad, expected[name], rtol=1e-12, atol=1e-12, err_msg=name)


def test_value_engine_matches_the_oracle_on_the_2_2_1_net():
    model = NumpyMLP.random([2, 2, 1], ["sigmoid", "sigmoid"], seed=5)
    X, Y = data([2, 2, 1], n=3)
    state = {k: [[Value(v) for v in row] for row in np.atleast_2d(m)] for k, m in model.state_dict().items()}
    total = Value(0.0)
    for x, y in zip(X, Y):
        hidden = [autograd.dot(state["W[1]"][j], list(x), state["b[1]"][0][j]).sigmoid() for j in range(2)]
        out = autograd.dot(state["W[2]"][0], hidden, state["b[2]"][0][0]).sigmoid()
        total = total + (out - float(y[0])) ** 2
    loss = total / len(X)
    loss.backward()
    expected_loss, expected = model.named_gradients(X, Y)
    assert abs(loss.data - expected_loss) <= 1e-14
    for name, rows in state.items():
        np.testing.assert_allclose(np.array([[v.grad for v in row] for row in rows]),
                                   np.atleast_2d(expected[name]), rtol=1e-12, atol=1e-14, err_msg=name)


def test_sgd_step_moves_every_parameter_by_minus_lr_times_its_gradient():
    model = NumpyMLP.random([2, 3, 1], ["tanh", "sigmoid"], seed=2)
    X, Y = data([2, 3, 1])
    before = model.state_dict()
    loss, grads = model.named_gradients(X, Y)
    assert model.sgd_step(X, Y, lr=0.5) == loss
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(value, before[name] - 0.5 * grads[name], rtol=1e-15, atol=1e-16)
    assert model.loss(X, Y) < loss


def test_matrix_form_in_the_reports_notation():
    # One layer, identity: L = mean((XWᵀ + b - Y)²) so δ = 2(out - Y)/size, dW = δᵀX, db = Σ δ
    model = NumpyMLP([[[1.0, -2.0]]], [[0.5]], ["identity"])
    X, Y = np.array([[1.0, 2.0], [3.0, 0.0]]), np.array([[0.0], [1.0]])
    out = X @ np.array([1.0, -2.0]) + 0.5  # [-2.5, 3.5]
    delta = 2 * (out - Y[:, 0]) / 2  # [-2.5, 2.5]
    _, dW, db = model.gradients(X, Y)
    np.testing.assert_allclose(dW[0], [[delta @ X[:, 0], delta @ X[:, 1]]], rtol=1e-15)
    np.testing.assert_allclose(db[0], [delta.sum()], atol=1e-15)


def test_state_dict_layout_and_round_trip():
    model = NumpyMLP.random([3, 4, 2], ["relu", "identity"], seed=0)
    state = model.state_dict()
    assert {k: v.shape for k, v in state.items()} == {"W[1]": (4, 3), "b[1]": (4,), "W[2]": (2, 4), "b[2]": (2,)}
    copy = NumpyMLP.from_state_dict(state, ["relu", "identity"])
    X = np.ones((2, 3))
    np.testing.assert_array_equal(copy.forward(X)[0], model.forward(X)[0])
    state["W[1]"][0, 0] += 1.0  # state_dict returns copies
    assert model.W[0][0, 0] != state["W[1]"][0, 0]


@pytest.mark.parametrize("build, message", [
    (lambda: NumpyMLP([np.ones((2, 2))], [np.ones(2)], ["softplus"]), "unknown activation 'softplus'"),
    (lambda: NumpyMLP([np.ones((2, 2))], [], ["relu"]), "one weight matrix, bias and activation per layer"),
    (lambda: NumpyMLP([np.ones((2, 2))], [np.ones(3)], ["relu"]), "layer 1: weights W must be"),
    (lambda: NumpyMLP([np.ones((2, 2)), np.ones((1, 3))], [np.ones(2), np.ones(1)], ["relu", "relu"]),
     "layer 2: W has 3 inputs but layer 1 has 2 outputs"),
    (lambda: NumpyMLP.from_state_dict({"W[1]": np.ones((1, 1))}, ["relu"]), "lacks \\['b\\[1\\]'\\]"),
    (lambda: NumpyMLP.random([2, 1], ["relu"]).loss(np.ones((3, 2)), np.ones(4)), "targets Y have shape \\(4,\\)"),
])
def test_bad_construction_is_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_sigmoid_is_stable_and_every_activation_has_a_derivative():
    f, _ = ACTIVATIONS["sigmoid"]
    assert f(np.array([-1e6, 0.0, 1e6])).tolist() == [0.0, 0.5, 1.0]
    assert set(ACTIVATIONS) == {"sigmoid", "tanh", "relu", "leaky_relu", "identity"}
