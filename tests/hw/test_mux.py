# amaranth: UnusedElaboratable=no
"""hwq.hw.mux: the slice multiplexers (LUT4, PFUMX, L6MUX21) that ``select`` instantiates on
ECP5 choose ``values[index]`` for every index, on Icarus through hwq's models of the cells;
those models agree with Yosys' own for every input; the LUT4's INIT is a two-way choice."""

import re
import subprocess

import numpy as np
import pytest
from amaranth.hdl import Module, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from cells import truth_table, yosys_ecp5_models
from simulators import require

from hwq.build import to_verilog
from hwq.hw.dsp import sim_models
from hwq.hw.mux import LUT4_MUX2, select


def test_lut4_mux2_is_c_then_b_else_a():
    # Z = INIT[{D, C, B, A}] = C ? B : A: set at indices with C = 0, A = 1 (1, 3, 9, 11) and
    # C = 1, B = 1 (6, 7, 14, 15), worked by hand
    assert LUT4_MUX2 == sum(1 << i for i in (1, 3, 6, 7, 9, 11, 14, 15)) == 0xCACA


class _Select(wiring.Component):
    def __init__(self, count, width, target):
        self._count, self._width, self._target = count, width, target
        bits = max(1, (count - 1).bit_length())
        super().__init__({"values": In(unsigned(count * width)), "index": In(bits),
                          "out": Out(width)})

    def elaborate(self, platform):
        m = Module()
        w = self._width
        values = [self.values[i * w:(i + 1) * w] for i in range(self._count)]
        m.d.comb += self.out.eq(select(m, values, self.index, "sel", self._target))
        return m


def _cells(verilog):
    return {cell: len(re.findall(rf"^\s*{cell}\b", verilog, re.M))
            for cell in ("LUT4", "PFUMX", "L6MUX21")}


@pytest.mark.parametrize("count, cells", [
    (2, {"LUT4": 1, "PFUMX": 0, "L6MUX21": 0}),
    (3, {"LUT4": 2, "PFUMX": 1, "L6MUX21": 0}),
    (5, {"LUT4": 4, "PFUMX": 2, "L6MUX21": 1}),
    (8, {"LUT4": 4, "PFUMX": 2, "L6MUX21": 1}),
    (9, {"LUT4": 4, "PFUMX": 2, "L6MUX21": 1}),      # the ninth value needs no cell
    (19, {"LUT4": 10, "PFUMX": 5, "L6MUX21": 2}),    # 8 + 8 + 3
])
def test_select_on_ecp5_cells(tmp_path, count, cells):
    """Every index in range selects its value (random 7-bit values, several draws), on
    Icarus running the ECP5 Verilog with hwq's cell models; the cells per bit as counted."""
    require("icarus")
    width = 7
    verilog = to_verilog(_Select(count, width, "ecp5"), "sel")
    assert _cells(verilog) == {cell: n * width for cell, n in cells.items()}
    assert _cells(to_verilog(_Select(count, width, "generic"), "sel")) == \
        {"LUT4": 0, "PFUMX": 0, "L6MUX21": 0}
    (tmp_path / "sel.v").write_text(verilog)
    models = sim_models("ecp5")
    (tmp_path / "ecp5_lut.v").write_text(models["ecp5_lut.v"])
    rng = np.random.default_rng(count)
    draws = [[int(v) for v in rng.integers(0, 1 << width, count)] for _ in range(4)]
    draws.append([(1 << width) - 1 - i % 2 for i in range(count)])    # neighbours differ
    bits = max(1, (count - 1).bit_length())
    lines = []
    for values in draws:
        word = sum(v << (i * width) for i, v in enumerate(values))
        for i in range(count):
            lines.append(f"values = {count * width}'h{word:x}; index = {i}; "
                         f"#1 $display(\"%0d\", out);")
    body = "\n        ".join(lines)
    (tmp_path / "tb.v").write_text(f"""
module tb;
    reg [{count * width - 1}:0] values;
    reg [{bits - 1}:0] index;
    wire [{width - 1}:0] out;
    sel dut(.values(values), .index(index), .out(out));
    initial begin
        {body}
        $finish;
    end
endmodule
""")
    subprocess.run(["iverilog", "-g2005", "-s", "tb", "-o", "sim", "tb.v", "sel.v",
                    "ecp5_lut.v"], cwd=tmp_path, check=True)
    out = subprocess.run(["vvp", "-n", "sim"], cwd=tmp_path, capture_output=True, text=True,
                         check=True)
    got = [int(v) for v in out.stdout.split()]
    assert got == [v for values in draws for v in values]


def _cell_table(tmp_path, model, tag, inits):
    """Each cell's output for every input: LUT4 with each INIT over {D, C, B, A}, then
    PFUMX and L6MUX21 over their three inputs."""
    luts = "\n    ".join(f"LUT4 #(.INIT(16'h{init:04x})) l{n}(.A(x[0]), .B(x[1]), .C(x[2]), "
                         f".D(x[3]), .Z(z[{n}]));" for n, init in enumerate(inits))
    cells = f"""wire [{len(inits) + 1}:0] z;
    {luts}
    PFUMX p(.ALUT(x[0]), .BLUT(x[1]), .C0(x[2]), .Z(z[{len(inits)}]));
    L6MUX21 s(.D0(x[0]), .D1(x[1]), .SD(x[2]), .Z(z[{len(inits) + 1}]));"""
    return truth_table(tmp_path, tag, model, 4, cells, '"%b", z')


def test_cell_models_match_yosys_models(tmp_path):
    require("icarus")
    hdl = tmp_path / "ecp5_lut.v"
    hdl.write_text(sim_models("ecp5")["ecp5_lut.v"])
    rng = np.random.default_rng(5)
    inits = [LUT4_MUX2, 0x0000, 0xFFFF, 0x8000, 0x0001, 0x6996,
             *(int(v) for v in rng.integers(0, 1 << 16, 10))]
    ours = _cell_table(tmp_path, hdl, "hwq", inits)
    theirs = _cell_table(tmp_path, yosys_ecp5_models(tmp_path, ("LUT4", "PFUMX", "L6MUX21")),
                          "yosys", inits)
    assert len(ours) == 16 and set("".join(ours)) <= {"0", "1"}
    assert ours == theirs
