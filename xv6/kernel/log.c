// The write-ahead log: a file system operation changes the disk entirely
// or, after a crash, not at all.
//
// An operation (a system call, mostly) runs between log_begin() and
// log_end(), and instead of writing the blocks it changes it hands them to
// log_write(), which notes the block and holds its buffer in the cache.
// Operations that run at the same time share one transaction; the last one
// to end commits it:
//   1. copy each changed block from the cache into the log area,
//   2. write the log header with the number of blocks: the commit point,
//   3. write each changed block from the cache to its home and let go of
//      the cache buffer,
//   4. write the header again with 0 blocks: the log is empty.
// A crash before 2 loses the transaction, a crash after 2 is repaired at
// the next boot by log_init(), which finds a non-zero count and copies the
// logged blocks home (steps 3 and 4, from the log area this time: the cache
// is empty after a reboot).
//
// Space: an operation may change at most MAXOPBLOCKS blocks, and
// log_begin() admits an operation only while the log could take that many
// more for every operation in the transaction.
//
// On disk, sb.nlog blocks from sb.logstart: the header block (the count,
// then the home block numbers, 32-bit words), then the copies in order.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/riscv.h"
#include "kernel/fs.h"
#include "kernel/buf.h"
#include "kernel/defs.h"

#define LOG_CAPACITY (LOGSIZE - 1)   // one block of the log is the header

// The header block's layout.
struct log_header {
  int count;
  uint home[LOG_CAPACITY];
};

_Static_assert(sizeof(struct log_header) <= BSIZE, "the log header fits a block");

static struct {
  struct spinlock lock;
  uint dev;
  uint header;           // block number of the header; the copies follow
  int capacity;          // blocks one transaction may hold
  int ops;               // operations between log_begin() and log_end()
  int committing;        // a commit is in progress: no operation may begin
  int waiting;           // processes waiting in log_begin()
  struct log_header tx;  // the open transaction's blocks
} log = { .lock = SPINLOCK_INIT("log") };

// Write the header with `count` blocks of the open transaction.
static void
write_header(int count)
{
  struct buf *b = bfill(log.dev, log.header, 0);
  struct log_header *h = (struct log_header *)b->data;
  h->count = count;
  memmove(h->home, log.tx.home, count * sizeof(h->home[0]));
  bwrite(b);
  brelse(b);
}

// Steps 1-4 above.  No operation is running, so nobody changes the held
// buffers meanwhile.
static void
commit(void)
{
  int n = log.tx.count;
  for (int i = 0; i < n; i++) {
    struct buf *home = bread(log.dev, log.tx.home[i]);    // cached: held
    struct buf *copy = bfill(log.dev, log.header + 1 + i, home->data);
    bwrite(copy);
    brelse(copy);
    brelse(home);
  }
  write_header(n);
  for (int i = 0; i < n; i++) {
    struct buf *home = bread(log.dev, log.tx.home[i]);
    bwrite(home);
    bunhold(home);
    brelse(home);
  }
  log.tx.count = 0;
  write_header(0);
}

// Finish a transaction that committed before a crash: copy its blocks from
// the log area home.
static void
recover(struct log_header *h)
{
  for (int i = 0; i < h->count; i++) {
    struct buf *copy = bread(log.dev, log.header + 1 + i);
    struct buf *home = bfill(log.dev, h->home[i], copy->data);
    bwrite(home);
    brelse(home);
    brelse(copy);
  }
  write_header(0);
}

// Called once, when the file system is mounted, in process context.
void
log_init(uint dev, struct superblock *sb)
{
  log.dev = dev;
  log.header = sb->logstart;
  log.capacity = sb->nlog - 1;
  if (log.capacity > LOG_CAPACITY)
    log.capacity = LOG_CAPACITY;
  if (log.capacity < MAXOPBLOCKS)
    panic("log_init: the file system's log is smaller than one operation");

  struct log_header h;
  struct buf *b = bread(dev, log.header);
  memmove(&h, b->data, sizeof(h));
  brelse(b);
  if (h.count < 0 || h.count > log.capacity)
    panic("log_init: corrupt log header");
  if (h.count > 0)
    recover(&h);
}

// Would the log still have room if every operation in the transaction, and
// one more, wrote MAXOPBLOCKS blocks?
static int
room_for_one_more(void)
{
  return log.tx.count + (log.ops + 1) * MAXOPBLOCKS <= log.capacity;
}

void
log_begin(void)
{
  acquire(&log.lock);
  while (log.committing || !room_for_one_more()) {
    log.waiting++;
    sleep(&log, &log.lock);
    log.waiting--;
  }
  log.ops++;
  release(&log.lock);
}

void
log_end(void)
{
  acquire(&log.lock);
  if (log.ops < 1 || log.committing)
    panic("log_end: no operation to end");
  log.ops--;
  // The last operation out commits, without the spinlock: the commit
  // sleeps on the disk.  `committing` keeps new operations out meanwhile.
  int last = (log.ops == 0);
  if (last)
    log.committing = 1;
  else if (log.waiting)
    wakeup(&log);        // this operation's unused room may admit another
  release(&log.lock);

  if (last) {
    if (log.tx.count > 0)
      commit();
    acquire(&log.lock);
    log.committing = 0;
    if (log.waiting)
      wakeup(&log);
    release(&log.lock);
  }
}

// The held buffer b was changed by the running operation: have it written
// at commit, and keep it in the cache until then.  Use instead of bwrite()
// for file system blocks.
void
log_write(struct buf *b)
{
  acquire(&log.lock);
  if (log.ops < 1)
    panic("log_write: outside of an operation");
  int i = 0;
  while (i < log.tx.count && log.tx.home[i] != b->blockno)
    i++;
  if (i == log.tx.count) {       // not in the transaction yet
    if (i == log.capacity)
      panic("log_write: transaction bigger than the log");
    log.tx.home[log.tx.count++] = b->blockno;
    bhold(b);
  }
  release(&log.lock);
}
