"""Worksheets from any graph: the blank table a student fills in, and its key.

``worksheet(graph)`` lists what a hand derivation of ``graph`` computes, in the
order it computes it: the forward values (forward order), then, for each step of
the backward pass, the gradient that arrives at a node and the local
derivatives ∂node/∂input there. Every name is one ``verify`` reads back on the
same graph, so a filled-in worksheet (``.to_json()``, then edited) is checked
with ``verify(path, graph)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .graph import check_node, topological_order
from .notation import _expression, _format_data, _is_compound, _markdown_cell, _markdown_code, _node_names, _op_symbol
from .tables import _backward, _check_decimals, _is_tensor


@dataclass(frozen=True)
class WorksheetLine:
    """One quantity to work out: its name (as ``verify`` reads it), what it means and its value (the key)."""

    section: str   # "given", "forward" or "backward"
    name: str
    meaning: str
    value: Any     # float or ndarray


class Worksheet:
    """The quantities of a hand derivation of one graph (see ``worksheet``)."""

    def __init__(self, lines: list[WorksheetLine], root_name: str, answers: bool, decimals: int):
        self.lines = lines
        self.root_name = root_name
        self.answers = answers
        self.decimals = decimals

    def _answer(self, line: WorksheetLine) -> Any:
        """The key's number rounded to the worksheet's decimals (a list for an array), or None when blank."""
        if not self.answers and line.section != "given":
            return None
        value = np.asarray(line.value, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            rounded = np.round(value, self.decimals)  # 1e308 to 4 decimals overflows on the way (x·10⁴): inf
        rounded = np.where(np.isfinite(rounded) | ~np.isfinite(value), rounded, value)  # such a number has none
        if np.all(np.isfinite(rounded)):
            return rounded.tolist() if value.ndim else float(rounded)
        # JSON has no nan or infinity (json.dumps writes NaN, which strict parsers refuse): the words "nan",
        # "inf", "-inf", which verify reads back as those numbers
        words = np.vectorize(_json_number, otypes=[object])(rounded)
        return words.tolist() if value.ndim else words.item()

    def to_json(self, path: str | Path | None = None) -> str:
        """The worksheet as a table ``verify`` reads: sections ``forward`` and ``backward``, ``decimals``, and
        the givens as metadata. Blank entries are null; a nan or an infinity is the string "nan", "inf" or "-inf"
        (strict JSON has no such numbers; ``verify`` reads them back). Written to ``path`` too when one is given."""
        doc: dict[str, Any] = {
            "worksheet": f"the backward pass of {self.root_name}" + (" (answer key)" if self.answers else ""),
            "given": {line.name: self._answer(line) for line in self.lines if line.section == "given"},
            "decimals": self.decimals,
            "forward": {line.name: self._answer(line) for line in self.lines if line.section == "forward"},
            "backward": {line.name: self._answer(line) for line in self.lines if line.section == "backward"},
        }
        text = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_markdown(self) -> str:
        """The worksheet as Markdown tables: the givens, then one row per quantity to work out."""
        lines = [f"**Worksheet: the backward pass of {_markdown_cell(self.root_name)}** "
                 f"({self.decimals} decimals{'; answer key' if self.answers else ''})", ""]
        givens = [line for line in self.lines if line.section == "given"]
        if givens:
            lines += ["| given | value |", "|---|---|"]
            lines += [f"| {_markdown_code(g.name)} | {_format_data(g.value, self.decimals)} |" for g in givens]
            lines.append("")
        lines += ["| # | quantity | meaning | " + ("answer" if self.answers else "your answer") + " |",
                  "|---|---|---|---|"]
        work = [line for line in self.lines if line.section != "given"]
        for i, line in enumerate(work, start=1):
            answer = _format_data(line.value, self.decimals) if self.answers else ""
            lines.append(f"| {i} | {_markdown_code(line.name)} | {_markdown_cell(line.meaning)} | {answer} |")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        return f"<Worksheet of the backward pass of {self.root_name}: {len(self)} quantities" \
               f"{', answer key' if self.answers else ''}>"

    def __len__(self) -> int:
        return sum(line.section != "given" for line in self.lines)


def worksheet(graph: Any, answers: bool = False, decimals: int = 4) -> Worksheet:
    """A worksheet for the hand derivation of ``graph`` (a root node, or an object with ``.loss``).

    Forward values of every named result in forward order; then, in the order backward visits the nodes,
    ``grad <node>`` (∂root/∂node, complete when the step reaches it) and ``∂<node>/∂<input>`` for each input
    (Value graphs); the leaves' gradients come where the last step that feeds them ends. Constants (unlabelled
    leaves) and names shared by two nodes are left out. ``answers=True`` fills in the key. The graph is not
    changed."""
    if not isinstance(answers, bool):
        raise TypeError(f"worksheet: answers must be True or False, got {type(answers).__name__}: {answers!r:.40}")
    _check_decimals(decimals, "worksheet: decimals")
    root = getattr(graph, "loss", graph)
    check_node(root, "worksheet (the root node, or an object with a .loss node)")
    order = topological_order(root)
    names = _node_names(order)
    count: dict[str, int] = {}
    for node in order:
        count[names[node]] = count.get(names[node], 0) + 1

    def named(node: Any) -> bool:
        constant = node._op is None and not node.label and not getattr(node, "requires_grad", False)
        return not constant and count[names[node]] == 1

    root_name = names[root] if named(root) else "C"
    top = _grouped(root_name)  # an unlabelled root x*y+1 reads ∂(x*y+1)/∂x in the meanings
    grads, _, local, _ = _backward(order, root, {n: n.data for n in order}, {}, {})
    position = {node: i for i, node in enumerate(order)}
    consumers: dict = {node: [] for node in order}
    for node in order:
        for child in set(node._inputs):
            consumers[child].append(node)

    lines = [WorksheetLine("given", names[n], "given", n.data) for n in order if n._op is None and named(n)]
    lines += [WorksheetLine("forward", names[n], f"value of {_op_words(n, names)}", n.data)
              for n in order if n._op is not None and named(n)]
    # Backward: a leaf's gradient is complete when the last step that feeds it ends.
    complete_after: dict = {}
    for leaf in order:
        if leaf._op is None and named(leaf) and consumers[leaf]:
            last = min(consumers[leaf], key=position.__getitem__)
            complete_after.setdefault(last, []).append(leaf)
    for node in reversed(order):
        if node._op is None:
            continue
        if node is not root and named(node):
            lines.append(WorksheetLine("backward", f"grad {names[node]}", f"∂{top}/∂{_grouped(names[node])}",
                                       grads.get(node, 0.0)))
        if not _is_tensor(node) and named(node) and node is not root:  # ∂root/∂input reads as a gradient
            for i, child in enumerate(node._inputs):
                if named(child) and sum(x is child for x in node._inputs) == 1 and (node, i) in local:
                    meaning = f"local derivative of {_op_words(node, names)} with respect to {names[child]}"
                    lines.append(WorksheetLine("backward", f"∂{names[node]}/∂{names[child]}", meaning,
                                               local[(node, i)]))
        for leaf in sorted(complete_after.get(node, []), key=position.__getitem__):
            lines.append(WorksheetLine("backward", f"grad {names[leaf]}", f"∂{top}/∂{_grouped(names[leaf])}",
                                       grads.get(leaf, 0.0)))
    return Worksheet(lines, root_name, answers, decimals)


def _json_number(x: float) -> float | str:
    """A float as strict JSON holds it: itself, or the word for a nan or an infinity."""
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    return float(x)


def _op_words(node: Any, names: dict) -> str:
    """What ``node`` computes from its inputs' names, as ``explain`` writes it ((a-0.5)^2, x*w, tanh(z)); for an
    expression too long for that, the op and its inputs, tanh(z) or add(p, q, r)."""
    expression = _expression(node, [names[x] for x in node._inputs], 0)
    if not expression.endswith("#0"):
        return expression
    return f"{_op_symbol(node) if node._op.name in ('pow', 'leaky_relu') else node._op.name}(" \
           f"{', '.join(names[x] for x in node._inputs)})"


def _grouped(name: str) -> str:
    """A name as the denominator of ∂C/∂name: (a-0.5), not a-0.5 (which reads as ∂C/∂a − 0.5)."""
    return f"({name})" if _is_compound(name) else name
