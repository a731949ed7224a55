/*
 * check_mbserver.c — the FX3 MODBUS slave's PDU handler (sim/mbserver.c),
 * driven directly: every function code, every exception, the boundaries of
 * the standard device assignment, mask write, FC 17 write-before-read.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/fxmem.h"
#include "sim/mbserver.h"

static fxmem mem;
static uint8_t rsp[300];
static mbs_request_info info;

static void setup(void)
{
    fxmem_clear(&mem);
    memset(rsp, 0xAA, sizeof rsp);
    memset(&info, 0x55, sizeof info);
}

static int call(const uint8_t *req, size_t len)
{
    return mbs_handle_pdu_info(&mem, req, len, rsp, MBS_PDU_MAX, &info);
}

/* Build a request from byte literals and run it; the answer length is n. */
#define RUN(...)                                                                                   \
    do {                                                                                           \
        static const uint8_t r_[] = {__VA_ARGS__};                                                 \
        n = call(r_, sizeof r_);                                                                   \
    } while (0)

#define ASSERT_EXC(fc, code)                                                                       \
    do {                                                                                           \
        ck_assert_int_eq(n, 2);                                                                    \
        ck_assert_uint_eq(rsp[0], (uint8_t)((fc) | 0x80));                                         \
        ck_assert_uint_eq(rsp[1], (code));                                                         \
        ck_assert_uint_eq(info.exception, (code));                                                 \
        ck_assert_uint_eq(info.wcount, 0);                                                         \
    } while (0)

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Read one holding register through FC 03. */
static uint16_t read_reg(uint16_t addr)
{
    uint8_t req[5] = {0x03, (uint8_t)(addr >> 8), (uint8_t)addr, 0, 1};
    int n = call(req, sizeof req);
    ck_assert_int_eq(n, 4);
    return be16(rsp + 2);
}

/* ------------------------------------------------------------ FC 03/04 */
START_TEST(fc03_boundaries)
{
    int n;
    mem.d[0] = 0x1111;
    mem.d[7999] = 0x7999;
    mem.d[8000] = 0x8000;
    mem.d[8511] = 0x8511;
    ck_assert_uint_eq(read_reg(0x0000), 0x1111); /* D0 */
    ck_assert_uint_eq(read_reg(0x1F3F), 0x7999); /* D7999 */
    ck_assert_uint_eq(read_reg(0x1F40), 0x8000); /* D8000 */
    ck_assert_uint_eq(read_reg(0x213F), 0x8511); /* D8511 */
    /* D7998..D8001 across the jump from D7999 to D8000 */
    mem.d[7998] = 1;
    mem.d[8001] = 4;
    RUN(0x03, 0x1F, 0x3E, 0x00, 0x04);
    ck_assert_int_eq(n, 10);
    ck_assert_uint_eq(rsp[1], 8);
    ck_assert_uint_eq(be16(rsp + 2), 1);
    ck_assert_uint_eq(be16(rsp + 4), 0x7999);
    ck_assert_uint_eq(be16(rsp + 6), 0x8000);
    ck_assert_uint_eq(be16(rsp + 8), 4);
    ck_assert_uint_eq(info.function, 0x03);
    ck_assert_uint_eq(info.exception, 0);
    ck_assert_uint_eq(info.wcount, 0);
}
END_TEST

START_TEST(fc03_timers_counters)
{
    mem.tn[0] = 10;
    mem.tn[511] = 511;
    mem.cn[0] = -2;
    mem.cn[199] = 199;
    ck_assert_uint_eq(read_reg(0x2140), 10);     /* TN0 */
    ck_assert_uint_eq(read_reg(0x233F), 511);    /* TN511 */
    ck_assert_uint_eq(read_reg(0x2340), 0xFFFE); /* CN0 */
    ck_assert_uint_eq(read_reg(0x2407), 199);    /* CN199 */
}
END_TEST

