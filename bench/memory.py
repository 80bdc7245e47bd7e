"""Memory over long training runs: does anything pile up epoch after epoch?

    .venv/bin/python -m bench.memory                  # 100,000 Tensor epochs (2-16-16-1) + 1,000 Value epochs (2-2-1)
    .venv/bin/python -m bench.memory --tensor-epochs 5000 --value-epochs 200

It exits 1 if a run is not flat (see ``MemoryRun.is_flat``). These are the long runs; the test suite
(``tests/test_stress.py``) runs the same loops for a few thousand epochs, which is enough to catch a
graph kept per epoch (it would grow by kilobytes an epoch) but not a leak of a few bytes an epoch.

Each run trains on the reports' 21 XOR points with full-batch SGD (MSE), written as the plain loop
``zero_grad(); loss = loss_fn(model(X), y); loss.backward(); step()`` so that nothing but the engine
keeps state between epochs (``fit`` also keeps a loss history, which grows by design). The run is cut
into ``chunks``; ``tracemalloc`` records the memory held after each chunk (current) and the most held
at any moment during it (peak, reset at each chunk). Flat memory means the last chunk's current and
peak equal the first's, up to a few kB of allocator noise: no graph, gradient or cache survives an
epoch. ``tracemalloc`` slows numpy-heavy code down by a factor of 2 or so; the times printed here are
not the engine's speed (see ``bench.bench_tensor`` for that).

Three loops: the Value engine through ``nn`` (2-2-1, sigmoid), the Tensor engine through ``nn``
(2-16-16-1, ReLU/sigmoid/sigmoid as in the seed report) and the Tensor engine written directly with
``autograd.Tensor``, ``autograd.linear`` and ``autograd.mse_loss`` (no ``nn`` at all).
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import autograd
import nn
from nn import data as datasets

# Allocator noise allowed between the first and the last chunk of a run (the runs measured flat to the byte).
MEMORY_SLACK = 16 * 1024
# What one chunk may hold at its peak: the graph of one step, not of many.
PEAK_LIMIT = 2 * 1024 * 1024


@dataclass
class MemoryRun:
    """What ``measure`` saw: bytes held after each chunk (``current``) and the most held during it (``peak``)."""

    name: str
    epochs: int
    current: list[int] = field(default_factory=list)
    peak: list[int] = field(default_factory=list)
    seconds: float = 0.0
    final_loss: float = float("nan")

    @property
    def growth(self) -> int:
        """Bytes held after the last chunk minus after the first."""
        return self.current[-1] - self.current[0]

    @property
    def peak_growth(self) -> int:
        """The last chunk's peak minus the first chunk's."""
        return self.peak[-1] - self.peak[0]

    @property
    def is_flat(self) -> bool:
        """The loss stayed finite, and neither what is held nor the peak grew beyond ``MEMORY_SLACK``."""
        return (math.isfinite(self.final_loss) and abs(self.growth) <= MEMORY_SLACK
                and abs(self.peak_growth) <= MEMORY_SLACK and self.peak[-1] < PEAK_LIMIT)

    def __str__(self) -> str:
        kb = 1024
        return (f"{self.name}: {self.epochs} epochs in {self.seconds:.1f} s (under tracemalloc), final loss "
                f"{self.final_loss:.4g}; held after the first / last chunk {self.current[0] / kb:.1f} / "
                f"{self.current[-1] / kb:.1f} kB (growth {self.growth / kb:+.2f} kB), peak during the first / "
                f"last chunk {self.peak[0] / kb:.1f} / {self.peak[-1] / kb:.1f} kB "
                f"(growth {self.peak_growth / kb:+.2f} kB)")


def measure(name: str, step: Callable[[], float], epochs: int, chunks: int = 10, warmup: int = 20) -> MemoryRun:
    """Run ``step`` (one epoch, returning its loss) ``warmup`` times, then ``epochs`` times in ``chunks``
    under tracemalloc, recording memory after and during each chunk."""
    if epochs < chunks:
        raise ValueError(f"epochs must be >= chunks ({chunks}), got {epochs}")
    for _ in range(warmup):  # optimizer state, numpy's and the engine's small caches
        step()
    gc.collect()
    run = MemoryRun(name, epochs)
    # Filled in place: appending ints to lists would itself allocate (and show as growth).
    currents, peaks = np.zeros(chunks, dtype=np.int64), np.zeros(chunks, dtype=np.int64)
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    start = time.perf_counter()
    try:
        per_chunk, extra = divmod(epochs, chunks)
        loss = float("nan")
        for c in range(chunks):
            tracemalloc.reset_peak()
            for _ in range(per_chunk + (1 if c < extra else 0)):
                loss = step()
            currents[c], peaks[c] = tracemalloc.get_traced_memory()
    finally:
        run.seconds = time.perf_counter() - start
        if not was_tracing:
            tracemalloc.stop()
    run.current, run.peak = currents.tolist(), peaks.tolist()
    run.final_loss = loss
    return run


def nn_step(engine: str, n_in: int, hidden: list[int], activations: list[str], lr: float = 1.0,
            seed: int = 0) -> Callable[[], float]:
    """One full-batch SGD epoch of ``nn.MLP`` on the XOR points, as a closure (the model lives in it)."""
    X, y = datasets.generate_XOR_easy()
    model = nn.MLP(n_in, hidden, 1, activations=activations, seed=seed, engine=engine)
    optimizer, loss_fn = nn.SGD(model.parameters(), lr=lr), nn.MSELoss()
    inputs = nn.layers.ENGINES[engine].as_input(X)

    def step() -> float:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), y)
        loss.backward()
        optimizer.step()
        return float(loss.data)

    return step


def raw_tensor_step(sizes: tuple[int, ...] = (2, 16, 16, 1), lr: float = 1.0, seed: int = 0) -> Callable[[], float]:
    """One full-batch SGD epoch of a ReLU/sigmoid/sigmoid MLP written with autograd.Tensor alone."""
    X, y = datasets.generate_XOR_easy()
    X, y = autograd.Tensor(X), y.reshape(-1, 1)
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params += [autograd.Tensor(rng.standard_normal((n_out, n_in)), requires_grad=True),
                   autograd.Tensor(rng.standard_normal(n_out), requires_grad=True)]

    def step() -> float:
        h = X
        for layer, (W, b) in enumerate(zip(params[::2], params[1::2])):
            z = autograd.linear(h, W, b)
            h = z.relu() if layer == 0 else z.sigmoid()
        loss = autograd.mse_loss(h, y)
        loss.backward()
        for p in params:
            p.data = p.data - lr * p.grad
            p.grad = None
        return float(loss.data)

    return step


def value_run(epochs: int = 1000, chunks: int = 10) -> MemoryRun:
    """The Value engine: a 2-2-1 sigmoid MLP through nn."""
    return measure("Value engine, nn 2-2-1", nn_step("value", 2, [2], ["sigmoid", "sigmoid"]), epochs, chunks)


def tensor_run(epochs: int = 100_000, chunks: int = 10, raw: bool = False) -> MemoryRun:
    """The Tensor engine: the seed report's 2-16-16-1 MLP, through nn or written with Tensors directly."""
    if raw:
        return measure("Tensor engine, raw autograd 2-16-16-1", raw_tensor_step(), epochs, chunks)
    return measure("Tensor engine, nn 2-16-16-1", nn_step("tensor", 2, [16, 16], ["relu", "sigmoid", "sigmoid"]),
                   epochs, chunks)


