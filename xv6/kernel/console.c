// The console device (major CONSOLE): reads come from the UART one line at
// a time with simple editing, writes go to the UART.
//
// Editing keys typed at the console:
//   Backspace (^H) or DEL   erase the last character of the line
//   ^U                      erase the whole line
//   ^D                      end of file (a read returns what is typed so far,
//                           or 0 at the start of a line)
//   ^P                      list the processes

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/spinlock.h"
#include "kernel/file.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/defs.h"
#include "kernel/proc.h"

#define CTRL(ch) ((ch) - '@')
#define KEY_BS   CTRL('H')
#define KEY_DEL  0x7f

// Input buffer.  Three counters that only grow; positions are modulo the
// size:  [rd, committed) is ready for read(), [committed, edit) is the line
// still being edited at the terminal.
#define INBUF 128
static struct {
  struct spinlock lock;
  char buf[INBUF];
  uint rd;
  uint committed;
  uint edit;
} cin;

// Erase one character on a terminal: back, blank, back.
static void
echo_erase(void)
{
  uart_put_now('\b');
  uart_put_now(' ');
  uart_put_now('\b');
}

// Print a character from kernel code (printf, echo).
void
console_putc(int c)
{
  uart_put_now(c);
}

static int
console_write(int user_src, uint64 src, int n)
{
  char chunk[64];
  int done = 0;
  while (done < n) {
    int len = n - done;
    if (len > (int)sizeof(chunk))
      len = (int)sizeof(chunk);
    if (copyfrom(chunk, user_src, src + done, len) < 0)
      return done > 0 ? done : -1;   // a bad buffer: error unless partly sent
    uart_write(chunk, len);
    done += len;
  }
  return done;
}

// read(): wait until a line (or ^D) is ready, then hand over at most n
// characters, stopping after a newline.  A ^D with nothing before it is
// end of file (read returns 0); after some text it ends the read there and
// stays queued, so the following read returns 0.
static int
console_read(int user_dst, uint64 dst, int n)
{
  char chunk[INBUF];
  acquire(&cin.lock);
  while (cin.rd == cin.committed) {
    if (killed(myproc())) {
      release(&cin.lock);
      return -1;
    }
    sleep(&cin.rd, &cin.lock);
  }

  // Look ahead without consuming: only delivered characters are taken.
  int take = 0;
  int eof = 0;
  for (uint pos = cin.rd; take < n && pos != cin.committed; pos++) {
    char ch = cin.buf[pos % INBUF];
    if (ch == CTRL('D')) {
      eof = (take == 0);
      break;
    }
    chunk[take++] = ch;
    if (ch == '\n')
      break;
  }

  int result = take;
  if (take > 0 && copyto(user_dst, dst, chunk, take) < 0)
    result = -1;                 // bad buffer: leave the input queued
  else
    cin.rd += take + eof;        // a lone ^D is consumed by its 0 return
  release(&cin.lock);
  return result;
}

// Erase typed characters that are not yet committed: one, or the whole
// pending line.  Committed input (complete lines) can no longer change.
static void
rubout(int whole_line)
{
  do {
    if (cin.edit == cin.committed)
      return;
    cin.edit--;
    echo_erase();
  } while (whole_line);
}

// Add a typed character to the line being edited; a newline, ^D or a full
// buffer makes everything typed so far readable.
static void
keep_typed(int c)
{
  if (cin.edit - cin.rd >= INBUF)
    return;                      // no room: the character is dropped
  if (c != CTRL('D'))
    uart_put_now(c);            // echo
  cin.buf[cin.edit % INBUF] = c;
  cin.edit++;
  if (c == '\n' || c == CTRL('D') || cin.edit - cin.rd == INBUF) {
    cin.committed = cin.edit;
    wakeup(&cin.rd);
  }
}

// Called by the UART interrupt for every received character.
void
console_input(int c)
{
  acquire(&cin.lock);
  if (c == CTRL('P'))
    print_processes();
  else if (c == CTRL('U'))
    rubout(1);
  else if (c == KEY_BS || c == KEY_DEL)
    rubout(0);
  else if (c != 0)
    keep_typed(c == '\r' ? '\n' : c);
  release(&cin.lock);
}

void
console_init(void)
{
  initlock(&cin.lock, "console");
  uart_init();
  devsw[CONSOLE].read = console_read;
  devsw[CONSOLE].write = console_write;
}
