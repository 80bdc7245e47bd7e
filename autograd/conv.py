"""Convolution and max pooling on the Tensor engine, each ONE ``TensorOp`` (forward and VJP side by side).

Layouts are PyTorch's: images ``x`` are (N, C, H, W), filters ``weight`` (O, C, kh, kw), ``bias`` (O,).

- ``conv2d``: im2col. Every kh × kw window of the padded input becomes one row of a matrix
  ``cols`` (OH·OW rows of kh·kw·C per sample), so the whole convolution is ONE matrix product (one
  ``np.matmul`` call over the batch) with the filters flattened to (O, kh·kw·C). Backward goes by the
  kh × kw kernel offsets: at offset (i, j) every window's pixel (i, j) is one strided slice of the
  padded image, so ∂L/∂x gathers back by adding g W_ij into that slice and ∂L/∂W_ij = gᵀ (that slice);
  ∂L/∂b = Σ g. No loop over pixels or samples. Images are handled channels-last inside (a window's
  pixels are then contiguous runs), and the result is a channels-last array seen as (N, O, OH, OW).
- ``max_pool2d``: the maximum of kh × kw strided slices. The gradient of a window goes to its
  FIRST maximum in row-major order, as in PyTorch (ties are not shared here, unlike ``Tensor.max``);
  a window holding nan gives nan, and its gradient goes to its last nan (PyTorch's choice too).

Both are registered in ``autograd.TENSOR_OPS`` (as "conv2d" and "max_pool2d") so the gradient and
mutation tests see them. Both are first-order only: their VJPs compute on arrays (strided slices, in-place
adds), so ``create_graph=True`` through them raises the TypeError naming the op (``higher_order`` is False).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .tensor import TENSOR_OPS, Tensor, TensorOp, _apply, _lift, add_bias, sum_leading


def _pair(value: Any, what: str, least: int) -> tuple[int, int]:
    """An int or a pair of ints (height, width), each >= ``least``, as a pair; TypeError/ValueError naming ``what``."""
    items = value if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in items):
        raise TypeError(f"{what} must be an int or a pair of ints (height, width), got {type(value).__name__}: "
                        f"{value!r:.40}")
    if not all(least <= v <= 10**6 for v in items):
        raise ValueError(f"{what} must be an int >= {least} (or a pair of them), got {value!r:.40}")
    return int(items[0]), int(items[1])


def _windows(x: np.ndarray, kh: int, kw: int, sh: int, sw: int) -> np.ndarray:
    """A read-only view (N, OH, OW, kh, kw, C) of every kh × kw window of ``x`` (N, H, W, C) at stride (sh, sw)."""
    n, h, w, c = x.shape
    s0, s1, s2, s3 = x.strides
    shape = (n, (h - kh) // sh + 1, (w - kw) // sw + 1, kh, kw, c)
    return as_strided(x, shape, (s0, s1 * sh, s2 * sw, s1, s2, s3), writeable=False)


def _channels_last(x: np.ndarray, ph: int, pw: int) -> np.ndarray:
    """``x`` (N, C, H, W) zero-padded, as an (N, H + 2ph, W + 2pw, C) array: a window's pixels are then
    C-contiguous runs, which is how a conv's own output already lies in memory (see _conv2d_forward)."""
    n, c, h, w = x.shape
    out = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype)
    out[:, ph:ph + h, pw:pw + w, :] = x.transpose(0, 2, 3, 1)
    return out


def _im2col(x: np.ndarray, kh: int, kw: int, ctx: tuple) -> np.ndarray:
    """The (N, OH·OW, kh·kw·C) stack of window matrices: row (i, j) of sample n holds the window under its
    output pixel (i, j), ordered (kernel row, kernel column, channel)."""
    sh, sw, ph, pw = ctx
    win = _windows(_channels_last(x, ph, pw), kh, kw, sh, sw)  # (N, OH, OW, kh, kw, C), a view
    n, oh, ow, _, _, c = win.shape
    return win.reshape(n, oh * ow, kh * kw * c)  # the one copy of the input (no -1: an empty batch has N = 0)


def _filters(w: np.ndarray) -> np.ndarray:
    """The filters (O, C, kh, kw) as the (O, kh·kw·C) matrix whose columns match _im2col's."""
    return w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1)


