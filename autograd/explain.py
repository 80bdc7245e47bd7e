"""The chain rule step by step, and checking a hand-worked table against the engine.

``explain(root)`` replays the backward pass *on the side* (the graph's own
``grad`` fields are left as they were) and records, for every node in the
order backward visits it: its upstream gradient ∂C/∂node, the local
derivatives ∂node/∂input, the contributions upstream × local and each input's
gradient accumulated so far. It prints as text, Markdown or LaTeX in the
reports' notation (δ, σ′(z), ∂C/∂w), with names taken from the labels ``nn``
gives: ``w01[1]`` → w₀₁^[1], ``z0[1]`` → z₀^[1] whose gradient is δ₀^[1].

``verify(table, graph)`` checks a hand-worked table entry by entry: the hand's
value, the engine's exact value, the value recomputed from the hand's *own*
earlier entries, and a verdict.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from .graph import check_node, topological_order

# Labels that nn gives (and the worked example uses): z0[1], a0[1], b0[1], w01[1] or w0_1[1].
NEURON_LABEL = re.compile(r"^([zab])(\d+)\[(\d+)\]$")
WEIGHT_LABEL = re.compile(r"^w(\d+)(?:_(\d+))?\[(\d+)\]$")

AGREES = "agrees"
WITHIN_ROUNDING = "agrees within hand rounding"
WRONG = "wrong"


# -- formatting shared with draw.py ----------------------------------------------------------------

def _format_number(x: Any, digits: int = 4) -> str:
    """``x`` with ``digits`` decimals (0.0041); scientific when that would hide it (4.000e-05) or it is huge."""
    try:
        x = float(x)
    except (TypeError, ValueError, OverflowError):
        raise TypeError(f"a number to format must be a real number, got {type(x).__name__}: {x!r:.40}") from None
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return f"{0.0:.{digits}f}"
    if abs(x) < 10.0**-digits or abs(x) >= 1e6:
        return f"{x:.{max(digits - 1, 0)}e}"
    return f"{x:.{digits}f}"


def _format_data(x: Any, digits: int = 4, max_numbers: int = 4) -> str:
    """A scalar as a number; an ndarray as its numbers when small, else as its shape."""
    if x is None:
        return "–"
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return _format_number(x, digits)
        if x.size <= max_numbers:
            return "[" + ", ".join(_format_number(v, digits) for v in x.ravel()) + "]"
        return "shape " + "×".join(str(n) for n in x.shape)
    return _format_number(x, digits)


def _short(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return _format_data(x, 3)
    return f"{float(x):g}"


def _op_symbol(node: Any) -> str:
    """The drawn symbol of ``node``'s op, with its parameter where it has one (``^2``, ``LeakyReLU(0.1)``)."""
    op = node._op
    symbol = getattr(op, "symbol", None) or op.name
    ctx = getattr(node, "_ctx", None)
    if op.name == "pow" and len(node._inputs) == 1 and isinstance(ctx, (int, float)):
        return f"^{ctx:g}"
    if op.name == "leaky_relu" and isinstance(ctx, (int, float)):
        return f"{symbol}({ctx:g})"
    return symbol


_BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def _node_names(order: list) -> dict:
    """A readable name per node: its label; a constant leaf's number; else a short expression or ``op#i``."""
    names: dict = {}
    for i, node in enumerate(order):
        if node.label:
            names[node] = node.label
        elif node._op is None:
            names[node] = _short(node.data)
        else:
            names[node] = _expression(node, [names[x] for x in node._inputs], order_index=i)
    return names


def _is_compound(name: str) -> bool:
    """Whether a name needs parentheses as an operand ("ŷ-y" does, "-0.5" and "w01[1]" do not)."""
    top_level = re.sub(r"\([^()]*\)", "()", name)  # what parentheses already group does not count
    return bool(re.search(r"[+\-*/ ]", top_level.removeprefix("-")))


