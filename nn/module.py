"""``Module``: the interface every network piece shares, for either engine.

A module owns parameters (nodes with ``.data`` and ``.grad``) and child
modules (attributes that are modules, or lists/tuples of modules, in the order
they were assigned). From those two things ``Module`` derives
``parameters()``, ``named_parameters()``, ``zero_grad()``, ``state_dict()``
and ``load_state_dict()``.

``training`` (True until ``eval()``) says whether the module is being trained; ``train()`` and
``eval()`` set it on the module and every module below it (only ``Dropout`` acts on it so far).

``state_dict()`` has the same format on every engine: one float64 numpy array
per layer and kind, ``{"W[1]": (n_out, n_in), "b[1]": (n_out,), ...}`` with
``W[l][j, k]`` = w_jk of layer l (the weight from input k to neuron j).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np


class Module:
    """Base class: subclasses implement ``forward``; calling the module calls it."""

    training = True  # a class default, so subclasses need not call an __init__; train()/eval() set it per module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # -- the tree of modules -----------------------------------------------
    def children(self) -> list[Module]:
        """Direct sub-modules: attributes that are modules or lists/tuples of modules, in assignment order."""
        found = []
        for value in vars(self).values():
            if isinstance(value, Module):
                found.append(value)
            elif isinstance(value, (list, tuple)):
                found.extend(v for v in value if isinstance(v, Module))
        return found

    def modules(self) -> Iterator[Module]:
        """This module and every module below it, depth first, parents before children (no recursion)."""
        stack = [self]
        while stack:
            module = stack.pop()
            yield module
            stack.extend(reversed(module.children()))

    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on this module and every module below it;
        returns the module, as in PyTorch (``model.train()``, ``model.eval()``)."""
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"train mode must be True or False, got {type(mode).__name__}: {mode!r:.40}")
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (``train(False)``): e.g. ``Dropout`` passes its input through unchanged."""
        return self.train(False)

    # -- what a subclass that owns parameters overrides -----------------------
    def _own_parameters(self) -> list[tuple[str, Any]]:
        """(name, parameter) pairs this module holds itself (not its children's)."""
        return []

    def _own_state(self) -> dict[str, np.ndarray]:
        """This module's entries of the state dict (float64 arrays)."""
        return {}

    def _load_own_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Write this module's entries from ``state`` (already checked by ``load_state_dict``)."""

    def _own_grads(self) -> dict[str, np.ndarray]:
        """The gradients of this module's entries of the state dict, in their shapes (zeros where none yet)."""
        return {}

    # -- derived ------------------------------------------------------------
    def named_parameters(self) -> Iterator[tuple[str, Any]]:
        """(name, parameter) for every parameter, in layer order, each once (a layer used twice shares its
        weights); names follow the lab reports (``w01[1]``)."""
        seen: set[int] = set()
        for module in self.modules():
            for name, p in module._own_parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield name, p

    def parameters(self) -> list[Any]:
        """Every parameter, in the order of ``named_parameters()``."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """The number of scalar parameters (weights and biases)."""
        return int(sum(np.size(p.data) for p in self.parameters()))

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero (leaves accumulate across ``backward()`` calls)."""
        for p in self.parameters():
            p.zero_grad()

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the weights as float64 arrays: ``{"W[1]": (n_out, n_in), "b[1]": (n_out,), ...}``."""
        state: dict[str, np.ndarray] = {}
        for module in self.modules():
            state.update(module._own_state())
        return state

    def grad_dict(self) -> dict[str, np.ndarray]:
        """Copies of the gradients in the layout of ``state_dict()``: ``{"W[1]": ∂L/∂W[1], "b[1]": ...}``, the same
        on every engine (so ``grad_dict()["W[1]"][j, k]`` is ∂L/∂w_jk of layer 1); zeros before any backward."""
        grads: dict[str, np.ndarray] = {}
        for module in self.modules():
            grads.update(module._own_grads())
        return grads

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Write the weights from ``state`` (the format of ``state_dict()``).

        Every key and shape is checked first; a missing, extra or mis-shaped
        entry raises ``ValueError`` naming it and nothing is written, so a model
        is never left half loaded.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict expects a mapping of name -> array, got {type(state).__name__}")
        expected = {name: array.shape for name, array in self.state_dict().items()}
        missing = [k for k in expected if k not in state]
        extra = [k for k in state if k not in expected]
        problems = []
        if missing:
            problems.append(f"missing entries {missing}")
        if extra:
            problems.append(f"unexpected entries {extra}")
        checked: dict[str, np.ndarray] = {}
        for name, shape in expected.items():
            if name not in state:
                continue
            try:
                array = np.array(state[name], dtype=np.float64)
            except (TypeError, ValueError, OverflowError):
                problems.append(f"entry {name!r} is not numeric: got {type(state[name]).__name__}")
                continue
            if array.shape != shape:
                problems.append(f"entry {name!r} has shape {array.shape}, expected {shape}")
            checked[name] = array
        if problems:
            raise ValueError(f"load_state_dict: {'; '.join(problems)} (expected keys {list(expected)}); "
                             "nothing was loaded")
        for module in self.modules():
            module._load_own_state(checked)

    def extra_repr(self) -> str:
        """What ``repr`` shows inside the parentheses."""
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()})"]
        for i, child in enumerate(self.children()):
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({i}): {body}")
        return "\n".join(lines)

