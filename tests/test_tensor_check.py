"""Gradient checking for Tensors: the numerical Jacobian against closed forms, gradcheck passing on
correct ops over random shapes (broadcasting included) and catching wrong ones, in both modes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import broadcast_shape_pairs, float_arrays, tensor_shapes

import autograd
from autograd import GradcheckError, Tensor, gradcheck, linear, numerical_jacobian, tensor_gradcheck
from autograd.tensor import TensorOp
from autograd.tensor import _apply as _apply_op

RNG = np.random.default_rng(7)


def test_numerical_jacobian_matches_closed_forms():
    x = Tensor(RNG.normal(size=3))
    (jac,) = numerical_jacobian(lambda t: t**3, x)
    np.testing.assert_allclose(jac, np.diag(3 * x.data**2), rtol=1e-8, atol=1e-9)
    a, b = Tensor(RNG.normal(size=(2, 3))), Tensor(RNG.normal(size=(3, 4)))
    ja, jb = numerical_jacobian(lambda p, q: p @ q, [a, b])
    assert ja.shape == (2, 4, 2, 3) and jb.shape == (2, 4, 3, 4)
    # ∂(AB)[i, j]/∂A[k, l] = δ_ik B[l, j];  ∂(AB)[i, j]/∂B[k, l] = A[i, k] δ_jl
    np.testing.assert_allclose(ja, np.einsum("ik,lj->ijkl", np.eye(2), b.data), atol=1e-9)
    np.testing.assert_allclose(jb, np.einsum("ik,jl->ijkl", a.data, np.eye(4)), atol=1e-9)
    (grad,) = numerical_jacobian(lambda t: (t * t).sum(), x)
    np.testing.assert_allclose(grad, 2 * x.data, rtol=1e-8)


def test_numerical_jacobian_leaves_the_inputs_untouched():
    x = Tensor([1.0, 2.0])
    before = x.data
    numerical_jacobian(lambda t: t.exp(), x)
    assert x.data is before and x.data.tolist() == [1.0, 2.0]


FUNCTIONS = {
    "mlp": lambda x, w, b: (linear(x, w, b).tanh() ** 2).mean(axis=0),
    "softmax": lambda x, w, b: (x @ w.T + b).softmax(axis=-1),
    "log_softmax": lambda x, w, b: (x @ w.T).log_softmax(axis=0) * b,
    "sigmoid": lambda x, w, b: ((x @ w.T).sigmoid() - b).abs().max(axis=1),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@given(n=st.integers(1, 4), n_in=st.integers(1, 3), n_out=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_gradcheck_passes_for_correct_graphs_in_full_jacobian_mode(name, n, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    x = Tensor(rng.normal(size=(n, n_in)))
    w = Tensor(rng.normal(size=(n_out, n_in)))
    b = Tensor(rng.normal(size=n_out) + 2.0)  # abs stays away from its kink
    assert tensor_gradcheck(FUNCTIONS[name], [x, w, b])


@given(shapes=broadcast_shape_pairs(), data=st.data())
def test_gradcheck_over_random_broadcasting_pairs(shapes, data):
    a = Tensor(data.draw(float_arrays(shapes[0], away_from_zero=0.3)))
    b = Tensor(data.draw(float_arrays(shapes[1], away_from_zero=0.3)))
    assert gradcheck(lambda p, q: (p * q + p / q - q).tanh(), [a, b])


@given(shape=tensor_shapes(1, 3, 5), data=st.data())
def test_gradcheck_in_projection_mode(shape, data):
    x = Tensor(data.draw(float_arrays(shape)))
    assert tensor_gradcheck(lambda t: (t.sigmoid() * t).log_softmax(axis=-1), x, max_full=0, projections=3)


def _scaled_tanh(scale: float) -> TensorOp:
    """tanh whose VJP is off by the factor ``scale`` (1 is correct)."""
    return TensorOp("tanh_scaled", "tanh", lambda xs, c: np.tanh(xs[0]),
                    lambda g, xs, o, c, n: (scale * g * (1.0 - o * o),))


def _apply(op: TensorOp, x: Tensor) -> Tensor:
    return _apply_op(op, (x,))


@pytest.mark.parametrize("max_full", [256, 0])
def test_gradcheck_uses_pytorchs_tolerance_form_and_names_the_wrong_op(max_full):
    x = Tensor(RNG.normal(size=(3, 4)) * 0.5)
    f = lambda op: (lambda t: _apply(op, t * 2.0) * 3.0)
    assert tensor_gradcheck(f(_scaled_tanh(1.0 + 1e-4)), x, max_full=max_full)  # inside rtol = 1e-3
    with pytest.raises(GradcheckError) as caught:
        tensor_gradcheck(f(_scaled_tanh(1.01)), x, max_full=max_full)
    message = str(caught.value)
    assert ("random projection" in message) == (max_full == 0)
    assert "node #4 tanh_scaled (input shapes (3, 4))" in message  # the leaves x, 2.0, 3.0, then mul, tanh
    assert [m.where.split()[2] for m in caught.value.node_mismatches] == ["tanh_scaled"]
    for m in caught.value.input_mismatches:
        assert abs(m.analytic - m.numeric) > m.allowed == pytest.approx(1e-5 + 1e-3 * abs(m.numeric))
    assert not tensor_gradcheck(f(_scaled_tanh(1.01)), x, max_full=max_full, raise_exception=False)
    assert tensor_gradcheck(f(_scaled_tanh(1.01)), x, max_full=max_full, rtol=0.05)


def test_full_mode_names_each_wrong_jacobian_entry():
    x = Tensor([[0.3, -0.2]], "x")
    with pytest.raises(GradcheckError) as caught:
        tensor_gradcheck(lambda t: _apply(_scaled_tanh(2.0), t), x)
    assert [m.where for m in caught.value.input_mismatches] == [
        "input 0 'x' (1, 2): ∂out[0, 0]/∂x[0, 0]", "input 0 'x' (1, 2): ∂out[0, 1]/∂x[0, 1]"]
    np.testing.assert_allclose([m.numeric for m in caught.value.input_mismatches], 1 - np.tanh([0.3, -0.2]) ** 2,
                               rtol=1e-8)


def test_gradcheck_leaves_grads_and_requires_grad_as_they_were():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.grad = np.array([5.0, 5.0])
    y = Tensor([3.0, 4.0])
    assert gradcheck(lambda p, q: (p * q).sum(), [x, y])
    assert x.grad.tolist() == [5.0, 5.0] and x.requires_grad and y.grad is None and not y.requires_grad


def test_a_function_independent_of_an_input_has_zero_jacobian_there():
    x, y = Tensor([1.0, 2.0]), Tensor([3.0])
    assert tensor_gradcheck(lambda p, q: p * 2.0, [x, y])
    assert tensor_gradcheck(lambda p, q: Tensor([1.0]), [x, y])


@pytest.mark.parametrize("call, error, message", [
    (lambda: tensor_gradcheck(1, [Tensor(1.0)]), TypeError, "callable"),
    (lambda: tensor_gradcheck(lambda t: t, [Tensor(1.0), 2.0]), TypeError, "input 1 is float"),
    (lambda: tensor_gradcheck(lambda t: 1.0, Tensor(1.0)), TypeError, "return a Tensor, got float"),
    (lambda: tensor_gradcheck(lambda t: t, Tensor(1.0), eps=0.0), ValueError, "eps must be > 0"),
    (lambda: tensor_gradcheck(lambda t: t, Tensor(1.0), atol=-1.0), ValueError, "atol"),
    (lambda: tensor_gradcheck(lambda t: t, Tensor(1.0), projections=0), ValueError, "projections must be an int >= 1"),
    (lambda: tensor_gradcheck(lambda t: t, Tensor(1.0), max_full=1.5), ValueError, "max_full"),
    (lambda: tensor_gradcheck(lambda t: t, "x"), TypeError, "Tensor or a sequence of Tensors"),
])
def test_bad_arguments_are_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_local_mismatches_checks_each_tensor_op_alone():
    x = Tensor(RNG.normal(size=(2, 3)), requires_grad=True)
    good = ((x * 2.0).sigmoid() @ Tensor(np.ones((3, 2)))).log_softmax()
    assert autograd.local_mismatches(good) == []
    bad = _apply(_scaled_tanh(-1.0), x * 2.0).sum()
    assert [m.where.split()[2] for m in autograd.local_mismatches(bad)] == ["tanh_scaled"]
