"""The three requantization behaviours against exact rational definitions written here.

The reference functions below state what each step *means* (round half up, round half away
from zero, of an exact rational), not how TFLite computes it (nudges, masks, shifts), so they
are an independent implementation.
"""

import itertools
from fractions import Fraction

import bigint
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwq.quant.fixedpoint import (
    INT32_MAX,
    INT32_MIN,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
)


def ref_srdhm(a, b):
    return bigint.srdhm(a, b)


def ref_mbqm(acc, M, shift, rounding):
    return bigint.mbqm(acc, M, shift, rounding)


def ref_quantize_multiplier(real: float):
    f = Fraction(real)
    e = 0
    while f >= 1:
        f /= 2
        e += 1
    while f < Fraction(1, 2):
        f *= 2
        e -= 1
    q = bigint.half_away(f * 2**31)
    if q == 2**31:
        q //= 2
        e += 1
    return q, e


MODES = ["double", "single", "double_half_up"]
int32s = st.integers(INT32_MIN, INT32_MAX)
mults = st.integers(2**30, 2**31 - 1)
shifts = st.integers(-31, 30)


@given(a=int32s, b=int32s)
@settings(max_examples=500, deadline=None)
def test_srdhm_random(a, b):
    assert int(saturating_rounding_doubling_high_mul(a, b)) == ref_srdhm(a, b)


def test_srdhm_corners():
    vals = [INT32_MIN, INT32_MIN + 1, -(2**30), -3, -1, 0, 1, 3, 2**30, INT32_MAX]
    a, b = np.array(list(itertools.product(vals, vals))).T
    got = saturating_rounding_doubling_high_mul(a, b)
    assert got.tolist() == [ref_srdhm(int(x), int(y)) for x, y in zip(a, b, strict=True)]
    assert int(saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MIN)) == INT32_MAX
    # ties: a·b/2^31 = ±1.5, ±2.5 round up (toward +inf)
    assert saturating_rounding_doubling_high_mul([3, -3, 5, -5], 2**30).tolist() == [2, -1, 3, -2]


@given(x=int32s, e=st.integers(0, 31))
@settings(max_examples=500, deadline=None)
def test_rdbpot_random(x, e):
    assert int(rounding_divide_by_pot(x, e)) == bigint.half_away(Fraction(x, 2**e))


def test_rdbpot_ties_away_from_zero():
    assert rounding_divide_by_pot([5, -5, 3, -3, 2, -2], 1).tolist() == [3, -3, 2, -2, 1, -1]
    assert rounding_divide_by_pot([INT32_MIN, INT32_MAX], 31).tolist() == [-1, 1]


@pytest.mark.parametrize("rounding", MODES)
@given(acc=int32s, M=mults, shift=shifts)
@settings(max_examples=400, deadline=None)
def test_mbqm_random(rounding, acc, M, shift):
    got = int(multiply_by_quantized_multiplier(acc, M, shift, rounding))
    assert got == ref_mbqm(acc, M, shift, rounding)


@pytest.mark.parametrize("rounding", MODES)
def test_mbqm_structured_corners(rounding):
    accs = [INT32_MIN, INT32_MIN + 1, -(2**24) - 1, -6, -2, -1, 0, 1, 2, 3, 6, 2**24 + 1,
            INT32_MAX]
    Ms = [2**30, 2**30 + 1, 3 * 2**29, 2**31 - 1]
    grid = np.array(list(itertools.product(accs, Ms, range(-31, 31))))
    got = multiply_by_quantized_multiplier(grid[:, 0], grid[:, 1], grid[:, 2], rounding)
    want = [ref_mbqm(int(a), int(m), int(s), rounding) for a, m, s in grid]
    assert got.tolist() == want


