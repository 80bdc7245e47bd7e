"""Do the tests catch a wrong derivative? Mutation testing of both engines' derivatives.

    .venv/bin/python -m bench.mutation                      # every op of both engines (a few minutes)
    .venv/bin/python -m bench.mutation --only value:tanh tensor:linear
    .venv/bin/python -m bench.mutation --jobs 2 --factor 1.0001
    .venv/bin/python -m bench.mutation --per-input          # also each input of multi-input ops alone

For every operation in turn (``autograd.value.SCALAR_OPS`` and ``autograd.tensor.TENSOR_OPS``)
the script multiplies its local derivatives (a ``ScalarOp``'s ``derivatives``, a ``TensorOp``'s
VJP) by ``--factor`` (1.001 by default: a 0.1 % error, the size of a typo in a constant), runs
the gradient tests in a fresh pytest process with that one mutation applied, and reports whether
the suite caught it (some test failed) or not. Every mutation must be caught: the exit status is
1 if one survives, so the script can gate CI.

The mutation is applied inside the pytest process by this module acting as a pytest plugin
(``-p bench.mutation``), reading the environment variables ``CHAINRULE_MUTATION`` ("value:tanh")
and ``CHAINRULE_MUTATION_FACTOR``. It patches the op object itself, so every path to the
derivative (backward, ``gradcheck``'s per-op diagnosis, ``explain``) sees the mutation, and the
forward pass (hence the finite differences) does not. Hypothesis skips shrinking under the
plugin: only pass or fail matters here.

``--per-input`` adds, for the operations with several inputs, one mutation per input
("value:div@1" scales only ∂(a/b)/∂b; "value:dot@b" only the bias's derivative of ``dot``), so a
test that checks only the first input's gradient does not hide a wrong second one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV, ENV_FACTOR = "CHAINRULE_MUTATION", "CHAINRULE_MUTATION_FACTOR"
DEFAULT_FACTOR = 1.001
#: The gradient tests run against each mutation (globs relative to the repository root).
DEFAULT_TESTS = ("tests/test_value.py", "tests/test_check.py", "tests/test_tensor*.py")  # *: test_tensor_conv.py too


#: Per-input mutations (``--per-input``): the input selectors of the multi-input ops.
PER_INPUT = {
    "value": {"add": "01", "sub": "01", "mul": "01", "div": "01", "pow": "01", "dot": "wxb"},
    "tensor": {"add": "01", "sub": "01", "mul": "01", "div": "01", "pow": "01", "matmul": "01", "linear": "012",
               "mse_loss": "01", "conv2d": "012"},
}


#: Second-derivative mutations ("value2:tanh"): the ops whose derivative rule depends on the inputs. The recorded
#: form of the rule (create_graph) gets its slope scaled by the factor while its value stays exact, so only the
#: second-derivative tests can notice.
SECOND_ORDER = {
    "value": ("mul", "div", "pow_const", "pow", "exp", "log", "tanh", "sigmoid", "softplus", "sin", "cos", "sqrt",
              "dot"),
    "tensor": ("mul", "div", "pow_const", "matmul", "linear", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid",
               "softplus", "softmax", "log_softmax", "mse_loss"),
}


def all_mutations(per_input: bool = False) -> list[str]:
    """Every mutation: "value:<op>" for each SCALAR_OPS key, "tensor:<op>" for each TENSOR_OPS key, and with
    ``per_input`` also "<engine>:<op>@<input>" for the ops in ``PER_INPUT``."""
    from autograd.tensor import TENSOR_OPS
    from autograd.value import SCALAR_OPS

    found = [f"value:{name}" for name in SCALAR_OPS] + [f"tensor:{name}" for name in TENSOR_OPS]
    found += [f"{engine}2:{name}" for engine, names in SECOND_ORDER.items() for name in names]
    if per_input:
        found += [f"{engine}:{name}@{i}" for engine, ops in PER_INPUT.items() for name, inputs in ops.items()
                  for i in inputs]
    return found


def _op(spec: str):
    from autograd.tensor import TENSOR_OPS
    from autograd.value import SCALAR_OPS

    engine, _, name = spec.partition(":")
    name, _, which = name.partition("@")
    table = {"value": SCALAR_OPS, "tensor": TENSOR_OPS, "value2": SCALAR_OPS, "tensor2": TENSOR_OPS}.get(engine)
    second = engine.endswith("2")
    if (table is None or name not in table or (second and (which or name not in SECOND_ORDER[engine[:-1]]))
            or (which and which not in PER_INPUT[engine].get(name, ""))):
        raise ValueError(f"unknown mutation {spec!r}; expected one of {all_mutations(per_input=True)}")
    return engine, table[name], which


def _selected(which: str, count: int) -> range:
    """The derivative positions a per-input mutation scales: all, one index, or dot's w / x / b block."""
    if not which:
        return range(count)
    if which in "wxb":  # dot: [d/dw_0..n-1, d/dx_0..n-1, d/db], n weights, the bias if the count is odd
        n = count // 2
        return {"w": range(0, n), "x": range(n, 2 * n), "b": range(2 * n, count)}[which]
    return range(int(which), int(which) + 1)


