"""The scalar ``Value``: one float, its gradient, its inputs and how it was made.

Every operation is one ``ScalarOp``: its forward formula and its local
derivatives written side by side. A node stores only its inputs, its op and
(for ops with a parameter such as the slope of leaky ReLU) a context; the local
derivatives are computed from those when backward, a drawing, ``explain`` or
``gradcheck`` asks. A node never refers back to itself, so graphs form no
reference cycles and are freed by reference counting alone.

Conventions (see the README's table):

- derivative at a kink: relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope
  (PyTorch's choices);
- out of domain (log of x <= 0, a negative base to a non-integer power,
  0 to a negative power, division by 0): ``DomainError`` (a ``ValueError``);
- overflow gives +-inf, never an exception or a warning (``Value(1000).exp()``
  is inf); sigmoid and tanh saturate to their limits; softplus(x) = max(x, 0) + log(1 + e^-|x|)
  is finite for every finite x;
- nan propagates as in numpy and PyTorch: every op gives nan for a nan input and every derivative
  that depends on that input is nan (relu, leaky relu and abs included); x ** 0 is 1 with derivative 0
  for every x, nan and 0 included;
- inside ``autograd.detect_anomaly()`` a nan or inf result raises ``AnomalyError`` instead;
- setting a leaf's ``data`` after computing a result from it and then calling the result's
  ``backward()`` raises ``LeafChangedError`` naming the leaf (PyTorch's version counter, in spirit):
  the local derivatives would read the new value, the forward pass used the old one. The ``data`` of a
  computed node cannot be set (``ValueError``): set a leaf's and compute again.
"""

from __future__ import annotations

import builtins
import math
import numbers
import operator
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from . import graph
from .anomaly import check_forward
from .graph import DivisionByZeroError, DomainError

Number = numbers.Real  # int, float, bool and numpy's real scalars


class ScalarOp:
    """An operation on floats: ``forward(xs, ctx) -> out`` and
    ``derivatives(xs, out, ctx) -> [d out / d x_i for each i]``.

    ``higher_order=True`` promises that ``derivatives`` also works when ``xs`` are the input Values and
    ``out`` the result Value (written with operators and the helpers ``sin``, ``exp``, ... of this module),
    so ``create_graph=True`` can record it; an op without the promise refuses ``create_graph``.

    ``domain(xs, ctx)``, if given, raises ``DomainError`` for inputs outside the op's domain (log of 0); the
    engine calls it before ``forward`` (in ``apply``, the one place), so the formulas hold only maths."""

    __slots__ = ("name", "symbol", "forward", "derivatives", "higher_order", "domain")

    def __init__(self, name: str, symbol: str, forward: Callable, derivatives: Callable, higher_order: bool = False,
                 domain: Callable | None = None):
        graph.check_op_definition("ScalarOp", name, symbol, forward=forward, derivatives=derivatives)
        if not isinstance(higher_order, bool):
            raise TypeError(f"ScalarOp higher_order must be True or False, got {higher_order!r:.40}")
        graph.check_optional_function("ScalarOp", "domain", domain)
        self.name = name
        self.symbol = symbol
        self.forward = forward
        self.derivatives = derivatives
        self.higher_order = higher_order
        self.domain = domain

    def __call__(self, *inputs: Value | float, ctx: object = None) -> Value:
        """This operation on ``inputs`` (Values or numbers) as one recorded node: ``CUBE(x)`` for an op
        you defined with ``ScalarOp("cube", "³", forward, derivatives)``."""
        if not inputs:
            raise ValueError(f"{self.name} needs at least one input, got none")
        values = tuple(x if type(x) is Value else _coerce(x, self.name) for x in inputs)
        if len(values) > 2:
            return apply(self, values, _MANY, ctx)
        return apply(self, *values, ctx=ctx)

    def local_derivatives(self, node: Value) -> list[float]:
        """d node / d input for each of ``node``'s inputs, in order."""
        inputs = node._inputs
        local = self.derivatives(_data_of(inputs), node._data, node._ctx)
        if type(local) not in (list, tuple) or len(local) != len(inputs):
            raise self._count_error(local, inputs)
        return local

    def contributions(self, node: Value) -> list[float]:
        """upstream x local for each input: what backward adds to each input's grad."""
        inputs = node._inputs
        local = self.derivatives(_data_of(inputs), node._data, node._ctx)
        # else the driver's zip() would give the missing inputs nothing, silently
        if type(local) not in (list, tuple) or len(local) != len(inputs):
            raise self._count_error(local, inputs)
        g = node.grad
        return [g * d for d in local]

    def propagate(self, node: Value) -> None:
        """Add upstream x local into each input's grad (the backward driver calls it once per node)."""
        graph.add_contributions(node, self.contributions(node))

    def contributions_for(self, node: Value, g: float | Value, create_graph: bool) -> list:
        """upstream ``g`` x local for each input, without reading or writing ``node.grad``; with
        ``create_graph`` the local derivatives are recorded nodes (the derivative rule run on the inputs)."""
        inputs = node._inputs
        if not create_graph:
            local = self.derivatives(_data_of(inputs), node._data, node._ctx)
        elif not self.higher_order:
            raise graph.not_higher_order(self, "derivatives")
        else:
            local = self.derivatives(list(inputs), node, node._ctx)
        if type(local) not in (list, tuple) or len(local) != len(inputs):
            raise self._count_error(local, inputs)
        return [g if type(d) is float and d == 1.0 else g * d for d in local]

    def _count_error(self, local: object, inputs: Sequence) -> Exception:
        if type(local) not in (list, tuple):  # a bare number: a one-input op's derivative not in a list
            return TypeError(f"{type(self).__name__} {self.name!r}: its derivatives gave a {type(local).__name__} "
                             f"({local!r:.40}); expected a list with one entry per input (e.g. [3 * x ** 2])")
        return graph.count_mismatch(self, len(local), len(inputs), "derivatives")

    def __repr__(self) -> str:
        return f"ScalarOp({self.name!r})"


