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

void
sleeplock_acquire(struct sleeplock *lk)
{
  struct proc *me = myproc();
  acquire(&lk->guard);
  while (lk->holder != 0) {
    lk->waiting++;
    sleep(lk, &lk->guard);
    lk->waiting--;
  }
  lk->holder = me;
  release(&lk->guard);
}

void
sleeplock_release(struct sleeplock *lk)
{
  acquire(&lk->guard);
  lk->holder = 0;
  if (lk->waiting > 0)
    wakeup(lk);
  release(&lk->guard);
}

// Does the calling process hold lk?
int
sleeplock_held(struct sleeplock *lk)
{
  acquire(&lk->guard);
  int mine = lk->holder != 0 && lk->holder == myproc();
  release(&lk->guard);
  return mine;
}
