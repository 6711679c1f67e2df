/* The boot ROM: find the kernel on the SD card, load it into RAM, start it.
 *
 * Stages (shown on the LEDs, bits 0-3; bit 4 blinks if the ROM stopped there):
 *   1 banner           the ROM runs: it prints its banner on the UART
 *   2 RAM              a write/read check of the RAM's data and address lines
 *   3 card             the first read of the card (the SD host initializes it)
 *   4 partition table  sector 0: partition 1 = the kernel, 2 = the file system
 *   5 kernel           the ELF header, then each loadable segment into RAM
 *   6 start            the SD window is set to the file system; the kernel starts
 *
 * The card is read through the virtio block device, the same path the kernel uses
 * (one hardware path to build and test): first with the SD host's window set to the
 * whole card, at the end to partition 2, so the kernel's disk is fs.img from its
 * sector 0.  Everything the ROM needs besides the kernel's RAM (stack, virtqueue,
 * buffers) is in its scratch RAM.  A failure prints what is wrong and stops; a trap
 * prints its cause.  Devices are left as a reset leaves them where the kernel could
 * tell (the block device reset, no interrupt pending); main returns to start.S,
 * which clears every register and jumps to RAM_BASE.
 */
#include <stdarg.h>

#include "config.h"

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;

#define REG8(a)  (*(volatile u8 *)(u64)(a))
#define REG32(a) (*(volatile u32 *)(u64)(a))
#define REG64(a) (*(volatile u64 *)(u64)(a))

enum stage { STAGE_BANNER = 1, STAGE_RAM, STAGE_CARD, STAGE_PARTITIONS, STAGE_KERNEL, STAGE_START };
static const char *const stage_names[] = {
    "", "banner", "RAM check", "reading the card", "partition table", "loading the kernel",
    "starting the kernel",
};
#define LED_ERROR 0x10

static int current_stage;

void *memset(void *dst, int c, u64 n);
void *memcpy(void *dst, const void *src, u64 n);
void rom_trap(u64 cause, u64 epc, u64 tval) __attribute__((noreturn));
int main(void);

/* ---- memory ------------------------------------------------------------------------ */

void *
memset(void *dst, int c, u64 n)
{
    u8 *d = dst;
    while (n && ((u64)d & 7)) {
        *d++ = c;
        n--;
    }
    u64 pattern = (u8)c * 0x0101010101010101UL;
    for (; n >= 8; n -= 8, d += 8)
        *(u64 *)d = pattern;
    while (n--)
        *d++ = c;
    return dst;
}

void *
memcpy(void *dst, const void *src, u64 n)
{
    u8 *d = dst;
    const u8 *s = src;
    if ((((u64)d ^ (u64)s) & 7) == 0) {
        while (n && ((u64)d & 7)) {
            *d++ = *s++;
            n--;
        }
        for (; n >= 8; n -= 8, d += 8, s += 8)
            *(u64 *)d = *(const u64 *)s;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

static u32
le32(const u8 *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24;
}

/* ---- console: the 16550's transmitter, polled ------------------------------------- */

static void
put_char(int c)
{
    while (!(REG8(UART_BASE + UART_LSR) & UART_LSR_THR_EMPTY))
        ;
    REG8(UART_BASE + UART_THR) = c;
}

static void
put_number(u64 value, unsigned base)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value);
    while (n)
        put_char(digits[--n]);
}

/* printf's %s, %d (unsigned, 64 bits) and %x (64 bits) */
static void
print_args(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put_char(*fmt);
            continue;
        }
        switch (*++fmt) {
        case 's':
            for (const char *s = va_arg(ap, const char *); *s; s++)
                put_char(*s);
            break;
        case 'd':
            put_number(va_arg(ap, u64), 10);
            break;
        case 'x':
            put_number(va_arg(ap, u64), 16);
            break;
        default:
            put_char('%');
            put_char(*fmt);
        }
    }
}

static void
print(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_args(fmt, ap);
    va_end(ap);
}

