"""Scalar-engine benchmark: our ``Value`` against micrograd and hand-written pure Python.

    .venv/bin/python -m bench.bench_scalar            # full run (a few minutes)
    .venv/bin/python -m bench.bench_scalar --quick    # smaller sizes, < 20 s
    .venv/bin/python -m bench.bench_scalar --repeat 9

Workloads (all in float64, one process, same weights for every engine):

- W1: one forward + backward + SGD step of the report's 2-2-1 sigmoid net, C = ½ (ŷ - y)², one sample;
- W2: one full-batch epoch (forward, MSE loss, backward, SGD) of a 2-16-16-1 MLP (ReLU, ReLU, sigmoid)
  on 100 points; ours with ``autograd.dot`` per neuron and with binary ``+``/``*`` only (micrograd's style);
- W3: a chain of n operations forward and backward;
- W4: Σ wᵢxᵢ over 10⁵ products forward and backward: one n-ary ``autograd.sum`` node, or binary adds.

Times are medians over ``--repeat`` timeit-style repeats (each repeat runs the workload enough times to
last at least ``min_time``) with the garbage collector left ON, as a user has it; micrograd is also
timed with the collector off, since its nodes form reference cycles and that is where most of its
time goes. The engines' repeats are interleaved, so a change of load on a shared machine hits all
alike, with a ``gc.collect()`` outside the timed region after each, so no engine pays for another's
garbage. micrograd with GC on is timed in a steady state instead, its repeats back to back after a
warm-up, each call with the previous call's cyclic garbage still in the heap, as in a training
loop. (Our nodes and the pure-Python floats leave no cyclic garbage, which the script checks.)

Before timing, the script asserts that every engine computes the same gradients as the hand-written
pure-Python backprop (to 1e-12), so the comparison is between equal computations.

micrograd 0.1.0 (PyPI) has no ``exp``: its sigmoid is built here as ``1 / (1 + exp(-z))`` with an
``exp`` node written in micrograd's own style (a closure ``_backward``), as in its author's lectures.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field

import autograd
from autograd import Value
from autograd.graph import topological_order
from autograd.worked_example import load_hand_table

from . import pure_python as pp

try:
    from micrograd.engine import Value as MicroValue
    from micrograd.nn import MLP as MicroMLP
except ImportError:  # the benchmark still runs, without the micrograd columns
    MicroValue = MicroMLP = None

GRAD_TOLERANCE = 1e-12
SECTIONS = "W1,W2,W3,W4,memory"
SIZES = (2, 16, 16, 1)
N_POINTS = 100
LR = 0.1


# -- timing ---------------------------------------------------------------------------------------

@dataclass
class Timing:
    """Seconds per call: the median and every repeat."""

    median: float
    repeats: list[float] = field(default_factory=list)

    @property
    def spread(self) -> float:
        """(max - min) / median over the repeats: above ~0.2 the machine was noisy."""
        return (max(self.repeats) - min(self.repeats)) / self.median if self.median else 0.0


@dataclass
class Entry:
    """A workload to time: ``fn()``, with the garbage collector on or off.

    ``steady``: time it in a steady state, each call with the previous call's garbage still in the
    heap, as in a training loop where epoch k's cyclic garbage is collected during epoch k + 1
    (micrograd). Its repeats run back to back instead of interleaved with the others'.
    """

    fn: Callable[[], object]
    gc_on: bool = True
    steady: bool = False


def _run(entry: Entry, number: int, clock: Callable[[], float], collect: bool = True) -> float:
    was_on = gc.isenabled()
    if not entry.gc_on:
        gc.disable()
    try:
        start = clock()
        for _ in range(number):
            entry.fn()
        return clock() - start
    finally:
        if was_on:
            gc.enable()
        if collect:
            gc.collect()  # outside the timed region: no engine pays for another's garbage


def _calibrate(entry: Entry, min_time: float, clock: Callable[[], float]) -> int:
    """How many calls make one repeat last >= min_time (the runs double as the warm-up)."""
    number = 1
    while True:
        elapsed = _run(entry, number, clock, collect=not entry.steady)
        if elapsed >= min_time:
            return number
        number = max(number * 2, math.ceil(number * min_time / max(elapsed, 1e-9) * 1.2))


def measure_together(entries: dict[str, Entry], repeat: int, min_time: float,
                     clock: Callable[[], float] = time.perf_counter) -> dict[str, Timing]:
    """Seconds per call of each entry, timeit-style: the median over ``repeat`` repeats.

    The repeats of the entries are interleaved (A B C, A B C, ...) so that a change of load on a
    shared machine hits them alike; steady entries run theirs back to back first. ``clock`` is wall
    time by default; ``time.process_time`` (CPU time of this process) is steadier when other jobs
    share the machine.
    """
    samples: dict[str, list[float]] = {name: [] for name in entries}
    for name, entry in entries.items():
        if entry.steady:
            number = _calibrate(entry, min_time, clock)
            samples[name] = [_run(entry, number, clock, collect=False) / number for _ in range(repeat)]
            gc.collect()
    numbers = {name: _calibrate(entry, min_time, clock) for name, entry in entries.items() if not entry.steady}
    for _ in range(repeat):
        for name, number in numbers.items():
            samples[name].append(_run(entries[name], number, clock) / number)
    return {name: Timing(statistics.median(times), times) for name, times in samples.items()}


def assert_close(name: str, ours: list[float], reference: list[float], tol: float = GRAD_TOLERANCE) -> float:
    """Assert |ours - reference| <= tol (1 + |reference|) elementwise; return the largest difference."""
    assert len(ours) == len(reference), f"{name}: {len(ours)} gradients vs {len(reference)}"
    worst = 0.0
    for i, (a, b) in enumerate(zip(ours, reference)):
        assert abs(a - b) <= tol * (1 + abs(b)), f"{name}: gradient {i} is {a!r}, hand-derived {b!r}"
        worst = max(worst, abs(a - b))
    return worst


def flat(nested) -> list:
    """The leaves of nested lists and tuples, in order."""
    out = []
    stack = [iter([nested])]
    while stack:
        for item in stack[-1]:
            if isinstance(item, (list, tuple)):
                stack.append(iter(item))
                break
            out.append(item)
        else:
            stack.pop()
    return out


# -- micrograd helpers ------------------------------------------------------------------------------

def micro_exp(v):
    """e^v as a micrograd node, written the way micrograd writes its own ops."""
    out = MicroValue(math.exp(v.data), (v,), "exp")

    def _backward():
        v.grad += out.data * out.grad

    out._backward = _backward
    return out


def micro_sigmoid(z):
    """σ(z) = 1 / (1 + e^-z) from micrograd's ops (it has no sigmoid)."""
    return 1 / (1 + micro_exp(-z))