class _EngineOp(ScalarOp):
    """An operation of the engine itself: the same as a ``ScalarOp``, but backward skips the count check
    (one derivative per input) that a user's op gets at every node: the engine's own tables are fixed, and
    tests/test_value.py pins each against central differences. This is the hot path of backward."""

    __slots__ = ()

    def __init__(self, name: str, symbol: str, forward: Callable, derivatives: Callable,
                 domain: Callable | None = None):
        super().__init__(name, symbol, forward, derivatives, higher_order=True, domain=domain)

    def propagate(self, node: Value) -> None:
        """input.grad += upstream x local for each input, reading the node's input slots directly: the backward
        pass of a W2 epoch with binary ops takes 2.0-2.3x as long through ScalarOp.propagate's contributions
        list (Python 3.11 and 3.13, ``python -m bench.tricks --only propagate``)."""
        a, b, g = node._a, node._b, node.grad
        if b is None:  # one input
            a.grad += g * self.derivatives([a._data], node._data, node._ctx)[0]
        elif type(b) is Value:
            da, db = self.derivatives([a._data, b._data], node._data, node._ctx)
            a.grad += g * da  # a and b may be one node (x * x): both terms land, one after the other
            b.grad += g * db
        elif type(b) is float:  # x * 2: the number takes no gradient
            a.grad += g * self.derivatives([a._data, b], node._data, node._ctx)[0]
        else:  # a tuple of inputs (MANY), a constant made from the number (see Value._inputs)
            graph.add_contributions(node, self.contributions(node))


def _data_of(inputs: Sequence[Value]) -> list[float]:
    """The inputs' values."""
    return [x._data for x in inputs]


def _overflow_safe_pow(a: float, b: float) -> float:
    """a ** b, giving +-inf on overflow (and, outside the domain, which ``_pow_domain`` refuses first, numpy's
    inf for 0 to a negative power and nan for a negative base to a non-integer power)."""
    try:
        return math.pow(a, b)
    except OverflowError:
        return -math.inf if (a < 0 and float(b) % 2 == 1) else math.inf
    except ValueError:  # math.pow's "domain error"
        return math.inf if a == 0 else math.nan


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _sigmoid(x: float) -> float:
    # Two branches so exp never sees a large positive argument.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus(x: float) -> float:
    # max(x, 0) + log(1 + e^-|x|): exp never sees a positive argument, log1p keeps tiny terms
    return (x if x > 0 else 0.0) + math.log1p(math.exp(-abs(x)))


# -- the domains, checked by apply() before the forward formula runs (the formulas hold only maths) ------

def _pow_domain(a: float, b: float) -> None:
    if a == 0.0 and b < 0:
        raise DivisionByZeroError(f"0 ** {b!r} is undefined (0 to a negative power)")
    if a < 0 and not float(b).is_integer() and b == b:  # a nan exponent gives nan, as numpy and PyTorch
        raise DomainError(f"({a!r}) ** {b!r} is undefined: a negative base needs an integer exponent")


def _log_domain(xs: list[float], ctx: object) -> None:
    if xs[0] <= 0:
        raise DomainError(f"log is defined for x > 0, got x = {xs[0]!r}")


def _sqrt_domain(xs: list[float], ctx: object) -> None:
    if xs[0] < 0:
        raise DomainError(f"sqrt is defined for x >= 0, got x = {xs[0]!r}")


def _div_domain(xs: list[float], ctx: object) -> None:
    if xs[1] == 0:
        raise DivisionByZeroError(f"division by zero: {xs[0]!r} / {xs[1]!r} (the divisor must be non-zero)")


def _periodic(f: Callable[[float], float], x: float) -> float:
    return f(x) if math.isfinite(x) else math.nan  # sin(±inf) is nan (numpy's), never math's ValueError


# -- the derivative rules' helpers: on a float they compute a number (first-order backward), on a Value they
# -- apply the engine's own op, so backward(create_graph=True) records the backward pass itself.

def _num(x: float | Value) -> float:
    """The number in ``x``: the rules branch on values (kinks, domain edges), never on nodes."""
    if type(x) is float:
        return x
    return x._data if isinstance(x, Value) else x  # a node: a Value or a _Constant (a number of the expression)


def _exp_of(x):
    return apply(EXP, x) if type(x) is Value else _exp(x)


def _log_of(x):
    return apply(LOG, x) if type(x) is Value else math.log(x)


def _sigmoid_of(x):
    return apply(SIGMOID, x) if type(x) is Value else _sigmoid(x)


def _sin_of(x):
    return apply(SIN, x) if type(x) is Value else _periodic(math.sin, x)


def _cos_of(x):
    return apply(COS, x) if type(x) is Value else _periodic(math.cos, x)


# A derivative rule meets 0 to a negative power where the derivative has a pole (d sqrt(x)/dx = 0.5 x ** -0.5 at
# x = 0): as numbers that is inf (_overflow_safe_pow's, numpy's and PyTorch's), and a recorded rule
# (create_graph) records it as such, without the domain check that refuses 0 ** -0.5 in a user's expression:
# the node's own derivative, n 0 ** (n - 1) = -inf for n < 0, is then the second derivative PyTorch gives.

