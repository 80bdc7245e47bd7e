"""Networks: micrograd-style ``Neuron`` and ``Layer`` on Values, and ``MLP`` for any engine.

Names follow the lab reports (layer l counts from 1 at the first hidden layer):

- ``w{j}{k}[l]``: the weight from input k to neuron j of layer l (w₀₁⁽¹⁾ is ``w01[1]``);
  when j or k is 10 or more an underscore keeps the name unambiguous: ``w3_12[2]``;
- ``b{j}[l]``: the bias of neuron j of layer l;
- ``z{j}[l]`` and ``a{j}[l]``: the labels of neuron j's pre-activation node (one
  ``autograd.dot`` node) and activation node, so a drawing can group nodes by neuron and layer.

The engine is chosen in one place, :data:`ENGINES`: an entry says how to build
one dense layer from its weight arrays and how to run a forward pass. Two are
registered here:

- ``"value"``: ``Layer`` of ``Neuron`` s, one ``Value`` per weight (named as above), one
  graph per sample. Slow, but every weight and activation is a node you can draw and explain.
- ``"tensor"``: ``Linear``, a layer whose parameters are two ``Tensor`` s, ``W[l]`` (n_out, n_in)
  with ``W[l][j, k]`` = w_jk of layer l, and ``b[l]`` (n_out,); a batch goes through as one
  ``autograd.linear`` node (X Wᵀ + b) and one activation node per layer. The fast one, for training.

Both build their layers from the arrays of ``nn.init.init_mlp``, so the same spec and seed give
the same weights on either engine (identical ``state_dict`` s).
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd import Tensor, Value, dot, linear, read_network

from .activations import Activation, get_activation
from .init import Seed, init_mlp
from .module import Module, float_array


def per_sample_array(x: Any, what: str) -> np.ndarray:
    """``x`` as an array with one entry (a label, a row) per sample, dtype kept; TypeError/ValueError naming
    ``what`` for strings, None, ragged lists, non-numbers or a single number."""
    if float_array(x, what).ndim == 0:
        raise ValueError(f"{what} must be an array with one entry per sample, got a single "
                         f"{type(x).__name__}: {x!r:.40}")
    return np.asarray(x)


def _check_indices(what: str, **indices: Any) -> None:
    for name, n in indices.items():  # l counts layers from 1, j and k neurons and inputs from 0
        least = 1 if name == "l" else 0
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < least:
            raise ValueError(f"{what}: {name} must be an int >= {least}, got {n!r:.40}")


def weight_name(j: int, k: int, l: int) -> str:
    """``w{j}{k}[l]``, or ``w{j}_{k}[l]`` when j or k has two or more digits."""
    _check_indices("weight_name", j=j, k=k, l=l)
    return f"w{j}{k}[{l}]" if j < 10 and k < 10 else f"w{j}_{k}[{l}]"


def bias_name(j: int, l: int) -> str:
    """``b{j}[l]``."""
    _check_indices("bias_name", j=j, l=l)
    return f"b{j}[{l}]"


class Neuron(Module):
    """One neuron on Values: z = Σₖ wₖ xₖ + b (one ``autograd.dot`` node), a = f(z).

    ``Neuron([0.1, -0.2], bias=0.0, activation="sigmoid", j=0, l=1)`` holds
    ``w00[1]``, ``w01[1]`` (the tuple ``w``) and ``b0[1]`` (``b``); ``bias=None`` leaves the bias out.
    """

    def __init__(self, weights: Sequence[float], bias: float | None = 0.0,
                 activation: str | Activation | None = "identity", j: int = 0, l: int = 1):
        _check_indices("Neuron", j=j, l=l)
        self.j, self.l = int(j), int(l)
        if float_array(weights, "Neuron weights").ndim != 1:
            raise ValueError(f"Neuron weights must be a 1-D sequence of numbers (one per input), got "
                             f"{type(weights).__name__}: {weights!r:.40}")
        try:
            # A tuple, not a list: autograd.dot takes a tuple as it is, where a list is copied on every call
            self.w = tuple(Value(w, weight_name(self.j, k, self.l)) for k, w in enumerate(weights))
        except (TypeError, ValueError) as error:  # e.g. a datetime64 that numpy converts and Value does not
            raise type(error)(f"Neuron weights must be real numbers: {error}") from None
        if not self.w:
            raise ValueError("Neuron weights must hold at least one weight, got an empty sequence")
        try:
            self.b = None if bias is None else Value(bias, bias_name(self.j, self.l))
        except (TypeError, ValueError) as error:
            raise type(error)(f"Neuron bias must be a real number or None: {error}") from None
        self.activation = get_activation(activation)
        # Labels are made once here: forward runs thousands of times per epoch.
        self._z_label = f"z{self.j}[{self.l}]"
        self._a_label = f"a{self.j}[{self.l}]"
        self._named = [(w.label, w) for w in self.w] + ([] if self.b is None else [(self.b.label, self.b)])

    def _own_parameters(self) -> list[tuple[str, Value]]:
        return self._named

    # A neuron on its own has one entry per weight, named as Layer names its neurons' weights (a Layer gathers
    # them into its W[l] and b[l] instead).
    def _own_state(self) -> dict[str, np.ndarray]:
        return {name: np.array(p.data, dtype=np.float64) for name, p in self._named}

    def _own_grads(self) -> dict[str, np.ndarray]:
        return {name: np.array(p.grad, dtype=np.float64) for name, p in self._named}

    def _load_own_state(self, state) -> None:
        for name, p in self._named:
            p.data = float(state[name])

    def preactivation(self, x: Sequence[Value | float]) -> Value:
        """z = w·x + b as one node labelled ``z{j}[l]``."""
        z = dot(self.w, x, self.b)
        z.label = self._z_label
        return z

    def forward(self, x: Sequence[Value | float]) -> Value:
        """a = f(w·x + b), labelled ``a{j}[l]`` (with the identity, a is z itself)."""
        z = dot(self.w, x, self.b)
        z.label = self._z_label
        a = self.activation(z)
        if a is not z:
            a.label = self._a_label
        return a

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)} inputs, {self.activation!r}, bias={self.b is not None}, j={self.j}, l={self.l})"


class _Dense(Module):
    """What ``Layer`` (Values) and ``Linear`` (Tensor) share: built from sizes (weights drawn by ``nn.init``)
    or from arrays, checked alike; each engine's ``_build(W, b)`` turns the arrays into its parameters."""

    def __init__(self, n_in: int, n_out: int, activation: str | Activation | None = "identity", bias: bool = True,
                 index: int = 1, init: str = "normal", seed: Seed = None):
        (W, b), = init_mlp([_positive_int(n_in, "n_in"), _positive_int(n_out, "n_out")], init, seed, bias)
        self._setup(W, b, activation, index)

    @classmethod
    def from_arrays(cls, W: np.ndarray, b: np.ndarray | None, activation: str | Activation | None,
                    index: int) -> _Dense:
        """A layer holding copies of ``W`` (n_out, n_in) and ``b`` (n_out,) or None: ``W[j, k]`` is the
        reports' w_jk of layer ``index``."""
        layer = cls.__new__(cls)
        name = cls.__name__
        layer._setup(float_array(W, f"{name} W"), None if b is None else float_array(b, f"{name} b"), activation,
                     index)
        return layer

    def _setup(self, W: np.ndarray, b: np.ndarray | None, activation: str | Activation | None, index: int) -> None:
        if W.ndim != 2 or W.size == 0 or (b is not None and b.shape != (W.shape[0],)):
            raise ValueError(f"{type(self).__name__} needs W of shape (n_out, n_in) (n_out, n_in >= 1) and b of "
                             f"shape (n_out,), got W {W.shape} and b {None if b is None else b.shape}")
        self.index = _positive_int(index, "index")
        self.n_out, self.n_in = W.shape
        if isinstance(activation, (bool, np.bool_)):  # Linear(2, 3, False): PyTorch's third argument is bias
            raise TypeError(f"{type(self).__name__}'s third argument is the activation (a name such as 'relu', or "
                            f"None), got {activation!r}; for a layer without bias write bias={activation!r}")
        self.activation = get_activation(activation)
        self._build(W, b)

    def _build(self, W: np.ndarray, b: np.ndarray | None) -> None:
        raise NotImplementedError

    def _entry_name(self, name: str, positional: bool) -> str:
        # inside a Sequential, PyTorch's names: the Sequential's "{i}." prefix tells the layers apart
        return {f"W[{self.index}]": "weight", f"b[{self.index}]": "bias"}.get(name, name) if positional else name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.n_in} -> {self.n_out}, {self.activation!r}, bias={self.bias})"


