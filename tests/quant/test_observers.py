import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwq.quant import (
    EMAObserver,
    EntropyObserver,
    MinMaxObserver,
    MSEObserver,
    PercentileObserver,
    QuantSpec,
    qparams_from_range,
)

SYM = QuantSpec(symmetric=True)
ASYM = QuantSpec()
HIST_OBSERVERS = [
    lambda spec: PercentileObserver(spec, percentile=99.9),
    lambda spec: EntropyObserver(spec),
    lambda spec: MSEObserver(spec, candidates=64),
]
ALL_MERGEABLE = [lambda spec: MinMaxObserver(spec)] + HIST_OBSERVERS


def _data(seed, n=20000):
    rng = np.random.default_rng(seed)
    x = rng.laplace(size=n).astype(np.float32)
    x[:3] = [40.0, -25.0, 0.0]
    return x


# ----------------------------------------------------------------------------- min/max, EMA
def test_minmax_per_tensor_and_channel():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 7, 3))
    o = MinMaxObserver(ASYM).update(x[:2]).update(x[2:])
    assert o.range() == (x.min(), x.max())
    spec = QuantSpec(granularity="channel", axis=-1)
    o = MinMaxObserver(spec).update(x[:2]).update(x[2:])
    lo, hi = o.range()
    assert np.array_equal(lo, x.min(axis=(0, 1))) and np.array_equal(hi, x.max(axis=(0, 1)))
    assert o.qparams() == qparams_from_range(lo, hi, spec)


def test_ema_hand_worked():
    o = EMAObserver(ASYM, momentum=0.5)
    o.update([-1.0, 1.0]).update([-3.0, 3.0]).update([0.0, 4.0])
    # lo: -1 -> -1 + .5(-3+1) = -2 -> -2 + .5(0+2) = -1; hi: 1 -> 2 -> 3
    assert o.range() == (-1.0, 3.0)
    assert not hasattr(o, "merge")
    with pytest.raises(ValueError, match=r"^momentum must be in \(0, 1\], not 0$"):
        EMAObserver(ASYM, momentum=0)


# ----------------------------------------------------------------------------- order / batching
@pytest.mark.parametrize("make", ALL_MERGEABLE)
@pytest.mark.parametrize("spec", [SYM, ASYM])
def test_result_independent_of_batching_order_and_merge(make, spec):
    x = _data(1)
    one = make(spec).update(x)
    rng = np.random.default_rng(2)
    for _ in range(3):
        perm = rng.permutation(x)
        cuts = np.sort(rng.choice(np.arange(1, x.size), size=rng.integers(1, 12), replace=False))
        parts = np.split(perm, cuts)
        streamed = make(spec)
        for p in parts:
            streamed.update(p)
        # calibration split across "processes", merged in a shuffled order
        workers = [make(spec).update(p) for p in parts]
        merged = make(spec)
        for i in rng.permutation(len(workers)):
            merged.merge(workers[i])
        for other in (streamed, merged):
            assert other.range() == one.range()
            assert other.qparams() == one.qparams()


@given(seed=st.integers(0, 2**32 - 1), scale_exp=st.integers(-20, 20),
       n_parts=st.integers(1, 8))
@settings(max_examples=60, deadline=None)
def test_histogram_counts_equal_one_pass(seed, scale_exp, n_parts):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(500) * 2.0 ** scale_exp * rng.random(500) ** 3
    x[rng.random(500) < 0.1] = 0.0
    one = PercentileObserver(ASYM, bins=64).update(x)
    parts = np.array_split(rng.permutation(x), n_parts)
    o = PercentileObserver(ASYM, bins=64)
    for p in parts[::-1]:
        o.update(p)
    h1, h2 = one._hist, o._hist
    assert h1.exp == h2.exp
    assert np.array_equal(h1.pos, h2.pos) and np.array_equal(h1.neg, h2.neg)
    # and the counts are those of a direct binning at the final grid
    w = math.ldexp(1.0, h1.exp)
    idx = np.floor(np.abs(x) / w).astype(int)
    assert np.array_equal(h1.pos, np.bincount(idx[x >= 0], minlength=h1.n))
    assert np.array_equal(h1.neg, np.bincount(idx[x < 0], minlength=h1.n))


