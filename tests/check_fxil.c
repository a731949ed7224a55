/*
 * check_fxil.c — the FX1N instruction-list interpreter against the FX
 * programming manual: contacts and blocks, MPS branches, SET/RST priority,
 * one-scan pulses, timers, counters, word instructions, special devices,
 * step counts, and the checker's error messages (file:line).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/fxil.h"

static fxmem mem; /* ~33 KB: static, not on the stack */

static fxil_program *load(const char *src)
{
    char msg[512];
    fxil_program *p = NULL;
    int rc = fxil_load_buffer("t.il", src, strlen(src), &p, msg, sizeof msg);
    ck_assert_msg(rc == 0, "load failed (%d): %s", rc, msg);
    fxmem_clear(&mem);
    return p;
}

static void scan(fxil_program *p, uint32_t ms)
{
    ck_assert_int_eq(fxil_scan(p, &mem, ms), 0);
}

/* Y0-Y17 as a word, bit n = Y(octal n). */
static unsigned yword(void)
{
    unsigned v = 0;
    for (unsigned i = 0; i < 16; i++) v |= (unsigned)mem.y[i] << i;
    return v;
}

/* ------------------------------------------------------------ contacts */

START_TEST(test_self_hold)
{
    /* Start/stop self-holding circuit: X0 start, X1 stop. */
    fxil_program *p = load("LD X0\nOR Y0\nANI X1\nOUT Y0\nEND\n");
    scan(p, 10);
    ck_assert_int_eq(mem.y[0], 0);
    mem.x[0] = 1;
    scan(p, 10);
    ck_assert_int_eq(mem.y[0], 1);
    mem.x[0] = 0;
    for (int i = 0; i < 5; i++) scan(p, 10);
    ck_assert_int_eq(mem.y[0], 1); /* held by its own contact */
    mem.x[1] = 1;
    scan(p, 10);
    ck_assert_int_eq(mem.y[0], 0);
    mem.x[1] = 0;
    scan(p, 10);
    ck_assert_int_eq(mem.y[0], 0);
    fxil_free(p);
}
END_TEST

START_TEST(test_anb_orb)
{
    /* Y0 = (X0 | X1) & (X2 | X3) with ANB; Y1 = X0&X1 | X2&X3 with ORB;
     * Y2 = batch style LD LD LD ORB ORB; Y3 = INV of Y0's expression. */
    fxil_program *p = load("LD X0\nOR X1\nLD X2\nOR X3\nANB\nOUT Y0\n"
                           "LD X0\nAND X1\nLD X2\nAND X3\nORB\nOUT Y1\n"
                           "LD X0\nLD X1\nLD X2\nORB\nORB\nOUT Y2\n"
                           "LD X0\nOR X1\nLD X2\nOR X3\nANB\nINV\nOUT Y3\nEND\n");
    for (unsigned v = 0; v < 16; v++) {
        int a = v & 1, b = (v >> 1) & 1, c = (v >> 2) & 1, d = (v >> 3) & 1;
        mem.x[0] = (uint8_t)a;
        mem.x[1] = (uint8_t)b;
        mem.x[2] = (uint8_t)c;
        mem.x[3] = (uint8_t)d;
        scan(p, 10);
        ck_assert_int_eq(mem.y[0], (a || b) && (c || d));
        ck_assert_int_eq(mem.y[1], (a && b) || (c && d));
        ck_assert_int_eq(mem.y[2], a || b || c);
        ck_assert_int_eq(mem.y[3], !((a || b) && (c || d)));
    }
    fxil_free(p);
}
END_TEST

START_TEST(test_mps_branches)
{
    /* One branch point X0, three branches; a nested MPS in the second. */
    fxil_program *p = load("LD X0\nMPS\nAND X1\nOUT Y0\nMRD\nAND X2\nMPS\nAND X4\nOUT Y4\nMPP\n"
                           "ANI X4\nOUT Y5\nMRD\nLD X5\nOR X6\nANB\nOUT Y6\nMPP\nAND X3\nOUT Y1\n"
                           "END\n");
    for (unsigned v = 0; v < 128; v++) {
        int x[7];
        for (int i = 0; i < 7; i++) {
            x[i] = (v >> i) & 1;
            mem.x[i] = (uint8_t)x[i];
        }
        scan(p, 10);
        ck_assert_int_eq(mem.y[0], x[0] && x[1]);
        ck_assert_int_eq(mem.y[4], x[0] && x[2] && x[4]);
        ck_assert_int_eq(mem.y[5], x[0] && x[2] && !x[4]);
        ck_assert_int_eq(mem.y[6], x[0] && (x[5] || x[6]));
        ck_assert_int_eq(mem.y[1], x[0] && x[3]);
    }
    fxil_free(p);
}
END_TEST

START_TEST(test_set_rst_priority)
{
    /* The later instruction in the program wins within a scan. */
    fxil_program *p = load("LD X0\nSET M0\nLD X1\nRST M0\n"
                           "LD X1\nRST M1\nLD X0\nSET M1\nEND\n");
    mem.x[0] = 1;
    scan(p, 10);
    ck_assert_int_eq(mem.m[0], 1);
    ck_assert_int_eq(mem.m[1], 1);
    mem.x[0] = 0;
    scan(p, 10);
    ck_assert_int_eq(mem.m[0], 1); /* SET holds */
    mem.x[0] = 1;
    mem.x[1] = 1;
    scan(p, 10);
    ck_assert_int_eq(mem.m[0], 0); /* RST after SET */
    ck_assert_int_eq(mem.m[1], 1); /* SET after RST */
    fxil_free(p);
}
END_TEST

