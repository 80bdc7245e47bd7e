"""``Tensor``: the same recording scheme as ``Value``, over numpy arrays, with broadcasting.

A Tensor node holds ``data`` (an ndarray), ``grad`` (None until a backward
pass reaches it, then an ndarray of the same shape), the nodes it was computed
from (``_inputs``), the ``TensorOp`` that made it and that op's parameter
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
- ``exp`` and ``**`` overflow to inf without a warning; sigmoid, tanh, softplus, softmax
  and log_softmax are computed so that inputs of any size (1e6, -1e6) give no warning.
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
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import graph
from .anomaly import check_forward
from .graph import DivisionByZeroError, DomainError

_new = object.__new__
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
    a view of it (every other VJP must return new arrays).
    """

    __slots__ = ("name", "symbol", "forward", "vjp", "broadcasts", "aliases")
    accumulate = None  # no op here adds into its inputs' grads itself (see graph.run_backward)

    def __init__(self, name: str, symbol: str, forward: Callable, vjp: Callable, broadcasts: bool = False,
                 aliases: bool = False):
        graph.check_op_definition("TensorOp", name, symbol, forward=forward, vjp=vjp)
        self.name = name
        self.symbol = symbol
        self.forward = forward
        self.vjp = vjp
        self.broadcasts = broadcasts
        self.aliases = aliases

    def contributions(self, node: Tensor) -> list:
        """upstream grad · local derivative for each input, in the input's shape (None where not needed)."""
        inputs = node._inputs
        if len(inputs) == 1:  # the common case, without the loops
            x = inputs[0]
            if not x.requires_grad:
                return [None]
            c = self.vjp(node.grad, (x.data,), node.data, node._ctx, (True,))[0]
            if c is None:
                return [None]
            if type(c) is not _ndarray or c.shape != x.data.shape or c.dtype is not x.data.dtype:
                c = self.fit(c, x.data.shape, x.data.dtype)
            if self.aliases and x._op is None:
                c = c.copy()
            return [c]
        grads = self.vjp(node.grad, [x.data for x in inputs], node.data, node._ctx,
                         [x.requires_grad for x in inputs])
        if len(grads) < len(inputs):  # else zip() would give the missing inputs nothing, silently
            raise graph.count_mismatch(self, len(grads), len(inputs), "vjp")
        result = []
        for x, c in zip(inputs, grads):  # zip stops at the inputs: linear without bias returns a spare None
            if c is None or not x.requires_grad:
                c = None
            else:
                if type(c) is not _ndarray or c.shape != x.data.shape or c.dtype is not x.data.dtype:
                    c = self.fit(c, x.data.shape, x.data.dtype)
                if self.aliases and x._op is None:
                    c = c.copy()
            result.append(c)
        return result

    def input_gradients(self, g: np.ndarray, xs: Sequence[np.ndarray], ctx: Any = None) -> list[np.ndarray]:
        """The VJP for every input at ``xs`` with upstream ``g``, in the inputs' shapes (for checking)."""
        xs = tuple(np.asarray(x) for x in xs)
        out = self.forward(xs, ctx)
        grads = self.vjp(np.asarray(g), xs, out, ctx, (True,) * len(xs))
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