class Layer(_Dense):
    """A dense layer of ``n_out`` neurons on Values, each seeing all ``n_in`` inputs.

    ``Layer(2, 16, activation="relu", index=1, init="normal", seed=0)`` draws
    its weights with ``nn.init``; ``Layer.from_arrays(W, b, activation, index)``
    takes them (W of shape (n_out, n_in), b of shape (n_out,) or None):
    ``W[j, k]`` becomes ``w{j}{k}[index]``, ``b[j]`` becomes ``b{j}[index]``.
    """

    _state_holds_children = True  # W[l] and b[l] gather the neurons' weights

    def _build(self, W: np.ndarray, b: np.ndarray | None) -> None:
        # A whole-layer activation (softmax) is applied by the layer; elementwise ones by each neuron.
        per_neuron = self.activation if self.activation.elementwise else get_activation("identity")
        self.neurons = [Neuron(W[j].tolist(), None if b is None else float(b[j]), per_neuron, j, self.index)
                        for j in range(self.n_out)]

    @property
    def bias(self) -> bool:
        return self.neurons[0].b is not None

    def forward(self, x: Sequence[Value | float]) -> list[Value]:
        """The layer's activations for one sample ``x`` (n_in Values or numbers)."""
        if type(x) is not tuple:  # converted once here, not once per neuron inside autograd.dot
            x = tuple(x)
        if self.activation.elementwise:
            return [n(x) for n in self.neurons]
        outputs = self.activation([n.preactivation(x) for n in self.neurons])
        for n, a in zip(self.neurons, outputs):
            a.label = n._a_label
        return outputs

    def _own_state(self) -> dict[str, np.ndarray]:
        state = {f"W[{self.index}]": np.array([[w.data for w in n.w] for n in self.neurons], dtype=np.float64)}
        if self.bias:
            state[f"b[{self.index}]"] = np.array([n.b.data for n in self.neurons], dtype=np.float64)
        return state

    def _own_grads(self) -> dict[str, np.ndarray]:
        grads = {f"W[{self.index}]": np.array([[w.grad for w in n.w] for n in self.neurons], dtype=np.float64)}
        if self.bias:
            grads[f"b[{self.index}]"] = np.array([n.b.grad for n in self.neurons], dtype=np.float64)
        return grads

    def _load_own_state(self, state) -> None:
        W = state[f"W[{self.index}]"]
        for n, row in zip(self.neurons, W.tolist()):
            for w, value in zip(n.w, row):
                w.data = value
        if self.bias:
            for n, value in zip(self.neurons, state[f"b[{self.index}]"].tolist()):
                n.b.data = value

