"""Bare-metal SoC programs on the CXXRTL engine, and cycle-exact agreement with pysim.

The programs are the SoC engineer's (tests/soc/programs); here they run through
sim/engine.py: UART output, timer interrupts with idle skipping (CLINT and Sstc),
the block device against the in-memory disk, access faults, UART input, what a driver
written for QEMU virt does, and the claim watch that names an interrupt storm.  The
engines agree on everything, the retire records and DMA writes of ``run_retire``
included (tests/sim/test_retire_log.py checks the records themselves).
"""

from collections import namedtuple

import re

import pytest

from sim.elf import load_elf
from hw.core.perf import EVENTS, CycleClass
from sim.engine import STOP_LIMIT, STOP_RECORDS, STOP_TOHOST, STOP_TX, EngineError, make_engine
from soc.memmap import UART0_IRQ
from tests.soc.programs.build import build, have_toolchain

RAM = 32 << 20
DISK = bytes((7 * s + k) & 0xFF for s in range(16) for k in range(512))


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    if not have_toolchain():
        pytest.fail("riscv64-unknown-elf-gcc missing: run `make toolchain`", pytrace=False)
    out = tmp_path_factory.mktemp("simprogs")
    names = ("hello", "mtimer", "sstc", "uart_rx", "virtio", "fault", "qemu_driver", "uart_storm")
    return {n: load_elf(str(build(n, out, ram_size=RAM))) for n in names}


Run = namedtuple("Run", "reason out stats disk records dma stops")


def run_program(engine_name, image, max_cycles=100_000, batch=None):
    """Run ``image`` to tohost; with ``batch``, by run_retire calls of up to that many
    records, collecting the records, the DMA writes and each call's stop reason."""
    e = make_engine(engine_name, ram_size=RAM)
    e.load(image)
    e.set_tohost(image.tohost)
    e.set_disk(DISK)
    records, dma, stops = [], [], []
    if batch is None:
        reason = e.run(max_cycles)
    else:
        reason = STOP_RECORDS
        while reason == STOP_RECORDS:
            b = e.run_retire(batch, max_cycles - e.stats().cycles)
            assert len(b.records) == batch if b.stop == STOP_RECORDS else len(b.records) < batch
            records += b.records
            dma += b.dma
            stops.append(b.stop)
            reason = b.stop
    out = e.tx_take()
    disk = e.disk_image()
    stats = e.stats()
    e.close()
    return Run(reason, out, stats, disk, records, dma, stops)


def test_hello(cxxrtl_model, programs):
    reason, out, s, *_ = run_program("cxxrtl", programs["hello"])
    assert (reason, s.tohost) == (STOP_TOHOST, 1)
    assert out == b"hello, soc\n"
    assert s.traps == 0 and s.instret > 50


def test_timer_interrupts_skip_idle_time(cxxrtl_model, programs):
    reason, _, s, *_ = run_program("cxxrtl", programs["mtimer"])
    assert (reason, s.tohost, s.traps) == (STOP_TOHOST, 1, 2)
    assert s.wfi_skips == 1 and s.skipped_ticks > 0
    # the skipped ticks show up in mtime, not in cycles
    assert s.mtime == s.cycles + s.skipped_ticks


def test_sstc_timer_is_skipped_to(cxxrtl_model, programs):
    reason, _, s, *_ = run_program("cxxrtl", programs["sstc"])
    assert (reason, s.tohost, s.traps) == (STOP_TOHOST, 1, 1)
    assert s.wfi_skips == 1


def test_no_skipping_when_disabled(cxxrtl_model, programs):
    e = make_engine("cxxrtl", ram_size=RAM)
    e.load(programs["mtimer"])
    e.set_tohost(programs["mtimer"].tohost)
    assert e.run(100_000, skip_wfi=False) == STOP_TOHOST
    s = e.stats()
    assert s.wfi_skips == 0 and s.mtime == s.cycles


def test_virtio_block_device(cxxrtl_model, programs):
    reason, _, s, disk, *_ = run_program("cxxrtl", programs["virtio"])
    assert (reason, s.tohost) == (STOP_TOHOST, 1)
    assert (s.sectors_read, s.sectors_written) == (2, 1)
    changed = [n for n in range(16) if disk[512 * n:512 * n + 512] != DISK[512 * n:512 * n + 512]]
    assert len(changed) == 1


