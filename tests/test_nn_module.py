"""nn.Module, Neuron, Layer and MLP on the Value engine: names, state dicts, forward values and gradients
checked against numpy forward passes and hand-derived backpropagation written here."""

import math

import numpy as np
import pytest

import autograd
from autograd import Value
from autograd.value import SCALAR_OPS
from autograd.worked_example import hand_table, load_hand_table
from nn import MLP, Layer, LeakyReLU, MSELoss, Neuron
from nn.activations import get_activation
from nn.layers import ENGINES, bias_name, get_engine, weight_name


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def numpy_forward(state, activations, X):
    """The MLP's forward pass written directly in numpy from its state dict."""
    funcs = {"relu": lambda z: np.maximum(z, 0.0), "sigmoid": sigmoid, "tanh": np.tanh,
             "identity": lambda z: z, "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z)}
    a = np.asarray(X, dtype=np.float64)
    for l, name in enumerate(activations, start=1):
        a = funcs[name](a @ state[f"W[{l}]"].T + state.get(f"b[{l}]", 0.0))
    return a


REPORT_NET = dict(n_in=2, hidden=[16, 16], n_out=1, activations=["relu", "sigmoid", "sigmoid"])


# -- names ------------------------------------------------------------------------------


def test_parameter_names_follow_the_reports_and_are_the_labels():
    model = MLP(**REPORT_NET, seed=0)
    named = list(model.named_parameters())
    names = [n for n, _ in named]
    assert len(names) == len(set(names)) == model.num_parameters() == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1 == 337
    assert names[:6] == ["w00[1]", "w01[1]", "b0[1]", "w10[1]", "w11[1]", "b1[1]"]
    assert names[-3:] == ["w0_14[3]", "w0_15[3]", "b0[3]"]
    assert "w15_15[2]" in names and "w09[2]" in names and "w9_10[2]" in names and "w010[2]" not in names
    for name, p in named:
        assert p.label == name
    # w01[1] is the weight from input 1 to neuron 0 of layer 1: W[1][0, 1].
    assert dict(named)["w01[1]"].data == model.state_dict()["W[1]"][0, 1]
    assert dict(named)["w3_12[2]"].data == model.state_dict()["W[2]"][3, 12]
    assert dict(named)["b7[2]"].data == model.state_dict()["b[2]"][7]


def test_weight_names_are_unambiguous_for_wide_layers():
    names = {weight_name(j, k, 1) for j in range(12) for k in range(12)}
    assert len(names) == 144
    assert weight_name(1, 11, 2) == "w1_11[2]" and weight_name(11, 1, 2) == "w11_1[2]"
    assert weight_name(0, 1, 1) == "w01[1]" and bias_name(3, 2) == "b3[2]"


def test_neuron_builds_one_dot_node_and_labels_z_and_a():
    model = MLP(**REPORT_NET, seed=0)
    yhat = model([0.3, -0.7])
    assert isinstance(yhat, Value) and yhat.label == "a0[3]" and yhat.op is SCALAR_OPS["sigmoid"]
    (z,) = yhat.inputs
    assert z.label == "z0[3]" and z.op is SCALAR_OPS["dot"]
    w = [p for n, p in model.named_parameters() if n.endswith("[3]") and n.startswith("w")]
    b = dict(model.named_parameters())["b0[3]"]
    assert len(z.inputs) == 16 + 16 + 1
    assert z.inputs[:16] == tuple(w) and z.inputs[-1] is b
    assert [a.label for a in z.inputs[16:32]] == [f"a{j}[2]" for j in range(16)]
    hidden = z.inputs[16].inputs[0].inputs[16:18]  # the inputs of z0[2]'s dot: a0[1], a1[1]
    assert [h.label for h in hidden] == ["a0[1]", "a1[1]"]
    first = z.inputs[16].inputs[0].inputs[16].inputs[0]  # z0[1]
    assert first.label == "z0[1]" and [x.label for x in first.inputs[2:4]] == ["x0", "x1"]


def test_identity_output_is_the_dot_node_itself():
    model = MLP(2, [], 1, activations=["identity"], seed=0)
    out = model([1.0, 2.0])
    assert out.op is SCALAR_OPS["dot"] and out.label == "z0[1]"


# -- construction errors, repr ------------------------------------------------------------


def test_unknown_engine_is_a_value_error_naming_the_supported_ones():
    with pytest.raises(ValueError, match=r"engine 'gpu' is not supported; supported engines: .*'value'"):
        MLP(**REPORT_NET, engine="gpu")
    assert get_engine("value") is ENGINES["value"]


@pytest.mark.parametrize("activations", [["relu", "sigmoid"], "relu", ["relu", "sigmoid", "sigmoid", "relu"]])
def test_one_activation_per_layer_is_required(activations):
    with pytest.raises(ValueError, match="one activation per layer"):
        MLP(2, [16, 16], 1, activations=activations)


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_in=0, hidden=[2], n_out=1), "n_in must be a positive int"),
    (dict(n_in=2, hidden=[2, -1], n_out=1), "hidden layer size"),
    (dict(n_in=2, hidden=[2], n_out=1.5), "n_out must be a positive int"),
    (dict(n_in=2, hidden=[2], n_out=1, activations=["relu", "swish"]), "unknown activation 'swish'"),
    (dict(n_in=2, hidden=[2], n_out=1, init="zeros"), "unknown initializer 'zeros'"),
])
def test_bad_specs_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MLP(**kwargs)


