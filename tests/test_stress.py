"""Trust under stress (issue 6, items 1, 3 and 5): junk fed to every public entry of autograd and nn,
numerical edge cases on both engines, and memory over long runs.

1. Every public constructor and function gets junk (strings, None, nested lists, nan, inf, wrong shapes,
   empty arrays, 0-sample data, labels out of range, 3 features into a 2-input net, ...), each argument in
   turn: only TypeError or ValueError (or a documented subclass) may come out, and for a representative
   subset the message names the argument, what was received and what was expected. The number of cases
   tried is printed at the end of the module (``-s`` or the terminal summary shows it).
3. sigmoid, tanh, softplus, BCE and cross-entropy at ±1e3 and ±1e6 on both engines: finite values and
   gradients where the maths has them, equal to closed forms, with numpy warnings turned into errors.
5. Long runs keep memory flat (tracemalloc), and a graph is freed after backward unless kept.
"""

from __future__ import annotations

import collections
import fractions
import math
import os
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import junk

import autograd
import nn
import nn.plot
from autograd import Tensor, Value
from autograd.check import numerical_gradient
from nn import data as datasets
from nn import init as nninit
from nn import losses, optim
from nn.layers import Layer, Neuron
from nn.numpy_reference import NumpyMLP

ALLOWED = (TypeError, ValueError)  # DomainError, AnomalyError, ModelFileError, ... are ValueErrors

# -- 1. junk everywhere ---------------------------------------------------------------------------------------

COUNTS: collections.Counter = collections.Counter()

#: The named cases of the issue, tried at every entry (hypothesis adds random junk on top).
CLASSIC = [
    "abc", "", None, [[1.0, 2.0], [3.0]], [[[1.0]]], [1.0, "x"], math.nan, math.inf, -math.inf, -1, 0, 2**1100,
    True, 1j, [], (), {}, b"xy", np.zeros(0), np.zeros((0, 2)), np.zeros((3, 3)), np.ones((2, 2, 2)),
    np.array(["a", "b"]), np.array([math.nan, 1.0]), np.array([[math.inf, 0.0]]), np.full((4, 2), 7.0),
    object(), len,
]
XOR_X, XOR_Y = datasets.generate_XOR_easy()
X2, Y2 = XOR_X[:6], XOR_Y[:6]


def value_model() -> nn.MLP:
    return nn.MLP(2, [2], 1, activations=["sigmoid", "sigmoid"], seed=0)


def leaf() -> Value:
    return Value(0.5, "x")


def small_graph() -> Value:
    x, w = Value(0.5, "x"), Value(-1.0, "w")
    out = (x * w).sigmoid()
    out.backward()
    return out


def tensor_leaf() -> Tensor:
    return Tensor([[0.5, -1.0], [2.0, 0.25]], "t", requires_grad=True)


