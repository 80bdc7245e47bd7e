"""Weight initializers: numpy float64 arrays drawn from a seeded ``numpy.random.Generator``.

Every initializer takes ``shape`` (``(n_out, n_in)`` for a weight matrix, as in
PyTorch, so fan_in = n_in and fan_out = n_out) and ``seed``: an int, a
``numpy.random.Generator`` (which is advanced), or None (fresh entropy). numpy's
Generator (PCG64) gives the same numbers on every platform, so the same seed
gives the same weights everywhere, for either engine: both build their layers
from the arrays of :func:`init_mlp`.

| name | distribution |
|---|---|
| ``normal`` | N(mean, std²), default N(0, 1) as in the lab reports |
| ``uniform`` | U(low, high), default U(0, 1) as PyTorch's ``uniform_`` |
| ``xavier_normal`` | N(0, gain² · 2 / (fan_in + fan_out)) |
| ``xavier_uniform`` | U(-a, a), a = gain · sqrt(6 / (fan_in + fan_out)) |
| ``he_normal`` | N(0, gain² / fan), gain = sqrt(2) for ReLU |
| ``he_uniform`` | U(-a, a), a = gain · sqrt(3 / fan) |

``glorot_*`` and ``kaiming_*`` are aliases.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

Seed = int | np.random.Generator | None


def as_generator(seed: Seed) -> np.random.Generator:
    """``seed`` as a ``numpy.random.Generator``: an int seeds a new PCG64, a Generator is used as is."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise TypeError(f"seed must be a non-negative int, a numpy.random.Generator or None, "
                    f"got {type(seed).__name__}: {seed!r}")


#: The largest array an initializer draws (so a typo such as MLP(2, [10**9], 1) fails at once).
MAX_ELEMENTS = 10**8


def _shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (int(shape),)
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence) or not all(
            isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in shape):
        raise TypeError(f"shape must be an int or a sequence of ints, got {type(shape).__name__}: {shape!r}")
    if not shape or any(d < 1 for d in shape):
        raise ValueError(f"shape must be one or more positive ints, got {shape!r}")
    if math.prod(shape) > MAX_ELEMENTS:  # refuse before numpy tries (and the machine swaps or kills us)
        raise ValueError(f"shape {tuple(shape)!r} has more than {MAX_ELEMENTS:.0e} elements; an initializer must "
                         "draw at most that many (800 MB of float64) per array")
    return tuple(int(d) for d in shape)


def fans(shape: int | Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight array of shape (n_out, n_in); a 1-D shape (n,) has fan_in = fan_out = n."""
    dims = _shape(shape)
    if len(dims) == 1:
        return dims[0], dims[0]
    receptive = math.prod(dims[2:])
    return dims[1] * receptive, dims[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's recommended gain: 1 for identity/sigmoid, 5/3 for tanh, sqrt 2 for ReLU,
    sqrt(2 / (1 + slope²)) for leaky ReLU (slope ``param``, default 0.01)."""
    name = str(nonlinearity).lower()
    if name in ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d"):
        return 1.0
    if name == "tanh":
        return 5.0 / 3.0
    if name == "relu":
        return math.sqrt(2.0)
    if name in ("leaky_relu", "leakyrelu"):
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope**2))
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; expected one of "
                     "'identity', 'sigmoid', 'tanh', 'relu', 'leaky_relu'")


def _positive(value: float, name: str) -> float:
    if _finite(value, name) <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def _finite(value: float, name: str) -> float:
    """``value`` as a float; ValueError unless it is a finite real number, Python's or numpy's (``np.float32``,
    ``np.int64``; not a bool), an int beyond float64's range refused too."""
    try:
        # float() first: comparing an np.float32 with float64's largest value would warn of an overflow in a cast
        x = float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else math.nan
    except OverflowError:
        x = math.inf
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return x


def normal(shape: int | Sequence[int], mean: float = 0.0, std: float = 1.0, seed: Seed = None) -> np.ndarray:
    """Samples from N(mean, std²): ``Generator.normal(mean, std, shape)``."""
    return as_generator(seed).normal(_finite(mean, "mean"), _positive(std, "std"), _shape(shape))


