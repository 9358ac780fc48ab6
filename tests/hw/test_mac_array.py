# amaranth: UnusedElaboratable=no
import numpy as np
import pytest
from amaranth.hdl import Module, Signal, signed
from amaranth.sim import Simulator

from hwq.hw.mac_array import MacArray, mux_tree
from hwq.ref import gemm


def run_array(rows, cols, width, tiles, *, mult_reg=True, stall=0.0, bubbles=0.0, seed=0,
              target="generic", beats=1, spacing=None, pairs=False):
    """Feed ``tiles`` (list of (a [rows, K], w [cols, K])) back to back; return drained rows.

    ``stall`` drops ``en`` at random (nothing may move); ``bubbles`` inserts invalid steps
    inside tiles. Short tiles get invalid steps in front, so that consecutive tiles' last
    operands are at least ``spacing`` steps apart (default: the array's ``min_tile_steps``).
    With ``beats`` > 1 each row is held for that many steps; the copies must agree. ``pairs``:
    DSP accumulators (ecp5)."""
    dut = MacArray(rows, cols, width, mult_reg, target, model=True, beats=beats, pairs=pairs)
    rng = np.random.default_rng(seed)
    min_steps = dut.min_tile_steps if spacing is None else spacing
    steps = []
    for a, w in tiles:
        k_len = a.shape[1]
        tile = [None] * max(0, min_steps - k_len)
        for k in range(k_len):
            while rng.random() < bubbles:
                tile.append(None)
            tile.append((a[:, k], w[:, k], k == k_len - 1))
        steps += tile
    steps += [None] * (rows + cols + (beats + 1) * rows + 4)
    samples = []

    async def tick(ctx):
        # o_valid_next is what o_valid becomes at the clock, stalled or not
        upcoming = ctx.get(dut.o_valid_next)
        await ctx.tick()
        assert ctx.get(dut.o_valid) == upcoming, "o_valid_next foretold o_valid wrong"

    async def tb(ctx):
        for step in steps:
            while rng.random() < stall:
                ctx.set(dut.en, 0)
                ctx.set(dut.i_valid, int(rng.integers(2)))   # ignored while stalled
                ctx.set(dut.i_a, [int(v) for v in rng.integers(-128, 128, rows)])
                await tick(ctx)
            ctx.set(dut.en, 1)
            if step is None:
                ctx.set(dut.i_valid, 0)
                ctx.set(dut.i_last, 0)
            else:
                a, w, last = step
                ctx.set(dut.i_valid, 1)
                ctx.set(dut.i_last, int(last))
                ctx.set(dut.i_a, [int(v) for v in a])
                ctx.set(dut.i_w, [int(v) for v in w])
            # the array produces a drained row in the same step it consumes the inputs
            if ctx.get(dut.o_valid):
                samples.append([int(v) for v in ctx.get(dut.o_data)])
            await tick(ctx)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    assert len(samples) % (beats * rows) == 0, "a drain was cut short"
    held = np.array(samples).reshape(-1, beats, cols)
    assert (held == held[:, :1]).all(), "a row changed within its beats"
    return held[:, 0].reshape(-1, rows, cols)


def random_tiles(rng, rows, cols, n, k_choices):
    return [(rng.integers(-128, 128, (rows, k)), rng.integers(-128, 128, (cols, k)))
            for k in rng.choice(k_choices, n)]


@pytest.mark.parametrize("rows, cols, mult_reg", [(3, 4, True), (4, 3, False), (1, 5, True),
                                                  (5, 1, True), (1, 1, False), (9, 2, True)])
def test_back_to_back_tiles_accumulate_exactly(rows, cols, mult_reg):
    rng = np.random.default_rng(rows * 10 + cols)
    min_k = 2 * rows + cols - 1
    tiles = random_tiles(rng, rows, cols, 6, [1, 2, min_k, min_k + 1, 3 * min_k])
    got = run_array(rows, cols, 22, tiles, mult_reg=mult_reg)
    assert len(got) == len(tiles)
    for g, (a, w) in zip(got, tiles, strict=True):
        assert np.array_equal(g, gemm(a, w))


