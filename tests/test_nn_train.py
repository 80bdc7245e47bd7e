"""nn.train (fit, History, predictions), nn.plot and the main demo (the command line: test_cli.py)."""

import math
import re

import numpy as np
import pytest

from autograd import Value
from nn import MLP, SGD, Adam, MSELoss, accuracy, fit, predict
from nn import data as datasets
from nn.train import History, prediction_lines

REPORT = dict(n_in=2, hidden=[16, 16], n_out=1, activations=["relu", "sigmoid", "sigmoid"])


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def numpy_sgd_step(s, X, y, lr):
    """One full-batch SGD step of the 2-16-16-1 ReLU/sigmoid/sigmoid net on MSE (mean), by hand."""
    z1 = X @ s["W[1]"].T + s["b[1]"]
    a1 = np.maximum(z1, 0)
    a2 = sigmoid(a1 @ s["W[2]"].T + s["b[2]"])
    a3 = sigmoid(a2 @ s["W[3]"].T + s["b[3]"])[:, 0]
    d3 = (2 * (a3 - y) / len(y) * a3 * (1 - a3))[:, None]
    d2 = (d3 @ s["W[3]"]) * a2 * (1 - a2)
    d1 = (d2 @ s["W[2]"]) * (z1 > 0)
    grads = {"W[1]": d1.T @ X, "b[1]": d1.sum(0), "W[2]": d2.T @ a1, "b[2]": d2.sum(0), "W[3]": d3.T @ a2,
             "b[3]": d3.sum(0)}
    return {k: s[k] - lr * grads[k] for k in s}, float(np.mean((a3 - y) ** 2))


def test_fit_steps_are_full_batch_sgd_as_derived_by_hand():
    X, y = datasets.generate_XOR_easy()
    model = MLP(**REPORT, seed=0)
    state = model.state_dict()
    losses = []
    for _ in range(3):
        state, loss = numpy_sgd_step(state, X, y, lr=1.0)
        losses.append(loss)
    history = fit(model, X, y, loss="mse", optimizer="sgd", lr=1.0, epochs=3)
    np.testing.assert_allclose(history.loss, losses, rtol=1e-12)
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(value, state[key], rtol=1e-11, atol=1e-14)


def test_fit_reaches_100_percent_on_xor_like_the_reports(capsys):
    X, y = datasets.generate_XOR_easy()
    model = MLP(**REPORT, seed=1)
    history = fit(model, X, y, optimizer=SGD(model.parameters(), lr=1.0), epochs=150, log_every=50)
    lines = capsys.readouterr().out.splitlines()
    assert [re.fullmatch(r"Epoch (\d+) Loss: \d+\.\d{6}", line)[1] for line in lines] == ["50", "100", "150"]
    assert isinstance(history, History) and history.epochs == 150 and history.stopped is None
    assert history.loss[-1] < 0.25 * history.loss[0]
    assert history.final_accuracy == 1.0 and accuracy(predict(model, X), y) == 1.0
    assert history.wall_time > 0
    assert f"{history.loss[-1]:.6f}" in lines[-1]


def test_minibatches_are_reproducible_and_cover_every_row():
    X, y = datasets.generate_linear(n=20, seed=0)
    runs = []
    for _ in range(2):
        model = MLP(2, [4], 1, activations=["tanh", "sigmoid"], seed=3)
        history = fit(model, X, y, optimizer="adam", lr=0.05, epochs=4, batch_size=6, seed=9)
        runs.append((history.loss, model.state_dict()["W[1]"]))
    assert runs[0][0] == runs[1][0] and np.array_equal(runs[0][1], runs[1][1])
    model = MLP(2, [4], 1, activations=["tanh", "sigmoid"], seed=3)
    other = fit(model, X, y, optimizer="adam", lr=0.05, epochs=4, batch_size=6, seed=10)
    assert other.loss != runs[0][0]


def test_epoch_loss_is_the_mean_over_minibatches_weighted_by_size():
    X, y = datasets.generate_linear(n=10, seed=1)
    model = MLP(2, [3], 1, activations=["relu", "sigmoid"], seed=0)
    before = model.state_dict()
    history = fit(model, X, y, optimizer="sgd", lr=0.0, epochs=1, batch_size=4, seed=0)  # lr 0: weights fixed
    expected = MSELoss()(model(X), y).data
    assert math.isclose(history.loss[0], expected, rel_tol=1e-13)
    assert all(np.array_equal(v, before[k]) for k, v in model.state_dict().items())


