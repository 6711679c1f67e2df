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
struct trapframe;

// ---- Boot and devices -------------------------------------------------
// console.c: the console device on top of the UART, with line editing.
void            console_init(void);
void            console_input(int c);     // a character arrived
void            console_putc(int c);      // print one character (kernel)

// uart.c: 16550 driver.
void            uart_init(void);
void            uart_interrupt(void);
void            uart_write(const char *s, int n);  // queue, sleeping if full
void            uart_put_now(int c);      // spin until sent (printf, echo)

// printf.c
int             printf(char *fmt, ...) __attribute__((format(printf, 1, 2)));
void            panic(char *s) __attribute__((noreturn));

// plic.c: device interrupts.
void            plic_init(void);
void            plic_dispatch(void);      // serve the source that interrupted

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
void            kvm_build(void);         // the kernel's page table
void            kvm_enable(void);        // paging on, with that table
void            kvmmap(pagetable_t kpt, uint64 va, uint64 pa, uint64 sz, int perm);
pte_t*          walk(pagetable_t pt, uint64 va, int alloc);
uint64          walkaddr(pagetable_t pt, uint64 va);
int             mappages(pagetable_t pt, uint64 va, uint64 size, uint64 pa, int perm);
pagetable_t     pagetable_alloc(void);   // empty; 0 if out of memory
uint64          uvmalloc(pagetable_t pt, uint64 oldsz, uint64 newsz, int xperm);
uint64          uvmdealloc(pagetable_t pt, uint64 oldsz, uint64 newsz);
int             uvmcopy(pagetable_t old, pagetable_t new, uint64 sz);
void            uvmfree(pagetable_t pt, uint64 sz);
void            uvmunmap(pagetable_t pt, uint64 va, uint64 npages, int do_free);
void            uvmclear(pagetable_t pt, uint64 va);
int             copyout(pagetable_t pt, uint64 dstva, char *src, uint64 len);
int             copyin(pagetable_t pt, char *dst, uint64 srcva, uint64 len);
int             copyinstr(pagetable_t pt, char *dst, uint64 srcva, uint64 max);
int             copyto(int to_user, uint64 dst, const void *src, uint64 len);
int             copyfrom(void *dst, int from_user, uint64 src, uint64 len);

// ---- Processes ----------------------------------------------------------
// proc.c: the process table, fork/exit/wait/kill.
void            map_kernel_stacks(pagetable_t kpt);
void            start_first_processes(void);   // /init and /crypto_srv
struct proc*    myproc(void);
int             fork(void);
void            exit(int status) __attribute__((noreturn));
int             wait(uint64 status_addr);
int             kill(int pid);
void            mark_killed(struct proc *p);
struct proc*    lock_process(int pid);         // any state but FREE, locked; or 0
pagetable_t     user_pagetable_new(struct proc *p);
void            user_pagetable_free(pagetable_t pt, uint64 sz);
void            print_processes(void);

// sched.c: the scheduler, leaving the CPU, sleep and wakeup.
void            scheduler(void) __attribute__((noreturn));
void            yield(void);
void            sleep(void *chan, struct spinlock *lk);
void            wakeup(void *chan);

// swtch.S
void            swtch(struct context *old, struct context *new);

// exec.c
int             exec(char *path, char **argv);

// ---- Traps and system calls ---------------------------------------------
// trap.c: into the kernel and back out.
void            trap_init(void);
void            trap_from_user(void);
void            trap_from_kernel(void);
void            return_to_user(void);
void            trapframe_init(struct trapframe *tf, uint64 kstack_top);

// clock.c: timer interrupts, counted as ticks.
#define TIMER_PERIOD 100000               // `time` units (10 ms on QEMU's 10 MHz)
void            clock_interrupt(void);
uint            ticks_now(void);
int             sleep_ticks(uint n);

// syscall.c: the system call table; its handlers get their arguments
// checked and converted by kind.
struct sysarg {
  uint64 val;          // the register as passed (addresses, sizes)
  int num;             // ... as an int (ints, counts, descriptors)
  struct file *file;   // a descriptor: its open file
  char *path;          // a path: copied into the kernel
};
void            syscall(void);
int             caller_word(uint64 addr, uint64 *word);
int             caller_string(uint64 addr, char *buf, int max);

