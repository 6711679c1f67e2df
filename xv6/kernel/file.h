// Open files, in-memory inodes and device switch.
#ifndef XV6_FILE_H
#define XV6_FILE_H

#include "kernel/fs.h"
#include "kernel/sleeplock.h"

struct file {
  enum { FD_NONE, FD_PIPE, FD_INODE, FD_DEVICE } type;
  int ref;
  char readable;
  char writable;
  struct pipe *pipe;   // FD_PIPE
  struct inode *ip;    // FD_INODE and FD_DEVICE
  uint off;            // FD_INODE
  short major;         // FD_DEVICE
};

#define major(dev)  ((dev) >> 16 & 0xFFFF)
#define minor(dev)  ((dev) & 0xFFFF)
#define mkdev(m,n)  ((uint)((m)<<16| (n)))

// An inode in memory: a copy of the dinode plus bookkeeping.
struct inode {
  uint dev;
  uint inum;
  int ref;
  struct sleeplock lock;   // protects everything below
  int valid;               // fields below have been read from disk

  short type;
  short major;
  short minor;
  short nlink;
  uint size;
  uint addrs[NDIRECT+1];
};

// Device drivers reachable through device files, indexed by major number.
// user_addr says whether addr is a user virtual address or a kernel one.
struct devsw {
  int (*read)(int user_addr, uint64 addr, int n);
  int (*write)(int user_addr, uint64 addr, int n);
};

extern struct devsw devsw[];

#define CONSOLE 1

#endif
