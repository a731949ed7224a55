/*
 * check_episodes.c — Check suites for sim/episodes.c: the labels follow
 * the physics (a foothold over a joint does not seal, on glass it does; a
 * lifted foot cannot pass an obstacle; the path label picks the first safe
 * step), a leak makes the grip label flip when the leak reaches the rate at
 * which a cup can no longer seal, the readings are real (rising while
 * sealing, falling while released), the travel frame, and determinism.
 *
 * Facades are written here, in the facade format, on a 50 mm grid:
 * glass with a joint column, an obstacle block, a void band.  The numbers
 * in the comments are the default robot's (docs/simulator.md): feet 400 mm
 * from their body centre, cups on an 80 mm circle (a at +y, b and c at
 * -40 mm, +-69 mm), 100 mm across.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robot/facade.h"
#include "robot/robotcfg.h"
#include "sim/episodes.h"

int main(void);

/* A rectangle of one surface, facade mm [x0, x1) x [y0, y1). */
typedef struct {
    double x0, y0, x1, y1;
    char c; /* legend character */
} rect;

/* A W x H mm glass facade on a 50 mm grid with the rectangles painted over it. */
static facade *make_facade(double w_mm, double h_mm, const rect *r, int nr)
{
    int cols = (int)(w_mm / 50), rows = (int)(h_mm / 50);
    size_t cap = 512 + (size_t)(cols + 1) * rows;
    char *t = malloc(cap);
    ck_assert_ptr_nonnull(t);
    int n = snprintf(t, cap,
                     "facade test\ncell_mm 50\nsize %d %d\nlegend . glass\nlegend j joint\n"
                     "legend # obstacle\nlegend ~ void\ngrid\n",
                     cols, rows);
    size_t len = (size_t)n;
    for (int row = rows - 1; row >= 0; row--) {
        for (int c = 0; c < cols; c++) {
            double x = (c + 0.5) * 50, y = (row + 0.5) * 50;
            char ch = '.';
            for (int k = 0; k < nr; k++)
                if (x >= r[k].x0 && x < r[k].x1 && y >= r[k].y0 && y < r[k].y1) ch = r[k].c;
            t[len++] = ch;
        }
        t[len++] = '\n';
    }
    facade *f = NULL;
    char err[256];
    ck_assert_msg(facade_load_buffer("test", t, len, &f, err, sizeof err) == 0, "%s", err);
    free(t);
    return f;
}

static robotcfg robot;

/* A world of one facade. */
static void world1(ep_world *w, const facade **slot, facade *f)
{
    robotcfg_defaults(&robot);
    slot[0] = f;
    ck_assert_int_eq(ep_world_init(w, &robot, slot, 1), 0);
}

/* An example of the robot standing at C (both bodies there: cylinders at
 * mid stroke), travelling HEADING, the first group FIRST. */
static void standing(ep_example *ex, double cx, double cy, facade_dir heading, int first)
{
    memset(ex, 0, sizeof *ex);
    ex->sit.heading = heading;
    ex->sit.first_group = first;
    ep_faults_none(&ex->sit.faults);
    for (int g = 0; g < 2; g++) {
        ex->body_mm[g][0] = cx;
        ex->body_mm[g][1] = cy;
    }
}

/* ---- footholds ---- */

