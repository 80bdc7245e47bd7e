"""Graphviz drawings of a computation graph (``Value`` or ``Tensor``), the chain rule on its edges.

``draw(root)`` returns a ``graphviz.Digraph`` (a ``Drawing``): one box per
value (label, data, grad; a large array shows its shape), one small node per
operation, one edge per use of an input (``a + a`` has two). With
``edge_labels=True`` every edge carries its local derivative ∂out/∂in and the
contribution upstream × local it adds to the input's grad. ``step=k`` draws
the state after k steps of the backward pass (see ``explain``); ``frames``
gives every step. Graphs above ``max_nodes`` must be collapsed by neuron or
by layer, using the labels ``nn`` gives (``w01[1]``, ``b0[1]``, ``z0[1]``,
``a0[1]``).

Rendering needs Graphviz's ``dot`` program; without it, rendering raises
``GraphvizNotFoundError`` (a ``RuntimeError``) saying how to install it, with
the DOT source in its ``.source``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import graphviz

from .explain import NEURON_LABEL, WEIGHT_LABEL, _format_data, _local_derivatives, _op_symbol, explain
from .graph import check_node, topological_order

DEFAULT_MAX_NODES = 150
FIELDS = ("label", "data", "grad")
COLLAPSE_MODES = ("neuron", "layer")
FONT = "Helvetica"

INSTALL_HINT = (
    "Graphviz's `dot` program is not installed (or not on PATH), so the graph cannot be rendered. "
    "The Python package `graphviz` alone is not enough. Install the program: "
    "Debian/Ubuntu `sudo apt-get install graphviz`, Fedora `sudo dnf install graphviz`, "
    "macOS `brew install graphviz`, conda `conda install -c conda-forge graphviz`; "
    "then restart the kernel. The DOT source is still available: this error's `.source` "
    "(or `autograd.draw(...).source`) can be pasted into any Graphviz viewer."
)


class GraphvizNotFoundError(RuntimeError):
    """Rendering needs Graphviz's ``dot`` program and it is missing; ``.source`` holds the DOT text."""

    def __init__(self, source: str):
        super().__init__(INSTALL_HINT)
        self.source = source


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering, when ``dot`` is missing, raises ``GraphvizNotFoundError``."""

    def pipe(self, *args, **kwargs):
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise GraphvizNotFoundError(self.source) from error

    def render(self, *args, **kwargs):
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise GraphvizNotFoundError(self.source) from error


# -- what is known about each node and edge in the state being drawn --------------------------------

@dataclass
class _State:
    grads: dict                      # node -> grad (absent: none yet at this step)
    edges: dict                      # (consumer, position) -> (local or None, contribution or None)
    incoming: dict                   # node -> contributions received, in backward order
    partial: set = field(default_factory=set)   # nodes whose grad is still missing a consumer's share
    done: set = field(default_factory=set)      # nodes finished at this step
    current: Any = None              # the node the last step visited
    caption: str = ""


def _full_state(order: list, edge_labels: bool) -> _State:
    """The graph as it is: each node's own ``.grad``; contributions from the op with those grads."""
    state = _State(grads={node: node.grad for node in order}, edges={}, incoming={})
    if edge_labels:
        for node in reversed(order):
            if node._op is None:
                continue
            local = _local_derivatives(node)
            for i, (child, c) in enumerate(zip(node._inputs, node._op.contributions(node))):
                state.edges[(node, i)] = (None if local is None else local[i], c)
                if c is not None:
                    state.incoming.setdefault(child, []).append(c)
    return state


