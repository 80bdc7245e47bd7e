"""Training: ``fit``, its ``History``, ``predict``, ``accuracy``, the reports' prediction
printout, and the command line (``python -m nn.train --help``).

Each step is the loop of the lab reports::

    optimizer.zero_grad(); loss = loss_fn(model(X_batch), y_batch); loss.backward(); optimizer.step()
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograd import no_grad

from . import data as datasets
from .init import INITIALIZERS, Seed, as_generator
from .layers import ENGINES, MLP, float_array, per_sample_array
from .losses import LOSSES, BCEWithLogitsLoss, Loss, get_loss, predictions_to_array
from .module import Module
from .optim import OPTIMIZERS, Optimizer, get_optimizer


@dataclass
class History:
    """What ``fit`` measured.

    ``loss[e]`` is the mean loss over epoch e + 1's samples; ``accuracy[e]`` is
    the accuracy of the predictions made during that epoch (before each step's
    update); ``wall_time`` is in seconds. ``stopped`` holds the message when
    training stopped early on a nan or inf loss, else None.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    wall_time: float = 0.0
    stopped: str | None = None

    @property
    def epochs(self) -> int:
        """The number of epochs completed."""
        return len(self.loss)

    @property
    def final_loss(self) -> float:
        return self.loss[-1] if self.loss else math.nan

    @property
    def final_accuracy(self) -> float:
        return self.accuracy[-1] if self.accuracy else math.nan

    def __repr__(self) -> str:
        status = f", stopped={self.stopped!r}" if self.stopped else ""
        return (f"History(epochs={self.epochs}, final_loss={self.final_loss:.6g}, "
                f"final_accuracy={self.final_accuracy:.4g}, wall_time={self.wall_time:.3g} s{status})")


def _check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = float_array(X, "X")
    y = per_sample_array(y, "y")
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (n samples x d features), got shape {X.shape}")
    if len(X) == 0:
        raise ValueError(f"X has no samples (shape {X.shape}); expected at least one row")
    if len(y) != len(X):
        raise ValueError(f"X and y must have the same number of rows, got {len(X)} and {len(y)} "
                         f"(X of shape {X.shape}, y of shape {y.shape})")
    return X, y


def accuracy(outputs: np.ndarray, y: np.ndarray, threshold: float = 0.5) -> float:
    """Fraction of correct predictions. One output: ŷ > ``threshold`` counts as class 1
    (0.5 for probabilities, 0 for logits). Several outputs: the argmax is the class;
    ``y`` holds class indices or one-hot rows."""
    outputs, y = float_array(outputs, "accuracy outputs"), per_sample_array(y, "accuracy y")
    if outputs.ndim not in (1, 2) or len(outputs) == 0:
        raise ValueError(f"accuracy outputs must be a non-empty array (n,) or (n, k), got shape {outputs.shape}")
    if len(y) != len(outputs):
        raise ValueError(f"accuracy needs one label per output, got {len(outputs)} outputs and {len(y)} labels "
                         f"(outputs of shape {outputs.shape}, y of shape {y.shape})")
    return _accuracy(outputs, y, threshold)


def _accuracy(outputs: np.ndarray, y: np.ndarray, threshold: float) -> float:
    """``accuracy`` on arrays already checked: fit calls this every batch of every epoch."""
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        outputs = outputs[:, 0]
    # count_nonzero / n rather than np.mean: a third of the cost
    if outputs.ndim == 1:
        return np.count_nonzero((outputs > threshold) == (y.reshape(len(outputs)) > 0.5)) / len(outputs)
    labels = y.argmax(axis=1) if y.ndim == 2 else y
    return np.count_nonzero(outputs.argmax(axis=1) == labels) / len(outputs)


def predict(model: Module, X: Any) -> np.ndarray:
    """The model's outputs on ``X`` (n x d) without recording a graph: (n,) for one output, else (n, k)."""
    if not isinstance(model, Module):
        raise TypeError(f"predict expects an nn.Module as model, got {type(model).__name__}")
    X = float_array(X, "predict X")
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"predict expects X of shape (n, d) with n >= 1, got {X.shape}")
    with no_grad():
        return predictions_to_array(model(X))


