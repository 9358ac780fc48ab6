import bigint
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwq.lower import (
    FlattenLayer,
    IntLayer,
    Program,
    accumulator_bits,
    activation_bounds,
    load,
    lower_conv2d,
    lower_linear,
    make_activation,
    make_add,
    make_concat,
    make_linear,
    save,
)
from hwq.quant import QParams, QuantSpec, qparams_from_range
from hwq.ref import run_layer

I8 = QuantSpec()
W_CH = QuantSpec(symmetric=True, narrow_range=True, granularity="channel", axis=0)
MODES = ["double", "single", "double_half_up"]


def qp(scale, zp):
    return QParams(scale, zp, I8)


def test_linear_hand_worked():
    # acc0 = (10-5)·1 + (-20-5)·2 + 100 = 55, m0 = .5·.25/1 = .125 -> 6.875 -> 7, -3 -> 4
    # acc1 = 5·3 + (-25)·4 - 100 = -185, m1 = .0625 = 2^30·2^(-3-31):
    #   single: -185/16 = -11.5625 -> -12; double: SRDHM -92.5 -> -92 (half up), then
    #   -92/8 = -11.5 -> -12 (away from zero); double_half_up: -11.5 -> -11 (toward +inf)
    w = np.array([[1, 2], [3, 4]], np.int8)
    w_qp = QParams([0.25, 0.125], 0, W_CH)
    want = {"double": [[4, -15]], "single": [[4, -15]], "double_half_up": [[4, -14]]}
    for rounding in MODES:
        layer = make_linear(w, [100, -100], qp(0.5, 5), w_qp, qp(1.0, -3), rounding=rounding)
        assert layer.bias.tolist() == [100 - 5 * 3, -100 - 5 * 7]   # z_in·Σw folded in
        assert layer.multiplier.tolist() == [2**30, 2**30]
        assert layer.shift.tolist() == [-2, -3]
        assert run_layer(layer, np.array([[10, -20]], np.int8)).tolist() == want[rounding]


def test_activation_bounds_hand_worked():
    out = qp(0.1, -20)
    assert activation_bounds("none", out) == (-128, 127)
    assert activation_bounds("relu", out) == (-20, 127)
    assert activation_bounds("relu6", out) == (-20, 40)      # -20 + 6/0.1
    assert activation_bounds("relu6", qp(0.01, -128)) == (-128, 127)


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("z_in, z_out", [(-128, -128), (127, 127), (-128, 127), (0, 0)])
@pytest.mark.parametrize("activation", ["none", "relu", "relu6"])
def test_linear_corners_against_big_integers(rounding, z_in, z_out, activation):
    rng = np.random.default_rng(abs(z_in * 7 + z_out))
    k, n = 33, 6
    x = np.concatenate([np.full((1, k), -128), np.full((1, k), 127),
                        rng.integers(-128, 128, (6, k))]).astype(np.int8)
    w = rng.integers(-127, 128, (n, k)).astype(np.int8)
    w[0] = 127
    w[1] = -127
    bias_q = rng.integers(-2**20, 2**20, n)
    w_qp = QParams(10.0 ** rng.uniform(-4, -1, n), 0, W_CH)
    # output scales from large (outputs near 0) to tiny (saturation at both ends)
    for s_out in (1e-4, 3e-3, 0.5, 40.0):
        layer = make_linear(w, bias_q, qp(0.02, z_in), w_qp, qp(s_out, z_out), activation,
                            rounding)
        want = bigint.linear(x.tolist(), w.tolist(), bias_q.tolist(), z_in, layer.multiplier,
                             layer.shift, z_out, layer.act_min, layer.act_max, rounding)
        assert run_layer(layer, x).tolist() == want


