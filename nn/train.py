"""Training: ``fit``, its ``History``, ``predict``, ``accuracy`` and the reports' prediction
printout. The command line lives in ``nn.cli`` (``python -m nn.train --help`` runs it).

Each step is the loop of the lab reports::

    optimizer.zero_grad(); loss = loss_fn(model(X_batch), y_batch); loss.backward(); optimizer.step()
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import no_grad

from .init import Seed, as_generator
from .layers import ENGINES, float_array, per_sample_array
from .losses import BCEWithLogitsLoss, Loss, get_loss, predictions_to_array
from .module import Module
from .optim import Optimizer, get_optimizer


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


#: ``fit``'s learning rate when it builds the optimizer from its name and no ``lr`` is given: the reports'
#: 1.0 for SGD (its class default, PyTorch's 1e-3, leaves the reports' XOR net at chance after 500 epochs);
#: the other optimizers keep their own (PyTorch's) defaults.
FIT_LEARNING_RATES: dict[str, float] = {"sgd": 1.0}

#: ``fit`` on the Value engine warns (``SlowTrainingWarning``) when an epoch is estimated to take longer.
SLOW_EPOCH_SECONDS = 10.0
# The estimate: one Value node costs about this much time per epoch (forward, backward, step, bookkeeping)
# and memory while its batch's graph is held, measured for the 2-16-16-1 net on the project's 2-core machine
# (10^3-10^4 samples: 0.73 ms and 11 kB per sample at 71 nodes per sample).
_VALUE_SECONDS_PER_NODE = 1.0e-5
_VALUE_BYTES_PER_NODE = 160


class SlowTrainingWarning(UserWarning):
    """``fit`` on the scalar Value engine with so much data that an epoch would take long (see the message)."""


def _value_nodes_per_sample(sizes: Sequence[int], activations: Sequence[str]) -> int:
    """Scalar nodes a Value-engine MLP with layer ``sizes`` (n_in, ..., n_out) and activation names builds per
    sample and step: a ``dot`` node per neuron, an activation node unless it is the identity, and the MSE
    loss's four per output plus one (other losses build a similar number)."""
    neurons = sum(n * (1 + (a != "identity")) for n, a in zip(sizes[1:], activations))
    return neurons + 4 * sizes[-1] + 1