def prediction_lines(outputs: np.ndarray, y: np.ndarray, threshold: float = 0.5) -> list[str]:
    """The reports' printout, one line per sample (``Iter 12 | Ground truth: 1 | Prediction: 0.99698``)
    and a last line with the accuracy."""
    outputs, y = per_sample_array(outputs, "prediction_lines outputs"), per_sample_array(y, "prediction_lines y")
    outputs = outputs.astype(np.float64)
    lines = []
    for i, (out, truth) in enumerate(zip(outputs, y)):
        if np.ndim(out) == 0:
            lines.append(f"Iter {i} | Ground truth: {int(round(float(truth)))} | Prediction: {float(out):.5f}")
        else:
            lines.append(f"Iter {i} | Ground truth: {int(truth)} | Prediction: {int(np.argmax(out))}")
    acc = accuracy(outputs, y, threshold)
    lines.append(f"Accuracy: {int(round(acc * len(y)))}/{len(y)} = {100 * acc:.2f}%")
    return lines


def print_predictions(model: Module, X: Any, y: Any, threshold: float = 0.5,
                      print_fn: Callable[[str], Any] = print) -> float:
    """Print ``prediction_lines`` for ``model`` on (X, y); return the accuracy."""
    X, y = _check_xy(X, y)
    outputs = predict(model, X)
    for line in prediction_lines(outputs, y, threshold):
        print_fn(line)
    return accuracy(outputs, y, threshold)


