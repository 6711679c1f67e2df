/* The boot ROM's first and last instructions.
 *
 * The core leaves reset here (memmap.BOOTROM) in M-mode.  _start sets up a trap
 * vector and a stack in the ROM's scratch RAM (memmap.BOOTRAM), clears .bss and calls
 * main() (boot.c), which loads the kernel into RAM.  When main returns, the machine is
 * put back the way a reset leaves it -- mtvec 0 and every register 0, so a0 = 0 (hart
 * id) and a1 = 0 (no device tree) -- and the last instruction jumps to the kernel at
 * RAM_BASE.  That jump is pc-relative (the ROM lies within 1 MiB below RAM), so no
 * register has to hold the address.
 */
#include "config.h"

    .section .text.start
    .globl _start
_start:
    la      t0, trap_entry
    csrw    mtvec, t0
    la      sp, stack_top
    la      t0, bss_start
    la      t1, bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  call    main

    csrw    mtvec, zero
    fence   rw, rw
    fence.i                 /* the kernel came into RAM by DMA */
    li      x1, 0
    li      x2, 0
    li      x3, 0
    li      x4, 0
    li      x5, 0
    li      x6, 0
    li      x7, 0
    li      x8, 0
    li      x9, 0
    li      x10, 0
    li      x11, 0
    li      x12, 0
    li      x13, 0
    li      x14, 0
    li      x15, 0
    li      x16, 0
    li      x17, 0
    li      x18, 0
    li      x19, 0
    li      x20, 0
    li      x21, 0
    li      x22, 0
    li      x23, 0
    li      x24, 0
    li      x25, 0
    li      x26, 0
    li      x27, 0
    li      x28, 0
    li      x29, 0
    li      x30, 0
    li      x31, 0
    jal     zero, RAM_BASE

/* Any trap in the ROM (a bus error, an illegal instruction) ends in rom_trap(),
   which says what happened and stops. */
    .align  2
trap_entry:
    csrr    a0, mcause
    csrr    a1, mepc
    csrr    a2, mtval
    la      sp, stack_top
    call    rom_trap
3:  j       3b