@pytest.mark.parametrize("rounding", MODES)
def test_mbqm_ties_at_each_rounding_step(rounding):
    rng = np.random.default_rng(0)
    cases = []
    for r in range(1, 31):
        # SRDHM exact (M = 2^30 halves an even a), then a tie in the second step:
        # a/2 = k·2^r + 2^(r-1)
        k = rng.integers(-(2**(29 - r)) if r < 29 else -1, 2**(29 - r) if r < 29 else 1,
                         size=4)
        cases += [(int(2 * (kk * 2**r + 2**(r - 1))), 2**30, -r) for kk in k]
    # a tie in the first step: odd a with M = 2^30 gives a/2 = k + ½
    cases += [(a, 2**30, s) for a in (-7, -5, -3, -1, 1, 3, 5, 7) for s in (0, -1, -2)]
    acc, M, s = np.array(cases).T
    got = multiply_by_quantized_multiplier(acc, M, s, rounding)
    assert got.tolist() == [ref_mbqm(int(a), int(m), int(e), rounding) for a, m, e in cases]


def test_double_and_single_differ_on_double_ties():
    # acc·m = 3.49988..: SRDHM gives 3.5 exactly in fixed point, RDBPOT rounds it to 4;
    # single rounding sees 3.4998.. and gives 3
    M, shift = 2**31 - 2**17, -2
    acc = 14
    assert Fraction(acc * M, 2**33) < Fraction(7, 2)
    assert int(multiply_by_quantized_multiplier(acc, M, shift, "double")) == 4
    assert int(multiply_by_quantized_multiplier(acc, M, shift, "single")) == 3


def test_per_channel_broadcast():
    acc = np.arange(-6, 6).reshape(4, 3) * 1000
    M = np.array([2**30, 3 * 2**29, 2**31 - 1])
    s = np.array([-3, 0, -10])
    got = multiply_by_quantized_multiplier(acc, M, s)
    for i, j in np.ndindex(acc.shape):
        assert got[i, j] == ref_mbqm(int(acc[i, j]), int(M[j]), int(s[j]), "double")


@given(real=st.floats(2.0**-31, 2.0**30 * 0.999, allow_nan=False, allow_infinity=False))
@settings(max_examples=500, deadline=None)
def test_quantize_multiplier(real):
    M, e = quantize_multiplier(real)
    assert (int(M), int(e)) == ref_quantize_multiplier(real)
    assert 2**30 <= int(M) < 2**31
    assert abs(Fraction(int(M)) * Fraction(2) ** (int(e) - 31) - Fraction(real)) \
        <= Fraction(real) * Fraction(1, 2**30)


def test_quantize_multiplier_hand_values_and_errors():
    assert [tuple(map(int, quantize_multiplier(v))) for v in (0.5, 0.75, 1.0, 2.0)] == \
        [(2**30, 0), (3 * 2**29, 0), (2**30, 1), (2**30, 2)]
    # just below 1: f·2^31 rounds up to 2^31, which is halved with shift + 1
    assert tuple(map(int, quantize_multiplier(1 - 2.0**-40))) == (2**30, 1)
    with pytest.raises(ValueError, match=r"^multiplier must be finite and > 0, not 0\.0$"):
        quantize_multiplier(0.0)
    with pytest.raises(ValueError, match=r"^multiplier must be finite and > 0, not nan$"):
        quantize_multiplier([1.0, np.nan])
    with pytest.raises(ValueError, match=r"^multiplier 1e-10 needs shift -33, outside the "
                                         r"supported shift range -31\.\.30$"):
        quantize_multiplier(1e-10)
    with pytest.raises(ValueError, match=r"^multiplier 0\.001 needs shift -9, outside the "
                                         r"supported shift range -8\.\.0$"):
        quantize_multiplier(0.001, shift_range=(-8, 0))


def test_mbqm_input_errors():
    with pytest.raises(ValueError, match=r"^acc must be in -2147483648\.\.2147483647, "
                                         r"not 2147483648$"):
        multiply_by_quantized_multiplier(2**31, 2**30, 0)
    with pytest.raises(ValueError, match=r"^shift must be in -31\.\.30, not 31$"):
        multiply_by_quantized_multiplier(1, 2**30, 31)
    with pytest.raises(ValueError, match=r"^rounding must be one of double, single, "
                                         r"double_half_up, not 'up'$"):
        multiply_by_quantized_multiplier(1, 2**30, 0, "up")