def test_divergence_stops_with_a_message_and_keeps_the_last_finite_weights():
    X, y = datasets.generate_linear(n=10, seed=0)
    model = MLP(2, [8], 1, activations=["relu", "identity"], seed=0)
    messages = []
    history = fit(model, X, y, optimizer="sgd", lr=1e6, epochs=200, print_fn=messages.append)
    assert history.stopped is not None and history.epochs < 200
    assert messages == [history.stopped]
    text = history.stopped
    assert f"Stopped at epoch {history.epochs + 1}" in text and "learning rate 1e+06" in text
    assert f"Last finite loss {history.loss[-1]:.6g} (epoch {history.epochs})" in text
    assert all(math.isfinite(v) for v in history.loss)
    # The model holds the weights that gave the last finite loss.
    assert math.isclose(MSELoss()(model(X), y).data, history.loss[-1], rel_tol=1e-12)


def test_fit_argument_errors():
    X, y = datasets.generate_XOR_easy()
    model = MLP(**REPORT)
    with pytest.raises(ValueError, match="give lr to the optimizer"):
        fit(model, X, y, optimizer=SGD(model.parameters(), lr=0.1), lr=0.1)
    with pytest.raises(ValueError, match="X and y must have the same number of rows"):
        fit(model, X, y[:-1])
    with pytest.raises(ValueError, match=r"X must be an array of n samples with at least 2 axes"):
        fit(model, X[0], y[:1])
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        fit(model, X, y, epochs=0)


def test_progress_bar_and_multiclass_training(capsys):
    X, y = datasets.make_blobs(60, centers=[(-2, 0), (2, 0), (0, 3)], std=0.4, seed=0)
    model = MLP(2, [6], 3, activations=["tanh", "identity"], seed=0)
    history = fit(model, X, y, loss="cross_entropy", optimizer=Adam(model.parameters(), lr=0.1), epochs=30,
                  progress=True, log_every=30)
    assert history.final_accuracy > 0.9 and accuracy(predict(model, X), y) > 0.9
    captured = capsys.readouterr()
    assert "30/30" in captured.err and "Epoch 30 Loss:" in captured.out + captured.err


def test_bce_with_logits_uses_threshold_zero():
    X, y = datasets.generate_XOR_easy()
    model = MLP(2, [8], 1, activations=["tanh", "identity"], seed=0)
    history = fit(model, X, y, loss="bce_logits", optimizer="adam", lr=0.05, epochs=3)
    logits = predict(model, X)
    assert history.accuracy[-1] >= 0 and accuracy(logits, y, threshold=0.0) == np.mean((logits > 0) == (y > 0.5))


def test_predict_records_no_graph_and_has_the_right_shape():
    model = MLP(3, [4], 2, activations=["relu", "identity"], seed=0)
    out = predict(model, np.ones((5, 3)))
    assert out.shape == (5, 2)
    assert predict(MLP(**REPORT), np.zeros((4, 2))).shape == (4,)
    with pytest.raises(ValueError, match=r"predict X must be an array of n samples with at least 2 axes"):
        predict(model, np.ones(3))


def test_prediction_lines_are_in_the_reports_style():
    lines = prediction_lines(np.array([0.01, 0.99698, 0.7]), np.array([0.0, 1.0, 0.0]))
    assert lines == ["Iter 0 | Ground truth: 0 | Prediction: 0.01000",
                     "Iter 1 | Ground truth: 1 | Prediction: 0.99698",
                     "Iter 2 | Ground truth: 0 | Prediction: 0.70000",
                     "Accuracy: 2/3 = 66.67%"]
    multi = prediction_lines(np.array([[0.1, 2.0], [3.0, 0.0]]), np.array([1, 1]))
    assert multi[:2] == ["Iter 0 | Ground truth: 1 | Prediction: 1", "Iter 1 | Ground truth: 1 | Prediction: 0"]


