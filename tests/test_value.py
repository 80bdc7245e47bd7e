"""The scalar engine: Value's surface, gradients on random graphs, accumulation, depth,
numerics at the edges, the kink table and bad input.

Expected gradients come from derivations written here or from central finite
differences computed here, never from the engine's own output.
"""

from __future__ import annotations

import fractions
import gc
import math
import operator
import sys
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import OP_BUILDERS, expression_graphs, junk, reals

import autograd
from autograd import SCALAR_OPS, DivisionByZeroError, DomainError, Value, is_grad_enabled, no_grad
from autograd.graph import topological_order

H = 1e-6
ATOL = 1e-6
RTOL = 1e-5


def central_difference(f, data: list[float], i: int, h: float = H) -> float:
    """(f(x + h eᵢ) - f(x - h eᵢ)) / 2h in float64, without recording a graph."""
    plus, minus = list(data), list(data)
    plus[i] += h
    minus[i] -= h
    with no_grad():
        return (f(*map(Value, plus)).data - f(*map(Value, minus)).data) / (2 * h)


def close(a: float, b: float, atol: float = ATOL, rtol: float = RTOL) -> bool:
    return abs(a - b) <= atol + rtol * abs(b)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# --- 1. the surface --------------------------------------------------------------------------

def test_leaf_holds_data_label_grad_and_no_inputs():
    v = Value(2.5, "w")
    assert (v.data, v.label, v.grad) == (2.5, "w", 0.0)
    assert Value(1.0, label="b").label == "b"
    assert Value(1.0).label == ""
    assert v.inputs == () and v.op is None


# (expression, x, expected value, expected d/dx), derivatives worked out by hand
ONE_INPUT = [
    ("v + 2", lambda v: v + 2, 1.3, 3.3, 1.0),
    ("2 + v", lambda v: 2 + v, 1.3, 3.3, 1.0),
    ("v - 2", lambda v: v - 2, 1.3, 1.3 - 2, 1.0),
    ("2 - v", lambda v: 2 - v, 1.3, 2 - 1.3, -1.0),
    ("v * 3", lambda v: v * 3, 1.3, 3.9, 3.0),
    ("3 * v", lambda v: 3 * v, 1.3, 3.9, 3.0),
    ("v / 4", lambda v: v / 4, 1.3, 0.325, 0.25),
    ("2 / v", lambda v: 2 / v, 1.3, 2 / 1.3, -2 / 1.3**2),
    ("-v", lambda v: -v, 1.3, -1.3, -1.0),
    ("+v", lambda v: +v, 1.3, 1.3, 1.0),
    ("v ** 3", lambda v: v**3, -1.3, -(1.3**3), 3 * 1.3**2),
    ("v ** -0.5", lambda v: v**-0.5, 1.3, 1.3**-0.5, -0.5 * 1.3**-1.5),
    ("v ** 0", lambda v: v**0, 1.3, 1.0, 0.0),
    ("2 ** v", lambda v: 2**v, 1.3, 2**1.3, 2**1.3 * math.log(2)),
    ("exp", lambda v: v.exp(), 1.3, math.e**1.3, math.e**1.3),
    ("log", lambda v: v.log(), 1.3, math.log(1.3), 1 / 1.3),
    ("tanh", lambda v: v.tanh(), 0.4, math.tanh(0.4), 1 / math.cosh(0.4) ** 2),
    ("sigmoid", lambda v: v.sigmoid(), -0.4, sigmoid(-0.4), math.exp(0.4) / (1 + math.exp(0.4)) ** 2),
    ("relu +", lambda v: v.relu(), 1.3, 1.3, 1.0),
    ("relu -", lambda v: v.relu(), -1.3, 0.0, 0.0),
    ("leaky_relu(0.2) -", lambda v: v.leaky_relu(0.2), -1.3, -0.26, 0.2),
    ("leaky_relu() -", lambda v: v.leaky_relu(), -1.3, -0.013, 0.01),
    ("leaky_relu +", lambda v: v.leaky_relu(0.2), 1.3, 1.3, 1.0),
    ("abs -", lambda v: abs(v), -1.3, 1.3, -1.0),
    ("abs +", lambda v: abs(v), 1.3, 1.3, 1.0),
]


@pytest.mark.parametrize("f, x, value, grad", [c[1:] for c in ONE_INPUT], ids=[c[0] for c in ONE_INPUT])
def test_one_input_value_and_gradient(f, x, value, grad):
    v = Value(x)
    out = f(v)
    assert isinstance(out, Value) and type(out.data) is float
    assert out.data == pytest.approx(value, rel=1e-14, abs=1e-15)
    out.backward()
    assert v.grad == pytest.approx(grad, rel=1e-14, abs=1e-15)
    assert close(v.grad, central_difference(f, [x], 0))


A, B = 1.7, -0.6
TWO_INPUTS = [
    ("a + b", lambda a, b: a + b, A + B, (1.0, 1.0)),
    ("a - b", lambda a, b: a - b, A - B, (1.0, -1.0)),
    ("a * b", lambda a, b: a * b, A * B, (B, A)),
    ("a / b", lambda a, b: a / b, A / B, (1 / B, -A / B**2)),
    ("a ** b", lambda a, b: a**b, A**B, (B * A ** (B - 1), A**B * math.log(A))),
]


