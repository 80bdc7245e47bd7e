"""Backpropagation written by hand with Python floats: no graph, no nodes.

The lower bound the scalar engine is measured against. The derivatives are
worked out on paper and coded directly (the backward pass of a layer is
δ_prev[k] = f'(z_prev[k]) Σ_j W[j][k] δ[j]), so these functions share nothing
with ``autograd``; ``bench.bench_scalar`` asserts that both give the same
gradients before it times anything.

Weights use the lab reports' convention: ``W[l][j][k]`` connects input k to
neuron j of layer l.
"""

from __future__ import annotations

import math

Matrix = list[list[float]]


def sigmoid(z: float) -> float:
    """σ(z) = 1 / (1 + e^-z), without overflow for large |z| (the engine's two branches)."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def two_two_one_gradients(hidden_w: Matrix, hidden_b: list[float], out_w: list[float], out_b: float,
                          x: list[float], y: float) -> tuple[float, Matrix, list[float], list[float], float]:
    """C = ½ (ŷ - y)² for the 2-2-1 sigmoid net on one sample, and ∂C/∂ every parameter.

    Returns ``(C, dC/dW1, dC/db1, dC/dw2, dC/db2)``; with δ₂ = (ŷ - y) σ'(z₂) and
    δ₁ⱼ = σ'(z₁ⱼ) w2ⱼ δ₂: ∂C/∂w2ⱼ = δ₂ a₁ⱼ, ∂C/∂W1ⱼₖ = δ₁ⱼ xₖ.
    """
    a1 = []
    for row, b in zip(hidden_w, hidden_b):
        z = b
        for w, xk in zip(row, x):
            z += w * xk
        a1.append(sigmoid(z))
    z2 = out_b
    for w, a in zip(out_w, a1):
        z2 += w * a
    yhat = sigmoid(z2)
    error = yhat - y
    delta2 = error * (yhat * (1.0 - yhat))
    d_out_w = [delta2 * a for a in a1]
    delta1 = [delta2 * w * (a * (1.0 - a)) for w, a in zip(out_w, a1)]
    d_hidden_w = [[d * xk for xk in x] for d in delta1]
    return 0.5 * error * error, d_hidden_w, delta1, d_out_w, delta2


def two_two_one_step(hidden_w: Matrix, hidden_b: list[float], out_w: list[float], out_b: float,
                     x: list[float], y: float, lr: float) -> tuple[float, float]:
    """One forward + backward + SGD step (in place); returns ``(C, new out_b)`` (a float cannot change in place)."""
    loss, d_hw, d_hb, d_ow, d_ob = two_two_one_gradients(hidden_w, hidden_b, out_w, out_b, x, y)
    for row, grow in zip(hidden_w, d_hw):
        for k, g in enumerate(grow):
            row[k] -= lr * g
    for j, g in enumerate(d_hb):
        hidden_b[j] -= lr * g
    for j, g in enumerate(d_ow):
        out_w[j] -= lr * g
    return loss, out_b - lr * d_ob


def mlp_gradients(weights: list[Matrix], biases: list[list[float]], xs: list[list[float]],
                  ys: list[float]) -> tuple[float, list[Matrix], list[list[float]]]:
    """Full-batch MSE loss (1/N) Σ (ŷ - y)² of an MLP with ReLU hidden layers and a
    sigmoid output neuron, and its gradient for every weight and bias.

    Returns ``(loss, dW, db)`` shaped like ``weights`` and ``biases``.
    """
    n_layers = len(weights)
    grad_w = [[[0.0] * len(row) for row in layer] for layer in weights]
    grad_b = [[0.0] * len(layer) for layer in biases]
    scale = 1.0 / len(xs)
    total = 0.0
    for x, y in zip(xs, ys):
        activations = [x]  # the input of each layer
        a = x
        for l in range(n_layers):
            out = []
            for row, b in zip(weights[l], biases[l]):
                z = b
                for w, ak in zip(row, a):
                    z += w * ak
                out.append(sigmoid(z) if l == n_layers - 1 else (z if z > 0 else 0.0))
            a = out
            activations.append(a)
        yhat = a[0]
        error = yhat - y
        total += error * error
        # dL/dyhat = (1/N) 2 (yhat - y); sigmoid' = yhat (1 - yhat)
        delta = [scale * (2.0 * error) * (yhat * (1.0 - yhat))]
        for l in range(n_layers - 1, -1, -1):
            inputs = activations[l]
            back = [0.0] * len(inputs)  # Σ_j W[j][k] δ[j], the gradient reaching input k
            for j, d in enumerate(delta):
                grad_b[l][j] += d
                grow, row = grad_w[l][j], weights[l][j]
                for k, ak in enumerate(inputs):
                    grow[k] += d * ak
                    back[k] += row[k] * d
            # ReLU' of the previous layer: 1 where its output is > 0 (0 at the kink)
            delta = [b if ak > 0 else 0.0 for b, ak in zip(back, inputs)]
    return total * scale, grad_w, grad_b


def sgd(weights: list[Matrix], biases: list[list[float]], grad_w: list[Matrix], grad_b: list[list[float]],
        lr: float) -> None:
    """p ← p - lr ∂L/∂p for every weight and bias, in place."""
    for layer, glayer in zip(weights, grad_w):
        for row, grow in zip(layer, glayer):
            for k, g in enumerate(grow):
                row[k] -= lr * g
    for layer, glayer in zip(biases, grad_b):
        for j, g in enumerate(glayer):
            layer[j] -= lr * g


def mlp_epoch(weights: list[Matrix], biases: list[list[float]], xs: list[list[float]], ys: list[float],
              lr: float) -> float:
    """One full-batch epoch: gradients of the MSE loss, then an SGD step in place; returns the loss."""
    loss, grad_w, grad_b = mlp_gradients(weights, biases, xs, ys)
    sgd(weights, biases, grad_w, grad_b, lr)
    return loss
