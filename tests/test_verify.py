"""verify(): checking a hand derivation against the engine, on any graph.

Expected numbers come from independent sources: the chain rule written out in
floats (tests/test_explain.py), the published figures of a classic worked
2-2-2 example (Mazur's "step by step" backpropagation example, 9 decimals), and
a student's numpy backprop written here in the reports' matrix form.
"""

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_explain import TABLE_PATH, chain_rule

import autograd
import nn
from autograd import Tensor, Value
from autograd.tables import AGREES, BLANK, WITHIN_ROUNDING, WRONG, read_network
from autograd.worked_example import load_hand_table, two_two_one

# -- the shipped 2-2-1 table ------------------------------------------------------------------

# Every verdict on the shipped table, decided by the rule in verify's docstring.
VERDICTS = {
    "z0[1]": "agrees", "z1[1]": "agrees", "a0[1]": "agrees", "a1[1]": "agrees", "z0[2]": "agrees",
    "yhat": "agrees",
    "C": "wrong",  # ½(0.5488 − 1)² = 0.101791; the table says 0.1010
    "sigma_prime(z0[2])": "agrees",
    "delta[2]": "wrong",  # −0.4512 × 0.2476 = −0.111717 → −0.1117; the table says −0.1118
    "sigma_prime(z0[1])": "agrees", "sigma_prime(z1[1])": "agrees", "delta0[1]": "agrees", "delta1[1]": "agrees",
    "w00[2]": "agrees within hand rounding",  # −0.1118 × 0.5866 = −0.065582; exact −0.065536
    "w01[2]": "agrees",
    "b0[2]": "agrees within hand rounding",  # carries the table's −0.1118
    "w00[1]": "agrees",
    "w01[1]": "agrees within hand rounding",  # −0.0081 × −1.5 = 0.01215; exact 0.012191
    "b0[1]": "agrees",
    "w10[1]": "agrees within hand rounding",  # 0.0111 × 0.5 = 0.00555; exact 0.005530
    "w11[1]": "agrees", "b1[1]": "agrees",
}


# The order a backward pass computes them: forward values in the order they were made (both z's of layer 1,
# then both a's), then each backward step's local derivative and the gradients it completes, in the reverse
# order: the activations of layer 1 (a1[1] before a0[1]) before its pre-activations' weights.
COMPUTATION_ORDER = ["z0[1]", "z1[1]", "a0[1]", "a1[1]", "z0[2]", "yhat", "C",
                     "sigma_prime(z0[2])", "delta[2]", "w00[2]", "w01[2]", "b0[2]",
                     "sigma_prime(z1[1])", "delta1[1]", "sigma_prime(z0[1])", "delta0[1]",
                     "w10[1]", "w11[1]", "b1[1]", "w00[1]", "w01[1]", "b0[1]"]


@pytest.mark.parametrize("build", [two_two_one, lambda: nn.from_hand_table(),
                                   lambda: nn.from_hand_table(engine="tensor")],
                         ids=["worked_example", "nn-value", "nn-tensor"])
def test_verify_pins_every_verdict_of_the_2_2_1_table(build):
    report = autograd.verify(TABLE_PATH, build())
    assert {e.name: e.verdict for e in report.entries} == VERDICTS
    if build is two_two_one:
        assert [e.name for e in report.entries] == COMPUTATION_ORDER
    else:  # on the Tensor engine z0[1] and z1[1] are entries of one node z[1]: the table's order within it
        assert sorted(e.name for e in report.entries) == sorted(COMPUTATION_ORDER)
    assert report.first_wrong.name == "C"
    assert [e.name for e in report.wrong] == ["C", "delta[2]"]
    assert report.counts() == {AGREES: 16, WITHIN_ROUNDING: 4, WRONG: 2, BLANK: 0}


def test_the_readme_shows_the_2_2_1_report_as_the_code_prints_it():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    text = autograd.verify(TABLE_PATH, two_two_one()).to_text()
    assert f"```\n{text}\n```" in readme


def test_verify_reports_hand_exact_and_recomputed_values():
    report = autograd.verify(load_hand_table(), two_two_one().loss)
    r = chain_rule()
    c = report["C"]
    assert (c.hand, c.decimals) == (0.1010, 4)
    assert c.exact == pytest.approx(r["C"], abs=1e-15)
    assert c.recomputed == pytest.approx(0.5 * (0.5488 - 1) ** 2, abs=1e-15)
    d = report["delta[2]"]
    assert d.recomputed == pytest.approx((0.5488 - 1) * 0.2476, abs=1e-15)
    assert d.exact == pytest.approx(r["d2"], abs=1e-15)
    assert abs(d.hand - d.recomputed) > d.tolerance  # 0.83 units of the 4th decimal: beyond its own rounding
    w = report["w00[2]"]
    assert w.recomputed == pytest.approx(-0.1118 * 0.5866, abs=1e-15)  # from the hand's δ, not the exact one
    assert w.exact == pytest.approx(r["grads"]["w00[2]"], abs=1e-15)
    s = report["sigma_prime(z0[1])"]
    assert s.kind == "local derivative"
    assert s.exact == pytest.approx(r["a0"] * (1 - r["a0"]), abs=1e-15)
    assert s.recomputed == pytest.approx(0.5866 * (1 - 0.5866), abs=1e-15)
    h = report["delta0[1]"]
    assert h.recomputed == pytest.approx(-0.1118 * 0.3 * 0.2425, abs=1e-15)  # hand's δ[2] and σ′
    z = report["z0[2]"]
    assert z.recomputed == pytest.approx(0.3 * 0.5866 - 0.4 * 0.4502 + 0.2, abs=1e-15)