@pytest.mark.parametrize("f, value, grads", [c[1:] for c in TWO_INPUTS], ids=[c[0] for c in TWO_INPUTS])
def test_two_input_value_and_gradients(f, value, grads):
    a, b = Value(A), Value(B)
    out = f(a, b)
    assert out.data == pytest.approx(value, rel=1e-14)
    out.backward()
    assert (a.grad, b.grad) == pytest.approx(grads, rel=1e-14)
    assert close(a.grad, central_difference(f, [A, B], 0))
    assert close(b.grad, central_difference(f, [A, B], 1))


def test_inputs_are_ordered_and_keep_duplicates():
    a, b = Value(2.0), Value(3.0)
    s = a + a
    assert len(s.inputs) == 2 and s.inputs[0] is a and s.inputs[1] is a
    assert (a * a).inputs == (a, a)
    d = a - b
    assert d.inputs[0] is a and d.inputs[1] is b
    r = 2 - a  # the number becomes the first input
    assert len(r.inputs) == 2 and r.inputs[0].data == 2.0 and r.inputs[0].op is None and r.inputs[1] is a
    q = 2 / a
    assert q.inputs[0].data == 2.0 and q.inputs[1] is a


@pytest.mark.parametrize("make, name, n_inputs", [
    (lambda a, b: a - b, "sub", 2), (lambda a, b: 2 - a, "sub", 2), (lambda a, b: a - 2, "sub", 2),
    (lambda a, b: a / b, "div", 2), (lambda a, b: 2 / a, "div", 2), (lambda a, b: a / 2, "div", 2),
    (lambda a, b: -a, "neg", 1), (lambda a, b: a + b, "add", 2), (lambda a, b: a * b, "mul", 2),
    (lambda a, b: a**3, "pow", 1), (lambda a, b: a**b, "pow", 2), (lambda a, b: 2**a, "pow", 2),
    (lambda a, b: abs(a), "abs", 1), (lambda a, b: a.leaky_relu(0.3), "leaky_relu", 1),
])
def test_each_operation_is_its_own_node(make, name, n_inputs):
    out = make(Value(2.0), Value(3.0))
    assert out.op.name == name
    assert len(out.inputs) == n_inputs


def test_pow_by_number_and_by_value_are_different_ops():
    a, b = Value(2.0), Value(3.0)
    assert (a**3).op is SCALAR_OPS["pow_const"] and (a**3)._ctx == 3.0
    assert (a**b).op is SCALAR_OPS["pow"] and (a**b).inputs == (a, b)
    assert (a.leaky_relu(0.3))._ctx == 0.3


def test_value_is_hashable_by_identity():
    a, b, twin = Value(1.0), Value(2.0), Value(1.0)
    assert len({a, b, a, twin}) == 3
    table = {a: "a", twin: "twin"}
    assert table[a] == "a" and table[twin] == "twin"
    assert a == a and a != twin


# --- 2. random expression graphs against finite differences --------------------------------

def test_strategy_covers_exactly_the_engine_ops():
    assert set(OP_BUILDERS) == set(SCALAR_OPS)


def _check_graph_gradients(graph):
    leaves = graph.leaves()
    root = graph(*leaves)
    assert math.isfinite(root.data)
    root.backward()
    for i, leaf in enumerate(leaves):
        numeric = central_difference(graph, list(graph.leaf_data), i)
        assert close(leaf.grad, numeric), (f"d root / d x{i}: engine {leaf.grad!r}, central difference {numeric!r}",
                                           graph)
    return root


@pytest.mark.parametrize("op_name", sorted(SCALAR_OPS))
@given(data=st.data())
def test_random_graph_with_each_op_matches_central_differences(op_name, data):
    graph = data.draw(expression_graphs(required_ops=[op_name]), label="graph")
    root = _check_graph_gradients(graph)
    assert SCALAR_OPS[op_name] in {node.op for node in topological_order(root)}, "the op was not exercised"


@given(expression_graphs(max_ops=12))
def test_random_graphs_match_central_differences(graph):
    _check_graph_gradients(graph)


def test_strategy_builds_shared_subexpressions():
    from hypothesis import find, settings

    def fan_out(graph) -> bool:
        root = graph(*graph.leaves())
        order = topological_order(root)
        uses = {id(n): 0 for n in order}
        for node in order:
            for child in set(map(id, node.inputs)):
                uses[child] += 1
        return any(uses[id(n)] >= 2 and n.op is not None for n in order)

    graph = find(expression_graphs(), fan_out, settings=settings(max_examples=500, derandomize=True))
    assert fan_out(graph)


# --- 3. fan-in and fan-out --------------------------------------------------------------------

def test_node_with_three_consumers_gets_the_sum_over_paths():
    x, y = Value(0.7), Value(-1.2)
    u = x * y
    f = u * u + u.tanh() + 3 * u
    f.backward()
    uv = 0.7 * -1.2
    df_du = 2 * uv + (1 - math.tanh(uv) ** 2) + 3
    assert u.grad == pytest.approx(df_du, rel=1e-14)
    assert x.grad == pytest.approx(df_du * -1.2, rel=1e-14)
    assert y.grad == pytest.approx(df_du * 0.7, rel=1e-14)


