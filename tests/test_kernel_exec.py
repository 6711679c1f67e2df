"""exec() and user traps against hostile programs, on QEMU.

ELF files are made here byte by byte (valid ones and damaged ones), put
into a file system image next to the normal programs, and run from the
shell.  exec must refuse every damaged file (the shell then says
"sh: cannot run ..."), free whatever it had allocated, and the kernel must
survive programs that fault or make unknown system calls.
"""

import struct
import subprocess

import pytest

from tests import xv6_console

pytestmark = pytest.mark.qemu

PGSIZE = 4096
MAXVA = 1 << 38
TRAPFRAME = MAXVA - 2 * PGSIZE

# ---- a tiny RV64I assembler for the few instructions we need ----------

A0, A1, A2, A7 = 10, 11, 12, 17


def addi(rd, rs1, imm):
    return ((imm & 0xFFF) << 20) | (rs1 << 15) | (rd << 7) | 0x13


def auipc(rd, imm20):
    return ((imm20 & 0xFFFFF) << 12) | (rd << 7) | 0x17


def lui(rd, imm20):
    return ((imm20 & 0xFFFFF) << 12) | (rd << 7) | 0x37


def ld(rd, rs1, imm):
    return ((imm & 0xFFF) << 20) | (rs1 << 15) | (3 << 12) | (rd << 7) | 0x03


ECALL = 0x00000073
SPIN = 0x0000006F            # jal x0, 0
ILLEGAL = 0x00000000         # all-zero word: illegal instruction
SYS_WRITE, SYS_EXIT = 16, 2

CODE_OFF = 0x100             # code starts here in the file (and at this VA)
MSG_OFF = 0x180


def write_and_exit(msg_off=MSG_OFF, length=3):
    """write(1, <string at msg_off>, length); exit(0)."""
    here = CODE_OFF + 4       # address of the auipc
    return [
        addi(A0, 0, 1),
        auipc(A1, 0),
        addi(A1, A1, msg_off - here),
        addi(A2, 0, length),
        addi(A7, 0, SYS_WRITE),
        ECALL,
        addi(A0, 0, 0),
        addi(A7, 0, SYS_EXIT),
        ECALL,
        SPIN,
    ]


def make_elf(code=None, message=b"ok\n", segments=None, file_size=0x200, **header):
    """An ELF64 RISC-V executable whose (first) segment maps the file from
    offset 0 at VA 0; entry = CODE_OFF.  `segments` replaces the default
    program headers (dicts of p_* values); header overrides ELF fields."""
    code = write_and_exit() if code is None else code
    if segments is None:
        segments = [dict(type=1, flags=5, offset=0, vaddr=0, filesz=file_size, memsz=file_size)]
    h = dict(magic=b"\x7fELF", eclass=2, data=1, machine=243, entry=CODE_OFF,
             phoff=64, phentsize=56, phnum=len(segments))
    h.update(header)
    ident = h["magic"] + bytes([h["eclass"], h["data"], 1, 0]) + bytes(8)
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, h["machine"], 1, h["entry"], h["phoff"],
                               0, 0, 64, h["phentsize"], h["phnum"], 64, 0, 0)
    image = bytearray(file_size)
    image[0:64] = ehdr
    for i, s in enumerate(segments):
        ph = struct.pack("<IIQQQQQQ", s["type"], s["flags"], s["offset"], s["vaddr"],
                         s["vaddr"], s["filesz"], s["memsz"], PGSIZE)
        if 64 + 56 * (i + 1) <= MSG_OFF and 64 + 56 * i < CODE_OFF:
            image[64 + 56 * i: 64 + 56 * (i + 1)] = ph
    words = b"".join(struct.pack("<I", w) for w in code)
    image[CODE_OFF:CODE_OFF + len(words)] = words
    image[MSG_OFF:MSG_OFF + len(message)] = message
    return bytes(image)


def seg(**kw):
    s = dict(type=1, flags=5, offset=0, vaddr=0, filesz=0x200, memsz=0x200)
    s.update(kw)
    return s


BIG = 20 << 20      # 20 MiB: more than half of the free RAM (RAM_MB = 32)

GOOD = {
    "x_ok": make_elf(),
    # A 20 MiB bss: needs most of RAM, so it only fits if nothing leaked.
    "x_bigbss": make_elf(message=b"big\n", code=write_and_exit(length=4),
                         segments=[seg(memsz=BIG)]),
}