START_TEST(fc03_exceptions)
{
    int n;
    RUN(0x03, 0x24, 0x08, 0x00, 0x01); /* past CN199 */
    ASSERT_EXC(0x03, MBS_EX_ILLEGAL_ADDRESS);
    RUN(0x03, 0x24, 0x07, 0x00, 0x02); /* CN199 then the gap */
    ASSERT_EXC(0x03, MBS_EX_ILLEGAL_ADDRESS);
    RUN(0x03, 0xFF, 0xFF, 0x00, 0x02); /* wraps past 0xFFFF */
    ASSERT_EXC(0x03, MBS_EX_ILLEGAL_ADDRESS);
    RUN(0x03, 0x00, 0x00, 0x00, 0x00); /* quantity 0 */
    ASSERT_EXC(0x03, MBS_EX_ILLEGAL_VALUE);
    RUN(0x03, 0x00, 0x00, 0x00, 126); /* quantity 126 */
    ASSERT_EXC(0x03, MBS_EX_ILLEGAL_VALUE);
    RUN(0x03, 0x24, 0x08, 0x00, 0x00); /* quantity before address */
    ASSERT_EXC(0x03, MBS_EX_ILLEGAL_VALUE);
    RUN(0x03, 0x00, 0x00, 0x00); /* short */
    ASSERT_EXC(0x03, MBS_EX_ILLEGAL_VALUE);
    RUN(0x03, 0x00, 0x00, 0x00, 0x01, 0x00); /* long */
    ASSERT_EXC(0x03, MBS_EX_ILLEGAL_VALUE);
    RUN(0x03, 0x00, 0x00, 0x00, 125); /* the maximum is fine */
    ck_assert_int_eq(n, 2 + 250);
    ck_assert_uint_eq(rsp[1], 250);
}
END_TEST

START_TEST(fc04_input_registers)
{
    int n;
    mem.d[100] = 0xBEEF;
    RUN(0x04, 0x00, 0x64, 0x00, 0x01);
    ck_assert_int_eq(n, 4);
    ck_assert_uint_eq(rsp[0], 0x04);
    ck_assert_uint_eq(be16(rsp + 2), 0xBEEF);
    RUN(0x04, 0x24, 0x08, 0x00, 0x01);
    ASSERT_EXC(0x04, MBS_EX_ILLEGAL_ADDRESS);
    RUN(0x04, 0x00, 0x00, 0x00, 0x00);
    ASSERT_EXC(0x04, MBS_EX_ILLEGAL_VALUE);
}
END_TEST

/* ------------------------------------------------------------ FC 01/02 */
START_TEST(fc01_boundaries)
{
    int n;
    mem.m[0] = 1;
    mem.m[7679] = 1;
    mem.m[8000] = 1;
    mem.m[8511] = 1;
    mem.y[0377] = 1;
    RUN(0x01, 0x00, 0x00, 0x00, 0x01); /* M0 */
    ck_assert_int_eq(n, 3);
    ck_assert_uint_eq(rsp[1], 1);
    ck_assert_uint_eq(rsp[2], 1);
    RUN(0x01, 0x1D, 0xFF, 0x00, 0x02); /* M7679, M8000 */
    ck_assert_int_eq(n, 3);
    ck_assert_uint_eq(rsp[2], 0x03);
    RUN(0x01, 0x1F, 0xFF, 0x00, 0x01); /* M8511 */
    ck_assert_uint_eq(rsp[2], 0x01);
    RUN(0x01, 0x33, 0xFF, 0x00, 0x01); /* Y377 */
    ck_assert_int_eq(n, 3);
    ck_assert_uint_eq(rsp[2], 0x01);
    RUN(0x01, 0x34, 0x00, 0x00, 0x01); /* X0 is not a coil */
    ASSERT_EXC(0x01, MBS_EX_ILLEGAL_ADDRESS);
    RUN(0x01, 0x33, 0xFF, 0x00, 0x02); /* Y377 then X0 */
    ASSERT_EXC(0x01, MBS_EX_ILLEGAL_ADDRESS);
    RUN(0x01, 0x00, 0x00, 0x07, 0xD0); /* 2000 bits */
    ck_assert_int_eq(n, 2 + 250);
    RUN(0x01, 0x00, 0x00, 0x07, 0xD1); /* 2001 bits */
    ASSERT_EXC(0x01, MBS_EX_ILLEGAL_VALUE);
    RUN(0x01, 0x00, 0x00, 0x00, 0x00);
    ASSERT_EXC(0x01, MBS_EX_ILLEGAL_VALUE);
}
END_TEST

