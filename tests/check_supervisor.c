/*
 * check_supervisor.c — the safety supervisor (controller/supervisor.h) on
 * hand-made status images, its mirror of the PLC interlocks against the
 * shipped program itself, and the controller (controller/ctl.h) against the
 * scripted robot of tests/fakeplant.h:
 *   - every S1-S3 / L5 / mode violation attempt is refused before it reaches
 *     the link: the command the ctl layer produces is the HOLD, without the
 *     offending bits, and the PLC never had to refuse anything;
 *   - every S4 fault (E-stop, tether, supply, watchdog, PLC HOLD, implausible
 *     sensors, link down, echo timeout, rejected command) ends in a HOLD with
 *     its reason;
 *   - acknowledge -> RESET -> AUTO -> running again, refused while a fault is
 *     active; a refused RESET.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctl.h"
#include "controller/supervisor.h"
#include "fakeplant.h"

#define Y_BOTH (CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC)
#define Y_CYL (CC_Y_X_PLUS | CC_Y_X_MINUS | CC_Y_Y_PLUS | CC_Y_Y_MINUS)
#define X_OK (CC_X_ESTOP_OK | CC_X_TETHER_OK | CC_X_SUPPLY_OK)

static params_robot P;
static fp_world W;
static ctl C;
static fp_run R;

static void setup(void)
{
    params_defaults(&P);
}

static void teardown(void)
{
    fp_free(&W);
}

/* ------------------------------------------------------------ images */

static void image_standing(cc_status *st)
{
    memset(st, 0, sizeof *st);
    st->x = X_OK | CC_X_A_DOWN | CC_X_B_DOWN | CC_X_A_VAC_OK | CC_X_B_VAC_OK;
    st->y = Y_BOTH;
    for (unsigned i = 0; i < 12; i++) st->cup_kpa[i] = 60.0f;
    st->pos_valid[0] = st->pos_valid[1] = 1;
    st->pos_mm[0] = st->pos_mm[1] = 150.0f;
}

/* Group g in the air and released: legs up, cups 0, its vacuum off. */
static void image_lift(cc_status *st, hold_group g)
{
    const hold_group_io *io = hold_io(g);
    st->x &= ~(io->x_down | io->x_vac_ok);
    st->x |= io->x_up;
    st->y &= (uint16_t) ~(io->y_down | io->y_vac);
    for (unsigned i = 0; i < 6; i++) st->cup_kpa[io->cup_first + i] = 0.0f;
}

/* A supervisor RUNNING on st, observed from tick 0 to now. */
static void sup_running(sup *s, const cc_status *st, uint32_t now)
{
    sup_init(s, &P);
    sup_start(s, st, 0);
    for (uint32_t t = 0; t <= now; t++) sup_observe(s, st, t);
    ck_assert_int_eq(sup_acknowledge(s), 0);
    sup_reset_accepted(s);
    sup_enabled(s);
    ck_assert_int_eq(s->phase, SUP_RUNNING);
}

/* Check one request: refused with want (or passed when want is NONE). */
static void expect_request(const cc_status *st, uint32_t verified_for, uint16_t request,
                           cc_mode mode, sup_reason want)
{
    sup s;
    uint16_t out = request;
    cc_mode m = mode;
    sup_running(&s, st, verified_for);
    sup_reason r = sup_check(&s, st, &out, &m, verified_for);
    ck_assert_msg(r == want, "request 0x%04X mode %d: %s, expected %s", request, mode,
                  sup_reason_name(r), sup_reason_name(want));
    if (want == SUP_R_NONE) {
        ck_assert_uint_eq(out, request);
        ck_assert_int_eq(m, mode);
        ck_assert_int_eq(s.phase, SUP_RUNNING);
        ck_assert_uint_eq(s.refused_total, 0);
    } else {
        ck_assert_int_eq(m, CC_MODE_HOLD);
        ck_assert_uint_eq(out, sup_hold_pattern(st->y));
        ck_assert_int_eq(s.phase, SUP_HELD);
        ck_assert_int_eq(s.reason, want);
        ck_assert_uint_eq(s.refused[want], 1);
        ck_assert_uint_eq(s.refused_total, 1);
        ck_assert_uint_eq(s.holds, 1);
    }
}

START_TEST(test_names)
{
    for (int r = 0; r < SUP_R_COUNT; r++) {
        ck_assert_str_ne(sup_reason_name((sup_reason)r), "?");
        for (int k = 0; k < r; k++)
            ck_assert_str_ne(sup_reason_name((sup_reason)r), sup_reason_name((sup_reason)k));
    }
    for (int p = 0; p < SUP_PHASE_COUNT; p++) ck_assert_str_ne(sup_phase_name((sup_phase)p), "?");
    ck_assert_str_eq(sup_reason_name(SUP_R_COUNT), "?");
    ck_assert_str_eq(sup_reason_name(SUP_R_S2_RELEASE), "s2-release");
    ck_assert_str_eq(sup_strerror(SUP_EFAULT), "a fault is still active");
    ck_assert_str_eq(ctl_strerror(CTL_ENOSENSOR), "target between the ends needs a position sensor");
}
END_TEST

