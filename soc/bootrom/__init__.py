"""The boot ROM's program (start.S, boot.c) and its build (build.py); the ROM device
that holds it is soc/rom.py.  See boot.c for what it does."""
