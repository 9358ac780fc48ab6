"""cocotb testbench: a whole regression through hwq_top inside the memory model hwq_tb.

The job (word counts, stall rate, seed) and the words themselves (binary files) reach hwq_tb
as plusargs, so the design streams every word with no Python round trip; the JSON file named
by ``HWQ_TB_JOB`` tells this bench the timeout and where to write the result. Python only
waits for ``done``; ``hwq.sim.runner`` scoreboards the dumped outputs against ``hwq.ref``.
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
    # hwq_tb makes its own clock, reset and start and reads the job from plusargs, so no
    # Python runs per cycle and nothing is written into the design
    fired = await First(RisingEdge(dut.done), Timer(job["max_cycles"] * CLOCK_NS, unit="ns"))
    assert int(dut.done.value) == 1, (
        f"hwq_top stopped after {int(dut.got.value)} of {job['n_out']} output words "
        f"({fired} after {job['max_cycles']} cycles)")
    await Timer(3 * CLOCK_NS, unit="ns")    # the dump happens the cycle after done
    Path(job["result"]).write_text(json.dumps({"cycles": int(dut.cycles.value),
                                               "words": int(dut.got.value)}))