def _expression(node: Any, args: list[str], order_index: int) -> str:
    op = node._op

    def wrap(name: str, x: Any) -> str:
        return f"({name})" if _is_compound(name) else name

    args = [wrap(a, x) for a, x in zip(args, node._inputs)]
    if op.name in _BINARY and len(args) == 2:
        expr = f"{args[0]}{_BINARY[op.name]}{args[1]}"
    elif op.name == "neg":
        expr = f"-{args[0]}"
    elif op.name == "pow" and len(args) == 1:
        expr = f"{args[0]}{_op_symbol(node)}"
    elif len(args) == 1:
        expr = f"{_op_symbol(node)}({args[0]})"
    else:
        expr = ""
    return expr if 0 < len(expr) <= 24 else f"{op.name}#{order_index}"


def _sub(index: str) -> str:
    """A LaTeX subscript: ``_0`` for one character, ``_{01}`` for more."""
    return f"_{index}" if len(index) == 1 else f"_{{{index}}}"


def _latex_name(name: str) -> str:
    """A label in the reports' LaTeX: ``w01[1]`` → ``w_{01}^{[1]}``, ``x0`` → ``x_0``, ``ŷ`` → ``\\hat{y}``."""
    if m := WEIGHT_LABEL.match(name):
        j, k, l = m.groups()
        return f"w{_sub(j + (',' + k if k else ''))}^{{[{l}]}}"
    if m := NEURON_LABEL.match(name):
        letter, j, l = m.groups()
        return f"{letter}{_sub(j)}^{{[{l}]}}"
    if m := re.fullmatch(r"([A-Za-z])(\d+)", name):
        return f"{m.group(1)}{_sub(m.group(2))}"
    if name in ("yhat", "y_hat"):
        return r"\hat{y}"
    if re.fullmatch(r"[A-Za-z0-9ŷ+\-*/^().,\s]*", name):
        return name.replace("ŷ", r"\hat{y}").replace("*", r" \cdot ")
    escaped = re.sub(r"([#_%&${}])", r"\\\1", name)
    return rf"\text{{{escaped}}}"


def _latex_grad_name(node: Any, name: str, root_name: str) -> str:
    """∂C/∂node in the reports' notation: δ_j^[l] for a pre-activation z_j^[l], else a fraction."""
    if node.label and (m := NEURON_LABEL.match(node.label)) and m.group(1) == "z":
        return rf"\delta{_sub(m.group(2))}^{{[{m.group(3)}]}}"
    inner = _latex_name(name)
    return rf"\frac{{\partial {root_name}}}{{\partial {f'({inner})' if _is_compound(name) else inner}}}"


_ACTIVATION_LATEX = {"sigmoid": r"\sigma'", "tanh": r"\tanh'", "relu": r"\mathrm{ReLU}'",
                     "leaky_relu": r"\mathrm{LeakyReLU}'", "exp": r"\exp'", "log": r"\log'"}


