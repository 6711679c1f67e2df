// systest: the system test, our counterpart of xv6's usertests.  It checks
// every system call from user space, with good arguments and bad ones, and
// then the system's limits: the process table, memory (sbrk to the limit,
// out of memory at every allocation), the largest file and directory, a
// full disk and inode table, pipes under load, kill at every point, bad
// binaries.  Whatever a test does, the kernel must not panic.
//
//   systest            run every test but the slow one (dirfull)
//   systest -q         run the quick ones (what the simulated SoC runs)
//   systest -a         run all of them
//   systest NAME ...   run the named tests (with -q: with fewer rounds)
//   systest -l         list the tests
//
// Each test runs in a child process.  A failed check prints "FAIL <test>:
// ..."; after the test comes "<test>: ok" or "<test>: FAILED (n)".  A test
// also fails if its process dies, or if physical pages are missing once its
// processes are gone (a leak).  The last line is "ALL TESTS PASSED" (exit
// status 0) or "N of M FAILED: <names>" (exit status 1).
//
// Scratch files live in /st_tmp, made empty before each test and removed at
// the end.
// systest also runs itself with exec() in a few modes that are not meant
// for people (see main()).
//
// The user stack is a single page, so big buffers are static.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/fs.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/syscall.h"
#include "user/user.h"

#define SCRATCH "/st_tmp"
#define SELF    "/systest"

// Addresses a user process must never be able to read or write.
#define ADDR_ABOVE_MAXVA   0xffffffffffUL        // beyond Sv39's user range
#define ADDR_KERNEL        KERNBASE               // kernel RAM, not mapped for users
#define ADDR_TRAPFRAME     TRAPFRAME              // mapped, but without PTE_U
#define ADDR_TRAMPOLINE    TRAMPOLINE             // mapped, but without PTE_U

// Set by -q: tests with many rounds do fewer of them.
static int quick;
// Set by -a: the slow tests run too.
static int all;

// ---- Bookkeeping ------------------------------------------------------

// The test this process runs and its failed checks so far.
static const char *test_name;
static int failures;

static void
fail_eq(int line, const char *what, long got, long want)
{
  printf("FAIL %s: %s: got %ld, want %ld (systest.c:%d)\n",
         test_name, what, got, want, line);
  failures++;
}

static void
fail_cond(int line, const char *what, long shown)
{
  printf("FAIL %s: %s: not true (value %ld, systest.c:%d)\n",
         test_name, what, shown, line);
  failures++;
}

// check_eq(value, expected, "what it means"): both sides are evaluated
// exactly once and compared as longs.
#define check_eq(got, want, what) do { \
    long got_ = (long)(got); \
    long want_ = (long)(want); \
    if (got_ != want_) \
      fail_eq(__LINE__, (what), got_, want_); \
  } while (0)

// check(condition, "what it means", a value worth showing if it fails)
#define check(cond, what, shown) do { \
    if (!(cond)) \
      fail_cond(__LINE__, (what), (long)(shown)); \
  } while (0)

static char big[16 * 1024];     // data to write
static char back[16 * 1024];    // data read back

// Byte i of a recognisable pattern (different for different seeds).
static char
pattern(int seed, int i)
{
  return (char)((i * 7 + seed * 13 + (i >> 8)) & 0xff);
}

static void
fill(char *buf, int n, int seed)
{
  for (int i = 0; i < n; i++)
    buf[i] = pattern(seed, i);
}

// Index of the first byte of buf that breaks the pattern, or -1.
static int
first_mismatch(const char *buf, int n, int seed)
{
  for (int i = 0; i < n; i++) {
    if (buf[i] != pattern(seed, i))
      return i;
  }
  return -1;
}

// Read until EOF (or n bytes).  Returns the count, or -1 on an error.
static int
read_all(int fd, char *buf, int n)
{
  int total = 0;
  while (total < n) {
    int got = read(fd, buf + total, n - total);
    if (got < 0)
      return -1;
    if (got == 0)
      break;
    total += got;
  }
  return total;
}

// A file holding exactly `text`; returns 0 or -1.
static int
make_file(const char *path, const char *text)
{
  int fd = open(path, O_CREATE | O_WRONLY | O_TRUNC);
  if (fd < 0)
    return -1;
  int len = strlen(text);
  int wrote = write(fd, text, len);
  close(fd);
  return wrote == len ? 0 : -1;
}

// Remove path and, if it is a directory, everything below it.
static void
remove_tree(const char *path)
{
  struct stat st;
  if (stat(path, &st) < 0)
    return;
  if (st.type == T_DIR) {
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
      struct dirent de;
      char child[MAXPATH];
      int len = strlen(path);
      while (read(fd, &de, sizeof(de)) == sizeof(de)) {
        if (de.inum == 0 || strcmp(de.name, ".") == 0 || strcmp(de.name, "..") == 0)
          continue;
        if (len + 2 + DIRSIZ > MAXPATH)
          break;
        strcpy(child, path);
        child[len] = '/';
        memmove(child + len + 1, de.name, DIRSIZ);
        child[len + 1 + DIRSIZ] = '\0';
        remove_tree(child);
      }
      close(fd);
    }
  }
  unlink(path);
}

// out = prefix followed by n as two digits (n < 100).
static void
numbered(char *out, const char *prefix, int n)
{
  int len = strlen(prefix);
  strcpy(out, prefix);
  out[len] = '0' + n / 10;
  out[len + 1] = '0' + n % 10;
  out[len + 2] = '\0';
}

// How many more files this process can open right now (all closed again).
static int
free_fd_count(void)
{
  static int fds[NOFILE + 1];
  int n = 0;
  while (n <= NOFILE) {
    int fd = open("/", O_RDONLY);
    if (fd < 0)
      break;
    fds[n++] = fd;
  }
  for (int i = 0; i < n; i++)
    close(fds[i]);
  return n;
}

// Wait for the child pid and return its exit status; -1000 if wait()
// returned something else (which is reported).
static int
reap(int pid)
{
  int status = -12345;
  int got = wait(&status);
  check_eq(got, pid, "wait() returns the child's pid");
  return got == pid ? status : -1000;
}

// Fork children that block on a pipe until fork() fails, then let them go
// and reap them.  Returns how many fitted in the process table.
static int
fill_process_table(void)
{
  int gate[2];
  if (pipe(gate) < 0) {
    fail_cond(__LINE__, "pipe() for the process table gate", -1);
    return -1;
  }
  int forked = 0, pid = 0;
  for (int i = 0; i < NPROC + 1; i++) {
    pid = fork();
    if (pid == 0) {
      char c;
      close(gate[1]);
      read(gate[0], &c, 1);     // returns 0 when the parent closes gate[1]
      exit(0);
    }
    if (pid < 0)
      break;
    forked++;
  }
  check_eq(pid, -1, "fork() with a full process table");
  close(gate[0]);
  close(gate[1]);
  int reaped = 0;
  while (wait(0) > 0)
    reaped++;
  check_eq(reaped, forked, "children reaped after a full process table");
  return forked;
}

// The process table's free slots once the processes a test left behind
// (orphans that init reaps) are gone: fill_process_table() until it gives
// `expect`, for up to about a second.
static int
process_table_settles(int expect)
{
  int got = -1;
  for (int tries = 0; tries < 50; tries++) {
    got = fill_process_table();
    if (got == expect)
      break;
    sleep(2);
  }
  return got;
}

// Pages missing from the free pool compared with `before`, once a test's
// processes have gone: orphans are reaped by init a moment later, so wait
// up to about a second for the count to come back.
static int
missing_pages(int before)
{
  for (int tries = 0; tries < 50 && freepages() < before; tries++)
    sleep(2);
  int now = freepages();
  return now < before ? before - now : 0;
}

// ---- the C library (ulib.c) ---------------------------------------------

static void
check_str(int line, const char *got, const char *want, const char *what)
{
  if (strcmp(got, want) != 0) {
    printf("FAIL %s: %s: got \"%s\", want \"%s\" (systest.c:%d)\n",
           test_name, what, got, want, line);
    failures++;
  }
}

static void
test_ulib(void)
{
  static char buf[64];

  check_eq(strlen(""), 0, "strlen of an empty string");
  check_eq(strlen("hello"), 5, "strlen");
  check_eq(strcmp("abc", "abc"), 0, "strcmp of equal strings");
  check(strcmp("abc", "abd") < 0, "strcmp: abc < abd", strcmp("abc", "abd"));
  check(strcmp("abd", "abc") > 0, "strcmp: abd > abc", strcmp("abd", "abc"));
  check(strcmp("ab", "abc") < 0, "strcmp: a prefix is smaller", strcmp("ab", "abc"));
  check(strcmp("\xff", "a") > 0, "strcmp compares unsigned bytes", strcmp("\xff", "a"));
  check_eq((uint64)strcpy(buf, "copied"), (uint64)buf, "strcpy returns dst");
  check_str(__LINE__, buf, "copied", "strcpy");
  const char *hello = "hello";
  check_eq((uint64)strchr(hello, 'l'), (uint64)(hello + 2), "strchr finds the first match");
  check_eq((uint64)strchr(hello, 'z'), 0, "strchr of a missing character");

  memset(buf, 'x', 10);
  buf[10] = '\0';
  check_str(__LINE__, buf, "xxxxxxxxxx", "memset");
  check_eq(memcmp("abc", "abc", 3), 0, "memcmp equal");
  check(memcmp("abc", "abd", 3) < 0, "memcmp smaller", memcmp("abc", "abd", 3));
  check(memcmp("\x80", "\x01", 1) > 0, "memcmp compares unsigned bytes", 0);
  check_eq(memcmp("abc", "abd", 2), 0, "memcmp stops after n bytes");

  strcpy(buf, "0123456789");
  memmove(buf + 2, buf, 5);
  check_str(__LINE__, buf, "0101234789", "memmove to a higher overlapping address");
  strcpy(buf, "0123456789");
  memmove(buf, buf + 2, 5);
  check_str(__LINE__, buf, "2345656789", "memmove to a lower overlapping address");
  strcpy(buf, "..........");
  check_eq((uint64)memcpy(buf + 1, "abc", 3), (uint64)(buf + 1), "memcpy returns dst");
  check_str(__LINE__, buf, ".abc......", "memcpy");

  check_eq(atoi("123"), 123, "atoi");
  check_eq(atoi("-45"), -45, "atoi of a negative number");
  check_eq(atoi("12ab"), 12, "atoi stops at a non-digit");
  check_eq(atoi(""), 0, "atoi of an empty string");

  struct stat st;
  check_eq(stat("/", &st), 0, "stat /");
  check_eq(st.type, T_DIR, "stat / is a directory");
  check_eq(stat("/no-such-file", &st), -1, "stat of a missing file");

  // gets() reads standard input: give a child a pipe as fd 0.
  int ends[2];
  check_eq(pipe(ends), 0, "pipe()");
  int pid = fork();
  if (pid == 0) {
    close(0);
    dup(ends[0]);
    close(ends[0]);
    close(ends[1]);
    failures = 0;
    check_str(__LINE__, gets(buf, sizeof(buf)), "line one\n", "gets of a whole line");
    check_str(__LINE__, gets(buf, 5), "line", "gets stops at max-1 characters");
    check_str(__LINE__, gets(buf, sizeof(buf)), " two\n", "gets of the rest of the line");
    check_str(__LINE__, gets(buf, sizeof(buf)), "last", "gets of a line without newline");
    check_str(__LINE__, gets(buf, sizeof(buf)), "", "gets at end of input");
    exit(failures);
  }
  close(ends[0]);
  const char *input = "line one\nline two\nlast";
  check_eq(write(ends[1], input, strlen(input)), strlen(input), "write the gets input");
  close(ends[1]);
  check_eq(reap(pid), 0, "failed gets checks in the child");

}

// ---- printf ---------------------------------------------------------------

// fprintf into a pipe and compare what comes out.  The pipe holds more
// than any single line below, so one process can do both ends.
static int capture_ends[2];

static void
capture_begin(void)
{
  if (pipe(capture_ends) < 0) {
    capture_ends[0] = capture_ends[1] = -1;
    fail_cond(__LINE__, "pipe() for printf capture", -1);
  }
}

static const char *
capture_end(void)
{
  static char text[512];
  close(capture_ends[1]);
  int n = read_all(capture_ends[0], text, sizeof(text) - 1);
  close(capture_ends[0]);
  text[n < 0 ? 0 : n] = '\0';
  return text;
}

