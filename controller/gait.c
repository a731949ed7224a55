/*
 * gait.c — the half-step state machine.  See gait.h for the sequence, the
 * kinematics and the recovery rules.
 */
#include "gait.h"

#include <math.h>
#include <string.h>

#define TICKS_PER_S 100u /* D104 counts 10 ms */
#define MAX_TRANSITIONS_PER_CYCLE 8 /* more than any chain the states allow */

static const uint32_t end_minus[2] = {CC_X_XCYL_MINUS_END, CC_X_YCYL_MINUS_END};
static const uint32_t end_plus[2] = {CC_X_XCYL_PLUS_END, CC_X_YCYL_PLUS_END};
static const uint16_t valve_plus[2] = {CC_Y_X_PLUS, CC_Y_Y_PLUS};
static const uint16_t valve_minus[2] = {CC_Y_X_MINUS, CC_Y_Y_MINUS};

#define BOTH_GRIP (CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC)

const char *gait_strerror(int code)
{
    switch (code) {
    case GAIT_OK: return "ok";
    case GAIT_EARG: return "bad argument";
    case GAIT_EBUSY: return "gait busy: a request is accepted only when idle";
    case GAIT_ERANGE: return "target outside the cylinder stroke";
    case GAIT_ENOSENSOR: return "target between the ends needs a position sensor";
    case GAIT_EPOSITION: return "cylinder position unknown (no sensor, not at an end)";
    default: return "unknown gait error";
    }
}

const char *gait_state_name(gait_state s)
{
    static const char *const names[GAIT_STATE_COUNT] = {
        "unknown", "idle", "verify", "release", "lift", "move", "lower", "grip", "settle", "failed"};
    return (unsigned)s < GAIT_STATE_COUNT ? names[s] : "?";
}

const char *gait_fail_name(gait_fail f)
{
    static const char *const names[GAIT_FAIL_COUNT] = {
        "none",          "verify-timeout", "release-timeout", "lift-timeout",
        "move-timeout",  "stall",          "position-lost",   "lower-timeout",
        "grip-timeout",  "settle-leak",    "holder-lost",     "no-grip"};
    return (unsigned)f < GAIT_FAIL_COUNT ? names[f] : "?";
}

const char *gait_kind_name(gait_kind k)
{
    static const char *const names[GAIT_KIND_COUNT] = {"step", "reseat", "shift", "regrip"};
    return (unsigned)k < GAIT_KIND_COUNT ? names[k] : "?";
}

const char *gait_goal_name(gait_goal_mode m)
{
    static const char *const names[GAIT_GOAL_COUNT] = {"none", "end", "position", "timed"};
    return (unsigned)m < GAIT_GOAL_COUNT ? names[m] : "?";
}

static float stroke_mm(const params_robot *p, unsigned axis)
{
    return axis ? p->stroke_y_mm : p->stroke_x_mm;
}

static int at_end(const cc_status *st, unsigned axis, int dir)
{
    return (st->x & (dir > 0 ? end_plus[axis] : end_minus[axis])) != 0;
}

void gait_init(gait *g, const params_robot *p)
{
    memset(g, 0, sizeof *g);
    g->p = p;
    g->state = GAIT_UNKNOWN;
    g->resume_to = GAIT_RELEASE;
}

void gait_cyl_delta_mm(hold_group lifted, float dx_mm, float dy_mm, float dp_mm[2])
{
    /* B grips, A lifted: A = (B_x - p_x, B_y + p_y) -> dp = (-dx, +dy).
     * A grips, B lifted: B = (A_x + p_x, A_y - p_y) -> dp = (+dx, -dy). */
    if (lifted == HOLD_GROUP_A) {
        dp_mm[0] = -dx_mm;
        dp_mm[1] = dy_mm;
    } else {
        dp_mm[0] = dx_mm;
        dp_mm[1] = -dy_mm;
    }
}

