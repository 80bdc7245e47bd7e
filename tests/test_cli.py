"""The command line (nn.cli, run as ``python -m nn.train``): defaults that follow the depth, one-line errors with
exit status 2 for every bad value, and the import layering (train and plot do not import each other)."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nn.cli import _default_hidden_activations, main, parser

ROOT = Path(__file__).parent.parent


def run_cli(argv, capsys):
    """main(argv) expected to fail: its exit status and the last line it printed on stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return exit_info.value.code, err.strip().splitlines()[-1]


def test_help_explains_every_option(capsys):
    for action in parser()._actions:
        assert action.help, f"{action.option_strings} has no help"
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--data", "--hidden", "--lr", "--epochs", "--activation", "--engine", "--out", "--batch-size"):
        assert option in text


def test_trains_and_writes_pictures(tmp_path, capsys):
    out_dir = tmp_path / "new" / "folder"  # created, parents included
    history = main(["--data", "xor", "--hidden", "4", "--activation", "tanh", "--lr", "1", "--epochs", "4",
                    "--predictions", "--out", str(out_dir)])
    out = capsys.readouterr().out
    assert history.epochs == 4 and "Epoch 4 Loss:" in out and "Iter 20 | Ground truth: 1 | Prediction:" in out
    assert "Training accuracy:" in out and "MLP(2 -> 4 -> 1" in out
    for name in ("loss.png", "decision_boundary.png"):
        assert (out_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # and the trained model: loaded back, it predicts what the run's accuracy line says
    import re

    import nn
    model = nn.load(out_dir / "model.npz")
    X, y = nn.data.load("xor")
    shown = float(re.search(r"Training accuracy: ([0-9.]+)%", out)[1])
    assert 100 * nn.accuracy(nn.predict(model, X), y) == pytest.approx(shown, abs=0.005)
    assert f"wrote {out_dir / 'model.npz'}" in out


def test_multiclass_with_test_split(capsys):
    main(["--data", "iris", "--hidden", "5", "--activation", "tanh", "--optimizer", "adam", "--lr", "0.05",
          "--epochs", "2", "--standardize", "--test-size", "0.2"])
    out = capsys.readouterr().out
    assert "loss: cross_entropy" in out and "(120 training rows)" in out and "Test accuracy:" in out


def test_default_activations_follow_the_depth():
    assert _default_hidden_activations(2) == ["relu", "sigmoid"]  # the reports' 2-16-16-1, as before
    assert _default_hidden_activations(1) == ["relu"]
    assert _default_hidden_activations(3) == ["relu", "sigmoid", "sigmoid"]
    assert _default_hidden_activations(0) == []


@pytest.mark.parametrize("hidden, expected", [
    (["32"], ["Linear(2 -> 32, ReLU()", "Linear(32 -> 1, Sigmoid()"]),
    (["8", "8", "8"], ["Linear(2 -> 8, ReLU()", "Linear(8 -> 8, Sigmoid()", "Linear(8 -> 8, Sigmoid()",
                       "Linear(8 -> 1, Sigmoid()"]),
    ([], ["Linear(2 -> 1, Sigmoid()"]),
])
def test_any_depth_works_with_the_default_activations(hidden, expected, capsys):
    history = main(["--hidden", *hidden, "--epochs", "2"])
    out = capsys.readouterr().out
    assert history.epochs == 2
    layers = re.findall(r"Linear\(\d+ -> \d+, \w+\(\)", out)
    assert layers == expected


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "argument --epochs: got '0'; expected a positive integer"),
    (["--epochs", "ten"], "argument --epochs: got 'ten'; expected a positive integer"),
    (["--batch-size", "0"], "argument --batch-size: got '0'; expected a positive integer"),
    (["--lr", "-1"], "argument --lr: got '-1'; expected a positive finite number"),
    (["--lr", "nan"], "argument --lr: got 'nan'; expected a positive finite number"),
    (["--test-size", "1.5"], r"argument --test-size: got '1.5'; expected a fraction in [0, 1) (0: no test set)"),
    (["--activation", "foo"], "argument --activation: got 'foo'; expected an activation, one of identity, "
                              "leaky_relu, relu, sigmoid, softmax, tanh"),
    (["--output-activation", "gelu"], "argument --output-activation: got 'gelu'; expected an activation"),
    (["--hidden", "16", "0"], "argument --hidden: got '0'; expected a positive integer"),
    (["--n", "0"], "argument --n: got '0'; expected a positive integer"),
    (["--seed", "-1"], "argument --seed: got '-1'; expected an integer >= 0"),
    (["--momentum", "-0.5"], "argument --momentum: got '-0.5'; expected a finite number >= 0"),
    (["--log-every", "0"], "argument --log-every: got '0'; expected a positive integer"),
    (["--engine", "gpu"], "argument --engine: invalid choice: 'gpu'"),
    (["--hidden", "4", "4", "--activation", "relu", "tanh", "sigmoid"],
     "--activation: got 3 names (relu tanh sigmoid) for 2 hidden layers (--hidden 4 4); expected one name for all "
     "of them, or one per hidden layer"),
    (["--hidden", "32", "--activation", "relu", "sigmoid"],
     "--activation: got 2 names (relu sigmoid) for 1 hidden layer (--hidden 32); expected one name"),
    (["--optimizer", "adam", "--momentum", "0.9"],
     "--momentum: got 0.9 with --optimizer adam; expected it only with sgd or rmsprop"),
    (["--data", "iris", "--loss", "mse"], "--loss: got mse for --data iris, which has 3 classes; expected "
                                          "cross_entropy"),
    (["--loss", "cross_entropy"], "--loss: got cross_entropy for --data xor, which has two classes"),
    (["--test-size", "0.99"], "--test-size: got 0.99 for 21 rows of --data xor"),
])
def test_bad_values_end_in_one_line_naming_the_option_with_status_2(argv, message, capsys):
    status, line = run_cli(argv + ["--epochs", "1"] if "--epochs" not in argv else argv, capsys)
    assert status == 2
    assert line.startswith("python -m nn.train: error: ")
    assert message in line, line


