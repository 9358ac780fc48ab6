"""Running integer programs on the generated hardware.

* :func:`run_layer` — one ``IntLayer`` on the RTL through cocotb (Verilator or Icarus);
  :func:`simulate_layer` also returns the cycles and mismatch count instead of raising;
* :func:`run_jobs`, :func:`run_unit` — regressions and unit benches, scoreboarded against
  ``hwq.ref``;
* :mod:`hwq.sim.streams` — host-side packing of the engine's stream words;
* :mod:`hwq.sim.amaranth_bench` — the same engine in Amaranth's simulator.
"""

import importlib

# Loaded on first use (PEP 562): the cocotb benches live in hwq.sim.benches, and every
# simulation process imports this package first; without Amaranth, NumPy and the runner that
# start-up is ~0.4 s shorter per run.
_HOME = {name: "runner" for name in ("SIMULATORS", "SimResult", "run_jobs", "run_layer",
                                     "run_unit", "simulate_layer", "simulator_available")}
_HOME.update({name: "streams" for name in ("collect_outputs", "operand_blocks", "operand_lanes",
                                           "operand_words", "pack_lanes", "param_words",
                                           "unpack_lanes")})

__all__ = ["run_layer", "simulate_layer", "run_jobs", "run_unit", "SimResult", "SIMULATORS",
           "simulator_available", "param_words", "operand_blocks", "operand_lanes",
           "operand_words", "pack_lanes", "unpack_lanes", "collect_outputs"]


def __getattr__(name):
    if name in _HOME:
        value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
