"""Defects a tester found in the engine (autograd/graph.py, value.py, tensor.py, conv.py, higher.py, anomaly.py,
draw.py), one test or more each. Expected values are derived by hand here (limits of the closed forms at a
pole, sums written out) or taken from torch float64 where it is installed; never from the engine itself."""

from __future__ import annotations

import math
import re
import threading
import warnings

import numpy as np
import pytest

import autograd
from autograd import LeafChangedError, Tensor, Value, grad, hessian

INF = math.inf


# -- 1. a leaf changed between the nodes that read it; the data of a computed node ------------------------------

def test_a_leaf_changed_after_one_reader_but_before_another_is_refused():
    x = Value(3.0, "x")
    z = x * x  # read x = 3
    x.data = 5.0
    y = z + x  # reads x = 5: the old code compared x only with y, which is newer, and gave 11.0
    with pytest.raises(LeafChangedError, match=r"leaf 'x' \(now 5\.0\) had its \.data set after a mul node"):
        y.backward()
    with pytest.raises(LeafChangedError, match="leaf 'x'"):
        grad(y, x)
    with pytest.raises(LeafChangedError, match="leaf 'x'"):
        grad(y, x, create_graph=True)


def test_a_leaf_changed_before_every_node_that_reads_it_is_fine():
    w = Value(2.0, "w")
    z = w * w  # the oldest node of the graph; it does not read x
    x = Value(3.0, "x")
    x.data = 5.0  # after z was made, before anything read x
    y = z + x * x
    y.backward()
    assert (x.grad, w.grad) == (2 * 5.0, 2 * 2.0)  # d(w² + x²)/dx = 2x at x = 5, d/dw = 2w at w = 2
    assert grad(y, [x, w]) == (10.0, 4.0)


def test_the_data_of_a_computed_value_cannot_be_set():
    a = Value(0.5, "a")
    t = a.tanh()
    with pytest.raises(ValueError, match=r"computed by tanh.*cannot be set.*leaf"):
        t.data = 0.9
    assert t.data == math.tanh(0.5)
    t.backward()
    assert a.grad == pytest.approx(1 - math.tanh(0.5) ** 2, rel=1e-15)
    with autograd.no_grad():
        c = a.tanh()  # a leaf: made under no_grad, nothing recorded
    c.data = 0.9
    assert c.data == 0.9


# -- 2. the same for Tensors: .data of a leaf is checked and stamped, a computed Tensor's cannot be set --------

def test_a_tensor_leaf_changed_after_a_node_read_it_is_refused():
    x = Tensor([1.0, 2.0], "x", requires_grad=True)
    z = x * x  # reads x = [1, 2]
    x.data = np.array([5.0, 5.0])
    y = (z + x).sum()  # reads x = [5, 5]: mul's VJP would read the new x and give 2·5 + 1 = 11, not 2·1 + 1 = 3
    with pytest.raises(LeafChangedError, match=r"leaf 'x' .* had its \.data set after a mul node"):
        y.backward()
    assert x.grad is None
    with pytest.raises(LeafChangedError, match="leaf 'x'"):
        grad(y, x)
    z = x * x
    x.data -= 1.0  # in place, then set again by Python: seen too
    with pytest.raises(LeafChangedError, match="leaf 'x'"):
        z.sum().backward()


def test_a_tensor_leaf_changed_before_the_forward_pass_is_fine_and_gradcheck_keeps_an_older_graph_valid():
    w = Tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    x = np.array([[1.0, 2.0]])
    for _ in range(2):  # an optimizer's loop: step, then the next forward pass
        loss = ((x @ w) ** 2).sum()
        loss.backward()
        expected = 2 * x.T @ (x @ w.data)  # d Σ (xW)² / dW = 2 xᵀ (xW)
        np.testing.assert_allclose(w.grad, expected, rtol=1e-15)
        w.data -= 0.01 * w.grad
        w.grad = None
    loss = ((x @ w) ** 2).sum()
    assert autograd.gradcheck(lambda w: ((Tensor(x) @ w) ** 2).sum(), [w])  # perturbs w.data and restores it
    loss.backward()  # the graph built before gradcheck is still valid
    np.testing.assert_allclose(w.grad, 2 * x.T @ (x @ w.data), rtol=1e-15)


