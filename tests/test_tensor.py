"""The Tensor engine: every op against central differences and closed-form derivatives written here,
broadcasting, the shared backward driver, grad mode, errors, extreme inputs, float32."""

from __future__ import annotations

import gc
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import broadcast_shape_pairs, float_arrays, tensor_shapes

import autograd
from autograd import DivisionByZeroError, DomainError, GradientShapeError, Tensor, linear, no_grad
from autograd.check import numerical_jacobian
from autograd.tensor import TENSOR_OPS, TensorOp

RNG = np.random.default_rng(20240601)


def leaf(data, label: str = "") -> Tensor:
    return Tensor(data, label, requires_grad=True)


def numeric_grad(f, *arrays: np.ndarray, eps: float = 1e-6) -> list[np.ndarray]:
    """Central differences of the scalar f(*Tensors) for each input: the reference every test compares to."""
    inputs = [Tensor(a) for a in arrays]
    return [j.reshape(a.shape) for j, a in zip(numerical_jacobian(lambda *t: f(*t).sum(), inputs, eps), arrays)]


def engine_grad(f, *arrays: np.ndarray, seed: np.ndarray | None = None) -> list[np.ndarray]:
    inputs = [leaf(a) for a in arrays]
    out = f(*inputs)
    out.backward(seed) if seed is not None else out.sum().backward()
    return [x.grad for x in inputs]


def assert_grads_match(f, *arrays: np.ndarray, atol: float = 1e-6, rtol: float = 1e-5) -> None:
    for i, (a, n) in enumerate(zip(engine_grad(f, *arrays), numeric_grad(f, *arrays))):
        assert a.shape == n.shape, f"input {i}: grad shape {a.shape} != {n.shape}"
        np.testing.assert_allclose(a, n, atol=atol, rtol=rtol, err_msg=f"input {i}")


# -- construction -------------------------------------------------------------------------------------

def test_constructor_makes_a_float64_copy():
    source = np.array([[1, 2], [3, 4]])
    t = Tensor(source, "x", requires_grad=True)
    assert t.data.dtype == np.float64 and t.shape == (2, 2) and t.ndim == 2 and t.size == 4
    source[0, 0] = 100
    assert t.data[0, 0] == 1.0
    assert t.label == "x" and t.requires_grad and t.grad is None and t.inputs == () and t.op is None
    assert Tensor(3).shape == () and Tensor([True, False]).data.tolist() == [1.0, 0.0]
    assert Tensor(np.float32([1.5])).dtype == np.float64  # float64 unless asked otherwise


@pytest.mark.parametrize("bad, error", [
    ("1.0", TypeError), (b"x", TypeError), ([1, "a"], TypeError), ({"a": 1}, TypeError), (1j, TypeError),
    ([[1, 2], [3]], ValueError), (None, TypeError),
])
def test_constructor_rejects_non_numbers(bad, error):
    with pytest.raises(error, match="Tensor"):
        Tensor(bad)


def test_constructor_checks_its_keywords():
    with pytest.raises(TypeError, match="label"):
        Tensor(1.0, 3)
    with pytest.raises(TypeError, match="requires_grad"):
        Tensor(1.0, requires_grad="yes")
    with pytest.raises(ValueError, match="float64.*float32.*int64"):
        Tensor(1.0, dtype=np.int64)


def test_ndarray_and_numbers_on_either_side_give_tensors():
    t = leaf([1.0, 2.0])
    for result in (np.ones(2) + t, t + np.ones(2), 2 * t, t * 2, 1 - t, t / 2, 2 / t, np.float64(3) * t,
                   [1.0, 1.0] - t, np.eye(2) @ t):
        assert isinstance(result, Tensor) and result.requires_grad
    assert (1 - t).data.tolist() == [0.0, -1.0] and (2 / t).data.tolist() == [2.0, 1.0]
    with pytest.raises(TypeError, match="unsupported operand for \\+: Tensor and str"):
        t + "a"
    assert np.asarray(t).tolist() == [1.0, 2.0] and np.array(t, dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError):
        np.exp(t)  # a numpy function would drop the graph: use t.exp()


# -- every op against central differences ------------------------------------------------------------

UNARY = {
    "neg": lambda x: -x,
    "exp": lambda x: x.exp(),
    "log": lambda x: (x * x + 0.5).log(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "softplus": lambda x: x.softplus(),
    "relu": lambda x: x.relu(),
    "leaky_relu": lambda x: x.leaky_relu(0.1),
    "abs": lambda x: abs(x),
    "pow_const": lambda x: x**3 - (x * x + 1.0) ** 0.5 + x**2,
    "sum": lambda x: x.sum(axis=0) * x.sum(keepdims=True),
    "mean": lambda x: x.mean(axis=-1, keepdims=True) * x,
    "max": lambda x: x.max(axis=0),
    "reshape": lambda x: x.reshape(-1) * np.arange(x.size),
    "transpose": lambda x: x.T * np.arange(x.size).reshape(x.T.shape),
    "softmax": lambda x: x.softmax(axis=-1) * np.arange(x.shape[-1]),
    "log_softmax": lambda x: x.log_softmax(axis=0) * np.arange(x.shape[0]).reshape((-1,) + (1,) * (x.ndim - 1)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_op_gradients_match_central_differences(name, data):
    shape = data.draw(tensor_shapes(1, 3, 4), label="shape")
    # away from kinks (relu, abs, leaky) and from ties of max by a margin much larger than eps
    x = data.draw(float_arrays(shape, away_from_zero=0.05), label="x")
    if name == "max":
        x = x + np.arange(x.size).reshape(shape) * 1e-3  # distinct entries: no ties
    assert_grads_match(UNARY[name], x)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: abs(a) ** b,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_broadcasting_binary_op_gradients_are_summed_back_to_each_shape(name, data):
    shape_a, shape_b = data.draw(broadcast_shape_pairs(), label="shapes")
    a = data.draw(float_arrays(shape_a, away_from_zero=0.3), label="a")
    b = data.draw(float_arrays(shape_b, away_from_zero=0.3), label="b")
    grads = engine_grad(BINARY[name], a, b)
    assert grads[0].shape == shape_a and grads[1].shape == shape_b
    assert_grads_match(BINARY[name], a, b)


@pytest.mark.parametrize("shape_a, shape_b", [((3, 1), (1, 4)), ((4,), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1))])
def test_broadcast_product_gradient_is_the_closed_form_sum(shape_a, shape_b):
    a, b = RNG.normal(size=shape_a), RNG.normal(size=shape_b)
    ga, gb = engine_grad(lambda x, y: x * y, a, b)
    full = np.broadcast_shapes(shape_a, shape_b)
    # d/da Σ a·b = Σ over the broadcast axes of b, written out with numpy's own broadcasting
    expected_a = np.broadcast_to(b, full).sum(axis=tuple(range(len(full) - len(shape_a))))
    expected_b = np.broadcast_to(a, full).sum(axis=tuple(range(len(full) - len(shape_b))))
    expected_a = expected_a.sum(axis=tuple(i for i, n in enumerate(shape_a) if n == 1), keepdims=True)
    expected_b = expected_b.sum(axis=tuple(i for i, n in enumerate(shape_b) if n == 1), keepdims=True)
    np.testing.assert_allclose(ga, expected_a.reshape(shape_a), rtol=1e-14)
    np.testing.assert_allclose(gb, expected_b.reshape(shape_b), rtol=1e-14)


@pytest.mark.parametrize("shape_a, shape_b", [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
                                              ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5))])