def test_verify_text_names_the_first_wrong_step():
    text = autograd.verify(TABLE_PATH, two_two_one()).to_text()
    assert "First wrong step: C = 0.1010, but the hand's own entries give mul(0.5, 0.203581) = 0.101791" in text
    assert "Also wrong: delta[2] = -0.1118, but (-0.4512)×(0.2476) = -0.111717 (0.8 units away)." in text
    assert text.splitlines()[-1] == "16 agree, 4 agree within hand rounding, 2 wrong (of 22)."


def test_an_early_slip_does_not_make_later_lines_wrong():
    table = load_hand_table()
    table["forward"]["a0[1]"] = 0.5966  # slip
    table["forward"]["z0[2]"] = 0.1989  # 0.3 × 0.5966 − 0.4 × 0.4502 + 0.2 = 0.19890: consistent with the slip
    report = autograd.verify(table, two_two_one())
    assert report["a0[1]"].verdict == WRONG
    assert report["z0[2]"].verdict == WITHIN_ROUNDING
    assert report.first_wrong.name == "a0[1]"


def test_correcting_the_loss_moves_the_first_wrong_step_to_delta2():
    table = load_hand_table()
    table["loss"]["C"] = 0.1018
    report = autograd.verify(table, two_two_one())
    assert report["C"].verdict == "agrees"
    assert report.first_wrong.name == "delta[2]"


def test_verify_flat_table_counts_the_decimals_written():
    ex = two_two_one()
    report = autograd.verify({"yhat": 0.549, "C": 0.1018, "a1[1]": 0.4501}, ex)
    assert {e.name: (e.decimals, e.verdict) for e in report.entries} == {
        "yhat": (3, "agrees"), "C": (4, "agrees"), "a1[1]": (4, "wrong")}


def test_verify_does_not_change_grads():
    ex = two_two_one()
    autograd.verify(TABLE_PATH, ex)
    assert all(n.grad == 0.0 for n in autograd.topological_order(ex.loss))


def test_unknown_names_are_listed_with_the_known_ones():
    with pytest.raises(ValueError) as info:
        autograd.verify({"z9[1]": 0.1, "foo": 1.0, "C": 0.1}, two_two_one())
    message = str(info.value)
    assert "['z9[1]', 'foo']" in message
    for known in ("C", "yhat", "z0[1]", "delta0[1]", "sigma_prime(z0[1])", "w01[1]", "grad w01[1]"):
        assert f"'{known}'" in message
    assert "'z9[1]' (closest: 'z1[1]'" in message


def test_verify_rejects_bad_input():
    with pytest.raises(TypeError, match="must be a number"):
        autograd.verify({"C": "0.1"}, two_two_one())
    with pytest.raises(TypeError, match="dict or a path"):
        autograd.verify([("C", 0.1)], two_two_one())
    with pytest.raises(ValueError, match="does not exist"):
        autograd.verify("no/such/table.json", two_two_one())
    with pytest.raises(TypeError, match="loss node"):
        autograd.verify({"C": 0.1}, object())


def test_yhat_is_the_last_layers_output_even_without_an_activation_node():
    w, x, b = Value(2.0, label="w00[1]"), Value(3.0, label="x0"), Value(1.0, label="b0[1]")
    h = autograd.dot([w], [x], b)
    h.label = "z0[1]"
    a = h.tanh()
    a.label = "a0[1]"
    out = autograd.dot([Value(0.5, label="w00[2]")], [a], Value(0.0, label="b0[2]"))
    out.label = "z0[2]"  # identity output: no a0[2]
    loss = (out - 1.0) ** 2
    report = autograd.verify({"yhat": round(0.5 * math.tanh(7.0), 4)}, loss)
    assert report["yhat"].exact == pytest.approx(0.5 * math.tanh(7.0), abs=1e-15)
    assert report["yhat"].verdict == "agrees"



# -- a teacher's own graph: the classic 2-2-2 example, from Values, one bias Value per layer ---------------

# Published figures of the worked example (9 decimals), independent of this engine.
MAZUR = {
    "net_h1": 0.3775, "out_h1": 0.593269992, "out_h2": 0.596884378,
    "out_o1": 0.75136507, "out_o2": 0.772928465, "E": 0.298371109,
    "dE/dout_o1": 0.74136507, "∂out_o1/∂net_o1": 0.186815602, "dE/dw5": 0.082167041,
    "grad out_h1": 0.036350306, "∂out_h1/∂net_h1": 0.241300709, "dE/dw1": 0.000438568,
    "w5 after step": 0.35891648, "w6 after step": 0.408666186, "w7 after step": 0.511301270,
    "w8 after step": 0.561370121, "w1 after step": 0.149780716, "w2 after step": 0.19956143,
    "w3 after step": 0.24975114, "w4 after step": 0.29950229,
}
MAZUR_WEIGHTS = [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]


