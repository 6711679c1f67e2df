// free: how many physical pages the kernel has free.
#include "kernel/types.h"
#include "kernel/riscv.h"
#include "user/user.h"

int
main(void)
{
  int pages = freepages();
  printf("free pages: %d (%d KiB)\n", pages, pages * (PGSIZE / 1024));
  exit(0);
}
