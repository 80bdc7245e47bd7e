"""The lab reports' experiments as sweeps over seeds: ``python -m nn.experiments NAME`` (``--help`` lists them).

An ``Experiment`` is a list of ``Setting``s (one network, optimizer and learning rate each) trained on one or
more data sets, every pair from ``seeds`` random draws of the initial weights. ``run_experiment`` spreads the
runs over processes with joblib (loky, or dask on a cluster) and returns an ``ExperimentResult``;
``summarize`` turns it into one ``Summary`` per setting and data set (mean ± std of the accuracy over seeds,
ddof = 1, and so on); ``write_outputs`` writes the Markdown tables, the CSV of every run and the figures.

Each run draws its weights from a generator derived from its network (sizes, init), its data set and its seed
(``run_generator``), never from a shared stream, so the tables do not depend on how many processes ran them
or in which order they finished, and the settings of one network are paired: at seed s, lr 10, lr 1 and
lr 0.1 (or two activations, or two optimizers) start from the same weights, so a table compares the setting,
not two draws.
"""

from __future__ import annotations

import csv
import hashlib
import math
import numbers
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import data as datasets
from ..init import _finite
from ..layers import ENGINES, MLP
from ..losses import predictions_to_array
from ..optim import get_optimizer

MAX_SEEDS = 10_000  # more seeds than this is a typo, not an experiment
MAX_EPOCHS = 10**7
STD_DDOF = 1  # the sample standard deviation over seeds (n - 1 in the denominator)


# -- data -------------------------------------------------------------------------------------------------------

def _iris_sepals() -> tuple[np.ndarray, np.ndarray]:
    # Two features so that a decision boundary can be drawn, as the report's Figure 4 does; standardised
    # because sepal lengths (4-8 cm) would otherwise saturate sigmoid and tanh units from the first step.
    X, y = datasets.load_iris()
    X = X[:, :2]
    return (X - X.mean(axis=0)) / X.std(axis=0), y


#: The experiments' data sets: name -> (description, loader). The generated ones are drawn once (seed 0):
#: every seed of every setting trains on the same points; only the initial weights change.
DATA = {
    "linear": ("the linear set, 100 points of the unit square (data seed 0)",
               lambda: datasets.generate_linear(100, seed=0)),
    "xor": ("the lab's 21 XOR points", datasets.generate_XOR_easy),
    "moons": ("two moons, 200 points, noise 0.2 (data seed 0), labels as classes 0/1",
              lambda: _as_classes(datasets.make_moons(200, noise=0.2, seed=0))),
    "iris": ("iris, sepal length and width standardised, 150 points, 3 classes", _iris_sepals),
}


