// Traps: from user mode (system calls, interrupts, faults) and from the
// kernel itself (interrupts only), plus the timer tick.
//
// Timer: the Sstc compare register stimecmp is re-armed TICK_INTERVAL
// `time` units ahead on every timer interrupt.  QEMU's `time` runs at
// 10 MHz, so a tick is 10 ms there; the SoC's timebase sets it on hardware.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

#define TICK_INTERVAL 100000UL

struct spinlock tickslock;
uint ticks;

extern char trampoline[], uservec[], userret[];   // trampoline.S
void kernelvec(void);                              // entry.S

// trampoline.S hard-codes these offsets.
_Static_assert(__builtin_offsetof(struct trapframe, kernel_satp) == 0, "tf");
_Static_assert(__builtin_offsetof(struct trapframe, kernel_sp) == 8, "tf");
_Static_assert(__builtin_offsetof(struct trapframe, kernel_trap) == 16, "tf");
_Static_assert(__builtin_offsetof(struct trapframe, kernel_hartid) == 32, "tf");
_Static_assert(__builtin_offsetof(struct trapframe, ra) == 40, "tf");
_Static_assert(__builtin_offsetof(struct trapframe, a0) == 112, "tf");
_Static_assert(__builtin_offsetof(struct trapframe, s2) == 176, "tf");
_Static_assert(__builtin_offsetof(struct trapframe, t6) == 280, "tf");

// What devintr() found.
enum { INTR_NONE = 0, INTR_DEVICE = 1, INTR_TIMER = 2 };

#define SCAUSE_CODE(c) ((c) & ~SCAUSE_INTR)

void
trapinit(void)
{
  initlock(&tickslock, "ticks");
}

// Traps taken while in the kernel go to kernelvec.
void
trapinithart(void)
{
  csr_write(stvec, (uint64)kernelvec);
}

static void
clockintr(void)
{
  if (cpuid() == 0) {
    acquire(&tickslock);
    ticks++;
    wakeup(&ticks);
    release(&tickslock);
  }
  // Writing stimecmp also clears the pending timer interrupt.
  write_stimecmp(csr_read(time) + TICK_INTERVAL);
}

// Handle an interrupt if scause says it is one we know.
static int
devintr(void)
{
  uint64 cause = csr_read(scause);
  if ((cause & SCAUSE_INTR) == 0)
    return INTR_NONE;

  switch (SCAUSE_CODE(cause)) {
  case IRQ_S_EXT: {
    int irq = plic_claim();
    if (irq == UART0_IRQ)
      uartintr();
    else if (irq == VIRTIO0_IRQ)
      virtio_disk_intr();
    else if (irq != 0)
      printf("devintr: unexpected PLIC source %d\n", irq);
    if (irq != 0)
      plic_complete(irq);
    return INTR_DEVICE;
  }
  case IRQ_S_TIMER:
    clockintr();
    return INTR_TIMER;
  default:
    return INTR_NONE;
  }
}

// uservec (trampoline.S) jumps here on every trap from user mode.
void
usertrap(void)
{
  if (csr_read(sstatus) & SSTATUS_SPP)
    panic("usertrap: trap did not come from user mode");

  // Further traps are the kernel's own until we return to user mode.
  csr_write(stvec, (uint64)kernelvec);

  struct proc *p = myproc();
  p->trapframe->epc = csr_read(sepc);
  uint64 cause = csr_read(scause);
  int kind = INTR_NONE;

  if (cause == CAUSE_USER_ECALL) {
    if (killed(p))
      exit(-1);
    p->trapframe->epc += 4;   // resume after the ecall
    intr_on();                // sepc/scause are saved; interrupts are safe
    syscall();
  } else if ((kind = devintr()) != INTR_NONE) {
    // handled
  } else {
    // A fault (bad address, illegal instruction, ...): the process dies.
    printf("pid %d (%s): killed by trap: scause 0x%lx sepc 0x%lx stval 0x%lx\n",
           p->pid, p->name, cause, csr_read(sepc), csr_read(stval));
    setkilled(p);
  }

  if (killed(p))
    exit(-1);
  if (kind == INTR_TIMER)
    yield();
  usertrapret();
}

// Return to user mode through the trampoline.
void
usertrapret(void)
{
  struct proc *p = myproc();

  // From here until sret a trap would go to uservec while we are still in
  // the kernel; keep interrupts off.
  intr_off();
  uint64 tramp_va = TRAMPOLINE;
  csr_write(stvec, tramp_va + (uservec - trampoline));

  // What uservec needs to come back into the kernel.
  struct trapframe *tf = p->trapframe;
  tf->kernel_satp = csr_read(satp);
  tf->kernel_sp = p->kstack + PGSIZE;
  tf->kernel_trap = (uint64)usertrap;
  tf->kernel_hartid = r_tp();

  // sret: to user mode, interrupts on once there, at the saved pc.
  uint64 st = csr_read(sstatus);
  st &= ~SSTATUS_SPP;
  st |= SSTATUS_SPIE;
  csr_write(sstatus, st);
  csr_write(sepc, tf->epc);
  csr_write(sscratch, TRAPFRAME);

  void (*to_user)(uint64) = (void (*)(uint64))(tramp_va + (userret - trampoline));
  to_user(MAKE_SATP(p->pagetable));
}

// kernelvec (entry.S) calls this for traps taken in S-mode.
void
kerneltrap(void)
{
  uint64 epc = csr_read(sepc);
  uint64 st = csr_read(sstatus);
  uint64 cause = csr_read(scause);

  if ((st & SSTATUS_SPP) == 0)
    panic("kerneltrap: not from supervisor mode");
  if (intr_get())
    panic("kerneltrap: interrupts enabled");

  int kind = devintr();
  if (kind == INTR_NONE) {
    printf("kernel trap: scause 0x%lx sepc 0x%lx stval 0x%lx\n",
           cause, epc, csr_read(stval));
    panic("kerneltrap");
  }

  // A tick while a process runs in the kernel: let others run.
  if (kind == INTR_TIMER && myproc() != 0)
    yield();

  // yield() may have taken other traps that changed these.
  csr_write(sepc, epc);
  csr_write(sstatus, st);
}
