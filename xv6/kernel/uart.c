// Driver for the NS16550A UART at UART0, the console's serial line.
//
// Output takes one of two ways:
//   uart_put_now(c)   waits, spinning, until the transmitter takes c.  For
//                     the kernel's own output (printf, the echo of typed
//                     keys, panics): it works with interrupts off.
//   uart_write(s, n)  queues bytes in a ring that the transmit interrupt
//                     drains; the writer sleeps while the ring is full.
//                     For processes writing to the console.
// The transmitter has a FIFO of TX_FIFO bytes; each time it reports itself
// empty (LSR bit 5) the driver refills it whole, so a line of output costs
// an interrupt or two rather than one per byte.  The transmit interrupt is
// enabled only while bytes wait in the ring.
//
// Input: the receive interrupt hands every byte to the console.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

// Registers (byte offsets) and the bits we use.
#define RBR 0                 // receive buffer (read)
#define THR 0                 // transmit holding (write)
#define DLL 0                 // divisor latch, low byte (while LCR_DLAB)
#define IER 1                 // interrupt enable
#define DLM 1                 // divisor latch, high byte (while LCR_DLAB)
#define IIR 2                 // interrupt identification (read)
#define FCR 2                 // FIFO control (write)
#define LCR 3                 // line control
#define LSR 5                 // line status

#define IER_RX        0x01    // interrupt when a byte has arrived
#define IER_TX        0x02    // interrupt when the transmitter is empty
#define FCR_FIFOS_ON  0x01
#define FCR_CLEAR     0x06    // empty both FIFOs
#define LCR_8N1       0x03    // 8 data bits, no parity, one stop bit
#define LCR_DLAB      0x80    // the divisor latch replaces RBR/THR and IER
#define LSR_RX_READY  0x01
#define LSR_TX_EMPTY  0x20    // the transmit FIFO is empty

#define TX_FIFO 16            // the 16550A's transmit FIFO

static inline uchar
reg_read(int reg)
{
  return *(volatile uchar *)(UART0 + reg);
}

static inline void
reg_write(int reg, uchar v)
{
  *(volatile uchar *)(UART0 + reg) = v;
}

// The transmit ring.  head counts the bytes ever queued, tail the bytes
// ever handed to the UART; head - tail are waiting.
#define TX_RING 32
static struct {
  struct spinlock lock;
  char ring[TX_RING];
  uint64 head;
  uint64 tail;
  int irq_on;             // IER_TX is set
  int writers_waiting;    // processes asleep in uart_write()
} tx = { .lock = SPINLOCK_INIT("uart tx") };

extern volatile int panic_active;   // printf.c: a panic owns the UART

void
uart_init(void)
{
  reg_write(IER, 0);                      // no interrupts while we set up
  reg_write(LCR, LCR_DLAB);
  reg_write(DLL, 3);                      // 38400 baud from 1.8432 MHz
  reg_write(DLM, 0);
  reg_write(LCR, LCR_8N1);                // and the divisor latch off
  reg_write(FCR, FCR_FIFOS_ON | FCR_CLEAR);
  reg_write(IER, IER_RX);
}

// Move queued bytes into the transmitter while it has room, and have the
// transmit interrupt on exactly while bytes are still waiting (enabling
// it while the transmitter is empty raises it at once).  Caller holds
// tx.lock.
static void
tx_feed(void)
{
  uint64 before = tx.tail;
  while (tx.head != tx.tail && (reg_read(LSR) & LSR_TX_EMPTY))
    for (int i = 0; i < TX_FIFO && tx.head != tx.tail; i++)
      reg_write(THR, tx.ring[tx.tail++ % TX_RING]);
  if (tx.tail != before && tx.writers_waiting)
    wakeup(&tx.tail);

  int want = tx.head != tx.tail;
  if (want != tx.irq_on) {
    reg_write(IER, IER_RX | (want ? IER_TX : 0));
    tx.irq_on = want;
  }
}

// A panic has the UART to itself: a process that wants to write stops
// here for good.
static void
stop_if_panic(void)
{
  if (panic_active) {
    release(&tx.lock);
    for (;;)
      ;
  }
}

// Queue the n bytes at s for the transmitter.  Process context only: it
// may sleep until there is room.
void
uart_write(const char *s, int n)
{
  acquire(&tx.lock);
  int done = 0;
  for (;;) {
    stop_if_panic();
    while (done < n && tx.head - tx.tail < TX_RING)
      tx.ring[tx.head++ % TX_RING] = s[done++];
    tx_feed();
    if (done == n)
      break;
    if (tx.head - tx.tail == TX_RING) {    // still full: wait for room
      tx.writers_waiting++;
      sleep(&tx.tail, &tx.lock);
      tx.writers_waiting--;
    }
  }
  release(&tx.lock);
}

// Send c now, spinning until the transmitter has room.
void
uart_put_now(int c)
{
  intr_push();
  while ((reg_read(LSR) & LSR_TX_EMPTY) == 0)
    ;
  reg_write(THR, c);
  intr_pop();
}

// Both the receive and the transmit interrupt come here.
void
uart_interrupt(void)
{
  (void)reg_read(IIR);    // reading it acknowledges a transmitter-empty interrupt
  while (reg_read(LSR) & LSR_RX_READY)
    console_input(reg_read(RBR));
  acquire(&tx.lock);
  tx_feed();
  release(&tx.lock);
}
