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
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import graphviz
import numpy as np

from .explain import _local_derivatives, explain
from .graph import check_node, topological_order
from .notation import NEURON_LABEL, WEIGHT_LABEL, _format_data, _op_symbol, _root_names

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
    accumulated: set = field(default_factory=set)  # nodes whose grad is more than this pass's incoming terms
    current: Any = None              # the node the last step visited
    caption: str = ""


def _backward_has_run(root: Any) -> bool:
    """Whether ``root.backward()`` has run: it seeds the root's grad with 1 (a Value starts at 0, a Tensor at None)."""
    grad = root.grad
    if grad is None or not hasattr(grad, "__array__") and not isinstance(grad, (int, float)):
        return False  # None, or a Tensor's symbolic zero before its first pass
    return bool(np.any(np.asarray(grad) != 0))


def _recorded_grad(grad: Any) -> bool:
    """Whether ``grad`` is a recorded node (a Value or Tensor), as ``backward(create_graph=True)`` leaves in a leaf."""
    return hasattr(grad, "_fresh_grad")


NOT_RUN_CAPTION = ("backward() has not run on this graph: no gradients yet (call .backward() on it, "
                   "or autograd.animate(root) to step through it)")
RECORDED_CAPTION = ("backward(create_graph=True) has run: the leaves' grads are recorded nodes, shown by their "
                    "data; that pass leaves the other nodes' grads as they were, so they are not shown")
ACCUMULATED = "the stored grad; the last backward pass added"


def _full_state(root: Any, order: list, edge_labels: bool) -> _State:
    """The graph as it is: each node's own ``.grad`` (a recorded grad by its data); contributions from the op with
    those grads.

    Before ``backward()`` has run no grad is shown and edges carry only their local derivatives. After only
    ``backward(create_graph=True)`` (which seeds no root grad and sets only the leaves') the leaves' grads are
    shown, and no contributions.
    """
    ran = _backward_has_run(root)
    state = _State(grads={}, edges={}, incoming={})
    if ran:
        state.grads = {node: _grad_shown(node.grad) for node in order if _is_number(node.grad)}
    elif any(node._op is None and _recorded_grad(node.grad) for node in order):
        state.caption = RECORDED_CAPTION
        state.grads = {node: _grad_shown(node.grad) for node in order if node._op is None and _is_number(node.grad)}
    else:
        state.caption = NOT_RUN_CAPTION
    if edge_labels:
        for node in reversed(order):
            if node._op is None:
                continue
            local = _local_derivatives(node)
            contributions = node._op.contributions(node) if ran and node in state.grads else ()
            for i, child in enumerate(node._inputs):
                c = contributions[i] if i < len(contributions) else None
                state.edges[(node, i)] = (None if local is None else local[i], c)
                if c is not None:
                    state.incoming.setdefault(child, []).append(c)
        for node, terms in state.incoming.items():
            if node in state.grads and not _adds_up(terms, state.grads[node]):
                state.accumulated.add(node)
    return state


def _adds_up(terms: list, grad: Any) -> bool:
    """Whether ``grad`` is the sum of ``terms`` added in order from zero, as one backward pass adds them (a leaf
    not zeroed between passes holds more: its grad accumulated)."""
    total = _grad_shown(terms[0])
    for t in terms[1:]:
        total = total + _grad_shown(t)
    return bool(np.array_equal(np.asarray(total, dtype=np.float64), np.asarray(grad, dtype=np.float64),
                               equal_nan=True))


def _grad_shown(grad: Any) -> Any:
    """A grad as a drawing shows it: a recorded grad (a Value or Tensor) by its data."""
    return grad.data if _recorded_grad(grad) else grad


def _is_number(grad: Any) -> bool:
    """A grad that can be shown: a float, an array or a recorded node (not None, nor a Tensor's symbolic zero)."""
    if _recorded_grad(grad):
        return True
    return isinstance(grad, (int, float, np.ndarray, np.generic)) and not isinstance(grad, bool)


