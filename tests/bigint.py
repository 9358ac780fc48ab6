"""An independent, exact (Python int / Fraction) statement of the requantization contract.

Each function says what a step *means* (round half up or half away from zero of an exact
rational) rather than how the fixed-point code computes it, so tests can compare the
vectorised implementation against it.
"""

import math
from fractions import Fraction

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def half_up(v: Fraction) -> int:
    return math.floor(v + Fraction(1, 2))


def half_away(v: Fraction) -> int:
    return int(math.copysign(math.floor(abs(v) + Fraction(1, 2)), v)) if v else 0


def wrap32(v: int) -> int:
    return (v + 2**31) % 2**32 - 2**31


def srdhm(a: int, b: int) -> int:
    if a == b == INT32_MIN:
        return INT32_MAX
    return half_up(Fraction(a * b, 2**31))


def mbqm(acc: int, M: int, shift: int, rounding: str) -> int:
    if rounding == "single":
        return max(INT32_MIN, min(INT32_MAX, half_up(Fraction(acc * M, 2 ** (31 - shift)))))
    a = wrap32(acc * 2 ** max(shift, 0))
    r = max(-shift, 0)
    if rounding == "double":
        return half_away(Fraction(srdhm(a, M), 2**r))
    return half_up(Fraction(half_up(Fraction(a * M, 2**31)), 2**r))


def linear(x, w, bias_q, z_in, M, shift, z_out, lo, hi, rounding):
    """A whole int8 linear layer with Python ints: ``x [rows][K]``, ``w [N][K]``, unfolded
    bias."""
    out = []
    for row in x:
        out_row = []
        for c, wc in enumerate(w):
            acc = int(bias_q[c])
            acc += sum((int(a) - z_in) * int(b) for a, b in zip(row, wc, strict=True))
            y = mbqm(acc, int(M[c]), int(shift[c]), rounding) + z_out
            out_row.append(max(lo, min(hi, y)))
        out.append(out_row)
    return out
