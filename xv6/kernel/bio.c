// Block cache: NBUF in-memory copies of disk blocks.
//
// A block is cached in at most one buf, so everyone who works on a block
// shares one copy and serialises on that buf's sleeplock.  The bufs sit on a
// circular list ordered by release time: right after the list head is the
// most recently released buf, right before it the one unused the longest,
// which is the first candidate for reuse.
//
// bread() returns a locked buf with the block's contents; change it, call
// bwrite() to send it to disk (or log_write() inside a transaction), then
// brelse().  The log pins bufs it must not lose until it has installed them.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/riscv.h"
#include "kernel/fs.h"
#include "kernel/buf.h"
#include "kernel/defs.h"

static struct {
  struct spinlock lock;   // guards the list, dev/blockno, refcnt of every buf
  struct buf pool[NBUF];
  struct buf lru;         // list head; lru.next is the most recent
} bcache;

static void
unlink_buf(struct buf *b)
{
  b->prev->next = b->next;
  b->next->prev = b->prev;
}

static void
push_recent(struct buf *b)
{
  b->next = bcache.lru.next;
  b->prev = &bcache.lru;
  bcache.lru.next->prev = b;
  bcache.lru.next = b;
}

void
binit(void)
{
  initlock(&bcache.lock, "bcache");
  bcache.lru.next = bcache.lru.prev = &bcache.lru;
  for(int i = 0; i < NBUF; i++){
    struct buf *b = &bcache.pool[i];
    initsleeplock(&b->lock, "buffer");
    b->refcnt = 0;
    b->valid = 0;
    push_recent(b);
  }
}

// The buf that caches (dev, blockno): an existing one, or the least
// recently used idle one, relabelled.  Returned locked.  If every buf is in
// use, wait for a brelse().
static struct buf *
claim(uint dev, uint blockno)
{
  struct buf *b;

  acquire(&bcache.lock);
  for(;;){
    for(b = bcache.lru.next; b != &bcache.lru; b = b->next){
      if(b->dev == dev && b->blockno == blockno && (b->refcnt > 0 || b->valid)){
        b->refcnt++;
        goto found;
      }
    }
    for(b = bcache.lru.prev; b != &bcache.lru; b = b->prev){
      if(b->refcnt == 0){
        b->dev = dev;
        b->blockno = blockno;
        b->valid = 0;
        b->refcnt = 1;
        goto found;
      }
    }
    // Every buf is held by someone; they all get released eventually.
    sleep(&bcache, &bcache.lock);
  }

found:
  release(&bcache.lock);
  acquiresleep(&b->lock);
  return b;
}

struct buf *
bread(uint dev, uint blockno)
{
  struct buf *b = claim(dev, blockno);
  if(!b->valid){
    virtio_disk_rw(b, 0);
    b->valid = 1;
  }
  return b;
}

void
bwrite(struct buf *b)
{
  if(!holdingsleep(&b->lock))
    panic("bwrite: caller does not hold the buffer");
  virtio_disk_rw(b, 1);
}

// Give back one reference to b (panicking with `underflow` if it had none).
// The last reference out moves b to the most recently used end of the list
// and wakes anyone in claim() waiting for a free buffer.
static void
drop_ref(struct buf *b, char *underflow)
{
  acquire(&bcache.lock);
  if(b->refcnt == 0)
    panic(underflow);
  b->refcnt--;
  if(b->refcnt == 0){
    unlink_buf(b);
    push_recent(b);
    wakeup(&bcache);
  }
  release(&bcache.lock);
}

// Done with b: unlock it; when nobody holds it any more it becomes the most
// recently used entry.
void
brelse(struct buf *b)
{
  if(!holdingsleep(&b->lock))
    panic("brelse: caller does not hold the buffer");
  releasesleep(&b->lock);
  drop_ref(b, "brelse: buffer released twice");
}

// An extra reference keeps b (and its data) in the cache until bunpin().
void
bpin(struct buf *b)
{
  acquire(&bcache.lock);
  b->refcnt++;
  release(&bcache.lock);
}

void
bunpin(struct buf *b)
{
  drop_ref(b, "bunpin: buffer not pinned");
}
