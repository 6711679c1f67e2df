"""A small RV64 assembler for generated programs: instruction encoders and a two-pass
builder with labels.

Encoders return the 32-bit word (formats as in sim/ref/decode.py).  ``Asm`` collects
words, labels and data at addresses; branch, jump and ``la`` (auipc + addi) targets
may be labels defined later, and are resolved by ``image()``.
"""

__all__ = ["Asm", "enc", "ALU_RR", "ALU_RI", "LOAD_F3", "STORE_F3", "BRANCH_F3", "AMO_F5"]

OP = {"LOAD": 0x03, "MISC_MEM": 0x0F, "OP_IMM": 0x13, "AUIPC": 0x17, "OP_IMM32": 0x1B,
      "STORE": 0x23, "AMO": 0x2F, "OP": 0x33, "LUI": 0x37, "OP32": 0x3B, "BRANCH": 0x63,
      "JALR": 0x67, "JAL": 0x6F, "SYSTEM": 0x73}

# register-register: name -> (opcode, funct3, funct7)
ALU_RR = {
    "add": ("OP", 0, 0), "sub": ("OP", 0, 0x20), "sll": ("OP", 1, 0), "slt": ("OP", 2, 0),
    "sltu": ("OP", 3, 0), "xor": ("OP", 4, 0), "srl": ("OP", 5, 0), "sra": ("OP", 5, 0x20),
    "or": ("OP", 6, 0), "and": ("OP", 7, 0),
    "mul": ("OP", 0, 1), "mulh": ("OP", 1, 1), "mulhsu": ("OP", 2, 1), "mulhu": ("OP", 3, 1),
    "div": ("OP", 4, 1), "divu": ("OP", 5, 1), "rem": ("OP", 6, 1), "remu": ("OP", 7, 1),
    "addw": ("OP32", 0, 0), "subw": ("OP32", 0, 0x20), "sllw": ("OP32", 1, 0),
    "srlw": ("OP32", 5, 0), "sraw": ("OP32", 5, 0x20), "mulw": ("OP32", 0, 1),
    "divw": ("OP32", 4, 1), "divuw": ("OP32", 5, 1), "remw": ("OP32", 6, 1),
    "remuw": ("OP32", 7, 1),
}
# register-immediate: name -> (opcode, funct3, high bits of the immediate field for
# shifts or None for a 12-bit immediate, shift amount width)
ALU_RI = {
    "addi": ("OP_IMM", 0, None, 0), "slti": ("OP_IMM", 2, None, 0),
    "sltiu": ("OP_IMM", 3, None, 0), "xori": ("OP_IMM", 4, None, 0),
    "ori": ("OP_IMM", 6, None, 0), "andi": ("OP_IMM", 7, None, 0),
    "slli": ("OP_IMM", 1, 0x000, 6), "srli": ("OP_IMM", 5, 0x000, 6),
    "srai": ("OP_IMM", 5, 0x400, 6), "addiw": ("OP_IMM32", 0, None, 0),
    "slliw": ("OP_IMM32", 1, 0x000, 5), "srliw": ("OP_IMM32", 5, 0x000, 5),
    "sraiw": ("OP_IMM32", 5, 0x400, 5),
}
LOAD_F3 = {"lb": 0, "lh": 1, "lw": 2, "ld": 3, "lbu": 4, "lhu": 5, "lwu": 6}
STORE_F3 = {"sb": 0, "sh": 1, "sw": 2, "sd": 3}
BRANCH_F3 = {"beq": 0, "bne": 1, "blt": 4, "bge": 5, "bltu": 6, "bgeu": 7}
AMO_F5 = {"amoadd": 0x00, "amoswap": 0x01, "lr": 0x02, "sc": 0x03, "amoxor": 0x04,
          "amoor": 0x08, "amoand": 0x0C, "amomin": 0x10, "amomax": 0x14,
          "amominu": 0x18, "amomaxu": 0x1C}
CSR_F3 = {"csrrw": 1, "csrrs": 2, "csrrc": 3, "csrrwi": 5, "csrrsi": 6, "csrrci": 7}


