"""The chain rule step by step.

``explain(root)`` replays the backward pass *on the side* (the graph's own
``grad`` fields are left as they were) and records, for every node in the
order backward visits it: its upstream gradient ∂C/∂node, the local
derivatives ∂node/∂input, the contributions upstream × local and each input's
gradient accumulated so far. It prints as text, Markdown or LaTeX in the
reports' notation (δ, σ′(z), ∂C/∂w), with names taken from the labels ``nn``
gives: ``w01[1]`` → w₀₁^[1], ``z0[1]`` → z₀^[1] whose gradient is δ₀^[1].
It works on Value and Tensor graphs (a Tensor's numbers show as its few
entries or its shape). Checking a hand-worked table is ``autograd.tables``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .graph import check_node, topological_order
from .notation import (
    _format_data,
    _latex_grad_name,
    _latex_local,
    _latex_name,
    _markdown_cell,
    _markdown_code,
    _markdown_math,
    _node_names,
    _op_symbol,
    _root_names,
    check_digits,
)

# -- the backward pass on the side --------------------------------------------------------------------

def _local_derivatives(node: Any) -> tuple | None:
    local = getattr(node._op, "local_derivatives", None)
    if local is None:
        return None
    try:
        return tuple(local(node))
    except NotImplementedError:
        return None


def _contributions(node: Any, upstream: Any) -> tuple:
    """The op's own ``contributions`` with ``upstream`` as the node's gradient; the node's grad is restored."""
    saved = node.grad
    node.grad = upstream
    try:
        return tuple(node._op.contributions(node))
    finally:
        node.grad = saved


@dataclass(frozen=True)
class Step:
    """One node of the backward pass: what it receives and what it passes to each input."""

    index: int                 # 1-based, in the order backward visits the nodes
    node: Any
    op: str                    # the operation's name
    upstream: Any              # ∂root/∂node, complete when backward reaches the node
    inputs: tuple
    local_derivatives: tuple | None   # ∂node/∂input per input (None if the op does not expose them)
    contributions: tuple       # upstream × local: what backward adds to each input's grad
    accumulated: tuple         # each input's grad right after this step


