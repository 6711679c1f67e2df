// The block cache: NBUF buffers, each holding a copy of one disk block.
//
// A block is cached in at most one buffer, so everyone working on a block
// shares one copy, taking turns through the buffer's sleeplock.  bread()
// returns a block's buffer locked and filled; its holder reads or changes
// the data, has it written (bwrite(), or log_write() inside a file system
// operation) and gives it back with brelse().
//
// Two structures index the buffers, both under the cache's spinlock:
//   - hash chains, by block number: every buffer that has held a block is
//     in the chain of that block, so finding a block is one short walk;
//   - the idle list: the buffers that nobody holds, in the order they
//     became idle.  An idle buffer keeps its block (the next bread of it is
//     a hit), and the first one in the list, the least recently used, is
//     the one to take when another block needs a buffer.
// Buffers that never held a block are in neither: the cache hands them out
// in order before it reuses any (so the zero-filled cache needs no setup).

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/riscv.h"
#include "kernel/fs.h"
#include "kernel/buf.h"
#include "kernel/defs.h"

// Hash chains by the block number's low bits (a power of two: our core's
// division is slow).
#define NCHAIN 32

static struct {
  struct spinlock lock;
  struct buf buf[NBUF];
  int used;                        // buf[0 .. used-1] have held a block
  struct buf *chain[NCHAIN];
  struct buf *idle_first;          // least recently released
  struct buf *idle_last;           // most recently released
  int waiting;                     // processes waiting for an idle buffer
} cache = { .lock = SPINLOCK_INIT("bcache") };

static struct buf **
chain_of(uint blockno)
{
  return &cache.chain[blockno & (NCHAIN - 1)];
}

static struct buf *
cached(uint dev, uint blockno)
{
  for (struct buf *b = *chain_of(blockno); b; b = b->hash_next)
    if (b->blockno == blockno && b->dev == dev)
      return b;
  return 0;
}

static void
unchain(struct buf *b)
{
  struct buf **link = chain_of(b->blockno);
  while (*link != b)
    link = &(*link)->hash_next;
  *link = b->hash_next;
}

static void
idle_append(struct buf *b)
{
  b->idle_next = 0;
  b->idle_prev = cache.idle_last;
  if (cache.idle_last)
    cache.idle_last->idle_next = b;
  else
    cache.idle_first = b;
  cache.idle_last = b;
}

static void
idle_remove(struct buf *b)
{
  if (b->idle_prev)
    b->idle_prev->idle_next = b->idle_next;
  else
    cache.idle_first = b->idle_next;
  if (b->idle_next)
    b->idle_next->idle_prev = b->idle_prev;
  else
    cache.idle_last = b->idle_prev;
}

// A buffer for another block: one that never held a block, else the least
// recently used idle one, taken out of both structures.  0 if every buffer
// is held.
static struct buf *
take_for_reuse(void)
{
  if (cache.used < NBUF)
    return &cache.buf[cache.used++];
  struct buf *b = cache.idle_first;
  if (b) {
    idle_remove(b);
    unchain(b);
  }
  return b;
}

// The buffer of block (dev, blockno) with one more reference, locked.  If
// the block is not cached, a buffer is relabelled for it with valid = 0.
static struct buf *
get(uint dev, uint blockno)
{
  struct buf *b;
  acquire(&cache.lock);
  for (;;) {
    b = cached(dev, blockno);
    if (b) {
      if (b->refs++ == 0)
        idle_remove(b);
      break;
    }
    b = take_for_reuse();
    if (b) {
      b->dev = dev;
      b->blockno = blockno;
      b->refs = 1;
      b->valid = 0;      // no holder: nobody else looks at it now
      b->hash_next = *chain_of(blockno);
      *chain_of(blockno) = b;
      break;
    }
    // Every buffer is held; each holder lets go eventually.
    cache.waiting++;
    sleep(&cache, &cache.lock);
    cache.waiting--;
  }
  release(&cache.lock);
  sleeplock_acquire(&b->lock);
  return b;
}

// The block's buffer, locked, with the block's contents.
struct buf *
bread(uint dev, uint blockno)
{
  struct buf *b = get(dev, blockno);
  if (!b->valid) {
    virtio_disk_rw(b, 0);
    b->valid = 1;
  }
  return b;
}

// The buffer for a block whose old contents do not matter: filled with the
// BSIZE bytes at src, or with zeros if src is 0, without reading the disk.
// Locked, like bread's.
struct buf *
bfill(uint dev, uint blockno, const void *src)
{
  struct buf *b = get(dev, blockno);
  if (src)
    memmove(b->data, src, BSIZE);
  else
    memset(b->data, 0, BSIZE);
  b->valid = 1;
  return b;
}

// Write a held buffer's data to its block now.
void
bwrite(struct buf *b)
{
  if (!sleeplock_held(&b->lock))
    panic("bwrite: buffer not held");
  virtio_disk_rw(b, 1);
}

// One reference fewer; a buffer nobody refers to any more becomes the
// most recently used idle one.
static void
unref(struct buf *b)
{
  acquire(&cache.lock);
  if (b->refs == 0)
    panic("bio: buffer released more often than taken");
  if (--b->refs == 0) {
    idle_append(b);
    if (cache.waiting)
      wakeup(&cache);
  }
  release(&cache.lock);
}

// Give back a buffer from bread or bfill.
void
brelse(struct buf *b)
{
  if (!sleeplock_held(&b->lock))
    panic("brelse: buffer not held");
  sleeplock_release(&b->lock);
  unref(b);
}

// The log holds a reference of its own to every buffer it has changed,
// so that the buffer stays cached until the log has written it home.
void
bhold(struct buf *b)
{
  acquire(&cache.lock);
  b->refs++;
  release(&cache.lock);
}

void
bunhold(struct buf *b)
{
  unref(b);
}
