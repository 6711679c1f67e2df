// System calls: the table of calls, and the checking of their arguments.
//
// A program asks for call number a7 with its arguments in a0..a5 (the
// stubs of usys.S put them there) and gets the result back in a0.  Each
// entry of the table below names the handler and the kind of each
// argument.  syscall() checks and converts the arguments by kind before
// the handler runs: a descriptor becomes its open file, a path is copied
// into the kernel.  Any bad argument makes the call return -1 without the
// handler being called, so handlers only see arguments of the right kind;
// what they check themselves is specific to the call (a range of device
// numbers, an address that must be inside the process).

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/syscall.h"
#include "kernel/defs.h"

enum argkind {
  END = 0,     // no more arguments
  INT,         // any int
  COUNT,       // an int >= 0: a byte count, a number of ticks
  ADDR,        // a user address: copyin/copyout check it when it is used
  SIZE,        // a 64-bit byte count, checked by the handler
  FD,          // a descriptor of an open file: arg.file is the file
  PATH,        // a path name (NUL within MAXPATH bytes): arg.path
};

#define MAXARGS 6      // a0..a5
#define MAXPATHARGS 2  // link(old, new)

typedef uint64 handler(struct sysarg *arg);

handler sys_fork, sys_exit, sys_wait, sys_pipe, sys_read, sys_kill, sys_exec,
        sys_fstat, sys_chdir, sys_dup, sys_getpid, sys_sbrk, sys_sleep,
        sys_uptime, sys_open, sys_write, sys_mknod, sys_unlink, sys_link,
        sys_mkdir, sys_close, sys_map_shared_pages, sys_unmap_shared_pages,
        sys_crypto_op, sys_take_shared_memory_request, sys_freepages;

static const struct {
  handler *run;
  uchar arg[MAXARGS];
} calls[] = {
  [SYS_fork]    = { sys_fork },
  [SYS_exit]    = { sys_exit,   { INT } },            // status
  [SYS_wait]    = { sys_wait,   { ADDR } },           // int *status, or 0
  [SYS_pipe]    = { sys_pipe,   { ADDR } },           // int fds[2]
  [SYS_read]    = { sys_read,   { FD, ADDR, COUNT } },
  [SYS_kill]    = { sys_kill,   { INT } },            // pid
  [SYS_exec]    = { sys_exec,   { PATH, ADDR } },     // path, char *argv[]
  [SYS_fstat]   = { sys_fstat,  { FD, ADDR } },       // fd, struct stat *
  [SYS_chdir]   = { sys_chdir,  { PATH } },
  [SYS_dup]     = { sys_dup,    { FD } },
  [SYS_getpid]  = { sys_getpid },
  [SYS_sbrk]    = { sys_sbrk,   { INT } },            // bytes, may be < 0
  [SYS_sleep]   = { sys_sleep,  { COUNT } },          // ticks
  [SYS_uptime]  = { sys_uptime },
  [SYS_open]    = { sys_open,   { PATH, INT } },      // path, O_ flags
  [SYS_write]   = { sys_write,  { FD, ADDR, COUNT } },
  [SYS_mknod]   = { sys_mknod,  { PATH, INT, INT } }, // path, major, minor
  [SYS_unlink]  = { sys_unlink, { PATH } },
  [SYS_link]    = { sys_link,   { PATH, PATH } },     // old, new
  [SYS_mkdir]   = { sys_mkdir,  { PATH } },
  [SYS_close]   = { sys_close,  { FD } },
  [SYS_map_shared_pages]   = { sys_map_shared_pages, { INT, ADDR, SIZE } },
  [SYS_unmap_shared_pages] = { sys_unmap_shared_pages, { ADDR, SIZE } },
  [SYS_crypto_op]          = { sys_crypto_op, { ADDR, SIZE } },
  [SYS_take_shared_memory_request] = { sys_take_shared_memory_request, { ADDR, ADDR } },
  // The server's way of unmapping a request is unmap_shared_pages.
  [SYS_remove_shared_memory_request] = { sys_unmap_shared_pages, { ADDR, SIZE } },
  [SYS_freepages]          = { sys_freepages },
};

// Check and convert the arguments in regs (a0..a5) by the kinds in kind;
// paths go into the buffers of `paths`.  0, or -1 for a bad argument.
static int
take_args(const uchar *kind, const uint64 *regs, struct sysarg *arg,
          char paths[MAXPATHARGS][MAXPATH])
{
  int npaths = 0;
  for (int i = 0; i < MAXARGS && kind[i] != END; i++) {
    arg[i].val = regs[i];
    arg[i].num = (int)regs[i];
    switch (kind[i]) {
    case COUNT:
      if (arg[i].num < 0)
        return -1;
      break;
    case FD:
      arg[i].file = fd_lookup(arg[i].num);
      if (arg[i].file == 0)
        return -1;
      break;
    case PATH:
      if (npaths == MAXPATHARGS)
        panic("syscall: too many path arguments in the table");
      arg[i].path = paths[npaths++];
      if (caller_string(regs[i], arg[i].path, MAXPATH) < 0)
        return -1;
      break;
    }
  }
  return 0;
}

void
syscall(void)
{
  struct proc *p = myproc();
  struct user_regs *r = &p->tf->user;
  uint64 num = r->a7;
  if (num >= NELEM(calls) || calls[num].run == 0) {
    printf("pid %d (%s): unknown system call %ld\n", p->pid, p->name, (long)num);
    r->a0 = -1;
    return;
  }

  struct sysarg arg[MAXARGS];
  char paths[MAXPATHARGS][MAXPATH];
  if (take_args(calls[num].arg, &r->a0, arg, paths) < 0)
    r->a0 = -1;
  else
    r->a0 = calls[num].run(arg);
}

// a0..a5 are read as an array starting at a0.
_Static_assert(__builtin_offsetof(struct user_regs, a5) ==
               __builtin_offsetof(struct user_regs, a0) + 5 * sizeof(uint64),
               "a0..a5 must be consecutive in struct user_regs");

// ---- user memory, for handlers with pointers to follow ---------------------

// The 8-byte word at user address addr of the calling process.  0, or -1
// if [addr, addr+8) is not inside its memory.
int
caller_word(uint64 addr, uint64 *word)
{
  struct proc *p = myproc();
  uint64 end = addr + sizeof(uint64);
  if (end < addr || end > p->sz)
    return -1;
  return copyin(p->pagetable, (char *)word, addr, sizeof(*word));
}

// Copy the NUL-terminated user string at addr into buf (at most max bytes
// with the NUL).  Its length, or -1.
int
caller_string(uint64 addr, char *buf, int max)
{
  struct proc *p = myproc();
  if (max <= 0 || copyinstr(p->pagetable, buf, addr, max) < 0)
    return -1;
  return strlen(buf);
}
