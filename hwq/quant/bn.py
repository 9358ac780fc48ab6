"""Batch-normalisation folding."""

from __future__ import annotations

import numpy as np

__all__ = ["fold_batchnorm"]


def fold_batchnorm(w, b, gamma, beta, mean, var, eps=1e-5, axis=0):
    """Fold ``y = γ·(conv(x, w) + b − μ)/√(σ² + ε) + β`` into new ``(w', b')``.

    ``w' = w · γ/√(σ² + ε)`` along the output-channel ``axis`` of ``w`` (0 for hwq's
    ``[out, in]`` and ``[out, kh, kw, in]`` layouts), ``b' = (b − μ)·γ/√(σ² + ε) + β``;
    ``b=None`` means no bias. Computed in float64, returned as float32.
    """
    w = np.asarray(w)
    if w.dtype.kind not in "fiu" or w.ndim == 0:
        raise TypeError(f"w must be a real array with an output-channel axis, not {w!r:.60}")
    if not -w.ndim <= axis < w.ndim:
        raise ValueError(f"axis must be in {-w.ndim}..{w.ndim - 1} for w of shape {w.shape}, "
                         f"not {axis}")
    ax = axis % w.ndim
    c = w.shape[ax]
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or eps < 0:
        raise ValueError(f"eps must be a non-negative number, not {eps!r}")
    vecs = {}
    for name, v in (("b", b), ("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var)):
        v = np.zeros(c) if (name == "b" and v is None) else np.asarray(v, np.float64)
        if v.shape != (c,):
            raise ValueError(f"{name} must have shape ({c},) to match axis {axis} of w, "
                             f"not {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} contains NaN or infinite values")
        vecs[name] = v
    if np.any(vecs["var"] < 0):
        raise ValueError(f"var must be >= 0, not {float(vecs['var'].min())!r}")
    denom = np.sqrt(vecs["var"] + eps)
    if np.any(denom == 0):
        raise ValueError("var + eps must be > 0 for every channel")
    factor = vecs["gamma"] / denom
    shape = [1] * w.ndim
    shape[ax] = c
    w_f = w.astype(np.float64) * factor.reshape(shape)
    b_f = (vecs["b"] - vecs["mean"]) * factor + vecs["beta"]
    return w_f.astype(np.float32), b_f.astype(np.float32)
