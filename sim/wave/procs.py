"""Which xv6 process a page-table root belongs to.

Our xv6 runs every process with ASID 0, so satp tells processes apart only by the
root's physical page.  The kernel keeps that page in its process table (``struct
proc``: ``pid``, ``state``, ``pagetable``, ``name``), a static array in RAM.  Nothing
about its layout is assumed here: the kernel is built with ``-g``, and its DWARF
describes the array (a variable whose type is an array of ``struct proc``: its address
and length) and the members' offsets and sizes.  The kernel maps RAM one to one, so
the array's virtual address is its physical address and ``pagetable`` is the root's
physical address.

The table is read between batches of simulated cycles (``snapshot``), so a process
that starts and ends inside one batch is not seen, and a root page that is freed
and reused inside one batch could be attributed to the later process; for the
long-lived crypto server (pid 2) neither happens.
"""

from bisect import bisect_right

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

__all__ = ["ProcTableError", "ProcTableLayout", "ProcWatch"]

DW_OP_ADDR = 0x03
_MEMBERS = ("pid", "state", "pagetable", "name")


class ProcTableError(Exception):
    """The kernel ELF does not describe its process table."""


def _attr(die, name):
    a = die.attributes.get(name)
    return None if a is None else a.value


def _strip(die):
    """Follow typedefs and qualifiers to the underlying type DIE."""
    while die is not None and die.tag in ("DW_TAG_typedef", "DW_TAG_volatile_type",
                                          "DW_TAG_const_type"):
        die = die.get_DIE_from_attribute("DW_AT_type") if "DW_AT_type" in die.attributes else None
    return die


def _name(die):
    v = _attr(die, "DW_AT_name")
    return v.decode() if isinstance(v, bytes) else v


class ProcTableLayout:
    """Address, length and member offsets of the kernel's process table."""

    def __init__(self, addr, count, size, members):
        self.addr, self.count, self.size = addr, count, size
        self.members = members          # name -> (offset, byte size)

    @classmethod
    def from_kernel(cls, path):
        try:
            with open(path, "rb") as f:
                elf = ELFFile(f)
                if not elf.has_dwarf_info():
                    raise ProcTableError(f"{path} has no debug information (build with -g)")
                return cls._scan(elf.get_dwarf_info())
        except (OSError, ELFError) as e:
            raise ProcTableError(f"{path}: {e}") from None

    @classmethod
    def _scan(cls, dwarf):
        for cu in dwarf.iter_CUs():
            for die in cu.iter_DIEs():
                if die.tag != "DW_TAG_variable" or "DW_AT_location" not in die.attributes:
                    continue
                # A global declared in a header (extern) and defined in a .c file:
                # the definition refers to the declaration, which has the type.
                typed = die
                if "DW_AT_type" not in die.attributes and "DW_AT_specification" in die.attributes:
                    typed = die.get_DIE_from_attribute("DW_AT_specification")
                if "DW_AT_type" not in typed.attributes:
                    continue
                arr = _strip(typed.get_DIE_from_attribute("DW_AT_type"))
                if arr is None or arr.tag != "DW_TAG_array_type":
                    continue
                elem = _strip(arr.get_DIE_from_attribute("DW_AT_type"))
                if elem is None or elem.tag != "DW_TAG_structure_type" or _name(elem) != "proc":
                    continue
                loc = _attr(die, "DW_AT_location")
                if not isinstance(loc, list) or len(loc) != 9 or loc[0] != DW_OP_ADDR:
                    continue
                addr = int.from_bytes(bytes(loc[1:9]), "little")
                count = None
                for sub in arr.iter_children():
                    if sub.tag == "DW_TAG_subrange_type":
                        if "DW_AT_upper_bound" in sub.attributes:
                            count = _attr(sub, "DW_AT_upper_bound") + 1
                        elif "DW_AT_count" in sub.attributes:
                            count = _attr(sub, "DW_AT_count")
                members = {}
                for m in elem.iter_children():
                    if m.tag == "DW_TAG_member" and _name(m) in _MEMBERS:
                        mtype = _strip(m.get_DIE_from_attribute("DW_AT_type"))
                        size = _attr(mtype, "DW_AT_byte_size")
                        if mtype.tag == "DW_TAG_array_type":
                            size = None
                            for sub in mtype.iter_children():
                                if "DW_AT_upper_bound" in sub.attributes:
                                    size = _attr(sub, "DW_AT_upper_bound") + 1
                        members[_name(m)] = (_attr(m, "DW_AT_data_member_location"), size)
                missing = [n for n in _MEMBERS if members.get(n, (None, None))[1] is None]
                if count is None or missing:
                    raise ProcTableError(f"struct proc without {', '.join(missing) or 'a length'}")
                return cls(addr, count, _attr(elem, "DW_AT_byte_size"), members)
        raise ProcTableError("no array of struct proc in the kernel's debug information")

    def read(self, engine):
        """{root physical address: (pid, name)} of the table's used slots."""
        blob = engine.read_ram(self.addr, self.count * self.size)
        roots = {}

        def field(base, member):
            off, size = self.members[member]
            return blob[base + off:base + off + size]

        for k in range(self.count):
            base = k * self.size
            if int.from_bytes(field(base, "state"), "little") == 0:        # P_FREE
                continue
            root = int.from_bytes(field(base, "pagetable"), "little")
            if not root:
                continue
            pid = int.from_bytes(field(base, "pid"), "little", signed=True)
            name = field(base, "name").split(b"\0")[0].decode("latin-1")
            roots[root] = (pid, name)
        return roots


class ProcWatch:
    """Snapshots of the process table taken during a run, by cycle."""

    def __init__(self, layout):
        self.layout = layout
        self.cycles = []
        self.tables = []

    @classmethod
    def from_kernel(cls, path):
        return cls(ProcTableLayout.from_kernel(path))

    def snapshot(self, engine):
        cycle = engine.stats().cycles
        table = self.layout.read(engine)
        if self.tables and self.cycles[-1] == cycle:
            self.tables[-1] = table
        elif not self.tables or table != self.tables[-1]:
            self.cycles.append(cycle)
            self.tables.append(table)
        else:
            self.cycles[-1] = cycle      # unchanged: the table held until now

    def owner(self, root, cycle):
        """(pid, name) that had page-table root ``root`` around ``cycle``, or None:
        the first snapshot taken at or after the cycle, else the one before it."""
        k = bisect_right(self.cycles, cycle - 1)
        for j in (k, k - 1):
            if 0 <= j < len(self.tables) and root in self.tables[j]:
                return self.tables[j][root]
        return None
