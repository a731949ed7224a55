/*
 * check_mission.c — the cleaning mission (controller/mission.h): the lane
 * plan of a region, footholds off a joint, a mullion and an obstacle in a
 * small facade made here, pause/resume continuing where it stopped, stop,
 * an edge sensor ending a lane, a HOLD in mid-mission, a controller
 * restarted in mid-step from its checkpoint, the operator's jog while
 * paused — live against the scripted
 * robot of tests/fakeplant.h (the PLC is the shipped instruction list), and
 * the dry-run planner alone.
 *
 * Every landing and every lifted path is checked here independently of the
 * mission's own test (facade_cup_cover / facade_circle_touches on each cup),
 * and in every live run the PLC refuses nothing.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctl.h"
#include "controller/mission.h"
#include "fakeplant.h"

static params_robot P;
static fp_world W;
static ctl C;
static fp_run R;
static mission M;
static facade *F;

#define EV_MAX 4096u
static mis_event EV[EV_MAX];
static unsigned EV_N;

/* A 5 m x 3 m facade of 50 mm cells, built as text: glass, with optional
 * features. */
typedef struct {
    int joint_col;      /* a vertical joint (one cell wide) at this column, -1 none */
    int mullion_row;    /* a horizontal mullion (one cell) at this row, -1 none */
    int obst[4];        /* obstacle block col0 row0 col1 row1 (inclusive), col0 < 0 none */
    int void_cols;      /* the rightmost columns are void */
} feat;

#define FW 100
#define FH 60

static facade *make_facade(const feat *ft)
{
    static char text[16384];
    char *p = text;
    size_t left = sizeof text;
    int n = snprintf(p, left,
                     "facade test\ncell_mm 50\nsize %d %d\nstart_mm 2000 1500\nlegend . glass\n"
                     "legend j joint\nlegend m mullion\nlegend O obstacle\nlegend ~ void\ngrid\n",
                     FW, FH);
    p += n;
    left -= (size_t)n;
    for (int row = FH - 1; row >= 0; row--) {
        for (int col = 0; col < FW; col++) {
            char ch = '.';
            if (col == ft->joint_col) ch = 'j';
            if (row == ft->mullion_row) ch = 'm';
            if (ft->obst[0] >= 0 && col >= ft->obst[0] && col <= ft->obst[2] && row >= ft->obst[1] &&
                row <= ft->obst[3])
                ch = 'O';
            if (col >= FW - ft->void_cols) ch = '~';
            *p++ = ch;
            left--;
        }
        *p++ = '\n';
        left--;
    }
    char err[256];
    facade *f = NULL;
    ck_assert_msg(facade_load_buffer("test", text, (size_t)(p - text), &f, err, sizeof err) == 0, "%s",
                  err);
    return f;
}

static void setup(void)
{
    params_defaults(&P);
    EV_N = 0;
    F = NULL;
    memset(&M, 0, sizeof M);
}

static void teardown(void)
{
    mis_free(&M);
    facade_free(F);
    fp_free(&W);
}

static void config(mis_config *cfg, double x0, double y0, double x1, double y1, double sx, double sy)
{
    mis_config_defaults(cfg);
    cfg->region_mm[0] = x0;
    cfg->region_mm[1] = y0;
    cfg->region_mm[2] = x1;
    cfg->region_mm[3] = y1;
    cfg->start_mm[0] = sx;
    cfg->start_mm[1] = sy;
}

/* The robot and the controller, acknowledged and running; the mission begun. */
static void start_live(const mis_config *cfg, float cx_mm, float cy_mm, int pos_sensor)
{
    char err[256];
    ck_assert_int_eq(fp_init(&W, cx_mm, cy_mm, pos_sensor), 0);
    ck_assert_int_eq(ctl_init(&C, &P, err, sizeof err), 0);
    ck_assert_int_eq(fp_run_start(&R, &C, &W), 0);
    ck_assert_int_eq(mis_init(&M, cfg, &C.params, F, err, sizeof err), 0);
    ck_assert_int_eq(mis_begin(&M, &R.st, C.now_ticks), 0);
    fp_cycles(&R, 3);
    ck_assert_int_eq(ctl_acknowledge(&C), 0);
}

static void drain(void)
{
    mis_event ev;
    while (mis_next_event(&M, &ev))
        if (EV_N < EV_MAX) EV[EV_N++] = ev;
}

static void live_cycle(void)
{
    fp_cycle(&R);
    ck_assert_int_eq(mis_step(&M, &C, &R.st), 0);
    drain();
}

typedef int (*mis_pred)(void);

static int live_until(mis_pred pred, unsigned max)
{
    for (unsigned i = 0; i < max; i++) {
        live_cycle();
        if (pred()) return 1;
    }
    return 0;
}

static int is_finished(void) { return mis_finished(&M); }

static unsigned count_ev(mis_event_type t)
{
    unsigned n = 0;
    for (unsigned i = 0; i < EV_N; i++) n += EV[i].type == t;
    return n;
}

/* Independent check of a landing: no cup over more than 3 % joint, mullion,
 * obstacle or void. */
static void assert_landing(hold_group g, const double body[2])
{
    for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
        double xy[2];
        facade_cover cv;
        params_cup_xy_mm(&P, (unsigned)g, i, xy);
        facade_cup_cover(F, body[0] + xy[0], body[1] + xy[1], P.cup_diameter_mm, &cv);
        double bad = cv.frac[FACADE_JOINT] + cv.frac[FACADE_MULLION] + cv.frac[FACADE_OBSTACLE] +
                     cv.frac[FACADE_VOID];
        ck_assert_msg(bad <= 0.03, "group %s cup %u lands at (%.0f, %.0f) on %.1f %% bad surface",
                      hold_group_name(g), i, body[0] + xy[0], body[1] + xy[1], 100.0 * bad);
    }
}