def apply_mutation(spec: str, factor: float = DEFAULT_FACTOR) -> contextlib.AbstractContextManager:
    """Multiply the local derivatives of the op named by ``spec`` ("value:tanh", "tensor:linear", or one input:
    "value:div@1") by ``factor`` until the returned context manager exits (it restores the original;
    entering it is optional)."""
    engine, op, which = _op(spec)
    if engine.endswith("2"):
        return _second_order_mutation(engine, op, factor)
    if engine == "value":
        original, attribute = op.derivatives, "derivatives"

        def mutated(xs, out, ctx):
            local = list(original(xs, out, ctx))
            for i in _selected(which, len(local)):
                local[i] = factor * local[i]
            return local
    else:
        original, attribute = op.vjp, "vjp"

        def mutated(g, xs, out, ctx, needs):
            grads = list(original(g, xs, out, ctx, needs))
            for i in _selected(which, len(grads)):
                if grads[i] is not None:
                    grads[i] = factor * grads[i]
            return tuple(grads)

    setattr(op, attribute, mutated)
    restore = contextlib.ExitStack()
    restore.callback(setattr, op, attribute, original)
    return restore


def _bent(d, factor: float):
    """``d`` with the same value and its slope scaled by ``factor`` (a recorded node), else ``d`` as it is."""
    return d + (factor - 1.0) * (d - d.data) if hasattr(d, "_fresh_grad") else d


def _second_order_mutation(engine: str, op, factor: float) -> contextlib.AbstractContextManager:
    if engine == "value2":
        original, attribute = op.derivatives, "derivatives"

        def mutated(xs, out, ctx):
            return [_bent(d, factor) for d in original(xs, out, ctx)]
    else:
        original, attribute = op.vjp, "vjp"

        def mutated(g, xs, out, ctx, needs):
            return tuple(_bent(c, factor) for c in original(g, xs, out, ctx, needs))

    setattr(op, attribute, mutated)
    restore = contextlib.ExitStack()
    restore.callback(setattr, op, attribute, original)
    return restore


# -- the pytest plugin side ------------------------------------------------------------------------------

