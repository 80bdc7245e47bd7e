"""``Tensor``: the same recording scheme as ``Value``, over numpy arrays, with broadcasting.

A Tensor node holds ``data`` (an ndarray), ``grad`` (None until a backward
pass reaches it, then an ndarray of the same shape), the nodes it was computed
from (``_a``, read as ``_inputs``), the ``TensorOp`` that made it and that op's parameter
(``_ctx``). Backward is ``graph.run_backward``, the driver ``Value`` uses.

Every operation is one ``TensorOp``: its forward function and its
vector-Jacobian product (VJP) side by side. The VJP of an input is the upstream
gradient times the local derivative; where numpy broadcast that input, it is
summed back to the input's shape, and every contribution's shape is checked
against its input's (``GradientShapeError`` otherwise).

Conventions (those of ``Value``, elementwise):

- float64 unless ``dtype=np.float32`` is asked for at the constructor; numbers
  and arrays combined with a Tensor take that Tensor's dtype. float32 gradients
  agree with float64 ones to about 1e-5 relative (single precision, not a check:
  ``gradcheck`` accepts only float64).
- kinks: relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope; ``max`` shares the
  gradient equally between tied maxima.
- out of domain (log of x <= 0, division by 0, 0 to a negative power, a negative
  base to a non-integer power): ``DomainError``, as for ``Value``.
- ``exp``, ``**`` (its gradient too) and ``/`` overflow to inf without a warning; sigmoid, tanh, softplus,
  softmax and log_softmax are computed so that inputs of any size (1e6, -1e6) give no warning.
  +, -, * and @ overflow to inf as numpy's do, with numpy's ``RuntimeWarning`` ("overflow encountered in
  multiply"): silencing it (``np.errstate``) would cost about 1 µs a call on the hottest operations.
  (``Value`` is silent: Python floats do not warn.)
- inside ``autograd.detect_anomaly()`` every result is checked for nan/inf (``AnomalyError``).
- Inputs that do not require grad get none; a result requires grad when any
  input does (and grad mode is on), otherwise it is a leaf.
- nan propagates as for ``Value`` (log(nan) is nan, leaky_relu'(nan) is nan, a nan maximum
  sends its gradient to the nan entries, as PyTorch).
- Do not modify ``.data`` in place between a forward pass and its backward: the
  VJPs read the inputs' data (unlike ``Value``, an in-place change to an array cannot be seen).
  Index arrays given to ``t[...]`` are copied, so changing them afterwards is safe.
- a grad has its tensor's dtype (a float32 leaf that met float64 data gets a float32 grad).
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import graph
from .anomaly import AnomalyError, check_forward
from .graph import DivisionByZeroError, DomainError

_new = object.__new__
_next_stamp = graph.next_stamp
_ndarray = np.ndarray
_DTYPES = {np.dtype(np.float64): np.float64, np.dtype(np.float32): np.float32}


class TensorIndexError(IndexError, ValueError):
    """An index out of range for a Tensor's shape: an ``IndexError`` as in numpy (it is what ends
    ``for row in t``) and a ``ValueError`` like every other refusal of bad input."""


class GradientShapeError(AssertionError):
    """An operation produced a gradient whose shape is not its input's: a bug in that operation."""


class _Zero:
    """The zero a node starts a backward pass with: ``_ZERO + g`` is ``g`` itself, not a copy.

    The first contribution is kept as is. That is safe because VJPs return new
    arrays, except for ops marked ``aliases`` (add passes the upstream gradient
    on unchanged, reshape a view of it): their contributions are copied when
    they go to a leaf, so a leaf's ``grad`` is always an array of its own.
    Intermediate grads may share memory; the engine never writes them in place.

    Kept as a speed trick: starting every grad at np.zeros_like instead makes the backward pass 35-42 % slower
    (W2 generic, fused, 4x4 fixed cost) and an epoch 21-25 % slower (in-process A/B, 15 interleaved rounds).
    """

    __slots__ = ()

    def __add__(self, other: Any) -> Any:
        return other

    __radd__ = __add__

    def __repr__(self) -> str:
        return "0"


_ZERO = _Zero()


class TensorOp:
    """An operation on arrays: ``forward(xs, ctx) -> out`` and
    ``vjp(g, xs, out, ctx, needs) -> [g · ∂out/∂xᵢ for each input i]``.

    ``needs[i]`` says whether input i requires grad; the VJP may return None
    for an input that does not. ``broadcasts`` marks ops whose inputs numpy
    broadcasts: their VJPs are summed back to each input's shape here.
    ``aliases`` marks ops whose VJP may return the upstream gradient itself or
    a view of it (every other VJP must return new arrays). ``higher_order=True``
    promises that the VJP also works when ``g``, ``xs`` and ``out`` are Tensors
    (written with operators and Tensor methods), so ``create_graph=True`` can
    record it; an op without the promise refuses ``create_graph``, naming itself.

    ``domain(xs, ctx)``, if given, refuses inputs outside the op's domain: it raises ``DomainError`` (or
    ``DivisionByZeroError``) naming what is wrong, what it received and what is expected, and returns
    nothing otherwise. Applying the op calls it before ``forward`` (the one place inputs are checked), so
    ``forward`` holds only the formula.
    """

    __slots__ = ("name", "symbol", "forward", "vjp", "broadcasts", "aliases", "higher_order", "domain")

    def __init__(self, name: str, symbol: str, forward: Callable, vjp: Callable, broadcasts: bool = False,
                 aliases: bool = False, higher_order: bool = False, domain: Callable | None = None):
        graph.check_op_definition("TensorOp", name, symbol, forward=forward, vjp=vjp)
        graph.check_optional_function("TensorOp", "domain", domain)
        for what, flag in (("broadcasts", broadcasts), ("aliases", aliases), ("higher_order", higher_order)):
            if not isinstance(flag, bool):
                raise TypeError(f"TensorOp {what} must be True or False, got {flag!r:.40}")
        self.name = name
        self.symbol = symbol
        self.forward = forward
        self.vjp = vjp
        self.broadcasts = broadcasts
        self.aliases = aliases
        self.higher_order = higher_order
        self.domain = domain

    def contributions(self, node: Tensor) -> list:
        """upstream grad · local derivative for each input, in the input's shape (None where not needed)."""
        return self.propagate(node, False)

    def propagate(self, node: Tensor, add: bool = True) -> list | None:
        """The VJP at ``node.grad``, each contribution checked (and fitted) against its input; each goes
        straight into its input's grad (the backward driver calls this once per node), or with ``add=False``
        it returns the list of them instead (``contributions``)."""
        # One pass that adds as it checks (no list for add_contributions to zip again), the inputs unpacked
        # rather than read by list comprehensions (function calls in Python 3.11), a first contribution put in
        # place of the _ZERO start by an identity test rather than _Zero.__add__: together the backward pass
        # 0.885x (W2-like generic), 0.90x (4x4 fixed cost), 0.95x (linear, sigmoid), paired medians of
        # `bench.ab_engine <before> . --paired --rounds 25 --reps 4 --only tensor`. (A matrix-only branch
        # in matmul's VJP, g @ b.T and a.T @ g, paid 5 % of the fixed cost's backward: it is not here.)
        inputs = node._a
        n = len(inputs)
        if n == 2:  # tuples unpacked: a list comprehension is a function call in Python 3.11
            x, y = inputs
            xs, needs = (x._data, y._data), (x._requires_grad, y._requires_grad)
        elif n == 1:
            x, = inputs
            xs, needs = (x._data,), (x._requires_grad,)
        elif n == 3:  # linear with a bias
            x, y, z = inputs
            xs, needs = (x._data, y._data, z._data), (x._requires_grad, y._requires_grad, z._requires_grad)
        else:
            xs, needs = tuple([x._data for x in inputs]), tuple([x._requires_grad for x in inputs])
        grads = self.vjp(node.grad, xs, node._data, node._ctx, needs)
        if len(grads) != n and _miscounted(grads, n):  # else zip() would drop or skip contributions, silently
            raise graph.count_mismatch(self, len(grads), n, "vjp")
        result = None if add else []
        for x, c, need in zip(inputs, grads, needs):  # zip stops at the inputs: linear without bias returns a None
            if c is None or not need:
                c = None
            else:
                data = x._data
                if type(c) is not _ndarray or c.shape != data.shape or c.dtype is not data.dtype:
                    c = self.fit(c, data.shape, data.dtype)
                if self.aliases and x._op is None and (c.base is not None or c is node.grad):
                    c = c.copy()  # a leaf's grad is its own array (a fresh sum, fit's, needs no copy)
                if add:
                    grad = x.grad
                    x.grad = c if grad is _ZERO else grad + c
            if result is not None:
                result.append(c)
        return result

    def contributions_for(self, node: Tensor, g: Any, create_graph: bool) -> list:
        """The VJP for each input with upstream ``g``, without reading or writing ``node.grad``; with
        ``create_graph`` (``g`` a Tensor) each contribution is a recorded Tensor."""
        inputs = node._a
        needs = [x._requires_grad for x in inputs]
        if not create_graph:
            grads = self.vjp(g, [x._data for x in inputs], node._data, node._ctx, needs)
        elif not self.higher_order:
            built_in = any(self is op for op in TENSOR_OPS.values())  # not the user's: redefining it is no advice
            hint = "; for a ** b with an array exponent write exp(b * log(a)), or give a number" if self is POW else ""
            raise graph.not_higher_order(self, "vjp", built_in, hint)
        else:
            grads = self.vjp(g, tuple(inputs), node, node._ctx, needs)
        if len(grads) != len(inputs) and _miscounted(grads, len(inputs)):
            raise graph.count_mismatch(self, len(grads), len(inputs), "vjp")
        result = []
        for x, c, need in zip(inputs, grads, needs):
            if c is None or not need:
                result.append(None)
            elif create_graph:
                result.append(self._fit_node(c, x._data))
            else:
                result.append(self.fit(c, x._data.shape, x._data.dtype))
        return result

    def _fit_node(self, c: Any, x: np.ndarray) -> Tensor:
        """A recorded contribution ``c`` summed back to the input's shape, as ``fit`` does for arrays."""
        if type(c) is not Tensor:  # a constant part of a rule (max's zeros, say): no graph behind it
            return _constant(self.fit(c, x.shape, x.dtype))
        if c.shape != x.shape and self.broadcasts:
            c = _sum_to_shape(c, x.shape)
        if c.shape != x.shape:
            raise GradientShapeError(f"operation {self.name!r} gave a gradient of shape {c.shape} "
                                     f"for an input of shape {x.shape}")
        return c if c._data.dtype == x.dtype else _apply(CAST, (c,), x.dtype)  # a grad has its input's dtype

    def __call__(self, *inputs: Any, ctx: Any = None) -> Tensor:
        """This operation on ``inputs`` (Tensors, or arrays and numbers, taken as constants) as one recorded
        node: ``SWISH(t)`` for an op you defined with ``TensorOp("swish", "swish", forward, vjp)``."""
        if not inputs:
            raise ValueError(f"{self.name} needs at least one input, got none")
        nodes = tuple(x if type(x) is Tensor else _constant(_as_array(x, np.float64, f"{self.name} input"))
                      for x in inputs)
        return _apply(self, nodes, ctx)

    def input_gradients(self, g: np.ndarray, xs: Sequence[np.ndarray], ctx: Any = None) -> list[np.ndarray]:
        """The VJP for every input at ``xs`` with upstream ``g``, in the inputs' shapes (for checking)."""
        xs = tuple(np.asarray(x) for x in xs)
        out = self.forward(xs, ctx)
        grads = self.vjp(np.asarray(g), xs, out, ctx, (True,) * len(xs))
        if len(grads) != len(xs) and _miscounted(grads, len(xs)):
            raise graph.count_mismatch(self, len(grads), len(xs), "vjp")
        return [self.fit(c, x.shape) for c, x in zip(grads, xs)]

    def fit(self, c: Any, shape: tuple, dtype: Any = None) -> np.ndarray:
        """``c`` as an array of ``shape`` (summed over broadcast axes for broadcasting ops, else checked)
        and of ``dtype`` if given: a grad has its tensor's dtype (a float32 weight that met float64 data
        keeps a float32 grad, so an optimizer step keeps it float32, as in PyTorch)."""
        c = np.asarray(c)
        if c.shape != shape and self.broadcasts:
            c = _sum_to_shape(c, shape)
        if c.shape != shape:
            raise GradientShapeError(f"operation {self.name!r} gave a gradient of shape {c.shape} "
                                     f"for an input of shape {shape}")
        if dtype is not None and c.dtype != dtype:
            c = c.astype(dtype)
        return c

    def __repr__(self) -> str:
        return f"TensorOp({self.name!r})"


