// Processes: the process table, creation (userinit, fork), exit and wait,
// the scheduler and sleep/wakeup.
//
// Locking: p->lock protects a slot's state, chan, killed, xstate and pid.
// wait_lock protects every p->parent and orders exit() against wait(); when
// both are needed, wait_lock is taken first.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/sleeplock.h"
#include "kernel/fs.h"
#include "kernel/file.h"
#include "kernel/defs.h"

struct cpu cpus[NCPU];
static struct proc ptable[NPROC];

static struct proc *initproc;     // pid 1, adopts orphans

static struct spinlock pid_lock;
static int next_pid = 1;

static struct spinlock wait_lock;

extern char trampoline[];          // trampoline.S

// The embedded launchers (initcode.S).
extern char initcode_begin[], initcode_end[];
extern char srvcode_begin[], srvcode_end[];

static void forkret(void);

static struct spinlock fs_gate;   // see fs_start_once()
static int fs_state;              // 0 not started, 1 starting, 2 ready

// Allocate one kernel stack page per slot and map it at KSTACK(slot); the
// page below each stays unmapped as a guard.
void
proc_mapstacks(pagetable_t kpt)
{
  for (int slot = 0; slot < NPROC; slot++) {
    char *stack = kalloc();
    if (stack == 0)
      panic("proc_mapstacks: no memory");
    kvmmap(kpt, KSTACK(slot), (uint64)stack, PGSIZE, PTE_R | PTE_W);
  }
}

void
procinit(void)
{
  initlock(&pid_lock, "pid");
  initlock(&wait_lock, "wait");
  initlock(&fs_gate, "fs start");
  for (int slot = 0; slot < NPROC; slot++) {
    struct proc *p = &ptable[slot];
    initlock(&p->lock, "proc");
    p->state = UNUSED;
    p->kstack = KSTACK(slot);
  }
}

struct proc *
myproc(void)
{
  push_off();
  struct proc *p = mycpu()->proc;
  pop_off();
  return p;
}

static int
take_pid(void)
{
  acquire(&pid_lock);
  int pid = next_pid++;
  release(&pid_lock);
  return pid;
}

// A process's page table with nothing but the trampoline and its trap
// frame; 0 if out of memory.
pagetable_t
proc_pagetable(struct proc *p)
{
  pagetable_t pt = uvmcreate();
  if (pt == 0)
    return 0;
  if (mappages(pt, TRAMPOLINE, PGSIZE, (uint64)trampoline, PTE_R | PTE_X) < 0)
    goto fail;
  if (mappages(pt, TRAPFRAME, PGSIZE, (uint64)p->trapframe, PTE_R | PTE_W) < 0) {
    uvmunmap(pt, TRAMPOLINE, 1, 0);
    goto fail;
  }
  return pt;
fail:
  uvmfree(pt, 0);
  return 0;
}

// Free a process's page table and the sz bytes of user memory in it.
void
proc_freepagetable(pagetable_t pt, uint64 sz)
{
  uvmunmap(pt, TRAMPOLINE, 1, 0);
  uvmunmap(pt, TRAPFRAME, 1, 0);
  uvmfree(pt, sz);
}

// Return a slot to UNUSED, freeing its memory.  Caller holds p->lock.
static void
release_slot(struct proc *p)
{
  if (p->pagetable)
    proc_freepagetable(p->pagetable, p->sz);
  p->pagetable = 0;
  if (p->trapframe)
    kfree(p->trapframe);
  p->trapframe = 0;
  p->sz = 0;
  p->pid = 0;
  p->parent = 0;
  p->name[0] = 0;
  p->chan = 0;
  p->killed = 0;
  p->xstate = 0;
  p->state = UNUSED;
}

// Claim an UNUSED slot and give it a pid, a trap frame, a page table and a
// kernel context that starts in forkret().  Returns with p->lock held, or 0.
static struct proc *
claim_slot(void)
{
  struct proc *p;
  for (p = ptable; p < &ptable[NPROC]; p++) {
    acquire(&p->lock);
    if (p->state == UNUSED)
      break;
    release(&p->lock);
  }
  if (p == &ptable[NPROC])
    return 0;

  p->pid = take_pid();
  p->state = USED;
  p->trapframe = (struct trapframe *)kalloc();
  if (p->trapframe == 0) {
    release_slot(p);
    release(&p->lock);
    return 0;
  }
  p->pagetable = proc_pagetable(p);
  if (p->pagetable == 0) {
    release_slot(p);
    release(&p->lock);
    return 0;
  }
  memset(&p->context, 0, sizeof(p->context));
  p->context.ra = (uint64)forkret;
  p->context.sp = p->kstack + PGSIZE;
  return p;
}

