# amaranth: UnusedElaboratable=no
import itertools

import numpy as np
import pytest
from amaranth.sim import Simulator

from hwq.config import MAX_REQUANT_STAGES, HwConfig
from hwq.hw.requant import Requantizer
from hwq.ref import requantize

MODES = ["double", "single", "double_half_up"]


def run_requant(lanes, acc, bias, mult, shift, zp, lo, hi, *, rounding, stages=4,
                target="generic", per_channel=True, shift_range=(-31, 30), clamp=True, width=32,
                stall=0.0, seed=0):
    dut = Requantizer(lanes, width, rounding, per_channel, shift_range, stages, clamp, target,
                      model=True)
    rng = np.random.default_rng(seed)
    out = []

    async def tb(ctx):
        ctx.set(dut.zero_point, zp)
        ctx.set(dut.act_min, lo)
        ctx.set(dut.act_max, hi)
        for t in range(len(acc) + dut.latency + 2):
            while rng.random() < stall:
                ctx.set(dut.en, 0)
                await ctx.tick()
            ctx.set(dut.en, 1)
            if t < len(acc):
                ctx.set(dut.i_valid, 1)
                ctx.set(dut.i_last, int(t == len(acc) - 1))
                ctx.set(dut.i_acc, [int(v) for v in acc[t]])
                ctx.set(dut.i_bias, [int(v) for v in bias[t]])
                ctx.set(dut.i_multiplier, [int(v) for v in np.atleast_1d(mult[t])])
                ctx.set(dut.i_shift, [int(v) for v in np.atleast_1d(shift[t])])
            else:
                ctx.set(dut.i_valid, 0)
            await ctx.tick()
            if ctx.get(dut.o_valid):
                out.append([int(v) for v in ctx.get(dut.o_data)])
                if ctx.get(dut.o_last):
                    out.append("last")

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    assert out[-1] == "last" and out.count("last") == 1
    return np.array(out[:-1])


def corner_cases():
    """Ties at each rounding step, both ends of the shift range, saturation, INT32 ends."""
    cases = []
    for r in range(1, 31):
        # M = 2^30 halves exactly; a/2 = k·2^r + 2^(r-1) is a tie in the second step
        for k in (-3, -1, 0, 2):
            a = 2 * (k * 2**r + 2**(r - 1))
            if -(2**31) <= a < 2**31:
                cases.append((a, 2**30, -r))
    cases += [(a, 2**30, s) for a in (-7, -5, -1, 1, 3, 7) for s in (0, -1)]  # first-step ties
    extremes = [-(2**31), -(2**31) + 1, -1, 0, 1, 2**31 - 1]
    cases += [(a, m, s) for a, m, s in itertools.product(extremes, [2**30, 2**31 - 1],
                                                            [-31, -16, 0, 1, 30])]
    return np.array(cases, dtype=np.int64)


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("zp,stages", [(-128, 4), (127, 4), (5, 4), (-128, 6), (127, 5),
                                       (-3, 7), (0, 2), (1, 8), (-128, 9), (127, 10),
                                       (-128, 11), (127, 12), (-128, 12), (127, 13),
                                       (-128, 13)])
def test_corners_match_the_golden_model(rounding, zp, stages):
    """Every corner, including INT32_MIN·(2^31 − 1) through the split partial products."""
    c = corner_cases()
    acc, mult, shift = c[:, :1], c[:, 1:2], c[:, 2:3]
    bias = np.zeros_like(acc)
    got = run_requant(1, acc, bias, mult, shift, zp, -128, 127, rounding=rounding,
                      stages=stages)
    want = requantize(acc[:, 0], mult[:, 0], shift[:, 0], zp, rounding=rounding)
    assert np.array_equal(got[:, 0], want)


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("stages", [4, 10, 12, 13])
def test_the_clamp_sees_every_bit_above_the_low_nine(rounding, stages):
    """Results y = ±(2^b + 5) before the clamp, b = 8..30: their low nine bits fit the clamp's
    bounds and a single bit above them does not (the clamp's wide test, in parts from 13
    stages: a part left out passes values only its bits tell apart). M = 2^30 with e = 1
    multiplies by one."""
    y = np.array([2**b + 5 for b in range(8, 31)], dtype=np.int64)
    acc = np.concatenate([y, -y - 1])[:, None]        # −y − 1 = ~y: bit b clear, sign set
    mult, shift = np.full_like(acc, 2**30), np.ones_like(acc)
    got = run_requant(1, acc, np.zeros_like(acc), mult, shift, -3, -128, 127,
                      rounding=rounding, stages=stages)
    want = requantize(acc[:, 0], mult[:, 0], shift[:, 0], -3, rounding=rounding)
    assert set(want) == {-128, 127}                    # every one of them is clamped
    assert np.array_equal(got[:, 0], want)


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("stages", range(2, MAX_REQUANT_STAGES + 1))
def test_random_lanes_with_stalls(rounding, stages):
    rng = np.random.default_rng(stages)
    n, lanes = 120, 3
    acc = rng.integers(-(2**25), 2**25, (n, lanes))
    bias = rng.integers(-(2**25), 2**25, (n, lanes))
    mult = rng.integers(2**30, 2**31, (n, lanes))
    shift = rng.integers(-20, 3, (n, lanes))
    got = run_requant(lanes, acc, bias, mult, shift, -3, -100, 90, rounding=rounding,
                      stages=stages, width=27, stall=0.3, seed=stages)
    want = requantize(acc + bias, mult, shift, -3, -100, 90, rounding)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("stages", [4, 5, 11, 12])
