"""Quantization parameters: scales and zero-points, and how they are derived from a range.

The formulas are the arithmetic contract of ``DESIGN.md``:

* quantize ``q = clamp(R(x / s) + z, qmin, qmax)``, dequantize ``x̂ = s · (q − z)``;
* from a range ``[lo, hi]``, first widened to contain 0 so that 0 is exact:
  asymmetric ``s = (hi − lo) / (qmax − qmin)``, ``z = clamp(qmin − R(lo / s))``;
  symmetric ``s = max(−lo, hi) / ((qmax − qmin) / 2)``, ``z`` = the middle code.

Scales are stored as float32 and are always finite and positive: an all-zero range gets scale
1.0 (every code then dequantizes to a multiple of 1, and 0 is still exact), and a range so small
that its scale underflows float32 is floored at the smallest normal float32. ``x / s`` and
``lo / s`` are evaluated in float64 from the stored float32 scale, so the stored parameters alone
determine every code.
"""

from __future__ import annotations

import json

import numpy as np

from .spec import QuantSpec

__all__ = ["QParams", "qparams_from_range", "dynamic_qparams", "reduce_range", "NAN_POLICIES"]

NAN_POLICIES = ("raise", "omit")

_F32_TINY = float(np.finfo(np.float32).tiny)
_F32_MAX = float(np.finfo(np.float32).max)


def _as_real_array(x, name):
    x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a real numeric array, not an array of dtype {x.dtype}")
    return x


def _finite_values(x, name, nan_policy):
    """Return ``x`` as float64 with non-finite values handled per ``nan_policy``.

    With ``"raise"`` any NaN or ±inf is an error; with ``"omit"`` they become NaN, which the
    callers skip with ``nanmin``/``nanmax`` or boolean masks.
    """
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy must be one of {', '.join(NAN_POLICIES)}, not {nan_policy!r}")
    x = _as_real_array(x, name)
    if x.size == 0:
        raise ValueError(f"{name} is empty (shape {x.shape})")
    x = x.astype(np.float64, copy=False)
    bad = ~np.isfinite(x)
    n_bad = int(np.count_nonzero(bad))
    if n_bad:
        if nan_policy == "raise":
            raise ValueError(
                f"{name} contains {n_bad} NaN or infinite value(s) out of {x.size}; "
                f"pass nan_policy='omit' to ignore them")
        if n_bad == x.size:
            raise ValueError(f"{name} has no finite values ({x.size} NaN or infinite)")
        x = np.where(bad, np.nan, x)
    return x


