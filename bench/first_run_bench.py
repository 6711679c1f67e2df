"""First-run benchmark: from `git clone` to the first `$ ` of `make sim`, step by step.

    python3 bench/first_run_bench.py [--repo PATH] [--dir DIR] [--then-tuned]

Clones the repository (default: this checkout's committed HEAD) into DIR (default a new
temporary directory), points YoWASP's cache (YOWASP_CACHE_DIR) and the build-time
records (XDG_CACHE_HOME) at empty directories, so that nothing from earlier runs
helps, and runs what a new user runs: `make setup`, then `make sim RUN="echo ok"`.
It prints the wall time of each step (setup; the kernel build, with YoWASP's
first-use compile of Yosys started in the background; each step of the model build,
from the simulator's own lines; the boot) and the time from the start of `make sim`,
and from the clone, to the first `$ `; CPU seconds of each make command (only the
processes it waits for: the background YoWASP compile and tuned build are not in it).

--then-tuned waits for the tuned model's background build, prints its steps, and
times a second `make sim RUN="echo ok"` (every later run).  The machine (CPU model,
cores, load average) is printed first: on a shared machine the wall times are high.
The toolchain (RISC-V GCC, QEMU) is not installed by the run if it is present.
"""

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Only modules that need no package outside the standard library: the benchmark runs
# with the system's python3, before the clone's `make setup` has made a venv.
from soc.fpga import children_cpu, cpu_model    # noqa: E402


def run(cmd, cwd, env, t_origin, echo=True):
    """Run cmd; returns (wall, cpu, [(seconds since t_origin, stream, line)], exit status)."""
    t0, c0 = time.monotonic(), children_cpu()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    lines = []

    def reader(stream, name):
        buf = b""
        while True:
            chunk = stream.read1(4096) if hasattr(stream, "read1") else stream.read(4096)
            if not chunk:
                break
            buf += chunk
            now = time.monotonic() - t_origin
            if name == "out" and b"$ " in buf and not any(n == "prompt" for _, n, _ in lines):
                lines.append((now, "prompt", ""))
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode("latin-1")
                lines.append((now, name, text))
                if echo:
                    print(f"    | {text}", flush=True)

    threads = [threading.Thread(target=reader, args=(proc.stdout, "out")),
               threading.Thread(target=reader, args=(proc.stderr, "err"))]
    for t in threads:
        t.start()
    status = proc.wait()
    for t in threads:
        t.join()
    return time.monotonic() - t0, children_cpu() - c0, sorted(lines, key=lambda x: x[0]), status


STEP = re.compile(r"^(?:\[sim\])?\s+(.+): (\d+ s \(\d+ s CPU\))$")


def report_steps(lines):
    for _, name, text in lines:
        m = STEP.match(text)
        if name == "err" and m:
            print(f"  {m.group(1)}: {m.group(2)}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repo", default=str(ROOT))
    p.add_argument("--dir", help="clone here (must not exist); default: a temporary directory")
    p.add_argument("--then-tuned", action="store_true",
                   help="also wait for the tuned model and time a second make sim")
    args = p.parse_args(argv)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}, Python {platform.python_version()}")
    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="rvxv6-first-run-"))
    clone = base / "rvxv6" if not args.dir else base
    caches = Path(tempfile.mkdtemp(prefix="rvxv6-caches-"))
    env = dict(os.environ, YOWASP_CACHE_DIR=str(caches / "yowasp"),
               XDG_CACHE_HOME=str(caches / "xdg"))
    env.pop("SIM_BACKGROUND_BUILD", None)
    t_origin = time.monotonic()
    wall, cpu, _, st = run(["git", "clone", "-q", args.repo, str(clone)], None, env, t_origin, False)
    print(f"git clone: {wall:.1f} s")
    rows = [("git clone", wall, cpu)]
    wall, cpu, lines, st = run(["make", "setup"], clone, env, t_origin, False)
    if st:
        print("make setup failed:\n" + "\n".join(t for _, _, t in lines[-20:]))
        return 1
    print(f"make setup (venv, pinned packages): {wall:.1f} s wall, {cpu:.1f} s CPU")
    rows.append(("make setup", wall, cpu))
    t_sim = time.monotonic()
    wall, cpu, lines, st = run(["make", "sim", "RUN=echo ok"], clone, env, t_origin)
    if st:
        print(f"make sim failed (exit {st})")
        return 1
    prompt = next((t for t, n, _ in lines if n == "prompt"), None)
    xv6_done = next((t for t, n, text in lines if "Leaving directory" in text and "/xv6" in text), None)
    print("make sim steps:")
    if xv6_done is not None:
        print(f"  make xv6 (kernel, user programs, fs.img): {xv6_done - (t_sim - t_origin):.0f} s")
    report_steps(lines)
    print(f"make sim: {wall:.1f} s wall, {cpu:.1f} s CPU (waited-for processes)")
    if prompt is not None:
        print(f"first '$ ': {prompt - (t_sim - t_origin):.1f} s after `make sim` started, "
              f"{prompt:.1f} s after `git clone` started")
    if args.then_tuned:
        tuned = next(clone.glob("build/sim/cxxrtl-*/tuned.lock"), None)
        md = tuned.parent if tuned else None
        while md and not (md / "tuned.so").exists():
            time.sleep(5)
        while md:
            try:
                import fcntl
                with open(md / "tuned.lock") as f:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                time.sleep(2)
        if md:
            print("tuned model (background build):")
            report_steps([(0, "err", t) for t in (md / "tuned.log").read_text().splitlines()])
        wall, cpu, lines, st = run(["make", "sim", "RUN=echo ok"], clone, env, time.monotonic(), False)
        first = next((t for _, _, t in lines if "first prompt after" in t), "")
        print(f"second make sim: {wall:.1f} s wall, {cpu:.1f} s CPU; {first.strip()}")
    print(f"clone kept in {clone}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