#define check_printed(want, ...) do { \
    capture_begin(); \
    fprintf(capture_ends[1], __VA_ARGS__); \
    check_str(__LINE__, capture_end(), (want), #__VA_ARGS__); \
  } while (0)

static void
test_printf(void)
{
  check_printed("plain text", "plain text");
  check_printed("0 -42 2147483647 -2147483648", "%d %d %d %d", 0, -42, 2147483647,
                (int)0x80000000);
  check_printed("deadbeef 0", "%x %x", 0xdeadbeefU, 0U);
  check_printed("4294967295", "%u", 0xffffffffU);
  check_printed("-9000000000 123456789abcdef", "%ld %lx", -9000000000L, 0x123456789abcdefUL);
  check_printed("18446744073709551615", "%lu", 18446744073709551615UL);
  check_printed("-9223372036854775808", "%ld", (long)0x8000000000000000UL);
  check_printed("0x0000000000001234", "%p", (void*)0x1234);
  check_printed("[str] [x] [%]", "[%s] [%c] [%%]", "str", 'x');
  const char * volatile null_string = 0;   // hidden from the format check
  check_printed("(null)", "%s", null_string);

  // Unknown conversions are printed as written.  (A format that is not
  // a literal, so that the compiler's format check lets it through.)
  static const char *odd_formats[] = { "a%qb", "%ly!", "end%", "end%l" };
  static const char *odd_results[] = { "a%qb", "%ly!", "end%", "end%l" };
  for (int i = 0; i < 4; i++) {
    capture_begin();
    fprintf(capture_ends[1], odd_formats[i], 1);
    check_str(__LINE__, capture_end(), odd_results[i], "unknown conversion");
  }

  // More than printf's internal buffer in one call.
  static char longer[301];
  for (int i = 0; i < 300; i++)
    longer[i] = 'a' + i % 26;
  longer[300] = '\0';
  static char want[320];
  strcpy(want, "<");
  strcpy(want + 1, longer);
  strcpy(want + 301, ">");
  check_printed(want, "<%s>", longer);

}

// ---- fork, exit, wait -------------------------------------------------

#define NKIDS 5

static void
test_fork(void)
{
  int kids[NKIDS];
  int seen[NKIDS];

  for (int i = 0; i < NKIDS; i++) {
    kids[i] = fork();
    if (kids[i] == 0)
      exit(20 + i);
    check(kids[i] > 0, "fork() returns a pid", kids[i]);
    seen[i] = 0;
  }
  for (int round = 0; round < NKIDS; round++) {
    int status = -1;
    int pid = wait(&status);
    int which = -1;
    for (int i = 0; i < NKIDS; i++) {
      if (kids[i] == pid)
        which = i;
    }
    check(which >= 0, "wait() returns one of the children", pid);
    if (which < 0)
      continue;
    check_eq(seen[which], 0, "wait() returns each child once");
    seen[which]++;
    check_eq(status, 20 + which, "exit status of a child");
  }
  check_eq(wait(0), -1, "wait() with no children left");

  // The child's getpid() is what fork() told the parent; negative exit
  // statuses survive; wait(0) ignores the status.
  int me = getpid();
  int pid = fork();
  if (pid == 0)
    exit(getpid());
  check_eq(reap(pid), pid, "child's getpid() equals fork()'s result");
  check(pid != me, "child pid differs from the parent's", pid);
  check_eq(getpid(), me, "parent's getpid() unchanged");

  pid = fork();
  if (pid == 0)
    exit(-7);
  check_eq(reap(pid), -7, "negative exit status");

  pid = fork();
  if (pid == 0)
    exit(0);
  check_eq(wait(0), pid, "wait(0) reaps the child");

  // A child has its own copy of memory.
  static volatile int shared_value;
  shared_value = 1;
  pid = fork();
  if (pid == 0) {
    shared_value = 2;
    exit(shared_value);
  }
  check_eq(reap(pid), 2, "child sees its own write");
  check_eq(shared_value, 1, "child's write does not reach the parent");

  // Grandchildren: a child forks, exits without waiting; init adopts the
  // grandchild and only the child is ours to wait for.
  pid = fork();
  if (pid == 0) {
    int grandchild = fork();
    if (grandchild == 0) {
      sleep(1);
      exit(0);
    }
    exit(grandchild > 0 ? 0 : 1);
  }
  check_eq(reap(pid), 0, "child that forked a grandchild");
  check_eq(wait(0), -1, "orphaned grandchild is not our child");

  // Fill the process table: fork() then fails with -1, and once the
  // children are released everything is reaped.
  int forked = fill_process_table();
  check(forked > 0 && forked < NPROC, "children that fit in the process table", forked);
  pid = fork();
  if (pid == 0)
    exit(5);
  check_eq(reap(pid), 5, "fork works again afterwards");
}

// ---- exec -----------------------------------------------------------------

// The echoargs mode: print "argc=N" and the arguments between brackets.
static void
echo_args(int argc, char *argv[])
{
  printf("argc=%d", argc);
  for (int i = 0; i < argc; i++)
    printf(" [%s]", argv[i]);
  printf("\n");
  exit(0);
}

static void
test_exec(void)
{

  int ends[2];
  check_eq(pipe(ends), 0, "pipe() for exec output");
  int pid = fork();
  if (pid == 0) {
    close(1);
    dup(ends[1]);
    close(ends[0]);
    close(ends[1]);
    char *args[] = { "systest", "echoargs", "hello", "", "w o r l d", 0 };
    exec(SELF, args);
    exit(99);          // exec failed
  }
  close(ends[1]);
  static char out[256];
  int n = read_all(ends[0], out, sizeof(out) - 1);
  close(ends[0]);
  check_eq(reap(pid), 0, "exec'ed program's exit status");
  const char *want = "argc=5 [systest] [echoargs] [hello] [] [w o r l d]\n";
  check_eq(n, strlen(want), "length of the exec'ed program's output");
  if (n >= 0) {
    out[n] = '\0';
    check_eq(strcmp(out, want), 0, "exec'ed program saw the arguments");
    if (strcmp(out, want) != 0)
      printf("  output was: %s", out);
  }

  // Failures return -1 in the calling process, which carries on.
  char *none[] = { "nothing", 0 };
  check_eq(exec("/no-such-program", none), -1, "exec of a missing file");
  check_eq(exec("/", none), -1, "exec of a directory");
  check_eq(make_file(SCRATCH "/notelf", "#!/bin/sh\necho this is no ELF file\n"), 0,
           "create a text file");
  check_eq(exec(SCRATCH "/notelf", none), -1, "exec of a file that is not an ELF");

  // An ELF header with a wrong machine/class: a copy of ourselves with
  // one header byte changed.
  int fd = open(SELF, O_RDONLY);
  check(fd >= 0, "open " SELF, fd);
  int len = read_all(fd, big, 1024);
  close(fd);
  check_eq(len, 1024, "read the ELF header of " SELF);
  big[4] = 1;                        // EI_CLASS: 32-bit
  fd = open(SCRATCH "/elf32", O_CREATE | O_WRONLY);
  check_eq(write(fd, big, len), len, "write a damaged ELF");
  close(fd);
  check_eq(exec(SCRATCH "/elf32", none), -1, "exec of a 32-bit ELF");

  // Too many arguments.
  static char *many[MAXARG + 10];
  for (int i = 0; i < MAXARG + 8; i++)
    many[i] = "x";
  many[MAXARG + 8] = 0;
  check_eq(exec(SELF, many), -1, "exec with more than MAXARG arguments");

}

// ---- pipes ------------------------------------------------------------

#define PIPE_BYTES 5000

static void
test_pipe(void)
{
  int ends[2] = { -1, -1 };
  check_eq(pipe(ends), 0, "pipe()");
  check(ends[0] >= 0 && ends[1] >= 0 && ends[0] != ends[1], "two distinct fds", ends[1]);

  // More than a pipe buffer's worth, in odd-sized pieces.
  int pid = fork();
  if (pid == 0) {
    close(ends[0]);
    fill(big, PIPE_BYTES, 3);
    int sent = 0, piece = 1;
    while (sent < PIPE_BYTES) {
      int n = piece;
      if (n > PIPE_BYTES - sent)
        n = PIPE_BYTES - sent;
      if (write(ends[1], big + sent, n) != n)
        exit(1);
      sent += n;
      piece = piece * 3 + 1;
      if (piece > 1500)
        piece = 7;
    }
    exit(0);
  }
  close(ends[1]);
  memset(back, 0, PIPE_BYTES);
  int got = read_all(ends[0], back, PIPE_BYTES + 100);
  check_eq(got, PIPE_BYTES, "bytes through the pipe before EOF");
  check_eq(first_mismatch(back, PIPE_BYTES, 3), -1, "data through the pipe");
  check_eq(read(ends[0], back, 10), 0, "read after EOF keeps returning 0");
  check_eq(reap(pid), 0, "writer's exit status");
  close(ends[0]);

  // Writing with no reader left fails.
  check_eq(pipe(ends), 0, "pipe()");
  close(ends[0]);
  check_eq(write(ends[1], "x", 1), -1, "write to a pipe without readers");
  close(ends[1]);

  // Data written before the writer closed is still read, then EOF.
  check_eq(pipe(ends), 0, "pipe()");
  check_eq(write(ends[1], "abc", 3), 3, "write 3 bytes");
  close(ends[1]);
  static char small[8];
  check_eq(read(ends[0], small, sizeof(small)), 3, "read what was left");
  check_eq(read(ends[0], small, sizeof(small)), 0, "then EOF");
  close(ends[0]);

  // Wrong direction.
  check_eq(pipe(ends), 0, "pipe()");
  check_eq(write(ends[0], "x", 1), -1, "write to the read end");
  check_eq(read(ends[1], small, 1), -1, "read from the write end");
  close(ends[0]);
  close(ends[1]);

}

// ---- files ------------------------------------------------------------

#define FILE_BYTES  1500                  // crosses a block boundary
#define LARGE_BYTES ((NDIRECT + 2) * BSIZE) // needs the indirect block

