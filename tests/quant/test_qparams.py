import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hwq.quant import QParams, QuantSpec, dynamic_qparams, qparams_from_range


def test_asymmetric_hand_worked():
    # s = 4/255; z = -128 - R(-1/s) = -128 - R(-63.75) = -64
    qp = qparams_from_range(-1.0, 3.0, QuantSpec())
    assert qp.scale == np.float32(4 / 255)
    assert int(qp.zero_point) == -64
    # 3/s = 191.25 -> 191 + (-64) = 127; 0.01/s = 0.6375 -> 1 - 64 = -63
    assert qp.quantize([-1.0, 0.0, 3.0, 0.01]).tolist() == [-128, -64, 127, -63]
    assert qp.quantize([0.0]).dtype == np.int8


def test_symmetric_hand_worked():
    qp = qparams_from_range(-2.0, 1.0, QuantSpec(symmetric=True))
    assert qp.scale == np.float32(2 / 127.5) and int(qp.zero_point) == 0
    qp = qparams_from_range(-2.0, 1.0, QuantSpec(symmetric=True, narrow_range=True))
    assert qp.scale == np.float32(2 / 127)
    assert qp.quantize([-2.0, 2.0, -5.0]).tolist() == [-127, 127, -127]
    qp = qparams_from_range(0.0, 1.0, QuantSpec(symmetric=True, signed=False))
    assert int(qp.zero_point) == 128 and qp.scale == np.float32(1 / 127.5)


def test_range_widened_to_contain_zero():
    qp = qparams_from_range(2.0, 3.0, QuantSpec(signed=False))
    assert qp.scale == np.float32(3 / 255) and int(qp.zero_point) == 0
    qp = qparams_from_range(-3.0, -2.0, QuantSpec(signed=False))
    assert int(qp.zero_point) == 255


def test_rounding_modes_in_quantize():
    x = [0.5, 1.5, 2.5, -0.5, -2.5]
    even = QParams(1.0, 0, QuantSpec())
    away = QParams(1.0, 0, QuantSpec(rounding="half_away"))
    assert even.quantize(x).tolist() == [0, 2, 2, 0, -2]
    assert away.quantize(x).tolist() == [1, 2, 3, -1, -3]


@pytest.mark.parametrize("spec", [QuantSpec(), QuantSpec(symmetric=True),
                                  QuantSpec(signed=False), QuantSpec(bits=4, narrow_range=True)])
@pytest.mark.parametrize("value", [0.0, 5.0, -5.0, 1e-30])
def test_all_zero_and_constant_tensors(spec, value):
    x = np.full((3, 4), value, np.float32)
    qp = dynamic_qparams(x, spec)
    s = float(qp.scale)
    assert np.isfinite(s) and s > 0
    assert qp.fake_quantize([0.0]).tolist() == [0.0]
    # symmetric int8 divides by 127.5, so +amax sits exactly half a step above code 127:
    # allow one float32 ulp of x on top of s/2
    err = np.abs(qp.fake_quantize(x).astype(np.float64) - x.astype(np.float64))
    assert np.all(err <= s / 2 + np.spacing(np.abs(x)))


@pytest.mark.parametrize("kwargs, message", [
    (dict(scale=0.0, zero_point=0), r"^scale must be finite and > 0 as float32, not 0\.0$"),
    (dict(scale=-1.0, zero_point=0), r"^scale must be finite and > 0 as float32, not -1\.0$"),
    (dict(scale=1e-50, zero_point=0), r"^scale must be finite and > 0 as float32, not 1e-50$"),
    (dict(scale=np.nan, zero_point=0), r"^scale must be finite and > 0 as float32, not nan$"),
    (dict(scale=1.0, zero_point=128), r"^zero_point must be in -128\.\.127, not 128$"),
    (dict(scale=1.0, zero_point=0.5), r"^zero_point must hold integers, not \[0\.5\]$"),
    (dict(scale=[1.0, 2.0], zero_point=0), r"^scale must hold one value for per-tensor "
                                           r"quantization, not shape \(2,\)$"),
])
def test_bad_qparams(kwargs, message):
    with pytest.raises(ValueError, match=message):
        QParams(spec=QuantSpec(), **kwargs)


def test_bad_qparams_per_channel_and_symmetric():
    spec = QuantSpec(granularity="channel", axis=0)
    with pytest.raises(ValueError, match=r"^scale must be finite and > 0 as float32, not 0\.0 "
                                         r"\(at index \(1,\)\)$"):
        QParams([1.0, 0.0], 0, spec)
    with pytest.raises(ValueError, match=r"^zero_point shape \(3,\) does not match scale shape"):
        QParams([1.0, 1.0], [0, 0, 0], spec)
    with pytest.raises(ValueError, match=r"^zero_point must be 0 for a symmetric spec, not 3$"):
        QParams(1.0, 3, QuantSpec(symmetric=True))


def test_bad_range():
    with pytest.raises(ValueError, match=r"^lo must be <= hi, not lo=2\.0 > hi=1\.0$"):
        qparams_from_range(2.0, 1.0, QuantSpec())
    with pytest.raises(ValueError, match=r"^hi must be finite, not inf$"):
        qparams_from_range(0.0, np.inf, QuantSpec())


