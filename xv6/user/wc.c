// wc [file ...]: count lines, words and bytes.  Prints
// "lines words bytes name" per file; for standard input the name is left
// out.  With several files a total line follows.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "user/user.h"

struct counts {
  int lines;
  int words;
  int bytes;
};

static char chunk[512];

static int
is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Count what fd holds.  Returns 0, or -1 on a read error.
static int
count_fd(int fd, struct counts *out)
{
  int in_word = 0;
  out->lines = out->words = out->bytes = 0;
  for (;;) {
    int got = read(fd, chunk, sizeof(chunk));
    if (got == 0)
      return 0;
    if (got < 0)
      return -1;
    out->bytes += got;
    for (int i = 0; i < got; i++) {
      char c = chunk[i];
      if (c == '\n')
        out->lines++;
      if (is_space(c)) {
        in_word = 0;
      } else if (!in_word) {
        in_word = 1;
        out->words++;
      }
    }
  }
}

int
main(int argc, char *argv[])
{
  struct counts c;
  if (argc < 2) {
    if (count_fd(0, &c) < 0) {
      fprintf(2, "wc: read error\n");
      exit(1);
    }
    printf("%d %d %d\n", c.lines, c.words, c.bytes);
    exit(0);
  }

  struct counts total = {0, 0, 0};
  int status = 0;
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "wc: cannot open %s\n", argv[i]);
      status = 1;
      continue;
    }
    if (count_fd(fd, &c) < 0) {
      fprintf(2, "wc: read error on %s\n", argv[i]);
      status = 1;
    } else {
      printf("%d %d %d %s\n", c.lines, c.words, c.bytes, argv[i]);
      total.lines += c.lines;
      total.words += c.words;
      total.bytes += c.bytes;
    }
    close(fd);
  }
  if (argc > 2)
    printf("%d %d %d total\n", total.lines, total.words, total.bytes);
  exit(status);
}
