// Kernel-wide function declarations, grouped by the file that defines them.
#ifndef XV6_DEFS_H
#define XV6_DEFS_H

#include "kernel/types.h"
#include "kernel/riscv.h"

struct buf;
struct context;
struct file;
struct inode;
struct pipe;
struct proc;
struct spinlock;
struct sleeplock;
struct stat;
struct superblock;

// ---- Boot and devices -------------------------------------------------
// console.c: the console device on top of the UART, with line editing.
void            consoleinit(void);
void            consoleintr(int c);       // a character arrived
void            consputc(int c);          // print one character (kernel)

// uart.c: 16550 driver.
void            uartinit(void);
void            uartintr(void);
void            uartputc(int c);          // queue a byte, sleeping if full
void            uartputc_sync(int c);     // spin until sent (printf, echo)
int             uartgetc(void);           // -1 if none waiting

// printf.c
int             printf(char *fmt, ...) __attribute__((format(printf, 1, 2)));
void            panic(char *s) __attribute__((noreturn));
void            printfinit(void);

// plic.c
void            plicinit(void);
void            plicinithart(void);
int             plic_claim(void);
void            plic_complete(int irq);

// virtio_disk.c
void            virtio_disk_init(void);
void            virtio_disk_rw(struct buf *b, int write);
void            virtio_disk_intr(void);

// ---- Memory -------------------------------------------------------------
// kalloc.c: physical pages.
void            kinit(void);
void*           kalloc(void);            // one zero-filled 4096-byte page, or 0
void            kfree(void *pa);
uint64          kfreepages(void);        // pages on the free list
void            kref_get(void *pa);      // one more reference to an allocated page
void            kalloc_selftest(void);   // boot-time check, panics on failure

// vm.c: page tables.
void            kvminit(void);
void            kvminithart(void);
void            kvmmap(pagetable_t kpt, uint64 va, uint64 pa, uint64 sz, int perm);
pte_t*          walk(pagetable_t pt, uint64 va, int alloc);
uint64          walkaddr(pagetable_t pt, uint64 va);
int             mappages(pagetable_t pt, uint64 va, uint64 size, uint64 pa, int perm);
pagetable_t     uvmcreate(void);
uint64          uvmalloc(pagetable_t pt, uint64 oldsz, uint64 newsz, int xperm);
uint64          uvmdealloc(pagetable_t pt, uint64 oldsz, uint64 newsz);
int             uvmcopy(pagetable_t old, pagetable_t new, uint64 sz);
void            uvmfree(pagetable_t pt, uint64 sz);
void            uvmunmap(pagetable_t pt, uint64 va, uint64 npages, int do_free);
void            uvmclear(pagetable_t pt, uint64 va);
int             copyout(pagetable_t pt, uint64 dstva, char *src, uint64 len);
int             copyin(pagetable_t pt, char *dst, uint64 srcva, uint64 len);
int             copyinstr(pagetable_t pt, char *dst, uint64 srcva, uint64 max);

// ---- Processes ----------------------------------------------------------
// proc.c
void            procinit(void);
void            userinit(void);
struct proc*    myproc(void);
int             fork(void);
void            exit(int status) __attribute__((noreturn));
int             wait(uint64 addr);
int             kill(int pid);
struct proc*    proc_lock_pid(int pid);   // live process, locked; or 0
int             killed(struct proc *p);
void            setkilled(struct proc *p);
int             growproc(int n);
void            proc_mapstacks(pagetable_t kpt);
pagetable_t     proc_pagetable(struct proc *p);
void            proc_freepagetable(pagetable_t pt, uint64 sz);
void            scheduler(void) __attribute__((noreturn));
void            sched(void);
void            yield(void);
void            sleep(void *chan, struct spinlock *lk);
void            wakeup(void *chan);
int             either_copyout(int user_dst, uint64 dst, void *src, uint64 len);
int             either_copyin(void *dst, int user_src, uint64 src, uint64 len);
void            procdump(void);

// swtch.S
void            swtch(struct context *old, struct context *new);

// exec.c
int             exec(char *path, char **argv);

// ---- Traps and system calls ---------------------------------------------
// trap.c
extern uint     ticks;
extern struct spinlock tickslock;
void            trapinit(void);
void            trapinithart(void);
void            usertrapret(void);

