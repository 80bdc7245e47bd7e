"""Layers for a convolutional network on the Tensor engine, with PyTorch's names and layouts.

``Conv2d`` (``.weight`` (out, in, kh, kw), ``.bias`` (out,)), ``MaxPool2d``, ``Flatten``, ``Dropout`` and
``Sequential``. Images are (N, C, H, W). Each layer is one engine node (``autograd.conv2d``,
``autograd.max_pool2d``, a reshape, a multiplication by the dropout mask), so ``backward()`` and
every optimizer work on them as on ``nn.Linear``.

``Sequential`` names its layers' parameters as PyTorch does, by position: ``"0.weight"``,
``"0.bias"``, ``"3.weight"``, ... (``state_dict()``, ``named_parameters()``), so a
``Sequential`` and its ``nn.to_torch`` copy have the same state-dict keys. An ``nn.Linear`` (or
``nn.Layer``) right inside one is keyed likewise (``"{i}.weight"`` for its ``W[l]``), and anything else
gets the prefix before its own keys (``"{i}.W[1]"`` for an ``nn.MLP``). The names are made when asked
for: the layers themselves are not renamed, so a layer taken from another model still works there.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

from autograd import Tensor, conv2d, max_pool2d

from .init import Seed, as_generator, get_initializer
from .layers import Linear, _positive_int
from .module import Module, float_array


def _as_tensor(x: Any, what: str) -> Tensor:
    if type(x) is Tensor:
        return x
    if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
        return Tensor(x)
    raise TypeError(f"{what} expects a Tensor (or a numpy array of numbers) of images (N, C, H, W), got "
                    f"{type(x).__name__}: {x!r:.40}")


def _kernel(value: Any, what: str, least: int) -> tuple[int, int]:
    items = value if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and
                                  least <= v <= 10**4 for v in items):
        raise ValueError(f"{what} must be an int >= {least} or a pair of them (height, width), got "
                         f"{value!r:.40}")
    return int(items[0]), int(items[1])


class _Parametrized(Module):
    """A layer owning ``weight`` and optionally ``bias`` Tensors, keyed in the state dict by their labels."""

    def _setup_parameters(self, weight: np.ndarray, bias: np.ndarray | None) -> None:
        self.weight = Tensor(weight, "weight", requires_grad=True)
        self.bias = None if bias is None else Tensor(bias, "bias", requires_grad=True)
        self._named = [("weight", self.weight)] + ([] if self.bias is None else [("bias", self.bias)])

    def _own_parameters(self) -> list[tuple[str, Tensor]]:
        return self._named

    def _own_state(self) -> dict[str, np.ndarray]:
        return {name: np.array(p.data, dtype=np.float64) for name, p in self._named}

    def _own_grads(self) -> dict[str, np.ndarray]:
        return {name: np.array(p.grad, dtype=np.float64) if isinstance(p.grad, np.ndarray) else
                np.zeros(p.data.shape) for name, p in self._named}

    def _load_own_state(self, state) -> None:
        for name, p in self._named:  # rebind, as the optimizers do; keep the parameter's dtype
            p.data = np.array(state[name], dtype=p.data.dtype)


class Conv2d(_Parametrized):
    """A 2-D convolution layer: ``Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0)``.

    ``weight`` is (out_channels, in_channels, kh, kw) and ``bias`` (out_channels,), as in PyTorch. The
    weights are drawn by ``nn.init`` (``init``, default ``"he_uniform"``; fan_in = in_channels·kh·kw);
    the bias is zero for the Xavier and He schemes and drawn for ``normal`` / ``uniform``, as in ``nn.MLP``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0, bias: bool = True,
                 init: str = "he_uniform", seed: Seed = 0):
        self.in_channels = _positive_int(in_channels, "Conv2d in_channels")
        self.out_channels = _positive_int(out_channels, "Conv2d out_channels")
        self.kernel_size = _kernel(kernel_size, "Conv2d kernel_size", 1)
        self.stride = _kernel(stride, "Conv2d stride", 1)
        self.padding = _kernel(padding, "Conv2d padding", 0)
        if not isinstance(bias, bool):
            raise TypeError(f"Conv2d bias must be True or False, got {type(bias).__name__}: {bias!r:.40}")
        initializer = get_initializer(init)
        rng = as_generator(seed)
        weight = initializer((self.out_channels, self.in_channels, *self.kernel_size), seed=rng)
        b = None
        if bias:
            b = initializer((self.out_channels,), seed=rng) if init in ("normal", "uniform") else \
                np.zeros(self.out_channels)
        self._setup_parameters(weight, b)

    @classmethod
    def from_arrays(cls, weight: np.ndarray, bias: np.ndarray | None, stride: int | tuple = 1,
                    padding: int | tuple = 0) -> Conv2d:
        """A layer holding copies of ``weight`` (out, in, kh, kw) and ``bias`` (out,) or None."""
        w = float_array(weight, "Conv2d.from_arrays weight")
        if bias is not None:
            bias = float_array(bias, "Conv2d.from_arrays bias")
        if w.ndim != 4 or w.size == 0:
            raise ValueError(f"Conv2d.from_arrays weight must have shape (out, in, kh, kw), got {w.shape}")
        layer = cls(w.shape[1], w.shape[0], w.shape[2:], stride, padding, bias=bias is not None)
        layer.load_state_dict({name: a for name, a in zip(("weight", "bias"), (w, bias)) if a is not None})
        return layer

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        """conv2d(x, weight, bias, stride, padding): (N, in, H, W) -> (N, out, OH, OW)."""
        return conv2d(_as_tensor(x, "Conv2d"), self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None}")

    def __repr__(self) -> str:
        return f"Conv2d({self.extra_repr()})"


