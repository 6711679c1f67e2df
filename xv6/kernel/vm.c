// Sv39 page tables: the kernel's own table and every user address space.
//
// In layers, each using the ones above it:
//   finding a PTE       walk() goes down the three levels of a table
//   mapping             ranges of pages in and out of a table
//   the kernel's table  built once at boot: devices, RAM, trampoline, stacks
//   user memory         address spaces that grow, shrink, fork and die
//   user access         copies between kernel buffers and user addresses,
//                       checked against the user's page table

#include "kernel/param.h"
#include "kernel/types.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

extern char etext[];       // end of kernel text (kernel.ld)
extern char trampoline[];  // trampoline.S

pagetable_t kernel_pagetable;

// ---- finding a PTE ---------------------------------------------------------

#define PTE_LEAF_BITS (PTE_R | PTE_W | PTE_X)

static int
pte_is_leaf(pte_t e)
{
  return (e & PTE_LEAF_BITS) != 0;
}

// A fresh, empty page table (kalloc zero-fills: every entry invalid); 0
// if out of memory.
pagetable_t
pagetable_alloc(void)
{
  return (pagetable_t)kalloc();
}

// Address of the level-0 PTE for va, creating missing intermediate tables
// when alloc is set.  0 if a table is missing (or cannot be allocated).
pte_t *
walk(pagetable_t pt, uint64 va, int alloc)
{
  if (va >= MAXVA)
    panic("walk: address beyond MAXVA");
  pagetable_t table = pt;
  for (int level = 2; level > 0; level--) {
    pte_t *slot = &table[PX(level, va)];
    if (*slot & PTE_V) {
      if (pte_is_leaf(*slot))
        panic("walk: unexpected superpage");
      table = (pagetable_t)PTE2PA(*slot);
      continue;
    }
    if (!alloc)
      return 0;
    pagetable_t next = pagetable_alloc();
    if (next == 0)
      return 0;
    *slot = PA2PTE(next) | PTE_V;
    table = next;
  }
  return &table[PX(0, va)];
}

// Physical address behind user address va, or 0 if not a valid user page.
uint64
walkaddr(pagetable_t pt, uint64 va)
{
  if (va >= MAXVA)
    return 0;
  pte_t *e = walk(pt, va, 0);
  if (e == 0 || (*e & PTE_V) == 0 || (*e & PTE_U) == 0)
    return 0;
  return PTE2PA(*e);
}

// Physical address behind va whatever its permissions; the mapping must
// exist.
static uint64
walkaddr_any(pagetable_t pt, uint64 va)
{
  pte_t *e = walk(pt, va, 0);
  if (e == 0 || (*e & PTE_V) == 0)
    panic("walkaddr_any: not mapped");
  return PTE2PA(*e);
}

// ---- mapping ---------------------------------------------------------------

// Map [va, va+size) to [pa, pa+size) with permissions perm.  va and size
// must be page aligned.  Returns 0, or -1 when a page-table page could not
// be allocated (mappings made so far stay; the caller cleans up).
int
mappages(pagetable_t pt, uint64 va, uint64 size, uint64 pa, int perm)
{
  if ((va % PGSIZE) != 0 || (size % PGSIZE) != 0)
    panic("mappages: unaligned");
  if (size == 0)
    panic("mappages: empty range");

  uint64 done = 0;
  while (done < size) {
    // One walk per leaf table, then fill its consecutive entries.
    pte_t *e = walk(pt, va + done, 1);
    if (e == 0)
      return -1;
    uint64 room = 512 - PX(0, va + done);   // entries left in this table
    for (; room > 0 && done < size; room--, e++, done += PGSIZE) {
      if (*e & PTE_V)
        panic("mappages: already mapped");
      // A and D start clear, as in xv6-riscv: the MMU sets them when the
      // page is first used (QEMU and our page-table walker both do).
      *e = PA2PTE(pa + done) | perm | PTE_V;
    }
  }
  return 0;
}

// Remove npages mappings starting at va.  With do_free, each mapping's
// reference to its page is dropped (kfree); a page shared with another
// address space (PTE_S, reference taken with kref_get when it was mapped)
// stays allocated until its last mapping goes.  Missing mappings are
// skipped: user processes can leave holes.
void
uvmunmap(pagetable_t pt, uint64 va, uint64 npages, int do_free)
{
  if ((va % PGSIZE) != 0)
    panic("uvmunmap: unaligned");
  for (uint64 i = 0; i < npages; i++) {
    uint64 a = va + i * PGSIZE;
    if (a >= MAXVA)
      break;
    pte_t *e = walk(pt, a, 0);
    if (e == 0 || (*e & PTE_V) == 0)
      continue;
    if (!pte_is_leaf(*e))
      panic("uvmunmap: not a leaf");
    if (do_free)
      kfree((void *)PTE2PA(*e));
    *e = 0;
  }
}