// syscall.c: fetching system call arguments.
void            argint(int n, int *ip);
void            argaddr(int n, uint64 *ip);
int             argstr(int n, char *buf, int max);
int             fetchaddr(uint64 addr, uint64 *ip);
int             fetchstr(uint64 addr, char *buf, int max);
void            syscall(void);

// ---- Locks --------------------------------------------------------------
// spinlock.c
void            initlock(struct spinlock *lk, char *name);
void            acquire(struct spinlock *lk);
void            release(struct spinlock *lk);
int             holding(struct spinlock *lk);
void            push_off(void);
void            pop_off(void);

// sleeplock.c
void            initsleeplock(struct sleeplock *lk, char *name);
void            acquiresleep(struct sleeplock *lk);
void            releasesleep(struct sleeplock *lk);
int             holdingsleep(struct sleeplock *lk);

// ---- Storage ------------------------------------------------------------
// bio.c: the block cache.
void            binit(void);
struct buf*     bread(uint dev, uint blockno);
void            brelse(struct buf *b);
void            bwrite(struct buf *b);
void            bpin(struct buf *b);
void            bunpin(struct buf *b);

// log.c: write-ahead log.
void            initlog(int dev, struct superblock *sb);
void            log_write(struct buf *b);
void            begin_op(void);
void            end_op(void);

// fs.c: inodes, directories and path names.
void            fsinit(int dev);
int             dirlink(struct inode *dp, char *name, uint inum);
struct inode*   dirlookup(struct inode *dp, char *name, uint *poff);
struct inode*   ialloc(uint dev, short type);
struct inode*   idup(struct inode *ip);
void            iinit(void);
void            ilock(struct inode *ip);
void            iput(struct inode *ip);
void            iunlock(struct inode *ip);
void            iunlockput(struct inode *ip);
void            iupdate(struct inode *ip);
int             namecmp(const char *s, const char *t);
struct inode*   namei(char *path);
struct inode*   nameiparent(char *path, char *name);
int             readi(struct inode *ip, int user_dst, uint64 dst, uint off, uint n);
void            stati(struct inode *ip, struct stat *st);
int             writei(struct inode *ip, int user_src, uint64 src, uint off, uint n);
void            itrunc(struct inode *ip);

// file.c: open files.
struct file*    filealloc(void);
void            fileclose(struct file *f);
struct file*    filedup(struct file *f);
void            fileinit(void);
int             fileread(struct file *f, uint64 addr, int n);
int             filestat(struct file *f, uint64 addr);
int             filewrite(struct file *f, uint64 addr, int n);

// pipe.c
int             pipealloc(struct file **f0, struct file **f1);
void            pipeclose(struct pipe *pi, int writable);
int             piperead(struct pipe *pi, uint64 addr, int n);
int             pipewrite(struct pipe *pi, uint64 addr, int n);

// ---- Shared memory and the crypto service (assignment 3) -----------------
// shmem.c
uint64          map_shared_pages(struct proc *src_proc, struct proc *dst_proc,
                                 uint64 src_va, uint64 size);
uint64          unmap_shared_pages(struct proc *p, uint64 addr, uint64 size);

// crypto.c
void            cryptoinit(void);

// shmem.c: the process pid if alive (not USED or ZOMBIE), locked; or 0.
struct proc*    proc_lock_live(int pid);
int             proc_is_live(struct proc *p);
uint64          unmap_own_shared(uint64 addr, uint64 size);
int             shm_overlaps(struct proc *p, uint64 lo, uint64 hi);
uint64          sys_unmap_shared_pages(void);

// ---- Library --------------------------------------------------------------
// string.c
int             memcmp(const void *a, const void *b, uint n);
void*           memmove(void *dst, const void *src, uint n);
void*           memset(void *dst, int c, uint n);
void*           memcpy(void *dst, const void *src, uint n);
char*           safestrcpy(char *dst, const char *src, int n);
int             strlen(const char *s);
int             strncmp(const char *a, const char *b, uint n);
char*           strncpy(char *dst, const char *src, int n);

// Number of elements in a fixed-size array.
#define NELEM(x) (sizeof(x)/sizeof((x)[0]))

#endif
