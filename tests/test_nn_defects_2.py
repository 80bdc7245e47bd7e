"""Defects a tester found in nn (the CNN and experiments command lines, the torch bridge's modes, the training
command's output activations, centered RMSprop): one test or more each, every one failing before its fix.
Expected values are worked out here (by hand or in plain numpy), never taken from the code under test."""

import math

import numpy as np
import pytest

import nn
import nn.cli
import nn.cnn
import nn.experiments as ex
from autograd import Tensor, Value
from nn.experiments.__main__ import main as experiments_main


class Stop(Exception):
    """Raised by a stand-in for the training functions: the arguments were accepted."""


def refuse_to_train(*args, **kwargs):
    raise AssertionError("training started before the bad argument was refused")


def stop(*args, **kwargs):
    raise Stop


def error_line(main, argv, capsys):
    """``main(argv)`` must exit with status 2 after one error line and no traceback: that line."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "Traceback" not in err, (stop.value.code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].endswith(" (--help lists the options)"), lines[0]
    return lines[0]


# 1. python -m nn.cnn --settings A A: one run counted as two seeds ---------------------------------------------

def test_cnn_refuses_a_repeated_setting_naming_it(monkeypatch, capsys):
    monkeypatch.setattr(nn.cnn, "run_setting", refuse_to_train)
    line = error_line(nn.cnn.main, ["--quick", "--settings", "sigmoid_he_sgd", "relu_xavier_adam",
                                    "sigmoid_he_sgd"], capsys)
    assert line.startswith("python -m nn.cnn: error: --settings names sigmoid_he_sgd more than once"), line
    assert "relu_xavier_adam" not in line  # named once: not the repeated one


def test_cnn_still_runs_each_distinct_setting_once_as_one_seed(monkeypatch, capsys):
    calls = []

    def fake_run(setting, seed, *args, **kwargs):
        calls.append((setting, seed))
        return {"setting": setting, "seed": seed, "data": "digits", "epochs": 2, "train_loss": [1.0, 0.5],
                "test_loss": [1.0, 0.6], "test_accuracy": [0.5, 0.75], "seconds": [0.1, 0.1]}

    monkeypatch.setattr(nn.cnn, "run_setting", fake_run)
    assert nn.cnn.main(["--quick", "--settings", "tanh_xavier_adagrad", "relu_xavier_adam"]) == 0
    assert sorted(calls) == [("relu_xavier_adam", 0), ("tanh_xavier_adagrad", 0)]
    out = capsys.readouterr().out
    assert out.count("| 75.00 % (1 seed) |") == 2 and "(2 seeds)" not in out


# 2. python -m nn.experiments --jobs / --lr out of range: exit 1 with a bare "error: ..." --------------------------

@pytest.mark.parametrize("option, value", [
    ("--jobs", "0"), ("--jobs", "5000"), ("--jobs", "-2"),
    ("--lr", "0"), ("--lr", "-1"), ("--lr", "nan"), ("--lr", "inf"), ("--lr", "2e6"),
])
def test_experiments_refuse_jobs_and_lr_out_of_range_at_parsing_time(option, value, tmp_path, monkeypatch,
                                                                     capsys):
    monkeypatch.setattr(ex, "run_experiment", refuse_to_train)
    out = tmp_path / "never-made"
    line = error_line(experiments_main, ["learning-rate", option, value, "--out", str(out)], capsys)
    assert line.startswith(f"python -m nn.experiments: error: argument {option}: "), line
    assert ("-1 (every core) or an int from 1 to 1024" if option == "--jobs" else "in (0, 1e6]") in line
    assert not out.exists()  # refused before any work, the output folder included


@pytest.mark.parametrize("option, value, expected", [("--jobs", "-1", -1), ("--jobs", "1024", 1024),
                                                     ("--lr", "1e6", 1e6), ("--lr", "0.001", 0.001)])
def test_experiments_still_accept_the_ends_of_the_ranges(option, value, expected, tmp_path, monkeypatch):
    given = {}

    def record(name, **kwargs):
        given.update(kwargs)
        raise Stop

    monkeypatch.setattr(ex, "run_experiment", record)
    with pytest.raises(Stop):
        experiments_main(["learning-rate", option, value, "--out", str(tmp_path), "--no-progress"])
    assert given[option.lstrip("-")] == expected


# 3. nn.to_torch / nn.from_torch: a sub-module's own train/eval mode was lost ----------------------------------

def test_to_torch_keeps_a_dropout_in_eval_inside_a_sequential_in_training():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(2, 2, seed=0), nn.Dropout(0.5))
    ours[1].eval()
    theirs = nn.to_torch(ours)
    assert (theirs.training, theirs[0].training, theirs[1].training) == (True, True, False)
    # the Dropout in eval passes its input through: the output is x Wᵀ + b exactly, however often it runs
    state = ours.state_dict()
    x = np.array([[1.0, -2.0], [0.5, 3.0], [-1.5, 0.25]])
    expected = x @ state["0.weight"].T + state["0.bias"]
    for _ in range(5):
        np.testing.assert_allclose(theirs(torch.from_numpy(x)).detach().numpy(), expected, rtol=1e-12)


def test_from_torch_keeps_a_dropout_in_eval_inside_a_sequential_in_training():
    torch = pytest.importorskip("torch")
    module = torch.nn.Sequential(torch.nn.Linear(2, 2, dtype=torch.float64), torch.nn.Dropout(0.5))
    module[1].eval()
    back = nn.from_torch(module)
    assert (back.training, back[0].training, back[1].training) == (True, True, False)
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    expected = x @ module[0].weight.detach().numpy().T + module[0].bias.detach().numpy()
    np.testing.assert_allclose(back(Tensor(x)).data, expected, rtol=1e-12)


def test_the_bridge_keeps_modes_inside_nested_sequentials_both_ways():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Sequential(nn.Linear(2, 2, seed=0), nn.Dropout(0.5)), nn.Dropout(0.3))
    ours[0][1].eval()
    theirs = nn.to_torch(ours)
    assert [theirs.training, theirs[0].training, theirs[0][1].training, theirs[1].training] == [True, True, False,
                                                                                                  True]
    module = torch.nn.Sequential(torch.nn.Dropout(0.2), torch.nn.Sequential(torch.nn.Linear(2, 2),
                                                                            torch.nn.Dropout(0.5)))
    module.eval()
    module[1][1].train()
    back = nn.from_torch(module)
    assert [back.training, back[0].training, back[1].training, back[1][1].training] == [False, False, False, True]


def test_the_bridge_still_gives_a_whole_model_its_one_mode():
    pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(2, 2, seed=0), nn.ReLU(), nn.Dropout(0.5)).eval()
    assert {m.training for m in nn.to_torch(ours).modules()} == {False}
    mlp = nn.MLP(2, [3], 1).eval()
    assert {m.training for m in nn.to_torch(mlp).modules()} == {False}
    assert {m.training for m in nn.from_torch(nn.to_torch(ours)).modules()} == {False}


# 4. python -m nn.train: an output activation that the loss undoes (or that can learn nothing) ------------------

def test_softmax_over_one_output_is_always_one():
    """Why --output-activation softmax is refused for two classes: exp(z) / exp(z) = 1 for every z."""
    z = Tensor(np.array([[3.0], [-7.0], [0.0]]))
    np.testing.assert_array_equal(nn.Softmax()(z).data, np.ones((3, 1)))


@pytest.mark.parametrize("argv, message", [
    (["--data", "xor", "--output-activation", "softmax"],
     "--output-activation: got softmax for --data xor's one output, where it is always 1 and nothing is learnt; "
     "expected sigmoid"),
    (["--data", "xor", "--loss", "bce_logits", "--output-activation", "softmax"],
     "got softmax for --data xor's one output, where it is always 1 and nothing is learnt; expected identity"),
    (["--data", "xor", "--loss", "bce_logits", "--output-activation", "sigmoid"],
     "--output-activation: got sigmoid with --loss bce_logits, which takes logits and applies the sigmoid itself "
     "(it would be applied twice); expected identity"),
    (["--data", "iris", "--output-activation", "softmax"],
     "--output-activation: got softmax with --loss cross_entropy, which takes logits and applies the softmax "
     "itself (it would be applied twice); expected identity"),
])
def test_train_refuses_an_output_activation_the_loss_undoes(argv, message, monkeypatch, capsys):
    monkeypatch.setattr(nn.cli, "fit", refuse_to_train)
    line = error_line(nn.cli.main, [*argv, "--epochs", "2"], capsys)
    assert line.startswith("python -m nn.train: error: ") and message in line, line


@pytest.mark.parametrize("argv", [["--data", "xor", "--loss", "bce_logits", "--output-activation", "identity"],
                                  ["--data", "xor", "--loss", "bce", "--output-activation", "sigmoid"],
                                  ["--data", "iris", "--output-activation", "identity"]])
def test_train_still_accepts_the_right_output_for_each_loss(argv, monkeypatch):
    monkeypatch.setattr(nn.cli, "fit", stop)
    with pytest.raises(Stop):
        nn.cli.main([*argv, "--epochs", "2"])


# 5. centered RMSprop with alpha = 0: E[g²] - E[g]² rounded a hair below 0, then ** 0.5 ------------------------

def test_alpha_zero_rounds_the_centered_variance_below_zero():
    """The case itself, in plain floats: gbar = g₁ + (g₂ - g₁) is not g₂, so g₂² - gbar² < 0."""
    gbar = 1.38 + (1.0 - 0.0) * (-1.95 - 1.38)
    assert gbar != -1.95 and -1.95 * -1.95 - gbar * gbar < 0


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_centered_rmsprop_clamps_a_rounded_negative_variance_at_zero(engine):
    p = Value(1.0) if engine == "value" else Tensor(np.array([1.0]), requires_grad=True)
    opt = nn.RMSprop([p], lr=0.01, alpha=0.0, centered=True)
    data = []
    for c in (1.38, -1.95):
        opt.zero_grad()
        loss = p * c if engine == "value" else (p * c).sum()
        loss.backward()  # gradient c
        opt.step()
        data.append(p.data if engine == "value" else float(p.data[0]))
    # by hand: both variances are 0 after the clamp (step 1 exactly, step 2 from -8.9e-16), so the denominator is
    # √0 + eps = 1e-8 and each step is -lr · g / eps: 1 - 0.01 · 1.38e8 = -1379999, then + 0.01 · 1.95e8
    assert all(isinstance(d, float) and math.isfinite(d) for d in data), data
    assert data == [pytest.approx(-1_379_999.0, rel=1e-12), pytest.approx(570_001.0, rel=1e-12)]


# 6. an option that means something only with another one was silently ignored ---------------------------------

def test_cnn_refuses_a_path_without_data_mnist(monkeypatch, capsys):
    monkeypatch.setattr(nn.cnn, "run_setting", refuse_to_train)
    line = error_line(nn.cnn.main, ["--data", "digits", "--path", "/tmp", "--quick"], capsys)
    assert line.startswith("python -m nn.cnn: error: --path is read only with --data mnist"), line
    assert "got --data digits" in line


def test_experiments_refuse_a_scheduler_without_backend_dask(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(ex, "run_experiment", refuse_to_train)
    out = tmp_path / "never-made"
    line = error_line(experiments_main, ["learning-rate", "--scheduler", "tcp://x:1", "--out", str(out)], capsys)
    assert line.startswith("python -m nn.experiments: error: --scheduler is read only with --backend dask"), line
    assert "got --backend loky" in line and not out.exists()
