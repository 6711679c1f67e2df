// Spinlocks, and the interrupt-off sections they rely on.
//
// A hart holding a spinlock must not take an interrupt whose handler wants
// the same lock: it would spin forever on its own hart.  So acquire() turns
// interrupts off and release() restores them.  Locks nest, and mycpu() and
// the UART also need short interrupt-off sections, so these sections are
// counted per hart: the outermost intr_push() remembers whether interrupts
// were on, and the matching intr_pop() turns them back on if they were.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

void
intr_push(void)
{
  int was_on = intr_get();
  intr_off();
  struct cpu *c = mycpu();
  if (c->intr_depth == 0)
    c->intr_was_on = was_on;
  c->intr_depth++;
}

void
intr_pop(void)
{
  struct cpu *c = mycpu();
  if (intr_get())
    panic("intr_pop: interrupts are on inside an interrupt-off section");
  if (c->intr_depth < 1)
    panic("intr_pop: no matching intr_push");
  c->intr_depth--;
  if (c->intr_depth == 0 && c->intr_was_on)
    intr_on();
}

// For locks that are not in static storage (or that live in memory that
// was used before).
void
initlock(struct spinlock *lk, const char *name)
{
  lk->locked = 0;
  lk->holder = 0;
  lk->name = name;
}

static void __attribute__((noreturn))
lock_misuse(struct spinlock *lk, char *what)
{
  printf("spinlock %s: ", lk->name ? lk->name : "(unnamed)");
  panic(what);
}

void
acquire(struct spinlock *lk)
{
  intr_push();
  if (holding(lk))
    lock_misuse(lk, "acquired twice by one hart");
  // The swap (amoswap.w.aq) is the attempt; while another hart holds the
  // lock, wait with plain loads, which do not claim the cache line.
  while (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) != 0)
    while (__atomic_load_n(&lk->locked, __ATOMIC_RELAXED) != 0)
      ;
  lk->holder = mycpu();
}

void
release(struct spinlock *lk)
{
  if (!holding(lk))
    lock_misuse(lk, "released by a hart that does not hold it");
  lk->holder = 0;
  // Everything written inside the lock is visible before it reads as free.
  __atomic_store_n(&lk->locked, 0, __ATOMIC_RELEASE);
  intr_pop();
}

// Does this hart hold lk?  Interrupts must be off, so that the answer
// cannot change under the caller.
int
holding(struct spinlock *lk)
{
  return lk->locked && lk->holder == mycpu();
}