class enc:
    """Instruction encoders (all return a 32-bit word)."""

    @staticmethod
    def r(op, f3, f7, rd, rs1, rs2):
        return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | OP[op]

    @staticmethod
    def i(op, f3, rd, rs1, imm):
        assert -2048 <= imm < 4096, imm
        return ((imm & 0xFFF) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | OP[op]

    @staticmethod
    def s(f3, rs1, rs2, imm):
        assert -2048 <= imm < 2048, imm
        return (((imm >> 5) & 0x7F) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | \
            ((imm & 0x1F) << 7) | OP["STORE"]

    @staticmethod
    def b(f3, rs1, rs2, imm):
        assert -4096 <= imm < 4096 and imm % 2 == 0, imm
        return (((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3F) << 25) | (rs2 << 20) | \
            (rs1 << 15) | (f3 << 12) | (((imm >> 1) & 0xF) << 8) | \
            (((imm >> 11) & 1) << 7) | OP["BRANCH"]

    @staticmethod
    def u(op, rd, imm20):
        return ((imm20 & 0xFFFFF) << 12) | (rd << 7) | OP[op]

    @staticmethod
    def j(rd, imm):
        assert -(1 << 20) <= imm < (1 << 20) and imm % 2 == 0, imm
        return (((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3FF) << 21) | \
            (((imm >> 11) & 1) << 20) | (((imm >> 12) & 0xFF) << 12) | (rd << 7) | OP["JAL"]

    # named instructions

    @staticmethod
    def alu_rr(name, rd, rs1, rs2):
        op, f3, f7 = ALU_RR[name]
        return enc.r(op, f3, f7, rd, rs1, rs2)

    @staticmethod
    def alu_ri(name, rd, rs1, imm):
        op, f3, high, width = ALU_RI[name]
        if high is None:
            return enc.i(op, f3, rd, rs1, imm)
        return enc.i(op, f3, rd, rs1, high | (imm & ((1 << width) - 1)))

    @staticmethod
    def load(name, rd, rs1, imm):
        return enc.i("LOAD", LOAD_F3[name], rd, rs1, imm)

    @staticmethod
    def store(name, rs2, rs1, imm):
        return enc.s(STORE_F3[name], rs1, rs2, imm)

    @staticmethod
    def amo(name, width, rd, rs1, rs2, aq=0, rl=0):
        f7 = (AMO_F5[name] << 2) | (aq << 1) | rl
        return enc.r("AMO", 2 if width == "w" else 3, f7, rd, rs1, rs2)

    @staticmethod
    def csr(name, rd, rs1, addr):
        return (addr << 20) | (rs1 << 15) | (CSR_F3[name] << 12) | (rd << 7) | OP["SYSTEM"]

    @staticmethod
    def lui(rd, imm20):
        return enc.u("LUI", rd, imm20)

    @staticmethod
    def auipc(rd, imm20):
        return enc.u("AUIPC", rd, imm20)

    @staticmethod
    def jalr(rd, rs1, imm):
        return enc.i("JALR", 0, rd, rs1, imm)

    NOP = 0x00000013
    ECALL = 0x00000073
    EBREAK = 0x00100073
    MRET = 0x30200073
    SRET = 0x10200073
    WFI = 0x10500073
    FENCE = 0x0FF0000F
    FENCE_I = 0x0000100F

    @staticmethod
    def sfence_vma(rs1=0, rs2=0):
        return (0b0001001 << 25) | (rs2 << 20) | (rs1 << 15) | OP["SYSTEM"]


def li32(rd, value):
    """lui + addi for a value that fits in 32 bits signed: the words."""
    assert -(1 << 31) <= value < (1 << 31), value
    lo = ((value & 0xFFF) ^ 0x800) - 0x800
    hi = ((value - lo) >> 12) & 0xFFFFF
    words = []
    if hi:
        words.append(enc.lui(rd, hi))
        if lo:
            words.append(enc.alu_ri("addiw", rd, rd, lo))
    else:
        words.append(enc.alu_ri("addi", rd, 0, lo))
    return words


class Asm:
    """Words and data at addresses, with labels resolved when the image is made."""

    def __init__(self, base):
        self.base = base
        self.pc = base
        self.chunks = {}          # address -> word (4 bytes) or bytes
        self.labels = {}
        self.fixups = []          # (address, kind, label, extra)

    def label(self, name):
        if name in self.labels:
            raise ValueError(f"label {name} defined twice")
        self.labels[name] = self.pc

    def org(self, address):
        self.pc = address

    def align(self, n):
        self.pc = (self.pc + n - 1) & ~(n - 1)

    def emit(self, *words):
        for w in words:
            self.chunks[self.pc] = w & 0xFFFF_FFFF
            self.pc += 4

    def data(self, blob):
        self.chunks[self.pc] = bytes(blob)
        self.pc += len(blob)

    def dword(self, value):
        self.data((value & (1 << 64) - 1).to_bytes(8, "little"))

    # instructions whose immediate is a label's address

    def branch(self, name, rs1, rs2, label):
        self.fixups.append((self.pc, "b", label, (BRANCH_F3[name], rs1, rs2)))
        self.emit(0)

    def jal(self, rd, label):
        self.fixups.append((self.pc, "j", label, rd))
        self.emit(0)

    def la(self, rd, label, offset=0):
        """rd = address of label (+ offset): auipc + addi."""
        self.fixups.append((self.pc, "la", label, (rd, offset)))
        self.emit(0, 0)

    def image(self):
        """(lowest address, bytes) of everything emitted, labels resolved."""
        for at, kind, label, extra in self.fixups:
            target = self.labels[label]
            if kind == "b":
                f3, rs1, rs2 = extra
                self.chunks[at] = enc.b(f3, rs1, rs2, target - at)
            elif kind == "j":
                self.chunks[at] = enc.j(extra, target - at)
            else:
                rd, offset = extra
                delta = target + offset - at
                lo = ((delta & 0xFFF) ^ 0x800) - 0x800
                self.chunks[at] = enc.auipc(rd, (delta - lo) >> 12)
                self.chunks[at + 4] = enc.alu_ri("addi", rd, rd, lo)
        lo = min(self.chunks)
        hi = max(a + (4 if isinstance(c, int) else len(c)) for a, c in self.chunks.items())
        out = bytearray(hi - lo)
        for a, c in self.chunks.items():
            blob = c.to_bytes(4, "little") if isinstance(c, int) else c
            out[a - lo:a - lo + len(blob)] = blob
        return lo, bytes(out)