def micro_node_count(root) -> int:
    """Nodes reachable from a micrograd node, counted without recursion."""
    seen = {id(root)}
    stack = [root]
    while stack:
        for child in stack.pop()._prev:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


# -- W1: the 2-2-1 worked example --------------------------------------------------------------------

def two_two_one_start() -> tuple[list[list[float]], list[float], list[float], float, list[float], float]:
    """The report's 2-2-1 net: hidden weights, hidden biases, output weights, output bias, x, y."""
    net = load_hand_table()["network"]
    h, o = net["hidden"], net["output"]
    return ([[h["w00"], h["w01"]], [h["w10"], h["w11"]]], [h["b0"], h["b1"]], [o["w00"], o["w01"]], o["b0"],
            [net["inputs"]["x0"], net["inputs"]["x1"]], net["label"]["y"])


class TwoTwoOne:
    """The 2-2-1 sigmoid net on one of the two graph engines (``engine`` = "ours" or "micrograd")."""

    def __init__(self, engine: str):
        hw, hb, ow, ob, x, self.y = two_two_one_start()
        V = Value if engine == "ours" else MicroValue
        self.engine = engine
        self.hidden_w = [[V(w) for w in row] for row in hw]
        self.hidden_b = [V(b) for b in hb]
        self.out_w = [V(w) for w in ow]
        self.out_b = V(ob)
        self.x = [V(v) for v in x]
        self.parameters = flat(self.hidden_w) + self.hidden_b + self.out_w + [self.out_b]

    def forward_backward(self) -> float:
        if self.engine == "ours":
            a1 = [autograd.dot(row, self.x, b).sigmoid() for row, b in zip(self.hidden_w, self.hidden_b)]
            yhat = autograd.dot(self.out_w, a1, self.out_b).sigmoid()
        else:
            a1 = [micro_sigmoid(sum((w * x for w, x in zip(row, self.x)), b))
                  for row, b in zip(self.hidden_w, self.hidden_b)]
            yhat = micro_sigmoid(sum((w * a for w, a in zip(self.out_w, a1)), self.out_b))
        loss = 0.5 * (yhat - self.y) ** 2
        loss.backward()
        return loss.data

    def step(self) -> None:
        self.forward_backward()
        for p in self.parameters:
            p.data -= LR * p.grad
            p.grad = 0.0