def test_matmul_gradients(shape_a, shape_b):
    a, b = RNG.normal(size=shape_a), RNG.normal(size=shape_b)
    assert_grads_match(lambda x, y: x @ y, a, b)
    if len(shape_a) == len(shape_b) == 2:
        g = RNG.normal(size=(shape_a[0], shape_b[1]))
        ga, gb = engine_grad(lambda x, y: x @ y, a, b, seed=g)
        np.testing.assert_allclose(ga, g @ b.T, rtol=1e-14)  # the reports' dA = G Bᵀ, dB = Aᵀ G
        np.testing.assert_allclose(gb, a.T @ g, rtol=1e-14)


@pytest.mark.parametrize("batch", [(5,), ()])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_is_one_node_with_the_reports_gradients(batch, with_bias):
    x, w, b = RNG.normal(size=batch + (3,)), RNG.normal(size=(4, 3)), RNG.normal(size=4)
    args = (x, w, b) if with_bias else (x, w)
    f = lambda *t: linear(*t)
    assert_grads_match(f, *args)
    tensors = [leaf(a) for a in args]
    out = linear(*tensors)
    assert out.op.name == "linear" and out.inputs == tuple(tensors)
    np.testing.assert_allclose(out.data, x @ w.T + (b if with_bias else 0), rtol=1e-14)
    g = RNG.normal(size=out.shape)
    out.backward(g)
    np.testing.assert_allclose(tensors[0].grad, g @ w, rtol=1e-14)
    np.testing.assert_allclose(tensors[1].grad, np.outer(g, x) if not batch else g.T @ x, rtol=1e-14)
    if with_bias:
        np.testing.assert_allclose(tensors[2].grad, g if not batch else g.sum(axis=0), rtol=1e-14)
        assert not np.shares_memory(tensors[2].grad, out.grad)  # a leaf owns its grad


def test_mse_loss_is_one_node_with_gradient_2_diff_over_n():
    pred, target = RNG.normal(size=(5, 2)), RNG.normal(size=(5, 2))
    p, t = leaf(pred), leaf(target)
    loss = autograd.mse_loss(p, t)
    assert loss.op.name == "mse_loss" and loss.inputs == (p, t) and loss.shape == ()
    assert loss.item() == pytest.approx(np.mean((pred - target) ** 2), rel=1e-14)
    loss.backward()
    np.testing.assert_allclose(p.grad, 2 * (pred - target) / 10, rtol=1e-14)
    np.testing.assert_allclose(t.grad, -2 * (pred - target) / 10, rtol=1e-14)
    assert_grads_match(lambda a, b: autograd.mse_loss(a.tanh(), b), pred, target)
    assert autograd.mse_loss(Tensor(pred), target).inputs == ()  # nothing requires grad: a leaf
    with pytest.raises(ValueError, match="target must have the predictions' shape \\(5, 2\\), got \\(10,\\)"):
        autograd.mse_loss(p, target.reshape(10))
    with pytest.raises(TypeError, match="pred must be a Tensor"):
        autograd.mse_loss(pred, t)


def test_linear_rejects_mismatched_shapes():
    w = leaf(np.ones((4, 3)))
    with pytest.raises(ValueError, match="x of shape"):
        linear(Tensor(np.ones((5, 2))), w)
    with pytest.raises(ValueError, match="bias must have shape \\(4,\\)"):
        linear(Tensor(np.ones((5, 3))), w, Tensor(np.ones((4, 1))))
    with pytest.raises(TypeError, match="weight must be a Tensor"):
        linear(Tensor(np.ones(3)), np.ones((4, 3)))


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_over_any_axis(axis, keepdims):
    x = RNG.normal(size=(2, 3, 4))
    for method in ("sum", "mean", "max"):
        out = getattr(leaf(x), method)(axis=axis, keepdims=keepdims)
        np.testing.assert_allclose(out.data, getattr(np, method)(x, axis=axis, keepdims=keepdims), rtol=1e-14)
        assert_grads_match(lambda t, m=method: getattr(t, m)(axis=axis, keepdims=keepdims) ** 2, x)
    count = x.size if axis is None else np.prod([x.shape[a] for a in np.atleast_1d(axis)])
    (g,) = engine_grad(lambda t: t.mean(axis=axis, keepdims=keepdims), x)
    np.testing.assert_allclose(g, np.full(x.shape, 1.0 / count), rtol=1e-15)


def test_max_shares_the_gradient_between_ties():
    (g,) = engine_grad(lambda t: t.max(axis=1), np.array([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]]))
    assert g.tolist() == [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]


def test_bad_axes_are_refused():
    t = leaf(np.ones((2, 3)))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        t.sum(axis=2)
    with pytest.raises(TypeError, match="axis must be None, an int or a tuple"):
        t.mean(axis=[0])
    with pytest.raises(ValueError, match="repeats"):
        t.max(axis=(0, -2))
    with pytest.raises(TypeError, match="softmax axis must be an int"):
        t.softmax(axis=None)