def _pow_of(x, n: float):
    """x ** n for a number n (inf at x = 0 for n < 0)."""
    if n == 1.0:
        return x
    if type(x) is not Value:
        return _overflow_safe_pow(x, n)
    if n < 0 and x._data == 0.0:  # a derivative's pole: recorded with its value, inf
        return apply(POW_CONST, x, ctx=float(n), result=_overflow_safe_pow(x._data, n))
    return apply(POW_CONST, x, ctx=float(n))


def _pow_pow_of(a, b):
    """a ** b, both inputs of the graph (inf at a = 0 for b < 0)."""
    if type(a) is not Value:
        return _overflow_safe_pow(a, b)
    if a._data == 0.0 and _num(b) < 0:  # a derivative's pole, as in _pow_of
        return apply(POW, a, b, result=_overflow_safe_pow(a._data, _num(b)))
    return apply(POW, a, b)


def _pow_const_derivative(xs, out, n):
    if n == 0:
        return [0.0]
    return [n * _pow_of(xs[0], n - 1)]  # at x = 0 for n < 1: ±inf (d sqrt(x)/dx at 0 is inf)


def _pow_derivatives(xs, out, ctx):
    a, b = xs
    a_data, b_data = _num(a), _num(b)
    if b_data == 0 and (a_data == 0 or a_data != a_data):
        # a ** 0 is 1 for every a, 0 ** 0 and nan ** 0 included: 0, PyTorch's and the Tensor engine's, where
        # b a ** (b - 1) would be 0 · inf or nan. Elsewhere the formula gives that 0 too, and recorded it keeps
        # its derivative in b: ∂²(aᵇ)/∂a∂b = 1/a at b = 0, as ∂²/∂b∂a is
        d_base = 0.0
    else:
        d_base = b * _pow_pow_of(a, b - 1)  # at a = 0 for b < 1: ±inf
    if a_data > 0:
        d_exponent = out * _log_of(a)
    elif a_data == 0 and b_data > 0:
        d_exponent = 0.0  # a ** b * log(a) -> 0 as a -> 0+
    else:
        # a ** b is not defined for a <= 0 near a non-integer b: nan, and a recorded nan (create_graph) whose own
        # derivatives are nan too, never a plain number whose derivative would read 0
        d_exponent = (a + b) * math.nan
    return [d_base, d_exponent]


def _sqrt_derivative(xs, out, ctx):
    # d sqrt(x)/dx = 1 / (2 sqrt x); at 0 it is 0.5 out ** -1, inf (a recorded pole: its derivative is -inf, where
    # a division by out would be refused)
    return [0.5 * _pow_of(out, -1.0) if _num(out) == 0.0 else 0.5 / out]


def _affine(weights: Iterable[float], inputs: Iterable[float], bias: float) -> float:
    return builtins.sum(map(operator.mul, weights, inputs), bias)  # b + w0 x0 + w1 x1 + ..., in C


_number = operator.attrgetter("_data")  # a Value's number, as a C function for map()


def _dot_forward(xs, ctx):
    n = len(xs) // 2  # w₀…wₙ₋₁, x₀…xₙ₋₁ and, if the length is odd, b
    return _affine(xs[:n], xs[n : 2 * n], xs[2 * n] if len(xs) > 2 * n else 0.0)


def _dot_derivatives(xs, out, ctx):
    # d/dw_i = x_i, d/dx_i = w_i, d/db = 1
    n = len(xs) // 2
    local = xs[n : 2 * n]
    local += xs[:n]
    if len(xs) > 2 * n:
        local.append(1.0)
    return local


def _sum(xs: list[float]) -> float:
    """Σ xs, exactly rounded; inf or nan (as repeated + gives) where fsum would raise."""
    try:
        return math.fsum(xs)
    except (OverflowError, ValueError):  # intermediate overflow, or inf + -inf
        total = 0.0
        for x in xs:
            total += x
        return total


def _step(x: float | Value, below: float) -> float:
    """The derivative of relu (below = 0) and leaky relu (below = slope): nan at nan, which must not vanish."""
    x = _num(x)
    return 1.0 if x > 0 else (below if x <= 0 else x)


def _sign(x: float | Value) -> float:
    """abs'(x): -1, 0 or 1, nan at nan."""
    x = _num(x)
    return 1.0 if x > 0 else (-1.0 if x < 0 else (0.0 if x == 0 else x))


def _larger(xs, ctx):
    a, b = xs  # a nan on either side gives nan, as numpy's maximum
    return a if a > b else (b if b > a else (a if a == b else math.nan))


def _smaller(xs, ctx):
    a, b = xs
    return a if a < b else (b if b < a else (a if a == b else math.nan))


def _choice(first_wins: bool, second_wins: bool, tie: bool) -> list[float]:
    """The max/min gate's local derivatives: 1 to the winner, ½ each on a tie (PyTorch's), nan if either is nan."""
    if first_wins:
        return [1.0, 0.0]
    if second_wins:
        return [0.0, 1.0]
    return [0.5, 0.5] if tie else [math.nan, math.nan]


def _max_derivatives(xs, out, ctx):
    a, b = _num(xs[0]), _num(xs[1])
    return _choice(a > b, b > a, a == b)


def _min_derivatives(xs, out, ctx):
    a, b = _num(xs[0]), _num(xs[1])
    return _choice(a < b, b < a, a == b)


