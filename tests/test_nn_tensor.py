"""nn on the Tensor engine: the ``Linear`` layer, MLP(engine="tensor"), losses on Tensors (values against the
formulas, gradients against central differences and closed forms written here, extreme inputs), optimizers and
fit on Tensor parameters, the command line (Tensor by default) and the seed report's XOR result."""

import math
import re

import numpy as np
import pytest

from autograd import Tensor, no_grad
from nn import MLP, SGD, Adam, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, fit, predict
from nn import data as datasets
from nn.layers import ENGINES, Linear
from nn.losses import predictions_to_array
from nn.train import main

REPORT = dict(n_in=2, hidden=[16, 16], n_out=1, activations=["relu", "sigmoid", "sigmoid"])


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


FUNCS = {"relu": lambda z: np.maximum(z, 0.0), "sigmoid": sigmoid, "tanh": np.tanh, "identity": lambda z: z,
         "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z)}


def numpy_forward(state, activations, X):
    a = np.asarray(X, dtype=np.float64)
    for l, name in enumerate(activations, start=1):
        a = FUNCS[name](a @ state[f"W[{l}]"].T + state.get(f"b[{l}]", 0.0))
    return a


def central_differences(model: MLP, loss_of_outputs, X, h: float = 1e-6) -> dict[str, np.ndarray]:
    """∂L/∂θ for every entry of the state dict by (L(θ + h) - L(θ - h)) / 2h, the loss evaluated without a graph."""
    state = model.state_dict()
    grads = {}
    for key, array in state.items():
        g = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            values = []
            for step in (h, -h):
                moved = {k: v.copy() for k, v in state.items()}
                moved[key][index] += step
                model.load_state_dict(moved)
                with no_grad():
                    values.append(float(loss_of_outputs(model(X)).data))
            g[index] = (values[0] - values[1]) / (2 * h)
        grads[key] = g
    model.load_state_dict(state)
    return grads


# -- the layer and the model --------------------------------------------------------------------


def test_tensor_mlp_has_w_and_b_tensors_per_layer_named_as_the_state_dict():
    model = MLP(**REPORT, seed=0, engine="tensor")
    assert model.engine == "tensor" and "tensor" in ENGINES
    named = list(model.named_parameters())
    assert [n for n, _ in named] == ["W[1]", "b[1]", "W[2]", "b[2]", "W[3]", "b[3]"]
    assert [p.shape for _, p in named] == [(16, 2), (16,), (16, 16), (16,), (1, 16), (1,)]
    for name, p in named:
        assert isinstance(p, Tensor) and p.requires_grad and p.label == name and p.dtype == np.float64
    assert model.num_parameters() == 337
    assert repr(model).splitlines() == ["MLP(2 -> 16 -> 16 -> 1, engine='tensor', 337 parameters)",
                                        "  (1): Linear(2 -> 16, ReLU(), bias=True)",
                                        "  (2): Linear(16 -> 16, Sigmoid(), bias=True)",
                                        "  (3): Linear(16 -> 1, Sigmoid(), bias=True)"]
    # W[l][j, k] is the reports' w_jk of layer l: the weight from input k to neuron j
    value = MLP(**REPORT, seed=0)
    assert dict(named)["W[2]"].data[3, 12] == dict(value.named_parameters())["w3_12[2]"].data


def test_linear_on_its_own_and_without_bias():
    layer = Linear(3, 2, activation="tanh", index=2, seed=1)
    x = np.array([[0.5, -1.0, 2.0], [0.0, 1.0, -1.0]])
    W, b = layer.state_dict()["W[2]"], layer.state_dict()["b[2]"]
    np.testing.assert_allclose(layer(x).data, np.tanh(x @ W.T + b), rtol=1e-15)
    assert layer(x).label == "a[2]" and layer(x).inputs[0].label == "z[2]"
    bare = Linear.from_arrays(W, None, "identity", 1)
    assert [n for n, _ in bare.named_parameters()] == ["W[1]"] and list(bare.state_dict()) == ["W[1]"]
    np.testing.assert_allclose(bare(x[0]).data, W @ x[0], rtol=1e-15)
    W[0, 0] = 99.0  # from_arrays copies
    assert bare.W.data[0, 0] != 99.0
    with pytest.raises(ValueError, match=r"Linear needs W of shape \(n_out, n_in\)"):
        Linear.from_arrays(np.zeros((2, 3)), np.zeros(3), None, 1)
    model = MLP(2, [3], 1, bias=False, engine="tensor", seed=0)
    assert [n for n, _ in model.named_parameters()] == ["W[1]", "W[2]"]


@pytest.mark.parametrize("activations", [REPORT["activations"], ["tanh", "leaky_relu", "identity"]])
def test_forward_matches_numpy_for_a_batch_and_for_one_sample(activations):
    model = MLP(2, [16, 16], 1, activations=activations, seed=4, engine="tensor")
    X = np.random.default_rng(1).uniform(-2, 2, (7, 2))
    expected = numpy_forward(model.state_dict(), activations, X)
    out = model(X)
    assert isinstance(out, Tensor) and out.shape == (7, 1) and out.requires_grad
    np.testing.assert_allclose(out.data, expected, rtol=1e-13, atol=1e-15)
    assert model(X[3]).shape == (1,)  # one sample: a vector product, rounded differently from the batch's
    assert math.isclose(model(X[3]).data[0], out.data[3, 0], rel_tol=1e-14)
    assert np.array_equal(model(X.tolist()).data, out.data) and np.array_equal(model(Tensor(X)).data, out.data)
    assert predict(model, X).shape == (7,) and np.array_equal(predict(model, X), out.data[:, 0])


def test_softmax_output_layer_and_multi_output_predictions():
    model = MLP(3, [4], 3, activations=["relu", "softmax"], seed=0, engine="tensor")
    X = np.random.default_rng(2).normal(size=(5, 3))
    probs = model(X)
    z = numpy_forward(model.state_dict(), ["relu", "identity"], X)
    expected = np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)
    np.testing.assert_allclose(probs.data, expected, rtol=1e-14)
    assert predict(model, X).shape == (5, 3) and predictions_to_array(model(X[0])).shape == (3,)


