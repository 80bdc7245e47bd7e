"""The command line: ``python -m nn.train --help`` (or ``python -m nn.cli``).

Trains an MLP on one of the lab's data sets and reports its accuracy. Every bad
value ends in one line naming the option, what was given and what is allowed,
with exit status 2 (argparse's convention), before any training starts.

This module sits above ``nn.train`` and ``nn.plot`` (it imports both; neither
imports it), so the training code and the pictures do not import each other.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import data as datasets
from .activations import ACTIVATIONS, get_activation
from .init import INITIALIZERS
from .layers import ENGINES, MLP
from .losses import LOSSES
from .optim import OPTIMIZERS, get_optimizer
from .serialize import save
from .train import History, accuracy, fit, predict, print_predictions

PROG = "python -m nn.train"


def _default_hidden_activations(depth: int) -> list[str]:
    """The reports' hidden activations, following the depth: ReLU for the first hidden layer, sigmoid for the
    others (``relu sigmoid`` for the reports' two hidden layers)."""
    return ["relu", *["sigmoid"] * (depth - 1)] if depth > 0 else []


class OneLineErrorParser(argparse.ArgumentParser):
    """The command lines' parser: an error is one line, ``prog: error: what was wrong; expected what``, and exit
    status 2, without argparse's usage block before it (``--help`` shows that)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (--help lists the options)\n")


# -- value checks (argparse ``type=`` functions: their message follows "argument --option: ") ----------------


def _checked(check: Callable[[str], Any], expected: str) -> Callable[[str], Any]:
    """An argparse type: ``check(text)`` or an error "got 'text'; expected <expected>"."""

    def parse(text: str) -> Any:
        try:
            value = check(text)
        except (TypeError, ValueError, OverflowError):
            value = None
        if value is None:
            raise argparse.ArgumentTypeError(f"got {text!r}; expected {expected}")
        return value

    parse.__name__ = expected  # argparse names the type in some messages
    return parse


def _int_at_least(low: int) -> Callable[[str], int | None]:
    return lambda text: int(text) if int(text) >= low else None


def _finite(low: float, high: float = math.inf, open_low: bool = False, open_high: bool = False):
    def check(text: str) -> float | None:
        x = float(text)
        if not math.isfinite(x) or x < low or x > high or (open_low and x == low) or (open_high and x == high):
            return None
        return x
    return check


_positive_int = _checked(_int_at_least(1), "a positive integer")
_count_int = _checked(_int_at_least(0), "an integer >= 0")
_positive_float = _checked(_finite(0.0, open_low=True), "a positive finite number")
_non_negative_float = _checked(_finite(0.0), "a finite number >= 0")
_test_fraction = _checked(_finite(0.0, 1.0, open_high=True), "a fraction in [0, 1) (0: no test set)")
_activation_name = _checked(lambda text: get_activation(text).name,
                           f"an activation, one of {', '.join(sorted(ACTIVATIONS))}")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default only where the help text does not already explain it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False) or "default" in (action.help or ""):
            return action.help or ""
        return super()._get_help_string(action)


def parser() -> argparse.ArgumentParser:
    """The command line's argument parser."""
    p = OneLineErrorParser(
        prog=PROG,
        description="Train an MLP on one of the lab's data sets and report its accuracy. Defaults reproduce the "
                    "seed report's run: 2-16-16-1, ReLU then sigmoid hidden layers, sigmoid output, N(0, 1) init, "
                    "MSE, SGD lr 1.0, full batch.",
        epilog=f"Example: {PROG} --data xor --hidden 16 16 --lr 1 --epochs 5000 "
               "--activation relu sigmoid --out out/xor",
        formatter_class=_HelpFormatter)
    p.add_argument("--data", choices=sorted(datasets.DATASETS), default="xor",
                   help="data set: linear (points above the diagonal), xor (the 21 XOR points), moons, blobs "
                        "(eagles and chickens), iris (3 classes), digits (8x8 images, 10 classes)")
    p.add_argument("--n", type=_positive_int, default=None,
                   help="number of points for the generated sets (linear, moons, blobs); default: each set's own")
    p.add_argument("--data-seed", type=_count_int, default=0,
                   help="seed of the generated data and of the train/test split")
    p.add_argument("--hidden", type=_positive_int, nargs="*", default=[16, 16],
                   help="sizes of the hidden layers, e.g. --hidden 16 16 (none for a single-layer net)")
    p.add_argument("--activation", type=_activation_name, nargs="+", default=None,
                   help="activation of each hidden layer (one name for all of them, or one per layer): "
                        "relu, sigmoid, tanh, leaky_relu, identity; default: relu for the first hidden layer, "
                        "sigmoid for the others (the reports' relu sigmoid for two)")
    p.add_argument("--output-activation", type=_activation_name, default=None,
                   help="activation of the output layer; default: sigmoid for two classes with mse/bce (bce "
                        "needs it), identity (logits) with bce_logits and cross_entropy")
    p.add_argument("--no-bias", action="store_true", help="build the layers without biases")
    p.add_argument("--init", choices=sorted(INITIALIZERS), default="normal",
                   help="weight initializer (normal is N(0, 1) as in the reports)")
    p.add_argument("--seed", type=_count_int, default=0,
                   help="seed of the initial weights and of the mini-batch order")
    p.add_argument("--loss", choices=sorted(LOSSES), default=None,
                   help="loss; default: mse for two classes (as the reports), cross_entropy for more")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="sgd", help="optimizer (PyTorch's rules)")
    p.add_argument("--lr", type=_positive_float, default=1.0, help="learning rate")
    p.add_argument("--momentum", type=_non_negative_float, default=0.0, help="momentum of sgd and rmsprop")
    p.add_argument("--epochs", type=_positive_int, default=5000, help="passes over the training data")
    p.add_argument("--batch-size", type=_positive_int, default=None,
                   help="mini-batch size; default: the whole data set")
    p.add_argument("--standardize", action="store_true",
                   help="scale each feature to mean 0, standard deviation 1 (statistics of the training rows)")
    p.add_argument("--test-size", type=_test_fraction, default=0.0,
                   help="fraction of rows held out for a test accuracy (0: train and evaluate on all rows)")
    p.add_argument("--log-every", type=_positive_int, default=None,
                   help="print 'Epoch k Loss: ...' every k epochs; default: ten lines per run")
    p.add_argument("--progress", action="store_true", help="show a tqdm progress bar")
    p.add_argument("--engine", choices=sorted(ENGINES), default="tensor",
                   help="autograd engine that runs the network: tensor (numpy arrays, one node per layer: fast) or "
                        "value (one scalar node per weight and activation: some 200x slower, for small runs)")
    p.add_argument("--predictions", action="store_true",
                   help="print every sample as 'Iter i | Ground truth: y | Prediction: p', as the reports do")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for the results: loss.png, for 2-D data decision_boundary.png, and the trained "
                        "model as model.npz (nn.load gives it back; with --standardize it expects standardized "
                        "inputs)")
    return p