# -- the derivative rules' helpers: on an ndarray they compute an array (first-order backward), on a Tensor
# -- they apply the engine's own op, so backward(create_graph=True) records the backward pass itself.

def _miscounted(grads: Sequence, n: int) -> bool:
    """A VJP's list that is not one entry per input: too short, or longer with something past the inputs (a
    trailing None is fine: linear without a bias returns one for the bias it has not)."""
    return len(grads) < n or any(g is not None for g in grads[n:])


def _data(x: Any) -> Any:
    """The array in ``x``: masks and kinks are read from values, never recorded."""
    return x._data if type(x) is Tensor else x


def _reduce_sum(x: Any, axis: tuple | None, keepdims: bool) -> Any:
    """Σ of ``x`` over ``axis`` (a sorted tuple of axes, or None for all)."""
    if type(x) is Tensor:
        return _apply(SUM, (x,), (axis, keepdims))
    if axis and not keepdims and axis[-1] == len(axis) - 1 and x.ndim > len(axis) and x.dtype.kind == "f":
        return sum_leading(x, len(axis))  # a bias's gradient, the rows of a batch
    if axis is not None and len(axis) == 1:
        # numpy's reduce over a 1-tuple costs 0.8 µs more than over its int (4.2 against 3.3 µs on 64x16)
        axis = axis[0]
    return np.add.reduce(x, axis=axis, keepdims=keepdims)


def sum_leading(x: np.ndarray, lead: int) -> np.ndarray:
    """Σ of the float array ``x`` over its first ``lead`` axes (not all of them), computed as 1ᵀX with X the
    array seen as a matrix of m = x.shape[0]···x.shape[lead-1] rows: one BLAS product."""
    # Kept as a speed trick: np.add.reduce over axis 0 of a (100, 16) gradient takes 2.6 µs, this 0.8 µs
    # (17 against 3.2 µs over two axes of (10, 100, 16)); without it the backward pass of (x + b).sum() takes
    # 1.16x as long and a W2 epoch 1.06-1.07x (`python -m bench.tricks --rounds 15 --only sums`).
    m = x.shape[0] if lead == 1 else int(np.prod(x.shape[:lead]))
    if m == 0 or x.size == 0:  # an empty matrix cannot be reshaped by -1; numpy's sum gives the zeros
        return np.add.reduce(x, axis=tuple(range(lead)))
    ones = np.empty(m, x.dtype)  # empty + fill: np.ones is Python code around the same two steps
    ones.fill(1.0)
    if x.ndim == 2:
        return ones.dot(x)
    return ones.dot(x.reshape(m, -1)).reshape(x.shape[lead:])


@np.errstate(over="ignore")
def _exp_of(x: Any) -> Any:
    return _apply(EXP, (x,)) if type(x) is Tensor else np.exp(x)


def _sigmoid_of(x: Any) -> Any:
    return _apply(SIGMOID, (x,)) if type(x) is Tensor else _sigmoid_forward((x,), None)


def _sin_of(x: Any) -> Any:
    return _apply(SIN, (x,)) if type(x) is Tensor else _sin_forward((x,), None)


def _cos_of(x: Any) -> Any:
    return _apply(COS, (x,)) if type(x) is Tensor else _cos_forward((x,), None)


@np.errstate(over="ignore", divide="ignore", invalid="ignore")
def _pow_of(x: Any, n: float) -> Any:
    """x ** n for a number n: inf at x = 0 for n < 0, as for Value. A derivative rule meets that pole (d√x/dx =
    0.5 x ** -0.5 at 0); recorded (create_graph), it is a POW_AT_POLE node holding inf there, POW_CONST without the
    domain check that refuses 0 ** -0.5 in a user's expression, so its own VJP (n 0 ** (n - 1) = -inf for
    n < 0) gives the second derivative PyTorch gives."""
    if n == 1:
        return x
    if type(x) is not Tensor:
        return x**n
    return _apply(POW_AT_POLE if n < 0 and not x._data.all() else POW_CONST, (x,), n)


def _cast_to(x: Any, dtype: Any) -> Any:
    if type(x) is Tensor:
        return x if x._data.dtype == dtype else _apply(CAST, (x,), dtype)
    return x.astype(dtype, copy=False)


def _swap_last(x: Any) -> Any:
    """The last two axes swapped (both engines' ``transpose`` take a permutation)."""
    if type(x) is _ndarray:
        return x.swapaxes(-1, -2)  # a view, without building the permutation
    axes = list(range(x.ndim))
    axes[-2:] = axes[-1], axes[-2]
    return x.transpose(tuple(axes))


def _expand(g: Any, axis: tuple | None, keepdims: bool, ndim: int) -> Any:
    """Put back the reduced axes (as size 1) so ``g`` broadcasts against the reduction's input."""
    if keepdims or axis is None:
        return g  # axis None: g is 0-d and broadcasts as it is
    shape = list(g.shape)
    for a in axis:  # sorted: each insert lands at its final position
        shape.insert(a, 1)
    return g.reshape(tuple(shape))


def _spread(g: Any, shape: tuple, axis: tuple | None, keepdims: bool) -> Any:
    """A new array of ``shape`` holding the reduction's upstream ``g`` along the reduced axes."""
    g = _expand(g, axis, keepdims, len(shape))
    if type(g) is Tensor:
        return _apply(BROADCAST_TO, (g,), shape)
    spread = np.empty(shape, g.dtype)  # np.full and broadcast_to(...).copy() are Python code around this
    spread[...] = g  # broadcasts g (0-d for axis None, else with the reduced axes as 1s)
    return spread


def _sum_to_shape(g: Any, shape: tuple) -> Any:
    """Undo broadcasting: sum ``g`` over the axes numpy added or stretched to get from ``shape`` to ``g.shape``."""
    lead = g.ndim - len(shape)
    if lead < 0:
        return g  # cannot come from broadcasting; the caller reports the shape mismatch
    if g.shape[lead:] == shape:  # only added axes (a bias): one sum, already in the input's shape
        return _reduce_sum(g, tuple(range(lead)), False) if lead else g
    stretched = tuple(i for i, n in enumerate(shape, lead) if n == 1 and g.shape[i] != 1)
    if not stretched:
        return g  # not from broadcasting either; the caller reports the shape mismatch
    g = _reduce_sum(g, tuple(range(lead)) + stretched, True)
    return g.reshape(g.shape[lead:]) if lead else g


def _scatter(g: Any, key: Any, shape: tuple) -> Any:
    """Zeros of ``shape`` with ``g`` added at ``key`` (getitem's VJP; its own VJP is getitem again)."""
    return _apply(SCATTER, (g,), (key, shape)) if type(g) is Tensor else _scatter_forward((g,), (key, shape))