/* ... and of the lifted group's path: never touching an obstacle cell. */
static void assert_path(hold_group g, const double a[2], const double b[2])
{
    for (int k = 0; k <= 40; k++) {
        double t = k / 40.0;
        for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
            double xy[2];
            params_cup_xy_mm(&P, (unsigned)g, i, xy);
            ck_assert_msg(!facade_circle_touches(F, a[0] + t * (b[0] - a[0]) + xy[0],
                                                 a[1] + t * (b[1] - a[1]) + xy[1], P.cup_diameter_mm,
                                                 FACADE_OBSTACLE),
                          "group %s passes over an obstacle", hold_group_name(g));
        }
    }
}

/* Every half-step of the run: landing and path checked, the pose the
 * mission derived from the status equal to the one it planned. */
static unsigned check_steps(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < EV_N; i++) {
        if (EV[i].type != MIS_EV_STEP_END) continue;
        const mis_move *mv = &EV[i].move;
        double a[2], b[2];
        mis_pose_group_mm(&P, &mv->before, mv->group, a);
        mis_pose_group_mm(&P, &mv->after, mv->group, b);
        assert_landing(mv->group, b);
        assert_path(mv->group, a, b);
        /* the holding group did not move */
        double h0[2], h1[2];
        mis_pose_group_mm(&P, &mv->before, hold_other(mv->group), h0);
        mis_pose_group_mm(&P, &mv->after, hold_other(mv->group), h1);
        ck_assert(fabs(h0[0] - h1[0]) < 0.01 && fabs(h0[1] - h1[1]) < 0.01);
        n++;
    }
    return n;
}

static void assert_clean_run(void)
{
    ck_assert_uint_eq(W.refused, 0);
    ck_assert_uint_eq(C.stats.refused_by_plc, 0);
    ck_assert_uint_eq(C.sup.refused_total, 0);
    ck_assert_uint_eq(R.mirror_refusals, 0);
    ck_assert_uint_eq(R.seq_errors, 0);
    ck_assert_uint_eq(M.ev_lost, 0);
}

/* The same for a run with an E-stop: the AUTO command in flight when the PLC
 * latched its HOLD is refused, and explained by that HOLD. */
static void assert_clean_run_estop(void)
{
    ck_assert_uint_le(W.refused, 1);
    ck_assert_uint_eq(C.stats.refused_by_plc, 0);
    ck_assert_uint_eq(C.stats.refused_explained, W.refused);
    ck_assert_uint_eq(C.sup.refused_total, 0);
    ck_assert_uint_eq(R.seq_errors, 0);
    ck_assert_uint_eq(M.ev_lost, 0);
}

/* ----------------------------------------------------------------- tests */

START_TEST(test_names)
{
    for (int s = 0; s < MIS_STATE_COUNT; s++) {
        ck_assert_str_ne(mis_state_name((mis_state)s), "?");
        for (int t = 0; t < s; t++)
            ck_assert_str_ne(mis_state_name((mis_state)s), mis_state_name((mis_state)t));
    }
    for (int s = 0; s < MIS_EV_TYPE_COUNT; s++) {
        ck_assert_str_ne(mis_event_name((mis_event_type)s), "?");
        for (int t = 0; t < s; t++)
            ck_assert_str_ne(mis_event_name((mis_event_type)s), mis_event_name((mis_event_type)t));
    }
    for (int s = 0; s < MIS_BLK_COUNT; s++) ck_assert_str_ne(mis_block_name((mis_block)s), "?");
    for (int s = 0; s < MIS_PHASE_COUNT; s++) ck_assert_str_ne(mis_phase_name((mis_phase)s), "?");
    for (int s = 0; s < MIS_MV_KIND_COUNT; s++) ck_assert_str_ne(mis_move_kind_name((mis_move_kind)s), "?");
    for (int s = 0; s < MIS_LANE_END_COUNT; s++) ck_assert_str_ne(mis_lane_end_name((mis_lane_end)s), "?");
    ck_assert_str_eq(mis_state_name(MIS_STATE_COUNT), "?");
    ck_assert_str_eq(mis_block_name(MIS_BLK_PATH), "path");
    ck_assert_str_eq(mis_strerror(MIS_ERANGE), "region or start outside the facade");
}
END_TEST

START_TEST(test_config_floor)
{
    mis_config cfg;
    mis_config_defaults(&cfg);
    ck_assert(fabs(cfg.brush_width_mm - 600.0) < 1e-9);
    ck_assert_uint_eq(cfg.aux_bits, CC_Y_BRUSH | CC_Y_SPRAY);
    /* docs/simulator.md: X end to end 2233 ms; blow-off 0.50 s, seal 1.00 s;
     * legs to their switches 0.285 / 0.38 s */
    double x = mis_half_step_floor_s(&cfg, &P, 0, 0, 300.0, 0);
    ck_assert_msg(fabs(x - (0.50 + 0.285 + 2.233 + 0.38 + 1.00)) < 0.02, "floor %g", x);
    double yu = mis_half_step_floor_s(&cfg, &P, 1, 1, 300.0, 0);
    double yd = mis_half_step_floor_s(&cfg, &P, 1, 0, 300.0, 0);
    ck_assert(fabs((yu - x) - (3.350 - 2.233)) < 0.01);
    ck_assert(fabs((yd - x) - (1.675 - 2.233)) < 0.01);
    ck_assert(fabs(mis_half_step_floor_s(&cfg, &P, 0, 0, 300.0, 1) - x - 0.5) < 1e-9);
}
END_TEST

