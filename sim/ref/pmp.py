"""Physical memory protection (privileged spec, "Physical Memory Protection").

Today's core implements zero PMP entries (every pmp CSR reads 0 and ignores writes,
and no access is checked).  The pipelined core will implement 16; this model does
both, chosen by ``entries`` (0, 16 or 64), with the granularity ``grain`` = G (regions
of 2**(G+2) bytes; G = 0 allows NA4).

Each entry is an 8-bit configuration (R W X, A = OFF/TOR/NA4/NAPOT, L) and an
address register holding physical address bits 55:2.  The WARL choices where the
specification leaves one:

* R = 0 with W = 1 is reserved: such a write clears W (R, X, A, L are kept);
* bits 6:5 of a configuration read 0;
* with G >= 1, A = NA4 is not selectable: the write makes the entry OFF;
* pmpaddr keeps bits 53:0 (physical address bits 55:2).

Locking: a locked entry ignores writes to its configuration and address, and the
address of the entry below a locked TOR entry is locked too; L also makes the
entry's R/W/X apply to M mode.  Matching: the lowest-numbered entry that matches any
byte decides; it must match every byte of the access or the access fails.  No
match: M mode succeeds, S and U fail (when at least one entry is implemented).
"""

__all__ = ["PMP", "R", "W", "X"]

R, W, X = 1, 2, 4
L = 0x80
A_SHIFT = 3
OFF, TOR, NA4, NAPOT = 0, 1, 2, 3
ADDR_MASK = (1 << 54) - 1
PRIV_M = 3


class PMP:
    def __init__(self, entries=0, grain=0):
        if entries not in (0, 16, 64):
            raise ValueError(f"PMP entries must be 0, 16 or 64, not {entries}")
        if not 0 <= grain <= 52:
            raise ValueError(f"PMP grain G must be 0..52, not {grain}")
        self.entries = entries
        self.grain = grain
        self.cfg = [0] * entries
        self.addr = [0] * entries
        self.regions = []          # (lo, hi, cfg) of the entries that are not OFF, in order

    # ---- CSR view ----

    def read_cfg(self, n):
        """pmpcfg<n> (n even): the configurations of entries 4n .. 4n+7."""
        first = n * 4
        value = 0
        for i in range(8):
            if first + i < self.entries:
                value |= self.cfg[first + i] << (8 * i)
        return value

    def write_cfg(self, n, value):
        first = n * 4
        for i in range(8):
            e = first + i
            if e >= self.entries or self.cfg[e] & L:
                continue
            c = (value >> (8 * i)) & 0x9F          # R W X A L; bits 6:5 read 0
            if c & W and not c & R:
                c &= ~W
            if self.grain >= 1 and (c >> A_SHIFT) & 3 == NA4:
                c &= ~(3 << A_SHIFT)
            self.cfg[e] = c
        self._update()

    def read_addr(self, n):
        if n >= self.entries:
            return 0
        a = self.addr[n]
        g = self.grain
        if g >= 1:
            if (self.cfg[n] >> A_SHIFT) & 2:       # NAPOT: bits G-2:0 read as ones
                if g >= 2:
                    a |= (1 << (g - 1)) - 1
            else:                                  # OFF or TOR: bits G-1:0 read as zeros
                a &= ~((1 << g) - 1)
        return a

    def write_addr(self, n, value):
        if n >= self.entries or self.cfg[n] & L:
            return
        above = n + 1
        if above < self.entries and self.cfg[above] & L and \
                (self.cfg[above] >> A_SHIFT) & 3 == TOR:
            return
        self.addr[n] = value & ADDR_MASK
        self._update()

    # ---- matching ----

    def _range(self, i):
        """[lo, hi) in bytes of entry i, or None when it is OFF."""
        mode = (self.cfg[i] >> A_SHIFT) & 3
        if mode == OFF:
            return None
        if mode == TOR:
            g = self.grain
            lo = (self.read_addr(i - 1) >> g << g) << 2 if i > 0 else 0
            hi = (self.read_addr(i) >> g << g) << 2
            return lo, hi
        a = self.read_addr(i)
        if mode == NA4:
            return a << 2, (a << 2) + 4
        ones = 0
        while a >> ones & 1:
            ones += 1
        size = 8 << ones
        lo = (a << 2) & ~(size - 1)
        return lo, lo + size

    def _update(self):
        self.regions = []
        for i in range(self.entries):
            r = self._range(i)
            if r is not None and r[0] < r[1]:          # an empty TOR range matches nothing
                self.regions.append((r[0], r[1], self.cfg[i]))

    def allows(self, paddr, size, perm, priv):
        """May an access of ``size`` bytes at ``paddr`` with permission ``perm`` (R, W
        or X) from privilege ``priv`` go ahead?"""
        if not self.entries:
            return True
        end = paddr + size
        for lo, hi, cfg in self.regions:
            if end <= lo or paddr >= hi:
                continue
            if not (lo <= paddr and end <= hi):
                return False                  # matches only some bytes
            if priv == PRIV_M and not cfg & L:
                return True
            return bool(cfg & perm)
        return priv == PRIV_M