# (id, call with the junk x, argument the message must name or None)
SITES: list[tuple[str, Callable, str | None]] = [
    # autograd: scalar engine
    ("Value(data)", lambda x: Value(x), "Value expects a real number"),
    ("Value(label)", lambda x: Value(1.0, label=x), "label"),
    ("Value + x", lambda x: leaf() + x, None),
    ("x * Value", lambda x: x * leaf(), None),
    ("Value / x", lambda x: leaf() / x, None),
    ("Value ** x", lambda x: leaf() ** x, None),
    # Fraction.__pow__ runs first and does float(x) ** other itself (Python's, not ours): skipped
    ("x ** Value", lambda x: None if isinstance(x, fractions.Fraction) else x ** leaf(), None),
    ("Value.leaky_relu(slope)", lambda x: leaf().leaky_relu(x), "slope"),
    ("dot(weights)", lambda x: autograd.dot(x, [1.0]), "weights"),
    ("dot(inputs)", lambda x: autograd.dot([1.0], x), "inputs"),
    ("dot(bias)", lambda x: autograd.dot([1.0], [2.0], x), None),
    ("sum(values)", lambda x: autograd.sum(x), "autograd.sum"),
    ("sum([x])", lambda x: autograd.sum([leaf(), x]), None),
    ("topological_order(root)", lambda x: autograd.topological_order(x), "topological_order"),
    # autograd: Tensor engine
    ("Tensor(data)", lambda x: Tensor(x), "Tensor expects"),
    ("Tensor(label)", lambda x: Tensor(1.0, label=x), "label"),
    ("Tensor(requires_grad)", lambda x: Tensor(1.0, requires_grad=x), "requires_grad"),
    ("Tensor(dtype)", lambda x: Tensor(1.0, dtype=x), "dtype"),
    ("Tensor + x", lambda x: tensor_leaf() + x, None),
    ("x - Tensor", lambda x: x - tensor_leaf(), None),
    ("Tensor @ x", lambda x: tensor_leaf() @ x, None),
    ("Tensor ** x", lambda x: tensor_leaf() ** x, None),
    ("Tensor.sum(axis)", lambda x: tensor_leaf().sum(axis=x), "axis"),
    ("Tensor.mean(axis)", lambda x: tensor_leaf().mean(axis=x), "axis"),
    ("Tensor.max(axis)", lambda x: tensor_leaf().max(axis=x), "axis"),
    ("Tensor.reshape(shape)", lambda x: tensor_leaf().reshape(x), "reshape"),
    ("Tensor.transpose(axes)", lambda x: tensor_leaf().transpose(x), "transpose"),
    ("Tensor[x]", lambda x: tensor_leaf()[x], None),
    ("Tensor.leaky_relu(slope)", lambda x: tensor_leaf().leaky_relu(x), "slope"),
    ("Tensor.softmax(axis)", lambda x: tensor_leaf().softmax(axis=x), "axis"),
    ("Tensor.log_softmax(axis)", lambda x: tensor_leaf().log_softmax(axis=x), "axis"),
    ("Tensor.backward(gradient)", lambda x: (tensor_leaf() * 2.0).backward(x), "gradient"),
    ("linear(x)", lambda x: autograd.linear(x, tensor_leaf()), "linear"),
    ("linear(weight)", lambda x: autograd.linear(np.ones(2), x), "weight"),
    ("linear(bias)", lambda x: autograd.linear(np.ones(2), tensor_leaf(), x), "bias"),
    ("mse_loss(pred)", lambda x: autograd.mse_loss(x, np.ones(2)), "pred"),
    ("mse_loss(target)", lambda x: autograd.mse_loss(tensor_leaf(), x), "target"),
    # autograd: checking, drawing, explaining
    ("gradcheck(f)", lambda x: autograd.gradcheck(x, [leaf()]), None),  # a callable junk f raises its own error
    ("gradcheck(inputs)", lambda x: autograd.gradcheck(lambda v: v * v, x), "inputs"),
    ("gradcheck(f returns)", lambda x: autograd.gradcheck(lambda v: x, [leaf()]), "return"),
    ("gradcheck(eps)", lambda x: autograd.gradcheck(lambda v: v * v, [leaf()], eps=x), "eps"),
    ("gradcheck(atol)", lambda x: autograd.gradcheck(lambda v: v * v, [leaf()], atol=x), "atol"),
    ("gradcheck(nondet_tol)", lambda x: autograd.gradcheck(lambda v: v * v, [leaf()], nondet_tol=x), "nondet_tol"),
    ("tensor_gradcheck(inputs)", lambda x: autograd.tensor_gradcheck(lambda t: t.sum(), x), "inputs"),
    ("tensor_gradcheck(max_full)", lambda x: autograd.tensor_gradcheck(lambda t: t.sum(), tensor_leaf(), max_full=x),
     "max_full"),
    ("numerical_gradient(inputs)", lambda x: numerical_gradient(lambda v: v, x), "inputs"),
    ("numerical_jacobian(inputs)", lambda x: autograd.numerical_jacobian(lambda t: t, x), None),
    ("local_mismatches(root)", lambda x: autograd.local_mismatches(x), "local_mismatches"),
    ("draw(root)", lambda x: autograd.draw(x), "draw"),
    ("draw(rankdir)", lambda x: autograd.draw(small_graph(), rankdir=x), "rankdir"),
    ("draw(show)", lambda x: autograd.draw(small_graph(), show=x), None),
    ("draw(collapse)", lambda x: autograd.draw(small_graph(), collapse=x), None),
    ("draw(max_nodes)", lambda x: autograd.draw(small_graph(), max_nodes=x), None),
    ("draw(step)", lambda x: autograd.draw(small_graph(), step=x), "step"),
    ("draw(digits)", lambda x: autograd.draw(small_graph(), digits=x), "digits"),
    ("draw(format)", lambda x: autograd.draw(small_graph(), format=x), None),  # graphviz's own message
    ("frames(root)", lambda x: autograd.frames(x), None),
    ("explain(root)", lambda x: autograd.explain(x), "explain"),
    ("verify(table)", lambda x: autograd.verify(x, small_graph()), None),
    ("verify(graph)", lambda x: autograd.verify({"C": 1.0}, x), "verify"),
    ("verify(decimals)", lambda x: autograd.verify({"C": 1.0}, small_graph(), decimals=x), "decimals"),
    # nn: building networks
    ("MLP(n_in)", lambda x: nn.MLP(x, [2], 1), "n_in"),
    ("MLP(hidden)", lambda x: nn.MLP(2, x, 1), None),
    ("MLP(n_out)", lambda x: nn.MLP(2, [2], x), "n_out"),
    ("MLP(activations)", lambda x: nn.MLP(2, [2], 1, activations=x), "activation"),
    ("MLP(bias)", lambda x: nn.MLP(2, [2], 1, bias=x), "bias"),
    ("MLP(init)", lambda x: nn.MLP(2, [2], 1, init=x), "initializer"),
    ("MLP(seed)", lambda x: nn.MLP(2, [2], 1, seed=x), "seed"),
    ("MLP(engine)", lambda x: nn.MLP(2, [2], 1, engine=x), "engine"),
    ("MLP.to(engine)", lambda x: value_model().to(x), "engine"),
    ("Neuron(weights)", lambda x: Neuron(x), None),
    ("Neuron(bias)", lambda x: Neuron([1.0], bias=x), None),
    ("Neuron(activation)", lambda x: Neuron([1.0], activation=x), "activation"),
    ("Neuron(j)", lambda x: Neuron([1.0], j=x), None),
    ("Layer(n_in)", lambda x: Layer(x, 2), "n_in"),
    ("Layer(n_out)", lambda x: Layer(2, x), "n_out"),
    ("Layer(index)", lambda x: Layer(2, 2, index=x), "index"),
    ("Layer.from_arrays(W)", lambda x: Layer.from_arrays(x, None, "relu", 1), None),
    ("LeakyReLU(slope)", lambda x: nn.LeakyReLU(x), "slope"),
    ("get_activation", lambda x: nn.activations.get_activation(x), "activation"),
    # nn: running and training
    ("model(X) value", lambda x: value_model()(x), None),
    ("predict(model)", lambda x: nn.predict(x, X2), None),
    ("predict(X)", lambda x: nn.predict(value_model(), x), None),
    ("fit(model)", lambda x: nn.fit(x, X2, Y2, epochs=1, print_fn=lambda s: None), None),
    ("fit(X)", lambda x: nn.fit(value_model(), x, Y2, epochs=1, print_fn=lambda s: None), None),
    ("fit(y)", lambda x: nn.fit(value_model(), X2, x, epochs=1, print_fn=lambda s: None), None),
    ("fit(loss)", lambda x: nn.fit(value_model(), X2, Y2, loss=x, epochs=1, print_fn=lambda s: None), "loss"),
    ("fit(optimizer)", lambda x: nn.fit(value_model(), X2, Y2, optimizer=x, epochs=1, print_fn=lambda s: None),
     "optimizer"),
    # a huge epochs count is a long run, not bad input: skipped
    ("fit(epochs)", lambda x: None if isinstance(x, int) and x > 100 else
     nn.fit(value_model(), X2, Y2, epochs=x, print_fn=lambda s: None), "epochs"),
    ("fit(lr)", lambda x: nn.fit(value_model(), X2, Y2, lr=x, epochs=1, print_fn=lambda s: None), "lr"),
    ("fit(batch_size)", lambda x: nn.fit(value_model(), X2, Y2, batch_size=x, epochs=1, print_fn=lambda s: None),
     "batch_size"),
    ("fit(seed)", lambda x: nn.fit(value_model(), X2, Y2, batch_size=2, seed=x, epochs=1, print_fn=lambda s: None),
     "seed"),
    ("fit(log_every)", lambda x: nn.fit(value_model(), X2, Y2, log_every=x, epochs=1, print_fn=lambda s: None),
     "log_every"),
    # a callable print_fn is the caller's function: whatever it raises comes out as is (skipped)
    ("fit(print_fn)", lambda x: None if callable(x) else
     nn.fit(value_model(), X2, Y2, log_every=1, epochs=1, print_fn=x), "print_fn"),
    ("accuracy(outputs)", lambda x: nn.accuracy(x, Y2), None),
    ("accuracy(y)", lambda x: nn.accuracy(np.full(6, 0.7), x), None),
    ("print_predictions(X)", lambda x: nn.print_predictions(value_model(), x, Y2, print_fn=lambda s: None), None),
    ("load_state_dict(state)", lambda x: value_model().load_state_dict(x), "load_state_dict"),
    ("load_state_dict({W[1]: x})", lambda x: value_model().load_state_dict(
        dict(value_model().state_dict(), **{"W[1]": x})), "W[1]"),
    # nn: losses
    ("MSELoss(reduction)", lambda x: nn.MSELoss(x), "reduction"),
    ("MSELoss(pred)", lambda x: nn.MSELoss()(x, [1.0]), "predictions"),
    ("MSELoss(target)", lambda x: nn.MSELoss()([leaf(), leaf()], x), "target"),
    ("BCELoss(target)", lambda x: nn.BCELoss()([leaf().sigmoid()], x), None),
    ("BCEWithLogitsLoss(target)", lambda x: nn.BCEWithLogitsLoss()([leaf()], x), None),
    ("CrossEntropyLoss(target)", lambda x: nn.CrossEntropyLoss()([[leaf(), leaf()]], x), None),
    ("get_loss", lambda x: losses.get_loss(x), "loss"),
    # nn: optimizers
    ("SGD(params)", lambda x: nn.SGD(x), "parameter"),
    ("SGD(lr)", lambda x: nn.SGD(value_model().parameters(), lr=x), "lr"),
    ("SGD(momentum)", lambda x: nn.SGD(value_model().parameters(), momentum=x), "momentum"),
    ("Adam(betas)", lambda x: nn.Adam(value_model().parameters(), betas=x), "beta"),
    ("Adam(eps)", lambda x: nn.Adam(value_model().parameters(), eps=x), "eps"),
    ("RMSprop(alpha)", lambda x: nn.RMSprop(value_model().parameters(), alpha=x), "alpha"),
    ("Adagrad(lr_decay)", lambda x: nn.Adagrad(value_model().parameters(), lr_decay=x), "lr_decay"),
    ("get_optimizer", lambda x: optim.get_optimizer(x, value_model().parameters()), "optimizer"),
    # nn: initializers
    ("init.normal(shape)", lambda x: nninit.normal(x), "shape"),
    ("init.normal(std)", lambda x: nninit.normal((2, 2), std=x), "std"),
    ("init.normal(mean)", lambda x: nninit.normal((2, 2), mean=x), "mean"),
    ("init.uniform(low)", lambda x: nninit.uniform((2, 2), low=x), None),
    ("init.xavier_uniform(gain)", lambda x: nninit.xavier_uniform((2, 2), gain=x), "gain"),
    ("init.he_normal(mode)", lambda x: nninit.he_normal((2, 2), mode=x), "mode"),
    ("init.fans(shape)", lambda x: nninit.fans(x), "shape"),
    ("init.calculate_gain", lambda x: nninit.calculate_gain(x), "nonlinearity"),
    ("init.as_generator(seed)", lambda x: nninit.as_generator(x), "seed"),
    ("init.init_mlp(sizes)", lambda x: nninit.init_mlp(x), "sizes"),
    # nn: data
    ("generate_linear(n)", lambda x: datasets.generate_linear(x), "n"),
    ("make_moons(noise)", lambda x: datasets.make_moons(10, noise=x), "noise"),
    ("make_blobs(centers)", lambda x: datasets.make_blobs(10, centers=x), "centers"),
    ("make_blobs(std)", lambda x: datasets.make_blobs(10, std=x), "std"),
    ("train_test_split(X)", lambda x: datasets.train_test_split(x, Y2), None),
    ("train_test_split(y)", lambda x: datasets.train_test_split(X2, x), None),
    ("train_test_split(test_size)", lambda x: datasets.train_test_split(X2, Y2, x), "test_size"),
    ("data.load(name)", lambda x: datasets.load(x), "data set"),
    # nn: saving
    ("save(model)", lambda x: nn.save(x, "/nonexistent-dir/m.npz"), "nn.save"),
    ("save(path)", lambda x: nn.save(value_model(), x), "path"),
    ("load(path)", lambda x: nn.load(x), "path"),
    # nn: plots and the numpy oracle
    ("plot_loss(curves)", lambda x: nn.plot.plot_loss(x), None),
    ("plot_decision_boundary(X)", lambda x: nn.plot.plot_decision_boundary(value_model(), x, Y2), None),
    ("activation_curve(xs)", lambda x: nn.plot.activation_curve("relu", x), None),
    ("NumpyMLP(weights)", lambda x: NumpyMLP(x, [np.zeros(2)], ["sigmoid"]), None),
]
SITE_IDS = [s[0] for s in SITES]
assert len(set(SITE_IDS)) == len(SITE_IDS)
#: A message says what was expected with one of these (e.g. "must be a positive int", "expected one of").
EXPECTATION_WORDS = ("expect", "must", "need", "supported", "one of", "out of range", "permutation", "cannot")
MESSAGE_CHECKED = {s[0] for s in SITES if s[2]}


