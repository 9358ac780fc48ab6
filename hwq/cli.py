"""The ``hwq`` command line: argument parsing and messages only; the work is in the library."""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["main"]


class CliError(Exception):
    """A user mistake reported as one line, without a traceback."""


def _load_batches(path: str):
    p = Path(path)
    if p.suffix not in (".npy", ".npz"):
        raise CliError(f"DATA must be a .npy or .npz file, not {path!r}")
    if not p.is_file():
        raise CliError(f"DATA file {path!r} does not exist")
    try:
        loaded = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise CliError(f"cannot read DATA file {path!r}: {e}") from None
    if isinstance(loaded, np.ndarray):
        return [("", loaded)]
    with loaded:
        batches = [(k, loaded[k]) for k in loaded.files]
    if not batches:
        raise CliError(f"DATA file {path!r} holds no arrays")
    return batches


def _cmd_calibrate(args) -> int:
    from .quant import QuantSpec, make_observer

    spec_kwargs = dict(bits=args.bits, signed=not args.unsigned, symmetric=args.symmetric,
                       narrow_range=args.narrow_range)
    if args.per_channel is not None:
        spec_kwargs.update(granularity="channel", axis=args.per_channel)
    spec = QuantSpec(**spec_kwargs)
    obs_kwargs = {"nan_policy": args.nan_policy}
    if args.percentile is not None:
        if args.method != "percentile":
            raise CliError("--percentile only applies to --method percentile")
        obs_kwargs["percentile"] = args.percentile
    obs = make_observer(args.method, spec, **obs_kwargs)
    batches = _load_batches(args.data)
    for key, x in batches:
        try:
            obs.update(x)
        except ValueError as e:
            where = f"array {key!r} of " if key else ""
            raise ValueError(f"{where}{args.data}: {e}") from None
    lo, hi = obs.range()
    qp = obs.qparams()
    if args.plot:
        _plot(args.plot, [x for _, x in batches], lo, hi, args.method)
    if args.json:
        print(json.dumps({"method": args.method, "batches": len(batches),
                          "lo": np.ravel(lo).tolist(), "hi": np.ravel(hi).tolist(),
                          "qparams": qp.to_dict()}))
        return 0
    kind = ("signed" if spec.signed else "unsigned") + (" symmetric" if spec.symmetric
                                                         else " asymmetric")
    print(f"method {args.method}, {spec.bits}-bit {kind}, {spec.granularity} granularity, "
          f"{len(batches)} batch(es)")
    print(f"{'index':>6} {'lo':>14} {'hi':>14} {'scale':>14} {'zero_point':>10}")
    for i, (l, h, s, z) in enumerate(zip(np.ravel(lo), np.ravel(hi), qp.scale.ravel(),
                                         qp.zero_point.ravel(), strict=True)):
        print(f"{i:>6} {l:>14.7g} {h:>14.7g} {float(s):>14.7g} {int(z):>10}")
    if args.plot:
        print(f"histogram written to {args.plot}")
    return 0


def _default_config_path():
    """``configs/default.yaml`` of the current directory if there is one, else None (the
    built-in defaults, which that file spells out)."""
    p = Path("configs") / "default.yaml"
    return p if p.is_file() else None


def _cmd_build(args) -> int:
    import time

    from .build import build
    from .config import load_config

    t = time.perf_counter()
    config = load_config(args.config if args.config else _default_config_path())
    out = Path(args.output) if args.output else Path("rtl") / config.name
    written = build(config, out)
    sizes = ", ".join(f"{p.name} ({p.stat().st_size // 1024} KiB)" if p.suffix == ".v"
                      else p.name for p in written)
    print(f"{config.name}: {config.rows}x{config.cols} array, {config.accumulator_width}-bit "
          f"accumulators, {config.rounding} rounding -> {out}/: {sizes} "
          f"[{time.perf_counter() - t:.1f} s]")
    return 0


