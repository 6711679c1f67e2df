# The first user programs, copied by userinit() into a fresh address space
# at virtual address 0.  Each one execs a program and exits if that fails:
#   initcode   exec("/init", {"/init", 0})          -> process 1
#   srvcode    exec("/crypto_srv", {"/crypto_srv", 0}) -> process 2
# They live in .rodata: the kernel never executes them itself.
# Addresses are PC-relative or blob-relative, so the code works at VA 0.

#include "kernel/syscall.h"

        .option norelax

        .macro  launcher name, path
        .balign 8
        .globl  \name\()_begin
        .globl  \name\()_end
\name\()_begin:
        lla     a0, 1f                  # path
        lla     a1, 2f                  # argv
        li      a7, SYS_exec
        ecall
        li      a0, 1                   # exec failed
        li      a7, SYS_exit
        ecall
3:      j       3b
1:      .asciz  "\path"
        .balign 8
2:      .dword  1b - \name\()_begin     # argv[0] = path (blob offset = VA)
        .dword  0
\name\()_end:
        .endm

        .section .rodata
        launcher initcode, "/init"
        launcher srvcode, "/crypto_srv"
