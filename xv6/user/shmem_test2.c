// shmem_test2: the parent shares a page with its child, the child writes
// "Hello daddy" into it and the parent prints it.  The child then unmaps the
// page and shows that malloc() still works, printing its size before the
// mapping, after it, after the unmapping and after malloc().  The size after
// unmapping must equal the size before the mapping.
#include "kernel/types.h"
#include "user/user.h"

// Two pipes carry the handshake: the child says "ready" and "written", the
// parent answers with the mapped address and "read".
static int to_parent[2], to_child[2];

// More than malloc keeps in reserve, so that the heap must grow into the
// addresses the shared page used.
#define MALLOC_BYTES (20 * 4096)

static void
send(int fd, void *v, int n)
{
  if (write(fd, v, n) != n) {
    fprintf(2, "shmem_test2: pipe write failed\n");
    exit(1);
  }
}

static void
receive(int fd, void *v, int n)
{
  if (read(fd, v, n) != n) {
    fprintf(2, "shmem_test2: pipe read failed\n");
    exit(1);
  }
}

static void
child(void)
{
  char ok = 1;
  char *shared;
  uint64 before = (uint64)sbrk(0);
  printf("child: size before map: %ld\n", before);
  send(to_parent[1], &ok, 1);

  receive(to_child[0], &shared, sizeof(shared));
  uint64 mapped = (uint64)sbrk(0);
  printf("child: size after map: %ld\n", mapped);
  strcpy(shared, "Hello daddy");
  send(to_parent[1], &ok, 1);

  receive(to_child[0], &ok, 1);   // the parent has printed it
  if (unmap_shared_pages(shared, 12) < 0) {
    fprintf(2, "child: unmap_shared_pages failed\n");
    exit(1);
  }
  uint64 after = (uint64)sbrk(0);
  printf("child: size after unmap: %ld\n", after);

  char *p = malloc(MALLOC_BYTES);
  if (p == 0) {
    fprintf(2, "child: malloc failed\n");
    exit(1);
  }
  memset(p, 'x', MALLOC_BYTES);
  printf("child: size after malloc: %ld\n", (uint64)sbrk(0));
  exit(after == before ? 0 : 1);
}

int
main(void)
{
  if (pipe(to_parent) < 0 || pipe(to_child) < 0) {
    fprintf(2, "shmem_test2: pipe failed\n");
    exit(1);
  }
  char *buf = malloc(4096);
  if (buf == 0) {
    fprintf(2, "shmem_test2: malloc failed\n");
    exit(1);
  }
  buf[0] = 0;

  int pid = fork();
  if (pid < 0) {
    fprintf(2, "shmem_test2: fork failed\n");
    exit(1);
  }
  if (pid == 0)
    child();

  char ok;
  receive(to_parent[0], &ok, 1);
  char *in_child = map_shared_pages(pid, buf, 4096);
  if (in_child == (char *)-1) {
    fprintf(2, "parent: map_shared_pages failed\n");
    kill(pid);
    wait(0);
    exit(1);
  }
  send(to_child[1], &in_child, sizeof(in_child));

  receive(to_parent[0], &ok, 1);
  printf("parent: %s\n", buf);
  send(to_child[1], &ok, 1);

  int status;
  wait(&status);
  printf("parent: child exited with status %d\n", status);
  exit(status);
}
