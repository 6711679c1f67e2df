// Inodes: the table of inodes in memory, and a file's contents as the data
// blocks its inode lists.
//
// An inode in memory (inode.h) has two kinds of state with two locks:
//   - its place in the table: dev, inum and ref, under the table's
//     spinlock.  inode_get() and inode_dup() take a reference, inode_put()
//     drops one; a slot is free for another inode when ref is 0.
//   - its contents: the copy of the dinode and the file's data, under its
//     sleeplock.  inode_lock() takes it and, the first time, reads the
//     dinode (`valid` says whether that has happened).
// When the last reference to an inode that no directory names any more
// goes away, inode_put() frees its blocks and its dinode.  So anything that
// may drop a reference, like everything that changes the disk, runs inside
// a log operation (log_begin .. log_end).
//
// Running out of inodes, table slots or disk blocks makes an operation
// fail, never the kernel panic: user programs can cause it.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "kernel/spinlock.h"
#include "kernel/riscv.h"
#include "kernel/buf.h"
#include "kernel/inode.h"
#include "kernel/defs.h"

_Static_assert(sizeof(struct dinode) == 64, "an on-disk inode is 64 bytes");
_Static_assert(BSIZE % sizeof(struct dinode) == 0, "inodes tile a block");

// The two views of an inode's copy of its dinode must agree.
#define SAME_PLACE(field) \
  _Static_assert(__builtin_offsetof(struct inode, field) == \
                 __builtin_offsetof(struct inode, disk.field), #field)
SAME_PLACE(type); SAME_PLACE(major); SAME_PLACE(minor); SAME_PLACE(nlink);
SAME_PLACE(size); SAME_PLACE(addrs);
_Static_assert(sizeof(((struct inode *)0)->disk) == sizeof(struct dinode), "dinode copy");

static struct {
  struct spinlock lock;
  struct inode slot[NINODE];
} table = { .lock = SPINLOCK_INIT("inodes") };

static uint
min_uint(uint a, uint b)
{
  return a < b ? a : b;
}

// ---- the table -------------------------------------------------------------

// A referenced, unlocked table entry for inode inum of dev (its dinode not
// read yet); 0 if every slot is taken.
struct inode *
inode_get(uint dev, uint inum)
{
  struct inode *free = 0;
  acquire(&table.lock);
  for (struct inode *ip = table.slot; ip < table.slot + NINODE; ip++) {
    if (ip->ref > 0 && ip->inum == inum && ip->dev == dev) {
      ip->ref++;
      release(&table.lock);
      return ip;
    }
    if (ip->ref == 0 && free == 0)
      free = ip;
  }
  if (free) {
    free->dev = dev;
    free->inum = inum;
    free->ref = 1;
    free->valid = 0;
  }
  release(&table.lock);
  return free;
}

struct inode *
inode_dup(struct inode *ip)
{
  acquire(&table.lock);
  ip->ref++;
  release(&table.lock);
  return ip;
}

static void inode_free(struct inode *ip);

// Drop a reference.  The last one to an inode without links frees it on
// the disk, so call it inside a log operation.
void
inode_put(struct inode *ip)
{
  acquire(&table.lock);
  if (ip->ref < 1)
    panic("inode_put: inode not referenced");
  if (ip->ref == 1 && ip->valid && ip->nlink == 0) {
    // Freeing sleeps on the disk, so it runs without the spinlock.  Our
    // reference is the only one, so nobody can find or lock the inode
    // meanwhile, and the slot stays ours.
    release(&table.lock);
    inode_free(ip);
    acquire(&table.lock);
  }
  ip->ref--;
  release(&table.lock);
}

// ---- the dinode ------------------------------------------------------------

// The block holding inode inum's dinode, read and held, and the dinode in it.
static struct dinode *
dinode_of(uint dev, uint inum, struct buf **bp)
{
  if (inum == 0 || inum >= superblock.ninodes)
    panic("inode number out of range (corrupt directory?)");
  *bp = bread(dev, IBLOCK(inum, superblock));
  return (struct dinode *)(*bp)->data + inum % IPB;
}

// Lock ip's contents, reading its dinode if this is the first time.
void
inode_lock(struct inode *ip)
{
  if (ip == 0 || ip->ref < 1)
    panic("inode_lock: inode not referenced");
  sleeplock_acquire(&ip->lock);
  if (!ip->valid) {
    struct buf *b;
    ip->disk = *dinode_of(ip->dev, ip->inum, &b);
    brelse(b);
    ip->valid = 1;
    if (ip->type == 0)
      panic("inode_lock: a directory names a free inode (corrupt file system)");
  }
}

void
inode_unlock(struct inode *ip)
{
  if (ip == 0 || ip->ref < 1 || !sleeplock_held(&ip->lock))
    panic("inode_unlock: inode not locked by this process");
  sleeplock_release(&ip->lock);
}

void
inode_unlock_put(struct inode *ip)
{
  inode_unlock(ip);
  inode_put(ip);
}

// Store the locked ip's copy back into its dinode, inside a log operation.
void
inode_update(struct inode *ip)
{
  struct buf *b;
  *dinode_of(ip->dev, ip->inum, &b) = ip->disk;
  log_write(b);
  brelse(b);
}

// A new inode of the given type on dev, referenced and unlocked, inside a
// log operation; 0 if the disk or the table has no free inode.
struct inode *
inode_alloc(uint dev, short type)
{
  uint n = superblock.ninodes;
  for (uint first = 0; first < n; first += IPB) {
    struct buf *b = bread(dev, IBLOCK(first, superblock));
    struct dinode *di = (struct dinode *)b->data;
    for (uint k = 0; k < IPB && first + k < n; k++) {
      if (first + k == 0 || di[k].type != 0)   // inode 0 is never used
        continue;
      struct inode *ip = inode_get(dev, first + k);
      if (ip != 0) {         // no table slot: leave the disk as it is
        memset(&di[k], 0, sizeof(di[k]));
        di[k].type = type;
        log_write(b);
      }
      brelse(b);
      return ip;
    }
    brelse(b);
  }
  return 0;
}

// Free ip's blocks and its dinode: its last reference is going, and no
// directory names it.  Nobody else can be waiting for its lock.
static void
inode_free(struct inode *ip)
{
  sleeplock_acquire(&ip->lock);
  inode_truncate(ip);
  ip->type = 0;
  inode_update(ip);
  ip->valid = 0;          // the slot no longer holds a file's dinode
  sleeplock_release(&ip->lock);
}

void
inode_stat(struct inode *ip, struct stat *st)
{
  st->dev = ip->dev;
  st->ino = ip->inum;
  st->type = ip->type;
  st->nlink = ip->nlink;
  st->size = ip->size;
}

// ---- data blocks -----------------------------------------------------------
// The first NDIRECT blocks of a file are listed in ip->addrs; the next
// NINDIRECT in the indirect block, whose number is ip->addrs[NDIRECT].

// The block number in *entry; if it is 0 and `grow` is set, a new block,
// stored in *entry (and the change logged, if *entry lies in the cached
// block `in`).  0 if there is none or the disk is full.
static uint
block_at(uint dev, uint *entry, int grow, struct buf *in)
{
  if (*entry == 0 && grow) {
    *entry = block_alloc(dev);
    if (*entry != 0 && in != 0)
      log_write(in);
  }
  return *entry;
}

// The disk block holding block `idx` of the file, allocated if missing and
// `grow` is set; 0 if there is none or the disk is full.  New blocks change
// ip->addrs: the caller stores the inode afterwards.
static uint
file_block(struct inode *ip, uint idx, int grow)
{
  if (idx < NDIRECT)
    return block_at(ip->dev, &ip->addrs[idx], grow, 0);
  idx -= NDIRECT;
  if (idx >= NINDIRECT)
    panic("file_block: index beyond MAXFILE");
  uint list = block_at(ip->dev, &ip->addrs[NDIRECT], grow, 0);
  if (list == 0)
    return 0;
  struct buf *b = bread(ip->dev, list);
  uint bno = block_at(ip->dev, (uint *)b->data + idx, grow, b);
  brelse(b);
  return bno;
}

// The disk block of block idx of a directory, which has no holes (dir.c).
uint
inode_block(struct inode *ip, uint idx)
{
  return file_block(ip, idx, 0);
}

// Free the blocks named in list[0..n-1] (0 entries name none).
static void
free_listed(uint dev, const uint *list, uint n)
{
  for (uint i = 0; i < n; i++)
    if (list[i] != 0)
      block_free(dev, list[i]);
}

// Free all of the locked ip's data, inside a log operation: the blocks the
// indirect block lists, then the direct ones and the indirect block itself
// (it is the last entry of addrs).
void
inode_truncate(struct inode *ip)
{
  if (ip->addrs[NDIRECT] != 0) {
    struct buf *b = bread(ip->dev, ip->addrs[NDIRECT]);
    free_listed(ip->dev, (uint *)b->data, NINDIRECT);
    brelse(b);
  }
  free_listed(ip->dev, ip->addrs, NDIRECT + 1);
  memset(ip->addrs, 0, sizeof(ip->addrs));
  ip->size = 0;
  inode_update(ip);
}

// ---- bytes -----------------------------------------------------------------

// Move up to n bytes between the file, from offset off on, and addr (a
// user address if `user`, else a kernel one), a block at a time: into the
// file if `into_file`, else out of it.  Stops at a missing block (or a full
// disk); *fault says whether it stopped at a bad address.  The bytes moved.
static uint
move_bytes(struct inode *ip, int into_file, int user, uint64 addr, uint off,
           uint n, int *fault)
{
  uint done = 0;
  *fault = 0;
  while (done < n) {
    uint bno = file_block(ip, (off + done) / BSIZE, into_file);
    if (bno == 0)
      break;
    struct buf *b = bread(ip->dev, bno);
    uint at = (off + done) % BSIZE;
    uint len = min_uint(BSIZE - at, n - done);
    if (into_file) {
      *fault = copyfrom(b->data + at, user, addr + done, len) < 0;
      if (!*fault)
        log_write(b);
    } else {
      *fault = copyto(user, addr + done, b->data + at, len) < 0;
    }
    brelse(b);
    if (*fault)
      break;
    done += len;
  }
  return done;
}

// Copy up to n bytes from offset off of the locked ip to dst.  The bytes
// copied (0 at or past the end of the file), or -1 if the copy faulted or
// off + n overflows.
int
inode_read(struct inode *ip, int user_dst, uint64 dst, uint off, uint n)
{
  if (off + n < off)
    return -1;
  if (off >= ip->size)
    return 0;
  int fault;
  uint done = move_bytes(ip, 0, user_dst, dst, off, min_uint(n, ip->size - off), &fault);
  return fault ? -1 : done;
}

// Copy n bytes from src into the locked ip at offset off, growing the file
// if needed, inside a log operation.  The bytes written: fewer than n if
// the disk filled up or the copy faulted.  -1 if off is past the end of the
// file or the file would grow past MAXFILE blocks.
int
inode_write(struct inode *ip, int user_src, uint64 src, uint off, uint n)
{
  if (off > ip->size || off + n < off || (uint64)off + n > (uint64)MAXFILE * BSIZE)
    return -1;
  int fault;
  uint done = move_bytes(ip, 1, user_src, src, off, n, &fault);
  if (off + done > ip->size)
    ip->size = off + done;
  // Stored even when the size stays: new blocks may be in ip->addrs.
  inode_update(ip);
  return done;
}
