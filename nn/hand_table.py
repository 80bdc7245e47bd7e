"""A hand-worked table's network, built on either engine with its loss graph, ready for ``autograd.verify``.

``nn.from_hand_table(table, engine)`` reads the table's ``network`` section
(sizes, activations, loss, the reports' weight names, the sample, the learning
rate; see ``autograd.read_network``), builds the ``nn.MLP`` and records the loss
of the table's sample, labelled with the table's name for it (C unless told).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograd import read_network

from .layers import MLP
from .losses import MSELoss

_REDUCTION = {"half_sum": "half_sum", "mse": "mean", "sum": "sum"}


@dataclass
class HandTableNetwork:
    """A table's network and its loss graph (``loss`` is the recorded root; backward has not run)."""

    model: MLP
    inputs: np.ndarray
    targets: np.ndarray
    lr: float | None
    loss_function: MSELoss
    loss: Any


def from_hand_table(table: dict | str | Path | None = None, engine: str = "value") -> HandTableNetwork:
    """The network of ``table`` (the shipped 2-2-1 table by default) on ``engine`` with its loss graph:
    ``autograd.verify(table, nn.from_hand_table(table))`` checks the table against it."""
    if table is None:
        from autograd.worked_example import load_hand_table
        table = load_hand_table()
    section = read_network(table)
    model = MLP.from_hand_table(table, engine=engine)
    loss_function = MSELoss(_REDUCTION[section.loss])
    if model.engine == "tensor":
        out = model(section.inputs.reshape(1, -1))
        loss = loss_function(out, section.targets.reshape(1, -1))
    else:
        out = model(list(section.inputs))
        loss = loss_function([out if isinstance(out, list) else [out]], [list(section.targets)])
    loss.label = section.loss_label
    return HandTableNetwork(model, section.inputs, section.targets, section.lr, loss_function, loss)
