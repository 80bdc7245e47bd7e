"""Tensor-engine benchmark: our ``Tensor`` against the hand-written numpy backprop and PyTorch (CPU, float64).

    .venv/bin/python -m bench.bench_tensor            # full run (~1 min, with the measured 100,000 epochs)
    .venv/bin/python -m bench.bench_tensor --quick    # < 20 s
    .venv/bin/python -m bench.bench_tensor --repeat 31 --large-epochs 100000

Workload: one full-batch epoch (forward, MSE loss, backward, SGD step with lr 0.1) of an MLP with
ReLU, sigmoid, sigmoid (the reports' main configuration), on the reports' linearly separable set:
2-16-16-1 on 100 points and 2-64-64-1 on 10,000 points. Every engine starts from the same weights.

- ``tensor``: ``autograd.linear`` (x Wᵀ + b as one node), the activation methods, ``autograd.mse_loss``,
  ``backward()``, then ``p.data -= lr * p.grad; p.grad = None`` for each parameter;
- ``generic``: the same step with generic ops, as issue 18 writes it: ``a @ W + b`` (W held as
  (n_in, n_out)), the activation methods, ``((out - y) ** 2).mean()``; ``generic W.T``: ``a @ W.T + b`` on
  nn's (n_out, n_in) weights, one transpose node more per layer;
- ``nn loop``: the same network as ``nn.MLP(..., engine="tensor")`` trained by the loop a PyTorch user
  writes: ``opt.zero_grad(); loss = nn.MSELoss()(model(X), y); loss.backward(); opt.step()`` with ``nn.SGD``;
- ``nn fit``: that model trained by ``nn.fit`` (which also records the loss and accuracy of every epoch
  and checks for divergence); one ``fit`` call runs a whole timed block;
- ``floor generic`` / ``floor fused``: the generic and the fused step on ``bench.floor``, a micrograd-style engine
  on arrays (one closure per node) with nothing but the arithmetic: the least a Python engine pays per node;
- ``numpy``: ``nn.numpy_reference.NumpyMLP.sgd_step``, backprop written by hand (no graph at all);
- ``torch``: the same with ``torch.nn.functional`` (``linear``, ``relu``, ``sigmoid``, ``mse_loss``),
  float64 tensors, ``backward()``, an in-place update under ``torch.no_grad()`` and ``grad = None``.

Before timing, one epoch from the same weights must give every engine the same loss and the same new
weights to 1e-12, so the comparison is between equal computations. Times are medians over
``--repeat`` repeats; each repeat times a block of epochs per engine, the engines interleaved so a
change of load on the shared machine hits all alike. The garbage collector stays on, as for a user.
Memory: ``tracemalloc`` current and peak before and after a long run of our engine; flat means no
graph is retained from one epoch to the next.

Threads: every engine runs on one thread (OpenBLAS for numpy and ours, intra-op threads for
PyTorch), so the figures compare the engines rather than the scheduling on a shared 2-core machine.
Set OPENBLAS_NUM_THREADS (PyTorch follows it) before the run to change that.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
import timeit
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy is imported and OpenBLAS starts its threads

import numpy as np

from autograd import Tensor, linear, mse_loss
from bench import floor
from nn import MLP, SGD, MSELoss, fit
from nn.numpy_reference import NumpyMLP

try:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(int(os.environ["OPENBLAS_NUM_THREADS"]))
except ImportError:  # the benchmark still runs, without the PyTorch column
    torch = F = None

ACTIVATIONS = ("relu", "sigmoid", "sigmoid")
LR = 0.1
TOLERANCE = 1e-12


@dataclass(frozen=True)
class Config:
    name: str
    sizes: tuple[int, ...]
    n_points: int
    activations: tuple[str, ...] = ACTIVATIONS


SMALL = Config("2-16-16-1, 100 points", (2, 16, 16, 1), 100)
LARGE = Config("2-64-64-1, 10,000 points", (2, 64, 64, 1), 10_000)
#: issue 18's W2: the scalar benchmark's network (ReLU, ReLU, sigmoid), here as one full-batch epoch
W2 = Config("W2: 2-16-16-1, 100 points", (2, 16, 16, 1), 100, ("relu", "relu", "sigmoid"))


def dataset(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The reports' linear set: n points uniform in the unit square, label 1 where x₀ <= x₁."""
    X = np.random.default_rng(seed).uniform(0.0, 1.0, (n, 2))
    return X, (X[:, :1] <= X[:, 1:]).astype(np.float64)


