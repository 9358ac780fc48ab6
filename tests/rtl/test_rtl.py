"""The generated Verilog against hwq.ref, through cocotb on Verilator and Icarus.

In CI (CI=true) a missing simulator is a failure; a local run skips with the reason."""

from pathlib import Path

import numpy as np
import pytest
from simulators import require

from hwq.config import load_config
from hwq.lower import lower_conv2d
from hwq.quant import QuantSpec, qparams_from_range
from hwq.ref import run_layer as ref_run_layer
from hwq.sim.regression import random_job, regression_jobs
from hwq.sim.runner import SIMULATORS, _split, run_jobs, run_layer

CONFIGS = sorted(p.stem for p in Path("configs").glob("*.yaml"))


@pytest.mark.slow
@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize("name", CONFIGS)
def test_engine_regression(simulator, name):
    require(simulator)
    cfg = load_config(f"configs/{name}.yaml")
    jobs = regression_jobs(cfg, seed=11)
    res = run_jobs(cfg, [(layer, x) for _, layer, x in jobs], simulator, stall=0.25, seed=5)
    bad = [job for (job, _, _), got, want in zip(jobs, res.outputs, res.expected, strict=True)
           if not np.array_equal(got, want)]
    assert res.mismatches == 0, f"RTL differs from hwq.ref in jobs {bad}"
    assert res.words == sum(-(-layer.out_channels // cfg.cols) * x.shape[0]
                            for _, layer, x in jobs)


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_run_layer_linear_and_conv(simulator):
    require(simulator)
    cfg = load_config("configs/nonsquare.yaml")
    rng = np.random.default_rng(3)
    layer, x = random_job(rng, cfg, 7, 10, 19)
    x3 = x.reshape(7, 1, 19)                       # leading axes are kept
    assert np.array_equal(run_layer(layer, x3, cfg, simulator), ref_run_layer(layer, x3))
    i8 = QuantSpec()
    conv = lower_conv2d(rng.standard_normal((5, 3, 3, 2)), rng.standard_normal(5),
                        qparams_from_range(-1, 1, i8), qparams_from_range(-3, 3, i8), stride=2,
                        padding="same", activation="relu", rounding=cfg.rounding)
    xc = qparams_from_range(-1, 1, i8).quantize(rng.uniform(-1, 1, (2, 7, 6, 2)))
    got = run_layer(conv, xc, cfg, simulator, stall=0.3, seed=2)
    assert got.shape == (2, 4, 3, 5)
    assert np.array_equal(got, ref_run_layer(conv, xc))


def test_run_layer_refuses_what_the_config_cannot_run():
    cfg = load_config("configs/narrow_acc.yaml")
    layer, x = random_job(np.random.default_rng(0), load_config("configs/default.yaml"), 2, 3,
                          70)
    with pytest.raises(ValueError, match=r"^job 0: layer K=70 exceeds limits\.max_k=64"):
        run_jobs(cfg, [(layer, x)])


def test_scoreboard_catches_a_rounding_difference(monkeypatch):
    """The tie stimulus reaches the hardware: checked against the other double-rounding mode,
    the nonsquare engine (double_half_up) must disagree, on negative ties only."""
    require("icarus")
    import dataclasses

    import hwq.sim.runner as runner

    cfg = load_config("configs/nonsquare.yaml")
    jobs = [(layer, x) for name, layer, x in regression_jobs(cfg) if name.startswith("ties")]

    def other_rounding(layer, x):
        return ref_run_layer(dataclasses.replace(layer, rounding="double"), x)

    monkeypatch.setattr(runner, "ref_run_layer", other_rounding)
    res = run_jobs(cfg, jobs, "icarus")
    assert res.mismatches > 0
    got, want = res.outputs[0], res.expected[0]
    assert np.all(got[got != want] == want[got != want] + 1)   # half up vs half away


def test_split_cuts_whole_row_blocks_and_covers_every_row():
    rng = np.random.default_rng(9)
    cfg = load_config("configs/nonsquare.yaml")
    jobs = [random_job(rng, cfg, m, n, k) for m, n, k in
            [(37, 10, 5), (5, 3, 100), (100, 8, 8), (1, 1, 1)]]
    macs = [len(x) * layer.out_channels * layer.k for layer, x in jobs]
    for processes in (1, 2, 3, 5, 40):
        parts = _split(jobs, processes, cfg.rows)
        assert 1 <= len(parts) <= processes
        rows = {j: [] for j in range(len(jobs))}
        order = []
        for part in parts:
            for j, r0, r1 in part:
                assert r0 < r1 and r0 % cfg.rows == 0
                assert r1 % cfg.rows == 0 or r1 == len(jobs[j][1])
                rows[j].append((r0, r1))
                order.append((j, r0))
        assert order == sorted(order)                     # jobs and rows stay in order
        for j, (_, x) in enumerate(jobs):                 # every row exactly once
            assert [r for seg in rows[j] for r in range(*seg)] == list(range(len(x)))
        if processes == 2:
            # about equal work: no part above half the MACs by more than one row block of
            # the widest job
            work = [sum((r1 - r0) * jobs[j][0].out_channels * jobs[j][0].k
                        for j, r0, r1 in part) for part in parts]
            assert sum(work) == sum(macs)
            assert max(work) - sum(macs) / 2 <= cfg.rows * max(
                layer.out_channels * layer.k for layer, _ in jobs)


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_jobs_in_parallel_processes(simulator):
    """Three simulator processes on parts of a regression: outputs put back per job, every
    word checked, each part with its own stall sequence."""
    require(simulator)
    cfg = load_config("configs/nonsquare.yaml")
    rng = np.random.default_rng(4)
    jobs = [random_job(rng, cfg, m, n, k) for m, n, k in [(20, 7, 9), (2, 5, 1), (9, 12, 4)]]
    res = run_jobs(cfg, jobs, simulator, stall=0.2, seed=3, processes=3)
    assert res.processes == 3
    assert res.mismatches == 0
    # the three simulators' own CPU time: some, and no more than three processes could use
    # in the wall time (each is single-threaded; 0.1 s for the clock's granularity)
    assert 0 < res.cpu_s <= 3 * res.wall_s + 0.1
    for (layer, x), got in zip(jobs, res.outputs, strict=True):
        assert np.array_equal(got, ref_run_layer(layer, x))
    assert res.words == sum(-(-layer.out_channels // cfg.cols) * len(x) for layer, x in jobs)
    with pytest.raises(ValueError, match=r"^processes must be a positive integer, not 0$"):
        run_jobs(cfg, jobs, simulator, processes=0)
    with pytest.raises(ValueError, match=r"^waves are written by one simulator process"):
        run_jobs(cfg, jobs, simulator, processes=2, waves=True)
    with pytest.raises(ValueError, match=r"^jobs must hold at least one layer with input rows$"):
        run_jobs(cfg, [], simulator)


def test_waves_show_the_clock(tmp_path, monkeypatch):
    # without waves the memory model's clock rises and falls in one time step; a dump must
    # show it high for 5 ns of every 10 (Verilator writes VCD, which is text)
    require("verilator")
    monkeypatch.setenv("HWQ_SIM_DIR", str(tmp_path))
    cfg = load_config("configs/nonsquare.yaml")
    layer, x = random_job(np.random.default_rng(1), cfg, 5, 3, 2)
    assert run_jobs(cfg, [(layer, x)], "verilator", waves=True).passed
    (vcd,) = tmp_path.rglob("dump.vcd")
    lines = vcd.read_text().splitlines()
    code = next(line.split()[3] for line in lines if line.split()[4:5] == ["clk"])
    changes, now = [], None
    for line in lines:
        if line.startswith("#"):
            now = int(line[1:])
        elif line in (f"0{code}", f"1{code}"):
            changes.append((now, int(line[0])))
    # (timescale 1 ps) rises at 5 ns, falls at 10 ns, and so on
    assert changes[:5] == [(0, 0), (5000, 1), (10000, 0), (15000, 1), (20000, 0)]
    assert len(changes) > 20
