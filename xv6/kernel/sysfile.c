// System calls on descriptors and on the file name space.  syscall.c has
// checked the arguments by kind already (descriptors, paths, counts); what
// is left here is what each call means.

#include "kernel/types.h"
#include "kernel/riscv.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/inode.h"
#include "kernel/file.h"
#include "kernel/fcntl.h"
#include "kernel/defs.h"

// ---- descriptors -----------------------------------------------------------

// read(fd, buf, n)
uint64
sys_read(struct sysarg *arg)
{
  return file_read(arg[0].file, arg[1].val, arg[2].num);
}

// write(fd, buf, n)
uint64
sys_write(struct sysarg *arg)
{
  return file_write(arg[0].file, arg[1].val, arg[2].num);
}

// close(fd)
uint64
sys_close(struct sysarg *arg)
{
  fd_close(arg[0].num);
  return 0;
}

// dup(fd): the lowest free descriptor, now also naming fd's open file.
uint64
sys_dup(struct sysarg *arg)
{
  int fd = fd_install(arg[0].file);
  if (fd >= 0)
    file_dup(arg[0].file);
  return fd;
}

// fstat(fd, struct stat *st)
uint64
sys_fstat(struct sysarg *arg)
{
  return file_stat(arg[0].file, arg[1].val);
}

// pipe(int fds[2]): fds[0] reads what fds[1] writes.
uint64
sys_pipe(struct sysarg *arg)
{
  struct file *rd, *wr;
  int fds[2];
  fds[0] = fd_new(&rd);
  fds[1] = fds[0] < 0 ? -1 : fd_new(&wr);
  if (fds[1] >= 0 && pipe_open(rd, wr) == 0 &&
      copyout(myproc()->pagetable, arg[0].val, (char *)fds, sizeof(fds)) == 0)
    return 0;
  // Closing the descriptors also closes the pipe, if it was made.
  if (fds[0] >= 0)
    fd_close(fds[0]);
  if (fds[1] >= 0)
    fd_close(fds[1]);
  return -1;
}

// ---- names -------------------------------------------------------------------
// Everything below changes or may change the disk, so it runs as one log
// transaction (log_begin .. log_end) per call.

// The directory that holds the last component of path, locked, with the
// component copied to name; 0 if there is no such directory, or if the
// component is "." or "..", which cannot be created or removed.
static struct inode *
parent_dir(char *path, char name[DIRSIZ])
{
  struct inode *dir = lookup_parent(path, name);
  if (dir == 0)
    return 0;
  if (same_name(name, ".") || same_name(name, "..")) {
    inode_put(dir);
    return 0;
  }
  inode_lock(dir);
  return dir;
}

// A new inode of the given type, named `name` in the locked directory dir,
// returned locked with one link; 0 if the disk or the inode table is full.
// A new directory gets its "." and ".." entries.  Of these only ".." is
// counted, in dir's nlink: "." would make every directory link to itself.
static struct inode *
make_inode(struct inode *dir, char *name, short type, short major, short minor)
{
  struct inode *ip = inode_alloc(dir->dev, type);
  if (ip == 0)
    return 0;
  inode_lock(ip);
  ip->major = major;
  ip->minor = minor;
  ip->nlink = 1;
  inode_update(ip);

  int made = 1;
  if (type == T_DIR)
    made = dir_link(ip, ".", ip->inum) == 0 && dir_link(ip, "..", dir->inum) == 0;
  if (made && dir_link(dir, name, ip->inum) == 0) {
    if (type == T_DIR) {
      dir->nlink++;
      inode_update(dir);
    }
    return ip;
  }
  // No directory entry names it: the last inode_put frees it and its blocks.
  ip->nlink = 0;
  inode_update(ip);
  inode_unlock_put(ip);
  return 0;
}

// Can the inode `old`, already named by the path, serve where one of the
// given type was to be made?  Only for open(O_CREATE): an existing file or
// device is opened as it is.  mkdir and mknod fail on any existing name.
static int
serves_as(struct inode *old, short type)
{
  if (type != T_FILE)
    return 0;
  return old->type == T_FILE || old->type == T_DEVICE;
}

// The inode for `path` of the given type, returned locked: made new, or
// one already there that serves_as() accepts.  0 if the path cannot be
// made.
static struct inode *
name_inode(char *path, short type, short major, short minor)
{
  char name[DIRSIZ];
  struct inode *dir = parent_dir(path, name);
  if (dir == 0)
    return 0;

  struct inode *old = dir_lookup(dir, name, 0);
  if (old == 0) {
    struct inode *ip = make_inode(dir, name, type, major, minor);
    inode_unlock_put(dir);
    return ip;
  }
  inode_unlock_put(dir);   // one inode lock at a time
  inode_lock(old);
  if (serves_as(old, type))
    return old;
  inode_unlock_put(old);
  return 0;
}

// The inode of an existing path, locked; 0 if there is none.
static struct inode *
lookup_locked(char *path)
{
  struct inode *ip = lookup_path(path);
  if (ip != 0)
    inode_lock(ip);
  return ip;
}

