"""The xv6 shell and user programs, driven through the QEMU console.

One QEMU boot serves the whole module (the `xv6` fixture in conftest.py);
the tests run in file order and some build on files made by earlier ones.
"""

import random
import re
import time

import pytest

from tests import xv6_console
from tests.xv6_console import ConsoleError

pytestmark = pytest.mark.qemu

PROGRAMS = ["init", "sh", "cat", "echo", "grep", "ls", "mkdir", "rm", "ln",
            "wc", "kill", "sleep", "systest"]


def parse_ls(output):
    """`ls` lines -> {name: (type, ino, size)}."""
    entries = {}
    for line in output.splitlines():
        fields = line.split()
        assert len(fields) == 4, f"ls line {line!r} is not `name type ino size`"
        name, typ, ino, size = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
        assert name not in entries, f"{name} listed twice"
        entries[name] = (typ, ino, size)
    return entries


def test_boot_reaches_shell(xv6):
    assert "init: starting sh\n" in xv6.boot_log


def test_ls_root_lists_programs_with_types_and_sizes(xv6, xv6_build):
    kernel, fs_img = xv6_build
    entries = parse_ls(xv6.run("ls"))
    assert entries["."][0:2] == (1, 1)           # T_DIR, ROOTINO
    assert entries[".."][0:2] == (1, 1)          # / is its own parent
    assert entries["console"][0] == 3            # T_DEVICE, made by init
    for name in PROGRAMS:
        typ, ino, size = entries[name]
        assert typ == 2, f"{name} should be a file"
        # The image holds exactly the ELF files that were built.
        assert size == (fs_img.parent / "fsroot" / name).stat().st_size, name
    inodes = [ino for name, (typ, ino, size) in entries.items() if name not in (".", "..")]
    assert len(set(inodes)) == len(inodes), "every file has its own inode"


def test_ls_of_a_file_and_of_a_missing_path(xv6):
    root = parse_ls(xv6.run("ls"))
    assert parse_ls(xv6.run("ls cat")) == {"cat": root["cat"]}
    assert xv6.run("ls nowhere") == "ls: cannot open nowhere\n"


def test_echo_redirect_and_cat(xv6):
    assert xv6.run("echo hello > f") == ""
    assert xv6.run("cat f") == "hello\n"
    assert parse_ls(xv6.run("ls f"))["f"][2] == 6


def test_pipeline_counts(xv6):
    assert xv6.run("cat f | grep hel | wc") == "1 1 6\n"
    assert xv6.run("cat f | grep nothing | wc") == "0 0 0\n"
    assert xv6.run("cat f|cat|cat|cat") == "hello\n"


def test_input_redirection(xv6):
    assert xv6.run("wc < f") == "1 1 6\n"
    assert xv6.run("grep hel < f") == "hello\n"
    assert xv6.run("cat < missing") == "sh: cannot open missing\n"


def test_append_and_wc_with_names(xv6):
    assert xv6.run("echo second line >> f") == ""
    assert xv6.run("cat f") == "hello\nsecond line\n"
    assert xv6.run("wc f") == "2 3 18 f\n"
    assert xv6.run("echo x > g; wc f g") == "2 3 18 f\n1 1 2 g\n3 4 20 total\n"
    assert xv6.run("echo fresh > g; cat g") == "fresh\n"      # '>' truncates


def test_sequences(xv6):
    assert xv6.run("echo one; echo two;echo three") == "one\ntwo\nthree\n"
    assert xv6.run("echo trailing;") == "trailing\n"


def test_grep_patterns(xv6):
    for word in ["apple", "banana", "cherry", "apricot pie"]:
        assert xv6.run(f"echo {word} >> fruits") == ""
    assert xv6.run("grep ^ap fruits") == "apple\napricot pie\n"
    assert xv6.run("grep a.a fruits") == "banana\n"
    assert xv6.run("grep e$ fruits") == "apple\napricot pie\n"
    assert xv6.run("grep ch*e fruits") == "cherry\n"
    assert xv6.run("grep ^b.*a$ fruits") == "banana\n"
    assert xv6.run("grep x* fruits | wc") == "4 5 32\n"
    assert xv6.run("grep ^$ fruits") == ""
    assert xv6.run("grep r.*y fruits f") == "cherry\n"
    assert xv6.run("grep p*ie$ fruits") == "apricot pie\n"


