"""nn's convolutional layers, train()/eval(), the image data (digits split, IDX files, mini-batches) and the
comparison command (issue 14). The PyTorch bridge is in tests/test_torch_bridge.py."""

from __future__ import annotations

import gzip
import struct
import sys

import numpy as np
import pytest

import nn
from autograd import Tensor
from nn import data
from nn.cnn import SETTINGS, digits_cnn, main, train_cnn


def test_conv2d_layer_has_pytorchs_names_and_layouts():
    conv = nn.Conv2d(3, 8, 5, stride=2, padding=1, init="he_normal", seed=0)
    assert conv.weight.shape == (8, 3, 5, 5) and conv.bias.shape == (8,)
    assert [name for name, _ in conv.named_parameters()] == ["weight", "bias"]
    assert np.all(conv.bias.data == 0.0)  # He and Xavier schemes: zero bias, as nn.MLP
    # he_normal: std sqrt(2 / fan_in), fan_in = 3·5·5 = 75
    assert conv.weight.data.std() == pytest.approx(np.sqrt(2 / 75), rel=0.15)
    assert conv(np.zeros((2, 3, 9, 9))).shape == (2, 8, 4, 4)
    assert nn.Conv2d(3, 8, 5, seed=0).weight.data.tolist() == nn.Conv2d(3, 8, 5, seed=0).weight.data.tolist()
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1"):
        nn.Conv2d(1, 2, 0)


def test_sequential_names_parameters_by_position_and_round_trips_its_state():
    model = digits_cnn("relu", "xavier_uniform", seed=1)
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "3.weight", "3.bias", "8.weight", "8.bias"]
    assert model.state_dict()["8.weight"].shape == (10, 128) and len(model) == 9
    other = digits_cnn("relu", "xavier_uniform", seed=2)
    other.load_state_dict(model.state_dict())
    assert all(np.array_equal(a, other.state_dict()[k]) for k, a in model.state_dict().items())
    nested = nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(4, 2), nn.ReLU()))
    assert [n for n, _ in nested.named_parameters()] == ["1.0.weight", "1.0.bias"]  # as PyTorch nests
    with pytest.raises(TypeError, match="Sequential expects modules"):
        nn.Sequential(nn.ReLU(), "relu")


def test_train_and_eval_reach_every_module_and_leave_activations_equal():
    model = digits_cnn(seed=0)
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model and not any(m.training for m in model.modules())
    assert model.train() is model and all(m.training for m in model.modules())
    relu = nn.LeakyReLU(0.2)
    relu.eval()
    assert relu == nn.LeakyReLU(0.2) and hash(relu) == hash(nn.LeakyReLU(0.2)) and vars(relu) == {"slope": 0.2}
    with pytest.raises(TypeError, match="train mode must be True or False"):
        model.train("no")


def test_an_mlp_in_eval_mode_still_saves_and_loads(tmp_path):
    model = nn.MLP(2, [3], 1, activations=["leaky_relu", "sigmoid"], engine="tensor").eval()
    nn.save(model, tmp_path / "m.npz")
    assert nn.load(tmp_path / "m.npz").state_dict().keys() == model.state_dict().keys()


