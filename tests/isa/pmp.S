/* Physical memory protection.
 *
 * The pipelined core has 16 entries: the CSRs' WARL behaviour (W without R,
 * bits 6:5, odd pmpcfg, pmpaddr16..63), matching in every mode (NA4, NAPOT,
 * TOR, OFF) with R/W/X checked on loads, stores and fetches in S and U mode, an
 * access that an entry matches only in part (fails, in M mode too), M mode
 * (unlocked entries do not apply, MPRV makes loads and stores S-mode ones), no
 * matching entry (S fails, M succeeds), the lock bit (applies to M, freezes the
 * entry and the address below a locked TOR entry), and the page-table walker's
 * reads and A/D writes, which are checked as S-mode loads and stores.
 *
 * Built with -DNO_PMP (the multi-cycle core, no entries): every pmp CSR reads 0
 * and ignores writes.
 */
#include "test.h"

/* case n: the last trap had cause `cause` and tval = register `reg` + off */
.macro FAULT_AT n, cause, reg, off
    EXPECT_TRAP \n, \cause
    addi t6, \reg, \off
    bne s11, t6, fail
.endm

/* M-mode loads and stores as S-mode ones (MPRV, MPP = S); a trap taken in M
 * leaves MPP = U after its mret, so this comes before each such access */
.macro MPRV_S
    li t0, CSR_MSTATUS_MPP
    csrc mstatus, t0
    li t0, MPP_S | CSR_MSTATUS_MPRV
    csrs mstatus, t0
.endm

.macro MPRV_OFF
    li t0, CSR_MSTATUS_MPRV
    csrc mstatus, t0
.endm

#define NAPOT_CFG 0x18
#define TOR_CFG   0x08
#define NA4_CFG   0x10
#define LOCK      0x80

    TEST_START
    CATCH_M
    li s10, -1
#ifdef NO_PMP
    li t0, -1
    csrw pmpaddr0, t0
    csrr a0, pmpaddr0
    CHECK 1, a0, 0
    csrw pmpcfg0, t0
    csrr a0, pmpcfg0
    CHECK 2, a0, 0
    csrr a0, pmpaddr15              /* TEST_START wrote it */
    CHECK 3, a0, 0
    csrr a0, pmpcfg2
    CHECK 4, a0, 0
#else
    /* --- the CSRs --- */
    li t0, -1
    csrw pmpaddr0, t0
    csrr a0, pmpaddr0
    CHECK 1, a0, 0x3fffffffffffff   /* physical address bits 55:2 */
    csrr a0, pmpaddr15
    CHECK 2, a0, 0x3fffffffffffff
    csrr a0, pmpcfg2
    CHECK 3, a0, 0x1F00000000000000
    li t0, 0x6102                   /* entry 0: W without R; entry 1: R, bits 6:5 */
    csrw pmpcfg0, t0
    csrr a0, pmpcfg0
    CHECK 4, a0, 0x0100
    csrw pmpcfg0, zero
    csrw pmpaddr0, zero
    csrr a0, 0x3A1                  /* pmpcfg1: not on RV64 */
    EXPECT_TRAP 5, 2
    li t0, -1
    csrw 0x3C0, t0                  /* pmpaddr16: not implemented, reads 0 */
    csrr a0, 0x3C0
    CHECK 6, a0, 0

    /* --- regions; entry 15 (TEST_START) allows the rest ---
     *   0: NA4   region + 0          R
     *   1: NAPOT region + 64, 64 B   R W
     *   2: OFF   (the bottom of 3)
     *   3: TOR   region + 128 .. +192, nothing
     *   4: NAPOT xpage, 4 KiB        R (no X) */
    la s0, region
    srli t0, s0, 2
    csrw pmpaddr0, t0
    addi t0, s0, 64
    srli t0, t0, 2
    ori t0, t0, 7
    csrw pmpaddr1, t0
    addi t0, s0, 128
    srli t0, t0, 2
    csrw pmpaddr2, t0
    addi t0, s0, 192
    srli t0, t0, 2
    csrw pmpaddr3, t0
    la t0, xpage
    srli t0, t0, 2
    ori t0, t0, 0x1FF
    csrw pmpaddr4, t0
    li t0, ((NAPOT_CFG | 1) << 32) | (TOR_CFG << 24) | ((NAPOT_CFG | 3) << 8) | (NA4_CFG | 1)
    csrw pmpcfg0, t0
    csrr a0, pmpcfg0
    li gp, 7
    bne a0, t0, fail
    GO_MODE MPP_S, s_part
