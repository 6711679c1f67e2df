/* A extension: every AMO in .w and .d (old value returned, new value
 * stored), LR/SC with the reservation rules. */
#include "test.h"

/* case n: memory word/dword at s0 = init; `op a0, a2, (s0)` with a2 = src;
 * a0 must be `old` and memory afterwards `new` (loaded with `ld`). */
.macro T_AMO n, op, init, src, old, new
    li gp, \n
    li t0, \init
    sd t0, 0(s0)
    li a2, \src
    \op a0, a2, (s0)
    li t6, \old
    bne a0, t6, fail
    ld a1, 0(s0)
    li t6, \new
    bne a1, t6, fail
.endm

    TEST_START
    la s0, cell
    T_AMO 1, amoswap.d, 0x1111, 0x2222, 0x1111, 0x2222
    T_AMO 2, amoadd.d, 5, -7, 5, -2
    T_AMO 3, amoxor.d, 0xff00, 0x0ff0, 0xff00, 0xf0f0
    T_AMO 4, amoand.d, 0xff00, 0x0ff0, 0xff00, 0x0f00
    T_AMO 5, amoor.d, 0xff00, 0x0ff0, 0xff00, 0xfff0
    T_AMO 6, amomin.d, -5, 3, -5, -5
    T_AMO 7, amomin.d, 5, -3, 5, -3
    T_AMO 8, amomax.d, -5, 3, -5, 3
    T_AMO 9, amominu.d, -5, 3, -5, 3
    T_AMO 10, amomaxu.d, -5, 3, -5, -5
    /* .w forms: the upper word of the doubleword is left alone, the old
     * value comes back sign-extended */
    T_AMO 11, amoswap.w, 0x7777777780000000, 0x12345678, 0xffffffff80000000, 0x7777777712345678
    T_AMO 12, amoadd.w, 0x55555555ffffffff, 1, -1, 0x5555555500000000
    T_AMO 13, amoxor.w, 0x00000000f0f0f0f0, 0xffffffff, 0xfffffffff0f0f0f0, 0x000000000f0f0f0f
    T_AMO 14, amoand.w, 0x1234567800ff00ff, 0x0f0f0f0f, 0x00ff00ff, 0x12345678000f000f
    T_AMO 15, amoor.w, 0x8000000000000001, 0x80000000, 1, 0x8000000080000001
    T_AMO 16, amomin.w, 0x0000000080000000, 1, 0xffffffff80000000, 0x0000000080000000
    T_AMO 17, amomax.w, 0x0000000080000000, 1, 0xffffffff80000000, 0x0000000000000001
    T_AMO 18, amominu.w, 0x0000000080000000, 1, 0xffffffff80000000, 0x0000000000000001
    T_AMO 19, amomaxu.w, 0x0000000080000000, 0xffffffff, 0xffffffff80000000, 0x00000000ffffffff
    /* rd = x0 still performs the operation */
    li gp, 20
    li t0, 10
    sd t0, 0(s0)
    li a2, 5
    amoadd.d x0, a2, (s0)
    ld a1, 0(s0)
    CHECK 21, a1, 15
    /* LR/SC success */
    li gp, 22
    lr.d a0, (s0)
    CHECK 23, a0, 15
    li a2, 99
    sc.d a1, a2, (s0)
    CHECK 24, a1, 0
    ld a0, 0(s0)
    CHECK 25, a0, 99
    /* a second SC without a new LR fails and does not store */
    li a2, 7
    sc.d a1, a2, (s0)
    CHECK 26, a1, 1
    ld a0, 0(s0)
    CHECK 27, a0, 99
    /* SC to another address than the reservation fails */
    lr.d a0, (s0)
    li a2, 3
    addi s1, s0, 8
    sc.d a1, a2, (s1)
    li gp, 28
    beqz a1, fail
    ld a0, 0(s1)
    CHECK 29, a0, 0
    /* ... and that failed SC used up the reservation */
    sc.d a1, a2, (s0)
    CHECK 30, a1, 1
    /* LR.W / SC.W: sign-extended load, 32-bit store */
    li t0, 0x11111111fffffffe
    sd t0, 0(s0)
    lr.w a0, (s0)
    CHECK 31, a0, -2
    li a2, 0x22
    sc.w a1, a2, (s0)
    CHECK 32, a1, 0
    ld a0, 0(s0)
    CHECK 33, a0, 0x1111111100000022
    /* a trap between LR and SC clears the reservation */
    lr.d a0, (s0)
    la t0, 1f
    csrw mtvec, t0
    ecall
    .align 2
1:  la t0, __unexpected_trap
    csrw mtvec, t0
    sc.d a1, a2, (s0)
    CHECK 34, a1, 1
    /* an LR/SC retry loop: atomic increment */
    li gp, 35
    li t0, 41
    sd t0, 0(s0)
2:  lr.d a0, (s0)
    addi a0, a0, 1
    sc.d a1, a0, (s0)
    bnez a1, 2b
    ld a0, 0(s0)
    CHECK 36, a0, 42
    /* misaligned AMO: store/AMO address misaligned (6), tval = address */
    li gp, 37
    la t0, 3f
    csrw mtvec, t0
    addi a3, s0, 4
    amoadd.d a0, a2, (a3)
    j fail
    .align 2
3:  csrr a0, mcause
    CHECK 38, a0, 6
    csrr a0, mtval
    li gp, 39
    bne a0, a3, fail
    TEST_PASS

    .data
    .align 4
cell: .dword 0, 0
