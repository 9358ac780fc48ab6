import numpy as np
import pytest

from hwq.quant import QuantSpec, round_half_away, round_half_even


@pytest.mark.parametrize("kwargs, qmin, qmax", [
    (dict(), -128, 127),
    (dict(narrow_range=True), -127, 127),
    (dict(signed=False), 0, 255),
    (dict(signed=False, narrow_range=True), 1, 255),
    (dict(bits=4), -8, 7),
    (dict(bits=2, signed=False), 0, 3),
    (dict(bits=16), -32768, 32767),
])
def test_code_range(kwargs, qmin, qmax):
    spec = QuantSpec(**kwargs)
    assert (spec.qmin, spec.qmax) == (qmin, qmax)
    info = np.iinfo(spec.dtype)
    assert info.min <= qmin and qmax <= info.max


def test_symmetric_zero_point():
    assert QuantSpec(symmetric=True).symmetric_zero_point == 0
    assert QuantSpec(symmetric=True, narrow_range=True).symmetric_zero_point == 0
    assert QuantSpec(symmetric=True, signed=False).symmetric_zero_point == 128
    assert QuantSpec(symmetric=True, signed=False, narrow_range=True).symmetric_zero_point == 128


@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(bits=1), ValueError, r"^bits must be an integer in 2\.\.16, not 1$"),
    (dict(bits=17), ValueError, r"^bits must be an integer in 2\.\.16, not 17$"),
    (dict(bits=8.0), TypeError, r"^bits must be an integer, not 8\.0$"),
    (dict(bits=True), TypeError, r"^bits must be an integer, not True$"),
    (dict(signed=1), TypeError, r"^signed must be a bool, not 1$"),
    (dict(granularity="row"), ValueError, r"^granularity must be one of tensor, channel, group, "
                                          r"not 'row'$"),
    (dict(rounding="up"), ValueError, r"^rounding must be one of half_even, half_away, not 'up'$"),
    (dict(granularity="channel"), ValueError, r"^axis is required for granularity='channel'$"),
    (dict(axis=0), ValueError, r"^axis must be None for per-tensor quantization, not 0$"),
    (dict(granularity="group", axis=1), ValueError,
     r"^group_size is required for granularity='group'$"),
    (dict(granularity="group", axis=1, group_size=0), ValueError,
     r"^group_size must be an integer in 1\.\.2147483647, not 0$"),
    (dict(granularity="channel", axis=0, group_size=4), ValueError,
     r"^group_size is only valid with granularity='group', not 4$"),
])
def test_bad_spec(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        QuantSpec(**kwargs)


def test_axis_out_of_range():
    spec = QuantSpec(granularity="channel", axis=3)
    with pytest.raises(ValueError, match=r"^axis must be in -2\.\.1 for a 2-d tensor, not 3$"):
        spec.normalized_axis(2)
    assert QuantSpec(granularity="channel", axis=-1).normalized_axis(4) == 3


def test_rounding_rules_hand_values():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994, 2.4, -2.6])
    assert round_half_even(x).tolist() == [0, 2, 2, -0, -2, -2, 0, 2, -3]
    assert round_half_away(x).tolist() == [1, 2, 3, -1, -2, -3, 0, 2, -3]


def test_dict_round_trip():
    spec = QuantSpec(bits=4, signed=False, granularity="group", axis=-1, group_size=32,
                     rounding="half_away")
    assert QuantSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ValueError, match=r"^unknown spec field\(s\): colour$"):
        QuantSpec.from_dict({"colour": 1})