# Each op: its forward and its local derivatives side by side. The rules are written with operators and the
# helpers above, so the same line computes floats in first-order backward and records nodes under create_graph.
ADD = _EngineOp("add", "+", lambda xs, c: xs[0] + xs[1], lambda xs, o, c: [1.0, 1.0])
SUB = _EngineOp("sub", "-", lambda xs, c: xs[0] - xs[1], lambda xs, o, c: [1.0, -1.0])
MUL = _EngineOp("mul", "*", lambda xs, c: xs[0] * xs[1], lambda xs, o, c: [xs[1], xs[0]])
# d/db (a/b) = -a/b² taken as -(a/b)/b: b*b underflows to 0 for |b| < 1e-162
DIV = _EngineOp("div", "/", lambda xs, c: xs[0] / xs[1], lambda xs, o, c: [1.0 / xs[1], -o / xs[1]], _div_domain)
NEG = _EngineOp("neg", "-", lambda xs, c: -xs[0], lambda xs, o, c: [-1.0])
POW_CONST = _EngineOp("pow", "^", lambda xs, n: _overflow_safe_pow(xs[0], n), _pow_const_derivative,
                      lambda xs, n: _pow_domain(xs[0], n))
POW = _EngineOp("pow", "^", lambda xs, c: _overflow_safe_pow(xs[0], xs[1]), _pow_derivatives,
                lambda xs, c: _pow_domain(xs[0], xs[1]))
EXP = _EngineOp("exp", "exp", lambda xs, c: _exp(xs[0]), lambda xs, o, c: [o])
LOG = _EngineOp("log", "log", lambda xs, c: math.log(xs[0]), lambda xs, o, c: [1.0 / xs[0]], _log_domain)
TANH = _EngineOp("tanh", "tanh", lambda xs, c: math.tanh(xs[0]), lambda xs, o, c: [1.0 - o * o])
SIGMOID = _EngineOp("sigmoid", "σ", lambda xs, c: _sigmoid(xs[0]), lambda xs, o, c: [o * (1.0 - o)])
SOFTPLUS = _EngineOp("softplus", "softplus", lambda xs, c: _softplus(xs[0]), lambda xs, o, c: [_sigmoid_of(xs[0])])
SIN = _EngineOp("sin", "sin", lambda xs, c: _periodic(math.sin, xs[0]), lambda xs, o, c: [_cos_of(xs[0])])
COS = _EngineOp("cos", "cos", lambda xs, c: _periodic(math.cos, xs[0]), lambda xs, o, c: [-_sin_of(xs[0])])
SQRT = _EngineOp("sqrt", "√", lambda xs, c: math.sqrt(xs[0]), _sqrt_derivative, _sqrt_domain)
# ``0.0 if x <= 0 else x``, not ``x if x > 0 else 0.0``: relu(nan) is nan (numpy, PyTorch), never 0
RELU = _EngineOp("relu", "ReLU", lambda xs, c: 0.0 if xs[0] <= 0 else xs[0], lambda xs, o, c: [_step(xs[0], 0.0)])
LEAKY_RELU = _EngineOp(
    "leaky_relu", "LeakyReLU",
    lambda xs, slope: xs[0] if xs[0] > 0 else slope * xs[0],
    lambda xs, o, slope: [_step(xs[0], slope)],
)
ABS = _EngineOp("abs", "|·|", lambda xs, c: abs(xs[0]), lambda xs, o, c: [_sign(xs[0])])
MAXIMUM = _EngineOp("maximum", "max", _larger, _max_derivatives)
MINIMUM = _EngineOp("minimum", "min", _smaller, _min_derivatives)
SUM = _EngineOp("sum", "Σ", lambda xs, c: _sum(xs), lambda xs, o, c: [1.0] * len(xs))


class _DotOp(_EngineOp):
    """``dot``'s op: backward adds upstream x local into the weights' and inputs' grads in one pass.

    A dot node made by ``dot`` keeps the caller's tuples in its own slots: ``_a`` the weights w₀…wₙ₋₁,
    ``_b`` the inputs x₀…xₙ₋₁, ``_ctx`` the bias b (a Value, or None); DOT's formulas take no parameter
    (n is half the number of inputs). A neuron's weight tuple and a layer's input tuple are then shared
    by every node made from them rather than copied into each one, and a node is one object for the
    garbage collector to track: 140-142 bytes a node of the W2 graph, where a separate object holding the three
    made it 169 (``python -m bench.bench_scalar --only memory``) and 14 collections an epoch instead of 9."""

    __slots__ = ()

    def propagate(self, node: Value) -> None:
        """w_i.grad += g x_i, x_i.grad += g w_i, b.grad += g, reading the shared tuples once; through
        ``contributions`` and the derivative table when this node has no shared tuples (``DOT`` called on
        a flat sequence) or the table was replaced (as bench.mutation does). tests/test_value.py holds the two
        paths equal."""
        weights, inputs = node._a, node._b
        if type(inputs) is not tuple or self.derivatives is not _dot_derivatives:
            graph.add_contributions(node, self.contributions(node))
            return
        g = node.grad
        for w, x in zip(weights, inputs):
            w.grad += g * x._data
            x.grad += g * w._data
        bias = node._ctx
        if bias is not None:
            bias.grad += g


DOT = _DotOp("dot", "Σwx+b", _dot_forward, _dot_derivatives)

