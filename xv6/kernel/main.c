// The kernel's C entry in S-mode, on hart 0 (start.c gets here by mret):
// set up the machine, start the first processes, and become the hart's
// scheduler.
//
// Most of the kernel needs nothing done at boot: its locks, tables and
// caches live in zero-filled static storage, which is their initial, empty
// state.  What is left is hardware to program and memory to hand out, in
// the order in which they depend on each other.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/defs.h"

void
main(void)
{
  console_init();            // the UART; printf works from here on
  printf("xv6 kernel: booting on hart %d\n", cpuid());

  kinit();                   // physical pages
  kalloc_selftest();
  kvm_build();               // the kernel's page table, with the kernel stacks
  kvm_enable();              // paging on

  trap_init();               // trap vector
  plic_init();               // device interrupts
  virtio_disk_init();        // the disk; the first process mounts the root

  start_first_processes();   // pid 1 (/init) and pid 2 (/crypto_srv)
  scheduler();
}
