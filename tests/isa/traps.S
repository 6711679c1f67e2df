/* Synchronous traps: ecall from each mode, illegal instructions (mtval),
 * misaligned accesses and jumps, ebreak, access faults, mret/sret mode
 * changes, delegation to S, and the TSR/TW/TVM traps. */
#include "test.h"

/* case n: the last trap came from privilege mode `mpp` (mstatus.MPP saved
 * in s9 by __mcatch) */
.macro CHECK_MPP n, mpp
    li t0, CSR_MSTATUS_MPP
    and a0, s9, t0
    CHECK \n, a0, \mpp
.endm

/* In S or U: sret, wfi and sfence.vma each trap as illegal instructions;
 * then ecall back to M and check that (cases n, n+1, n+2). */
.macro SYSTEM_OPS_ILLEGAL n
    li s10, -1
    sret
    mv s6, s10
    li s10, -1
    wfi
    mv s5, s10
    li s10, -1
    sfence.vma
    mv s4, s10
    ecall
    CHECK \n, s6, 2
    CHECK \n+1, s5, 2
    CHECK \n+2, s4, 2
.endm

    TEST_START
    CATCH_M
    li s10, -1
    /* ecall from M: cause 11, mepc = the ecall */
1:  ecall
    EXPECT_TRAP 1, 11
    la t0, 1b
    li gp, 2
    bne s8, t0, fail
    CHECK 3, s11, 0
    /* ecall from U (8) and S (9); MPP records the mode */
    GO_MODE MPP_U, 2f
2:  ecall
    EXPECT_TRAP 4, 8
    CHECK_MPP 5, MPP_U
    GO_MODE MPP_S, 3f
3:  ecall
    EXPECT_TRAP 6, 9
    CHECK_MPP 7, MPP_S
    /* illegal instructions: mtval holds the instruction bits */
    .word 0x00000000
    EXPECT_TRAP 8, 2
    CHECK 9, s11, 0
    .word 0xffffffff
    EXPECT_TRAP 10, 2
    CHECK 11, s11, 0xffffffff
    .word 0x00004501                  /* a compressed encoding: no C here */
    EXPECT_TRAP 12, 2
    CHECK 13, s11, 0x4501
    .word 0x0200d0b3                  /* funct7 = 1 with OP funct3 5 is divu: legal */
    NO_TRAP 14
    .word 0x4000f0b3                  /* funct7 0x20 with funct3 7: illegal */
    EXPECT_TRAP 15, 2
    .word 0x0000700f                  /* MISC-MEM funct3 7: illegal */
    EXPECT_TRAP 16, 2
#ifdef MISALIGNED_TRAPS
    /* misaligned loads/stores trap on this core: causes 4 and 6, tval = address */
    la s0, buf
    addi a3, s0, 1
    lh a0, 0(a3)
    EXPECT_TRAP 17, 4
    li gp, 18
    bne s11, a3, fail
    addi a3, s0, 2
    lw a0, 0(a3)
    EXPECT_TRAP 19, 4
    addi a3, s0, 4
    sd a0, 0(a3)
    EXPECT_TRAP 20, 6
#else
    /* misaligned loads and stores complete (misaligned.S); misaligned LR, SC and
     * AMOs still trap: causes 4 and 6, tval = address */
    la s0, buf
    addi a3, s0, 1
    lr.w a0, (a3)
    EXPECT_TRAP 17, 4
    li gp, 18
    bne s11, a3, fail
    addi a3, s0, 2
    lr.d a0, (a3)
    EXPECT_TRAP 19, 4
    addi a3, s0, 4
    amoswap.d a0, a0, (a3)
    EXPECT_TRAP 20, 6
#endif
    li gp, 21
    bne s11, a3, fail
    addi a3, s0, 6
    lh a0, 0(a3)                      /* aligned halfword: fine */
    NO_TRAP 22
    /* misaligned jump target: cause 0 on the jump, tval = target, rd unchanged */
    li ra, 0x55
    la t0, 4f
    addi t0, t0, 2
    la s7, 5f
4:  jalr ra, 0(t0)
    j fail
5:  EXPECT_TRAP 23, 0
    li gp, 24
    bne s11, t0, fail
    la t0, 4b
    bne s8, t0, fail
    CHECK 25, ra, 0x55
    la s7, 6f
7:  .word 0x00000363                  /* beq x0, x0, .+6 */
    j fail
