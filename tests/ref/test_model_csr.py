"""The golden model's CSRs: legality of all 4096 addresses in every mode (against the
reference of tests/hw/test_csr.py), WARL write results, and the interrupt choice
against the core's CSR file (hw/core/csr.py) on random states."""

import pytest
from amaranth.sim import Simulator
from hypothesis import given, settings, strategies as st

from hw.core.csr import CSR, CSRFile
from sim.ref.csr import MSTATUS
from tests.hw.test_csr import reference_illegal, write_csr
from tests.ref.util import M64, csr_type, make_hart

PRIVS = {"U": 0, "S": 1, "M": 3}


@pytest.mark.parametrize("priv, mcounteren, scounteren, tvm, stce", [
    ("M", 0, 0, 0, 0), ("S", 0, 0, 0, 0), ("S", 7, 0, 1, 1), ("S", 2, 0, 0, 1),
    ("U", 5, 1, 0, 0), ("U", 7, 7, 1, 1),
])
def test_legality_of_every_address(priv, mcounteren, scounteren, tvm, stce):
    hart = make_hart()
    c = hart.csr
    c.mcounteren, c.scounteren = mcounteren, scounteren
    c.mstatus = MSTATUS.TVM if tvm else 0
    c.menvcfg = (1 << 63) if stce else 0
    hart.priv = PRIVS[priv]
    wrong = [(hex(a), w) for a in range(4096) for w in (0, 1)
             if c.illegal(a, w) != reference_illegal(a, w, PRIVS[priv], mcounteren, scounteren,
                                                     tvm, stce)]
    assert not wrong, f"{len(wrong)} addresses disagree, first {wrong[:8]}"


# (CSR, value written, value read back): the WARL rules csr.py documents
WARL = [
    (CSR.MSTATUS, M64, MSTATUS.M_WRITABLE | MSTATUS.XL64),
    (CSR.MSTATUS, 2 << 11, MSTATUS.XL64),                  # MPP = 2 becomes U
    (CSR.SSTATUS, M64, MSTATUS.S_WRITABLE | (2 << 32)),
    (CSR.MEDELEG, M64, 0xB3FF),
    (CSR.MIDELEG, M64, 0x222),
    (CSR.MIE, M64, 0xAAA),
    (CSR.MTVEC, M64, M64 & ~2),
    (CSR.MEPC, M64, M64 & ~3),
    (CSR.SEPC, 0x8000_0007, 0x8000_0004),
    (CSR.MCOUNTEREN, M64, 7),
    (CSR.MENVCFG, M64, (1 << 63) | 1),
    (CSR.SENVCFG, M64, 1),
    (CSR.SATP, (9 << 60) | 5, 0),                          # Sv48: ignored as a whole
    (CSR.SATP, (8 << 60) | (3 << 44) | 7, (8 << 60) | (3 << 44) | 7),
    (CSR.MISA, 0, 0x8000000000141101),
    (CSR.PMPADDR0, M64, 0),                                 # zero PMP entries
    (CSR.PMPCFG0, M64, 0),
    (CSR.TDATA1, M64, 0),
    (CSR.MHPMCOUNTER3, M64, 0),
    (CSR.MCOUNTINHIBIT, M64, 0),
    (CSR.MSCRATCH, M64, M64),
    (CSR.STIMECMP, 1234, 1234),
]


@pytest.mark.parametrize("addr, value, want", WARL)
def test_warl(addr, value, want):
    hart = make_hart([csr_type(1, 0, 5, addr), csr_type(2, 6, 0, addr)], regs={5: value})
    hart.step()
    hart.step()
    assert hart.x[6] == want


def test_mip_write_through_csrrs_does_not_latch_the_seip_line():
    """Only SEIP's software bit takes part in CSRRS/CSRRC on mip (privileged spec)."""
    hart = make_hart([csr_type(2, 0, 5, CSR.MIP)] * 2, regs={5: 1 << 1})   # csrs mip, SSIP
    hart.env.irq_lines = 2                          # the SEI line is high
    hart.step()
    assert hart.csr.mip_sw == 1 << 1                # SEIP's software bit stays 0
    assert hart.csr.pending() == (1 << 1) | (1 << 9)
    hart.env.irq_lines = 0
    assert hart.csr.pending() == 1 << 1


