"""Optimizers with PyTorch's names, update rules and default hyper-parameters.

The updates use only arithmetic (``+ - * /`` and ``** 0.5``) on ``p.data``
and ``p.grad``, so one implementation serves parameters holding floats
(``Value``) and numpy arrays (the Tensor engine). They rebind ``p.data`` to a
new object instead of changing it in place, so a list of ``p.data`` taken
before a step is a snapshot of the weights (``fit`` relies on that to restore
the last finite weights). Per-parameter state starts at the first ``step()``.

With g = ∂L/∂p (plus ``weight_decay`` · p when set), at step t:

- SGD: b ← μ b + (1 - dampening) g (b₁ = g); d = g + μ b if nesterov else b (d = g when μ = 0); p ← p - lr d
- Adam: m ← β₁ m + (1 - β₁) g; v ← β₂ v + (1 - β₂) g²;
  p ← p - (lr / (1 - β₁ᵗ)) · m / (√v / √(1 - β₂ᵗ) + ε)
- RMSprop: v ← α v + (1 - α) g²; d = g / (√v + ε) (centered: √max(v - ḡ², 0), the variance clamped against
  rounding, with ḡ ← α ḡ + (1 - α) g); with momentum μ: b ← μ b + d, p ← p - lr b; else p ← p - lr d
- Adagrad: s ← s + g²; p ← p - lr / (1 + (t - 1) lr_decay) · g / (√s + ε)

ε must be > 0: PyTorch allows 0, but then a zero gradient gives 0/0 (nan on arrays, ZeroDivisionError on floats).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .init import _finite


def _hyper(value: Any, name: str, optimizer: str, low: float = 0.0, high: float = math.inf,
           open_low: bool = False, open_high: bool = False) -> float:
    """``value`` as a float when it is a finite real number (numpy's scalars too) in the interval, else ValueError."""
    try:
        x = _finite(value, name)
        ok = (x > low if open_low else x >= low) and (x < high if open_high else x <= high)
    except ValueError:
        ok = False
    if not ok:
        interval = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
        raise ValueError(f"{optimizer}: {name} must be a number in {interval}, got {value!r}")
    return x


class Optimizer:
    """Base class: holds the parameters and their state; subclasses implement ``_update``."""

    def __init__(self, params: Iterable[Any], lr: float):
        if isinstance(params, dict) or not isinstance(params, Iterable):
            raise TypeError(f"{type(self).__name__} expects an iterable of parameters (model.parameters()), "
                            f"got {type(params).__name__}")
        try:
            self.params = list(params)
        except TypeError:  # a 0-d array is an Iterable in name only
            raise TypeError(f"{type(self).__name__} expects an iterable of parameters (model.parameters()), "
                            f"got {type(params).__name__}: {params!r:.60}") from None
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list; expected model.parameters()")
        first: dict[int, int] = {}
        for i, p in enumerate(self.params):
            if not (hasattr(p, "data") and hasattr(p, "grad")):
                raise TypeError(f"{type(self).__name__}: parameter {i} is a {type(p).__name__}, "
                                "expected a node with .data and .grad")
            if getattr(p, "_op", None) is not None:  # its data is recomputed by every forward pass: no parameter
                raise ValueError(f"{type(self).__name__}: parameter {i} ({p!r:.60}) was computed by "
                                 f"{p._op.name!r}, not a leaf; expected the leaves to train (model.parameters())")
            if first.setdefault(id(p), i) != i:  # it would take every step twice
                raise ValueError(f"{type(self).__name__}: parameter {i} is parameter {first[id(p)]} again "
                                 f"({p!r:.60}); expected each parameter once")
        self.lr = _hyper(lr, "lr", type(self).__name__)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero."""
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """Update every parameter that has a gradient. An update that overflows gives inf or nan weights without
        numpy's RuntimeWarnings (as Python floats do on the Value engine): ``fit`` checks for divergence itself."""
        with np.errstate(over="ignore", invalid="ignore"):
            for p, state in zip(self.params, self.state):
                if p.grad is not None:
                    self._update(p, p.grad, state)

    def _update(self, p: Any, g: Any, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def _decayed(self, p: Any, g: Any) -> Any:
        return g + self.weight_decay * p.data if self.weight_decay else g

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k not in ("params", "state"))
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum: ``SGD(params, lr=1e-3, momentum=0)``."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, lr)
        self.momentum = _hyper(momentum, "momentum", "SGD")
        self.dampening = _hyper(dampening, "dampening", "SGD")
        self.weight_decay = _hyper(weight_decay, "weight_decay", "SGD")
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("SGD: nesterov momentum requires momentum > 0 and dampening = 0, "
                             f"got momentum={momentum!r}, dampening={dampening!r}")

    def _update(self, p, g, state):
        g = self._decayed(p, g)
        if self.momentum:
            buf = state.get("momentum_buffer")
            buf = g if buf is None else self.momentum * buf + (1.0 - self.dampening) * g
            state["momentum_buffer"] = buf
            g = g + self.momentum * buf if self.nesterov else buf
        p.data = p.data - self.lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba): ``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)``."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_hyper(betas[0], "beta1", "Adam", 0.0, 1.0, open_high=True),
                      _hyper(betas[1], "beta2", "Adam", 0.0, 1.0, open_high=True))
        self.eps = _hyper(eps, "eps", "Adam", open_low=True)  # 0: 0/0 at a zero gradient
        self.weight_decay = _hyper(weight_decay, "weight_decay", "Adam")

    def _update(self, p, g, state):
        beta1, beta2 = self.betas
        g = self._decayed(p, g)
        t = state["step"] = state.get("step", 0) + 1
        m, v = state.get("exp_avg"), state.get("exp_avg_sq")
        # Same order of operations as torch.optim.Adam (single-tensor path).
        m = (1.0 - beta1) * g if m is None else m + (1.0 - beta1) * (g - m)
        v = (1.0 - beta2) * (g * g) if v is None else beta2 * v + (1.0 - beta2) * (g * g)
        state["exp_avg"], state["exp_avg_sq"] = m, v
        step_size = self.lr / (1.0 - beta1**t)
        denom = v**0.5 / math.sqrt(1.0 - beta2**t) + self.eps
        p.data = p.data - step_size * (m / denom)


