// The file system as a whole: mounting it, and its free-block bitmap.
//
// The layers above, bottom up: inode.c (files as inodes and their data
// blocks), dir.c (directories and path names), file.c and sysfile.c (open
// files and the system calls).  Below: the log (log.c) and the block
// cache (bio.c).  The on-disk format is in fs.h.
//
// Running out of disk blocks or inodes is something a user program can
// cause, so it makes an operation fail, never the kernel panic.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/riscv.h"
#include "kernel/fs.h"
#include "kernel/buf.h"
#include "kernel/defs.h"

// The superblock of the (single) file system, once mounted.
struct superblock superblock;

// Does the superblock describe regions that fit each other and the disk?
static int
layout_is_sane(struct superblock *s)
{
  uint inode_blocks = (s->ninodes + IPB - 1) / IPB;
  uint bitmap_blocks = (s->size + BPB - 1) / BPB;
  return s->logstart >= 2 && s->logstart + s->nlog <= s->inodestart &&
         s->inodestart + inode_blocks <= s->bmapstart &&
         s->bmapstart + bitmap_blocks <= s->size && s->ninodes > ROOTINO;
}

// Read the superblock and replay the log.  Runs in the first process,
// because it reads the disk (and so sleeps).
void
fs_mount(uint dev)
{
  struct buf *b = bread(dev, 1);
  memmove(&superblock, b->data, sizeof(superblock));
  brelse(b);
  if (superblock.magic != FSMAGIC) {
    printf("fs_mount: superblock magic is 0x%x, expected 0x%x\n",
           superblock.magic, FSMAGIC);
    panic("fs_mount: the disk does not hold an xv6 file system");
  }
  if (!layout_is_sane(&superblock))
    panic("fs_mount: inconsistent superblock (corrupt file system image)");
  log_init(dev, &superblock);
}

// ---- the free-block bitmap -------------------------------------------------
// Bit k of bitmap block i is 1 when block i * BPB + k is in use.  mkfs
// marks the blocks before the data area (boot block to bitmap) as used.

// A new block, zero-filled, inside the running operation; 0 if the disk is
// full.
uint
block_alloc(uint dev)
{
  uint size = superblock.size;
  for (uint base = 0; base < size; base += BPB) {
    struct buf *map = bread(dev, BBLOCK(base, superblock));
    uint limit = size - base < BPB ? size - base : BPB;
    for (uint k = 0; k < limit; k++) {
      uchar *byte = &map->data[k / 8];
      if (*byte == 0xff) {       // eight blocks in use: skip them at once
        k |= 7;
        continue;
      }
      uchar bit = 1 << (k % 8);
      if ((*byte & bit) == 0) {
        *byte |= bit;
        log_write(map);
        brelse(map);
        struct buf *fresh = bfill(dev, base + k, 0);
        log_write(fresh);
        brelse(fresh);
        return base + k;
      }
    }
    brelse(map);
  }
  return 0;
}

// Give block bno back, inside the running operation.
void
block_free(uint dev, uint bno)
{
  if (bno >= superblock.size)
    panic("block_free: block number beyond the file system");
  struct buf *map = bread(dev, BBLOCK(bno, superblock));
  uint k = bno % BPB;
  uchar bit = 1 << (k % 8);
  if ((map->data[k / 8] & bit) == 0)
    panic("block_free: block already free (corrupt file system)");
  map->data[k / 8] &= ~bit;
  log_write(map);
  brelse(map);
}