#: Every operation of the scalar engine, by name (the mutation script and the docs walk it).
SCALAR_OPS: dict[str, ScalarOp] = {
    op.name if op is not POW_CONST else "pow_const": op
    for op in (ADD, SUB, MUL, DIV, NEG, POW_CONST, POW, EXP, LOG, TANH, SIGMOID, SOFTPLUS, SIN, COS, SQRT,
               RELU, LEAKY_RELU, ABS, MAXIMUM, MINIMUM, SUM, DOT)
}


def _to_float(data: object, what: str = "Value") -> float:
    """``data`` as a Python float, or TypeError naming what was received."""
    if isinstance(data, (Number, np.bool_)) or (
        isinstance(data, np.ndarray) and data.ndim == 0 and data.dtype.kind in "biuf"
    ):
        try:
            return float(data)
        except OverflowError:  # an int or Fraction beyond float64's range
            raise ValueError(f"{what} expects a real number within float64's range (|x| <= 1.8e308), "
                             f"got a {type(data).__name__} too large for a float") from None
    received = type(data).__name__
    hint = " (convert the string with float() first)" if isinstance(data, str) else ""
    hint = hint or (" (a Value holds one number; use autograd.Tensor for arrays)"
                    if isinstance(data, (list, tuple, np.ndarray)) else "")
    raise TypeError(f"{what} expects a real number (int, float, bool or numpy scalar), got {received}: {data!r}{hint}")


# Leaf changes between forward and backward (see graph.run_backward): every recorded node takes a stamp from
# graph.next_stamp when it is made, and setting a leaf's .data stamps it again, so its stamp is then newer than
# every result computed before. backward refuses a leaf stamped after a node that reads it. A computed node's
# data cannot be set: its consumers' derivatives would read the new number, its own inputs' the old one (and
# the graph walk orders results by the stamp they were made with).

def _set_data(node: Value, value: object) -> None:
    if node._op is not None:
        raise graph.computed_data_error(node, "Value(number)")
    if type(value) is not float:
        value = _to_float(value, "Value.data")
    node._stamp = _next_stamp()
    node._data = value