# -- the domains: each op's refusal of inputs outside it, called by _apply before the forward formula

def _div_domain(xs, ctx):
    a, b = xs
    if not np.all(b):
        raise DivisionByZeroError(f"division by zero: the divisor has {np.size(b) - np.count_nonzero(b)} "
                                  f"zero entries (dividend shape {np.shape(a)}, divisor shape {np.shape(b)}); the "
                                  "divisor must be non-zero everywhere")


def _pow_const_domain(xs, n):
    x = xs[0]
    if n < 0 and not np.all(x):
        raise DivisionByZeroError(f"0 ** {n!r} is undefined (0 to a negative power): x has zero entries")
    if not float(n).is_integer() and n == n and np.any(x < 0):  # x ** nan is nan, as for Value
        raise DomainError(f"x ** {n!r} is undefined for x < 0 (a negative base needs an integer exponent); "
                          f"min x = {np.min(x)!r}")


def _pow_domain(xs, ctx):
    a, b = xs
    if np.any((a == 0) & (b < 0)):
        raise DivisionByZeroError("a ** b is undefined where a = 0 and b < 0 (0 to a negative power)")
    # a nan exponent gives nan, as for Value; ±inf is no integer (np.round keeps it), as Value refuses (-2) ** inf
    if np.any((a < 0) & ((b != np.round(b)) | np.isinf(b)) & ~np.isnan(b)):
        raise DomainError("a ** b is undefined where a < 0 and b is not an integer")


def _log_domain(xs, ctx):
    x = xs[0]
    if np.any(x <= 0):  # log(nan) is nan, as for Value, numpy and PyTorch
        raise DomainError(f"log is defined for x > 0, got {np.count_nonzero(x <= 0)} entries <= 0; "
                          f"min x = {np.nanmin(x)!r}")


def _sqrt_domain(xs, ctx):
    x = xs[0]
    if np.any(x < 0):  # sqrt(nan) is nan, as for Value
        raise DomainError(f"sqrt is defined for x >= 0, got {np.count_nonzero(x < 0)} entries < 0; "
                          f"min x = {np.nanmin(x)!r}")


# -- the operations, forward and VJP side by side -----------------------------------------------

@np.errstate(over="ignore", invalid="ignore")  # 1 / 5e-324 is inf and inf / inf nan, as for Value (no warning)
def _div_forward(xs, ctx):
    return xs[0] / xs[1]


@np.errstate(over="ignore")  # g / b for a tiny b: inf, as Value's 1.0 / b is (no warning)
def _div_vjp(g, xs, out, ctx, needs):
    a, b = xs
    return (g / b if needs[0] else None, -(g * out) / b if needs[1] else None)


@np.errstate(over="ignore")
def _pow_const_forward(xs, n):
    x = xs[0]
    return x * x if n == 2 else x**n


# 2 x g for x = 1e308 is inf, as x ** 2 is, and 0 · inf (an upstream 0 at a pole) nan, without warnings
@np.errstate(over="ignore", invalid="ignore")
def _pow_const_vjp(g, xs, out, n, needs):
    if n == 2:
        return ((2.0 * g) * xs[0],)
    if n == 0:
        return (np.zeros_like(_data(g)),)
    return (g * (n * _pow_of(xs[0], n - 1)),)


@np.errstate(over="ignore")
def _pow_forward(xs, ctx):
    return xs[0] ** xs[1]


@np.errstate(over="ignore", divide="ignore", invalid="ignore")
def _pow_vjp(g, xs, out, ctx, needs):
    # On arrays only (the op is first-order): np.where picks per entry, which a recorded rule cannot.
    a, b = xs
    # d(a^b)/da = b a^(b-1), and 0 where b = 0 (a ** 0 is 1 for every a: 0 ** 0 included, as PyTorch and Value)
    ga = g * np.where(b == 0, 0.0, b * a ** (b - 1)) if needs[0] else None
    gb = None
    if needs[1]:
        positive = a > 0
        # d(a^b)/db = a^b log a for a > 0; -> 0 as a -> 0+ when b > 0; undefined otherwise (nan), as for Value
        d = np.where(positive, out * np.log(np.where(positive, a, 1.0)), np.where((a == 0) & (b > 0), 0.0, np.nan))
        gb = g * d
    return ga, gb


def _matrix_product(a: Any, b: Any) -> Any:
    """a @ b. Two arrays of one or two axes go through ``ndarray.dot``, the same product (BLAS for float
    arrays) without the matmul ufunc's dispatch: 1.4 against 2.9 µs for 4x4 matrices, 4.4 against 6.1 µs for
    (64, 16) by (16, 16) (numpy 2.4, Python 3.11). Anything else (batches, 0-d operands, Tensors when the
    backward pass is recorded) is ``@``. With ``@`` everywhere the 4x4 fixed cost takes 1.18x as long and a fused
    W2 epoch 1.14x (``python -m bench.tricks --rounds 15 --only tensor``; fused linear's backward 1.11x,
    ``bench.ab_engine --paired``)."""
    if type(a) is _ndarray and type(b) is _ndarray and 0 < a.ndim <= 2 and 0 < b.ndim <= 2:
        return a.dot(b)
    return a @ b


def _matmul_vjp(g, xs, out, ctx, needs):
    a, b = xs
    # Treat vectors as matrices (a row for a, a column for b) so one formula covers every case.
    a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
    b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
    g2 = g.reshape(g.shape + (1,)) if b.ndim == 1 else g
    if a.ndim == 1:
        g2 = g2.reshape(g2.shape[:-1] + (1,) + g2.shape[-1:])
    ga = gb = None
    if needs[0]:
        ga = _matrix_product(g2, _swap_last(b2))
        if a.ndim == 1:
            ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
    if needs[1]:
        gb = _matrix_product(_swap_last(a2), g2)
        if b.ndim == 1:
            gb = gb.reshape(gb.shape[:-1])
    return ga, gb


