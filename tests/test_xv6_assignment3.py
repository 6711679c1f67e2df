"""Assignment 3 on QEMU: shared memory (task 1) and the crypto service
(task 2), with the hardening beyond the assignment.

One boot for the whole module, in this order, as a user would type it:
the free-page count first, then the assignment's programs (twice, without a
reboot), the bad-input and stress programs, and the free-page count again,
which must not have moved.  Finally the system test still passes.
"""

import re

import pytest

from tests import xv6_console

pytestmark = pytest.mark.qemu

SENTENCE = "This is a secret string to be decrypted by the crypto server"
PAGE = 4096


def free_pages(xv6):
    out = xv6.run("free")
    m = re.fullmatch(r"free pages: (\d+) \((\d+) KiB\)\n", out)
    assert m, out
    assert int(m.group(2)) == int(m.group(1)) * 4
    return int(m.group(1))


@pytest.fixture(scope="module")
def initial_free(xv6):
    return free_pages(xv6)


def test_crypto_srv_is_pid_2(xv6, initial_free):
    xv6.send("\x10")                       # ^P lists the processes
    listing = xv6.settle()
    rows = {int(m.group(1)): m.group(2) for m in re.finditer(r"^\s*(\d+) +\S+ +(\S+)", listing, re.M)}
    assert rows.get(1) == "init", listing
    assert rows.get(2) == "crypto_srv", listing
    xv6.send("\n")
    xv6.expect(xv6_console.PROMPT)


def test_crypto_srv_refuses_to_run_from_the_shell(xv6, initial_free):
    out = xv6.run("crypto_srv")
    assert out == "crypto_srv: only the kernel may start the server (as pid 2)\n"


SHMEM1 = ('parent: shared "Hello child" with the child\n'
          "child: Hello child\n"
          "parent: child exited with status 0\n")


def check_shmem_test2(out):
    m = re.fullmatch(
        r"child: size before map: (\d+)\n"
        r"child: size after map: (\d+)\n"
        r"parent: Hello daddy\n"
        r"child: size after unmap: (\d+)\n"
        r"child: size after malloc: (\d+)\n"
        r"parent: child exited with status 0\n", out)
    assert m, out
    before, mapped, unmapped, malloced = map(int, m.groups())
    assert before % PAGE == 0
    assert mapped == before + PAGE          # one page shared
    assert unmapped == before               # the assignment's requirement
    assert malloced >= unmapped + 20 * PAGE # the heap grew over the old mapping
    return before


def test_shmem_tests_run_again_and_again(xv6, initial_free):
    sizes = set()
    for _ in range(3):
        assert xv6.run("shmem_test1", timeout=30) == SHMEM1
        sizes.add(check_shmem_test2(xv6.run("shmem_test2", timeout=30)))
    assert len(sizes) == 1                  # same sizes on every run
    assert free_pages(xv6) == initial_free


def test_crypto_cli_prints_the_sentence(xv6, initial_free):
    assert xv6.run("crypto_cli", timeout=30) == SENTENCE + "\n"
    assert xv6.run("crypto_cli", timeout=30) == SENTENCE + "\n"


def test_shmem_bad_input(xv6, initial_free):
    out = xv6.run("shmem_bad", timeout=60)
    groups = ["bad sources", "bad destinations", "bad unmaps", "partial unmaps",
              "mixing", "owner exits first", "fork shares"]
    for g in groups:
        assert f"\n{g}: ok\n" in "\n" + out, out
    # The only kernel message: the child that touched a hole was killed.
    killed = re.findall(r"pid \d+ \(shmem_bad\): killed by trap: scause 0xd .*\n", out)
    assert len(killed) == 1, out
    assert out.endswith("shmem_bad: ALL OK\n"), out


def test_cryptotest(xv6, initial_free):
    out = xv6.run("cryptotest", timeout=120)
    assert out == ("cryptotest: 3 clients, 48 requests: ok\n"
                   "cryptotest: malformed requests: ok\n"
                   "cryptotest: vanishing clients and a full queue: ok\n"
                   "cryptotest: no pages leaked\n"
                   "cryptotest: ALL OK\n"), out
    # The server survived all of it.
    assert xv6.run("crypto_cli", timeout=30) == SENTENCE + "\n"


def test_no_pages_leaked_and_systest_still_passes(xv6, initial_free):
    assert xv6.run("shmem_test1", timeout=30) == SHMEM1
    assert free_pages(xv6) == initial_free
    out = xv6.run("systest -q", timeout=300)
    assert out.endswith("ALL TESTS PASSED\n"), out
    assert free_pages(xv6) == initial_free
