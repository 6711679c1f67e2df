// Write-ahead log, so that a crash never leaves a half-done file system
// operation on disk.
//
// A system call brackets its disk updates with begin_op() / end_op() and
// records each modified buf with log_write() instead of bwrite().  The blocks
// stay pinned in the cache.  Several calls may run at once; their changes
// all go into the same transaction, which is committed when the last of them
// calls end_op():
//   1. copy every recorded block into the log area on disk,
//   2. write the log header with the block count (the commit point),
//   3. copy the blocks to their home locations ("install"),
//   4. write the header again with count 0.
// After a crash, initlog() finds a non-zero count and repeats step 3-4.
//
// On disk: block sb.logstart is the header (a count and then the home block
// numbers, as 32-bit words); the logged copies follow in blocks
// logstart+1 ... logstart+count.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/riscv.h"
#include "kernel/fs.h"
#include "kernel/buf.h"
#include "kernel/defs.h"

// At most LOGSIZE-1 blocks per transaction: one log block is the header.
#define LOG_CAPACITY (LOGSIZE - 1)

struct log_header {
  int count;
  uint home[LOG_CAPACITY];
};

_Static_assert(sizeof(struct log_header) <= BSIZE, "log header must fit a block");

static struct {
  struct spinlock lock;
  int dev;
  int first;          // block number of the header
  int capacity;       // data blocks the on-disk log can hold
  int active;         // operations between begin_op and end_op
  int committing;     // a commit is running; new operations wait
  struct log_header hdr;   // the transaction being built
} wal;

static void
header_store(void)
{
  struct buf *b = bread(wal.dev, wal.first);
  memmove(b->data, &wal.hdr, sizeof(wal.hdr));
  bwrite(b);
  brelse(b);
}

static void
header_load(void)
{
  struct buf *b = bread(wal.dev, wal.first);
  memmove(&wal.hdr, b->data, sizeof(wal.hdr));
  brelse(b);
}

// Copy the logged blocks to their home locations.  During normal commits the
// home bufs were pinned by log_write(); at recovery they were not.
static void
install(int recovering)
{
  for(int i = 0; i < wal.hdr.count; i++){
    struct buf *copy = bread(wal.dev, wal.first + 1 + i);
    struct buf *home = bread(wal.dev, wal.hdr.home[i]);
    memmove(home->data, copy->data, BSIZE);
    bwrite(home);
    if(!recovering)
      bunpin(home);
    brelse(copy);
    brelse(home);
  }
}

void
initlog(int dev, struct superblock *sb)
{
  initlock(&wal.lock, "log");
  wal.dev = dev;
  wal.first = sb->logstart;
  wal.capacity = sb->nlog - 1;
  if(wal.capacity > LOG_CAPACITY)
    wal.capacity = LOG_CAPACITY;
  if(wal.capacity < MAXOPBLOCKS)
    panic("initlog: the file system's log is smaller than one operation");

  // Finish a transaction that committed before a crash.
  header_load();
  if(wal.hdr.count < 0 || wal.hdr.count > wal.capacity)
    panic("initlog: corrupt log header on disk");
  if(wal.hdr.count > 0){
    install(1);
    wal.hdr.count = 0;
    header_store();
  }
}

// Would one more operation still fit if every active one, and the new
// one, wrote its full MAXOPBLOCKS?
static int
room_for_another(void)
{
  return wal.hdr.count + (wal.active + 1) * MAXOPBLOCKS <= wal.capacity;
}

void
begin_op(void)
{
  acquire(&wal.lock);
  while(wal.committing || !room_for_another())
    sleep(&wal, &wal.lock);
  wal.active++;
  release(&wal.lock);
}

static void
commit(void)
{
  if(wal.hdr.count == 0)
    return;
  // 1. the cached (newest) contents of each block into the log area
  for(int i = 0; i < wal.hdr.count; i++){
    struct buf *src = bread(wal.dev, wal.hdr.home[i]);
    struct buf *dst = bread(wal.dev, wal.first + 1 + i);
    memmove(dst->data, src->data, BSIZE);
    bwrite(dst);
    brelse(src);
    brelse(dst);
  }
  header_store();     // 2. commit point
  install(0);         // 3.
  wal.hdr.count = 0;
  header_store();     // 4. the log is empty again
}

void
end_op(void)
{
  int mine = 0;

  acquire(&wal.lock);
  if(wal.active <= 0 || wal.committing)
    panic("end_op: no operation in progress");
  wal.active--;
  if(wal.active == 0){
    // Last one out commits, without the spinlock since commit sleeps on
    // disk I/O; `committing` keeps newcomers out meanwhile.
    wal.committing = 1;
    mine = 1;
  } else {
    // Our unused reservation may let a waiting begin_op() in.
    wakeup(&wal);
  }
  release(&wal.lock);

  if(mine){
    commit();
    acquire(&wal.lock);
    wal.committing = 0;
    wakeup(&wal);
    release(&wal.lock);
  }
}

// Record that b was modified in the current transaction; it is written to
// disk at commit.  Replaces bwrite() for file system blocks.
void
log_write(struct buf *b)
{
  acquire(&wal.lock);
  if(wal.active < 1)
    panic("log_write: outside of begin_op/end_op");

  int i = 0;
  while(i < wal.hdr.count && wal.hdr.home[i] != b->blockno)
    i++;
  if(i == wal.hdr.count){
    // A block not yet in this transaction.
    if(wal.hdr.count >= wal.capacity)
      panic("log_write: transaction larger than the log");
    wal.hdr.home[wal.hdr.count++] = b->blockno;
    bpin(b);
  }
  release(&wal.lock);
}