class MaxPool2d(Module):
    """Max pooling: ``MaxPool2d(kernel_size, stride=None)`` (stride defaults to kernel_size, as in PyTorch)."""

    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None):
        self.kernel_size = _kernel(kernel_size, "MaxPool2d kernel_size", 1)
        self.stride = self.kernel_size if stride is None else _kernel(stride, "MaxPool2d stride", 1)

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        return max_pool2d(_as_tensor(x, "MaxPool2d"), self.kernel_size, self.stride)

    def __repr__(self) -> str:
        return f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride})"


class Flatten(Module):
    """(N, C, H, W) -> (N, C·H·W): every axis from ``start_dim`` on joined into one (a reshape node); the input
    needs at least ``start_dim`` + 1 axes, as PyTorch's (a single sample without its batch axis is refused)."""

    def __init__(self, start_dim: int = 1):
        if not isinstance(start_dim, numbers.Integral) or isinstance(start_dim, bool) or not 0 <= start_dim <= 32:
            raise ValueError(f"Flatten start_dim must be an int in [0, 32], got {start_dim!r:.40}")
        self.start_dim = int(start_dim)

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        x = _as_tensor(x, "Flatten")
        # the axes before start_dim are kept (the batch axis first), so at least one must come from start_dim on
        if x.ndim < self.start_dim + 1:
            raise ValueError(f"Flatten(start_dim={self.start_dim}) needs at least {self.start_dim + 1} "
                             f"ax{'is' if self.start_dim == 0 else 'es'}: it keeps the axes before {self.start_dim} "
                             f"(the batch axis first) and joins axis {self.start_dim} onward into one; got shape "
                             f"{x.shape}")
        return x.reshape(x.shape[:self.start_dim] + (-1,))

    def __repr__(self) -> str:
        return f"Flatten(start_dim={self.start_dim})"


