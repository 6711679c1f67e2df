"""Retirement records and DMA writes from the SoC engines (``run_retire``, sim/engine.py).

The records must say what the program did (a memory model built from the records alone
reproduces every load), and the DMA log must carry the data the block device wrote,
attributed to the right instruction.  That both engines give the same records for the
same inputs is checked with the engines' other agreement tests: the SoC programs in
tests/sim/test_cxxrtl_programs.py, the start of the xv6 boot in test_boot_xv6.py.
"""

import pytest

from sim.engine import (RETIRE_FIELDS, STOP_LIMIT, STOP_RECORDS, STOP_TOHOST, DmaWrite, Retire,
                        make_engine)
from soc import memmap
from tests.sim.test_cxxrtl_programs import DISK, RAM, programs, run_program  # noqa: F401


def collect(image, batch=97):
    """Every record and DMA write of a cxxrtl run to tohost, in run_retire calls of
    ``batch`` records: (records, DMA writes, stop reasons, Stats)."""
    run = run_program("cxxrtl", image, batch=batch)
    assert run.reason == STOP_TOHOST
    return run.records, run.dma, run.stops, run.stats


def test_record_layout():
    # Every field of the retirement port, in the port's order, after the cycle.
    from hw.core.retire import RetireSignature
    assert RETIRE_FIELDS == tuple(n for n in RetireSignature().members if n != "valid")
    assert Retire._fields == ("cycle",) + RETIRE_FIELDS
    assert DmaWrite._fields == ("cycle", "order", "addr", "data", "mask")


def test_a_dma_write_also_counts_the_next_edges_report_with_the_pipeline():
    # The pipelined core's load in M in the cycle a DMA write lands read memory before
    # it, and is reported at the edge after the write's report (sim/engine.py):
    # a write's order counts that edge's report too.
    from sim.engine import _DmaLead
    lead = _DmaLead()

    def report(cycle, order):
        return Retire(cycle, order, *[0] * (len(RETIRE_FIELDS) - 1))

    def write(cycle, order):
        return DmaWrite(cycle, order, 0x8000_1000, 3, 0x0C)
    # five reports by edge 10, the write's edge; the sixth (order 5) at edge 11
    assert lead.settle(STOP_RECORDS, [report(11, 5)], [write(10, 5)], 12) == [write(10, 6)]
    # no report at edge 11: the order stays
    assert lead.settle(STOP_RECORDS, [report(12, 5)], [write(10, 5)], 13) == [write(10, 5)]
    # a write at a run's last edge waits for the next run, which runs edge 21
    assert lead.settle(STOP_RECORDS, [report(20, 6)], [write(20, 7)], 21) == []
    assert lead.settle(STOP_LIMIT, [report(21, 7)], [write(25, 8)], 30) == \
        [write(20, 8), write(25, 8)]
    # at tohost at once: the report taken ahead is the next edge's
    assert lead.settle(STOP_TOHOST, [report(41, 9)], [write(40, 9)], 41) == [write(40, 10)]
    assert lead.settle(STOP_TOHOST, [], [write(50, 11)], 51) == [write(50, 11)]


def test_records_of_hello(cxxrtl_model, programs):
    records, dma, stops, s = collect(programs["hello"])
    assert stops[-1] == STOP_TOHOST and set(stops[:-1]) == {STOP_RECORDS}
    assert s.tohost == 1
    # one record per report: orders 0, 1, 2 ... as many as instructions and traps
    assert [r.order for r in records] == list(range(s.instret + s.traps))
    assert all(a.cycle < b.cycle for a, b in zip(records, records[1:]))
    # The retire port is registered: a run that stops at tohost takes the report its
    # flip-flops hold after the last edge, stamped with the edge that would show it
    # (the stop's cycle count); here the core spins on `j .` after the store, so
    # there is one.
    assert records[-1].cycle == s.cycles
    assert records[-2].cycle < s.cycles
    first = records[0]
    assert (first.pc, first.priv, first.trap) == (memmap.RESET_PC, 3, 0)
    # the first instruction word is the one in the ELF at the reset address
    seg_addr, seg = next((a, b) for a, b in programs["hello"].segments if a == memmap.RESET_PC)
    assert first.insn == int.from_bytes(seg[:4], "little")
    assert dma == []


def test_run_stops_at_the_record(cxxrtl_model, programs):
    e = make_engine("cxxrtl", ram_size=RAM)
    e.load(programs["hello"])
    b = e.run_retire(10, 100_000)
    assert (b.stop, len(b.records)) == (STOP_RECORDS, 10)
    # the run stopped right after the edge that showed the 10th report
    assert e.stats().cycles == b.records[-1].cycle + 1
    assert e.stats().instret + e.stats().traps == 10
    # a plain run is not logged; the next records continue the order
    e.run(50)
    seen = e.stats().instret + e.stats().traps
    b = e.run_retire(5, 5)
    assert b.stop == STOP_LIMIT and len(b.records) <= 5
    assert [r.order for r in b.records] == list(range(seen, seen + len(b.records)))
    with pytest.raises(ValueError):
        e.run_retire(0, 10)
    e.close()


