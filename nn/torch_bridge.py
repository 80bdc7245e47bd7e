"""A bridge to PyTorch: the same network, the same float64 weights, as a ``torch.nn.Sequential`` and back.

``to_torch(model)`` takes an ``nn.MLP`` (either engine), an ``nn.Sequential`` or one layer, and gives the
PyTorch modules of the same computation: ``Linear`` (+ its activation as a module of its own),
``Conv2d``, ``MaxPool2d``, ``Flatten``, ``Dropout``, ``ReLU``, ``LeakyReLU``, ``Sigmoid``, ``Tanh``,
``Identity``, ``Softmax``; parameters are float64 copies, and the training/evaluation mode is kept.
``from_torch(module)`` is the reverse for those layer types (a ``torch.nn.Linear`` becomes an
``nn.Linear`` without activation). A ``Sequential`` keeps its positions, so its state-dict keys
("0.weight", ...) are the same on both sides: inside one, an ``nn.Linear`` with an activation becomes a
single ``LinearWithActivation`` (a ``torch.nn.Linear`` applying its ``activation`` module; back, the
``nn.Linear`` with that activation). A layer used at several places (shared weights) is one module used
at the same places on the other side.

PyTorch is optional (``pip install torch==2.13.0``, or the package's ``torch`` extra); it is imported
only when a function here is called.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import activations as acts
from .conv import Conv2d, Dropout, Flatten, MaxPool2d, Sequential
from .layers import MLP, Layer, Linear
from .module import Module

INSTALL = "pip install torch==2.13.0 (or pip install 'chainrule-lab[torch]')"


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError(f"nn.to_torch / nn.from_torch need PyTorch, which is not installed: {INSTALL}") from None
    return torch


def _parameter(torch, array: np.ndarray):
    return torch.nn.Parameter(torch.from_numpy(np.array(array, dtype=np.float64)))


def _torch_activation(torch, activation: acts.Activation):
    kinds = {acts.Identity: torch.nn.Identity, acts.Sigmoid: torch.nn.Sigmoid, acts.Tanh: torch.nn.Tanh,
             acts.ReLU: torch.nn.ReLU}
    if type(activation) in kinds:
        return kinds[type(activation)]()
    if type(activation) is acts.LeakyReLU:
        return torch.nn.LeakyReLU(activation.slope)
    if type(activation) is acts.Softmax:
        return torch.nn.Softmax(dim=-1)
    raise TypeError(f"to_torch: no PyTorch module for the activation {activation!r}")


def _torch_dense(torch, W: np.ndarray, b: np.ndarray | None, activation: acts.Activation) -> list:
    linear = torch.nn.Linear(W.shape[1], W.shape[0], bias=b is not None, dtype=torch.float64)
    with torch.no_grad():
        linear.weight = _parameter(torch, W)
        if b is not None:
            linear.bias = _parameter(torch, b)
    return [linear] if type(activation) is acts.Identity else [linear, _torch_activation(torch, activation)]


def _torch_layers(torch, layer: Module, made: dict | None = None) -> list:
    """The PyTorch module(s) computing what ``layer`` computes (``made``: id of an nn layer -> its torch module,
    so that a layer used twice is one module)."""
    if isinstance(layer, Sequential):
        return [_to_torch_sequential(torch, layer, made)]
    if isinstance(layer, Conv2d):
        conv = torch.nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
                               layer.padding, bias=layer.bias is not None, dtype=torch.float64)
        conv.weight = _parameter(torch, layer.weight.data)
        if layer.bias is not None:
            conv.bias = _parameter(torch, layer.bias.data)
        return [conv]
    if isinstance(layer, (Linear, Layer)):
        state = layer.state_dict()
        W = state[next(k for k in state if "W[" in k or k.endswith("weight"))]
        bias = [v for k, v in state.items() if "b[" in k or k.endswith("bias")]
        b = bias[0] if bias else None
        if made is None or type(layer.activation) is acts.Identity:
            return _torch_dense(torch, W, b, layer.activation)
        from ._torch_modules import LinearWithActivation  # imports torch: only now
        # one module, so the layer keeps its place in the Sequential (and its state-dict keys)
        linear = LinearWithActivation(W.shape[1], W.shape[0], b is not None,
                                      _torch_activation(torch, layer.activation))
        linear.weight = _parameter(torch, W)
        if b is not None:
            linear.bias = _parameter(torch, b)
        return [linear]
    if isinstance(layer, MaxPool2d):
        return [torch.nn.MaxPool2d(layer.kernel_size, layer.stride)]
    if isinstance(layer, Flatten):
        return [torch.nn.Flatten(layer.start_dim)]
    if isinstance(layer, Dropout):
        return [torch.nn.Dropout(layer.p)]
    if isinstance(layer, acts.Activation):
        return [_torch_activation(torch, layer)]
    if isinstance(layer, MLP):
        raise TypeError("to_torch: an nn.MLP inside an nn.Sequential has no PyTorch counterpart; convert the MLP "
                        "on its own (nn.to_torch(mlp)), or build the Sequential from nn.Linear layers")
    raise TypeError(f"to_torch: no PyTorch counterpart for {type(layer).__name__}; expected an nn.MLP, "
                    "nn.Sequential, Conv2d, MaxPool2d, Flatten, Dropout, Linear or an activation")


def _to_torch_sequential(torch, model: Sequential, made: dict | None = None):
    made = {} if made is None else made
    out = torch.nn.Sequential()
    for layer in model.layers:
        if id(layer) not in made:  # a layer used again is the same torch module again (shared weights)
            made[id(layer)] = _torch_layers(torch, layer, made)
        for module in made[id(layer)]:
            out.append(module)
    return out


def to_torch(model: Module):
    """A ``torch.nn.Sequential`` (float64) computing what ``model`` computes, with copies of its weights.

    ``model`` is an ``nn.MLP`` (either engine; each layer becomes ``Linear`` then its activation module),
    an ``nn.Sequential`` or one layer. The mode (``train()`` / ``eval()``) is carried over.
    """
    if not isinstance(model, Module):
        raise TypeError(f"to_torch expects an nn model (nn.MLP, nn.Sequential or a layer), got "
                        f"{type(model).__name__}: {model!r:.40}")
    torch = _torch()
    if isinstance(model, MLP):
        out = torch.nn.Sequential()
        state = model.state_dict()
        for l, layer in enumerate(model.layers, start=1):
            for module in _torch_dense(torch, state[f"W[{l}]"], state.get(f"b[{l}]"), layer.activation):
                out.append(module.train(layer.training))  # each layer's own mode, on its module(s)
        out.training = model.training
    elif isinstance(model, Sequential):
        out = _to_torch_sequential(torch, model)
        _keep_modes(torch, model, out)
    else:
        out = torch.nn.Sequential(*_torch_layers(torch, model)).train(model.training)
    return out


def _array(tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy().astype(np.float64)  # float32 -> float64 is exact


def _pair(value: Any) -> tuple[int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _from_torch_layer(torch, module, index: int, made: dict | None = None) -> Module:
    """The nn layer of a torch module (``made``: id of a torch module -> its nn layer, so that a module used at
    several places of a Sequential is one layer there too)."""
    tnn = torch.nn
    made = {} if made is None else made
    if id(module) in made:
        return made[id(module)]
    if isinstance(module, tnn.Sequential):
        layer = Sequential(*[_from_torch_layer(torch, m, i, made) for i, m in enumerate(module)])
    else:
        layer = _from_torch_module(torch, module, index)
    made[id(module)] = layer
    return layer


def _from_torch_module(torch, module, index: int) -> Module:
    tnn = torch.nn
    if isinstance(module, tnn.Conv2d):
        if module.groups != 1 or _pair(module.dilation) != (1, 1) or module.padding_mode != "zeros" or \
                isinstance(module.padding, str):
            raise ValueError(f"from_torch: only Conv2d with groups=1, dilation=1, zero padding given as numbers "
                             f"is supported, got {module!r}")
        return Conv2d.from_arrays(_array(module.weight), None if module.bias is None else _array(module.bias),
                                  _pair(module.stride), _pair(module.padding))
    if isinstance(module, tnn.Linear):
        activation = getattr(module, "activation", None)  # to_torch's LinearWithActivation
        activation = _from_torch_module(torch, activation, index) if isinstance(activation, tnn.Module) else None
        if activation is not None and not isinstance(activation, acts.Activation):
            raise TypeError(f"from_torch: the activation of {type(module).__name__} is {activation!r}, not an "
                            "activation")
        return Linear.from_arrays(_array(module.weight), None if module.bias is None else _array(module.bias),
                                  activation or "identity", index + 1)
    if isinstance(module, tnn.MaxPool2d):
        if _pair(module.padding) != (0, 0) or _pair(module.dilation) != (1, 1) or module.ceil_mode or \
                module.return_indices:
            raise ValueError(f"from_torch: only MaxPool2d without padding, dilation, ceil_mode or return_indices "
                             f"is supported, got {module!r}")
        return MaxPool2d(_pair(module.kernel_size), _pair(module.stride))
    if isinstance(module, tnn.Flatten):
        if module.end_dim != -1:
            raise ValueError(f"from_torch: only Flatten(end_dim=-1) is supported, got {module!r}")
        return Flatten(module.start_dim)
    if isinstance(module, tnn.Dropout):
        return Dropout(module.p)
    if isinstance(module, tnn.LeakyReLU):
        return acts.LeakyReLU(module.negative_slope)
    if isinstance(module, tnn.Softmax) and module.dim == -1:
        return acts.Softmax()
    simple = {tnn.ReLU: acts.ReLU, tnn.Sigmoid: acts.Sigmoid, tnn.Tanh: acts.Tanh, tnn.Identity: acts.Identity}
    if type(module) in simple:
        return simple[type(module)]()
    raise TypeError(f"from_torch: no nn layer for torch.nn.{type(module).__name__}; expected Sequential, Conv2d, "
                    "Linear, MaxPool2d, Flatten, Dropout, ReLU, LeakyReLU, Sigmoid, Tanh, Identity or "
                    "Softmax(dim=-1)")


def from_torch(module) -> Module:
    """The ``nn`` model of a ``torch.nn.Sequential`` (or one layer) of the supported types, weights as float64
    copies, mode kept: ``nn.Sequential`` for a Sequential, else the one layer."""
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch expects a torch.nn.Module, got {type(module).__name__}: {module!r:.40}")
    out = _from_torch_layer(torch, module, 0)
    _keep_modes(torch, module, out)
    return out


def _keep_modes(torch, source, target) -> None:
    """Give ``target``, the bridge's copy of ``source`` (either way), each module's own train/eval mode: a
    Sequential's own flag, then its layers position by position, nested Sequentials too (the bridge keeps a
    Sequential's positions); any other module passes its mode to everything below it. ``train(top.training)``
    alone gave the whole tree one mode: a Dropout in eval inside a Sequential in training came out training."""
    def positional(module) -> bool:
        return isinstance(module, (Sequential, torch.nn.Sequential))

    stack = [(source, target)]  # no recursion, as Module.modules
    while stack:
        s, t = stack.pop()
        if positional(s) and positional(t) and len(s) == len(t):
            t.training = s.training  # its own flag only: train() would set its layers too
            stack.extend(zip(s, t))
        else:
            t.train(s.training)