class Linear(_Dense):
    """A dense layer on the Tensor engine: a = f(x Wᵀ + b) for a batch x (n, n_in) or one sample (n_in,).

    ``Linear(2, 16, activation="relu", index=1, init="normal", seed=0)`` draws its
    weights with ``nn.init`` (the same numbers ``Layer`` would hold);
    ``Linear.from_arrays(W, b, activation, index)`` takes them. Its parameters are
    the Tensors ``W[index]`` of shape (n_out, n_in), ``W[index][j, k]`` being the
    reports' w_jk, and ``b[index]`` of shape (n_out,) (absent with ``bias=False``).
    """

    def _build(self, W: np.ndarray, b: np.ndarray | None) -> None:
        self.W = Tensor(W, f"W[{self.index}]", requires_grad=True)  # Tensor(...) copies: the caller's arrays stay
        self.b = None if b is None else Tensor(b, f"b[{self.index}]", requires_grad=True)
        # keyed by the layer's index, not by the labels (which are the user's to change, for drawings)
        self._named = [(f"W[{self.index}]", self.W)] + ([] if self.b is None else [(f"b[{self.index}]", self.b)])
        self._z_label, self._a_label = f"z[{self.index}]", f"a[{self.index}]"

    @property
    def bias(self) -> bool:
        return self.b is not None

    def _own_parameters(self) -> list[tuple[str, Tensor]]:
        return self._named

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        """f(x Wᵀ + b): the pre-activation is one ``autograd.linear`` node labelled ``z[l]``, the result ``a[l]``."""
        z = linear(x, self.W, self.b)
        z.label = self._z_label
        a = self.activation(z)
        if a is not z:
            a.label = self._a_label
        return a

    def _own_state(self) -> dict[str, np.ndarray]:
        return {name: np.array(p.data, dtype=np.float64) for name, p in self._named}  # float64 copies, any dtype

    def _own_grads(self) -> dict[str, np.ndarray]:
        # A Tensor's grad is None before its first backward and a placeholder zero after zero_grad()
        return {name: np.array(p.grad, dtype=np.float64) if isinstance(p.grad, np.ndarray) else
                np.zeros(p.data.shape) for name, p in self._named}

    def _load_own_state(self, state) -> None:
        # Rebind (not write in place), as the optimizers do: arrays taken from .data earlier stay as they were;
        # each parameter keeps its dtype (a float32 layer stays float32).
        for name, p in self._named:
            p.data = np.array(state[name], dtype=p.data.dtype)