int gait_cyl_known_mm(const params_robot *p, const cc_status *st, unsigned axis, float *mm)
{
    if (axis > 1) return 0;
    if (st->pos_valid[axis]) {
        *mm = st->pos_mm[axis];
        return 1;
    }
    if (at_end(st, axis, -1)) {
        *mm = 0.0f;
        return 1;
    }
    if (at_end(st, axis, +1)) {
        *mm = stroke_mm(p, axis);
        return 1;
    }
    return 0;
}

/* Goal for one cylinder going to target_mm (NaN: stays) from from_mm (NaN:
 * unknown).  Returns 0 or a GAIT_E* code. */
static int make_goal(const params_robot *p, const cc_status *st, unsigned axis, float target_mm,
                     float from_mm, gait_goal *goal)
{
    const float s = stroke_mm(p, axis), tol = p->pos_tol_mm;
    memset(goal, 0, sizeof *goal);
    goal->mode = GAIT_GOAL_NONE;
    if (isnan(target_mm)) return 0;
    if (!isfinite(target_mm)) return GAIT_EARG;
    if (target_mm < -tol || target_mm > s + tol) return GAIT_ERANGE;
    if (target_mm < 0.0f) target_mm = 0.0f;
    if (target_mm > s) target_mm = s;
    if (!isnan(from_mm) && fabsf(target_mm - from_mm) <= tol) return 0; /* already there */
    if (target_mm <= tol) {
        goal->mode = GAIT_GOAL_END;
        goal->target_mm = 0.0f;
    } else if (target_mm >= s - tol) {
        goal->mode = GAIT_GOAL_END;
        goal->target_mm = s;
    } else if (!st->pos_valid[axis]) {
        return GAIT_ENOSENSOR;
    } else {
        goal->mode = GAIT_GOAL_POS;
        goal->target_mm = target_mm;
    }
    return 0;
}

/* Where a goal leaves the cylinder (for the next half of a full step). */
static float goal_end_mm(const gait_goal *goal, float from_mm)
{
    return goal->mode == GAIT_GOAL_END || goal->mode == GAIT_GOAL_POS ? goal->target_mm : from_mm;
}

static int goal_reached(const params_robot *p, const cc_status *st, unsigned axis,
                        const gait_goal *goal)
{
    switch (goal->mode) {
    case GAIT_GOAL_END: return at_end(st, axis, goal->target_mm > 0.5f * stroke_mm(p, axis) ? 1 : -1);
    case GAIT_GOAL_POS:
        return st->pos_valid[axis] && fabsf(st->pos_mm[axis] - goal->target_mm) <= p->pos_tol_mm;
    default: return 1; /* NONE; TIMED cannot be checked afterwards: a shift is not repeated */
    }
}

static int goals_reached(const gait *g, const cc_status *st, const gait_goal goal[2])
{
    return goal_reached(g->p, st, 0, &goal[0]) && goal_reached(g->p, st, 1, &goal[1]);
}

static int goals_move(const gait_goal goal[2])
{
    return goal[0].mode != GAIT_GOAL_NONE || goal[1].mode != GAIT_GOAL_NONE;
}

/* ------------------------------------------------------------- requests */

static int set_plan(gait *g, const gait_half *halves, unsigned n)
{
    memcpy(g->plan, halves, n * sizeof halves[0]);
    g->plan_n = n;
    g->plan_i = 0;
    return 0;
}

int gait_request_half_to(gait *g, const cc_status *st, hold_group G, const float target_mm[2])
{
    gait_half h;
    if (!g || !st || !target_mm || (unsigned)G >= HOLD_GROUP_COUNT) return GAIT_EARG;
    if (!gait_idle(g)) return GAIT_EBUSY;
    h.group = G;
    for (unsigned a = 0; a < 2; a++) {
        float from = NAN;
        if (!gait_cyl_known_mm(g->p, st, a, &from)) from = NAN;
        int rc = make_goal(g->p, st, a, target_mm[a], from, &h.axis[a]);
        if (rc) return rc;
    }
    return set_plan(g, &h, 1);
}

/* Targets of a relative half-step from known positions; from[] is updated to
 * where the half leaves the cylinders. */
