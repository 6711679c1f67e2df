"""xv6 on the SoC (compiled engine) in lock-step with the golden model: the boot to
the prompt and assignment 3's programs (`make test`), the quick part of the system
test, `systest -q` (`make test-slow`)."""

import pytest

from sim.difftest import cli



def test_boot_and_assignment_programs(capsys, cxxrtl_model, xv6_files):
    kernel, fs = xv6_files
    status = cli.main(["--kernel", str(kernel), "--fs", str(fs),
                       "--run", "shmem_test1; shmem_test2; crypto_cli"])
    out, err = capsys.readouterr()
    assert status == cli.EXIT_OK, err[-4000:]
    assert "no divergence" in err
    assert "child: Hello child" in out and "parent: Hello daddy" in out
    assert "This is a secret string to be decrypted by the crypto server" in out


@pytest.mark.slow
def test_systest(capsys, cxxrtl_model, xv6_files):
    kernel, fs = xv6_files
    status = cli.main(["--kernel", str(kernel), "--fs", str(fs), "--run", "systest -q"])
    out, err = capsys.readouterr()
    assert status == cli.EXIT_OK, err[-4000:]
    # the transcript ends with the prompt the command came back to
    assert out.rstrip().endswith("ALL TESTS PASSED\n$") and "no divergence" in err
