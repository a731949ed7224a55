/*
 * mission.c — the cleaning mission.  See mission.h for the geometry, the
 * plan, the foothold rules and the restart.
 */
#include "mission.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICKS_PER_S 100.0      /* D104 counts 10 ms */
#define DRY_STEPS_MAX 20000u   /* a dry run longer than this is cut (plan.complete = 0) */
#define DECIDE_ROUNDS_MAX (6 * MIS_LANES_MAX + 64) /* phase changes in one decision: each ends
                                                     a lane, a phase or a detour */
#define SIM_ADVANCE_MAX 8u     /* half-steps a sidestep may take, in its check */
#define STOP_SHORT_MM 2.0      /* a cylinder stops this short of its target (the gait's, measured) */
#define UNSTICK_PER_LANE 6     /* try_unstick half-steps per lane: the planner's grid may undo one */
#define LOOKAHEAD_STEPS 2u     /* steps checked beyond a candidate with a choice of lengths */
#define POS_NOISE_MM 2.0       /* position sensor noise allowed beyond the gait's tolerance */
#define LOOKAHEAD_BUDGET 2000u /* candidate checks of the lookahead per step decision: bounds the
                                  worst cycle (a dead end explores every length) */
#define G_M_S2 9.80665

_Static_assert(sizeof(hold_group) == sizeof(int), "hold_group stored as int in checkpoints");

const char *mis_strerror(int code)
{
    switch (code) {
    case MIS_OK: return "ok";
    case MIS_EARG: return "bad argument or mission configuration";
    case MIS_ESTATE: return "not possible in this mission state";
    case MIS_ENOMEM: return "out of memory for the coverage maps";
    case MIS_ERANGE: return "region or start outside the facade";
    case MIS_ECKPT: return "checkpoint of another mission";
    case MIS_EJOG: return "jog refused";
    default: return "unknown mission error";
    }
}

const char *mis_state_name(mis_state s)
{
    static const char *const names[MIS_STATE_COUNT] = {
        "waiting", "homing", "transit", "cleaning", "pausing", "paused", "stopping", "done", "stopped"};
    return (unsigned)s < MIS_STATE_COUNT ? names[s] : "?";
}

const char *mis_phase_name(mis_phase p)
{
    static const char *const names[MIS_PHASE_COUNT] = {"reach-y", "reach-start", "run"};
    return (unsigned)p < MIS_PHASE_COUNT ? names[p] : "?";
}

const char *mis_move_kind_name(mis_move_kind k)
{
    static const char *const names[MIS_MV_KIND_COUNT] = {"home", "transit", "clean", "sidestep", "jog"};
    return (unsigned)k < MIS_MV_KIND_COUNT ? names[k] : "?";
}

const char *mis_block_name(mis_block b)
{
    static const char *const names[MIS_BLK_COUNT] = {"none", "range", "foothold", "path",
                                                     "holding", "edge", "proximity"};
    return (unsigned)b < MIS_BLK_COUNT ? names[b] : "?";
}

const char *mis_lane_end_name(mis_lane_end e)
{
    static const char *const names[MIS_LANE_END_COUNT] = {"open", "reached", "blocked", "skipped"};
    return (unsigned)e < MIS_LANE_END_COUNT ? names[e] : "?";
}

const char *mis_event_name(mis_event_type t)
{
    static const char *const names[MIS_EV_TYPE_COUNT] = {
        "plan",     "lane-begin", "lane-end", "step-begin", "step-end", "shortened",
        "sidestep", "blocked",    "paused",   "resumed",    "stopped",  "done", "fusion"};
    return (unsigned)t < MIS_EV_TYPE_COUNT ? names[t] : "?";
}

/* ----------------------------------------------------------- configuration */

static void timing_defaults(mis_timing *t)
{
    t->speed_side_mm_s = 150.0;
    t->speed_up_mm_s = 100.0;
    t->speed_down_mm_s = 200.0;
    t->cushion_mm = 15.0;
    t->cushion_factor = 0.3;
    t->leg_up_s = 0.3;
    t->leg_down_s = 0.4;
    t->release_s = 0.5;
    t->grip_s = 1.0;
}

void mis_config_defaults(mis_config *cfg)
{
    robotcfg rc;
    robotcfg_defaults(&rc);
    mis_config_from_robotcfg(cfg, &rc);
}

void mis_config_from_robotcfg(mis_config *cfg, const robotcfg *rc)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->brush_width_mm = rc->brush_width_m * 1e3;
    cfg->lane_overlap_mm = 50.0;
    cfg->step_min_mm = 40.0;
    cfg->step_quant_mm = 10.0;
    cfg->foothold_bad_max = 0.03;
    cfg->path_sample_mm = 20.0;
    cfg->prox_margin_mm = 30.0;
    cfg->sidestep_mm = 0.0;
    cfg->detours_max = 4;
    cfg->jog_mm = 50.0;
    cfg->fusion_stop_wait_s = 2.0;
    cfg->fusion_stops_max = 3;
    cfg->aux_bits = CC_Y_BRUSH | CC_Y_SPRAY;
    cfg->pause_on_water_low = 1;
    for (int s = 0; s < FACADE_SURF_COUNT; s++) cfg->mu_wet[s] = rc->mu_wet[s];
    cfg->mu_dirt_factor = rc->mu_dirt_factor;
    cfg->vac_pred_factor = 0.95;
    cfg->body_a_kg = rc->body_a_kg;
    cfg->body_b_kg = rc->body_b_kg;
    cfg->brush_reaction_n = rc->brush_reaction_n;
    cfg->start_cyl_mm[0] = 0.5 * rc->stroke_m[0] * 1e3;
    cfg->start_cyl_mm[1] = 0.5 * rc->stroke_m[1] * 1e3;

    mis_timing *t = &cfg->timing;
    timing_defaults(t);
    t->speed_side_mm_s = rc->speed_side_m_s * 1e3;
    t->speed_up_mm_s = rc->speed_up_m_s * 1e3;
    t->speed_down_mm_s = rc->speed_down_m_s * 1e3;
    t->cushion_mm = rc->cushion_m * 1e3;
    t->cushion_factor = rc->cushion_factor;
    /* legs: the switches close leg_switch before the end */
    double sw = rc->leg_stroke_m > 0.0 ? 1.0 - rc->leg_switch_m / rc->leg_stroke_m : 1.0;
    t->leg_up_s = rc->leg_up_s * sw;
    t->leg_down_s = rc->leg_down_s * sw;
    /* blow-off from nominal to released: p = p0 e^(-t/tau_b) */
    if (rc->vac_released_pa > 0.0 && rc->vac_nominal_pa > rc->vac_released_pa)
        t->release_s = rc->blowoff_tau_s * log(rc->vac_nominal_pa / rc->vac_released_pa);
    /* six cups filling together through the manifold: T = tau (1 + 6 c),
     * p(t) = p_nom (1 - e^(-t/T)) (leak neglected: glass) */
    double T = rc->ejector_tau_s * (1.0 + 6.0 * rc->ejector_droop);
    if (rc->vac_nominal_pa > rc->vac_sealed_pa)
        t->grip_s = T * log(rc->vac_nominal_pa / (rc->vac_nominal_pa - rc->vac_sealed_pa));
}

static double stroke(const params_robot *p, unsigned ax)
{
    return ax ? (double)p->stroke_y_mm : (double)p->stroke_x_mm;
}

double mis_half_step_floor_s(const mis_config *cfg, const params_robot *p, unsigned axis, int up,
                             double travel_mm, int with_settle)
{
    const mis_timing *t = &cfg->timing;
    double v = axis == 0 ? t->speed_side_mm_s : up ? t->speed_up_mm_s : t->speed_down_mm_s;
    double cush = t->cushion_mm < travel_mm ? t->cushion_mm : travel_mm;
    double f = t->cushion_factor > 0.0 ? t->cushion_factor : 1.0;
    double move_s = v > 0.0 ? (travel_mm - cush) / v + cush / (f * v) : 0.0;
    double s = t->release_s + t->leg_up_s + move_s + t->leg_down_s + t->grip_s;
    if (with_settle) s += (double)p->settle_ticks / TICKS_PER_S;
    return s;
}

/* ---------------------------------------------------------------- geometry */

static hold_group mover_of(unsigned ax)
{
    return ax == 0 ? HOLD_GROUP_B : HOLD_GROUP_A;
}

void mis_pose_group_mm(const params_robot *p, const mis_pose *ps, hold_group g, double out_mm[2])
{
    if (g == HOLD_GROUP_A) {
        out_mm[0] = ps->c_mm[0] - ps->s_mm[0] + 0.5 * stroke(p, 0);
        out_mm[1] = ps->c_mm[1];
    } else {
        out_mm[0] = ps->c_mm[0];
        out_mm[1] = ps->c_mm[1] + 0.5 * stroke(p, 1) - ps->s_mm[1];
    }
}

/* The pose after group g moved its cylinder ax to s_new (the other holds). */
static void pose_after(const mis_pose *ps, hold_group g, unsigned ax, double s_new, mis_pose *out)
{
    *out = *ps;
    out->s_mm[ax] = s_new;
    out->s_known[ax] = 1;
    if (g == mover_of(ax)) out->c_mm[ax] += s_new - ps->s_mm[ax];
}

static void cup_mm(const mission *m, hold_group g, const double body_mm[2], unsigned i, double out[2])
{
    out[0] = body_mm[0] + m->cup_off_mm[g][i][0];
    out[1] = body_mm[1] + m->cup_off_mm[g][i][1];
}

static int circle_bad(const facade *f, double x, double y, double d)
{
    return facade_circle_touches(f, x, y, d, FACADE_JOINT) ||
           facade_circle_touches(f, x, y, d, FACADE_MULLION) ||
           facade_circle_touches(f, x, y, d, FACADE_OBSTACLE) ||
           facade_circle_touches(f, x, y, d, FACADE_VOID);
}

int mis_foothold_ok(const mission *m, hold_group g, const double pos_mm[2], double *bad_share)
{
    const double d = (double)m->p->cup_diameter_mm;
    double worst = 0.0;
    for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
        double c[2];
        facade_cover cv;
        cup_mm(m, g, pos_mm, i, c);
        /* the exact circle test first: most cups touch nothing bad */
        if (!circle_bad(m->fac, c[0], c[1], d)) continue;
        facade_cup_cover(m->fac, c[0], c[1], d, &cv);
        double bad = cv.frac[FACADE_JOINT] + cv.frac[FACADE_MULLION] + cv.frac[FACADE_OBSTACLE] +
                     cv.frac[FACADE_VOID];
        if (bad > worst) worst = bad;
        if (!bad_share && worst > m->cfg.foothold_bad_max) break; /* the verdict is in */
    }
    if (bad_share) *bad_share = worst;
    return worst <= m->cfg.foothold_bad_max;
}