def _step_state(root: Any, k: int) -> _State:
    """The backward pass after ``k`` steps, computed on the side by ``explain``."""
    ex = explain(root)
    grads = ex.grads_after(k)
    state = _State(grads=grads, edges={}, incoming={})
    received = {node: 0 for node in ex.order}
    for s in ex.steps:
        processed = s.index <= k
        for i, child in enumerate(s.inputs):
            local = None if s.local_derivatives is None else s.local_derivatives[i]
            state.edges[(s.node, i)] = (local, s.contributions[i] if processed else None)
            if processed:
                received[child] += 1
                if s.contributions[i] is not None:
                    state.incoming.setdefault(child, []).append(s.contributions[i])
        if processed:
            state.done.add(s.node)
    for node in ex.order:
        if node in grads and node is not root and received[node] < ex.uses[node]:
            state.partial.add(node)
        if node._op is None and node in grads and node not in state.partial:
            state.done.add(node)  # a leaf whose every consumer has passed its share is finished
    n = len(ex.steps)
    if k == 0:
        state.caption = f"backward, step 0 of {n}: the seed ∂{ex.names[root]}/∂{ex.names[root]} = 1"
    else:
        s = ex.steps[k - 1]
        state.current = s.node
        state.caption = (f"backward, step {k} of {n}: {ex.names[s.node]} ({_op_symbol(s.node)}) passes "
                         f"grad × local derivative to its {len(s.inputs)} input{'s' * (len(s.inputs) > 1)}")
    return state


# -- collapsing by neuron or layer ------------------------------------------------------------------------

def _neuron_of_parameter(label: str) -> tuple[int, int] | None:
    """(layer, neuron) from a parameter label alone: b3[2] → (2, 3); w01[1] → (1, 0); w12_3[2] → (2, 12)."""
    if (m := NEURON_LABEL.match(label)) and m.group(1) == "b":
        return int(m.group(3)), int(m.group(2))
    if m := WEIGHT_LABEL.match(label):
        j, k, l = m.groups()
        if k is not None:
            return int(l), int(j)
        if len(j) == 2:  # w{j}{k} without a separator is unambiguous only for single digits
            return int(l), int(j[0])
    return None


def _neurons(order: list, consumers: dict) -> dict:
    """node -> (layer, neuron) for the nodes of each neuron: its z and a, its weights and bias, and
    unlabeled nodes all of whose consumers sit in that one neuron (the arithmetic inside it)."""
    group: dict = {}
    for node in order:
        if (m := NEURON_LABEL.match(node.label)) and m.group(1) in "za":
            group[node] = (int(m.group(3)), int(m.group(2)))
    for node in reversed(order):  # consumers come first, so a chain of helpers joins in one sweep
        if node in group or not consumers[node]:
            continue
        owners = {group.get(c) for c in consumers[node]}
        only = owners.pop() if len(owners) == 1 else None
        from_label = _neuron_of_parameter(node.label)
        if from_label is not None or WEIGHT_LABEL.match(node.label):
            if only is not None and (from_label is None or only[0] == from_label[0]):
                group[node] = only
            elif from_label is not None:
                group[node] = from_label
        elif not node.label and only is not None:
            group[node] = only
    return group


def _group_title(key: tuple) -> str:
    return f"layer {key[0]}" if len(key) == 1 else f"neuron {key[1]} of layer {key[0]}"


def _range(values: list, digits: int) -> str:
    lo, hi = min(values), max(values)
    if lo == hi:
        return _format_data(lo, digits)
    return f"{_format_data(lo, digits)} … {_format_data(hi, digits)}"


def _group_label(key: tuple, members: list, state: _State, show: Iterable[str], digits: int) -> str:
    zs = [n for n in members if NEURON_LABEL.match(n.label) and n.label[0] == "z"]
    acts = [n for n in members if NEURON_LABEL.match(n.label) and n.label[0] == "a"]
    params = [n for n in members if n._op is None and n.label]
    lines = [f"<B>{html.escape(_group_title(key))}</B>"]
    if len(key) == 1:
        lines.append(f"{len(zs)} neuron{'s' * (len(zs) != 1)}, {len(params)} parameters")
    else:
        lines.append(f"{len(params)} parameters")
    scalar = all(not hasattr(n.data, "shape") or n.data.shape == () for n in zs + acts)
    if "data" in show and scalar:
        if zs:
            lines.append("z " + _range([n.data for n in zs], digits))
        if acts:
            lines.append("a " + _range([n.data for n in acts], digits))
    if "grad" in show and scalar and zs:
        have = [state.grads[n] for n in zs if n in state.grads]
        if have:
            lines.append("δ = ∂C/∂z " + _range(have, digits))
    return "<" + "<BR/>".join(lines) + ">"


