// Sizes and limits of the whole system, in one place.
//
// The machine is small on purpose: the same kernel boots on QEMU and on our
// RTL simulator, where every instruction of the boot costs real time.
#ifndef XV6_PARAM_H
#define XV6_PARAM_H

// RAM at KERNBASE, in MiB.  The build passes -DRAM_MB (`make qemu RAM_MB=128`);
// this is the default: the FPGA board has 32 MB.
#ifndef RAM_MB
#define RAM_MB       32
#endif
#define NCPU         1                // harts; the SoC has one
#define NPROC        16               // process table slots
#define NOFILE       16               // open files per process
#define NFILE        64               // open files in the whole system
#define NINODE       32               // inodes cached in memory
#define NDEV         10               // device numbers (major)
#define ROOTDEV      1                // device number of the root file system
#define MAXARG       32               // exec arguments
#define MAXOPBLOCKS  10               // blocks one FS operation may write
#define LOGSIZE      (MAXOPBLOCKS*3)  // blocks in the on-disk log
#define NBUF         (MAXOPBLOCKS*3)  // block cache entries
#define FSSIZE       2000             // file system size in blocks
#define MAXPATH      128              // longest path name
#define USERSTACK    1                // pages of user stack

#endif
