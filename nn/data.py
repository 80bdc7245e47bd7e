"""Data sets: the lab reports' two toy sets, the classic toy sets, iris and the 8x8 digits.

Every loader returns ``(X, y)`` with ``X`` a float64 array of shape (n, d).
Binary sets give ``y`` as float64 0./1. of shape (n,); multi-class sets give
integer class indices (int64, shape (n,)). Random sets take ``seed`` (an int or
a ``numpy.random.Generator``) and give the same points for the same seed.
Iris and digits are shipped in ``nn/datasets/`` (see its README for origin and
licence); nothing is downloaded and scikit-learn is not needed.
"""

from __future__ import annotations

import gzip
import io
import math
import numbers
import os
import zlib
from collections.abc import Callable, Iterator
from importlib import resources

import numpy as np

from .init import Seed, _finite, as_generator
from .layers import per_sample_array

MAX_POINTS = 10**8  # a generated set larger than this is a typo, not a data set


def _count(n: object, what: str = "n", minimum: int = 1) -> int:
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or not minimum <= n <= MAX_POINTS:
        raise ValueError(f"{what} must be an int >= {minimum} (at most {MAX_POINTS:.0e}), got {n!r}")
    return int(n)


def generate_linear(n: int = 100, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """The reports' linearly separable set: n points uniform in the unit square,
    label 1 above the diagonal (x₀ ≤ x₁, as the lab's ``pt[0] > pt[1] -> 0``), else 0."""
    X = as_generator(seed).uniform(0.0, 1.0, (_count(n), 2))
    y = (X[:, 0] <= X[:, 1]).astype(np.float64)
    return X, y


def generate_XOR_easy() -> tuple[np.ndarray, np.ndarray]:
    """The reports' 21 XOR points, in the lab's order: for i = 0..10, (0.1i, 0.1i) with label 0
    and, except at the centre i = 5, (0.1i, 1 - 0.1i) with label 1."""
    inputs, labels = [], []
    for i in range(11):
        inputs.append([0.1 * i, 0.1 * i])
        labels.append(0.0)
        if 0.1 * i == 0.5:
            continue
        inputs.append([0.1 * i, 1 - 0.1 * i])
        labels.append(1.0)
    return np.array(inputs, dtype=np.float64), np.array(labels, dtype=np.float64)


def make_moons(n: int = 200, noise: float = 0.1, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's recipe, in numpy): the upper moon
    (cos t, sin t) has label 0, the lower one (1 - cos t, 0.5 - sin t) label 1, t in [0, π];
    Gaussian noise of standard deviation ``noise``; rows shuffled."""
    n = _count(n, minimum=2)
    if _finite(noise, "noise") < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    rng = as_generator(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    t_upper, t_lower = np.linspace(0, math.pi, n_upper), np.linspace(0, math.pi, n_lower)
    X = np.vstack([np.column_stack([np.cos(t_upper), np.sin(t_upper)]),
                   np.column_stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)])])
    y = np.concatenate([np.zeros(n_upper), np.ones(n_lower)])
    if noise:
        X = X + rng.normal(0.0, float(noise), X.shape)
    order = rng.permutation(n)
    return X[order], y[order]


def make_blobs(n: int = 100, centers: np.ndarray | list = ((-1.0, -1.0), (1.0, 1.0)), std: float = 0.5,
               seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs: n points split as evenly as possible over the centers
    (class c around ``centers[c]``, standard deviation ``std``); rows shuffled.
    Two centers give binary float labels, more give integer class indices."""
    n = _count(n)
    try:
        centers = np.asarray(centers, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"centers must be an array of real numbers of shape (k >= 2, d), "
                         f"got {centers!r:.80}") from None
    if centers.ndim != 2 or len(centers) < 2 or not np.isfinite(centers).all():
        raise ValueError(f"centers must be a finite array of shape (k >= 2, d), got shape {centers.shape}")
    if _finite(std, "std") <= 0:
        raise ValueError(f"std must be a number > 0, got {std!r}")
    rng = as_generator(seed)
    k = len(centers)
    counts = [n // k + (1 if c < n % k else 0) for c in range(k)]
    X = np.vstack([rng.normal(centers[c], std, (counts[c], centers.shape[1])) for c in range(k)])
    labels = np.repeat(np.arange(k), counts)
    order = rng.permutation(n)
    y = labels[order].astype(np.float64) if k == 2 else labels[order]
    return X[order], y


def generate_eagles_and_chickens(n: int = 100, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """The two-class blob set of seed report 004: chickens (label 0) and eagles (label 1),
    features (wingspan, body mass) standardised; two Gaussian blobs around (-1, -0.5) and (1, 0.5)
    with standard deviation 0.45, so the classes barely overlap."""
    return make_blobs(n, centers=((-1.0, -0.5), (1.0, 0.5)), std=0.45, seed=seed)


def _dataset_file(name: str) -> bytes:
    return resources.files("nn").joinpath(f"datasets/{name}").read_bytes()


def _load_csv_gz(name: str, header: bool) -> tuple[np.ndarray, np.ndarray]:
    """A gzipped CSV as shipped by scikit-learn: optionally a header line (n, d, class names...),
    then rows of features with the label last."""
    text = gzip.decompress(_dataset_file(name)).decode("ascii")
    if header:
        text = text.partition("\n")[2]
    data = np.loadtxt(io.StringIO(text), delimiter=",")
    return data[:, :-1].astype(np.float64), data[:, -1].astype(np.int64)


#: Iris feature and class names, in column / label order.
IRIS_FEATURES = ("sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)")
IRIS_CLASSES = ("setosa", "versicolor", "virginica")


def load_iris() -> tuple[np.ndarray, np.ndarray]:
    """Fisher's iris: X (150, 4) float64 (see ``IRIS_FEATURES``), y (150,) int64 in {0, 1, 2} (``IRIS_CLASSES``)."""
    return _load_csv_gz("iris.csv.gz", header=True)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The UCI 8x8 handwritten digits: X (1797, 64) float64 pixel counts 0..16 (row-major 8x8 images;
    ``X[i].reshape(8, 8)``), y (1797,) int64 digits 0..9. Stands in for MNIST, which cannot be downloaded here."""
    return _load_csv_gz("digits.csv.gz", header=False)


def _fraction(value: object) -> bool:
    """Whether ``value`` is a real number strictly between 0 and 1, Python's or numpy's (an int is a row count)."""
    return isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral) and 0 < value < 1


def train_test_split(X: np.ndarray, y: np.ndarray, test_size: float | int = 0.25, seed: Seed = 0,
                     shuffle: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X_train, X_test, y_train, y_test`` (scikit-learn's order). ``test_size`` is a fraction
    in (0, 1) or a number of rows; with ``shuffle`` the rows are permuted by ``seed`` first."""
    X, y = per_sample_array(X, "train_test_split X"), per_sample_array(y, "train_test_split y")
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X and y must have the same number of rows, got {n} and {len(y)} (X of shape {X.shape}, "
                         f"y of shape {y.shape})")
    if _fraction(test_size):
        n_test = int(math.ceil(float(test_size) * n))
    elif isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool) and 0 < test_size < n:
        n_test = int(test_size)
    else:
        raise ValueError(f"test_size must be a fraction in (0, 1) or a row count in [1, {n - 1}], got {test_size!r}")
    if not 0 < n_test < n:
        raise ValueError(f"test_size={test_size!r} leaves an empty train or test set for {n} rows")
    if not isinstance(shuffle, (bool, np.bool_)):  # shuffle="no" is truthy: it would shuffle
        raise TypeError(f"train_test_split shuffle must be True or False, got {type(shuffle).__name__}: "
                        f"{shuffle!r:.40}")
    order = as_generator(seed).permutation(n) if shuffle else np.arange(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


#: Every data set by its command-line name: a function returning (X, y).
DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "linear": generate_linear,
    "xor": generate_XOR_easy,
    "moons": make_moons,
    "blobs": generate_eagles_and_chickens,
    "iris": load_iris,
    "digits": load_digits,
}


#: The data sets drawn at random, which take ``n`` and ``seed``; the others are fixed.
GENERATED = ("linear", "moons", "blobs")


def load(name: str, n: int | None = None, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """The data set called ``name`` (see ``DATASETS``); ``n`` and ``seed`` go to the generated ones
    (``GENERATED``); ``n`` for a fixed one (xor, iris, digits) is refused, as it would be ignored."""
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; expected one of {sorted(DATASETS)}")
    if name in GENERATED:
        return DATASETS[name](**({} if n is None else {"n": n}), seed=seed)
    if n is not None:
        raise ValueError(f"data set {name!r} is fixed: n={n!r:.20} cannot change its size; n applies to the "
                         f"generated sets {', '.join(GENERATED)} (expected n=None for {name!r})")
    return DATASETS[name]()


# -- images for convolutional networks (issue 14) -------------------------------------------------------------

def digits_split(test_size: float = 0.2, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 8x8 digits as images for a CNN, split stratified: ``X_train, X_test, y_train, y_test`` with X of shape
    (n, 1, 8, 8), pixels scaled to [0, 1] (counts / 16), y int64 digits.

    Each digit's rows are permuted by ``seed`` and its first ceil(test_size · count) go to the test set, so
    every class is in both sets in its own proportion; the default (0.2, seed 0) is the fixed split of
    ``python -m nn.cnn`` (1,433 train, 364 test images).
    """
    if not _fraction(test_size):
        raise ValueError(f"digits_split test_size must be a fraction in (0, 1), got {test_size!r:.40}")
    test_size = float(test_size)
    X, y = load_digits()
    rng = as_generator(seed)
    by_digit = [rng.permutation(np.flatnonzero(y == digit)) for digit in range(10)]
    for digit, rows in enumerate(by_digit):  # every digit in both sets, as promised above
        if math.ceil(test_size * len(rows)) >= len(rows):
            raise ValueError(f"digits_split test_size={test_size!r} leaves no training image of digit {digit} "
                             f"(ceil({test_size!r} · {len(rows)}) = all {len(rows)} go to the test set); expected a "
                             "smaller test_size, one that leaves every digit in both sets")
    test = np.concatenate([rows[:math.ceil(test_size * len(rows))] for rows in by_digit])
    train = np.setdiff1d(np.arange(len(y)), test)  # sorted: the shipped order
    test = np.sort(test)
    images = (X / 16.0).reshape(-1, 1, 8, 8)
    return images[train], images[test], y[train], y[test]


class DataFileError(ValueError):
    """A data file that is damaged or not what it claims (an IDX file with a bad header or the wrong size)."""


class MissingDataError(FileNotFoundError, ValueError):
    """A data file that is not there: a ``FileNotFoundError`` and, as every refusal of bad input, a ``ValueError``."""


#: IDX data type codes (the third byte of the magic number) -> big-endian numpy dtypes.
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in an IDX file (the MNIST format), raw or gzipped (recognised by its content).

    The header is two zero bytes, a type code (``IDX_TYPES``), the number of dimensions, then each
    dimension as a big-endian uint32; the data follows in C order. A damaged file (bad magic, unknown
    type, fewer or more data bytes than the header says, a broken gzip stream) raises ``DataFileError``
    naming the file and the problem; a missing one ``MissingDataError``.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"read_idx path must be a str or os.PathLike, got {type(path).__name__}: {path!r:.40}")
    try:
        with open(path, "rb") as file:
            raw = file.read()
    except FileNotFoundError:
        raise MissingDataError(f"read_idx: no such file {os.fspath(path)!r}; expected an IDX file such as "
                               "train-images-idx3-ubyte(.gz)") from None
    except (IsADirectoryError, ValueError, OSError) as error:
        raise MissingDataError(f"read_idx: cannot read {path!r:.80} as a file: {error}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise DataFileError(f"read_idx: {os.fspath(path)!r} is a damaged gzip file ({error})") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in IDX_TYPES or raw[3] == 0:
        raise DataFileError(f"read_idx: {os.fspath(path)!r} is not an IDX file: its first bytes are {raw[:4]!r}; "
                            f"expected 0x00 0x00, a type code in {[hex(c) for c in IDX_TYPES]} and the number of "
                            "dimensions")
    ndim, dtype = raw[3], np.dtype(IDX_TYPES[raw[2]])
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFileError(f"read_idx: {os.fspath(path)!r} is truncated inside its header ({len(raw)} bytes, the "
                            f"header of a {ndim}-d array needs {header})")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, 4))
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataFileError(f"read_idx: {os.fspath(path)!r} holds {len(raw) - header} data bytes but its header "
                            f"says shape {shape} of {dtype.name}, which is {expected} bytes (a truncated or "
                            "damaged file)")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


#: The four MNIST files, by role; each may also be gzipped (".gz") or use "." for the last "-" (Kaggle's names).
MNIST_FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
               "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}


def _mnist_file(directory: str, stem: str) -> str:
    dotted = stem[::-1].replace("-", ".", 1)[::-1]
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    raise MissingDataError(f"load_mnist: {directory!r} has no {stem} (nor {stem}.gz, {dotted}); expected the four "
                           f"MNIST IDX files {sorted(MNIST_FILES.values())}, raw or gzipped")


def load_mnist(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST from the four IDX files in directory ``path`` (raw or .gz; nothing is downloaded):
    ``X_train, X_test, y_train, y_test`` with X of shape (n, 1, 28, 28) float64 in [0, 1] and y int64."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"load_mnist path must be a directory (str or os.PathLike), got {type(path).__name__}: "
                        f"{path!r:.40}")
    directory = os.fspath(path)
    if not os.path.isdir(directory):
        raise MissingDataError(f"load_mnist: {directory!r:.80} is not a directory; expected the directory holding "
                               f"the MNIST IDX files {sorted(MNIST_FILES.values())}")
    arrays = {role: read_idx(_mnist_file(directory, stem)) for role, stem in MNIST_FILES.items()}
    out = []
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataFileError(f"load_mnist: the {part} images have shape {images.shape} and the labels "
                                f"{labels.shape}; expected (n, height, width) images and n labels")
        if labels.size and not (labels.min() >= 0 and labels.max() <= 9):
            raise DataFileError(f"load_mnist: the {part} labels must be digits 0..9, found {labels.min()}.."
                                f"{labels.max()}")
        out.append(((images.astype(np.float64) / 255.0)[:, None], labels.astype(np.int64)))
    (X_train, y_train), (X_test, y_test) = out
    return X_train, X_test, y_train, y_test


def minibatches(X: np.ndarray, y: np.ndarray, batch_size: int, seed: Seed = 0) -> Iterator[tuple]:
    """An iterator of ``(X_batch, y_batch)`` covering every row once, in an order shuffled by ``seed`` (an int, or a
    ``numpy.random.Generator`` advanced by each call: pass one Generator to get a new order every epoch);
    the last batch may be smaller."""
    X, y = per_sample_array(X, "minibatches X"), per_sample_array(y, "minibatches y")
    if len(X) != len(y):
        raise ValueError(f"minibatches: X and y must have the same number of rows, got {len(X)} and {len(y)} (X of "
                         f"shape {X.shape}, y of shape {y.shape})")
    size = _count(batch_size, "batch_size")
    order = as_generator(seed).permutation(len(X))  # drawn now: bad input fails at the call, not at iteration
    return ((X[rows], y[rows]) for rows in (order[start:start + size] for start in range(0, len(X), size)))
