// A lock whose waiters sleep instead of spinning, so it may be held across
// disk I/O (buffers, inodes).  A zero-filled sleeplock is a free one.
#ifndef XV6_SLEEPLOCK_H
#define XV6_SLEEPLOCK_H

#include "kernel/spinlock.h"

struct sleeplock {
  struct spinlock guard;   // protects the two fields below
  struct proc *holder;     // 0 while free
  int waiting;             // processes asleep until it is free
};

#endif
