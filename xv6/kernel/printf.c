// Kernel formatted output to the console, and panic().
//
// Supports %d %u %x %p %s %c %% and the l modifier (%ld %lu %lx).
// Output goes through console_putc(), which writes synchronously to the UART.

#include <stdarg.h>

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/spinlock.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/defs.h"
#include "kernel/proc.h"

// Set when a panic starts: printf no longer takes its lock (the panicking
// code may hold it) and uart_write() stops every other writer.
volatile int panic_active;

// Keeps the lines of concurrent printf calls apart.
static struct spinlock outlock = SPINLOCK_INIT("printf");

static const char hexdigits[] = "0123456789abcdef";

// Print v in the given base; `neg` says v is the magnitude of a negative.
static int
put_unsigned(uint64 v, int base, int neg)
{
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = hexdigits[v % base];
    v /= base;
  } while (v != 0);
  if (neg)
    tmp[n++] = '-';
  int count = n;
  while (n > 0)
    console_putc(tmp[--n]);
  return count;
}

static int
put_signed(long v, int base)
{
  if (v < 0)
    return put_unsigned(-(uint64)v, base, 1);
  return put_unsigned((uint64)v, base, 0);
}

static int
put_string(const char *s)
{
  if (s == 0)
    s = "(null)";
  int n = 0;
  for (; *s; s++, n++)
    console_putc(*s);
  return n;
}

static int
format(const char *fmt, va_list ap)
{
  int out = 0;
  for (const char *p = fmt; *p; p++) {
    if (*p != '%') {
      console_putc(*p);
      out++;
      continue;
    }
    p++;
    int is_long = 0;
    if (*p == 'l') {
      is_long = 1;
      p++;
    }
    switch (*p) {
    case 0:
      return out;           // lone '%' at the end
    case 'd':
      out += put_signed(is_long ? va_arg(ap, long) : va_arg(ap, int), 10);
      break;
    case 'u':
      out += put_unsigned(is_long ? va_arg(ap, uint64) : va_arg(ap, uint), 10, 0);
      break;
    case 'x':
      out += put_unsigned(is_long ? va_arg(ap, uint64) : va_arg(ap, uint), 16, 0);
      break;
    case 'p': {
      uint64 v = va_arg(ap, uint64);
      console_putc('0');
      console_putc('x');
      for (int shift = 60; shift >= 0; shift -= 4)
        console_putc(hexdigits[(v >> shift) & 0xf]);
      out += 18;
      break;
    }
    case 's':
      out += put_string(va_arg(ap, char *));
      break;
    case 'c':
      console_putc(va_arg(ap, int));
      out++;
      break;
    case '%':
      console_putc('%');
      out++;
      break;
    default:
      // Unknown conversion: show it as written.
      console_putc('%');
      if (is_long)
        console_putc('l');
      console_putc(*p);
      out += 2 + is_long;
      break;
    }
  }
  return out;
}

int
printf(char *fmt, ...)
{
  va_list ap;
  int locked = !panic_active;   // a panic prints whatever else holds the lock
  if (locked)
    acquire(&outlock);
  va_start(ap, fmt);
  int n = format(fmt, ap);
  va_end(ap);
  if (locked)
    release(&outlock);
  return n;
}

void
panic(char *s)
{
  intr_off();
  panic_active = 1;
  printf("panic: %s\n", s);
  for (;;)
    asm volatile("wfi");
}
