"""Random test programs for the lock-step comparison: valid, terminating instruction
streams that go after what pipelines and caches get wrong.

``generate(seed)`` builds a program in memory (an ``ElfImage``: no toolchain
needed) from a ``random.Random(seed)``, so a seed replays exactly.  The program:

* starts in M mode at 0x8000_0000, installs an M and an S trap handler, turns on
  Sstc, loads random values into the registers and enters the body;
* body: a random sequence of *groups*, each a few instructions of one kind:
  ALU and M operations whose sources are biased towards the last destinations
  (back-to-back dependencies of every producer/consumer pair), loads followed by
  a use, stores, branches and jumps of every shape (forward, short loops, calls
  and returns, computed jumps, misaligned targets), CSR reads and writes,
  ecall/ebreak/illegal instructions and mret/sret where they are illegal,
  privilege changes (M, S, U; Bare or Sv39), page-table changes followed by
  sfence.vma and accesses through the changed pages (A/D updates, faults),
  self-modifying code with fence.i, LR/SC and AMOs, misaligned accesses (some
  across a page boundary of the Sv39 window; they trap or complete, as the model's
  Config says; misaligned loads whose doublewords are cached, evicted or just
  stored to), device
  registers (CLINT: mtime, msip, mtimecmp), software and timer interrupts, WFI;
* end: back to M, every register stored to memory and every CSR the body changes
  read (so the final state is compared), the window's page-table entries loaded
  (A/D bits), tohost = 1.

Every trap goes to a handler that records the cause in registers (so it shows in
the comparison) and resumes after the trapping instruction; ecall with a7 = n is
a request to continue in mode/translation ``MODES[n]``.  The handlers clear every
interrupt source the programs use, so nothing can hang.

Registers: x3 (gp) points into the data area, x4 (tp) counts loops, x17 (a7)
holds mode requests, x28/x29 belong to the M handler and x30/x31 to the S
handler; the body writes only the others.

Memory (RAM from 0x8000_0000, 256 KiB): code (the first page holds start-up and
handlers and is not user-accessible under Sv39), page tables at +0x20000, data at
+0x30000, the eight pages seen through the Sv39 window at +0x32000, tohost at
+0x3F000.  Sv39: two roots, for S (identity map of RAM, supervisor pages) and for U
(the same, user pages); both map the window VA 0x4000_0000.. through one leaf table
whose entries the program rewrites, and map a 2 MiB and a 1 GiB superpage (read-only,
sometimes misaligned) onto the start of RAM.
"""

import random

from hw.core.csr import CSR
from sim.elf import ElfImage

from .asm import ALU_RI, ALU_RR, Asm, BRANCH_F3, enc, li32

__all__ = ["generate", "disk_for", "RAM_BASE", "RAM_SIZE", "MODES"]

RAM_BASE = 0x8000_0000
RAM_SIZE = 256 * 1024
PT = RAM_BASE + 0x2_0000
ROOT_S, ROOT_U, L1_S, L1_U, L0_S, L0_U, L1_W, L0_W = (PT + 0x1000 * i for i in range(8))
DATA = RAM_BASE + 0x3_0000             # 4 KiB data, then the constant pool
GP = DATA + 2048
POOL = DATA + 0x1000
WINDOW_PAGES = RAM_BASE + 0x3_2000     # 8 pages behind the Sv39 window
WINDOW_VA = 0x4000_0000
MEGA_VA = WINDOW_VA + 0x20_0000       # a 2 MiB superpage (level-1 leaf) onto RAM
GIGA_VA = 0x1_0000_0000               # a 1 GiB superpage (root leaf) onto RAM
TOHOST = RAM_BASE + 0x3_F000
VQ = RAM_BASE + 0x2_8000               # the virtqueue (descriptors, avail, used, request)
VQ_AVAIL, VQ_USED, VQ_REQ = VQ + 0x100, VQ + 0x200, VQ + 0x400
DMA_PAGES = RAM_BASE + 0x2_9000        # 2 pages only the block device's requests use
DISK_SECTORS = 32
VIRTIO = 0x1000_1000
#: the data cache's way size (hw/core/pipeline.py: 8 KiB, 2 ways): addresses this far
#: apart fall in the same set
WAY = 4096
CLINT = 0x0200_0000
MTIMECMP, MTIME = CLINT + 0x4000, CLINT + 0xBFF8
MTIME_LO = ((MTIME & 0xFFF) ^ 0x800) - 0x800         # lui + load offset of mtime
MTIME_HI = (MTIME - MTIME_LO) >> 12

V, R, W, X, U, G, A, D, S_BIT = 1, 2, 4, 8, 16, 32, 64, 128, 256

#: a7 value -> (privilege, satp root or None) the M handler switches to on ecall
MODES = [("M", None), ("S", None), ("S", ROOT_S), ("U", None), ("U", ROOT_U),
         ("M", ROOT_S), ("M", ROOT_U)]
PRIV_NUM = {"U": 0, "S": 1, "M": 3}

GP_REG, TP_REG, A7 = 3, 4, 17
M_T0, M_T1, S_T0, S_T1 = 28, 29, 30, 31
RA = 1
#: registers the body may write
FREE = [1] + list(range(5, 17)) + list(range(18, 28))
#: CSRs the body reads (several do not exist or are out of reach below M)
READ_CSRS = [CSR.MSTATUS, CSR.MISA, CSR.MEDELEG, CSR.MIDELEG, CSR.MIE, CSR.MTVEC,
             CSR.MSCRATCH, CSR.MEPC, CSR.MCAUSE, CSR.MTVAL, CSR.MIP, CSR.MINSTRET,
             CSR.MCYCLE, CSR.SSTATUS, CSR.SIE, CSR.STVEC, CSR.SSCRATCH, CSR.SEPC, CSR.SCAUSE,
             CSR.STVAL, CSR.SIP, CSR.SATP, CSR.STIMECMP, CSR.CYCLE, CSR.TIME, CSR.INSTRET,
             CSR.MHARTID, CSR.MVENDORID, CSR.MENVCFG, CSR.SENVCFG, CSR.MCOUNTEREN,
             CSR.SCOUNTEREN, CSR.PMPCFG0, CSR.PMPADDR0, CSR.TDATA1, 0xC03, 0xB03,
             0x7C0, 0x3A1, 0xC20, 0x5A8, 0x800]
#: (CSR, mask of the bits the body may change) for random writes
WRITE_CSRS = [
    (CSR.MSCRATCH, -1), (CSR.SSCRATCH, -1), (CSR.MEPC, -1), (CSR.SEPC, -1),
    (CSR.MCAUSE, -1), (CSR.SCAUSE, -1), (CSR.MTVAL, -1), (CSR.STVAL, -1),
    (CSR.MIE, 0xAAA), (CSR.SIE, 0x222), (CSR.MIDELEG, 0x222),
    (CSR.MEDELEG, 0xB0FF),             # never ecalls (8, 9, 11): mode requests reach M
    (CSR.MIP, 0x22), (CSR.SIP, 0x2),   # SSIP, and STIP (not writable under Sstc)
    (CSR.MSTATUS, (1 << 1) | (1 << 3) | (1 << 5) | (1 << 7) | (1 << 8) | (3 << 11) |
     (1 << 17) | (1 << 18) | (1 << 19) | (1 << 21)),     # not TVM, not TSR
    (CSR.SSTATUS, (1 << 1) | (1 << 5) | (1 << 8) | (1 << 18) | (1 << 19)),
    (CSR.STIMECMP, -1), (CSR.MINSTRET, -1), (CSR.MCYCLE, -1), (CSR.MISA, -1),
    (CSR.MHARTID, -1), (CSR.CYCLE, -1),                   # read-only: illegal to write
]
ILLEGAL_WORDS = [0x00000000, 0xFFFFFFFF, 0x00004501, 0x0000707F, 0x0000000B,
                 0x02005033, 0x4000703B, 0x1000302F, 0x00002073 | (0x7C0 << 20),
                 0x00100173, 0x30200173]