# Sums of products overflow to inf (and inf·0 gives nan) silently, as ``exp`` and ``**`` do: no warning
@np.errstate(over="ignore", invalid="ignore")
def _conv2d_forward(xs, ctx):
    x, w = xs[0], xs[1]
    o, c, kh, kw = w.shape
    sh, sw, ph, pw = ctx
    n, oh, ow = x.shape[0], (x.shape[2] + 2 * ph - kh) // sh + 1, (x.shape[3] + 2 * pw - kw) // sw + 1
    # (N, OH·OW, O): the whole convolution as one matmul call. Stacked per sample, each product stays below
    # the size where OpenBLAS starts threads, which on small images cost more than they give. Measured
    # against one flattened (N·OH·OW, K) product on the digits CNN's two convolutions (batch 64; 15
    # interleaved rounds of 500 products, time.perf_counter, one process): with OpenBLAS's default 2 threads
    # stacked takes 563 µs where flat takes 699 µs (20 % less: 5x faster on conv16, 2x slower on conv32);
    # on one thread flat is 8-10 % faster.
    out = np.matmul(_im2col(x, kh, kw, ctx), _filters(w).T)
    if len(xs) == 3:
        out = add_bias(out, xs[2])
    # (N, OH, OW, O) seen as (N, O, OH, OW): a view, channels stay last in memory (the next conv reads them so)
    return out.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)


@np.errstate(over="ignore", invalid="ignore")
def _conv2d_vjp(g, xs, out, ctx, needs):
    x, w = xs[0], xs[1]
    o, c, kh, kw = w.shape
    sh, sw, ph, pw = ctx
    n, _, oh, ow = g.shape
    g2 = g.transpose(0, 2, 3, 1).reshape(n * oh * ow, o)  # free when g kept the forward's channels-last memory
    per_offset = w.transpose(2, 3, 0, 1)  # (kh, kw, O, C): the filters' tap (i, j) for every (out, in) pair
    # Both gradients go offset by offset: at offset (i, j) every window's pixel (i, j) is one strided slice of
    # the padded image, so each step is one small product and one slice. (Materialising the whole
    # ∂L/∂cols matrix instead costs as much again in memory traffic for these small images.)
    slices = [(i, j, (slice(None), slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw)))
              for i in range(kh) for j in range(kw)]
    gx = gw = gb = None
    if needs[0]:
        gpad = np.zeros((n, x.shape[2] + 2 * ph, x.shape[3] + 2 * pw, c), dtype=np.result_type(g, w))
        for i, j, key in slices:
            gpad[key] += (g2 @ per_offset[i, j]).reshape(n, oh, ow, c)
        gx = gpad[:, ph:ph + x.shape[2], pw:pw + x.shape[3], :].transpose(0, 3, 1, 2)
    if needs[1]:
        xpad = _channels_last(x, ph, pw)
        taps = np.empty((kh, kw, o, c), dtype=np.result_type(g, x))
        for i, j, key in slices:
            taps[i, j] = g2.T @ xpad[key].reshape(n * oh * ow, c)
        gw = taps.transpose(2, 3, 0, 1)
    if len(xs) == 3 and needs[2]:
        gb = sum_leading(g2, 1)  # Σ over samples and pixels
    return gx, gw, gb


def _pool_slices(x: np.ndarray, ctx: tuple):
    """(i, j, the slice of ``x`` holding pixel (i, j) of every window) for each kernel offset, row-major."""
    kh, kw, sh, sw = ctx
    oh, ow = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    for i in range(kh):
        for j in range(kw):
            yield (slice(None), slice(None), slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw))


def _max_pool2d_forward(xs, ctx):
    out = None
    for key in _pool_slices(xs[0], ctx):
        out = xs[0][key].copy() if out is None else np.maximum(out, xs[0][key], out=out)  # nan propagates
    return out


def _max_pool2d_vjp(g, xs, out, ctx, needs):
    x = xs[0]
    grad = np.zeros(x.shape, dtype=np.result_type(g, x))
    remaining = np.array(g, dtype=grad.dtype)  # each window's gradient, until its first maximum takes it
    overlapping = ctx[2] < ctx[0] or ctx[3] < ctx[1]
    slices = list(_pool_slices(x, ctx))  # the windows' pixel (i, j) for each offset, in row-major order
    nan_windows = np.isnan(out)
    if nan_windows.any():  # rare: set their gradient aside for the pass below
        nan_share = np.where(nan_windows, remaining, 0.0)
        remaining[nan_windows] = 0.0
    for key in slices:
        first = ~(x[key] < out)  # not below the maximum: the maximum itself (every pixel in a nan window)
        taken = np.where(first, remaining, 0.0)
        if overlapping:
            grad[key] += taken  # windows share pixels
        else:
            grad[key] = taken
        remaining[first] = 0.0
    if nan_windows.any():  # as PyTorch: a window holding nan sends its gradient to its LAST nan
        open_ = nan_windows.copy()
        for key in reversed(slices):
            last = np.isnan(x[key]) & open_
            grad[key] += np.where(last, nan_share, 0.0)
            open_ &= ~last
    return (grad,)