def test_every_left_shift_wraps_like_the_contract(rounding, stages):
    """Each left shift 0..30 (from 11 stages done in two parts, by e mod 4 and then by the
    rest), with sums whose shifted bits wrap past 32 bits: every part of the split shift
    must agree with the contract's single wrap."""
    rng = np.random.default_rng(100 + stages)
    shift = np.repeat(np.arange(0, 31), 4)[:, None]
    acc = rng.integers(-(2**25), 2**25, shift.shape)
    acc[::4] = np.array([1, -1, 2**25 - 1, -(2**25)] * 8)[:len(acc[::4]), None]
    mult = rng.integers(1, 2**31, shift.shape)
    got = run_requant(1, acc, np.zeros_like(acc), mult, shift, 3, -128, 127,
                      rounding=rounding, stages=stages, width=27)
    want = requantize(acc[:, 0], mult[:, 0], shift[:, 0], 3, rounding=rounding)
    assert np.array_equal(got[:, 0], want)


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("stages", [11, 12])
def test_every_shift_of_the_range_with_the_right_shift_split(rounding, stages):
    """Every shift e of [−31, 30] (from 12 stages the right shift — r = −e for the double
    roundings, 31 − e for single — is done in two parts, by its amount mod 4 and then by the
    rest), with sums of both signs, small and large multipliers."""
    rng = np.random.default_rng(200 + stages)
    shift = np.repeat(np.arange(-31, 31), 6)[:, None]
    acc = rng.integers(-(2**25), 2**25, shift.shape)
    acc[::6] = -(2**25)
    acc[1::6] = 2**25 - 1
    mult = rng.integers(1, 2**31, shift.shape)
    mult[2::6] = 2**31 - 1
    got = run_requant(1, acc, np.zeros_like(acc), mult, shift, -5, -128, 127,
                      rounding=rounding, stages=stages, width=27, stall=0.2, seed=stages)
    want = requantize(acc[:, 0], mult[:, 0], shift[:, 0], -5, rounding=rounding)
    assert np.array_equal(got[:, 0], want)


@pytest.mark.parametrize("rounding", ["double", "double_half_up"])
@pytest.mark.parametrize("stages", [4, 9, 12])
@pytest.mark.parametrize("lo_shift", [-1, -2, -3, -4, -5, -8, -12])
def test_every_right_shift_of_narrow_ranges(rounding, stages, lo_shift):
    """Shift ranges whose right shifts r = −e reach 1..12: the rounding constants 2^(r−1)
    and 2^(r−1) − 1 are decoded from r's low two bits and the rest (one or two bits of r
    only, or none) and must be right at every r, with ties."""
    rng = np.random.default_rng(-lo_shift * 10 + stages)
    shift = np.repeat(np.arange(lo_shift, 3), 8)[:, None]
    acc = rng.integers(-(2**20), 2**20, shift.shape)
    acc[::8] = (2 * (shift[::8] < 0) - 1) << np.maximum(-shift[::8], 0)   # a tie at r
    mult = rng.integers(1, 2**31, shift.shape)
    mult[::8] = 2**30
    got = run_requant(1, acc, np.zeros_like(acc), mult, shift, 1, -128, 127,
                      rounding=rounding, stages=stages, shift_range=(lo_shift, 2), width=24)
    want = requantize(acc[:, 0], mult[:, 0], shift[:, 0], 1, rounding=rounding)
    assert np.array_equal(got[:, 0], want)


@pytest.mark.parametrize("stages", [4, 10, 11])
@pytest.mark.parametrize("zp,lo,hi", [(-128, -128, 127), (127, -128, 127), (-128, 127, 127),
                                      (127, -128, -128), (0, -6, 6), (-1, -128, -127)])