def _cmd_sim(args) -> int:
    import numpy as np

    from .config import load_config
    from .sim.regression import regression_jobs
    from .sim.runner import run_jobs, run_unit, simulator_available

    config = load_config(args.config if args.config else _default_config_path())
    reason = simulator_available(args.simulator)
    if reason:
        raise CliError(reason)
    if not 0 <= args.stall < 1:
        raise CliError(f"--stall must be in [0, 1), not {args.stall}")
    jobs = regression_jobs(config, seed=args.seed)
    print(f"{config.name}: {config.rows}x{config.cols} array on {args.simulator}, "
          f"{len(jobs)} layers back to back, stall {args.stall:.0%} on every stream")
    if args.processes is not None and args.processes < 1:
        raise CliError(f"--processes must be at least 1, not {args.processes}")
    # one simulator process per CPU unless told otherwise; waveforms come from one process
    processes = 1 if args.waves else args.processes or len(os.sched_getaffinity(0))
    res = run_jobs(config, [(layer, x) for _, layer, x in jobs], args.simulator,
                   stall=args.stall, seed=args.seed, waves=args.waves,
                   processes=min(processes, len(jobs)))
    print(f"{'job':<14} {'M':>5} {'N':>5} {'K':>5} {'MACs':>10} {'mismatches':>11}  result")
    failed = 0
    for (name, layer, x), got, want in zip(jobs, res.outputs, res.expected, strict=True):
        bad = int(np.count_nonzero(got != want))
        failed += bad > 0
        macs = x.shape[0] * layer.out_channels * layer.k
        print(f"{name:<14} {x.shape[0]:>5} {layer.out_channels:>5} {layer.k:>5} {macs:>10} "
              f"{bad:>11}  {'FAIL' if bad else 'pass'}")
    for unit in ("hwq_requant", "hwq_mac_array"):
        try:
            run_unit(config, unit, args.simulator, seed=args.seed, waves=args.waves)
            print(f"{unit:<14} {'':>5} {'':>5} {'':>5} {'':>10} {0:>11}  pass")
        except RuntimeError as e:
            failed += 1
            print(f"{unit:<14} {'':>44}FAIL: {e}")
    print(f"{res.macs} MACs and {res.words} output words checked in {res.cycles} cycles: "
          f"{res.macs / res.wall_s:.3g} MAC/s, {res.cycles / res.wall_s:.3g} cycles/s "
          f"(simulation {res.wall_s:.1f} s in {res.processes} "
          f"process{'es' if res.processes > 1 else ''}, build {res.build_s:.1f} s)")
    if args.waves:
        print(f"waveforms are in the build directories under "
              f"{os.environ.get('HWQ_SIM_DIR', 'sim_build')}/")
    print("PASS" if not failed else f"FAIL: {failed} check(s) failed")
    return 1 if failed else 0


def _print_closure(c) -> None:
    met = c["met"]
    which = f" (seed{'s' if len(met) > 1 else ''} {', '.join(map(str, met))})" if met else ""
    print(f"  clock {c['clock_mhz']:g} MHz (period {c['period_ns']:.3f} ns): met at "
          f"{len(met)} of {c['runs']} seed{'s' if c['runs'] > 1 else ''}{which}")
    if c["late"]:
        more = f", the first 10 of {len(c['late'])}" if len(c["late"]) > 10 else ""
        print(f"  registers whose paths are longer than the period (arrival and setup), by the "
              f"number of seeds they are late at{more}:")
        for g in c["late"][:10]:
            print(f"    {g['seeds']:>3}/{c['runs']:<3} {g['worst_ns']:6.2f} ns  "
                  f"{g['register']}.{g['port']}")


def _print_blocks(res) -> None:
    print("  by block (each block's own cells, from Yosys without flattening):")
    print(f"    {'block':<32} {'×':>4} {'LUTs':>7} {'FFs':>7} {'DSPs':>5} {'BRAMs':>5}")
    total = {"luts": 0, "ffs": 0, "dsps": 0, "brams": 0}
    for b in res.blocks:
        n = "" if b["instances"] == 1 else str(b["instances"])
        print(f"    {b['block']:<32} {n:>4} {b['luts']:>7} {b['ffs']:>7} {b['dsps']:>5} "
              f"{b['brams']:>5}")
        for k in total:
            total[k] += b[k]
    print(f"    {'total':<32} {'':>4} {total['luts']:>7} {total['ffs']:>7} "
          f"{total['dsps']:>5} {total['brams']:>5}")


