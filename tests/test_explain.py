"""explain(): the backward pass step by step (verify is tests/test_verify.py).

Expected numbers come from the chain rule written out below with plain floats
(the report's formulas) and from central finite differences, never from the
engine's own gradients.
"""

import math
from pathlib import Path

import pytest

import autograd
from autograd import Value
from autograd.notation import _format_number, _latex_name
from autograd.worked_example import two_two_one

TABLE_PATH = Path(autograd.__file__).parent / "data" / "hand_derivation_2-2-1.json"
X = (0.5, -1.5)
Y = 1.0
PARAMS = {"w00[1]": 0.1, "w01[1]": -0.2, "w10[1]": 0.4, "w11[1]": 0.2, "b0[1]": 0.0, "b1[1]": -0.1,
          "w00[2]": 0.3, "w01[2]": -0.4, "b0[2]": 0.2}


def sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def loss_of(p):
    a0 = sig(p["w00[1]"] * X[0] + p["w01[1]"] * X[1] + p["b0[1]"])
    a1 = sig(p["w10[1]"] * X[0] + p["w11[1]"] * X[1] + p["b1[1]"])
    yhat = sig(p["w00[2]"] * a0 + p["w01[2]"] * a1 + p["b0[2]"])
    return 0.5 * (yhat - Y) ** 2


def chain_rule():
    """The report's section 5 formulas in floats."""
    p = PARAMS
    z0 = p["w00[1]"] * X[0] + p["w01[1]"] * X[1] + p["b0[1]"]
    z1 = p["w10[1]"] * X[0] + p["w11[1]"] * X[1] + p["b1[1]"]
    a0, a1 = sig(z0), sig(z1)
    z2 = p["w00[2]"] * a0 + p["w01[2]"] * a1 + p["b0[2]"]
    yhat = sig(z2)
    d2 = (yhat - Y) * yhat * (1 - yhat)
    d0 = d2 * p["w00[2]"] * a0 * (1 - a0)
    d1 = d2 * p["w01[2]"] * a1 * (1 - a1)
    return dict(z0=z0, z1=z1, a0=a0, a1=a1, z2=z2, yhat=yhat, C=0.5 * (yhat - Y) ** 2, d2=d2, d0=d0, d1=d1,
                grads={"w00[2]": d2 * a0, "w01[2]": d2 * a1, "b0[2]": d2, "w00[1]": d0 * X[0],
                       "w01[1]": d0 * X[1], "b0[1]": d0, "w10[1]": d1 * X[0], "w11[1]": d1 * X[1], "b1[1]": d1},
                x_grads=(d0 * p["w00[1]"] + d1 * p["w10[1]"], d0 * p["w01[1]"] + d1 * p["w11[1]"]))


def finite_difference(name, h=1e-6):
    up, down = dict(PARAMS), dict(PARAMS)
    up[name] += h
    down[name] -= h
    return (loss_of(up) - loss_of(down)) / (2 * h)


# -- explain -----------------------------------------------------------------------------------------------

def test_steps_visit_every_operation_once_after_all_its_consumers():
    ex = two_two_one()
    steps = autograd.explain(ex.loss).steps
    order = autograd.topological_order(ex.loss)
    assert len(steps) == sum(n.op is not None for n in order) == 9
    assert [s.index for s in steps] == list(range(1, 10))
    assert steps[0].node is ex.loss and steps[0].upstream == 1.0
    position = {s.node: s.index for s in steps}
    for s in steps:
        for consumer in order:
            if s.node in consumer.inputs:
                assert position[consumer] < s.index, "a node was visited before one of its consumers"
    assert [s.node.label for s in steps[2:5]] == ["ŷ-y", "a0[2]", "z0[2]"]