START_TEST(test_pls_plf)
{
    fxil_program *p = load("LD X0\nPLS M0\nLD X0\nPLF M1\nEND\n");
    int on0 = 0, on1 = 0;
    int seq[] = {0, 1, 1, 1, 0, 0, 1, 0};
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        int prev = i ? seq[i - 1] : 0;
        mem.x[0] = (uint8_t)seq[i];
        scan(p, 10);
        /* on for exactly the scan where the drive rises / falls */
        ck_assert_int_eq(mem.m[0], seq[i] && !prev);
        ck_assert_int_eq(mem.m[1], !seq[i] && prev);
        on0 += mem.m[0];
        on1 += mem.m[1];
    }
    ck_assert_int_eq(on0, 2);
    ck_assert_int_eq(on1, 2);
    fxil_free(p);
}
END_TEST

START_TEST(test_edge_contacts)
{
    /* LDP/LDF, ANDP, ORF: one-scan pulses on the device's edges. */
    fxil_program *p = load("LDP X0\nOUT M0\nLDF X0\nOUT M1\nLD X1\nANDP X0\nOUT M2\n"
                           "LD X2\nORF X0\nOUT M3\nEND\n");
    mem.x[1] = 1;
    mem.x[0] = 1;
    scan(p, 10);
    ck_assert_int_eq(mem.m[0], 1);
    ck_assert_int_eq(mem.m[2], 1);
    ck_assert_int_eq(mem.m[1], 0);
    ck_assert_int_eq(mem.m[3], 0);
    scan(p, 10);
    ck_assert_int_eq(mem.m[0], 0);
    ck_assert_int_eq(mem.m[2], 0);
    mem.x[0] = 0;
    scan(p, 10);
    ck_assert_int_eq(mem.m[1], 1);
    ck_assert_int_eq(mem.m[3], 1);
    scan(p, 10);
    ck_assert_int_eq(mem.m[1], 0);
    ck_assert_int_eq(mem.m[3], 0);
    fxil_free(p);
}
END_TEST

START_TEST(test_ldp_first_scan)
{
    /* Edge memories start cleared at RUN: LDP M8000 pulses on the first scan. */
    fxil_program *p = load("LDP M8000\nOUT M0\nEND\n");
    scan(p, 10);
    ck_assert_int_eq(mem.m[0], 1);
    scan(p, 10);
    ck_assert_int_eq(mem.m[0], 0);
    fxil_restart(p);
    scan(p, 10);
    ck_assert_int_eq(mem.m[0], 1);
    fxil_free(p);
}
END_TEST

/* -------------------------------------------------------------- timers */

START_TEST(test_timer_100ms)
{
    fxil_program *p = load("LD X0\nOUT T0 K5\nLD X1\nRST T0\nEND\n");
    mem.x[0] = 1;
    /* 10 ms scans: the 100 ms clock ticks at 100, 200, ... ms of virtual time. */
    for (int i = 1; i <= 49; i++) scan(p, 10);
    ck_assert_int_eq(mem.tn[0], 4);
    ck_assert_int_eq(mem.ts[0], 0);
    scan(p, 10); /* t = 500 ms */
    ck_assert_int_eq(mem.tn[0], 5);
    ck_assert_int_eq(mem.ts[0], 1);
    for (int i = 0; i < 20; i++) scan(p, 10);
    ck_assert_int_eq(mem.tn[0], 5); /* stops at the set value */
    ck_assert_int_eq(mem.ts[0], 1);
    mem.x[0] = 0; /* coil off: value and contact reset */
    scan(p, 10);
    ck_assert_int_eq(mem.tn[0], 0);
    ck_assert_int_eq(mem.ts[0], 0);
    /* RST while the coil stays on: resets, then counts again */
    mem.x[0] = 1;
    for (int i = 0; i < 30; i++) scan(p, 10);
    ck_assert_int_eq(mem.tn[0], 3);
    mem.x[1] = 1;
    scan(p, 10);
    ck_assert_int_eq(mem.tn[0], 0);
    ck_assert_int_eq(mem.ts[0], 0);
    mem.x[1] = 0;
    for (int i = 0; i < 50; i++) scan(p, 10);
    ck_assert_int_eq(mem.ts[0], 1);
    fxil_free(p);
}
END_TEST

START_TEST(test_timer_10ms)
{
    fxil_program *p = load("LD X0\nOUT T200 K50\nLD X0\nOUT T1 K5\nEND\n");
    mem.x[0] = 1;
    for (int i = 1; i <= 49; i++) scan(p, 10);
    ck_assert_int_eq(mem.tn[200], 49); /* 10 ms resolution */
    ck_assert_int_eq(mem.tn[1], 4);    /* 100 ms resolution */
    ck_assert_int_eq(mem.ts[200], 0);
    scan(p, 10);
    ck_assert_int_eq(mem.ts[200], 1);
    ck_assert_int_eq(mem.ts[1], 1);
    mem.x[0] = 0;
    scan(p, 10);
    ck_assert_int_eq(mem.tn[200], 0);
    /* Irregular 3 ms scans: counts the 10 ms ticks that occurred. */
    fxil_restart(p);
    mem.x[0] = 1;
    for (int i = 0; i < 33; i++) scan(p, 3); /* t = 99 ms */
    ck_assert_int_eq(mem.tn[200], 9);
    scan(p, 3); /* t = 102 ms */
    ck_assert_int_eq(mem.tn[200], 10);
    /* One long scan of 1 s: 100 ticks, capped at the set value. */
    scan(p, 1000);
    ck_assert_int_eq(mem.tn[200], 50);
    ck_assert_int_eq(mem.ts[200], 1);
    fxil_free(p);
}
END_TEST

