// Open files: the system-wide table that file descriptors point into, and
// read/write/stat dispatched on the kind of file (pipe, inode, device).

#include "kernel/types.h"
#include "kernel/riscv.h"
#include "kernel/param.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/fs.h"
#include "kernel/file.h"
#include "kernel/stat.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

// Drivers for device files, by major number; the console fills in its entry.
struct devsw devsw[NDEV];

static struct {
  struct spinlock lock;   // guards ref (and type, for free slots)
  struct file slot[NFILE];
} ftable;

// Largest write to an inode that one log transaction can absorb.  A chunk
// of k blocks that does not start on a block boundary touches k+1 data
// blocks, each of which may need its bitmap block updated, plus the inode
// block and the indirect block: 2(k+1) + 2 <= MAXOPBLOCKS.
#define CHUNK_BLOCKS ((MAXOPBLOCKS - 4) / 2)
#define WRITE_CHUNK  (CHUNK_BLOCKS * BSIZE)

_Static_assert(CHUNK_BLOCKS >= 1, "MAXOPBLOCKS too small for file writes");

void
fileinit(void)
{
  initlock(&ftable.lock, "ftable");
}

// A fresh file with one reference, or 0 if the table is full.
struct file *
filealloc(void)
{
  acquire(&ftable.lock);
  for(int i = 0; i < NFILE; i++){
    struct file *f = &ftable.slot[i];
    if(f->ref == 0){
      f->ref = 1;
      release(&ftable.lock);
      return f;
    }
  }
  release(&ftable.lock);
  return 0;
}

struct file *
filedup(struct file *f)
{
  acquire(&ftable.lock);
  if(f->ref < 1)
    panic("filedup: file not open");
  f->ref++;
  release(&ftable.lock);
  return f;
}

// Drop a reference; the last one releases the pipe end or the inode.
void
fileclose(struct file *f)
{
  acquire(&ftable.lock);
  if(f->ref < 1)
    panic("fileclose: file not open");
  if(--f->ref > 0){
    release(&ftable.lock);
    return;
  }
  // Take a copy and free the slot before doing anything that sleeps.
  struct file gone = *f;
  f->type = FD_NONE;
  f->pipe = 0;
  f->ip = 0;
  f->readable = f->writable = 0;
  f->off = 0;
  release(&ftable.lock);

  if(gone.type == FD_PIPE){
    pipeclose(gone.pipe, gone.writable);
  } else if(gone.type == FD_INODE || gone.type == FD_DEVICE){
    begin_op();
    iput(gone.ip);
    end_op();
  }
}

// Copy the file's metadata to the user's struct stat at addr.
int
filestat(struct file *f, uint64 addr)
{
  struct stat st;

  if(f->type != FD_INODE && f->type != FD_DEVICE)
    return -1;
  ilock(f->ip);
  stati(f->ip, &st);
  iunlock(f->ip);
  if(copyout(myproc()->pagetable, addr, (char *)&st, sizeof(st)) < 0)
    return -1;
  return 0;
}

static struct devsw *
driver_of(struct file *f)
{
  if(f->major < 0 || f->major >= NDEV)
    return 0;
  return &devsw[f->major];
}

// Read up to n bytes into user address addr.
int
fileread(struct file *f, uint64 addr, int n)
{
  if(!f->readable || n < 0)
    return -1;

  switch(f->type){
  case FD_PIPE:
    return piperead(f->pipe, addr, n);
  case FD_DEVICE: {
    struct devsw *d = driver_of(f);
    if(d == 0 || d->read == 0)
      return -1;
    return d->read(1, addr, n);
  }
  case FD_INODE: {
    ilock(f->ip);
    int got = readi(f->ip, 1, addr, f->off, n);
    if(got > 0)
      f->off += got;
    iunlock(f->ip);
    return got;
  }
  default:
    panic("fileread: bad file type");
  }
}

// Write n bytes at the file's offset, in transaction-sized chunks.
static int
inode_write(struct file *f, uint64 addr, int n)
{
  int done = 0;
  while(done < n){
    int len = n - done;
    if(len > WRITE_CHUNK)
      len = WRITE_CHUNK;

    begin_op();
    ilock(f->ip);
    int put = writei(f->ip, 1, addr + done, f->off, len);
    if(put > 0)
      f->off += put;
    iunlock(f->ip);
    end_op();

    if(put != len)      // disk full, bad address or too large
      break;
    done += put;
  }
  return done == n ? n : -1;
}

// Write n bytes from user address addr.  Returns n or -1.
int
filewrite(struct file *f, uint64 addr, int n)
{
  if(!f->writable || n < 0)
    return -1;

  switch(f->type){
  case FD_PIPE:
    return pipewrite(f->pipe, addr, n);
  case FD_DEVICE: {
    struct devsw *d = driver_of(f);
    if(d == 0 || d->write == 0)
      return -1;
    return d->write(1, addr, n);
  }
  case FD_INODE:
    return inode_write(f, addr, n);
  default:
    panic("filewrite: bad file type");
  }
}