def test_repr_lists_layers_sizes_and_parameter_count():
    text = repr(MLP(**REPORT_NET, seed=0))
    assert text.splitlines() == [
        "MLP(2 -> 16 -> 16 -> 1, engine='value', 337 parameters)",
        "  (1): Layer(2 -> 16, ReLU(), bias=True)",
        "  (2): Layer(16 -> 16, Sigmoid(), bias=True)",
        "  (3): Layer(16 -> 1, Sigmoid(), bias=True)",
    ]
    assert repr(LeakyReLU(0.2)) == "LeakyReLU(slope=0.2)"


def test_bias_off_leaves_no_bias_parameters_or_entries():
    model = MLP(3, [4], 2, activations=["tanh", "identity"], bias=False, seed=0)
    assert not [n for n, _ in model.named_parameters() if n.startswith("b")]
    assert list(model.state_dict()) == ["W[1]", "W[2]"]
    out = model([[1.0, 2.0, 3.0]])[0]
    np.testing.assert_allclose([o.data for o in out],
                               numpy_forward(model.state_dict(), ["tanh", "identity"], [[1.0, 2.0, 3.0]])[0],
                               rtol=1e-14)


# -- state dict ------------------------------------------------------------------------


def test_state_dict_is_per_layer_float64_arrays_drawn_from_the_seed():
    model = MLP(**REPORT_NET, seed=7)
    state = model.state_dict()
    assert list(state) == ["W[1]", "b[1]", "W[2]", "b[2]", "W[3]", "b[3]"]
    assert [state[k].shape for k in state] == [(16, 2), (16,), (16, 16), (16,), (1, 16), (1,)]
    assert all(a.dtype == np.float64 for a in state.values())
    rng = np.random.default_rng(7)  # N(0, 1), drawn in the order W[1], b[1], W[2], ...
    for key in state:
        np.testing.assert_array_equal(state[key], rng.normal(0.0, 1.0, state[key].shape))


def test_state_dict_round_trip_is_exact_and_gives_identical_outputs():
    source, target = MLP(**REPORT_NET, seed=1), MLP(**REPORT_NET, seed=2)
    state = source.state_dict()
    target.load_state_dict(state)
    for key, value in target.state_dict().items():
        assert np.array_equal(value, state[key])
    X = np.random.default_rng(0).uniform(-1, 1, (5, 2))
    assert [v.data for v in source(X)] == [v.data for v in target(X)]
    state["W[1]"][0, 0] = 123.0  # a copy: changing it does not touch the model
    assert source.state_dict()["W[1]"][0, 0] != 123.0


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("b[2]"), r"missing entries \['b\[2\]'\]"),
    (lambda s: s.update({"W[4]": np.zeros((1, 1))}), r"unexpected entries \['W\[4\]'\]"),
    (lambda s: s.update({"W[2]": np.zeros((16, 15))}), r"entry 'W\[2\]' has shape \(16, 15\), expected \(16, 16\)"),
    (lambda s: s.update({"b[1]": "abc"}), r"entry 'b\[1\]' is not numeric"),
])
def test_load_state_dict_names_the_bad_entry_and_loads_nothing(change, message):
    model = MLP(**REPORT_NET, seed=0)
    before = model.state_dict()
    state = {k: v + 1.0 for k, v in before.items()}  # every other entry valid and different
    change(state)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    for key, value in model.state_dict().items():
        assert np.array_equal(value, before[key]), f"{key} was written although loading failed"


