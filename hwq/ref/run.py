"""Running integer programs: the single definition of what the hardware must compute."""

from __future__ import annotations

import numpy as np

from ..lower import AddLayer, ConcatLayer, FlattenLayer, IntLayer, Program, RescaleLayer
from ..quant.fixedpoint import INT32_MAX, INT32_MIN, _mbqm
from .gemm import gemm, im2col

__all__ = ["requantize", "run_layer"]


def requantize(acc, multiplier, shift, output_zero_point, act_min=-128, act_max=127,
               rounding="double") -> np.ndarray:
    """``clamp(MBQM(acc, M, shift) + z_out, act_min, act_max)`` as int8; per-channel ``M`` and
    ``shift`` broadcast along the last axis of ``acc``, which must fit int32."""
    acc = np.asarray(acc, np.int64)
    if acc.size and (acc.min() < INT32_MIN or acc.max() > INT32_MAX):
        raise OverflowError("accumulator outside int32: the layer's accumulator check failed")
    y = _mbqm(acc, np.asarray(multiplier, np.int64), np.asarray(shift, np.int64), rounding)
    return np.clip(y + output_zero_point, act_min, act_max).astype(np.int8)


def _codes(x, name):
    a = np.asarray(x)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold int8 codes, not dtype {a.dtype}")
    if a.size and (a.min() < -128 or a.max() > 127):
        raise ValueError(f"{name} must hold int8 codes in -128..127, not "
                         f"{int(a[(a < -128) | (a > 127)].ravel()[0])}")
    return a.astype(np.int8)


def _run_gemm_layer(layer: IntLayer, x):
    if layer.kind == "linear":
        if x.ndim == 0 or x.shape[-1] != layer.k:
            raise ValueError(f"linear layer expects x_q [..., {layer.k}], not shape {x.shape}")
        rows = x.reshape(-1, layer.k)
        acc = gemm(rows, layer.weight_matrix, layer.bias)
        out_shape = x.shape[:-1] + (layer.out_channels,)
    else:
        _, kh, kw, cin = layer.weight.shape
        if x.ndim != 4 or x.shape[-1] != cin:
            raise ValueError(f"conv2d layer expects NHWC x_q with {cin} channels, not shape "
                             f"{x.shape}")
        rows, (n, oh, ow) = im2col(x, kh, kw, layer.stride, layer.dilation, layer.padding,
                                   pad_value=layer.input_zero_point)
        acc = gemm(rows, layer.weight_matrix, layer.bias)
        out_shape = (n, oh, ow, layer.out_channels)
    y = requantize(acc, layer.multiplier, layer.shift, layer.output_zero_point, layer.act_min,
                   layer.act_max, layer.rounding)
    return y.reshape(out_shape)


def _run_rescale(layer: RescaleLayer, x):
    acc = x.astype(np.int64) - layer.input_zero_point
    return requantize(acc, layer.multiplier, layer.shift, layer.output_zero_point,
                      layer.act_min, layer.act_max, layer.rounding)


def _run_add(layer: AddLayer, xs):
    if not isinstance(xs, (tuple, list)) or len(xs) != 2:
        raise TypeError("an Add layer takes a pair of inputs (x1_q, x2_q)")
    a, b = (_codes(x, f"x{i + 1}_q") for i, x in enumerate(xs))
    if a.shape != b.shape:
        raise ValueError(f"Add inputs must have the same shape, not {a.shape} and {b.shape}")
    scaled = []
    for x, z, m, e in zip((a, b), layer.input_zero_points, layer.input_multipliers,
                          layer.input_shifts, strict=True):
        shifted = (x.astype(np.int64) - z) << layer.left_shift
        scaled.append(_mbqm(shifted, np.int64(m), np.int64(e), layer.rounding))
    return requantize(scaled[0] + scaled[1], layer.output_multiplier, layer.output_shift,
                      layer.output_zero_point, layer.act_min, layer.act_max, layer.rounding)


def _run_concat(layer: ConcatLayer, xs):
    if not isinstance(xs, (tuple, list)) or len(xs) != len(layer.inputs):
        raise TypeError(f"this Concat layer takes {len(layer.inputs)} inputs as a tuple")
    parts = [_run_rescale(r, _codes(x, f"x{i + 1}_q"))
             for i, (r, x) in enumerate(zip(layer.inputs, xs, strict=True))]
    try:
        return np.concatenate(parts, axis=layer.axis)
    except (ValueError, np.exceptions.AxisError) as e:
        raise ValueError(f"Concat inputs do not fit together along axis {layer.axis}: {e}") \
            from None


def run_layer(layer, x_q) -> np.ndarray:
    """Run one layer (or a :class:`~hwq.lower.Program`) on int8 codes; returns int8 codes.

    * :class:`~hwq.lower.IntLayer` linear: ``x_q [..., in]``; conv2d: NHWC ``x_q``, lowered to a
      GEMM by im2col.
    * :class:`~hwq.lower.AddLayer`: ``x_q = (x1_q, x2_q)``; :class:`~hwq.lower.ConcatLayer`:
      a tuple of inputs.
    * :class:`~hwq.lower.RescaleLayer` (ReLU/ReLU6/requantize), :class:`~hwq.lower.FlattenLayer`.
    """
    if isinstance(layer, Program):
        x = x_q
        for i, sub in enumerate(layer.layers):
            try:
                x = run_layer(sub, x)
            except (ValueError, TypeError) as e:
                raise type(e)(f"layer {i} ({type(sub).__name__}): {e}") from None
        return x
    if isinstance(layer, AddLayer):
        return _run_add(layer, x_q)
    if isinstance(layer, ConcatLayer):
        return _run_concat(layer, x_q)
    x = _codes(x_q, "x_q")
    if isinstance(layer, IntLayer):
        return _run_gemm_layer(layer, x)
    if isinstance(layer, RescaleLayer):
        return _run_rescale(layer, x)
    if isinstance(layer, FlattenLayer):
        if x.ndim < 2:
            raise ValueError(f"Flatten needs a batch axis, not shape {x.shape}")
        return x.reshape(x.shape[0], -1)
    raise TypeError(f"run_layer cannot run a {type(layer).__name__}")