6:  EXPECT_TRAP 26, 0
    la t0, 7b
    addi t0, t0, 6
    li gp, 27
    bne s11, t0, fail
    .word 0x00001363                  /* bne x0, x0, .+6: not taken, no trap */
    NO_TRAP 28
    /* ebreak: cause 3, mepc = the ebreak */
8:  ebreak
    EXPECT_TRAP 29, 3
    la t0, 8b
    li gp, 30
    bne s8, t0, fail
    /* access faults: nothing lives at 0x1000 */
    li a3, 0x1000
    ld a0, 0(a3)
    EXPECT_TRAP 31, 5
    CHECK 32, s11, 0x1000
    sw a0, 0(a3)
    EXPECT_TRAP 33, 7
    la s7, 9f
    jr a3
9:  EXPECT_TRAP 34, 1
    CHECK 35, s11, 0x1000
    CHECK 36, s8, 0x1000
    /* M-mode physical addresses are 56 bits: bits 63:56 set fault */
    li a3, 0x8000000080000000
    ld a0, 0(a3)
    EXPECT_TRAP 37, 5
    /* mret: MIE <- MPIE, MPIE <- 1, MPP <- U */
    li t0, CSR_MSTATUS_MPP | (1 << 7)
    csrs mstatus, t0                  /* MPP = M, MPIE = 1 */
    la t0, 10f
    csrw mepc, t0
    mret
10: csrr a0, mstatus
    li t0, CSR_MSTATUS_MPP | (1 << 7) | CSR_MSTATUS_MIE
    and a0, a0, t0
    CHECK 38, a0, (1 << 7) | CSR_MSTATUS_MIE
    csrci mstatus, CSR_MSTATUS_MIE
    /* mret to a lower mode clears MPRV */
    li t0, CSR_MSTATUS_MPRV
    csrs mstatus, t0
    GO_MODE MPP_S, 11f
11: ecall
    li t0, CSR_MSTATUS_MPRV
    and a0, s9, t0
    CHECK 39, a0, 0
    /* privileged instructions in the wrong mode are illegal */
    GO_MODE MPP_S, 12f
12: li s10, -1
    mret
    mv s6, s10
    ecall
    CHECK 40, s6, 2
    GO_MODE MPP_U, 13f
13: SYSTEM_OPS_ILLEGAL 41
    /* delegation: ecall from U and illegal instructions go to S */
    la t0, __scatch
    csrw stvec, t0
    li t0, (1 << 8) | (1 << 2)
    csrw medeleg, t0
    /* ... but a trap taken in M stays in M */
    .word 0
    EXPECT_TRAP 44, 2
    CHECK_MPP 45, MPP_M
    GO_MODE MPP_S, 14f
14: li s10, -1
    .word 0xffffffff                  /* illegal in S: handled by S */
    mv s6, s10
    mv s5, s11
    la t0, 15f
    csrw sepc, t0
    li t0, 1 << 8
    csrc sstatus, t0                  /* SPP = U */
    li t0, 1 << 5
    csrs sstatus, t0                  /* SPIE = 1 */
    sret
15: ecall                             /* U -> S (delegated), back in S */
    mv s4, s10
    csrr s3, sstatus
    ecall                             /* S -> M */
    CHECK 46, s6, 2
    CHECK 47, s5, 0xffffffff
    CHECK 48, s4, 8
    li t0, 1 << 8                     /* SPP = U recorded by the trap from U */
    and a0, s3, t0
    CHECK 49, a0, 0
    EXPECT_TRAP 50, 9                 /* ecall from S is not delegated */
    li t0, CSR_MSTATUS_SIE
    and a0, s9, t0                    /* the handler's sret restored SIE = 1 */
    CHECK 51, a0, CSR_MSTATUS_SIE
    csrci mstatus, CSR_MSTATUS_SIE
    /* scause/sepc/stval were written, mcause/mepc kept for M traps */
    csrr a0, scause
    CHECK 52, a0, 8
    csrw medeleg, zero
    /* TSR: sret in S traps; TW: wfi in S traps; TVM: sfence.vma in S traps */
    li t0, (1 << 22) | (1 << 21) | (1 << 20)
    csrs mstatus, t0
    GO_MODE MPP_S, 16f
16: SYSTEM_OPS_ILLEGAL 53
    li t0, (1 << 22) | (1 << 21) | (1 << 20)
    csrc mstatus, t0
    /* without them: sfence.vma in S is fine */
    GO_MODE MPP_S, 17f
17: li s10, -1
    sfence.vma
    mv s4, s10
    ecall
    CHECK 56, s4, -1
    TEST_PASS

    .data
    .align 3
buf: .dword 0x1122334455667788, 0
