// Process-related system calls.

#include "kernel/types.h"
#include "kernel/riscv.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"

uint64
sys_exit(void)
{
  int status;
  argint(0, &status);
  exit(status);
}

uint64
sys_getpid(void)
{
  return myproc()->pid;
}

uint64
sys_fork(void)
{
  return fork();
}

uint64
sys_wait(void)
{
  uint64 status_addr;
  argaddr(0, &status_addr);
  return wait(status_addr);
}

// sbrk(n): grow (or shrink) memory by n bytes; returns the old end, or -1.
uint64
sys_sbrk(void)
{
  int n;
  argint(0, &n);
  uint64 old_end = myproc()->sz;
  if (growproc(n) < 0)
    return -1;
  return old_end;
}

// sleep(n): wait n clock ticks.  A negative n is an error (-1).
uint64
sys_sleep(void)
{
  int n;
  argint(0, &n);
  if (n < 0)
    return -1;
  acquire(&tickslock);
  uint start = ticks;
  while (ticks - start < (uint)n) {
    if (killed(myproc())) {
      release(&tickslock);
      return -1;
    }
    sleep(&ticks, &tickslock);
  }
  release(&tickslock);
  return 0;
}

uint64
sys_kill(void)
{
  int pid;
  argint(0, &pid);
  return kill(pid);
}

// uptime(): clock ticks since boot.
uint64
sys_uptime(void)
{
  acquire(&tickslock);
  uint now = ticks;
  release(&tickslock);
  return now;
}