# -- the three engines: each makes an epoch function and reports its weights -------------------

class TensorEngine:
    """Our engine, written the way a user writes a training step: the fused ops (one node per layer)."""

    def __init__(self, state: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray,
                 activations: tuple[str, ...] = ACTIVATIONS):
        self.params = [Tensor(state[f"{kind}[{l}]"], f"{kind}[{l}]", requires_grad=True)
                       for l in range(1, len(activations) + 1) for kind in ("W", "b")]
        self.X, self.Y = Tensor(X), Tensor(Y)
        self.activations = activations

    def epoch(self) -> float:
        a = self.X
        for (W, b), name in zip(zip(self.params[::2], self.params[1::2]), self.activations):
            a = getattr(linear(a, W, b), name)()
        return self._step(mse_loss(a, self.Y))

    def _step(self, loss: Tensor) -> float:
        """backward, then p ← p − lr ∂L/∂p for each parameter (every Tensor engine's end of an epoch)."""
        loss.backward()
        for p in self.params:
            p.data -= LR * p.grad
            p.grad = None
        return loss.data

    def state(self) -> dict[str, np.ndarray]:
        return {p.label: p.data for p in self.params}


class GenericEngine(TensorEngine):
    """The same step with generic Tensor ops only, as issue 18 writes it: ``a @ W + b`` with each W held as
    (n_in, n_out) (the reports' layout), the activation methods, ``((out - y) ** 2).mean()``: 3 nodes per
    layer and 3 for the loss, where the fused ops make 2 and 1."""

    def __init__(self, state: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray,
                 activations: tuple[str, ...] = ACTIVATIONS):
        super().__init__(state, X, Y, activations)
        for W in self.params[::2]:
            W.data = W.data.T.copy()  # (n_in, n_out), contiguous, as a user who writes x @ W + b holds it

    def epoch(self) -> float:
        a = self.X
        for (W, b), name in zip(zip(self.params[::2], self.params[1::2]), self.activations):
            a = getattr(a @ W + b, name)()
        return self._step(((a - self.Y) ** 2).mean())

    def state(self) -> dict[str, np.ndarray]:
        return {p.label: p.data.T if p.data.ndim == 2 else p.data for p in self.params}


class GenericTransposedEngine(TensorEngine):
    """The generic step on weights in nn's (n_out, n_in) layout: ``a @ W.T + b`` (4 nodes per layer: Wᵀ is one)."""

    def epoch(self) -> float:
        a = self.X
        for (W, b), name in zip(zip(self.params[::2], self.params[1::2]), self.activations):
            a = getattr(a @ W.T + b, name)()
        return self._step(((a - self.Y) ** 2).mean())


class NnLoopEngine:
    """``nn.MLP`` on the Tensor engine with ``nn.MSELoss`` and ``nn.SGD``: the loop of the lab reports."""

    def __init__(self, state: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray,
                 activations: tuple[str, ...] = ACTIVATIONS):
        sizes = [state["W[1]"].shape[1]] + [state[f"b[{l}]"].shape[0] for l in range(1, len(activations) + 1)]
        self.model = MLP(sizes[0], sizes[1:-1], sizes[-1], activations=list(activations), engine="tensor")
        self.model.load_state_dict(state)
        self.loss, self.optimizer = MSELoss(), SGD(self.model.parameters(), lr=LR)
        self.X, self.Y = Tensor(X), Y  # the data wrapped once, as fit does

    def epoch(self) -> float:
        self.optimizer.zero_grad()
        loss = self.loss(self.model(self.X), self.Y)
        loss.backward()
        self.optimizer.step()
        return loss.data

    def state(self) -> dict[str, np.ndarray]:
        return self.model.state_dict()


