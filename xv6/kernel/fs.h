// The on-disk file system format, shared by the kernel and mkfs.
//
// Disk layout, in BSIZE blocks:
//   [ boot | super | log ... | inodes ... | free bitmap ... | data ... ]
// Block 0 is unused, block 1 holds the superblock, which says where the
// other regions start.
#ifndef XV6_FS_H
#define XV6_FS_H

#define BSIZE    1024        // block size in bytes
#define ROOTINO  1           // inode number of "/"
#define FSMAGIC  0x10203040

struct superblock {
  uint magic;        // FSMAGIC
  uint size;         // blocks in the image
  uint nblocks;      // data blocks
  uint ninodes;      // inodes
  uint nlog;         // log blocks
  uint logstart;     // first log block
  uint inodestart;   // first inode block
  uint bmapstart;    // first free-bitmap block
};

#define NDIRECT    12
#define NINDIRECT  (BSIZE / sizeof(uint))
#define MAXFILE    (NDIRECT + NINDIRECT)

// An inode as stored on disk.
struct dinode {
  short type;               // 0 = free, else T_DIR/T_FILE/T_DEVICE
  short major;              // device number (T_DEVICE)
  short minor;
  short nlink;              // directory entries that name this inode
  uint size;                // bytes
  uint addrs[NDIRECT+1];    // data blocks; the last one is the indirect block
};

#define IPB           (BSIZE / sizeof(struct dinode))      // inodes per block
#define IBLOCK(i, sb) ((i) / IPB + (sb).inodestart)        // block of inode i
#define BPB           (BSIZE * 8)                          // bitmap bits per block
#define BBLOCK(b, sb) ((b) / BPB + (sb).bmapstart)         // bitmap block of block b

#define DIRSIZ 14

// A directory is a file of these; inum 0 marks a free slot.
struct dirent {
  ushort inum;
  char name[DIRSIZ];
};

#endif
