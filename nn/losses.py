"""Losses: MSE (mean, sum, and the ½-sum of the hand derivations), binary cross-entropy on
probabilities and on logits, softmax cross-entropy.

A loss takes the predictions as the model produced them and the targets as a
numpy array, and returns one node (call ``backward()`` on it). On the Value
engine the predictions are a list with one entry per sample: a Value for a
single-output net, a list of Values otherwise (a single Value is one sample).
On the Tensor engine they are one Tensor: (n, k) for n samples of k outputs,
(k,) for one sample. Which engine made the predictions is decided in one place,
:func:`prediction_engine`; the checks of predictions and targets are in one place per
engine (``_value_inputs``, ``_tensor_inputs``).

Each loss's formula is written ONCE (``Loss.formula``), for both engines: with operators, engine
methods both share (``softplus``, ``log``) and the small dispatch helpers below (``_each`` applies an
elementwise term to a Tensor at once or to each Value; ``_reduce``, ``_clamped_log``,
``_log_softmax_rows``, ``_weighted_sum`` do the one thing they name on either engine). So with the
same predictions the two engines give the same loss and gradients (to rounding), and the stable
forms (softplus, the shifted log-sum-exp) are the same on both.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autograd
from autograd import Tensor, Value, mse_loss

from .module import Module

# log(p) is clamped at -100 as in PyTorch's BCELoss, so a saturated sigmoid gives a large finite loss.
_LOG_FLOOR = -100.0
_P_FLOOR = math.exp(_LOG_FLOOR)


def prediction_engine(pred: Any) -> str:
    """The engine that produced ``pred``: ``"tensor"`` for a Tensor, ``"value"`` for a Value or (nested)
    lists of Values."""
    if type(pred) is Tensor:
        return "tensor"
    first = pred
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    if isinstance(first, Value):
        return "value"
    raise TypeError(f"a loss expects the model's predictions (a Tensor, a Value, a list of Values, or a list of "
                    f"lists of Values), got {type(pred).__name__}")


def predictions_to_array(pred: Any) -> np.ndarray:
    """The model's predictions as a float64 array: (n,) for single-output nets, (n, k) otherwise."""
    if type(pred) is Tensor:
        data = pred.data
        if data.ndim == 2 and data.shape[1] == 1:
            return data[:, 0]
        return data.reshape(1) if data.ndim == 0 else data
    if prediction_engine(pred) == "value":
        if isinstance(pred, Value):
            return np.array([pred.data])
        if isinstance(pred[0], Value):
            return np.array([p.data for p in pred], dtype=np.float64)
        return np.array([[p.data for p in row] for row in pred], dtype=np.float64)
    raise AssertionError("unreachable: prediction_engine names every engine")  # pragma: no cover


def _value_rows(pred: Any, flat_is_one_sample: bool = False) -> list[list[Value]]:
    """Predictions as n rows of k Values. A flat list is n samples of one output, or, when
    ``flat_is_one_sample``, the k outputs of one sample."""
    if isinstance(pred, Value):
        return [[pred]]
    if isinstance(pred[0], Value):
        rows = [list(pred)] if flat_is_one_sample else [[p] for p in pred]
    else:
        rows = [list(r) for r in pred]
    k = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != k:
            raise ValueError(f"predictions must have the same number of outputs per sample: sample 0 has {k}, "
                             f"sample {i} has {len(row)}")
        for v in row:
            if not isinstance(v, Value):
                raise TypeError(f"prediction of sample {i} holds a {type(v).__name__}, expected Values")
    return rows


def _real_target(target: Any, loss: str) -> np.ndarray:
    """``target`` as an array of real numbers (dtype kept), or ValueError naming the loss: never a silent nan
    from None, never numpy's error for a ragged list."""
    try:
        t = np.asarray(target)
    except (TypeError, ValueError):  # a ragged list
        t = None
    if t is None or t.dtype.kind not in "biuf":
        raise ValueError(f"{loss}: target must be an array of real numbers, got {type(target).__name__}: "
                         f"{target!r:.80}")
    return t


