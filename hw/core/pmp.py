"""Physical memory protection: the PMP entries' regions and the check of an access.

The privileged spec's PMP (section "Physical Memory Protection"), with
``entries`` entries (16 by default), granularity 4 bytes (G = 0):

* each entry has a configuration byte (``pmpcfg``: R bit 0, W bit 1, X bit 2,
  A bits 4:3, L bit 7) and an address register (``pmpaddr``: physical address
  bits 55:2);
* A selects how the entry matches: OFF (0) never; TOR (1) the range from the
  previous entry's address (0 for entry 0) up to, not including, this one's
  (nothing when that range is empty); NA4 (2) the four bytes at the address;
  NAPOT (3) a naturally aligned power of two of at least 8 bytes, whose size is
  encoded by the trailing ones of ``pmpaddr`` (``...y0`` 8 bytes, ``...y01`` 16
  bytes, and so on);
* the lowest-numbered entry that matches any byte of the access decides; it
  must match every byte, or the access fails;
* a matching entry allows the access if its R/W/X bit allows the kind of
  access, or if the access is made in M mode and the entry is not locked (L);
* when no entry matches, M-mode accesses succeed and S/U-mode accesses fail.

An access is a range of bytes ``first`` .. ``last`` (inclusive): a load or store
of up to 8 bytes, or a whole 4 KiB page (the core asks whether a page is allowed
as a whole, so that every access inside it is, and remembers the answer).  As
regions start and end at multiples of 4 bytes, every comparison is made on
addresses in 4-byte units.

* ``pmp_region`` turns an entry's registers into its region (on, lo, hi in 4-byte
  units); ``pmp_regions`` does it for every entry at once.
* ``PMPChecker`` is combinational (registers in, verdict out): the unit tests'
  device under test.
* ``PMPUnit`` is what the pipelined core uses: the regions are kept in a small
  LUT RAM, computed again one entry per cycle by one ``pmp_region`` after each
  write to a pmp CSR (the core refetches after every such write, so the 17 cycles
  are hardly ever waited for), and one entry's comparators serve several
  requesters (fetch, the memory stage, the page-table walker) in turn: a request
  is registered, copied into the comparators' own registers in the next cycle,
  then compared with entry 0, 1, ... one entry per cycle until one matches a byte
  of it (or none is left), and the registered verdict comes back with ``ready``
  in the cycle after: three cycles after the request was taken when entry 0
  decides (as with xv6, whose entry 0 opens everything), up to 18 when no entry
  matches.
* Most requests need no comparison: the unit checks the memories (the RAM) as
  wholes after each change and then allows every access inside one allowed as a
  whole at once; and it remembers a few pages per requester that it allowed as a
  whole.
* ``PMPGate`` checks every transfer of a bus master (the page-table walker, whose
  accesses are checked as S-mode loads and stores) and answers a denied one with
  ``error`` without passing it on.

``check_access`` is the same rule in Python, the reference of the tests.
"""

from amaranth import *
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..bus import BusSignature
from ..mmu.signatures import Access
from ..priority import lowest_first
from .isa import Priv

__all__ = ["PMPChecker", "PMPUnit", "PMPGate", "PMPCheckSignature", "check_access",
           "pmp_regions", "OFF", "TOR", "NA4", "NAPOT", "ADDR_BITS"]

OFF, TOR, NA4, NAPOT = range(4)
R, W, X, L = 0x01, 0x02, 0x04, 0x80
ADDR_BITS = 54


def _napot_range(pmpaddr):
    """(first byte, end byte) of a NAPOT entry."""
    mask = pmpaddr ^ (pmpaddr + 1)          # the trailing ones and the zero above them
    base = (pmpaddr & ~mask) << 2
    return base, base + ((mask + 1) << 2)


def entry_range(cfgs, addrs, i):
    """(first byte, end byte) of entry i, or None when it is OFF or an empty TOR range."""
    a = (cfgs[i] >> 3) & 3
    if a == OFF:
        return None
    if a == TOR:
        lo = addrs[i - 1] << 2 if i else 0
        hi = addrs[i] << 2
        return (lo, hi) if lo < hi else None
    if a == NA4:
        return addrs[i] << 2, (addrs[i] << 2) + 4
    return _napot_range(addrs[i])


