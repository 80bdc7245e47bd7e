"""Gradient checking by central finite differences, in float64.

``gradcheck(f, inputs)`` compares the engine's gradient of ``f(*inputs)`` with

    n_i = (f(x + h e_i) - f(x - h e_i)) / 2h

using PyTorch's criterion |a - n| <= atol + rtol * |n|. When an input's
gradient is off, it walks the graph and checks every operation *alone*: each
node's local derivatives against a finite difference of that node's own
formula, so the message names the operation whose derivative is wrong.

Once the gradients agree, gradcheck checks the engine itself, as PyTorch's does:
backward run twice on the same graph must give the same gradients (an operation
that keeps state between calls fails: "not reentrant"), and seeding backward
with 2 instead of 1 must give exactly twice the gradients (backward is linear
in the upstream gradient). A float32 Tensor input gives a
``GradcheckPrecisionWarning``: the check is meant for float64.
"""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import graph
from .graph import check_node, topological_order
from .tensor import Tensor
from .value import Value


class GradcheckError(AssertionError):
    """gradcheck found a gradient that disagrees with finite differences.

    ``input_mismatches`` and ``node_mismatches`` hold the details.
    """

    def __init__(self, message: str, input_mismatches: list, node_mismatches: list):
        super().__init__(message)
        self.input_mismatches = input_mismatches
        self.node_mismatches = node_mismatches


class GradcheckPrecisionWarning(UserWarning):
    """gradcheck was given a float32 input; central differences need float64 to mean anything."""


#: The upstream gradient of the linearity check: a power of two, so a linear backward doubles exactly.
LINEARITY_SEED = 2.0


@dataclass(frozen=True)
class Mismatch:
    """One derivative that disagrees: where, the engine's value, the finite difference."""

    where: str
    analytic: float
    numeric: float
    allowed: float

    @property
    def error(self) -> float:
        return abs(self.analytic - self.numeric)

    def __str__(self) -> str:
        return (f"{self.where}: engine {self.analytic:.10g}, finite difference {self.numeric:.10g}, "
                f"|difference| {self.error:.3g} > allowed {self.allowed:.3g}")


def _check_inputs(f: Callable, inputs: Any, eps: float, atol: float, rtol: float, kind: type = Value,
                  who: str = "gradcheck") -> list:
    """``inputs`` (one node of type ``kind`` or a sequence of them) as a list; ``f`` and the tolerances checked;
    errors name ``who`` (the function the user called)."""
    name = kind.__name__
    if not callable(f):
        raise TypeError(f"{who} expects a callable f, got {type(f).__name__}")
    if isinstance(inputs, kind):
        inputs = [inputs]
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise TypeError(f"{who} expects inputs to be a {name} or a sequence of {name}s, got "
                        f"{type(inputs).__name__}")
    try:
        inputs = list(inputs)
    except TypeError:  # e.g. a 0-d array, iterable in name only
        raise TypeError(f"{who} expects inputs to be a sequence, got {type(inputs).__name__}: "
                        f"{inputs!r:.60}") from None
    if not inputs:
        raise ValueError(f"{who} inputs must hold at least one {name}, got an empty sequence")
    for i, x in enumerate(inputs):
        if not isinstance(x, kind):
            raise TypeError(f"{who} inputs must all be {name}s (one engine per check), input {i} is "
                            f"{type(x).__name__}")
        if x._op is not None:  # a computed node: its data cannot be perturbed (and is not what f takes)
            raise TypeError(f"{who} inputs must be leaves (Values or Tensors you made), input {i} was computed by "
                            f"{x._op.name}")
    _check_tolerances(eps, atol, rtol, who)
    return inputs


def _check_tolerances(eps: float, atol: float, rtol: float, who: str = "gradcheck") -> None:
    for name, v in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        # numpy's scalars too (np.float32); float() of an int too large is inf, which the range refuses
        try:
            finite = isinstance(v, numbers.Real) and not isinstance(v, bool) and 0 <= float(v) <= sys.float_info.max
        except OverflowError:
            finite = False
        if not finite:
            raise ValueError(f"{who} {name} must be a finite non-negative number, got {v!r}")
    if eps == 0:
        raise ValueError(f"{who} eps must be > 0, got {eps!r}")