/* mis_foothold_ok through the verdict cache. */
static int foothold_cached(const mission *m, hold_group g, const double pos[2])
{
    mis_mu_cache *c = m->mu_cache;
    if (!c) return mis_foothold_ok(m, g, pos, NULL);
    /* positions to 1/64 mm: the same grid landing hashes the same */
    int64_t qx = (int64_t)llround(pos[0] * 64.0), qy = (int64_t)llround(pos[1] * 64.0);
    uint64_t h = ((uint64_t)qx * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)qy * 0xC2B2AE3D27D4EB4Full) ^ (uint64_t)g;
    unsigned i = (unsigned)((h >> 20) % MIS_FOOTHOLD_CACHE);
    if (c->fh[i].state && c->fh[i].g == (int8_t)g && c->fh[i].pos_mm[0] == pos[0] && c->fh[i].pos_mm[1] == pos[1])
        return c->fh[i].state == 1;
    int ok = mis_foothold_ok(m, g, pos, NULL);
    c->fh[i].state = ok ? 1 : 2;
    c->fh[i].g = (int8_t)g;
    c->fh[i].pos_mm[0] = pos[0];
    c->fh[i].pos_mm[1] = pos[1];
    return ok;
}

/* A lifted group travelling from -> to must not touch an obstacle cell. */
static int path_clear(const mission *m, hold_group g, const double from[2], const double to[2])
{
    const double d = (double)m->p->cup_diameter_mm;
    double len = hypot(to[0] - from[0], to[1] - from[1]);
    unsigned n = (unsigned)ceil(len / m->cfg.path_sample_mm);
    if (n < 1) n = 1;
    for (unsigned k = 1; k <= n; k++) {
        double t = (double)k / (double)n, pos[2] = {from[0] + t * (to[0] - from[0]),
                                                    from[1] + t * (to[1] - from[1])};
        for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
            double c[2];
            cup_mm(m, g, pos, i, c);
            if (facade_circle_touches(m->fac, c[0], c[1], d, FACADE_OBSTACLE)) return 0;
        }
    }
    return 1;
}

/* Wet friction of one cup from the map, as the physics models it: the wall
 * share's mean friction, lowered by dirt. */
static double cup_mu(const mission *m, const double c[2])
{
    facade_cover cv;
    facade_cup_cover(m->fac, c[0], c[1], (double)m->p->cup_diameter_mm, &cv);
    double wall = 1.0 - cv.frac[FACADE_VOID] - cv.frac[FACADE_OBSTACLE];
    if (wall <= 0.05) return 0.0;
    double mu = 0.0;
    for (int s = 0; s < FACADE_SURF_COUNT; s++) mu += cv.frac[s] * m->cfg.mu_wet[s];
    double k = 1.0 - m->cfg.mu_dirt_factor * cv.dirt_mean / wall;
    return mu / wall * (k > 0.0 ? k : 0.0);
}

static const double *mu_lookup(const mission *m, hold_group g, const double pos[2])
{
    const mis_mu_cache *c = m->mu_cache;
    if (!c) return NULL;
    for (unsigned i = 0; i < MIS_MU_CACHE; i++)
        if (c->e[i].valid && c->e[i].g == g && c->e[i].pos_mm[0] == pos[0] && c->e[i].pos_mm[1] == pos[1])
            return c->e[i].mu;
    return NULL;
}

static void mu_store(const mission *m, hold_group g, const double pos[2], const double *mu)
{
    mis_mu_cache *c = m->mu_cache;
    if (!c) return;
    unsigned i = c->next;
    c->next = (c->next + 1) % MIS_MU_CACHE;
    c->e[i].valid = 1;
    c->e[i].g = g;
    c->e[i].pos_mm[0] = pos[0];
    c->e[i].pos_mm[1] = pos[1];
    memcpy(c->e[i].mu, mu, sizeof c->e[i].mu);
}

/* Tell ctl the friction under group g's cups in pose ps (the map's, as the
 * prediction below uses): the supervisor's S2 check then judges with it. */
static void sync_friction(mission *m, ctl *c, hold_group g, const mis_pose *ps)
{
    double body[2];
    float mu[PARAMS_CUPS_PER_GROUP];
    mis_pose_group_mm(m->p, ps, g, body);
    const double *cached = mu_lookup(m, g, body);
    double fresh[PARAMS_CUPS_PER_GROUP];
    for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
        if (!cached) {
            double cp[2];
            cup_mm(m, g, body, i, cp);
            fresh[i] = cup_mu(m, cp);
        }
        double v = cached ? cached[i] : fresh[i];
        mu[i] = (float)(v > 2.0 ? 2.0 : v < 0.0 ? 0.0 : v);
    }
    if (!cached) mu_store(m, g, body, fresh);
    (void)ctl_set_friction(c, g, mu);
}

/* Slip with twist of holder alone for the centres of mass cog_x[0..n). */
static double predict_sf_at(const mission *m, const mis_pose *ps, hold_group holder, int brush,
                            const double *cog_x, unsigned n, const float *kpa)
{
    const params_robot *p = m->p;
    double body[2], cups[PARAMS_CUPS_PER_GROUP][2], mu[PARAMS_CUPS_PER_GROUP], cen[2] = {0, 0};
    mis_pose_group_mm(p, ps, holder, body);
    const double *cached = mu_lookup(m, holder, body);
    for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
        cup_mm(m, holder, body, i, cups[i]);
        mu[i] = cached ? cached[i] : cup_mu(m, cups[i]);
        cen[0] += cups[i][0] / PARAMS_CUPS_PER_GROUP;
        cen[1] += cups[i][1] / PARAMS_CUPS_PER_GROUP;
    }
    if (!cached) mu_store(m, holder, body, mu);
    /* F_i: the predicted share of nominal vacuum, or what the holder's cup
     * reads now when that is less (a leaking cup: the supervisor will
     * judge with the reading) */
    const double f_pred_kpa = (double)p->vac_nominal_kpa * m->cfg.vac_pred_factor;
    const double pull = brush ? m->cfg.brush_reaction_n : 0.0;
    const double r_min_m = (double)p->cup_diameter_mm * 1e-3 / 3.0;
    double fr = 0.0, frr = 0.0;
    for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
        double k = f_pred_kpa;
        if (kpa && isfinite(kpa[i]) && (double)kpa[i] < k) k = kpa[i] > 0.0f ? (double)kpa[i] : 0.0;
        double nf = k * 1e3 * params_cup_area_m2(p) - pull / PARAMS_CUPS_PER_GROUP;
        if (nf < 0.0) nf = 0.0;
        double r = hypot(cups[i][0] - cen[0], cups[i][1] - cen[1]) * 1e-3;
        if (r < r_min_m) r = r_min_m;
        fr += mu[i] * nf;
        frr += mu[i] * nf * r;
    }
    const double shear = (double)p->mass_kg * G_M_S2;
    double worst = 1e9;
    for (unsigned k = 0; k < n; k++) {
        /* the supervisor takes the cylinder anywhere within its tolerance */
        double twist = (fabs(cog_x[k] - cen[0]) + (double)p->pos_tol_mm) * 1e-3 * shear;
        if (fr <= 0.0 || frr <= 0.0) return 0.0;
        double sf = 1.0 / (shear / fr + twist / frr);
        if (sf < worst) worst = sf;
    }
    return worst;
}

/* x of the centre of mass: the bodies at their centres, the rest (carriage,
 * tank, brush) at the carriage. */
static double cog_x_mm(const mission *m, const mis_pose *ps)
{
    double a[2], b[2];
    mis_pose_group_mm(m->p, ps, HOLD_GROUP_A, a);
    mis_pose_group_mm(m->p, ps, HOLD_GROUP_B, b);
    double mt = (double)m->p->mass_kg, ma = m->cfg.body_a_kg, mb = m->cfg.body_b_kg;
    double mr = mt - ma - mb;
    if (mr < 0.0) mr = 0.0;
    return (ma * a[0] + mb * b[0] + mr * ps->c_mm[0]) / (ma + mb + mr);
}

double mis_predict_sf(const mission *m, const mis_pose *ps, hold_group holder, int brush)
{
    double cx = cog_x_mm(m, ps);
    return predict_sf_at(m, ps, holder, brush, &cx, 1, NULL);
}

/* -------------------------------------------------------------- the step */

typedef struct {
    unsigned ax;
    double target;
    int lane_dir; /* != 0: arrived at or past the target in this direction */
} goal_t;

static int lattice_ax(const mission *m, unsigned ax)
{
    return ax ? (m->d.lattice & 2) != 0 : (m->d.lattice & 1) != 0;
}

static double arrive_tol(const mission *m, const goal_t *g)
{
    if (!lattice_ax(m, g->ax)) /* within half a grid step of the target */
        return fmax((double)m->p->pos_tol_mm, 0.5 * m->cfg.step_quant_mm + 1.0);
    return g->lane_dir ? 1.0 : 0.5 * stroke(m->p, g->ax) + 1.0;
}

static int arrived(const mission *m, const mis_pose *ps, const goal_t *g)
{
    double d = g->target - ps->c_mm[g->ax];
    double tol = arrive_tol(m, g);
    return g->lane_dir ? (double)g->lane_dir * d <= tol : fabs(d) <= tol;
}

/* Check one half-step: group g lifted, cylinder ax to s_new.  live (may be
 * NULL) adds the sensors of this moment.  Returns MIS_BLK_NONE or why not. */