START_TEST(foothold_joint_unsafe_glass_safe)
{
    /* a 50 mm joint column at x 1400..1450 */
    const rect j = {1400, 0, 1450, 3000, 'j'};
    facade *f = make_facade(4000, 3000, &j, 1);
    const facade *slot[1];
    ep_world w;
    world1(&w, slot, f);
    ep_grip g;
    char err[256];

    /* glass: body at (700, 1500), A's feet at x 300 and 1100 */
    const double glass[2] = {700, 1500};
    ck_assert_int_eq(ep_grip_check(&w, f, 0, glass, NULL, 0.0, &g, err, sizeof err), 0);
    ck_assert_int_eq(g.ok, 1);
    ck_assert_str_eq(g.why, "ok");
    ck_assert_int_eq(g.touching, 6);
    /* six cups together on glass reach "sealed" in 1.00 s (docs/simulator.md) */
    ck_assert_double_ge(g.t_seal_s, 0.95);
    ck_assert_double_le(g.t_seal_s, 1.10);
    ck_assert_double_ge(g.factor, 2.0);
    ck_assert_double_ge(g.vac_min_kpa, 45.0);

    /* over the joint: A2 at x 1400, its cup a centred on the joint's edge */
    const double joint[2] = {1000, 1500};
    ck_assert_int_eq(ep_grip_check(&w, f, 0, joint, NULL, 0.0, &g, err, sizeof err), 0);
    ck_assert_int_eq(g.ok, 0);
    ck_assert_str_eq(g.why, "no seal");
    ck_assert_double_lt(g.vac_min_kpa, 45.0);
    /* group B there stands across the joint's line too: B's feet at x 1000 are clear */
    ck_assert_int_eq(ep_grip_check(&w, f, 1, joint, NULL, 0.0, &g, err, sizeof err), 0);
    ck_assert_int_eq(g.ok, 1);

    /* at the edge: A2's cup c at x 4019 is mostly off the facade */
    const double edge[2] = {3550, 1500};
    ck_assert_int_eq(ep_grip_check(&w, f, 0, edge, NULL, 0.0, &g, err, sizeof err), 0);
    ck_assert_int_eq(g.ok, 0);
    ck_assert_str_eq(g.why, "no contact");
    ck_assert_int_lt(g.touching, 6);
    facade_free(f);
}
END_TEST

START_TEST(sweep_stops_at_obstacles)
{
    const rect ob = {1600, 1300, 1700, 1700, '#'};
    facade *f = make_facade(4000, 3000, &ob, 1);
    const facade *slot[1];
    ep_world w;
    world1(&w, slot, f);
    const double body[2] = {1000, 1500};
    /* A2's cups reach x 1519; +150 brings them to 1669: into the block */
    const double d150[2] = {150, 0}, d50[2] = {50, 0}, up[2] = {0, 300};
    ck_assert_int_eq(ep_sweep_clear(&w, f, 0, body, d150), 0);
    ck_assert_int_eq(ep_sweep_clear(&w, f, 0, body, d50), 1);
    ck_assert_int_eq(ep_sweep_clear(&w, f, 0, body, up), 1);
    /* group B's cups (x 881..1119) pass below it */
    ck_assert_int_eq(ep_sweep_clear(&w, f, 1, body, d150), 1);
    facade_free(f);
}
END_TEST

/* ---- path labels ---- */

