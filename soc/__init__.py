"""The SoC around the core: QEMU virt's memory map in Amaranth RTL."""
