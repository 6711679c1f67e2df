"""The lowest-numbered of several candidates that ask, by a tree of 2:1 multiplexers.

Several places in the design pick "the lowest-numbered one that asks": the PMP's
verdict (the lowest matching entry decides, hw/core/pmp.py), the TLB's hit (the
lowest matching slot, hw/mmu/tlb.py) and the PLIC's claim (the lowest id among
the eligible sources of a priority level, and the highest occupied level,
soc/plic.py).  A chain of ``If``s from the last candidate to the first puts one
multiplexer per candidate behind the compares that make the requests; a tree
puts log2(candidates): each node takes its lower half's answer when a candidate
of that half asks, else its upper half's, and the winner's index gets one more
bit per level (1 where the upper half won).
"""

from amaranth.hdl import C, Cat, Mux, Signal

__all__ = ["lowest_first"]


def lowest_first(m, nodes, *, name=None):
    """The first of ``nodes`` that asks.

    ``nodes``: a list of ``(asks, payload)``, ``asks`` a 1-bit value and
    ``payload`` a tuple of values (the same shapes in every node).  Returns
    ``(any, index, payload)``: whether some node asks, the index of the first
    that does and its payload.  Where nothing asks, ``index`` and ``payload``
    are some node's and mean nothing.

    ``name``: when given, each node's ``any`` and ``index`` become signals named
    ``{name}_a{level}_{j}`` and ``{name}_id{level}_{j}`` (to be found in a
    netlist); otherwise they are expressions (the module ``m`` is then unused).
    """
    if not nodes:
        raise ValueError("lowest_first needs at least one candidate")
    nodes = [(asks, C(0, 0), tuple(payload)) for asks, payload in nodes]
    level = 0
    while len(nodes) > 1:
        level += 1
        nxt = []
        for j in range(0, len(nodes) - 1, 2):
            (a_lo, id_lo, p_lo), (a_hi, id_hi, p_hi) = nodes[j], nodes[j + 1]
            a = a_lo | a_hi
            ident = Cat(Mux(a_lo, id_lo, id_hi), ~a_lo)
            if name is not None:
                a_sig = Signal(name=f"{name}_a{level}_{j // 2}")
                id_sig = Signal(level, name=f"{name}_id{level}_{j // 2}")
                m.d.comb += [a_sig.eq(a), id_sig.eq(ident)]
                a, ident = a_sig, id_sig
            nxt.append((a, ident, tuple(Mux(a_lo, lo, hi) for lo, hi in zip(p_lo, p_hi))))
        if len(nodes) % 2:
            # the last node has no neighbour: it goes up alone, its index one bit
            # longer (0: it stays the lower half of a node of the next level)
            a_last, id_last, p_last = nodes[-1]
            nxt.append((a_last, Cat(id_last, C(0, 1)), p_last))
        nodes = nxt
    return nodes[0]
