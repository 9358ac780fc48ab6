import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwq.lower import make_conv2d, make_linear
from hwq.quant import QParams, QuantSpec
from hwq.ref import (
    conv_output_geometry,
    gemm,
    im2col,
    requantize,
    run_layer,
    tile_gemm,
    tile_schedule,
)

I8 = QuantSpec()


def qp(scale, zp):
    return QParams(scale, zp, I8)


def test_every_int8_product_and_zero_point_pair():
    """(a − z)·w for every a, w and input zero-point z, through the folded-bias GEMM."""
    codes = np.arange(-128, 128)
    w = codes.reshape(256, 1).astype(np.int8)
    x = codes.reshape(256, 1).astype(np.int8)
    w_qp = QParams(np.ones(256), 0, QuantSpec(symmetric=True, granularity="channel", axis=0))
    for z in range(-128, 128):
        layer = make_linear(w, None, qp(1.0, z), w_qp, qp(1.0, 0))
        acc = gemm(x, layer.weight_matrix, layer.bias)
        assert np.array_equal(acc, (codes[:, None] - z) * codes[None, :])


@given(m=st.integers(1, 9), n=st.integers(1, 9), k=st.integers(1, 40), seed=st.integers(0, 99))
@settings(max_examples=60, deadline=None)
def test_gemm_against_python_ints(m, n, k, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (m, k), dtype=np.int8)
    w = rng.integers(-128, 128, (n, k), dtype=np.int8)
    b = rng.integers(-2**31, 2**31, n)
    want = [[int(b[c]) + sum(int(x[i, j]) * int(w[c, j]) for j in range(k)) for c in range(n)]
            for i in range(m)]
    assert gemm(x, w, b).tolist() == want


def test_same_padding_hand_worked():
    # in 5, k 3, s 2: out 3, total pad (3-1)·2 + 3 - 5 = 2 -> (1, 1)
    assert conv_output_geometry(5, 5, 3, 3, (2, 2), (1, 1), "same") == (3, 3, (1, 1, 1, 1))
    # in 6, k 3, s 2: out 3, total pad 2·2 + 3 - 6 = 1 -> the odd pixel at the bottom/right
    assert conv_output_geometry(6, 6, 3, 3, (2, 2), (1, 1), "same") == (3, 3, (0, 1, 0, 1))
    # dilation 2 makes a 3-tap kernel span 5
    assert conv_output_geometry(7, 7, 3, 3, (1, 1), (2, 2), "same") == (7, 7, (2, 2, 2, 2))
    assert conv_output_geometry(7, 6, 3, 2, (1, 1), (1, 1), "valid") == (5, 5, (0, 0, 0, 0))
    with pytest.raises(ValueError, match=r"^input 2×2 with padding \(0, 0, 0, 0\) is smaller "
                                         r"than the dilated kernel 3×3$"):
        conv_output_geometry(2, 2, 3, 3, (1, 1), (1, 1), "valid")


def _conv_acc_by_loops(x, w, bias_q, z_in, stride, dilation, pads):
    """Direct convolution with explicit bounds checks: padded taps are real zeros."""
    n, h, wd, _ = x.shape
    cout, kh, kw, _ = w.shape
    (sh, sw), (dh, dw), (pt, pb, pl, pr) = stride, dilation, pads
    oh = (h + pt + pb - (kh - 1) * dh - 1) // sh + 1
    ow = (wd + pl + pr - (kw - 1) * dw - 1) // sw + 1
    acc = np.zeros((n, oh, ow, cout), np.int64) + bias_q
    xi = x.astype(np.int64) - z_in
    for i in range(oh):
        for j in range(ow):
            for u in range(kh):
                for v in range(kw):
                    r, c = i * sh - pt + u * dh, j * sw - pl + v * dw
                    if 0 <= r < h and 0 <= c < wd:
                        acc[:, i, j, :] += xi[:, r, c, :] @ w[:, u, v, :].T.astype(np.int64)
    return acc