def test_access_faults(cxxrtl_model, programs):
    reason, _, s, *_ = run_program("cxxrtl", programs["fault"])
    assert (reason, s.tohost, s.traps) == (STOP_TOHOST, 1, 4)


def test_what_a_qemu_virt_driver_does(cxxrtl_model, programs):
    # QEMU's vendor ID; THRE acknowledged by IIR read (1 interrupt), by THR writes
    # (5 bytes + 1), and not at all (raised again 3 times, then acknowledged).
    reason, out, s, *_ = run_program("cxxrtl", programs["qemu_driver"])
    assert (reason, s.tohost) == (STOP_TOHOST, 1)
    assert out == b"thre\n"
    assert s.traps == 1 + 6 + 4
    # No user mode in the program: the claim watch counts every claim.
    assert (s.user_instret, s.claim_source, s.claim_streak) == (0, UART0_IRQ, 11)


def test_claim_watch_counts_a_storm(cxxrtl_model, programs):
    # 30 claims of the UART's interrupt, two user-mode instructions (which restart
    # the count), 20 claims.
    reason, _, s, *_ = run_program("cxxrtl", programs["uart_storm"])
    assert (reason, s.tohost) == (STOP_TOHOST, 1)
    assert s.traps == 30 + 1 + 20                  # the interrupts and the ecall
    assert s.user_instret == 2
    assert (s.claim_source, s.claim_streak) == (UART0_IRQ, 20)


def uart_dialogue(engine_name, image, delay=1000):
    """Wait for the program's '?', ``delay`` cycles more, then type 'ok'."""
    e = make_engine(engine_name, ram_size=RAM)
    e.load(image)
    e.set_tohost(image.tohost)
    assert e.run(20_000, stop_on_tx=True) == STOP_TX
    assert e.tx_take() == b"?"
    if delay:
        assert e.run(delay) == STOP_LIMIT
    e.rx_push(b"ok")
    reason = e.run(40_000)
    return reason, e.stats()


def test_uart_input(cxxrtl_model, programs):
    reason, s = uart_dialogue("cxxrtl", programs["uart_rx"])
    assert (reason, s.tohost) == (STOP_TOHOST, 1)


@pytest.mark.parametrize("delay", [0, 7, 23])
def test_uart_input_at_any_moment(cxxrtl_model, programs, delay):
    # Typed while the program is still setting up or between its check and its wfi:
    # it checks with interrupts masked, so no wakeup is lost.
    reason, s = uart_dialogue("cxxrtl", programs["uart_rx"], delay)
    assert (reason, s.tohost) == (STOP_TOHOST, 1)


def test_cycle_limit(cxxrtl_model, programs):
    e = make_engine("cxxrtl", ram_size=RAM)
    e.load(programs["uart_rx"])
    e.set_tohost(programs["uart_rx"].tohost)
    assert e.run(3000) == STOP_LIMIT
    assert e.stats().cycles == 3000


@pytest.mark.parametrize("name", ["hello", "mtimer", "sstc", "virtio", "fault", "qemu_driver",
                                  "uart_storm"])
def test_engines_agree(cxxrtl_model, programs, name):
    # In run_retire calls of 97 records: a run in pieces, stopped at a record count.
    fast = run_program("cxxrtl", programs[name], batch=97)
    exact = run_program("pysim", programs[name], batch=97)
    assert fast.reason == exact.reason == STOP_TOHOST
    assert fast.out == exact.out               # console output
    assert fast.stats == exact.stats           # cycles, instructions, traps, skips, mtime...
    assert fast.disk == exact.disk             # disk contents
    assert fast.records == exact.records       # every retire record
    assert fast.dma == exact.dma               # every DMA write
    assert fast.stops == exact.stops
    assert len(fast.records) == fast.stats.instret + fast.stats.traps


def test_engines_agree_on_uart_input(cxxrtl_model, programs):
    assert uart_dialogue("cxxrtl", programs["uart_rx"]) == uart_dialogue("pysim", programs["uart_rx"])


