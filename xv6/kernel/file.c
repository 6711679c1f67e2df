// Open files and descriptor tables.
//
// An open file (struct file, file.h) is a slot of the system-wide file
// table with a reference count; what it does depends on its kind, through
// its file_ops: an inode (read and write at an offset, through the log), a
// device (its driver in devsw[]) or a pipe end (pipe.c).  A process's
// descriptors are indices into its p->fd[], each entry holding one
// reference to an open file.

#include "kernel/types.h"
#include "kernel/riscv.h"
#include "kernel/param.h"
#include "kernel/spinlock.h"
#include "kernel/inode.h"
#include "kernel/file.h"
#include "kernel/stat.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

// Drivers for device files, by major number; the console fills in its own.
struct devsw devsw[NDEV];

static struct {
  struct spinlock lock;   // guards every refs
  struct file slot[NFILE];
} files = { .lock = SPINLOCK_INIT("files") };

// ---- open files ----------------------------------------------------------

// A new open file with one reference and no kind yet, or 0 if the table
// is full.  Closing it as it is just frees the slot.
static struct file *
file_alloc(void)
{
  acquire(&files.lock);
  for (struct file *f = files.slot; f < files.slot + NFILE; f++) {
    if (f->refs == 0) {
      f->refs = 1;
      release(&files.lock);
      return f;
    }
  }
  release(&files.lock);
  return 0;
}

struct file *
file_dup(struct file *f)
{
  acquire(&files.lock);
  if (f->refs < 1)
    panic("file_dup: file not open");
  f->refs++;
  release(&files.lock);
  return f;
}

// Drop a reference; the last one closes the file by its kind.
void
file_close(struct file *f)
{
  acquire(&files.lock);
  if (f->refs < 1)
    panic("file_close: file not open");
  if (--f->refs > 0) {
    release(&files.lock);
    return;
  }
  // Closing may sleep (disk, pipe lock): work on a copy, with the slot
  // already free for others.
  struct file gone = *f;
  f->ops = 0;
  f->pipe = 0;
  f->ip = 0;
  release(&files.lock);
  if (gone.ops)
    gone.ops->close(&gone);
}

int
file_read(struct file *f, uint64 dst, int n)
{
  if (!f->readable || n < 0)
    return -1;
  return f->ops->read(f, dst, n);
}

// Writes all n bytes or fails: n, or -1.
int
file_write(struct file *f, uint64 src, int n)
{
  if (!f->writable || n < 0)
    return -1;
  return f->ops->write(f, src, n);
}

// Copy the metadata of an inode or device file to the user's struct stat
// at dst.  0, or -1 (a pipe, or a bad address).
int
file_stat(struct file *f, uint64 dst)
{
  struct stat st;
  if (f->ip == 0)
    return -1;
  inode_lock(f->ip);
  inode_stat(f->ip, &st);
  inode_unlock(f->ip);
  return copyout(myproc()->pagetable, dst, (char *)&st, sizeof(st));
}

// ---- inodes and devices ------------------------------------------------------

static int
inode_file_read(struct file *f, uint64 dst, int n)
{
  inode_lock(f->ip);
  int got = inode_read(f->ip, 1, dst, f->off, n);
  if (got > 0)
    f->off += got;
  inode_unlock(f->ip);
  return got;
}

// A write goes to the disk through the log, and one log transaction may
// write at most MAXOPBLOCKS blocks.  Writing k blocks of a file logs at
// worst the k blocks, a bitmap block for each (if they are new), the
// indirect block and its bitmap block, and the inode's block: 2k + 3.  So
// a long write is cut into pieces of at most WRITE_BLOCKS blocks, each
// ending on a block boundary, one transaction each.
#define WRITE_BLOCKS ((MAXOPBLOCKS - 3) / 2)
_Static_assert(WRITE_BLOCKS >= 1, "MAXOPBLOCKS is too small for file writes");

static int
inode_file_write(struct file *f, uint64 src, int n)
{
  int done = 0;
  while (done < n) {
    log_begin();
    inode_lock(f->ip);
    int len = WRITE_BLOCKS * BSIZE - f->off % BSIZE;
    if (len > n - done)
      len = n - done;
    int put = inode_write(f->ip, 1, src + done, f->off, len);
    if (put > 0)
      f->off += put;
    inode_unlock(f->ip);
    log_end();
    if (put != len)    // the disk is full, the file at MAXFILE, or src bad
      return -1;
    done += put;
  }
  return n;
}

// Every inode or device file holds one reference to its inode.
static void
inode_file_close(struct file *f)
{
  log_begin();            // the last reference to an unlinked file frees it
  inode_put(f->ip);
  log_end();
}

static const struct file_ops inode_ops = { inode_file_read, inode_file_write, inode_file_close };

// sys_open checked that f->major is a valid index into devsw[].
static int
device_read(struct file *f, uint64 dst, int n)
{
  struct devsw *d = &devsw[f->major];
  return d->read ? d->read(1, dst, n) : -1;
}

static int
device_write(struct file *f, uint64 src, int n)
{
  struct devsw *d = &devsw[f->major];
  return d->write ? d->write(1, src, n) : -1;
}

static const struct file_ops device_ops = { device_read, device_write, inode_file_close };

// Make the new open file f (from fd_new) refer to the locked inode ip, a
// file, directory or device, taking over the caller's reference to ip.
void
file_open_inode(struct file *f, struct inode *ip, int readable, int writable)
{
  f->ip = ip;
  f->readable = readable;
  f->writable = writable;
  if (ip->type == T_DEVICE) {
    f->ops = &device_ops;
    f->major = ip->major;
  } else {
    f->ops = &inode_ops;
    f->off = 0;
  }
}

// ---- descriptor tables ---------------------------------------------------------

// Give f the lowest free descriptor of the calling process; -1 if all
// NOFILE are taken.
int
fd_install(struct file *f)
{
  struct proc *p = myproc();
  for (int fd = 0; fd < NOFILE; fd++) {
    if (p->fd[fd] == 0) {
      p->fd[fd] = f;
      return fd;
    }
  }
  return -1;
}

// A new open file (with no kind yet) and the descriptor of the calling
// process that refers to it: the descriptor, with the file in *fp; -1 if
// the file table or the descriptor table is full.
int
fd_new(struct file **fp)
{
  struct file *f = file_alloc();
  if (f == 0)
    return -1;
  int fd = fd_install(f);
  if (fd < 0) {
    file_close(f);
    return -1;
  }
  *fp = f;
  return fd;
}

// The open file behind descriptor fd of the calling process, or 0.
struct file *
fd_lookup(int fd)
{
  if (fd < 0 || fd >= NOFILE)
    return 0;
  return myproc()->fd[fd];
}

// Close descriptor fd of the calling process (which must be open).
void
fd_close(int fd)
{
  struct proc *p = myproc();
  struct file *f = p->fd[fd];
  p->fd[fd] = 0;
  file_close(f);
}

// fork(): the child's descriptors refer to the parent's open files.
void
fd_table_copy(struct proc *from, struct proc *to)
{
  for (int fd = 0; fd < NOFILE; fd++)
    to->fd[fd] = from->fd[fd] ? file_dup(from->fd[fd]) : 0;
}

// exit(): close every descriptor of p.
void
fd_table_close(struct proc *p)
{
  for (int fd = 0; fd < NOFILE; fd++) {
    struct file *f = p->fd[fd];
    if (f) {
      p->fd[fd] = 0;
      file_close(f);
    }
  }
}
