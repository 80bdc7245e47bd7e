"""Anomaly mode (``autograd.detect_anomaly``) and the training loop's nan/inf stop (issue 6, item 2)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd
from autograd import AnomalyError, Tensor, Value, detect_anomaly, is_anomaly_enabled
from nn import MLP, SGD, fit
from nn import data as datasets
from nn.layers import ENGINES
from nn.losses import MSELoss

# -- forward ------------------------------------------------------------------------------------------


def test_forward_overflow_raises_naming_the_op_and_its_inputs():
    z = Value(1000.0, label="z0[1]")
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        z.exp()
    error = caught.value
    assert isinstance(error, ValueError)  # a documented ValueError subclass
    assert error.phase == "forward" and error.op == "exp" and error.inputs == (z,)
    message = str(error)
    assert "forward of operation 'exp' produced inf" in message
    assert "input 0 'z0[1]' = 1000.0" in message


def test_the_first_non_finite_operation_is_the_one_named():
    a, b = Value(1e200, label="a"), Value(3.0, label="b")
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        c = a * b  # 3e200: finite
        d = c * a  # 3e400: inf, the first anomaly
        (d - d) * b  # would be nan, never reached
    assert caught.value.op == "mul" and caught.value.inputs[1] is a
    assert "(unlabelled result of mul) = 3e+200" in str(caught.value) and "'a' = 1e+200" in str(caught.value)
    assert "produced inf" in str(caught.value)


def test_nan_made_from_finite_inputs_is_reported_as_nan():
    big = Value(1e308, label="big")
    inf_minus_inf = None
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"operation 'add' produced inf"):
        inf_minus_inf = big + big
    assert inf_minus_inf is None
    # Outside anomaly mode the same arithmetic gives IEEE's answers, silently.
    s = big + big
    assert s.data == math.inf and math.isnan((s - s).data)


def test_an_already_non_finite_input_is_pointed_out():
    x = Value(math.nan, label="x")
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"input 0 is already not finite.*'x' = nan"):
        x * 2.0


def test_outside_anomaly_mode_nothing_is_checked():
    assert not is_anomaly_enabled()
    assert Value(1000.0).exp().data == math.inf
    x = Value(0.0)
    y = x**0.5
    y.backward()
    assert x.grad == math.inf
    t = Tensor([0.0, 4.0], requires_grad=True)
    (t**0.5).sum().backward()
    assert t.grad[0] == math.inf and t.grad[1] == 0.25


def test_mode_nests_and_is_restored_after_an_error():
    with detect_anomaly():
        assert is_anomaly_enabled()
        with detect_anomaly():
            assert is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    with pytest.raises(AnomalyError), detect_anomaly():
        Value(800.0).exp()
    assert not is_anomaly_enabled()
    assert Value(800.0).exp().data == math.inf


def test_finite_computations_are_unchanged_in_anomaly_mode():
    def run():
        x, w = Value(0.3, "x"), Value(-1.2, "w")
        loss = ((w * x).sigmoid() - 1.0) ** 2 + (w * w).log() + x.softplus()
        loss.backward()
        return loss.data, x.grad, w.grad

    plain = run()
    with detect_anomaly():
        checked = run()
    assert plain == checked


# -- backward -----------------------------------------------------------------------------------------


def test_backward_inf_contribution_raises_naming_op_input_and_local_derivative():
    x = Value(0.0, label="x")
    y = x**0.5  # forward 0.0 is finite; d sqrt(x)/dx at 0 is inf
    y.label = "y"
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        y.backward()
    error = caught.value
    assert error.phase == "backward" and error.op == "pow" and error.input_index == 0
    message = str(error)
    assert "backward of operation 'pow' (node 'y' = 0.0) gave inf as the gradient contribution to input 0 'x'" \
        in message
    assert "upstream gradient 1.0" in message and "local derivative ∂out/∂in0 = inf" in message


def test_backward_nan_contribution_is_caught_at_its_op():
    x = Value(0.0, label="x")
    root = (x**0.5) * 0.0  # upstream 0 times local inf = nan at the pow node
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"operation 'pow' .* gave nan .* upstream gradient 0.0"):
        root.backward()


def test_tensor_backward_is_checked_by_the_shared_driver():
    t = Tensor([0.0, 1.0, 4.0], label="t", requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        (t**0.5).sum().backward()
    assert caught.value.op == "pow" and caught.value.phase == "backward"
    assert "1 inf entries (of 3)" in str(caught.value) and "input 0 't' = [0., 1., 4.] (shape (3,))" in str(
        caught.value)


# -- the training loop -----------------------------------------------------------------------------------


def _diverging_setup():
    X, y = datasets.generate_linear(n=10, seed=0)
    return X, y, MLP(2, [8], 1, activations=["relu", "identity"], seed=0)


def _first_non_finite_epoch(model, X, y, lr, epochs):
    """The same SGD loop written out here: the first epoch whose loss is not finite, and the weights that
    gave the last finite loss (those the step of the epoch before started from)."""
    opt = SGD(model.parameters(), lr=lr)
    gave_finite = None
    for epoch in range(1, epochs + 1):
        opt.zero_grad()
        loss = MSELoss()(model(X), y)
        if not math.isfinite(loss.data):
            return epoch, gave_finite
        gave_finite = model.state_dict()
        loss.backward()
        opt.step()
    raise AssertionError("the run did not diverge")


def test_fit_names_the_epoch_that_went_wrong_and_keeps_the_weights_before_it():
    X, y, reference = _diverging_setup()
    bad_epoch, last_finite_weights = _first_non_finite_epoch(reference, X, y, lr=50.0, epochs=500)
    assert bad_epoch > 2  # a few finite epochs first, so "the weights before it" means something
    _, _, model = _diverging_setup()
    history = fit(model, X, y, lr=50.0, epochs=500, print_fn=lambda s: None)
    assert history.stopped.startswith(f"Stopped at epoch {bad_epoch}: the loss became ")
    assert f"(epoch {bad_epoch - 1})" in history.stopped and "learning rate 50" in history.stopped
    assert history.epochs == bad_epoch - 1
    state = model.state_dict()
    assert all(np.array_equal(state[k], last_finite_weights[k]) for k in state)
    assert all(np.isfinite(v).all() for v in state.values())


def test_fit_in_anomaly_mode_stops_at_or_before_that_epoch_naming_an_op():
    X, y, reference = _diverging_setup()
    bad_epoch, _ = _first_non_finite_epoch(reference, X, y, lr=50.0, epochs=500)
    _, _, model = _diverging_setup()
    logged = []
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        fit(model, X, y, lr=50.0, epochs=500, log_every=1, print_fn=logged.append)
    assert len(logged) + 1 <= bad_epoch  # anomaly mode sees the overflow no later than the loss does
    assert caught.value.op in autograd.SCALAR_OPS and "its inputs: input 0" in str(caught.value)


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("name", ["xor", "linear"])
def test_the_reports_learning_rate_10_ends_cleanly_with_and_without_anomaly_mode(engine, name):
    X, y = datasets.load(name, n=21) if name == "linear" else datasets.load(name)
    epochs = 40 if engine == "value" else 2000  # the Value engine is ~300 times slower per epoch
    histories, weights = [], []
    for checked in (False, True):
        model = MLP(2, [16, 16], 1, activations=["relu", "sigmoid", "sigmoid"], seed=0, engine=engine)
        if checked:
            with detect_anomaly():
                histories.append(fit(model, X, y, lr=10.0, epochs=epochs, print_fn=lambda s: None))
        else:
            histories.append(fit(model, X, y, lr=10.0, epochs=epochs, print_fn=lambda s: None))
        weights.append(model.state_dict())
    plain, checked = histories
    assert plain.stopped is None and checked.stopped is None and plain.epochs == epochs
    assert plain.loss == checked.loss and all(math.isfinite(v) for v in plain.loss)
    assert all(np.array_equal(weights[0][k], weights[1][k]) for k in weights[0])


# -- the Tensor engine's forward ---------------------------------------------------------------------


def test_tensor_forward_overflow_raises_instead_of_numpys_warning():
    a = Tensor([1.0, 1e200], label="a", requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        a * a
    assert caught.value.op == "mul" and caught.value.phase == "forward"
    assert "produced 1 inf entries (of 2)" in str(caught.value) and "input 0 'a' = [1.e+000, 1.e+200]" in str(
        caught.value)
    with pytest.warns(RuntimeWarning, match="overflow"):  # outside: numpy's own warning and inf
        assert (a * a).data[1] == math.inf


@pytest.mark.parametrize("make", [
    lambda t: (t - 2.0).log(),  # DomainError stays a DomainError (raised before the result exists)
    lambda t: t / (t - t),
])
def test_domain_errors_keep_their_type_in_anomaly_mode(make):
    t = Tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(autograd.DomainError) as caught:
        make(t)
    assert not isinstance(caught.value, AnomalyError)


def test_tensor_nan_from_a_leaf_is_reported_with_the_leaf():
    t = Tensor([1.0, math.nan], label="t", requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"input 0 is already not finite.*'t' = \[ 1., nan\]"):
        t.tanh()


def test_tensor_softmax_of_huge_logits_passes_anomaly_mode():
    z = Tensor([[1e6, -1e6, 0.0]], requires_grad=True)
    with detect_anomaly():
        loss = -z.log_softmax(axis=-1)[0, 0] - z.softmax(axis=-1).sum() + z.softplus().sum()
        loss.backward()
    assert np.isfinite(z.grad).all() and np.isfinite(loss.data)
