"""Backpropagation for an MLP written out by hand in numpy: the lab reports' matrix form, no autograd.

This is the independent oracle both engines are tested against, and the lower
bound of the benchmark. It imports nothing from ``autograd``.

Layout (the team's ``state_dict`` format): layer l = 1..L has ``W[l]`` of shape
(n_out, n_in), ``W[l][j, k]`` the weight from input k to neuron j, and ``b[l]``
of shape (n_out,). A batch is one row per example, so with A⁰ = X:

    forward    Zˡ = Aˡ⁻¹ Wˡᵀ + bˡ,      Aˡ = fˡ(Zˡ)
    loss       L = mean((Aᴸ - Y)²)      (mean over every element, as PyTorch's MSELoss)
    output     δᴸ = 2 (Aᴸ - Y) / Y.size ⊙ fᴸ′(Zᴸ)
    backward   δˡ = (δˡ⁺¹ Wˡ⁺¹) ⊙ fˡ′(Zˡ)
    gradients  ∂L/∂Wˡ = δˡᵀ Aˡ⁻¹,      ∂L/∂bˡ = Σ_rows δˡ

The reports store W as (n_in, n_out) and write dW = Aᵀδ; with our (n_out, n_in)
layout the same matrix appears transposed: dW = δᵀA, and δ Wᵀ becomes δ W.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # exp(-z) overflows to inf for z < -709 and 1 / (1 + inf) = 0 is the right limit.
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


# name -> (f(z), f'(z) given z and a = f(z)); the derivative reuses the cached a where it can.
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "sigmoid": (_sigmoid, lambda z, a: a * (1.0 - a)),
    "tanh": (np.tanh, lambda z, a: 1.0 - a * a),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: np.sign(a)),  # 1 where z > 0, else 0 (relu'(0) = 0)
    "leaky_relu": (lambda z, s=0.01: np.where(z > 0, z, s * z), lambda z, a, s=0.01: np.where(z > 0, 1.0, s)),
    "identity": (lambda z: z, lambda z, a: np.ones_like(z)),
}


def _targets(Y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Y as float64 in the output's shape ((n,) targets for a one-output net become (n, 1))."""
    Y = np.asarray(Y, dtype=np.float64)
    if Y.shape != out.shape:
        if Y.size != out.size:
            raise ValueError(f"targets Y have shape {Y.shape}, expected {out.shape} like the network's output")
        Y = Y.reshape(out.shape)
    return Y


@dataclass
class Cache:
    """What the forward pass keeps for backward: A⁰ = X, then Zˡ and Aˡ for every layer."""

    A: list = field(default_factory=list)
    Z: list = field(default_factory=list)


