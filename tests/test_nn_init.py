"""nn.init: exact values for a fixed seed against numpy's Generator, the statistics and bounds of each scheme."""

import math

import numpy as np
import pytest

from nn import MLP, init

SHAPE = (3, 4)  # (n_out, n_in): fan_in 4, fan_out 3


@pytest.mark.parametrize("name, call, draw", [
    ("normal", lambda s: init.normal(SHAPE, seed=s), lambda g: g.normal(0.0, 1.0, SHAPE)),
    ("normal(2, 0.5)", lambda s: init.normal(SHAPE, mean=2.0, std=0.5, seed=s), lambda g: g.normal(2.0, 0.5, SHAPE)),
    ("uniform", lambda s: init.uniform(SHAPE, seed=s), lambda g: g.uniform(0.0, 1.0, SHAPE)),
    ("xavier_normal", lambda s: init.xavier_normal(SHAPE, seed=s), lambda g: g.normal(0.0, math.sqrt(2 / 7), SHAPE)),
    ("xavier_uniform", lambda s: init.xavier_uniform(SHAPE, seed=s),
     lambda g: g.uniform(-math.sqrt(6 / 7), math.sqrt(6 / 7), SHAPE)),
    ("he_normal", lambda s: init.he_normal(SHAPE, seed=s), lambda g: g.normal(0.0, math.sqrt(2) / math.sqrt(4), SHAPE)),
    ("he_uniform", lambda s: init.he_uniform(SHAPE, seed=s),
     lambda g: g.uniform(-math.sqrt(2) * math.sqrt(3 / 4), math.sqrt(2) * math.sqrt(3 / 4), SHAPE)),
    ("he_normal fan_out", lambda s: init.he_normal(SHAPE, mode="fan_out", seed=s),
     lambda g: g.normal(0.0, math.sqrt(2) / math.sqrt(3), SHAPE)),
])
def test_exact_values_for_a_seed_and_for_a_generator(name, call, draw):
    expected = draw(np.random.default_rng(1234))
    got = call(1234)
    assert got.dtype == np.float64 and got.shape == SHAPE
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(call(1234), got)  # same seed, same weights
    assert not np.array_equal(call(1235), got)
    # A Generator is used and advanced: two calls give the generator's next two draws.
    g, reference = np.random.default_rng(99), np.random.default_rng(99)
    first, second = call(g), call(g)
    np.testing.assert_array_equal(first, draw(reference))
    np.testing.assert_array_equal(second, draw(reference))


@pytest.mark.parametrize("name, std", [
    ("normal", 1.0),
    ("xavier_normal", math.sqrt(2 / (500 + 400))),
    ("he_normal", math.sqrt(2 / 500)),
])
def test_normal_schemes_have_the_stated_spread(name, std):
    w = init.get_initializer(name)((400, 500), seed=0)  # 200,000 draws: the sample std is within 1% w.h.p.
    assert abs(w.mean()) < 0.01 * std
    assert abs(w.std() / std - 1) < 0.01


@pytest.mark.parametrize("name, bound", [
    ("xavier_uniform", math.sqrt(6 / (500 + 400))),
    ("he_uniform", math.sqrt(2) * math.sqrt(3 / 500)),
])
def test_uniform_schemes_stay_within_their_bounds(name, bound):
    w = init.get_initializer(name)((400, 500), seed=0)
    assert w.min() >= -bound and w.max() <= bound
    assert w.min() < -0.999 * bound and w.max() > 0.999 * bound
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.01  # U(-a, a) has std a / sqrt 3


def test_uniform_default_is_zero_to_one():
    w = init.uniform((100, 100), seed=0)
    assert 0.0 <= w.min() and w.max() < 1.0 and abs(w.mean() - 0.5) < 0.01


def test_aliases_and_gains():
    assert init.get_initializer("glorot_uniform") is init.xavier_uniform
    assert init.get_initializer("kaiming_normal") is init.he_normal
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert init.fans((3, 4)) == (4, 3) and init.fans(5) == (5, 5)


def test_init_mlp_draws_w_then_b_per_layer_from_one_generator():
    layers = init.init_mlp([2, 3, 1], "normal", seed=5)
    g = np.random.default_rng(5)
    for (W, b), (n_out, n_in) in zip(layers, [(3, 2), (1, 3)]):
        np.testing.assert_array_equal(W, g.normal(0, 1, (n_out, n_in)))
        np.testing.assert_array_equal(b, g.normal(0, 1, (n_out,)))
    (W1, b1), (W2, b2) = init.init_mlp([2, 3, 1], "he_uniform", seed=5)
    assert not b1.any() and not b2.any()  # Xavier / He: zero biases
    assert all(b is None for _, b in init.init_mlp([2, 3, 1], seed=5, bias=False))


@pytest.mark.parametrize("scheme", sorted(init.INITIALIZERS))
def test_mlp_weights_are_init_mlp_weights(scheme):
    model = MLP(4, [6], 2, activations=["relu", "identity"], init=scheme, seed=21)
    state = model.state_dict()
    for l, (W, b) in enumerate(init.init_mlp([4, 6, 2], scheme, seed=21), start=1):
        np.testing.assert_array_equal(state[f"W[{l}]"], W)
        np.testing.assert_array_equal(state[f"b[{l}]"], b)


@pytest.mark.parametrize("call, error, message", [
    (lambda: init.normal((2, 2), seed=-1), TypeError, "seed must be a non-negative int"),
    (lambda: init.normal((2, 2), seed="a"), TypeError, "seed must be"),
    (lambda: init.normal((2, 0)), ValueError, "positive ints"),
    (lambda: init.normal("ab"), TypeError, "shape must be"),
    (lambda: init.normal((2, 2), std=0), ValueError, "std must be a positive"),
    (lambda: init.uniform((2, 2), low=1, high=1), ValueError, "low < high"),
    (lambda: init.he_normal((2, 2), mode="fan"), ValueError, "mode must be"),
    (lambda: init.get_initializer("orthogonal"), ValueError, "unknown initializer 'orthogonal'"),
    (lambda: init.calculate_gain("selu"), ValueError, "unknown nonlinearity"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
