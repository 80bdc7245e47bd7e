"""Anomaly mode: stop at the first operation that makes a nan or an inf.

Inside ``with autograd.detect_anomaly():`` every operation of either engine
checks its result (forward) and every gradient contribution it sends to its
inputs that take a gradient (backward; a number written in the expression, the
2 of ``2 * x``, takes none, so what would reach it is not checked). The first
one that is not finite raises ``AnomalyError`` naming the operation, its
inputs' labels and values (and, backward, the upstream gradient and the local
derivative). Outside the block nothing is checked: ``Value(1000).exp()`` is
inf and numpy's nan and inf flow on, as usual.
Inside, numpy's floating-point warnings (overflow, invalid, divide) are off: the
engine's check reports the same event, naming the operation, as an error.

The mode is per thread (and per asyncio task), as ``no_grad`` is: anomaly mode in one thread checks
nothing in another. The cost outside anomaly mode is one test per operation, shared with grad mode
(``graph.current_modes()``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import graph


class AnomalyError(ValueError):
    """Inside ``detect_anomaly()``, an operation produced nan or inf (its value or a gradient contribution).

    ``phase`` is ``"forward"`` or ``"backward"``; ``op`` the operation's name;
    ``inputs`` the input nodes; ``input_index`` (backward) the input whose
    gradient contribution is not finite.
    """

    def __init__(self, message: str, phase: str, op: str, inputs: Sequence[Any], input_index: int | None = None):
        super().__init__(message)
        self.phase = phase
        self.op = op
        self.inputs = tuple(inputs)
        self.input_index = input_index


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` in this thread."""
    return graph.current_modes()[1]


class _AnomalyMode(graph.Mode):
    """``detect_anomaly()``'s manager: anomaly mode on, and numpy's floating-point warnings off, for the block
    (a new ``np.errstate`` each time it is entered: numpy's cannot be entered twice)."""

    __slots__ = ()

    def _also(self) -> Any:
        return np.errstate(over="ignore", invalid="ignore", divide="ignore")


def detect_anomaly() -> graph.Mode:
    """Context manager: the first operation (forward or backward, Value or Tensor) giving nan or inf
    raises ``AnomalyError`` naming it and its inputs. Nests; restores the previous mode on exit; the object
    can be entered again (and nested in itself), as PyTorch's. Per thread: other threads are not checked
    (numpy's errstate is per thread too)."""
    return _AnomalyMode(anomaly=True)


def _finite(x: Any) -> bool:
    if type(x) is float:
        return math.isfinite(x)
    return bool(np.all(np.isfinite(x)))


def _show(x: Any) -> str:
    """A number as repr, an array briefly (with its shape when it has more than one element)."""
    if isinstance(x, np.ndarray) and x.size != 1:
        body = np.array2string(x, precision=6, threshold=6, edgeitems=2, separator=", ")
        return f"{body} (shape {x.shape})"
    return repr(float(np.asarray(x).reshape(())))


def _bad(x: Any) -> str:
    """What is wrong with a non-finite result: 'nan', 'inf', '-inf', or counts for an array."""
    if type(x) is float or np.size(x) == 1:
        return repr(float(np.asarray(x).reshape(())))
    x = np.asarray(x)
    parts = [f"{int(n)} {what}" for what, n in (("nan", np.isnan(x).sum()), ("inf", np.isposinf(x).sum()),
                                               ("-inf", np.isneginf(x).sum())) if n]
    return ", ".join(parts) + f" entries (of {x.size})"


def _name(node: Any) -> str:
    if node.label:
        return repr(node.label)
    if node._op is not None:
        return f"(unlabelled result of {node._op.name})"
    return "(unlabelled leaf)"


def describe_inputs(inputs: Sequence[Any], shown: int = 8) -> str:
    """"input 0 'x' = 1.5, input 1 (unlabelled leaf) = 0.0": the first ``shown`` inputs and every
    non-finite one (a neuron's dot node has 2n + 1 inputs)."""
    picked = [i for i, x in enumerate(inputs) if i < shown or not _finite(x.data)]
    text = ", ".join(f"input {i} {_name(inputs[i])} = {_show(inputs[i].data)}" for i in picked)
    hidden = len(inputs) - len(picked)
    return text + (f", ... ({hidden} more finite inputs)" if hidden else "")


def check_forward(op: Any, inputs: Sequence[Any], data: Any) -> None:
    """Raise ``AnomalyError`` if ``data``, the result of ``op`` on ``inputs``, holds nan or inf."""
    if _finite(data):
        return
    already = [i for i, x in enumerate(inputs) if not _finite(x.data)]
    note = (f" (input {already[0]} is already not finite: the anomaly began before this operation)"
            if already else "")
    raise AnomalyError(f"detect_anomaly: forward of operation {op.name!r} produced {_bad(data)}{note}; "
                       f"its inputs: {describe_inputs(inputs)}", "forward", op.name, inputs)


def check_backward(node: Any, contributions: Sequence[Any], upstream: Any = None) -> None:
    """Raise ``AnomalyError`` if a gradient contribution ``node``'s op sends to an input holds nan or inf.
    ``upstream``: the node's gradient when it is not in ``node.grad`` (``autograd.grad``); a contribution
    that is a recorded node (``create_graph=True``) is checked by its data. A contribution to a number written
    in the expression (the constant 1e-200 of ``x * 1e-200``, which takes no gradient) reaches nobody and is
    not checked: only inputs that take a gradient are."""
    inputs = node._inputs
    for i, c in enumerate(contributions):
        if c is None or not inputs[i].requires_grad:
            continue
        if hasattr(c, "_fresh_grad"):
            c = c.data
        if _finite(c):
            continue
        op = node._op
        local = ""
        if type(c) is float:  # a Value: the local derivative is one number
            local = f", local derivative ∂out/∂in{i} = {_show(op.local_derivatives(node)[i])}"
        g = node.grad if upstream is None else upstream
        if hasattr(g, "_fresh_grad"):  # a recorded gradient (a node); an ndarray's .data is a memoryview
            g = g.data
        raise AnomalyError(
            f"detect_anomaly: backward of operation {op.name!r} (node {_name(node)} = {_show(node.data)}) gave "
            f"{_bad(c)} as the gradient contribution to input {i} {_name(node._inputs[i])}; upstream gradient "
            f"{_show(g)}{local}; "
            f"its inputs: {describe_inputs(node._inputs)}",
            "backward", op.name, node._inputs, i)