static void
stage(enum stage s)
{
    current_stage = s;
    REG8(LEDS_BASE) = s;
}

static u64
mtime(void)
{
    return REG64(CLINT_BASE + CLINT_MTIME);
}

/* Stop: the stage's LEDs stay on, the error LED blinks (2 Hz), nothing else runs. */
static void __attribute__((noreturn))
halt(void)
{
    print("boot: stopped at stage %d (%s); reset the board to try again\n",
          (u64)current_stage, stage_names[current_stage]);
    for (int on = 1;; on = !on) {
        REG8(LEDS_BASE) = current_stage | (on ? LED_ERROR : 0);
        u64 until = mtime() + MTIME_HZ / 4;
        while (mtime() < until)
            ;
    }
}

static void __attribute__((noreturn))
fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_args(fmt, ap);
    va_end(ap);
    halt();
}

void
rom_trap(u64 cause, u64 epc, u64 tval)
{
    print("boot: trap in the boot ROM: mcause 0x%x, mepc 0x%x, mtval 0x%x\n", cause, epc, tval);
    halt();
}

/* ---- RAM: data lines at RAM_BASE, then each address line --------------------------- */

static void
check_ram(void)
{
    volatile u64 *base = (volatile u64 *)(u64)RAM_BASE;
    for (int bit = 0; bit < 64; bit++) {
        u64 want = 1UL << bit;
        *base = want;
        if (*base != want)
            fail("ram: data line %d broken at 0x%x: wrote 0x%x, read 0x%x\n",
                 (u64)bit, (u64)RAM_BASE, want, *base);
    }
    /* A distinct value at RAM_BASE + 2^k for each address line k, then read them all
       back: a stuck or shorted line makes two of them the same word. */
    *base = 0;
    for (u64 off = 8; off < RAM_SIZE; off <<= 1)
        base[off / 8] = off * 0x9E3779B97F4A7C15UL;
    if (*base != 0)
        fail("ram: an address line is stuck: writing at RAM_BASE + 2^k changes RAM_BASE\n");
    for (u64 off = 8; off < RAM_SIZE; off <<= 1) {
        u64 want = off * 0x9E3779B97F4A7C15UL;
        if (base[off / 8] != want)
            fail("ram: address line broken at 0x%x: wrote 0x%x, read 0x%x\n",
                 (u64)RAM_BASE + off, want, base[off / 8]);
        base[off / 8] = 0;
    }
    print("ram: %d MiB at 0x%x\n", (u64)(RAM_SIZE >> 20), (u64)RAM_BASE);
}

/* ---- the block device: a virtqueue of 4 descriptors, one request at a time --------- */

#define QUEUE_SIZE 4

struct vdesc {
    u64 addr;
    u32 len;
    u16 flags;
    u16 next;
};

static struct vdesc desc[QUEUE_SIZE] __attribute__((aligned(16)));
static struct {
    u16 flags;
    u16 idx;
    u16 ring[QUEUE_SIZE];
} avail __attribute__((aligned(8)));
static volatile struct {
    u16 flags;
    u16 idx;
    struct {
        u32 id;
        u32 len;
    } ring[QUEUE_SIZE];
} used __attribute__((aligned(8)));
static struct {
    u32 type;
    u32 reserved;
    u64 sector;
} request __attribute__((aligned(16)));
static volatile u8 request_status;
static u8 sector_buf[SECTOR_BYTES] __attribute__((aligned(8)));

static u32
vio_read(u32 reg)
{
    return REG32(VIRTIO_BASE + reg);
}

static void
vio_write(u32 reg, u32 value)
{
    REG32(VIRTIO_BASE + reg) = value;
}