@pytest.mark.parametrize("bad, error, message", [
    (np.zeros((4, 3)), ValueError, r"expects 2 input features per sample .* got shape \(4, 3\)"),
    (np.zeros((2, 2, 2)), ValueError, r"one sample \(1-D\) or a batch \(2-D, n x d\).* shape \(2, 2, 2\)"),
    ("xy", ValueError, r"MLP input must be one sample"),
])
def test_bad_input_names_what_was_expected(bad, error, message):
    with pytest.raises(error, match=message):
        MLP(**REPORT, engine="tensor")(bad)


def test_zero_grad_and_accumulation():
    model = MLP(2, [3], 1, activations=["tanh", "identity"], seed=0, engine="tensor")
    X, y = np.ones((4, 2)), np.zeros(4)
    assert all(np.array_equal(g, np.zeros_like(g)) for g in model.grad_dict().values())  # before any backward
    MSELoss()(model(X), y).backward()
    once = model.grad_dict()
    MSELoss()(model(X), y).backward()
    assert all(np.allclose(g, 2 * once[k], rtol=1e-15) for k, g in model.grad_dict().items())
    model.zero_grad()
    MSELoss()(model(X), y).backward()
    assert all(np.array_equal(g, once[k]) for k, g in model.grad_dict().items())
    model.zero_grad()
    assert all(not g.any() for g in model.grad_dict().values())


# -- losses on Tensors ----------------------------------------------------------------------------


def test_tensor_gradients_of_every_loss_match_central_differences():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (6, 2))
    cases = [(MSELoss("sum"), "sigmoid", 2, rng.uniform(0, 1, (6, 2))),
             (BCELoss(), "sigmoid", 1, rng.uniform(0, 1, 6)),
             (BCEWithLogitsLoss("sum"), "identity", 2, rng.integers(0, 2, (6, 2))),
             (CrossEntropyLoss(), "identity", 3, rng.integers(0, 3, 6))]
    for loss, output, n_out, target in cases:
        model = MLP(2, [3], n_out, activations=["tanh", output], seed=1, engine="tensor")
        value = loss(model(X), target)
        value.backward()
        numeric = central_differences(model, lambda out, loss=loss, target=target: loss(out, target), X)
        for key, g in model.grad_dict().items():
            np.testing.assert_allclose(g, numeric[key], rtol=1e-6, atol=1e-8, err_msg=f"{loss!r} {key}")