def add_bias(out: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """out + bias for a new product ``out``: in place where the dtypes agree, else with numpy's promotion (a
    float32 product and a float64 bias give float64, as ``x @ W.T + b`` does; ``+=`` would cast the bias down)."""
    if bias.dtype is out.dtype:
        out += bias
        return out
    return out + bias


def _linear_forward(xs, ctx):
    out = _matrix_product(xs[0], xs[1].T)
    return add_bias(out, xs[2]) if len(xs) == 3 else out


def _linear_vjp(g, xs, out, ctx, needs):
    x = xs[0]
    gx = _matrix_product(g, xs[1]) if needs[0] else None
    biased = len(xs) == 3 and needs[2]
    if x.ndim == 1:
        gw = _matrix_product(g.reshape((-1, 1)), x.reshape((1, -1))) if needs[1] else None  # the outer product g xᵀ
        gb = (g.copy() if type(g) is _ndarray else g) if biased else None  # a new array, as non-aliasing VJPs give
    else:
        gw = _matrix_product(g.T, x) if needs[1] else None
        gb = _reduce_sum(g, (0,), False) if biased else None  # Σ over the rows (sum_leading)
    return gx, gw, gb


def _sum_forward(xs, ctx):
    return np.add.reduce(xs[0], axis=ctx[0], keepdims=ctx[1])


def _mean_forward(xs, ctx):
    x = xs[0]
    total = np.add.reduce(x, axis=ctx[0], keepdims=ctx[1])
    return total / (x.size // max(total.size, 1))


def _sum_vjp(g, xs, out, ctx, needs):
    return (_spread(g, xs[0].shape, *ctx),)


def _mean_vjp(g, xs, out, ctx, needs):
    x = xs[0]
    return (_spread(g / (x.size // max(out.size, 1)), x.shape, *ctx),)


def _max_vjp(g, xs, out, ctx, needs):
    axis, keepdims = ctx
    x = _data(xs[0])
    top = _expand(_data(out), axis, keepdims, x.ndim)
    winners = x == top
    nan = np.isnan(top)
    if nan.any():  # a nan maximum: its gradient goes to the nan entries (PyTorch's choice), never 0/0
        winners |= np.isnan(x) & nan
    share = _expand(g, axis, keepdims, x.ndim) / np.sum(winners, axis=axis, keepdims=True)
    return (share * winners,)


def _getitem_vjp(g, xs, out, key, needs):
    return (_scatter(g, key, xs[0].shape),)


def _scatter_forward(xs, ctx):
    key, shape = ctx
    grad = np.zeros(shape, dtype=xs[0].dtype)
    np.add.at(grad, key, xs[0])  # add.at, not assignment: a gathered index may repeat
    return grad


def _log_vjp(g, xs, out, ctx, needs):
    with np.errstate(over="ignore"):  # 1 / 5e-324 is inf, as the derivative of log there (no warning)
        return (g / xs[0],)


@np.errstate(over="ignore")
def _exp_forward(xs, ctx):
    return np.exp(xs[0])


def _log_forward(xs, ctx):
    return np.log(xs[0])


def _sqrt_forward(xs, ctx):
    return np.sqrt(xs[0])


# 0.5 / 0: inf, the derivative of sqrt at 0 (as for Value); 0 · inf (an upstream 0 there): nan, without warnings
@np.errstate(divide="ignore", invalid="ignore")
def _sqrt_vjp(g, xs, out, ctx, needs):
    if type(out) is Tensor:  # recorded: 0.5 out ** -1, whose pole at out = 0 _pow_of keeps (a division is refused)
        return (g * (0.5 * _pow_of(out, -1.0)),)
    return (g * (0.5 / out),)


@np.errstate(invalid="ignore")  # sin(±inf) is nan, without numpy's warning
def _sin_forward(xs, ctx):
    return np.sin(xs[0])


@np.errstate(invalid="ignore")
def _cos_forward(xs, ctx):
    return np.cos(xs[0])


@np.errstate(over="ignore")
def _sigmoid_forward(xs, ctx):
    # exp(-x) overflows to inf only for x < -709, where 1 / (1 + inf) = 0 is the exact limit.
    return 1.0 / (1.0 + np.exp(-xs[0]))


def _softplus_forward(xs, ctx):
    x = xs[0]
    # max(x, 0) + log(1 + e^-|x|): exp never sees a positive argument, log1p keeps tiny terms
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


@np.errstate(over="ignore", invalid="ignore")  # slope·x is computed where x > 0 too (np.where takes both sides)
def _leaky_relu_forward(xs, slope):
    return np.where(xs[0] > 0, xs[0], slope * xs[0])


def _leaky_relu_vjp(g, xs, out, slope, needs):
    x = _data(xs[0])
    # the derivative is nan at nan (as relu's sign(relu(x)) is, and Value's): a nan must not vanish
    return (g * np.where(x > 0, 1.0, np.where(x <= 0, slope, x)),)


def _choice_vjp(g, first_wins, second_wins, tie, nan):
    """maximum/minimum: 1 to the winner, ½ each on a tie (PyTorch's), nan where either is nan."""
    local_a = first_wins + 0.5 * tie + nan
    local_b = second_wins + 0.5 * tie + nan
    return g * local_a, g * local_b


def _maximum_vjp(g, xs, out, ctx, needs):
    a, b = _data(xs[0]), _data(xs[1])
    return _choice_vjp(g, a > b, b > a, a == b, np.where(np.isnan(a) | np.isnan(b), np.nan, 0.0))


def _minimum_vjp(g, xs, out, ctx, needs):
    a, b = _data(xs[0]), _data(xs[1])
    return _choice_vjp(g, a < b, b < a, a == b, np.where(np.isnan(a) | np.isnan(b), np.nan, 0.0))


def _mse_forward(xs, ctx):
    diff = xs[0] - xs[1]
    return np.asarray(np.vdot(diff, diff) / diff.size)


def _mse_vjp(g, xs, out, ctx, needs):
    scaled = (xs[0] - xs[1]) * (g * (2.0 / xs[0].size))  # ∂/∂pred = 2 (pred - target) / n
    return scaled, (-scaled if needs[1] else None)


# x - max overflows to -inf for logits beyond float64's span ([1e308, -1e308]): exp(-inf) = 0 is then exact
@np.errstate(over="ignore", invalid="ignore")  # inf - inf (an infinite logit) is nan, as in PyTorch, silently
def _softmax_forward(xs, axis):
    x = xs[0]
    if x.shape[axis] == 0:  # over an empty axis: the empty result (PyTorch's), where max has no identity
        return x.copy()
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))  # exponents <= 0: no overflow
    return e / np.sum(e, axis=axis, keepdims=True)


def _softmax_vjp(g, xs, out, axis, needs):
    return (out * (g - _reduce_sum(g * out, (axis,), True)),)


@np.errstate(over="ignore", invalid="ignore")  # as _softmax_forward
def _log_softmax_forward(xs, axis):
    x = xs[0]
    if x.shape[axis] == 0:  # as _softmax_forward
        return x.copy()
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))  # the sum is >= 1


def _log_softmax_vjp(g, xs, out, axis, needs):
    return (g - _exp_of(out) * _reduce_sum(g, (axis,), True),)


def _transpose_vjp(g, xs, out, axes, needs):
    return (g.transpose() if axes is None else g.transpose(tuple(int(a) for a in np.argsort(axes))),)


# Each op: its forward and its VJP side by side. The VJPs are written with operators and the helpers above, so
# the same line computes arrays in first-order backward and records nodes under create_graph (higher_order).
ADD = TensorOp("add", "+", lambda xs, c: xs[0] + xs[1], lambda g, xs, o, c, n: (g, g), broadcasts=True,
               aliases=True, higher_order=True)
SUB = TensorOp("sub", "-", lambda xs, c: xs[0] - xs[1],
               lambda g, xs, o, c, n: (g, -g if n[1] else None), broadcasts=True, aliases=True, higher_order=True)
MUL = TensorOp("mul", "*", lambda xs, c: xs[0] * xs[1],
               lambda g, xs, o, c, n: (g * xs[1] if n[0] else None, g * xs[0] if n[1] else None), broadcasts=True,
               higher_order=True)
DIV = TensorOp("div", "/", _div_forward, _div_vjp, broadcasts=True, higher_order=True, domain=_div_domain)
NEG = TensorOp("neg", "-", lambda xs, c: -xs[0], lambda g, xs, o, c, n: (-g,), higher_order=True)
POW_CONST = TensorOp("pow", "^", _pow_const_forward, _pow_const_vjp, higher_order=True, domain=_pow_const_domain)
# the same x ** n where a derivative rule meets its pole (0 ** -0.5 in d√x/dx recorded): no domain check (see _pow_of)
POW_AT_POLE = TensorOp("pow", "^", _pow_const_forward, _pow_const_vjp, higher_order=True)
# a recorded grad cast to its input's dtype (a float32 leaf's grad under create_graph, as fit casts first-order
# ones); its VJP casts back to the dtype it came from. Not a user's operation: not in TENSOR_OPS, as POW_AT_POLE
CAST = TensorOp("cast", "cast", lambda xs, dtype: xs[0].astype(dtype),
                lambda g, xs, o, c, n: (_cast_to(g, xs[0].dtype),), higher_order=True)
POW = TensorOp("pow", "^", _pow_forward, _pow_vjp, broadcasts=True, domain=_pow_domain)  # first-order only (_pow_vjp)
MATMUL = TensorOp("matmul", "@", lambda xs, c: _matrix_product(xs[0], xs[1]), _matmul_vjp, broadcasts=True,
                  higher_order=True)
LINEAR = TensorOp("linear", "xWᵀ+b", _linear_forward, _linear_vjp, higher_order=True)
SUM = TensorOp("sum", "Σ", _sum_forward, _sum_vjp, higher_order=True)
MEAN = TensorOp("mean", "mean", _mean_forward, _mean_vjp, higher_order=True)
MAX = TensorOp("max", "max", lambda xs, c: np.max(xs[0], axis=c[0], keepdims=c[1]), _max_vjp, higher_order=True)
# sum's VJP spreads the upstream gradient over the summed axes; its own VJP is the sum back (fit's broadcasts)
BROADCAST_TO = TensorOp("broadcast_to", "broadcast", lambda xs, shape: np.broadcast_to(xs[0], shape).copy(),
                        lambda g, xs, o, c, n: (g,), broadcasts=True, aliases=True, higher_order=True)
RESHAPE = TensorOp("reshape", "reshape", lambda xs, shape: xs[0].reshape(shape),
                   lambda g, xs, o, c, n: (g.reshape(xs[0].shape),), aliases=True, higher_order=True)
TRANSPOSE = TensorOp("transpose", "ᵀ", lambda xs, axes: xs[0].transpose(axes), _transpose_vjp, aliases=True,
                     higher_order=True)
GETITEM = TensorOp("getitem", "[]", lambda xs, key: xs[0][key], _getitem_vjp, higher_order=True)
# getitem's VJP: the gradient added back at the gathered positions; its own VJP is the gather again
SCATTER = TensorOp("scatter_add", "scatter", _scatter_forward, lambda g, xs, o, c, n: (g[c[0]],), higher_order=True)
EXP = TensorOp("exp", "exp", _exp_forward, lambda g, xs, o, c, n: (g * o,), higher_order=True)
LOG = TensorOp("log", "log", _log_forward, _log_vjp, higher_order=True, domain=_log_domain)
SQRT = TensorOp("sqrt", "√", _sqrt_forward, _sqrt_vjp, higher_order=True, domain=_sqrt_domain)
SIN = TensorOp("sin", "sin", _sin_forward, lambda g, xs, o, c, n: (g * _cos_of(xs[0]),), higher_order=True)
COS = TensorOp("cos", "cos", _cos_forward, lambda g, xs, o, c, n: (-(g * _sin_of(xs[0])),), higher_order=True)
# No in-place products in these rules (the old _times trick): bench/ab_engine.py measured it at 0-3 % of the
# backward pass (Tensor linear/generic/sigmoid, 8 rounds), below the 10 % a speed trick must pay to stay.
TANH = TensorOp("tanh", "tanh", lambda xs, c: np.tanh(xs[0]), lambda g, xs, o, c, n: ((1.0 - o * o) * g,),
                higher_order=True)
SIGMOID = TensorOp("sigmoid", "σ", _sigmoid_forward, lambda g, xs, o, c, n: ((1.0 - o) * o * g,), higher_order=True)
SOFTPLUS = TensorOp("softplus", "softplus", _softplus_forward, lambda g, xs, o, c, n: (_sigmoid_of(xs[0]) * g,),
                    higher_order=True)
# relu'(x) = sign(relu(x)): 1 where x > 0, 0 elsewhere (0 at the kink), and cheaper than a bool mask
RELU = TensorOp("relu", "ReLU", lambda xs, c: np.maximum(xs[0], 0.0),
                lambda g, xs, o, c, n: (g * np.sign(_data(o)),), higher_order=True)
LEAKY_RELU = TensorOp("leaky_relu", "LeakyReLU", _leaky_relu_forward,
                      _leaky_relu_vjp, higher_order=True)
ABS = TensorOp("abs", "|·|", lambda xs, c: np.abs(xs[0]), lambda g, xs, o, c, n: (g * np.sign(_data(xs[0])),),
               higher_order=True)
MAXIMUM = TensorOp("maximum", "max", lambda xs, c: np.maximum(xs[0], xs[1]), _maximum_vjp, broadcasts=True,
                   higher_order=True)
MINIMUM = TensorOp("minimum", "min", lambda xs, c: np.minimum(xs[0], xs[1]), _minimum_vjp, broadcasts=True,
                   higher_order=True)
SOFTMAX = TensorOp("softmax", "softmax", _softmax_forward, _softmax_vjp, higher_order=True)
MSE = TensorOp("mse_loss", "MSE", _mse_forward, _mse_vjp, higher_order=True)
LOG_SOFTMAX = TensorOp("log_softmax", "log softmax", _log_softmax_forward, _log_softmax_vjp, higher_order=True)

#: Every operation of the Tensor engine, by name.
TENSOR_OPS: dict[str, TensorOp] = {
    op.name if op is not POW_CONST else "pow_const": op
    for op in (ADD, SUB, MUL, DIV, NEG, POW_CONST, POW, MATMUL, LINEAR, SUM, MEAN, MAX, BROADCAST_TO, RESHAPE,
               TRANSPOSE, GETITEM, SCATTER, EXP, LOG, SQRT, SIN, COS, TANH, SIGMOID, SOFTPLUS, RELU, LEAKY_RELU, ABS,
               MAXIMUM, MINIMUM, SOFTMAX, LOG_SOFTMAX, MSE)
}


# -- building nodes ------------------------------------------------------------------------------

def _dtype(dtype: Any) -> type:
    try:
        return _DTYPES[np.dtype(dtype)]
    except (TypeError, KeyError):
        raise ValueError(f"Tensor dtype must be float64 (the default) or float32, got {dtype!r}") from None


def seed_array(t: Tensor, gradient: Any, who: str, argument: str) -> np.ndarray:
    """The upstream gradient that starts a backward pass from ``t`` (backward() and autograd.grad): 1 for a
    one-element Tensor, else ``gradient`` as an array of t's shape and dtype, checked."""
    if gradient is None:
        if t._data.size != 1:
            raise ValueError(f"{who} needs {argument}: without it only a one-element Tensor (a loss) works, got "
                             f"shape {t.shape}; pass {argument}=<array of shape {t.shape}> (the v of vᵀJ) or reduce "
                             "first (e.g. .sum() or .mean())")
        # a one-element shape is all 1s, so ndmin gives it: one C call where np.ones is two and Python code
        # (with _spread's empty + fill: 4x4 fixed cost 10 % faster, bench.ab_engine --paired --only tensor)
        return np.array(1.0, t._data.dtype, ndmin=t._data.ndim)
    seed = _as_array(gradient, t._data.dtype.type, f"{who} {argument}")
    if seed.shape != t._data.shape:
        raise ValueError(f"{who} {argument} must have the Tensor's shape {t.shape}, got {seed.shape}")
    return seed


def _as_array(data: Any, dtype: type, what: str) -> np.ndarray:
    """``data`` (a number, nested sequence or array of real numbers) as a new array of ``dtype``."""
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, (str, bytes)):
        raise TypeError(f"{what} expects numbers or an array of real numbers, got {type(data).__name__}: {data!r}")
    try:
        array = np.asarray(data)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"{what} expects a rectangular array of real numbers, got {data!r}: {error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what} expects real numbers (bool, int or float), got an array of dtype {array.dtype} "
                        f"from {type(data).__name__}")
    return np.array(array, dtype=dtype)