def test_load_state_dict_needs_a_mapping():
    with pytest.raises(TypeError, match="mapping"):
        MLP(**REPORT_NET).load_state_dict([("W[1]", np.zeros((16, 2)))])


def test_to_copies_the_weights_into_a_new_model():
    model = MLP(**REPORT_NET, seed=3)
    copy = model.to("value")
    assert copy is not model and copy.spec() == model.spec()
    for key, value in copy.state_dict().items():
        assert np.array_equal(value, model.state_dict()[key])
    assert set(map(id, copy.parameters())).isdisjoint(map(id, model.parameters()))


# -- forward ------------------------------------------------------------------------------


@pytest.mark.parametrize("activations", [["relu", "sigmoid", "sigmoid"], ["tanh", "leaky_relu", "identity"]])
def test_forward_matches_a_numpy_forward_pass(activations):
    model = MLP(2, [16, 16], 1, activations=activations, seed=4)
    X = np.random.default_rng(1).uniform(-2, 2, (7, 2))
    expected = numpy_forward(model.state_dict(), activations, X)[:, 0]
    got = [v.data for v in model(X)]
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
    assert model(X[3]).data == got[3]  # one sample gives the same as its row in a batch
    assert model(X.tolist())[3].data == got[3]


def test_multi_output_and_softmax_layer():
    model = MLP(4, [5], 3, activations=["relu", "softmax"], seed=0)
    out = model([0.5, -1.0, 2.0, 0.1])
    assert len(out) == 3 and math.isclose(sum(o.data for o in out), 1.0, rel_tol=1e-15)
    assert [o.label for o in out] == ["a0[2]", "a1[2]", "a2[2]"]
    z = numpy_forward(model.state_dict(), ["relu", "identity"], [[0.5, -1.0, 2.0, 0.1]])[0]
    np.testing.assert_allclose([o.data for o in out], np.exp(z) / np.exp(z).sum(), rtol=1e-14)