static void
test_files(void)
{
  struct stat st;

  check_eq(open(SCRATCH "/missing", O_RDONLY), -1, "open of a missing file");

  int fd = open(SCRATCH "/f1", O_CREATE | O_RDWR);
  check(fd >= 3, "create a file", fd);
  fill(big, FILE_BYTES, 5);
  check_eq(write(fd, big, FILE_BYTES), FILE_BYTES, "write");
  check_eq(fstat(fd, &st), 0, "fstat");
  check_eq(st.type, T_FILE, "fstat type");
  check_eq(st.size, FILE_BYTES, "fstat size after write");
  check_eq(st.nlink, 1, "fstat nlink");
  close(fd);

  fd = open(SCRATCH "/f1", O_RDONLY);
  check(fd >= 0, "reopen", fd);
  memset(back, 0, FILE_BYTES);
  check_eq(read_all(fd, back, FILE_BYTES + 10), FILE_BYTES, "read back length");
  check_eq(first_mismatch(back, FILE_BYTES, 5), -1, "read back data");
  check_eq(read(fd, back, 10), 0, "read at end of file");
  check_eq(write(fd, "x", 1), -1, "write to a read-only fd");
  close(fd);

  fd = open(SCRATCH "/f1", O_WRONLY);
  check_eq(read(fd, back, 1), -1, "read from a write-only fd");
  close(fd);

  // Two descriptors from dup() share one offset.
  fd = open(SCRATCH "/f1", O_RDWR | O_TRUNC);
  check_eq(fstat(fd, &st), 0, "fstat after O_TRUNC");
  check_eq(st.size, 0, "size after O_TRUNC");
  int other = dup(fd);
  check(other >= 0 && other != fd, "dup()", other);
  check_eq(write(fd, "ab", 2), 2, "write through the original");
  check_eq(write(other, "cd", 2), 2, "write through the duplicate");
  close(fd);
  close(other);
  fd = open(SCRATCH "/f1", O_RDONLY);
  static char text[16];
  memset(text, 0, sizeof(text));
  check_eq(read(fd, text, sizeof(text)), 4, "size after dup writes");
  check_eq(strcmp(text, "abcd"), 0, "dup'ed fds share the offset");
  close(fd);

  // A file that needs the indirect block.
  fd = open(SCRATCH "/large", O_CREATE | O_RDWR);
  fill(big, LARGE_BYTES, 9);
  int written = 0;
  while (written < LARGE_BYTES) {
    int n = LARGE_BYTES - written;
    if (n > 1000)
      n = 1000;
    if (write(fd, big + written, n) != n)
      break;
    written += n;
  }
  check_eq(written, LARGE_BYTES, "write a large file");
  check_eq(fstat(fd, &st), 0, "fstat large file");
  check_eq(st.size, LARGE_BYTES, "size of the large file");
  close(fd);
  fd = open(SCRATCH "/large", O_RDONLY);
  memset(back, 0, LARGE_BYTES);
  check_eq(read_all(fd, back, sizeof(back)), LARGE_BYTES, "read back the large file");
  check_eq(first_mismatch(back, LARGE_BYTES, 9), -1, "large file data");
  close(fd);
  check_eq(unlink(SCRATCH "/large"), 0, "unlink the large file");

  // link(), then unlink() of one name keeps the other.
  check_eq(link(SCRATCH "/f1", SCRATCH "/f2"), 0, "link");
  check_eq(stat(SCRATCH "/f2", &st), 0, "stat the new name");
  check_eq(st.nlink, 2, "nlink after link");
  check_eq(link(SCRATCH "/f1", SCRATCH "/f2"), -1, "link to an existing name");
  check_eq(link(SCRATCH "/missing", SCRATCH "/f3"), -1, "link of a missing file");
  check_eq(unlink(SCRATCH "/f1"), 0, "unlink the first name");
  check_eq(open(SCRATCH "/f1", O_RDONLY), -1, "open of the unlinked name");
  fd = open(SCRATCH "/f2", O_RDONLY);
  check(fd >= 0, "open the remaining name", fd);
  memset(text, 0, sizeof(text));
  check_eq(read(fd, text, sizeof(text)), 4, "read through the remaining name");
  check_eq(strcmp(text, "abcd"), 0, "contents kept");
  check_eq(fstat(fd, &st), 0, "fstat");
  check_eq(st.nlink, 1, "nlink after unlink");
  check_eq(unlink(SCRATCH "/f2"), 0, "unlink the last name while open");
  // Still readable through the open descriptor.
  close(fd);
  check_eq(open(SCRATCH "/f2", O_RDONLY), -1, "gone after the last unlink");
  check_eq(unlink(SCRATCH "/f2"), -1, "unlink of a missing name");

  // Directories open read-only only.
  check_eq(open(SCRATCH, O_RDWR), -1, "open a directory for writing");
  check_eq(link(SCRATCH, SCRATCH "/dirlink"), -1, "link of a directory");

  // The descriptor table holds NOFILE entries: 0, 1, 2 are in use.
  check_eq(free_fd_count(), NOFILE - 3, "free descriptors");

}

// ---- directories ------------------------------------------------------------

// Does the directory open as fd have an entry called name?  Returns its
// inode number, 0 if absent, -1 if it appears twice.
static int
dir_lookup(int fd, const char *name)
{
  struct dirent de;
  char entry[DIRSIZ + 1];
  int found = 0;
  while (read(fd, &de, sizeof(de)) == sizeof(de)) {
    if (de.inum == 0)
      continue;
    memmove(entry, de.name, DIRSIZ);
    entry[DIRSIZ] = '\0';
    if (strcmp(entry, name) == 0)
      found = found ? -1 : de.inum;
  }
  return found;
}

static int
lookup_in(const char *dir, const char *name)
{
  int fd = open(dir, O_RDONLY);
  if (fd < 0)
    return -2;
  int inum = dir_lookup(fd, name);
  close(fd);
  return inum;
}

#define MANY_FILES 80     // more than BSIZE / sizeof(struct dirent) = 64

static void
test_dirs(void)
{
  struct stat st, st2;

  check_eq(mkdir(SCRATCH "/d1"), 0, "mkdir");
  check_eq(mkdir(SCRATCH "/d1"), -1, "mkdir of an existing name");
  check_eq(stat(SCRATCH "/d1", &st), 0, "stat the directory");
  check_eq(st.type, T_DIR, "type of a directory");

  // Relative paths follow chdir().
  check_eq(chdir(SCRATCH "/d1"), 0, "chdir");
  check_eq(make_file("inner", "in d1\n"), 0, "create a file by a relative path");
  check_eq(mkdir("sub"), 0, "mkdir by a relative path");
  check_eq(chdir("sub"), 0, "chdir by a relative path");
  check_eq(stat("../inner", &st), 0, "stat through ..");
  check_eq(st.type, T_FILE, "type through ..");
  check_eq(chdir("../.."), 0, "chdir ../..");
  check_eq(stat("d1/inner", &st2), 0, "stat by the path from the parent");
  check_eq(st2.ino, st.ino, "same inode by both paths");
  check_eq(stat("d1/sub/../sub/./../inner", &st2), 0, "path with . and ..");
  check_eq(st2.ino, st.ino, "same inode through . and ..");
  check_eq(stat("/", &st), 0, "stat /");
  check_eq(st.ino, ROOTINO, "root's inode number");
  check_eq(stat("/..", &st2), 0, "stat /..");
  check_eq(st2.ino, ROOTINO, "/.. is / itself");

  check_eq(chdir(SCRATCH "/nowhere"), -1, "chdir to a missing directory");
  check_eq(chdir(SCRATCH "/d1/inner"), -1, "chdir to a file");
  check_eq(mkdir(SCRATCH "/nowhere/x"), -1, "mkdir below a missing directory");
  check_eq(make_file(SCRATCH "/d1/inner/x", "no"), -1, "create below a file");
  // Names that name nothing new: the empty path, "/", and existing names.
  check_eq(mkdir(""), -1, "mkdir of the empty path");
  check_eq(unlink(""), -1, "unlink of the empty path");
  check_eq(open("", O_CREATE | O_RDWR), -1, "create the empty path");
  check_eq(link(SCRATCH "/d1/inner", ""), -1, "link to the empty path");
  check_eq(mkdir("/"), -1, "mkdir of /");
  check_eq(unlink("/"), -1, "unlink of /");
  check_eq(open("/", O_CREATE | O_RDWR), -1, "create / as a file");
  check_eq(open(SCRATCH "/d1", O_CREATE | O_RDWR), -1, "create a file over a directory");
  check_eq(mknod(SCRATCH "/d1/inner", 1, 0), -1, "mknod over an existing file");
  check_eq(link(SCRATCH "/d1/inner", SCRATCH "/d1/sub"), -1, "link over an existing name");
  check_eq(link(SCRATCH "/d1/missing", SCRATCH "/d1/new"), -1, "link of a missing file");
  check_eq(stat(SCRATCH "/d1/new", &st2), -1, "a failed link leaves no name");

  // A directory with entries cannot be unlinked; ".", ".." never.
  check_eq(unlink(SCRATCH "/d1"), -1, "unlink of a non-empty directory");
  check_eq(unlink(SCRATCH "/d1/."), -1, "unlink of .");
  check_eq(unlink(SCRATCH "/d1/.."), -1, "unlink of ..");
  check_eq(unlink(SCRATCH "/d1/sub"), 0, "unlink of an empty directory");
  check_eq(unlink(SCRATCH "/d1/inner"), 0, "unlink the file");
  check_eq(unlink(SCRATCH "/d1"), 0, "unlink of the emptied directory");
  check_eq(stat(SCRATCH "/d1", &st), -1, "the directory is gone");

  // Reading a directory with read() gives its entries.
  check_eq(mkdir(SCRATCH "/d2"), 0, "mkdir d2");
  check_eq(make_file(SCRATCH "/d2/alpha", "a"), 0, "create alpha");
  check_eq(make_file(SCRATCH "/d2/beta", "b"), 0, "create beta");
  check_eq(make_file(SCRATCH "/d2/abcdefghijklmn", "14"), 0, "create a DIRSIZ-long name");
  check_eq(stat(SCRATCH "/d2", &st), 0, "stat d2");
  check_eq(stat(SCRATCH, &st2), 0, "stat the scratch directory");
  check_eq(lookup_in(SCRATCH "/d2", "."), st.ino, "entry . is the directory itself");
  check_eq(lookup_in(SCRATCH "/d2", ".."), st2.ino, "entry .. is the parent");
  check_eq(stat(SCRATCH "/d2/alpha", &st), 0, "stat alpha");
  check_eq(lookup_in(SCRATCH "/d2", "alpha"), st.ino, "entry alpha");
  check_eq(stat(SCRATCH "/d2/beta", &st), 0, "stat beta");
  check_eq(lookup_in(SCRATCH "/d2", "beta"), st.ino, "entry beta");
  check(lookup_in(SCRATCH "/d2", "abcdefghijklmn") > 0, "entry with a DIRSIZ-long name", 0);
  check_eq(lookup_in(SCRATCH "/d2", "gamma"), 0, "no entry gamma");
  check_eq(unlink(SCRATCH "/d2/alpha"), 0, "unlink alpha");
  check_eq(lookup_in(SCRATCH "/d2", "alpha"), 0, "alpha's entry is gone");

  // More entries than one directory block holds.
  static char name[32];
  int made = 0;
  check_eq(mkdir(SCRATCH "/d3"), 0, "mkdir d3");
  for (int i = 0; i < MANY_FILES; i++) {
    numbered(name, SCRATCH "/d3/file", i);
    if (make_file(name, name) == 0)
      made++;
  }
  check_eq(made, MANY_FILES, "files created in one directory");
  check_eq(stat(SCRATCH "/d3", &st), 0, "stat d3");
  check(st.size >= (uint64)(MANY_FILES + 2) * sizeof(struct dirent),
        "directory size covers all entries", st.size);
  check(lookup_in(SCRATCH "/d3", "file00") > 0, "first entry", 0);
  check(lookup_in(SCRATCH "/d3", "file79") > 0, "last entry", 0);
  int fd = open(SCRATCH "/d3/file79", O_RDONLY);
  static char text[32];
  memset(text, 0, sizeof(text));
  check_eq(read(fd, text, sizeof(text) - 1), strlen(SCRATCH "/d3/file79"), "read the last file");
  check_eq(strcmp(text, SCRATCH "/d3/file79"), 0, "contents of the last file");
  close(fd);

}

// ---- several processes at once ------------------------------------------

#define NWORKERS     4
#define WORKER_BYTES 3000

static void
test_concurrent(void)
{
  static char path[32];
  int pids[NWORKERS];

  // Each worker writes its own file while the others do the same, and
  // all of them create and remove one shared name over and over.
  for (int w = 0; w < NWORKERS; w++) {
    pids[w] = fork();
    if (pids[w] == 0) {
      numbered(path, SCRATCH "/worker", w);
      fill(big, WORKER_BYTES, 20 + w);
      int fd = open(path, O_CREATE | O_WRONLY);
      if (fd < 0)
        exit(1);
      for (int done = 0; done < WORKER_BYTES; done += 100) {
        if (write(fd, big + done, 100) != 100)
          exit(2);
        // Racing on one name: any of these may fail, none may crash.
        int shared = open(SCRATCH "/shared", O_CREATE | O_RDWR);
        if (shared >= 0) {
          write(shared, "x", 1);
          close(shared);
        }
        unlink(SCRATCH "/shared");
      }
      close(fd);
      exit(0);
    }
    check(pids[w] > 0, "fork a worker", pids[w]);
  }
  // The workers finish in any order.
  for (int round = 0; round < NWORKERS; round++) {
    int status = -1;
    int pid = wait(&status);
    int which = -1;
    for (int w = 0; w < NWORKERS; w++) {
      if (pids[w] == pid)
        which = w;
    }
    check(which >= 0, "wait() returns a worker", pid);
    if (which >= 0)
      pids[which] = -1;           // each one once
    check_eq(status, 0, "worker's exit status");
  }

  for (int w = 0; w < NWORKERS; w++) {
    numbered(path, SCRATCH "/worker", w);
    int fd = open(path, O_RDONLY);
    check(fd >= 0, "open a worker's file", fd);
    memset(back, 0, WORKER_BYTES);
    check_eq(read_all(fd, back, sizeof(back)), WORKER_BYTES, "size of a worker's file");
    check_eq(first_mismatch(back, WORKER_BYTES, 20 + w), -1, "contents of a worker's file");
    close(fd);
    unlink(path);
  }
  struct stat st;
  check_eq(stat(SCRATCH "/shared", &st), -1, "the shared name was removed last");

}

// ---- sbrk ---------------------------------------------------------------