def test_largest_accumulator_values_at_max_k():
    # max_k = 64 with a 22-bit accumulator: (-128)·(-128)·64 = 2^20 and -128·127·64 both fit
    rows, cols, k = 2, 2, 64
    a = np.full((rows, k), -128)
    w = np.array([np.full(k, -128), np.full(k, 127)])
    got = run_array(rows, cols, 22, [(a, w), (-a - 1, w)])
    assert got[0].tolist() == [[2**20, -128 * 127 * 64]] * 2
    assert np.array_equal(got[1], gemm(-a - 1, w))


def test_stalls_and_bubbles_change_nothing():
    rng = np.random.default_rng(7)
    tiles = random_tiles(rng, 3, 3, 5, [8, 9, 20])
    clean = run_array(3, 3, 22, tiles)
    rough = run_array(3, 3, 22, tiles, stall=0.4, bubbles=0.3, seed=3)
    assert np.array_equal(clean, rough)
    for g, (a, w) in zip(rough, tiles, strict=True):
        assert np.array_equal(g, gemm(a, w))


@pytest.mark.parametrize("target, rows, cols", [("ecp5", 3, 2), ("ice40", 2, 3)])
def test_dsp_multipliers_with_stalls_and_bubbles(target, rows, cols):
    """target ecp5 / ice40: products through the DSP's two registers and a fabric one (here the
    DSP's plain-logic twin; ice40 pairs PEs on one dual 8×8 DSP, and an odd column count leaves
    half of the last pair unused); the same sums, and the latency the config reports."""
    from hwq.config import HwConfig
    assert MacArray(rows, cols, 22, target=target).latency == \
        HwConfig(rows=rows, cols=cols, target=target).array_latency == \
        (3 if target == "ecp5" else 1) + rows + cols - 2 + 3 + 1 + (target == "ecp5") + 1
    rng = np.random.default_rng(11)
    tiles = random_tiles(rng, rows, cols, 5, [1, 7, 8, 15])
    got = run_array(rows, cols, 22, tiles, stall=0.3, bubbles=0.2, seed=5, target=target)
    for g, (a, w) in zip(got, tiles, strict=True):
        assert np.array_equal(g, gemm(a, w))


@pytest.mark.parametrize("rows, cols, beats, target", [
    (3, 4, 2, "generic"), (2, 6, 3, "generic"), (4, 1, 1, "generic"), (1, 4, 4, "generic"),
    (9, 1, 1, "generic"), (10, 2, 2, "generic"), (3, 4, 2, "ecp5"), (4, 1, 1, "ecp5"),
    (9, 2, 1, "ecp5")])
def test_slow_drain_and_the_tightest_tile_spacing(rows, cols, beats, target):
    """Rows held for ``beats`` steps (a requantizer with cols/beats lanes). Tiles whose last
    operands are exactly ``beats·rows + cols − 1`` steps apart drain intact (the next tile's
    element (rows − 1, 0) finishes in the step that reads the last row); one step closer and
    the next tile's results collide with the drain. (ecp5: the output registers capture a
    step after the accumulators' last sums, and the drain starts a step later too.)"""
    assert MacArray(rows, cols, 22, beats=beats).min_tile_steps == beats * rows + cols - 1
    rng = np.random.default_rng(rows + 10 * cols + 100 * beats)
    tiles = random_tiles(rng, rows, cols, 5, [1, 2, 5])
    tight = beats * rows + cols - 1
    got = run_array(rows, cols, 22, tiles, beats=beats, spacing=tight, target=target)
    assert len(got) == len(tiles)
    for g, (a, w) in zip(got, tiles, strict=True):
        assert np.array_equal(g, gemm(a, w))
    stalled = run_array(rows, cols, 22, tiles, beats=beats, spacing=tight, stall=0.3,
                        bubbles=0.2, seed=1, target=target)
    assert np.array_equal(stalled, got)
    if tight > 1:
        try:
            closer = run_array(rows, cols, 22, tiles, beats=beats, spacing=tight - 1,
                               target=target)
        except AssertionError:          # a row changed within its beats or a drain was cut
            return                      # short: a collision
        assert len(closer) != len(tiles) or not all(
            np.array_equal(g, gemm(a, w)) for g, (a, w) in zip(closer, tiles, strict=True))


@pytest.mark.parametrize("rows, cols, beats", [(3, 4, 2), (8, 8, 8), (2, 2, 1), (1, 4, 4),
                                               (9, 2, 1), (4, 6, 3)])