def _format_seconds(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _warn_if_slow_on_values(model: Module, n: int, batch: int) -> None:
    """Warn once per ``fit`` when the Value engine would take more than ``SLOW_EPOCH_SECONDS`` an epoch."""
    if getattr(model, "engine", None) != "value" or not hasattr(model, "spec"):
        return
    sizes = model.sizes
    per_sample = _value_nodes_per_sample(sizes, [a.name for a in model.spec()["activations"]])
    seconds = n * per_sample * _VALUE_SECONDS_PER_NODE
    if seconds <= SLOW_EPOCH_SECONDS:
        return
    memory = batch * per_sample * _VALUE_BYTES_PER_NODE
    held = f"{memory / 2**30:.1f} GiB" if memory >= 2**30 else f"{memory / 2**20:.0f} MiB"
    warnings.warn(
        f"fit: the Value engine builds about {per_sample} scalar nodes per sample for this "
        f"{'-'.join(map(str, sizes))} MLP, so one epoch over {n:,} samples takes an estimated "
        f"{_format_seconds(seconds)} and holds about {held} of graph per step "
        f"({'full batch' if batch == n else f'batches of {batch:,}'}). Build the model with engine=\"tensor\" "
        "(or train model.to(\"tensor\")): it runs a whole batch as one node per layer, some 200x faster.",
        SlowTrainingWarning, stacklevel=3)


class _StepCheckpoint:
    """The parameters and the optimizer's state as they were just before a step; ``restore`` undoes a diverged
    or interrupted step.

    The parameters' arrays are copied, not referenced: an optimizer that updates in place
    (``p.data -= lr * g``) would otherwise change the checkpoint with the weights. The optimizer's state
    dicts are copied one level deep: that restores the built-in optimizers, which rebind their state
    (``state["exp_avg"] = ...``) rather than change its arrays in place.
    """

    def __init__(self, optimizer: Optimizer):
        self.params = optimizer.params
        state = getattr(optimizer, "state", None)
        self.live_state = state if isinstance(state, list) and all(isinstance(s, dict) for s in state) else None
        self.data: list[Any] | None = None
        self.state: list[dict[str, Any]] | None = None

    def take(self) -> None:
        ndarray = np.ndarray
        # floats (the Value engine's weights) are immutable: only arrays need a copy
        self.data = [d.copy() if type(d) is ndarray else d for d in [p.data for p in self.params]]
        if self.live_state is not None:
            self.state = [dict(s) for s in self.live_state]

    @property
    def taken(self) -> bool:
        return self.data is not None

    def restore(self) -> None:
        if self.data is None:
            return
        for p, d in zip(self.params, self.data):
            p.data = d
        if self.state is not None:
            for live, saved in zip(self.live_state, self.state):
                live.clear()
                live.update(saved)
        self.take()  # the restored arrays now belong to the parameters: keep the checkpoint apart from them


def _progress_bar(epochs: int, delay: float) -> Any:
    """A tqdm bar on stderr that appears once a run has lasted ``delay`` seconds and updates at most twice a
    second (plain text: it needs no ipywidgets and adds a few lines at most to a notebook)."""
    from tqdm.std import tqdm

    return tqdm(total=epochs, unit="epoch", leave=True, delay=delay, mininterval=0.5, file=sys.stderr)


def fit(model: Module, X: Any, y: Any, loss: str | Loss = "mse", optimizer: str | Optimizer = "sgd",
        epochs: int = 500, lr: float | None = None, batch_size: int | None = None, shuffle: bool = True,
        seed: Seed = 0, log_every: int | None = None, progress: bool | None = None, verbose: bool = True,
        print_fn: Callable[[str], Any] = print) -> History:
    """Train ``model`` on (X, y) for ``epochs`` passes and return a ``History``.

    The defaults are the reports' recipe: MSE, full-batch SGD with learning rate 1.0, 500 epochs (the
    reports' 2-16-16-1 net reaches 100% on XOR within 150). ``loss`` and ``optimizer`` are names or
    instances; a named optimizer is built on ``model.parameters()`` with ``lr`` (None: 1.0 for SGD, the
    optimizer's own default for the others). ``batch_size=None`` is full-batch gradient descent;
    otherwise each epoch visits the rows in an order drawn from ``seed`` (``shuffle=False`` keeps them).

    Output: ``log_every=k`` prints ``Epoch 5000 Loss: 0.006943`` every k epochs; ``progress`` shows a
    tqdm bar on stderr (None, the default: for runs longer than a second, unless ``log_every`` is given;
    True: from the start). ``verbose=False`` prints nothing at all (no bar, no lines, no messages: they
    stay in the History). Lines go to ``print_fn``.

    Safety: the loss is checked before every step and after the last one; if it becomes nan or inf,
    training stops with a message (epoch, learning rate, last finite loss) and the model keeps the
    weights that gave the last finite loss. A KeyboardInterrupt (Ctrl-C) or any error inside the
    optimizer's step undoes that step, so the model is left at a step boundary; fit says so and re-raises.

    Any engine: an ``MLP`` built on ``"tensor"`` trains fast (its batches are turned into Tensors once,
    not every epoch), one on ``"value"`` trains as it is, slowly, and warns (``SlowTrainingWarning``)
    when an epoch would take more than ``SLOW_EPOCH_SECONDS``; ``model.to("tensor")`` copies a Value model
    onto the Tensor engine.
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit expects an nn.Module as model (e.g. nn.MLP), got {type(model).__name__}")
    if not callable(print_fn):
        raise TypeError(f"fit print_fn must be callable (print, a list's append, ...), got {type(print_fn).__name__}")
    if not isinstance(verbose, (bool, np.bool_)):
        raise TypeError(f"fit verbose must be True or False, got {type(verbose).__name__}: {verbose!r:.40}")
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"fit progress must be None, True or False, got {type(progress).__name__}: "
                        f"{progress!r:.40}")
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
        if lr is None and isinstance(optimizer, str):
            lr = FIT_LEARNING_RATES.get(optimizer.lower())
        opt = get_optimizer(optimizer, model.parameters(), **({} if lr is None else {"lr": lr}))
    if log_every is not None:
        log_every = _positive(log_every, "log_every")
    _warn_if_slow_on_values(model, n, batch)
    threshold = 0.0 if isinstance(loss_fn, BCEWithLogitsLoss) else 0.5
    rng = as_generator(seed)
    engine = getattr(model, "engine", None)
    to_input = ENGINES[engine].as_input if isinstance(engine, str) and engine in ENGINES else np.asarray
    whole = to_input(X) if batch == n else None  # full batch: converted once for the whole run
    history = History()
    last_finite, last_finite_epoch = math.nan, 0
    checkpoint = _StepCheckpoint(opt)

    show_bar = verbose and (progress if progress is not None else log_every is None)
    bar = _progress_bar(epochs, delay=0.0 if progress else 1.0) if show_bar else None
    if not verbose:
        log: Callable[[str], Any] = lambda line: None
    elif bar is not None and print_fn is print:
        log = bar.write  # prints above the bar instead of through it
    else:
        log = print_fn

    def stop(message: str) -> History:
        checkpoint.restore()
        history.stopped = message
        log(message)
        return history

    start = time.perf_counter()
    epoch = steps = 0
    undone = False
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
                    return stop(
                        f"Stopped at epoch {epoch}: the loss became {current} with learning rate {opt.lr:g}. "
                        + (f"Last finite loss {last_finite:.6g} (epoch {last_finite_epoch}); the model keeps the "
                           "weights that gave it. Try a smaller learning rate."
                           if checkpoint.taken else "The first loss is not finite: check the data and weights."))
                last_finite, last_finite_epoch = current, epoch
                value.backward()
                checkpoint.take()  # the weights that gave `current`
                try:
                    opt.step()
                except BaseException:  # Ctrl-C or an error half-way through: no layer keeps a partial step
                    checkpoint.restore()
                    undone = True
                    raise
                steps += 1
                total += current * len(yb)
                correct += _accuracy(predictions_to_array(pred), yb, threshold) * len(yb)
            history.loss.append(total / n)
            history.accuracy.append(correct / n)
            if log_every and (epoch % log_every == 0 or epoch == epochs):
                log(f"Epoch {epoch} Loss: {history.loss[-1]:.6f}")
            if bar is not None:
                bar.update(1)
                if epoch % max(1, epochs // 100) == 0 or epoch == epochs:
                    bar.set_postfix(loss=f"{history.loss[-1]:.4g}", acc=f"{history.accuracy[-1]:.3f}", refresh=False)
        # The last step's result is checked too (the loop checks each loss before its step only).
        with no_grad():
            after = float(loss_fn(model(xb), yb).data)
        if not math.isfinite(after):
            return stop(f"Stopped after epoch {epoch}, the last: the loss after the last step became {after} with "
                        f"learning rate {opt.lr:g}. Last finite loss {last_finite:.6g} (epoch {last_finite_epoch}); "
                        "the model keeps the weights that gave it. Try a smaller learning rate.")
    except KeyboardInterrupt as interrupt:
        message = (f"fit interrupted (KeyboardInterrupt) in epoch {epoch}: "
                   + ("the step in progress was undone; " if undone else "")
                   + f"the model holds the weights after {steps} complete step{'s' if steps != 1 else ''} "
                   f"({history.epochs} complete epoch{'s' if history.epochs != 1 else ''}), a step boundary.")
        log(message)
        if not interrupt.args:
            interrupt.args = (message,)
        raise
    finally:
        history.wall_time = time.perf_counter() - start
        if bar is not None:
            bar.close()
    return history


def main(argv: Sequence[str] | None = None) -> History:
    """The command line, ``nn.cli.main`` (kept here so ``nn.train.main`` and ``python -m nn.train`` work)."""
    from .cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy, so History etc. are nn.train's own classes.
    from nn.cli import main as _main

    _main(sys.argv[1:])