def test_tensor_data_is_read_as_an_array_of_the_tensors_dtype():
    t = Tensor([0.0, 0.0], requires_grad=True)
    t.data = [1, 2]  # a list of ints: as Tensor([1, 2]) reads it
    assert t.data.dtype == np.float64 and t.data.tolist() == [1.0, 2.0]
    t.data = np.array([3, 4])  # an int array: float64, so w * 2.5 computes in floats
    assert (t * 2.5).data.tolist() == [7.5, 10.0]
    f32 = Tensor([0.0], dtype="float32")
    f32.data = [1.5]
    assert f32.data.dtype == np.float32
    kept = np.array([1.0, 2.0, 3.0])
    t.data = kept  # a float array is kept as it is (an optimizer's new weights), its shape too
    assert t.data is kept
    with pytest.raises(TypeError, match=r"Tensor\.data expects real numbers .* got an array of dtype <U3"):
        t.data = ["abc"]
    with pytest.raises(TypeError, match=r"Tensor\.data expects numbers or an array of real numbers, got str"):
        t.data = "abc"
    assert t.data is kept  # a refused value changes nothing


def test_the_data_of_a_computed_tensor_cannot_be_set():
    a = Tensor([0.5, -1.0], "a", requires_grad=True)
    t = a.tanh()
    with pytest.raises(ValueError, match=r"Tensor\.data: this Tensor was computed by tanh.*cannot be set.*"
                                         r"Tensor\(array, requires_grad=True\)"):
        t.data = np.zeros(2)
    t.sum().backward()
    np.testing.assert_allclose(a.grad, 1 - np.tanh([0.5, -1.0]) ** 2, rtol=1e-15)
    with autograd.no_grad():
        c = a.tanh()  # a leaf: made under no_grad, nothing recorded
    c.data = np.zeros(2)
    assert c.data.tolist() == [0.0, 0.0]


# -- 3. Value: second derivative of √x and x ** 0.5 at 0 -----------------------------------------------------------

# d/dx x^½ = ½ x^-½ → +inf, d²/dx² = -¼ x^-³ᐟ² → -inf, d³/dx³ = ⅜ x^-⁵ᐟ² → +inf as x → 0+
@pytest.mark.parametrize("f", [lambda p: p.sqrt(), lambda p: p**0.5, lambda p: p ** Value(0.5)],
                         ids=["sqrt", "pow_const", "pow"])
def test_value_derivatives_of_the_square_root_at_zero(f):
    assert hessian(f, [0.0])[0, 0] == -INF
    x = Value(0.0)
    d1 = grad(f(x), x, create_graph=True)
    d2 = grad(d1, x, create_graph=True)
    assert (d1.data, d2.data) == (INF, -INF)
    x = Value(0.0)
    f(x).backward()
    assert x.grad == INF  # first order as before


@pytest.mark.parametrize("f", [lambda p: p.sqrt(), lambda p: p**0.5], ids=["sqrt", "pow_const"])
def test_value_third_derivative_of_the_square_root_at_zero(f):
    x = Value(0.0)
    d2 = grad(grad(f(x), x, create_graph=True), x, create_graph=True)
    assert grad(d2, x) == INF


def test_value_second_derivatives_away_from_zero_are_unchanged():
    # √x'' = -¼ x^-³ᐟ², x^1.5'' = 0.75 x^-½ (and 0.75 · inf = inf at 0), at x = 4
    assert hessian(lambda p: p.sqrt(), [4.0])[0, 0] == pytest.approx(-0.25 * 4.0**-1.5, rel=1e-14)
    assert hessian(lambda p: p**1.5, [4.0])[0, 0] == pytest.approx(0.75 * 4.0**-0.5, rel=1e-14)
    assert hessian(lambda p: p**1.5, [0.0])[0, 0] == INF


def test_value_square_root_at_zero_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.autograd.functional import hessian as torch_hessian

    for f in (torch.sqrt, lambda p: p**0.5, lambda p: p**1.5):
        expected = torch_hessian(f, torch.tensor(0.0, dtype=torch.float64)).item()
        assert hessian(f if f is not torch.sqrt else (lambda p: p.sqrt()), [0.0])[0, 0] == expected


# -- 4. Tensor: the same under create_graph ------------------------------------------------------------------------

