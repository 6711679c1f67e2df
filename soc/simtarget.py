"""Running bare-metal ELFs on the whole SoC in Amaranth's Python simulator.

``SoCTarget`` has the interface of sim/harness.py's targets (``load(image)``,
``run(max_cycles=..., on_retire=..., vcd=...)`` returning a ``RunResult``), so the ELF
runner can list it beside ``CoreTarget``.  Differences from the core-only target: the
real devices answer (UART, CLINT, PLIC, virtio block), the program must start at
0x8000_0000 (the SoC's reset address), and the RAM size is rounded up to a power of
two.

* ``uart_input``: bytes offered to the UART receiver; with ``uart_prompt`` set they are
  held back until the program has written that byte sequence to the UART.
* ``uart_output``: after ``run``, every byte the program transmitted.
* ``disk``: a bytes-like disk image (whole sectors) served to the block device; after
  ``run`` the (possibly written) image is in ``disk_image``.
* tohost: the RAM doubleword at the ELF's ``tohost`` symbol is watched every cycle; a
  non-zero value ends the run.
* WFI: while the core waits and the CLINT's mtimecmp is set and ahead, mtime jumps to
  it (idle loops cost no simulated time).  stimecmp lives in the core, so Sstc-only
  sleepers are not skipped.
"""

from sim.harness import RetireCounter, simulate

from . import memmap
from .soc import SoC
from .storage import DiskModel

__all__ = ["SoCTarget"]

U64 = (1 << 64) - 1
MTIME_HZ = 10_000_000


class SoCTarget:
    name = "soc"

    def __init__(self, *, ram_base=memmap.RAM_BASE, ram_size=1 << 20, mtime_div=1, mmu="sv39",
                 itlb_entries=8, dtlb_entries=8, uart_input=b"", uart_prompt=None, disk=None,
                 echo_uart=None, core="pipeline"):
        if ram_base != memmap.RAM_BASE:
            raise ValueError(f"the SoC's RAM starts at {memmap.RAM_BASE:#x}")
        if mtime_div < 1:
            raise ValueError("mtime_div must be at least 1")
        size = 1 << 16
        while size < ram_size:
            size <<= 1
        self.ram_size = size
        self.mtime_div = mtime_div
        self.soc_args = dict(itlb_entries=itlb_entries, dtlb_entries=dtlb_entries, mmu=mmu,
                             core=core)
        self.uart_input = bytes(uart_input)
        self.uart_prompt = bytes(uart_prompt) if uart_prompt else None
        self.disk = DiskModel(bytearray(disk)) if disk is not None else DiskModel(bytearray())
        self.echo_uart = echo_uart
        self.uart_output = bytearray()

    @property
    def disk_image(self):
        return bytes(self.disk.image)

    def load(self, image):
        if image.entry != memmap.RESET_PC:
            raise ValueError(f"entry point {image.entry:#x}: the SoC starts at "
                             f"{memmap.RESET_PC:#x}")
        for addr, blob in image.segments:
            if addr < memmap.RAM_BASE or addr + len(blob) > memmap.RAM_BASE + self.ram_size:
                raise ValueError(f"segment at {addr:#x}..{addr + len(blob):#x} lies outside "
                                 f"RAM {memmap.RAM_BASE:#x}..{memmap.RAM_BASE + self.ram_size:#x}")
        self.image = image
        self.soc = SoC(ram_size=self.ram_size, clk_freq=MTIME_HZ * self.mtime_div,
                       mtime_freq=MTIME_HZ, **self.soc_args)

    def run(self, *, max_cycles, on_retire=None, vcd=None):
        soc = self.soc
        ret = soc.retire
        tohost = self.image.tohost
        tohost_row = soc.ram.word_index(tohost & ~7) if tohost is not None else None
        retired = RetireCounter(ret, on_retire)
        result = {}

        async def bench(ctx):
            for addr, blob in self.image.segments:
                soc.ram.load(ctx, addr, blob)
            ctx.set(soc.uart_tx.ready, 1)
            pending_in = bytearray(self.uart_input)
            released = self.uart_prompt is None
            cycles = 0
            stop_value = None
            while cycles < max_cycles:
                # Offer the next input byte.
                offered = released and bool(pending_in)
                ctx.set(soc.uart_rx.valid, offered)
                if offered:
                    ctx.set(soc.uart_rx.payload, pending_in[0])
                _, _, tx_valid, tx_byte, rx_ready, rvalid = await ctx.tick().sample(
                    soc.uart_tx.valid, soc.uart_tx.payload, soc.uart_rx.ready, ret.valid)
                cycles += 1
                if tx_valid:
                    self.uart_output.append(tx_byte)
                    if self.echo_uart is not None:
                        self.echo_uart(bytes([tx_byte]))
                    if not released and self.uart_output.endswith(self.uart_prompt):
                        released = True
                if offered and rx_ready:
                    del pending_in[0]
                if rvalid:
                    retired.count(ctx)
                if ctx.get(soc.wfi):
                    now = ctx.get(soc.clint.mtime_reg)
                    cmp = ctx.get(soc.clint.mtimecmp_reg)
                    if cmp != U64 and cmp > now + 1:
                        ctx.set(soc.clint.mtime_reg, cmp - 1)
                if tohost_row is not None:
                    value = ctx.get(soc.ram.mem.data[tohost_row])
                    if value:
                        stop_value = value
                        break
            result["run"] = retired.result(cycles, stop_value)

        simulate(soc, bench, processes=[self.disk.process(soc.storage)], vcd=vcd)
        return result["run"]
