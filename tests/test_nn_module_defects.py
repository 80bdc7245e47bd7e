"""Defects of the nn modules found by a tester: state-dict keys that collide or change under a container,
a Neuron without state, dependent dropouts, MLP.to() sharing objects, dtypes and complex values in the state
dict, Sequential slicing, and data-set arguments that were ignored. Expected values are computed here with
numpy from the arrays put in, never read back from the code under test."""

import warnings

import numpy as np
import pytest

import nn
from autograd import Tensor
from nn import data

RNG = np.random.default_rng(2024)


def relu(x):
    return np.maximum(x, 0.0)


def random_state(shapes: dict) -> dict:
    return {key: RNG.normal(size=shape) for key, shape in shapes.items()}


class Two(nn.Module):
    """The tester's module: two Linear layers, both at the default index 1 unless told."""

    def __init__(self, second_index: int = 1):
        self.a = nn.Linear(2, 3, "relu", seed=0)
        self.b = nn.Linear(3, 1, index=second_index, seed=1)

    def forward(self, x):
        return self.b(self.a(x))


# -- 1. keys that collide ------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda m: m.state_dict(),
    lambda m: list(m.named_parameters()),
    lambda m: m.grad_dict(),
    lambda m: m.load_state_dict({}),
])
def test_two_layers_giving_the_same_key_are_refused_naming_the_key_and_the_fix(call):
    model = Two()
    assert model.num_parameters() == 13  # both layers still train
    with pytest.raises(ValueError, match=r"two layers give the key 'W\[1\]'.*own index.*nn\.Sequential"):
        call(model)


def test_layers_with_their_own_indices_round_trip_every_weight():
    model = Two(second_index=2)
    state = random_state({"W[1]": (3, 2), "b[1]": (3,), "W[2]": (1, 3), "b[2]": (1,)})
    model.load_state_dict(state)
    assert sorted(model.state_dict()) == sorted(state)
    x = RNG.normal(size=(4, 2))
    expected = relu(x @ state["W[1]"].T + state["b[1]"]) @ state["W[2]"].T + state["b[2]"]
    np.testing.assert_allclose(model(Tensor(x)).data, expected, rtol=1e-12, atol=1e-12)


def test_the_same_layer_used_twice_is_shared_weights_not_a_clash():
    shared = nn.Linear(2, 2, seed=3)

    class Tied(nn.Module):
        def __init__(self):
            self.a, self.b = shared, shared

    assert [name for name, _ in Tied().named_parameters()] == ["W[1]", "b[1]"]
    assert sorted(Tied().state_dict()) == ["W[1]", "b[1]"]


def test_a_sequential_of_value_layers_names_them_by_position_and_round_trips():
    model = nn.Sequential(nn.Layer(2, 3, "relu", seed=0), nn.Layer(3, 1, seed=1))
    names = [name for name, _ in model.named_parameters()]
    assert len(names) == len(set(names)) == 13
    assert names[:3] == ["0.w00[1]", "0.w01[1]", "0.b0[1]"] and names[-1] == "1.b0[1]"
    shapes = {"0.weight": (3, 2), "0.bias": (3,), "1.weight": (1, 3), "1.bias": (1,)}
    assert {k: v.shape for k, v in model.state_dict().items()} == shapes
    state = random_state(shapes)
    model.load_state_dict(state)
    model.load_state_dict(model.state_dict())  # reloading its own state changes nothing
    x = RNG.normal(size=2)
    expected = relu(state["0.weight"] @ x + state["0.bias"]) @ state["1.weight"].T + state["1.bias"]
    out = model(list(x))
    assert len(out) == 1 and out[0].data == pytest.approx(expected[0], rel=1e-12, abs=1e-12)


def test_a_sequential_of_two_mlps_keeps_each_ones_weights_through_a_reload():
    first = nn.MLP(2, 3, 2, engine="tensor", seed=1)
    second = nn.MLP(2, 4, 1, engine="tensor", seed=2)
    own = [{k: v.copy() for k, v in m.state_dict().items()} for m in (first, second)]
    model = nn.Sequential(first, second)
    assert list(model.state_dict()) == [f"{i}.{k}" for i in (0, 1) for k in ("W[1]", "b[1]", "W[2]", "b[2]")]
    model.load_state_dict(model.state_dict())
    for m, before in zip((first, second), own):
        assert list(m.state_dict()) == list(before)  # each MLP keeps its own key format
        assert all(np.array_equal(m.state_dict()[k], before[k]) for k in before)
    x = RNG.normal(size=(5, 2))
    a, b = own
    h = relu(x @ a["W[1]"].T + a["b[1]"]) @ a["W[2]"].T + a["b[2]"]
    expected = relu(h @ b["W[1]"].T + b["b[1]"]) @ b["W[2]"].T + b["b[2]"]
    np.testing.assert_allclose(model(Tensor(x)).data, expected, rtol=1e-12, atol=1e-12)


