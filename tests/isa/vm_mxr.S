/* Sv39: mstatus.MXR makes execute-only pages readable (loads only). */
#include "test.h"
#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_A 0x40
#define PTE_D 0x80
#define MXR   (1 << 19)

.macro PTE table, idx, pa, flags
    srli t1, \pa, 12
    slli t1, t1, 10
    ori t1, t1, \flags
    la t0, \table
    sd t1, (\idx * 8)(t0)
.endm

    TEST_START
    CATCH_M
    li s10, -1
    li a0, 0x80000000
    PTE pt_root, 2, a0, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    la a1, pt_l1
    PTE pt_root, 0, a1, PTE_V
    la a1, pt_l0
    PTE pt_l1, 0, a1, PTE_V
    la a2, page_a
    PTE pt_l0, 4, a2, PTE_V | PTE_X | PTE_A | PTE_D          /* 0x4000 execute-only */
    la t0, pt_root
    srli t0, t0, 12
    li t1, 8 << 60
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    GO_MODE MPP_S, 1f
1:  li s10, -1
    li t0, 0x4000
    ld a0, 0(t0)                       /* MXR = 0: load page fault */
    EXPECT_TRAP 1, 13
    li t1, MXR
    csrs sstatus, t1
    ld a0, 0(t0)                       /* MXR = 1: readable */
    CHECK 2, a0, 0x5a5a0001
    li gp, 3
    li t6, -1
    bne s10, t6, fail
    sd a0, 0(t0)                       /* but still not writable */
    EXPECT_TRAP 4, 15
    ecall
    csrw satp, zero
    TEST_PASS

    .data
    .align 12
pt_root: .fill 512, 8, 0
pt_l1:   .fill 512, 8, 0
pt_l0:   .fill 512, 8, 0
page_a:  .dword 0x5a5a0001, 0
    .align 12
