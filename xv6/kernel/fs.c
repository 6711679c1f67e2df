// The file system proper: block allocation, inodes, file contents,
// directories and path names, on top of the block cache and the log.
//
// Inode life cycle in memory:
//   - a cache slot is in use while ref > 0 (iget/idup take a reference,
//     iput drops one);
//   - `valid` says whether the slot's copy of the dinode has been read;
//     ilock() reads it on demand and takes the inode's sleeplock, which
//     guards type/size/addrs/nlink and the file's data;
//   - when the last reference goes away from an inode with no directory
//     entries left, iput() frees its blocks and the dinode.
// Anything that may write the disk (iput included) must run inside
// begin_op()/end_op().
//
// Running out of disk blocks, inodes or cache slots is something a user
// program can cause, so those cases return failure instead of panicking.

#include "kernel/types.h"
#include "kernel/riscv.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/sleeplock.h"
#include "kernel/fs.h"
#include "kernel/buf.h"
#include "kernel/file.h"
#include "kernel/defs.h"

_Static_assert(sizeof(struct dinode) == 64, "on-disk inode is 64 bytes");
_Static_assert(sizeof(struct dirent) == 16, "directory entry is 16 bytes");
_Static_assert(BSIZE % sizeof(struct dinode) == 0, "inodes tile a block");

// The superblock of the (single) file system, read by fsinit().
static struct superblock sb;

static void
check_superblock(void)
{
  if(sb.magic != FSMAGIC){
    printf("fsinit: superblock magic is 0x%x, expected 0x%x\n", sb.magic, FSMAGIC);
    panic("fsinit: the disk does not hold an xv6 file system");
  }
  uint inode_blocks = (sb.ninodes + IPB - 1) / IPB;
  if(sb.logstart < 2 || sb.logstart + sb.nlog > sb.inodestart ||
     sb.inodestart + inode_blocks > sb.bmapstart ||
     sb.bmapstart + (sb.size + BPB - 1) / BPB > sb.size ||
     sb.ninodes <= ROOTINO)
    panic("fsinit: inconsistent superblock (corrupt file system image)");
}

// Called by the first process, in process context, because it reads the
// disk (and so sleeps).
void
fsinit(int dev)
{
  struct buf *b = bread(dev, 1);
  memmove(&sb, b->data, sizeof(sb));
  brelse(b);
  check_superblock();
  initlog(dev, &sb);
}

// ---- blocks -----------------------------------------------------------------

static void
clear_block(uint dev, uint bno)
{
  struct buf *b = bread(dev, bno);
  memset(b->data, 0, BSIZE);
  log_write(b);
  brelse(b);
}

// Allocate a zeroed block; 0 if the disk is full.
static uint
balloc(uint dev)
{
  for(uint base = 0; base < sb.size; base += BPB){
    struct buf *map = bread(dev, BBLOCK(base, sb));
    for(uint k = 0; k < BPB && base + k < sb.size; k++){
      uchar *byte = &map->data[k / 8];
      if(*byte == 0xff){       // eight blocks in use: skip the whole byte
        k |= 7;
        continue;
      }
      uchar bit = 1 << (k % 8);
      if((*byte & bit) == 0){
        *byte |= bit;
        log_write(map);
        brelse(map);
        clear_block(dev, base + k);
        return base + k;
      }
    }
    brelse(map);
  }
  return 0;
}

static void
bfree(uint dev, uint bno)
{
  if(bno >= sb.size)
    panic("bfree: block number beyond the file system");
  struct buf *map = bread(dev, BBLOCK(bno, sb));
  uint k = bno % BPB;
  uchar bit = 1 << (k % 8);
  if((map->data[k / 8] & bit) == 0)
    panic("bfree: block is already free (corrupt file system)");
  map->data[k / 8] &= ~bit;
  log_write(map);
  brelse(map);
}

// ---- the inode cache --------------------------------------------------------

static struct {
  struct spinlock lock;   // guards dev, inum and ref of every slot
  struct inode slot[NINODE];
} icache;

void
iinit(void)
{
  initlock(&icache.lock, "icache");
  for(int i = 0; i < NINODE; i++)
    initsleeplock(&icache.slot[i].lock, "inode");
}

