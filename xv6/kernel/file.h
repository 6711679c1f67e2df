// Open files, and the drivers behind device files.
//
// User programs include this header too, for CONSOLE (init.c makes the
// console device file with it), so it only declares.
#ifndef XV6_FILE_H
#define XV6_FILE_H

// Major device number of the console (console.c).
#define CONSOLE 1

struct file;
struct pipe;
struct inode;

// What each kind of open file does (file.c: inodes and devices; pipe.c).
struct file_ops {
  int (*read)(struct file *f, uint64 dst, int n);    // dst: a user address
  int (*write)(struct file *f, uint64 src, int n);   // src: a user address
  void (*close)(struct file *f);                     // its last reference went
};

// An open file: what a descriptor refers to.  Descriptors of several
// processes (after fork) or of one (after dup) may share it, and with it
// the offset.  A slot of the file table is free while refs is 0; ops is 0
// until the file is opened as something.
struct file {
  const struct file_ops *ops;
  int refs;               // descriptors pointing here
  char readable;
  char writable;
  struct pipe *pipe;      // a pipe end
  struct inode *ip;       // an inode or a device file: its inode
  uint off;               // an inode: where the next read or write goes
  short major;            // a device file: its driver, devsw[major]
};

// Drivers of device files, by major number.  user_addr says whether addr
// is a user virtual address or a kernel one.
struct devsw {
  int (*read)(int user_addr, uint64 addr, int n);
  int (*write)(int user_addr, uint64 addr, int n);
};

extern struct devsw devsw[];

#endif
