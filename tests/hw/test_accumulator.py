# amaranth: UnusedElaboratable=no
"""Accumulator: ``acc ← (0 if clear else acc) + addend`` against Python integers (wrapping at
the width), from Amaranth's simulator and from Icarus running the Verilog of
``target="ecp5"`` (a CCU2C chain) on hwq's model of the cell; and that model against Yosys'
own CCU2C simulation model, for every input of a cell."""

import re
import subprocess

import numpy as np
import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator
from cells import truth_table, yosys_ecp5_models
from simulators import require

from hwq.build import to_verilog
from hwq.hw.accumulator import CCU2C_CARRY_NOT_A_OR_B, CCU2C_MASKED_ADD, Accumulator, ccu2c_add
from hwq.hw.dsp import sim_models


def _stimulus(addend_width, steps, seed):
    """(en, clear, addend) per clock, in four blocks: random addends with an occasional
    clear, then the largest addend without clears (long enough to wrap a 26-bit sum with
    16-bit addends), random again, then the most negative."""
    rng = np.random.default_rng(seed)
    lo, hi = -(1 << addend_width - 1), (1 << addend_width - 1) - 1
    rows = []
    for t in range(steps):
        kind = 4 * t // steps
        if kind % 2 == 0:
            addend = int(rng.choice([lo, hi, -1, 0, 1])) if rng.random() < 0.4 else \
                int(rng.integers(lo, hi + 1))
            clear = int(rng.random() < 0.05)
        else:
            addend, clear = (hi if kind == 1 else lo), 0
        rows.append((int(rng.random() < 0.8), clear, addend))
    return rows


def _expected(width, rows):
    """acc after each clock edge, as a signed width-bit integer (two's complement wrap)."""
    acc, out = 0, []
    for en, clear, addend in rows:
        if en:
            acc = ((0 if clear else acc) + addend) % (1 << width)
        out.append(acc - (1 << width) if acc >> (width - 1) else acc)
    return out


def _amaranth(width, addend_width, rows):
    dut = Accumulator(width, addend_width)
    got = []

    async def tb(ctx):
        for en, clear, addend in rows:
            ctx.set(dut.en, en)
            ctx.set(dut.clear, clear)
            ctx.set(dut.addend, addend)
            await ctx.tick()
            got.append(ctx.get(dut.acc))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    return got


def _icarus(tmp_path, width, addend_width, rows):
    (tmp_path / "acc.v").write_text(to_verilog(Accumulator(width, addend_width, "ecp5"), "acc"))
    models = sim_models("ecp5")
    for name, text in models.items():
        (tmp_path / name).write_text(text)
    with open(tmp_path / "stim.hex", "w") as f:
        for en, clear, addend in rows:
            f.write(f"{(en << 1 | clear) << addend_width | addend % (1 << addend_width):x}\n")
    (tmp_path / "tb.v").write_text(f"""
module tb;
    reg clk = 0;
    reg [{addend_width + 1}:0] stim [0:{len(rows) - 1}];
    reg en = 0, clear = 0;
    reg [{addend_width - 1}:0] addend = 0;
    wire signed [{width - 1}:0] acc;
    acc dut(.clk(clk), .rst(1'b0), .en(en), .clear(clear), .addend(addend), .acc(acc));
    integer t;
    initial begin
        $readmemh("stim.hex", stim);
        for (t = 0; t < {len(rows)}; t = t + 1) begin
            {{en, clear, addend}} = stim[t];
            #1 clk = 1;
            #1 clk = 0;
            $display("%0d", acc);
        end
        $finish;
    end
endmodule
""")
    subprocess.run(["iverilog", "-g2005", "-s", "tb", "-o", "sim", "tb.v", "acc.v", *models],
                   cwd=tmp_path, check=True)
    out = subprocess.run(["vvp", "-n", "sim"], cwd=tmp_path, capture_output=True, text=True,
                         check=True)
    return [int(v) for v in out.stdout.split()]


SIZES = [(26, 16), (11, 8), (16, 16), (3, 2)]


@pytest.mark.parametrize("width, addend_width", SIZES)
def test_accumulates_and_restarts_in_amaranth(width, addend_width):
    rows = _stimulus(addend_width, 6000, seed=width)
    want = _expected(width, rows)
    assert _amaranth(width, addend_width, rows) == want
    # the run wrapped past both ends and restarted many times
    assert min(want) < -(1 << width - 2) and max(want) > 1 << width - 2
    assert sum(en and clear for en, clear, _ in rows) > 100


@pytest.mark.parametrize("width, addend_width", SIZES)
def test_ccu2c_chain_on_the_model(tmp_path, width, addend_width):
    require("icarus")
    rows = _stimulus(addend_width, 6000, seed=width + 1)
    assert _icarus(tmp_path, width, addend_width, rows) == _expected(width, rows)


def test_ccu2c_chain_is_what_ecp5_builds():
    verilog = to_verilog(Accumulator(26, 16, "ecp5"), "acc")
    assert len(re.findall(r"^\s*CCU2C\b", verilog, re.M)) == 13
    assert "16'ha5aa" in verilog.lower()
    assert "CCU2C" not in to_verilog(Accumulator(26, 16, "ecp5", model=True), "acc")


