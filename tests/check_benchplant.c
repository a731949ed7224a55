/*
 * check_benchplant.c — the bench plant (sim/benchplant.c): first on its own,
 * refreshed by hand as plcsim would (output refresh, then the input refresh
 * of the next scan), then inside the simulated PLC with the shipped program
 * docs/plc/crossclimb.il, without sockets.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plc_bridge/regmap.h"
#include "sim/benchplant.h"
#include "sim/fxil.h"
#include "sim/plcsim.h"

static fxmem mem;
static fxil_program *prog;
static benchplant bp;
static benchplant_config cfg;

/* X0-X37 as the plant left them, bit n = X octal n (CC_X_*). */
static uint32_t xw(void)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < 32; i++) v |= (uint32_t)mem.x[i] << i;
    return v;
}

static uint16_t bfm(unsigned unit, unsigned n)
{
    uint16_t v = 0;
    ck_assert_int_eq(fxil_block_read(prog, unit, n, &v), 0);
    return v;
}

/* Output refresh with Y0-Y17 = y, as the program would leave them. */
static void drive(uint16_t y)
{
    for (unsigned i = 0; i < 16; i++) mem.y[i] = (uint8_t)((y >> i) & 1u);
    benchplant_output(&bp, &mem, 0);
}

/* Input refresh at virtual time t, ms. */
static void at(uint64_t t)
{
    benchplant_input(&bp, &mem, t);
}

/* A program only to own the analog blocks: the plant is tested alone. */
static void load_tiny(void)
{
    static const char text[] = "LD M8000\nOUT M0\nEND\n";
    char msg[256];
    int rc = fxil_load_buffer("tiny.il", text, sizeof text - 1, &prog, msg, sizeof msg);
    ck_assert_msg(rc == 0, "%s", msg);
}

static void setup(void)
{
    load_tiny();
    fxmem_clear(&mem);
    benchplant_config_default(&cfg);
    ck_assert_int_eq(benchplant_init(&bp, &cfg, prog), 0);
    at(0);
}

static void teardown(void)
{
    fxil_free(prog);
    prog = NULL;
}

#define X_SAFE (CC_X_ESTOP_OK | CC_X_TETHER_OK | CC_X_SUPPLY_OK | CC_X_ENABLE_KEY)

/* ------------------------------------------------------------ on its own */

START_TEST(test_defaults_and_rest)
{
    ck_assert_uint_eq(cfg.leg_travel_ms, 400);
    ck_assert(cfg.vac_target_kpa == 60.0 && cfg.vac_sealed_kpa == 45.0);
    ck_assert(cfg.vac_seal_ms == 1000.0);
    ck_assert(cfg.cyl_speed_mm_s == 150.0 && cfg.cyl_stroke_mm == 300.0);
    ck_assert_uint_eq(cfg.tether_n, 150);
    ck_assert_uint_eq(cfg.supply_kpa, 600);
    /* at rest: safety healthy, legs down, cups not sealed (vacuum not on
     * yet), carriages centred (no end switch), no edge, water not low */
    ck_assert_uint_eq(xw(), X_SAFE | CC_X_A_DOWN | CC_X_B_DOWN);
    for (unsigned i = 0; i < CC_CUPS_N; i++) ck_assert_uint_eq(bfm(0, i), 0);
    for (unsigned i = 0; i < CC_PROX_N; i++) ck_assert_uint_eq(bfm(1, i), CC_NO_VALUE);
    ck_assert_uint_eq(bfm(1, BENCHPLANT_BFM_TETHER), 150);
    ck_assert_uint_eq(bfm(1, BENCHPLANT_BFM_SUPPLY), 600);
    ck_assert_uint_eq(bfm(1, BENCHPLANT_BFM_POS_X), 150);
    ck_assert_uint_eq(bfm(1, BENCHPLANT_BFM_POS_Y), 150);
    /* nothing on: nothing moves however long */
    drive(CC_Y_A_DOWN | CC_Y_B_DOWN);
    at(60000);
    ck_assert_uint_eq(xw(), X_SAFE | CC_X_A_DOWN | CC_X_B_DOWN);
    ck_assert_uint_eq(bfm(1, BENCHPLANT_BFM_POS_X), 150);
    ck_assert_str_eq(benchplant_strerror(BENCHPLANT_EARG),
                     "bad argument or bench plant configuration");
}
END_TEST

