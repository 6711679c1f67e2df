"""The SD card in SPI mode: the host that serves the block device's storage port from a
card, and a behavioural card for simulation.

| module | what |
|---|---|
| `proto.py` | the specification's facts: commands, R1/OCR bits, tokens, CRC7/CRC16, `SDError` |
| `spi.py` | `SPISignature` (the pins), `SPIMaster` (one byte at a time, SPI mode 0, two clock rates) |
| `command.py` | `SDCommand`: one command (CRC7 computed), its R1 and R3/R7 payload |
| `host.py` | `SDCardHost`: initialization, CMD17/CMD24, timeouts, the BASE/SIZE window and STATUS |
| `model.py` | `SDCardModel`: the card, simulation only (pysim and CXXRTL) |
| `layout.py` | the boot card's layout (`make sdcard`, that is `python -m sim.sdcard`, writes the image) |
"""
