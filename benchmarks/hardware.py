"""Hardware benchmark: build time per config, and cycles and MAC utilisation in simulation.

Utilisation columns (``useful = M·N·K`` MACs, ``macs = rows·cols``):

* ``steady``: useful / (macs · cycles from the first operand accepted to the last) — what the
  array achieves while it streams; edge tiles of M, N not multiple of the array waste lanes.
* ``busy``: operand steps / those cycles — the fraction of clocks the array takes a step with
  data (1.0 means no bubble between tiles).
* ``overall``: useful / (macs · all cycles), including the parameter load and the final drain.

Run: python benchmarks/hardware.py [--quick]
"""

import sys
import time
from pathlib import Path

import numpy as np

from hwq.build import generate
from hwq.config import load_config
from hwq.lower import make_linear
from hwq.quant import QParams, QuantSpec
from hwq.ref import run_layer
from hwq.sim.amaranth_bench import simulate_engine

ROOT = Path(__file__).resolve().parent.parent


def layer_for(cfg, m, n, k, rng):
    w = rng.integers(-127, 128, (n, k), dtype=np.int8)
    x = rng.integers(-128, 128, (m, k), dtype=np.int8)
    wq = QParams(rng.uniform(1e-3, 1e-2, n), 0,
                 QuantSpec(symmetric=True, granularity="channel", axis=0))
    if not cfg.per_channel:
        wq = QParams(5e-3, 0, QuantSpec(symmetric=True))
    layer = make_linear(w, None, QParams(0.02, 0, QuantSpec()), wq,
                        QParams(0.02 * 5e-3 * 40 * np.sqrt(k), 0, QuantSpec()),
                        rounding=cfg.rounding, shift_range=cfg.shift_range)
    return layer, x


def main():
    quick = "--quick" in sys.argv
    configs = sorted((ROOT / "configs").glob("*.yaml"))
    print("Build (hwq build, Amaranth → Verilog)")
    print(f"{'config':<16} {'array':>6} {'MACs':>5} {'build s':>8} {'Verilog KiB':>12}")
    for p in configs:
        cfg = load_config(p)
        t = time.perf_counter()
        files = generate(cfg)
        dt = time.perf_counter() - t
        print(f"{cfg.name:<16} {cfg.rows}x{cfg.cols:<4} {cfg.macs:>5} {dt:>8.2f} "
              f"{len(files['hwq_top.v']) / 1024:>12.0f}")

    print("\nGEMM in simulation (Amaranth, no stalls); results checked against hwq.ref")
    print(f"{'config':<12} {'M':>4} {'N':>4} {'K':>5} {'cycles':>7} {'steady':>7} "
          f"{'busy':>6} {'overall':>8} {'sim s':>6}")
    rng = np.random.default_rng(0)
    for name in ("default", "nonsquare"):
        cfg = load_config(ROOT / "configs" / f"{name}.yaml")
        R, C = cfg.rows, cfg.cols
        for k in (64, 256) if quick else (64, 256, 1024):
            if k > cfg.max_k:
                print(f"{name:<12} K={k} skipped: limits.max_k={cfg.max_k}")
                continue
            for m, n in ((2 * R, 2 * C), (2 * R + 3, 2 * C - 3)):
                layer, x = layer_for(cfg, m, n, k, rng)
                t = time.perf_counter()
                run = simulate_engine(cfg, [(layer, x)])
                dt = time.perf_counter() - t
                assert np.array_equal(run.outputs[0], run_layer(layer, x))
                useful = m * n * k
                steady = useful / (cfg.macs * run.streaming_cycles)
                busy = run.operand_steps / run.streaming_cycles
                overall = useful / (cfg.macs * run.cycles)
                print(f"{name:<12} {m:>4} {n:>4} {k:>5} {run.cycles:>7} {steady:>7.2%} "
                      f"{busy:>6.1%} {overall:>8.2%} {dt:>6.1f}")


if __name__ == "__main__":
    main()
