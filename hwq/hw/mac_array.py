"""The output-stationary systolic MAC array."""

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..config import array_latency, capture_steps, input_steps, min_tile_steps, mult_steps
from .accumulator import Accumulator
from .dsp import MacPair, Mul8x2, Mul18
from .layouts import lanes
from .mux import mux_tree, select

__all__ = ["MacArray", "mux_tree"]


class MacArray(wiring.Component):
    """A ``rows × cols`` output-stationary systolic array of int8 × int8 multiply-accumulates.

    The array advances one *step* per clock in which ``en`` is high and holds every register
    otherwise (a global stall). At each step it takes one activation per row (``i_a``, column
    ``k`` of a tile's ``rows × K`` activation block) and one weight per column (``i_w``, row
    ``k`` of the tile's ``K × cols`` weight block), with ``i_valid`` (the step carries data)
    and ``i_last`` (``k = K − 1``). The inputs are registered once; then skew registers delay
    row ``i`` by ``i`` steps and column ``j`` by ``j`` steps, so processing element ``(i, j)``
    sees step ``s`` at step ``s + 1 + i + j``; activations and the last flag travel east,
    weights south. An invalid step enters as zero operands (``i_last`` is ignored on it), so
    it adds nothing wherever it goes: the elements need no valid flag of their own. (The
    zeroing has rows + cols bytes of loads; the input register drives it from a flip-flop.)

    Each element accumulates ``Σ_k a·w`` in ``accumulator_width`` bits. When a tile's last
    operand passes, it hands the finished sum to its output register and restarts from 0, so
    the next tile's first operand may follow on the very next step: tiles run back to back.
    (On ECP5 the output register loads the sum from the accumulator in the next step, while
    the accumulator restarts inside its carry chain: :class:`hwq.hw.accumulator.Accumulator`,
    :func:`hwq.config.capture_steps`.)
    Once the bottom-right element has finished, the array reads its output registers out a
    row at a time over one multiplexer per column, into a register (with more than one row;
    from nine rows, groups of four rows into registers first, then one of the groups):
    ``o_data`` holds rows 0, 1, …, rows − 1 of the tile's result, one per step, with
    ``o_valid`` high. The output registers only ever capture (a clock enable, no logic in
    front of them); the rows-to-1 multiplexers replace a shift-up chain, which needed a
    two-way multiplexer at every register. With ``beats = b > 1`` the drain is slower, for a
    consumer that takes a row in ``b`` parts (a requantizer with ``cols / b`` lanes):
    ``o_data`` holds each row for ``b`` steps, all with ``o_valid`` high — ``rows·b`` steps
    in all.

    With ``pairs`` (``target="ecp5"``, an even ``cols``; ``array.accumulator: dsp``) the
    elements (i, 2c) and (i, 2c + 1) are one :class:`hwq.hw.dsp.MacPair` — two MULT18X18D and
    the ALU54B beside them, which keeps both sums in its own register — and step together:
    columns 2c and 2c + 1 are delayed by c steps, not by their own index, so the skew spans
    cols / 2 columns (:func:`hwq.config.skew_cols`), and the products reach the ALU two steps
    after their operands (no fabric register, no fabric accumulator).

    The last operands of consecutive tiles must be at least :attr:`min_tile_steps`
    (``b·rows + cols − 1``) steps apart (pad short tiles with invalid steps): the next tile's
    element ``(i, 0)`` then finishes no earlier than the last step that reads row ``i`` of the
    previous tile (the register changes after that step).

    Members
    -------
    en : In(1)
    i_valid, i_last : In(1)
    i_a : In(ArrayLayout(signed(8), rows))
    i_w : In(ArrayLayout(signed(8), cols))
    o_valid : Out(1)
    o_valid_next : Out(1)
        what ``o_valid`` becomes at the next clock (a consumer far from the array keeps a
        register of its own in step with it)
    o_data : Out(ArrayLayout(signed(accumulator_width), cols))

    Latency (:func:`hwq.config.array_latency`): the first result row of a tile appears
    ``rows + cols`` steps after its last operand was presented, plus the multiplier's
    registers (:func:`hwq.config.mult_steps`), plus the read-out register when rows > 1 and
    a second one when rows > 8, plus on ECP5 two more input registers
    (:func:`hwq.config.input_steps`) and the output register's capture a step after the
    accumulator's last sum (:func:`hwq.config.capture_steps`).
    """

    def __init__(self, rows: int, cols: int, accumulator_width: int, mult_reg: bool = True,
                 target: str = "generic", model: bool = False, beats: int = 1,
                 pairs: bool = False):
        if beats < 1:
            raise ValueError(f"beats must be at least 1, not {beats!r}")
        if pairs and (target != "ecp5" or cols % 2):
            raise ValueError(f"pairs (DSP accumulators) need target ecp5 and an even cols, "
                             f"not target {target!r} with cols {cols}")
        if target != "generic" and not mult_reg:
            raise ValueError(f"target {target!r} registers the multiplier inside the DSP: "
                             f"mult_reg must be True")
        self._rows, self._cols = rows, cols
        self._acc_width = accumulator_width
        self._mult_reg = mult_reg
        self._target, self._model = target, model
        self._beats = beats
        self._pairs = pairs
        self._mult_steps = mult_steps(target, mult_reg, pairs)
        self._capture_steps = capture_steps(target)
        super().__init__({
            "en": In(1),
            "i_valid": In(1),
            "i_last": In(1),
            "i_a": In(lanes(signed(8), rows)),
            "i_w": In(lanes(signed(8), cols)),
            "o_valid": Out(1),
            "o_valid_next": Out(1),
            "o_data": Out(lanes(signed(accumulator_width), cols)),
        })

    @property
    def latency(self) -> int:
        return array_latency(self._rows, self._cols, self._target, self._mult_reg,
                             self._pairs)

    @property
    def min_tile_steps(self) -> int:
        """Fewest steps between the last operands of consecutive tiles."""
        return min_tile_steps(self._rows, self._cols, self._beats, self._pairs)

    def elaborate(self, platform):
        m = Module()
        R, C, W = self._rows, self._cols, self._acc_width
        en = self.en
        draining = Signal(name="drain_busy")
        advance = Signal(name="drain_advance")   # the drain moves on to the next row

        def delayed(value, steps, name, reset_less=False):
            """``value`` delayed by ``steps`` enabled steps, through named registers."""
            for d in range(steps):
                r = Signal.like(value, name=f"{name}_d{d}", reset_less=reset_less)
                with m.If(en):
                    m.d.sync += r.eq(value)
                value = r
            return value

        # West edge: row i delayed by i steps (activation and flags); north edge: column j by j.
        # An invalid step enters as a zero activation, so it adds 0 wherever it goes and the
        # elements need no valid flag of their own; only `last` travels with the operands.
        # (the input register holds "idle", the step's valid inverted: the zeroing below maps
        # onto the skew registers' synchronous reset, which on ECP5 then comes straight from
        # this flip-flop, without an inverter in front of its fanout)
        idle, last_in = Signal(name="in_idle", init=1), Signal(name="in_last")
        a_q = [Signal(signed(8), name=f"in_a{i}", reset_less=True) for i in range(R)]
        w_q = [Signal(signed(8), name=f"in_w{j}", reset_less=True) for j in range(C)]
        with m.If(en):
            m.d.sync += [idle.eq(~self.i_valid), last_in.eq(self.i_last & self.i_valid)]
            m.d.sync += [a_q[i].eq(self.i_a[i]) for i in range(R)]
            m.d.sync += [w_q[j].eq(self.i_w[j]) for j in range(C)]
        steps = input_steps(self._target)
        for s in range(1, steps - 1):
            # plain copies between the first register, beside the engine's step decision, and
            # the last, beside the array: the first has one load each, so the placer keeps it
            # by the decision's LUTs, and a whole step carries it across the chip
            idle_m, last_m = Signal(name=f"in_idle_m{s}", init=1), Signal(name=f"in_last_m{s}")
            a_m = [Signal(signed(8), name=f"inm{s}_a{i}", reset_less=True) for i in range(R)]
            w_m = [Signal(signed(8), name=f"inm{s}_w{j}", reset_less=True) for j in range(C)]
            with m.If(en):
                m.d.sync += [idle_m.eq(idle), last_m.eq(last_in)]
                m.d.sync += [a_m[i].eq(a_q[i]) for i in range(R)]
                m.d.sync += [w_m[j].eq(w_q[j]) for j in range(C)]
            idle, last_in, a_q, w_q = idle_m, last_m, a_m, w_m
        if steps >= 2:
            # the last input register, beside the array (hwq.config.input_steps). Row 0's
            # activation and column 0's weight go from it straight into element (0, 0)'s DSP,
            # so they are zeroed on their way in (the register's synchronous reset, with the
            # domain's: no stale operand survives a reset): a zeroing LUT between it and the
            # DSP, behind a flag that loads the whole array, made paths of up to 6.7 ns. The
            # other lanes are zeroed behind it as on the other targets, in their skew
            # registers (zeroing all lanes on the way in had 19×8's reset net of 27 × 8
            # flip-flops at 8.9 ns). With DSP accumulators column 1 steps with
            # column 0 (no skew register) and is zeroed here too: behind the zeroing LUT, the
            # route into element (0, 0)'s second multiplier was among ecp5_8x8's latest
            # arrivals (5.5–6.0 ns).
            idle2, last2 = Signal(name="in_idle2", init=1), Signal(name="in_last2")
            zeroed_a, zeroed_w = 1, (2 if self._pairs else 1)     # the lanes without skew
            a_2 = [Signal(signed(8), name=f"in2_a{i}", reset_less=i >= zeroed_a)
                   for i in range(R)]
            w_2 = [Signal(signed(8), name=f"in2_w{j}", reset_less=j >= zeroed_w)
                   for j in range(C)]
            with m.If(en):
                m.d.sync += [idle2.eq(idle), last2.eq(last_in)]
                m.d.sync += [a_2[i].eq(Mux(idle, 0, a_q[i]) if i < zeroed_a else a_q[i])
                             for i in range(R)]
                m.d.sync += [w_2[j].eq(Mux(idle, 0, w_q[j]) if j < zeroed_w else w_q[j])
                             for j in range(C)]
            idle, last_in, a_q, w_q = idle2, last2, a_2, w_2
        else:
            zeroed_a = zeroed_w = 0
        # The other lanes are zeroed in their last skew register, the one beside the element
        # it feeds, by `idle` delayed to match: one flag register per skew depth, each the
        # synchronous reset of a lane or two only (zeroing in the first skew register had
        # every lane's reset behind in_idle2, a net across the array's edge: 4.6-5.1 ns into
        # LSR at 4 of 16 seeds of ecp5_8x8). The activations' skew registers reset with
        # the domain as before; the weights' have no reset, and their flags none either (a
        # stale weight meets only zero activations).
        # (an invalid step's zero activation alone would make its products zero, but its
        # weight may be undefined — AXI-Stream data is, without tvalid — and a simulator's
        # 0·x is x: the weights are zeroed too)

        def idle_taps(n, name, reset_less):
            """``idle`` and its copies 1 … n − 1 enabled steps later (the flag for a lane
            delayed by d is tap d − 1)."""
            taps = [idle]
            for k in range(1, n):
                r = Signal(name=f"{name}{k}", init=1, reset_less=reset_less)
                with m.If(en):
                    m.d.sync += r.eq(taps[-1])
                taps.append(r)
            return taps

        def skewed(value, steps, name, taps, reset_less=False):
            """``value`` delayed by ``steps`` enabled steps, zeroed while ``idle`` (or into
            the last register, by the tap of its depth, if ``taps``)."""
            if not taps:
                return delayed(value, steps, name, reset_less)
            if steps == 0:
                return Mux(idle, 0, value)
            for d in range(steps):
                r = Signal.like(value, name=f"{name}_d{d}", reset_less=reset_less)
                with m.If(en):
                    m.d.sync += r.eq(Mux(taps[d], 0, value) if d == steps - 1 else value)
                value = r
            return value

        # (two chains, one along the array's west edge and one along its north edge: the
        # activations' flags reset, to 1, and the weights' do not, so synthesis does not
        # merge the two)
        w_skew = [j // 2 if self._pairs else j for j in range(C)]
        a_taps = idle_taps(R - 1, "zero_a", reset_less=False)
        w_taps = idle_taps(max(w_skew), "zero_w", reset_less=True)
        west = []
        for i in range(R):
            a = skewed(a_q[i], i, f"skew_a{i}", a_taps if i >= zeroed_a else None)
            last = delayed(last_in, i, f"skew_l{i}")
            west.append((a, last))
        # (with DSP accumulators the two columns of a pair step together: both are delayed by
        # the pair's index)
        north = [skewed(w_q[j], w_skew[j], f"skew_w{j}", w_taps if j >= zeroed_w else None,
                        reset_less=True) for j in range(C)]

        # weights and output registers need no reset: a weight only meets zero activations
        # until a valid step arrives with its own, and an output register is read only after
        # a capture. Activations, the last flags and the products do reset, so no stale
        # product reaches an accumulator after a reset (the DSP targets reset their
        # registers too).
        out = [[Signal(signed(W), name=f"out_{i}_{j}", reset_less=True) for j in range(C)]
               for i in range(R)]
        done = None
        for i in range(R) if self._pairs else ():
            # DSP accumulators: elements (i, 2c) and (i, 2c + 1) in one MacPair (two
            # MULT18X18D and their ALU54B), which sees step s at s + 1 + i + c
            a_in, l_in = west[i]
            for c in range(C // 2):
                j0, j1 = 2 * c, 2 * c + 1
                a_e = Signal(signed(8), name=f"a_{i}_{c}")
                l_e = Signal(name=f"l_{i}_{c}")
                w_s = [Signal(signed(8), name=f"w_{i}_{j}", reset_less=True) for j in (j0, j1)]
                with m.If(en):
                    m.d.sync += [a_e.eq(a_in), l_e.eq(l_in), w_s[0].eq(north[j0]),
                                 w_s[1].eq(north[j1])]
                pair = MacPair(W, self._target, self._model)
                m.submodules[f"mac_{i}_{c}"] = pair
                # `last` with the products entering the ALU, then the restart a step later,
                # when the output registers take the finished sums
                # (the first enabled step after a reset restarts every ALU: a reset clears its
                # register to 0, not to the first field's bias, and the products are zero
                # then. That step's captures load nothing that is read; the last pair's, which
                # would start a drain, come from a copy of the flag that resets to 0)
                l_use = delayed(l_in, self._mult_steps, f"lr_{i}_{c}")
                first = Signal(name=f"lf_{i}_{c}", init=1)
                with m.If(en):
                    m.d.sync += first.eq(l_use)
                if i == R - 1 and c == C // 2 - 1:
                    first_cap = delayed(l_use, 1, "lf_done")
                else:
                    first_cap = first
                capture = Signal(name=f"cap_{i}_{c}")
                m.d.comb += [pair.en.eq(en), pair.a.eq(a_in), pair.w0.eq(north[j0]),
                             pair.w1.eq(north[j1]), pair.restart.eq(first),
                             capture.eq(en & first_cap)]
                with m.If(capture):
                    m.d.sync += [out[i][j0].eq(pair.s0), out[i][j1].eq(pair.s1)]
                if i == R - 1 and c == C // 2 - 1:
                    done = capture
                a_in, l_in = a_e, l_e
                north[j0], north[j1] = w_s
        for i in range(R) if not self._pairs else ():
            a_in, l_in = west[i]
            for j in range(C):
                w_in = north[j]
                # pass operands on: activations and the last flag east, weights south
                a_e = Signal(signed(8), name=f"a_{i}_{j}")
                l_e = Signal(name=f"l_{i}_{j}")
                w_s = Signal(signed(8), name=f"w_{i}_{j}", reset_less=True)
                with m.If(en):
                    m.d.sync += [a_e.eq(a_in), l_e.eq(l_in), w_s.eq(w_in)]
                prod = Signal(signed(16), name=f"p_{i}_{j}")
                if self._target != "generic":
                    # the DSP's own input and output registers, then one in the fabric next
                    # to the accumulator (the DSP's clock-to-out and the route out of it
                    # otherwise precede the accumulator's carry chain): 3 steps
                    if self._target == "ice40":
                        # one SB_MAC16 in 8×8 mode serves the PEs (i, j) and (i, j + 1)
                        if j % 2 == 0:
                            pair = Mul8x2(self._target, self._model)
                            m.submodules[f"mul_{i}_{j}"] = pair
                            m.d.comb += [pair.en.eq(en), pair.a0.eq(a_in), pair.b0.eq(w_in)]
                            p_dsp = pair.p0
                        else:
                            m.d.comb += [pair.a1.eq(a_in), pair.b1.eq(w_in)]
                            p_dsp = pair.p1
                    else:
                        mul = Mul18(signed(8), signed(8), self._target, self._model)
                        m.submodules[f"mul_{i}_{j}"] = mul
                        m.d.comb += [mul.en.eq(en), mul.a.eq(a_in), mul.b.eq(w_in)]
                        p_dsp = mul.p
                    with m.If(en):
                        m.d.sync += prod.eq(p_dsp)
                    l_use = delayed(l_in, self._mult_steps, f"lr_{i}_{j}")
                elif self._mult_reg:
                    p_r = Signal(signed(16), name=f"pr_{i}_{j}")
                    m.d.comb += prod.eq(a_in * w_in)
                    l_r = Signal(name=f"lr_{i}_{j}")
                    with m.If(en):
                        m.d.sync += [p_r.eq(prod), l_r.eq(l_in)]
                    prod, l_use = p_r, l_r
                else:
                    m.d.comb += prod.eq(a_in * w_in)
                    l_use = l_in
                capture = Signal(name=f"cap_{i}_{j}")
                if self._capture_steps:
                    # the accumulator restarts inside its carry chain (hwq.hw.accumulator)
                    # in the step after a tile's last product, while the output register
                    # loads the finished sum from it: the sum's only load is the accumulator.
                    # (Yosys merges the elements' identical flag registers along each
                    # anti-diagonal; one instantiated per element measured no faster)
                    first = delayed(l_use, 1, f"lf_{i}_{j}")
                    accumulator = Accumulator(W, 16, self._target, self._model)
                    m.submodules[f"acc_{i}_{j}"] = accumulator
                    m.d.comb += [accumulator.en.eq(en), accumulator.clear.eq(first),
                                 accumulator.addend.eq(prod), capture.eq(en & first)]
                    with m.If(capture):
                        m.d.sync += out[i][j].eq(accumulator.acc)
                else:
                    acc = Signal(signed(W), name=f"acc_{i}_{j}")
                    # the sum is written twice, once for each register it feeds: synthesis
                    # merges the two adders (Yosys's opt_merge), and each becomes the
                    # register's input inside the Verilog's clocked process, which Icarus
                    # computes a word at a time instead of bit by bit
                    # (hwq.build.inline_register_inputs)
                    total = Signal(signed(W), name=f"sum_{i}_{j}")
                    total_out = Signal(signed(W), name=f"sum_out_{i}_{j}")
                    m.d.comb += [total.eq(acc + prod), total_out.eq(acc + prod)]
                    m.d.comb += capture.eq(en & l_use)
                    with m.If(en):
                        m.d.sync += acc.eq(Mux(l_use, 0, total))
                    # output register: capture the finished sum (read out over the column's
                    # mux)
                    with m.If(capture):
                        m.d.sync += out[i][j].eq(total_out)
                if i == R - 1 and j == C - 1:
                    done = capture
                a_in, l_in = a_e, l_e
                north[j] = w_s

        # drain control: `rows` rows, one every `beats` steps, starting the step after the
        # last capture. `advance` (the row read moves on after this step) is a flip-flop,
        # loaded with what the counters will say in the next step; `row` selects the row.
        count = Signal(range(R + 1), name="drain_count")
        count_next = Signal.like(count)
        row = Signal(range(max(R, 2)), name="drain_row")
        # (draining, count ≠ 0, is a register loaded from the count's next value: it gates
        # the beat and is the read-out's valid, and `advance` below is then one LUT of flags)
        m.d.sync += draining.eq(count_next != 0)
        m.d.comb += count_next.eq(count)
        with m.If(done):
            m.d.comb += count_next.eq(R)
            m.d.sync += row.eq(0)
        with m.Elif(en & advance):
            m.d.comb += count_next.eq(count - 1)
            m.d.sync += row.eq(row + 1)
        m.d.sync += count.eq(count_next)
        # the row select reaches every bit of every column's multiplexer (a LUT per bit for
        # its lowest bit: 208 loads on 8×8). On ECP5 each column counts its own copy, beside
        # its multiplexer (a column's own state in its next value, so synthesis cannot merge
        # the copies): ecp5_8x8_fabric's read-out paths were 5.0-5.4 ns with the one counter, most
        # of it the select's route, and left the slowest paths with the copies; 19×8's
        # group registers were its critical path, 7.2 ns (139.3 MHz at seed 1; 148.7 MHz
        # with the copies, which select its groups of four rows too)
        row_sel = [row] * C
        if self._target == "ecp5" and R > 1:
            row_sel = [Signal.like(row, name=f"drain_row{j}") for j in range(C)]
            for copy in row_sel:
                with m.If(done):
                    m.d.sync += copy.eq(0)
                with m.Elif(en & advance):
                    m.d.sync += copy.eq(copy + 1)
        if self._beats == 1:
            m.d.sync += advance.eq(count_next != 0)
        else:
            beat = Signal(range(self._beats), name="drain_beat")
            beat_next = Signal.like(beat)
            m.d.comb += beat_next.eq(beat)
            with m.If(done):
                m.d.comb += beat_next.eq(0)
            with m.Elif(en & draining):
                m.d.comb += beat_next.eq(Mux(advance, 0, beat + 1))
            # advance is (count_next ≠ 0) & (beat_next = B − 1): 0 after `done` or an
            # advance (the beat restarts at 0), on an enabled step of the drain the beat
            # reaching B − 1, else held. With "beat = B − 2" a register too (from beat_next)
            # its next value is one LUT4 of flip-flops (the count's compare and the beat's
            # behind `done` took three LUT levels: ecp5_8x8's latest arrival at 4 seeds
            # of 16, 5.0-5.6 ns)
            beat_pen = Signal(name="drain_beat_pen", init=self._beats == 2)
            m.d.sync += [beat.eq(beat_next), beat_pen.eq(beat_next == self._beats - 2),
                         advance.eq(~done & Mux(en, ~advance & draining & beat_pen, advance))]
        if R == 1:
            m.d.comb += [self.o_valid.eq(draining), self.o_valid_next.eq(count_next != 0)]
            m.d.comb += [self.o_data[j].eq(out[0][j]) for j in range(C)]
        else:
            # the selected row through a register: the row select fans out to every bit of
            # every column's multiplexer, and the consumer's own beat multiplexer follows.
            # From 9 rows the read-out takes two registers: each group of four rows is chosen
            # by the row's low two bits (a 4-to-1 multiplexer is one ECP5 slice) into a
            # register beside it, then one group by the rest (19×8's 19-to-1 trees behind a
            # select of 26·8 loads per bit were its critical paths, 8.7 ns; at 8 rows the
            # two levels measured no faster over four seeds, for 210 LUT4 more)
            o_valid = Signal(name="drain_valid")
            o_data = [Signal(signed(W), name=f"drain_{j}", reset_less=True) for j in range(C)]
            if R > 8:
                n_g = (R + 3) // 4
                group = [[Signal(signed(W), name=f"drain_g{g}_{j}", reset_less=True)
                          for j in range(C)] for g in range(n_g)]
                valid_g = Signal(name="drain_valid_g")
                row_hi = [Signal(len(row) - 2, name=f"drain_row_hi{j}") for j in range(C)]
                m.d.comb += self.o_valid_next.eq(Mux(en, valid_g, o_valid))
                with m.If(en):
                    m.d.sync += [valid_g.eq(draining), o_valid.eq(valid_g)]
                    for j in range(C):
                        m.d.sync += row_hi[j].eq(row_sel[j][2:])
                        for g in range(n_g):
                            rows_g = [out[i][j] for i in range(4 * g, min(4 * g + 4, R))]
                            m.d.sync += group[g][j].eq(select(
                                m, rows_g, row_sel[j][:2], f"drain_sel_g{g}_{j}",
                                self._target, self._model))
                        m.d.sync += o_data[j].eq(select(
                            m, [group[g][j] for g in range(n_g)], row_hi[j], f"drain_sel{j}",
                            self._target, self._model))
            else:
                m.d.comb += self.o_valid_next.eq(Mux(en, draining, o_valid))
                with m.If(en):
                    m.d.sync += o_valid.eq(draining)
                    for j in range(C):
                        m.d.sync += o_data[j].eq(select(
                            m, [out[i][j] for i in range(R)], row_sel[j], f"drain_sel{j}",
                            self._target, self._model))
            m.d.comb += self.o_valid.eq(o_valid)
            m.d.comb += [self.o_data[j].eq(o_data[j]) for j in range(C)]
        return m