def _check_nondet_tol(nondet_tol: float) -> None:
    if not isinstance(nondet_tol, (int, float)) or isinstance(nondet_tol, bool) or \
            not 0 <= nondet_tol <= sys.float_info.max:
        raise ValueError(f"gradcheck nondet_tol must be a finite non-negative number, got {nondet_tol!r}")


def _scalar_output(f: Callable, inputs: list[Value]) -> Value:
    out = f(*inputs)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck expects f to return a Value, got {type(out).__name__}")
    return out


def numerical_gradient(f: Callable[..., Value], inputs: Sequence[Value], eps: float = 1e-6) -> list[float]:
    """Central differences (f(x + h eᵢ) - f(x - h eᵢ)) / 2h for each input, with h = eps."""
    inputs = _check_inputs(f, inputs, eps, 0.0, 0.0, who="numerical_gradient")
    result = []
    with graph.no_grad():
        for i, x in enumerate(inputs):
            original, stamp = x.data, x._stamp
            try:
                values = []
                for sign in (1, -1):
                    x.data = original + sign * eps
                    try:
                        values.append(_scalar_output(f, inputs).data)
                    except (graph.DomainError, ZeroDivisionError) as error:  # a user op's own 1 / 0 too
                        raise _stepped_off(error, f"{_name(x, i)} = {original:.6g} {'+-'[sign < 0]} {eps:g}") \
                            from None
            finally:
                x.data = original
                # the same number as before: a graph built from x before the check is still valid (setting data
                # stamps the leaf, and backward would refuse it as changed)
                x._stamp = stamp
            result.append((values[0] - values[1]) / (2 * eps))
    return result


def _stepped_off(error: Exception, where: str) -> Exception:
    """``error``, raised by f at one side of a central difference, with what the step did."""
    return type(error)(f"evaluating f at {where} for a central difference raised {type(error).__name__}: {error}; "
                       "a central difference needs f defined on both sides of the point: use a smaller eps "
                       "(below the distance to the edge of f's domain) or check at a point farther from it")


def _name(node: Value, index: int) -> str:
    label = f" '{node.label}'" if node.label else ""
    return f"input {index}{label}"


def _node_name(node: Value, position: int) -> str:
    label = f" '{node.label}'" if node.label else ""
    args = ", ".join(f"{x.label or 'x'}={x.data:.6g}" for x in node._inputs)
    return f"node #{position} {node._op.name}{label} ({args})"