static void
disk_setup(void)
{
    if (vio_read(VIRTIO_MAGIC) != VIRTIO_MAGIC_VALUE || vio_read(VIRTIO_VERSION) != 2 ||
        vio_read(VIRTIO_DEVICE_ID) != VIRTIO_DEVICE_BLOCK)
        fail("disk: no virtio block device (version 2) at 0x%x\n", (u64)VIRTIO_BASE);
    vio_write(VIRTIO_STATUS, 0);
    vio_write(VIRTIO_STATUS, VIRTIO_ST_ACKNOWLEDGE);
    vio_write(VIRTIO_STATUS, VIRTIO_ST_ACKNOWLEDGE | VIRTIO_ST_DRIVER);
    vio_write(VIRTIO_DRIVER_FEATURES_SEL, 1);
    vio_write(VIRTIO_DRIVER_FEATURES, 1);               /* VIRTIO_F_VERSION_1 */
    u32 status = VIRTIO_ST_ACKNOWLEDGE | VIRTIO_ST_DRIVER | VIRTIO_ST_FEATURES_OK;
    vio_write(VIRTIO_STATUS, status);
    vio_write(VIRTIO_QUEUE_SEL, 0);
    if (!(vio_read(VIRTIO_STATUS) & VIRTIO_ST_FEATURES_OK) ||
        vio_read(VIRTIO_QUEUE_NUM_MAX) < QUEUE_SIZE)
        fail("disk: the virtio block device refuses our setup\n");
    vio_write(VIRTIO_QUEUE_NUM, QUEUE_SIZE);
    vio_write(VIRTIO_QUEUE_DESC_LOW, (u64)desc);
    vio_write(VIRTIO_QUEUE_DESC_HIGH, (u64)desc >> 32);
    vio_write(VIRTIO_QUEUE_DRIVER_LOW, (u64)&avail);
    vio_write(VIRTIO_QUEUE_DRIVER_HIGH, (u64)&avail >> 32);
    vio_write(VIRTIO_QUEUE_DEVICE_LOW, (u64)&used);
    vio_write(VIRTIO_QUEUE_DEVICE_HIGH, (u64)&used >> 32);
    vio_write(VIRTIO_QUEUE_READY, 1);
    vio_write(VIRTIO_STATUS, status | VIRTIO_ST_DRIVER_OK);
}

/* Why the SD host failed, from its STATUS register. */
static void __attribute__((noreturn))
card_failed(void)
{
    static const char *const reasons[] = SD_ERROR_MESSAGES;
    u64 st = REG64(SDCARD_BASE + SD_REG_STATUS);
    u64 code = (st >> SD_ERROR_SHIFT) & 0xff, byte = (st >> SD_DETAIL_SHIFT) & 0xff;
    if (code < sizeof reasons / sizeof reasons[0])
        fail("sd: %s (error %d, byte 0x%x)\n", reasons[code], code, byte);
    fail("sd: error %d (byte 0x%x)\n", code, byte);
}

/* Read card sector `sector` (of the SD host's window) into buf (8-byte aligned). */
static void
read_sector(u64 sector, void *buf)
{
    request.type = VIRTIO_BLK_T_IN;
    request.reserved = 0;
    request.sector = sector;
    desc[0] = (struct vdesc){ (u64)&request, sizeof request, VIRTQ_DESC_F_NEXT, 1 };
    desc[1] = (struct vdesc){ (u64)buf, SECTOR_BYTES, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2 };
    desc[2] = (struct vdesc){ (u64)&request_status, 1, VIRTQ_DESC_F_WRITE, 0 };
    request_status = 0xff;
    avail.ring[avail.idx % QUEUE_SIZE] = 0;
    __sync_synchronize();
    avail.idx++;
    __sync_synchronize();
    vio_write(VIRTIO_QUEUE_NOTIFY, 0);
    /* The SD host bounds every wait (at most about 2 s for a card that fails); this
       bound is only for a block device that does not answer at all. */
    u64 deadline = mtime() + 5 * MTIME_HZ;
    while (used.idx != avail.idx)
        if (mtime() > deadline)
            fail("disk: the block device did not complete a read in 5 s\n");
    __sync_synchronize();
    vio_write(VIRTIO_INTERRUPT_ACK, vio_read(VIRTIO_INTERRUPT_STATUS));
    if (request_status != VIRTIO_BLK_S_OK)
        card_failed();
}

