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
    with pytest.raises(ValueError, match=r"X must be a 2-D array"):
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
    with pytest.raises(ValueError, match=r"predict expects X of shape \(n, d\)"):
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
