"""Checking a hand-worked derivation against the engine: ``verify(table, graph)``.

A *table* maps names to the numbers (or arrays) a student worked out. Each
name is read on the graph (see ``verify`` for the names), and each entry is
compared twice: with the engine's exact value, and with the value recomputed
from the student's *own* earlier entries, so that one early slip is named as
the first wrong step and does not make every later line look wrong.

The ``network`` section of a table (layer sizes, activations, loss, weights,
the sample, the learning rate) is read by ``read_network``: ``nn`` builds a
network from it and ``worked_example.two_two_one`` the 2-2-1 graph.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np

from .graph import check_node, topological_order
from .notation import NEURON_LABEL, WEIGHT_LABEL, _format_data, _markdown_cell, _markdown_code, _node_names, _printable

AGREES = "agrees"
WITHIN_ROUNDING = "agrees within hand rounding"
WRONG = "wrong"
BLANK = "blank"

# Sections of a table and how a bare name inside them reads.
_SECTION_READING = {"forward": "value", "values": "value", "loss": "value",
                    "backward": "gradient", "gradients": "gradient",
                    "after step": "after step", "after_step": "after step", "updated": "after step"}
_RESERVED = ("decimals", "lr", "network")
_GIVEN = "given"  # a worksheet's record of the graph's inputs and parameters: numbers shown, not checked
_SIGMA_PRIME = re.compile(r"^(?:sigma_prime|σ'|σ′)\((.+)\)$", re.DOTALL)
_DELTA = re.compile(r"^(?:delta|δ)(\d*)\[(\d+)\]$")
# DOTALL here and around: a label may hold a newline. One separating space is taken (the rest is the name's, as
# written; a name not found so is looked up stripped): labels "a" and " a" give "grad a" and "grad  a".
_GRAD = re.compile(r"^(?:grad\s(.+)|grad\((.+)\))$", re.DOTALL)
_AFTER_STEP = re.compile(r"^(.+)\safter step$", re.DOTALL)
# Strict JSON has no nan or infinity: a worksheet writes them as these words, read back as the numbers.
_NONFINITE_WORDS = {"nan": math.nan, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "infinity": math.inf,
                    "+infinity": math.inf, "-infinity": -math.inf}
_OUTPUT_NAMES = ("yhat", "y_hat", "ŷ")
_ROOT_NAMES = ("C", "loss", "L", "E")
_TENSOR_PARAMETER = re.compile(r"^[Wb]\[(\d+)\]$")
_LAYER_NODE = re.compile(r"^([za])\[(\d+)\]$")
# Entries a student computed in float64 (a numpy number or array left as computed) carry no rounding:
# they are compared with |hand - reference| <= ARRAY_RTOL·|reference| + ARRAY_ATOL·max|reference|, elementwise
# (the max over the entry: an array's tiny entries are judged on the scale of its largest, a number on its own).
ARRAY_RTOL = 1e-7
ARRAY_ATOL = 1e-10
_MAX_DECIMALS = 17  # a table-wide ``decimals`` goes up to 17 (float64 resolves no more near 1)
# Both numbers are float64 roundings of what they stand for: |hand - reference| may exceed the stated
# tolerance by a few units in the last place of the larger (two correct float64 results, computed in a
# different order, differ by that much).
_FLOAT_SLACK = 4 * float(np.finfo(np.float64).eps)
# A whole number written by hand (0, -1, 2) claims no rounding: it is compared as if written to 12 decimals, exact
# but for the engine's own float64 noise (a residue of 5.6e-17 where the true value is 0).
_WHOLE = 12
# A Python float with this many significant digits or more is a float64 result (as a numpy one), not a number
# rounded by hand: its repr is all float64 has, so its "decimals" say nothing about the student's precision.
_FULL_PRECISION_DIGITS = 15


class TableError(ValueError):
    """A table that cannot be read: a malformed entry, an unknown or ambiguous name."""


# -- reading a table -----------------------------------------------------------------------------------


@dataclass
class _RawEntry:
    name: str
    value: Any            # float, ndarray or None (left blank)
    decimals: int | None  # as written (JSON digits, a float's shortest fixed repr); None for float arrays
    reading: str          # "bare", "value", "gradient" or "after step"
    written: str = ""     # the name exactly as the table writes it (``name`` is stripped and in NFC)


@dataclass
class _Table:
    entries: list[_RawEntry]
    decimals: int | None
    lr: float | None
    metadata: dict = field(default_factory=dict)


def _decimals_of_number(v: Any) -> int | None:
    """Decimals as written: a Decimal's own digits ("0.0822" → 4; "6.7598e9" → -5, the tolerance ½·10⁵); a float's
    shortest repr in fixed notation (9e-05 → "0.00009" → 5, 4.2e-20 → 21); ``_WHOLE`` for a whole number (0, -1,
    2.0, "3"), which claims no rounding; None for a float written to all of float64's digits (a float64 result,
    compared as a numpy one is)."""
    if isinstance(v, Decimal):
        exponent = v.as_tuple().exponent
        if not isinstance(exponent, int):  # nan, inf
            return _WHOLE
        return -exponent if exponent != 0 else _WHOLE  # "6.7598E+9" keeps the +5 exponent: 5 significant figures
    if isinstance(v, (int, np.integer)):
        return _WHOLE
    x = float(v)
    if math.isfinite(x) and x != 0 and len(repr(abs(x)).split("e")[0].replace(".", "").strip("0")) >= \
            _FULL_PRECISION_DIGITS:
        return None
    text = np.format_float_positional(x, trim="-")
    return len(text.split(".")[1]) if "." in text else _WHOLE


def _rounded_decimals(array: np.ndarray) -> int | None:
    """The decimals a numpy number or array was rounded to (``np.round(a, 4)``, ``round(np.float64(x), 4)``:
    every entry is its own rounding to d <= 8 decimals, and some entry needs all d), or None for a float64 result
    left as computed; an array of whole numbers claims no rounding (``_WHOLE``)."""
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return None
    for d in range(0, 9):
        if np.array_equal(np.round(finite, d), finite):
            return _WHOLE if d == 0 else d
    return None


def _tolerance(hand: Any, reference: Any, decimals: int | None) -> Any:
    """The largest |hand − reference| that agrees: ½·10⁻ᵈ for d decimals written or stated, else (a float64
    result) ARRAY_RTOL·|reference| + ARRAY_ATOL·max|reference|; plus float64's own rounding."""
    with np.errstate(all="ignore"):
        def finite(x: Any) -> np.ndarray:  # |x|, with inf and nan as 0: an infinity agrees only with itself
            a = np.abs(np.asarray(x, dtype=np.float64))
            return np.where(np.isfinite(a), a, 0.0)

        h, r = finite(hand), finite(reference)
        if decimals is None:
            tol = ARRAY_RTOL * r + ARRAY_ATOL * np.max(r, initial=0.0)
        else:
            tol = 0.5 * 10.0**-decimals * (1 + 1e-9)  # (1 + 1e-9): a hand value exactly half a unit away agrees
        return tol + _FLOAT_SLACK * np.maximum(h, r)


