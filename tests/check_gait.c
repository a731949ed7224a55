/*
 * check_gait.c — the gait (controller/gait.h) alone on hand-made status
 * images, and through the controller (controller/ctl.h) against the scripted
 * robot of tests/fakeplant.h, whose PLC is the shipped instruction list.
 *
 * Covered: the kinematic sign table and request validation; every
 * transition of a half-step of A and of B with the output word of each
 * state; full steps with and without position sensors; every step timeout
 * ending in a HOLD with its reason; the recovery ladder (3 reseats, shifted
 * foothold, HOLD) and its early exits; the state re-derived from mid-step
 * images and after a controller restart in mid-step; the sequence-number,
 * heartbeat and pending-command rules.  In every integration run the PLC
 * refuses nothing (its interlocks are counted by the fake).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctl.h"
#include "controller/gait.h"
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

/* ------------------------------------------------------ pure gait tests */

static void image_standing(cc_status *st, float x_mm, float y_mm)
{
    memset(st, 0, sizeof *st);
    st->x = X_OK | CC_X_A_DOWN | CC_X_B_DOWN | CC_X_A_VAC_OK | CC_X_B_VAC_OK;
    st->y = Y_BOTH;
    for (unsigned i = 0; i < 12; i++) st->cup_kpa[i] = 60.0f;
    st->pos_valid[0] = st->pos_valid[1] = 1;
    st->pos_mm[0] = x_mm;
    st->pos_mm[1] = y_mm;
}

/* Group g in the air: legs up, cups 0, its valves off (D103 as the PLC drives it in HOLD: vacuum on). */
static void image_lift(cc_status *st, hold_group g)
{
    const hold_group_io *io = hold_io(g);
    st->x &= ~(io->x_down | io->x_vac_ok);
    st->x |= io->x_up;
    st->y &= (uint16_t)~io->y_down;
    for (unsigned i = 0; i < 6; i++) st->cup_kpa[io->cup_first + i] = 0.0f;
}

/* Run the gait on a fixed image for n ticks from t0; returns the union of outputs. */
static uint16_t run_image(gait *g, const cc_status *st, uint32_t t0, unsigned n)
{
    uint16_t all = 0, out = 0;
    for (unsigned i = 0; i < n; i++) {
        ck_assert_int_eq(gait_update(g, st, t0 + i, &out), 0);
        all |= out;
    }
    return all;
}

START_TEST(test_kinematics_table)
{
    float dp[2];
    gait_cyl_delta_mm(HOLD_GROUP_A, 100.0f, 50.0f, dp);
    ck_assert(dp[0] == -100.0f && dp[1] == 50.0f); /* B grips: A = (B_x - p_x, B_y + p_y) */
    gait_cyl_delta_mm(HOLD_GROUP_B, 100.0f, 50.0f, dp);
    ck_assert(dp[0] == 100.0f && dp[1] == -50.0f); /* A grips: B = (A_x + p_x, A_y - p_y) */
}
END_TEST

START_TEST(test_names)
{
    for (int s = 0; s < GAIT_STATE_COUNT; s++) {
        ck_assert_str_ne(gait_state_name((gait_state)s), "?");
        for (int t = 0; t < s; t++)
            ck_assert_str_ne(gait_state_name((gait_state)s), gait_state_name((gait_state)t));
    }
    for (int f = 0; f < GAIT_FAIL_COUNT; f++) {
        ck_assert_str_ne(gait_fail_name((gait_fail)f), "?");
        for (int t = 0; t < f; t++)
            ck_assert_str_ne(gait_fail_name((gait_fail)f), gait_fail_name((gait_fail)t));
    }
    for (int k = 0; k < GAIT_KIND_COUNT; k++) ck_assert_str_ne(gait_kind_name((gait_kind)k), "?");
    for (int k = 0; k < GAIT_GOAL_COUNT; k++) ck_assert_str_ne(gait_goal_name((gait_goal_mode)k), "?");
    ck_assert_str_eq(gait_goal_name(GAIT_GOAL_POS), "position");
    ck_assert_str_eq(gait_state_name(GAIT_STATE_COUNT), "?");
    ck_assert_str_eq(gait_fail_name(GAIT_FAIL_COUNT), "?");
    ck_assert_str_eq(gait_state_name(GAIT_SETTLE), "settle");
    ck_assert_str_eq(gait_fail_name(GAIT_FAIL_RELEASE_TIMEOUT), "release-timeout");
    ck_assert_str_eq(gait_strerror(GAIT_ENOSENSOR), "target between the ends needs a position sensor");
}
END_TEST