@pytest.mark.parametrize("f", [lambda v: v.sqrt(), lambda v: v**0.5], ids=["sqrt", "pow_const"])
def test_tensor_gradients_of_the_square_root_at_zero_under_create_graph(f):
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    g = grad(f(x).sum(), x, create_graph=True)  # ½ x^-½: [inf, 0.5]
    np.testing.assert_array_equal(g.data, [INF, 0.5])
    np.testing.assert_array_equal(grad(g.sum(), x), [-INF, -0.25])  # -¼ x^-³ᐟ²: [-inf, -0.25]
    # the Hessian's diagonal; row 1 meets 0 · inf at entry 0 (nan), as torch's
    h = hessian(lambda v: f(v).sum(), np.array([0.0, 1.0]))
    assert (h[0, 0], h[1, 1]) == (-INF, -0.25)


def test_tensor_square_root_at_zero_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.autograd.functional import hessian as torch_hessian

    point = np.array([0.0, 1.0, 4.0])
    for f in (lambda v: v.sqrt().sum(), lambda v: (v**0.5).sum(), lambda v: (v**1.5).sum()):
        expected = torch_hessian(f, torch.tensor(point)).numpy()  # the same methods and operators on torch's
        np.testing.assert_array_equal(hessian(f, point), expected)  # nan where torch's is nan
    x = torch.tensor(point, requires_grad=True)
    (g,) = torch.autograd.grad((x**0.5).sum(), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x, create_graph=True)
    (third,) = torch.autograd.grad(h.sum(), x)
    t = Tensor(point, requires_grad=True)
    ours = grad(grad(grad((t**0.5).sum(), t, create_graph=True).sum(), t, create_graph=True).sum(), t)
    np.testing.assert_array_equal(ours, third.numpy())


# -- 5. conv2d of an empty batch -----------------------------------------------------------------------------------

@pytest.mark.parametrize("stride, padding, shape", [(1, 0, (0, 2, 2, 2)), (2, 1, (0, 2, 2, 2)), (1, 1, (0, 2, 4, 4))])
def test_conv2d_of_an_empty_batch_is_empty_forward_and_backward(stride, padding, shape):
    x = Tensor(np.zeros((0, 1, 4, 4)), requires_grad=True)
    w = Tensor(np.ones((2, 1, 3, 3)), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)
    y = autograd.conv2d(x, w, b, stride=stride, padding=padding)
    assert y.shape == shape  # OH = (4 + 2p - 3) // s + 1
    assert autograd.conv2d(Tensor(np.zeros((0, 1, 4, 4))), Tensor(np.ones((2, 1, 3, 3)))).shape == (0, 2, 2, 2)
    y.sum().backward()
    assert x.grad.shape == (0, 1, 4, 4)
    np.testing.assert_array_equal(w.grad, np.zeros((2, 1, 3, 3)))  # no sample: every sum is empty
    np.testing.assert_array_equal(b.grad, [0.0, 0.0])


# -- 6, 7. the drawing's grads: accumulated over passes; recorded (create_graph) -------------------------------

def grad_line(source: str, name: str) -> str:
    (line,) = [line for line in source.splitlines() if f"<B>{name}</B>" in line]
    return re.search(r"grad [^<]*", line).group()


def test_draw_after_two_passes_does_not_claim_one_pass_terms_sum_to_the_grad():
    x = Value(2.0, "x")
    y = x * x + x  # each pass adds 1 (from +) + 2 + 2 (from x · x) = 5 to x.grad
    y.backward()
    assert grad_line(autograd.draw(y, edge_labels=True).source, "x") == "grad 5.0000 = 1.0000 + 2.0000 + 2.0000"
    y.backward()
    line = grad_line(autograd.draw(y, edge_labels=True).source, "x")
    assert line.startswith("grad 10.0000 (") and "the last backward pass added 1.0000 + 2.0000 + 2.0000" in line
    assert "= 1.0000" not in line
    t = Tensor(np.array([1.0, 2.0]), "t", requires_grad=True)
    s = (t * t + t).sum()  # 2t + 1 = [3, 5] a pass
    s.backward()
    s.backward()
    line = grad_line(autograd.draw(s, edge_labels=True).source, "t")
    assert line.startswith("grad [6.0000, 10.0000] (") and "= " not in line


