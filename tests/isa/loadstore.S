/* Loads and stores of every width: sign/zero extension, offsets, byte lanes. */
#include "test.h"
    TEST_START
    la s0, buf
    /* loads from a known pattern */
    ld a0, 0(s0)
    CHECK 1, a0, 0x8877665544332211
    lb a0, 7(s0)
    CHECK 2, a0, 0xffffffffffffff88
    lbu a0, 7(s0)
    CHECK 3, a0, 0x88
    lb a0, 3(s0)
    CHECK 4, a0, 0x44
    lh a0, 6(s0)
    CHECK 5, a0, 0xffffffffffff8877
    lhu a0, 6(s0)
    CHECK 6, a0, 0x8877
    lw a0, 4(s0)
    CHECK 7, a0, 0xffffffff88776655
    lwu a0, 4(s0)
    CHECK 8, a0, 0x88776655
    lw a0, 0(s0)
    CHECK 9, a0, 0x44332211
    lh a0, 2(s0)
    CHECK 10, a0, 0x4433
    addi s1, s0, 16
    ld a0, -8(s1)               /* negative offset */
    CHECK 11, a0, 0x0123456789abcdef
    /* stores of each width only change their bytes */
    addi s2, s0, 64
    li t0, -1
    sd t0, 0(s2)
    li t1, 0x5a
    sb t1, 3(s2)
    ld a0, 0(s2)
    CHECK 12, a0, 0xffffffff5affffff
    li t1, 0x1234
    sh t1, 6(s2)
    ld a0, 0(s2)
    CHECK 13, a0, 0x1234ffff5affffff
    li t1, 0xcafef00d
    sw t1, 0(s2)
    ld a0, 0(s2)
    CHECK 14, a0, 0x1234ffffcafef00d
    li t1, 0x1122334455667788
    sd t1, 8(s2)
    ld a0, 8(s2)
    CHECK 15, a0, 0x1122334455667788
    ld a0, 0(s2)
    CHECK 16, a0, 0x1234ffffcafef00d   /* neighbour untouched */
    /* store then load every byte position */
    li gp, 17
    li t0, 0
    addi s3, s0, 128
1:  add t1, s3, t0
    addi t2, t0, 0x40
    sb t2, 0(t1)
    addi t0, t0, 1
    li t3, 8
    blt t0, t3, 1b
    ld a0, 0(s3)
    CHECK 18, a0, 0x4746454443424140
    lhu a0, 2(s3)
    CHECK 19, a0, 0x4342
    /* loading into x0 has no effect */
    li gp, 20
    ld x0, 0(s0)
    bnez x0, fail
    TEST_PASS

    .data
    .align 3
buf:
    .dword 0x8877665544332211
    .dword 0x0123456789abcdef
    .fill 32, 8, 0
