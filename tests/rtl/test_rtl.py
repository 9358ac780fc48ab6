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
from hwq.sim.runner import SIMULATORS, run_jobs, run_layer

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