static mis_block check_move(const mission *m, const mis_pose *ps, hold_group g, unsigned ax,
                            double s_new, int brush, const cc_status *live, mis_pose *out)
{
    const params_robot *p = m->p;
    const double S = stroke(p, ax), r = 0.5 * (double)p->cup_diameter_mm;
    if (s_new < -(double)p->pos_tol_mm || s_new > S + (double)p->pos_tol_mm) return MIS_BLK_RANGE;
    if (s_new < 0.0) s_new = 0.0;
    if (s_new > S) s_new = S;
    double from[2], to[2];
    pose_after(ps, g, ax, s_new, out);
    mis_pose_group_mm(p, ps, g, from);
    mis_pose_group_mm(p, out, g, to);
    /* the landing as planned and as far off as the cylinder may stop */
    const double err_mm = (double)p->pos_tol_mm + POS_NOISE_MM;
    for (int k = -1; k <= 1; k++) {
        double at[2] = {to[0], to[1]};
        at[ax] += k * err_mm;
        if (!foothold_cached(m, g, at)) return MIS_BLK_FOOTHOLD;
    }
    if (!path_clear(m, g, from, to)) return MIS_BLK_PATH;
    double cog[2] = {cog_x_mm(m, ps), cog_x_mm(m, out)};
    if (predict_sf_at(m, ps, hold_other(g), brush, cog, 2, NULL) < (double)p->safety_factor_required)
        return MIS_BLK_HOLDING;
    /* no dead end: where G lands it must be able to hold the robot alone
     * for the next half-step (which lifts the other group), else a pose
     * where neither group may let go can be reached — found on the grimy
     * bottom row of the default facade; without the brush: a way out need
     * not clean */
    if (predict_sf_at(m, out, g, 0, &cog[1], 1, NULL) < (double)p->safety_factor_required)
        return MIS_BLK_HOLDING;
    if (!live) return MIS_BLK_NONE;

    const int dir = to[ax] > from[ax] ? 1 : -1;
    static const uint32_t edge_bit[2][2] = {{CC_X_EDGE_XM, CC_X_EDGE_XP}, {CC_X_EDGE_YM, CC_X_EDGE_YP}};
    if (live->x & edge_bit[ax][dir > 0]) {
        /* the edge is within the sensor's look-ahead beyond the outline:
         * nothing may land further out than the outline is now */
        double outline = -1e18, reach = -1e18;
        for (unsigned gg = 0; gg < HOLD_GROUP_COUNT; gg++) {
            double body[2];
            mis_pose_group_mm(p, ps, (hold_group)gg, body);
            for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
                double c[2];
                cup_mm(m, (hold_group)gg, body, i, c);
                if (dir * c[ax] + r > outline) outline = dir * c[ax] + r;
            }
        }
        for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
            double c[2];
            cup_mm(m, g, to, i, c);
            if (dir * c[ax] + r > reach) reach = dir * c[ax] + r;
        }
        if (reach > outline + 1.0) return MIS_BLK_EDGE;
    }
    const unsigned pi = ax * 2u + (dir > 0 ? 0u : 1u); /* +X -X +Y -Y */
    if (live->prox_valid[pi]) {
        /* what the sensor sees lies on the carriage's line along ax: the
         * landing cups on that line must stay short of it */
        for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
            double c[2];
            cup_mm(m, g, to, i, c);
            if (fabs(c[1 - ax] - ps->c_mm[1 - ax]) >= r) continue;
            double reach = dir * (c[ax] - ps->c_mm[ax]) + r;
            if (reach > 0.0 && (double)live->prox_mm[pi] < reach + m->cfg.prox_margin_mm)
                return MIS_BLK_PROX;
        }
    }
    return MIS_BLK_NONE;
}

/* Candidate cylinder targets for role (mover 1 / follower 0) towards goal:
 * nearest to the nominal length first.  Returns how many (<= max). */
static unsigned candidates(const mission *m, const mis_pose *ps, const goal_t *gl, int is_mover,
                           double *s_out, double *len_out, unsigned max, double *nominal)
{
    const unsigned ax = gl->ax;
    const double S = stroke(m->p, ax), s = ps->s_mm[ax];
    const double dist = gl->target - ps->c_mm[ax];
    const int dir = dist > 0.0 ? 1 : -1;
    const double room = is_mover ? (dir > 0 ? S - s : s) : (dir > 0 ? s : S - s);
    const double sgn = is_mover ? (double)dir : (double)-dir; /* sign of the cylinder change */
    unsigned n = 0;
    *nominal = 0.0;
    if (room <= (double)m->p->pos_tol_mm) return 0;
    if (lattice_ax(m, ax)) {
        /* whole strokes only: to the end */
        double d = room;
        if (is_mover) {
            double after = dist - dir * d;
            /* a lane may overshoot by less than a stroke; a target must get closer */
            if (gl->lane_dir ? dir * after <= -S + 1.0 : fabs(after) >= fabs(dist)) return 0;
        }
        *nominal = d;
        s_out[0] = sgn > 0 ? S : 0.0;
        len_out[0] = d;
        return 1;
    }
    double d0 = is_mover ? (fabs(dist) < room ? fabs(dist) : room) : room;
    *nominal = d0;
    const double q = m->cfg.step_quant_mm, dmin = m->cfg.step_min_mm;
    /* targets on a fixed grid of cylinder positions (multiples of q), the
     * longest first: the same targets whatever few mm the robot stands off
     * its plan, so the mission follows the plan it made; the finishing
     * step may be shorter than step_min */
    double lo = is_mover && d0 < dmin ? d0 : dmin;
    const double s_far = s + sgn * d0, s_near = s + sgn * lo;
    double k0 = sgn > 0 ? floor(s_far / q + 1e-9) : ceil(s_far / q - 1e-9);
    for (double k = k0; n < max; k -= sgn) {
        double t = k * q;
        if (sgn > 0 ? t < s_near - 1e-9 : t > s_near + 1e-9) break;
        double d = fabs(t - s);
        if (d <= (double)m->p->pos_tol_mm) break;
        s_out[n] = t;
        len_out[n] = d;
        n++;
    }
    if (n == 0 && d0 > (double)m->p->pos_tol_mm) { /* no grid point in reach: the step itself */
        s_out[n] = s_far;
        len_out[n] = d0;
        n++;
    }
    return n;
}

typedef struct {
    mis_move mv;
    mis_block blk; /* why the nominal step of the preferred role did not work */
} advance_t;

/* Can role go on from ps for depth more steps, the roles alternating (or
 * the goal be reached)?  The map only: sensors see the present alone. */
static int feasible(const mission *m, const mis_pose *ps, const goal_t *gl, int is_mover,
                    unsigned depth)
{
    double s[64], len[64], nom;
    unsigned n = candidates(m, ps, gl, is_mover, s, len, 64, &nom);
    hold_group g = is_mover ? mover_of(gl->ax) : hold_other(mover_of(gl->ax));
    for (unsigned i = 0; i < n; i++) {
        mis_pose out;
        if (m->mu_cache) {
            if (!m->mu_cache->lookahead_left) return 0; /* out of budget: not shown feasible */
            m->mu_cache->lookahead_left--;
        }
        if (check_move(m, ps, g, gl->ax, s[i], 0, NULL, &out) != MIS_BLK_NONE) continue;
        if (depth <= 1 || arrived(m, &out, gl) || feasible(m, &out, gl, !is_mover, depth - 1))
            return 1;
    }
    return 0;
}

/* One half-step towards gl.  Returns 1 (a->mv), 0 arrived, -1 blocked (a->blk). */
static int plan_advance(const mission *m, const mis_pose *ps, const goal_t *gl, int clean,
                        const cc_status *live, advance_t *a)
{
    const unsigned ax = gl->ax;
    memset(a, 0, sizeof *a);
    a->blk = MIS_BLK_NONE;
    if (arrived(m, ps, gl)) return 0;
    if (m->mu_cache) m->mu_cache->lookahead_left = LOOKAHEAD_BUDGET;
    const double S = stroke(m->p, ax), dist = gl->target - ps->c_mm[ax];
    const int dir = dist > 0.0 ? 1 : -1;
    const double room_m = dir > 0 ? S - ps->s_mm[ax] : ps->s_mm[ax];
    /* the mover first while it has half a stroke of room or can finish */
    int mover_first = room_m >= 0.5 * S - 1.0 || room_m >= fabs(dist);
    int first_blk_set = 0;
    for (int k = 0; k < 2; k++) {
        const int is_mover = k == 0 ? mover_first : !mover_first;
        const hold_group g = is_mover ? mover_of(ax) : hold_other(mover_of(ax));
        double s[64], len[64], nom;
        unsigned n = candidates(m, ps, gl, is_mover, s, len, 64, &nom);
        int fallback = -1;
        mis_pose fb_out = *ps;
        const int brush = clean && is_mover;
        for (unsigned i = 0; i < n; i++) {
            mis_pose out;
            mis_block b = check_move(m, ps, g, ax, s[i], brush, live, &out);
            if (i == 0 && !first_blk_set) {
                a->blk = b == MIS_BLK_NONE ? MIS_BLK_NONE : b;
                first_blk_set = 1;
            }
            if (b != MIS_BLK_NONE) continue;
            /* lookahead: the other role, then this one again, must be able
             * to go on (only where there is a choice of lengths): crossing a
             * joint takes the follower giving the mover a whole stroke */
            int ahead = 1;
            if (!lattice_ax(m, ax) && n > 1)
                ahead = arrived(m, &out, gl) || feasible(m, &out, gl, !is_mover, LOOKAHEAD_STEPS);
            if (!ahead) {
                if (fallback < 0) {
                    fallback = (int)i;
                    fb_out = out;
                }
                continue;
            }
            fallback = (int)i;
            fb_out = out;
            break;
        }
        if (fallback >= 0) {
            unsigned i = (unsigned)fallback;
            mis_move *mv = &a->mv;
            mv->group = g;
            mv->axis = ax;
            mv->target_mm[0] = mv->target_mm[1] = NAN;
            mv->target_mm[ax] = (float)s[i];
            mv->nominal_mm = nom;
            mv->chosen_mm = len[i];
            mv->before = *ps;
            mv->after = fb_out;
            return 1;
        }
        if (k == 0 && n == 0 && !first_blk_set) {
            a->blk = MIS_BLK_RANGE;
            first_blk_set = 1;
        }
    }
    if (a->blk == MIS_BLK_NONE) a->blk = MIS_BLK_RANGE;
    return -1;
}

/* Run the planner on the map from *ps until gl is reached (or max steps).
 * Returns 1 when arrived. */
static int sim_advance(const mission *m, mis_pose *ps, const goal_t *gl, unsigned max)
{
    for (unsigned i = 0; i < max; i++) {
        advance_t a;
        int r = plan_advance(m, ps, gl, 0, NULL, &a);
        if (r == 0) return 1;
        if (r < 0) return 0;
        *ps = a.mv.after;
    }
    return arrived(m, ps, gl);
}

/* sim_advance as the gait will really move: every cylinder stops
 * STOP_SHORT_MM short of its target (it stops once inside its tolerance,
 * always from the side it comes from — measured ~2 mm).  A crossing the
 * plan makes with 2 mm to spare fails here as it fails on the robot. */
static int sim_advance_real(const mission *m, mis_pose *ps, const goal_t *gl, unsigned max)
{
    for (unsigned i = 0; i < max; i++) {
        advance_t a;
        int r = plan_advance(m, ps, gl, 0, NULL, &a);
        if (r == 0) return 1;
        if (r < 0) return 0;
        const unsigned ax = a.mv.axis;
        const double s0 = a.mv.before.s_mm[ax], s1 = a.mv.after.s_mm[ax];
        if (!lattice_ax(m, ax) && fabs(s1 - s0) > 2.0 * STOP_SHORT_MM)
            pose_after(&a.mv.before, a.mv.group, ax, s1 - (s1 > s0 ? 1.0 : -1.0) * STOP_SHORT_MM, ps);
        else
            *ps = a.mv.after;
    }
    return arrived(m, ps, gl);
}

/* ------------------------------------------------------------ events */

static void emit(mission *m, const mis_event *ev)
{
    if (m->dry) return;
    if (m->ev_n == MIS_EVENTS_MAX) { /* full: the oldest goes */
        m->ev_head = (m->ev_head + 1) % MIS_EVENTS_MAX;
        m->ev_n--;
        m->ev_lost++;
    }
    mis_event *e = &m->ev[(m->ev_head + m->ev_n) % MIS_EVENTS_MAX];
    *e = *ev;
    e->ticks = m->now_ticks;
    m->ev_n++;
}