START_TEST(fc01_packing)
{
    int n;
    /* Y0, Y2, Y10 (octal) = y[0], y[2], y[8] */
    mem.y[0] = mem.y[2] = mem.y[8] = 1;
    RUN(0x01, 0x33, 0x00, 0x00, 0x0A); /* Y0..Y11 */
    ck_assert_int_eq(n, 4);
    ck_assert_uint_eq(rsp[1], 2);
    ck_assert_uint_eq(rsp[2], 0x05);
    ck_assert_uint_eq(rsp[3], 0x01);
}
END_TEST

START_TEST(fc02_discrete_inputs)
{
    int n;
    mem.x[0] = 1;
    mem.x[0377] = 1;
    mem.m[5] = 1;
    RUN(0x02, 0x34, 0x00, 0x00, 0x01); /* X0 */
    ck_assert_int_eq(n, 3);
    ck_assert_uint_eq(rsp[0], 0x02);
    ck_assert_uint_eq(rsp[2], 1);
    RUN(0x02, 0x34, 0xFF, 0x00, 0x01); /* X377 */
    ck_assert_uint_eq(rsp[2], 1);
    RUN(0x02, 0x00, 0x05, 0x00, 0x01); /* M5 is a discrete input too */
    ck_assert_uint_eq(rsp[2], 1);
    RUN(0x02, 0x35, 0x00, 0x00, 0x01); /* past X377 */
    ASSERT_EXC(0x02, MBS_EX_ILLEGAL_ADDRESS);
    RUN(0x02, 0x34, 0xFF, 0x00, 0x02);
    ASSERT_EXC(0x02, MBS_EX_ILLEGAL_ADDRESS);
    RUN(0x02, 0x1E, 0x00, 0x00, 0x00);
    ASSERT_EXC(0x02, MBS_EX_ILLEGAL_VALUE);
}
END_TEST

/* --------------------------------------------------------------- FC 05 */
START_TEST(fc05_write_coil)
{
    int n;
    RUN(0x05, 0x33, 0x00, 0xFF, 0x00); /* Y0 on */
    ck_assert_int_eq(n, 5);
    ck_assert_mem_eq(rsp, ((const uint8_t[]){0x05, 0x33, 0x00, 0xFF, 0x00}), 5);
    ck_assert_uint_eq(mem.y[0], 1);
    ck_assert_uint_eq(info.wtable, MB_TABLE_COIL);
    ck_assert_uint_eq(info.waddr, 0x3300);
    ck_assert_uint_eq(info.wcount, 1);
    RUN(0x05, 0x33, 0x00, 0x00, 0x00); /* off */
    ck_assert_uint_eq(mem.y[0], 0);
    RUN(0x05, 0x1E, 0x00, 0xFF, 0x00); /* M8000 */
    ck_assert_uint_eq(mem.m[8000], 1);
    RUN(0x05, 0x20, 0x00, 0xFF, 0x00); /* S0 */
    ck_assert_uint_eq(mem.s[0], 1);
    RUN(0x05, 0x30, 0x00, 0xFF, 0x00); /* TS0 */
    ck_assert_uint_eq(mem.ts[0], 1);
    RUN(0x05, 0x32, 0xFF, 0xFF, 0x00); /* CS255 */
    ck_assert_uint_eq(mem.cs[255], 1);
    RUN(0x05, 0x34, 0x00, 0xFF, 0x00); /* X0: not a coil */
    ASSERT_EXC(0x05, MBS_EX_ILLEGAL_ADDRESS);
    ck_assert_uint_eq(mem.x[0], 0);
    RUN(0x05, 0x33, 0x00, 0x12, 0x34); /* bad value */
    ASSERT_EXC(0x05, MBS_EX_ILLEGAL_VALUE);
    RUN(0x05, 0x33, 0x00, 0x00, 0xFF); /* bad value (byte order) */
    ASSERT_EXC(0x05, MBS_EX_ILLEGAL_VALUE);
    ck_assert_uint_eq(mem.y[0], 0);
}
END_TEST