def mazur_graph():
    """The 2-2-2 sigmoid network with the teacher's labels; b1 and b2 each shared by a layer's two neurons."""
    i1, i2 = Value(0.05, "i1"), Value(0.10, "i2")
    w = {k: Value(v, f"w{k}") for k, v in enumerate(MAZUR_WEIGHTS, start=1)}
    b1, b2 = Value(0.35, "b1"), Value(0.60, "b2")
    nodes = {}
    for name, (wa, wb, xa, xb, b) in {"net_h1": (1, 2, i1, i2, b1), "net_h2": (3, 4, i1, i2, b1)}.items():
        nodes[name] = w[wa] * xa + w[wb] * xb + b
    nodes["out_h1"], nodes["out_h2"] = nodes["net_h1"].sigmoid(), nodes["net_h2"].sigmoid()
    h1, h2 = nodes["out_h1"], nodes["out_h2"]
    nodes["net_o1"] = w[5] * h1 + w[6] * h2 + b2
    nodes["net_o2"] = w[7] * h1 + w[8] * h2 + b2
    nodes["out_o1"], nodes["out_o2"] = nodes["net_o1"].sigmoid(), nodes["net_o2"].sigmoid()
    nodes["E"] = 0.5 * (0.01 - nodes["out_o1"]) ** 2 + 0.5 * (0.99 - nodes["out_o2"]) ** 2
    for name, node in nodes.items():
        node.label = name
    return nodes["E"]


def test_a_teachers_own_labels_name_values_gradients_local_derivatives_and_updated_weights():
    E = mazur_graph()
    report = autograd.verify({**MAZUR, "lr": 0.5}, E)
    assert report.counts()[AGREES] == len(MAZUR), report.to_text()
    assert report["dE/dw5"].kind == "gradient" and report["∂out_o1/∂net_o1"].kind == "local derivative"
    assert report["w5 after step"].exact == pytest.approx(0.4 - 0.5 * 0.082167041, abs=1e-9)
    assert report["dE/dw5"].decimals == 9
    assert all(n.grad == 0.0 for n in autograd.topological_order(E))  # the graph's grads are untouched


@pytest.mark.parametrize("name", ["dE/dw5", "∂E/∂w5", "grad w5", "grad(w5)"])
def test_the_four_spellings_of_a_gradient_mean_the_same(name):
    entry = autograd.verify({name: 0.0822}, mazur_graph()).entries[0]
    assert (entry.kind, entry.verdict) == ("gradient", AGREES)
    assert entry.exact == pytest.approx(0.082167041, abs=1e-9)


def test_a_bare_leaf_label_is_refused_with_both_readings():
    with pytest.raises(ValueError) as info:
        autograd.verify({"w5": 0.0822}, mazur_graph())
    message = str(info.value)
    assert "value (0.400000)" in message and "gradient ∂E/∂w5 (0.082167)" in message
    assert "'grad w5'" in message and "'dE/dw5'" in message
    # In a section, the section decides.
    assert autograd.verify({"forward": {"w5": 0.4}}, mazur_graph())["w5"].kind == "value"
    assert autograd.verify({"gradients": {"w5": 0.0822}}, mazur_graph())["w5"].verdict == AGREES


def test_unknown_names_are_refused_with_the_closest_known_names():
    with pytest.raises(ValueError) as info:
        autograd.verify({"dE/dw9": 0.1, "out_h3": 0.5}, mazur_graph())
    message = str(info.value)
    assert "'dE/dw9' (closest: 'dE/dw8'" in message and "'out_h3' (closest: 'out_h2'" in message


def test_a_local_derivative_needs_a_direct_input_and_after_step_needs_a_leaf_and_lr():
    with pytest.raises(ValueError, match="not an input of 'out_o1'"):
        autograd.verify({"∂out_o1/∂w1": 0.1}, mazur_graph())
    with pytest.raises(ValueError, match="only a leaf"):
        autograd.verify({"out_h1 after step": 0.1, "lr": 0.5}, mazur_graph())
    with pytest.raises(ValueError, match="need the learning rate"):
        autograd.verify({"w5 after step": 0.3589}, mazur_graph())
    x = Value(3.0, "x")
    s = x * x
    s.label = "s"
    y = s + 1.0
    y.label = "y"
    with pytest.raises(ValueError, match="enters 's' 2 times"):
        autograd.verify({"∂s/∂x": 3.0}, y)
    assert autograd.verify({"dy/dx": 6.0}, y)["dy/dx"].verdict == AGREES  # the root's gradient: both uses


def test_free_text_precision_never_changes_a_tolerance():
    rounded = {name: round(v, 4) for name, v in MAZUR.items()}
    table = {"precision": "worked to 9 decimals, then rounded to 4", "lr": 0.5, **rounded}
    report = autograd.verify(table, mazur_graph())
    assert report.wrong == [] and report.counts()[AGREES] == len(MAZUR)
    assert report.metadata == {"precision": "worked to 9 decimals, then rounded to 4"}
    assert "precision: worked to 9 decimals, then rounded to 4" in report.to_text()


def test_decimals_come_from_the_digits_as_written(tmp_path):
    y = Value(2e-05, "a") * 3.0
    y.label = "y"  # exact 6e-05
    entry = autograd.verify({"y": 0.00009}, y)["y"]
    assert (entry.decimals, entry.verdict) == (5, WRONG)  # 9e-05 is 0.00009: 5 decimals, 50% off
    assert autograd.verify({"y": 0.00006}, y)["y"].verdict == AGREES
    path = tmp_path / "t.json"
    path.write_text('{"lr": 0.5, "dE/dw5": 0.0822, "grad w6": 0.08266763, "dE/dw7": 0.0100}')
    report = autograd.verify(path, mazur_graph())
    assert [report[n].decimals for n in ("dE/dw5", "grad w6", "dE/dw7")] == [4, 8, 4]
    assert report["dE/dw7"].verdict == WRONG  # the exact −0.0226 is not 0.0100, trailing zero and all
    assert autograd.verify({"decimals": 1, "dE/dw5": 0.0822}, mazur_graph())["dE/dw5"].decimals == 1
    assert autograd.verify({"dE/dw5": 0.0822}, mazur_graph(), decimals=2)["dE/dw5"].decimals == 2