static void emit_simple(mission *m, mis_event_type t, unsigned a, unsigned b, double x0, double x1,
                        double y, const char *reason)
{
    mis_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = t;
    ev.a = a;
    ev.b = b;
    ev.x0 = x0;
    ev.x1 = x1;
    ev.y = y;
    if (reason) snprintf(ev.reason, sizeof ev.reason, "%s", reason);
    emit(m, &ev);
}

int mis_next_event(mission *m, mis_event *ev)
{
    if (!m || !ev || !m->ev_n) return 0;
    *ev = m->ev[m->ev_head];
    m->ev_head = (m->ev_head + 1) % MIS_EVENTS_MAX;
    m->ev_n--;
    return 1;
}

/* ------------------------------------------------------------- coverage */

int mis_cell_in_region(const mission *m, uint32_t col, uint32_t row)
{
    const facade *f = m->fac;
    if (col >= f->cols || row >= f->rows) return 0;
    facade_surface s = FACADE_CELL_SURFACE(f->cells[(size_t)row * f->cols + col]);
    if (s == FACADE_OBSTACLE || s == FACADE_VOID) return 0;
    double x = ((double)col + 0.5) * f->cell_mm, y = ((double)row + 0.5) * f->cell_mm;
    const double *r = m->d.region_mm;
    return x >= r[0] && x <= r[2] && y >= r[1] && y <= r[3];
}

/* Cells whose centre the brush disc passes over going from a to b. */
static void mark_sweep(mission *m, uint8_t *map, const double a[2], const double b[2], size_t *hits,
                       size_t *region_hits)
{
    const facade *f = m->fac;
    const double r = 0.5 * m->cfg.brush_width_mm, cell = (double)f->cell_mm;
    double lo[2] = {fmin(a[0], b[0]) - r, fmin(a[1], b[1]) - r};
    double hi[2] = {fmax(a[0], b[0]) + r, fmax(a[1], b[1]) + r};
    long c0 = (long)floor(lo[0] / cell), c1 = (long)floor(hi[0] / cell);
    long r0 = (long)floor(lo[1] / cell), r1 = (long)floor(hi[1] / cell);
    if (c0 < 0) c0 = 0;
    if (r0 < 0) r0 = 0;
    if (c1 >= (long)f->cols) c1 = (long)f->cols - 1;
    if (r1 >= (long)f->rows) r1 = (long)f->rows - 1;
    const double dx = b[0] - a[0], dy = b[1] - a[1], l2 = dx * dx + dy * dy;
    for (long row = r0; row <= r1; row++) {
        for (long col = c0; col <= c1; col++) {
            double px = ((double)col + 0.5) * cell, py = ((double)row + 0.5) * cell;
            double t = l2 > 0.0 ? ((px - a[0]) * dx + (py - a[1]) * dy) / l2 : 0.0;
            if (t < 0.0) t = 0.0;
            if (t > 1.0) t = 1.0;
            double ex = a[0] + t * dx - px, ey = a[1] + t * dy - py;
            if (ex * ex + ey * ey > r * r) continue;
            size_t idx = (size_t)row * f->cols + (size_t)col;
            if (map[idx]) continue;
            map[idx] = 1;
            if (!mis_cell_in_region(m, (uint32_t)col, (uint32_t)row)) continue;
            if (region_hits) (*region_hits)++;
            if (hits && (map == m->plan_map || m->plan_map[idx])) (*hits)++;
        }
    }
}

/* ------------------------------------------------------------- lanes */

static double lane_y(const mission *m, unsigned k)
{
    return m->d.lanes_y0_mm + (double)k * m->d.lanes_pitch_mm;
}

static double snap_down(double v, double origin, double step)
{
    return origin + floor((v - origin) / step + 1e-9) * step;
}

static double snap_up(double v, double origin, double step)
{
    return origin + ceil((v - origin) / step - 1e-9) * step;
}

/* The lanes of the region from the pose after homing. */
static void compute_lanes(mission *m)
{
    mis_dyn *d = &m->d;
    const double W = m->cfg.brush_width_mm, *R = d->region_mm, H = R[3] - R[1];
    double first, pitch;
    unsigned n;
    d->lattice_mm[0] = d->pose.c_mm[0];
    d->lattice_mm[1] = d->pose.c_mm[1];
    if (lattice_ax(m, 1)) {
        const double Sy = stroke(m->p, 1);
        double k = floor(W / Sy);
        pitch = (k < 1.0 ? 1.0 : k) * Sy;
        first = snap_down(R[1] + 0.5 * W, d->lattice_mm[1], Sy);
        double need = R[3] - 0.5 * W - first;
        n = need > 0.0 ? 1u + (unsigned)ceil(need / pitch - 1e-9) : 1u;
    } else if (H <= W) {
        n = 1;
        first = 0.5 * (R[1] + R[3]);
        pitch = 0.0;
    } else {
        double pm = W - m->cfg.lane_overlap_mm;
        if (pm < 1.0) pm = 1.0;
        n = (unsigned)ceil((H - W) / pm - 1e-9) + 1u;
        if (n < 2) n = 2;
        pitch = (H - W) / (double)(n - 1);
        first = R[1] + 0.5 * W;
    }
    if (n > MIS_LANES_MAX) n = MIS_LANES_MAX;
    double last = first + (double)(n - 1) * pitch;
    d->lanes_n = n;
    if (fabs(d->pose.c_mm[1] - first) <= fabs(d->pose.c_mm[1] - last)) {
        d->lanes_y0_mm = first;
        d->lanes_pitch_mm = pitch;
        d->lanes_down = 0;
    } else {
        d->lanes_y0_mm = last;
        d->lanes_pitch_mm = -pitch;
        d->lanes_down = 1;
    }
}

static void start_lane(mission *m, unsigned k)
{
    mis_dyn *d = &m->d;
    d->lane_i = k;
    d->phase = MIS_PH_REACH_Y;
    d->detour = 0;
    d->detours_used = 0;
    d->unstuck = 0;
    d->lane_cleaning = 0;
    d->state = MIS_TRANSIT;
    if (k < d->lanes_n) {
        d->lane_y_mm = lane_y(m, k);
        /* the last lane ran short of its height (a climb blocked over a
         * transom): this one keeps its overlap with it rather than its
         * planned height, or a strip between the two stays dirty */
        if (!isnan(d->prev_lane_y_mm) && !lattice_ax(m, 1)) {
            const double limit = d->prev_lane_y_mm + d->lanes_pitch_mm;
            if (d->lanes_pitch_mm > 0.0 ? limit < d->lane_y_mm : limit > d->lane_y_mm) d->lane_y_mm = limit;
        }
        emit_simple(m, MIS_EV_LANE_BEGIN, k, 0, 0, 0, d->lane_y_mm, NULL);
    }
}

static void end_lane(mission *m, mis_lane_end how)
{
    mis_dyn *d = &m->d;
    double x_to = d->pose.c_mm[0];
    if (how == MIS_LANE_SKIPPED) {
        d->lanes_skipped++;
    } else {
        d->lanes_done++;
        if (how == MIS_LANE_BLOCKED) d->lanes_partial++;
        if (d->lane_cleaning) d->prev_lane_y_mm = d->lane_y_mm;
    }
    emit_simple(m, MIS_EV_LANE_END, d->lane_i, (unsigned)how,
                d->lane_cleaning ? d->lane_from_mm : x_to, x_to, d->lane_y_mm, NULL);
    start_lane(m, d->lane_i + 1);
}

/* The lane's start and end on X, and its direction (the nearer end first). */
static void lane_ends(mission *m)
{
    mis_dyn *d = &m->d;
    double lo = d->region_mm[0], hi = d->region_mm[2];
    if (lattice_ax(m, 0)) {
        lo = snap_down(lo, d->lattice_mm[0], stroke(m->p, 0));
        hi = snap_up(hi, d->lattice_mm[0], stroke(m->p, 0));
    }
    const double cx = d->pose.c_mm[0];
    if (fabs(cx - lo) <= fabs(cx - hi)) {
        d->lane_dir = 1;
        d->lane_xs_mm = lo;
        d->lane_xe_mm = hi;
    } else {
        d->lane_dir = -1;
        d->lane_xs_mm = hi;
        d->lane_xe_mm = lo;
    }
}

/* A sidestep on axis pa by +-sidestep after which goal gl can go on. */
static int try_detour(mission *m, unsigned pa, const goal_t *gl, int prefer, mis_block why)
{
    mis_dyn *d = &m->d;
    if (d->detours_used >= m->cfg.detours_max) return 0;
    double step = m->cfg.sidestep_mm > 0.0 && !lattice_ax(m, pa) ? m->cfg.sidestep_mm : stroke(m->p, pa);
    for (int k = 0; k < 2; k++) {
        int sgn = k == 0 ? prefer : -prefer;
        mis_pose q = d->pose;
        goal_t side = {pa, d->pose.c_mm[pa] + sgn * step, 0};
        if (!sim_advance(m, &q, &side, SIM_ADVANCE_MAX)) continue;
        advance_t a;
        if (plan_advance(m, &q, gl, 0, NULL, &a) < 0) continue;
        d->detour = 1;
        d->detour_axis = pa;
        d->detour_target_mm = side.target;
        d->detour_adv_mm = d->pose.c_mm[gl->ax];
        d->detours_used++;
        d->sidesteps++;
        emit_simple(m, MIS_EV_SIDESTEP, d->lane_i, (unsigned)why, d->pose.c_mm[0], d->pose.c_mm[1],
                    side.target - (pa == 1 ? d->lane_y_mm : d->pose.c_mm[pa]), NULL);
        return 1;
    }
    return 0;
}

/* A climb (or descent) that no half-step can begin.  How a climb's
 * footholds fall depends on the pose to a few mm (a transom to step over, a
 * mullion beside a foot), and on the X cylinder for the twist of the group
 * left alone (it grows off mid stroke).  One half-step that changes the pose
 * a little and after which the climb can go on (checked on the map) gets it
 * unstuck: X to mid stroke first (the twist), then either group along
 * either axis by 10 .. 150 mm or to an end, nearest first — one from which
 * the map shows real progress if there is one.  Returns 1 with *mv when
 * there is such a step. */
