"""nn.optim: one and several steps against the textbook update formulas written out here, on float
parameters (Value) and on numpy-array parameters, and against torch.optim when torch is installed."""

import math

import numpy as np
import pytest

from autograd import Value
from nn.optim import SGD, Adagrad, Adam, RMSprop, get_optimizer

GRADS = [0.5, -1.25, 0.75, 2.0, -0.1]  # the gradient fed at steps 1..5
START = 0.3


class ArrayParam:
    """A parameter holding a numpy array, as the Tensor engine's do."""

    def __init__(self, data):
        self.data = np.array(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)

    def zero_grad(self):
        self.grad = np.zeros_like(self.data)


def run(make, steps, grads=GRADS, start=START):
    """Final p.data after ``steps`` steps on a Value parameter, feeding GRADS in turn."""
    p = Value(start)
    opt = make([p])
    for g in grads[:steps]:
        opt.zero_grad()
        p.grad = g
        opt.step()
    return p.data


def sgd_by_hand(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, steps=5):
    p, buf = START, None
    for g in GRADS[:steps]:
        g = g + weight_decay * p
        if momentum:
            buf = g if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def adam_by_hand(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0, steps=5):
    p, m, v = START, 0.0, 0.0
    for t, g in enumerate(GRADS[:steps], start=1):
        g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        p = p - lr * m_hat / (math.sqrt(v_hat) + eps)
    return p


def rmsprop_by_hand(lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0, centered=False, steps=5):
    p, v, gbar, buf = START, 0.0, 0.0, 0.0
    for g in GRADS[:steps]:
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            gbar = alpha * gbar + (1 - alpha) * g
            denom = math.sqrt(v - gbar * gbar) + eps
        else:
            denom = math.sqrt(v) + eps
        if momentum:
            buf = momentum * buf + g / denom
            p = p - lr * buf
        else:
            p = p - lr * g / denom
    return p


def adagrad_by_hand(lr=1e-2, lr_decay=0.0, initial=0.0, eps=1e-10, steps=5):
    p, s = START, initial
    for t, g in enumerate(GRADS[:steps], start=1):
        s = s + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (math.sqrt(s) + eps)
    return p


CASES = [
    ("sgd", lambda ps: SGD(ps, lr=0.1), lambda n: sgd_by_hand(0.1, steps=n)),
    ("sgd momentum", lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda n: sgd_by_hand(0.1, 0.9, steps=n)),
    ("sgd dampening+wd", lambda ps: SGD(ps, lr=0.1, momentum=0.8, dampening=0.3, weight_decay=0.01),
     lambda n: sgd_by_hand(0.1, 0.8, 0.3, weight_decay=0.01, steps=n)),
    ("sgd nesterov", lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
     lambda n: sgd_by_hand(0.05, 0.9, nesterov=True, steps=n)),
    ("adam defaults", lambda ps: Adam(ps), lambda n: adam_by_hand(steps=n)),
    ("adam custom", lambda ps: Adam(ps, lr=0.1, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1),
     lambda n: adam_by_hand(0.1, 0.8, 0.9, 1e-6, 0.1, steps=n)),
    ("rmsprop defaults", lambda ps: RMSprop(ps), lambda n: rmsprop_by_hand(steps=n)),
    ("rmsprop momentum centered", lambda ps: RMSprop(ps, lr=0.01, alpha=0.9, momentum=0.5, centered=True),
     lambda n: rmsprop_by_hand(0.01, 0.9, momentum=0.5, centered=True, steps=n)),
    ("adagrad defaults", lambda ps: Adagrad(ps), lambda n: adagrad_by_hand(steps=n)),
    ("adagrad decay", lambda ps: Adagrad(ps, lr=0.5, lr_decay=0.1, initial_accumulator_value=0.2),
     lambda n: adagrad_by_hand(0.5, 0.1, 0.2, steps=n)),
]


@pytest.mark.parametrize("steps", [1, 5])
@pytest.mark.parametrize("name, make, by_hand", CASES, ids=[c[0] for c in CASES])
def test_steps_match_the_update_formulas(name, make, by_hand, steps):
    assert math.isclose(run(make, steps), by_hand(steps), rel_tol=1e-13, abs_tol=1e-15)


