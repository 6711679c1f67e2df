"""Simulation engines for the whole SoC: ``cxxrtl`` (compiled, fast) and ``pysim`` (exact, slow).

Both run the same design (soc.SoC with the core) with the same outside world and give
the same cycle counts and the same console output for the same inputs:

* UART: ``tx`` is always ready (every byte the SoC sends is collected); bytes pushed
  with ``rx_push`` are offered to ``rx`` one at a time, from the clock edge after the push.
* Storage port: a sector store in memory (``set_disk``), answering one word per cycle.
  Its state machine (the same in driver.cc and ``_PyStorage``):
  IDLE (cmd.ready) --cmd--> WDATA (wdata.ready, 64 words) or RDATA (rdata.valid, 64
  words) --> RESP (resp.valid, error = sector beyond the end) --resp--> IDLE.
* Retire counting: instructions (retire.valid and not trap) and traps.
* tohost: a RAM doubleword watched after every cycle (bare-metal test programs).
* Idle skipping: after a clock edge at which ``wfi`` was high, mtime jumps to one tick before
  the earliest of the CLINT's mtimecmp and the core's Sstc stimecmp.

The cycle protocol (see driver.cc): rising edge with the outputs sampled as the design
shows them at the edge, then the models update and drive the inputs for the next edge,
then idle skipping if ``wfi`` was high at the edge.
"""

import ctypes
from dataclasses import dataclass

from soc import memmap

__all__ = ["ENGINES", "make_engine", "Stats", "EngineError", "STOP_LIMIT", "STOP_TX",
           "STOP_TOHOST", "MTIME_HZ"]

STOP_LIMIT, STOP_TX, STOP_TOHOST = "limit", "tx", "tohost"
_STOPS = {0: STOP_LIMIT, 1: STOP_TX, 2: STOP_TOHOST}
_RUN_STOP_ON_TX, _RUN_SKIP_WFI = 1, 2
SECTOR_BYTES, SECTOR_WORDS = 512, 64
#: mtime ticks per second of simulated time (the SoC's default mtime_freq)
MTIME_HZ = 10_000_000
U64 = (1 << 64) - 1


class EngineError(Exception):
    """The engine cannot be built or used; the message says why."""


@dataclass
class Stats:
    cycles: int = 0
    instret: int = 0
    traps: int = 0
    tohost: int = 0
    wfi_skips: int = 0
    skipped_ticks: int = 0
    sectors_read: int = 0
    sectors_written: int = 0
    mtime: int = 0


def _new_soc(ram_size):
    from soc.soc import SoC
    return SoC(ram_size=ram_size)


def _check_segments(image, ram_size):
    for addr, blob in image.segments:
        if addr < memmap.RAM_BASE or addr + len(blob) > memmap.RAM_BASE + ram_size:
            raise EngineError(
                f"segment {addr:#x}..{addr + len(blob):#x} does not fit in RAM "
                f"{memmap.RAM_BASE:#x}..{memmap.RAM_BASE + ram_size:#x} ({ram_size >> 20} MiB)")


def _trimmed(blob):
    """The segment without its trailing zero bytes (RAM starts zeroed)."""
    return bytes(blob).rstrip(b"\0")