def test_an_early_slip_is_named_and_what_used_it_agrees_within_hand_rounding():
    table = {"lr": 0.5, "dE/dout_o1": 0.7414, "∂out_o1/∂net_o1": 0.1868,
             "grad net_o1": 0.1500,  # slip: 0.7414 × 0.1868 = 0.1385
             "dE/dw5": round(0.1500 * 0.5933, 4)}  # worked from the slip and out_h1 = 0.5933
    report = autograd.verify(table, mazur_graph())
    assert report.first_wrong.name == "grad net_o1"
    assert report["dE/dw5"].verdict == WITHIN_ROUNDING
    assert report["grad net_o1"].recomputed == pytest.approx(0.7414 * 0.1868, abs=1e-12)


# -- robustness (trust issue, item 18) ----------------------------------------------------------------------


def test_huge_tiny_and_deep_entries_give_clear_errors(tmp_path):
    ex = two_two_one()
    with pytest.raises(ValueError, match="'C' is 1000000000"):
        autograd.verify({"C": 10**400}, ex)
    with pytest.raises(ValueError, match="decimals"):
        autograd.verify({"decimals": 10**400, "C": 0.1}, ex)
    with pytest.raises(ValueError, match="decimals"):
        autograd.verify({"C": 0.1}, ex, decimals=10**400)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="nested too deeply"):
        autograd.verify(deep, ex)
    tiny = tmp_path / "tiny.json"
    tiny.write_text('{"C": 1e-400}')
    report = autograd.verify(tiny, ex)
    assert report["C"].verdict == WRONG and "C" in report.to_text() and report.to_markdown()
    with pytest.raises(TypeError, match="'C' must be a number"):
        autograd.verify({"C": "0.1"}, ex)
    with pytest.raises(ValueError, match="weight_layout"):
        autograd.verify({"C": 0.1}, ex, weight_layout="rows")


def test_verify_on_tensor_graphs_reads_labels_and_elements():
    x = Tensor([[1.0, 2.0]], label="x")
    W = Tensor([[0.5, -1.0], [2.0, 0.25]], label="W", requires_grad=True)
    z = autograd.linear(x, W)
    z.label = "z"
    loss = z.tanh().sum()
    loss.label = "L"
    t = np.tanh(np.array([[0.5 - 2.0, 2.0 + 0.5]]))
    grad_W = ((1 - t**2).T @ np.array([[1.0, 2.0]]))  # ∂L/∂W[j, k] = (1 − tanh²(z_j)) x_k
    report = autograd.verify({"z": [[-1.5, 2.5]], "L": float(t.sum()), "grad W": grad_W.round(6).tolist()}, loss)
    assert report.counts()[AGREES] == 3, report.to_text()


# -- matrix form: a student's numpy backprop, step by step ---------------------------------------------------


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def student_backprop(X, y, W, b, mistake=None):
    """Report 001's backprop written by a student in numpy, weights as (n_in, n_out) (A @ W), for
    C = (1/2m) Σ (A_L − y)²: dA_L = (A_L − y)/m, δ = dA ⊙ A(1 − A), dW = Aᵀ_prev δ, dA_prev = δ Wᵀ."""
    m, L = len(X), len(W)
    A, Z = [X], [None]
    for l in range(L):
        Z.append(A[-1] @ W[l] + b[l])
        A.append(_sigmoid(Z[-1]))
    steps = {}
    for l in range(1, L + 1):
        steps[f"z[{l}]"], steps[f"a[{l}]"] = Z[l], A[l]
    steps["C"] = float(0.5 * np.mean((A[L] - y) ** 2))
    dA = (A[L] - y) if mistake == "forgotten 1/m" else (A[L] - y) / m
    for l in range(L, 0, -1):
        steps[f"grad a[{l}]"] = dA
        if mistake == "σ′ of the activation" and l == L - 1:
            delta = dA * _sigmoid(A[l]) * (1 - _sigmoid(A[l]))
        else:
            delta = dA * A[l] * (1 - A[l])
        steps[f"delta[{l}]"] = delta
        steps[f"grad W[{l}]"] = A[l - 1].T @ delta
        steps[f"grad b[{l}]"] = delta.sum(axis=0)
        transposed = mistake == "transposed factor" and l == L - 1
        dA = delta @ (W[l - 1] if transposed else W[l - 1].T)
    return steps


def _report_network(hidden, seed):
    X, y = nn.data.generate_XOR_easy()
    X, y = X[:8], np.asarray(y[:8], dtype=np.float64).reshape(-1, 1)
    model = nn.MLP(2, hidden, 1, activations=["sigmoid"] * (len(hidden) + 1), engine="tensor", seed=seed)
    loss = 0.5 * autograd.mse_loss(model(X), y)
    loss.label = "C"
    state = model.state_dict()
    L = len(hidden) + 1
    return X, y, loss, [state[f"W[{l}]"].T for l in range(1, L + 1)], [state[f"b[{l}]"] for l in range(1, L + 1)]


FIRST_WRONG = {"forgotten 1/m": "grad a[3]", "transposed factor": "grad a[1]", "σ′ of the activation": "delta[2]"}


