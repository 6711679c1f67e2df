// Who runs: each hart's scheduler loop, and the ways a process leaves the
// CPU (its time slice ends, it waits for an event, it exits) and comes back
// (wakeup).
//
// Every hart ends up in scheduler() after boot and stays there.  It hands
// the hart to a READY process by swtch()ing to the process's kernel
// thread, and the process hands it back in leave_cpu() by swtch()ing to
// the hart's scheduler context.  The scheduler takes p->lock before the
// switch into p, and p holds its lock again when it switches back, so a
// process's change of state and its switch form one step for everybody
// else (another hart's scheduler, wakeup(), kill()).
//
// Idle: with nothing READY the hart waits in wfi, which simulators skip
// over in no time.  The search for a READY process runs with interrupts
// off, so that a wakeup from an interrupt handler cannot fall between a
// search that found nothing and the wfi: wfi ends when an interrupt is
// pending even while interrupts are masked, and the scheduler then lets
// it in before searching again.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

struct cpu cpus[NCPU];

// The first READY process at or after slot *next in round-robin order,
// returned locked, with *next moved past it; 0 if there is none.
static struct proc *
find_ready(int *next)
{
  for (int i = 0; i < NPROC; i++) {
    int slot = (*next + i) % NPROC;
    struct proc *p = &procs[slot];
    // Look before locking: most slots are free or asleep, and a lock
    // round trip per slot made this the kernel's hottest loop.  The state
    // is checked again under the lock; a process that another hart makes
    // READY meanwhile is found by the next search.
    if (__atomic_load_n(&p->state, __ATOMIC_RELAXED) != P_READY)
      continue;
    acquire(&p->lock);
    if (p->state == P_READY) {
      *next = (slot + 1) % NPROC;
      return p;
    }
    release(&p->lock);
  }
  return 0;
}

// Run p (locked, READY) until it leaves the CPU again.
static void
run(struct cpu *c, struct proc *p)
{
  p->state = P_RUNNING;
  c->proc = p;
  swtch(&c->scheduler, &p->context);
  c->proc = 0;
  release(&p->lock);
}

void
scheduler(void)
{
  struct cpu *c = mycpu();
  int next = 0;
  c->proc = 0;
  for (;;) {
    intr_off();
    struct proc *p = find_ready(&next);
    if (p != 0) {
      run(c, p);
    } else {
      asm volatile("wfi");
      intr_on();           // the interrupt that ended the wfi is taken here
    }
  }
}

// Switch from the calling process to this hart's scheduler, leaving the
// process in state `next` (READY, ASLEEP or ZOMBIE).  The caller holds
// p->lock and no other lock; the process continues here when it is next
// run, with p->lock held again.
void
leave_cpu(enum pstate next)
{
  struct proc *p = myproc();
  struct cpu *c = mycpu();
  if (!holding(&p->lock) || c->intr_depth != 1)
    panic("leave_cpu: must hold exactly the process's lock");
  if (p->state != P_RUNNING || intr_get())
    panic("leave_cpu: not running, or interrupts on");

  p->state = next;
  // Whether interrupts were on before the process took its lock belongs
  // to this kernel thread, not to the hart: keep it across the switch.
  int was_on = c->intr_was_on;
  swtch(&p->context, &c->scheduler);
  mycpu()->intr_was_on = was_on;
}

// Let the other READY processes have a turn.
void
yield(void)
{
  struct proc *p = myproc();
  acquire(&p->lock);
  leave_cpu(P_READY);
  release(&p->lock);
}

// Sleep until wakeup(chan), releasing lk meanwhile; lk is held again on
// return.  The caller checks its condition under lk and calls again if it
// does not hold yet: wakeups can be spurious (kill() wakes too).
void
sleep(void *chan, struct spinlock *lk)
{
  struct proc *p = myproc();
  // Take p->lock before letting go of lk: a wakeup() needs p->lock to see
  // this process, so none can slip in before it is ASLEEP.
  acquire(&p->lock);
  release(lk);
  p->wchan = chan;
  leave_cpu(P_ASLEEP);
  p->wchan = 0;
  release(&p->lock);
  acquire(lk);
}

// Make every process asleep on chan READY.  The caller holds the lock
// the sleepers gave to sleep(), and not its own p->lock.
void
wakeup(void *chan)
{
  struct proc *me = myproc();
  for (struct proc *p = procs; p < &procs[NPROC]; p++) {
    if (p == me)
      continue;
    // Skip, without locking, a process that is unlocked and not asleep on
    // chan.  One on its way into sleep(chan) holds p->lock from before it
    // released the caller's lock until it is ASLEEP, so it is never
    // skipped by mistake; and one asleep on another channel cannot move
    // to chan while the caller holds that lock.  This saves most of the
    // lock round trips of a busy file system.
    if (__atomic_load_n(&p->lock.locked, __ATOMIC_ACQUIRE) == 0 &&
        (__atomic_load_n(&p->state, __ATOMIC_RELAXED) != P_ASLEEP ||
         __atomic_load_n(&p->wchan, __ATOMIC_RELAXED) != chan))
      continue;
    acquire(&p->lock);
    if (p->state == P_ASLEEP && p->wchan == chan)
      p->state = P_READY;
    release(&p->lock);
  }
}