def local_mismatches(root: Value, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> list[Mismatch]:
    """Every operation in ``root``'s graph whose local derivative ∂out/∂inᵢ disagrees
    with a central difference of that operation alone, in forward order (Tensor
    ops by a random projection uᵀJv of their VJP)."""
    if isinstance(root, Tensor):
        _check_tolerances(eps, atol, rtol, "local_mismatches")
        return _tensor_local_mismatches(root, eps, atol, rtol)
    check_node(root, "local_mismatches", "the root node of a graph (a Value)")
    _check_tolerances(eps, atol, rtol, "local_mismatches")
    found = []
    for position, node in enumerate(topological_order(root)):
        op = node._op
        if op is None:
            continue
        xs = [x.data for x in node._inputs]
        analytic = op.local_derivatives(node)  # refuses a derivative list whose length is not the inputs'
        for i in range(len(xs)):
            try:
                plus = op.forward(xs[:i] + [xs[i] + eps] + xs[i + 1:], node._ctx)
                minus = op.forward(xs[:i] + [xs[i] - eps] + xs[i + 1:], node._ctx)
            except ValueError:
                continue  # the node sits at the edge of its domain: no central difference
            numeric = (plus - minus) / (2 * eps)
            allowed = atol + rtol * abs(numeric)
            if not abs(analytic[i] - numeric) <= allowed and math.isfinite(numeric):
                found.append(Mismatch(f"{_node_name(node, position)}, ∂out/∂in{i}", analytic[i], numeric, allowed))
    return found


def gradcheck(f: Callable[..., Value], inputs: Sequence[Value], *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, nondet_tol: float = 0.0) -> bool:
    """Check the engine's gradient of ``f(*inputs)`` against central differences.

    Passes when |a - n| <= atol + rtol·|n| for every input. On failure raises
    ``GradcheckError`` (or returns False if ``raise_exception=False``) naming
    each input that is off and each operation whose local derivative is wrong.
    Then it checks that backward is reentrant (a second pass on the same graph
    gives the same gradients, within ``nondet_tol``) and linear (seed 2 gives
    twice the gradients of seed 1). The inputs' ``grad`` is left as it was.
    Given Tensors, this is ``tensor_gradcheck``.
    """
    if isinstance(inputs, Tensor) or (isinstance(inputs, (list, tuple)) and inputs
                                      and all(isinstance(x, Tensor) for x in inputs)):
        return tensor_gradcheck(f, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception,
                                nondet_tol=nondet_tol)
    inputs = _check_inputs(f, inputs, eps, atol, rtol)
    _check_nondet_tol(nondet_tol)
    saved = [(x, x.grad) for x in inputs]
    passes = []  # the inputs' gradients after backward seeded 1, again 1, then LINEARITY_SEED
    try:
        out = _scalar_output(f, inputs)
        saved = _grads_of(out) + saved  # a weight f closes over is a leaf of out's graph too: keep its grad
        for seed in (1.0, 1.0, LINEARITY_SEED):
            for x in inputs:
                x.grad = 0.0
            graph.run_backward(out, seed, out._stamp)  # the driver out.backward() calls, with the seed given
            passes.append([x.grad for x in inputs])
    finally:
        _restore(saved)
    analytic = passes[0]
    numeric = numerical_gradient(f, inputs, eps)

    bad = []
    for i, (x, a, n) in enumerate(zip(inputs, analytic, numeric)):
        allowed = atol + rtol * abs(n)
        if not abs(a - n) <= allowed:
            bad.append(Mismatch(_name(x, i), a, n, allowed))
    if bad:
        return _report(bad, local_mismatches(out, eps, atol, rtol), raise_exception)
    names = [_name(x, i) for i, x in enumerate(inputs)]
    return _self_check([np.array(p) for p in passes], names, nondet_tol, raise_exception)


def _grads_of(out: Any) -> list[tuple[Any, Any]]:
    """(node, grad) for every node of ``out``'s graph: gradcheck's backward passes must leave them all as
    they were (Value: 0.0 stays 0.0; Tensor: None stays None), not only the inputs'."""
    return [(node, node.grad) for node in topological_order(out)]


def _restore(saved: list[tuple[Any, Any]]) -> None:
    for node, grad in saved:
        node.grad = grad


def _self_check(passes: list, names: list[str], nondet_tol: float, raise_exception: bool) -> bool:
    """Reentrancy (``passes[1]`` equals ``passes[0]`` within ``nondet_tol``) and linearity
    (``passes[2]`` is ``LINEARITY_SEED`` times ``passes[0]``), for gradients that already match
    finite differences. Each pass is one array per input (one value per input for Values)."""
    first, again, scaled = passes
    for title, other, expected, explain in (
        ("backward is not reentrant: running it twice on the same graph gave different gradients",
         again, first, "an operation's derivative keeps state between backward calls, or the driver does not "
         "restart intermediate gradients at zero"),
        (f"backward is not linear in the upstream gradient: seeding it with {LINEARITY_SEED:g} instead of 1 did not "
         f"multiply the gradients by {LINEARITY_SEED:g}",
         scaled, [LINEARITY_SEED * g for g in first], "an operation's VJP does not multiply the upstream gradient "
         "by its local derivative (it adds to it, squares it, or ignores it)"),
    ):
        bad: list[Mismatch] = []
        for name, a, n in zip(names, other, expected):
            a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
            # A linear backward doubles exactly; the tolerance only covers subnormal results.
            allowed = nondet_tol + 4 * np.finfo(np.float64).eps * np.abs(n) + np.finfo(np.float64).tiny
            with np.errstate(invalid="ignore"):  # inf - inf where doubling overflowed: equal, so fine
                wrong = ~((a == n) | (np.abs(a - n) <= allowed))
            for index in np.argwhere(wrong):
                index = tuple(int(k) for k in index)
                where = f"{name}{list(index) if index else ''}"
                bad.append(Mismatch(where, float(a[index]), float(n[index]), float(allowed[index])))
        if bad:
            lines = [f"gradcheck failed: {title} (the gradients themselves agree with finite differences)"]
            lines += [f"  {m.where}: got {m.analytic!r}, expected {m.numeric!r}" for m in bad[:20]]
            lines.append(f"Likely cause: {explain}.")
            if raise_exception:
                raise GradcheckError("\n".join(lines), bad, [])
            return False
    return True


def _report(bad: list[Mismatch], nodes: list[Mismatch], raise_exception: bool, shown: int = 20,
            header: str = "gradcheck failed: the engine's gradient disagrees with finite differences") -> bool:
    """Raise GradcheckError (or return False) listing the mismatches and the operations that are off."""
    lines = [header]
    lines += [f"  {m}" for m in bad[:shown]]
    if len(bad) > shown:
        lines.append(f"  ... and {len(bad) - shown} more")
    if nodes:
        lines.append("Operations whose local derivative disagrees with a finite difference of the operation alone:")
        lines += [f"  {m}" for m in nodes]
    else:
        lines.append("Every operation's local derivative agrees on its own: look at how f combines them "
                     "(or at a kink or an overflow near these inputs).")
    if raise_exception:
        raise GradcheckError("\n".join(lines), bad, nodes)
    return False


# -- Tensors -----------------------------------------------------------------------------------------
# The same criterion, Mismatch and report as for Values. A Tensor function has a Jacobian, not a
# gradient: small ones are compared entry by entry, large ones through random projections uᵀJv.

def _tensor_inputs(f: Callable, inputs: Tensor | Sequence[Tensor], eps: float, atol: float,
                   rtol: float, who: str = "gradcheck") -> list[Tensor]:
    inputs = _check_inputs(f, inputs, eps, atol, rtol, kind=Tensor, who=who)
    for i, x in enumerate(inputs):
        if x.data.dtype != np.float64:
            warnings.warn(f"gradcheck expects float64 inputs, input {i} is {x.data.dtype}: its backward runs in "
                          f"{x.data.dtype}, so the check may fail (or pass) for reasons of precision alone; "
                          "build the Tensors with the default dtype (float64)", GradcheckPrecisionWarning,
                          stacklevel=3)
    return inputs


def _tensor_output(f: Callable, inputs: list[Tensor]) -> Tensor:
    out = f(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck expects f to return a Tensor, got {type(out).__name__}")
    return out


def _vjp(f: Callable, inputs: list[Tensor], u: np.ndarray | None) -> tuple[Tensor, list[np.ndarray]]:
    """f(*inputs) and uᵀJ for each input (zeros where f does not depend on it); grads left as they were."""
    saved = [(x.grad, x.requires_grad) for x in inputs]
    others: list = []
    try:
        for x in inputs:
            x.grad, x.requires_grad = None, True
        out = _tensor_output(f, inputs)
        if u is not None and out.requires_grad:
            others = _grads_of(out)  # leaves f closes over keep their grads
            out.backward(u)
        grads = [np.zeros_like(x.data) if x.grad is None else np.array(x.grad) for x in inputs]
    finally:
        _restore(others)
        for x, (grad, requires_grad) in zip(inputs, saved):
            x.grad, x.requires_grad = grad, requires_grad
    return out, grads


def _central_difference(f: Callable, inputs: list[Tensor], directions: list[np.ndarray], eps: float) -> np.ndarray:
    """(f(x + h v) - f(x - h v)) / 2h for the direction v = ``directions`` (one array per input)."""
    originals = [x.data for x in inputs]
    stamps = [x._stamp for x in inputs]
    try:
        with graph.no_grad():
            values = []
            for sign in (1, -1):
                for x, x0, v in zip(inputs, originals, directions):
                    x.data = x0 + (sign * eps) * v
                try:
                    values.append(np.array(_tensor_output(f, inputs).data, dtype=np.float64))
                except graph.DomainError as error:
                    raise _stepped_off(error, f"the inputs {'+-'[sign < 0]} {eps:g} × a direction of unit "
                                              "length") from None
            plus, minus = values
    finally:
        for x, x0, stamp in zip(inputs, originals, stamps):
            x.data = x0
            x._stamp = stamp  # the same array as before: a graph built from x before the check is still valid
    return (plus - minus) / (2 * eps)


def numerical_jacobian(f: Callable[..., Tensor], inputs: Tensor | Sequence[Tensor],
                       eps: float = 1e-6) -> list[np.ndarray]:
    """∂f/∂xᵢ by central differences for each input, each of shape ``out.shape + xᵢ.shape``.

    For a one-element output this is the gradient, reshaped: ``J[i][()]`` or ``J[i].reshape(xᵢ.shape)``.
    """
    return _numerical_jacobian(f, _tensor_inputs(f, inputs, eps, 0.0, 0.0, "numerical_jacobian"), eps)


def _numerical_jacobian(f: Callable, inputs: list[Tensor], eps: float) -> list[np.ndarray]:
    with graph.no_grad():
        out_shape = np.shape(_tensor_output(f, inputs).data)
    jacobians = []
    for i, x in enumerate(inputs):
        jac = np.empty(out_shape + x.data.shape)
        directions = [np.zeros_like(y.data) for y in inputs]
        for index in np.ndindex(x.data.shape):
            directions[i][index] = 1.0
            jac[(...,) + index] = _central_difference(f, inputs, directions, eps)
            directions[i][index] = 0.0
        jacobians.append(jac)
    return jacobians


def _tensor_name(x: Tensor, i: int) -> str:
    label = f" '{x.label}'" if x.label else ""
    return f"input {i}{label} {tuple(x.data.shape)}"


def _compare(bad: list[Mismatch], name: Callable[[tuple], str], analytic: np.ndarray, numeric: np.ndarray,
             atol: float, rtol: float) -> None:
    """Append a Mismatch for every entry where |a - n| <= atol + rtol·|n| fails (nan fails too)."""
    allowed = atol + rtol * np.abs(numeric)
    for index in np.argwhere(~(np.abs(analytic - numeric) <= allowed)):
        index = tuple(int(k) for k in index)
        bad.append(Mismatch(name(index), float(analytic[index]), float(numeric[index]), float(allowed[index])))


def tensor_gradcheck(f: Callable[..., Tensor], inputs: Tensor | Sequence[Tensor], *, eps: float = 1e-6,
                     atol: float = 1e-5, rtol: float = 1e-3, max_full: int = 256, projections: int = 6,
                     seed: int = 0, raise_exception: bool = True, nondet_tol: float = 0.0) -> bool:
    """Check the Tensor engine's derivatives of ``f(*inputs)`` against central differences in float64.

    Small problems (at most ``max_full`` input elements in all and ``max_full``
    output elements) compare the whole Jacobian entry by entry: one backward
    pass per output element against one central difference per input element.
    Larger ones compare ``projections`` random products uᵀJv (u over the
    output, v a unit direction over all inputs): backward seeded with u, dotted
    with v, against the directional difference (f(x + hv) - f(x - hv)) / 2h.
    Passes when |a - n| <= atol + rtol·|n| everywhere; on failure raises
    ``GradcheckError`` (or returns False) naming the entries and the operations
    whose own VJP disagrees. Then, as ``gradcheck``, it checks reentrancy and
    linearity (one random upstream u: backward with u twice, then with 2u).
    The inputs' ``grad`` and ``requires_grad`` are left as they were.
    """
    inputs = _tensor_inputs(f, inputs, eps, atol, rtol)
    _check_nondet_tol(nondet_tol)
    for name, v, least in (("max_full", max_full, 0), ("projections", projections, 1)):
        if not isinstance(v, int) or isinstance(v, bool) or v < least:
            raise ValueError(f"tensor_gradcheck {name} must be an int >= {least}, got {v!r}")
    with graph.no_grad():
        out_shape = np.shape(_tensor_output(f, inputs).data)
    out_size = int(np.prod(out_shape))
    bad: list[Mismatch] = []
    if sum(x.data.size for x in inputs) <= max_full and out_size <= max_full:
        numeric = _numerical_jacobian(f, inputs, eps)
        rows = [np.empty(out_shape + x.data.shape) for x in inputs]
        for k in np.ndindex(out_shape):
            u = np.zeros(out_shape)
            u[k] = 1.0
            out, grads = _vjp(f, inputs, u)
            for row, grad in zip(rows, grads):
                row[k] = grad
        split = len(out_shape)
        for i, (x, a, n) in enumerate(zip(inputs, rows, numeric)):
            _compare(bad, lambda k, x=x, i=i: f"{_tensor_name(x, i)}: ∂out{list(k[:split])}/∂x{list(k[split:])}",
                     a, n, atol, rtol)
    else:
        rng = np.random.default_rng(seed)
        for p in range(projections):
            u = rng.standard_normal(out_shape)
            directions = [rng.standard_normal(x.data.shape) for x in inputs]
            norm = math.sqrt(sum(float(np.sum(v * v)) for v in directions)) or 1.0
            directions = [v / norm for v in directions]
            out, grads = _vjp(f, inputs, u)
            analytic = np.array(sum(float(np.sum(g * v)) for g, v in zip(grads, directions)))
            numeric_p = np.array(float(np.sum(u * _central_difference(f, inputs, directions, eps))))
            _compare(bad, lambda k, p=p: f"random projection {p}: uᵀJv over all {len(inputs)} inputs",
                     analytic, numeric_p, atol, rtol)
    if bad:
        return _report(bad, local_mismatches(out, eps, atol, rtol), raise_exception)
    u = np.random.default_rng(seed).standard_normal(out_shape)
    passes = _tensor_backward_passes(f, inputs, u)
    if passes is None:  # f does not depend on any input: nothing to check
        return True
    return _self_check(passes, [_tensor_name(x, i) for i, x in enumerate(inputs)], nondet_tol, raise_exception)


def _tensor_backward_passes(f: Callable, inputs: list[Tensor], u: np.ndarray) -> list | None:
    """The inputs' gradients from backward on ONE graph of f seeded u, u again, then LINEARITY_SEED·u."""
    saved = [(x.grad, x.requires_grad) for x in inputs]
    passes = []
    others: list = []
    try:
        for x in inputs:
            x.requires_grad = True
        out = _tensor_output(f, inputs)
        if not out.requires_grad:
            return None
        others = _grads_of(out)
        for scale in (1.0, 1.0, LINEARITY_SEED):
            for x in inputs:
                x.grad = None
            out.backward(scale * u)
            passes.append([np.zeros_like(x.data) if x.grad is None else np.array(x.grad) for x in inputs])
    finally:
        _restore(others)
        for x, (grad, requires_grad) in zip(inputs, saved):
            x.grad, x.requires_grad = grad, requires_grad
    return passes


def _tensor_local_mismatches(root: Tensor, eps: float, atol: float, rtol: float, seed: int = 0) -> list[Mismatch]:
    """Every Tensor op whose own VJP disagrees with a central difference of its forward, by a random uᵀJv."""
    rng = np.random.default_rng(seed)
    found = []
    for position, node in enumerate(topological_order(root)):
        op = node._op
        if op is None:
            continue
        xs = [np.asarray(x.data, dtype=np.float64) for x in node._inputs]
        u = rng.standard_normal(np.shape(node.data))
        try:
            analytic = op.input_gradients(u, xs, node._ctx)
        except (ValueError, ArithmeticError):
            continue
        for i, x in enumerate(xs):
            v = rng.standard_normal(x.shape)
            v /= np.sqrt(np.sum(v * v)) or 1.0
            try:
                plus = op.forward(tuple(xs[:i] + [x + eps * v] + xs[i + 1:]), node._ctx)
                minus = op.forward(tuple(xs[:i] + [x - eps * v] + xs[i + 1:]), node._ctx)
            except (ValueError, ArithmeticError):
                continue  # at the edge of the op's domain: no central difference
            numeric = float(np.sum(u * (plus - minus))) / (2 * eps)
            a = float(np.sum(analytic[i] * v))
            allowed = atol + rtol * abs(numeric)
            if not abs(a - numeric) <= allowed and math.isfinite(numeric):
                shapes = ", ".join(str(tuple(np.shape(y))) for y in xs)
                found.append(Mismatch(f"node #{position} {op.name} (input shapes {shapes}), ∂out/∂in{i} "
                                      "projected", a, numeric, allowed))
    return found


# -- second derivatives ----------------------------------------------------------------------------------

def gradgradcheck(f: Callable[..., Any], inputs: Any, *, eps: float = 1e-5, atol: float = 1e-6,
                  rtol: float = 1e-4, raise_exception: bool = True) -> bool:
    """Check the engine's second derivatives of ``f`` against central differences of its gradient.

    ``inputs`` as for ``autograd.hessian``: numbers / Values (``f(*values)`` returns a Value) or one Tensor /
    array (``f(x)`` returns a one-element Tensor). The Hessian from the recorded backward pass is compared with
    (∇f(x + h eᵢ) - ∇f(x - h eᵢ)) / 2h, the first-order gradient computed on numbers. On a mismatch each
    operation of the graph is checked alone (its recorded derivative rule against central differences of its
    numeric rule), so the ``GradcheckError`` names the operation whose second derivative is wrong.
    """
    from .higher import _leaves, grad, hessian

    _check_tolerances(eps, atol, rtol, "gradgradcheck")
    leaves, engine = _leaves(inputs, "gradgradcheck")
    analytic = hessian(f, inputs if engine == "tensor" else [x.data for x in leaves])
    point = leaves[0].data if engine == "tensor" else np.array([x.data for x in leaves])

    def gradient_at(p: np.ndarray) -> np.ndarray:
        if engine == "tensor":
            x = Tensor(p, requires_grad=True)
            return np.asarray(grad(f(x), x)).ravel()
        xs = [Value(v) for v in p]
        return np.array(grad(f(*xs), xs))

    size = point.size
    numeric = np.empty((size, size))
    for k in range(size):
        step = np.zeros(size)
        step[k] = eps
        numeric[k] = (gradient_at(point + step.reshape(point.shape)) -
                      gradient_at(point - step.reshape(point.shape))) / (2 * eps)
    flat = analytic.reshape(size, size)
    bad = []
    for (i, j), a in np.ndenumerate(flat):
        n = numeric[i, j]
        allowed = atol + rtol * abs(n)
        if not abs(a - n) <= allowed:
            bad.append(Mismatch(f"∂²f/∂x{i}∂x{j}", float(a), float(n), allowed))
    if not bad:
        return True
    root = f(*leaves) if engine == "value" else f(leaves[0])
    return _report(bad, second_order_mismatches(root, eps, atol, rtol), raise_exception,
                   header="gradgradcheck failed: the engine's second derivatives disagree with finite differences "
                          "of its gradient")


def second_order_mismatches(root: Any, eps: float = 1e-5, atol: float = 1e-6, rtol: float = 1e-4) -> list[Mismatch]:
    """Each operation of ``root``'s graph checked alone: the gradient of r · (its local derivatives / VJP),
    recorded with create_graph, against central differences of the same sum computed on numbers (r fixed
    random weights). One mismatch per operation (the first node of it that disagrees)."""
    from .higher import grad

    check_node(root, "second_order_mismatches")
    rng = np.random.default_rng(0)
    found: dict = {}
    for node in topological_order(root):
        op = node._op
        if op is None or op in found or not op.higher_order:
            continue
        xs = [np.array(x.data, dtype=np.float64) for x in node._inputs]
        if type(node) is Value:
            weights = rng.uniform(0.5, 1.5, len(xs))

            def numeric_sum(data, op=op, node=node, weights=weights):
                values = [float(d) for d in data]
                local = op.derivatives(values, op.forward(values, node._ctx), node._ctx)
                return float(np.dot(weights, [float(d) for d in local]))

            leaves = [Value(float(x)) for x in xs]
            out = op(*leaves, ctx=node._ctx)
            local = op.derivatives(list(out._inputs), out, node._ctx)
            total = Value(0.0)
            for w, d in zip(weights, local):
                total = total + d * float(w)
            analytic = [np.array(g) for g in grad(total, leaves)]
        else:
            from .tensor import _apply, _constant

            g = rng.uniform(0.5, 1.5, np.shape(node.data))
            weights = [rng.uniform(0.5, 1.5, x.shape) for x in xs]

            def numeric_sum(data, op=op, node=node, g=g, weights=weights):
                cs = op.input_gradients(g, data, node._ctx)
                return float(sum(np.vdot(c, w) for c, w in zip(cs, weights)))

            leaves = [Tensor(x, requires_grad=True) for x in xs]
            out = _apply(op, tuple(leaves), node._ctx)
            cs = op.contributions_for(out, _constant(g), True)
            total = sum((c * w).sum() for c, w in zip(cs, weights) if c is not None)
            if not isinstance(total, Tensor) or not total.requires_grad:
                # the recorded VJP does not depend on the inputs: it claims zero second derivatives, which is right
                # for add or reshape and wrong for a VJP computed on numbers behind the engine's back: check it
                analytic = [np.zeros(x.shape) for x in xs]
            else:
                analytic = [np.asarray(a) for a in grad(total, leaves)]
        for i, x in enumerate(xs):
            for k in range(x.size):
                plus, minus = [d.copy() for d in xs], [d.copy() for d in xs]
                plus[i].flat[k] += eps
                minus[i].flat[k] -= eps
                n = (numeric_sum(plus) - numeric_sum(minus)) / (2 * eps)
                a = float(np.ravel(analytic[i])[k])
                allowed = atol + rtol * abs(n)
                if not abs(a - n) <= allowed and op not in found:
                    found[op] = Mismatch(f"operation {op.name!r} (second derivative, input {i})", a, n, allowed)
    return list(found.values())