START_TEST(test_init_errors)
{
    feat ft = {-1, -1, {-1, 0, 0, 0}, 0};
    mis_config cfg;
    char err[256];
    F = make_facade(&ft);
    config(&cfg, 1000, 1000, 6000, 2000, 2000, 1500); /* wider than the facade */
    ck_assert_int_eq(mis_init(&M, &cfg, &P, F, err, sizeof err), MIS_ERANGE);
    ck_assert_msg(strstr(err, "region") != NULL, "%s", err);
    config(&cfg, 1000, 1000, 3000, 2000, 2000, 3500); /* start above it */
    ck_assert_int_eq(mis_init(&M, &cfg, &P, F, err, sizeof err), MIS_ERANGE);
    ck_assert_msg(strstr(err, "start") != NULL, "%s", err);
    config(&cfg, 3000, 1000, 1000, 2000, 2000, 1500); /* x0 > x1 */
    ck_assert_int_eq(mis_init(&M, &cfg, &P, F, err, sizeof err), MIS_ERANGE);
    config(&cfg, 1000, 1000, 3000, 2000, 2000, 1500);
    ck_assert_int_eq(mis_init(&M, &cfg, &P, F, err, sizeof err), 0);
    cc_status st;
    memset(&st, 0, sizeof st);
    ck_assert_int_eq(mis_step(&M, &C, &st), MIS_ESTATE); /* not begun */
    ck_assert_int_eq(mis_pause(&M, NULL), MIS_ESTATE);
    ck_assert_int_eq(mis_begin(&M, &st, 0), 0);
    ck_assert_int_eq(mis_begin(&M, &st, 0), MIS_ESTATE);
}
END_TEST

/* Lanes of a region with position sensors: evenly spread with overlap,
 * visited from the end nearer the start, the region swept in the plan. */
START_TEST(test_lane_plan_sensors)
{
    feat ft = {-1, -1, {-1, 0, 0, 0}, 0};
    mis_config cfg;
    char err[256];
    cc_status st;
    F = make_facade(&ft);
    config(&cfg, 1400, 1000, 3000, 2500, 2000, 1400);
    ck_assert_int_eq(mis_init(&M, &cfg, &P, F, err, sizeof err), 0);
    memset(&st, 0, sizeof st);
    st.pos_valid[0] = st.pos_valid[1] = 1;
    st.pos_mm[0] = st.pos_mm[1] = 150.0f;
    ck_assert_int_eq(mis_begin(&M, &st, 0), 0);
    /* 1500 mm high, 600 mm brush, <= 550 mm pitch: 3 lanes 450 mm apart,
     * bottom up (the start is nearer the bottom lane) */
    ck_assert_uint_eq(M.d.lanes_n, 3);
    ck_assert(fabs(M.d.lanes_y0_mm - 1300.0) < 1e-6);
    ck_assert(fabs(M.d.lanes_pitch_mm - 450.0) < 1e-6);
    ck_assert_int_eq(M.d.lattice, 0);
    ck_assert_int_eq(M.d.state, MIS_TRANSIT);
    ck_assert_int_eq(M.plan.complete, 1);
    ck_assert_uint_eq(M.plan.lanes_skipped, 0);
    ck_assert_uint_eq(M.plan.lanes_partial, 0);
    ck_assert_msg(M.plan.planned_cells >= M.plan.region_cells * 99 / 100, "planned %zu of %zu",
                  M.plan.planned_cells, M.plan.region_cells);
    ck_assert(M.plan.est_s > 0.0);
    mis_event ev;
    ck_assert(mis_next_event(&M, &ev));
    ck_assert_int_eq(ev.type, MIS_EV_PLAN);
    ck_assert(mis_next_event(&M, &ev));
    ck_assert_int_eq(ev.type, MIS_EV_LANE_BEGIN);
    ck_assert(fabs(ev.y - 1300.0) < 1e-6);

    /* a start nearer the top: top down */
    mis_free(&M);
    config(&cfg, 1400, 1000, 3000, 2500, 2000, 2400);
    ck_assert_int_eq(mis_init(&M, &cfg, &P, F, err, sizeof err), 0);
    ck_assert_int_eq(mis_begin(&M, &st, 0), 0);
    ck_assert_int_eq(M.d.lanes_down, 1);
    ck_assert(fabs(M.d.lanes_y0_mm - 2200.0) < 1e-6);
    ck_assert(fabs(M.d.lanes_pitch_mm + 450.0) < 1e-6);
}
END_TEST

/* Without position sensors: homing first (cylinders at mid stroke), then
 * lanes two strokes apart on the carriage's lattice; live on the fake
 * robot, the whole plan is executed as planned. */
