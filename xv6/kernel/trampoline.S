# The trampoline page: code that switches between a user address space
# and the kernel's.  It is mapped at TRAMPOLINE in the kernel table and in
# every user table (not user accessible), so it keeps running across the
# satp write.  kernel.ld places section "trampsec" on its own page.
#
# While a process runs in user mode, sscratch holds TRAPFRAME, the address
# where its trap frame page is mapped in the user table.

# Offsets into struct trapframe (proc.h); trap.c checks them at compile time.
#define TF_KERNEL_SATP    0
#define TF_KERNEL_SP      8
#define TF_KERNEL_TRAP   16
#define TF_EPC           24
#define TF_KERNEL_HARTID 32
#define TF_RA 40
#define TF_SP 48
#define TF_GP 56
#define TF_TP 64
#define TF_T0 72
#define TF_T1 80
#define TF_T2 88
#define TF_S0 96
#define TF_S1 104
#define TF_A0 112
#define TF_A1 120
#define TF_A2 128
#define TF_A3 136
#define TF_A4 144
#define TF_A5 152
#define TF_A6 160
#define TF_A7 168
#define TF_S2 176
#define TF_S3 184
#define TF_S4 192
#define TF_S5 200
#define TF_S6 208
#define TF_S7 216
#define TF_S8 224
#define TF_S9 232
#define TF_S10 240
#define TF_S11 248
#define TF_T3 256
#define TF_T4 264
#define TF_T5 272
#define TF_T6 280

        .section trampsec, "ax"
        .globl trampoline
        .globl uservec
        .globl userret

# stvec points here (at its TRAMPOLINE alias) while in user mode.
        .balign 4
uservec:
        # Exchange the user's a0 with the trap frame address.
        csrrw   a0, sscratch, a0

        sd      ra, TF_RA(a0)
        sd      sp, TF_SP(a0)
        sd      gp, TF_GP(a0)
        sd      tp, TF_TP(a0)
        sd      t0, TF_T0(a0)
        sd      t1, TF_T1(a0)
        sd      t2, TF_T2(a0)
        sd      s0, TF_S0(a0)
        sd      s1, TF_S1(a0)
        sd      a1, TF_A1(a0)
        sd      a2, TF_A2(a0)
        sd      a3, TF_A3(a0)
        sd      a4, TF_A4(a0)
        sd      a5, TF_A5(a0)
        sd      a6, TF_A6(a0)
        sd      a7, TF_A7(a0)
        sd      s2, TF_S2(a0)
        sd      s3, TF_S3(a0)
        sd      s4, TF_S4(a0)
        sd      s5, TF_S5(a0)
        sd      s6, TF_S6(a0)
        sd      s7, TF_S7(a0)
        sd      s8, TF_S8(a0)
        sd      s9, TF_S9(a0)
        sd      s10, TF_S10(a0)
        sd      s11, TF_S11(a0)
        sd      t3, TF_T3(a0)
        sd      t4, TF_T4(a0)
        sd      t5, TF_T5(a0)
        sd      t6, TF_T6(a0)
        csrr    t0, sscratch            # the user's a0
        sd      t0, TF_A0(a0)

        # Enter the kernel: its stack, hart id, handler and page table.
        ld      sp, TF_KERNEL_SP(a0)
        ld      tp, TF_KERNEL_HARTID(a0)
        ld      t0, TF_KERNEL_TRAP(a0)
        ld      t1, TF_KERNEL_SATP(a0)
        sfence.vma zero, zero           # user-mode stores are complete
        csrw    satp, t1
        sfence.vma zero, zero           # drop user translations
        jr      t0                      # usertrap(), never returns here

# userret(user_satp): called by usertrapret() through the TRAMPOLINE alias
# with sscratch = TRAPFRAME and sepc/sstatus already set for the return.
        .balign 4
userret:
        sfence.vma zero, zero
        csrw    satp, a0
        sfence.vma zero, zero

        csrr    a0, sscratch            # the trap frame, now mapped
        ld      ra, TF_RA(a0)
        ld      sp, TF_SP(a0)
        ld      gp, TF_GP(a0)
        ld      tp, TF_TP(a0)
        ld      t0, TF_T0(a0)
        ld      t1, TF_T1(a0)
        ld      t2, TF_T2(a0)
        ld      s0, TF_S0(a0)
        ld      s1, TF_S1(a0)
        ld      a1, TF_A1(a0)
        ld      a2, TF_A2(a0)
        ld      a3, TF_A3(a0)
        ld      a4, TF_A4(a0)
        ld      a5, TF_A5(a0)
        ld      a6, TF_A6(a0)
        ld      a7, TF_A7(a0)
        ld      s2, TF_S2(a0)
        ld      s3, TF_S3(a0)
        ld      s4, TF_S4(a0)
        ld      s5, TF_S5(a0)
        ld      s6, TF_S6(a0)
        ld      s7, TF_S7(a0)
        ld      s8, TF_S8(a0)
        ld      s9, TF_S9(a0)
        ld      s10, TF_S10(a0)
        ld      s11, TF_S11(a0)
        ld      t3, TF_T3(a0)
        ld      t4, TF_T4(a0)
        ld      t5, TF_T5(a0)
        ld      t6, TF_T6(a0)
        ld      a0, TF_A0(a0)           # last: it was the base register
        sret
