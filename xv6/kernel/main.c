// S-mode kernel entry: bring up every subsystem, create the first
// processes and start scheduling.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/defs.h"

void
main(void)
{
  consoleinit();       // UART and the console device
  printfinit();
  printf("xv6 kernel: booting on hart %d\n", cpuid());

  kinit();             // physical page allocator
  kalloc_selftest();
  kvminit();           // kernel page table
  kvminithart();       // paging on
  procinit();          // process table and kernel stacks
  trapinit();
  trapinithart();      // stvec
  plicinit();          // interrupt priorities
  plicinithart();      // this hart's interrupt enables
  binit();             // block cache
  iinit();             // inode table
  fileinit();          // open file table
  cryptoinit();        // the crypto service's request queue
  virtio_disk_init();  // the disk
  userinit();          // processes 1 (/init) and 2 (/crypto_srv)
  __sync_synchronize();

  scheduler();
}