def test_dynamic_nan_policy():
    x = np.array([1.0, np.nan, -2.0, np.inf])
    with pytest.raises(ValueError, match=r"^x contains 2 NaN or infinite value\(s\) out of 4; "
                                         r"pass nan_policy='omit' to ignore them$"):
        dynamic_qparams(x, QuantSpec())
    assert dynamic_qparams(x, QuantSpec(), nan_policy="omit") == \
        qparams_from_range(-2.0, 1.0, QuantSpec())
    with pytest.raises(ValueError, match=r"^x is empty \(shape \(0,\)\)$"):
        dynamic_qparams(np.zeros(0), QuantSpec())
    with pytest.raises(ValueError, match=r"^nan_policy must be one of raise, omit, not 'skip'$"):
        dynamic_qparams(x, QuantSpec(), nan_policy="skip")


def test_quantize_nan_is_an_error_and_inf_saturates():
    qp = QParams(0.5, 3, QuantSpec())
    with pytest.raises(ValueError, match=r"^x contains NaN"):
        qp.quantize([np.nan])
    assert qp.quantize([np.inf, -np.inf]).tolist() == [127, -128]


def test_group_shapes_and_errors():
    w = np.random.default_rng(0).standard_normal((4, 64))
    spec = QuantSpec(symmetric=True, granularity="group", axis=1, group_size=32)
    qp = dynamic_qparams(w, spec)
    assert qp.scale.shape == (4, 2)
    for o in range(4):
        for g in range(2):
            part = w[o, 32 * g:32 * (g + 1)]
            ref = dynamic_qparams(part, QuantSpec(symmetric=True))
            assert qp.scale[o, g] == ref.scale
            assert np.array_equal(qp.quantize(w)[o, 32 * g:32 * (g + 1)], ref.quantize(part))
    with pytest.raises(ValueError, match=r"^group_size must divide the size of axis 1 \(64\), "
                                         r"not 24$"):
        dynamic_qparams(w, QuantSpec(granularity="group", axis=1, group_size=24))
    with pytest.raises(ValueError, match=r"^axis must be in -2\.\.1 for a 2-d tensor, not 2$"):
        dynamic_qparams(w, QuantSpec(granularity="channel", axis=2))


def test_json_round_trip_is_exact():
    rng = np.random.default_rng(3)
    scale = (rng.random(17) * 10.0 ** rng.integers(-30, 30, 17)).astype(np.float32)
    qp = QParams(scale, rng.integers(-128, 128, 17), QuantSpec(granularity="channel", axis=-1))
    back = QParams.from_dict(json.loads(json.dumps(qp.to_dict())))
    assert back == qp and back.scale.tobytes() == qp.scale.tobytes()


# ----------------------------------------------------------------------------- properties
specs = st.builds(QuantSpec, bits=st.integers(2, 16), signed=st.booleans(),
                  symmetric=st.booleans(), narrow_range=st.booleans(),
                  rounding=st.sampled_from(["half_even", "half_away"]))
finite = st.floats(-1e6, 1e6, allow_nan=False, width=32)


@given(spec=specs, lo=finite, hi=finite)
@settings(max_examples=300, deadline=None)
def test_zero_is_exact(spec, lo, hi):
    lo, hi = min(lo, hi), max(lo, hi)
    qp = qparams_from_range(lo, hi, spec)
    assert qp.fake_quantize([0.0]).tolist() == [0.0]


@given(spec=specs, lo=finite, hi=finite, u=st.lists(st.floats(0, 1), min_size=1, max_size=20))
@settings(max_examples=300, deadline=None)
def test_error_at_most_half_a_step_inside_the_range(spec, lo, hi, u):
    lo, hi = min(lo, hi), max(lo, hi)
    qp = qparams_from_range(lo, hi, spec)
    s, z = float(qp.scale), int(qp.zero_point)
    a, b = s * (spec.qmin - z), s * (spec.qmax - z)
    x = a + np.asarray(u) * (b - a)
    q = qp.quantize(x)
    # exact rational check of |s·(q − z) − x| ≤ s/2 (the float32 result of dequantize is one
    # more rounding, covered separately below)
    for qi, xi in zip(q.tolist(), x.tolist(), strict=True):
        assert abs(Fraction(s) * (qi - z) - Fraction(xi)) <= Fraction(s) / 2
    assert np.all(np.abs(qp.dequantize(q).astype(np.float64) - x)
                  <= s / 2 + np.spacing(np.float32(max(abs(a), abs(b)))))


@given(spec=specs, x=hnp.arrays(np.float32, st.integers(2, 50), elements=finite))
@settings(max_examples=200, deadline=None)
def test_quantize_is_monotone(spec, x):
    qp = dynamic_qparams(x, spec)
    q = qp.quantize(np.sort(x)).astype(np.int64)
    assert np.all(np.diff(q) >= 0)


@given(x=hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=6),
                    elements=finite), sym=st.booleans(), axis=st.integers(-2, 1))
@settings(max_examples=200, deadline=None)
def test_per_channel_equals_per_tensor_slice_by_slice(x, sym, axis):
    spec = QuantSpec(symmetric=sym, granularity="channel", axis=axis)
    qp = dynamic_qparams(x, spec)
    q = qp.quantize(x)
    for c in range(x.shape[axis]):
        part = np.take(x, c, axis=axis)
        ref = dynamic_qparams(part, QuantSpec(symmetric=sym))
        assert qp.scale[c] == ref.scale and qp.zero_point[c] == ref.zero_point
        assert np.array_equal(np.take(q, c, axis=axis), ref.quantize(part))