START_TEST(test_hold_pattern)
{
    ck_assert_uint_eq(sup_hold_pattern(0xFFFF), Y_BOTH | CC_Y_BEACON);
    ck_assert_uint_eq(sup_hold_pattern(CC_Y_B_DOWN | CC_Y_X_PLUS | CC_Y_A_BLOW | CC_Y_SPRAY),
                      CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC | CC_Y_BEACON);
    ck_assert_uint_eq(sup_hold_pattern(0), CC_Y_A_VAC | CC_Y_B_VAC | CC_Y_BEACON);
}
END_TEST

START_TEST(test_s1)
{
    cc_status st;
    /* A in the air, B the only gripping group: letting go of B */
    image_standing(&st);
    image_lift(&st, HOLD_GROUP_A);
    expect_request(&st, 100, CC_Y_B_DOWN | CC_Y_B_BLOW, CC_MODE_AUTO, SUP_R_S1_LAST_GRIP);
    expect_request(&st, 100, CC_Y_B_DOWN, CC_MODE_AUTO, SUP_R_S1_LAST_GRIP); /* vacuum off */
    expect_request(&st, 100, CC_Y_B_VAC, CC_MODE_AUTO, SUP_R_S1_LAST_GRIP);  /* B legs up */
    expect_request(&st, 100, CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_AUTO, SUP_R_NONE);
    /* both standing: releasing both at once */
    image_standing(&st);
    expect_request(&st, 100, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_BLOW | CC_Y_B_BLOW, CC_MODE_AUTO,
                   SUP_R_S1_LAST_GRIP);
    /* no group verified at all (B lost a cup while A is up): even a safe request holds */
    image_standing(&st);
    image_lift(&st, HOLD_GROUP_A);
    st.cup_kpa[9] = 30.0f;
    expect_request(&st, 100, CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_AUTO, SUP_R_S1_NO_GRIP);
    /* the holder's safety factor below 2 (30 kg at 46 kPa wet: 1.84) makes it unverified */
    P.mass_kg = 30.0f;
    image_standing(&st);
    for (unsigned i = 6; i < 12; i++) st.cup_kpa[i] = 46.0f;
    expect_request(&st, 100, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_A_BLOW, CC_MODE_AUTO,
                   SUP_R_S1_LAST_GRIP);
}
END_TEST

START_TEST(test_s2)
{
    cc_status st;
    const uint16_t release_a = CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_A_BLOW;
    image_standing(&st);
    /* B verified for less than the settle time */
    expect_request(&st, P.settle_ticks - 1, release_a, CC_MODE_AUTO, SUP_R_S2_RELEASE);
    expect_request(&st, P.settle_ticks - 1, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_AUTO,
                   SUP_R_S2_RELEASE); /* vacuum going off is a release too */
    expect_request(&st, P.settle_ticks, release_a, CC_MODE_AUTO, SUP_R_NONE);
    /* a blow-off while the vacuum stays on is still a release */
    expect_request(&st, P.settle_ticks - 1, Y_BOTH | CC_Y_B_BLOW, CC_MODE_AUTO, SUP_R_S2_RELEASE);
    /* keeping a released group released is not a release */
    image_lift(&st, HOLD_GROUP_A);
    st.x &= ~CC_X_A_UP;
    st.x |= CC_X_A_DOWN; /* down again, released */
    expect_request(&st, 1, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_AUTO, SUP_R_NONE);
}
END_TEST

START_TEST(test_s3)
{
    cc_status st;
    image_standing(&st); /* both down: no group up */
    expect_request(&st, 100, Y_BOTH | CC_Y_X_PLUS, CC_MODE_AUTO, SUP_R_S3_MOTION);
    /* A's legs between the switches */
    image_lift(&st, HOLD_GROUP_A);
    st.x &= ~CC_X_A_UP;
    expect_request(&st, 100, CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_Y_PLUS, CC_MODE_AUTO, SUP_R_S3_MOTION);
    /* A up, B verified: moving is fine (no settle time needed) */
    st.x |= CC_X_A_UP;
    expect_request(&st, 1, CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_Y_PLUS, CC_MODE_AUTO, SUP_R_NONE);
    /* both up is impossible to verify: S1 first */
    image_standing(&st);
    image_lift(&st, HOLD_GROUP_A);
    image_lift(&st, HOLD_GROUP_B);
    expect_request(&st, 100, CC_Y_X_PLUS, CC_MODE_AUTO, SUP_R_S1_NO_GRIP);
}
END_TEST

