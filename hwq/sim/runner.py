"""Running integer programs on the generated RTL with cocotb (Verilator or Icarus).

:func:`run_jobs` sends a list of GEMM jobs back to back through ``hwq_top`` inside the memory
model ``hwq_tb`` and scoreboards every output word against :mod:`hwq.ref`;
:func:`run_layer` is the one-layer convenience (conv2d goes through the same im2col lowering
as the reference). One build directory per (config, simulator, memory depth) is kept under
``HWQ_SIM_DIR`` (default ``./sim_build``) and reused while the Verilog is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import resource
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..build import TOP, UNITS, unit_verilog
from ..config import HwConfig
from ..hw.dsp import sim_models
from ..lower import IntLayer
from ..ref import im2col
from ..ref import run_layer as ref_run_layer
from .streams import collect_outputs, operand_blocks, output_word_count, param_words
from .tools import verilator_env

__all__ = ["SIMULATORS", "SimResult", "run_jobs", "run_layer", "run_unit",
           "simulator_available", "default_config"]

SIMULATORS = ("verilator", "icarus")
_HDL = Path(__file__).parent / "hdl" / "hwq_tb.v"
_DEPTHS = (1 << 12, 1 << 15, 1 << 18, 1 << 21)


@dataclass
class SimResult:
    """What a regression on the RTL produced and how it compared with ``hwq.ref``."""

    outputs: list = field(default_factory=list)      # int8 [M, N] per job, from the RTL
    expected: list = field(default_factory=list)     # the same from hwq.ref
    mismatches: int = 0                              # output elements that differ
    words: int = 0                                   # output words checked
    macs: int = 0                                    # useful MACs checked (Σ M·N·K)
    cycles: int = 0                                  # clock cycles (summed over processes)
    wall_s: float = 0.0                              # simulation wall time (no build)
    cpu_s: float = 0.0                               # CPU time of the simulator processes
    build_s: float = 0.0
    processes: int = 1                               # simulator processes run at once

    @property
    def passed(self) -> bool:
        return self.mismatches == 0


def simulator_available(simulator: str) -> str | None:
    """None if ``simulator`` can run here, else the reason it cannot."""
    if simulator == "icarus":
        return None if shutil.which("iverilog") else "Icarus Verilog not found: " \
            "apt-get install -y iverilog"
    if simulator == "verilator":
        try:
            env = verilator_env()
        except RuntimeError as e:
            return str(e)
        return None if shutil.which("verilator", path=env["PATH"]) else "Verilator not found"
    return f"simulator must be one of {', '.join(SIMULATORS)}, not {simulator!r}"


def default_config() -> HwConfig:
    p = Path("configs") / "default.yaml"
    if p.is_file():
        from ..config import load_config
        return load_config(p)
    return HwConfig()


def _prepare(config: HwConfig, simulator: str, top: str, sources: dict, parameters: dict,
             tag: str, waves: bool, visible=None):
    """Build (or reuse) a simulation of Verilog ``sources`` (name -> text) with top ``top``.

    ``visible``: on Verilator, the only signals of ``top`` cocotb may read (None: every signal
    of the design, cocotb's default ``--public-flat-rw``, which a bench driving ports needs).
    Public signals cannot be optimised away, so a free-running bench names just what it reads:
    on the 8×8 engine that alone made the simulation about 1.8× faster."""
    from cocotb_tools.runner import get_runner

    if simulator == "verilator":
        # --timing: hwq_tb makes its own clock with a delay (`always #5 clk = ~clk`)
        build_args = ["-Wno-fatal", "-Wno-lint", "-Wno-style", "-O3", "--timing"]
        if visible is not None:
            build_args.append("--no-public-flat-rw")
            # a control file (first: cocotb takes the language from the last source)
            sources = {f"{top}_public.vlt": "`verilator_config\n" + "".join(
                f'public_flat_rd -module "{top}" -var "{name}"\n' for name in visible),
                **sources}
    else:
        # (cocotb's Icarus runner passes -g2012. hwq's Verilog has no `always @*` blocks, whose
        # wake-up at time 0 would need Verilog-2005 rules for Yosys' `reg t = 0` initializers.)
        build_args = []
    # the key covers everything the build depends on, so a cached build is never stale
    key = hashlib.sha256("\0".join([*sources.values(), *build_args, repr(parameters)])
                         .encode()).hexdigest()[:12]
    base = Path(os.environ.get("HWQ_SIM_DIR", "sim_build")).resolve()
    build_dir = base / f"{config.name}-{top}-{simulator}-{tag}-{key}{'-waves' if waves else ''}"
    src = build_dir / "src"
    src.mkdir(parents=True, exist_ok=True)
    for name, text in sources.items():
        if not (src / name).is_file() or (src / name).read_text() != text:
            (src / name).write_text(text)       # untouched files keep their timestamps
    if simulator == "verilator":
        os.environ.update(verilator_env())
    runner = get_runner(simulator)
    # the key above makes a reused build current by construction: cocotb's "Skipping
    # compilation" warning for it (Icarus) is not news
    runner.log.addFilter(lambda record: not record.getMessage().startswith("Skipping compil"))
    t = time.perf_counter()
    try:
        runner.build(
            sources=[src / name for name in sources], hdl_toplevel=top, parameters=parameters,
            build_dir=build_dir, build_args=build_args, timescale=("1ns", "1ps"),
            waves=waves and simulator == "verilator", log_file=build_dir / "build.log")
    except RuntimeError:
        raise RuntimeError(f"the {simulator} build of {top} failed; see "
                           f"{build_dir / 'build.log'}") from None
    return runner, build_dir, time.perf_counter() - t


def _bench_env(run_dir: Path) -> dict:
    """Environment of a simulator process: the job file, and no pytest assertion rewriting
    (cocotb installs pytest's import hook before it imports the bench by default; the benches'
    asserts carry their own messages, and skipping it takes ~0.13 s off every process's
    start-up, a tenth of a 16×16 Verilator run split in two)."""
    return {"HWQ_TB_JOB": str(run_dir / "job.json"), "COCOTB_REWRITE_ASSERTION_FILES": ""}


def _check_passed(xml, simulator, where):
    from cocotb_tools.check_results import get_results
    n_tests, n_failed = get_results(xml)
    if n_tests < 1 or n_failed:
        raise RuntimeError(f"the cocotb testbench failed on {simulator}; see {where}/sim.log")


def run_unit(config: HwConfig, unit: str, simulator: str = "verilator", *, seed: int = 0,
             stall: float = 0.2, steps: int = 300, tiles: int = 8, waves: bool = False) -> float:
    """Run the cocotb bench of a unit (``hwq_requant`` or ``hwq_mac_array``) on its own
    Verilog; raises ``RuntimeError`` on any mismatch with ``hwq.ref``. Returns wall seconds.
    ``waves`` traces on Verilator only (cocotb's Icarus dump module needs SystemVerilog, which
    these builds do not enable)."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    reason = simulator_available(simulator)
    if reason:
        raise RuntimeError(reason)
    runner, build_dir, _ = _prepare(config, simulator, unit,
                                    {f"{unit}.v": unit_verilog(config, unit),
                                     **sim_models(config.target)}, {}, "unit", waves)
    run_dir = build_dir / f"run-{os.getpid()}-{time.monotonic_ns()}"
    run_dir.mkdir()
    rng = np.random.default_rng(seed)
    z = int(rng.integers(-128, 128))
    job = {"config": config.flat(), "seed": seed, "stall": stall, "steps": steps,
           "tiles": tiles, "zero_point": z, "act_min": max(-128, z - 90),
           "act_max": min(127, z + 100)}
    (run_dir / "job.json").write_text(json.dumps(job))
    testcase = {"hwq_requant": "requant_matches_golden_model",
                "hwq_mac_array": "mac_array_matches_golden_model"}[unit]
    t = time.perf_counter()
    xml = runner.test(test_module="hwq.sim.benches.tb_units", testcase=testcase,
                      hdl_toplevel=unit, build_dir=build_dir, test_dir=run_dir,
                      extra_env=_bench_env(run_dir),
                      waves=waves and simulator == "verilator", timescale=("1ns", "1ps"),
                      log_file=run_dir / "sim.log")
    _check_passed(xml, simulator, run_dir)
    if not waves:
        shutil.rmtree(run_dir, ignore_errors=True)
    return time.perf_counter() - t


def _split(jobs, processes: int, rows: int) -> list[list[tuple[int, int, int]]]:
    """Cut ``jobs`` (``(layer, x_rows)``) into at most ``processes`` parts of about equal MACs,
    in order; a part is a list of ``(job, first row, end row)``. A job is cut only at a
    multiple of ``rows`` (a row block of the array), so no part adds a partial tile."""
    per_row = [layer.out_channels * layer.k for layer, _ in jobs]
    total = sum(len(x) * c for (_, x), c in zip(jobs, per_row, strict=True))
    parts, done = [[]], 0
    for j, ((_, x), c) in enumerate(zip(jobs, per_row, strict=True)):
        m, r0 = len(x), 0
        while r0 < m:
            if len(parts) == processes:          # the last part takes the rest
                r1 = m
            else:                                # whole row blocks up to this part's share
                need = max(0.0, total * len(parts) / processes - done)
                r1 = min(m, r0 + max(rows, math.ceil(need / c / rows) * rows))
            parts[-1].append((j, r0, r1))
            done += (r1 - r0) * c
            r0 = r1
            if len(parts) < processes and done >= total * len(parts) / processes:
                parts.append([])
    return [part for part in parts if part]


def run_jobs(config: HwConfig, jobs, simulator: str = "verilator", *, stall: float = 0.0,
             seed: int = 0, waves: bool = False, max_cycles: int | None = None,
             processes: int = 1) -> SimResult:
    """Run GEMM ``jobs`` back to back on the RTL, with random backpressure ``stall`` (0..1) on
    every stream, and compare every output with ``hwq.ref``.

    Each job is ``(layer, x_rows)``: an ``IntLayer`` and its GEMM rows ``x_rows [M, K]`` int8
    (for a conv2d layer, the im2col rows; :func:`run_layer` makes them).

    ``processes > 1`` cuts the jobs into that many parts of about equal work (a job only at a
    multiple of the array's rows) and simulates the parts at once, one simulator process each
    (they share one build); outputs are put back together per job. ``cycles`` is then the sum
    over the parts. Waveforms need one process."""
    reason = simulator_available(simulator)
    if reason:
        raise RuntimeError(reason)
    if not 0 <= stall < 1:
        raise ValueError(f"stall must be in [0, 1), not {stall!r}")
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ValueError(f"processes must be a positive integer, not {processes!r}")
    if waves and processes > 1:
        raise ValueError("waves are written by one simulator process: use processes=1")
    if not jobs or not any(len(x) for _, x in jobs):
        raise ValueError("jobs must hold at least one layer with input rows")
    checked, expected, macs = [], [], 0
    for i, (layer, x) in enumerate(jobs):
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != layer.k:
            raise ValueError(f"job {i}: x_rows must be [M, {layer.k}], not {x.shape}")
        try:
            config.check_layer(layer, x.shape[0])     # the config can run it, or say why
        except ValueError as e:
            raise ValueError(f"job {i}: {e}") from None
        gemm_layer = layer if layer.kind == "linear" else _as_linear(layer)
        checked.append((gemm_layer, x))
        expected.append(ref_run_layer(gemm_layer, x))
        macs += x.shape[0] * layer.out_channels * layer.k
    parts = _split(checked, processes, config.rows)
    streams = [_streams(config, [(checked[j][0], checked[j][1][r0:r1]) for j, r0, r1 in part])
               for part in parts]
    need = max(max(len(st["params"]), len(st["acts"]), len(st["wgts"]), len(st["aseg"]),
                   st["n_out"]) for st in streams)
    depth = next((d for d in _DEPTHS if d >= need), None)
    if depth is None:
        raise ValueError(f"the jobs need {need} memory words, more than the memory model "
                         f"holds ({_DEPTHS[-1]}): split them")
    runner, build_dir, build_s = _prepare(
        config, simulator, "hwq_tb",
        {f"{TOP}.v": unit_verilog(config, TOP), "hwq_tb.v": _HDL.read_text(),
         **sim_models(config.target)},
        {"ROWS": config.rows, "COLS": config.cols, "DEPTH": depth,
         "VISIBLE_CLOCK": int(waves)}, str(depth), waves,
        visible=("done", "cycles", "got"))

    def run(index):
        # one runner object per thread: cocotb's runner keeps per-run state on the object
        r = runner if index == 0 else _runner(simulator)
        return _run_streams(r, simulator, build_dir, streams[index], stall,
                            (seed + index) & 0xFFFFFFFF or 1, waves, max_cycles)

    t, cpu = time.perf_counter(), _children_cpu()
    if len(parts) == 1:
        raw = [run(0)]
    else:
        with ThreadPoolExecutor(len(parts)) as pool:
            raw = list(pool.map(run, range(len(parts))))
    wall, cpu = time.perf_counter() - t, _children_cpu() - cpu
    result = SimResult(wall_s=wall, cpu_s=cpu, build_s=build_s, macs=macs, expected=expected,
                       cycles=sum(cycles for _, cycles in raw), processes=len(parts))
    pieces = [[] for _ in checked]
    data_mask = (1 << (8 * config.cols)) - 1
    for part, (words, _) in zip(parts, raw, strict=True):
        result.words += len(words)
        i = 0
        for j, r0, r1 in part:
            count = output_word_count(r1 - r0, checked[j][0].out_channels, config)
            chunk = words[i:i + count]
            i += count
            pieces[j].append(collect_outputs(
                [w & data_mask for w in chunk], [w >> (8 * config.cols) for w in chunk],
                r1 - r0, checked[j][0].out_channels, config))
    for got, want in zip(pieces, expected, strict=True):
        got = np.concatenate(got) if got else np.zeros_like(want)
        result.outputs.append(got)
        result.mismatches += int(np.count_nonzero(got != want))
    return result


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished child processes (the simulators
    run as children; the build is already done when it is read)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _streams(config: HwConfig, jobs) -> dict:
    """What the memory model holds for ``jobs`` (GEMM ``(layer, x_rows)``): the parameter
    words, each job's operand blocks once (:func:`operand_blocks`) and the segment lists
    ``[tiles, 2]`` (first word, words) that gather the two operand streams from them, and how
    many output words the jobs make."""
    params, acts, wgts, a_seg, w_seg, n_out = [], [], [], [], [], 0
    a_base = w_base = 0
    for layer, x in jobs:
        params += param_words(layer, x.shape[0], config)
        a, w, order = operand_blocks(x, layer.weight_matrix, config)
        k = layer.k
        a_seg.append(np.stack([a_base + order[:, 0] * k, np.full(len(order), k)], axis=1))
        w_seg.append(np.stack([w_base + order[:, 1] * k, np.full(len(order), k)], axis=1))
        acts.append(a.reshape(-1, config.rows))
        wgts.append(w.reshape(-1, config.cols))
        a_base += len(acts[-1])
        w_base += len(wgts[-1])
        n_out += output_word_count(x.shape[0], layer.out_channels, config)
    a_seg, w_seg = np.concatenate(a_seg), np.concatenate(w_seg)
    return {"params": params, "acts": np.concatenate(acts), "wgts": np.concatenate(wgts),
            "aseg": a_seg, "wseg": w_seg, "n_op": int(a_seg[:, 1].sum()), "n_out": n_out}


def _runner(simulator):
    from cocotb_tools.runner import get_runner
    return get_runner(simulator)


def _run_streams(runner, simulator, build_dir, st, stall, stall_seed, waves, max_cycles):
    """One simulator process of the memory-model bench on the words ``st``; returns the
    output words ({tlast, tdata}) and the cycles it took."""
    run_dir = build_dir / f"run-{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}"
    run_dir.mkdir()
    params, n_out = st["params"], st["n_out"]
    # binary words for hwq_tb's $fread: most significant byte first, so lane 0 comes last
    files = {"params": b"".join(w.to_bytes(9, "big") for w in params),
             "acts": st["acts"].view(np.uint8)[:, ::-1].tobytes(),
             "wgts": st["wgts"].view(np.uint8)[:, ::-1].tobytes(),
             "aseg": st["aseg"].astype(">u4").tobytes(),      # {first word, words}
             "wseg": st["wseg"].astype(">u4").tobytes()}
    for name, data in files.items():
        (run_dir / f"{name}.bin").write_bytes(data)
    # (+stall_seed, not +seed: cocotb takes +seed for its own random module)
    job = {"n_param": len(params), "n_act": len(st["acts"]), "n_wgt": len(st["wgts"]),
           "n_seg": len(st["aseg"]), "n_op": st["n_op"], "n_out": n_out,
           "stall_seed": stall_seed, "stall": int(round(stall * 256))}
    plusargs = [f"+{name}={run_dir / f'{name}.bin'}" for name in files]
    plusargs += [f"+{name}={value}" for name, value in job.items()]
    plusargs.append(f"+outs={run_dir / 'outs.hex'}")
    job.update(result=str(run_dir / "result.json"),
               max_cycles=max_cycles or 64 * (st["n_op"] + len(params) + n_out) + 10_000)
    (run_dir / "job.json").write_text(json.dumps(job))
    if waves and simulator == "icarus":
        # (vvp runs with -fst when waves are on, so the file is FST)
        plusargs.append(f"+vcd={run_dir / 'hwq_tb.fst'}")
    try:
        xml = runner.test(test_module="hwq.sim.benches.tb_engine", hdl_toplevel="hwq_tb",
                          hdl_toplevel_lang="verilog", build_dir=build_dir, test_dir=run_dir,
                          plusargs=plusargs,
                          extra_env=_bench_env(run_dir), waves=waves,
                          timescale=("1ns", "1ps"), log_file=run_dir / "sim.log")
    except SystemExit:
        # (under pytest, cocotb's runner exits when a cocotb test failed)
        xml = None
    if xml is None:
        raise RuntimeError(f"the cocotb testbench failed on {simulator}; see {run_dir}/sim.log")
    _check_passed(xml, simulator, run_dir)
    summary = json.loads((run_dir / "result.json").read_text())
    if summary["words"] != n_out:
        raise RuntimeError(f"the testbench counted {summary['words']} output words, expected "
                           f"{n_out}; see {run_dir}")
    # $writememh output; Icarus adds `// 0x...` address comments every 16 words
    words = [int(code, 16) for code in (line.split("//")[0].strip()
                                        for line in (run_dir / "outs.hex").read_text()
                                        .splitlines()) if code]
    if not waves:
        shutil.rmtree(run_dir, ignore_errors=True)
    return words, summary["cycles"]


def _as_linear(layer: IntLayer) -> IntLayer:
    """The GEMM of a conv2d layer (its im2col rows run through this)."""
    return IntLayer("linear", layer.weight_matrix, layer.bias, layer.multiplier, layer.shift,
                    layer.input_zero_point, layer.output_zero_point, layer.act_min,
                    layer.act_max, layer.rounding, input_scale=layer.input_scale,
                    output_scale=layer.output_scale, weight_scale=layer.weight_scale,
                    activation=layer.activation)


def simulate_layer(layer, x_q, config: HwConfig | None = None, simulator: str = "verilator",
                   **kwargs) -> tuple[np.ndarray, SimResult]:
    """Run one ``IntLayer`` on the generated RTL; return its int8 output and the
    :class:`SimResult` (cycles, and ``mismatches`` against ``hwq.ref``) without raising on a
    mismatch. :func:`run_layer` is the strict form."""
    if not isinstance(layer, IntLayer):
        raise TypeError(f"run_layer on the RTL takes an IntLayer, not {type(layer).__name__}")
    config = config or default_config()
    x = np.asarray(x_q)
    if layer.kind == "linear":
        rows = x.reshape(-1, layer.k)
        out_shape = x.shape[:-1] + (layer.out_channels,)
        gemm = layer
    else:
        _, kh, kw, _ = layer.weight.shape
        rows, (n, oh, ow) = im2col(x, kh, kw, layer.stride, layer.dilation, layer.padding,
                                   pad_value=layer.input_zero_point)
        out_shape = (n, oh, ow, layer.out_channels)
        gemm = _as_linear(layer)
    res = run_jobs(config, [(gemm, rows)], simulator, **kwargs)
    return res.outputs[0].reshape(out_shape), res


def run_layer(layer, x_q, config: HwConfig | None = None, simulator: str = "verilator",
              **kwargs) -> np.ndarray:
    """Run one ``IntLayer`` on the generated RTL and return its int8 output.

    Linear layers take ``x_q [..., in]``; conv2d layers NHWC ``x_q``, turned into GEMM rows by
    the reference's own ``im2col`` (padding with the input zero-point). ``kwargs`` go to
    :func:`run_jobs` (``stall``, ``seed``, ``waves``). Raises ``RuntimeError`` if the RTL
    disagrees with ``hwq.ref`` — which is the point of running it.
    """
    out, res = simulate_layer(layer, x_q, config, simulator, **kwargs)
    if not res.passed:
        raise RuntimeError(f"RTL and hwq.ref disagree on {res.mismatches} outputs")
    return out
