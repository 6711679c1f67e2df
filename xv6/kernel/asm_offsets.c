// Where the assembly code finds the fields of C structures.
//
// This file is never linked into the kernel.  The build compiles it to
// assembly, where every EMIT() leaves a marker line holding an assembler
// definition `.equ NAME, VALUE` with the value the compiler computed, and
// collects those lines into the generated header asm_offsets.h, which
// trampoline.S and swtch.S include.  Change a structure here and the
// assembly follows at the next build.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"

#define EMIT(name, value) \
  asm volatile("\n.ascii \"@asm_offsets@ .equ " #name ", %0\"" : : "i"(value))

#define OFFSET(type, member) __builtin_offsetof(type, member)

// The integer registers by number and ABI name (the RISC-V calling
// convention).  x0 is always zero and is not saved.
#define USER_REGS(R) \
  R(1, ra)   R(2, sp)   R(3, gp)   R(4, tp)   R(5, t0)   R(6, t1)  \
  R(7, t2)   R(8, s0)   R(9, s1)   R(10, a0)  R(11, a1)  R(12, a2) \
  R(13, a3)  R(14, a4)  R(15, a5)  R(16, a6)  R(17, a7)  R(18, s2) \
  R(19, s3)  R(20, s4)  R(21, s5)  R(22, s6)  R(23, s7)  R(24, s8) \
  R(25, s9)  R(26, s10) R(27, s11) R(28, t3)  R(29, t4)  R(30, t5) \
  R(31, t6)

#define COUNT_ONE(num, name) + 1
#define TRAPFRAME_REG(num, name) \
  EMIT(TF_X##num, OFFSET(struct trapframe, user.name));

// struct user_regs is the pc and then one field per register: it must
// have exactly the registers listed above.
_Static_assert(sizeof(struct user_regs) ==
               OFFSET(struct user_regs, ra) + (0 USER_REGS(COUNT_ONE)) * sizeof(uint64),
               "struct user_regs must hold x1..x31 after pc");
_Static_assert(OFFSET(struct user_regs, ra) == sizeof(uint64), "pc comes first");

void
asm_offsets(void)
{
  // struct trapframe: TF_X1 ... TF_X31 are the user registers.
  USER_REGS(TRAPFRAME_REG)
  EMIT(TF_NREGS, 0 USER_REGS(COUNT_ONE));
  EMIT(TF_PC, OFFSET(struct trapframe, user.pc));
  EMIT(TF_KERNEL_SATP, OFFSET(struct trapframe, kernel_satp));
  EMIT(TF_KERNEL_SP, OFFSET(struct trapframe, kernel_sp));
  EMIT(TF_KERNEL_TP, OFFSET(struct trapframe, kernel_tp));
  EMIT(TF_KERNEL_ENTRY, OFFSET(struct trapframe, kernel_entry));

  // struct context: CTX_S0 ... CTX_S11 are s0..s11.
  EMIT(CTX_RA, OFFSET(struct context, ra));
  EMIT(CTX_SP, OFFSET(struct context, sp));
#define CONTEXT_S(n) EMIT(CTX_S##n, OFFSET(struct context, s[n]));
  CONTEXT_S(0) CONTEXT_S(1) CONTEXT_S(2) CONTEXT_S(3) CONTEXT_S(4) CONTEXT_S(5)
  CONTEXT_S(6) CONTEXT_S(7) CONTEXT_S(8) CONTEXT_S(9) CONTEXT_S(10) CONTEXT_S(11)
  EMIT(CTX_NS, sizeof(((struct context *)0)->s) / sizeof(uint64));
}
