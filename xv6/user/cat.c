// cat [file ...]: copy each file (standard input when none) to standard
// output.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "user/user.h"

static char chunk[512];

// Copy everything readable from fd to fd 1.  Returns 0, or -1 on an error.
static int
copy_out(int fd, const char *label)
{
  for (;;) {
    int got = read(fd, chunk, sizeof(chunk));
    if (got == 0)
      return 0;
    if (got < 0) {
      fprintf(2, "cat: read error on %s\n", label);
      return -1;
    }
    if (write(1, chunk, got) != got) {
      fprintf(2, "cat: write error\n");
      return -1;
    }
  }
}

int
main(int argc, char *argv[])
{
  int status = 0;
  if (argc < 2) {
    if (copy_out(0, "standard input") < 0)
      exit(1);
    exit(0);
  }
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "cat: cannot open %s\n", argv[i]);
      status = 1;
      continue;
    }
    if (copy_out(fd, argv[i]) < 0)
      status = 1;
    close(fd);
  }
  exit(status);
}
