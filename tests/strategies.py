"""Shared hypothesis strategies for the whole test suite.

The centrepiece is ``expression_graphs()``: random computation graphs over
every operation in ``autograd.value.SCALAR_OPS``, with shared subexpressions,
whose gradients can be checked against central finite differences.

An ``ExpressionGraph`` is a *recipe*: a list of steps that refer to earlier
nodes by index. Replaying it on other leaf values rebuilds the same function,
which is what a finite difference needs. Domains and kinks are kept away by
construction when the recipe is drawn (log of ``x*x + 0.5`` when x is not
already > 1, ReLU of ``x + 0.3`` when x is near 0, ...), so the recipe is one
smooth function in a neighbourhood of its leaves, whatever its depth.

Other helpers: ``reals()`` (finite float64 in a range), ``junk()`` (anything a
user might wrongly pass where a number or a Value is expected).
"""

from __future__ import annotations

import fractions
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

import autograd
from autograd.value import Value

# A node whose |value| exceeds TAME is rescaled to |value| = 2, so values and
# local derivatives stay O(1) and the finite difference stays accurate.
TAME = 4.0
KINK_MARGIN = 0.1  # ReLU, abs and leaky ReLU never see |x| < this: far from 0 next to h = 1e-6


def reals(lo: float = -2.0, hi: float = 2.0) -> st.SearchStrategy[float]:
    """Finite float64 values in [lo, hi]."""
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@dataclass(frozen=True)
class Step:
    """One node of a recipe: ``kind`` applied to earlier nodes ``args`` with a constant ``const``."""

    kind: str
    args: tuple[int, ...]
    const: object = None


# How each step kind is computed from its argument nodes: plain engine calls,
# so replaying a recipe exercises exactly the public surface.
_REPLAY: dict[str, Callable[[list[Value], object], Value]] = {
    "add": lambda a, c: a[0] + a[1],
    "sub": lambda a, c: a[0] - a[1],
    "mul": lambda a, c: a[0] * a[1],
    "div": lambda a, c: a[0] / a[1],
    "neg": lambda a, c: -a[0],
    "pow_const": lambda a, c: a[0] ** c,
    "pow": lambda a, c: a[0] ** a[1],
    "exp": lambda a, c: a[0].exp(),
    "log": lambda a, c: a[0].log(),
    "tanh": lambda a, c: a[0].tanh(),
    "sigmoid": lambda a, c: a[0].sigmoid(),
    "relu": lambda a, c: a[0].relu(),
    "leaky_relu": lambda a, c: a[0].leaky_relu(c),
    "abs": lambda a, c: abs(a[0]),
    "sin": lambda a, c: a[0].sin(),
    "cos": lambda a, c: a[0].cos(),
    "sqrt": lambda a, c: a[0].sqrt(),
    "maximum": lambda a, c: a[0].maximum(a[1]),
    "minimum": lambda a, c: a[0].minimum(a[1]),
    "sum": lambda a, c: autograd.sum(a),
    "dot": lambda a, c: autograd.dot(a[:c], a[c:2 * c], a[2 * c] if len(a) > 2 * c else None),
    # guards: a number on the right makes a constant leaf
    "add_const": lambda a, c: a[0] + c,
    "mul_const": lambda a, c: a[0] * c,
}


@dataclass(frozen=True)
class ExpressionGraph:
    """A random expression over ``len(leaf_data)`` leaves; call it on Values to build it.

    ``graph(*leaves)`` returns the root Value; ``graph.leaves()`` makes fresh
    leaf Values holding ``leaf_data``. Usable directly with ``gradcheck``.
    """

    leaf_data: tuple[float, ...]
    steps: tuple[Step, ...]

    def __call__(self, *leaves: Value) -> Value:
        if len(leaves) != len(self.leaf_data):
            raise ValueError(f"this graph takes {len(self.leaf_data)} leaves, got {len(leaves)}")
        nodes = list(leaves)
        for step in self.steps:
            nodes.append(_REPLAY[step.kind]([nodes[i] for i in step.args], step.const))
        return nodes[-1]

    def leaves(self) -> list[Value]:
        """Fresh leaf Values holding ``leaf_data``, labelled x0, x1, ..."""
        return [Value(x, f"x{i}") for i, x in enumerate(self.leaf_data)]

    @property
    def kinds(self) -> set[str]:
        """The step kinds the recipe uses (SCALAR_OPS keys plus the guards)."""
        return {step.kind for step in self.steps}


