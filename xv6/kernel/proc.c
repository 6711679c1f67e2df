// The process table, and a process's life in it: birth (the two boot
// processes, fork), death (exit, kill) and burial (the parent's wait).
// Which process runs when is sched.c's business.
//
// Slots: procs[] holds NPROC processes, each in one of the states of enum
// pstate (proc.h).  claim_slot() turns a FREE slot NEW and gives it a pid,
// a trap frame and a page table; the creator then fills it in without
// holding its lock (no other code changes a NEW process; kill() may set
// its killed flag) and hands it to the scheduler with make_ready().
//
// Locks:
//   p->lock  state, wchan, killed, exit_status and pid of p (proc.h).
//   family   every p->parent, and the meeting of exit() and wait(): a
//            parent looks for exited children and goes to sleep while
//            holding it, so a child that exits meanwhile cannot post its
//            wakeup too early.  Taken before any p->lock.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

struct proc procs[NPROC];

static struct spinlock family = SPINLOCK_INIT("family");
static struct proc *init_proc;    // pid 1: adopts orphans, never exits
static int next_pid = 1;          // pids are never reused

extern char trampoline[];         // trampoline.S

// The boot processes' code (initcode.S).
extern char initcode_begin[], initcode_end[];
extern char srvcode_begin[], srvcode_end[];

static void new_process_entry(void);

// ---- slots ------------------------------------------------------------

// Each slot has a kernel stack page at KSTACK(slot), with an unmapped
// guard page below it; vm.c calls this while it builds the kernel's table.
void
map_kernel_stacks(pagetable_t kpt)
{
  for (int slot = 0; slot < NPROC; slot++) {
    char *stack = kalloc();
    if (stack == 0)
      panic("map_kernel_stacks: no memory");
    kvmmap(kpt, KSTACK(slot), (uint64)stack, PGSIZE, PTE_R | PTE_W);
  }
}

static uint64
kstack_top(struct proc *p)
{
  return KSTACK(p - procs) + PGSIZE;
}

struct proc *
myproc(void)
{
  intr_push();
  struct proc *p = mycpu()->proc;
  intr_pop();
  return p;
}

// The top two pages of every user address space are the kernel's (no
// PTE_U): p's trap frame at TRAPFRAME and, right above it, the trampoline
// that uservec and userret (trampoline.S) run on.
_Static_assert(TRAPFRAME + PGSIZE == TRAMPOLINE, "the kernel's user pages are adjacent");

// A user page table holding only those two pages; 0 if out of memory.
// exec() builds the new image of a process in one of these.
pagetable_t
user_pagetable_new(struct proc *p)
{
  pagetable_t pt = pagetable_alloc();
  if (pt == 0)
    return 0;
  if (mappages(pt, TRAPFRAME, PGSIZE, (uint64)p->tf, PTE_R | PTE_W) != 0 ||
      mappages(pt, TRAMPOLINE, PGSIZE, (uint64)trampoline, PTE_R | PTE_X) != 0) {
    user_pagetable_free(pt, 0);   // whichever of the two got mapped
    return 0;
  }
  return pt;
}

// Free a page table from user_pagetable_new() and the sz bytes of user
// memory mapped in it.
void
user_pagetable_free(pagetable_t pt, uint64 sz)
{
  uvmunmap(pt, TRAPFRAME, 2, 0);   // the two pages are not the table's to free
  uvmfree(pt, sz);
}

// Free everything a slot holds and make it FREE: all but the lock back to
// zero, as the table is at boot.  Caller holds p->lock; the process has no
// open files or current directory left.
static void
free_slot(struct proc *p)
{
  if (p->pagetable)
    user_pagetable_free(p->pagetable, p->sz);
  if (p->tf)
    kfree(p->tf);
  char *after_lock = (char *)&p->lock + sizeof(p->lock);
  memset(after_lock, 0, (char *)(p + 1) - after_lock);
}

// The first slot that match(slot, key) accepts, returned locked: each
// slot is looked at under its lock.  0 if none does.
static struct proc *
lock_first(int (*match)(struct proc *slot, int key), int key)
{
  for (struct proc *p = procs; p < &procs[NPROC]; p++) {
    acquire(&p->lock);
    if (match(p, key))
      return p;
    release(&p->lock);
  }
  return 0;
}

static int
is_free(struct proc *slot, int unused)
{
  return slot->state == P_FREE;
}

