"""Unit-level cocotb benches (requantizer, MAC array) and the `hwq sim` command."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from simulators import require

from hwq.config import load_config
from hwq.sim.runner import SIMULATORS, run_unit, simulator_available

UNIT_CONFIGS = ["default", "single_rounding", "per_tensor", "nonsquare"]


@pytest.mark.slow
@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize("name", UNIT_CONFIGS)
@pytest.mark.parametrize("unit", ["hwq_requant", "hwq_mac_array"])
def test_unit_benches(simulator, name, unit):
    require(simulator)
    run_unit(load_config(f"configs/{name}.yaml"), unit, simulator, seed=3)


def test_hwq_sim_command(tmp_path):
    require("icarus")
    r = subprocess.run([sys.executable, "-m", "hwq.cli", "sim", "configs/narrow_acc.yaml",
                        "--simulator", "icarus", "--waves"], capture_output=True, text=True,
                       env={**os.environ, "HWQ_SIM_DIR": str(tmp_path)})
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[-1] == "PASS"
    assert sum(line.endswith("pass") for line in lines) == 9 + 2   # 9 layers, 2 units
    assert any(Path(tmp_path).rglob("*.vcd")) or any(Path(tmp_path).rglob("*.fst"))


def test_hwq_sim_bad_input(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("requant: {rounding: nearest}\n")
    r = subprocess.run([sys.executable, "-m", "hwq.cli", "sim", str(bad)], capture_output=True,
                       text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip() == (f"hwq: error: {bad}: requant.rounding must be one of double, "
                                "single, double_half_up, not 'nearest'")
    assert simulator_available("modelsim") == \
        "simulator must be one of verilator, icarus, not 'modelsim'"
