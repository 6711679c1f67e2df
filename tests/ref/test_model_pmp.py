"""PMP in the golden model (``Config(pmp_entries=16)``): matching against a per-byte
reading of the specification, the CSR view (WARL, locking), and the faults it
raises on fetches, loads, stores and page-table walks."""

from hypothesis import given, settings, strategies as st

from hw.core.csr import CSR
from sim.ref.hart import Config
from sim.ref.pmp import PMP, R, W, X
from tests.ref.util import RAM_BASE, csr_type, i_type, make_hart, s_type

PMP16 = Config(pmp_entries=16)
L = 0x80
OFF, TOR, NA4, NAPOT = 0, 1, 2, 3


def byte_matches(cfgs, addrs, i, y):
    """Does entry i match byte address y?  Straight from the spec's definitions."""
    mode = (cfgs[i] >> 3) & 3
    w = y >> 2                                     # pmpaddr holds address bits 55:2
    if mode == TOR:
        lo = addrs[i - 1] if i else 0
        return lo <= w < addrs[i]
    if mode == NA4:
        return w == addrs[i]
    if mode == NAPOT:
        t = 0
        while addrs[i] >> t & 1:
            t += 1
        keep = ~((1 << (t + 1)) - 1)
        return w & keep == addrs[i] & keep
    return False


def reference_allows(cfgs, addrs, paddr, size, perm, priv):
    for i in range(len(cfgs)):
        hits = [byte_matches(cfgs, addrs, i, y) for y in range(paddr, paddr + size)]
        if any(hits):
            if not all(hits):
                return False
            if priv == 3 and not cfgs[i] & L:
                return True
            return bool(cfgs[i] & perm)
    return priv == 3


entry = st.tuples(st.sampled_from([R, R | W, X, R | X, R | W | X, 0]),
                  st.sampled_from([OFF, TOR, NA4, NAPOT]), st.booleans(),
                  st.integers(0, 0x400))


@settings(max_examples=300, deadline=None)
@given(entries=st.lists(entry, min_size=16, max_size=16),
       paddr=st.integers(0, 0x1000), size=st.sampled_from([1, 2, 4, 8]),
       perm=st.sampled_from([R, W, X]), priv=st.sampled_from([0, 1, 3]))
def test_matching_follows_the_specification(entries, paddr, size, perm, priv):
    pmp = PMP(16)
    cfgs = [p | (a << 3) | (L if lock else 0) for p, a, lock, _ in entries]
    addrs = [addr for *_, addr in entries]
    for i in range(16):
        pmp.write_addr(i, addrs[i])               # before the cfg: locks apply after
    pmp.write_cfg(0, sum(c << (8 * i) for i, c in enumerate(cfgs[:8])))
    pmp.write_cfg(2, sum(c << (8 * i) for i, c in enumerate(cfgs[8:])))
    assert pmp.allows(paddr, size, perm, priv) == \
        reference_allows(cfgs, addrs, paddr, size, perm, priv)


def test_csr_view_warl_and_locks():
    pmp = PMP(16)
    pmp.write_cfg(0, 0x0000_0000_0000_0F02)      # entry 0: W without R; entry 1: TOR RWX
    assert pmp.read_cfg(0) & 0xFF == 0x00         # W dropped, R stays 0
    assert (pmp.read_cfg(0) >> 8) & 0xFF == 0x0F
    pmp.write_cfg(0, 0x60)                        # bits 6:5 read 0
    assert pmp.read_cfg(0) & 0xFF == 0
    pmp.write_cfg(2, 0xFF << 56)                  # entry 15
    assert pmp.read_cfg(2) == 0x9F << 56
    assert pmp.read_cfg(4) == 0                   # entries 16.. are not implemented
    pmp.write_addr(20, 5)
    assert pmp.read_addr(20) == 0
    # lock entry 3 as TOR: its address and entry 2's address are frozen
    pmp.write_addr(2, 0x100)
    pmp.write_addr(3, 0x200)
    pmp.write_cfg(0, (L | (TOR << 3) | R) << 24)
    pmp.write_addr(3, 0x300)
    pmp.write_addr(2, 0x50)
    assert (pmp.read_addr(2), pmp.read_addr(3)) == (0x100, 0x200)
    pmp.write_cfg(0, 0)                            # entry 3's configuration is locked
    assert (pmp.read_cfg(0) >> 24) & 0xFF == L | (TOR << 3) | R
    pmp.write_addr(4, 7)                           # the entry above is not affected
    assert pmp.read_addr(4) == 7