static void
test_sbrk(void)
{
  char *start = sbrk(0);
  char *got = sbrk(3 * PGSIZE + 100);
  check_eq((uint64)got, (uint64)start, "sbrk(n) returns the old break");
  check_eq((uint64)sbrk(0), (uint64)start + 3 * PGSIZE + 100, "sbrk(0) after growing");

  // Fresh pages are zero (the partial page at the old break may hold
  // leftovers of this process), and all of it is usable.
  char *fresh = (char*)PGROUNDUP((uint64)start);
  int nonzero = 0;
  for (char *p = fresh; p < got + 3 * PGSIZE + 100; p++) {
    if (*p != 0)
      nonzero++;
  }
  check_eq(nonzero, 0, "non-zero bytes in new pages");
  for (int i = 0; i < 3 * PGSIZE + 100; i++)
    got[i] = pattern(11, i);
  check_eq(first_mismatch(got, 3 * PGSIZE + 100, 11), -1, "new memory keeps data");

  // fork copies the heap.
  int pid = fork();
  if (pid == 0)
    exit(first_mismatch(got, 3 * PGSIZE + 100, 11) == -1 ? 0 : 1);
  check_eq(reap(pid), 0, "a child sees the grown heap");

  check_eq((uint64)sbrk(-(3 * PGSIZE + 100)), (uint64)start + 3 * PGSIZE + 100,
           "sbrk(-n) returns the old break");
  check_eq((uint64)sbrk(0), (uint64)start, "sbrk(0) after shrinking");

  // Pages given back and taken again are zero again.
  got = sbrk(2 * PGSIZE);
  nonzero = 0;
  for (char *p = fresh; p < got + 2 * PGSIZE; p++) {
    if (*p != 0)
      nonzero++;
  }
  check_eq(nonzero, 0, "non-zero bytes in pages regrown after a shrink");
  sbrk(-2 * PGSIZE);

  // A request the machine cannot satisfy fails and changes nothing.
  check_eq((uint64)sbrk(0x7fffffff), (uint64)-1, "sbrk of 2 GiB fails");
  check_eq((uint64)sbrk(0), (uint64)start, "break unchanged after a failed sbrk");
  check_eq((uint64)sbrk(-(int)((uint64)start + PGSIZE)), (uint64)-1, "sbrk below 0 fails");
  check_eq((uint64)sbrk(0), (uint64)start, "break unchanged after a failed shrink");

}

// ---- malloc ---------------------------------------------------------------

#define NBLOCKS 64

static int
block_size(int i)
{
  return 1 + (i * 37 + 11) % 700;
}

static void
test_malloc(void)
{
  static char *blocks[NBLOCKS];
  char *top = 0;
  int total = 0;

  // Three rounds of the same requests: after the first, freed memory must
  // be reused rather than the heap grown.
  for (int round = 0; round < 3; round++) {
    int missing = 0, misaligned = 0, clobbered = 0;
    for (int i = 0; i < NBLOCKS; i++) {
      blocks[i] = malloc(block_size(i));
      if (blocks[i] == 0) {
        missing++;
        continue;
      }
      if ((uint64)blocks[i] % 16 != 0)
        misaligned++;
      memset(blocks[i], i + round, block_size(i));
    }
    for (int i = 0; i < NBLOCKS; i++) {
      for (int j = 0; blocks[i] != 0 && j < block_size(i); j++) {
        if (blocks[i][j] != (char)(i + round))
          clobbered++;
      }
    }
    check_eq(missing, 0, "malloc returned 0 for small blocks");
    check_eq(misaligned, 0, "blocks not 16-byte aligned");
    check_eq(clobbered, 0, "bytes overwritten by another block");
    if (round == 0)
      top = sbrk(0);
    else
      check_eq((uint64)sbrk(0), (uint64)top, "the heap grew although enough was free");
    // Free in different orders so that merging happens both ways.
    if (round == 1) {
      for (int i = NBLOCKS - 1; i >= 0; i--)
        free(blocks[i]);
    } else {
      for (int i = 0; i < NBLOCKS; i += 2)
        free(blocks[i]);
      for (int i = 1; i < NBLOCKS; i += 2)
        free(blocks[i]);
    }
  }

  // Everything is free and merged again: one block as large as all the
  // small ones together fits without growing the heap.
  for (int i = 0; i < NBLOCKS; i++)
    total += block_size(i);
  char *whole = malloc(total);
  check(whole != 0, "malloc of the merged free space", total);
  check_eq((uint64)sbrk(0), (uint64)top, "merged free space used without growing");
  free(whole);

  check_eq((uint64)malloc(0x7ff00000), 0, "malloc of almost 2 GiB returns 0");
  check_eq((uint64)sbrk(0), (uint64)top, "a failed malloc leaves the break alone");
  free(0);
  char *again = malloc(5000);
  check(again != 0, "malloc after a failed malloc", 0);
  free(again);

}

// ---- kill ---------------------------------------------------------------

static void
test_kill(void)
{

  // A child spinning in user mode.
  int pid = fork();
  if (pid == 0) {
    for (volatile int i = 0;; i++)
      ;
  }
  sleep(1);
  check_eq(kill(pid), 0, "kill a spinning child");
  check_eq(reap(pid), -1, "exit status of a killed child");

  // A child asleep for a long time ends promptly.
  pid = fork();
  if (pid == 0) {
    sleep(100000);
    exit(0);
  }
  sleep(1);
  int before = uptime();
  check_eq(kill(pid), 0, "kill a sleeping child");
  check_eq(reap(pid), -1, "exit status of a killed sleeper");
  check(uptime() - before < 500, "killed sleeper ends promptly", uptime() - before);

  // A child blocked reading an empty pipe.
  int ends[2];
  check_eq(pipe(ends), 0, "pipe()");
  pid = fork();
  if (pid == 0) {
    char c;
    close(ends[1]);
    read(ends[0], &c, 1);
    exit(0);
  }
  close(ends[0]);
  sleep(1);
  check_eq(kill(pid), 0, "kill a child blocked on a pipe");
  check_eq(reap(pid), -1, "exit status of the blocked child");
  close(ends[1]);

  check_eq(kill(0), -1, "kill of pid 0");
  check_eq(kill(-1), -1, "kill of pid -1");
  check_eq(kill(123456), -1, "kill of a pid that does not exist");

}

// ---- bad arguments ---------------------------------------------------------

// Issue system call `number` directly (a number the library has no stub
// for) and return a0.
static long
raw_syscall(long number, long a0)
{
  register long reg_a0 asm("a0") = a0;
  register long reg_a7 asm("a7") = number;
  asm volatile("ecall" : "+r"(reg_a0) : "r"(reg_a7) : "memory");
  return reg_a0;
}

// Run fn in a child; it should be killed by the kernel (exit status -1).
static void
expect_killed(void (*fn)(void), const char *what)
{
  int pid = fork();
  if (pid == 0) {
    fn();
    exit(0);             // not reached if the kernel did its job
  }
  check_eq(reap(pid), -1, what);
}

static void
load_above_maxva(void)
{
  volatile int x = *(volatile int*)ADDR_ABOVE_MAXVA;
  (void)x;
}

static void
store_to_kernel(void)
{
  *(volatile int*)ADDR_KERNEL = 42;
}

static void
load_trapframe(void)
{
  volatile uint64 x = *(volatile uint64*)ADDR_TRAPFRAME;
  (void)x;
}

static void
jump_to_kernel(void)
{
  void (*target)(void) = (void (*)(void))ADDR_KERNEL;
  target();
}

static void
illegal_instruction(void)
{
  asm volatile(".word 0");          // all zeros is defined to be illegal
}

static void
privileged_instruction(void)
{
  asm volatile("csrr t0, sstatus" ::: "t0");
}

static void
store_to_own_code(void)
{
  *(volatile char*)(uint64)store_to_own_code = 0;
}

// Recursion that needs far more than the one-page stack.
static int
recurse(int depth)
{
  volatile char pad[512];
  pad[0] = (char)depth;
  if (depth > 1000000)
    return 0;
  return recurse(depth + 1) + pad[0];
}

static void
stack_overflow(void)
{
  recurse(0);
}

// The page below the stack page is the guard page (mapped, not PTE_U).
static void
load_below_stack(void)
{
  volatile char x = *(volatile char*)(PGROUNDDOWN(r_sp()) - 8);
  (void)x;
}

static void
kill_self(void)
{
  kill(getpid());
}