def test_draw_after_backward_with_create_graph_shows_the_recorded_grads():
    x = Value(2.0, "x")
    y = x**3
    y.backward(create_graph=True)
    source = autograd.draw(y).source
    assert "has not run" not in source and "create_graph=True" in source
    assert grad_line(source, "x") == "grad 12.0000"  # 3 x² at 2
    t = Tensor(np.array([1.0, 2.0]), "t", requires_grad=True)
    s = (t**3).sum()
    s.backward(create_graph=True)
    source = autograd.draw(s).source
    assert "has not run" not in source
    assert grad_line(source, "t") == "grad [3.0000, 12.0000]"  # 3 t²


# -- 8. warnings at extreme inputs ---------------------------------------------------------------------------------

def test_pow_backward_and_division_overflow_to_inf_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = Tensor(np.array([1e200, 1e308]), requires_grad=True)
        (x**2).sum().backward()
        np.testing.assert_array_equal(x.grad, [2e200, INF])  # 2x
        y = Tensor(np.array([1e200]), requires_grad=True)
        (y**3).sum().backward()
        np.testing.assert_array_equal(y.grad, [INF])  # 3 · 1e400
        np.testing.assert_array_equal((1 / Tensor([5e-324])).data, [INF])
        np.testing.assert_array_equal((Tensor([1e308]) / 1e-10).data, [INF])


def test_plus_times_and_matmul_overflow_as_numpy_does_as_the_docstring_says():
    assert "+, -, * and @ overflow to inf as numpy's" in autograd.tensor.__doc__
    big = Tensor(np.array([1e308]))
    for f in (lambda t: t + t, lambda t: t * t, lambda t: t @ t, lambda t: -t - t):
        with pytest.warns(RuntimeWarning, match="overflow"):
            assert np.isinf(f(big).data).all()


# -- 9. anomaly mode and the numbers written in an expression ------------------------------------------------------

def test_anomaly_mode_does_not_check_the_gradient_of_a_number_constant():
    with autograd.detect_anomaly():
        x = Value(1e200, "x")
        (x * 1e-200 * 1e200).backward()  # d/d(1e-200) is 1e200 · 1e200 = inf, but no one receives it
        assert x.grad == pytest.approx(1.0)  # 1e-200 · 1e200
        x = Value(1e200, "x")
        assert grad(1e200 * (1e-200 * x), x) == pytest.approx(1.0)


def test_anomaly_mode_still_checks_the_gradient_of_a_real_input():
    with autograd.detect_anomaly():
        x, w = Value(1e-200, "x"), Value(1e200, "w")
        z = x * w * w  # forward 1e200; dz/dx = w² = inf
        with pytest.raises(autograd.AnomalyError, match=r"input 0 'x'") as info:
            z.backward()
        assert info.value.phase == "backward"
        with pytest.raises(autograd.AnomalyError, match=r"input 0 'x'"):
            grad(x * w * w, [x, w])


# -- 10. the mode managers are reusable, nest in themselves, and stay per thread ----------------------------------

@pytest.mark.parametrize("make, enabled", [(autograd.no_grad, autograd.is_grad_enabled),
                                           (autograd.detect_anomaly, lambda: not autograd.is_anomaly_enabled())])
def test_a_mode_manager_can_be_entered_again_and_nested_in_itself(make, enabled):
    errors = np.geterr()
    manager = make()
    for _ in range(2):
        with manager:
            assert not enabled()
        assert enabled()
    with manager:
        with manager:
            assert not enabled()
        assert not enabled()  # the inner block restores what it found: the outer block's mode
    assert enabled() and np.geterr() == errors


def test_a_shared_no_grad_object_keeps_each_threads_mode():
    ng = autograd.no_grad()
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def hold():
        with ng:
            inside.set()
            release.wait(5)
            seen["holder"] = autograd.is_grad_enabled()
        seen["holder after"] = autograd.is_grad_enabled()

    thread = threading.Thread(target=hold)
    thread.start()
    assert inside.wait(5)
    assert autograd.is_grad_enabled()  # the other thread's block is not ours
    with ng:
        assert not autograd.is_grad_enabled()
    assert autograd.is_grad_enabled()
    release.set()
    thread.join(5)
    assert seen == {"holder": False, "holder after": True}


def test_no_grad_still_decorates_a_function():
    @autograd.no_grad()
    def f(v):
        return v * 2

    x = Value(1.0)
    assert f(x).op is None and f(x).op is None and (x * 2).op is not None


