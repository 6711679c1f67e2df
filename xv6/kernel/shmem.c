// Shared memory between processes (assignment 3, task 1).
//
// map_shared_pages() maps the physical pages behind a range of one process's
// memory into another process, at the top of the destination's memory (its
// old size, rounded up to a page).  The new PTEs carry the source's flags
// plus PTE_S, which marks "this mapping does not own the page".
//
// Ownership is reference-counted (kalloc.c): every mapping of a page, owning
// or shared, holds one reference, and a page returns to the free list when
// its last mapping goes.  So if the owner exits first, the sharer keeps
// valid memory; nothing is freed twice and nothing leaks.
//
// Each process remembers the regions it received (p->shm), so a region can
// only be unmapped whole: a partial or non-shared range is refused.  fork()
// gives the child the same shared pages (like MAP_SHARED), exec() and exit()
// drop them, and sbrk() may not shrink into a region.
//
// Unmapping a shared range in the middle of a process's memory leaves a hole
// of unmapped pages below p->sz.  The rest of the kernel tolerates such holes
// (uvmunmap, uvmcopy and copyin/copyout skip or refuse unmapped pages), and
// when the range was at the top, p->sz shrinks past the range and past any
// holes just below it, so "size after unmap == size before map" holds.
//
// Locking: a process's page table and size change either in its own context
// or, for a mapping into it, under its p->lock.  Callers of the functions
// here hold the lock of every process whose memory they change.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

#define SHM_FAIL ((uint64)-1)

// Is [va, va+len) a non-empty range of user addresses (no wrap-around)?
static int
user_span_ok(uint64 va, uint64 len)
{
  return len > 0 && va < MAXVA && len <= MAXVA - va;
}

// The PTE of a user page that is present in pt, or 0.
static pte_t *
present_user_pte(pagetable_t pt, uint64 va)
{
  pte_t *pte = walk(pt, va, 0);
  if (pte == 0 || (*pte & PTE_V) == 0 || (*pte & PTE_U) == 0)
    return 0;
  return pte;
}

uint64
map_shared_pages(struct proc *src_proc, struct proc *dst_proc,
                 uint64 src_va, uint64 size)
{
  if (!user_span_ok(src_va, size))
    return SHM_FAIL;

  uint64 first = PGROUNDDOWN(src_va);
  uint64 npages = (PGROUNDUP(src_va + size) - first) / PGSIZE;
  uint64 base = PGROUNDUP(dst_proc->sz);
  if (base > TRAPFRAME || npages > (TRAPFRAME - base) / PGSIZE)
    return SHM_FAIL;   // the destination has no room below its trap frame

  struct shm_region *slot = 0;
  for (struct shm_region *r = dst_proc->shm; r < &dst_proc->shm[NSHM]; r++)
    if (r->npages == 0) {
      slot = r;
      break;
    }
  if (slot == 0)
    return SHM_FAIL;   // too many regions in the destination

  // Check the whole source range before touching the destination.
  for (uint64 i = 0; i < npages; i++)
    if (present_user_pte(src_proc->pagetable, first + i * PGSIZE) == 0)
      return SHM_FAIL;

  for (uint64 i = 0; i < npages; i++) {
    pte_t src_pte = *present_user_pte(src_proc->pagetable, first + i * PGSIZE);
    uint64 pa = PTE2PA(src_pte);
    int flags = PTE_FLAGS(src_pte) | PTE_S;
    if (mappages(dst_proc->pagetable, base + i * PGSIZE, PGSIZE, pa, flags) != 0) {
      // Out of memory for a page-table page: undo what was mapped.
      uvmunmap(dst_proc->pagetable, base, i, 1);
      return SHM_FAIL;
    }
    kref_get((void *)pa);
  }

  slot->va = base;
  slot->npages = npages;
  dst_proc->sz = base + npages * PGSIZE;
  return base + (src_va - first);
}

