"""A registered multiplier that maps onto an FPGA DSP block with its own pipeline registers.

Yosys maps a Verilog ``*`` onto ECP5's MULT18X18D but leaves the DSP's input and output
registers unused, and does not move fabric flip-flops into them; the routing into and out of
the DSP then sits on the register-to-register path (measured: 11.5 ns for a 17×17 product on
LFE5U-85F). :class:`Mul18` instantiates the primitive with both registers enabled when the
target is ``ecp5``; for ``generic`` it is the same two registers in plain logic. Either way the
product of the operands presented at step ``t`` appears at step ``t + 2``.

Amaranth's simulator cannot run an ``Instance``; ``model=True`` builds the ``generic`` form
for it, which has the same timing. The Verilog simulations run the primitive through
``hwq/sim/hdl/ecp5_mult18x18d.v``, hwq's behavioural model of the subset used here.
"""

from pathlib import Path

from amaranth.hdl import (
    Cat,
    ClockSignal,
    Const,
    Instance,
    Module,
    Mux,
    ResetSignal,
    Signal,
    signed,
    unsigned,
)
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..config import DSP_LATENCY, PAIR_BIAS_BIT, PAIR_SHIFT

__all__ = ["MacPair", "Mul18", "Mul8x2", "TARGETS", "sim_models", "PAIR_BIAS_BIT",
           "PAIR_SHIFT"]

TARGETS = ("generic", "ecp5", "ice40")
LATENCY = DSP_LATENCY     # (hwq.config states it: the array's latency formula needs it)

_MODELS = {"ecp5": ("ecp5_alu54b.v", "ecp5_ccu2c.v", "ecp5_dp16kd.v", "ecp5_lut.v",
                    "ecp5_mult18x18d.v"),
           "ice40": ("ice40_sb_mac16.v",)}
_HDL = Path(__file__).resolve().parent.parent / "sim" / "hdl"
# MULT18X18D's settings besides its registers, the same wherever hwq instantiates it
_MULT18X18D_FIXED = {
    "p_GSR": "DISABLED", "p_RESETMODE": "SYNC", "p_MULT_BYPASS": "DISABLED",
    "p_CAS_MATCH_REG": "FALSE", "p_SOURCEB_MODE": "B_SHIFT", "p_HIGHSPEED_CLK": "NONE",
    "p_CLK0_DIV": "ENABLED", "p_CLK1_DIV": "ENABLED", "p_CLK2_DIV": "ENABLED",
    "p_CLK3_DIV": "ENABLED"}


def sim_models(target: str) -> dict[str, str]:
    """``{file name: Verilog}`` of the primitive models a target's Verilog needs in a
    simulator (none for ``generic``): DSP multipliers and, on ECP5, the DSP's ALU
    (:class:`MacPair`), the block RAM (:mod:`hwq.hw.bram`), the carry chain
    (:mod:`hwq.hw.accumulator`) and the slice's LUT4 and multiplexers (:mod:`hwq.hw.mux`)."""
    return {name: (_HDL / name).read_text() for name in _MODELS.get(target, ())}