START_TEST(test_lane_plan_lattice_live)
{
    feat ft = {-1, -1, {-1, 0, 0, 0}, 0};
    mis_config cfg;
    F = make_facade(&ft);
    config(&cfg, 1500, 1200, 2700, 2400, 2000, 1500);
    start_live(&cfg, 150.0f, 150.0f, 0);
    ck_assert_int_eq(M.d.lattice, 3);
    ck_assert_int_eq(M.d.state, MIS_HOMING);
    ck_assert(live_until(is_finished, 40000));
    ck_assert_int_eq(M.d.state, MIS_DONE);
    /* the homing moved the followers only: A along X, B along Y */
    ck_assert_int_eq(EV[0].type, MIS_EV_PLAN);
    unsigned k = 0, homes = 0;
    for (unsigned i = 0; i < EV_N; i++) {
        if (EV[i].type != MIS_EV_STEP_BEGIN) continue;
        if (EV[i].move.kind == MIS_MV_HOME) {
            ck_assert_int_eq(EV[i].move.group, EV[i].move.axis == 0 ? HOLD_GROUP_A : HOLD_GROUP_B);
            ck_assert(fabs(EV[i].move.after.c_mm[0] - 2000.0) < 1e-6);
            ck_assert(fabs(EV[i].move.after.c_mm[1] - 1500.0) < 1e-6);
            ck_assert_uint_eq(k, homes); /* homing comes first */
            homes++;
        }
        k++;
    }
    ck_assert_uint_eq(homes, 2);
    /* lanes on the lattice (1500 + k 300), 600 mm apart: bands cover 1200..2400 */
    ck_assert(fabs(fmod(M.d.lanes_y0_mm - 1500.0, 300.0)) < 1e-6);
    ck_assert(fabs(fabs(M.d.lanes_pitch_mm) - 600.0) < 1e-6);
    ck_assert_uint_eq(M.d.lanes_n, 2);
    ck_assert_uint_eq(count_ev(MIS_EV_LANE_END), 2);
    /* live = dry run */
    ck_assert_uint_eq(M.d.half_steps, M.plan.half_steps);
    ck_assert_uint_eq(M.live_hits, M.plan.planned_cells);
    ck_assert_uint_eq(check_steps(), M.plan.half_steps);
    mis_progress pr;
    mis_get_progress(&M, &pr);
    ck_assert(fabs(pr.fraction - 1.0) < 1e-9);
    ck_assert(pr.time_left_s == 0.0);
    ck_assert_uint_eq(pr.lane, pr.lanes);
    /* every clean step ran brush and spray; nothing else did */
    ck_assert((R.or_outputs_auto & (CC_Y_BRUSH | CC_Y_SPRAY)) == (CC_Y_BRUSH | CC_Y_SPRAY));
    assert_clean_run();
}
END_TEST

/* Footholds: a vertical joint, a horizontal mullion and an obstacle block
 * in the way; with position sensors the mission shortens steps to land off
 * them, passes the obstacle, and never lands on or passes over anything bad. */
START_TEST(test_footholds_avoid)
{
    /* joint at x 2500..2550; mullion at y 1950..2000; obstacle x 3000..3150,
     * y 1150..1350 on the first lane's line */
    feat ft = {50, 39, {60, 23, 62, 26}, 0};
    mis_config cfg;
    F = make_facade(&ft);
    config(&cfg, 1400, 1000, 3600, 1900, 2000, 1300);
    start_live(&cfg, 150.0f, 150.0f, 1);
    ck_assert_int_eq(M.d.lattice, 0);
    ck_assert(live_until(is_finished, 200000));
    ck_assert_int_eq(M.d.state, MIS_DONE);
    unsigned steps = check_steps();
    ck_assert_uint_ge(steps, 10);
    ck_assert_uint_eq(steps, M.d.half_steps);
    /* the joint forced shorter steps; the obstacle a sidestep or a lane end */
    ck_assert_uint_ge(count_ev(MIS_EV_SHORTENED), 1);
    ck_assert_uint_ge(count_ev(MIS_EV_SIDESTEP) + count_ev(MIS_EV_BLOCKED), 1);
    /* both sides of the joint were cleaned: the carriage passed x = 2525 on a lane */
    int crossed = 0;
    for (unsigned i = 0; i < EV_N; i++)
        if (EV[i].type == MIS_EV_LANE_END && EV[i].x0 < 2400.0 && EV[i].x1 > 2700.0) crossed = 1;
    for (unsigned i = 0; i < EV_N; i++)
        if (EV[i].type == MIS_EV_LANE_END && EV[i].x1 < 2400.0 && EV[i].x0 > 2700.0) crossed = 1;
    ck_assert_msg(crossed, "no lane crossed the joint");
    ck_assert_uint_ge(M.live_hits, M.plan.planned_cells * 95 / 100);
    assert_clean_run();
}
END_TEST

/* Pause in mid-lane: the half-step under way completes, nothing more is
 * asked, brush off; resume continues from the same pose and lane and the
 * mission ends exactly as planned. */
static int has_clean_steps(void) { return M.d.clean_steps >= 2 && M.d.inflight; }
static int is_paused(void) { return M.d.state == MIS_PAUSED; }

START_TEST(test_pause_resume)
{
    feat ft = {-1, -1, {-1, 0, 0, 0}, 0};
    mis_config cfg;
    F = make_facade(&ft);
    config(&cfg, 1500, 1000, 2700, 2200, 2000, 1500);
    start_live(&cfg, 0.0f, 300.0f, 0); /* at the ends: no homing */
    ck_assert_int_eq(M.d.state, MIS_TRANSIT);
    ck_assert(live_until(has_clean_steps, 40000));
    ck_assert_int_eq(M.d.state, MIS_CLEANING);
    ck_assert_int_eq(mis_pause(&M, "test"), 0);
    ck_assert_int_eq(M.d.state, MIS_PAUSING);
    const unsigned steps_before = M.d.half_steps;
    ck_assert(live_until(is_paused, 2000));
    ck_assert_uint_eq(M.d.half_steps, steps_before + 1); /* the one under way completed */
    ck_assert_uint_eq(count_ev(MIS_EV_PAUSED), 1);
    const mis_pose at_pause = M.d.pose;
    const unsigned lane = M.d.lane_i;
    for (unsigned i = 0; i < 1500; i++) {
        live_cycle();
        ck_assert_uint_eq(C.cmd.outputs & (CC_Y_BRUSH | CC_Y_SPRAY), 0);
    }
    ck_assert(gait_idle(&C.gait));
    ck_assert_uint_eq(M.d.half_steps, steps_before + 1);
    ck_assert_int_eq(mis_pause(&M, NULL), MIS_ESTATE);
    ck_assert_int_eq(mis_resume(&M), 0);
    ck_assert_int_eq(mis_resume(&M), MIS_ESTATE);
    unsigned ev0 = EV_N;
    live_cycle();
    ck_assert_uint_eq(count_ev(MIS_EV_RESUMED), 1);
    int found = 0;
    for (unsigned i = ev0; i < EV_N && !found; i++)
        if (EV[i].type == MIS_EV_STEP_BEGIN) {
            ck_assert(memcmp(&EV[i].move.before, &at_pause, sizeof at_pause) == 0);
            ck_assert_uint_eq(EV[i].a, lane);
            found = 1;
        }
    ck_assert(found);
    ck_assert(live_until(is_finished, 40000));
    ck_assert_int_eq(M.d.state, MIS_DONE);
    ck_assert_uint_eq(M.d.half_steps, M.plan.half_steps);
    ck_assert_uint_eq(M.live_hits, M.plan.planned_cells);
    assert_clean_run();
}
END_TEST

