/* Helpers for the SoC test programs.  Device addresses come from soc/memmap.py
   through -D options on the compiler command line. */
#ifndef SOCPROG_H
#define SOCPROG_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;

#define REG8(a)  (*(volatile u8 *)(a))
#define REG16(a) (*(volatile u16 *)(a))
#define REG32(a) (*(volatile u32 *)(a))
#define REG64(a) (*(volatile u64 *)(a))

#define CSR_READ(name) ({ u64 v_; asm volatile("csrr %0, " #name : "=r"(v_)); v_; })
#define CSR_WRITE(name, v) asm volatile("csrw " #name ", %0" :: "r"((u64)(v)))
#define CSR_SET(name, v) asm volatile("csrs " #name ", %0" :: "r"((u64)(v)))
#define CSR_CLEAR(name, v) asm volatile("csrc " #name ", %0" :: "r"((u64)(v)))

#define INTR (1UL << 63)

/* CLINT */
#define MSIP      (CLINT_BASE + 0x0)
#define MTIMECMP  (CLINT_BASE + 0x4000)
#define MTIME     (CLINT_BASE + 0xBFF8)

/* PLIC */
#define PLIC_PRIO(i)    (PLIC_BASE + 4 * (i))
#define PLIC_PEND       (PLIC_BASE + 0x1000)
#define PLIC_EN(c)      (PLIC_BASE + 0x2000 + 0x80 * (c))
#define PLIC_THRESH(c)  (PLIC_BASE + 0x200000 + 0x1000 * (c))
#define PLIC_CLAIM(c)   (PLIC_BASE + 0x200004 + 0x1000 * (c))

/* 16550 */
#define UART_RBR (UART_BASE + 0)
#define UART_THR (UART_BASE + 0)
#define UART_IER (UART_BASE + 1)
#define UART_FCR (UART_BASE + 2)
#define UART_IIR (UART_BASE + 2)
#define UART_LCR (UART_BASE + 3)
#define UART_LSR (UART_BASE + 5)

void finish(long code) __attribute__((noreturn));

static inline void uart_init(int ier)
{
    REG8(UART_IER) = 0;
    REG8(UART_LCR) = 0x80;
    REG8(UART_BASE + 0) = 3;
    REG8(UART_BASE + 1) = 0;
    REG8(UART_LCR) = 0x03;
    REG8(UART_FCR) = 0x07;
    REG8(UART_IER) = ier;
}

static inline void uart_putc(char c)
{
    while ((REG8(UART_LSR) & 0x20) == 0)
        ;
    REG8(UART_THR) = c;
}

static inline void uart_puts(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

/* Leave M-mode for S-mode at fn, with interrupts delegated as asked. */
static inline void enter_smode(void (*fn)(void))
{
    u64 ms = CSR_READ(mstatus);
    /* PMP entry 0: TOR over the whole address space, R W X, as firmware does: with
     * PMP entries and none matching, S mode could not access anything (a core
     * without PMP ignores these writes) */
    asm volatile("csrw pmpaddr0, %0" :: "r"(0x3fffffffffffffUL));
    asm volatile("csrw pmpcfg0, %0" :: "r"(0xfUL));
    ms = (ms & ~(3UL << 11)) | (1UL << 11);     /* MPP = S */
    CSR_WRITE(mstatus, ms);
    CSR_WRITE(mepc, (u64)fn);
    asm volatile("mret");
    __builtin_unreachable();
}

#endif