class CxxrtlEngine:
    """The SoC compiled by CXXRTL + g++; the cycle loop runs in C++ (driver.cc)."""

    name = "cxxrtl"

    def __init__(self, ram_size=memmap.DEFAULT_RAM_SIZE, log=None, lib_path=None):
        """Builds (or finds) the model for ``ram_size``; or loads the library ``lib_path``
        as it is (the build's profiling run uses this)."""
        if lib_path is None:
            from .cxxrtl.build import BuildError, build_model
            try:
                lib_path = build_model(_new_soc(ram_size), log=log)
            except BuildError as e:
                raise EngineError(str(e)) from None
        lib = ctypes.CDLL(str(lib_path))
        p, u64, i32 = ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int
        buf = ctypes.c_char_p
        for fname, res, args in (
                ("sim_new", p, [buf, ctypes.c_size_t]), ("sim_free", None, [p]),
                ("sim_ram_size", u64, [p]), ("sim_ram_access", i32, [p, u64, buf, u64, i32]),
                ("sim_set_disk", None, [p, buf, u64]), ("sim_disk_size", u64, [p]),
                ("sim_get_disk", None, [p, buf]), ("sim_rx_push", None, [p, buf, u64]),
                ("sim_rx_pending", u64, [p]), ("sim_tx_take", u64, [p, buf, u64]),
                ("sim_set_tohost", i32, [p, u64]), ("sim_run", i32, [p, u64, i32]),
                ("sim_stats", None, [p, ctypes.POINTER(u64)])):
            f = getattr(lib, fname)
            f.restype, f.argtypes = res, args
        self._lib = lib
        err = ctypes.create_string_buffer(256)
        self._h = lib.sim_new(err, 256)
        if not self._h:
            raise EngineError(f"CXXRTL model: {err.value.decode()}")
        self.ram_size = lib.sim_ram_size(self._h)
        self._txbuf = ctypes.create_string_buffer(1 << 16)

    def close(self):
        if self._h:
            self._lib.sim_free(self._h)
            self._h = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def load(self, image):
        _check_segments(image, self.ram_size)
        for addr, blob in image.segments:
            data = _trimmed(blob)
            if data and self._lib.sim_ram_access(self._h, addr, data, len(data), 1) != 0:
                raise EngineError(f"cannot load {addr:#x}")

    def read_ram(self, paddr, length):
        out = ctypes.create_string_buffer(length)
        if self._lib.sim_ram_access(self._h, paddr, out, length, 0) != 0:
            raise EngineError(f"range {paddr:#x}+{length:#x} is outside RAM")
        return out.raw

    def set_disk(self, data):
        data = bytes(data)
        self._lib.sim_set_disk(self._h, data, len(data))

    def disk_image(self):
        n = self._lib.sim_disk_size(self._h)
        out = ctypes.create_string_buffer(n)
        self._lib.sim_get_disk(self._h, out)
        return out.raw

    def set_tohost(self, paddr):
        if self._lib.sim_set_tohost(self._h, paddr & ~7) != 0:
            raise EngineError(f"tohost {paddr:#x} is outside RAM")

    def rx_push(self, data):
        data = bytes(data)
        self._lib.sim_rx_push(self._h, data, len(data))

    def rx_pending(self):
        return self._lib.sim_rx_pending(self._h)

    def tx_take(self):
        out = b""
        while True:
            n = self._lib.sim_tx_take(self._h, self._txbuf, len(self._txbuf))
            out += self._txbuf.raw[:n]
            if n < len(self._txbuf):
                return out

    def run(self, max_cycles, *, stop_on_tx=False, skip_wfi=True):
        flags = (_RUN_STOP_ON_TX if stop_on_tx else 0) | (_RUN_SKIP_WFI if skip_wfi else 0)
        return _STOPS[self._lib.sim_run(self._h, max_cycles, flags)]

    def stats(self):
        arr = (ctypes.c_uint64 * 9)()
        self._lib.sim_stats(self._h, arr)
        return Stats(*arr)

    # --- waveform capture (sim/wave/capture.py describes the windows) ---

    def _wave_fn(self, fname, res, args):
        f = getattr(self._lib, fname)
        f.restype, f.argtypes = res, args
        return f

    def peek(self, name):
        """The current value of the model's signal ``name`` (debug name, e.g.
        "core perf_ihit"), None if there is none (or it is wider than 64 bits)."""
        f = self._wave_fn("sim_peek", ctypes.c_int,
                          [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint64)])
        out = ctypes.c_uint64()
        return out.value if f(self._h, name.encode(), ctypes.byref(out)) == 0 else None

    def wave_signal_width(self, name):
        """Width of the model's signal ``name`` (debug name), 0 if it cannot be sampled."""
        f = self._wave_fn("sim_wave_signal_width", ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p])
        return f(self._h, name.encode())

    def wave_arm(self, names, before, after, max_windows):
        """Sample the signals ``names`` (debug names) every cycle from now on, keeping
        windows around PTE_S walks; the C++ loop does the work (driver.cc)."""
        u64, p = ctypes.c_uint64, ctypes.c_void_p
        f = self._wave_fn("sim_wave_arm", ctypes.c_int,
                          [p, ctypes.c_char_p, u64, u64, u64, ctypes.c_char_p, ctypes.c_size_t])
        err = ctypes.create_string_buffer(256)
        if f(self._h, "\n".join(names).encode(), before, after, max_windows, err, 256) != 0:
            raise EngineError(f"waveform capture: {err.value.decode()}")
        self._wave_row = len(names) + 2
        self._wave_buf = (ctypes.c_uint64 * (self._wave_row * 1024))()

    def wave_take(self):
        """Finished rows, each (window number, cycle, values...), oldest first."""
        u64 = ctypes.c_uint64
        f = self._wave_fn("sim_wave_take", u64, [ctypes.c_void_p, ctypes.POINTER(u64), u64])
        rows = []
        buf = getattr(self, "_wave_buf", None)
        if buf is None or self.wave_info()[4] == 0:
            return rows
        while True:
            n = f(self._h, buf, len(buf))
            words = buf[:n]
            rows += [tuple(words[i:i + self._wave_row]) for i in range(0, n, self._wave_row)]
            if n < len(buf) - self._wave_row:
                return rows

    def wave_stop(self):
        """Stop sampling (an open window ends here)."""
        self._wave_fn("sim_wave_stop", None, [ctypes.c_void_p])(self._h)

    def wave_info(self):
        """(windows opened, triggers seen, armed, a window is open, rows queued)"""
        u64 = ctypes.c_uint64
        arr = (u64 * 5)()
        self._wave_fn("sim_wave_info", None, [ctypes.c_void_p, ctypes.POINTER(u64)])(self._h, arr)
        return tuple(arr)


