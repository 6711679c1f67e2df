// Platform-level interrupt controller: routes the UART and the disk to
// this hart's S-mode context.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/defs.h"

static inline volatile uint32 *
plic_word(uint64 addr)
{
  return (volatile uint32 *)addr;
}

// Source priorities are global: any non-zero priority beats threshold 0.
void
plicinit(void)
{
  *plic_word(PLIC_PRIORITY(UART0_IRQ)) = 1;
  *plic_word(PLIC_PRIORITY(VIRTIO0_IRQ)) = 1;
}

void
plicinithart(void)
{
  int ctx = PLIC_SCONTEXT(cpuid());
  // Both sources are below 32, so they live in the first enable word.
  *plic_word(PLIC_ENABLE(ctx)) = (1U << UART0_IRQ) | (1U << VIRTIO0_IRQ);
  *plic_word(PLIC_THRESHOLD(ctx)) = 0;
}

// Which source interrupted?  0 if none.
int
plic_claim(void)
{
  return *plic_word(PLIC_CLAIM(PLIC_SCONTEXT(cpuid())));
}

// Done with source irq; it may interrupt again.
void
plic_complete(int irq)
{
  *plic_word(PLIC_CLAIM(PLIC_SCONTEXT(cpuid()))) = irq;
}