def test_reshape_and_transpose():
    x = RNG.normal(size=(2, 3, 4))
    assert leaf(x).reshape(4, 6).shape == (4, 6) and leaf(x).reshape((6, -1)).shape == (6, 4)
    assert leaf(x).transpose(1, 0, 2).shape == (3, 2, 4) and leaf(x).T.shape == (4, 3, 2)
    weights = RNG.normal(size=(4, 3, 2))
    assert_grads_match(lambda t: t.T * weights, x)
    assert_grads_match(lambda t: t.transpose(2, 0, 1) * weights.transpose(0, 2, 1), x)
    assert_grads_match(lambda t: t.reshape(6, 4) * weights.reshape(6, 4), x)
    with pytest.raises(ValueError, match="cannot reshape a Tensor of shape \\(2, 3, 4\\) to \\(5,\\)"):
        leaf(x).reshape(5)
    with pytest.raises(ValueError, match="not a permutation"):
        leaf(x).transpose(0, 0, 1)


def test_gathering_by_integer_labels_accumulates_repeated_picks():
    x = RNG.normal(size=(4, 3))
    labels = np.array([2, 0, 2, 1])
    (g,) = engine_grad(lambda t: t[np.arange(4), labels], x)
    expected = np.zeros((4, 3))
    expected[np.arange(4), labels] = 1.0
    np.testing.assert_array_equal(g, expected)
    (g,) = engine_grad(lambda t: t[[0, 0, 3]] * 2.0, x)  # row 0 picked twice
    np.testing.assert_array_equal(g, [[4.0] * 3, [0.0] * 3, [0.0] * 3, [2.0] * 3])
    (g,) = engine_grad(lambda t: t[1:, ::2], x)
    assert g.tolist() == [[0, 0, 0], [1, 0, 1], [1, 0, 1], [1, 0, 1]]
    (g,) = engine_grad(lambda t: t[t.data > 0], x)
    np.testing.assert_array_equal(g, (x > 0).astype(float))
    (g,) = engine_grad(lambda t: t[Tensor([3, 1])], x)
    assert g.sum(axis=1).tolist() == [0.0, 3.0, 0.0, 3.0]


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    logits = RNG.normal(size=(5, 4)) * 3
    labels = np.array([0, 3, 3, 1, 2])
    (g,) = engine_grad(lambda z: -z.log_softmax(axis=1)[np.arange(5), labels].mean(), logits)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(g, (probabilities - np.eye(4)[labels]) / 5, rtol=1e-12, atol=1e-15)


def test_softmax_vjp_is_the_closed_form_jacobian():
    x, v = RNG.normal(size=5), RNG.normal(size=5)
    (g,) = engine_grad(lambda t: t.softmax(), x, seed=v)
    s = np.exp(x) / np.exp(x).sum()
    np.testing.assert_allclose(g, (np.diag(s) - np.outer(s, s)).T @ v, rtol=1e-12)


@pytest.mark.parametrize("name, f, derivative", [
    ("sigmoid", lambda t: t.sigmoid(), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
    ("tanh", lambda t: t.tanh(), lambda x: 1 / np.cosh(x) ** 2),
    ("exp", lambda t: t.exp(), np.exp),
    ("log", lambda t: t.log(), lambda x: 1 / x),
    ("relu", lambda t: t.relu(), lambda x: (x > 0) * 1.0),
    ("leaky_relu", lambda t: t.leaky_relu(0.2), lambda x: np.where(x > 0, 1.0, 0.2)),
    ("abs", lambda t: abs(t), np.sign),
    ("pow", lambda t: t**1.5, lambda x: 1.5 * np.sqrt(x)),
])
def test_elementwise_derivatives_match_their_formulas(name, f, derivative):
    x = np.array([0.2, 0.7, 1.3, 2.9])
    (g,) = engine_grad(f, x)
    np.testing.assert_allclose(g, derivative(x), rtol=1e-12)
    if name in ("relu", "leaky_relu", "abs"):  # the kink conventions of Value, at 0 and below
        (g,) = engine_grad(f, np.array([-1.0, 0.0]))
        assert g.tolist() == {"relu": [0.0, 0.0], "leaky_relu": [0.2, 0.2], "abs": [-1.0, 0.0]}[name]


def test_tensor_exponent_and_number_base():
    a, b = np.array([0.5, 2.0, 3.0]), np.array([1.5, -0.5, 2.0])
    ga, gb = engine_grad(lambda x, y: x**y, a, b)
    np.testing.assert_allclose(ga, b * a ** (b - 1), rtol=1e-12)
    np.testing.assert_allclose(gb, a**b * np.log(a), rtol=1e-12)
    (g,) = engine_grad(lambda y: 2.0**y, b)
    np.testing.assert_allclose(g, 2.0**b * np.log(2.0), rtol=1e-12)
    (g,) = engine_grad(lambda x: x**0, a)
    assert g.tolist() == [0.0, 0.0, 0.0]


# -- the driver: accumulation, shapes, grad mode -------------------------------------------------------

def test_a_tensor_used_twice_gets_both_contributions():
    x = np.array([1.0, -2.0, 3.0])
    (g,) = engine_grad(lambda t: t * t + t * 3.0, x)
    np.testing.assert_allclose(g, 2 * x + 3, rtol=1e-15)
    t = leaf(x)
    (t + t).sum().backward()
    assert t.grad.tolist() == [2.0, 2.0, 2.0]


def test_propagate_and_the_checked_contributions_give_the_hand_derived_grads():
    # y = W x + b, L = Σ 2y² ⊙ 1 + Σ x: dL/dy = 4y, dL/dW = 4y xᵀ, dL/db = 4y, dL/dx = Wᵀ 4y + 1. y feeds add
    # twice (its grad aliases the upstream one) and mul; x feeds linear and sum; the ones require no grad.
    xv, wv, bv = np.array([0.5, -1.0, 2.0]), np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]]), np.array([0.25, -0.5])
    yv = wv @ xv + bv
    expected = {"x": wv.T @ (4 * yv) + 1.0, "W": np.outer(4 * yv, xv), "b": 4 * yv}
    for anomaly in (False, True):  # TensorOp.propagate, then contributions + add_contributions (anomaly mode)
        x, w, b = leaf(xv), leaf(wv), leaf(bv)
        y = linear(x, w, b)
        loss = ((y + y) * y * Tensor([1.0, 1.0])).sum() + x.sum()
        if anomaly:
            with autograd.detect_anomaly():
                loss.backward()
        else:
            loss.backward()
        for name, t in (("x", x), ("W", w), ("b", b)):
            np.testing.assert_allclose(t.grad, expected[name], rtol=1e-14, err_msg=f"{name}, anomaly={anomaly}")
        assert not any(np.shares_memory(p.grad, q.grad) for p, q in ((x, w), (x, b), (w, b)))


