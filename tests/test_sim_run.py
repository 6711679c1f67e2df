"""`python -m sim run`: exit codes and messages for passing, failing and unusable programs."""

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sim.elf import load_elf
from sim.run import EXIT_PASS, run_elf
from soc import memmap
from tests.isa import build as isa_build
from tests.soc.programs.build import build as soc_build

ROOT = Path(__file__).resolve().parent.parent
needs_gcc = pytest.mark.skipif(not isa_build.have_toolchain(), reason="no RISC-V gcc")

PROGRAM = """
    .section .text.init, "ax"
    .globl _start
_start:
    li a0, {value}
    la t0, tohost
    sd a0, 0(t0)
1:  j 1b
    .section .tohost, "aw"
    .align 3
    .globl tohost
tohost: .dword 0
    .globl fromhost
fromhost: .dword 0
"""


def sim_run(*args):
    # (600 s: a run on the compiled engine may have to build its model first, which
    # took over 300 s on the shared 2-core machine at load 10-14)
    p = subprocess.run([sys.executable, "-m", "sim", "run", *map(str, args)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert "Traceback" not in p.stdout + p.stderr
    return p.returncode, p.stdout + p.stderr


def assemble(tmp_path, source, name, *, march="rv64ima_zicsr", mabi="lp64", ld_args=()):
    src = tmp_path / f"{name}.S"
    src.write_text(source)
    out = tmp_path / f"{name}.elf"
    subprocess.run(["riscv64-unknown-elf-gcc", f"-march={march}", f"-mabi={mabi}", "-nostdlib",
                    "-T", str(ROOT / "tests/isa/link.ld"), *ld_args, str(src), "-o", str(out)],
                   check=True, capture_output=True)
    return out


@needs_gcc
def test_pass(tmp_path):
    code, out = sim_run(assemble(tmp_path, PROGRAM.format(value=1), "pass"))
    assert code == 0
    assert "PASS" in out
    # 4 instructions (li, auipc, addi, sd) retire before the store ends the run
    assert "instructions 4 " in out and "CPI" in out


@needs_gcc
def test_fail_reports_case(tmp_path):
    code, out = sim_run(assemble(tmp_path, PROGRAM.format(value=(5 << 1) | 1), "fail"))
    assert code == 1
    assert "FAIL: test case 5" in out


@needs_gcc
def test_odd_tohost_value(tmp_path):
    code, out = sim_run(assemble(tmp_path, PROGRAM.format(value=2), "two"))
    assert code == 1
    assert "tohost = 0x2" in out


@needs_gcc
def test_cycle_limit(tmp_path):
    src = PROGRAM.format(value=1).replace("    li a0, 1\n", "2:  j 2b\n")
    code, out = sim_run(assemble(tmp_path, src, "loop"), "--max-cycles", 200)
    assert code == 3
    assert "no tohost write within 200 cycles" in out


def test_not_an_elf(tmp_path):
    f = tmp_path / "text.elf"
    f.write_text("this is not an ELF file\n")
    code, out = sim_run(f)
    assert code == 2
    assert "not an ELF file" in out


def test_missing_file(tmp_path):
    code, out = sim_run(tmp_path / "nothing.elf")
    assert code == 2
    assert "cannot open" in out


@needs_gcc
def test_rv32_elf(tmp_path):
    code, out = sim_run(assemble(tmp_path, PROGRAM.format(value=1).replace("sd a0", "sw a0"),
                                 "rv32", march="rv32ima_zicsr", mabi="ilp32",
                                 ld_args=["-Wl,-melf32lriscv"]))
    assert code == 2
    assert "32-bit" in out


def test_wrong_machine():
    host_elf = Path(sys.executable).resolve()
    code, out = sim_run(host_elf)
    assert code == 2
    assert "need RISC-V" in out or "not an ELF" in out


@needs_gcc
def test_no_tohost(tmp_path):
    src = PROGRAM.format(value=1).replace("tohost", "somewhere")
    code, out = sim_run(assemble(tmp_path, src, "notohost"))
    assert code == 2
    assert "no 'tohost' symbol" in out


@needs_gcc
def test_segment_outside_ram(tmp_path):
    code, out = sim_run(assemble(tmp_path, PROGRAM.format(value=1), "low",
                                 ld_args=["-Wl,--section-start=.text=0x1000"]))
    assert code == 2
    assert "below RAM" in out or "outside RAM" in out


@needs_gcc
def test_trace(tmp_path):
    code, out = sim_run(assemble(tmp_path, PROGRAM.format(value=1), "trace"), "--trace")
    assert code == 0
    lines = [l for l in out.splitlines() if l.strip().startswith(("0 ", "1 ", "2 ", "3 "))]
    assert lines[0].split()[:4] == ["0", "M", "0000000080000000", "00100513"]
    assert "x10=0x1" in lines[0]
    assert "store[0x80001000/0xff]=0x1" in lines[3] and "; sd a0, 0(t0)" in lines[3]


def test_bad_option():
    code, out = sim_run("x.elf", "--max-cycles", "lots")
    assert code == 64


@needs_gcc
@pytest.mark.parametrize("engine", ["cxxrtl", "pysim"])
def test_soc_target(tmp_path, cxxrtl_model, engine):
    # The same tiny program on the whole SoC (its RAM, interconnect, devices).
    code, out = sim_run(assemble(tmp_path, PROGRAM.format(value=(3 << 1) | 1), "soc"),
                        "--target", "soc", "--engine", engine)
    assert code == 1
    assert "FAIL: test case 3" in out
    # The store to tohost retires into the pipelined core's write buffer; the run ends
    # when the write reaches the RAM, by which time the `j 1b` after it has retired seven
    # times (li, auipc + addi, sd, then the loop).  The RAM stores a write the cycle
    # after it is addressed (its write enables come from flip-flops, tport5), and the
    # store waits a cycle in the write buffer's store stage before it takes an entry:
    # each one cycle and one loop more (26 cycles and 9 instructions before both).
    assert "cycles 28  instructions 11  traps 0" in out and f"soc target, {engine})" in out


def test_core_target_has_no_cxxrtl_engine(tmp_path):
    code, out = sim_run(tmp_path / "x.elf", "--engine", "cxxrtl")
    assert code == 64
    assert "the core target runs on pysim only" in out and "--target soc" in out


@needs_gcc
def test_soc_vcd(tmp_path):
    vcd = tmp_path / "soc.vcd"
    code, out = sim_run(assemble(tmp_path, PROGRAM.format(value=1), "vcd"), "--target", "soc",
                        "--engine", "pysim", "--ram-size", "64k", "--vcd", vcd)
    assert code == 0
    text = vcd.read_text()
    assert "$enddefinitions" in text and "retire__pc" in text and "dma_write__valid" in text


def test_vcd_needs_pysim(tmp_path):
    code, out = sim_run(tmp_path / "x.elf", "--target", "soc", "--vcd", tmp_path / "x.vcd")
    assert code == 64
    assert "--vcd needs --engine pysim" in out


# M mode drops to S mode (mret), where an ecall traps back to M; the handler stores
# 1 to tohost if mcause says "ecall from S".
TRAP_PROGRAM = """
    .section .text.init, "ax"
    .globl _start
_start:
    la t0, handler
    csrw mtvec, t0
    li t0, 3 << 11
    csrc mstatus, t0
    li t0, 1 << 11
    csrs mstatus, t0            # MPP = S
    li t0, -1                   # PMP entry 0: NAPOT over everything, R W X (without
    csrw pmpaddr0, t0           # an entry that matches, S mode may access nothing)
    li t0, 0x1f
    csrw pmpcfg0, t0
    la t0, smode
    csrw mepc, t0
    mret
smode:
    li a1, 7
    ecall
1:  j 1b
handler:
    csrr a0, mcause
    addi a0, a0, -9
    seqz a0, a0
    la t0, tohost
    sd a0, 0(t0)
2:  j 2b
    .section .tohost, "aw"
    .align 3
    .globl tohost
tohost: .dword 0
"""


TRACE_LINE = re.compile(r" *\d+ [USHM] [0-9a-f]{16} [0-9a-f]{8}.*")


def trace_lines(text):
    """The retire lines of a --trace output (order, privilege, pc, instruction...); a
    line may follow UART output that did not end with a newline."""
    return [m.group(0) for m in map(TRACE_LINE.search, text.splitlines()) if m]


def traced_run(elf, **kw):
    out = io.StringIO()
    status, message, res = run_elf(str(elf), max_cycles=10_000, trace=True, out=out, **kw)
    assert status == EXIT_PASS, message
    return trace_lines(out.getvalue()), res


@needs_gcc
@pytest.mark.parametrize("engine", ["cxxrtl", "pysim"])
def test_soc_trace_shows_the_trapping_instruction(tmp_path, cxxrtl_model, engine):
    # The trap line names the ecall (its pc, in S mode), not the trap vector in M mode;
    # the SoC target used to print pc, order and privilege one retirement late.
    elf = assemble(tmp_path, TRAP_PROGRAM, "trap")
    lines, _ = traced_run(elf, target="soc", engine=engine)
    ecall = load_elf(str(elf)).symbols["smode"] + 4
    traps = [line.split() for line in lines if "TRAP" in line]
    assert len(traps) == 1
    assert traps[0][1:4] == ["S", f"{ecall:016x}", "00000073"]
    assert "cause=9" in traps[0]
    mret = [line.split() for line in lines if line.split()[3] == "30200073"]
    assert mret[0][1:3] == ["M", f"{ecall - 8:016x}"]
    assert [int(line.split()[0]) for line in lines] == list(range(len(lines)))


@needs_gcc
def test_soc_and_core_traces_agree(tmp_path, cxxrtl_model):
    # No device, no timer: the same instructions retire in the same order on the core
    # alone and on the SoC (other timing, the same trace), on both engines.
    # Up to the store to tohost: after it each target retires the spin loop for as long
    # as its write takes to land (the pipelined core's write buffer, then the RAM).
    elf = assemble(tmp_path, TRAP_PROGRAM, "trap")
    core, _ = traced_run(elf)
    store = next(i for i, line in enumerate(core) if "store[" in line)
    for engine in ("pysim", "cxxrtl"):
        soc = traced_run(elf, target="soc", engine=engine)[0]
        assert soc[:store] == core[:store], engine
        assert "store[" in soc[store] and soc[store].split()[2:4] == core[store].split()[2:4]


@pytest.fixture(scope="module")
def soc_programs(tmp_path_factory):
    if not isa_build.have_toolchain():
        pytest.fail("riscv64-unknown-elf-gcc missing: run `make toolchain`", pytrace=False)
    out = tmp_path_factory.mktemp("runprogs")
    elfs = {n: isa_build.build(n, out) for n in ("traps", "vm", "atomic", "csr")}
    elfs.update({n: soc_build(n, out, ram_size=memmap.DEFAULT_RAM_SIZE)
                 for n in ("hello", "mtimer", "sstc", "fault")})
    return elfs


@pytest.mark.parametrize("name", ["traps", "vm", "atomic", "csr", "hello", "mtimer", "sstc",
                                  "fault"])
def test_engines_give_the_same_run(cxxrtl_model, soc_programs, name):
    # The same cycle, instruction and trap counts, console output and trace.
    runs = {}
    for engine in ("cxxrtl", "pysim"):
        out = io.StringIO()
        status, message, res = run_elf(str(soc_programs[name]), max_cycles=100_000, trace=True,
                                       target="soc", engine=engine, out=out)
        assert status == EXIT_PASS, message
        text = out.getvalue()
        runs[engine] = (res.cycles, res.instret, res.traps, res.tohost,
                        text[:text.index("cycles ")])
    assert runs["cxxrtl"] == runs["pysim"]
    cycles, instret, traps, _, text = runs["cxxrtl"]
    assert len(trace_lines(text)) == instret + traps


def test_trace_mmu_needs_core_target(tmp_path):
    f = tmp_path / "x.elf"
    f.write_text("not an elf")
    code, out = sim_run(f, "--target", "soc", "--trace-mmu")
    assert code == 2          # the ELF is checked first


@needs_gcc
def test_a_failed_design_check_is_a_message(tmp_path, monkeypatch):
    import sim.harness as harness
    from sim.run import EXIT_FAIL
    elf = assemble(tmp_path, PROGRAM.format(value=1), "check")
    built = []

    def failing(dut, bench, *, vcd=None):
        built.append(dut)
        raise AssertionError("Assertion violated: memory port: a store offered while "
                             "the data requester asks")

    monkeypatch.setattr(harness, "simulate", failing)
    status, message, res = run_elf(str(elf), max_cycles=100, out=io.StringIO())
    assert (status, res) == (EXIT_FAIL, None)
    assert message == ("error: design check failed: Assertion violated: memory port: "
                       "a store offered while the data requester asks")
    assert built[0].checks is True      # the core target turns the pipeline's checks on

    # an AssertionError of the harness itself is a bug: it is not dressed up
    def buggy(dut, bench, *, vcd=None):
        raise AssertionError("harness bug")

    monkeypatch.setattr(harness, "simulate", buggy)
    with pytest.raises(AssertionError, match="harness bug"):
        run_elf(str(elf), max_cycles=100, out=io.StringIO())
