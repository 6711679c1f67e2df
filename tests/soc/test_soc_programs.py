"""Bare-metal programs on the whole SoC (core + devices) in Amaranth's simulator, through
the ELF runner's SoC target (sim/soctarget.py on the pysim engine).  The same programs
on the compiled model, and the two engines' agreement: tests/sim/test_cxxrtl_programs.py."""

import pytest

from sim.elf import load_elf
from sim.soctarget import SoCTarget
from tests.soc.programs.build import build, have_toolchain

pytestmark = pytest.mark.skipif(not have_toolchain(), reason="riscv64-unknown-elf-gcc missing")

RAM = 1 << 16
DISK = bytes((7 * s + k) & 0xFF for s in range(16) for k in range(512))


@pytest.fixture(scope="module")
def elfs(tmp_path_factory):
    out = tmp_path_factory.mktemp("socprogs")
    names = ("hello", "mtimer", "sstc", "uart_rx", "virtio", "fault", "qemu_driver")
    return {name: load_elf(str(build(name, out, ram_size=RAM))) for name in names}


def run(image, max_cycles=40_000, **kw):
    target = SoCTarget(engine="pysim", ram_size=RAM, **kw)
    target.load(image)
    return target, target.run(max_cycles=max_cycles)


def test_hello_uart_and_reset_state(elfs):
    t, r = run(elfs["hello"])
    assert (r.status, r.tohost) == ("tohost", 1)
    assert bytes(t.uart_output) == b"hello, soc\n"


def test_clint_timer_and_software_interrupts(elfs):
    t, r = run(elfs["mtimer"])
    assert (r.status, r.tohost) == ("tohost", 1)
    assert r.traps == 2


def test_sstc_supervisor_timer(elfs):
    t, r = run(elfs["sstc"])
    assert (r.status, r.tohost) == ("tohost", 1)


def test_uart_rx_interrupt_via_plic_in_smode(elfs):
    t, r = run(elfs["uart_rx"], uart_input=b"ok", uart_prompt=b"?")
    assert (r.status, r.tohost) == ("tohost", 1)
    assert bytes(t.uart_output) == b"?"


def test_uart_rx_without_input_waits(elfs):
    # No input: the program sleeps in WFI and the run hits the cycle limit.
    t, r = run(elfs["uart_rx"], max_cycles=3000)
    assert r.status == "limit"


def test_what_a_qemu_virt_driver_does(elfs):
    # About 11 k cycles: virtio IDs (QEMU's vendor ID), the UART's THRE interrupt
    # acknowledged by an IIR read, by THR writes, and not at all (raised again).
    t, r = run(elfs["qemu_driver"], max_cycles=40_000)
    assert (r.status, r.tohost) == ("tohost", 1)
    assert bytes(t.uart_output) == b"thre\n"
    assert r.traps == 1 + 6 + 4


def test_access_faults(elfs):
    t, r = run(elfs["fault"])
    assert (r.status, r.tohost) == ("tohost", 1)
    assert r.traps == 4


def test_virtio_read_write(elfs):
    # About 16 k cycles (10 s of pysim): two reads of 1 KiB, one write.
    t, r = run(elfs["virtio"], disk=DISK)
    assert (r.status, r.tohost) == ("tohost", 1)
    image = t.disk_image
    assert image[3 * 512:4 * 512] == bytes((k ^ 0x5A) & 0xFF for k in range(512))
    assert image[:3 * 512] == DISK[:3 * 512] and image[4 * 512:] == DISK[4 * 512:]


def test_virtio_detects_wrong_data(elfs):
    bad = bytearray(DISK)
    bad[512 + 61] ^= 1
    t, r = run(elfs["virtio"], disk=bytes(bad))
    assert (r.status, r.tohost) == ("tohost", (7 << 1) | 1)