static int
has_pid(struct proc *slot, int pid)
{
  return slot->state != P_FREE && slot->pid == pid;
}

// A NEW process in a FREE slot, with a pid, a trap frame, an empty user
// page table and a kernel thread that will start in new_process_entry();
// 0 if the table is full or memory ran out.
static struct proc *
claim_slot(void)
{
  struct proc *p = lock_first(is_free, 0);
  if (p == 0)
    return 0;
  p->state = P_NEW;
  p->pid = __atomic_fetch_add(&next_pid, 1, __ATOMIC_RELAXED);

  p->tf = kalloc();
  if (p->tf != 0)
    p->pagetable = user_pagetable_new(p);
  if (p->pagetable == 0) {
    free_slot(p);
    release(&p->lock);
    return 0;
  }
  release(&p->lock);

  trapframe_init(p->tf, kstack_top(p));
  memset(&p->context, 0, sizeof(p->context));
  p->context.ra = (uint64)new_process_entry;
  p->context.sp = kstack_top(p);
  return p;
}

// Give a NEW process with parent `parent` to the scheduler.
static void
make_ready(struct proc *p, struct proc *parent)
{
  acquire(&family);     // the parent link is in place before p can run
  p->parent = parent;
  release(&family);
  acquire(&p->lock);
  p->state = P_READY;
  release(&p->lock);
}

// ---- birth ------------------------------------------------------------

// The file system is brought up by the first process to run, since it
// reads the disk (and so sleeps, which needs a process).  Any other
// process that starts meanwhile waits here until it is up.
static void
mount_root_once(void)
{
  static struct spinlock lk = SPINLOCK_INIT("mount");
  static enum { UNMOUNTED, MOUNTING, MOUNTED } root;

  acquire(&lk);
  if (root == UNMOUNTED) {
    root = MOUNTING;
    release(&lk);
    fs_mount(ROOTDEV);
    acquire(&lk);
    root = MOUNTED;
    wakeup(&root);
  }
  while (root != MOUNTED)
    sleep(&root, &lk);
  release(&lk);
}

// A new process's kernel thread starts here, the first time the scheduler
// switches to it (with p->lock held, as always), and leaves for user mode.
static void
new_process_entry(void)
{
  static int mounted;    // only ever goes from 0 to 1
  struct proc *p = myproc();
  release(&p->lock);
  if (!mounted) {
    mount_root_once();
    mounted = 1;
  }
  if (p->cwd == 0)
    p->cwd = lookup_path("/");   // a boot process: it starts in the root
  return_to_user();
}

// A READY process whose memory is one page holding the code [begin, end),
// started at address 0 with its stack at the top of the page.
static struct proc *
start_boot_process(char *begin, char *end, char *name, struct proc *parent)
{
  struct proc *p = claim_slot();
  if (p == 0 || end - begin > PGSIZE)
    panic("start_boot_process: no slot, or the code is too big");
  if (uvmalloc(p->pagetable, 0, PGSIZE, PTE_W | PTE_X) != PGSIZE ||
      copyout(p->pagetable, 0, begin, end - begin) < 0)
    panic("start_boot_process: no memory");
  p->sz = PGSIZE;
  p->tf->user.pc = 0;
  p->tf->user.sp = PGSIZE;
  safestrcpy(p->name, name, sizeof(p->name));
  make_ready(p, parent);
  return p;
}

// Process 1 execs /init, process 2 /crypto_srv (if the disk has no such
// file, its exec fails and it exits; init reaps it).
void
start_first_processes(void)
{
  init_proc = start_boot_process(initcode_begin, initcode_end, "initcode", 0);
  start_boot_process(srvcode_begin, srvcode_end, "srvcode", init_proc);
}

// Duplicate the calling process: memory, registers, open files, current
// directory.  The child's pid to the parent, 0 to the child; -1 if the
// table is full or memory ran out.
int
fork(void)
{
  struct proc *parent = myproc();
  struct proc *child = claim_slot();
  if (child == 0)
    return -1;

  // The parent's lock keeps its memory and shared regions still while they
  // are copied: another process may be mapping pages into it (shmem.c).
  acquire(&parent->lock);
  int failed = uvmcopy(parent->pagetable, child->pagetable, parent->sz) < 0;
  if (!failed) {
    child->sz = parent->sz;
    memmove(child->shm, parent->shm, sizeof(child->shm));
  }
  release(&parent->lock);
  if (failed) {
    acquire(&child->lock);
    free_slot(child);
    release(&child->lock);
    return -1;
  }

  child->tf->user = parent->tf->user;
  child->tf->user.a0 = 0;
  fd_table_copy(parent, child);
  child->cwd = inode_dup(parent->cwd);
  safestrcpy(child->name, parent->name, sizeof(child->name));
  int pid = child->pid;
  make_ready(child, parent);
  return pid;
}

