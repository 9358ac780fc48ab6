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

from amaranth.hdl import ClockSignal, Const, Instance, Module, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Mul18", "TARGETS", "sim_models"]

TARGETS = ("generic", "ecp5")
LATENCY = 2

_MODELS = {"ecp5": "ecp5_mult18x18d.v"}
_HDL = Path(__file__).resolve().parent.parent / "sim" / "hdl"


def sim_models(target: str) -> dict[str, str]:
    """``{file name: Verilog}`` of the primitive models a target's Verilog needs in a
    simulator (none for ``generic``)."""
    name = _MODELS.get(target)
    return {name: (_HDL / name).read_text()} if name else {}


class Mul18(wiring.Component):
    """``p = a·b`` two steps later, for operands of at most 18 bits (signed or unsigned).

    Members: ``en`` In(1) (both registers hold while low), ``a`` In(a_shape), ``b``
    In(b_shape), ``p`` Out(the exact product's shape).
    """

    def __init__(self, a_shape, b_shape, target: str = "generic", model: bool = False):
        if target not in TARGETS:
            raise ValueError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
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
        ports = {"i_CLK0": ClockSignal(), "i_CE0": self.en, "i_RST0": Const(0),
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