def _sum_to_shape(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Undo broadcasting: sum ``g`` over the axes numpy added or stretched to get from ``shape`` to ``g.shape``."""
    lead = g.ndim - len(shape)
    if lead < 0:
        return g  # cannot come from broadcasting; the caller reports the shape mismatch
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = np.add.reduce(g, axis=axes, keepdims=True)
    return g.reshape(shape) if lead and g.size == int(np.prod(shape)) else g


# -- the operations, forward and VJP side by side -----------------------------------------------

def _nonzero_divisor(b: np.ndarray, a: np.ndarray) -> None:
    if not np.all(b):
        raise DivisionByZeroError(f"division by zero: the divisor has {np.size(b) - np.count_nonzero(b)} "
                                  f"zero entries (dividend shape {np.shape(a)}, divisor shape {np.shape(b)}); the "
                                  "divisor must be non-zero everywhere")


def _div_forward(xs, ctx):
    _nonzero_divisor(xs[1], xs[0])
    return xs[0] / xs[1]


@np.errstate(over="ignore")  # g / b for a tiny b: inf, as Value's 1.0 / b is (no warning)
def _div_vjp(g, xs, out, ctx, needs):
    a, b = xs
    return (g / b if needs[0] else None, -(g * out) / b if needs[1] else None)


@np.errstate(over="ignore")
def _pow_const_forward(xs, n):
    x = xs[0]
    if n < 0 and not np.all(x):
        raise DivisionByZeroError(f"0 ** {n!r} is undefined (0 to a negative power): x has zero entries")
    if not float(n).is_integer() and n == n and np.any(x < 0):  # x ** nan is nan, as for Value
        raise DomainError(f"x ** {n!r} is undefined for x < 0 (a negative base needs an integer exponent); "
                          f"min x = {np.min(x)!r}")
    return x * x if n == 2 else x**n


def _pow_const_vjp(g, xs, out, n, needs):
    if n == 2:
        return ((2.0 * g) * xs[0],)
    if n == 0:
        return (np.zeros_like(g),)
    return (g * _power_derivative(xs[0], n),)


@np.errstate(over="ignore", divide="ignore", invalid="ignore")
def _power_derivative(x, n):
    return n * x ** (n - 1)  # inf at x = 0 for 0 < n < 1, as for Value


@np.errstate(over="ignore")
def _pow_forward(xs, ctx):
    a, b = xs
    if np.any((a == 0) & (b < 0)):
        raise DivisionByZeroError("a ** b is undefined where a = 0 and b < 0 (0 to a negative power)")
    if np.any((a < 0) & (b != np.round(b)) & ~np.isnan(b)):  # a nan exponent gives nan, as for Value
        raise DomainError("a ** b is undefined where a < 0 and b is not an integer")
    return a**b


@np.errstate(over="ignore", divide="ignore", invalid="ignore")
def _pow_vjp(g, xs, out, ctx, needs):
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


def _matmul_vjp(g, xs, out, ctx, needs):
    a, b = xs
    # Treat vectors as matrices (a row for a, a column for b) so one formula covers every case.
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = g[..., None] if b.ndim == 1 else g
    if a.ndim == 1:
        g2 = g2[..., None, :]
    ga = gb = None
    if needs[0]:
        ga = g2 @ np.swapaxes(b2, -1, -2)
        if a.ndim == 1:
            ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
    if needs[1]:
        gb = np.swapaxes(a2, -1, -2) @ g2
        if b.ndim == 1:
            gb = gb.reshape(gb.shape[:-1])
    return ga, gb


def _linear_forward(xs, ctx):
    out = xs[0] @ xs[1].T
    if len(xs) == 3:
        out += xs[2]
    return out


def _linear_vjp(g, xs, out, ctx, needs):
    x = xs[0]
    gx = g @ xs[1] if needs[0] else None
    if x.ndim == 1:
        gw = np.outer(g, x) if needs[1] else None
        gb = g.copy()  # a new array, as every non-aliasing VJP returns
    else:
        gw = g.T @ x if needs[1] else None
        # Σ over the rows as 1ᵀg: BLAS is 2-3x faster here than np.sum along axis 0
        gb = _ones(len(g), g.dtype) @ g if len(xs) == 3 and needs[2] else None
    return gx, gw, gb


_ONES: dict = {}
#: Bytes the cache of ones vectors may hold in all. A vector is kept only if it is at most a quarter of this
#: (4,096 float64): for small batches np.ones costs as much as the product it serves, for large ones the
#: product dominates and a cached vector would only pin memory for the life of the process.
ONES_CACHE_BYTES = 128 * 1024


def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of n ones, kept for reuse when small (see ONES_CACHE_BYTES)."""
    key = (n, dtype)
    ones = _ONES.get(key)
    if ones is None:
        ones = np.ones(n, dtype)
        ones.flags.writeable = False
        if ones.nbytes <= ONES_CACHE_BYTES // 4:
            # list(): one C call, so another thread's insert cannot change the dict while this reads it
            if sum(v.nbytes for v in list(_ONES.values())) + ones.nbytes > ONES_CACHE_BYTES:
                _ONES.clear()  # batch sizes come and go: start again rather than track which is oldest
            _ONES[key] = ones
    return ones


def _expand(g: np.ndarray, axis: tuple | None, keepdims: bool) -> np.ndarray:
    """Put back the reduced axes (as size 1) so ``g`` broadcasts against the reduction's input."""
    return g if keepdims or axis is None else np.expand_dims(g, axis)


def _spread(g: np.ndarray, shape: tuple, axis: tuple | None, keepdims: bool) -> np.ndarray:
    """A new array of ``shape`` holding the reduction's upstream ``g`` along the reduced axes."""
    if axis is None:
        return np.full(shape, g)
    spread = np.empty(shape, dtype=g.dtype)
    spread[...] = _expand(g, axis, keepdims)
    return spread


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
    return (_spread(g / (x.size // max(np.size(out), 1)), x.shape, *ctx),)


def _max_vjp(g, xs, out, ctx, needs):
    axis, keepdims = ctx
    x = xs[0]
    top = _expand(out, axis, keepdims)
    winners = x == top
    nan = np.isnan(top)
    if nan.any():  # a nan maximum: its gradient goes to the nan entries (PyTorch's choice), never 0/0
        winners |= np.isnan(x) & nan
    share = _expand(g, axis, keepdims) / np.sum(winners, axis=axis, keepdims=True)
    return (winners * share,)


def _getitem_vjp(g, xs, out, key, needs):
    grad = np.zeros(xs[0].shape, dtype=np.result_type(g, xs[0]))
    np.add.at(grad, key, g)  # add.at, not assignment: a gathered index may repeat
    return (grad,)


def _log_vjp(g, xs, out, ctx, needs):
    with np.errstate(over="ignore"):  # 1 / 5e-324 is inf, as the derivative of log there (no warning)
        return (g / xs[0],)


@np.errstate(over="ignore")
def _exp_forward(xs, ctx):
    return np.exp(xs[0])


def _log_forward(xs, ctx):
    x = xs[0]
    if np.any(x <= 0):  # log(nan) is nan, as for Value, numpy and PyTorch
        raise DomainError(f"log is defined for x > 0, got {np.count_nonzero(x <= 0)} entries <= 0; "
                          f"min x = {np.nanmin(x)!r}")
    return np.log(x)


@np.errstate(over="ignore")
def _sigmoid_forward(xs, ctx):
    # exp(-x) overflows to inf only for x < -709, where 1 / (1 + inf) = 0 is the exact limit.
    return 1.0 / (1.0 + np.exp(-xs[0]))


def _softplus_forward(xs, ctx):
    x = xs[0]
    # max(x, 0) + log(1 + e^-|x|): exp never sees a positive argument, log1p keeps tiny terms
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _mse_forward(xs, ctx):
    diff = xs[0] - xs[1]
    return np.asarray(np.vdot(diff, diff) / diff.size)


def _mse_vjp(g, xs, out, ctx, needs):
    scaled = (xs[0] - xs[1]) * (g * (2.0 / xs[0].size))  # ∂/∂pred = 2 (pred - target) / n
    return scaled, (-scaled if needs[1] else None)


def _times(fresh: np.ndarray, other: np.ndarray) -> np.ndarray:
    """fresh · other, written into ``fresh`` (a temporary of the same shape): one allocation fewer."""
    fresh *= other
    return fresh


# x - max overflows to -inf for logits beyond float64's span ([1e308, -1e308]): exp(-inf) = 0 is then exact
@np.errstate(over="ignore")
def _softmax_forward(xs, axis):
    x = xs[0]
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))  # exponents <= 0: no overflow
    return e / np.sum(e, axis=axis, keepdims=True)


def _softmax_vjp(g, xs, out, axis, needs):
    return (out * (g - np.sum(g * out, axis=axis, keepdims=True)),)


@np.errstate(over="ignore")  # as _softmax_forward: an entry -inf below the maximum is exact
def _log_softmax_forward(xs, axis):
    x = xs[0]
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))  # the sum is >= 1


