"""draw(): the DOT source of a graph (nodes, edges, labels), collapsing, backward frames, rendering.

Numbers expected in labels come from the report's chain-rule formulas in
floats (tests/test_explain.py's ``chain_rule``), not from the engine.
"""

import random
import re
import shutil

import pytest
from test_explain import PARAMS, X, chain_rule

import autograd
from autograd import Value
from autograd.draw import Drawing, GraphvizNotFoundError, notebook_svg
from autograd.worked_example import two_two_one

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def mlp_loss(sizes=(2, 16, 16, 1), seed=0):
    """One sample through an MLP built from Values with nn's labels (w{j}_{k}[l], b{j}[l], z{j}[l], a{j}[l])."""
    rng = random.Random(seed)
    inputs = [Value(rng.uniform(-1, 1), f"x{k}") for k in range(sizes[0])]
    for l in range(1, len(sizes)):
        sep = "_" if max(sizes[l], sizes[l - 1]) > 10 else ""
        outputs = []
        for j in range(sizes[l]):
            w = [Value(rng.gauss(0, 0.5), f"w{j}{sep}{k}[{l}]") for k in range(len(inputs))]
            z = autograd.dot(w, inputs, Value(0.1, f"b{j}[{l}]"))
            z.label = f"z{j}[{l}]"
            a = z.relu() if l < len(sizes) - 1 else z.sigmoid()
            a.label = f"a{j}[{l}]"
            outputs.append(a)
        inputs = outputs
    error = inputs[0] - Value(1.0, "y")
    error.label = "ŷ-y"
    loss = 0.5 * error**2
    loss.label = "C"
    return loss


def node_statements(source):
    """{node id: its label} for the node statements of a DOT source."""
    return dict(re.findall(r'^\s*(\w+) \[label=(<.*>|"(?:[^"\\]|\\.)*"|\w+)', source, flags=re.M))


def edges(source):
    return re.findall(r"^\s*(\w+) -> (\w+)", source, flags=re.M)


def label_of(source, text):
    """The one node label containing ``text``."""
    found = [label for label in node_statements(source).values() if text in label]
    assert len(found) == 1, (text, found)
    return found[0]


def test_2_2_1_graph_shows_every_value_with_label_data_grad_and_each_op_as_a_node():
    ex = two_two_one()
    ex.loss.backward()
    r = chain_rule()
    g = autograd.draw(ex.loss)
    assert isinstance(g, Drawing) and g.format == "svg"
    src = g.source
    nodes = node_statements(src)
    ops = {k: v for k, v in nodes.items() if k.endswith("op")}
    assert len(ops) == 9
    assert sorted(ops.values()).count('<Σwx+b>') == 3 and sorted(ops.values()).count('<σ>') == 3
    assert len(nodes) == 22 + 9  # 22 values: 13 leaves, 9 results
    z0 = label_of(src, "<B>z0[1]</B>")
    assert f"data {r['z0']:.4f}" in z0 and f"grad {r['d0']:.4f}" in z0
    w = label_of(src, "<B>w01[1]</B>")
    assert "data -0.2000" in w and f"grad {r['grads']['w01[1]']:.4f}" in w
    # every op node has one edge to its result and one edge from each input use
    assert len(edges(src)) == 9 + sum(len(n.inputs) for n in autograd.topological_order(ex.loss))
    assert "rankdir=TB" in src  # top to bottom: narrower than left to right at a notebook's width


def test_a_reused_input_gets_one_edge_per_use():
    a = Value(3.0, label="a")
    d = a + a
    d.backward()
    src = autograd.draw(d, edge_labels=True).source
    assert edges(src).count(("n0", "n1op")) == 2
    assert "grad 2.0000 = 1.0000 + 1.0000" in label_of(src, "<B>a</B>")


def test_options_direction_fields_digits_format():
    ex = two_two_one()
    src = autograd.draw(ex.loss, rankdir="LR", show=("label",), format="png").source
    assert "rankdir=LR" in src
    assert "data " not in src and "grad " not in src and "<B>z0[1]</B>" in src
    src = autograd.draw(ex.loss, show=("data",), digits=2).source
    assert "<B>" not in src and "data 0.59" in src  # a0[1] = 0.5866
    assert autograd.draw(ex.loss, format="png").format == "png"


