/*
 * Bare-metal scenario of `make wave SCENARIO=baremetal`: two virtual addresses
 * map the same physical page through leaf PTEs that have PTE_S (bit 8) set, the
 * way xv6's map_shared_pages marks a shared mapping.  Accessed from S and U mode,
 * so the MMU walks the Sv39 tables over S leaves, sets A and D, and faults once.
 *
 * Virtual layout (built in M mode at run time):
 *   0x8000_0000  1 GiB identity, RWX+U      code and data of U mode
 *   0xC000_0000  1 GiB -> 0x8000_0000, RWX  the same code for S mode
 *   0x0000_1000  4 KiB -> shared, R W U S   A = D = 0: the MMU sets them
 *   0x0000_2000  4 KiB -> shared, R U S A   read only: a store faults
 *
 * Steps: S (with SUM) loads 0x1000 (walk, A set); U loads 0x2000 (walk), stores
 * to 0x1000 (the TLB entry has D = 0: walk again, D set), loads 0x2000 again
 * (TLB hit, sees the store), stores to 0x2000 (page fault 15, skipped by M).
 * tohost = 1 when every step did what it should, (n << 1) | 1 when step n failed.
 */
#define PTE_V (1 << 0)
#define PTE_R (1 << 1)
#define PTE_W (1 << 2)
#define PTE_X (1 << 3)
#define PTE_U (1 << 4)
#define PTE_A (1 << 6)
#define PTE_D (1 << 7)
#define PTE_S (1 << 8)
#define MSTATUS_MPP  (3 << 11)
#define MSTATUS_SUM  (1 << 18)
#define S_ALIAS      (0xC0000000 - 0x80000000)
#define PATTERN      0x5348415245440001      /* "SHARED" + 1 */

/* entry \idx of \table := PTE for the physical address in \pa with \flags */
.macro SET_PTE table, idx, pa, flags
    srli t1, \pa, 12
    slli t1, t1, 10
    li t2, \flags
    or t1, t1, t2
    la t0, \table
    sd t1, (\idx * 8)(t0)
.endm

    .section .text.init, "ax"
    .globl _start
_start:
    la t0, m_trap
    csrw mtvec, t0
    li s1, 1                            /* step number, for the failure code */
    li a0, 0x80000000
    SET_PTE pt_root, 2, a0, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D
    SET_PTE pt_root, 3, a0, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    la a0, pt_mid
    SET_PTE pt_root, 0, a0, PTE_V
    la a0, pt_leaf
    SET_PTE pt_mid, 0, a0, PTE_V
    la a0, shared
    SET_PTE pt_leaf, 1, a0, PTE_V | PTE_R | PTE_W | PTE_U | PTE_S
    SET_PTE pt_leaf, 2, a0, PTE_V | PTE_R | PTE_U | PTE_S | PTE_A
    la t0, pt_root
    srli t0, t0, 12
    li t1, 8 << 60                      /* MODE = Sv39, ASID 0 */
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    li t0, -1                           /* PMP entry 0: NAPOT over everything, R W X */
    csrw pmpaddr0, t0                   /* (without a matching entry S and U could */
    li t0, 0x1f                         /* access nothing) */
    csrw pmpcfg0, t0
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    li t0, (1 << 11) | MSTATUS_SUM      /* MPP = S, S may touch U pages */
    csrs mstatus, t0
    la t0, s_code
    li t1, S_ALIAS
    add t0, t0, t1
    csrw mepc, t0
    mret

s_code:                                 /* runs at its 0xC000_0000 alias */
    li t0, 0x1000
    ld a1, 0(t0)                        /* the page starts with 7 */
    li s1, 2
    li t1, 7
    bne a1, t1, s_fail
    ecall                               /* cause 9: on to U mode */
s_fail:
    li a0, 0
    ecall

u_code:                                 /* runs at its identity address */
    li t0, 0x2000
    ld a1, 0(t0)
    li t1, 0x1000
    li t2, PATTERN
    sd t2, 0(t1)
    ld a2, 0(t0)                        /* the store through the other alias */
    sd t2, 0(t0)                        /* read-only alias: page fault, skipped */
    ecall                               /* cause 8: M checks a1, a2 */

m_trap:
    csrr t0, mcause
    li t1, 9
    beq t0, t1, from_s
    li t1, 15
    beq t0, t1, store_fault
    li t1, 8
    beq t0, t1, from_u
    j fail
from_s:
    li s1, 3
    beqz a0, fail                       /* s_fail reports the bad load */
    li t0, MSTATUS_MPP
    csrc mstatus, t0                    /* MPP = U */
    la t0, u_code
    csrw mepc, t0
    mret
store_fault:
    li s1, 4
    csrr t0, mtval
    li t1, 0x2000
    bne t0, t1, fail
    addi s2, s2, 1                      /* count it */
    csrr t0, mepc
    addi t0, t0, 4
    csrw mepc, t0
    mret
from_u:
    li s1, 5
    li t1, 7
    bne a1, t1, fail
    li s1, 6
    li t1, PATTERN
    bne a2, t1, fail
    li s1, 7
    li t1, 1
    bne s2, t1, fail
    li a0, 1
    j finish
fail:
    slli a0, s1, 1
    ori a0, a0, 1
finish:
    la t0, tohost
    sd a0, 0(t0)
1:  j 1b

    .section .tohost, "aw", @progbits
    .align 6
    .globl tohost
tohost: .dword 0

    .data
    .align 12
pt_root: .fill 512, 8, 0
pt_mid:  .fill 512, 8, 0
pt_leaf: .fill 512, 8, 0
shared:  .dword 7, 0
    .align 12
