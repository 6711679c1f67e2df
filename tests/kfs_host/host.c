// Host driver for the kernel storage code: boots the file system from an
// image file, runs a script of system calls from stdin, prints each result,
// and saves the disk.
//
//   kfs IMAGE_IN IMAGE_OUT < script
//
// Script lines (numbers may be decimal or 0x hex):
//   open PATH FLAGS | mkdir PATH | mknod PATH MAJOR MINOR | unlink PATH
//   link OLD NEW | chdir PATH | close FD | dup FD | fstat FD | pipe
//   write FD TEXT...        (rest of the line, "\n" becomes a newline)
//   fill FD N SEED          (N pattern bytes in one write call)
//   read FD N               (prints the bytes read, escaped)
//   readsum FD N            (prints the count and an FNV-1a hash of them)
//   badread FD | badwrite FD | badfstat FD | badopen | badpipe
//                           (pass an unmapped user pointer)
//   longpath N              (open of a path of N 'a' characters)
//   crash N                 (the disk keeps only the next N block writes)
//   kill 0|1                (mark the process killed or not)
//   exit                    (close all files and the cwd)
// Output: "= RESULT" per call (plus data for read/fstat/pipe); a kernel
// panic prints "panic: ..." and exits with status 3.

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/syscall.h"

typedef unsigned char uchar;
typedef uint64_t uint64;

#define BSIZE 1024

void glue_boot(void);
uint64 glue_syscall(int num, uint64 a0, uint64 a1, uint64 a2);
#define SYS(name, a0, a1, a2) glue_syscall(SYS_##name, (uint64)(a0), (uint64)(a1), (uint64)(a2))
void glue_set_killed(int k);
void glue_exit(void);

static uchar *live;        // what the running kernel sees
static uchar *persisted;   // what survives a crash
static size_t nblocks;
static long writes_left = -1;   // -1: no crash planned
static long disk_writes;

void
host_print(const char *s)
{
  fputs(s, stdout);
}

void
host_die(const char *why)
{
  printf("panic: %s\n", why);
  fflush(stdout);
  exit(3);
}

void *
host_page(void)
{
  return aligned_alloc(4096, 4096);
}

void
host_free_page(void *pa)
{
  memset(pa, 0x5a, 4096);   // catch use after free
  free(pa);
}

void
host_disk(uchar *data, unsigned blockno, int write)
{
  if(blockno >= nblocks){
    printf("panic: disk access to block %u beyond the %zu-block image\n", blockno, nblocks);
    exit(3);
  }
  uchar *at = live + (size_t)blockno * BSIZE;
  if(!write){
    memcpy(data, at, BSIZE);
    return;
  }
  memcpy(at, data, BSIZE);
  disk_writes++;
  if(writes_left != 0){
    memcpy(persisted + (size_t)blockno * BSIZE, data, BSIZE);
    if(writes_left > 0)
      writes_left--;
  }
}

static uchar
pattern_byte(uint64 seed, uint64 i)
{
  uint64 x = seed * 0x9E3779B97F4A7C15ull + i * 0xBF58476D1CE4E5B9ull;
  x ^= x >> 31;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 29;
  return (uchar)x;
}

static uint64
num(const char *s)
{
  if(s == 0){
    fprintf(stderr, "kfs: missing number in script\n");
    exit(2);
  }
  return strtoull(s, 0, 0);
}

static void
result(uint64 r)
{
  printf("= %ld\n", (long)r);
}

static void
print_escaped(const uchar *p, long n)
{
  putchar('"');
  for(long i = 0; i < n; i++){
    if(p[i] == '\n')
      fputs("\\n", stdout);
    else if(p[i] >= 32 && p[i] < 127 && p[i] != '"' && p[i] != '\\')
      putchar(p[i]);
    else
      printf("\\x%02x", p[i]);
  }
  puts("\"");
}

#define BAD ((uint64)0x100)