def test_first_steps_by_the_numbers():
    # Adam's first step moves every parameter by lr (times the gradient's sign): m̂ = g, v̂ = g².
    assert math.isclose(run(lambda ps: Adam(ps, lr=0.01), 1), START - 0.01 * 0.5 / (0.5 + 1e-8), rel_tol=1e-15)
    # Adagrad's first step: lr · g / |g|.
    assert math.isclose(run(lambda ps: Adagrad(ps, lr=0.1), 1), START - 0.1 * 0.5 / (0.5 + 1e-10), rel_tol=1e-15)
    # RMSprop's first step: lr · g / sqrt((1 - α) g²) = lr / sqrt(0.01).
    assert math.isclose(run(lambda ps: RMSprop(ps, lr=0.01), 1), START - 0.01 * 0.5 / (math.sqrt(0.01 * 0.25) + 1e-8),
                        rel_tol=1e-14)
    assert run(lambda ps: SGD(ps, lr=1.0), 1) == START - 0.5


@pytest.mark.parametrize("name, make, by_hand", CASES, ids=[c[0] for c in CASES])
def test_the_same_code_updates_numpy_array_parameters(name, make, by_hand):
    starts = np.array([START, -1.0, 2.5])
    grads = np.array([GRADS, [g * 0.5 for g in GRADS], [-g for g in GRADS]]).T
    p = ArrayParam(starts)
    opt = make([p])
    for g in grads:
        opt.zero_grad()
        assert not p.grad.any()
        p.grad = g.copy()
        old = p.data
        opt.step()
        assert p.data is not old  # rebinding, not in-place: snapshots in fit stay valid
    for i in range(3):
        expected = run(make, 5, grads=grads[:, i].tolist(), start=starts[i])
        assert math.isclose(p.data[i], expected, rel_tol=1e-13, abs_tol=1e-15)


def test_parameters_without_gradient_are_skipped_and_zero_grad_clears():
    a, b = ArrayParam([1.0]), Value(2.0)
    a.grad = None
    b.grad = 1.0
    opt = SGD([a, b], lr=0.5)
    opt.step()
    assert a.data.tolist() == [1.0] and b.data == 1.5
    opt.zero_grad()
    assert b.grad == 0.0 and a.grad.tolist() == [0.0]


