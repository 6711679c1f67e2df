"""Waveform dumps of Sv39 page-table walks whose leaf PTE has PTE_S (issue 8).

capture.py samples the MMU's signals in windows around those walks (in C++ on the
cxxrtl engine, in the testbench on pysim); vcd.py, gtkw.py, svg.py and log.py turn the
windows into a VCD, a GTKWave save file, an SVG picture of one walk and a text log;
cli.py is `python -m sim wave` (`make wave`).
"""
