// grep pattern [file ...]: print the lines that contain a match.
//
// Patterns are a small regular-expression language:
//   c    the character c          .    any character
//   x*   zero or more of x        \c   c literally (also \. \* \^ \$)
//   ^    at the very start: the match must begin the line
//   $    at the very end: the match must end the line
// The pattern is first turned into a list of atoms; matching walks that
// list with backtracking only for starred atoms.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "user/user.h"

#define MAXATOMS 128

struct atom {
  char ch;      // character to match (unused when any is set)
  char any;     // '.' matches every character
  char repeat;  // followed by '*': zero or more times
};

struct regex {
  struct atom atoms[MAXATOMS];
  int count;
  int at_start;   // pattern began with ^
  int at_end;     // pattern ended with $
};

// Returns 0, or -1 when the pattern is too long or ends in a lone '\'.
static int
compile(const char *pat, struct regex *re)
{
  int len = strlen(pat);
  int i = 0;
  re->count = 0;
  re->at_start = re->at_end = 0;
  if (len > 0 && pat[0] == '^') {
    re->at_start = 1;
    i = 1;
  }
  // A final '$' anchors, unless it was escaped ("\$").
  if (len > i && pat[len - 1] == '$' && (len < 2 || pat[len - 2] != '\\')) {
    re->at_end = 1;
    len--;
  }
  while (i < len) {
    if (re->count == MAXATOMS)
      return -1;
    struct atom *a = &re->atoms[re->count];
    a->any = 0;
    a->repeat = 0;
    if (pat[i] == '\\') {
      if (i + 1 >= len)
        return -1;
      a->ch = pat[i + 1];
      i += 2;
    } else if (pat[i] == '*' && re->count == 0) {
      // '*' with nothing before it stands for itself.
      a->ch = '*';
      i++;
    } else {
      a->any = (pat[i] == '.');
      a->ch = pat[i];
      i++;
    }
    if (i < len && pat[i] == '*') {
      a->repeat = 1;
      i++;
    }
    re->count++;
  }
  return 0;
}

static int
atom_matches(const struct atom *a, char c)
{
  return c != '\0' && (a->any || a->ch == c);
}

// Do atoms k.. match at text (a prefix of it, or all of it when the
// pattern is anchored at the end)?
static int
match_from(const struct regex *re, int k, const char *text)
{
  while (k < re->count) {
    const struct atom *a = &re->atoms[k];
    if (a->repeat) {
      // Greedy: take as many as possible, then give back one at a time
      // until the rest of the pattern fits.
      int most = 0;
      while (atom_matches(a, text[most]))
        most++;
      for (int n = most; n >= 0; n--) {
        if (match_from(re, k + 1, text + n))
          return 1;
      }
      return 0;
    }
    if (!atom_matches(a, *text))
      return 0;
    text++;
    k++;
  }
  return !re->at_end || *text == '\0';
}

static int
line_matches(const struct regex *re, const char *line)
{
  if (re->at_start)
    return match_from(re, 0, line);
  // Try every starting point, the empty tail included (for "x*" or "$").
  const char *p = line;
  for (;;) {
    if (match_from(re, 0, p))
      return 1;
    if (*p == '\0')
      return 0;
    p++;
  }
}

static char buf[1024];

// Test one line (len bytes at line, without its newline) and print it if
// it matches.  The byte at line[len] may be overwritten: it is either the
// line's own newline or spare room in buf.
static void
consider(const struct regex *re, char *line, int len)
{
  line[len] = '\0';
  if (line_matches(re, line)) {
    line[len] = '\n';
    write(1, line, len + 1);
  }
}

// Print the matching lines of fd.  Returns -1 on a read error.
static int
scan(const struct regex *re, int fd)
{
  int filled = 0;       // bytes in buf; always < sizeof(buf)
  for (;;) {
    int got = read(fd, buf + filled, sizeof(buf) - 1 - filled);
    if (got < 0)
      return -1;
    filled += got;

    int start = 0;      // first byte of the line being collected
    for (int i = 0; i < filled; i++) {
      if (buf[i] == '\n') {
        consider(re, buf + start, i - start);
        start = i + 1;
      }
    }
    if (start == 0 && filled == (int)sizeof(buf) - 1) {
      // A line longer than the buffer: judge the part we have.
      consider(re, buf, filled);
      start = filled;
    }
    if (got == 0) {
      // End of input; a last line without a newline still counts.
      if (start < filled)
        consider(re, buf + start, filled - start);
      return 0;
    }
    memmove(buf, buf + start, filled - start);
    filled -= start;
  }
}

int
main(int argc, char *argv[])
{
  if (argc < 2) {
    fprintf(2, "usage: grep pattern [file ...]\n");
    exit(1);
  }
  static struct regex re;
  if (compile(argv[1], &re) < 0) {
    fprintf(2, "grep: bad pattern %s\n", argv[1]);
    exit(1);
  }
  if (argc == 2) {
    if (scan(&re, 0) < 0) {
      fprintf(2, "grep: read error\n");
      exit(1);
    }
    exit(0);
  }
  int status = 0;
  for (int i = 2; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "grep: cannot open %s\n", argv[i]);
      status = 1;
      continue;
    }
    if (scan(&re, fd) < 0) {
      fprintf(2, "grep: read error on %s\n", argv[i]);
      status = 1;
    }
    close(fd);
  }
  exit(status);
}