def test_rejects_an_addend_wider_than_the_accumulator():
    with pytest.raises(ValueError, match="addend_width"):
        Accumulator(8, 9)


def _yosys_ccu2c(tmp_path):
    return yosys_ecp5_models(tmp_path, ("LUT4", "LUT2"), files=("ccu2c_sim.vh",))


def _cell_table(tmp_path, model, tag, init0, init1):
    """S0, S1, COUT for all 512 values of {CIN, D1, C1, B1, A1, D0, C0, B0, A0}."""
    cell = f"""wire s0, s1, co;
    CCU2C #(.INIT0(16'h{init0:04x}), .INIT1(16'h{init1:04x}), .INJECT1_0("NO"),
            .INJECT1_1("NO"))
        u(.CIN(x[8]), .D1(x[7]), .C1(x[6]), .B1(x[5]), .A1(x[4]), .D0(x[3]), .C0(x[2]),
             .B0(x[1]), .A0(x[0]), .S0(s0), .S1(s1), .COUT(co));"""
    return truth_table(tmp_path, tag, model, 9, cell, '"%b%b%b", s0, s1, co')


# hwq's masked addition; Yosys' own adder mapping (C = subtract, D = 1); and other functions
@pytest.mark.parametrize("init0, init1", [(CCU2C_MASKED_ADD, CCU2C_MASKED_ADD),
                                          (CCU2C_CARRY_NOT_A_OR_B, CCU2C_MASKED_ADD),
                                          (0x96AA, 0x96AA), (0x1234, 0xFEDC), (0xFFFF, 0x0)])
def test_ccu2c_model_matches_yosys_model(tmp_path, init0, init1):
    require("icarus")
    hdl = tmp_path / "ecp5_ccu2c.v"
    hdl.write_text(sim_models("ecp5")["ecp5_ccu2c.v"])
    ours = _cell_table(tmp_path, hdl, "hwq", init0, init1)
    theirs = _cell_table(tmp_path, _yosys_ccu2c(tmp_path), "yosys", init0, init1)
    assert len(ours) == 512 and set("".join(ours)) <= {"0", "1"}
    assert ours == theirs


def test_masked_add_cell_is_two_bits_of_a_masked_sum(tmp_path):
    """One cell with CCU2C_MASKED_ADD, B tied low: S0, S1, COUT are the bits of
    (acc & ~clear) + addend + CIN over two bits, for every input (hand-checkable integers)."""
    require("icarus")
    hdl = tmp_path / "ecp5_ccu2c.v"
    hdl.write_text(sim_models("ecp5")["ecp5_ccu2c.v"])
    table = _cell_table(tmp_path, hdl, "hwq", CCU2C_MASKED_ADD, CCU2C_MASKED_ADD)
    checked = 0
    for i, bits in enumerate(table):
        a0, b0, c0, d0, a1, b1, c1, d1, cin = ((i >> k) & 1 for k in range(9))
        if b0 or b1 or c0 != c1:
            continue                  # the accumulator ties B low and gives C0 = C1 = clear
        acc = (d1 << 1 | d0) * (1 - c0)
        total = acc + (a1 << 1 | a0) + cin
        assert bits == f"{total & 1}{total >> 1 & 1}{total >> 2}", (i, bits)
        checked += 1
    assert checked == 64


class _Adder(wiring.Component):
    """ccu2c_add on ports, for the bench below: x = {b, a, clear, addend, acc}."""

    def __init__(self, width, carry):
        self._width, self._carry = width, carry
        super().__init__({"x": In(2 * width + 3), "total": Out(width)})

    def elaborate(self, platform):
        m = Module()
        W, x = self._width, self.x
        acc, addend, clear, a, b = x[:W], x[W:2 * W], x[2 * W], x[2 * W + 1], x[2 * W + 2]
        total = ccu2c_add(m, "add", acc, addend, clear=clear,
                          carry=(a, b) if self._carry else None)
        m.d.comb += self.total.eq(total)
        return m


@pytest.mark.parametrize("width", [4, 5])
@pytest.mark.parametrize("carry", [False, True])
def test_ccu2c_add_every_input_on_the_model(tmp_path, width, carry):
    """ccu2c_add's chain on hwq's CCU2C model (as the RTL regression runs it), for every acc,
    addend, clear and carry input: (acc if not clear else 0) + addend + c mod 2^width, with
    c = ~a | b for a generated carry-in (one half ahead of bit 0: an odd width has no pad
    half, an even one has), c = 0 without."""
    require("icarus")
    bits = 2 * width + 3
    model = tmp_path / "add.v"          # the adder and the cell model it instantiates
    model.write_text(to_verilog(_Adder(width, carry), "add") + sim_models("ecp5")["ecp5_ccu2c.v"])
    table = truth_table(tmp_path, "add", model, bits,
                        f"wire [{width - 1}:0] total;\n    add dut(.x(x), .total(total));",
                        '"%0d", total')
    assert len(table) == 1 << bits
    W = width
    for i, got in enumerate(table):
        acc, addend = i & (1 << W) - 1, i >> W & (1 << W) - 1
        clear, a, b = i >> 2 * W & 1, i >> 2 * W + 1 & 1, i >> 2 * W + 2 & 1
        c = (1 - a) | b if carry else 0
        assert int(got) == ((0 if clear else acc) + addend + c) % (1 << W), (i, got)
