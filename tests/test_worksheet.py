"""worksheet(): the blank table of a hand derivation of any graph, its key, and the round trip through verify."""

import json
import re

import numpy as np
import pytest
from test_verify import mazur_graph

import autograd
from autograd import Tensor, Value
from autograd.tables import AGREES, BLANK, WITHIN_ROUNDING
from autograd.worked_example import two_two_one


def test_a_blank_worksheet_lists_forward_then_backward_with_names_verify_reads():
    E = mazur_graph()
    sheet = autograd.worksheet(E)
    doc = json.loads(sheet.to_json())
    assert set(doc) == {"worksheet", "given", "decimals", "forward", "backward"}
    assert all(v is None for v in doc["forward"].values()) and all(v is None for v in doc["backward"].values())
    assert doc["given"]["w5"] == 0.4 and "i1" in doc["given"]
    forward = list(doc["forward"])
    assert forward.index("net_h1") < forward.index("out_h1") < forward.index("net_o1") < forward.index("E")
    backward = list(doc["backward"])
    assert backward.index("grad out_o1") < backward.index("∂out_o1/∂net_o1") < backward.index("grad net_o1")
    assert backward.index("grad net_o1") < backward.index("grad w5") < backward.index("grad out_h1")
    assert backward.index("grad out_h1") < backward.index("grad w1")
    report = autograd.verify(doc, E)  # every name reads back
    assert report.counts()[BLANK] == len(sheet) == len(forward) + len(backward)
    markdown = sheet.to_markdown()
    assert "| `w5` | 0.4000 |" in markdown and "`∂out_o1/∂net_o1`" in markdown and "your answer" in markdown


def test_the_key_rounded_to_4_decimals_agrees_everywhere():
    E = mazur_graph()
    key = autograd.worksheet(E, answers=True)
    doc = json.loads(key.to_json())
    assert doc["decimals"] == 4 and doc["backward"]["grad w5"] == round(0.082167041, 4)
    report = autograd.verify(doc, E)
    assert report.counts() == {AGREES: len(key), WITHIN_ROUNDING: 0, "wrong": 0, BLANK: 0}
    assert "| 0.0822 |" in key.to_markdown()


def test_one_planted_slip_is_the_first_wrong_step_and_what_used_it_agrees_within_hand_rounding(tmp_path):
    E = mazur_graph()
    doc = json.loads(autograd.worksheet(E, answers=True).to_json())
    slip = doc["backward"]["grad net_o1"] + 0.0100  # 0.1385 written as 0.1485
    doc["backward"]["grad net_o1"] = round(slip, 4)
    # What a student computes from the slip: ∂E/∂w5 = δ_o1 · out_h1, ∂E/∂(w5·out_h1 + w6·out_h2) = δ_o1.
    out_h1 = doc["forward"]["out_h1"]
    doc["backward"]["grad w5"] = round(slip * out_h1, 4)
    doc["backward"]["grad (w5*out_h1)+(w6*out_h2)"] = round(slip, 4)
    doc["backward"]["grad w5*out_h1"] = round(slip, 4)
    path = tmp_path / "sheet.json"
    path.write_text(json.dumps(doc))
    report = autograd.verify(path, E)
    assert report.first_wrong.name == "grad net_o1" and len(report.wrong) == 1, report.to_text()
    assert report["grad w5"].verdict == WITHIN_ROUNDING
    assert report["grad (w5*out_h1)+(w6*out_h2)"].verdict == WITHIN_ROUNDING
    assert report["grad w5*out_h1"].verdict == WITHIN_ROUNDING


def test_worksheets_of_the_2_2_1_and_of_a_tensor_graph_round_trip():
    ex = two_two_one()
    doc = json.loads(autograd.worksheet(ex, answers=True, decimals=6).to_json())
    assert "| `a0[1]` | value of σ(z0[1]) |" in autograd.worksheet(ex).to_markdown()
    assert autograd.verify(doc, ex).counts()[AGREES] == len(autograd.worksheet(ex))
    x = Tensor([[1.0, -2.0], [0.5, 3.0]], label="x")
    W = Tensor([[0.2, -0.4], [1.0, 0.3], [-0.5, 0.8]], label="W", requires_grad=True)
    loss = (autograd.linear(x, W).tanh() ** 2).mean()
    loss.label = "L"
    doc = json.loads(autograd.worksheet(loss, answers=True, decimals=8).to_json())
    assert np.shape(doc["backward"]["grad W"]) == (3, 2)
    report = autograd.verify(doc, loss)
    assert report.counts()[AGREES] == len(report), report.to_text()


def test_worksheet_refuses_bad_arguments():
    with pytest.raises(TypeError, match="root node"):
        autograd.worksheet(1.5)
    with pytest.raises(TypeError, match="answers must be True or False"):
        autograd.worksheet(Value(1.0) * 2, answers="yes")
    with pytest.raises(ValueError, match="decimals"):
        autograd.worksheet(Value(1.0) * 2, decimals=-1)


def test_the_markdown_says_what_each_line_computes_and_escapes_labels():
    x, w = Value(1.5, "x"), Value(-0.8, "w")
    a = (x * w).tanh()
    a.label = "a"
    L = (a - 0.5) ** 2
    L.label = "L"
    text = autograd.worksheet(L).to_markdown()
    assert "| `L` | value of (a-0.5)^2 |" in text  # the exponent shown
    assert "| `grad a-0.5` | ∂L/∂(a-0.5) |" in text  # not ∂L/∂a − 0.5
    assert "local derivative of a-0.5 with respect to a" in text
    # labels go into the table as text: no live HTML, no code span cut short by a backtick
    p = Value(1.0, "<script>alert(1)</script>")
    q = Value(0.5, "a`b|c")
    z = p * 2 + q
    z.label = "<img src=x onerror=alert(2)>"
    top = z.tanh()
    top.label = "<!-- L"
    text = autograd.worksheet(top).to_markdown()
    outside_code = re.sub(r"(?<!\\)`[^`]*`", "", text)  # a code span shows its text literally: HTML there is inert
    assert "<" not in outside_code and "&lt;img src=x onerror=alert(2)>" in outside_code
    assert "`a'b\\|c`" in text and "`<!-- L`" not in outside_code
    # a matrix shows its rows
    W = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), "W", requires_grad=True)
    S = (Tensor(np.eye(2), "X") @ W).sum()
    S.label = "S"
    assert "| `W` | [[1.0000, 2.0000], [3.0000, 4.0000]] |" in autograd.worksheet(S).to_markdown()