def _find_signal(fragment, path, name):
    """The signal called ``name`` assigned in the sub-fragment at ``path`` (names)."""
    frag = fragment
    for part in path:
        for sub, sub_name, *_ in frag.subfragments:
            if sub_name == part:
                frag = sub
                break
        else:
            raise EngineError(f"design has no sub-module {'.'.join(path)}")
    for stmts in frag.statements.values():
        for stmt in stmts:
            for sig in stmt._lhs_signals():
                if sig.name == name:
                    return sig
    raise EngineError(f"design has no signal {'.'.join(path)}.{name}")


class _PyStorage:
    """The storage port's state machine, as in driver.cc."""

    IDLE, WDATA, RDATA, RESP = range(4)

    def __init__(self):
        self.disk = bytearray()
        self.state = self.IDLE
        self.write = self.bad = False
        self.sector = self.k = 0
        self.words = []
        self.sectors_read = self.sectors_written = 0

    def word(self):
        if self.state != self.RDATA or self.bad:
            return 0
        base = self.sector * SECTOR_BYTES + 8 * self.k
        return int.from_bytes(self.disk[base:base + 8], "little")

    def step(self, cmd_fire, cmd, wdata_fire, wword, rdata_fire, resp_fire):
        if cmd_fire:
            self.write = bool(cmd & 1)
            self.sector = cmd >> 1
            self.bad = self.sector >= len(self.disk) // SECTOR_BYTES
            self.k = 0
            self.words = []
            self.state = self.WDATA if self.write else self.RDATA
        elif wdata_fire:
            self.words.append(wword)
            if len(self.words) == SECTOR_WORDS:
                if not self.bad:
                    base = self.sector * SECTOR_BYTES
                    self.disk[base:base + SECTOR_BYTES] = b"".join(
                        w.to_bytes(8, "little") for w in self.words)
                    self.sectors_written += 1
                self.state = self.RESP
        elif rdata_fire:
            self.k += 1
            if self.k == SECTOR_WORDS:
                if not self.bad:
                    self.sectors_read += 1
                self.state = self.RESP
        elif resp_fire:
            self.state = self.IDLE


