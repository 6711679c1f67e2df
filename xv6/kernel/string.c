// The few C library string routines the kernel uses.  GCC may also emit
// calls to memset/memcpy on its own (struct copies, zeroing).

#include "kernel/types.h"

// Keep GCC from turning the loops below into calls to these very functions.
#pragma GCC optimize ("no-tree-loop-distribute-patterns")

// ---- bytes -------------------------------------------------------------

void*
memset(void *dst, int c, uint n)
{
  uchar *d = dst;
  uchar b = (uchar)c;
  // Word stores when the destination is 8-byte aligned: a page is cleared
  // with 512 stores instead of 4096.
  if ((((uint64)d) & 7) == 0) {
    uint64 w = b * 0x0101010101010101UL;
    uint64 *q = (uint64 *)d;
    while (n >= 64) {   // unrolled: kalloc clears whole pages with this
      q[0] = w; q[1] = w; q[2] = w; q[3] = w;
      q[4] = w; q[5] = w; q[6] = w; q[7] = w;
      q += 8;
      n -= 64;
    }
    d = (uchar *)q;
    while (n >= 8) {
      *(uint64 *)d = w;
      d += 8;
      n -= 8;
    }
  }
  while (n-- > 0)
    *d++ = b;
  return dst;
}

// Copies correctly when the ranges overlap.
void*
memmove(void *dst, const void *src, uint n)
{
  uchar *d = dst;
  const uchar *s = src;
  if (n == 0 || d == s)
    return dst;
  if (s < d && d < s + n) {
    // Destination overlaps the tail of the source: copy backwards.
    while (n > 0) {
      n--;
      d[n] = s[n];
    }
    return dst;
  }
  if (((((uint64)d) | ((uint64)s)) & 7) == 0) {
    while (n >= 8) {
      *(uint64 *)d = *(const uint64 *)s;
      d += 8;
      s += 8;
      n -= 8;
    }
  }
  while (n-- > 0)
    *d++ = *s++;
  return dst;
}

void*
memcpy(void *dst, const void *src, uint n)
{
  return memmove(dst, src, n);
}

int
memcmp(const void *a, const void *b, uint n)
{
  const uchar *x = a, *y = b;
  for (uint i = 0; i < n; i++) {
    if (x[i] != y[i])
      return x[i] - y[i];
  }
  return 0;
}

// ---- NUL-terminated strings ----------------------------------------------

int
strlen(const char *s)
{
  int len = 0;
  while (s[len])
    len++;
  return len;
}

int
strncmp(const char *a, const char *b, uint n)
{
  for (; n > 0; n--, a++, b++) {
    if (*a != *b)
      return (uchar)*a - (uchar)*b;
    if (*a == 0)
      return 0;
  }
  return 0;
}

// Copies at most n bytes and pads with zeros; like the C library, it does
// not terminate dst when src is n bytes or longer.
char*
strncpy(char *dst, const char *src, int n)
{
  int i = 0;
  for (; i < n && src[i]; i++)
    dst[i] = src[i];
  for (; i < n; i++)
    dst[i] = 0;
  return dst;
}

// Like strncpy but always terminates dst (if n > 0) and never pads.
char*
safestrcpy(char *dst, const char *src, int n)
{
  if (n <= 0)
    return dst;
  int i = 0;
  for (; i < n - 1 && src[i]; i++)
    dst[i] = src[i];
  dst[i] = 0;
  return dst;
}
