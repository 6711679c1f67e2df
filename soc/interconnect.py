"""Bus interconnect: an arbiter for several masters and an address decoder.

``Arbiter`` merges ``n`` master ports (hw/bus.py protocol) into one.  A master that
has been granted keeps the grant until its transfer completes (the last beat of a
burst, or a beat answered with ``error``), and for as long as it holds ``lock`` (so a
read-modify-write is atomic).  When the bus is free the grant
goes to a requesting master, rotating the priority so that the last winner comes
last and no master starves.  The grant decision is combinational, so an idle bus
adds no cycle of latency.

``Decoder`` routes one master port to the device regions of soc/memmap.py.  Each
slave port is as wide as its region (the device sees the offset in the low bits);
an address outside every region is answered in the next cycle, like a device
would, with ``ready`` and ``error`` (an access fault for the core, never a hang).
Only the regions named in ``bursts`` see bursts; a burst to any other region is
answered the same way, with ``error`` on its first beat, and never reaches the
device.  ``ready`` and ``error`` going back to the master are the OR of the
devices' (a device answers only the request it was given, while the master holds
it, and its ``error`` only with its ``ready``; soc/regs.py) and of that registered
answer: the address decode is not on the path of the answer, and ``rdata`` is chosen
by the region decoded in the previous cycle (registered), so the decode is not on
its path either.  The regions named in ``registered`` (staged ones: the boot ROM and
its scratch RAM, whose words come straight out of block RAMs) are answered a cycle
later from registers of the decoder's, so that no block RAM's read data (5.8 ns
after the clock on an ECP5) run on through the decoder and the core's port into
the core.  The arbiter gives ``ready`` to the master of its owner register.
Both rely on the bus protocol: no slave answers in the cycle it first sees a request.

``RegisterSlice`` puts one register stage into a bus, in both directions: the slave
behind it sees the master's request a cycle late, from flip-flops, and the master sees
the slave's answer a cycle late, from flip-flops.  It cuts a long wire (on the board,
from the core and the DMA master through the arbiter and decoder to the SDRAM
controller by the pins) into two, for two cycles more per transfer.
"""

from amaranth import *
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.bus import BusSignature

__all__ = ["Arbiter", "Decoder", "RegisterSlice"]


class Arbiter(wiring.Component):
    """``n`` masters (``masters[i]``, index 0 first on a tie at reset) onto ``bus``."""

    def __init__(self, n):
        if n < 1:
            raise ValueError("the arbiter needs at least one master")
        self.n = n
        super().__init__({
            "masters": In(BusSignature()).array(n),
            "bus": Out(BusSignature()),
        })

    def elaborate(self, platform):
        m = Module()
        n = self.n
        owner = Signal(range(n))       # master granted last (and now, when held)
        held = Signal()                # owner keeps the bus: transfer open or locked
        choice = Signal(range(n))
        beat = Signal.like(self.bus.burst_len)   # beats of the open transfer completed

        # Rotating priority: starting after the last owner, the first requester wins.
        # Loop from the lowest priority to the highest so the last assignment wins.
        with m.If(held):
            m.d.comb += choice.eq(owner)
        with m.Else():
            m.d.comb += choice.eq(owner)
            for step in reversed(range(1, n + 1)):
                for last in range(n):
                    cand = (last + step) % n
                    with m.If((owner == last) & self.masters[cand].valid):
                        m.d.comb += choice.eq(cand)

        with m.Switch(choice):
            for i in range(n):
                with m.Case(i):
                    mst = self.masters[i]
                    m.d.comb += [
                        self.bus.valid.eq(mst.valid),
                        self.bus.addr.eq(mst.addr),
                        self.bus.write.eq(mst.write),
                        self.bus.wdata.eq(mst.wdata),
                        self.bus.sel.eq(mst.sel),
                        self.bus.lock.eq(mst.lock),
                        self.bus.burst_len.eq(mst.burst_len),
                    ]
        # Read data and error only count together with ready: every master sees them.
        # ``ready`` goes to the owner register's master: no slave answers in the
        # cycle it first sees a request (soc/regs.py, the RAM, the decoder's fault),
        # so a ready comes while the transfer is held, when the choice is the owner.
        # So the masters' requests (``valid``) do not reach the ready they get back.
        for i, mst in enumerate(self.masters):
            m.d.comb += [mst.ready.eq(self.bus.ready & (owner == i)),
                         mst.rdata.eq(self.bus.rdata), mst.error.eq(self.bus.error)]

        # The transfer ends with the ready of its last beat, or with an error.
        ends = self.bus.ready & (self.bus.error | (beat == self.bus.burst_len))
        with m.If(~self.bus.valid | ends):
            m.d.sync += beat.eq(0)
        with m.Elif(self.bus.ready):
            m.d.sync += beat.eq(beat + 1)
        m.d.sync += [
            owner.eq(choice),
            # Keep the grant while a transfer is open, and while lock is held.
            held.eq((self.bus.valid & ~ends) | self.bus.lock),
        ]
        return m


