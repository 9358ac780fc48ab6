"""The requantization unit: TFLite-exact fixed-point rescaling, per lane, pipelined."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..config import MAX_REQUANT_STAGES
from .accumulator import ccu2c_add
from .dsp import Mul18
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
    (the clamp reads them through a register: they take effect one step after they change)
    o_valid, o_last : Out(1)
    o_data : Out(ArrayLayout(signed(8), lanes)) — meaningful with ``o_valid``; the data
    registers of every stage load only with a valid step, so between results they hold

    Latency: ``stages`` steps (2..15): registers after the multiplier and on the output always,
    after the bias addition from 3 stages, after the rounding shift from 4, after the left shift
    from 5, on the four partial products of the 32×31 multiply from 6 (each fits one 18×18
    DSP multiplier, so the registers sit right behind the DSPs; with ``target="ice40"`` they
    are four unsigned 16×16 products instead, one SB_MAC16 each), between the rounding
    addition and the right shift from 7, on the inputs from 8, and between the middle and
    the final sum of the partial products at 9, and on the clamp's two compares and the
    output's low byte (before the final selection) at 10, and between the two halves of the
    left shift (by ``left mod 4``, then by the rest) at 11, and between the two halves of the
    right shift (the same way) at 12, and between the clamp's tests and its selection at 13
    (the wide test in parts of three bits, then the selection of each bound), on each
    partial product's own operands (a copy beside each multiplier) at 14, and a second one
    behind the partial products at 15. The shift
    amount is decoded
    (``max(±e, 0)``, the rounding constants) a step ahead of where it is used. With
    ``target="ecp5"`` and 6+ stages the partial products go through MULT18X18D primitives with
    their input and output registers (:class:`~hwq.hw.dsp.Mul18`) and a fabric register: two
    steps more.
    """

    def __init__(self, lanes_: int, accumulator_width: int, rounding: str = "double",
                 per_channel: bool = True, shift_range=(-31, 30), stages: int = 4,
                 clamp: bool = True, target: str = "generic", model: bool = False):
        if rounding not in ("double", "single", "double_half_up"):
            raise ValueError(f"rounding must be one of double, single, double_half_up, not "
                             f"{rounding!r}")
        if not 2 <= stages <= MAX_REQUANT_STAGES:
            raise ValueError(f"stages must be 2..{MAX_REQUANT_STAGES}, not {stages!r}")
        self._lanes = lanes_
        self._acc_width = accumulator_width
        self._rounding = rounding
        self._per_channel = per_channel
        self._shift_min, self._shift_max = shift_range
        self._stages = stages
        self._clamp = clamp
        self._target, self._model = target, model
        # partial products in DSPs with their own input and output registers, then a fabric
        # register: two steps more
        # (ECP5 only: on iCE40, Yosys maps the 16×16 partial products onto SB_MAC16 itself)
        self._dsp = target == "ecp5" and stages >= 6
        # where a·M is split into four partial products: 17 bits (four 18×18 signed products:
        # ECP5's MULT18X18D) or, for iCE40, 16 (four unsigned 16×16 products, each one SB_MAC16
        # that Yosys infers; a's sign is corrected after them, see step 2c)
        self._split = 16 if target == "ice40" else 17
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
        return self._stages + 2 * int(self._dsp)

    def elaborate(self, platform):
        m = Module()
        en = self.en
        L = self._lanes
        lo_s, hi_s = self._shift_min, self._shift_max
        reg_bias = self._stages >= 3
        reg_round = self._stages >= 4
        reg_shift = self._stages >= 5
        reg_prod = self._stages >= 6
        reg_add = self._stages >= 7
        reg_in = self._stages >= 8
        reg_mid = self._stages >= 9
        reg_clamp = self._stages >= 10
        reg_shift2 = self._stages >= 11
        reg_shift3 = self._stages >= 12
        reg_clamp2 = self._stages >= 13
        reg_ops = self._stages >= 14
        reg_prod2 = self._stages >= 15

        def stage(values, registered, tag):
            """Pass ``values`` (dict of name -> value) through an optional register stage."""
            if not registered:
                return values
            # the data only load with a valid step (the flags with every step): an idle
            # requantizer holds still, which the simulators notice (nothing to evaluate).
            # Data registers carry no reset (they are read only with their valid flag): a
            # reset that must override the load enable would cost ECP5 a LUT per bit
            load = en & values["valid"] if "valid" in values else en
            out = {}
            for name, v in values.items():
                flag = name in ("valid", "last")
                r = Signal(v.shape(), name=f"{tag}_{name}", reset_less=not flag)
                with m.If(en if flag else load):
                    m.d.sync += r.eq(v)
                out[name] = r
            return out

        single = self._rounding == "single"
        n_par = L if self._per_channel else 1

        def par(values, name, lane):
            return values[f"{name}{lane if self._per_channel else 0}"]

        def drop(values, *prefixes):
            return {k: v for k, v in values.items()
                    if not any(k.startswith(p) and k[len(p):].isdigit() for p in prefixes)}

        # step 0: the inputs as they come (parameters straight from a memory read port)
        s0 = {"valid": self.i_valid, "last": self.i_last}
        for p in range(n_par):
            s0[f"m{p}"], s0[f"e{p}"] = self.i_multiplier[p], self.i_shift[p]
        for lane in range(L):
            s0[f"acc{lane}"], s0[f"b{lane}"] = self.i_acc[lane], self.i_bias[lane]
        s0 = stage(s0, reg_in, "rq0")

        # step 1: bias; the shift is decoded here, off the datapath's critical paths:
        # left = max(e, 0) and r = max(−e, 0) for the double roundings, 31 − e for single
        s1 = {"valid": s0["valid"], "last": s0["last"]}
        for p in range(n_par):
            e = s0[f"e{p}"]
            s1[f"m{p}"] = s0[f"m{p}"]
            if single:
                tot = Signal(range(31 - hi_s, 31 - lo_s + 1), name=f"tot_{p}")
                m.d.comb += tot.eq(31 - e)
                s1[f"t{p}"] = tot
            else:
                if hi_s > 0:
                    left = Signal(range(hi_s + 1), name=f"left_{p}")
                    m.d.comb += left.eq(Mux(e > 0, e, 0))
                    s1[f"l{p}"] = left
                if lo_s < 0:
                    r = Signal(range(-lo_s + 1), name=f"r_{p}")
                    m.d.comb += r.eq(Mux(e < 0, -e, 0))
                    s1[f"r{p}"] = r
        for lane in range(L):
            x = Signal(signed(32), name=f"s_{lane}")
            m.d.comb += x.eq(s0[f"acc{lane}"] + s0[f"b{lane}"])
            s1[f"s{lane}"] = x
        s1 = stage(s1, reg_bias, "rq1")

        # step 2a: the left shift (double roundings); single rounding's constant 2^(30−e)
        # From 11 stages the shift is split: by left mod 4 here, registered, then by the rest
        # (a 32-bit shift by up to 30 is five levels of two-way multiplexers; wrapping to 32
        # bits after each part gives the same bits as wrapping once). Without a left shift
        # to split (single rounding, or shifts up to 3) the stage is there all the same
        split = reg_shift2 and not single and hi_s > 3
        if reg_shift2:
            s1b = drop(s1, "s")
            for lane in range(L):
                x = Signal(signed(32), name=f"sl_{lane}")
                if split:
                    m.d.comb += x.eq(s1[f"s{lane}"] << par(s1, "l", lane)[:2])  # 32 bits: wraps
                else:
                    m.d.comb += x.eq(s1[f"s{lane}"])
                s1b[f"s{lane}"] = x
            s1 = stage(s1b, True, "rq1b")
        s2a = drop(s1, "s", "l")
        for lane in range(L):
            a = Signal(signed(32), name=f"a_{lane}")
            if split:
                rest = Cat(Const(0, 2), par(s1, "l", lane)[2:])
                m.d.comb += a.eq(s1[f"s{lane}"] << rest)                       # 32 bits: wraps
            elif not single and hi_s > 0:
                m.d.comb += a.eq(s1[f"s{lane}"] << par(s1, "l", lane))   # 32 bits: wraps
            else:
                m.d.comb += a.eq(s1[f"s{lane}"])
            s2a[f"a{lane}"] = a
        if single:
            for p in range(n_par):
                rc = Signal(unsigned(62), name=f"rc_{p}")
                m.d.comb += rc.eq((Const(1, unsigned(63)) << s1[f"t{p}"]) >> 1)
                s2a[f"c{p}"] = rc
        s2a = stage(s2a, reg_shift, "rq2a")

        # step 2b: a·M as four partial products of at most 18×18 bits (one DSP multiplier
        # each), registered when `reg_prod`. With q = 16 the products are of a's two's-
        # complement bits as an unsigned number, a + 2^32·[a < 0]: M·2^32 comes off in 2c.
        q = self._split
        s2b = drop(s2a, "a")
        operands = {}
        for lane in range(L):
            a, mult = s2a[f"a{lane}"], par(s2a, "m", lane)
            if q == 16:
                a_lo, a_hi = a[:16], a[16:]
                s2b[f"ng{lane}"] = a[31]
            else:
                a_lo, a_hi = a[:17], a[17:].as_signed()
            m_lo, m_hi = mult[:q], mult[q:]
            for name, x, y in (("pll", a_lo, m_lo), ("plh", a_lo, m_hi), ("phl", a_hi, m_lo),
                               ("phh", a_hi, m_hi)):
                operands[f"{name}{lane}"] = (x, y)
        if reg_ops:
            # from 14 stages each partial product's operands get a register of their own: one
            # beside each multiplier, one (a) behind the left shift; the route between them
            # (the multipliers sit wherever the DSP columns have room) was among
            # ecp5_8x8's latest arrivals. Each operand feeds two products, and synthesis
            # merges two registers of one value: the second copy loads on every step instead
            # of every valid one (data are read only with their valid flag), which keeps it
            s2b = stage(s2b, True, "rq2e")
            seen = []
            for key, pair in operands.items():
                regs = []
                for xy, v in zip("xy", pair, strict=True):
                    r = Signal(v.shape(), name=f"rq2e_{xy}{key}", reset_less=True)
                    second = any(v is u for u in seen)
                    seen.append(v)
                    with m.If(en if second else en & s2a["valid"]):
                        m.d.sync += r.eq(v)
                    regs.append(r)
                operands[key] = tuple(regs)
        products = {}
        for key, (x, y) in operands.items():
            if self._dsp:
                mul = Mul18(x.shape(), y.shape(), self._target, self._model)
                m.submodules[f"{key[:3]}_{key[3:]}"] = mul
                m.d.comb += [mul.en.eq(en), mul.a.eq(x), mul.b.eq(y)]
                products[key] = mul.p
            else:
                s2b[key] = x * y
        if self._dsp:
            # the DSP's two register steps, then a fabric register next to the adders (the
            # DSP's clock-to-out and the route out of it otherwise precede the carry chain);
            # the rest waits as long. From 15 stages a second fabric register follows it (the
            # route from a DSP output to the adders was among the latest arrivals too)
            s2b = stage(stage(stage(s2b, True, "rq2b"), True, "rq2c"), True, "rq2d") \
                | stage(products, True, "rq2p")
        else:
            s2b = stage(s2b, reg_prod, "rq2b")
        s2b = stage(s2b, reg_prod2, "rq2q")

        # step 2c: sum the partial products and round: h = (a·M + 2^30) >> 31, or for single
        # rounding s·M + 2^(30−e) (shifted in step 3); 2^(r−1) for step 3 is decoded here
        # hh·2^(2q) + ll is a concatenation (ll < 2^(2q)); the middle terms sit at 2^q. The
        # double roundings' constant 2^30 is added to one of the two (below). With q = 16 the
        # high part is hh − M·[a < 0] (the unsigned reading of a was 2^32 too large when a < 0).
        # Registered here from 9 stages.
        s2m = drop(s2b, "pll", "plh", "phl", "phh", "ng")
        # The double roundings' constant 2^30 joins `outer` when it lies inside the low
        # product's bits (2q > 30) and the high part needs no correction (q = 17), with the
        # MULT18X18D partial products (measured there: 62 LUT4 fewer on ecp5_8x8_fabric; in the
        # generic default's eight lanes the increments' chains cost about 370 LUT4 more);
        # otherwise the middle sum takes it
        bump = not single and q == 17 and self._dsp
        for lane in range(L):
            high = s2b[f"phh{lane}"]
            if q == 16:
                # (phh < 2^16·2^15 and M < 2^31: hh − M·[a < 0] lies in (−2^31, 2^31), 32
                # bits; a 33rd would only repeat the sign, and a register bit that copies
                # another is what Verilator lints as a combinational loop)
                high = Signal(signed(32), name=f"high_{lane}")
                m.d.comb += high.eq(s2b[f"phh{lane}"]
                                    - Mux(s2b[f"ng{lane}"], par(s2b, "m", lane), 0))
            outer = Signal(signed(2 * q + len(high)), name=f"outer_{lane}")
            m.d.comb += outer.eq(Cat(s2b[f"pll{lane}"], high).as_signed())
            mid = Signal(signed(34), name=f"mid_{lane}")
            if bump:
                # 2^30 into `outer` as the carry-in of an increment of its bits from 30 up:
                # the middle sum stays an addition of two terms (with the constant as a
                # third, Yosys put a layer of LUTs in front of its carry chain, the path
                # out of the partial products' registers that was among ecp5_8x8_fabric's slowest)
                bumped = Signal(signed(len(outer) - 30), name=f"outer_hi_{lane}")
                m.d.comb += bumped.eq(outer[30:].as_signed() + 1)
                outer = Cat(outer[:30], bumped).as_signed()
                m.d.comb += mid.eq(s2b[f"phl{lane}"] + s2b[f"plh{lane}"])
            else:
                m.d.comb += mid.eq(s2b[f"phl{lane}"] + s2b[f"plh{lane}"]
                                   + (0 if single else 1 << (30 - q)))
            s2m[f"o{lane}"], s2m[f"mi{lane}"] = outer, mid
        # the right shift r = 4·hi + lo as flags, each a function of hi's or lo's bits alone
        # (a LUT each): hi = k, hi ≥ k, lo = j, lo ≥ j; registered with the middle sum (from 9
        # stages), they give the rounding constants below in one more LUT level (without that
        # register the constants stay shifts and compares of r, no deeper there)
        r_max = -lo_s
        flags = reg_mid and not single and lo_s < 0
        if flags:
            for p in range(n_par):
                r = s2b[f"r{p}"]
                hi_eq, hi_ge = Signal(r_max // 4 + 1), Signal(r_max // 4 + 1)
                lo_eq, lo_ge = Signal(4), Signal(4)
                r_hi = r[2:] if len(r) > 2 else Const(0, 1)
                for part, eq, ge, top in ((r_hi, hi_eq, hi_ge, r_max // 4),
                                          (r[:2], lo_eq, lo_ge, min(r_max, 3))):
                    with m.Switch(part):
                        for v in range(top + 1):
                            with m.Case(v):
                                m.d.comb += [eq.eq(1 << v), ge.eq((1 << (v + 1)) - 1)]
                s2m[f"dh{p}"] = Signal(2 * len(hi_eq), name=f"r_hi_{p}")
                s2m[f"dl{p}"] = Signal(8, name=f"r_lo_{p}")
                m.d.comb += [s2m[f"dh{p}"].eq(Cat(hi_eq, hi_ge)),
                             s2m[f"dl{p}"].eq(Cat(lo_eq, lo_ge))]
                if self._rounding == "double":
                    s2m[f"rz{p}"] = Signal(name=f"r_zero_{p}")     # r = 0, kept to step 3a
                    m.d.comb += s2m[f"rz{p}"].eq(r == 0)
        s2m = stage(s2m, reg_mid, "rq2m")

        s2 = drop(s2m, "o", "mi", "c", "m", "dh", "dl")
        for lane in range(L):
            outer, mid = s2m[f"o{lane}"], s2m[f"mi{lane}"]
            if single:
                h = Signal(signed(64), name=f"h_{lane}")
                m.d.comb += h.eq(outer + (mid << q) + par(s2m, "c", lane))
            else:
                # ⌊(outer + mid·2^q) / 2^31⌋ = ⌊(⌊outer / 2^q⌋ + mid) / 2^(31−q)⌋: the carry
                # chain starts at bit q
                h = Signal(signed(33), name=f"h_{lane}")
                m.d.comb += h.eq(((outer >> q) + mid) >> (31 - q))
            s2[f"h{lane}"] = h
        if flags:
            # double_half_up's 2^(r−1) (0 if r = 0), bit b set when r = b + 1, and double's
            # 2^(r−1) − 1 (bit b set when r ≥ b + 2; all ones when r = 0, a flag too): from
            # the flags, each bit a LUT of at most four of them (as shifts and compares
            # r ≥ b + 2 they were carry chains, ecp5_8x8_fabric's critical path)
            for p in range(n_par):
                n_hi = r_max // 4 + 1
                dh, dl = s2m[f"dh{p}"], s2m[f"dl{p}"]
                hi_eq, hi_ge, lo_eq, lo_ge = dh[:n_hi], dh[n_hi:], dl[:4], dl[4:]

                def flag(bits, i):
                    return bits[i] if i < len(bits) else Const(0)

                if self._rounding == "double":
                    # h + 2^(r−1) − [h < 0 and r > 0] as h + (2^(r−1) − 1) + carry-in, the
                    # carry-in [h ≥ 0 or r = 0]: h's sign reaches the carry chain's input
                    # alone, instead of choosing each bit of the constant (a 34-way fanout
                    # in front of the chain). 2^(r−1) − 1 is all ones for r = 0.
                    # Bits b + 2 > r_max are r = 0 alone: the register holds the bits below
                    # them and step 3a takes the rest from r = 0's own register (copies of one
                    # register bit in a vector are what Verilator lints as a loop)
                    r_zero = s2m[f"rz{p}"]
                    n_below = min(32, max(r_max - 1, 0))
                    if n_below:
                        below = Signal(unsigned(n_below), name=f"halfm_{p}")
                        m.d.comb += below.eq(Cat(*(
                            flag(hi_ge, ((b + 2) >> 2) + 1)
                            | (flag(hi_eq, (b + 2) >> 2) & lo_ge[(b + 2) & 3]) | r_zero
                            for b in range(n_below))))
                        s2[f"hm{p}"] = below
                else:
                    half = Signal(unsigned(32), name=f"half_{p}")
                    m.d.comb += half.eq(Cat(*(
                        flag(hi_eq, (b + 1) >> 2) & lo_eq[(b + 1) & 3] if b + 1 <= r_max
                        else Const(0) for b in range(32))))
                    s2[f"hf{p}"] = half
        elif not single and lo_s < 0:
            for p in range(n_par):
                r = s2m[f"r{p}"]
                half = Signal(unsigned(32), name=f"half_{p}")
                m.d.comb += half.eq((Const(1, unsigned(33)) << r) >> 1)       # 0 if r = 0
                s2[f"hf{p}"] = half
                if self._rounding == "double":
                    # and 2^(r−1) − 1 (0 if r ≤ 1) for negative h: bit b is set when r ≥ b + 2
                    below = Signal(unsigned(32), name=f"halfm_{p}")
                    m.d.comb += below.eq(Cat(*(r >= b + 2 for b in range(32))))
                    s2[f"hm{p}"] = below
        s2 = stage(s2, True, "rq2")

        # step 3a: the rounding addition; double rounds half away from zero, so ties of
        # negative values go down: h + 2^(r−1) − [h < 0 and r > 0], one addition whose second
        # operand h's sign picks (both decoded a step ahead): one carry chain, not two. With
        # the flags, the sign only sets the chain's carry-in (see above).
        s3a = drop(s2, "h", "hf", "hm", "rz")
        for lane in range(L):
            h = s2[f"h{lane}"]
            if single or lo_s >= 0:
                s3a[f"u{lane}"] = h
                continue
            u = Signal(signed(34), name=f"u_{lane}")
            if flags and self._rounding == "double":
                # (the constant's bits from r_max − 1 up, its sign extension included, are
                # r = 0: r ≤ r_max ≤ 31)
                r_zero = par(s2, "rz", lane)
                low = [par(s2, "hm", lane)] if r_max > 1 else []
                below = Cat(*low, r_zero.replicate(34 - sum(len(v) for v in low)))
                if self._target == "ecp5" and not self._model:
                    # the carry-in from h's sign and r = 0 in the chain's own first cell (a
                    # LUT in front of the chain and its route were late at some seeds)
                    # (h is 33 bits: one copy of its sign extends it to u's 34)
                    m.d.comb += u.eq(ccu2c_add(m, f"round{lane}", Cat(h, h[-1]), below,
                                               carry=(h[-1], r_zero)))
                else:
                    m.d.comb += u.eq(h + below.as_signed() + (~h[-1] | r_zero))
            elif self._rounding == "double":
                half = par(s2, "hf", lane)
                m.d.comb += u.eq(h + Mux(h < 0, par(s2, "hm", lane), half))
            else:
                m.d.comb += u.eq(h + par(s2, "hf", lane))
            s3a[f"u{lane}"] = u
        s3a = stage(s3a, reg_add, "rq3a")

        # step 3b: the right shift (r for double; 31 − e for single, whose result reaches
        # 2^61 before the clamp when e > 0, so it keeps the full width). From 12 stages it is
        # split like the left shift: by the amount mod 4, a register, then by the rest (an
        # arithmetic shift by a then by b is one by a + b: floor division composes)
        right = "t" if single else ("r" if lo_s < 0 else None)
        if reg_shift3:
            s3b = drop(s3a, "u")
            for lane in range(L):
                u = s3a[f"u{lane}"]
                v = Signal(u.shape(), name=f"ur_{lane}")
                if right:
                    m.d.comb += v.eq(u >> par(s3a, right, lane)[:2])
                else:
                    m.d.comb += v.eq(u)
                s3b[f"u{lane}"] = v
            s3a = stage(s3b, True, "rq3b")
        s3 = {"valid": s3a["valid"], "last": s3a["last"]}
        for lane in range(L):
            u = s3a[f"u{lane}"]
            y = Signal(signed(64 if single else 34), name=f"y_{lane}")
            if right:
                amount = par(s3a, right, lane)
                if reg_shift3:
                    amount = Cat(Const(0, 2), amount[2:])
                m.d.comb += y.eq(u >> amount)
            else:
                m.d.comb += y.eq(u)
            s3[f"y{lane}"] = y
        s3 = stage(s3, reg_round, "rq3")

        # step 4: zero-point and clamp, always registered. The clamp compares y with the
        # bounds less the zero-point (t = y + z < lo exactly when y < lo − z), registers
        # beside the layer's constants, and only the result's low byte is added: the compares
        # and that addition run side by side instead of one carry chain after the other
        lo = self.act_min if self._clamp else Const(-128, signed(8))
        hi = self.act_max if self._clamp else Const(127, signed(8))
        lo_z, hi_z = Signal(signed(10), name="lo_z"), Signal(signed(10), name="hi_z")
        with m.If(en):
            m.d.sync += [lo_z.eq(lo - self.zero_point), hi_z.eq(hi - self.zero_point)]
        # The bounds less the zero-point lie in [−255, 255]: when y does not fit 9 bits it is
        # beyond both and its sign decides; when it fits, 9-bit compares decide. The wide
        # test (y's bits from 8 up all equal its sign) and the short compares run side by side
        # instead of one 34-bit compare (64-bit for single rounding)
        s4 = {"valid": s3["valid"], "last": s3["last"]}
        for lane in range(L):
            y = s3[f"y{lane}"]
            t = Signal(8, name=f"t_{lane}")
            m.d.comb += t.eq(y[:8] + self.zero_point.as_unsigned())
            sign = y[-1]
            # (from 13 stages the wide test in parts of nine bits, two LUT levels each, and
            # the next stage chooses the bound from the three parts, the compare and the sign,
            # one LUT4 and a slice multiplexer: the whole test at once was three levels,
            # ecp5_8x8_fabric's slowest register at some seeds; parts of 12 bits were two
            # levels, which the mapping made up to four with wide-function multiplexers, late
            # at some seeds of ecp5_8x8; parts of three bits, one LUT4 each, left nine to
            # combine in the next stage, mapped in up to four levels: ecp5_8x8_fabric's
            # slowest register at 3 seeds of 16, ecp5_8x8's at one)
            wide = y[8:-1]
            step = 9 if reg_clamp2 else len(wide)
            parts = {}
            for c in range(0, len(wide), step):
                tag = f"_{c // step}" if reg_clamp2 else ""
                fits = Signal(name=f"fits_{lane}{tag}")
                m.d.comb += fits.eq(wide[c:c + step] == sign.replicate(len(wide[c:c + step])))
                parts[f"fits{lane}{tag}"] = fits
            # y9 < lo_z and y9 > hi_z as the signs of differences, which lie in [−511, 511]
            # and so fit 10 bits: the sign is the carry chain's last sum, where a compare put
            # two LUT levels behind its chain (the clamp's test was ecp5_8x8's latest
            # arrival at 3 seeds of 8)
            y9 = y[:9].as_signed()
            under = Signal(signed(10), name=f"under_{lane}")
            over = Signal(signed(10), name=f"over_{lane}")
            m.d.comb += [under.eq(y9 - lo_z), over.eq(hi_z - y9)]
            s4 |= {f"t{lane}": t, f"neg{lane}": sign, **parts,
                   f"below{lane}": under[-1], f"above{lane}": over[-1]}
        s4 = stage(s4, reg_clamp, "rq4")
        # each bound is taken when y is below (above) it, told by the 9-bit compare when y
        # fits 9 bits, by its sign when it does not; from 13 stages that choice is registered
        if reg_clamp2:
            s5 = {"valid": s4["valid"], "last": s4["last"]}
            for lane in range(L):
                fits = Cat(*(v for k, v in s4.items() if k.startswith(f"fits{lane}_"))).all()
                neg = s4[f"neg{lane}"]
                s5 |= {f"t{lane}": s4[f"t{lane}"],
                       f"lo{lane}": Mux(fits, s4[f"below{lane}"], neg),
                       f"hi{lane}": Mux(fits, s4[f"above{lane}"], ~neg)}
            s5 = stage(s5, True, "rq5")
            take = [(s5[f"lo{lane}"], s5[f"hi{lane}"]) for lane in range(L)]
        else:
            s5 = s4
            take = [(Mux(s4[f"fits{lane}"], s4[f"below{lane}"], s4[f"neg{lane}"]),
                     Mux(s4[f"fits{lane}"], s4[f"above{lane}"], ~s4[f"neg{lane}"]))
                    for lane in range(L)]
        with m.If(en & s5["valid"]):
            for lane in range(L):
                with m.If(take[lane][0]):
                    m.d.sync += self.o_data[lane].eq(lo)
                with m.Elif(take[lane][1]):
                    m.d.sync += self.o_data[lane].eq(hi)
                with m.Else():
                    m.d.sync += self.o_data[lane].eq(s5[f"t{lane}"])
        with m.If(en):
            m.d.sync += [self.o_valid.eq(s5["valid"]), self.o_last.eq(s5["last"])]
        return m