def _entry_value(name: str, v: Any) -> tuple[Any, int | None]:
    """An entry as a float or a float64 array, with the decimals it was written to."""
    where = f"verify: table entry {name!r}"
    if v is None:
        return None, None
    if isinstance(v, str) and v.strip().lower() in _NONFINITE_WORDS:  # "nan", "inf", "-inf": strict JSON's
        return _NONFINITE_WORDS[v.strip().lower()], _WHOLE
    if isinstance(v, bool) or isinstance(v, str) or isinstance(v, bytes):
        raise TypeError(f"{where} must be a number or an array of numbers, got {type(v).__name__}: {v!r:.40}")
    if isinstance(v, np.floating):  # computed by numpy, not written by hand: compared as a float64 array is
        return _entry_value(name, np.asarray(v, dtype=np.float64))
    if isinstance(v, (int, float, Decimal, np.integer)):
        try:
            x = float(v)
        except (OverflowError, InvalidOperation):
            raise ValueError(f"{where} is {str(v)[:40]}, beyond float64's range; expected a number "
                             "within ±1.8e308") from None
        if math.isinf(x) and not (isinstance(v, float) and math.isinf(v)):
            raise ValueError(f"{where} is {str(v)[:40]}, beyond float64's range; expected a number within ±1.8e308")
        return x, _decimals_of_number(v)
    if isinstance(v, (list, tuple, np.ndarray)):
        array = np.asarray(v, dtype=object) if not isinstance(v, np.ndarray) else v
        if array.dtype == object:
            flat = []
            written: list[int] = []  # the decimals of the numbers written with some (whole numbers claim none)
            try:
                items = np.asarray(v, dtype=object)
            except ValueError:
                raise TypeError(f"{where} is a ragged list; expected a rectangular array of numbers") from None
            for item in items.ravel():
                if isinstance(item, np.floating):  # a numpy result inside a list: a number like any other
                    item = float(item)
                x, d = _entry_value(name, item) if item is not None else (math.nan, None)
                if isinstance(x, np.ndarray):
                    raise TypeError(f"{where} is a ragged list; expected a rectangular array of numbers")
                flat.append(x)
                if d is not None:
                    written.append(d)
            return np.array(flat, dtype=np.float64).reshape(items.shape), max(written) if written else None
        if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
            raise TypeError(f"{where} must be an array of real numbers, got dtype {array.dtype}")
        array = np.array(array, dtype=np.float64)
        return array, _rounded_decimals(array)
    raise TypeError(f"{where} must be a number or an array of numbers, got {type(v).__name__}: {v!r:.40}")


def _check_decimals(d: Any, where: str) -> int:
    if isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= _MAX_DECIMALS:
        raise ValueError(f"{where} must be an int from 0 to {_MAX_DECIMALS} (float64 resolves no more), "
                         f"got {d!r:.40}")
    return d


def _check_lr(lr: Any, where: str) -> float:
    return _number(lr, where)


def _read_json(path: Path, who: str) -> Any:
    if not path.is_file():
        raise ValueError(f"{who}: table file {str(path)!r} does not exist or is not a regular file; expected a "
                         "dict or the path of a JSON table such as autograd/data/hand_derivation_2-2-1.json")
    try:
        return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{who}: table file {str(path)!r} is not a JSON table ({error}); expected a JSON "
                         "object of entries") from None
    except RecursionError:
        raise ValueError(f"{who}: table file {str(path)!r} is nested too deeply to be a table") from None


def _load_table(table: Any) -> _Table:
    if isinstance(table, (str, Path)):
        table = _read_json(Path(table), "verify")
    if not isinstance(table, Mapping):
        raise TypeError(f"verify expects the table as a dict or a path to a JSON file, got {type(table).__name__}")
    decimals = _check_decimals(table["decimals"], "verify: the table's 'decimals'") if "decimals" in table else None
    lr = None
    if "lr" in table:
        lr = _check_lr(table["lr"], "verify: the table's 'lr'")
    elif isinstance(table.get("network"), Mapping):
        net = table["network"]
        for key in ("lr", "learning_rate_in_example"):
            if key in net:
                lr = _check_lr(net[key], f"verify: the table's network.{key}")
                break
    entries: list[_RawEntry] = []
    metadata: dict = {}
    for key, v in table.items():
        if not isinstance(key, str):
            raise TypeError(f"verify: table names must be strings, got {type(key).__name__}: {key!r:.40}")
        if key in _RESERVED:
            continue
        section = key.strip().lower()  # "Backward", "forward " are the sections they look like
        if section in _SECTION_READING and isinstance(v, Mapping):
            for name, x in v.items():
                if not isinstance(name, str):
                    raise TypeError(f"verify: names in section {key!r} must be strings, got {name!r:.40}")
                value, d = _entry_value(name, x)
                entries.append(_RawEntry(_normal(name), value, d, _SECTION_READING[section], name))
        elif isinstance(v, Mapping):
            if section != _GIVEN:
                _refuse_unknown_section(key, v)
            metadata[key] = v  # notes (text only): kept and shown, never interpreted
        elif isinstance(v, str) or (isinstance(v, (list, tuple)) and v and isinstance(v[0], str)):
            metadata[key] = v  # kept and shown, never interpreted (verify refuses it if key names a node)
        else:
            value, d = _entry_value(key, v)
            entries.append(_RawEntry(_normal(key), value, d, "bare", key))
    return _Table(entries, decimals, lr, metadata)


def _normal(name: str) -> str:
    """A name as compared with labels: stripped, in Unicode's composed form (NFC: "ŷ" typed as y + ̂ is "ŷ")."""
    return unicodedata.normalize("NFC", name.strip())


