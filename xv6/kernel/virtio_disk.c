// Block device driver for a virtio-mmio (version 2) disk at VIRTIO0.
//
// One virtqueue (queue 0).  Each block transfer is a chain of three
// descriptors: the request header (device reads), the BSIZE data buffer
// (device reads on a write, writes on a read) and a one-byte status that the
// device fills in.  The caller sleeps on its buf until the completion
// interrupt hands the buffer back by clearing b->disk.
//
// Only the registers listed in the virtio-mmio version 2 register map are
// used, so the same driver runs on QEMU and on our own RTL device.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/fs.h"
#include "kernel/buf.h"
#include "kernel/virtio.h"
#include "kernel/defs.h"

#define SECTORS_PER_BLOCK (BSIZE / VIO_SECTOR)

static inline volatile uint32 *
vreg(uint off)
{
  return (volatile uint32 *)(VIRTIO0 + off);
}

static inline uint32 vread(uint off) { return *vreg(off); }
static inline void vwrite(uint off, uint32 v) { *vreg(off) = v; }

// What the driver remembers about a request in flight, indexed by the
// number of its first descriptor.
struct inflight {
  struct buf *b;             // 0 when the slot is idle
  struct vio_blk_req hdr;    // the header the device reads
  volatile uint8 status;     // the device writes the result here
};

static struct {
  struct spinlock lock;
  uint qsize;                     // ring size chosen at init (power of 2)
  struct vq_desc *desc;           // descriptor table, one page
  struct vq_avail *avail;         // driver -> device ring, one page
  struct vq_used *used;           // device -> driver ring, one page
  uint8 desc_free[VQ_MAX];        // 1 = descriptor available
  uint16 used_seen;               // used->idx value we have processed up to
  uint64 capacity;                // disk size in sectors (0 = unknown)
  struct inflight req[VQ_MAX];
} vd;

static void
set_status_bit(uint32 bit)
{
  vwrite(VIO_STATUS, vread(VIO_STATUS) | bit);
}

static void *
zeroed_page(void)
{
  void *pg = kalloc();
  if (pg == 0)
    panic("virtio_disk: no memory for the virtqueue");
  memset(pg, 0, PGSIZE);
  return pg;
}

void
virtio_disk_init(void)
{
  initlock(&vd.lock, "virtio_disk");

  if (vread(VIO_MAGIC) != VIO_MAGIC_VALUE)
    panic("virtio_disk: no virtio-mmio device at VIRTIO0");
  if (vread(VIO_VERSION) != 2)
    panic("virtio_disk: device is not virtio-mmio version 2 (QEMU needs "
          "-global virtio-mmio.force-legacy=false)");
  if (vread(VIO_DEVICE_ID) != VIO_BLOCK_DEVICE)
    panic("virtio_disk: the device at VIRTIO0 is not a block device");

  // Reset, then announce ourselves.
  vwrite(VIO_STATUS, 0);
  set_status_bit(VIO_ST_ACKNOWLEDGE);
  set_status_bit(VIO_ST_DRIVER);

  // Accept what the device offers in word 0, minus what we do not handle.
  uint32 refuse = (1u << VIO_BLK_F_RO) | (1u << VIO_BLK_F_SCSI) |
                  (1u << VIO_BLK_F_CONFIG_WCE) | (1u << VIO_BLK_F_MQ) |
                  (1u << VIO_F_ANY_LAYOUT) | (1u << VIO_RING_F_EVENT_IDX) |
                  (1u << VIO_RING_F_INDIRECT_DESC);
  vwrite(VIO_DEV_FEAT_SEL, 0);
  uint32 offered = vread(VIO_DEV_FEATURES);
  vwrite(VIO_DRV_FEAT_SEL, 0);
  vwrite(VIO_DRV_FEATURES, offered & ~refuse);

  set_status_bit(VIO_ST_FEATURES_OK);
  if ((vread(VIO_STATUS) & VIO_ST_FEATURES_OK) == 0)
    panic("virtio_disk: device rejected our feature set");

  // Queue 0 must be idle and large enough for one three-descriptor chain.
  vwrite(VIO_QUEUE_SEL, 0);
  if (vread(VIO_QUEUE_READY) != 0)
    panic("virtio_disk: queue 0 is already in use");
  uint32 max = vread(VIO_QUEUE_NUM_MAX);
  if (max < 3)
    panic("virtio_disk: device queue too small for a block request");
  // Rings are indexed modulo their size with 16-bit counters, so the size
  // must be a power of two.
  uint qs = VQ_MAX;
  while (qs > max)
    qs >>= 1;
  vd.qsize = qs;

  vd.desc = zeroed_page();
  vd.avail = zeroed_page();
  vd.used = zeroed_page();

  vwrite(VIO_QUEUE_NUM, qs);
  vwrite(VIO_QUEUE_DESC_LO, (uint64)vd.desc);
  vwrite(VIO_QUEUE_DESC_HI, (uint64)vd.desc >> 32);
  vwrite(VIO_QUEUE_AVAIL_LO, (uint64)vd.avail);
  vwrite(VIO_QUEUE_AVAIL_HI, (uint64)vd.avail >> 32);
  vwrite(VIO_QUEUE_USED_LO, (uint64)vd.used);
  vwrite(VIO_QUEUE_USED_HI, (uint64)vd.used >> 32);
  vwrite(VIO_QUEUE_READY, 1);

  for (uint i = 0; i < qs; i++)
    vd.desc_free[i] = 1;
  vd.used_seen = 0;

  // Disk size: a u64 at the start of config space, read as two words.
  uint32 gen, lo, hi;
  do {
    gen = vread(VIO_CONFIG_GEN);
    lo = vread(VIO_CONFIG);
    hi = vread(VIO_CONFIG + 4);
  } while (gen != vread(VIO_CONFIG_GEN));
  vd.capacity = ((uint64)hi << 32) | lo;

  set_status_bit(VIO_ST_DRIVER_OK);
}