START_TEST(test_stop)
{
    feat ft = {-1, -1, {-1, 0, 0, 0}, 0};
    mis_config cfg;
    F = make_facade(&ft);
    config(&cfg, 1500, 1000, 2700, 2200, 2000, 1500);
    start_live(&cfg, 0.0f, 300.0f, 0);
    ck_assert(live_until(has_clean_steps, 40000));
    const unsigned steps_before = M.d.half_steps;
    ck_assert_int_eq(mis_stop(&M), 0);
    ck_assert(live_until(is_finished, 2000));
    ck_assert_int_eq(M.d.state, MIS_STOPPED);
    ck_assert_uint_eq(M.d.half_steps, steps_before + 1);
    ck_assert_uint_eq(count_ev(MIS_EV_STOPPED), 1);
    ck_assert_int_eq(mis_stop(&M), MIS_ESTATE);
    ck_assert_int_eq(mis_resume(&M), MIS_ESTATE);
    for (unsigned i = 0; i < 1000; i++) live_cycle();
    ck_assert_uint_eq(M.d.half_steps, steps_before + 1);
    ck_assert(gait_idle(&C.gait));
    ck_assert_uint_eq(C.cmd.outputs & (CC_Y_BRUSH | CC_Y_SPRAY), 0);
    assert_clean_run();
}
END_TEST

/* The edge sensor looking the way the lane goes ends the lane early, even
 * where the map shows facade. */
static int first_lane_running(void)
{
    return M.d.lane_i == 0 && M.d.phase == MIS_PH_RUN && M.d.clean_steps >= 2;
}

START_TEST(test_edge_sensor_ends_lane)
{
    feat ft = {-1, -1, {-1, 0, 0, 0}, 0};
    mis_config cfg;
    F = make_facade(&ft);
    config(&cfg, 1500, 1000, 4400, 1500, 1500, 1300);
    start_live(&cfg, 0.0f, 300.0f, 0);
    ck_assert(live_until(first_lane_running, 40000));
    ck_assert_int_eq(M.d.lane_dir, 1);
    const double x_at = M.d.pose.c_mm[0];
    ck_assert(x_at < 3000.0);
    W.x_force_on = CC_X_EDGE_XP; /* X15: an edge ahead */
    ck_assert(live_until(is_finished, 40000));
    int ended = 0;
    for (unsigned i = 0; i < EV_N; i++)
        if (EV[i].type == MIS_EV_LANE_END && EV[i].a == 0) {
            ck_assert_uint_eq(EV[i].b, MIS_LANE_BLOCKED);
            ck_assert_msg(EV[i].x1 < x_at + 700.0, "lane ran on to %.0f", EV[i].x1);
            ended = 1;
        }
    ck_assert(ended);
    int edge = 0;
    for (unsigned i = 0; i < EV_N; i++)
        if (EV[i].type == MIS_EV_BLOCKED && EV[i].b == MIS_BLK_EDGE) edge = 1;
    ck_assert(edge);
    /* no step ever put a foot further right than the outline was when it came on */
    assert_clean_run();
}
END_TEST

/* A HOLD in mid-step (operator) and the acknowledge: the gait finishes its
 * half-step and the mission goes on to the end as planned. */
static int gait_moving(void) { return C.gait.state == GAIT_MOVE && M.d.half_steps >= 3; }
static int held(void) { return C.sup.phase == SUP_HELD; }

START_TEST(test_hold_in_mission)
{
    feat ft = {-1, -1, {-1, 0, 0, 0}, 0};
    mis_config cfg;
    F = make_facade(&ft);
    config(&cfg, 1500, 1000, 2700, 2200, 2000, 1500);
    start_live(&cfg, 0.0f, 300.0f, 0);
    ck_assert(live_until(gait_moving, 40000));
    W.estop = 1; /* the E-stop in mid-move */
    ck_assert(live_until(held, 3));
    ck_assert_int_eq(C.sup.reason, SUP_R_ESTOP);
    for (unsigned i = 0; i < 300; i++) live_cycle();
    ck_assert(M.d.inflight);
    ck_assert_int_eq(ctl_acknowledge(&C), CTL_EFAULT);
    W.estop = 0;
    live_cycle();
    ck_assert_int_eq(ctl_acknowledge(&C), 0);
    ck_assert(live_until(is_finished, 40000));
    ck_assert_int_eq(M.d.state, MIS_DONE);
    ck_assert_uint_eq(M.d.half_steps, M.plan.half_steps);
    ck_assert_uint_eq(check_steps(), M.plan.half_steps);
    assert_clean_run_estop();
}
END_TEST

/* The controller dies in mid-step (cylinder moving); a new one starts from
 * the checkpoint: it finishes that very half-step (no regrip in place) and
 * the mission ends as planned. */
