// First C code after reset.  Runs once, in M-mode, on hart 0: it hands
// every trap to S-mode, opens physical memory to S-mode, arms the Sstc timer
// and drops to S-mode at main().  After that M-mode is never entered again,
// so no machine trap handler exists.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/defs.h"

void main(void);
void kernelvec(void);    // entry.S

#define MENVCFG_STCE   (1UL << 63)   // S-mode may use stimecmp
#define MCOUNTEREN_TM  (1UL << 1)    // S-mode may read `time`

void
start(void)
{
  // Where mret goes: main, with translation off.
  csr_write(mepc, (uint64)main);
  csr_write(satp, 0);
  // An exception in S-mode before trap_init() should report itself
  // (trap_from_kernel panics with scause/sepc/stval) instead of jumping to 0.
  csr_write(stvec, (uint64)kernelvec);

  // S-mode handles all exceptions and interrupts.
  csr_write(medeleg, 0xffff);
  csr_write(mideleg, 0xffff);
  csr_set(sie, SIE_SEIE | SIE_STIE | SIE_SSIE);

  // One PMP region covering the whole address space, R+W+X, TOR mode.
  // A core without PMP ignores these writes and allows everything anyway.
  csr_write(pmpaddr0, 0x3fffffffffffffUL);
  csr_write(pmpcfg0, 0xf);

  // Sstc: S-mode owns its timer compare register and may read `time`.
  csr_set(0x30a, MENVCFG_STCE);
  csr_set(mcounteren, MCOUNTEREN_TM);
  csr_set(mie, MIE_STIE);
  write_stimecmp(csr_read(time) + TIMER_PERIOD);

  // cpuid() reads tp.
  w_tp(csr_read(mhartid));

  // mret enters S-mode.
  uint64 ms = csr_read(mstatus);
  ms = (ms & ~MSTATUS_MPP_MASK) | MSTATUS_MPP_S;
  csr_write(mstatus, ms);

  asm volatile("mret");
  for (;;)
    ;
}
