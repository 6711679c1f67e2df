/* Misaligned loads and stores.
 *
 * The pipelined core completes them in hardware (Zicclsm): every size at every
 * offset 0..15 of a doubleword pair is loaded (ld, lwu, lw, lhu, lh) and stored
 * (sd, sw, sh) and checked byte by byte, in M mode, across a page boundary,
 * and in S mode under Sv39 across two pages mapped to swapped physical pages.
 * An access crossing into a page that faults reports the first byte of that
 * page (the part that faulted), and a store that faults writes nothing.
 * Misaligned accesses to a device fault (access fault, tval = address);
 * misaligned LR, SC and AMOs trap with causes 4 and 6.
 *
 * Built with -DMISALIGNED_TRAPS (the multi-cycle core): misaligned loads and
 * stores trap with causes 4 and 6, tval = the address.
 */
#include "test.h"

/* 32 bytes at `base` (8-aligned): 0x83, 0xa8, 0xcd, ... */
.macro FILL base
    li t2, 0
    li t4, 0x83
1:  add t3, \base, t2
    sb t4, 0(t3)
    addi t4, t4, 0x25
    addi t2, t2, 1
    li t0, 32
    blt t2, t0, 1b
.endm

/* Every load at base + off, off = 0..15 (case casebase + off), against the
 * value put together from its bytes (lbu). */
.macro CHECK_LOADS base, casebase
    li s1, 0
1:  add s2, \base, s1
    li a4, 0
    li t2, 7
2:  add t3, s2, t2
    lbu t4, 0(t3)
    slli a4, a4, 8
    or a4, a4, t4
    addi t2, t2, -1
    bgez t2, 2b
    li gp, \casebase
    add gp, gp, s1
    ld a0, 0(s2)
    bne a0, a4, fail
    lwu a0, 0(s2)
    slli t5, a4, 32
    srli t5, t5, 32
    bne a0, t5, fail
    lw a0, 0(s2)
    addiw t5, a4, 0
    bne a0, t5, fail
    lhu a0, 0(s2)
    slli t5, a4, 48
    srli t5, t5, 48
    bne a0, t5, fail
    lh a0, 0(s2)
    slli t5, a4, 48
    srai t5, t5, 48
    bne a0, t5, fail
    li t6, -1
    bne s10, t6, fail
    addi s1, s1, 1
    li t0, 16
    blt s1, t0, 1b
.endm

/* Every store (sd, sw, sh) at base + off, off = 0..15 (case casebase + off),
 * into 32 zeroed bytes: the bytes it covers hold the value's, the others 0. */
.macro CHECK_STORES base, casebase
    li s1, 0
1:  li s3, 8
3:  sd zero, 0(\base)
    sd zero, 8(\base)
    sd zero, 16(\base)
    sd zero, 24(\base)
    li gp, \casebase
    add gp, gp, s1
    add s2, \base, s1
    li a5, 0x8877665544332211
    li t0, 8
    beq s3, t0, 4f
    li t0, 4
    beq s3, t0, 5f
    sh a5, 0(s2)
    j 6f
4:  sd a5, 0(s2)
    j 6f
5:  sw a5, 0(s2)
6:  li t6, -1
    bne s10, t6, fail
    li t2, 0
7:  add t3, \base, t2
    lbu t4, 0(t3)
    sub t5, t2, s1
    li a6, 0
    bltz t5, 8f
    bge t5, s3, 8f
    slli t5, t5, 3
    srl a6, a5, t5
    andi a6, a6, 0xff
8:  bne t4, a6, fail
    addi t2, t2, 1
    li t0, 32
    blt t2, t0, 7b
    srli s3, s3, 1
    li t0, 2
    bge s3, t0, 3b
    addi s1, s1, 1
    li t0, 16
    blt s1, t0, 1b
.endm

    TEST_START
    CATCH_M
    li s10, -1
    la s0, buf
#ifdef MISALIGNED_TRAPS
    addi a3, s0, 1
    lh a0, 0(a3)
    EXPECT_TRAP 1, 4
    li gp, 2
    bne s11, a3, fail
    addi a3, s0, 6
    lw a0, 0(a3)
    EXPECT_TRAP 3, 4
    li gp, 4
    bne s11, a3, fail
    addi a3, s0, 3
    ld a0, 0(a3)
    EXPECT_TRAP 5, 4
    addi a3, s0, 7
    sh a0, 0(a3)
    EXPECT_TRAP 6, 6
    li gp, 7
    bne s11, a3, fail
    addi a3, s0, 2
    sw a0, 0(a3)
    EXPECT_TRAP 8, 6
    addi a3, s0, 4
    sd a0, 0(a3)
    EXPECT_TRAP 9, 6
    li gp, 10
    bne s11, a3, fail
