/* The pipeline's forwarding paths and interlocks: every kind of producer
 * followed by a consumer at distance 0..3, on either source operand, and
 * branch shapes that the predictor gets wrong (with stores in the wrong
 * path that must not happen).  Each case leaves its result in a3. */
#include "test.h"

/* case n: `prod` writes a0 (a1 = 7, a2 = 5, s0 = cell), `nops` nops, then
 * `cons` computes a3 from a0; a3 must be `want`. */
.macro FWD n, nops, prod, cons, want
    li gp, \n
    li a1, 7
    li a2, 5
    li a3, 0
    la s0, cell
    \prod
    .rept \nops
    nop
    .endr
    \cons
    li t6, \want
    bne a3, t6, fail
.endm

/* the same case at distances 0, 1, 2 and 3 (cases n, n+1, n+2, n+3) */
.macro FWD4 n, prod, cons, want
    FWD (\n), 0, "\prod", "\cons", \want
    FWD (\n + 1), 1, "\prod", "\cons", \want
    FWD (\n + 2), 2, "\prod", "\cons", \want
    FWD (\n + 3), 3, "\prod", "\cons", \want
.endm

    TEST_START
    /* memory the loads read */
    la s0, cell
    li t0, 0x1234
    sd t0, 0(s0)
    li t0, 0xffffffff80000000
    sd t0, 8(s0)
    la t0, slot
    sd t0, 24(s0)
    la t0, jtarget
    sd t0, 40(s0)
    li t0, 99
    csrw mscratch, t0

    /* ALU -> ALU, on rs1, rs2 and both */
    FWD4 10, "add a0, a1, a2", "sub a3, a0, a2", 7
    FWD4 20, "add a0, a1, a2", "sub a3, a2, a0", -7
    FWD4 30, "add a0, a1, a2", "add a3, a0, a0", 24
    FWD4 40, "slli a0, a1, 60", "srai a3, a0, 60", 7
    FWD4 50, "addiw a0, a1, -8", "addi a3, a0, 0", -1
    FWD4 60, "lui a0, 0x80000", "srli a3, a0, 31", 0x1ffffffff
    /* load -> ALU (the load-use interlock), on rs1 and rs2 */
    FWD4 70, "ld a0, 0(s0)", "addi a3, a0, 1", 0x1235
    FWD4 80, "ld a0, 0(s0)", "sub a3, a2, a0", 5 - 0x1234
    FWD4 90, "lw a0, 8(s0)", "add a3, a0, x0", 0xffffffff80000000
    FWD4 100, "lbu a0, 1(s0)", "addi a3, a0, 0", 0x12
    FWD4 110, "lh a0, 12(s0)", "addi a3, a0, 0", -1
    /* load -> store data and store address, then read back */
    FWD4 120, "ld a0, 0(s0)", "sd a0, 16(s0); ld a3, 16(s0)", 0x1234
    FWD4 130, "ld a0, 24(s0)", "sd a2, 0(a0); ld a3, 0(a0)", 5
    /* ALU -> store data */
    FWD4 140, "addi a0, a1, 100", "sd a0, 16(s0); ld a3, 16(s0)", 107
    /* load -> branch and ALU -> branch */
    FWD4 150, "ld a0, 0(s0)", "li t5, 0x1234; bne a0, t5, 1f; addi a3, x0, 1; 1:", 1
    FWD4 160, "addi a0, a1, 1", "bne a0, a1, 1f; j 2f; 1: addi a3, x0, 1; 2:", 1
    FWD4 170, "ld a0, 0(s0)", "beq a0, x0, 1f; addi a3, x0, 1; 1:", 1
    /* multiply and divide -> use */
    FWD4 180, "mul a0, a1, a2", "addi a3, a0, 1", 36
    FWD4 190, "mulh a0, a1, a2", "addi a3, a0, 1", 1
    FWD4 200, "div a0, a1, a2", "add a3, a0, a0", 2
    FWD4 210, "remw a0, a1, a2", "sub a3, a1, a0", 5
    /* CSR read -> use; AMO and LR -> use */
    FWD4 220, "csrr a0, mscratch", "addi a3, a0, 1", 100
    FWD4 230, "amoadd.d a0, x0, (s0)", "addi a3, a0, 0", 0x1234
    FWD4 240, "lr.d a0, (s0)", "addi a3, a0, 0", 0x1234
    /* jump links and targets */
    FWD4 250, "jal a0, 1f; 1: auipc a4, 0", "sub a3, a4, a0", 0
    FWD4 260, "la a0, 1f", "jalr x0, 0(a0); j fail; 1: addi a3, x0, 3", 3
    FWD4 270, "ld a0, 40(s0)", "jalr ra, 0(a0)", 42
    /* x0 is never forwarded; the youngest write wins */
    FWD4 280, "addi x0, a1, 5", "add a3, x0, a2", 5
    FWD4 290, "addi a0, x0, 1; addi a0, x0, 2", "addi a3, a0, 0", 2
    FWD4 300, "ld a0, 0(s0); addi a0, x0, 3", "addi a3, a0, 0", 3
    FWD4 310, "ld a0, 0(s0); ld a0, 8(s0)", "srli a3, a0, 63", 1

    /* A branch taken on every third iteration: the predictor is wrong now
     * and then.  The wrong path stores a marker that must never arrive. */
    li gp, 400
    sd x0, 32(s0)
    li t0, 30
    li t1, 0
    li t2, 0
1:  addi t1, t1, 1
    li t3, 3
    bne t1, t3, 2f
    li t1, 0
    addi t2, t2, 1
    j 3f
2:  nop
3:  addi t0, t0, -1
    bnez t0, 1b
    j 4f
    sd a1, 32(s0)           /* never runs */
4:  ld t4, 32(s0)
    bnez t4, fail
    CHECK 401, t2, 10

    /* A function called from three places: returns go to different
     * addresses (the target buffer remembers only the last). */
    li gp, 410
    li a3, 0
    li t0, 4
5:  jal ra, bump
    jal ra, bump
    addi t0, t0, -1
    jal ra, bump
    bnez t0, 5b
    CHECK 411, a3, 12

    /* a mispredicted branch in the shadow of a load-use stall */
    li gp, 420
    li t0, 8
    li a3, 0
6:  ld a0, 0(s0)
    beq a0, x0, fail
    andi t1, t0, 1
    beqz t1, 7f
    addi a3, a3, 1
7:  addi t0, t0, -1
    bnez t0, 6b
    CHECK 421, a3, 4

    TEST_PASS

bump:
    addi a3, a3, 1
    ret

jtarget:
    li a3, 42
    ret

    .data
    .align 3
cell:
    .dword 0, 0, 0, 0, 0, 0
slot:
    .dword 0
