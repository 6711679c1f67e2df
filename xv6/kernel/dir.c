// Directories and path names.
//
// A directory is a file of struct dirent entries (fs.h): a name of up to
// DIRSIZ bytes (NUL-terminated only when shorter) and an inode number, 0
// for a free entry.  Every directory starts with "." and "..".  A path is
// a sequence of names separated by slashes, looked up from the root if it
// starts with one, else from the process's current directory.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/riscv.h"
#include "kernel/buf.h"
#include "kernel/inode.h"
#include "kernel/defs.h"

_Static_assert(sizeof(struct dirent) == 16, "a directory entry is 16 bytes");
_Static_assert(BSIZE % sizeof(struct dirent) == 0, "entries tile a block");

#define PER_BLOCK (BSIZE / sizeof(struct dirent))

// Are a and b the same directory entry name?  (At most DIRSIZ bytes count:
// a full-length name has no NUL.)
int
same_name(const char *a, const char *b)
{
  return strncmp(a, b, DIRSIZ) == 0;
}

// Search the locked directory dp, a block at a time, for the entry called
// `name`, or for a free entry if name is 0.  1 with the entry's byte
// offset in *off and its inode number in *inum if found; else 0, with *off
// at the end of the directory, where a new entry would go.
static int
find_entry(struct inode *dp, const char *name, uint *off, uint *inum)
{
  if (dp->type != T_DIR)
    panic("find_entry: not a directory");
  for (uint base = 0; base < dp->size; base += BSIZE) {
    uint bno = inode_block(dp, base / BSIZE);
    if (bno == 0)
      panic("find_entry: directory block missing (corrupt file system)");
    struct buf *b = bread(dp->dev, bno);
    struct dirent *de = (struct dirent *)b->data;
    uint count = dp->size - base < BSIZE ? (dp->size - base) / sizeof(*de) : PER_BLOCK;
    for (uint k = 0; k < count; k++) {
      int match = name ? de[k].inum != 0 && same_name(name, de[k].name)
                       : de[k].inum == 0;
      if (match) {
        *off = base + k * sizeof(*de);
        *inum = de[k].inum;
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

// The inode called `name` in the locked directory dp, referenced but not
// locked; 0 if there is no such entry (or no free inode table slot).  The
// entry's offset goes to *off unless off is 0.
struct inode *
dir_lookup(struct inode *dp, char *name, uint *off)
{
  uint at, inum;
  if (!find_entry(dp, name, &at, &inum))
    return 0;
  if (off)
    *off = at;
  return inode_get(dp->dev, inum);
}

// Add the entry (name, inum) to the locked directory dp, in its first free
// entry or at its end, inside a log operation.  0, or -1 if the name is
// taken or the directory cannot grow.
int
dir_link(struct inode *dp, char *name, uint inum)
{
  uint off, found;
  if (find_entry(dp, name, &off, &found))
    return -1;
  find_entry(dp, 0, &off, &found);

  struct dirent de;
  memset(&de, 0, sizeof(de));
  strncpy(de.name, name, DIRSIZ);
  de.inum = inum;
  return inode_write(dp, 0, (uint64)&de, off, sizeof(de)) == sizeof(de) ? 0 : -1;
}

// Does the locked directory dp hold anything but "." and ".."?
int
dir_has_entries(struct inode *dp)
{
  struct dirent de;
  for (uint off = 2 * sizeof(de); off < dp->size; off += sizeof(de)) {
    if (inode_read(dp, 0, (uint64)&de, off, sizeof(de)) != sizeof(de))
      panic("dir_has_entries: cannot read the directory");
    if (de.inum != 0)
      return 1;
  }
  return 0;
}

// ---- path names --------------------------------------------------------------

// Take the first name off path: copy it to name (cut to DIRSIZ bytes,
// NUL-terminated when shorter) and return what follows it, without leading
// slashes; 0 if no name is left.  "a/bb/c" gives "a" and "bb/c", "///" 0.
static char *
next_name(char *path, char *name)
{
  while (*path == '/')
    path++;
  if (*path == 0)
    return 0;
  char *start = path;
  while (*path != '/' && *path != 0)
    path++;
  int len = path - start;
  memmove(name, start, len < DIRSIZ ? len : DIRSIZ);
  if (len < DIRSIZ)
    name[len] = 0;
  while (*path == '/')
    path++;
  return path;
}

// Follow path.  With `parent` set, stop one step short: return the
// directory that holds the last name, which goes to `name`.  The inode is
// referenced, not locked; 0 if a name along the way is missing or not a
// directory (or, with `parent`, if the path has no last name, like "/").
static struct inode *
follow(char *path, int parent, char *name)
{
  struct inode *ip = *path == '/' ? inode_get(ROOTDEV, ROOTINO)
                                  : inode_dup(myproc()->cwd);
  while (ip != 0 && (path = next_name(path, name)) != 0) {
    inode_lock(ip);
    if (ip->type != T_DIR) {
      inode_unlock_put(ip);
      return 0;
    }
    if (parent && *path == 0) {   // name is the last one
      inode_unlock(ip);
      return ip;
    }
    struct inode *next = dir_lookup(ip, name, 0);
    // Let go of ip before next is locked: "." makes next ip itself.
    inode_unlock_put(ip);
    ip = next;
  }
  if (ip != 0 && parent) {
    inode_put(ip);
    return 0;
  }
  return ip;
}

// The inode that path names, referenced; 0 if none.
struct inode *
lookup_path(char *path)
{
  char name[DIRSIZ];
  return follow(path, 0, name);
}

// The directory that holds path's last name, referenced, with that name
// copied to name (DIRSIZ bytes); 0 if none.
struct inode *
lookup_parent(char *path, char *name)
{
  return follow(path, 1, name);
}