START_TEST(test_l5_mode_outputs_legs)
{
    cc_status st;
    image_standing(&st);
    image_lift(&st, HOLD_GROUP_A);
    const uint16_t base = CC_Y_B_DOWN | CC_Y_B_VAC;
    expect_request(&st, 100, base | CC_Y_X_PLUS | CC_Y_X_MINUS, CC_MODE_AUTO, SUP_R_L5);
    expect_request(&st, 100, base | CC_Y_Y_PLUS | CC_Y_Y_MINUS, CC_MODE_AUTO, SUP_R_L5);
    expect_request(&st, 100, base | CC_Y_X_PLUS | CC_Y_Y_MINUS, CC_MODE_AUTO, SUP_R_NONE);
    expect_request(&st, 100, base, CC_MODE_MANUAL, SUP_R_BAD_MODE);
    expect_request(&st, 100, base, CC_MODE_RESET, SUP_R_BAD_MODE);
    expect_request(&st, 100, base | 0x2000u, CC_MODE_AUTO, SUP_R_BAD_OUTPUT);
    /* legs up of A while B is verified: allowed; B's legs up while A is not: S1 */
    image_standing(&st);
    expect_request(&st, 100, CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC, CC_MODE_AUTO, SUP_R_NONE);
    st.cup_kpa[0] = 40.0f;
    expect_request(&st, 100, CC_Y_A_DOWN | CC_Y_A_VAC | CC_Y_B_VAC, CC_MODE_AUTO, SUP_R_S1_LAST_GRIP);
}
END_TEST

START_TEST(test_plc_mirror_cases)
{
    cc_status st;
    /* switch level only (what the PLC sees): B grips by its switches, cups irrelevant */
    memset(&st, 0, sizeof st);
    st.x = X_OK | CC_X_A_DOWN | CC_X_B_DOWN | CC_X_A_VAC_OK;
    st.y = Y_BOTH;
    ck_assert_int_eq(sup_plc_check(&st, CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_A_DOWN, CC_MODE_AUTO), SUP_R_L1);
    ck_assert_int_eq(sup_plc_check(&st, Y_BOTH | CC_Y_A_BLOW, CC_MODE_MANUAL), SUP_R_L1);
    ck_assert_int_eq(sup_plc_check(&st, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC, CC_MODE_AUTO), SUP_R_NONE);
    /* B's legs up is fine (A grips); A's legs up is not (B does not grip) */
    ck_assert_int_eq(sup_plc_check(&st, CC_Y_A_DOWN | CC_Y_A_VAC | CC_Y_B_VAC, CC_MODE_AUTO), SUP_R_NONE);
    ck_assert_int_eq(sup_plc_check(&st, CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC, CC_MODE_AUTO), SUP_R_L4);
    st.x = X_OK | CC_X_A_DOWN | CC_X_B_DOWN | CC_X_B_VAC_OK;
    ck_assert_int_eq(sup_plc_check(&st, Y_BOTH | CC_Y_B_BLOW, CC_MODE_AUTO), SUP_R_L2);
    ck_assert_int_eq(sup_plc_check(&st, Y_BOTH | CC_Y_X_PLUS, CC_MODE_AUTO), SUP_R_L3);
    st.x = X_OK | CC_X_A_UP | CC_X_B_DOWN | CC_X_B_VAC_OK;
    ck_assert_int_eq(sup_plc_check(&st, CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_X_PLUS, CC_MODE_AUTO), SUP_R_NONE);
    ck_assert_int_eq(sup_plc_check(&st, CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_X_PLUS | CC_Y_X_MINUS, CC_MODE_AUTO),
                     SUP_R_L5);
    st.x |= CC_X_B_UP; /* both up switches: not exactly one */
    ck_assert_int_eq(sup_plc_check(&st, CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_X_PLUS, CC_MODE_AUTO), SUP_R_L3);
    st.flags = CC_FLAG_HOLD;
    ck_assert_int_eq(sup_plc_check(&st, Y_BOTH, CC_MODE_AUTO), SUP_R_PLC_HOLD);
    ck_assert_int_eq(sup_plc_check(&st, 0, CC_MODE_HOLD), SUP_R_NONE);
    ck_assert_int_eq(sup_plc_check(&st, Y_BOTH, CC_MODE_RESET), SUP_R_NONE);
    st.x &= ~CC_X_TETHER_OK;
    ck_assert_int_eq(sup_plc_check(&st, Y_BOTH, CC_MODE_RESET), SUP_R_RESET_REFUSED);
    ck_assert_int_eq(sup_plc_check(&st, Y_BOTH, (cc_mode)4), SUP_R_BAD_MODE);
}
END_TEST