class Decoder(wiring.Component):
    """Routes ``bus`` to one slave port per region (attributes named after the regions)."""

    def __init__(self, regions, addr_width=None, bursts=(), staged=False, registered=()):
        """``staged``: the regions that do not burst (the devices) get their requests
        from registers, a cycle after the master made them (see ``elaborate``).
        ``registered``: staged regions whose answers are registered here (above)."""
        self.staged = staged
        self.registered = frozenset(registered)
        self.regions = tuple(regions)
        names = [r.name for r in self.regions]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate region names in {names}")
        self.bursts = frozenset(bursts)
        if not self.bursts <= set(names):
            raise ValueError(f"burst regions {sorted(self.bursts - set(names))} are not regions")
        if not self.registered <= set(names) - self.bursts or (self.registered and not staged):
            raise ValueError(f"registered regions {sorted(self.registered)} must be staged "
                             f"regions without bursts")
        ordered = sorted(self.regions, key=lambda r: r.base)
        for a, b in zip(ordered, ordered[1:]):
            if a.end > b.base:
                raise ValueError(f"regions {a.name} and {b.name} overlap")
        master_sig = BusSignature() if addr_width is None else BusSignature(addr_width)
        members = {"bus": In(master_sig)}
        for r in self.regions:
            if r.end > 1 << master_sig.addr_width:
                raise ValueError(f"region {r.name} lies beyond the bus's address space")
            if r.name == "bus":
                raise ValueError("a region may not be called 'bus'")
            members[r.name] = Out(BusSignature(r.addr_width))
        super().__init__(members)

    def slave(self, name):
        return getattr(self, name)

    def elaborate(self, platform):
        m = Module()
        addr = self.bus.addr
        burst = self.bus.burst_len != 0
        hit_any = Signal()
        readies, errors, rdatas = [], [], []
        for r in self.regions:
            port = getattr(self, r.name)
            hit = Signal(name=f"hit_{r.name}")
            if r.name in self.bursts:
                m.d.comb += hit.eq(addr[r.addr_width:] == (r.base >> r.addr_width))
            else:
                # A burst to a device decodes to nothing: the error below answers it.
                m.d.comb += hit.eq((addr[r.addr_width:] == (r.base >> r.addr_width)) & ~burst)
            fields = [
                (port.addr, addr[:r.addr_width]),
                (port.write, self.bus.write),
                (port.wdata, self.bus.wdata),
                (port.sel, self.bus.sel),
                (port.lock, self.bus.lock),
                (port.burst_len, self.bus.burst_len),
            ]
            # the answer the master sees: the port's own, or registered (below)
            ready, error, rdata = port.ready, port.error, port.rdata
            if self.staged and r.name not in self.bursts:
                # A device's request a cycle late, from registers: the master's
                # request (the arbiter's choice of the core's port's owner or the
                # DMA master) and its address decode end at these flip-flops,
                # and a device's side effects (a claim of the PLIC, a pop of the
                # UART's FIFO) start from them.  The master holds its request
                # until its ``ready``, so the device sees a master that holds it
                # too, from the cycle after the request to the cycle of its
                # ``ready``; ``valid`` drops in the cycle after that ready (the
                # device's ``ready`` is a register: soc/regs.py), when the master
                # may already make its next request.  A device is answered with
                # single transfers only (a burst decodes to nothing: ``error``).
                # One cycle more per device access; RAM is not staged.
                m.d.sync += [dst.eq(src) for dst, src in fields]
                answered = port.ready
                if r.name in self.registered:
                    # The answer a cycle later, from registers; the device's
                    # request drops in the cycle after its ``ready`` as above,
                    # and stays down in the next, when the master sees the
                    # answer and still holds its request.
                    ready = Signal(name=f"{r.name}_ready_q")
                    error = Signal(name=f"{r.name}_error_q")
                    rdata = Signal.like(port.rdata, name=f"{r.name}_rdata_q")
                    m.d.sync += [ready.eq(port.ready), error.eq(port.error),
                                 rdata.eq(port.rdata)]
                    answered = port.ready | ready
                m.d.sync += port.valid.eq(self.bus.valid & hit & ~answered)
            else:
                m.d.comb += port.valid.eq(self.bus.valid & hit)
                m.d.comb += [dst.eq(src) for dst, src in fields]
            readies.append(ready)
            errors.append(error)
            rdatas.append((hit, rdata))
            with m.If(hit):
                m.d.comb += hit_any.eq(1)
        # The read data come from the region addressed in the previous cycle: a
        # slave answers a cycle after it first sees a request at the earliest, and
        # the master holds its request until the answer, so in a cycle with
        # ``ready`` that is the region addressed now.  So the address decode (after
        # the arbiter's choice) is not on the path of the read data either.
        for hit, rdata in rdatas:
            hit_q = Signal(name=f"{hit.name}_q")
            m.d.sync += hit_q.eq(hit)
            with m.If(hit_q):
                m.d.comb += self.bus.rdata.eq(rdata)
        # Nothing lives here (or a burst to a device): fault in the next cycle.
        nothing = Signal()
        m.d.sync += nothing.eq(self.bus.valid & ~hit_any & ~nothing)
        m.d.comb += [
            self.bus.ready.eq(Cat(*readies, nothing).any()),
            self.bus.error.eq(Cat(*errors, nothing).any()),
        ]
        return m


