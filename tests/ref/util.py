"""Helpers for testing the golden model: assembling single instructions and running
them on a fresh hart."""

from sim.ref.hart import Config, Hart
from sim.ref.platform import HarnessPlatform

RAM_BASE = 0x8000_0000
M64 = (1 << 64) - 1

OPCODE = {"LOAD": 0x03, "MISC_MEM": 0x0F, "OP_IMM": 0x13, "AUIPC": 0x17, "OP_IMM32": 0x1B,
          "STORE": 0x23, "AMO": 0x2F, "OP": 0x33, "LUI": 0x37, "OP32": 0x3B,
          "BRANCH": 0x63, "JALR": 0x67, "JAL": 0x6F, "SYSTEM": 0x73}


def r_type(opcode, f3, f7, rd, rs1, rs2):
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | OPCODE[opcode]


def i_type(opcode, f3, rd, rs1, imm):
    return ((imm & 0xFFF) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | OPCODE[opcode]


def s_type(f3, rs1, rs2, imm):
    return (((imm >> 5) & 0x7F) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | \
        ((imm & 0x1F) << 7) | OPCODE["STORE"]


def b_type(f3, rs1, rs2, imm):
    return (((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3F) << 25) | (rs2 << 20) | \
        (rs1 << 15) | (f3 << 12) | (((imm >> 1) & 0xF) << 8) | (((imm >> 11) & 1) << 7) | \
        OPCODE["BRANCH"]


def csr_type(f3, rd, rs1, csr):
    return (csr << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | OPCODE["SYSTEM"]


def amo(funct5, width, rd, rs1, rs2):
    return r_type("AMO", 2 if width == "w" else 3, funct5 << 2, rd, rs1, rs2)


def make_hart(words=(), ram_size=1 << 16, config=Config(), regs=None):
    """A hart at RAM_BASE with ``words`` placed there, on the stand-alone platform."""
    ram = bytearray(ram_size)
    for i, w in enumerate(words):
        ram[4 * i:4 * i + 4] = w.to_bytes(4, "little")
    env = HarnessPlatform()
    hart = Hart(env, ram, ram_base=RAM_BASE, pc=RAM_BASE, config=config)
    env.attach(hart)
    for reg, value in (regs or {}).items():
        hart.x[reg] = value & M64
    return hart


def run_one(word, regs=None, config=Config()):
    """Execute one instruction; returns (hart, its Retire record)."""
    hart = make_hart([word], regs=regs, config=config)
    return hart, hart.step()
