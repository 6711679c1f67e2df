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

static struct spinlock clock_lock = SPINLOCK_INIT("clock");
static uint ticks;      // timer interrupts since boot, on hart 0

extern char trampoline[], uservec[], userret[];   // trampoline.S
void kernelvec(void);                              // entry.S

// What devintr() found.
enum { INTR_NONE = 0, INTR_DEVICE = 1, INTR_TIMER = 2 };

#define SCAUSE_CODE(c) ((c) & ~SCAUSE_INTR)

// Traps taken while in the kernel go to kernelvec.  sscratch holds the
// trap frame's user address from now on (see trampoline.S).
void
trapinithart(void)
{
  csr_write(stvec, (uint64)kernelvec);
  csr_write(sscratch, TRAPFRAME);
}

static void
clockintr(void)
{
  if (cpuid() == 0) {
    acquire(&clock_lock);
    ticks++;
    wakeup(&ticks);
    release(&clock_lock);
  }
  // Writing stimecmp also clears the pending timer interrupt.
  write_stimecmp(csr_read(time) + TICK_INTERVAL);
}

uint
ticks_now(void)
{
  acquire(&clock_lock);
  uint now = ticks;
  release(&clock_lock);
  return now;
}

// Sleep for n ticks.  0, or -1 if the process is killed meanwhile.
int
sleep_ticks(uint n)
{
  acquire(&clock_lock);
  uint start = ticks;
  while (ticks - start < n) {
    if (killed(myproc())) {
      release(&clock_lock);
      return -1;
    }
    sleep(&ticks, &clock_lock);
  }
  release(&clock_lock);
  return 0;
}

// A device behind the PLIC is asking for attention.
static void
external_interrupt(void)
{
  int irq = plic_claim();
  if (irq == 0)
    return;   // claimed by someone else meanwhile, or spurious
  switch (irq) {
  case UART0_IRQ:
    uart_interrupt();
    break;
  case VIRTIO0_IRQ:
    virtio_disk_intr();
    break;
  default:
    printf("trap: interrupt from unknown PLIC source %d\n", irq);
    break;
  }
  plic_complete(irq);
}

// Handle an interrupt if scause says it is one we know.
static int
devintr(void)
{
  uint64 cause = csr_read(scause);
  if ((cause & SCAUSE_INTR) == 0)
    return INTR_NONE;
  uint64 code = SCAUSE_CODE(cause);
  if (code == IRQ_S_TIMER) {
    clockintr();
    return INTR_TIMER;
  }
  if (code == IRQ_S_EXT) {
    external_interrupt();
    return INTR_DEVICE;
  }
  return INTR_NONE;
}

// The user program did something illegal: say so and mark it for death.
static void
user_fault(struct proc *p, uint64 cause)
{
  printf("pid %d (%s): killed by trap: scause 0x%lx sepc 0x%lx stval 0x%lx\n",
         p->pid, p->name, cause, csr_read(sepc), csr_read(stval));
  mark_killed(p);
}

// uservec (trampoline.S) jumps here on every trap from user mode.
void
usertrap(void)
{
  if (csr_read(sstatus) & SSTATUS_SPP)
    panic("usertrap: previous mode is not user");

  // Traps from here on are the kernel's own, until we go back to user mode.
  csr_write(stvec, (uint64)kernelvec);

  struct proc *p = myproc();
  uint64 cause = csr_read(scause);
  int tick = 0;

  if (cause & SCAUSE_INTR) {
    int kind = devintr();
    if (kind == INTR_NONE)
      user_fault(p, cause);
    tick = (kind == INTR_TIMER);
  } else if (cause == CAUSE_USER_ECALL) {
    if (killed(p))
      exit(-1);
    p->tf->user.pc += 4;   // return past the ecall instruction
    // sepc and scause are saved, so a nested trap cannot hurt now.
    intr_on();
    syscall();
  } else {
    user_fault(p, cause);
  }

  if (killed(p))
    exit(-1);
  if (tick)
    yield();   // the time slice is over
  usertrapret();
}

// Address of a trampoline.S symbol in the TRAMPOLINE mapping, which both
// the kernel and the user page tables have.
static uint64
tramp_alias(char *sym)
{
  return TRAMPOLINE + (uint64)(sym - trampoline);
}

// The kernel side of a new process's trap frame: how uservec gets back
// into the kernel on the process's traps.
void
trapframe_init(struct trapframe *tf, uint64 kstack_top)
{
  tf->kernel_satp = csr_read(satp);
  tf->kernel_sp = kstack_top;
  tf->kernel_entry = (uint64)usertrap;
}

// Return to user mode through the trampoline, which loads the registers
// and the pc from the trap frame.
void
usertrapret(void)
{
  struct proc *p = myproc();

  // Until sret, a trap would enter uservec while we are still in the
  // kernel, so no interrupts from here on.
  intr_off();
  csr_write(stvec, tramp_alias(uservec));
  p->tf->kernel_tp = r_tp();

  // sret goes to U-mode, with interrupts enabled there.
  csr_clear(sstatus, SSTATUS_SPP);
  csr_set(sstatus, SSTATUS_SPIE);

  uint64 user_satp = MAKE_SATP(p->pagetable);
  ((void (*)(uint64))tramp_alias(userret))(user_satp);
}

// kernelvec (entry.S) calls this for traps taken in S-mode.  Only
// interrupts are expected; anything else is a kernel bug.
void
kerneltrap(void)
{
  // Saved now: a yield() below may take other traps that overwrite them.
  uint64 resume_pc = csr_read(sepc);
  uint64 saved_status = csr_read(sstatus);
  uint64 cause = csr_read(scause);

  if ((saved_status & SSTATUS_SPP) == 0)
    panic("kerneltrap: came from user mode");
  if (intr_get())
    panic("kerneltrap: entered with SIE set");

  int kind = devintr();
  if (kind == INTR_NONE) {
    printf("unexpected kernel trap: scause 0x%lx sepc 0x%lx stval 0x%lx\n",
           cause, resume_pc, csr_read(stval));
    panic("kerneltrap");
  }
  if (kind == INTR_TIMER && myproc() != 0)
    yield();   // a tick while a process runs kernel code

  csr_write(sepc, resume_pc);
  csr_write(sstatus, saved_status);
}