def test_leaves_accumulate_intermediates_restart():
    w = leaf([1.0, 2.0])
    hidden = w * 3.0
    loss = (hidden * hidden).sum()
    loss.backward()
    loss.backward()
    np.testing.assert_allclose(w.grad, 2 * (2 * 9 * np.array([1.0, 2.0])), rtol=1e-15)
    np.testing.assert_allclose(hidden.grad, 2 * np.array([3.0, 6.0]), rtol=1e-15)
    w.zero_grad()
    assert w.grad is None


def test_grads_are_arrays_of_their_tensors_shape_and_leaves_own_them():
    a, b, c = leaf(np.ones((3, 1))), leaf(np.ones((3, 1))), leaf(2.0)
    out = ((a + b).reshape(3) * c).sum()
    out.backward()
    for t in (a, b, c, out):
        assert type(t.grad) is np.ndarray and t.grad.shape == t.shape
    assert out.grad.tolist() == 1.0
    assert not np.shares_memory(a.grad, b.grad) and a.grad.flags.writeable
    a.grad += 1.0  # an optimizer may update grads in place: b is not affected
    assert b.grad.tolist() == [[2.0]] * 3 and c.grad.tolist() == 6.0


@pytest.mark.parametrize("f", [
    lambda a, b: (a.reshape(6) * b.reshape(6)).sum(),
    lambda a, b: (a.T @ b).sum(),
    lambda a, b: ((a + b) * (a - b)).sum(),
    lambda a, b: (a - b).sum() + linear(a[0], b, b[:, 0]).sum(),
])
def test_no_leaf_grad_shares_memory_with_another_grad(f):
    a, b = leaf(RNG.normal(size=(3, 2))), leaf(RNG.normal(size=(3, 2)))
    out = f(a, b)
    out.backward()
    grads = [n.grad for n in autograd.topological_order(out) if n.grad is not None]
    for x in (a, b):
        assert sum(np.shares_memory(x.grad, g) for g in grads) == 1, "a leaf's grad is shared"


def test_inputs_that_do_not_require_grad_get_none():
    x, w = Tensor(np.ones((2, 3))), leaf(np.ones((4, 3)))
    linear(x, w).sum().backward()
    assert x.grad is None and w.grad.tolist() == [[2.0] * 3] * 4
    assert not (Tensor(1.0) * 2).requires_grad and (Tensor(1.0) * 2).inputs == ()


def test_backward_of_a_non_scalar_needs_an_explicit_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    with pytest.raises(ValueError, match="one-element Tensor.*shape \\(3,\\).*gradient="):
        y.backward()
    with pytest.raises(ValueError, match="must have the Tensor's shape \\(3,\\), got \\(2,\\)"):
        y.backward([1.0, 1.0])
    y.backward([1.0, 0.0, 2.0])  # vᵀJ with J = diag(2x)
    assert x.grad.tolist() == [2.0, 0.0, 12.0]
    z = leaf([[2.0]])
    (z * 3).backward()  # one element: the implicit seed 1 applies
    assert z.grad.tolist() == [[3.0]]
    with pytest.raises(ValueError, match="requires grad"):
        Tensor([1.0]).sum().backward()


@pytest.mark.parametrize("wrong_shape", [(3,), (3, 2, 2), (1, 2)])
def test_a_wrong_gradient_shape_from_an_op_is_caught(wrong_shape):
    # (3, 2, 2) would broadcast onto (2, 2): only ops that broadcast may sum their gradients back
    broken = TensorOp("broken", "?", lambda xs, c: xs[0].sum(), lambda g, xs, o, c, n: (np.ones(wrong_shape),))
    x = leaf(np.ones((2, 2)))
    out = autograd.tensor._apply(broken, (x,))
    with pytest.raises(GradientShapeError, match=f"'broken' gave a gradient of shape \\{wrong_shape}"[:-1]):
        out.backward()


def test_a_node_no_contribution_reaches_gets_zeros_and_0d_sums_stay_arrays():
    silent = TensorOp("silent", "?", lambda xs, c: xs[0] * 1.0, lambda g, xs, o, c, n: (None,))
    x = leaf([1.0, 2.0])
    out = autograd.tensor._apply(silent, (x,))
    out.backward([1.0, 1.0])
    assert type(x.grad) is np.ndarray and x.grad.tolist() == [0.0, 0.0]
    s = leaf(3.0)
    (s * s + s).backward()  # two contributions to a 0-d leaf: numpy would add them into a scalar
    assert type(s.grad) is np.ndarray and s.grad.shape == () and s.grad.tolist() == 7.0


def test_no_grad_records_nothing():
    w = leaf(np.ones(3))
    with no_grad():
        y = (w * 2).sigmoid()
    assert not y.requires_grad and y.inputs == () and y.op is None
    assert (w * 2).requires_grad


def test_a_long_chain_goes_backward_without_recursion():
    x = leaf(np.array([0.5]))
    y = x
    for _ in range(20000):
        y = y * 1.0 + 0.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_a_finished_graph_is_freed_by_reference_counting():
    w = leaf(RNG.normal(size=(4, 3)))
    gc.collect()
    gc.disable()
    try:
        before = gc.get_count()[0]
        for _ in range(50):
            loss = linear(Tensor(np.ones((5, 3))), w).sigmoid().mean()
            loss.backward()
        assert gc.collect() == 0, "the graphs formed reference cycles"
        assert gc.get_count()[0] - before < 200
    finally:
        gc.enable()


# -- extreme inputs, domains -------------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [1e3, 1e6])
def test_saturating_functions_give_no_warnings_at_huge_inputs(scale):
    x = np.array([-scale, -1.0, 0.0, 1.0, scale])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sig = leaf(x).sigmoid()
        assert sig.data.tolist() == [0.0, pytest.approx(0.2689414213699951), 0.5, pytest.approx(0.7310585786300049),
                                     1.0]
        assert leaf(x).tanh().data[[0, -1]].tolist() == [-1.0, 1.0]
        rows = np.stack([x, -x])
        soft = leaf(rows).softmax(axis=1)
        np.testing.assert_allclose(soft.data.sum(axis=1), 1.0, rtol=1e-15)
        assert soft.data[0, -1] == 1.0 and soft.data[1, 0] == 1.0
        log_soft = leaf(rows).log_softmax(axis=1)
        assert np.isfinite(log_soft.data).all() and log_soft.data[0, -1] == 0.0
        assert log_soft.data[0, 0] == pytest.approx(-2 * scale)
        for f in (lambda t: t.sigmoid(), lambda t: t.tanh(), lambda t: t.softmax(), lambda t: t.log_softmax()):
            (g,) = engine_grad(lambda t, f=f: f(t) * np.arange(5.0), x)
            assert np.isfinite(g).all()


