# amaranth: UnusedElaboratable=no
"""RegisteredRam: the word at the address of two clocks earlier, as a Python dictionary replays
it, from Amaranth's simulator (the inferred Memory and register) and from Icarus running the
Verilog of ``target="ecp5"`` (DP16KD primitives with the output register) on hwq's model of
the primitive."""

import subprocess

import numpy as np
import pytest
from amaranth.sim import Simulator
from simulators import require

from hwq.build import to_verilog
from hwq.hw.bram import DP16KD_WIDTH, RegisteredRam
from hwq.hw.dsp import sim_models


def _stimulus(width, depth, steps, seed):
    """(w_en, w_addr, w_data, r_addr) per clock, never reading the address written in the
    same clock (the device leaves that undefined), reads biased towards written words."""
    rng = np.random.default_rng(seed)
    rows, written = [], [0]
    for _ in range(steps):
        w_en = int(rng.random() < 0.5)
        w_addr = int(rng.integers(depth))
        w_data = int.from_bytes(rng.bytes(-(-width // 8)), "little") % (1 << width)
        r_addr = int(rng.choice(written)) if rng.random() < 0.7 else int(rng.integers(depth))
        if w_en and r_addr == w_addr:
            r_addr = (r_addr + 1) % depth
        rows.append((w_en, w_addr, w_data, r_addr))
        if w_en:
            written.append(w_addr)
    return rows


def _expected(rows):
    """r_data after each clock edge: the word at r_addr of the clock before, as it was
    before that clock's write (None until two edges have passed)."""
    mem, out, latch = {}, [], None
    for w_en, w_addr, w_data, r_addr in rows:
        out.append(latch)                       # the output register takes the read latch
        latch = mem.get(r_addr, 0)              # the read sees the memory before the write
        if w_en:
            mem[w_addr] = w_data
    return out


def _amaranth_outputs(width, depth, rows):
    dut = RegisteredRam(width, depth)
    got = []

    async def tb(ctx):
        for w_en, w_addr, w_data, r_addr in rows:
            ctx.set(dut.w_en, w_en)
            ctx.set(dut.w_addr, w_addr)
            ctx.set(dut.w_data, w_data)
            ctx.set(dut.r_addr, r_addr)
            await ctx.tick()
            got.append(ctx.get(dut.r_data))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    return got


def _icarus_outputs(tmp_path, width, depth, rows):
    ram = RegisteredRam(width, depth, target="ecp5")
    abits = max(1, (depth - 1).bit_length())
    (tmp_path / "ram.v").write_text(to_verilog(ram, "ram"))
    for name, text in sim_models("ecp5").items():
        (tmp_path / name).write_text(text)
    stim_bits = 1 + abits + width + abits
    with open(tmp_path / "stim.hex", "w") as f:
        for w_en, w_addr, w_data, r_addr in rows:
            word = (((w_en << abits | w_addr) << width | w_data) << abits) | r_addr
            f.write(f"{word:x}\n")
    (tmp_path / "tb.v").write_text(f"""
module tb;
    reg clk = 0;
    reg [{stim_bits - 1}:0] stim [0:{len(rows) - 1}];
    reg w_en = 0;
    reg [{abits - 1}:0] w_addr = 0, r_addr = 0;
    reg [{width - 1}:0] w_data = 0;
    wire [{width - 1}:0] r_data;
    ram dut(.clk(clk), .rst(1'b0), .w_en(w_en), .w_addr(w_addr), .w_data(w_data),
            .r_addr(r_addr), .r_data(r_data));
    integer t;
    initial begin
        $readmemh("stim.hex", stim);
        for (t = 0; t < {len(rows)}; t = t + 1) begin
            {{w_en, w_addr, w_data, r_addr}} = stim[t];
            #1 clk = 1;
            #1 clk = 0;
            $display("%h", r_data);
        end
        $finish;
    end
endmodule
""")
    subprocess.run(["iverilog", "-g2005", "-s", "tb", "-o", "sim", "tb.v", "ram.v",
                    *sim_models("ecp5")], cwd=tmp_path, check=True)
    out = subprocess.run(["vvp", "-n", "sim"], cwd=tmp_path, capture_output=True, text=True,
                         check=True)
    return out.stdout.split()


@pytest.mark.parametrize("width, depth", [(69, 256), (36, 512), (5, 3), (100, 40)])
def test_reads_two_clocks_later_in_amaranth(width, depth):
    rows = _stimulus(width, depth, 600, seed=width + depth)
    want = _expected(rows)
    got = _amaranth_outputs(width, depth, rows)
    assert sum(w is not None for w in want) == len(rows) - 1
    assert all(w is None or g == w for g, w in zip(got, want, strict=True))


@pytest.mark.parametrize("width, depth", [(69, 256), (36, 512), (5, 3), (100, 40)])
def test_dp16kd_primitives_on_the_model(tmp_path, width, depth):
    """Each word spans ceil(width / 36) primitives (3 for 100 bits: a partly used one)."""
    require("icarus")
    assert RegisteredRam(width, depth, target="ecp5").primitives == -(-width // DP16KD_WIDTH)
    rows = _stimulus(width, depth, 600, seed=width * depth)
    want = _expected(rows)
    got = _icarus_outputs(tmp_path, width, depth, rows)
    assert len(got) == len(rows)
    checked = 0
    for t, (g, w) in enumerate(zip(got, want, strict=True)):
        if w is not None:
            assert "x" not in g and int(g, 16) == w, (t, g, hex(w))
            checked += 1
    assert checked == len(rows) - 1


def test_deeper_than_one_primitive_is_inferred():
    assert RegisteredRam(36, 513, target="ecp5").primitives == 0
    assert RegisteredRam(36, 512, target="ecp5", model=True).primitives == 0
    with pytest.raises(ValueError, match="width and depth"):
        RegisteredRam(0, 4)