# -- 2. a Sequential does not rename the layers it is given --------------------------------------------------


def test_building_a_sequential_leaves_the_model_the_layers_came_from_working():
    mlp = nn.MLP(2, 3, 1, engine="tensor", seed=4)
    before = {k: v.copy() for k, v in mlp.state_dict().items()}
    seq = nn.Sequential(*mlp.layers)
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert list(mlp.state_dict()) == ["W[1]", "b[1]", "W[2]", "b[2]"]
    assert [name for name, _ in mlp.named_parameters()] == ["W[1]", "b[1]", "W[2]", "b[2]"]
    value = mlp.to("value")  # was: missing entries ['W[1]', ...]; unexpected ['0.weight', ...]
    x = RNG.normal(size=2)
    expected = relu(before["W[1]"] @ x + before["b[1]"]) @ before["W[2]"].T + before["b[2]"]
    assert value(list(x)).data == pytest.approx(expected[0], rel=1e-12, abs=1e-12)
    mlp.load_state_dict(before)  # its own format still loads


def test_a_conv_in_two_sequentials_is_named_by_its_place_in_each():
    conv = nn.Conv2d(1, 2, 3, seed=0)
    first = nn.Sequential(conv, nn.Flatten())
    second = nn.Sequential(nn.Flatten(), nn.Flatten(), conv)
    assert list(first.state_dict()) == ["0.weight", "0.bias"]
    assert list(second.state_dict()) == ["2.weight", "2.bias"]
    assert [name for name, _ in conv.named_parameters()] == ["weight", "bias"]


# -- 3. a Neuron's state -------------------------------------------------------------------------------------


def test_a_neuron_saves_and_restores_its_weights_named_as_a_layer_names_them():
    neuron = nn.Neuron([0.1, 0.2], bias=0.5)
    state = neuron.state_dict()
    assert list(state) == ["w00[1]", "w01[1]", "b0[1]"] == [name for name, _ in neuron.named_parameters()]
    assert [float(state[k]) for k in state] == [0.1, 0.2, 0.5] and all(a.dtype == np.float64 for a in state.values())
    x = [3.0, -2.0]
    neuron(x).backward()
    assert {k: float(v) for k, v in neuron.grad_dict().items()} == {"w00[1]": 3.0, "w01[1]": -2.0, "b0[1]": 1.0}
    with pytest.raises(ValueError, match=r"missing entries \['w01\[1\]', 'b0\[1\]'\].*nothing was loaded"):
        neuron.load_state_dict({"w00[1]": 9.0})
    neuron.load_state_dict({"w00[1]": 9.0, "w01[1]": -1.0, "b0[1]": 0.25})
    assert neuron(x).data == pytest.approx(9.0 * 3.0 + -1.0 * -2.0 + 0.25)
    assert nn.Neuron([1.0] * 11, j=10, l=2).state_dict().keys() >= {"w10_10[2]", "b10[2]"}


# -- 4. dropouts at the default seed -------------------------------------------------------------------------


def test_dropouts_at_the_default_seed_draw_independent_masks():
    model = nn.Sequential(nn.Linear(6, 6), nn.Dropout(0.5), nn.Linear(6, 6, seed=1), nn.Dropout(0.5))
    x = Tensor(np.ones((400, 50)))
    first, second = model[1](x).data != 0, model[3](x).data != 0
    assert not np.array_equal(first, second)
    assert 0.45 < np.mean(first == second) < 0.55  # independent masks agree on about half the elements


def test_seeded_dropouts_and_the_cnn_still_repeat_exactly():
    x = np.ones((20, 30))
    assert np.array_equal(nn.Dropout(0.5, seed=7)(x).data, nn.Dropout(0.5, seed=7)(x).data)
    from nn.cnn import digits_cnn
    images = RNG.random((3, 1, 8, 8))
    one, two = digits_cnn(seed=3), digits_cnn(seed=3)  # training mode: dropout on
    assert np.array_equal(one(images).data, two(images).data)


# -- 5. and 10. data-set arguments ---------------------------------------------------------------------------


def test_digits_split_refuses_a_split_leaving_a_digit_without_training_images():
    with pytest.raises(ValueError, match=r"test_size=0\.999 leaves no training image of digit 0"):
        data.digits_split(0.999)
    X_train, X_test, y_train, y_test = data.digits_split(0.99)
    assert set(y_train.tolist()) == set(y_test.tolist()) == set(range(10)) and len(X_train) == 10


def test_train_test_split_refuses_a_shuffle_that_is_not_a_bool():
    X, y = np.arange(10.0)[:, None], np.arange(10.0)
    with pytest.raises(TypeError, match="shuffle must be True or False, got str: 'no'"):
        data.train_test_split(X, y, 0.2, shuffle="no")
    assert data.train_test_split(X, y, 0.2, shuffle=False)[1].ravel().tolist() == [0.0, 1.0]