def test_edge_labels_carry_local_derivative_and_contribution_and_sums_show_at_shared_inputs():
    ex = two_two_one()
    ex.loss.backward()
    r = chain_rule()
    src = autograd.draw(ex.loss, edge_labels=True).source
    labels = re.findall(r'label="(local [^"]*)"', src)
    assert len(labels) == sum(len(n.inputs) for n in autograd.topological_order(ex.loss))
    # w00[1] -> dot of z0[1]: local ∂z/∂w = x0, contribution δ0 · x0
    assert f"local {X[0]:.4f}\nadds {r['d0'] * X[0]:.4f}" in labels
    # a0[2] -> σ: local σ'(z) = ŷ(1 − ŷ), contribution δ[2]
    assert f"local {r['yhat'] * (1 - r['yhat']):.4f}\nadds {r['d2']:.4f}" in labels
    # x0 feeds both hidden neurons: grad = δ1·w10 + δ0·w00, in backward order (z1[1] is visited first)
    c1, c0 = r["d1"] * PARAMS["w10[1]"], r["d0"] * PARAMS["w00[1]"]
    x0 = label_of(src, "<B>x0</B>")
    assert f"grad {r['x_grads'][0]:.4f} = {c1:.4f} − {abs(c0):.4f}" in x0
    assert "∂out/∂in" in src  # the legend


def test_large_graph_asks_for_collapse():
    loss = mlp_loss()
    # values: 2 inputs + 337 parameters + y + 0.5 + 33 z + 33 a + 3 loss nodes = 410; operations: 69
    with pytest.raises(ValueError, match=r"479 nodes \(410 values and 69 operations\).*collapse='neuron'.*"
                                         r"collapse='layer'"):
        autograd.draw(loss)
    assert len(node_statements(autograd.draw(loss, max_nodes=None).source)) == 479


def test_collapse_by_layer_draws_one_box_per_layer():
    loss = mlp_loss()
    loss.backward()
    src = autograd.draw(loss, collapse="layer").source
    nodes = node_statements(src)
    assert len(nodes) == 3 + 2 + 2 + 3 + 3  # layers; x0, x1; y, 0.5; ŷ-y, (ŷ-y)², C; their 3 ops
    assert "16 neurons, 48 parameters" in label_of(src, "layer 1")
    assert "16 neurons, 272 parameters" in label_of(src, "layer 2")
    assert "1 neuron, 17 parameters" in label_of(src, "layer 3")
    assert "w0_0[1]" not in src and "z0[1]" not in src
    x0 = next(k for k, v in nodes.items() if "<B>x0</B>" in v)
    assert 'g1 -> g2 [label="×256"' in src and f'{x0} -> g1 [label="×16"' in src
    top = loss.inputs[1].inputs[0].inputs[0]  # C = 0.5 * (ŷ-y)^2 ; ŷ-y = a0[3] - y
    assert top.label == "a0[3]"
    delta = top.inputs[0].grad
    assert f"δ = ∂C/∂z {delta:.4f}" in label_of(src, "layer 3")


def test_collapse_by_neuron_clusters_neurons_under_their_layer():
    loss = mlp_loss()
    src = autograd.draw(loss, collapse="neuron").source
    assert src.count("subgraph cluster_layer") == 3
    assert "label=\"layer 2\"" in src
    neurons = [label for label in node_statements(src).values() if "neuron " in label]
    assert len(neurons) == 33
    assert "17 parameters" in label_of(src, "neuron 15 of layer 2")
    # 16 × 16 uses from layer 1 into layer 2, one merged edge per neuron pair
    assert sum(1 for s, d in edges(src) if s.startswith("g1_") and d.startswith("g2_")) == 256


def test_2_2_1_collapses_by_neuron_from_its_labels():
    ex = two_two_one()
    src = autograd.draw(ex.loss, collapse="neuron").source
    for title in ("neuron 0 of layer 1", "neuron 1 of layer 1", "neuron 0 of layer 2"):
        assert "3 parameters" in label_of(src, title)
    assert "<B>y</B>" in src and "<B>ŷ-y</B>" in src  # loss arithmetic stays outside


def test_unlabeled_arithmetic_inside_a_neuron_joins_its_box():
    x = Value(2.0, label="x0")
    w, b = Value(0.5, label="w00[1]"), Value(0.1, label="b0[1]")
    z = w * x + b  # two unlabeled nodes of one neuron
    z.label = "z0[1]"
    a = z.tanh()
    a.label = "a0[1]"
    loss = a * 2.0
    src = autograd.draw(loss, collapse="neuron").source
    ops = [k for k in node_statements(src) if k.endswith("op")]
    assert len(ops) == 1  # only the loss's *
    assert "2 parameters" in label_of(src, "neuron 0 of layer 1")


def test_collapse_needs_nn_labels():
    a = Value(1.0, label="a")
    with pytest.raises(ValueError, match="no node labelled"):
        autograd.draw(a * a, collapse="layer")