def _log_softmax_vjp(g, xs, out, axis, needs):
    return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)


ADD = TensorOp("add", "+", lambda xs, c: xs[0] + xs[1], lambda g, xs, o, c, n: (g, g), broadcasts=True,
               aliases=True)
SUB = TensorOp("sub", "-", lambda xs, c: xs[0] - xs[1],
               lambda g, xs, o, c, n: (g, -g if n[1] else None), broadcasts=True, aliases=True)
MUL = TensorOp("mul", "*", lambda xs, c: xs[0] * xs[1],
               lambda g, xs, o, c, n: (g * xs[1] if n[0] else None, g * xs[0] if n[1] else None), broadcasts=True)
DIV = TensorOp("div", "/", _div_forward, _div_vjp, broadcasts=True)
NEG = TensorOp("neg", "-", lambda xs, c: -xs[0], lambda g, xs, o, c, n: (-g,))
POW_CONST = TensorOp("pow", "^", _pow_const_forward, _pow_const_vjp)
POW = TensorOp("pow", "^", _pow_forward, _pow_vjp, broadcasts=True)
MATMUL = TensorOp("matmul", "@", lambda xs, c: xs[0] @ xs[1], _matmul_vjp, broadcasts=True)
LINEAR = TensorOp("linear", "xWᵀ+b", _linear_forward, _linear_vjp)
SUM = TensorOp("sum", "Σ", _sum_forward, _sum_vjp)
MEAN = TensorOp("mean", "mean", _mean_forward, _mean_vjp)
MAX = TensorOp("max", "max", lambda xs, c: np.max(xs[0], axis=c[0], keepdims=c[1]), _max_vjp)
RESHAPE = TensorOp("reshape", "reshape", lambda xs, shape: xs[0].reshape(shape),
                   lambda g, xs, o, c, n: (g.reshape(xs[0].shape),), aliases=True)
