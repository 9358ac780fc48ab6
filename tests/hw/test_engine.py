# amaranth: UnusedElaboratable=no
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from hwq.config import HwConfig, load_config, min_tile_steps
from hwq.ref import run_layer
from hwq.sim.amaranth_bench import simulate_engine
from hwq.sim.regression import random_job as make_job
from hwq.sim.regression import regression_jobs
from hwq.sim.streams import param_words

CONFIGS = sorted(p.stem for p in Path("configs").glob("*.yaml"))


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("stall", [0.0, 0.3])
def test_random_layers_back_to_back(name, stall):
    cfg = load_config(f"configs/{name}.yaml")
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    R, C = cfg.rows, cfg.cols
    k_long = min(cfg.max_k, cfg.min_tile_steps + 5)
    jobs = [
        make_job(rng, cfg, 2 * R + 1, 2 * C + 1, k_long),              # partial edge tiles
        make_job(rng, cfg, 1, 1, 1, activation="relu", z_in=-128, z_out=127),     # K = 1
        make_job(rng, cfg, R, C, 3, activation="none", z_in=127, z_out=-128),     # short K
        make_job(rng, cfg, R + 1, min(cfg.max_n, 3 * C), k_long),
    ]
    run = simulate_engine(cfg, jobs, stall=stall, seed=int(stall * 10))
    for out, (layer, x) in zip(run.outputs, jobs, strict=True):
        assert np.array_equal(out, run_layer(layer, x))


