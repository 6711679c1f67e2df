// RISC-V definitions: CSR access, the status and cause bits the kernel
// uses, and Sv39 page tables.  User programs include this header too, for
// the page-size and page-table macros that xv6-riscv programs expect here.
#ifndef XV6_RISCV_H
#define XV6_RISCV_H

#ifndef __ASSEMBLER__
#include "kernel/types.h"

// csr_read(name) / csr_write(name, v) / csr_set / csr_clear work for any CSR
// the assembler knows by name, e.g. csr_read(sstatus).
#define csr_read(csr) ({ uint64 __v; \
  asm volatile("csrr %0, " #csr : "=r"(__v)); __v; })
#define csr_write(csr, val) ({ uint64 __w = (uint64)(val); \
  asm volatile("csrw " #csr ", %0" : : "r"(__w)); })
#define csr_set(csr, bits) ({ uint64 __b = (uint64)(bits); \
  asm volatile("csrs " #csr ", %0" : : "r"(__b)); })
#define csr_clear(csr, bits) ({ uint64 __b = (uint64)(bits); \
  asm volatile("csrc " #csr ", %0" : : "r"(__b)); })

// The Sstc compare register stimecmp (0x14d), by number: older assemblers
// do not know its name.
#define write_stimecmp(val) ({ uint64 __w = (uint64)(val); \
  asm volatile("csrw 0x14d, %0" : : "r"(__w)); })

static inline uint64 r_tp(void) { uint64 x; asm volatile("mv %0, tp" : "=r"(x)); return x; }
static inline void   w_tp(uint64 x) { asm volatile("mv tp, %0" : : "r"(x)); }
static inline uint64 r_sp(void) { uint64 x; asm volatile("mv %0, sp" : "=r"(x)); return x; }

// The kernel keeps each hart's id in tp (start.c).  Call with interrupts
// off, so that the caller cannot move to another hart meanwhile.
static inline int cpuid(void) { return r_tp(); }

// sstatus.SIE: may S-mode code be interrupted?
#define SSTATUS_SIE  (1L << 1)
static inline void intr_on(void)  { csr_set(sstatus, SSTATUS_SIE); }
static inline void intr_off(void) { csr_clear(sstatus, SSTATUS_SIE); }
static inline int  intr_get(void) { return (csr_read(sstatus) & SSTATUS_SIE) != 0; }

// Flush this hart's TLB.
static inline void sfence_vma(void) { asm volatile("sfence.vma zero, zero"); }

typedef uint64 pte_t;
typedef uint64 *pagetable_t;   // one page: 512 PTEs
#endif // __ASSEMBLER__

// Where an xRET returns: sstatus.SPP is the mode a trap came from (1 = S),
// SPIE what SIE was; mstatus.MPP the mode mret enters.
#define SSTATUS_SPP       (1L << 8)
#define SSTATUS_SPIE      (1L << 5)
#define MSTATUS_MPP_MASK  (3L << 11)
#define MSTATUS_MPP_S     (1L << 11)

// Interrupt numbers: bit positions in mie/mip/sie/sip, and the cause code
// of an interrupt in scause.
#define IRQ_S_SOFT   1
#define IRQ_S_TIMER  5
#define IRQ_S_EXT    9
#define SIE_SSIE     (1L << IRQ_S_SOFT)
#define SIE_STIE     (1L << IRQ_S_TIMER)
#define SIE_SEIE     (1L << IRQ_S_EXT)
#define MIE_STIE     (1L << IRQ_S_TIMER)

// scause: the top bit marks an interrupt; otherwise the exception code.
#define SCAUSE_INTR       (1UL << 63)
#define CAUSE_USER_ECALL  8

// satp for an Sv39 page table at physical address pt (no ASID).
#define SATP_SV39 (8L << 60)
#define MAKE_SATP(pt) (SATP_SV39 | (((uint64)(pt)) >> 12))

// Pages.
#define PGSIZE  4096
#define PGSHIFT 12
#define PGROUNDUP(sz)  (((sz)+PGSIZE-1) & ~((uint64)PGSIZE-1))
#define PGROUNDDOWN(a) (((a)) & ~((uint64)PGSIZE-1))

// Page table entry bits.
#define PTE_V (1L << 0)  // valid
#define PTE_R (1L << 1)
#define PTE_W (1L << 2)
#define PTE_X (1L << 3)
#define PTE_U (1L << 4)  // user may access
#define PTE_G (1L << 5)  // global: in every address space
#define PTE_A (1L << 6)  // accessed: our MMU sets it in hardware
#define PTE_D (1L << 7)  // dirty: likewise, on the first write
#define PTE_S (1L << 8)  // shared page: this mapping does not own the page

// A PTE holds the physical page number in bits 10..53 and flags in 0..9.
#define PA2PTE(pa)     ((((uint64)(pa)) >> PGSHIFT) << 10)
#define PTE2PA(pte)    (((pte) >> 10) << PGSHIFT)
#define PTE_FLAGS(pte) ((pte) & 0x3FF)

// Index of va's entry in the table of the given level (2 = root): 9 bits
// per level above the page offset.
#define PX(level, va) ((((uint64)(va)) >> (PGSHIFT + 9 * (level))) & 0x1FF)

// Sv39 addresses have 39 bits; staying below 2^38 means a virtual address
// never needs sign extension (bits 63..39 equal to bit 38).
#define MAXVA (1L << 38)

#endif