uint64
unmap_shared_pages(struct proc *p, uint64 addr, uint64 size)
{
  if (!user_span_ok(addr, size) || addr + size > p->sz)
    return SHM_FAIL;

  uint64 first = PGROUNDDOWN(addr);
  uint64 end = PGROUNDUP(addr + size);
  uint64 npages = (end - first) / PGSIZE;

  // The pages must be exactly one region that map_shared_pages() made.
  struct shm_region *region = 0;
  for (struct shm_region *r = p->shm; r < &p->shm[NSHM]; r++)
    if (r->npages != 0 && r->va == first && r->npages == npages) {
      region = r;
      break;
    }
  if (region == 0)
    return SHM_FAIL;
  for (uint64 va = first; va < end; va += PGSIZE) {
    pte_t *pte = present_user_pte(p->pagetable, va);
    if (pte == 0 || (*pte & PTE_S) == 0)
      panic("unmap_shared_pages: region without shared pages");
  }

  // Drops this mapping's reference on each page (see uvmunmap).
  uvmunmap(p->pagetable, first, npages, 1);
  region->npages = 0;
  region->va = 0;

  if (end >= PGROUNDUP(p->sz)) {
    // The range was the top of memory: shrink past it and past any holes
    // that earlier unmaps left just below it.
    uint64 sz = first;
    while (sz > 0) {
      pte_t *pte = walk(p->pagetable, sz - PGSIZE, 0);
      if (pte != 0 && (*pte & PTE_V) != 0)
        break;
      sz -= PGSIZE;
    }
    p->sz = sz;
  }
  return 0;
}

// Is p alive: not a free slot, not still being created, not a zombie?
// (Caller holds p->lock.)
int
proc_is_live(struct proc *p)
{
  return p->state != P_FREE && p->state != P_NEW && p->state != P_ZOMBIE;
}

// The process pid, locked, if it is alive; 0 otherwise.
struct proc *
proc_lock_live(int pid)
{
  struct proc *p = lock_process(pid);
  if (p != 0 && !proc_is_live(p)) {
    release(&p->lock);
    p = 0;
  }
  return p;
}

// Does [lo, hi) overlap a shared region of p?  (sbrk() uses this to refuse
// shrinking into one.)
int
shm_overlaps(struct proc *p, uint64 lo, uint64 hi)
{
  for (struct shm_region *r = p->shm; r < &p->shm[NSHM]; r++) {
    if (r->npages == 0)
      continue;
    uint64 r_end = r->va + r->npages * PGSIZE;
    if (r->va < hi && lo < r_end)
      return 1;
  }
  return 0;
}

// map_shared_pages(pid, addr, size): share the caller's pages that hold
// [addr, addr+size) with process pid.  Returns the address of addr's
// first byte in pid's address space, or -1.  A process can only give its
// own memory away; it can never take pages from another process.
uint64
sys_map_shared_pages(struct sysarg *arg)
{
  struct proc *me = myproc();
  struct proc *dst = proc_lock_live(arg[0].num);
  if (dst == 0)
    return SHM_FAIL;
  uint64 r = map_shared_pages(me, dst, arg[1].val, arg[2].val);
  release(&dst->lock);
  return r;
}

// Remove a shared region from the calling process, under its lock.
uint64
unmap_own_shared(uint64 addr, uint64 size)
{
  struct proc *me = myproc();
  acquire(&me->lock);
  uint64 r = unmap_shared_pages(me, addr, size);
  release(&me->lock);
  return r;
}

// unmap_shared_pages(addr, size): remove a shared mapping from the caller.
// (Also remove_shared_memory_request, for the crypto server.)
uint64
sys_unmap_shared_pages(struct sysarg *arg)
{
  return unmap_own_shared(arg[0].val, arg[1].val);
}

// freepages(): the number of free physical pages, for leak checks.
uint64
sys_freepages(struct sysarg *arg)
{
  return kfreepages();
}