def pure_two_two_one_step_fn() -> Callable[[], None]:
    hw, hb, ow, ob, x, y = two_two_one_start()
    state = {"out_b": ob}

    def step() -> None:
        _, state["out_b"] = pp.two_two_one_step(hw, hb, ow, state["out_b"], x, y, LR)

    return step


def check_two_two_one() -> float:
    """Our engine's and micrograd's 2-2-1 gradients against the hand-derived ones; returns the worst difference."""
    hw, hb, ow, ob, x, y = two_two_one_start()
    loss, d_hw, d_hb, d_ow, d_ob = pp.two_two_one_gradients(hw, hb, ow, ob, x, y)
    reference = flat(d_hw) + d_hb + d_ow + [d_ob]
    engines = ["ours"] + (["micrograd"] if MicroValue else [])
    worst = 0.0
    for engine in engines:
        net = TwoTwoOne(engine)
        ours_loss = net.forward_backward()
        assert abs(ours_loss - loss) <= GRAD_TOLERANCE, f"W1 {engine}: loss {ours_loss!r} vs {loss!r}"
        worst = max(worst, assert_close(f"W1 {engine}", [p.grad for p in net.parameters], reference))
    return worst


# -- W2: a 2-16-16-1 MLP, one full-batch epoch ------------------------------------------------------------

def make_data(n: int = N_POINTS, seed: int = 0) -> tuple[list[list[float]], list[float]]:
    """n points of [-2, 2]², label 1 when x₀x₁ > 0 (the XOR quadrants)."""
    rng = random.Random(seed)
    xs = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(n)]
    return xs, [1.0 if x0 * x1 > 0 else 0.0 for x0, x1 in xs]


def init_mlp(sizes: tuple[int, ...] = SIZES, seed: int = 1) -> tuple[list, list]:
    """Weights U(-1, 1) (micrograd's init), biases U(-0.1, 0.1); W[l][j][k] joins input k to neuron j."""
    rng = random.Random(seed)
    weights = [[[rng.uniform(-1, 1) for _ in range(n_in)] for _ in range(n_out)]
               for n_in, n_out in zip(sizes, sizes[1:])]
    biases = [[rng.uniform(-0.1, 0.1) for _ in range(n_out)] for n_out in sizes[1:]]
    return weights, biases


