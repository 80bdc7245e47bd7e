"""The mutation script (bench/mutation.py, issue 6 item 6): a mutation is applied exactly, restored, and
a mutated derivative is caught by the gradient tests while an unchanged one is reported as surviving."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograd import Tensor, Value, dot
from bench.mutation import all_mutations, apply_mutation

ROOT = Path(__file__).resolve().parent.parent


def test_a_mutation_scales_exactly_one_ops_derivative_and_is_restored():
    x = Value(0.4)
    (x.tanh() * x.exp()).backward()
    clean = x.grad
    with apply_mutation("value:tanh", 1.001):
        x.grad = 0.0
        (x.tanh() * x.exp()).backward()
        mutated = x.grad
    t = 1 - np.tanh(0.4) ** 2
    # d/dx tanh(x) e^x = tanh' e^x + tanh e^x: only the first term is scaled
    assert mutated - clean == pytest.approx(0.001 * t * np.exp(0.4), rel=1e-9)
    x.grad = 0.0
    (x.tanh() * x.exp()).backward()
    assert x.grad == clean


def test_per_input_mutations_touch_only_their_input():
    w, xs, b = [Value(2.0), Value(3.0)], [Value(5.0), Value(7.0)], Value(1.0)
    with apply_mutation("value:dot@b", 1.5):
        dot(w, xs, b).backward()
    assert [v.grad for v in w + xs] == [5.0, 7.0, 2.0, 3.0] and b.grad == 1.5
    a = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0], requires_grad=True)
    with apply_mutation("tensor:mul@1", 2.0):
        (a * c).sum().backward()
    assert a.grad.tolist() == [3.0, 4.0] and c.grad.tolist() == [2.0, 4.0]


def test_every_op_of_both_engines_is_listed():
    from autograd.tensor import TENSOR_OPS
    from autograd.value import SCALAR_OPS
    from bench.mutation import SECOND_ORDER

    second = sum(len(names) for names in SECOND_ORDER.values())
    assert len(all_mutations()) == len(SCALAR_OPS) + len(TENSOR_OPS) + second
    with pytest.raises(ValueError, match="unknown mutation 'value:nope'"):
        apply_mutation("value:nope")


def _run(*args):
    return subprocess.run([sys.executable, "-m", "bench.mutation", "--skip-baseline", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_the_script_reports_a_mutation_caught_and_an_unchanged_derivative_surviving():
    caught = _run("--only", "value:tanh", "--tests", "tests/test_check.py")
    assert caught.returncode == 0, caught.stdout + caught.stderr
    assert "value:tanh             caught" in caught.stdout and "caught 1/1 mutations (x 1.001)" in caught.stdout
    survived = _run("--only", "value:tanh", "--factor", "1.0", "--tests", "tests/test_gradcheck_self.py")
    assert survived.returncode == 1 and "SURVIVED" in survived.stdout and "NOT caught: value:tanh" in survived.stdout


def test_a_second_order_mutation_keeps_first_derivatives_and_bends_second_ones():
    import autograd

    x = Value(0.4)
    with apply_mutation("value2:tanh", 1.001):
        first = autograd.grad(x.tanh(), x)
        second = autograd.hessian(lambda v: v.tanh(), 0.4)[0, 0]
    t = np.tanh(0.4)
    assert first == pytest.approx(1 - t * t, rel=1e-15)
    assert second == pytest.approx(1.001 * (-2 * t * (1 - t * t)), rel=1e-12)