// Make a runnable process whose memory is the launcher blob [begin, end):
// it starts at address 0 with its stack at the top of its single page.
static struct proc *
start_launcher(char *begin, char *end, char *name, struct proc *parent)
{
  uint64 len = end - begin;
  if (len > PGSIZE)
    panic("start_launcher: blob too big");
  struct proc *p = claim_slot();
  if (p == 0)
    panic("start_launcher: no process slot");
  if (uvmalloc(p->pagetable, 0, PGSIZE, PTE_W | PTE_X) != PGSIZE)
    panic("start_launcher: no memory");
  p->sz = PGSIZE;
  if (copyout(p->pagetable, 0, begin, len) < 0)
    panic("start_launcher: copyout");
  p->trapframe->epc = 0;
  p->trapframe->sp = PGSIZE;
  safestrcpy(p->name, name, sizeof(p->name));
  p->cwd = 0;            // set to "/" in forkret, once the file system is up
  p->parent = parent;
  p->state = RUNNABLE;
  release(&p->lock);
  return p;
}

// Process 1 runs /init.  Process 2 runs /crypto_srv if the file system has
// one; if not, its exec fails and it exits quietly (init reaps it).
void
userinit(void)
{
  initproc = start_launcher(initcode_begin, initcode_end, "initcode", 0);
  acquire(&wait_lock);
  start_launcher(srvcode_begin, srvcode_end, "srvcode", initproc);
  release(&wait_lock);
}

// Change the user memory size by n bytes.  0 on success; -1 if the new
// size would be negative, would reach the trap frame, or memory ran out.
int
growproc(int n)
{
  struct proc *p = myproc();
  int r = 0;
  // Under p->lock: another process may be mapping shared pages into us
  // (shmem.c), at the top of our memory.
  acquire(&p->lock);
  uint64 sz = p->sz;
  if (n > 0) {
    uint64 want = sz + (uint64)n;
    if (want > TRAPFRAME || uvmalloc(p->pagetable, sz, want, PTE_W) == 0)
      r = -1;
    else
      p->sz = want;
  } else if (n < 0) {
    uint64 drop = -(uint64)(long)n;
    // Shared regions can only go as a whole, by unmap_shared_pages().
    if (drop > sz || shm_overlaps(p, PGROUNDUP(sz - drop), PGROUNDUP(sz)))
      r = -1;
    else
      p->sz = uvmdealloc(p->pagetable, sz, sz - drop);
  }
  release(&p->lock);
  return r;
}

// Give child a copy of parent's memory and registers; 0 or -1.
static int
clone_image(struct proc *parent, struct proc *child)
{
  // The parent's lock keeps its memory and shared regions still while
  // they are copied (see growproc).
  acquire(&parent->lock);
  if (uvmcopy(parent->pagetable, child->pagetable, parent->sz) < 0) {
    release(&parent->lock);
    return -1;
  }
  child->sz = parent->sz;
  memmove(child->shm, parent->shm, sizeof(child->shm));
  release(&parent->lock);
  *child->trapframe = *parent->trapframe;
  child->trapframe->a0 = 0;   // fork() returns 0 in the child
  return 0;
}

// The child shares the parent's open files and working directory.
static void
inherit_files(struct proc *parent, struct proc *child)
{
  for (int fd = 0; fd < NOFILE; fd++) {
    struct file *f = parent->ofile[fd];
    child->ofile[fd] = f ? filedup(f) : 0;
  }
  child->cwd = idup(parent->cwd);
}

// Duplicate the calling process.  Returns the child's pid to the parent
// (the child sees 0), or -1.
int
fork(void)
{
  struct proc *me = myproc();
  struct proc *kid = claim_slot();
  if (kid == 0)
    return -1;
  if (clone_image(me, kid) < 0) {
    release_slot(kid);
    release(&kid->lock);
    return -1;
  }
  inherit_files(me, kid);
  safestrcpy(kid->name, me->name, sizeof(kid->name));
  int pid = kid->pid;
  release(&kid->lock);

  // wait_lock before p->lock, as everywhere.
  acquire(&wait_lock);
  acquire(&kid->lock);
  kid->parent = me;
  kid->state = RUNNABLE;
  release(&kid->lock);
  release(&wait_lock);
  return pid;
}

// Hand p's children to init.  Caller holds wait_lock.
static void
give_children_to_init(struct proc *p)
{
  int any = 0;
  for (struct proc *q = ptable; q < &ptable[NPROC]; q++) {
    if (q->parent == p) {
      q->parent = initproc;
      any = 1;
    }
  }
  if (any)
    wakeup(initproc);
}

// Close the files and release the working directory of p.
static void
drop_files(struct proc *p)
{
  for (int fd = 0; fd < NOFILE; fd++) {
    struct file *f = p->ofile[fd];
    if (f) {
      p->ofile[fd] = 0;
      fileclose(f);
    }
  }
  if (p->cwd) {
    begin_op();   // iput may free the inode, which writes the disk
    iput(p->cwd);
    end_op();
    p->cwd = 0;
  }
}

