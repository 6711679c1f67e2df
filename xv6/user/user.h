// What a user program can call: the system calls (stubs generated into
// usys.S from kernel/syscall.h by gen_usys.py) and the small C library in
// ulib.c, printf.c and umalloc.c.
//
// Programs include kernel/types.h (and kernel/stat.h when they use
// struct stat) before this file, as xv6 programs do.
#ifndef XV6_USER_H
#define XV6_USER_H

struct stat;

// ---- System calls (numbers in kernel/syscall.h) ---------------------
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
// Calls added by later issues are declared below this line.

// Shared memory (assignment 3).  map_shared_pages() maps the caller's pages
// that hold [addr, addr+size) into process pid, above its memory, and
// returns where addr landed there (same offset in the page), or (void*)-1.
// The caller can only share its own memory.  unmap_shared_pages() removes a
// region that was mapped into the caller, as a whole: 0, or -1 for a range
// that is not exactly one shared region.
void* map_shared_pages(int pid, void *addr, uint64 size);
int unmap_shared_pages(void *addr, uint64 size);

// The crypto service (kernel/crypto.h).  crypto_op() queues a request the
// caller built in its memory (size bytes, header included); the server
// (pid 2) takes requests with take_shared_memory_request() and lets them go
// with remove_shared_memory_request().  All return 0 or -1.
struct crypto_op;
int crypto_op(struct crypto_op *op, uint64 size);
int take_shared_memory_request(void **addr, uint64 *size);
int remove_shared_memory_request(void *addr, uint64 size);

// Free physical pages in the kernel, for leak checks.
int freepages(void);

// ---- Library: ulib.c -------------------------------------------------
int stat(const char*, struct stat*);
char* strcpy(char*, const char*);
void *memmove(void*, const void*, int);
char* strchr(const char*, char c);
int strcmp(const char*, const char*);
char* gets(char*, int max);
uint strlen(const char*);
void* memset(void*, int, uint);
int atoi(const char*);
int memcmp(const void *, const void *, uint);
void *memcpy(void *, const void *, uint);

// ---- Library: printf.c -----------------------------------------------
void fprintf(int, const char*, ...) __attribute__((format(printf, 2, 3)));
void printf(const char*, ...) __attribute__((format(printf, 1, 2)));

// ---- Library: umalloc.c ----------------------------------------------
void* malloc(uint);
void free(void*);

#endif
