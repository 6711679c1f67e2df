"""Simulation targets for the ELF runner.

A target builds the design under test and runs it cycle by cycle, reporting every
retired instruction (a ``sim.engine.Retire`` record) and the program's tohost writes.
``CoreTarget`` is the stand-alone core in Amaranth's Python simulator with a memory
system modelled in the testbench:

* RAM at ``ram_base`` (default 0x8000_0000), zero wait states;
* a CLINT-like timer at 0x0200_0000 (msip at +0, mtimecmp at +0x4000,
  mtime at +0xBFF8) driving the core's msi/mti/mtime inputs; mtime counts
  one tick every ``mtime_div`` cycles and jumps forward to mtimecmp while
  the core sleeps in WFI (so idle loops cost no simulated time);
* a harness-only register ``IRQ_LINES`` at 0x0010_1000: bit 0 drives
  the core's ``mei`` input, bit 1 ``sei`` (interrupt tests use it);
* every other address answers with a bus error (access fault);
* ``bus_latency`` wait states before every ``ready`` (default 0: ready in
  the first cycle), and a check that the master holds its request stable
  until ready (``BusProtocolError`` otherwise);
* the pipelined core's simulation-only assertions (``checks=True``): a broken
  internal contract ends the run with ``DesignCheckError``.

``TARGETS`` lists the targets the runner offers; "soc" is the whole SoC on either
engine of sim/engine.py (sim/soctarget.py) with the same interface: ``load(image)``
then ``run(max_cycles=, on_retire=, vcd=)`` -> RunResult.
"""

from amaranth.sim import Simulator

from hw.core import build_core, port_delay as core_port_delay
from hw.mmu.mmu import MMU

from .engine import RETIRE_FIELDS, Retire

__all__ = ["CoreTarget", "RunResult", "BusProtocolError", "DesignCheckError", "RetireCounter",
           "simulate", "CLINT_BASE", "IRQ_LINES"]

CLINT_BASE = 0x0200_0000
CLINT_SIZE = 0x1_0000
IRQ_LINES = 0x0010_1000
U64 = (1 << 64) - 1


class BusProtocolError(Exception):
    """The design broke the bus handshake rules (hw/bus.py)."""


class DesignCheckError(Exception):
    """One of the design's simulation-only assertions failed (an Amaranth
    ``Assert``, e.g. the memory port's contract in hw/core/memport.py)."""


class RunResult:
    def __init__(self, status, tohost, cycles, instret, traps, seconds=None, perf=None):
        self.status = status      # "tohost" or "limit"
        self.tohost = tohost
        self.cycles = cycles
        self.instret = instret
        self.traps = traps
        self.seconds = seconds    # wall time of the cycles alone, when the target knows it
        # the core's event and cycle-class counters at the end of the run, by name
        # (hw/core/perf.py; the pipelined core has them), else {}
        self.perf = perf or {}


class RetireCounter:
    """What a target's cycle loop tallies from the core's retire port: instructions
    retired and traps taken, each report passed on to ``on_retire`` (when given) as a
    ``Retire`` record.

    A core with a write buffer retires a store before its data reach memory, so
    the program goes on (spinning after its store to tohost) until the testbench
    sees tohost change.  The counts of a run that ends at tohost are those at the
    retirement of the store that wrote the final value there: the last store
    record of tohost's doubleword (same page offset: the store may go through a
    mapping) whose data is that value."""

    def __init__(self, port, on_retire=None, tohost=None):
        self.port = port
        self.on_retire = on_retire
        self.tohost_offset = None if tohost is None else tohost & 0xFF8
        self.instret = 0
        self.traps = 0
        self.at_store = None        # (value, instret, traps) after the last tohost store

    def count(self, ctx, cycle):
        """Call in a cycle where the port's ``valid`` is high (``cycle``: its number)."""
        port = self.port
        if ctx.get(port.trap):
            self.traps += 1
        else:
            self.instret += 1
            if (self.tohost_offset is not None and ctx.get(port.mem_wmask) and
                    ctx.get(port.mem_addr) & 0xFF8 == self.tohost_offset):
                wdata = ctx.get(port.mem_wdata) << (8 * (ctx.get(port.mem_addr) & 7))
                self.at_store = (wdata & U64, self.instret, self.traps)
        if self.on_retire is not None:
            self.on_retire(Retire(cycle, *(ctx.get(getattr(port, f)) for f in RETIRE_FIELDS)))

    def result(self, cycles, tohost):
        """The run's RunResult; ``tohost`` is the value that ended it, None if the cycle
        limit did."""
        status = "limit" if tohost is None else "tohost"
        instret, traps = self.instret, self.traps
        if tohost is not None and self.at_store is not None and self.at_store[0] == tohost:
            _, instret, traps = self.at_store
        return RunResult(status, tohost, cycles, instret, traps)


