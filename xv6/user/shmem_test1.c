// shmem_test1: the parent shares a page with its child; the child reads
// "Hello child" through the shared mapping.  The child exits without
// unmapping: the kernel must clean the mapping up by itself.
//
// The string is written after fork(), so the child can only see it through
// the shared page, not through its copy of the parent's memory.
#include "kernel/types.h"
#include "user/user.h"

int
main(void)
{
  int addr_pipe[2];
  if (pipe(addr_pipe) < 0) {
    fprintf(2, "shmem_test1: pipe failed\n");
    exit(1);
  }
  char *buf = malloc(4096);
  if (buf == 0) {
    fprintf(2, "shmem_test1: malloc failed\n");
    exit(1);
  }

  int pid = fork();
  if (pid < 0) {
    fprintf(2, "shmem_test1: fork failed\n");
    exit(1);
  }
  if (pid == 0) {
    char *shared;
    close(addr_pipe[1]);
    if (read(addr_pipe[0], &shared, sizeof(shared)) != sizeof(shared)) {
      fprintf(2, "child: no address from the parent\n");
      exit(1);
    }
    printf("child: %s\n", shared);
    exit(0);   // no unmap: exit() must release the mapping
  }

  close(addr_pipe[0]);
  strcpy(buf, "Hello child");
  char *in_child = map_shared_pages(pid, buf, strlen(buf) + 1);
  if (in_child == (char *)-1) {
    fprintf(2, "parent: map_shared_pages failed\n");
    kill(pid);
    wait(0);
    exit(1);
  }
  printf("parent: shared \"%s\" with the child\n", buf);
  write(addr_pipe[1], &in_child, sizeof(in_child));
  close(addr_pipe[1]);

  int status;
  wait(&status);
  printf("parent: child exited with status %d\n", status);
  exit(status);
}
