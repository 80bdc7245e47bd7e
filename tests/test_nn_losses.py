"""nn.losses: values against numpy formulas, gradients against hand-derived formulas and central
differences, stability for large inputs, and the errors for bad targets."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import Value
from nn.losses import (
    LOSSES,
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    MSELoss,
    _each,
    _reduce,
    get_loss,
    prediction_engine,
    predictions_to_array,
)

RNG = np.random.default_rng(0)


def leaves(values):
    return [Value(float(v)) for v in values]


def grads(values):
    return np.array([v.grad for v in values])


# -- MSE ----------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction, scale", [("mean", 2 / 6), ("sum", 2.0), ("half_sum", 1.0)])
def test_mse_value_and_gradient(reduction, scale):
    p_data, y = RNG.normal(size=6), RNG.normal(size=6)
    p = leaves(p_data)
    loss = MSELoss(reduction)(p, y)
    squared = np.sum((p_data - y) ** 2)
    expected = {"mean": squared / 6, "sum": squared, "half_sum": 0.5 * squared}[reduction]
    assert math.isclose(loss.data, expected, rel_tol=1e-14)
    loss.backward()
    np.testing.assert_allclose(grads(p), scale * (p_data - y), rtol=1e-14)  # d/dp: 2(p - y)/N, 2(p - y), p - y


def test_mse_accepts_every_prediction_layout():
    rows = [leaves([0.1, 0.9]), leaves([0.4, 0.2]), leaves([0.7, 0.3])]
    y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    expected = np.mean((np.array([[0.1, 0.9], [0.4, 0.2], [0.7, 0.3]]) - y) ** 2)
    assert math.isclose(MSELoss()(rows, y).data, expected, rel_tol=1e-15)
    assert math.isclose(MSELoss()(rows[0], y[0]).data, np.mean((np.array([0.1, 0.9]) - y[0]) ** 2), rel_tol=1e-15)
    single = Value(0.25)
    assert MSELoss()(single, 1.0).data == 0.75**2
    column = leaves([0.2, 0.8, 0.5])
    assert MSELoss()(column, np.array([[0.0], [1.0], [1.0]])).data == MSELoss()(column, [0.0, 1.0, 1.0]).data


@pytest.mark.parametrize("target", [np.zeros(4), np.zeros((3, 2)), np.zeros((1, 3))])
def test_mse_shape_mismatch_names_both_shapes(target):
    with pytest.raises(ValueError, match=r"MSELoss: target has shape .* 3 sample\(s\) x 1 output\(s\); expected"):
        MSELoss()(leaves([1, 2, 3]), target)


def test_bad_reduction_and_bad_predictions():
    with pytest.raises(ValueError, match="reduction must be one of"):
        MSELoss("avg")
    with pytest.raises(ValueError, match="reduction must be one of"):
        BCELoss("half_sum")
    with pytest.raises(TypeError, match="predictions"):
        MSELoss()(np.array([0.1, 0.2]), np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="expected Values"):
        MSELoss()([[Value(1.0), 2.0]], np.array([[0.0, 1.0]]))
    with pytest.raises(ValueError, match="same number of outputs"):
        MSELoss()([leaves([1, 2]), leaves([1])], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="unknown loss 'l1'"):
        get_loss("l1")


# -- binary cross-entropy -------------------------------------------------------------------


def test_bce_value_and_gradient_against_the_formula():
    p_data = np.array([0.1, 0.6, 0.95, 0.3, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.25, 0.0])
    p = leaves(p_data)
    loss = BCELoss()(p, y)
    expected = -np.mean(y * np.log(p_data) + (1 - y) * np.log(1 - p_data))
    assert math.isclose(loss.data, expected, rel_tol=1e-14)
    loss.backward()
    np.testing.assert_allclose(grads(p), -(y / p_data - (1 - y) / (1 - p_data)) / 5, rtol=1e-13)


def test_bce_clamps_the_log_at_minus_100_like_pytorch():
    p = leaves([0.0, 1.0, 1.0])
    loss = BCELoss(reduction="sum")(p, np.array([1.0, 0.0, 1.0]))
    assert loss.data == 200.0
    loss.backward()
    assert grads(p).tolist() == [0.0, 0.0, -1.0]


def test_bce_rejects_targets_and_probabilities_outside_0_1():
    with pytest.raises(ValueError, match=r"BCELoss: targets must lie in \[0, 1\], got 2.0 at index \(1, 0\)"):
        BCELoss()(leaves([0.5, 0.5]), np.array([0.0, 2.0]))
    with pytest.raises(ValueError, match=r"predictions \(probabilities\) must lie in \[0, 1\]"):
        BCELoss()(leaves([1.5, 0.5]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\], got nan"):
        BCELoss()(leaves([0.5]), np.array([np.nan]))


def test_bce_with_logits_matches_stable_numpy_and_has_gradient_sigmoid_minus_y():
    z_data = np.array([-800.0, -30.0, -1.5, 0.0, 0.0, 2.0, 40.0, 800.0])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.3, 0.0, 1.0])
    z = leaves(z_data)
    loss = BCEWithLogitsLoss(reduction="sum")(z, y)
    expected = np.logaddexp(0.0, z_data) - y * z_data  # softplus(z) - y z, numpy's stable form
    assert math.isclose(loss.data, expected.sum(), rel_tol=1e-14)
    loss.backward()
    sigma = np.exp(-np.logaddexp(0.0, -z_data))  # 1 / (1 + e^-z) without overflow or cancellation
    np.testing.assert_allclose(grads(z), sigma - y, rtol=1e-12, atol=1e-300)
    assert grads(z)[3] == -0.5 and grads(z)[4] == 0.5  # at z = 0 exactly: σ(0) - y


def test_bce_with_logits_equals_bce_of_the_sigmoid():
    z_data, y = RNG.normal(size=5), np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    a = BCEWithLogitsLoss()(leaves(z_data), y).data
    b = BCELoss()([v.sigmoid() for v in leaves(z_data)], y).data
    assert math.isclose(a, b, rel_tol=1e-13)


# -- softmax cross-entropy --------------------------------------------------------------------


def numpy_log_softmax(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_cross_entropy_with_class_indices(scale):
    z_data = scale * RNG.normal(size=(4, 3))
    labels = np.array([2, 0, 1, 2])
    rows = [leaves(r) for r in z_data]
    loss = CrossEntropyLoss()(rows, labels)
    logp = numpy_log_softmax(z_data)
    assert math.isclose(loss.data, -np.mean(logp[np.arange(4), labels]), rel_tol=1e-13)
    loss.backward()
    onehot = np.eye(3)[labels]
    np.testing.assert_allclose([[v.grad for v in r] for r in rows], (np.exp(logp) - onehot) / 4, rtol=1e-11,
                               atol=1e-300)


def test_cross_entropy_with_probabilities_and_one_sample():
    z_data = np.array([[1.0, -0.5, 2.0], [0.0, 0.0, 0.0]])
    t = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    rows = [leaves(r) for r in z_data]
    loss = CrossEntropyLoss(reduction="sum")(rows, t)
    assert math.isclose(loss.data, -(t * numpy_log_softmax(z_data)).sum(), rel_tol=1e-14)
    loss.backward()
    np.testing.assert_allclose([[v.grad for v in r] for r in rows], np.exp(numpy_log_softmax(z_data)) - t,
                               rtol=1e-13, atol=1e-16)
    one = leaves([0.5, 1.5])  # a flat list is one sample's logits
    assert math.isclose(CrossEntropyLoss()(one, 1).data, math.log(1 + math.exp(-1.0)), rel_tol=1e-14)


@pytest.mark.parametrize("target, message", [
    (np.array([0, 3]), r"class label 3 at index 1 is out of range; expected an integer in \[0, 3\)"),
    (np.array([0, -1]), "out of range"),
    (np.array([0.0, 1.5]), "class labels must be integers"),
    (np.array([[0.5, 0.5, 0.5], [1.0, 0.0, 0.0]]), "must sum to 1, row 0 sums to 1.5"),
    (np.array([[1.5, -0.5, 0.0], [1.0, 0.0, 0.0]]), r"class probabilities must lie in \[0, 1\]"),
    (np.zeros((2, 2)), r"target has shape \(2, 2\); expected class indices of shape \(2,\)"),
])
def test_cross_entropy_rejects_bad_labels(target, message):
    with pytest.raises(ValueError, match=message):
        CrossEntropyLoss()([leaves([1, 2, 3]), leaves([3, 2, 1])], target)


# -- every loss against central differences ------------------------------------------------------


@given(st.lists(st.floats(-3, 3), min_size=6, max_size=6), st.lists(st.sampled_from([0.0, 1.0]), min_size=3,
                                                                      max_size=3))
def test_every_loss_passes_gradcheck(values, labels):
    y = np.array(labels)
    probs = [0.05 + 0.9 / (1 + math.exp(-v)) for v in values[:3]]  # strictly inside (0, 1)
    cases = [
        (lambda *p: MSELoss()(list(p), y), values[:3]),
        (lambda *p: MSELoss("half_sum")(list(p), y), values[:3]),
        (lambda *p: BCELoss()(list(p), y), probs),
        (lambda *p: BCEWithLogitsLoss()(list(p), y), values[:3]),
        (lambda *p: CrossEntropyLoss()([list(p[:3]), list(p[3:])], np.array([int(labels[0]), 2])), values),
    ]
    for f, data in cases:
        assert autograd.gradcheck(f, leaves(data), atol=1e-6, rtol=1e-5)


def test_predictions_to_array_and_engine():
    assert prediction_engine([Value(1.0)]) == "value"
    np.testing.assert_array_equal(predictions_to_array(leaves([1, 2])), [1.0, 2.0])
    np.testing.assert_array_equal(predictions_to_array([leaves([1, 2]), leaves([3, 4])]), [[1, 2], [3, 4]])
    with pytest.raises(TypeError):
        prediction_engine([1.0, 2.0])


# -- one formula for both engines (issue 12 item 4) ----------------------------------------------------

_ONE_FORMULA_CASES = {  # name -> (predictions (3, 2), targets), inside each loss's domain
    "mse": (RNG.normal(size=(3, 2)), RNG.normal(size=(3, 2))),
    "bce": (RNG.uniform(0.05, 0.95, size=(3, 2)), np.array([[0.0, 1.0], [1.0, 0.3], [0.5, 0.0]])),
    "bce_logits": (RNG.normal(scale=3.0, size=(3, 2)), np.array([[0.0, 1.0], [1.0, 0.3], [0.5, 0.0]])),
    "cross_entropy": (RNG.normal(scale=3.0, size=(3, 2)), np.array([1, 0, 1])),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_gives_the_same_value_and_gradients_on_both_engines(name):
    pred, target = _ONE_FORMULA_CASES[name]
    for reduction in ("mean", "sum"):
        rows = [leaves(row) for row in pred]
        value_loss = LOSSES[name](reduction)(rows, target)
        value_loss.backward()
        t = autograd.Tensor(pred, requires_grad=True)
        tensor_loss = LOSSES[name](reduction)(t, target)
        tensor_loss.backward()
        assert math.isclose(value_loss.data, tensor_loss.item(), rel_tol=1e-12)
        np.testing.assert_allclose(np.array([[v.grad for v in row] for row in rows]), t.grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_a_losss_formula_is_what_both_engines_compute(name, monkeypatch):
    pred, target = _ONE_FORMULA_CASES[name]
    monkeypatch.setattr(LOSSES[name], "formula", lambda self, p, t: _reduce(_each(lambda a, y: a * 0.0 + 7.0, p, t),
                                                                          "mean"))
    assert LOSSES[name]()([leaves(row) for row in pred], target).data == 7.0
    assert LOSSES[name]()(autograd.Tensor(pred), target).item() == 7.0


def test_bce_of_a_nan_prediction_is_nan_on_both_engines_and_the_clamp_still_holds():
    import nn
    from autograd import Tensor
    # nan propagates (a diverged net's loss is nan, which fit stops on), where it once read as p <= e^-100 → 100
    assert math.isnan(nn.BCELoss()([[Value(float("nan"))]], [1.0]).data)
    assert math.isnan(float(nn.BCELoss()(Tensor([[np.nan], [0.5]]), [1.0, 0.0]).data))
    # p = 0 with y = 1: -log clamped at 100, as PyTorch's BCELoss
    assert nn.BCELoss()([[Value(0.0)]], [1.0]).data == 100.0
    assert float(nn.BCELoss()(Tensor([[0.0]]), [1.0]).data) == 100.0


def test_bce_with_logits_at_infinite_logits_is_the_limit_on_both_engines():
    import warnings

    import nn
    from autograd import Tensor
    # ℓ(z, y) = y·softplus(-z) + (1 - y)·softplus(z): ∞ where the logit is confidently wrong, 0 where right
    cases = [(math.inf, 0.0, math.inf), (math.inf, 1.0, 0.0), (-math.inf, 0.0, 0.0), (-math.inf, 1.0, math.inf),
             (math.inf, 0.5, math.inf)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for z, y, expected in cases:
            assert nn.BCEWithLogitsLoss()([Value(z)], np.array([y])).data == expected, (z, y)
            assert float(nn.BCEWithLogitsLoss()(Tensor([[z]]), np.array([y])).data) == expected, (z, y)