@pytest.mark.parametrize("name", ["xor", "iris", "digits"])
def test_load_refuses_n_for_a_fixed_data_set(name):
    with pytest.raises(ValueError, match=rf"data set '{name}' is fixed: n=5 .*linear, moons, blobs"):
        data.load(name, n=5)
    assert len(data.load("moons", n=5)[0]) == 5


# -- 6. slicing a Sequential ---------------------------------------------------------------------------------


def test_a_slice_of_a_sequential_is_a_sequential_and_leaves_the_original_named_as_it_was():
    model = nn.Sequential(nn.Linear(2, 3, seed=0), nn.ReLU(), nn.Linear(3, 1, seed=1))
    W, b = model[2].W.data.copy(), model[2].b.data.copy()
    tail = model[1:]
    assert isinstance(tail, nn.Sequential) and len(tail) == 2 and tail[1] is model[2]
    x = RNG.normal(size=(4, 3))
    np.testing.assert_allclose(tail(Tensor(x)).data, relu(x) @ W.T + b, rtol=1e-12, atol=1e-12)
    assert list(tail.state_dict()) == ["1.weight", "1.bias"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert model[-1] is model[2]
    with pytest.raises(IndexError, match="index 5 is out of range: this Sequential has 3 layers"):
        model[5]
    with pytest.raises(ValueError, match="selects none of this Sequential's 3 layers"):
        model[5:]
    with pytest.raises(TypeError, match="indices must be ints or slices, got str"):
        model["0"]


# -- 7. MLP.to() and spec() ----------------------------------------------------------------------------------


def test_to_keeps_the_mode_and_shares_no_activation_with_the_original():
    model = nn.MLP(2, [3], 1, activations=["leaky_relu", "sigmoid"], seed=0).eval()
    copy = model.to("tensor")
    assert not copy.training and not any(m.training for m in copy.modules())
    assert all(a is not b and a == b for a, b in zip(copy.activations, model.activations))
    copy.train()
    assert not any(m.training for m in model.modules())  # b.train() used to flip a's activations
    rebuilt = nn.MLP(**model.spec())
    rebuilt.train()
    assert not any(a.training for a in model.activations)


def test_to_draws_nothing_from_the_callers_generator():
    generator = np.random.default_rng(11)
    model = nn.MLP(2, [3], 1, seed=generator)
    where = generator.bit_generator.state
    copy = model.to("tensor")
    assert generator.bit_generator.state == where
    x = RNG.normal(size=(3, 2))
    s = model.state_dict()
    np.testing.assert_allclose(copy(Tensor(x)).data, relu(x @ s["W[1]"].T + s["b[1]"]) @ s["W[2]"].T + s["b[2]"],
                               rtol=1e-12, atol=1e-12)


# -- 8. complex arrays ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.ones((3, 2)) + 1j, [[np.complex128(1j)] * 2] * 3])
def test_load_state_dict_refuses_complex_values_and_loads_nothing(bad):
    model = nn.MLP(2, 3, 1, engine="tensor", seed=0)
    before = model.state_dict()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's ComplexWarning would mean the imaginary part was dropped
        with pytest.raises(TypeError, match=r"entry 'W\[1\]' must be an array of real numbers, got complex"):
            model.load_state_dict(dict(before, **{"W[1]": bad}))
        with pytest.raises(TypeError, match="Conv2d.from_arrays weight must be an array of real numbers, got complex"):
            nn.Conv2d.from_arrays(np.ones((1, 1, 2, 2)) * 1j, None)
        with pytest.raises(TypeError, match="Linear W must be an array of real numbers, got complex"):
            nn.Linear.from_arrays(bad, None, "relu", 1)
    assert all(np.array_equal(v, before[k]) for k, v in model.state_dict().items())


# -- 9. dtypes -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda: nn.Linear(2, 3, seed=0), lambda: nn.Conv2d(1, 2, 3, seed=0)])
def test_a_float32_layer_gives_float64_copies_and_stays_float32_when_loaded(make):
    layer = make()
    for p in layer.parameters():
        p.data = p.data.astype(np.float32)
    float32 = [p.data.copy() for p in layer.parameters()]
    state = layer.state_dict()
    assert all(a.dtype == np.float64 for a in state.values())
    assert all(np.array_equal(a, w.astype(np.float64)) for a, w in zip(state.values(), float32))
    new = {k: RNG.normal(size=v.shape) for k, v in state.items()}
    layer.load_state_dict(new)
    assert all(p.data.dtype == np.float32 for p in layer.parameters())
    assert all(np.array_equal(p.data, new[k].astype(np.float32)) for p, k in zip(layer.parameters(), new))


def test_a_value_layer_gives_float64_copies():
    layer = nn.Layer(2, 3, seed=0)
    assert all(a.dtype == np.float64 for a in layer.state_dict().values())