@pytest.mark.parametrize("shape, kernel, stride, dilation, padding", [
    ((2, 7, 6, 3), (4, 3, 3), 1, 1, "same"),
    ((1, 8, 8, 2), (3, 3, 3), 2, 1, "same"),
    ((1, 9, 7, 2), (5, 3, 2), (2, 1), 1, "same"),
    ((1, 9, 9, 1), (2, 3, 3), 1, 2, "same"),
    ((1, 6, 7, 3), (2, 1, 1), 1, 1, "valid"),
    ((2, 6, 6, 2), (3, 2, 3), (1, 2), (2, 1), "valid"),
    ((1, 5, 5, 2), (3, 3, 3), 1, 1, (2, 0, 1, 3)),
])
@pytest.mark.parametrize("rounding", ["double", "single", "double_half_up"])
def test_conv2d_against_direct_loops(shape, kernel, stride, dilation, padding, rounding):
    rng = np.random.default_rng(sum(shape))
    cout, kh, kw = kernel
    x = rng.integers(-128, 128, shape, dtype=np.int8)
    w = rng.integers(-127, 128, (cout, kh, kw, shape[-1]), dtype=np.int8)
    bias_q = rng.integers(-5000, 5000, cout)
    w_qp = QParams(rng.random(cout) * 0.01 + 0.001, 0,
                   QuantSpec(symmetric=True, granularity="channel", axis=0))
    layer = make_conv2d(w, bias_q, qp(0.05, 7), w_qp, qp(0.2, -3), stride, padding, dilation,
                        rounding=rounding)
    oh, ow, pads = conv_output_geometry(shape[1], shape[2], kh, kw, layer.stride,
                                        layer.dilation, layer.padding)
    acc = _conv_acc_by_loops(x, w, bias_q, 7, layer.stride, layer.dilation, pads)
    want = requantize(acc, layer.multiplier, layer.shift, -3, rounding=rounding)
    got = run_layer(layer, x)
    assert got.shape == (shape[0], oh, ow, cout)
    assert np.array_equal(got, want)


def test_im2col_order_matches_weight_layout():
    x = np.arange(2 * 3 * 3 * 2).reshape(2, 3, 3, 2).astype(np.int8)
    rows, (n, oh, ow) = im2col(x, 2, 2)
    assert (n, oh, ow) == (2, 2, 2)
    # first patch: x[0, 0:2, 0:2, :] in (kh, kw, C) order
    assert rows[0].tolist() == x[0, 0:2, 0:2, :].reshape(-1).tolist()
    assert rows[-1].tolist() == x[1, 1:3, 1:3, :].reshape(-1).tolist()


@given(m=st.integers(1, 40), n=st.integers(1, 40), k=st.integers(1, 30),
       rows=st.integers(1, 9), cols=st.integers(1, 9), seed=st.integers(0, 99))
@settings(max_examples=80, deadline=None)
def test_tiled_equals_untiled(m, n, k, rows, cols, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (m, k), dtype=np.int8)
    w = rng.integers(-128, 128, (n, k), dtype=np.int8)
    b = rng.integers(-10**6, 10**6, n)
    assert np.array_equal(tile_gemm(x, w, b, rows, cols), gemm(x, w, b))
    sched = tile_schedule(m, n, rows, cols)
    cover = np.zeros((m, n), int)
    for t in sched:
        assert t.m1 - t.m0 <= rows and t.n1 - t.n0 <= cols
        cover[t.m0:t.m1, t.n0:t.n1] += 1
    assert (cover == 1).all()
    # row blocks outside, column blocks inside
    assert [(t.m0, t.n0) for t in sched] == sorted((t.m0, t.n0) for t in sched)


def test_tile_schedule_hand_worked():
    assert tile_schedule(3, 5, 2, 4) == [(0, 2, 0, 4), (0, 2, 4, 5), (2, 3, 0, 4), (2, 3, 4, 5)]
    with pytest.raises(ValueError, match=r"^rows must be a positive integer, not 0$"):
        tile_schedule(3, 5, 0, 4)
