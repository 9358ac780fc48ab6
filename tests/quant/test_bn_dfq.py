import numpy as np
import pytest

from hwq.quant import (
    QuantSpec,
    analytic_bias_correction,
    equalize_cross_layer,
    fold_batchnorm,
    qparams_from_range,
    relu_gaussian_mean,
    weight_qparams,
)
from hwq.quant.qparams import reduce_range

W_SPEC = QuantSpec(symmetric=True, narrow_range=True, granularity="channel", axis=0)


def test_fold_batchnorm_equals_linear_then_bn():
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((6, 5)), rng.standard_normal(6)
    gamma, beta = rng.standard_normal(6), rng.standard_normal(6)
    mean, var = rng.standard_normal(6), rng.random(6)
    x = rng.standard_normal((9, 5))
    bn = gamma * (x @ w.T + b - mean) / np.sqrt(var + 1e-3) + beta
    wf, bf = fold_batchnorm(w, b, gamma, beta, mean, var, eps=1e-3)
    assert np.allclose(x @ wf.T.astype(np.float64) + bf, bn, atol=1e-5)
    wc = rng.standard_normal((6, 3, 3, 2))
    wcf, _ = fold_batchnorm(wc, None, gamma, beta, mean, var)
    assert np.allclose(wcf, wc * (gamma / np.sqrt(var + 1e-5))[:, None, None, None], atol=1e-6)


def test_fold_batchnorm_errors():
    w = np.ones((4, 2))
    with pytest.raises(ValueError, match=r"^gamma must have shape \(4,\) to match axis 0 of w, "
                                         r"not \(3,\)$"):
        fold_batchnorm(w, None, np.ones(3), np.ones(4), np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match=r"^var must be >= 0, not -1\.0$"):
        fold_batchnorm(w, None, np.ones(4), np.ones(4), np.ones(4), -np.ones(4))
    with pytest.raises(ValueError, match=r"^mean contains NaN or infinite values$"):
        fold_batchnorm(w, None, np.ones(4), np.ones(4), np.full(4, np.nan), np.ones(4))


def _channel_mse(w, qp_or_ranges):
    return ((qp_or_ranges.fake_quantize(w) - w) ** 2).sum(axis=1)


def test_weight_qparams_minmax_and_mse_per_channel():
    rng = np.random.default_rng(1)
    w = rng.laplace(size=(8, 256))
    spec = QuantSpec(bits=4, symmetric=True, narrow_range=True, granularity="channel", axis=0)
    mm = weight_qparams(w, spec, "minmax")
    lo, hi = reduce_range(w, spec)
    assert mm == qparams_from_range(lo, hi, spec)
    mse = weight_qparams(w, spec, "mse", candidates=50)
    # independent slice-by-slice search with per-tensor parameters
    spec_t = QuantSpec(bits=4, symmetric=True, narrow_range=True)
    for c in range(8):
        a = np.abs(w[c]).max()
        errs = []
        for k in range(50, 0, -1):
            qp = qparams_from_range(-a * k / 50, a * k / 50, spec_t)
            errs.append((((qp.fake_quantize(w[c]) - w[c]) ** 2).sum(), k))
        best_k = min(errs, key=lambda e: e[0])[1]
        assert mse.scale[c] == qparams_from_range(-a * best_k / 50, a * best_k / 50, spec_t).scale
    # 4-bit Laplace weights: clipping the tails pays off in every channel
    assert np.all(_channel_mse(w, mse) < 0.9 * _channel_mse(w, mm))


def test_cross_layer_equalization():
    rng = np.random.default_rng(2)
    w1 = rng.standard_normal((5, 4)) * np.array([10, 0.1, 1, 3, 0.01])[:, None]
    b1 = rng.standard_normal(5)
    w2 = rng.standard_normal((3, 5))
    x = rng.standard_normal((20, 4))
    before = np.maximum(x @ w1.T + b1, 0) @ w2.T
    w1e, b1e, w2e, s = equalize_cross_layer(w1, b1, w2)
    after = np.maximum(x @ w1e.T.astype(float) + b1e, 0) @ w2e.T.astype(float)
    assert np.allclose(before, after, rtol=1e-5, atol=1e-5)
    r1, r2 = np.abs(w1e).max(axis=1), np.abs(w2e).max(axis=0)
    assert np.allclose(r1, r2, rtol=1e-6)
    assert np.allclose(r1, np.sqrt(np.abs(w1).max(axis=1) * np.abs(w2).max(axis=0)), rtol=1e-6)
    # conv layout [out, kh, kw, in]
    c1, c2 = rng.standard_normal((5, 3, 3, 2)), rng.standard_normal((4, 3, 3, 5))
    _, _, c2e, s = equalize_cross_layer(c1, None, c2)
    assert np.allclose(c2e, c2 * s, rtol=1e-6)


def test_relu_gaussian_mean_against_sampling():
    rng = np.random.default_rng(3)
    mu, sigma = np.array([0.0, 1.0, -1.0, 2.0]), np.array([1.0, 0.5, 2.0, 0.0])
    z = mu + sigma * rng.standard_normal((400_000, 4))
    mc = np.maximum(z, 0).mean(axis=0)
    assert np.allclose(relu_gaussian_mean(mu, sigma), mc, atol=5e-3)
    assert relu_gaussian_mean(0.0, 1.0) == pytest.approx(1 / np.sqrt(2 * np.pi))


def test_analytic_bias_correction_removes_the_mean_error():
    rng = np.random.default_rng(4)
    w, b = rng.standard_normal((16, 32)), rng.standard_normal(16)
    beta, gamma = rng.standard_normal(32), rng.random(32) + 0.5
    w_q = weight_qparams(w, QuantSpec(bits=3, symmetric=True, narrow_range=True,
                                      granularity="channel", axis=0)).fake_quantize(w)
    b_c = analytic_bias_correction(w, w_q, b, beta, gamma)
    x = np.maximum(beta + gamma * rng.standard_normal((200_000, 32)), 0)
    y = x @ w.T + b
    err_plain = (x @ w_q.T.astype(float) + b - y).mean(axis=0)
    err_fixed = (x @ w_q.T.astype(float) + b_c - y).mean(axis=0)
    assert np.abs(err_fixed).max() < 0.05 * np.abs(err_plain).max() + 5e-3
    assert np.abs(err_plain).max() > 0.05
