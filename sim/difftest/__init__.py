"""Lock-step differential testing: the RTL against the golden model (sim/ref).

lockstep.py compares the records, mirror.py hands the model what only the hardware
knows, run.py drives the RTL side, randprog.py (with asm.py) generates random test
programs, cli.py is `python -m sim difftest`.
"""
