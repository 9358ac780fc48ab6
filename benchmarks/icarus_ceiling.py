"""What Icarus can simulate at best: MAC-cycles per second of a bare MAC array.

Issue #5 asks for 1e6 MACs checked per second on Icarus. This benchmark measures the ceiling
the simulator itself sets, with no engine control, parameter memory, testbench memory model or
cocotb around the array — everything the regression adds only costs more:

* ``hwq array``: ``hwq_mac_array.v`` exactly as ``hwq build`` writes it, every element busy
  on every clock (operands from an xorshift generator in a small Verilog driver, a tile ending
  every 64 steps);
* ``behavioural``: the least Verilog that computes the same products and accumulations — one
  clocked process, ``acc <= last ? 0 : acc + a*w`` per element, the operands passed on as in
  the array — the cheapest form any generator could write.

``MAC-cycles/s`` = rows·cols·clocks / seconds of ``vvp`` (compile excluded); a whole regression
can check at most this many MACs per second per simulator process.
Run: python benchmarks/icarus_ceiling.py [--cycles N]
"""

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hwq.build import unit_verilog
from hwq.config import HwConfig

DRIVER = """
`timescale 1ns/1ps
module bench;
    reg clk = 1'b0;
    reg [31:0] cycle = 32'd0;
    reg [31:0] x = 32'h2545f491;
    reg [8*{R}-1:0] a;
    reg [8*{C}-1:0] w;
    always #5 clk = ~clk;
    wire rst = cycle < 4;
    reg [31:0] y;
    integer i;
    always @(posedge clk) begin
        cycle <= cycle + 1;
        y = x ^ (x << 13);
        y = y ^ (y >> 17);
        x <= y ^ (y << 5);
        for (i = 0; i < {R}; i = i + 1) a[8*i +: 8] <= x[(i % 4)*8 +: 8] ^ i;
        for (i = 0; i < {C}; i = i + 1) w[8*i +: 8] <= x[((i + 1) % 4)*8 +: 8] + i;
        if (cycle == {N} + 4) begin
            $display("checksum %h", dut_out);
            $finish;
        end
    end
    wire last = cycle[5:0] == 6'd63;
{DUT}
endmodule
"""

HWQ_DUT = """    wire [{OW}-1:0] dut_out;
    wire o_valid;
    hwq_mac_array dut(.clk(clk), .rst(rst), .en(1'b1), .i_valid(1'b1), .i_last(last),
                      .i_a(a), .i_w(w), .o_data(dut_out), .o_valid(o_valid));"""


def behavioural(rows, cols, width):
    """One clocked process, unrolled: operands passed east and south, one accumulator per
    element (``acc <= last ? 0 : acc + a*w``)."""
    decl, body = [], ["    always @(posedge clk) begin"]
    for r in range(rows):
        for c in range(cols):
            e = f"{r}_{c}"
            decl.append(f"    reg signed [7:0] pa{e} = 0, pw{e} = 0; reg pl{e} = 0;"
                        f" reg signed [{width - 1}:0] acc{e} = 0;")
            west = f"a[{8 * r + 7}:{8 * r}]" if c == 0 else f"pa{r}_{c - 1}"
            north = f"w[{8 * c + 7}:{8 * c}]" if r == 0 else f"pw{r - 1}_{c}"
            flag = "last" if c == 0 else f"pl{r}_{c - 1}"
            body += [f"        acc{e} <= pl{e} ? 0 : acc{e} + pa{e} * pw{e};",
                     f"        pa{e} <= {west}; pw{e} <= {north}; pl{e} <= {flag};"]
    body.append("    end")
    return "\n".join([*decl, f"    wire [{width - 1}:0] dut_out = acc{rows - 1}_{cols - 1};",
                      *body])


def run(sources, top_text, workdir: Path):
    (workdir / "bench.v").write_text(top_text)
    files = [workdir / "bench.v"]
    for name, text in sources.items():
        (workdir / name).write_text(text)
        files.append(workdir / name)
    subprocess.run(["iverilog", "-g2005", "-s", "bench", "-o", str(workdir / "sim.vvp"),
                    *map(str, files)], check=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(["vvp", "-n", str(workdir / "sim.vvp")], check=True,
                         capture_output=True, text=True).stdout
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if "checksum" not in out:
        raise RuntimeError(f"the bench did not finish: {out}")
    return wall, cpu


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cycles", type=int, default=4000)
    args = p.parse_args(argv)
    if args.cycles < 1:
        p.error(f"--cycles must be a positive number of clocks, not {args.cycles}")
    if not shutil.which("iverilog"):
        sys.exit("Icarus Verilog not found: apt-get install -y iverilog")
    version = subprocess.run(["iverilog", "-V"], capture_output=True, text=True).stdout
    print(version.splitlines()[0] if version else "iverilog")
    print(f"{'array':<7} {'form':<12} {'clocks':>7} {'vvp s':>6} {'CPU s':>6} "
          f"{'MAC-cycles/s':>13} {'per CPU-s':>10}")
    for rows, cols in ((8, 8), (16, 16)):
        cfg = HwConfig(name=f"ceiling{rows}x{cols}", rows=rows, cols=cols, max_k=1024,
                       max_n=256)
        width = cfg.accumulator_width
        n = args.cycles
        forms = {
            "hwq array": ({"hwq_mac_array.v": unit_verilog(cfg, "hwq_mac_array")},
                          HWQ_DUT.format(OW=width * cols)),
            "behavioural": ({}, behavioural(rows, cols, width)),
        }
        for form, (sources, dut) in forms.items():
            with tempfile.TemporaryDirectory() as tmp:
                wall, cpu = run(sources, DRIVER.format(R=rows, C=cols, N=n, DUT=dut), Path(tmp))
            macs = rows * cols * n
            print(f"{rows}x{cols:<5} {form:<12} {n:>7} {wall:>6.2f} {cpu:>6.2f} "
                  f"{macs / wall:>13.3g} {macs / cpu:>10.3g}", flush=True)


if __name__ == "__main__":
    main()