# -- 11. messages and empty cases ----------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, axis", [((3, 0), -1), ((3, 0), 1), ((0, 3), 0)])
@pytest.mark.parametrize("method", ["softmax", "log_softmax"])
def test_softmax_over_an_empty_axis_is_empty(method, shape, axis):
    x = Tensor(np.zeros(shape), requires_grad=True)
    y = getattr(x, method)(axis)
    assert y.shape == shape
    y.sum().backward()
    assert x.grad.shape == shape


def test_draw_suggests_collapse_only_for_a_graph_with_nn_labels():
    with pytest.raises(ValueError, match="more than max_nodes=150") as info:
        autograd.draw(autograd.sum([Value(float(i)) for i in range(200)]))
    assert "collapse='neuron'" not in str(info.value) and "max_nodes=None" in str(info.value)


def test_the_gradient_of_a_constant_output_is_zero_on_both_engines():
    x = Tensor(np.ones(2), requires_grad=True)
    g = grad((x * 3).sum(), x, create_graph=True)  # 3, a constant: it does not depend on x
    np.testing.assert_array_equal(grad(g.sum(), x), [0.0, 0.0])
    again = grad(g.sum(), x, create_graph=True)
    assert type(again) is Tensor and not again.requires_grad
    np.testing.assert_array_equal(again.data, [0.0, 0.0])
    np.testing.assert_array_equal(grad(g, x, grad_outputs=np.ones(2)), [0.0, 0.0])
    with pytest.raises(ValueError, match="needs grad_outputs"):
        grad(g, x)  # a seed is still needed for a non-scalar output
    v = Value(1.0)
    assert grad(grad(v * 3, v, create_graph=True), v) == 0.0
    np.testing.assert_array_equal(hessian(lambda t: (t * 3).sum(), np.ones(2)), np.zeros((2, 2)))


def test_a_nan_derivative_of_a_power_stays_nan_when_differentiated_again():
    # d(a^b)/db = a^b log a is undefined at a = -2 (nan); its derivatives are nan too (PyTorch: [[2, nan], [nan, nan]])
    H = autograd.hessian(lambda p, q: p ** q, [-2.0, 2.0])
    assert H[0][0] == 2.0 and all(math.isnan(h) for h in (H[0][1], H[1][0], H[1][1]))


def test_infinite_logits_and_other_extremes_give_numpy_and_torchs_values_without_warnings():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(Tensor([math.inf, 0.0]).softmax().data).all()  # inf - inf: nan, as PyTorch
        assert np.isnan(Tensor([math.inf, 0.0]).log_softmax().data).all()
        assert np.isnan(Tensor([-math.inf, -math.inf]).softmax().data).all()
        assert np.isnan((Tensor([math.inf]) / Tensor([math.inf])).data).all()
        assert Tensor([1e308]).leaky_relu(2.0).data[0] == 1e308  # x > 0: x itself, slope·x never used
        assert Tensor([math.inf]).leaky_relu(0.0).data[0] == math.inf


def test_a_negative_base_to_an_infinite_power_is_refused_by_both_engines():
    for make in (lambda: Value(-2.0) ** Value(math.inf), lambda: Tensor([-2.0]) ** math.inf,
                 lambda: Tensor([-2.0]) ** Tensor([math.inf])):
        with pytest.raises(autograd.DomainError, match="integer"):
            make()
    assert (Tensor([2.0]) ** Tensor([math.inf])).data[0] == math.inf  # a positive base is fine


def test_gradcheck_leaves_its_inputs_as_they_were_so_a_graph_built_before_still_backpropagates():
    x = Value(0.7)
    y = x * x
    assert autograd.gradcheck(lambda v: v * v, [x])
    y.backward()  # LeafChangedError before: restoring x.data stamped the leaf as changed
    assert x.grad == pytest.approx(1.4, abs=1e-15)