def test_dropout_is_the_identity_in_eval_mode_and_scales_what_it_keeps_in_training():
    x = Tensor(np.random.default_rng(0).uniform(1.0, 2.0, size=(200, 500)), requires_grad=True)
    drop = nn.Dropout(0.3, seed=5)
    assert drop.eval()(x) is x
    out = drop.train()(x)
    kept = out.data != 0
    # 100,000 Bernoulli(0.7) draws: the kept share is within 5 standard deviations (0.0014 each) of 0.7
    assert abs(kept.mean() - 0.7) < 5 * np.sqrt(0.7 * 0.3 / kept.size)
    np.testing.assert_allclose(out.data[kept], x.data[kept] / 0.7, rtol=1e-15)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, kept / 0.7, rtol=1e-15)  # ∂out/∂x: the same mask and scale
    again = nn.Dropout(0.3, seed=5)(x)
    assert np.array_equal(again.data, out.data)  # a seeded layer repeats its masks
    assert np.all(nn.Dropout(1.0)(x).data == 0) and nn.Dropout(0.0)(x) is x
    with pytest.raises(ValueError, match=r"probability in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)


def test_a_tiny_cnn_learns_a_few_steps():
    X_train, _, y_train, _ = data.digits_split()
    X, y = X_train[:128], y_train[:128]
    model = digits_cnn("relu", "xavier_uniform", seed=0)
    history = train_cnn(model, nn.Adam(model.parameters(), lr=0.01), X, y, X, y, epochs=4, batch_size=32, seed=0)
    assert history["train_loss"][-1] < 0.7 * history["train_loss"][0]
    assert history["test_loss"][-1] < history["test_loss"][0] and len(history["seconds"]) == 4


def test_the_digits_split_is_fixed_and_stratified():
    X_train, X_test, y_train, y_test = data.digits_split()
    assert X_train.shape == (1433, 1, 8, 8) and X_test.shape == (364, 1, 8, 8)
    assert X_train.min() == 0.0 and X_train.max() == 1.0 and y_train.dtype == np.int64
    X, y = data.load_digits()
    counts = np.bincount(y)
    assert np.bincount(y_test).tolist() == np.ceil(0.2 * counts).astype(int).tolist()
    again = data.digits_split()
    assert np.array_equal(again[1], X_test) and np.array_equal(again[3], y_test)
    # every image exactly once, pixels unchanged (counts / 16)
    both = np.concatenate([X_train, X_test]).reshape(-1, 64) * 16
    assert sorted(map(bytes, both.astype(np.uint8))) == sorted(map(bytes, X.astype(np.uint8)))


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    """An IDX file written here from its specification: 0, 0, type code, ndim, big-endian uint32 sizes, data."""
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype({0x08: ">u1", 0x0D: ">f4"}[code]).tobytes()


def write_mnist(directory, n_train=6, n_test=4, gz=False):
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
              "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test)}
    for name, array in arrays.items():
        raw = idx_bytes(array)
        (directory / (name + (".gz" if gz else ""))).write_bytes(gzip.compress(raw) if gz else raw)
    return arrays


def test_read_idx_reads_raw_and_gzipped_files(tmp_path):
    images = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(idx_bytes(images))
    (tmp_path / "b.gz").write_bytes(gzip.compress(idx_bytes(images)))
    floats = np.array([[1.5, -2.25], [0.0, 3.0]])
    (tmp_path / "c").write_bytes(idx_bytes(floats, 0x0D))
    assert np.array_equal(data.read_idx(tmp_path / "a"), images) and data.read_idx(tmp_path / "a").dtype == np.uint8
    assert np.array_equal(data.read_idx(tmp_path / "b.gz"), images)
    assert data.read_idx(tmp_path / "c").tolist() == floats.tolist()


def test_read_idx_refuses_a_damaged_file_naming_it_and_the_problem(tmp_path):
    good = idx_bytes(np.zeros((3, 2, 2)))
    cases = {"truncated": (good[:-1], r"holds 11 data bytes but its header says shape \(3, 2, 2\)"),
             "trailing": (good + b"\x00", r"holds 13 data bytes"),
             "magic": (b"\x01\x02" + good[2:], r"is not an IDX file: its first bytes are"),
             "type": (good[:2] + b"\x07" + good[3:], r"is not an IDX file"),
             "header": (good[:6], r"truncated inside its header"),
             "badgz": (gzip.compress(good)[:-6], r"is a damaged gzip file")}
    for name, (raw, message) in cases.items():
        (tmp_path / name).write_bytes(raw)
        with pytest.raises(data.DataFileError, match=message) as caught:
            data.read_idx(tmp_path / name)
        assert name in str(caught.value) and isinstance(caught.value, ValueError)
    with pytest.raises(data.MissingDataError, match="no such file") as caught:
        data.read_idx(tmp_path / "absent")
    assert isinstance(caught.value, FileNotFoundError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_from_a_directory_of_idx_files(tmp_path, gz):
    arrays = write_mnist(tmp_path, gz=gz)
    X_train, X_test, y_train, y_test = data.load_mnist(tmp_path)
    assert X_train.shape == (6, 1, 28, 28) and X_test.shape == (4, 1, 28, 28)
    np.testing.assert_array_equal(X_train[:, 0] * 255, arrays["train-images-idx3-ubyte"])
    assert y_test.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist() and y_test.dtype == np.int64
    (tmp_path / ("train-labels-idx1-ubyte" + (".gz" if gz else ""))).unlink()
    with pytest.raises(data.MissingDataError, match="has no train-labels-idx1-ubyte"):
        data.load_mnist(tmp_path)


def test_load_mnist_refuses_labels_that_do_not_match_the_images(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3)))
    with pytest.raises(data.DataFileError, match=r"test images have shape \(4, 28, 28\) and the labels \(3,\)"):
        data.load_mnist(tmp_path)


def test_minibatches_cover_every_row_once_in_a_seeded_order():
    X, y = np.arange(10.0)[:, None], np.arange(10)
    batches = list(data.minibatches(X, y, 4, seed=3))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    order = np.concatenate([b[1] for b in batches])
    assert sorted(order.tolist()) == list(range(10)) and order.tolist() != list(range(10))
    assert all(np.array_equal(bx[:, 0], by) for bx, by in batches)  # rows stay with their labels
    assert [b[1].tolist() for b in data.minibatches(X, y, 4, seed=3)] == [b[1].tolist() for b in batches]
    rng = np.random.default_rng(0)  # one Generator: a new order every epoch
    first, second = (np.concatenate([b[1] for b in data.minibatches(X, y, 4, rng)]) for _ in range(2))
    assert first.tolist() != second.tolist()
    with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
        data.minibatches(X, y, 0)


def test_the_comparison_command_prints_the_table_and_writes_curves(tmp_path, capsys):
    assert list(SETTINGS) == ["relu_xavier_adam", "sigmoid_he_sgd", "tanh_xavier_adagrad", "leaky_relu_he_adam"]
    assert main(["--quick", "--settings", "relu_xavier_adam", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "| relu + xavier + adam lr 0.005 |" in printed and "time per epoch" in printed
    assert (tmp_path / "curves.png").stat().st_size > 10_000 and (tmp_path / "results.json").exists()
    # the trained model is kept: loaded back, it scores on the test set what the table says
    import json

    from nn.cnn import evaluate, load_data
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["relu_xavier_adam-seed0.npz"]
    model = nn.load(tmp_path / "models" / "relu_xavier_adam-seed0.npz")
    _, X_test, _, y_test = load_data("digits")
    run = json.loads((tmp_path / "results.json").read_text())["runs"][0]
    assert evaluate(model, X_test, y_test)[1] == pytest.approx(run["test_accuracy"][-1], abs=1e-12)


def test_to_torch_without_pytorch_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(ImportError, match=r"pip install torch==2.13.0"):
        nn.to_torch(digits_cnn())
