// /init: the first user process.  Sets up the console as standard input,
// output and error, then keeps a shell running: when /sh exits a new one
// is started.  As the parent of every orphan it also collects the exit
// status of processes whose parents died first.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/file.h"
#include "user/user.h"

static char *shell_argv[] = { "sh", 0 };

// Open the console device as fd 0 and duplicate it to 1 and 2.  The
// device node is created on first boot.
static void
open_console(void)
{
  int fd = open("console", O_RDWR);
  if (fd < 0) {
    mknod("console", CONSOLE, 0);
    fd = open("console", O_RDWR);
  }
  if (fd != 0) {
    // Without fd 0 nothing can be reported either; give up.
    exit(1);
  }
  dup(0);   // standard output
  dup(0);   // standard error
}

static int
start_shell(void)
{
  int pid = fork();
  if (pid == 0) {
    exec("/sh", shell_argv);
    fprintf(2, "init: cannot run /sh\n");
    exit(1);
  }
  return pid;
}

int
main(void)
{
  open_console();

  for (;;) {
    printf("init: starting sh\n");
    int shell = start_shell();
    if (shell < 0) {
      fprintf(2, "init: fork failed\n");
      sleep(100);
      continue;
    }
    // Reap everything that exits until the shell itself does.
    int status = 0;
    for (;;) {
      int pid = wait(&status);
      if (pid == shell)
        break;
      if (pid < 0) {
        // No children at all: cannot happen while the shell lives, but
        // never spin on it.
        fprintf(2, "init: wait failed\n");
        break;
      }
    }
    // A shell that failed (for example /sh cannot be run) is restarted
    // after a pause rather than in a tight loop.
    if (status != 0)
      sleep(100);
  }
}