class NnFitEngine(NnLoopEngine):
    """The same model trained by ``nn.fit`` (full batch): ``epochs(n)`` is one ``fit`` call of n epochs."""

    def __init__(self, state: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray,
                 activations: tuple[str, ...] = ACTIVATIONS):
        super().__init__(state, X, Y, activations)
        self.X = X  # fit takes the arrays and converts them itself

    def epochs(self, number: int) -> float:
        return fit(self.model, self.X, self.Y, loss=self.loss, optimizer=self.optimizer, epochs=number,
                   verbose=False).loss[-1]

    def epoch(self) -> float:
        return self.epochs(1)


class FloorGenericEngine:
    """The generic step (``a @ W + b``, W held (n_in, n_out)) on ``bench.floor``: closures and nothing else."""

    def __init__(self, state: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray,
                 activations: tuple[str, ...] = ACTIVATIONS):
        self.names = list(state)
        self.params = [floor.Node(self._held(state[k].copy())) for k in self.names]
        self.X, self.Y = floor.Node(X), floor.Node(Y)
        self.activations = activations

    @staticmethod
    def _held(array: np.ndarray) -> np.ndarray:
        return array.T.copy() if array.ndim == 2 else array  # (n_in, n_out), contiguous, as GenericEngine

    def forward(self) -> floor.Node:
        a = self.X
        for W, b, name in zip(self.params[::2], self.params[1::2], self.activations):
            a = getattr(a @ W + b, name)()
        return (a - self.Y).square().mean()

    def epoch(self) -> float:
        return TensorEngine._step(self, self.forward())  # the same end of an epoch: its nodes have data and grad

    def state(self) -> dict[str, np.ndarray]:
        return {k: self._held(p.data) for k, p in zip(self.names, self.params)}


class FloorFusedEngine(FloorGenericEngine):
    """The fused step (``linear``, the activation, ``mse_loss``) on ``bench.floor``."""

    @staticmethod
    def _held(array: np.ndarray) -> np.ndarray:
        return array  # nn's (n_out, n_in), as TensorEngine

    def forward(self) -> floor.Node:
        a = self.X
        for W, b, name in zip(self.params[::2], self.params[1::2], self.activations):
            a = getattr(floor.linear(a, W, b), name)()
        return floor.mse_loss(a, self.Y)


class NumpyEngine:
    """The hand-written matrix-form backprop."""

    def __init__(self, state: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray,
                 activations: tuple[str, ...] = ACTIVATIONS):
        self.model = NumpyMLP.from_state_dict(state, activations)
        self.X, self.Y = X, Y

    def epoch(self) -> float:
        return self.model.sgd_step(self.X, self.Y, LR)

    def state(self) -> dict[str, np.ndarray]:
        return self.model.state_dict()


class TorchEngine:
    """PyTorch CPU in float64, functional style, the same update."""

    def __init__(self, state: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray,
                 activations: tuple[str, ...] = ACTIVATIONS):
        self.names = list(state)
        self.activations = [getattr(torch, name) for name in activations]
        self.params = [torch.tensor(state[k], dtype=torch.float64, requires_grad=True) for k in self.names]
        self.X = torch.tensor(X, dtype=torch.float64)
        self.Y = torch.tensor(Y, dtype=torch.float64)

    def epoch(self) -> float:
        a = self.X
        for W, b, f in zip(self.params[::2], self.params[1::2], self.activations):
            a = f(F.linear(a, W, b))
        loss = F.mse_loss(a, self.Y)
        loss.backward()
        with torch.no_grad():
            for p in self.params:
                p -= LR * p.grad
                p.grad = None
        return loss.item()

    def state(self) -> dict[str, np.ndarray]:
        return {k: p.detach().numpy() for k, p in zip(self.names, self.params)}