static int try_unstick(mission *m, const goal_t *gl, int clean, int real, const cc_status *live, mis_move *mv)
{
    mis_dyn *d = &m->d;
    static const double offs[] = {10, -10, 20, -20, 40, -40, 80, -80, 150, -150};
    /* the passes, best first: 1 = the map shows real progress from there
     * (the goal, or half a stroke towards it, within SIM_ADVANCE_MAX
     * half-steps) with every cylinder stopping short as the gait's do (a
     * climb: a transom crossing needs its window in the real stops); 2 = the
     * same with exact stops; 0 = any step that lets a half-step towards the
     * goal begin (the planner may then find the way itself) */
    static const int passes_real[] = {1, 2, 0}, passes_exact[] = {2, 0};
    const int *passes = real ? passes_real : passes_exact;
    const int n_pass = real ? 3 : 2;
    for (int pi = 0; pi < n_pass; pi++) {
        const int pass = passes[pi];
        for (unsigned ax = 0; ax < 2; ax++) {
            if (lattice_ax(m, ax)) continue;
            const double S = stroke(m->p, ax), s0 = d->pose.s_mm[ax];
            double cand[2 + sizeof offs / sizeof offs[0] + 2];
            unsigned n = 0;
            if (ax == 0) cand[n++] = 0.5 * S;
            for (unsigned i = 0; i < sizeof offs / sizeof offs[0]; i++) cand[n++] = s0 + offs[i];
            cand[n++] = 0.0;
            cand[n++] = S;
            for (unsigned i = 0; i < n; i++) {
                const double s_new = cand[i];
                if (s_new < 0.0 || s_new > S || fabs(s_new - s0) < m->cfg.step_quant_mm) continue;
                for (unsigned k = 0; k < HOLD_GROUP_COUNT; k++) {
                    const hold_group g = (hold_group)k;
                    mis_pose out;
                    if (check_move(m, &d->pose, g, ax, s_new, 0, live, &out) != MIS_BLK_NONE) continue;
                    advance_t a2;
                    if (plan_advance(m, &out, gl, clean, NULL, &a2) <= 0) continue;
                    if (pass != 0) {
                        mis_pose q = out;
                        const double c0 = d->pose.c_mm[gl->ax];
                        const double sgn = gl->target >= c0 ? 1.0 : -1.0;
                        const int arrives = pass == 1 ? sim_advance_real(m, &q, gl, SIM_ADVANCE_MAX)
                                                      : sim_advance(m, &q, gl, SIM_ADVANCE_MAX);
                        if (!arrives &&
                            sgn * (q.c_mm[gl->ax] - c0) < 0.5 * stroke(m->p, gl->ax))
                            continue;
                    }
                    memset(mv, 0, sizeof *mv);
                    mv->group = g;
                    mv->axis = ax;
                    mv->target_mm[0] = mv->target_mm[1] = NAN;
                    mv->target_mm[ax] = (float)s_new;
                    mv->nominal_mm = mv->chosen_mm = fabs(s_new - s0);
                    mv->before = d->pose;
                    mv->after = out;
                    return 1;
                }
            }
        }
    }
    return 0;
}

static void make_move(mission *m, mis_move *mv, mis_move_kind kind)
{
    mv->kind = kind;
    mv->aux = kind == MIS_MV_CLEAN && mv->group == mover_of(0) ? m->cfg.aux_bits : 0;
}

/* The next half-step of the mission from the pose in m->d (live: the
 * sensors of now, NULL in the dry run).  Returns 1 with *mv, 0 when the
 * mission has nothing more to do (DONE). */
static int decide(mission *m, const cc_status *live, mis_move *mv)
{
    mis_dyn *d = &m->d;
    advance_t a;
    for (unsigned round = 0; round < DECIDE_ROUNDS_MAX; round++) {
        switch ((mis_state)d->state) {
        case MIS_HOMING: {
            int moved = 0;
            for (unsigned ax = 0; ax < 2 && !moved; ax++) {
                if (d->pose.s_known[ax]) continue;
                const double S = stroke(m->p, ax);
                /* the follower first: the carriage stays where it started */
                const hold_group order[2] = {hold_other(mover_of(ax)), mover_of(ax)};
                for (int gi = 0; gi < 2 && !moved; gi++) {
                    for (int e = 0; e < 2 && !moved; e++) {
                        double s_new = e == 0 ? 0.0 : S;
                        mis_pose out;
                        if (check_move(m, &d->pose, order[gi], ax, s_new, 0, live, &out) != MIS_BLK_NONE)
                            continue;
                        memset(mv, 0, sizeof *mv);
                        mv->group = order[gi];
                        mv->axis = ax;
                        mv->target_mm[0] = mv->target_mm[1] = NAN;
                        mv->target_mm[ax] = (float)s_new;
                        mv->nominal_mm = mv->chosen_mm = fabs(s_new - d->pose.s_mm[ax]);
                        mv->before = d->pose;
                        mv->after = out;
                        make_move(m, mv, MIS_MV_HOME);
                        moved = 1;
                    }
                }
                if (!moved) { /* nowhere to home: go on with the assumed position */
                    d->pose.s_known[ax] = 1;
                    d->blocked++;
                    emit_simple(m, MIS_EV_BLOCKED, ax, MIS_BLK_FOOTHOLD, 0, 0, 0, "homing");
                }
            }
            if (moved) return 1;
            compute_lanes(m);
            start_lane(m, 0);
            continue;
        }
        case MIS_TRANSIT:
        case MIS_CLEANING: break;
        default: return 0;
        }
        if (d->lane_i >= d->lanes_n) {
            d->state = MIS_DONE;
            emit_simple(m, MIS_EV_DONE, d->lanes_done, d->lanes_skipped, 0, 0, 0, NULL);
            return 0;
        }
        if (d->detour) {
            goal_t side = {d->detour_axis, d->detour_target_mm, 0};
            int r = plan_advance(m, &d->pose, &side, 0, live, &a);
            if (r > 0) {
                *mv = a.mv;
                make_move(m, mv, MIS_MV_SIDESTEP);
                return 1;
            }
            d->detour = 0;
            if (r == 0 && d->phase == MIS_PH_RUN && d->detour_axis == 1 &&
                fabs(d->detour_target_mm - d->lane_y_mm) < 1e-6)
                emit_simple(m, MIS_EV_SIDESTEP, d->lane_i, 0, d->pose.c_mm[0], d->pose.c_mm[1], 0.0, NULL);
            continue;
        }
        switch ((mis_phase)d->phase) {
        case MIS_PH_REACH_Y: {
            goal_t gl = {1, d->lane_y_mm, 0};
            int r = plan_advance(m, &d->pose, &gl, 0, live, &a);
            if (r > 0) {
                *mv = a.mv;
                make_move(m, mv, MIS_MV_TRANSIT);
                return 1;
            }
            if (r < 0 && d->unstuck < UNSTICK_PER_LANE && try_unstick(m, &gl, 0, 1, live, mv)) {
                make_move(m, mv, MIS_MV_TRANSIT);
                d->unstuck++;
                return 1;
            }
            if (r < 0) {
                double mid = 0.5 * (d->region_mm[0] + d->region_mm[2]);
                if (try_detour(m, 0, &gl, d->pose.c_mm[0] <= mid ? 1 : -1, a.blk)) continue;
                /* the lane where it can be reached, when that band still
                 * overlaps the lane's and adds to the last lane's */
                const double W = m->cfg.brush_width_mm;
                int adds = isnan(d->prev_lane_y_mm) ||
                           fabs(d->pose.c_mm[1] - d->prev_lane_y_mm) >=
                               0.5 * fabs(d->lanes_pitch_mm) - 1.0;
                d->blocked++;
                emit_simple(m, MIS_EV_BLOCKED, d->lane_i, (unsigned)a.blk, d->pose.c_mm[0],
                            d->pose.c_mm[0], d->pose.c_mm[1], "lane height");
                if (!(adds && fabs(d->pose.c_mm[1] - d->lane_y_mm) < W)) {
                    end_lane(m, MIS_LANE_SKIPPED);
                    continue;
                }
                d->lane_y_mm = d->pose.c_mm[1];
            }
            d->phase = MIS_PH_REACH_START;
            lane_ends(m);
            continue;
        }
        case MIS_PH_REACH_START: {
            goal_t gl = {0, d->lane_xs_mm, 0};
            int r = plan_advance(m, &d->pose, &gl, 0, live, &a);
            if (r > 0) {
                *mv = a.mv;
                make_move(m, mv, MIS_MV_TRANSIT);
                return 1;
            }
            /* arrived, or as near as it gets: the lane begins here */
            d->phase = MIS_PH_RUN;
            d->state = MIS_CLEANING;
            d->lane_from_mm = d->pose.c_mm[0];
            continue;
        }
        case MIS_PH_RUN: {
            goal_t gl = {0, d->lane_xe_mm, d->lane_dir};
            double off = d->pose.c_mm[1] - d->lane_y_mm;
            goal_t on_line = {1, d->lane_y_mm, 0};
            if (fabs(off) > arrive_tol(m, &on_line) &&
                fabs(d->pose.c_mm[0] - d->detour_adv_mm) >= stroke(m->p, 0) - 1.0) {
                /* off the lane line: back as soon as the lane can go on from it */
                mis_pose q = d->pose;
                goal_t back = {1, d->lane_y_mm, 0};
                advance_t b;
                if (sim_advance(m, &q, &back, SIM_ADVANCE_MAX) &&
                    plan_advance(m, &q, &gl, 0, NULL, &b) >= 0) {
                    d->detour = 1;
                    d->detour_axis = 1;
                    d->detour_target_mm = d->lane_y_mm;
                    continue;
                }
            }
            int r = plan_advance(m, &d->pose, &gl, 1, live, &a);
            if (r > 0) {
                *mv = a.mv;
                make_move(m, mv, MIS_MV_CLEAN);
                if (mv->aux) d->lane_cleaning = 1;
                if (fabs(mv->chosen_mm - mv->nominal_mm) > 0.5) {
                    d->shortened++;
                    mis_event ev;
                    memset(&ev, 0, sizeof ev);
                    ev.type = MIS_EV_SHORTENED;
                    ev.a = d->lane_i;
                    ev.b = (unsigned)a.blk;
                    ev.move = *mv;
                    emit(m, &ev);
                }
                return 1;
            }
            if (r == 0) {
                end_lane(m, MIS_LANE_REACHED);
                continue;
            }
            int prefer = d->lanes_pitch_mm >= 0.0 ? 1 : -1; /* towards the lanes to come */
            if (try_detour(m, 1, &gl, prefer, a.blk)) continue;
            if (d->unstuck < UNSTICK_PER_LANE && try_unstick(m, &gl, 1, 0, live, mv)) {
                make_move(m, mv, MIS_MV_TRANSIT);
                d->unstuck++;
                return 1;
            }
            d->blocked++;
            emit_simple(m, MIS_EV_BLOCKED, d->lane_i, (unsigned)a.blk, d->pose.c_mm[0],
                        d->pose.c_mm[0], d->pose.c_mm[1], "lane");
            end_lane(m, MIS_LANE_BLOCKED);
            continue;
        }
        default: return 0;
        }
    }
    /* no decision in DECIDE_ROUNDS_MAX rounds: should not happen; end safely */
    d->state = MIS_DONE;
    emit_simple(m, MIS_EV_DONE, d->lanes_done, d->lanes_skipped, 0, 0, 0, "no decision");
    return 0;
}

/* ------------------------------------------------------------ lifecycle */

