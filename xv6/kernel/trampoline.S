# The trampoline page: the code that crosses between a user address space
# and the kernel's.  It is mapped at TRAMPOLINE in the kernel page table and
# in every user page table (not user accessible), so it keeps running while
# it switches satp.  kernel.ld puts section .trampoline on a page of its own.
#
# The trap frame (struct trapframe, proc.h) is mapped at TRAPFRAME in every
# user page table, and sscratch holds TRAPFRAME at all times outside this
# page (trap_init() sets it once; every path through here restores it).
# The user registers x1..x31 and the pc are saved into the frame in
# register-number order; x31 (t6) holds the frame's address meanwhile, so it
# is swapped with sscratch first and saved last.

# TF_X1..TF_X31, TF_PC, TF_KERNEL_*: generated from struct trapframe.
#include "asm_offsets.h"

.if TF_NREGS != 31
.error "struct user_regs must hold x1..x31"
.endif

# `op xN, TF_XN(t6)` for x1..x30: every user register but the base.
.macro each_but_base op
        .irp    n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
        \op     x\n, TF_X\n(t6)
        .endr
.endm

        .section .trampoline, "ax"
        .globl trampoline
        .globl uservec
        .globl userret

# stvec points here (at the TRAMPOLINE alias) while a process runs in
# user mode.  Interrupts are off from here until the kernel turns them on.
        .balign 4
uservec:
        csrrw   t6, sscratch, t6        # t6 = the frame, sscratch = user t6
        each_but_base sd
        csrrw   t5, sscratch, t6        # t5 = user t6, sscratch = the frame
        sd      t5, TF_X31(t6)
        csrr    t5, sepc
        sd      t5, TF_PC(t6)

        # Into the kernel: its stack, hart id and page table, then trap_from_user().
        ld      sp, TF_KERNEL_SP(t6)
        ld      tp, TF_KERNEL_TP(t6)
        ld      t0, TF_KERNEL_ENTRY(t6)
        ld      t1, TF_KERNEL_SATP(t6)
        sfence.vma zero, zero           # the user's stores are done
        csrw    satp, t1
        sfence.vma zero, zero           # no user translation survives
        jr      t0

# userret(user_satp), called by return_to_user() at its TRAMPOLINE alias with
# stvec already pointing at uservec and sstatus set up for sret.
        .balign 4
userret:
        sfence.vma zero, zero
        csrw    satp, a0
        sfence.vma zero, zero

        csrr    t6, sscratch            # the frame, now mapped
        ld      t5, TF_PC(t6)
        csrw    sepc, t5
        each_but_base ld
        ld      t6, TF_X31(t6)          # last: it was the base
        sret
