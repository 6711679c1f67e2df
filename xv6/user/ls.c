// ls [path ...]: for a file print "name type ino size"; for a directory
// print that line for every entry in it.  Without arguments, lists ".".
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fs.h"
#include "kernel/fcntl.h"
#include "kernel/param.h"
#include "user/user.h"

// One output line; the name is padded to DIRSIZ so the numbers line up.
static void
show(const char *name, const struct stat *st)
{
  char padded[MAXPATH + 1];
  int len = 0;
  while (name[len] != '\0' && len < MAXPATH) {
    padded[len] = name[len];
    len++;
  }
  while (len < DIRSIZ)
    padded[len++] = ' ';
  padded[len] = '\0';
  printf("%s %d %d %lu\n", padded, st->type, st->ino, st->size);
}

// List the entries of the directory open as fd, whose path is dir.
static int
list_dir(int fd, const char *dir)
{
  char path[MAXPATH];
  int dirlen = strlen(dir);
  if (dirlen + 1 + DIRSIZ + 1 > MAXPATH) {
    fprintf(2, "ls: path too long: %s\n", dir);
    return -1;
  }
  strcpy(path, dir);
  path[dirlen] = '/';

  int status = 0;
  struct dirent de;
  while (read(fd, &de, sizeof(de)) == sizeof(de)) {
    if (de.inum == 0)
      continue;                       // unused slot
    // Names of exactly DIRSIZ bytes carry no terminator on disk.
    char name[DIRSIZ + 1];
    memmove(name, de.name, DIRSIZ);
    name[DIRSIZ] = '\0';
    strcpy(path + dirlen + 1, name);

    struct stat st;
    if (stat(path, &st) < 0) {
      fprintf(2, "ls: cannot stat %s\n", path);
      status = -1;
      continue;
    }
    show(name, &st);
  }
  return status;
}

static int
list(const char *path)
{
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    fprintf(2, "ls: cannot open %s\n", path);
    return -1;
  }
  struct stat st;
  int status = 0;
  if (fstat(fd, &st) < 0) {
    fprintf(2, "ls: cannot stat %s\n", path);
    status = -1;
  } else if (st.type == T_DIR) {
    status = list_dir(fd, path);
  } else {
    show(path, &st);
  }
  close(fd);
  return status;
}

int
main(int argc, char *argv[])
{
  int status = 0;
  if (argc < 2) {
    if (list(".") < 0)
      status = 1;
  }
  for (int i = 1; i < argc; i++) {
    if (list(argv[i]) < 0)
      status = 1;
  }
  exit(status);
}