def test_each_step_records_upstream_local_contribution_and_accumulated():
    ex = two_two_one()
    r = chain_rule()
    steps = {s.node.label: s for s in autograd.explain(ex.loss).steps if s.node.label}
    s = steps["a0[2]"]
    assert s.op == "sigmoid"
    assert s.upstream == pytest.approx(r["yhat"] - Y, abs=1e-15)
    assert s.local_derivatives[0] == pytest.approx(r["yhat"] * (1 - r["yhat"]), abs=1e-15)
    assert s.contributions[0] == pytest.approx(r["d2"], abs=1e-15)
    s = steps["z0[1]"]
    assert s.op == "dot" and s.upstream == pytest.approx(r["d0"], abs=1e-15)
    p = PARAMS
    assert s.local_derivatives == pytest.approx([X[0], X[1], p["w00[1]"], p["w01[1]"], 1.0], abs=1e-15)
    assert s.contributions == pytest.approx([r["d0"] * v for v in s.local_derivatives], abs=1e-15)
    # z1[1] is visited before z0[1]: x0's grad holds z1's share, then both.
    i = [x.label for x in s.inputs].index("x0")
    assert steps["z1[1]"].accumulated[i] == pytest.approx(r["d1"] * p["w10[1]"], abs=1e-15)
    assert s.accumulated[i] == pytest.approx(r["x_grads"][0], abs=1e-15)


def test_final_gradients_match_finite_differences_and_the_chain_rule():
    ex = two_two_one()
    grads = autograd.explain(ex.loss).grads
    r = chain_rule()
    for name, p in ex.parameters.items():
        assert grads[p] == pytest.approx(finite_difference(name), abs=1e-9), name
        assert grads[p] == pytest.approx(r["grads"][name], abs=1e-15), name


def test_explain_leaves_the_graph_grads_untouched():
    ex = two_two_one()
    order = autograd.topological_order(ex.loss)
    autograd.explain(ex.loss)
    assert all(n.grad == 0.0 for n in order)
    ex.loss.backward()
    ex.loss.backward()  # leaves now hold twice the gradient: explain must neither read nor reset that
    before = {n: n.grad for n in order}
    ex_steps = autograd.explain(ex.loss)
    assert {n: n.grad for n in order} == before
    w = ex.parameters["w00[1]"]
    assert ex_steps.grads[w] == pytest.approx(before[w] / 2, abs=1e-15)


def test_a_node_used_twice_gets_two_contributions():
    a = Value(3.0, label="a")
    d = a + a
    (step,) = autograd.explain(d).steps
    assert step.inputs == (a, a)
    assert step.contributions == (1.0, 1.0)
    assert step.accumulated == (1.0, 2.0)
    assert a.grad == 0.0


def test_grads_after_k_steps():
    ex = two_two_one()
    explanation = autograd.explain(ex.loss)
    assert explanation.grads_after(0) == {ex.loss: 1.0}
    after4 = explanation.grads_after(4)  # C, pow, ŷ-y, a0[2]
    assert after4[ex.z["z0[2]"]] == pytest.approx(chain_rule()["d2"], abs=1e-15)
    assert ex.parameters["w00[2]"] not in after4
    with pytest.raises(ValueError, match="from 0 to 9"):
        explanation.grads_after(10)


def test_text_markdown_and_latex_use_the_reports_notation():
    ex = two_two_one()
    explanation = autograd.explain(ex.loss)
    text = explanation.to_text()
    assert text.splitlines()[0] == "backward of C: seed ∂C/∂C = 1.0000, 9 steps"
    assert "upstream ∂C/∂node" in text
    z2_line = next(line for line in text.splitlines() if line.split()[1:2] == ["z0[2]"])
    assert z2_line.split()[:5] == ["5", "z0[2]", "Σwx+b", "-0.1117", "w00[2]"]
    md = explanation.to_markdown()
    assert md.startswith("| step | node | op |")
    assert "| 4 | $a_0^{[2]}$ | `σ` | -0.4512 | $z_0^{[2]}$ | 0.2476 | -0.1117 | -0.1117 |" in md
    latex = explanation.to_latex()
    assert latex.startswith("\\begin{align*}") and latex.endswith("\\end{align*}")
    assert r"\delta_0^{[1]} &= \frac{\partial C}{\partial a_0^{[1]}} \cdot \sigma'(z_0^{[1]}) = (-0.0335)(0.2425)" \
        in latex
    assert r"\frac{\partial C}{\partial w_{01}^{[1]}} &= \delta_0^{[1]} \cdot x_1 = (-0.0081)(-1.5000) = 0.0122" \
        in latex
    # x0 feeds two neurons: its grad accumulates over two lines
    assert latex.count(r"\frac{\partial C}{\partial x_0} &\mathrel{+}=") == 2


