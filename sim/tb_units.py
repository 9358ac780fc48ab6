"""cocotb testbenches for the units on their own: hwq_requant and hwq_mac_array.

Stimulus is random (seeded by ``HWQ_TB_SEED``) plus the requantizer's corner cases, driven one
step per clock with random stalls of the step enable; every result is checked against
``hwq.ref`` (``requantize`` and ``gemm``) as it comes out. The unit's settings come from the
JSON file named by ``HWQ_TB_JOB`` (the config, as ``HwConfig.flat()``).
"""

import json
import os
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge, Timer

from hwq.config import HwConfig
from hwq.ref import gemm, requantize
from hwq.sim.streams import pack_lanes


def _setup():
    job = json.loads(Path(os.environ["HWQ_TB_JOB"]).read_text())
    return HwConfig(**job["config"]), np.random.default_rng(job["seed"]), job


def _pack(values, bits):
    out = 0
    for i, v in enumerate(values):
        out |= (int(v) & ((1 << bits) - 1)) << (bits * i)
    return out


def _unpack(word, bits, count):
    mask = (1 << bits) - 1
    vals = [(int(word) >> (bits * i)) & mask for i in range(count)]
    return [v - (1 << bits) if v >> (bits - 1) else v for v in vals]


async def _reset(dut):
    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    dut.en.value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    dut.rst.value = 0


@cocotb.test(timeout_time=1, timeout_unit="sec")
async def requant_matches_golden_model(dut):
    cfg, rng, job = _setup()
    lanes, n = cfg.requant_lanes, job["steps"]
    lo, hi = cfg.shift_min, cfg.shift_max
    acc_max = 2 ** (cfg.accumulator_width - 1)
    acc = rng.integers(-acc_max, acc_max, (n, lanes))
    bias = rng.integers(-(2**24), 2**24, (n, lanes))
    p = lanes if cfg.per_channel else 1
    mult = rng.integers(2**30, 2**31, (n, p))
    shift = rng.integers(lo, hi + 1, (n, p))
    # corners: ties in each rounding step, both shift ends, saturation
    for t in range(min(n, 64)):
        r = int(rng.integers(max(1, -hi), max(2, min(-lo, 30) + 1))) if lo < 0 else 0
        e = -r if lo < 0 else lo
        bias[t] = 2**r if t % 4 == 0 else (-(2**r) if t % 4 == 1 else bias[t])
        acc[t] = 0 if t % 4 < 2 else acc[t] | 1
        mult[t] = 2**30 if t % 2 == 0 else mult[t]
        shift[t] = e if t % 3 else (lo if t % 2 else hi)
    zp, amin, amax = job["zero_point"], job["act_min"], job["act_max"]
    want = requantize(acc + bias, np.broadcast_to(mult, (n, lanes)),
                      np.broadcast_to(shift, (n, lanes)), zp,
                      amin if cfg.clamp else -128, amax if cfg.clamp else 127, cfg.rounding)
    await _reset(dut)
    dut.zero_point.value = zp & 0xFF
    dut.act_min.value = amin & 0xFF
    dut.act_max.value = amax & 0xFF
    got, t = [], 0
    while len(got) < n:
        stall = rng.random() < job["stall"]
        dut.en.value = 0 if stall else 1
        if not stall:
            dut.i_valid.value = int(t < n)
            if t < n:
                dut.i_acc.value = _pack(acc[t], cfg.accumulator_width)
                dut.i_bias.value = _pack(bias[t], 32)
                dut.i_multiplier.value = _pack(mult[t], 31)
                dut.i_shift.value = _pack(shift[t], 6)
            t += 1
        await RisingEdge(dut.clk)
        await Timer(1, unit="ns")
        if not stall and int(dut.o_valid.value):
            row = _unpack(dut.o_data.value, 8, lanes)
            assert row == want[len(got)].tolist(), f"step {len(got)}: {row} != {want[len(got)]}"
            got.append(row)


@cocotb.test(timeout_time=1, timeout_unit="sec")
async def mac_array_matches_golden_model(dut):
    cfg, rng, job = _setup()
    R, C = cfg.rows, cfg.cols
    tiles = []
    for _ in range(job["tiles"]):
        k = int(rng.choice([1, 2, cfg.min_tile_steps, cfg.min_tile_steps + 5]))
        k = min(k, cfg.max_k)
        a = rng.integers(-128, 128, (R, k))
        w = rng.integers(-128, 128, (C, k))
        if rng.random() < 0.25:
            a[:] = -128
            w[:] = -128
        tiles.append((a, w))
    steps = []
    for a, w in tiles:
        k = a.shape[1]
        steps += [None] * max(0, cfg.min_tile_steps - k)   # keep last operands spaced
        steps += [(pack_lanes(a[:, j][None, :].astype(np.int8))[0],
                   pack_lanes(w[:, j][None, :].astype(np.int8))[0], j == k - 1)
                  for j in range(k)]
    steps += [None] * ((cfg.drain_beats + 2) * R + C + 4)
    expected = [gemm(a, w) for a, w in tiles]
    await _reset(dut)
    # the array holds each result row for `drain_beats` steps (o_valid high on each): one row
    # per `drain_beats` samples
    rows, samples = [], 0
    for step in steps:
        while rng.random() < job["stall"]:
            dut.en.value = 0
            await RisingEdge(dut.clk)
        dut.en.value = 1
        dut.i_valid.value = int(step is not None)
        dut.i_last.value = int(step is not None and step[2])
        if step is not None:
            dut.i_a.value, dut.i_w.value = step[0], step[1]
        await Timer(1, unit="ns")
        if int(dut.o_valid.value):
            sample = _unpack(dut.o_data.value, cfg.accumulator_width, C)
            if samples % cfg.drain_beats:
                assert sample == rows[-1], f"row changed within its beats: {sample} != {rows[-1]}"
            else:
                rows.append(sample)
            samples += 1
        await RisingEdge(dut.clk)
    got = np.array(rows).reshape(-1, R, C)
    assert len(got) == len(tiles), f"{len(got)} tiles drained, {len(tiles)} sent"
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert np.array_equal(g, e), f"tile {i}: {g.tolist()} != {e.tolist()}"
