"""The SoC programs (tests/soc/programs) under the lock-step comparison on the
compiled engine: devices (UART, CLINT, PLIC, virtio) answer on the RTL side and
their values are handed to the model; the block device's DMA writes are applied
to the model's RAM, which ends equal to the RTL's."""

import collections

import pytest

from sim.difftest.lockstep import Divergence
from sim.difftest.randprog import DMA_PAGES, VIRTIO, VQ_REQ, disk_for, generate
from sim.difftest.run import RTL_CONFIG, SOC_REGIONS, CheckedEngine, model_for, run_engine
from sim.elf import load_elf
from sim.engine import STOP_TX, CxxrtlEngine, make_engine
from tests.difftest.test_random import LOCKSTEP_SEEDS
from tests.soc.programs.build import build, have_toolchain


RAM = 32 << 20
DISK = bytes((7 * s + k) & 0xFF for s in range(16) for k in range(512))
PROGRAMS = ("hello", "mtimer", "sstc", "uart_rx", "virtio", "fault")


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    if not have_toolchain():
        pytest.fail("riscv64-unknown-elf-gcc missing: run `make toolchain`", pytrace=False)
    out = tmp_path_factory.mktemp("difftest_soc")
    return {n: load_elf(str(build(n, out, ram_size=RAM))) for n in PROGRAMS}


def lockstep(engine, image, type_after_prompt=None, disk=DISK, watch=None):
    """``image`` on ``engine`` against the model; ``watch(records, dma)``, if given,
    sees every batch."""
    engine.load(image)
    engine.set_tohost(image.tohost)
    engine.set_disk(disk)
    hart, lock = model_for(image, engine.ram_size, SOC_REGIONS)
    checked = CheckedEngine(engine, lock)
    if watch:
        feed = checked.feed

        def watched(records, dma, ad=()):
            watch(records, dma)
            feed(records, dma, ad)
        checked.feed = watched
    if type_after_prompt:
        assert checked.run(20_000, stop_on_tx=True) == STOP_TX
        assert engine.tx_take() == b"?"
        engine.rx_push(type_after_prompt)
    outcome = run_engine(engine, lock, max_cycles=500_000, checked=checked)
    return hart, lock, outcome


@pytest.mark.parametrize("name", PROGRAMS)
def test_soc_program_in_lockstep(cxxrtl_model, programs, name):
    engine = CxxrtlEngine(lib_path=cxxrtl_model)
    typed = b"ok" if name == "uart_rx" else None
    hart, lock, outcome = lockstep(engine, programs[name], typed)
    assert (outcome.stop, outcome.tohost) == ("tohost", 1)
    assert lock.checked == hart.order > 50    # the store's record came first (write buffer)
    assert hart.tohost == 1
    # the model's RAM is the RTL's, DMA writes included (the programs live in 64 KiB)
    assert engine.read_ram(0x8000_0000, 1 << 16) == bytes(hart.ram[:1 << 16])
    engine.close()


def test_without_the_dma_log_the_model_diverges(cxxrtl_model, programs, monkeypatch):
    """The DMA writes matter: dropped, the model's first load of the data the device
    wrote into RAM differs from the RTL's."""
    monkeypatch.setattr(CheckedEngine, "_apply_dma", lambda self, order: self.pending_dma.clear())
    engine = CxxrtlEngine(lib_path=cxxrtl_model)
    with pytest.raises(Divergence) as e:
        lockstep(engine, programs["virtio"])
    assert e.value.field in ("rd_wdata", "mem_rdata")
    engine.close()


def test_program_on_the_pysim_engine(programs):
    engine = make_engine("pysim", ram_size=RAM)
    hart, lock, outcome = lockstep(engine, programs["hello"])
    assert (outcome.stop, outcome.tohost) == ("tohost", 1)
    assert lock.checked == hart.order       # the store's record came first (write buffer)


def random_on_soc(engine, seed, length=200, watch=None):
    """Random program ``seed`` with the block device (as `python -m sim difftest
    --random` runs them on the SoC)."""
    image = generate(seed, length, pmp_entries=RTL_CONFIG.pmp_entries, dma=True)
    return lockstep(engine, image, disk=disk_for(seed), watch=watch)


