"""An accumulator that restarts from zero at no cost in logic: on ECP5 the restart is folded into
the carry chain's own LUTs."""

from amaranth.hdl import Const, Instance, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Accumulator", "CCU2C_MASKED_ADD"]

# A CCU2C half's LUT4 over {D, C, B, A} = {acc bit, clear, 0, addend bit}: the propagate of
# (acc and not clear) + addend, p = (D & ~C) ^ A. The cell takes the generate (the carry out
# when p = 0) from the same INIT's low four bits, the function at C = D = 0, which is A: right
# whenever p = 0, for then the two operand bits are equal and either is the carry.
# Bit {D, C, B, A} of the INIT is p at those inputs: D = 0 or C = 1 gives A (1010 per four
# bits), D = 1 with C = 0 gives not A (0101).
CCU2C_MASKED_ADD = 0xA5AA


class Accumulator(wiring.Component):
    """``acc ← (0 if clear else acc) + addend`` at each step with ``en`` high; ``acc`` holds
    otherwise. The domain's reset clears it.

    Members: ``en`` In(1), ``clear`` In(1), ``addend`` In(signed(addend_width)), ``acc``
    Out(signed(width)), the register itself (sums wrap modulo 2^width; the caller sizes it).

    With ``target="ecp5"`` it instantiates the CCU2C carry chain (:data:`CCU2C_MASKED_ADD`):
    each bit's LUT takes the accumulator bit on D (the cell's fastest input), ``clear`` on C and
    the addend bit on A, so the restart needs no LUT of its own in front of the adder, and the
    sum has no load but the accumulator's flip-flops, which nextpnr packs into the chain's own
    slices (a register fed from the sum alongside the accumulator took that place and left the
    accumulator's feedback 1.5-2 ns of routing long). Yosys keeps a mask in front of its own
    adder mapping, a LUT per bit. ``generic``, ``model=True`` (Amaranth's simulator cannot run
    an ``Instance``) and every other target use plain logic. The Verilog simulations run the
    primitive through ``hwq/sim/hdl/ecp5_ccu2c.v``, hwq's model of it; a test checks that
    model against Yosys' own.
    """

    def __init__(self, width: int, addend_width: int, target: str = "generic",
                 model: bool = False):
        if not 0 < addend_width <= width:
            raise ValueError(f"addend_width must be in 1..width ({width}), not {addend_width}")
        self._width = width
        self._ecp5 = target == "ecp5" and not model
        super().__init__({"en": In(1), "clear": In(1), "addend": In(signed(addend_width)),
                          "acc": Out(signed(width))})

    def elaborate(self, platform):
        m = Module()
        W = self._width
        if not self._ecp5:
            with m.If(self.en):
                m.d.sync += self.acc.eq(Mux(self.clear, 0, self.acc) + self.addend)
            return m
        # the operands padded to whole cells; the pad bit's sum is dropped
        width = W + W % 2
        addend, acc, total = Signal(width), Signal(width), Signal(width)
        m.d.comb += [addend.eq(self.addend), acc.eq(self.acc)]
        carry = Const(0)
        for k in range(0, W, 2):
            cout = Signal(name=f"carry{k + 1}")
            m.submodules[f"ccu{k}"] = Instance(
                "CCU2C",
                p_INIT0=Const(CCU2C_MASKED_ADD, 16), p_INIT1=Const(CCU2C_MASKED_ADD, 16),
                p_INJECT1_0="NO", p_INJECT1_1="NO",
                i_CIN=carry,
                i_A0=addend[k], i_B0=Const(0), i_C0=self.clear, i_D0=acc[k],
                i_A1=addend[k + 1], i_B1=Const(0), i_C1=self.clear, i_D1=acc[k + 1],
                o_S0=total[k], o_S1=total[k + 1], o_COUT=cout)
            carry = cout
        with m.If(self.en):
            m.d.sync += self.acc.eq(total[:W])
        return m
