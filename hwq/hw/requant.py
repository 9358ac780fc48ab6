"""The requantization unit: TFLite-exact fixed-point rescaling, per lane, pipelined."""

from amaranth.hdl import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .layouts import lanes

__all__ = ["Requantizer"]


class Requantizer(wiring.Component):
    """``lanes`` parallel requantizers: ``clamp(MBQM(acc + bias, M, shift) + z, lo, hi)``.

    The arithmetic is the contract of ``hwq.quant.fixedpoint`` (one result per lane per step):

    * ``s = wrap32(acc + bias)`` (the lowering guarantees it fits int32);
    * ``double`` / ``double_half_up``: ``a = wrap32(s << max(e, 0))``,
      ``h = (a·M + 2^30) >> 31`` — for ``M ≥ 0`` this equals gemmlowp's nudged, truncating
      SaturatingRoundingDoublingHighMul (whose only saturating case, ``M = INT32_MIN``, cannot
      occur) — then with ``r = max(−e, 0)``: ``double`` rounds half away from zero,
      ``(h + 2^(r−1) − [h < 0]) >> r``, and ``double_half_up`` half up,
      ``(h + 2^(r−1)) >> r``;
    * ``single``: ``(s·M + 2^(30−e)) >> (31 − e)``;
    * then ``+ z`` and the clamp ``[act_min, act_max]`` (``[−128, 127]`` without ``clamp``).

    Shifts are limited to ``shift_range``; the shifters are only as wide as that range needs.

    Members
    -------
    en : In(1) — step enable; every register holds while it is low
    i_valid, i_last : In(1)
    i_acc : In(ArrayLayout(signed(accumulator_width), lanes))
    i_bias : In(ArrayLayout(signed(32), lanes))
    i_multiplier : In(ArrayLayout(unsigned(31), lanes or 1))
    i_shift : In(ArrayLayout(signed(6), lanes or 1))
    zero_point, act_min, act_max : In(signed(8)) — held constant while results are in flight
    o_valid, o_last : Out(1)
    o_data : Out(ArrayLayout(signed(8), lanes))

    Latency: ``stages`` steps (2..6): registers after the multiplier and on the output always,
    after the bias addition from 3 stages, after the rounding shift from 4, after the left shift
    from 5, and on the four partial products of the 32×31 multiply at 6 (each fits one
    18×18 DSP multiplier, so the registers can sit right behind the DSPs).
    """

    def __init__(self, lanes_: int, accumulator_width: int, rounding: str = "double",
                 per_channel: bool = True, shift_range=(-31, 30), stages: int = 4,
                 clamp: bool = True):
        if rounding not in ("double", "single", "double_half_up"):
            raise ValueError(f"rounding must be one of double, single, double_half_up, not "
                             f"{rounding!r}")
        if not 2 <= stages <= 6:
            raise ValueError(f"stages must be 2..6, not {stages!r}")
        self._lanes = lanes_
        self._acc_width = accumulator_width
        self._rounding = rounding
        self._per_channel = per_channel
        self._shift_min, self._shift_max = shift_range
        self._stages = stages
        self._clamp = clamp
        n_params = lanes_ if per_channel else 1
        super().__init__({
            "en": In(1),
            "i_valid": In(1),
            "i_last": In(1),
            "i_acc": In(lanes(signed(accumulator_width), lanes_)),
            "i_bias": In(lanes(signed(32), lanes_)),
            "i_multiplier": In(lanes(unsigned(31), n_params)),
            "i_shift": In(lanes(signed(6), n_params)),
            "zero_point": In(signed(8)),
            "act_min": In(signed(8)),
            "act_max": In(signed(8)),
            "o_valid": Out(1),
            "o_last": Out(1),
            "o_data": Out(lanes(signed(8), lanes_)),
        })

    @property
    def latency(self) -> int:
        return self._stages

    def elaborate(self, platform):
        m = Module()
        en = self.en
        L = self._lanes
        lo_s, hi_s = self._shift_min, self._shift_max
        reg_bias = self._stages >= 3
        reg_round = self._stages >= 4
        reg_shift = self._stages >= 5
        reg_prod = self._stages >= 6

        def stage(values, registered, tag):
            """Pass ``values`` (dict of name -> value) through an optional register stage."""
            if not registered:
                return values
            out = {}
            for name, v in values.items():
                r = Signal(v.shape(), name=f"{tag}_{name}")
                with m.If(en):
                    m.d.sync += r.eq(v)
                out[name] = r
            return out

        ctrl = {"valid": self.i_valid, "last": self.i_last}
        params = {}
        for p in range(L if self._per_channel else 1):
            params[f"m{p}"] = self.i_multiplier[p]
            params[f"e{p}"] = self.i_shift[p]

        # step 1: bias
        s1 = dict(ctrl, **params)
        for lane in range(L):
            s = Signal(signed(32), name=f"s_{lane}")
            m.d.comb += s.eq(self.i_acc[lane] + self.i_bias[lane])
            s1[f"s{lane}"] = s
        s1 = stage(s1, reg_bias, "rq1")

        def lane_params(values, lane):
            p = lane if self._per_channel else 0
            return values[f"m{p}"], values[f"e{p}"]

        # step 2a: the left shift of the double roundings (single rounding shifts in step 3)
        s2a = {k: v for k, v in s1.items() if not k.startswith("s")}
        for lane in range(L):
            _, e = lane_params(s1, lane)
            x = s1[f"s{lane}"]
            a = Signal(signed(32), name=f"a_{lane}")
            if self._rounding != "single" and hi_s > 0:
                left = Signal(range(hi_s + 1), name=f"left_{lane}")
                m.d.comb += left.eq(Mux(e > 0, e, 0))
                m.d.comb += a.eq(x << left)              # truncated to 32 bits: wraps
            else:
                m.d.comb += a.eq(x)
            s2a[f"a{lane}"] = a
        s2a = stage(s2a, reg_shift, "rq2a")

        # step 2b: a·M, as four partial products of at most 18×18 bits (one DSP multiplier
        # each) registered when `reg_prod`, summed in the same step as the first rounding
        s2b = {k: v for k, v in s2a.items() if not k.startswith("a")}
        for lane in range(L):
            mult, _ = lane_params(s2a, lane)
            a = s2a[f"a{lane}"]
            a_lo, a_hi = a[:17], a[17:].as_signed()
            m_lo, m_hi = mult[:17], mult[17:]
            s2b[f"ll{lane}"] = a_lo * m_lo
            s2b[f"lh{lane}"] = a_lo * m_hi
            s2b[f"hl{lane}"] = a_hi * m_lo
            s2b[f"hh{lane}"] = a_hi * m_hi
        s2b = stage(s2b, reg_prod, "rq2b")

        s2 = {k: v for k, v in s2b.items() if k[:2] not in ("ll", "lh", "hl", "hh")}
        for lane in range(L):
            _, e = lane_params(s2b, lane)
            prod = Signal(signed(64), name=f"prod_{lane}")
            m.d.comb += prod.eq((s2b[f"hh{lane}"] << 34)
                                + ((s2b[f"hl{lane}"] + s2b[f"lh{lane}"]) << 17)
                                + s2b[f"ll{lane}"])
            if self._rounding == "single":
                # (s·M + 2^(30−e)) >> (31 − e): the whole shift happens in step 3
                rounded = Signal(signed(64), name=f"prodr_{lane}")
                total = Signal(range(31 - hi_s, 31 - lo_s + 1), name=f"tot_{lane}")
                m.d.comb += total.eq(31 - e)
                m.d.comb += rounded.eq(prod + ((Const(1, unsigned(63)) << total) >> 1))
                s2[f"h{lane}"] = rounded
            else:
                h = Signal(signed(33), name=f"h_{lane}")
                m.d.comb += h.eq((prod + (1 << 30)) >> 31)
                s2[f"h{lane}"] = h
        s2 = stage(s2, True, "rq2")

        # step 3: rounding right shift
        s3 = {k: v for k, v in s2.items() if not k.startswith("h")}
        for lane in range(L):
            _, e = lane_params(s2, lane)
            h = s2[f"h{lane}"]
            # single rounding with e > 0 reaches 2^61 before the clamp: keep the full width
            y = Signal(signed(64 if self._rounding == "single" else 34), name=f"y_{lane}")
            if self._rounding == "single":
                total = Signal(range(31 - hi_s, 31 - lo_s + 1), name=f"tot3_{lane}")
                m.d.comb += total.eq(31 - e)
                m.d.comb += y.eq(h >> total)
            elif lo_s < 0:
                r = Signal(range(-lo_s + 1), name=f"r_{lane}")
                m.d.comb += r.eq(Mux(e < 0, -e, 0))
                half = Signal(signed(34), name=f"half_{lane}")
                m.d.comb += half.eq((Const(1, unsigned(33)) << r) >> 1)   # 2^(r-1), 0 for r = 0
                if self._rounding == "double":
                    # round half away from zero: ties of negative values go down
                    m.d.comb += y.eq((h + half - ((r != 0) & (h < 0))) >> r)
                else:
                    m.d.comb += y.eq((h + half) >> r)
            else:
                m.d.comb += y.eq(h)
            s3[f"y{lane}"] = y
        # the multipliers and shifts are used up: only the results and the flags go on
        s3 = stage({k: v for k, v in s3.items() if k.startswith("y") or k in ("valid", "last")},
                   reg_round, "rq3")

        # step 4: zero-point and clamp, always registered
        lo = self.act_min if self._clamp else Const(-128, signed(8))
        hi = self.act_max if self._clamp else Const(127, signed(8))
        for lane in range(L):
            t = Signal(signed(len(s3[f"y{lane}"]) + 1), name=f"t_{lane}")
            m.d.comb += t.eq(s3[f"y{lane}"] + self.zero_point)
            with m.If(en):
                with m.If(t < lo):
                    m.d.sync += self.o_data[lane].eq(lo)
                with m.Elif(t > hi):
                    m.d.sync += self.o_data[lane].eq(hi)
                with m.Else():
                    m.d.sync += self.o_data[lane].eq(t[:8])
        with m.If(en):
            m.d.sync += [self.o_valid.eq(s3["valid"]), self.o_last.eq(s3["last"])]
        return m