// Reserve n descriptors; 0 and the numbers in out[] on success, -1 if not
// enough are free.  Called with vd.lock held.
static int
grab_descs(int n, int *out)
{
  int got = 0;
  for (uint i = 0; i < vd.qsize && got < n; i++)
    if (vd.desc_free[i])
      out[got++] = i;
  if (got < n)
    return -1;
  for (int k = 0; k < n; k++)
    vd.desc_free[out[k]] = 0;
  return 0;
}

// Return the chain starting at head to the free pool.  vd.lock held.
static void
drop_chain(int head)
{
  int i = head;
  for (;;) {
    if (vd.desc_free[i])
      panic("virtio_disk: freeing a free descriptor");
    int more = vd.desc[i].flags & VQ_DESC_NEXT;
    int nxt = vd.desc[i].next;
    vd.desc[i].addr = 0;
    vd.desc[i].len = 0;
    vd.desc[i].flags = 0;
    vd.desc[i].next = 0;
    vd.desc_free[i] = 1;
    if (!more)
      break;
    i = nxt;
  }
  wakeup(&vd.desc_free);
}

static void
fill_desc(int i, void *addr, uint32 len, uint16 flags, int next)
{
  vd.desc[i].addr = (uint64)addr;
  vd.desc[i].len = len;
  vd.desc[i].flags = flags;
  vd.desc[i].next = next;
}

// Read (write == 0) or write block b->blockno of the disk into/from b->data.
// Sleeps until the device is done.  The caller holds b's sleeplock.
void
virtio_disk_rw(struct buf *b, int write)
{
  uint64 sector = (uint64)b->blockno * SECTORS_PER_BLOCK;

  acquire(&vd.lock);

  if (vd.capacity != 0 && sector + SECTORS_PER_BLOCK > vd.capacity) {
    printf("virtio_disk: block %d is beyond the disk's %d sectors\n",
           b->blockno, (int)vd.capacity);
    panic("virtio_disk: access beyond the end of the disk (image too small?)");
  }

  int d[3];
  while (grab_descs(3, d) < 0)
    sleep(&vd.desc_free, &vd.lock);

  struct inflight *r = &vd.req[d[0]];
  r->hdr.type = write ? VIO_BLK_T_OUT : VIO_BLK_T_IN;
  r->hdr.reserved = 0;
  r->hdr.sector = sector;
  r->status = 0xff;            // the device overwrites this
  r->b = b;

  fill_desc(d[0], &r->hdr, sizeof(r->hdr), VQ_DESC_NEXT, d[1]);
  fill_desc(d[1], b->data, BSIZE,
            VQ_DESC_NEXT | (write ? 0 : VQ_DESC_WRITE), d[2]);
  fill_desc(d[2], (void *)&r->status, 1, VQ_DESC_WRITE, 0);

  b->disk = 1;

  // Publish the chain: the ring entry must be visible before the index
  // moves, and the index before the notify.
  vd.avail->ring[vd.avail->idx % vd.qsize] = d[0];
  __sync_synchronize();
  vd.avail->idx += 1;
  __sync_synchronize();
  vwrite(VIO_QUEUE_NOTIFY, 0);

  while (b->disk)
    sleep(b, &vd.lock);

  r->b = 0;
  drop_chain(d[0]);
  release(&vd.lock);
}

// The device raised its interrupt: hand back every finished request.
void
virtio_disk_intr(void)
{
  acquire(&vd.lock);

  // Acknowledge first, so a completion that lands while we walk the ring
  // raises a fresh interrupt instead of being lost.
  vwrite(VIO_INTR_ACK, vread(VIO_INTR_STATUS) & (VIO_INT_USED | VIO_INT_CONFIG));
  __sync_synchronize();

  while (vd.used_seen != *(volatile uint16 *)&vd.used->idx) {
    __sync_synchronize();   // read the element only after seeing the index
    uint32 head = vd.used->ring[vd.used_seen % vd.qsize].id;
    if (head >= vd.qsize || vd.req[head].b == 0)
      panic("virtio_disk: device completed an unknown request");
    struct inflight *r = &vd.req[head];
    if (r->status != VIO_BLK_S_OK) {
      printf("virtio_disk: block %d: device status %d\n",
             r->b->blockno, r->status);
      panic("virtio_disk: disk I/O error");
    }
    r->b->disk = 0;
    wakeup(r->b);
    vd.used_seen += 1;
  }

  release(&vd.lock);
}