def test_a_tensor_vjp_with_an_entry_past_its_inputs_is_refused_and_gradgradcheck_names_a_detached_vjp():
    from autograd.tensor import _apply
    a, b = Tensor(np.array([1.0, 2.0]), requires_grad=True), Tensor(np.array([3.0, 4.0]), requires_grad=True)
    too_many = autograd.TensorOp("m", "*", lambda xs, c: xs[0] * xs[1],
                                 lambda g, xs, o, c, n: [g * xs[1], g * xs[0], g])
    with pytest.raises(ValueError, match=r"TensorOp 'm': its vjp gave 3 entries for a node with 2 inputs"):
        autograd.gradcheck(lambda p, q: _apply(too_many, (p, q)), [a, b])

    def detached(g, xs, o, c, n):  # cos computed on numbers even when recording: second derivative lost
        x = xs[0].data if isinstance(xs[0], Tensor) else xs[0]
        return [g * (Tensor(np.cos(x)) if isinstance(xs[0], Tensor) else np.cos(x))]
    op = autograd.TensorOp("tsin", "s", lambda xs, c: np.sin(xs[0]), detached, higher_order=True)
    with pytest.raises(autograd.GradcheckError, match=r"operation 'tsin' \(second derivative, input 0\)"):
        autograd.gradgradcheck(lambda v: _apply(op, (v,)).sum(), np.array([0.3, 0.9]))
    assert autograd.gradgradcheck(lambda v: (v.reshape(2, 1) + 1.0).sum() * 2.0, np.array([0.3, -0.8]))  # linear


def test_a_tensor_op_you_define_is_called_like_a_function():
    def sig(x):
        return 1.0 / (1.0 + np.exp(-x))
    swish = autograd.TensorOp("swish", "swish", lambda xs, c: xs[0] * sig(xs[0]),
                              lambda g, xs, o, c, n: (g * sig(xs[0]) * (1 + xs[0] * (1 - sig(xs[0]))),))
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    assert autograd.gradcheck(lambda t: swish(t).sum(), [x])
    np.testing.assert_allclose(swish([1.0, 2.0]).data, [sig(1.0), 2.0 * sig(2.0)], rtol=1e-15)  # numbers: constants
    with pytest.raises(ValueError, match="swish needs at least one input"):
        swish()


def test_the_checks_name_what_is_wrong_with_their_arguments():
    cube = autograd.ScalarOp("cube", "³", lambda xs, c: xs[0] ** 3, lambda xs, o, c: 3 * xs[0] ** 2)  # not a list
    with pytest.raises(TypeError, match=r"ScalarOp 'cube': its derivatives gave a float \(12.0\); expected a list"):
        autograd.gradcheck(lambda x: cube(x), [Value(2.0)])
    x = Value(2.0)
    with pytest.raises(TypeError, match=r"gradcheck inputs must be leaves .*input 0 was computed by mul"):
        autograd.gradcheck(lambda v: v * v, [x * 3.0])
    with pytest.raises(TypeError, match=r"inputs must all be Values \(one engine per check\), input 0 is Tensor"):
        autograd.gradcheck(lambda a, b: a, [Tensor(np.ones(2), requires_grad=True), Value(1.0)])
    assert autograd.gradcheck(lambda v: v * v, [Value(0.5)], atol=np.float32(1e-5))  # numpy's scalars are numbers
    with pytest.raises(ValueError, match=r"numerical_jacobian eps must be > 0"):
        autograd.numerical_jacobian(lambda t: t * 2.0, [Tensor(np.ones(2))], eps=0.0)
    with pytest.raises(ZeroDivisionError, match=r"central difference .*use a smaller eps"):
        step = autograd.ScalarOp("inv", "1/", lambda xs, c: 1.0 / xs[0], lambda xs, o, c: [-1.0 / xs[0] ** 2])
        autograd.gradcheck(lambda v: step(v), [Value(1e-6)])  # the op's own 1 / 0, a step away


# -- session 25: found by attacking higher order and the Tensor API ------------------------------------------------

@pytest.mark.parametrize("method", ["maximum", "minimum"])
def test_value_max_and_min_against_a_number_at_a_tie_under_create_graph(method):
    a = Value(1.0)
    first = grad(getattr(a, method)(1.0), a)
    recorded = grad(getattr(a, method)(1.0), a, create_graph=True)
    assert first == 0.5 and recorded.data == 0.5  # ½ to each side of a tie (PyTorch's); it gave nan when recorded
    # f = m(a)·a: f'' = m''(a)·a + 2 m'(a) = 2 · ½ = 1 at the tie (torch: 1.0)
    assert hessian(lambda a: getattr(a, method)(1.0) * a, [1.0])[0, 0] == 1.0


def test_value_derivative_of_zero_to_a_power_in_its_exponent_under_create_graph():
    w = Value(2.0)
    assert grad(0.0**w, w) == 0.0
    assert grad(0.0**w, w, create_graph=True).data == 0.0  # 0 ** w = 0 for w > 0: its derivative is 0 (it gave nan)


