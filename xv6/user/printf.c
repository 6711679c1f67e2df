// Formatted output for user programs: printf() to fd 1 and fprintf() to
// any descriptor.
//
// Conversions: %d %x %p %s %c %% and with the l modifier %ld %lx %lu
// (%u also works).  Anything else is printed as written, so a typo in a
// format shows up in the output instead of swallowing an argument.
//
// Output is gathered in a buffer on the stack and handed to write() in
// large pieces: one system call per byte would be painfully slow on the
// simulated machine.
#include <stdarg.h>

#include "kernel/types.h"
#include "user/user.h"

#define OUTBUF_SIZE 128

struct outbuf {
  int fd;
  int used;
  char bytes[OUTBUF_SIZE];
};

static void
flush(struct outbuf *ob)
{
  if (ob->used > 0)
    write(ob->fd, ob->bytes, ob->used);
  ob->used = 0;
}

static void
put(struct outbuf *ob, char c)
{
  if (ob->used == OUTBUF_SIZE)
    flush(ob);
  ob->bytes[ob->used++] = c;
}

static void
put_string(struct outbuf *ob, const char *s)
{
  if (s == 0)
    s = "(null)";
  while (*s != '\0')
    put(ob, *s++);
}

static const char hexdigits[] = "0123456789abcdef";

// Print magnitude in the given base; digits come out least significant
// first, so collect them and emit in reverse.
static void
put_unsigned(struct outbuf *ob, uint64 magnitude, int base)
{
  char digits[24];
  int count = 0;
  do {
    digits[count++] = hexdigits[magnitude % base];
    magnitude /= base;
  } while (magnitude != 0);
  while (count > 0)
    put(ob, digits[--count]);
}

static void
put_signed(struct outbuf *ob, long value)
{
  if (value < 0) {
    put(ob, '-');
    // Negate as unsigned so that the most negative value also works.
    put_unsigned(ob, -(uint64)value, 10);
  } else {
    put_unsigned(ob, (uint64)value, 10);
  }
}

static void
format(int fd, const char *fmt, va_list ap)
{
  struct outbuf ob;
  ob.fd = fd;
  ob.used = 0;

  const char *p = fmt;
  while (*p != '\0') {
    if (*p != '%') {
      put(&ob, *p++);
      continue;
    }
    // p points at '%'; look at what follows without consuming it yet.
    const char *start = p;
    p++;
    int is_long = 0;
    if (*p == 'l') {
      is_long = 1;
      p++;
    }
    char conv = *p;
    if (conv == '\0') {
      // A lone '%' (or "%l") at the very end: print it literally.
      while (start < p)
        put(&ob, *start++);
      break;
    }
    p++;
    switch (conv) {
    case 'd':
      put_signed(&ob, is_long ? va_arg(ap, long) : (long)va_arg(ap, int));
      break;
    case 'u':
      put_unsigned(&ob, is_long ? va_arg(ap, uint64) : (uint64)va_arg(ap, uint), 10);
      break;
    case 'x':
      put_unsigned(&ob, is_long ? va_arg(ap, uint64) : (uint64)va_arg(ap, uint), 16);
      break;
    case 'p': {
      uint64 addr = (uint64)va_arg(ap, void*);
      put(&ob, '0');
      put(&ob, 'x');
      // Always all 16 digits, so that addresses line up.
      for (int shift = 60; shift >= 0; shift -= 4)
        put(&ob, hexdigits[(addr >> shift) & 0xf]);
      break;
    }
    case 's':
      put_string(&ob, va_arg(ap, const char*));
      break;
    case 'c':
      put(&ob, (char)va_arg(ap, int));
      break;
    case '%':
      put(&ob, '%');
      break;
    default:
      // Unknown conversion: echo the whole thing ("%q", "%lq").
      while (start < p)
        put(&ob, *start++);
      break;
    }
  }
  flush(&ob);
}

void
fprintf(int fd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  format(fd, fmt, ap);
  va_end(ap);
}

void
printf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  format(1, fmt, ap);
  va_end(ap);
}
