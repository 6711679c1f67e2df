// Host test glue for the kernel's storage code (bio.c log.c fs.c inode.c
// dir.c file.c pipe.c sysfile.c, and syscall.c, through which every call
// is made), compiled for the host together with those files.
//
// It stands in for the rest of the kernel: one process, no real locks
// (single-threaded), a RAM disk instead of virtio, and "user" addresses that
// are plain host pointers.  This file includes kernel headers only; the
// driver program (host.c) includes libc and the system call numbers only,
// and talks to this file through the glue_* and host_* functions.  The
// build renames kernel symbols that clash with libc (printf, exit, sleep,
// memmove, ...) with -D macros.

#include <stdarg.h>
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/proc.h"
#include "kernel/fs.h"
#include "kernel/buf.h"
#include "kernel/file.h"
#include "kernel/defs.h"

// Provided by host.c.
void host_print(const char *s);
void host_die(const char *why) __attribute__((noreturn));
void *host_page(void);
void host_free_page(void *pa);
void host_disk(uchar *data, uint blockno, int write);
int vsnprintf(char *buf, unsigned long n, const char *fmt, va_list ap);

struct cpu cpus[NCPU];
static struct proc the_proc;
static struct trapframe frame;
static int sleep_fails;   // sleep() in a single-threaded test is a deadlock

// ---- locks: one thread, so only the bookkeeping ------------------------------
void initlock(struct spinlock *lk, const char *name) { lk->locked = 0; lk->name = name; }
void acquire(struct spinlock *lk)
{
  if(lk->locked)
    panic("acquire: already held (deadlock)");
  lk->locked = 1;
}
void release(struct spinlock *lk)
{
  if(!lk->locked)
    panic("release: not held");
  lk->locked = 0;
}
int holding(struct spinlock *lk) { return lk->locked; }
void
sleeplock_acquire(struct sleeplock *lk)
{
  if(lk->holder)
    panic("sleeplock_acquire: already held (would sleep forever)");
  lk->holder = myproc();
}
void
sleeplock_release(struct sleeplock *lk)
{
  if(!lk->holder)
    panic("sleeplock_release: not held");
  lk->holder = 0;
}
int sleeplock_held(struct sleeplock *lk) { return lk->holder == myproc(); }

void
sleep(void *chan, struct spinlock *lk)
{
  (void)chan;
  (void)lk;
  sleep_fails++;
  panic("sleep: would block forever in a single-threaded test");
}
void wakeup(void *chan) { (void)chan; }

struct proc *myproc(void) { return &the_proc; }

// ---- memory ---------------------------------------------------------------
void *kalloc(void) { return host_page(); }
void kfree(void *pa) { host_free_page(pa); }

// User addresses below 64 KiB are "unmapped", to exercise bad-pointer paths.
static int bad_user(uint64 va) { return va < 0x10000; }

int
copyout(pagetable_t pt, uint64 dst, char *src, uint64 len)
{
  (void)pt;
  if(bad_user(dst))
    return -1;
  memmove((void *)dst, src, len);
  return 0;
}

int
copyin(pagetable_t pt, char *dst, uint64 src, uint64 len)
{
  (void)pt;
  if(bad_user(src))
    return -1;
  memmove(dst, (void *)src, len);
  return 0;
}

int
copyto(int to_user, uint64 dst, const void *src, uint64 len)
{
  if(to_user)
    return copyout(0, dst, (char *)src, len);
  memmove((void *)dst, src, len);
  return 0;
}

int
copyfrom(void *dst, int from_user, uint64 src, uint64 len)
{
  if(from_user)
    return copyin(0, dst, src, len);
  memmove(dst, (void *)src, len);
  return 0;
}

int
copyinstr(pagetable_t pt, char *dst, uint64 src, uint64 max)
{
  (void)pt;
  if(bad_user(src))
    return -1;
  const char *s = (const char *)src;
  for(uint64 i = 0; i < max; i++){
    dst[i] = s[i];
    if(s[i] == 0)
      return 0;
  }
  return -1;   // no terminator within max bytes
}

// ---- system calls outside the storage code --------------------------------
// syscall.c's table names every handler; these are not part of this test.
#define NOT_HERE(name) \
  uint64 name(struct sysarg *arg) { (void)arg; panic(#name ": not in the storage test"); }
NOT_HERE(sys_fork) NOT_HERE(sys_exit) NOT_HERE(sys_wait) NOT_HERE(sys_kill)
NOT_HERE(sys_exec) NOT_HERE(sys_getpid) NOT_HERE(sys_sbrk) NOT_HERE(sys_sleep)
NOT_HERE(sys_uptime) NOT_HERE(sys_map_shared_pages) NOT_HERE(sys_unmap_shared_pages)
NOT_HERE(sys_crypto_op) NOT_HERE(sys_take_shared_memory_request) NOT_HERE(sys_freepages)

// ---- the disk ---------------------------------------------------------------
void
virtio_disk_rw(struct buf *b, int write)
{
  host_disk(b->data, b->blockno, write);
}

// ---- printing ---------------------------------------------------------------
int
printf(char *fmt, ...)
{
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  host_print(line);
  return n;
}

void
panic(char *s)
{
  host_die(s);
}

// ---- string.c equivalents -------------------------------------------------------
void *
memmove(void *dst, const void *src, uint n)
{
  char *d = dst;
  const char *s = src;
  if(d < s){
    while(n--)
      *d++ = *s++;
  } else {
    d += n;
    s += n;
    while(n--)
      *--d = *--s;
  }
  return dst;
}
void *memcpy(void *dst, const void *src, uint n) { return memmove(dst, src, n); }
void *
memset(void *dst, int c, uint n)
{
  char *d = dst;
  while(n--)
    *d++ = c;
  return dst;
}
int
strncmp(const char *a, const char *b, uint n)
{
  for(; n > 0; n--, a++, b++){
    if(*a != *b)
      return (uchar)*a - (uchar)*b;
    if(*a == 0)
      return 0;
  }
  return 0;
}
char *
strncpy(char *dst, const char *src, int n)
{
  int i = 0;
  for(; i < n && src[i]; i++)
    dst[i] = src[i];
  for(; i < n; i++)
    dst[i] = 0;
  return dst;
}
int strlen(const char *s) { int n = 0; while(s[n]) n++; return n; }

// ---- what host.c calls ------------------------------------------------------------
void
glue_boot(void)
{
  the_proc.tf = &frame;
  memmove(the_proc.name, "kfs", 4);
  fs_mount(ROOTDEV);
  the_proc.cwd = lookup_path("/");
  if(the_proc.cwd == 0)
    panic("glue_boot: no root directory");
}

// Make system call num with arguments a0..a2 through syscall(), which
// checks them against its table, as a trap would.
uint64
glue_syscall(int num, uint64 a0, uint64 a1, uint64 a2)
{
  struct user_regs *r = &the_proc.tf->user;
  r->a7 = num;
  r->a0 = a0;
  r->a1 = a1;
  r->a2 = a2;
  r->a3 = r->a4 = r->a5 = 0;
  syscall();
  return r->a0;
}

void glue_set_killed(int k) { the_proc.killed = k; }

// Close every descriptor, as exit() would.
void
glue_exit(void)
{
  fd_table_close(&the_proc);
  log_begin();
  inode_put(the_proc.cwd);
  log_end();
  the_proc.cwd = 0;
}
