/* virtio-mmio block device: a small polled driver in M-mode.  The test's disk has
   16 sectors; byte k of sector s is (7 * s + k) & 0xff. */
#include "socprog.h"

#define VIO(off) (VIRTIO_BASE + (off))

struct vdesc { u64 addr; u32 len; u16 flags; u16 next; };
struct vavail { u16 flags; u16 idx; u16 ring[8]; };
struct vused_elem { u32 id; u32 len; };
struct vused { u16 flags; u16 idx; struct vused_elem ring[8]; };
struct blk_hdr { u32 type; u32 reserved; u64 sector; };

static struct vdesc ring_desc[8] __attribute__((aligned(16)));
static struct vavail ring_avail __attribute__((aligned(8)));
static struct vused ring_used __attribute__((aligned(8)));
static struct blk_hdr hdr __attribute__((aligned(16)));
static u8 buf[1024] __attribute__((aligned(8)));
static volatile u8 status_byte;
static u16 seen_used;

static int setup(void)
{
    if (REG32(VIO(0x000)) != 0x74726976 || REG32(VIO(0x004)) != 2 || REG32(VIO(0x008)) != 2)
        return 1;
    REG32(VIO(0x070)) = 0;
    REG32(VIO(0x070)) = 1;
    REG32(VIO(0x070)) = 1 | 2;
    REG32(VIO(0x014)) = 1;
    if (REG32(VIO(0x010)) != 1)              /* VERSION_1 offered */
        return 2;
    REG32(VIO(0x024)) = 1;
    REG32(VIO(0x020)) = 1;                   /* accept VERSION_1 */
    REG32(VIO(0x024)) = 0;
    REG32(VIO(0x020)) = 0;
    REG32(VIO(0x070)) = 1 | 2 | 8;
    if (!(REG32(VIO(0x070)) & 8))
        return 3;
    REG32(VIO(0x030)) = 0;
    if (REG32(VIO(0x044)) != 0 || REG32(VIO(0x034)) < 8)
        return 4;
    REG32(VIO(0x038)) = 8;
    REG32(VIO(0x080)) = (u64)ring_desc;
    REG32(VIO(0x084)) = (u64)ring_desc >> 32;
    REG32(VIO(0x090)) = (u64)&ring_avail;
    REG32(VIO(0x094)) = (u64)&ring_avail >> 32;
    REG32(VIO(0x0a0)) = (u64)&ring_used;
    REG32(VIO(0x0a4)) = (u64)&ring_used >> 32;
    REG32(VIO(0x044)) = 1;
    REG32(VIO(0x070)) = 1 | 2 | 8 | 4;
    return 0;
}

/* One request; returns the device's status byte, or 0x100 + code on a driver error. */
static int blk_io(int write, u64 sector, u32 len)
{
    hdr.type = write ? 1 : 0;
    hdr.reserved = 0;
    hdr.sector = sector;
    ring_desc[0] = (struct vdesc){ (u64)&hdr, sizeof hdr, 1, 1 };
    ring_desc[1] = (struct vdesc){ (u64)buf, len, 1 | (write ? 0 : 2), 2 };
    ring_desc[2] = (struct vdesc){ (u64)&status_byte, 1, 2, 0 };
    status_byte = 0xee;
    ring_avail.ring[ring_avail.idx % 8] = 0;
    asm volatile("fence rw, rw");
    ring_avail.idx++;
    asm volatile("fence rw, rw");
    REG32(VIO(0x050)) = 0;
    while (*(volatile u16 *)&ring_used.idx == seen_used)
        ;
    seen_used++;
    asm volatile("fence rw, rw");
    /* The completion raised the PLIC line: M context, source VIRTIO0_IRQ. */
    int spins = 0;
    while (!(CSR_READ(mip) & (1UL << 11)) && spins < 100)
        spins++;
    if (!(CSR_READ(mip) & (1UL << 11)))
        return 0x101;
    u32 id = REG32(PLIC_CLAIM(0));
    if (id != VIRTIO0_IRQ)
        return 0x102;
    if (REG32(VIO(0x060)) != 1)
        return 0x103;
    REG32(VIO(0x064)) = 1;
    REG32(PLIC_CLAIM(0)) = id;
    if (ring_used.ring[(seen_used - 1) % 8].id != 0)
        return 0x104;
    return status_byte;
}

int main(void)
{
    int r = setup();
    if (r)
        return r;
    REG32(PLIC_PRIO(VIRTIO0_IRQ)) = 1;
    REG32(PLIC_EN(0)) = 1u << VIRTIO0_IRQ;
    CSR_SET(mie, 1UL << 11);                 /* MEIP shows in mip; MIE stays off */
    if (REG32(VIO(0x100)) != 16 || REG32(VIO(0x104)) != 0)
        return 5;
    if (blk_io(0, 1, 1024) != 0)             /* sectors 1 and 2 */
        return 6;
    for (int k = 0; k < 1024; k += 61)
        if (buf[k] != (u8)(7 * (1 + k / 512) + k % 512))
            return 7;
    if (ring_used.ring[0].len != 1025)
        return 8;
    for (int k = 0; k < 512; k++)
        buf[k] = (u8)(k ^ 0x5a);
    if (blk_io(1, 3, 512) != 0)
        return 9;
    if (blk_io(0, 15, 1024) != 1)            /* runs past the 16-sector disk: IOERR */
        return 10;
    return 0;
}