@pytest.mark.parametrize("hidden", [[4, 4], [16, 16]], ids=["2-4-4-1", "2-16-16-1"])
@pytest.mark.parametrize("mistake", [None, *FIRST_WRONG])
def test_a_numpy_backprop_is_checked_step_by_step(hidden, mistake):
    X, y, loss, W, b = _report_network(hidden, seed=3)
    steps = student_backprop(X, y, W, b, mistake)
    report = autograd.verify(steps, loss, weight_layout="in_out")
    names = [e.name for e in report.entries]
    assert names[:7] == ["z[1]", "a[1]", "z[2]", "a[2]", "z[3]", "a[3]", "C"]  # forward, then backward
    assert names.index("grad a[3]") < names.index("delta[3]") < names.index("grad W[3]") < names.index("delta[1]")
    if mistake is None:
        assert report.first_wrong is None and report.counts()[AGREES] == len(steps), report.to_text()
        return
    first = report.first_wrong
    assert first.name == FIRST_WRONG[mistake] and len(report.wrong) == 1, report.to_text()
    correct = student_backprop(X, y, W, b)[first.name]
    difference = np.abs(steps[first.name] - correct)
    assert first.max_difference == pytest.approx(difference.max(), rel=1e-9)
    assert first.index == tuple(int(i) for i in np.unravel_index(np.argmax(difference), difference.shape))
    later = names[names.index(first.name) + 1:]
    assert all(report[n].verdict in (AGREES, WITHIN_ROUNDING) for n in later)
    assert any(report[n].verdict == WITHIN_ROUNDING for n in later)  # they used the wrong step
    assert f"First wrong step: {first.name} (shape" in report.to_text()


def test_weight_layouts_and_shapes():
    X, y, loss, W, b = _report_network([4, 4], seed=1)
    steps = student_backprop(X, y, W, b)
    square = {"grad W[2]": steps["grad W[2]"]}  # 4×4: the layout cannot be guessed from the shape
    assert autograd.verify(square, loss, weight_layout="in_out")["grad W[2]"].verdict == AGREES
    assert autograd.verify(square, loss)["grad W[2]"].verdict == WRONG
    assert autograd.verify({"grad W[2]": steps["grad W[2]"].T}, loss)["grad W[2]"].verdict == AGREES
    rect = autograd.verify({"grad W[1]": steps["grad W[1]"]}, loss)["grad W[1]"]  # 2×4 given, 4×2 stored
    assert rect.verdict == AGREES and "transpose" in rect.note
    with pytest.raises(ValueError, match=r"has shape \(3, 3\); expected the graph's \(8, 4\)"):
        autograd.verify({"a[1]": np.zeros((3, 3))}, loss)


# -- the network section of a table ---------------------------------------------------------------------


def mazur_table(**changes):
    parameters = {"w00[1]": 0.15, "w01[1]": 0.20, "w10[1]": 0.25, "w11[1]": 0.30, "b0[1]": 0.35, "b1[1]": 0.35,
                  "w00[2]": 0.40, "w01[2]": 0.45, "w10[2]": 0.50, "w11[2]": 0.55, "b0[2]": 0.60, "b1[2]": 0.60}
    network = {"sizes": [2, 2, 2], "activations": ["sigmoid", "sigmoid"], "loss": {"name": "half_sum", "label": "E"},
               "parameters": parameters, "inputs": [0.05, 0.10], "targets": [0.01, 0.99], "lr": 0.5}
    network.update(changes)
    return {"network": network, "forward": {"a0[1]": 0.593269992, "a1[2]": 0.772928465, "E": 0.298371109},
            "gradients": {"w00[2]": 0.082167041, "w00[1]": 0.000438568},
            "after step": {"w00[2]": 0.35891648, "w11[1]": 0.29950229}}


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_a_2_2_2_table_builds_its_network_on_either_engine(engine):
    net = nn.from_hand_table(mazur_table(), engine=engine)
    assert net.model.sizes == [2, 2, 2] and net.lr == 0.5
    report = autograd.verify(mazur_table(), net)
    assert report.counts()[AGREES] == 7, report.to_text()


@pytest.mark.parametrize("sizes", [[3, 4, 1], [2, 16, 16, 1]])
@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_any_mlp_from_a_table_matches_numpy(sizes, engine):
    rng = np.random.default_rng(sum(sizes))
    params, Ws, bs = {}, [], []
    for l in range(1, len(sizes)):
        W, bias = rng.normal(size=(sizes[l], sizes[l - 1])), rng.normal(size=sizes[l])
        Ws.append(W)
        bs.append(bias)
        for j in range(sizes[l]):
            params[f"b{j}[{l}]"] = float(bias[j])
            for k in range(sizes[l - 1]):
                params[f"w{j}_{k}[{l}]" if j > 9 or k > 9 else f"w{j}{k}[{l}]"] = float(W[j, k])
    x = rng.normal(size=sizes[0])
    acts = ["tanh"] * (len(sizes) - 2) + ["sigmoid"]
    table = {"network": {"sizes": sizes, "activations": acts, "loss": "mse", "parameters": params,
                         "inputs": list(x), "targets": [0.3]}}
    a = x
    for W, bias, act in zip(Ws, bs, acts):
        z = W @ a + bias
        a = np.tanh(z) if act == "tanh" else 1 / (1 + np.exp(-z))
    net = nn.from_hand_table(table, engine=engine)
    assert float(np.asarray(net.loss.data)) == pytest.approx(float((a[0] - 0.3) ** 2), rel=1e-12)