class PysimEngine:
    """The SoC in Amaranth's Python simulator (exact, ~1000x slower than cxxrtl)."""

    name = "pysim"

    def __init__(self, ram_size=memmap.DEFAULT_RAM_SIZE, log=None):
        from amaranth.hdl import Fragment
        from amaranth.sim import Simulator
        self.soc = soc = _new_soc(ram_size)
        self.ram_size = ram_size
        frag = Fragment.get(soc, None)
        self._stimecmp = _find_signal(frag, ("core", "csr"), "stimecmp")
        self._frag = frag
        self._wave = None           # sim.wave.capture.WindowCapture while armed
        self._wave_sigs = ()
        self._sim = Simulator(frag)
        self._sim.add_clock(1e-6)
        self._sim.add_testbench(self._bench)
        self._pending_loads = []
        self._rx = bytearray()
        self._tx = bytearray()
        self._disk = _PyStorage()
        self._tohost_row = None
        self._stats = Stats()
        self._flags = 0
        self._cycle_done = False
        self._stop_tx = False
        self._started = False

    def close(self):
        pass

    def load(self, image):
        if self._started:
            raise EngineError("load before running")
        _check_segments(image, self.ram_size)
        self._pending_loads += [(addr, _trimmed(blob)) for addr, blob in image.segments]

    def set_disk(self, data):
        if self._started:
            raise EngineError("set the disk before running")
        self._disk.disk = bytearray(data)

    def disk_image(self):
        return bytes(self._disk.disk)

    def set_tohost(self, paddr):
        self._tohost_row = self.soc.ram.word_index(paddr & ~7)

    def rx_push(self, data):
        self._rx += bytes(data)

    def rx_pending(self):
        return len(self._rx)

    def tx_take(self):
        out = bytes(self._tx)
        self._tx.clear()
        return out

    def stats(self):
        s = self._stats
        s.sectors_read, s.sectors_written = self._disk.sectors_read, self._disk.sectors_written
        return Stats(**vars(s))

    async def _bench(self, ctx):
        soc = self.soc
        st = soc.storage
        disk = self._disk
        for addr, data in self._pending_loads:
            soc.ram.load(ctx, addr, data)
        self._pending_loads = []

        def drive_storage():
            ctx.set(st.cmd.ready, disk.state == disk.IDLE)
            ctx.set(st.wdata.ready, disk.state == disk.WDATA)
            ctx.set(st.rdata.valid, disk.state == disk.RDATA)
            ctx.set(st.rdata.payload, disk.word())
            ctx.set(st.resp.valid, disk.state == disk.RESP)
            ctx.set(st.resp.payload.as_value(), int(disk.state == disk.RESP and disk.bad))
            ctx.set(st.capacity, len(disk.disk) // SECTOR_BYTES)

        ctx.set(soc.uart_tx.ready, 1)
        drive_storage()
        offered = None
        stats = self._stats
        mtime, mtimecmp, stimecmp = soc.clint.mtime_reg, soc.clint.mtimecmp_reg, self._stimecmp
        while True:
            (_, _, tx_valid, tx_byte, rx_valid, rx_ready, cmd_valid, cmd, wvalid, wword,
             rready, resp_ready, ret_valid, ret_trap, sleeping, *wave_vals) = await ctx.tick().sample(
                soc.uart_tx.valid, soc.uart_tx.payload, soc.uart_rx.valid, soc.uart_rx.ready,
                st.cmd.valid, st.cmd.payload.as_value(), st.wdata.valid, st.wdata.payload,
                st.rdata.ready, st.resp.ready, soc.retire.valid, soc.retire.trap, soc.wfi,
                *self._wave_sigs)
            if wave_vals:
                self._wave_sample(stats.cycles, wave_vals)
            stats.cycles += 1
            if ret_valid:
                if ret_trap:
                    stats.traps += 1
                else:
                    stats.instret += 1
            self._stop_tx = False
            if tx_valid:
                self._tx.append(tx_byte)
                self._stop_tx = bool(self._flags & _RUN_STOP_ON_TX)
            if rx_valid and rx_ready:
                del self._rx[0]
            want = self._rx[0] if self._rx else None
            if want != offered:
                ctx.set(soc.uart_rx.valid, want is not None)
                ctx.set(soc.uart_rx.payload, want or 0)
                offered = want
            fires = (disk.state == disk.IDLE and cmd_valid, disk.state == disk.WDATA and wvalid,
                     disk.state == disk.RDATA and rready, disk.state == disk.RESP and resp_ready)
            if any(fires):
                disk.step(fires[0], cmd, fires[1], wword, fires[2], fires[3])
                drive_storage()
            if self._flags & _RUN_SKIP_WFI and sleeping:
                now = ctx.get(mtime)
                target = min(ctx.get(mtimecmp), ctx.get(stimecmp))
                if target != U64 and target > now + 1:
                    ctx.set(mtime, target - 1)
                    stats.wfi_skips += 1
                    stats.skipped_ticks += target - 1 - now
            if self._tohost_row is not None:
                v = ctx.get(soc.ram.mem.data[self._tohost_row])
                if v:
                    stats.tohost = v
            stats.mtime = ctx.get(mtime)
            self._cycle_done = True

    # --- waveform capture (sim/wave/capture.py), the same windows as driver.cc ---

    def _wave_signal(self, name):
        """The design's signal for a CXXRTL debug name: "mmu_events__kind" is a port of the
        SoC, "core mmu walker level" the signal `level` of sub-module core.mmu.walker."""
        parts = name.split(" ")
        if len(parts) == 1:
            obj = self.soc
            for attr in name.split("__"):
                obj = getattr(obj, attr, None)
                if obj is None:
                    raise EngineError(f"design has no port {name}")
        else:
            obj = _find_signal(self._frag, tuple(parts[:-1]), parts[-1])
        return obj.as_value() if hasattr(obj, "as_value") else obj

    def wave_signal_width(self, name):
        try:
            width = len(self._wave_signal(name))
        except EngineError:
            return 0
        return width if width <= 64 else 0

    def wave_arm(self, names, before, after, max_windows):
        from .wave.capture import WindowCapture
        ev = self.soc.mmu_events
        cols = [self._wave_signal(n) for n in names]
        self._wave = WindowCapture(len(cols), before, after, max_windows)
        self._wave_sigs = (ev.valid, ev.kind.as_value(), ev.pte, *cols) if max_windows else ()

    def _wave_sample(self, cycle, values):
        values = [int(v) for v in values]
        if not self._wave.sample(cycle, values[0], values[1], values[2], values[3:]):
            self._wave_sigs = ()

    def wave_take(self):
        return self._wave.take() if self._wave else []

    def wave_stop(self):
        self._wave_sigs = ()
        if self._wave:
            self._wave.open = False

    def wave_info(self):
        w = self._wave
        if w is None:
            return (0, 0, 0, 0, 0)
        return (w.windows, w.triggers, int(bool(self._wave_sigs)), int(w.open), len(w.out))

    def run(self, max_cycles, *, stop_on_tx=False, skip_wfi=True):
        self._started = True
        self._flags = (_RUN_STOP_ON_TX if stop_on_tx else 0) | (_RUN_SKIP_WFI if skip_wfi else 0)
        sim = self._sim
        for _ in range(max_cycles):
            self._cycle_done = False
            while not self._cycle_done:
                sim.advance()
            if self._stats.tohost:
                return STOP_TOHOST
            if self._stop_tx:
                return STOP_TX
        return STOP_LIMIT


ENGINES = {"cxxrtl": CxxrtlEngine, "pysim": PysimEngine}


def make_engine(name, ram_size=memmap.DEFAULT_RAM_SIZE, log=None):
    try:
        cls = ENGINES[name]
    except KeyError:
        raise EngineError(f"unknown engine {name!r} (choose from {', '.join(ENGINES)})") from None
    return cls(ram_size=ram_size, log=log)
