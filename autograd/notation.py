"""The reports' notation, shared by ``draw``, ``explain``, ``verify`` and ``worksheet``.

Numbers: ``_format_number`` / ``_format_data`` (one formatter for every picture
and table). Names: a readable name per node (its label, a constant's number, a
short expression), the reports' LaTeX (``w01[1]`` → w₀₁^[1], ∂C/∂z → δ) and
escaping for Markdown and LaTeX. Internal to ``autograd``: users meet these
through the drawings and tables.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

# Labels that nn gives (and the worked example uses): z0[1], a0[1], b0[1], w01[1] or w0_1[1].
NEURON_LABEL = re.compile(r"^([zab])(\d+)\[(\d+)\]$")
WEIGHT_LABEL = re.compile(r"^w(\d+)(?:_(\d+))?\[(\d+)\]$")

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


def check_digits(digits: Any, who: str) -> int:
    """``digits`` (the decimals a table shows) checked: an int from 0 to 17."""
    if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)):
        raise TypeError(f"{who} digits must be an int from 0 to 17 (decimals shown), got "
                        f"{type(digits).__name__}: {digits!r:.40}")
    if not 0 <= digits <= 17:
        raise ValueError(f"{who} digits must be an int from 0 to 17 (decimals shown), got {digits}")
    return int(digits)


def _format_data(x: Any, digits: int = 4, max_numbers: int = 4) -> str:
    """A scalar as a number; an ndarray as its numbers when small, else as its shape."""
    if x is None:
        return "–"
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return _format_number(x, digits)
        if x.size <= max_numbers:  # nested as numpy prints it, [[1, 2], [3, 4]], on one line
            text = np.array2string(x, separator=", ", max_line_width=10**6, threshold=max_numbers,
                                   formatter={"all": lambda v: _format_number(v, digits)})
            return re.sub(r"\n\s*", " ", text)
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


_BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@"}


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


def _root_names(root: Any, names: dict) -> tuple[str, str]:
    """(the root's name in ∂·/∂·, how to introduce it): its label or short name as it is; an unlabelled
    expression is C (as the reports and the tables' headers call the loss), introduced as "C = expression"."""
    name = names[root]
    if root.label or not (_is_compound(name) or "(" in name):
        return name, name
    return "C", f"C = {name}"


def _is_compound(name: str) -> bool:
    """Whether a name needs parentheses as an operand ("ŷ-y" does, "-0.5" and "w01[1]" do not)."""
    top_level = re.sub(r"\([^()]*\)", "()", name)  # what parentheses already group does not count
    return bool(re.search(r"[+\-*/ ]", top_level.removeprefix("-")))


def _ungrouped(name: str) -> str:
    """``name`` with every parenthesised part, however nested, as ``()``: what is left is its top level."""
    while True:
        shorter = re.sub(r"\([^()]*\)", "()", name)
        if shorter == name:
            return name
        name = shorter


def _expression(node: Any, args: list[str], order_index: int) -> str:
    op = node._op

    def wrap(name: str, x: Any) -> str:
        return f"({name})" if _is_compound(name) else name

    bare, args = args, [wrap(a, x) for a, x in zip(args, node._inputs)]
    if op.name in _BINARY and len(args) == 2:
        expr = f"{args[0]}{_BINARY[op.name]}{args[1]}"
    elif op.name == "neg":
        expr = f"-{args[0]}"
    elif op.name == "pow" and len(args) == 1:  # (-x)^2 and (x^2)^3: -x^2 reads as -(x^2), x^2^3 as x^(2^3)
        base = args[0]
        if base.startswith("-") or "^" in _ungrouped(base):
            base = f"({base})"
        expr = f"{base}{_op_symbol(node)}"
    elif op.name == "transpose" and len(args) == 1 and node._ctx is None:  # W.T reads Wᵀ, as written by hand
        expr = f"{args[0]}ᵀ"
    elif len(args) == 1:  # f(x*3), not f((x*3)): the call's parentheses group it already
        expr = f"{_op_symbol(node)}({bare[0]})"
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
    if re.fullmatch(r"[A-Za-z0-9ŷ+\-*/()., ]*", name) or ("^" in name and _superscripts_ok(name)):
        braced = _EXPONENT.sub(lambda m: f"^{{{m.group(1)}}}", name)  # x^10 is x^{10}, not x¹0
        return braced.replace("ŷ", r"\hat{y}").replace("*", r" \cdot ")
    return rf"\text{{{_latex_text(name)}}}"  # a ^ TeX cannot set as a superscript goes as \textasciicircum


# An exponent as a name writes it (_op_symbol's ^2, ^-1, ^0.5, ^1e-05, ^inf) or a single letter (x^n).
_EXPONENT = re.compile(r"\^(-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|inf|nan)|[A-Za-z](?![A-Za-z0-9]))")


def _superscripts_ok(name: str) -> bool:
    """Whether every ``^`` of ``name`` raises one operand to a written exponent, as TeX can set it: ``(x^2)^3`` and
    ``x^-1`` can; ``x^2^3`` (a double superscript), ``a^b^c`` and ``x^(y)`` cannot, and go as text."""
    if not re.fullmatch(r"[A-Za-z0-9ŷ+\-*/^()., ]*", name) or name.startswith("^"):
        return False
    rest = _EXPONENT.sub("\x00", name)  # each exponent as one marker: a ^ left over, or two in a row, fail
    return "^" not in rest and "\x00\x00" not in rest


_LATEX_TEXT_ESCAPES = {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                       "#": r"\#", "$": r"\$", "%": r"\%", "&": r"\&", "_": r"\_", "{": r"\{", "}": r"\}"}


def _printable(text: str) -> str:
    """``text`` on one line: newlines, tabs and other control characters become spaces."""
    return "".join(" " if not ch.isprintable() else ch for ch in text)


def _latex_text(text: str) -> str:
    """``text`` safe inside LaTeX's ``\\text{...}``: its special characters escaped, one line."""
    return "".join(_LATEX_TEXT_ESCAPES.get(ch, ch) for ch in _printable(text))


def _markdown_cell(text: str) -> str:
    """``text`` safe in one cell of a Markdown table: one line, ``|`` and backticks escaped, and HTML's ``&`` and
    ``<`` as entities (Jupyter renders the HTML inside Markdown: a label ``<!--`` would hide the rest)."""
    return _printable(text).replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|").replace("`", "\\`")


def _markdown_code(text: str) -> str:
    """``text`` as inline code in a Markdown table cell, shown as it is (a code span shows entities literally and
    renders no HTML): one line, ``|`` escaped, a backtick (which would end the span) as ``'``."""
    return "`" + _printable(text).replace("|", "\\|").replace("`", "'") + "`"


def _markdown_math(latex: str) -> str:
    """LaTeX as inline math in a Markdown table cell (``|`` escaped for the table)."""
    return "$" + _printable(latex).replace("|", "\\|") + "$"


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
    if op.name == "dot" and len(node._inputs) >= 2:  # w₀…wₙ₋₁, x₀…xₙ₋₁ and, if given, b
        n = len(node._inputs) // 2
        if position < n:
            return _latex_name(names[node._inputs[n + position]])
        if position < 2 * n:
            return _latex_name(names[node._inputs[position - n]])
        return "1"
    def part(x: Any) -> str:
        inner = _latex_name(names[x])
        return f"({inner})" if _is_compound(names[x]) else inner

    return rf"\frac{{\partial {part(node)}}}{{\partial {part(child)}}}"