// ---- Locks --------------------------------------------------------------
// spinlock.c
void            initlock(struct spinlock *lk, const char *name);
void            acquire(struct spinlock *lk);
void            release(struct spinlock *lk);
int             holding(struct spinlock *lk);
void            intr_push(void);          // interrupts off, nestable
void            intr_pop(void);           // undo one intr_push()

// sleeplock.c (a zero-filled sleeplock is free)
void            sleeplock_acquire(struct sleeplock *lk);
void            sleeplock_release(struct sleeplock *lk);
int             sleeplock_held(struct sleeplock *lk);

// ---- Storage ------------------------------------------------------------
// bio.c: the block cache.
struct buf*     bread(uint dev, uint blockno);
struct buf*     bfill(uint dev, uint blockno, const void *src);  // 0: zeros
void            bwrite(struct buf *b);
void            brelse(struct buf *b);
void            bhold(struct buf *b);
void            bunhold(struct buf *b);

// log.c: write-ahead log.
void            log_init(uint dev, struct superblock *sb);
void            log_write(struct buf *b);
void            log_begin(void);         // a file system operation starts
void            log_end(void);           // ... and ends

// fs.c: mounting, and the free-block bitmap.
extern struct superblock superblock;
void            fs_mount(uint dev);        // in process context: reads the disk
uint            block_alloc(uint dev);     // zero-filled; 0 if the disk is full
void            block_free(uint dev, uint bno);

// inode.c: inodes in memory, and their data.
struct inode*   inode_get(uint dev, uint inum);
struct inode*   inode_dup(struct inode *ip);
void            inode_put(struct inode *ip);
void            inode_lock(struct inode *ip);
void            inode_unlock(struct inode *ip);
void            inode_unlock_put(struct inode *ip);
struct inode*   inode_alloc(uint dev, short type);
void            inode_update(struct inode *ip);
void            inode_truncate(struct inode *ip);
void            inode_stat(struct inode *ip, struct stat *st);
uint            inode_block(struct inode *ip, uint idx);
int             inode_read(struct inode *ip, int user_dst, uint64 dst, uint off, uint n);
int             inode_write(struct inode *ip, int user_src, uint64 src, uint off, uint n);

// dir.c: directories and path names.
int             same_name(const char *a, const char *b);
struct inode*   dir_lookup(struct inode *dp, char *name, uint *off);
int             dir_link(struct inode *dp, char *name, uint inum);
int             dir_has_entries(struct inode *dp);
struct inode*   lookup_path(char *path);
struct inode*   lookup_parent(char *path, char *name);

// file.c: open files and descriptor tables.
struct file*    file_dup(struct file *f);
void            file_close(struct file *f);
int             file_read(struct file *f, uint64 dst, int n);
int             file_write(struct file *f, uint64 src, int n);
int             file_stat(struct file *f, uint64 dst);
void            file_open_inode(struct file *f, struct inode *ip, int readable, int writable);
int             fd_new(struct file **fp);       // new open file + descriptor
int             fd_install(struct file *f);     // in the calling process
struct file*    fd_lookup(int fd);
void            fd_close(int fd);
void            fd_table_copy(struct proc *from, struct proc *to);
void            fd_table_close(struct proc *p);

// pipe.c
int             pipe_open(struct file *rd, struct file *wr);

// ---- Shared memory and the crypto service (assignment 3) -----------------
// shmem.c
uint64          map_shared_pages(struct proc *src_proc, struct proc *dst_proc,
                                 uint64 src_va, uint64 size);
uint64          unmap_shared_pages(struct proc *p, uint64 addr, uint64 size);
// the process pid if alive (neither NEW nor ZOMBIE), locked; or 0.
struct proc*    proc_lock_live(int pid);
int             proc_is_live(struct proc *p);
uint64          unmap_own_shared(uint64 addr, uint64 size);
int             shm_overlaps(struct proc *p, uint64 lo, uint64 hi);

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