/* The mirror against the shipped program: random inputs, driven outputs,
 * HOLD latch, request and mode; the program's verdict (D105 = D200 after the
 * scan) must be sup_plc_check's, every time. */
START_TEST(test_plc_mirror_vs_program)
{
    unsigned n = 0, agree = 0, accepted = 0, by_reason[SUP_R_COUNT] = {0};
    uint16_t seq = 0;
    ck_assert_int_eq(fp_init(&W, 150.0f, 150.0f, 1), 0);
    srand(20240601u);
    for (unsigned k = 0; k < 30000; k++) {
        cc_status st;
        memset(&st, 0, sizeof st);
        uint32_t x = 0;
        for (unsigned b = 0; b < 10; b++) /* X0-X11: ends, legs, vacuum switches */
            if (rand() & 1) x |= 1u << b;
        if (rand() % 10) x |= CC_X_ESTOP_OK;
        if (rand() % 10) x |= CC_X_TETHER_OK;
        if (rand() % 10) x |= CC_X_SUPPLY_OK;
        uint16_t y = (uint16_t)(rand() & 0x03FF);
        uint16_t req = (uint16_t)(rand() & 0x03FF);
        if (rand() % 4 == 0) req = (uint16_t)((y & ~Y_CYL) | (rand() & Y_CYL)); /* near the current */
        int hold = rand() % 5 == 0;
        cc_mode mode = (cc_mode)(rand() % 10 < 7 ? CC_MODE_AUTO : rand() % 5);
        st.x = x;
        st.y = y;
        st.flags = hold ? CC_FLAG_HOLD : 0;

        fp_set_x(&W, x);
        for (unsigned i = 0; i < 16; i++) W.mem.y[i] = (uint8_t)((y >> i) & 1u);
        W.mem.m[101] = (uint8_t)hold;
        W.mem.m[103] = 0;
        W.mem.d[CC_CMD_FIRST + CC_CMD_HEARTBEAT]++;
        W.mem.d[CC_CMD_FIRST + CC_CMD_SEQ] = ++seq;
        W.mem.d[CC_CMD_FIRST + CC_CMD_OUTPUTS] = req;
        W.mem.d[CC_CMD_FIRST + CC_CMD_MODE] = (uint16_t)mode;
        ck_assert_int_eq(fxil_scan(W.prog, &W.mem, FP_TICK_MS), 0);
        int plc_accepts = W.mem.d[CC_STATUS_FIRST + CC_ST_SEQ_ECHO] == seq;
        sup_reason r = sup_plc_check(&st, req, mode);
        n++;
        if ((r == SUP_R_NONE) == plc_accepts) agree++;
        else
            ck_abort_msg("case %u: x 0x%05X y 0x%04X hold %d request 0x%04X mode %d: PLC %s, mirror %s", k,
                         x, y, hold, req, mode, plc_accepts ? "accepts" : "refuses", sup_reason_name(r));
        accepted += (unsigned)plc_accepts;
        by_reason[r]++;
    }
    ck_assert_uint_eq(agree, n);
    /* the random cases reached every verdict */
    ck_assert_uint_gt(accepted, 1000);
    ck_assert_uint_gt(n - accepted, 1000);
    static const sup_reason seen[] = {SUP_R_L1, SUP_R_L2, SUP_R_L3, SUP_R_L4, SUP_R_L5,
                                      SUP_R_PLC_HOLD, SUP_R_RESET_REFUSED, SUP_R_BAD_MODE};
    for (unsigned i = 0; i < sizeof seen / sizeof seen[0]; i++)
        ck_assert_msg(by_reason[seen[i]] >= 50, "%s reached only %u times", sup_reason_name(seen[i]),
                      by_reason[seen[i]]);
}
END_TEST

/* Status faults, one at a time, on a running supervisor. */
typedef struct {
    const char *what;
    sup_reason want;
    int blocking;
} fault_case;

static const fault_case fault_cases[] = {
    {"estop flag", SUP_R_ESTOP, 1},          {"estop input", SUP_R_ESTOP, 1},
    {"tether", SUP_R_TETHER, 1},             {"supply", SUP_R_SUPPLY, 1},
    {"watchdog", SUP_R_WATCHDOG, 0},         {"plc hold", SUP_R_PLC_HOLD, 0},
    {"cup 150 kPa", SUP_R_CUP_IMPLAUSIBLE, 1}, {"x both ends", SUP_R_ENDS_IMPLAUSIBLE, 1},
    {"y both ends", SUP_R_ENDS_IMPLAUSIBLE, 1}, {"a up and down", SUP_R_LEGS_IMPLAUSIBLE, 1},
    {"b up and down", SUP_R_LEGS_IMPLAUSIBLE, 1}, {"position 320 mm", SUP_R_POS_IMPLAUSIBLE, 1},
};