START_TEST(test_requests)
{
    gait g;
    cc_status st;
    uint16_t out;
    gait_init(&g, &P);
    image_standing(&st, 150.0f, 150.0f);
    /* not derived yet: busy */
    ck_assert_int_eq(gait_request_half_step(&g, &st, HOLD_GROUP_A, 10.0f, 0.0f), GAIT_EBUSY);
    ck_assert_int_eq(gait_update(&g, &st, 0, &out), 0);
    ck_assert_int_eq(g.state, GAIT_IDLE);
    ck_assert_uint_eq(out, Y_BOTH);

    ck_assert_int_eq(gait_request_half_step(&g, &st, HOLD_GROUP_A, NAN, 0.0f), GAIT_EARG);
    ck_assert_int_eq(gait_request_half_step(&g, &st, (hold_group)2, 1.0f, 0.0f), GAIT_EARG);
    /* A lifted by +100 X: X cylinder 150 -> 50; by +200: -50, out of stroke */
    ck_assert_int_eq(gait_request_half_step(&g, &st, HOLD_GROUP_A, 200.0f, 0.0f), GAIT_ERANGE);
    ck_assert_int_eq(gait_request_half_step(&g, &st, HOLD_GROUP_A, 100.0f, 40.0f), 0);
    ck_assert_uint_eq(g.plan_n, 1);
    ck_assert_int_eq(g.plan[0].axis[0].mode, GAIT_GOAL_POS);
    ck_assert(fabsf(g.plan[0].axis[0].target_mm - 50.0f) < 1e-3f);
    ck_assert_int_eq(g.plan[0].axis[1].mode, GAIT_GOAL_POS);
    ck_assert(fabsf(g.plan[0].axis[1].target_mm - 190.0f) < 1e-3f);
    ck_assert_int_eq(gait_idle(&g), 0);
    ck_assert_int_eq(gait_request_half_step(&g, &st, HOLD_GROUP_B, 1.0f, 0.0f), GAIT_EBUSY);
    gait_cancel(&g);
    ck_assert_int_eq(gait_idle(&g), 1);

    /* full step +150 X starting with B: B moves X +150 (-> 300 = the end), A -150 (-> 150) */
    ck_assert_int_eq(gait_request_full_step(&g, &st, HOLD_GROUP_B, 150.0f, 0.0f), 0);
    ck_assert_uint_eq(g.plan_n, 2);
    ck_assert_int_eq(g.plan[0].group, HOLD_GROUP_B);
    ck_assert_int_eq(g.plan[0].axis[0].mode, GAIT_GOAL_END);
    ck_assert(g.plan[0].axis[0].target_mm == 300.0f);
    ck_assert_int_eq(g.plan[0].axis[1].mode, GAIT_GOAL_NONE);
    ck_assert_int_eq(g.plan[1].group, HOLD_GROUP_A);
    ck_assert_int_eq(g.plan[1].axis[0].mode, GAIT_GOAL_POS);
    ck_assert(g.plan[1].axis[0].target_mm == 150.0f);
    gait_cancel(&g);
    /* the same step starting with A needs X >= 150 + ... : A moves X -150 -> 0, B +150 -> 150 */
    ck_assert_int_eq(gait_request_full_step(&g, &st, HOLD_GROUP_A, 160.0f, 0.0f), GAIT_ERANGE);
    ck_assert_int_eq(gait_idle(&g), 1);

    /* no position sensors: end to end only */
    st.pos_valid[0] = st.pos_valid[1] = 0;
    st.x |= CC_X_XCYL_PLUS_END | CC_X_YCYL_MINUS_END;
    ck_assert_int_eq(gait_request_half_step(&g, &st, HOLD_GROUP_A, 100.0f, 0.0f), GAIT_ENOSENSOR);
    ck_assert_int_eq(gait_request_half_step(&g, &st, HOLD_GROUP_B, 300.0f, 0.0f), GAIT_ERANGE);
    ck_assert_int_eq(gait_request_full_step(&g, &st, HOLD_GROUP_A, 300.0f, 300.0f), 0);
    ck_assert_int_eq(g.plan[0].axis[0].mode, GAIT_GOAL_END);
    ck_assert(g.plan[0].axis[0].target_mm == 0.0f);
    ck_assert(g.plan[0].axis[1].target_mm == 300.0f);
    ck_assert(g.plan[1].axis[0].target_mm == 300.0f);
    ck_assert(g.plan[1].axis[1].target_mm == 0.0f);
    gait_cancel(&g);
    /* neither at an end nor a sensor: position unknown */
    st.x &= ~CC_X_XCYL_PLUS_END;
    ck_assert_int_eq(gait_request_half_step(&g, &st, HOLD_GROUP_A, -300.0f, 0.0f), GAIT_EPOSITION);
    /* absolute targets: an end is fine without a sensor, a middle is not */
    float to_end[2] = {300.0f, NAN}, to_mid[2] = {120.0f, NAN};
    ck_assert_int_eq(gait_request_half_to(&g, &st, HOLD_GROUP_B, to_mid), GAIT_ENOSENSOR);
    ck_assert_int_eq(gait_request_half_to(&g, &st, HOLD_GROUP_B, to_end), 0);
    ck_assert_int_eq(g.plan[0].axis[0].mode, GAIT_GOAL_END);
    ck_assert_int_eq(g.plan[0].axis[1].mode, GAIT_GOAL_NONE);
}
END_TEST

/* Mid-step images, no plan: what the gait derives and what it asks for first. */
START_TEST(test_derive_images)
{
    gait g;
    cc_status st;
    uint16_t out, all;

    /* 1. both verified -> IDLE */
    gait_init(&g, &P);
    image_standing(&st, 150.0f, 150.0f);
    ck_assert_int_eq(gait_update(&g, &st, 0, &out), 0);
    ck_assert_int_eq(g.state, GAIT_IDLE);
    ck_assert_uint_eq(out, Y_BOTH);

    /* 2. B verified, A up (the PLC's HOLD turned A's vacuum on) -> regrip A: VERIFY then LOWER */
    gait_init(&g, &P);
    image_standing(&st, 120.0f, 150.0f);
    image_lift(&st, HOLD_GROUP_A);
    ck_assert_int_eq(gait_update(&g, &st, 0, &out), 0);
    ck_assert_int_eq(g.state, GAIT_VERIFY);
    ck_assert_int_eq(g.resume_to, GAIT_LOWER);
    ck_assert_int_eq(g.kind, GAIT_KIND_REGRIP);
    ck_assert_int_eq(g.g, HOLD_GROUP_A);
    ck_assert_uint_eq(out, CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_A_VAC); /* nothing moves yet */
    all = run_image(&g, &st, 1, P.settle_ticks - 1);
    ck_assert_int_eq(g.state, GAIT_VERIFY); /* holder verified for less than the settle time */
    ck_assert_uint_eq(all & (Y_CYL | CC_Y_A_BLOW | CC_Y_B_BLOW | CC_Y_A_DOWN), 0);
    run_image(&g, &st, P.settle_ticks, 1);
    ck_assert_int_eq(g.state, GAIT_LOWER);

    /* 3. B verified, A down and released -> VERIFY then GRIP */
    gait_init(&g, &P);
    image_standing(&st, 150.0f, 150.0f);
    for (unsigned i = 0; i < 6; i++) st.cup_kpa[i] = 5.0f;
    st.x &= ~CC_X_A_VAC_OK;
    ck_assert_int_eq(gait_update(&g, &st, 0, &out), 0);
    ck_assert_int_eq(g.state, GAIT_VERIFY);
    ck_assert_int_eq(g.resume_to, GAIT_GRIP);
    ck_assert_uint_eq(out, Y_BOTH);

    /* 4. B verified, A legs between the switches -> VERIFY then LOWER */
    gait_init(&g, &P);
    image_standing(&st, 150.0f, 150.0f);
    image_lift(&st, HOLD_GROUP_A);
    st.x &= ~CC_X_A_UP;
    ck_assert_int_eq(gait_update(&g, &st, 0, &out), 0);
    ck_assert_int_eq(g.resume_to, GAIT_LOWER);

    /* 5. A verified, B down partly sealed -> regrip B */
    gait_init(&g, &P);
    image_standing(&st, 150.0f, 150.0f);
    for (unsigned i = 6; i < 12; i++) st.cup_kpa[i] = 30.0f;
    st.x &= ~CC_X_B_VAC_OK;
    ck_assert_int_eq(gait_update(&g, &st, 0, &out), 0);
    ck_assert_int_eq(g.g, HOLD_GROUP_B);
    ck_assert_int_eq(g.resume_to, GAIT_GRIP);

    /* 6. neither verified -> FAILED no-grip, safe outputs */
    gait_init(&g, &P);
    image_standing(&st, 150.0f, 150.0f);
    st.cup_kpa[0] = 30.0f;
    st.cup_kpa[11] = 30.0f;
    ck_assert_int_eq(gait_update(&g, &st, 0, &out), 0);
    ck_assert_int_eq(g.state, GAIT_FAILED);
    ck_assert_int_eq(g.fail, GAIT_FAIL_NO_GRIP);
    ck_assert_uint_eq(out, Y_BOTH);
}
END_TEST

