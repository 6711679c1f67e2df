// The platform-level interrupt controller: it routes the devices' interrupt
// lines to this hart's S-mode context.
//
// sources[] is the one list of the lines the kernel uses: plic_init()
// enables exactly these, and plic_dispatch() runs the handler of the one
// that interrupted.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/defs.h"

static const struct {
  int irq;                  // PLIC source number
  void (*handler)(void);
} sources[] = {
  { UART0_IRQ,   uart_interrupt },
  { VIRTIO0_IRQ, virtio_disk_intr },
};

// All sources fit in the first 32-bit enable word.
_Static_assert(UART0_IRQ < 32 && VIRTIO0_IRQ < 32, "one enable word");

static inline volatile uint32 *
plic_reg(uint64 addr)
{
  return (volatile uint32 *)addr;
}

// Enable our sources for this hart's S-mode context.  Every priority is 1
// and the context's threshold 0, so each enabled source gets through.
void
plic_init(void)
{
  int ctx = PLIC_SCONTEXT(cpuid());
  uint32 enable = 0;
  for (int i = 0; i < NELEM(sources); i++) {
    *plic_reg(PLIC_PRIORITY(sources[i].irq)) = 1;
    enable |= 1U << sources[i].irq;
  }
  *plic_reg(PLIC_ENABLE(ctx)) = enable;
  *plic_reg(PLIC_THRESHOLD(ctx)) = 0;
}

// An external interrupt: claim the source (reading the claim register
// names it and masks it), run its handler, then write the number back to
// complete it, so that it may interrupt again.
void
plic_dispatch(void)
{
  volatile uint32 *claim = plic_reg(PLIC_CLAIM(PLIC_SCONTEXT(cpuid())));
  uint32 irq = *claim;
  if (irq == 0)
    return;                 // nothing pending any more
  int known = 0;
  for (int i = 0; i < NELEM(sources); i++) {
    if (sources[i].irq == irq) {
      sources[i].handler();
      known = 1;
    }
  }
  if (!known)
    printf("plic: interrupt from source %d, which has no handler\n", irq);
  *claim = irq;
}