def engines_for(config: Config, seed: int = 0) -> dict[str, object]:
    """Every available engine, on the same data, from the same N(0, 1) weights."""
    X, Y = dataset(config.n_points, seed)
    state = NumpyMLP.random(config.sizes, config.activations, seed=seed).state_dict()
    classes = {"tensor": TensorEngine, "generic": GenericEngine, "generic W.T": GenericTransposedEngine,
               "nn loop": NnLoopEngine, "nn fit": NnFitEngine, "floor generic": FloorGenericEngine,
               "floor fused": FloorFusedEngine, "numpy": NumpyEngine, "torch": TorchEngine}
    return {name: engine(state, X, Y, config.activations) for name, engine in classes.items()
            if name != "torch" or torch is not None}


def check_agreement(config: Config) -> float:
    """One epoch from the same weights on every engine: the largest difference in loss or new weights."""
    made = engines_for(config, seed=1)
    losses = {name: float(engine.epoch()) for name, engine in made.items()}
    states = {name: engine.state() for name, engine in made.items()}
    worst = 0.0
    for name in made:
        worst = max(worst, abs(losses[name] - losses["numpy"]))
        for key, value in states["numpy"].items():
            worst = max(worst, float(np.max(np.abs(states[name][key] - value))))
    if worst > TOLERANCE:
        raise AssertionError(f"{config.name}: engines disagree after one epoch by {worst:.3g} > {TOLERANCE}")
    return worst


# -- timing ---------------------------------------------------------------------------------------

def time_block(engine: object, number: int) -> float:
    """Seconds per epoch over ``number`` epochs (one ``epochs(number)`` call where the engine has it, as fit)."""
    start = time.perf_counter()
    if hasattr(engine, "epochs"):
        engine.epochs(number)
    else:
        epoch: Callable[[], object] = engine.epoch
        for _ in range(number):
            epoch()
    return (time.perf_counter() - start) / number


def measure(config: Config, repeat: int, block_seconds: float) -> dict[str, list[float]]:
    """Seconds per epoch for each engine: ``repeat`` blocks each, interleaved."""
    made = engines_for(config)
    numbers = {}
    for name, engine in made.items():  # calibrate (and warm up): a block lasts about block_seconds
        per_epoch = time_block(engine, 3)
        numbers[name] = max(1, int(block_seconds / per_epoch))
    times: dict[str, list[float]] = {name: [] for name in made}
    for _ in range(repeat):
        for name, engine in made.items():
            times[name].append(time_block(engine, numbers[name]))
    return times


def measure_long_run(config: Config, epochs: int, chunk: int = 5_000) -> dict[str, float]:
    """Seconds spent in a whole training run of ``epochs`` epochs, for our engine and for the numpy
    oracle beside it: each model trains through all its epochs, in chunks that alternate between the
    two, so a burst of load from other processes slows both and the ratio stays meaningful."""
    made = engines_for(config)
    engines = {"tensor": made["tensor"], "numpy": made["numpy"]}
    spent = dict.fromkeys(engines, 0.0)
    done = 0
    while done < epochs:
        n = min(chunk, epochs - done)
        for name, engine in engines.items():
            spent[name] += time_block(engine, n) * n
        done += n
    return spent


