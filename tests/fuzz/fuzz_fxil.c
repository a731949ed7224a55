/*
 * fuzz_fxil.c — fuzz target for the FX1N instruction-list parser and checker
 * (fxil_load_buffer, the same path as fxil_load_file).  A program that loads
 * is also run for a few scans on inputs taken from the data, so the
 * interpreter sees every program the checker accepts.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sim/fxil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fxmem mem;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[512];
    fxil_program *p = NULL;
    int rc = fxil_load_buffer("fuzz.il", (const char *)data, size, &p, msg, sizeof msg);
    if (rc != 0) {
        /* every error names the file and stays inside the buffer */
        if (msg[0] == '\0' || strncmp(msg, "fuzz.il", 7) != 0 || strlen(msg) >= sizeof msg) {
            fprintf(stderr, "bad message for rc %d: '%s'\n", rc, msg);
            __builtin_trap();
        }
        return 0;
    }
    fxmem_clear(&mem);
    for (unsigned s = 0; s < 8; s++) {
        for (unsigned i = 0; i < 32; i++)
            mem.x[i] = size ? (uint8_t)((data[(s * 32u + i) % size] >> (i & 7u)) & 1u) : 0;
        mem.d[0] = size ? (uint16_t)(data[s % size] * 257u) : 0;
        if (fxil_scan(p, &mem, 1u + s * 37u) != 0) __builtin_trap();
    }
    for (size_t i = 0; i < fxil_count(p); i++) {
        char text[96];
        unsigned step, line;
        fxil_format(p, i, text, sizeof text, &step, &line);
    }
    fxil_free(p);
    return 0;
}
