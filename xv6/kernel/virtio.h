// virtio over memory-mapped I/O, version 2 ("modern"), as used by the block
// driver.  Register offsets, bits and ring layouts are those of the virtio
// specification (see shared/spec/facts.md, section 2).
#ifndef XV6_VIRTIO_H
#define XV6_VIRTIO_H

#include "kernel/types.h"

// ---- MMIO registers: byte offsets from the device base, all 32 bits wide ----
#define VIO_MAGIC          0x000   // reads "virt"
#define VIO_VERSION        0x004   // 2 for a modern device
#define VIO_DEVICE_ID      0x008   // 2 = block device
#define VIO_VENDOR_ID      0x00c
#define VIO_DEV_FEATURES   0x010   // 32 feature bits, word chosen by ..._SEL
#define VIO_DEV_FEAT_SEL   0x014
#define VIO_DRV_FEATURES   0x020   // features the driver accepts
#define VIO_DRV_FEAT_SEL   0x024
#define VIO_QUEUE_SEL      0x030   // the queue the next registers refer to
#define VIO_QUEUE_NUM_MAX  0x034   // largest ring the device supports
#define VIO_QUEUE_NUM      0x038   // ring size the driver chose
#define VIO_QUEUE_READY    0x044
#define VIO_QUEUE_NOTIFY   0x050   // write a queue number: "look at it"
#define VIO_INTR_STATUS    0x060
#define VIO_INTR_ACK       0x064
#define VIO_STATUS         0x070   // device status; writing 0 resets
#define VIO_QUEUE_DESC_LO  0x080   // descriptor table address
#define VIO_QUEUE_DESC_HI  0x084
#define VIO_QUEUE_AVAIL_LO 0x090   // "driver area": the available ring
#define VIO_QUEUE_AVAIL_HI 0x094
#define VIO_QUEUE_USED_LO  0x0a0   // "device area": the used ring
#define VIO_QUEUE_USED_HI  0x0a4
#define VIO_CONFIG_GEN     0x0fc
#define VIO_CONFIG         0x100   // device-specific configuration

#define VIO_MAGIC_VALUE    0x74726976
#define VIO_BLOCK_DEVICE   2

// Interrupt status bits.
#define VIO_INT_USED       (1 << 0)  // the device put buffers in a used ring
#define VIO_INT_CONFIG     (1 << 1)  // the configuration changed

// Device status bits, set in this order during initialisation.
#define VIO_ST_ACKNOWLEDGE 1
#define VIO_ST_DRIVER      2
#define VIO_ST_DRIVER_OK   4
#define VIO_ST_FEATURES_OK 8
#define VIO_ST_NEEDS_RESET 0x40
#define VIO_ST_FAILED      0x80

// Feature bits (word 0) the block driver turns down.
#define VIO_BLK_F_RO              5
#define VIO_BLK_F_SCSI            7
#define VIO_BLK_F_CONFIG_WCE      11
#define VIO_BLK_F_MQ              12
#define VIO_F_ANY_LAYOUT          27
#define VIO_RING_F_INDIRECT_DESC  28
#define VIO_RING_F_EVENT_IDX      29

// ---- split virtqueue ----------------------------------------------------------
struct vq_desc {
  uint64 addr;    // guest-physical buffer address
  uint32 len;
  uint16 flags;
  uint16 next;    // index of the next descriptor when VQ_DESC_NEXT is set
};
#define VQ_DESC_NEXT   1   // the chain continues in `next`
#define VQ_DESC_WRITE  2   // the device writes this buffer (else reads it)

// The ring sizes below are the most this driver ever asks for.
#define VQ_MAX 8

struct vq_avail {
  uint16 flags;
  uint16 idx;             // where the driver puts the next entry (mod size)
  uint16 ring[VQ_MAX];    // heads of descriptor chains
  uint16 used_event;      // unused: EVENT_IDX is not negotiated
};

struct vq_used_elem {
  uint32 id;     // head of the finished chain
  uint32 len;    // bytes the device wrote
};

struct vq_used {
  uint16 flags;
  uint16 idx;    // where the device puts its next entry (mod size)
  struct vq_used_elem ring[VQ_MAX];
  uint16 avail_event;
};

// ---- block requests -------------------------------------------------------------
#define VIO_BLK_T_IN   0   // read from the disk
#define VIO_BLK_T_OUT  1   // write to the disk

struct vio_blk_req {
  uint32 type;       // VIO_BLK_T_IN or VIO_BLK_T_OUT
  uint32 reserved;
  uint64 sector;     // in 512-byte sectors
};

#define VIO_BLK_S_OK      0
#define VIO_BLK_S_IOERR   1
#define VIO_BLK_S_UNSUPP  2

#define VIO_SECTOR 512

#endif