/* --------------------------------------------------------------- FC 06 */
START_TEST(fc06_write_register)
{
    int n;
    RUN(0x06, 0x00, 0xC8, 0x04, 0xD2); /* D200 = 1234 */
    ck_assert_int_eq(n, 5);
    ck_assert_mem_eq(rsp, ((const uint8_t[]){0x06, 0x00, 0xC8, 0x04, 0xD2}), 5);
    ck_assert_uint_eq(mem.d[200], 1234);
    ck_assert_uint_eq(info.wtable, MB_TABLE_HOLDING);
    ck_assert_uint_eq(info.waddr, 200);
    ck_assert_uint_eq(info.wcount, 1);
    ck_assert(mbs_info_touches(&info, MB_TABLE_HOLDING, 200, 8));
    ck_assert(!mbs_info_touches(&info, MB_TABLE_HOLDING, 201, 7));
    ck_assert(!mbs_info_touches(&info, MB_TABLE_COIL, 200, 8));
    RUN(0x06, 0x21, 0x3F, 0x00, 0x07); /* D8511 */
    ck_assert_uint_eq(mem.d[8511], 7);
    RUN(0x06, 0x24, 0x08, 0x00, 0x01);
    ASSERT_EXC(0x06, MBS_EX_ILLEGAL_ADDRESS);
    RUN(0x06, 0x24, 0x08, 0x00);
    ASSERT_EXC(0x06, MBS_EX_ILLEGAL_VALUE);
}
END_TEST

/* --------------------------------------------------------------- FC 0F */
START_TEST(fc0f_write_coils)
{
    int n;
    RUN(0x0F, 0x33, 0x00, 0x00, 0x0A, 0x02, 0xCD, 0x01); /* Y0..Y11 = 1100110110 (LSB first) */
    ck_assert_int_eq(n, 5);
    ck_assert_mem_eq(rsp, ((const uint8_t[]){0x0F, 0x33, 0x00, 0x00, 0x0A}), 5);
    ck_assert_uint_eq(mem.y[0], 1);
    ck_assert_uint_eq(mem.y[1], 0);
    ck_assert_uint_eq(mem.y[2], 1);
    ck_assert_uint_eq(mem.y[3], 1);
    ck_assert_uint_eq(mem.y[6], 1);
    ck_assert_uint_eq(mem.y[7], 1);
    ck_assert_uint_eq(mem.y[8], 1);
    ck_assert_uint_eq(mem.y[9], 0);
    ck_assert_uint_eq(info.wcount, 10);
    RUN(0x0F, 0x33, 0x00, 0x00, 0x0A, 0x01, 0xCD); /* byte count 1 for 10 coils */
    ASSERT_EXC(0x0F, MBS_EX_ILLEGAL_VALUE);
    RUN(0x0F, 0x33, 0x00, 0x00, 0x0A, 0x02, 0xCD); /* data shorter than byte count */
    ASSERT_EXC(0x0F, MBS_EX_ILLEGAL_VALUE);
    RUN(0x0F, 0x33, 0x00, 0x00, 0x00, 0x00);
    ASSERT_EXC(0x0F, MBS_EX_ILLEGAL_VALUE);
    RUN(0x0F, 0x33, 0xFF, 0x00, 0x02, 0x01, 0x03); /* Y377, X0 */
    ASSERT_EXC(0x0F, MBS_EX_ILLEGAL_ADDRESS);
    ck_assert_uint_eq(mem.y[0377], 0); /* nothing applied */
}
END_TEST

START_TEST(fc0f_quantity_limit)
{
    uint8_t req[6 + 247];
    memset(req, 0xFF, sizeof req);
    req[0] = 0x0F;
    req[1] = 0x00;
    req[2] = 0x00;
    req[3] = 1968 >> 8;
    req[4] = 1968 & 0xFF;
    req[5] = 246;
    int n = call(req, 6 + 246);
    ck_assert_int_eq(n, 5);
    ck_assert_uint_eq(mem.m[1967], 1);
    ck_assert_uint_eq(mem.m[1968], 0);
    req[3] = 1969 >> 8;
    req[4] = 1969 & 0xFF;
    req[5] = 247;
    n = call(req, 6 + 247);
    ASSERT_EXC(0x0F, MBS_EX_ILLEGAL_VALUE);
}
END_TEST

