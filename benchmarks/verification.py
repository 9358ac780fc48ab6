"""RTL verification throughput: MACs checked per second on Verilator and Icarus.

Each run sends one large GEMM through hwq_top inside the memory-model testbench hwq_tb (no
Python round trip per word, no top-level inputs, only the three signals cocotb reads public on
Verilator), then scoreboards every output against hwq.ref. ``MAC/s`` counts useful MACs
(M·N·K) per second of simulation wall time, cocotb start-up included; the build is timed
separately. ``proc`` is the number of simulator processes run at once on parts of the GEMM
(``run_jobs(..., processes=N)``); ``cycles/s`` sums their clock cycles. ``MAC/CPU-s`` divides
by the simulator processes' CPU time instead: the work one core-second does, so with several
processes it shows what splitting costs (each process pays its own start-up).
Run: python benchmarks/verification.py [--quick]
"""

import os
import sys
from pathlib import Path

import numpy as np

from hwq.config import HwConfig, load_config
from hwq.sim.regression import random_job
from hwq.sim.runner import run_jobs, simulator_available

ROOT = Path(__file__).resolve().parent.parent

# (M, N, K) per array and simulator: large enough that start-up (~0.3 s per process) does not
# dominate, and unchanged since the first measurements so that the figures compare.
SIZES = {(8, "verilator"): (512, 256, 1024), (8, "icarus"): (64, 64, 256),
         (16, "verilator"): (512, 256, 1024), (16, "icarus"): (64, 64, 256)}


def main():
    quick = "--quick" in sys.argv
    cpus = len(os.sched_getaffinity(0))
    configs = [load_config(ROOT / "configs" / "default.yaml"),
               HwConfig(name="bench16x16", rows=16, cols=16, max_k=1024, max_n=256)]
    print(f"{cpus} CPUs")
    print(f"{'array':<7} {'simulator':<10} {'proc':>4} {'M':>4} {'N':>4} {'K':>5} {'MACs':>10} "
          f"{'cycles':>8} {'build s':>8} {'sim s':>6} {'MAC/s':>10} {'cycles/s':>10} "
          f"{'MAC/CPU-s':>10} {'ok':>3}")
    for cfg in configs:
        for sim in ("verilator", "icarus"):
            m, n, k = SIZES[cfg.rows, sim]
            if simulator_available(sim):
                print(f"{cfg.rows}x{cfg.cols:<5} {sim:<10} skipped: {simulator_available(sim)}")
                continue
            if quick:
                m, n, k = m // 4, n // 4, k // 4
            layer, x = random_job(np.random.default_rng(0), cfg, m, n, k, activation="relu")
            for processes in sorted({1, cpus}):
                res = run_jobs(cfg, [(layer, x)], sim, processes=processes)
                print(f"{cfg.rows}x{cfg.cols:<5} {sim:<10} {res.processes:>4} {m:>4} {n:>4} "
                      f"{k:>5} {res.macs:>10} {res.cycles:>8} {res.build_s:>8.1f} "
                      f"{res.wall_s:>6.1f} {res.macs / res.wall_s:>10.3g} "
                      f"{res.cycles / res.wall_s:>10.3g} {res.macs / res.cpu_s:>10.3g} "
                      f"{'yes' if res.passed else 'NO':>3}",
                      flush=True)


if __name__ == "__main__":
    main()
