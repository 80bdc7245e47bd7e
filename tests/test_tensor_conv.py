"""autograd.conv2d and autograd.max_pool2d (issue 14), checked three ways: gradients against central
differences over random small shapes, strides and paddings (float64); the forward against a direct loop
written here; values and gradients against torch.nn.functional where PyTorch is installed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import TENSOR_OPS, Tensor, conv2d, max_pool2d, tensor_gradcheck

# Tight tolerances: both ops are (piecewise) linear, so central differences are exact up to rounding, and a
# derivative off by 0.1 % (bench/mutation.py's factor) must fail.
TIGHT = dict(atol=1e-8, rtol=1e-6)


def loop_conv2d(x, w, b, stride, padding):
    """out[n, o, i, j] = b[o] + Σ_c Σ_p Σ_q x_pad[n, c, i·s + p, j·s + q] · w[o, c, p, q], pixel by pixel."""
    (sh, sw), (ph, pw) = stride, padding
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    out = np.zeros((n, o, oh, ow))
    for s in range(n):
        for f in range(o):
            for i in range(oh):
                for j in range(ow):
                    total = 0.0 if b is None else b[f]
                    for ch in range(c):
                        for p in range(kh):
                            for q in range(kw):
                                total += xp[s, ch, i * sh + p, j * sw + q] * w[f, ch, p, q]
                    out[s, f, i, j] = total
    return out


def loop_max_pool2d(x, kernel, stride):
    (kh, kw), (sh, sw) = kernel, stride
    n, c, h, w = x.shape
    out = np.empty((n, c, (h - kh) // sh + 1, (w - kw) // sw + 1))
    for s, ch, i, j in np.ndindex(out.shape):
        out[s, ch, i, j] = max(x[s, ch, i * sh + p, j * sw + q] for p in range(kh) for q in range(kw))
    return out


@st.composite
def conv_cases(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * ph), 6))
    w = draw(st.integers(max(1, kw - 2 * pw), 6))
    return dict(n=draw(st.integers(1, 2)), c=draw(st.integers(1, 3)), o=draw(st.integers(1, 3)), h=h, w=w,
                kernel=(kh, kw), stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))), padding=(ph, pw),
                bias=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


def conv_inputs(case):
    rng = np.random.default_rng(case["seed"])
    x = Tensor(rng.normal(size=(case["n"], case["c"], case["h"], case["w"])), "x")
    w = Tensor(rng.normal(size=(case["o"], case["c"], *case["kernel"])), "w")
    b = Tensor(rng.normal(size=case["o"]), "b") if case["bias"] else None
    return x, w, b


@settings(max_examples=25)
@given(case=conv_cases())
def test_conv2d_forward_equals_a_direct_loop(case):
    x, w, b = conv_inputs(case)
    out = conv2d(x, w, b, case["stride"], case["padding"])
    expected = loop_conv2d(x.data, w.data, None if b is None else b.data, case["stride"], case["padding"])
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=15)
@given(case=conv_cases())
def test_conv2d_gradients_match_central_differences(case):
    x, w, b = conv_inputs(case)
    inputs = [x, w] + ([b] if b is not None else [])
    # a random upstream weighting, so every output element counts with its own factor
    u = np.random.default_rng(case["seed"] + 1).normal(size=conv2d(x, w, b, case["stride"], case["padding"]).shape)
    f = (lambda x, w, b=None: (conv2d(x, w, b, case["stride"], case["padding"]) * u).sum())
    assert tensor_gradcheck(f, inputs, **TIGHT)


def distinct_images(rng, shape):
    """Values 0.01 apart in a random order: no ties, and no maximum changes under a 1e-6 perturbation."""
    return rng.permutation(np.prod(shape)).reshape(shape) * 0.01 - 1.0


@settings(max_examples=15)
@given(n=st.integers(1, 2), c=st.integers(1, 2), h=st.integers(2, 6), w=st.integers(2, 6),
       kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)), stride=st.none() | st.tuples(st.integers(1, 3),
                                                                                            st.integers(1, 3)),
       seed=st.integers(0, 2**16))
def test_max_pool2d_forward_and_gradients(n, c, h, w, kernel, stride, seed):
    kernel = (min(kernel[0], h), min(kernel[1], w))
    rng = np.random.default_rng(seed)
    x = Tensor(distinct_images(rng, (n, c, h, w)), "x")
    out = max_pool2d(x, kernel, stride)
    np.testing.assert_array_equal(out.data, loop_max_pool2d(x.data, kernel, stride or kernel))
    u = rng.normal(size=out.shape)
    assert tensor_gradcheck(lambda x: (max_pool2d(x, kernel, stride) * u).sum(), [x], **TIGHT)


def test_max_pool2d_gives_a_tied_windows_gradient_to_its_first_maximum():
    x = Tensor(np.array([[[[1.0, 3.0, 0.0, 0.0],
                           [3.0, 2.0, 0.0, 0.0],
                           [5.0, 5.0, 7.0, 1.0],
                           [5.0, 5.0, 7.0, 7.0]]]]), requires_grad=True)
    out = max_pool2d(x, 2)
    assert out.data.tolist() == [[[[3.0, 0.0], [5.0, 7.0]]]]
    out.backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]))
    # row-major first maximum of each window, as PyTorch: (0,1), (0,2), (2,0), (2,2)
    expected = np.zeros((4, 4))
    expected[0, 1], expected[0, 2], expected[2, 0], expected[2, 2] = 10.0, 20.0, 30.0, 40.0
    np.testing.assert_array_equal(x.grad[0, 0], expected)


def test_overlapping_windows_add_their_gradients_and_nan_propagates():
    x = Tensor(np.array([[[[0.0, 2.0, 1.0]]]]), requires_grad=True)
    out = max_pool2d(x, (1, 2), stride=1)  # windows [0, 2] and [2, 1] share the 2
    out.backward(np.array([[[[1.0, 5.0]]]]))
    assert out.data.tolist() == [[[[2.0, 2.0]]]] and x.grad.tolist() == [[[[0.0, 6.0, 0.0]]]]
    # a window holding nan: nan out, and its gradient goes to its last nan, as PyTorch (checked there below)
    y = Tensor(np.array([[[[1.0, np.nan, 3.0, 4.0], [np.nan, -1.0, 2.0, 0.0]]]]), requires_grad=True)
    pooled = max_pool2d(y, 2)
    pooled.backward(np.array([[[[7.0, 5.0]]]]))
    assert np.isnan(pooled.data[0, 0, 0, 0]) and pooled.data[0, 0, 0, 1] == 4.0
    assert y.grad.tolist() == [[[[0.0, 0.0, 0.0, 5.0], [7.0, 0.0, 0.0, 0.0]]]]
    z = conv2d(Tensor(np.array([[[[np.nan, 1.0]]]])), Tensor(np.ones((1, 1, 1, 1))))
    assert np.isnan(z.data[0, 0, 0, 0]) and z.data[0, 0, 0, 1] == 1.0


def test_both_ops_are_one_registered_node_and_keep_float32():
    x = Tensor(np.ones((2, 3, 5, 5)), dtype=np.float32)
    w = Tensor(np.full((4, 3, 3, 3), 0.5), requires_grad=True, dtype=np.float32)
    b = Tensor(np.zeros(4), requires_grad=True, dtype=np.float32)
    out = max_pool2d(conv2d(x, w, b, padding=1), 2)
    assert out.op is TENSOR_OPS["max_pool2d"] and out.inputs[0].op is TENSOR_OPS["conv2d"]
    assert out.inputs[0].inputs == (x, w, b) and out.shape == (2, 4, 2, 2)
    out.sum().backward()
    assert out.dtype == np.float32 and w.grad.dtype == np.float32 and b.grad.dtype == np.float32
    # every output pixel of the 3x3 conv at the centre sees 27 ones times 0.5
    assert out.data[0, 0, 1, 1] == pytest.approx(13.5)


def test_bad_input_is_refused_with_what_was_expected():
    x, w = Tensor(np.ones((1, 2, 4, 4))), Tensor(np.ones((3, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"x has 1 channels .* expects 2 .*expected x of shape \(N, 2, H, W\)"):
        conv2d(Tensor(np.ones((1, 1, 4, 4))), w)
    with pytest.raises(ValueError, match=r"kernel 3x3 does not fit in the padded input 2x2"):
        conv2d(Tensor(np.ones((1, 2, 2, 2))), w)
    with pytest.raises(ValueError, match=r"stride must be an int >= 1"):
        conv2d(x, w, stride=0)
    with pytest.raises(TypeError, match=r"padding must be an int or a pair of ints"):
        conv2d(x, w, padding="same")
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\)"):
        conv2d(x, w, Tensor(np.ones(2)))
    with pytest.raises(ValueError, match=r"images \(N, C, H, W\), got shape \(2, 4, 4\)"):
        max_pool2d(Tensor(np.ones((2, 4, 4))), 2)
    with pytest.raises(ValueError, match=r"window 5x5 does not fit in the input 4x4"):
        max_pool2d(Tensor(np.ones((1, 1, 4, 4))), 5)
    with pytest.raises(TypeError, match=r"weight must be a Tensor"):
        conv2d(x, np.ones((3, 2, 3, 3)))


def test_against_torch_functional_values_and_gradients():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(3)
    for stride, padding, kernel in [(1, 1, (3, 3)), ((2, 1), (0, 2), (2, 3)), (3, 0, (1, 1))]:
        x = Tensor(rng.normal(size=(3, 2, 7, 6)), requires_grad=True)
        w = Tensor(rng.normal(size=(4, 2, *kernel)), requires_grad=True)
        b = Tensor(rng.normal(size=4), requires_grad=True)
        out = max_pool2d(conv2d(x, w, b, stride, padding).tanh(), 2, 1)
        g = rng.normal(size=out.shape)
        out.backward(g)
        tx, tw, tb = (torch.tensor(t.data, requires_grad=True) for t in (x, w, b))
        tout = F.max_pool2d(torch.tanh(F.conv2d(tx, tw, tb, stride, padding)), 2, 1)
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=0, atol=1e-12)
        for ours, theirs in ((x, tx), (w, tw), (b, tb)):
            np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
    # ties and nan: the same pixel gets each window's gradient (first maximum; last nan)
    x = Tensor(np.array([[[[1.0, 1.0, np.nan, 2.0, 0.0, 0.0], [1.0, np.nan, np.nan, 2.0, 0.0, 0.0],
                           [5.0, 5.0, 0.0, 0.0, np.nan, 1.0], [5.0, 5.0, 0.0, 0.0, 3.0, np.nan]]]]), requires_grad=True)
    for kernel, stride in ((2, None), (2, 1), ((2, 3), (1, 2))):
        x.grad = None
        out = max_pool2d(x, kernel, stride)
        g = rng.normal(size=out.shape)
        out.backward(g)
        tx = torch.tensor(x.data, requires_grad=True)
        tout = F.max_pool2d(tx, kernel, stride)
        tout.backward(torch.tensor(g))
        np.testing.assert_array_equal(out.data, tout.detach().numpy())
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-15, atol=0)


def test_exported_from_autograd():
    assert autograd.conv2d is conv2d and autograd.max_pool2d is max_pool2d
    assert "conv2d" in autograd.__all__ and "max_pool2d" in autograd.__all__


def test_extreme_inputs_give_inf_and_nan_without_a_warning():
    x = Tensor(np.array([[[[1e308, 1e308], [-np.inf, 1.0]]]]), requires_grad=True)
    w = Tensor(np.full((1, 1, 2, 2), 10.0), requires_grad=True)
    out = conv2d(x, w)  # 1e309 overflows; -inf + inf is nan: both silently, as numpy values
    assert np.isnan(out.data[0, 0, 0, 0])
    big = conv2d(Tensor(np.full((1, 1, 1, 2), 1e308)), w[:, :, :1, :])
    assert big.data[0, 0, 0, 0] == np.inf
    out.sum().backward()
    # one window: ∂out/∂x = w and ∂out/∂w = x, infinities included
    assert np.all(x.grad == 10.0) and np.array_equal(w.grad, x.data)
