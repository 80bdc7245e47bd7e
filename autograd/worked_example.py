"""The 2-2-1 worked example of the lab report (seed 004, section 6), built from Values.

A 2-2-1 MLP with sigmoid on every neuron and loss C = ½ (ŷ - y)², one sample.
The hand-worked table ships as ``autograd/data/hand_derivation_2-2-1.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from .tables import NetworkSection, read_network
from .value import Value, dot


def load_hand_table() -> dict:
    """The hand-worked table as shipped (the JSON document, sections and all)."""
    return json.loads(resources.files("autograd").joinpath("data/hand_derivation_2-2-1.json").read_text())


def hand_table() -> dict[str, float]:
    """Every numeric entry of the hand table (forward, loss, backward, gradients) by name."""
    table = load_hand_table()
    entries: dict[str, float] = {}
    for section in ("forward", "loss", "backward", "gradients"):
        entries.update(table[section])
    return entries


@dataclass
class WorkedExample:
    """The nodes of the 2-2-1 graph, named as in the report."""

    inputs: list[Value]
    parameters: dict[str, Value]
    z: dict[str, Value]
    a: dict[str, Value]
    loss: Value

    def values(self) -> dict[str, float]:
        """Engine values under the table's names (call ``loss.backward()`` first for deltas and gradients)."""
        a0, a1, yhat = self.a["a0[1]"].data, self.a["a1[1]"].data, self.a["a0[2]"].data
        out = {name: node.data for name, node in self.z.items()}
        out.update({"a0[1]": a0, "a1[1]": a1, "yhat": yhat, "C": self.loss.data})
        out.update({
            "sigma_prime(z0[2])": yhat * (1 - yhat),
            "sigma_prime(z0[1])": a0 * (1 - a0),
            "sigma_prime(z1[1])": a1 * (1 - a1),
            "delta[2]": self.z["z0[2]"].grad,
            "delta0[1]": self.z["z0[1]"].grad,
            "delta1[1]": self.z["z1[1]"].grad,
        })
        out.update({name: p.grad for name, p in self.parameters.items()})
        return out


def two_two_one(table: dict | None = None) -> WorkedExample:
    """Build the 2-2-1 graph of the worked example with the table's weights and sample (sigmoid everywhere,
    C = ½(ŷ − y)²). Other networks: ``nn.from_hand_table(table)`` builds any size on either engine."""
    section = read_network(load_hand_table() if table is None else table)
    if section.sizes != (2, 2, 1) or set(section.activations) != {"sigmoid"} or section.loss != "half_sum":
        raise ValueError(f"two_two_one builds the 2-2-1 sigmoid network with C = ½(ŷ − y)²; this table's network "
                         f"is {'-'.join(map(str, section.sizes))} with activations {list(section.activations)} and "
                         f"loss {section.loss!r}: use nn.from_hand_table(table) for any network")
    return _build(section)


def _build(section: NetworkSection) -> WorkedExample:
    (W1, W2), (b1, b2) = section.weights, section.biases
    x = [Value(float(section.inputs[0]), "x0"), Value(float(section.inputs[1]), "x1")]
    p = {}
    for l, (W, b) in enumerate(((W1, b1), (W2, b2)), start=1):
        for j in range(W.shape[0]):
            for k in range(W.shape[1]):
                p[f"w{j}{k}[{l}]"] = Value(float(W[j, k]), f"w{j}{k}[{l}]")
        for j in range(W.shape[0]):
            p[f"b{j}[{l}]"] = Value(float(b[j]), f"b{j}[{l}]")
    z0 = dot([p["w00[1]"], p["w01[1]"]], x, p["b0[1]"])
    z1 = dot([p["w10[1]"], p["w11[1]"]], x, p["b1[1]"])
    z0.label, z1.label = "z0[1]", "z1[1]"
    a0, a1 = z0.sigmoid(), z1.sigmoid()
    a0.label, a1.label = "a0[1]", "a1[1]"
    z2 = dot([p["w00[2]"], p["w01[2]"]], [a0, a1], p["b0[2]"])
    z2.label = "z0[2]"
    yhat = z2.sigmoid()
    yhat.label = "a0[2]"
    error = yhat - Value(float(section.targets[0]), "y")
    error.label = "ŷ-y"
    loss = 0.5 * error**2
    loss.label = "C"
    return WorkedExample(x, p, {"z0[1]": z0, "z1[1]": z1, "z0[2]": z2}, {"a0[1]": a0, "a1[1]": a1, "a0[2]": yhat}, loss)