@pytest.mark.parametrize("label, expected", [
    ("w01[1]", "w_{01}^{[1]}"), ("w1_12[2]", "w_{1,12}^{[2]}"), ("z0[1]", "z_0^{[1]}"),
    ("a12[3]", "a_{12}^{[3]}"), ("b1[2]", "b_1^{[2]}"), ("x0", "x_0"), ("ŷ-y", r"\hat{y}-y"),
    ("yhat", r"\hat{y}"), ("pow#5", r"\text{pow\#5}"),
])
def test_latex_names(label, expected):
    assert _latex_name(label) == expected


@pytest.mark.parametrize("x, digits, expected", [
    (0.0041, 4, "0.0041"), (-0.111717, 4, "-0.1117"), (4e-5, 4, "4.000e-05"), (0.0, 4, "0.0000"),
    (1234567.0, 4, "1.235e+06"), (math.inf, 4, "inf"), (0.5866, 2, "0.59"),
])
def test_format_number(x, digits, expected):
    assert _format_number(x, digits) == expected


def test_explain_rejects_a_non_node():
    with pytest.raises(TypeError, match="got float"):
        autograd.explain(1.5)


def test_markdown_and_latex_survive_newlines_backslashes_and_pipes_in_labels():
    x = Value(2.0, label="x\nline|two")
    y = Value(3.0, label="trailing\\")
    out = (x * y).tanh()
    out.label = "out$"
    e = autograd.explain(out)
    markdown = e.to_markdown()
    rows = markdown.splitlines()
    assert len(rows) == 2 + 3  # header, separator, one row per edge: no line broken by the newline
    assert all(r.startswith("| ") and r.endswith(" |") and r.count(" | ") == 7 for r in rows[2:])
    assert "\\text{x line\\|two}" in markdown or "x line" in markdown
    latex = e.to_latex()
    assert "\\textbackslash{}" in latex and "\\$" in latex
    assert "trailing\\}" not in latex  # the backslash does not escape the closing brace
    assert latex.count("{") == latex.count("}")


def test_latex_never_takes_a_derivative_with_respect_to_a_constant():
    w = Value(0.5, label="w")
    loss = 0.5 * (w * 3.0 - 1.0) ** 2
    latex = autograd.explain(loss).to_latex()
    assert "partial 0.5" not in latex and "partial 3" not in latex and "partial 1" not in latex
    assert "partial w" in latex


def test_explain_works_on_a_tensor_graph():
    import numpy as np
    x = autograd.Tensor([[1.0, 2.0]], label="x")
    W = autograd.Tensor([[0.5, -1.0], [2.0, 0.25]], label="W", requires_grad=True)
    loss = autograd.linear(x, W).tanh().sum()
    e = autograd.explain(loss)
    t = np.tanh(np.array([0.5 - 2.0, 2.0 + 0.5]))
    expected = np.outer(1 - t**2, [1.0, 2.0])  # ∂/∂W[j, k] of Σ tanh(x Wᵀ) = (1 − tanh²(z_j)) x_k
    np.testing.assert_allclose(e.grads[W], expected, rtol=1e-12)
    assert "W" in e.to_text() and e.to_markdown() and e.to_latex()


def test_an_unlabelled_root_is_called_c_in_the_seed_line_and_calls_take_one_pair_of_parentheses():
    x = Value(2.0, "x")
    text = str(autograd.explain((x * 3).tanh() * 2))
    assert text.splitlines()[0] == "backward of C = tanh(x*3)*2: seed ∂C/∂C = 1.0000, 3 steps"
    assert "tanh((x*3))" not in text and "tanh(x*3)" in text
    loss = x * 3
    loss.label = "L"
    assert str(autograd.explain(loss)).splitlines()[0] == "backward of L: seed ∂L/∂L = 1.0000, 1 step"
    # a drawing's first frame says the same
    frames = autograd.frames((x * 3).tanh() * 2)
    assert "the seed ∂C/∂C = 1 (C = tanh(x*3)*2)" in frames[0].source
    # the names verify reads are the same ones
    from autograd import verify
    result = verify({"tanh(x*3)": math.tanh(6.0), "grad tanh(x*3)": 2.0}, (x * 3).tanh() * 2, decimals=12)
    assert [e.verdict for e in result.entries] == ["agrees", "agrees"]
