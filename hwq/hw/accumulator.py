"""An accumulator that restarts from zero at no cost in logic: on ECP5 the restart is folded into
the carry chain's own LUTs."""

from amaranth.hdl import Const, Instance, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Accumulator", "CCU2C_MASKED_ADD", "CCU2C_CARRY_NOT_A_OR_B", "ccu2c_add"]

# A CCU2C half's LUT4 over {D, C, B, A} = {acc bit, clear, 0, addend bit}: the propagate of
# (acc and not clear) + addend, p = (D & ~C) ^ A. The cell takes the generate (the carry out
# when p = 0) from the same INIT's low four bits, the function at C = D = 0, which is A: right
# whenever p = 0, for then the two operand bits are equal and either is the carry.
# Bit {D, C, B, A} of the INIT is p at those inputs: D = 0 or C = 1 gives A (1010 per four
# bits), D = 1 with C = 0 gives not A (0101).
CCU2C_MASKED_ADD = 0xA5AA
# A chain's leading half that only makes its carry-in: with D tied high and C low its
# propagate is INIT bit 8 + 2B + A, all zero, so its carry out is the generate, INIT's low four
# bits over {B, A}: 1 at (B, A) = 00, 10 and 11, 0 at 01 — the carry-in ~A | B, from flip-flops
# straight into the chain, where a LUT in front of the first cell would cost a level and a route.
CCU2C_CARRY_NOT_A_OR_B = 0x000D


def ccu2c_add(m: Module, name: str, acc, addend, clear=None, carry=None) -> Signal:
    """``(acc and not clear) + addend + c`` in ``len(acc)`` bits (wrapping), as a chain of
    CCU2C cells ``{name}{k}`` added to ``m`` (:data:`CCU2C_MASKED_ADD`: ``acc`` on each half's
    D, ``clear`` (None: 0) on C, the ``addend`` bit, as wide as ``acc``, on A). The carry-in
    ``c`` is 0, or with ``carry = (a, b)`` the bit ``~a | b``, made in a half of its own ahead
    of bit 0 (:data:`CCU2C_CARRY_NOT_A_OR_B`). A pad half's sum is dropped."""
    width = len(acc)
    clear = Const(0) if clear is None else clear
    halves = [] if carry is None else [(CCU2C_CARRY_NOT_A_OR_B, carry[0], carry[1], Const(0),
                                         Const(1))]
    halves += [(CCU2C_MASKED_ADD, addend[k], Const(0), clear, acc[k]) for k in range(width)]
    if len(halves) % 2:
        halves.append((CCU2C_MASKED_ADD, Const(0), Const(0), Const(0), Const(0)))
    sums = Signal(len(halves), name=f"{name}_s")
    cin = Const(0)
    for k in range(0, len(halves), 2):
        (init0, a0, b0, c0, d0), (init1, a1, b1, c1, d1) = halves[k], halves[k + 1]
        cout = Signal(name=f"{name}_carry{k + 1}")
        m.submodules[f"{name}{k}"] = Instance(
            "CCU2C",
            p_INIT0=Const(init0, 16), p_INIT1=Const(init1, 16),
            p_INJECT1_0="NO", p_INJECT1_1="NO",
            i_CIN=cin, i_A0=a0, i_B0=b0, i_C0=c0, i_D0=d0, i_A1=a1, i_B1=b1, i_C1=c1, i_D1=d1,
            o_S0=sums[k], o_S1=sums[k + 1], o_COUT=cout)
        cin = cout
    first = 0 if carry is None else 1
    total = Signal(width, name=f"{name}_sum")
    m.d.comb += total.eq(sums[first:first + width])
    return total


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
        addend = Signal(W)
        m.d.comb += addend.eq(self.addend)          # sign-extended to the accumulator's width
        total = ccu2c_add(m, "ccu", self.acc.as_unsigned(), addend, clear=self.clear)
        with m.If(self.en):
            m.d.sync += self.acc.eq(total[:W])
        return m
