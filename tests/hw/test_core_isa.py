"""Runs the assembly test programs of tests/isa on the core (pysim) via the ELF runner."""

import io
import subprocess

import pytest
from elftools.elf.elffile import ELFFile

from sim.run import run_elf, EXIT_PASS
from tests.isa import build as isa_build

pytestmark = pytest.mark.skipif(not isa_build.have_toolchain(),
                                reason="riscv64-unknown-elf-gcc not installed")

# Straight-line programs: every instruction from _start to the final store to
# tohost runs once, except the trap handlers of test.h (from
# __unexpected_trap up to __test_body, jumped over), the two instructions
# that compute the failure code, and the `j fail` of each check that the
# assembler relaxed into "inverted branch over a jump" (fail too far away).
# Their exact retired-instruction count follows from the binary.
STRAIGHT_LINE = {"rv64i_arith", "rv64_word", "muldiv"}
# Programs with loops or traps: (instructions retired, traps taken), as
# measured on this core (5 of them set up PMP entry 15 in TEST_START); a regression guard against retiring a trapped
# instruction, losing one, or taking a trap twice.  Only programs whose path
# does not depend on timing (interrupts.S spins on the timer: not listed).
EXACT_COUNTS = {
    "loadstore": (225, 0),
    "branch_jump": (198, 0),
    "atomic": (377, 2),
    "csr": (774, 22),
    "traps": (841, 34),
    "hazards": (1868, 0),
    "fence_i": (269, 0),
}


@pytest.fixture(scope="session")
def isa_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("isa")


def _straight_line_count(elf_path):
    with open(elf_path, "rb") as f:
        elf = ELFFile(f)
        syms = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()}
        text = elf.get_section_by_name(".text")
        code = text.data()
        base = text["sh_addr"]
    # The store to tohost is the `sd` right after __finish's `la` (2 insns).
    store = syms["__finish"] + 8
    assert int.from_bytes(code[store - base:store - base + 4], "little") & 0x707f == 0x3023
    handlers = (syms["__test_body"] - syms["__unexpected_trap"]) // 4
    skipped = 0
    for addr in range(syms["__test_body"], store, 4):
        word = int.from_bytes(code[addr - base:addr - base + 4], "little")
        after = int.from_bytes(code[addr - base + 4:addr - base + 8], "little")
        # B-type with offset +8 (imm[4:1] = 4 in bits 11:8, everything else 0)
        if word & 0x7F == 0x63 and word & 0xFE000F80 == 0x400 and after & 0xFFF == 0x06F:
            skipped += 1
    return (store - syms["_start"]) // 4 + 1 - handlers - 2 - skipped


@pytest.mark.parametrize("core", ["pipeline", "fsm"])
@pytest.mark.parametrize("name", isa_build.programs())
def test_isa_program(name, core, isa_dir):
    elf = isa_build.build_for(name, isa_dir, core)
    out = io.StringIO()
    status, message, res = run_elf(str(elf), max_cycles=200_000, out=out, core=core)
    assert status == EXIT_PASS, f"{name}: {message}\n{out.getvalue()}"
    assert res.tohost == 1
    if name in STRAIGHT_LINE:
        assert res.traps == 0
        assert res.instret == _straight_line_count(elf)
    if name in EXACT_COUNTS:
        assert (res.instret, res.traps) == EXACT_COUNTS[name]


# The same programs with two wait states on every bus transfer (fetch, data,
# page-table walks); the harness also checks that requests stay stable until
# ready.  Timing-independent programs keep their exact counts.
SLOW_BUS = ["loadstore", "atomic", "traps", "vm", "interrupts", "hazards", "fence_i"]


@pytest.mark.parametrize("name", SLOW_BUS)
def test_isa_program_with_wait_states(name, isa_dir):
    elf = isa_build.build(name, isa_dir)
    out = io.StringIO()
    status, message, res = run_elf(str(elf), max_cycles=200_000, bus_latency=2, out=out)
    assert status == EXIT_PASS, f"{name}: {message}\n{out.getvalue()}"
    if name in EXACT_COUNTS:
        assert (res.instret, res.traps) == EXACT_COUNTS[name]
