/* Interrupts: mip.SSIP/STIP/SEIP written by M, CLINT msip and mtimecmp,
 * the harness's external lines (IRQ_LINES: bit 0 = mei, bit 1 = sei),
 * Sstc stimecmp, global enables per mode, delegation to S, the priority
 * order, vectored mtvec, WFI waking on pending & enabled regardless of
 * mstatus.MIE, and CSRRS/CSRRC on mip not latching the SEI line.
 *
 * Every interrupt handled is appended to a log (s4 points to the next
 * slot): the mcause value, or scause + 0x100 for those handled in S.
 * Handlers use t3..t6 only; the test body keeps out of them. */
#include "test.h"
#define INTR (1 << 63)

/* case n: log entry i holds v */
.macro LOG_IS n, i, v
    li gp, \n
    ld a0, (\i * 8)(s3)
    li t6, \v
    bne a0, t6, fail
.endm
/* case n: the log holds exactly k entries */
.macro LOG_LEN n, k
    li gp, \n
    sub a0, s4, s3
    li t6, \k * 8
    bne a0, t6, fail
.endm
.macro LOG_RESET
    mv s4, s3
.endm

    TEST_START
    la s3, log
    mv s4, s3
    la t0, irq_m
    csrw mtvec, t0
    la t0, irq_s
    csrw stvec, t0

    /* 1. SSIP set by M, MIE = 0: pending but not taken */
    csrwi mie, 1 << 1
    csrsi mip, 1 << 1
    nop
    LOG_LEN 1, 0
    csrr a0, mip
    andi a0, a0, 2
    CHECK 2, a0, 2
    /* enabling MIE takes it right after the csrs */
1:  csrsi mstatus, CSR_MSTATUS_MIE
2:  csrci mstatus, CSR_MSTATUS_MIE
    LOG_LEN 3, 1
    LOG_IS 4, 0, INTR | 1
    la t0, 2b
    li gp, 5
    bne s8, t0, fail               /* mepc = the instruction not yet run */
    csrr a0, mip
    CHECK 6, a0, 0
    LOG_RESET

    /* 2. priority: all six pending at once, none delegated */
    li t0, (1 << 11) | (1 << 9) | (1 << 7) | (1 << 5) | (1 << 3) | (1 << 1)
    csrw mie, t0
    li t0, IRQ_LINES
    li t1, 3
    sw t1, 0(t0)                   /* mei and sei */
    li t0, CLINT
    li t1, 1
    sw t1, 0(t0)                   /* msip */
    li t0, CLINT_MTIMECMP
    sd zero, 0(t0)                 /* mtip */
    li t0, (1 << 5) | (1 << 1)
    csrs mip, t0                   /* STIP, SSIP */
    nop
    csrsi mstatus, CSR_MSTATUS_MIE
    nop
    csrci mstatus, CSR_MSTATUS_MIE
    LOG_LEN 7, 6
    LOG_IS 8, 0, INTR | 11
    LOG_IS 9, 1, INTR | 3
    LOG_IS 10, 2, INTR | 7
    LOG_IS 11, 3, INTR | 9
    LOG_IS 12, 4, INTR | 1
    LOG_IS 13, 5, INTR | 5
    LOG_RESET

    /* 3. M interrupts are taken in S and U whatever MIE says */
    li t0, 1 << 3
    csrw mie, t0
    GO_MODE MPP_U, 3f
3:  li t0, IRQ_LINES               /* U in Bare mode may touch devices */
    li t0, CLINT
    li t1, 1
    sw t1, 0(t0)                   /* msip: taken in U */
    nop
    ecall                          /* back to M via irq_m's ecall path */
    LOG_LEN 14, 2
    LOG_IS 15, 0, INTR | 3
    LOG_IS 16, 1, 8
    LOG_RESET

    /* 4. delegated SSI: never taken in M, taken in S only with SIE,
     *    always in U */
    li t0, 1 << 1
    csrw mideleg, t0
    csrw mie, t0
    csrsi mstatus, CSR_MSTATUS_MIE
    csrsi mip, 1 << 1
    nop
    csrci mstatus, CSR_MSTATUS_MIE
    LOG_LEN 17, 0
    GO_MODE MPP_S, 4f