def _float_linear(x, w, b):
    return x.astype(np.float64) @ w.astype(np.float64).T + b


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("activation", ["none", "relu", "relu6"])
@given(seed=st.integers(0, 2**31))
@settings(max_examples=15, deadline=None)
def test_lowered_linear_within_one_lsb_of_float(rounding, activation, seed):
    rng = np.random.default_rng(seed)
    k, n = int(rng.integers(1, 80)), int(rng.integers(1, 12))
    w, b = rng.standard_normal((n, k)), rng.standard_normal(n)
    x = rng.standard_normal((16, k)) * 2
    in_qp = qparams_from_range(x.min(), x.max(), I8)
    ref = _float_linear(in_qp.fake_quantize(x), np.zeros((n, k)), b)  # bias-only part
    y_hint = np.abs(x).max() * np.abs(w).sum(axis=1).max() + np.abs(b).max()
    out_qp = qparams_from_range(-y_hint / 3, y_hint / 2, I8)
    layer = lower_linear(w, b, in_qp, out_qp, activation=activation, rounding=rounding)
    w_fq = QParams(layer.weight_scale, 0, W_CH).dequantize(layer.weight)
    ref = _float_linear(in_qp.fake_quantize(x), w_fq, b)
    s, z = float(out_qp.scale), int(out_qp.zero_point)
    lo, hi = s * (layer.act_min - z), s * (layer.act_max - z)
    got = out_qp.dequantize(run_layer(layer, in_qp.quantize(x)))
    assert np.all(np.abs(got - np.clip(ref, lo, hi)) <= s)


@pytest.mark.parametrize("rounding", MODES)
def test_lowered_conv_with_batchnorm_within_one_lsb(rounding):
    rng = np.random.default_rng(11)
    w, b = rng.standard_normal((5, 3, 3, 4)), rng.standard_normal(5)
    bn = dict(gamma=rng.random(5) + 0.5, beta=rng.standard_normal(5),
              mean=rng.standard_normal(5), var=rng.random(5) + 0.1, eps=1e-3)
    x = rng.standard_normal((2, 6, 7, 4))
    in_qp = qparams_from_range(x.min(), x.max(), I8)
    out_qp = qparams_from_range(-20, 25, I8)
    layer = lower_conv2d(w, b, in_qp, out_qp, stride=2, padding="same", batchnorm=bn,
                         activation="relu6", rounding=rounding)
    # float reference: BN applied after a direct float convolution of the fake-quantized data
    w_fq = QParams(layer.weight_scale, 0, W_CH).dequantize(layer.weight).astype(np.float64)
    factor = bn["gamma"] / np.sqrt(bn["var"] + bn["eps"])
    b_fold = (b - bn["mean"]) * factor + bn["beta"]
    xf = np.pad(in_qp.fake_quantize(x).astype(np.float64), ((0, 0), (0, 1), (1, 1), (0, 0)))
    ref = np.zeros((2, 3, 4, 5))
    for i in range(3):
        for j in range(4):
            patch = xf[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3, :]
            ref[:, i, j, :] = np.einsum("nhwc,ohwc->no", patch, w_fq) + b_fold
    got = out_qp.dequantize(run_layer(layer, in_qp.quantize(x)))
    s, z = float(out_qp.scale), int(out_qp.zero_point)
    assert np.all(np.abs(got - np.clip(ref, s * (layer.act_min - z), s * (layer.act_max - z)))
                  <= s)


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("activation", ["none", "relu"])
def test_add_against_big_integers_and_float(rounding, activation):
    rng = np.random.default_rng(3)
    q1, q2, qo = qp(0.05, -10), qp(0.13, 100), qp(0.11, -128 if activation == "relu" else 3)
    layer = make_add(q1, q2, qo, activation, rounding)
    codes = np.arange(-128, 128, dtype=np.int8)
    a, b = np.meshgrid(codes, codes)          # every pair of int8 inputs
    got = run_layer(layer, (a, b))
    x1 = rng.integers(-128, 128, 300)
    x2 = rng.integers(-128, 128, 300)
    for u, v in zip(x1.tolist(), x2.tolist(), strict=True):
        s1 = bigint.mbqm((u + 10) * 2**20, layer.input_multipliers[0], layer.input_shifts[0],
                         rounding)
        s2 = bigint.mbqm((v - 100) * 2**20, layer.input_multipliers[1], layer.input_shifts[1],
                         rounding)
        y = bigint.mbqm(s1 + s2, layer.output_multiplier, layer.output_shift, rounding)
        y = max(layer.act_min, min(layer.act_max, y + layer.output_zero_point))
        assert got[v + 128, u + 128] == y
    real = q1.dequantize(a).astype(np.float64) + q2.dequantize(b)
    s, z = float(qo.scale), int(qo.zero_point)
    ref = np.clip(real, s * (layer.act_min - z), s * (layer.act_max - z))
    assert np.all(np.abs(qo.dequantize(got) - ref) <= s * 0.5 + 1e-3 * s)