/* Mid-step images with a half-step planned: the plan resumes where the status says. */
START_TEST(test_derive_with_plan)
{
    gait g;
    cc_status st;
    uint16_t out, all;

    /* plan: A by +60 X from X = 150 -> X cylinder 90 */
    gait_init(&g, &P);
    image_standing(&st, 150.0f, 150.0f);
    gait_update(&g, &st, 0, &out);
    ck_assert_int_eq(gait_request_half_step(&g, &st, HOLD_GROUP_A, 60.0f, 0.0f), 0);

    /* 7. A up, X at 120 (held in mid-move): VERIFY, then MOVE on towards 90 (-X) */
    gait_invalidate(&g);
    image_lift(&st, HOLD_GROUP_A);
    st.pos_mm[0] = 120.0f;
    all = run_image(&g, &st, 100, P.settle_ticks);
    ck_assert_int_eq(g.resume_to, GAIT_MOVE);
    ck_assert_int_eq(g.kind, GAIT_KIND_STEP);
    ck_assert_uint_eq(all & Y_CYL, 0); /* no motion before the holder is verified for the settle time */
    run_image(&g, &st, 100 + P.settle_ticks, 1);
    ck_assert_int_eq(g.state, GAIT_MOVE);
    gait_update(&g, &st, 101 + P.settle_ticks, &out);
    ck_assert_uint_eq(out & Y_CYL, CC_Y_X_MINUS);
    ck_assert_uint_eq(out & (CC_Y_A_VAC | CC_Y_A_DOWN), 0);

    /* 8. A up, X already at 90: the motion is done -> VERIFY then LOWER */
    gait_invalidate(&g);
    st.pos_mm[0] = 90.0f;
    gait_update(&g, &st, 500, &out);
    ck_assert_int_eq(g.state, GAIT_VERIFY);
    ck_assert_int_eq(g.resume_to, GAIT_LOWER);
    ck_assert_int_eq(g.plan_half, 1);

    /* 9. both gripping, X at 90: moved and down again -> only SETTLE is left */
    gait_invalidate(&g);
    image_standing(&st, 90.0f, 150.0f);
    gait_update(&g, &st, 600, &out);
    ck_assert_int_eq(g.state, GAIT_SETTLE);
    ck_assert_uint_eq(out, Y_BOTH);
    run_image(&g, &st, 601, P.settle_ticks);
    ck_assert_int_eq(g.state, GAIT_IDLE);
    ck_assert_int_eq(gait_idle(&g), 1);
    ck_assert_uint_eq(g.half_steps, 1);

    /* 10. both gripping, X still at 150: nothing happened yet -> VERIFY, RELEASE */
    ck_assert_int_eq(gait_request_half_step(&g, &st, HOLD_GROUP_A, -60.0f, 0.0f), 0); /* 90 -> 150 */
    gait_invalidate(&g);
    gait_update(&g, &st, 700, &out);
    ck_assert_int_eq(g.state, GAIT_VERIFY);
    ck_assert_int_eq(g.resume_to, GAIT_RELEASE);
    run_image(&g, &st, 701, P.settle_ticks);
    ck_assert_int_eq(g.state, GAIT_RELEASE);
    gait_update(&g, &st, 702 + P.settle_ticks, &out);
    ck_assert_uint_eq(out, CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_A_DOWN | CC_Y_A_BLOW);
}
END_TEST

/* The gait's own check of the holder (the supervisor's S1 is the second line):
 * B loses a cup's seal while A is in the air, and while A settles. */
START_TEST(test_holder_lost)
{
    gait g;
    cc_status st;
    uint16_t out;
    gait_init(&g, &P);
    image_standing(&st, 150.0f, 150.0f);
    gait_update(&g, &st, 0, &out);
    ck_assert_int_eq(gait_request_half_step(&g, &st, HOLD_GROUP_A, 60.0f, 0.0f), 0);
    gait_invalidate(&g); /* resume in mid-move from an image */
    image_lift(&st, HOLD_GROUP_A);
    st.pos_mm[0] = 120.0f;
    run_image(&g, &st, 10, P.settle_ticks + 2);
    ck_assert_int_eq(g.state, GAIT_MOVE);
    st.cup_kpa[10] = 40.0f;
    gait_update(&g, &st, 100, &out);
    ck_assert_int_eq(g.state, GAIT_FAILED);
    ck_assert_int_eq(g.fail, GAIT_FAIL_HOLDER_LOST);
    ck_assert_uint_eq(out & Y_CYL, 0);
    ck_assert_uint_eq(out & (CC_Y_A_VAC | CC_Y_B_VAC), CC_Y_A_VAC | CC_Y_B_VAC);

    /* in SETTLE A grips again; B's seal goes: still a failure (B is the holder of record) */
    gait_invalidate(&g);
    image_standing(&st, 90.0f, 150.0f);
    gait_update(&g, &st, 200, &out);
    ck_assert_int_eq(g.state, GAIT_SETTLE);
    st.cup_kpa[6] = 44.0f;
    gait_update(&g, &st, 201, &out);
    ck_assert_int_eq(g.state, GAIT_FAILED);
    ck_assert_int_eq(g.fail, GAIT_FAIL_HOLDER_LOST);
}
END_TEST

/* ------------------------------------------------- integration helpers */

/* Start the world and the controller, acknowledge, run to IDLE. */
static void start(float x_mm, float y_mm, int pos_sensor)
{
    char err[160];
    ck_assert_int_eq(fp_init(&W, x_mm, y_mm, pos_sensor), 0);
    ck_assert_int_eq(ctl_init(&C, &P, err, sizeof err), 0);
    ck_assert_int_eq(fp_run_start(&R, &C, &W), 0);
    ck_assert_int_eq(C.sup.phase, SUP_HELD);
    ck_assert_int_eq(C.sup.reason, SUP_R_STARTUP);
    fp_cycles(&R, 3);
    ck_assert_int_eq(ctl_acknowledge(&C), 0);
    ck_assert_msg(fp_until(&R, fp_is_idle, 200), "not running/idle after the acknowledge");
}

/* What every integration run must show. */
static void assert_clean_run(void)
{
    ck_assert_uint_eq(W.refused, 0);
    ck_assert_uint_eq(C.stats.refused_by_plc, 0);
    ck_assert_uint_eq(C.sup.refused_total, 0);
    ck_assert_uint_eq(R.mirror_refusals, 0);
    ck_assert_uint_eq(R.seq_errors, 0);
    ck_assert_uint_eq(R.hb_errors, 0);
    ck_assert_uint_eq(R.period_errors, 0);
}

/* Output words seen per gait state during a run. */
typedef struct {
    uint16_t or_[GAIT_STATE_COUNT], and_[GAIT_STATE_COUNT];
    unsigned n[GAIT_STATE_COUNT];
} state_outputs;

static void run_recording(state_outputs *so, unsigned max)
{
    memset(so, 0, sizeof *so);
    for (unsigned i = 0; i < GAIT_STATE_COUNT; i++) so->and_[i] = 0xFFFF;
    for (unsigned i = 0; i < max; i++) {
        fp_cycle(&R);
        gait_state s = C.gait.state;
        if (!C.pending && C.cmd.mode == CC_MODE_AUTO) {
            so->or_[s] |= C.cmd.outputs;
            so->and_[s] &= C.cmd.outputs;
            so->n[s]++;
        }
        if (fp_is_idle(&R)) return;
    }
    ck_abort_msg("half-step did not finish in %u cycles", max);
}

