// The system clock: a count of timer interrupts ("ticks"), the uptime and
// sleep system calls measure time in them.
//
// The timer is the Sstc compare register stimecmp: an interrupt is pending
// while `time` >= stimecmp, so each interrupt moves stimecmp one period
// ahead, which also withdraws the request.  start.c arms the first one.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

static struct {
  struct spinlock lock;
  uint count;        // ticks since boot; sleepers wait on &count
} ticks = { .lock = SPINLOCK_INIT("clock") };

// The timer interrupt.  Only hart 0 counts, so that a tick is one period
// whatever the number of harts.
void
clock_interrupt(void)
{
  if (cpuid() == 0) {
    acquire(&ticks.lock);
    ticks.count++;
    wakeup(&ticks.count);
    release(&ticks.lock);
  }
  write_stimecmp(csr_read(time) + TIMER_PERIOD);
}

uint
ticks_now(void)
{
  acquire(&ticks.lock);
  uint now = ticks.count;
  release(&ticks.lock);
  return now;
}

// Sleep for n ticks.  0, or -1 if the process is killed meanwhile.
int
sleep_ticks(uint n)
{
  acquire(&ticks.lock);
  uint from = ticks.count;
  int result = 0;
  while (ticks.count - from < n) {
    if (killed(myproc())) {
      result = -1;
      break;
    }
    sleep(&ticks.count, &ticks.lock);
  }
  release(&ticks.lock);
  return result;
}