def _positive(value: Any, name: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def fit(model: Module, X: Any, y: Any, loss: str | Loss = "mse", optimizer: str | Optimizer = "sgd",
        epochs: int = 1000, lr: float | None = None, batch_size: int | None = None, shuffle: bool = True,
        seed: Seed = 0, log_every: int | None = None, progress: bool = False,
        print_fn: Callable[[str], Any] = print) -> History:
    """Train ``model`` on (X, y) for ``epochs`` passes and return a ``History``.

    ``loss`` and ``optimizer`` are names or instances; a named optimizer is
    built on ``model.parameters()`` with ``lr`` (else its default). ``batch_size=None``
    is full-batch gradient descent; otherwise each epoch visits the rows in an
    order drawn from ``seed`` (``shuffle=False`` keeps them in order).
    ``log_every=k`` prints ``Epoch 5000 Loss: 0.006943`` every k epochs;
    ``progress=True`` shows a tqdm bar. If the loss becomes nan or inf, training
    stops with a message (epoch, learning rate, last finite loss) and the model
    keeps the weights that gave the last finite loss.

    Any engine: an ``MLP`` built on ``"tensor"`` trains fast (its batches are
    turned into Tensors once, not every epoch), one on ``"value"`` trains as it
    is, slowly; ``model.to("tensor")`` copies a Value model onto the Tensor engine.
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit expects an nn.Module as model (e.g. nn.MLP), got {type(model).__name__}")
    if not callable(print_fn):
        raise TypeError(f"fit print_fn must be callable (print, a list's append, ...), got {type(print_fn).__name__}")
    X, y = _check_xy(X, y)
    epochs = _positive(epochs, "epochs")
    n = len(X)
    batch = n if batch_size is None else min(_positive(batch_size, "batch_size"), n)
    loss_fn = get_loss(loss)
    if isinstance(optimizer, Optimizer):
        if lr is not None:
            raise ValueError("fit: give lr to the optimizer you built, not to fit (got both)")
        opt = optimizer
    else:
        opt = get_optimizer(optimizer, model.parameters(), **({} if lr is None else {"lr": lr}))
    if log_every is not None:
        log_every = _positive(log_every, "log_every")
    threshold = 0.0 if isinstance(loss_fn, BCEWithLogitsLoss) else 0.5
    rng = as_generator(seed)
    params = opt.params
    engine = getattr(model, "engine", None)
    to_input = ENGINES[engine].as_input if isinstance(engine, str) and engine in ENGINES else np.asarray
    whole = to_input(X) if batch == n else None  # full batch: converted once for the whole run
    history = History()
    last_finite, last_finite_epoch = math.nan, 0
    snapshot: list[Any] | None = None

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs, unit="epoch", leave=True)
        log = bar.write
    else:
        log = print_fn
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n) if (shuffle and batch < n) else None
            total, correct = 0.0, 0.0
            for lo in range(0, n, batch):
                if whole is not None:
                    xb, yb = whole, y
                else:
                    rows = slice(lo, lo + batch) if order is None else order[lo:lo + batch]
                    xb, yb = to_input(X[rows]), y[rows]
                opt.zero_grad()
                pred = model(xb)
                value = loss_fn(pred, yb)
                current = float(value.data)
                if not math.isfinite(current):
                    if snapshot is not None:
                        for p, d in zip(params, snapshot):
                            p.data = d
                    history.stopped = (
                        f"Stopped at epoch {epoch}: the loss became {current} with learning rate {opt.lr:g}. "
                        + (f"Last finite loss {last_finite:.6g} (epoch {last_finite_epoch}); the model keeps the "
                           "weights that gave it. Try a smaller learning rate."
                           if snapshot is not None else "The first loss is not finite: check the data and weights."))
                    log(history.stopped)
                    return history
                last_finite, last_finite_epoch = current, epoch
                value.backward()
                snapshot = [p.data for p in params]  # optimizers rebind p.data, so this is a copy
                opt.step()
                total += current * len(yb)
                correct += _accuracy(predictions_to_array(pred), yb, threshold) * len(yb)
            history.loss.append(total / n)
            history.accuracy.append(correct / n)
            if log_every and (epoch % log_every == 0 or epoch == epochs):
                log(f"Epoch {epoch} Loss: {history.loss[-1]:.6f}")
            if bar is not None:
                bar.update(1)
                if epoch % max(1, epochs // 100) == 0 or epoch == epochs:
                    bar.set_postfix(loss=f"{history.loss[-1]:.4g}", acc=f"{history.accuracy[-1]:.3f}")
    finally:
        history.wall_time = time.perf_counter() - start
        if bar is not None:
            bar.close()
    return history


# -- command line --------------------------------------------------------------------


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default only where the help text does not already explain it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False) or "default" in (action.help or ""):
            return action.help or ""
        return super()._get_help_string(action)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m nn.train",
        description="Train an MLP on one of the lab's data sets and report its accuracy. Defaults reproduce the "
                    "seed report's run: 2-16-16-1, ReLU then sigmoid hidden layers, sigmoid output, N(0, 1) init, "
                    "MSE, SGD lr 1.0, full batch.",
        epilog="Example: python -m nn.train --data xor --hidden 16 16 --lr 1 --epochs 5000 "
               "--activation relu sigmoid --out out/xor",
        formatter_class=_HelpFormatter)
    p.add_argument("--data", choices=sorted(datasets.DATASETS), default="xor",
                   help="data set: linear (points above the diagonal), xor (the 21 XOR points), moons, blobs "
                        "(eagles and chickens), iris (3 classes), digits (8x8 images, 10 classes)")
    p.add_argument("--n", type=int, default=None,
                   help="number of points for the generated sets (linear, moons, blobs); default: each set's own")
    p.add_argument("--data-seed", type=int, default=0, help="seed of the generated data and of the train/test split")
    p.add_argument("--hidden", type=int, nargs="*", default=[16, 16],
                   help="sizes of the hidden layers, e.g. --hidden 16 16 (none for a single-layer net)")
    p.add_argument("--activation", nargs="+", default=["relu", "sigmoid"],
                   help="activation of each hidden layer (one name for all of them, or one per layer): "
                        "relu, sigmoid, tanh, leaky_relu, identity")
    p.add_argument("--output-activation", default=None,
                   help="activation of the output layer; default: sigmoid for two classes with mse/bce, "
                        "identity (logits) with bce_logits and cross_entropy")
    p.add_argument("--no-bias", action="store_true", help="build the layers without biases")
    p.add_argument("--init", choices=sorted(INITIALIZERS), default="normal",
                   help="weight initializer (normal is N(0, 1) as in the reports)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights and of the mini-batch order")
    p.add_argument("--loss", choices=sorted(LOSSES), default=None,
                   help="loss; default: mse for two classes (as the reports), cross_entropy for more")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="sgd", help="optimizer (PyTorch's rules)")
    p.add_argument("--lr", type=float, default=1.0, help="learning rate")
    p.add_argument("--momentum", type=float, default=0.0, help="momentum of sgd and rmsprop")
    p.add_argument("--epochs", type=int, default=5000, help="passes over the training data")
    p.add_argument("--batch-size", type=int, default=None, help="mini-batch size; default: the whole data set")
    p.add_argument("--standardize", action="store_true",
                   help="scale each feature to mean 0, standard deviation 1 (statistics of the training rows)")
    p.add_argument("--test-size", type=float, default=0.0,
                   help="fraction of rows held out for a test accuracy (0: train and evaluate on all rows)")
    p.add_argument("--log-every", type=int, default=None,
                   help="print 'Epoch k Loss: ...' every k epochs; default: ten lines per run")
    p.add_argument("--progress", action="store_true", help="show a tqdm progress bar")
    p.add_argument("--engine", choices=sorted(ENGINES), default="tensor",
                   help="autograd engine that runs the network: tensor (numpy arrays, one node per layer: fast) or "
                        "value (one scalar node per weight and activation: some 200x slower, for small runs)")
    p.add_argument("--predictions", action="store_true",
                   help="print every sample as 'Iter i | Ground truth: y | Prediction: p', as the reports do")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for pictures: loss.png and, for 2-D data, decision_boundary.png")
    return p


def main(argv: Sequence[str] | None = None) -> History:
    """Run the command line (``python -m nn.train --help``); returns the training history."""
    args = _parser().parse_args(argv)
    X, y = datasets.load(args.data, n=args.n, seed=args.data_seed)
    n_classes = int(y.max()) + 1 if np.issubdtype(y.dtype, np.integer) else 2
    loss = args.loss or ("mse" if n_classes == 2 else "cross_entropy")
    if n_classes > 2 and loss != "cross_entropy":
        raise SystemExit(f"--loss {loss} needs two classes; {args.data} has {n_classes}: use cross_entropy")
    if n_classes == 2 and loss == "cross_entropy":
        raise SystemExit("--loss cross_entropy needs integer class labels; use mse, bce or bce_logits for "
                         f"{args.data}")
    n_out = 1 if n_classes == 2 else n_classes
    output = args.output_activation or ("identity" if loss in ("bce_logits", "cross_entropy") else "sigmoid")
    hidden_acts = args.activation * len(args.hidden) if len(args.activation) == 1 else args.activation
    if len(hidden_acts) != len(args.hidden):
        raise SystemExit(f"--activation: give one name, or one per hidden layer ({len(args.hidden)}), "
                         f"got {args.activation}")

    if args.test_size > 0:
        X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, args.test_size, seed=args.data_seed)
    else:
        X_train, X_test, y_train, y_test = X, None, y, None
    if args.standardize:
        mean, std = X_train.mean(axis=0), X_train.std(axis=0)
        std[std == 0] = 1.0
        X_train = (X_train - mean) / std
        X_test = None if X_test is None else (X_test - mean) / std

    model = MLP(X.shape[1], args.hidden, n_out, activations=[*hidden_acts, output], bias=not args.no_bias,
                init=args.init, seed=args.seed, engine=args.engine)
    hyper: dict[str, Any] = {"lr": args.lr}
    if args.momentum:
        if args.optimizer not in ("sgd", "rmsprop"):
            raise SystemExit(f"--momentum applies to sgd and rmsprop, not {args.optimizer}")
        hyper["momentum"] = args.momentum
    optimizer = get_optimizer(args.optimizer, model.parameters(), **hyper)
    print(model)
    print(f"data: {args.data} ({len(X_train)} training rows), loss: {loss}, optimizer: {optimizer!r}")
    history = fit(model, X_train, y_train, loss=loss, optimizer=optimizer, epochs=args.epochs,
                  batch_size=args.batch_size, seed=args.seed, log_every=args.log_every or max(1, args.epochs // 10),
                  progress=args.progress)
    threshold = 0.0 if loss == "bce_logits" else 0.5
    if args.predictions:
        print_predictions(model, X_train, y_train, threshold)
    train_acc = accuracy(predict(model, X_train), y_train, threshold)
    print(f"Training accuracy: {100 * train_acc:.2f}% ({len(X_train)} rows), {history.epochs} epochs in "
          f"{history.wall_time:.2f} s ({1000 * history.wall_time / max(1, history.epochs):.2f} ms per epoch)")
    if X_test is not None:
        print(f"Test accuracy: {100 * accuracy(predict(model, X_test), y_test, threshold):.2f}% "
              f"({len(X_test)} rows)")
    if args.out is not None:
        from . import plot
        args.out.mkdir(parents=True, exist_ok=True)
        plot.plot_loss({args.data: history}, path=args.out / "loss.png")
        print(f"wrote {args.out / 'loss.png'}")
        if X.shape[1] == 2:
            path = args.out / "decision_boundary.png"
            plot.plot_decision_boundary(model, X_train, y_train, threshold=threshold, path=path)
            print(f"wrote {path}")
    return history


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy, so History etc. are nn.train's own classes.
    from nn.train import main as _main

    _main(sys.argv[1:])