START_TEST(path_labels_follow_the_physics)
{
    const facade *slot[1];
    ep_world w;
    ep_example ex;
    char err[256];

    /* plain glass: PROCEED */
    facade *f = make_facade(4000, 3000, NULL, 0);
    world1(&w, slot, f);
    standing(&ex, 1000, 1500, FACADE_DIR_XP, 0);
    ck_assert_int_eq(ep_label(&w, &ex, err, sizeof err), 0);
    ck_assert_uint_eq(ex.path, EP_PATH_PROCEED);
    ck_assert_uint_eq(ex.hold[0], 1);
    ck_assert_uint_eq(ex.hold[1], 1);
    ck_assert_int_eq(ex.safe[EP_STEP_FULL], 1);
    ck_assert_int_eq(ex.safe[EP_STEP_SHORT], -1); /* not needed */
    facade_free(f);

    /* a joint where the full step puts A2 (x 1700), not where the short one does
     * (A2 at 1550, rims to 1669): SHORTEN, and A's next foothold fails */
    const rect j = {1700, 0, 1750, 3000, 'j'};
    f = make_facade(4000, 3000, &j, 1);
    world1(&w, slot, f);
    standing(&ex, 1000, 1500, FACADE_DIR_XP, 0);
    ck_assert_int_eq(ep_label(&w, &ex, err, sizeof err), 0);
    ck_assert_uint_eq(ex.path, EP_PATH_SHORTEN);
    ck_assert_uint_eq(ex.hold[0], 0);
    ck_assert_str_eq(ex.grip[0].why, "no seal");
    ck_assert_uint_eq(ex.hold[1], 1);
    ck_assert_int_eq(ex.safe[EP_STEP_FULL], 0);
    ck_assert_int_eq(ex.safe[EP_STEP_SHORT], 1);
    facade_free(f);

    /* an obstacle ahead, in A2's way for either step: sidestep to the left
     * (travelling +X, left is +Y) */
    const rect ob[2] = {{1600, 1300, 1700, 1700, '#'}, {0, 2250, 4000, 3000, '~'}};
    f = make_facade(4000, 3000, ob, 1);
    world1(&w, slot, f);
    standing(&ex, 1000, 1500, FACADE_DIR_XP, 1);
    ck_assert_int_eq(ep_label(&w, &ex, err, sizeof err), 0);
    ck_assert_uint_eq(ex.path, EP_PATH_SIDESTEP_LEFT);
    /* the full step would put A2's cup a (1700, 1580) half on the block */
    ck_assert_uint_eq(ex.hold[0], 0);
    ck_assert_str_eq(ex.grip[0].why, "no contact");
    ck_assert_uint_eq(ex.hold[1], 1);
    ck_assert_int_eq(ex.safe[EP_STEP_FULL], 0);
    ck_assert_int_eq(ex.safe[EP_STEP_SHORT], 0);
    facade_free(f);

    /* ... and the facade ends 2250 mm up: B2's cup a would land at y 2280,
     * off the edge: the left sidestep fails, the right one (-Y) is safe */
    f = make_facade(4000, 3000, ob, 2);
    world1(&w, slot, f);
    standing(&ex, 1000, 1500, FACADE_DIR_XP, 0);
    ck_assert_int_eq(ep_label(&w, &ex, err, sizeof err), 0);
    ck_assert_uint_eq(ex.path, EP_PATH_SIDESTEP_RIGHT);
    ck_assert_int_eq(ex.safe[EP_STEP_LEFT], 0);
    ck_assert_int_eq(ex.safe[EP_STEP_RIGHT], 1);

    /* a torn cup (100 kPa/s): no foothold of its group seals, nothing is safe */
    standing(&ex, 1000, 1500, FACADE_DIR_XP, 0);
    ex.sit.faults.leak_cup = 1;
    ex.sit.faults.leak_kpa_s = 100.0;
    ck_assert_int_eq(ep_label(&w, &ex, err, sizeof err), 0);
    ck_assert_uint_eq(ex.path, EP_PATH_STOP);
    ck_assert_uint_eq(ex.hold[0], 0);
    ck_assert_uint_eq(ex.hold[1], 1);
    for (int k = 0; k < EP_STEPS; k++) ck_assert_int_eq(ex.safe[k], 0);
    facade_free(f);
}
END_TEST

/* ---- leaks ---- */

/* Scan X from LO to HI in STEP: the leak rate (BY_TIME 0: constant leaks
 * of rate X) or the touch-down time (BY_TIME 1: FLT's growing leak at time
 * X).  Group A's label must go from hold to not exactly once; the first X
 * where it does not hold is returned. */
static double check_flip(const ep_world *w, const facade *f, const double body[2], ep_faults *flt,
                         double lo, double hi, double step, int by_time)
{
    char err[256];
    int prev = 1;
    double flip = -1.0;
    for (double x = lo; x <= hi + 1e-9; x += step) {
        ep_grip g;
        if (!by_time) flt->leak_kpa_s = x;
        ck_assert_int_eq(ep_grip_check(w, f, 0, body, flt, by_time ? x : 0.0, &g, err, sizeof err), 0);
        if (g.ok) ck_assert_msg(flip < 0, "holds again at %g after failing at %g", x, flip);
        if (!g.ok && prev) flip = x;
        prev = g.ok;
    }
    ck_assert_msg(flip >= 0, "never flipped in %g..%g", lo, hi);
    return flip;
}