@pytest.mark.parametrize("seed", LOCKSTEP_SEEDS)
def test_random_program_on_the_soc(cxxrtl_model, seed):
    engine = CxxrtlEngine(lib_path=cxxrtl_model)
    hart, lock, outcome = random_on_soc(engine, seed)
    assert (outcome.stop, outcome.tohost) == ("tohost", 1)
    assert lock.checked == hart.order > 800
    engine.close()


def test_random_programs_drive_the_block_device(cxxrtl_model):
    """The programs' requests to the virtio block device complete (status OK), the
    device's DMA writes land while the program runs, and the buffers are loaded
    after each request (what a data cache that missed the DMA would get wrong)."""
    seen = collections.Counter()
    done = set()

    def watch(records, dma):
        seen["dma"] += len(dma)
        for r in records:
            if r.trap:
                continue
            if r.mem_addr == VIRTIO + 0x50 and r.mem_wmask:
                seen["requests"] += 1
            elif r.mem_addr == VQ_REQ and r.mem_wmask:
                seen["reads" if r.mem_wdata == 0 else "writes"] += 1
            elif r.mem_addr == VQ_REQ + 16 and r.mem_rmask:
                seen["status %d" % r.rd_wdata] += 1
            elif DMA_PAGES <= r.mem_addr < DMA_PAGES + 8192 and r.mem_rmask:
                seen["buffer loads"] += 1
    for seed in range(10):
        engine = CxxrtlEngine(lib_path=cxxrtl_model)
        hart, lock, outcome = random_on_soc(engine, seed, watch=watch)
        assert (outcome.stop, outcome.tohost) == ("tohost", 1), f"seed {seed}"
        engine.close()
    assert seen["requests"] >= 10 and seen["status 0"] == seen["requests"], dict(seen)
    assert seen["reads"] and seen["writes"], dict(seen)
    assert seen["dma"] >= 64 * seen["reads"]                # a sector is 64 words
    assert seen["buffer loads"] >= 4 * seen["requests"], dict(seen)


#: the answer paths of the board's SoC (soc/board: every device's answer registered in
#: the decoder, the bus's answer registered at the core's memory port) on the block
#: RAM, whose first beat comes 3 cycles after the request
BOARD_PORT = {"registered_answers": True, "core_answer_registered": True, "ram_latency": 3}


def test_the_board_ports_registered_answers_in_lockstep(programs):
    """The SoC programs (devices, interrupts, DMA, access faults) and random programs
    with the block device, with the answers registered as on the board: every
    transfer of the core reaches it a cycle late (hw/core/memport.py), so refills,
    the write buffer's drain, locked read-modify-writes and the DMA master's writes
    overlap differently; the model agrees with every record and ends with the
    RTL's RAM."""
    for name in PROGRAMS:
        engine = CxxrtlEngine(ram_size=RAM, soc_args=BOARD_PORT)
        hart, lock, outcome = lockstep(engine, programs[name],
                                       b"ok" if name == "uart_rx" else None)
        assert (outcome.stop, outcome.tohost) == ("tohost", 1), name
        assert lock.checked == hart.order > 50, name
        assert engine.read_ram(0x8000_0000, 1 << 16) == bytes(hart.ram[:1 << 16]), name
        engine.close()
    for seed in LOCKSTEP_SEEDS:
        engine = CxxrtlEngine(ram_size=RAM, soc_args=BOARD_PORT)
        hart, lock, outcome = random_on_soc(engine, seed)
        assert (outcome.stop, outcome.tohost) == ("tohost", 1), f"seed {seed}"
        assert lock.checked == hart.order > 800, f"seed {seed}"
        engine.close()


@pytest.mark.slow
def test_many_random_programs_on_the_soc(cxxrtl_model):
    for seed in range(100, 300):
        engine = CxxrtlEngine(lib_path=cxxrtl_model)
        hart, lock, outcome = random_on_soc(engine, seed, length=400)
        assert (outcome.stop, outcome.tohost) == ("tohost", 1), f"seed {seed}"
        engine.close()


