/* Machine timer and software interrupts from the CLINT. */
#include "socprog.h"

static volatile u64 last_cause;
static volatile int timer_hits, soft_hits;

__attribute__((interrupt("machine"), aligned(4)))
static void on_trap(void)
{
    u64 cause = CSR_READ(mcause);
    last_cause = cause;
    if (cause == (INTR | 7)) {
        REG64(MTIMECMP) = ~0UL;          /* quiet the timer */
        timer_hits++;
    } else if (cause == (INTR | 3)) {
        REG32(MSIP) = 0;
        soft_hits++;
    } else {
        finish(90);                      /* unexpected trap */
    }
}

int main(void)
{
    CSR_WRITE(mtvec, (u64)on_trap);
    u64 start = REG64(MTIME);
    REG64(MTIMECMP) = start + 200;
    CSR_SET(mie, 1UL << 7);
    CSR_SET(mstatus, 1UL << 3);
    while (timer_hits == 0)
        asm volatile("wfi");
    if (REG64(MTIME) < start + 200)
        return 1;
    if (last_cause != (INTR | 7))
        return 2;
    /* 32-bit halves of mtimecmp. */
    REG32(MTIMECMP + 4) = 0x12345678;
    REG32(MTIMECMP) = 0x9abcdef0;
    if (REG64(MTIMECMP) != 0x123456789abcdef0UL)
        return 3;
    REG64(MTIMECMP) = ~0UL;
    /* Software interrupt. */
    CSR_SET(mie, 1UL << 3);
    REG32(MSIP) = 1;
    for (int i = 0; i < 100 && soft_hits == 0; i++)
        ;
    if (soft_hits != 1 || last_cause != (INTR | 3))
        return 4;
    if (timer_hits != 1)
        return 5;
    return 0;
}