static void
test_badargs(void)
{
  const char *bad_ptrs[] = {
    (const char*)ADDR_ABOVE_MAXVA, (const char*)ADDR_KERNEL,
    (const char*)ADDR_TRAPFRAME, (const char*)ADDR_TRAMPOLINE,
  };
  const int nbad = sizeof(bad_ptrs) / sizeof(bad_ptrs[0]);
  // One page past the end of the heap is not mapped either.
  char *past_end = sbrk(0) + 2 * PGSIZE;
  int fds_before = free_fd_count();

  // read/write through bad buffers: files, pipes, the console.
  check_eq(make_file(SCRATCH "/data", "0123456789abcdef0123456789abcdef"), 0,
           "create a data file");
  int fd = open(SCRATCH "/data", O_RDWR);
  check(fd >= 0, "open the data file", fd);
  for (int i = 0; i < nbad; i++) {
    check_eq(read(fd, (void*)bad_ptrs[i], 16), -1, "read into a bad buffer");
    check_eq(write(fd, bad_ptrs[i], 16), -1, "write from a bad buffer");
  }
  check_eq(read(fd, past_end, 16), -1, "read into memory past the heap");
  check_eq(write(fd, past_end, 16), -1, "write from memory past the heap");
  // Buffers that start valid but run off the end of the address space.
  check_eq(write(fd, sbrk(0) - 8, 4096 + 16), -1, "write from a buffer running past the heap");
  close(fd);

  int ends[2];
  check_eq(pipe(ends), 0, "pipe()");
  check_eq(write(ends[1], (void*)ADDR_ABOVE_MAXVA, 8), -1, "pipe write from a bad buffer");
  check_eq(write(ends[1], "12345678", 8), 8, "pipe write");
  check_eq(read(ends[0], (void*)ADDR_KERNEL, 8), -1, "pipe read into a bad buffer");
  close(ends[0]);
  close(ends[1]);
  check_eq(write(1, (void*)ADDR_KERNEL, 8), -1, "console write from a bad buffer");

  // Descriptors that are not open or out of range.
  static char buf[8];
  struct stat st;
  int bad_fds[] = { -1, 3, NOFILE - 1, NOFILE, 1000, -100000 };
  for (int i = 0; i < (int)(sizeof(bad_fds) / sizeof(bad_fds[0])); i++) {
    int b = bad_fds[i];
    check_eq(read(b, buf, 1), -1, "read of a bad fd");
    check_eq(write(b, buf, 1), -1, "write of a bad fd");
    check_eq(close(b), -1, "close of a bad fd");
    check_eq(fstat(b, &st), -1, "fstat of a bad fd");
    check_eq(dup(b), -1, "dup of a bad fd");
  }
  check_eq(fstat(0, (struct stat*)ADDR_KERNEL), -1, "fstat into a bad buffer");
  fd = open(SCRATCH "/data", O_RDONLY);
  int r = read(fd, buf, -1);
  check(r == -1 || r == 0, "read with a negative count reads nothing", r);
  check_eq(read(fd, buf, 0), 0, "read of 0 bytes");
  static char whole[64];
  check_eq(read(fd, whole, 0x7fffffff), 32, "read with a huge count stops at the end of the file");
  close(fd);
  fd = open(SCRATCH "/data", O_RDWR);
  check_eq(write(fd, buf, -1), -1, "write with a negative count");
  check_eq(write(fd, buf, 0), 0, "write of 0 bytes");
  close(fd);
  check_eq(close(fd), -1, "close of a closed fd");

  // Our own code is readable but not writable: the kernel must not write
  // into it on our behalf either.
  char *code = (char*)(uint64)test_badargs;
  fd = open(SCRATCH "/data", O_RDONLY);
  check_eq(read(fd, code, 8), -1, "read into our own code");
  close(fd);
  check_eq(pipe((int*)code), -1, "pipe into our own code");
  check_eq(fstat(0, (struct stat*)code), -1, "fstat into our own code");
  int pid = fork();
  if (pid == 0)
    exit(0);
  check_eq(wait((int*)code), -1, "wait with a status pointer into our own code");
  wait(0);   // collect the child if the failed wait left it
  fd = open(SCRATCH "/code", O_CREATE | O_RDWR);
  check_eq(write(fd, code, 64), 64, "write from our own code");
  // A huge count from a good buffer runs off the end of our memory.
  check_eq(write(fd, back, 0x7fffffff), -1, "write running off the end of memory");
  close(fd);
  check_eq(unlink(SCRATCH "/code"), 0, "remove the file");

  // Device files: a major number out of range is refused, one without a
  // driver opens but cannot be read or written.
  check_eq(mknod(SCRATCH "/dev", NDEV, 0), -1, "mknod with major NDEV");
  check_eq(mknod(SCRATCH "/dev", -1, 0), -1, "mknod with a negative major");
  check_eq(mknod(SCRATCH "/dev", 5, 0), 0, "mknod of a device without a driver");
  fd = open(SCRATCH "/dev", O_RDWR);
  check(fd >= 0, "open a device without a driver", fd);
  check_eq(read(fd, buf, 1), -1, "read a device without a driver");
  check_eq(write(fd, buf, 1), -1, "write a device without a driver");
  close(fd);
  check_eq(unlink(SCRATCH "/dev"), 0, "remove the device file");
  check_eq(exec("/console", (char*[]){ "console", 0 }), -1, "exec of a device");

  // Process calls.
  check_eq(sleep(-1), -1, "sleep of a negative time");
  check_eq(sleep(0), 0, "sleep(0)");
  check_eq(kill(1), -1, "kill of init");
  check(uptime() > 0, "uptime", uptime());

  // The crypto service's calls are for its server (pid 2) only.
  void *addr = 0;
  uint64 size = 0;
  check_eq(take_shared_memory_request(&addr, &size), -1, "take a request without being the server");
  check_eq(take_shared_memory_request((void**)ADDR_KERNEL, (uint64*)ADDR_KERNEL), -1,
           "take a request with bad pointers");
  check_eq(remove_shared_memory_request((void*)ADDR_KERNEL, PGSIZE), -1,
           "remove a request that is no request");
  check(freepages() > 0, "freepages", freepages());

  // Bad path pointers and paths too long.
  for (int i = 0; i < nbad; i++) {
    check_eq(open(bad_ptrs[i], O_RDONLY), -1, "open with a bad path pointer");
    check_eq(mkdir(bad_ptrs[i]), -1, "mkdir with a bad path pointer");
    check_eq(chdir(bad_ptrs[i]), -1, "chdir with a bad path pointer");
    check_eq(unlink(bad_ptrs[i]), -1, "unlink with a bad path pointer");
    check_eq(link(bad_ptrs[i], SCRATCH "/x"), -1, "link with a bad old path");
    check_eq(link(SCRATCH "/data", bad_ptrs[i]), -1, "link with a bad new path");
    check_eq(mknod(bad_ptrs[i], 1, 0), -1, "mknod with a bad path pointer");
  }
  static char long_path[MAXPATH * 2];
  memset(long_path, 'a', sizeof(long_path) - 1);
  long_path[sizeof(long_path) - 1] = '\0';
  check_eq(open(long_path, O_CREATE | O_RDWR), -1, "open of a path longer than MAXPATH");
  // Strings and arrays that run off the end of the heap: move the break
  // to a page boundary and take one fresh page below it.
  uint64 brk = (uint64)sbrk(0);
  sbrk(PGROUNDUP(brk) - brk);
  char *page = sbrk(PGSIZE);
  char *edge = page + PGSIZE - 4;
  memmove(edge, "abcd", 4);
  check_eq(open(edge, O_CREATE | O_RDWR), -1, "open of an unterminated path at the heap's end");
  check_eq(pipe((int*)ADDR_KERNEL), -1, "pipe with a bad array pointer");
  check_eq(pipe((int*)ADDR_ABOVE_MAXVA), -1, "pipe with an array above MAXVA");

  // exec with bad pointers.
  check_eq(exec(bad_ptrs[0], 0), -1, "exec with a bad path pointer");
  check_eq(exec(SELF, (char**)ADDR_ABOVE_MAXVA), -1, "exec with a bad argv pointer");
  check_eq(exec(SELF, (char**)ADDR_KERNEL), -1, "exec with a kernel argv pointer");
  char *bad_arg[] = { "systest", (char*)ADDR_KERNEL, 0 };
  check_eq(exec(SELF, bad_arg), -1, "exec with a bad argument string");
  // argv without a terminating 0 that runs into unmapped memory.
  char **unterminated = (char**)(page + PGSIZE - sizeof(char*));
  *unterminated = "x";
  check_eq(exec(SELF, unterminated), -1, "exec with an unterminated argv");
  sbrk(-PGSIZE);

  // Arguments that do not fit on the one-page user stack.
  static char fat_arg[1000];
  memset(fat_arg, 'a', sizeof(fat_arg) - 1);
  char *fat[] = { fat_arg, fat_arg, fat_arg, fat_arg, fat_arg, fat_arg, 0 };
  check_eq(exec(SELF, fat), -1, "exec with arguments larger than the stack");

  // wait() with a bad status pointer.
  pid = fork();
  if (pid == 0)
    exit(0);
  check_eq(wait((int*)ADDR_KERNEL), -1, "wait with a bad status pointer");
  wait(0);   // collect the child if the failed wait left it

  // System call numbers nobody implements.
  check_eq(raw_syscall(0, 0), -1, "system call 0");
  check_eq(raw_syscall(999, 0), -1, "system call 999");
  check_eq(raw_syscall(-1, 0), -1, "system call -1");
  check_eq(raw_syscall(0x7fffffff, 0), -1, "system call 2^31-1");
  check_eq(raw_syscall(SYS_getpid, 0), getpid(), "the raw path works for a real call");

  // Faults in user mode kill the process, not the system.
  expect_killed(load_above_maxva, "child loading above MAXVA is killed");
  expect_killed(store_to_kernel, "child storing to kernel memory is killed");
  expect_killed(load_trapframe, "child loading its trap frame is killed");
  expect_killed(jump_to_kernel, "child jumping into the kernel is killed");
  expect_killed(illegal_instruction, "child running an illegal instruction is killed");
  expect_killed(privileged_instruction, "child reading a supervisor CSR is killed");
  expect_killed(store_to_own_code, "child writing its own code is killed");
  expect_killed(stack_overflow, "child overflowing its stack is killed");
  expect_killed(load_below_stack, "child reading the stack guard page is killed");
  expect_killed(kill_self, "child killing itself is killed");

  // Nothing above leaked a descriptor, and the process is still fine.
  check_eq(free_fd_count(), fds_before, "no descriptors leaked");
  check(getpid() > 0, "still alive", 0);
  check_eq(unlink(SCRATCH "/data"), 0, "remove the data file");

}

// ---- bad binaries -----------------------------------------------------------