static void
set_window(u64 base, u64 size)
{
    REG64(SDCARD_BASE + SD_REG_BASE) = base;
    REG64(SDCARD_BASE + SD_REG_SIZE) = size;
}

/* Leave the block device and the interrupt controller as a reset leaves them. */
static void
disk_done(void)
{
    vio_write(VIRTIO_STATUS, 0);
    /* The completions made the virtio source pending in the PLIC: claim it away. */
    REG32(PLIC_BASE + PLIC_PRIORITY + 4 * VIRTIO0_IRQ) = 1;
    REG32(PLIC_BASE + PLIC_ENABLE) = 1u << VIRTIO0_IRQ;
    u32 id = REG32(PLIC_BASE + PLIC_CLAIM);
    if (id)
        REG32(PLIC_BASE + PLIC_CLAIM) = id;
    REG32(PLIC_BASE + PLIC_ENABLE) = 0;
    REG32(PLIC_BASE + PLIC_PRIORITY + 4 * VIRTIO0_IRQ) = 0;
}

/* ---- partition table ---------------------------------------------------------------- */

struct partition {
    u64 start;
    u64 sectors;
};

static struct partition
partition(const u8 *mbr, int n, const char *what)
{
    const u8 *entry = mbr + MBR_ENTRIES + 16 * (n - 1);
    struct partition p = { le32(entry + 8), le32(entry + 12) };
    if (entry[4] != PARTITION_TYPE || p.sectors == 0)
        fail("sd: partition %d has type 0x%x and %d sectors: not %s (type 0x%x); "
             "write the card with `make sdcard`\n",
             (u64)n, (u64)entry[4], p.sectors, what, (u64)PARTITION_TYPE);
    return p;
}

/* ---- the kernel: an ELF64 RISC-V executable at the start of partition 1 ------------ */

#define ELF_PT_LOAD 1
#define ELF_EM_RISCV 243
#define ELF_ET_EXEC 2
#define PHDR_BYTES 56
#define PHDR_SECTORS 2          /* program headers must lie in the file's first 1 KiB */

struct phdr {
    u32 type, flags;
    u64 offset, vaddr, paddr, filesz, memsz, align;
};

static u8 phdr_buf[PHDR_SECTORS * SECTOR_BYTES] __attribute__((aligned(8)));

/* Read `len` bytes at byte `offset` of partition `p` into RAM at `dst`: whole
   sectors go straight into place, the ragged ends through sector_buf. */
static void
load_bytes(struct partition p, u64 offset, u64 len, u64 dst)
{
    for (u64 at = offset & ~(u64)(SECTOR_BYTES - 1); at < offset + len; at += SECTOR_BYTES) {
        u64 lo = at > offset ? at : offset;
        u64 hi = at + SECTOR_BYTES < offset + len ? at + SECTOR_BYTES : offset + len;
        u64 to = dst + (lo - offset);
        if (lo == at && hi == at + SECTOR_BYTES && !(to & 7)) {
            read_sector(p.start + at / SECTOR_BYTES, (void *)to);
        } else {
            read_sector(p.start + at / SECTOR_BYTES, sector_buf);
            memcpy((void *)to, sector_buf + (lo - at), hi - lo);
        }
    }
}

