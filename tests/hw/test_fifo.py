# amaranth: UnusedElaboratable=no
"""ReservedFifo against a Python deque, clock by clock, in Amaranth's simulator: random writes
(only into room, as the engine's credits guarantee) and random reads in phases that fill,
drain and churn the queue, at depths that wrap as a power of two and at depths that do not."""

from collections import deque

import numpy as np
import pytest
from amaranth.sim import Simulator

from hwq.hw.fifo import ReservedFifo

PHASES = [(0.9, 0.2), (0.2, 0.9), (0.6, 0.6)]     # (write, read) probabilities, 40 clocks each


def _run(width, depth, steps, seed):
    rng = np.random.default_rng(seed)
    dut = ReservedFifo(width, depth)
    seen = {"full": 0, "empty_write": 0, "read_write": 0, "drained": 0}

    async def tb(ctx):
        queue = deque()
        for step in range(steps):
            p_write, p_read = PHASES[step // 40 % len(PHASES)]
            ready = ctx.get(dut.r_rdy)
            assert ready == (len(queue) > 0)
            if queue:
                assert ctx.get(dut.r_data) == queue[0]
            r_en = int(rng.random() < p_read)
            reading = r_en and queue
            # the writer only writes into room at this edge (a read in the same clock makes it)
            w_en = int(rng.random() < p_write and len(queue) - bool(reading) < depth)
            w_data = int(rng.integers(1 << width))
            ctx.set(dut.r_en, r_en)
            ctx.set(dut.w_en, w_en)
            ctx.set(dut.w_data, w_data)
            # r_rdy is a flip-flop: this clock's enables do not reach it before the edge
            assert ctx.get(dut.r_rdy) == ready
            seen["full"] += len(queue) == depth
            seen["empty_write"] += w_en and not queue
            seen["read_write"] += w_en and bool(reading)
            seen["drained"] += bool(reading) and len(queue) == 1 and not w_en
            await ctx.tick()
            if reading:
                queue.popleft()
            if w_en:
                queue.append(w_data)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    return seen


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 10, 16])
def test_matches_a_deque(depth):
    seen = _run(width=9, depth=depth, steps=1200, seed=depth)
    # the stimulus reached the corners: full, a write into an empty queue, a write beside a
    # read, the last word read with nothing written
    assert all(count > 0 for count in seen.values()), seen


@pytest.mark.parametrize("width,depth", [(0, 4), (8, 0)])
def test_rejects_empty_shapes(width, depth):
    with pytest.raises(ValueError, match="width and depth"):
        ReservedFifo(width, depth)
