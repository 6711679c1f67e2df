// Physical and virtual memory layout.
//
// Physical memory is QEMU virt's map, which our SoC copies:
//   0x02000000  CLINT (timer, software interrupts)
//   0x0C000000  PLIC (external interrupts)
//   0x10000000  UART0 (16550)
//   0x10001000  virtio-mmio block device, slot 0
//   0x80000000  RAM: the kernel is loaded here, the rest up to PHYSTOP
//               is handed out page by page.
//
// The kernel's page table maps devices and RAM at their physical addresses
// and the trampoline page at the top of the virtual address space.
// Every user address space is:
//   0 ...        text, data, bss, stack guard, stack, heap (up to p->sz)
//   TRAPFRAME    this process's trap frame (not PTE_U)
//   TRAMPOLINE   the same trampoline page as the kernel's (not PTE_U)
#ifndef XV6_MEMLAYOUT_H
#define XV6_MEMLAYOUT_H

#include "kernel/param.h"

#define CLINT          0x02000000L
#define CLINT_MSIP(hart)     (CLINT + 4*(hart))
#define CLINT_MTIMECMP(hart) (CLINT + 0x4000 + 8*(hart))
#define CLINT_MTIME    (CLINT + 0xBFF8)

#define PLIC           0x0c000000L
#define PLIC_PRIORITY(irq)      (PLIC + 4*(irq))
#define PLIC_PENDING            (PLIC + 0x1000)
#define PLIC_ENABLE(ctx)        (PLIC + 0x2000 + 0x80*(ctx))
#define PLIC_THRESHOLD(ctx)     (PLIC + 0x200000 + 0x1000*(ctx))
#define PLIC_CLAIM(ctx)         (PLIC + 0x200004 + 0x1000*(ctx))
#define PLIC_SCONTEXT(hart)     (2*(hart) + 1)   // hart's S-mode context
// xv6-riscv's names for the S-mode registers of a hart.
#define PLIC_SENABLE(hart)      PLIC_ENABLE(PLIC_SCONTEXT(hart))
#define PLIC_SPRIORITY(hart)    PLIC_THRESHOLD(PLIC_SCONTEXT(hart))
#define PLIC_SCLAIM(hart)       PLIC_CLAIM(PLIC_SCONTEXT(hart))

#define UART0          0x10000000L
#define UART0_IRQ      10

#define VIRTIO0        0x10001000L
#define VIRTIO0_IRQ    1

#define KERNBASE       0x80000000L
#define PHYSTOP        (KERNBASE + (uint64)RAM_MB * 1024 * 1024)

// MAXVA (riscv.h) is one bit below Sv39's limit so that addresses never
// need sign extension.
#define TRAMPOLINE     (MAXVA - PGSIZE)
#define TRAPFRAME      (TRAMPOLINE - PGSIZE)

// Kernel stack of process slot i: below the trampoline, each with an
// unmapped guard page underneath.
#define KSTACK(i)      (TRAMPOLINE - ((i)+1) * 2*PGSIZE)

#endif
