"""CSR access legality of hw/core/csr.py for all 4096 addresses, in M, S and U mode.

The reference is written from the privileged spec's CSR listing and its access rules:
a CSR exists or raises an illegal-instruction exception; bits [11:10] == 0b11 mark it
read-only; bits [9:8] give the lowest privilege that may access it; the counters need
mcounteren (and scounteren from U); satp traps in S with mstatus.TVM; stimecmp needs
menvcfg.STCE and mcounteren.TM in S.  This file lists the CSRs the core implements.
"""

from amaranth.sim import Simulator

from hw.core.csr import CSR, CSRFile
from hw.core.isa import Priv

IMPLEMENTED = (
    {0xF11, 0xF12, 0xF13, 0xF14, 0xF15} |                       # machine information
    {0x300, 0x301, 0x302, 0x303, 0x304, 0x305, 0x306, 0x30A} |  # machine trap setup
    {0x320} | set(range(0x323, 0x340)) |                        # mcountinhibit, mhpmevent3..31
    {0x340, 0x341, 0x342, 0x343, 0x344} |                       # machine trap handling
    set(range(0x3A0, 0x3B0, 2)) | set(range(0x3B0, 0x3F0)) |    # pmpcfg (even), pmpaddr0..63
    {0xB00, 0xB02} | set(range(0xB03, 0xB20)) |                 # mcycle, minstret, mhpmcounters
    set(range(0xC00, 0xC20)) |                                  # cycle, time, instret, hpm
    {0x100, 0x104, 0x105, 0x106, 0x10A} |                       # supervisor trap setup
    {0x140, 0x141, 0x142, 0x143, 0x144, 0x14D, 0x180} |         # trap handling, stimecmp, satp
    {0x7A0, 0x7A1, 0x7A2, 0x7A3}                                # tselect, tdata1..3
)


def reference_illegal(addr, write, priv, mcounteren=0, scounteren=0, tvm=0, stce=0):
    if addr not in IMPLEMENTED:
        return True
    if priv < (addr >> 8) & 3:
        return True
    if write and (addr >> 10) == 0b11:
        return True
    if 0xC00 <= addr <= 0xC1F and priv != Priv.M:
        bit = addr & 0x1F
        enabled = bit < 3 and (mcounteren >> bit) & 1
        if priv == Priv.U:
            enabled = enabled and bit < 3 and (scounteren >> bit) & 1
        if not enabled:
            return True
    if addr == CSR.SATP and priv == Priv.S and tvm:
        return True
    if addr == CSR.STIMECMP and priv == Priv.S and not (stce and (mcounteren >> 1) & 1):
        return True
    return False


async def write_csr(ctx, dut, addr, value):
    """Write ``value`` to CSR ``addr`` of the CSRFile ``dut`` (one clock)."""
    ctx.set(dut.addr, addr)
    ctx.set(dut.wdata, value)
    ctx.set(dut.we, 1)
    await ctx.tick()
    ctx.set(dut.we, 0)


def sweep(priv, mcounteren=0, scounteren=0):
    """Drop the CSR file to ``priv`` by mret, then read illegal for every address."""
    dut = CSRFile()
    got = {}

    async def bench(ctx):
        await write_csr(ctx, dut, CSR.MCOUNTEREN, mcounteren)
        await write_csr(ctx, dut, CSR.SCOUNTEREN, scounteren)
        if priv != Priv.M:
            await write_csr(ctx, dut, CSR.MSTATUS, int(priv) << 11)      # MPP
            ctx.set(dut.mret, 1)
            await ctx.tick()
            ctx.set(dut.mret, 0)
        assert ctx.get(dut.priv) == priv
        for addr in range(4096):
            ctx.set(dut.addr, addr)
            for write in (0, 1):
                ctx.set(dut.write_intent, write)
                got[addr, write] = ctx.get(dut.illegal)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return got


def check(priv, **enables):
    got = sweep(priv, **enables)
    wrong = [(hex(a), w, got[a, w]) for (a, w) in sorted(got)
             if got[a, w] != reference_illegal(a, w, priv, **enables)]
    assert not wrong, f"{len(wrong)} addresses disagree, first: {wrong[:8]}"


def test_machine_mode():
    check(Priv.M)


def test_supervisor_mode_counters_disabled():
    check(Priv.S)


def test_supervisor_mode_counters_enabled():
    check(Priv.S, mcounteren=0b111)


def test_user_mode():
    check(Priv.U, mcounteren=0b101, scounteren=0b001)


def test_reference_spot_checks():
    # Hand-checked entries, independent of the sets above.
    assert not reference_illegal(0x300, 1, Priv.M)           # mstatus, M, write
    assert reference_illegal(0x300, 0, Priv.S)               # mstatus from S
    assert reference_illegal(0xF14, 1, Priv.M)               # mhartid is read-only
    assert reference_illegal(0x3A1, 0, Priv.M)               # odd pmpcfg: RV32 only
    assert reference_illegal(0x3F0, 0, Priv.M)               # beyond pmpaddr63
    assert reference_illegal(0xB01, 0, Priv.M)               # no mtime CSR
    assert not reference_illegal(0xC01, 0, Priv.U, 0b010, 0b010)   # time, enabled
    assert reference_illegal(0xC01, 0, Priv.U, 0b010, 0b000)       # time, not for U