class Value:
    """A scalar node of the computation graph.

    ``Value(2.0, label="x")`` makes a leaf. Arithmetic with Values and plain
    numbers (on either side) makes new nodes that remember their inputs, so
    ``backward()`` can apply the chain rule through them.
    """

    # _data and _label behind the properties data and label, which check what is set; _stamp: see
    # _set_data (a leaf: when its data was last set; a result: when it was made, from graph.next_stamp).
    # The inputs are held in two slots, not a tuple (see _inputs): _a is None for a leaf, else the first
    # input; _b the second input, None for an op of one input, or _MANY when _a holds the inputs' sequence;
    # a dot node holds two tuples in _a and _b and its bias in _ctx (see _DotOp).
    __slots__ = ("_data", "grad", "_label", "_a", "_b", "_op", "_ctx", "_stamp")
    requires_grad = True  # a Value takes a gradient; a constant (_Constant) does not

    def __init__(self, data: float, label: str = ""):
        if type(data) is not float:
            data = _to_float(data)
        if type(label) is not str:
            label = _check_label(label, "Value")
        # apply() fills these same slots without calling __init__: keep the two in step.
        self._data = data
        self.grad = 0.0
        self._label = label
        self._a = self._b = self._op = self._ctx = None
        self._stamp = 0  # older than any result: a new leaf cannot be in a graph computed before it

    # the setter is _set_data itself, not a method calling it: one Python call per p.data = ... of an update
    data = property(operator.attrgetter("_data"), _set_data, doc="The number this node holds (a float).")

    label = property(operator.attrgetter("_label"), doc="The node's name in drawings and messages (a str).")

    @label.setter
    def label(self, value: str) -> None:
        self._label = value if type(value) is str else _check_label(value, "Value")

    # -- graph bookkeeping -------------------------------------------------
    @property
    def _inputs(self) -> Sequence[Value]:
        """The inputs as one tuple (a sum's own tuple; a dot node's weights, inputs and bias joined).

        Two slots rather than a stored tuple: a tuple per node is a second object for the garbage collector
        to track and to walk again at every collection while a graph grows (one more tracked object per node
        cost a W2 epoch with binary ops 65-95 ms of collector time, of ~450-520 ms, measured with
        gc.callbacks), and 48 bytes. With it went the float constants' __init__ and the slot-reading
        propagate (commit 0a181a3): W2 binary forward 0.71x, backward 0.72x (python -m bench.ab_engine
        against d93186b, 5 rounds).

        A number the node keeps in ``_b`` (``x * 2``) becomes a ``_Constant`` here, kept in its place, so every
        reader meets the same node for it."""
        if self._a is None:
            return ()
        if type(self._b) is float:
            self._b = _Constant(self._b)
        return _inputs_of(self._a, self._b, self._ctx)

    @property
    def inputs(self) -> tuple[Value, ...]:
        """The nodes this one was computed from, in order, duplicates kept."""
        return self._inputs

    @property
    def op(self) -> ScalarOp | None:
        """The operation that made this node, or None for a leaf."""
        return self._op

    def _fresh_grad(self) -> float:
        return 0.0

    def zero_grad(self) -> None:
        """Reset this node's gradient to 0 (call on parameters between optimisation steps)."""
        self.grad = 0.0

    def backward(self, create_graph: bool = False) -> None:
        """Compute d self / d node for every node self depends on (reverse mode).

        Walks the graph in reverse topological order without recursion. Leaves
        *accumulate*: calling ``backward()`` twice doubles their ``grad``, as
        in PyTorch; zero them between steps (``zero_grad()`` in ``nn``). Each
        intermediate node holds the gradient of the latest pass.

        ``create_graph=True`` records the backward pass: each leaf's ``grad`` becomes a Value you can call
        ``backward()`` on again (second derivatives); intermediate nodes' grads are left as they were. As in
        PyTorch, a leaf's grad then refers to a graph that refers to the leaf: set ``grad = 0.0`` when done,
        or use ``autograd.grad``, which stores nothing.
        """
        if create_graph is False:
            graph.run_backward(self, 1.0, self._stamp)
            return
        if create_graph is not True:
            raise TypeError(f"backward create_graph must be True or False, got {create_graph!r:.40}")
        grads: dict = {}
        for node in graph.run_backward(self, Value(1.0), self._stamp, grads=grads, create_graph=True):
            if node._op is None and node in grads:
                g = grads[node]
                node.grad = g if type(node.grad) is float and node.grad == 0.0 else node.grad + g

    # -- arithmetic ------------------------------------------------------
    def __add__(self, other):
        return apply(ADD, self, other if type(other) is Value else _operand(other, "+"))

    def __radd__(self, other):
        return apply(ADD, _coerce(other, "+"), self)

    def __sub__(self, other):
        return apply(SUB, self, other if type(other) is Value else _operand(other, "-"))

    def __rsub__(self, other):
        return apply(SUB, _coerce(other, "-"), self)

    def __mul__(self, other):
        return apply(MUL, self, other if type(other) is Value else _operand(other, "*"))

    def __rmul__(self, other):
        return apply(MUL, _coerce(other, "*"), self)

    def __truediv__(self, other):
        return apply(DIV, self, other if type(other) is Value else _operand(other, "/"))

    def __rtruediv__(self, other):
        return apply(DIV, _coerce(other, "/"), self)

    # v += x, v -= x, ...: in grad mode the new node (v then names it, as after v = v + x: micrograd's
    # `total += term` builds the graph); under no_grad v's own data is updated, as for a Tensor and in PyTorch, so
    # `with autograd.no_grad(): p -= lr * p.grad` updates the parameter in its list
    def __iadd__(self, other):
        return self._update(self + other)

    def __isub__(self, other):
        return self._update(self - other)

    def __imul__(self, other):
        return self._update(self * other)

    def __itruediv__(self, other):
        return self._update(self / other)

    def _update(self, result: Value) -> Value:
        if result._op is not None:  # recorded
            return result
        self.data = result._data  # the setter: stamped, and refused on a computed Value
        return self

    def __neg__(self):
        return apply(NEG, self)

    def __pos__(self):
        return self

    def __pow__(self, exponent):
        """``self ** n`` for a number n (one input), or ``self ** v`` for a Value v
        (two inputs; the exponent gets the gradient a ** b * log(a))."""
        if isinstance(exponent, Value):
            return apply(POW, self, exponent)
        return apply(POW_CONST, self, ctx=_to_float(exponent, "Value ** exponent"))

    def __rpow__(self, base):
        return apply(POW, _coerce(base, "**"), self)

    def __abs__(self):
        return apply(ABS, self)

    def __float__(self) -> float:
        return self._data

    def __int__(self) -> int:
        """``int(v)``: the data truncated toward zero, as ``int(float)`` (ValueError for nan, OverflowError for inf)."""
        return int(self._data)

    def __bool__(self) -> bool:
        """The truth of the data, as for a float: ``bool(Value(0.0))`` is False (and nan is true)."""
        return self._data != 0.0

    # -- comparisons: a plain bool from the numbers. No __eq__: nodes stay hashable by identity (graphs are
    # -- walked with sets and dicts of nodes), and ``a == b`` on two Values is whether they are the same node.
    def __lt__(self, other) -> bool:
        return self._data < _compared(other, "<")

    def __le__(self, other) -> bool:
        return self._data <= _compared(other, "<=")

    def __gt__(self, other) -> bool:
        return self._data > _compared(other, ">")

    def __ge__(self, other) -> bool:
        return self._data >= _compared(other, ">=")

    # -- functions -------------------------------------------------------
    def exp(self) -> Value:
        """e ** x (inf when x > ~709.78: no exception, no warning)."""
        return apply(EXP, self)

    def log(self) -> Value:
        """Natural logarithm; ``DomainError`` for x <= 0."""
        return apply(LOG, self)

    def tanh(self) -> Value:
        """tanh x; derivative 1 - tanh² x."""
        return apply(TANH, self)

    def sigmoid(self) -> Value:
        """σ(x) = 1 / (1 + e^-x), computed without overflow; derivative σ(1 - σ)."""
        return apply(SIGMOID, self)

    def softplus(self) -> Value:
        """log(1 + eˣ), computed as max(x, 0) + log(1 + e^-|x|) (no overflow); derivative σ(x)."""
        return apply(SOFTPLUS, self)

    def relu(self) -> Value:
        """max(x, 0); derivative 1 for x > 0, else 0 (0 at the kink)."""
        return apply(RELU, self)

    def sin(self) -> Value:
        """sin x; derivative cos x (nan for x = ±inf)."""
        return apply(SIN, self)

    def cos(self) -> Value:
        """cos x; derivative -sin x (nan for x = ±inf)."""
        return apply(COS, self)

    def sqrt(self) -> Value:
        """√x; derivative 1 / (2√x) (inf at 0); ``DomainError`` for x < 0."""
        return apply(SQRT, self)

    def maximum(self, other: Value | float) -> Value:
        """The larger of self and other (CS231n's max gate): the gradient goes to the larger, ½ to each on a
        tie; nan if either is nan. (``max(a, b)`` with Python's max returns one of the two nodes itself.)"""
        return apply(MAXIMUM, self, other if type(other) is Value else _operand(other, "maximum"))

    def minimum(self, other: Value | float) -> Value:
        """The smaller of self and other: the gradient goes to the smaller, ½ to each on a tie."""
        return apply(MINIMUM, self, other if type(other) is Value else _operand(other, "minimum"))

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x for x > 0, else slope·x; derivative 1 for x > 0, else slope (slope at the kink)."""
        return apply(LEAKY_RELU, self, ctx=_to_float(slope, "leaky_relu slope"))

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self._data!r}, grad={self.grad!r}{label})"  # repr(float): round-trips

    def _repr_svg_(self) -> str | None:
        """Jupyter shows a Value as the drawing of its graph (``autograd.draw``; needs Graphviz's dot)."""
        from .draw import notebook_svg  # lazily: drawing is not on the arithmetic path

        return notebook_svg(self)


def _real_operand(other: object, symbol: str) -> float:
    """A real-number operand of ``symbol`` as a float, or TypeError naming what was received."""
    if type(other) is float:
        return other
    if type(other) is int and -_INT_AS_FLOAT < other < _INT_AS_FLOAT:  # bool is not int here: no shortcut
        return float(other)
    if isinstance(other, (Number, np.bool_)) or (isinstance(other, np.ndarray) and other.ndim == 0):
        return _to_float(other, f"{symbol} operand")
    raise TypeError(
        f"unsupported operand for {symbol}: Value and {type(other).__name__} ({other!r}); "
        "expected a Value or a real number"
    )


def _operand(other: object, symbol: str) -> Value | float:
    """The right operand of ``symbol`` as the node keeps it: a Value as it is, a number as a float (the
    node's constant, see ``_Constant``)."""
    return other if isinstance(other, Value) else _real_operand(other, symbol)


def _coerce(other: object, symbol: str) -> Value:
    """``other`` as a node: a Value as it is, a number as a ``_Constant``."""
    return other if isinstance(other, Value) else _Constant(_real_operand(other, symbol))


_INT_AS_FLOAT = 2**1023  # ints below this convert to a float without OverflowError


class _Constant(Value):
    """A number written in an expression (the 2 of ``2 * x`` or ``1 - x``, the numbers of ``autograd.sum([x, 3])``):
    a leaf that takes no gradient, as a Python number in PyTorch (``requires_grad`` False; ``grad`` reads 0.0 and
    what backward adds to it is dropped; drawings show its value only).

    A number on the right of ``+ - * /`` (``x * 2``, ``o - y``, ``v * 1.0000001 + 0.0``) is not even made into an
    object: the node keeps it as a float in its ``_b`` slot, and it becomes a ``_Constant`` only when something
    reads the node's inputs (``inputs``, a drawing, ``explain``, ``topological_order``). A chain of 10⁶ steps
    ``v = v * 1.0000001 + 0.0`` then makes 2·10⁶ objects for the collector to track instead of 4·10⁶: 4.1-4.6 s
    against 6.8-8.2 s forward and backward on Python 3.11, 4.1 s against 7.0 s on 3.13 (the two checkouts one
    after the other, CPU time; ``python -m bench.bench_scalar --clock cpu --only W3`` gives 4.5 s on both)."""

    __slots__ = ()
    requires_grad = False
    grad = property(lambda self: 0.0, lambda self, value: None,
                    doc="0.0: a constant takes no gradient (what backward adds is dropped).")

    def zero_grad(self) -> None:
        """Nothing to reset: a constant takes no gradient."""


def _compared(other: object, symbol: str) -> float:
    """The number a Value is compared with: another Value's or a real number's; TypeError otherwise."""
    if type(other) is Value:
        return other._data
    return _real_operand(other, symbol)  # the numbers arithmetic takes (a 0-d array too), with its error


def _check_label(label: object, what: str) -> str:
    """``label`` if it is a str (a subclass of str included), else TypeError naming it."""
    if not isinstance(label, str):
        raise TypeError(f"{what} label must be a str, got {type(label).__name__}: {label!r:.60}")
    return label


_new = object.__new__
_next_stamp = graph.next_stamp
_get_modes = graph.current_modes
_RECORDING = graph.RECORDING


_MANY = graph.MANY  # in a node's _b slot: its _a holds a sequence of inputs (sum, a user's n-ary op)


def _inputs_of(a: Value | Sequence[Value], b: Value | object, ctx: object) -> Sequence[Value]:
    """The inputs held as ``_a``, ``_b`` and, for a dot node, ``_ctx`` (a node's or apply's), as one sequence."""
    if b is None:
        return (a,)
    if b is _MANY:
        return a
    if type(b) is tuple:  # a dot node: weights, inputs, bias
        return a + b if ctx is None else a + b + (ctx,)
    if type(b) is float:  # a number the node keeps (see Value._inputs, which keeps the constant it makes)
        return (a, _Constant(b))
    return (a, b)


def apply(op: ScalarOp, a: Value | Sequence[Value], b: Value | object = None, ctx: object = None,
          result: float | None = None) -> Value:
    """Compute ``op`` on its inputs (after its ``domain`` check, the engine's one place for it); record them
    unless inside ``no_grad()``. The inputs come as the node holds them: ``apply(MUL, x, y)``, ``apply(EXP, x)``,
    ``apply(MUL, x, 2.0)`` (a number kept as the node's constant), a sequence ``a`` with ``b = MANY``, or a dot
    node's two tuples and bias (``apply(DOT, ws, xs, b)``, see ``_DotOp``). ``result``: the op's value, when the
    caller has computed it already (``dot`` does, from its tuples).

    Positional inputs rather than a tuple to unpack: a W2 epoch's forward with binary ops takes 0.89-0.90x the time
    (python -m bench.ab_engine A B --paired --rounds 15 --reps 4 --only "W2", two runs)."""
    if b is None:
        xs = [a._data]
    elif type(b) is Value:
        xs = [a._data, b._data]
    elif type(b) is float:  # x * 2: the number is kept in the node (see _Constant)
        xs = [a._data, b]
    else:  # a sequence (MANY), a dot node's tuples, a constant
        xs = None if result is not None else [x._data for x in _inputs_of(a, b, ctx)]
    if result is None:
        if op.domain is not None:
            op.domain(xs, ctx)
        data = op.forward(xs, ctx)
        if type(data) is not float:
            data = _to_float(data, f"the result of {op.name}")
    else:
        data = result
    modes = _get_modes()
    if modes is not _RECORDING and modes[1]:
        check_forward(op, _inputs_of(a, b, ctx), data)
    # The slots are filled here, not by Value(data): __init__'s checks are for user input, and through that
    # call a W2 epoch's forward with binary ops takes 1.22x as long (python -m bench.ab_engine, a checkout
    # with node = Value(data) against this one, 8 rounds). Keep in step with Value.__init__.
    node = _new(Value)
    node._data = data
    node.grad = 0.0
    node._label = ""
    node._stamp = _next_stamp()
    if modes[0]:
        node._a, node._b, node._op, node._ctx = a, b, op, ctx
    else:
        node._a = node._b = node._op = node._ctx = None
    return node


def _as_values(items: Iterable, what: str) -> tuple[Value, ...]:
    if type(items) is list or type(items) is tuple:  # the usual case, without the checks below
        values = tuple(items)
    else:
        try:  # iter() rather than isinstance(items, Iterable): the ABC check costs more than the rest
            iterator = iter(items)
        except TypeError:
            iterator = None
        if iterator is None or isinstance(items, (str, bytes, Value)):
            raise TypeError(f"{what} expects a sequence of Values or numbers, got {type(items).__name__}")
        values = tuple(iterator)
    for v in values:
        if type(v) is not Value:  # numbers among them: convert (and check) one by one
            return tuple(_coerce(v, what) for v in values)
    return values


def sum(values: Iterable[Value | float]) -> Value:  # noqa: A001 - mirrors numpy.sum / torch.sum
    """Σ vᵢ as ONE node with n inputs (local derivatives all 1)."""
    inputs = _as_values(values, "autograd.sum")
    if not inputs:
        raise ValueError("autograd.sum needs at least one value, got an empty sequence")
    return apply(SUM, inputs, _MANY)


def dot(weights: Sequence[Value | float], inputs: Sequence[Value | float], bias: Value | float | None = None) -> Value:
    """z = Σ wᵢ xᵢ + b as ONE node: a neuron's pre-activation.

    Its inputs are w₀…wₙ₋₁, x₀…xₙ₋₁ and b (if given); the local derivatives
    are ∂z/∂wᵢ = xᵢ, ∂z/∂xᵢ = wᵢ, ∂z/∂b = 1.

    Pass tuples of Values (as ``nn.Neuron`` does) and the node keeps those
    very tuples: a neuron's weights and a layer's inputs are shared by every
    node made from them. A list is copied into a tuple first.
    """
    own_forward = DOT.forward is _dot_forward  # else a replaced forward (a test, a mutation) is what runs
    ws, xs, result = weights, inputs, None
    if (own_forward and type(ws) is tuple and type(xs) is tuple and len(ws) == len(xs) and ws
            and (bias is None or isinstance(bias, Value))):
        # The tuples of Values nn passes: their numbers read as the sum runs (no list of them), and the reading
        # is the check (only a Value has _data; anything else goes through _as_values). W2 dot forward: 0.80x the
        # time of checking each element first (python -m bench.ab_engine A B --rounds 6 --reps 10 --only "W2
        # dot"); one call takes 0.7-0.8x the time of reading the numbers into two lists first (2 and 16 inputs,
        # timeit). With a node's one object (_DotOp), a W2 epoch takes 0.85x (python -m bench.ab_engine A B
        # --paired --rounds 25 --reps 4 --only W2).
        try:
            result = _affine(map(_number, ws), map(_number, xs), 0.0 if bias is None else bias._data)
        except AttributeError:
            pass
    if result is None:
        ws = _as_values(weights, "autograd.dot weights")
        xs = _as_values(inputs, "autograd.dot inputs")
        if len(ws) != len(xs):
            raise ValueError(f"autograd.dot needs as many weights as inputs, got {len(ws)} weights and {len(xs)} "
                             "inputs")
        if not ws:
            raise ValueError("autograd.dot needs at least one weight and one input, got none")
        if bias is not None and type(bias) is not Value:
            bias = _coerce(bias, "autograd.dot bias")
        if own_forward:
            return dot(ws, xs, bias)  # tuples of Values now: the path above (one call deeper, once)
        return apply(DOT, ws, xs, bias)  # a replaced forward (a test, a mutation) is what runs
    return apply(DOT, ws, xs, bias, result)  # the table's own forward, read from the tuples without a flat copy