/* --------------------------------------------------------------- FC 10 */
START_TEST(fc10_write_registers)
{
    int n;
    RUN(0x10, 0x00, 0xC8, 0x00, 0x03, 0x06, 0x00, 0x01, 0x00, 0x02, 0xFF, 0xFF);
    ck_assert_int_eq(n, 5);
    ck_assert_mem_eq(rsp, ((const uint8_t[]){0x10, 0x00, 0xC8, 0x00, 0x03}), 5);
    ck_assert_uint_eq(mem.d[200], 1);
    ck_assert_uint_eq(mem.d[201], 2);
    ck_assert_uint_eq(mem.d[202], 0xFFFF);
    ck_assert_uint_eq(info.waddr, 200);
    ck_assert_uint_eq(info.wcount, 3);
    RUN(0x10, 0x00, 0xC8, 0x00, 0x02, 0x06, 0x00, 0x01, 0x00, 0x02, 0xFF, 0xFF); /* bc != 2*qty */
    ASSERT_EXC(0x10, MBS_EX_ILLEGAL_VALUE);
    RUN(0x10, 0x00, 0xC8, 0x00, 0x00, 0x00);
    ASSERT_EXC(0x10, MBS_EX_ILLEGAL_VALUE);
    RUN(0x10, 0x24, 0x07, 0x00, 0x02, 0x04, 0x00, 0x01, 0x00, 0x02); /* CN199 + gap */
    ASSERT_EXC(0x10, MBS_EX_ILLEGAL_ADDRESS);
    ck_assert_int_eq(mem.cn[199], 0);
}
END_TEST

START_TEST(fc10_quantity_limit)
{
    uint8_t req[6 + 248];
    memset(req, 0, sizeof req);
    req[0] = 0x10;
    req[4] = 123;
    req[5] = 246;
    int n = call(req, 6 + 246);
    ck_assert_int_eq(n, 5);
    req[4] = 124;
    req[5] = 248;
    n = call(req, 6 + 248);
    ASSERT_EXC(0x10, MBS_EX_ILLEGAL_VALUE);
}
END_TEST

/* --------------------------------------------------------------- FC 16 */
START_TEST(fc16_mask_write)
{
    int n;
    /* Modbus spec example: current 0x12, AND 0xF2, OR 0x25 -> 0x17 */
    mem.d[5] = 0x0012;
    RUN(0x16, 0x00, 0x05, 0x00, 0xF2, 0x00, 0x25);
    ck_assert_int_eq(n, 7);
    ck_assert_mem_eq(rsp, ((const uint8_t[]){0x16, 0x00, 0x05, 0x00, 0xF2, 0x00, 0x25}), 7);
    ck_assert_uint_eq(mem.d[5], 0x0017);
    ck_assert_uint_eq(info.wcount, 1);
    /* set bit 3, clear bit 0 of D202, keep the rest: AND ~(0x0009), OR 0x0008 */
    mem.d[202] = 0xF0F1;
    RUN(0x16, 0x00, 0xCA, 0xFF, 0xF6, 0x00, 0x08);
    ck_assert_uint_eq(mem.d[202], 0xF0F8);
    RUN(0x16, 0x24, 0x08, 0xFF, 0xFF, 0x00, 0x00);
    ASSERT_EXC(0x16, MBS_EX_ILLEGAL_ADDRESS);
    RUN(0x16, 0x00, 0x05, 0xFF, 0xFF, 0x00);
    ASSERT_EXC(0x16, MBS_EX_ILLEGAL_VALUE);
}
END_TEST

/* --------------------------------------------------------------- FC 17 */
START_TEST(fc17_write_before_read)
{
    int n;
    mem.d[100] = 0x0001;
    /* read D199..D201, write D200..D201 = 7, 8 */
    RUN(0x17, 0x00, 0xC7, 0x00, 0x03, 0x00, 0xC8, 0x00, 0x02, 0x04, 0x00, 0x07, 0x00, 0x08);
    ck_assert_int_eq(n, 8);
    ck_assert_uint_eq(rsp[0], 0x17);
    ck_assert_uint_eq(rsp[1], 6);
    ck_assert_uint_eq(be16(rsp + 2), 0);
    ck_assert_uint_eq(be16(rsp + 4), 7);
    ck_assert_uint_eq(be16(rsp + 6), 8);
    ck_assert_uint_eq(info.waddr, 200);
    ck_assert_uint_eq(info.wcount, 2);
    ck_assert(mbs_info_touches(&info, MB_TABLE_HOLDING, 200, 8));
}
END_TEST