START_TEST(leak_flips_the_grip_label_at_the_critical_rate)
{
    facade *f = make_facade(4000, 3000, NULL, 0);
    const facade *slot[1];
    ep_world w;
    world1(&w, slot, f);
    const double body[2] = {1000, 1500};
    ep_grip g;
    char err[256];
    ep_faults flt;
    ep_faults_none(&flt);
    flt.leak_cup = 1; /* A1b */

    flt.leak_kpa_s = 30.0;
    ck_assert_int_eq(ep_grip_check(&w, f, 0, body, &flt, 0.0, &g, err, sizeof err), 0);
    ck_assert_int_eq(g.ok, 1);
    flt.leak_kpa_s = 60.0;
    ck_assert_int_eq(ep_grip_check(&w, f, 0, body, &flt, 0.0, &g, err, sizeof err), 0);
    ck_assert_int_eq(g.ok, 0);
    ck_assert_str_eq(g.why, "no seal");
    /* the leak is on A: B's foothold does not care */
    ck_assert_int_eq(ep_grip_check(&w, f, 1, body, &flt, 0.0, &g, err, sizeof err), 0);
    ck_assert_int_eq(g.ok, 1);

    /* The critical rate of a constant leak: the label flips once, from hold
     * to not.  A cup alone behind its check valve settles at p_m / (1 + k tau)
     * (docs/simulator.md) with k = rate / 60; sealed (45 kPa) needs
     * k <= (p_m / 45 - 1) / tau.  With p_m = 60: 44.4 kPa/s; the manifold
     * droops by the cup's inflow (p_m = (60 + 0.1 p) / 1.1 = 58.6 kPa at
     * p = 45): 40.3 kPa/s; the 3 s grip timeout ends the slow approach near
     * the limit a little earlier still.  So it lies in 36..44.4 kPa/s. */
    double r_crit = check_flip(&w, f, body, &flt, 30.0, 50.0, 0.25, 0.0);
    ck_assert_msg(r_crit >= 36.0 && r_crit <= 44.4, "critical constant leak %.2f kPa/s", r_crit);

    /* A growing leak, 20 + 2 t kPa/s, judged at touch-down time t: it flips
     * once, when the rate reaches the critical one during the check — no
     * later than when it is critical at touch-down, no earlier than when it
     * becomes critical by the end of the grip timeout (3 s of growth). */
    flt.leak_kpa_s = 20.0;
    flt.leak_growth_kpa_s2 = 2.0;
    double t_flip = check_flip(&w, f, body, &flt, 0.0, 16.0, 0.25, 1.0);
    double r_flip = ep_leak_kpa_s(&flt, t_flip);
    ck_assert_msg(r_flip <= r_crit + 0.5 + 1e-9 && r_flip >= r_crit - 2.0 * 3.0,
                  "flip at %.2f kPa/s (t %.2f s), constant critical %.2f", r_flip, t_flip, r_crit);
    facade_free(f);
}
END_TEST

START_TEST(sequence_of_a_degrading_cup)
{
    facade *f = make_facade(6000, 5000, NULL, 0);
    const facade *slot[1];
    ep_world w;
    world1(&w, slot, f);
    enum { K = 12 };
    static ep_example ex[K], ex2[K];
    ep_sequence_info info, info2;
    char err[256];
    ck_assert_msg(ep_sequence_make(&w, 7, K, ex, &info, err, sizeof err) == 0, "%s", err);
    int g = info.group;
    ck_assert_int_eq(info.cup / 6, g);
    /* the label of the degrading group: 1 ... 1 0 ... 0, lost inside */
    ck_assert_int_ge(info.loss_step, 1);
    ck_assert_int_lt(info.loss_step, K);
    for (int k = 0; k < K; k++) {
        ck_assert_uint_eq(ex[k].hold[g], k < info.loss_step);
        ck_assert_uint_eq(ex[k].hold[1 - g], 1); /* the other group's footholds stay good */
        ck_assert_uint_eq(ex[k].sit.phase, EP_PHASE_SETTLED);
        if (k) ck_assert_double_eq_tol(ex[k].t_snap_s - ex[k - 1].t_snap_s, 1.0, 1e-9);
    }
    /* the torn cup reads lower and lower: its reading falls over the sequence */
    ck_assert_float_lt(ex[K - 1].vacuum_kpa[info.cup], ex[0].vacuum_kpa[info.cup] - 3.0f);
    /* at the loss the leak at touch-down is near the critical rate: within
     * the growth of the 3 s grip timeout below it (see the test above), and
     * one step before it was not past it */
    double delay = w.cfg.land_delay_s[g == ex[0].sit.first_group ? 0 : 1];
    double r_loss = ep_leak_kpa_s(&ex[0].sit.faults, ex[info.loss_step].t_snap_s + delay);
    double r_prev = ep_leak_kpa_s(&ex[0].sit.faults, ex[info.loss_step - 1].t_snap_s + delay);
    ck_assert_msg(r_loss >= 36.0 - 3.0 * info.growth_kpa_s2 && r_prev <= 44.4,
                  "loss at %.2f kPa/s, the step before %.2f kPa/s", r_loss, r_prev);
    /* deterministic */
    ck_assert_int_eq(ep_sequence_make(&w, 7, K, ex2, &info2, err, sizeof err), 0);
    ck_assert_mem_eq(&info, &info2, sizeof info);
    ck_assert_mem_eq(ex, ex2, sizeof ex);
    facade_free(f);
}
END_TEST

