# swtch(struct context *from, struct context *to)
#
# Kernel thread switch.  Only the registers a C callee must preserve need
# saving: s0..s11, sp, and ra (where the thread resumes).  They go to *from;
# the ones in *to are loaded and `ret` continues that thread where it once
# called swtch.  struct context (proc.h): ra at 0, sp at 8, s0..s11 at 16..104.

        .text
        .globl swtch
        .balign 4
swtch:
        # save the outgoing thread
        sd      s0,  16(a0)
        sd      s1,  24(a0)
        sd      s2,  32(a0)
        sd      s3,  40(a0)
        sd      s4,  48(a0)
        sd      s5,  56(a0)
        sd      s6,  64(a0)
        sd      s7,  72(a0)
        sd      s8,  80(a0)
        sd      s9,  88(a0)
        sd      s10, 96(a0)
        sd      s11, 104(a0)
        sd      sp,   8(a0)
        sd      ra,   0(a0)

        # resume the incoming one
        ld      ra,   0(a1)
        ld      sp,   8(a1)
        ld      s11, 104(a1)
        ld      s10, 96(a1)
        ld      s9,  88(a1)
        ld      s8,  80(a1)
        ld      s7,  72(a1)
        ld      s6,  64(a1)
        ld      s5,  56(a1)
        ld      s4,  48(a1)
        ld      s3,  40(a1)
        ld      s2,  32(a1)
        ld      s1,  24(a1)
        ld      s0,  16(a1)
        ret
