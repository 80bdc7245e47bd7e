"""Activation functions as modules: Sigmoid, Tanh, ReLU, LeakyReLU, Identity, Softmax.

Each calls the method of the same name on its input (``x.sigmoid()``,
``x.relu()``, ...), which ``Value`` has and the Tensor engine offers too, so one
class serves both engines. The derivatives are the engine's own (defined once,
beside each operation in ``autograd.value``).
"""

from __future__ import annotations

from typing import Any

import autograd

from .init import _finite
from .module import Module


class Activation(Module):
    """An activation; ``elementwise`` activations are applied to each neuron on its own."""

    name = "activation"
    elementwise = True
    # The mode set by Module.train()/eval() lives in a slot, outside vars(self): vars() holds an activation's
    # settings (slope), which equality, hashing and nn.save read, and a mode is not a setting.
    __slots__ = ("_mode",)

    @property
    def training(self) -> bool:
        return getattr(self, "_mode", True)

    @training.setter
    def training(self, mode: bool) -> None:
        self._mode = mode

    def __call__(self, x: Any) -> Any:
        kind = type(x)
        if kind is not autograd.Value and kind is not autograd.Tensor and (
                self.elementwise or not isinstance(x, (list, tuple))):
            raise TypeError(f"{type(self).__name__} expects a Value or a Tensor"
                            f"{'' if self.elementwise else ' (or a list of Values: one layer)'}, got "
                            f"{kind.__name__}: {x!r:.40}")
        return self.forward(x)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(vars(self).items()))))


class Identity(Activation):
    """f(x) = x (no activation: a linear layer)."""

    name = "identity"

    def forward(self, x: Any) -> Any:
        return x


class Sigmoid(Activation):
    """σ(x) = 1 / (1 + e⁻ˣ); σ' = σ(1 - σ)."""

    name = "sigmoid"

    def forward(self, x: Any) -> Any:
        return x.sigmoid()


class Tanh(Activation):
    """tanh x; derivative 1 - tanh² x."""

    name = "tanh"

    def forward(self, x: Any) -> Any:
        return x.tanh()


class ReLU(Activation):
    """max(x, 0); derivative 1 for x > 0, else 0."""

    name = "relu"

    def forward(self, x: Any) -> Any:
        return x.relu()


class LeakyReLU(Activation):
    """x for x > 0, else slope·x (default slope 0.01, as PyTorch)."""

    name = "leaky_relu"

    def __init__(self, slope: float = 0.01):
        self.slope = _finite(slope, "LeakyReLU slope")

    def forward(self, x: Any) -> Any:
        return x.leaky_relu(self.slope)

    def extra_repr(self) -> str:
        return f"slope={self.slope:g}"


class Softmax(Activation):
    """softmaxᵢ(z) = exp(zᵢ - m) / Σⱼ exp(zⱼ - m), m = max z (the shift leaves the result unchanged
    and keeps exp from overflowing). Acts on a whole layer: a list of Values, or a Tensor along its last axis."""

    name = "softmax"
    elementwise = False

    def forward(self, x: Any) -> Any:
        if isinstance(x, (list, tuple)):
            return softmax_values(x)
        return x.softmax(axis=-1)


def softmax_values(logits: list) -> list:
    """Softmax of a list of Values: exp(zᵢ - m) / Σ exp(zⱼ - m) with the constant m = max zⱼ."""
    if not isinstance(logits, (list, tuple)) or not logits or not all(isinstance(z, autograd.Value) for z in logits):
        raise TypeError(f"softmax_values expects logits as a non-empty list of Values (one layer's z), got "
                        f"{type(logits).__name__}: {logits!r:.40}")
    m = max(z.data for z in logits)
    exps = [(z - m).exp() for z in logits]
    total = autograd.sum(exps)
    return [e / total for e in exps]


#: Every activation by name (the ``activations=[...]`` spec of ``MLP`` and the command line).
ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Identity, Sigmoid, Tanh, ReLU, LeakyReLU, Softmax)
}
_ALIASES = {"linear": "identity", "none": "identity", "leakyrelu": "leaky_relu", "leaky-relu": "leaky_relu"}


def get_activation(spec: str | Activation | None) -> Activation:
    """An ``Activation`` from a name (``"relu"``, ``"sigmoid"``, ...), an instance, or None (identity)."""
    if spec is None:
        return Identity()
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        key = spec.strip().lower()
        key = _ALIASES.get(key, key)
        if key in ACTIVATIONS:
            return ACTIVATIONS[key]()
    raise ValueError(f"unknown activation {spec!r}; expected one of {sorted(ACTIVATIONS)} "
                     "(or an nn.activations.Activation such as LeakyReLU(0.2))")