class _Recipe:
    """Builds a recipe step by step while tracking the float value of every node,
    so guards can be chosen from the actual values."""

    def __init__(self, leaf_data: Sequence[float]):
        self.leaf_data = tuple(leaf_data)
        self.steps: list[Step] = []
        self.nodes: list[Value] = [Value(x) for x in leaf_data]
        self.consumed: set[int] = set()

    def value(self, i: int) -> float:
        return self.nodes[i].data

    def emit(self, kind: str, args: Sequence[int], const: object = None) -> int:
        with autograd.no_grad():
            node = _REPLAY[kind]([self.nodes[i] for i in args], const)
        self.steps.append(Step(kind, tuple(args), const))
        self.nodes.append(node)
        self.consumed.update(args)
        return len(self.nodes) - 1

    def emit_tamed(self, kind: str, args: Sequence[int], const: object = None) -> int:
        i = self.emit(kind, args, const)
        v = self.value(i)
        if abs(v) > TAME:
            i = self.emit("mul_const", (i,), 2.0 / abs(v))
        return i

    # -- guards: each returns the index of a node with the promised property
    def positive(self, i: int) -> int:
        """A node >= 0.5: i itself when already > 1, else i*i + 0.5."""
        if self.value(i) > 1.0:
            return i
        return self.emit("add_const", (self.emit("mul", (i, i)),), 0.5)

    def away_from_zero(self, i: int, margin: float) -> int:
        """A node with |value| >= margin: i itself, or i + 3 margin when |i| < margin."""
        if abs(self.value(i)) >= margin:
            return i
        return self.emit("add_const", (i,), 3 * margin)

    def bounded(self, i: int, bound: float = 2.0) -> int:
        """A node with |value| <= bound: i itself, or tanh(i) (|tanh| < 1)."""
        return i if abs(self.value(i)) <= bound else self.emit("tanh", (i,))


def _pick(draw, recipe: _Recipe) -> int:
    return draw(st.integers(0, len(recipe.nodes) - 1))


def _picks(draw, recipe: _Recipe, lo: int, hi: int) -> list[int]:
    return draw(st.lists(st.integers(0, len(recipe.nodes) - 1), min_size=lo, max_size=hi))


def _binary(kind):
    def build(draw, r: _Recipe) -> int:
        return r.emit_tamed(kind, (_pick(draw, r), _pick(draw, r)))
    return build


def _unary(kind):
    def build(draw, r: _Recipe) -> int:
        return r.emit_tamed(kind, (_pick(draw, r),))
    return build


def _div(draw, r):
    a, b = _pick(draw, r), _pick(draw, r)
    return r.emit_tamed("div", (a, r.away_from_zero(b, 0.5)))


def _pow_const(draw, r):
    n = draw(st.sampled_from([2.0, 3.0, 1.0, 0.0, -1.0, -2.0, 0.5, 1.5, -0.5]))
    a = _pick(draw, r)
    if not (n.is_integer() and n >= 0):
        a = r.positive(a)  # a negative base needs an integer exponent, 0 a non-negative one
    return r.emit_tamed("pow_const", (a,), n)


def _pow(draw, r):
    a, b = _pick(draw, r), _pick(draw, r)
    return r.emit_tamed("pow", (r.positive(a), r.bounded(b)))


def _exp(draw, r):
    return r.emit_tamed("exp", (r.bounded(_pick(draw, r)),))


