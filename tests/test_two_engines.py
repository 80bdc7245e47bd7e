"""One network, two engines: the same spec and seed build the same weights on ``"value"`` and ``"tensor"``;
with the same weights they give the same loss and gradients (to 1e-12), and both agree with the hand-written
numpy backprop of ``nn.numpy_reference``; optimizer steps and ``fit`` stay equal; ``MLP.to`` round-trips."""

import re

import numpy as np
import pytest

from autograd import Tensor, Value
from nn import MLP, SGD, Adam, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, fit, predict
from nn import data as datasets
from nn.numpy_reference import NumpyMLP

REPORT = dict(n_in=2, hidden=[16, 16], n_out=1, activations=["relu", "sigmoid", "sigmoid"])
TOL = 1e-12


def value_grads_as_arrays(model: MLP) -> dict[str, np.ndarray]:
    """The Value engine's per-scalar gradients w{j}{k}[l] and b{j}[l] put at W[l][j, k] and b[l][j], read from the
    parameter names alone (so this does not rely on ``grad_dict``)."""
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    grads = {k: np.full(shape, np.nan) for k, shape in shapes.items()}
    for name, p in model.named_parameters():
        assert isinstance(p, Value)
        w = re.fullmatch(r"w(\d)(\d)\[(\d+)\]|w(\d+)_(\d+)\[(\d+)\]", name)
        b = re.fullmatch(r"b(\d+)\[(\d+)\]", name)
        if w:
            j, k, l = (int(g) for g in (w.groups()[:3] if w[1] is not None else w.groups()[3:]))
            grads[f"W[{l}]"][j, k] = p.grad
        else:
            grads[f"b[{int(b[2])}]"][int(b[1])] = p.grad
    for key, array in grads.items():
        assert not np.isnan(array).any(), f"{key} has entries no parameter name maps to"
    return grads


def tensor_grads(model: MLP) -> dict[str, np.ndarray]:
    named = dict(model.named_parameters())
    assert all(isinstance(p, Tensor) for p in named.values())
    return {name: p.grad for name, p in named.items()}


def assert_close(got: dict, expected: dict, tol: float = TOL) -> None:
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key].shape == np.shape(expected[key]), key
        scale = max(1.0, float(np.max(np.abs(expected[key]))))
        np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=tol * scale, err_msg=key)


def both(model_kwargs: dict, seed: int = 0) -> tuple[MLP, MLP]:
    return MLP(**model_kwargs, seed=seed, engine="value"), MLP(**model_kwargs, seed=seed, engine="tensor")


# -- the same weights -----------------------------------------------------------------------


@pytest.mark.parametrize("init, bias", [("normal", True), ("xavier_uniform", True), ("he_normal", False)])
def test_same_spec_and_seed_give_identical_state_dicts(init, bias):
    kwargs = dict(REPORT, init=init, bias=bias)
    value, tensor = both(kwargs, seed=7)
    sv, st = value.state_dict(), tensor.state_dict()
    assert list(sv) == list(st) == ([f"{k}[{l}]" for l in (1, 2, 3) for k in ("W", "b")] if bias
                                    else ["W[1]", "W[2]", "W[3]"])
    for key in sv:
        assert sv[key].dtype == st[key].dtype == np.float64
        assert np.array_equal(sv[key], st[key]), key
    assert value.num_parameters() == tensor.num_parameters() == (337 if bias else 304)
    assert value.spec() == tensor.spec()
    # a different seed gives different weights (the test above could not pass by both ignoring the seed)
    assert not np.array_equal(MLP(**kwargs, seed=8, engine="tensor").state_dict()["W[2]"], st["W[2]"])


def test_to_round_trips_exactly_and_copies():
    value = MLP(**REPORT, seed=3)
    tensor = value.to("tensor")
    back = tensor.to("value")
    assert (value.engine, tensor.engine, back.engine) == ("value", "tensor", "value")
    for key, array in value.state_dict().items():
        assert np.array_equal(tensor.state_dict()[key], array) and np.array_equal(back.state_dict()[key], array)
    assert [n for n, _ in back.named_parameters()] == [n for n, _ in value.named_parameters()]
    X = np.random.default_rng(0).uniform(-1, 1, (9, 2))
    assert np.array_equal(predict(back, X), predict(value, X))
    np.testing.assert_allclose(predict(tensor, X), predict(value, X), rtol=1e-14, atol=0)
    # copies: training the Tensor model leaves the Value model as it was
    before = value.state_dict()["W[1]"].copy()
    dict(tensor.named_parameters())["W[1]"].data = np.zeros((16, 2))
    assert np.array_equal(value.state_dict()["W[1]"], before)


# -- the same loss and gradients --------------------------------------------------------------


def test_hand_table_net_gives_the_same_loss_and_gradients_on_both_engines_and_the_oracle():
    x, y = np.array([[0.5, -1.5]]), np.array([1.0])
    value, tensor = MLP.from_hand_table(), MLP.from_hand_table(engine="tensor")
    assert all(np.array_equal(a, tensor.state_dict()[k]) for k, a in value.state_dict().items())
    lv = MSELoss(reduction="half_sum")(value(x), y)
    lt = MSELoss(reduction="half_sum")(tensor(x), y)
    lv.backward()
    lt.backward()
    assert abs(lv.data - 0.10178005) < 5e-9 and abs(lt.item() - lv.data) <= 1e-15
    oracle_loss, oracle = NumpyMLP.from_state_dict(value.state_dict(), ["sigmoid", "sigmoid"]).named_gradients(x, y)
    # The oracle's loss is the mean (ŷ - y)²; for one sample C = ½ (ŷ - y)²: half the loss, half the gradients.
    assert abs(lt.item() - oracle_loss / 2) <= 1e-15
    half = {k: g / 2 for k, g in oracle.items()}
    assert_close(value_grads_as_arrays(value), half)
    assert_close(tensor_grads(tensor), half)
    # the oracle's numbers, to the 8 decimals the demo prints: ∂C/∂w01[1] and ∂C/∂b0[2]
    assert abs(half["W[1]"][0, 1] - 0.01219116) < 5e-9 and abs(half["b[2]"][0] + 0.11171860) < 5e-9


