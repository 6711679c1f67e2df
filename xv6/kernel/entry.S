# Machine-level entry points that must be written in assembly:
#  _entry      first instruction after reset (M-mode, a0 = hart id)
#  kernelvec   S-mode trap vector used while the kernel itself runs

#include "kernel/param.h"

#define BOOT_STACK 4096

        .section .text.boot, "ax"
        .globl _entry
_entry:
        # Only hart 0 boots; any other hart parks here forever.
        bnez    a0, park

        # Clear .bss ourselves so the kernel does not depend on the loader
        # having done it (the RTL simulator just copies the file image).
        la      t0, kbss_lo
        la      t1, kbss_hi
clear_bss:
        bgeu    t0, t1, bss_done
        sd      zero, 0(t0)
        addi    t0, t0, 8
        j       clear_bss
bss_done:
        la      sp, boot_stack
        li      t0, BOOT_STACK
        add     sp, sp, t0
        call    start
park:
        wfi
        j       park

        .bss
        .balign 16
        .globl boot_stack
boot_stack:
        .space  BOOT_STACK

# ---------------------------------------------------------------------------
# Trap vector for interrupts and exceptions taken in S-mode.  It runs on the
# current kernel stack, keeps every register a C function may clobber, and
# lets trap_from_kernel() in trap.c decide what happened.  Callee-saved
# registers are preserved by that C function itself.  stvec needs 4-byte
# alignment.

# 17 registers, frame rounded up to keep sp 16-byte aligned.
#define KV_FRAME (18*8)
        .text
        .balign 4
        .globl kernelvec
kernelvec:
        addi    sp, sp, -KV_FRAME
        sd      ra, 0(sp)
        sd      gp, 8(sp)
        sd      t0, 16(sp)
        sd      t1, 24(sp)
        sd      t2, 32(sp)
        sd      a0, 40(sp)
        sd      a1, 48(sp)
        sd      a2, 56(sp)
        sd      a3, 64(sp)
        sd      a4, 72(sp)
        sd      a5, 80(sp)
        sd      a6, 88(sp)
        sd      a7, 96(sp)
        sd      t3, 104(sp)
        sd      t4, 112(sp)
        sd      t5, 120(sp)
        sd      t6, 128(sp)

        call    trap_from_kernel

        ld      ra, 0(sp)
        ld      gp, 8(sp)
        ld      t0, 16(sp)
        ld      t1, 24(sp)
        ld      t2, 32(sp)
        ld      a0, 40(sp)
        ld      a1, 48(sp)
        ld      a2, 56(sp)
        ld      a3, 64(sp)
        ld      a4, 72(sp)
        ld      a5, 80(sp)
        ld      a6, 88(sp)
        ld      a7, 96(sp)
        ld      t3, 104(sp)
        ld      t4, 112(sp)
        ld      t5, 120(sp)
        ld      t6, 128(sp)
        addi    sp, sp, KV_FRAME
        sret
