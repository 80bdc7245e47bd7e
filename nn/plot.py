"""Pictures with matplotlib: loss curves, decision boundaries, activation functions.

Every function returns the ``matplotlib.figure.Figure``; given ``path`` it also
writes the picture there (PNG, 150 dpi) and closes the figure, so scripts do
not pile up open figures. Without a display (and outside Jupyter) the Agg
backend is selected, so this works on a headless machine.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

if ("matplotlib.pyplot" not in sys.modules and "ipykernel" not in sys.modules and not os.environ.get("MPLBACKEND")
        and sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))):
    matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from autograd import Value

from .activations import Activation, get_activation
from .layers import float_array, per_sample_array
from .module import Module
from .train import History, predict

# Class 0 blue, class 1 red (the reports' two colours), then matplotlib's cycle for more classes.
CLASS_COLORS = ["#1f5fa8", "#c8302b", "#2a9d3f", "#e08a00", "#7a4fa3", "#8c564b", "#d660b0", "#6b6b6b",
                "#a6a600", "#1aa6b7"]


def _finish(fig: plt.Figure, path: str | Path | None, dpi: int = 150, own: bool = True) -> plt.Figure:
    """Write ``fig`` to ``path`` (its folder made) and close it, even when writing fails (a figure the caller
    gave, ``own=False``, stays open); without a path, leave it for the notebook."""
    if path is not None:
        path = Path(path)
        try:
            if path.is_dir():
                raise ValueError(f"plot path {str(path)!r} is a folder; expected a file name such as "
                                 f"{str(path / 'figure.png')!r}")
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, dpi=dpi)
        finally:
            if own:
                plt.close(fig)
    return fig


def _loss_values(curve: History | Sequence[float]) -> np.ndarray:
    values = float_array(getattr(curve, "loss", curve), "plot_loss curve")
    if values.ndim != 1:
        raise ValueError(f"plot_loss curve must be a History or a 1-D sequence of losses (one per epoch), got "
                         f"{type(curve).__name__} of shape {values.shape}")
    return values


def plot_loss(curves: History | Sequence[float] | Mapping[str, History | Sequence[float]],
              path: str | Path | None = None, title: str = "Training loss", log_scale: bool | None = None,
              ax: plt.Axes | None = None) -> plt.Figure:
    """Loss per epoch: one History or list of losses, or several as ``{"label": history, ...}``.

    ``log_scale=None`` picks a logarithmic loss axis when the losses span more than two decades.
    """
    named = dict(curves) if isinstance(curves, Mapping) else {"": curves}
    if not named:
        raise ValueError("plot_loss needs at least one loss curve, got an empty mapping")
    curves_values = {label: _loss_values(curve) for label, curve in named.items()}  # checked before a figure opens
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
    else:
        fig = ax.figure
    positive = [v for values in curves_values.values() for v in values[np.isfinite(values) & (values > 0)].tolist()]
    if log_scale is None:
        log_scale = bool(positive) and max(positive) / min(positive) > 100
    for label, values in curves_values.items():
        # matplotlib cannot place ticks near float64's limits: values beyond ±1e250 are drawn at ±1e250
        shown = np.clip(values, 1e-250, 1e250) if log_scale else np.clip(values, -1e250, 1e250)
        ax.plot(np.arange(1, len(values) + 1), shown, label=label or None, linewidth=1.6)
    if log_scale:
        ax.set_yscale("log")
        top = min(max(positive, default=1.0), 1e250)
        if top > 1e200 * max(min(positive, default=1.0), 1e-250):  # and it overflows past ~300 decades
            ax.set_ylim(top * 1e-200, top * 10)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if any(named):
        ax.legend()
    fig.tight_layout()
    return _finish(fig, path, own=own)


def _classes(values: np.ndarray, threshold: float) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] > 1:
        return values.argmax(axis=1)
    return (values.reshape(len(values)) > threshold).astype(int)


def _labels(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if y.dtype.kind == "f" and not np.isfinite(y).all():  # no class to colour it by (and int() of nan warns)
        row = int(np.argwhere(~np.isfinite(y))[0][0])
        raise ValueError(f"plot labels y must be finite class labels, got {y.reshape(len(y), -1)[row].tolist()} "
                         f"at row {row}")
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return np.rint(y.reshape(len(y))).astype(int)


def _scatter(ax: plt.Axes, X: np.ndarray, classes: np.ndarray, wrong: np.ndarray | None = None) -> None:
    for c in np.unique(classes):
        rows = classes == c
        ax.scatter(X[rows, 0], X[rows, 1], s=36, color=CLASS_COLORS[c % len(CLASS_COLORS)],
                   edgecolors="white", linewidths=0.7, label=f"class {c}", zorder=3)
    if wrong is not None and wrong.any():
        ax.scatter(X[wrong, 0], X[wrong, 1], s=150, facecolors="none", edgecolors="black", linewidths=1.4,
                   label="misclassified", zorder=4)


def plot_decision_boundary(model: Module, X: Any, y: Any, threshold: float = 0.5, path: str | Path | None = None,
                           resolution: int = 60, title: str | None = None) -> plt.Figure:
    """Ground truth beside prediction, as the reports show them, for 2-D data.

    Right panel: the model's output over a ``resolution`` x ``resolution`` grid
    (one output: ŷ with the ``threshold`` contour drawn black; several outputs:
    the arg-max class), the points coloured by predicted class and the
    misclassified ones circled. The grid goes through ``predict``; an MLP on the
    Value engine is evaluated on its Tensor copy (``model.to("tensor")``: the same
    weights, outputs equal to 1e-12), one batched pass instead of one graph per point.
    """
    X, y = float_array(X, "plot_decision_boundary X"), per_sample_array(y, "plot_decision_boundary y")
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D points (X of shape (n, 2)), got shape {X.shape}")
    if not np.isfinite(X).all():  # the grid spans the points: it needs them finite
        row = int(np.argwhere(~np.isfinite(X))[0][0])
        raise ValueError(f"plot_decision_boundary needs finite points X, got {X[row].tolist()} at row {row}")
    if len(y) != len(X):
        raise ValueError(f"plot_decision_boundary needs one label per point: X has {len(X)} rows, y {len(y)} "
                         f"(X of shape {X.shape})")
    if not isinstance(resolution, numbers.Integral) or isinstance(resolution, bool) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    truth = _labels(y)
    outputs = predict(model, X)
    predicted = _classes(outputs, threshold)

    pad = 0.1 * max(np.ptp(X[:, 0]), np.ptp(X[:, 1]), 1e-9)
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    gx, gy = np.meshgrid(xs, ys)
    # 3,600 grid points are 3,600 scalar graphs on the Value engine (~1 s for 2-16-16-1); the Tensor copy
    # computes the same outputs in one pass.
    grid_model = model.to("tensor") if getattr(model, "engine", None) == "value" and hasattr(model, "to") else model
    grid_out = predict(grid_model, np.column_stack([gx.ravel(), gy.ravel()]))

    # Panels sized to the data's aspect ratio (so a unit square looks square) instead of forcing an equal
    # aspect, which leaves gaps between panels and colorbar.
    ratio = min(max((ys[-1] - ys[0]) / (xs[-1] - xs[0]), 0.5), 2.0)
    panel_w, panel_h = (3.6, 3.6 * ratio) if ratio <= 1 else (3.6 / ratio, 3.6)
    fig = plt.figure(figsize=(2 * panel_w + 2.0, panel_h + 1.5))
    grid = fig.add_gridspec(1, 3, width_ratios=[1, 1, 0.05])
    left = fig.add_subplot(grid[0])
    right = fig.add_subplot(grid[1], sharex=left, sharey=left)
    bar_axes = fig.add_subplot(grid[2])
    _scatter(left, X, truth)
    left.set_title("Ground truth")
    if grid_out.ndim == 1:
        surface = grid_out.reshape(gx.shape)
        finite = surface[np.isfinite(surface)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if 0.0 <= low and high <= 1.0:
            low, high = 0.0, 1.0  # probabilities: the whole scale, so pictures of two runs compare
        elif high - low <= 1e-12 * max(1.0, abs(low)):  # a constant output (a dead or diverged net): contourf
            low, high = low - 0.5, high + 0.5            # needs increasing levels
        filled = right.contourf(gx, gy, surface, levels=np.linspace(low, high, 21), cmap="coolwarm", alpha=0.55)
        if surface.min() < threshold < surface.max():
            right.contour(gx, gy, surface, levels=[threshold], colors="black", linewidths=1.2)
        fig.colorbar(filled, cax=bar_axes, label="model output ŷ")
    else:
        k = grid_out.shape[1]
        cmap = ListedColormap(CLASS_COLORS[:k])
        # Cells, not contours: interpolating class 0 -> 2 would paint a false class-1 strip between them.
        right.pcolormesh(gx, gy, grid_out.argmax(axis=1).reshape(gx.shape), cmap=cmap, vmin=-0.5, vmax=k - 0.5,
                         alpha=0.3, shading="nearest")
        bar_axes.set_visible(False)
    wrong = predicted != truth
    _scatter(right, X, predicted, wrong)
    acc = 100 * float(np.mean(~wrong))
    right.set_title(f"Prediction (accuracy {acc:.1f}%, {int((~wrong).sum())}/{len(X)})")
    for ax in (left, right):
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylim(ys[0], ys[-1])
        ax.set_xlabel("x₀")
        ax.grid(True, alpha=0.2)
    left.set_ylabel("x₁")
    right.tick_params(labelleft=False)  # shared with the left panel
    handles, labels = right.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return _finish(fig, path)


def activation_curve(activation: str | Activation, xs: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """f(x) and f'(x) at each x, both computed by the engine (f' by ``backward()``, not a hand formula)."""
    act = get_activation(activation)
    if not act.elementwise:
        raise ValueError(f"activation_curve needs an elementwise activation, got {act!r}")
    values, slopes = [], []
    for x in float_array(xs, "activation_curve xs").ravel():
        v = Value(float(x))
        out = act(v)
        out.backward()
        values.append(out.data)
        slopes.append(v.grad)
    return np.array(values), np.array(slopes)


def plot_activations(activations: Sequence[str | Activation] = ("sigmoid", "tanh", "relu", "leaky_relu"),
                     path: str | Path | None = None, x_range: tuple[float, float] = (-5.0, 5.0),
                     points: int = 401) -> plt.Figure:
    """Each activation f (solid) with its derivative f' (dashed) on one panel per activation."""
    if isinstance(activations, (str, Activation)):
        activations = [activations]
    if not isinstance(activations, (list, tuple)) or not activations:
        raise TypeError(f"plot_activations expects a non-empty list of activations (names or Activation objects), "
                        f"got {type(activations).__name__}: {activations!r:.40}")
    acts = [get_activation(a) for a in activations]
    bounds = float_array(x_range, "plot_activations x_range")
    if bounds.shape != (2,) or not np.isfinite(bounds).all() or not bounds[0] < bounds[1]:
        raise ValueError(f"plot_activations x_range must be two finite numbers (low, high) with low < high, got "
                         f"{x_range!r:.40}")
    if not isinstance(points, (int, np.integer)) or isinstance(points, bool) or not 2 <= points <= 10**6:
        raise ValueError(f"plot_activations points must be an int from 2 to 1e6, got {points!r:.40}")
    cols = min(len(acts), 2)
    rows = math.ceil(len(acts) / cols)
    xs = np.linspace(bounds[0], bounds[1], points)
    curves = [activation_curve(act, xs) for act in acts]  # an activation it cannot draw fails before a figure opens
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.6 * rows), squeeze=False)
    for ax, act, (f, df) in zip(axes.ravel(), acts, curves):
        label = act.name + (f" (slope {act.slope:g})" if hasattr(act, "slope") else "")
        ax.plot(xs, f, color="#1f5fa8", linewidth=2, label="f(x)")
        # A jump (ReLU's kink) is drawn as a gap with the engine's value at 0 marked, not as a vertical line.
        jumps = np.flatnonzero(np.abs(np.diff(df)) > 0.25 * max(np.ptp(df), 1e-12))
        ax.plot(np.insert(xs, jumps + 1, np.nan), np.insert(df, jumps + 1, np.nan), color="#c8302b",
                linewidth=2, linestyle="--", label="f′(x)")
        if len(jumps):
            d0 = activation_curve(act, [0.0])[1][0]
            ax.plot([0.0], [d0], "o", color="#c8302b", markersize=6, label=f"f′(0) = {d0:g} (engine)")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_title(label)
        ax.set_xlabel("x")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left")
    for ax in axes.ravel()[len(acts):]:
        ax.set_visible(False)
    fig.tight_layout()
    return _finish(fig, path)
