/* What drivers written for QEMU's virt machine do at start-up (xv6-riscv's are one
   example), checked on our SoC:

   1. identify the virtio-mmio block device: magic "virt", version 2, device ID 2
      (block) and QEMU's vendor ID "QEMU" (0x554d4551);
   2. take the 16550's transmitter-empty (THRE) interrupt through the PLIC's S-mode
      context and acknowledge it at the UART in both ways the datasheet gives:
      reading IIR, and writing THR (each interrupt sends the next byte of a message;
      the last one, with nothing left to send, reads IIR);
   3. a THRE interrupt completed at the PLIC but not acknowledged at the UART is
      raised again (the UART holds its line high, and the PLIC's gateway is level
      triggered): QEMU's models do not do this, and a driver that depends on it
      storms here (docs/simulation.md, "Software that runs on QEMU but storms here").

   Failed check n ends the program with tohost = (n << 1) | 1. */
#include "socprog.h"

#define VIO(off) (VIRTIO_BASE + (off))
#define VIRTIO_MAGIC   0x74726976u          /* "virt" */
#define QEMU_VENDOR_ID 0x554d4551u          /* "QEMU" */

enum { ACK_IIR, ACK_THR, ACK_NONE };

static volatile int ack;           /* what the handler does at the UART */
static volatile u32 claims;        /* UART interrupts taken */
static volatile u32 iir_seen;      /* IIR as the last IIR-acknowledging handler read it */
static volatile u32 unacked_left;  /* ACK_NONE: interrupts left before it reads IIR */
static const char message[] = "thre\n";
static volatile u32 sent;

__attribute__((interrupt("supervisor"), aligned(4)))
static void on_strap(void)
{
    if (CSR_READ(scause) != (INTR | 9))
        finish(90);
    u32 id = REG32(PLIC_CLAIM(1));
    if (id != UART0_IRQ)
        finish(91);
    claims++;
    if (ack == ACK_THR && sent < sizeof message - 1)
        REG8(UART_THR) = message[sent++];
    else if (ack == ACK_NONE && unacked_left > 0)
        unacked_left--;
    else
        iir_seen = REG8(UART_IIR);
    REG32(PLIC_CLAIM(1)) = id;
}

/* Let a few hundred cycles pass: long enough for any interrupt still coming. */
static void settle(void)
{
    for (volatile int i = 0; i < 100; i++)
        ;
}

/* Enable THRE (writing IER raises it at once: the transmitter is empty) and wait
   until the handler has seen `want` interrupts in all, and a little longer. */
static void thre_round(u32 want)
{
    REG8(UART_IER) = 0x02;
    while (claims < want)
        ;
    settle();
}

static void s_main(void)
{
    if (REG32(VIO(0x000)) != VIRTIO_MAGIC)
        finish(1);
    if (REG32(VIO(0x004)) != 2)
        finish(2);
    if (REG32(VIO(0x008)) != 2)
        finish(3);
    if (REG32(VIO(0x00c)) != QEMU_VENDOR_ID)
        finish(4);

    CSR_WRITE(stvec, (u64)on_strap);
    REG32(PLIC_PRIO(UART0_IRQ)) = 1;
    REG32(PLIC_EN(1)) = 1u << UART0_IRQ;
    REG32(PLIC_THRESH(1)) = 0;
    uart_init(0x00);
    if (REG8(UART_IIR) != 0xc1)             /* FIFOs on, nothing pending */
        finish(5);
    CSR_SET(sie, 1UL << 9);
    CSR_SET(sstatus, 1UL << 1);

    /* Acknowledged by reading IIR: one interrupt, IIR said "THR empty". */
    ack = ACK_IIR;
    thre_round(1);
    if (claims != 1)
        finish(6);
    if (iir_seen != 0xc2)
        finish(7);
    if (REG8(UART_IIR) != 0xc1 || (REG32(PLIC_PEND) & (1u << UART0_IRQ)))
        finish(8);

    /* Acknowledged by writing THR: one interrupt per byte of the message, and one
       more when it has gone out, acknowledged by reading IIR. */
    ack = ACK_THR;
    thre_round(1 + sizeof message);
    if (claims != 1 + sizeof message || sent != sizeof message - 1)
        finish(9);
    if (iir_seen != 0xc2)
        finish(10);

    /* Not acknowledged: completed at the PLIC only, it is raised again and again;
       the fourth time the handler reads IIR and it stops. */
    ack = ACK_NONE;
    unacked_left = 3;
    u32 before = claims;
    thre_round(before + 4);
    if (claims != before + 4)
        finish(11);
    if (REG8(UART_IIR) != 0xc1 || (REG32(PLIC_PEND) & (1u << UART0_IRQ)))
        finish(12);
    finish(0);
}

int main(void)
{
    CSR_SET(mideleg, 1UL << 9);             /* SEI to S-mode */
    enter_smode(s_main);
    return 1;
}