START_TEST(test_restart_mid_step)
{
    static ctl c2;
    static mission m2;
    fp_run r2;
    char err[256];
    feat ft = {-1, -1, {-1, 0, 0, 0}, 0};
    mis_config cfg;
    F = make_facade(&ft);
    config(&cfg, 1500, 1000, 2700, 2200, 2000, 1500);
    start_live(&cfg, 0.0f, 300.0f, 0);
    ck_assert(live_until(gait_moving, 40000));
    fp_cycles(&R, 20);
    ck_assert(W.y & (CC_Y_X_PLUS | CC_Y_X_MINUS | CC_Y_Y_PLUS | CC_Y_Y_MINUS));
    mis_dyn cp = *mis_checkpoint(&M);
    const unsigned planned = M.plan.half_steps, done = M.d.half_steps;
    ck_assert(cp.inflight);
    fp_idle(&W, 80); /* dead for 0.8 s: the PLC watchdog holds */

    ck_assert_int_eq(ctl_init(&c2, &P, err, sizeof err), 0);
    ck_assert_int_eq(fp_run_start(&r2, &c2, &W), 0);
    memset(&m2, 0, sizeof m2);
    ck_assert_int_eq(mis_init(&m2, &cfg, &c2.params, F, err, sizeof err), 0);
    ck_assert_int_eq(mis_restore(&m2, &cp, &r2.st, c2.now_ticks), 0);
    ck_assert_int_eq(mis_begin(&m2, &r2.st, 0), MIS_ESTATE);
    ck_assert_int_eq(mis_step(&m2, &c2, &r2.st), 0); /* hands the half-step to the gait */
    ck_assert_uint_eq(c2.gait.plan_n, 1);
    ck_assert_int_eq(ctl_acknowledge(&c2), 0);
    unsigned cycles = 0;
    while (!mis_finished(&m2) && cycles++ < 40000) {
        fp_cycle(&r2);
        ck_assert_int_eq(mis_step(&m2, &c2, &r2.st), 0);
        ck_assert_msg(c2.gait.kind != GAIT_KIND_REGRIP, "the new controller put a group down in place");
    }
    ck_assert(mis_finished(&m2));
    ck_assert_int_eq(m2.d.state, MIS_DONE);
    ck_assert_uint_eq(m2.d.half_steps, planned);
    ck_assert_uint_gt(m2.d.half_steps, done);
    ck_assert_uint_eq(W.refused, 0);
    ck_assert_uint_eq(c2.sup.refused_total, 0);
    ck_assert_uint_eq(r2.mirror_refusals, 0);
    mis_free(&m2);

    /* a checkpoint of another region is refused */
    mis_config other = cfg;
    other.region_mm[2] = 2800;
    ck_assert_int_eq(mis_init(&m2, &other, &c2.params, F, err, sizeof err), 0);
    ck_assert_int_eq(mis_restore(&m2, &cp, &r2.st, 0), MIS_ECKPT);
    mis_free(&m2);
}
END_TEST

/* Void beyond the right edge: the lane ends where the feet would go over it
 * (map), the robot never lands on the void. */
START_TEST(test_void_edge_map)
{
    feat ft = {-1, -1, {-1, 0, 0, 0}, 30}; /* x >= 3500 is void */
    mis_config cfg;
    F = make_facade(&ft);
    config(&cfg, 1500, 1000, 4900, 1500, 2000, 1300);
    start_live(&cfg, 150.0f, 150.0f, 1);
    ck_assert(live_until(is_finished, 200000));
    ck_assert_int_eq(M.d.state, MIS_DONE);
    check_steps();
    ck_assert_uint_ge(count_ev(MIS_EV_BLOCKED), 1);
    ck_assert(M.plan.planned_cells < M.plan.region_cells);
    ck_assert_uint_eq(M.live_hits, M.plan.planned_cells);
    assert_clean_run();
}
END_TEST

/* The checkpoint's field table covers mis_dyn without overlaps. */
START_TEST(test_checkpoint_fields)
{
    size_t n;
    const mis_field *f = mis_checkpoint_fields(&n);
    ck_assert_uint_gt(n, 40);
    for (size_t i = 0; i < n; i++) {
        ck_assert(f[i].offset + f[i].size <= sizeof(mis_dyn));
        for (size_t j = 0; j < i; j++) {
            ck_assert_str_ne(f[i].name, f[j].name);
            ck_assert(f[i].offset + f[i].size <= f[j].offset || f[j].offset + f[j].size <= f[i].offset);
        }
    }
}
END_TEST

/* The holding prediction: a holder on dirty wet glass with the carriage at
 * the end of the stroke is weaker than on clean glass. */
