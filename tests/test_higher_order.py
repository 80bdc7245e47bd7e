"""Higher-order gradients (issue 12 item 2): autograd.grad, backward(create_graph=True), hessian, hvp on both
engines, against closed forms written here, finite differences of first-order gradients, and torch."""

from __future__ import annotations

import gc
import math

import numpy as np
import pytest

import autograd
from autograd import Tensor, TensorOp, Value, grad, hessian, hvp

H = 1e-5


def fd_gradient_of_gradient(f, x: np.ndarray) -> np.ndarray:
    """Central differences of the engine's first-order gradient (the float path): an independent Hessian."""
    rows = []
    for k in range(x.size):
        step = np.zeros_like(x)
        step.flat[k] = H
        plus = Tensor(x + step, requires_grad=True)
        minus = Tensor(x - step, requires_grad=True)
        rows.append(((grad(f(plus), plus) - grad(f(minus), minus)) / (2 * H)).ravel())
    return np.array(rows).reshape(x.shape + x.shape)


def test_known_scalar_derivatives():
    x = Value(1.3)
    d1 = grad(x**3, x, create_graph=True)
    d2 = grad(d1, x, create_graph=True)
    assert d1.data == pytest.approx(3 * 1.3**2) and d2.data == pytest.approx(6 * 1.3)
    assert grad(d2, x) == pytest.approx(6.0)
    assert hessian(lambda x: x**4 - 2 * x**2, 0.8)[0, 0] == pytest.approx(12 * 0.8**2 - 4)
    y = Value(0.9)
    d = grad(y**5, y, create_graph=True)
    for _ in range(2):
        d = grad(d, y, create_graph=True)
    assert d.data == pytest.approx(60 * 0.9**2)  # the third derivative of x⁵


@pytest.mark.parametrize("f, expected", [
    (lambda x: (x.tanh()), lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    (lambda x: x.sigmoid(), lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s) * (1 - 2 * s)),
    (lambda x: x.softplus(), lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s)),
    (lambda x: x.exp(), np.exp),
    (lambda x: x.log(), lambda x: -1 / x**2),
    (lambda x: x.sqrt(), lambda x: -0.25 * x**-1.5),
    (lambda x: x.sin(), lambda x: -np.sin(x)),
    (lambda x: x.cos(), lambda x: -np.cos(x)),
    (lambda x: 1.0 / x, lambda x: 2 / x**3),
    (lambda x: x**2.5, lambda x: 2.5 * 1.5 * x**0.5),
    (lambda x: x ** Value(1.5), lambda x: 1.5 * 0.5 * x**-0.5),
    (lambda x: Value(1.7) ** x, lambda x: 1.7**x * math.log(1.7) ** 2),
    (lambda x: x * x.relu() + abs(x) * x.leaky_relu(0.1),
     lambda x: 2 * (x > 0) + 2 * np.sign(x) * (1 if x > 0 else 0.1)),
])
def test_second_derivatives_of_each_function_against_closed_forms(f, expected):
    for x in (0.4, 1.7):
        assert hessian(f, x)[0, 0] == pytest.approx(expected(x), rel=1e-9, abs=1e-12)


def test_hessians_of_known_forms_on_the_tensor_engine():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 3))
    x = rng.normal(size=3)
    assert np.allclose(hessian(lambda x: x @ (Tensor(a) @ x), x), a + a.T, atol=1e-12)
    assert np.allclose(hessian(lambda x: x.sin().sum(), x), np.diag(-np.sin(x)), atol=1e-12)
    assert np.allclose(hessian(lambda x: (x**3).sum(), x), np.diag(6 * x), atol=1e-12)
    assert np.allclose(hessian(lambda x: (x**4 - 2 * x**2).sum(), x), np.diag(12 * x**2 - 4), atol=1e-12)


TENSOR_FUNCTIONS = {
    "tanh mlp": lambda x: (x.reshape(2, 3) @ np.array([[0.3, -0.2], [0.5, 0.1], [-0.4, 0.6]])).tanh().sum(),
    "softmax": lambda x: (x.reshape(2, 3).softmax(axis=-1) * np.arange(6.0).reshape(2, 3)).sum(),
    "log_softmax gather": lambda x: x.reshape(2, 3).log_softmax(axis=1)[np.arange(2), np.array([2, 0])].sum(),
    "linear mse": lambda x: autograd.mse_loss(autograd.linear(x.reshape(2, 3), x.reshape(2, 3)), np.ones((2, 2))),
    "mean max broadcast": lambda x: ((x.reshape(2, 3) * x[:3]).mean(axis=0) * x.max()).sum(),
    "div sigmoid softplus": lambda x: (x.sigmoid() / (x.softplus() + 1.0)).sum(),
    "sqrt exp log": lambda x: ((x * x + 1.0).sqrt() * x.exp() + (x * x + 0.5).log()).sum(),
    "cos transpose": lambda x: (x.reshape(2, 3).T.cos() * x.reshape(3, 2)).sum(),
    "maximum minimum": lambda x: (x.maximum(x * 0.5) * x.minimum(0.2 - x)).sum(),
}


