"""Networks on the autograd engine: modules, losses, optimizers, initializers, data, training.

``nn.plot`` (matplotlib) is imported on demand: ``import nn.plot``.
"""

from . import activations, data, init, losses, optim  # noqa: F401
from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .layers import MLP, Layer, Neuron
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module
from .optim import SGD, Adagrad, Adam, RMSprop
from .train import History, accuracy, fit, predict, print_predictions

__all__ = [
    "Module", "Neuron", "Layer", "MLP",
    "Identity", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax",
    "MSELoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "SGD", "Adam", "RMSprop", "Adagrad",
    "fit", "predict", "accuracy", "print_predictions", "History",
]