s_part:
    li s10, -1
    lw a0, 0(s0)                    /* NA4, R */
    NO_TRAP 10
    sw a0, 0(s0)
    FAULT_AT 11, 7, s0, 0
    lw a0, 4(s0)                    /* entry 15 */
    NO_TRAP 12
    ld a0, 0(s0)                    /* NA4 matches half of it: fails */
    FAULT_AT 13, 5, s0, 0
    sd a0, 64(s0)                   /* NAPOT, R W */
    ld a0, 120(s0)
    NO_TRAP 14
    lw a0, 128(s0)                  /* TOR, nothing allowed */
    FAULT_AT 15, 5, s0, 128
    sw a0, 188(s0)
    FAULT_AT 16, 7, s0, 188
    lw a0, 192(s0)                  /* just above the TOR range */
    NO_TRAP 17
    lw a0, 126(s0)                  /* misaligned: NAPOT 1 matches 2 of its bytes */
    FAULT_AT 18, 5, s0, 126
    la s7, 1f                       /* a page without X */
    la s1, xcode
    jalr s1
1:  FAULT_AT 19, 1, s1, 0
    ecall                           /* back to M */
    EXPECT_TRAP 20, 9

    /* --- M mode: unlocked entries do not apply, partial matches still fail --- */
    lw a0, 128(s0)
    NO_TRAP 21
    ld a0, 0(s0)
    FAULT_AT 22, 5, s0, 0
    la t0, xcode                    /* executes in M */
    jalr t0
    NO_TRAP 23
    /* MPRV with MPP = S: loads and stores are checked as S-mode ones */
    MPRV_S
    lw a0, 128(s0)
    FAULT_AT 24, 5, s0, 128
    /* no entry matches (entry 15 off): S fails, M succeeds */
    li t1, 0x1F << 56
    csrc pmpcfg2, t1
    MPRV_S
    lw a0, 256(s0)
    FAULT_AT 25, 5, s0, 256
    MPRV_OFF
    lw a0, 256(s0)
    NO_TRAP 26
    csrs pmpcfg2, t1

    /* --- the page-table walker: its accesses are S-mode loads and stores ---
     * entry 5: NAPOT over the root page table, first without any permission */
    li a0, 0x80000000
    PTE pt_root, 2, a0, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    la t0, pt_root
    srli t0, t0, 2
    ori t0, t0, 0x1FF
    csrw pmpaddr5, t0
    li t0, NAPOT_CFG << 40
    csrs pmpcfg0, t0
    SV39_ON pt_root
    MPRV_S                          /* M-mode loads and stores, translated as S */
    lw a0, 256(s0)                  /* the walk cannot read the root */
    FAULT_AT 30, 5, s0, 256
    MPRV_S
    sw a0, 256(s0)
    FAULT_AT 31, 7, s0, 256
    MPRV_OFF
    li t0, 1 << 40                  /* the root readable (R) */
    csrs pmpcfg0, t0
    MPRV_S
    lw a0, 256(s0)
    NO_TRAP 32
    MPRV_OFF
    li a0, 0x80000000               /* D clear: a store must write the PTE */
    PTE pt_root, 2, a0, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A
    sfence.vma
    MPRV_S
    sw a0, 256(s0)                  /* ... which entry 5 does not allow */
    FAULT_AT 33, 7, s0, 256
    MPRV_OFF
    ld a0, pt_root + 16
    andi a0, a0, PTE_D
    CHECK 34, a0, 0
    csrw satp, zero
    sfence.vma

    /* --- a pmp CSR write forgets the pages (and the whole RAM) that the core
     * remembered as allowed: with entry 15 alone, S-mode accesses to the region's
     * page are allowed (and remembered), then entry 0 takes the page away --- */
    csrr s2, pmpcfg0                /* entries 0-7 and pmpaddr0, restored after */
    csrr s3, pmpaddr0
    csrw pmpcfg0, zero
    MPRV_S
    lw a0, 256(s0)
    NO_TRAP 35
    MPRV_S
    sw a0, 256(s0)
    NO_TRAP 36
    srli t0, s0, 2                  /* entry 0: NAPOT over the region's page, nothing */
    ori t0, t0, 0x1FF
    csrw pmpaddr0, t0
    li t0, NAPOT_CFG
    csrw pmpcfg0, t0
    MPRV_S
    lw a0, 256(s0)
    FAULT_AT 37, 5, s0, 256
    MPRV_S
    sw a0, 256(s0)
    FAULT_AT 38, 7, s0, 256
    /* ... and the walker's: the root table read, then taken away */
    csrw pmpcfg0, zero
    SV39_ON pt_root
    MPRV_S
    lw a0, 256(s0)
    NO_TRAP 39
    la t0, pt_root
    srli t0, t0, 2
    ori t0, t0, 0x1FF
    csrw pmpaddr0, t0
    li t0, NAPOT_CFG
    csrw pmpcfg0, t0
    sfence.vma                      /* the walk is made again */
    MPRV_S
    lw a0, 256(s0)
    FAULT_AT 46, 5, s0, 256
    MPRV_OFF
    csrw satp, zero
    sfence.vma
    csrw pmpaddr0, s3
    csrw pmpcfg0, s2

    /* --- the first fetch after a change of the privilege or of the PMP sees
     * the change: with no entry on, M-mode fetches need no check (the core
     * decides that from a register); the first fetch after an mret to S is
     * checked (and fails: no entry matches), and so is the first fetch after
     * the pmpcfg write that locks entry 6 (no permission) over the page of the
     * next instruction, in M mode --- */
    csrr s2, pmpcfg0
    csrr s3, pmpcfg2
    csrw pmpcfg0, zero
    csrw pmpcfg2, zero
    la t0, lpage                    /* entry 6's address, while it is off */
    srli t0, t0, 2
    ori t0, t0, 0x1FF
    csrw pmpaddr6, t0
    la t0, 2f
    csrw mtvec, t0
    li t0, 60                       /* the regions computed: no entry on */