class Mul8x2(wiring.Component):
    """Two independent signed 8×8 products, ``p0 = a0·b0`` and ``p1 = a1·b1``, two steps
    later: one iCE40 SB_MAC16 in its 8×8 mode (``target="ice40"``) with the input registers
    and both 8×8 product registers on, or the same registers in plain logic (``generic``, or
    ``model=True`` for Amaranth's simulator).

    In 8×8 mode the DSP's upper multiplier takes ``A[15:8]·B[15:8]`` to ``O[31:16]`` and the
    lower one ``A[7:0]·B[7:0]`` to ``O[15:0]`` (TOPOUTPUT_SELECT = BOTOUTPUT_SELECT = 2: the
    registered 8×8 products), both signed with A_SIGNED and B_SIGNED set: two int8 MACs per
    DSP, where Yosys' own mapping uses the 16×16 mode for one. The domain's reset clears the
    input and product registers (IRSTTOP, IRSTBOT), as the ``generic`` form's reset does, so
    no stale product survives a reset. The Verilog simulations run the
    primitive through ``hwq/sim/hdl/ice40_sb_mac16.v``, hwq's model of that subset; a test
    checks it against Yosys' own simulation model of SB_MAC16.
    """

    def __init__(self, target: str = "generic", model: bool = False):
        if target not in ("generic", "ice40"):
            raise ValueError(f"Mul8x2 maps onto iCE40's SB_MAC16: target must be generic or "
                             f"ice40, not {target!r}")
        self._target = "generic" if model else target
        super().__init__({"en": In(1), "a0": In(signed(8)), "b0": In(signed(8)),
                          "a1": In(signed(8)), "b1": In(signed(8)),
                          "p0": Out(signed(16)), "p1": Out(signed(16))})

    def elaborate(self, platform):
        m = Module()
        if self._target == "generic":
            a0, b0, a1, b1 = (Signal(signed(8), name=n) for n in ("a0_r", "b0_r", "a1_r", "b1_r"))
            with m.If(self.en):
                m.d.sync += [a0.eq(self.a0), b0.eq(self.b0), a1.eq(self.a1), b1.eq(self.b1)]
                m.d.sync += [self.p0.eq(a0 * b0), self.p1.eq(a1 * b1)]
            return m
        a, b, o = Signal(16), Signal(16), Signal(32)
        m.d.comb += [a.eq(Cat(self.a0, self.a1)), b.eq(Cat(self.b0, self.b1))]
        zero1, zero16 = Const(0, 1), Const(0, 16)
        m.submodules.dsp = Instance(
            "SB_MAC16",
            p_NEG_TRIGGER=Const(0, 1), p_C_REG=Const(0, 1), p_A_REG=Const(1, 1),
            p_B_REG=Const(1, 1), p_D_REG=Const(0, 1), p_TOP_8x8_MULT_REG=Const(1, 1),
            p_BOT_8x8_MULT_REG=Const(1, 1), p_PIPELINE_16x16_MULT_REG1=Const(0, 1),
            p_PIPELINE_16x16_MULT_REG2=Const(0, 1), p_TOPOUTPUT_SELECT=Const(2, 2),
            p_TOPADDSUB_LOWERINPUT=Const(0, 2), p_TOPADDSUB_UPPERINPUT=Const(0, 1),
            p_TOPADDSUB_CARRYSELECT=Const(0, 2), p_BOTOUTPUT_SELECT=Const(2, 2),
            p_BOTADDSUB_LOWERINPUT=Const(0, 2), p_BOTADDSUB_UPPERINPUT=Const(0, 1),
            p_BOTADDSUB_CARRYSELECT=Const(0, 2), p_MODE_8x8=Const(1, 1),
            p_A_SIGNED=Const(1, 1), p_B_SIGNED=Const(1, 1),
            i_CLK=ClockSignal(), i_CE=self.en, i_A=a, i_B=b, i_C=zero16, i_D=zero16,
            i_AHOLD=zero1, i_BHOLD=zero1, i_CHOLD=zero1, i_DHOLD=zero1,
            i_IRSTTOP=ResetSignal(), i_IRSTBOT=ResetSignal(), i_ORSTTOP=zero1, i_ORSTBOT=zero1,
            i_OLOADTOP=zero1, i_OLOADBOT=zero1, i_ADDSUBTOP=zero1, i_ADDSUBBOT=zero1,
            i_OHOLDTOP=zero1, i_OHOLDBOT=zero1, i_CI=zero1, i_ACCUMCI=zero1,
            i_SIGNEXTIN=zero1, o_O=o)
        m.d.comb += [self.p0.eq(o[:16]), self.p1.eq(o[16:])]
        return m


class Mul18(wiring.Component):
    """``p = a·b`` two steps later, for operands of at most 18 bits (signed or unsigned).

    Members: ``en`` In(1) (both registers hold while low), ``a`` In(a_shape), ``b``
    In(b_shape), ``p`` Out(the exact product's shape). The domain's reset clears both
    registers (RST0 on ECP5), so no stale product survives a reset.
    """

    def __init__(self, a_shape, b_shape, target: str = "generic", model: bool = False):
        if target not in ("generic", "ecp5"):
            raise ValueError(f"Mul18 maps onto ECP5's MULT18X18D: target must be generic or "
                             f"ecp5, not {target!r}")
        for name, shape in (("a", a_shape), ("b", b_shape)):
            if shape.width + (0 if shape.signed else 1) > 18:
                raise ValueError(f"operand {name} ({shape}) does not fit an 18-bit signed port")
        self._target = "generic" if model else target
        width = a_shape.width + b_shape.width
        out = signed(width) if (a_shape.signed or b_shape.signed) else unsigned(width)
        super().__init__({"en": In(1), "a": In(a_shape), "b": In(b_shape), "p": Out(out)})

    def elaborate(self, platform):
        m = Module()
        if self._target == "generic":
            a_r = Signal.like(self.a, name="a_r")
            b_r = Signal.like(self.b, name="b_r")
            with m.If(self.en):
                m.d.sync += [a_r.eq(self.a), b_r.eq(self.b), self.p.eq(a_r * b_r)]
            return m
        # operands sign- or zero-extended to 18 bits, multiplied as signed 18×18
        a18, b18 = Signal(signed(18)), Signal(signed(18))
        m.d.comb += [a18.eq(self.a), b18.eq(self.b)]
        p36 = Signal(signed(36))
        ports = {"i_CLK0": ClockSignal(), "i_CE0": self.en, "i_RST0": ResetSignal(),
                 "i_SIGNEDA": Const(1), "i_SIGNEDB": Const(1),
                 "i_SOURCEA": Const(0), "i_SOURCEB": Const(0)}
        # CLK1..3, CE1..3, RST1..3 and the shift chains stay unconnected, as in Yosys' own
        # MULT18X18D mapping: nextpnr cannot route a constant onto the unused clock pins
        for i in range(18):
            ports |= {f"i_A{i}": a18[i], f"i_B{i}": b18[i], f"i_C{i}": Const(0)}
        for i in range(36):
            ports[f"o_P{i}"] = p36[i]
        m.submodules.dsp = Instance(
            "MULT18X18D",
            p_REG_INPUTA_CLK="CLK0", p_REG_INPUTB_CLK="CLK0", p_REG_OUTPUT_CLK="CLK0",
            p_REG_INPUTC_CLK="NONE", p_REG_PIPELINE_CLK="NONE",
            **_MULT18X18D_FIXED, **ports)
        m.d.comb += self.p.eq(p36)
        return m