def as_target_matrix(target: Any, n: int, k: int, loss: str) -> np.ndarray:
    """``target`` as a float64 (n, k) array; accepts (n, k), (n,) when k == 1, (k,) when n == 1, or a scalar
    when n == k == 1. Raises ValueError naming the loss, the shape received and the shape expected."""
    t = _real_target(target, loss).astype(np.float64, copy=False)
    if t.shape == (n, k):
        return t
    if (k == 1 and t.shape == (n,)) or (n == 1 and t.shape == (k,)) or (n == k == 1 and t.ndim == 0):
        return t.reshape(n, k)
    expected = f"({n}, {k})" + (f" or ({n},)" if k == 1 else "")
    raise ValueError(f"{loss}: target has shape {t.shape} but the predictions are {n} sample(s) x {k} output(s); "
                     f"expected a target of shape {expected}")


def _tensor_rows(pred: Tensor, loss: str) -> tuple[int, int]:
    """(n samples, k outputs) of Tensor predictions: (n, k) as is, (k,) is one sample, a 0-d Tensor one output."""
    if pred.ndim > 2:
        raise ValueError(f"{loss}: predictions must be a Tensor of shape (n, k) or (k,), got shape {pred.shape}")
    if pred.ndim == 2:
        return pred.shape
    return 1, (pred.shape[0] if pred.ndim else 1)


def _check_reduction(reduction: str, allowed: tuple[str, ...], loss: str) -> str:
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(f"{loss}: reduction must be one of {allowed}, got {reduction!r}")
    return reduction


# -- the helpers each formula is written with: one meaning, both engines ---------------------------------

def _each(term: Any, pred: Any, t: np.ndarray) -> Any:
    """``term(prediction, target)`` on every entry: one call on a Tensor and its target array (elementwise),
    one call per Value on the Value engine (a list of terms)."""
    if type(pred) is Tensor:
        return term(pred, t)
    return [term(v, y) for row, trow in zip(pred, t.tolist()) for v, y in zip(row, trow)]


def _reduce(terms: Any, reduction: str) -> Any:
    """The mean, sum or ½-sum of the terms (a Tensor, or a list of Values)."""
    if type(terms) is Tensor:
        count, total = terms.size, terms.sum()
    else:
        count, total = len(terms), autograd.sum(terms)
    if reduction == "mean":
        return total / count
    return 0.5 * total if reduction == "half_sum" else total


def _clamped_log(p: Any) -> Any:
    """log p, -100 (a constant: no gradient) where p <= e⁻¹⁰⁰, as PyTorch's BCELoss; a Value or a Tensor.
    A nan p is not clamped: its log is nan, so the loss is nan (nan propagates)."""
    if type(p) is not Tensor:
        return Value(_LOG_FLOOR) if p.data <= _P_FLOOR else p.log()
    kept = ~(p.data <= _P_FLOOR)
    if kept.all():
        return p.log()
    # Where p is clamped, take log 1 = 0 (not log p: p may be 0) and add the floor; no gradient reaches p there.
    kept = kept.astype(p.dtype)
    return (p * kept + (1.0 - kept)).log() + _LOG_FLOOR * (1.0 - kept)


def _log_softmax_rows(z: Any) -> Any:
    """log softmax of each sample's logits by the shifted log-sum-exp, (zⱼ - m) - log Σᵢ exp(zᵢ - m) with
    m = max z: ``Tensor.log_softmax`` on a Tensor, the same formula on each row of Values."""
    if type(z) is Tensor:
        return z.log_softmax(axis=-1)
    rows = []
    for row in z:
        m = max(v.data for v in row)
        shifted = [v - m for v in row]
        log_total = autograd.sum([s.exp() for s in shifted]).log()
        rows.append([s - log_total for s in shifted])
    return rows


def _weighted_sum(terms: Any, t: np.ndarray) -> Any:
    """Σ tᵢⱼ · termᵢⱼ over the entries with tᵢⱼ != 0 only: a masked class (logit -inf) has log softmax -inf,
    and 0 · -inf would be nan."""
    if type(terms) is Tensor:
        used = t != 0
        return (terms[used] * t[used]).sum()
    weighted = [v if w == 1.0 else w * v for row, trow in zip(terms, t.tolist()) for v, w in zip(row, trow) if w]
    return autograd.sum(weighted) if weighted else Value(0.0)  # every weight 0: an empty sum


def _value_inputs(pred: Any, target: Any, loss: str, targets: Any) -> tuple[list[list[Value]], np.ndarray]:
    """The Value engine's checks: prediction rows (n x k Values) and ``targets(target, n, k, loss)``."""
    rows = _value_rows(pred, flat_is_one_sample=targets is as_class_targets)
    return rows, targets(target, len(rows), len(rows[0]), loss)