def test_model_has_no_feedback_wires(cxxrtl_model):
    # A feedback wire makes CXXRTL settle every cycle twice (half the speed); the build
    # splits the known ones (FEEDBACK_WIRES).  A design change that adds one fails here.
    from sim.cxxrtl.build import feedback_wires
    log = (cxxrtl_model.parent / "yosys.log").read_text()
    assert "contains feedback arcs" not in log, feedback_wires(log)
    assert "buffered combinatorial wires" not in log


def test_feedback_wire_report_is_parsed():
    from sim.cxxrtl.build import feedback_wires
    log = ("Module `soc' contains feedback arcs through wires:\n  core.a\n  decoder.b\n"
           "Module `soc' contains buffered combinatorial wires:\n  plic.x\n")
    assert feedback_wires(log) == ["core.a", "decoder.b"]


def test_training_run_reports_bad_input(cxxrtl_model, tmp_path):
    # The profiling run of the build (sim/cxxrtl/train.py) fails with a message, not a
    # traceback, on a bad kernel; and prints its usage when called wrongly.
    import subprocess
    import sys
    bad = tmp_path / "kernel"
    bad.write_bytes(b"not an elf")
    disk = tmp_path / "fs.img"
    disk.write_bytes(bytes(1024))
    r = subprocess.run([sys.executable, "-m", "sim.cxxrtl.train", str(cxxrtl_model), str(bad),
                        str(disk), "1000"], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr == f"training run failed: {bad}: not an ELF file\n"
    r = subprocess.run([sys.executable, "-m", "sim.cxxrtl.train"], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr == "usage: python -m sim.cxxrtl.train LIB KERNEL DISK CYCLES\n"


def test_training_run_ends_at_the_prompt(cxxrtl_model, xv6_files):
    # The profile is of the boot's work: the run stops at the first prompt, or at the
    # cycle limit when the prompt has not come by then.
    from sim.cxxrtl.train import train
    kernel, fs = xv6_files
    cycles, prompt = train(cxxrtl_model, kernel, fs, 3_000_000)
    assert prompt and 100_000 < cycles < 3_000_000
    assert train(cxxrtl_model, kernel, fs, 50_000) == (50_000, False)


def test_memory_writes_are_edited_to_masked_updates():
    # edit_memory_writes (sim/cxxrtl/build.py): CXXRTL's unconditional memory writes go
    # through the driver's masked_update, which drops those with an all-zero mask and
    # computes the data (a lambda) only for the others.
    from sim.cxxrtl.build import BuildError, edit_memory_writes
    text = ("\t// memory \\ram.mem write port 0\n"
            "\t\tmemory_p_ram_2e_mem.update(tmp_1.index, p_d.slice<63,2>().concat(p_e).val(), "
            "p_en.repeat<64>().val(), 0);\n"
            "\t\ttmp_2 = tmp_2.update(p_d, p_m);\n")
    assert edit_memory_writes(text) == (
        "\t// memory \\ram.mem write port 0\n"
        "\t\tif (!p_en.is_zero()) "
        "masked_update(memory_p_ram_2e_mem, tmp_1.index, p_en.repeat<64>().val(), 0, "
        "[&] { return p_d.slice<63,2>().concat(p_e).val(); });\n"
        "\t\ttmp_2 = tmp_2.update(p_d, p_m);\n")
    # A mask of byte lanes is assembled only when its enable is not zero; a mask that
    # is more than one signal's bits is assembled every time.
    lanes = ("p_en.curr.slice<1>().val().repeat<7>().concat(p_en.curr.slice<1,0>())"
             ".concat(p_en.curr.slice<0>().val().repeat<7>())")
    assert edit_memory_writes(f"\tmemory_p_m.update(tmp_1.index, p_d, {lanes}, 0);\n") == (
        f"\tif (!p_en.curr.is_zero()) masked_update(memory_p_m, tmp_1.index, {lanes}, 0, "
        "[&] { return p_d; });\n")
    for mask in ("p_en.concat(p_f).val()", "not_u<8>(p_en)"):
        assert edit_memory_writes(f"\tmemory_p_m.update(tmp_1.index, p_d, {mask}, 0);\n") == (
            f"\tmasked_update(memory_p_m, tmp_1.index, {mask}, 0, [&] {{ return p_d; }});\n")
    with pytest.raises(BuildError, match="no memory write found"):
        edit_memory_writes("\t// memory \\ram.mem write port 0\n")
    with pytest.raises(BuildError, match="unexpected memory write"):
        edit_memory_writes("\t\tmemory_p_x.update(tmp_1.index, p_d, 0);\n")


COMMIT = ("\ttemplate<class ObserverT>\n"
          "\tbool commit(ObserverT &observer) {\n"
          "\t\tbool changed = false;\n"
          "\t\tprev_p_clk = p_clk;\n"
          "\t\tif (p_core_2e_pc.commit(observer)) changed = true;\n"
          "\t\tif (p_uart_2e_q0.commit(observer)) changed = true;\n"
          "\t\tif (memory_p_ram_2e_mem.commit(observer)) changed = true;\n"
          "\t\treturn changed;\n"
          "\t}\n"
          "\n"
          "\tbool commit() override {\n")


def test_model_gets_a_commit_without_change_tracking():
    # add_plain_commit (sim/cxxrtl/build.py): commit_plain() copies every register's
    # next value and commits every memory, without comparing (driver.cc calls it after
    # an evaluation that settled).
    from sim.cxxrtl.build import BuildError, add_plain_commit
    assert add_plain_commit(COMMIT) == COMMIT.replace("\tbool commit() override {\n", (
        "\tvoid commit_plain() {\n"
        "\t\tobserver observer;\n"
        "\t\tprev_p_clk = p_clk;\n"
        "\t\tp_core_2e_pc.curr = p_core_2e_pc.next;\n"
        "\t\tp_uart_2e_q0.curr = p_uart_2e_q0.next;\n"
        "\t\tmemory_p_ram_2e_mem.commit(observer);\n"
        "\t}\n"
        "\n"
        "\tbool commit() override {\n"))
    with pytest.raises(BuildError, match="unexpected line"):
        add_plain_commit(COMMIT.replace("\t\tprev_p_clk = p_clk;\n", "\t\tp_x = 1;\n"))
    with pytest.raises(BuildError, match="no commit"):
        add_plain_commit(COMMIT.replace("bool changed", "bool any"))


def test_register_holds_are_edited_to_ifs():
    # edit_register_holds (sim/cxxrtl/build.py): the arms of a register's multiplexer
    # chain that keep its value assign nothing (next equals curr between evaluations).
    from sim.cxxrtl.build import edit_register_holds, split_conditional
    assert split_conditional("(p_a ? (p_b ? p_c : p_d) : value<2>{0u})") == (
        "p_a", "(p_b ? p_c : p_d)", "value<2>{0u}")
    assert split_conditional("(p_a) ? p_b : p_c") == ("(p_a)", "p_b", "p_c")
    assert split_conditional("p_a ? p_b ? p_c : p_d : p_e") == ("p_a", "p_b ? p_c : p_d", "p_e")
    assert split_conditional("add_uu<8>(p_a, p_b)") is None
    text = ("\tif (posedge_p_clk) {\n"
            "\t\tp_r.next = (p_rst ? value<8>{0u} : (p_we ? (p_hi ? p_d.slice<15,8>().val() "
            ": p_d.slice<7,0>().val()) : p_r.curr));\n"
            "\t\tp_s.next = (p_go ? p_s.curr : add_uu<4>(p_s.curr, value<1>{0x1u}));\n"
            "\t\tp_t.next = (p_go ? p_t.curr : p_t.curr);\n"
            "\t\tp_u.next = (p_go ? p_x.curr : p_u__d);\n"
            "\t\tp_v.next = p_v.curr.slice<2,0>().concat(p_w).val();\n"
            "\t}\n")
    assert edit_register_holds(text) == (
        "\tif (posedge_p_clk) {\n"
        "\t\tif (bool(p_rst)) {\n"
        "\t\t\tp_r.next = value<8>{0u};\n"
        "\t\t} else {\n"
        "\t\t\tif (bool(p_we)) {\n"
        "\t\t\t\tp_r.next = (p_hi ? p_d.slice<15,8>().val() : p_d.slice<7,0>().val());\n"
        "\t\t\t}\n"
        "\t\t}\n"
        "\t\tif (!bool(p_go)) {\n"
        "\t\t\tp_s.next = add_uu<4>(p_s.curr, value<1>{0x1u});\n"
        "\t\t}\n"
        "\t\t// p_t always keeps its value\n"
        "\t\tp_u.next = (p_go ? p_x.curr : p_u__d);\n"
        "\t\tp_v.next = p_v.curr.slice<2,0>().concat(p_w).val();\n"
        "\t}\n")


DIRECT_EVAL = ("bool p_top::eval(performer *performer) {\n"
               "\tbool converged = true;\n"
               "\tbool posedge_p_clk = this->posedge_p_clk();\n"
               "\tvalue<1> i_x;\n"
               "\ti_x = p_in;\n"
               "\t// cell a\n"
               "\tif (posedge_p_clk) {\n"
               "\t\tp_a.next = p_b.curr;\n"
               "\t}\n"
               "\t// cell b\n"
               "\tif (posedge_p_clk) {\n"
               "\t\tp_b.next = add_uu<4>(p_b.curr, value<1>{0x1u});\n"
               "\t}\n"
               "\tp_out = p_a.curr;\n"
               "\tif (posedge_p_clk) {\n"
               "\t\tp_c.next = p_d.curr;\n"
               "\t}\n"
               "\tif (posedge_p_clk) {\n"
               "\t\tif (bool(i_x)) {\n"
               "\t\t\tp_d.next = p_c.curr;\n"
               "\t\t}\n"
               "\t}\n"
               "\treturn converged;\n"
               "}\n")
DIRECT_COMMIT = ("\tbool commit(ObserverT &observer) {\n"
                 "\t\tbool changed = false;\n"
                 + "".join(f"\t\tif (p_{r}.commit(observer)) changed = true;\n" for r in "abcd") +
                 "\t\treturn changed;\n"
                 "\t}\n"
                 "\tvoid commit_plain() {\n"
                 "\t\tobserver observer;\n"
                 + "".join(f"\t\tp_{r}.curr = p_{r}.next;\n" for r in "abcd") +
                 "\t}\n"
                 "\n"
                 "\tbool commit() override {\n")


def test_registers_are_edited_to_direct_writes():
    # edit_direct_registers (sim/cxxrtl/build.py): the combinational statements first,
    # then the register blocks, each block that reads a register's current value before
    # the block that writes it; a register written straight into `curr` leaves the
    # commits.  c and d read each other: c (the first of the cycle) keeps its `next`.
    from sim.cxxrtl.build import BuildError, edit_direct_registers
    out = edit_direct_registers(DIRECT_COMMIT + "};\n\n" + DIRECT_EVAL)
    assert out == (
        "\tbool commit(ObserverT &observer) {\n"
        "\t\tbool changed = false;\n"
        "\t\tif (p_c.commit(observer)) changed = true;\n"
        "\t\treturn changed;\n"
        "\t}\n"
        "\tvoid commit_plain() {\n"
        "\t\tobserver observer;\n"
        "\t\tp_c.curr = p_c.next;\n"
        "\t}\n"
        "\n"
        "\t// the registers the evaluation writes straight into their current value\n"
        "\t// (sim/cxxrtl/build.py edit_direct_registers)\n"
        "\tvoid direct_registers(std::vector<const cxxrtl::chunk_t *> &out) const {\n"
        "\t\tout.push_back(p_a.curr.data);\n"
        "\t\tout.push_back(p_b.curr.data);\n"
        "\t\tout.push_back(p_d.curr.data);\n"
        "\t}\n"
        "\n"
        "\tbool commit() override {\n"
        "};\n"
        "\n"
        "bool p_top::eval(performer *performer) {\n"
        "\tbool converged = true;\n"
        "\tbool posedge_p_clk = this->posedge_p_clk();\n"
        "\tvalue<1> i_x;\n"
        "\ti_x = p_in;\n"
        "\tp_out = p_a.curr;\n"
        "\t// cell a\n"
        "\tif (posedge_p_clk) {\n"
        "\t\tp_a.curr = p_b.curr;\n"
        "\t}\n"
        "\t// cell b\n"
        "\tif (posedge_p_clk) {\n"
        "\t\tp_b.curr = add_uu<4>(p_b.curr, value<1>{0x1u});\n"
        "\t}\n"
        "\tif (posedge_p_clk) {\n"
        "\t\tp_c.next = p_d.curr;\n"
        "\t}\n"
        "\tif (posedge_p_clk) {\n"
        "\t\tif (bool(i_x)) {\n"
        "\t\t\tp_d.curr = p_c.curr;\n"
        "\t\t}\n"
        "\t}\n"
        "\treturn converged;\n"
        "}\n")
    # a register read after its own write in its block stays in the commit
    late = DIRECT_EVAL.replace("\t\tp_b.next = add_uu<4>(p_b.curr, value<1>{0x1u});\n",
                               "\t\tp_b.next = p_in;\n\t\tp_x = p_b.curr;\n")
    out = edit_direct_registers(DIRECT_COMMIT + "};\n\n" + late)
    assert "p_b.next = p_in;" in out and "out.push_back(p_b" not in out
    with pytest.raises(BuildError, match="no eval"):
        edit_direct_registers(DIRECT_COMMIT)
    # a wire that a combinational statement writes through `next` (CXXRTL's buffered
    # feedback wires) stays in the commit
    out = edit_direct_registers(DIRECT_COMMIT + "};\n\n" + DIRECT_EVAL.replace(
        "\tp_out = p_a.curr;", "\tp_out = p_a.curr;\n\tp_d.next = p_in;"))
    assert "out.push_back(p_d" not in out and "\t\tp_d.curr = p_d.next;" in out


def test_model_has_direct_registers(cxxrtl_model):
    model = (cxxrtl_model.parent / "model.cc").read_text()
    direct = re.findall(r"out\.push_back\((p_\w+)\.curr\.data\);", model)
    assert len(direct) > 600
    for reg in direct:
        assert f"{reg}.next" not in model and f"{reg}.curr = " in model


def test_model_has_register_holds_as_ifs(cxxrtl_model):
    model = (cxxrtl_model.parent / "model.cc").read_text()
    # no register update is a multiplexer chain with an arm that keeps the value ...
    assert not re.search(r"(p_\w+)\.next = \(.*[?:] \(*\1\.curr\)", model)
    # ... and most registers had one
    assert model.count("if (bool(") > 500


def test_model_has_a_plain_commit(cxxrtl_model):
    model = (cxxrtl_model.parent / "model.cc").read_text()
    plain = model[model.index("void commit_plain() {"):model.index("bool commit() override {")]
    registers = model.count(".commit(observer)) changed = true;") - plain.count(".commit(")
    # the registers the evaluation does not write directly (edit_direct_registers)
    assert plain.count(".curr = ") == registers < 50


def test_shifts_are_edited_to_fast_shifts():
    # edit_shifts (sim/cxxrtl/build.py): shifts by a signal call driver.cc's
    # fast_shl_uu/fast_shr_uu; other operations (arithmetic shifts, $shift cells) and
    # names that merely end in the same letters stay.
    from sim.cxxrtl.build import edit_shifts
    text = ("\tp_a = shr_uu<64>(p_b.curr, p_s.slice<2,0>().concat(value<3>{0u}).val());\n"
            "\tp_c = shl_uu<127>(i_w, shr_uu<6>(p_d, p_e));\n"
            "\tp_f = sshr_su<64>(p_g, p_h); p_i = shift_uu<1>(p_j, p_k);\n")
    assert edit_shifts(text) == (
        "\tp_a = fast_shr_uu<64>(p_b.curr, p_s.slice<2,0>().concat(value<3>{0u}).val());\n"
        "\tp_c = fast_shl_uu<127>(i_w, fast_shr_uu<6>(p_d, p_e));\n"
        "\tp_f = sshr_su<64>(p_g, p_h); p_i = shift_uu<1>(p_j, p_k);\n")


def test_model_shifts_are_fast_shifts(cxxrtl_model):
    model = (cxxrtl_model.parent / "model.cc").read_text()
    assert not re.search(r"(?<!fast_)sh[lr]_uu<", model)
    # the core's load aligners and store positioner, at least
    assert model.count("fast_shr_uu<64>(") >= 3 and "fast_shl_uu<127>(" in model


# Every width the xv6 SoC's model shifts (result, operand, amount), and a few beyond:
# operands and results of one chunk, two, three and four, amounts narrower and wider
# than a chunk, results narrower and wider than the operand.
SHIFT_CASES = [(1, 4, 2), (4, 1, 2), (15, 8, 3), (16, 64, 4), (32, 1, 5), (6, 1, 3),
               (7, 1, 3), (8, 1, 3), (64, 64, 6), (127, 64, 6), (64, 128, 6), (64, 64, 64),
               (100, 33, 7), (33, 100, 7), (4, 1, 32), (1, 4, 40), (64, 127, 7),
               (127, 127, 7), (63, 40, 8), (200, 64, 8), (64, 200, 8), (64, 64, 65)]


def test_fast_shifts_equal_cxxrtls(tmp_path):
    # driver.cc's fast_shl_uu/fast_shr_uu against CXXRTL's shl_uu/shr_uu on random
    # operands and amounts (0 up to past the width, and random ones of the amount's
    # full width), compiled with the driver's own definitions.
    import subprocess
    from sim.cxxrtl.build import CXX, DRIVER, runtime_include
    src = DRIVER.read_text()
    helpers = src[src.index("namespace fast_shift {"):src.index('#include "model.cc"')]
    checks = []
    for y, a, b in SHIFT_CASES:
        checks.append(f"""
	for (int i = 0; i < 4000; i++) {{
		value<{a}> va; value<{b}> vb;
		fill(va); fill(vb);
		if (i % 2) {{ value<{b}> small; small.data[0] = rnd() % {max(y, a) + 3}u; vb = small; }}
		if (fast_shl_uu<{y}>(va, vb) != cxxrtl_yosys::shl_uu<{y}>(va, vb)) {{ std::printf("shl {y} {a} {b}\\n"); bad++; }}
		if (fast_shr_uu<{y}>(va, vb) != cxxrtl_yosys::shr_uu<{y}>(va, vb)) {{ std::printf("shr {y} {a} {b}\\n"); bad++; }}
	}}""")
    program = ("#include <cxxrtl/cxxrtl.h>\n#include <cstdio>\n#include <random>\n" + helpers +
               "using cxxrtl::value;\nstatic std::mt19937 gen(1);\n"
               "static uint32_t rnd() { return uint32_t(gen()); }\n"
               "template<size_t N> void fill(value<N> &v) {\n"
               "\tfor (size_t n = 0; n < v.chunks; n++) v.data[n] = rnd();\n"
               "\tv.data[v.chunks - 1] &= v.msb_mask;\n}\n"
               "int main() {\n\tint bad = 0;" + "".join(checks) +
               "\n\tstd::printf(\"%d bad\\n\", bad);\n\treturn bad != 0;\n}\n")
    (tmp_path / "t.cc").write_text(program)
    subprocess.run([CXX, "-std=c++17", "-O1", "-w", "-I", str(runtime_include()), "t.cc",
                    "-o", "t"], cwd=tmp_path, check=True)
    out = subprocess.run([str(tmp_path / "t")], capture_output=True, text=True)
    assert out.stdout == "0 bad\n" and out.returncode == 0


def test_model_has_no_reset_input(cxxrtl_model):
    # The reset is tied off in the simulation model (RESET_TIED_OFF in the build): no
    # register's next value tests it, and the debug items have no `rst` the driver
    # could set (the engines never reset; the registers start at their init values).
    model = (cxxrtl_model.parent / "model.cc").read_text()
    assert "p_rst" not in model
    # (the pc's register is written directly: edit_direct_registers)
    assert "p_core_2e_fetch_2e_pc.curr = " in model


def test_benchmark_counters_are_counted_by_the_driver(cxxrtl_model, programs):
    # The model keeps none of the core's 33 benchmark counters (PERF_PORTS in the
    # build): it keeps the cycle's class and the event bits, and the driver counts them;
    # peek("core perf_<name>") reads the counts as it read the counters.
    model = (cxxrtl_model.parent / "model.cc").read_text()
    assert "p_core_2e_perf__retire" not in model and "p_core_2e_perf__dhit" not in model
    assert "p_core_2e_perf__class" in model
    e = make_engine("cxxrtl", ram_size=RAM)
    e.load(programs["virtio"])
    e.set_tohost(programs["virtio"].tohost)
    e.set_disk(DISK)
    assert e.run(100_000) == STOP_TOHOST
    s = e.stats()
    classes = {c: e.peek(f"core {c.counter}") for c in CycleClass}
    events = {n: e.peek(f"core perf_{n}") for n in EVENTS}
    # perf_counters() gives all of them from one call, the same values as the peeks
    assert e.perf_counters() == {**{c.counter[5:]: classes[c] for c in CycleClass}, **events}
    # every cycle is charged to one class; RETIRE counts the instructions M committed
    # (the retirement port reports the last of them an edge later)
    assert sum(classes.values()) == s.cycles
    assert s.instret <= classes[CycleClass.RETIRE] <= s.instret + 1
    assert classes[CycleClass.UNCACHED] > 0 and classes[CycleClass.ICACHE_MISS] > 0
    assert events["ihit"] + events["imiss"] > s.instret // 2
    assert events["dhit"] > 0 and events["branch"] >= events["mispred"] > 0
    assert events["itlb_miss"] == events["dtlb_miss"] == events["pte_read"] == 0   # bare
    # a second run goes on counting from there (tohost stops it after its first edge)
    e.run(1000)
    assert sum(e.peek(f"core {c.counter}") for c in CycleClass) == e.stats().cycles == s.cycles + 1
    with pytest.raises(EngineError):
        e.peek("core perf_nothing")
    e.close()


def test_model_writes_memories_through_masked_update(cxxrtl_model):
    model = (cxxrtl_model.parent / "model.cc").read_text()
    assert "masked_update(memory_p_ram_2e_mem, " in model
    assert ".update(" not in "".join(line for line in model.splitlines()
                                     if "memory_" in line and "masked_update" not in line)


SLOW_RAM = 1 << 20          # a small RAM: the latency model is built without a profile


@pytest.fixture(scope="module")
def slow_ram_programs(tmp_path_factory):
    if not have_toolchain():
        pytest.fail("riscv64-unknown-elf-gcc missing: run `make toolchain`", pytrace=False)
    out = tmp_path_factory.mktemp("slowram")
    return {n: load_elf(str(build(n, out, ram_size=SLOW_RAM))) for n in ("hello", "virtio")}


def run_with_latency(engine_name, image, latency):
    e = make_engine(engine_name, ram_size=SLOW_RAM, soc_args={"ram_latency": latency})
    e.load(image)
    e.set_tohost(image.tohost)
    e.set_disk(DISK)
    reason = e.run(200_000)
    result = reason, e.tx_take(), e.stats(), e.disk_image()
    e.close()
    return result


def test_ram_latency_reaches_the_compiled_model(programs):
    """The RAM latency (soc/ram.py) is part of the model's cache key."""
    from sim.cxxrtl.build import build_model
    from soc.soc import SoC
    assert build_model(SoC(ram_size=SLOW_RAM, ram_latency=3)) != build_model(SoC(ram_size=SLOW_RAM))


@pytest.mark.parametrize("name", ["hello", "virtio"])
def test_ram_latency_slows_the_program_and_engines_agree(slow_ram_programs, name):
    image = slow_ram_programs[name]
    fast = run_with_latency("cxxrtl", image, 1)
    slow = run_with_latency("cxxrtl", image, 3)
    exact = run_with_latency("pysim", image, 3)
    assert fast[0] == slow[0] == STOP_TOHOST and fast[2].tohost == slow[2].tohost == 1
    assert fast[1] == slow[1] and fast[3] == slow[3]            # same output, same disk
    if name == "hello":                     # (the virtio program polls: timing-dependent)
        assert slow[2].instret == fast[2].instret
    assert slow[2].cycles > fast[2].cycles
    assert slow == exact                                        # cycle for cycle
