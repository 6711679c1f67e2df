// Processes, CPUs and the registers saved when switching between them.
#ifndef XV6_PROC_H
#define XV6_PROC_H

#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"

// Callee-saved registers for kernel context switches (swtch.S).
struct context {
  uint64 ra;
  uint64 sp;
  uint64 s[12];   // s0..s11
};

// Per-hart state.
struct cpu {
  struct proc *proc;        // running process, or 0
  struct context context;   // swtch() here to enter the scheduler
  int noff;                 // depth of push_off() nesting
  int intena;               // were interrupts on before push_off()?
};

extern struct cpu cpus[NCPU];

// This hart's struct cpu (interrupts off).  Inline: every acquire and
// release asks for it several times.
static inline struct cpu *mycpu(void) { return &cpus[cpuid()]; }

// The user registers saved by the trampoline on a trap from user mode, plus
// what the trampoline needs to get into the kernel.  It lives in its own
// page, mapped at TRAPFRAME in the user page table.  trampoline.S relies on
// these offsets.
struct trapframe {
  /*   0 */ uint64 kernel_satp;    // kernel page table
  /*   8 */ uint64 kernel_sp;      // top of this process's kernel stack
  /*  16 */ uint64 kernel_trap;    // usertrap()
  /*  24 */ uint64 epc;            // user pc
  /*  32 */ uint64 kernel_hartid;  // tp while in the kernel
  /*  40 */ uint64 ra;
  /*  48 */ uint64 sp;
  /*  56 */ uint64 gp;
  /*  64 */ uint64 tp;
  /*  72 */ uint64 t0;
  /*  80 */ uint64 t1;
  /*  88 */ uint64 t2;
  /*  96 */ uint64 s0;
  /* 104 */ uint64 s1;
  /* 112 */ uint64 a0;
  /* 120 */ uint64 a1;
  /* 128 */ uint64 a2;
  /* 136 */ uint64 a3;
  /* 144 */ uint64 a4;
  /* 152 */ uint64 a5;
  /* 160 */ uint64 a6;
  /* 168 */ uint64 a7;
  /* 176 */ uint64 s2;
  /* 184 */ uint64 s3;
  /* 192 */ uint64 s4;
  /* 200 */ uint64 s5;
  /* 208 */ uint64 s6;
  /* 216 */ uint64 s7;
  /* 224 */ uint64 s8;
  /* 232 */ uint64 s9;
  /* 240 */ uint64 s10;
  /* 248 */ uint64 s11;
  /* 256 */ uint64 t3;
  /* 264 */ uint64 t4;
  /* 272 */ uint64 t5;
  /* 280 */ uint64 t6;
};

// A range of pages that map_shared_pages() mapped into a process; they
// can only be unmapped as a whole.  npages == 0 marks a free slot.
#define NSHM 8
struct shm_region {
  uint64 va;       // first page
  uint64 npages;
};

enum procstate { UNUSED, USED, SLEEPING, RUNNABLE, RUNNING, ZOMBIE };

struct proc {
  struct spinlock lock;

  // Protected by p->lock:
  enum procstate state;
  void *chan;                  // sleeping on this, if SLEEPING
  int killed;                  // kill() was called
  int xstate;                  // exit status for the parent's wait()
  int pid;

  // Protected by the process table's wait lock:
  struct proc *parent;

  // Private to the process (no lock needed while it runs):
  uint64 kstack;               // kernel stack virtual address
  uint64 sz;                   // bytes of user memory, from 0
  pagetable_t pagetable;       // user page table
  struct trapframe *trapframe; // the trap frame page
  struct context context;      // swtch() here to run the process
  struct file *ofile[NOFILE];  // open files
  struct inode *cwd;           // current directory
  char name[16];               // for ^P listings and debugging
  struct shm_region shm[NSHM]; // shared mappings received (shmem.c)
};

#endif
