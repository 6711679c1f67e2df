// Spinlocks, and the interrupt-off sections they rely on.
//
// A hart holding a spinlock must not take an interrupt whose handler wants
// the same lock: it would spin forever on its own hart.  So acquire() turns
// interrupts off and release() restores them.  Locks nest, and mycpu() and
// the UART also need short interrupt-off sections, so these sections are
// counted per hart (struct cpu): intr_depth is how many are open, and
// intr_was_on says whether interrupts were on when the outermost one
// opened.  Closing the outermost one turns them back on in that case.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

// ---- interrupt-off sections ---------------------------------------------

void
intr_push(void)
{
  // Interrupts go off first: only then is mycpu() sure to stay this hart's.
  int were_on = intr_off_was_on();
  struct cpu *hart = mycpu();
  if (hart->intr_depth++ == 0)
    hart->intr_was_on = were_on;
}

void
intr_pop(void)
{
  struct cpu *hart = mycpu();
  if (hart->intr_depth <= 0 || intr_get())
    panic("intr_pop: no matching intr_push, or interrupts turned on inside");
  if (--hart->intr_depth == 0 && hart->intr_was_on)
    intr_on();
}

// ---- locks --------------------------------------------------------------

// For locks that are not in static storage (or that live in memory that
// was used before): free, and named.
void
initlock(struct spinlock *lk, const char *name)
{
  *lk = (struct spinlock)SPINLOCK_INIT(name);
}

// Panic, naming the lock, unless this hart's holding lk is as expected.
static inline void
expect_held(struct spinlock *lk, int held, char *misuse)
{
  if (holding(lk) == held)
    return;
  printf("spinlock %s: ", lk->name ? lk->name : "(unnamed)");
  panic(misuse);
}

void
acquire(struct spinlock *lk)
{
  intr_push();
  expect_held(lk, 0, "acquired twice by one hart");
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
  expect_held(lk, 1, "released by a hart that does not hold it");
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
  return __atomic_load_n(&lk->locked, __ATOMIC_RELAXED) != 0 &&
         lk->holder == mycpu();
}