START_TEST(test_legs_travel)
{
    /* A's valve off (legs up), B's on: A leaves its down switch at once and
     * reaches the up switch after the travel time; B stays down. */
    drive(CC_Y_B_DOWN);
    at(10);
    ck_assert_uint_eq(xw() & (CC_X_A_UP | CC_X_A_DOWN), 0);
    ck_assert_uint_eq(xw() & (CC_X_B_UP | CC_X_B_DOWN), CC_X_B_DOWN);
    at(399);
    ck_assert_uint_eq(xw() & (CC_X_A_UP | CC_X_A_DOWN), 0);
    at(400);
    ck_assert_uint_eq(xw() & (CC_X_A_UP | CC_X_A_DOWN), CC_X_A_UP);
    at(1000); /* stays up */
    ck_assert_uint_eq(xw() & (CC_X_A_UP | CC_X_A_DOWN), CC_X_A_UP);
    /* and the reverse */
    drive(CC_Y_A_DOWN | CC_Y_B_DOWN);
    at(1001);
    ck_assert_uint_eq(xw() & (CC_X_A_UP | CC_X_A_DOWN), 0);
    at(1399);
    ck_assert_uint_eq(xw() & (CC_X_A_UP | CC_X_A_DOWN), 0);
    at(1400);
    ck_assert_uint_eq(xw() & (CC_X_A_UP | CC_X_A_DOWN), CC_X_A_DOWN);
    /* a reversal half-way returns in the time it went */
    drive(CC_Y_A_DOWN);
    at(1500);
    ck_assert_uint_eq(xw() & (CC_X_B_UP | CC_X_B_DOWN), 0);
    drive(CC_Y_A_DOWN | CC_Y_B_DOWN);
    at(1599);
    ck_assert_uint_eq(xw() & CC_X_B_DOWN, 0);
    at(1600);
    ck_assert_uint_eq(xw() & (CC_X_B_UP | CC_X_B_DOWN), CC_X_B_DOWN);
}
END_TEST