START_TEST(fc17_control_cycle)
{
    uint8_t req[10 + 16];
    int n;
    memset(req, 0, sizeof req);
    req[0] = 0x17;
    req[2] = 100; /* read D100 */
    req[4] = 32;  /* x32 */
    req[6] = 200; /* write D200 */
    req[8] = 8;   /* x8 */
    req[9] = 16;
    req[11] = 42; /* D200 = 42 */
    mem.d[131] = 0x1313;
    n = call(req, sizeof req);
    ck_assert_int_eq(n, 2 + 64);
    ck_assert_uint_eq(be16(rsp + 2 + 2 * 31), 0x1313);
    ck_assert_uint_eq(mem.d[200], 42);
}
END_TEST

START_TEST(fc17_exceptions)
{
    int n;
    /* bad write range (CN199 + gap), good read range: 02, nothing written */
    RUN(0x17, 0x00, 0x00, 0x00, 0x01, 0x24, 0x07, 0x00, 0x02, 0x04, 0x00, 0x07, 0x00, 0x08);
    ASSERT_EXC(0x17, MBS_EX_ILLEGAL_ADDRESS);
    ck_assert_int_eq(mem.cn[199], 0);
    /* good write range, bad read range: 02, nothing written */
    RUN(0x17, 0x24, 0x08, 0x00, 0x01, 0x00, 0xC8, 0x00, 0x01, 0x02, 0x00, 0x07);
    ASSERT_EXC(0x17, MBS_EX_ILLEGAL_ADDRESS);
    ck_assert_uint_eq(mem.d[200], 0);
    /* read quantity 0 / 126 */
    RUN(0x17, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC8, 0x00, 0x01, 0x02, 0x00, 0x07);
    ASSERT_EXC(0x17, MBS_EX_ILLEGAL_VALUE);
    RUN(0x17, 0x00, 0x00, 0x00, 126, 0x00, 0xC8, 0x00, 0x01, 0x02, 0x00, 0x07);
    ASSERT_EXC(0x17, MBS_EX_ILLEGAL_VALUE);
    /* write quantity 0 */
    RUN(0x17, 0x00, 0x00, 0x00, 0x01, 0x00, 0xC8, 0x00, 0x00, 0x00);
    ASSERT_EXC(0x17, MBS_EX_ILLEGAL_VALUE);
    /* byte count mismatch */
    RUN(0x17, 0x00, 0x00, 0x00, 0x01, 0x00, 0xC8, 0x00, 0x01, 0x04, 0x00, 0x07);
    ASSERT_EXC(0x17, MBS_EX_ILLEGAL_VALUE);
    RUN(0x17, 0x00, 0x00, 0x00, 0x01, 0x00, 0xC8, 0x00);
    ASSERT_EXC(0x17, MBS_EX_ILLEGAL_VALUE);
    ck_assert_uint_eq(mem.d[200], 0);
}
END_TEST

START_TEST(fc17_write_limit)
{
    uint8_t req[10 + 244];
    memset(req, 0, sizeof req);
    req[0] = 0x17;
    req[4] = 1;
    req[8] = 121;
    req[9] = 242;
    int n = call(req, 10 + 242);
    ck_assert_int_eq(n, 4);
    req[8] = 122;
    req[9] = 244;
    n = call(req, 10 + 244);
    ASSERT_EXC(0x17, MBS_EX_ILLEGAL_VALUE);
}
END_TEST

/* ---------------------------------------------------- FC 07, 08, 11 */
START_TEST(fc07_exception_status)
{
    int n;
    RUN(0x07);
    ck_assert_int_eq(n, 2);
    ck_assert_uint_eq(rsp[0], 0x07);
    ck_assert_uint_eq(rsp[1], 0x00);
    mem.m[8060] = 1;
    mem.m[8067] = 1;
    RUN(0x07);
    ck_assert_uint_eq(rsp[1], 0x81);
    RUN(0x07, 0x00);
    ASSERT_EXC(0x07, MBS_EX_ILLEGAL_VALUE);
}
END_TEST