def check_access(cfgs, addrs, paddr, length, priv, access):
    """The reference rule: may this access of ``length`` bytes proceed?"""
    first, last = paddr, paddr + length - 1
    need = {Access.FETCH: X, Access.LOAD: R, Access.STORE: W}[access]
    for i in range(len(cfgs)):
        rng = entry_range(cfgs, addrs, i)
        if rng is None:
            continue
        lo, hi = rng
        if first < hi and last >= lo:          # matches some byte
            if not (first >= lo and last < hi):
                return False                  # ... but not all of them
            if priv == Priv.M and not cfgs[i] & L:
                return True
            return bool(cfgs[i] & need)
    return priv == Priv.M


class PMPCheckSignature(wiring.Signature):
    """A request to the PMP unit, seen from the requester: ``valid`` with the bytes
    ``first`` .. ``last`` (physical, inclusive, inside one page), the privilege and
    the kind of access, held until ``ready``, which carries ``allowed``."""

    def __init__(self):
        super().__init__({
            "valid":   Out(1),
            "first":   Out(56),
            "last":    Out(56),
            "priv":    Out(2),
            "access":  Out(Access),
            "ready":   In(1),
            "allowed": In(1),
        })


def pmp_region(m, mode, a, below, name, a_plus_1=None):
    """(on, lo, hi) of one entry: it matches the 4-byte units lo <= u < hi when
    ``on``.  ``mode`` is its A field, ``a`` its pmpaddr, ``below`` the previous
    entry's pmpaddr (0 for entry 0: the bottom of a TOR range); ``a_plus_1``, if
    given, is a + 1 (computed a cycle before, so that one carry chain is left)."""
    on = Signal(name=f"{name}_on")
    lo = Signal(ADDR_BITS, name=f"{name}_lo")
    hi = Signal(ADDR_BITS + 2, name=f"{name}_hi")    # NAPOT of all ones ends at 2**55
    a1 = Signal(ADDR_BITS + 1, name=f"{name}_a1")
    m.d.comb += a1.eq(a + 1 if a_plus_1 is None else a_plus_1)
    with m.Switch(mode):
        with m.Case(TOR):
            m.d.comb += [lo.eq(below), hi.eq(a), on.eq(below < a)]
        with m.Case(NA4):
            m.d.comb += [lo.eq(a), hi.eq(a1), on.eq(1)]
        with m.Case(NAPOT):
            mask = Signal(ADDR_BITS + 1, name=f"{name}_mask")
            m.d.comb += [
                mask.eq(a ^ a1),
                lo.eq(a & ~mask[:ADDR_BITS]),
                hi.eq((a & ~mask[:ADDR_BITS]) + mask + 1),
                on.eq(1),
            ]
    return on, lo, hi


# An entry's region as the unit keeps it: it matches the 4-byte units lo <= u < hi
# when ``on`` (pmp_region), with the R, W, X and L bits of its configuration (perms_of).
RegionLayout = data.StructLayout({
    "on": 1,
    "lo": ADDR_BITS,
    "hi": ADDR_BITS + 2,
    "perms": 4,
})


def perms_of(c):
    """The bits of a configuration byte that the verdict uses: R, W, X, L."""
    return Cat(c[0:3], c[7])


def pmp_regions(m, cfg, addr, entries):
    """Per entry: (on, lo, hi, perms) (pmp_region, perms_of), all at once.
    ``cfg``/``addr`` hold the entries side by side (8 and 54 bits each)."""
    regions = []
    for i in range(entries):
        c = cfg[8 * i:8 * i + 8]
        a = addr[ADDR_BITS * i:ADDR_BITS * (i + 1)]
        below = addr[ADDR_BITS * (i - 1):ADDR_BITS * i] if i else C(0, ADDR_BITS)
        regions.append(pmp_region(m, c[3:5], a, below, f"pmp{i}") + (perms_of(c),))
    return regions


def needed_perm(m, access):
    """The permission bit (R, W or X) that an access of kind ``access`` needs."""
    need = Signal(3)
    with m.Switch(access):
        with m.Case(Access.FETCH): m.d.comb += need.eq(X)
        with m.Case(Access.LOAD):  m.d.comb += need.eq(R)
        with m.Case(Access.STORE): m.d.comb += need.eq(W)
    return need