TRANSPOSE = TensorOp("transpose", "ᵀ", lambda xs, axes: xs[0].transpose(axes),
                     lambda g, xs, o, axes, n: (g.transpose(None if axes is None else tuple(np.argsort(axes))),),
                     aliases=True)
GETITEM = TensorOp("getitem", "[]", lambda xs, key: xs[0][key], _getitem_vjp)
EXP = TensorOp("exp", "exp", _exp_forward, lambda g, xs, o, c, n: (g * o,))
LOG = TensorOp("log", "log", _log_forward, _log_vjp)
TANH = TensorOp("tanh", "tanh", lambda xs, c: np.tanh(xs[0]), lambda g, xs, o, c, n: (_times(1.0 - o * o, g),))
SIGMOID = TensorOp("sigmoid", "σ", _sigmoid_forward, lambda g, xs, o, c, n: (_times(_times(1.0 - o, o), g),))
SOFTPLUS = TensorOp("softplus", "softplus", _softplus_forward,
                    lambda g, xs, o, c, n: (_times(_sigmoid_forward(xs, None), g),))
# relu'(x) = sign(relu(x)): 1 where x > 0, 0 elsewhere (0 at the kink), and cheaper than a bool mask
RELU = TensorOp("relu", "ReLU", lambda xs, c: np.maximum(xs[0], 0.0), lambda g, xs, o, c, n: (g * np.sign(o),))
# the derivative is nan at nan (as relu's g · sign(relu(x)) is, and Value's): a nan must not vanish
LEAKY_RELU = TensorOp("leaky_relu", "LeakyReLU", lambda xs, slope: np.where(xs[0] > 0, xs[0], slope * xs[0]),
                      lambda g, xs, o, slope, n: (np.where(xs[0] > 0, g, np.where(xs[0] <= 0, slope * g, xs[0])),))
ABS = TensorOp("abs", "|·|", lambda xs, c: np.abs(xs[0]), lambda g, xs, o, c, n: (g * np.sign(xs[0]),))
SOFTMAX = TensorOp("softmax", "softmax", _softmax_forward, _softmax_vjp)
MSE = TensorOp("mse_loss", "MSE", _mse_forward, _mse_vjp)
LOG_SOFTMAX = TensorOp("log_softmax", "log softmax", _log_softmax_forward, _log_softmax_vjp)

#: Every operation of the Tensor engine, by name.
TENSOR_OPS: dict[str, TensorOp] = {
    op.name if op is not POW_CONST else "pow_const": op
    for op in (ADD, SUB, MUL, DIV, NEG, POW_CONST, POW, MATMUL, LINEAR, SUM, MEAN, MAX, RESHAPE, TRANSPOSE,
               GETITEM, EXP, LOG, TANH, SIGMOID, SOFTPLUS, RELU, LEAKY_RELU, ABS, SOFTMAX, LOG_SOFTMAX, MSE)
}


# -- building nodes ------------------------------------------------------------------------------

def _dtype(dtype: Any) -> type:
    try:
        return _DTYPES[np.dtype(dtype)]
    except (TypeError, KeyError):
        raise ValueError(f"Tensor dtype must be float64 (the default) or float32, got {dtype!r}") from None


def _as_array(data: Any, dtype: type, what: str) -> np.ndarray:
    """``data`` (a number, nested sequence or array of real numbers) as a new array of ``dtype``."""
    if isinstance(data, Tensor):
        data = data.data
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


def _node(data: Any, op: TensorOp, inputs: tuple, ctx: Any = None) -> Tensor:
    """The result of ``op``: recorded (inputs, op, ctx) if grad mode is on and an input requires grad."""
    modes = _get_modes()
    if modes is not _RECORDING and modes[1]:
        check_forward(op, inputs, data)
    t = _new(Tensor)
    t.data = data if type(data) is _ndarray else np.asarray(data)  # numpy gives 0-d results as scalars
    t.grad = None
    t._label = ""
    t._mask = False
    if modes[0]:
        for x in inputs:
            if x.requires_grad:
                t.requires_grad = True
                t._inputs = inputs
                t._op = op
                t._ctx = ctx
                return t
    t.requires_grad = False
    t._inputs = ()
    t._op = None
    t._ctx = None
    return t