def pytest_sessionstart(session) -> None:
    """Apply the mutation named in $CHAINRULE_MUTATION for the whole test session."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    apply_mutation(spec, float(os.environ.get(ENV_FACTOR, DEFAULT_FACTOR)))
    from hypothesis import Phase, settings

    # After conftest.py loaded its profile: the same settings, without the shrink phase.
    settings.register_profile("mutation", settings(settings.default, phases=[Phase.explicit, Phase.reuse,
                                                                              Phase.generate]))
    settings.load_profile("mutation")


def pytest_report_header(config) -> str | None:
    spec = os.environ.get(ENV)
    return f"mutation: {spec} x {os.environ.get(ENV_FACTOR, DEFAULT_FACTOR)}" if spec else None


# -- the driver ------------------------------------------------------------------------------------------------

@dataclass
class Result:
    mutation: str
    caught: bool
    status: str  # "caught", "SURVIVED" or "error"
    detail: str
    seconds: float


def _test_files(patterns: list[str]) -> list[str]:
    files = sorted({str(p.relative_to(ROOT)) for pattern in patterns for p in ROOT.glob(pattern)})
    if not files:
        raise SystemExit(f"no test files match {patterns}")
    return files


def run_one(mutation: str | None, factor: float, files: list[str], timeout: float = 900) -> Result:
    """Run the tests in a fresh process with ``mutation`` applied (None: no mutation, the baseline)."""
    env = dict(os.environ)
    env.pop(ENV, None)
    if mutation is not None:
        env[ENV], env[ENV_FACTOR] = mutation, repr(factor)
    # -n 0: the mutation is applied in this one pytest process (the plugin above), not in xdist workers.
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-n", "0", "-p", "bench.mutation",
               "-p", "no:cacheprovider",
               "--no-header", "-W", "ignore::pytest.PytestUnraisableExceptionWarning", *files]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Result(mutation or "none", False, "error", f"timed out after {timeout:g} s", timeout)
    seconds = time.perf_counter() - start
    failed = re.findall(r"^FAILED (\S+)", done.stdout, re.MULTILINE)
    if done.returncode == 0:
        return Result(mutation or "none", False, "SURVIVED" if mutation else "passed", "every test passed", seconds)
    if done.returncode == 1 and failed:
        return Result(mutation or "none", True, "caught", failed[0], seconds)
    tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
    return Result(mutation or "none", False, "error", f"pytest exit {done.returncode}: {' | '.join(tail)}", seconds)


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mutation", description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", metavar="ENGINE:OP", help="mutations to run (default: all), "
                        "e.g. value:tanh tensor:linear")
    parser.add_argument("--factor", type=float, default=DEFAULT_FACTOR,
                        help=f"multiplier applied to the derivatives (default {DEFAULT_FACTOR})")
    parser.add_argument("--tests", nargs="+", default=list(DEFAULT_TESTS), metavar="GLOB",
                        help="test files to run against each mutation (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=1, help="mutations run in parallel (default 1)")
    parser.add_argument("--skip-baseline", action="store_true", help="do not check that the tests pass unmutated")
    parser.add_argument("--per-input", action="store_true",
                        help="also mutate each input of the multi-input ops alone (value:div@1, value:dot@b, ...)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(all_mutations(args.per_input)))
        return 0
    mutations = args.only or all_mutations(args.per_input)
    for spec in mutations:
        _op(spec)  # unknown names fail before anything runs
    files = _test_files(args.tests)
    print(f"tests: {' '.join(files)}\nfactor: {args.factor!r}; {len(mutations)} mutations")
    if not args.skip_baseline:
        base = run_one(None, args.factor, files)
        print(f"baseline (no mutation): {base.status} in {base.seconds:.1f} s")
        if base.status != "passed":
            print(f"the tests must pass without a mutation first: {base.detail}")
            return 2
    start = time.perf_counter()
    results: list[Result] = []
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for r in pool.map(lambda m: run_one(m, args.factor, files), mutations):
            results.append(r)
            print(f"  {r.mutation:<22} {r.status:<9} {r.seconds:6.1f} s  {r.detail}", flush=True)
    caught = sum(r.caught for r in results)
    print(f"caught {caught}/{len(results)} mutations (x {args.factor!r}) in {time.perf_counter() - start:.0f} s")
    missed = [r.mutation for r in results if not r.caught]
    if missed:
        print(f"NOT caught: {' '.join(missed)}")
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(_main())
