/* Zicsr instructions, CSR fields and WARL behaviour, counters and their
 * access rules from S and U mode. */
#include "test.h"
    TEST_START
    CATCH_M
    li s10, -1
    csrr a0, misa
    CHECK 1, a0, 0x8000000000141101          /* RV64 A I M S U */
    csrr a0, mhartid
    CHECK 2, a0, 0
    csrr a0, mvendorid
    CHECK 3, a0, 0
    /* the six CSR instructions on mscratch */
    li t1, 0x0f0f
    csrw mscratch, t1
    li t2, 0xff00
    csrrw a0, mscratch, t2
    CHECK 4, a0, 0x0f0f
    li t2, 0x00ff
    csrrs a0, mscratch, t2
    CHECK 5, a0, 0xff00
    li t2, 0xf00f
    csrrc a0, mscratch, t2
    CHECK 6, a0, 0xffff
    csrr a0, mscratch
    CHECK 7, a0, 0x0ff0
    csrrwi a0, mscratch, 0x15
    CHECK 8, a0, 0x0ff0
    csrrsi a0, mscratch, 0x0a
    CHECK 9, a0, 0x15
    csrrci a0, mscratch, 0x01
    CHECK 10, a0, 0x1f
    csrr a0, mscratch
    CHECK 11, a0, 0x1e
    /* mstatus: UXL = SXL = 2 (64-bit), MPP is WARL (2 reads back as U) */
    csrr a0, mstatus
    srli a0, a0, 32
    andi a0, a0, 0xf
    CHECK 12, a0, 0xa
    li t0, CSR_MSTATUS_MPP
    csrc mstatus, t0
    li t0, 2 << 11
    csrs mstatus, t0
    csrr a0, mstatus
    li t0, CSR_MSTATUS_MPP
    and a0, a0, t0
    CHECK 13, a0, 0
    /* sstatus is a view of mstatus: SUM written there shows in mstatus,
     * MIE cannot be reached through it */
    li t0, (1 << 18) | CSR_MSTATUS_MIE
    csrs sstatus, t0
    csrr a0, mstatus
    and a0, a0, t0
    CHECK 14, a0, 1 << 18
    csrc sstatus, t0
    /* delegation and interrupt-enable masks */
    li t0, -1
    csrw medeleg, t0
    csrr a0, medeleg
    CHECK 15, a0, 0xb3ff
    csrw mideleg, t0
    csrr a0, mideleg
    CHECK 16, a0, 0x222
    csrw mie, t0
    csrr a0, mie
    CHECK 17, a0, 0xaaa
    csrr a0, sie
    CHECK 18, a0, 0x222
    csrw sie, zero
    csrr a0, mie
    CHECK 19, a0, 0x888
    csrw mie, zero
    csrw mideleg, zero
    csrw medeleg, zero
    /* mtvec keeps Direct/Vectored, mepc has no low bits (IALIGN = 32) */
    la t1, __mcatch
    addi t2, t1, 1
    csrw mtvec, t2
    csrr a0, mtvec
    li gp, 20
    bne a0, t2, fail
    csrw mtvec, t1
    li t0, 0x80000007
    csrw mepc, t0
    csrr a0, mepc
    CHECK 21, a0, 0x80000004
    /* satp: an unsupported mode (Sv48) is ignored as a whole, Sv39 sticks */
    li t0, (9 << 60) | 0x1234
    csrw satp, t0
    csrr a0, satp
    CHECK 22, a0, 0
    li t0, (8 << 60) | (5 << 44) | 0x80123
    csrw satp, t0
    csrr a0, satp
    li gp, 23
    bne a0, t0, fail
    csrw satp, zero
    /* PMP CSRs beyond the entries (16 or none) read 0 and ignore writes
     * (the entries themselves: pmp.S) */
    li t0, 0x3fffffffffffff
    csrw pmpaddr20, t0
    csrr a0, pmpaddr20
    CHECK 24, a0, 0
    csrwi pmpcfg4, 0xf
    csrr a0, pmpcfg4
    CHECK 25, a0, 0
    /* no debug triggers: tselect/tdata1 read 0 (type 0 = no trigger) */
    csrw tselect, zero
    csrr a0, tdata1
    CHECK 54, a0, 0
    /* nonexistent CSR: illegal instruction, mtval = the instruction */
    li s10, -1
