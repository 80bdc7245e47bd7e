"""Training: ``fit``, its ``History``, ``predict``, ``accuracy`` and the reports' prediction
printout. The command line lives in ``nn.cli`` (``python -m nn.train --help`` runs it).

Each step is the loop of the lab reports::

    optimizer.zero_grad(); loss = loss_fn(model(X_batch), y_batch); loss.backward(); optimizer.step()
"""

from __future__ import annotations

import math
import numbers
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import no_grad

from .init import Seed, _finite, as_generator
from .layers import ENGINES, float_array, per_sample_array
from .losses import BCEWithLogitsLoss, Loss, get_loss, predictions_to_array
from .module import Module
from .optim import Optimizer, get_optimizer


@dataclass
class History:
    """What ``fit`` measured.

    ``loss[e]`` is epoch e + 1's loss, its batches' losses (each taken before that batch's step) combined as
    the loss's reduction combines samples: for ``"mean"`` the mean over the epoch's samples (each batch's mean
    weighted by its size), for ``"sum"`` and ``"half_sum"`` the sum of the batches' values; so with a learning
    rate of 0 it is the full-batch loss, whatever ``batch_size``. ``accuracy[e]`` is the accuracy of the
    predictions made during that epoch (before each step's update); ``wall_time`` is in seconds. ``stopped``
    holds the message when training stopped early on a nan or inf loss (or nan predictions), else None.
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


def _samples(X: Any, what: str) -> np.ndarray:
    """``X`` as a float64 array of n >= 1 samples along its first axis, with at least one more axis: (n, d)
    features for an MLP, (n, channels, height, width) images for a CNN (the model checks the rest)."""
    X = float_array(X, what)
    if X.ndim < 2:
        raise ValueError(f"{what} must be an array of n samples with at least 2 axes, (n, d features) or (n, C, H, W) "
                         f"images, got shape {X.shape}")
    if len(X) == 0:
        raise ValueError(f"{what} has no samples (shape {X.shape}); expected at least one row")
    return X


def _check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = _samples(X, "X")
    y = per_sample_array(y, "y")
    if len(y) != len(X):
        raise ValueError(f"X and y must have the same number of rows, got {len(X)} and {len(y)} "
                         f"(X of shape {X.shape}, y of shape {y.shape})")
    return X, y


def _outputs_and_labels(outputs: Any, y: Any, threshold: Any, what: str) -> tuple[np.ndarray, np.ndarray, float]:
    """The checks of ``accuracy`` and ``prediction_lines``: outputs as (n,) for one output per sample or (n, k);
    y as n float labels, nan where a label is nan: for one output the targets as given ((n,) or (n, 1); class 1
    above 0.5), for k outputs class indices 0..k-1 ((n,) or (n, 1)) or the argmax of (n, k) one-hot rows."""
    if not isinstance(threshold, numbers.Real) or isinstance(threshold, bool):
        raise TypeError(f"{what} threshold must be a real number (0.5 for probabilities, 0 for logits), got "
                        f"{type(threshold).__name__}: {threshold!r:.40}")
    threshold = _finite(threshold, f"{what} threshold")
    outputs = float_array(outputs, f"{what} outputs")
    y = per_sample_array(y, f"{what} y").astype(np.float64)
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        outputs = outputs[:, 0]
    if outputs.ndim not in (1, 2) or len(outputs) == 0:
        raise ValueError(f"{what} outputs must be a non-empty array (n,) or (n, k), got shape {outputs.shape}")
    n = len(outputs)
    if len(y) != n:
        raise ValueError(f"{what} needs one label per output, got {n} outputs and {len(y)} labels "
                         f"(outputs of shape {outputs.shape}, y of shape {y.shape})")
    if outputs.ndim == 1:
        if y.shape not in ((n,), (n, 1)):
            raise ValueError(f"{what}: one output per sample needs y of shape ({n},) or ({n}, 1) (0/1 labels), "
                             f"got y of shape {y.shape}")
        return outputs, y.reshape(n), threshold
    k = outputs.shape[1]
    if y.shape == (n, k):  # one-hot (or probability) rows; a row holding nan has no class
        return outputs, np.where(np.isnan(y).any(axis=1), np.nan, y.argmax(axis=1)), threshold
    if y.shape not in ((n,), (n, 1)):
        raise ValueError(f"{what}: {k} outputs per sample need y of shape ({n},) or ({n}, 1) (class indices "
                         f"0..{k - 1}) or ({n}, {k}) (one-hot rows), got y of shape {y.shape}")
    labels = y.reshape(n)
    bad = ~np.isnan(labels) & ~((labels >= 0) & (labels <= k - 1) & (labels == np.floor(labels)))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{what}: y holds class indices for {k} outputs, so each must be a whole number in "
                         f"0..{k - 1}; got {float(labels[row]):g} at row {row}")
    return outputs, labels, threshold


def accuracy(outputs: np.ndarray, y: np.ndarray, threshold: float = 0.5) -> float:
    """Fraction of correct predictions. One output: ŷ > ``threshold`` counts as class 1
    (0.5 for probabilities, 0 for logits). Several outputs: the argmax is the class;
    ``y`` holds class indices or one-hot rows. A nan prediction or label is never correct."""
    return _accuracy(*_outputs_and_labels(outputs, y, threshold, "accuracy"))


def _accuracy(outputs: np.ndarray, y: np.ndarray, threshold: float) -> float:
    """``accuracy`` on arrays already checked: fit calls this every batch of every epoch."""
    n = len(outputs)
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        outputs = outputs[:, 0]
    # count_nonzero / n rather than np.mean: a third of the cost
    if outputs.ndim == 1:
        y = y.reshape(n)
        # nan > t and nan <= t are both False, so a nan prediction or label counts as wrong either way
        return (np.count_nonzero((outputs > threshold) & (y > 0.5))
                + np.count_nonzero((outputs <= threshold) & (y <= 0.5))) / n
    labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(n)
    # argmax takes a nan for the largest entry: a row holding nan counts as wrong
    return np.count_nonzero((outputs.argmax(axis=1) == labels) & ~np.isnan(outputs).any(axis=1)) / n


def predict(model: Module, X: Any) -> np.ndarray:
    """The model's outputs on ``X`` (n x d, or n images (n, C, H, W) for a CNN) without recording a graph: (n,)
    for one output, else (n, k)."""
    if not isinstance(model, Module):
        raise TypeError(f"predict expects an nn.Module as model, got {type(model).__name__}")
    X = _samples(X, "predict X")
    with no_grad():
        return predictions_to_array(model(X))


def prediction_lines(outputs: np.ndarray, y: np.ndarray, threshold: float = 0.5) -> list[str]:
    """The reports' printout, one line per sample (``Iter 12 | Ground truth: 1 | Prediction: 0.99698``)
    and a last line with the accuracy. Several outputs: the classes (argmax; y as class indices or one-hot
    rows); a nan truth or prediction is shown as nan."""
    outputs, labels, threshold = _outputs_and_labels(outputs, y, threshold, "prediction_lines")
    truths = [str(int(round(t))) if math.isfinite(t) else str(t) for t in labels.tolist()]
    if outputs.ndim == 1:
        shown = [f"{p:.5f}" for p in outputs.tolist()]
    else:
        shown = [str(c) for c in outputs.argmax(axis=1).tolist()]
        shown = ["nan" if bad else c for c, bad in zip(shown, np.isnan(outputs).any(axis=1).tolist())]
    lines = [f"Iter {i} | Ground truth: {t} | Prediction: {p}" for i, (t, p) in enumerate(zip(truths, shown))]
    acc = _accuracy(outputs, labels, threshold)
    lines.append(f"Accuracy: {int(round(acc * len(labels)))}/{len(labels)} = {100 * acc:.2f}%")
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

    Safety: the loss and the predictions are checked before every step and after the last one; if the loss
    becomes nan or inf, or a prediction nan, training stops with a message (epoch, learning rate, last finite
    loss) and the model keeps the weights that gave the last finite loss (numpy's overflow warnings are silenced
    meanwhile: these checks replace them). A KeyboardInterrupt (Ctrl-C) or any error inside the optimizer's step
    undoes that step, so the model is left at a step boundary; fit says so and re-raises.

    A model takes X of shape (n, d), or images (n, C, H, W) for a CNN (``nn.Sequential`` of ``nn.Conv2d``...).
    An optimizer given as an instance must hold at least one of the model's parameters.

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
        mine = {id(p) for p in model.parameters()}
        if not any(id(p) in mine for p in optimizer.params):  # its steps would change another model only
            raise ValueError(f"fit: none of the optimizer's {len(optimizer.params)} parameters is one of the model's "
                             f"{len(mine)}; expected an optimizer built on this model's parameters, e.g. "
                             f"{type(optimizer).__name__}(model.parameters(), ...)")
        opt = optimizer
    else:
        if lr is None and isinstance(optimizer, str):
            lr = FIT_LEARNING_RATES.get(optimizer.lower())
        opt = get_optimizer(optimizer, model.parameters(), **({} if lr is None else {"lr": lr}))
    if log_every is not None:
        log_every = _positive(log_every, "log_every")
    _warn_if_slow_on_values(model, n, batch)
    threshold = 0.0 if isinstance(loss_fn, BCEWithLogitsLoss) else 0.5
    # the epoch's loss combines its batches as the loss combines samples, so it does not depend on batch_size
    summed = getattr(loss_fn, "reduction", "mean") in ("sum", "half_sum")
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

    def diverged(outputs: np.ndarray, loss: float) -> bool:
        # nan predictions are divergence even when the loss hides them (a clamped log gives a finite loss)
        return not math.isfinite(loss) or bool(np.isnan(outputs).any())

    def divergence(outputs: np.ndarray, loss: float, when: str) -> str:
        bad_loss = not math.isfinite(loss)
        what = f"the loss{when} became {loss}" if bad_loss else f"the predictions{when} became nan"
        if not checkpoint.taken:
            return (f"{what} with learning rate {opt.lr:g}. The first "
                    f"{'loss is not finite' if bad_loss else 'predictions are nan'}: check the data and weights.")
        return (f"{what} with learning rate {opt.lr:g}. Last finite loss {last_finite:.6g} (epoch "
                f"{last_finite_epoch}); the model keeps the weights that gave it. Try a smaller learning rate.")

    start = time.perf_counter()
    epoch = steps = 0
    undone = False
    try:
        # fit checks every loss and the predictions for divergence itself (below): numpy's overflow and
        # invalid-value warnings on the way to an inf or nan would only say the same thing, less clearly
        with np.errstate(over="ignore", invalid="ignore"):
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
                    outputs = predictions_to_array(pred)
                    if diverged(outputs, current):
                        return stop(f"Stopped at epoch {epoch}: {divergence(outputs, current, '')}")
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
                    total += current if summed else current * len(yb)
                    correct += _accuracy(outputs, yb, threshold) * len(yb)
                history.loss.append(total if summed else total / n)
                history.accuracy.append(correct / n)
                if log_every and (epoch % log_every == 0 or epoch == epochs):
                    log(f"Epoch {epoch} Loss: {history.loss[-1]:.6f}")
                if bar is not None:
                    bar.update(1)
                    if epoch % max(1, epochs // 100) == 0 or epoch == epochs:
                        bar.set_postfix(loss=f"{history.loss[-1]:.4g}", acc=f"{history.accuracy[-1]:.3f}",
                                        refresh=False)
            # The last step's result is checked too (the loop checks each loss before its step only).
            with no_grad():
                pred = model(xb)
                after, outputs = float(loss_fn(pred, yb).data), predictions_to_array(pred)
            if diverged(outputs, after):
                return stop(f"Stopped after epoch {epoch}, the last: "
                            f"{divergence(outputs, after, ' after the last step')}")
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