START_TEST(test_vacuum)
{
    uint64_t t = 0, sealed_at = 0;
    drive(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC);
    /* first-order rise: sealed (45 kPa) about 1 s after the vacuum came on */
    uint16_t prev = 0;
    while (t < 2000 && !sealed_at) {
        t += 10;
        at(t);
        uint16_t v = bfm(0, 0);
        ck_assert_uint_ge(v, prev); /* rises monotonically */
        prev = v;
        for (unsigned i = 1; i < 6; i++) ck_assert_uint_eq(bfm(0, i), v); /* six cups of A */
        for (unsigned i = 6; i < 12; i++) ck_assert_uint_eq(bfm(0, i), 0); /* B: vacuum off */
        if (xw() & CC_X_A_VAC_OK) sealed_at = t;
    }
    ck_assert_msg(sealed_at >= 1000 && sealed_at <= 1010, "sealed after %llu ms",
                  (unsigned long long)sealed_at);
    ck_assert_uint_ge(bfm(0, 0), 450);
    ck_assert_uint_eq(xw() & CC_X_B_VAC_OK, 0);
    /* towards 60 kPa, never above */
    at(10000);
    ck_assert_uint_eq(bfm(0, 5), 600);
    /* vacuum off without blow-off: falls with the same time constant; the
     * switch opens below 45 kPa, about 0.2 s later */
    drive(CC_Y_A_DOWN | CC_Y_B_DOWN);
    at(10150);
    ck_assert_uint_eq(xw() & CC_X_A_VAC_OK, CC_X_A_VAC_OK);
    ck_assert_uint_lt(bfm(0, 0), 600);
    at(10300);
    ck_assert_uint_eq(xw() & CC_X_A_VAC_OK, 0);
    ck_assert_uint_gt(bfm(0, 0), 0);
    /* on again, then blow-off: 0 at once */
    drive(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC);
    at(20000);
    ck_assert_uint_eq(xw() & CC_X_A_VAC_OK, CC_X_A_VAC_OK);
    drive(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_BLOW);
    at(20010);
    ck_assert_uint_eq(xw() & CC_X_A_VAC_OK, 0);
    for (unsigned i = 0; i < 6; i++) ck_assert_uint_eq(bfm(0, i), 0);
    /* blow-off wins over vacuum on */
    drive(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_A_BLOW);
    at(22000);
    ck_assert_uint_eq(bfm(0, 0), 0);
    /* legs not down: nothing to seal on, 0 kPa although the vacuum is on */
    drive(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC);
    at(30000);
    ck_assert_uint_eq(xw() & (CC_X_A_VAC_OK | CC_X_B_VAC_OK), CC_X_A_VAC_OK | CC_X_B_VAC_OK);
    drive(CC_Y_A_DOWN | CC_Y_A_VAC | CC_Y_B_VAC); /* B's legs go up */
    at(30010);
    ck_assert_uint_eq(xw() & (CC_X_A_VAC_OK | CC_X_B_VAC_OK), CC_X_A_VAC_OK);
    for (unsigned i = 6; i < 12; i++) ck_assert_uint_eq(bfm(0, i), 0);
    ck_assert_uint_eq(bfm(0, 0), 600);
    /* B down again: the vacuum builds from 0 once the legs are down */
    drive(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC);
    at(30020);
    ck_assert_uint_eq(xw() & (CC_X_B_DOWN | CC_X_B_VAC_OK), CC_X_B_DOWN);
    at(31100);
    ck_assert_uint_eq(xw() & CC_X_B_VAC_OK, CC_X_B_VAC_OK);
}
END_TEST

START_TEST(test_cylinders)
{
    /* 150 mm/s from the centre (150 mm) */
    drive(CC_Y_X_PLUS);
    at(100);
    ck_assert_uint_eq(bfm(1, BENCHPLANT_BFM_POS_X), 165);
    ck_assert_uint_eq(bfm(1, BENCHPLANT_BFM_POS_Y), 150);
    ck_assert_uint_eq(xw() & (CC_X_XCYL_MINUS_END | CC_X_XCYL_PLUS_END), 0);
    at(999);
    ck_assert_uint_eq(xw() & CC_X_XCYL_PLUS_END, 0);
    at(1000);
    ck_assert_uint_eq(xw() & (CC_X_XCYL_MINUS_END | CC_X_XCYL_PLUS_END), CC_X_XCYL_PLUS_END);
    ck_assert_uint_eq(bfm(1, BENCHPLANT_BFM_POS_X), 300);
    at(5000); /* held at the end of the stroke */
    ck_assert_uint_eq(bfm(1, BENCHPLANT_BFM_POS_X), 300);
    /* both valves of one cylinder: closed centre, no motion */
    drive(CC_Y_X_PLUS | CC_Y_X_MINUS);
    at(6000);
    ck_assert_uint_eq(bfm(1, BENCHPLANT_BFM_POS_X), 300);
    /* back over the whole stroke: 2 s */
    drive(CC_Y_X_MINUS);
    at(7000);
    ck_assert_uint_eq(bfm(1, BENCHPLANT_BFM_POS_X), 150);
    ck_assert_uint_eq(xw() & (CC_X_XCYL_MINUS_END | CC_X_XCYL_PLUS_END), 0);
    at(8000);
    ck_assert_uint_eq(xw() & (CC_X_XCYL_MINUS_END | CC_X_XCYL_PLUS_END), CC_X_XCYL_MINUS_END);
    ck_assert_uint_eq(bfm(1, BENCHPLANT_BFM_POS_X), 0);
    /* the Y cylinder with its own switches */
    drive(CC_Y_Y_MINUS);
    at(9000);
    ck_assert_uint_eq(xw() & (CC_X_YCYL_MINUS_END | CC_X_YCYL_PLUS_END), CC_X_YCYL_MINUS_END);
    ck_assert_uint_eq(bfm(1, BENCHPLANT_BFM_POS_Y), 0);
    drive(CC_Y_Y_PLUS);
    at(11000);
    ck_assert_uint_eq(xw() & (CC_X_YCYL_MINUS_END | CC_X_YCYL_PLUS_END), CC_X_YCYL_PLUS_END);
    ck_assert_uint_eq(bfm(1, BENCHPLANT_BFM_POS_Y), 300);
    ck_assert_uint_eq(bfm(1, BENCHPLANT_BFM_POS_X), 0);
}
END_TEST

