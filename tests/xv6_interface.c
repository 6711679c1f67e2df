// xv6-riscv's user-level interface, as /work/shared/spec/facts.md section 4
// states it: every declaration of its user/user.h with its exact signature,
// the constants of the headers programs include, and the layout of struct
// stat.  Compiled against our headers by tests/test_xv6_compat.py: a
// declaration that differs from ours is a "conflicting types" error, a
// constant that differs fails a static assertion.
#include "kernel/param.h"
#include "kernel/types.h"
#include "kernel/stat.h"
#include "user/user.h"
#include "kernel/fs.h"
#include "kernel/fcntl.h"
#include "kernel/syscall.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"

// System calls.
int fork(void);
int exit(int) __attribute__((noreturn));
int wait(int*);
int pipe(int*);
int write(int, const void*, int);
int read(int, void*, int);
int close(int);
int kill(int);
int exec(const char*, char**);
int open(const char*, int);
int mknod(const char*, short, short);
int unlink(const char*);
int fstat(int fd, struct stat*);
int link(const char*, const char*);
int mkdir(const char*);
int chdir(const char*);
int dup(int);
int getpid(void);
char* sbrk(int);
int sleep(int);
int uptime(void);

// The library.
int stat(const char*, struct stat*);
char* strcpy(char*, const char*);
void *memmove(void*, const void*, int);
char* strchr(const char*, char c);
int strcmp(const char*, const char*);
void fprintf(int, const char*, ...);
void printf(const char*, ...);
char* gets(char*, int max);
uint strlen(const char*);
void* memset(void*, int, uint);
void* malloc(uint);
void free(void*);
int atoi(const char*);
int memcmp(const void *, const void *, uint);
void *memcpy(void *, const void *, uint);

// kernel/types.h
_Static_assert(sizeof(uint) == 4 && sizeof(ushort) == 2 && sizeof(uchar) == 1, "types");
_Static_assert(sizeof(uint8) == 1 && sizeof(uint16) == 2, "types");
_Static_assert(sizeof(uint32) == 4 && sizeof(uint64) == 8 && sizeof(pde_t) == 8, "types");
_Static_assert((uint)-1 > 0 && (uint64)-1 > 0, "unsigned types");

// kernel/stat.h
_Static_assert(T_DIR == 1 && T_FILE == 2 && T_DEVICE == 3, "T_*");
_Static_assert(__builtin_offsetof(struct stat, dev) == 0, "stat.dev");
_Static_assert(__builtin_offsetof(struct stat, ino) == 4, "stat.ino");
_Static_assert(__builtin_offsetof(struct stat, type) == 8, "stat.type");
_Static_assert(__builtin_offsetof(struct stat, nlink) == 10, "stat.nlink");
_Static_assert(__builtin_offsetof(struct stat, size) == 16, "stat.size");
_Static_assert(sizeof(struct stat) == 24, "sizeof(struct stat)");

// kernel/fcntl.h
_Static_assert(O_RDONLY == 0x000 && O_WRONLY == 0x001 && O_RDWR == 0x002, "O_*");
_Static_assert(O_CREATE == 0x200 && O_TRUNC == 0x400, "O_CREATE, O_TRUNC");

// kernel/param.h: the names exist; the values xv6 programs depend on.
_Static_assert(NPROC > 0 && NCPU > 0 && NFILE > 0 && NINODE > 0 && NDEV > 0, "param.h");
_Static_assert(ROOTDEV >= 0 && LOGSIZE > 0 && NBUF > 0 && FSSIZE > 0, "param.h");
_Static_assert(NOFILE == 16 && MAXARG == 32 && MAXOPBLOCKS == 10, "param.h");
_Static_assert(MAXPATH == 128 && USERSTACK >= 1, "param.h");

// kernel/fs.h
_Static_assert(BSIZE == 1024 && ROOTINO == 1 && FSMAGIC == 0x10203040, "fs.h");
_Static_assert(NDIRECT == 12 && NINDIRECT == BSIZE / 4, "fs.h");
_Static_assert(MAXFILE == NDIRECT + NINDIRECT && DIRSIZ == 14, "fs.h");
_Static_assert(sizeof(struct superblock) == 32, "superblock");
_Static_assert(sizeof(struct dinode) == 64, "dinode");
_Static_assert(sizeof(struct dirent) == 16, "dirent");

// kernel/syscall.h
_Static_assert(SYS_fork == 1 && SYS_exit == 2 && SYS_wait == 3 && SYS_pipe == 4, "SYS_*");
_Static_assert(SYS_read == 5 && SYS_kill == 6 && SYS_exec == 7 && SYS_fstat == 8, "SYS_*");
_Static_assert(SYS_chdir == 9 && SYS_dup == 10 && SYS_getpid == 11, "SYS_*");
_Static_assert(SYS_sbrk == 12 && SYS_sleep == 13 && SYS_uptime == 14, "SYS_*");
_Static_assert(SYS_open == 15 && SYS_write == 16 && SYS_mknod == 17, "SYS_*");
_Static_assert(SYS_unlink == 18 && SYS_link == 19 && SYS_mkdir == 20, "SYS_*");
_Static_assert(SYS_close == 21, "SYS_*");

// kernel/riscv.h
_Static_assert(PGSIZE == 4096 && PGSHIFT == 12, "page size");
_Static_assert(PGROUNDUP(1) == 4096 && PGROUNDDOWN(4097) == 4096, "PGROUND*");
_Static_assert(PTE_V == 1 && PTE_R == 2 && PTE_W == 4 && PTE_X == 8 && PTE_U == 16, "PTE_*");
_Static_assert(PA2PTE(0x80001000UL) == (0x80001UL << 10), "PA2PTE");
_Static_assert(PTE2PA(0x80001UL << 10 | PTE_V) == 0x80001000UL, "PTE2PA");
_Static_assert(PTE_FLAGS(0x12345UL) == 0x345, "PTE_FLAGS");
_Static_assert(PX(2, 0x40000000UL) == 1 && PX(0, 0x3000) == 3, "PX");
_Static_assert(MAXVA == (1L << 38), "MAXVA");

// kernel/memlayout.h
_Static_assert(UART0 == 0x10000000L && UART0_IRQ == 10, "UART0");
_Static_assert(VIRTIO0 == 0x10001000L && VIRTIO0_IRQ == 1, "VIRTIO0");
_Static_assert(PLIC == 0x0c000000L && KERNBASE == 0x80000000L, "PLIC, KERNBASE");
_Static_assert(PHYSTOP > KERNBASE, "PHYSTOP");
_Static_assert(TRAMPOLINE == MAXVA - PGSIZE && TRAPFRAME == TRAMPOLINE - PGSIZE, "TRAMPOLINE");
