"""Simulation front ends: the ELF runner and (later) the xv6 boot."""