def test_sip_writes_ssip_only_when_delegated():
    hart = make_hart([csr_type(1, 0, 5, CSR.SIP)], regs={5: M64})
    hart.step()
    assert hart.csr.mip_sw == 0
    hart = make_hart([csr_type(1, 0, 5, CSR.SIP)], regs={5: M64})
    hart.csr.mideleg = 0x222
    hart.step()
    assert hart.csr.mip_sw == 1 << 1


def test_minstret_write_replaces_the_increment():
    hart = make_hart([csr_type(1, 0, 5, CSR.MINSTRET), csr_type(2, 6, 0, CSR.MINSTRET)],
                     regs={5: 1000})
    hart.step()
    hart.step()
    assert hart.x[6] == 1000


# ---- the interrupt to take, against the RTL CSR file ----

state = st.fixed_dictionaries({
    "priv": st.sampled_from([0, 1, 3]),
    "mie_bit": st.booleans(), "sie_bit": st.booleans(),
    "mie": st.integers(0, 0xFFF), "mideleg": st.integers(0, 0xFFF),
    "ssip": st.booleans(), "stip": st.booleans(), "seip_sw": st.booleans(),
    "lines": st.integers(0, 15),            # mei sei mti msi
})


def rtl_interrupts(states):
    """(irq, irq_cause, wake) of hw/core/csr.py for each state."""
    dut = CSRFile()
    got = []

    async def write(ctx, addr, value):
        await write_csr(ctx, dut, addr, value)

    async def bench(ctx):
        for s in states:
            # back to M first, then set everything up and drop to the mode by mret
            await write(ctx, CSR.MSTATUS, 3 << 11)
            ctx.set(dut.mret, 1)
            await ctx.tick()
            ctx.set(dut.mret, 0)
            await write(ctx, CSR.MIE, s["mie"])
            await write(ctx, CSR.MIDELEG, s["mideleg"])
            await write(ctx, CSR.MIP, (s["ssip"] << 1) | (s["stip"] << 5) | (s["seip_sw"] << 9))
            # mret: MIE = MPIE, priv = MPP; SIE is written directly
            mstatus = (s["priv"] << 11) | (s["mie_bit"] << 7) | (s["sie_bit"] << 1)
            await write(ctx, CSR.MSTATUS, mstatus)
            ctx.set(dut.mret, 1)
            await ctx.tick()
            ctx.set(dut.mret, 0)
            lines = s["lines"]
            ctx.set(dut.mei, lines & 1)
            ctx.set(dut.sei, (lines >> 1) & 1)
            ctx.set(dut.mti, (lines >> 2) & 1)
            ctx.set(dut.msi, (lines >> 3) & 1)
            assert ctx.get(dut.priv) == s["priv"]
            got.append((ctx.get(dut.irq), ctx.get(dut.irq_cause), ctx.get(dut.wake)))
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return got


def model_interrupt(s):
    hart = make_hart()
    c = hart.csr
    c.mie = s["mie"] & 0xAAA
    c.mideleg = s["mideleg"] & 0x222
    c.mip_sw = (s["ssip"] << 1) | (s["stip"] << 5) | (s["seip_sw"] << 9)
    c.mstatus = (MSTATUS.MIE if s["mie_bit"] else 0) | (MSTATUS.SIE if s["sie_bit"] else 0)
    hart.priv = s["priv"]
    lines = s["lines"]
    hart.env.irq_lines = (lines & 1) | ((lines >> 1) & 1) << 1
    hart.env.msip = (lines >> 3) & 1
    hart.env.mtimecmp = 0 if (lines >> 2) & 1 else M64
    code = hart.interrupt_to_take()
    return (0 if code is None else 1, code or 0, int(hart.wfi_wakes()))


@settings(max_examples=25, deadline=None)
@given(states=st.lists(state, min_size=5, max_size=5))
def test_interrupt_choice_matches_the_core(states):
    got = rtl_interrupts(states)
    for s, rtl in zip(states, got):
        want = model_interrupt(s)
        if not rtl[0]:
            rtl = (0, 0, rtl[2])
        assert want == rtl, s
