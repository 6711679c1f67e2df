/* Sv39 virtual memory through the MMU: 4 KiB, 2 MiB and 1 GiB pages,
 * U/S permissions, SUM, hardware-set A/D bits, reserved and
 * misaligned PTEs, non-canonical addresses, MPRV, sfence.vma.
 *
 * Page tables are built at run time in M mode.  Virtual layout:
 *   0x8000_0000 1 GiB  identity, RWX, supervisor  (the test body runs here)
 *   0x4000_0000 1 GiB  -> 0x8000_0000, RWX + U      (user alias of the program)
 *   0xC000_0000 1 GiB  leaf with a misaligned PPN   (page fault)
 *   0x0020_0000 2 MiB  -> 0x8000_0000, RW           (2 MiB page)
 *   0x0040_0000 2 MiB  misaligned PPN               (page fault)
 *   0x0000_1000..      4 KiB pages onto page_a / page_b (see MAP4K below)
 * Faults are handled in M by __mcatch (no delegation).
 */
#include "test.h"
#define USER_ALIAS (0x40000000 - 0x80000000)

    TEST_START
    CATCH_M
    li s10, -1
    /* --- page tables --- */
    li a0, 0x80000000
    PTE pt_root, 2, a0, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    PTE pt_root, 1, a0, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D
    li a1, 0x80200000
    PTE pt_root, 3, a1, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    la a1, pt_l1
    PTE pt_root, 0, a1, PTE_V
    PTE pt_l1, 1, a0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    li a1, 0x80001000
    PTE pt_l1, 2, a1, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    la a1, pt_l0
    PTE pt_l1, 0, a1, PTE_V
    la a2, page_a
    la a3, page_b
    PTE pt_l0, 1, a2, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D      /* 0x1000 rw */
    PTE pt_l0, 2, a2, PTE_V | PTE_R | PTE_A                      /* 0x2000 r  */
    PTE pt_l0, 3, a2, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D   /* 0x3000 user */
    PTE pt_l0, 4, a2, PTE_V | PTE_X | PTE_A                      /* 0x4000 x only */
    PTE pt_l0, 5, a2, PTE_V | PTE_R | PTE_W                      /* 0x5000 A=D=0 */
    PTE pt_l0, 6, a2, PTE_R | PTE_W | PTE_A | PTE_D              /* 0x6000 V=0 */
    PTE pt_l0, 7, a2, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D      /* 0x7000 remapped later */
    PTE pt_l0, 8, a2, PTE_V | PTE_W | PTE_A | PTE_D              /* 0x8000 W without R */
    SV39_ON pt_root
    /* M mode ignores satp */
    la t0, page_a
    ld a0, 0(t0)
    CHECK 1, a0, 0xaaaa0001
    GO_MODE MPP_S, s_body

