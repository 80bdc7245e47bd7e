"""nn.to_torch / nn.from_torch (issue 14): the same float64 weights give the same loss and gradients (to
1e-10) for the MLPs and the CNN, and a round trip is exact. Skipped without PyTorch (the message telling
what to install is tested in tests/test_nn_conv.py)."""

from __future__ import annotations

import numpy as np
import pytest

import nn
from nn.cnn import digits_cnn

torch = pytest.importorskip("torch")


def our_loss_and_grads(model, X, y):
    model.zero_grad()
    loss = nn.CrossEntropyLoss()(model(X), y)
    loss.backward()
    return float(loss.data), model.grad_dict()  # a Value's or a one-element Tensor's data


def torch_loss_and_grads(tmodel, X, y):
    tmodel.zero_grad()
    loss = torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(X)), torch.from_numpy(y))
    loss.backward()
    return loss.item(), [p.grad.numpy() for p in tmodel.parameters()]


def test_the_cnn_gives_the_same_loss_and_gradients_in_torch():
    rng = np.random.default_rng(0)
    X, y = rng.uniform(0, 1, (16, 1, 8, 8)), rng.integers(0, 10, 16)
    for activation in ("relu", "sigmoid", "tanh", "leaky_relu"):
        model = digits_cnn(activation, "he_uniform", seed=3).eval()  # dropout off: the same function on both
        tmodel = nn.to_torch(model)
        assert isinstance(tmodel, torch.nn.Sequential) and not tmodel.training
        assert list(tmodel.state_dict()) == list(model.state_dict())  # "0.weight", "0.bias", ...
        assert all(p.dtype == torch.float64 for p in tmodel.parameters())
        loss, grads = our_loss_and_grads(model, X, y)
        tloss, tgrads = torch_loss_and_grads(tmodel, X, y)
        assert abs(loss - tloss) <= 1e-10
        for ours, theirs in zip(grads.values(), tgrads):
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10)


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_an_mlp_gives_the_same_loss_and_gradients_in_torch(engine):
    model = nn.MLP(4, [5, 3], 3, activations=["tanh", "leaky_relu", "identity"], init="xavier_normal", seed=2,
                   engine=engine)
    tmodel = nn.to_torch(model)
    kinds = [type(m).__name__ for m in tmodel]
    assert kinds == ["Linear", "Tanh", "Linear", "LeakyReLU", "Linear"]
    X, y = np.random.default_rng(1).normal(size=(6, 4)), np.array([0, 1, 2, 2, 1, 0])
    loss, grads = our_loss_and_grads(model, X, y)
    tloss, tgrads = torch_loss_and_grads(tmodel, X, y)
    assert abs(loss - tloss) <= 1e-10
    for ours, theirs in zip(grads.values(), tgrads):  # W[1], b[1], W[2], ... in the same order
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10)


def test_round_trips_are_exact():
    model = digits_cnn("tanh", "xavier_uniform", seed=5)
    back = nn.from_torch(nn.to_torch(model))
    assert isinstance(back, nn.Sequential) and back.training
    assert [type(m) for m in back] == [type(m) for m in model]
    for name, array in model.state_dict().items():
        assert np.array_equal(back.state_dict()[name], array)
    f64 = torch.float64
    tmodel = torch.nn.Sequential(torch.nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0), dtype=f64),
                                 torch.nn.LeakyReLU(0.2), torch.nn.MaxPool2d(2, 1), torch.nn.Flatten(),
                                 torch.nn.Dropout(0.1), torch.nn.Linear(12, 4, dtype=f64), torch.nn.Softmax(-1))
    tmodel.eval()
    ours = nn.from_torch(tmodel)
    assert not ours.training and ours[0].stride == (2, 1) and ours[2].stride == (1, 1) and ours[1].slope == 0.2
    again = nn.to_torch(ours)
    for (name, a), (name2, b) in zip(tmodel.state_dict().items(), again.state_dict().items()):
        assert name == name2 and torch.equal(a, b)
    x = np.random.default_rng(0).normal(size=(2, 2, 5, 4))
    np.testing.assert_allclose(ours(x).data, tmodel(torch.from_numpy(x)).detach().numpy(), rtol=0, atol=1e-14)


def test_unsupported_modules_are_refused_by_name():
    with pytest.raises(TypeError, match=r"no nn layer for torch.nn.BatchNorm2d"):
        nn.from_torch(torch.nn.Sequential(torch.nn.BatchNorm2d(3)))
    with pytest.raises(ValueError, match="groups=1, dilation=1"):
        nn.from_torch(torch.nn.Conv2d(2, 2, 3, groups=2))
    with pytest.raises(TypeError, match="from_torch expects a torch.nn.Module, got str"):
        nn.from_torch("model")
    with pytest.raises(TypeError, match="to_torch expects an nn model"):
        nn.to_torch(torch.nn.ReLU())


def test_a_linear_with_its_activation_keeps_its_place_so_state_dict_keys_match():
    model = nn.Sequential(nn.Linear(2, 3, activation="relu", seed=0), nn.Linear(3, 2, activation="tanh", seed=1),
                          nn.Linear(2, 1, seed=2))
    tmodel = nn.to_torch(model)
    assert len(tmodel) == 3 and list(tmodel.state_dict()) == list(model.state_dict())
    tmodel.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})  # no key error
    x = np.random.default_rng(0).normal(size=(4, 2))
    W = [model.state_dict()[f"{i}.weight"] for i in range(3)]
    b = [model.state_dict()[f"{i}.bias"] for i in range(3)]
    by_hand = np.tanh(np.maximum(x @ W[0].T + b[0], 0) @ W[1].T + b[1]) @ W[2].T + b[2]
    np.testing.assert_allclose(tmodel(torch.from_numpy(x)).detach().numpy(), by_hand, rtol=0, atol=1e-14)
    back = nn.from_torch(tmodel)
    assert [repr(layer) for layer in back] == [repr(layer) for layer in model]  # activations come back
    for name, array in model.state_dict().items():
        assert np.array_equal(back.state_dict()[name], array)
    import io
    torch.save(tmodel, io.BytesIO())  # the class is importable by name, so a converted model pickles


def test_a_shared_layer_stays_one_module_both_ways_and_gradients_match():
    shared = nn.Linear(4, 4, seed=1)
    model = nn.Sequential(shared, nn.Tanh(), shared, nn.Linear(4, 1, seed=2))
    tmodel = nn.to_torch(model)
    assert tmodel[0] is tmodel[2] and len(list(tmodel.parameters())) == 4
    x = np.random.default_rng(0).normal(size=(5, 4))
    model.zero_grad()
    loss = ((model(x) - 1.0) ** 2).mean()
    loss.backward()
    tloss = ((tmodel(torch.from_numpy(x)) - 1.0) ** 2).mean()
    tloss.backward()
    assert abs(float(loss.data) - tloss.item()) <= 1e-12
    grads = model.grad_dict()
    np.testing.assert_allclose(grads["0.weight"], tmodel[0].weight.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(grads["3.weight"], tmodel[3].weight.grad.numpy(), rtol=0, atol=1e-12)
    back = nn.from_torch(tmodel)
    assert back[0] is back[2] and sorted(back.state_dict()) == ["0.bias", "0.weight", "3.bias", "3.weight"]


def test_an_mlp_inside_a_sequential_is_refused_saying_what_to_do():
    with pytest.raises(TypeError, match=r"an nn.MLP inside an nn.Sequential has no PyTorch counterpart; convert "
                                        r"the MLP on its own"):
        nn.to_torch(nn.Sequential(nn.MLP(2, [3], 1, engine="tensor")))
