"""Gradients as values and higher-order derivatives, for both engines: ``grad``, ``hessian``, ``hvp``.

``grad(output, inputs)`` runs the one backward driver (``graph.run_backward``) into a dict of its own, so no
node's ``.grad`` is read or changed. With ``create_graph=True`` the backward pass is computed with the
engine's own operations: the gradients it returns are recorded nodes, and their gradients are second
derivatives (the op tables' derivative rules are written so that they can be recorded).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import graph
from .tensor import Tensor, _as_array, _constant, seed_array
from .value import Value

Node = Any  # a Value or a Tensor


def _as_inputs(inputs: Any, what: str) -> tuple[list, bool]:
    """``inputs`` as a list of nodes, and whether one node (not a sequence) was given."""
    if isinstance(inputs, (Value, Tensor)):
        return [inputs], True
    if isinstance(inputs, (list, tuple)) and inputs and all(isinstance(x, (Value, Tensor)) for x in inputs):
        return list(inputs), False
    raise TypeError(f"{what} inputs must be a Value or Tensor or a non-empty list/tuple of them, got "
                    f"{type(inputs).__name__}: {inputs!r:.60}")


def _seed(output: Node, grad_output: Any, create_graph: bool) -> Any:
    if type(output) is Value:
        if grad_output is None:
            grad_output = 1.0
        elif isinstance(grad_output, Value):
            return grad_output
        g = Value(grad_output)  # checks it is a real number
        return g if create_graph else g.data
    if isinstance(grad_output, Tensor):  # under create_graph the v of vᵀJ may itself be recorded
        if grad_output.shape != output.shape:
            raise ValueError(f"autograd.grad grad_outputs must have the output's shape {output.shape}, got "
                             f"{grad_output.shape}")
        return grad_output if create_graph else grad_output.data
    g = seed_array(output, grad_output, "autograd.grad", "grad_outputs")
    return _constant(g) if create_graph else g


def grad(outputs: Node, inputs: Node | Sequence[Node], grad_outputs: Any = None,
         create_graph: bool = False) -> Any:
    """d outputs / d inputs, returned rather than stored: no node's ``.grad`` is read or changed.

    ``inputs``: one node (its gradient is returned) or a list/tuple of nodes (a tuple of gradients, in
    order; an input the output does not depend on gets zero, on both engines: so does every input of a
    constant output, such as the gradient of a linear function, a Tensor that requires no grad). Without
    ``create_graph`` the gradients are floats (Value) or ndarrays (Tensor) and nothing is recorded; with it
    they are Values / Tensors whose own gradients are second derivatives. ``grad_outputs``: the v of vᵀJ for
    a Tensor output with more than one element (PyTorch's name).
    """
    graph.check_node(outputs, "autograd.grad", "an output node (a Value or Tensor)")
    nodes, single = _as_inputs(inputs, "autograd.grad")
    if not isinstance(create_graph, bool):
        raise TypeError(f"autograd.grad create_graph must be True or False, got {create_graph!r:.40}")
    engine = type(outputs)
    for i, x in enumerate(nodes):
        if type(x) is not engine:
            raise TypeError(f"autograd.grad input {i} is a {type(x).__name__} but the output is a {engine.__name__}; "
                            "expected nodes of one engine")
        if engine is Tensor and not x.requires_grad:
            raise ValueError(f"autograd.grad input {i} does not require grad; expected Tensors made with "
                             "requires_grad=True (or computed from them)")
    seed = _seed(outputs, grad_outputs, create_graph)
    grads: dict = {}
    graph.run_backward(outputs, seed, getattr(outputs, "_stamp", None), grads=grads, create_graph=create_graph)
    result = tuple(_gradient(grads.get(x), x, create_graph) for x in nodes)
    return result[0] if single else result


def _gradient(g: Any, x: Node, create_graph: bool) -> Any:
    if type(x) is Value:
        if g is None:
            return Value(0.0) if create_graph else 0.0
        return g if create_graph or type(g) is float else float(g)
    if g is None:
        zeros = np.zeros_like(x.data)
        return _constant(zeros) if create_graph else zeros
    if create_graph:
        return g
    return np.array(g, dtype=x.data.dtype)  # a copy: the driver's first contribution may be shared (add)


def _leaves(inputs: Any, what: str) -> tuple[list, str]:
    """Fresh leaves at the point ``inputs`` (numbers / Values, or one Tensor / array), and the engine."""
    if isinstance(inputs, Tensor) or isinstance(inputs, np.ndarray):
        data = inputs.data if isinstance(inputs, Tensor) else inputs
        return [Tensor(data, requires_grad=True, dtype=data.dtype if data.dtype == np.float32 else None)], "tensor"
    items = [inputs] if isinstance(inputs, (Value, int, float, np.floating)) else inputs
    if not isinstance(items, (list, tuple)) or not items:
        raise TypeError(f"{what} inputs must be a Value or number, a non-empty list of them, or a Tensor / "
                        f"ndarray, got {type(inputs).__name__}: {inputs!r:.60}")
    return [Value(x.data if isinstance(x, Value) else x) for x in items], "value"


def _call(f: Callable, leaves: list, engine: str, what: str) -> Node:
    if not callable(f):
        raise TypeError(f"{what} expects a function of the inputs, got {type(f).__name__}")
    out = f(*leaves)
    kind = Tensor if engine == "tensor" else Value
    if type(out) is not kind or (kind is Tensor and out.data.size != 1):
        raise TypeError(f"{what}: f must return one scalar node (a Value, or a one-element Tensor), "
                        f"got {type(out).__name__}{' of shape ' + str(out.shape) if isinstance(out, Tensor) else ''}")
    return out


def hessian(f: Callable[..., Node], inputs: Any) -> np.ndarray:
    """The matrix of second derivatives ∂²f/∂xᵢ∂xⱼ at ``inputs``, by differentiating the recorded gradient.

    Value engine: ``inputs`` is a number/Value or a list of them, ``f(*values)`` returns a Value, and the
    result is (n, n). Tensor engine: ``inputs`` is one Tensor or array x, ``f(x)`` returns a one-element
    Tensor, and the result has shape x.shape + x.shape. ``f`` is called on fresh leaves holding the data.
    """
    leaves, engine = _leaves(inputs, "hessian")
    out = _call(f, leaves, engine, "hessian")
    if engine == "value":
        first = grad(out, leaves, create_graph=True)
        return np.array([grad(g, leaves) for g in first], dtype=np.float64)
    x = leaves[0]
    first = grad(out, x, create_graph=True)
    rows = np.empty((x.data.size, x.data.size), dtype=x.data.dtype)
    seed = np.zeros(x.data.size, dtype=x.data.dtype)
    for k in range(x.data.size):  # one backward pass per row, each seeded with a unit vector
        seed[:] = 0.0
        seed[k] = 1.0
        rows[k] = _row(first, x, seed.reshape(x.data.shape))
    return rows.reshape(x.data.shape + x.data.shape)


def _row(first: Tensor, x: Tensor, v: np.ndarray) -> np.ndarray:
    return grad(first, x, grad_outputs=v).ravel()  # zeros when the gradient does not depend on x (f is linear)


def hvp(f: Callable[..., Node], inputs: Any, v: Any) -> np.ndarray:
    """The Hessian-vector product H v at ``inputs``, in one double-backward pass (no Hessian is formed):
    the gradient of ∇f · v. ``inputs`` and ``f`` as for ``hessian``; ``v`` has the inputs' shape."""
    leaves, engine = _leaves(inputs, "hvp")
    out = _call(f, leaves, engine, "hvp")
    if engine == "value":
        vs = _as_array(v, np.float64, "hvp v").reshape(-1)
        if vs.shape != (len(leaves),):
            raise ValueError(f"hvp: v must have one entry per input ({len(leaves)}), got shape {np.shape(v)}")
        first = grad(out, leaves, create_graph=True)
        from .value import sum as value_sum

        return np.array(grad(value_sum([g * float(c) for g, c in zip(first, vs)]), leaves), dtype=np.float64)
    x = leaves[0]
    vs = _as_array(v, x.data.dtype.type, "hvp v")
    if vs.shape != x.data.shape:
        raise ValueError(f"hvp: v must have the input's shape {x.data.shape}, got {vs.shape}")
    first = grad(out, x, create_graph=True)
    return _row(first, x, vs).reshape(x.data.shape)