static void apply_fault(cc_status *st, int i)
{
    switch (i) {
    case 0: st->flags |= CC_FLAG_ESTOP; break;
    case 1: st->x &= ~CC_X_ESTOP_OK; break;
    case 2: st->x &= ~CC_X_TETHER_OK; break;
    case 3: st->flags |= CC_FLAG_SUPPLY_LOW; break;
    case 4: st->flags |= CC_FLAG_WATCHDOG | CC_FLAG_HOLD; break;
    case 5: st->flags |= CC_FLAG_HOLD; break;
    case 6: st->cup_kpa[7] = 150.0f; break;
    case 7: st->x |= CC_X_XCYL_MINUS_END | CC_X_XCYL_PLUS_END; break;
    case 8: st->x |= CC_X_YCYL_MINUS_END | CC_X_YCYL_PLUS_END; break;
    case 9: st->x |= CC_X_A_UP; break;
    case 10: st->x |= CC_X_B_UP; break;
    default: st->pos_mm[1] = 320.0f; break;
    }
}

START_TEST(test_status_faults)
{
    const fault_case *fc = &fault_cases[_i];
    cc_status st, bad;
    sup s;
    image_standing(&st);
    sup_running(&s, &st, 60);
    bad = st;
    apply_fault(&bad, _i);
    ck_assert_msg(sup_observe(&s, &bad, 61) == fc->want, "%s: latched %s", fc->what,
                  sup_reason_name(s.reason));
    ck_assert_int_eq(s.phase, SUP_HELD);
    ck_assert_int_eq(s.reason, fc->want);
    ck_assert_uint_eq(s.held_at_ticks, 61);
    uint16_t out = Y_BOTH | CC_Y_X_PLUS;
    cc_mode m = CC_MODE_AUTO;
    sup_check(&s, &bad, &out, &m, 62);
    ck_assert_int_eq(m, CC_MODE_HOLD);
    ck_assert_uint_eq(out, Y_BOTH | CC_Y_BEACON);
    /* a second fault does not replace the first reason */
    bad.flags |= CC_FLAG_TETHER;
    sup_observe(&s, &bad, 63);
    ck_assert_int_eq(s.reason, fc->want);
    /* acknowledge: refused while a blocking fault is active, accepted without */
    bad.flags &= (uint16_t)~CC_FLAG_TETHER;
    sup_observe(&s, &bad, 64);
    ck_assert_int_eq(sup_acknowledge(&s), fc->blocking ? SUP_EFAULT : 0);
    ck_assert_int_eq(s.phase, fc->blocking ? SUP_HELD : SUP_RESETTING);
    sup_observe(&s, &st, 65);
    if (fc->blocking) ck_assert_int_eq(sup_acknowledge(&s), 0);
    ck_assert_int_eq(s.phase, SUP_RESETTING);
    ck_assert_int_eq(sup_acknowledge(&s), SUP_ESTATE);
}
END_TEST

START_TEST(test_resetting_phase)
{
    cc_status st;
    sup s;
    uint16_t out;
    cc_mode m;
    image_standing(&st);
    sup_running(&s, &st, 10);
    sup_fault(&s, SUP_R_OPERATOR, 0, &st, 11);
    ck_assert_int_eq(s.reason, SUP_R_OPERATOR);
    ck_assert_int_eq(sup_acknowledge(&s), 0);
    /* the PLC is still in HOLD (and shows its watchdog) until the RESET is echoed: no fault */
    st.flags = CC_FLAG_HOLD | CC_FLAG_WATCHDOG;
    ck_assert_int_eq(sup_observe(&s, &st, 12), SUP_R_NONE);
    out = Y_BOTH;
    m = CC_MODE_AUTO;
    sup_check(&s, &st, &out, &m, 12);
    ck_assert_int_eq(m, CC_MODE_RESET);
    ck_assert_uint_eq(out, Y_BOTH | CC_Y_BEACON);
    /* an E-stop while resetting holds again */
    st.flags |= CC_FLAG_ESTOP;
    ck_assert_int_eq(sup_observe(&s, &st, 13), SUP_R_ESTOP);
    ck_assert_int_eq(s.phase, SUP_HELD);
    /* after the RESET echo, a PLC HOLD is a fault */
    st.flags = 0;
    sup_observe(&s, &st, 14);
    ck_assert_int_eq(sup_acknowledge(&s), 0);
    sup_reset_accepted(&s);
    ck_assert_int_eq(s.phase, SUP_ENABLING);
    st.flags = CC_FLAG_HOLD;
    ck_assert_int_eq(sup_observe(&s, &st, 15), SUP_R_PLC_HOLD);
    ck_assert_uint_eq(s.holds, 3);
    ck_assert_uint_eq(s.faults[SUP_R_ESTOP], 1);
    ck_assert_uint_eq(sup_verified_for(&s, HOLD_GROUP_A, 15), 15);
}
END_TEST

