"""DoReFa-Net's non-linear quantizers for weights, activations and gradients (Zhou et al. 2016).

All functions are NumPy, float32 in and out, and come with straight-through-estimator (STE)
gradients for training loops written by hand (``*_grad`` take the incoming gradient and return
the gradient with respect to the quantizer's input).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "quantize_k", "quantize_weights", "quantize_activations", "quantize_gradients",
    "quantize_k_grad", "quantize_weights_grad", "quantize_activations_grad",
]


def _check_k(k):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an integer, not {k!r}")
    if not 1 <= k <= 32:
        raise ValueError(f"k must be an integer in 1..32, not {k!r}")
    return int(k)


def _finite(x, name):
    x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a real numeric array, not dtype {x.dtype}")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def _qk(r, k):
    n = float((1 << k) - 1)
    return np.rint(r * n) / n


def quantize_k(r, k):
    """``q_k(r) = round((2^k − 1)·r) / (2^k − 1)`` for ``r`` in [0, 1]; k = 32 is the identity.

    Rounding is half to even (``tf.round``, which DoReFa's reference code uses).
    """
    k = _check_k(k)
    r = _finite(r, "r")
    if np.any((r < 0) | (r > 1)):
        raise ValueError("r must lie in [0, 1]")
    return (r if k == 32 else _qk(r, k)).astype(np.float32)


def quantize_weights(w, k):
    """DoReFa weights in [−1, 1].

    ``k = 32``: ``w`` unchanged. ``k = 1``: ``sign(w)·E`` with ``E = mean|w|`` (``sign(0) = +1``
    so every weight is one of two values). Otherwise ``2·q_k(tanh w / (2·max|tanh w|) + ½) − 1``;
    an all-zero ``w`` takes the limit ``tanh w / (2·max) = 0``.
    """
    k = _check_k(k)
    w = _finite(w, "w")
    if k == 32:
        return w.astype(np.float32)
    if k == 1:
        e = np.mean(np.abs(w)) if w.size else 0.0
        return (np.where(w >= 0, 1.0, -1.0) * e).astype(np.float32)
    t = np.tanh(w)
    m = np.max(np.abs(t)) if t.size else 0.0
    x = t / (2 * m) + 0.5 if m > 0 else np.full_like(t, 0.5)
    return (2 * _qk(x, k) - 1).astype(np.float32)


def quantize_activations(a, k):
    """DoReFa activations: ``q_k(clip(a, 0, 1))``."""
    k = _check_k(k)
    a = np.clip(_finite(a, "a"), 0.0, 1.0)
    return (a if k == 32 else _qk(a, k)).astype(np.float32)


def quantize_gradients(g, k, rng):
    """DoReFa gradients: per sample (axis 0), with ``m = max|g|`` over the other axes,
    ``2m·(q_k(clip(g / 2m + ½ + N, 0, 1)) − ½)`` where ``N ~ U(−½, ½) / (2^k − 1)``.

    A sample whose gradient is all zero stays zero. ``rng`` is a ``numpy.random.Generator``.
    """
    k = _check_k(k)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, not {rng!r}")
    g = _finite(g, "g")
    if g.ndim == 0:
        raise ValueError("g must have a batch axis (axis 0)")
    if k == 32:
        return g.astype(np.float32)
    axes = tuple(range(1, g.ndim))
    m = np.max(np.abs(g), axis=axes, keepdims=True) if axes else np.abs(g)
    safe = np.where(m > 0, m, 1.0)
    noise = rng.uniform(-0.5, 0.5, size=g.shape) / ((1 << k) - 1)
    x = np.clip(g / (2 * safe) + 0.5 + noise, 0.0, 1.0)
    return np.where(m > 0, 2 * safe * (_qk(x, k) - 0.5), 0.0).astype(np.float32)


def quantize_k_grad(r, k, grad):
    """STE for :func:`quantize_k`: the gradient passes unchanged."""
    _check_k(k)
    return np.asarray(grad, np.float32) * np.ones_like(np.asarray(r), np.float32)


def quantize_weights_grad(w, k, grad):
    """STE for :func:`quantize_weights`: ``∂/∂w [tanh w / max|tanh w|]`` with the max held
    constant, i.e. ``(1 − tanh² w) / max|tanh w|``; identity for k = 1 (``E`` held constant,
    as DoReFa stops its gradient) and k = 32."""
    k = _check_k(k)
    w = _finite(w, "w")
    grad = np.asarray(grad, np.float64)
    if k in (1, 32):
        return (grad * np.ones_like(w)).astype(np.float32)
    t = np.tanh(w)
    m = np.max(np.abs(t)) if t.size else 0.0
    d = (1 - t * t) / m if m > 0 else np.zeros_like(t)
    return (grad * d).astype(np.float32)


def quantize_activations_grad(a, k, grad):
    """STE for :func:`quantize_activations`: ``grad`` where ``0 ≤ a ≤ 1``, 0 where clipped."""
    _check_k(k)
    a = _finite(a, "a")
    return np.where((a >= 0) & (a <= 1), grad, 0.0).astype(np.float32)
