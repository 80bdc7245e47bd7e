"""One training step of the digits CNN: our Tensor engine against PyTorch CPU (one thread), same weights.

    .venv/bin/python -m bench.bench_cnn --clock cpu            # float64 and float32, ~30 s
    .venv/bin/python -m bench.bench_cnn --quick                # a smoke run
    .venv/bin/python -m bench.bench_cnn --repeat 15 --clock wall

Workload: ``nn.cnn.digits_cnn`` (conv16-ReLU-pool-conv32-ReLU-pool-flatten-dropout-dense, Xavier, seed 0)
on one batch of 64 digits (1×8×8): forward, softmax cross-entropy, backward, one Adam step (lr 0.005).
PyTorch runs ``nn.to_torch`` of the same model (same weights) with ``torch.optim.Adam``. Dropout is
switched off (evaluation mode) in both, so the two compute the same thing: before timing, one step from
the same weights must give the same loss (1e-10 in float64) and the same new weights.

Each repeat times a block of steps per engine, the engines interleaved (ours, torch, ours, torch, ...) so a
change of load on the shared machine hits both alike; the table shows medians and ours / torch.
``--clock cpu`` measures the process's CPU time (steadier on a busy machine), ``wall`` the elapsed time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy starts OpenBLAS's threads

import numpy as np

import nn
from autograd import Tensor
from nn.cnn import digits_cnn

try:
    import torch

    torch.set_num_threads(1)
except ImportError:
    torch = None

BATCH, LR = 64, 0.005


def make_ours(dtype):
    model = digits_cnn("relu", "xavier_uniform", seed=0).eval()
    for p in model.parameters():
        p.data = p.data.astype(dtype)
    opt = nn.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()

    def step(X, y):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        assert loss.dtype == dtype  # the whole step ran in dtype
        return loss

    return model, step


def make_torch(model, dtype):
    tmodel = nn.to_torch(model).to({np.float64: torch.float64, np.float32: torch.float32}[dtype]).eval()
    opt = torch.optim.Adam(tmodel.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(X, y):
        opt.zero_grad()
        loss = loss_fn(tmodel(X), y)
        loss.backward()
        opt.step()
        return loss

    return tmodel, step


def batch(dtype):
    X_train, _, y_train, _ = nn.data.digits_split()
    rows = np.random.default_rng(0).permutation(len(y_train))[:BATCH]
    return X_train[rows].astype(dtype), y_train[rows]


def check_agreement(dtype) -> float:
    """One step from the same weights on both: the largest difference of loss and new weights."""
    X, y = batch(dtype)
    model, ours = make_ours(dtype)
    tmodel, theirs = make_torch(model, dtype)
    a = ours(Tensor(X, dtype=dtype), y).item()
    b = theirs(torch.from_numpy(X), torch.from_numpy(y)).item()
    ta = {k: v.detach().numpy() for k, v in tmodel.state_dict().items()}
    diff = max([abs(a - b)] + [float(np.max(np.abs(v - ta[k]))) for k, v in model.state_dict().items()])
    limit = 1e-10 if dtype == np.float64 else 1e-4
    if not diff <= limit:
        raise SystemExit(f"the engines disagree after one step in {np.dtype(dtype).name}: {diff:.3g} > {limit:g}")
    return diff


def measure(dtype, repeat: int, number: int, clock) -> dict[str, list[float]]:
    X, y = batch(dtype)
    model, ours = make_ours(dtype)
    engines = {"ours": (ours, Tensor(X, dtype=dtype), y)}
    if torch is not None:
        _, theirs = make_torch(model, dtype)
        engines["torch"] = (theirs, torch.from_numpy(X), torch.from_numpy(y))
    for step, xb, yb in engines.values():  # warm up
        for _ in range(3):
            step(xb, yb)
    times: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(repeat):
        for name, (step, xb, yb) in engines.items():
            start = clock()
            for _ in range(number):
                step(xb, yb)
            times[name].append((clock() - start) / number)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_cnn", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=11, help="interleaved repeats (default 11)")
    parser.add_argument("--number", type=int, default=30, help="steps per timed block (default 30)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--quick", action="store_true", help="3 repeats of 5 steps")
    args = parser.parse_args(argv)
    repeat, number = (3, 5) if args.quick else (args.repeat, args.number)
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    print(f"digits CNN, one training step (forward, cross-entropy, backward, Adam) at batch {BATCH}; "
          f"{args.clock} clock, median of {repeat} repeats of {number} steps; one thread; load "
          f"{os.getloadavg()[0]:.1f}")
    if torch is None:
        print("PyTorch is not installed (pip install torch==2.13.0): timing ours only")
    print(f"{'dtype':<8} {'ours':>10} {'torch':>10} {'ours / torch':>13} {'spread ours':>12}  agreement")
    for dtype in (np.float64, np.float32):
        agreement = f"{check_agreement(dtype):.1e}" if torch is not None else "-"
        times = measure(dtype, repeat, number, clock)
        ours = statistics.median(times["ours"])
        spread = (max(times["ours"]) - min(times["ours"])) / ours
        if torch is not None:
            theirs = statistics.median(times["torch"])
            print(f"{np.dtype(dtype).name:<8} {1e3 * ours:8.2f} ms {1e3 * theirs:8.2f} ms {ours / theirs:12.2f}x "
                  f"{100 * spread:11.0f}%  {agreement}")
        else:
            print(f"{np.dtype(dtype).name:<8} {1e3 * ours:8.2f} ms {'-':>10} {'-':>13} {100 * spread:11.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
