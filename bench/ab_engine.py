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
- ``Tensor sigmoid``: ``linear`` then ``sigmoid``, ``softplus``, ``mean`` (x 50 reps): the elementwise VJPs.

The table gives the median over rounds of each checkout's mean milliseconds per pass, and B / A.
Only figures, never asserts: run it on a quiet machine and read the ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

WORKLOADS = ("W2 dot", "W2 binary", "Tensor linear", "Tensor generic", "Tensor sigmoid")


def _sample(reps: int, only: str | None) -> None:
    """Time every workload on the ``autograd`` found on sys.path; print ``name<TAB>fwd ms<TAB>bwd ms`` lines."""
    import random

    import numpy as np

    import autograd
    from autograd import Tensor, Value, dot, linear, mse_loss

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

    def measure(build, count):
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
        for p in tw + tb:
            p.grad = None
        return 1e3 * forward / count, 1e3 * backward / count

    builds = dict(zip(WORKLOADS, (w2_dot, w2_binary, tensor_linear, tensor_generic, tensor_sigmoid)))
    for name, build in builds.items():
        if only and only.lower() not in name.lower():
            continue
        count = reps * (50 if name.startswith("Tensor") else 1)
        measure(build, 1)
        forward, backward = measure(build, count)
        print(f"{name}\t{forward:.5f}\t{backward:.5f}", flush=True)


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
    parser.add_argument("--sample", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sample is not None:
        _sample(args.sample, args.only)
        return 0
    if args.a is None or args.b is None:
        parser.error("expected two checkouts, A (before) and B (after)")
    trees = [args.a.resolve(), args.b.resolve()]
    for tree in trees:
        if not (tree / "autograd" / "__init__.py").is_file():
            parser.error(f"{tree} is not a checkout of this project (no autograd/__init__.py)")
    samples: dict[Path, list[dict]] = {tree: [] for tree in trees}
    for _ in range(args.rounds):
        for tree in trees:
            samples[tree].append(_run_sample(tree, args.reps, args.only))
    print(f"A = {trees[0]}\nB = {trees[1]}\nmedian over {args.rounds} rounds of mean ms per pass (CPU time)\n")
    print("| workload | pass | A ms | B ms | B / A |\n|---|---|---|---|---|")
    for name in samples[trees[0]][0]:
        for index, which in enumerate(("forward", "backward")):
            a, b = (statistics.median(s[name][index] for s in samples[tree]) for tree in trees)
            print(f"| {name} | {which} | {a:.4f} | {b:.4f} | {b / a:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
