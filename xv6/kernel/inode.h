// An inode in memory: a copy of the on-disk inode (struct dinode, fs.h)
// and what the kernel needs to share it.  inode.c explains the life cycle.
#ifndef XV6_INODE_H
#define XV6_INODE_H

#include "kernel/fs.h"
#include "kernel/sleeplock.h"

struct inode {
  // Under the inode table's spinlock:
  uint dev;
  uint inum;
  int ref;                 // open files, current directories, walks in progress

  struct sleeplock lock;   // guards everything below, and the file's data
  int valid;               // the copy below has been read from the disk

  // The copy of the dinode, field by field or as a whole (`disk`, for
  // loading and storing it); inode.c checks that the two views agree.
  union {
    struct dinode disk;
    struct {
      short type;              // 0 (free), T_DIR, T_FILE or T_DEVICE
      short major;
      short minor;
      short nlink;             // directory entries naming this inode
      uint size;               // bytes
      uint addrs[NDIRECT+1];   // data blocks; the last is the indirect block
    };
  };
};

#endif