START_TEST(test_forcing)
{
    uint16_t *d = mem.d;
    uint32_t model = X_SAFE | CC_X_A_DOWN | CC_X_B_DOWN;
    drive(CC_Y_A_DOWN | CC_Y_B_DOWN);
    /* E-stop pressed (X12 forced off), X1 forced on, A down switch off */
    d[BENCHPLANT_D_FORCE_MASK_LO] = (uint16_t)(CC_X_ESTOP_OK | CC_X_XCYL_PLUS_END | CC_X_A_DOWN);
    d[BENCHPLANT_D_FORCE_VAL_LO] = (uint16_t)CC_X_XCYL_PLUS_END;
    at(10);
    ck_assert_uint_eq(xw(), (model & ~(CC_X_ESTOP_OK | CC_X_A_DOWN)) | CC_X_XCYL_PLUS_END);
    /* a forced value without its mask bit does nothing */
    d[BENCHPLANT_D_FORCE_VAL_LO] |= (uint16_t)CC_X_TETHER_OK; /* already on */
    d[BENCHPLANT_D_FORCE_VAL_LO] |= (uint16_t)CC_X_A_UP;      /* not masked */
    at(20);
    ck_assert_uint_eq(xw() & CC_X_A_UP, 0);
    /* X20-X37: enable key X22 off, edge X20 and spare X37 on */
    d[BENCHPLANT_D_FORCE_MASK_LO] = 0;
    d[BENCHPLANT_D_FORCE_MASK_HI] = (uint16_t)((CC_X_ENABLE_KEY | CC_X_EDGE_YM) >> 16) | 0x8000u;
    d[BENCHPLANT_D_FORCE_VAL_HI] = (uint16_t)(CC_X_EDGE_YM >> 16) | 0x8000u;
    at(30);
    ck_assert_uint_eq(xw(), (model & ~CC_X_ENABLE_KEY) | CC_X_EDGE_YM | (1u << 31));
    /* forcing changes the inputs only, never the model behind them */
    ck_assert_uint_eq(bp.x_model, model);
    d[BENCHPLANT_D_FORCE_MASK_HI] = 0;
    at(40);
    ck_assert_uint_eq(xw(), model);
}
END_TEST

/* The same outputs at the same times give the same inputs and values. */
START_TEST(test_deterministic)
{
    static const uint16_t ys[] = {CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC | CC_Y_X_PLUS,
                                  CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_Y_MINUS,
                                  CC_Y_A_DOWN | CC_Y_A_BLOW | CC_Y_B_VAC};
    uint32_t xs[2][300];
    uint16_t cups[2][300];
    for (int run = 0; run < 2; run++) {
        ck_assert_int_eq(benchplant_init(&bp, &cfg, prog), 0);
        fxmem_clear(&mem);
        at(0);
        for (int k = 0; k < 300; k++) {
            drive(ys[(k / 37) % 3]);
            at((uint64_t)(k + 1) * 7u);
            xs[run][k] = xw();
            cups[run][k] = bfm(0, (unsigned)k % 12u);
        }
    }
    ck_assert_mem_eq(xs[0], xs[1], sizeof xs[0]);
    ck_assert_mem_eq(cups[0], cups[1], sizeof cups[0]);
}
END_TEST