def test_diamond_graph():
    x = Value(0.3)
    a = x.exp()
    f = (a + x) * (a * x)  # (eˣ + x)(x eˣ)
    f.backward()
    e = math.exp(0.3)
    expected = (e + 1) * (0.3 * e) + (e + 0.3) * (e + 0.3 * e)
    assert x.grad == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("f, grad", [
    (lambda a: a + a, lambda x: 2.0),
    (lambda a: a * a, lambda x: 2 * x),
    (lambda a: a - a, lambda x: 0.0),
    (lambda a: a / a, lambda x: 0.0),
    (lambda a: a * a * a, lambda x: 3 * x * x),
    (lambda a: autograd.sum([a, a, a]), lambda x: 3.0),
    (lambda a: autograd.dot([a, a], [a, 2.0], a), lambda x: 2 * x + 2 + 1),  # a² + 2a + a
], ids=["a+a", "a*a", "a-a", "a/a", "a*a*a", "sum(a,a,a)", "dot([a,a],[a,2],a)"])
def test_same_input_twice(f, grad):
    a = Value(-1.5)
    f(a).backward()
    assert a.grad == pytest.approx(grad(-1.5), rel=1e-14, abs=1e-15)


def test_backward_twice_doubles_leaves_and_intermediates_hold_the_latest_pass():
    x, y = Value(0.5), Value(-2.0)
    u = x * y
    f = u.tanh()
    t = math.tanh(-1.0)
    f.backward()
    f.backward()
    assert x.grad == pytest.approx(2 * (1 - t * t) * -2.0, rel=1e-14)
    assert y.grad == pytest.approx(2 * (1 - t * t) * 0.5, rel=1e-14)
    assert u.grad == pytest.approx(1 - t * t, rel=1e-14)
    assert f.grad == 1.0

    g = u * 5.0  # a new root through the same intermediate: u restarts, leaves keep accumulating
    g.backward()
    assert u.grad == 5.0
    assert x.grad == pytest.approx(2 * (1 - t * t) * -2.0 + 5 * -2.0, rel=1e-14)


def test_no_grad_records_nothing_and_nesting_restores():
    x, y = Value(2.0), Value(3.0)
    assert is_grad_enabled()
    with no_grad():
        z = x * y + 1
        assert not is_grad_enabled()
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()  # the inner block restored the outer state, not "on"
    assert is_grad_enabled()
    assert z.data == 7.0 and z.inputs == () and z.op is None
    z.backward()
    assert x.grad == 0.0 and y.grad == 0.0
    assert (x * y).inputs == (x, y)


def test_no_grad_restores_after_an_exception():
    with pytest.raises(DomainError), no_grad():
        Value(-1.0).log()
    assert is_grad_enabled()


# --- 4. depth -----------------------------------------------------------------------------

@pytest.mark.slow
def test_million_operation_chain_goes_backward_and_is_freed():
    pairs = 500_001  # 1,000,002 operations: y <- -(y + one)
    x, one = Value(0.5, "x"), Value(1.0, "one")
    refs_before = sys.getrefcount(x), sys.getrefcount(one)
    # With the collector off the chain must still be freed at `del y`: by reference counting alone, which
    # is what "no reference cycles" promises (and the collector's passes over a growing graph cost a third).
    gc.disable()
    try:
        y = x
        for _ in range(pairs):
            y = -(y + one)
        # After an odd number of pairs: y = -(x + 1), dy/dx = (-1)^pairs = -1, and one's
        # 500,001 paths alternate -1, +1, ... summing to -1.
        assert y.data == -1.5
        y.backward()
        assert x.grad == -1.0
        assert one.grad == -1.0
        assert y.inputs[0].grad == -1.0
        del y
        assert (sys.getrefcount(x), sys.getrefcount(one)) == refs_before  # the chain is gone, no collector
    finally:
        gc.enable()


# --- 4b. the n-ary dot node: shared tuples, memory per node -----------------------------------

def test_dot_node_keeps_the_callers_tuples_and_reads_as_one_flat_tuple():
    ws, xs, b = (Value(1.0, "w0"), Value(2.0, "w1")), (Value(3.0, "x0"), Value(4.0, "x1")), Value(0.5, "b")
    z1, z2 = autograd.dot(ws, xs, b), autograd.dot(ws, xs)
    assert z1._a is ws and z1._b is xs and z1._ctx is b  # the caller's tuples in the node's slots, not copied
    assert z2._a is ws and z2._b is xs and z2._ctx is None
    assert z1.inputs == (*ws, *xs, b) and type(z1.inputs) is tuple
    assert z2.inputs == (*ws, *xs)
    assert len(z1._inputs) == 5 and len(z2._inputs) == 4
    assert [z1._inputs[i] for i in range(-5, 5)] == [*z1.inputs, *z1.inputs]
    assert z1.data == 1 * 3 + 2 * 4 + 0.5 and z2.data == 11.0
    from_lists = autograd.dot(list(ws), list(xs), b)  # lists are copied into tuples: the same node otherwise
    assert from_lists.inputs == z1.inputs and from_lists.data == z1.data
    called = SCALAR_OPS["dot"](*ws, *xs, b)  # the op called on a flat tuple, as any ScalarOp can be
    assert type(called._inputs) is tuple and called.data == z1.data
    called.backward()
    assert [v.grad for v in (*ws, *xs, b)] == [3.0, 4.0, 1.0, 2.0, 1.0]  # ∂z/∂wᵢ = xᵢ, ∂z/∂xᵢ = wᵢ, ∂z/∂b = 1


