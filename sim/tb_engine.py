"""cocotb testbench: a whole regression through hwq_top inside the memory model hwq_tb.

The job description (word counts, stall rate, seed, result path) comes from the JSON file
named by ``HWQ_TB_JOB``; the words themselves are in hex files passed as plusargs, so the
design streams every word with no Python round trip. Python only waits for ``done``;
``hwq.sim.runner`` scoreboards the dumped outputs against ``hwq.ref``.
"""

import json
import os
from pathlib import Path

import cocotb
from cocotb.triggers import First, RisingEdge, Timer

CLOCK_NS = 10


@cocotb.test(timeout_time=10, timeout_unit="sec")
async def engine_regression(dut):
    job = json.loads(Path(os.environ["HWQ_TB_JOB"]).read_text())
    # hwq_tb generates its own 10 ns clock, so no Python runs per cycle
    dut.rst.value = 1
    dut.start.value = 0
    dut.n_param.value = job["n_param"]
    dut.n_op.value = job["n_op"]
    dut.n_out.value = job["n_out"]
    dut.seed.value = job["seed"]
    dut.stall.value = job["stall"]
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    await RisingEdge(dut.clk)
    dut.start.value = 1
    await RisingEdge(dut.clk)
    dut.start.value = 0
    fired = await First(RisingEdge(dut.done), Timer(job["max_cycles"] * CLOCK_NS, unit="ns"))
    assert int(dut.done.value) == 1, (
        f"hwq_top stopped after {int(dut.got.value)} of {job['n_out']} output words "
        f"({fired} after {job['max_cycles']} cycles)")
    for _ in range(3):                      # the dump happens the cycle after done
        await RisingEdge(dut.clk)
    Path(job["result"]).write_text(json.dumps({"cycles": int(dut.cycles.value),
                                               "words": int(dut.got.value)}))