/* ----------------------------------------------------- integration */

static void start(float x_mm, float y_mm, int pos_sensor)
{
    char err[160];
    ck_assert_int_eq(fp_init(&W, x_mm, y_mm, pos_sensor), 0);
    ck_assert_int_eq(ctl_init(&C, &P, err, sizeof err), 0);
    ck_assert_int_eq(fp_run_start(&R, &C, &W), 0);
    fp_cycles(&R, 3);
    ck_assert_int_eq(ctl_acknowledge(&C), 0);
    ck_assert(fp_until(&R, fp_is_idle, 200));
}

static int gait_in_move(const fp_run *r) { return r->c->gait.state == GAIT_MOVE; }

/* A violation attempt by jog: refused by the supervisor, never sent. */
typedef struct {
    const char *what;
    int lift_a;          /* A in the air first (a half-step stopped in MOVE) */
    uint16_t jog;
    sup_reason want;
    uint16_t must_have;  /* bits the HOLD command must carry */
    uint16_t must_lack;  /* bits it must not */
} jog_case;

static const jog_case jog_cases[] = {
    {"both vacuums off", 0, CC_Y_A_DOWN | CC_Y_B_DOWN, SUP_R_S1_LAST_GRIP, CC_Y_A_VAC | CC_Y_B_VAC, 0},
    {"move with both down", 0, Y_BOTH | CC_Y_X_PLUS, SUP_R_S3_MOTION, 0, Y_CYL},
    {"both blow-offs", 0, Y_BOTH | CC_Y_A_BLOW | CC_Y_B_BLOW, SUP_R_S1_LAST_GRIP, 0,
     CC_Y_A_BLOW | CC_Y_B_BLOW},
    {"release the only gripping group", 1, CC_Y_B_DOWN | CC_Y_B_BLOW, SUP_R_S1_LAST_GRIP, CC_Y_B_VAC,
     CC_Y_B_BLOW},
    {"lift the only gripping group", 1, CC_Y_B_VAC, SUP_R_S1_LAST_GRIP, CC_Y_B_DOWN, 0},
    {"X both ways", 1, CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_X_PLUS | CC_Y_X_MINUS, SUP_R_L5, 0, Y_CYL},
    {"spare output", 0, Y_BOTH | 0x4000u, SUP_R_BAD_OUTPUT, 0, 0x4000u},
};

START_TEST(test_jog_violations_refused)
{
    const jog_case *jc = &jog_cases[_i];
    start(150.0f, 150.0f, 1);
    if (jc->lift_a) {
        ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 60.0f, 0.0f), 0);
        ck_assert(fp_until(&R, gait_in_move, 500));
        fp_cycles(&R, 2); /* the MOVE command is out and echoed */
        ck_assert_int_eq(C.gait.state, GAIT_MOVE);
        ck_assert_int_eq(C.pending, 0);
    }
    const unsigned plc_accepted = W.accepted;
    const uint16_t y_before = W.y;
    ck_assert_int_eq(ctl_jog(&C, jc->jog), 0);
    fp_cycle(&R); /* the exchange sends the gait's command; ctl_step makes the next from the jog */
    ck_assert_msg(C.sup.phase == SUP_HELD, "%s: not refused", jc->what);
    ck_assert_msg(C.sup.reason == jc->want, "%s: %s, expected %s", jc->what,
                  sup_reason_name(C.sup.reason), sup_reason_name(jc->want));
    ck_assert_uint_eq(C.sup.refused[jc->want], 1);
    /* what the ctl layer sends next: the HOLD, without the offending bits */
    ck_assert_int_eq(C.cmd.mode, CC_MODE_HOLD);
    ck_assert_uint_eq(C.cmd.outputs & jc->must_have, jc->must_have);
    ck_assert_uint_eq(C.cmd.outputs & jc->must_lack, 0);
    ck_assert_uint_eq(C.cmd.outputs, sup_hold_pattern(y_before));
    ck_assert_int_eq(C.jog, 0);
    for (unsigned i = 0; i < 3; i++) {
        fp_cycle(&R);
        ck_assert(!(C.cmd.mode == CC_MODE_AUTO && C.cmd.outputs == jc->jog));
    }
    ck_assert(R.st.flags & CC_FLAG_HOLD);
    ck_assert_uint_eq(W.accepted, plc_accepted + 1); /* only the HOLD reached the PLC */
    ck_assert_uint_eq(W.refused, 0);
    ck_assert_uint_eq(R.st.y & jc->must_lack, 0);
    ck_assert_uint_eq(R.st.y & jc->must_have, jc->must_have);
    ck_assert_uint_eq(C.stats.refused_by_plc, 0);
    /* and the operator can take it from there */
    ck_assert_int_eq(ctl_acknowledge(&C), 0);
    ck_assert(fp_until(&R, fp_is_running, 200));
    ck_assert_uint_eq(W.refused, 0);
}
END_TEST