def _tensor_inputs(pred: Tensor, target: Any, loss: str, targets: Any) -> tuple[Tensor, np.ndarray]:
    """The Tensor engine's checks: (n, k) or (k,) predictions and ``targets(...)`` shaped like them."""
    n, k = _tensor_rows(pred, loss)
    return pred, targets(target, n, k, loss).reshape(pred.shape)


class Loss(Module):
    """Base class: ``loss(pred, target)`` checks both (per engine) and applies ``formula``, the one definition.

    A subclass sets ``name``, ``title`` (the name in error messages), ``targets`` (the function turning a target
    into an (n, k) array) and ``formula(pred, t)``, written with the helpers above so it runs on either engine.
    """

    name = "loss"
    title = "Loss"
    targets = staticmethod(as_target_matrix)

    def forward(self, pred: Any, target: Any) -> Any:
        check = _tensor_inputs if prediction_engine(pred) == "tensor" else _value_inputs
        pred, t = check(pred, target, self.title, self.targets)
        self.check_values(pred, t)
        return self.formula(pred, t)

    def check_values(self, pred: Any, t: np.ndarray) -> None:
        """Refuse values outside the loss's domain (ValueError naming the loss); nothing by default."""

    def formula(self, pred: Any, t: np.ndarray) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define formula(pred, t)")

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class MSELoss(Loss):
    """Squared error over every output of every sample, reduced by

    - ``"mean"``: (1/N) Σ (ŷ - y)² over all N = n·k entries (PyTorch's default),
    - ``"sum"``: Σ (ŷ - y)²,
    - ``"half_sum"``: C = ½ Σ (ŷ - y)², the form of the hand derivations (dC/dŷ = ŷ - y).
    """

    name = "mse"

    def __init__(self, reduction: str = "mean"):
        self.reduction = _check_reduction(reduction, ("mean", "sum", "half_sum"), "MSELoss")

    title = "MSELoss"

    def formula(self, pred: Any, t: np.ndarray) -> Any:
        if type(pred) is Tensor and self.reduction == "mean":
            return mse_loss(pred, t)  # the engine's own op for this same formula, one node (tested equal)
        return _reduce(_each(lambda p, y: (p - y) ** 2, pred, t), self.reduction)


def _check_unit_interval(t: np.ndarray, what: str, loss: str, nan_passes: bool = False) -> None:
    # nan_passes: a nan prediction (a diverged net) is not out of [0, 1] but gives a nan loss, which fit stops on
    bad = ((t < 0) | (t > 1)) if nan_passes else ~((t >= 0) & (t <= 1))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{loss}: {what} must lie in [0, 1], got {t[index].item()!r} at index {index}")


def _data_of(pred: Any) -> np.ndarray:
    return pred.data if type(pred) is Tensor else np.array([[v.data for v in row] for row in pred])