START_TEST(test_timer_retentive)
{
    /* T250-T255: 100 ms retentive; T246-T249: 1 ms retentive. */
    fxil_program *p = load("LD X0\nOUT T250 K5\nLD X0\nOUT T246 K250\nLD X1\nRST T250\nEND\n");
    mem.x[0] = 1;
    for (int i = 0; i < 30; i++) scan(p, 10);
    ck_assert_int_eq(mem.tn[250], 3);
    ck_assert_int_eq(mem.tn[246], 250); /* 300 ticks of 1 ms, capped */
    ck_assert_int_eq(mem.ts[246], 1);
    mem.x[0] = 0;
    for (int i = 0; i < 30; i++) scan(p, 10);
    ck_assert_int_eq(mem.tn[250], 3); /* kept while the coil is off */
    mem.x[0] = 1;
    for (int i = 0; i < 20; i++) scan(p, 10);
    ck_assert_int_eq(mem.tn[250], 5);
    ck_assert_int_eq(mem.ts[250], 1);
    mem.x[0] = 0;
    mem.x[1] = 1;
    scan(p, 10);
    ck_assert_int_eq(mem.tn[250], 0);
    ck_assert_int_eq(mem.ts[250], 0);
    fxil_free(p);
}
END_TEST

/* ------------------------------------------------------------ counters */

START_TEST(test_counter)
{
    fxil_program *p = load("LD X0\nOUT C0 K3\nLD X1\nRST C0\nLD C0\nOUT Y0\nEND\n");
    for (int k = 1; k <= 5; k++) {
        mem.x[0] = 1;
        scan(p, 10);
        scan(p, 10); /* held on: counts once */
        mem.x[0] = 0;
        scan(p, 10);
        ck_assert_int_eq(mem.cn[0], k < 3 ? k : 3); /* stops at the set value */
        ck_assert_int_eq(mem.cs[0], k >= 3);
        ck_assert_int_eq(mem.y[0], k >= 3);
    }
    mem.x[1] = 1;
    scan(p, 10);
    ck_assert_int_eq(mem.cn[0], 0);
    ck_assert_int_eq(mem.cs[0], 0);
    ck_assert_int_eq(mem.y[0], 0);
    /* while RST (later in the program) is on, edges do not count */
    mem.x[0] = 1;
    scan(p, 10);
    ck_assert_int_eq(mem.cn[0], 0);
    mem.x[0] = 0;
    mem.x[1] = 0;
    scan(p, 10);
    mem.x[0] = 1;
    scan(p, 10);
    ck_assert_int_eq(mem.cn[0], 1);
    fxil_free(p);
}
END_TEST

/* --------------------------------------------------------------- words */

START_TEST(test_kn_words)
{
    fxil_program *p = load("LD M8000\nMOV K4X0 D0\nMOV D1 K4Y0\nMOV K2M100 D5\nMOV D2 K1Y20\n"
                           "MOV K4X20 D3\nMOV H1234 K3M200\nEND\n");
    mem.x[0] = mem.x[3] = mem.x[8] = mem.x[15] = 1; /* X0 X3 X10 X17 */
    mem.x[16] = 1;                                  /* X20 */
    mem.d[1] = 0xA5C3;
    for (int i = 100; i < 116; i++) mem.m[i] = 1;
    mem.d[2] = 0xFFF5;
    mem.y[024] = 1; /* Y24: outside K1Y20, must stay */
    scan(p, 10);
    ck_assert_uint_eq(mem.d[0], 0x8109);
    ck_assert_uint_eq(yword(), 0xA5C3);
    ck_assert_int_eq(mem.y[8], 1); /* Y10 = bit 8 */
    ck_assert_uint_eq(mem.d[5], 0x00FF); /* K2: 8 bits, zero-extended */
    ck_assert_int_eq(mem.y[020], 1);
    ck_assert_int_eq(mem.y[021], 0);
    ck_assert_int_eq(mem.y[022], 1);
    ck_assert_int_eq(mem.y[023], 0);
    ck_assert_int_eq(mem.y[024], 1);
    ck_assert_uint_eq(mem.d[3], 0x0001);
    /* K3M200: 12 bits of H1234 -> H234 */
    unsigned v = 0;
    for (int i = 0; i < 16; i++) v |= (unsigned)mem.m[200 + i] << i;
    ck_assert_uint_eq(v, 0x234);
    fxil_free(p);
}
END_TEST