/* Faults through the robot and the PLC: each ends in a HOLD with its reason. */
static const char *const plant_faults[] = {"estop",   "tether",       "supply",    "watchdog",
                                           "plc hold", "cup 150 kPa", "x ends",    "legs",
                                           "link down", "echo timeout", "rejected", "plc stopped"};
static const sup_reason plant_want[] = {
    SUP_R_ESTOP,           SUP_R_TETHER,         SUP_R_SUPPLY,    SUP_R_WATCHDOG,
    SUP_R_PLC_HOLD,        SUP_R_CUP_IMPLAUSIBLE, SUP_R_ENDS_IMPLAUSIBLE, SUP_R_LEGS_IMPLAUSIBLE,
    SUP_R_LINK_DOWN,       SUP_R_ECHO_TIMEOUT,   SUP_R_REJECTED,  SUP_R_TICK_STALLED};

START_TEST(test_plant_faults_hold)
{
    const sup_reason want = plant_want[_i];
    start(150.0f, 150.0f, 1);
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_B, 0.0f, 60.0f), 0);
    ck_assert(fp_until(&R, gait_in_move, 500));
    fp_cycles(&R, 5);
    switch (_i) {
    case 0: W.estop = 1; break;
    case 1: W.tether_fault = 1; break;
    case 2: W.supply_fault = 1; break;
    case 3: fp_idle(&W, 60); break; /* the link is silent for 0.6 s */
    case 4: W.mem.m[101] = 1; break; /* someone else put the PLC in HOLD */
    case 5: W.cup_force_kpa[1] = 150.0f; break;
    case 6: W.x_force_on = CC_X_XCYL_MINUS_END | CC_X_XCYL_PLUS_END; break;
    case 7: W.x_force_on = CC_X_A_UP; break;
    case 8:
        for (unsigned i = 0; i + 1 < P.link_fail_max; i++) {
            const cc_command before = C.cmd;
            ck_assert_int_eq(ctl_step(&C, NULL, NULL), 0);
            ck_assert_int_eq(C.sup.phase, SUP_RUNNING); /* a failed exchange alone is not a fault */
            /* the same command (the link resends it by its number), heartbeat still +1 */
            ck_assert_uint_eq(C.cmd.seq, before.seq);
            ck_assert_uint_eq(C.cmd.outputs, before.outputs);
            ck_assert_uint_eq(C.cmd.heartbeat, (uint16_t)(before.heartbeat + 1u));
        }
        ck_assert_int_eq(ctl_step(&C, NULL, NULL), 0);
        ck_assert_uint_eq(C.stats.link_failures, P.link_fail_max);
        ck_assert_int_eq(C.sup.phase, SUP_HELD);
        ck_assert_int_eq(ctl_acknowledge(&C), CTL_ESTATE); /* not blind */
        break;
    case 9: W.frozen = 1; break;
    case 10: W.force_reject = 1; break;
    default: W.stopped = 1; break;
    }
    if (_i == 11) { /* held exactly after tick_stall_cycles exchanges without a tick */
        fp_cycles(&R, P.tick_stall_cycles - 1);
        ck_assert_int_eq(C.sup.phase, SUP_RUNNING);
        fp_cycle(&R);
        ck_assert_int_eq(C.sup.phase, SUP_HELD);
        W.stopped = 0;
    } else if (_i >= 9) { /* the next new command: wait for the half-step to change outputs */
        ck_assert(fp_until(&R, fp_is_held, 600));
    }
    else if (_i != 8)
        ck_assert(fp_until(&R, fp_is_held, 3));
    ck_assert_msg(C.sup.reason == want, "%s: %s, expected %s", plant_faults[_i],
                  sup_reason_name(C.sup.reason), sup_reason_name(want));
    ck_assert_int_eq(C.cmd.mode, CC_MODE_HOLD);
    ck_assert_uint_eq(C.cmd.outputs & (Y_CYL | CC_Y_A_BLOW | CC_Y_B_BLOW), 0);
    ck_assert_uint_eq(C.cmd.outputs & (CC_Y_A_VAC | CC_Y_B_VAC | CC_Y_BEACON),
                      CC_Y_A_VAC | CC_Y_B_VAC | CC_Y_BEACON);
    if (_i == 9) {
        ck_assert_uint_ge(C.stats.echo_timeouts, 1);
        W.frozen = 0;
    }
    if (_i == 10) ck_assert_uint_eq(C.stats.refused_by_plc, 1);
    fp_cycles(&R, 3);
    ck_assert(R.st.flags & CC_FLAG_HOLD);
    ck_assert_uint_eq(R.st.y & Y_CYL, 0);
    for (unsigned k = 1; k <= 5; k++) ck_assert_uint_eq(W.refused_rule[k], 0);
    ck_assert_uint_eq(C.sup.refused_total, 0);
}
END_TEST