START_TEST(fc08_diagnostics)
{
    int n;
    RUN(0x08, 0x00, 0x00, 0xA5, 0x37);
    ck_assert_int_eq(n, 5);
    ck_assert_mem_eq(rsp, ((const uint8_t[]){0x08, 0x00, 0x00, 0xA5, 0x37}), 5);
    RUN(0x08, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04);
    ck_assert_int_eq(n, 7);
    ck_assert_uint_eq(rsp[6], 0x04);
    RUN(0x08, 0x00, 0x01, 0x00, 0x00); /* restart communications: not served */
    ASSERT_EXC(0x08, MBS_EX_ILLEGAL_FUNCTION);
    RUN(0x08, 0x00, 0x0B, 0x00, 0x00);
    ASSERT_EXC(0x08, MBS_EX_ILLEGAL_FUNCTION);
    RUN(0x08, 0x00);
    ASSERT_EXC(0x08, MBS_EX_ILLEGAL_VALUE);
}
END_TEST

START_TEST(fc11_report_slave_id)
{
    int n;
    mem.m[8000] = 1;
    RUN(0x11);
    ck_assert_int_eq(n, 4);
    ck_assert_mem_eq(rsp, ((const uint8_t[]){0x11, 0x02, 0xF3, 0xFF}), 4);
    mem.m[8000] = 0;
    RUN(0x11);
    ck_assert_mem_eq(rsp, ((const uint8_t[]){0x11, 0x02, 0xF3, 0x00}), 4);
    RUN(0x11, 0x00);
    ASSERT_EXC(0x11, MBS_EX_ILLEGAL_VALUE);
}
END_TEST

/* ------------------------------------------------------------ unknown */
START_TEST(unknown_functions)
{
    static const uint8_t fcs[] = {0x00, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x12, 0x14,
                                  0x15, 0x18, 0x2B, 0x41, 0x64, 0x7F};
    for (size_t i = 0; i < sizeof fcs; i++) {
        uint8_t req[5] = {fcs[i], 0, 0, 0, 1};
        int n = call(req, sizeof req);
        ASSERT_EXC(fcs[i], MBS_EX_ILLEGAL_FUNCTION);
    }
    /* an exception-coded function is not a function */
    uint8_t req[1] = {0x83};
    int n = call(req, 1);
    ck_assert_int_eq(n, 2);
    ck_assert_uint_eq(rsp[0], 0x83);
    ck_assert_uint_eq(rsp[1], MBS_EX_ILLEGAL_FUNCTION);
}
END_TEST

START_TEST(empty_and_small_buffer)
{
    uint8_t small[4];
    static const uint8_t rd[] = {0x03, 0x00, 0x00, 0x00, 0x02};
    static const uint8_t wr[] = {0x17, 0x00, 0x00, 0x00, 0x08, 0x00, 0xC8, 0x00, 0x01, 0x02, 0x12, 0x34};
    ck_assert_int_eq(mbs_handle_pdu(&mem, rd, 0, rsp, sizeof rsp), MBS_EPDU);
    ck_assert_int_eq(mbs_handle_pdu(&mem, rd, sizeof rd, small, sizeof small), MBS_EBUF);
    /* too small for the read part: nothing written either */
    ck_assert_int_eq(mbs_handle_pdu(&mem, wr, sizeof wr, small, sizeof small), MBS_EBUF);
    ck_assert_uint_eq(mem.d[200], 0);
    ck_assert_int_eq(mbs_handle_pdu(&mem, wr, sizeof wr, rsp, sizeof rsp), 18);
    ck_assert_uint_eq(mem.d[200], 0x1234);
    ck_assert_int_eq(mbs_handle_pdu(&mem, rd, sizeof rd, small, 1), MBS_EBUF);
}
END_TEST