// A referenced, unlocked cache entry for inode inum; the dinode is not read
// yet.  0 if every slot is taken.
static struct inode *
iget(uint dev, uint inum)
{
  struct inode *idle = 0;

  acquire(&icache.lock);
  for(struct inode *ip = icache.slot; ip < icache.slot + NINODE; ip++){
    if(ip->ref > 0 && ip->dev == dev && ip->inum == inum){
      ip->ref++;
      release(&icache.lock);
      return ip;
    }
    if(ip->ref == 0 && idle == 0)
      idle = ip;
  }
  if(idle){
    idle->dev = dev;
    idle->inum = inum;
    idle->ref = 1;
    idle->valid = 0;
  }
  release(&icache.lock);
  return idle;
}

struct inode *
idup(struct inode *ip)
{
  acquire(&icache.lock);
  ip->ref++;
  release(&icache.lock);
  return ip;
}

// Where inode inum lives: its block (returned locked) and the dinode in it.
static struct dinode *
dinode_of(uint dev, uint inum, struct buf **bp)
{
  if(inum == 0 || inum >= sb.ninodes)
    panic("inode number out of range (corrupt directory?)");
  *bp = bread(dev, IBLOCK(inum, sb));
  return (struct dinode *)(*bp)->data + inum % IPB;
}

// A new inode of the given type on dev, referenced and unlocked; 0 if the
// disk or the cache has no free inode.
struct inode *
ialloc(uint dev, short type)
{
  for(uint first = 0; first < sb.ninodes; first += IPB){
    struct buf *b = bread(dev, IBLOCK(first, sb));
    struct dinode *di = (struct dinode *)b->data;
    for(uint k = 0; k < IPB && first + k < sb.ninodes; k++){
      uint inum = first + k;
      if(inum == 0 || di[k].type != 0)
        continue;
      struct inode *ip = iget(dev, inum);
      if(ip == 0){            // no cache slot: leave the disk unchanged
        brelse(b);
        return 0;
      }
      memset(&di[k], 0, sizeof(di[k]));
      di[k].type = type;
      log_write(b);
      brelse(b);
      return ip;
    }
    brelse(b);
  }
  return 0;
}

// Write the in-memory copy of ip back to its dinode.  Caller holds ip's lock
// and is inside a transaction.
void
iupdate(struct inode *ip)
{
  struct buf *b;
  struct dinode *di = dinode_of(ip->dev, ip->inum, &b);
  di->type = ip->type;
  di->major = ip->major;
  di->minor = ip->minor;
  di->nlink = ip->nlink;
  di->size = ip->size;
  memmove(di->addrs, ip->addrs, sizeof(ip->addrs));
  log_write(b);
  brelse(b);
}

void
ilock(struct inode *ip)
{
  if(ip == 0 || ip->ref < 1)
    panic("ilock: inode not referenced");
  acquiresleep(&ip->lock);
  if(ip->valid)
    return;

  struct buf *b;
  struct dinode *di = dinode_of(ip->dev, ip->inum, &b);
  ip->type = di->type;
  ip->major = di->major;
  ip->minor = di->minor;
  ip->nlink = di->nlink;
  ip->size = di->size;
  memmove(ip->addrs, di->addrs, sizeof(ip->addrs));
  brelse(b);
  ip->valid = 1;
  if(ip->type == 0)
    panic("ilock: directory entry names a free inode (corrupt file system)");
}

void
iunlock(struct inode *ip)
{
  if(ip == 0 || ip->ref < 1 || !holdingsleep(&ip->lock))
    panic("iunlock: inode not locked by this process");
  releasesleep(&ip->lock);
}

// Give an unlinked, unreferenced inode's blocks and dinode back to the disk.
// The caller's reference is the only one, so nobody else holds or waits for
// the sleeplock and taking it cannot block.
static void
discard(struct inode *ip)
{
  acquiresleep(&ip->lock);
  itrunc(ip);
  ip->type = 0;
  iupdate(ip);
  ip->valid = 0;          // the slot's copy no longer describes a file
  releasesleep(&ip->lock);
}

// Drop a reference.  The last reference to an inode without links frees it,
// so iput() must be called inside a transaction.
void
iput(struct inode *ip)
{
  acquire(&icache.lock);
  int last = ip->ref == 1;
  if(last && ip->valid && ip->nlink == 0){
    // discard() sleeps on disk I/O, so not under the spinlock.  The slot
    // cannot be reused meanwhile: ref is still 1.
    release(&icache.lock);
    discard(ip);
    acquire(&icache.lock);
  }
  if(ip->ref < 1)
    panic("iput: inode not referenced");
  ip->ref--;
  release(&icache.lock);
}

void
iunlockput(struct inode *ip)
{
  iunlock(ip);
  iput(ip);
}

// ---- file contents ------------------------------------------------------------

