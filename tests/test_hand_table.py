"""The 2-2-1 worked example of seed report 004 (section 6) against the engine.

The table was worked by hand to 4 decimals, each step from the *rounded*
values of the steps before. So an entry may differ from the exact value by
its own rounding (half a unit of the 4th decimal, 5e-5) plus the rounding it
inherited. We bound the inherited part by first-order propagation through the
report's own recipe:

    bound(e) = 5e-5 + Σᵢ |∂recipe_e/∂hᵢ| · bound(hᵢ)

over the rounded entries hᵢ the recipe of e uses (partials by central
differences of the recipe; a bias gradient copies its delta and adds no
rounding). Bounds come out between 5e-5 and 1.45e-4. Every
entry must lie within its bound of the exact value, except where the table is
wrong beyond rounding: that disagreement is asserted explicitly below.
"""

from __future__ import annotations

import math

import pytest

from autograd.worked_example import hand_table, load_hand_table, two_two_one

HALF_UNIT = 0.5e-4  # the hand rounds every entry to 4 decimals


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


NET = load_hand_table()["network"]
X0, X1 = NET["inputs"]["x0"], NET["inputs"]["x1"]
Y = NET["label"]["y"]
H, O = NET["hidden"], NET["output"]

# The report's recipe: each entry as a formula of earlier entries (h) and the exact givens.
RECIPE = {
    "z0[1]": ((), lambda h: H["w00"] * X0 + H["w01"] * X1 + H["b0"]),
    "z1[1]": ((), lambda h: H["w10"] * X0 + H["w11"] * X1 + H["b1"]),
    "a0[1]": (("z0[1]",), lambda h: sigma(h["z0[1]"])),
    "a1[1]": (("z1[1]",), lambda h: sigma(h["z1[1]"])),
    "z0[2]": (("a0[1]", "a1[1]"), lambda h: O["w00"] * h["a0[1]"] + O["w01"] * h["a1[1]"] + O["b0"]),
    "yhat": (("z0[2]",), lambda h: sigma(h["z0[2]"])),
    "C": (("yhat",), lambda h: 0.5 * (h["yhat"] - Y) ** 2),
    "sigma_prime(z0[2])": (("yhat",), lambda h: h["yhat"] * (1 - h["yhat"])),
    "delta[2]": (("yhat", "sigma_prime(z0[2])"), lambda h: (h["yhat"] - Y) * h["sigma_prime(z0[2])"]),
    "sigma_prime(z0[1])": (("a0[1]",), lambda h: h["a0[1]"] * (1 - h["a0[1]"])),
    "sigma_prime(z1[1])": (("a1[1]",), lambda h: h["a1[1]"] * (1 - h["a1[1]"])),
    "delta0[1]": (("delta[2]", "sigma_prime(z0[1])"), lambda h: h["delta[2]"] * O["w00"] * h["sigma_prime(z0[1])"]),
    "delta1[1]": (("delta[2]", "sigma_prime(z1[1])"), lambda h: h["delta[2]"] * O["w01"] * h["sigma_prime(z1[1])"]),
    "w00[2]": (("delta[2]", "a0[1]"), lambda h: h["delta[2]"] * h["a0[1]"]),
    "w01[2]": (("delta[2]", "a1[1]"), lambda h: h["delta[2]"] * h["a1[1]"]),
    "b0[2]": (("delta[2]",), lambda h: h["delta[2]"]),
    "w00[1]": (("delta0[1]",), lambda h: h["delta0[1]"] * X0),
    "w01[1]": (("delta0[1]",), lambda h: h["delta0[1]"] * X1),
    "b0[1]": (("delta0[1]",), lambda h: h["delta0[1]"]),
    "w10[1]": (("delta1[1]",), lambda h: h["delta1[1]"] * X0),
    "w11[1]": (("delta1[1]",), lambda h: h["delta1[1]"] * X1),
    "b1[1]": (("delta1[1]",), lambda h: h["delta1[1]"]),
}

HAND = hand_table()
COPIES = {"b0[2]", "b0[1]", "b1[1]"}


def exact_values() -> dict[str, float]:
    """The recipe in float64 with nothing rounded: an independent derivation of every entry."""
    exact: dict[str, float] = {}
    for name, (_, formula) in RECIPE.items():  # RECIPE is in dependency order
        exact[name] = formula(exact)
    return exact


def rounding_bounds() -> dict[str, float]:
    """First-order bound on |hand - exact| if every step was done right and rounded to 4 decimals."""
    exact = exact_values()
    bounds: dict[str, float] = {}
    for name, (uses, formula) in RECIPE.items():
        inherited = 0.0
        for used in uses:
            step = 1e-6
            up, down = dict(exact), dict(exact)
            up[used] += step
            down[used] -= step
            partial = (formula(up) - formula(down)) / (2 * step)
            inherited += abs(partial) * bounds[used]
        # A bias gradient is a copy of its delta: nothing is rounded anew.
        bounds[name] = inherited + (0.0 if name in COPIES else HALF_UNIT)
    return bounds


EXACT = exact_values()
BOUNDS = rounding_bounds()
# Entries the hand got wrong beyond rounding: name -> the correct value to 4 decimals.
WRONG_BEYOND_ROUNDING = {"C": 0.1018}


@pytest.fixture(scope="module")
def engine() -> dict[str, float]:
    example = two_two_one()
    example.loss.backward()
    return example.values()


def test_table_covers_every_entry_of_the_recipe():
    assert set(HAND) == set(RECIPE)


def test_bounds_are_those_stated_in_the_docstring():
    assert min(BOUNDS.values()) == pytest.approx(5e-5)
    assert 1.4e-4 < max(BOUNDS.values()) < 1.45e-4


@pytest.mark.parametrize("name", list(RECIPE))
def test_engine_equals_the_independent_derivation(engine, name):
    assert engine[name] == pytest.approx(EXACT[name], abs=1e-15, rel=1e-12)


@pytest.mark.parametrize("name", [n for n in RECIPE if n not in WRONG_BEYOND_ROUNDING])
def test_hand_entry_agrees_within_its_rounding(engine, name):
    assert abs(HAND[name] - engine[name]) <= BOUNDS[name], (
        f"{name}: hand {HAND[name]}, engine {engine[name]:.8f}, bound {BOUNDS[name]:.2e}")


def test_loss_in_the_table_is_wrong_beyond_rounding(engine):
    # C = ½ (0.5488 - 1)² = ½ · 0.20358 = 0.10179, not 0.1010: a slip in the final halving or squaring.
    hand, exact = HAND["C"], engine["C"]
    assert hand == 0.1010
    assert exact == pytest.approx(0.1017800509, abs=1e-10)
    assert abs(hand - exact) > 9 * BOUNDS["C"]
    # The hand's own rounded inputs give the right answer, so the slip is in this step alone:
    assert round(RECIPE["C"][1](HAND), 4) == WRONG_BEYOND_ROUNDING["C"]


def test_output_delta_is_one_unit_off_its_own_inputs_yet_within_rounding_of_exact(engine):
    # From the hand's own yhat and sigma': -0.4512 x 0.2476 = -0.11172 -> -0.1117; the table says -0.1118.
    from_own_inputs = RECIPE["delta[2]"][1](HAND)
    assert round(from_own_inputs, 4) == -0.1117
    assert abs(HAND["delta[2]"] - from_own_inputs) > HALF_UNIT
    # ... which the inherited-rounding bound absorbs against the exact value (-0.11172):
    assert abs(HAND["delta[2]"] - engine["delta[2]"]) <= BOUNDS["delta[2]"]
