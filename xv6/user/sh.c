// sh: the shell.
//
// A command line is a list of jobs separated by ';' (run one after the
// other) or ended by '&' (started in the background; its pid is printed
// as "[pid]").  A job is a pipeline of commands joined by '|'.  A command
// is a program name with arguments, or a parenthesised list run in a
// subshell; either may carry redirections: "< file", "> file" (truncate)
// and ">> file" (append).  Words may be quoted with '...' or "...".
// Built in: "cd dir" and "exit".  The "$ " prompt appears only when
// standard input is the console, so "sh < script" prints just the output.  A program name without a '/' that is
// not found in the current directory is looked up in "/".
//
// The line is split into tokens, the tokens are parsed into a small tree
// (nodes from a fixed pool, reset for every line), and the tree is run.
// The top-level list runs in the shell itself so that "cd" works in
// any position of it; each job gets its own process.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/param.h"
#include "user/user.h"

#define LINE_MAX    512
#define MAXTOKENS   128
#define MAXNODES    32
#define MAXITEMS    16     // jobs in one list
#define MAXREDIRS   4      // redirections on one command

// ---- Tokens -----------------------------------------------------------

enum tokkind { TK_WORD, TK_PIPE, TK_IN, TK_OUT, TK_APPEND, TK_AMP, TK_SEMI,
               TK_LPAREN, TK_RPAREN, TK_END };

struct token {
  enum tokkind kind;
  char *text;            // TK_WORD: the word, unquoted and terminated
};

static char line[LINE_MAX];
static char words[LINE_MAX * 2];   // unquoted word text, each terminated
static struct token tokens[MAXTOKENS];
static int ntokens;
static int cursor;                 // next token for the parser

static const char *
token_name(enum tokkind k)
{
  switch (k) {
  case TK_WORD:   return "word";
  case TK_PIPE:   return "'|'";
  case TK_IN:     return "'<'";
  case TK_OUT:    return "'>'";
  case TK_APPEND: return "'>>'";
  case TK_AMP:    return "'&'";
  case TK_SEMI:   return "';'";
  case TK_LPAREN: return "'('";
  case TK_RPAREN: return "')'";
  default:        return "end of line";
  }
}

static int
is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v';
}

static int
is_special(char c)
{
  return strchr("|<>&;()", c) != 0;
}

// Split line into tokens.  Returns 0, or -1 after printing an error.
static int
tokenize(void)
{
  char *in = line;
  char *out = words;
  ntokens = 0;
  for (;;) {
    while (is_blank(*in))
      in++;
    if (ntokens == MAXTOKENS - 1) {
      fprintf(2, "sh: too many words\n");
      return -1;
    }
    struct token *t = &tokens[ntokens++];
    t->text = 0;
    char c = *in;
    if (c == '\0') {
      t->kind = TK_END;
      return 0;
    }
    if (is_special(c)) {
      in++;
      switch (c) {
      case '|': t->kind = TK_PIPE; break;
      case '<': t->kind = TK_IN; break;
      case '&': t->kind = TK_AMP; break;
      case ';': t->kind = TK_SEMI; break;
      case '(': t->kind = TK_LPAREN; break;
      case ')': t->kind = TK_RPAREN; break;
      default:
        if (*in == '>') {
          in++;
          t->kind = TK_APPEND;
        } else {
          t->kind = TK_OUT;
        }
      }
      continue;
    }
    // A word runs until a blank or special character outside quotes.
    t->kind = TK_WORD;
    t->text = out;
    while (*in != '\0' && !is_blank(*in) && !is_special(*in)) {
      if (*in == '\'' || *in == '"') {
        char quote = *in++;
        while (*in != quote) {
          if (*in == '\0') {
            fprintf(2, "sh: missing closing %c\n", quote);
            return -1;
          }
          *out++ = *in++;
        }
        in++;
      } else {
        *out++ = *in++;
      }
    }
    *out++ = '\0';
  }
}

// ---- Syntax tree --------------------------------------------------------

enum nodekind { ND_EXEC, ND_PIPE, ND_LIST };

struct redir {
  int fd;          // 0 for '<', 1 for '>' and '>>'
  int append;      // '>>'
  char *file;
};

struct node {
  enum nodekind kind;
  // ND_EXEC
  int argc;
  char *argv[MAXARG + 1];
  // ND_EXEC and ND_LIST (a parenthesised list)
  int nredirs;
  struct redir redirs[MAXREDIRS];
  // ND_PIPE
  struct node *left, *right;
  // ND_LIST
  int nitems;
  struct node *items[MAXITEMS];
  char background[MAXITEMS];
};

static struct node pool[MAXNODES];
static int pool_used;

static struct node *
new_node(enum nodekind kind)
{
  if (pool_used == MAXNODES) {
    fprintf(2, "sh: command too complex\n");
    return 0;
  }
  struct node *n = &pool[pool_used++];
  memset(n, 0, sizeof(*n));
  n->kind = kind;
  return n;
}

static enum tokkind
peek(void)
{
  return tokens[cursor].kind;
}