# -- labels -----------------------------------------------------------------------------------------------

def _signed_sum(terms: list, digits: int) -> str:
    text = _format_data(terms[0], digits)
    for t in terms[1:]:
        s = _format_data(t, digits)
        text += f" − {s[1:]}" if s.startswith("-") else f" + {s}"
    return text


def _value_label(node: Any, state: _State, show: Iterable[str], digits: int, edge_labels: bool) -> str:
    lines = []
    if "label" in show and node.label:
        lines.append(f"<B>{html.escape(node.label)}</B>")
    if "data" in show:
        lines.append("data " + html.escape(_format_data(node.data, digits)))
    if "grad" in show:
        if node not in state.grads:
            lines.append('<FONT COLOR="#999999">grad –</FONT>')
        else:
            text = "grad " + _format_data(state.grads[node], digits)
            terms = state.incoming.get(node, [])
            if edge_labels and len(terms) > 1:
                text += " = " + _signed_sum(terms, digits)
            note = " (so far)" if node in state.partial else ""
            lines.append(f'<FONT COLOR="#b3261e">{html.escape(text)}</FONT>{note}')
    return "<" + ("<BR/>".join(lines) or " ") + ">"


def _edge_label(local: Any, contribution: Any, digits: int, pending: bool) -> str:
    lines = []
    if local is not None:
        lines.append("local " + _format_data(local, digits))
    if contribution is not None:
        lines.append("adds " + _format_data(contribution, digits))
    elif pending:
        lines.append("adds –")  # keeps the label's size, so frames of an animation keep their layout
    return "\n".join(lines)