START_TEST(test_cmp_zcp)
{
    fxil_program *p = load("LD X0\nCMP D0 D1 M0\nZCP K-10 K10 D2 M10\nEND\n");
    struct {
        int16_t d0, d1, d2;
        int gt, eq, lt, below, in, above;
    } cases[] = {
        {-5, 3, -11, 0, 0, 1, 1, 0, 0},
        {3, 3, -10, 0, 1, 0, 0, 1, 0},
        {100, 3, 10, 1, 0, 0, 0, 1, 0},
        {-32768, 32767, 11, 0, 0, 1, 0, 0, 1}, /* signed comparison */
    };
    mem.x[0] = 1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mem.d[0] = (uint16_t)cases[i].d0;
        mem.d[1] = (uint16_t)cases[i].d1;
        mem.d[2] = (uint16_t)cases[i].d2;
        scan(p, 10);
        ck_assert_int_eq(mem.m[0], cases[i].gt);
        ck_assert_int_eq(mem.m[1], cases[i].eq);
        ck_assert_int_eq(mem.m[2], cases[i].lt);
        ck_assert_int_eq(mem.m[10], cases[i].below);
        ck_assert_int_eq(mem.m[11], cases[i].in);
        ck_assert_int_eq(mem.m[12], cases[i].above);
    }
    /* drive off: the result bits hold */
    mem.x[0] = 0;
    mem.d[0] = 0;
    mem.d[1] = 0;
    scan(p, 10);
    ck_assert_int_eq(mem.m[2], 1);
    ck_assert_int_eq(mem.m[12], 1);
    fxil_free(p);
}
END_TEST

START_TEST(test_add_sub_wrap)
{
    fxil_program *p = load("LD M8000\nADD D0 D1 D2\nSUB D3 D4 D5\nINC D6\nDEC D7\nEND\n");
    mem.d[0] = 32767;
    mem.d[1] = 1;
    mem.d[3] = (uint16_t)-32768;
    mem.d[4] = 1;
    mem.d[6] = 32767;
    mem.d[7] = (uint16_t)-32768;
    scan(p, 10);
    ck_assert_int_eq((int16_t)mem.d[2], -32768); /* 32767 + 1 wraps */
    ck_assert_int_eq((int16_t)mem.d[5], 32767);  /* -32768 - 1 wraps */
    ck_assert_int_eq(mem.m[8021], 1); /* borrow from the SUB, the later instruction */
    ck_assert_int_eq(mem.m[8022], 0);
    ck_assert_int_eq((int16_t)mem.d[6], -32768);
    ck_assert_int_eq((int16_t)mem.d[7], 32767);
    fxil_free(p);

    p = load("LD M8000\nADD D0 D1 D2\nEND\n");
    mem.d[0] = 32767;
    mem.d[1] = 1;
    scan(p, 10);
    ck_assert_int_eq(mem.m[8022], 1); /* carry */
    ck_assert_int_eq(mem.m[8020], 0);
    mem.d[0] = 5;
    mem.d[1] = (uint16_t)-5;
    scan(p, 10);
    ck_assert_int_eq(mem.d[2], 0);
    ck_assert_int_eq(mem.m[8020], 1); /* zero */
    ck_assert_int_eq(mem.m[8022], 0);
    mem.d[0] = (uint16_t)-300;
    mem.d[1] = 100;
    scan(p, 10);
    ck_assert_int_eq((int16_t)mem.d[2], -200);
    fxil_free(p);
}
END_TEST

START_TEST(test_wand_wor_zrst)
{
    fxil_program *p = load("LD X0\nWAND D0 HFF0F D1\nWOR D0 H00F0 D2\nLD X1\nZRST M10 M12\n"
                           "ZRST D10 D11\nZRST T3 T4\nZRST Y1 Y2\nEND\n");
    mem.d[0] = 0x1234;
    mem.x[0] = 1;
    scan(p, 10);
    ck_assert_uint_eq(mem.d[1], 0x1204);
    ck_assert_uint_eq(mem.d[2], 0x12F4);
    for (int i = 9; i <= 13; i++) mem.m[i] = 1;
    mem.d[10] = mem.d[11] = mem.d[12] = 7;
    mem.tn[3] = mem.tn[4] = 9;
    mem.ts[3] = 1;
    mem.y[1] = mem.y[2] = mem.y[3] = 1;
    mem.x[1] = 1;
    scan(p, 10);
    ck_assert_int_eq(mem.m[9], 1);
    ck_assert_int_eq(mem.m[10] + mem.m[11] + mem.m[12], 0);
    ck_assert_int_eq(mem.m[13], 1);
    ck_assert_int_eq(mem.d[10] + mem.d[11], 0);
    ck_assert_int_eq(mem.d[12], 7);
    ck_assert_int_eq(mem.tn[3] + mem.tn[4] + mem.ts[3], 0);
    ck_assert_int_eq(mem.y[1] + mem.y[2], 0);
    ck_assert_int_eq(mem.y[3], 1);
    fxil_free(p);
}
END_TEST

START_TEST(test_pulse_forms)
{
    /* P forms run once per rising edge of their drive. */
    fxil_program *p = load("LD X0\nMOVP D0 D1\nINCP D2\nDECP D3\nINC D4\nEND\n");
    mem.d[0] = 5;
    mem.x[0] = 1;
    for (int i = 0; i < 5; i++) scan(p, 10);
    ck_assert_int_eq(mem.d[1], 5);
    ck_assert_int_eq(mem.d[2], 1);
    ck_assert_int_eq((int16_t)mem.d[3], -1);
    ck_assert_int_eq(mem.d[4], 5);
    mem.d[0] = 9;
    scan(p, 10);
    ck_assert_int_eq(mem.d[1], 5); /* no new edge: not moved */
    mem.x[0] = 0;
    scan(p, 10);
    mem.x[0] = 1;
    scan(p, 10);
    ck_assert_int_eq(mem.d[1], 9);
    ck_assert_int_eq(mem.d[2], 2);
    fxil_free(p);
}
END_TEST