def test_dsp_accumulator_pairs(rows, cols, beats):
    """DSP accumulators (ecp5, ``pairs``): columns 2c and 2c + 1 accumulate in one 54-bit
    word (hwq.hw.dsp.MacPair). The sums at the accumulator width's extremes come out exact
    in both fields (the first field's bias keeps the second free of borrows), tiles at the
    tightest spacing, cols/2 − 1 shorter than without pairs, drain intact with stalls and
    bubbles, and one step closer they collide."""
    assert MacArray(rows, cols, 26, target="ecp5", beats=beats, pairs=True).min_tile_steps \
        == beats * rows + cols // 2 - 1
    rng = np.random.default_rng(rows + 10 * cols + 100 * beats)
    tiles = random_tiles(rng, rows, cols, 4, [1, 2, 5])
    # max_k = 1024 at the 26-bit width's edge: (−128)·(−128)·1024 = 2^24 and −128·127·1024,
    # alternating in the even and odd columns, and then their negations' neighbours
    k = 1024
    a = np.full((rows, k), -128)
    w = np.array([np.full(k, -128 if j % 2 == 0 else 127) for j in range(cols)])
    w2 = np.array([np.full(k, 127 if j % 2 == 0 else -128) for j in range(cols)])
    tiles[1:1] = [(a, w), (a, w2), (-a - 1, w)]
    tight = beats * rows + cols // 2 - 1
    got = run_array(rows, cols, 26, tiles, beats=beats, spacing=tight, target="ecp5",
                    pairs=True, stall=0.2, bubbles=0.1, seed=2)
    assert len(got) == len(tiles)
    for g, (a_t, w_t) in zip(got, tiles, strict=True):
        assert np.array_equal(g, gemm(a_t, w_t))
    assert got[1][0, 0] == 2**24 and got[1][0, 1] == -128 * 127 * k
    if tight > 1:
        try:
            closer = run_array(rows, cols, 26, tiles, beats=beats, spacing=tight - 1,
                               target="ecp5", pairs=True)
        except AssertionError:
            return
        assert len(closer) != len(tiles) or not all(
            np.array_equal(g, gemm(a_t, w_t)) for g, (a_t, w_t) in zip(closer, tiles,
                                                                         strict=True))


def test_dsp_accumulator_pairs_refused_where_they_cannot_be():
    with pytest.raises(ValueError, match="need target ecp5 and an even cols"):
        MacArray(2, 3, 26, target="ecp5", pairs=True)
    with pytest.raises(ValueError, match="need target ecp5 and an even cols"):
        MacArray(2, 2, 26, target="generic", pairs=True)


@pytest.mark.parametrize("rows, cols, mult_reg, target, steps", [
    # input registers 1 (3 on ecp5), skew rows + cols − 2, multiplier 0/1/3 (DSP: input,
    # output and a fabric register), accumulator 1 (2 on ecp5: the output register loads
    # from the accumulator), read-out registers 1 (none with one row, two from nine rows:
    # groups of four rows, then one group)
    (3, 4, True, "generic", 1 + 5 + 1 + 1 + 1), (2, 2, False, "generic", 1 + 2 + 0 + 1 + 1),
    (1, 5, True, "generic", 1 + 4 + 1 + 1 + 0), (2, 3, True, "ecp5", 3 + 3 + 3 + 2 + 1),
    (3, 2, True, "ice40", 1 + 3 + 3 + 1 + 1), (8, 1, True, "generic", 1 + 7 + 1 + 1 + 1),
    (9, 1, True, "ecp5", 3 + 8 + 3 + 2 + 2), (13, 2, False, "generic", 1 + 13 + 0 + 1 + 2),
    (1, 3, True, "ecp5", 3 + 2 + 3 + 2 + 0),
    # DSP accumulators: the skew spans cols / 2, the multiplier's input and pipeline
    # registers feed the ALU, whose register is the accumulator
    (8, 8, "pairs", "ecp5", 3 + 10 + 2 + 2 + 1), (1, 2, "pairs", "ecp5", 3 + 0 + 2 + 2 + 0)])
