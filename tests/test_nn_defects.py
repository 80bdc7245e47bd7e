"""Defects found by attacking nn (fit, accuracy, the printout, the optimizers, the command lines): each test
failed before its fix. Expected values are computed here in float64 numpy, not taken from the code."""

import math
import warnings

import numpy as np
import pytest

import autograd
import nn
import nn.cli
import nn.cnn
import nn.demo
import nn.experiments as ex
from autograd import Tensor, Value
from nn import data as datasets
from nn.experiments.__main__ import README_END, README_START
from nn.experiments.__main__ import main as experiments_main
from nn.train import prediction_lines


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def bce(p, y):
    """PyTorch's BCELoss (mean): each log clamped at -100."""
    with np.errstate(divide="ignore"):
        return float(-np.mean(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log(1 - p), -100)))


def forward(state, X, activations):
    """An MLP's outputs from its state dict (W[l], b[l]), by hand; (n,) for one output."""
    fns = {"relu": lambda z: np.maximum(z, 0), "sigmoid": sigmoid, "tanh": np.tanh, "identity": lambda z: z}
    a = X
    for l, name in enumerate(activations, start=1):
        a = fns[name](a @ state[f"W[{l}]"].T + state[f"b[{l}]"])
    return a[:, 0] if a.shape[1] == 1 else a