START_TEST(test_predict_sf)
{
    feat ft = {-1, -1, {-1, 0, 0, 0}, 0};
    mis_config cfg;
    char err[256];
    F = make_facade(&ft);
    config(&cfg, 1500, 1000, 2700, 2200, 2000, 1500);
    ck_assert_int_eq(mis_init(&M, &cfg, &P, F, err, sizeof err), 0);
    mis_pose ps = {{2000, 1500}, {150, 150}, {1, 1}};
    double mid = mis_predict_sf(&M, &ps, HOLD_GROUP_A, 0);
    /* centred: 0.25 x 6 x 0.95 x 60 kPa x A / (25 kg g), less the twist of
     * an arm of the cylinder tolerance (pos_tol_mm: the supervisor takes
     * the cylinder anywhere within it) against the cups' mean lever r:
     * SF = SF0 / (1 + tol / r) */
    double want = 0.25 * 6 * 0.95 * 60e3 * params_cup_area_m2(&P) / (25.0 * 9.80665);
    double cen[2] = {0, 0}, r_mean = 0.0, xy[6][2];
    for (unsigned i = 0; i < 6; i++) {
        params_cup_xy_mm(&P, HOLD_GROUP_A, i, xy[i]);
        cen[0] += xy[i][0] / 6.0;
        cen[1] += xy[i][1] / 6.0;
    }
    for (unsigned i = 0; i < 6; i++) r_mean += hypot(xy[i][0] - cen[0], xy[i][1] - cen[1]) / 6.0;
    want /= 1.0 + (double)P.pos_tol_mm / r_mean;
    ck_assert_msg(fabs(mid - want) < 0.01, "%g vs %g", mid, want);
    ps.s_mm[0] = 300; /* carriage and B 150 mm right of A: twist */
    double end = mis_predict_sf(&M, &ps, HOLD_GROUP_A, 0);
    ck_assert(end < mid && end > 2.0);
    ck_assert(mis_predict_sf(&M, &ps, HOLD_GROUP_A, 1) < end); /* the brush pulls */
}
END_TEST

/* The operator's jog (mis_jog): refused unless paused with the controller
 * running and nothing in flight; accepted, one half-step of the jog length
 * checked like the mission's, the pose tracked from the status, the mission
 * still paused; resume goes on from the new pose to the end. */
static int not_inflight(void) { return !M.d.inflight && gait_idle(&C.gait); }
static int running_idle(void) { return C.sup.phase == SUP_RUNNING && gait_idle(&C.gait); }

static unsigned count_jog_ends(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < EV_N; i++) n += EV[i].type == MIS_EV_STEP_END && EV[i].move.kind == MIS_MV_JOG;
    return n;
}

START_TEST(test_jog)
{
    feat ft = {-1, -1, {-1, 0, 0, 0}, 0};
    mis_config cfg;
    F = make_facade(&ft);
    config(&cfg, 1500, 1000, 2700, 2200, 2000, 1500);
    ck_assert(fabs(cfg.jog_mm - 50.0) < 1e-9);
    start_live(&cfg, 150.0f, 150.0f, 1);
    ck_assert_int_eq(M.d.lattice, 0);
    ck_assert_int_eq(mis_jog(&M, &C, &R.st, 2, 1), MIS_EARG);
    ck_assert_int_eq(mis_jog(&M, &C, &R.st, 0, 0), MIS_EARG);
    /* not paused: refused, nothing asked */
    ck_assert(live_until(has_clean_steps, 40000));
    ck_assert_int_eq(mis_jog(&M, &C, &R.st, 0, 1), MIS_EJOG);
    ck_assert_msg(strstr(mis_jog_reason(&M), "not paused") != NULL, "%s", mis_jog_reason(&M));
    ck_assert_int_eq(mis_pause(&M, "test"), 0);
    ck_assert_int_eq(mis_jog(&M, &C, &R.st, 0, 1), MIS_EJOG); /* pausing: not yet */
    ck_assert(live_until(is_paused, 2000));
    ck_assert(gait_idle(&C.gait));
    const unsigned steps = M.d.half_steps;

    /* +X or -X, whichever way the mover (B) has room for a whole jog */
    const double S = P.stroke_x_mm, tol = P.pos_tol_mm;
    const int dir = M.d.pose.s_mm[0] <= 0.5 * S ? 1 : -1;
    const mis_pose before = M.d.pose;
    const unsigned ev0 = EV_N;
    ck_assert_int_eq(mis_jog(&M, &C, &R.st, 0, dir), 0);
    ck_assert_str_eq(mis_jog_reason(&M), "");
    ck_assert(M.d.inflight);
    ck_assert(!gait_idle(&C.gait));
    ck_assert_int_eq(M.d.move.kind, MIS_MV_JOG);
    ck_assert_int_eq(M.d.move.group, HOLD_GROUP_B);
    ck_assert_uint_eq(M.d.move.axis, 0);
    ck_assert(fabs(M.d.move.chosen_mm - 50.0) < 1e-6);
    ck_assert(fabs((double)M.d.move.target_mm[0] - (before.s_mm[0] + dir * 50.0)) < 1e-3);
    ck_assert(isnan(M.d.move.target_mm[1]));
    ck_assert_uint_eq(M.d.move.aux, 0);
    /* a second jog while the first is under way: refused */
    ck_assert_int_eq(mis_jog(&M, &C, &R.st, 0, dir), MIS_EJOG);
    ck_assert_msg(strstr(mis_jog_reason(&M), "under way") != NULL, "%s", mis_jog_reason(&M));
    drain();
    ck_assert_uint_eq(EV_N, ev0 + 1);
    ck_assert_int_eq(EV[ev0].type, MIS_EV_STEP_BEGIN);
    ck_assert_int_eq(EV[ev0].move.kind, MIS_MV_JOG);
    ck_assert_str_eq(mis_move_kind_name(MIS_MV_JOG), "jog");
    ck_assert(live_until(not_inflight, 3000));
    ck_assert_int_eq(M.d.state, MIS_PAUSED); /* still paused */
    ck_assert_uint_eq(M.d.half_steps, steps + 1);
    ck_assert_uint_eq(count_jog_ends(), 1);
    /* the carriage moved by the jog length (within the gait's tolerance), Y not */
    const double moved = M.d.pose.c_mm[0] - before.c_mm[0];
    ck_assert_msg(fabs(moved - dir * 50.0) <= tol + 1.0, "carriage moved %.1f mm", moved);
    ck_assert(fabs(M.d.pose.c_mm[1] - before.c_mm[1]) < 1e-6);
    ck_assert(fabs(M.d.pose.s_mm[0] - (double)R.st.pos_mm[0]) < 1e-3); /* as measured */
    for (unsigned i = 0; i < 500; i++) { /* nothing more asked while paused */
        live_cycle();
        ck_assert(gait_idle(&C.gait));
    }
    ck_assert_uint_eq(M.d.half_steps, steps + 1);

    /* the controller held: refused */
    ck_assert_int_eq(ctl_operator_hold(&C), 0);
    live_cycle();
    ck_assert_int_eq(mis_jog(&M, &C, &R.st, 1, 1), MIS_EJOG);
    ck_assert_msg(strstr(mis_jog_reason(&M), "not running") != NULL, "%s", mis_jog_reason(&M));
    ck_assert_int_eq(ctl_acknowledge(&C), 0);
    ck_assert(live_until(running_idle, 2000));

    /* resume: the mission goes on from the new pose to its end */
    ck_assert_int_eq(mis_resume(&M), 0);
    ck_assert(live_until(is_finished, 60000));
    ck_assert_int_eq(M.d.state, MIS_DONE);
    ck_assert_uint_eq(check_steps(), M.d.half_steps);
    ck_assert_uint_eq(count_jog_ends(), 1);
    ck_assert_uint_ge(M.live_hits, M.plan.planned_cells * 95 / 100);
    assert_clean_run();
}
END_TEST

