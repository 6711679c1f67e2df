// Physical page allocator for the RAM between the end of the kernel image
// and PHYSTOP.
//
// Boot cost matters (the RTL simulator is slow), so kinit() touches no
// page: pages that were never handed out are taken from a "fresh" region by
// moving a boundary upward, and only freed pages go on a linked free list.
//
// kalloc() returns a page filled with zeros; callers may rely on that.
//
// Every page has a reference count (for pages mapped into several address
// spaces): kalloc() sets it to 1, kref_get() adds one, kfree() drops one
// and recycles the page only when the count reaches zero.  The counts live
// in the first pages after the kernel image, not in .bss: a count is set
// when its page is first handed out, so the array needs no clearing and
// more RAM does not make the boot slower.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/spinlock.h"
#include "kernel/riscv.h"
#include "kernel/defs.h"

extern char end[];   // first byte after the kernel image (kernel.ld)

// The RAM size this kernel was built for, as an absolute ELF symbol whose
// value is RAM_MB (it takes no memory): the simulator and the tests read it
// from the kernel file to give the machine that much RAM.
#define STRINGIFY(x) #x
#define DEFINE_ABS_SYMBOL(name, value) \
  asm(".globl " #name "\n.set " #name ", " STRINGIFY(value))
DEFINE_ABS_SYMBOL(kernel_ram_mb, RAM_MB);

#define NPAGES_RAM ((PHYSTOP - KERNBASE) / PGSIZE)

struct freepage {
  struct freepage *next;
};

static struct {
  struct spinlock lock;
  struct freepage *list;   // pages given back by kfree
  uint64 nlisted;          // length of list
  uint64 fresh;            // next never-used page; [fresh, PHYSTOP) is free
  ushort *refs;            // reference count per physical page (NPAGES_RAM)
} pmem;

static uint64 first_page;  // lowest allocatable address

// Index of page pa in pmem.refs; pa must have been handed out before.
static int
page_index(uint64 pa)
{
  if ((pa % PGSIZE) != 0 || pa < first_page || pa >= pmem.fresh)
    panic("kalloc: bad physical page");
  return (pa - KERNBASE) / PGSIZE;
}

void
kinit(void)
{
  initlock(&pmem.lock, "kalloc");
  pmem.refs = (ushort *)PGROUNDUP((uint64)end);
  first_page = PGROUNDUP((uint64)(pmem.refs + NPAGES_RAM));
  pmem.fresh = first_page;
  pmem.list = 0;
  pmem.nlisted = 0;
}

void *
kalloc(void)
{
  uint64 pa = 0;
  acquire(&pmem.lock);
  if (pmem.list) {
    pa = (uint64)pmem.list;
    pmem.list = pmem.list->next;
    pmem.nlisted--;
  } else if (pmem.fresh < PHYSTOP) {
    pa = pmem.fresh;
    pmem.fresh += PGSIZE;
  }
  if (pa)
    pmem.refs[page_index(pa)] = 1;
  release(&pmem.lock);

  if (pa)
    memset((void *)pa, 0, PGSIZE);
  return (void *)pa;
}

// One more user of page pa (which must be allocated).
void
kref_get(void *pa)
{
  acquire(&pmem.lock);
  int i = page_index((uint64)pa);
  if (pmem.refs[i] == 0)
    panic("kref_get: page is free");
  if (pmem.refs[i] == 0xffff)
    panic("kref_get: too many references");
  pmem.refs[i]++;
  release(&pmem.lock);
}

// Drop one reference to page pa; the last one frees it.
void
kfree(void *pa)
{
  acquire(&pmem.lock);
  int i = page_index((uint64)pa);
  if (pmem.refs[i] == 0)
    panic("kfree: page already free");
  pmem.refs[i]--;
  if (pmem.refs[i] == 0) {
    struct freepage *fp = (struct freepage *)pa;
    fp->next = pmem.list;
    pmem.list = fp;
    pmem.nlisted++;
  }
  release(&pmem.lock);
}

uint64
kfreepages(void)
{
  acquire(&pmem.lock);
  uint64 n = pmem.nlisted + (PHYSTOP - pmem.fresh) / PGSIZE;
  release(&pmem.lock);
  return n;
}

// Boot-time check of the reference counting that shared memory relies on;
// a few hundred instructions.  Panics if the allocator misbehaves.
void
kalloc_selftest(void)
{
  uint64 free0 = kfreepages();
  char *pg = kalloc();
  if (pg == 0 || kfreepages() != free0 - 1)
    panic("kalloc self-test: allocation");
  kref_get(pg);                       // two owners
  kfree(pg);                          // one left: still allocated
  if (kfreepages() != free0 - 1)
    panic("kalloc self-test: freed while referenced");
  pg[0] = 1;                          // dirty it
  kfree(pg);                          // last owner: back to the pool
  if (kfreepages() != free0)
    panic("kalloc self-test: not freed at zero");
  char *again = kalloc();             // freed pages are reused first...
  if (again != pg || again[0] != 0)   // ...and come back zeroed
    panic("kalloc self-test: reuse");
  kfree(again);
}
