"""Data-free weight quantization (no calibration data), after Nagel et al., ICCV 2019.

* :func:`weight_qparams` — per-tensor/channel/group ranges from the weights themselves, by
  min/max or by the range that minimises the weights' quantization MSE.
* :func:`equalize_cross_layer` — cross-layer equalization of two consecutive layers with a
  ReLU (or any positively homogeneous activation) between them.
* :func:`analytic_bias_correction` — removes the mean output error that weight quantization
  causes, with the input mean computed analytically from the preceding BatchNorm's β and γ.
"""

from __future__ import annotations

import math

import numpy as np

from .qparams import QParams, _finite_values, _group_view, qparams_from_range, reduce_range
from .spec import QuantSpec

__all__ = [
    "weight_qparams", "equalize_cross_layer", "relu_gaussian_mean", "bias_correction",
    "analytic_bias_correction",
]


def _reduce_sum(x, spec):
    if spec.granularity == "tensor":
        return x.sum()
    if spec.granularity == "channel":
        ax = spec.normalized_axis(x.ndim)
        return np.moveaxis(x, ax, 0).reshape(x.shape[ax], -1).sum(axis=1)
    view, ax = _group_view(x, spec)
    return view.sum(axis=ax + 1)


def weight_qparams(w, spec: QuantSpec, method: str = "minmax", candidates: int = 100) -> QParams:
    """Parameters for a weight tensor from the weights alone.

    ``method="minmax"`` uses each channel's (group's, tensor's) min and max. ``"mse"`` shrinks
    that range by ``α = k/candidates`` (``k = 1..candidates``) and keeps, independently for each
    channel, the ``α`` with the least squared quantization error of the actual weights (ties to
    the widest range).
    """
    if method not in ("minmax", "mse"):
        raise ValueError(f"method must be one of minmax, mse, not {method!r}")
    if isinstance(candidates, bool) or not isinstance(candidates, (int, np.integer)) \
            or not 1 <= candidates <= 4096:
        raise ValueError(f"candidates must be an integer in 1..4096, not {candidates!r}")
    w = _finite_values(w, "w", "raise")
    lo, hi = reduce_range(w, spec, name="w")
    if method == "minmax":
        return qparams_from_range(lo, hi, spec)
    lo0, hi0 = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
    best_err = np.full(lo.shape, np.inf)
    best_lo, best_hi = lo0.copy(), hi0.copy()
    for k in range(candidates, 0, -1):  # widest first, so ties keep the widest range
        a = k / candidates
        qp = qparams_from_range(a * lo0, a * hi0, spec)
        err = _reduce_sum((qp.fake_quantize(w).astype(np.float64) - w) ** 2, spec)
        better = err < best_err
        best_err = np.where(better, err, best_err)
        best_lo = np.where(better, a * lo0, best_lo)
        best_hi = np.where(better, a * hi0, best_hi)
    return qparams_from_range(best_lo, best_hi, spec)


def _out_ranges(w):
    return np.abs(w).reshape(w.shape[0], -1).max(axis=1)


def equalize_cross_layer(w1, b1, w2, in_axis: int = -1):
    """Equalize the per-channel ranges of two consecutive layers ``y = w2 · f(w1 · x + b1)``.

    ``w1`` has output channels on axis 0 (``[out, in]`` or ``[out, kh, kw, in]``); ``w2`` has
    the same channels on ``in_axis`` (the last axis in both hwq layouts). With
    ``r1_i = max|w1[i]|`` and ``r2_i = max|w2[..., i]|``, channel ``i`` is scaled by
    ``s_i = √(r1_i · r2_i) / r2_i``: ``w1[i] /= s_i``, ``b1[i] /= s_i``, ``w2[..., i] *= s_i``,
    after which both ranges equal ``√(r1_i · r2_i)``. Exact for any ``f`` with ``f(s·z) = s·f(z)``
    for ``s > 0`` (ReLU, identity; not ReLU6). Channels where either range is 0 keep ``s = 1``.

    Returns ``(w1', b1', w2', s)`` as float32 (``s`` float64).
    """
    w1 = _finite_values(w1, "w1", "raise")
    w2 = _finite_values(w2, "w2", "raise")
    c = w1.shape[0]
    b1 = np.zeros(c) if b1 is None else _finite_values(b1, "b1", "raise")
    if b1.shape != (c,):
        raise ValueError(f"b1 must have shape ({c},), not {b1.shape}")
    if not -w2.ndim <= in_axis < w2.ndim:
        raise ValueError(f"in_axis must be in {-w2.ndim}..{w2.ndim - 1}, not {in_axis}")
    ax = in_axis % w2.ndim
    if w2.shape[ax] != c:
        raise ValueError(f"w2 has {w2.shape[ax]} input channels on axis {in_axis}, "
                         f"but w1 has {c} output channels")
    r1 = _out_ranges(w1)
    r2 = _out_ranges(np.moveaxis(w2, ax, 0))
    ok = (r1 > 0) & (r2 > 0)
    s = np.where(ok, np.sqrt(np.where(ok, r1 * r2, 1.0)) / np.where(ok, r2, 1.0), 1.0)
    shape1 = (c,) + (1,) * (w1.ndim - 1)
    shape2 = [1] * w2.ndim
    shape2[ax] = c
    return ((w1 / s.reshape(shape1)).astype(np.float32), (b1 / s).astype(np.float32),
            (w2 * s.reshape(shape2)).astype(np.float32), s)


