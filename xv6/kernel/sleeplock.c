// Sleeplocks: a holder, and a count of the processes waiting for it, both
// guarded by a spinlock.  Most sleeplocks are never contended, so the count
// lets a release skip the wakeup (a walk over the process table) when
// nobody waits.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/sleeplock.h"
#include "kernel/defs.h"

// Waiters are counted once for their whole wait, not per nap: the count
// is read only under the guard, and a counted waiter lets go of the guard
// only inside sleep(), where wakeup() can already find it.
void
sleeplock_acquire(struct sleeplock *lk)
{
  struct proc *me = myproc();
  acquire(&lk->guard);
  if (lk->holder) {
    lk->waiting++;
    do
      sleep(lk, &lk->guard);
    while (lk->holder);
    lk->waiting--;
  }
  lk->holder = me;
  release(&lk->guard);
}

// The wakeup may come after the guard is let go: a waiter counted in
// `wake` is already asleep, or on its way with its p->lock held, which
// wakeup() waits for.
void
sleeplock_release(struct sleeplock *lk)
{
  acquire(&lk->guard);
  int wake = lk->waiting > 0;
  lk->holder = 0;
  release(&lk->guard);
  if (wake)
    wakeup(lk);
}

// Does the calling process hold lk?  (Never, outside any process.)
int
sleeplock_held(struct sleeplock *lk)
{
  struct proc *me = myproc();
  acquire(&lk->guard);
  struct proc *holder = lk->holder;
  release(&lk->guard);
  return me != 0 && holder == me;
}
