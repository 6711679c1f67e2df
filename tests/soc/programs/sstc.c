/* Sstc: a supervisor timer interrupt from stimecmp, compared with the CLINT's mtime. */
#include "socprog.h"

static volatile int hits;
static volatile u64 seen_cause;

__attribute__((interrupt("supervisor"), aligned(4)))
static void on_strap(void)
{
    seen_cause = CSR_READ(scause);
    if (seen_cause == (INTR | 5)) {
        CSR_WRITE(0x14d, ~0UL);          /* stimecmp: quiet */
        hits++;
    } else {
        finish(91);
    }
}

static void s_main(void)
{
    CSR_WRITE(stvec, (u64)on_strap);
    u64 t0 = CSR_READ(time);
    CSR_WRITE(0x14d, t0 + 150);
    CSR_SET(sie, 1UL << 5);
    CSR_SET(sstatus, 1UL << 1);
    while (hits == 0)
        asm volatile("wfi");
    u64 t1 = CSR_READ(time);
    if (t1 < t0 + 150)
        finish(2);
    if (seen_cause != (INTR | 5))
        finish(3);
    finish(0);
}

int main(void)
{
    CSR_SET(0x30a, 1UL << 63);           /* menvcfg.STCE */
    CSR_SET(mcounteren, 2);              /* S may read time */
    CSR_SET(mideleg, 1UL << 5);          /* STI to S */
    enter_smode(s_main);
    return 1;
}