// The parts of an ELF-64 file that exec reads.
struct elf_header {
  uint magic;                   // ELF_MAGIC
  uchar ident[12];
  ushort type, machine;
  uint version;
  uint64 entry, phoff, shoff;
  uint flags;
  ushort ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf_segment {
  uint type, flags;
  uint64 off, vaddr, paddr, filesz, memsz, align;
};
_Static_assert(sizeof(struct elf_header) == 64, "ELF-64 header");
_Static_assert(sizeof(struct elf_segment) == 56, "ELF-64 program header");
#define ELF_MAGIC   0x464C457FU  // "\x7fELF"
#define ELF_PT_LOAD 1

// Write the first n bytes of data to path; 0 or -1.
static int
write_file(const char *path, const char *data, int n)
{
  int fd = open(path, O_CREATE | O_TRUNC | O_WRONLY);
  if (fd < 0)
    return -1;
  int done = 0;
  while (done < n) {
    int piece = n - done > 4096 ? 4096 : n - done;
    if (write(fd, data + done, piece) != piece)
      break;
    done += piece;
  }
  close(fd);
  return done == n ? 0 : -1;
}

// exec path in a child that would exit with status 7 if the exec worked;
// returns the child's exit status (0: exec returned -1).
static int
exec_status(const char *path)
{
  char *args[] = { "systest", "exitwith", "7", 0 };
  int pid = fork();
  if (pid == 0) {
    exit(exec(path, args) == -1 ? 0 : 99);
  }
  return reap(pid);
}

// exec of /systest cut short: every cut before the end of its last loaded
// segment must fail with -1 (and leave the caller running), a cut right
// after it still runs.
static void
test_badexec(void)
{
  struct stat st;
  check_eq(stat(SELF, &st), 0, "stat " SELF);
  int size = st.size;
  char *image = malloc(size);
  check(image != 0, "memory for a copy of " SELF, size);
  if (image == 0)
    return;
  int fd = open(SELF, O_RDONLY);
  check_eq(read_all(fd, image, size), size, "read " SELF);
  close(fd);
  struct elf_header *eh = (struct elf_header*)image;
  check_eq(eh->magic, ELF_MAGIC, "ELF magic of " SELF);
  check_eq(eh->phentsize, sizeof(struct elf_segment), "program header size");

  // Where the parts of the file end: the header, the program headers and
  // each loaded segment; cut before and in the middle of each.
  static int cuts[64];
  int ncuts = 0;
  int table_end = eh->phoff + eh->phnum * sizeof(struct elf_segment);
  int fixed[] = { 0, 1, 4, 18, 40, sizeof(*eh) - 1, sizeof(*eh),
                  eh->phoff + 1, table_end - 1 };
  for (int i = 0; i < (int)(sizeof(fixed) / sizeof(fixed[0])); i++)
    cuts[ncuts++] = fixed[i];
  int loaded_end = 0;
  for (int i = 0; i < eh->phnum && ncuts + 3 <= 64; i++) {
    struct elf_segment *ph = (struct elf_segment*)(image + eh->phoff) + i;
    if (ph->type != ELF_PT_LOAD || ph->filesz == 0)
      continue;
    int end = ph->off + ph->filesz;
    if (!quick) {       // writing the long copies is what takes the time
      cuts[ncuts++] = ph->off + 1;
      cuts[ncuts++] = ph->off + ph->filesz / 2;
      cuts[ncuts++] = end - 1;
    }
    if (end > loaded_end)
      loaded_end = end;
  }
  check(loaded_end > table_end && loaded_end <= size, "end of the loaded segments", loaded_end);

  int ran = 0;
  for (int i = 0; i < ncuts; i++) {
    if (cuts[i] >= loaded_end)
      continue;
    check_eq(write_file(SCRATCH "/cut", image, cuts[i]), 0, "write a cut copy");
    int status = exec_status(SCRATCH "/cut");
    if (status != 0)
      printf("FAIL %s: exec of %s cut to %d bytes: status %d\n", test_name, SELF, cuts[i], status);
    failures += status != 0;
    ran++;
  }
  check(ran >= (quick ? 9 : 12), "cut copies tried", ran);   // at least one segment
  // Nothing missing: the copy runs.
  if (!quick) {
    check_eq(write_file(SCRATCH "/cut", image, loaded_end), 0, "write a whole copy");
    check_eq(exec_status(SCRATCH "/cut"), 7, "exec of a copy ending after its last segment");
  }
  check_eq(write_file(SCRATCH "/cut", "", 0), 0, "write an empty file");
  check_eq(exec_status(SCRATCH "/cut"), 0, "exec of an empty file");
  check_eq(unlink(SCRATCH "/cut"), 0, "remove the copy");
  free(image);
}

// ---- file descriptors, the file table, the inode table --------------------------

// Children that open what they are told and hold on to it: each opens
// files (path(i) for its own range of i) until one fails or it has `each`,
// says so on `ready`, and waits on `gate` before it exits with its count.
static int holder_ready[2], holder_gate[2];

static void
holders_start(int nholders, int each, const char *(*path)(int), int *pids)
{
  pipe(holder_ready);
  pipe(holder_gate);
  for (int h = 0; h < nholders; h++) {
    pids[h] = fork();
    if (pids[h] == 0) {
      close(holder_ready[0]);
      close(holder_gate[1]);
      int got = 0;
      while (got < each && open(path(h * each + got), O_RDONLY) >= 0)
        got++;
      write(holder_ready[1], "r", 1);
      char c;
      read(holder_gate[0], &c, 1);      // 0 once the gate is closed
      exit(got);
    }
  }
  close(holder_ready[1]);
  close(holder_gate[0]);
  char c;
  for (int h = 0; h < nholders; h++)
    read(holder_ready[0], &c, 1);
}

// Let the holders go; returns how many files they had open in total.
static int
holders_finish(int nholders, int *pids)
{
  close(holder_gate[1]);
  close(holder_ready[0]);
  int total = 0, strangers = 0;
  for (int h = 0; h < nholders; h++) {
    int got = -1;
    int pid = wait(&got);
    int ours = 0;
    for (int i = 0; i < nholders; i++)
      ours |= pid == pids[i];
    strangers += !ours;
    if (got > 0)
      total += got;
  }
  check_eq(strangers, 0, "wait() returns the holders");
  return total;
}

static const char *
root_path(int i)
{
  (void)i;
  return "/";
}

#define NDISTINCT (NINODE + 8)

static const char *
distinct_path(int i)
{
  static char path[32];
  numbered(path, SCRATCH "/i", i);
  return path;
}

static void
test_fdlimits(void)
{
  // A full descriptor table: dup, open and pipe fail, and nothing is lost.
  int n = 0;
  while (dup(0) >= 0)
    n++;
  check_eq(n, NOFILE - 3, "dup until the descriptor table is full");
  int ends[2] = { -1, -1 };
  check_eq(open("/", O_RDONLY), -1, "open with a full descriptor table");
  check_eq(pipe(ends), -1, "pipe with no free descriptor");
  close(NOFILE - 1);
  check_eq(pipe(ends), -1, "pipe with one free descriptor");
  check_eq(open("/", O_RDONLY), NOFILE - 1, "open takes the one free descriptor");
  for (int fd = 3; fd < NOFILE; fd++)
    close(fd);
  check_eq(free_fd_count(), NOFILE - 3, "free descriptors afterwards");

  // The system's file table (NFILE): holders open what they can (more
  // than NFILE in all), so open and pipe fail for everyone meanwhile.
  #define NHOLDERS 6
  int pids[NHOLDERS];
  holders_start(NHOLDERS, NOFILE - 5, root_path, pids);
  check_eq(open("/", O_RDONLY), -1, "open with the file table full");
  check_eq(pipe(ends), -1, "pipe with the file table full");
  int total = holders_finish(NHOLDERS, pids);
  check(total > NFILE / 2 && total < NFILE, "files the holders had open", total);
  check_eq(free_fd_count(), NOFILE - 3, "files open again afterwards");

  // The in-memory inode table (NINODE): holders open more distinct files
  // than it has slots; open fails instead of the kernel giving up.  (Making
  // the files is what takes the time.)
  if (quick)
    return;
  int made = 0;
  for (int i = 0; i < NDISTINCT; i++)
    made += make_file(distinct_path(i), "i") == 0;
  check_eq(made, NDISTINCT, "files to open");
  #define NIHOLDERS 4
  holders_start(NIHOLDERS, NDISTINCT / NIHOLDERS, distinct_path, pids);
  total = holders_finish(NIHOLDERS, pids);
  check(total > NINODE / 2 && total < NINODE, "distinct files the holders had open", total);
  int opened = 0;
  for (int i = 0; i < NDISTINCT; i++) {
    int fd = open(distinct_path(i), O_RDONLY);
    opened += fd >= 0;
    close(fd);
    unlink(distinct_path(i));
  }
  check_eq(opened, NDISTINCT, "each file opens again afterwards");
}

// ---- pipes under load ------------------------------------------------------------

#define PL_WRITERS 4
#define PL_READERS 3
#define PL_STAGES  6

// Writers put tagged bytes into one pipe, readers take them out in pieces of
// all sizes; every byte arrives once.  Then a pipeline of copying stages.
static void
test_pipeload(void)
{
  int per_writer = quick ? 3000 : 20000;
  int data[2], report[2];
  check_eq(pipe(data), 0, "pipe() for the data");
  check_eq(pipe(report), 0, "pipe() for the reports");
  for (int w = 0; w < PL_WRITERS; w++) {
    if (fork() == 0) {
      close(data[0]);
      close(report[0]);
      close(report[1]);
      memset(big, 'A' + w, 700);
      int sent = 0, piece = 1 + w;
      while (sent < per_writer) {
        int n = piece < per_writer - sent ? piece : per_writer - sent;
        if (write(data[1], big, n) != n)
          exit(1);
        sent += n;
        piece = (piece * 7 + 3) % 700 + 1;
      }
      exit(0);
    }
  }
  for (int r = 0; r < PL_READERS; r++) {
    if (fork() == 0) {
      close(data[1]);
      close(report[0]);
      int counts[PL_WRITERS + 1];       // the last one counts stray bytes
      memset(counts, 0, sizeof(counts));
      int piece = 1 + 50 * r, n;
      while ((n = read(data[0], back, piece)) > 0) {
        for (int i = 0; i < n; i++) {
          int w = back[i] - 'A';
          counts[w >= 0 && w < PL_WRITERS ? w : PL_WRITERS]++;
        }
        piece = (piece * 5 + 11) % 1500 + 1;
      }
      write(report[1], counts, sizeof(counts));
      exit(n < 0);
    }
  }
  close(data[0]);
  close(data[1]);
  close(report[1]);
  int bad = 0;
  for (int i = 0; i < PL_WRITERS + PL_READERS; i++) {
    int status = -1;
    wait(&status);
    bad += status != 0;
  }
  check_eq(bad, 0, "writers and readers that failed");
  int totals[PL_WRITERS + 1], counts[PL_WRITERS + 1];
  memset(totals, 0, sizeof(totals));
  for (int r = 0; r < PL_READERS; r++) {
    check_eq(read(report[0], counts, sizeof(counts)), sizeof(counts), "a reader's report");
    for (int w = 0; w <= PL_WRITERS; w++)
      totals[w] += counts[w];
  }
  close(report[0]);
  for (int w = 0; w < PL_WRITERS; w++)
    check_eq(totals[w], per_writer, "bytes of one writer that arrived");
  check_eq(totals[PL_WRITERS], 0, "bytes that no writer wrote");

  // A source, PL_STAGES copying stages (each with its own piece size) and
  // this process at the end, like cat | cat | ... | cat.
  int chain_bytes = quick ? 4000 : (int)sizeof(back);
  int ends[2];
  check_eq(pipe(ends), 0, "pipe() for the source");
  if (fork() == 0) {
    close(ends[0]);
    fill(big, chain_bytes, 31);
    for (int sent = 0; sent < chain_bytes; sent += 333) {
      int n = chain_bytes - sent < 333 ? chain_bytes - sent : 333;
      if (write(ends[1], big + sent, n) != n)
        exit(1);
    }
    exit(0);
  }
  close(ends[1]);
  int prev = ends[0];
  for (int stage = 0; stage < PL_STAGES; stage++) {
    check_eq(pipe(ends), 0, "pipe() for a stage");
    if (fork() == 0) {
      close(ends[0]);
      int piece = (quick ? 13 : 1) + stage * 211, n;   // 1: a system call per byte
      static char copy[1500];
      while ((n = read(prev, copy, piece)) > 0) {
        if (write(ends[1], copy, n) != n)
          exit(1);
      }
      exit(n < 0);
    }
    close(prev);
    close(ends[1]);
    prev = ends[0];
  }
  memset(back, 0, sizeof(back));
  check_eq(read_all(prev, back, chain_bytes + 1), chain_bytes, "bytes through the pipeline");
  check_eq(first_mismatch(back, chain_bytes, 31), -1, "data through the pipeline");
  close(prev);
  bad = 0;
  for (int i = 0; i < PL_STAGES + 1; i++) {
    int status = -1;
    wait(&status);
    bad += status != 0;
  }
  check_eq(bad, 0, "stages that failed");
}

// ---- the process table ------------------------------------------------------------

// Fork up to four children that do the same, `depth` levels deep, and exit
// without waiting: init inherits the orphans.
static void
fork_tree(int depth)
{
  for (int i = 0; i < 4; i++) {
    int pid = fork();
    if (pid < 0)
      break;
    if (pid == 0) {
      if (depth > 1)
        fork_tree(depth - 1);
      exit(0);
    }
  }
}

#define CHURNERS 3

static void
test_procs(void)
{
  int slots = fill_process_table();
  check(slots > 0, "free process slots", slots);

  int pid = fork();
  if (pid == 0) {
    fork_tree(quick ? 2 : 3);
    exit(0);
  }
  check_eq(reap(pid), 0, "the root of a fork tree");
  check_eq(process_table_settles(slots), slots, "free slots once the fork tree is gone");

  // Workers fork and reap children as fast as they can; every status
  // comes back to the right parent.
  int rounds = quick ? 6 : 150;
  for (int w = 0; w < CHURNERS; w++) {
    if (fork() == 0) {
      int wrong = 0;
      for (int i = 0; i < rounds; i++) {
        int child = fork();
        if (child == 0)
          exit(i % 100);
        int status = -1;
        if (child < 0 || wait(&status) != child || status != i % 100)
          wrong++;
      }
      exit(wrong);
    }
  }
  int bad = 0;
  for (int w = 0; w < CHURNERS; w++) {
    int status = -1;
    wait(&status);
    bad += status != 0;
  }
  check_eq(bad, 0, "workers that saw a wrong fork or wait");

  // Zombies: children that exited before we wait are each returned once.
  int sum = 0;
  for (int i = 0; i < 5; i++) {
    if (fork() == 0)
      exit(40 + i);
  }
  sleep(2);
  for (int i = 0; i < 5; i++) {
    int status = -1;
    check(wait(&status) > 0, "wait for a zombie", i);
    sum += status;
  }
  check_eq(sum, 40 + 41 + 42 + 43 + 44, "exit statuses of the zombies");
  check_eq(wait(0), -1, "wait with no children left");
  check_eq(process_table_settles(slots), slots, "free slots at the end");
}

// ---- the largest file -------------------------------------------------------------

#define MAXBYTES (MAXFILE * BSIZE)

static void
test_filemax(void)
{
  int fd = open(SCRATCH "/max", O_CREATE | O_RDWR);
  check(fd >= 0, "create a file", fd);
  int blocks = 0;
  for (int b = 0; b < MAXFILE; b++) {
    fill(big, BSIZE, b);
    if (write(fd, big, BSIZE) != BSIZE)
      break;
    blocks++;
  }
  check_eq(blocks, MAXFILE, "blocks written, up to MAXFILE");
  check_eq(write(fd, "x", 1), -1, "write past MAXFILE");
  struct stat st;
  check_eq(fstat(fd, &st), 0, "fstat");
  check_eq(st.size, MAXBYTES, "size of a file of MAXFILE blocks");
  close(fd);

  fd = open(SCRATCH "/max", O_RDONLY);
  int bad = 0;
  for (int b = 0; b < MAXFILE; b++) {
    if (read_all(fd, back, BSIZE) != BSIZE || first_mismatch(back, BSIZE, b) != -1)
      bad++;
  }
  check_eq(bad, 0, "blocks read back wrong");
  check_eq(read(fd, back, 1), 0, "read at the end");
  close(fd);

  // A write that would cross the limit fails as a whole and changes nothing.
  fd = open(SCRATCH "/max", O_RDWR | O_TRUNC);
  int written = 0;
  memset(big, 'm', sizeof(big));
  while (written < MAXBYTES - 10) {
    int n = MAXBYTES - 10 - written;
    if (n > (int)sizeof(big))
      n = sizeof(big);
    if (write(fd, big, n) != n)
      break;
    written += n;
  }
  check_eq(written, MAXBYTES - 10, "write up to 10 bytes short of MAXFILE");
  check_eq(write(fd, big, 20), -1, "a write crossing MAXFILE");
  check_eq(fstat(fd, &st), 0, "fstat");
  check_eq(st.size, MAXBYTES - 10, "size after the refused write");
  check_eq(write(fd, big, 10), 10, "a write ending at MAXFILE exactly");
  check_eq(fstat(fd, &st), 0, "fstat");
  check_eq(st.size, MAXBYTES, "size at MAXFILE");
  close(fd);
  check_eq(unlink(SCRATCH "/max"), 0, "remove the file");
}

// ---- the largest directory ---------------------------------------------------------

// `prefix` followed by n in decimal.
static void
numbered_long(char *out, const char *prefix, int n)
{
  char digits[12];
  int len = 0;
  do {
    digits[len++] = '0' + n % 10;
    n /= 10;
  } while (n > 0);
  strcpy(out, prefix);
  int at = strlen(out);
  while (len > 0)
    out[at++] = digits[--len];
  out[at] = '\0';
}

#define DIR_SLOTS (MAXBYTES / (int)sizeof(struct dirent))

// Names for one file in one directory until the directory has MAXFILE
// blocks: then no name of any kind can be added, and a failed attempt
// leaves nothing behind (an inode lost per attempt would use them all up).
static void
test_dirfull(void)
{
  static char name[64];
  check_eq(mkdir(SCRATCH "/full"), 0, "mkdir");
  check_eq(make_file(SCRATCH "/full/f", "f"), 0, "create the file");
  int links = 0;
  for (; links < DIR_SLOTS; links++) {
    numbered_long(name, SCRATCH "/full/", links);
    if (link(SCRATCH "/full/f", name) < 0)
      break;
  }
  check_eq(links, DIR_SLOTS - 3, "names that fit besides ., .. and f");
  struct stat st;
  check_eq(stat(SCRATCH "/full", &st), 0, "stat the directory");
  check_eq(st.size, MAXBYTES, "size of the full directory");
  check_eq(stat(SCRATCH "/full/f", &st), 0, "stat the file");
  check_eq(st.nlink, links + 1, "links to the file");

  int refused = 0;
  for (int i = 0; i < 250; i++) {
    refused += link(SCRATCH "/full/f", SCRATCH "/full/x") == -1;
    refused += open(SCRATCH "/full/y", O_CREATE | O_RDWR) == -1;
    refused += mkdir(SCRATCH "/full/z") == -1;
  }
  check_eq(refused, 3 * 250, "names refused in the full directory");
  check_eq(mknod(SCRATCH "/full/d", 1, 0), -1, "mknod in the full directory");
  check_eq(stat(SCRATCH "/full/f", &st), 0, "stat the file");
  check_eq(st.nlink, links + 1, "links after the refused ones");
  check_eq(make_file(SCRATCH "/elsewhere", "e"), 0, "a file elsewhere (a free inode left)");
  check_eq(unlink(SCRATCH "/elsewhere"), 0, "remove it");

  // A freed slot is used again.
  numbered_long(name, SCRATCH "/full/", 100);
  check_eq(unlink(name), 0, "unlink one name");
  check_eq(link(SCRATCH "/full/f", SCRATCH "/full/again"), 0, "link into the freed slot");
  check_eq(unlink(SCRATCH "/full/again"), 0, "unlink it");

  int removed = 0;
  for (int i = 0; i < links; i++) {
    numbered_long(name, SCRATCH "/full/", i);
    removed += unlink(name) == 0;
  }
  check_eq(removed, links - 1, "names removed");
  check_eq(stat(SCRATCH "/full/f", &st), 0, "stat the file");
  check_eq(st.nlink, 1, "links left");
  check_eq(unlink(SCRATCH "/full/f"), 0, "remove the file");
  check_eq(unlink(SCRATCH "/full"), 0, "remove the emptied directory");
}

// ---- a full inode table and a full disk -------------------------------------------

// Create empty files prefix000, prefix001, ... until that fails; returns
// how many were made.
static int
create_until_full(const char *prefix)
{
  static char path[32];
  int n = 0;
  for (;; n++) {
    numbered_long(path, prefix, n);
    int fd = open(path, O_CREATE | O_RDWR);
    if (fd < 0)
      break;
    close(fd);
  }
  return n;
}

static int
remove_numbered(const char *prefix, int n)
{
  static char path[32];
  int removed = 0;
  for (int i = 0; i < n; i++) {
    numbered_long(path, prefix, i);
    removed += unlink(path) == 0;
  }
  return removed;
}

static void
test_inodes(void)
{
  int made = create_until_full(SCRATCH "/n");
  check(made > 50, "files created until no inode was left", made);
  check_eq(mkdir(SCRATCH "/nodir"), -1, "mkdir with no free inode");
  check_eq(mknod(SCRATCH "/nodev", 1, 0), -1, "mknod with no free inode");
  check_eq(link(SCRATCH "/n0", SCRATCH "/n-link"), 0, "link needs no inode");
  check_eq(unlink(SCRATCH "/n-link"), 0, "unlink the link");
  check_eq(remove_numbered(SCRATCH "/n", made), made, "files removed");
  check_eq(create_until_full(SCRATCH "/n"), made, "files created the second time");
  check_eq(remove_numbered(SCRATCH "/n", made), made, "files removed");
}

// Fill the disk with files of up to MAXFILE blocks; returns the bytes that
// fit, and the number of files in *nfiles.
static int
fill_disk(const char *prefix, int *nfiles)
{
  static char path[32];
  int total = 0;
  memset(big, 'd', BSIZE);
  for (*nfiles = 0; *nfiles < 100; ) {
    numbered_long(path, prefix, *nfiles);
    int fd = open(path, O_CREATE | O_WRONLY);
    check(fd >= 0, "create a file to fill the disk", *nfiles);
    if (fd < 0)
      break;
    (*nfiles)++;
    int full = 0;
    for (int b = 0; b < MAXFILE && !full; b++)
      full = write(fd, big, BSIZE) != BSIZE;
    struct stat st;
    fstat(fd, &st);
    total += st.size;
    close(fd);
    if (full)
      break;
  }
  return total;
}

static void
test_diskfull(void)
{
  int files = 0;
  int first = fill_disk(SCRATCH "/fill", &files);
  check(first > 100 * BSIZE && files < 100, "bytes that fit on the disk", first);

  // On a full disk: writes and new directories fail (and the inode each
  // failed mkdir took comes back), everything else works.
  int refused = 0;
  for (int i = 0; i < 250; i++)
    refused += mkdir(SCRATCH "/nodir") == -1;
  check_eq(refused, 250, "mkdir on a full disk");
  int fd = open(SCRATCH "/empty", O_CREATE | O_RDWR);
  check(fd >= 0, "create an empty file on a full disk", fd);
  check_eq(write(fd, "x", 1), -1, "write on a full disk");
  close(fd);
  fd = open(SCRATCH "/fill0", O_RDONLY);
  check_eq(read_all(fd, back, BSIZE), BSIZE, "read on a full disk");
  close(fd);
  check_eq(unlink(SCRATCH "/empty"), 0, "remove the empty file");

  // Freed, the disk holds exactly as much again: no block was lost.
  check_eq(remove_numbered(SCRATCH "/fill", files), files, "files removed");
  int again = 0;
  check_eq(fill_disk(SCRATCH "/fill", &again), first, "bytes that fit the second time");
  check_eq(remove_numbered(SCRATCH "/fill", again), again, "files removed");
  check_eq(mkdir(SCRATCH "/dir"), 0, "mkdir once there is room");
  check_eq(unlink(SCRATCH "/dir"), 0, "remove it");
}

// ---- memory to the limit -------------------------------------------------------

// Grow with sbrk until it fails: a MiB at a time, then a page at a time.
// Returns the bytes added.
static uint64
grow_to_limit(void)
{
  uint64 grown = 0;
  while (sbrk(1 << 20) != (char*)-1)
    grown += 1 << 20;
  while (sbrk(PGSIZE) != (char*)-1)
    grown += PGSIZE;
  return grown;
}

static void
shrink_by(uint64 bytes)
{
  while (bytes > 0) {
    int step = bytes > (1 << 20) ? (1 << 20) : (int)bytes;
    sbrk(-step);
    bytes -= step;
  }
}

// The word of page a that holds its tag.
static uint64 *
page_tag(uint64 a)
{
  return (uint64*)(a + ((a >> PGSHIFT) % (PGSIZE / 8)) * 8);
}

// Pages of [lo, hi) whose tag is not their own address.
static int
wrong_tags(uint64 lo, uint64 hi)
{
  int wrong = 0;
  for (uint64 a = lo; a < hi; a += PGSIZE)
    wrong += *page_tag(a) != a;
  return wrong;
}

static void
test_sbrklimit(void)
{
  char *start = sbrk(0);
  uint64 grown = grow_to_limit();
  int left = freepages();
  check(grown > 1 << 20, "bytes sbrk could add", grown);
  check_eq((uint64)sbrk(0), (uint64)start + grown, "break at the limit");
  check(left <= 1, "free pages at the limit", left);

  // Every new page is there, zeroed and its own.
  uint64 lo = PGROUNDUP((uint64)start), hi = (uint64)start + grown;
  int dirty = 0;
  for (uint64 a = lo; a < hi; a += PGSIZE) {
    dirty += *page_tag(a) != 0;
    *page_tag(a) = a;
  }
  check_eq(dirty, 0, "new pages that were not zero");
  check_eq(wrong_tags(lo, hi), 0, "pages that lost their tag");

  // With no page free, nothing that needs one works, and failing changes
  // nothing.  The file system needs no pages.
  int pipes[4][2], npipes = 0;
  while (npipes < 4 && pipe(pipes[npipes]) == 0)
    npipes++;
  check_eq(freepages(), 0, "free pages after taking the last ones with pipes");
  int ends[2];
  int pid = fork();
  if (pid == 0)
    exit(0);
  check_eq(pid, -1, "fork with no free memory");
  if (pid > 0)
    wait(0);
  check_eq(pipe(ends), -1, "pipe with no free memory");
  check_eq((uint64)sbrk(PGSIZE), (uint64)-1, "sbrk with no free memory");
  char *args[] = { "systest", "exitwith", "9", 0 };
  check_eq(exec(SELF, args), -1, "exec with no free memory");
  int fd = open(SCRATCH "/nomem", O_CREATE | O_RDWR);
  check_eq(write(fd, big, 3000), 3000, "file write with no free memory");
  close(fd);
  check_eq(unlink(SCRATCH "/nomem"), 0, "unlink with no free memory");
  check_eq(wrong_tags(lo, hi), 0, "pages that lost their tag after the failed calls");
  for (int i = 0; i < npipes; i++) {
    close(pipes[i][0]);
    close(pipes[i][1]);
  }

  // Shrunk and grown again, the same memory is there: what sbrk got plus
  // what it could not use.  (Page-table pages stay with the process.)
  uint64 usable = grown / PGSIZE + left;
  shrink_by(grown);
  check_eq((uint64)sbrk(0), (uint64)start, "break after shrinking");
  uint64 again = grow_to_limit();
  check_eq(again / PGSIZE + freepages(), usable, "pages at the limit the second time");
  shrink_by(again);

  // A child that takes everything and exits without shrinking gives it back.
  pid = fork();
  if (pid == 0) {
    grow_to_limit();
    exit(freepages() <= 1 ? 0 : 1);
  }
  check_eq(reap(pid), 0, "a child at the limit");
  again = grow_to_limit();
  check_eq(again / PGSIZE + freepages(), usable, "pages at the limit after the child");
  shrink_by(again);

  // Shrinking away all of its memory, code included, kills a process.
  pid = fork();
  if (pid == 0) {
    sbrk(-(int)(uint64)sbrk(0));
    exit(0);
  }
  check_eq(reap(pid), -1, "a process that gave up its code is killed");
}

// ---- out of memory at every allocation ---------------------------------------------

#define OOM_FORK 1
#define OOM_PIPE 2
#define OOM_SBRK 4
#define OOM_EXEC 8

// One round: a hog takes all free memory but `keep` pages (about: it stops
// when the next step would go below), then a worker forked beforehand tries
// fork, pipe, sbrk and finally exec.  Returns the worker's exit status,
// OOM_* bits of the calls that worked; *free_then gets the free pages the
// worker started with.
static int
oom_round(int keep, int *free_then)
{
  int gate[2], ready[2], hold[2];
  pipe(gate);
  pipe(ready);
  pipe(hold);
  int worker = fork();
  if (worker == 0) {
    char c;
    close(gate[1]);
    read(gate[0], &c, 1);
    int worked = 0;
    int pid = fork();
    if (pid == 0)
      exit(0);
    if (pid > 0 && wait(0) == pid)
      worked |= OOM_FORK;
    int ends[2];
    if (pipe(ends) == 0) {
      close(ends[0]);
      close(ends[1]);
      worked |= OOM_PIPE;
    }
    if (sbrk(2 * PGSIZE) != (char*)-1) {
      sbrk(-2 * PGSIZE);
      worked |= OOM_SBRK;
    }
    static char code[4];
    numbered(code, "", worked | OOM_EXEC);
    char *args[] = { "systest", "exitwith", code, 0 };
    exec(SELF, args);
    exit(worked);
  }
  int hog = fork();
  if (hog == 0) {
    close(hold[1]);
    while (freepages() > keep + 300 && sbrk(1 << 20) != (char*)-1)
      ;
    while (freepages() > keep && sbrk(PGSIZE) != (char*)-1)
      ;
    write(ready[1], "r", 1);
    char c;
    read(hold[0], &c, 1);       // 0 once the test closes hold[1]
    exit(0);
  }
  char c;
  read(ready[0], &c, 1);
  *free_then = freepages();
  write(gate[1], "g", 1);
  int status = reap(worker);
  close(hold[1]);
  reap(hog);
  close(hold[0]);
  close(gate[0]);
  close(gate[1]);
  close(ready[0]);
  close(ready[1]);
  return status;
}

// Out of memory at every allocation: with k pages free, for k = 0 up to
// enough, each of fork, pipe, sbrk and exec either works or fails with -1,
// and once the processes are gone every page is back.
static void
test_oom(void)
{
  int baseline = freepages();
  int last = quick ? 12 : 72;
  int none_worked = 0, all_worked = 0;
  for (int keep = 0; keep <= last; keep += keep < 48 ? 1 : 8) {
    int free_then = -1;
    int status = oom_round(keep, &free_then);
    if (status < 0 || status > 15)
      printf("FAIL %s: with %d pages free the worker ended with status %d\n",
             test_name, free_then, status);
    failures += status < 0 || status > 15;
    if (free_then == 0)
      none_worked += status == 0;
    if (free_then >= 64)
      all_worked += status == 15;
    int missing = missing_pages(baseline);
    if (missing != 0)
      printf("FAIL %s: %d pages missing after a round with %d free\n",
             test_name, missing, free_then);
    failures += missing != 0;
  }
  check(none_worked > 0, "rounds with no page free where every call failed", none_worked);
  if (!quick)
    check(all_worked > 0, "rounds with 64 pages free where every call worked", all_worked);
}

// ---- kill at every point -----------------------------------------------------------

// What a victim does, over and over, until it is killed.  After each step
// it writes a byte to its progress pipe, so that the killer knows it is
// under way; the killer varies how many steps it waits for and whether it
// then sleeps, so the kill finds the victim at different points: in user
// code, in a system call, asleep on the disk, a pipe, a child or the clock.
enum {
  KP_SPIN, KP_FORK, KP_FILES, KP_PIPES, KP_SBRK, KP_EXEC, KP_DIRS, KP_SLEEP,
  KP_WAIT, KP_PIPEFULL, KP_KINDS
};

static void
victim(int kind, int progress, const char *dir)
{
  static char path[48], sub[48];
  strcpy(path, dir);
  strcpy(path + strlen(dir), "/f");
  strcpy(sub, dir);
  strcpy(sub + strlen(dir), "/d");
  for (;;) {
    switch (kind) {
    case KP_SPIN:
      for (volatile int i = 0; i < 20000; i++)
        ;
      break;
    case KP_FORK: {
      int pid = fork();
      if (pid == 0)
        exit(0);
      if (pid > 0)
        wait(0);
      break;
    }
    case KP_FILES: {
      int fd = open(path, O_CREATE | O_RDWR);
      write(fd, big, 3000);
      close(fd);
      unlink(path);
      break;
    }
    case KP_PIPES: {
      int ends[2];
      if (pipe(ends) < 0)
        break;
      int pid = fork();
      if (pid == 0) {
        close(ends[0]);
        write(ends[1], big, 2000);
        exit(0);
      }
      close(ends[1]);
      while (read(ends[0], back, 600) > 0)
        ;
      close(ends[0]);
      if (pid > 0)
        wait(0);
      break;
    }
    case KP_SBRK: {
      char *p = sbrk(16 * PGSIZE);
      if (p != (char*)-1) {
        p[0] = p[16 * PGSIZE - 1] = 1;
        sbrk(-16 * PGSIZE);
      }
      break;
    }
    case KP_DIRS:
      mkdir(sub);
      make_file(path, "in a directory");
      unlink(path);
      unlink(sub);
      break;
    case KP_SLEEP:
      sleep(1);
      break;
    case KP_WAIT: {
      int pid = fork();
      if (pid == 0) {
        sleep(3);
        exit(0);
      }
      wait(0);
      break;
    }
    case KP_PIPEFULL: {
      // Blocks for good in the second write: the pipe is full and the
      // only reader is ourselves.
      int ends[2];
      pipe(ends);
      write(progress, "p", 1);
      write(ends[1], big, 3000);
      break;
    }
    }
    write(progress, "p", 1);
  }
}

// Start a victim of the given kind, let it make `steps` steps, maybe
// sleep `nap` ticks, kill it.  Returns 0 if all went as expected.
static void
kill_round(int kind, int round, int steps, int nap)
{
  static char dir[32];
  numbered(dir, SCRATCH "/kp", round % 100);
  mkdir(dir);
  int progress[2];
  check_eq(pipe(progress), 0, "pipe() for progress");
  int pid = fork();
  if (pid == 0) {
    close(progress[0]);
    if (kind == KP_EXEC) {
      // The victim runs "systest execloop", which writes a byte to its
      // standard output and execs itself again.
      close(1);
      dup(progress[1]);
      close(progress[1]);
      char *args[] = { "systest", "execloop", 0 };
      exec(SELF, args);
      exit(1);
    }
    victim(kind, progress[1], dir);
  }
  close(progress[1]);
  if (kind == KP_PIPEFULL)
    steps = 1;          // it makes one step only
  char c;
  for (int i = 0; i < steps; i++) {
    if (read(progress[0], &c, 1) != 1)
      break;
  }
  if (nap > 0)
    sleep(nap);
  int killed = kill(pid);
  int status = reap(pid);
  close(progress[0]);
  if (killed != 0 || status != -1) {
    printf("FAIL %s: victim %d (round %d, %d steps, %d ticks): kill %d, status %d\n",
           test_name, kind, round, steps, nap, killed, status);
    failures++;
  }
  remove_tree(dir);
  struct stat st;
  check_eq(stat(dir, &st), -1, "the victim's directory removed");
}

static void
test_killpoints(void)
{
  int slots = fill_process_table();
  int rounds = quick ? 2 : 8;
  int round = 0;
  for (int kind = 0; kind < KP_KINDS; kind++) {
    for (int r = 0; r < rounds; r++)
      kill_round(kind, round++, 1 + (r * 3) % 8, r % 3);
  }
  check_eq(process_table_settles(slots), slots, "free process slots after the kills");
}

// ---- Driver ---------------------------------------------------------------

// How long a test takes decides when it runs.
enum {
  QUICK,      // also in `systest -q`, which the simulated SoC runs: cheap there
  NORMAL,     // in `systest`
  SLOW,       // only when named or with -a (dirfull: minutes on QEMU)
};

struct test {
  const char *name;
  void (*run)(void);
  int when;              // QUICK, NORMAL or SLOW
  const char *what;      // for `systest -l`
};

static const struct test tests[] = {
  { "ulib",       test_ulib,       QUICK,  "string, memory and input functions of ulib.c" },
  { "printf",     test_printf,     QUICK,  "printf conversions" },
  { "fork",       test_fork,       QUICK,  "fork, exit, wait; a full process table" },
  { "exec",       test_exec,       QUICK,  "exec with arguments; files that are no program" },
  { "pipe",       test_pipe,       QUICK,  "pipe data, EOF, no reader, wrong direction" },
  { "files",      test_files,      QUICK,  "open, read, write, dup, link, unlink, fstat" },
  { "dirs",       test_dirs,       NORMAL, "mkdir, chdir, paths, directory entries" },
  { "concurrent", test_concurrent, NORMAL, "processes writing files at once" },
  { "sbrk",       test_sbrk,       NORMAL, "growing and shrinking memory" },
  { "malloc",     test_malloc,     NORMAL, "malloc and free" },
  { "kill",       test_kill,       QUICK,  "kill running, sleeping and blocked processes" },
  { "badargs",    test_badargs,    QUICK,  "every system call with bad pointers, fds, lengths" },
  { "badexec",    test_badexec,    QUICK,  "exec of every truncation of a program" },
  { "fdlimits",   test_fdlimits,   QUICK,  "full descriptor, file and inode tables" },
  { "pipeload",   test_pipeload,   QUICK,  "many writers and readers; a pipeline" },
  { "procs",      test_procs,      QUICK,  "fork trees, fork/wait churn, zombies" },
  { "killpoints", test_killpoints, QUICK,  "kill processes at every kind of point" },
  { "filemax",    test_filemax,    NORMAL, "a file of MAXFILE blocks; writes past it" },
  { "inodes",     test_inodes,     NORMAL, "files until no inode is left, twice" },
  { "diskfull",   test_diskfull,   NORMAL, "files until the disk is full, twice" },
  { "sbrklimit",  test_sbrklimit,  NORMAL, "sbrk to the limit, and back, three times" },
  { "oom",        test_oom,        NORMAL, "fork, pipe, sbrk, exec with 0, 1, 2... pages free" },
  { "dirfull",    test_dirfull,    SLOW,   "a directory of MAXFILE blocks" },
};
#define NTESTS ((int)(sizeof(tests) / sizeof(tests[0])))

// Run one test in a child process, in an empty scratch directory; returns
// its failures (0: it passed).
static int
run_test(const struct test *t)
{
  remove_tree(SCRATCH);
  if (mkdir(SCRATCH) < 0) {
    printf("FAIL %s: cannot create %s\n", t->name, SCRATCH);
    printf("%s: FAILED (1)\n", t->name);
    return 1;
  }
  int free_before = freepages();
  int pid = fork();
  if (pid < 0) {
    printf("FAIL %s: cannot fork a process for the test\n", t->name);
    printf("%s: FAILED (1)\n", t->name);
    return 1;
  }
  if (pid == 0) {
    test_name = t->name;
    failures = 0;
    chdir("/");
    t->run();
    exit(failures);
  }
  int status = -1;
  int n = 0;
  if (wait(&status) != pid || status < 0) {
    printf("FAIL %s: the test's process died (exit status %d)\n", t->name, status);
    n = 1;
  } else {
    n = status;
  }
  int leaked = missing_pages(free_before);
  if (leaked > 0) {
    printf("FAIL %s: %d pages not freed after the test\n", t->name, leaked);
    n++;
  }
  if (n == 0)
    printf("%s: ok\n", t->name);
  else
    printf("%s: FAILED (%d)\n", t->name, n);
  return n;
}

static const struct test *
find_test(const char *name)
{
  for (int i = 0; i < NTESTS; i++) {
    if (strcmp(tests[i].name, name) == 0)
      return &tests[i];
  }
  return 0;
}

static void
usage(void)
{
  fprintf(2, "usage: systest [-q] [NAME ...] | -a | -l\n");
  exit(2);
}

int
main(int argc, char *argv[])
{
  // Modes in which systest is exec'ed by its own tests.
  if (argc >= 2 && strcmp(argv[1], "echoargs") == 0)
    echo_args(argc, argv);
  if (argc == 3 && strcmp(argv[1], "exitwith") == 0)
    exit(atoi(argv[2]));
  if (argc == 2 && strcmp(argv[1], "execloop") == 0) {
    write(1, "p", 1);
    exec(SELF, argv);
    exit(1);
  }

  // Which tests: all, the quick ones, or the named ones (in table order).
  static char selected[NTESTS];
  int named = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-q") == 0) {
      quick = 1;
    } else if (strcmp(argv[i], "-a") == 0) {
      all = 1;
    } else if (strcmp(argv[i], "-l") == 0) {
      for (int t = 0; t < NTESTS; t++)
        printf("%c %s: %s\n", "qns"[tests[t].when], tests[t].name, tests[t].what);
      printf("(q: quick, in systest -q; n: normal; s: slow, only in systest -a)\n");
      exit(0);
    } else if (argv[i][0] == '-') {
      usage();
    } else {
      const struct test *t = find_test(argv[i]);
      if (t == 0) {
        fprintf(2, "systest: no test %s (systest -l lists them)\n", argv[i]);
        exit(2);
      }
      selected[t - tests] = 1;
      named = 1;
    }
  }
  if (all && (quick || named))
    usage();
  for (int t = 0; t < NTESTS && !named; t++)
    selected[t] = all || tests[t].when == QUICK || (!quick && tests[t].when == NORMAL);

  static char failed[NTESTS];
  int ran = 0, nfailed = 0;
  for (int t = 0; t < NTESTS; t++) {
    if (!selected[t])
      continue;
    ran++;
    if (run_test(&tests[t]) != 0) {
      failed[t] = 1;
      nfailed++;
    }
  }

  chdir("/");
  remove_tree(SCRATCH);
  if (nfailed == 0) {
    printf("ALL TESTS PASSED\n");
    exit(0);
  }
  printf("%d of %d FAILED:", nfailed, ran);
  for (int t = 0; t < NTESTS; t++) {
    if (failed[t])
      printf(" %s", tests[t].name);
  }
  printf("\n");
  exit(1);
}