_get_modes = graph.current_modes
_RECORDING = graph.RECORDING


def _is_boolean(data: Any) -> bool:
    """Whether ``data`` (already accepted by ``_as_array``) is booleans: a Tensor made from it is a mask."""
    if isinstance(data, Tensor):
        return data._mask
    if isinstance(data, (list, tuple)):
        return np.asarray(data).dtype.kind == "b"
    return isinstance(data, (bool, np.bool_)) or (isinstance(data, _ndarray) and data.dtype.kind == "b")


def _apply(op: TensorOp, inputs: tuple, ctx: Any = None) -> Tensor:
    """``op`` on ``inputs`` (Tensors), through the table entry's own domain check and forward: every method and
    operator is this call. The result is recorded (inputs, op, ctx, a stamp) if grad mode is on and an input
    requires grad, else it is a leaf. numpy's shape errors of a broadcasting op are re-raised naming the op,
    both shapes and the rule."""
    n = len(inputs)
    if n == 1:  # the arrays unpacked, not read by a comprehension (a function call in Python 3.11)
        xs = (inputs[0]._data,)
    elif n == 2:
        xs = (inputs[0]._data, inputs[1]._data)
    elif n == 3:  # linear with a bias
        xs = (inputs[0]._data, inputs[1]._data, inputs[2]._data)
    else:
        xs = tuple([x._data for x in inputs])
    domain = op.domain
    try:  # free unless it raises (Python 3.11)
        if domain is not None:  # the one place an op's inputs are checked against its domain
            domain(xs, ctx)
        data = op.forward(xs, ctx)
    except ValueError:
        error = _shape_error(op, xs) if op.broadcasts else None
        if error is None:
            raise  # not a shape error (a DomainError, say): as it is
        raise error from None
    modes = _get_modes()
    if modes is not _RECORDING and modes[1]:
        check_forward(op, inputs, data)
    t = _new(Tensor)
    t._data = data if type(data) is _ndarray else np.asarray(data)  # numpy gives 0-d results as scalars
    t.grad = None
    t._label = ""
    t._mask = False
    if modes[0]:
        for x in inputs:
            if x._requires_grad:
                t._requires_grad = True
                t._a = inputs
                t._op = op
                t._ctx = ctx
                t._stamp = _next_stamp()
                return t
    t._requires_grad = False
    t._a = ()
    t._op = None
    t._ctx = None
    t._stamp = 0
    return t


def _shape_error(op: TensorOp, xs: tuple) -> ValueError | None:
    """The error for two arrays ``op`` cannot combine, or None if their shapes are not the problem."""
    a, b = xs[0], xs[-1]
    if op is MATMUL:
        if a.ndim == 0 or b.ndim == 0:
            expected = "both operands at least 1-d (use * to scale by a number)"
        elif a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            expected = (f"the last axis of the left ({a.shape[-1]}) to equal the "
                        f"{'only' if b.ndim == 1 else 'second-to-last'} axis of the right "
                        f"({b.shape[-2 if b.ndim > 1 else 0]})")
        else:
            expected = f"batch axes that broadcast, got {a.shape[:-2]} and {b.shape[:-2]}"
        return ValueError(f"Tensor @: cannot multiply shapes {a.shape} and {b.shape}; expected {expected}")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        symbol = "**" if op is POW else op.symbol
        return ValueError(f"Tensor {symbol}: shapes {a.shape} and {b.shape} do not broadcast; expected shapes "
                          "equal or 1 in each trailing axis (numpy broadcasting)")
    return None


def _constant(data: np.ndarray) -> Tensor:
    t = _new(Tensor)
    t._data = data
    t.grad = None
    t._label = ""
    t._mask = False
    t._requires_grad = False
    t._a = ()
    t._op = None
    t._ctx = None
    t._stamp = 0
    return t


def _lift(other: Any, like: Tensor, symbol: str) -> Tensor:
    """``other`` as a Tensor: a Tensor as is; a number or array as a constant of ``like``'s dtype."""
    if isinstance(other, Tensor):
        return other
    if isinstance(other, (numbers.Real, np.ndarray, list, tuple, np.bool_)) and not isinstance(other, str):
        try:
            data = np.asarray(other, dtype=like._data.dtype)
        except OverflowError:  # an int beyond float64's range: a real number, too large
            raise ValueError(f"unsupported operand for {symbol}: an int too large for a float ({str(other)[:20]}..., "
                             f"{len(str(other))} digits); expected a number within float64's range") from None
        except (TypeError, ValueError):
            data = None
        if data is not None and np.asarray(other).dtype.kind in "biuf":
            return _constant(data)
    raise TypeError(f"unsupported operand for {symbol}: Tensor and {type(other).__name__} ({other!r}); "
                    "expected a Tensor, a real number or an array of real numbers")


def _real(x: Any, what: str) -> float:
    """A real number as a float; ValueError (not OverflowError) for an int beyond float64's range."""
    try:
        return float(x)
    except OverflowError:
        raise ValueError(f"{what} must be a real number within float64's range, got a {type(x).__name__} too "
                         f"large for a float: {x!r:.40}...") from None