/* Without position sensors a jog is the rest of the stroke; the mover out
 * of stroke, the follower jogs instead (the carriage stays); jogging towards
 * void is refused once no group can land, and no jog ever lands on it. */
START_TEST(test_jog_lattice_edge)
{
    feat ft = {-1, -1, {-1, 0, 0, 0}, 20}; /* x >= 4000 mm void */
    mis_config cfg;
    F = make_facade(&ft);
    config(&cfg, 1500, 1000, 2700, 2200, 2000, 1500);
    start_live(&cfg, 0.0f, 300.0f, 0); /* at the ends: no homing */
    ck_assert_int_eq(M.d.lattice, 3);
    ck_assert_int_eq(mis_pause(&M, "test"), 0);
    ck_assert(live_until(is_paused, 20000));
    ck_assert(live_until(not_inflight, 20000));
    /* +Y with the Y cylinder at its plus end: A (the mover of Y) has no
     * room; B jogs its body up by the rest of the stroke */
    const mis_pose before = M.d.pose;
    const double Sy = P.stroke_y_mm;
    if (before.s_mm[1] >= Sy - 1.0) {
        ck_assert_int_eq(mis_jog(&M, &C, &R.st, 1, 1), 0);
        ck_assert_int_eq(M.d.move.group, HOLD_GROUP_B);
        ck_assert(fabs((double)M.d.move.target_mm[1]) < 1e-6);
        ck_assert(fabs(M.d.move.chosen_mm - Sy) < 1e-6);
        ck_assert(live_until(not_inflight, 3000));
        ck_assert(fabs(M.d.pose.c_mm[1] - before.c_mm[1]) < 1e-6); /* the carriage stayed */
        double b0[2], b1[2];
        mis_pose_group_mm(&P, &before, HOLD_GROUP_B, b0);
        mis_pose_group_mm(&P, &M.d.pose, HOLD_GROUP_B, b1);
        ck_assert(fabs(b1[1] - b0[1] - Sy) < 1.0);
    }
    /* walk +X to the void: every jog a whole stroke, until refused */
    int refused = 0;
    for (unsigned k = 0; k < 40 && !refused; k++) {
        const mis_pose p0 = M.d.pose;
        int rc = mis_jog(&M, &C, &R.st, 0, 1);
        if (rc == MIS_EJOG) {
            refused = 1;
            break;
        }
        ck_assert_int_eq(rc, 0);
        ck_assert(fabs(M.d.move.chosen_mm - P.stroke_x_mm) < 1.0);
        ck_assert(live_until(not_inflight, 3000));
        ck_assert_int_eq(M.d.state, MIS_PAUSED);
        ck_assert(M.d.pose.c_mm[0] >= p0.c_mm[0] - 1e-6);
    }
    ck_assert(refused);
    ck_assert_msg(strstr(mis_jog_reason(&M), "foothold") != NULL, "%s", mis_jog_reason(&M));
    ck_assert_msg(strstr(mis_jog_reason(&M), "+X") != NULL, "%s", mis_jog_reason(&M));
    ck_assert_uint_ge(count_jog_ends(), 2);
    check_steps(); /* no landing on the void, the holder never moved */
    /* back the other way is fine */
    ck_assert_int_eq(mis_jog(&M, &C, &R.st, 0, -1), 0);
    ck_assert(live_until(not_inflight, 3000));
    check_steps();
    assert_clean_run();
}
END_TEST

static Suite *mission_suite(void)
{
    Suite *s = suite_create("mission");
    TCase *t = tcase_create("plan");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, test_names);
    tcase_add_test(t, test_config_floor);
    tcase_add_test(t, test_init_errors);
    tcase_add_test(t, test_lane_plan_sensors);
    tcase_add_test(t, test_checkpoint_fields);
    tcase_add_test(t, test_predict_sf);
    suite_add_tcase(s, t);

    t = tcase_create("live");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_lane_plan_lattice_live);
    tcase_add_test(t, test_footholds_avoid);
    tcase_add_test(t, test_pause_resume);
    tcase_add_test(t, test_stop);
    tcase_add_test(t, test_edge_sensor_ends_lane);
    tcase_add_test(t, test_hold_in_mission);
    tcase_add_test(t, test_restart_mid_step);
    tcase_add_test(t, test_void_edge_map);
    tcase_add_test(t, test_jog);
    tcase_add_test(t, test_jog_lattice_edge);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mission_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