def test_loss_values_and_output_gradients_are_the_textbook_formulas():
    """Each loss on a leaf Tensor of predictions: its value and ∂L/∂(prediction) by the formulas written here."""
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, (5, 2))
    y = rng.integers(0, 2, (5, 2)).astype(float)
    z = rng.normal(0, 3, (5, 3))
    c = np.array([0, 2, 1, 2, 0])
    n = p.size

    def run(loss, pred, target):
        t = Tensor(pred, requires_grad=True)
        out = loss(t, target)
        out.backward()
        return out.item(), t.grad

    value, grad = run(MSELoss("mean"), p, y)
    assert math.isclose(value, np.mean((p - y) ** 2), rel_tol=1e-14)
    np.testing.assert_allclose(grad, 2 * (p - y) / n, rtol=1e-14)
    value, grad = run(MSELoss("half_sum"), p, y)
    assert math.isclose(value, 0.5 * np.sum((p - y) ** 2), rel_tol=1e-14)
    np.testing.assert_allclose(grad, p - y, rtol=1e-14)  # dC/dŷ = ŷ - y, as in the hand derivations
    value, grad = run(BCELoss(), p, y)
    assert math.isclose(value, -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), rel_tol=1e-14)
    np.testing.assert_allclose(grad, (p - y) / (p * (1 - p)) / n, rtol=1e-12)
    value, grad = run(BCEWithLogitsLoss("sum"), z[:, :2], y)
    s = sigmoid(z[:, :2])
    assert math.isclose(value, -np.sum(y * np.log(s) + (1 - y) * np.log(1 - s)), rel_tol=1e-13)
    np.testing.assert_allclose(grad, s - y, rtol=1e-13, atol=1e-16)
    value, grad = run(CrossEntropyLoss(), z, c)
    softmax = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    assert math.isclose(value, -np.mean(np.log(softmax[np.arange(5), c])), rel_tol=1e-14)
    np.testing.assert_allclose(grad, (softmax - np.eye(3)[c]) / 5, rtol=1e-13, atol=1e-16)
    value, _ = run(CrossEntropyLoss("sum"), z, np.eye(3)[c] * 0.5 + 0.5 / 3)  # probability rows
    assert math.isclose(value, -np.sum((np.eye(3)[c] * 0.5 + 0.5 / 3) * np.log(softmax)), rel_tol=1e-14)


def test_losses_are_stable_for_extreme_inputs():
    # logits of ±1000: softplus without overflow, gradient σ(z) - y exactly at the limits
    z = Tensor([[1000.0], [-1000.0], [0.0], [-1000.0]], requires_grad=True)
    loss = BCEWithLogitsLoss("sum")(z, [0.0, 1.0, 1.0, 0.0])
    loss.backward()
    assert loss.item() == 2000.0 + math.log(2.0)
    assert z.grad[:, 0].tolist() == [1.0, -1.0, -0.5, 0.0]
    # probabilities 0 and 1: each log clamped at -100 as in PyTorch; no gradient through a clamped term
    p = Tensor([0.0, 1.0, 1.0, 0.5], requires_grad=True)
    loss = BCELoss("sum")(p, [1.0, 0.0, 1.0, 1.0])
    loss.backward()
    assert loss.item() == 200.0 + math.log(2.0)
    assert p.grad.tolist() == [0.0, 0.0, -1.0, -2.0]
    # cross-entropy on logits of 1e4: the shifted log-sum-exp
    logits = Tensor([[1e4, 0.0, -1e4], [0.0, 0.0, 0.0]], requires_grad=True)
    loss = CrossEntropyLoss("sum")(logits, [1, 2])
    loss.backward()
    assert math.isclose(loss.item(), 1e4 + math.log(3.0), rel_tol=1e-15)
    np.testing.assert_allclose(logits.grad, [[1.0, -1.0, 0.0], [1 / 3, 1 / 3, -2 / 3]], rtol=1e-15, atol=0)