def _latex_local(node: Any, position: int, names: dict) -> str:
    """∂node/∂input in the reports' notation: σ'(z), x_i for a weight of a dot, else a fraction."""
    op = node._op
    child = node._inputs[position]
    if op.name in _ACTIVATION_LATEX and len(node._inputs) == 1:
        return f"{_ACTIVATION_LATEX[op.name]}({_latex_name(names[child])})"
    if op.name == "dot" and isinstance(node._ctx, int):
        n = node._ctx
        if position < n:
            return _latex_name(names[node._inputs[n + position]])
        if position < 2 * n:
            return _latex_name(names[node._inputs[position - n]])
        return "1"
    def part(x: Any) -> str:
        inner = _latex_name(names[x])
        return f"({inner})" if _is_compound(names[x]) else inner

    return rf"\frac{{\partial {part(node)}}}{{\partial {part(child)}}}"


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
        rows = [self._HEADER] + self._rows(digits)
        widths = [max(len(r[c]) for r in rows) for c in range(len(self._HEADER))]
        root = self.names[self.root]
        lines = [f"backward of {root}: seed ∂{root}/∂{root} = {_format_data(self.seed, digits)}, "
                 f"{len(self.steps)} steps"]
        for r in rows:
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
        return "\n".join(lines)

    def to_markdown(self, digits: int = 4) -> str:
        """A Markdown table (names in LaTeX math), one row per edge."""
        def math_name(cell: str) -> str:
            return f"${_latex_name(cell)}$" if cell else ""

        lines = ["| " + " | ".join(self._HEADER) + " |", "|" + "---|" * len(self._HEADER)]
        for r in self._rows(digits):
            r = [r[0], math_name(r[1]), f"`{r[2]}`" if r[2] else "", r[3], math_name(r[4]), *r[5:]]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |")
        return "\n".join(lines)

    def to_latex(self, digits: int = 4) -> str:
        """An ``align*`` block: for each edge, ∂C/∂input (+)= ∂C/∂node · ∂node/∂input = numbers."""
        names = self.names
        root_name = _latex_name(names[self.root]) if self.root.label else "C"
        lines = [rf"\frac{{\partial {root_name}}}{{\partial {root_name}}} &= {_format_data(self.seed, digits)}"]
        for s in self.steps:
            upstream_name = _latex_grad_name(s.node, names[s.node], root_name)
            for i, child in enumerate(s.inputs):
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


# -- checking a hand-worked table ------------------------------------------------------------------------

_SECTIONS = ("forward", "loss", "backward", "gradients")
_SIGMA_PRIME = re.compile(r"^(?:sigma_prime|σ'|σ′)\((.+)\)$")
_DELTA = re.compile(r"^(?:delta|δ)(\d*)\[(\d+)\]$")
_OUTPUT_NAMES = ("yhat", "y_hat", "ŷ")
_ROOT_NAMES = ("C", "loss", "L")


@dataclass(frozen=True)
class Entry:
    """One line of a hand-worked table, checked."""

    name: str
    kind: str            # "value", "gradient" or "local derivative"
    hand: float
    exact: float
    recomputed: float    # from the hand's own earlier entries (nan if they leave it undefined)
    how: str             # the recomputation with the hand's numbers
    decimals: int        # decimals the hand claims for this entry
    verdict: str         # AGREES, WITHIN_ROUNDING or WRONG

    @property
    def tolerance(self) -> float:
        """Half a unit in the last decimal shown."""
        return 0.5 * 10.0**-self.decimals


