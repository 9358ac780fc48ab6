"""The streaming GEMM engine and its Verilog top level ``hwq_top``."""

from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..config import HwConfig
from .bram import RegisteredRam
from .fifo import ReservedFifo
from .layouts import PARAM_WIDTH, ParamChannel, ParamHeader, lanes
from .mac_array import MacArray
from .mux import SLICE_MUX_INPUTS, select
from .requant import Requantizer

__all__ = ["GemmEngine", "HwqTop", "out_word_layout"]


def out_word_layout(cols):
    """One output word: a row of a tile's int8 results (lane j = column j) and the last flag."""
    return data.StructLayout({"data": lanes(signed(8), cols), "last": 1})


class GemmEngine(wiring.Component):
    """``out = requant(A·W + bias)`` for ``M×K`` by ``K×N`` int8 matrices, ``K ≤ max_k``.

    Protocol (all streams valid/ready):

    1. ``s_param``: a :class:`~hwq.hw.layouts.ParamHeader` word (M, N, K, output zero-point,
       clamp), then N :class:`~hwq.hw.layouts.ParamChannel` words (bias with the input
       zero-point term folded in, multiplier, shift), channel 0 first.
    2. ``s_act`` and ``s_wgt``, consumed together one word each per step, tile by tile in
       ``hwq.ref.tile_schedule`` order (row blocks of ``rows`` outside, column blocks of ``cols``
       inside): for each tile and ``k = 0..K−1``, ``s_act`` carries ``A[m0 + i, k]`` in lane
       ``i`` and ``s_wgt`` carries ``W[k, n0 + j]`` in lane ``j``. Lanes past M or N are don't
       care. Operand reuse across tiles is the feeder's business (a DMA, or the testbench's
       memory model), which keeps the core free of operand buffers.
    3. ``m_out``: per tile, one word per output row ``m0 + i < M`` with column ``n0 + j`` in
       lane ``j``; ``last`` marks the final word of the GEMM. Then the engine waits for the
       next header; layers run back to back.

    Tiles shorter than ``HwConfig.min_tile_steps`` (``B·rows + cols − 1``, at least 3) steps
    are padded with idle steps, so with larger K the array does one MAC per element
    per clock with no bubble between tiles. ``B = cols / requant.lanes``: the requantizer has
    ``lanes`` lanes and takes each result row in ``B`` parts (beats), with the parameters of
    those channels; the parts are collected into one output word. The datapath
    runs every clock, with no global enable: a step without both operands is a bubble (an
    invalid step the elements ignore), and backpressure on ``m_out`` is absorbed by credits —
    a tile's last operand is taken only once the output FIFO (``HwConfig.fifo_depth`` words:
    those that keep tiles streaming, ``stream_words``, and ``out_fifo_depth`` more) has room
    reserved for the tile's rows. Nothing is lost or repeated.
    ``model=True`` builds the DSP multipliers of ``target: ecp5`` as plain logic with the same
    timing (:class:`~hwq.hw.dsp.Mul18`), for Amaranth's simulator.
    Headers must respect the config (1 ≤ K ≤ max_k, 1 ≤ N ≤ max_n, M ≥ 1); ``hwq.sim``
    checks this before it sends one.
    """

    def __init__(self, config: HwConfig, model: bool = False):
        self._cfg = config
        self._model = model          # DSP primitives as plain logic, for Amaranth's simulator
        super().__init__({
            "s_act": In(stream.Signature(lanes(signed(8), config.rows))),
            "s_wgt": In(stream.Signature(lanes(signed(8), config.cols))),
            "s_param": In(stream.Signature(unsigned(PARAM_WIDTH))),
            "m_out": Out(stream.Signature(out_word_layout(config.cols))),
        })

    def elaborate(self, platform):
        cfg = self._cfg
        R, C = cfg.rows, cfg.cols
        m = Module()
        L, B = cfg.requant_lanes, cfg.drain_beats     # requantizer lanes, steps per row
        m.submodules.array = array = MacArray(R, C, cfg.accumulator_width, cfg.mult_reg,
                                              cfg.target, self._model, beats=B,
                                              pairs=cfg.pairs)
        m.submodules.requant = rq = Requantizer(
            L, cfg.accumulator_width, cfg.rounding, cfg.per_channel, cfg.shift_range,
            cfg.requant_stages, cfg.clamp, cfg.target, self._model)
        word = out_word_layout(C)
        # The datapath never stalls: the array, the requantizer and the drain run every clock
        # (no global enable to fan out to every register). Missing operands become bubbles
        # (invalid steps); output backpressure is handled with credits: a tile's last operand
        # only enters the array when the FIFO has room reserved for the tile's `rows` words.
        fifo_depth = cfg.fifo_depth
        m.submodules.fifo = fifo = ReservedFifo(word.size, fifo_depth)

        if cfg.per_channel:
            lane_shape = data.StructLayout({"bias": signed(32), "multiplier": unsigned(31),
                                            "shift": signed(6)})
        else:
            lane_shape = data.StructLayout({"bias": signed(32)})
        blocks = -(-cfg.max_n // C)
        # one word per requantizer beat and lane: channel n0 + b·L + j of a block in lane j's
        # memory, read two steps after its address (the memory's read, then a register: on
        # ECP5 the block RAM's own output register)
        rams = []
        for j in range(L):
            ram = RegisteredRam(lane_shape.size, blocks * B, cfg.target, self._model)
            m.submodules[f"params{j}"] = ram
            rams.append(ram)
        w_word = Signal(lane_shape)
        # a channel word is written through a register (address, data and the lane's write
        # enable): the FSM's state stays off the block RAMs' input pins. The write lands a step
        # after the word was taken, long before the first read of a layer's parameters (a
        # whole tile through the array later)
        w_lane = [Signal(name=f"w_lane{j}") for j in range(L)]
        w_addr_q = Signal.like(rams[0].w_addr, name="w_addr_q", reset_less=True)
        w_data_q = Signal(lane_shape.size, name="w_data_q", reset_less=True)
        w_en_q = [Signal(name=f"w_en_q{j}") for j in range(L)]
        p_word = [data.View(lane_shape, ram.r_data) for ram in rams]

        # ------------------------------------------------------------ layer registers
        hdr = Signal(ParamHeader)
        chan = Signal(ParamChannel)
        m.d.comb += [hdr.eq(self.s_param.payload), chan.eq(self.s_param.payload)]
        m_less = Signal(signed(17))               # M − rows (M < 2^16)
        m_last = Signal(16)                      # M − 1
        m_wrap = Signal(17)                      # M + rows − 1
        m_pen = Signal(17)                       # M − 2 (all ones for M = 1: never a row)
        m_wrap_pen = Signal(17)                  # M + rows − 2
        m_one = Signal()                         # M = 1
        zp, act_min, act_max = Signal(signed(8)), Signal(signed(8)), Signal(signed(8))
        pt_mult, pt_shift = Signal(unsigned(31)), Signal(signed(6))
        # K − 2 and the tile length − 2 as the step counters take them (signed: K − 2 is −1
        # for K = 1), loaded into them at each tile's start; and `in_data`
        # (step < K) as a register: the step enable that every register of the datapath waits
        # on is then one gate from flip-flops
        # (a tile takes at least 3 steps, even where the array allows fewer (1×1 and 1×2):
        # the column block and row block move on a step after a tile's last step, see below;
        # HwConfig.min_tile_steps includes that)
        shortest = cfg.min_tile_steps
        steps_width = max(1, (max(cfg.max_k, shortest) - 1).bit_length())
        # (signed, a bit wider: a counter's sign then tells it has passed zero, see k_rem)
        k_pen = Signal(signed(steps_width + 1))
        tile_pen = Signal(signed(steps_width + 1))
        in_data = Signal()
        # (index counters get at least one bit: a zero-width signal of a 1-row, 1-column or
        # 1-block engine becomes a `[-1:0]` vector in Verilog)
        nb_last = Signal(range(max(blocks, 2)))
        dn_last = Signal()                       # the drain's column block dn == nb_last
        nb_pen = Signal(len(nb_last) + 1)        # nb_last − 1 (wrapping when it is 0)
        fn_last = Signal()                       # the issue side's column block is the last
        # K = 1, a tile of one step, one column block: as flip-flops set with the layer (a
        # compare of a layer register is as deep in the timing as one of a counter)
        k_one, tile_one, nb_one = Signal(), Signal(), Signal()
        lane = Signal(range(max(L, 2)))
        blk = Signal(range(max(blocks, 2)))
        wa = Signal(range(max(blocks * B, 2)))     # parameter word written next
        wb = Signal(range(max(B, 2)))              # its beat within the block
        # lane = L − 1 and wb = B − 1 as registers kept with the counters (the compares after
        # the FSM's state decode put four LUT levels in front of the block counter's enable)
        lane_last, wb_last = Signal(init=L == 1), Signal(init=B == 1)
        # the channels after the current one less one (N − 2 − its index), counted down:
        # the current channel is the last when it is below zero, its sign bit (the index
        # against N − 2, two registers, was ecp5_8x8_fabric's critical path; then a compare of the
        # count with 1 beside the count, which ABC mapped as a chain of five LUTs at times)
        ch_left = Signal(signed(17))
        ch_first = Signal()
        # the FSM is in CHANNELS and the current channel is the last, as a register kept
        # beside ch_left (its next value from the loaded count's or the decrement's sign):
        # `enter` is then it and the parameter stream's valid. The decoded state in front of
        # `enter` put `in_data` three LUT levels behind the state register (late at 4-6
        # seeds of 16 on ecp5_8x8)
        armed = Signal()
        n_pen, ch_dec = Signal(signed(17)), Signal(signed(17))

        m.d.sync += [w_addr_q.eq(wa), w_data_q.eq(w_word)] + \
            [w_en_q[j].eq(w_lane[j]) for j in range(L)]
        for j, ram in enumerate(rams):
            m.d.comb += [ram.w_addr.eq(w_addr_q), ram.w_data.eq(w_data_q),
                         ram.w_en.eq(w_en_q[j])]

        # ------------------------------------------------------------ issue
        # A tile's steps and a row block's column blocks are counted down, to the step before
        # the last (K − 2 − step, tile length − 2 − step, nb_last − 1 − column block): the
        # flags of the next step's being the last then come from the counter alone, in
        # parallel with `adv` (the up-counters' compares with K − 2, … took one more LUT level
        # and were ecp5_8x8_fabric's critical path). The step counters are signed and a bit wider
        # than a tile's steps, so they never wrap (K = 1, and the padding steps after the K-th,
        # go below zero: K − 2 − step is at least −2^steps_width at a tile's last step); a
        # counter is zero exactly when it is not negative and its decrement is, so "the next
        # step is the K-th" is the decrement's own carry chain (its sign) and one gate, not a
        # compare of every bit with zero (three LUT levels in front of the flag's own: at_k_last
        # and at_tile_last were ecp5_8x8's latest arrivals at 6 seeds of 16). The column
        # block counter wraps below zero (one column block): it is loaded again before it
        # could come back to zero.
        k_rem = Signal(signed(steps_width + 1))
        t_rem = Signal(signed(steps_width + 1))
        k_dec = Signal(signed(steps_width + 1))
        t_dec = Signal(signed(steps_width + 1))
        m.d.comb += [k_dec.eq(k_rem - 1), t_dec.eq(t_rem - 1)]
        fm0 = Signal(17)
        fn_rem = Signal(len(nb_pen))
        # after the last tile: its drain (array latency + rows), the two register stages into
        # the requantizer, the requantizer itself and the FIFO's write register, plus margin
        flush_len = cfg.array_latency + R * B + 2 + cfg.requant_latency + 3
        flush = Signal(signed(flush_len.bit_length() + 1))   # flush_len − 1 down to −1
        header_taken = Signal()
        operands = self.s_act.valid & self.s_wgt.valid
        take = Signal()

        # the current row block is the last (fm0 + rows ≥ M, compared as fm0 ≥ M − rows: one
        # carry chain, not an adder and then a compare): a register, one step behind fm0, which
        # changes only at the end of a row block's tiles, at least min_tile_steps steps before
        # the next test
        last_mblock = Signal()
        m.d.sync += last_mblock.eq(fm0 >= m_less)

        # credits: FIFO words not yet reserved. A tile reserves `rows` with its last operand;
        # a word comes back when it leaves the FIFO, or when the drain drops a row past M —
        # one step later, through the register `give_back` (a late credit is only conservative;
        # it keeps the FIFO's read and the drain off the path into credit_ok).
        credits = Signal(range(fifo_depth + 1), init=fifo_depth)
        credit_ok = Signal(init=1)               # credits >= rows, as a register
        reserve, give_back = Signal(), Signal(2)
        # (both outcomes of `reserve` from the registers, then a two-way choice: reserve is the
        # late signal, and it meets no carry chain)
        kept = Signal(range(fifo_depth + 3))
        m.d.comb += kept.eq(credits + give_back)
        with m.If(reserve):
            m.d.sync += [credits.eq(kept - R), credit_ok.eq(kept >= 2 * R)]
        with m.Else():
            m.d.sync += [credits.eq(kept), credit_ok.eq(kept >= R)]
        at_k_last = Signal()                     # the step is the tile's K-th, as a register
        at_tile_last = Signal()                  # the step is the tile's last, likewise
        ch_last = ch_left[-1]                    # the current channel is the last
        m.d.comb += [n_pen.eq(hdr.n - 2), ch_dec.eq(ch_left - 1)]

        # The issue side's state: `compute` is a flip-flop set with the layer's last channel
        # and cleared with its last tile (the FSM's COMPUTE state, kept as one register so that
        # every step enable below starts at a flip-flop instead of a decoded state), and
        # `in_data` (the tile's operand steps, step < K) is only ever set while computing, so
        # `take` needs no state term. A step advances the tile on an operand, or on every clock
        # of its padding: `adv`, written from flip-flops and the two operand valids
        # (take | ~in_data).
        compute = Signal()
        enter = Signal()                         # the clock that sets `compute`
        m.d.comb += enter.eq(armed & self.s_param.valid)
        adv = Signal()
        block_end = Signal()                     # a row block's last tile ends with this step
        m.d.comb += [
            take.eq(in_data & operands & (credit_ok | ~at_k_last)),
            reserve.eq(in_data & operands & credit_ok & at_k_last),
            adv.eq(~in_data | (operands & (credit_ok | ~at_k_last))),
            block_end.eq(compute & adv & at_tile_last & fn_last),
        ]
        m.d.comb += [
            array.en.eq(1), rq.en.eq(1),
            array.i_valid.eq(take), array.i_last.eq(take & at_k_last),
            array.i_a.eq(self.s_act.payload), array.i_w.eq(self.s_wgt.payload),
            self.s_act.ready.eq(take), self.s_wgt.ready.eq(take),
        ]

        # The requantizer's zero-point and clamp load from a register of the header (loaded
        # every clock, no enable) the clock after it was taken, with a flip-flop as their
        # enable: the FSM's state and the stream's valid in front of the enables of those
        # registers, which sit by the requantizer, were among ecp5_8x8's latest
        # arrivals (5.1-5.5 ns at 3 seeds of 8); they are read a whole tile later
        out_q = Signal(data.StructLayout({"zero_point": signed(8), "act_min": signed(8),
                                          "act_max": signed(8)}), reset_less=True,
                       name="hdr_out_q")
        out_load = Signal(name="hdr_out_load")
        m.d.sync += [out_q.zero_point.eq(hdr.zero_point), out_q.act_min.eq(hdr.act_min),
                     out_q.act_max.eq(hdr.act_max), out_load.eq(header_taken)]
        with m.If(out_load):
            m.d.sync += [zp.eq(out_q.zero_point), act_min.eq(out_q.act_min),
                         act_max.eq(out_q.act_max)]
        # a tile's steps: K, or min_tile_steps when K is shorter (idle steps pad it)
        tile_len = Mux(hdr.k > shortest, hdr.k, shortest)

        # The control's state, one flip-flop each (HEADER, CHANNELS, COMPUTE, FLUSH; one-hot):
        # a state's loads are enabled by its flip-flop and the stream's valid, one gate, where
        # a decode of an encoded state had two LUT levels and a route between them in front
        # of the channel registers' enables (the state's decode behind `ctrl_state` was among
        # ecp5_8x8's slowest paths at 3-4 seeds of 16: 5.2-5.4 ns)
        st_header = Signal(init=1, name="st_header")
        st_channels, st_compute, st_flush = (Signal(name=f"st_{n}")
                                              for n in ("channels", "compute", "flush"))
        take_ch = Signal()                       # a channel word is taken
        m.d.comb += [
            self.s_param.ready.eq(st_header | st_channels),
            header_taken.eq(st_header & self.s_param.valid),
            take_ch.eq(st_channels & self.s_param.valid),
            # (read only with a lane's write enable)
            w_word.bias.eq(chan.bias),
        ]
        if cfg.per_channel:
            m.d.comb += [w_word.multiplier.eq(chan.multiplier[:31]),
                         w_word.shift.eq(chan.shift[:6])]
        with m.If(header_taken):
            m.d.sync += [
                m_less.eq(hdr.m - R), m_last.eq(hdr.m - 1), m_wrap.eq(hdr.m + (R - 1)),
                m_pen.eq(hdr.m - 2), m_wrap_pen.eq(hdr.m + (R - 2)),
                m_one.eq(hdr.m == 1),
                k_pen.eq(hdr.k - 2), tile_pen.eq(tile_len - 2),
                k_one.eq(hdr.k == 1), tile_one.eq(tile_len == 1),
                lane.eq(0), blk.eq(0), wa.eq(0), wb.eq(0),
                lane_last.eq(L == 1), wb_last.eq(B == 1),
                ch_left.eq(n_pen), armed.eq(n_pen[-1]), ch_first.eq(1),
                st_header.eq(0), st_channels.eq(1),
            ]
        for j in range(L):
            m.d.comb += w_lane[j].eq(take_ch & (lane == j))
        with m.If(take_ch):
            with m.If(ch_first):
                m.d.sync += [pt_mult.eq(chan.multiplier[:31]),
                             pt_shift.eq(chan.shift[:6])]
            m.d.sync += [ch_left.eq(ch_dec), ch_first.eq(0),
                         armed.eq(ch_dec[-1] & ~ch_last)]
            with m.If(lane_last):
                m.d.sync += [lane.eq(0), lane_last.eq(L == 1), wa.eq(wa + 1)]
                # `beats` words make a block of `cols` channels
                with m.If(wb_last):
                    m.d.sync += [wb.eq(0), wb_last.eq(B == 1), blk.eq(blk + 1)]
                with m.Else():
                    m.d.sync += [wb.eq(wb + 1), wb_last.eq(wb == B - 2)]
            with m.Else():
                m.d.sync += [lane.eq(lane + 1), lane_last.eq(lane == L - 2)]
        # the layer's last channel (`enter` is CHANNELS, the last channel and valid: `armed`
        # is set only in CHANNELS)
        with m.If(enter):
            m.d.sync += [nb_last.eq(blk), nb_pen.eq(blk - 1), nb_one.eq(blk == 0),
                         compute.eq(1), st_channels.eq(0), st_compute.eq(1)]
        # (the flush count is loaded on every computing clock, not only on the last one: its
        # load then waits on the state alone, not on the step's operands; and the state moves
        # on the clock after `compute` fell with the last tile's last step, from that
        # flip-flop instead of the step's operands)
        with m.If(st_compute):
            m.d.sync += flush.eq(flush_len - 1)
            with m.If(~compute):
                m.d.sync += [st_compute.eq(0), st_flush.eq(1)]
        # FLUSH: until the last tile has drained through the requantizer into the FIFO,
        # flush_len + 1 clocks (the count runs from flush_len − 1 to −1: its sign ends it)
        with m.If(st_flush):
            m.d.sync += flush.eq(flush - 1)
            with m.If(flush[-1]):
                m.d.sync += [st_flush.eq(0), st_header.eq(1)]

        # `compute` falls with the layer's last step (only set while in COMPUTE: block_end
        # holds `compute`, and the FSM leaves COMPUTE on the clock after)
        with m.If(block_end & last_mblock):
            m.d.sync += compute.eq(0)
        # The tile counters: held at a layer's start values while not computing (they are
        # loaded on the clock that sets `compute`, from the registers the header and the
        # channels wrote), then moved by `adv`. The start values depend only on flip-flops.
        # The column block and the row block move on in the step after a tile's last step
        # (`tile_end`, a register): their flags are read only at the next tile's last step,
        # at least 3 steps later (`shortest`; last_mblock follows fm0 a step behind), and
        # their registers' enable is then one gate from flip-flops (behind `adv`, it was
        # ecp5_8x8_fabric's critical path at some seeds: 6.2 ns)
        tile_end = Signal()
        m.d.sync += tile_end.eq(compute & adv & at_tile_last)
        with m.If(~compute):
            m.d.sync += [fm0.eq(0), fn_rem.eq(blk - 1), fn_last.eq(blk == 0)]
        with m.Elif(tile_end):
            with m.If(fn_last):
                m.d.sync += [fn_rem.eq(nb_pen), fn_last.eq(nb_one), fm0.eq(fm0 + R)]
            with m.Else():
                m.d.sync += [fn_rem.eq(fn_rem - 1), fn_last.eq(fn_rem == 0)]
        with m.If(~compute):
            m.d.sync += [k_rem.eq(k_pen), t_rem.eq(tile_pen), in_data.eq(enter),
                         at_k_last.eq(k_one), at_tile_last.eq(tile_one)]
        with m.Elif(adv):
            with m.If(at_tile_last):
                # (the layer's last tile: no next one)
                m.d.sync += [k_rem.eq(k_pen), t_rem.eq(tile_pen),
                             in_data.eq(~(fn_last & last_mblock)),
                             at_k_last.eq(k_one), at_tile_last.eq(tile_one)]
            with m.Else():
                m.d.sync += [k_rem.eq(k_dec), t_rem.eq(t_dec),
                             at_k_last.eq(~k_rem[-1] & k_dec[-1]),
                             at_tile_last.eq(~t_rem[-1] & t_dec[-1])]
                with m.If(at_k_last):
                    m.d.sync += in_data.eq(0)     # idle steps pad a short tile

        # ------------------------------------------------------------ drain side
        # The array holds each result row for B steps; beat b of a row takes columns
        # b·L .. b·L + L − 1 through the requantizer, with parameter word `ra`.
        d = Signal(range(max(R, 2)))
        dn = Signal(range(max(blocks, 2)))
        beat = Signal(range(max(B, 2)))
        row_end = Signal()
        ra = Signal(range(max(blocks * B, 2)))
        # the output row m0 + d of the current beat, and whether it exists (row < M), as
        # registers (they feed the credits and the requantizer's `last`)
        row = Signal(17)
        row_next = Signal(17)
        row_valid = Signal()
        row_valid_next = Signal()
        # row = M − 1 (the layer's last output row) as a register kept with `row`, from
        # compares of `row` with registers (a 17-bit compare in front of the requantizer's
        # `last` was ecp5_8x8_fabric's critical path)
        row_last = Signal()
        wrap = Signal()                 # the next row is the first of the next column block
        # beat == B − 1, d == R − 1 and dn == nb_last as registers kept with the counters: the
        # memory's read address (through the block RAM's address setup) and the row bookkeeping
        # select on flip-flops instead of compares
        # (beat == B − 1 is the last bit of a ring of B flip-flops, one of them set, that
        # turns with the count: no compare of the count in front of it. As a register loaded
        # with `beat == B − 2` it was three LUT levels from the drain's valid and its own Q,
        # among ecp5_8x8's slowest at 3 seeds of 16)
        beat_ring = Signal(B, init=1, name="beat_ring")
        beat_last = beat_ring[B - 1]
        d_last = Signal(init=R == 1)
        # row_next < M, compared from `row` (no adder before the compare): row + 1 < M is
        # row < M − 1, and row − (rows − 1) < M is row < M + rows − 1
        m.d.comb += [row_end.eq(array.o_valid & beat_last),
                     wrap.eq(d_last & ~dn_last)]
        # what the next row, its flags and d_last, dn_last become at the row's end. `row`,
        # `d`, `dn` and `wrap` change only at a row's last beat (d and dn from B ≥ 4 a step
        # after it, below), at least B steps apart: with
        # B ≥ 2 the values are computed into registers in the steps before, and from B ≥ 3 in
        # two steps, the sums and compares of `row` (carry chains) into registers first
        # (adders and compares behind the beat's flags, then chains followed by their
        # choice, were ecp5_8x8_fabric's critical paths)
        # (the next row is the last, M − 1, when it is below M but not below M − 1)
        ahead = {"plus": row + 1, "back": row - (R - 1), "lt_wrap": row < m_wrap,
                 "lt_wrap_pen": row < m_wrap_pen, "lt_last": row < m_last, "lt_pen": row < m_pen,
                 "d_pen": d == R - 2, "dn_pen": dn == nb_pen}
        if B >= 3:
            regs = {k: Signal(v.shape(), name=f"drain_{k}") for k, v in ahead.items()}
            m.d.sync += [regs[k].eq(v) for k, v in ahead.items()]
            ahead = regs
        row_last_next = Signal()
        d_last_next, dn_last_next = Signal(), Signal()
        nexts = [
            row_next.eq(Mux(wrap, ahead["back"], ahead["plus"])),
            row_valid_next.eq(Mux(wrap, ahead["lt_wrap"], ahead["lt_last"])),
            # (registered, from the compares; in one step, B = 1, as equalities: LUTs side by
            # side rather than carry chains followed by their choice)
            row_last_next.eq(Mux(wrap, ahead["lt_wrap"] & ~ahead["lt_wrap_pen"],
                                 ahead["lt_last"] & ~ahead["lt_pen"]) if B >= 2 else
                             Mux(wrap, row == m_wrap_pen, row == m_pen)),
            d_last_next.eq(Mux(d_last, R == 1, ahead["d_pen"])),
            dn_last_next.eq(Mux(dn_last, nb_one, ahead["dn_pen"])),
        ]
        if B >= 2:
            m.d.sync += nexts
        else:
            m.d.comb += nexts
        # `ra` = dn·B + beat is the word of the beat the array shows now; the memory is
        # addressed from flip-flops (the route to the block RAM's address pins is long): its
        # word arrives two steps after the beat, as the beat's accumulators do through the two
        # register stages below. The drain restarts for a new layer a step after its header
        # was taken (the previous layer has fully drained by then, and the new one's first
        # result row is a whole tile away): a register, so the header's handshake stays off
        # the drain's paths
        drain_restart = Signal()
        m.d.sync += drain_restart.eq(header_taken)
        # the array's valid where no restart is (what the drain's counters and flags step
        # on) as a register of the engine's own, from the array's next valid: the array's
        # `o_valid` sits by its read-out, and its route across to the bookkeeping, then three
        # LUT levels, was ecp5_8x8's slowest path at seed 1 (5.1 ns)
        drain_v = Signal(name="drain_v")
        m.d.sync += drain_v.eq(array.o_valid_next & ~header_taken)
        pow2 = B & (B - 1) == 0
        if pow2:
            # B a power of two: ra is the concatenation of the beat and the block, kept in
            # their own counters (each counts from its own state, so synthesis keeps them
            # apart from `beat` and `dn`, which select the array's parts and the row
            # bookkeeping): no adder and no choice among sums in front of the address (that
            # choice, four LUT levels from the drain's flags, was ecp5_8x8_fabric's critical path)
            # (no beat counter for B = 1: a zero-width signal is a `[-1:0]` vector in Verilog)
            ra_beat = [Signal(B.bit_length() - 1, name="ra_beat")] if B > 1 else []
            ra_blk = Signal.like(dn, name="ra_blk")
            m.d.comb += ra.eq(Cat(*ra_beat, ra_blk))
            # the block after this one (0 after the last) as a register: the block and
            # dn_last hold for a whole tile's drain (R·B steps) before the block moves, so the
            # register is current whenever it is taken, from R·B ≥ 2
            blk_next = Mux(dn_last, 0, ra_blk + 1)
            if R * B >= 2:
                blk_next_q = Signal.like(ra_blk, name="ra_blk_next")
                m.d.sync += blk_next_q.eq(blk_next)
                blk_next = blk_next_q
            with m.If(drain_restart):
                m.d.sync += [r.eq(0) for r in ra_beat] + [ra_blk.eq(0)]
            with m.Elif(drain_v):
                m.d.sync += [r.eq(r + 1) for r in ra_beat]     # wraps to 0 after beat B − 1
                with m.If(beat_last & d_last):
                    m.d.sync += ra_blk.eq(blk_next)
        else:
            # ra_inc = ra + 1 and ra_row = ra − (B − 1) (the block's first word, for its next
            # row) (mod 2^len(ra)) as registers beside ra, which hold at every step: what they
            # become is chosen, with the same selects as ra's next value, among sums of the
            # registers computed beside the choice (adders behind the beat's flags and the
            # choice were ecp5_8x8_fabric's critical paths when it took this form)
            ra_inc = Signal.like(ra)
            ra_row = Signal.like(ra)
            ra_next = Signal.like(ra)
            w_ra = len(ra)
            inc_next, row_ra_next = Signal.like(ra), Signal.like(ra)
            back = -(B - 1) % (1 << w_ra)                        # −(B − 1) mod 2^len(ra)
            choices = {"hold": (ra, ra_inc, ra_row),
                       "inc": (ra_inc, ra_inc + 1, ra_inc + back),
                       "row": (ra_row, ra_row + 1, ra_row + back),
                       "zero": (0, 1, back)}

            def choose(which):
                a, b, c = choices[which]
                m.d.comb += [ra_next.eq(a), inc_next.eq(b), row_ra_next.eq(c)]

            choose("hold")
            with m.If(drain_v):
                with m.If(~beat_last):
                    choose("inc")
                with m.Elif(~d_last):
                    choose("row")                       # the same block for the next row
                with m.Elif(dn_last):
                    choose("zero")
                with m.Else():
                    choose("inc")
            with m.If(drain_restart):
                m.d.sync += [ra.eq(0), ra_inc.eq(1), ra_row.eq(back)]
            with m.Else():
                m.d.sync += [ra.eq(ra_next), ra_inc.eq(inc_next), ra_row.eq(row_ra_next)]
        m.d.comb += [ram.r_addr.eq(ra) for ram in rams]
        with m.If(drain_restart):
            m.d.sync += [d.eq(0), dn.eq(0), beat.eq(0), row.eq(0), row_valid.eq(1),
                         row_last.eq(m_one), beat_ring.eq(1), d_last.eq(R == 1)]
        with m.Elif(drain_v):
            m.d.sync += beat_ring.eq(beat_ring.rotate_left(1))
        with m.If(drain_v & ~beat_last):
            m.d.sync += beat.eq(beat + 1)
        with m.Elif(drain_v & beat_last):
            m.d.sync += [beat.eq(0), row.eq(row_next),
                         row_valid.eq(row_valid_next),
                         row_last.eq(row_last_next)]
            m.d.sync += d_last.eq(d_last_next)
        # The counts d and dn themselves only feed their flags' next values (d_pen and dn_pen,
        # through the `ahead` registers from B ≥ 3): from B ≥ 4 they move a step after the
        # row's end, from registers of what it decided, and those next values are still ready
        # at the next row's end (a mutation to B ≥ 2 fails the engine tests at B = 3). The
        # row's end — the array's valid after a long route, and the beat flag — through the
        # choice of a count and its sum were the slowest paths of ecp5_8x8 with its DSP
        # floorplan (5.3–5.4 ns at seeds 1 and 2) and late at 3 seeds of 16 on ecp5_8x8_fabric.
        # dn_last moves with dn, the step after a column block's last row: it is read at row
        # ends (part_last, the parameter block) and in registers recomputed every step (wrap
        # in the next row's values, the next block's address), B ≥ 4 steps before their use;
        # its enable at the row's end was ecp5_8x8's latest arrival at 4 seeds of 8.
        d_step, d_wrap = Signal(name="drain_d_step"), Signal(name="drain_d_wrap")
        dn_step, dn_wrap = Signal(name="drain_dn_step"), Signal(name="drain_dn_wrap")
        decided = [d_step.eq(drain_v & beat_last), d_wrap.eq(d_last),
                   dn_step.eq(drain_v & beat_last & d_last), dn_wrap.eq(dn_last)]
        if B >= 4:
            m.d.sync += decided
        else:
            m.d.comb += decided
        with m.If(d_step & ~drain_restart):
            m.d.sync += d.eq(Mux(d_wrap, 0, d + 1))
            with m.If(dn_step):
                m.d.sync += [dn.eq(Mux(dn_wrap, 0, dn + 1)), dn_last.eq(dn_last_next)]
        # the drain's first column block is the last when there is one block: set a step after
        # the layer's channels are in, from the register nb_one (the FSM's decoded state, the
        # parameter stream's valid and ch_last in front of dn_last were ecp5_8x8_fabric's critical
        # path); the layer's first result row is a whole tile away
        enter_q = Signal()
        m.d.sync += enter_q.eq(enter)
        with m.If(enter_q):
            m.d.sync += dn_last.eq(nb_one)
        # Two register stages between the drain and the requantizer: the beat's part of the
        # row is chosen into the first, the second holds it (and the flags) while the
        # parameter word comes out of the memory's read register (RegisteredRam)
        part_valid, part_last = Signal(), Signal()
        m.d.sync += [
            part_valid.eq(array.o_valid & row_valid),
            part_last.eq(row_end & row_valid & row_last & dn_last),
        ]
        width = L * cfg.accumulator_width
        words = array.o_data.as_value()
        parts = [words[b * width:(b + 1) * width] for b in range(B)]
        # (the registers load only what the requantizer will read)
        # On ECP5 up to eight parts are one level of logic, the slice multiplexers
        # (hwq.hw.mux.select): chosen straight into the first register
        one_level = cfg.target == "ecp5" and B <= SLICE_MUX_INPUTS
        if B > 1 and cfg.requant_stages >= 8 and not one_level:
            # The requantizer registers its input: the beat's part is chosen in two levels,
            # beats 2p and 2p + 1 into a register by beat's upper bits, then one of those two
            # by its lowest bit, in front of the second stage (a B-way multiplexer after the
            # beat counter was the engine's slowest path at 8 beats)
            pairs = [Cat(parts[b], parts[min(b + 1, B - 1)]) for b in range(0, B, 2)]
            pair = Signal(2 * width, name="acc_pair", reset_less=True)
            odd = Signal(name="acc_odd", reset_less=True)
            with m.If(array.o_valid):
                m.d.sync += [pair.eq(select(m, pairs, beat[1:], "acc_pair_sel", cfg.target,
                                            self._model)),
                             odd.eq(beat[0])]
            chosen = Mux(odd, pair[width:], pair[:width])
        else:
            chosen = Signal(width, name="acc_chosen", reset_less=True)
            with m.If(array.o_valid):
                m.d.sync += chosen.eq(select(m, parts, beat, "acc_sel", cfg.target,
                                             self._model))
        acc_part = Signal(lanes(signed(cfg.accumulator_width), L), reset_less=True)
        rq_valid, rq_last = Signal(), Signal()
        m.d.sync += [rq_valid.eq(part_valid), rq_last.eq(part_last)]
        with m.If(part_valid):
            m.d.sync += acc_part.eq(chosen)
        m.d.comb += [
            rq.i_valid.eq(rq_valid), rq.i_last.eq(rq_last), rq.i_acc.eq(acc_part),
            rq.zero_point.eq(zp), rq.act_min.eq(act_min), rq.act_max.eq(act_max),
        ]
        for j in range(L):
            m.d.comb += rq.i_bias[j].eq(p_word[j].bias)
        if cfg.per_channel:
            for j in range(L):
                m.d.comb += [rq.i_multiplier[j].eq(p_word[j].multiplier),
                             rq.i_shift[j].eq(p_word[j].shift)]
        else:
            m.d.comb += [rq.i_multiplier[0].eq(pt_mult), rq.i_shift[0].eq(pt_shift)]

        # ------------------------------------------------------------ output
        # a row's B requantized parts are collected into one output word, which goes into the
        # FIFO through a register (the write enable fans out to every cell of the FIFO's
        # distributed memory: from the requantizer's valid through the word's assembly it was
        # one of ecp5_8x8_fabric's slowest paths)
        out_w = Signal(word)
        w_en = Signal()
        if B == 1:
            m.d.comb += [out_w.data.eq(rq.o_data), w_en.eq(rq.o_valid)]
        else:
            parts = [Signal(lanes(signed(8), L), name=f"part{b}") for b in range(B - 1)]
            ob = Signal(range(B))
            ob_last = Signal()                       # ob == B − 1, kept with ob
            with m.If(rq.o_valid):
                m.d.sync += [ob.eq(Mux(ob_last, 0, ob + 1)), ob_last.eq(ob == B - 2)]
                with m.Switch(ob):
                    for b in range(B - 1):
                        with m.Case(b):
                            m.d.sync += parts[b].eq(rq.o_data)
            m.d.comb += [out_w.data.eq(Cat(*parts, rq.o_data)),
                         w_en.eq(rq.o_valid & ob_last)]
        m.d.comb += out_w.last.eq(rq.o_last)
        w_en_q = Signal(name="fifo_w_en")
        w_data_q = Signal(word, name="fifo_w_data")
        m.d.sync += w_en_q.eq(w_en)
        with m.If(w_en):
            m.d.sync += w_data_q.eq(out_w)
        m.d.comb += [
            fifo.w_en.eq(w_en_q),
            fifo.w_data.eq(w_data_q),
            self.m_out.valid.eq(fifo.r_rdy), self.m_out.payload.eq(fifo.r_data),
            fifo.r_en.eq(self.m_out.ready),
        ]
        m.d.sync += give_back.eq((fifo.r_en & fifo.r_rdy) + (row_end & ~row_valid))
        return m


class HwqTop(wiring.Component):
    """The Verilog top level: :class:`GemmEngine` with AXI4-Stream port names.

    Ports: ``s_act_t{data,valid,ready}`` (``rows × 8`` bits, lane 0 in the low byte),
    ``s_wgt_t*`` (``cols × 8``), ``s_param_t*`` (72 bits), ``m_out_t{data,valid,ready,last}``
    (``cols × 8``), plus ``clk`` and ``rst`` (synchronous, active high). Inputs carry no
    ``tlast``: a layer is framed by the M, N, K of its parameter header.
    """

    def __init__(self, config: HwConfig):
        self._cfg = config
        R, C = config.rows, config.cols
        super().__init__({
            "s_act_tdata": In(8 * R), "s_act_tvalid": In(1), "s_act_tready": Out(1),
            "s_wgt_tdata": In(8 * C), "s_wgt_tvalid": In(1), "s_wgt_tready": Out(1),
            "s_param_tdata": In(PARAM_WIDTH), "s_param_tvalid": In(1), "s_param_tready": Out(1),
            "m_out_tdata": Out(8 * C), "m_out_tvalid": Out(1), "m_out_tready": In(1),
            "m_out_tlast": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = eng = GemmEngine(self._cfg)
        m.d.comb += [
            eng.s_act.payload.eq(self.s_act_tdata), eng.s_act.valid.eq(self.s_act_tvalid),
            self.s_act_tready.eq(eng.s_act.ready),
            eng.s_wgt.payload.eq(self.s_wgt_tdata), eng.s_wgt.valid.eq(self.s_wgt_tvalid),
            self.s_wgt_tready.eq(eng.s_wgt.ready),
            eng.s_param.payload.eq(self.s_param_tdata), eng.s_param.valid.eq(self.s_param_tvalid),
            self.s_param_tready.eq(eng.s_param.ready),
            self.m_out_tdata.eq(eng.m_out.payload.data),
            self.m_out_tlast.eq(eng.m_out.payload.last),
            self.m_out_tvalid.eq(eng.m_out.valid), eng.m_out.ready.eq(self.m_out_tready),
        ]
        return m