@pytest.mark.parametrize("name", sorted(TENSOR_FUNCTIONS))
def test_tensor_hessians_match_finite_differences_of_the_gradient_and_are_symmetric(name):
    f = TENSOR_FUNCTIONS[name]
    x = np.array([0.3, -0.7, 0.5, 1.1, -0.2, 0.8])
    h = hessian(f, x)
    assert np.allclose(h, fd_gradient_of_gradient(f, x), rtol=1e-6, atol=1e-7)
    assert np.allclose(h, h.T, atol=1e-12)
    v = np.array([1.0, -2.0, 0.5, 0.3, 0.7, -1.1])
    assert np.allclose(hvp(f, x, v), h @ v, atol=1e-12)


def test_value_hessian_matches_finite_differences_and_torch():
    torch = pytest.importorskip("torch")

    def f(a, b, c):
        return (a * b).tanh() + c.exp() * b ** 2 - (a / c).sin() + autograd.dot([a, b], [c, a], b).sigmoid()

    point = [0.3, -0.8, 1.2]
    h = hessian(f, point)
    fd = np.empty((3, 3))
    for i in range(3):
        plus, minus = list(point), list(point)
        plus[i] += H
        minus[i] -= H
        vp, vm = [Value(p) for p in plus], [Value(m) for m in minus]
        fd[i] = (np.array(grad(f(*vp), vp)) - np.array(grad(f(*vm), vm))) / (2 * H)
    assert np.allclose(h, fd, rtol=1e-6, atol=1e-7)

    def tf(x):
        a, b, c = x[0], x[1], x[2]
        return torch.tanh(a * b) + torch.exp(c) * b**2 - torch.sin(a / c) + torch.sigmoid(a * c + b * a + b)

    expected = torch.func.hessian(tf)(torch.tensor(point, dtype=torch.float64)).numpy()
    assert np.allclose(h, expected, atol=1e-12)


def test_tensor_double_backward_matches_torch_autograd_grad():
    torch = pytest.importorskip("torch")
    x0 = np.array([[0.3, -0.7, 0.5], [1.1, -0.2, 0.8]])
    w0 = np.array([[0.2, -0.4, 0.1], [0.5, 0.3, -0.6]])
    x = Tensor(x0, requires_grad=True)
    w = Tensor(w0, requires_grad=True)
    out = (autograd.linear(x, w).tanh() ** 2).sum() + x.softmax(axis=1).log().mean()
    gx, gw = grad(out, [x, w], create_graph=True)
    second = grad((gx * gx).sum() + gw.sum(), [x, w])
    tx = torch.tensor(x0, requires_grad=True)
    tw = torch.tensor(w0, requires_grad=True)
    tout = (torch.tanh(tx @ tw.T) ** 2).sum() + torch.log(torch.softmax(tx, 1)).mean()
    tgx, tgw = torch.autograd.grad(tout, [tx, tw], create_graph=True)
    expected = torch.autograd.grad((tgx * tgx).sum() + tgw.sum(), [tx, tw])
    for got, want in zip(second, expected):
        assert np.allclose(got, want.numpy(), atol=1e-12)


def test_the_loss_hessian_of_a_small_tanh_mlp_is_the_same_on_both_engines():
    rng = np.random.default_rng(1)
    w1, b1, w2 = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=(1, 3))
    inputs, targets = rng.normal(size=(4, 2)), rng.normal(size=4)
    n1 = w1.size

    def tensor_loss(p):
        W1, B1, W2 = p[:n1].reshape(3, 2), p[n1:n1 + 3], p[n1 + 3:].reshape(1, 3)
        hidden = autograd.linear(Tensor(inputs), W1, B1).tanh()
        return autograd.mse_loss(autograd.linear(hidden, W2).reshape(4), targets)

    def value_loss(*p):
        W1, B1, W2 = p[:n1], p[n1:n1 + 3], p[n1 + 3:]
        total = []
        for x, y in zip(inputs.tolist(), targets.tolist()):
            hidden = [autograd.dot(W1[2 * j:2 * j + 2], x, B1[j]).tanh() for j in range(3)]
            total.append((autograd.dot(W2, hidden) - y) ** 2)
        return autograd.sum(total) / len(total)

    point = np.concatenate([w1.ravel(), b1, w2.ravel()])
    h_tensor = hessian(tensor_loss, point)
    h_value = hessian(value_loss, point.tolist())
    assert np.allclose(h_tensor, h_value, rtol=0, atol=1e-10)
    assert np.allclose(h_tensor, fd_gradient_of_gradient(tensor_loss, point), rtol=1e-6, atol=1e-7)


