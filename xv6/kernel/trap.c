// Traps: the way into the kernel from user mode and back out, and what the
// kernel does with the interrupts that arrive while its own code runs.
//
// scause sorts every trap into one of four kinds (enum trap):
//   TRAP_SYSCALL  ecall from user mode
//   TRAP_TIMER    the Sstc timer interrupt (clock.c)
//   TRAP_DEVICE   an external interrupt; the PLIC says which device (plic.c)
//   TRAP_FAULT    everything else: an exception, or an interrupt we never
//                 enable.  It kills a user process; in the kernel it is a bug.
// Timer and device interrupts are served alike in either mode; a timer
// interrupt also ends the running process's time slice.
//
// From user mode: uservec (trampoline.S) saves the user registers and the
// pc in the process's trap frame, switches to the kernel's page table and
// stack and jumps to trap_from_user().  return_to_user() leaves through
// userret.  In S-mode: kernelvec (entry.S) saves the registers a C call may
// clobber on the current stack and calls trap_from_kernel().

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

extern char trampoline[], uservec[], userret[];   // trampoline.S
void kernelvec(void);                              // entry.S

enum trap { TRAP_SYSCALL, TRAP_TIMER, TRAP_DEVICE, TRAP_FAULT };

static enum trap
classify(uint64 cause)
{
  if ((cause & SCAUSE_INTR) == 0)
    return cause == CAUSE_USER_ECALL ? TRAP_SYSCALL : TRAP_FAULT;
  switch (cause & ~SCAUSE_INTR) {
  case IRQ_S_TIMER:
    return TRAP_TIMER;
  case IRQ_S_EXT:
    return TRAP_DEVICE;
  default:
    return TRAP_FAULT;
  }
}

// Serve a TRAP_TIMER or TRAP_DEVICE interrupt.
static void
serve_interrupt(enum trap t)
{
  if (t == TRAP_TIMER)
    clock_interrupt();
  else
    plic_dispatch();
}

// Kernel traps go to kernelvec; sscratch holds the trap frame's user
// address for good (trampoline.S relies on it).
void
trap_init(void)
{
  csr_write(stvec, (uint64)kernelvec);
  csr_write(sscratch, TRAPFRAME);
}

// A trampoline.S label at its TRAMPOLINE alias, which the kernel's and
// every user page table map.
static uint64
trampoline_alias(char *label)
{
  return TRAMPOLINE + (uint64)(label - trampoline);
}

// The kernel's side of a new process's trap frame: how uservec gets into
// the kernel on the process's traps.
void
trapframe_init(struct trapframe *tf, uint64 kstack_top)
{
  tf->kernel_satp = csr_read(satp);
  tf->kernel_sp = kstack_top;
  tf->kernel_entry = (uint64)trap_from_user;
}

// Leave the kernel for the current process's user code, at the pc and with
// the registers in its trap frame.
void
return_to_user(void)
{
  struct proc *p = myproc();

  // Until sret, a trap would enter uservec although we are in the kernel:
  // interrupts stay off from here.
  intr_off();
  csr_write(stvec, trampoline_alias(uservec));
  p->tf->kernel_tp = r_tp();

  // sret will go to U-mode and turn interrupts on there.
  csr_clear(sstatus, SSTATUS_SPP);
  csr_set(sstatus, SSTATUS_SPIE);

  void (*enter)(uint64 satp) = (void (*)(uint64))trampoline_alias(userret);
  enter(MAKE_SATP(p->pagetable));
}

// uservec jumps here (through the trap frame's kernel_entry) on every trap
// from user mode, on the process's kernel stack.
void
trap_from_user(void)
{
  if (csr_read(sstatus) & SSTATUS_SPP)
    panic("trap_from_user: the trap came from S-mode");
  csr_write(stvec, (uint64)kernelvec);   // traps from now on are the kernel's

  struct proc *p = myproc();
  uint64 cause = csr_read(scause);
  enum trap t = classify(cause);

  switch (t) {
  case TRAP_SYSCALL:
    p->tf->user.pc += 4;                 // resume after the ecall
    if (!killed(p)) {
      // scause and sepc are read and saved: an interrupt can do no harm.
      intr_on();
      syscall();
    }
    break;
  case TRAP_TIMER:
  case TRAP_DEVICE:
    serve_interrupt(t);
    break;
  case TRAP_FAULT:
    printf("pid %d (%s): killed by trap: scause 0x%lx sepc 0x%lx stval 0x%lx\n",
           p->pid, p->name, cause, csr_read(sepc), csr_read(stval));
    mark_killed(p);
    break;
  }

  if (killed(p))
    exit(-1);
  if (t == TRAP_TIMER)
    yield();                             // the time slice is over
  return_to_user();
}

// kernelvec calls this for a trap taken in S-mode.  Only interrupts are
// expected here.
void
trap_from_kernel(void)
{
  // A yield() below runs other code that traps too and overwrites these.
  uint64 resume_pc = csr_read(sepc);
  uint64 status = csr_read(sstatus);
  uint64 cause = csr_read(scause);

  if ((status & SSTATUS_SPP) == 0)
    panic("trap_from_kernel: the trap came from U-mode");
  if (intr_get())
    panic("trap_from_kernel: interrupts are on");

  enum trap t = classify(cause);
  if (t != TRAP_TIMER && t != TRAP_DEVICE) {
    printf("unexpected kernel trap: scause 0x%lx sepc 0x%lx stval 0x%lx\n",
           cause, resume_pc, csr_read(stval));
    panic("trap_from_kernel");
  }
  serve_interrupt(t);
  if (t == TRAP_TIMER && myproc() != 0)
    yield();                             // a process's slice ends in kernel code too

  csr_write(sepc, resume_pc);
  csr_write(sstatus, status);
}