static void *
syntax_error(void)
{
  fprintf(2, "sh: syntax error near %s\n", token_name(peek()));
  return 0;
}

static struct node *parse_list(void);

// If the next tokens are a redirection, add it to n.  Returns 1 if one
// was taken, 0 if there was none, -1 on an error.
static int
parse_redir(struct node *n)
{
  enum tokkind k = peek();
  if (k != TK_IN && k != TK_OUT && k != TK_APPEND)
    return 0;
  cursor++;
  if (peek() != TK_WORD) {
    fprintf(2, "sh: missing file name after %s\n", token_name(k));
    return -1;
  }
  if (n->nredirs == MAXREDIRS) {
    fprintf(2, "sh: too many redirections\n");
    return -1;
  }
  struct redir *r = &n->redirs[n->nredirs++];
  r->fd = (k == TK_IN) ? 0 : 1;
  r->append = (k == TK_APPEND);
  r->file = tokens[cursor++].text;
  return 1;
}

// command := '(' list ')' redirs | (word | redir)+
static struct node *
parse_command(void)
{
  struct node *n;
  int got;
  if (peek() == TK_LPAREN) {
    cursor++;
    n = parse_list();
    if (n == 0)
      return 0;
    if (peek() != TK_RPAREN)
      return syntax_error();
    cursor++;
    while ((got = parse_redir(n)) == 1)
      ;
    return got < 0 ? 0 : n;
  }

  n = new_node(ND_EXEC);
  if (n == 0)
    return 0;
  for (;;) {
    if (peek() == TK_WORD) {
      if (n->argc == MAXARG) {
        fprintf(2, "sh: too many arguments\n");
        return 0;
      }
      n->argv[n->argc++] = tokens[cursor++].text;
      continue;
    }
    got = parse_redir(n);
    if (got < 0)
      return 0;
    if (got == 0)
      break;
  }
  if (n->argc == 0)
    return syntax_error();
  n->argv[n->argc] = 0;
  return n;
}

// pipeline := command ('|' command)*
static struct node *
parse_pipeline(void)
{
  struct node *left = parse_command();
  while (left != 0 && peek() == TK_PIPE) {
    cursor++;
    struct node *right = parse_command();
    if (right == 0)
      return 0;
    struct node *joined = new_node(ND_PIPE);
    if (joined == 0)
      return 0;
    joined->left = left;
    joined->right = right;
    left = joined;
  }
  return left;
}

// list := (pipeline (';' | '&'))* [pipeline], up to ')' or the end
static struct node *
parse_list(void)
{
  struct node *list = new_node(ND_LIST);
  if (list == 0)
    return 0;
  while (peek() != TK_END && peek() != TK_RPAREN) {
    struct node *job = parse_pipeline();
    if (job == 0)
      return 0;
    if (list->nitems == MAXITEMS) {
      fprintf(2, "sh: too many commands in one line\n");
      return 0;
    }
    int bg = 0;
    if (peek() == TK_AMP) {
      bg = 1;
      cursor++;
    } else if (peek() == TK_SEMI) {
      cursor++;
    } else if (peek() != TK_END && peek() != TK_RPAREN) {
      return syntax_error();
    }
    list->items[list->nitems] = job;
    list->background[list->nitems] = bg;
    list->nitems++;
  }
  return list;
}

// Parse the whole line.  Returns the top-level list or 0 after an error.
static struct node *
parse_line(void)
{
  pool_used = 0;
  cursor = 0;
  if (tokenize() < 0)
    return 0;
  struct node *top = parse_list();
  if (top == 0)
    return 0;
  if (peek() != TK_END)
    return syntax_error();      // an unmatched ')'
  return top;
}

// ---- Running ----------------------------------------------------------

static int run_list(struct node *list, int print_bg);
static void run_here(struct node *n) __attribute__((noreturn));

// Wait until process pid exits and return its status (-1 if it was not
// our child).  Other children that happen to finish first are reaped on
// the way: background jobs end up here.
static int
wait_for(int pid)
{
  for (;;) {
    int status;
    int done = wait(&status);
    if (done == pid)
      return status;
    if (done < 0)
      return -1;
  }
}

static int
fork_or_complain(void)
{
  int pid = fork();
  if (pid < 0)
    fprintf(2, "sh: fork failed\n");
  return pid;
}

// Make fd `target` refer to `file`.  Returns 0 or -1.
static int
redirect(const struct redir *r)
{
  int fd;
  if (r->fd == 0) {
    fd = open(r->file, O_RDONLY);
  } else if (r->append) {
    // No seek call exists: read to the end to place the offset there.
    fd = open(r->file, O_RDWR | O_CREATE);
    if (fd >= 0) {
      char skip[128];
      int got;
      while ((got = read(fd, skip, sizeof(skip))) > 0)
        ;
      if (got < 0) {
        close(fd);
        fd = -1;
      }
    }
  } else {
    fd = open(r->file, O_WRONLY | O_CREATE | O_TRUNC);
  }
  if (fd < 0) {
    fprintf(2, "sh: cannot open %s\n", r->file);
    return -1;
  }
  if (fd != r->fd) {
    close(r->fd);
    int copy = dup(fd);
    close(fd);
    if (copy != r->fd) {
      fprintf(2, "sh: cannot redirect to %s\n", r->file);
      return -1;
    }
  }
  return 0;
}

