"""Numbers written in an expression (``x * 2``, ``1 - x``, ``autograd.sum([x, 3])``) are constants: leaves that
take no gradient. A number on the right of + - * / (and of maximum/minimum) is kept inside the node instead of
becoming an object, and a reader (``inputs``, ``topological_order``, a drawing) meets it as one constant leaf.

Expected gradients are written out here or come from central differences, never from the engine.
"""

from __future__ import annotations

import gc
import math
import operator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import reals

import autograd
from autograd import Value, detect_anomaly, no_grad
from autograd.graph import topological_order

H = 1e-6

# a number on the right (kept in the node) and on the left (a constant leaf), with d/dx written out
RIGHT = {
    "+": (operator.add, lambda x, c: 1.0),
    "-": (operator.sub, lambda x, c: 1.0),
    "*": (operator.mul, lambda x, c: c),
    "/": (operator.truediv, lambda x, c: 1.0 / c),
    "maximum": (lambda v, c: v.maximum(c) if isinstance(v, Value) else max(v, c),
                lambda x, c: 1.0 if x > c else (0.0 if x < c else 0.5)),
    "minimum": (lambda v, c: v.minimum(c) if isinstance(v, Value) else min(v, c),
                lambda x, c: 1.0 if x < c else (0.0 if x > c else 0.5)),
}
LEFT = {
    "+": (operator.add, lambda x, c: 1.0),
    "-": (operator.sub, lambda x, c: -1.0),
    "*": (operator.mul, lambda x, c: c),
    "/": (operator.truediv, lambda x, c: -c / (x * x)),
}


def _central(f, x: float) -> float:
    with no_grad():
        return (f(Value(x + H)).data - f(Value(x - H)).data) / (2 * H)