def _cmd_synth(args) -> int:
    from .config import load_config
    from .fpga import parse_seeds, path_ns, sweep, synth, timing_closure

    config = load_config(args.config if args.config else _default_config_path())
    if args.target == "generic" and args.package:
        raise CliError("--package applies to --target ecp5 or ice40 only")
    if args.target == "generic" and args.timing_weight is not None:
        raise CliError("--timing-weight applies to --target ecp5 or ice40 only (generic "
                       "places nothing)")
    if args.seeds is not None and args.seed is not None:
        raise CliError("give --seed (one run) or --seeds (a sweep), not both")
    if args.jobs is not None and args.seeds is None:
        raise CliError("--jobs applies to a sweep (--seeds)")
    if args.seeds is not None and args.target == "generic":
        raise CliError("--seeds applies to --target ecp5 or ice40 only (generic places "
                       "nothing)")
    if args.clock is not None and args.target == "generic":
        raise CliError("--clock applies to --target ecp5 or ice40 only (generic places "
                       "nothing)")
    if args.clock is not None and not (math.isfinite(args.clock) and args.clock > 0):
        raise CliError(f"--clock must be a positive number of MHz, not {args.clock:g}")

    def progress(msg):
        print(f"hwq synth: {msg}", file=sys.stderr, flush=True)

    if args.seeds is None:
        res = synth(config, args.target, args.device, args.package, progress,
                    seed=1 if args.seed is None else args.seed,
                    timing_weight=args.timing_weight, clock_mhz=args.clock,
                    blocks=args.blocks)
        runs = [res]
    else:
        try:
            seeds = parse_seeds(args.seeds)
        except ValueError as e:
            raise CliError(f"--seeds: {e}") from None
        t0 = time.perf_counter()
        jobs = args.jobs if args.jobs is not None else min(len(seeds), os.cpu_count() or 1)
        runs = sweep(config, args.target, seeds, args.device, args.package, progress,
                     timing_weight=args.timing_weight, jobs=jobs, clock_mhz=args.clock,
                     blocks=args.blocks)
        # the best seed's figures, the first of the fastest (a placement one can keep)
        res = max(runs, key=lambda r: r.fmax_mhz or 0.0)
    fmaxes = [r.fmax_mhz for r in runs if r.fmax_mhz]
    closure = timing_closure(runs) if args.clock is not None else None
    if args.json:
        out = res.to_dict()
        if args.seeds is not None:
            out["sweep"] = [{"seed": r.seed, "fmax_mhz": r.fmax_mhz,
                             "critical_path": r.critical_path} for r in runs]
            out["fmax_median_mhz"] = round(statistics.median(fmaxes), 2) if fmaxes else None
        if closure is not None:
            out["closure"] = closure
        print(json.dumps(out))
        return 0
    fmax = f"{res.fmax_mhz:.1f} MHz" if res.fmax_mhz else "n/a (no place and route)"
    print(f"{config.name} on {res.target} {res.device}: {res.macs} MACs")
    if args.seeds is not None:
        print(f"  Fmax by placement seed (placer timing weight {res.timing_weight}):")
        for r in runs:
            top = r.slowest[0] if r.slowest else None
            at = f"  slowest: {top['register']}.{top['port']}" if top else ""
            print(f"    seed {r.seed:<4} {r.fmax_mhz or 0:7.1f} MHz{at}")
        if fmaxes:
            print(f"  median {statistics.median(fmaxes):.1f} MHz, {min(fmaxes):.1f}.."
                  f"{max(fmaxes):.1f}; the best seed, {res.seed}:")
    for name, value in (("LUTs", res.luts), ("flip-flops", res.ffs), ("DSP blocks", res.dsps),
                        ("block RAMs", res.brams)):
        alus = f"; {res.alus} of them ALU54B" if name == "DSP blocks" and res.alus else ""
        print(f"  {name:<11} {value:>8}  ({value / res.macs:.1f} per MAC{alus})")
    print(f"  Fmax        {fmax}" + (f", critical path {res.critical_path}"
                                       if res.critical_path else ""))
    if res.slowest:
        print(f"  slowest paths (ns: the latest arrival after the clock edge and the input's "
              f"setup; seed {res.seed}, placer timing weight {res.timing_weight}):")
        for g in res.slowest[:5]:
            print(f"    {path_ns(g):6.2f}  {g['register']}.{g['port']}"
                  f"  ({g['endpoints']} endpoint{'s' if g['endpoints'] > 1 else ''})")
    if res.wrapper_ffs:
        print(f"  (placed in a pin wrapper: {res.wrapper_ffs} of the flip-flops and about one "
              f"LUT per output bit are the wrapper's)")
    if closure is not None:
        _print_closure(closure)
    if res.blocks:
        _print_blocks(res)
    if args.seeds is None:
        print(f"  [{res.seconds:.0f} s]")
    else:
        print(f"  [{time.perf_counter() - t0:.0f} s: {len(runs)} seeds, {jobs} at a time]")
    return 0


