"""Defects a tester found in what students look at (drawings, the animated page, explanations, worksheets read back
by verify), one test or more each. Expected values are derived by hand (layer sizes and parameter counts from the
network's shape, derivatives from the formulas), never taken from the library's own output."""

from __future__ import annotations

import json
import math
import re
import shutil
import sys

import pytest

import autograd
import nn
from autograd import Value
from autograd.draw import _safe
from autograd.notation import _latex_name

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


# -- 1. collapse="layer" counted every sample's z node and input leaf --------------------------------------------

def _boxes(source: str) -> tuple[list[str], list[str]]:
    return (re.findall(r"[\d-]+ network, by \w+: \d+ parameters", source),
            re.findall(r"\d+ neurons?, \d+ parameters", source))


@pytest.mark.parametrize("samples", [1, 4])
def test_a_collapsed_batch_counts_each_neuron_and_input_once(samples):
    X, y = nn.data.generate_XOR_easy()
    big = nn.MLP(2, [16, 16], 1, activations=["relu", "sigmoid", "sigmoid"], seed=1)
    loss = nn.MSELoss()(big(X[:samples]), y[:samples])
    titles, boxes = _boxes(autograd.draw(loss, collapse="layer").source)
    # 2 inputs; layer 1: 16·2 weights + 16 biases = 48; layer 2: 16·16 + 16 = 272; layer 3: 16 + 1 = 17; 337 in all
    assert titles == ["2-16-16-1 network, by layer: 337 parameters"]
    assert sorted(boxes) == sorted(["16 neurons, 48 parameters", "16 neurons, 272 parameters",
                                    "1 neuron, 17 parameters"])
    titles, _ = _boxes(autograd.draw(loss, collapse="neuron", max_nodes=None).source)
    assert titles == ["2-16-16-1 network, by neuron: 337 parameters"]