class OursMLP:
    """The W2 network on our Values; ``style`` "dot" (one node per neuron) or "binary" (+ and * only)."""

    def __init__(self, style: str, weights: list, biases: list, xs: list, ys: list):
        self.style = style
        # Tuples, as nn.Neuron and nn.Layer keep them: a dot node then shares a neuron's weights and a
        # layer's inputs instead of copying them (see autograd.dot).
        self.weights = [[tuple(Value(w) for w in row) for row in layer] for layer in weights]
        self.biases = [[Value(b) for b in layer] for layer in biases]
        # dot: the data set as leaves, made once; binary: plain floats, as micrograd users pass them
        # (``model([0.5, -1.2])``), so ``w * x`` meets a float constant
        self.xs = [tuple(Value(v) for v in x) if style == "dot" else tuple(x) for x in xs]
        self.ys = ys
        self.parameters = flat(self.weights) + flat(self.biases)

    def neuron(self, w: tuple[Value, ...], a: tuple[Value, ...], b: Value) -> Value:
        if self.style == "dot":
            return autograd.dot(w, a, b)
        return sum((wi * ai for wi, ai in zip(w, a)), b)  # exactly micrograd's Neuron

    def loss(self) -> Value:
        last = len(self.weights) - 1
        errors = []
        for a, y in zip(self.xs, self.ys):
            for l, (layer, biases) in enumerate(zip(self.weights, self.biases)):
                zs = [self.neuron(w, a, b) for w, b in zip(layer, biases)]
                a = tuple([z.sigmoid() for z in zs] if l == last else [z.relu() for z in zs])  # one tuple for all
            errors.append((a[0] - y) ** 2)
        total = autograd.sum(errors) if self.style == "dot" else sum(errors)
        return total * (1.0 / len(errors))

    def epoch(self) -> None:
        self.loss().backward()
        for p in self.parameters:
            p.data -= LR * p.grad
            p.grad = 0.0


class MicroNet:
    """The W2 network as micrograd's own ``MLP(2, [16, 16, 1])`` (ReLU, ReLU, linear) + our micro_sigmoid."""

    def __init__(self, weights: list, biases: list, xs: list, ys: list):
        self.mlp = MicroMLP(SIZES[0], list(SIZES[1:]))
        for layer, lw, lb in zip(self.mlp.layers, weights, biases):
            for neuron, w, b in zip(layer.neurons, lw, lb):
                for p, v in zip(neuron.w, w):
                    p.data = v
                neuron.b.data = b
        self.xs = [list(x) for x in xs]  # plain floats, as micrograd's README passes them
        self.ys = ys
        self.parameters = [p for layer in self.mlp.layers for n in layer.neurons for p in n.w]
        self.parameters += [n.b for layer in self.mlp.layers for n in layer.neurons]

    def loss(self):
        errors = [(micro_sigmoid(self.mlp(x)) - y) ** 2 for x, y in zip(self.xs, self.ys)]
        return sum(errors) * (1.0 / len(errors))

    def epoch(self) -> None:
        self.loss().backward()
        for p in self.parameters:
            p.data -= LR * p.grad
            p.grad = 0


def check_mlp() -> float:
    """Every engine's W2 loss and gradients against the hand-derived ones; returns the worst difference."""
    weights, biases = init_mlp()
    xs, ys = make_data()
    loss, grad_w, grad_b = pp.mlp_gradients(weights, biases, xs, ys)
    reference = flat(grad_w) + flat(grad_b)
    nets = {f"W2 ours {style}": OursMLP(style, weights, biases, xs, ys) for style in ("dot", "binary")}
    if MicroValue:
        nets["W2 micrograd"] = MicroNet(weights, biases, xs, ys)
    worst = 0.0
    for name, net in nets.items():
        out = net.loss()
        out.backward()
        assert abs(out.data - loss) <= GRAD_TOLERANCE, f"{name}: loss {out.data!r} vs hand-derived {loss!r}"
        worst = max(worst, assert_close(name, [p.grad for p in net.parameters], reference))
    return worst


# -- W3: a chain of n operations ---------------------------------------------------------------------------