START_TEST(test_bad_config)
{
    benchplant_config c;
    benchplant b;
    benchplant_config_default(&c);
    ck_assert_int_eq(benchplant_init(NULL, &c, prog), BENCHPLANT_EARG);
    ck_assert_int_eq(benchplant_init(&b, NULL, prog), BENCHPLANT_EARG);
    ck_assert_int_eq(benchplant_init(&b, &c, NULL), BENCHPLANT_EARG);
    c.leg_travel_ms = 0;
    ck_assert_int_eq(benchplant_init(&b, &c, prog), BENCHPLANT_EARG);
    benchplant_config_default(&c);
    c.vac_sealed_kpa = 60.0; /* never below the target: would never seal */
    ck_assert_int_eq(benchplant_init(&b, &c, prog), BENCHPLANT_EARG);
    benchplant_config_default(&c);
    c.vac_seal_ms = 0.0;
    ck_assert_int_eq(benchplant_init(&b, &c, prog), BENCHPLANT_EARG);
    benchplant_config_default(&c);
    c.cyl_speed_mm_s = NAN;
    ck_assert_int_eq(benchplant_init(&b, &c, prog), BENCHPLANT_EARG);
    benchplant_config_default(&c);
    c.cyl_start_mm[1] = 300.5;
    ck_assert_int_eq(benchplant_init(&b, &c, prog), BENCHPLANT_EARG);
    benchplant_config_default(&c);
    c.cyl_start_mm[0] = 0.0; /* at the -end: allowed, X0 on */
    ck_assert_int_eq(benchplant_init(&b, &c, prog), 0);
    ck_assert_uint_eq(b.x_model & CC_X_XCYL_MINUS_END, CC_X_XCYL_MINUS_END);
}
END_TEST

/* ------------------------------------- in the simulated PLC, with the program */

static plcsim ps;
static fxil_program *plc_prog;
static benchplant plc_bp;
static uint16_t plc_seq;

static void plc_setup(void)
{
    char path[4096], msg[512];
    const char *src = getenv("CROSSCLIMB_SRC");
    snprintf(path, sizeof path, "%s/docs/plc/crossclimb.il", src ? src : ".");
    int rc = fxil_load_file(path, &plc_prog, msg, sizeof msg);
    ck_assert_msg(rc == 0, "%s", msg);
    benchplant_config c;
    benchplant_config_default(&c);
    ck_assert_int_eq(benchplant_init(&plc_bp, &c, plc_prog), 0);
    plcsim_config pc;
    plcsim_config_default(&pc);
    pc.idle = PLCSIM_IDLE_FROZEN;
    plcsim_plant plant = benchplant_plant(&plc_bp);
    plcsim_logic logic = {.self = plc_prog, .scan = fxil_scan};
    ck_assert_int_eq(plcsim_init(&ps, &pc, logic, &plant), 0);
    ck_assert_int_eq(plcsim_start(&ps, 0), 0);
    plc_seq = 0;
}

static void plc_teardown(void)
{
    fxil_free(plc_prog);
    plc_prog = NULL;
}

/* A command (new sequence number), then ms of virtual time with the
 * heartbeat moving every 10 ms as the laptop's would. */
static void plc_command(uint16_t outputs, uint16_t mode, unsigned ms)
{
    uint16_t *d = ps.mem.d;
    d[CC_CMD_FIRST + CC_CMD_SEQ] = ++plc_seq;
    d[CC_CMD_FIRST + CC_CMD_OUTPUTS] = outputs;
    d[CC_CMD_FIRST + CC_CMD_MODE] = mode;
    for (unsigned t = 0; t < ms; t += 10) {
        d[CC_CMD_FIRST + CC_CMD_HEARTBEAT]++;
        ck_assert_int_eq(plcsim_advance(&ps, 10), 0);
    }
}

#define Y_BOTH_GRIP (CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC)