// Block number stored in *slot; when it is 0 and `alloc` is set, allocate a
// block, store it, and log `holder` (the buf containing *slot, if any).
// 0 when there is no block.
static uint
slot_block(uint dev, uint *slot, int alloc, struct buf *holder)
{
  if(*slot == 0 && alloc){
    uint nb = balloc(dev);
    if(nb == 0)
      return 0;
    *slot = nb;
    if(holder)
      log_write(holder);
  }
  return *slot;
}

// Disk block holding block `idx` of the file (0 if none and !alloc, or if the
// disk is full).  New blocks change ip->addrs: the caller runs iupdate().
static uint
bmap(struct inode *ip, uint idx, int alloc)
{
  if(idx < NDIRECT)
    return slot_block(ip->dev, &ip->addrs[idx], alloc, 0);
  idx -= NDIRECT;
  if(idx >= NINDIRECT)
    panic("bmap: block index beyond MAXFILE");

  uint ind = slot_block(ip->dev, &ip->addrs[NDIRECT], alloc, 0);
  if(ind == 0)
    return 0;
  struct buf *b = bread(ip->dev, ind);
  uint found = slot_block(ip->dev, (uint *)b->data + idx, alloc, b);
  brelse(b);
  return found;
}

static void
free_indirect(struct inode *ip)
{
  if(ip->addrs[NDIRECT] == 0)
    return;
  struct buf *b = bread(ip->dev, ip->addrs[NDIRECT]);
  uint *list = (uint *)b->data;
  for(uint i = 0; i < NINDIRECT; i++)
    if(list[i])
      bfree(ip->dev, list[i]);
  brelse(b);
  bfree(ip->dev, ip->addrs[NDIRECT]);
  ip->addrs[NDIRECT] = 0;
}

// Free all of ip's data.  Caller holds ip's lock, inside a transaction.
void
itrunc(struct inode *ip)
{
  for(int i = 0; i < NDIRECT; i++){
    if(ip->addrs[i]){
      bfree(ip->dev, ip->addrs[i]);
      ip->addrs[i] = 0;
    }
  }
  free_indirect(ip);
  ip->size = 0;
  iupdate(ip);
}

void
stati(struct inode *ip, struct stat *st)
{
  st->dev = ip->dev;
  st->ino = ip->inum;
  st->type = ip->type;
  st->nlink = ip->nlink;
  st->size = ip->size;
}

static uint
min_uint(uint a, uint b)
{
  return a < b ? a : b;
}

// Copy up to n bytes from offset off of the file to dst (a user virtual
// address if user_dst, else kernel).  Returns the bytes copied (0 at or past
// the end of the file), or -1 if the copy faulted or off+n overflows.
// Caller holds ip's lock.
int
readi(struct inode *ip, int user_dst, uint64 dst, uint off, uint n)
{
  if(off + n < off)
    return -1;
  if(off >= ip->size)
    return 0;
  n = min_uint(n, ip->size - off);

  uint done = 0;
  while(done < n){
    uint bno = bmap(ip, off / BSIZE, 0);
    if(bno == 0)
      break;
    struct buf *b = bread(ip->dev, bno);
    uint at = off % BSIZE;
    uint len = min_uint(BSIZE - at, n - done);
    int fault = either_copyout(user_dst, dst, b->data + at, len) < 0;
    brelse(b);
    if(fault)
      return -1;
    done += len;
    off += len;
    dst += len;
  }
  return done;
}

// Copy n bytes from src into the file at offset off, growing it if needed.
// Returns the bytes written, which is less than n if the disk filled up or
// the copy faulted; -1 if off lies beyond the end of the file or the write
// would pass MAXFILE.  Caller holds ip's lock, inside a transaction.
int
writei(struct inode *ip, int user_src, uint64 src, uint off, uint n)
{
  if(off > ip->size || off + n < off)
    return -1;
  if((uint64)off + n > (uint64)MAXFILE * BSIZE)
    return -1;

  uint done = 0;
  while(done < n){
    uint bno = bmap(ip, off / BSIZE, 1);
    if(bno == 0)
      break;
    struct buf *b = bread(ip->dev, bno);
    uint at = off % BSIZE;
    uint len = min_uint(BSIZE - at, n - done);
    if(either_copyin(b->data + at, user_src, src, len) < 0){
      brelse(b);
      break;
    }
    log_write(b);
    brelse(b);
    done += len;
    off += len;
    src += len;
  }
  if(off > ip->size)
    ip->size = off;
  // Written even when the size did not change: bmap may have added blocks.
  iupdate(ip);
  return done;
}