3:  addi t0, t0, -1
    bnez t0, 3b
    li t0, CSR_MSTATUS_MPP
    csrc mstatus, t0
    li t0, MPP_S
    csrs mstatus, t0
    la s1, 1f
    csrw mepc, s1
    j 5f
    .balign 32                      /* one cache line: 1f is fetched (cached) ... */
5:  mret
1:  j fail                          /* ... but in S mode nothing is allowed */
    .align 2
2:  csrr s10, mcause
    csrr s11, mtval
    FAULT_AT 47, 1, s1, 0
    csrr t0, mepc
    li gp, 48
    bne t0, s1, fail
    la t0, 4f
    csrw mtvec, t0
    li t0, 0                        /* lpage's line fetched (cached) once */
    la t1, lwrite
    la t2, 6f
    jr t1                           /* csrw pmpcfg0, t0 at the end of a page */
6:  li t0, 60                       /* no entry on again */
3:  addi t0, t0, -1
    bnez t0, 3b
    li t0, (NAPOT_CFG | LOCK) << 48
    la t2, fail
    jr t1                           /* now lpage must not run */
    .align 2
4:  csrr s10, mcause
    csrr s11, mtval
    la s1, lpage
    FAULT_AT 49, 1, s1, 0
    csrr t0, mepc
    li gp, 50
    bne t0, s1, fail
    CATCH_M
    csrw pmpcfg2, s3
    csrw pmpcfg0, s2                /* (entry 6 stays: locked) */
    csrr a0, pmpcfg0
    li t0, (NAPOT_CFG | LOCK) << 48
    or t0, t0, s2
    li gp, 51
    bne a0, t0, fail

    /* --- the lock bit: entry 3 (TOR, nothing allowed) locked --- */
    li t0, LOCK << 24
    csrs pmpcfg0, t0
    lw a0, 128(s0)                  /* applies to M now */
    FAULT_AT 40, 5, s0, 128
    lw a0, 124(s0)                  /* entry 1 is not locked */
    NO_TRAP 41
    csrr a1, pmpaddr3               /* locked: writes are ignored */
    csrw pmpaddr3, zero
    csrr a0, pmpaddr3
    li gp, 42
    bne a0, a1, fail
    csrr a1, pmpaddr2               /* the bottom of a locked TOR entry too */
    csrw pmpaddr2, zero
    csrr a0, pmpaddr2
    li gp, 43
    bne a0, a1, fail
    csrr a1, pmpcfg0
    li t0, 0xFF << 24               /* entry 3's configuration stays */
    csrc pmpcfg0, t0
    csrr a0, pmpcfg0
    li gp, 44
    bne a0, a1, fail
    li t0, 0xFF << 32               /* entry 4's does not */
    csrc pmpcfg0, t0
    csrr a0, pmpcfg0
    xor a0, a0, a1
    li t0, (NAPOT_CFG | 1) << 32
    li gp, 45
    bne a0, t0, fail
#endif
    TEST_PASS

    .section .text.xpage, "ax"
    .align 12
xpage:
xcode:
    ret
    .align 12

#ifndef NO_PMP
    /* lwrite: the last instruction of its page; lpage: locked by it (the
     * second time) */
    .section .text.lpage, "ax"
    .align 12
    .skip 4092
lwrite:
    csrw pmpcfg0, t0
lpage:
    jr t2
    .align 12
#endif

    .data
    .align 12
region: .fill 512, 1, 0
    SV39_TABLES