def test_exp_and_pow_overflow_to_inf_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert leaf([1000.0]).exp().data.tolist() == [np.inf]
        assert (leaf([1e200]) ** 3).data.tolist() == [np.inf]


@pytest.mark.parametrize("f, error, message", [
    (lambda t: t.log(), DomainError, "log is defined for x > 0"),
    (lambda t: 1.0 / t, DivisionByZeroError, "division by zero"),
    (lambda t: t**-1, DivisionByZeroError, "0 to a negative power"),
    (lambda t: (t - 1.0) ** 0.5, DomainError, "negative base"),
])
def test_out_of_domain_raises_like_value(f, error, message):
    with pytest.raises(error, match=message):
        f(leaf([0.0, 2.0]))


@pytest.mark.parametrize("name, f, error, message", [
    ("log", lambda t: t.log(), DomainError, r"log is defined for x > 0, got 1 entries <= 0; min x = .*-1\.0"),
    ("sqrt", lambda t: t.sqrt(), DomainError, r"sqrt is defined for x >= 0, got 1 entries < 0; min x = .*-1\.0"),
    ("div", lambda t: 1.0 / (t + 1.0), DivisionByZeroError, r"divisor has 1 zero entries .*non-zero everywhere"),
    ("pow_const", lambda t: t**0.5, DomainError, r"x \*\* 0\.5 is undefined for x < 0.*min x = .*-1\.0"),
    ("pow", lambda t: t ** Tensor([0.5, 1.0]), DomainError, "a < 0 and b is not an integer"),
])
def test_each_domain_check_is_the_ops_domain_and_runs_before_its_forward(name, f, error, message, monkeypatch):
    op = TENSOR_OPS[name]
    assert op.domain is not None
    calls = []
    monkeypatch.setattr(op, "forward", lambda xs, ctx: calls.append(xs))
    with pytest.raises(error, match=message):
        f(leaf([-1.0, 2.0]))
    assert calls == []  # refused before the formula ran
    with pytest.raises(error, match=message):  # the check itself, on the arrays
        op.domain((np.array([-1.0, 2.0]),) if name not in ("div", "pow") else
                  ((np.array([1.0, 1.0]), np.array([0.0, 3.0])) if name == "div" else
                   (np.array([-1.0, 2.0]), np.array([0.5, 1.0]))), 0.5 if name == "pow_const" else None)


def test_forward_formulas_hold_no_domain_checks():
    """Outside the domain the formula alone computes numpy's value (nan, inf): only the domain refuses."""
    with np.errstate(all="ignore"):
        assert np.isnan(TENSOR_OPS["log"].forward((np.array([-1.0]),), None)[0])
        assert TENSOR_OPS["div"].forward((np.array([1.0]), np.array([0.0])), None)[0] == np.inf
        assert np.isnan(TENSOR_OPS["pow_const"].forward((np.array([-1.0]),), 0.5)[0])
    assert [name for name, op in TENSOR_OPS.items() if op.domain is not None] == ["div", "pow_const", "pow", "log",
                                                                                 "sqrt"]


def test_a_user_tensor_op_with_a_domain_is_checked_before_its_forward():
    def positive(xs, ctx):
        if np.any(xs[0] <= 0):
            raise DomainError(f"reciprocal needs x > 0, got min x = {np.min(xs[0])!r}")

    seen = []
    inv = TensorOp("reciprocal", "1/x", lambda xs, c: seen.append(1) or 1.0 / xs[0],
                   lambda g, xs, o, c, n: (-g * o * o,), domain=positive)
    x = leaf([0.5, 4.0])
    out = autograd.tensor._apply(inv, (x,))
    out.sum().backward()
    assert out.data.tolist() == [2.0, 0.25] and x.grad.tolist() == [-4.0, -1 / 16]  # -1/x² by hand
    with pytest.raises(DomainError, match=r"reciprocal needs x > 0, got min x = .*-1\.0"):
        autograd.tensor._apply(inv, (leaf([-1.0, 4.0]),))
    assert seen == [1]  # the refused call never reached the forward
    with pytest.raises(TypeError, match="TensorOp domain must be a function or None"):
        TensorOp("bad", "?", lambda xs, c: xs[0], lambda g, xs, o, c, n: (g,), domain="x > 0")


# -- float32 -------------------------------------------------------------------------------------------

def test_float32_is_kept_and_agrees_with_float64_to_single_precision():
    x, w, b = RNG.normal(size=(8, 3)), RNG.normal(size=(4, 3)), RNG.normal(size=4)
    results = {}
    for dtype in (np.float32, np.float64):
        params = [Tensor(a, requires_grad=True, dtype=dtype) for a in (w, b)]
        loss = ((linear(Tensor(x, dtype=dtype), *params).tanh() - 0.5) ** 2).mean()
        loss.backward()
        assert loss.dtype == dtype and all(p.grad.dtype == dtype for p in params)
        results[dtype] = [loss.data] + [p.grad for p in params]
    for single, double in zip(results[np.float32], results[np.float64]):
        np.testing.assert_allclose(single, double, rtol=1e-5, atol=1e-6)
    assert (Tensor([1.0], dtype="float32") * 2.5).dtype == np.float32  # numbers take the Tensor's dtype


def test_every_op_is_registered_with_a_name_and_symbol():
    for name, op in TENSOR_OPS.items():
        assert isinstance(op, TensorOp) and op.symbol and name.startswith(op.name)


def test_shape_errors_name_the_operator_both_shapes_and_the_rule():
    t = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(ValueError, match=r"^Tensor \+: shapes \(2, 2\) and \(3,\) do not broadcast; expected shapes "
                                         r"equal or 1 in each trailing axis"):
        t + np.ones(3)
    with pytest.raises(ValueError, match=r"^Tensor \*\*: shapes \(3,\) and \(2, 2\) do not broadcast"):
        Tensor(np.ones(3)) ** t
    with pytest.raises(ValueError, match=r"^Tensor @: cannot multiply shapes \(2, 2\) and \(3,\); expected the last "
                                         r"axis of the left \(2\) to equal the only axis of the right \(3\)"):
        t @ np.ones(3)
    with pytest.raises(ValueError, match=r"second-to-last axis of the right \(3\)"):
        t @ np.ones((3, 2))
    with pytest.raises(ValueError, match=r"expected both operands at least 1-d"):
        t @ Tensor(2.0)
    with pytest.raises(ValueError, match=r"expected batch axes that broadcast, got \(2,\) and \(5,\)"):
        Tensor(np.ones((2, 2, 2))) @ np.ones((5, 2, 2))
    # an error that is not about shapes comes out as it was
    with pytest.raises(DomainError, match="a < 0 and b is not an integer"):
        Tensor([-1.0]) ** Tensor([0.5])


