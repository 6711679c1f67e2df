"""Sv39 memory-management unit: TLBs, page-table walker, reference model."""
