/* UART receive interrupt through the PLIC's S-mode context, handled in S-mode. */
#include "socprog.h"

#define UART_IRQ_SRC UART0_IRQ

static volatile int got;
static volatile char chars[8];
static volatile u32 claims;

__attribute__((interrupt("supervisor"), aligned(4)))
static void on_strap(void)
{
    if (CSR_READ(scause) != (INTR | 9))
        finish(92);
    u32 id = REG32(PLIC_CLAIM(1));
    claims++;
    if (id != UART_IRQ_SRC)
        finish(93);
    while (REG8(UART_LSR) & 1) {
        if (got < 8)
            chars[got] = REG8(UART_RBR);
        got++;
    }
    REG32(PLIC_CLAIM(1)) = id;
}

static void s_main(void)
{
    CSR_WRITE(stvec, (u64)on_strap);
    REG32(PLIC_PRIO(UART_IRQ_SRC)) = 1;
    REG32(PLIC_EN(1)) = 1u << UART_IRQ_SRC;
    REG32(PLIC_THRESH(1)) = 0;
    uart_init(0x01);
    CSR_SET(sie, 1UL << 9);
    CSR_SET(sstatus, 1UL << 1);
    uart_puts("?");
    /* Check with interrupts masked, so that the interrupt cannot come between the
       check and the wfi; wfi still ends on the pending interrupt, which is then
       taken when they are unmasked. */
    for (;;) {
        CSR_CLEAR(sstatus, 1UL << 1);
        if (got >= 2)
            break;
        asm volatile("wfi");
        CSR_SET(sstatus, 1UL << 1);
    }
    CSR_SET(sstatus, 1UL << 1);
    if (chars[0] != 'o' || chars[1] != 'k')
        finish(2);
    if (claims < 1 || claims > 2)
        finish(3);
    /* Nothing pending any more. */
    if (REG32(PLIC_PEND) & (1u << UART_IRQ_SRC))
        finish(4);
    finish(0);
}

int main(void)
{
    CSR_SET(mideleg, 1UL << 9);          /* SEI to S */
    enter_smode(s_main);
    return 1;
}
