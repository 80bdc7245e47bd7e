"""Report 003's CNN comparison on the 8x8 digits (or MNIST): four settings, several seeds, one table.

    python -m nn.cnn                                   # digits, 3 seeds, 30 epochs, the four settings
    python -m nn.cnn --seeds 5 --epochs 40 --out out/cnn
    python -m nn.cnn --data mnist --path ~/mnist       # the four IDX files (raw or .gz) in that directory
    python -m nn.cnn --quick                           # a smoke run: 1 seed, 2 epochs, 256 training images

Every setting trains the same network, ``digits_cnn``: conv 3x3 (16 filters, padding 1), activation,
max-pool 2, conv 3x3 (32), activation, max-pool 2, flatten, dropout 0.25, dense to 10 logits; softmax
cross-entropy (``nn.CrossEntropyLoss``), mini-batches of 64 shuffled by seed. The settings are the
report's: ReLU + Xavier + Adam lr 0.005; sigmoid + He + SGD lr 0.01; tanh + Xavier + Adagrad lr 0.01;
leaky ReLU + He + Adam lr 0.005. The table gives test accuracy (mean ± std over seeds), final training
loss and the training time per epoch; ``--out`` also gets the loss and accuracy curves (``curves.png``),
every number (``results.json``) and every trained model (``models/<setting>-seed<n>.npz``, for ``nn.load``).

As a command it runs numpy's BLAS on one thread (it re-executes itself with OPENBLAS_NUM_THREADS=1 unless
that is set): on 8x8 images the products are small, and on a busy 2-core machine BLAS threads made an
epoch 5-10x slower.

One run of one setting with one seed is :func:`run_setting`, a plain function of plain arguments that
returns a dict: the unit a parallel experiment runner (joblib) can map over.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograd import Tensor, no_grad

from . import data as datasets
from .activations import get_activation
from .cli import OneLineErrorParser, _positive_int, _prepare_out
from .conv import Conv2d, Dropout, Flatten, MaxPool2d, Sequential
from .init import as_generator
from .layers import Linear
from .losses import CrossEntropyLoss
from .optim import get_optimizer
from .serialize import save as nn_save


@dataclass(frozen=True)
class Setting:
    """One configuration of report 003: activation, initializer, optimizer and learning rate."""

    activation: str
    init: str
    optimizer: str
    lr: float

    @property
    def name(self) -> str:
        return f"{self.activation} + {self.init.split('_')[0]} + {self.optimizer} lr {self.lr:g}"


#: Report 003's four settings, in its order.
SETTINGS: dict[str, Setting] = {
    "relu_xavier_adam": Setting("relu", "xavier_uniform", "adam", 0.005),
    "sigmoid_he_sgd": Setting("sigmoid", "he_uniform", "sgd", 0.01),
    "tanh_xavier_adagrad": Setting("tanh", "xavier_uniform", "adagrad", 0.01),
    "leaky_relu_he_adam": Setting("leaky_relu", "he_uniform", "adam", 0.005),
}


def digits_cnn(activation: str = "relu", init: str = "xavier_uniform", seed: int = 0,
               image_shape: Sequence[int] = (1, 8, 8), n_classes: int = 10, dropout: float = 0.25) -> Sequential:
    """conv16-act-pool-conv32-act-pool-flatten-dropout-dense: the same network for every setting.

    ``image_shape`` is (channels, height, width): (1, 8, 8) for the digits, (1, 28, 28) for MNIST. One
    generator seeded by ``seed`` draws every layer's weights and then the dropout masks.
    """
    if not isinstance(image_shape, (tuple, list)) or len(image_shape) != 3 or not all(
            isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 4 - 3 * (i == 0) for i, d in
            enumerate(image_shape)):
        raise ValueError(f"digits_cnn image_shape must be (channels >= 1, height >= 4, width >= 4), got "
                         f"{image_shape!r:.40}")
    get_activation(activation)  # refuses an unknown name before anything is built
    rng = as_generator(seed)
    channels, height, width = image_shape
    flat = 32 * (height // 2 // 2) * (width // 2 // 2)
    return Sequential(
        Conv2d(channels, 16, 3, padding=1, init=init, seed=rng), get_activation(activation), MaxPool2d(2),
        Conv2d(16, 32, 3, padding=1, init=init, seed=rng), get_activation(activation), MaxPool2d(2),
        Flatten(), Dropout(dropout, seed=rng), Linear(flat, n_classes, init=init, seed=rng))


def evaluate(model: Sequential, X: np.ndarray, y: np.ndarray, batch_size: int = 512) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``model`` on ``(X, y)`` in evaluation mode, nothing recorded."""
    was, loss_fn = model.training, CrossEntropyLoss(reduction="sum")
    total, correct = 0.0, 0
    model.eval()
    try:
        with no_grad():
            for start in range(0, len(X), batch_size):
                logits = model(Tensor(X[start:start + batch_size]))
                labels = y[start:start + batch_size]
                total += loss_fn(logits, labels).item()
                correct += int(np.sum(np.argmax(logits.data, axis=1) == labels))
    finally:
        model.train(was)
    return total / len(X), correct / len(X)