def test_accuracy_rules():
    assert accuracy(np.array([0.2, 0.6, 0.51]), np.array([0.0, 1.0, 0.0])) == pytest.approx(2 / 3)
    assert accuracy(np.array([[0.2], [0.6]]), np.array([[0.0], [1.0]])) == 1.0
    assert accuracy(np.array([-0.1, 0.1]), np.array([0, 1]), threshold=0.0) == 1.0
    assert accuracy(np.array([[1, 0, 3], [0, 5, 1]]), np.array([2, 0])) == 0.5
    assert accuracy(np.array([[1, 0, 3], [0, 5, 1]]), np.eye(3)[[2, 1]]) == 1.0


# -- plots and demo ---------------------------------------------------------------------


def test_plots_write_pngs_and_reject_bad_input(tmp_path):
    from nn import plot
    X, y = datasets.generate_XOR_easy()
    model = MLP(**REPORT, seed=0)
    history = fit(model, X, y, lr=1.0, epochs=2)
    plot.plot_loss({"a": history, "b": [0.3, 0.2, 0.1]}, path=tmp_path / "loss.png")
    plot.plot_decision_boundary(model, X, y, path=tmp_path / "db.png", resolution=15)
    plot.plot_activations(["sigmoid", "relu", "tanh"], path=tmp_path / "act.png", points=41)
    for name in ("loss.png", "db.png", "act.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    with pytest.raises(ValueError, match=r"needs 2-D points"):
        plot.plot_decision_boundary(model, np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="at least one loss curve"):
        plot.plot_loss({})


@pytest.mark.parametrize("output", [3.7, 0.25, np.nan])
def test_a_decision_boundary_of_a_constant_or_nan_output_is_drawn_without_a_contour(tmp_path, output):
    # a dead or diverged net predicts one number everywhere: contourf needs increasing levels all the same
    import warnings

    from nn import plot
    X, y = datasets.generate_XOR_easy()
    model = MLP(2, [2], 1, activations=["relu", "identity"], engine="tensor", seed=0)
    model.load_state_dict({"W[1]": np.zeros((2, 2)), "b[1]": np.zeros(2), "W[2]": np.zeros((1, 2)),
                           "b[2]": np.full(1, output)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot.plot_decision_boundary(model, X, y, path=tmp_path / "db.png", resolution=10)
    assert (tmp_path / "db.png").stat().st_size > 5_000
    right = fig.axes[1]
    assert len(right.collections) >= 1  # the filled surface is there; no threshold contour (it is nowhere crossed)


def test_activation_curve_is_the_engines_derivative():
    from nn.plot import activation_curve
    xs = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    f, df = activation_curve("sigmoid", xs)
    s = 1 / (1 + np.exp(-xs))
    np.testing.assert_allclose(f, s, rtol=1e-15)
    np.testing.assert_allclose(df, s * (1 - s), rtol=1e-14)
    f, df = activation_curve("relu", xs)
    assert df.tolist() == [0, 0, 0, 1, 1] and f.tolist() == [0, 0, 0, 0.5, 3]
    with pytest.raises(ValueError, match="elementwise"):
        activation_curve("softmax", xs)


def test_demo_runs_and_writes_its_pictures(tmp_path, capsys):
    from nn import demo
    results = demo.main(["--out", str(tmp_path), "--xor-epochs", "3", "--linear-epochs", "1"])
    out = capsys.readouterr().out
    assert out.startswith("The 2-2-1 worked example")
    assert "nn.MLP.from_hand_table(): C = 0.10178005" in out and "at most 0.0e+00" in out
    assert "Iter 20 | Ground truth: 1 | Prediction:" in out and "== Summary (Tensor engine)" in out
    tensor_line = re.search(r'from_hand_table\(engine="tensor"\): C = 0\.10178005, .* the same gradients to (\S+)', out)
    assert tensor_line and float(tensor_line[1]) <= 1e-12
    assert [r["data"] for r in results] == ["xor", "linear"] and [r["epochs"] for r in results] == [3, 1]
    for name in ("loss_xor.png", "decision_boundary_xor.png", "loss_linear.png", "decision_boundary_linear.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    import shutil
    graphs = ("graph_2-2-1", "graph_2-16-16-1_by_layer")
    suffix = ".png" if shutil.which("dot") else ".dot"  # without Graphviz the demo writes DOT sources
    for name in graphs:
        assert (tmp_path / (name + suffix)).stat().st_size > 1_000


def test_value_predictions_feed_losses_directly():
    model = MLP(2, [3], 2, activations=["relu", "identity"], seed=0)
    pred = model(np.ones((4, 2)))
    assert len(pred) == 4 and all(len(row) == 2 and isinstance(row[0], Value) for row in pred)
    loss = MSELoss()(pred, np.zeros((4, 2)))
    assert math.isclose(loss.data, np.mean(predict(model, np.ones((4, 2))) ** 2), rel_tol=1e-14)


# -- fit's defaults, output, and safety (issue 16 item 2; issue 15 items 6, 7, 25, 26) -----------------------


def forward_mse(state, X, y, acts=("relu", "identity")):
    """MSE of a one-hidden-layer net from its state_dict, in numpy (not the engine)."""
    f = {"relu": lambda z: np.maximum(z, 0), "identity": lambda z: z, "sigmoid": sigmoid, "tanh": np.tanh}
    with np.errstate(over="ignore", invalid="ignore"):
        a1 = f[acts[0]](X @ state["W[1]"].T + state["b[1]"])
        out = f[acts[1]](a1 @ state["W[2]"].T + state["b[2]"])[:, 0]
        return float(np.mean((out - y) ** 2))


@pytest.mark.parametrize("seed", range(5))
def test_fit_defaults_train_the_reports_xor_net_to_100_percent(seed):
    """Issue 16 item 2: fit's defaults (SGD lr 1.0, 500 epochs, MSE); the old ones (lr 0.001) ended at ~52%."""
    X, y = datasets.generate_XOR_easy()
    model = MLP(**REPORT, init="normal", seed=seed, engine="tensor")
    history = fit(model, X, y, verbose=False)
    assert history.epochs == 500 and history.stopped is None
    assert accuracy(predict(model, X), y) == 1.0


def test_fit_defaults_also_train_on_the_value_engine():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    model = MLP(2, [4], 1, activations=["tanh", "sigmoid"], seed=0)
    history = fit(model, X, y, verbose=False)
    assert accuracy(predict(model, X), y) == 1.0 and history.final_loss < 0.01


def test_the_default_learning_rate_is_sgds_1_and_other_optimizers_keep_their_own():
    X, y = datasets.generate_XOR_easy()
    expected, _ = numpy_sgd_step(MLP(**REPORT, seed=0).state_dict(), X, y, lr=1.0)
    model = MLP(**REPORT, seed=0)
    fit(model, X, y, epochs=1, verbose=False)
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(value, expected[key], rtol=1e-11, atol=1e-14)
    seen = []
    import nn.train as train_module
    original = train_module.get_optimizer
    try:
        train_module.get_optimizer = lambda name, params, **hyper: seen.append(hyper) or original(name, params, **hyper)
        fit(MLP(**REPORT, seed=0), X, y, optimizer="adam", epochs=1, verbose=False)
        fit(MLP(**REPORT, seed=0), X, y, optimizer="SGD", epochs=1, verbose=False)
    finally:
        train_module.get_optimizer = original
    assert seen == [{}, {"lr": 1.0}]


def test_progress_shows_a_bar_unless_quiet(capsys, monkeypatch):
    import nn.train as train_module
    X, y = datasets.generate_XOR_easy()
    delays = []
    real_bar = train_module._progress_bar
    monkeypatch.setattr(train_module, "_progress_bar", lambda epochs, delay: delays.append(delay) or
                        real_bar(epochs, delay))
    fit(MLP(**REPORT, seed=0), X, y, epochs=3)  # default: a bar that appears for runs over a second
    fit(MLP(**REPORT, seed=0), X, y, epochs=3, progress=True)  # asked for: from the start
    assert delays == [1.0, 0.0]
    captured = capsys.readouterr()
    assert "3/3" in captured.err and captured.out == ""
    fit(MLP(**REPORT, seed=0), X, y, epochs=3, log_every=1)  # lines asked for: no bar
    assert len(delays) == 2 and capsys.readouterr().out.count("Epoch") == 3
    # verbose=False: nothing at all, not even the lines asked for or the stop message
    history = fit(MLP(2, [8], 1, activations=["relu", "identity"], seed=0), X, y, lr=1e6, epochs=50, log_every=1,
                  progress=True, verbose=False)
    assert history.stopped and len(delays) == 2 and capsys.readouterr() == ("", "")
    with pytest.raises(TypeError, match="fit verbose must be True or False, got str"):
        fit(MLP(**REPORT), X, y, verbose="no")
    with pytest.raises(TypeError, match="fit progress must be None, True or False, got int"):
        fit(MLP(**REPORT), X, y, progress=2)


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_the_last_step_is_checked_too(engine):
    """Issue 15 item 6: one epoch at lr 1e300 used to return a model whose loss is inf with stopped=None."""
    X, y = datasets.generate_linear(n=10, seed=0)
    model = MLP(2, [8], 1, activations=["relu", "identity"], seed=0, engine=engine)
    before = model.state_dict()
    messages = []
    with np.errstate(over="ignore", invalid="ignore"):  # numpy's matmul warns on the overflow (Tensor engine)
        history = fit(model, X, y, lr=1e300, epochs=1, print_fn=messages.append)
    assert history.stopped is not None and messages == [history.stopped]
    assert history.stopped.startswith("Stopped after epoch 1, the last: the loss after the last step became inf")
    assert "learning rate 1e+300" in history.stopped
    # The model holds the weights before that step: the ones that gave the last finite loss.
    assert all(np.array_equal(v, before[k]) for k, v in model.state_dict().items())
    assert math.isclose(forward_mse(model.state_dict(), X, y), history.loss[-1], rel_tol=1e-12)


class InPlaceSGD(SGD):
    """SGD as PyTorch habits write it: the parameter's array is changed in place."""

    def _update(self, p, g, state):
        p.data -= self.lr * g


def test_restore_after_divergence_works_with_an_in_place_optimizer():
    """Issue 15 item 7: the restore kept references, which an in-place optimizer changes with the weights."""
    X, y = datasets.generate_linear(n=10, seed=0)
    model = MLP(2, [8], 1, activations=["relu", "identity"], seed=0, engine="tensor")
    with np.errstate(over="ignore", invalid="ignore"):
        history = fit(model, X, y, optimizer=InPlaceSGD(model.parameters(), lr=1e6), epochs=200, verbose=False)
    assert history.stopped is not None and history.epochs >= 1
    state = model.state_dict()
    assert all(np.isfinite(v).all() for v in state.values())
    assert math.isclose(forward_mse(state, X, y), history.loss[-1], rel_tol=1e-12)


class InterruptingSGD(SGD):
    """SGD with momentum that gets Ctrl-C (KeyboardInterrupt) at step ``at_step`` while updating parameter
    ``at_param``, after the parameters before it were updated in place."""

    def __init__(self, params, at_step, at_param, **kw):
        super().__init__(params, **kw)
        self.at_step, self.at_param, self.steps, self.updated = at_step, at_param, 0, 0

    def step(self):
        self.steps += 1
        self.updated = 0
        super().step()

    def _update(self, p, g, state):
        if self.steps == self.at_step and self.updated == self.at_param:
            raise KeyboardInterrupt
        self.updated += 1
        buf = state.get("momentum_buffer")
        state["momentum_buffer"] = buf = g.copy() if buf is None else self.momentum * buf + g
        p.data -= self.lr * buf


def test_ctrl_c_in_a_step_leaves_the_model_and_optimizer_at_a_step_boundary():
    """Issue 15 item 26: an interrupted step used to leave some layers stepped and others not."""
    X, y = datasets.generate_XOR_easy()
    start = MLP(**REPORT, seed=0, engine="tensor").state_dict()
    after_one, _ = numpy_sgd_step(start, X, y, lr=0.5)  # momentum buffer after step 1 = its gradient
    model = MLP(**REPORT, seed=0, engine="tensor")
    opt = InterruptingSGD(model.parameters(), at_step=2, at_param=3, lr=0.5, momentum=0.9)
    messages = []
    with pytest.raises(KeyboardInterrupt) as info:
        fit(model, X, y, optimizer=opt, epochs=5, print_fn=messages.append)
    text = ("fit interrupted (KeyboardInterrupt) in epoch 2: the step in progress was undone; the model holds the "
            "weights after 1 complete step (1 complete epoch), a step boundary.")
    assert messages == [text] and str(info.value) == text
    state = model.state_dict()
    for key in state:
        np.testing.assert_allclose(state[key], after_one[key], rtol=1e-12, atol=1e-15)
    names = [f"{kind}[{l}]" for l in (1, 2, 3) for kind in ("W", "b")]  # parameters() order
    for name, s in zip(names, opt.state):
        np.testing.assert_allclose(s["momentum_buffer"], (start[name] - after_one[name]) / 0.5, rtol=1e-9,
                                   atol=1e-15)


class InterruptingMSE(MSELoss):
    """MSE whose ``at_call``-th evaluation is interrupted (Ctrl-C during the forward pass)."""

    def __init__(self, at_call):
        super().__init__()
        self.at_call, self.calls = at_call, 0

    def __call__(self, pred, target):
        self.calls += 1
        if self.calls == self.at_call:
            raise KeyboardInterrupt("user pressed Ctrl-C")
        return super().__call__(pred, target)


def test_ctrl_c_outside_the_step_says_where_the_model_is():
    X, y = datasets.generate_XOR_easy()
    model = MLP(**REPORT, seed=0, engine="tensor")
    messages = []
    with pytest.raises(KeyboardInterrupt, match="user pressed Ctrl-C"):
        fit(model, X, y, loss=InterruptingMSE(at_call=3), lr=1.0, epochs=5, print_fn=messages.append)
    assert messages == ["fit interrupted (KeyboardInterrupt) in epoch 3: the model holds the weights after 2 "
                        "complete steps (2 complete epochs), a step boundary."]
    expected = MLP(**REPORT, seed=0).state_dict()
    for _ in range(2):
        expected, _ = numpy_sgd_step(expected, X, y, lr=1.0)
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(value, expected[key], rtol=1e-11, atol=1e-14)


def test_value_engine_warns_once_with_an_estimate_on_big_data():
    """Issue 15 item 25: 10^6 samples on the Value engine used to extrapolate silently to minutes per epoch."""
    import warnings

    from nn.train import SlowTrainingWarning
    model = MLP(**REPORT, seed=0)
    X, y = np.zeros((10**6, 2)), np.zeros(10**6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SlowTrainingWarning)  # stop fit at the warning: it comes before any step
        with pytest.raises(SlowTrainingWarning) as info:
            fit(model, X, y, verbose=False)
        # 71 nodes per sample (counted in test_value_node_estimate_matches_a_real_graph) x 10^6 samples:
        # 710 s at 10 us a node, 71 x 160 B x 10^6 = 10.6 GiB for the full batch
        assert str(info.value) == (
            "fit: the Value engine builds about 71 scalar nodes per sample for this 2-16-16-1 MLP, so one epoch "
            "over 1,000,000 samples takes an estimated 12 min and holds about 10.6 GiB of graph per step (full "
            "batch). Build the model with engine=\"tensor\" (or train model.to(\"tensor\")): it runs a whole batch "
            "as one node per layer, some 200x faster.")
        with pytest.raises(SlowTrainingWarning, match=r"holds about 11 MiB of graph per step \(batches of 1,000\)"):
            fit(model, X, y, batch_size=1000, verbose=False)
        fit(model, X[:21], y[:21], epochs=1, verbose=False)  # small data: no warning
        fit(model.to("tensor"), X[:1000], y[:1000], epochs=1, verbose=False)  # the Tensor engine: never


@pytest.mark.parametrize("sizes, acts", [((2, 16, 16, 1), ["relu", "sigmoid", "sigmoid"]),
                                         ((3, 5, 2), ["tanh", "sigmoid"]), ((4, 3, 3), ["relu", "identity"])])
def test_value_node_estimate_matches_a_real_graph(sizes, acts):
    from autograd.graph import topological_order
    from nn.train import _value_nodes_per_sample
    model = MLP(sizes[0], list(sizes[1:-1]), sizes[-1], activations=acts, seed=0)

    def nodes(k):
        target = np.zeros((k, sizes[-1])) if sizes[-1] > 1 else np.zeros(k)
        return len(topological_order(MSELoss()(model(np.ones((k, sizes[0]))), target)))

    assert _value_nodes_per_sample(sizes, acts) == nodes(3) - nodes(2) == nodes(2) - nodes(1)