def uniform(shape: int | Sequence[int], low: float = 0.0, high: float = 1.0, seed: Seed = None) -> np.ndarray:
    """Samples from U(low, high): ``Generator.uniform(low, high, shape)``."""
    low, high = _finite(low, "low"), _finite(high, "high")
    if not (low < high and math.isfinite(high - low)):  # numpy draws low + (high - low) u
        raise ValueError(f"uniform needs low < high with high - low within float64's range, got low={low!r}, "
                         f"high={high!r}")
    return as_generator(seed).uniform(low, high, _shape(shape))


def xavier_normal(shape: int | Sequence[int], gain: float = 1.0, seed: Seed = None) -> np.ndarray:
    """Glorot & Bengio (2010): N(0, σ²) with σ = gain · sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape)
    return normal(shape, 0.0, _positive(gain, "gain") * math.sqrt(2.0 / (fan_in + fan_out)), seed)


def xavier_uniform(shape: int | Sequence[int], gain: float = 1.0, seed: Seed = None) -> np.ndarray:
    """Glorot & Bengio (2010): U(-a, a) with a = gain · sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape)
    bound = _positive(gain, "gain") * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, -bound, bound, seed) if math.isfinite(2 * bound) else _too_large(gain, bound)


def _too_large(gain: float, bound: float) -> np.ndarray:
    raise ValueError(f"gain must keep the bound ±{bound:g} of U(-bound, bound) within float64's range, "
                     f"got gain={gain!r}")


def _he_fan(shape, mode: str) -> int:
    fan_in, fan_out = fans(shape)
    if not isinstance(mode, str) or mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == "fan_in" else fan_out


def he_normal(shape: int | Sequence[int], gain: float = math.sqrt(2.0), mode: str = "fan_in",
              seed: Seed = None) -> np.ndarray:
    """He et al. (2015): N(0, σ²) with σ = gain / sqrt(fan); gain sqrt 2 suits ReLU."""
    return normal(shape, 0.0, _positive(gain, "gain") / math.sqrt(_he_fan(shape, mode)), seed)


def he_uniform(shape: int | Sequence[int], gain: float = math.sqrt(2.0), mode: str = "fan_in",
               seed: Seed = None) -> np.ndarray:
    """He et al. (2015): U(-a, a) with a = gain · sqrt(3 / fan); gain sqrt 2 suits ReLU."""
    bound = _positive(gain, "gain") * math.sqrt(3.0 / _he_fan(shape, mode))
    return uniform(shape, -bound, bound, seed) if math.isfinite(2 * bound) else _too_large(gain, bound)


#: Every scheme by name (``MLP(init=...)``, the command line).
INITIALIZERS = {
    "normal": normal,
    "uniform": uniform,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
}
_ALIASES = {
    "glorot_normal": "xavier_normal", "glorot_uniform": "xavier_uniform",
    "kaiming_normal": "he_normal", "kaiming_uniform": "he_uniform",
}


def get_initializer(name: str):
    """The initializer called ``name`` (see ``INITIALIZERS``; glorot_* / kaiming_* are aliases)."""
    key = _ALIASES.get(name, name) if isinstance(name, str) else None
    if key not in INITIALIZERS:
        raise ValueError(f"unknown initializer {name!r}; expected one of {sorted(INITIALIZERS) + sorted(_ALIASES)}")
    return INITIALIZERS[key]


def init_mlp(sizes: Sequence[int], init: str = "normal", seed: Seed = 0,
             bias: bool = True) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Weights and biases ``[(W[1], b[1]), (W[2], b[2]), ...]`` of an MLP with layer sizes ``sizes``.

    W[l] has shape (sizes[l], sizes[l-1]). One generator is drawn from in the
    order W[1], b[1], W[2], b[2], ... Biases follow the scheme for ``normal``
    and ``uniform`` (the reports draw them N(0, 1) like the weights) and are
    zero for the Xavier and He schemes (as in those papers). Both engines
    build from these arrays, so a spec and a seed give the same network on either.
    """
    initializer = get_initializer(init)
    rng = as_generator(seed)
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) < 2 or not all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 1 for n in sizes):
        raise ValueError(f"init_mlp sizes must be a sequence of two or more positive ints (n_in, ..., n_out), "
                         f"got {sizes!r}")
    sizes = [int(n) for n in sizes]
    scheme = _ALIASES.get(init, init)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W = initializer((n_out, n_in), seed=rng)
        if not bias:
            b = None
        elif scheme in ("normal", "uniform"):
            b = initializer((n_out,), seed=rng)
        else:
            b = np.zeros(n_out)
        layers.append((W, b))
    return layers
