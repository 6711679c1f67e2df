// File-related system calls.  They check their arguments, translate file
// descriptors to open files, and call file.c / fs.c.  Any bad argument
// (descriptor, user pointer, path, flag) makes the call return -1.

#include "kernel/types.h"
#include "kernel/riscv.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/fs.h"
#include "kernel/sleeplock.h"
#include "kernel/file.h"
#include "kernel/fcntl.h"
#include "kernel/defs.h"

// The open file behind descriptor argument n, or 0 if it is not one.
// The descriptor number goes to *fdp when fdp is not 0.
static struct file *
fd_arg(int n, int *fdp)
{
  int fd;
  argint(n, &fd);
  if(fd < 0 || fd >= NOFILE)
    return 0;
  struct file *f = myproc()->ofile[fd];
  if(f && fdp)
    *fdp = fd;
  return f;
}

// Give f the lowest free descriptor of this process; -1 if none is free.
static int
fd_install(struct file *f)
{
  struct proc *p = myproc();
  for(int fd = 0; fd < NOFILE; fd++){
    if(p->ofile[fd] == 0){
      p->ofile[fd] = f;
      return fd;
    }
  }
  return -1;
}

static int
path_arg(int n, char *buf)
{
  return argstr(n, buf, MAXPATH) < 0 ? -1 : 0;
}

uint64
sys_dup(void)
{
  struct file *f = fd_arg(0, 0);
  if(f == 0)
    return -1;
  int fd = fd_install(f);
  if(fd < 0)
    return -1;
  filedup(f);
  return fd;
}

// read(fd, buf, n) and write(fd, buf, n) take the same arguments; `out`
// says which way the bytes go.
static uint64
fd_transfer(int out)
{
  uint64 buf;
  int n;
  struct file *f = fd_arg(0, 0);
  argaddr(1, &buf);
  argint(2, &n);
  if(f == 0 || n < 0)
    return -1;
  return out ? filewrite(f, buf, n) : fileread(f, buf, n);
}

uint64
sys_read(void)
{
  return fd_transfer(0);
}

uint64
sys_write(void)
{
  return fd_transfer(1);
}

uint64
sys_close(void)
{
  int fd;
  struct file *f = fd_arg(0, &fd);
  if(f == 0)
    return -1;
  myproc()->ofile[fd] = 0;
  fileclose(f);
  return 0;
}

uint64
sys_fstat(void)
{
  uint64 st;
  struct file *f = fd_arg(0, 0);
  argaddr(1, &st);
  if(f == 0)
    return -1;
  return filestat(f, st);
}

// A new directory entry `path` for a new inode of the given type, returned
// locked; for T_FILE an existing file or device is returned instead.  0 on
// any failure.  Runs inside a transaction.
static struct inode *
create(char *path, short type, short major, short minor)
{
  char name[DIRSIZ];
  struct inode *dir = nameiparent(path, name);
  if(dir == 0)
    return 0;
  ilock(dir);

  struct inode *ip = dirlookup(dir, name, 0);
  if(ip){
    iunlockput(dir);
    ilock(ip);
    if(type == T_FILE && (ip->type == T_FILE || ip->type == T_DEVICE))
      return ip;
    iunlockput(ip);
    return 0;
  }

  ip = ialloc(dir->dev, type);
  if(ip == 0){
    iunlockput(dir);
    return 0;
  }
  ilock(ip);
  ip->major = major;
  ip->minor = minor;
  ip->nlink = 1;
  iupdate(ip);

  // A directory gets "." and "..".  Only the parent's ".." link is counted
  // in nlink; "." is not, so that links never form a cycle.
  if(type == T_DIR &&
     (dirlink(ip, ".", ip->inum) < 0 || dirlink(ip, "..", dir->inum) < 0))
    goto undo;
  if(dirlink(dir, name, ip->inum) < 0)
    goto undo;
  if(type == T_DIR){
    dir->nlink++;
    iupdate(dir);
  }
  iunlockput(dir);
  return ip;

undo:
  // No link refers to ip: iput frees it and whatever blocks it got.
  ip->nlink = 0;
  iupdate(ip);
  iunlockput(ip);
  iunlockput(dir);
  return 0;
}

uint64
sys_open(void)
{
  char path[MAXPATH];
  int flags;
  struct inode *ip;

  argint(1, &flags);
  if(path_arg(0, path) < 0)
    return -1;
  int accmode = flags & (O_WRONLY | O_RDWR);
  if(accmode == (O_WRONLY | O_RDWR))
    return -1;
  int want_write = accmode != O_RDONLY;

  begin_op();
  if(flags & O_CREATE){
    ip = create(path, T_FILE, 0, 0);
    if(ip == 0){
      end_op();
      return -1;
    }
  } else {
    ip = namei(path);
    if(ip == 0){
      end_op();
      return -1;
    }
    ilock(ip);
  }

  if((ip->type == T_DIR && want_write) ||
     (ip->type == T_DEVICE && (ip->major < 0 || ip->major >= NDEV))){
    iunlockput(ip);
    end_op();
    return -1;
  }

  struct file *f = filealloc();
  int fd = f ? fd_install(f) : -1;
  if(fd < 0){
    if(f)
      fileclose(f);
    iunlockput(ip);
    end_op();
    return -1;
  }

  if(ip->type == T_DEVICE){
    f->type = FD_DEVICE;
    f->major = ip->major;
  } else {
    f->type = FD_INODE;
    f->off = 0;
  }
  f->ip = ip;
  f->readable = accmode != O_WRONLY;
  f->writable = want_write;

  if((flags & O_TRUNC) && ip->type == T_FILE)
    itrunc(ip);

  iunlock(ip);
  end_op();
  return fd;
}