// Free the page-table pages of a table whose user pages are already gone.
// A user leaf still present (e.g. a shared mapping above p->sz) drops its
// page reference as well; a kernel leaf here is a bug.
static void
free_tables(pagetable_t table, int level)
{
  for (int i = 0; i < 512; i++) {
    pte_t e = table[i];
    if ((e & PTE_V) == 0)
      continue;
    if (pte_is_leaf(e)) {
      if (level != 0 || (e & PTE_U) == 0)
        panic("free_tables: stray kernel mapping");
      kfree((void *)PTE2PA(e));
    } else {
      free_tables((pagetable_t)PTE2PA(e), level - 1);
    }
    table[i] = 0;
  }
  kfree((void *)table);
}

// ---- the kernel's table ----------------------------------------------------

// Add a mapping to the kernel table during boot; running out of memory
// here is fatal.
void
kvmmap(pagetable_t kpt, uint64 va, uint64 pa, uint64 sz, int perm)
{
  if (mappages(kpt, va, sz, pa, perm) != 0)
    panic("kvmmap: out of memory");
}

// The kernel's view of the machine: all of RAM and every device at their
// physical addresses (kernel text read-only and executable, the rest
// read-write), the trampoline at the top, and one stack per process slot
// below it.
void
kvm_build(void)
{
  static const struct {
    uint64 base, size;
  } devices[] = {
    { PLIC, 0x400000 },   // up to the last hart context's claim register
    { UART0, PGSIZE },
    { VIRTIO0, PGSIZE },
  };

  pagetable_t kpt = pagetable_alloc();
  if (kpt == 0)
    panic("kvm_build: no memory");

  uint64 text_end = (uint64)etext;   // page aligned by kernel.ld
  kvmmap(kpt, KERNBASE, KERNBASE, text_end - KERNBASE, PTE_R | PTE_X);
  kvmmap(kpt, text_end, text_end, PHYSTOP - text_end, PTE_R | PTE_W);
  for (int i = 0; i < NELEM(devices); i++)
    kvmmap(kpt, devices[i].base, devices[i].base, devices[i].size, PTE_R | PTE_W);
  kvmmap(kpt, TRAMPOLINE, (uint64)trampoline, PGSIZE, PTE_R | PTE_X);
  map_kernel_stacks(kpt);

  kernel_pagetable = kpt;
}

// Turn on paging with the kernel table.
void
kvm_enable(void)
{
  sfence_vma();   // page table writes are done before the walker sees them
  csr_write(satp, MAKE_SATP(kernel_pagetable));
  sfence_vma();   // nothing stale from before paging
}

// ---- user memory -----------------------------------------------------------

// Map one fresh zeroed page at va; 0 or -1 (nothing left behind).
static int
map_new_page(pagetable_t pt, uint64 va, int perm)
{
  void *page = kalloc();
  if (page == 0)
    return -1;
  if (mappages(pt, va, PGSIZE, (uint64)page, perm) != 0) {
    kfree(page);
    return -1;
  }
  return 0;
}

// Grow a process from oldsz to newsz bytes with zeroed pages, user
// readable plus xperm.  Returns the new size, or 0 on failure (with
// nothing left allocated).
uint64
uvmalloc(pagetable_t pt, uint64 oldsz, uint64 newsz, int xperm)
{
  uint64 va = PGROUNDUP(oldsz);
  for (; va < newsz; va += PGSIZE) {
    if (map_new_page(pt, va, PTE_R | PTE_U | xperm) < 0) {
      uvmdealloc(pt, va, oldsz);   // undo the pages mapped so far
      return 0;
    }
  }
  return newsz > oldsz ? newsz : oldsz;
}

// Shrink a process from oldsz to newsz bytes; returns the new size.
uint64
uvmdealloc(pagetable_t pt, uint64 oldsz, uint64 newsz)
{
  if (newsz >= oldsz)
    return oldsz;
  uint64 keep = PGROUNDUP(newsz);
  uint64 upto = PGROUNDUP(oldsz);
  if (upto > keep)
    uvmunmap(pt, keep, (upto - keep) / PGSIZE, 1);
  return newsz;
}

// Free user memory [0, sz) and then the page table itself.
void
uvmfree(pagetable_t pt, uint64 sz)
{
  if (sz > 0)
    uvmunmap(pt, 0, PGROUNDUP(sz) / PGSIZE, 1);
  free_tables(pt, 2);
}

