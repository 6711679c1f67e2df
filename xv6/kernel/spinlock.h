// A lock that busy-waits.  While a hart holds one its interrupts are off.
//
// A zero-filled spinlock is a free one, so locks in static storage need no
// initialisation; SPINLOCK_INIT("name") gives one a name for panic messages.
#ifndef XV6_SPINLOCK_H
#define XV6_SPINLOCK_H

struct spinlock {
  uint locked;          // 1 while held
  struct cpu *holder;   // the hart holding it, while held
  const char *name;     // for panic messages; may be 0
};

#define SPINLOCK_INIT(lockname) { .name = (lockname) }

#endif