static int relative_half(const gait *g, const cc_status *st, hold_group G, float dx_mm, float dy_mm,
                         float from[2], gait_half *h)
{
    float dp[2];
    gait_cyl_delta_mm(G, dx_mm, dy_mm, dp);
    h->group = G;
    for (unsigned a = 0; a < 2; a++) {
        memset(&h->axis[a], 0, sizeof h->axis[a]);
        if (fabsf(dp[a]) < 1e-3f) continue;
        if (isnan(from[a])) return GAIT_EPOSITION;
        int rc = make_goal(g->p, st, a, from[a] + dp[a], from[a], &h->axis[a]);
        if (rc) return rc;
        from[a] = goal_end_mm(&h->axis[a], from[a]);
    }
    return 0;
}

int gait_request_half_step(gait *g, const cc_status *st, hold_group G, float dx_mm, float dy_mm)
{
    gait_half h;
    float from[2];
    if (!g || !st || (unsigned)G >= HOLD_GROUP_COUNT || !isfinite(dx_mm) || !isfinite(dy_mm))
        return GAIT_EARG;
    if (!gait_idle(g)) return GAIT_EBUSY;
    for (unsigned a = 0; a < 2; a++)
        if (!gait_cyl_known_mm(g->p, st, a, &from[a])) from[a] = NAN;
    int rc = relative_half(g, st, G, dx_mm, dy_mm, from, &h);
    if (rc) return rc;
    return set_plan(g, &h, 1);
}

int gait_request_full_step(gait *g, const cc_status *st, hold_group first, float dx_mm,
                           float dy_mm)
{
    gait_half h[2];
    float from[2];
    if (!g || !st || (unsigned)first >= HOLD_GROUP_COUNT || !isfinite(dx_mm) || !isfinite(dy_mm))
        return GAIT_EARG;
    if (!gait_idle(g)) return GAIT_EBUSY;
    for (unsigned a = 0; a < 2; a++)
        if (!gait_cyl_known_mm(g->p, st, a, &from[a])) from[a] = NAN;
    int rc = relative_half(g, st, first, dx_mm, dy_mm, from, &h[0]);
    if (rc) return rc;
    rc = relative_half(g, st, hold_other(first), dx_mm, dy_mm, from, &h[1]);
    if (rc) return rc;
    return set_plan(g, h, 2);
}

int gait_idle(const gait *g)
{
    return g->state == GAIT_IDLE && g->plan_i >= g->plan_n;
}

void gait_invalidate(gait *g)
{
    g->state = GAIT_UNKNOWN;
    g->fail = GAIT_FAIL_NONE;
    g->v_ok[0] = g->v_ok[1] = 0; /* verification must be seen again, continuously */
}

void gait_cancel(gait *g)
{
    if (g->plan_half && g->plan_i < g->plan_n)
        g->plan_n = g->plan_i + 1; /* finish the half-step under way, drop the rest */
    else
        g->plan_n = g->plan_i = 0;
}

/* ---------------------------------------------------------- transitions */

static void enter(gait *g, const cc_status *st, gait_state s, uint32_t now);

static void fail_with(gait *g, gait_fail f, uint32_t now)
{
    g->fail = f;
    g->state = GAIT_FAILED;
    g->state_since_ticks = now;
    g->transitions++;
}

static void move_start(gait *g, const cc_status *st, uint32_t now)
{
    const params_robot *p = g->p;
    g->move_since_ticks = now;
    for (unsigned a = 0; a < 2; a++) {
        const gait_goal *goal = &g->goal[a];
        int dir = 0, done = 1;
        switch (goal->mode) {
        case GAIT_GOAL_END:
            dir = goal->target_mm > 0.5f * stroke_mm(p, a) ? 1 : -1;
            done = at_end(st, a, dir);
            break;
        case GAIT_GOAL_POS:
            done = 0; /* dir 0 without a sensor: move_update reports the lost position */
            if (st->pos_valid[a]) {
                float diff = goal->target_mm - st->pos_mm[a];
                if (fabsf(diff) <= p->pos_tol_mm)
                    done = 1;
                else
                    dir = diff > 0.0f ? 1 : -1;
            }
            break;
        case GAIT_GOAL_TIMED:
            dir = goal->dir >= 0 ? 1 : -1;
            done = 0;
            break;
        default: break;
        }
        if (!done && dir && at_end(st, a, dir)) done = 1; /* nowhere to go that way */
        g->mv_dir[a] = (int8_t)dir;
        g->mv_done[a] = (uint8_t)done;
        g->mv_prog_mm[a] = st->pos_valid[a] ? st->pos_mm[a] : 0.0f;
        g->mv_prog_since_ticks[a] = now;
    }
}

