/* The 32-bit (W) instructions of RV64I: results are sign-extended words. */
#include "test.h"
    TEST_START
    T_RR 1, addw, 0xffffffff80000000, 0x7fffffff, 1
    T_RR 2, addw, 0, 0xffffffff, 1
    T_RR 3, addw, 2, 0x1234567800000001, 0x1
    T_RR 4, subw, 0x7fffffff, 0x80000000, 1
    T_RR 5, subw, -1, 0, 1
    T_RR 6, sllw, 0xffffffff80000000, 1, 31
    T_RR 7, sllw, 2, 1, 33                      /* 5-bit amount */
    T_RR 8, srlw, 1, 0x80000000, 31
    T_RR 9, srlw, 0x7fffffff, 0xffffffffffffffff, 1
    T_RR 10, sraw, -1, 0x80000000, 31
    T_RR 11, sraw, 0xfffffffff8000000, 0x80000000, 4
    T_RR 12, sraw, 0x00000000, 0xffffffff00000000, 8   /* upper half ignored */
    T_RI 13, addiw, 0xffffffff80000000, 0x7fffffff, 1
    T_RI 14, addiw, 0x7fffffff, 0xffffffff80000000, -1
    T_RI 15, addiw, 0x12345678, 0xabcdef0012345678, 0  /* sext.w */
    T_RI 16, slliw, 0xffffffff80000000, 1, 31
    T_RI 17, slliw, 0, 0x100000000, 0
    T_RI 18, srliw, 0x7fffffff, -1, 1
    T_RI 19, srliw, 1, 0x80000000, 31
    T_RI 20, sraiw, 0xfffffffff0000000, 0x80000000, 3
    T_RI 21, sraiw, 0xffffffff80000000, 0x80000000, 0
    TEST_PASS