def chain_root(V, n: int):
    """y = (((x·c + d)·c + d)·c + ...) with n operations on the leaves x, c, d; returns (x, y)."""
    x, c, d = V(0.5), V(1.0), V(0.001)
    y = x
    for _ in range(n // 2):
        y = y * c
        y = y + d
    return x, y


def constant_chain(steps: int) -> float:
    """v = v * 1.0000001 + 0.0, ``steps`` times (2 ``steps`` nodes, float constants: issue 18's chain), forward
    and backward; returns dv/dx (= 1.0000001 ** steps)."""
    x = Value(0.5)
    v = x
    for _ in range(steps):
        v = v * 1.0000001 + 0.0
    v.backward()
    return x.grad


def chain(V, n: int) -> float:
    """The chain of n operations forward and backward; returns dy/dx (= 1)."""
    x, y = chain_root(V, n)
    y.backward()
    return x.grad


# -- W4: Σ wᵢxᵢ over many products ---------------------------------------------------------------------

def pairwise_sum(values: list):
    """Σ values with binary adds in a balanced tree: depth log₂ n instead of n."""
    while len(values) > 1:
        paired = [a + b for a, b in zip(values[::2], values[1::2])]
        values = paired + values[-1:] if len(values) % 2 else paired
    return values[0]


def sum_of_products(ws: list, xs: list, how: str) -> None:
    products = [w * x for w, x in zip(ws, xs)]
    if how == "n-ary":
        total = autograd.sum(products)
    elif how == "chain":
        total = sum(products)
    else:
        total = pairwise_sum(products)
    total.backward()


def check_sum_of_products(n: int) -> None:
    rng = random.Random(2)
    for how in ("n-ary", "chain", "pairwise"):
        ws = [Value(rng.uniform(-1, 1)) for _ in range(n)]
        xs = [Value(rng.uniform(-1, 1)) for _ in range(n)]
        sum_of_products(ws, xs, how)
        assert all(w.grad == x.data and x.grad == w.data for w, x in zip(ws, xs)), f"W4 {how}: wrong gradient"


# -- memory and reference cycles -----------------------------------------------------------------------------

def traced_build(build: Callable[[], object]) -> tuple[object, int]:
    """Run ``build()`` under tracemalloc; return its result and the peak bytes allocated meanwhile."""
    gc.collect()
    tracemalloc.start()
    try:
        root = build()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return root, peak


def new_nodes(root: Value, existing: list[Value]) -> tuple[int, int]:
    """(nodes, input references) of the graph of ``root`` not counting the ``existing`` leaves."""
    old = {id(v) for v in existing}
    nodes = [v for v in topological_order(root) if id(v) not in old]
    return len(nodes), sum(len(v.inputs) for v in nodes)


def memory_report(quick: bool) -> list[tuple[str, int, int, int]]:
    """[(graph, nodes, input references, peak bytes)] for graphs built under tracemalloc."""
    weights, biases = init_mlp()
    xs, ys = make_data()
    results = []
    for style in ("binary", "dot"):
        net = OursMLP(style, weights, biases, xs, ys)
        root, peak = traced_build(net.loss)
        nodes, edges = new_nodes(root, net.parameters + flat(net.xs))
        results.append((f"ours W2 {style}", nodes, edges, peak))
        # ... and what backward adds on top (every grad becomes a float of its own, plus the walk's order)
        _, peak_backward = traced_build(root.backward)
        results.append((f"ours W2 {style}, backward (extra)", nodes, edges, peak_backward))
        del root
    n = 10**4 if quick else 10**5
    (_, root), peak = traced_build(lambda: chain_root(Value, n))
    nodes, edges = new_nodes(root, [])
    results.append((f"ours chain {sci(n)}", nodes, edges, peak))
    del root
    if MicroValue and not quick:
        net = MicroNet(weights, biases, xs, ys)
        root, peak = traced_build(net.loss)
        nodes = micro_node_count(root) - len(net.parameters) - sum(len(x) for x in net.xs)
        results.append(("micrograd W2", nodes, 2 * nodes, peak))  # its nodes have at most 2 inputs
        del root, net
    gc.collect()
    return results


def cyclic_garbage(make_graph: Callable[[], object]) -> int:
    """Objects only the cyclic collector can free after building, backpropagating and dropping a graph.

    0 means every node was freed by reference counting the moment it was dropped.
    """
    gc.collect()
    gc.disable()
    try:
        root = make_graph()
        root.backward()
        del root
        return gc.collect()
    finally:
        gc.enable()


# -- the run -----------------------------------------------------------------------------------------------------

def sci(n: int) -> str:
    """10000 as "1e4"; other counts as they are."""
    exponent = round(math.log10(n))
    return f"1e{exponent}" if 10**exponent == n else str(n)


def fmt_time(seconds: float | str | None) -> str:
    if seconds is None:
        return "-"
    if isinstance(seconds, str):
        return seconds
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def ratio(a: float | str | None, b: float | str | None) -> str:
    if not isinstance(a, float) or not isinstance(b, float):
        return "-"
    return f"{a / b:.2f}x"


@dataclass
class Row:
    workload: str
    ours: float
    micro: float | str | None = None
    micro_nogc: float | str | None = None
    pure: float | None = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_scalar", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats (< 20 s)")
    parser.add_argument("--repeat", type=int, default=None, help="repeats per measurement (default 5, quick 2)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall time (default, what a user waits) or this process's CPU time "
                             "(steadier when other jobs share the machine)")
    parser.add_argument("--only", default=SECTIONS, metavar="LIST",
                        help=f"comma-separated sections to run, from {SECTIONS} (default: all)")
    args = parser.parse_args(argv)
    sections = set(args.only.split(","))
    if not sections <= set(SECTIONS.split(",")):
        parser.error(f"--only takes sections from {SECTIONS}, got {args.only!r}")
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    if args.repeat is not None and args.repeat < 1:
        parser.error(f"--repeat must be >= 1, got {args.repeat}")
    repeat = args.repeat or (2 if args.quick else 5)
    min_time = 0.02 if args.quick else 0.2
    chain_sizes = (10**4,) if args.quick else (10**4, 10**5, 10**6)
    n_products = 3000 if args.quick else 10**5
    has_micro = MicroValue is not None
    started = time.perf_counter()

    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}; repeat={repeat} (interleaved), min_time={min_time} s, "
          f"{args.clock} clock, GC on unless said")
    if not has_micro:
        print("micrograd is not installed (pip install micrograd): its columns are left empty")

    # Equal computations first: every engine's gradients against the hand-written backprop.
    gc.disable()  # (only to spare micrograd's cyclic garbage collections here; nothing is timed)
    try:
        w1_diff, w2_diff = check_two_two_one(), check_mlp()
        check_sum_of_products(1000)
    finally:
        gc.enable()
        gc.collect()
    print(f"gradients agree with the hand-derived pure-Python ones: W1 max |diff| {w1_diff:.1e}, "
          f"W2 {w2_diff:.1e} (asserted <= {GRAD_TOLERANCE:g} (1 + |g|))")

    rows: list[Row] = []
    spreads: dict[str, float] = {}
    memory: list[tuple[str, int, int, int]] = []
    leftovers: dict[str, int] = {}

    def add_rows(ours: dict[str, Callable], micro: Callable | str | None = None,
                 pure: Callable | None = None) -> None:
        """Time our workload(s), micrograd's (GC on and off; or a note such as "fails") and pure Python's
        together, and add one row per entry of ``ours`` (they share the micrograd and pure-Python times)."""
        entries = {name: Entry(fn) for name, fn in ours.items()}
        if callable(micro):
            entries["micrograd"] = Entry(micro, steady=True)
            entries["micrograd GC off"] = Entry(micro, gc_on=False)
        if pure is not None:
            entries["pure"] = Entry(pure)
        times = measure_together(entries, repeat, min_time, clock)
        micro_times = ((times["micrograd"].median, times["micrograd GC off"].median) if callable(micro)
                       else (micro, micro))
        for name in ours:
            row = Row(name, times[name].median, *micro_times, times["pure"].median if pure else None)
            spreads[name] = times[name].spread
            rows.append(row)
            print(f"  {name:<32} ours {fmt_time(row.ours):>9}  micrograd {fmt_time(row.micro):>9} "
                  f"(GC off {fmt_time(row.micro_nogc)})  pure {fmt_time(row.pure)}  "
                  f"spread {times[name].spread:.0%}")

    if "W1" in sections:
        print("W1  2-2-1 sigmoid net, one sample: forward + backward + SGD step")
        add_rows({"W1 2-2-1 step (dot)": TwoTwoOne("ours").step},
                 TwoTwoOne("micrograd").step if has_micro else None, pure_two_two_one_step_fn())

    if "W2" in sections:
        print(f"W2  2-16-16-1 MLP, one full-batch epoch on {N_POINTS} points "
              "(micrograd: its MLP + sigmoid built as 1/(1+exp(-z)))")
        weights, biases = init_mlp()
        xs, ys = make_data()
        pure_weights, pure_biases = init_mlp()
        add_rows({f"W2 MLP epoch ({style})": OursMLP(style, weights, biases, xs, ys).epoch
                  for style in ("dot", "binary")},
                 MicroNet(weights, biases, xs, ys).epoch if has_micro else None,
                 lambda: pp.mlp_epoch(pure_weights, pure_biases, xs, ys, LR))

    if "W3" in sections:
        print("W3  a chain of n operations (alternating *c and +d), forward + backward")
        for n in chain_sizes:
            micro: Callable | str | None = None
            if has_micro and n > 10**5:
                micro = "fails (RecursionError)*"  # not run: ~700 MB of micrograd nodes to fail as at 1e4
            elif has_micro:
                try:
                    chain(MicroValue, n)
                    micro = lambda n=n: chain(MicroValue, n)
                except RecursionError:
                    micro = "fails (RecursionError)"
                gc.collect()
            add_rows({f"W3 chain n={sci(n)}": lambda n=n: chain(Value, n)}, micro)
        steps = chain_sizes[-1]
        print(f"W3  {sci(steps)} steps v = v * 1.0000001 + 0.0 (float constants, {sci(2 * steps)} nodes)")
        assert abs(constant_chain(10) - 1.0000001**10) < 1e-15
        add_rows({f"W3 constant chain {sci(steps)} steps": lambda: constant_chain(steps)})

    if "W4" in sections:
        print(f"W4  Σ wᵢxᵢ over n={sci(n_products)} products, forward + backward")
        rng = random.Random(3)
        ws = [Value(rng.uniform(-1, 1)) for _ in range(n_products)]
        wx = [Value(rng.uniform(-1, 1)) for _ in range(n_products)]
        titles = {"n-ary": "one n-ary sum node", "chain": "binary adds, sum()", "pairwise": "binary adds, pairwise"}
        for how, title in titles.items():
            micro = None
            if has_micro and how != "n-ary":  # micrograd has no n-ary sum
                mws, mwx = [MicroValue(w.data) for w in ws], [MicroValue(x.data) for x in wx]
                try:
                    sum_of_products(mws, mwx, how)
                    micro = lambda how=how, mws=mws, mwx=mwx: sum_of_products(mws, mwx, how)
                except RecursionError:
                    micro = "fails (RecursionError)"
                gc.collect()
            add_rows({f"W4 Σ wx: {title}": lambda how=how: sum_of_products(ws, wx, how)}, micro)
    if "memory" in sections:
        print("Memory (tracemalloc peak while building, per node created; inputs = references to input nodes)")
        memory = memory_report(args.quick)
        for name, nodes, edges, peak in memory:
            print(f"  {name:<30} {nodes:>8} nodes {edges:>8} inputs  peak {peak / 1e6:7.2f} MB  "
                  f"{peak / nodes:6.0f} B/node  {peak / edges:5.0f} B/input")

        weights, biases = init_mlp()
        xs, ys = make_data()
        leftovers = {style: cyclic_garbage(OursMLP(style, weights, biases, xs, ys).loss) for style in ("dot", "binary")}
        n_chain = 10**4 if args.quick else 10**5
        leftovers[f"chain {sci(n_chain)}"] = cyclic_garbage(lambda: chain_root(Value, n_chain)[1])
        micro_leftover = None
        if has_micro and not args.quick:
            micro_leftover = cyclic_garbage(MicroNet(weights, biases, xs, ys).loss)
        print("Reference cycles: objects gc.collect() finds after build + backward + del with the GC disabled: "
              + ", ".join(f"ours {k} {v}" for k, v in leftovers.items())
              + (f", micrograd W2 {micro_leftover}" if micro_leftover is not None else ""))

    print_table(rows)
    print_targets(rows, memory, leftovers, spreads)
    print(f"(total {time.perf_counter() - started:.1f} s; load average now {os.getloadavg()[0]:.2f})")
    return 0


