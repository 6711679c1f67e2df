/* Conditional branches (taken and not taken), JAL and JALR. */
#include "test.h"

/* case n: `br a1, a2` with a1 = x, a2 = y; taken must equal `t` (0/1) */
.macro T_BR n, br, x, y, t
    li gp, \n
    li a1, \x
    li a2, \y
    li a0, 0
    \br a1, a2, 1f
    j 2f
1:  li a0, 1
2:  li t6, \t
    bne a0, t6, fail
.endm

    TEST_START
    T_BR 1, beq, 5, 5, 1
    T_BR 2, beq, 5, 6, 0
    T_BR 3, bne, 5, 6, 1
    T_BR 4, bne, -1, -1, 0
    T_BR 5, blt, -1, 0, 1
    T_BR 6, blt, 0, -1, 0
    T_BR 7, blt, 3, 3, 0
    T_BR 8, bge, 3, 3, 1
    T_BR 9, bge, -2, -1, 0
    T_BR 10, bge, 0x7fffffffffffffff, 0x8000000000000000, 1
    T_BR 11, bltu, 0, -1, 1
    T_BR 12, bltu, -1, 0, 0
    T_BR 13, bgeu, -1, 0, 1
    T_BR 14, bgeu, 0, 1, 0
    T_BR 15, bgeu, 7, 7, 1
    /* backward branch loop: sum 1..10 */
    li gp, 16
    li t0, 10
    li a0, 0
3:  add a0, a0, t0
    addi t0, t0, -1
    bnez t0, 3b
    CHECK 17, a0, 55
    /* JAL links pc+4 */
    li gp, 18
    jal ra, 4f
5:  j fail
4:  la t0, 5b
    bne ra, t0, fail
    /* JALR: target = (rs1 + imm) with bit 0 cleared, link = pc + 4 */
    li gp, 19
    la t0, 6f
    addi t0, t0, -7
    jalr s1, 8(t0)             /* lands on 6f + 1 & ~1 = 6f */
7:  j fail
6:  la t1, 7b
    bne s1, t1, fail
    /* JALR with rd == rs1 uses the old rs1 */
    li gp, 20
    la t0, 8f
    jalr t0, 0(t0)
9:  j fail
8:  la t1, 9b
    bne t0, t1, fail
    /* JAL with rd = x0 is a plain jump */
    li gp, 21
    j 10f
    j fail
10: bnez x0, fail
    TEST_PASS