def test_concat_and_activation_layers():
    rng = np.random.default_rng(4)
    x1 = rng.integers(-128, 128, (2, 3, 4), dtype=np.int8)
    x2 = rng.integers(-128, 128, (2, 3, 5), dtype=np.int8)
    out = qp(0.1, 2)
    same = make_concat([out, out], out)
    assert np.array_equal(run_layer(same, (x1, x2)), np.concatenate([x1, x2], axis=-1))
    mixed = make_concat([qp(0.05, -7), out], out)
    y = run_layer(mixed, (x1, x2))
    assert np.array_equal(y[..., 4:], x2)
    real = qp(0.05, -7).dequantize(x1).astype(np.float64)
    assert np.all(np.abs(out.dequantize(y[..., :4]) - np.clip(real, 0.1 * -130, 0.1 * 125))
                  <= 0.05 + 1e-6)
    with pytest.raises(ValueError, match=r"^Concat inputs do not fit together along axis 0"):
        run_layer(make_concat([out, out], out, axis=0), (x1, x2))
    relu = make_activation(qp(0.05, -7), qp(0.1, -128), "relu")
    y = run_layer(relu, np.arange(-128, 128, dtype=np.int8))
    assert y.min() == -128 and np.all(np.diff(y.astype(int)) >= 0)
    real = np.maximum(qp(0.05, -7).dequantize(np.arange(-128, 128)), 0)
    assert np.all(np.abs(qp(0.1, -128).dequantize(y) - real) <= 0.05 + 1e-6)


def _cnn(rng):
    in_qp = qparams_from_range(-1, 1, I8)
    mid = qparams_from_range(0, 6, I8)
    conv = lower_conv2d(rng.standard_normal((4, 3, 3, 1)), rng.standard_normal(4), in_qp, mid,
                        stride=2, activation="relu6")
    fc = lower_linear(rng.standard_normal((3, 4 * 4 * 4)) * 0.2, None, mid,
                      qparams_from_range(-4, 4, I8), rounding="single")
    return Program([conv, FlattenLayer(), fc]), in_qp


def test_program_runs_in_sequence_and_round_trips(tmp_path):
    rng = np.random.default_rng(5)
    prog, in_qp = _cnn(rng)
    x = in_qp.quantize(rng.uniform(-1, 1, (5, 8, 8, 1)))
    manual = run_layer(prog.layers[2], run_layer(prog.layers[0], x).reshape(5, -1))
    assert np.array_equal(run_layer(prog, x), manual)
    save(prog, tmp_path / "p.npz")
    back = load(tmp_path / "p.npz")
    assert isinstance(back, Program) and len(back.layers) == 3
    for a, b in zip(prog.layers, back.layers, strict=True):
        assert type(a) is type(b) and a._meta() == b._meta()
        for name, arr in a._arrays().items():
            assert arr.dtype == b._arrays()[name].dtype
            assert np.array_equal(arr, b._arrays()[name])
    assert np.array_equal(run_layer(back, x), manual)
    layer = prog.layers[0]
    layer.save(tmp_path / "l.npz")
    assert np.array_equal(run_layer(IntLayer.load(tmp_path / "l.npz"), x), run_layer(layer, x))
    add = make_add(qp(0.1, 0), qp(0.2, 1), qp(0.3, 2), "relu", "double_half_up")
    save(add, tmp_path / "a.npz")
    assert load(tmp_path / "a.npz")._meta() == add._meta()


def test_accumulator_bits_hand_worked():
    # w = 127: sums span [-128·127, 127·127] = [-16256, 16129] -> 15-bit signed
    assert accumulator_bits([[127]], [0]) == 15
    # w = -128: the top is (-128)·(-128) = 16384 -> 16 bits
    assert accumulator_bits([[-128]], [0]) == 16
    # K = 4 of 127 with bias 100: 4·16129 + 100 = 64616 -> 17 bits
    assert accumulator_bits([[127] * 4], [100]) == 17
    # all-zero weights, bias -1: one sign bit holds -1
    assert accumulator_bits([[0, 0]], [-1]) == 1