def test_quotes_and_parentheses(xv6):
    assert xv6.run("echo \"a  b\" 'c|d;e'") == "a  b c|d;e\n"
    assert xv6.run("(echo p; echo q) > pq") == ""
    assert xv6.run("cat pq") == "p\nq\n"
    assert xv6.run("(echo p; echo q) | wc") == "2 2 4\n"


def test_mkdir_cd_and_programs_from_subdirectories(xv6):
    assert xv6.run("mkdir dir1") == ""
    assert xv6.run("mkdir dir1") == "mkdir: cannot create dir1\n"
    assert xv6.run("cd dir1") == ""
    assert xv6.run("echo inside > g") == ""
    entries = parse_ls(xv6.run("ls"))                # found as /ls
    assert sorted(entries) == [".", "..", "g"]
    assert entries["."][0] == 1 and entries[".."][0:2] == (1, 1)
    assert entries["g"][0] == 2 and entries["g"][2] == 7
    assert xv6.run("cat ../dir1/g") == "inside\n"
    assert xv6.run("cd ..") == ""
    assert xv6.run("cat dir1/g") == "inside\n"
    assert xv6.run("cd nosuch") == "sh: cd: cannot change to nosuch\n"
    assert xv6.run("cd dir1/g") == "sh: cd: cannot change to dir1/g\n"
    # cd inside a subshell does not move the shell.
    assert xv6.run("(cd dir1; cat g)") == "inside\n"
    assert xv6.run("cat g") == "fresh\n"
    assert xv6.run("cd dir1; cat g; cd /") == "inside\n"


def test_ls_shows_names_of_full_length(xv6):
    # A DIRSIZ (14) character name fills its directory slot with no
    # terminator on disk.
    assert xv6.run("mkdir long; echo x > long/abcdefghijklmn; echo y > long/z") == ""
    entries = parse_ls(xv6.run("ls long"))
    assert sorted(entries) == [".", "..", "abcdefghijklmn", "z"]
    assert entries["abcdefghijklmn"][0::2] == (2, 2)
    assert xv6.run("cat long/abcdefghijklmn long/z") == "x\ny\n"


def test_names_longer_than_dirsiz_are_cut(xv6):
    # Path lookup keeps the first DIRSIZ (14) bytes of each name, both when
    # a file is created and when it is looked up.
    assert xv6.run("mkdir cut; echo w > cut/abcdefghijklmnopqr") == ""
    assert sorted(parse_ls(xv6.run("ls cut"))) == [".", "..", "abcdefghijklmn"]
    assert xv6.run("cat cut/abcdefghijklmnXYZ //cut//abcdefghijklmn/") == "w\nw\n"

def test_ln_and_rm(xv6):
    assert xv6.run("ln f f2") == ""
    assert xv6.run("rm f") == ""
    assert xv6.run("cat f2") == "hello\nsecond line\n"
    assert xv6.run("rm f2") == ""
    assert xv6.run("cat f2") == "cat: cannot open f2\n"
    assert xv6.run("rm dir1") == "rm: cannot remove dir1\n"   # not empty
    assert xv6.run("rm dir1/g; rm dir1") == ""
    assert xv6.run("ls dir1") == "ls: cannot open dir1\n"