/* ---- readings ---- */

START_TEST(readings_are_real)
{
    facade *f = make_facade(6000, 5000, NULL, 0);
    const facade *slot[1];
    ep_world w;
    world1(&w, slot, f);
    ep_example ex;
    char err[256];
    /* travelling +Y, B trails (Y cylinder at 300), A landed 0.6 s ago: its
     * cups are still building up */
    memset(&ex, 0, sizeof ex);
    ex.sit.heading = FACADE_DIR_YP;
    ex.sit.first_group = 1;
    ex.sit.phase = EP_PHASE_SETTLED;
    ex.sit.carriage_mm[0] = 3000;
    ex.sit.carriage_mm[1] = 2500;
    ex.sit.cyl_mm[0] = 150;
    ex.sit.cyl_mm[1] = 300;
    ex.sit.t_since_land_s = 0.6;
    ep_faults_none(&ex.sit.faults);
    ex.sit.seed = 3;
    ck_assert_msg(ep_observe(&w, &ex, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(ex.holding[0], 1);
    ck_assert_uint_eq(ex.holding[1], 1);
    for (int c = 0; c < 6; c++) ck_assert_float_gt(ex.vacuum_rate_kpa_s[c], 5.0f); /* A rising */
    for (int c = 6; c < 12; c++) {
        ck_assert_float_gt(ex.vacuum_kpa[c], 50.0f); /* B sealed, steady */
        ck_assert_float_lt(fabsf(ex.vacuum_rate_kpa_s[c]), 2.0f);
    }
    /* B trails by half a stroke: B's body 150 mm behind the carriage, so
     * (travel frame: right = +X, ahead = +Y) B1 at (0, -550), B2 at (0, 250) */
    ck_assert_double_eq_tol(ex.body_mm[1][1], 2350, 1e-6);
    ck_assert_float_eq_tol(ex.foot_mm[2][1], -550.0f, 1e-3f);
    ck_assert_float_eq_tol(ex.foot_mm[3][1], 250.0f, 1e-3f);
    ck_assert_float_eq_tol(ex.foot_mm[0][0], -400.0f, 1e-3f);
    ck_assert_uint_eq(ex.camera_online, 1);
    /* 6 x 5 m of glass from (3000, 2500): up 2500 mm, the sensors see 2000 at most */
    ck_assert_uint_eq(ex.prox_no_echo[EP_SLOT_AHEAD], 1);

    /* releasing: B's blow-off for 0.3 s, B no longer holds and falls fast */
    ex.sit.phase = EP_PHASE_RELEASING;
    ex.sit.t_since_land_s = 2.0;
    ex.sit.t_release_s = 0.3;
    ck_assert_msg(ep_observe(&w, &ex, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(ex.sit.phase, EP_PHASE_RELEASING);
    ck_assert_uint_eq(ex.holding[1], 0);
    ck_assert_uint_eq(ex.holding[0], 1);
    for (int c = 6; c < 12; c++) ck_assert_float_lt(ex.vacuum_rate_kpa_s[c], -10.0f);

    /* a stuck transducer reads its value exactly, a blacked-out camera nothing */
    ex.sit.phase = EP_PHASE_SETTLED;
    ex.sit.faults.stuck_cup = 4;
    ex.sit.faults.stuck_kpa = 51.3;
    ex.sit.faults.camera_blackout = 1;
    ex.sit.faults.prox_dropout = 1u << EP_SLOT_LEFT;
    ck_assert_msg(ep_observe(&w, &ex, err, sizeof err) == 0, "%s", err);
    ck_assert_float_eq_tol(ex.vacuum_kpa[4], 51.3f, 1e-4f);
    ck_assert_float_eq_tol(ex.vacuum_rate_kpa_s[4], 0.0f, 1e-4f);
    ck_assert_uint_eq(ex.camera_online, 0);
    ck_assert_uint_eq(ex.prox_dropout[EP_SLOT_LEFT], 1);
    ck_assert_uint_eq(ex.prox_dropout[EP_SLOT_RIGHT], 0);
    facade_free(f);
}
END_TEST

START_TEST(travel_frame)
{
    double a[2], r[2];
    ep_travel_vectors(FACADE_DIR_YP, a, r);
    ck_assert(a[0] == 0 && a[1] == 1 && r[0] == 1 && r[1] == 0); /* up: right is +X */
    ep_travel_vectors(FACADE_DIR_XP, a, r);
    ck_assert(a[0] == 1 && a[1] == 0 && r[0] == 0 && r[1] == -1); /* +X: right is -Y */
    ck_assert_int_eq(ep_slot_dir(FACADE_DIR_YP, EP_SLOT_AHEAD), FACADE_DIR_YP);
    ck_assert_int_eq(ep_slot_dir(FACADE_DIR_YP, EP_SLOT_RIGHT), FACADE_DIR_XP);
    ck_assert_int_eq(ep_slot_dir(FACADE_DIR_XP, EP_SLOT_LEFT), FACADE_DIR_YP);
    ck_assert_int_eq(ep_slot_dir(FACADE_DIR_XM, EP_SLOT_RIGHT), FACADE_DIR_YP);
    ck_assert_int_eq(ep_slot_dir(FACADE_DIR_YM, EP_SLOT_BEHIND), FACADE_DIR_YP);
}
END_TEST

/* ---- determinism ---- */

START_TEST(deterministic_for_a_seed)
{
    facade *gen[3];
    char err[256];
    for (int k = 0; k < 3; k++)
        ck_assert_msg(ep_facade_generate(ep_mix_seed(11, (uint64_t)k), &gen[k], err, sizeof err) == 0,
                      "%s", err);
    facade *again;
    ck_assert_int_eq(ep_facade_generate(ep_mix_seed(11, 0), &again, err, sizeof err), 0);
    ck_assert_uint_eq(again->cols, gen[0]->cols);
    ck_assert_uint_eq(again->rows, gen[0]->rows);
    ck_assert_mem_eq(again->cells, gen[0]->cells, (size_t)again->cols * again->rows);
    ck_assert(gen[1]->cols != gen[0]->cols || gen[1]->rows != gen[0]->rows ||
              memcmp(gen[1]->cells, gen[0]->cells, (size_t)gen[0]->cols * gen[0]->rows) != 0);
    facade_free(again);

    robotcfg_defaults(&robot);
    ep_world w;
    ck_assert_int_eq(ep_world_init(&w, &robot, (const facade *const *)gen, 3), 0);
    w.cfg.faults_rate = 0.5;
    static ep_example a, b, c;
    unsigned ta, tb;
    ck_assert_msg(ep_example_make(&w, 99, &a, &ta, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(ep_example_make(&w, 99, &b, &tb, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(ta, tb);
    ck_assert_mem_eq(&a, &b, sizeof a);
    ck_assert_msg(ep_example_make(&w, 100, &c, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert(memcmp(&a, &c, sizeof a) != 0);
    /* every example is plausible: the robot stands where it sealed */
    ck_assert_uint_lt(a.path, EP_PATH_COUNT);
    ck_assert_uint_lt(a.sit.facade, 3);
    for (int k = 0; k < 3; k++) facade_free(gen[k]);
}
END_TEST

static Suite *episodes_suite(void)
{
    Suite *s = suite_create("episodes");
    TCase *tc = tcase_create("labels");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, foothold_joint_unsafe_glass_safe);
    tcase_add_test(tc, sweep_stops_at_obstacles);
    tcase_add_test(tc, path_labels_follow_the_physics);
    tcase_add_test(tc, leak_flips_the_grip_label_at_the_critical_rate);
    tcase_add_test(tc, sequence_of_a_degrading_cup);
    suite_add_tcase(s, tc);
    tc = tcase_create("readings");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, readings_are_real);
    tcase_add_test(tc, travel_frame);
    tcase_add_test(tc, deterministic_for_a_seed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(episodes_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