class RegisterSlice(wiring.Component):
    """A register stage between a master (``bus``) and a slave (``slave``), bursts
    included (hw/bus.py).

    Every request field is copied to ``slave`` one cycle later, and ``ready``,
    ``rdata`` and ``error`` go back one cycle later.  After the last beat of a
    transfer (or an ``error``) the slave's ``ready`` reaches the master a cycle late,
    and the master drops its request a cycle after that, so the copy would show the
    finished request for two more cycles: ``valid`` is held low in those two cycles
    (``ending``, ``ended``), and the slave sees every transfer once.

    A write burst's ``wdata`` moves in the cycle after the master sees a ``ready``:
    the slave sees the next beat's data three cycles after its own ``ready`` (the
    slave's ``ready`` -> the master -> its new ``wdata`` -> the copy).  A slave behind
    the slice must take a beat's data by the cycle it answers and not look for the
    next beat's before then (soc/sdram/controller.py keeps a beat's words in a
    register of its own for that).
    """

    def __init__(self, addr_width):
        super().__init__({
            "bus": In(BusSignature(addr_width)),
            "slave": Out(BusSignature(addr_width)),
        })

    def elaborate(self, platform):
        m = Module()
        up, down = self.bus, self.slave
        beat = Signal.like(down.burst_len)     # the slave's beats answered in this transfer
        ending = Signal()                      # the slave answers the transfer's last beat
        ended = Signal()                       # ... and the master sees that answer now
        m.d.comb += ending.eq(down.ready & (down.error | (beat == down.burst_len)))
        with m.If(~down.valid | ending):
            m.d.sync += beat.eq(0)
        with m.Elif(down.ready):
            m.d.sync += beat.eq(beat + 1)
        m.d.sync += [
            ended.eq(ending),
            down.valid.eq(up.valid & ~ending & ~ended),
            down.addr.eq(up.addr),
            down.write.eq(up.write),
            down.wdata.eq(up.wdata),
            down.sel.eq(up.sel),
            down.lock.eq(up.lock),
            down.burst_len.eq(up.burst_len),
            up.ready.eq(down.ready),
            up.rdata.eq(down.rdata),
            up.error.eq(down.error),
        ]
        return m