class BCELoss(Loss):
    """Binary cross-entropy on probabilities p ∈ [0, 1] (after a sigmoid):

    ℓ = -[y log p + (1 - y) log(1 - p)], averaged (``"mean"``) or summed (``"sum"``).
    As in PyTorch each log is clamped at -100, so p = 0 or 1 gives a finite loss
    (with zero gradient through the clamped term). Targets must lie in [0, 1].
    """

    name = "bce"

    def __init__(self, reduction: str = "mean"):
        self.reduction = _check_reduction(reduction, ("mean", "sum"), "BCELoss")

    title = "BCELoss"

    def check_values(self, pred: Any, t: np.ndarray) -> None:
        _check_unit_interval(t, "targets", self.title)
        _check_unit_interval(_data_of(pred), "predictions (probabilities)", self.title, nan_passes=True)

    def formula(self, pred: Any, t: np.ndarray) -> Any:
        terms = _each(lambda p, y: -(y * _clamped_log(p) + (1.0 - y) * _clamped_log(1.0 - p)), pred, t)
        return _reduce(terms, self.reduction)


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy on logits z (no sigmoid in the model), stable for any z, ±inf included:

    ℓ = y·softplus(-z) + (1 - y)·softplus(z) = -[y log σ(z) + (1 - y) log(1 - σ(z))], dℓ/dz = σ(z) - y,
    each term summed only where its weight is non-zero (0 · softplus(∞) would be nan where ℓ is 0 or ∞).
    """

    name = "bce_logits"

    def __init__(self, reduction: str = "mean"):
        self.reduction = _check_reduction(reduction, ("mean", "sum"), "BCEWithLogitsLoss")

    title = "BCEWithLogitsLoss"

    def check_values(self, pred: Any, t: np.ndarray) -> None:
        _check_unit_interval(t, "targets", self.title)

    def formula(self, pred: Any, t: np.ndarray) -> Any:
        # softplus is stable for any z on both engines, with derivative σ(z); softplus(z) - y·z, the same sum,
        # would give inf - inf = nan at z = ±inf
        if type(pred) is Tensor:
            up, down = pred.softplus(), (-pred).softplus()
        else:
            up, down = [[v.softplus() for v in row] for row in pred], [[(-v).softplus() for v in row] for row in pred]
        total = _weighted_sum(down, t) + _weighted_sum(up, 1.0 - t)
        return total / t.size if self.reduction == "mean" else total


def as_class_targets(target: Any, n: int, k: int, loss: str = "CrossEntropyLoss") -> np.ndarray:
    """Targets for ``k`` classes as an (n, k) float64 matrix of class probabilities.

    Accepts class indices (shape (n,) or (n, 1), or a scalar when n == 1; integers in
    [0, k), as ints or integral floats) or probability rows (n, k) in [0, 1] summing to 1.
    """
    t = _real_target(target, loss)
    if t.ndim == 0 and n == 1:
        t = t.reshape(1)
    if t.shape == (n, 1) and k != 1:
        t = t.reshape(n)
    if t.shape == (n,):
        if not np.issubdtype(t.dtype, np.number) or not np.all(np.isfinite(t)) or np.any(t != np.round(t)):
            raise ValueError(f"{loss}: class labels must be integers in [0, {k}), got {t.tolist()!r}")
        bad = (t < 0) | (t >= k)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"{loss}: class label {t[i].item()!r} at index {i} is out of range; "
                             f"expected an integer in [0, {k}) for {k} outputs")
        onehot = np.zeros((n, k))
        onehot[np.arange(n), t.astype(np.int64)] = 1.0
        return onehot
    if t.shape == (n, k):
        t = t.astype(np.float64)
        _check_unit_interval(t, "class probabilities", loss)
        sums = t.sum(axis=1)
        if not np.allclose(sums, 1.0, rtol=0, atol=1e-6):
            i = int(np.argmax(np.abs(sums - 1.0)))
            raise ValueError(f"{loss}: each row of class probabilities must sum to 1, "
                             f"row {i} sums to {sums[i].item()!r}")
        return t
    raise ValueError(f"{loss}: target has shape {t.shape}; expected class indices of shape ({n},) or class "
                     f"probabilities of shape ({n}, {k}) for {n} sample(s) x {k} classes")


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy on logits: ℓ = -Σⱼ tⱼ log softmax(z)ⱼ with
    log softmax(z)ⱼ = (zⱼ - m) - log Σᵢ exp(zᵢ - m), m = max z (stable log-sum-exp).

    Targets are class indices (ℓ = logsumexp(z) - z_c) or probability rows, as in PyTorch.
    A flat list of Values is one sample's logits.
    """

    name = "cross_entropy"

    def __init__(self, reduction: str = "mean"):
        self.reduction = _check_reduction(reduction, ("mean", "sum"), "CrossEntropyLoss")

    title = "CrossEntropyLoss"
    targets = staticmethod(as_class_targets)

    def formula(self, pred: Any, t: np.ndarray) -> Any:
        total = -_weighted_sum(_log_softmax_rows(pred), t)
        n = t.shape[0] if t.ndim == 2 else 1  # a (k,) Tensor is one sample
        return total / n if self.reduction == "mean" else total  # the mean over samples (not classes), as PyTorch


#: Every loss by name (``fit(loss=...)``, the command line).
LOSSES: dict[str, type[Loss]] = {cls.name: cls for cls in (MSELoss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss)}


def get_loss(spec: str | Loss) -> Loss:
    """A loss from a name (``"mse"``, ``"bce"``, ``"bce_logits"``, ``"cross_entropy"``) or an instance."""
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, str) and spec in LOSSES:
        return LOSSES[spec]()
    raise ValueError(f"unknown loss {spec!r}; expected one of {sorted(LOSSES)} or an nn.losses.Loss")
