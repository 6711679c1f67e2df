// exec(): replace the calling process's memory with a program loaded from
// an ELF file, and the exec system call.
//
// The ELF file is checked before anything is trusted: magic, 64-bit
// little-endian RISC-V, program header table and every loadable segment
// inside the file, sizes that do not overflow, page-aligned segment
// addresses and everything below TRAPFRAME.  Any failure frees what was
// built and returns -1 with the old image untouched.
//
// New user memory:  segments | guard page | USERSTACK stack pages | (heap)

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"
#include "kernel/sleeplock.h"
#include "kernel/inode.h"

// The parts of the ELF64 format we read.
#define ELF_MAGIC     0x464C457FU   // "\x7fELF" as a little-endian word
#define ELF_CLASS64   2
#define ELF_DATA_LE   1
#define ELF_MACHINE_RISCV 243
#define SEG_LOAD      1
#define SEG_FLAG_X    1
#define SEG_FLAG_W    2

struct elf_file_header {
  uint32 magic;
  uchar  class;
  uchar  data;
  uchar  ident_rest[10];
  uint16 type;
  uint16 machine;
  uint32 version;
  uint64 entry;
  uint64 phoff;
  uint64 shoff;
  uint32 flags;
  uint16 ehsize;
  uint16 phentsize;
  uint16 phnum;
  uint16 shentsize;
  uint16 shnum;
  uint16 shstrndx;
};

struct elf_segment {
  uint32 type;
  uint32 flags;
  uint64 offset;
  uint64 vaddr;
  uint64 paddr;
  uint64 filesz;
  uint64 memsz;
  uint64 align;
};

_Static_assert(sizeof(struct elf_file_header) == 64, "ELF header size");
_Static_assert(sizeof(struct elf_segment) == 56, "ELF program header size");

// Does [off, off+len) lie within a file of `size` bytes?
static int
within(uint64 off, uint64 len, uint64 size)
{
  uint64 last = off + len;
  return last >= off && last <= size;
}

static int
segment_perm(uint32 flags)
{
  int perm = 0;
  if (flags & SEG_FLAG_X)
    perm |= PTE_X;
  if (flags & SEG_FLAG_W)
    perm |= PTE_W;
  return perm;
}

// Read len bytes of ip at off into user memory at va (already mapped).
static int
load_bytes(pagetable_t pt, uint64 va, struct inode *ip, uint64 off, uint64 len)
{
  uint64 done = 0;
  while (done < len) {
    uint64 pa = walkaddr(pt, va + done);
    if (pa == 0)
      return -1;
    uint64 in_page = PGSIZE - ((va + done) % PGSIZE);
    uint64 n = len - done < in_page ? len - done : in_page;
    pa += (va + done) % PGSIZE;
    if (inode_read(ip, 0, pa, off + done, n) != n)
      return -1;
    done += n;
  }
  return 0;
}

// Map and fill every loadable segment.  Returns the new size through *szp.
static int
load_segments(pagetable_t pt, struct inode *ip, struct elf_file_header *eh,
              uint64 *szp)
{
  uint64 sz = 0;
  for (int i = 0; i < eh->phnum; i++) {
    struct elf_segment seg;
    uint64 at = eh->phoff + (uint64)i * sizeof(seg);
    if (inode_read(ip, 0, (uint64)&seg, at, sizeof(seg)) != sizeof(seg))
      return -1;
    if (seg.type != SEG_LOAD)
      continue;
    if (seg.memsz < seg.filesz)
      return -1;
    if (seg.vaddr % PGSIZE != 0)
      return -1;
    if (!within(seg.vaddr, seg.memsz, TRAPFRAME))
      return -1;
    if (!within(seg.offset, seg.filesz, ip->size))
      return -1;
    uint64 top = seg.vaddr + seg.memsz;
    uint64 grown = uvmalloc(pt, sz, top, segment_perm(seg.flags));
    if (grown == 0 && top > sz)
      return -1;
    if (top > sz)
      sz = top;
    *szp = sz;   // the caller frees exactly what is mapped
    if (load_bytes(pt, seg.vaddr, ip, seg.offset, seg.filesz) < 0)
      return -1;
  }
  *szp = sz;
  return 0;
}

