"""nn.data: the reports' toy sets point by point, the generated sets' geometry, the shipped files."""

import gzip
import hashlib
from importlib import resources

import numpy as np
import pytest

from nn import data


def test_xor_easy_is_the_labs_21_points_in_order():
    X, y = data.generate_XOR_easy()
    assert X.shape == (21, 2) and y.shape == (21,) and X.dtype == y.dtype == np.float64
    expected = []
    for i in range(11):
        expected.append(((i / 10, i / 10), 0.0))
        if i != 5:
            expected.append(((i / 10, 1 - i / 10), 1.0))
    np.testing.assert_allclose(X, [p for p, _ in expected], atol=1e-15)
    assert y.tolist() == [label for _, label in expected]
    assert y[:13].tolist() == [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1]  # Iter 10, 11: the centre has no twin


def test_linear_labels_points_above_the_diagonal():
    X, y = data.generate_linear(n=500, seed=3)
    assert X.shape == (500, 2) and y.shape == (500,) and X.dtype == y.dtype == np.float64
    assert X.min() >= 0 and X.max() < 1
    for (x0, x1), label in zip(X, y):
        assert label == (1.0 if x1 >= x0 else 0.0)
    np.testing.assert_array_equal(X, np.random.default_rng(3).uniform(0, 1, (500, 2)))
    X2, _ = data.generate_linear(n=500, seed=3)
    assert np.array_equal(X, X2) and not np.array_equal(X, data.generate_linear(n=500, seed=4)[0])
    assert len(data.generate_linear()[0]) == 100


def test_moons_lie_on_their_half_circles_without_noise():
    X, y = data.make_moons(n=101, noise=0.0, seed=1)
    assert X.shape == (101, 2) and (y == 0).sum() == 50 and (y == 1).sum() == 51
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-12)
    assert upper[:, 1].min() >= -1e-12
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, atol=1e-12)
    assert lower[:, 1].max() <= 0.5 + 1e-12
    noisy, labels = data.make_moons(n=2000, noise=0.2, seed=1)
    radial = np.hypot(noisy[labels == 0, 0], noisy[labels == 0, 1]) - 1  # N(0, 0.2²) noise, seen radially
    assert 0.17 < radial.std() < 0.23
    assert np.array_equal(noisy, data.make_moons(n=2000, noise=0.2, seed=1)[0])


def test_blobs_and_eagles_and_chickens():
    X, y = data.make_blobs(3000, centers=[(-2, 0), (2, 1), (0, 4)], std=0.3, seed=2)
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [1000, 1000, 1000]
    for c, center in enumerate([(-2, 0), (2, 1), (0, 4)]):
        np.testing.assert_allclose(X[y == c].mean(axis=0), center, atol=0.05)
        np.testing.assert_allclose(X[y == c].std(axis=0), 0.3, rtol=0.08)
    X, y = data.generate_eagles_and_chickens(n=101, seed=0)
    assert X.shape == (101, 2) and y.dtype == np.float64 and set(y.tolist()) == {0.0, 1.0}
    assert X[y == 1, 0].mean() > 0.5 > -0.5 > X[y == 0, 0].mean()


def test_iris_is_fishers_table():
    X, y = data.load_iris()
    assert X.shape == (150, 4) and X.dtype == np.float64 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50, 50, 50]
    assert X[0].tolist() == [5.1, 3.5, 1.4, 0.2] and X[-1].tolist() == [5.9, 3.0, 5.1, 1.8]
    # The summary statistics printed in the data set's description.
    np.testing.assert_allclose(X.mean(axis=0), [5.84, 3.05, 3.76, 1.20], atol=0.01)
    assert X.min(axis=0).tolist() == [4.3, 2.0, 1.0, 0.1] and X.max(axis=0).tolist() == [7.9, 4.4, 6.9, 2.5]
    assert len(data.IRIS_FEATURES) == 4 and data.IRIS_CLASSES[2] == "virginica"


def test_digits_are_1797_8x8_images():
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and np.array_equal(X, np.round(X))
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    zero = X[0].reshape(8, 8)
    assert y[0] == 0 and zero[0].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]
    assert zero[:, 0].sum() == 0 and zero[3:5, 3:5].sum() == 0  # a 0: ink around a hollow centre


@pytest.mark.parametrize("name, sha256", [
    ("iris.csv.gz", "b9470abe241a87c9a16160dd676e1f75be1bf3d37e71b2f3887c06bea7334f76"),
    ("digits.csv.gz", "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"),
])
def test_shipped_files_are_the_documented_ones(name, sha256):
    raw = resources.files("nn").joinpath(f"datasets/{name}").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == sha256
    assert len(raw) < 60_000
    readme = resources.files("nn").joinpath("datasets/README.md").read_text()
    assert sha256 in readme and "BSD 3-Clause" in readme
    assert gzip.decompress(raw)


def test_train_test_split_partitions_the_rows():
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=1)
    assert len(X_test) == 5 and len(X_train) == 15
    assert sorted(y_train.tolist() + y_test.tolist()) == list(range(20))
    np.testing.assert_array_equal(X_train[:, 0], 2 * y_train)  # rows stay paired with their labels
    again = data.train_test_split(X, y, test_size=0.25, seed=1)
    assert np.array_equal(again[3], y_test)
    ordered = data.train_test_split(X, y, test_size=3, shuffle=False)
    assert ordered[3].tolist() == [0, 1, 2]


@pytest.mark.parametrize("call, message", [
    (lambda: data.generate_linear(n=0), "n must be an int >= 1"),
    (lambda: data.make_moons(noise=-1), "noise must be"),
    (lambda: data.make_blobs(centers=[(0, 0)]), "centers must be"),
    (lambda: data.train_test_split(np.zeros((4, 2)), np.zeros(3)), "same number of rows"),
    (lambda: data.train_test_split(np.zeros((4, 2)), np.zeros(4), test_size=1.0), "test_size must be"),
    (lambda: data.load("mnist"), "unknown data set 'mnist'"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_load_by_name():
    assert data.load("xor")[0].shape == (21, 2)
    assert data.load("linear", n=10, seed=5)[0].shape == (10, 2)
    assert data.load("iris")[0].shape == (150, 4)
    assert set(data.DATASETS) == {"linear", "xor", "moons", "blobs", "iris", "digits"}
