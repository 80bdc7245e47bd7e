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

_FROM_TRAIN = ("fit", "predict", "accuracy", "print_predictions", "History")


def __getattr__(name: str):
    if name in _FROM_TRAIN:
        return getattr(importlib.import_module(".train", __name__), name)
    raise AttributeError(f"module 'nn' has no attribute {name!r}")
