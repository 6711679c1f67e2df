/* An interrupt storm, as a UART driver tested only on QEMU makes one here: its
   handler completes the transmitter-empty interrupt at the PLIC without
   acknowledging it at the UART (no IIR read, no THR write).  The UART keeps its line
   high, the PLIC raises the interrupt again after each completion, and the core does
   nothing but take it.  The simulators' claim watch (sim/engine.py) sees UART0_IRQ
   claimed over and over without a user-mode instruction in between.

   STORM1 claims; then the handler turns the interrupt off, and two user-mode
   instructions run (they restart the watch's count) before an ecall; then STORM2
   claims, and the program ends.  With STORM1 = 0 the first storm never ends. */
#include "socprog.h"

#ifndef STORM1
#define STORM1 30
#endif
#ifndef STORM2
#define STORM2 20
#endif

static volatile u64 claims, limit;
static void phase2(void) __attribute__((noreturn));

/* U-mode: two instructions, then back to S-mode through ecall. */
void user_code(void);
asm(".text\n.align 2\nuser_code:\n  addi t0, zero, 1\n  addi t0, t0, 1\n  ecall\n");

__attribute__((interrupt("supervisor"), aligned(4)))
static void on_strap(void)
{
    u64 cause = CSR_READ(scause);
    if (cause == 8) {                       /* ecall from U: continue in S-mode */
        CSR_WRITE(sepc, (u64)phase2);
        CSR_SET(sstatus, 1UL << 8);         /* SPP = S */
        return;
    }
    if (cause != (INTR | 9))
        finish(90);
    u32 id = REG32(PLIC_CLAIM(1));
    if (id != UART0_IRQ)
        finish(91);
    if (++claims == limit)
        REG8(UART_IER) = 0;                 /* the storm ends: THRE interrupt off */
    REG32(PLIC_CLAIM(1)) = id;              /* completed, never acknowledged */
}

static void storm(u64 n)
{
    claims = 0;
    limit = n ? n : ~0UL;
    REG8(UART_IER) = 0x02;                  /* THRE on: raised at once */
    while (claims < limit)
        ;
}

static void phase2(void)
{
    storm(STORM2);
    finish(0);
}

static void s_main(void)
{
    CSR_WRITE(stvec, (u64)on_strap);
    REG32(PLIC_PRIO(UART0_IRQ)) = 1;
    REG32(PLIC_EN(1)) = 1u << UART0_IRQ;
    REG32(PLIC_THRESH(1)) = 0;
    uart_init(0x00);
    CSR_SET(sie, 1UL << 9);
    CSR_SET(sstatus, 1UL << 1);
    storm(STORM1);
    /* To U-mode at user_code. */
    CSR_CLEAR(sstatus, 1UL << 8);           /* SPP = U */
    CSR_WRITE(sepc, (u64)user_code);
    asm volatile("sret");
    __builtin_unreachable();
}

int main(void)
{
    CSR_SET(mideleg, 1UL << 9);             /* SEI to S-mode */
    CSR_SET(medeleg, 1UL << 8);             /* ecall from U to S-mode */
    enter_smode(s_main);
    return 1;
}