# -- engines -------------------------------------------------------------------------


@dataclass(frozen=True)
class Engine:
    """How one engine builds and runs an MLP.

    ``make_layer(W, b, activation, index)`` builds dense layer ``index`` from
    float64 arrays; ``forward(model, x)`` runs the model's layers on ``x``;
    ``as_input(X)`` turns a float64 batch (n, d) into what ``forward`` takes
    best, so a training loop converts its data once, not every epoch.
    """

    name: str
    make_layer: Callable[[np.ndarray, np.ndarray | None, Activation, int], Module]
    forward: Callable[[MLP, Any], Any]
    description: str = ""
    as_input: Callable[[np.ndarray], Any] = np.asarray


#: The engines MLP can be built on, by name.
ENGINES: dict[str, Engine] = {}


def register_engine(engine: Engine) -> None:
    """Make ``MLP(..., engine=engine.name)`` build on ``engine``."""
    if not isinstance(engine, Engine):
        raise TypeError(f"register_engine expects an nn.layers.Engine, got {type(engine).__name__}")
    ENGINES[engine.name] = engine


def get_engine(name: str) -> Engine:
    """The registered engine called ``name``; ValueError listing the supported ones otherwise."""
    if isinstance(name, str) and name in ENGINES:
        return ENGINES[name]
    raise ValueError(f"engine {name!r} is not supported; supported engines: "
                     f"{', '.join(repr(n) for n in sorted(ENGINES))}")


def _is_batch(x: Any) -> bool:
    if isinstance(x, np.ndarray):
        if x.ndim not in (1, 2):
            raise ValueError(f"MLP input must be one sample (1-D) or a batch (2-D, n x d), got an array of shape "
                             f"{x.shape}")
        return x.ndim == 2
    if isinstance(x, (list, tuple)) and x:
        return isinstance(x[0], (list, tuple, np.ndarray))
    raise TypeError(f"MLP input must be a sequence of numbers (one sample) or of rows (a batch), "
                    f"got {type(x).__name__}: {x!r}")


def _value_forward(model: MLP, x: Any) -> Any:
    """One sample -> its outputs (a Value when the net has one output, else a list);
    a batch (n x d) -> the list of those, one per row."""
    if not _is_batch(x):
        return _value_forward_one(model, x)
    rows = x.tolist() if isinstance(x, np.ndarray) else x
    return [_value_forward_one(model, row) for row in rows]


def _value_forward_one(model: MLP, row: Any) -> Value | list[Value]:
    if isinstance(row, np.ndarray):
        row = row.tolist()
    if len(row) != model.n_in:
        raise ValueError(f"MLP expects {model.n_in} input features per sample, got {len(row)}: {row!r:.40}")
    try:
        h = [v if isinstance(v, Value) else Value(v, label) for v, label in zip(row, model._input_labels)]
    except (TypeError, ValueError) as error:
        raise type(error)(f"MLP input: {error}") from None
    for layer in model.layers:
        h = layer(h)
    return h[0] if model.n_out == 1 else h