def entry_verdict(region, first, last, priv, need):
    """(matches some byte, allows the access) for one entry's region (on, lo, hi,
    perms) and the bytes ``first`` .. ``last``: it allows the access if it matches
    every byte and its permission bits allow it (or it is M mode and the entry is
    not locked)."""
    on, lo, hi, perms = region
    f4, l4 = first[2:56], last[2:56]
    matches_any = on & (f4 < hi) & (l4 >= lo)
    matches_all = (f4 >= lo) & (l4 < hi)
    allows = matches_all & (((priv == Priv.M) & ~perms[3]) | ((perms[0:3] & need) != 0))
    return matches_any, allows


def pmp_verdict(m, regions, first, last, priv, access):
    """The verdict (a Signal) on the bytes ``first`` .. ``last``; ``regions`` as
    pmp_regions gives them."""
    n = len(regions)
    need = needed_perm(m, access)
    any_ = Signal(n)
    verdict = Signal(n)
    for i, region in enumerate(regions):
        matches_any, allows = entry_verdict(region, first, last, priv, need)
        m.d.comb += [any_[i].eq(matches_any), verdict[i].eq(allows)]
    # The lowest-numbered matching entry decides (a tree: hw/priority.py)
    matched, _, (decided,) = lowest_first(m, [(any_[i], (verdict[i],)) for i in range(n)])
    allowed = Signal()
    m.d.comb += allowed.eq(Mux(matched, decided, priv == Priv.M))
    return allowed