int mis_init(mission *m, const mis_config *cfg, const params_robot *p, const facade *fac, char *err,
             size_t errlen)
{
    if (!m || !cfg || !p || !fac) return MIS_EARG;
    memset(m, 0, sizeof *m);
    const double *R = cfg->region_mm, W = facade_width_mm(fac), H = facade_height_mm(fac);
    if (!(cfg->brush_width_mm > 0.0) || !(cfg->step_quant_mm > 0.0) || !(cfg->step_min_mm > 0.0) ||
        !(cfg->path_sample_mm > 0.0) || !(cfg->foothold_bad_max >= 0.0) ||
        !(cfg->vac_pred_factor > 0.0)) {
        if (err && errlen) snprintf(err, errlen, "mission settings out of range");
        return MIS_EARG;
    }
    if (!(R[0] >= 0.0 && R[1] >= 0.0 && R[2] <= W && R[3] <= H && R[0] < R[2] && R[1] < R[3])) {
        if (err && errlen)
            snprintf(err, errlen, "region %g,%g,%g,%g mm is not a rectangle inside the facade (0..%g x 0..%g mm)",
                     R[0], R[1], R[2], R[3], W, H);
        return MIS_ERANGE;
    }
    if (!(cfg->start_mm[0] >= 0.0 && cfg->start_mm[0] <= W && cfg->start_mm[1] >= 0.0 &&
          cfg->start_mm[1] <= H)) {
        if (err && errlen)
            snprintf(err, errlen, "start %g,%g mm is outside the facade (0..%g x 0..%g mm)",
                     cfg->start_mm[0], cfg->start_mm[1], W, H);
        return MIS_ERANGE;
    }
    m->cfg = *cfg;
    m->p = p;
    m->fac = fac;
    for (unsigned g = 0; g < PARAMS_GROUPS; g++)
        for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) params_cup_xy_mm(p, g, i, m->cup_off_mm[g][i]);
    m->ncells = (size_t)fac->cols * fac->rows;
    m->plan_map = calloc(m->ncells ? m->ncells : 1, 1);
    m->live_map = calloc(m->ncells ? m->ncells : 1, 1);
    m->mu_cache = calloc(1, sizeof *m->mu_cache);
    if (!m->plan_map || !m->live_map || !m->mu_cache) {
        mis_free(m);
        if (err && errlen) snprintf(err, errlen, "out of memory for the coverage maps");
        return MIS_ENOMEM;
    }
    m->d.version = MIS_CHECKPOINT_VERSION;
    memcpy(m->d.region_mm, cfg->region_mm, sizeof m->d.region_mm);
    memcpy(m->d.start_mm, cfg->start_mm, sizeof m->d.start_mm);
    m->d.state = MIS_WAITING;
    m->d.prev_lane_y_mm = NAN;
    return 0;
}

void mis_free(mission *m)
{
    if (!m) return;
    free(m->plan_map);
    free(m->live_map);
    free(m->mu_cache);
    m->plan_map = m->live_map = NULL;
    m->mu_cache = NULL;
}

/* The pose at the start from the first status. */
static void start_pose(mission *m, const cc_status *st, int use_switches)
{
    mis_dyn *d = &m->d;
    static const uint32_t minus[2] = {CC_X_XCYL_MINUS_END, CC_X_YCYL_MINUS_END};
    static const uint32_t plus[2] = {CC_X_XCYL_PLUS_END, CC_X_YCYL_PLUS_END};
    d->pose.c_mm[0] = d->start_mm[0];
    d->pose.c_mm[1] = d->start_mm[1];
    d->lattice = 0;
    for (unsigned ax = 0; ax < 2; ax++) {
        if (!st->pos_valid[ax]) d->lattice |= 1 << ax;
        if (st->pos_valid[ax]) {
            d->pose.s_mm[ax] = st->pos_mm[ax];
            d->pose.s_known[ax] = 1;
        } else if (use_switches && (st->x & minus[ax])) {
            d->pose.s_mm[ax] = 0.0;
            d->pose.s_known[ax] = 1;
        } else if (use_switches && (st->x & plus[ax])) {
            d->pose.s_mm[ax] = stroke(m->p, ax);
            d->pose.s_known[ax] = 1;
        } else {
            d->pose.s_mm[ax] = m->cfg.start_cyl_mm[ax];
            d->pose.s_known[ax] = 0;
        }
    }
}

static void enter_first(mission *m)
{
    if (!m->d.pose.s_known[0] || !m->d.pose.s_known[1]) {
        m->d.state = MIS_HOMING;
    } else {
        compute_lanes(m);
        start_lane(m, 0);
    }
}

/* The dry run: the planner on the map alone from the start; m->d is kept. */
static void dry_run(mission *m)
{
    mis_dyn saved = m->d;
    mis_plan *pl = &m->plan;
    memset(pl, 0, sizeof *pl);
    memset(m->plan_map, 0, m->ncells);
    m->dry = 1;
    double est = 0.0;
    unsigned i;
    for (i = 0; i < DRY_STEPS_MAX; i++) {
        mis_move mv;
        if (!decide(m, NULL, &mv)) break;
        pl->half_steps++;
        if (mv.aux) {
            pl->clean_steps++;
            mark_sweep(m, m->plan_map, mv.before.c_mm, mv.after.c_mm, NULL, NULL);
        }
        double dg[2], dg2[2];
        mis_pose_group_mm(m->p, &mv.before, mv.group, dg);
        mis_pose_group_mm(m->p, &mv.after, mv.group, dg2);
        est += mis_half_step_floor_s(&m->cfg, m->p, mv.axis, dg2[1] > dg[1],
                                     fabs(mv.after.s_mm[mv.axis] - mv.before.s_mm[mv.axis]), 1);
        m->d.pose = mv.after;
    }
    pl->complete = i < DRY_STEPS_MAX;
    pl->lanes = m->d.lanes_n;
    pl->lanes_skipped = m->d.lanes_skipped;
    pl->lanes_partial = m->d.lanes_partial;
    pl->est_s = est;
    pl->cell_m2 = (double)m->fac->cell_mm * (double)m->fac->cell_mm * 1e-6;
    for (uint32_t row = 0; row < m->fac->rows; row++)
        for (uint32_t col = 0; col < m->fac->cols; col++) {
            if (!mis_cell_in_region(m, col, row)) continue;
            pl->region_cells++;
            if (m->plan_map[(size_t)row * m->fac->cols + col]) pl->planned_cells++;
        }
    m->dry = 0;
    m->d = saved;
}

static void emit_plan(mission *m)
{
    mis_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = MIS_EV_PLAN;
    ev.a = m->plan.lanes;
    ev.b = m->plan.half_steps;
    emit(m, &ev);
}

int mis_begin(mission *m, const cc_status *st, uint32_t now_ticks)
{
    if (!m || !st || !m->plan_map) return MIS_EARG;
    if (m->begun) return MIS_ESTATE;
    m->now_ticks = now_ticks;
    start_pose(m, st, 1);
    m->dry = 1; /* the first lane's event after the plan's */
    enter_first(m);
    m->dry = 0;
    dry_run(m);
    m->d.begun_ticks = now_ticks;
    m->begun = 1;
    emit_plan(m);
    if (m->d.state == MIS_TRANSIT && m->d.lanes_n)
        emit_simple(m, MIS_EV_LANE_BEGIN, 0, 0, 0, 0, m->d.lane_y_mm, NULL);
    return 0;
}

int mis_restore(mission *m, const mis_dyn *cp, const cc_status *st, uint32_t now_ticks)
{
    if (!m || !cp || !st || !m->plan_map) return MIS_EARG;
    if (m->begun) return MIS_ESTATE;
    if (cp->version != MIS_CHECKPOINT_VERSION ||
        memcmp(cp->region_mm, m->d.region_mm, sizeof cp->region_mm) ||
        memcmp(cp->start_mm, m->d.start_mm, sizeof cp->start_mm))
        return MIS_ECKPT;
    if ((unsigned)cp->state >= MIS_STATE_COUNT || (unsigned)cp->phase >= MIS_PHASE_COUNT ||
        (unsigned)cp->resume_state >= MIS_STATE_COUNT || cp->lanes_n > MIS_LANES_MAX ||
        (cp->inflight && (unsigned)cp->move.group >= HOLD_GROUP_COUNT))
        return MIS_ECKPT;
    /* the plan as it was made: the dry run from the start */
    m->now_ticks = now_ticks;
    start_pose(m, st, 0); /* the cylinders have moved since the start: as first assumed */
    m->dry = 1;
    enter_first(m);
    m->dry = 0;
    dry_run(m);
    m->d = *cp;
    m->d.preset_done = 0;
    m->d.move_since_ticks = now_ticks;
    m->d.begun_ticks = now_ticks;
    m->begun = 1;
    emit_plan(m);
    return 0;
}

const mis_dyn *mis_checkpoint(const mission *m)
{
    return &m->d;
}

/* --------------------------------------------------------------- live */

static int final_state(int s)
{
    return s == MIS_DONE || s == MIS_STOPPED;
}

/* The half-step in flight is over: the pose from the status. */
static void complete_move(mission *m, ctl *c, const cc_status *st)
{
    mis_dyn *d = &m->d;
    const mis_move *mv = &d->move;
    static const uint32_t minus[2] = {CC_X_XCYL_MINUS_END, CC_X_YCYL_MINUS_END};
    static const uint32_t plus[2] = {CC_X_XCYL_PLUS_END, CC_X_YCYL_PLUS_END};
    mis_pose np = mv->before;
    int shifted = 0;
    for (unsigned ax = 0; ax < 2; ax++) {
        const double S = stroke(m->p, ax);
        double avg_mm;
        if (st->pos_valid[ax] && gait_settled_pos_mm(&c->gait, ax, &avg_mm)) {
            /* what it reads, averaged over the settle (the gait stops within
             * its tolerance, always from the same side, so taking the target
             * instead would add up) */
            np.s_mm[ax] = avg_mm;
            np.s_known[ax] = 1;
        } else if (st->pos_valid[ax]) {
            np.s_mm[ax] = st->pos_mm[ax];
            np.s_known[ax] = 1;
        } else if (st->x & minus[ax]) {
            np.s_mm[ax] = 0.0;
            np.s_known[ax] = 1;
        } else if (st->x & plus[ax]) {
            np.s_mm[ax] = S;
            np.s_known[ax] = 1;
        } else if (!isnan(mv->target_mm[ax])) {
            np.s_mm[ax] = mv->target_mm[ax];
            np.s_known[ax] = 0;
        }
        /* a shifted foothold without a sensor: timed, so only estimated */
        if (c->gait.shifted && c->gait.goal[ax].mode == GAIT_GOAL_TIMED && !st->pos_valid[ax]) {
            double est = (double)c->params.shift_mm * m->cfg.timing.speed_side_mm_s /
                         (double)c->params.shift_speed_mm_s;
            double base = isnan(mv->target_mm[ax]) ? np.s_mm[ax] : (double)mv->target_mm[ax];
            np.s_mm[ax] = base + (double)c->gait.goal[ax].dir * est;
            if (np.s_mm[ax] < 0.0) np.s_mm[ax] = 0.0;
            if (np.s_mm[ax] > S) np.s_mm[ax] = S;
            np.s_known[ax] = 0;
            shifted = 1;
        }
    }
    /* the holding group did not move: the carriage follows from it */
    double h[2];
    mis_pose_group_mm(m->p, &mv->before, hold_other(mv->group), h);
    if (mv->group == HOLD_GROUP_A) { /* B held: C = (B_x, B_y - Sy/2 + s_y) */
        np.c_mm[0] = h[0];
        np.c_mm[1] = h[1] - 0.5 * stroke(m->p, 1) + np.s_mm[1];
    } else { /* A held: C = (A_x + s_x - Sx/2, A_y) */
        np.c_mm[0] = h[0] + np.s_mm[0] - 0.5 * stroke(m->p, 0);
        np.c_mm[1] = h[1];
    }
    if (mv->aux) {
        size_t hits = 0, reg = 0;
        mark_sweep(m, m->live_map, mv->before.c_mm, np.c_mm, &hits, &reg);
        m->live_hits += hits;
        m->live_region += reg;
        d->clean_steps++;
    }
    d->pose = np;
    d->half_steps++;
    uint32_t dt = m->now_ticks - d->move_since_ticks;
    d->half_ticks_sum += dt;
    d->inflight = 0;
    mis_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = MIS_EV_STEP_END;
    ev.move = *mv;
    ev.move.after = np;
    ev.a = (unsigned)shifted;
    ev.b = dt;
    emit(m, &ev);
}