// mkdir and mknod: make the new inode in a transaction of its own and let
// go of it at once; 0 if it was made, -1 if not.
static int
make_node(char *path, short type, short major, short minor)
{
  begin_op();
  struct inode *ip = create(path, type, major, minor);
  if(ip)
    iunlockput(ip);
  end_op();
  return ip ? 0 : -1;
}

uint64
sys_mkdir(void)
{
  char path[MAXPATH];
  if(path_arg(0, path) < 0)
    return -1;
  return make_node(path, T_DIR, 0, 0);
}

uint64
sys_mknod(void)
{
  char path[MAXPATH];
  int major, minor;
  argint(1, &major);
  argint(2, &minor);
  if(path_arg(0, path) < 0)
    return -1;
  if(major < 0 || major >= NDEV || minor < 0 || minor > 0x7fff)
    return -1;
  return make_node(path, T_DEVICE, major, minor);
}

uint64
sys_chdir(void)
{
  char path[MAXPATH];
  struct proc *p = myproc();

  if(path_arg(0, path) < 0)
    return -1;
  begin_op();
  struct inode *ip = namei(path);
  if(ip == 0){
    end_op();
    return -1;
  }
  ilock(ip);
  if(ip->type != T_DIR){
    iunlockput(ip);
    end_op();
    return -1;
  }
  iunlock(ip);
  iput(p->cwd);
  end_op();
  p->cwd = ip;
  return 0;
}

// Does directory dp hold anything besides "." and ".."?  Caller holds its lock.
static int
dir_has_entries(struct inode *dp)
{
  struct dirent de;
  for(uint off = 2 * sizeof(de); off < dp->size; off += sizeof(de)){
    if(readi(dp, 0, (uint64)&de, off, sizeof(de)) != sizeof(de))
      panic("dir_has_entries: cannot read directory");
    if(de.inum != 0)
      return 1;
  }
  return 0;
}

uint64
sys_unlink(void)
{
  char path[MAXPATH], name[DIRSIZ];
  struct dirent blank;
  uint off;

  if(path_arg(0, path) < 0)
    return -1;

  begin_op();
  struct inode *dir = nameiparent(path, name);
  if(dir == 0){
    end_op();
    return -1;
  }
  ilock(dir);

  struct inode *ip = 0;
  if(namecmp(name, ".") == 0 || namecmp(name, "..") == 0 ||
     (ip = dirlookup(dir, name, &off)) == 0)
    goto fail;
  ilock(ip);
  if(ip->nlink < 1)
    panic("unlink: inode has no links (corrupt file system)");
  if(ip->type == T_DIR && dir_has_entries(ip)){
    iunlockput(ip);
    goto fail;
  }

  memset(&blank, 0, sizeof(blank));
  if(writei(dir, 0, (uint64)&blank, off, sizeof(blank)) != sizeof(blank))
    panic("unlink: cannot clear directory entry");
  if(ip->type == T_DIR){
    dir->nlink--;        // the child's ".." is gone
    iupdate(dir);
  }
  iunlockput(dir);

  ip->nlink--;
  iupdate(ip);
  iunlockput(ip);
  end_op();
  return 0;

fail:
  iunlockput(dir);
  end_op();
  return -1;
}

// link(old, new): another name for an existing file (not a directory).
uint64
sys_link(void)
{
  char old[MAXPATH], new[MAXPATH], name[DIRSIZ];

  if(path_arg(0, old) < 0 || path_arg(1, new) < 0)
    return -1;

  begin_op();
  struct inode *ip = namei(old);
  if(ip == 0){
    end_op();
    return -1;
  }
  ilock(ip);
  if(ip->type == T_DIR){
    iunlockput(ip);
    end_op();
    return -1;
  }
  ip->nlink++;
  iupdate(ip);
  iunlock(ip);

  struct inode *dir = nameiparent(new, name);
  if(dir){
    ilock(dir);
    if(dir->dev == ip->dev && dirlink(dir, name, ip->inum) == 0){
      iunlockput(dir);
      iput(ip);
      end_op();
      return 0;
    }
    iunlockput(dir);
  }

  // Could not add the name: take the extra link back.
  ilock(ip);
  ip->nlink--;
  iupdate(ip);
  iunlockput(ip);
  end_op();
  return -1;
}

uint64
sys_pipe(void)
{
  uint64 out;     // user pointer to int[2]
  struct file *rd, *wr;
  struct proc *p = myproc();

  argaddr(0, &out);
  if(pipealloc(&rd, &wr) < 0)
    return -1;

  int fds[2] = { -1, -1 };
  fds[0] = fd_install(rd);
  if(fds[0] >= 0)
    fds[1] = fd_install(wr);
  if(fds[1] < 0 ||
     copyout(p->pagetable, out, (char *)fds, sizeof(fds)) < 0){
    if(fds[0] >= 0)
      p->ofile[fds[0]] = 0;
    if(fds[1] >= 0)
      p->ofile[fds[1]] = 0;
    fileclose(rd);
    fileclose(wr);
    return -1;
  }
  return 0;
}
