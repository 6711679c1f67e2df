// A lock that busy-waits.  Holding one keeps interrupts off on this hart.
#ifndef XV6_SPINLOCK_H
#define XV6_SPINLOCK_H

struct spinlock {
  uint locked;        // 1 while held
  char *name;         // for panics and debugging
  struct cpu *cpu;    // holder
};

#endif