class Verification:
    """The checked entries of a hand-worked table (see ``verify``)."""

    def __init__(self, entries: list[Entry]):
        self.entries = entries

    @property
    def wrong(self) -> list[Entry]:
        return [e for e in self.entries if e.verdict == WRONG]

    @property
    def first_wrong(self) -> Entry | None:
        """The first entry, in the table's order, that is wrong even from the hand's own numbers."""
        return self.wrong[0] if self.wrong else None

    def __getitem__(self, name: str) -> Entry:
        for e in self.entries:
            if e.name == name:
                return e
        raise KeyError(name)

    def to_text(self) -> str:
        """One line per entry, then the first wrong step and the counts."""
        header = ["entry", "hand", "engine (exact)", "from hand's own entries", "verdict"]
        rows = [header] + [[e.name, f"{e.hand:.{e.decimals}f}", f"{e.exact:.{e.decimals + 2}f}",
                            f"{e.recomputed:.{e.decimals + 2}f}  = {e.how}", e.verdict] for e in self.entries]
        widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        lines.append("")
        first = self.first_wrong
        if first is None:
            lines.append("No wrong step: every entry agrees with the engine or with the hand's own numbers.")
        else:
            units = abs(first.hand - first.recomputed) / 10.0**-first.decimals
            lines.append(f"First wrong step: {first.name} = {first.hand:.{first.decimals}f}, but the hand's own "
                         f"entries give {first.how} = {first.recomputed:.{first.decimals + 2}f} "
                         f"({units:.1f} units of the last decimal away; rounding allows 0.5); "
                         f"engine {first.exact:.{first.decimals + 2}f}.")
            for e in self.wrong[1:]:
                units = abs(e.hand - e.recomputed) / 10.0**-e.decimals
                lines.append(f"Also wrong: {e.name} = {e.hand:.{e.decimals}f}, but {e.how} = "
                             f"{e.recomputed:.{e.decimals + 2}f} ({units:.1f} units away).")
        counts = {v: sum(e.verdict == v for e in self.entries) for v in (AGREES, WITHIN_ROUNDING, WRONG)}
        lines.append(f"{counts[AGREES]} agree, {counts[WITHIN_ROUNDING]} agree within hand rounding, "
                     f"{counts[WRONG]} wrong (of {len(self.entries)}).")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The same as a Markdown table."""
        lines = ["| entry | hand | engine (exact) | from hand's own entries | verdict |", "|---|---|---|---|---|"]
        for e in self.entries:
            verdict = f"**{e.verdict}**" if e.verdict == WRONG else e.verdict
            lines.append(f"| `{e.name}` | {e.hand:.{e.decimals}f} | {e.exact:.{e.decimals + 2}f} | "
                         f"{e.recomputed:.{e.decimals + 2}f} = {e.how} | {verdict} |")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def _load_table(table: Any) -> tuple[dict[str, Any], int | None]:
    """Entries (name → number, Decimal when read from a file so trailing zeros count) and the stated decimals."""
    if isinstance(table, (str, Path)):
        path = Path(table)
        if not path.is_file():
            raise ValueError(f"verify: table file {str(path)!r} does not exist; expected a dict or the path of a "
                             "JSON table such as autograd/data/hand_derivation_2-2-1.json")
        try:
            table = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"verify: table file {str(path)!r} is not a JSON table ({error}); expected a JSON "
                             "object of entries") from None
    if not isinstance(table, Mapping):
        raise TypeError(f"verify expects the table as a dict or a path to a JSON file, got {type(table).__name__}")
    stated = None
    if isinstance(table.get("decimals"), int):
        stated = table["decimals"]
    elif isinstance(table.get("precision"), str) and (m := re.search(r"(\d+)\s+decimals", table["precision"])):
        stated = int(m.group(1))
    if any(s in table for s in _SECTIONS):
        flat: dict[str, Any] = {}
        for s in _SECTIONS:
            flat.update(table.get(s, {}))
    else:
        flat = {k: v for k, v in table.items() if k not in ("decimals", "precision")}
    for name, v in flat.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, Decimal)):
            raise TypeError(f"verify: table entry {name!r} must be a number, got {type(v).__name__}: {v!r}")
    return flat, stated


def _decimals_shown(v: Any) -> int:
    if isinstance(v, Decimal):
        return max(-v.as_tuple().exponent, 0)
    text = repr(float(v))
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def _graph_root(model_or_graph: Any) -> Any:
    root = getattr(model_or_graph, "loss", model_or_graph)
    check_node(root, "verify (the loss node, or an object with a .loss node)")
    return root


class _Resolver:
    """Maps the reports' names to (kind, node, input position) in a labelled graph."""

    def __init__(self, root: Any, order: list):
        self.root = root
        self.by_label: dict[str, list] = {}
        for node in order:
            if node.label:
                self.by_label.setdefault(node.label, []).append(node)
        self.consumers: dict = {node: [] for node in order}
        for node in order:
            for child in set(node._inputs):
                self.consumers[child].append(node)

    def _labelled(self, label: str) -> Any | None:
        nodes = self.by_label.get(label, [])
        return nodes[0] if len(nodes) == 1 else None

    def output(self) -> Any | None:
        for name in _OUTPUT_NAMES:
            if node := self._labelled(name):
                return node
        layers: dict[int, dict[str, list]] = {}
        for label, nodes in self.by_label.items():
            if (m := NEURON_LABEL.match(label)) and m.group(1) in "za":
                layers.setdefault(int(m.group(3)), {}).setdefault(m.group(1), []).extend(nodes)
        if not layers:
            return None
        last = layers[max(layers)]
        last = last.get("a") or last["z"]  # an identity output has no a node: z is the output
        return last[0] if len(last) == 1 else None

    def activation_of(self, z: Any) -> tuple[Any, int] | None:
        m = NEURON_LABEL.match(z.label or "")
        wanted = f"a{m.group(2)}[{m.group(3)}]" if m else None
        single = [c for c in self.consumers.get(z, []) if len(c._inputs) == 1]
        chosen = [c for c in single if c.label == wanted] or single
        return (chosen[0], 0) if len(chosen) == 1 else None

    def resolve(self, name: str) -> tuple[str, Any, int] | None:
        if name in _ROOT_NAMES and not self._labelled(name) or name == self.root.label:
            return ("value", self.root, -1)
        if name in _OUTPUT_NAMES:
            out = self.output()
            return ("value", out, -1) if out is not None else None
        if m := _SIGMA_PRIME.match(name):
            z = self._labelled(m.group(1))
            found = self.activation_of(z) if z is not None else None
            return ("local derivative", found[0], found[1]) if found else None
        if m := _DELTA.match(name):
            j, l = m.groups()
            if j:
                z = self._labelled(f"z{j}[{l}]")
            else:
                zs = [n for label, ns in self.by_label.items() for n in ns
                      if (mm := NEURON_LABEL.match(label)) and mm.group(1) == "z" and mm.group(3) == l]
                z = zs[0] if len(zs) == 1 else None
            return ("gradient", z, -1) if z is not None else None
        node = self._labelled(name)
        if node is None:
            return None
        is_parameter = WEIGHT_LABEL.match(name) or ((m := NEURON_LABEL.match(name)) and m.group(1) == "b")
        return ("gradient" if is_parameter else "value", node, -1)

    def known_names(self) -> list[str]:
        names = ["C"] + (["yhat"] if self.output() is not None else [])
        for label in self.by_label:
            if label in names:
                continue
            names.append(label)
            m = NEURON_LABEL.match(label)
            if m and m.group(1) == "z":
                names.append(f"delta{m.group(2)}[{m.group(3)}]")
                if self.activation_of(self._labelled(label) or self.root):
                    names.append(f"sigma_prime({label})")
        return names


