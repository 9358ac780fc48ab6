"""Payload layouts of the engine's streams, shared by the hardware and the testbenches.

The parameter stream carries 72-bit words: one :class:`ParamHeader` per layer, then one
:class:`ParamChannel` per output channel. Testbenches pack words with these same layouts
(``Layout.const({...}).as_value().value``), so hardware and bench cannot disagree on a bit.
"""

from amaranth.hdl import signed, unsigned
from amaranth.lib import data

__all__ = ["PARAM_WIDTH", "ParamHeader", "ParamChannel", "lanes"]

PARAM_WIDTH = 72


class ParamHeader(data.Struct):
    """First word of a layer: the GEMM's size and the output zero-point and clamp."""

    m: unsigned(16)
    n: unsigned(16)
    k: unsigned(16)
    zero_point: signed(8)
    act_min: signed(8)
    act_max: signed(8)


class ParamChannel(data.Struct):
    """One output channel: int32 bias (input zero-point term folded in), multiplier and shift.
    Per-tensor configs use the first channel's multiplier and shift for every channel."""

    bias: signed(32)
    multiplier: unsigned(32)
    shift: signed(8)


def lanes(shape, count):
    """``count`` lanes of ``shape`` packed from bit 0 up (lane 0 in the low bits)."""
    return data.ArrayLayout(shape, count)
