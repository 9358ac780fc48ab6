"""The hardware configuration: YAML schema, defaults and validation.

A config file is YAML with these sections (every field optional; defaults shown)::

    name: default
    array:
      rows: 8                 # systolic array rows (activation lanes)
      cols: 8                 # systolic array columns (weight lanes = output channels per tile)
      dataflow: output_stationary
      accumulator: fabric     # fabric | dsp: with target ecp5, each pair of columns
                              # accumulates in the ALU54B of its two MULT18X18D (see below)
    operands:
      bits: 8                 # int8 × int8 multipliers
      input_zero_point: folded
    limits:
      max_k: 1024             # longest reduction the accumulator is sized for
      max_n: 256              # output channels the parameter memory holds
    accumulator_width: null   # bits; null = the derived minimum for max_k
    requant:
      per_channel: true       # one (M, shift) per output channel, or one per layer
      rounding: double        # double | single | double_half_up (TFLite's three behaviours)
      shift_range: [-31, 30]  # shifts e the requantizer implements (m = M·2^(e-31))
      clamp: true             # runtime act_min/act_max (fused ReLU/ReLU6); false = int8 saturation
      lanes: null             # requantizer lanes, a divisor of cols; null = cols (one row per
                              # step). Fewer lanes drain each row in cols/lanes steps: less
                              # logic and fewer DSPs, longer minimum tiles (min_tile_steps)
    pipeline:
      multiplier: true        # register each PE's product before accumulating
      requant_stages: 4       # 2..15 register stages in the requantizer (see Requantizer)
    out_fifo_depth: 4         # output words buffered beyond those that keep tiles streaming
                              # (HwConfig.stream_words): room for a consumer's stalls
    target: generic           # generic | ecp5 | ice40: DSP primitives with their own registers
                              # (the Verilog then needs hwq's model of it to simulate)

Input zero-point: hwq precomputes the kernel-sum correction (``bias − z_in·Σw``, folded into
the bias by :mod:`hwq.lower`) instead of feeding 9-bit ``x − z`` operands to the processing
elements. The PEs then multiply plain int8 × int8, which is what the FPGA DSPs pack best: iCE40's
SB_MAC16 holds two 8×8 products only when both operands are 8-bit, and a 9-bit operand would
widen every multiplier and accumulator for a correction computed once per channel. Only
``folded`` is accepted.

DSP accumulators (``array.accumulator: dsp``, ECP5 only): the elements (i, 2c) and (i, 2c + 1)
share an activation, so their two products go to the two MULT18X18D of one DSP slice, the second
with the activation shifted left by 9, and the slice's ALU54B adds both to its 54-bit output
register: the pair's sums sit in one word, column 2c's in bits 0..26 over a bias of 2^26 (from
the ALU's rounding pattern, loaded at each restart), column 2c + 1's in bits 27..53 (see
:class:`hwq.hw.dsp.MacPair`). The pair steps together, so the array's skew spans cols / 2
columns; it needs an even ``cols`` and ``accumulator_width`` ≤ 26.

Accumulator width: the array accumulates ``Σ x·w`` without the bias, at most ``max_k·2^14`` in
magnitude, so the derived minimum is ``bit_length(max_k·2^14) + 1``; a smaller width is refused.
The bias is added in the requantizer in 32 bits, as the arithmetic contract's int32 accumulator.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import yaml

__all__ = ["HwConfig", "load_config", "min_accumulator_width", "min_tile_steps",
           "DEFAULT_CONFIG_NAME"]

DEFAULT_CONFIG_NAME = "default"
ROUNDINGS = ("double", "single", "double_half_up")
#: The most register stages the requantizer has (hwq.hw.requant.Requantizer lists them).
MAX_REQUANT_STAGES = 15

_SCHEMA = {
    "name": None,
    "array": {"rows", "cols", "dataflow", "accumulator"},
    "operands": {"bits", "input_zero_point"},
    "limits": {"max_k", "max_n"},
    "accumulator_width": None,
    "requant": {"per_channel", "rounding", "shift_range", "clamp", "lanes"},
    "pipeline": {"multiplier", "requant_stages"},
    "out_fifo_depth": None,
    "target": None,
}


def min_accumulator_width(max_k: int) -> int:
    """Bits that hold ``Σ_{k<max_k} x·w`` for any int8 ``x`` and ``w`` (at most ``max_k·2^14``,
    reached by (−128)·(−128))."""
    return (max_k << 14).bit_length() + 1


def skew_cols(cols: int, pairs: bool = False) -> int:
    """Columns the array's skew spans: ``cols``, or ``cols / 2`` when pairs of columns step
    together (DSP accumulators)."""
    return cols // 2 if pairs else cols


def min_tile_steps(rows: int, cols: int, beats: int = 1, pairs: bool = False) -> int:
    """Fewest steps between the last operands of consecutive tiles of a ``rows × cols`` array
    whose result rows drain in ``beats`` steps each. The drain reads row ``i`` up to
    ``rows + c − 2 + (i + 1)·beats`` steps after the previous tile's first element
    finished (``c`` = :func:`skew_cols`); the next tile's element ``(i, 0)`` finishes ``i``
    steps after its first, and may do so in that last step (its capture lands after the
    read). Row ``rows − 1`` binds."""
    return beats * rows + skew_cols(cols, pairs) - 1


#: Clock steps through a DSP multiplier's own input and output registers (hwq.hw.dsp).
DSP_LATENCY = 2
#: DSP accumulators (hwq.hw.dsp.MacPair): the second sum of a pair sits from this bit of the
#: ALU54B's 54-bit register up.
PAIR_SHIFT = 27
#: ... and the first over a bias of 2^PAIR_BIAS_BIT, which keeps it from borrowing: the widest
#: accumulator (|Σ| < 2^(width − 1)) a pair holds is this many bits.
PAIR_BIAS_BIT = 26


def mult_steps(target: str, mult_reg: bool, pairs: bool = False) -> int:
    """Steps from an element's operands to its registered product: 0, 1 (a register after the
    multiplier) or 3 (``target: ecp5`` or ``ice40``: the DSP's input and output registers,
    :data:`DSP_LATENCY`, then a fabric register before the accumulator); with DSP
    accumulators (``pairs``) 2, the MULT18X18D's input and pipeline registers in front of
    its ALU54B."""
    if pairs:
        return DSP_LATENCY
    return DSP_LATENCY + 1 if target != "generic" else int(mult_reg)


def input_steps(target: str) -> int:
    """Registers at the array's input: 1, or 3 with ``target: ecp5`` (the first beside the
    engine's step decision, the last beside the array, whose operand zeroing it drives, and
    one between them: with the first driving the zeroing of row 0 and column 0 itself, the
    placer put it by the array, and the decision's route to it, up to 2.7 ns, made it late
    for 200 MHz at five placement seeds of sixteen on ecp5_8x8_fabric; with one register in all,
    the route was 3.8 ns)."""
    return 3 if target == "ecp5" else 1


def capture_steps(target: str) -> int:
    """Steps from an element's accumulator holding a tile's sum to its output register
    holding it: 0, the output register taking the sum from the adder beside the accumulator,
    or 1 with ``target: ecp5``, the output register loading from the accumulator a step later
    (:class:`hwq.hw.accumulator.Accumulator`: the sum then has no load but the accumulator)."""
    return 1 if target == "ecp5" else 0


def array_latency(rows: int, cols: int, target: str, mult_reg: bool,
                  pairs: bool = False) -> int:
    """Steps from a tile's last operand entering the array to its first result row: the
    input registers (:func:`input_steps`), the skew to the bottom-right element
    (``rows + c − 2``, ``c`` = :func:`skew_cols`), the multiplier (:func:`mult_steps`), the
    accumulator, the output register's capture (:func:`capture_steps`) and, with more than
    one row, the register after the row multiplexer that reads the results out (two from nine
    rows: groups of four rows, then one group)."""
    return (input_steps(target) + rows + skew_cols(cols, pairs) - 1
            + mult_steps(target, mult_reg, pairs) + capture_steps(target) + (rows > 1)
            + (rows > 8))


def _int(name, v, lo, hi):
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"{name} must be an integer in {lo}..{hi}, not {v!r}")
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be an integer in {lo}..{hi}, not {v!r}")
    return v


def _bool(name, v):
    if not isinstance(v, bool):
        raise ValueError(f"{name} must be true or false, not {v!r}")
    return v


def _choice(name, v, choices):
    if v not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {v!r}")
    return v


@dataclass(frozen=True)
class HwConfig:
    """A validated hardware configuration (see the module docs for the YAML form)."""

    name: str = DEFAULT_CONFIG_NAME
    rows: int = 8
    cols: int = 8
    dataflow: str = "output_stationary"
    accumulator: str = "fabric"
    operand_bits: int = 8
    input_zero_point: str = "folded"
    max_k: int = 1024
    max_n: int = 256
    accumulator_width: int | None = None
    per_channel: bool = True
    rounding: str = "double"
    shift_min: int = -31
    shift_max: int = 30
    clamp: bool = True
    requant_lanes: int | None = None
    mult_reg: bool = True
    requant_stages: int = 4
    out_fifo_depth: int = 4
    target: str = "generic"

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.replace("_", "").isalnum():
            raise ValueError(f"name must be letters, digits and underscores, not {self.name!r}")
        _int("array.rows", self.rows, 1, 64)
        _int("array.cols", self.cols, 1, 64)
        _choice("array.dataflow", self.dataflow, ("output_stationary",))
        if self.operand_bits != 8:
            raise ValueError(f"operands.bits must be 8 (int8 × int8 processing elements), not "
                             f"{self.operand_bits!r}")
        if self.input_zero_point != "folded":
            raise ValueError("operands.input_zero_point must be 'folded' (the kernel-sum "
                             "correction folded into the bias; 9-bit PE operands are not "
                             f"implemented), not {self.input_zero_point!r}")
        _int("limits.max_k", self.max_k, 1, 65535)
        _int("limits.max_n", self.max_n, 1, 65535)
        need = min_accumulator_width(self.max_k)
        if self.accumulator_width is None:
            object.__setattr__(self, "accumulator_width", need)
        else:
            _int("accumulator_width", self.accumulator_width, 2, 32)
            if self.accumulator_width < need:
                raise ValueError(f"accumulator_width must be >= {need} for max_k={self.max_k} "
                                 f"(|Σ x·w| reaches {self.max_k}·2^14), not "
                                 f"{self.accumulator_width}")
        _bool("requant.per_channel", self.per_channel)
        _choice("requant.rounding", self.rounding, ROUNDINGS)
        _int("requant.shift_range[0]", self.shift_min, -31, 30)
        _int("requant.shift_range[1]", self.shift_max, -31, 30)
        if self.shift_min > self.shift_max:
            raise ValueError(f"requant.shift_range must be [low, high] with low <= high, not "
                             f"[{self.shift_min}, {self.shift_max}]")
        _bool("requant.clamp", self.clamp)
        if self.requant_lanes is None:
            object.__setattr__(self, "requant_lanes", self.cols)
        else:
            _int("requant.lanes", self.requant_lanes, 1, self.cols)
            if self.cols % self.requant_lanes:
                raise ValueError(f"requant.lanes must divide array.cols={self.cols} (a row "
                                 f"drains in equal parts), not {self.requant_lanes}")
        _bool("pipeline.multiplier", self.mult_reg)
        _int("pipeline.requant_stages", self.requant_stages, 2, MAX_REQUANT_STAGES)
        _int("out_fifo_depth", self.out_fifo_depth, 0, 1024)
        _choice("target", self.target, ("generic", "ecp5", "ice40"))
        if self.target != "generic" and not self.mult_reg:
            raise ValueError(f"pipeline.multiplier must be true with target {self.target!r} "
                             f"(the product is registered inside the DSP)")
        _choice("array.accumulator", self.accumulator, ("fabric", "dsp"))
        if self.accumulator == "dsp":
            if self.target != "ecp5":
                raise ValueError(f"array.accumulator: dsp needs target ecp5 (the ALU54B beside "
                                 f"each pair of MULT18X18D), not target {self.target!r}")
            if self.cols % 2:
                raise ValueError(f"array.accumulator: dsp needs an even array.cols (columns "
                                 f"2c and 2c + 1 share a DSP slice), not {self.cols}")
            if self.accumulator_width > PAIR_BIAS_BIT:
                raise ValueError(f"array.accumulator: dsp needs accumulator_width <= "
                                 f"{PAIR_BIAS_BIT} (two "
                                 f"sums share the ALU54B's 54 bits), not "
                                 f"{self.accumulator_width}")

    # ------------------------------------------------------------------ derived
    @property
    def macs(self) -> int:
        return self.rows * self.cols

    @property
    def shift_range(self) -> tuple[int, int]:
        return (self.shift_min, self.shift_max)

    @property
    def min_tile_steps(self) -> int:
        """Shortest tile, in steps, that the engine runs: a tile whose K is shorter is padded
        with idle steps (so tiles with K ≥ this run back to back). The array's own bound, which
        lets the previous tile's results drain (:func:`min_tile_steps`), and at least 3: the
        engine's column and row blocks move on a step after a tile's last step, and their
        flags are read at the next tile's last step."""
        return max(min_tile_steps(self.rows, self.cols, self.drain_beats, self.pairs), 3)

    @property
    def drain_beats(self) -> int:
        """Steps the requantizer takes per result row: ``cols / requant.lanes``."""
        return self.cols // self.requant_lanes

    @property
    def array_latency(self) -> int:
        """Steps from a tile's last operand entering the array to its first result row."""
        return array_latency(self.rows, self.cols, self.target, self.mult_reg, self.pairs)

    @property
    def mult_steps(self) -> int:
        """Steps from the operands to the registered product (:func:`mult_steps`)."""
        return mult_steps(self.target, self.mult_reg, self.pairs)

    @property
    def pairs(self) -> bool:
        """Pairs of columns accumulate together in a DSP (``array.accumulator: dsp``)."""
        return self.accumulator == "dsp"

    @property
    def stream_words(self) -> int:
        """Output FIFO words that keep tiles of :attr:`min_tile_steps` steps running back to
        back while the consumer is always ready.

        A tile reserves ``rows`` words with its last operand (credits); the word of its result
        row ``r`` comes back ``array_latency + requant_latency + (r + 1)·B + 5`` steps later
        (``B`` = :attr:`drain_beats`; the 5 covers the registers into the requantizer and
        from its output through the FIFO back to ``credit_ok``: the value the engine's
        simulation shows for every shipped config), in time for the reservation of a tile
        that many steps after it. With a tile every ``k``
        steps, the tile ``d`` tiles back still holds ``rows − ret(d·k)`` words, ``ret(t)``
        those back after ``t`` steps; the next reservation needs ``rows`` free words, so the
        FIFO needs ``Σ_{d ≥ 0} (rows − ret(d·k))``. Longer tiles need no more. (Matched, with
        one word fewer making a bubble, in simulation for every shipped config:
        ``tests/hw/test_engine.py``.)"""
        R, B, k = self.rows, self.drain_beats, self.min_tile_steps
        back = self.array_latency + self.requant_latency + 5
        words, d = 0, 0
        while True:
            returned = min(R, max(0, (d * k - back) // B)) if d else 0
            if returned == R:
                return words
            words += R - returned
            d += 1

    @property
    def fifo_depth(self) -> int:
        """Words of the output FIFO: :attr:`stream_words` and ``out_fifo_depth`` more."""
        return self.stream_words + self.out_fifo_depth

    @property
    def requant_latency(self) -> int:
        """Steps through the requantizer: ``requant_stages``, plus two when its partial
        products go through DSP input and output registers and a fabric register
        (``target: ecp5``, 6+ stages)."""
        return self.requant_stages + 2 * (self.target == "ecp5" and self.requant_stages >= 6)

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict:
        """The nested YAML form, with every field explicit."""
        return {
            "name": self.name,
            "array": {"rows": self.rows, "cols": self.cols, "dataflow": self.dataflow,
                      "accumulator": self.accumulator},
            "operands": {"bits": self.operand_bits, "input_zero_point": self.input_zero_point},
            "limits": {"max_k": self.max_k, "max_n": self.max_n},
            "accumulator_width": self.accumulator_width,
            "requant": {"per_channel": self.per_channel, "rounding": self.rounding,
                        "shift_range": [self.shift_min, self.shift_max], "clamp": self.clamp,
                        "lanes": self.requant_lanes},
            "pipeline": {"multiplier": self.mult_reg, "requant_stages": self.requant_stages},
            "out_fifo_depth": self.out_fifo_depth,
            "target": self.target,
        }

    def flat(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d) -> HwConfig:
        """Build a config from the nested form; unknown or misplaced keys are errors."""
        if d is None:
            d = {}
        if not isinstance(d, dict):
            raise ValueError(f"a config must be a mapping of sections, not {type(d).__name__}")
        kw = {}
        for key, value in d.items():
            if key not in _SCHEMA:
                raise ValueError(f"unknown config field {key!r} (known: {', '.join(_SCHEMA)})")
            fields = _SCHEMA[key]
            if fields is None:
                kw[key] = value
                continue
            if not isinstance(value, dict):
                raise ValueError(f"{key} must be a mapping, not {value!r}")
            for sub, v in value.items():
                if sub not in fields:
                    raise ValueError(f"unknown config field {key}.{sub!r} (known: "
                                     f"{', '.join(sorted(fields))})")
                if key == "operands":
                    kw["operand_bits" if sub == "bits" else sub] = v
                elif key == "requant" and sub == "shift_range":
                    if not isinstance(v, list) or len(v) != 2:
                        raise ValueError(f"requant.shift_range must be [low, high], not {v!r}")
                    kw["shift_min"], kw["shift_max"] = v
                elif key == "pipeline" and sub == "multiplier":
                    kw["mult_reg"] = v
                elif key == "requant" and sub == "lanes":
                    kw["requant_lanes"] = v
                else:
                    kw[sub] = v
        return cls(**kw)

    # ------------------------------------------------------------------ layers
    def check_layer(self, layer, m: int | None = None):
        """Refuse an integer layer (``hwq.lower.IntLayer``) this hardware cannot run, naming
        the reason."""
        n, k = layer.out_channels, layer.k
        if k > self.max_k:
            raise ValueError(f"layer K={k} exceeds limits.max_k={self.max_k} of config "
                             f"{self.name!r}")
        if n > self.max_n:
            raise ValueError(f"layer has {n} output channels, more than limits.max_n="
                             f"{self.max_n} of config {self.name!r}")
        if m is not None and not 1 <= m <= 65535:
            raise ValueError(f"layer has {m} rows (M); the engine runs 1..65535")
        if layer.rounding != self.rounding:
            raise ValueError(f"layer uses rounding {layer.rounding!r}, config {self.name!r} "
                             f"implements {self.rounding!r}")
        shifts = np.asarray(layer.shift)
        if shifts.min() < self.shift_min or shifts.max() > self.shift_max:
            raise ValueError(f"layer needs shifts {int(shifts.min())}..{int(shifts.max())}, "
                             f"outside requant.shift_range [{self.shift_min}, "
                             f"{self.shift_max}] of config {self.name!r}")
        if not self.per_channel and (np.any(layer.multiplier != layer.multiplier[0])
                                     or np.any(shifts != shifts[0])):
            raise ValueError(f"layer has per-channel multipliers; config {self.name!r} "
                             f"requantizes per tensor")
        if not self.clamp and (layer.act_min, layer.act_max) != (-128, 127):
            raise ValueError(f"layer clamps to [{layer.act_min}, {layer.act_max}] "
                             f"(activation {getattr(layer, 'activation', '?')}); config "
                             f"{self.name!r} has requant.clamp: false")


def load_config(path=None) -> HwConfig:
    """Read and validate a YAML config; ``None`` gives the defaults. Errors name the file."""
    if path is None:
        return HwConfig()
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise ValueError(f"cannot read config {str(path)!r}: {e.strerror}") from None
    try:
        d = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ValueError(f"malformed YAML in {path}{where}: {problem}") from None
    try:
        return HwConfig.from_dict(d)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
