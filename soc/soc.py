r"""The system on chip: core, interconnect, RAM, CLINT, PLIC, UART and virtio block.

::

    Core.bus ------\                         /-- CLINT   0x0200_0000 -> mti, msi, mtime
                    Arbiter -- Decoder ------+-- PLIC    0x0C00_0000 -> mei (ctx 0), sei (ctx 1)
    VirtioBlock.dma /                        +-- UART0   0x1000_0000 (PLIC source 10)
                                             +-- VIRTIO0 0x1000_1000 (PLIC source 1)
                                             \-- RAM     0x8000_0000, ram_size bytes

Only the RAM serves bursts (hw/bus.py); its first beat comes ``ram_latency`` cycles
after the request (1: the block RAM's timing; more stands in for a slower memory).

Main memory is that block RAM by default.  With ``memory=SDRAMConfig(...)``
(soc/sdram/) it is an SDRAM controller instead, behind a register slice
(soc/interconnect.py: the controller sits by the chip's pins, the masters far from
them; two cycles more per transfer): with ``model=True`` the chip model sits
inside the SoC (the board configuration in simulation; its storage is the debug item
``sdram_chip mem``, a byte image of the RAM like ``ram mem``; its checks are the output
ports ``sdram_error``, ``sdram_error_cycle``, ``sdram_error_bank``, ``sdram_refreshes``),
else the chip's pins are the port ``sdram`` (the board top connects them).

External ports: ``uart_rx`` / ``uart_tx`` (byte streams to and from the terminal or the
serial-pin wrapper), ``storage`` (soc/storage.py: sector requests of the block device),
the core's observation ports ``retire``, ``mmu_events`` and ``wfi``, and ``dma_write``
(DmaWriteSignature): the block device's writes to memory, one cycle after the arbiter
completes them (the observation ports leave from flip-flops; simulators log them so
that a model of the CPU can follow what the device changed).

Boot: the core leaves reset in M-mode at ``reset_pc`` (0x8000_0000 by default) with
a0 = 0 (hart id) and a1 = 0 (no device tree).  The simulator loads programs with
``soc.ram.load(ctx, paddr, data)`` (see soc/ram.py).  While ``wfi`` is high a simulator
may skip idle time by setting the CLINT's counter: ``ctx.set(soc.clint.mtime_reg, value)``.

Board devices, each optional (memmap.py gives their addresses):

* ``boot_rom`` (bytes, e.g. ``soc.bootrom.build.rom_image()``): the ROM at BOOTROM and
  its 4 KiB scratch RAM at BOOTRAM; pass ``reset_pc=memmap.BOOTROM.base`` to start there;
* ``sdcard`` (a dict of SDCardHost parameters, ``clk_freq`` defaulting to the SoC's): the
  block device's storage is an SD card on the SPI pins ``sd`` (soc/sdcard/spi.py), with
  the host's registers at SDCARD, instead of the ``storage`` port;
* ``leds=True``: the LED register at LEDS and the output port ``leds`` (8 bits);
* ``registered_answers=True``: every device's answer (all but the RAM's) reaches the
  masters a cycle late, from the decoder's registers (soc/interconnect.py), so that
  no device's ``ready`` or read data cross the chip into the core in the cycle they
  are made: a device access takes 4 cycles instead of 3 (the board);
* ``core_answer_registered=True`` (the pipelined core): the core's memory port takes
  the bus's answer into flip-flops before its requesters see it (hw/core/memport.py),
  so that no answer, the RAM's included, runs on from the interconnect into the core's
  decisions in the cycle it comes: every transfer of the core takes a cycle more.
  The board's SoC with it meets 50 MHz out of context, but the board's build does not
  have it yet (it missed 50 MHz on seven seeds: docs/measurements.md);
* ``card`` (simulation only, with ``sdcard``; a dict of SDCardModel parameters): an SD
  card model (soc/sdcard/model.py) on the SD pins inside the SoC instead of the ``sd``
  port, so that a simulator runs the whole board as one design; the input
  ``card_removed`` (1 = no card) drives the model's ``present``, and the outputs
  ``card_blocks_read`` and ``card_blocks_written`` count the blocks it moved.

``core`` picks the core: "pipeline" (default, hw/core/pipeline.py) or "fsm" (the
multi-cycle core of hw/core/core.py).

With ``cpu=False`` the core is left out and its bus becomes the input port ``cpu_bus``
(and its interrupt inputs the outputs ``mei``, ``sei``, ``mti``, ``msi``, ``mtime``), so
a testbench can play the core.
"""

from amaranth import *
from amaranth.lib import wiring, stream
from amaranth.lib.wiring import In, Out

from hw.bus import PADDR_WIDTH, BusSignature
from . import memmap
from .clint import CLINT
from .interconnect import Arbiter, Decoder, RegisterSlice
from .leds import LEDs
from .plic import PLIC
from .ram import RAM
from .rom import ROM
from .sdcard.host import SDCardHost
from .sdcard.model import SDCardModel
from .sdcard.spi import SPISignature
from .storage import StorageSignature
from .uart import UART16550
from .virtio_blk import VirtioBlock