def exits_with_status_2(main, argv, capsys):
    """``main(argv)`` must exit with status 2 (argparse's) after one error line, no traceback: that line."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "Traceback" not in err, err
    return err.strip().splitlines()[-1]


def no_training(*args, **kwargs):
    raise AssertionError("training started before the bad argument was refused")


# 1. an extreme learning rate: fit stops with its message, no numpy warnings, finite weights ---------------------

@pytest.mark.parametrize("engine", ["tensor", "value"])
def test_fit_at_an_extreme_learning_rate_stops_without_numpy_warnings(engine):
    X, y = datasets.generate_XOR_easy()
    acts = ["relu", "relu", "sigmoid"]
    model = nn.MLP(2, [16, 16], 1, activations=acts, engine=engine)
    start = {k: v.copy() for k, v in model.state_dict().items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as python -W error
        history = nn.fit(model, X, y, loss="bce", lr=1e308, epochs=20, verbose=False)
    # the first step overflows; the second epoch's check stops, and the model keeps the weights before that step
    assert history.stopped.startswith("Stopped at epoch 2: ") and "learning rate 1e+308" in history.stopped
    assert history.loss == [pytest.approx(bce(forward(start, X, acts), y), rel=1e-12)]
    for key, value in model.state_dict().items():
        assert np.isfinite(value).all() and np.array_equal(value, start[key]), key


@pytest.mark.parametrize("make, grad, expected", [
    (lambda ps: nn.SGD(ps, lr=10.0), 1e308, -math.inf),  # 1e308 - 10 * 1e308 overflows to -inf
    # m = 0.1 g, v = 0.001 g² = inf: the step m / (√v / √0.001 + ε) is 0, the weight stays
    (lambda ps: nn.Adam(ps, lr=0.1), 1e200, 1e308),
    (lambda ps: nn.RMSprop(ps, lr=0.1), 1e200, 1e308),
    (lambda ps: nn.Adagrad(ps, lr=0.1), 1e200, 1e308),
])
def test_optimizer_steps_that_overflow_give_inf_without_warnings_on_both_engines(make, grad, expected):
    tensor, value = Tensor(np.array([1e308]), requires_grad=True), Value(1e308)
    tensor_opt, value_opt = make([tensor]), make([value])
    tensor.grad, value.grad = np.array([grad]), grad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tensor_opt.step()
        value_opt.step()
    assert tensor.data.tolist() == [expected] and value.data == expected


# 2. python -m nn.experiments --readme / --out are checked before any training ------------------------------------

def test_experiments_refuse_a_readme_or_out_that_cannot_be_written_before_training(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(ex, "run_experiment", no_training)
    readme = tmp_path / "README.md"
    original = f"intro\n{README_START}\n| the full table |\n{README_END}\nrest\n"
    readme.write_text(original)
    plain = tmp_path / "plain.md"
    plain.write_text("no markers here\n")
    out = ["--out", str(tmp_path / "out")]
    cases = [
        (["hidden-units", "--quick", "--readme", str(readme), *out], "--readme: got it with experiment hidden-units; "
                                                                    "expected it only with report-000"),
        (["report-000", "--quick", "--readme", str(tmp_path / "missing.md"), *out], "--readme: cannot read"),
        (["report-000", "--quick", "--readme", str(plain), *out], "--readme: the file has no generated-table markers"),
        (["report-000", "--quick", "--out", str(plain)], "--out: got"),
    ]
    cases += [  # counts and the dask backend, as usage errors too (they exited with status 1)
        (["hidden-units", "--quick", "--seeds", "0", *out], "argument --seeds: got '0'; expected an integer from 1 "
                                                            "to 10,000"),
        (["hidden-units", "--quick", "--seeds", "20000", *out], "expected an integer from 1 to 10,000"),
        (["hidden-units", "--quick", "--epochs", "0", *out], "argument --epochs: got '0'; expected a positive"),
        (["hidden-units", "--quick", "--backend", "dask", *out], "--backend dask needs --scheduler ADDRESS"),
    ]
    for argv, message in cases:
        line = exits_with_status_2(experiments_main, argv, capsys)
        assert line.startswith("python -m nn.experiments: error: ") and message in line, line
    assert readme.read_text() == original
    # the README's own experiment passes the checks and goes on to train
    with pytest.raises(AssertionError, match="training started"):
        experiments_main(["report-000", "--quick", "--readme", str(readme), *out])


# 3. History.loss does not depend on batch_size, whatever the reduction ----------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum", "half_sum"])
def test_epoch_loss_combines_batches_as_the_reduction_does(reduction):
    X, y = datasets.generate_XOR_easy()
    acts = ["tanh", "sigmoid"]
    state = nn.MLP(2, [4], 1, activations=acts, seed=0, engine="tensor").state_dict()
    squares = (forward(state, X, acts) - y) ** 2
    expected = {"mean": squares.mean(), "sum": squares.sum(), "half_sum": 0.5 * squares.sum()}[reduction]
    for batch_size in (None, 7, 5, 1):
        model = nn.MLP(2, [4], 1, activations=acts, seed=0, engine="tensor")
        history = nn.fit(model, X, y, loss=nn.MSELoss(reduction), lr=0.0, epochs=1, batch_size=batch_size,
                         verbose=False)
        assert history.loss[0] == pytest.approx(expected, rel=1e-12), batch_size


# 4. accuracy: nan is wrong, bad labels and shapes are named ------------------------------------------------------

def test_accuracy_counts_nan_predictions_and_labels_as_wrong():
    nan = math.nan
    assert nn.accuracy(np.array([nan, nan, nan]), np.array([0.0, 0.0, 1.0])) == 0.0
    assert nn.accuracy(np.array([[nan, 0.0], [nan, 1.0]]), np.array([0, 0])) == 0.0
    # one output: 0.2 -> 0 (right), nan (wrong), 0.9 -> 1 (right), a nan label (wrong)
    assert nn.accuracy(np.array([0.2, nan, 0.9, 0.1]), np.array([0.0, 0.0, 1.0, nan])) == 2 / 4
    # several outputs: row 0 right, row 1 holds a nan (wrong), row 2 right
    outputs = np.array([[0.1, 0.9], [nan, 0.5], [0.7, 0.3]])
    assert nn.accuracy(outputs, np.array([1, 1, 0])) == 2 / 3
    assert nn.accuracy(outputs, np.eye(2)[[1, 1, 0]]) == 2 / 3
    assert nn.accuracy(np.array([0.3, -0.2]), np.array([1, 0]), threshold=np.float32(0.0)) == 1.0


@pytest.mark.parametrize("outputs, y, threshold, error, message", [
    (np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([2.5, 7]), 0.5, ValueError,
     r"class indices for 2 outputs, so each must be a whole number in 0..1; got 2.5 at row 0"),
    (np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, -1]), 0.5, ValueError, "got -1 at row 1"),
    (np.array([[0.1, 0.9], [0.8, 0.2]]), np.eye(3)[[1, 0]], 0.5, ValueError,
     r"2 outputs per sample need y of shape \(2,\) or \(2, 1\) .* or \(2, 2\) \(one-hot rows\), got y of shape "
     r"\(2, 3\)"),
    (np.array([0.9, 0.1]), np.eye(2)[[1, 0]], 0.5, ValueError,
     r"one output per sample needs y of shape \(2,\) or \(2, 1\) \(0/1 labels\), got y of shape \(2, 2\)"),
    (np.array([0.9, 0.1]), np.array([1, 0]), "0.5", TypeError, "threshold must be a real number.* got str"),
    (np.array([0.9, 0.1]), np.array([1, 0]), math.nan, ValueError, "threshold must be a finite real number, got nan"),
    (np.zeros((2, 2, 2)), np.array([1, 0]), 0.5, ValueError, r"outputs must be a non-empty array"),
])
def test_accuracy_names_bad_labels_shapes_and_thresholds(outputs, y, threshold, error, message):
    with pytest.raises(error, match=message):
        nn.accuracy(outputs, y, threshold)


# 5. an optimizer holding another model's parameters -----------------------------------------------------------

def test_fit_refuses_an_optimizer_built_on_another_model_but_fine_tunes_part_of_one():
    X, y = datasets.generate_XOR_easy()
    a, b = nn.MLP(2, [4], 1, engine="tensor"), nn.MLP(2, [4], 1, engine="tensor")
    with pytest.raises(ValueError, match=r"none of the optimizer's 4 parameters is one of the model's 4"):
        nn.fit(a, X, y, optimizer=nn.SGD(b.parameters(), lr=1.0), epochs=50, verbose=False)
    start = {k: v.copy() for k, v in a.state_dict().items()}
    nn.fit(a, X, y, optimizer=nn.SGD(a.parameters()[2:], lr=1.0), epochs=5, verbose=False)  # the last layer only
    after = a.state_dict()
    assert np.array_equal(after["W[1]"], start["W[1]"]) and np.array_equal(after["b[1]"], start["b[1]"])
    assert not np.array_equal(after["W[2]"], start["W[2]"])


# 6. python -m nn.train --loss bce needs a sigmoid output ------------------------------------------------------

@pytest.mark.parametrize("output", ["identity", "tanh", "relu", "leaky_relu"])
def test_cli_refuses_bce_without_a_sigmoid_output_before_training(output, monkeypatch, capsys):
    monkeypatch.setattr(nn.cli, "fit", no_training)
    line = exits_with_status_2(nn.cli.main, ["--loss", "bce", "--output-activation", output, "--epochs", "5"],
                               capsys)
    assert line == (f"python -m nn.train: error: --output-activation: got {output} with --loss bce, which needs "
                    "probabilities in [0, 1]; expected sigmoid (or --loss bce_logits, which takes the identity "
                    "output's logits) (--help lists the options)")


# 7. the printout takes every target fit takes ---------------------------------------------------------------

def test_prediction_lines_show_classes_of_one_hot_targets_and_nan_as_nan():
    nan = math.nan
    outputs = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3], [nan, 0.0, 1.0]])
    assert prediction_lines(outputs, np.eye(3)[[1, 2, 0]]) == [
        "Iter 0 | Ground truth: 1 | Prediction: 1", "Iter 1 | Ground truth: 2 | Prediction: 0",
        "Iter 2 | Ground truth: 0 | Prediction: nan", "Accuracy: 1/3 = 33.33%"]
    assert prediction_lines(np.array([nan, 0.3, 0.8]), np.array([[0.0], [nan], [1.0]])) == [
        "Iter 0 | Ground truth: 0 | Prediction: nan", "Iter 1 | Ground truth: nan | Prediction: 0.30000",
        "Iter 2 | Ground truth: 1 | Prediction: 0.80000", "Accuracy: 1/3 = 33.33%"]


def test_print_predictions_on_one_hot_iris_targets_and_column_targets():
    X, labels = datasets.load_iris()
    X, labels = X[::30], labels[::30]
    acts = ["tanh", "identity"]
    model = nn.MLP(4, [3], 3, activations=acts, seed=2, engine="tensor")
    predicted = forward(model.state_dict(), X, acts).argmax(axis=1)
    lines = []
    acc = nn.print_predictions(model, X, np.eye(3)[labels], print_fn=lines.append)
    assert lines[:-1] == [f"Iter {i} | Ground truth: {t} | Prediction: {p}"
                          for i, (t, p) in enumerate(zip(labels, predicted))]
    assert acc == np.mean(predicted == labels)
    X2, y2 = datasets.generate_XOR_easy()
    binary = nn.MLP(2, [3], 1, activations=["relu", "sigmoid"], seed=0, engine="tensor")
    p = forward(binary.state_dict(), X2[:3], ["relu", "sigmoid"])
    lines = []
    nn.print_predictions(binary, X2[:3], y2[:3, None], print_fn=lines.append)
    assert lines[:-1] == [f"Iter {i} | Ground truth: {int(t)} | Prediction: {q:.5f}"
                          for i, (t, q) in enumerate(zip(y2[:3], p))]


# 8. the command lines refuse bad arguments in one line, status 2, before work -----------------------------------

def test_cnn_command_refuses_bad_arguments_before_training(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(nn.cnn, "run_setting", no_training)
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    for argv, message in [
        (["--quick", "--batch-size", "0"], "argument --batch-size: got '0'; expected a positive integer"),
        (["--quick", "--batch-size", "-3"], "argument --batch-size: got '-3'; expected a positive integer"),
        (["--seeds", "0"], "argument --seeds: got '0'; expected a positive integer"),
        (["--quick", "--out", str(a_file)], "--out: got"),
        (["--data", "mnist", "--path", str(tmp_path)], f"--path: load_mnist: '{tmp_path}' has no "
                                                       "train-images-idx3-ubyte"),
        (["--data", "mnist"], "--data mnist needs --path DIR"),
    ]:
        line = exits_with_status_2(nn.cnn.main, argv, capsys)
        assert line.startswith("python -m nn.cnn: error: ") and message in line, line


def test_demo_command_refuses_bad_arguments_before_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(nn.demo, "print_worked_example", no_training)
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    for argv, message in [
        (["--xor-epochs", "0"], "argument --xor-epochs: got '0'; expected a positive integer"),
        (["--linear-epochs", "-2"], "argument --linear-epochs: got '-2'; expected a positive integer"),
        (["--seed", "-1"], "argument --seed: got '-1'; expected an integer >= 0"),
        (["--out", str(a_file)], f"--out: got '{a_file}', which is a file; expected a folder"),
    ]:
        line = exits_with_status_2(nn.demo.main, argv, capsys)
        assert line.startswith("python -m nn.demo: error: ") and message in line, line


# 9. fit and predict take image batches for a CNN ---------------------------------------------------------------

def test_fit_and_predict_take_image_batches_for_a_cnn():
    X_train, _, y_train, _ = datasets.digits_split()
    X, y = X_train[:12], y_train[:12]
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, seed=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(32, 10, seed=1))
    s = model.state_dict()
    # by hand: 3x3 convolution (padding 1), ReLU, 2x2 max-pool, flatten, dense
    padded = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.empty((12, 2, 8, 8))
    for i in range(8):
        for j in range(8):
            conv[:, :, i, j] = np.einsum("ncuv,ocuv->no", padded[:, :, i:i + 3, j:j + 3], s["0.weight"]) + s["0.bias"]
    pooled = np.maximum(conv, 0).reshape(12, 2, 4, 2, 4, 2).max(axis=(3, 5))
    logits = pooled.reshape(12, -1) @ s["4.weight"].T + s["4.bias"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    cross_entropy = float(np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(12), y]))
    np.testing.assert_allclose(nn.predict(model, X), logits, rtol=1e-12, atol=1e-12)
    history = nn.fit(model, X, y, loss="cross_entropy", lr=0.0, epochs=1, batch_size=5, verbose=False)
    assert history.loss[0] == pytest.approx(cross_entropy, rel=1e-12)
    assert history.accuracy[0] == np.mean(logits.argmax(axis=1) == y)
    for bad in (X[0, 0, 0], np.float64(1.0)):
        with pytest.raises(ValueError, match="must be an array of n samples with at least 2 axes"):
            nn.fit(model, bad, y[:1], loss="cross_entropy", epochs=1)


# 10. numpy's scalars are numbers ---------------------------------------------------------------------------------

def test_numpy_scalars_are_accepted_where_python_numbers_are():
    X, y = datasets.generate_XOR_easy()
    model = nn.MLP(2, [3], 1, engine="tensor")
    assert nn.SGD(model.parameters(), lr=np.float32(0.1)).lr == float(np.float32(0.1))
    assert nn.SGD(model.parameters(), lr=np.int64(1)).lr == 1.0
    assert nn.fit(model, X, y, lr=np.float32(0.1), epochs=2, verbose=False).epochs == 2
    assert nn.Adam(model.parameters(), betas=(np.float64(0.5), np.float32(0.75)), eps=np.float32(1e-3)).betas == (
        0.5, 0.75)
    assert len(datasets.train_test_split(X, y, np.float32(0.25))[1]) == math.ceil(0.25 * 21)
    assert len(datasets.train_test_split(X, y, np.int64(3))[1]) == 3
    assert len(datasets.digits_split(np.float64(0.2))[1]) == 364  # the documented default split
    assert datasets.make_moons(10, noise=np.float32(0.0))[0].shape == (10, 2)
    assert datasets.make_blobs(10, std=np.float32(0.5))[0].shape == (10, 2)
    assert nn.LeakyReLU(np.float32(0.25)).slope == 0.25
    assert ex._learning_rate(np.float32(0.5)) == 0.5
    for bad in (True, np.True_, np.float32(np.inf), np.float64(np.nan)):
        with pytest.raises(ValueError, match="lr must be a number"):
            nn.SGD(model.parameters(), lr=bad)
    with pytest.raises(ValueError, match="test_size must be a fraction"):
        datasets.train_test_split(X, y, np.float32(1.5))


# 11. eps must be positive on both engines ------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer", [nn.Adam, nn.RMSprop, nn.Adagrad])
@pytest.mark.parametrize("eps", [0.0, -1e-8, np.float32(0.0)])
def test_optimizers_refuse_eps_that_is_not_positive(optimizer, eps):
    for param in (Value(1.0), Tensor(np.array([1.0]), requires_grad=True)):
        with pytest.raises(ValueError, match=rf"{optimizer.__name__}: eps must be a number in \(0, inf\]"):
            optimizer([param], eps=eps)


# 12. Flatten needs its batch axis ----------------------------------------------------------------------------

def test_flatten_needs_the_axes_before_start_dim_and_one_more():
    with pytest.raises(ValueError, match=r"Flatten\(start_dim=1\) needs at least 2 axes.* got shape \(3,\)"):
        nn.Flatten()(np.ones(3))
    with pytest.raises(ValueError, match=r"Flatten\(start_dim=2\) needs at least 3 axes"):
        nn.Flatten(2)(np.ones((2, 3)))
    assert nn.Flatten()(np.ones((2, 3, 4))).shape == (2, 12) and nn.Flatten(0)(np.ones(3)).shape == (3,)


def test_plot_decision_boundary_names_a_nan_label_instead_of_warning():
    from nn.plot import plot_decision_boundary
    model = nn.MLP(2, [3], 1, engine="tensor", seed=0)
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"plot labels y must be finite class labels, got \[nan\] at row 1"):
            plot_decision_boundary(model, X, np.array([0.0, np.nan, 1.0]))


def test_one_seed_shows_no_spread_and_huge_finite_losses_a_finite_std():
    from nn.cnn import table
    row = {"name": "s", "seeds": 1, "accuracy_mean": 0.9, "accuracy_std": math.nan, "final_loss": 0.1,
           "seconds_per_epoch": 0.5}
    assert table([row]).splitlines()[-1] == "| s | 90.00 % (1 seed) | 0.1000 | 0.500 s |"
    mean, std = ex._mean_std([5e305, 6e305, 1e305])  # squares of these overflow: the spread is still finite
    assert mean == pytest.approx(4e305, rel=1e-12) and std == pytest.approx(float(np.std([5, 6, 1], ddof=1)) * 1e305,
                                                                         rel=1e-12)


def test_the_markdown_and_command_line_of_an_experiment_say_the_lr_it_ran_with():
    result = ex.run_experiment("report-000", seeds=1, epochs=2, lr=0.05, progress=False)
    text = ex.markdown_tables(result)
    # a setting that does not compare learning rates ran at --lr 0.05, and says so (it said its own lr 1)
    assert "- none (2-16-1, Code 3): ·-16-· identity/sigmoid, normal init, mse, sgd lr 0.05" in text
    assert "--epochs 2 --lr 0.05`" in ex.comparison_markdown(result)


def test_a_legacy_hand_table_uses_the_activations_and_loss_it_gives():
    from autograd.worked_example import load_hand_table
    table = load_hand_table()
    table["network"]["activations"] = "tanh"
    table["network"]["loss"] = "mse"
    net = autograd.read_network(table)
    assert net.activations == ("tanh", "tanh") and net.loss == "mse"


def test_the_numpy_reference_takes_one_sample_as_a_batch_of_one():
    from nn.numpy_reference import NumpyMLP
    m = NumpyMLP.random([2, 2], ["identity"])
    one = m.gradients(np.array([1.0, 2.0]), np.array([0.0, 1.0]))
    batch = m.gradients(np.array([[1.0, 2.0]]), np.array([[0.0, 1.0]]))
    assert one[0] == batch[0] and np.array_equal(one[1][0], batch[1][0]) and one[1][0].shape == (2, 2)
    # ∂/∂W of mean((Wx + b - y)²) over 2 outputs: (Wx + b - y) xᵀ, by hand
    W, b = m.W[0], m.b[0]
    x, y = np.array([1.0, 2.0]), np.array([0.0, 1.0])
    np.testing.assert_allclose(one[1][0], np.outer(W @ x + b - y, x), rtol=1e-14)


def test_plots_close_their_figure_when_they_fail_and_leave_the_callers_open(tmp_path):
    import matplotlib.pyplot as plt

    from nn.plot import plot_activations, plot_loss
    before = len(plt.get_fignums())
    for call in (lambda: plot_loss([[1, 2], [3, 4]], path=tmp_path / "a.png"),
                 lambda: plot_activations(["relu", "softmax"], path=tmp_path / "b.png"),
                 lambda: plot_loss([1.0, 2.0], path=tmp_path / "c.unknownext"),
                 lambda: plot_loss([1.0, 2.0], path=tmp_path)):
        with pytest.raises(ValueError):
            call()
        assert len(plt.get_fignums()) == before
    fig, ax = plt.subplots()
    plot_loss([1.0, 2.0, 3.0], ax=ax, path=tmp_path / "d.png")
    assert plt.fignum_exists(fig.number) and (tmp_path / "d.png").stat().st_size > 0
    plt.close(fig)

