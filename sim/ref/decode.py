"""Decoding instruction words: 32 bits -> what the instruction is and its operands.

``describe(word)`` gives an :class:`Insn`: the mnemonic (the specification's name,
lower case), the register numbers, the immediate (already sign-extended and
shifted as the format prescribes) and the CSR address.  Anything that is not an
RV64IMA, Zicsr, Zifencei or privileged instruction our core implements is
``illegal``.  ``disassemble(word)`` prints it in assembler syntax.

Instruction formats (unprivileged spec, "Base Instruction Formats")::

    31        25 24   20 19   15 14  12 11        7 6      0
    | funct7    | rs2   | rs1   |funct3| rd        | opcode |  R
    | imm[11:0]         | rs1   |funct3| rd        | opcode |  I
    | imm[11:5] | rs2   | rs1   |funct3| imm[4:0]  | opcode |  S
    | imm[12|10:5] | rs2| rs1   |funct3| imm[4:1|11]| opcode |  B
    | imm[31:12]                       | rd        | opcode |  U
    | imm[20|10:1|11|19:12]            | rd        | opcode |  J

The rules for what is legal follow hw/core/decoder.py's documentation: the low
two bits must be 11 (no compressed instructions), SLLI/SRLI/SRAI take a 6-bit
shift amount, the W shifts a 5-bit one, FENCE and FENCE.I ignore their other
fields, LR needs rs2 = 0, and ECALL/EBREAK/xRET/WFI need rd = rs1 = 0.
"""

from dataclasses import dataclass

from .csr import CSR_NAMES

__all__ = ["Insn", "describe", "disassemble", "REG_NAMES"]

REG_NAMES = ("zero ra sp gp tp t0 t1 t2 s0 s1 a0 a1 a2 a3 a4 a5 a6 a7 "
             "s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 t3 t4 t5 t6").split()

# Major opcodes (bits 6:0).
LOAD, MISC_MEM, OP_IMM, AUIPC, OP_IMM32 = 0x03, 0x0F, 0x13, 0x17, 0x1B
STORE, AMO, OP, LUI, OP32 = 0x23, 0x2F, 0x33, 0x37, 0x3B
BRANCH, JALR, JAL, SYSTEM = 0x63, 0x67, 0x6F, 0x73


@dataclass(frozen=True)
class Insn:
    """A decoded instruction.  ``rd`` is the destination register the instruction
    writes (0 when it writes none); ``imm`` is a Python int (negative for negative
    immediates); ``csr`` the CSR address of Zicsr instructions."""
    word: int
    name: str
    rd: int = 0
    rs1: int = 0
    rs2: int = 0
    imm: int = 0
    csr: int = 0

    @property
    def text(self):
        return _format(self)


def _sext(value, bits):
    sign = 1 << (bits - 1)
    return (value & (sign - 1)) - (value & sign)


def _imm_i(w):
    return _sext(w >> 20, 12)


def _imm_s(w):
    return _sext(((w >> 25) << 5) | ((w >> 7) & 0x1F), 12)


def _imm_b(w):
    return _sext(((w >> 31) & 1) << 12 | ((w >> 7) & 1) << 11 |
                 ((w >> 25) & 0x3F) << 5 | ((w >> 8) & 0xF) << 1, 13)


def _imm_u(w):
    return _sext(w & 0xFFFFF000, 32)


def _imm_j(w):
    return _sext(((w >> 31) & 1) << 20 | ((w >> 12) & 0xFF) << 12 |
                 ((w >> 20) & 1) << 11 | ((w >> 21) & 0x3FF) << 1, 21)


_LOADS = {0: "lb", 1: "lh", 2: "lw", 3: "ld", 4: "lbu", 5: "lhu", 6: "lwu"}
_STORES = {0: "sb", 1: "sh", 2: "sw", 3: "sd"}
_BRANCHES = {0: "beq", 1: "bne", 4: "blt", 5: "bge", 6: "bltu", 7: "bgeu"}
_OP_IMM = {0: "addi", 2: "slti", 3: "sltiu", 4: "xori", 6: "ori", 7: "andi"}
_OP = {(0, 0): "add", (0x20, 0): "sub", (0, 1): "sll", (0, 2): "slt", (0, 3): "sltu",
       (0, 4): "xor", (0, 5): "srl", (0x20, 5): "sra", (0, 6): "or", (0, 7): "and",
       (1, 0): "mul", (1, 1): "mulh", (1, 2): "mulhsu", (1, 3): "mulhu",
       (1, 4): "div", (1, 5): "divu", (1, 6): "rem", (1, 7): "remu"}
_OP32 = {(0, 0): "addw", (0x20, 0): "subw", (0, 1): "sllw", (0, 5): "srlw", (0x20, 5): "sraw",
         (1, 0): "mulw", (1, 4): "divw", (1, 5): "divuw", (1, 6): "remw", (1, 7): "remuw"}
_AMOS = {0x00: "amoadd", 0x01: "amoswap", 0x02: "lr", 0x03: "sc", 0x04: "amoxor",
         0x08: "amoor", 0x0C: "amoand", 0x10: "amomin", 0x14: "amomax",
         0x18: "amominu", 0x1C: "amomaxu"}
_CSR_OPS = {1: "csrrw", 2: "csrrs", 3: "csrrc", 5: "csrrwi", 6: "csrrsi", 7: "csrrci"}
_IMM_ALU = set(_OP_IMM.values()) | {"slli", "srli", "srai", "addiw", "slliw", "srliw", "sraiw"}
_SYSTEM = {0x000: "ecall", 0x001: "ebreak", 0x102: "sret", 0x302: "mret", 0x105: "wfi"}


