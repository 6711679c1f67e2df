// Busy-waiting locks.  While a hart holds any spinlock its interrupts are
// off, so an interrupt handler can never spin on a lock its own hart holds.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

void
initlock(struct spinlock *lk, char *name)
{
  lk->name = name;
  lk->locked = 0;
  lk->cpu = 0;
}

void
acquire(struct spinlock *lk)
{
  push_off();
  if (holding(lk)) {
    printf("lock %s: ", lk->name);
    panic("acquire of a held lock");
  }
  // amoswap.w.aq: spin until we are the one that turned 0 into 1.
  while (__sync_lock_test_and_set(&lk->locked, 1) != 0)
    ;
  // Accesses in the critical section stay after the swap.
  __sync_synchronize();
  lk->cpu = mycpu();
}

void
release(struct spinlock *lk)
{
  if (!holding(lk)) {
    printf("lock %s: ", lk->name);
    panic("release of a lock not held");
  }
  lk->cpu = 0;
  // Everything done inside is visible before the lock reads as free.
  __sync_synchronize();
  __sync_lock_release(&lk->locked);
  pop_off();
}

// Does this hart hold lk?  Call with interrupts off.
int
holding(struct spinlock *lk)
{
  return lk->locked && lk->cpu == mycpu();
}

// Nestable interrupt disable: the outermost push_off remembers whether
// interrupts were on, the matching pop_off restores that.
void
push_off(void)
{
  int was_on = intr_get();
  intr_off();
  struct cpu *c = mycpu();
  if (c->noff++ == 0)
    c->intena = was_on;
}

void
pop_off(void)
{
  struct cpu *c = mycpu();
  if (intr_get())
    panic("pop_off with interrupts enabled");
  if (c->noff <= 0)
    panic("pop_off without push_off");
  c->noff--;
  if (c->noff == 0 && c->intena)
    intr_on();
}
