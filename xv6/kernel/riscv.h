// RISC-V definitions: CSR access, status bits, Sv39 page tables.
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

// The Sstc timer compare register; older assemblers lack its name.
#define CSR_STIMECMP 0x14d
#define read_stimecmp() ({ uint64 __v; \
  asm volatile("csrr %0, 0x14d" : "=r"(__v)); __v; })
#define write_stimecmp(val) ({ uint64 __w = (uint64)(val); \
  asm volatile("csrw 0x14d, %0" : : "r"(__w)); })
// menvcfg is 0x30a.
#define CSR_MENVCFG 0x30a

static inline uint64 r_tp(void) { uint64 x; asm volatile("mv %0, tp" : "=r"(x)); return x; }
static inline void   w_tp(uint64 x) { asm volatile("mv tp, %0" : : "r"(x)); }
static inline uint64 r_sp(void) { uint64 x; asm volatile("mv %0, sp" : "=r"(x)); return x; }
static inline uint64 r_ra(void) { uint64 x; asm volatile("mv %0, ra" : "=r"(x)); return x; }

// The kernel keeps each hart's id in tp (start.c).  Call with interrupts
// off, so that the caller cannot move to another hart meanwhile.
static inline int cpuid(void) { return r_tp(); }

// Supervisor interrupts on/off and query.
static inline void intr_on(void)  { csr_set(sstatus, 1L << 1); }
static inline void intr_off(void) { csr_clear(sstatus, 1L << 1); }
static inline int  intr_get(void) { return (csr_read(sstatus) & (1L << 1)) != 0; }

// Flush this hart's TLB.
static inline void sfence_vma(void) { asm volatile("sfence.vma zero, zero"); }

typedef uint64 pte_t;
typedef uint64 *pagetable_t;   // 512 PTEs
#endif // __ASSEMBLER__

// mstatus / sstatus fields.
#define MSTATUS_MPP_MASK  (3L << 11)
#define MSTATUS_MPP_M     (3L << 11)
#define MSTATUS_MPP_S     (1L << 11)
#define MSTATUS_MPP_U     (0L << 11)
#define MSTATUS_MIE       (1L << 3)
#define SSTATUS_SPP       (1L << 8)   // previous mode, 1 = supervisor
#define SSTATUS_SPIE      (1L << 5)   // previous interrupt enable
#define SSTATUS_UPIE      (1L << 4)
#define SSTATUS_SIE       (1L << 1)   // supervisor interrupt enable
#define SSTATUS_UIE       (1L << 0)

// Interrupt enable / pending bits (mie, mip, sie, sip).
#define IRQ_S_SOFT   1
#define IRQ_M_SOFT   3
#define IRQ_S_TIMER  5
#define IRQ_M_TIMER  7
#define IRQ_S_EXT    9
#define IRQ_M_EXT    11
#define SIE_SEIE     (1L << IRQ_S_EXT)
#define SIE_STIE     (1L << IRQ_S_TIMER)
#define SIE_SSIE     (1L << IRQ_S_SOFT)
#define MIE_STIE     (1L << IRQ_S_TIMER)
#define MIE_MTIE     (1L << IRQ_M_TIMER)

// scause values.
#define SCAUSE_INTR            (1UL << 63)
#define CAUSE_USER_ECALL       8
#define CAUSE_INSN_PAGE_FAULT  12
#define CAUSE_LOAD_PAGE_FAULT  13
#define CAUSE_STORE_PAGE_FAULT 15

// satp: Sv39 mode with the page table's physical page number.
#define SATP_SV39 (8L << 60)
#define MAKE_SATP(pagetable) (SATP_SV39 | (((uint64)(pagetable)) >> 12))

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
#define PTE_G (1L << 5)  // global
#define PTE_A (1L << 6)  // accessed (set by hardware)
#define PTE_D (1L << 7)  // dirty (set by hardware)
#define PTE_S (1L << 8)  // shared page: this mapping does not own the page

// Physical address <-> PTE, and the flag bits of a PTE.
#define PA2PTE(pa) ((((uint64)(pa)) >> 12) << 10)
#define PTE2PA(pte) (((pte) >> 10) << 12)
#define PTE_FLAGS(pte) ((pte) & 0x3FF)

// The three 9-bit page-table indices of a virtual address.
#define PXMASK          0x1FF
#define PXSHIFT(level)  (PGSHIFT+(9*(level)))
#define PX(level, va)   ((((uint64)(va)) >> PXSHIFT(level)) & PXMASK)

// One bit less than Sv39 allows, so that we never need sign-extended
// (negative) virtual addresses.
#define MAXVA (1L << (9 + 9 + 9 + 12 - 1))

#endif
