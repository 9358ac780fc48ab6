"""A block RAM read through a register: one write port, one read port two steps deep.

:class:`RegisteredRam` is a simple dual-port memory whose read data is the word at the
address presented two clocks earlier: the memory's synchronous read, then a register. Yosys
maps the synchronous read onto ECP5's DP16KD but never its output register (REGMODE
"OUTREG"); the register then sits in the fabric, and the block RAM's clock-to-out (5.6 ns in
nextpnr's model) and the route out of it make one of the engine's longest paths. With
``target="ecp5"`` the class instantiates DP16KD in its 512 × 36 pseudo-dual-port mode with
the output register on, in Yosys' own pin order for that mode (``{DIB, DIA}`` written at
``ADA[13:5]`` with the byte enables on ``ADA[3:0]``, ``{DOB, DOA}`` read at ``ADB[13:5]``);
``ceil(width / 36)`` primitives side by side hold a word. The read's low half leaves on port
A's pins, so both ports' output registers are on (REGMODE_A and REGMODE_B "OUTREG", OCEA and
OCEB high): nextpnr times DOA by port A's setting. Deeper memories, other targets and
``model=True`` (for Amaranth's simulator) use an Amaranth ``Memory`` and a fabric register
with the same timing.

Reads and writes of one address in the same clock never happen in the engine (parameters
are written while no layer drains), and the device leaves their outcome undefined: the
memory carries Yosys' ``no_rw_check``, so the mapping adds no logic to emulate one, and
``hwq/sim/hdl/ecp5_dp16kd.v``, hwq's model of the primitive, reads x.
"""

from amaranth.hdl import ClockSignal, Const, Instance, Module, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

__all__ = ["RegisteredRam", "DP16KD_DEPTH", "DP16KD_WIDTH"]

DP16KD_DEPTH, DP16KD_WIDTH = 512, 36    # the pseudo-dual-port mode


class RegisteredRam(wiring.Component):
    """``depth`` words of ``width`` bits. Members: ``w_addr``, ``w_data``, ``w_en`` (write
    at the clock edge), ``r_addr`` In; ``r_data`` Out: the word at ``r_addr`` two clocks
    earlier (as it was before any write in that first clock)."""

    def __init__(self, width: int, depth: int, target: str = "generic", model: bool = False):
        if width < 1 or depth < 1:
            raise ValueError(f"a RegisteredRam needs width and depth of at least 1, not "
                             f"{width!r} × {depth!r}")
        self._width, self._depth = width, depth
        self._primitive = target == "ecp5" and not model and depth <= DP16KD_DEPTH
        abits = max(1, (depth - 1).bit_length())
        super().__init__({"w_addr": In(abits), "w_data": In(width), "w_en": In(1),
                          "r_addr": In(abits), "r_data": Out(width)})

    @property
    def primitives(self) -> int:
        """DP16KD primitives instantiated (0 when the memory is inferred)."""
        return -(-self._width // DP16KD_WIDTH) if self._primitive else 0

    def elaborate(self, platform):
        m = Module()
        if not self._primitive:
            m.submodules.mem = mem = Memory(shape=unsigned(self._width), depth=self._depth,
                                            init=[], attrs={"no_rw_check": 1})
            wp = mem.write_port()
            rp = mem.read_port(domain="sync")
            m.d.comb += [wp.addr.eq(self.w_addr), wp.data.eq(self.w_data), wp.en.eq(self.w_en),
                         rp.addr.eq(self.r_addr)]
            r_q = Signal(self._width, name="r_q", reset_less=True)
            m.d.sync += r_q.eq(rp.data)
            m.d.comb += self.r_data.eq(r_q)
            return m
        one, zero = Const(1, 1), Const(0, 1)
        w_addr, r_addr = Signal(9), Signal(9)
        m.d.comb += [w_addr.eq(self.w_addr), r_addr.eq(self.r_addr)]
        for n in range(self.primitives):
            lo = n * DP16KD_WIDTH
            di, do = Signal(DP16KD_WIDTH), Signal(DP16KD_WIDTH)
            m.d.comb += di.eq(self.w_data[lo:lo + DP16KD_WIDTH])
            top = min(self._width, lo + DP16KD_WIDTH)
            m.d.comb += self.r_data[lo:top].eq(do[:top - lo])
            ports = {"i_CLKA": ClockSignal(), "i_CLKB": ClockSignal(),
                     "i_CEA": one, "i_OCEA": one, "i_WEA": one, "i_RSTA": zero,
                     "i_CEB": one, "i_OCEB": one, "i_WEB": zero, "i_RSTB": zero}
            for i in range(3):
                ports |= {f"i_CSA{i}": zero, f"i_CSB{i}": zero}
            for i in range(4):
                ports[f"i_ADA{i}"] = self.w_en          # byte enables
            ports |= {"i_ADA4": zero, **{f"i_ADB{i}": zero for i in range(5)}}
            for i in range(9):
                ports |= {f"i_ADA{5 + i}": w_addr[i], f"i_ADB{5 + i}": r_addr[i]}
            for i in range(18):
                ports |= {f"i_DIA{i}": di[i], f"i_DIB{i}": di[18 + i],
                          f"o_DOA{i}": do[i], f"o_DOB{i}": do[18 + i]}
            m.submodules[f"bram{n}"] = Instance(
                "DP16KD",
                p_DATA_WIDTH_A=DP16KD_WIDTH, p_DATA_WIDTH_B=DP16KD_WIDTH,
                p_REGMODE_A="OUTREG", p_REGMODE_B="OUTREG",
                p_RESETMODE="SYNC", p_ASYNC_RESET_RELEASE="SYNC",
                p_CSDECODE_A="0b000", p_CSDECODE_B="0b000",
                p_WRITEMODE_A="NORMAL", p_WRITEMODE_B="NORMAL", p_GSR="DISABLED",
                **ports)
        return m