def test_step_draws_the_backward_state_without_touching_grads():
    ex = two_two_one()
    order = autograd.topological_order(ex.loss)
    r = chain_rule()
    src0 = autograd.draw(ex.loss, step=0).source
    assert "grad 1.0000" in label_of(src0, "<B>C</B>")
    assert "grad –" in label_of(src0, "<B>z0[2]</B>")
    src4 = autograd.draw(ex.loss, step=4).source  # C, ^2, ŷ-y, σ done: δ[2] has arrived at z0[2]
    assert f"grad {r['d2']:.4f}" in label_of(src4, "<B>z0[2]</B>")
    assert "grad –" in label_of(src4, "<B>w00[2]</B>")
    assert "#d9f2d9" in label_and_attrs(src4, "<B>ŷ-y</B>")   # done
    assert "#ffd27f" in label_and_attrs(src4, "<B>a0[2]</B>")  # this step
    assert "backward, step 4 of 9: a0[2] (σ)" in src4
    src8 = autograd.draw(ex.loss, step=8).source  # z1[1] done, z0[1] not yet: x0 holds a partial grad
    assert f"grad {r['d1'] * PARAMS['w10[1]']:.4f} (so far)</FONT>" in label_of(src8, "<B>x0</B>")
    assert all(n.grad == 0.0 for n in order)
    with pytest.raises(ValueError, match="from 0 to 9"):
        autograd.draw(ex.loss, step=10)


def label_and_attrs(source, text):
    lines = [line for line in source.splitlines() if text in line]
    assert len(lines) == 1
    return lines[0]


def test_frames_cover_every_step():
    ex = two_two_one()
    fs = autograd.frames(ex.loss, edge_labels=True)
    assert len(fs) == 10
    assert "step 0 of 9" in fs[0].source and "step 9 of 9" in fs[-1].source
    assert fs[-1].source.count("adds –") == 0 and fs[1].source.count("adds –") > 0
    with pytest.raises(ValueError, match="step"):
        autograd.frames(ex.loss, step=3)


@pytest.mark.parametrize("kwargs, match", [
    ({"rankdir": "XY"}, "rankdir"), ({"show": ("label", "value")}, "show"), ({"collapse": "block"}, "collapse"),
    ({"max_nodes": 0}, "max_nodes"), ({"step": 1.5}, "step"), ({"digits": -1}, "digits"), ({"format": ""}, "format"),
])
def test_bad_options_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        autograd.draw(Value(1.0) * 2, **kwargs)


def test_draw_rejects_a_non_node():
    with pytest.raises(TypeError, match="got int"):
        autograd.draw(3)


def test_deep_chain_draws_without_recursion():
    x = Value(0.5, label="x")
    y = x
    for _ in range(3000):
        y = y * 1.0
    assert len(autograd.draw(y, max_nodes=None).source) > 3000
    assert notebook_svg(y) is None  # above the limit: Jupyter falls back to the text repr


@needs_dot
def test_rendering_succeeds():
    ex = two_two_one()
    ex.loss.backward()
    assert autograd.draw(ex.loss, edge_labels=True).pipe(format="png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"layer 2" in autograd.draw(mlp_loss(), collapse="layer").pipe(format="svg")
    assert autograd.draw(ex.loss, step=5).pipe(format="png")[:4] == b"\x89PNG"


@needs_dot
def test_value_renders_inline_in_jupyter():
    a = Value(2.0, label="a")
    b = a * Value(3.0, label="b")
    b.label = "out"
    svg = b._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "out" in svg and "data 6.0000" in svg


def test_missing_dot_gives_one_clear_error_with_the_source(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on an empty PATH
    ex = two_two_one()
    g = autograd.draw(ex.loss)
    for render in (lambda: g.pipe(format="png"), lambda: g.render(tmp_path / "out")):
        with pytest.raises(GraphvizNotFoundError) as info:
            render()
        assert isinstance(info.value, RuntimeError)
        message = str(info.value)
        for hint in ("apt-get install graphviz", "brew install graphviz", "conda install -c conda-forge graphviz",
                     ".source"):
            assert hint in message
        assert info.value.source.startswith("digraph") and "z0[1]" in info.value.source
    assert info.value.source == g.source


def test_jupyter_without_dot_shows_the_value_as_text_with_an_install_hint(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    ex = two_two_one()
    ex.loss.backward()
    svg = ex.loss._repr_svg_()  # a notebook cell ending in a Value must not fail without dot
    r = chain_rule()
    assert svg.startswith("<svg") and "<text" in svg
    assert f"Value C: data {r['C']:.4f}, grad 1.0000" in svg
    assert "apt-get install graphviz" in svg and "not installed" in svg


def test_tensor_graph_shows_shapes():
    tensor = pytest.importorskip("autograd.tensor")
    np = pytest.importorskip("numpy")
    W = tensor.Tensor(np.full((8, 3), 0.1), "W", requires_grad=True)
    x = tensor.Tensor(np.ones(3), "x")
    loss = (W @ x).sigmoid().sum()
    loss.backward()
    src = autograd.draw(loss, edge_labels=True).source
    w = label_of(src, "<B>W</B>")
    assert "data shape 8×3" in w and "grad shape 8×3" in w
    assert "data [1.0000, 1.0000, 1.0000]" in label_of(src, "<B>x</B>")
    steps = autograd.explain(loss).steps
    assert len(steps) == 3 and steps[-1].contributions[0].shape == (8, 3)
