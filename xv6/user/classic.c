// classic: a user program in the style of programs written for xv6-riscv,
// built through FOREIGN_UPROGS (xv6/Makefile) to show that such programs
// build and run here unchanged.
//
// It is written the old way on purpose: it passes a uint64 to %p and %d, a
// pointer to %x, more arguments than its format uses, and moves addresses
// between ints and pointers without casts.  xv6-riscv's build accepts all
// of that (its printf has no format checking); ours shows warnings for it
// and builds it anyway.  The values printed are exact, so that
// tests/test_xv6_compat.py can check every line.
//
// The headers are the ones classic programs include, in their usual order.
#include "kernel/param.h"
#include "kernel/types.h"
#include "kernel/stat.h"
#include "user/user.h"
#include "kernel/fs.h"
#include "kernel/fcntl.h"
#include "kernel/syscall.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"

char buf[BSIZE];

// Lines and bytes of a file, as wc counts them.
void
count(char *path, int *lines, int *bytes)
{
  int fd, n, i;

  *lines = *bytes = 0;
  fd = open(path, O_RDONLY);
  if(fd < 0){
    printf("classic: cannot open %s\n", path);
    exit(1);
  }
  while((n = read(fd, buf, sizeof(buf))) > 0){
    for(i = 0; i < n; i++)
      if(buf[i] == '\n')
        (*lines)++;
    *bytes += n;
  }
  close(fd);
}

int
main(int argc, char *argv[])
{
  int fd, lines, bytes, top;
  char *p, *kern;
  struct stat st;

  // More arguments than conversions: the extra one is ignored.
  printf("classic: %d argument(s)\n", argc, argv[0]);

  // Constants of the headers every classic program relies on.
  printf("classic: PGSIZE %p\n", (uint64)PGSIZE);            // uint64 to %p
  printf("classic: NOFILE %d MAXARG %d MAXPATH %d DIRSIZ %d\n", NOFILE, MAXARG,
         MAXPATH, DIRSIZ);
  printf("classic: BSIZE %d MAXFILE %d dirent %d stat %d\n", BSIZE, MAXFILE,
         sizeof(struct dirent), sizeof(struct stat));         // size_t to %d
  printf("classic: O_CREATE %x O_TRUNC %x SYS_close %d T_DIR %d\n", O_CREATE,
         O_TRUNC, SYS_close, T_DIR);
  kern = (char*)KERNBASE;
  printf("classic: KERNBASE %x RAM %d MiB\n", kern, (PHYSTOP - KERNBASE) >> 20);
  printf("classic: MAXVA %p TRAPFRAME %p\n", MAXVA, TRAPFRAME);  // long to %p

  // An address kept in an int, as old programs do with sbrk.
  top = sbrk(PGSIZE);
  p = top;
  p[0] = 'x';
  p[PGSIZE-1] = 'y';
  if(p[0] == 'x' && p[PGSIZE-1] == 'y' && sbrk(0) == top + PGSIZE)
    printf("classic: sbrk ok\n");
  else
    printf("classic: sbrk BAD\n");

  // The README every xv6 disk carries.
  count("README", &lines, &bytes);
  if(stat("README", &st) < 0){
    printf("classic: cannot stat README\n");
    exit(1);
  }
  printf("classic: README %d lines %d bytes, size %d\n", lines, bytes, st.size);

  // A file made, checked and removed.
  fd = open("classic.tmp", O_CREATE|O_RDWR);
  if(fd < 0 || write(fd, "hello", 5) != 5){
    printf("classic: cannot write classic.tmp\n");
    exit(1);
  }
  fstat(fd, &st);
  close(fd);
  printf("classic: wrote %d bytes, type %d nlink %d\n", st.size, st.type, st.nlink);
  unlink("classic.tmp");
  if(open("classic.tmp", O_RDONLY) >= 0)
    printf("classic: unlink BAD\n");

  printf("classic: done\n");
  exit(0);
}
