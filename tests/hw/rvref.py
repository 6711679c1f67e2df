"""Python reference semantics of RV64 integer operations, written from the ISA text.

Values are Python ints holding 64-bit patterns (0 <= v < 2**64).
"""

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1


def s64(v):
    v &= M64
    return v - (1 << 64) if v >> 63 else v


def s32(v):
    v &= M32
    return v - (1 << 32) if v >> 31 else v


def sext32(v):
    """The 64-bit pattern of the sign extension of v's low word."""
    return s32(v) & M64


def _trunc_div(a, b):
    """Division rounding towards zero (Python's // rounds down)."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def alu(op, a, b, word=False):
    if word:
        a32, b32 = a & M32, b & M32
        sh = b & 31
        r = {
            "ADD": a32 + b32, "SUB": a32 - b32, "SLL": a32 << sh,
            "SRL": a32 >> sh, "SRA": s32(a32) >> sh,
        }[op]
        return sext32(r)
    sh = b & 63
    r = {
        "ADD": a + b, "SUB": a - b, "SLL": a << sh,
        "SLT": int(s64(a) < s64(b)), "SLTU": int(a < b), "XOR": a ^ b,
        "SRL": a >> sh, "SRA": s64(a) >> sh, "OR": a | b, "AND": a & b,
    }[op]
    return r & M64


def muldiv(op, a, b, word=False):
    """op: MUL MULH MULHSU MULHU DIV DIVU REM REMU (W forms with word=True)."""
    if word:
        if op == "MUL":
            return sext32(s32(a) * s32(b))
        if op in ("DIV", "REM"):
            x, y = s32(a), s32(b)
        else:
            x, y = a & M32, b & M32
        if y == 0:
            q, r = -1, x
        elif op in ("DIV", "REM") and x == -(1 << 31) and y == -1:
            q, r = x, 0
        else:
            q = _trunc_div(x, y)
            r = x - q * y
        return sext32(q if op.startswith("DIV") else r)
    if op == "MUL":
        return (a * b) & M64
    if op == "MULH":
        return ((s64(a) * s64(b)) >> 64) & M64
    if op == "MULHSU":
        return ((s64(a) * b) >> 64) & M64
    if op == "MULHU":
        return ((a * b) >> 64) & M64
    if op in ("DIV", "REM"):
        x, y = s64(a), s64(b)
    else:
        x, y = a, b
    if y == 0:
        q, r = -1, x
    elif op in ("DIV", "REM") and x == -(1 << 63) and y == -1:
        q, r = x, 0
    else:
        q = _trunc_div(x, y)
        r = x - q * y
    return (q if op.startswith("DIV") else r) & M64