@pytest.mark.parametrize("loss, pred, target, message", [
    (MSELoss(), np.zeros((4, 1)), np.zeros(3), r"MSELoss: target has shape \(3,\) .* expected a target of shape "
                                               r"\(4, 1\) or \(4,\)"),
    (MSELoss(), np.zeros((4, 2)), np.zeros(4), r"MSELoss: target has shape \(4,\)"),
    (BCELoss(), np.full((2, 1), 0.5), [0.0, 1.5], r"BCELoss: targets must lie in \[0, 1\], got 1.5"),
    (BCELoss(), np.array([[0.5], [1.2]]), [0.0, 1.0], r"predictions \(probabilities\) must lie in \[0, 1\]"),
    (BCEWithLogitsLoss(), np.zeros((2, 1)), [0.0, -1.0], r"targets must lie in \[0, 1\]"),
    (CrossEntropyLoss(), np.zeros((2, 3)), [0, 3], r"class label 3 at index 1 is out of range"),
    (CrossEntropyLoss(), np.zeros((2, 3)), np.zeros((2, 2)), r"expected class indices of shape \(2,\)"),
    (MSELoss(), np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), r"Tensor of shape \(n, k\) or \(k,\)"),
])
def test_bad_targets_raise_value_errors_naming_the_shapes(loss, pred, target, message):
    with pytest.raises(ValueError, match=message):
        loss(Tensor(pred, requires_grad=True), target)


# -- optimizers and fit on Tensor parameters --------------------------------------------------------


def test_sgd_and_adam_update_tensor_parameters_by_the_formulas_and_rebind_data():
    model = MLP(2, [3], 1, activations=["tanh", "identity"], seed=0, engine="tensor")
    X, y = np.random.default_rng(0).normal(size=(5, 2)), np.arange(5.0)
    W = dict(model.named_parameters())["W[1]"]
    opt = Adam(model.parameters(), lr=0.1)
    m = v = 0.0
    theta = W.data.copy()
    for t in range(1, 4):
        opt.zero_grad()
        MSELoss()(model(X), y).backward()
        g = W.grad.copy()
        held = W.data
        opt.step()
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        theta = theta - 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        np.testing.assert_allclose(W.data, theta, rtol=1e-13, atol=1e-15)
        assert W.data is not held  # rebound: what fit snapshots before a step stays as it was
    opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
    opt.zero_grad()
    MSELoss()(model(X), y).backward()
    before, g = W.data.copy(), W.grad.copy()
    opt.step()
    np.testing.assert_allclose(W.data, before - 0.05 * g, rtol=1e-15)


def test_fit_converts_the_full_batch_once_and_minibatches_per_step():
    X, y = datasets.generate_linear(n=20, seed=0)
    model = MLP(2, [4], 1, activations=["relu", "sigmoid"], seed=0, engine="tensor")
    seen = []
    forward = model.forward
    model.forward = lambda x: (seen.append(x), forward(x))[1]
    fit(model, X, y, lr=0.1, epochs=5)
    # one forward per step, and one more after the last step (fit checks its loss too)
    assert len(seen) == 6 and all(type(x) is Tensor and x is seen[0] for x in seen)
    assert np.array_equal(seen[0].data, X) and not seen[0].requires_grad
    seen.clear()
    fit(model, X, y, lr=0.1, epochs=2, batch_size=8)
    assert [len(x) for x in seen] == [8, 8, 4, 8, 8, 4, 4] and all(type(x) is Tensor for x in seen)


def test_fit_stops_on_divergence_and_keeps_the_last_finite_weights_on_tensors():
    X, y = datasets.generate_linear(n=10, seed=0)
    model = MLP(2, [8], 1, activations=["relu", "identity"], seed=0, engine="tensor")
    messages = []
    with np.errstate(over="ignore", invalid="ignore"):  # the diverging products overflow on purpose
        history = fit(model, X, y, optimizer="sgd", lr=1e6, epochs=200, print_fn=messages.append)
    assert history.stopped is not None and history.epochs < 200 and messages == [history.stopped]
    assert f"Last finite loss {history.loss[-1]:.6g} (epoch {history.epochs})" in history.stopped
    assert math.isclose(MSELoss()(model(X), y).item(), history.loss[-1], rel_tol=1e-12)


