/* Sv39: mstatus.MXR makes execute-only pages readable (loads only). */
#include "test.h"

    TEST_START
    CATCH_M
    li s10, -1
    SV39_IDENTITY
    la a2, page_a
    PTE pt_l0, 4, a2, PTE_V | PTE_X | PTE_A | PTE_D          /* 0x4000 execute-only */
    SV39_ON pt_root
    GO_MODE MPP_S, 1f
1:  li s10, -1
    li t0, 0x4000
    ld a0, 0(t0)                       /* MXR = 0: load page fault */
    EXPECT_TRAP 1, 13
    li t1, CSR_MSTATUS_MXR
    csrs sstatus, t1
    ld a0, 0(t0)                       /* MXR = 1: readable */
    CHECK 2, a0, 0x5a5a0001
    NO_TRAP 3
    sd a0, 0(t0)                       /* but still not writable */
    EXPECT_TRAP 4, 15
    ecall
    csrw satp, zero
    TEST_PASS

    SV39_TABLES
page_a:  .dword 0x5a5a0001, 0
    .align 12