def test_grain_hides_na4_and_low_address_bits():
    pmp = PMP(16, grain=2)
    pmp.write_cfg(0, NA4 << 3 | R)
    assert pmp.read_cfg(0) & 0xFF == R            # NA4 not selectable: OFF
    pmp.write_addr(0, 0b10000)
    assert pmp.read_addr(0) == 0b10000            # OFF: bits 1:0 read 0
    pmp.write_cfg(0, NAPOT << 3 | R)
    assert pmp.read_addr(0) == 0b10001            # NAPOT: bit 0 reads 1


def _program_pmp(words, cfg0, addrs):
    """Code that writes pmpaddr0..n (from x10..) and pmpcfg0, then the test words."""
    pre = []
    for n in range(len(addrs)):
        pre.append(csr_type(1, 0, 10 + n, CSR.PMPADDR0 + n))
    pre.append(csr_type(1, 0, 9, CSR.PMPCFG0))
    return pre + list(words), {9: cfg0, **{10 + n: a for n, a in enumerate(addrs)}}


def _enter_mode(hart, priv):
    hart.priv = priv
    hart.context_changed()


def test_faults_from_u_mode_loads_stores_and_fetches():
    # entry 0: NAPOT over the first 64 KiB of RAM, R and X only
    napot = (RAM_BASE >> 2) | ((1 << 13) - 1)    # 2**16 bytes
    words, regs = _program_pmp([i_type("LOAD", 3, 5, 6, 0), s_type(3, 6, 5, 0)],
                               NAPOT << 3 | R | X, [napot])
    hart = make_hart(words, regs={**regs, 6: RAM_BASE + 0x800}, config=PMP16)
    hart.step()
    hart.step()
    _enter_mode(hart, 0)
    rec = hart.step()                             # load: allowed
    assert not rec.trap
    rec = hart.step()                             # store: no W
    assert (rec.trap, rec.cause, rec.tval) == (1, 7, RAM_BASE + 0x800)


def test_no_matching_entry_fails_below_m_and_succeeds_in_m():
    words, regs = _program_pmp([0x00000013, 0x00000013], TOR << 3 | R | W | X, [0x100])
    hart = make_hart(words, regs=regs, config=PMP16)
    hart.step()
    hart.step()
    rec = hart.step()                             # M: nothing matches, allowed
    assert not rec.trap
    _enter_mode(hart, 1)
    rec = hart.step()                             # S: fetch fails
    assert (rec.trap, rec.cause, rec.tval) == (1, 1, RAM_BASE + 12)


def test_locked_entry_applies_to_m_mode():
    napot = ((RAM_BASE + 0x800) >> 2) | 1         # 16 bytes at +0x800, R only, locked
    words, regs = _program_pmp([s_type(3, 6, 0, 0), i_type("LOAD", 3, 5, 6, 0)],
                               L | NAPOT << 3 | R, [napot])
    hart = make_hart(words, regs={**regs, 6: RAM_BASE + 0x800}, config=PMP16)
    hart.step()
    hart.step()
    rec = hart.step()                             # M mode, but the entry is locked
    assert (rec.trap, rec.cause) == (1, 7)
    hart.pc = RAM_BASE + 12                       # the load after the store: R allowed
    rec = hart.step()
    assert not rec.trap


def test_page_table_walk_is_checked_as_supervisor():
    """The walk for an S-mode fetch reads the root table with S's PMP permissions:
    readable -> the walk finds an invalid PTE (instruction page fault 12);
    not readable -> instruction access fault 1."""
    root = RAM_BASE + 0x4000
    for readable, cause in ((True, 12), (False, 1)):
        hart = make_hart([0x00000013], config=PMP16)
        top = root + 0x1000 if readable else root
        hart.pmp.write_addr(0, top >> 2)
        hart.pmp.write_cfg(0, TOR << 3 | R | W | X)
        hart.csr.satp = (8 << 60) | (root >> 12)
        _enter_mode(hart, 1)
        rec = hart.step()
        assert (rec.trap, rec.cause, rec.tval) == (1, cause, RAM_BASE)