class RMSprop(Optimizer):
    """RMSprop: ``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False)``."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(params, lr)
        self.alpha = _hyper(alpha, "alpha", "RMSprop", 0.0, 1.0)
        self.eps = _hyper(eps, "eps", "RMSprop", open_low=True)  # 0: 0/0 at a zero gradient
        self.weight_decay = _hyper(weight_decay, "weight_decay", "RMSprop")
        self.momentum = _hyper(momentum, "momentum", "RMSprop")
        self.centered = bool(centered)

    def _update(self, p, g, state):
        a = self.alpha
        g = self._decayed(p, g)
        v = state.get("square_avg")
        v = (1.0 - a) * (g * g) if v is None else a * v + (1.0 - a) * (g * g)
        state["square_avg"] = v
        if self.centered:
            gbar = state.get("grad_avg")
            gbar = (1.0 - a) * g if gbar is None else gbar + (1.0 - a) * (g - gbar)
            state["grad_avg"] = gbar
            # E[g²] - E[g]² >= 0, but rounding can make it a hair negative (alpha = 0: gbar + (g - gbar) is not g),
            # whose ** 0.5 is nan on arrays and a complex number on floats: clamped at 0 (maximum keeps a nan)
            avg = np.maximum(v - gbar * gbar, 0.0) ** 0.5 + self.eps
        else:
            avg = v**0.5 + self.eps
        if self.momentum:
            buf = state.get("momentum_buffer")
            buf = g / avg if buf is None else self.momentum * buf + g / avg
            state["momentum_buffer"] = buf
            p.data = p.data - self.lr * buf
        else:
            p.data = p.data - self.lr * (g / avg)


class Adagrad(Optimizer):
    """Adagrad: ``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10)``."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        super().__init__(params, lr)
        self.lr_decay = _hyper(lr_decay, "lr_decay", "Adagrad")
        self.weight_decay = _hyper(weight_decay, "weight_decay", "Adagrad")
        self.initial_accumulator_value = _hyper(initial_accumulator_value, "initial_accumulator_value", "Adagrad")
        self.eps = _hyper(eps, "eps", "Adagrad", open_low=True)  # 0: 0/0 at a zero gradient

    def _update(self, p, g, state):
        g = self._decayed(p, g)
        t = state["step"] = state.get("step", 0) + 1
        s = state.get("sum", self.initial_accumulator_value) + g * g
        state["sum"] = s
        clr = self.lr / (1.0 + (t - 1) * self.lr_decay)
        p.data = p.data - clr * (g / (s**0.5 + self.eps))


#: Every optimizer by name (``fit(optimizer=...)``, the command line).
OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adagrad": Adagrad}


def get_optimizer(spec: str | Optimizer, params: Iterable[Any] | None = None, **hyper: Any) -> Optimizer:
    """An optimizer: an instance as is, or a name (``"sgd"``, ``"adam"``, ...) built on ``params`` with ``hyper``."""
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, str) and spec.lower() in OPTIMIZERS:
        return OPTIMIZERS[spec.lower()](params, **hyper)
    raise ValueError(f"unknown optimizer {spec!r}; expected one of {sorted(OPTIMIZERS)} or an nn.optim.Optimizer")
