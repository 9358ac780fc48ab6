"""Running integer programs on the generated hardware.

* :func:`run_layer` — one ``IntLayer`` on the RTL through cocotb (Verilator or Icarus);
  :func:`simulate_layer` also returns the cycles and mismatch count instead of raising;
* :func:`run_jobs`, :func:`run_unit` — regressions and unit benches, scoreboarded against
  ``hwq.ref``;
* :mod:`hwq.sim.streams` — host-side packing of the engine's stream words;
* :mod:`hwq.sim.amaranth_bench` — the same engine in Amaranth's simulator.
"""

from .runner import (
           SIMULATORS,
           SimResult,
           run_jobs,
           run_layer,
           run_unit,
           simulate_layer,
           simulator_available,
)
from .streams import collect_outputs, operand_words, pack_lanes, param_words, unpack_lanes

__all__ = ["run_layer", "simulate_layer", "run_jobs", "run_unit", "SimResult", "SIMULATORS",
           "simulator_available", "param_words", "operand_words", "pack_lanes", "unpack_lanes",
           "collect_outputs"]