register_engine(Engine("value", Layer.from_arrays, _value_forward,
                       "scalar autograd.Value graph: every weight, input and activation is a node"))


def _tensor_input(x: Any) -> Tensor:
    """A batch (n, d) or one sample (d,) as a constant float64 Tensor (a Tensor is used as is)."""
    if type(x) is Tensor:
        return x
    if isinstance(x, (np.ndarray, list, tuple)):
        try:
            array = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            array = None
        if array is not None and array.ndim in (1, 2):
            return Tensor(array)
    shape = f" of shape {np.shape(x)}" if isinstance(x, np.ndarray) else f": {x!r}"
    raise ValueError(f"MLP input must be one sample (1-D) or a batch (2-D, n x d) of numbers, got "
                     f"{type(x).__name__}{shape}")


def _tensor_forward(model: MLP, x: Any) -> Tensor:
    """A batch (n x d) -> its outputs, a Tensor (n, n_out); one sample (d,) -> a Tensor (n_out,)."""
    x = _tensor_input(x)
    if x.ndim not in (1, 2) or x.shape[-1] != model.n_in:
        raise ValueError(f"MLP expects {model.n_in} input features per sample (a Tensor of shape (n, {model.n_in}) "
                         f"or ({model.n_in},)), got shape {x.shape}")
    for layer in model.layers:
        x = layer(x)
    return x


register_engine(Engine("tensor", Linear.from_arrays, _tensor_forward,
                       "batched autograd.Tensor graph: one linear node and one activation node per layer",
                       as_input=_tensor_input))


# -- MLP ----------------------------------------------------------------------------


MAX_SIZE = 10**8  # a layer wider than this is a typo (its weights alone would fill the memory)


def _positive_int(n: Any, what: str) -> int:
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or not 1 <= n <= MAX_SIZE:
        raise ValueError(f"{what} must be a positive int (at most {MAX_SIZE:.0e}), got {n!r}")
    return int(n)