def memory_profile(config: Config, epochs: int, engine_name: str = "tensor") -> list[tuple[int, int, int]]:
    """(epochs run, tracemalloc current, peak) at the start and after each half of ``epochs``."""
    engine = engines_for(config)[engine_name]
    engine.epoch()  # caches, lazily created numpy state
    gc.collect()
    tracemalloc.start()
    try:
        rows = [(0, *tracemalloc.get_traced_memory())]
        done = 0
        for chunk in (epochs // 2, epochs - epochs // 2):
            tracemalloc.reset_peak()
            for _ in range(chunk):
                engine.epoch()
            done += chunk
            rows.append((done, *tracemalloc.get_traced_memory()))
    finally:
        tracemalloc.stop()
    return rows


# -- the fixed cost of an op: tiny arrays, so the bookkeeping is all there is ------------------------

FIXED_SIZE = 4


def fixed_cost_functions() -> dict[str, Callable[[], object]]:
    """``(a @ b).sum()`` and its backward for 4x4 leaves: ours, the same three steps in numpy by hand, torch."""
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(FIXED_SIZE, FIXED_SIZE)), rng.normal(size=(FIXED_SIZE, FIXED_SIZE))
    a, b = Tensor(A, requires_grad=True), Tensor(B, requires_grad=True)

    def ours() -> tuple:
        (a @ b).sum().backward()
        grads = a.grad, b.grad
        a.grad = b.grad = None
        return grads

    def by_hand() -> tuple:
        c = A @ B
        c.sum()
        g = np.ones(c.shape)  # d sum / d c
        return g @ B.T, A.T @ g

    functions = {"tensor": ours, "numpy": by_hand}
    if torch is not None:
        ta, tb = torch.tensor(A, requires_grad=True), torch.tensor(B, requires_grad=True)

        def pytorch() -> tuple:
            (ta @ tb).sum().backward()
            grads = ta.grad, tb.grad
            ta.grad = tb.grad = None
            return grads

        functions["torch"] = pytorch
    return functions


def measure_fixed_cost(repeat: int, number: int, clock: Callable[[], float]) -> dict[str, list[float]]:
    """Seconds per call of each fixed-cost function (timeit-style blocks of ``number`` calls, collector on),
    ``repeat`` blocks each, interleaved; the gradients are checked against the hand-written ones first."""
    functions = fixed_cost_functions()
    expected = functions["numpy"]()
    for name, f in functions.items():
        got = [np.asarray(g.detach().numpy() if hasattr(g, "detach") else g) for g in f()]
        if max(float(np.max(np.abs(g - e))) for g, e in zip(got, expected)) > TOLERANCE:
            raise AssertionError(f"fixed cost: {name}'s gradients differ from the hand-written ones")
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeat):
        for name, f in functions.items():
            times[name].append(timeit.Timer(f, timer=clock).timeit(number) / number)
    return times


# -- report ---------------------------------------------------------------------------------------

def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.1f} s"


def run(config: Config, repeat: int, block_seconds: float, long_epochs: int, measure_long: bool) -> dict:
    agreement = check_agreement(config)
    times = measure(config, repeat, block_seconds)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"\n## {config.name} (activations {', '.join(config.activations)}; one-epoch agreement {agreement:.1e})\n")
    print(f"| engine | median per epoch | min | spread | x numpy (medians) | x numpy (mins) | "
          f"projected {long_epochs:,} epochs |")
    print("|---|---|---|---|---|---|---|")
    for name, ts in times.items():
        spread = (max(ts) - min(ts)) / medians[name]
        print(f"| {name} | {fmt_time(medians[name])} | {fmt_time(min(ts))} | {spread:.2f} | "
              f"{medians[name] / medians['numpy']:.2f} | {min(ts) / min(times['numpy']):.2f} | "
              f"{fmt_time(medians[name] * long_epochs)} |")
    if "torch" in medians:
        print(f"\nPyTorch / Tensor: {medians['torch'] / medians['tensor']:.2f}x")
    measured = None
    if measure_long:
        spent = measure_long_run(config, long_epochs)
        measured = spent["tensor"]
        print(f"Measured: a {long_epochs:,}-epoch training run takes {measured:.1f} s with the Tensor engine "
              f"({fmt_time(measured / long_epochs)} per epoch) and {spent['numpy']:.1f} s with the numpy oracle "
              f"({measured / spent['numpy']:.2f}x), run in alternating chunks of 5,000 epochs")
    return {"medians": medians, "measured": measured}