MALFORMED = [
    ({}, ValueError, "no 'network' section"),
    ({"network": {}}, ValueError, "no 'sizes'"),
    ({"network": []}, TypeError, "network must be a dict"),
    (mazur_table(parameters={}), ValueError, r"missing \['w00\[1\]'"),
    (mazur_table(parameters={**mazur_table()["network"]["parameters"], "w00[1]": None}), ValueError,
     r"network.parameters\['w00\[1\]'\] is None"),
    (mazur_table(parameters={**mazur_table()["network"]["parameters"], "w00[1]": "0.1"}), TypeError,
     "must be a number, got str"),
    (mazur_table(parameters={**mazur_table()["network"]["parameters"], "w20[1]": 0.1}), ValueError,
     "names no weight of a 2-2-2 network"),
    (mazur_table(activations=["sigmoid", "gelu"]), ValueError, r"activations\[1\] is 'gelu'"),
    (mazur_table(activations=["sigmoid"] * 3), ValueError, "one per layer"),
    (mazur_table(sizes=[2, 0, 2]), ValueError, "network.sizes"),
    (mazur_table(inputs=[0.05]), ValueError, "network.inputs must hold 2 numbers"),
    (mazur_table(loss="hinge"), ValueError, "network.loss is 'hinge'"),
    ({"network": {"inputs": {"x0": 1.0, "x1": 2.0}, "label": {"y": 1.0}, "hidden": {"w00": 0.1, "b0": 0.0},
                  "output": {"w00": 1, "b0": 0}}}, ValueError, r"missing \['w01\[1\]'\]"),
    ({"network": {"inputs": {"x0": 1.0, "x1": 2.0}, "hidden": {"w00": 0.1}, "output": {"w00": 1, "b0": 0}}},
     ValueError, "no 'label'"),
]


@pytest.mark.parametrize("table, error, message", MALFORMED)
def test_a_malformed_network_section_names_the_key(table, error, message):
    for build in (lambda t: nn.MLP.from_hand_table(t), lambda t: nn.from_hand_table(t, engine="tensor"),
                  lambda t: two_two_one(t)):
        with pytest.raises(error, match=message):
            build(table)


def test_two_two_one_refuses_other_networks_and_points_to_nn():
    with pytest.raises(ValueError, match="use nn.from_hand_table"):
        two_two_one(mazur_table())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(["sizes", "activations", "loss", "parameters", "inputs", "targets", "lr"]),
       junk=st.one_of(st.none(), st.text(max_size=4), st.integers(-3, 3), st.floats(), st.lists(st.integers(-2, 5)),
                      st.dictionaries(st.text(max_size=3), st.floats(), max_size=2)))
def test_junk_in_any_network_key_is_a_type_or_value_error(key, junk):
    table = mazur_table(**{key: junk})
    try:
        read_network(table)
    except (TypeError, ValueError) as error:
        assert str(error)


def test_a_tensor_graph_names_products_and_transposes_as_written_by_hand():
    from autograd import explain, verify
    x = Tensor([[1.0, 2.0]], "x")
    W = Tensor([[0.5, -1.0], [2.0, 1.0]], "W", requires_grad=True)
    o = (x @ W.T).sigmoid().sum()
    o.label = "o"
    z = x.data @ W.data.T
    s = 1 / (1 + np.exp(-z))
    dz = s * (1 - s)  # ∂o/∂(x Wᵀ)
    result = verify({"x@Wᵀ": z.tolist(), "grad x@Wᵀ": dz.tolist(), "grad Wᵀ": (x.data.T @ dz).tolist(),
                     "grad W": (dz.T @ x.data).tolist()}, o, decimals=12)
    assert [e.verdict for e in result.entries] == ["agrees"] * 4
    assert "σ(x@Wᵀ)" in str(explain(o)) and "ᵀ(W)" not in str(explain(o))
    # a transpose with its axes given stays a function of its input
    t = Tensor(np.ones((2, 3, 4)), "t", requires_grad=True)
    assert "ᵀ(t)" in str(explain(t.transpose(2, 0, 1).sum()))


@pytest.mark.parametrize("table, shown", [({}, "got {}"), ({"forward": {}, "backward": {}}, "got {}"),
                                          ({"title": "homework 3", "decimals": 2},
                                           "got {'title': 'homework 3'} (metadata only)")])
def test_a_table_with_nothing_to_check_is_refused_rather_than_passed(table, shown):
    x = Value(2.0, "x")
    loss = x * 3
    with pytest.raises(autograd.TableError, match=r"the table has no entries to check") as caught:
        autograd.verify(table, loss)
    assert shown in str(caught.value)


# -- defects found by attacking verify (each once gave a wrong verdict or checked nothing) ----------------------

def _tanh_graph():
    x, w = Value(1.5, "x"), Value(-0.8, "w")
    z = x * w
    z.label = "z"
    a = z.tanh()
    a.label = "a"
    L = (a - 0.5) ** 2
    L.label = "L"
    return L


# ∂L/∂w = 2(a − ½)(1 − a²)·x with a = tanh(−1.2), written out
_A = math.tanh(-1.2)
_GRAD_W = 2 * (_A - 0.5) * (1 - _A**2) * 1.5


@pytest.mark.parametrize("table, match", [
    ({"forward": {"z": -1.2}, "foward": {"a": 0.5}}, r"the table's 'foward' holds numbers but is no section .*"
                                                     r"did you mean 'forward'\?"),
    ({"z": -1.2, "gradient": {"grad w": 99.0}}, r"'gradient' holds numbers .*did you mean 'gradients'\?"),
    ({"z": -1.2, "notes": {"steps": [1, "two"]}}, r"'notes' holds numbers but is no section"),
])
def test_a_mistyped_section_holding_numbers_is_refused_not_skipped(table, match):
    with pytest.raises(autograd.TableError, match=match):
        autograd.verify(table, _tanh_graph())