def _as_classes(xy: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    X, y = xy
    return X, y.astype(np.int64)


def load_data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` of the experiments' data set ``name`` (see ``DATA``)."""
    if not isinstance(name, str) or name not in DATA:
        raise ValueError(f"unknown experiment data set {name!r}; expected one of {sorted(DATA)}")
    return DATA[name][1]()


# -- what is run ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Setting:
    """One configuration of an experiment: the network, its loss and its optimizer.

    ``activations`` has one entry per layer (hidden layers, then the output); ``lr_is_the_setting`` marks
    settings whose learning rate is what they compare (so ``--lr`` leaves it alone).
    """

    label: str
    hidden: tuple[int, ...] = (16, 16)
    activations: tuple[str, ...] = ("relu", "sigmoid", "sigmoid")
    loss: str = "mse"
    optimizer: str = "sgd"
    lr: float = 1.0
    momentum: float = 0.0
    init: str = "normal"
    lr_is_the_setting: bool = False

    def describe(self) -> str:
        """``2-16-16-1 relu/sigmoid/sigmoid, mse, sgd lr 1`` style summary (input and output sizes as ``·``)."""
        sizes = "-".join(["·", *map(str, self.hidden), "·"])
        opt = self.optimizer + (f" (momentum {self.momentum:g})" if self.momentum else "")
        return f"{sizes} {'/'.join(self.activations)}, {self.init} init, {self.loss}, {opt} lr {self.lr:g}"


@dataclass(frozen=True)
class Experiment:
    """Settings trained on data sets for a number of epochs; ``groups`` splits the settings into tables
    (report-000 has three); ``source`` says which report and section it reproduces."""

    name: str
    title: str
    source: str
    datasets: tuple[str, ...]
    settings: tuple[Setting, ...]
    epochs: int
    column: str  # what the settings vary, the header of the tables' first column
    groups: tuple[tuple[str, int], ...] = ()  # (table title, number of settings), in order; () = one table

    def tables(self) -> list[tuple[str, tuple[Setting, ...]]]:
        """(table title, its settings) in order."""
        if not self.groups:
            return [(self.title, self.settings)]
        out, start = [], 0
        for title, count in self.groups:
            out.append((title, self.settings[start:start + count]))
            start += count
        return out


LAB_NET = Setting("ReLU, sigmoid")  # report 000: 2-16-16-1, ReLU then sigmoid, sigmoid output, N(0,1), MSE, SGD lr 1

LR_SETTINGS = tuple(replace(LAB_NET, label=f"lr {lr:g}", lr=lr, lr_is_the_setting=True)
                    for lr in (10.0, 1.0, 0.1, 0.01))
UNIT_SETTINGS = tuple(replace(LAB_NET, label=f"{n} units", hidden=(n, n)) for n in (4, 8, 16, 32))
# Report 000's Code 3 builds linear1, activation1, linear2, activation2: one hidden layer, so its "None, Sigmoid"
# is a linear model with a sigmoid output. Table 3 is run on both readings: the 2-16-16-1 net (where the second
# hidden layer's sigmoid still bends the boundary) and Code 3's 2-16-1 net.
TABLE3_SETTINGS = (LAB_NET, replace(LAB_NET, label="none, sigmoid", activations=("identity", "sigmoid", "sigmoid")),
                   replace(LAB_NET, label="ReLU (2-16-1, Code 3)", hidden=(16,), activations=("relu", "sigmoid")),
                   replace(LAB_NET, label="none (2-16-1, Code 3)", hidden=(16,),
                           activations=("identity", "sigmoid")))
# Report 002 section 5B: every layer's activation chosen among ReLU and sigmoid, the output kept a sigmoid here
# (MSE on an unbounded output is another experiment), plus no hidden activation at all.
COMBO_SETTINGS = tuple(replace(LAB_NET, label=", ".join(a), activations=(*acts, "sigmoid"))
                       for a, acts in ((("sigmoid", "sigmoid"), ("sigmoid", "sigmoid")),
                                       (("ReLU", "ReLU"), ("relu", "relu")),
                                       (("sigmoid", "ReLU"), ("sigmoid", "relu")),
                                       (("none", "none"), ("identity", "identity"))))
# Reports 001 and 002: report 001's 2-4-4-1 all-sigmoid net; each optimizer at a usual learning rate for it
# (momentum at SGD's rate, to show its speed-up, as report 002 does).
_OPT_NET = Setting("", hidden=(4, 4), activations=("sigmoid", "sigmoid", "sigmoid"), lr_is_the_setting=True)
OPTIMIZER_SETTINGS = (
    replace(_OPT_NET, label="SGD", optimizer="sgd", lr=1.0),
    replace(_OPT_NET, label="SGD, momentum 0.9", optimizer="sgd", lr=1.0, momentum=0.9),
    replace(_OPT_NET, label="Adam", optimizer="adam", lr=0.01),
    replace(_OPT_NET, label="RMSprop", optimizer="rmsprop", lr=0.01),
    replace(_OPT_NET, label="Adagrad", optimizer="adagrad", lr=0.1),
)
# Report 003: one hidden layer of 10 units, a softmax over two outputs with cross-entropy, plain gradient descent.
_MOONS_NET = Setting("", hidden=(10,), activations=("tanh", "identity"), loss="cross_entropy", lr=0.5)
ACTIVATION_FUNCTION_SETTINGS = tuple(replace(_MOONS_NET, label=label, activations=(act, "identity"))
                                     for label, act in (("sigmoid", "sigmoid"), ("tanh", "tanh"), ("ReLU", "relu"),
                                                        ("leaky ReLU", "leaky_relu")))
# Report 003 section 4: an n-layer network counts its input and output layers (n - 2 hidden layers of 10 units).
DEPTH_SETTINGS = tuple(replace(_MOONS_NET, label=f"{depth} layers, {label}", hidden=(10,) * (depth - 2),
                               activations=(act,) * (depth - 2) + ("identity",))
                       for depth in (3, 4, 5) for label, act in (("tanh", "tanh"), ("ReLU", "relu"),
                                                                 ("sigmoid", "sigmoid")))

_R000 = "report 000, section 4"
EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in (
    Experiment("learning-rate", "Learning rate", f"{_R000}.1, Table 1", ("linear", "xor"), LR_SETTINGS, 500,
               "learning rate", (("Table 1: learning rate", 4),)),
    Experiment("hidden-units", "Hidden units per layer", f"{_R000}.2, Table 2", ("linear", "xor"), UNIT_SETTINGS,
               500, "hidden units", (("Table 2: hidden units per layer", 4),)),
    Experiment("activation", "Hidden activations", f"{_R000}.3, Table 3, and report 002 section 5B",
               ("linear", "xor"), TABLE3_SETTINGS + COMBO_SETTINGS, 500, "hidden activations",
               (("Table 3: hidden activations", len(TABLE3_SETTINGS)),
                ("Report 002: combinations per layer", len(COMBO_SETTINGS)))),
    Experiment("optimizer", "Optimizers", "report 001 section 6.1, report 002 section 5A", ("linear", "xor"),
               OPTIMIZER_SETTINGS, 500, "optimizer"),
    Experiment("activation-function", "Activation functions on moons", "report 003, section 1.2", ("moons",),
               ACTIVATION_FUNCTION_SETTINGS, 1000, "activation"),
    Experiment("depth", "Depth and activation", "report 003, section 1.4", ("moons", "iris"), DEPTH_SETTINGS, 1000,
               "network"),
    Experiment("report-000", "Report 000, Tables 1-3", f"{_R000}, Tables 1-3", ("linear", "xor"),
               LR_SETTINGS + UNIT_SETTINGS + TABLE3_SETTINGS, 500, "setting",
               (("Table 1: learning rate", 4), ("Table 2: hidden units per layer", 4),
                ("Table 3: hidden activations", len(TABLE3_SETTINGS)))),
)}

#: Report 000's accuracies (%), one run each: (table, setting label, data set) -> accuracy.
REPORT_000: dict[tuple[str, str, str], float] = {}
for _table, _rows in (("Table 1: learning rate", {"lr 10": (97.0, 61.9), "lr 1": (100.0, 100.0),
                                                   "lr 0.1": (97.0, 85.7), "lr 0.01": (49.0, 42.9)}),
                      ("Table 2: hidden units per layer", {"4 units": (100.0, 52.4), "8 units": (99.0, 52.4),
                                                           "16 units": (99.0, 100.0), "32 units": (100.0, 100.0)}),
                      ("Table 3: hidden activations", {"ReLU, sigmoid": (99.0, 100.0),
                                                       "none, sigmoid": (99.0, 71.4),
                                                       "ReLU (2-16-1, Code 3)": (99.0, 100.0),
                                                       "none (2-16-1, Code 3)": (99.0, 71.4)})):
    for _label, (_linear, _xor) in _rows.items():
        REPORT_000[_table, _label, "linear"] = _linear
        REPORT_000[_table, _label, "xor"] = _xor

QUICK_SEEDS, QUICK_EPOCHS = 3, 100  # --quick: a smoke run for CI that still shows the qualitative findings


@dataclass(frozen=True)
class Task:
    """One run: a setting on a data set from one seed."""

    group: str
    setting: Setting
    dataset: str
    seed: int
    epochs: int
    engine: str = "tensor"


def network_key(setting: Setting) -> str:
    """What a setting's initial weights depend on: its hidden sizes and init (``"16-16 normal"``); settings that
    differ only in learning rate, activations, loss or optimizer share it, so their runs are paired."""
    return f"{'-'.join(map(str, setting.hidden))} {setting.init}"


def run_generator(network: str, dataset: str, seed: int) -> np.random.Generator:
    """The generator of one run's initial weights, derived from its network (``network_key``), its data set and
    its seed alone (SHA-256 of the first two, so it is the same in every process and every Python)."""
    if not isinstance(network, str) or not isinstance(dataset, str):
        raise TypeError(f"run_generator expects the network's key and the data set's name as strings, got "
                        f"{type(network).__name__} and {type(dataset).__name__}")
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise ValueError(f"run_generator seed must be an int from 0 to 2**63 - 1, got {seed!r:.40}")
    digest = hashlib.sha256(f"{network}\x1f{dataset}".encode()).digest()
    words = np.frombuffer(digest[:16], dtype=np.uint32).tolist()
    return np.random.default_rng(np.random.SeedSequence([int(seed), *words]))


@dataclass
class RunResult:
    """What one run gave. ``accuracy`` is measured after the last update; ``final_loss`` is the mean loss of
    the last epoch (``History.final_loss``); ``epoch_to_100`` is the first epoch whose predictions were all
    right (None if none was); ``state`` is the trained ``state_dict``."""

    task: Task
    accuracy: float
    final_loss: float
    loss_curve: np.ndarray
    epoch_to_100: int | None
    stopped: str | None
    state: dict[str, np.ndarray] = field(repr=False)
    wall_time: float = 0.0


def build_model(task: Task) -> MLP:
    """The network of ``task`` with its initial weights (from ``run_generator``)."""
    X, y = load_data(task.dataset)
    s = task.setting
    n_out = 1 if s.loss != "cross_entropy" else int(y.max()) + 1
    return MLP(X.shape[1], list(s.hidden), n_out, activations=list(s.activations), bias=True, init=s.init,
               seed=run_generator(network_key(s), task.dataset, task.seed), engine=task.engine)


def train_one(task: Task) -> RunResult:
    """Train one run (this is what the worker processes call)."""
    from ..train import accuracy, fit  # nn.train is loaded lazily by nn; import it here, not at import
    start = time.perf_counter()
    X, y = load_data(task.dataset)
    model = build_model(task)
    s = task.setting
    hyper = {"lr": s.lr, **({"momentum": s.momentum} if s.momentum else {})}
    optimizer = get_optimizer(s.optimizer, model.parameters(), **hyper)
    history = fit(model, X, y, loss=s.loss, optimizer=optimizer, epochs=task.epochs, batch_size=None,
                  shuffle=False, seed=0, log_every=None, progress=False, print_fn=_silent)
    # Not nn.predict: its no_grad() flips autograd's process-wide switch, which would stop the graph of a run
    # training in another thread of the same worker (dask workers run several tasks as threads).
    acc = accuracy(predictions_to_array(model(X)), y)
    perfect = np.flatnonzero(np.asarray(history.accuracy) == 1.0)
    return RunResult(task, float(acc), float(history.final_loss), np.asarray(history.loss, dtype=np.float64),
                     int(perfect[0]) + 1 if len(perfect) else None, history.stopped, model.state_dict(),
                     time.perf_counter() - start)


def _silent(_: str) -> None:
    """fit's print_fn: the messages of a stopped run are kept in ``RunResult.stopped`` instead."""


# -- running ----------------------------------------------------------------------------------------------------

def _count(value: Any, name: str, high: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or not 1 <= value <= high:
        raise ValueError(f"{name} must be an int from 1 to {high}, got {value!r:.40}")
    return int(value)


def _jobs(value: Any) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or not (value == -1 or 1 <= value <= 1024):
        raise ValueError(f"jobs must be -1 (every core) or an int from 1 to 1024, got {value!r:.40}")
    return int(value)


def _learning_rate(value: Any) -> float:
    try:
        ok = 0 < _finite(value, "lr") <= 1e6
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"lr must be a finite number in (0, 1e6], got {value!r:.40}")
    return float(value)


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name`` (see ``EXPERIMENTS``)."""
    if not isinstance(name, str) or name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r:.40}; expected one of {list(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def tasks_of(experiment: Experiment, seeds: int, epochs: int, lr: float | None = None,
             engine: str = "tensor") -> list[Task]:
    """Every run of ``experiment``, in table order: tables, settings, data sets, seeds 0 .. seeds - 1.
    ``lr`` replaces the learning rate of each setting that does not compare learning rates."""
    tasks = []
    for group, settings in experiment.tables():
        for setting in settings:
            if lr is not None and not setting.lr_is_the_setting:
                setting = replace(setting, lr=lr)
            tasks.extend(Task(group, setting, dataset, seed, epochs, engine)
                         for dataset in experiment.datasets for seed in range(seeds))
    return tasks


@dataclass
class ExperimentResult:
    """The runs of one experiment, in ``tasks_of`` order whatever order they finished in."""

    experiment: Experiment
    runs: list[RunResult]
    seeds: int
    epochs: int
    wall_time: float = 0.0
    jobs: str = ""
    lr: float | None = None  # the --lr that replaced the settings' own learning rates, if one did


def run_experiment(name: str, seeds: int = 10, epochs: int | None = None, lr: float | None = None, jobs: int = 1,
                   engine: str = "tensor", backend: str = "loky", scheduler: str | None = None,
                   progress: bool = True) -> ExperimentResult:
    """Run experiment ``name`` from ``seeds`` seeds for ``epochs`` epochs (default: the experiment's own).

    ``jobs`` worker processes run the runs (joblib's ``loky`` backend; ``jobs=-1``: every core);
    ``backend="dask"`` sends them to the dask scheduler at ``scheduler`` (e.g. ``tcp://10.0.0.5:8786``;
    needs the ``cluster`` extra) instead. ``progress`` shows a tqdm bar counting finished runs.
    """
    experiment = get_experiment(name)
    seeds = _count(seeds, "seeds", MAX_SEEDS)
    epochs = experiment.epochs if epochs is None else _count(epochs, "epochs", MAX_EPOCHS)
    lr = None if lr is None else _learning_rate(lr)
    if not isinstance(engine, str) or engine not in ENGINES:
        raise ValueError(f"engine must be one of {sorted(ENGINES)}, got {engine!r:.40}")
    jobs = _jobs(jobs)
    if not isinstance(backend, str) or backend not in ("loky", "dask"):
        raise ValueError(f"backend must be 'loky' or 'dask', got {backend!r:.40}")
    if backend == "dask" and not isinstance(scheduler, str):
        raise ValueError(f"backend 'dask' needs the scheduler's address as a string (e.g. 'tcp://host:8786'), "
                         f"got scheduler={scheduler!r:.40}")
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {type(progress).__name__}")

    tasks = tasks_of(experiment, seeds, epochs, lr, engine)
    start = time.perf_counter()
    if backend == "dask":
        results, where = _run_on_dask(tasks, scheduler, progress)
    else:
        results, where = _run_local(tasks, int(jobs), progress), f"{jobs} job(s), loky"
    return ExperimentResult(experiment, results, seeds, epochs, time.perf_counter() - start, where, lr)


def _collect(tasks: list[Task], parallel: Any, progress: bool) -> list[RunResult]:
    """Run ``tasks`` through a joblib ``Parallel`` that yields results as they finish; the bar counts those."""
    from joblib import delayed
    from tqdm.auto import tqdm

    by_task: dict[int, RunResult] = {}
    with tqdm(total=len(tasks), unit="run", disable=not progress, leave=False) as bar:
        for index, result in parallel(delayed(_indexed)(i, task) for i, task in enumerate(tasks)):
            by_task[index] = result
            bar.update(1)
    return [by_task[i] for i in range(len(tasks))]


def _indexed(index: int, task: Task) -> tuple[int, RunResult]:
    return index, train_one(task)


def _run_local(tasks: list[Task], jobs: int, progress: bool) -> list[RunResult]:
    from joblib import Parallel

    # small batches so the bar moves and the two cores stay busy to the end; one BLAS thread per worker
    parallel = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered", batch_size=1,
                        inner_max_num_threads=1 if jobs != 1 else None)
    return _collect(tasks, parallel, progress)


def _run_on_dask(tasks: list[Task], scheduler: str, progress: bool) -> tuple[list[RunResult], str]:
    try:
        from dask.distributed import Client
    except ImportError:
        raise ValueError("backend 'dask' needs dask.distributed: pip install 'chainrule-lab[cluster]'") from None
    from joblib import Parallel, parallel_config

    with Client(scheduler) as client:
        workers = len(client.scheduler_info().get("workers", {}))
        with parallel_config(backend="dask"):
            results = _collect(tasks, Parallel(return_as="generator_unordered", batch_size=1), progress)
    return results, f"dask at {scheduler} ({workers} worker(s))"


# -- summarising ------------------------------------------------------------------------------------------------

@dataclass
class Summary:
    """One setting on one data set over its seeds. Accuracies in %; ``*_std`` use ddof = ``STD_DDOF``
    (nan for a single seed); ``median_epoch_to_100`` is over the seeds whose final accuracy is 100%
    (None if no seed got there); ``median_seed`` is the seed ranked in the middle by (accuracy, -loss)."""

    group: str
    setting: Setting
    dataset: str
    seeds: int
    accuracy_mean: float
    accuracy_std: float
    accuracy_min: float
    accuracy_max: float
    loss_mean: float
    loss_std: float
    share_100: float
    median_epoch_to_100: float | None
    median_seed: int
    stopped: int


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.sum() / len(values))
    if len(values) <= STD_DDOF:  # np.std would warn about the degrees of freedom
        return mean, math.nan
    # scaled by the largest |value| first: squares of losses near 1e305 would overflow to inf (a finite spread)
    scale = float(np.max(np.abs(values))) if np.all(np.isfinite(values)) else 1.0
    scale = scale if scale > 0 else 1.0
    scaled = values / scale
    spread = float(np.sqrt(((scaled - scaled.mean()) ** 2).sum() / (len(values) - STD_DDOF)))
    return mean, spread * scale


def median_run(runs: Sequence[RunResult]) -> RunResult:
    """The run in the middle when ranked by final accuracy, ties by final loss (lower is better), then seed;
    for an even count the lower of the two middle ones (a real run, not an average)."""
    ranked = sorted(runs, key=lambda r: (r.accuracy, -r.final_loss if math.isfinite(r.final_loss) else -math.inf,
                                         -r.task.seed))
    return ranked[(len(ranked) - 1) // 2]


def summarize(result: ExperimentResult) -> list[Summary]:
    """One ``Summary`` per (table, setting, data set), in table order."""
    if not isinstance(result, ExperimentResult):
        raise TypeError(f"summarize expects an ExperimentResult (from run_experiment), got {type(result).__name__}")
    groups: dict[tuple[str, str, str], list[RunResult]] = {}
    for run in result.runs:
        groups.setdefault((run.task.group, run.task.setting.label, run.task.dataset), []).append(run)
    out = []
    for (group, _, dataset), runs in groups.items():
        accs = [100 * r.accuracy for r in runs]
        acc_mean, acc_std = _mean_std(accs)
        loss_mean, loss_std = _mean_std([r.final_loss for r in runs])
        perfect = [r for r in runs if r.accuracy == 1.0]
        epochs = [r.epoch_to_100 for r in perfect if r.epoch_to_100 is not None]
        out.append(Summary(group, runs[0].task.setting, dataset, len(runs), acc_mean, acc_std, min(accs), max(accs),
                           loss_mean, loss_std, len(perfect) / len(runs),
                           float(np.median(epochs)) if epochs else None, median_run(runs).task.seed,
                           sum(r.stopped is not None for r in runs)))
    return out


# -- writing ----------------------------------------------------------------------------------------------------

def _pm(mean: float, std: float, digits: int) -> str:
    return f"{mean:.{digits}f}" + ("" if math.isnan(std) else f" ± {std:.{digits}f}")


def _loss_text(mean: float, std: float) -> str:
    return f"{mean:.3g}" + ("" if math.isnan(std) else f" ± {std:.2g}")


def markdown_tables(result: ExperimentResult) -> str:
    """The experiment's tables in Markdown: one row per setting and data set."""
    exp = result.experiment
    summaries = summarize(result)
    lines = [f"## {exp.title} (`{exp.name}`)", "",
             f"Reproduces {exp.source}. {result.seeds} seed(s) per setting, {result.epochs} epochs, full batch, "
             f"{result.runs[0].task.engine} engine. Accuracy: % of the training points right after the last "
             f"update, mean ± standard deviation over seeds (ddof = {STD_DDOF}). Final loss: mean loss of the last "
             f"epoch. *At 100%*: share of seeds whose final accuracy is 100%; *epoch*: the median over those "
             f"seeds of the first epoch with every point right.", ""]
    for dataset in exp.datasets:
        lines.append(f"- {dataset}: {DATA[dataset][0]}")
    for title, settings in exp.tables():
        lines += ["", f"### {title}", ""]
        lines += [f"| {exp.column} | data | accuracy % | min–max | final loss | at 100% | epoch |",
                  "|---|---|---|---|---|---|---|"]
        labels = {s.label for s in settings}
        for s in summaries:
            if s.group != title or s.setting.label not in labels:
                continue
            epoch = "—" if s.median_epoch_to_100 is None else f"{s.median_epoch_to_100:g}"
            lines.append(f"| {s.setting.label} | {s.dataset} | {_pm(s.accuracy_mean, s.accuracy_std, 1)} | "
                         f"{s.accuracy_min:.1f}–{s.accuracy_max:.1f} | {_loss_text(s.loss_mean, s.loss_std)} | "
                         f"{100 * s.share_100:.0f}% | {epoch} |")
        ran = {(r.task.group, r.task.setting.label): r.task.setting for r in result.runs}  # as run (--lr)
        lines += [""] + [f"- {s.label}: {ran.get((title, s.label), s).describe()}" for s in settings]
    stopped = sum(s.stopped for s in summaries)
    if stopped:
        lines += ["", f"{stopped} run(s) stopped early on a nan/inf loss and kept their last finite weights "
                      "(see the CSV's `stopped` column)."]
    return "\n".join(lines) + "\n"


def comparison_markdown(result: ExperimentResult) -> str:
    """Report 000's accuracies beside ours, for the rows of ``result`` that the report has."""
    summaries = [s for s in summarize(result) if (s.group, s.setting.label, s.dataset) in REPORT_000]
    if not summaries:
        raise ValueError(f"comparison_markdown needs runs of report 000's settings (experiment report-000, "
                         f"learning-rate, hidden-units or activation), got experiment {result.experiment.name!r}")
    lines = [f"| table | setting | data | report 000 (one run) | ours: mean ± std over {result.seeds} seeds | "
             "ours: min–max | report inside our range |", "|---|---|---|---|---|---|---|"]
    outside = []
    for s in summaries:
        theirs = REPORT_000[s.group, s.setting.label, s.dataset]
        inside = s.accuracy_min - 0.05 <= theirs <= s.accuracy_max + 0.05
        if not inside:
            outside.append(f"{s.setting.label} on {s.dataset}")
        lines.append(f"| {s.group.split(':')[0]} | {s.setting.label} | {s.dataset} | {theirs:.1f} | "
                     f"{_pm(s.accuracy_mean, s.accuracy_std, 1)} | {s.accuracy_min:.1f}–{s.accuracy_max:.1f} | "
                     f"{'yes' if inside else '**no**'} |")
    lines += ["", f"Std with ddof = {STD_DDOF}; {result.epochs} epochs; generated by "
                  f"`python -m nn.experiments {result.experiment.name} --seeds {result.seeds} --epochs "
                  f"{result.epochs}{'' if result.lr is None else f' --lr {result.lr:g}'}`. The report's figure falls "
                  "outside the range of our seeds for: "
                  + (", ".join(outside) if outside else "none") + "."]
    return "\n".join(lines) + "\n"


