/* RV64I register-register and register-immediate arithmetic, LUI, AUIPC. */
#include "test.h"
    TEST_START
    T_RR 1, add, 5, 2, 3
    T_RR 2, add, 0, -1, 1
    T_RR 3, add, 0x8000000000000000, 0x7fffffffffffffff, 1
    T_RR 4, sub, -1, 2, 3
    T_RR 5, sub, 0x7fffffffffffffff, 0x8000000000000000, 1
    T_RR 6, sll, 0x8000000000000000, 1, 63
    T_RR 7, sll, 0x100, 1, 0x48          /* only 6 bits of the amount count */
    T_RR 8, slt, 1, -1, 0
    T_RR 9, slt, 0, 0, -1
    T_RR 10, sltu, 0, -1, 0
    T_RR 11, sltu, 1, 0, -1
    T_RR 12, xor, 0xff00ff00ff00ff00, 0xf0f0f0f0f0f0f0f0, 0x0ff00ff00ff00ff0
    T_RR 13, srl, 0x0000000000000001, 0x8000000000000000, 63
    T_RR 14, sra, -1, 0x8000000000000000, 63
    T_RR 15, sra, 0xf800000000000000, 0x8000000000000000, 4
    T_RR 16, or, 0xfff0fff0fff0fff0, 0xf0f0f0f0f0f0f0f0, 0x0ff00ff00ff00ff0
    T_RR 17, and, 0x00f000f000f000f0, 0xf0f0f0f0f0f0f0f0, 0x0ff00ff00ff00ff0
    T_RR 18, slt, 1, 0x8000000000000000, 0x7fffffffffffffff
    T_RR 19, sltu, 0, 0x8000000000000000, 0x7fffffffffffffff
    T_RI 20, addi, -2048, 0, -2048
    T_RI 21, addi, 0x7ff, 0, 0x7ff
    T_RI 22, addi, 0, 1, -1
    T_RI 23, slti, 1, -5, -4
    T_RI 24, sltiu, 1, 5, -1              /* immediate -1 = 2^64-1 unsigned */
    T_RI 25, sltiu, 0, -1, 0x7ff
    T_RI 26, xori, -1, 0, -1
    T_RI 27, xori, 0x00ff00ff00ff07ff, 0x00ff00ff00ff00f0, 0x70f
    T_RI 28, ori, 0xfffffffffffff801, 1, -0x800
    T_RI 29, andi, 0x900, 0xff0, -0x700
    T_RI 30, slli, 0x4000000000000000, 1, 62
    T_RI 31, srli, 1, 0x8000000000000000, 63
    T_RI 32, srai, 0xffffffffff000000, 0x8000000000000000, 39
    T_RI 33, srai, 0x0000000001000000, 0x4000000000000000, 38
    /* writes to x0 are discarded */
    li gp, 34
    li t0, 7
    add x0, t0, t0
    bnez x0, fail
    /* LUI sign-extends bit 31 */
    li gp, 35
    lui a0, 0x80000
    li t6, 0xffffffff80000000
    bne a0, t6, fail
    lui a0, 0x7ffff
    CHECK 36, a0, 0x7ffff000
    /* AUIPC adds to its own address */
    li gp, 37
1:  auipc a0, 0
    la t0, 1b
    bne a0, t0, fail
2:  auipc a0, 0x1
    la t0, 2b
    sub a0, a0, t0
    CHECK 38, a0, 0x1000
    TEST_PASS
