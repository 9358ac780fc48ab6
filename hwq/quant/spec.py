"""Quantization specifications and the two rounding rules of the arithmetic contract."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["QuantSpec", "round_half_even", "round_half_away", "ROUNDINGS", "GRANULARITIES"]

ROUNDINGS = ("half_even", "half_away")
GRANULARITIES = ("tensor", "channel", "group")


def round_half_even(x):
    """Round to the nearest integer, ties to even (PyTorch, ONNX). Returns float64."""
    return np.rint(np.asarray(x, dtype=np.float64))


def round_half_away(x):
    """Round to the nearest integer, ties away from zero (TFLite's ``std::round``).

    Computed as ``trunc(x) + sign(x)·[|x − trunc(x)| ≥ ½]``: ``x − trunc(x)`` is exact in
    binary floating point, so unlike ``floor(|x| + ½)`` it does not round
    0.49999999999999994 up to 1. Returns float64.
    """
    x = np.asarray(x, dtype=np.float64)
    t = np.trunc(x)
    return t + np.sign(x) * (np.abs(x - t) >= 0.5)


def _check_int(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    value = int(value)
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in {lo}..{hi}, not {value!r}")
    return value


def _check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, not {value!r}")
    return bool(value)


@dataclass(frozen=True)
class QuantSpec:
    """How a tensor is quantized: bit width, sign, symmetry, granularity and rounding.

    Parameters
    ----------
    bits : int
        Code width, 2..16.
    signed : bool
        Codes in ``[-2^(bits-1), 2^(bits-1)-1]`` if true, ``[0, 2^bits-1]`` otherwise.
    symmetric : bool
        Symmetric ranges: ``s = max(-lo, hi) / ((qmax - qmin) / 2)`` and the zero-point is the
        middle code (0 when signed, ``2^(bits-1)`` when unsigned). Asymmetric (affine) otherwise.
    narrow_range : bool
        Drop the most negative code (``qmin + 1``): int8 weights become ``[-127, 127]``.
    granularity : {"tensor", "channel", "group"}
        One ``(scale, zero_point)`` per tensor, per index of ``axis``, or per ``group_size``
        consecutive elements along ``axis`` (the reduction axis).
    axis : int or None
        Channel axis (``granularity="channel"``) or reduction axis (``"group"``); must be
        ``None`` for per-tensor.
    group_size : int or None
        Elements per group, required for and only for ``granularity="group"``.
    rounding : {"half_even", "half_away"}
        ``R`` in ``q = clamp(R(x / s) + z)``; also used for the zero-point.
    """

    bits: int = 8
    signed: bool = True
    symmetric: bool = False
    narrow_range: bool = False
    granularity: str = "tensor"
    axis: int | None = None
    group_size: int | None = None
    rounding: str = "half_even"

    def __post_init__(self):
        object.__setattr__(self, "bits", _check_int("bits", self.bits, 2, 16))
        for name in ("signed", "symmetric", "narrow_range"):
            object.__setattr__(self, name, _check_bool(name, getattr(self, name)))
        if self.granularity not in GRANULARITIES:
            raise ValueError(
                f"granularity must be one of {', '.join(GRANULARITIES)}, not {self.granularity!r}")
        if self.rounding not in ROUNDINGS:
            raise ValueError(
                f"rounding must be one of {', '.join(ROUNDINGS)}, not {self.rounding!r}")
        if self.granularity == "tensor":
            if self.axis is not None:
                raise ValueError(
                    f"axis must be None for per-tensor quantization, not {self.axis!r}")
        else:
            if self.axis is None:
                raise ValueError(f"axis is required for granularity={self.granularity!r}")
            object.__setattr__(self, "axis", _check_int("axis", self.axis, -64, 63))
        if self.granularity == "group":
            if self.group_size is None:
                raise ValueError("group_size is required for granularity='group'")
            object.__setattr__(self, "group_size",
                               _check_int("group_size", self.group_size, 1, 2**31 - 1))
        elif self.group_size is not None:
            raise ValueError(
                f"group_size is only valid with granularity='group', not {self.group_size!r}")

    @property
    def qmin(self) -> int:
        """Smallest code."""
        base = -(1 << (self.bits - 1)) if self.signed else 0
        return base + 1 if self.narrow_range else base

    @property
    def qmax(self) -> int:
        """Largest code."""
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def symmetric_zero_point(self) -> int:
        """The middle code used as zero-point by symmetric specs (0 when signed)."""
        return (self.qmin + self.qmax + 1) // 2

    @property
    def dtype(self) -> np.dtype:
        """Smallest NumPy integer dtype holding every code."""
        if self.bits <= 8:
            return np.dtype(np.int8 if self.signed else np.uint8)
        return np.dtype(np.int16 if self.signed else np.uint16)

    def round(self, x):
        """Apply this spec's rounding rule; returns float64."""
        return round_half_even(x) if self.rounding == "half_even" else round_half_away(x)

    def normalized_axis(self, ndim: int) -> int:
        """Return ``axis`` as a non-negative index for a tensor of ``ndim`` dimensions."""
        if self.axis is None:
            raise ValueError("axis is None for per-tensor quantization")
        return _normalize_axis(self.axis, ndim)

    def to_dict(self) -> dict:
        """Return a JSON-compatible dict (see :meth:`from_dict`)."""
        return {
            "bits": self.bits, "signed": self.signed, "symmetric": self.symmetric,
            "narrow_range": self.narrow_range, "granularity": self.granularity,
            "axis": self.axis, "group_size": self.group_size, "rounding": self.rounding,
        }

    @classmethod
    def from_dict(cls, d: dict) -> QuantSpec:
        """Build a spec from :meth:`to_dict` output."""
        if not isinstance(d, dict):
            raise TypeError(f"spec must be a dict, not {d!r}")
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown spec field(s): {', '.join(sorted(unknown))}")
        return cls(**d)


def _normalize_axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis must be in {-ndim}..{ndim - 1} for a {ndim}-d tensor, not {axis}")
    return axis % ndim
