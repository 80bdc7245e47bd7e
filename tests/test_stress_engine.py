"""Trust, second round (issue 15), the engine's items: threads, nan, index buffers, leaves changed before
backward, dtypes of grads, cross-entropy at -inf, op definitions, gradcheck's side effects, truth of a
Tensor, the bias sums and stray warnings. A sibling of tests/test_stress.py; every case here failed
before its fix. Expected values are written out or derived in the test, never read from the engine.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

import autograd
import nn
from autograd import Tensor, Value, tensor
from nn import losses

NAN = math.nan


def same(a, b) -> bool:
    """Equal as float arrays, nan equal to nan (the point of these tests)."""
    return np.array_equal(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), equal_nan=True)


def run_in_thread(target) -> threading.Thread:
    """Start ``target`` in a thread whose exception, if any, is re-raised by ``join_checked``."""
    errors: list[BaseException] = []

    def body():
        try:
            target()
        except BaseException as error:  # handed to the test thread by join_checked
            errors.append(error)

    thread = threading.Thread(target=body, daemon=True)
    thread.errors = errors
    thread.start()
    return thread


def join_checked(thread: threading.Thread) -> None:
    thread.join(timeout=60)
    assert not thread.is_alive(), "the thread did not finish"
    if thread.errors:
        raise thread.errors[0]


# -- item 1: no_grad and detect_anomaly are per thread -----------------------------------------------------

def test_no_grad_in_one_thread_leaves_another_recording():
    inside, done = threading.Event(), threading.Event()

    def other():
        with autograd.no_grad():
            inside.set()
            assert done.wait(30)
            assert (Value(2.0) * Value(3.0)).op is None  # this thread records nothing

    thread = run_in_thread(other)
    assert inside.wait(30)
    x, t = Value(3.0, "x"), Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    (t * t).sum().backward()
    y.backward()
    done.set()
    join_checked(thread)
    assert autograd.is_grad_enabled()
    assert x.grad == 6.0  # d x²/dx at 3
    assert same(t.grad, [2.0, 4.0])


def test_interleaved_no_grad_in_two_threads_leaves_recording_on():
    # A enters, B enters, A leaves, B leaves: a process-wide flag ends up off for good.
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a():
        with autograd.no_grad():
            a_in.set()
            assert b_in.wait(30)
        a_out.set()

    def b():
        assert a_in.wait(30)
        with autograd.no_grad():
            b_in.set()
            assert a_out.wait(30)
        assert autograd.is_grad_enabled()

    threads = [run_in_thread(a), run_in_thread(b)]
    for thread in threads:
        join_checked(thread)
    assert autograd.is_grad_enabled()
    x = Value(2.0)
    (x * x).backward()
    assert x.grad == 4.0


def test_detect_anomaly_in_one_thread_checks_nothing_in_another():
    inside, done = threading.Event(), threading.Event()

    def other():
        with autograd.detect_anomaly():
            inside.set()
            assert done.wait(30)
            with pytest.raises(autograd.AnomalyError):
                Value(1000.0).exp()

    thread = run_in_thread(other)
    assert inside.wait(30)
    assert not autograd.is_anomaly_enabled()
    assert Value(1000.0).exp().data == math.inf
    assert Tensor([1000.0]).exp().data[0] == math.inf
    done.set()
    join_checked(thread)


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_predict_in_one_thread_while_fit_trains_in_another(engine):
    X, y = nn.data.generate_XOR_easy()

    def train() -> nn.MLP:
        model = nn.MLP(2, [3], 1, activations=["tanh", "sigmoid"], seed=3, engine=engine)
        nn.fit(model, X, y, optimizer=nn.SGD(model.parameters(), lr=0.5), epochs=30, print_fn=lambda s: None)
        return model

    alone = train().state_dict()
    stop = threading.Event()
    watcher = nn.MLP(2, [3], 1, activations=["tanh", "sigmoid"], seed=4, engine=engine)
    calls = []

    def predicting():
        while not stop.is_set():
            nn.predict(watcher, X)  # inside no_grad, again and again
            calls.append(1)

    thread = run_in_thread(predicting)
    try:
        while not calls and thread.is_alive():  # predicting (inside no_grad) before training starts
            threading.Event().wait(0.001)
        trained = train().state_dict()
    finally:
        stop.set()
        join_checked(thread)
    assert calls
    for key, value in alone.items():
        assert np.array_equal(trained[key], value), key


# -- item 2: nan propagates through every op, the same way on both engines ----------------------------------

SLOPE = 0.1
# (name, op on engine objects, input values, expected value, expected grad of each input); grads written out:
# d(a+b) = (1, 1), d(a*b) = (b, a), d(a/b) = (1/b, -a/b²), d(a^b) = (b a^(b-1), a^b log a), ...
ELEMENTWISE = [
    ("add", lambda a, b: a + b, [NAN, 2.0], NAN, [1.0, 1.0]),
    ("sub", lambda a, b: a - b, [NAN, 2.0], NAN, [1.0, -1.0]),
    ("mul nan*2", lambda a, b: a * b, [NAN, 2.0], NAN, [2.0, NAN]),
    ("mul 2*nan", lambda a, b: a * b, [2.0, NAN], NAN, [NAN, 2.0]),
    ("div nan/2", lambda a, b: a / b, [NAN, 2.0], NAN, [0.5, NAN]),
    ("div 2/nan", lambda a, b: a / b, [2.0, NAN], NAN, [NAN, NAN]),
    ("neg", lambda a: -a, [NAN], NAN, [-1.0]),
    ("pow_const 3", lambda a: a ** 3, [NAN], NAN, [NAN]),
    ("pow_const -2^nan", lambda a: a ** NAN, [-2.0], NAN, [NAN]),  # nan, not a DomainError
    ("pow_const 0", lambda a: a ** 0, [NAN], 1.0, [0.0]),  # x^0 = 1 for every x, nan included (numpy, PyTorch)
    ("pow nan^2", lambda a, b: a ** b, [NAN, 2.0], NAN, [NAN, NAN]),
    ("pow 2^nan", lambda a, b: a ** b, [2.0, NAN], NAN, [NAN, NAN]),
    ("pow -2^nan", lambda a, b: a ** b, [-2.0, NAN], NAN, [NAN, NAN]),  # nan, not a DomainError
    ("pow nan^0", lambda a, b: a ** b, [NAN, 0.0], 1.0, [0.0, NAN]),
    ("exp", lambda a: a.exp(), [NAN], NAN, [NAN]),
    ("log", lambda a: a.log(), [NAN], NAN, [NAN]),  # nan on both engines, not a DomainError
    ("tanh", lambda a: a.tanh(), [NAN], NAN, [NAN]),
    ("sigmoid", lambda a: a.sigmoid(), [NAN], NAN, [NAN]),
    ("softplus", lambda a: a.softplus(), [NAN], NAN, [NAN]),
    ("relu", lambda a: a.relu(), [NAN], NAN, [NAN]),  # was 0.0 with gradient 0 on Value
    ("leaky_relu", lambda a: a.leaky_relu(SLOPE), [NAN], NAN, [NAN]),  # was gradient slope on both
    ("abs", lambda a: abs(a), [NAN], NAN, [NAN]),  # abs'(nan): was 0 on Value, nan on Tensor
    ("sin", lambda a: a.sin(), [NAN], NAN, [NAN]),
    ("cos", lambda a: a.cos(), [NAN], NAN, [NAN]),
    ("sqrt", lambda a: a.sqrt(), [NAN], NAN, [NAN]),  # nan, not a DomainError; 1 / (2 sqrt nan) is nan
    ("maximum", lambda a, b: a.maximum(b), [NAN, 2.0], NAN, [NAN, NAN]),  # nan to both: neither is known larger
    ("minimum", lambda a, b: a.minimum(b), [2.0, NAN], NAN, [NAN, NAN]),
]


@pytest.mark.parametrize("name, op, xs, value, grads", ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_nan_propagates_through_every_elementwise_op(engine, name, op, xs, value, grads):
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # and no warning on the way
        nodes = [Value(x) for x in xs] if engine == "value" else [Tensor([x], requires_grad=True) for x in xs]
        out = op(*nodes)
        (out if engine == "value" else out.sum()).backward()
    assert same(np.ravel(out.data), [value]), name
    assert same([np.ravel(n.grad)[0] for n in nodes], grads), name


def test_nan_through_the_value_engines_n_ary_ops():
    xs = [Value(NAN), Value(1.0)]
    s = autograd.sum(xs)
    s.backward()
    assert same(s.data, NAN) and same([x.grad for x in xs], [1.0, 1.0])
    w, x, b = (Value(NAN), Value(1.0)), (Value(2.0), Value(3.0)), Value(1.0)
    z = autograd.dot(w, x, b)
    z.backward()
    assert same(z.data, NAN)
    assert same([v.grad for v in w], [2.0, 3.0]) and same([v.grad for v in x], [NAN, 1.0]) and b.grad == 1.0


def tensor_pair():
    return Tensor([NAN, 1.0], requires_grad=True)


# (name, op on a leaf [nan, 1], expected value, expected grad of the leaf for upstream ones)
TENSOR_ONLY = [
    ("sum", lambda t: t.sum(), NAN, [1.0, 1.0]),
    ("mean", lambda t: t.mean(), NAN, [0.5, 0.5]),
    ("max", lambda t: t.max(), NAN, [1.0, 0.0]),  # a nan maximum: the gradient goes to the nan (PyTorch)
    ("reshape", lambda t: t.reshape(2, 1), [[NAN], [1.0]], [1.0, 1.0]),
    ("transpose", lambda t: t.reshape(1, 2).T, [[NAN], [1.0]], [1.0, 1.0]),
    ("getitem", lambda t: t[np.array([0, 0])], [NAN, NAN], [2.0, 0.0]),
    ("matmul", lambda t: t @ np.array([2.0, 3.0]), NAN, [2.0, 3.0]),
    ("linear", lambda t: autograd.linear(t, Tensor([[2.0, 3.0]]), Tensor([1.0])), [NAN], [2.0, 3.0]),
    ("softmax", lambda t: t.softmax(), [NAN, NAN], [NAN, NAN]),
    ("log_softmax", lambda t: t.log_softmax(), [NAN, NAN], [NAN, NAN]),
    ("mse_loss", lambda t: autograd.mse_loss(t, np.array([0.0, 1.0])), NAN, [NAN, 0.0]),  # 2 (p - y) / n
    ("broadcast_to", lambda t: t.broadcast_to((2, 2)), [[NAN, 1.0], [NAN, 1.0]], [2.0, 2.0]),
    # getitem's VJP as an op of its own: zeros with t added at index 0 twice; its VJP gathers g back
    ("scatter_add", lambda t: tensor._apply(tensor.SCATTER, (t,), ((np.array([0, 0]),), (3,))), [NAN, 0.0, 0.0],
     [1.0, 1.0]),
    ("conv2d", lambda t: autograd.conv2d(t.reshape(1, 1, 1, 2), Tensor([[[[2.0, 3.0]]]])), [[[[NAN]]]], [2.0, 3.0]),
    ("max_pool2d", lambda t: autograd.max_pool2d(t.reshape(1, 1, 1, 2), (1, 2)), [[[[NAN]]]], [1.0, 0.0]),  # to the nan
]


@pytest.mark.parametrize("name, op, value, grad", TENSOR_ONLY, ids=[c[0] for c in TENSOR_ONLY])
def test_nan_propagates_through_every_tensor_op(name, op, value, grad):
    t = tensor_pair()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = op(t)
        out.backward(np.ones(out.shape))
    assert same(out.data, value) and same(t.grad, grad), name


def test_the_operation_list_is_covered():
    covered = {c[0].split()[0] for c in ELEMENTWISE} | {c[0] for c in TENSOR_ONLY}
    assert set(tensor.TENSOR_OPS) <= covered
    assert set(autograd.SCALAR_OPS) - {"sum", "dot"} <= covered


def test_engines_agree_at_zero_to_the_zero():
    a, b = Value(0.0), Value(0.0)
    v = a ** b
    v.backward()
    ta, tb = Tensor([0.0], requires_grad=True), Tensor([0.0], requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        t = ta ** tb
        t.sum().backward()
    assert v.data == 1.0 and t.data[0] == 1.0
    assert a.grad == 0.0 and ta.grad[0] == 0.0  # ∂/∂base 0 (PyTorch's choice; Tensor gave nan)
    assert same(b.grad, tb.grad[0])


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_a_nan_feature_reaches_the_output_of_a_relu_net(engine):
    model = nn.MLP(2, [4], 1, activations=["relu", "sigmoid"], seed=0, engine=engine)
    out = nn.predict(model, np.array([[NAN, 1.0]]))
    assert np.isnan(out).all()  # the Value ReLU turned nan into 0 and the net answered as if nothing was wrong


# -- item 3: index arrays are copied; a boolean Tensor is a mask ----------------------------------------

@pytest.mark.parametrize("make", [np.array, list], ids=["array", "list"])
def test_changing_the_index_after_indexing_does_not_move_the_gradient(make):
    t = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    idx = make([0, 2])
    out = t[idx] * np.array([1.0, 5.0])
    idx[0], idx[1] = 1, 1
    out.sum().backward()
    assert same(t.grad, [1.0, 0.0, 5.0])


def test_a_tensor_index_changed_afterwards_does_not_move_the_gradient():
    t = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    idx = Tensor([2.0])
    out = t[idx]
    idx.data[0] = 0.0
    out.sum().backward()
    assert same(t.grad, [0.0, 0.0, 1.0])


def test_a_boolean_mask_in_a_tensor_selects_as_numpys():
    data = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    mask = np.array([[True, False, True], [False, False, True]])
    rows = np.array([False, True])
    cases = [(Tensor(mask), mask, [1.0, 3.0, 6.0]), (Tensor(mask.tolist()), mask, [1.0, 3.0, 6.0]),
             ((Tensor(rows), slice(None)), (rows, slice(None)), [[4.0, 5.0, 6.0]])]
    for key, numpy_key, selected in cases:
        t = Tensor(data, requires_grad=True)
        picked = t[key]
        assert same(picked.data, selected)
        picked.sum().backward()
        expected = np.zeros_like(data)
        expected[numpy_key] = 1.0
        assert same(t.grad, expected)
    # t[mask] is the selected entries, not rows 1 and 0 read from 1.0 / 0.0
    assert same(Tensor([5.0, 6.0])[Tensor(np.array([False, True]))].data, [6.0])


# -- item 4: a leaf's data set between forward and backward ------------------------------------------------

def test_a_leaf_changed_before_backward_is_refused_naming_it():
    w, x = Value(2.0, "w"), Value(3.0, "x")
    out = w * x
    w.data = 5.0
    with pytest.raises(autograd.graph.LeafChangedError, match=r"leaf 'w' \(now 5.0\).*after the output was computed"):
        out.backward()
    assert issubclass(autograd.graph.LeafChangedError, ValueError)


def test_changing_leaves_before_the_forward_pass_and_stepping_after_backward_is_fine():
    w = Value(2.0, "w")
    w.data = 4.0  # before the forward pass
    for _ in range(3):  # forward, backward, step: the order an optimizer follows
        out = w * w
        w.grad = 0.0
        out.backward()
        assert w.grad == 2 * w.data
        w.data = w.data - 0.1 * w.grad


def test_a_value_optimizer_loop_with_nn_is_not_refused():
    X, y = nn.data.generate_XOR_easy()
    model = nn.MLP(2, [2], 1, seed=0)
    history = nn.fit(model, X[:4], y[:4], optimizer=nn.SGD(model.parameters(), lr=0.1), epochs=3,
                     print_fn=lambda s: None)
    assert history.epochs == 3 and history.stopped is None


def test_value_data_is_checked_when_set():
    v = Value(1.0)
    with pytest.raises(TypeError, match="Value.data expects a real number.*str"):
        v.data = "2"
    v.data = np.float64(2.5)
    assert type(v.data) is float and v.data == 2.5


# -- item 5: a grad has its tensor's dtype ------------------------------------------------------------------

def test_a_float32_parameter_meeting_float64_data_keeps_float32_grad_and_data():
    W = Tensor([[0.5, -1.0]], requires_grad=True, dtype=np.float32)
    b = Tensor([0.25], requires_grad=True, dtype=np.float32)
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])  # float64
    out = autograd.linear(x, W, b)
    assert out.dtype == np.float64  # numpy's promotion, forward
    out.sum().backward()
    assert W.grad.dtype == np.float32 and b.grad.dtype == np.float32
    assert same(W.grad, [[4.0, 6.0]]) and same(b.grad, [2.0])  # Σ rows of x, and the row count
    nn.SGD([W, b], lr=0.5).step()
    assert W.data.dtype == np.float32 and b.data.dtype == np.float32
    assert same(W.data, [[0.5 - 2.0, -1.0 - 3.0]])


# -- item 8: cross-entropy with a masked class or logits beyond float64's span -----------------------------

@pytest.mark.parametrize("logits, label", [([-math.inf, 0.0, 1.0], 2), ([1e308, -1e308, 0.0], 2),
                                           ([1e308, -1e308, 0.0], 0)])
def test_cross_entropy_is_finite_with_minus_inf_or_huge_logits(logits, label):
    # closed form: ℓ = logsumexp(z) - z_c, computed over the finite, non-negligible logits by hand
    if logits[0] == -math.inf:
        expected, expected_grad = math.log1p(math.exp(-1.0)), [0.0, 1 / (1 + math.e), math.e / (1 + math.e) - 1]
    else:  # 1e308 dominates: softmax is (1, 0, 0) exactly in float64
        expected, expected_grad = (1e308 if label == 2 else 0.0), [1.0 - (label == 0), 0.0, -1.0 * (label == 2)]
    z = Tensor([logits], requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = losses.CrossEntropyLoss()(z, np.array([label]))
        loss.backward()
    values = [Value(v) for v in logits]
    value_loss = losses.CrossEntropyLoss()(values, np.array([label]))
    value_loss.backward()
    assert loss.item() == pytest.approx(expected, rel=1e-15) and value_loss.data == pytest.approx(expected, rel=1e-15)
    assert np.allclose(z.grad[0], expected_grad, rtol=1e-15, atol=1e-16)
    assert np.allclose([v.grad for v in values], expected_grad, rtol=1e-15, atol=1e-16)


def test_cross_entropy_with_probability_rows_and_a_masked_class():
    z = Tensor([[-math.inf, 0.0, 1.0]], requires_grad=True)
    t = np.array([[0.0, 0.5, 0.5]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = losses.CrossEntropyLoss()(z, t)
        loss.backward()
    lse = math.log(1.0 + math.e)  # log(e^0 + e^1)
    assert loss.item() == pytest.approx(0.5 * (lse - 0.0) + 0.5 * (lse - 1.0), rel=1e-15)
    assert np.allclose(z.grad, [[0.0, 1 / (1 + math.e) - 0.5, math.e / (1 + math.e) - 0.5]], rtol=1e-14)


# -- item 16: derivatives with fewer entries than inputs -----------------------------------------------------

SHORT = autograd.ScalarOp("short_mul", "⊗", lambda xs, c: xs[0] * xs[1], lambda xs, o, c: [xs[1]])


def test_a_scalar_op_with_too_few_derivatives_is_refused_at_backward():
    a, b = Value(2.0), Value(3.0)
    with pytest.raises(ValueError, match=r"'short_mul'.*1 entries.*2 inputs"):
        SHORT(a, b).backward()
    with pytest.raises(ValueError, match=r"'short_mul'.*1 entries.*2 inputs"):
        autograd.gradcheck(lambda a, b: SHORT(a, b), [a, b])  # was IndexError
    with pytest.raises(ValueError, match=r"'short_mul'.*1 entries.*2 inputs"):
        autograd.local_mismatches(SHORT(a, b))


def test_a_tensor_op_with_too_few_vjps_is_refused_at_backward():
    short = autograd.TensorOp("short_add", "⊕", lambda xs, c: xs[0] + xs[1], lambda g, xs, o, c, n: (g,))
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    out = tensor._apply(short, (a, b))
    with pytest.raises(ValueError, match=r"'short_add'.*1 entries.*2 inputs"):
        out.backward(np.ones(1))


# -- item 17: gradcheck leaves every grad as it was -----------------------------------------------------------

def test_gradcheck_leaves_the_grads_of_leaves_f_closes_over_as_they_were():
    w, fresh = Value(0.5, "w"), Value(1.5, "u")
    w.grad = 0.25  # a gradient the caller accumulated before

    def f(x):
        return (x * w).tanh() + fresh * x

    x = Value(0.3, "x")
    assert autograd.gradcheck(f, [x])
    assert w.grad == 0.25 and fresh.grad == 0.0 and x.grad == 0.0


def test_tensor_gradcheck_leaves_the_grads_of_leaves_f_closes_over_as_they_were():
    W = Tensor([[0.5, -1.0], [2.0, 0.1]], requires_grad=True)
    b = Tensor([0.1, 0.2], requires_grad=True)
    b.grad = np.array([1.0, 2.0])
    before = b.grad

    def f(x):
        return autograd.linear(x, W, b).tanh()

    for size in (2, 300):  # full Jacobian, and random projections
        x = Tensor(np.linspace(-1, 1, size).reshape(-1, 2))
        assert autograd.gradcheck(f, [x])
        assert W.grad is None and b.grad is before and same(b.grad, [1.0, 2.0]) and x.grad is None


# -- item 22: the truth of a Tensor follows numpy ------------------------------------------------------------

def test_the_truth_of_a_tensor_follows_numpy():
    assert bool(Tensor([0.0])) is False and bool(Tensor(0.0)) is False and bool(Tensor([[2.0]])) is True
    assert bool(Tensor(np.float32(-1.0), dtype=np.float32)) is True
    for data in ([0.0, 1.0], np.zeros((0,))):
        with pytest.raises(ValueError, match=r"truth value of a Tensor of shape .* is ambiguous"):
            bool(Tensor(data))


# -- item 23: the bias gradient over batches of any size (the ones cache it once needed is gone) ------------

def test_the_bias_gradient_sums_every_row_for_any_batch_size():
    W, b = Tensor([[1.0]], requires_grad=True), Tensor([0.0], requires_grad=True)
    for n in (10**6, 10**6 + 1, 3000, 4000, 4096, 4097, 10, 2 * 10**5):
        autograd.linear(Tensor(np.ones((n, 1))), W, b).sum().backward()
    assert same(b.grad, [2 * 10**6 + 1 + 3000 + 4000 + 4096 + 4097 + 10 + 2 * 10**5])  # Σ of 1 over every row
    assert not hasattr(tensor, "_ONES")  # nothing process-wide left to bound


# -- item 27: no warnings during backward --------------------------------------------------------------------

def test_no_warning_in_backward_for_max_over_nan_or_log_and_division_at_the_smallest_subnormal():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        t = Tensor([1.0, NAN, 3.0], requires_grad=True)
        t.max().backward()
        assert same(t.grad, [0.0, 1.0, 0.0])
        x = Tensor([5e-324], requires_grad=True)
        x.log().backward()
        assert x.grad[0] == math.inf  # 1 / 5e-324, as Value's 1.0 / 5e-324
    a, d = Tensor([1e-300], requires_grad=True), Tensor([5e-324], requires_grad=True)
    quotient = (a / d).sum()  # forward 1e-300 / 5e-324 is finite; backward 1 / 5e-324 overflows
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        quotient.backward()
    assert a.grad[0] == math.inf and d.grad[0] == -math.inf
    v = Value(5e-324)
    v.log().backward()
    assert v.grad == math.inf


# -- issue 16, items 7 and 8: labels are strs, reprs round-trip -----------------------------------------------

@pytest.mark.parametrize("make", [lambda: Value(1.0), lambda: Tensor([1.0])], ids=["Value", "Tensor"])
def test_a_label_is_a_str_checked_when_set(make):
    node = make()
    with pytest.raises(TypeError, match=r"label must be a str, got int: 5"):
        node.label = 5
    node.label = "w01[1]"
    assert node.label == "w01[1]"


def test_a_values_repr_round_trips_its_numbers():
    v = Value(0.1 + 0.2, "s")
    v.grad = 1 / 3
    assert repr(v) == "Value(data=0.30000000000000004, grad=0.3333333333333333, label='s')"
    assert repr(Value(NAN)) == "Value(data=nan, grad=0.0)"