def _axis(axis: Any, ndim: int, what: str) -> tuple | None:
    """``axis`` (None, an int or a tuple of ints) as a sorted tuple of non-negative axes, or None for all."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool) else axis
    if not isinstance(axes, tuple) or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                                              for a in axes):
        raise TypeError(f"{what} axis must be None, an int or a tuple of ints, got {axis!r}")
    normalized = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{what} axis {a} is out of range for a Tensor with {ndim} dimensions")
        normalized.append(int(a) % ndim)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{what} axis {axis!r} repeats an axis")
    return tuple(sorted(normalized))


def _keepdims(keepdims: Any, what: str) -> bool:
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"{what} keepdims must be True or False, got {type(keepdims).__name__}: {keepdims!r:.40}")
    return bool(keepdims)


def _reduction(axis: Any, keepdims: Any, ndim: int, what: str, dtype: Any, out: Any) -> tuple:
    """A reduction's ctx (axis, keepdims), checked. ``dtype`` and ``out`` are there for numpy's own functions,
    which call the method with them (``np.sum(t)`` is ``t.sum(axis=None, out=None)``): only None is taken."""
    if dtype is not None or out is not None:
        given = ", ".join(f"{k}={v!r:.40}" for k, v in (("dtype", dtype), ("out", out)) if v is not None)
        raise TypeError(f"Tensor.{what} takes no dtype or out (its result is a new Tensor of the input's dtype), "
                        f"got {given}")
    return _axis(axis, ndim, what), _keepdims(keepdims, what)


def _refuse_empty_reduction(shape: tuple, axis: tuple | None, what: str) -> None:
    """ValueError if the reduction of an empty array over ``axis`` reduces no element (a mean or max of nothing);
    over axes of entries, each output of an empty result has them (np.ones((0, 3)).max(axis=1) is empty), fine."""
    reduced = shape if axis is None else tuple(shape[a] for a in axis)
    if 0 in reduced or not reduced:
        over = "every axis" if axis is None else f"axis {axis if len(axis) > 1 else axis[0]}"
        raise ValueError(f"{what} over {over} of a Tensor of shape {shape} reduces no element and is undefined")


def _single_axis(axis: Any, ndim: int, what: str) -> int:
    if axis is None or isinstance(axis, tuple):
        raise TypeError(f"{what} axis must be an int, got {axis!r}")
    return _axis(axis, ndim, what)[0]


# numpy functions that are Tensor methods, so that np.sum(t) records (see Tensor.__array_function__)
_NUMPY_METHODS: dict = {}  # filled in after the class: np.sum -> Tensor.sum, ...
# numpy functions that only read a Tensor's shape: fine whatever it requires
_NUMPY_ABOUT_SHAPE = {np.shape, np.ndim, np.size}


def _requires_grad_in(items: Any) -> bool:
    """Whether ``items`` (nested tuples, lists and dicts) holds a Tensor that requires grad (no recursion)."""
    stack = [items]
    while stack:
        item = stack.pop()
        if type(item) is Tensor:
            if item._requires_grad:
                return True
        elif isinstance(item, (tuple, list)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False


def _arrays_of(items: Any) -> Any:
    """``items`` with each Tensor replaced by its data, one level into tuples, lists and dicts (np.concatenate's
    list of arrays)."""
    def data(x: Any) -> Any:
        if type(x) is Tensor:
            return x._data
        if isinstance(x, (tuple, list)):
            return type(x)(y._data if type(y) is Tensor else y for y in x)
        return x
    if isinstance(items, dict):
        return {k: data(v) for k, v in items.items()}
    return tuple(data(x) for x in items)


def _index_key(key: Any) -> Any:
    """An index with Tensors replaced by their data (integer labels usually come as arrays) and arrays and
    lists copied: the getitem node keeps its key for backward, and a caller who then changes the index
    array must not send the gradient to other entries. A Tensor made from booleans is a mask, as in numpy."""
    if isinstance(key, Tensor):
        if key._mask:
            return key._data != 0
        if not np.array_equal(key._data, np.round(key._data)):
            raise TypeError(f"a Tensor used as an index must hold whole numbers, got {key!r}")
        return key._data.astype(np.intp)
    if isinstance(key, tuple):
        return tuple(_index_key(k) for k in key)
    if isinstance(key, _ndarray):
        return key.copy()
    if isinstance(key, list):
        try:
            copied = np.array(key)
        except ValueError:  # ragged: numpy's own indexing reports it
            return key
        return copied if copied.dtype.kind in "biu" else key  # anything else: numpy's error, as it is
    return key


# Leaf changes between forward and backward, as for Value (see value._set_data and graph.run_backward): setting
# a leaf's .data stamps it, so backward refuses a graph computed from its old array. Changing the array in place
# (t.data[0] = 1) is not seen; t.data -= g is (Python sets the attribute again after the in-place update).
_FLOATS = frozenset(_DTYPES)


def _set_data(t: Tensor, value: Any) -> None:
    if t._op is not None:
        raise graph.computed_data_error(t, "Tensor(array, requires_grad=True)")
    if type(value) is _ndarray and value.dtype in _FLOATS:  # an optimizer's new array: kept, not copied
        t._mask = False
    else:  # a list, numbers, an int or bool array: as an array of the Tensor's dtype, as Tensor(...) reads it
        array = _as_array(value, t._data.dtype.type, "Tensor.data")
        t._mask = _is_boolean(value)
        value = array
    t._stamp = _next_stamp()
    t._data = value


def _set_requires_grad(t: Tensor, value: Any) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"Tensor requires_grad must be True or False, got {type(value).__name__}: {value!r:.40}")
    if t._op is not None and bool(value) != t._requires_grad:
        name = f"{t._label!r}" if t._label else "this Tensor"
        raise ValueError(f"Tensor.requires_grad: {name} was computed by {t._op.name}; only a leaf's requires_grad "
                         "can be set (for a Tensor that takes no gradient from this one, use t.detach())")
    t._requires_grad = bool(value)


class Tensor:
    """An n-dimensional array node of the computation graph (numpy float64 by default).

    ``Tensor(data, requires_grad=True)`` makes a leaf whose gradient backward
    fills in. Arithmetic with Tensors, numbers and arrays (on either side)
    broadcasts as numpy does and records the inputs, so ``backward()`` can
    apply the chain rule through them.
    """

    # _label behind the property label (checked when set); _mask: made from booleans, so indexing with it
    # selects (numpy's boolean mask) rather than reading its 1.0/0.0 as positions.
    # _stamp: graph.next_stamp() when a recorded node is made, 0 for a leaf (graph.topological_order sorts by it)
    # _a: the inputs (a tuple, empty for a leaf), in the slot graph's walk reads first (a Value's first input),
    # with _b = MANY telling it that _a is the whole sequence; _inputs is the name the rest of the code reads
    __slots__ = ("_data", "grad", "_label", "_requires_grad", "_a", "_op", "_ctx", "_mask", "_stamp")
    _b = graph.MANY
    _inputs = property(operator.attrgetter("_a"))
    __array_ufunc__ = None  # numpy defers to Tensor's operators, so ndarray + Tensor is a Tensor

    def __init__(self, data: Any, label: str = "", *, requires_grad: bool = False, dtype: Any = None):
        if not isinstance(label, str):
            raise TypeError(f"Tensor label must be a str, got {type(label).__name__}: {label!r:.60}")
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(f"Tensor requires_grad must be True or False, got {requires_grad!r}")
        self._data = _as_array(data, np.float64 if dtype is None else _dtype(dtype), "Tensor")
        self._mask = _is_boolean(data)
        self.grad = None
        self._label = label
        self._requires_grad = bool(requires_grad)
        self._a = ()
        self._op = None
        self._ctx = None
        self._stamp = 0

    # the setter is _set_data itself, not a method calling it: one Python call per p.data = ... of an update
    data = property(operator.attrgetter("_data"), _set_data,
                    doc="The array this node holds (float64 or float32; set on a leaf only).")

    requires_grad = property(operator.attrgetter("_requires_grad"), _set_requires_grad,
                             doc="Whether backward computes this node's gradient (set on a leaf only).")

    label = property(operator.attrgetter("_label"), doc="The node's name in drawings and messages (a str).")

    @label.setter
    def label(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Tensor label must be a str, got {type(value).__name__}: {value!r:.60}")
        self._label = value

    # -- graph bookkeeping -------------------------------------------------
    @property
    def inputs(self) -> tuple[Tensor, ...]:
        """The nodes this one was computed from, in order, duplicates kept."""
        return self._a

    @property
    def op(self) -> TensorOp | None:
        """The operation that made this node, or None for a leaf."""
        return self._op

    def _fresh_grad(self) -> Any:
        # The first contribution replaces this zero (no zeros array is allocated).
        return _ZERO if self._requires_grad else None

    def backward(self, gradient: Any = None, create_graph: bool = False) -> None:
        """Compute d self / d node for every node self depends on, seeded with ``gradient``.

        ``gradient`` defaults to 1 for a one-element Tensor (a loss); any other
        shape needs it given explicitly (an array of self's shape): the vector
        v of the product vᵀJ that backward computes. Leaves accumulate across
        calls, as in PyTorch; set ``grad = None`` (``zero_grad()``) between steps.

        ``create_graph=True`` records the backward pass: each leaf's ``grad`` becomes a Tensor you can
        differentiate again (intermediate grads are left as they were). A leaf's grad then refers to a graph
        that refers to the leaf: set ``grad = None`` when done, or use ``autograd.grad``, which stores nothing.
        """
        if not self._requires_grad:
            raise ValueError("backward() needs a Tensor that requires grad: no input of this one requires grad "
                             "(make a leaf with Tensor(..., requires_grad=True)) or it was computed under no_grad()")
        seed = seed_array(self, gradient, "backward()", "gradient")
        if create_graph is not False:
            if create_graph is not True:
                raise TypeError(f"backward create_graph must be True or False, got {create_graph!r:.40}")
            grads: dict = {}
            for node in graph.run_backward(self, _constant(seed), self._stamp, grads=grads, create_graph=True):
                if node._op is None and node in grads:
                    node.grad = grads[node] if node.grad is None else node.grad + grads[node]
            return
        for node in graph.run_backward(self, seed, self._stamp):  # with the stamp: changed leaves are refused
            # Every contribution was checked against its input's shape, so sums of them have it too;
            # only numpy's 0-d sums (scalars, not arrays) and nodes no contribution reached need fixing. A leaf's
            # grad recorded by an earlier backward(create_graph=True) stays a Tensor (its graph kept, as PyTorch).
            grad = node.grad
            if type(grad) is not _ndarray and grad is not None and type(grad) is not Tensor:
                node.grad = np.zeros_like(node._data) if grad is _ZERO else np.asarray(grad, dtype=node._data.dtype)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``grad = None``)."""
        self.grad = None

    def detach(self) -> Tensor:
        """A new leaf sharing this Tensor's data, not requiring grad."""
        return _constant(self._data)

    def numpy(self) -> np.ndarray:
        """The data array (shared, not copied)."""
        return self._data

    def item(self) -> float:
        """The value of a one-element Tensor as a Python float."""
        if self._data.size != 1:
            raise ValueError(f"item() needs a one-element Tensor, got shape {self.shape}")
        return float(self._data.reshape(()))

    def __float__(self) -> float:
        """``float(loss)``: the value of a one-element Tensor, as ``item()`` (PyTorch's too)."""
        if self._data.size != 1:
            raise TypeError(f"float() needs a one-element Tensor, got shape {self.shape}; read the array with "
                            ".numpy() (or reduce it first, e.g. .sum())")
        return self.item()

    def __int__(self) -> int:
        """``int(t)`` of a one-element Tensor: its value truncated toward zero, as ``int(float(t))``."""
        if self._data.size != 1:
            raise TypeError(f"int() needs a one-element Tensor, got shape {self.shape}; read the array with "
                            ".numpy() (or reduce it first, e.g. .sum())")
        return int(self._data.reshape(()))

    # -- array attributes ----------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The data's shape."""
        return self._data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        """The data's dtype (float64 unless float32 was asked for)."""
        return self._data.dtype

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        # np.asarray(t), matplotlib, ... see the data; numpy ufuncs on a Tensor still raise (__array_ufunc__)
        data = self._data if dtype is None else self._data.astype(dtype, copy=False)
        return data.copy() if copy else data

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d Tensor")
        return len(self._data)

    def __bool__(self) -> bool:
        """The truth of a one-element Tensor, as numpy's (``bool(Tensor([0.0]))`` is False); ValueError for more
        or fewer elements, where truth is ambiguous (use ``.any()``-style reductions on ``.data``)."""
        if self._data.size != 1:
            raise ValueError(f"the truth value of a Tensor of shape {self.shape} ({self._data.size} elements) is "
                             "ambiguous; expected a one-element Tensor (test t.data.any() or t.data.all())")
        return bool(self._data.reshape(()))

    # -- arithmetic (broadcasting) -------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return _apply(ADD, (self, _lift(other, self, "+")))

    def __radd__(self, other: Any) -> Tensor:
        return _apply(ADD, (_lift(other, self, "+"), self))

    def __sub__(self, other: Any) -> Tensor:
        return _apply(SUB, (self, _lift(other, self, "-")))

    def __rsub__(self, other: Any) -> Tensor:
        return _apply(SUB, (_lift(other, self, "-"), self))

    def __mul__(self, other: Any) -> Tensor:
        return _apply(MUL, (self, _lift(other, self, "*")))

    def __rmul__(self, other: Any) -> Tensor:
        return _apply(MUL, (_lift(other, self, "*"), self))

    def __truediv__(self, other: Any) -> Tensor:
        return _apply(DIV, (self, _lift(other, self, "/")))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _apply(DIV, (_lift(other, self, "/"), self))

    # t += x, t -= x, ...: where the result is recorded, the new node (t then names it, as after t = t + x); where
    # nothing is recorded (under no_grad, or nothing requires grad), t's own data is updated, as in PyTorch, so
    # an optimizer's `with no_grad(): p -= lr * p.grad` updates the parameter in its list.
    def __iadd__(self, other: Any) -> Tensor:
        return self._update(Tensor.__add__, other, "+=")

    def __isub__(self, other: Any) -> Tensor:
        return self._update(Tensor.__sub__, other, "-=")

    def __imul__(self, other: Any) -> Tensor:
        return self._update(Tensor.__mul__, other, "*=")

    def __itruediv__(self, other: Any) -> Tensor:
        return self._update(Tensor.__truediv__, other, "/=")

    def _update(self, operation: Callable, other: Any, symbol: str) -> Tensor:
        result = operation(self, other)
        if result._requires_grad:
            if self._requires_grad and self._op is None:
                name = f"{self._label!r}" if self._label else "a leaf"
                raise ValueError(f"Tensor {symbol}: {name} requires grad, and changing it in place would not be "
                                 "recorded; update a parameter without recording, in an optimizer step after "
                                 f"backward: with autograd.no_grad(): p {symbol} ... (or p.data {symbol} ...)")
            return result
        if result._data.shape != self._data.shape:
            raise ValueError(f"Tensor {symbol}: the result has shape {result.shape}, not the Tensor's {self.shape}; "
                             "an in-place update keeps the shape (write t = t ... to make a new Tensor)")
        self.data = result._data.astype(self._data.dtype, copy=False)  # the setter: stamped, refused if computed
        return self

    def __neg__(self) -> Tensor:
        return _apply(NEG, (self,))

    def __pos__(self) -> Tensor:
        return self

    def __pow__(self, exponent: Any) -> Tensor:
        """``self ** n`` for a number n (one input), or ``self ** t`` for a Tensor t (two inputs,
        broadcasting; the exponent gets the gradient a ** b · log a)."""
        if isinstance(exponent, Tensor):
            return _apply(POW, (self, exponent))
        if type(exponent) is _ndarray and exponent.ndim == 0 and exponent.dtype.kind in "biuf":
            exponent = exponent.item()  # np.array(3.0): the number, as np.float64(3.0) (no second input)
        if not isinstance(exponent, (numbers.Real, np.bool_)):
            if isinstance(exponent, (np.ndarray, list, tuple)):
                return self ** _lift(exponent, self, "**")
            raise TypeError(f"Tensor ** expects a real number or a Tensor exponent, got {type(exponent).__name__}")
        n = _real(exponent, "Tensor ** exponent")
        return _apply(POW_CONST, (self,), n)

    def __rpow__(self, base: Any) -> Tensor:
        return _lift(base, self, "**") ** self

    def __matmul__(self, other: Any) -> Tensor:
        return _apply(MATMUL, (self, _lift(other, self, "@")))

    def __rmatmul__(self, other: Any) -> Tensor:
        return _apply(MATMUL, (_lift(other, self, "@"), self))

    def __abs__(self) -> Tensor:
        return _apply(ABS, (self,))

    def abs(self) -> Tensor:
        """|x| elementwise; derivative sign(x) (0 at 0)."""
        return _apply(ABS, (self,))

    # -- reductions ------------------------------------------------------------
    # dtype and out let numpy's np.sum(t), np.mean(t), np.max(t) call these (they pass them); only None is taken
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *, dtype: None = None,
            out: None = None) -> Tensor:
        """Σ over ``axis`` (all axes by default); the gradient is the upstream one broadcast back."""
        return _apply(SUM, (self,), _reduction(axis, keepdims, self._data.ndim, "sum", dtype, out))

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *, dtype: None = None,
             out: None = None) -> Tensor:
        """The mean over ``axis`` (all axes by default); each element gets upstream / count."""
        ctx = _reduction(axis, keepdims, self._data.ndim, "mean", dtype, out)
        if self._data.size == 0:
            _refuse_empty_reduction(self._data.shape, ctx[0], "mean")
        return _apply(MEAN, (self,), ctx)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *, dtype: None = None,
            out: None = None) -> Tensor:
        """The maximum over ``axis``; the gradient goes to the maxima, shared equally between ties."""
        ctx = _reduction(axis, keepdims, self._data.ndim, "max", dtype, out)
        if self._data.size == 0:
            _refuse_empty_reduction(self._data.shape, ctx[0], "max")
        return _apply(MAX, (self,), ctx)

    # -- shape ------------------------------------------------------------------
    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """The same elements in a new shape (``t.reshape(2, 3)`` or ``t.reshape((2, 3))``; -1 allowed)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            shape = self._data.reshape(shape).shape  # the shape with -1 resolved; a view, so nearly free
        except (TypeError, ValueError) as error:
            raise ValueError(f"cannot reshape a Tensor of shape {self.shape} to {shape}: {error}") from None
        return _apply(RESHAPE, (self,), shape)

    def transpose(self, *axes: int) -> Tensor:
        """Axes permuted (reversed by default, as numpy)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if axes:
            if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
                raise TypeError(f"transpose axes must be ints (a permutation of the {self._data.ndim} axes), "
                                f"got {axes!r}")
            if sorted(int(a) % max(self._data.ndim, 1) for a in axes) != list(range(self._data.ndim)):
                raise ValueError(f"transpose axes {axes} are not a permutation of the {self._data.ndim} axes")
            axes = tuple(int(a) % self._data.ndim for a in axes)
        ctx = axes or None
        return _apply(TRANSPOSE, (self,), ctx)

    @property
    def T(self) -> Tensor:
        """The transpose (axes reversed)."""
        return _apply(TRANSPOSE, (self,), None)

    def __getitem__(self, key: Any) -> Tensor:
        """numpy indexing: slices, integers, and gathering by integer arrays (``t[np.arange(n), labels]``).

        An index that does not fit the shape (out of range, too many indices, a mask of the wrong length, index
        arrays that do not broadcast) raises ``TensorIndexError`` (an ``IndexError`` as in numpy, and a
        ``ValueError``) with numpy's reason; an index of the wrong kind (a string, a float, a float array)
        raises ``TypeError``.
        """
        key = _index_key(key)
        try:  # the one forward: numpy's indexing errors come out of it
            return _apply(GETITEM, (self,), key)
        except AnomalyError:  # a ValueError too, but detect_anomaly's, about the result: as it is
            raise
        except (IndexError, ValueError) as error:  # ValueError: a ragged list as the index
            if isinstance(error, IndexError) and not str(error).startswith("only integers"):  # the right kind
                if "out of bounds" in str(error):
                    raise TensorIndexError(f"Tensor index {key!r:.80} is out of range for shape {self.shape}; "
                                           "expected indices within it") from None
                raise TensorIndexError(f"Tensor index {key!r:.80} does not fit: {error} (shape {self.shape})") \
                    from None
            raise TypeError(f"a Tensor index must be ints, slices, None, ... or integer/boolean arrays (numpy "
                            f"indexing), got {type(key).__name__}: {key!r:.80}") from None

    def __iter__(self) -> Iterator[Tensor]:
        """The rows ``t[0], t[1], ...`` (each a recorded node); a 0-d Tensor is a number, not a sequence."""
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d Tensor: it holds one number (read it with .item())")
        return (self[i] for i in range(len(self._data)))

    def __contains__(self, value: Any) -> bool:
        """``x in t``: whether some entry equals x, as numpy's (``==`` on Tensors is identity: see ``eq``)."""
        return bool(np.any(self._data == (value.data if isinstance(value, Tensor) else value)))

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        # numpy's functions on a Tensor: the reductions and shape functions that are Tensor methods record (np.sum(t)
        # is t.sum()); any other gives its numpy result on the data, except where an input requires grad, which
        # it would lose without a word (PyTorch refuses there too): that is a TypeError naming the function.
        method = _NUMPY_METHODS.get(func)
        if method is not None and args and (type(args[0]) is Tensor or func is np.dot):
            return method(*args, **kwargs)
        if func in _NUMPY_ABOUT_SHAPE or not _requires_grad_in((args, kwargs)):
            return func(*_arrays_of(args), **_arrays_of(kwargs))
        raise TypeError(f"np.{func.__name__} of a Tensor that requires grad would drop its graph (no gradient would "
                        f"reach it); use the Tensor's own operations, or np.{func.__name__}(t.data) for the numbers")

    # -- elementwise functions ----------------------------------------------------
    def exp(self) -> Tensor:
        """e ** x (inf beyond ~709.78, without a warning)."""
        return _apply(EXP, (self,))

    def log(self) -> Tensor:
        """Natural logarithm; ``DomainError`` if any x <= 0."""
        return _apply(LOG, (self,))

    def tanh(self) -> Tensor:
        """tanh x; derivative 1 - tanh² x."""
        return _apply(TANH, (self,))

    def sigmoid(self) -> Tensor:
        """σ(x) = 1 / (1 + e^-x), without overflow warnings; derivative σ(1 - σ)."""
        return _apply(SIGMOID, (self,))

    def softplus(self) -> Tensor:
        """log(1 + eˣ) as max(x, 0) + log(1 + e^-|x|) (no overflow, no warning); derivative σ(x)."""
        return _apply(SOFTPLUS, (self,))

    def relu(self) -> Tensor:
        """max(x, 0); derivative 1 for x > 0, else 0 (0 at the kink)."""
        return _apply(RELU, (self,))

    def sin(self) -> Tensor:
        """sin x elementwise; derivative cos x (nan at ±inf, without a warning)."""
        return _apply(SIN, (self,))

    def cos(self) -> Tensor:
        """cos x elementwise; derivative -sin x."""
        return _apply(COS, (self,))

    def sqrt(self) -> Tensor:
        """√x elementwise; derivative 1 / (2√x) (inf at 0); ``DomainError`` if any x < 0."""
        return _apply(SQRT, (self,))

    def maximum(self, other: Any) -> Tensor:
        """The elementwise larger of self and other (broadcasting): the gradient goes to the larger, ½ to each
        on a tie (PyTorch's), nan where either is nan."""
        return _apply(MAXIMUM, (self, _lift(other, self, "maximum")))

    def minimum(self, other: Any) -> Tensor:
        """The elementwise smaller of self and other: the gradient goes to the smaller, ½ to each on a tie."""
        return _apply(MINIMUM, (self, _lift(other, self, "minimum")))

    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
        """A new Tensor of ``shape`` repeating this one as numpy broadcasting does; the gradient is summed back."""
        try:
            shape = np.broadcast_to(self._data, shape).shape  # a read-only view: the check, nearly free
        except (TypeError, ValueError) as error:
            raise ValueError(f"broadcast_to: cannot broadcast a Tensor of shape {self.shape} to {shape!r}; "
                             f"expected a shape equal or 1 in each trailing axis ({error})") from None
        return _apply(BROADCAST_TO, (self,), shape)

    # -- comparisons: boolean arrays of the data (no graph). No __eq__: nodes stay hashable by identity.
    def __lt__(self, other: Any) -> np.ndarray:
        return self._data < _lift(other, self, "<").data

    def __le__(self, other: Any) -> np.ndarray:
        return self._data <= _lift(other, self, "<=").data

    def __gt__(self, other: Any) -> np.ndarray:
        return self._data > _lift(other, self, ">").data

    def __ge__(self, other: Any) -> np.ndarray:
        return self._data >= _lift(other, self, ">=").data

    def leaky_relu(self, slope: float = 0.01) -> Tensor:
        """x for x > 0, else slope·x; derivative 1 for x > 0, else slope (slope at the kink)."""
        if not isinstance(slope, numbers.Real) or isinstance(slope, bool):
            raise TypeError(f"leaky_relu slope must be a real number, got {type(slope).__name__}: {slope!r}")
        slope = _real(slope, "leaky_relu slope")
        return _apply(LEAKY_RELU, (self,), slope)

    def softmax(self, axis: int = -1) -> Tensor:
        """exp(x) / Σ exp(x) along ``axis``, computed as exp(x - max) so it never overflows."""
        ctx = _single_axis(axis, self._data.ndim, "softmax")
        return _apply(SOFTMAX, (self,), ctx)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """x - log Σ exp(x) along ``axis`` by the shifted log-sum-exp (no overflow, no log 0)."""
        ctx = _single_axis(axis, self._data.ndim, "log_softmax")
        return _apply(LOG_SOFTMAX, (self,), ctx)

    def __repr__(self) -> str:
        body = np.array2string(self._data, precision=4, separator=", ", threshold=20, edgeitems=2)
        extras = (f", label={self.label!r}" if self.label else "") + (", requires_grad=True" if self._requires_grad
                                                                     else "")
        extras += f", dtype={self._data.dtype}" if self._data.dtype != np.float64 else ""
        return f"Tensor({body}{extras})"