def _group_view(x, spec):
    """Reshape ``x`` so that axis ``ax + 1`` runs over the members of each group."""
    ax = spec.normalized_axis(x.ndim)
    g = spec.group_size
    if x.shape[ax] % g:
        raise ValueError(
            f"group_size must divide the size of axis {spec.axis} ({x.shape[ax]}), not {g}")
    return x.reshape(x.shape[:ax] + (x.shape[ax] // g, g) + x.shape[ax + 1:]), ax


def reduce_range(x, spec: QuantSpec, nan_policy: str = "raise", name: str = "x"):
    """Return ``(lo, hi)`` of ``x`` per the granularity of ``spec``, as float64 arrays.

    Shapes: ``()`` per tensor, ``(C,)`` per channel, ``x.shape`` with the axis divided by
    ``group_size`` per group.
    """
    x = _finite_values(x, name, nan_policy)
    if spec.granularity == "tensor":
        lo, hi = np.nanmin(x), np.nanmax(x)
    elif spec.granularity == "channel":
        if x.ndim == 0:
            raise ValueError(f"{name} must have at least one dimension for per-channel ranges")
        ax = spec.normalized_axis(x.ndim)
        flat = np.moveaxis(x, ax, 0).reshape(x.shape[ax], -1)
        if flat.shape[1] == 0:
            raise ValueError(f"{name} is empty (shape {x.shape})")
        lo, hi = _nan_reduce(flat, 1, name)
    else:
        if x.ndim == 0:
            raise ValueError(f"{name} must have at least one dimension for per-group ranges")
        view, ax = _group_view(x, spec)
        lo, hi = _nan_reduce(view, ax + 1, name)
    return np.asarray(lo, np.float64), np.asarray(hi, np.float64)


def _nan_reduce(x, axis, name):
    finite = ~np.isnan(x)
    if not finite.any(axis=axis).all():
        raise ValueError(f"{name} has a channel or group with no finite values")
    return np.nanmin(x, axis=axis), np.nanmax(x, axis=axis)


class QParams:
    """Scales and zero-points of a quantized tensor.

    Parameters
    ----------
    scale : array_like
        Real value of one code step; stored as float32, finite and > 0. Shape ``()`` per tensor
        (a size-1 array is accepted), ``(C,)`` per channel, the tensor's shape with the group axis
        divided by ``group_size`` per group.
    zero_point : array_like
        Integer code of real 0, broadcastable to ``scale``; stored as int32, inside
        ``[qmin, qmax]``; the middle code for symmetric specs.
    spec : QuantSpec
    """

    def __init__(self, scale, zero_point, spec: QuantSpec):
        if not isinstance(spec, QuantSpec):
            raise TypeError(f"spec must be a QuantSpec, not {spec!r}")
        self.spec = spec
        scale = _as_real_array(scale, "scale")
        if spec.granularity == "tensor":
            if scale.size != 1:
                raise ValueError("scale must hold one value for per-tensor quantization, "
                                 f"not shape {scale.shape}")
            scale = scale.reshape(())
        elif spec.granularity == "channel" and scale.ndim != 1:
            raise ValueError("scale must be 1-d for per-channel quantization, "
                             f"not shape {scale.shape}")
        elif spec.granularity == "group" and scale.ndim == 0:
            raise ValueError("scale must have at least one dimension for per-group quantization")
        with np.errstate(over="ignore"):
            scale32 = scale.astype(np.float32)
        bad = ~(np.isfinite(scale32) & (scale32 > 0))
        if bad.any():
            idx = np.argwhere(bad)[0] if scale32.ndim else ()
            value = scale.reshape(scale32.shape)[tuple(idx)]
            raise ValueError(
                f"scale must be finite and > 0 as float32, not {float(value)!r}"
                + (f" (at index {tuple(int(i) for i in idx)})" if scale32.ndim else ""))
        zp = _as_real_array(zero_point, "zero_point")
        try:
            zp = np.broadcast_to(zp, scale32.shape)
        except ValueError:
            raise ValueError(f"zero_point shape {zp.shape} does not match scale shape "
                             f"{scale32.shape}") from None
        if zp.dtype.kind == "f" and not np.all(np.isfinite(zp) & (zp == np.round(zp))):
            raise ValueError(f"zero_point must hold integers, not {zp.ravel()[:4].tolist()}")
        out = (zp < spec.qmin) | (zp > spec.qmax)
        if out.any():
            bad_zp = zp[out].ravel()[0]
            bad_zp = int(bad_zp) if zp.dtype.kind != "f" else float(bad_zp)
            raise ValueError(f"zero_point must be in {spec.qmin}..{spec.qmax}, not {bad_zp!r}")
        zp = zp.astype(np.int32)
        if spec.symmetric and np.any(zp != spec.symmetric_zero_point):
            raise ValueError(f"zero_point must be {spec.symmetric_zero_point} for a symmetric "
                             f"spec, not {int(zp[zp != spec.symmetric_zero_point].ravel()[0])}")
        self.scale = np.array(scale32, np.float32, copy=True)
        self.zero_point = np.array(zp, np.int32, copy=True)
        self.scale.flags.writeable = False
        self.zero_point.flags.writeable = False

    # ------------------------------------------------------------------ properties
    @property
    def qmin(self) -> int:
        return self.spec.qmin

    @property
    def qmax(self) -> int:
        return self.spec.qmax

    @property
    def shape(self) -> tuple:
        """Shape of :attr:`scale` and :attr:`zero_point`."""
        return self.scale.shape

    def __repr__(self):
        if self.scale.size == 1:
            return (f"QParams(scale={float(self.scale.ravel()[0])!r}, "
                    f"zero_point={int(self.zero_point.ravel()[0])}, spec={self.spec!r})")
        return f"QParams(shape={self.shape}, spec={self.spec!r})"

    def __eq__(self, other):
        if not isinstance(other, QParams):
            return NotImplemented
        return (self.spec == other.spec and self.scale.shape == other.scale.shape
                and np.array_equal(self.scale, other.scale)
                and np.array_equal(self.zero_point, other.zero_point))

    __hash__ = None

    # ------------------------------------------------------------------ broadcasting
    def _broadcast(self, x):
        """Return scale (float64) and zero-point (int64) broadcast against ``x``."""
        s = self.scale.astype(np.float64)
        z = self.zero_point.astype(np.int64)
        spec = self.spec
        if spec.granularity == "tensor":
            return s, z
        ax = spec.normalized_axis(x.ndim)
        if spec.granularity == "channel":
            if x.shape[ax] != s.shape[0]:
                raise ValueError(f"tensor has {x.shape[ax]} channels along axis {spec.axis}, "
                                 f"but qparams have {s.shape[0]}")
            shape = [1] * x.ndim
            shape[ax] = s.shape[0]
            return s.reshape(shape), z.reshape(shape)
        g = spec.group_size
        expect = x.shape[:ax] + (x.shape[ax] // g,) + x.shape[ax + 1:]
        if x.shape[ax] % g or s.shape != expect:
            raise ValueError(f"tensor shape {x.shape} does not match per-group qparams of shape "
                             f"{s.shape} with group_size {g} along axis {spec.axis}")
        return np.repeat(s, g, axis=ax), np.repeat(z, g, axis=ax)

    # ------------------------------------------------------------------ arithmetic
    def quantize(self, x) -> np.ndarray:
        """Return ``clamp(R(x / s) + z, qmin, qmax)`` in :attr:`QuantSpec.dtype`.

        ``x / s`` is computed in float64; ±inf saturate, NaN is an error.
        """
        x = _as_real_array(x, "x").astype(np.float64, copy=False)
        if np.isnan(x).any():
            raise ValueError("x contains NaN; it has no quantized value")
        s, z = self._broadcast(x)
        q = self.spec.round(x / s) + z
        return np.clip(q, self.qmin, self.qmax).astype(self.spec.dtype)

    def dequantize(self, q) -> np.ndarray:
        """Return ``s · (q − z)`` as float32 (one rounding: the float64 product is exact)."""
        q = _as_real_array(q, "q")
        if q.dtype.kind == "f":
            if not np.all(q == np.round(q)):
                raise ValueError("q must hold integer codes")
        q = q.astype(np.int64)
        s, z = self._broadcast(q)
        return (s * (q - z)).astype(np.float32)

    def fake_quantize(self, x) -> np.ndarray:
        """Return ``dequantize(quantize(x))`` (float32)."""
        return self.dequantize(self.quantize(x))

    def fake_quantize_grad(self, x, grad) -> np.ndarray:
        """Straight-through gradient of :meth:`fake_quantize`: ``grad`` where ``x`` lies in the
        representable range ``[s·(qmin − z), s·(qmax − z)]``, 0 where it is clipped."""
        x = _as_real_array(x, "x").astype(np.float64, copy=False)
        s, z = self._broadcast(x)
        inside = (x >= s * (self.qmin - z)) & (x <= s * (self.qmax - z))
        return np.where(inside, grad, 0).astype(np.result_type(grad, np.float32))

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        """Return a JSON-compatible dict; ``from_dict(json.loads(json.dumps(d)))`` is exact.

        float32 scales go through Python floats (float64, which hold them exactly) and JSON's
        shortest round-trip repr, so no bit is lost.
        """
        return {
            "scale": self.scale.astype(np.float64).ravel().tolist(),
            "zero_point": self.zero_point.astype(np.int64).ravel().tolist(),
            "shape": list(self.scale.shape),
            "spec": self.spec.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> QParams:
        """Rebuild parameters written by :meth:`to_dict`."""
        if not isinstance(d, dict):
            raise TypeError(f"qparams must be a dict, not {d!r}")
        for key in ("scale", "zero_point", "shape", "spec"):
            if key not in d:
                raise ValueError(f"qparams dict is missing the field {key!r}")
        shape = tuple(int(n) for n in d["shape"])
        scale = np.asarray(d["scale"], np.float64).reshape(shape)
        zp = np.asarray(d["zero_point"], np.int64).reshape(shape)
        return cls(scale, zp, QuantSpec.from_dict(d["spec"]))

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> QParams:
        return cls.from_dict(json.loads(text))


def qparams_from_range(lo, hi, spec: QuantSpec) -> QParams:
    """Return the parameters that quantize ``[lo, hi]`` under ``spec``.

    ``lo``/``hi`` are scalars per tensor, or arrays shaped like the scales per channel/group.
    """
    if not isinstance(spec, QuantSpec):
        raise TypeError(f"spec must be a QuantSpec, not {spec!r}")
    lo = _as_real_array(lo, "lo").astype(np.float64)
    hi = _as_real_array(hi, "hi").astype(np.float64)
    if lo.shape != hi.shape:
        raise ValueError(f"lo and hi must have the same shape, not {lo.shape} and {hi.shape}")
    for name, v in (("lo", lo), ("hi", hi)):
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} must be finite, not {float(v[~np.isfinite(v)].ravel()[0])!r}")
    if np.any(lo > hi):
        i = np.argwhere(lo > hi)[0] if lo.ndim else ()
        bad_lo, bad_hi = float(lo[tuple(i)]), float(hi[tuple(i)])
        raise ValueError(f"lo must be <= hi, not lo={bad_lo!r} > hi={bad_hi!r}")
    lo = np.minimum(lo, 0.0)
    hi = np.maximum(hi, 0.0)
    qmin, qmax = spec.qmin, spec.qmax
    if spec.symmetric:
        s = np.maximum(-lo, hi) / ((qmax - qmin) / 2)
    else:
        s = (hi - lo) / (qmax - qmin)
    s = np.where(s == 0, 1.0, s)  # all-zero range: any positive scale keeps 0 exact
    if np.any(s > _F32_MAX):
        raise ValueError(f"range [{lo.min()!r}, {hi.max()!r}] is too wide for a float32 scale")
    s = np.maximum(s.astype(np.float32), np.float32(_F32_TINY))
    if spec.symmetric:
        z = np.full(s.shape, spec.symmetric_zero_point, np.int64)
    else:
        z = np.clip(qmin - spec.round(lo / s.astype(np.float64)), qmin, qmax).astype(np.int64)
    return QParams(s, z, spec)


def dynamic_qparams(x, spec: QuantSpec, nan_policy: str = "raise") -> QParams:
    """Online (per-batch) parameters: the min/max of ``x`` itself, per the spec's granularity."""
    lo, hi = reduce_range(x, spec, nan_policy)
    return qparams_from_range(lo, hi, spec)