/* 1: every cylinder there; 0: still moving; -1: failed (state is FAILED). */
static int move_update(gait *g, const cc_status *st, uint32_t now)
{
    const params_robot *p = g->p;
    int all = 1;
    for (unsigned a = 0; a < 2; a++) {
        if (g->mv_done[a]) continue;
        const gait_goal *goal = &g->goal[a];
        int dir = g->mv_dir[a];
        if (!dir || (goal->mode == GAIT_GOAL_POS && !st->pos_valid[a])) {
            fail_with(g, GAIT_FAIL_POSITION_LOST, now);
            return -1;
        }
        int done = at_end(st, a, dir);
        if (!done && goal->mode == GAIT_GOAL_POS) {
            float pos = st->pos_mm[a];
            done = dir > 0 ? pos >= goal->target_mm - p->pos_tol_mm
                           : pos <= goal->target_mm + p->pos_tol_mm;
        }
        if (!done && goal->mode == GAIT_GOAL_TIMED) done = now - g->move_since_ticks >= goal->timed_ticks;
        if (done) {
            g->mv_done[a] = 1;
            continue;
        }
        all = 0;
        if (st->pos_valid[a]) { /* stall: no progress for stall_ticks */
            if (fabsf(st->pos_mm[a] - g->mv_prog_mm[a]) >= p->stall_progress_mm) {
                g->mv_prog_mm[a] = st->pos_mm[a];
                g->mv_prog_since_ticks[a] = now;
            } else if (now - g->mv_prog_since_ticks[a] >= p->stall_ticks) {
                fail_with(g, GAIT_FAIL_STALL, now);
                return -1;
            }
        }
    }
    return all;
}

static void window_start(gait *g, const cc_status *st, uint32_t now)
{
    const hold_group_io *io = hold_io(g->g);
    g->win_since_ticks = now;
    memcpy(g->win_kpa, &st->cup_kpa[io->cup_first], sizeof g->win_kpa);
    for (unsigned a = 0; a < 2; a++) {
        g->win_pos_sum_mm[a] = 0.0;
        g->win_pos_n[a] = 0;
    }
}

static void enter(gait *g, const cc_status *st, gait_state s, uint32_t now)
{
    g->state = s;
    g->state_since_ticks = now;
    g->transitions++;
    if (s == GAIT_MOVE) move_start(g, st, now);
    if (s == GAIT_SETTLE) window_start(g, st, now);
}

static void load_half(gait *g, const gait_half *h)
{
    g->g = h->group;
    memcpy(g->goal, h->axis, sizeof g->goal);
    g->kind = GAIT_KIND_STEP;
    g->plan_half = 1;
    g->reseats = 0;
    g->shifted = 0;
}

static void start_half(gait *g, const cc_status *st, uint32_t now)
{
    const hold_group_io *gi;
    load_half(g, &g->plan[g->plan_i]);
    gi = hold_io(g->g);
    g->resume_to = GAIT_RELEASE;
    g->g_keep = gi->y_down | gi->y_vac; /* G grips until the release */
    g->win_pos_n[0] = g->win_pos_n[1] = 0; /* the last settle's positions no longer hold */
    enter(g, st, GAIT_VERIFY, now);
}

static void half_done(gait *g, const cc_status *st, uint32_t now)
{
    g->half_steps++;
    if (g->plan_half) g->plan_i++;
    g->plan_half = 0;
    if (g->plan_i < g->plan_n) {
        start_half(g, st, now);
    } else {
        g->plan_n = g->plan_i = 0;
        enter(g, st, GAIT_IDLE, now);
    }
}