1:  csrr a0, 0x7c0
    EXPECT_TRAP 26, 2
    la t0, 1b
    lwu t1, 0(t0)
    li gp, 27
    bne s11, t1, fail
    /* writing a read-only CSR is illegal, reading it is not */
    csrw mhartid, zero
    EXPECT_TRAP 28, 2
    csrrs a0, cycle, zero
    li gp, 29
    li t6, -1
    bne s10, t6, fail
    csrrsi a0, mhartid, 0          /* uimm = 0 does not write */
    bne s10, t6, fail
    li t0, 1
    csrrs a0, instret, t0
    EXPECT_TRAP 30, 2
    /* counters */
    csrr a0, minstret
    csrr a1, minstret
    sub a2, a1, a0
    CHECK 31, a2, 1
    csrr a0, instret
    nop
    nop
    csrr a1, instret
    sub a2, a1, a0
    CHECK 32, a2, 3
    csrr a0, mcycle
    csrr a1, mcycle
    li gp, 33
    bgeu a0, a1, fail
    li t0, 1000
    csrw minstret, t0                /* the write replaces the increment */
    csrr a0, minstret
    CHECK 34, a0, 1000
    csrr a0, time
    li gp, 35
    li t0, CLINT_MTIME
    ld a1, 0(t0)
    bltu a1, a0, fail
    /* counter access from S and U follows mcounteren / scounteren */
    csrw mcounteren, zero
    csrw scounteren, zero
    GO_MODE MPP_S, 2f
2:  li s10, -1
    rdcycle a0
    mv s6, s10
    ecall
    CHECK 36, s6, 2
    li s10, -1
    csrwi mcounteren, 7
    GO_MODE MPP_S, 3f
3:  li s10, -1
    rdcycle a0
    mv s6, s10                        /* -1: no trap */
    rdtime a0
    and s6, s6, s10
    ecall
    EXPECT_TRAP 37, 9
    CHECK 38, s6, -1
    GO_MODE MPP_U, 4f
4:  li s10, -1
    rdinstret a0
    mv s6, s10
    ecall
    EXPECT_TRAP 39, 8
    CHECK 40, s6, 2                  /* U needs scounteren too */
    csrwi scounteren, 2              /* TM only */
    GO_MODE MPP_U, 5f
5:  li s10, -1
    rdtime a0
    mv s6, s10
    rdcycle a0
    mv s5, s10
    ecall
    EXPECT_TRAP 41, 8
    CHECK 42, s6, -1
    CHECK 43, s5, 2
    /* mcounteren = 0 makes rdcycle in S illegal */
    csrw mcounteren, zero
    GO_MODE MPP_S, 6f
6:  li s10, -1
    rdcycle a0
    mv s6, s10
    ecall
    CHECK 44, s6, 2
    /* privilege of the CSR address: S cannot touch M CSRs, U not S CSRs */
    GO_MODE MPP_S, 7f
7:  li s10, -1
    csrr a0, mstatus
    mv s6, s10
    li s10, -1
    csrr a0, sstatus
    mv s5, s10
    ecall
    CHECK 45, s6, 2
    CHECK 46, s5, -1
    GO_MODE MPP_U, 8f
8:  li s10, -1
    csrr a0, sscratch
    mv s6, s10
    ecall
    CHECK 47, s6, 2
    /* stimecmp from S needs menvcfg.STCE and mcounteren.TM */
    csrwi mcounteren, 2
    GO_MODE MPP_S, 9f
9:  li s10, -1
    csrr a0, stimecmp
    mv s6, s10
    ecall
    CHECK 48, s6, 2
    li t0, 1
    slli t0, t0, 63
    csrs menvcfg, t0
    csrr a0, menvcfg
    li gp, 49
    bne a0, t0, fail
    GO_MODE MPP_S, 10f
10: li s10, -1
    csrr a0, stimecmp
    mv s6, s10
    ecall
    CHECK 50, s6, -1
    CHECK 51, a0, -1                  /* reset value: never fires */
    /* TVM: satp from S is illegal */
    li t0, 1 << 20
    csrs mstatus, t0
    GO_MODE MPP_S, 11f
11: li s10, -1
    csrr a0, satp
    mv s6, s10
    ecall
    CHECK 52, s6, 2
    li t0, 1 << 20
    csrc mstatus, t0
    GO_MODE MPP_S, 12f
12: li s10, -1
    csrr a0, satp
    mv s6, s10
    ecall
    CHECK 53, s6, -1
    TEST_PASS