def test_an_index_out_of_range_is_an_index_error_and_a_value_error():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    for key in (2, -3, (0, 5)):
        with pytest.raises(autograd.TensorIndexError, match=r"out of range for shape \(2, 2\)") as caught:
            t[key]
        assert isinstance(caught.value, IndexError) and isinstance(caught.value, ValueError)
    assert [row.data.tolist() for row in t] == [[1.0, 2.0], [3.0, 4.0]]  # and it still ends iteration


# --- the op table walked (issue 12 item 1): every Tensor op has a first- and second-derivative test, and its
# --- method runs the table entry's own forward ----------------------------------------------------------

_A = np.array([[0.3, -0.7, 0.5], [1.1, -0.2, 0.8]])
_W = np.array([[0.2, -0.4, 0.1], [0.5, 0.3, -0.6]])
# name -> f of one (2, 3) Tensor giving a Tensor; a new op without an entry fails the walk
TENSOR_TABLE_CASES = {
    "add": lambda x: x + x[0], "sub": lambda x: x - x.T.sum(axis=1), "mul": lambda x: x * x[1],
    "div": lambda x: x / (x * x + 1.0), "neg": lambda x: -x, "pow_const": lambda x: (x * x + 1.0) ** 1.5,
    "pow": lambda x: (x * x + 1.0) ** Tensor(_W), "matmul": lambda x: x @ x.T,
    "linear": lambda x: autograd.linear(x, x, x[0, :2]),
    "sum": lambda x: x.sum(axis=0), "mean": lambda x: x.mean(axis=1, keepdims=True), "max": lambda x: x.max(axis=1),
    "broadcast_to": lambda x: x[0].broadcast_to((4, 3)), "reshape": lambda x: x.reshape(3, 2),
    "transpose": lambda x: x.transpose(1, 0), "getitem": lambda x: x[np.array([0, 1, 1]), np.array([2, 0, 0])],
    "scatter_add": lambda x: x[np.array([0, 1, 1]), np.array([2, 0, 0])], "exp": lambda x: x.exp(),
    "log": lambda x: (x * x + 0.5).log(), "sqrt": lambda x: (x * x + 0.5).sqrt(), "sin": lambda x: x.sin(),
    "cos": lambda x: x.cos(), "tanh": lambda x: x.tanh(), "sigmoid": lambda x: x.sigmoid(),
    "softplus": lambda x: x.softplus(), "relu": lambda x: x.relu(), "leaky_relu": lambda x: x.leaky_relu(0.2),
    "abs": lambda x: abs(x), "maximum": lambda x: x.maximum(Tensor(_W)), "minimum": lambda x: x.minimum(x * 0.5 + 0.1),
    "softmax": lambda x: x.softmax(axis=0), "log_softmax": lambda x: x.log_softmax(axis=1),
    "mse_loss": lambda x: autograd.mse_loss(x, _W),
    # first-order only (higher_order False): the walk checks that create_graph through them names the op.
    # x is both the image and (a 2x2 part of) the filter, so both VJPs and the bias's are reached.
    "conv2d": lambda x: autograd.conv2d(x.reshape(1, 1, 2, 3), x[:, :2].reshape(1, 1, 2, 2), x[0, :1]),
    "max_pool2d": lambda x: autograd.max_pool2d(x.reshape(1, 1, 2, 3), (2, 2), stride=1),  # _A has no ties
}
FIRST_ORDER_ONLY = {"pow", "conv2d", "max_pool2d"}  # their VJPs compute on arrays; the rest record


def test_the_first_order_only_tensor_ops_are_exactly_the_named_ones():
    assert {name for name, op in TENSOR_OPS.items() if not op.higher_order} == FIRST_ORDER_ONLY


@pytest.mark.parametrize("name", sorted(FIRST_ORDER_ONLY))
def test_create_graph_through_a_first_order_only_op_raises_a_type_error_naming_it(name):
    x = Tensor(_A, requires_grad=True)
    out = TENSOR_TABLE_CASES[name](x).sum()
    with pytest.raises(TypeError, match=f"TensorOp {name!r} cannot record its backward pass .create_graph=True."):
        autograd.grad(out, x, create_graph=True)
    with pytest.raises(TypeError, match=f"TensorOp {name!r} cannot record"):
        TENSOR_TABLE_CASES[name](x).sum().backward(create_graph=True)
    assert autograd.grad(out, x).shape == _A.shape  # first order still works on the same graph


@pytest.mark.parametrize("name", sorted(TENSOR_OPS))
def test_every_tensor_op_has_first_and_second_derivatives_matching_central_differences(name):
    f = TENSOR_TABLE_CASES[name]
    weights = np.linspace(0.5, 1.5, f(Tensor(_A)).data.size)

    def loss(x):
        out = f(x)
        return ((out * out).reshape(-1) * weights).sum() + (out.tanh() * out).sum()

    x = Tensor(_A, requires_grad=True)
    from autograd.graph import topological_order

    recorded = grad_graph = autograd.grad(loss(x), x, create_graph=True) if name in INTERNAL else loss(x)
    assert TENSOR_OPS[name] in {n.op for n in topological_order(recorded)}, "the op was not exercised"
    del grad_graph
    first = autograd.grad(loss(x), x)
    numeric = np.zeros_like(_A)
    for k in range(_A.size):
        step = np.zeros_like(_A)
        step.flat[k] = 1e-6
        with autograd.no_grad():
            numeric.flat[k] = (loss(Tensor(_A + step)).item() - loss(Tensor(_A - step)).item()) / 2e-6
    assert np.allclose(first, numeric, rtol=1e-5, atol=1e-6)
    if not TENSOR_OPS[name].higher_order:
        with pytest.raises(TypeError, match=f"TensorOp {name!r} cannot record"):
            autograd.hessian(loss, _A)
        return
    h = autograd.hessian(loss, _A).reshape(_A.size, _A.size)
    for k in range(_A.size):
        step = np.zeros_like(_A)
        step.flat[k] = 1e-5
        plus, minus = Tensor(_A + step, requires_grad=True), Tensor(_A - step, requires_grad=True)
        row = (autograd.grad(loss(plus), plus) - autograd.grad(loss(minus), minus)).ravel() / 2e-5
        assert np.allclose(h[k], row, rtol=1e-5, atol=1e-6), (name, k)