/* Shifted foothold goal: shift_mm along X if X has room (either way), else
 * along Y.  Returns 1 when a shift is possible. */
static int make_shift(gait *g, const cc_status *st)
{
    const params_robot *p = g->p;
    if (!(p->shift_mm > 0.0f)) return 0;
    for (unsigned a = 0; a < 2; a++) {
        gait_goal *goal = &g->goal[(unsigned)a];
        gait_goal other = {0};
        const float s = stroke_mm(p, a);
        if (st->pos_valid[a]) {
            float pos = st->pos_mm[a];
            float t = pos + p->shift_mm <= s ? pos + p->shift_mm
                      : pos - p->shift_mm >= 0.0f ? pos - p->shift_mm : NAN;
            if (isnan(t) || make_goal(p, st, a, t, pos, &other) || other.mode == GAIT_GOAL_NONE)
                continue;
        } else {
            if (p->shift_mm >= s) continue;
            other.mode = GAIT_GOAL_TIMED;
            other.dir = at_end(st, a, +1) ? -1 : 1;
            other.timed_ticks =
                (uint32_t)ceilf(p->shift_mm / p->shift_speed_mm_s * (float)TICKS_PER_S);
        }
        memset(g->goal, 0, sizeof g->goal);
        *goal = other;
        return 1;
    }
    return 0;
}

/* A cup that will not seal (GRIP timeout) or will not settle. */
static void recover(gait *g, const cc_status *st, uint32_t now, gait_fail reason)
{
    if (g->reseats < g->p->reseat_max) {
        g->reseats++;
        g->reseats_total++;
        g->kind = GAIT_KIND_RESEAT;
        enter(g, st, GAIT_RELEASE, now);
    } else if (!g->shifted && make_shift(g, st)) {
        g->shifted = 1;
        g->shifts_total++;
        g->kind = GAIT_KIND_SHIFT;
        enter(g, st, GAIT_RELEASE, now);
    } else {
        fail_with(g, reason, now);
    }
}

static void derive(gait *g, const cc_status *st, uint32_t now)
{
    const int va = g->v_ok[HOLD_GROUP_A], vb = g->v_ok[HOLD_GROUP_B];
    const gait_half *cur = g->plan_i < g->plan_n ? &g->plan[g->plan_i] : NULL;
    g->derives++;
    g->fail = GAIT_FAIL_NONE;
    if (va && vb) {
        if (!cur) {
            enter(g, st, GAIT_IDLE, now);
        } else if (goals_move(cur->axis) && goals_reached(g, st, cur->axis)) {
            load_half(g, cur); /* moved and gripping again: only the settle is left */
            enter(g, st, GAIT_SETTLE, now);
        } else {
            start_half(g, st, now);
        }
        return;
    }
    if (!va && !vb) {
        fail_with(g, GAIT_FAIL_NO_GRIP, now);
        return;
    }
    const hold_group G = va ? HOLD_GROUP_B : HOLD_GROUP_A;
    const hold_group_io *io = hold_io(G);
    const int mine = cur && cur->group == G;
    const int pending = mine && !goals_reached(g, st, cur->axis);
    if (mine) {
        load_half(g, cur);
    } else {
        g->g = G;
        memset(g->goal, 0, sizeof g->goal);
        g->kind = GAIT_KIND_REGRIP;
        g->plan_half = 0;
        g->reseats = 0;
        g->shifted = 0;
    }
    const int up = (st->x & io->x_up) && !(st->x & io->x_down);
    const int down = (st->x & io->x_down) && !(st->x & io->x_up);
    if (up)
        g->resume_to = pending ? GAIT_MOVE : GAIT_LOWER;
    else if (pending)
        g->resume_to = GAIT_RELEASE; /* legs down or between: release, then lift */
    else
        g->resume_to = down ? GAIT_GRIP : GAIT_LOWER;
    g->g_keep = (uint16_t)((st->y & io->y_down) | io->y_vac); /* legs as they are (HOLD) */
    enter(g, st, GAIT_VERIFY, now);
}

