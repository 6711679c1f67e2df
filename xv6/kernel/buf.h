// One cached disk block.
#ifndef XV6_BUF_H
#define XV6_BUF_H

#include "kernel/fs.h"
#include "kernel/sleeplock.h"

struct buf {
  int valid;              // data has been read from disk
  int disk;               // the disk driver owns it until it clears this
  uint dev;
  uint blockno;
  struct sleeplock lock;
  uint refcnt;
  struct buf *prev;       // LRU list
  struct buf *next;
  uchar data[BSIZE];
};

#endif