/* The feet A1, A2, B1, B2 relative to the carriage in pose ps, mm (facade frame). */
static void feet_rel_mm(const mission *m, const mis_pose *ps, float out[4][2])
{
    for (unsigned g = 0; g < HOLD_GROUP_COUNT; g++) {
        double body[2];
        mis_pose_group_mm(m->p, ps, (hold_group)g, body);
        for (unsigned f = 0; f < 2; f++) {
            double sum[2] = {0.0, 0.0};
            for (unsigned j = 0; j < 3; j++) {
                double xy[2];
                params_cup_xy_mm(m->p, g, 3 * f + j, xy);
                sum[0] += xy[0] / 3.0;
                sum[1] += xy[1] / 3.0;
            }
            out[2 * g + f][0] = (float)(body[0] + sum[0] - ps->c_mm[0]);
            out[2 * g + f][1] = (float)(body[1] + sum[1] - ps->c_mm[1]);
        }
    }
}

/* S5: the perception model's verdict before half-step *mv.  It can only make
 * the robot more careful: a shorter step (SHORTEN; a sidestep verdict is
 * taken as a shorter step too — the detour planner decides sidesteps from
 * the map), or a wait and, after fusion_stops_max STOPs in a row, a pause
 * for the operator.  A verdict that cannot be carried out safely (no
 * shorter step passes check_move) leaves the step as the mission planned
 * it — never less careful than without the model.  Returns 1 to go on with
 * *mv, 0 to wait (or paused). */
static int gate_check(mission *m, const cc_status *st, mis_move *mv)
{
    mis_dyn *d = &m->d;
    double from[2], to[2];
    mis_pose_group_mm(m->p, &mv->before, mv->group, from);
    mis_pose_group_mm(m->p, &mv->after, mv->group, to);
    const unsigned ax = mv->axis;
    const int dir = to[ax] >= from[ax] ? 1 : -1;
    float feet[4][2];
    feet_rel_mm(m, &d->pose, feet);
    mis_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = MIS_EV_FUSION;
    ev.move = *mv;
    /* the camera's view along the travel direction (none or a failed fetch: offline) */
    feat_camera cam = {.online = false, .width = 0, .height = 0, .pixels = NULL};
    if (m->camera_fn) {
        const double heading_deg = ax == 0 ? (dir > 0 ? 0.0 : 180.0) : (dir > 0 ? 90.0 : 270.0);
        if (m->camera_fn(m->camera_user, heading_deg, &cam) != 0) cam.online = false;
    }
    if (fg_ask(m->gate, st, mv->group, ax, dir, (float)mv->chosen_mm, feet, &cam, &ev.fusion) != 0) {
        /* the model could not answer: the mission's own checks stand */
        ev.a = FG_PROCEED;
        snprintf(ev.reason, sizeof ev.reason, "no verdict");
        emit(m, &ev);
        return 1;
    }
    m->last_verdict = ev.fusion;
    m->has_verdict = 1;
    fg_action act = ev.fusion.action, taken = FG_PROCEED;
    if (act == FG_STOP) {
        m->gate_stops++;
        taken = FG_STOP;
        if (m->gate_stops >= m->cfg.fusion_stops_max) {
            snprintf(ev.reason, sizeof ev.reason, "stop: paused for the operator");
            ev.a = FG_STOP;
            emit(m, &ev);
            m->gate_stops = 0;
            mis_pause(m, "fusion: stop");
            return 0;
        }
        m->gate_wait_until = m->now_ticks + (uint32_t)lround(m->cfg.fusion_stop_wait_s * 100.0);
        snprintf(ev.reason, sizeof ev.reason, "stop: waiting");
        ev.a = FG_STOP;
        emit(m, &ev);
        return 0;
    }
    m->gate_stops = 0;
    if (act == FG_SHORTEN || act == FG_SIDESTEP_LEFT || act == FG_SIDESTEP_RIGHT) {
        const double s0 = d->pose.s_mm[ax], s1 = isnan(mv->target_mm[ax]) ? s0 : (double)mv->target_mm[ax];
        mis_pose out;
        snprintf(ev.reason, sizeof ev.reason, "no safe shorter step");
        if (!lattice_ax(m, ax) && fabs(s1 - s0) >= 2.0 * m->cfg.step_quant_mm) {
            double half = s0 + 0.5 * (s1 - s0);
            if (check_move(m, &d->pose, mv->group, ax, half, mv->aux != 0, st, &out) == MIS_BLK_NONE) {
                mv->target_mm[ax] = (float)half;
                mv->chosen_mm = fabs(half - s0);
                mv->after = out;
                taken = FG_SHORTEN;
                ev.reason[0] = '\0';
            }
        }
    }
    ev.a = (unsigned)taken;
    emit(m, &ev);
    return 1;
}

int mis_step(mission *m, ctl *c, const cc_status *st)
{
    if (!m || !c || !st) return MIS_EARG;
    if (!m->begun) return MIS_ESTATE;
    mis_dyn *d = &m->d;
    m->now_ticks = c->now_ticks;
    const sup_phase ph = ctl_phase(c);
    if (m->gate) fg_observe(m->gate, st, m->now_ticks);

    /* a restarted controller: the half-step in flight goes to the gait
     * before it derives the robot's state */
    if (d->inflight && !d->preset_done) {
        if (ph == SUP_HELD || ph == SUP_RESETTING) {
            if (ctl_resume_half_to(c, d->move.group, d->move.target_mm) == 0) {
                d->preset_done = 1;
                /* the brush and spray of a lane move in flight come back with
                 * it: a new controller starts with them off */
                ctl_set_aux(c, d->move.aux);
            }
        } else {
            d->preset_done = 1; /* too late: the gait derived on its own */
        }
    }
    if (final_state(d->state)) return 0;
    if (m->cfg.pause_on_water_low && (st->x & CC_X_WATER_LOW) &&
        (d->state == MIS_CLEANING || d->state == MIS_TRANSIT))
        mis_pause(m, "water-low");
    if (ph != SUP_RUNNING) return 0;

    if (!m->fr_synced) { /* where the groups stand at the start (or restart) */
        for (unsigned g = 0; g < HOLD_GROUP_COUNT; g++) sync_friction(m, c, (hold_group)g, &d->pose);
        m->fr_synced = 1;
    }
    if (d->inflight) {
        if (!gait_idle(&c->gait)) return 0;
        complete_move(m, c, st);
        sync_friction(m, c, d->move.group, &d->pose);
        ctl_set_aux(c, 0);
    }
    switch ((mis_state)d->state) {
    case MIS_PAUSING:
        d->state = MIS_PAUSED;
        ctl_set_aux(c, 0);
        emit_simple(m, MIS_EV_PAUSED, d->lane_i, 0, d->pose.c_mm[0], d->pose.c_mm[0], d->pose.c_mm[1],
                    d->pause_reason);
        return 0;
    case MIS_STOPPING:
        d->state = MIS_STOPPED;
        ctl_set_aux(c, 0);
        emit_simple(m, MIS_EV_STOPPED, d->lane_i, 0, d->pose.c_mm[0], d->pose.c_mm[0], d->pose.c_mm[1],
                    NULL);
        return 0;
    case MIS_PAUSED:
    case MIS_WAITING: return 0;
    default: break;
    }
    if (!gait_idle(&c->gait)) return 0;
    if (m->gate && (int32_t)(m->now_ticks - m->gate_wait_until) < 0) return 0; /* a STOP waits */
    mis_move mv;
    if (!decide(m, st, &mv)) {
        ctl_set_aux(c, 0);
        return 0;
    }
    if (m->gate && !gate_check(m, st, &mv)) return 0;
    int rc = ctl_half_to(c, mv.group, mv.target_mm);
    if (rc) { /* the controller would not take it: stop here, the operator decides */
        char why[48];
        snprintf(why, sizeof why, "controller: %s", ctl_strerror(rc));
        d->blocked++;
        emit_simple(m, MIS_EV_BLOCKED, d->lane_i, 0, d->pose.c_mm[0], d->pose.c_mm[0], d->pose.c_mm[1],
                    why);
        mis_pause(m, "controller refused");
        return 0;
    }
    d->move = mv;
    d->inflight = 1;
    d->preset_done = 1;
    sync_friction(m, c, mv.group, &mv.after); /* where it will land */
    d->move_since_ticks = m->now_ticks;
    ctl_set_aux(c, mv.aux);
    mis_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = MIS_EV_STEP_BEGIN;
    ev.move = mv;
    ev.a = d->lane_i;
    emit(m, &ev);
    return 0;
}

/* --- jog --- */

/* The operator's jog (mission.h mis_jog): one half-step while PAUSED, built
 * like the mission's own half-steps and checked by the same check_move()
 * with the live sensors, then asked of ctl like them (mis_step tracks it
 * and takes the pose from the status when it is over). */

/* Group g's jog along ax in direction dir: *mv, or why not (*why: a text
 * in place of the block's name, or NULL). */
