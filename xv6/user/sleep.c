// sleep ticks: pause for that many clock ticks.
#include "kernel/types.h"
#include "user/user.h"

int
main(int argc, char *argv[])
{
  if (argc != 2 || argv[1][0] < '0' || argv[1][0] > '9') {
    fprintf(2, "usage: sleep ticks\n");
    exit(1);
  }
  if (sleep(atoi(argv[1])) < 0)
    exit(1);
  exit(0);
}