@given(st.integers(1, 6), st.booleans(), st.data())
def test_dot_one_pass_backward_adds_upstream_times_each_local_derivative(n, with_bias, data):
    """The dot op's one-pass backward (``propagate``) against ∂z/∂wᵢ = xᵢ, ∂z/∂xᵢ = wᵢ, ∂z/∂b = 1 written
    here, and against the generic path over the op's derivative table (which gradcheck and explain read)."""
    numbers = data.draw(st.lists(reals(-10.0, 10.0), min_size=2 * n + 1, max_size=2 * n + 1))
    ws, xs, b = tuple(map(Value, numbers[:n])), tuple(map(Value, numbers[n:2 * n])), Value(numbers[-1])
    leaves = (*ws, *xs, b) if with_bias else (*ws, *xs)
    z = autograd.dot(ws, xs, b if with_bias else None)
    z.grad = g = data.draw(reals(-10.0, 10.0))
    by_hand = [g * x.data for x in xs] + [g * w.data for w in ws] + ([g] if with_bias else [])
    assert z.op.contributions(z) == by_hand  # the generic path: upstream x the table
    z.op.propagate(z)
    assert [v.grad for v in leaves] == by_hand  # the one pass, into grads that started at 0


def test_dot_gradients_through_tuples_shared_by_many_nodes_match_central_differences():
    # one input tuple feeds three neurons and one weight tuple two samples: gradients must sum over all of them
    def f(*v):
        w = [tuple(v[0:2]), tuple(v[2:4]), tuple(v[4:6])]
        total = Value(0.0)
        for x in (tuple(v[6:8]), tuple(v[8:10])):
            hidden = tuple(autograd.dot(wj, x, v[10]).tanh() for wj in w)
            total = total + autograd.dot(hidden, w[0] + (v[11],)).sigmoid()
        return total

    data = [0.3, -0.7, 1.1, 0.4, -0.2, 0.9, 0.5, -1.3, 0.8, 0.6, 0.1, -0.4]
    leaves = list(map(Value, data))
    f(*leaves).backward()
    for i, leaf in enumerate(leaves):
        assert close(leaf.grad, central_difference(f, data, i)), i


@pytest.mark.parametrize("build", ["autograd.dot", "nn.MLP"])
def test_a_dot_graph_of_the_2_16_16_1_network_takes_under_200_bytes_per_node(build):
    """The issue's memory target on the n-ary graph: the W2 network (2-16-16-1, ReLU, ReLU, sigmoid, MSE)
    on 20 samples, measured with tracemalloc while the graph is built."""
    from nn import MLP

    rng = np.random.default_rng(0)
    samples = [tuple(Value(v) for v in row) for row in rng.uniform(-1, 1, (20, 2)).tolist()]
    targets = rng.integers(0, 2, 20).tolist()
    model = MLP(2, [16, 16], 1, activations=["relu", "relu", "sigmoid"], seed=0)
    layers = [([n.w for n in layer.neurons], [n.b for n in layer.neurons]) for layer in model.layers]

    def loss() -> Value:
        errors = []
        for x, y in zip(samples, targets):
            if build == "nn.MLP":
                out = model(x)
            else:
                a = x
                for l, (weights, biases) in enumerate(layers):
                    zs = [autograd.dot(w, a, b) for w, b in zip(weights, biases)]
                    a = tuple([z.sigmoid() for z in zs] if l == 2 else [z.relu() for z in zs])
                out = a[0]
            errors.append((out - y) ** 2)
        return autograd.sum(errors) * (1.0 / len(errors))

    loss()  # a first call, so that what is built once per model (labels, caches) is not counted
    gc.collect()
    tracemalloc.start()
    try:
        root = loss()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    old = set(map(id, model.parameters())) | {id(v) for x in samples for v in x}
    nodes = sum(id(v) not in old for v in topological_order(root))
    assert nodes == 20 * (16 + 16 + 16 + 16 + 1 + 1 + 3) + 3  # z, a per neuron; y, y - ŷ, its square; Σ, 1/20, mean
    assert peak / nodes < 200, f"{peak / nodes:.0f} B per node"


# --- 5. numerics at the edges -----------------------------------------------------------------

