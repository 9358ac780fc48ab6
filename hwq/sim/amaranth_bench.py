"""Run :class:`hwq.hw.engine.GemmEngine` in Amaranth's simulator, with random stalls.

Used by the hardware tests and ``benchmarks/hardware.py``; the cocotb benches drive the
generated Verilog through the same packing (:mod:`hwq.sim.streams`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from amaranth.hdl import ClockDomain, Module, Value
from amaranth.sim import Simulator

from ..config import HwConfig
from ..hw.engine import GemmEngine
from .streams import collect_outputs, operand_words, param_words

__all__ = ["EngineRun", "simulate_engine"]


@dataclass
class EngineRun:
    """What a simulation produced: one int8 result per job, and cycle counts."""

    outputs: list = field(default_factory=list)
    cycles: int = 0                 # from reset release to the last output word
    first_operand: int | None = None
    last_operand: int | None = None
    operand_steps: int = 0          # operand words accepted

    @property
    def streaming_cycles(self) -> int:
        """Cycles from the first operand word accepted to the last, inclusive."""
        return self.last_operand - self.first_operand + 1


def _gaps(rng, p):
    """Idle cycles before the next word: geometric with stall probability ``p``."""
    n = 0
    while p > 0 and rng.random() < p:
        n += 1
    return n


def simulate_engine(config: HwConfig, jobs, *, stall: float = 0.0, seed: int = 0,
                    reset_after: int | None = None, max_cycles: int = 2_000_000) -> EngineRun:
    """Run ``jobs`` (a list of ``(layer, x_rows)`` with ``layer`` a linear ``IntLayer`` and
    ``x_rows [M, K]`` int8) back to back through one engine.

    ``stall`` is the probability of an idle cycle before each word on every input stream and
    of ``ready`` dropping on the output. ``reset_after`` pulses reset once that many operand
    words have been accepted, then abandons the jobs sent so far and restarts them all: the
    results must still be exact.
    """
    dut = GemmEngine(config, model=True)
    top = Module()
    top.domains.sync = cd = ClockDomain("sync")
    top.submodules.dut = dut
    run = EngineRun()
    words = []
    for layer, x in jobs:
        x = np.asarray(x, np.int8)
        acts, wgts = operand_words(x, layer.weight_matrix, config)
        words.append((param_words(layer, x.shape[0], config), acts, wgts, x.shape[0],
                      layer.out_channels))
    # phase 1 exists only with reset_after: job 0 is started, reset hits it mid-tile, and
    # phase 2 then runs every job from the beginning
    state = {"cycle": 0, "phase": 1 if reset_after is not None else 2, "done": False}

    async def clock_counter(ctx):
        async for _ in ctx.tick():
            state["cycle"] += 1

    async def wait_phase2(ctx):
        while state["phase"] != 2:
            await ctx.tick()

    async def put(ctx, stream, word, prng):
        for _ in range(_gaps(prng, stall)):
            await ctx.tick()
        ctx.set(Value.cast(stream.payload), word)
        ctx.set(stream.valid, 1)
        await ctx.tick().until(stream.ready)
        ctx.set(stream.valid, 0)

    async def feed_params(ctx):
        prng = np.random.default_rng(seed + 1)
        if state["phase"] == 1:
            for w in words[0][0]:
                await put(ctx, dut.s_param, w, prng)
            await wait_phase2(ctx)
        for pw, *_ in words:
            for w in pw:
                await put(ctx, dut.s_param, w, prng)

    async def send_operands(ctx, prng, acts, wgts, limit=None):
        for i, (a, b) in enumerate(zip(acts, wgts, strict=True)):
            if limit is not None and i == limit:
                return
            for _ in range(_gaps(prng, stall)):
                await ctx.tick()
            ctx.set(Value.cast(dut.s_act.payload), a)
            ctx.set(Value.cast(dut.s_wgt.payload), b)
            ctx.set(dut.s_act.valid, 1)
            ctx.set(dut.s_wgt.valid, 1)
            await ctx.tick().until(dut.s_act.ready)
            ctx.set(dut.s_act.valid, 0)
            ctx.set(dut.s_wgt.valid, 0)
            if state["phase"] == 2:
                if run.first_operand is None:
                    run.first_operand = state["cycle"]
                run.last_operand = state["cycle"]
                run.operand_steps += 1

    async def feed_operands(ctx):
        prng = np.random.default_rng(seed + 2)
        if state["phase"] == 1:
            await send_operands(ctx, prng, words[0][1], words[0][2], limit=reset_after)
            ctx.set(cd.rst, 1)
            await ctx.tick()
            ctx.set(cd.rst, 0)
            state["phase"] = 2
        for _, acts, wgts, _, _ in words:
            await send_operands(ctx, prng, acts, wgts)

    async def sink(ctx):
        prng = np.random.default_rng(seed + 3)
        while state["phase"] == 1:          # whatever comes out before the reset is void
            ctx.set(dut.m_out.ready, 1)
            await ctx.tick()
        for _, _, _, m, n in words:
            data, lasts = [], []
            while True:
                ctx.set(dut.m_out.ready, 0)
                for _ in range(_gaps(prng, stall)):
                    await ctx.tick()
                ctx.set(dut.m_out.ready, 1)
                d, last = await ctx.tick().sample(dut.m_out.payload.data.as_value(),
                                                  dut.m_out.payload.last).until(dut.m_out.valid)
                data.append(d)
                lasts.append(last)
                if last:
                    break
            run.outputs.append(collect_outputs(data, lasts, m, n, config))
        ctx.set(dut.m_out.ready, 0)
        run.cycles = state["cycle"]
        state["done"] = True

    async def watchdog(ctx):
        while not state["done"] and state["cycle"] < max_cycles:
            await ctx.tick()

    sim = Simulator(top)
    sim.add_clock(1e-8, domain="sync")
    sim.add_testbench(clock_counter, background=True)
    for tb in (feed_params, feed_operands, sink):
        sim.add_testbench(tb, background=True)
    sim.add_testbench(watchdog)
    sim.run()
    if not state["done"]:
        raise RuntimeError(f"engine simulation did not finish within {max_cycles} cycles")
    return run