BAD = {
    "x_magic": make_elf(magic=b"\x7fELG"),
    "x_class32": make_elf(eclass=1),
    "x_bigend": make_elf(data=2),
    "x_x86": make_elf(machine=62),
    "x_phoff": make_elf(phoff=0xFFFFFFFFFFFFFFF0),
    "x_phnum": make_elf(phnum=1000),                  # table runs past the file
    "x_phent": make_elf(phentsize=32),
    "x_memsz": make_elf(segments=[seg(memsz=0x100)]),             # memsz < filesz
    "x_unalign": make_elf(segments=[seg(vaddr=0x1010)]),
    "x_vawrap": make_elf(segments=[seg(vaddr=0xFFFFFFFFFFFFF000, memsz=0x2000)]),
    "x_trapfr": make_elf(segments=[seg(vaddr=TRAPFRAME - PGSIZE, memsz=2 * PGSIZE)]),
    "x_huge": make_elf(segments=[seg(memsz=1 << 36)]),            # 64 GiB
    "x_offbeyond": make_elf(segments=[seg(offset=0x100000)]),
    "x_offwrap": make_elf(segments=[seg(offset=0xFFFFFFFFFFFFFF00)]),
    "x_filesz": make_elf(segments=[seg(filesz=0x10000, memsz=0x10000)]),
    # 20 MiB first, then a bad second segment: all 20 MiB must be freed.
    "x_leak": make_elf(segments=[seg(memsz=BIG), seg(vaddr=BIG + 0x10, memsz=0x10)]),
    "x_short": make_elf()[:40],                       # not even a full header
}

# Programs that exec accepts but that misbehave when they run.
FAULTY = {
    "x_jumpaway": make_elf(entry=0x40000000),          # entry on no page
    "x_illegal": make_elf(code=[ILLEGAL]),
    "x_kernread": make_elf(code=[lui(A1, 0x80000), ld(A0, A1, 0), SPIN]),
    "x_badsys": make_elf(code=[addi(A7, 0, 99), ECALL, addi(A7, 0, SYS_EXIT), ECALL]),
    "x_spin": make_elf(code=[SPIN]),                   # never gives up the CPU
}


@pytest.fixture(scope="module")
def con(xv6_build, tmp_path_factory):
    kernel, _ = xv6_build
    work = tmp_path_factory.mktemp("kexec")
    mkfs = xv6_console.BUILD_DIR / "mkfs"
    # What `make xv6` puts in the image (programs without debug information).
    progs = sorted(p for p in (xv6_console.BUILD_DIR / "fsroot").iterdir() if p.is_file())
    extra = []
    for name, data in {**GOOD, **BAD, **FAULTY}.items():
        path = work / name
        path.write_bytes(data)
        extra.append(path)
    img = work / "fs.img"
    subprocess.run([str(mkfs), str(img)] + [str(p) for p in progs + extra],
                   check=True, capture_output=True)
    c = xv6_console.boot(work / "run", kernel, img)
    try:
        yield c
    finally:
        c.close()


def test_valid_program_runs(con):
    assert con.run("/x_ok") == "ok\n"


@pytest.mark.parametrize("name", sorted(BAD))
def test_damaged_elf_is_refused(con, name):
    assert con.run(f"/{name}") == f"sh: cannot run /{name}\n"


def test_failed_execs_leak_nothing(con):
    for _ in range(3):
        assert con.run("/x_leak") == "sh: cannot run /x_leak\n"
        assert con.run("/x_huge") == "sh: cannot run /x_huge\n"
    # 20 MiB still available in one piece: nothing was kept by the failures.
    assert con.run("/x_bigbss", timeout=30) == "big\n"
    assert con.run("/x_bigbss", timeout=30) == "big\n"


@pytest.mark.parametrize("name,scause", [
    ("x_jumpaway", 0xC),     # instruction page fault
    ("x_illegal", 0x2),      # illegal instruction
    ("x_kernread", 0xD),     # load page fault on a kernel address
])
def test_faulting_program_is_killed_not_the_kernel(con, name, scause):
    out = con.run(f"/{name}")
    assert f"({name}): killed by trap: scause 0x{scause:x}" in out, out
    assert con.run("echo alive") == "alive\n"


def test_unknown_system_call_returns_error(con):
    out = con.run("/x_badsys")
    assert "(x_badsys): unknown system call 99" in out, out
    assert con.run("echo alive") == "alive\n"


def _listing(con):
    con.send("\x10")
    return [l.split() for l in con.settle().splitlines() if l.strip()]


def test_cpu_hog_is_preempted_and_killable(con):
    con.send("/x_spin &\n")
    con.expect(xv6_console.PROMPT)
    # The timer takes the CPU away from the spinning program.
    for _ in range(3):
        assert con.run("echo alive") == "alive\n"
    hogs = [e for e in _listing(con) if e[2:] == ["x_spin"]]
    assert len(hogs) == 1 and hogs[0][1] in ("ready", "running"), hogs
    assert con.run(f"kill {hogs[0][0]}") == ""
    # The shell reaps a background job when it next waits for a foreground
    # one; until then the killed program may linger as a zombie.
    for _ in range(10):
        assert con.run("echo reap") == "reap\n"
        left = [e for e in _listing(con) if e[2:] == ["x_spin"]]
        if not left:
            break
        assert left[0][1] == "zombie", left
    assert not left