def test_overflow_is_refused():
    k = 132105   # the smallest K with K·128·127 > 2^31: -128·127·K no longer fits 32 bits
    w = np.full((1, k), 127, np.int8)
    w_qp = QParams([0.01], 0, W_CH)
    with pytest.raises(ValueError, match=rf"^linear layer with K={k} needs a 33-bit "
                                         r"accumulator, but the accumulator is 32 bits$"):
        make_linear(w, None, qp(0.1, 0), w_qp, qp(1.0, 0))
    with pytest.raises(ValueError, match=r"^linear layer with K=64 needs a 21-bit accumulator, "
                                         r"but the accumulator is 20 bits$"):
        make_linear(np.full((1, 64), 127, np.int8), None, qp(0.1, 0), w_qp, qp(1.0, 0),
                    acc_bits=20)
    # 2^31 - 1 - 127·(-1) = 2147483774
    with pytest.raises(ValueError, match=r"^bias of channel 0 with the input zero-point term "
                                         r"folded in \(2147483774\) overflows int32$"):
        make_linear(np.full((1, 1), -1, np.int8), [2**31 - 1], qp(0.1, 127), w_qp, qp(1.0, 0))
    with pytest.raises(ValueError, match=r"^bias of channel 1 \(1e\+30\) overflows int32 at "
                                         r"scale"):
        lower_linear(np.ones((2, 3)), [0.0, 1e30], qp(0.1, 0), qp(1.0, 0))


@pytest.mark.parametrize("call, exc, message", [
    (lambda: make_linear(np.ones((2, 3), np.int8), None, QParams(0.1, 0, QuantSpec(
        signed=False)), QParams([1.0, 1.0], 0, W_CH), qp(1.0, 0)), ValueError,
     r"^in_qp must describe int8 codes \(bits=8, signed=True\), not bits=8, signed=False$"),
    (lambda: make_linear(np.ones((2, 3), np.int8), None, qp(0.1, 0),
                         QParams([1.0, 1.0], [0, 3], QuantSpec(granularity="channel", axis=0)),
                         qp(1.0, 0)), ValueError,
     r"^w_qp zero_point must be 0 \(symmetric weights\), not 3$"),
    (lambda: make_linear(np.ones((2, 3), np.int8), None, qp(0.1, 0), QParams([1.0] * 3, 0, W_CH),
                         qp(1.0, 0)), ValueError,
     r"^w_qp must have one scale per output channel \(2\) on axis 0, not shape \(3,\) on axis 0$"),
    (lambda: make_linear(np.ones((2, 3)), None, qp(0.1, 0), QParams([1.0] * 2, 0, W_CH),
                         qp(1.0, 0)), TypeError, r"^w_q must be an integer array, not dtype "
                                                 r"float64$"),
    (lambda: make_linear(np.ones((2, 3), np.int8), None, qp(0.1, 0), QParams([1.0] * 2, 0, W_CH),
                         qp(1e-12, 0)), ValueError,
     r"^multiplier 1000000\d+\.\d+ needs shift 37, outside the supported shift range "
     r"-31\.\.30$"),
    (lambda: make_linear(np.ones((2, 3), np.int8), None, qp(0.1, 0), QParams([1.0] * 2, 0, W_CH),
                         qp(1.0, 0), activation="gelu"), ValueError,
     r"^activation must be one of none, relu, relu6, not 'gelu'$"),
    (lambda: run_layer(make_linear(np.ones((2, 3), np.int8), None, qp(0.1, 0),
                                   QParams([1.0] * 2, 0, W_CH), qp(1.0, 0)),
                       np.zeros((4, 5), np.int8)), ValueError,
     r"^linear layer expects x_q \[\.\.\., 3\], not shape \(4, 5\)$"),
    (lambda: run_layer(make_linear(np.ones((2, 3), np.int8), None, qp(0.1, 0),
                                   QParams([1.0] * 2, 0, W_CH), qp(1.0, 0)),
                       np.full((4, 3), 300)), ValueError,
     r"^x_q must hold int8 codes in -128\.\.127, not 300$"),
])
def test_bad_layers(call, exc, message):
    with pytest.raises(exc, match=message):
        call()


def test_quantize_bias_hand_worked():
    from hwq.lower import quantize_bias
    from hwq.quant import QParams, QuantSpec
    in_qp = QParams(0.5, 3, QuantSpec())
    w_qp = QParams([0.5, 1.0], 0, QuantSpec(symmetric=True, granularity="channel", axis=0))
    # 0.5 / (0.5·0.5) = 2; −0.25 / (0.5·1.0) = −0.5 → −1 (half away from zero)
    assert quantize_bias([0.5, -0.25], in_qp, w_qp).tolist() == [2, -1]
    with pytest.raises(ValueError, match="bias of channel 1 .* overflows int32"):
        quantize_bias([0.0, 2.0**40], in_qp, w_qp)