def _binary(op: TensorOp, a: Tensor, b: Tensor) -> Tensor:
    """``op`` on two Tensors; numpy's shape errors re-raised naming the op, both shapes and the rule."""
    try:
        data = op.forward((a.data, b.data), None)
    except ValueError:
        a_shape, b_shape = a.data.shape, b.data.shape
        if op is MATMUL:
            if a.data.ndim == 0 or b.data.ndim == 0:
                expected = "both operands at least 1-d (use * to scale by a number)"
            elif a_shape[-1] != b_shape[-2 if b.data.ndim > 1 else 0]:
                expected = (f"the last axis of the left ({a_shape[-1]}) to equal the "
                            f"{'only' if b.data.ndim == 1 else 'second-to-last'} axis of the right "
                            f"({b_shape[-2 if b.data.ndim > 1 else 0]})")
            else:
                expected = f"batch axes that broadcast, got {a_shape[:-2]} and {b_shape[:-2]}"
            raise ValueError(f"Tensor @: cannot multiply shapes {a_shape} and {b_shape}; expected "
                             f"{expected}") from None
        try:
            np.broadcast_shapes(a_shape, b_shape)
        except ValueError:
            symbol = "**" if op is POW else op.symbol
            raise ValueError(f"Tensor {symbol}: shapes {a_shape} and {b_shape} do not broadcast; expected shapes "
                             "equal or 1 in each trailing axis (numpy broadcasting)") from None
        raise  # not a shape error (a DomainError, say): as it is
    return _node(data, op, (a, b))


def _constant(data: np.ndarray) -> Tensor:
    t = _new(Tensor)
    t.data = data
    t.grad = None
    t._label = ""
    t._mask = False
    t.requires_grad = False
    t._inputs = ()
    t._op = None
    t._ctx = None
    return t


def _lift(other: Any, like: Tensor, symbol: str) -> Tensor:
    """``other`` as a Tensor: a Tensor as is; a number or array as a constant of ``like``'s dtype."""
    if isinstance(other, Tensor):
        return other
    if isinstance(other, (numbers.Real, np.ndarray, list, tuple, np.bool_)) and not isinstance(other, str):
        try:
            data = np.asarray(other, dtype=like.data.dtype)
        except (TypeError, ValueError, OverflowError):  # OverflowError: an int beyond float64's range
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


def _single_axis(axis: Any, ndim: int, what: str) -> int:
    if axis is None or isinstance(axis, tuple):
        raise TypeError(f"{what} axis must be an int, got {axis!r}")
    return _axis(axis, ndim, what)[0]


def _index_key(key: Any) -> Any:
    """An index with Tensors replaced by their data (integer labels usually come as arrays) and arrays and
    lists copied: the getitem node keeps its key for backward, and a caller who then changes the index
    array must not send the gradient to other entries. A Tensor made from booleans is a mask, as in numpy."""
    if isinstance(key, Tensor):
        if key._mask:
            return key.data != 0
        if not np.array_equal(key.data, np.round(key.data)):
            raise TypeError(f"a Tensor used as an index must hold whole numbers, got {key!r}")
        return key.data.astype(np.intp)
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