#else
    /* --- M mode: every size and offset --- */
    FILL s0
    CHECK_LOADS s0, 100
    CHECK_STORES s0, 200
    /* --- across a page boundary (M mode: no translation) --- */
    la s4, pg1
    addi s4, s4, -8
    FILL s4
    CHECK_LOADS s4, 300
    CHECK_STORES s4, 400
    /* --- devices take aligned accesses only: access fault, tval = address --- */
    li a3, CLINT_MTIMECMP + 2
    lw a0, 0(a3)
    FAULT 11, 5, CLINT_MTIMECMP + 2
    li a3, CLINT_MTIMECMP + 1
    sh a0, 0(a3)
    FAULT 12, 7, CLINT_MTIMECMP + 1
    li a3, CLINT_MTIMECMP + 4
    sd a0, 0(a3)
    FAULT 13, 7, CLINT_MTIMECMP + 4

    /* --- Sv39, S mode ---
     *   0x8000_0000 1 GiB identity (the program)
     *   0x1000 -> pg0, 0x2000 unmapped, 0x3000 -> pg1
     *   0x4000 -> pg0, 0x5000 -> pg1 read-only
     *   0x6000 -> pg1, 0x7000 -> pg0 (a pair of pages in swapped order) */
    SV39_IDENTITY
    la a2, pg0
    la a3, pg1
    PTE pt_l0, 1, a2, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    PTE pt_l0, 3, a3, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    PTE pt_l0, 4, a2, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    PTE pt_l0, 5, a3, PTE_V | PTE_R | PTE_A
    PTE pt_l0, 6, a3, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    PTE pt_l0, 7, a2, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    SV39_ON pt_root
    GO_MODE MPP_S, s_body
s_body:
    li s10, -1
    li s4, 0x6FF8
    FILL s4
    CHECK_LOADS s4, 500
    CHECK_STORES s4, 600
    /* the second page is unmapped: the fault names its first byte */
    li a3, 0x1FFE
    li a0, 0x5A
    sb a0, 0(a3)
    li a0, 0x5B
    sb a0, 1(a3)
    lw a0, 0(a3)
    FAULT 20, 13, 0x2000
    li a3, 0x1FFC
    ld a0, 0(a3)
    FAULT 21, 13, 0x2000
    ld a1, -4(a3)               /* again with the first doubleword in the data cache */
    ld a0, 0(a3)
    FAULT 29, 13, 0x2000
    li a3, 0x1FFE
    li a0, -1
    sw a0, 0(a3)
    FAULT 22, 15, 0x2000
    lbu a0, 0(a3)               /* nothing of the faulting store was written */
    CHECK 23, a0, 0x5A
    lbu a0, 1(a3)
    CHECK 24, a0, 0x5B
    /* the first page is unmapped: the fault names the access */
    li a3, 0x2FFE
    lw a0, 0(a3)
    FAULT 25, 13, 0x2FFE
    li a3, 0x2FFF
    sh a0, 0(a3)
    FAULT 26, 15, 0x2FFF
    /* the second page is read-only: loads work, a store faults on it */
    li a3, 0x4FFE
    li a0, 0x11
    sb a0, 0(a3)
    li a0, -1
    sw a0, 0(a3)
    FAULT 27, 15, 0x5000
    lbu a0, 0(a3)
    CHECK 28, a0, 0x11
    lw a0, 0(a3)
    NO_TRAP 29
    ecall                       /* back to M */
    EXPECT_TRAP 30, 9
    csrw satp, zero
    sfence.vma
#endif
    /* --- misaligned LR, SC and AMOs trap (both cores) --- */
    addi a3, s0, 2
    lr.w a0, (a3)
    EXPECT_TRAP 40, 4
    li gp, 41
    bne s11, a3, fail
    addi a3, s0, 4
    sc.d a0, a0, (a3)
    EXPECT_TRAP 42, 6
    addi a3, s0, 1
    amoadd.w a0, a0, (a3)
    EXPECT_TRAP 43, 6
    li gp, 44
    bne s11, a3, fail
    addi a3, s0, 4
    amoor.d a0, a0, (a3)
    EXPECT_TRAP 45, 6
    TEST_PASS

    .data
    .align 6
buf: .fill 64, 1, 0
    .align 12
pg0: .fill 4096, 1, 0
pg1: .fill 4096, 1, 0
    SV39_TABLES
