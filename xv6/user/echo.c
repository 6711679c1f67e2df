// echo [word ...]: print the words separated by single spaces, then a
// newline.
#include "kernel/types.h"
#include "user/user.h"

int
main(int argc, char *argv[])
{
  // Build the whole line first so that it reaches the output in one
  // write() and cannot be torn apart by another process's output.
  char line[512];
  int len = 0;
  for (int i = 1; i < argc; i++) {
    const char *w = argv[i];
    if (i > 1 && len < (int)sizeof(line) - 1)
      line[len++] = ' ';
    while (*w != '\0' && len < (int)sizeof(line) - 1)
      line[len++] = *w++;
  }
  line[len++] = '\n';
  if (write(1, line, len) != len)
    exit(1);
  exit(0);
}
