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

Keys are made when asked for, from the tree: each layer names its own entries (``W[l]`` by its ``index``)
and a container that names its children by position (``Sequential``) puts ``"{i}."`` before theirs
(``"0.weight"``). No container renames the layers it holds, so a layer keeps working in the model it came
from. Two layers giving the same key is refused (``ValueError`` naming the key), never resolved by
dropping one; a layer used twice (the same object: shared weights) is listed once, at its first place.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np


def float_array(x: Any, what: str) -> np.ndarray:
    """``x`` as a float64 array, or TypeError/ValueError naming ``what`` (never numpy's OverflowError, nor its
    ComplexWarning: complex values are refused before the cast would drop their imaginary parts)."""
    try:
        array = np.asarray(x)
        if array.dtype.kind != "c":
            return np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as error:
        raise (ValueError if isinstance(error, ValueError) else TypeError)(
            f"{what} must be an array of real numbers, got {type(x).__name__}: {x!r:.80} ({error})") from None
    raise TypeError(f"{what} must be an array of real numbers, got complex values: {x!r:.80}")


def _brief(module: Module) -> str:
    return repr(module).partition("\n")[0][:80]


def _claim(owners: dict[str, Module], key: str, module: Module, what: str) -> None:
    """Record that ``module`` gives ``key``; ValueError if another module gave it already (one would be lost)."""
    first = owners.setdefault(key, module)
    if first is not module:
        raise ValueError(f"{what}: two layers give the key {key!r}, {_brief(first)} and {_brief(module)}, so one's "
                         "weights would be lost; give each layer its own index (e.g. nn.Linear(3, 1, index=2); an "
                         "nn.MLP numbers its layers itself), or hold the layers in an nn.Sequential, which names "
                         "them by position (\"0.weight\", \"1.weight\")")


class Module:
    """Base class: subclasses implement ``forward``; calling the module calls it."""

    training = True  # a class default, so subclasses need not call an __init__; train()/eval() set it per module
    #: Whether this module names its children by position (``Sequential``): a dense layer right inside it then
    #: gives its entries PyTorch's names (``"0.weight"``) instead of the reports' (``"W[1]"``).
    _names_by_position = False
    #: Whether this module's own entries already hold its children's (``Layer`` gathers its neurons' weights).
    _state_holds_children = False

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

    def _named_children(self) -> list[tuple[str, Module]]:
        """(prefix, child) pairs: what this module puts before each child's keys (nothing by default)."""
        return [("", child) for child in self.children()]

    def _walk(self, state: bool = False) -> Iterator[tuple[Module, str, bool]]:
        """(module, key prefix, whether its container names by position) for this module and every module below
        it, parents first, each once (a module used again keeps its first place); with ``state``, not below a
        module whose own entries hold its children's. No recursion."""
        seen: set[int] = set()
        stack: list[tuple[Module, str, bool]] = [(self, "", False)]
        while stack:
            module, prefix, positional = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield module, prefix, positional
            if not (state and module._state_holds_children):
                by_position = module._names_by_position
                stack.extend((child, prefix + name, by_position) for name, child in reversed(module._named_children()))

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

    def _entry_name(self, name: str, positional: bool) -> str:
        """What this module's own entry ``name`` is called inside a container naming by position."""
        return name

    def _entries(self, own: str, what: str) -> list[tuple[Module, str, str, np.ndarray]]:
        """(module, its own name, key, array) for every entry of ``module.<own>()`` below this module, in layer
        order; ValueError naming the key if two modules give the same one."""
        owners: dict[str, Module] = {}
        entries = []
        for module, prefix, positional in self._walk(state=True):
            for name, array in getattr(module, own)().items():
                key = prefix + module._entry_name(name, positional)
                _claim(owners, key, module, what)
                entries.append((module, name, key, array))
        return entries

    # -- derived ------------------------------------------------------------
    def named_parameters(self) -> Iterator[tuple[str, Any]]:
        """(name, parameter) for every parameter, in layer order, each once (a layer used twice shares its
        weights); names follow the lab reports (``w01[1]``), by position inside a ``Sequential`` (``"0.weight"``).
        ValueError naming the name if two layers give the same one."""
        owners: dict[str, Module] = {}
        seen: set[int] = set()
        for module, prefix, positional in self._walk():
            for name, p in module._own_parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    key = prefix + module._entry_name(name, positional)
                    _claim(owners, key, module, "named_parameters")
                    yield key, p

    def parameters(self) -> list[Any]:
        """Every parameter, in the order of ``named_parameters()`` (but without names, so never refused)."""
        seen: set[int] = set()
        found = []
        for module, _, _ in self._walk():
            for _, p in module._own_parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    found.append(p)
        return found

    def num_parameters(self) -> int:
        """The number of scalar parameters (weights and biases)."""
        return int(sum(np.size(p.data) for p in self.parameters()))

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero (leaves accumulate across ``backward()`` calls)."""
        for p in self.parameters():
            p.zero_grad()

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the weights as float64 arrays (whatever the parameters' dtype): ``{"W[1]": (n_out, n_in),
        "b[1]": (n_out,), ...}``; ValueError naming the key if two layers give the same one."""
        return {key: array for _, _, key, array in self._entries("_own_state", "state_dict")}

    def grad_dict(self) -> dict[str, np.ndarray]:
        """Copies of the gradients in the layout of ``state_dict()``: ``{"W[1]": ∂L/∂W[1], "b[1]": ...}``, the same
        on every engine (so ``grad_dict()["W[1]"][j, k]`` is ∂L/∂w_jk of layer 1); zeros before any backward."""
        return {key: array for _, _, key, array in self._entries("_own_grads", "grad_dict")}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Write the weights from ``state`` (the format of ``state_dict()``).

        Every key and shape is checked first; a missing, extra or mis-shaped entry
        raises ``ValueError`` naming it (one that is no real array, e.g. complex,
        ``TypeError``) and nothing is written, so a model is never left half loaded.
        Each parameter keeps its dtype.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict expects a mapping of name -> array, got {type(state).__name__}")
        entries = self._entries("_own_state", "load_state_dict")
        expected = {key: array.shape for _, _, key, array in entries}
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
                array = float_array(state[name], f"load_state_dict entry {name!r}")
            except TypeError as error:  # not an array at all, or complex (a cast would drop the imaginary parts)
                raise TypeError(f"{error}; nothing was loaded") from None
            except ValueError:
                problems.append(f"entry {name!r} is not numeric: got {type(state[name]).__name__}")
                continue
            if array.shape != shape:
                problems.append(f"entry {name!r} has shape {array.shape}, expected {shape}")
            checked[name] = array
        if problems:
            raise ValueError(f"load_state_dict: {'; '.join(problems)} (expected keys {list(expected)}); "
                             "nothing was loaded")
        own: dict[int, tuple[Module, dict[str, np.ndarray]]] = {}
        for module, name, key, _ in entries:
            own.setdefault(id(module), (module, {}))[1][name] = checked[key]
        for module, arrays in own.values():
            module._load_own_state(arrays)

    def extra_repr(self) -> str:
        """What ``repr`` shows inside the parentheses."""
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()})"]
        for i, child in enumerate(self.children()):
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({i}): {body}")
        return "\n".join(lines)