// ---- directories ----------------------------------------------------------------

int
namecmp(const char *s, const char *t)
{
  return strncmp(s, t, DIRSIZ);
}

// Look through directory dp a block at a time.  With a name, find the
// entry of that name; with name == 0, find the first free slot.  On success
// return 1 with the entry's byte offset in *off and its inode number in
// *inum; else 0 (with *off = dp->size, where a new entry would go).
// Caller holds dp's lock.
static int
dir_scan(struct inode *dp, char *name, uint *off, uint *inum)
{
  if(dp->type != T_DIR)
    panic("dir_scan: not a directory");

  for(uint base = 0; base < dp->size; base += BSIZE){
    uint bno = bmap(dp, base / BSIZE, 0);
    if(bno == 0)
      panic("dir_scan: directory block missing (corrupt file system)");
    struct buf *b = bread(dp->dev, bno);
    struct dirent *ents = (struct dirent *)b->data;
    uint count = min_uint(BSIZE, dp->size - base) / sizeof(struct dirent);
    for(uint k = 0; k < count; k++){
      int hit = name ? (ents[k].inum != 0 && namecmp(name, ents[k].name) == 0)
                     : ents[k].inum == 0;
      if(hit){
        *off = base + k * sizeof(struct dirent);
        *inum = ents[k].inum;
        brelse(b);
        return 1;
      }
    }
    brelse(b);
  }
  *off = dp->size;
  *inum = 0;
  return 0;
}

// The inode named `name` in dp, referenced but unlocked; 0 if there is no
// such entry (or no free inode cache slot).  The entry's offset goes to
// *poff when poff is not 0.
struct inode *
dirlookup(struct inode *dp, char *name, uint *poff)
{
  uint off, inum;
  if(!dir_scan(dp, name, &off, &inum))
    return 0;
  if(poff)
    *poff = off;
  return iget(dp->dev, inum);
}

// Add the entry (name, inum) to directory dp, in the first free slot or at
// the end.  -1 if the name exists or the directory cannot grow.  Caller
// holds dp's lock, inside a transaction.
int
dirlink(struct inode *dp, char *name, uint inum)
{
  struct dirent de;
  uint off, found;

  if(dir_scan(dp, name, &off, &found))
    return -1;
  dir_scan(dp, 0, &off, &found);

  memset(&de, 0, sizeof(de));
  strncpy(de.name, name, DIRSIZ);
  de.inum = inum;
  if(writei(dp, 0, (uint64)&de, off, sizeof(de)) != sizeof(de))
    return -1;
  return 0;
}

// ---- path names -------------------------------------------------------------------

// Take the first component off `path`: copy it to name (cut to DIRSIZ bytes,
// NUL-terminated when shorter) and return what follows it, without leading
// slashes.  0 if the path has no component left.
//   "a/bb/c" -> name "a", returns "bb/c";  "///" -> 0.
static char *
next_component(char *path, char *name)
{
  while(*path == '/')
    path++;
  if(*path == 0)
    return 0;

  int len = 0;
  while(path[len] != '/' && path[len] != 0)
    len++;
  int keep = len < DIRSIZ ? len : DIRSIZ;
  memmove(name, path, keep);
  if(keep < DIRSIZ)
    name[keep] = 0;

  path += len;
  while(*path == '/')
    path++;
  return path;
}

// Walk the path.  With want_parent, stop one step short: return the
// directory that holds the last component and copy that component to name.
static struct inode *
walk_path(char *path, int want_parent, char *name)
{
  struct inode *cur;

  cur = (*path == '/') ? iget(ROOTDEV, ROOTINO) : idup(myproc()->cwd);
  if(cur == 0)
    return 0;

  while((path = next_component(path, name)) != 0){
    ilock(cur);
    if(cur->type != T_DIR){
      iunlockput(cur);
      return 0;
    }
    if(want_parent && *path == 0){
      iunlock(cur);
      return cur;
    }
    struct inode *child = dirlookup(cur, name, 0);
    // Unlock before the child is locked: the child may be cur itself (".").
    iunlockput(cur);
    if(child == 0)
      return 0;
    cur = child;
  }

  if(want_parent){      // the path had no last component, e.g. "/"
    iput(cur);
    return 0;
  }
  return cur;
}

struct inode *
namei(char *path)
{
  char last[DIRSIZ];
  return walk_path(path, 0, last);
}

struct inode *
nameiparent(char *path, char *name)
{
  return walk_path(path, 1, name);
}
