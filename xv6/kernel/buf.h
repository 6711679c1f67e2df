// A disk block cached in memory (bio.c).
#ifndef XV6_BUF_H
#define XV6_BUF_H

#include "kernel/fs.h"
#include "kernel/sleeplock.h"

struct buf {
  // Under the cache's spinlock:
  uint dev;                  // the block this buffer holds, once it is
  uint blockno;              //   in a hash chain
  uint refs;                 // holders, and the log's holds (bhold)
  struct buf *hash_next;     // the next buffer in its hash chain
  struct buf *idle_prev;     // neighbours in the idle list, while refs == 0
  struct buf *idle_next;

  // The holder's, under lock:
  struct sleeplock lock;
  int valid;                 // data holds the block's contents
  int disk;                  // the disk driver owns data until it clears this
  uchar data[BSIZE];
};

#endif
