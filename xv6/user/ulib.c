// The small C library every user program links with: program entry,
// string and memory helpers, line input, stat() and atoi().

// Keep GCC from turning the loops below into calls to memset/memcpy,
// which would make those functions call themselves.
#pragma GCC optimize ("no-tree-loop-distribute-patterns")

#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "user/user.h"

extern int main(int argc, char *argv[]);

// The ELF entry point (see user.ld).  exec() leaves argc in a0 and argv in
// a1, which is exactly where main() expects them.  Returning from main()
// is the same as calling exit(0) so that programs need not end with it.
void
_main(int argc, char *argv[])
{
  int status = main(argc, argv);
  (void)status;   // xv6 programs' main returns are not exit codes
  exit(0);
}

// ---- Strings ---------------------------------------------------------

uint
strlen(const char *s)
{
  const char *end = s;
  while (*end != '\0')
    end++;
  return end - s;
}

char*
strcpy(char *dst, const char *src)
{
  char *out = dst;
  while ((*out++ = *src++) != '\0')
    ;
  return dst;
}

int
strcmp(const char *a, const char *b)
{
  // Compare as unsigned bytes, the way the C library does.
  const uchar *x = (const uchar*)a;
  const uchar *y = (const uchar*)b;
  while (*x != '\0' && *x == *y) {
    x++;
    y++;
  }
  return (int)*x - (int)*y;
}

char*
strchr(const char *s, char c)
{
  for (; *s != '\0'; s++) {
    if (*s == c)
      return (char*)s;
  }
  return 0;
}

// ---- Memory ----------------------------------------------------------

void*
memset(void *dst, int c, uint n)
{
  uchar *p = (uchar*)dst;
  uint i;
  for (i = 0; i < n; i++)
    p[i] = (uchar)c;
  return dst;
}

void*
memmove(void *dst, const void *src, int n)
{
  uchar *to = (uchar*)dst;
  const uchar *from = (const uchar*)src;
  if (n <= 0 || to == from)
    return dst;
  if (to < from || to >= from + n) {
    // No harmful overlap: copy upwards.
    for (int i = 0; i < n; i++)
      to[i] = from[i];
  } else {
    // The destination starts inside the source: copy downwards so that
    // every byte is read before it is overwritten.
    for (int i = n - 1; i >= 0; i--)
      to[i] = from[i];
  }
  return dst;
}

void*
memcpy(void *dst, const void *src, uint n)
{
  // Overlapping copies are undefined for memcpy; memmove handles them
  // anyway, which costs nothing here.
  return memmove(dst, src, (int)n);
}

int
memcmp(const void *a, const void *b, uint n)
{
  const uchar *x = (const uchar*)a;
  const uchar *y = (const uchar*)b;
  for (uint i = 0; i < n; i++) {
    if (x[i] != y[i])
      return (int)x[i] - (int)y[i];
  }
  return 0;
}

// ---- Input and files -------------------------------------------------

// Read one line from standard input into buf, keeping the newline, at
// most max-1 characters, and terminate it.  At end of input buf is left
// empty (buf[0] == 0), which is how callers notice it.
char*
gets(char *buf, int max)
{
  int len = 0;
  while (len + 1 < max) {
    char c;
    if (read(0, &c, 1) != 1)
      break;
    buf[len++] = c;
    if (c == '\n' || c == '\r')
      break;
  }
  if (max > 0)
    buf[len] = '\0';
  return buf;
}

int
stat(const char *path, struct stat *st)
{
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return -1;
  int result = fstat(fd, st);
  close(fd);
  return result;
}

// Decimal digits at the start of s, with an optional leading '-'; parsing
// stops at the first other character.
int
atoi(const char *s)
{
  int negative = 0;
  int value = 0;
  if (*s == '-') {
    negative = 1;
    s++;
  }
  while (*s >= '0' && *s <= '9') {
    value = value * 10 + (*s - '0');
    s++;
  }
  return negative ? -value : value;
}