def _plot(path, arrays, lo, hi, label):
    from .plot import histogram_with_ranges
    try:
        histogram_with_ranges(path, np.concatenate([np.asarray(a, np.float64).ravel()
                                                    for a in arrays]), {label: (lo, hi)})
    except RuntimeError as e:
        raise CliError(f"--plot: {e}") from None


def _cmd_demo(args) -> int:
    from .config import load_config
    from .demo import digits
    models = tuple(args.models.split(",")) if args.models else digits.MODELS
    for m in models:
        if m not in digits.MODELS:
            raise CliError(f"--models: unknown model {m!r} (choose from "
                           f"{', '.join(digits.MODELS)})")
    model_paths = {}
    for spec in args.model or []:
        name, sep, file = spec.partition("=")
        if not sep or name not in digits.MODELS:
            raise CliError(f"--model must be NAME=FILE.npz with NAME one of "
                           f"{', '.join(digits.MODELS)}, not {spec!r}")
        model_paths[name] = file
    config = load_config(args.config) if args.config else None
    if args.icarus_samples < 0:
        raise CliError(f"--icarus-samples must be >= 0, not {args.icarus_samples}")
    if args.epochs is not None and args.epochs < 1:
        raise CliError(f"--epochs must be >= 1, not {args.epochs}")
    opts = digits.Options(
        models=models, rtl=not args.no_rtl, simulator=args.simulator,
        icarus_samples=args.icarus_samples, epochs=args.epochs, seed=args.seed,
        data_path=args.data, model_paths=model_paths, save_dir=args.save_models,
        plot_dir=args.plots, config=config,
        log=lambda msg: print(f"[demo] {msg}", file=sys.stderr, flush=True))
    if args.json:  # fail on an unwritable path before the long run
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    if args.plots:
        Path(args.plots).mkdir(parents=True, exist_ok=True)
    records = digits.run(opts)
    print(digits.format_table(records))
    for line in digits.summary(records):
        print(line)
    if args.json:
        digits.write_json(records, args.json)
        print(f"records written to {args.json}")
    if args.plots:
        print(f"calibration histograms written to {args.plots}/")
    bad = sum(r.get("mismatches", 0) for r in records)
    if bad:
        print(f"hwq: error: the RTL disagrees with hwq.ref on {bad} output codes",
              file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    from . import __version__
    from .quant.observers import OBSERVERS

    p = argparse.ArgumentParser(prog="hwq", description="From a float model to verified int8 "
                                "hardware.")
    p.add_argument("--version", action="version", version=f"hwq {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("calibrate", help="choose quantization parameters for a tensor")
    c.add_argument("data", metavar="DATA", help=".npy array, or .npz whose arrays are batches")
    c.add_argument("--method", choices=list(OBSERVERS), default="minmax")
    c.add_argument("--bits", type=int, default=8)
    c.add_argument("--symmetric", action="store_true")
    c.add_argument("--unsigned", action="store_true")
    c.add_argument("--narrow-range", action="store_true")
    c.add_argument("--per-channel", type=int, metavar="AXIS")
    c.add_argument("--percentile", type=float)
    c.add_argument("--nan-policy", choices=["raise", "omit"], default="raise")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.add_argument("--plot", metavar="FILE.png", help="write a histogram with the range marked")
    c.set_defaults(func=_cmd_calibrate)

    b = sub.add_parser("build", help="generate the engine's Verilog and tool files")
    b.add_argument("config", metavar="CONFIG", nargs="?",
                   help="YAML hardware config (default: configs/default.yaml)")
    b.add_argument("-o", "--output", metavar="DIR", help="output directory (default: rtl/NAME)")
    b.set_defaults(func=_cmd_build)

    v = sub.add_parser("sim", help="run the RTL regression of a config in cocotb")
    v.add_argument("config", metavar="CONFIG", nargs="?",
                   help="YAML hardware config (default: configs/default.yaml)")
    v.add_argument("--simulator", choices=["verilator", "icarus"], default="verilator")
    v.add_argument("--waves", action="store_true", help="write FST/VCD into the build dir")
    v.add_argument("--stall", type=float, default=0.25,
                   help="probability of a stall cycle on every stream (default 0.25)")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--processes", type=int, metavar="N",
                   help="simulator processes run at once on parts of the regression "
                        "(default: one per CPU; 1 with --waves)")
    v.set_defaults(func=_cmd_sim)

    y = sub.add_parser("synth", help="resources and Fmax from Yosys + nextpnr")
    y.add_argument("config", metavar="CONFIG", nargs="?",
                   help="YAML hardware config (default: configs/default.yaml)")
    y.add_argument("--target", choices=["ecp5", "ice40", "generic"], default="ecp5")
    y.add_argument("--device", help="ECP5: LFE5U-85F (default), LFE5U-45F, ...; "
                   "iCE40: UP5K (default), HX8K, HX1K, LP8K")
    y.add_argument("--package", help="package (default: ECP5 CABGA381, iCE40 UP5K sg48)")
    y.add_argument("--seed", type=int, default=None,
                   help="nextpnr's placement seed (default 1; Fmax moves by several per cent "
                   "with it)")
    y.add_argument("--seeds", metavar="SEEDS",
                   help="a seed sweep: synthesise once, place and route at each seed (e.g. "
                   "1-8 or 1,3,5); reports each seed's Fmax, the median, and the best seed's "
                   "figures")
    y.add_argument("--jobs", type=int, default=None,
                   help="nextpnr runs at a time in a sweep (default: one per CPU)")
    y.add_argument("--timing-weight", type=int, default=None,
                   help="nextpnr's placer timing weight (--placer-heap-timingweight; default "
                   "10, nextpnr's own)")
    y.add_argument("--clock", type=float, default=None, metavar="MHZ",
                   help="a target clock: reports the seeds that meet it and the registers "
                   "the data reach later than its period, by how many seeds they are late at")
    y.add_argument("--blocks", action="store_true",
                   help="the resources by block too (a second Yosys run, without "
                   "flattening, beside the first)")
    y.add_argument("--json", action="store_true", help="print one JSON object")
    y.set_defaults(func=_cmd_synth)

    d = sub.add_parser("demo", help="end-to-end demos on real data")
    d.add_argument("name", choices=["digits"], help="digits: scikit-learn's handwritten digits")
    d.add_argument("--config", metavar="CONFIG", help="YAML hardware config for lowering and "
                   "RTL (default: configs/default.yaml)")
    d.add_argument("--models", metavar="LIST", help="comma-separated: mlp,cnn (default both)")
    d.add_argument("--model", action="append", metavar="NAME=FILE.npz",
                   help="use a saved float model instead of training one")
    d.add_argument("--data", metavar="FILE.npz",
                   help="images [N,8,8] (0..16) and labels instead of scikit-learn's digits")
    d.add_argument("--epochs", type=int, help="float/DoReFa training epochs")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--no-rtl", action="store_true", help="skip the RTL runs")
    d.add_argument("--simulator", choices=["verilator", "icarus"], default="verilator",
                   help="simulator for the whole test set (default verilator)")
    d.add_argument("--icarus-samples", type=int, default=60, metavar="N",
                   help="test images also run on Icarus for two rows per model (0: none)")
    d.add_argument("--json", metavar="FILE", help="write the records as a JSON list")
    d.add_argument("--plots", metavar="DIR", help="write calibration histograms (PNG)")
    d.add_argument("--save-models", metavar="DIR", help="write the float models (.npz)")
    d.set_defaults(func=_cmd_demo)
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (CliError, ValueError, TypeError, OSError, RuntimeError) as e:
        print(f"hwq: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
