"""gradcheck checks the engine as PyTorch's does (issue 6, item 7): a second backward on the same graph gives
the same gradients (reentrancy), gradients scale with the upstream gradient (linearity), and a float32 Tensor
input warns that the check expects float64. Each check is shown catching a deliberately broken engine."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from autograd import SCALAR_OPS, TENSOR_OPS, GradcheckError, GradcheckPrecisionWarning, Tensor, Value, gradcheck
from autograd.check import LINEARITY_SEED, tensor_gradcheck
from autograd.graph import add_contributions

X = [0.3, -1.1]


def value_f(a, b):
    return (a * b).tanh()  # tanh last: its upstream gradient is the seed itself


def tensor_f(t):
    return (t.tanh() * 1.5).sum()


def tensor_input():
    return Tensor([0.3, -1.1, 0.7], label="t")


# -- broken engines -----------------------------------------------------------------------------------------

@pytest.fixture
def stateful_value_tanh(monkeypatch):
    """tanh's local derivative accumulated into a buffer kept between calls (the classic += into a cache)."""
    tanh = SCALAR_OPS["tanh"]
    buffer = [0.0]

    def derivatives(xs, out, ctx):
        buffer[0] += 1.0 - out * out
        return [buffer[0]]

    monkeypatch.setattr(tanh, "derivatives", derivatives)


@pytest.fixture
def stateful_tensor_tanh(monkeypatch):
    tanh = TENSOR_OPS["tanh"]
    buffers = {}

    def vjp(g, xs, out, ctx, needs):
        buf = buffers.setdefault(out.shape, np.zeros(out.shape))
        buf += g * (1.0 - out * out)
        return (buf.copy(),)

    monkeypatch.setattr(tanh, "vjp", vjp)
    return buffers


@pytest.fixture
def upstream_ignoring_engines(monkeypatch):
    """tanh's backward forgets the chain rule's upstream factor: it passes on the local derivative alone."""
    def propagate(self, node):  # adds the local derivatives alone into the inputs' grads
        add_contributions(node, self.derivatives([x.data for x in node._inputs], node.data, node._ctx))

    tanh = SCALAR_OPS["tanh"]
    original = type(tanh).propagate
    monkeypatch.setattr(type(tanh), "propagate",
                        lambda self, node: propagate(self, node) if self is tanh else original(self, node))
    monkeypatch.setattr(TENSOR_OPS["tanh"], "vjp", lambda g, xs, out, ctx, needs: (1.0 - out * out,))


# -- the checks pass on the real engines ----------------------------------------------------------------------

def test_correct_engines_pass_both_self_checks():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # float64: no precision warning either
        assert gradcheck(value_f, [Value(x) for x in X]) is True
        assert gradcheck(tensor_f, [tensor_input()]) is True
        big = Tensor(np.linspace(-1, 1, 300).reshape(20, 15))  # the random-projection path
        assert tensor_gradcheck(lambda t: (t @ t.T).tanh().sum(axis=0), big, max_full=16) is True


def test_the_three_backward_passes_leave_the_inputs_grads_as_they_were():
    a, b = Value(X[0]), Value(X[1])
    a.grad, b.grad = 7.0, -3.0
    gradcheck(value_f, [a, b])
    assert (a.grad, b.grad) == (7.0, -3.0)
    t = tensor_input()
    gradcheck(tensor_f, t)
    assert t.grad is None and t.requires_grad is False


# -- reentrancy ------------------------------------------------------------------------------------------------

def test_a_stateful_value_derivative_is_caught_as_not_reentrant(stateful_value_tanh):
    with pytest.raises(GradcheckError) as caught:
        gradcheck(value_f, [Value(X[0], "a"), Value(X[1], "b")])
    message = str(caught.value)
    assert "backward is not reentrant" in message and "agree with finite differences" in message
    assert "input 0 'a'" in message and "keeps state between backward calls" in message
    # the second pass got twice the derivative: the report shows both numbers
    m = caught.value.input_mismatches[0]
    assert m.analytic == pytest.approx(2 * m.numeric, rel=1e-12)


def test_a_stateful_tensor_vjp_is_caught_as_not_reentrant(stateful_tensor_tanh):
    assert gradcheck(tensor_f, tensor_input(), raise_exception=False) is False
    stateful_tensor_tanh.clear()  # a fresh buffer: the first pass is right again
    with pytest.raises(GradcheckError, match=r"not reentrant(.|\n)*input 0 't' \(3,\)\[0\]: got"):
        gradcheck(tensor_f, tensor_input())


def test_nondet_tol_lets_a_small_nondeterminism_pass(monkeypatch):
    tanh = SCALAR_OPS["tanh"]
    calls = [0]

    def jittery(xs, out, ctx):
        calls[0] += 1
        return [(1.0 - out * out) * (1.0 + 1e-9 * calls[0])]

    monkeypatch.setattr(tanh, "derivatives", jittery)
    inputs = [Value(x) for x in X]
    with pytest.raises(GradcheckError, match="not reentrant"):
        gradcheck(value_f, inputs)
    assert gradcheck(value_f, inputs, nondet_tol=1e-6) is True
    with pytest.raises(ValueError, match="nondet_tol must be a finite non-negative number, got -1"):
        gradcheck(value_f, inputs, nondet_tol=-1)


# -- linearity ---------------------------------------------------------------------------------------------------

def test_an_engine_ignoring_the_upstream_gradient_is_caught_as_not_linear(upstream_ignoring_engines):
    # With the seed 1 such an engine gives the right gradient: only the scaling check sees the bug.
    a, b = Value(X[0], "a"), Value(X[1], "b")
    out = value_f(a, b)
    out.backward()
    assert a.grad == pytest.approx((1 - out.data**2) * X[1], rel=1e-12)
    with pytest.raises(GradcheckError) as caught:
        gradcheck(value_f, [a, b])
    message = str(caught.value)
    assert f"not linear in the upstream gradient: seeding it with {LINEARITY_SEED:g}" in message
    assert "input 0 'a': got" in message and "ignores it" in message
    with pytest.raises(GradcheckError, match="not linear in the upstream gradient"):
        gradcheck(lambda t: t.tanh().sum(), tensor_input())


def test_linearity_uses_the_engines_seed_path(monkeypatch):
    """A driver that clamps the seed to 1 is caught too (the check seeds run_backward itself)."""
    import autograd.graph as graph

    original = graph.run_backward
    monkeypatch.setattr(graph, "run_backward", lambda root, seed, *stamp: original(root, 1.0, *stamp))
    with pytest.raises(GradcheckError, match="not linear"):
        gradcheck(value_f, [Value(x) for x in X])


# -- float32 -------------------------------------------------------------------------------------------------------

def test_a_float32_tensor_input_warns_that_the_check_expects_float64():
    assert issubclass(GradcheckPrecisionWarning, UserWarning)
    t32 = Tensor([0.3, -1.1, 0.7], dtype=np.float32)
    with pytest.warns(GradcheckPrecisionWarning, match=r"expects float64 inputs, input 1 is float32") as record:
        gradcheck(lambda a, b: (a * b).sum(), [tensor_input(), t32], raise_exception=False)
    assert len(record) == 1  # warned once, not once per helper
    with pytest.warns(GradcheckPrecisionWarning):
        tensor_gradcheck(lambda t: t.tanh().sum(), t32, raise_exception=False)
