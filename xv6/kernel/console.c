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
#include "kernel/sleeplock.h"
#include "kernel/fs.h"
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
  uartputc_sync('\b');
  uartputc_sync(' ');
  uartputc_sync('\b');
}

// Print a character from kernel code (printf, echo).
void
consputc(int c)
{
  uartputc_sync(c);
}

static int
consolewrite(int user_src, uint64 src, int n)
{
  char chunk[64];
  int done = 0;
  while (done < n) {
    int len = n - done;
    if (len > (int)sizeof(chunk))
      len = (int)sizeof(chunk);
    if (either_copyin(chunk, user_src, src + done, len) < 0)
      return done > 0 ? done : -1;   // a bad buffer: error unless partly sent
    for (int i = 0; i < len; i++)
      uartputc(chunk[i]);
    done += len;
  }
  return done;
}

static int
consoleread(int user_dst, uint64 dst, int n)
{
  int want = n;
  acquire(&cin.lock);
  while (n > 0) {
    while (cin.rd == cin.committed) {
      if (killed(myproc())) {
        release(&cin.lock);
        return -1;
      }
      sleep(&cin.rd, &cin.lock);
    }
    char ch = cin.buf[cin.rd % INBUF];
    cin.rd++;

    if (ch == CTRL('D')) {
      // End of file.  If something was already read, leave the ^D in the
      // buffer so the next read returns 0.
      if (n < want)
        cin.rd--;
      break;
    }
    char out = ch;
    if (either_copyout(user_dst, dst, &out, 1) < 0) {
      cin.rd--;   // not delivered; keep it for the next read
      if (n == want) {
        release(&cin.lock);
        return -1;
      }
      break;
    }
    dst++;
    n--;
    if (ch == '\n')
      break;   // one line per read
  }
  release(&cin.lock);
  return want - n;
}

// Called by the UART interrupt for every received character.
void
consoleintr(int c)
{
  acquire(&cin.lock);
  switch (c) {
  case CTRL('P'):
    procdump();
    break;
  case CTRL('U'):
    while (cin.edit != cin.committed &&
           cin.buf[(cin.edit - 1) % INBUF] != '\n') {
      cin.edit--;
      echo_erase();
    }
    break;
  case KEY_BS:
  case KEY_DEL:
    if (cin.edit != cin.committed) {
      cin.edit--;
      echo_erase();
    }
    break;
  default:
    if (c == 0 || cin.edit - cin.rd >= INBUF)
      break;   // NUL, or the buffer is full: drop it
    if (c == '\r')
      c = '\n';
    if (c != CTRL('D'))
      uartputc_sync(c);
    cin.buf[cin.edit % INBUF] = c;
    cin.edit++;
    if (c == '\n' || c == CTRL('D') || cin.edit - cin.rd == INBUF) {
      // A complete line (or a full buffer) becomes readable.
      cin.committed = cin.edit;
      wakeup(&cin.rd);
    }
    break;
  }
  release(&cin.lock);
}

void
consoleinit(void)
{
  initlock(&cin.lock, "console");
  uartinit();
  devsw[CONSOLE].read = consoleread;
  devsw[CONSOLE].write = consolewrite;
}