def test_value_mixed_second_derivative_of_a_power_at_exponent_zero():
    # f = aᵇ at (a, b) = (1.5, 0): f_aa = b(b-1)a^(b-2) = 0, f_ab = a^(b-1)(1 + b log a) = 1/a, f_bb = aᵇ (log a)²
    h = hessian(lambda a, b: a**b, [1.5, 0.0])
    np.testing.assert_allclose(h, [[0.0, 1 / 1.5], [1 / 1.5, math.log(1.5) ** 2]], rtol=1e-14, atol=0)
    assert autograd.gradgradcheck(lambda a, b: a**b, [Value(1.5), Value(0.0)])


def test_anomaly_mode_with_tensor_grad_names_the_op_instead_of_crashing():
    with autograd.detect_anomaly():
        x = Tensor(np.array([0.0, 2.0]), requires_grad=True)
        with pytest.raises(autograd.AnomalyError, match=r"backward of operation 'sqrt'.*1 inf entries"):
            grad(x.sqrt().sum(), x)


def test_a_recorded_tensor_grad_is_kept_by_a_later_plain_backward():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    (x**3).sum().backward()
    assert type(x.grad) is Tensor  # as Value's and PyTorch's: the recorded part stays differentiable
    np.testing.assert_allclose(x.grad.data, 2 * 3 * np.array([1.0, 4.0]), rtol=1e-15)  # 3x² twice
    np.testing.assert_allclose(grad(x.grad.sum(), x), 6 * np.array([1.0, 2.0]), rtol=1e-15)  # d(3x²)/dx, once
    x.grad = None


def test_a_float32_product_with_a_float64_bias_promotes_as_the_unfused_expression():
    x32 = Tensor(np.ones((2, 3)), dtype=np.float32)
    w32 = Tensor(np.arange(12.0).reshape(4, 3), dtype=np.float32)
    b64 = Tensor(np.full(4, 0.1))
    fused = autograd.linear(x32, w32, b64)
    assert fused.dtype == np.float64 == (x32 @ w32.T + b64).dtype
    np.testing.assert_array_equal(fused.data, np.array([3.1, 12.1, 21.1, 30.1]) + np.zeros((2, 1)))
    image = Tensor(np.ones((1, 1, 3, 3)), dtype=np.float32)
    out = autograd.conv2d(image, Tensor(np.ones((1, 1, 2, 2)), dtype=np.float32), Tensor([0.1]))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.data, np.full((1, 1, 2, 2), 4.1))


def test_np_dot_on_tensors_follows_numpys_rules_or_refuses():
    t = Tensor([1.0, 2.0], requires_grad=True)
    scaled = np.dot(2.0, t)  # a number: the product, as numpy's dot
    assert scaled.data.tolist() == [2.0, 4.0]
    scaled.sum().backward()
    assert t.grad.tolist() == [2.0, 2.0]
    t32 = Tensor(np.ones(3), dtype=np.float32)
    assert np.dot(np.ones(3), t32).dtype == (np.ones(3) @ t32).dtype == np.float32
    a = Tensor(np.ones((2, 3, 4)), requires_grad=True)
    with pytest.raises(TypeError, match=r"np\.dot of Tensors of shapes \(2, 3, 4\) and \(2, 4, 5\).*use a @ b"):
        np.dot(a, Tensor(np.ones((2, 4, 5))))  # numpy's answer has shape (2, 3, 2, 5); @ would give (2, 3, 5)


def test_in_place_operators_update_a_parameter_under_no_grad_and_refuse_a_leaf_in_grad_mode():
    w = Tensor([1.0, 2.0], "w", requires_grad=True)
    params = [w]
    (w * w).sum().backward()
    with autograd.no_grad():
        for p in params:
            p -= 0.1 * p.grad  # the PyTorch user's loop: 1 - 0.1·2, 2 - 0.1·4
    assert params[0] is w and w.requires_grad
    np.testing.assert_allclose(w.data, [0.8, 1.6], rtol=1e-15)
    with pytest.raises(ValueError, match=r"Tensor -=: 'w' requires grad.*with autograd\.no_grad\(\): p -= "):
        w -= 1.0
    np.testing.assert_allclose(w.data, [0.8, 1.6], rtol=1e-15)  # unchanged
    a = Tensor([1.0, 2.0])
    before = a
    a += w  # recorded: a names the new node, as after a = a + w
    assert a is not before and a.op is not None and before.data.tolist() == [1.0, 2.0]
    a.sum().backward()
    assert w.grad.tolist() == [2.0 * 1.0 + 1.0, 2.0 * 2.0 + 1.0]  # 2w at the first w, kept, + 1 from this one
    c = Tensor(np.ones(2), dtype=np.float32)
    c *= np.array([2.0, 3.0])  # nothing requires grad: c's own data, its dtype kept
    assert c.data.dtype == np.float32 and c.data.tolist() == [2.0, 3.0]
    with pytest.raises(ValueError, match=r"Tensor \+=: the result has shape \(2, 2\), not the Tensor's \(2,\)"):
        c += np.ones((2, 2))