class NumpyMLP:
    """A fully connected network with weights ``W[l]`` (n_out, n_in) and biases ``b[l]`` (n_out,),
    trained by hand-written backpropagation (mean squared error, plain SGD)."""

    def __init__(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], activations: Sequence[str]):
        for name, seq in (("weights", weights), ("biases", biases), ("activations", activations)):
            if not isinstance(seq, (Sequence, np.ndarray)) or isinstance(seq, (str, bytes)):
                raise TypeError(f"NumpyMLP {name} must be a list with one entry per layer, got "
                                f"{type(seq).__name__}: {seq!r:.40}")
        if not (len(weights) == len(biases) == len(activations)) or not len(weights):
            raise ValueError(f"NumpyMLP needs one weight matrix, bias and activation per layer, got "
                             f"{len(weights)} weights, {len(biases)} biases, {len(activations)} activations "
                             f"(weights: {weights!r:.40})")
        for a in activations:
            if not isinstance(a, str) or a not in ACTIVATIONS:
                raise ValueError(f"unknown activation {a!r}; expected one of {sorted(ACTIVATIONS)}")
        try:
            self.W = [np.array(w, dtype=np.float64) for w in weights]
            self.b = [np.array(b, dtype=np.float64) for b in biases]
        except (TypeError, ValueError, OverflowError) as error:
            raise ValueError(f"NumpyMLP weights and biases must be arrays of real numbers, got {weights!r:.40} and "
                             f"{biases!r:.40} ({error})") from None
        for l, (w, b) in enumerate(zip(self.W, self.b), start=1):
            if w.ndim != 2 or b.shape != (w.shape[0],):
                raise ValueError(f"NumpyMLP layer {l}: weights W must be (n_out, n_in) and b (n_out,), got "
                                 f"W {w.shape}, b {b.shape} (weights: {weights!r:.40})")
            if l > 1 and w.shape[1] != self.W[l - 2].shape[0]:
                raise ValueError(f"layer {l}: W has {w.shape[1]} inputs but layer {l - 1} has {self.W[l - 2].shape[0]} "
                                 "outputs")
        self.activations = list(activations)

    @classmethod
    def from_state_dict(cls, state: Mapping[str, np.ndarray], activations: Sequence[str]) -> NumpyMLP:
        """Build from ``{"W[1]": ..., "b[1]": ..., "W[2]": ...}`` (layers numbered from 1)."""
        n = len(activations)
        missing = [k for l in range(1, n + 1) for k in (f"W[{l}]", f"b[{l}]") if k not in state]
        if missing:
            raise ValueError(f"state_dict lacks {missing} for {n} layers; it has {sorted(state)}")
        return cls([state[f"W[{l}]"] for l in range(1, n + 1)], [state[f"b[{l}]"] for l in range(1, n + 1)],
                   activations)

    @classmethod
    def random(cls, sizes: Sequence[int], activations: Sequence[str], seed: int = 0, std: float = 1.0) -> NumpyMLP:
        """Weights and biases drawn from N(0, std²) (the reports' initialisation)."""
        rng = np.random.default_rng(seed)
        return cls([rng.normal(0.0, std, (m, n)) for n, m in zip(sizes[:-1], sizes[1:])],
                   [rng.normal(0.0, std, m) for m in sizes[1:]], activations)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters as ``{"W[1]": ..., "b[1]": ..., ...}``."""
        state = {}
        for l, (w, b) in enumerate(zip(self.W, self.b), start=1):
            state[f"W[{l}]"], state[f"b[{l}]"] = w.copy(), b.copy()
        return state

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, Cache]:
        """Aᴸ for the batch X (rows are examples), and the cache of every Zˡ and Aˡ."""
        cache = Cache(A=[X])
        a = X
        for w, b, name in zip(self.W, self.b, self.activations):
            z = a @ w.T + b
            a = ACTIVATIONS[name][0](z)
            cache.Z.append(z)
            cache.A.append(a)
        return a, cache

    def loss(self, X: np.ndarray, Y: np.ndarray) -> float:
        """L = mean((Aᴸ - Y)²)."""
        out, _ = self.forward(X)
        diff = out - _targets(Y, out)
        return float(np.mean(diff * diff))

    def gradients(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        """The loss and (∂L/∂Wˡ, ∂L/∂bˡ) for every layer, by the matrix-form backward pass (X: a batch (n, d),
        one row per sample; a single sample (d,) is taken as a batch of one)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:  # else δᵀA would be an inner product and len(diff) the outputs, not the samples
            X = X[None, :]
        elif X.ndim != 2:
            raise ValueError(f"NumpyMLP X must be a batch (n, d) or one sample (d,), got shape {X.shape}")
        out, cache = self.forward(X)
        diff = out - _targets(Y, out)
        loss = float(np.vdot(diff, diff)) / diff.size
        dW: list = [None] * len(self.W)
        db: list = [None] * len(self.W)
        upstream = 2.0 * diff / diff.size  # ∂L/∂Aᴸ
        ones = np.ones(len(diff))
        for l in reversed(range(len(self.W))):
            derivative = ACTIVATIONS[self.activations[l]][1]
            delta = upstream * derivative(cache.Z[l], cache.A[l + 1])
            dW[l] = delta.T @ cache.A[l]
            db[l] = ones @ delta  # Σ over the rows as 1ᵀδ (BLAS: 2-3x faster than delta.sum(axis=0))
            if l:
                upstream = delta @ self.W[l]  # ∂L/∂Aˡ⁻¹
        return loss, dW, db

    def named_gradients(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """The loss and the gradients keyed like ``state_dict``: ``{"W[1]": ∂L/∂W¹, ...}``."""
        loss, dW, db = self.gradients(X, Y)
        grads = {}
        for l, (gw, gb) in enumerate(zip(dW, db), start=1):
            grads[f"W[{l}]"], grads[f"b[{l}]"] = gw, gb
        return loss, grads

    def sgd_step(self, X: np.ndarray, Y: np.ndarray, lr: float) -> float:
        """One full-batch step W ← W - lr ∂L/∂W, b ← b - lr ∂L/∂b; returns the loss before the step."""
        loss, dW, db = self.gradients(X, Y)
        for w, b, gw, gb in zip(self.W, self.b, dW, db):
            w -= lr * gw
            b -= lr * gb
        return loss