static int cups_all(const cc_status *st, hold_group G, float kpa, int at_least)
{
    const hold_group_io *io = hold_io(G);
    for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
        float v = st->cup_kpa[io->cup_first + i];
        if (at_least ? !(v >= kpa) : !(v <= kpa)) return 0;
    }
    return 1;
}

/* Peak-hold per cup within the settle window: a cup still filling when the
 * window opens must not hide a leak that starts once it is full. */
static void window_track(gait *g, const cc_status *st)
{
    const hold_group_io *io = hold_io(g->g);
    for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++)
        if (st->cup_kpa[io->cup_first + i] > g->win_kpa[i]) g->win_kpa[i] = st->cup_kpa[io->cup_first + i];
    for (unsigned a = 0; a < 2; a++) {
        if (!st->pos_valid[a] || !isfinite(st->pos_mm[a])) continue;
        g->win_pos_sum_mm[a] += (double)st->pos_mm[a];
        g->win_pos_n[a]++;
    }
}

int gait_settled_pos_mm(const gait *g, unsigned axis, double *mm)
{
    if (!g || axis > 1 || !mm || g->win_pos_n[axis] == 0) return 0;
    *mm = g->win_pos_sum_mm[axis] / (double)g->win_pos_n[axis];
    return 1;
}

/* Leak rate over the window: drop of every cup from its peak in the window,
 * per second of window, <= leak_max_kpa_per_s. */
static int leak_ok(const gait *g, const cc_status *st, uint32_t now)
{
    const hold_group_io *io = hold_io(g->g);
    float dt_s = (float)(now - g->win_since_ticks) / (float)TICKS_PER_S;
    if (dt_s <= 0.0f) return 1;
    for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
        float drop = g->win_kpa[i] - st->cup_kpa[io->cup_first + i];
        if (drop / dt_s > g->p->leak_max_kpa_per_s) return 0;
    }
    return 1;
}

static void step(gait *g, const cc_status *st, uint32_t now, const hold_result hr[2])
{
    const params_robot *p = g->p;
    const hold_group G = g->g, H = hold_other(G);
    const hold_group_io *gio = hold_io(G);
    const uint32_t in_state = now - g->state_since_ticks;

    switch (g->state) {
    case GAIT_UNKNOWN: derive(g, st, now); return;
    case GAIT_IDLE:
        if (g->plan_i < g->plan_n) start_half(g, st, now);
        return;
    case GAIT_FAILED: return;
    case GAIT_VERIFY:
        if (g->v_ok[H] && now - g->v_since_ticks[H] >= p->settle_ticks) {
            float sf = hr[H].safety_factor;
            if (g->resume_to == GAIT_RELEASE || g->resume_to == GAIT_MOVE) { /* G lets go */
                g->sf_at_release_last = sf;
                if (g->sf_at_release_min == 0.0f || sf < g->sf_at_release_min)
                    g->sf_at_release_min = sf;
            }
            enter(g, st, g->resume_to, now);
        } else if (in_state >= p->verify_timeout_ticks) {
            fail_with(g, GAIT_FAIL_VERIFY_TIMEOUT, now);
        }
        return;
    default: break;
    }

    /* RELEASE .. SETTLE: H holds the robot alone */
    if (!g->v_ok[H]) {
        fail_with(g, GAIT_FAIL_HOLDER_LOST, now);
        return;
    }
    switch (g->state) {
    case GAIT_RELEASE:
        if (cups_all(st, G, p->vac_released_kpa, 0))
            enter(g, st, GAIT_LIFT, now);
        else if (in_state >= p->release_timeout_ticks)
            fail_with(g, GAIT_FAIL_RELEASE_TIMEOUT, now);
        break;
    case GAIT_LIFT:
        if ((st->x & gio->x_up) && !(st->x & gio->x_down))
            enter(g, st, g->kind == GAIT_KIND_RESEAT ? GAIT_LOWER : GAIT_MOVE, now);
        else if (in_state >= p->lift_timeout_ticks)
            fail_with(g, GAIT_FAIL_LIFT_TIMEOUT, now);
        break;
    case GAIT_MOVE: {
        int m = move_update(g, st, now);
        if (m > 0)
            enter(g, st, GAIT_LOWER, now);
        else if (m == 0 && in_state >= p->move_timeout_ticks)
            fail_with(g, GAIT_FAIL_MOVE_TIMEOUT, now);
        break;
    }
    case GAIT_LOWER:
        if ((st->x & gio->x_down) && !(st->x & gio->x_up))
            enter(g, st, GAIT_GRIP, now);
        else if (in_state >= p->lower_timeout_ticks)
            fail_with(g, GAIT_FAIL_LOWER_TIMEOUT, now);
        break;
    case GAIT_GRIP:
        /* into SETTLE with a margin over the sealed threshold, which SETTLE
         * then requires: a cup filling through 45 kPa would otherwise fail
         * SETTLE on its reading noise one cycle later (a reseat for nothing) */
        if (cups_all(st, G, p->vac_sealed_kpa + p->vac_hyst_kpa, 1) && (st->x & gio->x_vac_ok))
            enter(g, st, GAIT_SETTLE, now);
        else if (in_state >= p->grip_timeout_ticks)
            recover(g, st, now, GAIT_FAIL_GRIP_TIMEOUT);
        break;
    case GAIT_SETTLE:
        if (!cups_all(st, G, p->vac_sealed_kpa, 1) || !(st->x & gio->x_vac_ok) ||
            (st->x & gio->x_up)) {
            recover(g, st, now, GAIT_FAIL_SETTLE_LEAK);
            break;
        }
        window_track(g, st);
        if (now - g->win_since_ticks < p->settle_ticks) break;
        if (leak_ok(g, st, now))
            half_done(g, st, now);
        else if (in_state >= p->settle_timeout_ticks)
            recover(g, st, now, GAIT_FAIL_SETTLE_LEAK);
        else
            window_start(g, st, now); /* try another window */
        break;
    default: break;
    }
}

