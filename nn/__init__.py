"""Networks on the autograd engine: modules, losses, optimizers, initializers, data, training.

``nn.plot`` (matplotlib) is imported on demand: ``import nn.plot``. The training
names load ``nn.train`` on first use, so ``python -m nn.train`` runs it fresh.
"""

import importlib

from . import activations, data, init, losses, optim  # noqa: F401
from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .hand_table import HandTableNetwork, from_hand_table
from .layers import MLP, Layer, Linear, Neuron
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module
from .optim import SGD, Adagrad, Adam, RMSprop
from .serialize import ModelFileError, load, save

__all__ = [
    "Module", "Neuron", "Layer", "MLP",
    "Identity", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax",
    "MSELoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "SGD", "Adam", "RMSprop", "Adagrad",
    "fit", "predict", "accuracy", "print_predictions", "History",
]
__all__ += ["save", "load", "ModelFileError"]
__all__ += ["Linear"]
__all__ += ["from_hand_table", "HandTableNetwork"]
from .conv import Conv2d, Dropout, Flatten, MaxPool2d, Sequential  # noqa: E402 - issue 14
from .torch_bridge import from_torch, to_torch  # noqa: E402 - issue 14 (imports torch only when called)

__all__ += ["Conv2d", "MaxPool2d", "Flatten", "Dropout", "Sequential", "to_torch", "from_torch"]

_FROM_TRAIN = ("fit", "predict", "accuracy", "print_predictions", "History")


def __getattr__(name: str):
    if name in _FROM_TRAIN:
        return getattr(importlib.import_module(".train", __name__), name)
    raise AttributeError(f"module 'nn' has no attribute {name!r}")