// End the calling process.  It stays a ZOMBIE until its parent's wait().
void
exit(int status)
{
  struct proc *p = myproc();
  if (p == initproc)
    panic("exit: init must not exit");

  drop_files(p);

  acquire(&wait_lock);
  give_children_to_init(p);
  wakeup(p->parent);   // it may be in wait()
  acquire(&p->lock);   // held into the scheduler
  p->xstate = status;
  p->state = ZOMBIE;
  release(&wait_lock);

  sched();
  panic("exit: zombie ran again");
}

// Look for an exited child of me.  Returns its pid after storing its exit
// status at user address addr (if not 0) and freeing its slot; 0 if no
// child has exited; -1 if the status could not be stored.  *has_kids says
// whether me has any children at all.  Caller holds wait_lock.
static int
reap_zombie(struct proc *me, uint64 addr, int *has_kids)
{
  *has_kids = 0;
  for (struct proc *c = ptable; c < &ptable[NPROC]; c++) {
    if (c->parent != me)
      continue;
    *has_kids = 1;
    acquire(&c->lock);
    int done = (c->state == ZOMBIE);
    int pid = c->pid;
    int status = c->xstate;
    if (done && addr != 0 &&
        copyout(me->pagetable, addr, (char *)&status, sizeof(status)) < 0) {
      release(&c->lock);
      return -1;
    }
    if (done)
      release_slot(c);
    release(&c->lock);
    if (done)
      return pid;
  }
  return 0;
}

// Wait for a child to exit; store its status at user address addr (if not
// 0) and return its pid.  -1 if there are no children or we were killed.
int
wait(uint64 addr)
{
  struct proc *me = myproc();
  int has_kids;
  acquire(&wait_lock);
  for (;;) {
    int pid = reap_zombie(me, addr, &has_kids);
    if (pid != 0 || !has_kids || killed(me)) {
      release(&wait_lock);
      return pid != 0 ? pid : -1;
    }
    sleep(me, &wait_lock);   // exit() of a child wakes us
  }
}

// The next RUNNABLE process, searching round robin from *cursor; it is
// returned with its lock held, and *cursor moves past it.  0 if none.
static struct proc *
pick_next(int *cursor)
{
  for (int i = 0; i < NPROC; i++) {
    int slot = (*cursor + i) % NPROC;
    struct proc *p = &ptable[slot];
    // Look before locking: most slots are unused or asleep, and a lock
    // round trip per slot made the idle scan the kernel's hottest path.
    // The state is checked again under the lock.  With interrupts off
    // only another hart could make a process RUNNABLE meanwhile; this
    // hart then finds it on its next scan.
    if (*(volatile enum procstate *)&p->state != RUNNABLE)
      continue;
    acquire(&p->lock);
    if (p->state == RUNNABLE) {
      *cursor = (slot + 1) % NPROC;
      return p;
    }
    release(&p->lock);
  }
  return 0;
}

// Each hart ends up here after boot and never leaves: run the runnable
// processes in turn.  With nothing to run, sleep in wfi (interrupts on)
// so that simulators can skip the idle time.
void
scheduler(void)
{
  struct cpu *c = mycpu();
  int cursor = 0;
  c->proc = 0;
  for (;;) {
    // Scan with interrupts off, so that no wakeup can slip in between a
    // scan that found nothing and the wfi (which ends on a pending
    // interrupt even while they are masked); then let the interrupt in.
    intr_off();
    struct proc *p = pick_next(&cursor);
    if (p == 0) {
      asm volatile("wfi");
      intr_on();
      continue;
    }
    p->state = RUNNING;
    c->proc = p;
    swtch(&c->context, &p->context);
    // p is back: it yielded, went to sleep or exited.
    c->proc = 0;
    release(&p->lock);
  }
}

// Switch from the current process to the scheduler.  The caller holds
// p->lock (and nothing else) and has already changed p->state.
void
sched(void)
{
  struct proc *p = myproc();
  struct cpu *c = mycpu();
  if (!holding(&p->lock))
    panic("sched: p->lock not held");
  if (c->noff != 1)
    panic("sched: other locks held");
  if (p->state == RUNNING)
    panic("sched: still RUNNING");
  if (intr_get())
    panic("sched: interrupts on");

  // intena belongs to this kernel thread, not to the hart.
  int saved = c->intena;
  swtch(&p->context, &c->context);
  mycpu()->intena = saved;
}

// Give up the CPU for one round.
void
yield(void)
{
  struct proc *p = myproc();
  acquire(&p->lock);
  p->state = RUNNABLE;
  sched();
  release(&p->lock);
}

// The file system starts from the first process (it sleeps for disk I/O,
// which needs a process context).  Later processes wait until it is up.