START_TEST(test_from_to)
{
    fxil_program *p = load("LD M8000\nFROM K2 K5 D10 K3\nTO K3 K0 D20 K2\nTO K3 K2 K-7 K2\n"
                           "FROM K4 K0 K2M0 K2\nEND\n");
    ck_assert_int_eq(fxil_block_write(p, 2, 5, 1234), 0);
    ck_assert_int_eq(fxil_block_write(p, 2, 6, 0xFFFF), 0);
    ck_assert_int_eq(fxil_block_write(p, 2, 7, 42), 0);
    ck_assert_int_eq(fxil_block_write(p, 4, 0, 0x0081), 0);
    ck_assert_int_eq(fxil_block_write(p, 4, 1, 0x0003), 0);
    ck_assert_int_eq(fxil_block_write(p, 8, 0, 1), FXIL_ERANGE);
    ck_assert_int_eq(fxil_block_write(p, 0, 32, 1), FXIL_ERANGE);
    mem.d[20] = 11;
    mem.d[21] = 22;
    scan(p, 10);
    ck_assert_uint_eq(mem.d[10], 1234);
    ck_assert_uint_eq(mem.d[11], 0xFFFF);
    ck_assert_uint_eq(mem.d[12], 42);
    uint16_t v;
    ck_assert_int_eq(fxil_block_read(p, 3, 0, &v), 0);
    ck_assert_uint_eq(v, 11);
    ck_assert_int_eq(fxil_block_read(p, 3, 1, &v), 0);
    ck_assert_uint_eq(v, 22);
    ck_assert_int_eq(fxil_block_read(p, 3, 3, &v), 0);
    ck_assert_int_eq((int16_t)v, -7);
    ck_assert_uint_eq(fxil_blocks_of(p)->bfm[3][2], (uint16_t)-7);
    /* two K2M0 groups: M0-M7 then M8-M15 */
    ck_assert_int_eq(mem.m[0], 1);
    ck_assert_int_eq(mem.m[7], 1);
    ck_assert_int_eq(mem.m[8], 1);
    ck_assert_int_eq(mem.m[9], 1);
    ck_assert_int_eq(mem.m[10], 0);
    fxil_free(p);
}
END_TEST

/* ------------------------------------------------------ special devices */

START_TEST(test_first_scan_flags)
{
    fxil_program *p = load("LD M8002\nOUT M0\nLD M8003\nOUT M1\nLD M8000\nOUT M2\nLD M8001\n"
                           "OUT M3\nLD M8002\nINC D0\nEND\n");
    scan(p, 10);
    ck_assert_int_eq(mem.m[0], 1);
    ck_assert_int_eq(mem.m[1], 0);
    ck_assert_int_eq(mem.m[2], 1);
    ck_assert_int_eq(mem.m[3], 0);
    for (int i = 0; i < 10; i++) {
        scan(p, 10);
        ck_assert_int_eq(mem.m[0], 0);
        ck_assert_int_eq(mem.m[1], 1);
    }
    ck_assert_int_eq(mem.d[0], 1); /* M8002 on the first scan only */
    fxil_free(p);
}
END_TEST

START_TEST(test_clocks)
{
    fxil_program *p = load("LD M8011\nOUT M0\nLD M8012\nOUT M1\nLD M8013\nOUT M2\nEND\n");
    int prev[3] = {-1, -1, -1}, changes[3] = {0, 0, 0}, on[3] = {0, 0, 0};
    for (int t = 0; t < 2000; t++) { /* 2 s of 1 ms scans */
        scan(p, 1);
        for (int k = 0; k < 3; k++) {
            if (prev[k] >= 0 && mem.m[k] != prev[k]) changes[k]++;
            prev[k] = mem.m[k];
            on[k] += mem.m[k];
        }
    }
    ck_assert_int_eq(on[0], 1000); /* 50 % duty */
    ck_assert_int_eq(on[1], 1000);
    ck_assert_int_eq(on[2], 1000);
    ck_assert_int_eq(changes[0], 400); /* a change every 5 ms: t = 5, 10, ... 2000 */
    ck_assert_int_eq(changes[1], 40);  /* every 50 ms */
    ck_assert_int_eq(changes[2], 4);   /* every 500 ms */
    fxil_free(p);
}
END_TEST

START_TEST(test_scan_time_registers)
{
    fxil_program *p = load("LD M8000\nMOV D8012 D0\nEND\n");
    scan(p, 10);
    ck_assert_uint_eq(mem.d[8010], 100); /* 10 ms = 100 x 0.1 ms */
    ck_assert_uint_eq(mem.d[8011], 100);
    ck_assert_uint_eq(mem.d[8012], 100);
    scan(p, 20);
    scan(p, 5);
    ck_assert_uint_eq(mem.d[8010], 50);
    ck_assert_uint_eq(mem.d[8011], 50);
    ck_assert_uint_eq(mem.d[8012], 200);
    ck_assert_uint_eq(mem.d[0], 200);
    ck_assert_uint_eq(fxil_now_ms(p), 35);
    fxil_free(p);
}
END_TEST

/* ------------------------------------------------------ loading, steps */

