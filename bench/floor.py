"""The floor of a reverse-mode engine written in Python on numpy arrays: the benchmark's yardstick for overhead.

A node here is its data, its grad, its inputs and one closure that adds its inputs' gradients (micrograd's
design, on arrays), and nothing else: no input checks, no shape or dtype checks of a gradient, no grad mode,
no stamps or leaf-change check, no second derivatives, no labels for drawings. Only the few operations of the
benchmark's MLP epoch exist, for 2-d arrays (a bias (n_out,) added to rows).

``bench.bench_tensor`` runs W2's epoch on it as ``floor generic`` (``a @ W + b``, the activation,
``((o - y) ** 2).mean()``) and ``floor fused`` (``linear``, the activation, ``mse_loss``). Its ratio to
hand-written numpy, measured in the same run, is what any Python engine with one call per node pays on that
machine; our engine's ratio to it is the price of what ours does beyond the arithmetic. It is a baseline, not an
engine to use: nothing in ``autograd`` or ``nn`` imports it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class Node:
    """An array, its gradient (None until backward reaches it), its inputs and its backward closure."""

    __slots__ = ("data", "grad", "inputs", "backward_step")

    def __init__(self, data: np.ndarray, inputs: tuple = (), backward_step: Callable | None = None):
        self.data = data
        self.grad = None
        self.inputs = inputs
        self.backward_step = backward_step

    def __matmul__(self, other: Node) -> Node:
        out = Node(self.data.dot(other.data), (self, other))

        def step(g: np.ndarray) -> None:
            if self.inputs:  # a computed input; the data X takes no gradient
                _add(self, g.dot(other.data.T))
            _add(other, self.data.T.dot(g))
        out.backward_step = step
        return out

    def __add__(self, bias: Node) -> Node:
        out = Node(self.data + bias.data, (self, bias))

        def step(g: np.ndarray) -> None:
            _add(self, g)
            _add(bias, _row_sum(g))
        out.backward_step = step
        return out

    def __sub__(self, target: Node) -> Node:
        out = Node(self.data - target.data, (self, target))
        out.backward_step = lambda g: _add(self, g)
        return out

    def square(self) -> Node:
        out = Node(self.data * self.data, (self,))
        out.backward_step = lambda g: _add(self, (2.0 * g) * self.data)
        return out

    def mean(self) -> Node:
        out = Node(np.asarray(self.data.sum() / self.data.size), (self,))

        def step(g: np.ndarray) -> None:
            spread = np.empty(self.data.shape)
            spread.fill(g / self.data.size)
            _add(self, spread)
        out.backward_step = step
        return out

    def relu(self) -> Node:
        out = Node(np.maximum(self.data, 0.0), (self,))
        out.backward_step = lambda g, a=out.data: _add(self, g * np.sign(a))  # a, not out: no cycle
        return out

    def sigmoid(self) -> Node:
        with np.errstate(over="ignore"):
            out = Node(1.0 / (1.0 + np.exp(-self.data)), (self,))
        out.backward_step = lambda g, a=out.data: _add(self, (1.0 - a) * a * g)
        return out

    def backward(self) -> None:
        """Every node's grad from this one's (set to 1): the nodes in reverse topological order (no recursion)."""
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif node not in seen:
                seen.add(node)
                stack.append((node, True))
                stack.extend((x, False) for x in node.inputs if x not in seen)
        for node in order:
            if node.inputs:
                node.grad = None
        self.grad = np.ones(())
        for node in reversed(order):
            if node.backward_step is not None and node.grad is not None:
                node.backward_step(node.grad)


def _add(node: Node, contribution: np.ndarray) -> None:
    node.grad = contribution if node.grad is None else node.grad + contribution


def _row_sum(g: np.ndarray) -> np.ndarray:
    """Σ of g's rows as 1ᵀg, one BLAS product (as the numpy oracle and our engine sum a bias's gradient)."""
    ones = np.empty(len(g))
    ones.fill(1.0)
    return ones.dot(g)


def linear(x: Node, weight: Node, bias: Node) -> Node:
    """x Wᵀ + b as one node."""
    out = Node(x.data.dot(weight.data.T) + bias.data, (x, weight, bias))

    def step(g: np.ndarray) -> None:
        if x.inputs:
            _add(x, g.dot(weight.data))
        _add(weight, g.T.dot(x.data))
        _add(bias, _row_sum(g))
    out.backward_step = step
    return out


def mse_loss(pred: Node, target: Node) -> Node:
    """mean((pred - target)²) as one node."""
    diff = pred.data - target.data
    out = Node(np.asarray(np.vdot(diff, diff) / diff.size), (pred, target))
    out.backward_step = lambda g: _add(pred, (pred.data - target.data) * (g * (2.0 / diff.size)))
    return out