def received_forms(x: object) -> set[str]:
    """Ways a message may show what it received: the type or the start of the repr of ``x``, of one of its
    elements (for sequences and arrays: the offending element is often the one named), its shape or dtype."""
    forms = {type(x).__name__, repr(x)[:12], str(x)[:12]}
    try:
        forms.add(str(np.shape(x)))  # "got shape (0,)" for [] or an empty array
    except ValueError:  # a ragged list
        pass
    if isinstance(x, np.ndarray):
        forms |= {str(x.shape), str(x.dtype)}
        items = x.ravel()[:4].tolist()
    else:
        items = list(x)[:4] if isinstance(x, (list, tuple, bytes, dict, set)) else []
    if isinstance(x, (list, tuple)):
        forms.add(repr(tuple(x)))
    if isinstance(x, (list, tuple, dict, set, np.ndarray)):
        n = len(x) if not isinstance(x, np.ndarray) else x.size
        forms |= {f"got {n}", f" {n} "} | ({"empty"} if n == 0 else set())  # "got 1 weights and 0 inputs"
    for item in items:
        forms |= received_forms(item) if isinstance(item, (list, tuple)) else {type(item).__name__, repr(item)[:8]}
    return forms


def attempt(site: str, call: Callable, x: object, arg: str | None) -> None:
    """Call; only TypeError/ValueError may come out; for the checked subset, its message names the argument,
    what was received and what was expected."""
    COUNTS[site] += 1
    try:
        with warnings.catch_warnings():
            # numpy's own warnings for inf/nan arithmetic are numpy's behaviour, not a crash
            warnings.simplefilter("ignore", RuntimeWarning)
            out = call(x)
            if isinstance(out, Value):
                out.backward()
            elif isinstance(out, Tensor) and out.requires_grad:
                out.backward(None if out.size == 1 else np.ones(out.shape))
    except ALLOWED as error:
        if arg is None:
            return
        message = str(error)
        assert arg.lower() in message.lower(), f"{site}: {message!r} does not name {arg!r}"
        assert any(w in message for w in EXPECTATION_WORDS), (
            f"{site}: {message!r} does not say what was expected")
        assert any(r in message for r in received_forms(x)), (
            f"{site}: {message!r} does not say what was received ({x!r:.40})")
    except IndexError:
        if site != "Tensor[x]":  # documented there: an index out of range, as numpy (it ends iteration)
            raise
    except autograd.GradcheckError:
        if "gradcheck" not in site:  # documented there: a legal but useless eps (5e-324) fails the check itself
            raise
    finally:
        import matplotlib.pyplot as plt
        plt.close("all")


@pytest.mark.parametrize("site, call, arg", SITES, ids=SITE_IDS)
def test_classic_junk_gives_only_type_or_value_errors(site, call, arg):
    for x in CLASSIC:
        attempt(site, call, x, arg)


@pytest.mark.parametrize("site, call, arg", SITES, ids=SITE_IDS)
@settings(max_examples=10)
@given(x=junk())
def test_random_junk_gives_only_type_or_value_errors(site, call, arg, x):
    attempt(site, call, x, arg)


@pytest.fixture(scope="module", autouse=True)
def report_case_count(request, tmp_path_factory):
    """Run the module in a scratch folder (junk paths given to save and load are relative: they land there)
    and print the number of junk cases tried at the end."""
    cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("junk_cwd"))
    try:
        yield
    finally:
        os.chdir(cwd)
    total = sum(COUNTS.values())
    line = (f"test_stress: {total} junk cases tried at {len(COUNTS)} public entries "
            f"({len(MESSAGE_CHECKED)} with the message checked)")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # shown in the terminal even without -s
            reporter.write_line("\n" + line)