@pytest.mark.parametrize("method, x, value, grad", [
    ("exp", 1000.0, math.inf, math.inf),
    ("exp", -1000.0, 0.0, 0.0),
    ("sigmoid", 1000.0, 1.0, 0.0),
    ("sigmoid", -1000.0, 0.0, 0.0),  # e^-1000 rounds to 0 in float64: 0.0 is the correctly rounded value
    ("tanh", 1000.0, 1.0, 0.0),
    ("tanh", -1000.0, -1.0, 0.0),
    ("log", 1000.0, 3 * math.log(10), 0.001),
    ("log", 1e-300, -300 * math.log(10), 1e300),
])
def test_large_inputs_give_limits_without_exception_or_warning(method, x, value, grad):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = Value(x)
        out = getattr(v, method)()
        out.backward()
    # abs=0: a limit of 0, ±1 or inf must be hit exactly
    assert out.data == pytest.approx(value, rel=1e-14, abs=0.0)
    assert v.grad == pytest.approx(grad, rel=1e-14, abs=0.0)
    if method == "sigmoid":
        assert out.data >= 0.0 and math.isfinite(v.grad)


@given(reals(-1000, 1000))
def test_sigmoid_and_tanh_stay_in_range_with_finite_gradients(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v, w = Value(x), Value(x)
        s, t = v.sigmoid(), w.tanh()
        s.backward()
        t.backward()
    assert 0.0 <= s.data <= 1.0 and -1.0 <= t.data <= 1.0
    assert 0.0 <= v.grad <= 0.25 and 0.0 <= w.grad <= 1.0
    if abs(x) < 30:
        assert s.data == pytest.approx(sigmoid(x), rel=1e-13)


@pytest.mark.parametrize("make, division", [
    (lambda: Value(0.0).log(), False),
    (lambda: Value(-1.0).log(), False),
    (lambda: Value(-1000.0).log(), False),
    (lambda: Value(-8.0) ** (1 / 3), False),
    (lambda: Value(-8.0) ** Value(1 / 3), False),
    (lambda: (-8) ** Value(1 / 3), False),
    (lambda: Value(0.0) ** -1, True),
    (lambda: Value(0.0) ** Value(-1.0), True),
    (lambda: Value(1.0) / 0, True),
    (lambda: 1 / Value(0.0), True),
    (lambda: Value(1.0) / Value(-0.0), True),
], ids=["log(0)", "log(-1)", "log(-1000)", "(-8)**(1/3)", "(-8)**V(1/3)", "(-8)**V", "0**-1", "0**V(-1)",
        "V/0", "1/V(0)", "V/V(-0)"])
def test_out_of_domain_raises_domain_error(make, division):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DomainError) as info:
            make()
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, ZeroDivisionError) == division
    assert isinstance(info.value, DivisionByZeroError) == division


@pytest.mark.parametrize("name, make, error, message", [
    ("log", lambda: Value(-1.0).log(), DomainError, r"log is defined for x > 0, got x = -1\.0"),
    ("sqrt", lambda: Value(-1.0).sqrt(), DomainError, r"sqrt is defined for x >= 0, got x = -1\.0"),
    ("div", lambda: Value(1.0) / 0.0, DivisionByZeroError, r"division by zero: 1\.0 / 0\.0"),
    ("pow_const", lambda: Value(-1.0) ** 0.5, DomainError, r"\(-1\.0\) \*\* 0\.5 is undefined"),
    ("pow", lambda: Value(0.0) ** Value(-1.0), DivisionByZeroError, r"0 \*\* -1\.0 is undefined"),
])
def test_each_domain_check_is_the_ops_domain_and_runs_before_its_forward(name, make, error, message, monkeypatch):
    op = SCALAR_OPS[name]
    calls = []
    monkeypatch.setattr(op, "forward", lambda xs, ctx: calls.append(xs) or 0.0)
    with pytest.raises(error, match=message):
        make()
    assert calls == []  # refused before the formula ran


def test_forward_formulas_hold_no_domain_checks():
    """Outside the domain the formula alone gives numpy's value (inf, nan) or math's own error: only the
    domain refuses with a DomainError naming the inputs."""
    assert SCALAR_OPS["pow_const"].forward([0.0], -1.0) == math.inf  # numpy's 0.0 ** -1
    assert math.isnan(SCALAR_OPS["pow"].forward([-8.0, 1 / 3], None))
    with pytest.raises(ZeroDivisionError):
        SCALAR_OPS["div"].forward([1.0, 0.0], None)
    assert [name for name, op in SCALAR_OPS.items() if op.domain is not None] == ["div", "pow_const", "pow", "log",
                                                                                 "sqrt"]


def test_a_user_scalar_op_with_a_domain_is_checked_before_its_forward():
    def positive(xs, ctx):
        if xs[0] <= 0:
            raise DomainError(f"reciprocal needs x > 0, got x = {xs[0]!r}")

    seen = []
    inv = autograd.ScalarOp("reciprocal", "1/x", lambda xs, c: seen.append(1) or 1.0 / xs[0],
                            lambda xs, o, c: [-o * o], domain=positive)
    x = Value(0.5)
    out = inv(x)
    out.backward()
    assert (out.data, x.grad) == (2.0, -4.0)  # d(1/x)/dx = -1/x² by hand
    with pytest.raises(DomainError, match=r"reciprocal needs x > 0, got x = -1\.0"):
        inv(Value(-1.0))
    assert seen == [1]  # the refused call never reached the forward
    with pytest.raises(TypeError, match="ScalarOp domain must be a function or None"):
        autograd.ScalarOp("bad", "?", lambda xs, c: xs[0], lambda xs, o, c: [1.0], domain="x > 0")