def _numpy_dot(a: Any, b: Any) -> Tensor:
    """np.dot(a, b) with a Tensor among them, recorded by numpy's rules: a * b where one is 0-d, a @ b for
    operands of one or two axes. numpy's dot of an N-d operand (a sum over a's last axis and b's second-to-last,
    all other axes kept) is not @ and is refused."""
    a = a if type(a) is Tensor else _lift(a, b, "np.dot")
    b = b if type(b) is Tensor else _lift(b, a, "np.dot")
    if a._data.ndim == 0 or b._data.ndim == 0:
        return a * b
    if a._data.ndim <= 2 and b._data.ndim <= 2:
        return a @ b
    raise TypeError(f"np.dot of Tensors of shapes {a.shape} and {b.shape}: numpy's dot of operands with more than "
                    "two axes is not a matrix product per batch and has no recorded op; use a @ b (batched matmul) "
                    "or reshape to two axes")


_NUMPY_METHODS.update({np.sum: Tensor.sum, np.mean: Tensor.mean, np.max: Tensor.max, np.amax: Tensor.max,
                       np.reshape: Tensor.reshape, np.transpose: Tensor.transpose, np.dot: _numpy_dot})


def linear(x: Tensor | np.ndarray, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x Wᵀ + b as ONE node: a layer's pre-activation for a batch (rows of x are examples).

    ``x`` is (n, n_in) or (n_in,), ``weight`` (n_out, n_in) with ``weight[j, k]``
    the weight from input k to neuron j, ``bias`` (n_out,). VJPs: ∂L/∂x = g W,
    ∂L/∂W = gᵀ x, ∂L/∂b = Σ_rows g.
    """
    if not isinstance(weight, Tensor):
        raise TypeError(f"linear weight must be a Tensor, got {type(weight).__name__}")
    if type(x) is not Tensor:
        x = _lift(x, weight, "linear x")
    xd, w = x._data, weight._data
    if w.ndim != 2 or xd.ndim > 2 or xd.shape[-1:] != w.shape[1:]:
        raise ValueError(f"linear needs x of shape (n, n_in) or (n_in,) and a 2-d weight (n_out, n_in); "
                         f"got x {x.shape} and weight {weight.shape}")
    if bias is None:
        return _apply(LINEAR, (x, weight))
    if type(bias) is not Tensor:
        bias = _lift(bias, weight, "linear bias")
    if bias._data.shape != w.shape[:1]:
        raise ValueError(f"linear bias must have shape ({w.shape[0]},) for a weight of shape {weight.shape}, "
                         f"got {bias.shape}")
    return _apply(LINEAR, (x, weight, bias))


def mse_loss(pred: Tensor, target: Tensor | np.ndarray) -> Tensor:
    """mean((pred - target)²) over every element, as ONE node (PyTorch's ``mse_loss``).

    ``target`` must have ``pred``'s shape: a silent broadcast of (n, 1) against
    (n,) would average n² differences. VJPs: ±2 (pred - target) / n.
    """
    if not isinstance(pred, Tensor):
        raise TypeError(f"mse_loss pred must be a Tensor, got {type(pred).__name__}")
    target = _lift(target, pred, "mse_loss target")
    if target._data.shape != pred._data.shape:
        raise ValueError(f"mse_loss target must have the predictions' shape {pred.shape}, got {target.shape} "
                         "(reshape it first)")
    if pred._data.size == 0:
        raise ValueError("mse_loss of empty predictions is undefined")
    return _apply(MSE, (pred, target))