START_TEST(test_steps)
{
    /* One of each step size (see the table in sim/fxil.c): 92 steps. */
    fxil_program *p = load("LD X0\nAND M8000\nLDP X1\nORB\nOUT Y0\nOUT M8200\nOUT S0\n"
                           "OUT T0 K10\nOUT C0 K5\nSET M0\nSET S1\nRST T0\nRST C0\nRST D0\n"
                           "PLS M1\nMOV K1 D0\nCMP D0 K1 M10\nZCP K0 K9 D0 M20\nADD D0 D1 D2\n"
                           "INC D0\nWAND D0 H0F D1\nZRST M30 M40\nFROM K0 K0 D10 K1\n"
                           "TOP K0 K1 D10 K1\nNOP\nEND\n");
    ck_assert_uint_eq(fxil_steps(p), 92);
    ck_assert_uint_eq(fxil_count(p), 26);
    char buf[64];
    unsigned step, line;
    ck_assert_int_eq(fxil_format(p, 2, buf, sizeof buf, &step, &line), 0);
    ck_assert_str_eq(buf, "LDP X1");
    ck_assert_uint_eq(step, 3);
    ck_assert_uint_eq(line, 3);
    ck_assert_int_eq(fxil_format(p, 25, buf, sizeof buf, &step, &line), 0);
    ck_assert_str_eq(buf, "END");
    ck_assert_uint_eq(step, 91);
    ck_assert_int_eq(fxil_format(p, 26, buf, sizeof buf, &step, &line), FXIL_EINVAL);
    ck_assert_int_eq(fxil_format(p, 0, buf, 3, &step, &line), FXIL_ERANGE);
    fxil_free(p);
}
END_TEST

START_TEST(test_format_canonical)
{
    /* Lower case, leading zeros as GX Developer shows them, comments, CRLF. */
    fxil_program *p = load("; header\r\n\r\n  ld  x017 ; comment\r\nout t0 k5\r\n"
                           "ld m8000\r\nwand k4y000 he030 k4y0\r\nmov k-5 d1\r\nend\r\n");
    char buf[64];
    const char *want[] = {"LD X17", "OUT T0 K5", "LD M8000", "WAND K4Y0 HE030 K4Y0", "MOV K-5 D1",
                          "END"};
    for (size_t i = 0; i < 6; i++) {
        ck_assert_int_eq(fxil_format(p, i, buf, sizeof buf, NULL, NULL), 0);
        ck_assert_str_eq(buf, want[i]);
    }
    fxil_free(p);
}
END_TEST

typedef struct {
    const char *src;
    int code;
    const char *expect; /* substring of the message */
} bad_prog;