CONV2D = TensorOp("conv2d", "⋆", _conv2d_forward, _conv2d_vjp)
MAX_POOL2D = TensorOp("max_pool2d", "maxpool", _max_pool2d_forward, _max_pool2d_vjp)
TENSOR_OPS["conv2d"] = CONV2D
TENSOR_OPS["max_pool2d"] = MAX_POOL2D


def _images(x: Any, like: Tensor, what: str) -> Tensor:
    if type(x) is not Tensor:
        x = _lift(x, like, what)
    if x.ndim != 4:
        raise ValueError(f"{what} must be a batch of images (N, C, H, W), got shape {x.shape}")
    return x


def conv2d(x: Tensor | np.ndarray, weight: Tensor, bias: Tensor | None = None, stride: int | tuple = 1,
           padding: int | tuple = 0) -> Tensor:
    """2-D cross-correlation (PyTorch's ``conv2d``) as ONE node: out[n, o] = Σ_c x[n, c] ⋆ weight[o, c] + bias[o].

    ``x`` is (N, C, H, W), ``weight`` (O, C, kh, kw), ``bias`` (O,) or None; ``stride`` and ``padding``
    (zeros) are ints or (height, width) pairs. The result is (N, O, OH, OW) with
    OH = (H + 2·padding - kh) // stride + 1 (likewise OW).
    """
    if not isinstance(weight, Tensor):
        raise TypeError(f"conv2d weight must be a Tensor (O, C, kh, kw), got {type(weight).__name__}")
    if weight.ndim != 4 or weight.size == 0:
        raise ValueError(f"conv2d weight must have shape (out_channels, in_channels, kh, kw), got {weight.shape}")
    x = _images(x, weight, "conv2d x")
    sh, sw = _pair(stride, "conv2d stride", 1)
    ph, pw = _pair(padding, "conv2d padding", 0)
    o, c, kh, kw = weight.shape
    if x.shape[1] != c:
        raise ValueError(f"conv2d: x has {x.shape[1]} channels (shape {x.shape}) but the weight expects {c} "
                         f"(weight shape {weight.shape}); expected x of shape (N, {c}, H, W)")
    if x.shape[2] + 2 * ph < kh or x.shape[3] + 2 * pw < kw:
        raise ValueError(f"conv2d: the kernel {kh}x{kw} does not fit in the padded input {x.shape[2] + 2 * ph}x"
                         f"{x.shape[3] + 2 * pw} (x shape {x.shape}, padding {(ph, pw)}); "
                         "expected H + 2·padding >= kh and W + 2·padding >= kw")
    ctx = (sh, sw, ph, pw)
    if bias is None:
        inputs = (x, weight)
    else:
        if type(bias) is not Tensor:
            bias = _lift(bias, weight, "conv2d bias")
        if bias.shape != (o,):
            raise ValueError(f"conv2d bias must have shape ({o},) for a weight of shape {weight.shape}, "
                             f"got {bias.shape}")
        inputs = (x, weight, bias)
    return _apply(CONV2D, inputs, ctx)


def max_pool2d(x: Tensor, kernel_size: int | tuple, stride: int | tuple | None = None) -> Tensor:
    """The maximum of each kh × kw window (PyTorch's ``max_pool2d``, no padding, floor mode) as ONE node.

    ``x`` is (N, C, H, W); ``stride`` defaults to ``kernel_size``. The gradient of a window goes to its first
    maximum (row-major), or in a window holding nan to its last nan, as in PyTorch.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"max_pool2d x must be a Tensor (N, C, H, W), got {type(x).__name__}")
    x = _images(x, x, "max_pool2d x")
    kh, kw = _pair(kernel_size, "max_pool2d kernel_size", 1)
    sh, sw = (kh, kw) if stride is None else _pair(stride, "max_pool2d stride", 1)
    if x.shape[2] < kh or x.shape[3] < kw:
        raise ValueError(f"max_pool2d: the window {kh}x{kw} does not fit in the input {x.shape[2]}x{x.shape[3]} "
                         f"(x shape {x.shape}); expected H >= kh and W >= kw")
    ctx = (kh, kw, sh, sw)
    return _apply(MAX_POOL2D, (x,), ctx)
