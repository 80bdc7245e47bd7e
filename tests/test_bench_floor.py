"""bench/floor.py, the benchmark's floor engine, computes the same gradients as the hand-written numpy oracle (so
``bench.bench_tensor`` compares equal work), and its graphs hold no reference cycles (so no collector time is
charged to it that ours does not pay either)."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from bench import floor
from nn.numpy_reference import NumpyMLP

ACTIVATIONS = ("relu", "relu", "sigmoid")


def _loss(style: str, state: dict, X: np.ndarray, Y: np.ndarray) -> tuple[floor.Node, dict]:
    """The floor's loss on W2's network, and its parameter nodes keyed like ``state`` (W in nn's layout)."""
    nodes = {k: floor.Node(v.T.copy() if style == "generic" and v.ndim == 2 else v.copy()) for k, v in state.items()}
    a = floor.Node(X)
    for l, name in enumerate(ACTIVATIONS, start=1):
        W, b = nodes[f"W[{l}]"], nodes[f"b[{l}]"]
        a = getattr(a @ W + b if style == "generic" else floor.linear(a, W, b), name)()
    target = floor.Node(Y)
    loss = (a - target).square().mean() if style == "generic" else floor.mse_loss(a, target)
    return loss, nodes


@pytest.mark.parametrize("style", ["generic", "fused"])
def test_the_floor_gives_the_numpy_oracles_loss_and_gradients(style):
    rng = np.random.default_rng(3)
    X = rng.uniform(0.0, 1.0, (20, 2))
    Y = (X[:, :1] <= X[:, 1:]).astype(np.float64)
    oracle = NumpyMLP.random((2, 5, 4, 1), ACTIVATIONS, seed=3)
    expected_loss, expected = oracle.named_gradients(X, Y)
    loss, nodes = _loss(style, oracle.state_dict(), X, Y)
    loss.backward()
    assert float(loss.data) == pytest.approx(expected_loss, rel=1e-13)
    for key, grad in expected.items():
        got = nodes[key].grad.T if style == "generic" and grad.ndim == 2 else nodes[key].grad
        np.testing.assert_allclose(got, grad, rtol=1e-11, atol=1e-14, err_msg=key)


@pytest.mark.parametrize("style", ["generic", "fused"])
def test_the_floors_graph_is_freed_without_the_collector(style):
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(8, 2))
    state = NumpyMLP.random((2, 3, 3, 1), ACTIVATIONS, seed=0).state_dict()
    gc.collect()
    gc.disable()
    try:
        loss, _ = _loss(style, state, X, (X[:, :1] <= X[:, 1:]).astype(float))
        loss.backward()
        del loss
        assert gc.collect() == 0  # nothing was left for the collector: no cycle held a node
    finally:
        gc.enable()