@pytest.mark.parametrize("symbol", sorted(RIGHT))
@given(x=reals(-50.0, 50.0), c=reals(-50.0, 50.0))
def test_a_number_on_the_right_is_kept_in_the_node_and_x_gets_its_derivative(symbol, x, c):
    f, derivative = RIGHT[symbol]
    if symbol == "/" and abs(c) < 1e-3 or symbol in ("maximum", "minimum") and abs(x - c) < 1e-3:
        return  # the domain edge and the kink have their own tests (test_value.py)
    v = Value(x, "x")
    out = f(v, c)
    assert type(out._b) is float and out._b == float(c)  # no constant object was made
    assert out.data == f(x, float(c))
    out.backward()
    assert v.grad == pytest.approx(derivative(x, c), rel=1e-12, abs=1e-12)
    assert v.grad == pytest.approx(_central(lambda u: f(u, c), x), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("symbol", sorted(LEFT))
@given(x=reals(-50.0, 50.0), c=reals(-50.0, 50.0))
def test_a_number_on_the_left_is_a_constant_leaf_without_a_gradient(symbol, x, c):
    f, derivative = LEFT[symbol]
    if symbol == "/" and abs(x) < 1e-2:
        return
    v = Value(x, "x")
    out = f(c, v)
    constant = out.inputs[0]
    assert constant.data == float(c) and constant.requires_grad is False and v.requires_grad is True
    out.backward()
    assert v.grad == pytest.approx(derivative(x, c), rel=1e-9, abs=1e-12)
    assert v.grad == pytest.approx(_central(lambda u: f(c, u), x), rel=1e-5, abs=1e-6)
    assert constant.grad == 0.0  # takes no gradient: what backward adds is dropped


def test_a_reader_meets_one_constant_leaf_for_the_kept_number():
    x = Value(3.0, "x")
    y = x * 2.0 + 1
    order = topological_order(y)
    constants = [n for n in order if n._op is None and n is not x]
    assert sorted(c.data for c in constants) == [1.0, 2.0]
    assert all(type(c) is not Value and isinstance(c, Value) and not c.requires_grad for c in constants)
    product = y.inputs[0]
    assert product.inputs[1] is product.inputs[1] is next(c for c in constants if c.data == 2.0)  # kept
    assert set(topological_order(y)) == set(order)  # read again: the same nodes
    assert order.index(product.inputs[1]) < order.index(product) < order.index(y)


@pytest.mark.parametrize("read_first", [False, True])
def test_reading_the_inputs_before_or_after_backward_changes_no_gradient(read_first):
    """x.grad for y = (x·3 - 1)² / 2 + x is 3(3x - 1) + 1, read or not."""
    x = Value(0.7, "x")
    y = (x * 3.0 - 1.0) ** 2 / 2.0 + x
    if read_first:
        topological_order(y)
        autograd.draw(y).source  # noqa: B018 - a drawing reads every input
    y.backward()
    assert x.grad == pytest.approx(3 * (3 * 0.7 - 1) + 1, rel=1e-14)
    autograd.draw(y).source  # noqa: B018
    x.grad = 0.0
    y.backward()  # and a second pass after reading gives the same again
    assert x.grad == pytest.approx(3 * (3 * 0.7 - 1) + 1, rel=1e-14)
    assert all(n.grad == 0.0 for n in topological_order(y) if not n.requires_grad)


def test_a_drawing_shows_a_constants_value_and_no_grad():
    x = Value(3.0, "x")
    y = 2.0 - x * 5.0
    y.backward()
    source = autograd.draw(y).source
    labels = [line for line in source.splitlines() if "data 5.0000" in line or "data 2.0000" in line]
    assert len(labels) == 2 and not any("grad" in line for line in labels)
    assert "grad -5.0000" in source  # x's


def test_numbers_in_sums_and_dot_products_are_constants_too():
    x, w = Value(2.0, "x"), Value(-1.5, "w")
    s = autograd.sum([x, 3, 0.5])
    z = autograd.dot([w, 2.0], [x, 4], 1.0)  # -1.5·2 + 2·4 + 1
    assert s.data == 5.5 and z.data == 6.0
    (s + z).backward()
    assert x.grad == 1.0 + -1.5 and w.grad == 2.0
    assert [type(c).__name__ for c in s.inputs[1:]] == ["_Constant", "_Constant"]
    assert all(c.grad == 0.0 and not c.requires_grad for c in z.inputs if c is not x and c is not w)


def test_second_derivatives_run_through_a_kept_number():
    """f = (2x³)·0.5 - x/4 = x³ - x/4, written with kept numbers: f' = 3x² - 1/4 and f'' = 6x."""
    x = Value(1.5, "x")
    f = (x * x * x * 2.0) * 0.5 - x / 4.0
    (g,) = autograd.grad(f, [x], create_graph=True)
    assert g.data == pytest.approx(3 * 1.5**2 - 0.25, rel=1e-14)
    (h,) = autograd.grad(g, [x])
    assert h == pytest.approx(6 * 1.5, rel=1e-14)


def test_anomaly_mode_names_the_kept_number():
    x = Value(1e300, "x")
    with pytest.raises(autograd.AnomalyError) as caught, detect_anomaly():
        x * 1e10
    assert "inf" in str(caught.value)


def test_a_chain_with_numbers_makes_one_object_for_the_collector_per_step():
    """v = v * 1.0000001 + 0.0 makes two nodes a step and no constant: 2 tracked objects, not 4."""
    gc.collect()
    before = len(gc.get_objects())
    v = x = Value(0.5)
    for _ in range(5000):
        v = v * 1.0000001 + 0.0
    grown = len(gc.get_objects()) - before
    assert 2 * 5000 <= grown < 2 * 5000 + 200
    v.backward()
    assert x.grad == pytest.approx(1.0000001**5000, rel=1e-12)
    assert math.isfinite(v.data)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_nan_and_inf_on_the_kept_side_propagate(c):
    x = Value(1.0, "x")
    out = x * c
    out.backward()
    expected = 1.0 * c
    assert (math.isnan(out.data) and math.isnan(expected)) or out.data == expected
    assert (math.isnan(x.grad) and math.isnan(c)) or x.grad == c
