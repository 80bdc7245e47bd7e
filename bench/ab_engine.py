"""A/B of the engine's first-order speed between two checkouts (issue 12 item 5: not slower than before).

    .venv/bin/python -m bench.ab_engine /tmp/engine-before .          # before, after (6 rounds)
    .venv/bin/python -m bench.ab_engine A B --rounds 10 --reps 20 --only tensor

``git worktree add /tmp/engine-before <commit>`` gives a checkout of the commit before a change.

Each round runs one sample process per checkout, alternating A, B, A, B, ... (this file with that
checkout first on ``PYTHONPATH``), so a change of load on the shared machine hits both alike. A sample
times, in CPU time of its own process, the forward pass (graph building) and the backward pass of
these workloads, each ``--reps`` times after one warm-up:

- ``W2 dot`` / ``W2 binary``: a 2-16-16-1 tanh MLP on 64 points with ``Value``: one ``autograd.dot`` node
  per neuron, or binary ``+``/``*`` only;
- ``Tensor linear``: that MLP with ``autograd.linear``, ``tanh`` and ``autograd.mse_loss`` (x 50 reps);
- ``Tensor generic``: ``a @ W.T + b``, ``relu``, ``((a - y) ** 2).mean()`` (x 50 reps);
- ``Tensor sigmoid``: ``linear`` then ``sigmoid``, ``softplus``, ``mean`` (x 50 reps): the elementwise VJPs;
- ``Tensor fixed``: ``(a @ b).sum()`` on 4x4 leaves (x 500 reps): the fixed cost of two nodes and a backward.

``--paired`` runs both checkouts in ONE process instead (A's ``autograd`` copied in as ``autograd_a``; run
it from checkout B), each workload timed on A and then B (the order alternating by round), and gives the
median of the paired ratios B / A: on a shared machine whose speed drifts between processes, the pairs
are what stays comparable (``--paired --rounds 21 --only tensor``).

The table gives the median over rounds of each checkout's mean milliseconds per pass, and B / A.
Only figures, never asserts: run it on a quiet machine and read the ratios.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKLOADS = ("W2 dot", "W2 binary", "Tensor linear", "Tensor generic", "Tensor sigmoid", "Tensor fixed")


def _builds(autograd) -> dict:
    """Each workload's graph-building function, on the engine ``autograd`` (a checkout's package)."""
    import random

    import numpy as np

    Tensor, Value, dot, linear, mse_loss = (autograd.Tensor, autograd.Value, autograd.dot, autograd.linear,
                                            autograd.mse_loss)
    rng = random.Random(0)
    sizes = [2, 16, 16, 1]
    weights = [[[Value(rng.uniform(-1, 1)) for _ in range(sizes[l])] for _ in range(sizes[l + 1])] for l in range(3)]
    biases = [[Value(0.0) for _ in range(sizes[l + 1])] for l in range(3)]
    points = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(64)]
    targets = [rng.uniform(-1, 1) for _ in range(64)]

    def w2_dot():
        terms = []
        for x, y in zip(points, targets):
            a = tuple(Value(v) for v in x)
            for l in range(3):
                z = [dot(tuple(weights[l][j]), a, biases[l][j]) for j in range(sizes[l + 1])]
                a = tuple(zi.tanh() for zi in z) if l < 2 else tuple(z)
            terms.append((a[0] - y) ** 2)
        return autograd.sum(terms) * (1 / 64)

    def w2_binary():
        total = Value(0.0)
        for x, y in zip(points, targets):
            a = [Value(v) for v in x]
            for l in range(3):
                z = []
                for j in range(sizes[l + 1]):
                    s = biases[l][j]
                    for w, ai in zip(weights[l][j], a):
                        s = s + w * ai
                    z.append(s)
                a = [zi.tanh() for zi in z] if l < 2 else z
            d = a[0] - y
            total = total + d * d
        return total * (1 / 64)

    nrng = np.random.default_rng(0)
    tw = [Tensor(nrng.normal(size=(sizes[l + 1], sizes[l])), requires_grad=True) for l in range(3)]
    tb = [Tensor(np.zeros(sizes[l + 1]), requires_grad=True) for l in range(3)]
    tx, ty = nrng.normal(size=(64, 2)), nrng.normal(size=(64, 1))
    fa, fb = (Tensor(nrng.normal(size=(4, 4)), requires_grad=True) for _ in range(2))

    def tensor_linear():
        a = Tensor(tx)
        for l in range(3):
            a = linear(a, tw[l], tb[l])
            if l < 2:
                a = a.tanh()
        return mse_loss(a, ty)

    def tensor_generic():
        a = Tensor(tx)
        for l in range(3):
            a = a @ tw[l].T + tb[l]
            if l < 2:
                a = a.relu()
        return ((a - ty) ** 2).mean()

    def tensor_sigmoid():
        a = linear(Tensor(tx), tw[0], tb[0]).sigmoid()
        a = linear(a, tw[1], tb[1]).softplus()
        return linear(a, tw[2], tb[2]).sigmoid().mean()

    def tensor_fixed():
        return (fa @ fb).sum()

    builds = (w2_dot, w2_binary, tensor_linear, tensor_generic, tensor_sigmoid, tensor_fixed)
    return {name: (build, tw + tb + [fa, fb]) for name, build in zip(WORKLOADS, builds)}


def _measure(build, leaves: list, count: int) -> tuple[float, float]:
    """Mean CPU milliseconds of ``count`` forward passes (``build()``) and of their backward passes."""
    forward = backward = 0.0
    for _ in range(count):
        t0 = time.process_time()
        loss = build()
        t1 = time.process_time()
        loss.backward()
        t2 = time.process_time()
        forward += t1 - t0
        backward += t2 - t1
        del loss
    for p in leaves:
        p.grad = None
    return 1e3 * forward / count, 1e3 * backward / count


def _count(name: str, reps: int) -> int:
    return reps * (500 if name == "Tensor fixed" else 50 if name.startswith("Tensor") else 1)


def _sample(reps: int, only: str | None) -> None:
    """Time every workload on the ``autograd`` found on sys.path; print ``name<TAB>fwd ms<TAB>bwd ms`` lines."""
    import autograd

    for name, (build, leaves) in _builds(autograd).items():
        if only and only.lower() not in name.lower():
            continue
        _measure(build, leaves, 1)
        forward, backward = _measure(build, leaves, _count(name, reps))
        print(f"{name}\t{forward:.5f}\t{backward:.5f}", flush=True)


def _paired(trees: list[Path], rounds: int, reps: int, only: str | None) -> None:
    """Both checkouts in this one process (A's package copied in as ``autograd_a``), each workload timed
    on A and on B in turn (the order alternating by round): the median of the paired ratios B / A."""
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(trees[0] / "autograd", Path(tmp) / "autograd_a")
        sys.path[:0] = [str(trees[1]), tmp]
        autograd_a = importlib.import_module("autograd_a")
        autograd_b = importlib.import_module("autograd")
        if Path(autograd_b.__file__).resolve().parent != trees[1] / "autograd":
            raise SystemExit(f"--paired: B's autograd came from {autograd_b.__file__}; run it from B")
        builds = [_builds(autograd_a), _builds(autograd_b)]
        names = [name for name in WORKLOADS if not only or only.lower() in name.lower()]
        ratios: dict[str, list[list[float]]] = {name: [[], [], []] for name in names}
        for r in range(rounds):
            for name in names:
                times = [None, None]
                for side in ((0, 1) if r % 2 == 0 else (1, 0)):
                    build, leaves = builds[side][name]
                    _measure(build, leaves, 1)
                    times[side] = _measure(build, leaves, _count(name, reps))
                (fa, ba), (fb, bb) = times
                for index, (a, b) in enumerate(((fa, fb), (ba, bb), (fa + ba, fb + bb))):
                    ratios[name][index].append(b / a)
    print(f"A = {trees[0]}\nB = {trees[1]}\none process, {rounds} rounds: the median of the paired B / A (CPU "
          "time), with the quartiles\n")
    print("| workload | forward B / A | backward B / A | both B / A |\n|---|---|---|---|")
    for name, columns in ratios.items():
        cells = [f"{statistics.median(c):.3f} ({statistics.quantiles(c, n=4)[0]:.3f}-"
                 f"{statistics.quantiles(c, n=4)[2]:.3f})" for c in columns]
        print(f"| {name} | {' | '.join(cells)} |")


def _run_sample(tree: Path, reps: int, only: str | None) -> dict[str, tuple[float, float]]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    command = [sys.executable, str(Path(__file__).resolve()), "--sample", str(reps)]
    command += ["--only", only] if only else []
    # cwd: the checkout, so nothing else on sys.path could supply autograd
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"the sample on {tree} failed (exit {done.returncode}):\n{done.stderr}")
    result = {}
    for line in done.stdout.splitlines():
        name, forward, backward = line.split("\t")
        result[name] = (float(forward), float(backward))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("a", type=Path, nargs="?", help="checkout A (before)")
    parser.add_argument("b", type=Path, nargs="?", help="checkout B (after)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--only", help="workloads whose name contains this (e.g. tensor)")
    parser.add_argument("--paired", action="store_true", help="both checkouts in one process, paired ratios")
    parser.add_argument("--sample", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sample is not None:
        _sample(args.sample, args.only)
        return 0
    if args.a is None or args.b is None:
        parser.error("expected two checkouts, A (before) and B (after)")
    if args.rounds < 1 or args.reps < 1:
        parser.error(f"--rounds and --reps must be at least 1, got {args.rounds} and {args.reps}")
    trees = [args.a.resolve(), args.b.resolve()]
    for tree in trees:
        if not (tree / "autograd" / "__init__.py").is_file():
            parser.error(f"{tree} is not a checkout of this project (no autograd/__init__.py)")
    if args.paired:
        _paired(trees, args.rounds, args.reps, args.only)
        return 0
    samples: list[list[dict]] = [[], []]  # by side, not by path: A and B may be one checkout (an A/A noise check)
    for _ in range(args.rounds):
        for side, tree in enumerate(trees):
            samples[side].append(_run_sample(tree, args.reps, args.only))
    if not samples[0][0]:
        parser.error(f"--only {args.only!r} matches no workload; expected part of one of {', '.join(WORKLOADS)}")
    print(f"A = {trees[0]}\nB = {trees[1]}\nmedian over {args.rounds} rounds of mean ms per pass (CPU time)\n")
    print("| workload | pass | A ms | B ms | B / A |\n|---|---|---|---|---|")
    for name in samples[0][0]:
        for index, which in enumerate(("forward", "backward")):
            a, b = (statistics.median(s[name][index] for s in samples[side]) for side in (0, 1))
            print(f"| {name} | {which} | {a:.4f} | {b:.4f} | {b / a:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