def test_latency_as_simulated(rows, cols, mult_reg, target, steps):
    """The step at which a lone tile's first row appears, counted in simulation, is the
    latency the array and the config report."""
    from hwq.config import HwConfig
    pairs = mult_reg == "pairs"
    mult_reg = True if pairs else mult_reg
    dut = MacArray(rows, cols, 22, mult_reg, target, model=True, pairs=pairs)
    cfg = HwConfig(rows=rows, cols=cols, mult_reg=mult_reg, target=target,
                   accumulator="dsp" if pairs else "fabric")
    assert dut.latency == cfg.array_latency == steps
    seen = []

    async def tb(ctx):
        ctx.set(dut.en, 1)
        ctx.set(dut.i_valid, 1)
        ctx.set(dut.i_last, 1)                  # K = 1: the only operand is the last
        ctx.set(dut.i_a, [3] * rows)
        ctx.set(dut.i_w, [-2] * cols)
        for step in range(steps + rows + 4):
            if ctx.get(dut.o_valid):
                seen.append((step, [int(v) for v in ctx.get(dut.o_data)]))
            await ctx.tick()
            ctx.set(dut.i_valid, 0)
            ctx.set(dut.i_last, 0)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    assert [step for step, _ in seen] == list(range(steps, steps + rows))
    assert all(row == [-6] * cols for _, row in seen)


@pytest.mark.parametrize("count", [1, 2, 5, 8, 19])
def test_mux_tree_selects_by_index(count):
    # every index in range selects its value, exhaustively; past the end it stays one of them
    width = max(1, (count - 1).bit_length())
    values = [Signal(signed(12), name=f"v{i}") for i in range(count)]
    index = Signal(width + 1)
    out = Signal(signed(12))
    m = Module()
    m.d.comb += out.eq(mux_tree(values, index))
    rng = np.random.default_rng(count)
    data = [int(v) for v in rng.integers(-2048, 2048, count)]

    async def tb(ctx):
        for v, d in zip(values, data, strict=True):
            ctx.set(v, d)
        for i in range(2 ** (width + 1)):
            ctx.set(index, i)
            got = ctx.get(out)
            if i < count:
                assert got == data[i], (i, got, data[i])
            else:
                assert got in data, (i, got)

    sim = Simulator(m)
    sim.add_testbench(tb)
    sim.run()


@pytest.mark.parametrize("width", [16, 22, 26])
def test_mac_pair_sums_in_one_word(width):
    """MacPair alone (its plain-logic form): two sums sharing an activation, packed in one
    54-bit word over the 2^26 bias, restarted at random; each read back exactly, in
    ``width`` bits, against Python integers — runs of −128·−128 and −128·127 drive both
    fields to the largest sums 16 and 22 bits hold, of either sign (26 bits' extremes, 2^24,
    are test_dsp_accumulator_pairs')."""
    from hwq.hw.dsp import MacPair
    dut = MacPair(width)
    rng = np.random.default_rng(width)
    limit = 1 << (width - 1)                   # |Σ| < 2^(width−1): the sums fit the width
    steps, sums, expect = [], [0, 0], []
    for _ in range(6):
        n = int(rng.integers(1, min(200, (limit - 1) // 16384) + 1))
        kind = rng.integers(3)
        for k in range(n):
            if kind == 0:
                a, w0, w1 = -128, -128, 127
            elif kind == 1:
                a, w0, w1 = 127, -128, -128
            else:
                a, w0, w1 = (int(v) for v in rng.integers(-128, 128, 3))
            steps.append((a, w0, w1, k == 0))
    # the reference: a restart starts both sums from the step's own products
    for a, w0, w1, first in steps:
        if first:
            expect.append(tuple(sums))
            sums = [0, 0]
        sums = [sums[0] + a * w0, sums[1] + a * w1]
        assert abs(sums[0]) < limit and abs(sums[1]) < limit
    expect.append(tuple(sums))
    got = []

    async def tb(ctx):
        ctx.set(dut.en, 1)
        ctx.set(dut.restart, 1)                 # the first enabled step after reset
        await ctx.tick()
        pipe = []
        for a, w0, w1, first in steps + [(0, 0, 0, True)] * 3:
            ctx.set(dut.a, a)
            ctx.set(dut.w0, w0)
            ctx.set(dut.w1, w1)
            pipe.append(first)
            # restart goes with the products entering the ALU, two steps after the operands
            restart = len(pipe) > 2 and pipe[-3]
            ctx.set(dut.restart, int(restart))
            if restart:
                got.append((ctx.get(dut.s0), ctx.get(dut.s1)))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    assert got[1:] == expect[1:]