// ---- death ------------------------------------------------------------

// End the calling process.  It stays a ZOMBIE, holding its slot and exit
// status, until its parent's wait() collects it; its own children go to
// init.
void
exit(int status)
{
  struct proc *p = myproc();
  if (p == init_proc)
    panic("exit: init exited");

  fd_table_close(p);
  log_begin();            // dropping the directory may free its inode
  inode_put(p->cwd);
  log_end();
  p->cwd = 0;

  acquire(&family);
  int orphans = 0;
  for (struct proc *c = procs; c < &procs[NPROC]; c++) {
    if (c->parent == p) {
      c->parent = init_proc;
      orphans = 1;
    }
  }
  if (orphans)
    wakeup(init_proc);   // some of them may be zombies already
  wakeup(p->parent);     // it may be in wait()

  // Hold p->lock past the family lock: the parent sees this process as a
  // ZOMBIE only once it has left the CPU for good.
  acquire(&p->lock);
  p->exit_status = status;
  release(&family);
  leave_cpu(P_ZOMBIE);
  panic("exit: a zombie ran");
}

// Mark process pid killed: it exits the next time it is about to return
// to user mode, and an ASLEEP one is woken to get there.  -1 if there is
// no such process, or if it is init, which the system cannot do without.
int
kill(int pid)
{
  struct proc *p = lock_process(pid);
  if (p == 0)
    return -1;
  int ok = (p != init_proc);
  if (ok) {
    p->killed = 1;
    if (p->state == P_ASLEEP)
      p->state = P_READY;
  }
  release(&p->lock);
  return ok ? 0 : -1;
}

// The calling process did something fatal (trap.c).
void
mark_killed(struct proc *p)
{
  __atomic_store_n(&p->killed, 1, __ATOMIC_RELAXED);
}

// ---- burial -----------------------------------------------------------

// A ZOMBIE child of `parent`, locked, or 0; *children counts them all.
// Caller holds the family lock.
static struct proc *
zombie_child(struct proc *parent, int *children)
{
  *children = 0;
  for (struct proc *c = procs; c < &procs[NPROC]; c++) {
    if (c->parent != parent)
      continue;
    (*children)++;
    acquire(&c->lock);
    if (c->state == P_ZOMBIE)
      return c;
    release(&c->lock);
  }
  return 0;
}

// Wait for a child to exit, store its exit status at user address
// status_addr (unless 0) and free its slot.  Its pid; -1 if the caller has
// no children, is killed, or status_addr is bad (the child stays a zombie).
int
wait(uint64 status_addr)
{
  struct proc *me = myproc();
  acquire(&family);
  for (;;) {
    int children;
    struct proc *z = zombie_child(me, &children);
    if (z != 0) {
      int pid = z->pid;
      if (status_addr != 0 &&
          copyout(me->pagetable, status_addr, (char *)&z->exit_status,
                  sizeof(z->exit_status)) < 0)
        pid = -1;
      else
        free_slot(z);
      release(&z->lock);
      release(&family);
      return pid;
    }
    if (children == 0 || killed(me)) {
      release(&family);
      return -1;
    }
    sleep(me, &family);    // an exiting child wakes us
  }
}

// ---- looking at the table ---------------------------------------------

// The process with this pid (in any state but FREE), locked; 0 if none.
struct proc *
lock_process(int pid)
{
  return lock_first(has_pid, pid);
}

// ^P on the console: "pid state name" for every process.  It takes no
// locks, so that it works even when the system is stuck.
void
print_processes(void)
{
  static const char *const word[] = {
    [P_FREE] "free", [P_NEW] "new", [P_READY] "ready",
    [P_RUNNING] "running", [P_ASLEEP] "asleep", [P_ZOMBIE] "zombie",
  };
  printf("\n");
  for (struct proc *p = procs; p < &procs[NPROC]; p++)
    if (p->state != P_FREE)
      printf("%d %s %s\n", p->pid, word[p->state], p->name);
}
