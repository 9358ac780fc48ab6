"""Integer GEMM, im2col and the hardware's tile order."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["gemm", "im2col", "conv_output_geometry", "Tile", "tile_schedule", "tile_gemm"]

_EXACT = 2.0**53


def gemm(x_q, w_q, bias=None) -> np.ndarray:
    """``acc[m, c] = bias[c] + Σ_k x[m, k] · w[c, k]``, exact, as int64.

    ``x_q`` ``[M, K]`` and ``w_q`` ``[N, K]`` hold int8 codes. NumPy's integer matmul does not
    use BLAS; float64 BLAS is exact here because every product and every partial sum is an
    integer of magnitude below ``K·2^14 + |bias| < 2^53`` (checked), whatever order BLAS adds
    in. Larger problems fall back to int64 matmul.
    """
    x = np.asarray(x_q)
    w = np.asarray(w_q)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1]:
        raise ValueError(f"gemm needs x [M, K] and w [N, K], not {x.shape} and {w.shape}")
    b = np.zeros(w.shape[0], np.int64) if bias is None else np.asarray(bias, np.int64)
    bound = x.shape[1] * 2.0**14 + (float(np.abs(b).max()) if b.size else 0.0)
    if bound < _EXACT:
        acc = (x.astype(np.float64) @ w.astype(np.float64).T).astype(np.int64)
    else:  # pragma: no cover - K beyond 2^38
        acc = x.astype(np.int64) @ w.astype(np.int64).T
    return acc + b


def conv_output_geometry(h, w, kh, kw, stride, dilation, padding):
    """Return ``(out_h, out_w, (top, bottom, left, right))`` for a convolution.

    ``"same"`` is TFLite's: ``out = ceil(in / stride)``, total padding
    ``max((out − 1)·stride + (k − 1)·dilation + 1 − in, 0)``, the odd pixel at the bottom/right.
    ``"valid"`` pads nothing; a 4-tuple is explicit.
    """
    (sh, sw), (dh, dw) = stride, dilation
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == "same":
        oh, ow = -(-h // sh), -(-w // sw)
        ph = max((oh - 1) * sh + ekh - h, 0)
        pw = max((ow - 1) * sw + ekw - w, 0)
        pads = (ph // 2, ph - ph // 2, pw // 2, pw - pw // 2)
    else:
        pads = (0, 0, 0, 0) if padding == "valid" else tuple(padding)
    hp, wp = h + pads[0] + pads[1], w + pads[2] + pads[3]
    if hp < ekh or wp < ekw:
        raise ValueError(f"input {h}×{w} with padding {pads} is smaller than the dilated kernel "
                         f"{ekh}×{ekw}")
    return (hp - ekh) // sh + 1, (wp - ekw) // sw + 1, pads


def im2col(x, kh, kw, stride=(1, 1), dilation=(1, 1), padding="valid", pad_value=0):
    """Patches of NHWC ``x`` as GEMM rows: ``[N·OH·OW, kh·kw·C]`` in ``(kh, kw, C)`` order,
    matching weights ``[out, kh, kw, in]`` flattened. Padding uses ``pad_value`` (the input
    zero-point). Returns ``(rows, (N, OH, OW))``."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"conv2d input must be NHWC (4-d), not shape {x.shape}")
    n, h, w, c = x.shape
    oh, ow, (pt, pb, pl, pr) = conv_output_geometry(h, w, kh, kw, stride, dilation, padding)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=pad_value)
    (sh, sw), (dh, dw) = stride, dilation
    win = np.lib.stride_tricks.sliding_window_view(xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1),
                                                   axis=(1, 2))
    win = win[:, ::sh, ::sw][:, :oh, :ow, :, ::dh, ::dw]       # [N, OH, OW, C, kh, kw]
    rows = win.transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, kh * kw * c)
    return rows, (n, oh, ow)


class Tile(NamedTuple):
    """One output tile: rows ``m0:m1`` of the activations by columns ``n0:n1`` of the weights."""

    m0: int
    m1: int
    n0: int
    n1: int


def tile_schedule(m: int, n: int, rows: int, cols: int) -> list[Tile]:
    """The order in which an output-stationary ``rows × cols`` array computes an ``m × n``
    output: row blocks outside, column blocks inside (the activation rows of a block are
    reused across all its column blocks); edge tiles are partial."""
    for name, v in (("m", m), ("n", n), ("rows", rows), ("cols", cols)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, not {v!r}")
    return [Tile(m0, min(m0 + rows, m), n0, min(n0 + cols, n))
            for m0 in range(0, m, rows) for n0 in range(0, n, cols)]


def tile_gemm(x_q, w_q, bias, rows: int, cols: int) -> np.ndarray:
    """:func:`gemm` computed tile by tile in :func:`tile_schedule` order; identical results."""
    x, w = np.asarray(x_q), np.asarray(w_q)
    b = np.asarray(bias, np.int64)
    out = np.zeros((x.shape[0], w.shape[0]), np.int64)
    for t in tile_schedule(x.shape[0], w.shape[0], rows, cols):
        out[t.m0:t.m1, t.n0:t.n1] = gemm(x[t.m0:t.m1], w[t.n0:t.n1], b[t.n0:t.n1])
    return out