static int near_mm(float got, float want) { return fabsf(got - want) <= 3.0f; }

static const gait_state HALF[] = {GAIT_IDLE, GAIT_VERIFY, GAIT_RELEASE, GAIT_LIFT, GAIT_MOVE,
                                  GAIT_LOWER, GAIT_GRIP, GAIT_SETTLE, GAIT_IDLE};
#define HALF_N (sizeof HALF / sizeof HALF[0])

/* The trace from the last IDLE before the request on is exactly HALF. */
static void assert_half_trace(unsigned from)
{
    ck_assert_uint_ge(R.trace_n, from + HALF_N);
    for (unsigned i = 0; i < HALF_N; i++)
        ck_assert_msg(R.trace[from + i] == HALF[i], "transition %u: %s, expected %s", i,
                      gait_state_name(R.trace[from + i]), gait_state_name(HALF[i]));
    ck_assert_uint_eq(R.trace_n, from + HALF_N);
}

START_TEST(test_half_step_a_transitions)
{
    state_outputs so;
    const uint16_t base = CC_Y_B_DOWN | CC_Y_B_VAC;
    start(150.0f, 150.0f, 1);
    unsigned from = R.trace_n - 1;
    /* A by (+60, +30): X cylinder 150 -> 90 (-X valve), Y 150 -> 180 (+Y valve) */
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 60.0f, 30.0f), 0);
    run_recording(&so, 2000);
    assert_half_trace(from);
    ck_assert_uint_eq(so.or_[GAIT_VERIFY], Y_BOTH);
    ck_assert_uint_eq(so.or_[GAIT_RELEASE], base | CC_Y_A_DOWN | CC_Y_A_BLOW);
    ck_assert_uint_eq(so.and_[GAIT_RELEASE], base | CC_Y_A_DOWN | CC_Y_A_BLOW);
    ck_assert_uint_eq(so.or_[GAIT_LIFT], base);
    ck_assert_uint_eq(so.and_[GAIT_MOVE] & base, base);
    ck_assert_uint_eq(so.or_[GAIT_MOVE] & ~base, CC_Y_X_MINUS | CC_Y_Y_PLUS);
    ck_assert_uint_eq(so.or_[GAIT_LOWER], base | CC_Y_A_DOWN);
    ck_assert_uint_eq(so.or_[GAIT_GRIP], Y_BOTH);
    ck_assert_uint_eq(so.or_[GAIT_SETTLE], Y_BOTH);
    ck_assert_uint_ge(so.n[GAIT_SETTLE], 1);
    ck_assert_msg(near_mm(W.pos_mm[0], 90.0f) && near_mm(W.pos_mm[1], 180.0f), "cylinders at %.1f %.1f",
                  (double)W.pos_mm[0], (double)W.pos_mm[1]);
    ck_assert(W.leg_mm[0] == FP_LEG_STROKE_MM);
    ck_assert_uint_eq(C.gait.half_steps, 1);
    ck_assert_msg(C.gait.sf_at_release_min >= 2.0f, "sf at release %.2f", (double)C.gait.sf_at_release_min);
    assert_clean_run();
}
END_TEST

START_TEST(test_half_step_b_transitions)
{
    state_outputs so;
    const uint16_t base = CC_Y_A_DOWN | CC_Y_A_VAC;
    start(150.0f, 150.0f, 1);
    unsigned from = R.trace_n - 1;
    /* B by (+60, +30): X 150 -> 210 (+X valve), Y 150 -> 120 (-Y valve) */
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_B, 60.0f, 30.0f), 0);
    run_recording(&so, 2000);
    assert_half_trace(from);
    ck_assert_uint_eq(so.or_[GAIT_RELEASE], base | CC_Y_B_DOWN | CC_Y_B_BLOW);
    ck_assert_uint_eq(so.or_[GAIT_LIFT], base);
    ck_assert_uint_eq(so.or_[GAIT_MOVE] & ~base, CC_Y_X_PLUS | CC_Y_Y_MINUS);
    ck_assert_uint_eq(so.or_[GAIT_LOWER], base | CC_Y_B_DOWN);
    ck_assert_uint_eq(so.or_[GAIT_GRIP], Y_BOTH);
    ck_assert_msg(near_mm(W.pos_mm[0], 210.0f) && near_mm(W.pos_mm[1], 120.0f), "cylinders at %.1f %.1f",
                  (double)W.pos_mm[0], (double)W.pos_mm[1]);
    assert_clean_run();
}
END_TEST

START_TEST(test_full_steps_with_sensors)
{
    start(150.0f, 150.0f, 1);
    /* forward +X 100, then sideways +Y 80 (a change of direction), then back -X 100 */
    ck_assert_int_eq(ctl_full_step(&C, HOLD_GROUP_A, 100.0f, 0.0f), 0);
    ck_assert(fp_until(&R, fp_is_idle, 4000));
    ck_assert_uint_eq(C.gait.half_steps, 2);
    ck_assert(near_mm(W.pos_mm[0], 150.0f) && near_mm(W.pos_mm[1], 150.0f));
    ck_assert_int_eq(ctl_full_step(&C, HOLD_GROUP_B, 0.0f, 80.0f), 0);
    ck_assert(fp_until(&R, fp_is_idle, 4000));
    ck_assert_int_eq(ctl_full_step(&C, HOLD_GROUP_B, -100.0f, 0.0f), 0);
    ck_assert(fp_until(&R, fp_is_idle, 4000));
    ck_assert_uint_eq(C.gait.half_steps, 6);
    ck_assert(near_mm(W.pos_mm[0], 150.0f) && near_mm(W.pos_mm[1], 150.0f));
    ck_assert_int_eq(C.sup.phase, SUP_RUNNING);
    ck_assert(C.gait.sf_at_release_min >= 2.0f);
    /* the lifted group alternates */
    static const gait_state two[] = {GAIT_LIFT, GAIT_MOVE, GAIT_SETTLE, GAIT_LIFT, GAIT_MOVE, GAIT_SETTLE};
    ck_assert(fp_trace_has(&R, two, 6));
    assert_clean_run();
}
END_TEST