# ----------------------------------------------------------------------------- percentile
def test_percentile_100_is_min_max():
    x = _data(3)
    assert PercentileObserver(ASYM, percentile=100).update(x).range() == (x.min(), x.max())
    a = np.abs(x).max()
    assert PercentileObserver(SYM, percentile=100).update(x).range() == (-25.0, a)


def test_percentile_matches_numpy_within_a_fine_bin():
    rng = np.random.default_rng(4)
    x = rng.standard_normal(200_000)
    o = PercentileObserver(ASYM, percentile=99.0, bins=2048).update(x)
    lo, hi = o.range()
    fine = math.ldexp(1.0, o._hist.exp)
    assert abs(hi - np.percentile(x, 99.0)) < 2 * fine
    assert abs(lo - np.percentile(x, 1.0)) < 2 * fine
    o = PercentileObserver(SYM, percentile=99.0).update(x)
    assert abs(o.range()[1] - np.percentile(np.abs(x), 99.0)) < 2 * fine


# ----------------------------------------------------------------------------- entropy
def _kl_brute_force(hist, i, levels, merge, eps=None):
    """TensorRT's pseudo-code, loop by loop (independent of the vectorised code)."""
    p = [float(v) for v in hist[:i]]
    p[i - 1] += float(sum(hist[i:]))
    src = [float(v) for v in hist[:i]]
    if merge == "even":
        level_of = [j * levels // i for j in range(i)]
    else:
        width = i // levels
        level_of = [min(j // width, levels - 1) for j in range(i)]
    sums = [0.0] * levels
    nonzero = [0] * levels
    for j in range(i):
        sums[level_of[j]] += src[j]
        nonzero[level_of[j]] += src[j] > 0
    q = [sums[level_of[j]] / nonzero[level_of[j]] if src[j] > 0 else 0.0 for j in range(i)]
    if eps is not None and p[i - 1] > 0 and q[i - 1] == 0:
        q[i - 1] = eps
    sp, sq = sum(p), sum(q)
    kl = 0.0
    for pj, qj in zip(p, q, strict=True):
        if pj > 0:
            if qj == 0:
                return math.inf
            kl += pj / sp * math.log((pj / sp) / (qj / sq))
    return kl


@pytest.mark.parametrize("merge", ["even", "floor"])
@pytest.mark.parametrize("eps", [None, 1e-4])
def test_kl_curve_matches_brute_force(merge, eps):
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.standard_normal(3000), rng.standard_normal(30) * 6])
    o = EntropyObserver(SYM, bins=64, start_bin=16, quant_bins=8, merge=merge,
                        smoothing=eps).update(x)
    hist, _ = o.histogram()
    cand, kl = o.kl_curve()
    assert cand.tolist() == list(range(16, 65))
    assert np.isinf(kl).any() == (eps is None)  # the data has outliers beyond empty bins
    for i, k in zip(cand.tolist(), kl.tolist(), strict=True):
        ref = _kl_brute_force(hist, i, 8, merge, eps)
        if math.isinf(ref):
            assert math.isinf(k)
        else:
            assert k == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_trt_worked_example():
    # TensorRT's slides: [1 0 2 3 5 3 1 7] merged into 2 levels -> Q = [2 0 2 2 4 4 4 4]
    hist = np.array([1, 0, 2, 3, 5, 3, 1, 7], float)
    p = hist / hist.sum()
    q = np.array([2, 0, 2, 2, 4, 4, 4, 4], float) / 22
    expect = sum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True) if pi > 0)
    assert _kl_brute_force(hist, 8, 2, "even") == pytest.approx(expect)
    from hwq.quant.observers import _kl_curve
    cand, kl = _kl_curve(hist, 8, 2, "even")
    assert kl[0] == pytest.approx(expect, rel=1e-12)


def test_entropy_threshold_rules_and_outliers():
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.standard_normal(100_000), [300.0, -250.0]])
    center = EntropyObserver(SYM).update(x)
    edge = EntropyObserver(SYM, threshold="edge").update(x)
    cand, kl = center.kl_curve()
    m = int(cand[np.argmin(kl)])
    w = 300.0 / 2048
    assert center.range()[1] == pytest.approx((m + 0.5) * w)
    assert edge.range()[1] == pytest.approx(m * w)
    assert 2.0 < center.range()[1] < 20.0  # clips the outliers, keeps the bulk
    # without smoothing no candidate can clip an outlier that sits beyond an empty bin
    assert EntropyObserver(SYM, smoothing=None).update(x).range()[1] >= 250.0
    relu = EntropyObserver(QuantSpec(signed=False)).update(np.maximum(x, 0))
    assert relu.range()[0] == 0.0