def main(argv: list[str] | None = None) -> list[MemoryRun]:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n")[0])
    parser.add_argument("--tensor-epochs", type=int, default=100_000, help="epochs of each Tensor run (default 1e5)")
    parser.add_argument("--value-epochs", type=int, default=1000, help="epochs of the Value run (default 1000)")
    parser.add_argument("--chunks", type=int, default=10, help="measurements per run (default 10)")
    args = parser.parse_args(argv)
    if args.chunks < 1:
        parser.error(f"--chunks must be at least 1, got {args.chunks}")
    for option, epochs in (("--tensor-epochs", args.tensor_epochs), ("--value-epochs", args.value_epochs)):
        if epochs < args.chunks:
            parser.error(f"{option} must be at least --chunks ({args.chunks}), got {epochs}")
    runs = []
    for make in (lambda: value_run(args.value_epochs, args.chunks),
                 lambda: tensor_run(args.tensor_epochs, args.chunks),
                 lambda: tensor_run(args.tensor_epochs, args.chunks, raw=True)):
        run = make()
        print(run, flush=True)
        print("  held after each chunk (kB):", " ".join(f"{c / 1024:.1f}" for c in run.current), flush=True)
        print("  flat" if run.is_flat else f"  NOT FLAT (allowed growth {MEMORY_SLACK / 1024:.0f} kB, "
              f"peak under {PEAK_LIMIT / 1024 ** 2:.0f} MB)", flush=True)
        runs.append(run)
    return runs


if __name__ == "__main__":
    sys.exit(0 if all(run.is_flat for run in main()) else 1)