class MLP(Module):
    """A multi-layer perceptron: ``MLP(n_in, hidden, n_out, activations=[...])``.

    ``MLP(2, [16, 16], 1, activations=["relu", "sigmoid", "sigmoid"], init="normal", seed=0)``
    is the seed report's 2-16-16-1 network. ``activations`` gives one activation
    per layer (hidden layers then the output; default ReLU on hidden layers,
    identity on the output): "sigmoid", "tanh", "relu", "leaky_relu", "identity",
    "softmax" or an ``Activation``. Weights come from ``nn.init.init_mlp(sizes, init, seed, bias)``.

    ``engine`` is ``"value"`` (the default: scalar nodes named ``w01[1]``, for drawing
    and explaining) or ``"tensor"`` (``W[1]``, ``b[1]`` Tensors; the fast one, for
    training); ``model.to("tensor")`` copies a model onto the other engine.

    Calling the model on one sample gives its output (Value engine: a Value for a
    single-output net, else a list of Values; Tensor engine: a Tensor (n_out,));
    on a batch (n x d) it gives one such output per row (Tensor engine: one
    Tensor (n, n_out)).
    """

    def __init__(self, n_in: int, hidden: Sequence[int] | int, n_out: int,
                 activations: Sequence[str | Activation | None] | None = None, bias: bool = True,
                 init: str = "normal", seed: Seed = 0, engine: str = "value"):
        self._configure(n_in, hidden, n_out, activations, bias, init, seed, engine)
        self._make_layers(init_mlp(self.sizes, init, seed, bias))

    def _configure(self, n_in: int, hidden: Sequence[int] | int, n_out: int,
                   activations: Sequence[str | Activation | None] | None, bias: bool, init: str, seed: Seed,
                   engine: str) -> None:
        """Check and keep the constructor's arguments (``init_mlp`` checks ``init`` and ``seed``)."""
        self._engine = get_engine(engine)
        if isinstance(hidden, numbers.Integral):
            hidden = [hidden]
        elif isinstance(hidden, (list, tuple, range)):
            hidden = list(hidden)
        else:
            raise TypeError(f"hidden must be an int or a list of ints (one size per hidden layer, e.g. [16, 16]), "
                            f"got {type(hidden).__name__}: {hidden!r:.40}")
        self.n_in = _positive_int(n_in, "n_in")
        self.hidden = [_positive_int(h, "each hidden layer size") for h in hidden]
        self.n_out = _positive_int(n_out, "n_out")
        n_layers = len(self.hidden) + 1
        if activations is None:
            activations = ["relu"] * len(self.hidden) + ["identity"]
        elif not isinstance(activations, (list, tuple)) or len(activations) != n_layers:
            raise ValueError(f"activations must list one activation per layer ({n_layers}: {len(self.hidden)} hidden "
                             f"+ output), got {activations!r}")
        acts = [get_activation(a) for a in activations]
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        self._spec = dict(n_in=self.n_in, hidden=list(self.hidden), n_out=self.n_out, activations=acts,
                          bias=bias, init=init, seed=seed)

    def _make_layers(self, weights: Sequence[tuple[np.ndarray, np.ndarray | None]]) -> None:
        """Layer l from ``weights[l - 1]`` = (W[l], b[l]), on this model's engine."""
        self.layers = [self._engine.make_layer(W, b, act, l)
                       for l, ((W, b), act) in enumerate(zip(weights, self._spec["activations"]), start=1)]
        self._input_labels = [f"x{k}" for k in range(self.n_in)]  # after init_mlp has refused absurd sizes

    @property
    def engine(self) -> str:
        """The name of the engine this model runs on."""
        return self._engine.name

    @property
    def sizes(self) -> list[int]:
        """[n_in, hidden..., n_out]."""
        return [self.n_in, *self.hidden, self.n_out]

    @property
    def activations(self) -> list[Activation]:
        """One activation per layer."""
        return list(self._spec["activations"])

    def spec(self) -> dict:
        """The constructor arguments (without the engine), the activations as copies: ``MLP(**model.spec(),
        engine=...)`` rebuilds the architecture (sizes, activations, bias, init), sharing nothing with this model.
        It rebuilds the initial weights only when ``seed`` is an int (a Generator has moved on since, None draws
        fresh ones), and never trained ones: ``to()`` or ``state_dict()`` copy those."""
        return dict(self._spec, hidden=list(self.hidden),
                    activations=[copy.copy(a) for a in self._spec["activations"]])

    def forward(self, x: Any) -> Any:
        return self._engine.forward(self, x)

    def to(self, engine: str) -> MLP:
        """A new MLP of the same spec on ``engine`` holding copies of these weights, in this model's mode
        (``training``); it shares nothing with this one and draws no random numbers (a seed Generator is left
        where it was)."""
        other = MLP.__new__(MLP)
        spec = self.spec()
        spec["seed"] = copy.deepcopy(spec["seed"])  # a Generator: the new model's own
        other._configure(**spec, engine=engine)
        state = self.state_dict()
        other._make_layers([(state[f"W[{l}]"], state.get(f"b[{l}]")) for l in range(1, len(self.layers) + 1)])
        return other.train(self.training)

    @classmethod
    def from_hand_table(cls, table: dict | str | None = None, engine: str = "value") -> MLP:
        """The network of a hand-worked table's ``network`` section (any sizes; see ``autograd.read_network``),
        with the table's weights; ``autograd/data/hand_derivation_2-2-1.json`` by default.
        ``nn.from_hand_table`` also builds the table's loss graph, for ``autograd.verify``."""
        if table is None:
            from autograd.worked_example import load_hand_table
            table = load_hand_table()
        section = read_network(table)
        model = cls(section.sizes[0], list(section.sizes[1:-1]), section.sizes[-1],
                    activations=list(section.activations), engine=engine)
        state = {}
        for l, (W, b) in enumerate(zip(section.weights, section.biases), start=1):
            state[f"W[{l}]"], state[f"b[{l}]"] = W, b
        model.load_state_dict(state)
        return model

    def __repr__(self) -> str:
        arrows = " -> ".join(str(n) for n in self.sizes)
        lines = [f"MLP({arrows}, engine={self.engine!r}, {self.num_parameters()} parameters)"]
        lines += [f"  ({l}): {layer!r}" for l, layer in enumerate(self.layers, start=1)]
        return "\n".join(lines)