def _step_state(ex: Any, k: int) -> _State:
    """The backward pass after ``k`` steps, from the explanation ``ex`` (computed once by the caller)."""
    root = ex.root
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
        short, head = (_safe(part) for part in _root_names(root, ex.names))
        state.caption = f"backward, step 0 of {n}: the seed ∂{short}/∂{short} = 1" + (
            f" ({head})" if head != short else "")
    else:
        s = ex.steps[k - 1]
        state.current = s.node
        state.caption = (f"backward, step {k} of {n}: {_safe(ex.names[s.node])} ({_safe(_op_symbol(s.node))}) "
                         f"passes grad × local derivative to its {len(s.inputs)} input{'s' * (len(s.inputs) > 1)}")
    return state


# -- text that DOT (and an HTML page) can hold ---------------------------------------------------------------

LABEL_LIMIT = 60  # characters of a label drawn; longer labels end in an ellipsis
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What XML 1.0 leaves out of its characters above the controls: the surrogates (lone ones reach a str from a
# file or a bytes decode with "surrogateescape") and U+FFFE, U+FFFF; Graphviz's label parser refuses them.
_NOT_XML = re.compile(r"[\ud800-\udfff\ufffe\uffff]")


def _safe(text: str, limit: int = LABEL_LIMIT) -> str:
    """``text`` as a drawing can show it: control characters as their visible symbols (NUL → ␀, newline → ␊),
    the other characters XML 1.0 forbids (lone surrogates, U+FFFE, U+FFFF) as �, and at most ``limit`` characters
    (the rest as …). Escape for the format after this."""
    if len(text) <= limit and text.isprintable():
        return text  # the common case, without the regular expressions
    text = _CONTROL.sub(lambda m: chr(0x2421) if m.group() == "\x7f" else chr(0x2400 + ord(m.group())), text)
    text = _NOT_XML.sub("\ufffd", text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _html(text: str, limit: int = LABEL_LIMIT) -> str:
    """``text`` inside a Graphviz HTML-like label (where a backslash is an ordinary character)."""
    return html.escape(_safe(text, limit))


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


@dataclass
class _Label:
    """A node's or edge's label: fixed lines, then the one line that changes as backward runs (a grad)."""

    lines: list                 # HTML-safe text for a node, plain text for an edge
    dynamic: str | None = None  # the changing last line as plain text (None: no such line)
    colour: str = ""            # that line's colour (nodes only)

    def node_html(self, dynamic: str | None = None) -> str:
        """The HTML-like label, with ``dynamic`` in place of the changing line if given (a layout stand-in)."""
        lines = list(self.lines)
        if self.dynamic is not None:
            text = self.dynamic if dynamic is None else dynamic
            lines.append(f'<FONT COLOR="{self.colour}">{html.escape(text)}</FONT>')
        return "<" + ("<BR/>".join(lines) or " ") + ">"

    def edge_text(self, dynamic: str | None = None) -> str:
        lines = list(self.lines)
        if self.dynamic is not None:
            lines.append(self.dynamic if dynamic is None else dynamic)
        return "\n".join(lines)


GRAD_COLOUR = "#b3261e"
PENDING_COLOUR = "#999999"


def _group_label(key: tuple, members: list, state: _State, show: Iterable[str], digits: int) -> _Label:
    zs = [n for n in members if NEURON_LABEL.match(n.label) and n.label[0] == "z"]
    acts = [n for n in members if NEURON_LABEL.match(n.label) and n.label[0] == "a"]
    params = [n for n in members if n._op is None and n.label]
    lines = [f"<B>{html.escape(_group_title(key))}</B>"]
    if len(key) == 1:  # one z node per neuron and sample: the neurons are the distinct labels
        neurons = len({n.label for n in zs})
        lines.append(f"{neurons} neuron{'s' * (neurons != 1)}, {len(params)} parameters")
    else:
        lines.append(f"{len(params)} parameters")
    scalar = all(not hasattr(n.data, "shape") or n.data.shape == () for n in zs + acts)
    if "data" in show and scalar:
        if zs:
            lines.append("z " + _range([n.data for n in zs], digits))
        if acts:
            lines.append("a " + _range([n.data for n in acts], digits))
    label = _Label(lines)
    if "grad" in show and scalar and zs:
        have = [state.grads[n] for n in zs if n in state.grads]
        label.dynamic = "δ = ∂C/∂z " + (_range(have, digits) if have else "–")
        label.colour = GRAD_COLOUR if have else PENDING_COLOUR
    return label


# -- labels -----------------------------------------------------------------------------------------------

def _signed_sum(terms: list, digits: int) -> str:
    text = _format_data(terms[0], digits)
    for t in terms[1:]:
        s = _format_data(t, digits)
        text += f" − {s[1:]}" if s.startswith("-") else f" + {s}"
    return text


def _value_label(node: Any, state: _State, show: Iterable[str], digits: int, edge_labels: bool,
                 role: str = "", memo: dict | None = None) -> _Label:
    lines = None if memo is None else memo.get(node)
    if lines is None:  # the label and data lines do not change from frame to frame
        lines = []
        if "label" in show and (node.label or role):
            name = f"<B>{_html(node.label)}</B>" if node.label else ""
            lines.append(f"{name} ({role})" if name and role else name or f"({role})")
        if "data" in show:
            lines.append("data " + html.escape(_format_data(node.data, digits)))
        if memo is not None:
            memo[node] = lines
    label = _Label(lines)
    if "grad" in show and (node._op is not None or getattr(node, "requires_grad", True)):  # a constant has none
        if node not in state.grads:
            label.dynamic, label.colour = "grad –", PENDING_COLOUR
        else:
            text = "grad " + _format_data(state.grads[node], digits)
            terms = state.incoming.get(node, [])
            if edge_labels and node in state.accumulated:
                text += f" ({ACCUMULATED} {_signed_sum(terms, digits)})"
            elif edge_labels and len(terms) > 1:
                text += " = " + _signed_sum(terms, digits)
            if node in state.partial:
                text += " (so far)"
            label.dynamic, label.colour = text, GRAD_COLOUR
    return label


def _edge_label(local: Any, contribution: Any, digits: int, pending: bool) -> _Label:
    lines = [] if local is None else ["local " + _format_data(local, digits)]
    label = _Label(lines)
    if contribution is not None:
        label.dynamic = "adds " + _format_data(contribution, digits)
    elif pending:
        label.dynamic = "adds –"  # keeps the label's size, so frames of an animation keep their layout
    return label


def _check_options(rankdir: str, show: Any, fmt: str, collapse: Any, max_nodes: Any, step: Any,
                   digits: Any, title: Any = None, what: str = "draw") -> tuple[str, ...]:
    if not isinstance(rankdir, str) or rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"{what}: rankdir must be 'LR' or 'TB' (or 'RL', 'BT'), got {rankdir!r:.40}")
    given = show
    try:
        show = (show,) if isinstance(show, str) else tuple(show)
    except TypeError:
        show = None
    if show is None or not all(isinstance(f, str) and f in FIELDS for f in show):
        raise ValueError(f"{what}: show must be a field name or a sequence of them from {FIELDS}, got "
                         f"{type(given).__name__}: {given!r:.40}")
    if not isinstance(fmt, str) or fmt not in graphviz.FORMATS:
        raise ValueError(f"{what}: format must be a Graphviz output format such as 'svg' or 'png' (one of "
                         f"graphviz.FORMATS), got {fmt!r:.40}")
    if collapse is not None and (not isinstance(collapse, str) or collapse not in COLLAPSE_MODES):
        raise ValueError(f"{what}: collapse must be None, 'neuron' or 'layer', got {collapse!r:.40}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or isinstance(max_nodes, bool) or max_nodes < 1):
        raise ValueError(f"{what}: max_nodes must be a positive int or None, got {max_nodes!r:.40}")
    if step is not None and (not isinstance(step, int) or isinstance(step, bool)):
        raise ValueError(f"{what}: step must be None or an int (steps of backward done), got {step!r:.40}")
    if not isinstance(digits, int) or isinstance(digits, bool) or not 0 <= digits <= 15:
        raise ValueError(f"{what}: digits must be an int from 0 to 15, got {digits!r:.40}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{what}: title must be a str or None, got {type(title).__name__}: {title!r:.40}")
    return show


# -- the scene: which nodes are drawn, grouped how ------------------------------------------------------------

@dataclass
class _Scene:
    root: Any
    order: list
    group: dict        # node -> (layer,) or (layer, neuron) for collapsed nodes
    members: dict      # group key -> its nodes
    collapse: str | None
    roles: dict        # node -> "loss" / "target" in a collapsed network
    memo: dict = field(default_factory=dict)        # node -> its label's lines that stay the same each frame
    attr_memo: dict = field(default_factory=dict)   # DOT attribute text shared by many statements and frames
    edge_memo: dict = field(default_factory=dict)   # (node, input, no contribution yet) -> its edge's label


def _scene(root: Any, collapse: str | None, max_nodes: int | None, what: str) -> _Scene:
    """The graph to draw; ``ValueError`` (naming ``what``) above ``max_nodes`` drawn nodes, suggesting collapse=."""
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
            raise ValueError(f"{what}: collapse={collapse!r} found no node labelled as nn labels a neuron "
                             "(z0[1], a0[1], w01[1], b0[1]); draw without collapse")
        if collapse == "layer":
            group = {node: key[:1] for node, key in group.items()}
    count = len(set(group.values())) + sum(1 for n in order if n not in group) + \
        sum(1 for n in order if n not in group and n._op is not None)
    if max_nodes is not None and count > max_nodes:
        size = f"{count} nodes ({len(order)} values and {n_ops} operations)" if collapse is None else \
            f"{count} nodes even with collapse={collapse!r}"
        larger = "pass a larger max_nodes (max_nodes=None draws everything)"
        if collapse is None and not _neurons(order, consumers):  # no nn labels: collapse= would find no neuron
            raise ValueError(f"{what}: the graph has {size}, more than max_nodes={max_nodes}; {larger}, or draw a "
                             "smaller graph (collapse= draws an nn network by neuron or layer, from the labels nn "
                             "gives: z0[1], a0[1], w01[1], b0[1]; this graph has none)")
        advice = ("collapse='neuron' (one box per neuron) or collapse='layer' (one box per layer)"
                  if collapse is None else "collapse='layer'" if collapse == "neuron" else "a smaller graph")
        raise ValueError(f"{what}: the graph has {size}, more than max_nodes={max_nodes}; draw it with {advice}, "
                         f"or {larger}")
    members: dict = {}
    for node, key in group.items():
        members.setdefault(key, []).append(node)
    roles: dict = {}
    if group:
        roles[root] = "loss"
        last = max(key[0] for key in members)
        outputs = {n for n in order if group.get(n, (None,))[0] == last and NEURON_LABEL.match(n.label)
                   and n.label[0] in "az" and not any(group.get(c) == group[n] for c in consumers[n])}
        for node in order:  # the leaf met by the network's output outside every box: the target
            if node not in group and node._op is not None and any(x in outputs for x in node._inputs):
                for x in node._inputs:
                    if x._op is None and x not in group and x not in outputs:
                        roles[x] = "target"
    return _Scene(root, order, group, members, collapse, roles)


def _network_title(scene: _Scene) -> str:
    """'2-16-16-1 network by layer: 337 parameters' from the boxes of a collapsed drawing.

    A batch of samples has one z node per neuron and sample, all labelled alike: a layer's width is its distinct z
    labels. The input size is the number of inputs each first-layer neuron weighs (its weights' input indices, from
    their labels), not the leaves fed in (every sample's own)."""
    layers = sorted({key[0] for key in scene.members})
    widths = []
    for layer in layers:
        zs = {n.label for key, nodes in scene.members.items() if key[0] == layer for n in nodes
              if NEURON_LABEL.match(n.label) and n.label[0] == "z"}
        widths.append(len(zs))
    first = [n for key, nodes in scene.members.items() if key[0] == layers[0] for n in nodes]
    params = sum(1 for n in scene.group if n._op is None and n.label)
    sizes = "-".join(str(w) for w in [_input_size(first, scene.group), *widths])
    return f"{sizes} network, by {scene.collapse}: {params} parameters"


def _input_size(first: list, group: dict) -> int:
    """How many inputs the first layer's neurons take: the distinct input indices k of its weights w{j}{k}[l] /
    w{j}_{k}[l]; without such labels, the leaves feeding the layer from outside (one sample's inputs)."""
    weights = {n.label for n in first if n._op is None and WEIGHT_LABEL.match(n.label)}
    indices = set()
    for label in weights:
        j, k, _ = WEIGHT_LABEL.match(label).groups()
        if k is None and len(j) != 2:
            break  # w123[1]: which digits are the input's is not known
        indices.add(int(k if k is not None else j[1]))
    else:
        if indices:
            return len(indices)
    return len({x for n in first for x in n._inputs if x not in group and x._op is None})


# -- the drawn elements ------------------------------------------------------------------------------------------

@dataclass
class _Element:
    """One node or edge of the drawing: its DOT name (an edge: its key), label and attributes."""

    key: str
    label: _Label
    attrs: dict
    src: str = ""            # edges only
    dst: str = ""
    cluster: int | None = None   # the layer whose cluster holds it (collapse="neuron")


def _elements(scene: _Scene, state: _State, show: tuple, digits: int, edge_labels: bool, pending: bool
              ) -> tuple[list[_Element], list[_Element]]:
    """Every drawn node and edge of ``scene`` in ``state``: the one place that decides labels and colours."""
    order, group, members = scene.order, scene.group, scene.members
    ids = {node: f"n{i}" for i, node in enumerate(order)}
    group_ids = {key: "g" + "_".join(map(str, key)) for key in sorted(members)}

    def fill(nodes: list, default: str) -> dict:
        if state.current is not None and state.current in nodes:
            return {"fillcolor": "#ffd27f", "penwidth": "2"}
        if nodes and all(n in state.done for n in nodes):
            return {"fillcolor": "#d9f2d9"}
        return {"fillcolor": default}

    nodes: list[_Element] = []
    for node in order:
        if node in group:
            continue
        leaf = node._op is None
        attrs = {"shape": "box", "style": "rounded,filled", "margin": "0.08,0.04"}
        attrs.update(fill([node], "#eaf1fb" if leaf else "white"))
        if node is scene.root:
            attrs["penwidth"] = "2"
        label = _value_label(node, state, show, digits, edge_labels, scene.roles.get(node, ""), scene.memo)
        nodes.append(_Element(ids[node], label, attrs))
        if not leaf:
            op_attrs = {"shape": "ellipse", "style": "filled", "fillcolor": "#f0f0f0", "fontsize": "11",
                        "margin": "0.03,0.01", "height": "0.3", "width": "0.3"}
            if node is state.current:
                op_attrs.update(fillcolor="#ffd27f", penwidth="2")
            nodes.append(_Element(ids[node] + "op", _Label([_html(_op_symbol(node))]), op_attrs))
    for key in sorted(members):
        non_leaves = [n for n in members[key] if n._op is not None]
        attrs = {"shape": "box", "style": "rounded,filled", "margin": "0.12,0.06"}
        attrs.update(fill(non_leaves, "#fff6d6"))
        nodes.append(_Element(group_ids[key], _group_label(key, members[key], state, show, digits), attrs,
                              cluster=key[0] if scene.collapse == "neuron" else None))

    # Edges: one per use between drawn nodes; uses crossing into or out of a box are merged with a count.
    edges: list[_Element] = []
    merged: dict = {}
    for node in order:
        if node._op is None:
            continue
        if node not in group:
            edges.append(_Element(f"{ids[node]}o", _Label([]), {}, ids[node] + "op", ids[node]))
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
            label = _Label([])
            if edge_labels:
                local, contribution = state.edges.get((node, i), (None, None))
                memo_key = (node, i, contribution is None)  # one scene's frames: a contribution, once made, stays
                label = scene.edge_memo.get(memo_key)
                if label is None:
                    label = scene.edge_memo[memo_key] = _edge_label(local, contribution, digits, pending)
                if label.lines or label.dynamic is not None:
                    attrs["decorate"] = "true"
            if node is state.current:
                attrs.update(color="#c77700", penwidth="2")
            edges.append(_Element(f"{ids[node]}i{i}", label, attrs, src, dst))
    for k, ((src, dst), n) in enumerate(merged.items()):
        attrs = {}
        if src.startswith("g") and dst.startswith("g"):
            attrs.update(color="#777777", penwidth="0.6")  # box to box: many such edges in neuron mode
        edges.append(_Element(f"m{k}", _Label([f"×{n}"] if n > 1 else []), attrs, src, dst))
    return nodes, edges


def _captions(scene: _Scene, state: _State, edge_labels: bool, stepping: bool) -> list[str]:
    captions = [state.caption] if state.caption else []
    if edge_labels:
        captions.append("edge: local = ∂out/∂in;  adds = grad(out) × local, added to grad(in)")
    if stepping:
        captions.append("orange: this step · green: done · grey grad: not reached yet")
    return captions


def _dot_attrs(label: str, attrs: dict, memo: dict) -> str:
    """`` [label=... key="value" ...]``: the DOT attribute list of one statement, written directly (graphviz's
    general quoting costs most of a frame's time). An HTML label ``<...>`` goes as it is; every other value
    is quoted with its backslashes and quotes escaped; names are our own identifiers. ``memo`` keeps the
    attribute part, which many statements share."""
    key = tuple(attrs.items())
    rest = memo.get(key)
    if rest is None:
        rest = memo[key] = "".join(f" {k}={_quote(v)}" for k, v in attrs.items())
    if label:
        return f" [label={label if label.startswith('<') else _quote(label)}{rest}]"
    return f" [{rest[1:]}]" if rest else ""


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _digraph(nodes: list, edges: list, rankdir: str, fmt: str, title: str, captions: list[str],
             layout_texts: dict | None = None, id_prefix: str | None = None, memo: dict | None = None) -> Drawing:
    """The ``Drawing`` of ``nodes`` and ``edges``. ``layout_texts`` (key -> text) replaces changing lines
    by stand-ins (an animation lays out its widest frame); ``id_prefix`` gives each element an SVG id."""
    layout_texts = layout_texts or {}
    memo = {} if memo is None else memo
    g = Drawing(format=fmt, graph_attr={"rankdir": rankdir, "fontname": FONT, "fontsize": "14",
                                        "nodesep": "0.18", "ranksep": "0.3"},
                node_attr={"fontname": FONT, "fontsize": "12"},
                edge_attr={"fontname": FONT, "fontsize": "11", "arrowsize": "0.6"})
    clusters: dict = {}
    for element in nodes:
        attrs = element.attrs if id_prefix is None else dict(element.attrs, id=id_prefix + element.key)
        body = g.body
        if element.cluster is not None:
            if element.cluster not in clusters:
                sub = graphviz.Digraph(name=f"cluster_layer{element.cluster}")
                sub.attr(label=f"layer {element.cluster}", style="rounded,dashed", color="#888888", fontname=FONT)
                clusters[element.cluster] = sub
            body = clusters[element.cluster].body
        label = element.label.node_html(layout_texts.get(element.key))
        body.append(f"\t{element.key}{_dot_attrs(label, attrs, memo)}\n")
    for sub in clusters.values():
        g.subgraph(sub)
    for element in nodes:  # an operation beside its result: half the ranks, so a narrower (or shorter) picture
        if element.key.endswith("op"):
            g.body.append(f"\t{{rank=same; {element.key}; {element.key[:-2]}}}\n")
    for element in edges:
        attrs = element.attrs if id_prefix is None else dict(element.attrs, id=id_prefix + element.key)
        text = element.label.edge_text(layout_texts.get(element.key))
        g.body.append(f"\t{element.src} -> {element.dst}{_dot_attrs(text, attrs, memo)}\n")
    lines = ([f'<B><FONT POINT-SIZE="16">{_html(title, 200)}</FONT></B>'] if title else []) + \
        [_html(c, 400) for c in captions]
    if lines:
        g.attr(label="<" + "".join(line + '<BR ALIGN="LEFT"/>' for line in lines) + ">",
               labelloc="t", labeljust="l")
    return g


def draw(root: Any, rankdir: str = "TB", show: Iterable[str] = FIELDS, edge_labels: bool = False,
         format: str = "svg", collapse: str | None = None, max_nodes: int | None = DEFAULT_MAX_NODES,  # noqa: A002
         step: int | None = None, digits: int = 4, title: str | None = None) -> Drawing:
    """Draw the graph that computed ``root``: values as boxes, each operation as its own small node.

    Top to bottom by default (``rankdir="LR"``: left to right), each operation
    beside its result. ``show`` picks the fields of a value box; ``edge_labels`` puts on each
    edge input → op the local derivative ∂out/∂in and the contribution
    grad(out) × ∂out/∂in it adds to grad(in), and a node used several times
    shows its grad as the sum of what it received. ``collapse`` ("neuron" or
    "layer") draws each neuron or layer of an ``nn`` network as one box, under
    a title naming the network (``title`` sets your own), with the loss and the
    target marked. A graph with more than ``max_nodes`` drawn nodes raises
    ``ValueError`` (``max_nodes=None`` draws anything). ``step=k`` draws the
    state after k steps of backward (computed on the side; the graph's grads
    are not read or changed). Numbers show ``digits`` decimals. Before
    ``backward()`` has run, the picture says so and shows no grads.
    """
    show = _check_options(rankdir, show, format, collapse, max_nodes, step, digits, title)
    check_node(root, "draw")
    scene = _scene(root, collapse, max_nodes, "draw")
    state = _full_state(root, scene.order, edge_labels) if step is None else _step_state(explain(root), step)
    return _drawing(scene, state, rankdir, show, format, digits, edge_labels, title, stepping=step is not None)


def _drawing(scene: _Scene, state: _State, rankdir: str, show: tuple, fmt: str, digits: int, edge_labels: bool,
             title: str | None, stepping: bool) -> Drawing:
    nodes, edges = _elements(scene, state, show, digits, edge_labels, pending=stepping)
    if title is None and scene.collapse is not None:
        title = _network_title(scene)
    return _digraph(nodes, edges, rankdir, fmt, title or "", _captions(scene, state, edge_labels, stepping),
                    memo=scene.attr_memo)


def frames(root: Any, **options: Any) -> list[Drawing]:
    """``draw(root, step=k, **options)`` for k = 0 … number of backward steps: the backward pass as frames.

    The explanation of the pass is computed once and shared by every frame.
    """
    if "step" in options:
        raise ValueError("frames draws every step itself; do not pass step")
    check_node(root, "frames")
    unknown = sorted(set(options) - set(_DRAW_OPTIONS))
    if unknown:
        raise TypeError(f"frames: unknown option {unknown[0]!r}; it takes draw's options {_DRAW_OPTIONS}")
    o = dict(_DRAW_DEFAULTS, **options)
    show = _check_options(o["rankdir"], o["show"], o["format"], o["collapse"], o["max_nodes"], None, o["digits"],
                          o["title"], what="frames")
    scene = _scene(root, o["collapse"], o["max_nodes"], "frames")
    ex = explain(root)
    return [_drawing(scene, _step_state(ex, k), o["rankdir"], show, o["format"], o["digits"], o["edge_labels"],
                     o["title"], stepping=True) for k in range(len(ex.steps) + 1)]


_DRAW_DEFAULTS = {"rankdir": "TB", "show": FIELDS, "edge_labels": False, "format": "svg", "collapse": None,
                  "max_nodes": DEFAULT_MAX_NODES, "digits": 4, "title": None}
_DRAW_OPTIONS = tuple(_DRAW_DEFAULTS)


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

    Without Graphviz's ``dot`` the SVG is text instead: the value, its grad and how to install Graphviz
    (a notebook cell then shows that rather than failing; ``draw(...)`` itself still raises).
    """
    check_node(node, "notebook_svg")
    if _count_up_to(node, DEFAULT_MAX_NODES) > DEFAULT_MAX_NODES:
        return None
    try:
        return draw(node).pipe(format="svg", encoding="utf-8")
    except GraphvizNotFoundError:
        return _text_svg([f"{type(node).__name__} {_safe(node.label)}".rstrip() + ": data "
                          + _format_data(node.data) + ", grad " + _format_data(_grad_shown(node.grad)),
                          "(no picture: Graphviz's dot program is not installed; apt-get install graphviz, "
                          "brew install graphviz or conda install -c conda-forge graphviz, then restart the kernel)"])


def _text_svg(lines: list[str]) -> str:
    """A small SVG holding ``lines`` of text, one below the other."""
    height = 20 * len(lines) + 8
    width = 8 + 7 * max(len(line) for line in lines)
    texts = "".join(f'<text x="4" y="{18 + 20 * i}">{html.escape(line)}</text>' for i, line in enumerate(lines))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="monospace" font-size="12">{texts}</svg>')