def test_wrong_input_width_and_type_are_errors():
    model = MLP(**REPORT_NET)
    with pytest.raises(ValueError, match="expects 2 input features per sample, got 3"):
        model([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="shape"):
        model(np.zeros((2, 2, 2)))
    with pytest.raises(TypeError, match="sequence"):
        model(3.0)


def test_layer_and_neuron_can_be_used_on_their_own():
    neuron = Neuron([2.0, -1.0], bias=0.5, activation="tanh", j=1, l=2)
    out = neuron([Value(0.25), 1.0])
    assert out.label == "a1[2]" and math.isclose(out.data, math.tanh(2 * 0.25 - 1.0 + 0.5))
    assert [n for n, _ in neuron.named_parameters()] == ["w10[2]", "w11[2]", "b1[2]"]
    layer = Layer(3, 4, activation="sigmoid", index=2, seed=5)
    W = np.random.default_rng(5).normal(0, 1, (4, 3))
    np.testing.assert_array_equal(layer.state_dict()["W[2]"], W)
    assert len(layer([1.0, 2.0, 3.0])) == 4


def test_zero_grad_clears_every_parameter_gradient():
    model = MLP(**REPORT_NET, seed=0)
    MSELoss()(model(np.ones((3, 2))), np.ones(3)).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


# -- gradients --------------------------------------------------------------------------


@pytest.mark.parametrize("activations", [["relu", "sigmoid", "sigmoid"], ["tanh", LeakyReLU(0.1), "identity"]])
def test_parameter_gradients_match_central_differences(activations):
    model = MLP(2, [3, 3], 1, activations=activations, seed=2)
    X = np.random.default_rng(3).uniform(-1, 1, (4, 2))
    y = np.array([0.0, 1.0, 1.0, 0.0])
    params = model.parameters()
    assert autograd.gradcheck(lambda *_: MSELoss()(model(X), y), params, atol=1e-7, rtol=1e-5)


def test_report_network_gradients_match_hand_written_backprop():
    """dW = δᵀ a_prev, δ = (δ_next W) ⊙ f'(z), for the 2-16-16-1 net on 5 samples with MSE (mean)."""
    model = MLP(**REPORT_NET, seed=11)
    s = model.state_dict()
    X = np.random.default_rng(4).uniform(0, 1, (5, 2))
    y = np.array([0.0, 1.0, 0.0, 1.0, 1.0])
    z1 = X @ s["W[1]"].T + s["b[1]"]
    a1 = np.maximum(z1, 0)
    z2 = a1 @ s["W[2]"].T + s["b[2]"]
    a2 = sigmoid(z2)
    a3 = sigmoid(a2 @ s["W[3]"].T + s["b[3]"])[:, 0]
    d3 = (2 * (a3 - y) / len(y) * a3 * (1 - a3))[:, None]
    d2 = (d3 @ s["W[3]"]) * a2 * (1 - a2)
    d1 = (d2 @ s["W[2]"]) * (z1 > 0)
    expected = {"W[1]": d1.T @ X, "b[1]": d1.sum(0), "W[2]": d2.T @ a1, "b[2]": d2.sum(0),
                "W[3]": d3.T @ a2, "b[3]": d3.sum(0)}
    loss = MSELoss()(model(X), y)
    assert math.isclose(loss.data, np.mean((a3 - y) ** 2), rel_tol=1e-13)
    loss.backward()
    grads = dict((n, p.grad) for n, p in model.named_parameters())
    for l in (1, 2, 3):
        W = expected[f"W[{l}]"]
        for j in range(W.shape[0]):
            assert math.isclose(grads[bias_name(j, l)], expected[f"b[{l}]"][j], rel_tol=1e-11, abs_tol=1e-15)
            for k in range(W.shape[1]):
                assert math.isclose(grads[weight_name(j, k, l)], W[j, k], rel_tol=1e-11, abs_tol=1e-15)


# -- the hand-worked 2-2-1 table ------------------------------------------------------------


def test_from_hand_table_reproduces_the_table_and_the_hand_formulas():
    table = load_hand_table()
    net = table["network"]
    model = MLP.from_hand_table(table)
    x = [net["inputs"]["x0"], net["inputs"]["x1"]]
    y = net["label"]["y"]
    params = dict(model.named_parameters())
    for name, value in net["hidden"].items():
        assert params[f"{name}[1]"].data == value
    for name, value in net["output"].items():
        assert params[f"{name}[2]"].data == value

    loss = MSELoss(reduction="half_sum")([model(x)], [y])
    loss.backward()

    # The hand formulas, from the table's weights, in plain floats.
    def s(z):
        return 1.0 / (1.0 + math.exp(-z))
    h, o = net["hidden"], net["output"]
    z0 = h["w00"] * x[0] + h["w01"] * x[1] + h["b0"]
    z1 = h["w10"] * x[0] + h["w11"] * x[1] + h["b1"]
    a0, a1 = s(z0), s(z1)
    yhat = s(o["w00"] * a0 + o["w01"] * a1 + o["b0"])
    delta2 = (yhat - y) * yhat * (1 - yhat)
    delta0, delta1 = delta2 * o["w00"] * a0 * (1 - a0), delta2 * o["w01"] * a1 * (1 - a1)
    exact = {"w00[2]": delta2 * a0, "w01[2]": delta2 * a1, "b0[2]": delta2,
             "w00[1]": delta0 * x[0], "w01[1]": delta0 * x[1], "b0[1]": delta0,
             "w10[1]": delta1 * x[0], "w11[1]": delta1 * x[1], "b1[1]": delta1}
    assert math.isclose(loss.data, 0.5 * (yhat - y) ** 2, rel_tol=1e-15)
    hand = hand_table()
    for name, value in exact.items():
        assert math.isclose(params[name].grad, value, rel_tol=1e-13, abs_tol=1e-17), name
        assert abs(params[name].grad - hand[name]) <= 1.5e-4, name
    assert abs(yhat - hand["yhat"]) <= 1.5e-4


def test_get_activation_accepts_names_instances_and_none():
    assert get_activation("ReLU").name == "relu" and get_activation(None).name == "identity"
    assert get_activation("linear").name == "identity"
    slope = LeakyReLU(0.3)
    assert get_activation(slope) is slope
    with pytest.raises(ValueError, match="expected one of"):
        get_activation(3)