START_TEST(test_ack_reset_auto_resume)
{
    /* E-stop while standing; acknowledge refused while pressed; released and
     * acknowledged: the modes sent are HOLD, RESET, AUTO, in that order, each
     * with a new number; then a full step runs clean */
    start(150.0f, 150.0f, 1);
    W.estop = 1;
    ck_assert(fp_until(&R, fp_is_held, 3));
    ck_assert_int_eq(C.sup.reason, SUP_R_ESTOP);
    ck_assert_int_eq(ctl_acknowledge(&C), CTL_EFAULT);
    fp_cycles(&R, 5);
    ck_assert_int_eq(C.sup.phase, SUP_HELD);
    W.estop = 0;
    fp_cycles(&R, 2);
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 10.0f, 0.0f), CTL_ESTATE); /* not while held */
    ck_assert_int_eq(ctl_acknowledge(&C), 0);
    cc_mode modes[8];
    unsigned nm = 0;
    uint16_t last_seq = C.cmd.seq;
    modes[nm++] = C.cmd.mode;
    for (unsigned i = 0; i < 50 && !fp_is_running(&R); i++) {
        fp_cycle(&R);
        if (C.cmd.seq != last_seq && nm < 8) modes[nm++] = C.cmd.mode;
        last_seq = C.cmd.seq;
    }
    ck_assert(fp_is_running(&R));
    ck_assert_uint_eq(nm, 3);
    ck_assert_int_eq(modes[0], CC_MODE_HOLD);
    ck_assert_int_eq(modes[1], CC_MODE_RESET);
    ck_assert_int_eq(modes[2], CC_MODE_AUTO);
    ck_assert_int_eq(R.st.flags & CC_FLAG_HOLD, 0);
    ck_assert_uint_eq(R.st.hold_reason, 0);
    ck_assert_int_eq(ctl_full_step(&C, HOLD_GROUP_A, 40.0f, 40.0f), 0);
    ck_assert(fp_until(&R, fp_is_idle, 4000));
    ck_assert_uint_eq(C.gait.half_steps, 2);
    for (unsigned k = 1; k <= 5; k++) ck_assert_uint_eq(W.refused_rule[k], 0);
    ck_assert_uint_eq(C.stats.refused_by_plc, 0);
    ck_assert_uint_eq(R.seq_errors, 0);
}
END_TEST

START_TEST(test_reset_refused)
{
    start(150.0f, 150.0f, 1);
    ck_assert_int_eq(ctl_operator_hold(&C), 0);
    fp_cycles(&R, 2);
    ck_assert(R.st.flags & CC_FLAG_HOLD);
    ck_assert_int_eq(ctl_acknowledge(&C), 0);
    W.force_reject = 1; /* the PLC refuses the RESET */
    fp_cycles(&R, 3);
    ck_assert_int_eq(W.force_reject, 0); /* it was used */
    ck_assert_int_eq(C.sup.phase, SUP_HELD);
    ck_assert_int_eq(C.sup.reason, SUP_R_RESET_REFUSED);
    ck_assert_uint_eq(C.stats.refused_by_plc, 0); /* a refused RESET is its own reason */
    ck_assert_int_eq(ctl_acknowledge(&C), 0);
    ck_assert(fp_until(&R, fp_is_running, 50));
    ck_assert_int_eq(R.st.flags & CC_FLAG_HOLD, 0);
}
END_TEST

static Suite *supervisor_suite(void)
{
    Suite *s = suite_create("supervisor");
    TCase *t = tcase_create("rules");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, test_names);
    tcase_add_test(t, test_hold_pattern);
    tcase_add_test(t, test_s1);
    tcase_add_test(t, test_s2);
    tcase_add_test(t, test_s3);
    tcase_add_test(t, test_l5_mode_outputs_legs);
    tcase_add_test(t, test_plc_mirror_cases);
    tcase_add_loop_test(t, test_status_faults, 0, (int)(sizeof fault_cases / sizeof fault_cases[0]));
    tcase_add_test(t, test_resetting_phase);
    suite_add_tcase(s, t);

    t = tcase_create("mirror");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, test_plc_mirror_vs_program);
    suite_add_tcase(s, t);

    t = tcase_create("controller");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_loop_test(t, test_jog_violations_refused, 0, (int)(sizeof jog_cases / sizeof jog_cases[0]));
    tcase_add_loop_test(t, test_plant_faults_hold, 0, (int)(sizeof plant_want / sizeof plant_want[0]));
    tcase_add_test(t, test_ack_reset_auto_resume);
    tcase_add_test(t, test_reset_refused);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(supervisor_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
