// Pipes: a 512-byte ring buffer shared by a read end and a write end, each
// an open file.  Readers sleep while the ring is empty, writers while it is
// full.

#include "kernel/types.h"
#include "kernel/riscv.h"
#include "kernel/param.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/file.h"
#include "kernel/defs.h"

#define PIPE_BYTES 512

struct pipe {
  struct spinlock lock;
  char ring[PIPE_BYTES];
  uint taken;        // bytes ever read; free-running, wraps at 2^32
  uint added;        // bytes ever written; added - taken = bytes buffered
  int reader_open;   // the read end has not been closed
  int writer_open;   // the write end has not been closed
};

_Static_assert(sizeof(struct pipe) <= PGSIZE, "a pipe lives in one page");
_Static_assert((PIPE_BYTES & (PIPE_BYTES - 1)) == 0, "ring size is a power of 2");

// Sleep channels: readers wait for `added` to move, writers for `taken`.
#define DATA_CHAN(pi)  ((void *)&(pi)->added)
#define SPACE_CHAN(pi) ((void *)&(pi)->taken)

static int pipe_read(struct file *f, uint64 dst, int n);
static int pipe_write(struct file *f, uint64 src, int n);
static void pipe_close(struct file *f);

static const struct file_ops pipe_ops = { pipe_read, pipe_write, pipe_close };

// Make a pipe between two new open files: rd becomes its read end, wr
// its write end.  0, or -1 if there is no memory for it.
int
pipe_open(struct file *rd, struct file *wr)
{
  struct pipe *pi = kalloc();
  if (pi == 0)
    return -1;
  initlock(&pi->lock, "pipe");
  pi->taken = pi->added = 0;
  pi->reader_open = pi->writer_open = 1;

  rd->ops = wr->ops = &pipe_ops;
  rd->pipe = wr->pipe = pi;
  rd->readable = 1;
  rd->writable = 0;
  wr->readable = 0;
  wr->writable = 1;
  return 0;
}

// One end is closed; the pipe goes away with its second end.
static void
pipe_close(struct file *f)
{
  struct pipe *pi = f->pipe;
  acquire(&pi->lock);
  if (f->writable) {
    pi->writer_open = 0;
    wakeup(DATA_CHAN(pi));     // readers see end of file
  } else {
    pi->reader_open = 0;
    wakeup(SPACE_CHAN(pi));    // writers see a broken pipe
  }
  int last = !pi->reader_open && !pi->writer_open;
  release(&pi->lock);
  if (last)
    kfree(pi);
}

// How many bytes to copy in one piece, starting at the ring position of
// the free-running count `from`: at most `avail` (the bytes there to read,
// or the room there to write), at most `want`, and not past the end of the
// ring, where the next piece starts again at 0.
static uint
piece(uint from, uint avail, uint want)
{
  uint to_end = PIPE_BYTES - from % PIPE_BYTES;
  uint len = avail < to_end ? avail : to_end;
  return len < want ? len : want;
}

// Write n bytes from user address addr.  Returns n, or -1 if the read end
// is closed or the process is killed before all of it went in, or if the
// user buffer is bad.
static int
pipe_write(struct file *f, uint64 addr, int n)
{
  struct pipe *pi = f->pipe;
  struct proc *p = myproc();
  int done = 0;

  acquire(&pi->lock);
  while (done < n) {
    if (!pi->reader_open || killed(p)) {
      done = -1;
      break;
    }
    uint room = PIPE_BYTES - (pi->added - pi->taken);
    if (room == 0) {
      wakeup(DATA_CHAN(pi));             // the reader makes room
      sleep(SPACE_CHAN(pi), &pi->lock);
      continue;
    }
    uint len = piece(pi->added, room, n - done);
    char *at = &pi->ring[pi->added % PIPE_BYTES];
    if (copyin(p->pagetable, at, addr + done, len) < 0) {
      done = -1;
      break;
    }
    pi->added += len;
    done += len;
  }
  wakeup(DATA_CHAN(pi));
  release(&pi->lock);
  return done;
}

// Read up to n bytes into user address addr.  Waits while the pipe is empty
// and a writer remains; returns 0 at end of file, -1 if killed or if the
// user buffer is bad.
static int
pipe_read(struct file *f, uint64 addr, int n)
{
  struct pipe *pi = f->pipe;
  struct proc *p = myproc();
  int done = 0;

  acquire(&pi->lock);
  while (pi->added == pi->taken && pi->writer_open) {
    if (killed(p)) {
      release(&pi->lock);
      return -1;
    }
    sleep(DATA_CHAN(pi), &pi->lock);
  }
  while (done < n && pi->added != pi->taken) {
    uint len = piece(pi->taken, pi->added - pi->taken, n - done);
    char *at = &pi->ring[pi->taken % PIPE_BYTES];
    if (copyout(p->pagetable, addr + done, at, len) < 0) {
      if (done == 0)
        done = -1;                       // else: what was read so far
      break;
    }
    pi->taken += len;
    done += len;
  }
  wakeup(SPACE_CHAN(pi));
  release(&pi->lock);
  return done;
}
