"""What each instruction does: decoded instruction -> a function that executes it.

``compile_insn(word, hart)`` decodes ``word`` (decode.py) and returns ``exe(pc)``,
which performs the instruction on ``hart`` and returns the address of the next
instruction; exceptions are raised as ``Trap``.  ``exe.rd`` is the register the
instruction writes (0 if none), ``exe.insn`` the decoded instruction.  The hart
caches ``exe`` by instruction word, so decoding happens once per distinct word.

Values are Python ints holding 64-bit patterns (0 <= v < 2**64); ``signed(v)`` is
the two's complement reading.  Writes to x0 go to the extra slot x[32], so that
x[0] reads 0 without a test on every write.
"""

from hw.core.isa import Cause, Priv

from .csr import MSTATUS
from .decode import describe
from .trap import Halted, Trap

__all__ = ["compile_insn", "ALU", "BRANCH", "signed"]

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1
SIGN = 1 << 63
PRIV_U, PRIV_S, PRIV_M = int(Priv.U), int(Priv.S), int(Priv.M)
ILLEGAL = int(Cause.ILLEGAL_INSN)
MISALIGNED_TARGET = int(Cause.INSN_MISALIGNED)


def signed(v):
    return v - ((v & SIGN) << 1)


def sext32(v):
    """The 64-bit pattern of the sign extension of v's low 32 bits."""
    v &= M32
    return v | 0xFFFF_FFFF_0000_0000 if v & 0x8000_0000 else v


def _div(a, b):
    """Signed division, rounding towards zero; x/0 = -1.  The overflow case
    -2**(n-1) / -1 = 2**(n-1) wraps to the dividend when cut to n bits, as the
    specification wants (and its remainder is 0)."""
    if b == 0:
        return -1
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _rem(a, b):
    """Remainder with the sign of the dividend; x%0 = x."""
    if b == 0:
        return a
    return a - b * _div(a, b)


def _s32(v):
    v &= M32
    return v - ((v & 0x8000_0000) << 1)


