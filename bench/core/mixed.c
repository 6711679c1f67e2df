/*
 * A small mixed workload for measuring the core: block copies, string
 * handling, sorting and a page-table-heavy loop (loads and stores through
 * Sv39 with more pages than the data TLB holds).  Each part checks its
 * own result; main returns 0 or the number of the failing part.
 */
typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;

/* The compiler may call these for block moves, so they keep their names. */
void *memcpy(void *dst, const void *src, u64 n)
{
    u8 *d = dst;
    const u8 *s = src;
    if ((((u64)d | (u64)s) & 7) == 0) {
        for (; n >= 8; n -= 8, d += 8, s += 8)
            *(u64 *)d = *(const u64 *)s;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, u64 n)
{
    u8 *d = dst;
    while (n--)
        *d++ = (u8)c;
    return dst;
}

static u64 text_length(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (u64)(p - s);
}

static int text_compare(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (u8)*a - (u8)*b;
}

/* xorshift: deterministic pseudo-random numbers */
static u64 rng_state = 0x9e3779b97f4a7c15ul;
static u64 next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Shell sort with the gap sequence 1, 4, 13, 40, ... */
static void sort_words(u32 *v, int n)
{
    int gap = 1;
    while (gap < n / 3)
        gap = gap * 3 + 1;
    for (; gap > 0; gap /= 3) {
        for (int i = gap; i < n; i++) {
            u32 x = v[i];
            int j = i;
            for (; j >= gap && v[j - gap] > x; j -= gap)
                v[j] = v[j - gap];
            v[j] = x;
        }
    }
}

static u8 src_buf[1024] __attribute__((aligned(8)));
static u8 dst_buf[1024] __attribute__((aligned(8)));
static u32 numbers[128];

static int part_copy(void)
{
    for (int i = 0; i < 1024; i++)
        src_buf[i] = (u8)(i * 7 + 3);
    memcpy(dst_buf, src_buf, 1024);
    memcpy(dst_buf + 1, src_buf + 3, 300);          /* unaligned: byte loop */
    u64 sum = 0;
    for (int i = 0; i < 1024; i++)
        sum += dst_buf[i];
    u64 want = 0;
    for (int i = 0; i < 1024; i++)
        want += (i >= 1 && i <= 300) ? src_buf[i + 2] : src_buf[i];
    return sum == want;
}

static int part_strings(void)
{
    static const char *words[] = {
        "fetch", "decode", "execute", "memory", "writeback", "translate",
        "walk", "retire", "interrupt", "exception",
    };
    char line[128];
    u64 pos = 0;
    for (int round = 0; round < 3; round++) {
        pos = 0;
        for (int i = 0; i < 10; i++) {
            u64 n = text_length(words[i]);
            memcpy(line + pos, words[i], n);
            pos += n;
            line[pos++] = ' ';
        }
        line[pos - 1] = 0;
    }
    if (text_length(line) != pos - 1)
        return 0;
    if (text_compare(words[2], "execute") != 0 || text_compare(words[0], words[1]) <= 0)
        return 0;
    return line[6] == 'd' && line[pos - 2] == 'n';
}

static int part_sort(void)
{
    for (int i = 0; i < 128; i++)
        numbers[i] = (u32)next_random();
    sort_words(numbers, 128);
    for (int i = 1; i < 128; i++)
        if (numbers[i - 1] > numbers[i])
            return 0;
    return 1;
}

/* ---- Sv39 part: M mode with MPRV = 1, MPP = S translates loads/stores ---- */
#define PAGES 32
#define PTE_V 0x01ul
#define PTE_R 0x02ul
#define PTE_W 0x04ul
#define PTE_X 0x08ul
#define PTE_A 0x40ul
#define PTE_D 0x80ul

static u64 root[512] __attribute__((aligned(4096)));
static u64 mid[512] __attribute__((aligned(4096)));
static u64 leaf[512] __attribute__((aligned(4096)));
static u8 frames[PAGES][4096] __attribute__((aligned(4096)));

static u64 make_pte(const void *pa, u64 flags)
{
    return (((u64)pa >> 12) << 10) | flags;
}

static int part_paging(void)
{
    root[2] = make_pte((void *)0x80000000ul, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
    root[0] = make_pte(mid, PTE_V);
    mid[0] = make_pte(leaf, PTE_V);
    /* virtual page i+1 -> frame (i * 5) mod PAGES: scattered on purpose;
     * A and D clear so that the walker sets them */
    for (int i = 0; i < PAGES; i++)
        leaf[i + 1] = make_pte(frames[(i * 5) % PAGES], PTE_V | PTE_R | PTE_W);
    u64 satp = (8ul << 60) | ((u64)root >> 12);
    asm volatile("csrw satp, %0; sfence.vma" :: "r"(satp));
    asm volatile("csrs mstatus, %0" :: "r"((1ul << 17) | (1ul << 11)));   /* MPRV, MPP = S */
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < PAGES; i++) {
            volatile u64 *p = (volatile u64 *)((u64)(i + 1) << 12);
            p[round] = p[round] + (u64)(i * 100 + round);
        }
    }
    asm volatile("csrc mstatus, %0" :: "r"(1ul << 17));
    asm volatile("csrw satp, zero; sfence.vma");
    for (int i = 0; i < PAGES; i++) {
        const u64 *f = (const u64 *)frames[(i * 5) % PAGES];
        for (int round = 0; round < 4; round++)
            if (f[round] != (u64)(i * 100 + round))
                return 0;
        if ((leaf[i + 1] & (PTE_A | PTE_D)) != (PTE_A | PTE_D))
            return 0;
    }
    return 1;
}

int main(void)
{
    if (!part_copy())
        return 1;
    if (!part_strings())
        return 2;
    if (!part_sort())
        return 3;
    if (!part_paging())
        return 4;
    return 0;
}