@pytest.mark.parametrize("activations", [REPORT["activations"], ["tanh", "leaky_relu", "identity"]])
def test_report_net_on_100_points_same_loss_and_gradients_on_both_engines_and_the_oracle(activations):
    X, y = datasets.generate_linear(n=100, seed=2)
    kwargs = dict(REPORT, activations=activations)
    value, tensor = both(kwargs, seed=5)
    lv, lt = MSELoss()(value(X), y), MSELoss()(tensor(X), y)
    lv.backward()
    lt.backward()
    oracle_loss, oracle = NumpyMLP.from_state_dict(value.state_dict(), activations).named_gradients(X, y)
    assert abs(lv.data - oracle_loss) <= TOL * oracle_loss and abs(lt.item() - oracle_loss) <= TOL * oracle_loss
    from_value = value_grads_as_arrays(value)
    assert_close(from_value, oracle)
    assert_close(tensor_grads(tensor), oracle)
    assert_close(tensor_grads(tensor), from_value)
    # grad_dict() gives that same layout on both engines
    assert_close(value.grad_dict(), from_value, tol=0)
    assert_close(tensor.grad_dict(), tensor_grads(tensor), tol=0)


def targets_for(loss, n_out: int, n: int, rng: np.random.Generator) -> np.ndarray:
    if isinstance(loss, CrossEntropyLoss):
        return rng.integers(0, n_out, n)
    if isinstance(loss, (BCELoss, BCEWithLogitsLoss)):
        return rng.uniform(0, 1, (n, n_out)).round(1)  # soft labels too, 0 and 1 included
    return rng.normal(0, 1, (n, n_out))


@pytest.mark.parametrize("loss, n_out, output", [
    (MSELoss("mean"), 2, "identity"), (MSELoss("sum"), 1, "tanh"), (MSELoss("half_sum"), 2, "sigmoid"),
    (BCELoss("mean"), 1, "sigmoid"), (BCELoss("sum"), 2, "sigmoid"),
    (BCEWithLogitsLoss("mean"), 1, "identity"), (BCEWithLogitsLoss("sum"), 2, "identity"),
    (CrossEntropyLoss("mean"), 3, "identity"), (CrossEntropyLoss("sum"), 4, "identity"),
], ids=lambda v: repr(v) if not isinstance(v, (int, str)) else str(v))
def test_every_loss_gives_the_same_value_and_gradients_on_both_engines(loss, n_out, output):
    rng = np.random.default_rng(4)
    X = rng.uniform(-2, 2, (12, 3))
    kwargs = dict(n_in=3, hidden=[5], n_out=n_out, activations=["tanh", output])
    value, tensor = both(kwargs, seed=11)
    target = targets_for(loss, n_out, len(X), rng)
    lv, lt = loss(value(X), target), loss(tensor(X), target)
    lv.backward()
    lt.backward()
    assert lt.shape == () and abs(lt.item() - lv.data) <= TOL * max(1.0, abs(lv.data))
    assert_close(tensor_grads(tensor), value_grads_as_arrays(value))


# -- optimizer steps and fit ---------------------------------------------------------------------


def test_several_sgd_momentum_and_adam_steps_stay_equal_across_engines_and_with_the_oracle():
    X, y = datasets.generate_XOR_easy()
    states = {}
    for engine in ("value", "tensor"):
        model = MLP(**REPORT, seed=2, engine=engine)
        fit(model, X, y, optimizer=SGD(model.parameters(), lr=0.5, momentum=0.9), epochs=4)
        fit(model, X, y, optimizer=Adam(model.parameters(), lr=0.01), epochs=4, batch_size=8, seed=3)
        states[engine] = model.state_dict()
    assert_close(states["tensor"], states["value"])
    assert not np.allclose(states["tensor"]["W[2]"], MLP(**REPORT, seed=2).state_dict()["W[2]"])  # they moved

    oracle = NumpyMLP.from_state_dict(MLP(**REPORT, seed=2).state_dict(), REPORT["activations"])
    model = MLP(**REPORT, seed=2, engine="tensor")
    history = fit(model, X, y, optimizer="sgd", lr=1.0, epochs=5)
    losses = [oracle.sgd_step(X, y, lr=1.0) for _ in range(5)]
    np.testing.assert_allclose(history.loss, losses, rtol=TOL, atol=0)
    assert_close(model.state_dict(), oracle.state_dict())


def test_fit_histories_are_equal_on_both_engines():
    X, y = datasets.generate_linear(n=30, seed=1)
    histories = {}
    for engine in ("value", "tensor"):
        model = MLP(2, [6], 1, activations=["relu", "sigmoid"], seed=4, engine=engine)
        histories[engine] = fit(model, X, y, loss="bce", optimizer="sgd", lr=0.5, epochs=6, batch_size=7, seed=1)
    np.testing.assert_allclose(histories["tensor"].loss, histories["value"].loss, rtol=TOL, atol=0)
    assert histories["tensor"].accuracy == histories["value"].accuracy
