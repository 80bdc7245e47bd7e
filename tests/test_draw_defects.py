"""Defects a tester found in what students look at (drawings, the animated page, worksheets read back by verify),
one test or more each; expected values derived by hand."""

from __future__ import annotations

import json
import shutil

import pytest

import autograd
from autograd import Value
from autograd.draw import _safe

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def test_the_two_non_xml_characters_are_replaced_in_labels():
    assert _safe("a\uffffb\ufffe") == "a\ufffdb\ufffd"  # not XML 1.0 characters: Graphviz's label parser refused them
    assert _safe("ok \u2421") == "ok \u2421"


@needs_dot
def test_a_label_holding_u_ffff_draws():
    svg = (Value(1.0, "\uffff") * 2.0)._repr_svg_()  # dot failed: "not well-formed (invalid token)"
    assert "<svg" in svg and "\uffff" not in svg


def test_a_worksheet_key_with_a_newline_in_a_label_verifies():
    p = Value(1.5, "a\nb")
    q = Value(-2.0, "q")
    r = p * q
    r.label = "r"
    key = json.loads(autograd.worksheet(r, answers=True).to_json())
    report = autograd.verify(key, r)  # it refused 'grad a\nb' while suggesting that very name
    assert report.wrong == [] and len(report) == 3
    key["grad a\nb"] = -3.0  # ∂r/∂p = q = -2
    assert [e.name for e in autograd.verify(key, r).wrong] == ["grad a\nb"]