START_TEST(test_full_step_end_switches)
{
    /* no position sensors: X at the +end, Y at the -end; diagonal step (+300, +300):
     * A: X -> -end, Y -> +end; B: X -> +end, Y -> -end */
    start(300.0f, 0.0f, 0);
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 100.0f, 0.0f), CTL_ENOSENSOR);
    ck_assert_int_eq(ctl_full_step(&C, HOLD_GROUP_A, 300.0f, 300.0f), 0);
    ck_assert(fp_until(&R, fp_is_running, 10)); /* still running */
    int seen_a_end = 0;
    for (unsigned i = 0; i < 6000 && !fp_is_idle(&R); i++) {
        fp_cycle(&R);
        if (C.gait.state == GAIT_LOWER && C.gait.g == HOLD_GROUP_A && W.pos_mm[0] == 0.0f &&
            W.pos_mm[1] == 300.0f)
            seen_a_end = 1;
    }
    ck_assert(fp_is_idle(&R));
    ck_assert_msg(seen_a_end, "A's half-step did not end at the end switches");
    ck_assert(W.pos_mm[0] == 300.0f && W.pos_mm[1] == 0.0f);
    ck_assert_uint_eq(C.gait.half_steps, 2);
    assert_clean_run();
}
END_TEST

/* ---------------------------------------------------------- timeouts */

static int gait_in_move(const fp_run *r) { return r->c->gait.state == GAIT_MOVE; }
static int gait_in_verify(const fp_run *r) { return r->c->gait.state == GAIT_VERIFY; }

/* Run until HOLD; check reason, HOLD pattern sent, PLC holding, nothing refused. */
static void assert_gait_hold(gait_fail want, unsigned max)
{
    ck_assert_msg(fp_until(&R, fp_is_held, max), "no HOLD (gait %s)", gait_state_name(C.gait.state));
    ck_assert_int_eq(C.sup.reason, SUP_R_GAIT);
    ck_assert_msg(C.sup.detail == (unsigned)want, "gait failure %s, expected %s",
                  gait_fail_name((gait_fail)C.sup.detail), gait_fail_name(want));
    ck_assert_int_eq(C.cmd.mode, CC_MODE_HOLD);
    ck_assert_uint_eq(C.cmd.outputs & (Y_CYL | CC_Y_A_BLOW | CC_Y_B_BLOW | CC_Y_BRUSH | CC_Y_SPRAY), 0);
    ck_assert_uint_eq(C.cmd.outputs & (CC_Y_A_VAC | CC_Y_B_VAC | CC_Y_BEACON),
                      CC_Y_A_VAC | CC_Y_B_VAC | CC_Y_BEACON);
    fp_cycles(&R, 2);
    ck_assert(R.st.flags & CC_FLAG_HOLD);
    ck_assert_uint_eq(R.st.hold_reason, CC_HOLD_COMMANDED);
    ck_assert_uint_eq(R.st.y & Y_CYL, 0);
    ck_assert_uint_eq(W.refused, 0);
    ck_assert_uint_eq(C.sup.refused_total, 0);
}

START_TEST(test_timeout_verify)
{
    start(150.0f, 150.0f, 1);
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 30.0f, 0.0f), 0);
    /* the holder B loses a cup's seal before it was verified for the settle time */
    W.cup_max_kpa[6] = W.cup_kpa[6] = 44.0f;
    ck_assert(fp_until(&R, gait_in_verify, 5));
    assert_gait_hold(GAIT_FAIL_VERIFY_TIMEOUT, P.verify_timeout_ticks + 10);
    ck_assert_uint_ge(R.cycles, P.verify_timeout_ticks);
    ck_assert(W.leg_mm[0] == FP_LEG_STROKE_MM); /* A never left */
}
END_TEST

START_TEST(test_timeout_release)
{
    start(150.0f, 150.0f, 1);
    W.no_release[0] = 1;
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 30.0f, 0.0f), 0);
    assert_gait_hold(GAIT_FAIL_RELEASE_TIMEOUT, 2000);
    ck_assert(W.leg_mm[0] == FP_LEG_STROKE_MM);
}
END_TEST

START_TEST(test_timeout_lift)
{
    start(150.0f, 150.0f, 1);
    W.leg_stuck[0] = 1;
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 30.0f, 0.0f), 0);
    assert_gait_hold(GAIT_FAIL_LIFT_TIMEOUT, 2000);
}
END_TEST

START_TEST(test_timeout_move)
{
    start(300.0f, 0.0f, 0); /* no sensor: only the move timeout can tell */
    W.cyl_stall[0] = 1;
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 300.0f, 0.0f), 0);
    assert_gait_hold(GAIT_FAIL_MOVE_TIMEOUT, 3000);
    ck_assert(W.leg_mm[0] == 0.0f); /* held with A up: legs as they are */
    ck_assert_uint_eq(C.cmd.outputs & CC_Y_A_DOWN, 0);
}
END_TEST

START_TEST(test_stall)
{
    start(150.0f, 150.0f, 1); /* with a sensor: no progress for stall_ticks */
    W.cyl_stall[1] = 1;
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_B, 0.0f, 100.0f), 0);
    ck_assert(fp_until(&R, gait_in_move, 500));
    unsigned t0 = R.cycles;
    assert_gait_hold(GAIT_FAIL_STALL, 2000);
    ck_assert_uint_lt(R.cycles - t0, P.move_timeout_ticks); /* long before the move timeout */
}
END_TEST

START_TEST(test_timeout_lower)
{
    start(150.0f, 150.0f, 1);
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 30.0f, 0.0f), 0);
    ck_assert(fp_until(&R, gait_in_move, 500));
    W.leg_stuck[0] = 1; /* up, and stays up */
    assert_gait_hold(GAIT_FAIL_LOWER_TIMEOUT, 2000);
}
END_TEST

START_TEST(test_timeout_grip_no_recovery)
{
    P.reseat_max = 0;
    P.shift_mm = 0.0f;
    start(150.0f, 150.0f, 1);
    W.cup_max_kpa[2] = 30.0f; /* A1c never seals */
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 30.0f, 0.0f), 0);
    assert_gait_hold(GAIT_FAIL_GRIP_TIMEOUT, 3000);
    ck_assert_uint_eq(C.gait.reseats_total, 0);
    ck_assert_uint_eq(C.gait.shifts_total, 0);
}
END_TEST

START_TEST(test_settle_leak)
{
    P.reseat_max = 0;
    P.shift_mm = 0.0f;
    start(150.0f, 150.0f, 1);
    W.cup_sag_kpa[4] = 0.03f; /* A2b leaks 3 kPa/s > 2 kPa/s allowed, stays sealed for 5 s */
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 30.0f, 0.0f), 0);
    int settled = 0;
    for (unsigned i = 0; i < 3000 && !fp_is_held(&R); i++) {
        fp_cycle(&R);
        if (C.gait.state == GAIT_SETTLE) settled = 1;
    }
    ck_assert(settled);
    ck_assert(fp_is_held(&R));
    ck_assert_int_eq(C.sup.reason, SUP_R_GAIT);
    ck_assert_int_eq(C.sup.detail, GAIT_FAIL_SETTLE_LEAK);
    ck_assert_msg(W.cup_kpa[4] >= P.vac_sealed_kpa, "held for the leak rate, not a lost seal (%.1f)",
                  (double)W.cup_kpa[4]);
    ck_assert_uint_eq(W.refused, 0);
}
END_TEST

/* ---------------------------------------------------------- recovery */

