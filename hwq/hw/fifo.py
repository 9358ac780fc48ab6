"""A first-in first-out queue for a writer that never overfills it.

The engine's output FIFO is written only into room the issue side reserved beforehand
(credits), so the queue needs no ``w_rdy`` and no fill level. Amaranth's ``SyncFIFO`` keeps a
level counter and derives both its ready flags from it: read enable → level's adder →
``level != 0`` → read enable again is one loop of carry chain and compares each clock, and it
was the critical path of the 8-lane ECP5 engine (7.5 ns). :class:`ReservedFifo` instead keeps
``r_rdy`` as a flip-flop whose next value is one LUT4 of four flip-flops and enables: the
write enable, the read enable, ``r_rdy`` itself and "one word left", a flag of a one-hot
fill level (a flag per level from 1 to ``depth``, each moved by the enables alone). It
replaced a compare of the read pointer's successor with the write pointer, which put three
or four LUT levels behind the pointers' flip-flops (ecp5_8x8_fabric's slowest register at five
placement seeds of sixteen, up to 5.67 ns). The words sit in an Amaranth ``Memory`` read
asynchronously at the read pointer, as in ``SyncFIFO`` (distributed RAM on the FPGA
targets).
"""

from amaranth.hdl import Module, Mux, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

__all__ = ["ReservedFifo"]


class ReservedFifo(wiring.Component):
    """``depth`` words of ``width`` bits, first in first out, shown first-word-fall-through.

    Members: ``w_en``, ``w_data`` In (the word is stored at the clock edge); ``r_rdy`` Out (a
    word is there: a flip-flop), ``r_data`` Out (that word), ``r_en`` In (take it at the clock
    edge while ``r_rdy``). A write into a full queue is outside the contract: the writer
    reserves room before it writes (in the engine, the tile's credits); nothing checks it
    here, and the oldest word would be overwritten.
    """

    def __init__(self, width: int, depth: int):
        if width < 1 or depth < 1:
            raise ValueError(f"a ReservedFifo needs width and depth of at least 1, not "
                             f"{width!r} × {depth!r}")
        self._width, self._depth = width, depth
        super().__init__({"w_en": In(1), "w_data": In(width),
                          "r_rdy": Out(1), "r_en": In(1), "r_data": Out(width)})

    @property
    def depth(self) -> int:
        return self._depth

    def _next(self, pointer):
        if self._depth & (self._depth - 1) == 0:
            return pointer + 1                          # wraps in the pointer's width
        return Mux(pointer == self._depth - 1, 0, pointer + 1)

    def elaborate(self, platform):
        m = Module()
        D = self._depth
        m.submodules.mem = mem = Memory(shape=unsigned(self._width), depth=D, init=[])
        wp = mem.write_port()
        rp = mem.read_port(domain="comb")
        produce = Signal(range(D))
        consume = Signal(range(D))
        m.d.comb += [wp.addr.eq(produce), wp.data.eq(self.w_data), wp.en.eq(self.w_en),
                     rp.addr.eq(consume), self.r_data.eq(rp.data)]
        with m.If(self.w_en):
            m.d.sync += produce.eq(self._next(produce))

        ready = Signal()                                # a word is there (level ≥ 1)
        do_read = self.r_en & ready
        with m.If(do_read):
            m.d.sync += consume.eq(self._next(consume))
        # level[k − 1]: exactly k words (one-hot with `ready`: none of them while empty). A
        # write alone moves the level up, a read alone down; a write into a full queue is
        # outside the contract
        level = Signal(D, name="level")
        up = self.w_en & ~do_read
        down = do_read & ~self.w_en
        for k in range(D):
            below = level[k - 1] if k > 0 else ~ready
            above = level[k + 1] if k + 1 < D else 0
            with m.If(up):
                m.d.sync += level[k].eq(below)
            with m.Elif(down):
                m.d.sync += level[k].eq(above)
        # a write always leaves a word; without one, reading the only word empties the queue
        m.d.sync += ready.eq(self.w_en | (ready & ~(do_read & level[0])))
        m.d.comb += self.r_rdy.eq(ready)
        return m