CSV_COLUMNS = ("experiment", "table", "setting", "dataset", "seed", "epochs", "engine", "hidden", "activations",
               "loss", "optimizer", "lr", "momentum", "init", "accuracy", "final_loss", "epoch_to_100", "stopped")


def write_csv(result: ExperimentResult, path: str | Path) -> Path:
    """One row per run (``CSV_COLUMNS``); accuracy as a fraction, floats with all their digits."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for r in result.runs:
            t, s = r.task, r.task.setting
            writer.writerow([result.experiment.name, t.group, s.label, t.dataset, t.seed, t.epochs, t.engine,
                             "-".join(map(str, s.hidden)), "/".join(s.activations), s.loss, s.optimizer,
                             repr(s.lr), repr(s.momentum), s.init, repr(r.accuracy), repr(r.final_loss),
                             "" if r.epoch_to_100 is None else r.epoch_to_100, r.stopped or ""])
    return path


def write_outputs(result: ExperimentResult, out: str | Path) -> list[Path]:
    """Write ``NAME.md`` (tables; report 000's beside ours where it has them), ``NAME_runs.csv`` and, per data
    set, ``NAME_loss_DATA.png`` and ``NAME_boundaries_DATA.png`` into ``out``; return the paths."""
    if not isinstance(result, ExperimentResult):
        raise TypeError(f"write_outputs expects an ExperimentResult (from run_experiment), got "
                        f"{type(result).__name__}")
    if not isinstance(out, (str, Path)) or not str(out):
        raise TypeError(f"write_outputs out must be a folder path (str or Path), got {type(out).__name__}: "
                        f"{out!r:.40}")
    from . import figures

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    name = result.experiment.name
    text = markdown_tables(result)
    if any((r.task.group, r.task.setting.label, r.task.dataset) in REPORT_000 for r in result.runs):
        text += "\n## Beside report 000\n\n" + comparison_markdown(result)
    paths = [out / f"{name}.md", write_csv(result, out / f"{name}_runs.csv")]
    paths[0].write_text(text)
    for dataset in result.experiment.datasets:
        for kind, plot in (("loss", figures.plot_loss_bands), ("boundaries", figures.plot_boundary_grid)):
            paths.append(out / f"{name}_{kind}_{dataset}.png")
            plot(result, dataset, paths[-1])
    return paths