__all__ = ["SoC", "DmaWriteSignature"]


class DmaWriteSignature(wiring.Signature):
    """Observation of the block device's bus writes (``Out`` = driven by the SoC).

    ``valid`` is high in the cycle after a write of the device (the arbiter's second
    master) completes without error (``ready`` high, ``error`` low): the port leaves
    the SoC from flip-flops, like the pipelined core's observation ports, which also
    show a retirement or an MMU event one cycle after it happens, so the three keep
    their order.  ``addr`` is the physical
    address of the doubleword, ``data`` its value on the byte lanes and ``mask`` the
    lanes written (bit i = byte ``addr + i``), as on the bus (hw/bus.py).  The device
    makes single transfers (``burst_len`` 0), so a completion is one doubleword at
    ``addr``; a bursting master would need its beat number added.
    """

    def __init__(self):
        super().__init__({
            "valid": Out(1),
            "addr":  Out(PADDR_WIDTH),
            "data":  Out(64),
            "mask":  Out(8),
        })

    def __eq__(self, other):
        return type(other) is DmaWriteSignature

    def __repr__(self):
        return "DmaWriteSignature()"


class SoC(wiring.Component):
    def __init__(self, *, ram_size=memmap.DEFAULT_RAM_SIZE, itlb_entries=8, dtlb_entries=16,
                 clk_freq=10_000_000, mtime_freq=10_000_000, queue_max=16,
                 uart_rx_timeout=1024, cpu=True, mmu="sv39", ram_latency=1, memory=None,
                 reset_pc=memmap.RESET_PC, boot_rom=None, sdcard=None, leds=False, card=None,
                 core="pipeline", registered_answers=False, core_answer_registered=False):
        if card is not None and sdcard is None:
            raise ValueError("a card model needs the SD host (sdcard=...)")
        self.memory = memory
        if memory is not None:
            ram_size = memory.geometry.size
        self.ram_size = ram_size
        self.ram_latency = ram_latency
        self.clk_freq = clk_freq
        self.mtime_freq = mtime_freq
        self.has_cpu = cpu
        self.reset_pc = reset_pc

        self.sdram_chip = self.ram_slice = None
        if memory is None:
            self.ram = RAM(size=ram_size, base=memmap.RAM_BASE, latency=ram_latency)
        else:
            from .sdram.controller import SDRAMController
            self.ram = SDRAMController(memory.timing, memory.geometry, base=memmap.RAM_BASE,
                                       read_delay=memory.read_delay)
            self.ram_slice = RegisterSlice(self.ram.region.addr_width)
            if memory.model:
                from .sdram.model import SDRAMModel
                self.sdram_chip = SDRAMModel(memory.timing, memory.geometry)
        self.clint = CLINT(clk_freq=clk_freq, mtime_freq=mtime_freq)
        self.plic = PLIC()
        self.uart = UART16550(rx_timeout=uart_rx_timeout)
        self.virtio = VirtioBlock(queue_max=queue_max)
        self.arbiter = Arbiter(2)
        # Bus slaves by region name (the decoder's port of that name goes to their `bus`).
        self.slaves = {
            "ram": self.ram if self.ram_slice is None else self.ram_slice,
            "clint": self.clint, "plic": self.plic, "uart0": self.uart,
            "virtio0": self.virtio,
        }
        regions = list(memmap.DEVICE_REGIONS) + [self.ram.region]

        self.rom = self.bootram = self.sdhost = self.led_register = None
        if boot_rom is not None:
            self.rom = ROM(boot_rom, memmap.BOOTROM)
            self.bootram = RAM(size=memmap.BOOTRAM.size, base=memmap.BOOTRAM.base,
                               name=memmap.BOOTRAM.name)
            self.slaves.update(bootrom=self.rom, bootram=self.bootram)
            regions += [memmap.BOOTROM, memmap.BOOTRAM]
        self.card = SDCardModel(**card) if card is not None else None
        if sdcard is not None:
            self.sdhost = SDCardHost(**{"clk_freq": clk_freq, **sdcard})
            self.slaves["sdcard"] = self.sdhost
            regions.append(memmap.SDCARD)
        if leds:
            self.led_register = LEDs()
            self.slaves["leds"] = self.led_register
            regions.append(memmap.LEDS)
        # (the boot ROM's and its scratch RAM's words come from block RAMs: see
        # Decoder's ``registered``; with ``registered_answers`` every device's answer
        # comes from the decoder's registers)
        if registered_answers:
            registered = {r.name for r in regions} - {"ram"}
        elif boot_rom is not None:
            registered = {"bootrom", "bootram"}
        else:
            registered = set()
        self.decoder = Decoder(regions, bursts={"ram"}, staged=True, registered=registered)

        members = {
            "uart_rx": In(stream.Signature(8)),
            "uart_tx": Out(stream.Signature(8)),
            "dma_write": Out(DmaWriteSignature()),
        }
        if memory is not None and not memory.model:
            from .sdram.pins import SDRAMPinsSignature
            members["sdram"] = Out(SDRAMPinsSignature(memory.geometry))
        if self.sdram_chip is not None:
            # The chip model's checks, as ports so that the compiled model keeps them.
            members.update({"sdram_error": Out(self.sdram_chip.error.shape()),
                            "sdram_error_cycle": Out(len(self.sdram_chip.error_cycle)),
                            "sdram_error_bank": Out(len(self.sdram_chip.error_bank)),
                            "sdram_refreshes": Out(32)})
        if self.sdhost is None:
            members["storage"] = Out(StorageSignature())
        elif card is None:
            members["sd"] = Out(SPISignature())
        else:
            members.update(card_removed=In(1), card_blocks_read=Out(32),
                           card_blocks_written=Out(32))
        if leds:
            members["leds"] = Out(8)
        if cpu:
            from hw.core import build_core
            from hw.core.retire import RetireSignature
            from hw.mmu.signatures import MMUEventSignature
            rom = {} if boot_rom is None else {"rom_base": memmap.BOOTROM.base,
                                               "rom_size": memmap.BOOTROM.size}
            self.core = build_core(core, reset_pc=reset_pc, hartid=0, dtb_addr=0,
                                   ram_base=memmap.RAM_BASE, ram_size=ram_size, **rom,
                                   answer_registered=core_answer_registered,
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
        # How long a reset must be held to clear the core's caches (a board's
        # reset after its PLL locks is at least this long: soc/board/pll.py)
        self.reset_cycles = getattr(self.core, "reset_cycles", 1)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        for name in ("ram", "clint", "plic", "uart", "virtio", "arbiter", "decoder"):
            m.submodules[name] = getattr(self, name)
        for name in ("ram_slice", "rom", "bootram", "sdhost", "led_register", "card"):
            if getattr(self, name) is not None:
                m.submodules[name] = getattr(self, name)

        # Masters: the core first, then the block device's DMA.
        if self.core is not None:
            m.submodules.core = self.core
            wiring.connect(m, self.core.bus, self.arbiter.masters[0])
        else:
            wiring.connect(m, wiring.flipped(self.cpu_bus), self.arbiter.masters[0])
        wiring.connect(m, self.virtio.dma, self.arbiter.masters[1])
        dma = self.virtio.dma
        # The write as it completes (the core's caches snoop it in that cycle); the
        # observation port shows it from flip-flops one cycle later, like the core's
        # ports (DmaWriteSignature), all fields loaded every cycle.
        dma_done = Signal()
        m.d.comb += dma_done.eq(dma.valid & dma.write & dma.ready & ~dma.error)
        m.d.sync += [
            self.dma_write.valid.eq(dma_done),
            self.dma_write.addr.eq(dma.addr),
            self.dma_write.data.eq(dma.wdata),
            self.dma_write.mask.eq(dma.sel),
        ]
        wiring.connect(m, self.arbiter.bus, self.decoder.bus)

        # Slaves.
        for name, device in self.slaves.items():
            wiring.connect(m, self.decoder.slave(name), device.bus)
        if self.ram_slice is not None:
            wiring.connect(m, self.ram_slice.slave, self.ram.bus)
        if self.sdram_chip is not None:
            chip = self.sdram_chip
            m.submodules.sdram_chip = chip
            wiring.connect(m, self.ram.pins, chip.pins)
            m.d.comb += [self.sdram_error.eq(chip.error),
                         self.sdram_error_cycle.eq(chip.error_cycle),
                         self.sdram_error_bank.eq(chip.error_bank),
                         self.sdram_refreshes.eq(chip.refreshes)]
        elif self.memory is not None:
            wiring.connect(m, self.ram.pins, wiring.flipped(self.sdram))

        # Interrupt sources into the PLIC.
        m.d.comb += self.plic.sources_in.eq(
            (self.uart.irq << memmap.UART0_IRQ) | (self.virtio.irq << memmap.VIRTIO0_IRQ))

        # Outside world.
        wiring.connect(m, wiring.flipped(self.uart_rx), self.uart.rx)
        wiring.connect(m, self.uart.tx, wiring.flipped(self.uart_tx))
        if self.sdhost is None:
            wiring.connect(m, self.virtio.storage, wiring.flipped(self.storage))
        else:
            wiring.connect(m, self.virtio.storage, self.sdhost.storage)
            if self.card is None:
                wiring.connect(m, self.sdhost.sd, wiring.flipped(self.sd))
            else:
                wiring.connect(m, self.sdhost.sd, self.card.spi)
                m.d.comb += [self.card.present.eq(~self.card_removed),
                             self.card_blocks_read.eq(self.card.blocks_read),
                             self.card_blocks_written.eq(self.card.blocks_written)]
        if self.led_register is not None:
            m.d.comb += self.leds.eq(self.led_register.leds)

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
                m.d.comb += [
                    self.core.snoop_valid.eq(dma_done),
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