def describe(w):
    """Decode the 32-bit instruction word ``w``."""
    opcode = w & 0x7F
    rd = (w >> 7) & 0x1F
    f3 = (w >> 12) & 7
    rs1 = (w >> 15) & 0x1F
    rs2 = (w >> 20) & 0x1F
    f7 = w >> 25
    illegal = Insn(w, "illegal")
    if w & 3 != 3:
        return illegal
    if opcode == LUI:
        return Insn(w, "lui", rd=rd, imm=_imm_u(w))
    if opcode == AUIPC:
        return Insn(w, "auipc", rd=rd, imm=_imm_u(w))
    if opcode == JAL:
        return Insn(w, "jal", rd=rd, imm=_imm_j(w))
    if opcode == JALR:
        return Insn(w, "jalr", rd=rd, rs1=rs1, imm=_imm_i(w)) if f3 == 0 else illegal
    if opcode == BRANCH:
        name = _BRANCHES.get(f3)
        return Insn(w, name, rs1=rs1, rs2=rs2, imm=_imm_b(w)) if name else illegal
    if opcode == LOAD:
        name = _LOADS.get(f3)
        return Insn(w, name, rd=rd, rs1=rs1, imm=_imm_i(w)) if name else illegal
    if opcode == STORE:
        name = _STORES.get(f3)
        return Insn(w, name, rs1=rs1, rs2=rs2, imm=_imm_s(w)) if name else illegal
    if opcode == OP_IMM:
        if f3 == 1:                                   # slli: 6-bit shift amount
            return Insn(w, "slli", rd=rd, rs1=rs1, imm=(w >> 20) & 0x3F) \
                if w >> 26 == 0 else illegal
        if f3 == 5:
            name = {0: "srli", 0x10: "srai"}.get(w >> 26)
            return Insn(w, name, rd=rd, rs1=rs1, imm=(w >> 20) & 0x3F) if name else illegal
        return Insn(w, _OP_IMM[f3], rd=rd, rs1=rs1, imm=_imm_i(w))
    if opcode == OP_IMM32:
        if f3 == 0:
            return Insn(w, "addiw", rd=rd, rs1=rs1, imm=_imm_i(w))
        if f3 == 1 and f7 == 0:
            return Insn(w, "slliw", rd=rd, rs1=rs1, imm=rs2)
        if f3 == 5 and f7 in (0, 0x20):
            return Insn(w, "srliw" if f7 == 0 else "sraiw", rd=rd, rs1=rs1, imm=rs2)
        return illegal
    if opcode in (OP, OP32):
        name = (_OP if opcode == OP else _OP32).get((f7, f3))
        return Insn(w, name, rd=rd, rs1=rs1, rs2=rs2) if name else illegal
    if opcode == AMO:
        base = _AMOS.get(w >> 27)
        if f3 not in (2, 3) or base is None or (base == "lr" and rs2 != 0):
            return illegal
        return Insn(w, f"{base}.{'w' if f3 == 2 else 'd'}", rd=rd, rs1=rs1, rs2=rs2)
    if opcode == MISC_MEM:
        if f3 == 0:
            return Insn(w, "fence")
        if f3 == 1:
            return Insn(w, "fence.i")
        return illegal
    if opcode == SYSTEM:
        if f3 == 0:
            if rd != 0:
                return illegal
            if f7 == 0b0001001:
                return Insn(w, "sfence.vma", rs1=rs1, rs2=rs2)
            name = _SYSTEM.get(w >> 20)
            return Insn(w, name) if name and rs1 == 0 else illegal
        if f3 == 4:
            return illegal
        return Insn(w, _CSR_OPS[f3], rd=rd, rs1=rs1, csr=w >> 20)
    return illegal


def _format(i):
    r = REG_NAMES
    n = i.name
    if n == "illegal":
        return f"illegal 0x{i.word:08x}"
    if n in ("lui", "auipc"):
        return f"{n} {r[i.rd]}, {(i.imm >> 12) & 0xFFFFF:#x}"
    if n == "jal":
        return f"jal {r[i.rd]}, {i.imm:+d}"
    if n == "jalr" or n in _LOADS.values():
        return f"{n} {r[i.rd]}, {i.imm}({r[i.rs1]})"
    if n in _STORES.values():
        return f"{n} {r[i.rs2]}, {i.imm}({r[i.rs1]})"
    if n in _BRANCHES.values():
        return f"{n} {r[i.rs1]}, {r[i.rs2]}, {i.imm:+d}"
    if n.startswith("lr."):
        return f"{n} {r[i.rd]}, ({r[i.rs1]})"
    if n.startswith(("sc.", "amo")):
        return f"{n} {r[i.rd]}, {r[i.rs2]}, ({r[i.rs1]})"
    if n.startswith("csr"):
        csr = CSR_NAMES.get(i.csr, f"{i.csr:#x}")
        src = str(i.rs1) if n.endswith("i") else r[i.rs1]
        return f"{n} {r[i.rd]}, {csr}, {src}"
    if n == "sfence.vma":
        return f"sfence.vma {r[i.rs1]}, {r[i.rs2]}"
    if n in ("fence", "fence.i", "ecall", "ebreak", "mret", "sret", "wfi"):
        return n
    if n in _IMM_ALU:
        return f"{n} {r[i.rd]}, {r[i.rs1]}, {i.imm}"
    return f"{n} {r[i.rd]}, {r[i.rs1]}, {r[i.rs2]}"


def disassemble(word):
    return describe(word).text