def _log(draw, r):
    return r.emit_tamed("log", (r.positive(_pick(draw, r)),))


def _kinked(kind):
    def build(draw, r: _Recipe) -> int:
        a = r.away_from_zero(_pick(draw, r), KINK_MARGIN)
        slope = draw(st.sampled_from([0.01, 0.2, -0.5, 1.5])) if kind == "leaky_relu" else None
        return r.emit_tamed(kind, (a,), slope)
    return build


def _sqrt(draw, r):
    return r.emit_tamed("sqrt", (r.positive(_pick(draw, r)),))


def _max_or_min(kind):
    def build(draw, r: _Recipe) -> int:
        a, b = _pick(draw, r), _pick(draw, r)
        if abs(r.value(a) - r.value(b)) < KINK_MARGIN:  # a tie is the gate's kink: keep the two apart
            b = r.emit("add_const", (b,), 3 * KINK_MARGIN if r.value(b) >= r.value(a) else -3 * KINK_MARGIN)
        return r.emit_tamed(kind, (a, b))
    return build


def _sum(draw, r):
    return r.emit_tamed("sum", _picks(draw, r, 1, 4))


def _dot(draw, r):
    n = draw(st.integers(1, 3))
    args = _picks(draw, r, 2 * n, 2 * n)
    if draw(st.booleans()):
        args.append(_pick(draw, r))  # the bias
    return r.emit_tamed("dot", args, n)


#: How to add one node of each SCALAR_OPS operation to a recipe, keeping domains and kinks away.
OP_BUILDERS: dict[str, Callable] = {
    "add": _binary("add"), "sub": _binary("sub"), "mul": _binary("mul"), "div": _div,
    "neg": _unary("neg"), "pow_const": _pow_const, "pow": _pow, "exp": _exp, "log": _log,
    "tanh": _unary("tanh"), "sigmoid": _unary("sigmoid"), "relu": _kinked("relu"),
    "leaky_relu": _kinked("leaky_relu"), "abs": _kinked("abs"), "sum": _sum, "dot": _dot,
    "sin": _unary("sin"), "cos": _unary("cos"), "sqrt": _sqrt, "maximum": _max_or_min("maximum"),
    "minimum": _max_or_min("minimum"),
}


@st.composite
def expression_graphs(draw, required_ops: Sequence[str] = (), max_leaves: int = 4, max_ops: int = 8,
                      leaf_range: float = 2.0) -> ExpressionGraph:
    """Random DAGs over the SCALAR_OPS operations (keys of ``OP_BUILDERS``).

    Every op in ``required_ops`` appears at least once. Arguments are drawn
    from all earlier nodes, so subexpressions are shared (fan-out) and a node
    can feed the same op twice (``a * a``). Nodes nobody consumed are added
    into the root, so every node reaches the output.
    """
    unknown = set(required_ops) - set(OP_BUILDERS)
    if unknown:
        raise ValueError(f"no builder for ops {sorted(unknown)}; add one to OP_BUILDERS in tests/strategies.py")
    n_leaves = draw(st.integers(1, max_leaves))
    leaf_data = draw(st.lists(reals(-leaf_range, leaf_range), min_size=n_leaves, max_size=n_leaves))
    extra = draw(st.lists(st.sampled_from(sorted(OP_BUILDERS)), min_size=0 if required_ops else 1,
                          max_size=max_ops))
    ops = draw(st.permutations(list(required_ops) + extra))
    recipe = _Recipe(leaf_data)
    for name in ops:
        OP_BUILDERS[name](draw, recipe)
    sinks = [i for i in range(n_leaves, len(recipe.nodes) - 1) if i not in recipe.consumed]
    root = len(recipe.nodes) - 1
    for i in sinks:
        root = recipe.emit("add", (root, i))
    return ExpressionGraph(recipe.leaf_data, tuple(recipe.steps))


