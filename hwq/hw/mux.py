"""Wide multiplexers: a tree of two-way choices, or ECP5's own slice multiplexers.

An ECP5 slice holds two LUT4 and a PFUMX, a two-way multiplexer of their outputs selected by
a slice input; two slices' PFUMX outputs meet in an L6MUX21, selected the same way. An 8-to-1
multiplexer of one bit is then four LUT4, each a two-way choice by the index's lowest bit,
the two PFUMX by its second bit and the L6MUX21 by its third: four LUT4 positions and one
level of logic. Yosys maps the same multiplexer written as logic (:func:`mux_tree`) onto six
LUT4 and one PFUMX per bit, in two levels (measured: 208 bits of an 8-to-1 multiplexer
between registers on LFE5U-85F, 1,249 LUT4 positions and 216.6 MHz written as logic, 833 and
260.1 MHz instantiated). :func:`select` instantiates the primitives for ``target="ecp5"``;
the Verilog simulations run them through ``hwq/sim/hdl/ecp5_lut.v``, hwq's models, which a
test checks against Yosys' own.
"""

from amaranth.hdl import Const, Instance, Mux, Signal

__all__ = ["LUT4_MUX2", "SLICE_MUX_INPUTS", "mux_tree", "select"]

# LUT4 INIT over {D, C, B, A}: Z = C ? B : A (D unused)
LUT4_MUX2 = sum(1 << i for i in range(16) if (i >> 1 & 1 if i >> 2 & 1 else i & 1))
SLICE_MUX_INPUTS = 8       # LUT4 → PFUMX → L6MUX21: three bits of the index


def mux_tree(values, index):
    """``values[index]`` as a tree of two-way multiplexers, one level per bit of ``index``
    (least significant first); an index past the end selects one of the values.

    The same logic as ``Cat(*values).word_select(index, width)`` — Yosys maps both to the
    same LUTs (ecp5_8x8_fabric measured: 5,325 against 5,332 LUT4) — but the word select becomes a
    shift of the whole concatenation in Verilog, which Verilator evaluates every clock as a
    multi-word shift (on a 16×16 array, 16 shifts of 416 bits: about 12% of the simulation's
    instructions); the tree is a few conditional moves."""
    level = list(values)
    bit = 0
    while len(level) > 1:
        level = [Mux(index[bit], level[k + 1], level[k]) if k + 1 < len(level) else level[k]
                 for k in range(0, len(level), 2)]
        bit += 1
    return level[0]


def _slice_mux(m, values, index, name):
    """Up to 8 values, selected by ``index``'s low bits, through LUT4, PFUMX and L6MUX21
    instances (a short list is padded with its last value)."""
    if len(values) == 1:
        return values[0]
    levels = (len(values) - 1).bit_length()
    padded = list(values) + [values[-1]] * ((1 << levels) - len(values))
    width = len(padded[0])
    out = Signal(width, name=name)
    zero = Const(0, 1)
    for b in range(width):
        level = []
        for k in range(len(padded) // 2):
            z = Signal(name=f"{name}_l{k}_{b}")
            m.submodules[f"{name}_lut{k}_{b}"] = Instance(
                "LUT4", p_INIT=Const(LUT4_MUX2, 16), i_A=padded[2 * k][b],
                i_B=padded[2 * k + 1][b], i_C=index[0], i_D=zero, o_Z=z)
            level.append(z)
        if levels >= 2:
            fives = []
            for k in range(len(level) // 2):
                z = Signal(name=f"{name}_f{k}_{b}")
                m.submodules[f"{name}_pfumx{k}_{b}"] = Instance(
                    "PFUMX", i_ALUT=level[2 * k + 1], i_BLUT=level[2 * k], i_C0=index[1],
                    o_Z=z)
                fives.append(z)
            level = fives
        if levels >= 3:
            z = Signal(name=f"{name}_x_{b}")
            m.submodules[f"{name}_l6mux_{b}"] = Instance(
                "L6MUX21", i_D0=level[0], i_D1=level[1], i_SD=index[2], o_Z=z)
            level = [z]
        m.d.comb += out[b].eq(level[0])
    return out


def select(m, values, index, name, target="generic", model=False):
    """``values[index]`` (equal widths); an index past the end selects one of the values.

    With ``target="ecp5"`` (and not ``model``, for Amaranth's simulator, which cannot run an
    ``Instance``) each group of eight values is chosen through the slice multiplexers, and
    the groups by :func:`mux_tree`; otherwise the whole choice is :func:`mux_tree`. ``name``
    prefixes the instances and their nets in ``m``."""
    values = list(values)
    if len(values) == 1:
        return values[0]
    if target != "ecp5" or model:
        return mux_tree(values, index)
    n = SLICE_MUX_INPUTS
    groups = [_slice_mux(m, values[g:g + n], index, f"{name}_g{g // n}")
              for g in range(0, len(values), n)]
    return mux_tree(groups, index[(n - 1).bit_length():]) if len(groups) > 1 else groups[0]
