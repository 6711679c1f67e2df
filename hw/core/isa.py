"""Encoding constants of RV64IMA + Zicsr + Zifencei + privileged instructions.

Every number here comes from the RISC-V unprivileged and privileged
specifications; the rest of the core refers to them by these names.
"""

from amaranth.lib import enum

__all__ = ["Opcode", "Kind", "AluOp", "AmoOp", "Cause", "Interrupt", "Priv"]


class Opcode(enum.IntEnum):
    """Major opcodes (instruction bits 6:0, low two bits always 11)."""
    LOAD     = 0b0000011
    MISC_MEM = 0b0001111
    OP_IMM   = 0b0010011
    AUIPC    = 0b0010111
    OP_IMM32 = 0b0011011
    STORE    = 0b0100011
    AMO      = 0b0101111
    OP       = 0b0110011
    LUI      = 0b0110111
    OP32     = 0b0111011
    BRANCH   = 0b1100011
    JALR     = 0b1100111
    JAL      = 0b1101111
    SYSTEM   = 0b1110011


class Kind(enum.Enum, shape=5):
    """What the execute stage has to do with an instruction."""
    ALU     = 0    # rd = alu(rs1, rs2 or imm)
    LUI     = 1
    AUIPC   = 2
    JAL     = 3
    JALR    = 4
    BRANCH  = 5
    LOAD    = 6
    STORE   = 7
    AMO     = 8    # LR, SC and the read-modify-write AMOs
    MULDIV  = 9
    CSR     = 10
    ECALL   = 11
    EBREAK  = 12
    MRET    = 13
    SRET    = 14
    WFI     = 15
    SFENCE  = 16
    FENCE   = 17
    FENCE_I = 18
    ILLEGAL = 19


class AluOp(enum.Enum, shape=4):
    ADD  = 0
    SUB  = 1
    SLL  = 2
    SLT  = 3
    SLTU = 4
    XOR  = 5
    SRL  = 6
    SRA  = 7
    OR   = 8
    AND  = 9


class AmoOp(enum.IntEnum):
    """funct5 (instruction bits 31:27) of the A extension."""
    ADD  = 0b00000
    SWAP = 0b00001
    LR   = 0b00010
    SC   = 0b00011
    XOR  = 0b00100
    OR   = 0b01000
    AND  = 0b01100
    MIN  = 0b10000
    MAX  = 0b10100
    MINU = 0b11000
    MAXU = 0b11100


class Cause(enum.IntEnum):
    """Synchronous exception codes (mcause with bit 63 clear)."""
    INSN_MISALIGNED  = 0
    INSN_ACCESS      = 1
    ILLEGAL_INSN     = 2
    BREAKPOINT       = 3
    LOAD_MISALIGNED  = 4
    LOAD_ACCESS      = 5
    STORE_MISALIGNED = 6
    STORE_ACCESS     = 7
    ECALL_U          = 8
    ECALL_S          = 9
    ECALL_M          = 11
    INSN_PAGE_FAULT  = 12
    LOAD_PAGE_FAULT  = 13
    STORE_PAGE_FAULT = 15


class Interrupt(enum.IntEnum):
    """Interrupt codes (mcause with bit 63 set) = bit positions in mip/mie."""
    SSI = 1
    MSI = 3
    STI = 5
    MTI = 7
    SEI = 9
    MEI = 11


class Priv(enum.IntEnum):
    U = 0
    S = 1
    M = 3
