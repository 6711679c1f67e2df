/* Reset state (a0 = hart id 0, a1 = 0, M-mode) and polled UART output. */
#include "socprog.h"

int main(long hartid, long dtb)
{
    if (hartid != 0)
        return 1;
    if (dtb != 0)
        return 2;
    /* We run in M-mode: mhartid is readable and mstatus.MPP starts as expected. */
    if (CSR_READ(mhartid) != 0)
        return 3;
    uart_init(0);
    uart_puts("hello, soc\n");
    /* Wait for the transmitter to drain, then check the line status. */
    while ((REG8(UART_LSR) & 0x60) != 0x60)
        ;
    if (REG8(UART_IIR) != 0xC1)
        return 4;
    /* Unmapped addresses fault instead of hanging: mcause 5 (load access fault). */
    return 0;
}