static void
fs_start_once(void)
{
  acquire(&fs_gate);
  if (fs_state == 0) {
    fs_state = 1;
    release(&fs_gate);
    fsinit(ROOTDEV);
    acquire(&fs_gate);
    fs_state = 2;
    wakeup(&fs_state);
  }
  while (fs_state != 2)
    sleep(&fs_state, &fs_gate);
  release(&fs_gate);
}

// Where a new process's kernel thread begins: the scheduler switched here
// holding p->lock.
static void
forkret(void)
{
  struct proc *p = myproc();
  release(&p->lock);
  if (fs_state != 2)
    fs_start_once();
  if (p->cwd == 0)
    p->cwd = namei("/");   // the launchers start in the root directory
  usertrapret();
}

// Sleep on chan, releasing lk meanwhile; lk is held again on return.
void
sleep(void *chan, struct spinlock *lk)
{
  struct proc *p = myproc();
  // With p->lock held no wakeup() can slip in between releasing lk and
  // marking ourselves SLEEPING.
  acquire(&p->lock);
  release(lk);
  p->chan = chan;
  p->state = SLEEPING;
  sched();
  p->chan = 0;
  release(&p->lock);
  acquire(lk);
}

// Make every process sleeping on chan runnable.  Call without p->lock of
// the caller.
void
wakeup(void *chan)
{
  struct proc *me = myproc();
  for (struct proc *p = ptable; p < &ptable[NPROC]; p++) {
    if (p == me)
      continue;
    // Fast skip, without taking the lock, of a process that is unlocked
    // and not asleep on chan.  A process on its way into sleep() holds
    // p->lock from before it released the condition lock (which our
    // caller now holds) until it is SLEEPING with its chan set, so it
    // cannot be skipped by mistake; and one asleep on another channel
    // cannot move to ours while we hold the condition lock.  This saves
    // most lock round trips of a busy file system.
    if (*(volatile uint *)&p->lock.locked == 0) {
      __sync_synchronize();   // the lock word first, then state and chan
      if (*(volatile enum procstate *)&p->state != SLEEPING ||
          *(void * volatile *)&p->chan != chan)
        continue;
    }
    acquire(&p->lock);
    if (p->state == SLEEPING && p->chan == chan)
      p->state = RUNNABLE;
    release(&p->lock);
  }
}

// The live process with this pid, returned with its lock held; 0 if
// there is none.
struct proc *
proc_lock_pid(int pid)
{
  for (struct proc *p = ptable; p < &ptable[NPROC]; p++) {
    acquire(&p->lock);
    if (p->state != UNUSED && p->pid == pid)
      return p;
    release(&p->lock);
  }
  return 0;
}

// Mark process pid killed; it exits when it next crosses into user mode
// (a sleeping one is woken to notice).  -1 if there is no such process.
// init (pid 1) cannot be killed: the system needs it to reap orphans.
int
kill(int pid)
{
  if (initproc && pid == initproc->pid)
    return -1;
  struct proc *p = proc_lock_pid(pid);
  if (p == 0)
    return -1;
  p->killed = 1;
  if (p->state == SLEEPING)
    p->state = RUNNABLE;   // so that it notices
  release(&p->lock);
  return 0;
}

void
setkilled(struct proc *p)
{
  acquire(&p->lock);
  p->killed = 1;
  release(&p->lock);
}

int
killed(struct proc *p)
{
  acquire(&p->lock);
  int k = p->killed;
  release(&p->lock);
  return k;
}

// Copy to a user address (user_dst set) or a kernel address.
int
either_copyout(int user_dst, uint64 dst, void *src, uint64 len)
{
  if (user_dst)
    return copyout(myproc()->pagetable, dst, src, len);
  memmove((void *)dst, src, len);
  return 0;
}

// Copy from a user address (user_src set) or a kernel address.
int
either_copyin(void *dst, int user_src, uint64 src, uint64 len)
{
  if (user_src)
    return copyin(myproc()->pagetable, dst, src, len);
  memmove(dst, (void *)src, len);
  return 0;
}

static const char *
state_word(enum procstate st)
{
  switch (st) {
  case UNUSED:   return "free";
  case USED:     return "new";
  case SLEEPING: return "asleep";
  case RUNNABLE: return "ready";
  case RUNNING:  return "running";
  case ZOMBIE:   return "zombie";
  }
  return "?";
}

// ^P on the console: "pid state name" for every live process.  No locks
// are taken, so that it still works when the system is stuck.
void
procdump(void)
{
  printf("\n");
  for (int slot = 0; slot < NPROC; slot++) {
    struct proc *p = &ptable[slot];
    if (p->state != UNUSED)
      printf("%d %s %s\n", p->pid, state_word(p->state), p->name);
  }
}