class Dropout(Module):
    """``Dropout(p)``: in training mode each element is zeroed with probability ``p`` and the others are scaled
    by 1/(1 - p), so the expected output is the input; in evaluation mode (``model.eval()``) the identity.

    The mask comes from the layer's own generator (``seed``: an int or a ``numpy.random.Generator``), so a
    seeded run repeats exactly and no global random state is touched. The default, None, is fresh entropy (as
    ``nn.init`` and ``nn.Linear``): two dropouts left at the default draw independent masks, as PyTorch's do;
    give a seed (``nn.cnn.digits_cnn`` passes its generator) for masks that repeat.
    """

    def __init__(self, p: float = 0.5, seed: Seed = None):
        if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout p must be a probability in [0, 1], got {p!r:.40}")
        self.p = float(p)
        self.rng = as_generator(seed)

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        x = _as_tensor(x, "Dropout")
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return x * np.zeros(x.shape, dtype=x.dtype)
        keep = self.rng.random(x.shape) >= self.p
        return x * (keep * (1.0 / (1.0 - self.p))).astype(x.dtype, copy=False)

    def __repr__(self) -> str:
        return f"Dropout(p={self.p:g})"


class Sequential(Module):
    """Layers applied in order: ``Sequential(Conv2d(1, 16, 3, padding=1), ReLU(), MaxPool2d(2), ...)``.

    Parameters are named by position as in PyTorch (``"0.weight"``, ``"0.bias"``, ``"7.weight"``).
    ``model[i]`` is layer i; ``model[i:j]`` a Sequential of those layers (the same objects, so shared
    weights; named by their positions in it); ``len(model)`` the number of layers.
    """

    _names_by_position = True

    def __init__(self, *layers: Module):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential expects modules (layers), got {type(layer).__name__} at position {i}: "
                                f"{layer!r:.40}")
        if not layers:
            raise ValueError("Sequential needs at least one layer, got none")
        self.layers = list(layers)
        self._label_by_position()

    def _label_by_position(self) -> None:
        """Label the parameters of each dense or convolutional layer right inside by its key (``"3.weight"``),
        so that drawings, ``explain`` and ``verify`` tell the layers apart (labels are for display: keys come
        from the tree, so a layer taken from another model still loads and saves there). A layer used twice
        keeps the label of its first place."""
        seen: set[int] = set()
        for i, layer in enumerate(self.layers):
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            for name, p in layer._own_parameters() if isinstance(layer, (_Parametrized, Linear)) else ():
                p.label = f"{i}.{layer._entry_name(name, True)}"

    def _named_children(self) -> list[tuple[str, Module]]:
        # a layer used twice is named at its first place (Module._walk lists each module once), as in PyTorch
        return [(f"{i}.", layer) for i, layer in enumerate(self.layers)]

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, index: int | slice) -> Module:
        """Layer ``index`` (negative counts from the end), or for a slice a Sequential of those layers."""
        n = len(self.layers)
        if isinstance(index, slice):
            layers = self.layers[index]
            if not layers:
                bounds = ":".join("" if v is None else str(v) for v in (index.start, index.stop, index.step))
                raise ValueError(f"Sequential[{bounds.removesuffix(':')}] selects none of this Sequential's {n} "
                                 "layers; a Sequential needs at least one")
            part = Sequential(*layers)
            part.training = self.training  # its own mode only: train() would reset the shared layers' modes too
            return part
        if not isinstance(index, numbers.Integral) or isinstance(index, bool):
            raise TypeError(f"Sequential indices must be ints or slices, got {type(index).__name__}: {index!r:.40}")
        if not -n <= index < n:
            raise IndexError(f"Sequential index {index} is out of range: this Sequential has {n} layer"
                             f"{'s' if n != 1 else ''} (indices 0 to {n - 1}, or -{n} to -1)")
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def __repr__(self) -> str:
        body = "\n".join(f"  ({i}): " + repr(layer).replace("\n", "\n  ") for i, layer in enumerate(self.layers))
        return f"Sequential(\n{body}\n)"