static void
load_kernel(struct partition p)
{
    u64 part_bytes = p.sectors * SECTOR_BYTES;
    read_sector(p.start, sector_buf);
    const u8 *h = sector_buf;
    if (h[0] != 0x7f || h[1] != 'E' || h[2] != 'L' || h[3] != 'F')
        fail("kernel: partition 1 holds no ELF file (it starts with %x %x %x %x)\n",
             (u64)h[0], (u64)h[1], (u64)h[2], (u64)h[3]);
    u16 type = h[16] | h[17] << 8, machine = h[18] | h[19] << 8;
    if (h[4] != 2 || h[5] != 1 || machine != ELF_EM_RISCV || type != ELF_ET_EXEC)
        fail("kernel: not a little-endian RV64 executable (class %d, data %d, machine %d, "
             "type %d)\n", (u64)h[4], (u64)h[5], (u64)machine, (u64)type);
    u64 entry = *(const u64 *)(h + 24), phoff = *(const u64 *)(h + 32);
    u16 phentsize = h[54] | h[55] << 8, phnum = h[56] | h[57] << 8;
    if (entry != RAM_BASE)
        fail("kernel: entry 0x%x; the ROM starts kernels at 0x%x\n", entry, (u64)RAM_BASE);
    if (phentsize != PHDR_BYTES || phnum == 0 || phoff > sizeof phdr_buf ||
        phnum * PHDR_BYTES > sizeof phdr_buf - phoff || (phoff & 7))
        fail("kernel: unusable program headers (%d of %d bytes at %d)\n",
             (u64)phnum, (u64)phentsize, phoff);
    memcpy(phdr_buf, sector_buf, SECTOR_BYTES);
    if (phoff + phnum * PHDR_BYTES > SECTOR_BYTES)
        read_sector(p.start + 1, phdr_buf + SECTOR_BYTES);

    u64 loaded = 0, segments = 0;
    for (int i = 0; i < phnum; i++) {
        const struct phdr *ph = (const struct phdr *)(phdr_buf + phoff + i * PHDR_BYTES);
        if (ph->type != ELF_PT_LOAD || ph->memsz == 0)
            continue;
        if (ph->paddr < RAM_BASE || ph->memsz > RAM_SIZE ||
            ph->paddr - RAM_BASE > RAM_SIZE - ph->memsz || ph->filesz > ph->memsz)
            fail("kernel: segment 0x%x..0x%x does not fit in RAM (0x%x..0x%x)\n",
                 ph->paddr, ph->paddr + ph->memsz, (u64)RAM_BASE, (u64)RAM_BASE + RAM_SIZE);
        if (ph->offset > part_bytes || ph->filesz > part_bytes - ph->offset)
            fail("kernel: a segment lies beyond the end of partition 1\n");
        load_bytes(p, ph->offset, ph->filesz, ph->paddr);
        memset((void *)(ph->paddr + ph->filesz), 0, ph->memsz - ph->filesz);
        loaded += ph->filesz;
        segments++;
    }
    if (segments == 0)
        fail("kernel: no loadable segment\n");
    print("kernel: %d bytes in %d segment%s, entry 0x%x\n", loaded, segments,
          segments == 1 ? "" : "s", entry);
}

/* ---- main ----------------------------------------------------------------------------- */

int
main(void)
{
    stage(STAGE_BANNER);
    print("\nrvxv6 boot ROM\n");

    stage(STAGE_RAM);
    check_ram();

    stage(STAGE_CARD);
    set_window(0, ~0UL >> 32);                   /* all of the card (to 2 TiB) */
    disk_setup();
    read_sector(0, sector_buf);
    u64 st = REG64(SDCARD_BASE + SD_REG_STATUS);
    print("sd: %s card\n", st & SD_STATUS_HIGH_CAPACITY ? "SDHC/SDXC" :
                           st & SD_STATUS_V2 ? "SDSC" : "SD 1.x");

    stage(STAGE_PARTITIONS);
    if (sector_buf[MBR_SIGNATURE] != 0x55 || sector_buf[MBR_SIGNATURE + 1] != 0xaa)
        fail("sd: sector 0 holds no partition table: write the card with `make sdcard`\n");
    struct partition kernel = partition(sector_buf, 1, "a kernel");
    struct partition fs = partition(sector_buf, 2, "a file system");
    print("sd: kernel at sector %d (%d sectors), file system at sector %d (%d sectors)\n",
          kernel.start, kernel.sectors, fs.start, fs.sectors);

    stage(STAGE_KERNEL);
    load_kernel(kernel);

    stage(STAGE_START);
    set_window(fs.start, fs.sectors);
    disk_done();
    print("boot: starting the kernel at 0x%x\n\n", (u64)RAM_BASE);
    return 0;
}