def test_background_jobs(xv6):
    # The shell does not wait for '&' jobs: a 10 s sleep (at 10 ms per
    # tick) returns the prompt at once.
    start = time.monotonic()
    out = xv6.run("sleep 1000 &", timeout=5)
    assert time.monotonic() - start < 5
    found = re.fullmatch(r"\[(\d+)\]\n", out)
    assert found, f"background job announcement {out!r}"
    pid = int(found.group(1))
    assert xv6.run("echo meanwhile") == "meanwhile\n"
    assert xv6.run(f"kill {pid}") == ""
    assert xv6.run(f"kill {pid}") in ("", f"kill: no process {pid}\n")
    # Background output arrives on its own.
    out = xv6.run("(echo bg > bgout) &")
    assert re.fullmatch(r"\[\d+\]\n", out), out
    for _ in range(50):
        if xv6.run("cat bgout") == "bg\n":
            break
        time.sleep(0.1)
    assert xv6.run("cat bgout") == "bg\n"


def test_scripts_run_without_prompts(xv6):
    assert xv6.run("echo echo from a script > script; echo 'cat fruits | wc' >> script") == ""
    assert xv6.run("sh < script") == "from a script\n4 5 32\n"
    assert xv6.run("cat script | sh") == "from a script\n4 5 32\n"
    assert xv6.run("echo nosuch | sh") == "sh: cannot run nosuch\n"


def test_errors_do_not_kill_the_shell(xv6):
    assert xv6.run("nosuch") == "sh: cannot run nosuch\n"
    assert xv6.run("echo a |") == "sh: syntax error near end of line\n"
    assert xv6.run("| echo a") == "sh: syntax error near '|'\n"
    assert xv6.run("echo a ; ; echo b") == "sh: syntax error near ';'\n"
    assert xv6.run("echo >") == "sh: missing file name after '>'\n"
    assert xv6.run("(echo a") == "sh: syntax error near end of line\n"
    assert xv6.run("echo a)") == "sh: syntax error near ')'\n"
    assert xv6.run("echo \"abc") == "sh: missing closing \"\n"
    assert xv6.run("kill 9999") == "kill: no process 9999\n"
    assert xv6.run("echo " + "a " * 40) == "sh: too many arguments\n"
    assert xv6.run("echo;" * 17) == "sh: too many commands in one line\n"
    assert xv6.run("echo x > /") == "sh: cannot open /\n"
    assert xv6.run("echo x > a > b > c > d > e") == "sh: too many redirections\n"
    assert xv6.run("") == ""
    assert xv6.run("   ") == ""
    assert xv6.run("echo alive") == "alive\n"


def test_shell_survives_random_lines(xv6):
    # Random lines over the shell's special characters (no '&', whose
    # late output would interleave) must each end in a new prompt, with
    # no process killed by a trap and no shell restart.
    # Runs in a directory of its own so that "> ls" cannot hit /ls.
    rng = random.Random(1234)
    alphabet = ["a", "b", " ", "|", "<", ">", ">>", ";", "(", ")", "'", '"', "ls"]
    assert xv6.run("mkdir /rnd; cd /rnd") == ""
    seen = []
    for _ in range(150):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 20)))
        out = xv6.run(line, timeout=10)
        seen.append(f"{line!r} -> {out!r}")
        assert "killed" not in out and "init: starting sh" not in out, "\n".join(seen)
    assert xv6.run("cd /; echo alive") == "alive\n"


def test_console_line_editing(xv6):
    # DEL erases the character before it; the shell sees "echo abc".
    xv6.send("echo abX\x7fc\n")
    out = xv6.expect(xv6_console.PROMPT)
    assert out.endswith("abc\n"), out


def test_harness_timeout_reports_transcript(xv6):
    with pytest.raises(ConsoleError) as err:
        xv6.expect("this text never appears", timeout=1)
    message = str(err.value)
    assert "timeout after 1s" in message
    assert "init: starting sh" in message            # the whole transcript


def test_exit_and_end_of_file_restart_the_shell(xv6):
    # Both `exit` and ^D end the shell; init starts a new one, in /.
    assert xv6.run("mkdir dir2; cd dir2; exit") == "init: starting sh\n"
    assert xv6.run("cat fruits | wc") == "4 5 32\n"
    assert xv6.run("exit 3") == "init: starting sh\n"
    xv6.send("\x04")
    assert xv6.expect(xv6_console.PROMPT) == "init: starting sh\n"
    assert xv6.run("echo still here") == "still here\n"