def test_sections_are_read_whatever_their_case_and_text_under_an_entrys_name_is_refused():
    report = autograd.verify({"Forward": {"z": -1.2}, "Backward ": {"grad w": 99.0}}, _tanh_graph())
    assert report["z"].verdict == AGREES and report["grad w"].verdict == WRONG  # checked, not skipped
    with pytest.raises(TypeError, match=r"table entry 'grad w' must be a number, got str: '99'"):
        autograd.verify({"z": -1.2, "grad w": "99"}, _tanh_graph())
    # notes stay notes
    report = autograd.verify({"z": -1.2, "about": {"who": "me", "when": "today"}, "source": "lab 4"}, _tanh_graph())
    assert report.metadata["source"] == "lab 4" and len(report) == 1


def test_tiny_numbers_are_judged_on_their_own_digits():
    x = Value(-40.0, "x")
    s = x.sigmoid()
    s.label = "s"
    exact = math.exp(-40) / (1 + math.exp(-40)) ** 2  # σ'(−40) = 4.248354...e-18
    for hand, verdict in ((-4.2e-16, WRONG), (-exact, WRONG), (4.2e-17, WRONG), (4.25e-18, AGREES),
                          (4.2e-18, AGREES), (4.4e-18, WRONG), (exact, AGREES), (np.float64(-4e-11), WRONG),
                          (np.float64(exact), AGREES)):
        entry = autograd.verify({"grad x": hand}, s)["grad x"]
        assert entry.verdict == verdict, (hand, entry)
        assert abs(entry.hand - entry.exact) <= entry.tolerance or verdict == WRONG  # the tolerance applied


def test_a_whole_number_is_compared_as_exact():
    w = Value(0.5, "w")
    z = Value(0.45, "x") * w
    L = z.relu()
    L.label = "L"  # ∂L/∂w = x = 0.45
    for hand in (0, 0.0, 1, -0):
        assert autograd.verify({"grad w": hand}, L)["grad w"].verdict == WRONG
    assert autograd.verify({"grad w": 0.45}, L)["grad w"].verdict == AGREES
    assert autograd.verify({"grad w": 0}, L, decimals=0)["grad w"].verdict == AGREES  # a stated rounding wins
    assert autograd.verify({"grad L": 1, "L": 0.225}, L).counts()[AGREES] == 2  # the seed, exactly 1
    report = autograd.verify({"grad w": -1}, _tanh_graph())
    assert report["grad w"].verdict == WRONG and round(report["grad w"].exact, 4) == round(_GRAD_W, 4)
    assert "compared as exact" in report.to_text()


def test_float64_results_computed_in_another_order_agree():
    values = {"x0": -19.14, "x1": 13.503, "w0": 2.258, "w1": 5.692, "b": -12.564}
    x0, x1, w0, w1, b = (Value(v, k) for k, v in values.items())
    y = x0 * w0 + x1 * w1 + b
    y.label = "y"
    other_order = values["b"] + values["x1"] * values["w1"] + values["x0"] * values["w0"]
    assert other_order != y.data  # one float64 step apart
    assert autograd.verify({"forward": {"y": other_order}}, y)["y"].verdict == AGREES
    x = Value(1e10, "x")
    big = x * x * 1.1
    big.label = "y"
    assert autograd.verify({"forward": {"y": 1.1e20}, "decimals": 4}, big)["y"].verdict == AGREES


def test_infinities_agree_with_the_same_infinity_only():
    x = Value(1000.0, "x")
    e = x.exp()
    e.label = "e"
    L = e * 2
    L.label = "L"
    assert autograd.verify({"forward": {"e": math.inf}}, L)["e"].verdict == AGREES
    report = autograd.verify({"forward": {"e": -math.inf}}, L)
    assert report["e"].verdict == WRONG and "nan units" not in report.to_text()


def test_an_all_blank_table_says_nothing_was_checked():
    text = autograd.verify({"z": None, "grad w": None}, _tanh_graph()).to_text()
    assert "Nothing checked: every entry is blank" in text and "No wrong step" not in text


def test_a_derivative_read_from_the_hands_output_says_so():
    report = autograd.verify({"decimals": 4, "forward": {"a0[1]": 0.6}, "backward": {"sigma_prime(z0[1])": 0.24}},
                             two_two_one())
    entry = report["sigma_prime(z0[1])"]
    assert entry.recomputed == pytest.approx(0.6 * (1 - 0.6), abs=1e-15)  # σ' from the hand's a, not σ(0.35)
    assert entry.how == "sigmoid'(0.35) from your a0[1] = 0.6"


def test_a_square_weight_gradient_given_transposed_gets_the_layout_hint():
    X = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), "X")
    W = Tensor(np.array([[0.5, -1.0], [2.0, 0.25]]), "W", requires_grad=True)
    h = X @ W
    h.label = "h"
    L = (h * h).sum()
    L.label = "L"
    by_hand = X.data.T @ (2 * (X.data @ W.data))  # ∂Σh²/∂W = Xᵀ·2h
    entry = autograd.verify({"grad W": by_hand.T}, L)["grad W"]
    assert entry.verdict == WRONG and "weight_layout='in_out'" in entry.note
    assert autograd.verify({"grad W": by_hand}, L)["grad W"].verdict == AGREES
    with pytest.raises(autograd.TableError, match=r"'h' = matmul\(...\) is not elementwise, so its local "
                                                  r"derivative is a Jacobian.*'grad W'"):
        autograd.verify({"∂h/∂W": X.data}, L)


