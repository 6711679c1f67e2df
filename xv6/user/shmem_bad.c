// shmem_bad: map_shared_pages / unmap_shared_pages with bad and awkward
// arguments.  Every bad call must fail with -1 and leave the process and the
// kernel intact; the awkward but legal ones must work.  Prints one line per
// group and "shmem_bad: ALL OK" when everything passed.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "user/user.h"

#define FAILED ((char *)-1)
#define NSHM_TRY 64   // more than any sane region table

static int failures;

static void
check(int ok, const char *what)
{
  if (!ok) {
    printf("shmem_bad: FAILED: %s\n", what);
    failures++;
  }
}

static char *
brk(void)
{
  return sbrk(0);
}

// Fresh, page-aligned, written heap pages.
static char *
grow(int npages, char fill)
{
  char *p = sbrk(npages * PGSIZE);
  if (p == FAILED) {
    printf("shmem_bad: sbrk failed\n");
    exit(1);
  }
  memset(p, fill, npages * PGSIZE);
  return p;
}

static void
bad_sources(void)
{
  int me = getpid();
  char *heap = grow(1, 'h');
  char *top = brk();
  int stack_var;
  uint64 guard = PGROUNDDOWN((uint64)&stack_var) - USERSTACK * PGSIZE;

  check(map_shared_pages(me, heap, 0) == FAILED, "size 0");
  check(map_shared_pages(me, heap, 1L << 40) == FAILED, "huge size");
  check(map_shared_pages(me, heap, -1L) == FAILED, "size -1");
  check(map_shared_pages(me, (void *)0xfffffffffffff000L, 0x2000) == FAILED, "wrapping range");
  check(map_shared_pages(me, heap, 0xffffffffffffff00L) == FAILED, "range wraps from heap");
  check(map_shared_pages(me, top + 16 * PGSIZE, 10) == FAILED, "unmapped source");
  check(map_shared_pages(me, heap, 2 * PGSIZE) == FAILED, "range runs past the heap");
  check(map_shared_pages(me, (void *)KERNBASE, PGSIZE) == FAILED, "kernel address");
  check(map_shared_pages(me, (void *)TRAPFRAME, 8) == FAILED, "trap frame (not PTE_U)");
  check(map_shared_pages(me, (void *)TRAMPOLINE, 8) == FAILED, "trampoline (not PTE_U)");
  check(map_shared_pages(me, (void *)MAXVA, 8) == FAILED, "address at MAXVA");
  check(map_shared_pages(me, (void *)guard, 8) == FAILED, "stack guard page (not PTE_U)");
  check(brk() == top, "size unchanged after failed maps");
  check(heap[0] == 'h' && heap[PGSIZE - 1] == 'h', "heap intact");
  printf("bad sources: ok\n");
}

static void
bad_destinations(void)
{
  char *heap = grow(1, 'd');
  check(map_shared_pages(99999, heap, 8) == FAILED, "no such pid");
  check(map_shared_pages(0, heap, 8) == FAILED, "pid 0");
  check(map_shared_pages(-1, heap, 8) == FAILED, "pid -1");

  int pid = fork();
  if (pid == 0)
    exit(7);
  sleep(5);   // let the child become a zombie; we have not waited yet
  check(map_shared_pages(pid, heap, 8) == FAILED, "zombie destination");
  int status = 0;
  check(wait(&status) == pid && status == 7, "zombie reaped");
  check(map_shared_pages(pid, heap, 8) == FAILED, "reaped destination");
  printf("bad destinations: ok\n");
}

static void
bad_unmaps(void)
{
  char *heap = grow(2, 'u');
  char *top = brk();
  check(unmap_shared_pages(heap, PGSIZE) == -1, "unmap own (not shared) page");
  check(heap[0] == 'u' && heap[2 * PGSIZE - 1] == 'u', "own pages intact after refused unmap");
  check(unmap_shared_pages(heap, 0) == -1, "unmap size 0");
  check(unmap_shared_pages(top, PGSIZE) == -1, "unmap above the break");
  check(unmap_shared_pages((void *)0xfffffffffffff000L, 0x2000) == -1, "unmap wrapping range");
  check(unmap_shared_pages((void *)KERNBASE, PGSIZE) == -1, "unmap kernel address");
  check(unmap_shared_pages((void *)TRAPFRAME, PGSIZE) == -1, "unmap trap frame");
  check(brk() == top, "size unchanged after refused unmaps");
  printf("bad unmaps: ok\n");
}

// Regions can only be unmapped whole.
static void
partial_unmaps(void)
{
  int me = getpid();
  char *src = grow(3, 'p');
  char *before = brk();
  char *alias = map_shared_pages(me, src + 100, 3 * PGSIZE - 200);
  check(alias != FAILED, "map 3 pages into self");
  if (alias == FAILED)
    return;
  check((uint64)alias % PGSIZE == 100, "offset kept");
  check(brk() == before + 3 * PGSIZE, "size grew by 3 pages");
  alias[0] = 'Q';
  check(src[100] == 'Q', "write through the alias is seen at the source");

  char *region = alias - 100;
  check(unmap_shared_pages(region, PGSIZE) == -1, "unmap first page only");
  check(unmap_shared_pages(region + PGSIZE, 2 * PGSIZE) == -1, "unmap last two pages only");
  check(unmap_shared_pages(region + PGSIZE, 3 * PGSIZE) == -1, "unmap shifted range");
  check(unmap_shared_pages(region - PGSIZE, 4 * PGSIZE) == -1, "unmap range with a non-shared page");
  check(alias[0] == 'Q', "alias still mapped after refused unmaps");
  check(unmap_shared_pages(alias, 3 * PGSIZE - 200) == 0, "unmap whole region by its address");
  check(brk() == before, "size back after unmap");
  check(unmap_shared_pages(region, 3 * PGSIZE) == -1, "second unmap refused");
  check(src[100] == 'Q', "source keeps the data");
  printf("partial unmaps: ok\n");
}

