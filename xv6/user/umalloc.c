// malloc() and free() for user programs.
//
// Memory comes from sbrk() in pieces of at least GROW_BYTES and is carved
// into chunks.  Every chunk starts with a header giving its size; chunks
// that are not in use sit on a singly linked list kept in address order,
// so that free() can merge a chunk with its neighbours and the heap does
// not crumble into small pieces.
#include "kernel/types.h"
#include "user/user.h"

// Header in front of every chunk.  16 bytes, so that the payload after it
// has the alignment of any C type on RV64.
struct chunk {
  struct chunk *next;   // next free chunk at a higher address (free list only)
  uint64 units;         // size of the whole chunk, header included, in UNITs
};

#define UNIT        sizeof(struct chunk)
#define GROW_BYTES  (4 * 4096)      // ask sbrk for at least four pages

static struct chunk *free_list;     // lowest free chunk, or 0

// Put a chunk on the free list at its address-ordered place and merge it
// with the free chunks directly before and after it.
static void
release(struct chunk *c)
{
  struct chunk *before = 0;
  struct chunk *after = free_list;
  while (after != 0 && after < c) {
    before = after;
    after = after->next;
  }

  // Merge with the following chunk if they touch.
  if (after != 0 && c + c->units == after) {
    c->units += after->units;
    c->next = after->next;
  } else {
    c->next = after;
  }

  // Merge with the preceding chunk if they touch, else link c in.
  if (before == 0) {
    free_list = c;
  } else if (before + before->units == c) {
    before->units += c->units;
    before->next = c->next;
  } else {
    before->next = c;
  }
}

// Get at least `units` more units from the kernel.  Returns 0 on success.
static int
grow(uint64 units)
{
  // The break may not be UNIT-aligned at first (it starts at the end of
  // the program's bss); pad it once.
  uint64 brk = (uint64)sbrk(0);
  if (brk == (uint64)-1)
    return -1;
  uint64 pad = (UNIT - brk % UNIT) % UNIT;

  uint64 bytes = units * UNIT;
  if (bytes < GROW_BYTES)
    bytes = GROW_BYTES;
  bytes += pad;
  if (bytes > 0x7fffffff)          // sbrk takes an int
    return -1;

  char *mem = sbrk((int)bytes);
  if (mem == (char*)-1)
    return -1;
  struct chunk *c = (struct chunk*)(mem + pad);
  c->units = (bytes - pad) / UNIT;
  release(c);
  return 0;
}

void*
malloc(uint nbytes)
{
  // Payload rounded up to whole units, plus one unit of header.
  uint64 units = ((uint64)nbytes + UNIT - 1) / UNIT + 1;

  for (int attempt = 0; attempt < 2; attempt++) {
    struct chunk *prev = 0;
    for (struct chunk *c = free_list; c != 0; prev = c, c = c->next) {
      if (c->units < units)
        continue;
      if (c->units == units) {
        // Exact fit: take the chunk off the list.
        if (prev == 0)
          free_list = c->next;
        else
          prev->next = c->next;
      } else {
        // Too big: hand out its top end and leave the rest listed.
        c->units -= units;
        c += c->units;
        c->units = units;
      }
      c->next = 0;
      return (void*)(c + 1);
    }
    // Nothing large enough: get more memory and search once more.
    if (attempt == 0 && grow(units) != 0)
      return 0;
  }
  return 0;
}

void
free(void *ptr)
{
  if (ptr == 0)
    return;
  release((struct chunk*)ptr - 1);
}