def test_value_in_place_operators_update_under_no_grad_and_build_the_graph_otherwise():
    p = Value(2.0, "p")
    params = [p]
    (p * p).backward()
    with autograd.no_grad():
        for q in params:
            q -= 0.1 * q.grad  # 2 - 0.1 · 4
    assert params[0] is p and p.data == pytest.approx(1.6, rel=1e-15)
    total, x = Value(0.0), Value(3.0, "x")
    start = total
    total += x * x  # micrograd's accumulation: a new node, the leaf left as it was
    assert total is not start and start.data == 0.0
    total.backward()
    assert x.grad == 6.0


def test_requires_grad_is_checked_and_set_on_leaves_only():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match=r"computed by mul; only a leaf's requires_grad can be set.*detach"):
        y.requires_grad = False  # backward then crashed inside the engine (_Zero * float)
    with pytest.raises(TypeError, match=r"requires_grad must be True or False, got str: 'yes'"):
        x.requires_grad = "yes"
    (y * Tensor([3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [6.0, 8.0]  # d Σ 2x·c / dx = 2c
    x.requires_grad = False  # a leaf: fine
    assert not (x * 2).requires_grad


def test_reducing_an_axis_with_entries_of_an_empty_tensor_gives_the_empty_result():
    e = Tensor(np.ones((0, 3)), requires_grad=True)
    assert e.max(axis=1).shape == (0,) and e.mean(axis=1).shape == (0,)  # numpy's and PyTorch's
    e.mean(axis=1).sum().backward()
    assert e.grad.shape == (0, 3)
    with pytest.raises(ValueError, match=r"max over axis 0 of a Tensor of shape \(0, 3\) reduces no element"):
        e.max(axis=0)
    with pytest.raises(ValueError, match=r"mean over every axis .* reduces no element"):
        e.mean()


def test_an_int_too_large_for_a_float_is_named_as_such():
    t = Tensor([1.0])
    with pytest.raises(ValueError, match=r"an int too large for a float \(1000000000\d*\.\.\., 401 digits\)"):
        t + 10**400


def test_a_zero_d_array_exponent_is_a_number_and_an_array_exponent_names_the_builtin_op():
    x = Tensor([1.0, 2.0], requires_grad=True)
    d = grad((x ** np.array(3.0)).sum(), x, create_graph=True)  # as x ** 3: 3x², recorded
    np.testing.assert_allclose(d.data, [3.0, 12.0], rtol=1e-15)
    np.testing.assert_allclose(grad(d.sum(), x), [6.0, 12.0], rtol=1e-15)  # 6x
    with pytest.raises(TypeError, match=r"'pow' cannot record .*built-in operation's vjp is first-order only"
                                        r".*exp\(b \* log"):
        grad((x ** np.array([2.0, 3.0])).sum(), x, create_graph=True)


def test_a_float32_leafs_recorded_grad_is_float32_and_differentiates_right():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True, dtype=np.float32)
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * w).sum() ** 2  # s = Σ x w = -1.5: dy/dx = 2 s w
    d = grad(y, x, create_graph=True)
    assert d.dtype == np.float32 and d.data.tolist() == [-3.0, -6.0]  # it was float64 (first order was float32)
    # Σ d = 2 s Σw: d/dx = 2 Σw w = [6, 12]; d/dw = 2 (x Σw + s) = [0, -9]
    np.testing.assert_allclose(grad(d.sum(), x), [6.0, 12.0], rtol=1e-6)
    np.testing.assert_allclose(grad(d.sum(), w), [0.0, -9.0], rtol=1e-6, atol=1e-6)
    y.backward(create_graph=True)
    assert x.grad.dtype == np.float32
    x.grad = w.grad = None
