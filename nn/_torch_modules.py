"""PyTorch modules that ``nn.to_torch`` makes and ``torch.nn`` lacks. Imported only by ``nn.torch_bridge`` when
PyTorch is there (this module imports torch); here rather than inside a function so that ``torch.save`` of a
converted model can find the class by name."""

from __future__ import annotations

import torch


class LinearWithActivation(torch.nn.Linear):
    """``activation(x Wᵀ + b)`` as one module: an ``nn.Linear`` that carries its activation keeps its place in a
    converted ``nn.Sequential``, so the state-dict keys ("3.weight", ...) are the same on both sides (the
    activation has no parameters)."""

    def __init__(self, in_features: int, out_features: int, bias: bool, activation: torch.nn.Module,
                 dtype: torch.dtype = torch.float64):
        super().__init__(in_features, out_features, bias=bias, dtype=dtype)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(super().forward(x))