def junk() -> st.SearchStrategy[object]:
    """Things a user might wrongly pass where a number, a Value or a sequence of them is expected,
    plus legal but extreme numbers (nan, inf, subnormals, huge ints)."""
    huge_ints = st.integers(min_value=2**1024, max_value=2**1100) | st.integers(min_value=-(2**1100),
                                                                               max_value=-(2**1024))
    arrays = st.one_of(
        st.lists(st.floats(allow_nan=True), max_size=3).map(np.array),
        st.floats().map(np.array),  # 0-d
        st.just(np.zeros((2, 2))),
        st.just(np.array(["a", "b"])),
        st.just(np.array([10**400], dtype=object)),
        st.just(np.array(1j)),
    )
    return st.one_of(
        st.text(max_size=5), st.binary(max_size=3), st.none(), st.booleans(),
        st.floats(),  # nan, +-inf, subnormals, +-1.8e308
        st.sampled_from([math.nan, math.inf, -math.inf, 5e-324, 1e-200, 1e308, -1e308, 0.0, -0.0]),
        huge_ints, st.integers(-3, 3),
        st.just(fractions.Fraction(10**400, 3)), st.just(1j), st.just(np.complex128(1 + 2j)),
        st.lists(st.integers(-2, 2), max_size=3), st.tuples(st.floats(-2, 2)),
        st.dictionaries(st.text(max_size=2), st.integers(), max_size=2), st.sets(st.integers(), max_size=2),
        arrays, st.builds(object), st.just(int), st.just(len), st.just(Value),
        st.just(np.float32(1.5)), st.just(np.int64(3)), st.just(np.bool_(True)), st.just(np.datetime64("2020")),
    )


# -- Tensors (appended by the Tensor helper) -----------------------------------------------------------

def tensor_shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes with 1..max_side entries per axis (no empty arrays)."""
    return st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


def float_arrays(shape: tuple[int, ...], lo: float = -2.0, hi: float = 2.0,
                 away_from_zero: float = 0.0) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` with entries in [lo, hi]; |x| >= away_from_zero when that is > 0
    (for kinks and divisors), by pushing small entries out to +-away_from_zero."""
    size = int(np.prod(shape))
    values = st.lists(reals(lo, hi), min_size=size, max_size=size)

    def build(xs: list[float]) -> np.ndarray:
        a = np.array(xs, dtype=np.float64).reshape(shape)
        if away_from_zero > 0:
            a = np.where(np.abs(a) < away_from_zero, np.where(a < 0, -away_from_zero, away_from_zero), a)
        return a

    return values.map(build)


@st.composite
def broadcast_shape_pairs(draw, max_dims: int = 3, max_side: int = 4) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes numpy broadcasts together, always including the classic cases:
    (3, 1) with (1, 4), (n,) with (m, n), a scalar with anything, and equal shapes."""
    classic = st.sampled_from([((3, 1), (1, 4)), ((4,), (3, 4)), ((3, 4), (4,)), ((), (2, 3)), ((2, 3), (2, 3)),
                               ((2, 1, 4), (3, 1)), ((1,), (3, 2))])
    drawn = st.tuples(tensor_shapes(0, max_dims, max_side), st.lists(st.booleans(), min_size=max_dims * 2,
                                                                      max_size=max_dims * 2))

    def derive(item):
        shape, flags = item
        # the second shape: drop some leading axes, set some axes to 1 (and maybe swap the pair)
        other = tuple(1 if flags[i] else n for i, n in enumerate(shape))[int(flags[-1]) if shape else 0:]
        return (other, shape) if flags[-2] else (shape, other)

    return draw(st.one_of(classic, drawn.map(derive)))


# -- softplus (appended with the op, issue 6) ---------------------------------------------------------
# Smooth everywhere, so the plain unary builder fits.
_REPLAY["softplus"] = lambda a, c: a[0].softplus()
OP_BUILDERS["softplus"] = _unary("softplus")