START_TEST(test_with_program)
{
    const uint16_t *st = &ps.mem.d[CC_STATUS_FIRST];
    /* the program reads the plant's blocks with FROM and packs its inputs */
    ck_assert_uint_eq(st[CC_ST_TETHER], 150);
    ck_assert_uint_eq(st[CC_ST_SUPPLY], 600);
    ck_assert_uint_eq(st[CC_ST_PROX_FIRST], CC_NO_VALUE);
    ck_assert_uint_eq(st[CC_ST_POS_X], 150);
    ck_assert_uint_eq(st[CC_ST_X_LO], (X_SAFE | CC_X_A_DOWN | CC_X_B_DOWN) & 0xFFFFu);
    ck_assert_uint_eq(st[CC_ST_X_HI], CC_X_ENABLE_KEY >> 16);
    /* power-up HOLD: vacuums on and, since a restarted PLC must never lift
     * a foot, both groups' legs commanded down (docs/plc/README.md rung 1) */
    ck_assert_uint_eq(st[CC_ST_FLAGS] & CC_FLAG_HOLD, CC_FLAG_HOLD);
    ck_assert_uint_eq(st[CC_ST_Y],
                      CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC | CC_Y_BEACON);
    /* RESET, then MANUAL with both groups down and sucking: both seal in
     * about a second and the cups read it through D110-D121 */
    plc_command(0, CC_MODE_RESET, 10);
    ck_assert_uint_eq(st[CC_ST_FLAGS] & CC_FLAG_HOLD, 0);
    plc_command(Y_BOTH_GRIP, CC_MODE_MANUAL, 1200);
    ck_assert_uint_eq(st[CC_ST_SEQ_ECHO], plc_seq);
    ck_assert_uint_eq(st[CC_ST_Y], Y_BOTH_GRIP);
    uint32_t grip = CC_X_A_DOWN | CC_X_B_DOWN | CC_X_A_VAC_OK | CC_X_B_VAC_OK;
    ck_assert_uint_eq(st[CC_ST_X_LO] & grip, grip);
    for (unsigned i = 0; i < CC_CUPS_N; i++) ck_assert_uint_ge(st[CC_ST_CUP_FIRST + i], 450);
    /* the E-stop forced off through D7900/D7901: HOLD, reason E-stop */
    ps.mem.d[BENCHPLANT_D_FORCE_MASK_LO] = (uint16_t)CC_X_ESTOP_OK;
    ps.mem.d[BENCHPLANT_D_FORCE_VAL_LO] = 0;
    ck_assert_int_eq(plcsim_advance(&ps, 10), 0);
    ck_assert_uint_eq(st[CC_ST_FLAGS] & (CC_FLAG_HOLD | CC_FLAG_ESTOP), CC_FLAG_HOLD | CC_FLAG_ESTOP);
    ck_assert_uint_eq(st[CC_ST_HOLD_REASON], CC_HOLD_ESTOP);
    ck_assert_uint_eq(st[CC_ST_Y], Y_BOTH_GRIP | CC_Y_BEACON);
    /* released: the forced input follows the model again */
    ps.mem.d[BENCHPLANT_D_FORCE_MASK_LO] = 0;
    ck_assert_int_eq(plcsim_advance(&ps, 10), 0);
    ck_assert_uint_eq(st[CC_ST_FLAGS] & CC_FLAG_ESTOP, 0);
    ck_assert_uint_eq(st[CC_ST_FLAGS] & CC_FLAG_HOLD, CC_FLAG_HOLD); /* until a RESET */
}
END_TEST

static Suite *benchplant_suite(void)
{
    Suite *s = suite_create("benchplant");
    TCase *tc = tcase_create("plant");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_defaults_and_rest);
    tcase_add_test(tc, test_legs_travel);
    tcase_add_test(tc, test_vacuum);
    tcase_add_test(tc, test_cylinders);
    tcase_add_test(tc, test_forcing);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_bad_config);
    suite_add_tcase(s, tc);
    TCase *plc = tcase_create("with-program");
    tcase_add_checked_fixture(plc, plc_setup, plc_teardown);
    tcase_add_test(plc, test_with_program);
    suite_add_tcase(s, plc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(benchplant_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