static int
change_dir(struct node *n)
{
  const char *dir = n->argc > 1 ? n->argv[1] : "/";
  if (n->argc > 2) {
    fprintf(2, "sh: cd: too many arguments\n");
    return 1;
  }
  if (chdir(dir) < 0) {
    fprintf(2, "sh: cd: cannot change to %s\n", dir);
    return 1;
  }
  return 0;
}

static int
is_builtin(struct node *n, const char *name)
{
  return n->kind == ND_EXEC && strcmp(n->argv[0], name) == 0;
}

// Run the program of an ND_EXEC node in this process.
static void __attribute__((noreturn))
run_program(struct node *n)
{
  exec(n->argv[0], n->argv);
  if (strchr(n->argv[0], '/') == 0 && strlen(n->argv[0]) + 2 <= MAXPATH) {
    char path[MAXPATH];
    path[0] = '/';
    strcpy(path + 1, n->argv[0]);
    exec(path, n->argv);
  }
  fprintf(2, "sh: cannot run %s\n", n->argv[0]);
  exit(127);
}

// Run node n in the current process, which is a child of the shell, and
// exit with its status.  Never returns.
static void
run_here(struct node *n)
{
  for (int i = 0; i < n->nredirs; i++) {
    if (redirect(&n->redirs[i]) < 0)
      exit(1);
  }
  switch (n->kind) {
  case ND_EXEC:
    if (is_builtin(n, "cd"))
      exit(change_dir(n));      // only this subshell moves
    if (is_builtin(n, "exit"))
      exit(n->argc > 1 ? atoi(n->argv[1]) : 0);
    run_program(n);
    break;

  case ND_LIST:
    exit(run_list(n, 0));

  case ND_PIPE: {
    int ends[2];
    if (pipe(ends) < 0) {
      fprintf(2, "sh: pipe failed\n");
      exit(1);
    }
    int writer = fork_or_complain();
    if (writer == 0) {
      close(1);
      dup(ends[1]);
      close(ends[0]);
      close(ends[1]);
      run_here(n->left);
    }
    int reader = fork_or_complain();
    if (reader == 0) {
      close(0);
      dup(ends[0]);
      close(ends[0]);
      close(ends[1]);
      run_here(n->right);
    }
    // Both ends must be closed here, or the reader never sees EOF.
    close(ends[0]);
    close(ends[1]);
    if (writer > 0)
      wait_for(writer);
    int status = reader > 0 ? wait_for(reader) : 1;
    exit(status);
  }
  }
  exit(1);
}

// Run the jobs of a list one after another; background jobs are started
// and not waited for.  Returns the status of the last foreground job.
static int
run_list(struct node *list, int print_bg)
{
  int status = 0;
  for (int i = 0; i < list->nitems; i++) {
    struct node *job = list->items[i];
    int bg = list->background[i];
    // Built-ins without redirections act on this process itself.
    if (!bg && job->nredirs == 0 && is_builtin(job, "cd")) {
      status = change_dir(job);
      continue;
    }
    if (!bg && job->nredirs == 0 && is_builtin(job, "exit"))
      exit(job->argc > 1 ? atoi(job->argv[1]) : 0);

    int pid = fork_or_complain();
    if (pid == 0)
      run_here(job);
    if (pid < 0) {
      status = 1;
      continue;
    }
    if (bg) {
      if (print_bg)
        fprintf(2, "[%d]\n", pid);
    } else {
      status = wait_for(pid);
    }
  }
  return status;
}

// Prompt only when standard input is a device (the console); a script
// fed from a file or a pipe runs silently.
static int interactive;

// Read one line into `line`.  Returns 1 for a line, 0 at end of input.
// Overlong lines are reported and skipped.
static int
read_line(void)
{
  for (;;) {
    if (interactive)
      fprintf(2, "$ ");
    memset(line, 0, sizeof(line));
    gets(line, sizeof(line));
    int len = strlen(line);
    if (len == 0)
      return 0;
    if (line[len - 1] == '\n' || len < (int)sizeof(line) - 1)
      return 1;
    // No newline in a full buffer: drop the rest of this line.
    char c = 0;
    while (read(0, &c, 1) == 1 && c != '\n')
      ;
    fprintf(2, "sh: line too long\n");
  }
}

int
main(void)
{
  // Make sure fds 0, 1 and 2 exist, so that files opened later never
  // land on them by accident.
  int fd;
  while ((fd = open("console", O_RDWR)) >= 0) {
    if (fd >= 3) {
      close(fd);
      break;
    }
  }

  struct stat st;
  interactive = fstat(0, &st) == 0 && st.type == T_DEVICE;

  while (read_line()) {
    struct node *top = parse_line();
    if (top != 0)
      run_list(top, 1);
  }
  exit(0);
}
