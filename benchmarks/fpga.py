"""FPGA quality of results: ``hwq synth`` (Yosys + nextpnr through yowasp) per config, one
table row each, against issue 6's targets for the 8×8 engine on LFE5U-85F: Fmax ≥ 200 MHz,
one MULT18X18D per array MAC, ≤ 40 LUT4 per MAC for the whole engine.

``LUT/MAC`` divides every LUT of the engine (array, requantizer, parameter memory, control,
FIFO) by rows·cols. ``DSP`` counts MULT18X18D and ALU54B on ECP5 or SB_MAC16 on iCE40 (the
array's, plus 4 per requantizer lane for the 32×31 multiply); ``ALU`` the ALU54B alone
(``array.accumulator: dsp``), and ``MUL-4L`` the multipliers left for the array.

Run: python benchmarks/fpga.py [CONFIG.yaml ...] [--target ecp5|ice40|generic]
[--seeds 1-4] [--jobs N] [--timing-weight N] (default: configs/default.yaml,
configs/ecp5_8x8_fabric.yaml and configs/ecp5_8x8.yaml on ecp5, seed 1, nextpnr's placer timing
weight from hwq.fpga.TIMING_WEIGHTS; each ECP5 run places and routes out of context and takes
a minute or more; with several seeds, Yosys runs once per config and nextpnr ``--jobs`` seeds
at a time, one per CPU by default: hwq.fpga.sweep).

nextpnr's Fmax moves by several per cent with the placement seed (and with any change to the
netlist, which perturbs placement as a new seed would): with several seeds the table has a row
per seed and a line with the median and the range, and the registers the data reach last
(hwq.fpga.slowest_registers) are listed for the slowest seed — the paths to work on next.
"""

import argparse
import os
import statistics
import sys
from pathlib import Path

from hwq.config import load_config
from hwq.fpga import parse_seeds, path_ns, sweep, synth

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("configs", nargs="*", type=Path,
                   default=[ROOT / "configs/default.yaml", ROOT / "configs/ecp5_8x8_fabric.yaml",
                            ROOT / "configs/ecp5_8x8.yaml"])
    p.add_argument("--target", choices=["ecp5", "ice40", "generic"], default="ecp5")
    p.add_argument("--device")
    p.add_argument("--seeds", default="1",
                   help="nextpnr placement seeds, e.g. 1-8 or 1,3,5 (default 1)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="nextpnr runs at a time with several seeds (default: one per CPU)")
    p.add_argument("--timing-weight", type=int, default=None,
                   help="nextpnr's placer timing weight (default: hwq.fpga.TIMING_WEIGHTS)")
    args = p.parse_args(argv)
    if args.timing_weight is not None and args.timing_weight < 1:
        p.error(f"--timing-weight must be a positive integer, not {args.timing_weight}")
    if args.jobs < 1:
        p.error(f"--jobs must be a positive integer, not {args.jobs}")
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError as e:
        p.error(f"--seeds: {e}")
    if len(set(seeds)) < len(seeds):
        p.error(f"--seeds: a seed is named twice in {args.seeds!r}")
    # each config's rows are printed when its runs end (a run takes minutes; a later failure
    # keeps them)
    print(f"{'config':<14} {'array':>6} {'lanes':>5} {'stages':>6} {'device':<12} {'LUT':>7} "
          f"{'LUT/MAC':>8} {'FF':>7} {'DSP':>4} {'ALU':>4} {'MUL-4L':>6} {'BRAM':>4} "
          f"{'Fmax MHz':>9} "
          f"{'s':>5}  critical path", flush=True)
    for path in args.configs:
        cfg = load_config(path)
        print(f"[fpga] {cfg.name} ({cfg.rows}×{cfg.cols}) on {args.target} ...", file=sys.stderr,
              flush=True)

        def progress(msg):
            print(f"  {msg}", file=sys.stderr, flush=True)

        if len(seeds) > 1 and args.target != "generic":
            runs = sweep(cfg, args.target, seeds, device=args.device,
                         timing_weight=args.timing_weight, jobs=args.jobs, progress=progress)
        else:
            runs = [synth(cfg, args.target, device=args.device, seed=seed,
                          timing_weight=args.timing_weight, progress=progress)
                    for seed in seeds]
        for r in runs:
            macs = cfg.rows * cfg.cols
            fmax = f"{r.fmax_mhz:.1f}" if r.fmax_mhz else "-"
            name = cfg.name if len(seeds) == 1 else f"{cfg.name} s{r.seed}"
            print(f"{name:<14} {f'{cfg.rows}×{cfg.cols}':>6} {cfg.requant_lanes:>5} "
                  f"{cfg.requant_stages:>6} {r.device:<12} {r.luts:>7} {r.luts / macs:>8.1f} "
                  f"{r.ffs:>7} {r.dsps:>4} {r.alus:>4} "
                  f"{r.dsps - r.alus - 4 * cfg.requant_lanes:>6} {r.brams:>4} "
                  f"{fmax:>9} {r.seconds:>5.0f}  {r.critical_path}", flush=True)
        placed = [r for r in runs if r.fmax_mhz]
        if len(placed) > 1:
            f = [r.fmax_mhz for r in placed]
            print(f"{'':<14} Fmax over seeds {args.seeds} (placer timing weight "
                  f"{placed[0].timing_weight}): median {statistics.median(f):.1f} "
                  f"MHz, {min(f):.1f}..{max(f):.1f}", flush=True)
        if placed:
            worst = min(placed, key=lambda r: r.fmax_mhz)
            print(f"{'':<14} slowest paths, seed {worst.seed} (ns: the latest arrival after "
                  f"the clock edge and the input's setup):", flush=True)
            for g in worst.slowest[:6]:
                print(f"{'':<16}{path_ns(g):6.2f}  {g['register']}.{g['port']} "
                      f"({g['endpoints']})", flush=True)
    print("\nlanes: requantizer lanes (requant.lanes). MUL-4L: multipliers left for the array "
          "after 4 per requantizer lane (the target is one per MAC).")


if __name__ == "__main__":
    main()