def test_fit_on_tensors_follows_the_hand_written_sgd_steps():
    X, y = datasets.generate_XOR_easy()
    model = MLP(**REPORT, seed=0, engine="tensor")
    s = model.state_dict()
    losses = []
    for _ in range(3):  # full-batch SGD with lr 1.0 on mean squared error, written out
        z1 = X @ s["W[1]"].T + s["b[1]"]
        a1 = np.maximum(z1, 0)
        a2 = sigmoid(a1 @ s["W[2]"].T + s["b[2]"])
        a3 = sigmoid(a2 @ s["W[3]"].T + s["b[3]"])[:, 0]
        losses.append(np.mean((a3 - y) ** 2))
        d3 = (2 * (a3 - y) / len(y) * a3 * (1 - a3))[:, None]
        d2 = (d3 @ s["W[3]"]) * a2 * (1 - a2)
        d1 = (d2 @ s["W[2]"]) * (z1 > 0)
        g = {"W[1]": d1.T @ X, "b[1]": d1.sum(0), "W[2]": d2.T @ a1, "b[2]": d2.sum(0), "W[3]": d3.T @ a2,
             "b[3]": d3.sum(0)}
        s = {k: s[k] - 1.0 * g[k] for k in s}
    history = fit(model, X, y, lr=1.0, epochs=3)
    np.testing.assert_allclose(history.loss, losses, rtol=1e-12)
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(value, s[key], rtol=1e-11, atol=1e-14)


def test_multiclass_fit_on_tensors():
    X, y = datasets.make_blobs(60, centers=[(-2, 0), (2, 0), (0, 3)], std=0.4, seed=0)
    model = MLP(2, [6], 3, activations=["tanh", "identity"], seed=0, engine="tensor")
    history = fit(model, X, y, loss="cross_entropy", optimizer=Adam(model.parameters(), lr=0.1), epochs=30)
    assert history.final_accuracy > 0.9 and np.mean(predict(model, X).argmax(1) == y) > 0.9


# -- the command line and the seed report's result --------------------------------------------------


def test_command_line_trains_on_the_tensor_engine_by_default(capsys):
    main(["--data", "xor", "--hidden", "4", "--activation", "tanh", "--epochs", "2"])
    assert "engine='tensor'" in capsys.readouterr().out
    main(["--data", "xor", "--hidden", "4", "--activation", "tanh", "--epochs", "2", "--engine", "value"])
    assert "engine='value'" in capsys.readouterr().out


def test_seed_report_xor_run_reaches_100_percent_from_the_command_line(capsys):
    """The reports' 2-16-16-1 (ReLU, sigmoid, sigmoid output), N(0, 1), MSE, SGD lr 1.0 on XOR, shortened from
    100,000 to 5,000 epochs (100% is reached within a few hundred)."""
    history = main(["--data", "xor", "--hidden", "16", "16", "--activation", "relu", "sigmoid", "--lr", "1",
                    "--epochs", "5000", "--engine", "tensor"])
    out = capsys.readouterr().out
    assert history.epochs == 5000 and history.stopped is None
    assert history.final_accuracy == 1.0 and history.final_loss < 1e-3
    assert re.search(r"Training accuracy: 100\.00% \(21 rows\), 5000 epochs in", out)
    assert "Epoch 5000 Loss: " in out and "(1): Linear(2 -> 16, ReLU(), bias=True)" in out


@pytest.mark.parametrize("layer", ["Linear", "Layer"])
@pytest.mark.parametrize("flag", [False, True])
def test_a_bias_flag_in_the_activations_place_is_refused_naming_bias(layer, flag):
    # PyTorch's Linear(2, 3, False) means no bias; here the third argument is the activation
    import nn
    layer = getattr(nn, layer)
    with pytest.raises(TypeError, match=rf"third argument is the activation .*got {flag}; .*write bias={flag}"):
        layer(2, 3, flag)
    built = layer(2, 3, bias=flag)
    assert built.bias is flag and set(built.state_dict()) == ({"W[1]", "b[1]"} if flag else {"W[1]"})