def test_clamp_around_every_bound(stages, zp, lo, hi):
    """The rescaled value y sweeps −600..600 (M = 2^30 and shift 1 give y = acc exactly),
    across the 9-bit range where the clamp's short compares take over from its sign test,
    with the bounds less the zero-point at both ends of [−255, 255]."""
    acc = np.arange(-600, 601)[:, None]
    mult, shift = np.full_like(acc, 2**30), np.ones_like(acc)
    got = run_requant(1, acc, np.zeros_like(acc), mult, shift, zp, lo, hi,
                      rounding="double", stages=stages, width=27)
    assert np.array_equal(got[:, 0], np.clip(acc[:, 0] + zp, lo, hi))
    assert np.array_equal(got[:, 0], requantize(acc[:, 0], mult[:, 0], shift[:, 0], zp, lo, hi,
                                                "double"))


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("stages", range(2, MAX_REQUANT_STAGES + 1))
@pytest.mark.parametrize("target,shift_range", [("generic", (-31, 30)), ("generic", (-12, 3)),
                                                ("ecp5", (-31, 30)), ("ice40", (-31, 30))])
def test_result_arrives_after_exactly_latency_steps(rounding, stages, target, shift_range):
    """o_valid rises ``latency`` enabled steps after i_valid, for every stage count, rounding
    mode, target and shift range (the manifest's requant_steps and the engine's flush count
    on it)."""
    dut = Requantizer(1, 27, rounding, True, shift_range, stages, True, target, model=True)
    seen = []

    async def tb(ctx):
        ctx.set(dut.en, 1)
        ctx.set(dut.i_valid, 1)
        await ctx.tick()
        ctx.set(dut.i_valid, 0)
        for t in range(1, dut.latency + 3):
            if ctx.get(dut.o_valid):
                seen.append(t)
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(tb)
    sim.run()
    assert seen == [dut.latency]


def test_per_tensor_narrow_shift_range_and_no_clamp():
    rng = np.random.default_rng(9)
    n, lanes = 80, 4
    acc = rng.integers(-(2**20), 2**20, (n, lanes))
    bias = rng.integers(-(2**20), 2**20, (n, lanes))
    mult = np.full((n, 1), 1518500250)
    shift = np.full((n, 1), -9)
    got = run_requant(lanes, acc, bias, mult, shift, 11, -5, 5, rounding="double",
                      per_channel=False, shift_range=(-12, 0), clamp=False, width=22)
    want = requantize(acc + bias, 1518500250, -9, 11, -128, 127, "double")
    assert np.array_equal(got, want)       # act_min/act_max are ignored without clamp


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("stages", [6, 9, 10, 11, 12, 14, 15])
def test_dsp_partial_products_two_steps_later(rounding, stages):
    """target="ecp5" puts the partial products through two DSP register steps (here their
    plain-logic twin) and a fabric register: two steps more latency, the same results, under
    stalls."""
    assert Requantizer(2, 27, rounding, stages=stages, target="ecp5").latency == stages + 2
    assert HwConfig(requant_stages=stages, target="ecp5").requant_latency == stages + 2
    c = corner_cases()
    acc, mult, shift = c[:, :1], c[:, 1:2], c[:, 2:3]
    got = run_requant(1, acc, np.zeros_like(acc), mult, shift, -7, -128, 127,
                      rounding=rounding, stages=stages, target="ecp5", stall=0.3, seed=stages)
    assert np.array_equal(got[:, 0], requantize(acc[:, 0], mult[:, 0], shift[:, 0], -7,
                                                rounding=rounding))


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("stages", [2, 4, 6, 9, 10, 11])
def test_ice40_unsigned_16_bit_partial_products(rounding, stages):
    """target="ice40" splits a·M at bit 16 into four unsigned 16×16 products (one SB_MAC16
    each) and takes M·2^32 off the high part when a < 0: the corners (INT32_MIN·(2^31 − 1),
    ties, shift ends) and random negative and positive sums give the golden model's results."""
    assert Requantizer(1, 27, rounding, stages=stages, target="ice40").latency == stages
    c = corner_cases()
    rng = np.random.default_rng(stages)
    n = 150
    rand = np.stack([rng.integers(-(2**31), 2**31, n), rng.integers(0, 2**31, n),
                     rng.integers(-31, 31, n)], axis=1)
    c = np.concatenate([c, rand])
    acc, mult, shift = c[:, :1], c[:, 1:2], c[:, 2:3]
    got = run_requant(1, acc, np.zeros_like(acc), mult, shift, 3, -128, 127,
                      rounding=rounding, stages=stages, target="ice40", stall=0.2, seed=stages)
    assert np.array_equal(got[:, 0], requantize(acc[:, 0], mult[:, 0], shift[:, 0], 3,
                                                rounding=rounding))