def print_table(rows: list[Row]) -> None:
    header = ("workload", "ours", "micrograd", "mg GC off", "pure Python", "mg/ours", "mg GC off/ours",
              "ours/pure")
    lines = [header] + [
        (r.workload, fmt_time(r.ours), fmt_time(r.micro), fmt_time(r.micro_nogc), fmt_time(r.pure),
         ratio(r.micro, r.ours), ratio(r.micro_nogc, r.ours), ratio(r.ours, r.pure))
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print()
    for i, line in enumerate(lines):
        print("  ".join(cell.ljust(w) if j == 0 else cell.rjust(w) for j, (cell, w) in enumerate(zip(line, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print("times per call, medians; mg/ours > 1: ours is faster; ours/pure: cost of the graph over hand-written "
          "floats. * not run: micrograd already fails at a shallower depth")


def print_targets(rows: list[Row], memory: list, leftovers: dict, spreads: dict) -> None:
    by_name = {r.workload: r for r in rows}
    checks = []
    dot, binary = by_name.get("W2 MLP epoch (dot)"), by_name.get("W2 MLP epoch (binary)")
    if dot:
        checks.append((f"W2 dot within 3x of pure Python: {dot.ours / dot.pure:.2f}x", dot.ours <= 3 * dot.pure))
    if binary and isinstance(binary.micro, float):
        checks.append((f"W2 binary ops >= 5x faster than micrograd (GC on): {binary.micro / binary.ours:.2f}x",
                       binary.micro >= 5 * binary.ours))
        checks.append((f"W2 binary ops faster than micrograd with its collector off: "
                       f"{binary.micro_nogc / binary.ours:.2f}x", binary.micro_nogc > binary.ours))
    for name, row in by_name.items():
        if name.startswith("W3 constant chain 1e6"):
            checks.append((f"{name} forward + backward under 5 s: {fmt_time(row.ours)}", row.ours < 5.0))
    for name, nodes, edges, peak in memory:
        if name.startswith("ours") and "backward" not in name:
            note = ""
            if "dot" in name:  # its nodes are wide: say what a node of the same network costs as binary ops
                binary_nodes = next(n for m, n, _, _ in memory if m == "ours W2 binary")
                note = (f" (its nodes share the neurons' weight tuples and the layers' input tuples: "
                        f"{peak / edges:.0f} B per input; {peak / binary_nodes:.0f} B per node of the same "
                        "network built from binary ops)")
            checks.append((f"< 200 B per node, {name}: {peak / nodes:.0f} B{note}", peak / nodes < 200))
    if leftovers:
        checks.append((f"no reference cycles: gc.collect() found {sum(leftovers.values())} objects",
                       sum(leftovers.values()) == 0))
    print("\nTargets")
    for text, ok in checks:
        print(f"  [{'met' if ok else 'MISSED'}] {text}")
    noisy = [name for name, s in spreads.items() if s > 0.2]
    if noisy:
        print(f"  noisy (repeats spread > 20% of the median): {', '.join(noisy)}")


if __name__ == "__main__":
    sys.exit(main())