class PMPChecker(wiring.Component):
    """Combinational: the registers ``cfg``/``addr`` and one access in, ``allowed`` out."""

    def __init__(self, entries=16):
        self.entries = entries
        super().__init__({
            "cfg":     In(8 * entries),
            "addr":    In(ADDR_BITS * entries),
            "first":   In(56),
            "last":    In(56),
            "priv":    In(2),
            "access":  In(Access),
            "allowed": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        regions = pmp_regions(m, self.cfg, self.addr, self.entries)
        m.d.comb += self.allowed.eq(pmp_verdict(m, regions, self.first, self.last,
                                                self.priv, self.access))
        return m


class PMPUnit(wiring.Component):
    """The registered check shared by ``ports`` requesters (PMPCheckSignature each,
    lowest index first when several wait).  ``on``: some entry can match, or the
    regions are being computed (with neither, M-mode accesses need no check);
    ``on_next``: what ``on`` will be in the next cycle (for a register of the user's).

    A compared request is answered 3 + e cycles after it is taken, e being the
    lowest entry that matches a byte of it (``entries`` - 1 when none does).

    Two kinds of answers need no comparison and come in the cycle a request is made:

    * **blocks**: ``blocks`` is a list of naturally aligned ranges ``(base, log2
      size)`` (the core gives its RAM).  After every change of the registers the
      unit checks each block as a whole, for each kind of access in and outside M
      mode, in cycles no requester needs the comparators; a request whose bytes lie
      in a block allowed as a whole for its kind is allowed at once.  (Exact: the
      lowest entry that matches a byte of the block matches all of it, so it is
      also the lowest that matches a byte of any part of it, and all of that part;
      with no matching entry, the rule is the same for the block and its parts.)
      When xv6 opens the whole space with one entry, every page of RAM is answered
      at once.
    * **pages**: each port remembers the last ``memo`` whole pages it was allowed
      (with the kind of access, and whether in M mode or not: S and U are alike to
      the PMP).

    ``flush`` (a pmp CSR is written: the registers change in the next cycle, and
    only then) forgets both and starts computing the regions again; nothing is
    remembered from a comparison made with the old ones."""

    def __init__(self, entries=16, ports=3, memo=4, blocks=()):
        self.entries = entries
        self.nports = ports
        self.memo = memo
        self.blocks = list(blocks)
        for base, bits in self.blocks:
            if not 0 < bits <= 56 or base % (1 << bits) or base >> 56:
                raise ValueError(f"PMP block {base:#x}/{bits} is not a naturally aligned "
                                 f"range of physical addresses")
        members = {
            "cfg":   In(8 * entries),
            "addr":  In(ADDR_BITS * entries),
            "flush": In(1),
            "on":    Out(1),
            "on_next": Out(1),
        }
        for i in range(ports):
            members[f"req{i}"] = In(PMPCheckSignature())
        super().__init__(members)

    def port(self, i):
        return getattr(self, f"req{i}")

    def elaborate(self, platform):
        m = Module()
        n = self.entries
        # The regions, registered with the permission bits they go with.  After a
        # change of the registers (``flush``) they are computed again one entry per
        # cycle, entry 0 first, by one set of adders, in two steps: entry ``k``'s
        # registers are read (with a + 1), then entry ``w`` = k - 1's region is
        # written.  Meanwhile (``busy``, 17 cycles) the unit takes no request.  The
        # core refetches after every write to a pmp CSR, so these cycles are hardly
        # ever waited for.
        k = Signal(range(n + 1), init=n)    # n: nothing to read
        w = Signal(range(n + 1), init=n)    # n: nothing to write
        busy = Signal()
        # A port's request still being compared with the old regions when the
        # registers change holds the new ones back until its verdict is made (the
        # first entry written in the cycle after that): so the answer to a request
        # taken before a write is the old registers' rule, whole.
        hold = Signal()
        m.d.comb += busy.eq((k != n) | (w != n))
        with m.If(self.flush):
            m.d.sync += [k.eq(0), w.eq(n)]
        with m.Elif(hold):
            m.d.sync += w.eq(n)
        with m.Else():
            m.d.sync += w.eq(k)
            with m.If(k != n):
                m.d.sync += k.eq(k + 1)
        c_k = Signal(8)
        a_k = Signal(ADDR_BITS)
        c_w = Signal(8)
        a_w = Signal(ADDR_BITS)
        a1_w = Signal(ADDR_BITS + 1)
        a_below = Signal(ADDR_BITS)         # entry w - 1's pmpaddr
        # (read and registered only while busy: the registers are used only while an
        # entry is written, and a simulator skips all of it in the other cycles; and
        # not while ``hold`` stops the counters: ``a_below`` must still be the
        # previous entry's pmpaddr when they go on)
        with m.If(busy & ~hold):
            with m.Switch(k):
                for i in range(n):
                    with m.Case(i):
                        m.d.comb += [c_k.eq(self.cfg[8 * i:8 * i + 8]),
                                     a_k.eq(self.addr[ADDR_BITS * i:ADDR_BITS * (i + 1)])]
            m.d.sync += [c_w.eq(c_k), a_w.eq(a_k), a1_w.eq(a_k + 1), a_below.eq(a_w)]
        # The regions live in a table of n entries (LUT RAM: written one entry per
        # cycle, read one entry per cycle by the comparison), and their ``on`` bits
        # also in flip-flops, for ``on_next``.
        m.submodules.regions = table = Memory(shape=RegionLayout, depth=n, init=[])
        table_wr = table.write_port()
        table_rd = table.read_port(domain="comb")
        on_bits = Signal(n)
        # (computed only while an entry is written: a simulator skips it otherwise)
        with m.If(w != n):
            on_w, lo_w, hi_w = pmp_region(m, c_w[3:5], a_w, Mux(w == 0, 0, a_below), "pmp_w",
                                          a_plus_1=a1_w)
            m.d.comb += [table_wr.en.eq(1), table_wr.addr.eq(w),
                         table_wr.data.eq(Cat(on_w, lo_w, hi_w, perms_of(c_w)))]
            for i in range(n):
                with m.If(w == i):
                    m.d.sync += on_bits[i].eq(on_w)
        # (while busy, some entry may be on: M mode must ask)
        # ``on`` is a flip-flop loaded with what the OR of the regions' ``on`` bits
        # and ``busy`` will be in the next cycle (busy then: a flush now, or an
        # entry still to read; the region written now counted with its new bit),
        # so it is the same value as that OR, and the fetch unit's decision to
        # fetch at once in M mode (and the block RAM address it picks) starts from
        # it, not from the counters' compares and a 16-input OR.
        on_q = Signal()
        m.d.comb += self.on_next.eq(self.flush | (k != n) | Cat(*[
            Mux(w == i, on_w, on_bits[i]) for i in range(n)]).any())
        m.d.sync += on_q.eq(self.on_next)
        m.d.comb += self.on.eq(on_q)
        verdict = Signal()                 # of the request in stage 3, once ``done``

        # The requesters are the ports, then the block sweeper (owner nports).
        # stage 1: a request taken.  Each port's request is registered in every
        # cycle (``p_*``), taken or not, and only the choice of the request taken
        # (``q_owner``, from the ports' ``valid`` and remembered-page compares, both
        # late) is registered with ``q_valid``: so those compares reach a few
        # flip-flops, not the select of a multiplexer in front of 120 (the address a
        # port asks about may come from the MMU's answer in the same cycle).  In
        # stage 2 the owner's registers hold the request as it was taken, and are
        # copied (through the multiplexer that ``q_owner`` drives) into the
        # comparators' registers (``c_*``); in stage 3 those are compared with the
        # entries, one per cycle.  (The copy costs a cycle per comparison; without
        # it, when all 16 entries were compared at once, the path from ``q_owner``
        # through the multiplexer, the 54-bit compares' carry chains and the
        # verdict's tree into ``blk_ok`` and ``r_allowed`` was the longest of the
        # SoC on the board, 41 cells.)
        q_valid = Signal()
        q_owner = Signal(range(self.nports + 1))
        # stage 3: compared with entry ``c_entry``, one entry per cycle, until one
        # matches a byte of the request or none is left (``done``); the verdict
        # registered
        c_valid = Signal()
        c_entry = Signal(range(n))
        done = Signal()
        c_owner = Signal(range(self.nports + 1))
        c_ok = Signal()                    # no flush nor busy regions in stage 2
        c_first = Signal(56)
        c_last = Signal(56)
        c_priv = Signal(2)
        c_access = Signal(Access)
        c_page = Signal()                  # the request is a whole page
        # stage 4: the verdict registered, the port answered
        r_valid = Signal()
        r_owner = Signal(range(self.nports + 1))
        r_allowed = Signal()
        r_sweep = Signal()                 # a sweeper's check made with usable regions
        r_page = Signal(44)                # the page compared in stage 3, its access
        r_access = Signal(Access)          # and side of M mode
        r_mach = Signal()
        # a verdict made with up-to-date regions, not about to be forgotten
        usable = done & c_ok & ~self.flush

        # The blocks: one "allowed as a whole" bit per block, M or not, access kind,
        # found by the sweeper one check at a time (index: block, then M, then kind).
        kinds = (Access.FETCH, Access.LOAD, Access.STORE)
        sweep = [(b, mach, k) for b in range(len(self.blocks)) for mach in (0, 1)
                 for k in kinds]
        blk_ok = Signal(len(sweep))
        s_next = Signal(range(len(sweep) + 1))     # the next check; len(sweep): done
        s_valid = Signal()
        s_first = Signal(56)
        s_last = Signal(56)
        s_priv = Signal(2)
        s_access = Signal(Access)
        m.d.comb += s_valid.eq(s_next != len(sweep))
        with m.Switch(s_next):
            for j, (b, mach, k) in enumerate(sweep):
                base, bits = self.blocks[b]
                with m.Case(j):
                    m.d.comb += [s_first.eq(base), s_last.eq(base + (1 << bits) - 1),
                                 s_priv.eq(Priv.M if mach else Priv.S), s_access.eq(k)]
        with m.If(self.flush):
            m.d.sync += [blk_ok.eq(0), s_next.eq(0)]
        with m.Elif(r_sweep):
            # the sweeper's check: recorded from the registered verdict (stage 4, so
            # that the comparators reach one flip-flop, not the 6 of ``blk_ok``
            # through their enables), on to the next one (no check is taken while
            # this one is in flight, so ``s_next`` is still the one compared)
            # (the block's bit as one word-wide update: bit by bit, a simulator would
            # evaluate a multiplexer per block bit in every cycle)
            one = (C(1, 1) << s_next)[:len(sweep)]
            m.d.sync += [blk_ok.eq((blk_ok & ~one) | Mux(r_allowed, one, 0)),
                         s_next.eq(s_next + 1)]

        def block_hit(p):
            hit = C(0, 1)
            for j, (b, mach, k) in enumerate(sweep):
                base, bits = self.blocks[b]
                hit |= (blk_ok[j] & (p.first[bits:56] == base >> bits) &
                        (p.last[bits:56] == base >> bits) &
                        ((p.priv == Priv.M) == mach) & (p.access == k))
            return hit

        # the remembered pages of each port
        K = self.memo
        hits = []
        for i in range(self.nports):
            p = self.port(i)
            is_page = (p.first[:12] == 0) & (p.last[:12] == 0xFFF)
            hit = Signal(name=f"pmp{i}_hit")
            memo_hit = C(0, 1)
            if K:
                valid = Signal(K, name=f"memo{i}_valid")
                pages = [Signal(44, name=f"memo{i}_page{k}") for k in range(K)]
                kinds_ = [Signal(Access, name=f"memo{i}_access{k}") for k in range(K)]
                mach = [Signal(name=f"memo{i}_m{k}") for k in range(K)]
                victim = Signal(range(K), name=f"memo{i}_next")
                memo_hit = is_page & Cat(*[
                    valid[k] & (pages[k] == p.first[12:]) & (mach[k] == (p.priv == Priv.M)) &
                    ((kinds_[k] == p.access) |
                     ((kinds_[k] == Access.STORE) & (p.access == Access.LOAD)))
                    for k in range(K)]).any()
                # The page is remembered in the cycle its answer is given (stage 4),
                # from registers (``r_fill``, ``r_allowed``, ``r_page`` ...), not
                # from the comparators' verdict in the cycle before: the
                # compares reach one flip-flop, not the enables of the 188
                # remembering ones.  Exact: in the cycle of the answer the port is
                # answered whether its page is remembered or not, and no request
                # is taken (``r_valid``); a flush in that cycle still wins.
                r_fill = Signal(name=f"memo{i}_fill")
                m.d.sync += r_fill.eq(usable & (c_owner == i) & c_page)
                with m.If(self.flush):
                    m.d.sync += valid.eq(0)
                with m.Elif(r_fill & r_allowed):
                    # the victim's valid bit as one word-wide update (see blk_ok)
                    m.d.sync += valid.eq(valid | (C(1, 1) << victim)[:K])
                    for k in range(K):
                        with m.If(victim == k):
                            m.d.sync += [pages[k].eq(r_page), kinds_[k].eq(r_access),
                                         mach[k].eq(r_mach)]
                    m.d.sync += victim.eq(victim + 1 if K & (K - 1) == 0 else
                                          Mux(victim == K - 1, 0, victim + 1))
            # (only looked at with a request: a simulator compares only then)
            with m.If(p.valid):
                m.d.comb += hit.eq(memo_hit | block_hit(p))
            hits.append(hit)

        # The request taken: the first port that waits without an answer at once,
        # else the sweeper.  ``q_owner`` is loaded in every cycle, taken or not: it
        # is read only in the cycle after a request was taken (with q_valid).
        p_regs = []
        for i in range(self.nports):
            p = self.port(i)
            regs = (Signal(56, name=f"p{i}_first"), Signal(56, name=f"p{i}_last"),
                    Signal(2, name=f"p{i}_priv"), Signal(Access, name=f"p{i}_access"))
            m.d.sync += [regs[0].eq(p.first), regs[1].eq(p.last), regs[2].eq(p.priv),
                         regs[3].eq(p.access)]
            p_regs.append(regs)
        m.d.sync += [q_valid.eq(0), r_valid.eq(0)]
        m.d.sync += q_owner.eq(self.nports)
        for i in reversed(range(self.nports)):    # (later assignments win)
            p = self.port(i)
            with m.If(p.valid & ~hits[i]):
                m.d.sync += q_owner.eq(i)
        waiting = Cat(*[self.port(i).valid & ~hits[i] for i in range(self.nports)])
        with m.If(~q_valid & ~c_valid & ~r_valid & ~busy & (s_valid | waiting.any())):
            m.d.sync += q_valid.eq(1)
        # stage 2: the owner's request (registers: the port's, or the sweeper's
        # next check, which changes only after it) copied into the comparators'
        # registers (only while a request is in stage 2: a simulator copies only then)
        with m.If(q_valid):
            with m.Switch(q_owner):
                for i, regs in enumerate(p_regs):
                    with m.Case(i):
                        m.d.sync += [c_first.eq(regs[0]), c_last.eq(regs[1]),
                                     c_priv.eq(regs[2]), c_access.eq(regs[3]),
                                     c_page.eq((regs[0][:12] == 0) & (regs[1][:12] == 0xFFF))]
                with m.Default():
                    m.d.sync += [c_first.eq(s_first), c_last.eq(s_last),
                                 c_priv.eq(s_priv), c_access.eq(s_access), c_page.eq(0)]
            m.d.sync += [c_valid.eq(1), c_owner.eq(q_owner), c_entry.eq(0),
                         c_ok.eq(~busy & ~self.flush)]
        sweeping = c_owner == self.nports
        # stage 3: compared with one entry per cycle, lowest first: the first entry
        # that matches a byte decides; with none left, M mode is allowed and S and U
        # are not.  (Only looked at with a request in stage 3: a simulator compares
        # only then.)  A flush while a port's request is compared makes its verdict
        # one not to remember (``c_ok``), made with the old regions (``hold``); the
        # sweeper's check is dropped then (its verdict would not be recorded), so
        # that it delays neither the new regions nor the ports.
        m.d.comb += table_rd.addr.eq(c_entry)
        m.d.comb += hold.eq(c_valid & ~sweeping & ~done)
        with m.If(c_valid):
            region = table_rd.data
            matches_any, allows = entry_verdict(
                (region.on, region.lo, region.hi, region.perms),
                c_first, c_last, c_priv, needed_perm(m, c_access))
            m.d.comb += [done.eq(matches_any | (c_entry == n - 1)),
                         verdict.eq(Mux(matches_any, allows, c_priv == Priv.M))]
            with m.If(self.flush):
                m.d.sync += c_ok.eq(0)
            with m.If(done | (sweeping & (self.flush | ~c_ok))):
                m.d.sync += c_valid.eq(0)
            with m.Else():
                m.d.sync += c_entry.eq(c_entry + 1)
        # what a port remembers of an allowed page (in stage 4, see above; the
        # sweeper's checks are remembered by no port)
        m.d.sync += [r_page.eq(c_first[12:]), r_access.eq(c_access),
                     r_mach.eq(c_priv == Priv.M)]
        m.d.sync += r_sweep.eq(usable & (c_owner == self.nports))
        with m.If(done):
            m.d.sync += [r_valid.eq(1), r_owner.eq(c_owner), r_allowed.eq(verdict)]
        for i in range(self.nports):
            p = self.port(i)
            answered = r_valid & (r_owner == i)
            in_flight = (q_valid & (q_owner == i)) | (c_valid & (c_owner == i)) | answered
            m.d.comb += [p.ready.eq(answered | (p.valid & hits[i] & ~in_flight)),
                         p.allowed.eq(~answered | r_allowed)]
        return m


class PMPGate(wiring.Component):
    """Between a bus master (``up``) and the bus (``down``): every transfer is first
    checked (``check``; single 8-byte transfers, as the page-table walker makes) with
    privilege ``priv``, its page as a whole first, then, if the page is not allowed
    as a whole, the transfer's 8 bytes; a denied one is answered with ``error`` and
    never reaches the bus.  An allowed transfer goes on to the bus in the cycle the
    answer comes, so one that the unit answers at once (a page of the walker's it
    remembers, or in a block allowed as a whole: RAM, when xv6 has opened it) costs
    no cycle.  ``lock`` goes through."""

    def __init__(self, priv=Priv.S):
        self.priv = priv
        super().__init__({
            "up":    In(BusSignature()),
            "down":  Out(BusSignature()),
            "check": Out(PMPCheckSignature()),
        })

    def elaborate(self, platform):
        m = Module()
        up, down = self.up, self.down
        m.d.comb += [
            down.addr.eq(up.addr), down.write.eq(up.write), down.wdata.eq(up.wdata),
            down.sel.eq(up.sel), down.lock.eq(up.lock), down.burst_len.eq(up.burst_len),
            up.rdata.eq(down.rdata),
            self.check.priv.eq(self.priv),
            self.check.access.eq(Mux(up.write, Access.STORE, Access.LOAD)),
        ]
        with m.FSM(name="gate"):
            def pass_on():
                """The transfer is allowed: on the bus until its last beat."""
                m.d.comb += [down.valid.eq(up.valid), up.ready.eq(down.ready),
                             up.error.eq(down.error)]
                with m.If(down.valid & down.ready & (down.error | (up.burst_len == 0))):
                    m.next = "PAGE"
                with m.Else():
                    m.next = "PASS"

            def check(low_bits, denied):
                """Ask whether the aligned 2**low_bits bytes around the address are
                allowed: on to the bus if so, else to ``denied``."""
                m.d.comb += [self.check.valid.eq(up.valid),
                             self.check.first.eq(Cat(C(0, low_bits), up.addr[low_bits:])),
                             self.check.last.eq(Cat(C((1 << low_bits) - 1, low_bits),
                                                    up.addr[low_bits:]))]
                with m.If(self.check.ready):
                    with m.If(self.check.allowed):
                        pass_on()
                    with m.Else():
                        m.next = denied

            with m.State("PAGE"):
                check(12, "WORD")
            with m.State("WORD"):
                check(3, "DENY")
            with m.State("PASS"):
                pass_on()
            with m.State("DENY"):
                m.d.comb += [up.ready.eq(1), up.error.eq(1)]
                m.next = "PAGE"
        return m