def verify(table: Mapping | str | Path, model_or_graph: Any, decimals: int | None = None) -> Verification:
    """Check every entry of a hand-worked table against the graph whose loss is ``model_or_graph``.

    ``table`` is the dict of ``hand_derivation_2-2-1.json`` (sections forward,
    loss, backward, gradients) or a flat name → number dict, or a path to such
    a JSON file. ``model_or_graph`` is the loss node or an object with ``.loss``
    (``worked_example.two_two_one()``). Names: ``zj[l]``/``aj[l]`` and other
    labels → that node's value; ``yhat`` → the network output; ``C`` → the root;
    ``delta[l]``/``deltaj[l]`` → ∂C/∂z_j^[l]; ``sigma_prime(zj[l])`` →
    ∂a_j^[l]/∂z_j^[l]; parameter labels (``w..[l]``, ``bj[l]``) → their gradient.

    Each entry is compared with the exact value and with the value recomputed
    from the hand's own entries: forward values from the op with the hand's
    inputs; gradients by the chain rule from the hand's upstream gradients and
    the local derivatives at the hand's forward values (the hand's σ′ where it
    gives one). Verdict, with d the decimals shown and tol = ½·10⁻ᵈ (plus a
    float epsilon): "agrees" if |hand − exact| ≤ tol; "agrees within hand
    rounding" if |hand − recomputed| ≤ tol; else "wrong". The grads of the
    graph are not changed.
    """
    entries_in, stated = _load_table(table)
    if decimals is not None and (not isinstance(decimals, int) or isinstance(decimals, bool)
                                 or not 0 <= decimals <= 17):  # float64 holds about 17 significant digits
        raise ValueError(f"verify: decimals must be an int from 0 to 17, got {decimals!r}")
    root = _graph_root(model_or_graph)
    order = topological_order(root)
    resolver = _Resolver(root, order)
    targets = {name: resolver.resolve(name) for name in entries_in}
    unknown = [name for name, t in targets.items() if t is None]
    if unknown:
        raise ValueError(f"verify: the table names {unknown} match nothing in the graph; "
                         f"known names: {resolver.known_names()}")

    hand = {name: float(v) for name, v in entries_in.items()}
    value_of = {t[1]: hand[n] for n, t in targets.items() if t[0] == "value"}
    grad_of = {t[1]: hand[n] for n, t in targets.items() if t[0] == "gradient"}
    local_of = {(t[1], t[2]): hand[n] for n, t in targets.items() if t[0] == "local derivative"}

    # Forward with the hand's numbers wherever the table has them.
    hv: dict = {}
    forward_from_own: dict = {}
    for node in order:
        if node._op is None:
            forward_from_own[node] = (node.data, f"{node.data:g}")
        else:
            xs = [hv[x] for x in node._inputs]
            try:
                out = node._op.forward(xs, node._ctx)
            except (ValueError, ZeroDivisionError):
                out = math.nan
            forward_from_own[node] = (out, f"{node._op.name}({', '.join(f'{x:.6g}' for x in xs)})")
        hv[node] = value_of.get(node, forward_from_own[node][0])

    # Backward with the hand's upstream gradients and σ′ wherever the table has them.
    hg: dict = {root: 1.0}
    terms: dict = {root: []}
    grad_from_own: dict = {}
    local_from_own: dict = {}
    for node in reversed(order):
        if node in grad_of:
            grad_from_own[node] = (hg.get(node, 0.0), " + ".join(terms.get(node, [])) or "0")
            hg[node] = grad_of[node]
        if node._op is None:
            continue
        xs = [hv[x] for x in node._inputs]
        try:
            local = list(node._op.derivatives(xs, hv[node], node._ctx))
        except (ValueError, ZeroDivisionError):
            local = [math.nan] * len(xs)
        for i, d in enumerate(local):
            if (node, i) in local_of:
                local_from_own[(node, i)] = (d, f"{node._op.name}'({xs[i]:.6g})")
                local[i] = local_of[(node, i)]
        g = hg.get(node, 0.0)
        for child, d in zip(node._inputs, local):
            hg[child] = hg.get(child, 0.0) + g * d
            terms.setdefault(child, []).append(f"({g:.6g})×({d:.6g})")

    exact_grads = explain(root).grads
    entries = []
    for name, (kind, node, position) in targets.items():
        if kind == "value":
            exact, (recomputed, how) = node.data, forward_from_own[node]
        elif kind == "gradient":
            exact, (recomputed, how) = exact_grads.get(node, 0.0), grad_from_own[node]
        else:
            exact, (recomputed, how) = _local_derivatives(node)[position], local_from_own[(node, position)]
        d = decimals if decimals is not None else max(_decimals_shown(entries_in[name]), stated or 0)
        tol = 0.5 * 10.0**-d * (1 + 1e-9) + 1e-15
        h = hand[name]
        if abs(h - exact) <= tol:
            verdict = AGREES
        elif abs(h - recomputed) <= tol:
            verdict = WITHIN_ROUNDING
        else:
            verdict = WRONG
        entries.append(Entry(name, kind, h, float(exact), float(recomputed), how, d, verdict))
    return Verification(entries)
