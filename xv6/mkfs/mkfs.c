// mkfs: build an xv6 file system image on the host.
//
//   mkfs fs.img file...
//
// The whole image is assembled in memory and written out in one go.  Every
// multi-byte field is stored little-endian by explicit byte helpers, so the
// result does not depend on the host's byte order or struct padding.
//
// Layout (see kernel/fs.h): block 0 unused, block 1 superblock, then the log
// (LOGSIZE blocks), the inode blocks, the free bitmap and the data blocks.
// The root directory holds ".", ".." and one entry per input file, named
// after the file's last path component with one leading '_' removed.

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/fs.h"
#include "kernel/stat.h"

#define NINODES 200                 // inodes in the image

// On-disk sizes, fixed by the format (checked against the C structs below).
#define DINODE_BYTES 64
#define DIRENT_BYTES 16

_Static_assert(sizeof(struct dinode) == DINODE_BYTES, "dinode must be 64 bytes");
_Static_assert(sizeof(struct dirent) == DIRENT_BYTES, "dirent must be 16 bytes");
_Static_assert(BSIZE % DINODE_BYTES == 0, "inodes must tile a block");

// Byte offsets inside an on-disk inode.
#define DI_TYPE   0
#define DI_MAJOR  2
#define DI_MINOR  4
#define DI_NLINK  6
#define DI_SIZE   8
#define DI_ADDRS  12

static const char *progname = "mkfs";

// The layout, computed once in plan_layout().
static struct {
  uint size, nlog, ninodes;
  uint logstart, inodestart, bmapstart, datastart;
  uint ninodeblocks, nbitmapblocks, ndata;
} L;

static uchar *image;       // FSSIZE * BSIZE bytes
static uint next_block;    // first data block not yet handed out
static uint next_inum = 1; // next inode number to hand out (0 is never used)

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "%s: error: ", progname);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

// ---- little-endian field access -------------------------------------------

static void
put16(uchar *p, uint v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
}

static void
put32(uchar *p, uint v)
{
  put16(p, v & 0xffff);
  put16(p + 2, v >> 16);
}

static uint
get32(const uchar *p)
{
  return (uint)p[0] | (uint)p[1] << 8 | (uint)p[2] << 16 | (uint)p[3] << 24;
}

static uchar *
blockptr(uint b)
{
  if(b >= L.size)
    die("internal: block %u outside the image", b);
  return image + (size_t)b * BSIZE;
}

static uchar *
dinode_ptr(uint inum)
{
  return blockptr(L.inodestart + inum / IPB) + (inum % IPB) * DINODE_BYTES;
}

// ---- layout -----------------------------------------------------------------

static void
plan_layout(void)
{
  L.size = FSSIZE;
  L.nlog = LOGSIZE;
  L.ninodes = NINODES;
  L.ninodeblocks = L.ninodes / IPB + 1;
  L.nbitmapblocks = L.size / BPB + 1;
  L.logstart = 2;
  L.inodestart = L.logstart + L.nlog;
  L.bmapstart = L.inodestart + L.ninodeblocks;
  L.datastart = L.bmapstart + L.nbitmapblocks;
  if(L.datastart >= L.size)
    die("image of %u blocks is too small for its own metadata (%u blocks)",
        L.size, L.datastart);
  L.ndata = L.size - L.datastart;
  next_block = L.datastart;
}

static void
write_superblock(void)
{
  uchar *p = blockptr(1);
  put32(p + 0, FSMAGIC);
  put32(p + 4, L.size);
  put32(p + 8, L.ndata);
  put32(p + 12, L.ninodes);
  put32(p + 16, L.nlog);
  put32(p + 20, L.logstart);
  put32(p + 24, L.inodestart);
  put32(p + 28, L.bmapstart);
}

// Set the bitmap bit of every block handed out so far: all metadata blocks
// and the data blocks below next_block.
static void
write_bitmap(void)
{
  for(uint b = 0; b < next_block; b++){
    uchar *bits = blockptr(L.bmapstart + b / BPB);
    uint bit = b % BPB;
    bits[bit / 8] |= 1 << (bit % 8);
  }
}

// ---- inodes and data --------------------------------------------------------

static uint
take_block(void)
{
  if(next_block >= L.size)
    die("image too small: all %u data blocks are used (FSSIZE = %u)",
        L.ndata, L.size);
  return next_block++;   // the image starts zeroed, so the block is too
}

static uint
new_inode(int type)
{
  if(next_inum >= L.ninodes)
    die("too many files: the image has only %u inodes", L.ninodes);
  uint inum = next_inum++;
  uchar *di = dinode_ptr(inum);
  put16(di + DI_TYPE, type);
  put16(di + DI_NLINK, 1);
  return inum;
}

