// System call dispatch and argument fetching.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/syscall.h"
#include "kernel/defs.h"

// Read the 8 bytes at user address addr of the current process.
// 0, or -1 if [addr, addr+8) is not inside the process's memory.
int
fetchaddr(uint64 addr, uint64 *ip)
{
  struct proc *p = myproc();
  uint64 last = addr + sizeof(uint64);
  if (last < addr || last > p->sz)
    return -1;
  if (copyin(p->pagetable, (char *)ip, addr, sizeof(*ip)) != 0)
    return -1;
  return 0;
}

// Copy the NUL-terminated user string at addr into buf (max bytes).
// Returns its length, or -1.
int
fetchstr(uint64 addr, char *buf, int max)
{
  struct proc *p = myproc();
  if (max <= 0 || copyinstr(p->pagetable, buf, addr, max) < 0)
    return -1;
  return strlen(buf);
}

// Argument register n (a0..a5) of the current system call.  They sit next
// to each other in the trap frame.
_Static_assert(__builtin_offsetof(struct trapframe, a5) ==
               __builtin_offsetof(struct trapframe, a0) + 5 * sizeof(uint64),
               "a0..a5 must be consecutive in struct trapframe");

static uint64
raw_arg(int n)
{
  if (n < 0 || n > 5)
    panic("raw_arg: argument number out of range");
  uint64 *args = &myproc()->trapframe->a0;
  return args[n];
}

void
argint(int n, int *ip)
{
  *ip = (int)raw_arg(n);
}

// An address argument; not checked here, copyin/copyout check it on use.
void
argaddr(int n, uint64 *ip)
{
  *ip = raw_arg(n);
}

// A string argument copied into buf; its length, or -1.
int
argstr(int n, char *buf, int max)
{
  uint64 addr;
  argaddr(n, &addr);
  return fetchstr(addr, buf, max);
}

uint64 sys_fork(void);
uint64 sys_exit(void);
uint64 sys_wait(void);
uint64 sys_pipe(void);
uint64 sys_read(void);
uint64 sys_kill(void);
uint64 sys_exec(void);
uint64 sys_fstat(void);
uint64 sys_chdir(void);
uint64 sys_dup(void);
uint64 sys_getpid(void);
uint64 sys_sbrk(void);
uint64 sys_sleep(void);
uint64 sys_uptime(void);
uint64 sys_open(void);
uint64 sys_write(void);
uint64 sys_mknod(void);
uint64 sys_unlink(void);
uint64 sys_link(void);
uint64 sys_mkdir(void);
uint64 sys_close(void);
uint64 sys_map_shared_pages(void);
uint64 sys_unmap_shared_pages(void);
uint64 sys_crypto_op(void);
uint64 sys_take_shared_memory_request(void);
uint64 sys_remove_shared_memory_request(void);
uint64 sys_freepages(void);

static uint64 (*const handlers[])(void) = {
  [SYS_fork]   sys_fork,
  [SYS_exit]   sys_exit,
  [SYS_wait]   sys_wait,
  [SYS_pipe]   sys_pipe,
  [SYS_read]   sys_read,
  [SYS_kill]   sys_kill,
  [SYS_exec]   sys_exec,
  [SYS_fstat]  sys_fstat,
  [SYS_chdir]  sys_chdir,
  [SYS_dup]    sys_dup,
  [SYS_getpid] sys_getpid,
  [SYS_sbrk]   sys_sbrk,
  [SYS_sleep]  sys_sleep,
  [SYS_uptime] sys_uptime,
  [SYS_open]   sys_open,
  [SYS_write]  sys_write,
  [SYS_mknod]  sys_mknod,
  [SYS_unlink] sys_unlink,
  [SYS_link]   sys_link,
  [SYS_mkdir]  sys_mkdir,
  [SYS_close]  sys_close,
  [SYS_map_shared_pages]             sys_map_shared_pages,
  [SYS_unmap_shared_pages]           sys_unmap_shared_pages,
  [SYS_crypto_op]                    sys_crypto_op,
  [SYS_take_shared_memory_request]   sys_take_shared_memory_request,
  [SYS_remove_shared_memory_request] sys_remove_shared_memory_request,
  [SYS_freepages]                    sys_freepages,
};

void
syscall(void)
{
  struct proc *p = myproc();
  uint64 num = p->trapframe->a7;
  if (num < NELEM(handlers) && handlers[num] != 0) {
    p->trapframe->a0 = handlers[num]();
    return;
  }
  printf("pid %d (%s): unknown system call %ld\n", p->pid, p->name, (long)num);
  p->trapframe->a0 = -1;
}
