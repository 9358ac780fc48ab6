"""Lowering: float layers and quantization parameters become integer programs.

An integer program is what both the NumPy golden model (``hwq.ref``) and the hardware execute.
For a GEMM-like layer (linear or conv2d) it holds

* int8 weights ``w[c, k]`` (symmetric: weight zero-point 0),
* an int32 bias with the input zero-point term folded in,
  ``bias[c] = bias_q[c] − z_in · Σ_k w[c, k]``, so that
  ``Σ_k (x[k] − z_in) · w[c, k] + bias_q[c] = Σ_k x[k] · w[c, k] + bias[c]``,
* per-channel ``(M, shift)`` from the real multiplier ``s_in · s_w[c] / s_out``, computed in
  double precision from the float32 scales as TFLite does,
* the output zero-point, the activation clamp ``[act_min, act_max]`` and the rounding mode.

Convolution zero padding pads with ``z_in`` (the code of real 0), whose folded contribution
cancels exactly. Add and Concat rescale their inputs with the same fixed-point machinery
(Google's whitepaper / TFLite). Every layer saves to one ``.npz`` (arrays plus a JSON
description) and loads back bit for bit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .quant.bn import fold_batchnorm
from .quant.dfq import weight_qparams
from .quant.fixedpoint import INT32_MAX, INT32_MIN, ROUNDING_MODES, SHIFT_RANGE, quantize_multiplier
from .quant.qparams import QParams
from .quant.spec import QuantSpec, round_half_away

__all__ = [
    "ACTIVATIONS", "IntLayer", "AddLayer", "ConcatLayer", "RescaleLayer", "FlattenLayer",
    "Program", "make_linear", "make_conv2d", "lower_linear", "lower_conv2d", "make_add",
    "make_concat", "make_activation", "activation_bounds", "accumulator_bits", "save", "load",
    "DEFAULT_WEIGHT_SPEC",
]

ACTIVATIONS = ("none", "relu", "relu6")
QMIN, QMAX = -128, 127

#: TFLite's int8 weights: symmetric, narrow range, one scale per output channel.
DEFAULT_WEIGHT_SPEC = QuantSpec(bits=8, signed=True, symmetric=True, narrow_range=True,
                                granularity="channel", axis=0, rounding="half_away")


# ----------------------------------------------------------------------------- checks
def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _int_tensor(x, name, lo, hi, dtype):
    a = np.asarray(x)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array, not dtype {a.dtype}")
    if a.size and (a.min() < lo or a.max() > hi):
        bad = a[(a < lo) | (a > hi)].ravel()[0]
        raise ValueError(f"{name} must hold values in {lo}..{hi}, not {int(bad)}")
    return a.astype(dtype)


def _act_qparams(qp, name):
    """Scale (Python float) and zero-point of a per-tensor int8 activation."""
    if not isinstance(qp, QParams):
        raise TypeError(f"{name} must be a QParams, not {qp!r}")
    if qp.spec.granularity != "tensor":
        raise ValueError(f"{name} must be per-tensor, not granularity={qp.spec.granularity!r}")
    if qp.spec.bits != 8 or not qp.spec.signed:
        raise ValueError(f"{name} must describe int8 codes (bits=8, signed=True), not "
                         f"bits={qp.spec.bits}, signed={qp.spec.signed}")
    return float(qp.scale), int(qp.zero_point)


def activation_bounds(activation: str, out_qp: QParams) -> tuple[int, int]:
    """Clamp bounds of a fused activation on int8 outputs (TFLite's
    CalculateActivationRangeQuantized): ReLU clamps at the code of 0, ReLU6 also at the code
    of 6 (``z + round_half_away(6 / s)``)."""
    _check_choice("activation", activation, ACTIVATIONS)
    s, z = _act_qparams(out_qp, "out_qp")
    if activation == "none":
        return QMIN, QMAX
    lo = max(QMIN, z)
    if activation == "relu":
        return lo, QMAX
    return lo, int(min(QMAX, z + round_half_away(6.0 / s)))


def accumulator_bits(weight_matrix, bias) -> int:
    """Width of a signed accumulator that no int8 input can overflow, whatever the order of
    accumulation and whether the bias is added first or last.

    For channel ``c``: the extreme sums are ``Σ_k max(127·w, −128·w)`` and
    ``Σ_k min(127·w, −128·w)``, with and without ``bias[c]``.
    """
    w = np.asarray(weight_matrix, np.int64)
    b = np.asarray(bias, np.int64)
    hi = np.maximum(127 * w, -128 * w).sum(axis=1)
    lo = np.minimum(127 * w, -128 * w).sum(axis=1)
    need = max(int(hi.max(initial=0)), int((hi + b).max(initial=0)),
               -int(lo.min(initial=0)) - 1, -int((lo + b).min(initial=0)) - 1, 0)
    return need.bit_length() + 1


# ----------------------------------------------------------------------------- layers
@dataclass(eq=False)
class IntLayer:
    """A linear or 2-D convolution layer as an integer program.

    Attributes
    ----------
    kind : {"linear", "conv2d"}
    weight : int8 array, ``[out, in]`` (linear) or ``[out, kh, kw, in]`` (conv2d, NHWC data)
    bias : int32 array ``[out]``, input zero-point term folded in (see module docs)
    multiplier, shift : int32 arrays ``[out]``
    input_zero_point, output_zero_point : int
    act_min, act_max : int, the clamp of the fused activation
    rounding : {"double", "single", "double_half_up"}
    stride, dilation : (int, int); padding : "valid", "same" or (top, bottom, left, right)
    input_scale, output_scale : float; weight_scale : float32 ``[out]`` — for dequantizing
    activation : the fused activation's name, for reports
    """

    kind: str
    weight: np.ndarray
    bias: np.ndarray
    multiplier: np.ndarray
    shift: np.ndarray
    input_zero_point: int
    output_zero_point: int
    act_min: int = QMIN
    act_max: int = QMAX
    rounding: str = "double"
    stride: tuple = (1, 1)
    padding: object = "valid"
    dilation: tuple = (1, 1)
    input_scale: float = 1.0
    output_scale: float = 1.0
    weight_scale: np.ndarray | None = None
    activation: str = "none"

    def __post_init__(self):
        _check_choice("kind", self.kind, ("linear", "conv2d"))
        _check_choice("rounding", self.rounding, ROUNDING_MODES)
        ndim = 2 if self.kind == "linear" else 4
        self.weight = _int_tensor(self.weight, "weight", QMIN, QMAX, np.int8)
        if self.weight.ndim != ndim:
            raise ValueError(f"{self.kind} weight must be {ndim}-d, not shape {self.weight.shape}")
        n = self.weight.shape[0]
        self.bias = _int_tensor(self.bias, "bias", INT32_MIN, INT32_MAX, np.int32)
        self.multiplier = _int_tensor(self.multiplier, "multiplier", 0, INT32_MAX, np.int32)
        self.shift = _int_tensor(self.shift, "shift", *SHIFT_RANGE, np.int32)
        for name in ("bias", "multiplier", "shift"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} must have shape ({n},), not {getattr(self, name).shape}")
        for name in ("input_zero_point", "output_zero_point", "act_min", "act_max"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or not QMIN <= v <= QMAX:
                raise ValueError(f"{name} must be an integer in {QMIN}..{QMAX}, not {v!r}")
            setattr(self, name, int(v))
        if self.act_min > self.act_max:
            raise ValueError(f"act_min must be <= act_max, not {self.act_min} > {self.act_max}")
        self.stride = _pair("stride", self.stride)
        self.dilation = _pair("dilation", self.dilation)
        self.padding = _padding(self.padding)
        if self.weight_scale is None:
            self.weight_scale = np.ones(n, np.float32)
        self.weight_scale = np.asarray(self.weight_scale, np.float32).reshape(n)

    @property
    def out_channels(self) -> int:
        return self.weight.shape[0]

    @property
    def weight_matrix(self) -> np.ndarray:
        """Weights as the GEMM operand ``[out, K]`` (``K = kh·kw·in`` for conv2d)."""
        return self.weight.reshape(self.out_channels, -1)

    @property
    def k(self) -> int:
        """Reduction length of the GEMM."""
        return self.weight_matrix.shape[1]

    def accumulator_bits(self) -> int:
        """Smallest signed accumulator width this layer can never overflow."""
        return accumulator_bits(self.weight_matrix, self.bias)

    def check_accumulator(self, acc_bits: int = 32):
        """Refuse a layer whose sums could overflow an ``acc_bits``-wide accumulator."""
        need = self.accumulator_bits()
        if need > acc_bits:
            raise ValueError(f"{self.kind} layer with K={self.k} needs a {need}-bit accumulator, "
                             f"but the accumulator is {acc_bits} bits")

    # serialisation
    _ARRAYS = ("weight", "bias", "multiplier", "shift", "weight_scale")

    def _meta(self):
        return {"type": "IntLayer", "kind": self.kind, "input_zero_point": self.input_zero_point,
                "output_zero_point": self.output_zero_point, "act_min": self.act_min,
                "act_max": self.act_max, "rounding": self.rounding, "stride": list(self.stride),
                "padding": self.padding if isinstance(self.padding, str) else list(self.padding),
                "dilation": list(self.dilation), "input_scale": self.input_scale,
                "output_scale": self.output_scale, "activation": self.activation}

    def _arrays(self):
        return {name: getattr(self, name) for name in self._ARRAYS}

    @classmethod
    def _build(cls, meta, arrays):
        meta = {k: v for k, v in meta.items() if k != "type"}
        return cls(**meta, **arrays)

    def save(self, path):
        save(self, path)

    @classmethod
    def load(cls, path):
        obj = load(path)
        if not isinstance(obj, cls):
            raise ValueError(f"{path} holds a {type(obj).__name__}, not an {cls.__name__}")
        return obj


def _pair(name, v):
    if isinstance(v, (int, np.integer)):
        v = (int(v), int(v))
    try:
        a, b = (int(x) for x in v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer or a pair of integers, not {v!r}") from None
    if a < 1 or b < 1:
        raise ValueError(f"{name} must be >= 1, not {v!r}")
    return (a, b)


def _padding(p):
    if isinstance(p, str):
        return _check_choice("padding", p, ("valid", "same"))
    if isinstance(p, (int, np.integer)):
        p = (p, p, p, p)
    try:
        t = tuple(int(v) for v in p)
    except (TypeError, ValueError):
        raise ValueError(f"padding must be 'same', 'valid', an integer or (top, bottom, left, "
                         f"right), not {p!r}") from None
    if len(t) != 4 or min(t) < 0:
        raise ValueError(f"padding must be 'same', 'valid', an integer or (top, bottom, left, "
                         f"right) of non-negative integers, not {p!r}")
    return t


class _ScalarLayer:
    """Serialisation of a layer whose fields are all scalars (or tuples of them)."""

    def _meta(self):
        return {"type": type(self).__name__, **{
            k: list(v) if isinstance(v, tuple) else v
            for k, v in ((k, getattr(self, k)) for k in self.__dataclass_fields__)}}

    def _arrays(self):
        return {}

    @classmethod
    def _build(cls, meta, arrays):
        return cls(**{k: v for k, v in meta.items() if k != "type"})


@dataclass(eq=False)
class RescaleLayer(_ScalarLayer):
    """Elementwise requantization ``clamp(MBQM(x − z_in, M, shift) + z_out, act_min, act_max)``:
    a standalone ReLU/ReLU6 whose input and output parameters may differ."""

    input_zero_point: int
    multiplier: int
    shift: int
    output_zero_point: int
    act_min: int = QMIN
    act_max: int = QMAX
    rounding: str = "double"
    activation: str = "none"

    def __post_init__(self):
        _check_choice("rounding", self.rounding, ROUNDING_MODES)
        for name in ("input_zero_point", "multiplier", "shift", "output_zero_point", "act_min",
                     "act_max"):
            setattr(self, name, int(getattr(self, name)))


@dataclass(eq=False)
class AddLayer(_ScalarLayer):
    """Quantized elementwise Add as TFLite computes it: both inputs are shifted left by
    ``left_shift`` and rescaled to the common scale ``2·max(s1, s2)``, summed, rescaled to the
    output, offset and clamped."""

    input_zero_points: tuple
    input_multipliers: tuple
    input_shifts: tuple
    output_multiplier: int
    output_shift: int
    output_zero_point: int
    left_shift: int = 20
    act_min: int = QMIN
    act_max: int = QMAX
    rounding: str = "double"
    activation: str = "none"

    def __post_init__(self):
        _check_choice("rounding", self.rounding, ROUNDING_MODES)
        for name in ("input_zero_points", "input_multipliers", "input_shifts"):
            setattr(self, name, tuple(int(v) for v in getattr(self, name)))
            if len(getattr(self, name)) != 2:
                raise ValueError(f"{name} must hold two values")


@dataclass(eq=False)
class ConcatLayer:
    """Concatenation along ``axis`` with each input requantized to the output parameters by
    a :class:`RescaleLayer` (an identity when the parameters already agree)."""

    inputs: list
    axis: int = -1

    def _meta(self):
        return {"type": "ConcatLayer", "axis": self.axis,
                "inputs": [r._meta() for r in self.inputs]}

    def _arrays(self):
        return {}

    @classmethod
    def _build(cls, meta, arrays):
        return cls([RescaleLayer._build(m, {}) for m in meta["inputs"]], meta["axis"])


@dataclass(eq=False)
class FlattenLayer:
    """``[N, ...] → [N, prod(...)]`` (NHWC order), between a convolution and a linear layer."""

    def _meta(self):
        return {"type": "FlattenLayer"}

    def _arrays(self):
        return {}

    @classmethod
    def _build(cls, meta, arrays):
        return cls()


@dataclass(eq=False)
class Program:
    """A sequence of single-input layers run one after the other."""

    layers: list = field(default_factory=list)

    def __post_init__(self):
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, (IntLayer, RescaleLayer, FlattenLayer)):
                raise TypeError(f"layer {i} of a Program must be a single-input layer "
                                f"(IntLayer, RescaleLayer, FlattenLayer), not "
                                f"{type(layer).__name__}")

    def save(self, path):
        save(self, path)

    @classmethod
    def load(cls, path):
        obj = load(path)
        if not isinstance(obj, cls):
            raise ValueError(f"{path} holds a {type(obj).__name__}, not a Program")
        return obj


_TYPES = {c.__name__: c for c in (IntLayer, RescaleLayer, AddLayer, ConcatLayer, FlattenLayer)}


def save(obj, path):
    """Write a layer or a :class:`Program` to one ``.npz``: its arrays, and a JSON description
    under ``__meta__``. :func:`load` gives back identical arrays and values."""
    layers = obj.layers if isinstance(obj, Program) else [obj]
    arrays, metas = {}, []
    for i, layer in enumerate(layers):
        metas.append(layer._meta())
        for name, a in layer._arrays().items():
            arrays[f"{i}.{name}"] = a
    meta = {"program": isinstance(obj, Program), "layers": metas}
    np.savez(Path(path), __meta__=np.array(json.dumps(meta)), **arrays)


def load(path):
    """Read what :func:`save` wrote."""
    try:
        with np.load(Path(path), allow_pickle=False) as f:
            meta = json.loads(str(f["__meta__"]))
            arrays = {k: f[k] for k in f.files if k != "__meta__"}
    except (OSError, KeyError, ValueError) as e:
        raise ValueError(f"{path} is not an hwq integer program: {e}") from None
    layers = []
    for i, m in enumerate(meta["layers"]):
        if m.get("type") not in _TYPES:
            raise ValueError(f"{path}: layer {i} has unknown type {m.get('type')!r}")
        prefix = f"{i}."
        own = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
        layers.append(_TYPES[m["type"]]._build(m, own))
    return Program(layers) if meta["program"] else layers[0]


# ----------------------------------------------------------------------------- from int8 tensors
def _weight_scales(w_qp, n):
    if not isinstance(w_qp, QParams):
        raise TypeError(f"w_qp must be a QParams, not {w_qp!r}")
    spec = w_qp.spec
    if spec.granularity == "group":
        raise ValueError("w_qp must be per-tensor or per-channel, not per-group")
    if spec.granularity == "channel":
        if spec.axis not in (0, -4, -2) or w_qp.scale.shape != (n,):
            raise ValueError(f"w_qp must have one scale per output channel ({n}) on axis 0, "
                             f"not shape {w_qp.scale.shape} on axis {spec.axis}")
    if np.any(w_qp.zero_point != 0):
        raise ValueError(f"w_qp zero_point must be 0 (symmetric weights), not "
                         f"{int(w_qp.zero_point[w_qp.zero_point != 0].ravel()[0])}")
    return np.broadcast_to(w_qp.scale.astype(np.float64), (n,))


def _make_gemm(kind, w_q, bias_q, in_qp, w_qp, out_qp, activation, rounding, acc_bits,
               shift_range, **conv):
    _check_choice("activation", activation, ACTIVATIONS)
    _check_choice("rounding", rounding, ROUNDING_MODES)
    if isinstance(acc_bits, bool) or not isinstance(acc_bits, (int, np.integer)) \
            or not 16 <= acc_bits <= 32:
        raise ValueError(f"acc_bits must be an integer in 16..32, not {acc_bits!r}")
    w = _int_tensor(w_q, "w_q", QMIN, QMAX, np.int8)
    ndim = 2 if kind == "linear" else 4
    if w.ndim != ndim:
        raise ValueError(f"w_q must be {ndim}-d for {kind}, not shape {w.shape}")
    n = w.shape[0]
    bias = np.zeros(n, np.int64) if bias_q is None else \
        _int_tensor(bias_q, "bias_q", INT32_MIN, INT32_MAX, np.int64)
    if bias.shape != (n,):
        raise ValueError(f"bias_q must have shape ({n},), not {bias.shape}")
    s_in, z_in = _act_qparams(in_qp, "in_qp")
    s_out, z_out = _act_qparams(out_qp, "out_qp")
    s_w = _weight_scales(w_qp, n)
    M, shift = quantize_multiplier(s_in * s_w / s_out, shift_range)
    folded = bias - z_in * w.reshape(n, -1).astype(np.int64).sum(axis=1)
    over = (folded < INT32_MIN) | (folded > INT32_MAX)
    if over.any():
        c = int(np.argmax(over))
        raise ValueError(f"bias of channel {c} with the input zero-point term folded in "
                         f"({int(folded[c])}) overflows int32")
    act_min, act_max = activation_bounds(activation, out_qp)
    layer = IntLayer(kind, w, folded.astype(np.int32), M, shift, z_in, z_out, act_min, act_max,
                     rounding, input_scale=s_in, output_scale=s_out,
                     weight_scale=s_w.astype(np.float32), activation=activation, **conv)
    layer.check_accumulator(acc_bits)
    return layer


def make_linear(w_q, bias_q, in_qp, w_qp, out_qp, activation="none", rounding="double",
                acc_bits=32, shift_range=SHIFT_RANGE) -> IntLayer:
    """A linear layer from already-quantized tensors (as found in int8 TFLite/ONNX models).

    ``w_q`` int8 ``[out, in]``; ``bias_q`` int32 ``[out]`` at scale ``s_in·s_w[c]`` (or None);
    ``in_qp``/``out_qp`` per-tensor int8 parameters; ``w_qp`` per-tensor or per-channel
    symmetric weight parameters.
    """
    return _make_gemm("linear", w_q, bias_q, in_qp, w_qp, out_qp, activation, rounding,
                      acc_bits, shift_range)


def make_conv2d(w_q, bias_q, in_qp, w_qp, out_qp, stride=1, padding="same", dilation=1,
                activation="none", rounding="double", acc_bits=32,
                shift_range=SHIFT_RANGE) -> IntLayer:
    """A 2-D convolution from already-quantized tensors: weights ``[out, kh, kw, in]``, NHWC
    activations; ``padding`` is ``"same"`` (TFLite's), ``"valid"``, an integer or
    ``(top, bottom, left, right)``."""
    return _make_gemm("conv2d", w_q, bias_q, in_qp, w_qp, out_qp, activation, rounding,
                      acc_bits, shift_range, stride=stride, padding=padding, dilation=dilation)


# ----------------------------------------------------------------------------- from float
def _quantize_float(w, b, in_qp, weight_spec, weight_method, batchnorm):
    w = np.asarray(w, np.float64)
    if batchnorm is not None:
        if not isinstance(batchnorm, dict):
            raise TypeError(f"batchnorm must be a dict of gamma, beta, mean, var[, eps], not "
                            f"{batchnorm!r}")
        w, b = fold_batchnorm(w, b, **batchnorm)
        w = w.astype(np.float64)
    n = w.shape[0]
    b = np.zeros(n) if b is None else np.asarray(b, np.float64)
    if b.shape != (n,) or not np.all(np.isfinite(b)):
        raise ValueError(f"b must be a finite array of shape ({n},)")
    w_qp = weight_qparams(w, weight_spec, weight_method)
    return w_qp.quantize(w), quantize_bias(b, in_qp, w_qp), w_qp


def quantize_bias(b, in_qp, w_qp) -> np.ndarray:
    """A float bias ``[out]`` as int32 codes (int64 array) at scale ``s_in·s_w[c]``, rounded
    half away from zero as TFLite's converter does; refuses a bias that overflows int32."""
    b = np.asarray(b, np.float64)
    s_in, _ = _act_qparams(in_qp, "in_qp")
    n = b.shape[0] if b.ndim == 1 else 0
    if b.ndim != 1 or not np.all(np.isfinite(b)):
        raise ValueError(f"b must be a finite 1-d array, not shape {b.shape}")
    bias_scale = s_in * np.broadcast_to(_weight_scales(w_qp, n), (n,))
    bias_q = round_half_away(b / bias_scale)
    over = (bias_q < INT32_MIN) | (bias_q > INT32_MAX)
    if over.any():
        c = int(np.argmax(over))
        raise ValueError(f"bias of channel {c} ({float(b[c])!r}) overflows int32 at scale "
                         f"{float(bias_scale[c])!r}")
    return bias_q.astype(np.int64)


def lower_linear(w, b, in_qp, out_qp, *, weight_spec=DEFAULT_WEIGHT_SPEC, weight_method="minmax",
                 batchnorm=None, activation="none", rounding="double", acc_bits=32,
                 shift_range=SHIFT_RANGE) -> IntLayer:
    """Lower a float linear layer ``y = x · wᵀ + b`` (``w`` ``[out, in]``).

    Weights are quantized data-free (``weight_method`` min/max or MSE, ``weight_spec``
    defaults to TFLite's symmetric narrow-range per-channel int8); the bias becomes int32 at
    scale ``s_in·s_w[c]`` (round half away, as TFLite's converter). ``batchnorm`` (a dict of
    ``gamma, beta, mean, var`` and optionally ``eps``) is folded in first.
    """
    w_q, bias_q, w_qp = _quantize_float(w, b, in_qp, weight_spec, weight_method, batchnorm)
    return make_linear(w_q, bias_q, in_qp, w_qp, out_qp, activation, rounding, acc_bits,
                       shift_range)


def lower_conv2d(w, b, in_qp, out_qp, *, stride=1, padding="same", dilation=1,
                 weight_spec=DEFAULT_WEIGHT_SPEC, weight_method="minmax", batchnorm=None,
                 activation="none", rounding="double", acc_bits=32,
                 shift_range=SHIFT_RANGE) -> IntLayer:
    """Lower a float 2-D convolution (weights ``[out, kh, kw, in]``, NHWC data); see
    :func:`lower_linear`."""
    w_q, bias_q, w_qp = _quantize_float(w, b, in_qp, weight_spec, weight_method, batchnorm)
    return make_conv2d(w_q, bias_q, in_qp, w_qp, out_qp, stride, padding, dilation, activation,
                       rounding, acc_bits, shift_range)


# ----------------------------------------------------------------------------- Add, Concat, ReLU
def make_add(in1_qp, in2_qp, out_qp, activation="none", rounding="double", left_shift=20,
             shift_range=SHIFT_RANGE) -> AddLayer:
    """TFLite's int8 Add: ``left_shift = 20``, input multipliers ``s_i / (2·max s)``, output
    multiplier ``2·max s / (2^left_shift · s_out)``, all in double precision."""
    s1, z1 = _act_qparams(in1_qp, "in1_qp")
    s2, z2 = _act_qparams(in2_qp, "in2_qp")
    s_out, z_out = _act_qparams(out_qp, "out_qp")
    if isinstance(left_shift, bool) or not isinstance(left_shift, (int, np.integer)) \
            or not 0 <= left_shift <= 22:
        # (x − z) spans 9 bits; 9 + 22 = 31 keeps the shifted value inside int32
        raise ValueError(f"left_shift must be an integer in 0..22, not {left_shift!r}")
    twice_max = 2.0 * max(s1, s2)
    m, e = quantize_multiplier([s1 / twice_max, s2 / twice_max,
                                twice_max / (2.0**left_shift * s_out)], shift_range)
    lo, hi = activation_bounds(activation, out_qp)
    return AddLayer((z1, z2), (int(m[0]), int(m[1])), (int(e[0]), int(e[1])), int(m[2]),
                    int(e[2]), z_out, int(left_shift), lo, hi, rounding, activation)


def make_activation(in_qp, out_qp, activation="relu", rounding="double",
                    shift_range=SHIFT_RANGE) -> RescaleLayer:
    """A standalone activation (or plain requantization with ``activation="none"``):
    ``clamp(MBQM(x − z_in, M, shift) + z_out)`` with ``M, shift`` from ``s_in / s_out``."""
    s_in, z_in = _act_qparams(in_qp, "in_qp")
    s_out, z_out = _act_qparams(out_qp, "out_qp")
    m, e = quantize_multiplier(s_in / s_out, shift_range)
    lo, hi = activation_bounds(activation, out_qp)
    return RescaleLayer(z_in, int(m), int(e), z_out, lo, hi, rounding, activation)


def make_concat(in_qps, out_qp, axis=-1, rounding="double",
                shift_range=SHIFT_RANGE) -> ConcatLayer:
    """Concatenate inputs along ``axis``, each requantized to ``out_qp`` in fixed point.

    hwq rescales with the integer multiplier (``s_in / s_out`` as ``M, shift``) like Add,
    where TFLite's reference kernel rescales in float; the two can differ by one LSB on ties.
    """
    if len(in_qps) < 1:
        raise ValueError("in_qps must hold at least one input's parameters")
    return ConcatLayer([make_activation(qp, out_qp, "none", rounding, shift_range)
                        for qp in in_qps], int(axis))