def test_a_label_two_nodes_share_is_named_ambiguous_and_names_are_compared_composed():
    p, q = Value(1.0, "h"), Value(2.0, "h")
    r = p * q + p
    r.label = "r"
    with pytest.raises(autograd.TableError, match=r"'grad h' is ambiguous: 2 nodes are labelled 'h'"):
        autograd.verify({"grad h": 3.0}, r)
    y = Value(0.25, "ŷ")  # composed: U+0177
    C = (y - 1.0) ** 2
    C.label = "C"
    assert autograd.verify({"gradients": {"grad y\u0302": -1.5}}, C)["grad ŷ"].verdict == AGREES  # y + U+0302


def test_lists_of_numpy_numbers_are_numbers():
    report = autograd.verify({"grad w": [np.float64(round(_GRAD_W, 4))]}, _tanh_graph())
    assert report["grad w"].verdict == AGREES


def test_a_parameter_given_twice_is_refused():
    with pytest.raises(ValueError, match=r"gives the same parameter twice, as 'w00\[1\]' and 'w0_0\[1\]'"):
        read_network({"network": {"sizes": [1, 1], "parameters": {"w00[1]": 1.0, "w0_0[1]": 9.0, "b0[1]": 0.0},
                                  "inputs": [1.0], "targets": [1.0]}})


def test_after_step_entries_take_the_learning_rate_of_a_network_built_from_a_table():
    table = {"network": {"sizes": [1, 1], "activations": "identity", "loss": "half_sum",
                         "parameters": {"w00[1]": 0.5, "b0[1]": 0.0}, "inputs": [2.0], "targets": [0.0], "lr": 0.1}}
    network = nn.from_hand_table(table, engine="value")
    # C = ½(w·2)², ∂C/∂w = 4w = 2, so w after one step is 0.5 − 0.1·2 = 0.3
    report = autograd.verify({"after step": {"w00[1]": 0.3}}, network)
    assert report["w00[1]"].verdict == AGREES and report["w00[1]"].exact == pytest.approx(0.3, abs=1e-15)


def test_a_finite_difference_step_off_the_domain_is_explained():
    with pytest.raises(autograd.DomainError, match=r"evaluating f at input 0 'a' = 5e-07 - 1e-06 for a central "
                                                   r"difference .*use a smaller eps"):
        autograd.gradcheck(lambda a: a.log(), [Value(5e-7, "a")])
    with pytest.raises(ZeroDivisionError, match=r"central difference .*use a smaller eps"):
        autograd.gradcheck(lambda a: 1 / a, [Value(1e-6, "a")])
    with pytest.raises(autograd.DomainError, match=r"the inputs - 1e-06 × a direction of unit length"):
        autograd.gradcheck(lambda a: a.log().sum(), [Tensor(np.array([5e-7, 1.0]), requires_grad=True)])


@pytest.mark.parametrize("digits, error", [("4", TypeError), (2.5, TypeError), (True, TypeError), (-1, ValueError),
                                           (18, ValueError)])
def test_explain_refuses_digits_that_are_not_a_count_of_decimals(digits, error):
    x = Value(2.0, "x")
    e = autograd.explain((x * x).tanh())
    for render in (e.to_text, e.to_markdown, e.to_latex):
        with pytest.raises(error, match=r"digits must be an int from 0 to 17"):
            render(digits=digits)


def test_numbers_are_read_as_their_writer_meant_them(tmp_path):
    # scientific notation in a JSON file keeps its significant figures: 6.7598e9 is ±5e4, not a whole number
    x, w = Value(1234.5, "x"), Value(66.6, "w")
    z = x * w
    z.label = "z"
    L = z * z
    L.label = "L"  # L = 6759750193.29, ∂L/∂z = 2z = 164435.4
    path = tmp_path / "t.json"
    path.write_text('{"forward": {"L": 6.7598e9}, "grad z": 1.6444e5}')
    assert [e.verdict for e in autograd.verify(path, L).entries] == [AGREES, AGREES]
    path.write_text('{"forward": {"L": 6.7597e9}}')
    assert autograd.verify(path, L)["L"].verdict == WRONG
    # a whole 0 agrees with the engine's float64 residue where the true value is 0 (0.1·1 + 0.2 - 0.3)
    w, x, b = Value(0.1, "w"), Value(1.0, "x"), Value(0.2, "b")
    yhat = w * x + b
    yhat.label = "yhat"
    C = (yhat - 0.3) ** 2
    C.label = "C"
    assert C.data != 0 and [e.verdict for e in autograd.verify({"C": 0, "grad w": 0}, C).entries] == [AGREES] * 2
    # a Python float with all of float64's digits is a float64 result (as np.float64 of it), not 17 decimals
    z = Value(3.0, "z")
    a = z.tanh()
    a.label = "a"
    out = a * 1.0
    out.label = "L"
    sech2 = 1 / math.cosh(3.0) ** 2  # correctly rounded; the engine's 1 - tanh² is some units in the last place off
    assert autograd.verify({"∂a/∂z": sech2}, out)["∂a/∂z"].verdict == AGREES
    # numbers rounded with numpy claim the decimals they were rounded to
    net = nn.from_hand_table(None, engine="tensor")
    exact = autograd.verify({"grad W[2]": None}, net)["grad W[2]"].exact
    report = autograd.verify({"grad W[2]": np.round(exact, 4), "w00[2]": round(np.float64(exact[0, 0]), 4)}, net)
    assert [e.verdict for e in report.entries] == [AGREES, AGREES]
    assert autograd.verify({"grad W[2]": np.round(exact, 4) + 0.0002}, net)["grad W[2]"].verdict == WRONG