def train_cnn(model: Sequential, optimizer, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray,
              y_test: np.ndarray, epochs: int, batch_size: int = 64, seed: int = 0, log=None) -> dict:
    """Train with mini-batches shuffled by ``seed`` (a new order every epoch); after each epoch record the mean
    training loss, the test loss and accuracy, and the training seconds (evaluation not counted)."""
    loss_fn = CrossEntropyLoss()
    order = as_generator(seed)
    history: dict[str, list] = {"train_loss": [], "test_loss": [], "test_accuracy": [], "seconds": []}
    for epoch in range(1, epochs + 1):
        model.train()
        start, total = time.perf_counter(), 0.0
        for Xb, yb in datasets.minibatches(X_train, y_train, batch_size, order):
            optimizer.zero_grad()
            loss = loss_fn(model(Tensor(Xb)), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
        history["seconds"].append(time.perf_counter() - start)
        history["train_loss"].append(total / len(X_train))
        test_loss, accuracy = evaluate(model, X_test, y_test)
        history["test_loss"].append(test_loss)
        history["test_accuracy"].append(accuracy)
        if log is not None:
            log(f"  epoch {epoch:3d}  train loss {total / len(X_train):.4f}  test loss {test_loss:.4f}  "
                f"test accuracy {100 * accuracy:.2f}%  ({history['seconds'][-1]:.2f} s)")
    return history


def load_data(name: str = "digits", path: str | None = None) -> tuple[np.ndarray, ...]:
    """``X_train, X_test, y_train, y_test`` as images (n, 1, H, W): the fixed digits split, or MNIST from ``path``."""
    if name == "digits":
        return datasets.digits_split()
    if name == "mnist":
        if path is None:
            raise ValueError("--data mnist needs --path DIR, the directory holding the four MNIST IDX files")
        return datasets.load_mnist(path)
    raise ValueError(f"unknown data {name!r}; expected 'digits' or 'mnist'")


def run_setting(setting: str, seed: int, data: str = "digits", path: str | None = None, epochs: int = 30,
                batch_size: int = 64, log=None, n_train: int | None = None, save: str | None = None) -> dict:
    """Train ``SETTINGS[setting]`` from ``seed`` (on the first ``n_train`` training images if given) and return its
    history with the setting and seed (plain data); with ``save``, the trained model is written there
    (``nn.save``; ``nn.load(save)`` gives it back)."""
    if not isinstance(setting, str) or setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; expected one of {sorted(SETTINGS)}")
    s = SETTINGS[setting]
    X_train, X_test, y_train, y_test = load_data(data, path)
    X_train, y_train = X_train[:n_train], y_train[:n_train]
    model = digits_cnn(s.activation, s.init, seed, X_train.shape[1:], int(max(y_train.max(), y_test.max())) + 1)
    optimizer = get_optimizer(s.optimizer, model.parameters(), lr=s.lr)
    history = train_cnn(model, optimizer, X_train, y_train, X_test, y_test, epochs, batch_size, seed, log)
    if save is not None:
        nn_save(model, save)
    return {"setting": setting, "seed": seed, "data": data, "epochs": epochs, **history}


def summarize(runs: list[dict]) -> list[dict]:
    """One row per setting: test accuracy mean and std over seeds (final epoch), final training loss (mean),
    seconds per epoch (median over every epoch of every seed)."""
    rows = []
    for setting in SETTINGS:
        mine = [r for r in runs if r["setting"] == setting]
        if not mine:
            continue
        accuracy = np.array([r["test_accuracy"][-1] for r in mine])
        rows.append({"setting": setting, "name": SETTINGS[setting].name, "seeds": len(mine),
                     "accuracy_mean": float(accuracy.mean()),
                     "accuracy_std": float(accuracy.std(ddof=1)) if len(mine) > 1 else math.nan,  # one seed: no spread
                     "final_loss": float(np.mean([r["train_loss"][-1] for r in mine])),
                     "seconds_per_epoch": float(np.median([t for r in mine for t in r["seconds"]]))})
    return rows


def table(rows: list[dict]) -> str:
    """The summary as a Markdown table."""
    lines = ["| setting | test accuracy (mean ± std) | final training loss | time per epoch |",
             "|---|---|---|---|"]
    for r in rows:
        seeds = f"{r['seeds']} seed{'s' if r['seeds'] != 1 else ''}"
        spread = "" if math.isnan(r["accuracy_std"]) else f" ± {100 * r['accuracy_std']:.2f}"  # none from one seed
        lines.append(f"| {r['name']} | {100 * r['accuracy_mean']:.2f} %{spread} "
                     f"({seeds}) | {r['final_loss']:.4f} | {r['seconds_per_epoch']:.3f} s |")
    return "\n".join(lines)


def plot_curves(runs: list[dict], path: str | None = None):
    """Training loss, test loss and test accuracy per epoch, one line per setting (mean over seeds).
    With ``path`` the figure is written there (no pyplot, so no process-wide backend switch)."""
    if path is None:
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 3, figsize=(14, 4.3))
    else:
        from matplotlib.figure import Figure
        fig = Figure(figsize=(14, 4.3))
        axes = fig.subplots(1, 3)
    seeds = max((sum(r["setting"] == s for r in runs) for s in SETTINGS), default=0)
    for setting in SETTINGS:
        mine = [r for r in runs if r["setting"] == setting]
        if not mine:
            continue
        for ax, key in zip(axes, ("train_loss", "test_loss", "test_accuracy")):
            curve = np.mean([r[key] for r in mine], axis=0)
            ax.plot(np.arange(1, len(curve) + 1), 100 * curve if key == "test_accuracy" else curve,
                    label=SETTINGS[setting].name)
    for ax, title, ylabel in zip(axes, ("training loss", "test loss", "test accuracy"),
                                 ("cross-entropy (log scale)", "cross-entropy (log scale)", "accuracy (%)")):
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    axes[2].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"Report 003's CNN settings on the digits: mean over {seeds} seed{'s' if seeds != 1 else ''}")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = OneLineErrorParser(prog="python -m nn.cnn", description=__doc__.split("\n")[0])
    parser.add_argument("--data", choices=("digits", "mnist"), default="digits")
    parser.add_argument("--path", help="with --data mnist: the directory holding the four IDX files")
    parser.add_argument("--seeds", type=_positive_int, default=3, help="seeds 0..N-1 per setting (default 3)")
    parser.add_argument("--epochs", type=_positive_int, default=30, help="epochs per run (default 30)")
    parser.add_argument("--batch-size", type=_positive_int, default=64)
    parser.add_argument("--settings", nargs="+", choices=sorted(SETTINGS), default=list(SETTINGS),
                        help="which settings (default: all four)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 seed, 2 epochs, 256 training images")
    parser.add_argument("--out", help="directory for curves.png, results.json and the trained models (models/)")
    parser.add_argument("--verbose", action="store_true", help="print every epoch")
    args = parser.parse_args(argv)
    seeds, epochs = (1, 2) if args.quick else (args.seeds, args.epochs)
    repeated = sorted({name for name in args.settings if args.settings.count(name) > 1})
    if repeated:  # else its runs would be counted as more seeds, with a spread measured over copies
        parser.error(f"--settings names {', '.join(repeated)} more than once; give each setting once "
                     "(--seeds sets the runs per setting)")
    if args.path is not None and args.data != "mnist":
        parser.error(f"--path is read only with --data mnist (the digits are shipped), got --data {args.data}")
    try:
        load_data(args.data, args.path)  # fail on bad data before the first run
    except ValueError as error:  # MissingDataError and DataFileError are ValueErrors too
        parser.error(f"--path: {error}" if args.path is not None else str(error))
    models = os.path.join(args.out, "models") if args.out else None
    if models:
        _prepare_out(parser, Path(args.out), "the curves, results.json and the models")
        os.makedirs(models, exist_ok=True)
    runs = []
    for setting in args.settings:
        for seed in range(seeds):
            start = time.perf_counter()
            run = run_setting(setting, seed, args.data, args.path, epochs, args.batch_size,
                              print if args.verbose else None, 256 if args.quick else None,
                              os.path.join(models, f"{setting}-seed{seed}.npz") if models else None)
            runs.append(run)
            print(f"{SETTINGS[setting].name:<36} seed {seed}: test accuracy {100 * run['test_accuracy'][-1]:.2f}%,"
                  f" final loss {run['train_loss'][-1]:.4f} ({time.perf_counter() - start:.1f} s)", flush=True)
    rows = summarize(runs)
    print(f"\n{args.data}, {epochs} epochs, batch {args.batch_size}, seeds 0..{seeds - 1}\n")
    print(table(rows))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        plot_curves(runs, os.path.join(args.out, "curves.png"))
        with open(os.path.join(args.out, "results.json"), "w") as file:
            # the std of one seed (none measured) is null in the summary, not NaN
            summary = [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in rows]
            json.dump({"summary": summary, "runs": runs}, file, indent=1)
        print(f"\nwrote {os.path.join(args.out, 'curves.png')}, results.json and the trained models in "
              f"{models} (nn.load(path) gives one back)")
    best = max(rows, key=lambda r: r["accuracy_mean"])
    print(f"best: {best['name']}, {100 * best['accuracy_mean']:.2f} %")
    return 0 if math.isfinite(best["accuracy_mean"]) else 1


if __name__ == "__main__":
    if "OPENBLAS_NUM_THREADS" not in os.environ:  # numpy is loaded already: only a fresh process can take it
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        os.execv(sys.executable, [sys.executable, "-m", "nn.cnn", *sys.argv[1:]])
    sys.exit(main())
