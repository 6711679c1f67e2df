"""Bus-master helpers for testbenches (Amaranth simulator, async ``ctx`` API).

``read``/``write`` perform one transfer of 1, 2, 4 or 8 bytes on a hw/bus.py port,
placing data on its natural byte lanes, and return the value (and the error flag).
"""

__all__ = ["BusError", "transfer", "read", "write"]


class BusError(Exception):
    pass


def _lanes(addr, size):
    if size not in (1, 2, 4, 8):
        raise ValueError(f"bad access size {size}")
    if addr % size:
        raise ValueError(f"misaligned {size}-byte access at {addr:#x}")
    shift = addr & 7
    return addr & ~7, ((1 << size) - 1) << shift, shift


async def transfer(ctx, bus, addr, size, write=False, value=0, timeout=1000):
    """One bus transfer; returns (value, error, cycles waited)."""
    dw, sel, shift = _lanes(addr, size)
    ctx.set(bus.valid, 1)
    ctx.set(bus.addr, dw)
    ctx.set(bus.write, int(write))
    ctx.set(bus.sel, sel)
    ctx.set(bus.wdata, (value & ((1 << (8 * size)) - 1)) << (8 * shift))
    waited = 0
    while True:
        _, _, ready, rdata, error = await ctx.tick().sample(
            bus.ready, bus.rdata, bus.error)
        if ready:
            break
        waited += 1
        if waited > timeout:
            raise TimeoutError(f"no ready for access at {addr:#x}")
    ctx.set(bus.valid, 0)
    ctx.set(bus.write, 0)
    return (rdata >> (8 * shift)) & ((1 << (8 * size)) - 1), bool(error), waited


async def read(ctx, bus, addr, size=4):
    value, error, _ = await transfer(ctx, bus, addr, size)
    if error:
        raise BusError(f"bus error reading {addr:#x}")
    return value


async def write(ctx, bus, addr, value, size=4):
    _, error, _ = await transfer(ctx, bus, addr, size, write=True, value=value)
    if error:
        raise BusError(f"bus error writing {addr:#x}")