_erf = np.vectorize(math.erf, otypes=[np.float64])


def relu_gaussian_mean(mu, sigma):
    """``E[max(0, z)]`` for ``z ~ N(mu, sigma²)``: ``mu·Φ(mu/σ) + σ·φ(mu/σ)``
    (``max(mu, 0)`` where ``σ = 0``)."""
    mu = np.asarray(mu, np.float64)
    sigma = np.abs(np.asarray(sigma, np.float64))
    safe = np.where(sigma > 0, sigma, 1.0)
    t = mu / safe
    cdf = 0.5 * (1 + _erf(t / math.sqrt(2)))
    pdf = np.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)
    return np.where(sigma > 0, mu * cdf + safe * pdf, np.maximum(mu, 0.0))


def bias_correction(w, w_q, b, input_mean, in_axis: int = -1):
    """Return ``b − Σ (w_q − w) · E[x]``: the bias that cancels the mean output error caused by
    replacing ``w`` with its (fake-)quantized ``w_q``.

    ``w`` is ``[out, in]`` or ``[out, kh, kw, in]``; ``input_mean`` has one value per input
    channel (axis ``in_axis`` of ``w``). For convolutions every kernel tap sees the same mean
    (padding is ignored, as in the paper).
    """
    w = _finite_values(w, "w", "raise")
    w_q = _finite_values(w_q, "w_q", "raise")
    if w.shape != w_q.shape:
        raise ValueError(f"w_q must have the shape of w {w.shape}, not {w_q.shape}")
    c_out = w.shape[0]
    b = np.zeros(c_out) if b is None else _finite_values(b, "b", "raise")
    if b.shape != (c_out,):
        raise ValueError(f"b must have shape ({c_out},), not {b.shape}")
    ax = in_axis % w.ndim
    if ax == 0:
        raise ValueError("in_axis must not be the output-channel axis 0")
    mean = _finite_values(input_mean, "input_mean", "raise")
    if mean.shape != (w.shape[ax],):
        raise ValueError(f"input_mean must have shape ({w.shape[ax]},), not {mean.shape}")
    eps = np.moveaxis(w_q - w, ax, -1)
    shift = (eps * mean).reshape(c_out, -1).sum(axis=1)
    return (b - shift).astype(np.float32)


def analytic_bias_correction(w, w_q, b, bn_beta, bn_gamma, activation: str = "relu",
                             in_axis: int = -1):
    """:func:`bias_correction` with ``E[x]`` taken from the preceding BatchNorm's statistics.

    The previous layer's pre-activation is modelled per channel as ``N(β, γ²)``, so the input
    mean is ``E[ReLU(z)] = β·Φ(β/|γ|) + |γ|·φ(β/|γ|)`` (or ``β`` with ``activation="none"``) —
    Nagel et al. 2019, section 4.2. No calibration data is needed.
    """
    if activation not in ("relu", "none"):
        raise ValueError(f"activation must be one of relu, none, not {activation!r}")
    beta = _finite_values(bn_beta, "bn_beta", "raise")
    gamma = _finite_values(bn_gamma, "bn_gamma", "raise")
    if beta.shape != gamma.shape:
        raise ValueError(f"bn_beta and bn_gamma must have the same shape, not {beta.shape} "
                         f"and {gamma.shape}")
    mean = relu_gaussian_mean(beta, gamma) if activation == "relu" else beta
    return bias_correction(w, w_q, b, mean, in_axis)