@pytest.mark.parametrize("make, value", [
    (lambda: Value(10.0) ** 400, math.inf),
    (lambda: Value(-10.0) ** 401, -math.inf),
    (lambda: Value(-10.0) ** 400, math.inf),
    (lambda: Value(1e-200) ** -2, math.inf),
    (lambda: Value(10.0) ** Value(400.0), math.inf),
    (lambda: 10 ** Value(400.0), math.inf),
    (lambda: Value(1e300) * Value(1e300), math.inf),
    (lambda: Value(1e308) + 1e308, math.inf),
    (lambda: Value(1e300) / 1e-300, math.inf),
])
def test_overflow_gives_inf_not_an_exception(make, value):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = make()
        out.backward()
    assert out.data == value
    assert not any(math.isnan(leaf.grad) for leaf in out.inputs)


def test_tiny_denominator_goes_backward():
    a, b = Value(1.0), Value(1e-200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q = a / b
        q.backward()
    assert q.data == pytest.approx(1e200, rel=1e-15)
    assert a.grad == pytest.approx(1e200, rel=1e-15)
    assert b.grad == -math.inf  # -a/b² = -1e400 overflows


# --- 6. the kink table --------------------------------------------------------------------

@pytest.mark.parametrize("method, x, value, grad", [
    ("relu", 0.0, 0.0, 0.0), ("relu", -0.0, 0.0, 0.0), ("relu", 1e-9, 1e-9, 1.0), ("relu", -1e-9, 0.0, 0.0),
    ("abs", 0.0, 0.0, 0.0), ("abs", -0.0, 0.0, 0.0), ("abs", 1e-9, 1e-9, 1.0), ("abs", -1e-9, 1e-9, -1.0),
    ("leaky", 0.0, 0.0, 0.1), ("leaky", -0.0, 0.0, 0.1), ("leaky", 1e-9, 1e-9, 1.0), ("leaky", -1e-9, -1e-10, 0.1),
])
def test_kink_table(method, x, value, grad):
    v = Value(x)
    out = {"relu": Value.relu, "abs": abs, "leaky": lambda v: v.leaky_relu(0.1)}[method](v)
    out.backward()
    assert out.data == pytest.approx(value, rel=1e-15, abs=0.0)
    assert v.grad == grad


def test_leaky_relu_kink_uses_the_given_slope():
    v = Value(0.0)
    v.leaky_relu(0.37).backward()
    assert v.grad == 0.37


# --- 7. bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("make, received", [
    (lambda: Value("3"), "str"),
    (lambda: Value(None), "NoneType"),
    (lambda: Value([1, 2]), "list"),
    (lambda: Value(np.array([1.0, 2.0])), "ndarray"),
    (lambda: Value(1j), "complex"),
    (lambda: Value(1) + "a", "str"),
    (lambda: "a" + Value(1), "str"),
    (lambda: "a" * Value(1), "str"),
    (lambda: Value(1) * None, "NoneType"),
    (lambda: Value(1) ** "x", "str"),
    (lambda: "x" ** Value(1), "str"),
    (lambda: Value(1) / [2], "list"),
    (lambda: Value(1).leaky_relu(slope="x"), "str"),
    (lambda: Value(1, label=3), "int"),
    (lambda: autograd.dot([Value(1)], ["x"]), "str"),
    (lambda: autograd.dot(5, [1.0]), "int"),
    (lambda: autograd.sum(None), "NoneType"),
    (lambda: autograd.sum([1.0, "a"]), "str"),
])
def test_bad_input_raises_type_error_naming_the_received_type(make, received):
    with pytest.raises(TypeError, match=rf"\b{received}\b"):
        make()


@pytest.mark.parametrize("make", [
    lambda: Value(10**400), lambda: Value(1) + 10**400, lambda: Value(2) ** 10**400,
    lambda: Value(1).leaky_relu(10**400),
])
def test_int_too_large_for_float64_is_a_value_error(make):
    with pytest.raises(ValueError, match="int"):
        make()


@pytest.mark.parametrize("data, expected", [
    (3, 3.0), (True, 1.0), (False, 0.0), (np.float32(1.5), 1.5), (np.float64(-2.25), -2.25),
    (np.int64(3), 3.0), (np.int8(-4), -4.0), (np.bool_(True), 1.0), (np.array(2.5), 2.5),
])
def test_numbers_are_stored_as_python_floats(data, expected):
    v = Value(data)
    assert type(v.data) is float and v.data == expected
    for out in (v + data, data + v, data * v, v**data if expected >= 0 else v):
        assert isinstance(out, Value) and type(out.data) is float


def test_numpy_scalar_on_the_left_makes_a_value():
    out = np.float64(2.0) * Value(3.0)
    assert isinstance(out, Value) and out.data == 6.0
    out = np.int64(2) - Value(3.0)
    assert isinstance(out, Value) and out.data == -1.0 and out.op.name == "sub"