SECTIONS = ("small", "large", "w2", "fixed", "memory")
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def report_fixed_cost(repeat: int, clock: str) -> dict[str, float]:
    times = measure_fixed_cost(repeat, 2_000, CLOCKS[clock])
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"\n## Fixed cost per op: (a @ b).sum().backward() for {FIXED_SIZE}x{FIXED_SIZE} leaves ({clock} clock)\n")
    print("numpy: the same three steps by hand (a @ b, .sum(), g = ones; g @ b.T, a.T @ g); median of "
          f"{repeat} interleaved blocks of 2,000 calls\n")
    print("| engine | median per call | min | x numpy (medians) |")
    print("|---|---|---|---|")
    for name, ts in times.items():
        print(f"| {name} | {fmt_time(medians[name])} | {fmt_time(min(ts))} | "
              f"{medians[name] / medians['numpy']:.2f} |")
    return medians


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no measured long run (< 20 s)")
    parser.add_argument("--repeat", type=int, default=None, help="timed blocks per engine (default 31, quick 11)")
    parser.add_argument("--epochs", type=int, default=100_000, help="length of the reports' training run")
    parser.add_argument("--large-epochs", type=int, default=None,
                        help="also measure this many epochs of 2-64-64-1 on 10,000 points (default: project only)")
    parser.add_argument("--memory-epochs", type=int, default=None, help="epochs under tracemalloc "
                        "(default 20,000, quick 3,000)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="the fixed-cost section's clock: wall time or the process's CPU time")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run (default all: {','.join(SECTIONS)})")
    args = parser.parse_args(argv)
    sections = set(args.only.split(","))
    if not sections <= set(SECTIONS):
        parser.error(f"--only expects sections among {','.join(SECTIONS)}, got {args.only!r}")
    if args.repeat is not None and args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")
    repeat = args.repeat or (11 if args.quick else 31)
    block = 0.02 if args.quick else 0.05
    memory_epochs = args.memory_epochs or (3_000 if args.quick else 20_000)

    print("# Tensor engine benchmark" + (" (quick)" if args.quick else ""))
    print(f"Python {platform.python_version()}, numpy {np.__version__} (OPENBLAS_NUM_THREADS="
          f"{os.environ['OPENBLAS_NUM_THREADS']})"
          + (f", torch {torch.__version__} (threads: {torch.get_num_threads()})" if torch else ", torch not installed")
          + f", {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(f"median of {repeat} interleaved blocks of ~{block * 1e3:.0f} ms per engine; 'spread' is "
          "(max - min) / median over the blocks (above ~0.3 the machine was busy)")
    small = large = w2 = fixed = None
    if "small" in sections:
        small = run(SMALL, repeat, block, args.epochs, measure_long=not args.quick)
    if "w2" in sections:
        w2 = run(W2, repeat, block, args.epochs, measure_long=False)
    if "large" in sections:
        large = run(LARGE, max(5, repeat // 2), block * 2, args.epochs, measure_long=False)
    if args.large_epochs:
        spent = measure_long_run(LARGE, args.large_epochs, chunk=max(1, args.large_epochs // 10))
        print(f"Measured: {args.large_epochs:,} epochs of {LARGE.name} in {spent['tensor']:.1f} s "
              f"(numpy oracle {spent['numpy']:.1f} s)")
    if "fixed" in sections:
        fixed = report_fixed_cost(repeat, args.clock)

    growths = {}
    if "memory" in sections:
        for name in ("tensor", "generic"):
            print(f"\n## Memory over {memory_epochs:,} epochs of the {name} engine ({SMALL.name}, tracemalloc)\n")
            rows = memory_profile(SMALL, memory_epochs, name)
            print("| after epochs | current | peak since previous row |")
            print("|---|---|---|")
            for done, current, peak in rows:
                print(f"| {done:,} | {current / 1024:.1f} KiB | {peak / 1024:.1f} KiB |")
            growths[name] = (rows[-1][1] - rows[1][1]) / max(rows[-1][0] - rows[1][0], 1)
            print(f"\nGrowth between the two halves: {growths[name]:+.2f} bytes per epoch "
                  f"({'flat' if abs(growths[name]) < 1.0 else 'GROWING'})")

    print("\n## Targets\n")
    if w2:
        ratio = w2["medians"]["generic"] / w2["medians"]["numpy"]
        transposed = w2["medians"]["generic W.T"] / w2["medians"]["numpy"]
        print(f"- generic Tensor ops (a @ W + b, relu, sigmoid, ((o - y) ** 2).mean()) <= 1.5x hand-written numpy "
              f"per epoch on {W2.name} ({', '.join(W2.activations)}): {ratio:.2f}x "
              f"({'met' if ratio <= 1.5 else 'NOT met'}; written a @ W.T + b on nn's layout {transposed:.2f}x)")
    if small:
        ratio = small["medians"]["tensor"] / small["medians"]["numpy"]
        print(f"- fused Tensor ops (linear, activations, mse_loss) <= 1.2x hand-written numpy per epoch on "
              f"{SMALL.name}: {ratio:.2f}x ({'met' if ratio <= 1.2 else 'NOT met'})")
    if w2:
        ratio = w2["medians"]["tensor"] / w2["medians"]["numpy"]
        print(f"- fused Tensor ops <= 1.2x numpy on {W2.name}: {ratio:.2f}x ({'met' if ratio <= 1.2 else 'NOT met'})")
        m = w2["medians"]
        print(f"- the floor on {W2.name} (bench.floor: one closure per node, nothing but the arithmetic): generic "
              f"{m['floor generic'] / m['numpy']:.2f}x numpy, fused {m['floor fused'] / m['numpy']:.2f}x; our engine "
              f"over the floor: generic {m['generic'] / m['floor generic']:.2f}x, fused "
              f"{m['tensor'] / m['floor fused']:.2f}x")
    if fixed:
        ratio = fixed["tensor"] / fixed["numpy"]
        torch_part = f"; PyTorch {fixed['torch'] / fixed['numpy']:.2f}x" if "torch" in fixed else ""
        print(f"- fixed cost: (a @ b).sum().backward() on {FIXED_SIZE}x{FIXED_SIZE} <= 2.5x the same steps in numpy: "
              f"{ratio:.2f}x ({fmt_time(fixed['tensor'])} vs {fmt_time(fixed['numpy'])}; "
              f"{'met' if ratio <= 2.5 else 'NOT met'}{torch_part})")
    if small:
        long_run = small["measured"] or small["medians"]["tensor"] * args.epochs
        label = "measured" if small["measured"] else "projected"
        print(f"- {args.epochs:,} epochs of {SMALL.name} < 15 s: {long_run:.1f} s {label} "
              f"({'met' if long_run < 15 else 'NOT met'})")
        fit_ratio = small["medians"]["nn fit"] / small["medians"]["tensor"]
        print(f"- nn.fit (nn.MLP, nn.MSELoss, nn.SGD) <= 1.5x the raw Tensor loop per epoch on {SMALL.name}: "
              f"{fit_ratio:.2f}x ({'met' if fit_ratio <= 1.5 else 'NOT met'}; nn loop "
              f"{small['medians']['nn loop'] / small['medians']['tensor']:.2f}x)")
    if large:
        print(f"- {LARGE.name}: Tensor {large['medians']['tensor'] / large['medians']['numpy']:.2f}x numpy per "
              f"epoch, {args.epochs:,} epochs projected {fmt_time(large['medians']['tensor'] * args.epochs)}")
    for name, growth in growths.items():
        print(f"- memory of the {name} engine flat over {memory_epochs:,} epochs: {growth:+.2f} bytes per epoch "
              f"({'met' if abs(growth) < 1.0 else 'NOT met'})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