class Explanation:
    """The backward pass of ``root`` step by step (see ``explain``)."""

    def __init__(self, root: Any, steps: list[Step], order: list, names: dict, seed: Any):
        self.root = root
        self.steps = steps
        self.order = order
        self.names = names
        self.seed = seed
        self.uses = {node: 0 for node in order}
        for node in order:
            for child in node._inputs:
                self.uses[child] += 1

    def grads_after(self, k: int) -> dict:
        """Each node's gradient after ``k`` steps (only nodes that have received one): the root's is the seed."""
        if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k <= len(self.steps):
            raise ValueError(f"step must be an int from 0 to {len(self.steps)} (the number of backward steps), "
                             f"got {k!r}")
        grads = {self.root: self.seed}
        for step in self.steps[:k]:
            for child, total in zip(step.inputs, step.accumulated):
                grads[child] = total
        return grads

    @property
    def grads(self) -> dict:
        """Every node's gradient at the end of the pass (computed on the side)."""
        return self.grads_after(len(self.steps))

    def _rows(self, digits: int) -> list[list[str]]:
        rows = []
        for s in self.steps:
            for i, child in enumerate(s.inputs):
                local = "–" if s.local_derivatives is None else _format_data(s.local_derivatives[i], digits)
                first = i == 0
                rows.append([str(s.index) if first else "", self.names[s.node] if first else "",
                             _op_symbol(s.node) if first else "", _format_data(s.upstream, digits) if first else "",
                             self.names[child], local, _format_data(s.contributions[i], digits),
                             _format_data(s.accumulated[i], digits)])
        return rows

    _HEADER = ["step", "node", "op", "upstream ∂C/∂node", "input", "local ∂node/∂input",
               "contribution", "input's grad so far"]

    def to_text(self, digits: int = 4) -> str:
        """A plain-text table, one line per edge, in the order backward visits the nodes."""
        digits = check_digits(digits, "explain(...).to_text")
        rows = [self._HEADER] + self._rows(digits)
        widths = [max(len(r[c]) for r in rows) for c in range(len(self._HEADER))]
        short, head = _root_names(self.root, self.names)
        steps = len(self.steps)
        lines = [f"backward of {head}: seed ∂{short}/∂{short} = {_format_data(self.seed, digits)}, "
                 f"{steps} step{'' if steps == 1 else 's'}"]
        for r in rows:
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
        return "\n".join(lines)

    def to_markdown(self, digits: int = 4) -> str:
        """A Markdown table (names in LaTeX math), one row per edge."""
        digits = check_digits(digits, "explain(...).to_markdown")
        def math_name(cell: str) -> str:
            return _markdown_math(_latex_name(cell)) if cell else ""

        lines = ["| " + " | ".join(self._HEADER) + " |", "|" + "---|" * len(self._HEADER)]
        for r in self._rows(digits):
            cells = [_markdown_cell(r[0]), math_name(r[1]), _markdown_code(r[2]) if r[2] else "", _markdown_cell(r[3]),
                     math_name(r[4]), *map(_markdown_cell, r[5:])]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def to_latex(self, digits: int = 4) -> str:
        """An ``align*`` block: for each edge, ∂C/∂input (+)= ∂C/∂node · ∂node/∂input = numbers."""
        digits = check_digits(digits, "explain(...).to_latex")
        names = self.names
        root_name = _latex_name(names[self.root]) if self.root.label else "C"
        lines = [rf"\frac{{\partial {root_name}}}{{\partial {root_name}}} &= {_format_data(self.seed, digits)}"]
        for s in self.steps:
            upstream_name = rf"\frac{{\partial {root_name}}}{{\partial {root_name}}}" if s.node is self.root \
                else _latex_grad_name(s.node, names[s.node], root_name)  # the root is C, as the first line says
            for i, child in enumerate(s.inputs):
                if _is_constant(child):  # nobody asks for the derivative "with respect to 0.5"
                    continue
                target = _latex_grad_name(child, names[child], root_name)
                relation = r"\mathrel{+}=" if self.uses[child] > 1 else "="
                local = _latex_local(s.node, i, names)
                numbers = ""
                if s.local_derivatives is not None:
                    numbers = (f" = ({_format_data(s.upstream, digits)})"
                               f"({_format_data(s.local_derivatives[i], digits)})")
                line = (f"{target} &{relation} {upstream_name} \\cdot {local}{numbers}"
                        f" = {_format_data(s.contributions[i], digits)}")
                if self.uses[child] > 1:
                    line += rf" \quad (\text{{so far }} {_format_data(s.accumulated[i], digits)})"
                lines.append(line)
        return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}"

    def __str__(self) -> str:
        return self.to_text()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def explain(root: Any) -> Explanation:
    """The backward pass of ``root`` step by step, computed on the side (the graph's grads are untouched).

    Every grad starts at zero, as in a fresh pass; the root is seeded with 1
    (an array of ones for a Tensor). Step k visits the k-th non-leaf node in reverse
    topological order: input i receives upstream × ∂node/∂input_i.
    """
    check_node(root, "explain")
    order = topological_order(root)
    seed = np.ones_like(root.data) if isinstance(root.data, np.ndarray) else 1.0
    grads: dict = {root: seed}
    steps: list[Step] = []
    for node in reversed(order):
        if node._op is None:
            continue
        upstream = grads.get(node)
        if upstream is None:  # unreachable from the seed (cannot happen in a connected graph)
            upstream = 0.0 * seed
        contributions = _contributions(node, upstream)
        accumulated = []
        for child, c in zip(node._inputs, contributions):
            if c is not None:
                grads[child] = c if child not in grads else grads[child] + c
            accumulated.append(grads.get(child))
        steps.append(Step(len(steps) + 1, node, node._op.name, upstream, node._inputs,
                          _local_derivatives(node), contributions, tuple(accumulated)))
    return Explanation(root, steps, order, _node_names(order), seed)




def _is_constant(node: Any) -> bool:
    """An unlabelled leaf that does not require grad: a number the user wrote (``0.5 * e``), not a quantity.
    A Value has no ``requires_grad``: every unlabelled Value leaf counts as a constant."""
    return node._op is None and not node.label and not getattr(node, "requires_grad", False)