def test_grad_touches_no_grad_and_first_order_records_nothing():
    x, y = Value(0.5), Value(-1.5)
    out = (x * y).tanh() + x.exp()
    gx, gy = grad(out, [x, y])
    assert type(gx) is float and type(gy) is float and x.grad == 0.0 and out.grad == 0.0
    t = Tensor([0.5, 1.0], requires_grad=True)
    loss = (t.tanh() * t).sum()
    g = grad(loss, t)
    assert type(g) is np.ndarray and t.grad is None and loss.grad is None
    assert np.allclose(g, np.tanh(t.data) + t.data * (1 - np.tanh(t.data) ** 2))
    # without create_graph the plain backward keeps floats / arrays and no node gains a consumer
    out.backward()
    t2 = Tensor([0.5, 1.0], requires_grad=True)
    (t2 * t2).sum().backward()
    assert type(x.grad) is float and type(t2.grad) is np.ndarray
    assert grad(out, Value(3.0)) == 0.0  # an input the output does not depend on


def _live(kind: type) -> int:
    gc.collect()
    return sum(type(o) is kind for o in gc.get_objects())


@pytest.mark.parametrize("how", ["backward", "grad"])
def test_first_order_backward_makes_no_node_and_keeps_none(how):
    """Without create_graph a backward pass computes in floats / arrays: not one Value or Tensor is left alive
    after it, on either engine (with create_graph its recorded graph is, as long as its gradients are held)."""
    x, y = Value(0.5), Value(-1.5)
    out = ((x * y).tanh() + x.exp()) * (x - 0.25).sigmoid()
    t = Tensor([[0.5, 1.0], [2.0, -1.0]], requires_grad=True)
    loss = ((t @ t).tanh() * t).sum()
    values, tensors = _live(Value), _live(Tensor)
    if how == "backward":
        out.backward()
        loss.backward()
    else:
        grad(out, [x, y])
        grad(loss, t)
    assert (_live(Value), _live(Tensor)) == (values, tensors)
    grad(out, [x, y], create_graph=True)  # the count can fail: a recorded backward pass does make nodes
    assert _live(Value) == values  # ... but keeps none once its gradients are dropped
    gx, _ = grad(out, [x, y], create_graph=True)
    assert _live(Value) > values and isinstance(gx, Value)


def test_backward_with_create_graph_records_and_gives_second_derivatives():
    x = Value(1.5)
    (x**3).backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Value) and first.data == pytest.approx(3 * 1.5**2)
    x.grad = 0.0
    first.backward()
    assert x.grad == pytest.approx(6 * 1.5)
    t = Tensor([1.0, 2.0], requires_grad=True)
    (t**3).sum().backward(create_graph=True)
    g = t.grad
    t.grad = None
    g.sum().backward()
    assert np.allclose(t.grad, 6 * t.data)


def test_draw_and_explain_work_on_the_double_backward_graph_of_x_cubed():
    x = Value(2.0, "x")
    second = grad(grad(x**3, x, create_graph=True), x, create_graph=True)
    assert second.data == 12.0
    text = str(autograd.explain(second))
    assert "x" in text and "12" in text
    pytest.importorskip("graphviz")
    drawing = autograd.draw(second)
    assert "x" in drawing.source


def test_an_op_with_a_numeric_rule_refuses_create_graph_naming_it():
    double = TensorOp("double", "2·", lambda xs, c: 2 * xs[0], lambda g, xs, o, c, n: (2 * np.asarray(g),))
    x = Tensor([1.0, 2.0], requires_grad=True)
    from autograd.tensor import _apply

    out = _apply(double, (x,)).sum()
    assert np.allclose(grad(out, x), [2.0, 2.0])  # first order works
    with pytest.raises(TypeError, match="TensorOp 'double' cannot record its backward pass"):
        grad(out, x, create_graph=True)
    cube = autograd.ScalarOp("cube", "³", lambda xs, c: xs[0] ** 3, lambda xs, o, c: [3 * xs[0] ** 2])
    v = Value(2.0)
    with pytest.raises(TypeError, match="ScalarOp 'cube' cannot record"):
        grad(cube(v), v, create_graph=True)
    recorded = autograd.ScalarOp("cube", "³", lambda xs, c: xs[0] ** 3, lambda xs, o, c: [3 * xs[0] ** 2],
                                 higher_order=True)
    assert hessian(lambda v: recorded(v), 2.0)[0, 0] == pytest.approx(12.0)


def test_bad_arguments_name_what_was_wrong():
    x = Value(1.0)
    with pytest.raises(TypeError, match="autograd.grad inputs must be"):
        grad(x * x, 3.0)
    with pytest.raises(TypeError, match="create_graph must be True or False"):
        grad(x * x, x, create_graph="yes")
    with pytest.raises(TypeError, match="input 0 is a Tensor but the output is a Value"):
        grad(x * x, Tensor([1.0], requires_grad=True))
    with pytest.raises(ValueError, match="needs grad_outputs"):
        t = Tensor([1.0, 2.0], requires_grad=True)
        grad(t * t, t)
    with pytest.raises(ValueError, match="v must have the input's shape"):
        hvp(lambda t: t.sum(), np.ones(3), np.ones(2))
    with pytest.raises(TypeError, match="f must return one scalar node"):
        hessian(lambda t: t * t, np.ones(2))
