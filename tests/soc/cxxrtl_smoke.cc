// Smoke-test driver for the SoC compiled by CXXRTL (tests/soc/test_cxxrtl_smoke.py):
// loads a flat binary at 0x8000_0000 straight into the RAM's memory, runs until the
// doubleword at the tohost address becomes non-zero, and echoes the UART.
// Usage: cxxrtl_smoke IMAGE.bin TOHOST_ADDR MAX_CYCLES
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "soc_top.cc"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s IMAGE.bin TOHOST_ADDR MAX_CYCLES\n", argv[0]);
        return 64;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    std::vector<uint8_t> image;
    for (int c; (c = fgetc(f)) != EOF;)
        image.push_back((uint8_t)c);
    fclose(f);
    const uint64_t ram_base = 0x80000000ul;
    uint64_t tohost = strtoull(argv[2], nullptr, 0);
    long max_cycles = atol(argv[3]);

    cxxrtl_design::p_top top;
    image.resize((image.size() + 7) & ~size_t(7));
    for (size_t i = 0; i < image.size(); i += 8) {
        uint64_t word = 0;
        for (int k = 0; k < 8; k++)
            word |= (uint64_t)image[i + k] << (8 * k);
        top.memory_p_ram_2e_mem[i / 8].set<uint64_t>(word);
    }
    top.p_uart__tx____ready.set<bool>(true);
    top.p_rst.set<bool>(true);
    for (int edge = 0; edge < 4; edge++) {
        top.p_clk.set<bool>(edge & 1);
        top.step();
    }
    top.p_rst.set<bool>(false);
    uint64_t row = (tohost - ram_base) / 8;
    for (long cycle = 0; cycle < max_cycles; cycle++) {
        top.p_clk.set<bool>(false);
        top.step();
        if (top.p_uart__tx____valid.get<bool>())
            putchar(top.p_uart__tx____payload.get<int>());
        top.p_clk.set<bool>(true);
        top.step();
        uint64_t value = top.memory_p_ram_2e_mem[row].get<uint64_t>();
        if (value) {
            printf("\ntohost %lu cycles %ld\n", (unsigned long)value, cycle + 1);
            return value == 1 ? 0 : 1;
        }
    }
    printf("\nno tohost write in %ld cycles\n", max_cycles);
    return 3;
}