START_TEST(every_register_address)
{
    /* Exactly the assigned addresses read; the rest answer 02. */
    for (uint32_t a = 0; a <= 0xFFFF; a++) {
        uint8_t req[5] = {0x03, (uint8_t)(a >> 8), (uint8_t)a, 0, 1};
        int n = call(req, sizeof req);
        int mapped = a <= 0x2407;
        ck_assert_int_eq(n, mapped ? 4 : 2);
    }
    for (uint32_t a = 0; a <= 0xFFFF; a++) {
        uint8_t req[5] = {0x01, (uint8_t)(a >> 8), (uint8_t)a, 0, 1};
        int n = call(req, sizeof req);
        int mapped = a <= 0x33FF;
        ck_assert_int_eq(n, mapped ? 3 : 2);
        req[0] = 0x02;
        n = call(req, sizeof req);
        mapped = a <= 0x34FF;
        ck_assert_int_eq(n, mapped ? 3 : 2);
    }
}
END_TEST

/* ---------------------------------------------------------------- URI */
START_TEST(parse_uri)
{
    char host[64], err[128];
    uint16_t port;
    ck_assert_int_eq(mbs_parse_tcp_uri("tcp://127.0.0.1:1502", host, sizeof host, &port, err, sizeof err), 0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_uint_eq(port, 1502);
    ck_assert_int_eq(mbs_parse_tcp_uri("tcp://localhost:0", host, sizeof host, &port, NULL, 0), 0);
    ck_assert_str_eq(host, "localhost");
    ck_assert_uint_eq(port, 0);
    ck_assert_int_eq(mbs_parse_tcp_uri("tcp://[::1]:65535", host, sizeof host, &port, NULL, 0), 0);
    ck_assert_str_eq(host, "::1");
    ck_assert_uint_eq(port, 65535);
    ck_assert_int_eq(mbs_parse_tcp_uri("tcp://10.0.0.1", host, sizeof host, &port, NULL, 0), 0);
    ck_assert_uint_eq(port, 1502);
    static const char *const bad[] = {"", "127.0.0.1:1502", "rtu:/dev/ttyS0", "tcp://", "tcp://:1502",
                                      "tcp://h:65536", "tcp://h:-1", "tcp://h:12x", "tcp://h:",
                                      "tcp://[::1", "tcp://h:1/x", NULL};
    for (int i = 0; bad[i]; i++) {
        err[0] = '\0';
        ck_assert_int_eq(mbs_parse_tcp_uri(bad[i], host, sizeof host, &port, err, sizeof err), MBS_EURI);
        ck_assert_msg(strstr(err, bad[i]) != NULL, "message '%s' names '%s'", err, bad[i]);
    }
    ck_assert_int_eq(mbs_parse_tcp_uri("tcp://averyveryverylonghostname:1", host, 8, &port, NULL, 0), MBS_EURI);
    ck_assert_str_eq(mbs_strerror(MBS_EURI), "bad listen URI");
}
END_TEST

static Suite *mbserver_suite(void)
{
    Suite *s = suite_create("mbserver");
    TCase *tc = tcase_create("pdu");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, fc03_boundaries);
    tcase_add_test(tc, fc03_timers_counters);
    tcase_add_test(tc, fc03_exceptions);
    tcase_add_test(tc, fc04_input_registers);
    tcase_add_test(tc, fc01_boundaries);
    tcase_add_test(tc, fc01_packing);
    tcase_add_test(tc, fc02_discrete_inputs);
    tcase_add_test(tc, fc05_write_coil);
    tcase_add_test(tc, fc06_write_register);
    tcase_add_test(tc, fc0f_write_coils);
    tcase_add_test(tc, fc0f_quantity_limit);
    tcase_add_test(tc, fc10_write_registers);
    tcase_add_test(tc, fc10_quantity_limit);
    tcase_add_test(tc, fc16_mask_write);
    tcase_add_test(tc, fc17_write_before_read);
    tcase_add_test(tc, fc17_control_cycle);
    tcase_add_test(tc, fc17_exceptions);
    tcase_add_test(tc, fc17_write_limit);
    tcase_add_test(tc, fc07_exception_status);
    tcase_add_test(tc, fc08_diagnostics);
    tcase_add_test(tc, fc11_report_slave_id);
    tcase_add_test(tc, unknown_functions);
    tcase_add_test(tc, empty_and_small_buffer);
    tcase_add_test(tc, every_register_address);
    tcase_add_test(tc, parse_uri);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mbserver_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
