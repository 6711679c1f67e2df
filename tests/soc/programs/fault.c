/* Unmapped physical addresses raise access faults (the bus answers with an error). */
#include "socprog.h"

static volatile u64 cause, tval;

__attribute__((interrupt("machine"), aligned(4)))
static void on_trap(void)
{
    cause = CSR_READ(mcause);
    tval = CSR_READ(mtval);
    CSR_WRITE(mepc, CSR_READ(mepc) + 4);     /* skip the faulting access */
}

int main(void)
{
    CSR_WRITE(mtvec, (u64)on_trap);
    u64 hole = 0x30000000UL;
    (void)REG64(hole);
    if (cause != 5 || tval != hole)
        return 1;
    REG32(hole + 8) = 1;
    if (cause != 7 || tval != hole + 8)
        return 2;
    /* Between the UART and the virtio window, and just past the RAM. */
    cause = 0;
    (void)REG8(UART_BASE + 0x100);
    if (cause != 5)
        return 3;
    cause = 0;
    (void)REG8(0x80000000UL + RAM_SIZE);
    if (cause != 5)
        return 4;
    return 0;
}