def _check_options(rankdir: str, show: Any, fmt: str, collapse: Any, max_nodes: Any, step: Any,
                   digits: Any) -> tuple[str, ...]:
    if not isinstance(rankdir, str) or rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw: rankdir must be 'LR' or 'TB' (or 'RL', 'BT'), got {rankdir!r}")
    given = show
    try:
        show = (show,) if isinstance(show, str) else tuple(show)
    except TypeError:
        show = None
    if show is None or not all(isinstance(f, str) and f in FIELDS for f in show):
        raise ValueError(f"draw: show must be a field name or a sequence of them from {FIELDS}, got "
                         f"{type(given).__name__}: {given!r:.40}")
    if not isinstance(fmt, str) or fmt not in graphviz.FORMATS:
        raise ValueError(f"draw: format must be a Graphviz output format such as 'svg' or 'png' (one of "
                         f"graphviz.FORMATS), got {fmt!r:.40}")
    if collapse is not None and (not isinstance(collapse, str) or collapse not in COLLAPSE_MODES):
        raise ValueError(f"draw: collapse must be None, 'neuron' or 'layer', got {collapse!r:.40}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or isinstance(max_nodes, bool) or max_nodes < 1):
        raise ValueError(f"draw: max_nodes must be a positive int or None, got {max_nodes!r}")
    if step is not None and (not isinstance(step, int) or isinstance(step, bool)):
        raise ValueError(f"draw: step must be None or an int (steps of backward done), got {step!r}")
    if not isinstance(digits, int) or isinstance(digits, bool) or not 0 <= digits <= 15:
        raise ValueError(f"draw: digits must be an int from 0 to 15, got {digits!r}")
    return show


def draw(root: Any, rankdir: str = "LR", show: Iterable[str] = FIELDS, edge_labels: bool = False,
         format: str = "svg", collapse: str | None = None, max_nodes: int | None = DEFAULT_MAX_NODES,  # noqa: A002
         step: int | None = None, digits: int = 4) -> Drawing:
    """Draw the graph that computed ``root``: values as boxes, each operation as its own small node.

    ``show`` picks the fields of a value box; ``edge_labels`` puts on each
    edge input → op the local derivative ∂out/∂in and the contribution
    grad(out) × ∂out/∂in it adds to grad(in), and a node used several times
    shows its grad as the sum of what it received. ``collapse`` ("neuron" or
    "layer") draws each neuron or layer of an ``nn`` network as one box.
    A graph with more than ``max_nodes`` drawn nodes raises ``ValueError``
    (``max_nodes=None`` draws anything). ``step=k`` draws the state after k
    steps of backward (computed on the side; the graph's grads are not read or
    changed). Numbers show ``digits`` decimals.
    """
    show = _check_options(rankdir, show, format, collapse, max_nodes, step, digits)
    check_node(root, "draw")
    order = topological_order(root)
    n_ops = sum(1 for node in order if node._op is not None)
    consumers: dict = {node: [] for node in order}
    for node in order:
        for child in node._inputs:
            consumers[child].append(node)

    group: dict = {}
    if collapse is not None:
        group = _neurons(order, consumers)
        if not group:
            raise ValueError(f"draw: collapse={collapse!r} found no node labelled as nn labels a neuron "
                             "(z0[1], a0[1], w01[1], b0[1]); draw without collapse")
        if collapse == "layer":
            group = {node: key[:1] for node, key in group.items()}
    count = len(set(group.values())) + sum(1 for n in order if n not in group) + \
        sum(1 for n in order if n not in group and n._op is not None)
    if max_nodes is not None and count > max_nodes:
        what = f"{count} nodes ({len(order)} values and {n_ops} operations)" if collapse is None else \
            f"{count} nodes even with collapse={collapse!r}"
        advice = ("collapse='neuron' (one box per neuron) or collapse='layer' (one box per layer)"
                  if collapse is None else "collapse='layer'" if collapse == "neuron" else "a smaller graph")
        raise ValueError(f"draw: the graph has {what}, more than max_nodes={max_nodes}; draw it with {advice}, "
                         "or pass a larger max_nodes (max_nodes=None draws everything)")

    state = _full_state(order, edge_labels) if step is None else _step_state(root, step)

    g = Drawing(format=format, graph_attr={"rankdir": rankdir, "fontname": FONT, "fontsize": "12",
                                           "nodesep": "0.25", "ranksep": "0.35"},
                node_attr={"fontname": FONT, "fontsize": "11"}, edge_attr={"fontname": FONT, "fontsize": "9",
                                                                         "arrowsize": "0.6"})
    ids = {node: f"n{i}" for i, node in enumerate(order)}
    group_ids = {key: "g" + "_".join(map(str, key)) for key in sorted(set(group.values()))}

    def fill(nodes: list, default: str) -> dict:
        if state.current is not None and state.current in nodes:
            return {"fillcolor": "#ffd27f", "penwidth": "2"}
        if nodes and all(n in state.done for n in nodes):
            return {"fillcolor": "#d9f2d9"}
        return {"fillcolor": default}

    for node in order:
        if node in group:
            continue
        leaf = node._op is None
        attrs = {"shape": "box", "style": "rounded,filled", "margin": "0.08,0.04"}
        attrs.update(fill([node], "#eaf1fb" if leaf else "white"))
        if node is root:
            attrs["penwidth"] = "2"
        g.node(ids[node], _value_label(node, state, show, digits, edge_labels), **attrs)
        if not leaf:
            op_attrs = {"shape": "ellipse", "style": "filled", "fillcolor": "#f0f0f0", "fontsize": "10",
                        "margin": "0.03,0.01", "height": "0.3", "width": "0.3"}
            if node is state.current:
                op_attrs.update(fillcolor="#ffd27f", penwidth="2")
            g.node(ids[node] + "op", html.escape(_op_symbol(node)), **op_attrs)
            g.edge(ids[node] + "op", ids[node])

    members: dict = {}
    for node, key in group.items():
        members.setdefault(key, []).append(node)
    layers = sorted({key[0] for key in members})
    for layer in layers:
        keys = [k for k in sorted(members) if k[0] == layer]
        target = g
        if collapse == "neuron":
            sub = graphviz.Digraph(name=f"cluster_layer{layer}")
            sub.attr(label=f"layer {layer}", style="rounded,dashed", color="#888888", fontname=FONT)
            target = sub
        for key in keys:
            nodes = members[key]
            non_leaves = [n for n in nodes if n._op is not None]
            attrs = {"shape": "box", "style": "rounded,filled", "margin": "0.12,0.06"}
            attrs.update(fill(non_leaves, "#fff6d6"))
            target.node(group_ids[key], _group_label(key, nodes, state, show, digits), **attrs)
        if target is not g:
            g.subgraph(target)

    # Edges: one per use between drawn nodes; uses crossing into or out of a box are merged with a count.
    merged: dict = {}
    for node in order:
        if node._op is None:
            continue
        for i, child in enumerate(node._inputs):
            src = group_ids[group[child]] if child in group else ids[child]
            if node in group:
                if child in group and group[child] == group[node]:
                    continue  # inside one box
                dst = group_ids[group[node]]
            else:
                dst = ids[node] + "op"
            if child in group or node in group:
                merged[(src, dst)] = merged.get((src, dst), 0) + 1
                continue
            attrs = {}
            if edge_labels:
                local, contribution = state.edges.get((node, i), (None, None))
                label = _edge_label(local, contribution, digits, pending=step is not None)
                if label:
                    attrs.update(label=label, decorate="true")
            if node is state.current:
                attrs.update(color="#c77700", penwidth="2")
            g.edge(src, dst, **attrs)
    for (src, dst), n in merged.items():
        attrs = {"label": f"×{n}"} if n > 1 else {}
        if src.startswith("g") and dst.startswith("g"):
            attrs.update(color="#777777", penwidth="0.6")  # box to box: many such edges in neuron mode
        g.edge(src, dst, **attrs)

    captions = [state.caption] if state.caption else []
    if edge_labels:
        captions.append("edge: local = ∂out/∂in;  adds = grad(out) × local, added to grad(in)")
    if step is not None:
        captions.append("orange: this step · green: done · grey grad: not reached yet")
    if captions:
        g.attr(label="".join(c + "\\l" for c in captions), labelloc="t", labeljust="l")
    return g


def frames(root: Any, **options: Any) -> list[Drawing]:
    """``draw(root, step=k, **options)`` for k = 0 … number of backward steps: the backward pass as frames."""
    if "step" in options:
        raise ValueError("frames draws every step itself; do not pass step")
    check_node(root, "frames")
    n = len(explain(root).steps)
    return [draw(root, step=k, **options) for k in range(n + 1)]


def _count_up_to(root: Any, limit: int) -> int:
    """Drawn nodes (values + operations) of ``root``'s graph, counting stops once above ``limit``."""
    seen = {root}
    stack = [root]
    count = 0
    while stack and count <= limit:
        node = stack.pop()
        count += 1 + (node._op is not None)
        for child in node._inputs:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return count


def notebook_svg(node: Any) -> str | None:
    """SVG of ``node``'s graph for Jupyter's ``_repr_svg_``; None (text display) above the node limit.

    Raises ``GraphvizNotFoundError`` when ``dot`` is missing.
    """
    check_node(node, "notebook_svg")
    if _count_up_to(node, DEFAULT_MAX_NODES) > DEFAULT_MAX_NODES:
        return None
    return draw(node).pipe(format="svg", encoding="utf-8")
