"""Trying to break the drawings (issue 15, items 19, 20 and 28): labels DOT cannot hold, Tensor graphs
before backward or with grads missing, and the picture of a graph whose backward has not run.

Every case must render with Graphviz (the rendering tests skip without ``dot``) and say what it shows.
"""

import math
import re
import shutil

import numpy as np
import pytest

import autograd
from autograd import Tensor, Value

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")

BACKSLASH_OP = autograd.ScalarOp("backslashed", "f\\", lambda xs, ctx: 2.0 * xs[0], lambda xs, out, ctx: [2.0])
QUOTE_OP = autograd.ScalarOp("quoted", 'g"', lambda xs, ctx: xs[0] + 1.0, lambda xs, out, ctx: [1.0])

#: Labels Graphviz rejects when written into DOT as they are, and what the drawing shows instead.
HOSTILE_LABELS = [
    ("control character", "a\x01b", "a\u2401b"),
    ("NUL", "nul\x00here", "nul\u2400here"),
    ("newline", "two\nlines", "two\u240alines"),
    ("DEL", "x\x7f", "x\u2421"),
    ("lone surrogate", "half \ud800 pair", "half \ufffd pair"),
    ("markup", '<b>&"quoted"</b>', "&lt;b&gt;&amp;&quot;quoted&quot;&lt;/b&gt;"),
    ("trailing backslash", "ends\\", "ends\\"),
    ("long label", "L" * 20000, "L" * 59 + "…"),
]


def labelled_graph(label):
    x = Value(0.5, label)
    y = (x * Value(2.0, label)).tanh()
    y.label = label
    return y


@pytest.mark.parametrize("label, shown", [(label, shown) for _, label, shown in HOSTILE_LABELS],
                         ids=[name for name, _, _ in HOSTILE_LABELS])
def test_hostile_labels_are_made_drawable_in_the_dot_source(label, shown):
    root = labelled_graph(label)
    root.backward()
    for src in (autograd.draw(root).source, autograd.draw(root, step=1, edge_labels=True).source):
        assert shown in src
        assert "\x00" not in src and "\x01" not in src and "\x7f" not in src
        assert not re.search(r"[\ud800-\udfff]", src)
        assert max(len(line) for line in src.splitlines()) < 2000  # 20,000 characters are cut, not drawn


@needs_dot
@pytest.mark.parametrize("label", [label for _, label, _ in HOSTILE_LABELS], ids=[n for n, _, _ in HOSTILE_LABELS])
def test_hostile_labels_render(label):
    root = labelled_graph(label)
    root.backward()
    svg = autograd.draw(root, edge_labels=True).pipe(format="svg", encoding="utf-8")
    assert "<svg" in svg and "grad 1.0000" in svg
    assert autograd.draw(root, step=2).pipe(format="png")[:4] == b"\x89PNG"  # its caption names the nodes


@needs_dot
def test_op_symbols_ending_in_a_backslash_or_holding_a_quote_render():
    x = Value(1.5, "x")
    y = QUOTE_OP(BACKSLASH_OP(x))
    y.backward()
    drawing = autograd.draw(y, edge_labels=True)
    assert "<f\\>" in drawing.source  # an HTML-like label: the backslash is an ordinary character
    svg = drawing.pipe(format="svg", encoding="utf-8")
    assert "f\\" in svg and "g&quot;" in svg
    assert "f\\" in autograd.draw(y, step=1).pipe(format="svg", encoding="utf-8")  # in the step caption too
    page = autograd.animate(y).to_html()
    assert "f\\" in page


@needs_dot
def test_animate_survives_hostile_labels():
    for _, label, _ in HOSTILE_LABELS:
        page = autograd.animate(labelled_graph(label)).to_html()
        assert "\x00" not in page and not re.search(r"[\ud800-\udfff]", page)
        assert "</script><" not in page.split('class="cr-data">', 1)[1].split("</script>", 1)[0] + "<"


def test_a_tensor_graph_draws_with_edge_labels_before_backward():
    W = Tensor(np.full((2, 3), 0.1), "W", requires_grad=True)
    loss = (W @ Tensor(np.ones(3), "x")).sigmoid().sum()
    src = autograd.draw(loss, edge_labels=True).source  # UFuncTypeError before the fix
    assert "backward() has not run" in src
    assert src.count("grad –") == 4  # W, W@x, its sigmoid and the sum; x takes no gradient: no grad line
    loss.backward()
    src = autograd.draw(loss, edge_labels=True).source
    assert "backward() has not run" not in src
    assert "grad [1.0000]" in src or "grad 1.0000" in src
    assert "grad shape 2×3" in src  # 6 entries: W's grad drawn as its shape...
    nodes = dict(re.findall(r'^\s*(\w+) \[label=(<.*?>) ', src, flags=re.M))
    x_label = next(label for label in nodes.values() if "<B>x</B>" in label)
    assert "grad" not in x_label  # ...and x, which takes no gradient, is drawn without one
    assert "grad –" not in src


def test_a_tensor_graph_with_some_grads_missing_draws():
    a = Tensor(np.array([1.0, -2.0]), "a", requires_grad=True)
    c = Tensor(np.array([3.0, 4.0]), "c")  # needs no grad: its consumers' grads stay None
    constant_part = (c * 2.0).exp()
    loss = (a * constant_part).sum()
    loss.backward()
    assert constant_part.grad is None
    src = autograd.draw(loss, edge_labels=True).source
    nodes = dict(re.findall(r'^\s*(\w+) \[label=(<.*?>) ', src, flags=re.M))
    # exp(2c) was computed from Tensors that take no gradient: a leaf that takes none, drawn without a grad line
    assert sum("grad" in label for label in nodes.values()) == 3  # a, a·exp(2c) and the sum
    assert sum("grad –" in label for label in nodes.values()) == 0
    ga = np.exp(np.array([3.0, 4.0]) * 2.0)  # ∂loss/∂a = exp(2c), written out
    assert f"grad [{ga[0]:.4f}, {ga[1]:.4f}]" in src


def test_a_value_graph_before_backward_says_so_in_the_picture():
    x = Value(2.0, "x")
    y = (x * 3.0).relu()
    src = autograd.draw(y, edge_labels=True).source
    assert "backward() has not run on this graph" in src and "grad 0.0000" not in src
    assert "local 3.0000" in src and not re.search(r"adds -?\d", src)  # local derivatives exist before backward
    y.backward()
    src = autograd.draw(y, edge_labels=True).source
    assert "backward() has not run" not in src and "grad 3.0000" in src and "adds 3.0000" in src


def test_nan_and_inf_are_drawn_as_they_are():
    x = Value(math.nan, "x")
    y = x * Value(math.inf, "big")
    y.backward()
    src = autograd.draw(y, edge_labels=True).source
    assert "data nan" in src and "data inf" in src and "grad nan" in src


def test_draw_title_is_checked_and_drawn():
    root = labelled_graph("x")
    assert "My \u2400 title" in autograd.draw(root, title="My \x00 title").source
    with pytest.raises(TypeError, match="draw: title must be a str or None, got int"):
        autograd.draw(root, title=3)
