// Driver for the NS16550A UART at UART0.
//
// Output has two paths: uartputc() queues bytes in a ring that the
// transmit-empty interrupt drains (used by console writes from processes),
// and uartputc_sync() spins on the line status register (used by kernel
// printf and echo, which must work with interrupts off).
// Received bytes are passed to consoleintr() from the UART interrupt.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

// Register offsets (byte registers).
#define U_RBR 0   // receive buffer (read)
#define U_THR 0   // transmit holding (write)
#define U_DLL 0   // divisor low (DLAB = 1)
#define U_IER 1   // interrupt enable
#define U_DLM 1   // divisor high (DLAB = 1)
#define U_FCR 2   // FIFO control (write)
#define U_IIR 2   // interrupt identification (read)
#define U_LCR 3   // line control
#define U_LSR 5   // line status

#define IER_RX       0x01
#define IER_TX       0x02
#define FCR_ENABLE   0x01
#define FCR_CLEAR    0x06   // reset both FIFOs
#define LCR_8N1      0x03
#define LCR_DLAB     0x80
#define LSR_RX_READY 0x01
#define LSR_TX_EMPTY 0x20   // THR can take a byte

static inline volatile uchar *
ureg(int off)
{
  return (volatile uchar *)(UART0 + off);
}

static inline uchar uart_in(int off)           { return *ureg(off); }
static inline void  uart_out(int off, uchar v) { *ureg(off) = v; }

// Transmit ring.  tx_head counts bytes queued, tx_tail bytes handed to the
// UART; both only grow, the index is the count modulo the size.
#define TXRING 32
static struct spinlock txlock;
static char txring[TXRING];
static uint64 tx_head, tx_tail;

extern volatile int panicking;   // printf.c: stop normal output once set

static void uart_kick(void);

void
uartinit(void)
{
  uart_out(U_IER, 0);                   // quiet while we configure
  uart_out(U_LCR, LCR_DLAB);
  uart_out(U_DLL, 3);                   // 38400 baud from a 1.8432 MHz clock
  uart_out(U_DLM, 0);
  uart_out(U_LCR, LCR_8N1);             // DLAB off, 8 data bits, no parity
  uart_out(U_FCR, FCR_ENABLE | FCR_CLEAR);
  uart_out(U_IER, IER_RX | IER_TX);
  initlock(&txlock, "uart tx");
}

// Bytes queued but not yet handed to the UART.
static uint
tx_pending(void)
{
  return (uint)(tx_head - tx_tail);
}

// Queue one byte for interrupt-driven output; sleeps while the ring is
// full.  Process context only.
void
uartputc(int c)
{
  acquire(&txlock);
  while (!panicking && tx_pending() == TXRING)
    sleep(&tx_tail, &txlock);
  if (panicking) {
    // The panic owns the UART now; this process stops here.
    release(&txlock);
    for (;;)
      ;
  }
  txring[tx_head++ % TXRING] = c;
  uart_kick();
  release(&txlock);
}

// Send one byte now, spinning until the UART takes it.
void
uartputc_sync(int c)
{
  push_off();
  while ((uart_in(U_LSR) & LSR_TX_EMPTY) == 0)
    ;
  uart_out(U_THR, c);
  pop_off();
}

// Feed queued bytes to the UART while its transmit register is free;
// the transmit-empty interrupt brings us back for the rest.  Caller holds
// txlock.
static void
uart_kick(void)
{
  int sent = 0;
  while (tx_pending() > 0 && (uart_in(U_LSR) & LSR_TX_EMPTY)) {
    uart_out(U_THR, txring[tx_tail++ % TXRING]);
    sent = 1;
  }
  if (sent)
    wakeup(&tx_tail);   // writers waiting for room
}

int
uartgetc(void)
{
  if (uart_in(U_LSR) & LSR_RX_READY)
    return uart_in(U_RBR);
  return -1;
}

// Receive and transmit interrupts both land here.
void
uartintr(void)
{
  (void)uart_in(U_IIR);   // reading IIR acknowledges a THR-empty interrupt
  for (;;) {
    int c = uartgetc();
    if (c < 0)
      break;
    consoleintr(c);
  }
  acquire(&txlock);
  uart_kick();
  release(&txlock);
}
