"""Fixed-point requantization, bit-exact with TFLite's three integer behaviours.

A real multiplier ``m > 0`` becomes an int32 ``M ∈ [2^30, 2^31)`` and a shift ``e`` with
``m ≈ M · 2^(e − 31)`` (:func:`quantize_multiplier`). An int32 accumulator is then scaled by
:func:`multiply_by_quantized_multiplier` in one of three ways:

``"double"`` (TFLite reference kernels, gemmlowp; the default)
    ``RDBPOT(SRDHM(acc · 2^max(e, 0), M), max(−e, 0))``: the left shift wraps to int32, SRDHM
    rounds ``a·M / 2^31`` half up (``INT32_MIN · INT32_MIN`` saturates to ``INT32_MAX``), and
    RDBPOT divides by ``2^r`` rounding half away from zero.
``"single"`` (TFLite's ``TFLITE_SINGLE_ROUNDING`` builds)
    ``(acc · M + 2^(30 − e)) >> (31 − e)``: ``acc · m`` rounded once, half up. TFLite only
    DCHECKs that this fits int32; hwq saturates it to int32.
``"double_half_up"`` (TFLite's optimized CPU kernels)
    the two steps of ``"double"``, each rounding ties toward +∞:
    ``h = (a · M + 2^30) >> 31``, then ``(h + 2^(r − 1)) >> r``.

Everything is vectorised over NumPy arrays (per-channel ``M`` and ``e`` broadcast against the
accumulators) and computed in int64, where every intermediate fits: ``|a·M| < 2^62``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "INT32_MIN", "INT32_MAX", "ROUNDING_MODES", "SHIFT_RANGE", "quantize_multiplier",
    "saturating_rounding_doubling_high_mul", "rounding_divide_by_pot",
    "multiply_by_quantized_multiplier",
]

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
ROUNDING_MODES = ("double", "single", "double_half_up")
SHIFT_RANGE = (-31, 30)


def _int_array(x, name, lo, hi):
    a = np.asarray(x)
    if a.dtype.kind not in "iu":
        if a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.round(a)):
            a = a.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integers, not dtype {a.dtype}")
    a = a.astype(np.int64)
    bad = (a < lo) | (a > hi)
    if bad.any():
        raise ValueError(f"{name} must be in {lo}..{hi}, not {int(a[bad].ravel()[0])}")
    return a


def _check_shift_range(shift_range):
    try:
        lo, hi = (int(v) for v in shift_range)
    except (TypeError, ValueError):
        raise TypeError(f"shift_range must be a pair of integers, not {shift_range!r}") from None
    if not SHIFT_RANGE[0] <= lo <= hi <= SHIFT_RANGE[1]:
        raise ValueError(f"shift_range must lie within {SHIFT_RANGE[0]}..{SHIFT_RANGE[1]} with "
                         f"low <= high, not {shift_range!r}")
    return lo, hi


def quantize_multiplier(real, shift_range=SHIFT_RANGE):
    """Return ``(M, shift)`` int32 arrays with ``real ≈ M · 2^(shift − 31)`` (TFLite's
    QuantizeMultiplier).

    ``real = f · 2^shift`` with ``f ∈ [½, 1)`` (``frexp``), ``M = round_half_away(f · 2^31)``,
    and ``M == 2^31`` is halved with ``shift + 1``. Every step is exact in float64. ``real``
    must be finite and > 0, and ``shift`` must lie in ``shift_range`` (the shifts the hardware
    can apply; at most ``-31..30``).
    """
    lo, hi = _check_shift_range(shift_range)
    r = np.asarray(real, dtype=np.float64)
    bad = ~(np.isfinite(r) & (r > 0))
    if bad.any():
        raise ValueError(f"multiplier must be finite and > 0, not {float(r[bad].ravel()[0])!r}")
    f, e = np.frexp(r)
    # t = f·2^31 < 2^31 is exact, and so is t + ½ (t's ulp is at most 2^-22); for t > 0,
    # floor(t + ½) is rounding half away from zero
    q = np.floor(f * 2.0**31 + 0.5)
    q = q.astype(np.int64)
    e = e.astype(np.int64)
    top = q == (1 << 31)
    q = np.where(top, q // 2, q)
    e = np.where(top, e + 1, e)
    out = (e < lo) | (e > hi)
    if out.any():
        i = np.argwhere(out)[0] if out.ndim else ()
        raise ValueError(f"multiplier {float(r[tuple(i)])!r} needs shift {int(e[tuple(i)])}, "
                         f"outside the supported shift range {lo}..{hi}")
    return q.astype(np.int32), e.astype(np.int32)


def _wrap32(v):
    return ((v + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _srdhm(a, b):
    ab = a * b
    num = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    q = np.where(num >= 0, num >> 31, -((-num) >> 31))      # division truncating toward zero
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, q)


def _rdbpot(x, e):
    mask = (np.int64(1) << e) - 1
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + ((x & mask) > threshold)


def saturating_rounding_doubling_high_mul(a, b):
    """gemmlowp's SaturatingRoundingDoublingHighMul on int32 values: ``a·b / 2^31`` rounded
    half up, with ``INT32_MIN · INT32_MIN → INT32_MAX``. Returns int32."""
    a = _int_array(a, "a", INT32_MIN, INT32_MAX)
    b = _int_array(b, "b", INT32_MIN, INT32_MAX)
    return _srdhm(a, b).astype(np.int32)


def rounding_divide_by_pot(x, exponent):
    """gemmlowp's RoundingDivideByPOT: ``x / 2^exponent`` rounded half away from zero,
    ``exponent ∈ 0..31``. Returns int32."""
    x = _int_array(x, "x", INT32_MIN, INT32_MAX)
    e = _int_array(exponent, "exponent", 0, 31)
    return _rdbpot(x, e).astype(np.int32)


def multiply_by_quantized_multiplier(acc, M, shift, rounding: str = "double"):
    """Scale int32 accumulators by ``M · 2^(shift − 31)`` as TFLite does (see module docs).

    ``acc``, ``M`` and ``shift`` broadcast against each other (per-channel ``M``/``shift`` on
    the last axis of ``acc``, for instance). Returns int32.
    """
    if rounding not in ROUNDING_MODES:
        raise ValueError(f"rounding must be one of {', '.join(ROUNDING_MODES)}, not {rounding!r}")
    acc = _int_array(acc, "acc", INT32_MIN, INT32_MAX)
    M = _int_array(M, "M", 0, INT32_MAX)
    shift = _int_array(shift, "shift", *SHIFT_RANGE)
    return _mbqm(acc, M, shift, rounding).astype(np.int32)


def _mbqm(acc, M, shift, rounding):
    """Unchecked int64 core of :func:`multiply_by_quantized_multiplier`."""
    if rounding == "single":
        total = 31 - shift
        y = (acc * M + (np.int64(1) << (total - 1))) >> total
        return np.clip(y, INT32_MIN, INT32_MAX)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    a = _wrap32(acc << left)
    if rounding == "double":
        return _rdbpot(_srdhm(a, M), right)
    h = (a * M + (1 << 30)) >> 31
    half = np.where(right > 0, np.int64(1) << np.maximum(right - 1, 0), 0)
    return (h + half) >> right
