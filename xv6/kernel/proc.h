// Processes, CPUs and the registers saved when switching between them.
#ifndef XV6_PROC_H
#define XV6_PROC_H

#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"

// A kernel thread's registers while it is switched out: what a C callee
// must preserve (ra, sp, s0..s11).  swtch.S saves and loads them through
// offsets generated from this definition (asm_offsets.c).
struct context {
  uint64 ra;      // where the thread resumes
  uint64 sp;
  uint64 s[12];   // s0..s11
};

// Per-hart state.
struct cpu {
  struct proc *proc;          // the process running here, or 0
  struct context scheduler;   // swtch() here to get back to scheduler()
  int intr_depth;             // nesting of intr_push() (spinlock.c)
  int intr_was_on;            // interrupts were on at the outermost intr_push()
};

extern struct cpu cpus[NCPU];

// This hart's struct cpu (interrupts off).  Inline: every acquire and
// release asks for it several times.
static inline struct cpu *mycpu(void) { return &cpus[cpuid()]; }

// A user program's registers as they were when it trapped into the kernel:
// x1..x31 in register-number order, by ABI name, and the pc.  The system
// call arguments a0..a5 are x10..x15, side by side.
struct user_regs {
  uint64 pc;                                   // sepc: where sret resumes
  uint64 ra, sp, gp, tp;                       // x1..x4
  uint64 t0, t1, t2;                           // x5..x7
  uint64 s0, s1;                               // x8, x9
  uint64 a0, a1, a2, a3, a4, a5, a6, a7;       // x10..x17
  uint64 s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;  // x18..x27
  uint64 t3, t4, t5, t6;                       // x28..x31
};

// A process's trap frame: one page, mapped (kernel-only) at TRAPFRAME in
// its user page table, where the trampoline (trampoline.S) saves the user
// registers on a trap and loads them back on the return.  The trampoline
// finds the fields through offsets generated from this definition at build
// time (asm_offsets.c), so the C and the assembly views cannot drift apart.
struct trapframe {
  // How uservec enters the kernel.  Set when the process slot is claimed;
  // kernel_tp again on every return to user mode.
  uint64 kernel_satp;     // the kernel's page table
  uint64 kernel_sp;       // top of the process's kernel stack
  uint64 kernel_tp;       // this hart's id, which the kernel keeps in tp
  uint64 kernel_entry;    // trap_from_user()

  struct user_regs user;
};

// A range of pages that map_shared_pages() mapped into a process; they
// can only be unmapped as a whole.  npages == 0 marks a free slot.
#define NSHM 8
struct shm_region {
  uint64 va;       // first page
  uint64 npages;
};

// The life of a process slot:
//   FREE -> NEW        claimed by fork() or at boot, being filled in
//   NEW -> READY       handed to the scheduler
//   READY -> RUNNING   picked by a hart's scheduler
//   RUNNING -> READY   its time slice ended (yield)
//   RUNNING -> ASLEEP  it waits for an event (sleep); wakeup() or kill()
//                      make it READY again
//   RUNNING -> ZOMBIE  it exited; its parent's wait() makes the slot FREE
// FREE must stay 0: a zero-filled table is all free, and the waveform
// tools (sim/wave/procs.py) read states from RAM.
enum pstate { P_FREE, P_NEW, P_READY, P_RUNNING, P_ASLEEP, P_ZOMBIE };

struct proc {
  struct spinlock lock;        // first: a FREE slot is zero after it

  // Under lock:
  enum pstate state;
  void *wchan;                 // the event an ASLEEP process waits for
  int killed;                  // set once by kill(); read lock-free, see killed()
  int exit_status;             // for the parent's wait(), once ZOMBIE
  int pid;

  // Under the process table's family lock (proc.c):
  struct proc *parent;

  // The process's own: changed only by itself while it runs, by its
  // creator while NEW, by its parent once ZOMBIE.  sz, pagetable and shm
  // also change when another process maps pages into it, under lock.
  uint64 sz;                   // bytes of user memory, from address 0
  pagetable_t pagetable;       // user page table
  struct trapframe *tf;        // trap frame page, mapped at TRAPFRAME
  struct context context;      // swtch() here to run the process
  struct file *fd[NOFILE];     // descriptor table: open files by number
  struct inode *cwd;           // current directory
  char name[16];               // for ^P listings and messages
  struct shm_region shm[NSHM]; // shared mappings received (shmem.c)
};

_Static_assert(__builtin_offsetof(struct proc, lock) == 0,
               "free_slot() (proc.c) clears everything after the lock");

extern struct proc procs[NPROC];

// sched.c: switch from the calling process (which holds its lock) to the
// scheduler, leaving it in state `next`.
void leave_cpu(enum pstate next);

// Has the process been killed?  The flag only ever goes from 0 to 1, so it
// may be read without the lock: a reader that just missed a kill sees it at
// its next check, and every path back to user mode checks.
static inline int
killed(struct proc *p)
{
  return __atomic_load_n(&p->killed, __ATOMIC_RELAXED);
}

#endif
