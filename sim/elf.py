"""Loading a bare-metal RISC-V ELF: its loadable segments, entry and HTIF symbols."""

from dataclasses import dataclass, field

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

__all__ = ["ElfImage", "BadElf", "load_elf"]

#: An xv6 kernel says how much RAM it was built for (RAM_MB, in MiB) with the value of
#: this absolute symbol (xv6/kernel/kalloc.c).
RAM_MB_SYMBOL = "kernel_ram_mb"


class BadElf(Exception):
    """The file cannot be run: the message says why."""


@dataclass
class ElfImage:
    entry: int
    segments: list = field(default_factory=list)   # [(physical address, bytes)]
    tohost: int | None = None
    fromhost: int | None = None
    symbols: dict = field(default_factory=dict)     # name -> address (functions, objects)

    @property
    def ram_mb(self):
        """The RAM in MiB this xv6 kernel was built for, or None if it does not say."""
        return self.symbols.get(RAM_MB_SYMBOL)

    def extent(self):
        """(lowest, highest + 1) physical address covered by the segments."""
        lo = min(addr for addr, _ in self.segments)
        hi = max(addr + len(blob) for addr, blob in self.segments)
        return lo, hi


def load_elf(path, *, need_tohost=True):
    try:
        f = open(path, "rb")
    except OSError as e:
        raise BadElf(f"{path}: cannot open: {e.strerror}") from None
    with f:
        try:
            elf = ELFFile(f)
        except ELFError:
            raise BadElf(f"{path}: not an ELF file") from None
        if elf.elfclass != 64:
            raise BadElf(f"{path}: ELF class is {elf.elfclass}-bit, need a 64-bit (RV64) ELF")
        if elf["e_machine"] != "EM_RISCV":
            raise BadElf(f"{path}: machine is {elf['e_machine']}, need RISC-V")
        if not elf.little_endian:
            raise BadElf(f"{path}: big-endian ELF, RISC-V is little-endian")
        image = ElfImage(entry=elf["e_entry"])
        try:
            for seg in elf.iter_segments():
                if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                    continue
                blob = seg.data()
                if len(blob) > seg["p_memsz"]:
                    raise BadElf(f"{path}: segment file size exceeds its memory size")
                blob = blob + bytes(seg["p_memsz"] - len(blob))
                image.segments.append((seg["p_paddr"], blob))
            symtab = elf.get_section_by_name(".symtab")
            if symtab is not None:
                for sym in symtab.iter_symbols():
                    if sym.name and sym["st_info"]["type"] in ("STT_NOTYPE", "STT_OBJECT",
                                                               "STT_FUNC"):
                        image.symbols.setdefault(sym.name, sym["st_value"])
        except ELFError as e:
            raise BadElf(f"{path}: malformed ELF ({e})") from None
    if not image.segments:
        raise BadElf(f"{path}: no loadable segments")
    image.tohost = image.symbols.get("tohost")
    image.fromhost = image.symbols.get("fromhost")
    if need_tohost and image.tohost is None:
        raise BadElf(f"{path}: no 'tohost' symbol: the runner cannot tell when the program ends")
    return image