// Region table limits, sbrk against regions, holes left by unmaps.
static void
mixing(void)
{
  int me = getpid();
  char *src = grow(1, 'm');
  char *before = brk();
  char *r[NSHM_TRY];
  int n = 0;
  while (n < NSHM_TRY) {
    r[n] = map_shared_pages(me, src, PGSIZE);
    if (r[n] == FAILED)
      break;
    n++;
  }
  check(n >= 1 && n < NSHM_TRY, "region table has a limit");
  check(map_shared_pages(me, src, PGSIZE) == FAILED, "map with a full region table");
  // Unmap in a scrambled order: middle ones first leave holes.
  for (int i = 1; i < n; i += 2)
    check(unmap_shared_pages(r[i], PGSIZE) == 0, "unmap odd region");
  for (int i = 0; i < n; i += 2)
    check(unmap_shared_pages(r[i], PGSIZE) == 0, "unmap even region");
  check(brk() == before, "size back after unmapping all regions");

  // sbrk may not shrink into a region, and may grow above one.
  char *alias = map_shared_pages(me, src, PGSIZE);
  check(alias == before, "region placed at the old break");
  check(sbrk(-PGSIZE) == FAILED, "sbrk refuses to cut a region");
  char *above = sbrk(2 * PGSIZE);
  check(above == before + PGSIZE, "sbrk grows above the region");
  memset(above, 'a', 2 * PGSIZE);
  check(unmap_shared_pages(alias, PGSIZE) == 0, "unmap region below heap");
  check(brk() == above + 2 * PGSIZE, "size kept when a middle region goes");
  check(above[0] == 'a' && above[2 * PGSIZE - 1] == 'a', "heap above the hole intact");

  // Touching the hole kills only the toucher.
  int pid = fork();
  if (pid == 0) {
    volatile char *hole = alias;
    printf("shmem_bad: child read %d from a hole\n", *hole);
    exit(0);
  }
  int status = 0;
  wait(&status);
  check(status == -1, "child touching a hole is killed");

  // fork copies a process with a hole in its memory.
  pid = fork();
  if (pid == 0)
    exit(above[0] == 'a' ? 0 : 1);
  wait(&status);
  check(status == 0, "fork of a process with a hole");

  check(sbrk(-2 * PGSIZE) == above + 2 * PGSIZE, "sbrk shrink above the hole");
  char *m = malloc(3 * PGSIZE);
  check(m != 0, "malloc after all that");
  if (m)
    memset(m, 'z', 3 * PGSIZE);
  printf("mixing: ok\n");
}

// The owner of shared pages exits first: the receiver keeps them.
static void
owner_exits_first(void)
{
  int parent = getpid();
  int fds[2];
  if (pipe(fds) < 0) {
    printf("shmem_bad: pipe failed\n");
    exit(1);
  }
  int pid = fork();
  if (pid == 0) {
    char *page = grow(1, 0);
    strcpy(page, "survivor");
    char *in_parent = map_shared_pages(parent, page, PGSIZE);
    write(fds[1], &in_parent, sizeof(in_parent));
    exit(0);
  }
  close(fds[1]);
  char *got = FAILED;
  read(fds[0], &got, sizeof(got));
  close(fds[0]);
  int status;
  wait(&status);
  check(got != FAILED, "child mapped its page into the parent");
  if (got == FAILED)
    return;
  check(strcmp(got, "survivor") == 0, "data survives its owner's exit");
  strcpy(got, "still writable");
  check(strcmp(got, "still writable") == 0, "page still writable");
  int free_before = freepages();
  check(unmap_shared_pages(got, PGSIZE) == 0, "unmap the orphaned page");
  check(freepages() == free_before + 1, "the last unmap frees the page");
  printf("owner exits first: ok\n");
}

// A shared region is inherited by fork, like a shared mapping.
static void
fork_shares(void)
{
  int me = getpid();
  char *src = grow(1, 'f');
  char *alias = map_shared_pages(me, src, PGSIZE);
  check(alias != FAILED, "map for fork test");
  if (alias == FAILED)
    return;
  int pid = fork();
  if (pid == 0) {
    alias[0] = 'C';
    exit(unmap_shared_pages(alias, PGSIZE) == 0 ? 0 : 1);
  }
  int status;
  wait(&status);
  check(status == 0, "child unmaps its inherited region");
  check(src[0] == 'C', "child's write reached the parent's page");
  check(unmap_shared_pages(alias, PGSIZE) == 0, "parent unmaps its region");
  printf("fork shares: ok\n");
}

int
main(void)
{
  bad_sources();
  bad_destinations();
  bad_unmaps();
  partial_unmaps();
  mixing();
  owner_exits_first();
  fork_shares();
  if (failures) {
    printf("shmem_bad: %d FAILED\n", failures);
    exit(1);
  }
  printf("shmem_bad: ALL OK\n");
  exit(0);
}
