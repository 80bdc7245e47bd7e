"""Gradient checking by central finite differences, in float64.

``gradcheck(f, inputs)`` compares the engine's gradient of ``f(*inputs)`` with

    n_i = (f(x + h e_i) - f(x - h e_i)) / 2h

using PyTorch's criterion |a - n| <= atol + rtol * |n|. When an input's
gradient is off, it walks the graph and checks every operation *alone*: each
node's local derivatives against a finite difference of that node's own
formula, so the message names the operation whose derivative is wrong.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from . import graph
from .graph import topological_order
from .value import Value


class GradcheckError(AssertionError):
    """gradcheck found a gradient that disagrees with finite differences.

    ``input_mismatches`` and ``node_mismatches`` hold the details.
    """

    def __init__(self, message: str, input_mismatches: list, node_mismatches: list):
        super().__init__(message)
        self.input_mismatches = input_mismatches
        self.node_mismatches = node_mismatches


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


def _check_inputs(f: Callable, inputs: Sequence[Value], eps: float, atol: float, rtol: float) -> list[Value]:
    if not callable(f):
        raise TypeError(f"gradcheck expects a callable f, got {type(f).__name__}")
    if isinstance(inputs, Value):
        inputs = [inputs]
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise TypeError(f"gradcheck expects inputs to be a Value or a sequence of Values, got {type(inputs).__name__}")
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"gradcheck inputs must be Values, input {i} is {type(x).__name__}")
    _check_tolerances(eps, atol, rtol)
    return inputs


def _check_tolerances(eps: float, atol: float, rtol: float) -> None:
    for name, v in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        # the chained comparison also rejects nan, inf and ints too large for a float
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= sys.float_info.max:
            raise ValueError(f"gradcheck {name} must be a finite non-negative number, got {v!r}")
    if eps == 0:
        raise ValueError("gradcheck eps must be > 0")


def _scalar_output(f: Callable, inputs: list[Value]) -> Value:
    out = f(*inputs)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck expects f to return a Value, got {type(out).__name__}")
    return out


def numerical_gradient(f: Callable[..., Value], inputs: Sequence[Value], eps: float = 1e-6) -> list[float]:
    """Central differences (f(x + h eᵢ) - f(x - h eᵢ)) / 2h for each input, with h = eps."""
    inputs = _check_inputs(f, inputs, eps, 0.0, 0.0)
    result = []
    with graph.no_grad():
        for x in inputs:
            original = x.data
            try:
                x.data = original + eps
                plus = _scalar_output(f, inputs).data
                x.data = original - eps
                minus = _scalar_output(f, inputs).data
            finally:
                x.data = original
            result.append((plus - minus) / (2 * eps))
    return result


def _name(node: Value, index: int) -> str:
    label = f" '{node.label}'" if node.label else ""
    return f"input {index}{label}"


def _node_name(node: Value, position: int) -> str:
    label = f" '{node.label}'" if node.label else ""
    args = ", ".join(f"{x.label or 'x'}={x.data:.6g}" for x in node._inputs)
    return f"node #{position} {node._op.name}{label} ({args})"


def local_mismatches(root: Value, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> list[Mismatch]:
    """Every operation in ``root``'s graph whose local derivative ∂out/∂inᵢ disagrees
    with a central difference of that operation alone, in forward order."""
    if not (hasattr(root, "_inputs") and hasattr(root, "_op")):
        raise TypeError(f"local_mismatches expects the root node of a graph (a Value), got {type(root).__name__}")
    _check_tolerances(eps, atol, rtol)
    found = []
    for position, node in enumerate(topological_order(root)):
        op = node._op
        if op is None:
            continue
        xs = [x.data for x in node._inputs]
        analytic = op.derivatives(xs, node.data, node._ctx)
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
              rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Check the engine's gradient of ``f(*inputs)`` against central differences.

    Passes when |a - n| <= atol + rtol·|n| for every input. On failure raises
    ``GradcheckError`` (or returns False if ``raise_exception=False``) naming
    each input that is off and each operation whose local derivative is wrong.
    The inputs' ``grad`` is left as it was.
    """
    inputs = _check_inputs(f, inputs, eps, atol, rtol)
    saved = [x.grad for x in inputs]
    try:
        for x in inputs:
            x.grad = 0.0
        out = _scalar_output(f, inputs)
        out.backward()
        analytic = [x.grad for x in inputs]
    finally:
        for x, g in zip(inputs, saved):
            x.grad = g
    numeric = numerical_gradient(f, inputs, eps)

    bad = []
    for i, (x, a, n) in enumerate(zip(inputs, analytic, numeric)):
        allowed = atol + rtol * abs(n)
        if not abs(a - n) <= allowed:
            bad.append(Mismatch(_name(x, i), a, n, allowed))
    if not bad:
        return True
    nodes = local_mismatches(out, eps, atol, rtol)
    lines = ["gradcheck failed: the engine's gradient disagrees with finite differences"]
    lines += [f"  {m}" for m in bad]
    if nodes:
        lines.append("Operations whose local derivative disagrees with a finite difference of the operation alone:")
        lines += [f"  {m}" for m in nodes]
    else:
        lines.append("Every operation's local derivative agrees on its own: look at how f combines them "
                     "(or at a kink or an overflow near these inputs).")
    if raise_exception:
        raise GradcheckError("\n".join(lines), bad, nodes)
    return False