def _stream(cfg, k):
    """One layer of 4 row blocks × 3 column blocks (the last ones partial) with K = ``k``,
    fed and drained without a stall: whether its output matches, its tiles, and the clocks
    from its first operand word to its last."""
    R, C = cfg.rows, cfg.cols
    m, n = 4 * R - 1, min(cfg.max_n, 3 * C - 1)
    layer, x = make_job(np.random.default_rng(k), cfg, m, n, k)
    run = simulate_engine(cfg, [(layer, x)])
    assert np.array_equal(run.outputs[0], run_layer(layer, x))
    tiles = -(-m // R) * -(-n // C)
    assert run.operand_steps == tiles * k
    return tiles, run.streaming_cycles


@pytest.mark.parametrize("name", CONFIGS)
def test_tiles_stream_without_a_bubble(name, monkeypatch):
    """Tiles of ``min_tile_steps`` steps (and a few more) run back to back when the consumer
    is always ready: an operand word at every clock from the first to the last, with the
    FIFO's ``stream_words`` alone (``out_fifo_depth: 0``); and with one word fewer there is
    a bubble, so ``stream_words`` is the least that streams."""
    cfg = dataclasses.replace(load_config(f"configs/{name}.yaml"), out_fifo_depth=0)
    for k in (cfg.min_tile_steps, cfg.min_tile_steps + 2):
        tiles, clocks = _stream(cfg, k)
        assert clocks == tiles * k, k
    if cfg.stream_words > cfg.rows:             # (a tile can never reserve fewer than rows)
        monkeypatch.setattr(type(cfg), "fifo_depth", property(lambda c: c.stream_words - 1))
        tiles, clocks = _stream(cfg, cfg.min_tile_steps)
        assert clocks > tiles * cfg.min_tile_steps


@pytest.mark.parametrize("lanes,stages", [(2, 8), (1, 11), (3, 9)])
def test_beats_chosen_in_two_levels(lanes, stages):
    """From 8 requantizer stages a row's parts are chosen in two levels (a pair of parts into
    a register, then one of the two): an odd number of beats (3), one lane (6 beats) and an
    even split (2), under stalls, over several column blocks."""
    cfg = HwConfig(name="beats", rows=3, cols=6, max_k=64, max_n=32, requant_lanes=lanes,
                   requant_stages=stages)
    rng = np.random.default_rng(lanes * 10 + stages)
    jobs = [make_job(rng, cfg, 7, 17, cfg.min_tile_steps + 3),
            make_job(rng, cfg, 2, 6, 2, activation="relu", z_in=-128, z_out=127)]
    run = simulate_engine(cfg, jobs, stall=0.3, seed=lanes)
    for out, (layer, x) in zip(run.outputs, jobs, strict=True):
        assert np.array_equal(out, run_layer(layer, x))


@pytest.mark.parametrize("rows,cols", [(1, 1), (1, 2), (2, 1)])
@pytest.mark.parametrize("stall", [0.0, 0.4])
def test_tiles_of_tiny_arrays_take_three_steps(rows, cols, stall):
    """These arrays allow tiles of 1 or 2 steps (``min_tile_steps``); the engine pads tiles
    to 3, since its column and row blocks move on a step after a tile's last step: K = 1
    and 2 over many column and row blocks, back to back, with and without stalls."""
    cfg = HwConfig(name="tiny", rows=rows, cols=cols, max_k=16, max_n=8)
    assert min_tile_steps(rows, cols, cfg.drain_beats) < 3 and cfg.min_tile_steps == 3
    rng = np.random.default_rng(rows * 10 + cols)
    jobs = [make_job(rng, cfg, 5, 7, 1), make_job(rng, cfg, 3, 8, 2, activation="none"),
            make_job(rng, cfg, 1, 1, 1), make_job(rng, cfg, 4, 3, 5)]
    run = simulate_engine(cfg, jobs, stall=stall, seed=rows + cols)
    for out, (layer, x) in zip(run.outputs, jobs, strict=True):
        assert np.array_equal(out, run_layer(layer, x))


@pytest.mark.slow
@pytest.mark.parametrize("name", CONFIGS)
def test_corner_classes(name):
    """Ties at both rounding steps, shift-range ends, saturation, the largest |acc|."""
    cfg = load_config(f"configs/{name}.yaml")
    jobs = regression_jobs(cfg, seed=1)
    run = simulate_engine(cfg, [(layer, x) for _, layer, x in jobs])
    for out, (job, layer, x) in zip(run.outputs, jobs, strict=True):
        assert np.array_equal(out, run_layer(layer, x)), job


@pytest.mark.parametrize("name", ["default", "row1x16", "per_tensor", "ecp5_8x8_fabric",
                                  "ecp5_8x8"])
def test_reset_in_the_middle_of_a_tile(name):
    # (ecp5_8x8_fabric: three input registers, the last zeroing the operands and reset with the
    # domain; the other lanes zeroed in their last skew registers by flags that reset to 1
    # with them; ecp5_8x8 likewise, its weights' flags without reset)
    cfg = load_config(f"configs/{name}.yaml")
    rng = np.random.default_rng(2)
    jobs = [make_job(rng, cfg, cfg.rows + 2, cfg.cols + 1, cfg.min_tile_steps + 7),
            make_job(rng, cfg, 3, 2, 5)]
    run = simulate_engine(cfg, jobs, stall=0.2, seed=4, reset_after=cfg.min_tile_steps + 2)
    for out, (layer, x) in zip(run.outputs, jobs, strict=True):
        assert np.array_equal(out, run_layer(layer, x))


def test_layers_the_config_cannot_run_are_refused():
    rng = np.random.default_rng(3)
    narrow = load_config("configs/narrow_acc.yaml")
    layer, _ = make_job(rng, load_config("configs/default.yaml"), 2, 3, 65)
    with pytest.raises(ValueError, match=r"^layer K=65 exceeds limits\.max_k=64 of config "
                                         r"'narrow_acc'$"):
        param_words(layer, 2, narrow)
    single = load_config("configs/single_rounding.yaml")
    with pytest.raises(ValueError, match=r"^layer uses rounding 'double', config "
                                         r"'single_rounding' implements 'single'$"):
        param_words(layer, 2, single)
    per_tensor = load_config("configs/per_tensor.yaml")
    layer, _ = make_job(rng, load_config("configs/default.yaml"), 2, 3, 5, activation="none")
    with pytest.raises(ValueError, match=r"^layer has per-channel multipliers; config "
                                         r"'per_tensor' requantizes per tensor$"):
        param_words(layer, 2, per_tensor)
    layer, _ = make_job(rng, per_tensor, 2, 3, 5)
    layer.act_min = 0
    with pytest.raises(ValueError, match=r"^layer clamps to \[0, 127\] \(activation none\); "
                                         r"config 'per_tensor' has requant\.clamp: false$"):
        param_words(layer, 2, per_tensor)
    layer, _ = make_job(rng, load_config("configs/default.yaml"), 2, 3, 5)
    layer.shift[:] = 3
    with pytest.raises(ValueError, match=r"^layer needs shifts 3\.\.3, outside "
                                         r"requant\.shift_range \[-20, 0\] of config "
                                         r"'short_shift'$"):
        param_words(layer, 2, HwConfig(name="short_shift", shift_min=-20, shift_max=0))
