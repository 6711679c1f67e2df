/*
 * Conventions shared by the ISA test programs in this directory.
 *
 * gp holds the number of the case being checked.  A program ends by
 * storing to the 64-bit `tohost` word: 1 = every case passed,
 * (n << 1) | 1 = case n failed.  Any trap the program did not ask for
 * counts as a failure of the current case.  t6 (x31) is the scratch
 * register of the checking macros; tests must not keep values in it.
 */

#define CSR_MSTATUS_MIE   (1 << 3)
#define CSR_MSTATUS_SIE   (1 << 1)
#define CSR_MSTATUS_MPP   (3 << 11)
#define MPP_U             (0 << 11)
#define MPP_S             (1 << 11)
#define MPP_M             (3 << 11)
#define CLINT             0x02000000
#define CLINT_MTIMECMP    (CLINT + 0x4000)
#define CLINT_MTIME       (CLINT + 0xBFF8)
#define IRQ_LINES         0x00101000
#define CSR_MSTATUS_MPRV  (1 << 17)
#define CSR_MSTATUS_SUM   (1 << 18)
#define CSR_MSTATUS_MXR   (1 << 19)

/* Sv39 page table entry flag bits */
#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_U 0x10
#define PTE_A 0x40
#define PTE_D 0x80

/* Start of every test program: at _start, machine mode, any trap fails. */
.macro TEST_START
    .section .text.init, "ax"
    .globl _start
_start:
    li gp, 0
    la t0, __unexpected_trap
    csrw mtvec, t0
    /* PMP entry 15: NAPOT over the whole address space, R W X, so that S and U
     * mode may go anywhere (with PMP entries implemented and none matching,
     * they could not); lower entries take precedence.  A core without PMP
     * ignores both writes. */
    li t0, -1
    csrw pmpaddr15, t0
    li t0, 0x1F << 56
    csrw pmpcfg2, t0
    j __test_body
__unexpected_trap:
    j fail

/*
 * __mcatch: a machine-mode handler for programs that provoke traps.  It
 * records mcause in s10, mtval in s11, mepc in s8 and mstatus in s9, then
 * resumes at the instruction after the trapping one, in the mode that
 * trapped -- except that an ecall from U or S resumes in M (the way back
 * up from a lower mode), and a nonzero s7 names the resume address
 * instead (for faults whose pc + 4 cannot run); s7 is cleared on use.
 * Returning to M that way leaves mstatus.MIE = 0.
 */
    .align 2
__mcatch:
    csrr s10, mcause
    csrr s11, mtval
    csrr s8, mepc
    csrr s9, mstatus
    addi t6, s8, 4
    csrw mepc, t6
    beqz s7, 1f
    csrw mepc, s7
    li s7, 0
1:  li t6, 8
    beq s10, t6, 2f
    li t6, 9
    beq s10, t6, 2f
    mret
2:  li t6, CSR_MSTATUS_MPP
    csrs mstatus, t6
    li t6, 1 << 7                   /* and with MIE = 0 */
    csrc mstatus, t6
    mret

/* __scatch: the same for traps delegated to S (scause/stval/sepc/sstatus);
 * an ecall from U resumes in S. */
    .align 2
__scatch:
    csrr s10, scause
    csrr s11, stval
    csrr s8, sepc
    csrr s9, sstatus
    addi t6, s8, 4
    csrw sepc, t6
    beqz s7, 1f
    csrw sepc, s7
    li s7, 0
1:  li t6, 8
    bne s10, t6, 2f
    li t6, 1 << 8
    csrs sstatus, t6
2:  sret

    .align 2
__test_body:
    li s7, 0
.endm

/* Route machine traps to __mcatch. */
.macro CATCH_M
    la t0, __mcatch
    csrw mtvec, t0
.endm

/* case n: the last trap handled had cause `cause`; forget it afterwards */
.macro EXPECT_TRAP n, cause
    li gp, \n
    li t6, \cause
    bne s10, t6, fail
    li s10, -1
.endm

/* case n: the last trap had cause `cause` and tval `va` */
.macro FAULT n, cause, va
    EXPECT_TRAP \n, \cause
    li t6, \va
    bne s11, t6, fail
.endm

/* case n: no trap since s10 was last set to -1 */
.macro NO_TRAP n
    CHECK \n, s10, -1
.endm

/* Entry `idx` of page table `table` maps the physical address in register
 * `pa` with `flags` (clobbers t0, t1). */
.macro PTE table, idx, pa, flags
    srli t1, \pa, 12
    slli t1, t1, 10
    ori t1, t1, \flags
    la t0, \table
    sd t1, (\idx * 8)(t0)
.endm

/* Turn on Sv39 translation (ASID 0) with root page table `root` and flush
 * the TLBs; it applies below M mode (clobbers t0, t1). */
.macro SV39_ON root
    la t0, \root
    srli t0, t0, 12
    li t1, 8 << 60
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
.endm

/* In the tables of SV39_TABLES: the 1 GiB identity page at 0x8000_0000 (RWX,
 * supervisor: the program) and pt_l1/pt_l0 below VA 0, so that the 4 KiB pages
 * at 0x1000, 0x2000, .. are entries 1, 2, .. of pt_l0 (clobbers a0, a1, t0, t1). */
.macro SV39_IDENTITY
    li a0, 0x80000000
    PTE pt_root, 2, a0, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    la a1, pt_l1
    PTE pt_root, 0, a1, PTE_V
    la a1, pt_l0
    PTE pt_l1, 0, a1, PTE_V
.endm

/* Three zeroed page-aligned page tables in .data, one per Sv39 level:
 * pt_root, pt_l1, pt_l0. */
.macro SV39_TABLES
    .data
    .align 12
pt_root: .fill 512, 8, 0
pt_l1:   .fill 512, 8, 0
pt_l0:   .fill 512, 8, 0
.endm

/* Passing end of a program. */
.macro TEST_PASS
    li a0, 1
    j __finish
fail:
    slli a0, gp, 1
    ori a0, a0, 1
__finish:
    la t0, tohost
    sd a0, 0(t0)
1:  j 1b
    .section .tohost, "aw", @progbits
    .align 6
    .globl tohost
tohost: .dword 0
    .align 6
    .globl fromhost
fromhost: .dword 0
    .text
.endm

/* case n: register `reg` must hold `val` */
.macro CHECK n, reg, val
    li gp, \n
    li t6, \val
    bne \reg, t6, fail
.endm

/* case n: `op a0, a1, a2` with a1 = x, a2 = y gives `want` */
.macro T_RR n, op, want, x, y
    li gp, \n
    li a1, \x
    li a2, \y
    \op a0, a1, a2
    li t6, \want
    bne a0, t6, fail
.endm

/* case n: `op a0, a1, imm` with a1 = x gives `want` */
.macro T_RI n, op, want, x, imm
    li gp, \n
    li a1, \x
    \op a0, a1, \imm
    li t6, \want
    bne a0, t6, fail
.endm

/* Enter privilege mode `mpp` (MPP_U/MPP_S/MPP_M) at label `where`. */
.macro GO_MODE mpp, where
    li t0, CSR_MSTATUS_MPP
    csrc mstatus, t0
    li t0, \mpp
    csrs mstatus, t0
    la t0, \where
    csrw mepc, t0
    mret
.endm
