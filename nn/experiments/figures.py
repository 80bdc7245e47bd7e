"""The experiments' figures: loss curves with mean ± std bands, and a grid of decision boundaries (median seed).

Both return the figure and, given a path, write it (PNG, 120 dpi) and close it, as ``nn.plot`` does.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D

from .. import plot
from ..plot import CLASS_COLORS, plt  # pyplot as nn.plot imports it: after choosing Agg on a headless machine
from ..train import predict
from . import DATA, STD_DDOF, ExperimentResult, build_model, load_data, median_run

AXIS_NAMES = {"iris": ("sepal length (standardised)", "sepal width (standardised)")}


def _finish(fig: plt.Figure, path: str | Path | None) -> plt.Figure:
    return plot._finish(fig, path, dpi=120)  # many panels: 120 dpi keeps the files small


def _check(result: ExperimentResult, dataset: str) -> None:
    if not isinstance(result, ExperimentResult):
        raise TypeError(f"expected an ExperimentResult (from run_experiment), got {type(result).__name__}")
    if dataset not in result.experiment.datasets:
        raise ValueError(f"experiment {result.experiment.name!r} has no data set {dataset!r:.40}; expected one of "
                         f"{list(result.experiment.datasets)}")


def curve_bands(curves: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and std (ddof = ``STD_DDOF``) per epoch over runs, and how many runs reached each epoch (a run
    that stopped on a nan loss is shorter: later epochs average the runs still going)."""
    length = max(len(c) for c in curves)
    stacked = np.full((len(curves), length), np.nan)
    for i, c in enumerate(curves):
        stacked[i, :len(c)] = c
    present = np.isfinite(stacked)
    count = present.sum(axis=0)
    filled = np.where(present, stacked, 0.0)
    mean = filled.sum(axis=0) / count
    spread = np.where(present, (stacked - mean) ** 2, 0.0).sum(axis=0)
    std = np.full(length, np.nan)
    enough = count > STD_DDOF
    std[enough] = np.sqrt(spread[enough] / (count[enough] - STD_DDOF))
    return mean, std, count


def plot_loss_bands(result: ExperimentResult, dataset: str, path: str | Path | None = None) -> plt.Figure:
    """Loss per epoch on ``dataset``: one panel per table, one line per setting, on a logarithmic axis.

    The line is the mean over seeds of log10(loss) and the band ± one standard deviation of it (ddof =
    ``STD_DDOF``): on a log axis a band of the raw losses would reach below zero whenever the seeds disagree.
    """
    _check(result, dataset)
    tables = result.experiment.tables()
    fig, axes = plt.subplots(1, len(tables), figsize=(6.2 * len(tables), 4.4), squeeze=False)
    for ax, (title, settings) in zip(axes[0], tables):
        for i, setting in enumerate(settings):
            curves = [np.log10(np.clip(r.loss_curve, 1e-300, None)) for r in result.runs
                      if r.task.group == title and r.task.setting.label == setting.label and r.task.dataset == dataset]
            mean, std, _ = curve_bands(curves)
            epochs = np.arange(1, len(mean) + 1)
            color = plt.cm.tab10(i % 10)
            ax.plot(epochs, 10 ** mean, color=color, linewidth=1.6, label=setting.label)
            spread = np.nan_to_num(std)
            ax.fill_between(epochs, 10 ** (mean - spread), 10 ** (mean + spread), color=color, alpha=0.18,
                            linewidth=0)
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{settings[0].loss} loss")
        ax.set_title(f"{title}\n(line: mean of log loss over {result.seeds} seeds; band: ± 1 std)", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, ncol=1 + (len(settings) > 5))
    fig.suptitle(f"{result.experiment.title}: training loss on {dataset}", fontsize=12)
    # fixed margins: tight_layout measures every tick label of every log axis, most of a figure's cost
    fig.subplots_adjust(left=0.07 if len(tables) > 1 else 0.12, right=0.98, bottom=0.12, top=0.80, wspace=0.22)
    return _finish(fig, path)


def _grid(X: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pad = 0.1 * max(np.ptp(X[:, 0]), np.ptp(X[:, 1]), 1e-9)
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    gx, gy = np.meshgrid(xs, ys)
    return gx, gy, np.column_stack([gx.ravel(), gy.ravel()])


def plot_boundary_grid(result: ExperimentResult, dataset: str, path: str | Path | None = None,
                       resolution: int = 80) -> plt.Figure:
    """One panel per setting: the decision regions of its median seed (``median_run``) with the data points
    coloured by their true class; a single-output net also gets its ŷ = 0.5 contour."""
    _check(result, dataset)
    X, y = load_data(dataset)
    truth = np.rint(y).astype(int)
    n_classes = int(truth.max()) + 1
    keys = list(dict.fromkeys((r.task.group, r.task.setting.label) for r in result.runs))
    cols = min(len(keys), 4)
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.5 * rows + 0.6), squeeze=False)
    gx, gy, points = _grid(X, resolution)
    regions = ListedColormap([c for c in CLASS_COLORS[:n_classes]])
    xlabel, ylabel = AXIS_NAMES.get(dataset, ("x₀", "x₁"))
    contour_drawn = False
    for ax, (group, label) in zip(axes.ravel(), keys):
        runs = [r for r in result.runs if (r.task.group, r.task.setting.label, r.task.dataset) == (group, label,
                                                                                                     dataset)]
        run = median_run(runs)
        model = build_model(run.task)
        model.load_state_dict(run.state)
        out = predict(model, points)
        if out.ndim == 1:
            classes = (out > 0.5).astype(int)
            ax.contour(gx, gy, out.reshape(gx.shape), levels=[0.5], colors="black", linewidths=1.0)
            contour_drawn = True
        else:
            classes = out.argmax(axis=1)
        ax.contourf(gx, gy, classes.reshape(gx.shape), levels=np.arange(n_classes + 1) - 0.5, cmap=regions,
                    alpha=0.22)
        for c in range(n_classes):
            rows_c = truth == c
            ax.scatter(X[rows_c, 0], X[rows_c, 1], s=14, color=CLASS_COLORS[c], edgecolors="white",
                       linewidths=0.4, zorder=3)
        ax.set_title(f"{label}\nseed {run.task.seed}: {100 * run.accuracy:.1f}%", fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(keys):]:
        ax.set_visible(False)
    handles = [Line2D([], [], marker="o", linestyle="", color=CLASS_COLORS[c], label=f"class {c}")
               for c in range(n_classes)]
    if contour_drawn:
        handles.append(Line2D([], [], color="black", linewidth=1.0, label="ŷ = 0.5"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle(f"{result.experiment.title}: decision regions on {dataset} ({DATA[dataset][0].split(',')[0]}), "
                 f"median of {result.seeds} seeds", fontsize=11)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.08 + 0.25 / (3.5 * rows), top=1 - 0.9 / (3.5 * rows + 0.6),
                        hspace=0.5, wspace=0.3)
    return _finish(fig, path)