def test_empty_or_mismatched_dot_and_sum_are_value_errors():
    with pytest.raises(ValueError, match="empty"):
        autograd.sum([])
    with pytest.raises(ValueError, match="2 weights and 1 inputs"):
        autograd.dot([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        autograd.dot([], [])


BINARY = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]
UNARY = [operator.neg, operator.pos, abs, float, Value.exp, Value.log, Value.tanh, Value.sigmoid, Value.relu,
         Value.leaky_relu, repr]


def _attempt(call):
    """call(), returning None when it raises TypeError or ValueError; anything else propagates."""
    try:
        return call()
    except (TypeError, ValueError):
        return None


def _exercise(v):
    """Every method of a Value and backward through each result."""
    for f in UNARY:
        out = _attempt(lambda f=f: f(v))
        if isinstance(out, Value):
            out.backward()
    v.backward()


@given(junk())
def test_junk_gives_only_type_or_value_errors(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = [
            _attempt(lambda: Value(x)), _attempt(lambda: Value(1.0, label=x)),
            _attempt(lambda: Value(1.5).leaky_relu(x)), _attempt(lambda: Value(-1.5).leaky_relu(slope=x)),
            _attempt(lambda: autograd.dot(x, [1.0])), _attempt(lambda: autograd.dot([1.0], x)),
            _attempt(lambda: autograd.dot([1.0], [2.0], x)), _attempt(lambda: autograd.dot([x], [2.0], 1.0)),
            _attempt(lambda: autograd.dot([Value(1.0)], [x])), _attempt(lambda: autograd.dot(x, x, x)),
            _attempt(lambda: autograd.sum(x)), _attempt(lambda: autograd.sum([x])),
            _attempt(lambda: autograd.sum([Value(1.0), x, x])),
        ]
        v = _attempt(lambda: Value(x))
        for op in BINARY:
            for other in (Value(1.5), Value(-1.5), Value(0.0), v):
                if other is not None:
                    results.append(_attempt(lambda op=op, other=other: op(other, x)))
                    if not (isinstance(x, fractions.Fraction) and op is operator.pow):
                        # Fraction.__pow__ runs first and does float(x) ** other itself
                        results.append(_attempt(lambda op=op, other=other: op(x, other)))
        for out in results + [v]:
            if isinstance(out, Value):
                _exercise(out)


def test_an_operation_you_define_is_called_like_a_function_and_checked_by_gradcheck():
    cube = autograd.ScalarOp("cube", "³", lambda xs, c: xs[0] ** 3, lambda xs, o, c: [3.0 * xs[0] ** 2])
    x = Value(2.0, "x")
    y = cube(x)
    y.backward()
    assert (y.data, x.grad, y.inputs, y.op) == (8.0, 12.0, (x,), cube)  # d(x³)/dx = 3 x² = 12 at 2
    assert cube(3).data == 27.0  # a number becomes a constant leaf, as with + or *
    assert autograd.gradcheck(lambda v: cube(v).tanh(), [Value(0.7)])
    typo = autograd.ScalarOp("cube", "³", lambda xs, c: xs[0] ** 3, lambda xs, o, c: [3.0 * xs[0]])
    wrong_node = r"node #\d+ cube \(x=1\.5\).*engine 4\.5, finite difference 6\.7"  # 3 x vs 3 x² = 6.75
    with pytest.raises(autograd.GradcheckError, match=wrong_node):
        autograd.gradcheck(lambda v: typo(v).tanh(), [Value(1.5)])
    with pytest.raises(ValueError, match="cube needs at least one input"):
        cube()
    with pytest.raises(ValueError, match="ScalarOp name must be a non-empty str"):
        autograd.ScalarOp("", "s", len, len)
    with pytest.raises(TypeError, match="ScalarOp derivatives must be a function, got NoneType"):
        autograd.ScalarOp("op", "s", len, None)


# --- the op table walked (issue 12 item 1): every op has a first- and second-derivative test, and its method
# --- runs the table entry's own forward -------------------------------------------------------------------

# name -> (f of Values, a point away from kinks and domain edges); a new op without an entry fails the walk
TABLE_CASES = {
    "add": (lambda a, b: a + b, [0.7, -1.3]), "sub": (lambda a, b: a - b, [0.7, -1.3]),
    "mul": (lambda a, b: a * b, [0.7, -1.3]), "div": (lambda a, b: a / b, [0.7, -1.3]),
    "neg": (lambda a: -a, [0.7]), "pow_const": (lambda a: a**3.5, [0.7]), "pow": (lambda a, b: a**b, [0.7, -1.3]),
    "exp": (lambda a: a.exp(), [0.7]), "log": (lambda a: a.log(), [0.7]), "tanh": (lambda a: a.tanh(), [0.7]),
    "sigmoid": (lambda a: a.sigmoid(), [0.7]), "softplus": (lambda a: a.softplus(), [-0.7]),
    "sin": (lambda a: a.sin(), [0.7]), "cos": (lambda a: a.cos(), [0.7]), "sqrt": (lambda a: a.sqrt(), [0.7]),
    "relu": (lambda a: a.relu(), [0.7]), "leaky_relu": (lambda a: a.leaky_relu(0.2), [-0.7]),
    "abs": (lambda a: abs(a), [-0.7]), "maximum": (lambda a, b: a.maximum(b), [0.7, -1.3]),
    "minimum": (lambda a, b: a.minimum(b), [0.7, -1.3]),
    "sum": (lambda a, b, c: autograd.sum([a, b, c]), [0.7, -1.3, 2.1]),
    "dot": (lambda w0, w1, x0, x1, b: autograd.dot([w0, w1], [x0, x1], b), [0.7, -1.3, 2.1, 0.4, -0.5]),
}


@pytest.mark.parametrize("name", sorted(SCALAR_OPS))
def test_every_scalar_op_has_first_and_second_derivatives_matching_central_differences(name):
    f, point = TABLE_CASES[name]
    # each input scaled by a product with the others, so the op's second derivatives all reach the Hessian
    def g(*xs):
        out = f(*xs)
        return out * out + out.tanh() * xs[0]

    leaves = [Value(p) for p in point]
    assert SCALAR_OPS[name] in {node.op for node in topological_order(f(*leaves))}
    first = autograd.grad(g(*leaves), leaves)
    for i in range(len(point)):
        assert close(first[i], central_difference(g, point, i)), (name, i)
    h = autograd.hessian(g, point)
    for i in range(len(point)):
        plus, minus = list(point), list(point)
        plus[i] += H
        minus[i] -= H
        vp, vm = [Value(p) for p in plus], [Value(m) for m in minus]
        row = (np.array(autograd.grad(g(*vp), vp)) - np.array(autograd.grad(g(*vm), vm))) / (2 * H)
        assert np.allclose(h[i], row, rtol=1e-5, atol=1e-6), (name, i, h[i], row)


METHODS = {  # name -> the method or operator that applies it
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "neg": lambda a, b: -a, "pow_const": lambda a, b: a**2.0, "pow": lambda a, b: a**b, "exp": lambda a, b: a.exp(),
    "log": lambda a, b: a.log(), "tanh": lambda a, b: a.tanh(), "sigmoid": lambda a, b: a.sigmoid(),
    "softplus": lambda a, b: a.softplus(), "sin": lambda a, b: a.sin(), "cos": lambda a, b: a.cos(),
    "sqrt": lambda a, b: a.sqrt(), "relu": lambda a, b: a.relu(), "leaky_relu": lambda a, b: a.leaky_relu(),
    "abs": lambda a, b: abs(a), "maximum": lambda a, b: a.maximum(b), "minimum": lambda a, b: a.minimum(b),
    "sum": lambda a, b: autograd.sum([a, b]), "dot": lambda a, b: autograd.dot([a], [b]),
}


@pytest.mark.parametrize("name", sorted(SCALAR_OPS))
def test_replacing_an_ops_forward_changes_what_its_method_computes(name, monkeypatch):
    monkeypatch.setattr(SCALAR_OPS[name], "forward", lambda xs, ctx: 42.0)
    assert METHODS[name](Value(0.7), Value(1.3)).data == 42.0


def test_comparisons_give_plain_bools_and_values_stay_hashable_by_identity():
    a, b = Value(1.0), Value(2.0)
    assert (a < b, a <= b, a > b, a >= b, a < 1.5, 2 > a) == (True, True, False, False, True, True)
    assert type(a < b) is bool
    assert a != Value(1.0) and len({a, Value(1.0)}) == 2  # no __eq__: identity
    assert max(a, b) is b and min(a, b) is a  # Python's max picks a node; maximum is the op
    m = a.maximum(b)
    m.backward()
    assert (a.grad, b.grad) == (0.0, 1.0)
    t1, t2 = Value(3.0), Value(3.0)
    t1.maximum(t2).backward()
    assert (t1.grad, t2.grad) == (0.5, 0.5)  # a tie splits the gradient, as PyTorch
    assert math.isnan(Value(math.nan).maximum(1.0).data)
    with pytest.raises(TypeError, match="unsupported operand for <: Value and str"):
        assert a < "x"


def test_truth_and_int_of_a_value_are_those_of_its_number():
    assert not Value(0.0) and not Value(-0.0) and Value(1e-300) and Value(-2.0) and Value(float("nan"))
    assert not (Value(1.0) - 1.0)  # a computed node too
    assert [int(Value(x)) for x in (2.9, -2.9, 0.0, 1e15)] == [2, -2, 0, 10**15]
    assert type(int(Value(3.0))) is int
    with pytest.raises(ValueError, match="NaN"):
        int(Value(float("nan")))
    with pytest.raises(OverflowError):
        int(Value(float("inf")))


def test_comparisons_take_the_numbers_arithmetic_takes():
    assert Value(2.0) < np.array(3.0) and Value(2.0) >= np.float32(1.0) and not Value(2.0) > np.int64(5)
    with pytest.raises(TypeError, match=r"unsupported operand for <: Value and ndarray"):
        Value(2.0) < np.ones(2)  # noqa: B015 - the comparison is what is tested
