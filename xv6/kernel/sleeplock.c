// Locks whose waiters give up the CPU; used for inodes and disk buffers,
// which stay locked across disk I/O.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/sleeplock.h"
#include "kernel/defs.h"

void
initsleeplock(struct sleeplock *lk, char *name)
{
  initlock(&lk->guard, "sleeplock guard");
  lk->name = name;
  lk->locked = 0;
  lk->pid = 0;
}

void
acquiresleep(struct sleeplock *lk)
{
  acquire(&lk->guard);
  while (lk->locked)
    sleep(lk, &lk->guard);
  lk->locked = 1;
  lk->pid = myproc()->pid;
  release(&lk->guard);
}

void
releasesleep(struct sleeplock *lk)
{
  acquire(&lk->guard);
  lk->pid = 0;
  lk->locked = 0;
  wakeup(lk);
  release(&lk->guard);
}

// Does the calling process hold lk?
int
holdingsleep(struct sleeplock *lk)
{
  acquire(&lk->guard);
  int mine = lk->locked && lk->pid == myproc()->pid;
  release(&lk->guard);
  return mine;
}
