# swtch(struct context *from, struct context *to)
#
# Switch kernel threads.  A C caller expects only ra, sp and s0..s11 to
# survive a call, so those are all a thread needs kept: they go to *from,
# the ones in *to are loaded, and `ret` resumes the other thread where it
# once called swtch.

# CTX_RA, CTX_SP, CTX_S0..CTX_S11: generated from struct context (proc.h).
#include "asm_offsets.h"

.if CTX_NS != 12
.error "struct context must hold s0..s11"
.endif

.macro each_s op, base
        .irp    n, 0,1,2,3,4,5,6,7,8,9,10,11
        \op     s\n, CTX_S\n(\base)
        .endr
.endm

        .text
        .globl swtch
        .balign 4
swtch:
        sd      ra, CTX_RA(a0)
        sd      sp, CTX_SP(a0)
        each_s  sd, a0

        ld      ra, CTX_RA(a1)
        ld      sp, CTX_SP(a1)
        each_s  ld, a1
        ret