# (a MacPair's second sum sits from bit PAIR_SHIFT up, the first over a bias of
# 2^PAIR_BIAS_BIT, so it never goes negative and lends nothing to the second: hwq.config)
_ALU_BITS = 54

# ALU54B opcode fields (hwq/sim/hdl/ecp5_alu54b.v): R ← AMUX + BMUX + CMUX with
# OP[10:7] = 0100, AMUX = OP[1:0] = 01 (MA), BMUX = OP[3:2] = 00 (MB·2^18); CMUX = OP[6:4] is
# 101 (R: accumulate) or, to restart, 110 (the rounding pattern RNDPAT, here the bias).
_OP_FIXED = {0: 1, 1: 0, 2: 0, 3: 0, 6: 1, 7: 0, 8: 0, 9: 1, 10: 0}


class MacPair(wiring.Component):
    """Two multiply-accumulates that share their activation, in one ECP5 DSP slice: the sums
    ``Σ a·w0`` and ``Σ a·w1`` of the products of the operands presented while ``en`` is
    high, restarted by ``restart``.

    The operands go through the two MULT18X18D's input and pipeline registers (2 steps); the
    products then enter the slice's ALU54B, which adds both to its 54-bit output register in
    one word: ``R ← (restart ? 2^26 : R) + a·w0 + a·w1·2^27``. (The second multiplier takes
    the activation shifted left by 9 and the ALU shifts its product left by 18.) With
    ``|Σ| < 2^25`` for both sums (``width`` ≤ 26), the first field, bits 0..26, holds
    ``Σ a·w0 + 2^26``, never negative and below 2^27, so it lends nothing to the second:
    ``s0`` is bits ``0 .. width − 1`` of R and ``s1`` bits ``27 .. 27 + width − 1``, no adder
    in the fabric. ``restart`` goes with the products entering the ALU, two steps after
    their operands.

    Members: ``en`` In(1), ``restart`` In(1), ``a``, ``w0``, ``w1`` In(signed(8)), ``s0``,
    ``s1`` Out(signed(width)). The domain's reset clears the registers (RST0), the ALU's to
    0 rather than the bias: the first enabled step after a reset must restart.

    ``target="ecp5"`` instantiates the primitives (two MULT18X18D and their ALU54B: nextpnr
    packs an ALU54B only with both multipliers of its slice on MA and MB, and its A and B
    inputs driven by their ROA and ROB); ``generic`` (and ``model=True``, for Amaranth's
    simulator) is the same registers and the same 54-bit word in plain logic. The Verilog
    simulations run the primitives through ``hwq/sim/hdl/ecp5_alu54b.v`` and
    ``ecp5_mult18x18d.v``.
    """

    def __init__(self, width: int, target: str = "generic", model: bool = False):
        if not 2 <= width <= PAIR_BIAS_BIT:
            raise ValueError(f"width must be in 2..{PAIR_BIAS_BIT} (two sums share the "
                             f"ALU54B's 54 bits), not {width!r}")
        if target not in ("generic", "ecp5"):
            raise ValueError(f"MacPair maps onto ECP5's MULT18X18D and ALU54B: target must be "
                             f"generic or ecp5, not {target!r}")
        self._width = width
        self._target = "generic" if model else target
        super().__init__({"en": In(1), "restart": In(1), "a": In(signed(8)),
                          "w0": In(signed(8)), "w1": In(signed(8)),
                          "s0": Out(signed(width)), "s1": Out(signed(width))})

    def elaborate(self, platform):
        m = Module()
        W = self._width
        r = Signal(_ALU_BITS, name="r")
        m.d.comb += [self.s0.eq(r[:W]), self.s1.eq(r[PAIR_SHIFT:PAIR_SHIFT + W])]
        bias = 1 << PAIR_BIAS_BIT
        if self._target == "generic":
            a_r, w0_r, w1_r = (Signal(signed(8), name=n) for n in ("a_r", "w0_r", "w1_r"))
            p0, p1 = Signal(signed(16), name="p0"), Signal(signed(16), name="p1")
            with m.If(self.en):
                m.d.sync += [a_r.eq(self.a), w0_r.eq(self.w0), w1_r.eq(self.w1),
                             p0.eq(a_r * w0_r), p1.eq(a_r * w1_r)]
                base = Mux(self.restart, bias, r)
                m.d.sync += r.eq(base + p0 + (p1 << PAIR_SHIFT))
            return m
        ports = {}
        # (the ALU shifts MB left by 18 (BMUX = 00): the rest of PAIR_SHIFT, 9, on the way in)
        for k, (a, b) in enumerate(((self.a, self.w0), (self.a << (PAIR_SHIFT - 18), self.w1))):
            a18, b18 = Signal(signed(18), name=f"a18_{k}"), Signal(signed(18), name=f"b18_{k}")
            m.d.comb += [a18.eq(a), b18.eq(b)]
            p36 = Signal(36, name=f"p_{k}")
            roa, rob = Signal(18, name=f"roa_{k}"), Signal(18, name=f"rob_{k}")
            signedp = Signal(name=f"signedp_{k}")
            mult = {"i_CLK0": ClockSignal(), "i_CE0": self.en, "i_RST0": ResetSignal(),
                    "i_SIGNEDA": Const(1), "i_SIGNEDB": Const(1),
                    "i_SOURCEA": Const(0), "i_SOURCEB": Const(0), "o_SIGNEDP": signedp}
            for i in range(18):
                mult |= {f"i_A{i}": a18[i], f"i_B{i}": b18[i], f"o_ROA{i}": roa[i],
                         f"o_ROB{i}": rob[i]}
            for i in range(36):
                mult[f"o_P{i}"] = p36[i]
            m.submodules[f"mul{k}"] = Instance(
                "MULT18X18D",
                p_REG_INPUTA_CLK="CLK0", p_REG_INPUTB_CLK="CLK0", p_REG_PIPELINE_CLK="CLK0",
                p_REG_OUTPUT_CLK="NONE", p_REG_INPUTC_CLK="NONE",
                **_MULT18X18D_FIXED, **mult)
            side = "AB"[k]
            for i in range(18):
                ports |= {f"i_{side}{i}": roa[i], f"i_{side}{i + 18}": rob[i]}
            for i in range(36):
                ports[f"i_M{side}{i}"] = p36[i]
            ports[f"i_SIGNEDI{side}"] = signedp
        # OP[6:4]: 110 (restart from the bias) or 101 (accumulate): OP5 is restart, OP4 its
        # complement
        op = {f"i_OP{i}": Const(v) for i, v in _OP_FIXED.items()}
        op |= {"i_OP5": self.restart, "i_OP4": ~self.restart}
        for i in range(_ALU_BITS):
            ports[f"o_R{i}"] = r[i]
        m.submodules.alu = Instance(
            "ALU54B",
            p_REG_OUTPUT0_CLK="CLK0", p_REG_OUTPUT1_CLK="CLK0",
            p_REG_INPUTC0_CLK="NONE", p_REG_INPUTC1_CLK="NONE", p_REG_INPUTCFB_CLK="NONE",
            p_REG_OPCODEIN_0_CLK="NONE", p_REG_OPCODEIN_1_CLK="NONE",
            p_REG_OPCODEOP0_0_CLK="NONE", p_REG_OPCODEOP0_1_CLK="NONE",
            p_REG_OPCODEOP1_0_CLK="NONE", p_REG_OPCODEOP1_1_CLK="NONE",
            p_REG_FLAG_CLK="NONE", p_RNDPAT=f"0x{bias:014X}",
            p_GSR="DISABLED", p_RESETMODE="SYNC", p_LEGACY="DISABLED", p_MULT9_MODE="DISABLED",
            p_CLK0_DIV="ENABLED", p_CLK1_DIV="ENABLED", p_CLK2_DIV="ENABLED",
            p_CLK3_DIV="ENABLED",
            i_CLK0=ClockSignal(), i_CE0=self.en, i_RST0=ResetSignal(),
            **op, **ports)
        return m