4:  nop                            /* SIE = 0: stays pending */
    nop
    csrsi sstatus, CSR_MSTATUS_SIE
    nop
    csrci sstatus, CSR_MSTATUS_SIE
    ecall
    LOG_LEN 18, 2
    LOG_IS 19, 0, 0x100 | INTR | 1
    LOG_IS 20, 1, 9
    LOG_RESET
    csrsi mip, 1 << 1
    GO_MODE MPP_U, 5f
5:  nop
    ecall
    LOG_LEN 21, 2
    LOG_IS 22, 0, 0x100 | INTR | 1
    LOG_IS 23, 1, 8
    LOG_RESET
    /* sip shows delegated bits only; S can set SSIP through it */
    csrr a0, sip
    CHECK 24, a0, 0
    csrw mideleg, zero
    csrw mie, zero

    /* 5. machine timer from the CLINT */
    li t0, 1 << 7
    csrw mie, t0
    li t0, CLINT_MTIME
    ld t1, 0(t0)
    addi t1, t1, 40
    li t0, CLINT_MTIMECMP
    sd t1, 0(t0)
    csrsi mstatus, CSR_MSTATUS_MIE
6:  beq s4, s3, 6b                 /* spin until the handler logged */
    csrci mstatus, CSR_MSTATUS_MIE
    LOG_LEN 25, 1
    LOG_IS 26, 0, INTR | 7
    LOG_RESET

    /* 6. Sstc: stimecmp raises STIP (delegated, handled in S) */
    li t0, 1
    slli t0, t0, 63
    csrs menvcfg, t0
    csrwi mcounteren, 2
    li t0, 1 << 5
    csrw mideleg, t0
    csrw mie, t0
    csrr a0, mip
    andi a0, a0, 1 << 5
    CHECK 27, a0, 0                /* stimecmp resets to "never" */
    GO_MODE MPP_S, 7f
7:  csrr t1, time
    addi t1, t1, 30
    csrw stimecmp, t1
    csrsi sstatus, CSR_MSTATUS_SIE
8:  beq s4, s3, 8b
    csrci sstatus, CSR_MSTATUS_SIE
    ecall
    LOG_LEN 28, 2
    LOG_IS 29, 0, 0x100 | INTR | 5
    LOG_RESET
    /* with STCE, STIP is not writable through mip */
    li t0, 1 << 5
    csrs mip, t0
    csrr a0, mip
    andi a0, a0, 1 << 5
    CHECK 30, a0, 0
    csrw mideleg, zero
    csrw mie, zero
    li t0, 1
    slli t0, t0, 63
    csrc menvcfg, t0

    /* 7. WFI wakes on pending & enabled even with MIE = 0 (no trap) */
    li t0, 1 << 7
    csrw mie, t0
    li t0, CLINT_MTIME
    ld t1, 0(t0)
    addi t1, t1, 500
    li t0, CLINT_MTIMECMP
    sd t1, 0(t0)
    wfi
    csrr a0, mip
    andi a0, a0, 1 << 7
    CHECK 31, a0, 1 << 7
    LOG_LEN 32, 0
    /* ... and with MIE = 1 the interrupt is taken after the wfi */
    li t0, CLINT_MTIME
    ld t1, 0(t0)
    addi t1, t1, 500
    li t0, CLINT_MTIMECMP
    sd t1, 0(t0)
    csrsi mstatus, CSR_MSTATUS_MIE