static mis_block jog_try(const mission *m, const cc_status *st, hold_group g, unsigned ax, int dir,
                         mis_move *mv, const char **why)
{
    const mis_dyn *d = &m->d;
    const double S = stroke(m->p, ax), s = d->pose.s_mm[ax], tol = (double)m->p->pos_tol_mm;
    const int is_mover = g == mover_of(ax);
    /* the lifted body moves by the cylinder change (mover) or against it (follower) */
    const double sgn = is_mover ? (double)dir : (double)-dir;
    const double room = sgn > 0.0 ? S - s : s;
    *why = NULL;
    if (lattice_ax(m, ax) && is_mover && !d->pose.s_known[ax]) {
        /* the carriage would move by an unknown length: home first */
        *why = "cylinder position not known yet";
        return MIS_BLK_RANGE;
    }
    if (room <= tol) return MIS_BLK_RANGE;
    double len, s_new, nominal;
    if (lattice_ax(m, ax)) { /* no position sensor: the cylinder stops only at its ends */
        s_new = sgn > 0.0 ? S : 0.0;
        len = nominal = room;
    } else {
        nominal = m->cfg.jog_mm;
        len = nominal < room ? nominal : room;
        if (len <= tol) {
            *why = "jog length too short";
            return MIS_BLK_RANGE;
        }
        s_new = s + sgn * len;
    }
    mis_pose out;
    mis_block b = check_move(m, &d->pose, g, ax, s_new, 0, st, &out);
    if (b != MIS_BLK_NONE) return b;
    memset(mv, 0, sizeof *mv);
    mv->group = g;
    mv->axis = ax;
    mv->target_mm[0] = mv->target_mm[1] = NAN;
    mv->target_mm[ax] = (float)s_new;
    mv->nominal_mm = nominal;
    mv->chosen_mm = len;
    mv->before = d->pose;
    mv->after = out;
    mv->kind = MIS_MV_JOG;
    mv->aux = 0; /* brush and spray off */
    return MIS_BLK_NONE;
}

int mis_jog(mission *m, ctl *c, const cc_status *st, unsigned axis, int dir)
{
    if (!m || !c || axis > 1u || (dir != 1 && dir != -1)) return MIS_EARG;
    if (!m->begun) return MIS_ESTATE;
    mis_dyn *d = &m->d;
    const size_t rl = sizeof m->jog_reason;
    const char sg = dir > 0 ? '+' : '-', an = axis ? 'Y' : 'X';
    m->jog_reason[0] = '\0';
    m->now_ticks = c->now_ticks;
    if (d->state != MIS_PAUSED) {
        snprintf(m->jog_reason, rl, "the mission is %s, not paused (pause first)",
                 mis_state_name((mis_state)d->state));
        return MIS_EJOG;
    }
    if (ctl_phase(c) != SUP_RUNNING) {
        snprintf(m->jog_reason, rl, "the controller is %s, not running", sup_phase_name(ctl_phase(c)));
        return MIS_EJOG;
    }
    if (d->inflight || !gait_idle(&c->gait) || c->pending) {
        snprintf(m->jog_reason, rl, "a half-step is under way");
        return MIS_EJOG;
    }
    if (!st) {
        snprintf(m->jog_reason, rl, "no status this cycle (link)");
        return MIS_EJOG;
    }
    const hold_group order[2] = {mover_of(axis), hold_other(mover_of(axis))};
    mis_block b[2];
    const char *why[2];
    mis_move mv;
    unsigned i;
    for (i = 0; i < 2; i++)
        if ((b[i] = jog_try(m, st, order[i], axis, dir, &mv, &why[i])) == MIS_BLK_NONE) break;
    if (i == 2) {
        snprintf(m->jog_reason, rl, "%c%c: no safe half-step (group %s: %s; group %s: %s)", sg, an,
                 hold_group_name(order[0]), why[0] ? why[0] : mis_block_name(b[0]), hold_group_name(order[1]),
                 why[1] ? why[1] : mis_block_name(b[1]));
        return MIS_EJOG;
    }
    /* S5: the perception gate, as before a mission half-step (only ever more careful) */
    if (m->gate && !gate_check(m, st, &mv)) {
        snprintf(m->jog_reason, rl, "%c%c: the perception gate says stop", sg, an);
        return MIS_EJOG;
    }
    int rc = ctl_half_to(c, mv.group, mv.target_mm);
    if (rc) {
        snprintf(m->jog_reason, rl, "%c%c: the controller refused the half-step (%s)", sg, an, ctl_strerror(rc));
        return MIS_EJOG;
    }
    d->move = mv;
    d->inflight = 1;
    d->preset_done = 1;
    sync_friction(m, c, mv.group, &mv.after); /* where it will land, as mis_step does */
    d->move_since_ticks = m->now_ticks;
    ctl_set_aux(c, 0);
    mis_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = MIS_EV_STEP_BEGIN;
    ev.move = mv;
    ev.a = d->lane_i;
    emit(m, &ev);
    return 0;
}

const char *mis_jog_reason(const mission *m)
{
    return m ? m->jog_reason : "";
}

/* --- end of jog --- */

int mis_pause(mission *m, const char *reason)
{
    if (!m || !m->begun) return MIS_ESTATE;
    mis_dyn *d = &m->d;
    switch ((mis_state)d->state) {
    case MIS_WAITING:
    case MIS_HOMING:
    case MIS_TRANSIT:
    case MIS_CLEANING:
        d->resume_state = d->state;
        d->state = MIS_PAUSING;
        snprintf(d->pause_reason, sizeof d->pause_reason, "%s", reason ? reason : "operator");
        return 0;
    default: return MIS_ESTATE;
    }
}

int mis_resume(mission *m)
{
    if (!m || !m->begun) return MIS_ESTATE;
    mis_dyn *d = &m->d;
    if (d->state != MIS_PAUSED && d->state != MIS_PAUSING) return MIS_ESTATE;
    int was_paused = d->state == MIS_PAUSED;
    d->state = d->resume_state;
    d->pause_reason[0] = '\0';
    if (was_paused)
        emit_simple(m, MIS_EV_RESUMED, d->lane_i, 0, d->pose.c_mm[0], d->pose.c_mm[0], d->pose.c_mm[1],
                    NULL);
    return 0;
}

int mis_stop(mission *m)
{
    if (!m || !m->begun) return MIS_ESTATE;
    if (final_state(m->d.state)) return MIS_ESTATE;
    m->d.state = MIS_STOPPING;
    return 0;
}

int mis_finished(const mission *m)
{
    return m && m->begun && final_state(m->d.state);
}

void mis_get_progress(const mission *m, mis_progress *out)
{
    const mis_dyn *d = &m->d;
    memset(out, 0, sizeof *out);
    out->state = (mis_state)d->state;
    out->phase = (mis_phase)d->phase;
    out->lanes = d->lanes_n ? d->lanes_n : m->plan.lanes;
    out->lane = d->state == MIS_WAITING || d->state == MIS_HOMING ? 0
                : d->lane_i < out->lanes                            ? d->lane_i + 1
                                                                    : out->lanes;
    out->half_steps = d->half_steps;
    out->half_steps_planned = m->plan.half_steps;
    out->fraction = m->plan.planned_cells ? (double)m->live_hits / (double)m->plan.planned_cells
                    : d->state == MIS_DONE ? 1.0 : 0.0;
    out->area_m2 = (double)m->live_region * m->plan.cell_m2;
    double mean_s = d->half_steps ? (double)d->half_ticks_sum / (double)d->half_steps / TICKS_PER_S
                                  : (m->plan.half_steps ? m->plan.est_s / m->plan.half_steps : 0.0);
    unsigned left = m->plan.half_steps > d->half_steps ? m->plan.half_steps - d->half_steps : 0;
    out->time_left_s = final_state(d->state) ? 0.0 : left * mean_s;
    out->elapsed_s = (double)(m->now_ticks - d->begun_ticks) / TICKS_PER_S;
    out->c_mm[0] = d->pose.c_mm[0];
    out->c_mm[1] = d->pose.c_mm[1];
}

/* ------------------------------------------------------------ checkpoint */

#define F_D(n) {#n, MIS_F_DOUBLE, offsetof(mis_dyn, n), sizeof(double)}
#define F_I(n) {#n, MIS_F_INT, offsetof(mis_dyn, n), sizeof(int)}
#define F_U(n) {#n, MIS_F_UINT, offsetof(mis_dyn, n), sizeof(unsigned)}
#define F_U32(n) {#n, MIS_F_U32, offsetof(mis_dyn, n), sizeof(uint32_t)}
#define F_U64(n) {#n, MIS_F_U64, offsetof(mis_dyn, n), sizeof(uint64_t)}
#define F_F(n) {#n, MIS_F_FLOAT, offsetof(mis_dyn, n), sizeof(float)}

static const mis_field fields[] = {
    F_U32(version),
    F_D(region_mm[0]), F_D(region_mm[1]), F_D(region_mm[2]), F_D(region_mm[3]),
    F_D(start_mm[0]), F_D(start_mm[1]),
    F_D(pose.c_mm[0]), F_D(pose.c_mm[1]), F_D(pose.s_mm[0]), F_D(pose.s_mm[1]),
    F_I(pose.s_known[0]), F_I(pose.s_known[1]),
    F_I(state), F_I(resume_state), F_I(phase),
    F_U(lane_i), F_I(lane_dir), F_D(lane_y_mm), F_D(lane_xs_mm), F_D(lane_xe_mm), F_D(lane_from_mm),
    F_I(lane_cleaning), F_U(lanes_n), F_D(lanes_y0_mm), F_D(lanes_pitch_mm), F_I(lanes_down),
    F_I(lattice), F_D(lattice_mm[0]), F_D(lattice_mm[1]), F_D(prev_lane_y_mm),
    F_I(detour), F_U(detour_axis), F_D(detour_target_mm), F_D(detour_adv_mm),
    F_U(detours_used), F_I(unstuck), F_I(inflight),
    F_I(move.group), F_U(move.axis), F_F(move.target_mm[0]), F_F(move.target_mm[1]),
    F_I(move.kind), F_D(move.nominal_mm), F_D(move.chosen_mm),
    F_D(move.before.c_mm[0]), F_D(move.before.c_mm[1]), F_D(move.before.s_mm[0]),
    F_D(move.before.s_mm[1]), F_I(move.before.s_known[0]), F_I(move.before.s_known[1]),
    F_D(move.after.c_mm[0]), F_D(move.after.c_mm[1]), F_D(move.after.s_mm[0]),
    F_D(move.after.s_mm[1]), F_I(move.after.s_known[0]), F_I(move.after.s_known[1]),
    {"move.aux", MIS_F_U16, offsetof(mis_dyn, move.aux), sizeof(uint16_t)},
    F_U(half_steps), F_U(clean_steps), F_U(sidesteps), F_U(shortened), F_U(blocked),
    F_U(lanes_done), F_U(lanes_skipped), F_U(lanes_partial), F_U64(half_ticks_sum),
    {"pause_reason", MIS_F_STR, offsetof(mis_dyn, pause_reason), sizeof(((mis_dyn *)0)->pause_reason)},
};

const mis_field *mis_checkpoint_fields(size_t *n)
{
    if (n) *n = sizeof fields / sizeof fields[0];
    return fields;
}
