# A kernel stand-in for the boot ROM tests: it checks that it starts the way the
# simulator's reset starts a program (hw/core/core.py RESET states): pc = 0x8000_0000,
# M-mode, every register 0 (a0 = hart id 0, a1 = 0), the trap CSRs untouched.  It prints
# "entry state ok" and writes tohost = 1, or tohost = (n << 1) | 1 for failed check n.
    .section .text.start
    .globl _start
_start:
    # 1: x1..x31 are all zero (x31 collects the OR; it is zero itself if all are).
    or x31, x31, x1
    or x31, x31, x2
    or x31, x31, x3
    or x31, x31, x4
    or x31, x31, x5
    or x31, x31, x6
    or x31, x31, x7
    or x31, x31, x8
    or x31, x31, x9
    or x31, x31, x10
    or x31, x31, x11
    or x31, x31, x12
    or x31, x31, x13
    or x31, x31, x14
    or x31, x31, x15
    or x31, x31, x16
    or x31, x31, x17
    or x31, x31, x18
    or x31, x31, x19
    or x31, x31, x20
    or x31, x31, x21
    or x31, x31, x22
    or x31, x31, x23
    or x31, x31, x24
    or x31, x31, x25
    or x31, x31, x26
    or x31, x31, x27
    or x31, x31, x28
    or x31, x31, x29
    or x31, x31, x30
    li a0, 1
    bnez x31, fail
    # 2: we run where we were linked (_start = 0x8000_0000).
    li a0, 2
here:
    auipc t0, 0                 # where `here` is
    la t1, here_linked
    ld t1, 0(t1)                # where the linker put it
    bne t0, t1, fail
    # 3: M-mode (mscratch is an M-mode CSR: reading it would trap otherwise) and the
    # trap CSRs as a reset leaves them.
    li a0, 3
    csrr t0, mscratch
    csrr t1, mtvec
    or t0, t0, t1
    csrr t1, mepc
    or t0, t0, t1
    csrr t1, mcause
    or t0, t0, t1
    csrr t1, mtval
    or t0, t0, t1
    csrr t1, mie
    or t0, t0, t1
    csrr t1, satp
    or t0, t0, t1
    bnez t0, fail
    # 4: mstatus is its reset value (only UXL = SXL = 2 read as set).
    li a0, 4
    csrr t0, mstatus
    li t1, 0xa00000000
    bne t0, t1, fail
    # 5: no interrupt is pending (the ROM left the PLIC and the block device quiet).
    li a0, 5
    csrr t0, mip
    bnez t0, fail

    la a1, message
    li t0, 0x10000000
1:  lbu t1, 0(a1)
    beqz t1, 3f
2:  lbu t2, 5(t0)
    andi t2, t2, 0x20
    beqz t2, 2b
    sb t1, 0(t0)
    addi a1, a1, 1
    j 1b
3:  li a0, 0
fail:
    slli a0, a0, 1
    ori a0, a0, 1
    la t0, tohost
    sd a0, 0(t0)
4:  j 4b

    .section .rodata
    .align 3
here_linked: .dword here
message: .asciz "entry state ok\n"

    .section .tohost, "aw", @progbits
    .align 3
    .globl tohost
tohost: .dword 0
    .globl fromhost
fromhost: .dword 0
