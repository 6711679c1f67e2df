r"""The system on chip: core, interconnect, RAM, CLINT, PLIC, UART and virtio block.

::

    Core.bus ------\                         /-- CLINT   0x0200_0000 -> mti, msi, mtime
                    Arbiter -- Decoder ------+-- PLIC    0x0C00_0000 -> mei (ctx 0), sei (ctx 1)
    VirtioBlock.dma /                        +-- UART0   0x1000_0000 (PLIC source 10)
                                             +-- VIRTIO0 0x1000_1000 (PLIC source 1)
                                             \-- RAM     0x8000_0000, ram_size bytes

External ports: ``uart_rx`` / ``uart_tx`` (byte streams to and from the terminal or the
serial-pin wrapper), ``storage`` (soc/storage.py: sector requests of the block device)
and the core's observation ports ``retire``, ``mmu_events`` and ``wfi``.

Boot: the core leaves reset in M-mode at 0x8000_0000 with a0 = 0 (hart id) and a1 = 0
(no device tree).  The simulator loads programs with ``soc.ram.load(ctx, paddr, data)``
(see soc/ram.py).  While ``wfi`` is high a simulator may skip idle time by setting the
CLINT's counter: ``ctx.set(soc.clint.mtime_reg, value)``.

``core`` picks the core: "pipeline" (default, hw/core/pipeline.py) or "fsm" (the
multi-cycle core of hw/core/core.py).

With ``cpu=False`` the core is left out and its bus becomes the input port ``cpu_bus``
(and its interrupt inputs the outputs ``mei``, ``sei``, ``mti``, ``msi``, ``mtime``), so
a testbench can play the core.
"""

from amaranth import *
from amaranth.lib import wiring, stream
from amaranth.lib.wiring import In, Out

from hw.bus import BusSignature
from . import memmap
from .clint import CLINT
from .interconnect import Arbiter, Decoder
from .plic import PLIC
from .ram import RAM
from .storage import StorageSignature
from .uart import UART16550
from .virtio_blk import VirtioBlock

__all__ = ["SoC"]


class SoC(wiring.Component):
    def __init__(self, *, ram_size=memmap.DEFAULT_RAM_SIZE, itlb_entries=8, dtlb_entries=8,
                 clk_freq=10_000_000, mtime_freq=10_000_000, queue_max=16,
                 uart_rx_timeout=1024, cpu=True, mmu="sv39", core="pipeline"):
        self.ram_size = ram_size
        self.clk_freq = clk_freq
        self.mtime_freq = mtime_freq
        self.has_cpu = cpu

        self.ram = RAM(size=ram_size, base=memmap.RAM_BASE)
        self.clint = CLINT(clk_freq=clk_freq, mtime_freq=mtime_freq)
        self.plic = PLIC()
        self.uart = UART16550(rx_timeout=uart_rx_timeout)
        self.virtio = VirtioBlock(queue_max=queue_max)
        self.arbiter = Arbiter(2)
        self.decoder = Decoder(memmap.DEVICE_REGIONS + (self.ram.region,))

        members = {
            "uart_rx": In(stream.Signature(8)),
            "uart_tx": Out(stream.Signature(8)),
            "storage": Out(StorageSignature()),
        }
        if cpu:
            from hw.core import build_core
            from hw.core.retire import RetireSignature
            from hw.mmu.signatures import MMUEventSignature
            self.core = build_core(core, reset_pc=memmap.RESET_PC, hartid=0, dtb_addr=0,
                                   ram_base=memmap.RAM_BASE, ram_size=ram_size,
                                   itlb_entries=itlb_entries, dtlb_entries=dtlb_entries,
                                   mmu=mmu)
            members.update({
                "retire": Out(RetireSignature()),
                "mmu_events": Out(MMUEventSignature()),
                "wfi": Out(1),
            })
        else:
            self.core = None
            members.update({
                "cpu_bus": In(BusSignature()),
                "mei": Out(1), "sei": Out(1), "mti": Out(1), "msi": Out(1),
                "mtime": Out(64),
            })
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        for name in ("ram", "clint", "plic", "uart", "virtio", "arbiter", "decoder"):
            m.submodules[name] = getattr(self, name)

        # Masters: the core first, then the block device's DMA.
        if self.core is not None:
            m.submodules.core = self.core
            wiring.connect(m, self.core.bus, self.arbiter.masters[0])
        else:
            wiring.connect(m, wiring.flipped(self.cpu_bus), self.arbiter.masters[0])
        wiring.connect(m, self.virtio.dma, self.arbiter.masters[1])
        wiring.connect(m, self.arbiter.bus, self.decoder.bus)

        # Slaves.
        wiring.connect(m, self.decoder.ram, self.ram.bus)
        wiring.connect(m, self.decoder.clint, self.clint.bus)
        wiring.connect(m, self.decoder.plic, self.plic.bus)
        wiring.connect(m, self.decoder.uart0, self.uart.bus)
        wiring.connect(m, self.decoder.virtio0, self.virtio.bus)

        # Interrupt sources into the PLIC.
        m.d.comb += self.plic.sources_in.eq(
            (self.uart.irq << memmap.UART0_IRQ) | (self.virtio.irq << memmap.VIRTIO0_IRQ))

        # Outside world.
        wiring.connect(m, wiring.flipped(self.uart_rx), self.uart.rx)
        wiring.connect(m, self.uart.tx, wiring.flipped(self.uart_tx))
        wiring.connect(m, self.virtio.storage, wiring.flipped(self.storage))

        mei, sei = self.plic.irq[0], self.plic.irq[1]
        if self.core is not None:
            m.d.comb += [
                self.core.mei.eq(mei),
                self.core.sei.eq(sei),
                self.core.mti.eq(self.clint.mti),
                self.core.msi.eq(self.clint.msi),
                self.core.mtime.eq(self.clint.mtime),
            ]
            if hasattr(self.core, "snoop_valid"):
                # The caches see the DMA master's writes to memory.
                dma = self.virtio.dma
                m.d.comb += [
                    self.core.snoop_valid.eq(dma.valid & dma.write & dma.ready),
                    self.core.snoop_addr.eq(dma.addr),
                ]
            wiring.connect(m, self.core.retire, wiring.flipped(self.retire))
            wiring.connect(m, self.core.mmu_events, wiring.flipped(self.mmu_events))
            m.d.comb += self.wfi.eq(self.core.wfi)
        else:
            m.d.comb += [
                self.mei.eq(mei),
                self.sei.eq(sei),
                self.mti.eq(self.clint.mti),
                self.msi.eq(self.clint.msi),
                self.mtime.eq(self.clint.mtime),
            ]
        return m