s_body:
    /* S mode, translated (the body runs on the identity gigapage) */
    li s10, -1
    li t0, 0x1000
    ld a0, 0(t0)
    CHECK 2, a0, 0xaaaa0001
    ld a0, 8(t0)
    CHECK 3, a0, 0xaaaa0002
    la t0, page_a                      /* 2 MiB page */
    li t1, 0x80000000 - 0x200000
    sub t0, t0, t1
    ld a0, 0(t0)
    CHECK 4, a0, 0xaaaa0001
    li t0, 0x400000                    /* misaligned superpage */
    ld a0, 0(t0)
    FAULT 5, 13, 0x400000
    li t0, 0xc0000000
    sd a0, 0(t0)
    FAULT 6, 15, 0xc0000000
    /* read-only page: loads fine, stores fault */
    li t0, 0x2000
    ld a0, 0(t0)
    CHECK 7, a0, 0xaaaa0001
    li s10, -1
    sd a0, 0(t0)
    FAULT 8, 15, 0x2000
    amoadd.d a0, a0, (t0)              /* AMOs are stores */
    FAULT 9, 15, 0x2000
    lr.d a0, (t0)                      /* LR is a load */
    NO_TRAP 10
    /* user page from S: faults unless SUM */
    li t0, 0x3000
    ld a0, 0(t0)
    FAULT 11, 13, 0x3000
    li t1, CSR_MSTATUS_SUM
    csrs sstatus, t1
    ld a0, 0(t0)
    CHECK 12, a0, 0xaaaa0001
    NO_TRAP 13
    /* the user gigapage (1 GiB page) through SUM */
    la t0, page_a
    li t1, USER_ALIAS
    add t0, t0, t1
    ld a0, 8(t0)
    CHECK 14, a0, 0xaaaa0002
    li t1, CSR_MSTATUS_SUM
    csrc sstatus, t1
    /* execute-only page: loads fault (MXR: see vm_mxr.S) */
    li t0, 0x4000
    ld a0, 0(t0)
    FAULT 17, 13, 0x4000
    /* W without R is reserved: page fault */
    li t0, 0x8000
    ld a0, 0(t0)
    FAULT 20, 13, 0x8000
    /* non-canonical address (bit 38 set, 63:39 clear) */
    li t0, 0x4000000000
    ld a0, 0(t0)
    FAULT 21, 13, 0x4000000000
    /* A and D are set by the hardware */
    li t0, 0x5000
    ld a0, 0(t0)
    CHECK 22, a0, 0xaaaa0001
    la t1, pt_l0
    ld a1, (5 * 8)(t1)
    andi a1, a1, PTE_A | PTE_D
    CHECK 23, a1, PTE_A
    li t2, 0x1234
    sd t2, 16(t0)
    ld a1, (5 * 8)(t1)
    andi a1, a1, PTE_A | PTE_D
    CHECK 24, a1, PTE_A | PTE_D
    la t2, page_a
    ld a0, 16(t2)
    CHECK 25, a0, 0x1234
    /* invalid PTE faults; valid after fixing it and sfence.vma */
    li t0, 0x6000
    ld a0, 0(t0)
    FAULT 26, 13, 0x6000
    la t1, pt_l0
    ld a1, (6 * 8)(t1)
    ori a1, a1, PTE_V
    sd a1, (6 * 8)(t1)
    sfence.vma t0, zero
    ld a0, 0(t0)
    CHECK 27, a0, 0xaaaa0001
    /* remap 0x7000 from page_a to page_b: sfence.vma makes it visible */
    li t0, 0x7000
    ld a0, 0(t0)
    CHECK 28, a0, 0xaaaa0001
    la a3, page_b
    PTE pt_l0, 7, a3, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    li t0, 0x7000
    sfence.vma t0, zero
    ld a0, 0(t0)
    CHECK 29, a0, 0xbbbb0001
    /* the same after a full flush */
    la a2, page_a
    PTE pt_l0, 7, a2, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    sfence.vma
    li t0, 0x7000
    ld a0, 0(t0)
    CHECK 30, a0, 0xaaaa0001
    li t1, CSR_MSTATUS_SUM
    csrs sstatus, t1
    /* S never executes user pages, SUM or not (SUM = 1 here) */
    la t0, s_back
    li t1, USER_ALIAS
    add t0, t0, t1
    la s7, s_back
    mv a4, t0
    jr t0
s_back:
    EXPECT_TRAP 15, 12
    li gp, 16
    bne s11, a4, fail
    li t1, CSR_MSTATUS_SUM
    csrc sstatus, t1
    /* user mode on the user alias of this program */
    la t0, u_body
    li t1, USER_ALIAS
    add t0, t0, t1
    csrw sepc, t0
    li t1, 1 << 8
    csrc sstatus, t1                   /* SPP = U */
    sret

u_body:
    li s10, -1
    li t0, 0x3000
    ld a0, 0(t0)                       /* U page: fine */
    CHECK 31, a0, 0xaaaa0001
    NO_TRAP 32
    li t0, 0x1000
    ld a0, 0(t0)                       /* S page from U: fault */
    FAULT 33, 13, 0x1000
    li t0, 0x3000
    li t1, 0x77
    sd t1, 24(t0)
    NO_TRAP 34
    la s7, m_after                     /* the alias address of m_after ... */
    li t1, USER_ALIAS
    sub s7, s7, t1                     /* ... made physical for M */
    ecall                              /* back to M (cause 8) at m_after */

m_after:
    /* M with MPRV: data accesses use MPP's privilege and translation */
    EXPECT_TRAP 35, 8
    li t0, CSR_MSTATUS_MPP
    csrc mstatus, t0
    li t0, CSR_MSTATUS_MPRV | MPP_S
    csrs mstatus, t0
    li t0, 0x1000
    ld a0, 0(t0)
    CHECK 36, a0, 0xaaaa0001
    li t0, CSR_MSTATUS_MPP
    csrc mstatus, t0                   /* MPP = U: S page faults */
    li t0, 0x1000
    ld a0, 0(t0)
    FAULT 37, 13, 0x1000
    li t0, CSR_MSTATUS_MPRV
    csrc mstatus, t0
    la t0, page_a
    ld a0, 24(t0)
    CHECK 38, a0, 0x77                 /* the user store landed */
    csrw satp, zero
    TEST_PASS

    SV39_TABLES
page_a:  .dword 0xaaaa0001, 0xaaaa0002, 0, 0
    .align 12
page_b:  .dword 0xbbbb0001, 0xbbbb0002, 0, 0
    .align 12