START_TEST(test_settle_leak_reseat)
{
    /* a leak found in SETTLE is a reason to reseat too; the reseat cures it */
    start(150.0f, 150.0f, 1);
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 30.0f, 0.0f), 0);
    W.cup_sag_kpa[3] = 0.03f; /* A2a leaks 3 kPa/s */
    for (unsigned i = 0; i < 6000 && !fp_is_idle(&R) && !fp_is_held(&R); i++) {
        fp_cycle(&R);
        if (C.gait.reseats == 1 && C.gait.state == GAIT_LIFT) {
            W.cup_sag_kpa[3] = 0.0f; /* seated anew */
            W.cup_max_kpa[3] = 60.0f;
        }
    }
    ck_assert_msg(fp_is_idle(&R), "held: %s/%s", sup_reason_name(C.sup.reason),
                  gait_fail_name((gait_fail)C.sup.detail));
    ck_assert_uint_eq(C.gait.reseats_total, 1);
    static const gait_state path[] = {GAIT_SETTLE, GAIT_RELEASE, GAIT_LIFT, GAIT_LOWER,
                                      GAIT_GRIP,   GAIT_SETTLE,  GAIT_IDLE};
    ck_assert(fp_trace_has(&R, path, sizeof path / sizeof path[0]));
    assert_clean_run();
}
END_TEST

START_TEST(test_recovery_ladder)
{
    start(150.0f, 150.0f, 1);
    W.cup_max_kpa[0] = 30.0f; /* A1a will not seal anywhere */
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 60.0f, 0.0f), 0); /* X 150 -> 90 */
    unsigned lifts = 0, moves = 0;
    float x_after_step = NAN;
    gait_state prev = C.gait.state;
    for (unsigned i = 0; i < 10000 && !fp_is_held(&R); i++) {
        fp_cycle(&R);
        gait_state s = C.gait.state;
        if (s != prev && s == GAIT_LIFT) lifts++;
        if (s != prev && s == GAIT_MOVE) moves++;
        if (s != prev && s == GAIT_GRIP && moves == 1 && isnan(x_after_step)) x_after_step = W.pos_mm[0];
        prev = s;
    }
    ck_assert(fp_is_held(&R));
    ck_assert_int_eq(C.sup.reason, SUP_R_GAIT);
    ck_assert_int_eq(C.sup.detail, GAIT_FAIL_GRIP_TIMEOUT);
    ck_assert_uint_eq(C.gait.reseats_total, 3);
    ck_assert_uint_eq(C.gait.shifts_total, 1);
    ck_assert_uint_eq(lifts, 1 + 3 + 1); /* the step, 3 reseats, the shifted foothold */
    ck_assert_uint_eq(moves, 2);         /* the step and the shift */
    ck_assert(near_mm(x_after_step, 90.0f));
    ck_assert_msg(fabsf(W.pos_mm[0] - x_after_step - P.shift_mm) <= 3.0f, "shift %.1f -> %.1f",
                  (double)x_after_step, (double)W.pos_mm[0]);
    static const gait_state ladder[] = {GAIT_MOVE,  GAIT_GRIP,    GAIT_RELEASE, GAIT_LIFT,
                                        GAIT_LOWER, GAIT_GRIP,    GAIT_RELEASE, GAIT_LIFT,
                                        GAIT_LOWER, GAIT_GRIP,    GAIT_RELEASE, GAIT_LIFT,
                                        GAIT_LOWER, GAIT_GRIP,    GAIT_RELEASE, GAIT_LIFT,
                                        GAIT_MOVE,  GAIT_LOWER,   GAIT_GRIP,    GAIT_FAILED};
    ck_assert(fp_trace_has(&R, ladder, sizeof ladder / sizeof ladder[0]));
    ck_assert_uint_eq(W.refused, 0);
    ck_assert_uint_eq(R.seq_errors, 0);
}
END_TEST

START_TEST(test_recovery_reseat_succeeds)
{
    start(150.0f, 150.0f, 1);
    W.cup_max_kpa[8] = 20.0f; /* B1c */
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_B, 40.0f, 0.0f), 0);
    for (unsigned i = 0; i < 8000 && !fp_is_idle(&R) && !fp_is_held(&R); i++) {
        fp_cycle(&R);
        if (C.gait.reseats == 2 && C.gait.state == GAIT_LIFT) W.cup_max_kpa[8] = 60.0f; /* a dirt speck wiped */
    }
    ck_assert(fp_is_idle(&R));
    ck_assert_uint_eq(C.gait.reseats_total, 2);
    ck_assert_uint_eq(C.gait.shifts_total, 0);
    ck_assert(near_mm(W.pos_mm[0], 190.0f));
    assert_clean_run();
}
END_TEST

START_TEST(test_recovery_shift_succeeds)
{
    start(150.0f, 150.0f, 1);
    W.cup_max_kpa[5] = 20.0f;
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 0.0f, 50.0f), 0);
    for (unsigned i = 0; i < 10000 && !fp_is_idle(&R) && !fp_is_held(&R); i++) {
        fp_cycle(&R);
        if (C.gait.kind == GAIT_KIND_SHIFT && C.gait.state == GAIT_MOVE) W.cup_max_kpa[5] = 60.0f;
    }
    ck_assert(fp_is_idle(&R));
    ck_assert_uint_eq(C.gait.reseats_total, 3);
    ck_assert_uint_eq(C.gait.shifts_total, 1);
    ck_assert(near_mm(W.pos_mm[0], 170.0f)); /* shifted 20 mm along X */
    ck_assert(near_mm(W.pos_mm[1], 200.0f));
    assert_clean_run();
}
END_TEST

START_TEST(test_recovery_shift_timed_without_sensor)
{
    start(300.0f, 0.0f, 0);
    W.cup_max_kpa[1] = 20.0f;
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 300.0f, 0.0f), 0); /* X -> -end */
    for (unsigned i = 0; i < 10000 && !fp_is_idle(&R) && !fp_is_held(&R); i++) {
        fp_cycle(&R);
        if (C.gait.kind == GAIT_KIND_SHIFT && C.gait.state == GAIT_LOWER) W.cup_max_kpa[1] = 60.0f;
    }
    ck_assert(fp_is_idle(&R));
    ck_assert_uint_eq(C.gait.shifts_total, 1);
    /* timed at 100 mm/s for 20 mm = 20 ticks; the fake moves 1.5 mm a tick (about 30 mm) */
    ck_assert_msg(W.pos_mm[0] > 10.0f && W.pos_mm[0] < 45.0f, "X %.1f", (double)W.pos_mm[0]);
    assert_clean_run();
}
END_TEST

/* ---------------------------------------------------------- restart */

static int gait_idle_or_held(const fp_run *r) { return fp_is_idle(r) || fp_is_held(r); }

/* Controller 1 dies in mid-move; ticks later controller 2 starts on the same
 * robot and PLC.  It must hold first, and after the acknowledge re-derive
 * (B holds, A up) and put A down without ever asking for a cylinder. */
