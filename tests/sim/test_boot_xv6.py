"""xv6 on the SoC in the CXXRTL engine: boot to the shell, then assignment 3's programs
and the system test, with the same expectations as on QEMU
(tests/test_xv6_assignment3.py, tests/test_xv6_systest.py).

One boot for the module; the commands run in order, as a user would type them.  The
disk image is a private copy: build/xv6/fs.img must not change.  The whole systest is
about 260 M cycles (three minutes on the 2-core machine).
"""

import hashlib
import re

import pytest

from sim.boot import Session, open_engine
from tests.test_xv6_assignment3 import SENTENCE, SHMEM1, check_shmem_test2
from tests.test_xv6_systest import GROUPS

BOOT_BUDGET = 5_000_000       # instructions from reset to the first prompt (issue 7)
TIMEOUT = 300                 # wall seconds per step, generous for a loaded 2-core machine


@pytest.fixture(scope="module")
def xv6(cxxrtl_model, xv6_files):
    kernel, fs_img = xv6_files
    digest = hashlib.sha256(fs_img.read_bytes()).hexdigest()
    engine, disk = open_engine("cxxrtl", str(kernel), str(fs_img))
    session = Session(engine, disk)
    session.boot_text = session.boot(TIMEOUT)
    yield session
    engine.close()
    assert hashlib.sha256(fs_img.read_bytes()).hexdigest() == digest, "fs.img was modified"


def test_boots_to_the_shell_within_budget(xv6):
    assert xv6.boot_text.startswith("xv6 kernel: booting on hart 0\n")
    assert "init: starting sh" in xv6.boot_text
    stats, _ = xv6.prompt_at
    assert 0 < stats.instret <= BOOT_BUDGET
    assert stats.cycles > stats.instret
    assert stats.sectors_read > 0


def test_shmem_test1(xv6):
    assert xv6.command("shmem_test1", TIMEOUT) == SHMEM1


def test_shmem_test2(xv6):
    check_shmem_test2(xv6.command("shmem_test2", TIMEOUT))


def test_shmem_test1_again(xv6):
    assert xv6.command("shmem_test1", TIMEOUT) == SHMEM1


def test_crypto_cli(xv6):
    assert xv6.command("crypto_cli", TIMEOUT) == SENTENCE + "\n"


def test_cryptotest(xv6):
    out = xv6.command("cryptotest", TIMEOUT)
    assert out == ("cryptotest: 3 clients, 48 requests: ok\n"
                   "cryptotest: malformed requests: ok\n"
                   "cryptotest: vanishing clients and a full queue: ok\n"
                   "cryptotest: no pages leaked\n"
                   "cryptotest: ALL OK\n"), out


def test_systest(xv6):
    out = xv6.command("systest", 1800)
    groups = [line.split(":")[0] for line in out.splitlines() if line.endswith(": ok")]
    assert groups == GROUPS, out
    assert out.splitlines()[-1] == "ALL OK", out
    assert not re.search(r"panic|FAIL", out), out


def test_no_panic_in_the_whole_session(xv6):
    assert b"panic" not in xv6.transcript


def boot_prefix(engine_name, xv6_files, *, cycles=None, first_line=False):
    """Run the start of the xv6 boot on one engine: a number of cycles (with the retire
    records and DMA writes), or up to the end of the first console line.  Returns
    (console output, Stats, RetireBatch or None)."""
    kernel, fs_img = xv6_files
    engine, _ = open_engine(engine_name, str(kernel), str(fs_img))
    out, batch = b"", None
    if first_line:
        while b"\n" not in out:
            assert engine.run(1_000_000, stop_on_tx=True) == "tx"
            out += engine.tx_take()
    else:
        batch = engine.run_retire(cycles, cycles)
        out = engine.tx_take()
    stats = engine.stats()
    engine.close()
    return out, stats, batch


def test_engines_agree_on_the_start_of_the_boot(cxxrtl_model, xv6_files):
    fast = boot_prefix("cxxrtl", xv6_files, cycles=15_000)
    exact = boot_prefix("pysim", xv6_files, cycles=15_000)
    assert fast == exact                       # console, stats, every record
    out, stats, batch = fast
    assert batch.stop == "limit"
    assert len(batch.records) == stats.instret + stats.traps > 3000


@pytest.mark.slow
def test_engines_agree_up_to_the_first_console_line(cxxrtl_model, xv6_files):
    # about 130 k cycles: three minutes of pysim
    fast = boot_prefix("cxxrtl", xv6_files, first_line=True)
    exact = boot_prefix("pysim", xv6_files, first_line=True)
    assert fast == exact
    assert fast[0] == b"xv6 kernel: booting on hart 0\n"