@pytest.mark.parametrize("make, error, message", [
    (lambda: SGD([], lr=0.1), ValueError, "empty parameter list"),
    (lambda: SGD(Value(1.0), lr=0.1), TypeError, "iterable of parameters"),
    (lambda: SGD([1.0], lr=0.1), TypeError, "parameter 0 is a float"),
    (lambda: SGD([Value(1.0)], lr=-1), ValueError, r"lr must be a number in \[0, inf\]"),
    (lambda: SGD([Value(1.0)], lr=float("nan")), ValueError, "lr must be"),
    (lambda: SGD([Value(1.0)], lr=0.1, nesterov=True), ValueError, "nesterov momentum requires momentum > 0"),
    (lambda: Adam([Value(1.0)], betas=(0.9, 1.0)), ValueError, r"beta2 must be a number in \[0, 1\)"),
    (lambda: Adam([Value(1.0)], betas=0.9), ValueError, "betas must be a pair"),
    (lambda: RMSprop([Value(1.0)], alpha=1.5), ValueError, "alpha must be"),
    (lambda: Adagrad([Value(1.0)], eps=-1e-10), ValueError, "eps must be"),
    (lambda: get_optimizer("lbfgs", [Value(1.0)]), ValueError, "unknown optimizer 'lbfgs'"),
])
def test_bad_hyper_parameters(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_defaults_are_pytorchs():
    p = [Value(0.0)]
    assert SGD(p).lr == 1e-3
    adam = Adam(p)
    assert (adam.lr, adam.betas, adam.eps, adam.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 0.0)
    rms = RMSprop(p)
    assert (rms.lr, rms.alpha, rms.eps, rms.momentum, rms.centered) == (1e-2, 0.99, 1e-8, 0.0, False)
    ada = Adagrad(p)
    assert (ada.lr, ada.lr_decay, ada.initial_accumulator_value, ada.eps) == (1e-2, 0.0, 0.0, 1e-10)
    assert isinstance(get_optimizer("Adam", p, lr=0.1), Adam) and get_optimizer("sgd", p, lr=0.1).lr == 0.1


TORCH_CASES = [
    (lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
     lambda t, ps: t.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (lambda ps: Adam(ps, lr=0.05, weight_decay=0.1), lambda t, ps: t.optim.Adam(ps, lr=0.05, weight_decay=0.1)),
    (lambda ps: RMSprop(ps, momentum=0.3, centered=True), lambda t, ps: t.optim.RMSprop(ps, momentum=0.3,
                                                                                          centered=True)),
    (lambda ps: Adagrad(ps, lr=0.3, lr_decay=0.05), lambda t, ps: t.optim.Adagrad(ps, lr=0.3, lr_decay=0.05)),
]


@pytest.mark.parametrize("ours, theirs", TORCH_CASES)
def test_matches_torch_optim(ours, theirs):
    torch = pytest.importorskip("torch")
    starts = np.array([START, -1.0, 2.5])
    grads = np.array([GRADS, [g * 0.5 for g in GRADS], [-g for g in GRADS]]).T
    p = ArrayParam(starts)
    opt = ours([p])
    tp = torch.tensor(starts, dtype=torch.float64, requires_grad=True)
    topt = theirs(torch, [tp])
    for g in grads:
        p.grad = g.copy()
        opt.step()
        tp.grad = torch.tensor(g, dtype=torch.float64)
        topt.step()
    np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_step_right_after_zero_grad_changes_nothing(engine):
    # PyTorch semantics: zero_grad() forgets Tensor grads (None) and zeroes Value grads; a step
    # with no backward in between leaves plain SGD's weights where they were.
    import nn
    model = nn.MLP(2, [3], 1, activations=["relu", "sigmoid"], engine=engine, seed=0)
    before = model.state_dict()
    opt = SGD(model.parameters(), lr=0.5)
    opt.zero_grad()
    opt.step()
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("opt", ["SGD", "Adam", "Adagrad", "RMSprop"])
def test_a_parameter_twice_or_a_computed_node_is_refused(opt):
    import nn
    from autograd import Tensor, Value
    cls = getattr(nn, opt)
    w = Tensor(np.ones(3), "w", requires_grad=True)
    with pytest.raises(ValueError, match=rf"{opt}: parameter 1 is parameter 0 again .*expected each parameter once"):
        cls([w, w], lr=0.1)
    with pytest.raises(ValueError, match=rf"{opt}: parameter 0 .* was computed by 'mul', not a leaf"):
        cls([w * 2], lr=0.1)
    v = Value(1.0, "v")
    with pytest.raises(ValueError, match=r"was computed by 'add', not a leaf"):
        cls([v + 1], lr=0.1)


def test_a_layer_used_twice_shares_its_weights_and_trains_once_per_step():
    import nn
    from autograd import Tensor
    layer = nn.Linear(2, 2, seed=1)
    model = nn.Sequential(layer, nn.Tanh(), layer)
    assert model.parameters() == [layer.W, layer.b] and model.num_parameters() == 6
    x = np.array([[0.5, -1.0]])
    W, b = layer.W.data.copy(), layer.b.data.copy()
    out = model(Tensor(x)).sum()
    out.backward()
    # d/dW of sum(W tanh(x Wᵀ + b) + b) by hand: both uses of W contribute
    h = np.tanh(x @ W.T + b)
    g2 = np.ones((1, 2))                      # ∂out/∂z₂
    g1 = (g2 @ W) * (1 - h * h)               # ∂out/∂z₁
    np.testing.assert_allclose(layer.W.grad, g2.T @ h + g1.T @ x, rtol=1e-12)
    np.testing.assert_allclose(layer.b.grad, (g2 + g1).ravel(), rtol=1e-12)
    nn.SGD(model.parameters(), lr=0.1).step()  # one update, not two
    np.testing.assert_allclose(layer.W.data, W - 0.1 * (g2.T @ h + g1.T @ x), rtol=1e-12)