// May ip be opened, for writing if `writable`?
static int
may_open(struct inode *ip, int writable)
{
  if (ip->type == T_DIR)
    return !writable;
  if (ip->type == T_DEVICE)
    return ip->major >= 0 && ip->major < NDEV;
  return 1;
}

// open(path, flags)
uint64
sys_open(struct sysarg *arg)
{
  char *path = arg[0].path;
  int flags = arg[1].num;
  int access = flags & (O_WRONLY | O_RDWR);
  if (access == (O_WRONLY | O_RDWR))
    return -1;
  int readable = access != O_WRONLY;
  int writable = access != O_RDONLY;

  log_begin();
  struct inode *ip = (flags & O_CREATE) ? name_inode(path, T_FILE, 0, 0)
                                        : lookup_locked(path);
  struct file *f;
  int fd = -1;
  if (ip != 0 && may_open(ip, writable))
    fd = fd_new(&f);
  if (fd < 0) {
    if (ip)
      inode_unlock_put(ip);
    log_end();
    return -1;
  }

  file_open_inode(f, ip, readable, writable);   // takes over our reference
  if ((flags & O_TRUNC) && ip->type == T_FILE)
    inode_truncate(ip);
  inode_unlock(ip);
  log_end();
  return fd;
}

// mkdir(path) and mknod(path, major, minor): a new inode, let go of at once.
static uint64
make_node(char *path, short type, short major, short minor)
{
  log_begin();
  struct inode *ip = name_inode(path, type, major, minor);
  if (ip)
    inode_unlock_put(ip);
  log_end();
  return ip ? 0 : -1;
}

uint64
sys_mkdir(struct sysarg *arg)
{
  return make_node(arg[0].path, T_DIR, 0, 0);
}

uint64
sys_mknod(struct sysarg *arg)
{
  int major = arg[1].num, minor = arg[2].num;
  if (major < 0 || major >= NDEV || minor < 0 || minor > 0x7fff)
    return -1;
  return make_node(arg[0].path, T_DEVICE, major, minor);
}

// chdir(path)
uint64
sys_chdir(struct sysarg *arg)
{
  struct proc *p = myproc();
  log_begin();
  struct inode *ip = lookup_locked(arg[0].path);
  int ok = ip != 0 && ip->type == T_DIR;
  if (ok) {
    inode_unlock(ip);
    inode_put(p->cwd);
    p->cwd = ip;
  } else if (ip) {
    inode_unlock_put(ip);
  }
  log_end();
  return ok ? 0 : -1;
}

// Remove the entry at offset off of directory dir, which names ip; both
// are locked.  The inode goes when its last link and reference do.
static void
remove_entry(struct inode *dir, uint off, struct inode *ip)
{
  struct dirent blank;
  memset(&blank, 0, sizeof(blank));
  if (inode_write(dir, 0, (uint64)&blank, off, sizeof(blank)) != sizeof(blank))
    panic("unlink: cannot clear the directory entry");
  if (ip->type == T_DIR) {
    dir->nlink--;        // the child's ".." is gone
    inode_update(dir);
  }
  ip->nlink--;
  inode_update(ip);
}

// unlink(path): not "." or "..", nor a directory with entries.
uint64
sys_unlink(struct sysarg *arg)
{
  char name[DIRSIZ];
  uint off;
  int ok = 0;

  log_begin();
  struct inode *dir = parent_dir(arg[0].path, name);
  struct inode *ip = dir ? dir_lookup(dir, name, &off) : 0;
  if (ip != 0) {
    inode_lock(ip);
    if (ip->nlink < 1)
      panic("unlink: inode without links (corrupt file system)");
    ok = ip->type != T_DIR || !dir_has_entries(ip);
    if (ok)
      remove_entry(dir, off, ip);
    inode_unlock_put(ip);
  }
  if (dir)
    inode_unlock_put(dir);
  log_end();
  return ok ? 0 : -1;
}

// link(old, new): a second name for a file (directories have one only).
// The link count goes up before the new entry exists, so that a crash in
// between leaves a count that is too high (a lost block at worst), never
// one that is too low.
uint64
sys_link(struct sysarg *arg)
{
  char name[DIRSIZ];
  log_begin();
  struct inode *ip = lookup_locked(arg[0].path);
  if (ip == 0 || ip->type == T_DIR) {
    if (ip)
      inode_unlock_put(ip);
    log_end();
    return -1;
  }
  ip->nlink++;
  inode_update(ip);
  inode_unlock(ip);

  struct inode *dir = parent_dir(arg[1].path, name);
  int ok = dir != 0 && dir->dev == ip->dev && dir_link(dir, name, ip->inum) == 0;
  if (dir)
    inode_unlock_put(dir);
  if (ok) {
    inode_put(ip);
  } else {
    inode_lock(ip);
    ip->nlink--;
    inode_update(ip);
    inode_unlock_put(ip);
  }
  log_end();
  return ok ? 0 : -1;
}
