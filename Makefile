# Top-level commands.  `make help` lists them; README.md explains each.

PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
BUILD   := build
XV6OUT  := $(BUILD)/xv6
KERNEL  := $(XV6OUT)/kernel
FSIMG   := $(XV6OUT)/fs.img
SDCARD  := $(BUILD)/sdcard.img

# RAM size in MiB: `make qemu RAM_MB=128` (also sim, xv6, test, wave) builds the
# kernel for it and gives the machine that much.  The default is RAM_MB in
# xv6/kernel/param.h (32: the FPGA board's SDRAM).
RAM_MB  ?= $(shell sed -n 's/^\#define RAM_MB[[:space:]]*\([0-9]*\).*/\1/p' xv6/kernel/param.h)

QEMU    := qemu-system-riscv64
QEMUOPTS = -machine virt -bios none -kernel $(KERNEL) -m $(RAM_MB)M -smp 1 -nographic \
           -global virtio-mmio.force-legacy=false \
           -drive file=$(FSIMG),if=none,format=raw,id=disk0 \
           -device virtio-blk-device,drive=disk0,bus=virtio-mmio-bus.0

.PHONY: help setup toolchain xv6 qemu test test-slow clean sim wave sdcard bitstream program

# make sim: the simulation engine (cxxrtl or pysim) and an optional scripted run.
ENGINE  ?= cxxrtl
RUN     ?=
RAM_LATENCY ?= 1
# make sim BOARD=ulx3s-85f: the board's configuration of the SoC (SDRAM model, board clock).
BOARD   ?=

help:
	@echo "make setup      Python virtual environment in $(VENV) (pinned packages)"
	@echo "make toolchain  RISC-V GCC and QEMU (Debian packages, if missing)"
	@echo "make xv6        build $(KERNEL) and $(FSIMG)"
	@echo "make qemu       boot xv6 on QEMU virt (Ctrl-A x quits)"
	@echo "                RAM_MB=128 (with qemu, sim, xv6, test): a machine with more RAM"
	@echo "make sim        boot xv6 on our SoC in simulation (ENGINE=cxxrtl|pysim, RUN=\"cmd; cmd\", RAM_LATENCY=N)"
	@echo "make wave       waveforms of MMU walks over PTE_S pages into $(BUILD)/wave (RUN=\"cmd; cmd\", SCENARIO=baremetal)"
	@echo "make sdcard     $(SDCARD): the kernel and fs.img as a boot card image for dd"
	@echo "make bitstream  FPGA bitstream and report in $(BUILD)/fpga/BOARD (BOARD=ulx3s-85f, CLK_MHZ=F, SEED=N or 1-4)"
	@echo "make program    load the bitstream into the board (needs openFPGALoader)"
	@echo "make test       set everything up and run the test suite"
	@echo "make test-slow  the slow tests only"
	@echo "make clean      remove $(BUILD)"

$(VENV)/.installed: pyproject.toml
	@echo "setup: creating $(VENV) and installing the pinned Python packages (pip shows each)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install --progress-bar on -e .
	touch $@

setup: $(VENV)/.installed

toolchain:
	@tools/install-toolchain.sh

xv6: toolchain
	$(MAKE) -C xv6 OUT=$(abspath $(XV6OUT)) RAM_MB=$(RAM_MB)

qemu: xv6
	$(QEMU) $(QEMUOPTS)

# The first cxxrtl run on a machine has YoWASP compile Yosys to machine code (a minute
# or more): `--warm` starts that in the background while the kernel builds.
WARM = $(if $(filter cxxrtl,$(ENGINE)),@$(PY) -m sim.cxxrtl.build --warm)

sim: setup
	$(WARM)
	@$(MAKE) --no-print-directory xv6
	$(PY) -m sim.boot --engine $(ENGINE) --kernel $(KERNEL) --fs $(FSIMG) --ram-mb $(RAM_MB) \
		--ram-latency $(RAM_LATENCY) $(if $(BOARD),--board $(BOARD)) $(if $(RUN),--run "$(RUN)")

# make sdcard: the board's boot card (partition table, kernel, file system) as an image
# file; it prints the dd command that writes it to a card (it never writes a device).
sdcard: setup xv6
	$(PY) -m sim.sdcard $(KERNEL) $(FSIMG) -o $(SDCARD)

# make wave: VCD, .gtkw, SVG and log of the walks over PTE_S pages (sim/wave/).
SCENARIO ?= xv6
WAVE_RUN = $(if $(RUN),$(RUN),shmem_test2; crypto_cli)

wave: setup $(if $(filter baremetal,$(SCENARIO)),,xv6)
	$(PY) -m sim wave --scenario $(SCENARIO) --engine $(ENGINE) --wave $(BUILD)/wave \
		$(if $(filter baremetal,$(SCENARIO)),,--kernel $(KERNEL) --fs $(FSIMG) --run "$(WAVE_RUN)")

# make bitstream / make program: the FPGA build for BOARD (default ulx3s-85f).
FPGA_BOARD = $(or $(BOARD),ulx3s-85f)
CLK_MHZ ?=
# nextpnr's placement seed, and any further options of python -m soc.board.build
# (e.g. BITSTREAM_OPTS="--router router2 --route-minutes 30").
SEED ?=
BITSTREAM_OPTS ?=
BITSTREAM = $(BUILD)/fpga/$(FPGA_BOARD)/top.bit

bitstream: setup
	nice -n 5 $(PY) -m soc.board.build --board $(FPGA_BOARD) $(if $(CLK_MHZ),--clk-mhz $(CLK_MHZ)) $(if $(SEED),--seed $(SEED)) $(BITSTREAM_OPTS)

program:
	@command -v openFPGALoader >/dev/null || { echo "make program needs openFPGALoader (Debian: apt-get install openfpgaloader; it is not on PyPI)" >&2; exit 1; }
	@test -f $(BITSTREAM) || { echo "no $(BITSTREAM): run make bitstream first" >&2; exit 1; }
	openFPGALoader --board ulx3s $(BITSTREAM)

test: setup
	$(WARM)
	@$(MAKE) --no-print-directory xv6
	$(PY) -m pytest

test-slow: setup xv6
	$(PY) -m pytest -m slow

clean:
	rm -rf $(BUILD)