def test_an_out_folder_that_cannot_be_made_fails_before_training(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    status, line = run_cli(["--epochs", "1", "--out", str(blocker / "pictures")], capsys)
    assert status == 2 and line.startswith(f"python -m nn.train: error: --out: cannot create the folder "
                                           f"'{blocker / 'pictures'}'") and "expected a folder you can write to" in line
    status, line = run_cli(["--epochs", "1", "--out", str(blocker)], capsys)
    assert status == 2 and "--out: got" in line and "which is a file; expected a folder" in line
    if os.path.isdir("/proc"):  # the example: no folder can be made in /proc
        status, line = run_cli(["--epochs", "1", "--out", "/proc/chainrule-lab-test"], capsys)
        assert status == 2 and "--out: cannot create the folder '/proc/chainrule-lab-test'" in line


def test_python_m_nn_train_still_runs_and_fails_cleanly():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    ok = subprocess.run([sys.executable, "-m", "nn.train", "--hidden", "8", "8", "8", "--epochs", "3"], cwd=ROOT,
                        env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "Training accuracy:" in ok.stdout and "Epoch 3 Loss:" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "nn.train", "--epochs", "0"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    # one line, as the README says (no usage block before it)
    assert bad.stderr.strip().splitlines() == ["python -m nn.train: error: argument --epochs: got '0'; "
                                               "expected a positive integer (--help lists the options)"]


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports anywhere (also inside functions), as absolute names under nn."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = ("nn." + (node.module or "")).rstrip(".") if node.level == 1 else (node.module or "")
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_train_and_plot_do_not_import_each_other():
    train, plot = imported_modules(ROOT / "nn" / "train.py"), imported_modules(ROOT / "nn" / "plot.py")
    assert "nn.plot" not in train and "nn.train" in plot
    assert "nn.cli" not in plot
    # nn.train reaches nn.cli only inside main(), kept for ``nn.train.main``: the module does not load it
    code = "import sys, nn.train; print('nn.cli' in sys.modules, 'nn.plot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                         capture_output=True, text=True, timeout=120).stdout
    assert out.split() == ["False", "False"]