def _prepare_out(p: argparse.ArgumentParser, out: Path, holds: str = "the pictures") -> None:
    """Create the results folder now, so a path that cannot hold them fails before training, not after (every
    command line's ``--out``; ``holds`` names what goes there)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        p.error(f"--out: got {str(out)!r}, which is a file; expected a folder for {holds}")
    except OSError as error:
        p.error(f"--out: cannot create the folder {str(out)!r} ({error.strerror or error}); "
                "expected a folder you can write to")
    if not os.access(out, os.W_OK):
        p.error(f"--out: cannot write into the folder {str(out)!r}; expected a folder you can write to")


def main(argv: Sequence[str] | None = None) -> History:
    """Run the command line (``python -m nn.train --help``) on ``argv`` (None: ``sys.argv[1:]``); returns the
    training history. A bad option value exits with status 2 after one error line (argparse's convention)."""
    if argv is not None and (isinstance(argv, (str, bytes)) or not isinstance(argv, Sequence)
                             or not all(isinstance(a, str) for a in argv)):
        raise TypeError(f"nn.cli.main expects argv to be None or a list of str such as ['--epochs', '10'], got "
                        f"{type(argv).__name__}: {argv!r:.60}")
    p = parser()
    args = p.parse_args(argv)
    try:
        X, y = datasets.load(args.data, n=args.n, seed=args.data_seed)
    except ValueError as error:
        p.error(f"--n: got {args.n} for --data {args.data}: {error}")
    n_classes = int(y.max()) + 1 if np.issubdtype(y.dtype, np.integer) else 2
    loss = args.loss or ("mse" if n_classes == 2 else "cross_entropy")
    if n_classes > 2 and loss != "cross_entropy":
        p.error(f"--loss: got {loss} for --data {args.data}, which has {n_classes} classes; "
                "expected cross_entropy (the others need two classes)")
    if n_classes == 2 and loss == "cross_entropy":
        p.error(f"--loss: got cross_entropy for --data {args.data}, which has two classes as 0/1 targets; "
                "expected mse, bce or bce_logits")
    n_out = 1 if n_classes == 2 else n_classes
    output = args.output_activation or ("identity" if loss in ("bce_logits", "cross_entropy") else "sigmoid")
    depth = len(args.hidden)
    if args.activation is None:
        hidden_acts = _default_hidden_activations(depth)
    elif len(args.activation) == 1:
        hidden_acts = args.activation * depth
    elif len(args.activation) == depth:
        hidden_acts = args.activation
    else:
        p.error(f"--activation: got {len(args.activation)} names ({' '.join(args.activation)}) for {depth} hidden "
                f"layer{'s' if depth != 1 else ''} (--hidden {' '.join(map(str, args.hidden))}); "
                "expected one name for all of them, or one per hidden layer")
    if output == "softmax" and n_out == 1:  # softmax over one number is exp(z) / exp(z) = 1 whatever z
        p.error(f"--output-activation: got softmax for --data {args.data}'s one output, where it is always 1 and "
                "nothing is learnt; expected "
                + ("identity (bce_logits takes logits)" if loss == "bce_logits" else "sigmoid"))
    if loss == "bce" and output != "sigmoid":  # bce takes probabilities: other outputs leave [0, 1] mid-training
        p.error(f"--output-activation: got {output} with --loss bce, which needs probabilities in [0, 1]; expected "
                "sigmoid (or --loss bce_logits, which takes the identity output's logits)")
    # bce_logits and cross_entropy take logits and apply the sigmoid / softmax themselves (nn/losses.py)
    applied = {"bce_logits": "sigmoid", "cross_entropy": "softmax"}.get(loss)
    if output == applied:
        p.error(f"--output-activation: got {output} with --loss {loss}, which takes logits and applies the "
                f"{output} itself (it would be applied twice); expected identity (the default for this loss)"
                + (", or --loss bce with the sigmoid output" if loss == "bce_logits" else ""))
    if args.momentum and args.optimizer not in ("sgd", "rmsprop"):
        p.error(f"--momentum: got {args.momentum:g} with --optimizer {args.optimizer}; "
                "expected it only with sgd or rmsprop")
    if args.out is not None:
        _prepare_out(p, args.out)

    if args.test_size > 0:
        try:
            X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, args.test_size, seed=args.data_seed)
        except ValueError as error:
            p.error(f"--test-size: got {args.test_size:g} for {len(X)} rows of --data {args.data} ({error}); "
                    "expected a fraction that leaves rows on both sides")
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
        from . import plot  # matplotlib only when pictures are asked for

        plot.plot_loss({args.data: history}, path=args.out / "loss.png")
        print(f"wrote {args.out / 'loss.png'}")
        if X.shape[1] == 2:
            path = args.out / "decision_boundary.png"
            plot.plot_decision_boundary(model, X_train, y_train, threshold=threshold, path=path)
            print(f"wrote {path}")
        save(model, args.out / "model.npz")
        print(f"wrote {args.out / 'model.npz'} (nn.load gives the trained model back)")
    return history


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy, so History etc. are nn.train's own classes.
    from nn.cli import main as _main

    _main(sys.argv[1:])
