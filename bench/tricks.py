"""Does each speed trick of the engines still pay? An in-process A/B of each against the plain path.

    .venv/bin/python -m bench.tricks                 # every trick, 9 interleaved rounds
    .venv/bin/python -m bench.tricks --rounds 15 --only propagate

A speed trick stays only where it pays at least 10% (ARCHITECTURE.md); its comment quotes this script.
Each trick is switched off by putting the plain path in its place (what the code would be without it), and
each round times the workload once with the trick and once without, alternating, in CPU time of this
process with the collector on, so a change of load on the shared machine hits both alike. The table gives
the median over rounds and the ratio without / with: above 1.10 the trick pays its 10%.

- ``engine-op propagate``: ``_EngineOp.propagate`` (reads a node's input slots and adds into their grads)
  against ``ScalarOp.propagate`` (the op's contributions list, added by ``graph.add_contributions``), on the
  backward pass of a W2 epoch with binary ops;
- ``dot propagate``: ``_DotOp.propagate`` (one pass over the shared tuples) against the generic path over
  ``_dot_derivatives``, on the backward pass of a W2 epoch with dot nodes;
- ``tensor matrix products``: ``_matrix_product`` (``ndarray.dot`` for arrays of one or two axes) against
  ``@`` everywhere, on 200 forward and backward passes of ``(a @ b).sum()`` for 4x4 leaves (the fixed cost)
  and on 20 fused W2 epochs' forward and backward (``linear``, activations, ``mse_loss``, 100 points);
- ``tensor sums over leading axes``: ``tensor.sum_leading`` (Σ over a batch's rows as one BLAS product 1ᵀX)
  against ``np.add.reduce``, on 20 fused W2 epochs (the bias gradient of ``linear``), on 20 generic ones
  (``a @ W.T + b``: the bias gradient of the broadcast add) and on 2,000 backward passes of ``(x + b).sum()``.
"""

from __future__ import annotations

import argparse
import operator
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np

from autograd import Tensor, linear, mse_loss, tensor, value
from autograd.value import ScalarOp

from .bench_scalar import OursMLP, init_mlp, make_data


@contextmanager
def _replaced(owner: object, name: str, plain: object):
    original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
    setattr(owner, name, plain)
    try:
        yield
    finally:
        setattr(owner, name, original)


def _net(style: str) -> OursMLP:
    weights, biases = init_mlp()
    xs, ys = make_data()
    return OursMLP(style, weights, biases, xs, ys)


def _backward_of(style: str) -> Callable[[], float]:
    net = _net(style)

    def run() -> float:
        loss = net.loss()
        start = time.process_time()
        loss.backward()
        elapsed = time.process_time() - start
        for p in net.parameters:
            p.grad = 0.0
        return elapsed

    return run


def _tensor_fixed_cost() -> Callable[[], float]:
    rng = np.random.default_rng(0)
    a, b = (Tensor(rng.normal(size=(4, 4)), requires_grad=True) for _ in range(2))

    def run() -> float:
        start = time.process_time()
        for _ in range(200):
            (a @ b).sum().backward()
            a.grad = b.grad = None
        return time.process_time() - start

    return run


def _tensor_w2(generic: bool = False) -> Callable[[], float]:
    rng = np.random.default_rng(0)
    sizes = (2, 16, 16, 1)
    params = [(Tensor(rng.normal(size=(m, n)), requires_grad=True), Tensor(rng.normal(size=m), requires_grad=True))
              for n, m in zip(sizes[:-1], sizes[1:])]
    x, y = Tensor(rng.uniform(size=(100, 2))), Tensor(rng.uniform(size=(100, 1)))

    def run() -> float:
        start = time.process_time()
        for _ in range(20):
            a = x
            for (w, b), name in zip(params, ("relu", "relu", "sigmoid")):
                a = getattr(a @ w.T + b if generic else linear(a, w, b), name)()
            (((a - y) ** 2).mean() if generic else mse_loss(a, y)).backward()
            for w, b in params:
                w.grad = b.grad = None
        return time.process_time() - start

    return run


def _plain_sum(x: np.ndarray, lead: int) -> np.ndarray:
    """What ``tensor.sum_leading`` computes, by numpy's reduction."""
    return np.add.reduce(x, axis=tuple(range(lead)))


def _plain_sums():
    """``tensor.sum_leading`` switched off: numpy's reduction in its place."""
    return _replaced(tensor, "sum_leading", _plain_sum)


def _bias_gradient() -> Callable[[], float]:
    """2,000 backward passes of ``(x + b).sum()`` for a (100, 16) batch and a bias b: the node whose gradient
    is the sum over the batch's rows."""
    rng = np.random.default_rng(0)
    x, b = Tensor(rng.normal(size=(100, 16))), Tensor(rng.normal(size=16), requires_grad=True)
    losses = [(x + b).sum() for _ in range(2000)]

    def run() -> float:
        start = time.process_time()
        for loss in losses:
            loss.backward()
            b.grad = None
        return time.process_time() - start

    return run


TRICKS: dict[str, tuple[Callable[[], Callable[[], float]], Callable]] = {
    "engine-op propagate": (lambda: _backward_of("binary"),
                            lambda: _replaced(value._EngineOp, "propagate", ScalarOp.propagate)),
    "dot propagate": (lambda: _backward_of("dot"),
                      lambda: _replaced(value._DotOp, "propagate", ScalarOp.propagate)),
    "tensor matrix products, 4x4 fixed cost": (_tensor_fixed_cost,
                                               lambda: _replaced(tensor, "_matrix_product", operator.matmul)),
    "tensor matrix products, fused W2": (_tensor_w2, lambda: _replaced(tensor, "_matrix_product", operator.matmul)),
    "tensor sums over leading axes, fused W2": (_tensor_w2, _plain_sums),
    "tensor sums over leading axes, generic W2": (lambda: _tensor_w2(generic=True), _plain_sums),
    "tensor sums over leading axes, bias gradient": (_bias_gradient, _plain_sums),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds per trick (default 9)")
    parser.add_argument("--only", help="tricks whose name contains this")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    print(f"Python {sys.version.split()[0]}; median over {args.rounds} interleaved rounds, CPU time, collector on\n")
    print("| trick | with (ms) | without (ms) | without / with |\n|---|---|---|---|")
    chosen = {name: trick for name, trick in TRICKS.items() if not args.only or args.only.lower() in name.lower()}
    if not chosen:
        parser.error(f"--only {args.only!r} matches no trick; expected part of one of: {', '.join(TRICKS)}")
    for name, (make, switch_off) in chosen.items():
        run = make()
        run()  # warm-up
        with_trick, without = [], []
        for _ in range(args.rounds):
            with_trick.append(run())
            with switch_off():
                without.append(run())
        a, b = statistics.median(with_trick), statistics.median(without)
        print(f"| {name} | {1e3 * a:.2f} | {1e3 * b:.2f} | {b / a:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
