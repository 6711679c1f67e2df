/* Self-modifying code: instructions written by stores run after fence.i,
 * both in a function that ran (and was cached) before and in the very next
 * instructions after the fence. */
#include "test.h"

#define ADDI_A3(imm) (((imm) << 20) | (13 << 7) | 0x13)    /* addi a3, x0, imm */

    TEST_START
    /* a function that ran before is rewritten */
    li gp, 1
    jal ra, patch
    CHECK 2, a3, 1
    la s0, patch
    li t0, ADDI_A3(2)
    sw t0, 0(s0)
    fence.i
    jal ra, patch
    CHECK 3, a3, 2

    /* twenty times in a loop: each round writes a new immediate */
    li gp, 4
    li t1, 20
1:  li t0, ADDI_A3(0)
    slli t2, t1, 20
    or t0, t0, t2
    sw t0, 0(s0)
    fence.i
    jal ra, patch
    bne a3, t1, fail
    addi t1, t1, -1
    bnez t1, 1b

    /* the instruction right after the fence is the one rewritten */
    li gp, 5
    la s1, next
    li t0, ADDI_A3(7)
    li a3, 0
    sw t0, 0(s1)
    fence.i
next:
    addi a3, x0, 5          /* replaced by addi a3, x0, 7 */
    CHECK 6, a3, 7

    TEST_PASS

patch:
    addi a3, x0, 1
    ret