def _refuse_unknown_section(key: str, v: Mapping) -> None:
    """A top-level dict that is no section verify reads: notes if it holds text only, else (numbers in it) a
    mistyped section, refused rather than silently left unchecked."""
    stack = [v]
    while stack:  # no recursion: any nesting of dicts and lists
        item = stack.pop()
        if isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif item is not None and not isinstance(item, str):
            close = difflib.get_close_matches(key.strip().lower(), list(_SECTION_READING), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise TableError(f"verify: the table's {key!r} holds numbers but is no section verify reads "
                             f"({', '.join(map(repr, _SECTION_READING))}; {_GIVEN!r} is shown, not checked); "
                             f"{hint}a dict of notes must hold text only, so that no entry is left unchecked")


# -- names on a graph ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    kind: str                  # "value", "gradient", "local derivative" or "after step"
    node: Any
    position: int = -1         # the input, for a local derivative
    index: tuple | None = None  # one entry of a Tensor (w01[1] on W[1]), or None for the whole node


class _Names:
    """Reads the names of a table on one graph."""

    def __init__(self, root: Any, order: list):
        self.root = root
        self.order = order
        self.is_tensor = isinstance(root.data, np.ndarray)
        self.by_name: dict[str, list] = {}  # stripped and in NFC, as a table's names are compared
        self.exact: dict[str, list] = {}    # as the labels are: "a" and "a " are two names (a worksheet lists both)
        auto = _node_names(order)
        for node in order:
            if node.label:
                self.by_name.setdefault(_normal(node.label), []).append(node)
                self.exact.setdefault(node.label, []).append(node)
            elif node._op is not None:  # an unlabelled result: its short expression (x*w) or op#i
                self.by_name.setdefault(auto[node], []).append(node)
                self.exact.setdefault(auto[node], []).append(node)
        self.consumers: dict = {node: [] for node in order}
        for node in order:
            for child in set(node._inputs):
                self.consumers[child].append(node)
        self.root_names = {root.label} if root.label else set()
        self.root_names |= {n for n in _ROOT_NAMES if n not in self.by_name}

    def node(self, name: str) -> Any | None:
        """The one node named ``name``: by its label exactly as written, else stripped and in NFC."""
        nodes = self.exact.get(name, [])
        if len(nodes) != 1:
            nodes = self.by_name.get(_normal(name), [])
        return nodes[0] if len(nodes) == 1 else None

    def ambiguous(self, name: str) -> list[str]:
        """The labels that ``name`` uses (whole, or as the x of grad x, ∂E/∂x, x after step) and that more
        than one node carries, so that the name cannot pick one."""
        return [label for label, nodes in self.by_name.items() if len(nodes) > 1 and re.search(
            rf"(?:^|[\s(/∂d]){re.escape(label)}(?:$|[\s)])", name)]

    def output(self) -> Any | None:
        for name in _OUTPUT_NAMES:
            if (node := self.node(name)) is not None:
                return node
        layers: dict[int, dict[str, list]] = {}
        for label, nodes in self.by_name.items():
            m = NEURON_LABEL.match(label) or _LAYER_NODE.match(label)
            if m and m.group(1) in "za":
                layer = int(m.groups()[-1])
                layers.setdefault(layer, {}).setdefault(m.group(1), []).extend(nodes)
        if not layers:
            return None
        last = layers[max(layers)]
        last = last.get("a") or last["z"]  # an identity output has no a node: z is the output
        return last[0] if len(last) == 1 else None

    def activation_of(self, z: Any) -> tuple[Any, int] | None:
        m = NEURON_LABEL.match(z.label or "") or _LAYER_NODE.match(z.label or "")
        wanted = (f"a{m.group(2)}[{m.group(3)}]" if m.lastindex == 3 else f"a[{m.group(2)}]") if m else None
        single = [c for c in self.consumers.get(z, []) if len(c._inputs) == 1]
        chosen = [c for c in single if c.label == wanted] or single
        return (chosen[0], 0) if len(chosen) == 1 else None

    def element(self, name: str) -> tuple[Any, tuple] | None:
        """On an nn Tensor graph, the reports' scalar names: w01[1] → W[1][0, 1], z0[1] → z[1][0, 0] (one sample)."""
        if not self.is_tensor:
            return None
        if m := WEIGHT_LABEL.match(name):
            j, k, l = m.groups()
            if k is None:  # w01[1]: one digit each
                if len(j) != 2:
                    return None
                j, k = j[0], j[1]
            return self._entry(f"W[{l}]", (int(j), int(k)))
        if m := NEURON_LABEL.match(name):
            letter, j, l = m.groups()
            if letter == "b":
                return self._entry(f"b[{l}]", (int(j),))
            node = self.node(f"{letter}[{l}]")
            if node is not None and node.data.ndim == 2 and node.data.shape[0] == 1:
                return self._entry(f"{letter}[{l}]", (0, int(j)))
        return None

    def _entry(self, label: str, index: tuple) -> tuple[Any, tuple] | None:
        node = self.node(label)
        if node is None or len(index) != node.data.ndim or any(not 0 <= i < n for i, n in
                                                                 zip(index, node.data.shape)):
            return None
        return node, index

    def _labelled_or_element(self, name: str) -> tuple[Any, tuple | None] | None:
        node = self.node(name)
        if node is not None:
            return node, None
        return self.element(_normal(name))

    def resolve(self, name: str, reading: str, exact_grad: Any) -> _Target | None:
        """The target of ``name`` read as ``reading`` ("bare", "value", "gradient", "after step")."""
        found = self._labelled_or_element(name)
        if found is None and name in self.root_names:
            found = (self.root, None)
        if found is None and name in _OUTPUT_NAMES:
            out = self.output()
            found = (out, None) if out is not None else None
        if found is not None:
            node, index = found
            kind = self._bare_reading(name, node, index, exact_grad) if reading == "bare" else reading
            if kind == "after step" and node._op is not None:
                raise TableError(f"verify: {name!r} is computed by the graph, not a parameter: only a leaf "
                                 "(a weight or bias) changes in an SGD step")
            return _Target(kind, node, -1, index)
        if (m := _GRAD.match(name)) is not None:
            inner = m.group(1) or m.group(2)  # as written: a label may end in a space
            found = self._labelled_or_element(inner) or self._special(inner.strip())
            return _Target("gradient", found[0], -1, found[1]) if found else None
        if (m := _AFTER_STEP.match(name)) is not None:
            found = self._labelled_or_element(m.group(1))
            if found is None:
                return None
            if found[0]._op is not None:
                raise TableError(f"verify: {name!r}: {m.group(1)!r} is computed by the graph, not a parameter: "
                                 "only a leaf (a weight or bias) changes in an SGD step")
            return _Target("after step", found[0], -1, found[1])
        if (target := self._fraction(name)) is not None:
            return target
        if (m := _SIGMA_PRIME.match(name)) is not None:
            found = self._labelled_or_element(m.group(1))
            if found is None:
                return None
            z, index = found
            act = self.activation_of(z)
            return _Target("local derivative", act[0], act[1], index) if act else None
        if (m := _DELTA.match(name)) is not None:
            found = self._special(name)
            return _Target("gradient", found[0], -1, found[1]) if found else None
        return None

    def _special(self, name: str) -> tuple[Any, tuple | None] | None:
        """delta[l] / deltaj[l] → the z node (or entry) whose gradient it is; yhat → the output."""
        if name in _OUTPUT_NAMES:
            out = self.output()
            return (out, None) if out is not None else None
        m = _DELTA.match(name)
        if m is None:
            return None
        j, l = m.groups()
        if j:
            return self._labelled_or_element(f"z{j}[{l}]")
        layer = self.node(f"z[{l}]")
        if layer is not None:
            return layer, None
        zs = [n for label, ns in self.by_name.items() for n in ns
              if (mm := NEURON_LABEL.match(label)) and mm.group(1) == "z" and mm.group(3) == l]
        return (zs[0], None) if len(zs) == 1 else None

    def _fraction(self, name: str) -> _Target | None:
        """∂E/∂w5 or dE/dw5 (the root's gradient), or ∂a/∂z (a local derivative: z an input of a)."""
        for marker in ("∂", "d"):
            if not name.startswith(marker):
                continue
            for cut in [i for i in range(len(name)) if name.startswith("/" + marker, i)]:
                written_top, written_bottom = name[len(marker):cut], name[cut + 1 + len(marker):]
                top, bottom = written_top.strip(), written_bottom.strip()
                below = self._labelled_or_element(written_bottom) or self._special(bottom)
                if below is None:
                    continue
                if top in self.root_names or top == self.root.label:
                    return _Target("gradient", below[0], -1, below[1])
                above = self._labelled_or_element(written_top)
                if above is None or above[1] is not None or below[1] is not None:
                    continue
                positions = [i for i, x in enumerate(above[0]._inputs) if x is below[0]]
                node = above[0]
                if positions and self.is_tensor and not (len(node._inputs) == 1 and
                                                         np.shape(node._inputs[0].data) == np.shape(node.data)):
                    raise TableError(f"verify: {name!r}: {top!r} = {node._op.name}(...) is not elementwise, so its "
                                     f"local derivative is a Jacobian, which verify does not read; name the "
                                     f"gradient instead ('grad {bottom}')")
                if len(positions) == 1:
                    return _Target("local derivative", above[0], positions[0])
                if len(positions) > 1:
                    raise TableError(f"verify: {name!r}: {bottom!r} enters {top!r} {len(positions)} times, so "
                                     "∂/∂ of one use is not defined; name the gradient instead")
                raise TableError(f"verify: {name!r} is neither a gradient of the root "
                                 f"{sorted(self.root_names)} nor a local derivative: {bottom!r} is not an input "
                                 f"of {top!r}")
        return None

    def _bare_reading(self, name: str, node: Any, index: tuple | None, exact_grad: Any) -> str:
        """A bare name outside a section: an nn parameter name is its gradient (the shipped table's meaning),
        another leaf is ambiguous, anything else is its value."""
        if WEIGHT_LABEL.match(name) or _TENSOR_PARAMETER.match(name) or (
                (m := NEURON_LABEL.match(name)) and m.group(1) == "b"):
            return "gradient"
        if node._op is None:
            root = next(iter(sorted(self.root_names)), "C") if not self.root.label else self.root.label
            value = node.data if index is None else node.data[index]
            grad = exact_grad(node)
            grad = grad if index is None or grad is None else grad[index]
            raise TableError(
                f"verify: the bare name {name!r} is a leaf of your graph, so it could mean its value "
                f"({_format_data(value, 6)}) or its gradient ∂{root}/∂{name} ({_format_data(grad, 6)}); write "
                f"'grad {name}' or 'd{root}/d{name}' for the gradient, or put it in a 'forward' section for "
                "the value")
        return "value"

    def known_names(self) -> list[str]:
        """Names this graph answers to: the root, yhat, each label's readings, then unlabelled results."""
        root = self.root.label or "C"
        names = [root]
        if self.output() is not None and self.node("yhat") is None:
            names.append("yhat")
        labelled = [(label, nodes[0]) for label, nodes in self.by_name.items() if len(nodes) == 1 and nodes[0].label]
        unlabelled = [(label, nodes[0]) for label, nodes in self.by_name.items()
                      if len(nodes) == 1 and not nodes[0].label]
        for label, node in labelled + unlabelled:
            if label in names:
                continue
            if node._op is None:
                parameter = WEIGHT_LABEL.match(label) or _TENSOR_PARAMETER.match(label) or (
                    (m := NEURON_LABEL.match(label)) and m.group(1) == "b")
                names += ([label] if parameter else []) + [f"grad {label}", f"d{root}/d{label}",
                                                           f"{label} after step"]
            else:
                names += [label, f"grad {label}"]
            m = NEURON_LABEL.match(label) or _LAYER_NODE.match(label)
            if m and m.group(1) == "z":
                names.append(f"delta{m.group(2)}[{m.group(3)}]" if m.lastindex == 3 else f"delta[{m.group(2)}]")
                if self.activation_of(node):
                    names.append(f"sigma_prime({label})")
        return names


# -- the checked table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One line of a hand-worked table, checked.

    ``hand``, ``exact`` and ``recomputed`` are floats, or arrays for a matrix-form
    entry; ``max_difference`` is the largest |hand − exact| and ``index`` where
    it is (None for a number)."""

    name: str
    kind: str            # "value", "gradient", "local derivative" or "after step"
    hand: Any
    exact: Any
    recomputed: Any      # from the hand's own earlier entries (nan if they leave it undefined)
    how: str             # the recomputation with the hand's numbers
    decimals: int | None  # decimals the hand claims (None: a float64 array, compared to ARRAY_RTOL/ATOL)
    verdict: str         # AGREES, WITHIN_ROUNDING, WRONG or BLANK
    max_difference: float = math.nan
    index: tuple | None = None
    note: str = ""

    @property
    def tolerance(self) -> Any:
        """The largest |hand − exact| that agrees, as applied: half a unit in the last decimal shown (a whole
        number counts as 12), or for a float64 result ARRAY_RTOL·|exact| + ARRAY_ATOL·max|exact| (an array for
        an array), plus float64's rounding of the two (a few units in the last place). nan for a blank entry."""
        if self.hand is None:
            return math.nan
        tol = _tolerance(self.hand, self.exact, self.decimals)
        return float(tol) if np.ndim(tol) == 0 else tol

    @property
    def is_array(self) -> bool:
        return isinstance(self.exact, np.ndarray) and self.exact.ndim > 0


def _distance(entry: Entry, first: bool) -> str:
    """How far the hand's number is from the one recomputed from its own entries, in words: in units of the last
    decimal shown (rounding allows 0.5), or for a number compared as exact the difference itself."""
    with np.errstate(all="ignore"):
        diff = abs(float(entry.hand) - float(entry.recomputed))
    if not math.isfinite(diff):
        return "one of the two is not finite" if math.isfinite(float(entry.hand)) or \
            math.isfinite(float(entry.recomputed)) else "not the same infinity"
    if entry.decimals is None or entry.decimals == _WHOLE:
        what = "a whole number is compared as exact" if entry.decimals == _WHOLE else \
            f"a float64 result is compared to {ARRAY_RTOL:g} relative"
        return f"{diff:.3g} away; {what}" if first else f"{diff:.3g} away"
    units = diff * 10.0**min(entry.decimals, 300)
    return f"{units:.1f} units of the last decimal away; rounding allows 0.5" if first else f"{units:.1f} units away"


class Verification:
    """The checked entries of a hand-worked table, in the order a backward pass computes them (see ``verify``)."""

    def __init__(self, entries: list[Entry], metadata: dict | None = None):
        self.entries = entries
        self.metadata = dict(metadata or {})

    @property
    def wrong(self) -> list[Entry]:
        return [e for e in self.entries if e.verdict == WRONG]

    @property
    def first_wrong(self) -> Entry | None:
        """The first entry, in the order of the computation, that is wrong even from the hand's own numbers."""
        return self.wrong[0] if self.wrong else None

    def __getitem__(self, name: str) -> Entry:
        """The entry named ``name`` as the table writes it, else as verify compares names (stripped, NFC)."""
        for e in self.entries:
            if e.name == name:
                return e
        for e in self.entries:
            if _normal(e.name) == _normal(name):
                return e
        raise KeyError(name)

    def __len__(self) -> int:
        return len(self.entries)

    def counts(self) -> dict[str, int]:
        return {v: sum(e.verdict == v for e in self.entries) for v in (AGREES, WITHIN_ROUNDING, WRONG, BLANK)}

    def _cells(self, e: Entry) -> list[str]:
        if e.verdict == BLANK:
            return [e.name, "(blank)", _show(e.exact, e.decimals, 2), "", BLANK]
        if e.is_array or isinstance(e.hand, np.ndarray):
            where = "" if e.index is None else f" at {list(e.index)}"
            return [e.name, f"shape {_shape(e.hand)}", f"max |hand − exact| {e.max_difference:.3g}{where}",
                    f"= {e.how}", e.verdict + (f" ({e.note})" if e.note else "")]
        return [e.name, _show(e.hand, e.decimals, 0), _show(e.exact, e.decimals, 2),
                f"{_show(e.recomputed, e.decimals, 2)}  = {e.how}", e.verdict]

    def to_text(self) -> str:
        """One line per entry, then the first wrong step and the counts."""
        header = ["entry", "hand", "engine (exact)", "from hand's own entries", "verdict"]
        rows = [header] + [self._cells(e) for e in self.entries]
        widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
        lines = [f"{key}: {_printable(str(value))[:200]}" for key, value in self.metadata.items()]
        if lines:
            lines.append("")
        lines += ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        lines.append("")
        first = self.first_wrong
        if self.entries and all(e.verdict == BLANK for e in self.entries):
            lines.append("Nothing checked: every entry is blank (fill in your numbers; worksheet(graph, answers=True) "
                         "is the key).")
        elif first is None:
            lines.append("No wrong step: every entry agrees with the engine or with the hand's own numbers.")
        else:
            lines.append("First wrong step: " + _wrong_line(first, first=True))
            for e in self.wrong[1:]:
                lines.append("Also wrong: " + _wrong_line(e, first=False))
        counts = self.counts()
        blank = f", {counts[BLANK]} left blank" if counts[BLANK] else ""
        lines.append(f"{counts[AGREES]} agree, {counts[WITHIN_ROUNDING]} agree within hand rounding, "
                     f"{counts[WRONG]} wrong{blank} (of {len(self.entries)}).")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The same as a Markdown table."""
        lines = [f"*{_markdown_cell(str(k))}*: {_markdown_cell(str(v))[:200]}  " for k, v in self.metadata.items()]
        lines += ["| entry | hand | engine (exact) | from hand's own entries | verdict |", "|---|---|---|---|---|"]
        for e in self.entries:
            name, hand, exact, own, verdict = self._cells(e)
            hand, exact, own, verdict = (_markdown_cell(c) for c in (hand, exact, own, verdict))
            verdict = f"**{verdict}**" if e.verdict == WRONG else verdict
            lines.append(f"| {_markdown_code(name)} | {hand} | {exact} | {own} | {verdict} |")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        c = self.counts()
        return (f"<Verification: {c[AGREES]} agree, {c[WITHIN_ROUNDING]} within hand rounding, {c[WRONG]} wrong, "
                f"first wrong {self.first_wrong.name if self.first_wrong else None!r}>")

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def _shape(x: Any) -> str:
    return "×".join(str(n) for n in np.shape(x)) or "()"


def _show(x: Any, decimals: int | None, extra: int) -> str:
    """A number with the decimals the hand shows (plus ``extra``); an array as its shape."""
    if isinstance(x, np.ndarray) and x.ndim > 0:
        return f"shape {_shape(x)}"
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if (decimals is None or decimals == _WHOLE) and extra == 0:  # the hand's whole number or float64 result, as given
        return repr(x) if x != int(x) or abs(x) >= 1e16 else str(int(x))
    if decimals == _WHOLE:
        decimals = 6
    d = max(min((decimals if decimals is not None else 8) + extra, _MAX_DECIMALS + 2), 0)
    if x != 0 and abs(x) < 10.0**-d:
        return f"{x:.3e}"
    return f"{x:.{d}f}"


def _wrong_line(e: Entry, first: bool) -> str:
    if e.is_array or isinstance(e.hand, np.ndarray):
        diff = float(np.max(np.abs(np.asarray(e.hand) - np.asarray(e.recomputed))))
        where = "" if e.index is None else f" (largest difference from the engine {e.max_difference:.3g} " \
                                           f"at {list(e.index)})"
        return (f"{e.name} (shape {_shape(e.hand)}) differs from {e.how}, computed from your own earlier "
                f"entries, by up to {diff:.3g}{where}.")
    if first:
        return (f"{e.name} = {_show(e.hand, e.decimals, 0)}, but the hand's own entries give {e.how} = "
                f"{_show(e.recomputed, e.decimals, 2)} ({_distance(e, True)}); engine "
                f"{_show(e.exact, e.decimals, 2)}.")
    return (f"{e.name} = {_show(e.hand, e.decimals, 0)}, but {e.how} = {_show(e.recomputed, e.decimals, 2)} "
            f"({_distance(e, False)}).")


# -- the two passes on the side ----------------------------------------------------------------------------


def _graph_root(model_or_graph: Any) -> Any:
    root = getattr(model_or_graph, "loss", model_or_graph)
    check_node(root, "verify (the loss node, or an object with a .loss node)")
    return root


def _is_tensor(node: Any) -> bool:
    return isinstance(node.data, np.ndarray)


def _apply_forward(node: Any, xs: list) -> Any:
    with np.errstate(all="ignore"):
        try:
            return node._op.forward(tuple(xs) if _is_tensor(node) else xs, node._ctx)
        except (ValueError, ZeroDivisionError, ArithmeticError, TypeError):
            return np.full(np.shape(node.data), math.nan) if _is_tensor(node) else math.nan


def _local_scalar(node: Any, xs: list, out: Any) -> list:
    """∂node/∂input for each input of a Value node at the given numbers (nan where undefined)."""
    with np.errstate(all="ignore"):
        try:
            return list(node._op.derivatives(xs, out, node._ctx))
        except (ValueError, ZeroDivisionError, ArithmeticError, TypeError):
            return [math.nan] * len(xs)


def _elementwise_local(node: Any, xs: list, out: Any) -> Any:
    """For a unary elementwise Tensor op, ∂out/∂x entry by entry (the VJP of ones)."""
    with np.errstate(all="ignore"):
        return node._op.vjp(np.ones_like(out), tuple(xs), out, node._ctx, (True,))[0]


def _tensor_contributions(node: Any, g: Any, xs: list, out: Any) -> list:
    with np.errstate(all="ignore"):
        try:
            grads = node._op.vjp(np.asarray(g, dtype=np.float64), tuple(xs), out, node._ctx, (True,) * len(xs))
        except (ValueError, ZeroDivisionError, ArithmeticError, TypeError):
            return [np.full(np.shape(x), math.nan) for x in xs]
        return [np.zeros(np.shape(x)) if c is None else node._op.fit(np.asarray(c, dtype=np.float64), np.shape(x))
                for c, x in zip(grads, xs)]


def _seed(root: Any) -> Any:
    return np.ones_like(root.data, dtype=np.float64) if _is_tensor(root) else 1.0


def _backward(order: list, root: Any, values: dict, grad_given: dict, local_given: dict,
              names: dict | None = None) -> tuple[dict, dict, dict, dict]:
    """Reverse-mode pass at ``values``; the hand's gradients (``grad_given``) and local derivatives
    (``local_given``) replace the computed ones wherever the hand gives them.

    Returns each node's final gradient, each node's gradient as computed (before the hand's replaced it),
    each (node, input) local derivative as computed, and per node the terms of its gradient in words."""
    grads: dict = {root: _seed(root)}
    computed: dict = {}
    locals_computed: dict = {}
    terms: dict = {}
    for node in reversed(order):
        g = grads.get(node)
        if g is None:
            g = np.zeros(np.shape(node.data)) if _is_tensor(node) else 0.0
        computed[node] = g
        if node in grad_given:
            g = grad_given[node](g)
            grads[node] = g
        if node._op is None:
            continue
        xs = [values[x] for x in node._inputs]
        out = values[node]
        if _is_tensor(node):
            unary_elementwise = len(xs) == 1 and np.shape(xs[0]) == np.shape(out)
            if unary_elementwise:
                locals_computed[(node, 0)] = _elementwise_local(node, xs, out)
            if unary_elementwise and (node, 0) in local_given:
                contributions = [g * local_given[(node, 0)](locals_computed[(node, 0)])]
            else:
                contributions = _tensor_contributions(node, g, xs, out)
            words = [f"{node._op.name}ᵀ(grad {names[node]})" if names else ""] * len(xs)
        else:
            local = _local_scalar(node, xs, out)
            for i, d in enumerate(local):
                locals_computed[(node, i)] = d
                if (node, i) in local_given:
                    local[i] = local_given[(node, i)](d)
            contributions = [g * d for d in local]
            words = [f"({g:.6g})×({d:.6g})" for d in local]
        for child, c, w in zip(node._inputs, contributions, words):
            grads[child] = c if child not in grads else grads[child] + c
            terms.setdefault(child, []).append(w)
    return grads, computed, locals_computed, terms


def _replace(index: tuple | None, hand: Any, layout: str = "") -> Any:
    """A function that puts the hand's number (or array) into a computed value."""
    def put(computed: Any) -> Any:
        if index is None:
            return hand
        out = np.array(computed, dtype=np.float64, copy=True)
        out[index] = hand
        return out
    return put


def _align(hand: Any, exact: Any, name: str, node: Any, weight_layout: str) -> tuple[Any, str]:
    """The hand's array in the engine's layout (shape-checked), and a note when it had to be transposed."""
    if not isinstance(hand, np.ndarray) and not isinstance(exact, np.ndarray):
        return hand, ""
    hand = np.asarray(hand, dtype=np.float64)
    shape = np.shape(exact)
    if weight_layout == "in_out" and node._op is None and len(shape) == 2:
        if hand.shape == shape[::-1]:
            return hand.T, "as its transpose: weight_layout='in_out'"
    if hand.shape == shape:
        return hand, ""
    if hand.size == int(np.prod(shape)) and [n for n in hand.shape if n != 1] == [n for n in shape if n != 1]:
        return hand.reshape(shape), ""
    if hand.ndim == 2 and len(shape) == 2 and hand.shape == shape[::-1]:
        return hand.T, f"as its transpose: the engine's is {_shape(exact)}"
    raise TableError(f"verify: table entry {name!r} has shape {hand.shape}; expected the graph's {tuple(shape)}"
                     + ("; if your weights are (n_in, n_out), pass weight_layout='in_out'"
                        if node._op is None and len(shape) == 2 else ""))


def _within(hand: Any, reference: Any, decimals: int | None) -> bool:
    """Every entry of ``hand`` agrees with ``reference`` (see ``_tolerance``); equal infinities and nan for nan
    agree (inf − inf would be nan)."""
    h, r = np.asarray(hand, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    with np.errstate(all="ignore"):
        close = np.abs(h - r) <= _tolerance(h, r, decimals)
    return bool(np.all(close | (h == r) | (np.isnan(h) & np.isnan(r))))


def _largest(hand: Any, exact: Any) -> tuple[float, tuple | None]:
    with np.errstate(all="ignore"):
        diff = np.abs(np.asarray(hand, dtype=np.float64) - np.asarray(exact, dtype=np.float64))
    if diff.ndim == 0:
        return float(diff), None
    flat = np.where(np.isnan(diff), np.inf, diff)
    where = np.unravel_index(int(np.argmax(flat)), diff.shape)
    return float(diff[where]), tuple(int(i) for i in where)


def verify(table: Mapping | str | Path, model_or_graph: Any, decimals: int | None = None, lr: float | None = None,
           weight_layout: str = "out_in") -> Verification:
    """Check every entry of a hand-worked table against the graph whose root is ``model_or_graph``.

    ``table``: a dict (or the path of a JSON file) of name → number, optionally in sections ``forward`` /
    ``values`` / ``loss`` (a bare name is a value), ``backward`` / ``gradients`` (a bare name is a gradient)
    and ``after step``; top-level ``decimals`` (the tolerance for every entry) and ``lr`` (for ``after step``;
    else ``network.lr``); every other top-level field is metadata, shown and never interpreted.
    ``model_or_graph``: the root node (Value or Tensor), or an object with ``.loss``.

    Names, on any graph (labels are the nodes' ``label``; an unlabelled result is named by its short
    expression such as ``x*w``, as ``explain`` prints it):

    - ``<label>``: that node's value; ``grad <label>``, ``∂E/∂<label>``, ``dE/d<label>`` (E the root's
      label, or C): ∂root/∂node; ``∂<a>/∂<z>`` with z an input of a: the local derivative;
      ``<label> after step``: a leaf after one SGD step, label − lr·∂root/∂label.
    - the reports' names on ``nn`` graphs: ``yhat``, ``C``, ``delta[l]`` / ``deltaj[l]`` (∂C/∂z, a matrix on
      the Tensor engine), ``sigma_prime(zj[l])``; on Tensor graphs ``w01[1]`` is ``W[1][0, 1]`` and
      ``z0[1]`` is ``z[1][0, 0]`` for one sample.
    - a *bare* parameter name of ``nn`` (``w01[1]``, ``b0[2]``, ``W[1]``) outside a section means its
      gradient, as in the shipped table; any other bare leaf label is refused (value or gradient?) with
      both readings.

    Each entry is compared with the exact value and with the value recomputed from the hand's own entries
    (forward with the hand's values, backward with the hand's gradients and local derivatives). Tolerance:
    ½·10⁻ᵈ with d the decimals written (a JSON number keeps its digits; a float counts the decimals of its
    shortest fixed-point repr, 9e-05 → 5; JSON's 6.7598e9 its significant figures), or ``decimals`` / the
    table's ``decimals``; a whole number (0, -1) is exact up to float64 noise (12 decimals); a numpy number or
    array claims the decimals it was rounded to, and one left as computed (or a Python float written to all of
    float64's digits) is a float64 result: ARRAY_RTOL·|value| + ARRAY_ATOL·max|value|; each plus float64's
    rounding of the two numbers (``Entry.tolerance``). A nan or an infinity may be written "nan", "inf", "-inf"
    (strict JSON has no such numbers; ``worksheet(...).to_json()`` writes them so). A name is read as written
    (labels "a" and "a " are two names), else stripped. Sections are
    read whatever their case; a top-level dict holding numbers that is no section is refused. Verdict:
    "agrees" (within tolerance of the exact value), "agrees within hand rounding" (of the value from the
    hand's own entries), "wrong"; a None entry is "blank". Entries come back in the order the computation
    produces them, so ``first_wrong`` is the first wrong step. ``weight_layout="in_out"`` reads 2-D leaf arrays as
    (n_in, n_out), the layout of ``x @ W``. The graph's grads are not changed.
    """
    if decimals is not None:
        _check_decimals(decimals, "verify: decimals")
    if lr is not None:
        lr = _check_lr(lr, "verify: lr")
    if not isinstance(weight_layout, str) or weight_layout not in ("out_in", "in_out"):
        raise ValueError(f"verify: weight_layout must be 'out_in' (W is n_out × n_in, as nn and PyTorch store it) "
                         f"or 'in_out' (x @ W), got {weight_layout!r:.40}")
    loaded = _load_table(table)
    root = _graph_root(model_or_graph)
    order = topological_order(root)
    names = _Names(root, order)
    stated = decimals if decimals is not None else loaded.decimals
    if lr is None:
        lr = loaded.lr
    if lr is None and isinstance(getattr(model_or_graph, "lr", None), (int, float)) and \
            not isinstance(model_or_graph.lr, bool):  # a network built from a table (nn.from_hand_table) keeps its lr
        lr = _check_lr(model_or_graph.lr, "verify: the network's lr")

    exact_values = {node: node.data for node in order}
    exact_grads, _, exact_locals, _ = _backward(order, root, exact_values, {}, {})

    def exact_grad(node: Any) -> Any:
        return exact_grads.get(node)

    for key, v in list(loaded.metadata.items()):
        if isinstance(v, str):
            try:
                names_an_entry = names.resolve(_normal(key), "bare", exact_grad) is not None
            except TableError:
                names_an_entry = True
            if names_an_entry and v.strip().lower() in _NONFINITE_WORDS:  # "grad w": "nan", as JSON writes it
                loaded.entries.append(_RawEntry(_normal(key), *_entry_value(key, v), "bare", key))
                del loaded.metadata[key]
            elif names_an_entry or names.ambiguous(_normal(key)):  # "grad w": "99" from a CSV, say
                raise TypeError(f"verify: table entry {key!r} must be a number, got str: {v!r:.40}")
    targets: list[tuple[_RawEntry, _Target]] = []
    unknown = []
    for raw in loaded.entries:
        target = None
        if raw.written and raw.written != raw.name:  # "grad a " for a node labelled "a ", beside one labelled "a"
            target = names.resolve(raw.written, raw.reading, exact_grad)
            if target is not None:
                raw = replace(raw, name=raw.written)  # reported as written: report["grad a "] is that entry
        if target is None:
            target = names.resolve(raw.name, raw.reading, exact_grad)
        if target is None:
            unknown.append(raw.name)
        else:
            targets.append((raw, target))
    if not loaded.entries:  # else "no wrong step" would pass a table that checks nothing
        shown = f"{dict(loaded.metadata)!r:.120}" + (" (metadata only)" if loaded.metadata else "")
        raise TableError(f"verify: the table has no entries to check, got {shown}; expected name → number entries "
                         "such as {'z': -5.0, 'grad w': 0.0016}, at the top level or in 'forward' / 'backward' "
                         "sections")
    if unknown:
        known = names.known_names()
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
            shared = names.ambiguous(name)
            if shared:
                hints.append(f"{name!r} is ambiguous: " + "; ".join(
                    f"{len(names.by_name[label])} nodes are labelled {label!r}" for label in shared)
                    + " (give each its own label)")
            else:
                hints.append(f"{name!r} (closest: {', '.join(map(repr, close))})" if close else repr(name))
        shown = known if len(known) <= 60 else known[:60] + [f"... {len(known) - 60} more"]
        raise TableError(f"verify: the table names {unknown} match no single node of the graph: "
                         f"{'; '.join(hints)}; known names: {shown}")
    if lr is None and any(t.kind == "after step" for _, t in targets):
        raise TableError("verify: 'after step' entries need the learning rate: give the table an 'lr' "
                         "(or network.lr) or call verify(..., lr=...)")

    # The hand's numbers in the engine's layout.
    aligned: list[tuple[_RawEntry, _Target, Any, str]] = []
    for raw, t in targets:
        if raw.value is None:
            aligned.append((raw, t, None, ""))
            continue
        reference = _reference_shape(t, exact_values, exact_grads, exact_locals)
        hand, note = _align(raw.value, reference, raw.name, t.node, weight_layout)
        aligned.append((raw, t, hand, note))

    value_given: dict = {}
    grad_given: dict = {}
    local_given: dict = {}
    for _raw, t, hand, _ in aligned:
        if hand is None:
            continue
        given = {"value": value_given, "gradient": grad_given}.get(t.kind)
        if given is not None:
            given.setdefault(t.node, []).append(_replace(t.index, hand))
        elif t.kind == "local derivative":
            local_given.setdefault((t.node, t.position), []).append(_replace(t.index, hand))
    value_given = {n: _chain(fs) for n, fs in value_given.items()}
    grad_given = {n: _chain(fs) for n, fs in grad_given.items()}
    local_given = {k: _chain(fs) for k, fs in local_given.items()}

    # Forward with the hand's numbers wherever the table has them.
    hand_values: dict = {}
    forward_own: dict = {}
    auto = _node_names(order)
    for node in order:
        if node._op is None:
            own = node.data
            how = f"{node.data:g}" if not _is_tensor(node) else f"{auto[node]} as given"
        else:
            xs = [hand_values[x] for x in node._inputs]
            own = _apply_forward(node, xs)
            if _is_tensor(node):
                how = f"{node._op.name}({', '.join(auto[x] for x in node._inputs)})"
            else:
                how = f"{node._op.name}({', '.join(f'{x:.6g}' for x in xs)})"
        forward_own[node] = (own, how)
        hand_values[node] = value_given[node](own) if node in value_given else own

    hand_grads, grad_own, local_own, terms = _backward(order, root, hand_values, grad_given, local_given,
                                                    auto)

    position = {node: i for i, node in enumerate(order)}
    n = len(order)

    def completed_at(node: Any) -> int:
        """The backward step (counted from the root) after which ``node``'s gradient is complete."""
        consumers = names.consumers.get(node, [])
        return max((n - position[c] for c in consumers), default=0)

    entries: list[tuple[tuple, Entry]] = []
    for raw, t, hand, note in aligned:
        node, index = t.node, t.index
        if t.kind == "value":
            exact, (own, how) = node.data, forward_own[node]
            key: tuple = (0, position[node])
        elif t.kind == "gradient":
            exact, own = exact_grads.get(node, 0.0 * _seed(node)), grad_own[node]
            how = " + ".join(terms.get(node, [])) or ("the seed" if node is root else "0")
            key = (1, completed_at(node), 1)
        elif t.kind == "local derivative":
            exact, own = exact_locals.get((node, t.position), math.nan), local_own.get((node, t.position), math.nan)
            x = hand_values[node._inputs[t.position]]
            if _is_tensor(node):
                how = f"{node._op.name}' at your {auto[node._inputs[t.position]]}"
            elif len(node._inputs) == 1:
                how = f"{node._op.name}'({x:.6g})"
                out = hand_values[node]
                if node in value_given and _local_scalar(node, [x], out) != _local_scalar(
                        node, [x], _apply_forward(node, [x])):  # its derivative reads the output: the hand's
                    how += f" from your {auto[node]} = {out:.6g}"
            else:
                xs = ", ".join(f"{hand_values[c]:.6g}" for c in node._inputs)
                how = f"∂{node._op.name}({xs})/∂in{t.position}"
            key = (1, n - position[node], 0)
        else:  # after step
            exact = node.data - lr * exact_grads.get(node, 0.0 * _seed(node))
            own = hand_values[node] - lr * hand_grads.get(node, 0.0 * _seed(node))
            how = f"{_format_data(_pick(hand_values[node], index), 6)} − {lr:g}×" \
                  f"({_format_data(_pick(hand_grads.get(node, 0.0), index), 6)})"
            key = (2, position[node])
        exact, own = _pick(exact, index), _pick(own, index)
        if isinstance(exact, np.ndarray) and exact.ndim == 0:
            exact, own = float(exact), float(own)
        d = stated if stated is not None else raw.decimals  # a table-wide number wins over the digits written
        if hand is None:
            entry = Entry(raw.name, t.kind, None, exact, own, how, d, BLANK)
        else:
            if isinstance(hand, np.ndarray) and hand.ndim == 0:
                hand = float(hand)
            if _within(hand, exact, d):
                verdict = AGREES
            elif _within(hand, own, d):
                verdict = WITHIN_ROUNDING
            else:
                verdict = WRONG
            largest, where = _largest(hand, exact)
            if (verdict == WRONG and weight_layout == "out_in" and node._op is None and np.ndim(hand) == 2
                    and np.shape(hand)[0] == np.shape(hand)[1] and _within(np.transpose(hand), exact, d)):
                note = "its transpose agrees: if your weights are (n_in, n_out), pass weight_layout='in_out'"
            entry = Entry(raw.name, t.kind, hand, exact, own, how, d, verdict, largest, where, note)
        entries.append((key, entry))
    entries.sort(key=lambda pair: pair[0])  # stable: entries of one node keep the table's order
    return Verification([e for _, e in entries], loaded.metadata)


def _chain(functions: list) -> Any:
    def apply(x: Any) -> Any:
        for f in functions:
            x = f(x)
        return x
    return apply


def _pick(x: Any, index: tuple | None) -> Any:
    if index is None:
        return x
    return float(np.asarray(x)[index])


def _reference_shape(t: _Target, values: dict, grads: dict, locals_: dict) -> Any:
    if t.kind == "local derivative":
        ref = locals_.get((t.node, t.position), math.nan)
    elif t.kind == "gradient":
        ref = grads.get(t.node, values[t.node])
    else:
        ref = values[t.node]
    return _pick(ref, t.index) if t.index is not None else ref


# -- the network section of a table ----------------------------------------------------------------------

ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")
_ACTIVATION_ALIASES = {"linear": "identity", "none": "identity", "logistic": "sigmoid", "leakyrelu": "leaky_relu"}
LOSS_NAMES = ("half_sum", "mse", "sum")
_LOSS_ALIASES = {"half_sse": "half_sum", "mean": "mse", "sse": "sum"}


@dataclass(frozen=True)
class NetworkSection:
    """A table's network: ``sizes`` [n_in, hidden..., n_out], an activation per layer, the loss
    (``half_sum`` ½Σ(ŷ − y)², ``mse`` mean, ``sum`` Σ), weights ``W[l]`` (n_out × n_in, ``W[l][j, k]`` = w_jk)
    and biases, the sample, and the learning rate (or None)."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    inputs: np.ndarray
    targets: np.ndarray
    lr: float | None
    loss_label: str = "C"


def _number(v: Any, where: str) -> float:
    if v is None:
        raise ValueError(f"{where} is None; expected a number")
    if isinstance(v, bool) or not isinstance(v, (int, float, Decimal, np.integer, np.floating)):
        raise TypeError(f"{where} must be a number, got {type(v).__name__}: {v!r:.40}")
    try:
        x = float(v)
    except (OverflowError, InvalidOperation):
        x = math.inf
    if not math.isfinite(x):
        raise ValueError(f"{where} must be a finite number, got {str(v)[:40]}")
    return x


def _vector(v: Any, n: int, prefix: str, where: str) -> np.ndarray:
    """A sample as n numbers: a list, or a dict {prefix0: .., prefix1: ..} (x0, x1 / y0 or y)."""
    if isinstance(v, Mapping):
        keys = [f"{prefix}{k}" for k in range(n)]
        if n == 1 and prefix in v and f"{prefix}0" not in v:
            keys = [prefix]
        missing = [k for k in keys if k not in v]
        extra = [k for k in v if k not in keys]
        if missing or extra:
            raise ValueError(f"{where} must name {keys}; missing {missing}, unexpected {extra}")
        return np.array([_number(v[k], f"{where}.{k}") for k in keys])
    if isinstance(v, (list, tuple)):
        if len(v) != n:
            raise ValueError(f"{where} must hold {n} numbers (the layer size), got {len(v)}")
        return np.array([_number(x, f"{where}[{i}]") for i, x in enumerate(v)])
    if n == 1 and not isinstance(v, (str, bytes)) and v is not None and not isinstance(v, Mapping):
        return np.array([_number(v, where)])
    raise TypeError(f"{where} must be a list of {n} numbers or a dict of them, got {type(v).__name__}: {v!r:.40}")


def _legacy_to_general(net: Mapping) -> dict:
    """The shipped 2-2-1 layout (hidden / output sections of w_jk and b_j) in the general one."""
    parameters = {}
    sizes = []
    for l, section in enumerate(("hidden", "output"), start=1):
        part = net.get(section)
        if not isinstance(part, Mapping):
            raise TypeError(f"table: network.{section} must be a dict of w_jk and b_j, got "
                            f"{type(part).__name__}: {part!r:.40}")
        biases = [k for k in part if re.fullmatch(r"b\d+", str(k))]
        sizes.append(len(biases))
        for k, v in part.items():
            if not re.fullmatch(r"w\d+_?\d+|b\d+", str(k)):
                raise ValueError(f"table: network.{section} has {k!r}; expected weights w_jk (w01) and biases b_j")
            parameters[f"{k}[{l}]"] = v
    n_in = len(net["inputs"]) if isinstance(net.get("inputs"), (Mapping, list, tuple)) else 0
    # sigmoid and ½Σ(ŷ − y)² are the shipped table's; an "activations" or "loss" given beside them is used
    general = {"sizes": [n_in, *sizes], "activations": net.get("activations", ["sigmoid"] * 2),
               "loss": net.get("loss", "half_sum"), "parameters": parameters, "inputs": net.get("inputs")}
    if "targets" not in net and "label" not in net:
        raise ValueError("table: network has no 'label'; expected the sample's target, e.g. {\"y\": 1.0}")
    general["targets"] = net.get("targets", net.get("label"))
    for key in ("lr", "learning_rate_in_example"):
        if key in net:
            general["lr"] = net[key]
    return general


def read_network(table: Mapping | str | Path) -> NetworkSection:
    """The ``network`` section of a hand-worked table, checked (TypeError/ValueError naming the key).

    General form: ``{"sizes": [2, 2, 2], "activations": ["sigmoid", "sigmoid"] (one per layer, or one name
    for all), "loss": "half_sum", "parameters": {"w00[1]": 0.15, ..., "b0[1]": 0.35, ...},
    "inputs": [0.05, 0.1] (or {"x0": .., "x1": ..}), "targets": [0.01, 0.99] (or {"y": ..}), "lr": 0.5}``.
    Parameter names are the reports' (``w{j}{k}[l]`` from input k to neuron j of layer l, ``w{j}_{k}[l]``
    from 10 on, ``b{j}[l]``); every one the sizes call for must be given, once. The shipped 2-2-1 table's
    ``hidden`` / ``output`` sections are read too."""
    if isinstance(table, (str, Path)):
        table = _read_json(Path(table), "read_network")
    if not isinstance(table, Mapping):
        raise TypeError(f"a hand table must be a dict (or the path of a JSON file), got {type(table).__name__}: "
                        f"{table!r:.40}")
    if "network" not in table:
        raise ValueError(f"table has no 'network' section; expected one with sizes, activations, loss, "
                         f"parameters, inputs and targets (got a {type(table).__name__} with the keys "
                         f"{sorted(map(str, table))[:12]})")
    net = table["network"]
    if not isinstance(net, Mapping):
        raise TypeError(f"table: network must be a dict, got {type(net).__name__}: {net!r:.40}")
    if "sizes" not in net and ("hidden" in net or "output" in net):
        if "inputs" not in net:
            raise ValueError("table: network has no 'inputs'; expected the sample, e.g. {\"x0\": 0.5, \"x1\": -1.5}")
        net = _legacy_to_general(net)
    for key in ("sizes", "parameters", "inputs", "targets"):
        if key not in net or net[key] is None:
            raise ValueError(f"table: network has no {key!r}; expected sizes, activations, loss, parameters, "
                             f"inputs and targets (got {sorted(map(str, net))})")
    sizes = net["sizes"]
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2 or any(
            isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 100_000 for n in sizes):
        raise ValueError(f"table: network.sizes must be a list of at least two layer sizes (ints from 1 to "
                         f"100000), got {sizes!r:.60}")
    layers = len(sizes) - 1
    acts = net.get("activations", "sigmoid")
    acts = [acts] * layers if isinstance(acts, str) else acts
    if not isinstance(acts, (list, tuple)) or len(acts) != layers:
        raise ValueError(f"table: network.activations must be one name or one per layer ({layers}), got {acts!r:.60}")
    activations = []
    for i, a in enumerate(acts):
        key = _ACTIVATION_ALIASES.get(str(a).strip().lower(), str(a).strip().lower()) if isinstance(a, str) else a
        if key not in ACTIVATION_NAMES:
            raise ValueError(f"table: network.activations[{i}] is {a!r:.40}; expected one of {list(ACTIVATION_NAMES)}")
        activations.append(key)
    loss_spec = net.get("loss", "half_sum")
    loss_label = "C"
    if isinstance(loss_spec, Mapping):
        loss_label = loss_spec.get("label", "C")
        if not isinstance(loss_label, str) or not loss_label:
            raise TypeError(f"table: network.loss.label must be a non-empty string, got {loss_label!r:.40}")
        loss_spec = loss_spec.get("name", "half_sum")
    loss = _LOSS_ALIASES.get(str(loss_spec).strip().lower(), str(loss_spec).strip().lower()) \
        if isinstance(loss_spec, str) else loss_spec
    if loss not in LOSS_NAMES:
        raise ValueError(f"table: network.loss is {loss_spec!r:.40}; expected one of {list(LOSS_NAMES)} "
                         "(half_sum: ½Σ(ŷ − y)², mse: the mean, sum: Σ)")
    params = net["parameters"]
    if not isinstance(params, Mapping):
        raise TypeError(f"table: network.parameters must be a dict of name → number, got "
                        f"{type(params).__name__}: {params!r:.40}")
    weights = [np.full((sizes[l + 1], sizes[l]), np.nan) for l in range(layers)]
    biases = [np.full(sizes[l + 1], np.nan) for l in range(layers)]
    given: dict[tuple, str] = {}  # (layer, "w" or "b", indices) -> the name that gave it

    def once(key: tuple, name: str) -> None:
        if key in given:
            raise ValueError(f"table: network.parameters gives the same parameter twice, as {given[key]!r} and "
                             f"{name!r}; expected each once")
        given[key] = name

    for name, v in params.items():
        where = f"table: network.parameters[{name!r:.40}]"
        m = WEIGHT_LABEL.match(str(name)) if isinstance(name, str) else None
        b = NEURON_LABEL.match(str(name)) if isinstance(name, str) else None
        if m:
            j, k, l = m.groups()
            if k is None:
                if len(j) != 2:
                    raise ValueError(f"{where}: write w{{j}}_{{k}}[l] when an index has more than one digit "
                                     f"(w1_10[1]); {name!r} is ambiguous")
                j, k = j[0], j[1]
            j, k, l = int(j), int(k), int(l)
            if not 1 <= l <= layers or j >= sizes[l] or k >= sizes[l - 1]:
                raise ValueError(f"{where} names no weight of a {'-'.join(map(str, sizes))} network "
                                 f"(layer {l}: neuron j < {sizes[l] if 1 <= l <= layers else '?'}, input k < "
                                 f"{sizes[l - 1] if 1 <= l <= layers else '?'})")
            once((l, "w", j, k), name)
            weights[l - 1][j, k] = _number(v, where)
        elif b and b.group(1) == "b":
            j, l = int(b.group(2)), int(b.group(3))
            if not 1 <= l <= layers or j >= sizes[l]:
                raise ValueError(f"{where} names no bias of a {'-'.join(map(str, sizes))} network")
            once((l, "b", j), name)
            biases[l - 1][j] = _number(v, where)
        else:
            raise ValueError(f"{where}: expected a weight w{{j}}{{k}}[l] or a bias b{{j}}[l] (the reports' names)")
    missing = [f"w{j}{k}[{l + 1}]" if j < 10 and k < 10 else f"w{j}_{k}[{l + 1}]"
               for l, W in enumerate(weights) for j, k in zip(*np.nonzero(np.isnan(W)))]
    missing += [f"b{j}[{l + 1}]" for l, bias in enumerate(biases) for j in np.nonzero(np.isnan(bias))[0]]
    if missing:
        expected = sum(W.size for W in weights), sum(bias.size for bias in biases)
        raise ValueError(f"table: network.parameters is missing {missing[:10]}{' ...' if len(missing) > 10 else ''} "
                         f"({len(missing)} in all); a {'-'.join(map(str, sizes))} network has {expected[0]} weights "
                         f"and {expected[1]} biases")
    inputs = _vector(net["inputs"], sizes[0], "x", "table: network.inputs")
    targets = _vector(net["targets"], sizes[-1], "y", "table: network.targets")
    lr = None
    for key in ("lr", "learning_rate_in_example"):
        if key in net:
            lr = _check_lr(net[key], f"table: network.{key}")
            break
    return NetworkSection(tuple(sizes), tuple(activations), loss, tuple(weights), tuple(biases), inputs, targets,
                          lr, loss_label)