def test_a_collapsed_batch_reads_two_digit_weight_labels():
    model = nn.MLP(3, [12], 2, seed=0)  # neurons 10 and 11 are labelled w10_0[1] ...: the input index after _
    loss = nn.MSELoss()(model([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), [[0.0, 1.0], [1.0, 0.0]])
    titles, boxes = _boxes(autograd.draw(loss, collapse="layer").source)
    assert titles == ["3-12-2 network, by layer: 74 parameters"]  # 12·3 + 12 = 48 and 2·12 + 2 = 26
    assert sorted(boxes) == ["12 neurons, 48 parameters", "2 neurons, 26 parameters"]


# -- 2. names of powers, and their LaTeX ------------------------------------------------------------------------

def _powers() -> Value:
    x = Value(2.0, "x")
    return (x**2)**3 + (-x)**2 + x**10 + x**-1 + x**0.5


def test_a_power_of_a_negation_or_of_a_power_is_parenthesised():
    sheet = autograd.worksheet(_powers())
    names = {line.name for line in sheet.lines}
    assert {"x^2", "(x^2)^3", "-x", "(-x)^2", "x^10", "x^-1", "x^0.5"} <= names
    assert "-x^2" not in names and "x^2^3" not in names  # they read as -(x^2) and x^(2^3)
    meanings = {line.meaning for line in sheet.lines}
    assert "value of (-x)^2" in meanings and "value of (x^2)^3" in meanings
    y = Value(-3.0) ** 2  # a negative constant: (-3)^2 = 9, where -3^2 would read -9
    assert autograd.explain(y).names[y] == "(-3)^2"


def test_latex_braces_every_exponent():
    tex = autograd.explain(_powers()).to_latex()
    for braced in (r"x^{10}", r"x^{-1}", r"x^{0.5}", r"(x^{2})^{3}", r"(-x)^{2}"):
        assert braced in tex
    assert re.findall(r"\^[^{]", tex) == []          # x^10 would set x¹0, x^-1 x⁻1
    assert re.findall(r"\^\{[^{}]*\}\^", tex) == []  # a double superscript is a TeX error


def test_a_label_with_a_caret_tex_cannot_set_goes_as_text():
    assert _latex_name("x^2^3") == r"\text{x\textasciicircum{}2\textasciicircum{}3}"
    assert _latex_name("a^b^c") == r"\text{a\textasciicircum{}b\textasciicircum{}c}"
    assert _latex_name("x^(y)") == r"\text{x\textasciicircum{}(y)}"
    assert _latex_name("x^10") == "x^{10}" and _latex_name("x^n") == "x^{n}"
    v = Value(2.0, "x^2^3") * Value(3.0, "k")
    assert "textasciicircum" in autograd.explain(v).to_latex()


# -- 3. a worksheet's own key verifies, whatever its labels --------------------------------------------------

def test_a_worksheet_key_with_a_newline_in_a_label_verifies():
    p = Value(1.5, "a\nb")
    q = Value(-2.0, "q")
    r = p * q
    r.label = "r"
    key = json.loads(autograd.worksheet(r, answers=True).to_json())
    report = autograd.verify(key, r)  # it refused 'grad a\nb' while suggesting that very name
    assert report.wrong == [] and len(report) == 3  # r, grad q, grad a\nb
    key["backward"]["grad a\nb"] = -3.0  # ∂r/∂p = q = -2
    assert [e.name for e in autograd.verify(key, r).wrong] == ["grad a\nb"]


def test_newlines_in_local_derivative_names_verify():
    p, q = Value(1.5, "a\nb"), Value(-2.0, "q")
    r = p * q
    r.label = "r\nr"
    s = r.tanh()
    s.label = "s"
    key = json.loads(autograd.worksheet(s, answers=True).to_json())
    # r, s, grad r, ∂r/∂a\nb, ∂r/∂q, grad q, grad a\nb
    assert autograd.verify(key, s).counts()["agrees"] == 7
    key["backward"]["∂r\nr/∂a\nb"] = 1.5  # ∂(p·q)/∂p = q = -2
    assert [e.name for e in autograd.verify(key, s).wrong] == ["∂r\nr/∂a\nb"]


@pytest.mark.parametrize("other", ["a ", " a"])
def test_labels_differing_by_a_space_are_two_names(other):
    a, b = Value(1.5, "a"), Value(2.0, other)
    r = a * b
    r.label = "r"
    key = json.loads(autograd.worksheet(r, answers=True).to_json())
    assert set(key["backward"]) == {"grad a", f"grad {other}"}
    report = autograd.verify(key, r)  # refused its own key as ambiguous
    assert report.counts()["agrees"] == 3 and report.wrong == []
    key["backward"][f"grad {other}"] = 2.0  # ∂(a·b)/∂b = a = 1.5; 2.0 is ∂/∂a
    report = autograd.verify(key, r)
    assert [e.name for e in report.wrong] == [f"grad {other}"]
    assert report[f"grad {other}"].exact == 1.5 and report["grad a"].exact == 2.0


def test_a_name_with_stray_spaces_still_reads():
    w = Value(3.0, "w")
    r = w * 2.0
    r.label = "r"
    report = autograd.verify({"backward": {"grad   w ": 2.0}, "forward": {" r": 6.0}}, r)
    assert report.counts()["agrees"] == 2


# -- 4. characters XML 1.0 forbids --------------------------------------------------------------------------

def test_the_non_xml_characters_are_replaced_in_labels():
    assert _safe("a\uffffb\ufffe") == "a\ufffdb\ufffd"  # not XML 1.0 characters: Graphviz's label parser refused them
    assert _safe("x\ud800") == "x\ufffd"
    assert _safe("ok \u2421 \ufdd0 \U0001fffe") == "ok \u2421 \ufdd0 \U0001fffe"  # XML allows these: kept


@needs_dot
def test_a_label_holding_u_ffff_draws():
    svg = (Value(1.0, "\uffff") * 2.0)._repr_svg_()  # dot failed: "not well-formed (invalid token)"
    assert "<svg" in svg and "\uffff" not in svg


@needs_dot
def test_a_title_holding_u_fffe_draws():
    svg = autograd.draw(Value(1.0, "v") * 2.0, title="t\ufffe").pipe(format="svg", encoding="utf-8")
    assert "<svg" in svg and "\ufffe" not in svg


# -- 5. animate rebuilt every frame's element list once per element ---------------------------------------------

class _CountingList(list):
    copied = 0

    def __add__(self, other):
        _CountingList.copied += len(self) + len(other)
        return _CountingList(list.__add__(self, other))


def test_animate_copies_each_frame_once(monkeypatch):
    animate_module = sys.modules["autograd.animate"]  # autograd.animate is the function of that name
    draw_module = sys.modules["autograd.draw"]

    real = animate_module._elements

    def counting(*args, **kwargs):
        nodes, edges = real(*args, **kwargs)
        return _CountingList(nodes), _CountingList(edges)

    monkeypatch.setattr(animate_module, "_elements", counting)
    monkeypatch.setattr(draw_module.Drawing, "pipe", lambda self, *a, **k: "<svg></svg>")  # no layout needed here
    v = Value(1.0, "v")
    for _ in range(150):
        v = v * 1.0001 + 0.0
    _CountingList.copied = 0
    page = autograd.animate(v, max_nodes=None)
    frames = page.n_frames  # 300 steps (a * and a + per link) and the seed
    assert frames == 301
    elements = len(page._data["keys"])
    # each frame's nodes and edges joined once: frames × elements; per element it was frames × elements²
    assert _CountingList.copied <= 2 * frames * elements


# -- 6. strict JSON for nan and infinity --------------------------------------------------------------------

def _refuse(constant):
    raise ValueError(f"not strict JSON: {constant}")


def test_a_worksheet_with_nan_and_inf_is_strict_json_and_verifies():
    x, c = Value(1e308, "x"), Value(-1e308, "c")
    y = x * 10.0  # inf
    y.label = "y"
    n = y + c * 10.0  # inf + -inf = nan
    n.label = "n"
    z = n * y
    z.label = "z"
    text = autograd.worksheet(z, answers=True).to_json()
    key = json.loads(text, parse_constant=_refuse)
    assert key["given"] == {"x": 1e308, "c": -1e308}  # rounding 1e308 to 4 decimals overflowed to inf
    assert key["forward"]["y"] == "inf" and key["forward"]["c*10"] == "-inf" and key["forward"]["n"] == "nan"
    assert key["backward"]["∂y/∂x"] == 10.0
    report = autograd.verify(key, z)
    assert report.wrong == [] and report.counts()["agrees"] == len(report)
    assert report["y"].exact == math.inf and math.isnan(report["n"].exact)
    key["forward"]["y"] = "-inf"
    assert [e.name for e in autograd.verify(key, z).wrong] == ["y"]
    assert autograd.verify({"y": "inf", "n": "nan"}, z).counts()["agrees"] == 2  # top-level words too


# -- cosmetic: an unlabelled root ---------------------------------------------------------------------------

def test_an_unlabelled_root_is_c_in_latex_and_grouped_in_meanings():
    x, y = Value(2.0, "x"), Value(3.0, "y")
    loss = (x * y + 1.0).log()
    tex = autograd.explain(loss).to_latex()
    lines = tex.splitlines()
    assert lines[1] == r"\frac{\partial C}{\partial C} &= 1.0000 \\"
    assert lines[2].split("&")[1].startswith(r"= \frac{\partial C}{\partial C} \cdot")  # not ∂C/∂(log(...))
    root = x * y + 1.0
    meanings = {line.name: line.meaning for line in autograd.worksheet(root).lines}
    assert meanings["grad x"] == "∂((x*y)+1)/∂x" and meanings["grad x*y"] == "∂((x*y)+1)/∂(x*y)"