@pytest.mark.slow
def test_random_programs_with_sdram_like_latency(capsys):
    """`python -m sim difftest --ram-latency 8`: the RAM's first beat 8 cycles after
    the request (a model of its own); the pipeline's refills, write buffer and
    uncached accesses then overlap differently with everything else."""
    from sim.difftest import cli
    status = cli.main(["--random", "800", "--count", "20", "--ram-latency", "8"])
    err = capsys.readouterr().err
    assert status == cli.EXIT_OK, err[-4000:]
    assert err.count("no divergence") == 20


def test_walker_a_bits_reach_the_model_before_the_next_record():
    """The A bits the RTL's walker set (run_retire's AdWrite rows) are set in the
    model's RAM before the record they precede; D bits and every other bit are not
    (the pipeline may walk for an access it discards: the specification allows that
    to set A, never D)."""
    from types import SimpleNamespace
    from sim.engine import AdWrite
    from hw.mmu.pte import PTE_A, PTE_D, PTE_R, PTE_V
    image = generate(0)
    hart, lock = model_for(image, RAM, SOC_REGIONS)
    pte_addr = 0x8100_0008
    hart.ram[0x100_0008:0x100_0010] = (PTE_V | PTE_R | 0x1234 << 10).to_bytes(8, "little")
    seen = []

    def check(rec):
        seen.append((rec.order, int.from_bytes(hart.ram[0x100_0008:0x100_0010], "little")))
    lock.check = check
    checked = CheckedEngine(None, lock)
    records = [SimpleNamespace(order=n) for n in range(3)]
    checked.feed(records[:2], [], [AdWrite(cycle=9, order=1, pte_addr=pte_addr,
                                           pte=PTE_V | PTE_R | PTE_A | PTE_D | 0x5678 << 10)])
    checked.feed(records[2:], [], [])
    before = PTE_V | PTE_R | 0x1234 << 10
    assert seen == [(0, before), (1, before | PTE_A), (2, before | PTE_A)]
    assert not checked.pending_ad


def test_walker_a_bit_writes_agree_between_engines(cxxrtl_model):
    """Both engines report the same A/D writes (a random program whose accesses through
    its Sv39 window set an A bit: seed 55, one write)."""
    image = generate(55, length=60, pmp_entries=RTL_CONFIG.pmp_entries)
    got = {}
    for name in ("cxxrtl", "pysim"):
        engine = CxxrtlEngine(lib_path=cxxrtl_model) if name == "cxxrtl" else \
            make_engine("pysim", ram_size=RAM)
        engine.load(image)
        engine.set_tohost(image.tohost)
        ad = []
        while True:
            batch = engine.run_retire(1000, 200_000)
            ad += batch.ad
            if batch.stop != "records":
                break
        got[name] = batch.stop, ad
        engine.close()
    assert got["cxxrtl"] == got["pysim"]
    stop, ad = got["cxxrtl"]
    assert stop == "tohost" and ad
    assert all(w.pte & 1 << 6 for w in ad)            # every one sets A


@pytest.mark.slow
def test_a_data_cache_that_misses_dma_writes_is_caught(monkeypatch):
    """The random programs' block-device requests find a data cache that keeps a
    stale line: with the caches' snoop input cut (pysim), seed 0 (800 groups)
    diverges where it loads the status byte the device wrote (the cache still
    holds the 0xFF the program stored there before the request)."""
    from amaranth import Signal
    from hw.core import cache

    elaborate = cache.Cache.elaborate

    def without_snoop(self, platform):
        self.snoop_valid = Signal(name="snoop_cut")
        return elaborate(self, platform)
    monkeypatch.setattr(cache.Cache, "elaborate", without_snoop)
    engine = make_engine("pysim")
    with pytest.raises(Divergence) as e:
        random_on_soc(engine, 0, length=800)
    engine.close()
    assert e.value.field == "rd_wdata"
    assert f"load[{VQ_REQ + 16:#x}/0x1]" in str(e.value)