// Disk block that holds byte offset `off` of inode `inum`, allocating the
// data block (and the indirect block) if it does not exist yet.
static uint
block_for_offset(uint inum, uint off)
{
  uchar *di = dinode_ptr(inum);
  uint idx = off / BSIZE;
  uchar *slot;

  if(idx < NDIRECT){
    slot = di + DI_ADDRS + 4 * idx;
  } else {
    idx -= NDIRECT;
    if(idx >= NINDIRECT)
      die("internal: offset %u beyond the largest file", off);
    uchar *ind = di + DI_ADDRS + 4 * NDIRECT;
    if(get32(ind) == 0)
      put32(ind, take_block());
    slot = blockptr(get32(ind)) + 4 * idx;
  }
  if(get32(slot) == 0)
    put32(slot, take_block());
  return get32(slot);
}

// Append n bytes to the end of inode inum.
static void
append(uint inum, const void *data, size_t n)
{
  uchar *di = dinode_ptr(inum);
  uint size = get32(di + DI_SIZE);
  const uchar *src = data;

  if((uint64)size + n > (uint64)MAXFILE * BSIZE)
    die("internal: inode %u would exceed the largest file", inum);
  while(n > 0){
    uint inblock = size % BSIZE;
    size_t piece = BSIZE - inblock;
    if(piece > n)
      piece = n;
    uint b = block_for_offset(inum, size);
    memcpy(blockptr(b) + inblock, src, piece);
    src += piece;
    size += piece;
    n -= piece;
  }
  put32(di + DI_SIZE, size);
}

static void
add_dirent(uint dir, const char *name, uint inum)
{
  uchar ent[DIRENT_BYTES];
  memset(ent, 0, sizeof ent);
  put16(ent, inum);
  memcpy(ent + 2, name, strlen(name));   // callers checked len <= DIRSIZ
  append(dir, ent, sizeof ent);
}

// ---- input files ------------------------------------------------------------

// The name a host path gets in the image: its last component, minus one
// leading '_'.
static const char *
image_name(const char *path)
{
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  if(base[0] == '_')
    base++;
  return base;
}

// Reject empty, reserved, too long or repeated names before touching the image.
static void
check_names(int nfiles, char **paths)
{
  for(int i = 0; i < nfiles; i++){
    const char *nm = image_name(paths[i]);
    if(nm[0] == 0)
      die("'%s' gives an empty file name", paths[i]);
    if(strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
      die("'%s' gives the reserved name '%s'", paths[i], nm);
    if(strlen(nm) > DIRSIZ)
      die("file name '%s' (from '%s') is longer than DIRSIZ = %d characters",
          nm, paths[i], DIRSIZ);
    for(int j = 0; j < i; j++)
      if(strcmp(nm, image_name(paths[j])) == 0)
        die("'%s' and '%s' would both be named '%s'", paths[j], paths[i], nm);
  }
}

static void
copy_in_file(uint root, const char *path)
{
  FILE *in = fopen(path, "rb");
  if(in == 0)
    die("cannot open '%s': %s", path, strerror(errno));

  uint inum = new_inode(T_FILE);
  add_dirent(root, image_name(path), inum);

  uchar chunk[BSIZE];
  uint64 total = 0;
  size_t got;
  while((got = fread(chunk, 1, sizeof chunk, in)) > 0){
    total += got;
    if(total > (uint64)MAXFILE * BSIZE)
      die("'%s' is larger than the largest xv6 file (%lu bytes)",
          path, (unsigned long)MAXFILE * BSIZE);
    append(inum, chunk, got);
  }
  if(ferror(in))
    die("cannot read '%s': %s", path, strerror(errno));
  fclose(in);
}

int
main(int argc, char **argv)
{
  if(argc > 0 && argv[0][0])
    progname = argv[0];
  if(argc < 2){
    fprintf(stderr, "usage: %s fs.img [file...]\n", progname);
    return 2;
  }
  const char *outpath = argv[1];
  check_names(argc - 2, argv + 2);

  plan_layout();
  image = calloc(L.size, BSIZE);
  if(image == 0)
    die("out of memory for a %u-block image", L.size);

  write_superblock();

  uint root = new_inode(T_DIR);
  if(root != ROOTINO)
    die("internal: root directory got inode %u", root);
  add_dirent(root, ".", root);
  add_dirent(root, "..", root);

  for(int i = 2; i < argc; i++)
    copy_in_file(root, argv[i]);

  write_bitmap();

  FILE *out = fopen(outpath, "wb");
  if(out == 0)
    die("cannot create '%s': %s", outpath, strerror(errno));
  if(fwrite(image, BSIZE, L.size, out) != L.size || fflush(out) != 0){
    int e = errno;
    fclose(out);
    remove(outpath);
    die("cannot write '%s': %s", outpath, strerror(e));
  }
  if(fclose(out) != 0)
    die("cannot write '%s': %s", outpath, strerror(errno));
  return 0;
}
