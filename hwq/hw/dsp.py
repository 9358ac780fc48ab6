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
    ResetSignal,
    Signal,
    signed,
    unsigned,
)
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..config import DSP_LATENCY

__all__ = ["Mul18", "Mul8x2", "TARGETS", "sim_models"]

TARGETS = ("generic", "ecp5", "ice40")
LATENCY = DSP_LATENCY     # (hwq.config states it: the array's latency formula needs it)

_MODELS = {"ecp5": ("ecp5_ccu2c.v", "ecp5_dp16kd.v", "ecp5_mult18x18d.v"),
           "ice40": ("ice40_sb_mac16.v",)}
_HDL = Path(__file__).resolve().parent.parent / "sim" / "hdl"


def sim_models(target: str) -> dict[str, str]:
    """``{file name: Verilog}`` of the primitive models a target's Verilog needs in a
    simulator (none for ``generic``): DSP multipliers and, on ECP5, the block RAM
    (:mod:`hwq.hw.bram`) and the carry chain (:mod:`hwq.hw.accumulator`)."""
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
            p_GSR="DISABLED", p_RESETMODE="SYNC", p_MULT_BYPASS="DISABLED",
            p_CAS_MATCH_REG="FALSE", p_SOURCEB_MODE="B_SHIFT", p_HIGHSPEED_CLK="NONE",
            p_CLK0_DIV="ENABLED", p_CLK1_DIV="ENABLED", p_CLK2_DIV="ENABLED",
            p_CLK3_DIV="ENABLED",
            **ports)
        m.d.comb += self.p.eq(p36)
        return m