static void restart_mid_move(unsigned dead_ticks)
{
    static ctl c2;
    fp_run r2;
    char err[80];
    start(150.0f, 150.0f, 1);
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 90.0f, 0.0f), 0); /* X 150 -> 60 */
    ck_assert(fp_until(&R, gait_in_move, 500));
    fp_cycles(&R, 5);
    ck_assert(W.y & CC_Y_X_MINUS); /* moving when it dies */
    const uint16_t d200_c1 = W.mem.d[CC_CMD_FIRST + CC_CMD_SEQ];
    const unsigned accepted_c1 = W.accepted;
    fp_idle(&W, dead_ticks);

    ck_assert_int_eq(ctl_init(&c2, &P, err, sizeof err), 0);
    ck_assert_int_eq(fp_run_start(&r2, &c2, &W), 0);
    ck_assert_int_eq(c2.sup.phase, SUP_HELD);
    ck_assert_int_eq(c2.cmd.mode, CC_MODE_HOLD);
    ck_assert_uint_ne(c2.cmd.seq, d200_c1); /* a number the PLC evaluates */
    ck_assert_uint_ne(c2.cmd.seq, r2.st.seq_echo);
    fp_cycle(&r2);
    ck_assert_uint_eq(W.accepted, accepted_c1 + 1); /* the HOLD was accepted at once */
    ck_assert(r2.st.flags & CC_FLAG_HOLD);
    ck_assert_uint_eq(r2.st.y & Y_CYL, 0); /* cylinders stopped */
    const float x_held = W.pos_mm[0];
    fp_cycles(&r2, 10);
    ck_assert(W.pos_mm[0] == x_held);

    ck_assert_int_eq(ctl_acknowledge(&c2), 0);
    ck_assert(fp_until(&r2, gait_idle_or_held, 3000));
    ck_assert_msg(fp_is_idle(&r2), "controller 2 held: %s", sup_reason_name(c2.sup.reason));
    static const gait_state regrip[] = {GAIT_UNKNOWN, GAIT_VERIFY, GAIT_LOWER, GAIT_GRIP, GAIT_SETTLE,
                                        GAIT_IDLE};
    ck_assert(fp_trace_has(&r2, regrip, sizeof regrip / sizeof regrip[0]));
    ck_assert_uint_eq(c2.gait.derives, 1);
    ck_assert_uint_eq(r2.or_outputs_auto & Y_CYL, 0); /* never a cylinder valve */
    ck_assert_uint_eq(r2.or_outputs_auto & (CC_Y_A_BLOW | CC_Y_B_BLOW), 0);
    ck_assert(W.pos_mm[0] == x_held);
    ck_assert(W.leg_mm[0] == FP_LEG_STROKE_MM);
    ck_assert_uint_eq(W.refused, 0);
    ck_assert_uint_eq(r2.seq_errors, 0);
    ck_assert_uint_eq(r2.hb_errors, 0);
    ck_assert_uint_eq(r2.mirror_refusals, 0);
}

START_TEST(test_restart_after_watchdog)
{
    restart_mid_move(80); /* dead for 0.8 s: the PLC's watchdog has held it */
    cc_status st;
    ck_assert_uint_eq(W.mem.d[CC_STATUS_FIRST + CC_ST_HOLD_REASON], 0); /* cleared by the RESET */
    fp_status(&W, &st);
    ck_assert_int_eq(st.flags & CC_FLAG_HOLD, 0);
}
END_TEST

START_TEST(test_restart_quick)
{
    restart_mid_move(10); /* back within 0.1 s: the PLC is still in AUTO, moving */
}
END_TEST

START_TEST(test_resume_plan_after_estop)
{
    /* E-stop in mid-move: HOLD; acknowledge refused while pressed; released,
     * acknowledged: RESET, re-derive (A up, X short of its target), VERIFY, the
     * move goes on to the same absolute target, and the half-step completes once */
    start(150.0f, 150.0f, 1);
    ck_assert_int_eq(ctl_half_step(&C, HOLD_GROUP_A, 90.0f, 0.0f), 0); /* X 150 -> 60 */
    ck_assert(fp_until(&R, gait_in_move, 500));
    fp_cycles(&R, 15);
    W.estop = 1;
    ck_assert(fp_until(&R, fp_is_held, 3));
    ck_assert_int_eq(C.sup.reason, SUP_R_ESTOP);
    const float x_held = W.pos_mm[0];
    ck_assert(x_held > 90.0f && x_held < 140.0f);
    ck_assert_int_eq(ctl_acknowledge(&C), CTL_EFAULT);
    fp_cycles(&R, 20);
    ck_assert(W.pos_mm[0] == x_held);
    W.estop = 0;
    fp_cycles(&R, 2);
    unsigned from = R.trace_n;
    ck_assert_int_eq(ctl_acknowledge(&C), 0);
    ck_assert(fp_until(&R, gait_idle_or_held, 3000));
    ck_assert_msg(fp_is_idle(&R), "held again: %s", sup_reason_name(C.sup.reason));
    ck_assert(near_mm(W.pos_mm[0], 60.0f));
    ck_assert_uint_eq(C.gait.half_steps, 1);
    ck_assert_uint_ge(C.gait.derives, 2);
    /* after the acknowledge: derived, verified, then the move continued */
    /* (UNKNOWN lasts no cycle: the RESET echo invalidates, the same cycle derives) */
    ck_assert_uint_ge(R.trace_n, from + 4);
    ck_assert_int_eq(R.trace[from], GAIT_VERIFY);
    ck_assert_int_eq(C.gait.resume_to, GAIT_MOVE);
    ck_assert_int_eq(R.trace[from + 1], GAIT_MOVE);
    ck_assert_int_eq(R.trace[from + 2], GAIT_LOWER);
    ck_assert_int_eq(R.trace[from + 3], GAIT_GRIP);
    for (unsigned k = 1; k <= 5; k++) ck_assert_uint_eq(W.refused_rule[k], 0);
    ck_assert_uint_eq(C.stats.refused_by_plc, 0);
    ck_assert_uint_eq(R.seq_errors, 0);
}
END_TEST

/* ----------------------------------------------------- command rules */

START_TEST(test_start_sequence_numbers)
{
    cc_status st;
    char err[80];
    ck_assert_int_eq(ctl_init(&C, &P, err, sizeof err), 0);
    ck_assert_int_eq(ctl_step(&C, &st, NULL), CTL_ESTATE); /* not started */
    image_standing(&st, 150.0f, 150.0f);
    st.seq_echo = 56;
    st.heartbeat_echo = 1000;
    st.flags = CC_FLAG_HOLD | CC_FLAG_REJECTED; /* the last command (57) was refused */
    ck_assert_int_eq(ctl_start(&C, &st, 57), 0);
    ck_assert_uint_eq(C.cmd.seq, 58);
    ck_assert_uint_eq(C.cmd.heartbeat, 1001);
    ck_assert_int_eq(C.cmd.mode, CC_MODE_HOLD);
    ck_assert_uint_eq(C.cmd.outputs, Y_BOTH | CC_Y_BEACON);
    ck_assert_uint_eq(C.cmd.period_ms, 10);
    ck_assert_int_eq(C.pending, 1);
    ck_assert_int_eq(ctl_start(&C, &st, -1), 0); /* D200 unknown: after the echo */
    ck_assert_uint_eq(C.cmd.seq, 57);
    ck_assert_int_eq(ctl_start(&C, &st, 55), 0); /* 56 would be the echo */
    ck_assert_uint_eq(C.cmd.seq, 57);
    ck_assert_int_eq(ctl_start(&C, &st, 65535), 0); /* wraps */
    ck_assert_uint_eq(C.cmd.seq, 0);
}
END_TEST