TENSOR_METHODS = {  # name -> the method or operator that applies it (ops without one are internal)
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "neg": lambda a, b: -a, "pow_const": lambda a, b: a**2.0, "pow": lambda a, b: a**b, "matmul": lambda a, b: a @ b.T,
    "linear": lambda a, b: autograd.linear(a, b), "sum": lambda a, b: a.sum(), "mean": lambda a, b: a.mean(),
    "max": lambda a, b: a.max(), "broadcast_to": lambda a, b: a.broadcast_to((2, 2, 3)),
    "reshape": lambda a, b: a.reshape(3, 2), "transpose": lambda a, b: a.T, "getitem": lambda a, b: a[0],
    "exp": lambda a, b: a.exp(), "log": lambda a, b: a.log(), "sqrt": lambda a, b: a.sqrt(),
    "sin": lambda a, b: a.sin(),
    "cos": lambda a, b: a.cos(), "tanh": lambda a, b: a.tanh(), "sigmoid": lambda a, b: a.sigmoid(),
    "softplus": lambda a, b: a.softplus(), "relu": lambda a, b: a.relu(), "leaky_relu": lambda a, b: a.leaky_relu(),
    "abs": lambda a, b: abs(a), "maximum": lambda a, b: a.maximum(b), "minimum": lambda a, b: a.minimum(b),
    "softmax": lambda a, b: a.softmax(), "log_softmax": lambda a, b: a.log_softmax(),
    "mse_loss": lambda a, b: autograd.mse_loss(a, b),
    "conv2d": lambda a, b: autograd.conv2d(a.reshape(1, 1, 2, 3), b.reshape(1, 1, 2, 3)),
    "max_pool2d": lambda a, b: autograd.max_pool2d(a.reshape(1, 1, 2, 3), 1),
}
INTERNAL = {"scatter_add"}  # getitem's VJP, reached only through backward


@pytest.mark.parametrize("name", sorted(TENSOR_OPS))
def test_replacing_a_tensor_ops_forward_changes_what_its_method_computes(name, monkeypatch):
    if name in INTERNAL:
        assert name not in TENSOR_METHODS
        return
    monkeypatch.setattr(TENSOR_OPS[name], "forward", lambda xs, ctx: np.full((2, 3), 42.0))
    out = TENSOR_METHODS[name](Tensor(np.abs(_A) + 0.1), Tensor(np.abs(_W) + 0.1))
    assert np.all(out.data == 42.0)


def test_tensor_comparisons_give_boolean_arrays_without_equality():
    t = Tensor([1.0, 2.0, 3.0])
    assert (t < 2).tolist() == [True, False, False] and (2.0 <= t).tolist() == [False, True, True]
    assert (t > Tensor([0.0, 5.0, 3.0])).tolist() == [True, False, False] and (t >= 3).dtype == bool
    assert len({t, Tensor([1.0, 2.0, 3.0])}) == 2


def test_indexing_runs_its_forward_once_and_keeps_anomaly_errors(monkeypatch):
    getitem = autograd.TENSOR_OPS["getitem"]
    calls = []
    original = getitem.forward
    monkeypatch.setattr(getitem, "forward", lambda xs, key: calls.append(key) or original(xs, key))
    t = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    row = t[1]
    assert calls == [1] and row.data.tolist() == [3.0, 4.0]
    with pytest.raises(IndexError, match=r"Tensor index 5 is out of range for shape \(2, 2\)"):
        t[5]
    with pytest.raises(autograd.AnomalyError), autograd.detect_anomaly():  # about the result, not the index
        Tensor([np.nan, 1.0], requires_grad=True)[0]


# -- sums over leading axes (a bias's gradient) as one product 1ᵀX ------------------------------------------