class Tensor:
    """An n-dimensional array node of the computation graph (numpy float64 by default).

    ``Tensor(data, requires_grad=True)`` makes a leaf whose gradient backward
    fills in. Arithmetic with Tensors, numbers and arrays (on either side)
    broadcasts as numpy does and records the inputs, so ``backward()`` can
    apply the chain rule through them.
    """

    # _label behind the property label (checked when set); _mask: made from booleans, so indexing with it
    # selects (numpy's boolean mask) rather than reading its 1.0/0.0 as positions.
    __slots__ = ("data", "grad", "_label", "requires_grad", "_inputs", "_op", "_ctx", "_mask")
    __array_ufunc__ = None  # numpy defers to Tensor's operators, so ndarray + Tensor is a Tensor

    def __init__(self, data: Any, label: str = "", *, requires_grad: bool = False, dtype: Any = None):
        if not isinstance(label, str):
            raise TypeError(f"Tensor label must be a str, got {type(label).__name__}: {label!r:.60}")
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(f"Tensor requires_grad must be True or False, got {requires_grad!r}")
        self.data = _as_array(data, np.float64 if dtype is None else _dtype(dtype), "Tensor")
        self._mask = _is_boolean(data)
        self.grad = None
        self._label = label
        self.requires_grad = bool(requires_grad)
        self._inputs = ()
        self._op = None
        self._ctx = None

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
        return self._inputs

    @property
    def op(self) -> TensorOp | None:
        """The operation that made this node, or None for a leaf."""
        return self._op

    def _fresh_grad(self) -> Any:
        # The first contribution replaces this zero (no zeros array is allocated).
        return _ZERO if self.requires_grad else None

    def backward(self, gradient: Any = None) -> None:
        """Compute d self / d node for every node self depends on, seeded with ``gradient``.

        ``gradient`` defaults to 1 for a one-element Tensor (a loss); any other
        shape needs it given explicitly (an array of self's shape): the vector
        v of the product vᵀJ that backward computes. Leaves accumulate across
        calls, as in PyTorch; set ``grad = None`` (``zero_grad()``) between steps.
        """
        if not self.requires_grad:
            raise ValueError("backward() needs a Tensor that requires grad: no input of this one requires grad "
                             "(make a leaf with Tensor(..., requires_grad=True)) or it was computed under no_grad()")
        if gradient is None:
            if self.data.size != 1:
                raise ValueError(f"backward() without a gradient needs a one-element Tensor (a loss), got shape "
                                 f"{self.shape}; pass gradient=<array of shape {self.shape}> or reduce first "
                                 "(e.g. .sum() or .mean())")
            seed = np.array(1.0, self.data.dtype).reshape(self.data.shape)  # np.ones is 4x slower
        else:
            seed = _as_array(gradient, self.data.dtype.type, "backward gradient")
            if seed.shape != self.data.shape:
                raise ValueError(f"backward gradient must have the Tensor's shape {self.shape}, got {seed.shape}")
        for node in graph.run_backward(self, seed):
            # Every contribution was checked against its input's shape, so sums of them have it too;
            # only numpy's 0-d sums (scalars, not arrays) and nodes no contribution reached need fixing.
            grad = node.grad
            if type(grad) is not _ndarray and grad is not None:
                node.grad = np.zeros_like(node.data) if grad is _ZERO else np.asarray(grad, dtype=node.data.dtype)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``grad = None``)."""
        self.grad = None

    def detach(self) -> Tensor:
        """A new leaf sharing this Tensor's data, not requiring grad."""
        return _constant(self.data)

    def numpy(self) -> np.ndarray:
        """The data array (shared, not copied)."""
        return self.data

    def item(self) -> float:
        """The value of a one-element Tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a one-element Tensor, got shape {self.shape}")
        return float(self.data.reshape(()))

    # -- array attributes ----------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The data's shape."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        """The data's dtype (float64 unless float32 was asked for)."""
        return self.data.dtype

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        # np.asarray(t), matplotlib, ... see the data; numpy ufuncs on a Tensor still raise (__array_ufunc__)
        data = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return data.copy() if copy else data

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d Tensor")
        return len(self.data)

    def __bool__(self) -> bool:
        """The truth of a one-element Tensor, as numpy's (``bool(Tensor([0.0]))`` is False); ValueError for more
        or fewer elements, where truth is ambiguous (use ``.any()``-style reductions on ``.data``)."""
        if self.data.size != 1:
            raise ValueError(f"the truth value of a Tensor of shape {self.shape} ({self.data.size} elements) is "
                             "ambiguous; expected a one-element Tensor (test t.data.any() or t.data.all())")
        return bool(self.data.reshape(()))

    # -- arithmetic (broadcasting) -------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return _binary(ADD, self, _lift(other, self, "+"))

    def __radd__(self, other: Any) -> Tensor:
        return _binary(ADD, _lift(other, self, "+"), self)

    def __sub__(self, other: Any) -> Tensor:
        return _binary(SUB, self, _lift(other, self, "-"))

    def __rsub__(self, other: Any) -> Tensor:
        return _binary(SUB, _lift(other, self, "-"), self)

    def __mul__(self, other: Any) -> Tensor:
        return _binary(MUL, self, _lift(other, self, "*"))

    def __rmul__(self, other: Any) -> Tensor:
        return _binary(MUL, _lift(other, self, "*"), self)

    def __truediv__(self, other: Any) -> Tensor:
        return _binary(DIV, self, _lift(other, self, "/"))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _binary(DIV, _lift(other, self, "/"), self)

    def __neg__(self) -> Tensor:
        return _node(-self.data, NEG, (self,))

    def __pos__(self) -> Tensor:
        return self

    def __pow__(self, exponent: Any) -> Tensor:
        """``self ** n`` for a number n (one input), or ``self ** t`` for a Tensor t (two inputs,
        broadcasting; the exponent gets the gradient a ** b · log a)."""
        if isinstance(exponent, Tensor):
            return _binary(POW, self, exponent)
        if not isinstance(exponent, (numbers.Real, np.bool_)):
            if isinstance(exponent, (np.ndarray, list, tuple)):
                return self ** _lift(exponent, self, "**")
            raise TypeError(f"Tensor ** expects a real number or a Tensor exponent, got {type(exponent).__name__}")
        n = _real(exponent, "Tensor ** exponent")
        return _node(_pow_const_forward((self.data,), n), POW_CONST, (self,), n)

    def __rpow__(self, base: Any) -> Tensor:
        return _lift(base, self, "**") ** self

    def __matmul__(self, other: Any) -> Tensor:
        return _binary(MATMUL, self, _lift(other, self, "@"))

    def __rmatmul__(self, other: Any) -> Tensor:
        return _binary(MATMUL, _lift(other, self, "@"), self)

    def __abs__(self) -> Tensor:
        return _node(np.abs(self.data), ABS, (self,))

    def abs(self) -> Tensor:
        """|x| elementwise; derivative sign(x) (0 at 0)."""
        return _node(np.abs(self.data), ABS, (self,))

    # -- reductions ------------------------------------------------------------
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Σ over ``axis`` (all axes by default); the gradient is the upstream one broadcast back."""
        ctx = (_axis(axis, self.data.ndim, "sum"), _keepdims(keepdims, "sum"))
        return _node(_sum_forward((self.data,), ctx), SUM, (self,), ctx)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """The mean over ``axis`` (all axes by default); each element gets upstream / count."""
        ctx = (_axis(axis, self.data.ndim, "mean"), _keepdims(keepdims, "mean"))
        if self.data.size == 0:
            raise ValueError("mean of an empty Tensor is undefined")
        return _node(_mean_forward((self.data,), ctx), MEAN, (self,), ctx)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """The maximum over ``axis``; the gradient goes to the maxima, shared equally between ties."""
        ctx = (_axis(axis, self.data.ndim, "max"), _keepdims(keepdims, "max"))
        if self.data.size == 0:
            raise ValueError("max of an empty Tensor is undefined")
        return _node(np.max(self.data, axis=ctx[0], keepdims=ctx[1]), MAX, (self,), ctx)

    # -- shape ------------------------------------------------------------------
    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """The same elements in a new shape (``t.reshape(2, 3)`` or ``t.reshape((2, 3))``; -1 allowed)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            data = self.data.reshape(shape)
        except (TypeError, ValueError) as error:
            raise ValueError(f"cannot reshape a Tensor of shape {self.shape} to {shape}: {error}") from None
        return _node(data, RESHAPE, (self,), data.shape)

    def transpose(self, *axes: int) -> Tensor:
        """Axes permuted (reversed by default, as numpy)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if axes:
            if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
                raise TypeError(f"transpose axes must be ints (a permutation of the {self.data.ndim} axes), "
                                f"got {axes!r}")
            if sorted(int(a) % max(self.data.ndim, 1) for a in axes) != list(range(self.data.ndim)):
                raise ValueError(f"transpose axes {axes} are not a permutation of the {self.data.ndim} axes")
            axes = tuple(int(a) % self.data.ndim for a in axes)
        ctx = axes or None
        return _node(self.data.transpose(ctx), TRANSPOSE, (self,), ctx)

    @property
    def T(self) -> Tensor:
        """The transpose (axes reversed)."""
        return _node(self.data.transpose(), TRANSPOSE, (self,), None)

    def __getitem__(self, key: Any) -> Tensor:
        """numpy indexing: slices, integers, and gathering by integer arrays (``t[np.arange(n), labels]``).

        An index out of range raises ``TensorIndexError`` (an ``IndexError`` as in numpy, and a ``ValueError``);
        an index of the wrong kind (a string, a float, a float array) raises ``TypeError``.
        """
        key = _index_key(key)
        try:
            data = self.data[key]
        except (IndexError, ValueError) as error:  # ValueError: a ragged list as the index
            if isinstance(error, IndexError) and ("out of bounds" in str(error) or isinstance(key, (int, np.integer))):
                raise TensorIndexError(f"Tensor index {key!r} is out of range for shape {self.shape}; expected "
                                       "indices within it") from None
            raise TypeError(f"a Tensor index must be ints, slices, None, ... or integer/boolean arrays (numpy "
                            f"indexing), got {type(key).__name__}: {key!r}") from None
        return _node(data, GETITEM, (self,), key)

    # -- elementwise functions ----------------------------------------------------
    def exp(self) -> Tensor:
        """e ** x (inf beyond ~709.78, without a warning)."""
        return _node(_exp_forward((self.data,), None), EXP, (self,))

    def log(self) -> Tensor:
        """Natural logarithm; ``DomainError`` if any x <= 0."""
        return _node(_log_forward((self.data,), None), LOG, (self,))

    def tanh(self) -> Tensor:
        """tanh x; derivative 1 - tanh² x."""
        return _node(np.tanh(self.data), TANH, (self,))

    def sigmoid(self) -> Tensor:
        """σ(x) = 1 / (1 + e^-x), without overflow warnings; derivative σ(1 - σ)."""
        return _node(_sigmoid_forward((self.data,), None), SIGMOID, (self,))

    def softplus(self) -> Tensor:
        """log(1 + eˣ) as max(x, 0) + log(1 + e^-|x|) (no overflow, no warning); derivative σ(x)."""
        return _node(_softplus_forward((self.data,), None), SOFTPLUS, (self,))

    def relu(self) -> Tensor:
        """max(x, 0); derivative 1 for x > 0, else 0 (0 at the kink)."""
        return _node(np.maximum(self.data, 0.0), RELU, (self,))

    def leaky_relu(self, slope: float = 0.01) -> Tensor:
        """x for x > 0, else slope·x; derivative 1 for x > 0, else slope (slope at the kink)."""
        if not isinstance(slope, numbers.Real) or isinstance(slope, bool):
            raise TypeError(f"leaky_relu slope must be a real number, got {type(slope).__name__}: {slope!r}")
        slope = _real(slope, "leaky_relu slope")
        return _node(LEAKY_RELU.forward((self.data,), slope), LEAKY_RELU, (self,), slope)

    def softmax(self, axis: int = -1) -> Tensor:
        """exp(x) / Σ exp(x) along ``axis``, computed as exp(x - max) so it never overflows."""
        ctx = _single_axis(axis, self.data.ndim, "softmax")
        return _node(_softmax_forward((self.data,), ctx), SOFTMAX, (self,), ctx)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """x - log Σ exp(x) along ``axis`` by the shifted log-sum-exp (no overflow, no log 0)."""
        ctx = _single_axis(axis, self.data.ndim, "log_softmax")
        return _node(_log_softmax_forward((self.data,), ctx), LOG_SOFTMAX, (self,), ctx)

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, separator=", ", threshold=20, edgeitems=2)
        extras = (f", label={self.label!r}" if self.label else "") + (", requires_grad=True" if self.requires_grad
                                                                     else "")
        extras += f", dtype={self.data.dtype}" if self.data.dtype != np.float64 else ""
        return f"Tensor({body}{extras})"


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
    xd, w = x.data, weight.data
    if w.ndim != 2 or xd.ndim > 2 or xd.shape[-1:] != w.shape[1:]:
        raise ValueError(f"linear needs x of shape (n, n_in) or (n_in,) and a 2-d weight (n_out, n_in); "
                         f"got x {x.shape} and weight {weight.shape}")
    if bias is None:
        return _node(xd @ w.T, LINEAR, (x, weight))
    if type(bias) is not Tensor:
        bias = _lift(bias, weight, "linear bias")
    if bias.data.shape != w.shape[:1]:
        raise ValueError(f"linear bias must have shape ({w.shape[0]},) for a weight of shape {weight.shape}, "
                         f"got {bias.shape}")
    out = xd @ w.T
    out += bias.data
    return _node(out, LINEAR, (x, weight, bias))


def mse_loss(pred: Tensor, target: Tensor | np.ndarray) -> Tensor:
    """mean((pred - target)²) over every element, as ONE node (PyTorch's ``mse_loss``).

    ``target`` must have ``pred``'s shape: a silent broadcast of (n, 1) against
    (n,) would average n² differences. VJPs: ±2 (pred - target) / n.
    """
    if not isinstance(pred, Tensor):
        raise TypeError(f"mse_loss pred must be a Tensor, got {type(pred).__name__}")
    target = _lift(target, pred, "mse_loss target")
    if target.data.shape != pred.data.shape:
        raise ValueError(f"mse_loss target must have the predictions' shape {pred.shape}, got {target.shape} "
                         "(reshape it first)")
    if pred.data.size == 0:
        raise ValueError("mse_loss of empty predictions is undefined")
    return _node(_mse_forward((pred.data, target.data), None), MSE, (pred, target))