# ----------------------------------------------------------------------------- MSE
def test_mse_picks_the_least_error_candidate():
    rng = np.random.default_rng(7)
    x = rng.laplace(size=50_000)
    o = MSEObserver(SYM, candidates=128).update(x)
    alpha, lo, hi, mse = o.mse_curve()
    lo_best, hi_best = o.range()
    assert mse.min() <= mse[-1]
    # judged on the raw data: the chosen range beats plain min/max on a heavy tail
    def err(l, h):
        qp = qparams_from_range(l, h, SYM)
        return np.mean((qp.fake_quantize(x).astype(np.float64) - x) ** 2)
    assert err(lo_best, hi_best) < err(x.min(), x.max())
    assert hi_best < np.abs(x).max()


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("make", ALL_MERGEABLE + [lambda spec: EMAObserver(spec)])
@pytest.mark.parametrize("spec", [SYM, ASYM, QuantSpec(signed=False)])
def test_all_zero_batches_then_data(make, spec):
    o = make(spec).update(np.zeros(100))
    qp = o.qparams()
    assert np.isfinite(qp.scale).all() and (qp.scale > 0).all()
    assert qp.fake_quantize([0.0]).tolist() == [0.0]
    x = _data(8)
    if not isinstance(o, EMAObserver):
        assert o.update(x).qparams() == make(spec).update(np.zeros(100)).update(x).qparams()
        assert make(spec).update(x).update(np.zeros(7)).range() == \
            make(spec).update(np.zeros(7)).update(x).range()


@pytest.mark.parametrize("make", ALL_MERGEABLE + [lambda spec: EMAObserver(spec)])
def test_nan_policy(make):
    x = _data(9)
    bad = x.copy()
    bad[[5, 6]] = [np.nan, np.inf]
    with pytest.raises(ValueError, match=r"^calibration data contains 2 NaN or infinite value"):
        make(ASYM).update(bad)
    o = make(ASYM)
    o.nan_policy = "omit"
    clean = make(ASYM).update(np.delete(x, [5, 6]))
    assert o.update(bad).range() == clean.range()
    with pytest.raises(ValueError, match=r"^calibration data is empty \(shape \(0, 3\)\)$"):
        make(ASYM).update(np.zeros((0, 3)))
    with pytest.raises(RuntimeError, match=r"has observed no data; call update\(\) first$"):
        make(ASYM).range()


def test_bad_observer_settings():
    with pytest.raises(ValueError, match=r"^PercentileObserver supports per-tensor specs only, "
                                         r"not granularity='channel'$"):
        PercentileObserver(QuantSpec(granularity="channel", axis=0))
    with pytest.raises(ValueError, match=r"^percentile must be in \(0, 100\], not 0$"):
        PercentileObserver(ASYM, percentile=0)
    with pytest.raises(ValueError, match=r"^percentile must be in \(0, 100\], not 100\.5$"):
        PercentileObserver(ASYM, percentile=100.5)
    with pytest.raises(ValueError, match=r"^bins must be an integer in 8\.\.1048576, not 4$"):
        EntropyObserver(ASYM, bins=4)
    with pytest.raises(ValueError, match=r"^quant_bins must be in 2\.\.bins \(2048\), not 4096$"):
        EntropyObserver(ASYM, quant_bins=4096)
    with pytest.raises(ValueError, match=r"^smoothing must be None or a number in \(0, 1\), "
                                         r"not 0$"):
        EntropyObserver(ASYM, smoothing=0)
    with pytest.raises(ValueError, match=r"^tie must be one of first, last, not 'random'$"):
        EntropyObserver(ASYM, tie="random")
    with pytest.raises(ValueError, match=r"^cannot merge EntropyObservers with different"):
        EntropyObserver(ASYM).merge(EntropyObserver(ASYM, bins=1024))
    with pytest.raises(TypeError, match=r"^cannot merge MSEObserver into EntropyObserver$"):
        EntropyObserver(ASYM).merge(MSEObserver(ASYM))
    with pytest.raises(ValueError, match=r"^nan_policy must be one of raise, omit, not 'drop'$"):
        MinMaxObserver(ASYM, nan_policy="drop")