// Give the child the parent's memory [0, sz): a private copy of each page
// the parent owns, and the very same page, still PTE_S, for each shared
// mapping (a shared region stays shared across fork, like MAP_SHARED).
// Returns 0, or -1 with the child's partial copy freed.
int
uvmcopy(pagetable_t old, pagetable_t new, uint64 sz)
{
  uint64 va;
  for (va = 0; va < sz; va += PGSIZE) {
    pte_t *src = walk(old, va, 0);
    if (src == 0 || (*src & PTE_V) == 0)
      continue;   // a hole stays a hole
    if (*src & PTE_S) {
      uint64 pa = PTE2PA(*src);
      if (mappages(new, va, PGSIZE, pa, PTE_FLAGS(*src)) < 0)
        break;
      kref_get((void *)pa);
      continue;
    }
    int perm = PTE_FLAGS(*src) & (PTE_R | PTE_W | PTE_X | PTE_U);
    if (map_new_page(new, va, perm) < 0)
      break;
    memmove((void *)walkaddr_any(new, va), (void *)PTE2PA(*src), PGSIZE);
  }
  if (va < sz) {
    uvmunmap(new, 0, va / PGSIZE, 1);
    return -1;
  }
  return 0;
}

// Make the page at va inaccessible to user mode (the stack guard).
void
uvmclear(pagetable_t pt, uint64 va)
{
  pte_t *e = walk(pt, va, 0);
  if (e == 0)
    panic("uvmclear: no mapping");
  *e &= ~PTE_U;
}

// ---- user access -----------------------------------------------------------

// Is [va, va+len) a range user addresses can have (no wrap, below MAXVA)?
static int
user_range_ok(uint64 va, uint64 len)
{
  uint64 last = va + len;
  return last >= va && last <= MAXVA;
}

// The kernel address of user address va if the page is mapped with PTE_U
// and all of need_bits; 0 otherwise.
static char *
user_byte(pagetable_t pt, uint64 va, int need_bits)
{
  if (va >= MAXVA)
    return 0;
  pte_t *e = walk(pt, va, 0);
  if (e == 0)
    return 0;
  uint64 want = PTE_V | PTE_U | need_bits;
  if ((*e & want) != want)
    return 0;
  return (char *)(PTE2PA(*e) + (va % PGSIZE));
}

// Move len bytes between user address uva and kernel buffer kbuf, a page
// at a time: to the user if to_user (the pages must be writable), else from
// it.  0, or -1 on a bad address.
static int
copy_user(pagetable_t pt, uint64 uva, char *kbuf, uint64 len, int to_user)
{
  if (!user_range_ok(uva, len))
    return -1;
  while (len > 0) {
    char *k = user_byte(pt, uva, to_user ? PTE_W : PTE_R);
    if (k == 0)
      return -1;
    uint64 n = PGSIZE - (uva % PGSIZE);
    if (n > len)
      n = len;
    if (to_user)
      memmove(k, kbuf, n);
    else
      memmove(kbuf, k, n);
    len -= n;
    kbuf += n;
    uva += n;
  }
  return 0;
}

// Copy len bytes from kernel src to user dstva.  0, or -1 on a bad address.
int
copyout(pagetable_t pt, uint64 dstva, char *src, uint64 len)
{
  return copy_user(pt, dstva, src, len, 1);
}

// Copy len bytes from user srcva to kernel dst.  0, or -1 on a bad address.
int
copyin(pagetable_t pt, char *dst, uint64 srcva, uint64 len)
{
  return copy_user(pt, srcva, dst, len, 0);
}

// Copy a NUL-terminated string of at most max bytes (terminator included)
// from user srcva to dst.  0, or -1 on a bad address or a missing NUL.
int
copyinstr(pagetable_t pt, char *dst, uint64 srcva, uint64 max)
{
  while (max > 0) {
    char *k = user_byte(pt, srcva, PTE_R);
    if (k == 0)
      return -1;
    uint64 n = PGSIZE - (srcva % PGSIZE);
    if (n > max)
      n = max;
    for (uint64 i = 0; i < n; i++) {
      dst[i] = k[i];
      if (k[i] == 0)
        return 0;
    }
    dst += n;
    srcva += n;
    max -= n;
  }
  return -1;
}

// Copies for code that serves both user and kernel buffers (file reads and
// writes, the console): to_user / from_user says whether the address is
// the calling process's user address or a kernel address.  0, or -1 on a
// bad user address.
int
copyto(int to_user, uint64 dst, const void *src, uint64 len)
{
  if (to_user)
    return copyout(myproc()->pagetable, dst, (char *)src, len);
  memmove((void *)dst, src, len);
  return 0;
}

int
copyfrom(void *dst, int from_user, uint64 src, uint64 len)
{
  if (from_user)
    return copyin(myproc()->pagetable, dst, src, len);
  memmove(dst, (void *)src, len);
  return 0;
}