static const bad_prog bad_progs[] = {
    {"LD X0\nFOO Y0\nEND\n", FXIL_ESYNTAX, "t.il:2: unknown instruction 'FOO'"},
    {"LD X0\nOUT Y0 Y1\nEND\n", FXIL_EOPERAND, "t.il:2: OUT takes 1 operand, not 2"},
    {"LD X0\nAND\nOUT Y0\nEND\n", FXIL_EOPERAND, "t.il:2: AND takes 1 operand, not 0"},
    {"LD X8\nOUT Y0\nEND\n", FXIL_EOCTAL, "t.il:1: operand 1 'X8': X and Y numbers are octal"},
    {"LD X0\nOUT Y19\nEND\n", FXIL_EOCTAL, "t.il:2: operand 1 'Y19'"},
    {"LD M8000\nMOV K1 D9000\nEND\n", FXIL_ERANGE,
     "t.il:2: MOV operand 2 'D9000' (column 8): outside the FX1N range (D0-D7999, D8000-D8255)"},
    {"LD X200\nOUT Y0\nEND\n", FXIL_ERANGE, "t.il:1: LD operand 1 'X200'"},
    {"LD M1536\nOUT Y0\nEND\n", FXIL_ERANGE, "M0-M1535, M8000-M8255"},
    {"LD M8000\nOUT S1000\nEND\n", FXIL_ERANGE, "S0-S999"},
    {"LD M8000\nOUT T256 K1\nEND\n", FXIL_ERANGE, "T0-T255"},
    {"LD X0\nOUT Y0\n", FXIL_ENOEND, "t.il:2: missing END"},
    {"LD X0\nOUT Y0\nEND\nLD X1\nOUT Y1\n", FXIL_ENOEND, "t.il:4: instruction after END (line 3)"},
    {"LD X0\nMPS\nAND X1\nOUT Y0\nLD X2\nOUT Y1\nEND\n", FXIL_ESTRUCT,
     "t.il:5: MPS at line 2 is left open at the end of its rung"},
    {"LD X0\nMPS\nAND X1\nOUT Y0\nEND\n", FXIL_ESTRUCT, "t.il:5: MPS at line 2 is left open at END"},
    {"LD X0\nMPP\nOUT Y0\nEND\n", FXIL_ESTRUCT, "t.il:2: MPP without a matching MPS"},
    {"LD X0\nMRD\nOUT Y0\nEND\n", FXIL_ESTRUCT, "t.il:2: MRD without a matching MPS"},
    {"LD X0\nMPS\nMPS\nMPS\nMPS\nMPS\nMPS\nMPS\nMPS\nMPS\nMPS\nMPS\nMPS\nEND\n", FXIL_ESTRUCT,
     "t.il:13: MPS nested deeper than 11 levels"},
    {"LD X0\nANB\nOUT Y0\nEND\n", FXIL_ESTRUCT, "t.il:2: ANB needs two blocks"},
    {"LD X0\nOUT Y0\nORB\nOUT Y1\nEND\n", FXIL_ESTRUCT, "t.il:3: ORB needs two blocks"},
    {"OUT Y0\nEND\n", FXIL_ESTRUCT, "t.il:1: OUT without a preceding LD/LDI"},
    {"; c\nMOV K1 D0\nEND\n", FXIL_ESTRUCT, "t.il:2: MOV without a preceding LD/LDI"},
    {"AND X0\nOUT Y0\nEND\n", FXIL_ESTRUCT, "t.il:1: AND without a preceding LD/LDI"},
    {"LD X0\nLD X1\nOUT Y0\nEND\n", FXIL_ESTRUCT,
     "t.il:3: OUT: the block started by LD at line 2 is not joined"},
    {"LD X0\nEND\n", FXIL_ESTRUCT, "t.il:2: the rung starting at line 1 has no output"},
    {"LD X0\nMPS\nLD X1\nMPP\nOUT Y0\nEND\n", FXIL_ESTRUCT, "t.il:4: MPP: the block started by LD at line 3"},
    {"LD X0\nOUT T0\nEND\n", FXIL_EOPERAND, "needs a set value"},
    {"LD X0\nOUT T0 K40000\nEND\n", FXIL_ERANGE, "t.il:2: operand 2 'K40000'"},
    {"LD X0\nOUT T0 K-1\nEND\n", FXIL_ERANGE, "the set value must be 0..32767"},
    {"LD X0\nOUT Y0 K5\nEND\n", FXIL_EOPERAND, "OUT takes 1 operand, not 2"},
    {"LD M8000\nMOV K5X0 D0\nEND\n", FXIL_ERANGE, "K5 is a 32-bit group"},
    {"LD M8000\nMOV K4X170 D0\nEND\n", FXIL_ERANGE, "reaches X207, outside the FX1N range"},
    {"LD M8000\nMOV D0 K4X0\nEND\n", FXIL_EOPERAND, "expected a word destination"},
    {"LD M8000\nMOV K1 K2\nEND\n", FXIL_EOPERAND, "expected a word destination"},
    {"LD M8000\nMOV Y0 D0\nEND\n", FXIL_EOPERAND, "expected a word source"},
    {"LD M8000\nCMP D0 D1 M1534\nEND\n", FXIL_ERANGE, "reaches M1536"},
    {"LD M8000\nCMP D0 D1 D2\nEND\n", FXIL_EOPERAND, "expected an output bit"},
    {"LD M8000\nFROM K8 K0 D0 K1\nEND\n", FXIL_ERANGE, "the unit number must be 0..7"},
    {"LD M8000\nFROM K0 K30 D0 K4\nEND\n", FXIL_ERANGE, "BFM#30..#33"},
    {"LD M8000\nFROM K0 K0 D7998 K4\nEND\n", FXIL_ERANGE, "reaches D8001"},
    {"LD M8000\nFROM D0 K0 D0 K1\nEND\n", FXIL_EOPERAND, "expected a constant"},
    {"LD X0\nOUT C200 K5\nEND\n", FXIL_EUNSUP, "32-bit counters C200-C255"},
    {"LD M8000\nDMOV D0 D2\nEND\n", FXIL_EUNSUP, "32-bit instruction 'DMOV'"},
    {"LD M8000\nMOV V0 D2\nEND\n", FXIL_EUNSUP, "V devices are not supported"},
    {"LD X0\nOUT Y0\x01\nEND\n", FXIL_ESYNTAX, "t.il:2: unexpected character 0x01"},
    {"LD X0\nPLS M8000\nEND\n", FXIL_EOPERAND, "special M cannot be driven"},
    {"LD X0\nZRST M0 D5\nEND\n", FXIL_EOPERAND, "two devices of the same kind"},
    {"LD X0\nZRST M1530 M8001\nEND\n", FXIL_ERANGE, "crosses a gap"},
    {"LD X0\nOUT Q0\nEND\n", FXIL_ESYNTAX, "not a device"},
    {"LD X0\nOUT M1x\nEND\n", FXIL_ESYNTAX, "not a device number"},
    {"LD M8000\nMOV K1.5 D0\nEND\n", FXIL_ESYNTAX, "not a decimal constant"},
    {"LD M8000\nMOV H10000 D0\nEND\n", FXIL_ERANGE, "outside H0..HFFFF"},
    {"LD M8000\nMOV HXY D0\nEND\n", FXIL_ESYNTAX, "not a hex constant"},
    {"LD M8000\nMOV K4Q0 D0\nEND\n", FXIL_EOPERAND, "a Kn group needs X, Y, M or S"},
    {"LD M8000\nMOV K4X D0\nEND\n", FXIL_ESYNTAX, "t.il:2: operand 1 'K4X': not a device"},
    {"LD M8000\nFROM K0 K0 D0 K1 K2\nEND\n", FXIL_EOPERAND, "too many operands"},
    {"LD X0\nOUT Y0\0\nEND\n", FXIL_ESYNTAX, "t.il:2: NUL byte"},
};

START_TEST(test_errors)
{
    const bad_prog *b = &bad_progs[_i];
    char msg[512];
    fxil_program *p = (fxil_program *)1;
    /* embedded NULs: the one test with a NUL has it before "\nEND\n" */
    size_t len = strlen(b->src);
    if (strstr(b->expect, "NUL")) len += 5;
    int rc = fxil_load_buffer("t.il", b->src, len, &p, msg, sizeof msg);
    ck_assert_msg(rc == b->code, "case %d: rc %d (%s), want %d", _i, rc, msg, b->code);
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(msg, b->expect) != NULL, "case %d: message '%s' lacks '%s'", _i, msg,
                  b->expect);
    ck_assert_msg(strncmp(msg, "t.il:", 5) == 0, "case %d: '%s' does not start with the file", _i,
                  msg);
    ck_assert_str_ne(fxil_strerror(rc), "unknown fxil error");
}
END_TEST