# Register-register operations (rd = f(rs1, rs2)); the immediate forms use the same
# function with the immediate's 64-bit pattern as the second operand.
ALU = {
    "add":    lambda a, b: (a + b) & M64,
    "sub":    lambda a, b: (a - b) & M64,
    "sll":    lambda a, b: (a << (b & 63)) & M64,
    "slt":    lambda a, b: int((a ^ SIGN) < (b ^ SIGN)),     # flipping the sign bit
    "sltu":   lambda a, b: int(a < b),                       # orders signed as unsigned
    "xor":    lambda a, b: a ^ b,
    "srl":    lambda a, b: a >> (b & 63),
    "sra":    lambda a, b: (signed(a) >> (b & 63)) & M64,
    "or":     lambda a, b: a | b,
    "and":    lambda a, b: a & b,
    "mul":    lambda a, b: (a * b) & M64,
    "mulh":   lambda a, b: (signed(a) * signed(b) >> 64) & M64,
    "mulhsu": lambda a, b: (signed(a) * b >> 64) & M64,
    "mulhu":  lambda a, b: (a * b) >> 64,
    "div":    lambda a, b: _div(signed(a), signed(b)) & M64,
    "divu":   lambda a, b: a // b if b else M64,
    "rem":    lambda a, b: _rem(signed(a), signed(b)) & M64,
    "remu":   lambda a, b: a % b if b else a,
    # RV64 word operations: 32-bit operation, result sign-extended
    "addw":   lambda a, b: sext32(a + b),
    "subw":   lambda a, b: sext32(a - b),
    "sllw":   lambda a, b: sext32(a << (b & 31)),
    "srlw":   lambda a, b: sext32((a & M32) >> (b & 31)),
    "sraw":   lambda a, b: sext32(_s32(a) >> (b & 31)),
    "mulw":   lambda a, b: sext32(a * b),
    "divw":   lambda a, b: sext32(_div(_s32(a), _s32(b))),
    "divuw":  lambda a, b: sext32((a & M32) // (b & M32)) if b & M32 else M64,
    "remw":   lambda a, b: sext32(_rem(_s32(a), _s32(b))),
    "remuw":  lambda a, b: sext32((a & M32) % (b & M32)) if b & M32 else sext32(a),
}
IMMEDIATE_FORMS = {"addi": "add", "slti": "slt", "sltiu": "sltu", "xori": "xor", "ori": "or",
                   "andi": "and", "slli": "sll", "srli": "srl", "srai": "sra",
                   "addiw": "addw", "slliw": "sllw", "srliw": "srlw", "sraiw": "sraw"}

BRANCH = {
    "beq":  lambda a, b: a == b,
    "bne":  lambda a, b: a != b,
    "blt":  lambda a, b: (a ^ SIGN) < (b ^ SIGN),
    "bge":  lambda a, b: (a ^ SIGN) >= (b ^ SIGN),
    "bltu": lambda a, b: a < b,
    "bgeu": lambda a, b: a >= b,
}

# loads: size in bytes, sign bit to extend from (0: zero-extend)
LOADS = {"lb": (1, 1 << 7), "lh": (2, 1 << 15), "lw": (4, 1 << 31), "ld": (8, 0),
         "lbu": (1, 0), "lhu": (2, 0), "lwu": (4, 0)}
STORES = {"sb": 1, "sh": 2, "sw": 4, "sd": 8}

# AMO operations on (old, src); for .W both are sign-extended 32-bit values first,
# which keeps min/max right for both signed and unsigned orders.
AMO = {
    "amoswap": lambda old, src: src,
    "amoadd":  lambda old, src: old + src,
    "amoxor":  lambda old, src: old ^ src,
    "amoand":  lambda old, src: old & src,
    "amoor":   lambda old, src: old | src,
    "amomin":  lambda old, src: old if (old ^ SIGN) < (src ^ SIGN) else src,
    "amomax":  lambda old, src: src if (old ^ SIGN) < (src ^ SIGN) else old,
    "amominu": lambda old, src: old if old < src else src,
    "amomaxu": lambda old, src: src if old < src else old,
}


def _alu(i, h, op, second_is_imm):
    x = h.x
    rd, rs1, rs2 = i.rd or 32, i.rs1, i.rs2
    if second_is_imm:
        imm = i.imm & M64
        if op == "add":                       # addi (and li, mv, nop): the most common
            def exe(pc):
                x[rd] = (x[rs1] + imm) & M64
                return pc + 4
            return exe
        f = ALU[op]

        def exe(pc):
            x[rd] = f(x[rs1], imm)
            return pc + 4
        return exe
    f = ALU[op]

    def exe(pc):
        x[rd] = f(x[rs1], x[rs2])
        return pc + 4
    return exe


def _lui(i, h):
    x, rd, value = h.x, i.rd or 32, i.imm & M64

    def exe(pc):
        x[rd] = value
        return pc + 4
    return exe


def _auipc(i, h):
    x, rd, imm = h.x, i.rd or 32, i.imm

    def exe(pc):
        x[rd] = (pc + imm) & M64
        return pc + 4
    return exe


def _check_target(target):
    """Instructions are 4-byte aligned (no C extension): a jump or taken branch to
    an address with bit 1 set raises instruction-address-misaligned on itself."""
    if target & 2:
        raise Trap(MISALIGNED_TARGET, target)
    return target


def _jal(i, h):
    x, rd, imm = h.x, i.rd or 32, i.imm

    def exe(pc):
        target = (pc + imm) & M64
        _check_target(target)
        x[rd] = pc + 4
        return target
    return exe


def _jalr(i, h):
    x, rd, rs1, imm = h.x, i.rd or 32, i.rs1, i.imm

    def exe(pc):
        target = (x[rs1] + imm) & M64 & ~1
        _check_target(target)
        x[rd] = pc + 4
        return target
    return exe


def _branch(i, h):
    x, rs1, rs2, imm, taken = h.x, i.rs1, i.rs2, i.imm, BRANCH[i.name]

    def exe(pc):
        if taken(x[rs1], x[rs2]):
            return _check_target((pc + imm) & M64)
        return pc + 4
    return exe


def _load(i, h):
    x, rd, rs1, imm = h.x, i.rd or 32, i.rs1, i.imm
    size, sign = LOADS[i.name]
    load = h.load
    if sign:
        def exe(pc):
            v = load(x[rs1] + imm, size)
            x[rd] = (v ^ sign) - sign & M64
            return pc + 4
    else:
        def exe(pc):
            x[rd] = load(x[rs1] + imm, size)
            return pc + 4
    return exe


def _store(i, h):
    x, rs1, rs2, imm = h.x, i.rs1, i.rs2, i.imm
    size = STORES[i.name]
    mask = M64 >> (64 - 8 * size)
    store = h.store

    def exe(pc):
        store(x[rs1] + imm, size, x[rs2] & mask)
        return pc + 4
    return exe


def _atomic(i, h):
    x, rd, rs1, rs2 = h.x, i.rd or 32, i.rs1, i.rs2
    base, width = i.name.split(".")
    size = 4 if width == "w" else 8
    extend = sext32 if size == 4 else (lambda v: v)
    if base == "lr":
        def exe(pc):
            x[rd] = extend(h.load_reserved(x[rs1], size))
            return pc + 4
    elif base == "sc":
        mask = M64 >> (64 - 8 * size)

        def exe(pc):
            x[rd] = h.store_conditional(x[rs1], size, x[rs2] & mask)
            return pc + 4
    else:
        op = AMO[base]

        def operation(old, src):
            return op(extend(old), extend(src))

        def exe(pc):
            x[rd] = extend(h.amo(x[rs1], size, operation, x[rs2]))
            return pc + 4
    return exe


def _csr(i, h):
    """CSRRW/S/C and their immediate forms: read the old value into rd and write the
    new one.  CSRRS/CSRRC with x0 (or uimm 0) do not write, so they may read a
    read-only CSR."""
    x, rd, rs1, addr, word = h.x, i.rd or 32, i.rs1, i.csr, i.word
    kind = i.name[4]                     # w, s or c
    immediate = i.name.endswith("i")
    writes = kind == "w" or rs1 != 0
    c = h.csr

    def exe(pc):
        if c.illegal(addr, writes):
            raise Trap(ILLEGAL, word)
        old = c.read(addr)
        if writes:
            src = rs1 if immediate else x[rs1]
            if kind == "w":
                new = src
            elif kind == "s":
                new = c.rmw_base(addr) | src
            else:
                new = c.rmw_base(addr) & ~src
            c.write(addr, new)
            h.csr_writes.append((addr, new))
            h.irq_state_changed()
        x[rd] = old
        return pc + 4
    return exe


def _system(i, h):
    name, word = i.name, i.word
    ms = MSTATUS
    c = h.csr

    if name == "ecall":
        def exe(pc):
            raise Trap(8 + h.priv)                  # from U 8, S 9, M 11
    elif name == "ebreak":
        def exe(pc):
            raise Trap(int(Cause.BREAKPOINT), pc)
    elif name == "mret":
        def exe(pc):
            if h.priv != PRIV_M:
                raise Trap(ILLEGAL, word)
            return h.mret()
    elif name == "sret":
        def exe(pc):
            if h.priv == PRIV_U or (h.priv == PRIV_S and c.mstatus & ms.TSR):
                raise Trap(ILLEGAL, word)
            return h.sret()
    elif name == "wfi":
        def exe(pc):
            if h.priv == PRIV_U or (h.priv == PRIV_S and c.mstatus & ms.TW):
                raise Trap(ILLEGAL, word)
            if not h.env.wait_for_interrupt(h):
                raise Halted()
            return pc + 4
    elif name == "sfence.vma":
        def exe(pc):
            if h.priv == PRIV_U or (h.priv == PRIV_S and c.mstatus & ms.TVM):
                raise Trap(ILLEGAL, word)
            h.sfence_vma()
            return pc + 4
    else:                                           # fence, fence.i: one hart, no caches
        def exe(pc):
            return pc + 4
    return exe


def _illegal(i, h):
    word = i.word

    def exe(pc):
        raise Trap(ILLEGAL, word)
    return exe


def _builder(name):
    if name in ALU:
        return lambda i, h: _alu(i, h, name, False)
    if name in IMMEDIATE_FORMS:
        return lambda i, h: _alu(i, h, IMMEDIATE_FORMS[name], True)
    if name in LOADS:
        return _load
    if name in STORES:
        return _store
    if name in BRANCH:
        return _branch
    if name.startswith(("lr.", "sc.", "amo")):
        return _atomic
    if name.startswith("csr"):
        return _csr
    return {"lui": _lui, "auipc": _auipc, "jal": _jal, "jalr": _jalr,
            "illegal": _illegal}.get(name, _system)


def compile_insn(word, hart):
    insn = describe(word)
    exe = _builder(insn.name)(insn, hart)
    exe.rd = insn.rd if insn.name != "illegal" else 0
    exe.insn = insn
    return exe
