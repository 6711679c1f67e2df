// systest: checks the system calls from user space.
//
// Each group of checks prints "<group>: ok" when all of its checks held,
// or "<group>: FAILED (n)" after one "FAIL <group>: ..." line per failed
// check.  "ALL OK" is printed at the very end only when nothing failed;
// the exit status is 0 then and 1 otherwise.
//
//   systest            run every group
//   systest g1 g2 ...  run only the named groups
//
// Scratch files live in /st_tmp, which is removed before and after.
// systest also runs itself with exec(): "systest echoargs ..." prints its
// arguments (that mode is for the exec group and not meant for people).
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

// ---- Bookkeeping ------------------------------------------------------

static const char *group_name;
static int group_failures;
static int total_failures;

static void
begin(const char *name)
{
  group_name = name;
  group_failures = 0;
}

static void
finish(void)
{
  if (group_failures == 0)
    printf("%s: ok\n", group_name);
  else
    printf("%s: FAILED (%d)\n", group_name, group_failures);
  total_failures += group_failures;
}

static void
fail_eq(int line, const char *what, long got, long want)
{
  printf("FAIL %s: %s: got %ld, want %ld (systest.c:%d)\n",
         group_name, what, got, want, line);
  group_failures++;
}

static void
fail_cond(int line, const char *what, long shown)
{
  printf("FAIL %s: %s: not true (value %ld, systest.c:%d)\n",
         group_name, what, shown, line);
  group_failures++;
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

// ---- the C library (ulib.c) ---------------------------------------------

static void
check_str(int line, const char *got, const char *want, const char *what)
{
  if (strcmp(got, want) != 0) {
    printf("FAIL %s: %s: got \"%s\", want \"%s\" (systest.c:%d)\n",
           group_name, what, got, want, line);
    group_failures++;
  }
}

static void
test_ulib(void)
{
  begin("ulib");
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
    group_failures = 0;
    check_str(__LINE__, gets(buf, sizeof(buf)), "line one\n", "gets of a whole line");
    check_str(__LINE__, gets(buf, 5), "line", "gets stops at max-1 characters");
    check_str(__LINE__, gets(buf, sizeof(buf)), " two\n", "gets of the rest of the line");
    check_str(__LINE__, gets(buf, sizeof(buf)), "last", "gets of a line without newline");
    check_str(__LINE__, gets(buf, sizeof(buf)), "", "gets at end of input");
    exit(group_failures);
  }
  close(ends[0]);
  const char *input = "line one\nline two\nlast";
  check_eq(write(ends[1], input, strlen(input)), strlen(input), "write the gets input");
  close(ends[1]);
  check_eq(reap(pid), 0, "failed gets checks in the child");

  finish();
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
  begin("printf");
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

  finish();
}

// ---- fork, exit, wait -------------------------------------------------

#define NKIDS 5

static void
test_fork(void)
{
  begin("fork");
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

  // Fill the process table with children blocked on a pipe: fork() then
  // fails with -1, and once they are released everything is reaped.
  int gate[2];
  check_eq(pipe(gate), 0, "pipe()");
  int forked = 0;
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
  check(forked > 0 && forked < NPROC, "children that fit in the process table", forked);
  close(gate[0]);
  close(gate[1]);
  int reaped = 0;
  while (wait(0) > 0)
    reaped++;
  check_eq(reaped, forked, "children reaped after a full process table");
  pid = fork();
  if (pid == 0)
    exit(5);
  check_eq(reap(pid), 5, "fork works again afterwards");

  finish();
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
  begin("exec");

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

  finish();
}

// ---- pipes ------------------------------------------------------------

#define PIPE_BYTES 5000

static void
test_pipe(void)
{
  begin("pipe");
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

  finish();
}

// ---- files ------------------------------------------------------------

#define FILE_BYTES  1500                  // crosses a block boundary
#define LARGE_BYTES ((NDIRECT + 2) * BSIZE) // needs the indirect block

static void
test_files(void)
{
  begin("files");
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

  finish();
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
  begin("dirs");
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

  finish();
}

// ---- several processes at once ------------------------------------------

#define NWORKERS     4
#define WORKER_BYTES 3000

static void
test_concurrent(void)
{
  begin("concurrent");
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

  finish();
}

// ---- sbrk and malloc ------------------------------------------------------

static void
test_sbrk(void)
{
  begin("sbrk");
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

  finish();
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
  begin("malloc");
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

  finish();
}

// ---- kill ---------------------------------------------------------------

static void
test_kill(void)
{
  begin("kill");

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

  finish();
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
test_badargs(void)
{
  begin("badargs");
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
  close(fd);

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

  // wait() with a bad status pointer.
  int pid = fork();
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

  // Nothing above leaked a descriptor, and the process is still fine.
  check_eq(free_fd_count(), fds_before, "no descriptors leaked");
  check(getpid() > 0, "still alive", 0);
  check_eq(unlink(SCRATCH "/data"), 0, "remove the data file");

  finish();
}

// ---- Driver ---------------------------------------------------------------

struct group {
  const char *name;
  void (*run)(void);
};

static const struct group groups[] = {
  { "ulib",    test_ulib },
  { "printf",  test_printf },
  { "fork",    test_fork },
  { "exec",    test_exec },
  { "pipe",    test_pipe },
  { "files",   test_files },
  { "dirs",    test_dirs },
  { "concurrent", test_concurrent },
  { "sbrk",    test_sbrk },
  { "malloc",  test_malloc },
  { "kill",    test_kill },
  { "badargs", test_badargs },
};
#define NGROUPS ((int)(sizeof(groups) / sizeof(groups[0])))

static int
wanted(const char *name, int argc, char *argv[])
{
  if (argc < 2)
    return 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], name) == 0)
      return 1;
  }
  return 0;
}

int
main(int argc, char *argv[])
{
  if (argc >= 2 && strcmp(argv[1], "echoargs") == 0)
    echo_args(argc, argv);

  for (int i = 1; i < argc; i++) {
    int known = 0;
    for (int g = 0; g < NGROUPS; g++) {
      if (strcmp(argv[i], groups[g].name) == 0)
        known = 1;
    }
    if (!known) {
      fprintf(2, "systest: no group %s (groups:", argv[i]);
      for (int g = 0; g < NGROUPS; g++)
        fprintf(2, " %s", groups[g].name);
      fprintf(2, ")\n");
      exit(2);
    }
  }

  remove_tree(SCRATCH);
  if (mkdir(SCRATCH) < 0) {
    fprintf(2, "systest: cannot create %s\n", SCRATCH);
    exit(1);
  }

  for (int g = 0; g < NGROUPS; g++) {
    if (!wanted(groups[g].name, argc, argv))
      continue;
    // Every group starts in / with only fds 0, 1, 2 open.
    chdir("/");
    groups[g].run();
  }

  chdir("/");
  remove_tree(SCRATCH);
  if (total_failures != 0) {
    printf("systest: %d checks failed\n", total_failures);
    exit(1);
  }
  printf("ALL OK\n");
  exit(0);
}
