// Who runs: each hart's scheduler loop, and the one way a process leaves
// the CPU, leave_cpu(), which yield() (time slice over), sleep() (waiting
// for an event) and exit() all go through; wakeup() brings sleepers back.
//
// Every hart ends up in scheduler() after boot and stays there.  Handing
// the hart back and forth is swtch() between two kernel stacks: the
// hart's (struct cpu's scheduler context) and the process's.  Invariant:
// across every such switch, in either direction, the process's p->lock is
// held.  The scheduler takes it before switching in; the process takes it
// before switching out and finds it held again when it is switched back
// in.  So for everybody else (another hart's scheduler, wakeup(), kill())
// a process's change of state and the switch that follows are one step:
// nobody can run a process that is still on its way off another hart.
//
// Idle: with nothing READY the hart waits in wfi, which simulators skip
// over in no time.  The search for a READY process runs with interrupts
// off, so that a wakeup from an interrupt handler cannot fall between a
// search that found nothing and the wfi: wfi ends when an interrupt is
// pending even while interrupts are masked, and the interrupt is let in
// (and handled) before the next search.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

struct cpu cpus[NCPU];

// ---- the hart's side ----------------------------------------------------

// Is slot p worth locking to look at?  A racy peek: most slots are free
// or asleep, and a lock round trip per slot made the scan the kernel's
// hottest loop.  The caller checks again under the lock; a process that
// another hart makes READY just after the peek is found by the next scan.
static inline int
looks_ready(struct proc *p)
{
  return __atomic_load_n(&p->state, __ATOMIC_RELAXED) == P_READY;
}

// Scan the table once, round robin from slot *cursor, for a READY
// process.  It is returned locked and *cursor moves past it; 0 when the
// whole table was scanned in vain.
static struct proc *
pick_next(int *cursor)
{
  for (int n = 0; n < NPROC; n++) {
    struct proc *p = &procs[(*cursor + n) % NPROC];
    if (!looks_ready(p))
      continue;
    acquire(&p->lock);
    if (p->state == P_READY) {
      *cursor = (p - procs + 1) % NPROC;
      return p;
    }
    release(&p->lock);
  }
  return 0;
}

// Give this hart to p (locked, READY) until p calls leave_cpu(); then
// drop the lock p left the CPU with.
static void
dispatch(struct proc *p)
{
  struct cpu *hart = mycpu();
  p->state = P_RUNNING;
  hart->proc = p;
  swtch(&hart->scheduler, &p->context);
  hart->proc = 0;      // back on the hart's own stack: nobody runs here
  release(&p->lock);
}

// Nothing to run: doze until an interrupt is pending, then take it.
static void
idle(void)
{
  asm volatile("wfi");
  intr_on();
}

void
scheduler(void)
{
  int cursor = 0;      // where the next scan starts
  for (;;) {
    intr_off();
    struct proc *p = pick_next(&cursor);
    if (p == 0)
      idle();
    else
      dispatch(p);
  }
}

// ---- the process's side -------------------------------------------------

// Leave the CPU in state `next` (READY, ASLEEP or ZOMBIE), asleep on
// `chan` if ASLEEP.  `held` is a lock the caller holds (or 0): it is let
// go only once the process's own lock is taken, so whoever needs either
// lock to see this process (wakeup() for a sleeper, wait() for a zombie)
// sees it either before the call or after it has left the CPU, never half
// way.  The caller holds no other lock.  Returns, with `held` not held,
// when the process is next run.
void
leave_cpu(enum pstate next, void *chan, struct spinlock *held)
{
  struct proc *p = myproc();
  acquire(&p->lock);
  if (held)
    release(held);
  if (mycpu()->intr_depth != 1 || p->state != P_RUNNING)
    panic("leave_cpu: other locks held, or not running");

  p->state = next;
  p->wchan = chan;
  // Whether interrupts were on before the lock was taken belongs to this
  // kernel thread, not to the hart: it goes along with the thread.
  int irq_were_on = mycpu()->intr_was_on;
  swtch(&p->context, &mycpu()->scheduler);
  mycpu()->intr_was_on = irq_were_on;

  p->wchan = 0;
  release(&p->lock);
}

// Let the other READY processes have a turn.
void
yield(void)
{
  leave_cpu(P_READY, 0, 0);
}

// Sleep until wakeup(chan), giving up lk meanwhile; lk is held again on
// return.  The caller checks its condition under lk and calls again if it
// does not hold yet: wakeups can be spurious (kill() wakes too).
void
sleep(void *chan, struct spinlock *lk)
{
  leave_cpu(P_ASLEEP, chan, lk);
  acquire(lk);
}

// May p be asleep on chan, or about to be?  A lock-free look that lets
// wakeup() pass most processes by.  It is never wrong about one that
// matters: a process on its way into sleep(chan) holds p->lock from
// before it lets go of the caller's lock until it is ASLEEP (leave_cpu),
// so it reads as locked; and one asleep on another channel cannot move to
// chan while the caller holds chan's lock.
static inline int
may_sleep_on(struct proc *p, void *chan)
{
  if (__atomic_load_n(&p->lock.locked, __ATOMIC_ACQUIRE) != 0)
    return 1;
  return __atomic_load_n(&p->state, __ATOMIC_RELAXED) == P_ASLEEP &&
         __atomic_load_n(&p->wchan, __ATOMIC_RELAXED) == chan;
}

// Make every process asleep on chan READY.  The caller holds the lock
// the sleepers gave to sleep(), and not its own p->lock.
void
wakeup(void *chan)
{
  struct proc *self = myproc();
  for (struct proc *p = procs; p < &procs[NPROC]; p++) {
    if (p == self || !may_sleep_on(p, chan))
      continue;
    acquire(&p->lock);
    if (p->state == P_ASLEEP && p->wchan == chan)
      p->state = P_READY;
    release(&p->lock);
  }
}