9:  wfi
10: csrci mstatus, CSR_MSTATUS_MIE
    LOG_LEN 33, 1
    LOG_IS 34, 0, INTR | 7
    la t0, 10b
    li gp, 35
    bne s8, t0, fail
    LOG_RESET

    /* 8. vectored mtvec: interrupt n enters at base + 4n */
    la t0, vectors
    ori t0, t0, 1
    csrw mtvec, t0
    li t0, 1 << 11
    csrw mie, t0
    li t0, IRQ_LINES
    li t1, 1
    sw t1, 0(t0)
    csrsi mstatus, CSR_MSTATUS_MIE
    nop
    csrci mstatus, CSR_MSTATUS_MIE
    CHECK 36, s9, 11               /* the vector slot that ran */
    LOG_IS 37, 0, INTR | 11
    /* exceptions still go to the base */
    li s9, 0
    ecall
    CHECK 38, s9, 0x99
    la t0, irq_m
    csrw mtvec, t0

    /* 9. CSRRS/CSRRC on mip: only SEIP's software bit takes part, the line from
     *    the interrupt controller is not written back into it */
    csrw mie, zero
    li t0, IRQ_LINES
    li t1, 2
    sw t1, 0(t0)                   /* sei line high */
    csrr a0, mip
    andi a0, a0, 1 << 9
    CHECK 39, a0, 1 << 9           /* a read gives line | software bit */
    csrsi mip, 1 << 1              /* read-modify-writes of another bit */
    csrci mip, 1 << 1
    sw zero, 0(t0)                 /* line low again */
    csrr a0, mip
    andi a0, a0, 1 << 9
    CHECK 40, a0, 0
    TEST_PASS

/* machine interrupt handler: log, clear the source, return */
    .align 2
irq_m:
    csrr t5, mcause
    csrr s8, mepc
    sd t5, 0(s4)
    addi s4, s4, 8
    bgez t5, m_ecall               /* not an interrupt: an ecall */
    slli t6, t5, 1
    srli t6, t6, 1
    li t4, 1
    beq t6, t4, m_ssi
    li t4, 3
    beq t6, t4, m_msi
    li t4, 5
    beq t6, t4, m_sti
    li t4, 7
    beq t6, t4, m_mti
    li t4, 9
    beq t6, t4, m_sei
    li t4, 11
    beq t6, t4, m_mei
    j fail
m_ssi:
    csrci mip, 1 << 1
    mret
m_msi:
    li t4, CLINT
    sw zero, 0(t4)
    mret
m_sti:
    li t4, 1 << 5
    csrc mip, t4
    mret
m_mti:
    li t4, CLINT_MTIMECMP
    li t6, -1
    sd t6, 0(t4)
    mret
m_sei:
    li t4, 1 << 9
    csrc mip, t4
    li t4, IRQ_LINES
    lw t6, 0(t4)
    andi t6, t6, ~2
    sw t6, 0(t4)
    mret
m_mei:
    li t4, IRQ_LINES
    lw t6, 0(t4)
    andi t6, t6, ~1
    sw t6, 0(t4)
    mret
m_ecall:
    /* an ecall: resume after it, in M, with MIE = 0 */
    addi s8, s8, 4
    csrw mepc, s8
    li t4, CSR_MSTATUS_MPP
    csrs mstatus, t4
    li t4, 1 << 7
    csrc mstatus, t4
    mret

/* supervisor interrupt handler */
    .align 2
irq_s:
    csrr t5, scause
    ori t6, t5, 0x100
    sd t6, 0(s4)
    addi s4, s4, 8
    slli t6, t5, 1
    srli t6, t6, 1
    li t4, 1
    beq t6, t4, s_ssi
    li t4, 5
    beq t6, t4, s_sti
    j fail
s_ssi:
    csrci sip, 1 << 1
    sret
s_sti:
    li t6, -1
    csrw stimecmp, t6
    sret

/* vector table for case 8 */
    .align 6
vectors:
    j vec_exc                      /* 0: exceptions */
    j fail
    j fail
    j fail
    j fail
    j fail
    j fail
    j fail
    j fail
    j fail
    j fail
    li s9, 11                      /* 11: MEI */
    j irq_m
vec_exc:
    li s9, 0x99
    csrr t6, mepc
    addi t6, t6, 4
    csrw mepc, t6
    mret

    .data
    .align 3
log: .fill 16, 8, 0
