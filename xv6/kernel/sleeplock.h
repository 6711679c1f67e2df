// A lock whose waiters sleep; may be held across disk I/O.
#ifndef XV6_SLEEPLOCK_H
#define XV6_SLEEPLOCK_H

#include "kernel/spinlock.h"

struct sleeplock {
  uint locked;
  struct spinlock guard;   // protects this structure
  char *name;
  int pid;                 // holder
};

#endif