static uint16_t outputs_of(const gait *g, const cc_status *st)
{
    const hold_group_io *gi = hold_io(g->g), *hi = hold_io(hold_other(g->g));
    const uint16_t base = (uint16_t)(hi->y_down | hi->y_vac);
    uint16_t out;
    switch (g->state) {
    case GAIT_IDLE: return BOTH_GRIP;
    case GAIT_VERIFY: return (uint16_t)(base | g->g_keep);
    case GAIT_RELEASE: return (uint16_t)(base | gi->y_down | gi->y_blow);
    case GAIT_LIFT: return base;
    case GAIT_MOVE:
        out = base;
        for (unsigned a = 0; a < 2; a++)
            if (!g->mv_done[a] && g->mv_dir[a])
                out |= g->mv_dir[a] > 0 ? valve_plus[a] : valve_minus[a];
        return out;
    case GAIT_LOWER: return (uint16_t)(base | gi->y_down);
    case GAIT_GRIP:
    case GAIT_SETTLE: return (uint16_t)(base | gi->y_down | gi->y_vac);
    default: /* UNKNOWN, FAILED: legs as they are, both vacuums on, nothing moves */
        return (uint16_t)((st->y & (CC_Y_A_DOWN | CC_Y_B_DOWN)) | CC_Y_A_VAC | CC_Y_B_VAC);
    }
}

int gait_update(gait *g, const cc_status *st, uint32_t now_ticks, uint16_t *outputs)
{
    hold_result hr[HOLD_GROUP_COUNT];
    if (!g || !st || !outputs || !g->p) return GAIT_EARG;
    for (unsigned k = 0; k < HOLD_GROUP_COUNT; k++) {
        int ok = hold_group_verified_fr(g->p, g->fr, st, (hold_group)k, &hr[k]);
        if (ok && !g->v_ok[k]) g->v_since_ticks[k] = now_ticks;
        g->v_ok[k] = ok;
    }
    for (int i = 0; i < MAX_TRANSITIONS_PER_CYCLE; i++) {
        unsigned t0 = g->transitions;
        step(g, st, now_ticks, hr);
        if (g->transitions == t0 || g->state == GAIT_FAILED) break;
    }
    *outputs = outputs_of(g, st);
    return 0;
}