static void
run(char *line)
{
  char *rest = 0;
  char *cmd = strtok_r(line, " \t\n", &rest);
  if(cmd == 0 || cmd[0] == '#')
    return;
  char *a1 = strtok_r(0, " \t\n", &rest);
  char tail[4096];       // what follows the first argument, untokenised
  snprintf(tail, sizeof(tail), "%s", rest ? rest : "");
  char *a2 = strtok_r(0, " \t\n", &rest);
  char *a3 = strtok_r(0, " \t\n", &rest);

  if(strcmp(cmd, "open") == 0){
    result(SYS(open, (uint64)a1, num(a2), 0));
  } else if(strcmp(cmd, "mkdir") == 0){
    result(SYS(mkdir, (uint64)a1, 0, 0));
  } else if(strcmp(cmd, "mknod") == 0){
    result(SYS(mknod, (uint64)a1, num(a2), num(a3)));
  } else if(strcmp(cmd, "unlink") == 0){
    result(SYS(unlink, (uint64)a1, 0, 0));
  } else if(strcmp(cmd, "link") == 0){
    result(SYS(link, (uint64)a1, (uint64)a2, 0));
  } else if(strcmp(cmd, "chdir") == 0){
    result(SYS(chdir, (uint64)a1, 0, 0));
  } else if(strcmp(cmd, "close") == 0){
    result(SYS(close, num(a1), 0, 0));
  } else if(strcmp(cmd, "dup") == 0){
    result(SYS(dup, num(a1), 0, 0));
  } else if(strcmp(cmd, "fstat") == 0){
    struct { int dev; unsigned ino; short type; short nlink; uint64 size; } st;
    uint64 r = SYS(fstat, num(a1), (uint64)&st, 0);
    result(r);
    if((long)r == 0)
      printf("dev=%d ino=%u type=%d nlink=%d size=%lu\n",
             st.dev, st.ino, st.type, st.nlink, (unsigned long)st.size);
  } else if(strcmp(cmd, "pipe") == 0){
    int fds[2] = {-9, -9};
    result(SYS(pipe, (uint64)fds, 0, 0));
    printf("fds %d %d\n", fds[0], fds[1]);
  } else if(strcmp(cmd, "write") == 0){
    // The text is everything after the descriptor, with \n unescaped.
    char *text = tail + strspn(tail, " \t");
    char buf[4096];
    size_t n = 0;
    for(char *p = text; *p && *p != '\n' && n < sizeof(buf); p++){
      if(p[0] == '\\' && p[1] == 'n'){
        buf[n++] = '\n';
        p++;
      } else {
        buf[n++] = *p;
      }
    }
    result(SYS(write, num(a1), (uint64)buf, n));
  } else if(strcmp(cmd, "fill") == 0){
    uint64 n = num(a2), seed = num(a3);
    uchar *buf = malloc(n + 1);
    for(uint64 i = 0; i < n; i++)
      buf[i] = pattern_byte(seed, i);
    result(SYS(write, num(a1), (uint64)buf, n));
    free(buf);
  } else if(strcmp(cmd, "read") == 0 || strcmp(cmd, "readsum") == 0){
    uint64 n = num(a2);
    uchar *buf = malloc(n + 1);
    long r = (long)SYS(read, num(a1), (uint64)buf, n);
    result(r);
    if(r > 0 && cmd[4] == 0){
      print_escaped(buf, r);
    } else if(r >= 0 && cmd[4] == 's'){
      uint64 h = 0xcbf29ce484222325ull;
      for(long i = 0; i < r; i++)
        h = (h ^ buf[i]) * 0x100000001b3ull;
      printf("fnv %016llx\n", (unsigned long long)h);
    }
    free(buf);
  } else if(strcmp(cmd, "badread") == 0){
    result(SYS(read, num(a1), BAD, 10));
  } else if(strcmp(cmd, "badwrite") == 0){
    result(SYS(write, num(a1), BAD, 10));
  } else if(strcmp(cmd, "badfstat") == 0){
    result(SYS(fstat, num(a1), BAD, 0));
  } else if(strcmp(cmd, "badopen") == 0){
    result(SYS(open, BAD, 0, 0));
  } else if(strcmp(cmd, "badpipe") == 0){
    result(SYS(pipe, BAD, 0, 0));
  } else if(strcmp(cmd, "longpath") == 0){
    uint64 n = num(a1);
    char *p = malloc(n + 1);
    memset(p, 'a', n);
    p[n] = 0;
    result(SYS(open, (uint64)p, 0x202, 0));
    free(p);
  } else if(strcmp(cmd, "crash") == 0){
    writes_left = (long)num(a1);
  } else if(strcmp(cmd, "kill") == 0){
    glue_set_killed((int)num(a1));
  } else if(strcmp(cmd, "exit") == 0){
    glue_exit();
  } else {
    fprintf(stderr, "kfs: unknown command '%s'\n", cmd);
    exit(2);
  }
}

int
main(int argc, char **argv)
{
  if(argc != 3){
    fprintf(stderr, "usage: kfs IMAGE_IN IMAGE_OUT < script\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if(f == 0){
    perror(argv[1]);
    return 2;
  }
  fseek(f, 0, SEEK_END);
  long bytes = ftell(f);
  rewind(f);
  nblocks = bytes / BSIZE;
  live = malloc(nblocks * BSIZE + 1);
  persisted = malloc(nblocks * BSIZE + 1);
  if(fread(live, BSIZE, nblocks, f) != nblocks){
    perror(argv[1]);
    return 2;
  }
  fclose(f);
  memcpy(persisted, live, nblocks * BSIZE);

  setvbuf(stdout, 0, _IOLBF, 0);
  glue_boot();
  printf("booted\n");

  char line[8192];
  while(fgets(line, sizeof(line), stdin))
    run(line);

  printf("disk writes %ld\n", disk_writes);
  f = fopen(argv[2], "wb");
  if(f == 0 || fwrite(persisted, BSIZE, nblocks, f) != nblocks || fclose(f) != 0){
    perror(argv[2]);
    return 2;
  }
  return 0;
}