class Generator:
    def __init__(self, seed, length, pmp_entries=0, dma=False):
        self.pmp = pmp_entries > 0
        self.dma = dma
        self.rng = random.Random(seed)
        self.seed = seed
        self.length = length
        self.a = Asm(RAM_BASE)
        self.pool = []                  # 64-bit constants (see load_const)
        self.recent = []                # last destinations, newest last
        self.avoid = set()              # registers dst() must not pick now
        self.mode = ("M", None)
        self.n = 0                      # label counter
        self.functions = []             # called functions (their bodies follow the end)
        self.patchable = []             # functions whose first instruction is rewritten
        self.window_initial = [self.window_pte(j) for j in range(8)]
        self.window = list(self.window_initial)      # the window PTEs as written so far

    # ---- helpers ----

    def new_label(self, stem):
        self.n += 1
        return f"{stem}{self.n}"

    def const(self, value):
        """Index of a 64-bit constant in the pool (loaded with ld rd, off(pool))."""
        self.pool.append(value & ((1 << 64) - 1))
        return len(self.pool) - 1

    def load_const(self, rd, value):
        """rd = value (any 64 bits), through the constant pool."""
        if -(1 << 31) <= value < (1 << 31) and self.rng.random() < 0.5:
            self.a.emit(*li32(rd, value))
            return
        k = self.const(value)
        self.a.la(rd, "pool", 8 * k)
        self.a.emit(enc.load("ld", rd, rd, 0))

    def src(self):
        """A source register: often a recent destination (dependencies)."""
        r = self.rng.random()
        if self.recent and r < 0.45:
            return self.recent[-1]
        if len(self.recent) > 1 and r < 0.6:
            return self.recent[-2]
        if r < 0.65:
            return 0
        return self.rng.randrange(32)

    def dst(self):
        rd = self.rng.choice([r for r in FREE if r not in self.avoid])
        self.recent = (self.recent + [rd])[-3:]
        return rd

    def dst_besides(self, reg):
        """A destination other than ``reg`` (which holds an address still needed)."""
        self.avoid.add(reg)
        rd = self.dst()
        self.avoid.discard(reg)
        return rd

    def dst_besides_all(self, regs):
        """A destination that is none of ``regs``."""
        saved = set(self.avoid)
        self.avoid |= set(regs)
        rd = self.dst()
        self.avoid = saved
        return rd

    def random_value(self):
        r = self.rng.random()
        if r < 0.3:
            return self.rng.choice([0, 1, -1, 1 << 63, (1 << 63) - 1, 1 << 31, 0xFFFF_FFFF,
                                    0x8000_0000, 2, -2])
        return self.rng.getrandbits(64)

    # ---- start-up and handlers ----

    def startup(self):
        a = self.a
        a.label("_start")
        a.la(M_T0, "m_handler")
        a.emit(enc.csr("csrrw", 0, M_T0, CSR.MTVEC))
        a.la(M_T0, "s_handler")
        a.emit(enc.csr("csrrw", 0, M_T0, CSR.STVEC))
        self.load_const(M_T0, 1 << 63)
        a.emit(enc.csr("csrrw", 0, M_T0, CSR.MENVCFG))              # Sstc on
        a.emit(enc.csr("csrrwi", 0, 7, CSR.MCOUNTEREN), enc.csr("csrrwi", 0, 7, CSR.SCOUNTEREN))
        if self.pmp:
            # PMP: entry 15 lets S and U reach everything (NAPOT over the whole space);
            # the body programs entries 0-3 over the data area
            a.emit(enc.alu_ri("addi", M_T0, 0, -1), enc.csr("csrrw", 0, M_T0, CSR.PMPADDR0 + 15))
            self.load_const(M_T0, 0x1F << 56)
            a.emit(enc.csr("csrrw", 0, M_T0, CSR.PMPCFG0 + 2))
        if self.dma:
            self.virtio_setup()
        a.la(GP_REG, "data", 2048)
        for r in FREE + [A7]:
            self.load_const(r, self.random_value())
        a.jal(0, "body")
        self.m_handler()
        self.s_handler()

    def virtio_setup(self):
        """Bring up the block device's queue 0 (8 entries) on the rings at VQ, as a
        driver does: reset, ACKNOWLEDGE, DRIVER, features (none), FEATURES_OK, the
        queue, DRIVER_OK."""
        a = self.a
        a.emit(enc.lui(M_T0, VIRTIO >> 12), enc.store("sw", 0, M_T0, 0x70))
        for status in (1, 3):
            a.emit(enc.alu_ri("addi", M_T1, 0, status), enc.store("sw", M_T1, M_T0, 0x70))
        a.emit(enc.store("sw", 0, M_T0, 0x24), enc.store("sw", 0, M_T0, 0x20),
               enc.alu_ri("addi", M_T1, 0, 0xB), enc.store("sw", M_T1, M_T0, 0x70),
               enc.store("sw", 0, M_T0, 0x30),
               enc.alu_ri("addi", M_T1, 0, 8), enc.store("sw", M_T1, M_T0, 0x38))
        for reg, addr in ((0x80, VQ), (0x90, VQ_AVAIL), (0xA0, VQ_USED)):
            a.la(M_T1, "vq", addr - VQ)
            a.emit(enc.store("sw", M_T1, M_T0, reg), enc.store("sw", 0, M_T0, reg + 4))
        a.emit(enc.alu_ri("addi", M_T1, 0, 1), enc.store("sw", M_T1, M_T0, 0x44),
               enc.alu_ri("addi", M_T1, 0, 0xF), enc.store("sw", M_T1, M_T0, 0x70))

    def m_handler(self):
        a = self.a
        a.align(4)
        a.label("m_handler")
        a.emit(enc.lui(M_T0, 0x20), enc.csr("csrrc", 0, M_T0, CSR.MSTATUS))   # MPRV off
        a.emit(enc.csr("csrrs", M_T0, 0, CSR.MCAUSE), enc.csr("csrrs", M_T1, 0, CSR.MTVAL))
        a.branch("blt", M_T0, 0, "m_interrupt")
        for cause in (8, 9, 11):
            a.emit(enc.alu_ri("addi", M_T1, 0, cause))
            a.branch("beq", M_T0, M_T1, "m_ecall")
        a.label("m_skip")
        a.emit(enc.csr("csrrs", M_T1, 0, CSR.MEPC), enc.alu_ri("addi", M_T1, M_T1, 4),
               enc.csr("csrrw", 0, M_T1, CSR.MEPC), enc.MRET)
        a.label("m_interrupt")               # clear every source the programs use
        a.emit(enc.alu_ri("addi", M_T1, 0, 0x22), enc.csr("csrrc", 0, M_T1, CSR.MIP),
               enc.alu_ri("addi", M_T1, 0, -1), enc.csr("csrrw", 0, M_T1, CSR.STIMECMP),
               enc.lui(M_T0, CLINT >> 12), enc.store("sw", 0, M_T0, 0),
               enc.lui(M_T0, MTIMECMP >> 12), enc.store("sd", M_T1, M_T0, 0), enc.MRET)
        a.label("m_ecall")                   # a7 = index into MODES
        for n, (priv, root) in enumerate(MODES):
            nxt = self.new_label("m_mode")
            a.emit(enc.alu_ri("addi", M_T1, 0, n))
            a.branch("bne", A7, M_T1, nxt)
            if root is None:
                a.emit(enc.csr("csrrw", 0, 0, CSR.SATP))
            else:
                a.la(M_T1, "satp_" + ("s" if root == ROOT_S else "u"))
                a.emit(enc.load("ld", M_T1, M_T1, 0), enc.csr("csrrw", 0, M_T1, CSR.SATP))
            a.emit(enc.sfence_vma())
            a.emit(*li32(M_T1, 3 << 11))
            a.emit(enc.csr("csrrc", 0, M_T1, CSR.MSTATUS))
            a.emit(*li32(M_T1, PRIV_NUM[priv] << 11))
            a.emit(enc.csr("csrrs", 0, M_T1, CSR.MSTATUS))
            a.jal(0, "m_skip")
            a.label(nxt)
        a.jal(0, "m_skip")                   # an unknown request: stay

    def s_handler(self):
        a = self.a
        a.align(4)
        a.label("s_handler")
        a.emit(enc.csr("csrrs", S_T0, 0, CSR.SCAUSE), enc.csr("csrrs", S_T1, 0, CSR.STVAL))
        a.branch("blt", S_T0, 0, "s_interrupt")
        a.emit(enc.csr("csrrs", S_T1, 0, CSR.SEPC), enc.alu_ri("addi", S_T1, S_T1, 4),
               enc.csr("csrrw", 0, S_T1, CSR.SEPC), enc.SRET)
        a.label("s_interrupt")
        a.emit(enc.csr("csrrci", 0, 2, CSR.SIP), enc.alu_ri("addi", S_T1, 0, -1),
               enc.csr("csrrw", 0, S_T1, CSR.STIMECMP), enc.SRET)

    # ---- groups ----

    def g_alu(self):
        if self.rng.random() < 0.5:
            name = self.rng.choice(list(ALU_RR))
            s1, s2 = self.src(), self.src()
            self.a.emit(enc.alu_rr(name, self.dst(), s1, s2))
        else:
            name = self.rng.choice(list(ALU_RI) + ["lui", "auipc"])
            s1 = self.src()
            if name in ("lui", "auipc"):
                word = (enc.lui if name == "lui" else enc.auipc)(self.dst(), self.rng.getrandbits(20))
            else:
                word = enc.alu_ri(name, self.dst(), s1, self.rng.randrange(-2048, 2048))
            self.a.emit(word)

    def data_address(self, size):
        """(base register, offset) of an access in the data area: usually aligned,
        sometimes misaligned, the base sometimes computed just before."""
        off = self.rng.randrange(0, 2040 - 8) - 1024
        if self.rng.random() < 0.88:
            off &= ~(size - 1)
        if self.rng.random() < 0.4:
            base = self.dst()
            delta = self.rng.randrange(-64, 64)
            self.a.emit(enc.alu_ri("addi", base, GP_REG, delta))
            return base, off - delta
        return GP_REG, off

    def g_load(self, use=False):
        name = self.rng.choice(["lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"])
        size = {"b": 1, "h": 2, "w": 4, "d": 8}[name[1]]
        base, off = self.data_address(size)
        rd = self.dst()
        self.a.emit(enc.load(name, rd, base, off))
        if use:                            # load-use: the very next instruction reads rd
            self.a.emit(enc.alu_rr(self.rng.choice(["add", "xor", "sub", "mul", "sltu"]),
                                   self.dst(), rd, self.src()))

    def g_store(self):
        name = self.rng.choice(["sb", "sh", "sw", "sd"])
        size = {"b": 1, "h": 2, "w": 4, "d": 8}[name[1]]
        value = self.src()
        base, off = self.data_address(size)
        self.a.emit(enc.store(name, value, base, off))
        if self.rng.random() < 0.3:        # read it back at once (store -> load forwarding)
            self.a.emit(enc.load("ld" if size == 8 else "lw" if size == 4 else "lbu",
                                 self.dst(), base, off & ~(min(size, 4) - 1)))

    def simple(self):
        r = self.rng.random()
        if r < 0.55:
            self.g_alu()
        elif r < 0.75:
            self.g_load(use=self.rng.random() < 0.5)
        else:
            self.g_store()

    def g_branch(self):
        skip = self.new_label("skip")
        name = self.rng.choice(list(BRANCH_F3))
        self.a.branch(name, self.src(), self.src(), skip)
        for _ in range(self.rng.randrange(0, 4)):
            self.simple()
        self.a.label(skip)

    def g_jump(self):
        a = self.a
        r = self.rng.random()
        target = self.new_label("jt")
        if r < 0.3:                                   # jal over a few instructions
            a.jal(self.rng.choice([0, self.dst()]), target)
        elif r < 0.7:                                 # computed: auipc + addi + jalr
            base = self.dst()
            a.la(base, target)
            a.emit(enc.jalr(self.rng.choice([0, self.dst()]), base, 0))
        else:                                         # misaligned target: traps
            base = self.dst()
            a.la(base, target, 2)
            a.emit(enc.jalr(self.dst(), base, self.rng.choice([0, 1])))
        for _ in range(self.rng.randrange(0, 3)):
            self.simple()
        a.label(target)
        if self.rng.random() < 0.5 and self.recent:   # consume the link register
            a.emit(enc.alu_rr("add", self.dst(), self.recent[-2] if len(self.recent) > 1
                              else self.recent[-1], self.src()))

    def g_call(self):
        name = self.new_label("fn")
        self.functions.append(name)
        self.a.jal(RA, name)
        self.recent = (self.recent + [RA])[-3:]

    def g_loop(self):
        a = self.a
        top = self.new_label("loop")
        a.emit(enc.alu_ri("addi", TP_REG, 0, self.rng.randrange(1, 5)))
        a.label(top)
        for _ in range(self.rng.randrange(1, 6)):
            if self.rng.random() < 0.2:
                self.g_branch()
            else:
                self.simple()
        a.emit(enc.alu_ri("addi", TP_REG, TP_REG, -1))
        a.branch("bne", TP_REG, 0, top)

    def g_muldiv(self):
        name = self.rng.choice([n for n, (_, _, f7) in ALU_RR.items() if f7 == 1])
        s1, s2 = self.src(), self.src()
        self.a.emit(enc.alu_rr(name, self.dst(), s1, s2))
        if self.rng.random() < 0.5:
            self.a.emit(enc.alu_rr("add", self.dst(), self.recent[-2], self.src()))

    def g_csr(self):
        a = self.a
        if self.rng.random() < 0.5:
            addr = self.rng.choice(READ_CSRS)
            a.emit(enc.csr("csrrs", self.dst(), 0, addr))
            return
        addr, mask = self.rng.choice(WRITE_CSRS)
        value = self.random_value() & mask if mask != -1 else self.random_value()
        if addr == CSR.STIMECMP and self.rng.random() < 0.7:
            # a timer that fires soon: now + a little (the RTL decides when)
            t = self.dst()
            a.emit(enc.csr("csrrs", t, 0, CSR.TIME),
                   enc.alu_ri("addi", t, t, self.rng.randrange(5, 200)),
                   enc.csr("csrrw", 0, t, addr))
            return
        op = self.rng.choice(["csrrw", "csrrs", "csrrc"])
        if self.rng.random() < 0.3 and value & 31 == value:
            a.emit(enc.csr(op + "i", self.dst(), value, addr))
            return
        reg = self.dst()
        self.load_const(reg, value)
        a.emit(enc.csr(op, self.rng.choice([0, self.dst()]), reg, addr))

    def g_exception(self):
        r = self.rng.random()
        if r < 0.3:
            self.a.emit(enc.EBREAK)
        elif r < 0.8:
            self.a.emit(self.rng.choice(ILLEGAL_WORDS))
        elif self.mode[0] == "U":
            self.a.emit(self.rng.choice([enc.MRET, enc.SRET, enc.WFI, enc.sfence_vma()]))
        elif self.mode[0] == "S":
            self.a.emit(enc.MRET)
        else:
            self.a.emit(enc.EBREAK)

    def g_mode(self, n=None):
        n = self.rng.randrange(len(MODES)) if n is None else n
        self.a.emit(enc.alu_ri("addi", A7, 0, n), enc.ECALL)
        self.mode = MODES[n]

    def g_xret_same_mode(self):
        """mret (in M) or sret (in S) back to the next instruction, same mode.

        The mode's interrupts are off from before the xEPC write to the xRET
        (which sets xIE from xPIE, so nothing else changes): an interrupt taken
        in between would leave xEPC pointing into the sequence, and the xRET
        would go back there for ever."""
        a = self.a
        t = self.dst()
        nxt = self.new_label("xret")
        if self.mode[0] == "M":
            a.emit(enc.csr("csrrci", 0, 1 << 3, CSR.MSTATUS))         # MIE
            a.la(t, nxt)
            a.emit(enc.csr("csrrw", 0, t, CSR.MEPC), *li32(t, 3 << 11),
                   enc.csr("csrrs", 0, t, CSR.MSTATUS), enc.MRET)
        elif self.mode[0] == "S":
            a.emit(enc.csr("csrrci", 0, 1 << 1, CSR.SSTATUS))         # SIE
            a.la(t, nxt)
            a.emit(enc.csr("csrrw", 0, t, CSR.SEPC), enc.alu_ri("addi", t, 0, 1 << 8),
                   enc.csr("csrrs", 0, t, CSR.SSTATUS), enc.SRET)
        a.label(nxt)

    def window_pte(self, page):
        flags = V | A | D | R | W | X
        r = self.rng.random()
        if r < 0.6:
            flags = V | self.rng.choice([R, R | W, R | X, X, R | W | X])
            flags |= self.rng.choice([0, A, A | D, D])
            flags |= self.rng.choice([0, U]) | self.rng.choice([0, 0, G]) | \
                self.rng.choice([0, S_BIT])
        elif r < 0.7:
            flags = self.rng.choice([0, W | V, V | R | (1 << 54), V | R | (1 << 62)])
        ppn = (WINDOW_PAGES + 0x1000 * self.rng.randrange(8)) >> 12
        return (ppn << 10) | flags

    def mprv_off(self):
        """In M: clear mstatus.MPRV, so that the next accesses are physical."""
        if self.mode[0] == "M":
            t = self.dst()
            self.a.emit(enc.lui(t, 0x20), enc.csr("csrrc", 0, t, CSR.MSTATUS))

    def g_page_table(self):
        """Rewrite a window PTE, sfence.vma, then access through it (M or S only)."""
        if self.mode[0] == "U":
            return self.g_window_access()
        a = self.a
        j = self.rng.randrange(8)
        if self.rng.random() < 0.5:        # the old translation in the TLBs first
            self.g_window_access(page=j)
        self.mprv_off()
        old, new = self.window[j], self.window_pte(j)
        self.window[j] = new
        value = self.dst()
        base = self.dst_besides(value)
        self.load_const(value, new)
        a.la(base, "l0_w")
        a.emit(enc.store("sd", value, base, 8 * j))
        global_ = (old | new) & G
        r = self.rng.random()
        if r < 0.4 or global_:
            a.emit(enc.sfence_vma(0, 0))
        elif r < 0.7:
            va = self.dst()
            a.emit(enc.lui(va, (WINDOW_VA >> 12) + j))
            a.emit(enc.sfence_vma(va, 0))
        else:
            # only this address space: rs2 must hold its ASID, 0 here (an sfence.vma
            # for another ASID leaves our stale entries alone, rightly)
            asid = self.dst()
            a.emit(enc.alu_ri("addi", asid, 0, 0), enc.sfence_vma(0, asid))
        for _ in range(self.rng.randrange(1, 4)):
            self.g_window_access(page=j)

    def superpage_pte(self):
        """A superpage leaf onto the start of RAM, never writable (the code lives
        there), sometimes with a PPN not aligned to the superpage (page fault)."""
        flags = self.rng.choice([V | R | A, V | R | X | A, V | X | A, V | R | U | A, V | R,
                                 V | R | A | G | D, V | R | A | S_BIT])
        ppn = RAM_BASE >> 12
        if self.rng.random() < 0.15:
            ppn += 1
        return (ppn << 10) | flags

    def g_superpage_access(self):
        """Loads (and stores, which fault) through a 2 MiB or 1 GiB superpage."""
        a = self.a
        base = self.dst()
        if self.rng.random() < 0.5:
            a.emit(enc.lui(base, MEGA_VA >> 12))
        else:
            a.emit(enc.alu_ri("addi", base, 0, 1), enc.alu_ri("slli", base, base, 32))
        off = self.rng.randrange(0, 2040) & ~7
        if self.rng.random() < 0.8:
            a.emit(enc.load(self.rng.choice(["ld", "lw", "lhu"]), self.dst(), base, off))
        else:
            a.emit(enc.store("sd", self.src(), base, off))

    def g_window_access(self, page=None):
        a = self.a
        if page is None and self.rng.random() < 0.25:
            return self.g_superpage_access()
        j = self.rng.randrange(8) if page is None else page
        base = self.dst()
        a.emit(enc.lui(base, (WINDOW_VA >> 12) + j))
        off = self.rng.randrange(0, 2040) & ~7
        r = self.rng.random()
        if r < 0.4:
            a.emit(enc.load(self.rng.choice(["ld", "lw", "lbu"]), self.dst(), base, off))
        elif r < 0.8:
            a.emit(enc.store(self.rng.choice(["sd", "sw", "sb"]), self.src(), base, off))
        elif r < 0.9:
            a.emit(enc.amo("amoadd", "d", self.dst(), base, self.src()))
        elif r < 0.95:
            a.emit(enc.load("ld", self.dst(), base, off + self.rng.choice([1, 2, 4])))
        else:
            # misaligned, across the end of the page into the next one (whose
            # mapping the program changes too; the window's last page is followed
            # by an unmapped one)
            a.emit(enc.lui(base, (WINDOW_VA >> 12) + j + 1))
            name = self.rng.choice(["ld", "lw", "lh", "lhu", "sd", "sw", "sh"])
            off = -self.rng.choice([1, 2, 3, 6])
            if name[0] == "l":
                a.emit(enc.load(name, self.dst(), base, off))
            else:
                a.emit(enc.store(name, self.src(), base, off))

    def g_self_modifying(self):
        """Write an instruction 12 bytes ahead, fence.i, run it."""
        a = self.a
        name = self.rng.choice(["addi", "xori", "slli", "addiw"])
        word = enc.alu_ri(name, self.rng.choice(FREE), self.rng.randrange(32),
                          self.rng.randrange(0, 31))
        wreg, areg = self.dst(), self.dst()
        self.load_const(wreg, word)
        a.emit(enc.auipc(areg, 0), enc.store("sw", wreg, areg, 12), enc.FENCE_I, enc.NOP)

    def g_atomic(self):
        a = self.a
        width = self.rng.choice("wd")
        size = 4 if width == "w" else 8
        addr = self.dst()
        off = (self.rng.randrange(0, 1024) & ~(size - 1)) - 512
        if self.rng.random() < 0.08:
            off += self.rng.choice([1, 2, 4]) % size or 1            # misaligned: traps
        a.emit(enc.alu_ri("addi", addr, GP_REG, off))
        r = self.rng.random()
        if r < 0.35:
            a.emit(enc.amo("lr", width, self.dst(), addr, 0))
            k = self.rng.random()
            if k < 0.2:
                self.simple()
            elif k < 0.3:
                a.emit(enc.store("sd" if size == 8 else "sw", self.src(), addr, 0))
            target = addr
            if self.rng.random() < 0.2:
                target = self.dst()
                a.emit(enc.alu_ri("addi", target, addr, size))
            a.emit(enc.amo("sc", width, self.dst(), target, self.src()))
            if self.rng.random() < 0.2:
                a.emit(enc.amo("sc", width, self.dst(), addr, self.src()))
        else:
            name = self.rng.choice(["amoadd", "amoswap", "amoxor", "amoor", "amoand",
                                    "amomin", "amomax", "amominu", "amomaxu"])
            a.emit(enc.amo(name, width, self.dst(), addr, self.src(),
                           self.rng.randrange(2), self.rng.randrange(2)))

    def g_device(self):
        """Device registers: mtime (its value comes from the RTL), msip, mtimecmp, and
        nothing (access faults)."""
        a = self.a
        base = self.dst()
        r = self.rng.random()
        if r < 0.4:
            a.emit(enc.lui(base, MTIME_HI),
                   enc.load(self.rng.choice(["ld", "lw"]), self.dst(), base, MTIME_LO))
        elif r < 0.6:
            a.emit(enc.lui(base, CLINT >> 12), enc.alu_ri("addi", self.dst(), 0, 1))
            a.emit(enc.store("sw", self.recent[-1], base, 0))       # msip = 1
        elif r < 0.8:
            t = self.dst_besides(base)
            a.emit(enc.lui(base, MTIME_HI), enc.load("ld", t, base, MTIME_LO),
                   enc.alu_ri("addi", t, t, self.rng.randrange(10, 300)),
                   enc.lui(base, MTIMECMP >> 12), enc.store("sd", t, base, 0))
        else:
            a.emit(enc.alu_ri("addi", base, 0, self.rng.choice([0, 8, 0x100])),
                   enc.load("ld", self.dst(), base, 0))

    def g_interrupts(self):
        """Enable interrupts: software (SSIP), the supervisor timer (Sstc), the
        enables in mie/sie and the global enables."""
        a = self.a
        r = self.rng.random()
        if self.mode[0] == "M" and r < 0.3:
            # a whole scenario: SSIP, the CLINT's msip or Sstc's STIP soon pending,
            # enabled, MIE on
            t = self.dst()
            if r < 0.1:
                a.emit(enc.csr("csrrsi", 0, 2, CSR.MIE), enc.csr("csrrsi", 0, 2, CSR.MIP))
            elif r < 0.2:
                a.emit(enc.csr("csrrs", t, 0, CSR.TIME), enc.alu_ri("addi", t, t, 3),
                       enc.csr("csrrw", 0, t, CSR.STIMECMP), enc.alu_ri("addi", t, 0, 0x20),
                       enc.csr("csrrs", 0, t, CSR.MIE))
            else:
                self.mprv_off()
                a.emit(enc.csr("csrrsi", 0, 8, CSR.MIE), enc.lui(t, CLINT >> 12),
                       enc.alu_ri("addi", self.dst(), 0, 1),
                       enc.store("sw", self.recent[-1], t, 0))
            a.emit(enc.csr("csrrsi", 0, 8, CSR.MSTATUS))
        elif r < 0.2:
            t = self.dst()
            a.emit(enc.csr("csrrs", t, 0, CSR.TIME),
                   enc.alu_ri("addi", t, t, self.rng.randrange(5, 100)),
                   enc.csr("csrrw", 0, t, CSR.STIMECMP),
                   enc.alu_ri("addi", t, 0, 0x20),
                   enc.csr("csrrs", 0, t, CSR.MIE if self.mode[0] == "M" else CSR.SIE))
        elif r < 0.4:
            a.emit(enc.csr("csrrsi", 0, 2, CSR.MIP if self.mode[0] == "M" else CSR.SIP))
        elif r < 0.7:
            a.emit(enc.csr("csrrsi", 0, 8, CSR.MSTATUS) if self.mode[0] == "M"
                   else enc.csr("csrrsi", 0, 2, CSR.SSTATUS))
        else:
            t = self.dst()
            a.emit(*li32(t, self.rng.choice([0x2, 0x20, 0x80, 0x8, 0xAA, 0x222])))
            a.emit(enc.csr("csrrs", 0, t, CSR.MIE if self.mode[0] == "M" else CSR.SIE))

    def g_wfi(self):
        """WFI in M after arming the timer with MIE = 0 (it wakes on mip.MTIP &
        mie.MTIE whatever MIE says); below M it is illegal (U) or not generated (S
        could sleep for ever)."""
        a = self.a
        if self.mode[0] == "U":
            a.emit(enc.WFI)
            return
        if self.mode[0] != "M":
            return
        self.mprv_off()
        # MIE = 0: the timer interrupt must not be taken (and cleared) before the WFI
        a.emit(enc.csr("csrrci", 0, 8, CSR.MSTATUS))
        base = self.dst()
        t = self.dst_besides(base)
        a.emit(enc.lui(base, MTIME_HI), enc.load("ld", t, base, MTIME_LO),
               enc.alu_ri("addi", t, t, self.rng.randrange(20, 200)),
               enc.lui(base, MTIMECMP >> 12), enc.store("sd", t, base, 0))
        a.emit(*li32(t, 0x80), enc.csr("csrrs", 0, t, CSR.MIE), enc.WFI)

    def g_pmp(self):
        """(With PMP, in M) an entry 0-3 over part of the data area with random
        permissions, then sfence.vma, as the spec asks after a change.  Never locked
        (the unit tests cover L): a lock could leave a TOR entry whose lower bound
        is not in the data area, and take the code away from S and U."""
        if not self.pmp or self.mode[0] != "M":
            return self.g_store()
        a = self.a
        i = self.rng.randrange(4)
        t = self.dst()
        r = self.rng.random()
        if r < 0.6 or i == 0:                  # NAPOT of 8 bytes .. 4 KiB
            k = self.rng.randrange(3, 13)
            base = DATA + (self.rng.randrange(0, 4096) & ~((1 << k) - 1))
            addr, mode = (base >> 2) | ((1 << (k - 3)) - 1), 3
        elif r < 0.8:                          # NA4
            addr, mode = (DATA + (self.rng.randrange(0, 4096) & ~3)) >> 2, 2
        else:                                  # TOR: entry i-1's address is the bottom
            lo = DATA + (self.rng.randrange(0, 2048) & ~3)
            self.load_const(t, lo >> 2)
            a.emit(enc.csr("csrrw", 0, t, CSR.PMPADDR0 + i - 1))
            addr, mode = (lo + self.rng.randrange(4, 2048)) >> 2, 1
        perms = self.rng.choice([0, 1, 3, 4, 5, 7, 2])           # 2 (W alone) is reserved
        lock = 0
        self.load_const(t, addr)
        a.emit(enc.csr("csrrw", 0, t, CSR.PMPADDR0 + i))
        self.load_const(t, 0xFF << (8 * i))
        a.emit(enc.csr("csrrc", 0, t, CSR.PMPCFG0))
        self.load_const(t, (lock | (mode << 3) | perms) << (8 * i))
        a.emit(enc.csr("csrrs", 0, t, CSR.PMPCFG0), enc.sfence_vma())

    def g_evict(self):
        """Loads and stores at one offset in several pages: one set of the data
        cache, more lines than it has ways, so lines are evicted and refilled
        (sometimes while the stores to them still wait in the write buffer); what
        was stored is read back at the end.  Stores go to the data page and the
        window's pages; loads also to page tables, code and the constant pool."""
        a = self.a
        off = self.rng.randrange(0, WAY) & ~7
        store_pages = [DATA] + [WINDOW_PAGES + 0x1000 * k for k in range(8)]
        load_pages = store_pages + [POOL] + [PT + 0x1000 * k for k in range(8)] + \
            [RAM_BASE + 0x1000 * k for k in range(3)]
        pages = self.rng.sample(load_pages, self.rng.randrange(3, 6))
        stored = []
        for _ in range(self.rng.randrange(4, 10)):
            page = self.rng.choice(pages)
            size = self.rng.choice([1, 2, 4, 8])
            addr = page + off + (self.rng.randrange(0, 8) & ~(size - 1))
            if self.rng.random() < 0.1:
                addr = page + off + self.rng.randrange(0, 8)     # sometimes misaligned
            base = self.dst()
            a.la(base, "data", addr - DATA)
            if page in store_pages and self.rng.random() < 0.45:
                a.emit(enc.store({1: "sb", 2: "sh", 4: "sw", 8: "sd"}[size],
                                 self.src(), base, 0))
                stored.append((addr, size))
            else:
                name = self.rng.choice({1: ["lb", "lbu"], 2: ["lh", "lhu"], 4: ["lw", "lwu"],
                                        8: ["ld"]}[size])
                a.emit(enc.load(name, self.dst(), base, 0))
        for addr, size in stored:
            base = self.dst()
            a.la(base, "data", addr - DATA)
            a.emit(enc.load({1: "lbu", 2: "lhu", 4: "lwu", 8: "ld"}[size], self.dst(), base, 0))

    def g_misaligned(self):
        """A misaligned load across two doublewords (of one line, of two lines, or
        across the data page's end into the constant pool's page), after accesses
        that decide where each doubleword is: an aligned load of it (in the data
        cache), loads of the same set in two other pages (evicted), a store to
        it (the write buffer, and the cached copy if any).  Then the load, sometimes
        used at once, sometimes again (the second time both doublewords hit)."""
        a, rng = self.a, self.rng
        size = rng.choice([2, 4, 8, 8])
        r = rng.random()
        if r < 0.35:                                   # inside a line
            boundary = DATA + rng.randrange(0, 4096, 32) + rng.choice([8, 16, 24])
        elif r < 0.85:                                 # between two lines
            boundary = DATA + rng.randrange(32, 4096, 32)
        else:                                          # between two pages
            boundary = POOL
        addr = boundary - rng.randrange(1, size)
        halves = [boundary - 8, boundary]
        other_pages = [WINDOW_PAGES + 0x1000 * k for k in range(8)] + \
            [RAM_BASE + 0x1000 * k for k in range(3)]
        base = self.dst()
        t = self.dst_besides(base)
        for _ in range(rng.randrange(0, 5)):
            half = rng.choice(halves)
            r = rng.random()
            if r < 0.3:                                # cache it
                a.la(t, "data", half - DATA)
                a.emit(enc.load("ld", self.dst_besides_all({base, t}), t, 0))
            elif r < 0.55:                             # evict it
                for page in rng.sample(other_pages, 2):
                    a.la(t, "data", page + half % WAY - DATA)
                    a.emit(enc.load("ld", self.dst_besides_all({base, t}), t, 0))
            elif r < 0.9 and half < POOL:              # store into it
                k = rng.choice([1, 2, 4, 8])
                a.la(t, "data", half + (rng.randrange(8) & ~(k - 1)) - DATA)
                a.emit(enc.store({1: "sb", 2: "sh", 4: "sw", 8: "sd"}[k], self.src(), t, 0))
            else:
                saved = set(self.avoid)
                self.avoid |= {base, t}
                self.simple()
                self.avoid = saved
        a.la(base, "data", addr - DATA)
        name = rng.choice({2: ["lh", "lhu"], 4: ["lw", "lwu"], 8: ["ld"]}[size])
        for _ in range(1 if rng.random() < 0.7 else 2):
            rd = self.dst_besides(base)
            a.emit(enc.load(name, rd, base, 0))
            if rng.random() < 0.4:                     # used at once
                a.emit(enc.alu_rr(rng.choice(["add", "xor", "sub"]),
                                  self.dst_besides(base), rd, self.src()))

    def g_code_patch(self):
        """Call a function, rewrite its first instruction, fence.i, call it again:
        the instruction cache holds the old line (and the fetch side may have
        predicted the calls).  The new instruction's result is used."""
        a = self.a
        if len(self.patchable) < 2 and (not self.patchable or self.rng.random() < 0.3):
            self.patchable.append(self.new_label("patch"))
        name = self.rng.choice(self.patchable)
        if self.rng.random() < 0.8:
            a.jal(RA, name)
        rd = self.rng.choice([r for r in FREE if r != RA])
        word = enc.alu_ri(self.rng.choice(["addi", "xori", "ori", "addiw"]), rd,
                          self.rng.choice(FREE), self.rng.randrange(-2048, 2048))
        wreg = self.dst_besides(RA)
        areg = self.dst_besides_all({RA, wreg})
        self.load_const(wreg, word)
        a.la(areg, name)
        a.emit(enc.store("sw", wreg, areg, 0), enc.FENCE_I)
        a.jal(RA, name)
        a.emit(enc.alu_rr("add", self.dst(), rd, self.src()))
        self.recent = (self.recent + [RA])[-3:]

    def g_tlb_sweep(self):
        """Loads through several pages in a row (the window's, the identity map's):
        each needs a translation the micro-TLBs may not hold."""
        a = self.a
        base = self.dst()
        for _ in range(self.rng.randrange(3, 7)):
            if self.rng.random() < 0.7:
                a.emit(enc.lui(base, (WINDOW_VA >> 12) + self.rng.randrange(8)))
            else:
                a.la(base, "data", (WINDOW_PAGES + 0x1000 * self.rng.randrange(8)) - DATA)
            a.emit(enc.load(self.rng.choice(["ld", "lw", "lbu"]), self.dst_besides(base),
                            base, self.rng.randrange(0, 2040) & ~7))

    def g_dma(self):
        """(With the block device, in M) one request through the virtqueue: a
        sector read from the disk into a buffer in the DMA pages (or written to
        the disk from it after stores to it), and while the device works, loads and
        stores to the bytes around the buffer (the same cache lines) and to the same
        sets in the data page.  The device's InterruptStatus says when it is done
        (a register: no race with the DMA writes to compare); then words of the
        buffer and the request's status byte are loaded, so a data cache that kept
        a stale line shows; so is a misaligned doubleword at one end of the buffer
        or inside it, which was loaded (cached) before the request too."""
        if not self.dma or self.mode[0] != "M":
            return self.g_evict()
        a = self.a
        self.mprv_off()
        v = self.dst()
        b = self.dst_besides(v)
        t = self.dst_besides_all({v, b})
        shift = self.rng.choice([0, 0, 8, 16, 24])
        slot = self.rng.randrange(16 if shift == 0 else 15)
        buf = DMA_PAGES + 512 * slot + shift
        out = self.rng.random() < 0.3
        a.la(b, "vq")
        a.la(v, "vq", buf - VQ)
        a.emit(enc.store("sd", v, b, 16),                               # desc 1: address
               enc.alu_ri("addi", v, 0, 1 if out else 3),               # NEXT (| WRITE)
               enc.store("sh", v, b, 16 + 12),
               enc.alu_ri("addi", v, 0, 1 if out else 0),               # OUT or IN
               enc.store("sw", v, b, VQ_REQ - VQ),
               enc.alu_ri("addi", v, 0, self.rng.randrange(DISK_SECTORS)),
               enc.store("sd", v, b, VQ_REQ - VQ + 8),
               enc.alu_ri("addi", v, 0, 0xFF),                          # status: not yet
               enc.store("sb", v, b, VQ_REQ - VQ + 16))
        if out:                                  # what goes to the disk is the CPU's
            a.la(t, "vq", buf - VQ)
            for _ in range(self.rng.randrange(1, 6)):
                a.emit(enc.store("sd", self.src(), t, 8 * self.rng.randrange(64)))
        # a misaligned load across one end of the buffer or inside it, before the
        # request (its lines are cached) and after it (the device wrote one or
        # both of its doublewords meanwhile: the cached lines must be gone)
        mis = self.rng.choice([buf - self.rng.randrange(1, 8), buf + 512 - self.rng.randrange(1, 8),
                               buf + self.rng.randrange(8, 504)])
        mis += 0 if mis % 8 else 3
        a.la(t, "vq", mis - VQ)
        a.emit(enc.load("ld", self.dst_besides_all({v, b, t}), t, 0))
        a.emit(enc.load("lhu", v, b, VQ_AVAIL - VQ + 2),                # avail.idx
               enc.alu_ri("andi", t, v, 7), enc.alu_ri("slli", t, t, 1),
               enc.alu_rr("add", t, t, b), enc.store("sh", 0, t, VQ_AVAIL - VQ + 4),
               enc.alu_ri("addi", v, v, 1), enc.FENCE,
               enc.store("sh", v, b, VQ_AVAIL - VQ + 2), enc.FENCE,
               enc.lui(t, VIRTIO >> 12), enc.store("sw", 0, t, 0x50))    # QueueNotify
        for _ in range(self.rng.randrange(1, 7)):
            r = self.rng.random()
            if r < 0.4 and shift:                # the same line as the buffer's ends
                near = self.rng.choice([buf - shift + self.rng.randrange(0, shift, 8),
                                        buf + 512 + self.rng.randrange(0, 32 - shift, 8)])
                a.la(t, "vq", near - VQ)
                if self.rng.random() < 0.5:
                    a.emit(enc.load("ld", self.dst_besides_all({b, t}), t, 0))
                else:
                    a.emit(enc.store("sd", self.src(), t, 0))
            elif r < 0.7:                        # the same set, in the data page
                a.la(t, "data", (buf + self.rng.randrange(0, 512, 8)) % WAY)
                a.emit(enc.load("ld", self.dst_besides_all({b, t}), t, 0))
            else:
                self.avoid |= {b}
                self.simple()
                self.avoid.discard(b)
        poll, done = self.new_label("poll"), self.new_label("dmadone")
        a.emit(enc.lui(TP_REG, 4), enc.lui(t, VIRTIO >> 12))           # at most 16 Ki polls
        a.label(poll)
        a.emit(enc.load("lw", v, t, 0x60), enc.alu_ri("andi", v, v, 1))
        a.branch("bne", v, 0, done)
        a.emit(enc.alu_ri("addi", TP_REG, TP_REG, -1))
        a.branch("bne", TP_REG, 0, poll)
        a.label(done)
        a.emit(enc.alu_ri("addi", v, 0, 1), enc.store("sw", v, t, 0x64))   # InterruptAck
        a.emit(enc.load("lbu", self.dst_besides(b), b, VQ_REQ - VQ + 16),
               enc.load("lhu", self.dst_besides(b), b, VQ_USED - VQ + 2))
        a.la(t, "vq", buf - VQ)
        for _ in range(self.rng.randrange(2, 8)):
            a.emit(enc.load(self.rng.choice(["ld", "lw", "lbu"]), self.dst_besides(t), t,
                            self.rng.randrange(0, 512, 8)))
        a.la(t, "vq", mis - VQ)
        a.emit(enc.load("ld", self.dst_besides(t), t, 0))

    def g_fence(self):
        self.a.emit(self.rng.choice([enc.FENCE, enc.FENCE_I]))

    GROUPS = [("alu", 20), ("muldiv", 5), ("load", 8), ("load_use", 6), ("store", 8),
              ("branch", 8), ("jump", 4), ("call", 2), ("loop", 3), ("csr", 7),
              ("exception", 3), ("mode", 3), ("xret", 1), ("page_table", 4),
              ("window", 3), ("self_modifying", 2), ("atomic", 5), ("device", 2),
              ("interrupts", 2), ("wfi", 1), ("fence", 1), ("pmp", 2), ("evict", 4),
              ("code_patch", 2), ("tlb_sweep", 2), ("dma", 2), ("misaligned", 3)]

    def body(self):
        a = self.a
        a.align(4096)                  # page 0 (start-up, handlers) stays supervisor-only
        a.label("body")
        names = [g for g, _ in self.GROUPS]
        weights = [w for _, w in self.GROUPS]
        for _ in range(self.length):
            g = self.rng.choices(names, weights)[0]
            if g == "load_use":
                self.g_load(use=True)
            elif g == "window":
                self.g_window_access()
            elif g == "xret":
                self.g_xret_same_mode()
            elif g == "self_modifying":
                self.g_self_modifying()
            elif g == "page_table":
                self.g_page_table()
            else:
                getattr(self, "g_" + g)()
        # the end: M mode, dump the registers, read every CSR the body can change (the
        # retirement port has no CSR-write field: the comparison sees them here), load
        # the window PTEs (A/D bits), tohost = 1
        self.g_mode(0)
        for i, r in enumerate(FREE + [TP_REG]):
            a.emit(enc.store("sd", r, GP_REG, 1024 + 8 * i))
        for addr in (CSR.MSTATUS, CSR.MEDELEG, CSR.MIDELEG, CSR.MIE, CSR.MIP, CSR.MSCRATCH,
                     CSR.SSCRATCH, CSR.MEPC, CSR.SEPC, CSR.MCAUSE, CSR.SCAUSE, CSR.MTVAL,
                     CSR.STVAL, CSR.STIMECMP, CSR.MINSTRET, CSR.PMPCFG0, CSR.PMPADDR0 + 1):
            a.emit(enc.csr("csrrs", M_T1, 0, addr))
        a.la(M_T0, "l0_w")
        for j in range(8):
            a.emit(enc.load("ld", M_T1, M_T0, 8 * j))
        a.emit(enc.alu_ri("addi", M_T1, 0, 1))
        a.la(M_T0, "tohost")
        a.emit(enc.store("sd", M_T1, M_T0, 0))
        a.label("halt")
        a.jal(0, "halt")
        for name in self.patchable:
            a.label(name)
            a.emit(enc.alu_ri("addi", self.rng.choice(FREE[1:]), 0, self.rng.randrange(2048)),
                   enc.jalr(0, RA, 0))
        self.avoid = {RA}              # a function must keep its return address
        for name in self.functions:
            a.label(name)
            for _ in range(self.rng.randrange(1, 5)):
                self.simple()
            a.emit(enc.jalr(0, RA, 0))

    # ---- memory image ----

    def tables(self):
        a = self.a

        def table(addr, entries):
            a.org(addr)
            a.label({ROOT_S: "root_s", ROOT_U: "root_u", L1_S: "l1_s", L1_U: "l1_u",
                     L0_S: "l0_s", L0_U: "l0_u", L1_W: "l1_w", L0_W: "l0_w"}[addr])
            blob = bytearray(4096)
            for i, v in entries.items():
                blob[8 * i:8 * i + 8] = v.to_bytes(8, "little")
            a.data(blob)

        def ptr(addr):
            return ((addr >> 12) << 10) | V

        def leaf(addr, flags):
            return ((addr >> 12) << 10) | flags

        vpn2_ram, vpn2_win, vpn2_giga = RAM_BASE >> 30, WINDOW_VA >> 30, GIGA_VA >> 30
        giga = self.superpage_pte()
        table(ROOT_S, {vpn2_ram: ptr(L1_S), vpn2_win: ptr(L1_W), vpn2_giga: giga})
        table(ROOT_U, {vpn2_ram: ptr(L1_U), vpn2_win: ptr(L1_W), vpn2_giga: giga})
        table(L1_S, {0: ptr(L0_S)})
        table(L1_U, {0: ptr(L0_U)})
        pages = RAM_SIZE // 4096
        table(L0_S, {i: leaf(RAM_BASE + 0x1000 * i, V | R | W | X | A | D) for i in range(pages)})
        user = {}
        for i in range(pages):
            addr = RAM_BASE + 0x1000 * i
            if i == 0 or PT <= addr < PT + 0x8000:
                user[i] = leaf(addr, V | R | X | A | D)           # handlers, tables: not U
            else:
                user[i] = leaf(addr, V | R | W | X | U | A | D)
        table(L0_U, user)
        table(L1_W, {0: ptr(L0_W), 1: self.superpage_pte()})
        table(L0_W, dict(enumerate(self.window_initial)))

    def virtqueue(self):
        """The virtqueue's rings: descriptor 0 the request header, 1 the data buffer
        (address and direction set by each request), 2 the status byte."""
        a = self.a
        a.org(VQ)
        a.label("vq")

        def desc(addr, length, flags, nxt):
            a.dword(addr)
            a.data(length.to_bytes(4, "little") + flags.to_bytes(2, "little") +
                   nxt.to_bytes(2, "little"))
        desc(VQ_REQ, 16, 1, 1)
        desc(DMA_PAGES, 512, 3, 2)
        desc(VQ_REQ + 16, 1, 2, 0)
        a.org(VQ_AVAIL)
        a.data(bytes(20))
        a.org(VQ_USED)
        a.data(bytes(4 + 8 * 8))
        a.org(VQ_REQ)
        a.data(bytes(17))
        a.org(DMA_PAGES)
        a.data(self.rng.randbytes(2 * 4096))

    def build(self):
        a = self.a
        self.startup()
        self.body()
        code_end = a.pc
        if code_end > PT:
            raise ValueError(f"seed {self.seed}: program too long for the code area")
        self.tables()
        if self.dma:
            self.virtqueue()
        a.org(DATA)
        a.label("data")
        a.data(self.rng.randbytes(4096))
        a.label("pool")
        for v in self.pool:
            a.dword(v)
        a.label("satp_s")
        a.dword((8 << 60) | (ROOT_S >> 12))
        a.label("satp_u")
        a.dword((8 << 60) | (ROOT_U >> 12))
        if a.pc > WINDOW_PAGES:
            raise ValueError(f"seed {self.seed}: constant pool too large")
        a.org(WINDOW_PAGES)
        a.data(self.rng.randbytes(8 * 4096))
        a.org(TOHOST)
        a.label("tohost")
        a.dword(0)
        a.label("fromhost")
        a.dword(0)
        base, blob = a.image()
        return ElfImage(entry=RAM_BASE, segments=[(base, blob)], tohost=a.labels["tohost"],
                        fromhost=a.labels["fromhost"], symbols=dict(a.labels))


def generate(seed, length=200, pmp_entries=0, dma=False):
    """The program for ``seed`` (``length`` groups in its body) as an ElfImage; with
    ``pmp_entries`` > 0 it also programs PMP entries 0-3 and 15; with ``dma`` it
    drives the SoC's virtio block device (its disk: ``disk_for(seed)``)."""
    return Generator(seed, length, pmp_entries, dma).build()


def disk_for(seed):
    """The disk of a program made with ``dma``: DISK_SECTORS random sectors."""
    return random.Random(f"disk {seed}").randbytes(DISK_SECTORS * 512)
