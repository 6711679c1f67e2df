// System calls about processes, memory and time.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

uint64
sys_fork(struct sysarg *arg)
{
  return fork();
}

// exit(status)
uint64
sys_exit(struct sysarg *arg)
{
  exit(arg[0].num);
}

// wait(int *status): status may be 0.
uint64
sys_wait(struct sysarg *arg)
{
  return wait(arg[0].val);
}

// kill(pid)
uint64
sys_kill(struct sysarg *arg)
{
  return kill(arg[0].num);
}

uint64
sys_getpid(struct sysarg *arg)
{
  return myproc()->pid;
}

// Move the end of p's memory from sz to sz + delta.  0, or -1 if the new
// end would be below 0 or reach the trap frame, if it would cut into a
// shared region (those go only as a whole, by unmap_shared_pages), or if
// memory ran out.  Under p->lock: another process may be mapping shared
// pages in at the top of p's memory (shmem.c).
static int
resize_memory(struct proc *p, long delta)
{
  int ok = 1;
  acquire(&p->lock);
  uint64 sz = p->sz;
  if (delta > 0) {
    uint64 end = sz + delta;
    ok = end <= TRAPFRAME && uvmalloc(p->pagetable, sz, end, PTE_W) != 0;
    if (ok)
      p->sz = end;
  } else if (delta < 0) {
    uint64 cut = -delta;
    ok = cut <= sz && !shm_overlaps(p, PGROUNDUP(sz - cut), PGROUNDUP(sz));
    if (ok)
      p->sz = uvmdealloc(p->pagetable, sz, sz - cut);
  }
  release(&p->lock);
  return ok ? 0 : -1;
}

// sbrk(n): grow memory by n bytes (shrink if n < 0); the old end, or -1.
uint64
sys_sbrk(struct sysarg *arg)
{
  struct proc *p = myproc();
  uint64 old_end = p->sz;
  if (resize_memory(p, arg[0].num) < 0)
    return -1;
  return old_end;
}

// sleep(n): wait n clock ticks (n >= 0); -1 if killed meanwhile.
uint64
sys_sleep(struct sysarg *arg)
{
  return sleep_ticks(arg[0].num);
}

// uptime(): clock ticks since boot.
uint64
sys_uptime(struct sysarg *arg)
{
  return ticks_now();
}