def test_traps_and_interrupts_are_recorded(cxxrtl_model, programs):
    records, _, _, s = collect(programs["mtimer"])
    traps = [r for r in records if r.trap]
    assert len(traps) == s.traps == 2
    assert all(t.intr for t in traps)
    assert sorted(t.cause for t in traps) == [3, 7]     # machine software and timer
    records, _, _, s = collect(programs["fault"])
    faults = [(r.cause, r.tval) for r in records if r.trap]
    assert faults[:2] == [(5, 0x30000000), (7, 0x30000008)]


def apply(mem, addr, value, nbytes):
    for i in range(nbytes):
        mem[addr + i] = (value >> (8 * i)) & 0xFF


def read(mem, addr, nbytes):
    return sum(mem.get(addr + i, 0) << (8 * i) for i in range(nbytes))


def test_records_and_dma_replay_memory(cxxrtl_model, programs):
    # The virtio program polls the used ring that the device writes by DMA.  A memory
    # model fed only with the ELF, the stores of the records and the DMA writes applied
    # before the instruction of their `order` reproduces every RAM load and every
    # instruction word: the DMA data and their attribution are right.
    image = programs["virtio"]
    records, dma, _, s = collect(image)
    assert s.tohost == 1 and (s.sectors_read, s.sectors_written) == (2, 1)
    mem = {}
    for addr, blob in image.segments:
        for i, byte in enumerate(blob):
            mem[addr + i] = byte
    in_ram = lambda a: memmap.RAM_BASE <= a < memmap.RAM_BASE + RAM
    pending = list(dma)
    loads = 0
    for r in records:
        while pending and pending[0].order <= r.order:
            w = pending.pop(0)
            for i in range(8):
                if w.mask >> i & 1:
                    mem[w.addr + i] = (w.data >> (8 * i)) & 0xFF
        assert r.insn == read(mem, r.pc, 4) or r.trap, r
        nbytes = bin(r.mem_rmask | r.mem_wmask).count("1")
        if r.mem_rmask and in_ram(r.mem_addr):
            assert r.mem_rdata == read(mem, r.mem_addr, nbytes), r
            loads += 1
        if r.mem_wmask and in_ram(r.mem_addr):
            apply(mem, r.mem_addr, r.mem_wdata, nbytes)
    assert loads > 100 and not pending
    # The first request's data: sectors 1 and 2, written whole into the buffer.
    buf = image.symbols["buf"]
    first = [w for w in dma if buf <= w.addr < buf + 1024][:128]
    assert [(w.addr, w.mask) for w in first] == [(a, 0xFF) for a in range(buf, buf + 1024, 8)]
    assert b"".join(w.data.to_bytes(8, "little") for w in first) == DISK[512:1536]


def test_dma_of_the_boot_carries_disk_blocks(cxxrtl_model, xv6_files):
    # To the first prompt: every block the kernel read arrives as 128 consecutive
    # doubleword writes equal to a 1024-byte block of the disk image.
    from sim.boot import open_engine
    kernel, fs_img = xv6_files
    engine, _ = open_engine("cxxrtl", str(kernel), str(fs_img))
    records, dma, out = 0, [], b""
    while b"$ " not in out:
        b = engine.run_retire(50_000, 1_000_000)
        assert [r.order for r in b.records] == list(range(records, records + len(b.records)))
        records += len(b.records)
        dma += b.dma
        out += engine.tx_take()
        assert engine.stats().cycles < 10_000_000, out
    s = engine.stats()
    final = engine.disk_image()
    engine.close()
    assert records == s.instret + s.traps
    assert all(a.order <= b.order and a.cycle < b.cycle for a, b in zip(dma, dma[1:]))
    runs, run = [], [dma[0]]
    for w in dma[1:]:
        if w.mask == 0xFF and run[-1].mask == 0xFF and w.addr == run[-1].addr + 8:
            run.append(w)
        else:
            runs.append(run)
            run = [w]
    runs.append(run)
    blocks = [r for r in runs if len(r) == 128]
    assert len(blocks) * 2 == s.sectors_read > 0
    original = fs_img.read_bytes()
    disk_blocks = {original[i:i + 1024] for i in range(0, len(original), 1024)}
    disk_blocks |= {final[i:i + 1024] for i in range(0, len(final), 1024)}
    for run in blocks:
        data = b"".join(w.data.to_bytes(8, "little") for w in run)
        assert data in disk_blocks