def simulate(dut, bench, *, vcd=None):
    """Run testbench ``bench`` on ``dut`` under a 1 MHz clock until it returns, writing a
    VCD to the path ``vcd`` when given."""
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()


def _format_mmu_event(cycle, e):
    kind = e["kind"].name if hasattr(e["kind"], "name") else str(e["kind"])
    access = e["access"].name if hasattr(e["access"], "name") else str(e["access"])
    return (f"  [mmu @{cycle}] {kind:10s} port={'ID'[e['port']]} {access:5s} "
            f"va={e['vaddr']:#x} level={e['level']} pte@{e['pte_addr']:#x}={e['pte']:#x} "
            f"pa={e['paddr']:#x} cause={e['cause']}")


class CoreTarget:
    """The core alone; memory and timer are modelled by the testbench."""

    name = "core"

    def __init__(self, *, ram_base=0x8000_0000, ram_size=1 << 20, mtime_div=1,
                 mmu="sv39", itlb_entries=8, dtlb_entries=8, bus_latency=0,
                 core="pipeline"):
        if bus_latency < 0:
            raise ValueError("bus latency must not be negative")
        self.bus_latency = bus_latency
        self.ram_base = ram_base
        self.ram_size = ram_size
        self.mtime_div = mtime_div
        self.core_kind = core
        self._core_args = dict(mmu=mmu, itlb_entries=itlb_entries, dtlb_entries=dtlb_entries)

    def load(self, image):
        """Copy the ELF's segments into a fresh RAM (checks they fit)."""
        self.ram = bytearray(self.ram_size)
        for addr, blob in image.segments:
            off = addr - self.ram_base
            if off < 0 or off + len(blob) > self.ram_size:
                raise ValueError(
                    f"segment at {addr:#x}..{addr + len(blob):#x} lies outside RAM "
                    f"{self.ram_base:#x}..{self.ram_base + self.ram_size:#x}")
            self.ram[off:off + len(blob)] = blob
        self.image = image
        # The pipeline's simulation-only assertions are on here: a broken
        # internal contract stops the run with its message (AssertionError).
        checks = {"checks": True} if self.core_kind == "pipeline" else {}
        self.core = build_core(self.core_kind, reset_pc=image.entry, ram_base=self.ram_base,
                               ram_size=self.ram_size, **self._core_args, **checks)

    def run(self, *, max_cycles, on_retire=None, on_mmu_event=None, vcd=None):
        core = self.core
        bus = core.bus
        ret = core.retire
        ram = self.ram
        base, size = self.ram_base, self.ram_size
        tohost = self.image.tohost
        retired = RetireCounter(ret, on_retire, tohost)
        result = {}

        async def bench(ctx):
            mtime = 0
            mtimecmp = U64
            msip = 0
            irq_lines = 0
            div = self.mtime_div
            sub = 0
            latency = self.bus_latency
            pending = None
            beat = 0                # beats of the pending transfer completed (bursts)
            wait = 0
            cycles = 0
            stop_value = None
            ev = core.mmu_events
            ev_fields = [n for n in ev.signature.members.keys() if n != "valid"]
            port_delay = core_port_delay(self.core_kind)

            def mmu_event(edge):
                # An event is reported with the edge at which the retire port would
                # show a record of its cycle: the MMU's port shows it EVENT_DELAY
                # edges after it happened, the retire port a record PORT_DELAY
                # edges after W (the multi-cycle core: none).
                if on_mmu_event is not None and ctx.get(ev.valid):
                    on_mmu_event(edge - MMU.EVENT_DELAY + port_delay,
                                 {n: ctx.get(getattr(ev, n)) for n in ev_fields})
            # an event shown with a record of the next cycle comes before it
            events_first = MMU.EVENT_DELAY > port_delay
            while cycles < max_cycles:
                ctx.set(core.mtime, mtime)
                ctx.set(core.mti, mtime >= mtimecmp)
                ctx.set(core.msi, msip & 1)
                ctx.set(core.mei, irq_lines & 1)
                ctx.set(core.sei, (irq_lines >> 1) & 1)
                done_value = None
                valid = ctx.get(bus.valid)
                if valid:
                    addr = ctx.get(bus.addr)
                    sel = ctx.get(bus.sel)
                    write = ctx.get(bus.write)
                    blen = ctx.get(bus.burst_len)
                    # Bus protocol (hw/bus.py): a master holds its request until the
                    # last beat's ready; a burst's wdata moves on after each beat.
                    req = (addr, write, sel, blen,
                           ctx.get(bus.wdata) if write and not blen else 0)
                    if pending is None:
                        pending = req
                        beat = 0
                        wait = latency
                    elif pending != req:
                        raise BusProtocolError(
                            f"cycle {cycles}: request changed while waiting: "
                            f"{pending} -> {req}")
                elif pending is not None:
                    raise BusProtocolError(f"cycle {cycles}: valid dropped before ready")
                if valid and wait > 0:
                    wait -= 1
                    ctx.set(bus.ready, 0)
                elif valid:
                    if blen and (addr % ((blen + 1) * 8) or blen & (blen + 1)):
                        raise BusProtocolError(f"cycle {cycles}: burst of {blen + 1} beats "
                                               f"at {addr:#x}")
                    addr += 8 * beat
                    beat += 1
                    if beat > blen:
                        pending = None
                    rdata = 0
                    error = 0
                    off = addr - base
                    if blen and not 0 <= off < size:
                        error = 1           # devices answer a burst with an error
                    elif 0 <= off < size:
                        if write:
                            wdata = ctx.get(bus.wdata)
                            old = int.from_bytes(ram[off:off + 8], "little")
                            mask = 0
                            for i in range(8):
                                if sel >> i & 1:
                                    mask |= 0xFF << (8 * i)
                            new = (old & ~mask) | (wdata & mask)
                            ram[off:off + 8] = new.to_bytes(8, "little")
                            if tohost is not None and addr == tohost & ~7:
                                done_value = new
                        else:
                            rdata = int.from_bytes(ram[off:off + 8], "little")
                    elif CLINT_BASE <= addr < CLINT_BASE + CLINT_SIZE:
                        reg = addr - CLINT_BASE
                        if write:
                            wdata = ctx.get(bus.wdata)
                            mask = 0
                            for i in range(8):
                                if sel >> i & 1:
                                    mask |= 0xFF << (8 * i)
                            if reg == 0:
                                msip = (msip & ~mask | wdata & mask) & 1
                            elif reg == 0x4000:
                                mtimecmp = (mtimecmp & ~mask | wdata & mask) & U64
                            elif reg == 0xBFF8:
                                mtime = (mtime & ~mask | wdata & mask) & U64
                        else:
                            rdata = {0: msip, 0x4000: mtimecmp, 0xBFF8: mtime}.get(reg, 0)
                    elif addr == IRQ_LINES:
                        if write:
                            if sel & 1:
                                irq_lines = ctx.get(bus.wdata) & 3
                        else:
                            rdata = irq_lines
                    else:
                        error = 1
                    if error:
                        pending = None      # the transfer ends at its first error
                    ctx.set(bus.ready, 1)
                    ctx.set(bus.rdata, rdata)
                    ctx.set(bus.error, error)
                else:
                    ctx.set(bus.ready, 0)
                    if ctx.get(core.wfi) and mtimecmp != U64 and mtimecmp > mtime:
                        mtime = mtimecmp
                await ctx.tick()
                cycles += 1
                sub += 1
                if sub == div:
                    sub = 0
                    mtime = (mtime + 1) & U64
                if events_first:
                    mmu_event(cycles)
                if ctx.get(ret.valid):
                    retired.count(ctx, cycles)
                if not events_first:
                    mmu_event(cycles)
                if done_value is not None and done_value != 0:
                    stop_value = done_value
                    break
            perf = {name: ctx.get(counter) for name, counter in getattr(core, "perf", {}).items()}
            if stop_value is not None:
                # A core whose retire port is registered (PORT_DELAY) shows what it
                # retired by the last edge only at the next ones, and the MMU shows
                # its events a cycle late (EVENT_DELAY): those reports still belong
                # to the run (the tohost store's may be one).  Nothing else is
                # counted in those edges.
                for extra in range(max(port_delay, MMU.EVENT_DELAY)):
                    await ctx.tick()
                    if extra < port_delay and ctx.get(ret.valid):
                        retired.count(ctx, cycles + 1 + extra)
                    if extra < MMU.EVENT_DELAY:
                        mmu_event(cycles + 1 + extra)
            result["run"] = retired.result(cycles, stop_value)
            result["run"].perf = perf

        try:
            simulate(core, bench, vcd=vcd)
        except AssertionError as e:
            # Amaranth's simulator reports a failed Assert so; any other
            # AssertionError is a bug of this harness and goes on as it is.
            if not str(e).startswith("Assertion violated"):
                raise
            raise DesignCheckError(str(e)) from None
        return result["run"]


def _soc_target(**kwargs):
    """The whole SoC (sim/soctarget.py): real CLINT, PLIC, UART and virtio devices."""
    from .soctarget import SoCTarget
    return SoCTarget(**kwargs)


#: name -> factory(ram_base=, ram_size=, mtime_div=, mmu=, ...) of a target
TARGETS = {"core": CoreTarget, "soc": _soc_target}