START_TEST(test_too_many_steps)
{
    /* 1600 MOVs of 5 steps + LD M8000 (2) + END (1) = 8003 steps. */
    size_t cap = 16 + 1600 * 12 + 8;
    char *src = malloc(cap);
    ck_assert_ptr_nonnull(src);
    size_t n = (size_t)sprintf(src, "LD M8000\n");
    for (int i = 0; i < 1600; i++) n += (size_t)sprintf(src + n, "MOV K1 D0\n");
    n += (size_t)sprintf(src + n, "END\n");
    char msg[256];
    fxil_program *p = NULL;
    int rc = fxil_load_buffer("big.il", src, n, &p, msg, sizeof msg);
    ck_assert_int_eq(rc, FXIL_ESTEPS);
    ck_assert_msg(strstr(msg, "big.il:1602: program has 8003 steps; the FX1N holds 8000"), "%s", msg);
    /* One MOV fewer fits: 7998 steps. */
    n = (size_t)sprintf(src, "LD M8000\n");
    for (int i = 0; i < 1599; i++) n += (size_t)sprintf(src + n, "MOV K1 D0\n");
    n += (size_t)sprintf(src + n, "END\n");
    rc = fxil_load_buffer("big.il", src, n, &p, msg, sizeof msg);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(fxil_steps(p), 7998);
    fxil_free(p);
    free(src);

    /* More instructions than steps: refused while parsing. */
    src = malloc(8001 * 4 + 8);
    ck_assert_ptr_nonnull(src);
    n = 0;
    for (int i = 0; i < 8001; i++) n += (size_t)sprintf(src + n, "NOP\n");
    rc = fxil_load_buffer("nop.il", src, n, &p, msg, sizeof msg);
    ck_assert_int_eq(rc, FXIL_ESTEPS);
    ck_assert_msg(strstr(msg, "nop.il:8001:"), "%s", msg);
    free(src);
}
END_TEST

START_TEST(test_api_misuse)
{
    char msg[128];
    fxil_program *p = NULL;
    const char *src = "LD X0\nOUT Y0\n"; /* no END: parses, fails the check */
    ck_assert_int_eq(fxil_parse_buffer("t.il", src, strlen(src), &p, msg, sizeof msg), 0);
    ck_assert_int_eq(fxil_scan(p, &mem, 10), FXIL_EINVAL); /* unchecked */
    ck_assert_int_eq(fxil_check(p, msg, sizeof msg), FXIL_ENOEND);
    ck_assert_int_eq(fxil_scan(p, &mem, 10), FXIL_EINVAL);
    ck_assert_uint_eq(fxil_steps(p), 0);
    fxil_free(p);
    ck_assert_int_eq(fxil_scan(NULL, &mem, 10), FXIL_EINVAL);
    ck_assert_int_eq(fxil_load_buffer("t", NULL, 5, &p, msg, sizeof msg), FXIL_EINVAL);
    ck_assert_int_eq(fxil_load_file("/nonexistent/x.il", &p, msg, sizeof msg), FXIL_EIO);
    ck_assert_msg(strstr(msg, "/nonexistent/x.il: ") == msg, "%s", msg);
    /* empty program text: no END */
    ck_assert_int_eq(fxil_load_buffer("e.il", "", 0, &p, msg, sizeof msg), FXIL_ENOEND);
    /* NULL message buffer is allowed */
    ck_assert_int_eq(fxil_load_buffer("e.il", "", 0, &p, NULL, 0), FXIL_ENOEND);
    fxil_free(NULL);
}
END_TEST

static Suite *fxil_suite(void)
{
    Suite *s = suite_create("fxil");
    TCase *tc = tcase_create("instructions");
    tcase_add_test(tc, test_self_hold);
    tcase_add_test(tc, test_anb_orb);
    tcase_add_test(tc, test_mps_branches);
    tcase_add_test(tc, test_set_rst_priority);
    tcase_add_test(tc, test_pls_plf);
    tcase_add_test(tc, test_edge_contacts);
    tcase_add_test(tc, test_ldp_first_scan);
    tcase_add_test(tc, test_timer_100ms);
    tcase_add_test(tc, test_timer_10ms);
    tcase_add_test(tc, test_timer_retentive);
    tcase_add_test(tc, test_counter);
    tcase_add_test(tc, test_kn_words);
    tcase_add_test(tc, test_cmp_zcp);
    tcase_add_test(tc, test_add_sub_wrap);
    tcase_add_test(tc, test_wand_wor_zrst);
    tcase_add_test(tc, test_pulse_forms);
    tcase_add_test(tc, test_from_to);
    tcase_add_test(tc, test_first_scan_flags);
    tcase_add_test(tc, test_clocks);
    tcase_add_test(tc, test_scan_time_registers);
    suite_add_tcase(s, tc);
    TCase *tl = tcase_create("loading");
    tcase_add_test(tl, test_steps);
    tcase_add_test(tl, test_format_canonical);
    tcase_add_loop_test(tl, test_errors, 0, (int)(sizeof bad_progs / sizeof bad_progs[0]));
    tcase_add_test(tl, test_too_many_steps);
    tcase_add_test(tl, test_api_misuse);
    suite_add_tcase(s, tl);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fxil_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