START_TEST(test_pending_and_deferral)
{
    cc_status st;
    char err[80];
    ck_assert_int_eq(ctl_init(&C, &P, err, sizeof err), 0);
    image_standing(&st, 150.0f, 150.0f);
    st.seq_echo = 10;
    st.heartbeat_echo = 7;
    st.flags = CC_FLAG_HOLD;
    st.tick = 100;
    ck_assert_int_eq(ctl_start(&C, &st, 10), 0);
    ck_assert_uint_eq(C.cmd.seq, 11);
    ck_assert_int_eq(ctl_acknowledge(&C), 0);
    /* the HOLD (11) is not echoed yet: the RESET waits */
    st.tick++;
    ck_assert_int_eq(ctl_step(&C, &st, NULL), 0);
    ck_assert_uint_eq(C.cmd.seq, 11);
    ck_assert_int_eq(C.cmd.mode, CC_MODE_HOLD);
    ck_assert_uint_eq(C.cmd.heartbeat, 9);
    ck_assert_uint_eq(C.stats.deferred, 1);
    /* echoed: the RESET goes out with the next number */
    st.seq_echo = 11;
    st.tick++;
    ck_assert_int_eq(ctl_step(&C, &st, NULL), 0);
    ck_assert_uint_eq(C.cmd.seq, 12);
    ck_assert_int_eq(C.cmd.mode, CC_MODE_RESET);
    ck_assert_uint_eq(C.cmd.outputs, Y_BOTH | CC_Y_BEACON);
    /* RESET echoed, PLC out of HOLD: enabling, state derived, AUTO */
    st.seq_echo = 12;
    st.flags = 0;
    st.tick++;
    ck_assert_int_eq(ctl_step(&C, &st, NULL), 0);
    ck_assert_int_eq(C.sup.phase, SUP_ENABLING);
    ck_assert_uint_eq(C.cmd.seq, 13);
    ck_assert_int_eq(C.cmd.mode, CC_MODE_AUTO);
    ck_assert_uint_eq(C.cmd.outputs, Y_BOTH);
    ck_assert_int_eq(C.gait.state, GAIT_IDLE);
    /* AUTO echoed: running; nothing changes, the number stays, the heartbeat counts */
    st.seq_echo = 13;
    for (unsigned i = 0; i < 5; i++) {
        st.tick++;
        ck_assert_int_eq(ctl_step(&C, &st, NULL), 0);
        ck_assert_uint_eq(C.cmd.seq, 13);
        ck_assert_uint_eq(C.cmd.heartbeat, (uint16_t)(12 + i));
    }
    ck_assert_int_eq(C.sup.phase, SUP_RUNNING);
    ck_assert_uint_eq(C.stats.commands, 3);
    ck_assert_uint_eq(C.stats.accepted, 3);
    /* an operator HOLD never waits for an echo */
    ck_assert_int_eq(ctl_jog(&C, Y_BOTH | CC_Y_BRUSH), 0);
    st.tick++;
    ctl_step(&C, &st, NULL);
    ck_assert_uint_eq(C.cmd.seq, 14);
    ck_assert_int_eq(C.pending, 1);
    ck_assert_int_eq(ctl_operator_hold(&C), 0);
    ck_assert_uint_eq(C.cmd.seq, 15);
    ck_assert_int_eq(C.cmd.mode, CC_MODE_HOLD);
    ck_assert_int_eq(C.sup.reason, SUP_R_OPERATOR);
    char line[160];
    ck_assert_str_eq(ctl_describe(&C, line, sizeof line), "held reason=operator seq=15 pending");
}
END_TEST

START_TEST(test_every_command_accepted_once)
{
    /* a full step: each new number is accepted by the PLC, none twice, none refused */
    start(150.0f, 150.0f, 1);
    ck_assert_int_eq(ctl_full_step(&C, HOLD_GROUP_B, 50.0f, -50.0f), 0);
    ck_assert(fp_until(&R, fp_is_idle, 4000));
    ck_assert_uint_eq(W.accepted, C.stats.commands);
    ck_assert_uint_eq(C.stats.accepted, C.stats.commands);
    /* HOLD, RESET, AUTO, then per half-step at least RELEASE, LIFT, MOVE, LOWER, GRIP */
    ck_assert_uint_ge(C.stats.commands, 3 + 2 * 5);
    ck_assert_uint_eq(C.stats.deferred, 0);
    assert_clean_run();
}
END_TEST

static Suite *gait_suite(void)
{
    Suite *s = suite_create("gait");
    TCase *t = tcase_create("pure");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, test_kinematics_table);
    tcase_add_test(t, test_names);
    tcase_add_test(t, test_requests);
    tcase_add_test(t, test_derive_images);
    tcase_add_test(t, test_derive_with_plan);
    tcase_add_test(t, test_holder_lost);
    tcase_add_test(t, test_start_sequence_numbers);
    tcase_add_test(t, test_pending_and_deferral);
    suite_add_tcase(s, t);

    t = tcase_create("transitions");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, test_half_step_a_transitions);
    tcase_add_test(t, test_half_step_b_transitions);
    tcase_add_test(t, test_full_steps_with_sensors);
    tcase_add_test(t, test_full_step_end_switches);
    tcase_add_test(t, test_every_command_accepted_once);
    suite_add_tcase(s, t);

    t = tcase_create("timeouts");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, test_timeout_verify);
    tcase_add_test(t, test_timeout_release);
    tcase_add_test(t, test_timeout_lift);
    tcase_add_test(t, test_timeout_move);
    tcase_add_test(t, test_stall);
    tcase_add_test(t, test_timeout_lower);
    tcase_add_test(t, test_timeout_grip_no_recovery);
    tcase_add_test(t, test_settle_leak);
    suite_add_tcase(s, t);

    t = tcase_create("recovery");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, test_recovery_ladder);
    tcase_add_test(t, test_settle_leak_reseat);
    tcase_add_test(t, test_recovery_reseat_succeeds);
    tcase_add_test(t, test_recovery_shift_succeeds);
    tcase_add_test(t, test_recovery_shift_timed_without_sensor);
    suite_add_tcase(s, t);

    t = tcase_create("restart");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, test_restart_after_watchdog);
    tcase_add_test(t, test_restart_quick);
    tcase_add_test(t, test_resume_plan_after_estop);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(gait_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
