"""bench/tricks.py switches each speed trick off by putting the plain path in its place: the two must compute the
same gradients (else the A/B would compare unequal work), and the trick must be back afterwards."""

from __future__ import annotations

import numpy as np
import pytest

from autograd import Tensor, linear, mse_loss, tensor, value
from bench.bench_scalar import OursMLP, init_mlp, make_data
from bench.tricks import TRICKS, main


def _gradients(style: str) -> list[float]:
    weights, biases = init_mlp(sizes=(2, 3, 3, 1))
    xs, ys = make_data(n=5)
    net = OursMLP(style, weights, biases, xs, ys)
    net.loss().backward()
    return [p.grad for p in net.parameters]


@pytest.mark.parametrize("name, style", [("engine-op propagate", "binary"), ("dot propagate", "dot")])
def test_a_trick_switched_off_gives_the_same_gradients_and_comes_back(name, style):
    originals = (value._EngineOp.__dict__["propagate"], value._DotOp.__dict__["propagate"])
    with_trick = _gradients(style)
    with TRICKS[name][1]():
        assert (value._EngineOp.__dict__["propagate"],
                value._DotOp.__dict__["propagate"]) != originals  # something was switched off
        without = _gradients(style)
    assert (value._EngineOp.__dict__["propagate"], value._DotOp.__dict__["propagate"]) == originals
    assert without == pytest.approx(with_trick, rel=1e-14, abs=1e-15)


def _same_without(gradients, trick: str, name: str) -> list:
    """``gradients()`` with the Tensor trick ``tensor.<name>`` on, after checking that switching it off gives the
    same ones and that it is back afterwards."""
    original = getattr(tensor, name)
    with_trick = gradients()
    with TRICKS[trick][1]():
        assert getattr(tensor, name) is not original
        without = gradients()
    assert getattr(tensor, name) is original
    for a, c in zip(with_trick, without):
        np.testing.assert_allclose(a, c, rtol=1e-13, atol=1e-15)
    return with_trick


def test_matrix_products_switched_off_give_the_same_gradients_and_come_back():
    rng = np.random.default_rng(3)
    w, b = Tensor(rng.normal(size=(3, 4)), requires_grad=True), Tensor(rng.normal(size=3), requires_grad=True)
    m = Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    x, y = Tensor(rng.normal(size=(5, 4))), rng.normal(size=(5, 2))

    def gradients() -> list:
        mse_loss(linear(x, w, b).tanh() @ m, y).backward()
        grads = [p.grad for p in (w, b, m)]
        w.grad = b.grad = m.grad = None
        return grads

    with_trick = _same_without(gradients, "tensor matrix products, fused W2", "_matrix_product")
    # and both are the hand-derived VJPs: dL/dm = hᵀ (2 (h m - y) / n), h = tanh(x wᵀ + b)
    h = np.tanh(x.data @ w.data.T + b.data)
    np.testing.assert_allclose(with_trick[2], h.T @ (2 * (h @ m.data - y) / y.size), rtol=1e-12)


def test_the_script_prints_a_row_per_trick(capsys):
    assert main(["--rounds", "1", "--only", "dot"]) == 0
    out = capsys.readouterr().out
    assert "| dot propagate |" in out and "engine-op" not in out
    with pytest.raises(SystemExit):
        main(["--rounds", "0"])


@pytest.mark.parametrize("generic", [False, True])
def test_sums_over_leading_axes_switched_off_give_the_same_gradients_and_come_back(generic):
    rng = np.random.default_rng(4)
    w, b = Tensor(rng.normal(size=(3, 4)), requires_grad=True), Tensor(rng.normal(size=3), requires_grad=True)
    x, y = Tensor(rng.normal(size=(5, 4))), rng.normal(size=(5, 3))

    def gradients() -> list:
        out = (x @ w.T + b) if generic else linear(x, w, b)
        mse_loss(out.tanh(), y).backward()
        grads = [w.grad, b.grad]
        w.grad = b.grad = None
        return grads

    with_trick = _same_without(gradients, "tensor sums over leading axes, generic W2", "sum_leading")
    # and both are the hand-derived bias gradient: Σ over the rows of 2 (h - y) / n · (1 - h²)
    h = np.tanh(x.data @ w.data.T + b.data)
    np.testing.assert_allclose(with_trick[1], (2 * (h - y) / y.size * (1 - h * h)).sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("module, argv, message", [
    ("bench.tricks", ["--only", "junk"], "matches no trick"),
    ("bench.memory", ["--chunks", "0"], "--chunks must be at least 1"),
    ("bench.memory", ["--chunks", "5", "--value-epochs", "2"], "--value-epochs must be at least --chunks"),
    ("bench.bench_tensor", ["--repeat", "0"], "--repeat must be at least 1"),
    ("bench.ab_engine", [".", ".", "--rounds", "0"], "--rounds and --reps must be at least 1"),
])
def test_the_benchmarks_refuse_counts_that_would_measure_nothing(module, argv, message, capsys):
    import importlib
    with pytest.raises(SystemExit) as stop:
        importlib.import_module(module).main(argv)
    assert stop.value.code == 2 and message in capsys.readouterr().err