@pytest.mark.parametrize("shape, lead", [((100, 16), 1), ((7, 1), 1), ((10, 5, 3), 2), ((4, 3, 2, 5), 1),
                                         ((4, 3, 2, 5), 3), ((0, 4), 1), ((3, 0), 1), ((2, 0, 3), 2)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sum_leading_is_numpys_sum_over_those_axes(shape, lead, dtype):
    from autograd.tensor import sum_leading
    x = np.random.default_rng(1).normal(size=shape).astype(dtype)
    total = sum_leading(x, lead)
    expected = x.astype(np.float64).sum(axis=tuple(range(lead)))
    assert type(total) is np.ndarray and total.shape == shape[lead:] and total.dtype == dtype
    np.testing.assert_allclose(total, expected, rtol=1e-5 if dtype == np.float32 else 1e-13, atol=1e-5)


def test_sum_leading_propagates_nan_and_inf():
    from autograd.tensor import sum_leading
    x = np.ones((4, 3))
    x[1, 0], x[2, 1], x[3, 1], x[0, 2] = np.nan, np.inf, -np.inf, np.inf
    with np.errstate(invalid="ignore"):  # inf - inf: numpy's sum says so as well
        total = sum_leading(x, 1)
    assert np.isnan(total[0]) and np.isnan(total[1]) and total[2] == np.inf


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_bias_gets_the_sum_of_its_rows_gradients_through_add_linear_and_sum(dtype):
    rng = np.random.default_rng(2)
    x = Tensor(rng.normal(size=(6, 2, 3)), dtype=dtype)
    w = Tensor(rng.normal(size=(4, 3)), requires_grad=True, dtype=dtype)
    b = Tensor(rng.normal(size=3), requires_grad=True, dtype=dtype)
    c = Tensor(rng.normal(size=4), requires_grad=True, dtype=dtype)
    u = rng.normal(size=(6, 2, 3))
    v = rng.normal(size=(5, 4))
    ((x + b) * u).sum().backward()  # ∂/∂b = Σ over the 12 rows of u
    xs = Tensor(rng.normal(size=(5, 3)), dtype=dtype)
    (linear(xs, w, c) * v).sum().backward()  # ∂/∂c = Σ over the 5 rows of v
    z = Tensor(rng.normal(size=(6, 2, 3)), requires_grad=True, dtype=dtype)
    (z.sum(axis=(0, 1)) * b.data).sum().backward()  # ∂/∂z = b broadcast over the leading axes
    tolerance = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(b.grad, u.reshape(12, 3).sum(axis=0), rtol=tolerance)
    np.testing.assert_allclose(c.grad, v.sum(axis=0), rtol=tolerance)
    np.testing.assert_allclose(z.grad, np.broadcast_to(b.data, (6, 2, 3)), rtol=tolerance)
    assert b.grad.dtype == c.grad.dtype == z.grad.dtype == dtype
    # a leaf's grad is an array of its own, though the add passes the upstream gradient on
    a = Tensor(rng.normal(size=3), requires_grad=True)
    g = np.arange(3.0)
    out = a + Tensor(np.zeros(3))
    out.backward(g)
    assert a.grad is not g and not np.shares_memory(a.grad, g) and a.grad.base is None


def test_float_of_a_one_element_tensor_is_its_value_and_of_others_a_type_error():
    loss = ((Tensor([[1.0, 2.0]], requires_grad=True) - 0.5) ** 2).mean()
    assert float(loss) == 1.25 and type(float(loss)) is float
    assert float(Tensor([[3.5]], dtype=np.float32)) == 3.5
    assert f"{float(Tensor(np.nan))}" == "nan"
    with pytest.raises(TypeError, match=r"float\(\) needs a one-element Tensor, got shape \(2,\); read the array"):
        float(Tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"one-element Tensor, got shape \(0,\)"):
        float(Tensor(np.ones(0)))
    assert int(Tensor([[3.9]])) == 3 and int(Tensor(-2.5)) == -2 and type(int(Tensor(7.0))) is int
    with pytest.raises(TypeError, match=r"int\(\) needs a one-element Tensor, got shape \(2,\)"):
        int(Tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="NaN"):
        int(Tensor(np.nan))
    # a Tensor is still not a number operand of a Value (it converts only when asked)
    with pytest.raises(TypeError, match="unsupported operand"):
        autograd.Value(1.0) + Tensor(2.0)


@pytest.mark.parametrize("numpy_function, method", [(np.sum, "sum"), (np.mean, "mean"), (np.max, "max")])
def test_numpys_reductions_on_a_tensor_are_the_recorded_methods(numpy_function, method):
    x = np.array([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
    # each reduction's gradient, derived: Σ gives 1s, the mean 1/count, max 1 at the maxima
    derived = {"sum": (np.ones_like(x), np.ones_like(x)),
               "mean": (np.full_like(x, 1 / 6), np.full_like(x, 1 / 3)),  # 6 elements; 3 per row
               "max": (x == 6.0, [[0, 1, 0], [0, 0, 1]])}[method]
    for axis, expected_grad in ((None, derived[0]), (1, derived[1])):
        t = Tensor(x, requires_grad=True)
        out = numpy_function(t, axis=axis)
        assert type(out) is Tensor and out.op is not None
        np.testing.assert_array_equal(out.data, getattr(np, method)(x, axis=axis))
        out.sum().backward()
        np.testing.assert_array_equal(t.grad, np.asarray(expected_grad, dtype=float))
    assert numpy_function(Tensor(x), axis=0, keepdims=True).shape == (1, 3)
    with pytest.raises(TypeError, match=rf"Tensor.{method} takes no dtype or out .*got out=array"):
        numpy_function(Tensor(x), axis=0, out=np.zeros(3))
    with pytest.raises(TypeError, match=rf"Tensor.{method} takes no dtype or out .*got dtype="):
        getattr(Tensor(x), method)(dtype=np.float32)


def test_numpys_other_functions_record_where_they_can_and_never_drop_a_gradient_silently():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(3, 2))
    t = Tensor(a, requires_grad=True)
    # the products and shape functions that are Tensor operations record: gradients against the derivation
    out = np.dot(t, Tensor(b)) * 2.0
    out.sum().backward()
    np.testing.assert_allclose(t.grad, 2.0 * np.ones((2, 2)) @ b.T, rtol=1e-14)  # ∂Σ2(AB)/∂A = 2·1Bᵀ
    t.grad = None
    x = rng.normal(size=(4, 2))
    np.dot(x, t).sum().backward()
    np.testing.assert_allclose(t.grad, x.T @ np.ones((4, 3)), rtol=1e-14)
    t.grad = None
    (np.reshape(t, (3, 2)) * np.arange(6.0).reshape(3, 2)).sum().backward()
    np.testing.assert_array_equal(t.grad, np.arange(6.0).reshape(2, 3))
    assert np.transpose(t).shape == (3, 2) and np.transpose(t).op is not None
    # any other function would lose the gradient: refused by name, as PyTorch refuses numpy() there
    for call, name in ((lambda: np.concatenate([t, t]), "concatenate"), (lambda: np.clip(t, 0, 1), "clip"),
                       (lambda: np.where(a > 0, t, 0.0), "where"), (lambda: np.stack([t]), "stack")):
        with pytest.raises(TypeError, match=rf"np.{name} of a Tensor that requires grad would drop its graph"):
            call()
    # on numbers (no gradient wanted) numpy works as before, and shape questions always do
    c = Tensor(a)
    assert type(np.concatenate([c, c])) is np.ndarray and np.concatenate([c, c]).shape == (4, 3)
    assert np.allclose(c, a) and np.shape(t) == (2, 3) and np.ndim(t) == 2 and np.size(t) == 6


def test_iteration_yields_rows_a_number_is_not_a_sequence_and_in_tests_the_entries():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(t)
    assert len(rows) == 2 and np.array_equal(rows[1].data, [3.0, 4.0])
    sum(rows).sum().backward()  # each row a recorded node
    np.testing.assert_array_equal(t.grad, np.ones((2, 2)))
    with pytest.raises(TypeError, match="iteration over a 0-d Tensor"):
        list(Tensor(3.0))
    assert 3.0 in Tensor([3.0, 1.0]) and 5.0 not in Tensor([3.0, 1.0]) and Tensor(1.0) in Tensor([3.0, 1.0])


@pytest.mark.parametrize("key, reason", [
    (np.array([True, False, True]), "boolean index did not match"),
    ((0, 0, 0), "too many indices"),
    (([0, 1], [0, 1, 2]), "could not be broadcast together"),
])
def test_an_index_of_the_right_kind_that_does_not_fit_is_a_tensor_index_error_with_numpys_reason(key, reason):
    with pytest.raises(autograd.TensorIndexError, match=rf"does not fit: .*{reason}.*\(shape \(2, 3\)\)"):
        Tensor(np.ones((2, 3)))[key]