// Push the argument strings and the argv array onto the new stack.
// Returns argc and sets *spp, or -1.
static int
push_args(pagetable_t pt, uint64 *spp, uint64 floor, char **argv)
{
  uint64 sp = *spp;
  uint64 ptrs[MAXARG + 1];
  int argc = 0;
  for (; argv[argc]; argc++) {
    if (argc >= MAXARG)
      return -1;
    uint64 len = strlen(argv[argc]) + 1;
    if (sp < floor + len)
      return -1;
    sp = (sp - len) & ~15UL;   // RISC-V wants sp 16-byte aligned
    if (copyout(pt, sp, argv[argc], len) < 0)
      return -1;
    ptrs[argc] = sp;
  }
  ptrs[argc] = 0;

  uint64 table = (argc + 1) * sizeof(uint64);
  if (sp < floor + table)
    return -1;
  sp = (sp - table) & ~15UL;
  if (sp < floor || copyout(pt, sp, (char *)ptrs, table) < 0)
    return -1;
  *spp = sp;
  return argc;
}

int
exec(char *path, char **argv)
{
  struct proc *p = myproc();
  struct elf_file_header eh;
  pagetable_t pt = 0;
  uint64 sz = 0;
  struct inode *ip;

  log_begin();
  if ((ip = lookup_path(path)) == 0) {
    log_end();
    return -1;
  }
  inode_lock(ip);

  // Header checks.
  if (inode_read(ip, 0, (uint64)&eh, 0, sizeof(eh)) != sizeof(eh))
    goto bad;
  if (eh.magic != ELF_MAGIC || eh.class != ELF_CLASS64 ||
      eh.data != ELF_DATA_LE || eh.machine != ELF_MACHINE_RISCV)
    goto bad;
  if (eh.phentsize != sizeof(struct elf_segment))
    goto bad;
  if (!within(eh.phoff, (uint64)eh.phnum * sizeof(struct elf_segment), ip->size))
    goto bad;

  if ((pt = user_pagetable_new(p)) == 0)
    goto bad;
  if (load_segments(pt, ip, &eh, &sz) < 0)
    goto bad;
  inode_unlock_put(ip);
  log_end();
  ip = 0;

  // Guard page, then the stack, above the last segment.
  uint64 stack_lo = PGROUNDUP(sz) + PGSIZE;
  uint64 stack_hi = stack_lo + USERSTACK * PGSIZE;
  if (stack_hi > TRAPFRAME)
    goto bad;
  uint64 grown = uvmalloc(pt, PGROUNDUP(sz), stack_hi, PTE_W);
  if (grown == 0)
    goto bad;
  sz = stack_hi;
  uvmclear(pt, stack_lo - PGSIZE);

  uint64 sp = stack_hi;
  int argc = push_args(pt, &sp, stack_lo, argv);
  if (argc < 0)
    goto bad;

  // The program's name for ^P: the last path component.
  char *last = path;
  for (char *s = path; *s; s++) {
    if (*s == '/')
      last = s + 1;
  }
  safestrcpy(p->name, last, sizeof(p->name));

  // Commit: from here on nothing can fail.  The old image goes with its
  // shared regions.  p->lock, because others may map shared pages into p.
  acquire(&p->lock);
  pagetable_t old_pt = p->pagetable;
  uint64 old_sz = p->sz;
  p->pagetable = pt;
  p->sz = sz;
  memset(p->shm, 0, sizeof(p->shm));
  release(&p->lock);
  p->tf->user.pc = eh.entry;
  p->tf->user.sp = sp;
  p->tf->user.a1 = sp;     // argv
  user_pagetable_free(old_pt, old_sz);
  return argc;               // lands in a0

bad:
  if (pt)
    user_pagetable_free(pt, sz);
  if (ip) {
    inode_unlock_put(ip);
    log_end();
  }
  return -1;
}

// Release the argument copies made by fetch_argv.
static void
free_argv(char **args)
{
  for (int i = 0; args[i]; i++)
    kfree(args[i]);
}

// Copy the user's argv (a 0-terminated array of string pointers at uargv)
// into kernel pages, one page per string; args is always left
// 0-terminated.  0, or -1 for a bad pointer, an overlong string, more
// than MAXARG strings or no memory.
static int
fetch_argv(uint64 uargv, char **args)
{
  args[0] = 0;
  for (int i = 0; i <= MAXARG; i++) {
    uint64 ustr;
    if (caller_word(uargv + (uint64)i * sizeof(uint64), &ustr) < 0)
      return -1;
    if (ustr == 0)
      return 0;
    if (i == MAXARG)
      return -1;
    char *copy = kalloc();
    if (copy == 0)
      return -1;
    args[i] = copy;
    args[i + 1] = 0;
    if (caller_string(ustr, copy, PGSIZE) < 0)
      return -1;
  }
  return -1;
}

// exec(path, argv): argv is a user array of string pointers ending in 0.
uint64
sys_exec(struct sysarg *arg)
{
  char *args[MAXARG + 1];
  int ret = -1;
  if (fetch_argv(arg[1].val, args) == 0)
    ret = exec(arg[0].path, args);
  free_argv(args);
  return ret;
}
