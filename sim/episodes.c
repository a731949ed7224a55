/*
 * episodes.c — labelled situations from the physics (episodes.h;
 * docs/perception-data.md has the definitions and the reasons).
 *
 * Three parts: the facade generator (text in the facade format, loaded by
 * the strict loader so a generated facade is a valid one), the ground truth
 * (ep_grip_check, ep_sweep_clear, ep_label: physics only), and the
 * observation (ep_observe: robotsim's sensor models and the camera).
 */
#include "episodes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plc_bridge/regmap.h"
#include "robotsim.h"

#define PI 3.14159265358979323846

/* RNG streams of one seed (robotsim_rng_seed's stream argument); robotsim
 * and the camera use 1..4 of their own seeds, which are derived below. */
#define STREAM_POSE 11
#define STREAM_FAULT 12
#define STREAM_FACADE 13
#define STREAM_SEQ 14

#define CHUNK_US 10000u /* the faults' leak is updated every 10 ms of physics */

const char *ep_strerror(int code)
{
    switch (code) {
    case EP_OK: return "ok";
    case EP_EARG: return "invalid episode argument";
    case EP_ENOMEM: return "out of memory";
    case EP_EPHYS: return "the physics refused the situation";
    case EP_EREJECT: return "no acceptable situation found";
    default: return "unknown episode error";
    }
}

const char *ep_phase_name(ep_phase p)
{
    static const char *const n[EP_PHASE_COUNT] = {"settled", "releasing"};
    return (unsigned)p < EP_PHASE_COUNT ? n[p] : "?";
}

uint64_t ep_mix_seed(uint64_t seed, uint64_t index)
{
    /* splitmix64 finaliser over seed and index: neighbouring indices give
     * unrelated seeds */
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * (index + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uni(robotsim_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * robotsim_rng_uniform(r);
}

static unsigned below(robotsim_rng *r, unsigned n)
{
    /* n is small (< 2^16): the modulo bias of 64 random bits is nil */
    return n ? (unsigned)(robotsim_rng_next(r) % n) : 0;
}

/* ------------------------------------------------------------ settings */

void ep_faults_none(ep_faults *f)
{
    memset(f, 0, sizeof *f);
    f->leak_cup = f->offset_cup = f->stuck_cup = f->prox_offset_slot = -1;
}

int ep_faults_count(const ep_faults *f)
{
    int n = (f->leak_cup >= 0) + (f->offset_cup >= 0) + (f->stuck_cup >= 0) +
            (f->prox_offset_slot >= 0) + (f->camera_blackout != 0) + (f->supply_kpa > 0.0);
    for (int s = 0; s < EP_SLOTS; s++) n += (f->prox_dropout >> s) & 1;
    return n;
}

double ep_leak_kpa_s(const ep_faults *f, double t_s)
{
    if (f->leak_cup < 0) return 0.0;
    double r = f->leak_kpa_s + f->leak_growth_kpa_s2 * (t_s > 0.0 ? t_s : 0.0);
    return r > 0.0 ? r : 0.0;
}

void ep_config_default(ep_config *c)
{
    memset(c, 0, sizeof *c);
    c->step_mm = 300.0;
    c->short_mm = 150.0;
    c->side_mm = 300.0;
    /* the gait's own limits (controller/params.c defaults) */
    c->grip_timeout_s = 3.0;
    c->settle_s = 0.5;
    c->settle_timeout_s = 3.0;
    c->leak_max_kpa_s = 2.0;
    c->required_factor = 0.0;
    /* release 0.5 + lift 0.4 + move 2.2..3.4 + lower 0.4 s: about 4 s a half-step */
    c->land_delay_s[0] = 4.0;
    c->land_delay_s[1] = 8.0;
    c->history_s = 1.0;
    c->sample_s = 0.1;
    c->since_land_s[0] = 0.5;
    c->since_land_s[1] = 4.0;
    c->release_s[0] = 0.1;
    c->release_s[1] = 0.5;
    c->release_share = 0.25;
    c->faults_rate = 0.3;
    /* a cup alone at 0.5/s settles at p_m / (1 + 0.5 * 0.451) = 0.82 p_m:
     * 49 kPa, just above sealed; more and the robot could not stand there */
    c->cup_leak_max = 0.5;
    c->edge_margin_mm = 700.0;
    c->seq_step_s = 1.0;
    /* a lip tearing over a minute or two: the loss shows in the readings
     * (a sinking level, a negative rate) before the label flips */
    c->seq_growth_kpa_s2[0] = 0.5;
    c->seq_growth_kpa_s2[1] = 3.0;
    c->max_tries = 4000;
    c->tries_per_facade = 100;
}

int ep_world_init(ep_world *w, const robotcfg *robot, const facade *const *facades, size_t n)
{
    if (!w || !robot || !facades || n == 0) return EP_EARG;
    memset(w, 0, sizeof *w);
    w->robot = robot;
    w->facades = facades;
    w->n_facades = n;
    ep_config_default(&w->cfg);
    cam_defaults(&w->cam);
    return 0;
}

/* ------------------------------------------------------------ geometry */

void ep_travel_vectors(facade_dir heading, double ahead[2], double right[2])
{
    static const double a[FACADE_DIR_COUNT][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
    unsigned h = (unsigned)heading < FACADE_DIR_COUNT ? (unsigned)heading : 0;
    ahead[0] = a[h][0];
    ahead[1] = a[h][1];
    /* right = ahead turned -90 degrees, as camera.h defines it */
    right[0] = ahead[1];
    right[1] = -ahead[0];
}

facade_dir ep_slot_dir(facade_dir heading, int slot)
{
    double a[2], r[2], v[2];
    ep_travel_vectors(heading, a, r);
    switch (slot) {
    case EP_SLOT_RIGHT: v[0] = r[0], v[1] = r[1]; break;
    case EP_SLOT_LEFT: v[0] = -r[0], v[1] = -r[1]; break;
    case EP_SLOT_AHEAD: v[0] = a[0], v[1] = a[1]; break;
    default: v[0] = -a[0], v[1] = -a[1]; break;
    }
    if (v[0] > 0.5) return FACADE_DIR_XP;
    if (v[0] < -0.5) return FACADE_DIR_XM;
    return v[1] > 0.0 ? FACADE_DIR_YP : FACADE_DIR_YM;
}

/* Cup centres relative to their body centre, mm (as phys_init places them). */
static void cup_offsets_mm(const robotcfg *c, double off[EP_CUPS][2])
{
    for (int g = 0; g < 2; g++)
        for (int f = 0; f < ROBOTCFG_FEET; f++)
            for (int k = 0; k < ROBOTCFG_CUPS_PER_FOOT; k++) {
                int i = g * PHYS_CUPS_PER_GROUP + f * ROBOTCFG_CUPS_PER_FOOT + k;
                double ang = c->cup_tri_angle_rad + k * (2.0 * PI / 3.0);
                off[i][0] = (c->foot_m[g][f][0] + c->cup_tri_radius_m * cos(ang)) * 1e3;
                off[i][1] = (c->foot_m[g][f][1] + c->cup_tri_radius_m * sin(ang)) * 1e3;
            }
}

int ep_sweep_clear(const ep_world *w, const facade *f, int group, const double body_mm[2],
                   const double d_mm[2])
{
    double off[EP_CUPS][2], dia = w->robot->cup_diameter_m * 1e3;
    cup_offsets_mm(w->robot, off);
    double len = hypot(d_mm[0], d_mm[1]);
    int n = (int)ceil(len / 5.0);
    if (n < 1) n = 1;
    for (int s = 0; s <= n; s++) {
        double u = (double)s / n;
        for (int i = group * PHYS_CUPS_PER_GROUP; i < (group + 1) * PHYS_CUPS_PER_GROUP; i++) {
            double x = body_mm[0] + off[i][0] + u * d_mm[0];
            double y = body_mm[1] + off[i][1] + u * d_mm[1];
            if (facade_circle_touches(f, x, y, dia, FACADE_OBSTACLE)) return 0;
        }
    }
    return 1;
}

/* ---------------------------------------------------------- grip check */

/* The faulted cup's leak at episode time t into the physics' hook (k =
 * rate / nominal vacuum, per docs/faults-format.md). */
static void set_leak(phys_state *ps, const ep_faults *flt, double t_s)
{
    if (!flt || flt->leak_cup < 0 || flt->leak_cup >= EP_CUPS) return;
    ps->env.cup_leak_per_s[flt->leak_cup] =
        ep_leak_kpa_s(flt, t_s) / (ps->cfg->vac_nominal_pa * 1e-3);
}

/* Safety factor with GROUP alone on the facade: the other group's cups
 * taken off a copy of the state (phys_evaluate is pure). */
static double alone_factor(const phys_state *ps, int group)
{
    phys_state *c = malloc(sizeof *c);
    if (!c) return 0.0;
    memcpy(c, ps, sizeof *c);
    for (int i = 0; i < PHYS_CUPS; i++)
        if (i / PHYS_CUPS_PER_GROUP != group) {
            c->cup_touch[i] = 0;
            c->force_n[i] = 0.0;
        }
    c->geo_valid = 0;
    phys_holding h;
    phys_evaluate(c, &h);
    free(c);
    return h.factor;
}

int ep_grip_check(const ep_world *w, const facade *f, int group, const double body_mm[2],
                  const ep_faults *flt, double t_land_s, ep_grip *out, char *err, size_t errlen)
{
    if (!w || !f || !out || group < 0 || group > 1 || !body_mm) return EP_EARG;
    const robotcfg *rc = w->robot;
    const ep_config *cf = &w->cfg;
    memset(out, 0, sizeof *out);
    out->why = "no contact";
    int other = 1 - group;

    /* With both cylinders at mid stroke both bodies sit on the carriage: the
     * tested group's body goes exactly where asked. */
    phys_start st;
    phys_start_default(&st, rc, f);
    st.x_mm = body_mm[0];
    st.y_mm = body_mm[1];
    st.vac_kpa[group] = 0.0; /* the cups land at atmospheric pressure */
    phys_state *ps = malloc(sizeof *ps);
    if (!ps) return EP_ENOMEM;
    int rc_init = phys_init(ps, rc, f, &st, err, errlen);
    if (rc_init) {
        free(ps);
        return EP_EPHYS;
    }
    /* The other group is a fixture: sealed, not leaking, on plain glass, so
     * that nothing but this foothold decides (and nothing falls meanwhile). */
    for (int i = other * PHYS_CUPS_PER_GROUP; i < (other + 1) * PHYS_CUPS_PER_GROUP; i++) {
        ps->cup_touch[i] = 1;
        ps->cup_leak_per_s[i] = 0.0;
        ps->cup_mu_dry[i] = rc->mu_dry[FACADE_GLASS];
        ps->cup_mu_wet[i] = rc->mu_wet[FACADE_GLASS];
        ps->vac_pa[i] = rc->vac_nominal_pa;
        ps->force_n[i] = ps->vac_pa[i] * ps->cup_area_m2;
    }
    ps->grips[other] = 1;
    ps->geo_valid = 0;
    for (int i = group * PHYS_CUPS_PER_GROUP; i < (group + 1) * PHYS_CUPS_PER_GROUP; i++)
        out->touching += ps->cup_touch[i];
    if (flt && flt->supply_kpa > 0.0) ps->env.supply_pa = flt->supply_kpa * 1e3;
    phys_set_outputs(ps, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC);

    const double sealed = rc->vac_sealed_pa;
    const double required = cf->required_factor > 0.0 ? cf->required_factor : rc->required_factor;
    const uint64_t grip_us = (uint64_t)llround(cf->grip_timeout_s * 1e6);
    const uint64_t win_us = (uint64_t)llround(cf->settle_s * 1e6);
    const uint64_t settle_max_us = (uint64_t)llround(cf->settle_timeout_s * 1e6);
    uint64_t t_seal = 0, win_start = 0;
    double peak[PHYS_CUPS_PER_GROUP];
    int win_ok = 1;
    const double *vac = &ps->vac_pa[group * PHYS_CUPS_PER_GROUP];

    if (out->touching == PHYS_CUPS_PER_GROUP) {
        out->why = "no seal";
        for (uint64_t t = CHUNK_US;; t += CHUNK_US) {
            set_leak(ps, flt, t_land_s + (double)(t - CHUNK_US) * 1e-6);
            phys_advance_to(ps, t);
            if (ps->fallen) break; /* cannot happen with the fixture; a bug shows as "no seal" */
            int all = 1;
            for (int k = 0; k < PHYS_CUPS_PER_GROUP; k++) all &= vac[k] >= sealed;
            if (!out->sealed) {
                if (all) {
                    out->sealed = 1;
                    t_seal = win_start = t;
                    out->t_seal_s = (double)t * 1e-6;
                    for (int k = 0; k < PHYS_CUPS_PER_GROUP; k++) peak[k] = vac[k];
                    win_ok = 1;
                    out->why = "leak in settle";
                } else if (t >= grip_us) {
                    break;
                }
                continue;
            }
            /* settle: every cup stays sealed and none drops from its peak
             * faster than leak_max over the window */
            double drop = 0.0;
            for (int k = 0; k < PHYS_CUPS_PER_GROUP; k++) {
                if (vac[k] > peak[k]) peak[k] = vac[k];
                double d = peak[k] - vac[k];
                if (d > drop) drop = d;
            }
            if (!all) win_ok = 0;
            if (t - win_start >= win_us) {
                if (win_ok && drop * 1e-3 / cf->settle_s <= cf->leak_max_kpa_s) {
                    out->settled = 1;
                    break;
                }
                win_start = t;
                win_ok = 1;
                for (int k = 0; k < PHYS_CUPS_PER_GROUP; k++) peak[k] = vac[k];
            }
            if (t - t_seal >= settle_max_us) break;
        }
    }
    out->vac_min_kpa = INFINITY;
    for (int k = 0; k < PHYS_CUPS_PER_GROUP; k++)
        if (vac[k] * 1e-3 < out->vac_min_kpa) out->vac_min_kpa = vac[k] * 1e-3;
    if (out->settled) {
        out->factor = alone_factor(ps, group);
        out->ok = out->factor >= required;
        out->why = out->ok ? "ok" : "weak hold";
    }
    phys_free(ps);
    free(ps);
    return 0;
}

/* ------------------------------------------------------------- labels */

/* Displacement of candidate step K, facade mm. */
static void step_vector(const ep_world *w, facade_dir heading, int k, double d[2])
{
    double a[2], r[2];
    ep_travel_vectors(heading, a, r);
    const ep_config *c = &w->cfg;
    double s = k == EP_STEP_FULL    ? c->step_mm
               : k == EP_STEP_SHORT ? c->short_mm
               : k == EP_STEP_LEFT  ? -c->side_mm
                                    : c->side_mm;
    const double *v = k <= EP_STEP_SHORT ? a : r;
    d[0] = s * v[0];
    d[1] = s * v[1];
}

/* Candidate step K: both groups move by d (the trailing one first), each
 * move clear of obstacles, each new foothold sealing and holding.  GRIP
 * (may be NULL) gets the two foothold checks when they were made. */
static int step_safe(const ep_world *w, const ep_example *ex, int k, ep_grip grip[2], int *safe,
                     char *err, size_t errlen)
{
    const ep_situation *s = &ex->sit;
    const facade *f = w->facades[s->facade];
    double d[2];
    step_vector(w, s->heading, k, d);
    int ok = 1;
    for (int n = 0; n < 2; n++) {
        int g = n == 0 ? s->first_group : 1 - s->first_group;
        if (!ep_sweep_clear(w, f, g, ex->body_mm[g], d)) {
            ok = 0;
            if (!grip) break; /* the labels need both grips only for the full step */
        }
        double b[2] = {ex->body_mm[g][0] + d[0], ex->body_mm[g][1] + d[1]};
        ep_grip gr;
        int rc = ep_grip_check(w, f, g, b, &s->faults, ex->t_snap_s + w->cfg.land_delay_s[n], &gr,
                               err, errlen);
        if (rc) return rc;
        if (grip) grip[g] = gr;
        if (!gr.ok) {
            ok = 0;
            if (!grip) break;
        }
    }
    *safe = ok;
    return 0;
}

int ep_label(const ep_world *w, ep_example *ex, char *err, size_t errlen)
{
    if (!w || !ex || ex->sit.facade >= w->n_facades) return EP_EARG;
    for (int k = 0; k < EP_STEPS; k++) ex->safe[k] = -1;
    int safe, rc = step_safe(w, ex, EP_STEP_FULL, ex->grip, &safe, err, errlen);
    if (rc) return rc;
    ex->safe[EP_STEP_FULL] = (int8_t)safe;
    for (int g = 0; g < 2; g++) ex->hold[g] = (uint8_t)ex->grip[g].ok;
    static const uint8_t cls[EP_STEPS] = {EP_PATH_PROCEED, EP_PATH_SHORTEN, EP_PATH_SIDESTEP_LEFT,
                                          EP_PATH_SIDESTEP_RIGHT};
    ex->path = EP_PATH_STOP;
    for (int k = 0; k < EP_STEPS; k++) {
        if (k > 0) {
            if ((rc = step_safe(w, ex, k, NULL, &safe, err, errlen)) != 0) return rc;
            ex->safe[k] = (int8_t)safe;
        }
        if (safe) {
            ex->path = cls[k];
            break;
        }
    }
    return 0;
}

/* --------------------------------------------------------- observation */

/* Advance RS to T_US (simulated) in chunks, keeping the faulted cup's leak
 * at its rate of the episode time; 1 when the robot fell. */
static int run_to(robotsim *rs, uint64_t t_us, const ep_faults *flt, double t0_s)
{
    while (rs->phys.t_us < t_us && !rs->phys.fallen) {
        uint64_t next = rs->phys.t_us + CHUNK_US;
        if (next > t_us) next = t_us;
        set_leak(&rs->phys, flt, t0_s + (double)rs->phys.t_us * 1e-6);
        robotsim_advance_to_us(rs, next);
    }
    return rs->phys.fallen;
}

/* The robot fell during an observation: say so; EP_EREJECT. */
static int fell(const robotsim *rs, char *err, size_t errlen)
{
    if (err && errlen) snprintf(err, errlen, "episodes: the robot fell: %s", rs->phys.fall_reason);
    return EP_EREJECT;
}

static uint16_t group_bits(int g, uint16_t a_bit, uint16_t b_bit)
{
    return g == 0 ? a_bit : b_bit;
}

int ep_observe(const ep_world *w, ep_example *ex, char *err, size_t errlen)
{
    if (!w || !ex || ex->sit.facade >= w->n_facades) return EP_EARG;
    if (w->cam.width_px != EP_CAM_W || w->cam.height_px != EP_CAM_H) {
        if (err && errlen)
            snprintf(err, errlen, "episodes: the camera must be %dx%d, not %ux%u", EP_CAM_W, EP_CAM_H,
                     w->cam.width_px, w->cam.height_px);
        return EP_EARG;
    }
    ep_situation *s = &ex->sit;
    const ep_config *cf = &w->cfg;
    const robotcfg *rc = w->robot;
    const facade *f = w->facades[s->facade];
    const ep_faults *flt = &s->faults;
    int G = s->first_group, L = 1 - G, status = EP_EPHYS;
    robotsim *rs = calloc(1, sizeof *rs);
    cam_state *cam = malloc(sizeof *cam);
    if (!rs || !cam) {
        free(rs);
        free(cam);
        return EP_ENOMEM;
    }
    int rs_live = 0;

    /* The trailing group G has held alone for a while (its vacuum at its
     * equilibrium by the time the history starts); the leading group L
     * comes down on its foothold, its ejector on. */
    phys_start st;
    phys_start_default(&st, rc, f);
    st.x_mm = s->carriage_mm[0];
    st.y_mm = s->carriage_mm[1];
    st.cyl_mm[0] = s->cyl_mm[0];
    st.cyl_mm[1] = s->cyl_mm[1];
    st.legs_down[L] = 0;
    if (robotsim_init(rs, rc, f, &st, s->seed, err, errlen) != 0) goto out;
    rs_live = 1;
    for (int c = 0; c < EP_CUPS; c++) {
        robotsim_sensor_fault *af = &rs->an_fault[ROBOTSIM_AN_CUP0 + c];
        if (flt->offset_cup == c) af->offset = flt->offset_kpa * 1e3;
        if (flt->stuck_cup == c) {
            af->stuck = 1;
            af->stuck_value = flt->stuck_kpa * 1e3;
        }
    }
    if (flt->prox_offset_slot >= 0 && flt->prox_offset_slot < EP_SLOTS)
        rs->an_fault[ROBOTSIM_AN_PROX0 + ep_slot_dir(s->heading, flt->prox_offset_slot)].offset =
            flt->prox_offset_mm * 1e-3;
    if (flt->supply_kpa > 0.0) rs->phys.env.supply_pa = flt->supply_kpa * 1e3;
    rs->phys.env.camera_blackout = flt->camera_blackout != 0;

    uint16_t y = group_bits(G, CC_Y_A_DOWN, CC_Y_B_DOWN) | group_bits(G, CC_Y_A_VAC, CC_Y_B_VAC);
    robotsim_set_outputs(rs, y);
    const uint64_t t_pre = 1500000u;
    if (run_to(rs, t_pre, flt, s->t0_s)) {
        status = fell(rs, err, errlen);
        goto out;
    }
    y |= group_bits(L, CC_Y_A_DOWN, CC_Y_B_DOWN) | group_bits(L, CC_Y_A_VAC, CC_Y_B_VAC);
    robotsim_set_outputs(rs, y);
    /* touch-down: the legs reach the facade (0.4 s at full supply) */
    uint64_t t_land = t_pre;
    while (rs->phys.leg_ext_m[L] < rc->leg_stroke_m) {
        t_land += 1000u;
        if (t_land > t_pre + 20000000u) { /* no supply: the legs never arrive */
            if (err && errlen) snprintf(err, errlen, "episodes: the legs did not reach the facade in 20 s");
            goto out;
        }
        if (run_to(rs, t_land, flt, s->t0_s)) {
            status = fell(rs, err, errlen);
            goto out;
        }
    }
    uint64_t t_snap = t_land + (uint64_t)llround(s->t_since_land_s * 1e6);
    if (s->phase == EP_PHASE_RELEASING) {
        /* the gait releases G only with L verified: every L cup sealed */
        if (run_to(rs, t_snap, flt, s->t0_s)) {
            status = fell(rs, err, errlen);
            goto out;
        }
        int verified = 1;
        for (int i = L * PHYS_CUPS_PER_GROUP; i < (L + 1) * PHYS_CUPS_PER_GROUP; i++)
            verified &= rs->phys.vac_pa[i] >= rc->vac_sealed_pa;
        if (verified) {
            y &= (uint16_t)~group_bits(G, CC_Y_A_VAC, CC_Y_B_VAC);
            y |= group_bits(G, CC_Y_A_BLOW, CC_Y_B_BLOW);
            robotsim_set_outputs(rs, y);
            t_snap += (uint64_t)llround(s->t_release_s * 1e6);
        } else {
            s->phase = EP_PHASE_SETTLED; /* not verified: the gait would still be waiting */
            s->t_release_s = 0.0;
        }
    }

    /* The history: readings every sample_s over the last history_s; the
     * rate is the least-squares slope of each cup's readings. */
    int n_samp = (int)llround(cf->history_s / cf->sample_s) + 1;
    if (n_samp < 2) n_samp = 2;
    uint64_t span = (uint64_t)llround(cf->history_s * 1e6);
    if (span > t_snap) span = t_snap;
    double sum_t = 0, sum_tt = 0, sum_v[EP_CUPS] = {0}, sum_tv[EP_CUPS] = {0};
    for (int j = 0; j < n_samp; j++) {
        uint64_t t = t_snap - span + span * (uint64_t)j / (uint64_t)(n_samp - 1);
        if (run_to(rs, t, flt, s->t0_s)) {
            status = fell(rs, err, errlen);
            goto out;
        }
        robotsim_sample(rs);
        double ts = (double)t * 1e-6;
        sum_t += ts;
        sum_tt += ts * ts;
        for (int c = 0; c < EP_CUPS; c++) {
            double v = rs->analog[ROBOTSIM_AN_CUP0 + c] * 0.1; /* 0.1 kPa registers */
            sum_v[c] += v;
            sum_tv[c] += ts * v;
            if (j == n_samp - 1) ex->vacuum_kpa[c] = (float)v;
        }
    }
    double den = n_samp * sum_tt - sum_t * sum_t;
    for (int c = 0; c < EP_CUPS; c++)
        ex->vacuum_rate_kpa_s[c] =
            den > 0.0 ? (float)((n_samp * sum_tv[c] - sum_t * sum_v[c]) / den) : 0.0f;
    ex->holding[G] = s->phase != EP_PHASE_RELEASING;
    ex->holding[L] = 1;
    ex->t_snap_s = s->t0_s + (double)t_snap * 1e-6;

    /* Geometry in the travel frame. */
    double a[2], r[2], car[2];
    ep_travel_vectors(s->heading, a, r);
    phys_carriage_m(&rs->phys, car);
    for (int g = 0; g < 2; g++) {
        ex->body_mm[g][0] = rs->phys.body_m[g][0] * 1e3;
        ex->body_mm[g][1] = rs->phys.body_m[g][1] * 1e3;
        for (int ft = 0; ft < ROBOTCFG_FEET; ft++) {
            double v[2] = {(rs->phys.body_m[g][0] + rc->foot_m[g][ft][0] - car[0]) * 1e3,
                           (rs->phys.body_m[g][1] + rc->foot_m[g][ft][1] - car[1]) * 1e3};
            ex->foot_mm[g * 2 + ft][0] = (float)(v[0] * r[0] + v[1] * r[1]);
            ex->foot_mm[g * 2 + ft][1] = (float)(v[0] * a[0] + v[1] * a[1]);
        }
    }
    for (int slot = 0; slot < EP_SLOTS; slot++) {
        uint16_t v = rs->analog[ROBOTSIM_AN_PROX0 + ep_slot_dir(s->heading, slot)];
        ex->prox_no_echo[slot] = v == ROBOTSIM_NO_VALUE;
        ex->prox_mm[slot] = v == ROBOTSIM_NO_VALUE ? (float)(rc->prox_max_m * 1e3) : (float)v;
        ex->prox_dropout[slot] = (flt->prox_dropout >> slot) & 1u;
    }

    /* The camera looks ahead; light and noise from the example's seed. */
    if (cam_init(cam, &w->cam, ep_mix_seed(s->seed, 0xCA4E7A), err, errlen) != 0) goto out;
    cam_frame fr;
    cam_frame_init(&fr, ex->pixels, sizeof ex->pixels);
    if (cam_render(cam, &rs->phys, cam_heading_rad(s->heading), &fr) != 0) goto out;
    ex->camera_online = (uint8_t)fr.online;
    status = 0;
out:
    if (rs_live) robotsim_free(rs);
    free(rs);
    free(cam);
    return status;
}

/* ------------------------------------------------------------ sampling */

/* A plausible current pose: both groups down there, every cup touches and
 * leaks at most cup_leak_max (the robot could have sealed there). */
static int pose_plausible(const ep_world *w, const facade *f, const ep_situation *s)
{
    phys_start st;
    phys_start_default(&st, w->robot, f);
    st.x_mm = s->carriage_mm[0];
    st.y_mm = s->carriage_mm[1];
    st.cyl_mm[0] = s->cyl_mm[0];
    st.cyl_mm[1] = s->cyl_mm[1];
    phys_state *ps = malloc(sizeof *ps);
    if (!ps) return 0;
    int ok = phys_init(ps, w->robot, f, &st, NULL, 0) == 0;
    if (ok) {
        for (int i = 0; i < PHYS_CUPS; i++)
            ok &= ps->cup_touch[i] && ps->cup_leak_per_s[i] <= w->cfg.cup_leak_max;
        phys_free(ps);
    }
    free(ps);
    return ok;
}

/* Pose, heading, phase of a situation (no faults). */
static void sample_pose(const ep_world *w, robotsim_rng *r, unsigned fac, ep_situation *s)
{
    const robotcfg *rc = w->robot;
    s->facade = fac;
    const facade *f = w->facades[s->facade];
    s->heading = (facade_dir)below(r, FACADE_DIR_COUNT);
    s->first_group = (int)below(r, 2);
    double a[2], rt[2];
    ep_travel_vectors(s->heading, a, rt);
    /* The trailing (first) group is half a stroke behind the other along
     * the travel direction — where a walking gait leaves it; B - A =
     * (s_x - Sx/2, Sy/2 - s_y) (docs/simulator.md, "Frame"). */
    double sx = rc->stroke_m[0] * 1e3, sy = rc->stroke_m[1] * 1e3;
    double want = (s->first_group == PHYS_GROUP_B ? -0.5 : 0.5);
    static const double lat[3] = {0.0, 0.5, 1.0};
    double l = lat[below(r, 3)];
    if (a[0] != 0.0) {
        s->cyl_mm[0] = sx * (0.5 + want * a[0]);
        s->cyl_mm[1] = sy * l;
    } else {
        s->cyl_mm[1] = sy * (0.5 - want * a[1]);
        s->cyl_mm[0] = sx * l;
    }
    double m = w->cfg.edge_margin_mm, W = facade_width_mm(f), H = facade_height_mm(f);
    s->carriage_mm[0] = W > 2 * m ? floor(uni(r, m, W - m)) : 0.5 * W;
    s->carriage_mm[1] = H > 2 * m ? floor(uni(r, m, H - m)) : 0.5 * H;
    s->phase = robotsim_rng_uniform(r) < w->cfg.release_share ? EP_PHASE_RELEASING
                                                              : EP_PHASE_SETTLED;
    s->t_since_land_s = uni(r, w->cfg.since_land_s[0], w->cfg.since_land_s[1]);
    if (s->phase == EP_PHASE_RELEASING && s->t_since_land_s < 1.5)
        s->t_since_land_s += 1.5; /* the leading group must have sealed before a release */
    s->t_release_s =
        s->phase == EP_PHASE_RELEASING ? uni(r, w->cfg.release_s[0], w->cfg.release_s[1]) : 0.0;
    s->t0_s = 0.0;
}

/* One or two faults, by weight (docs/perception-data.md "Faults"). */
static void sample_faults(robotsim_rng *r, ep_faults *f)
{
    enum { LEAK, OFFSET, STUCK, PROX_OFF, PROX_DROP, BLACKOUT, SUPPLY, KINDS };
    static const double weight[KINDS] = {3.0, 1.0, 1.0, 1.0, 1.5, 1.0, 0.7};
    double total = 0;
    for (int k = 0; k < KINDS; k++) total += weight[k];
    int n = robotsim_rng_uniform(r) < 0.7 ? 1 : 2;
    for (int i = 0; i < n; i++) {
        double u = robotsim_rng_uniform(r) * total;
        int k = 0;
        while (k < KINDS - 1 && u >= weight[k]) u -= weight[k++];
        switch (k) {
        case LEAK:
            f->leak_cup = (int)below(r, EP_CUPS);
            f->leak_kpa_s = 3.0 * pow(50.0, robotsim_rng_uniform(r)); /* 3..150, log-uniform */
            f->leak_growth_kpa_s2 = robotsim_rng_uniform(r) < 0.5 ? 0.0 : uni(r, 0.2, 3.0);
            break;
        case OFFSET:
            f->offset_cup = (int)below(r, EP_CUPS);
            f->offset_kpa = uni(r, 3.0, 12.0) * (robotsim_rng_uniform(r) < 0.5 ? -1.0 : 1.0);
            break;
        case STUCK:
            f->stuck_cup = (int)below(r, EP_CUPS);
            f->stuck_kpa = uni(r, 40.0, 62.0);
            break;
        case PROX_OFF:
            f->prox_offset_slot = (int)below(r, EP_SLOTS);
            f->prox_offset_mm = uni(r, 100.0, 500.0) * (robotsim_rng_uniform(r) < 0.5 ? -1.0 : 1.0);
            break;
        case PROX_DROP:
            f->prox_dropout |= (uint8_t)(1u + below(r, 15)); /* 1..4 sensors */
            break;
        case BLACKOUT: f->camera_blackout = 1; break;
        default: f->supply_kpa = uni(r, 220.0, 420.0); break;
        }
    }
}

int ep_example_make(const ep_world *w, uint64_t seed, ep_example *ex, unsigned *tries, char *err,
                    size_t errlen)
{
    if (!w || !ex || w->cfg.tries_per_facade == 0) return EP_EARG;
    robotsim_rng rp, rf;
    robotsim_rng_seed(&rp, seed, STREAM_POSE);
    robotsim_rng_seed(&rf, seed, STREAM_FAULT);
    unsigned n = 0, fac = 0;
    int rc = EP_EREJECT;
    while (n < w->cfg.max_tries) {
        /* a facade, then poses on it; a facade where the robot finds no
         * plausible pose in tries_per_facade tries is replaced */
        if (n % w->cfg.tries_per_facade == 0)
            fac = below(&rp, (unsigned)w->n_facades);
        n++;
        memset(ex, 0, sizeof *ex);
        ep_situation *s = &ex->sit;
        sample_pose(w, &rp, fac, s);
        if (!pose_plausible(w, w->facades[s->facade], s)) continue;
        ep_faults_none(&s->faults);
        if (robotsim_rng_uniform(&rf) < w->cfg.faults_rate) sample_faults(&rf, &s->faults);
        s->seed = ep_mix_seed(seed, n);
        rc = ep_observe(w, ex, err, errlen);
        if (rc == EP_EREJECT) continue; /* it fell: not a situation the gait allows */
        if (rc == 0) rc = ep_label(w, ex, err, errlen);
        break;
    }
    if (tries) *tries = n;
    if (rc == EP_EREJECT && err && errlen)
        snprintf(err, errlen, "episodes: no plausible pose in %u tries (seed %llu)", n,
                 (unsigned long long)seed);
    return rc;
}

/* The leak rate at which a cup stays just at sealed with the ejector on:
 * p_m / (1 + k tau) = sealed, the manifold drooping by this cup's inflow,
 * p_m = (p_src + c sealed) / (1 + c) (docs/simulator.md, "Cups and vacuum"). */
static double critical_leak_kpa_s(const robotcfg *rc)
{
    double pm = (rc->vac_nominal_pa + rc->ejector_droop * rc->vac_sealed_pa) /
                (1.0 + rc->ejector_droop);
    double k = (pm / rc->vac_sealed_pa - 1.0) / rc->ejector_tau_s;
    return k * rc->vac_nominal_pa * 1e-3;
}

int ep_sequence_make(const ep_world *w, uint64_t seed, size_t k, ep_example *ex,
                     ep_sequence_info *info, char *err, size_t errlen)
{
    if (!w || !ex || !info || k < 4 || w->cfg.tries_per_facade == 0) return EP_EARG;
    robotsim_rng rp, rq;
    robotsim_rng_seed(&rp, seed, STREAM_POSE);
    robotsim_rng_seed(&rq, seed, STREAM_SEQ);
    const ep_config *cf = &w->cfg;
    unsigned fac = 0;
    for (unsigned n = 1; n <= cf->max_tries; n++) {
        if ((n - 1) % cf->tries_per_facade == 0)
            fac = below(&rp, (unsigned)w->n_facades);
        ep_situation base;
        memset(&base, 0, sizeof base); /* padding too: examples compare with memcmp */
        sample_pose(w, &rp, fac, &base);
        base.phase = EP_PHASE_SETTLED;
        base.t_release_s = 0.0;
        ep_faults_none(&base.faults);
        if (!pose_plausible(w, w->facades[base.facade], &base)) continue;
        /* The degrading cup and its growth: lost near step k_flip. */
        memset(info, 0, sizeof *info);
        info->group = (int)below(&rq, 2);
        info->cup = info->group * PHYS_CUPS_PER_GROUP + (int)below(&rq, PHYS_CUPS_PER_GROUP);
        int k_flip = 2 + (int)below(&rq, (unsigned)(k - 4));
        info->growth_kpa_s2 = uni(&rq, cf->seq_growth_kpa_s2[0], cf->seq_growth_kpa_s2[1]);
        /* one time since landing for the whole sequence: the snapshots are
         * exactly seq_step_s apart */
        base.t_since_land_s = uni(&rq, 1.5, cf->since_land_s[1]);
        /* the leak at step k_flip's touch-down, plus the growth while its
         * cups would seal (about 2.5 s near the limit), is the critical rate;
         * a negative r0 is a lip that starts tearing later (the rate is
         * never below 0) */
        double t_ref = k_flip * cf->seq_step_s + 1.9 + base.t_since_land_s +
                       cf->land_delay_s[info->group == base.first_group ? 0 : 1] + 2.5;
        info->r0_kpa_s = critical_leak_kpa_s(w->robot) - info->growth_kpa_s2 * t_ref;
        /* the footholds must be good without the leak: only the leak may
         * change the labels along the sequence */
        memset(&ex[0], 0, sizeof ex[0]);
        ex[0].sit = base;
        ex[0].sit.seed = ep_mix_seed(seed, 1000u * n);
        int rc = ep_observe(w, &ex[0], err, errlen);
        if (rc == EP_EREJECT) continue;
        if (rc == 0) rc = ep_label(w, &ex[0], err, errlen);
        if (rc) return rc;
        if (!(ex[0].hold[0] && ex[0].hold[1])) continue;
        base.faults.leak_cup = info->cup;
        base.faults.leak_growth_kpa_s2 = info->growth_kpa_s2;
        /* then the leak, started a step later each time step 0 does not
         * hold with it (the estimate above is only near) */
        int bad = 0;
        for (size_t shift = 0;; shift++) {
            if (shift > k) {
                bad = 1;
                break;
            }
            base.faults.leak_kpa_s = info->r0_kpa_s;
            memset(&ex[0], 0, sizeof ex[0]);
            ex[0].sit = base;
            ex[0].sit.seed = ep_mix_seed(seed, 1000u * n + 1);
            rc = ep_observe(w, &ex[0], err, errlen);
            if (rc == EP_EREJECT) {
                bad = 1;
                break;
            }
            if (rc == 0) rc = ep_label(w, &ex[0], err, errlen);
            if (rc) return rc;
            if (ex[0].hold[info->group]) break;
            info->r0_kpa_s -= info->growth_kpa_s2 * cf->seq_step_s;
        }
        for (size_t i = 1; i < k && !bad; i++) {
            memset(&ex[i], 0, sizeof ex[i]);
            ex[i].sit = base;
            ex[i].sit.t0_s = (double)i * cf->seq_step_s;
            ex[i].sit.seed = ep_mix_seed(seed, 1000u * n + 1 + i);
            rc = ep_observe(w, &ex[i], err, errlen);
            if (rc == EP_EREJECT) {
                bad = 1;
                break;
            }
            if (rc == 0) rc = ep_label(w, &ex[i], err, errlen);
            if (rc) return rc;
        }
        if (bad) continue;
        info->loss_step = -1;
        for (size_t i = k; i-- > 0;) {
            if (ex[i].hold[info->group]) break;
            info->loss_step = (int)i;
        }
        return 0;
    }
    if (err && errlen)
        snprintf(err, errlen, "episodes: no sequence found in %u tries (seed %llu)", cf->max_tries,
                 (unsigned long long)seed);
    return EP_EREJECT;
}

/* ------------------------------------------------------- facade generator */

typedef struct {
    uint8_t *cell; /* surface | dirt << 4, row 0 = bottom */
    int cols, rows;
    double mm;     /* cell size */
} gen_grid;

/* Fill the cells whose centre lies in [x0, x1) x [y0, y1) (mm). */
static void fill(gen_grid *g, double x0, double y0, double x1, double y1, facade_surface s)
{
    int c0 = (int)ceil(x0 / g->mm - 0.5), c1 = (int)ceil(x1 / g->mm - 0.5);
    int r0 = (int)ceil(y0 / g->mm - 0.5), r1 = (int)ceil(y1 / g->mm - 0.5);
    if (c0 < 0) c0 = 0;
    if (r0 < 0) r0 = 0;
    if (c1 > g->cols) c1 = g->cols;
    if (r1 > g->rows) r1 = g->rows;
    for (int r = r0; r < r1; r++)
        for (int c = c0; c < c1; c++) g->cell[(size_t)r * g->cols + c] = FACADE_CELL(s, 0);
}

/* Dirt level on the cells of a rectangle that can carry dirt. */
static void dirt(gen_grid *g, double x0, double y0, double x1, double y1, int level)
{
    int c0 = (int)(x0 / g->mm), c1 = (int)(x1 / g->mm), r0 = (int)(y0 / g->mm), r1 = (int)(y1 / g->mm);
    if (c0 < 0) c0 = 0;
    if (r0 < 0) r0 = 0;
    if (c1 > g->cols) c1 = g->cols;
    if (r1 > g->rows) r1 = g->rows;
    for (int r = r0; r < r1; r++)
        for (int c = c0; c < c1; c++) {
            uint8_t *p = &g->cell[(size_t)r * g->cols + c];
            facade_surface s = FACADE_CELL_SURFACE(*p);
            if (s == FACADE_GLASS || s == FACADE_TILE || s == FACADE_CONCRETE)
                *p = FACADE_CELL(s, level);
        }
}

/* Horizontal lines every PITCH mm (phase PHASE) of width WIDTH across the grid. */
static void hlines(gen_grid *g, double pitch, double phase, double width, facade_surface s)
{
    double H = g->rows * g->mm;
    for (double y = phase; y < H; y += pitch) fill(g, 0, y, g->cols * g->mm, y + width, s);
}

/* A multiple of STEP in [lo, hi]. */
static double pick(robotsim_rng *r, double lo, double hi, double step)
{
    return lo + step * below(r, (unsigned)floor((hi - lo) / step) + 1);
}

static void gen_curtain(gen_grid *g, robotsim_rng *r, double x0, double y0, double x1, double y1)
{
    fill(g, x0, y0, x1, y1, FACADE_GLASS);
    double pw = pick(r, 1000, 2000, 250), ph = pick(r, 1500, 3000, 250);
    double mw = below(r, 2) ? 100 : 50;
    double px = pick(r, 0, pw - 50, 50), py = pick(r, 0, ph - 50, 50);
    for (double x = x0 + px; x < x1; x += pw) fill(g, x, y0, x + mw, y1, FACADE_MULLION);
    for (double y = y0 + py; y < y1; y += ph) fill(g, x0, y, x1, y + mw, FACADE_MULLION);
}

static void gen_tiles(gen_grid *g, robotsim_rng *r)
{
    fill(g, 0, 0, g->cols * g->mm, g->rows * g->mm, FACADE_TILE);
    /* courses of 400 or 800 mm: the B feet, 800 mm apart, can both stand
     * inside a tile (on the shipped tiled.txt, 325 mm courses, the robot
     * stands only in narrow spots where cups straddle a joint's edge) */
    double j = 25, tw = 400.0 * (1 + below(r, 3)) - j, th = 400.0 * (1 + below(r, 2)) - j;
    int bond = below(r, 10) < 6;
    double py = pick(r, 0, th, 25), px = pick(r, 0, tw, 25);
    hlines(g, th + j, py, j, FACADE_JOINT);
    double H = g->rows * g->mm;
    int course = 0;
    for (double y = py - (th + j); y < H; y += th + j, course++) {
        double off = bond && (course & 1) ? 0.5 * (tw + j) : 0.0;
        for (double x = px + off - 2 * (tw + j); x < g->cols * g->mm; x += tw + j)
            fill(g, x, y + j, x + j, y + j + th, FACADE_JOINT);
    }
}

static void gen_concrete(gen_grid *g, robotsim_rng *r, double x0, double y0, double x1, double y1)
{
    fill(g, x0, y0, x1, y1, FACADE_CONCRETE);
    double pw = pick(r, 1500, 3000, 250), ph = pick(r, 1500, 3000, 250);
    double px = pick(r, 0, pw - 50, 50), py = pick(r, 0, ph - 50, 50);
    /* windows first, joints over them */
    for (double y = y0 + py - ph; y < y1; y += ph)
        for (double x = x0 + px - pw; x < x1; x += pw) {
            if (below(r, 2)) continue;
            double ww = pick(r, 0.4 * pw, 0.7 * pw, 50), wh = pick(r, 0.4 * ph, 0.7 * ph, 50);
            double wx = x + 0.5 * (pw - ww), wy = y + 0.5 * (ph - wh);
            double fx0 = wx > x0 ? wx : x0, fy0 = wy > y0 ? wy : y0;
            double fx1 = wx + ww < x1 ? wx + ww : x1, fy1 = wy + wh < y1 ? wy + wh : y1;
            if (fx1 <= fx0 || fy1 <= fy0) continue;
            fill(g, fx0, fy0, fx1, fy1, FACADE_MULLION);
            fill(g, fx0 + 50, fy0 + 50, fx1 - 50, fy1 - 50, FACADE_GLASS);
        }
    for (double x = x0 + px; x < x1; x += pw) fill(g, x, y0, x + 50, y1, FACADE_JOINT);
    for (double y = y0 + py; y < y1; y += ph) fill(g, x0, y, x1, y + 50, FACADE_JOINT);
}

/* The legend character of a cell byte (docs: generated facades). */
static char cell_char(uint8_t c)
{
    static const char *const dirty[3] = {".:;!", "tuvw", "cdef"};
    facade_surface s = FACADE_CELL_SURFACE(c);
    int d = FACADE_CELL_DIRT(c);
    switch (s) {
    case FACADE_GLASS: return dirty[0][d];
    case FACADE_TILE: return dirty[1][d];
    case FACADE_CONCRETE: return dirty[2][d];
    case FACADE_JOINT: return 'j';
    case FACADE_MULLION: return 'm';
    case FACADE_OBSTACLE: return '#';
    default: return '~';
    }
}

int ep_facade_generate(uint64_t seed, facade **out, char *err, size_t errlen)
{
    if (!out) return EP_EARG;
    *out = NULL;
    robotsim_rng r;
    robotsim_rng_seed(&r, seed, STREAM_FACADE);
    int kind = (int)below(&r, 4); /* curtain wall, tiles, concrete, mixed */
    gen_grid g = {.mm = kind == 1 ? 25.0 : 50.0};
    double W = pick(&r, 5000, 9000, 500), H = pick(&r, 4000, 8000, 500);
    g.cols = (int)(W / g.mm);
    g.rows = (int)(H / g.mm);
    g.cell = calloc((size_t)g.cols * g.rows, 1);
    if (!g.cell) return EP_ENOMEM;
    static const char *const kinds[4] = {"curtain", "tiles", "concrete", "mixed"};
    switch (kind) {
    case 0: gen_curtain(&g, &r, 0, 0, W, H); break;
    case 1: gen_tiles(&g, &r); break;
    case 2: gen_concrete(&g, &r, 0, 0, W, H); break;
    default: {
        /* concrete with a band of curtain wall */
        double y0 = pick(&r, 0, 0.5 * H, 250), y1 = y0 + pick(&r, 1500, 0.5 * H, 250);
        gen_concrete(&g, &r, 0, 0, W, H);
        gen_curtain(&g, &r, 0, y0, W, y1 < H ? y1 : H);
        break;
    }
    }
    /* dirt: a band at the bottom and patches */
    if (below(&r, 2)) dirt(&g, 0, 0, W, pick(&r, 500, 2000, 250), 1 + (int)below(&r, 3));
    for (int n = (int)below(&r, 4); n > 0; n--) {
        double x = uni(&r, 0, W), y = uni(&r, 0, H);
        dirt(&g, x, y, x + uni(&r, 300, 2000), y + uni(&r, 300, 2000), 1 + (int)below(&r, 3));
    }
    /* obstacles: vents, signs, brackets */
    for (int n = (int)below(&r, 6); n > 0; n--) {
        double x = uni(&r, 0, W), y = uni(&r, 0, H);
        fill(&g, x, y, x + pick(&r, 100, 800, 50), y + pick(&r, 100, 600, 50), FACADE_OBSTACLE);
    }
    /* sometimes an edge or an opening */
    switch (below(&r, 6)) {
    case 0: { double h = pick(&r, 300, 1500, 50); fill(&g, 0, H - h, W, H, FACADE_VOID); break; }
    case 1: { double w = pick(&r, 300, 1200, 50); fill(&g, W - w, 0, W, H, FACADE_VOID); break; }
    case 2: { double w = pick(&r, 300, 1200, 50); fill(&g, 0, 0, w, H, FACADE_VOID); break; }
    case 3: {
        double x = uni(&r, 0.2 * W, 0.7 * W), y = uni(&r, 0.2 * H, 0.7 * H);
        fill(&g, x, y, x + pick(&r, 600, 1500, 50), y + pick(&r, 600, 1500, 50), FACADE_VOID);
        break;
    }
    default: break;
    }

    /* As text in the facade format: header, legend, rows top first. */
    size_t cap = 1024 + (size_t)(g.cols + 1) * g.rows;
    char *txt = malloc(cap);
    if (!txt) {
        free(g.cell);
        return EP_ENOMEM;
    }
    int n = snprintf(txt, cap,
                     "# generated by crossclimb fusion dataset: %s, seed %llu\n"
                     "facade gen-%016llx\ncell_mm %d\nsize %d %d\n"
                     "legend . glass\nlegend : glass dirt 1\nlegend ; glass dirt 2\n"
                     "legend ! glass dirt 3\nlegend t tile\nlegend u tile dirt 1\n"
                     "legend v tile dirt 2\nlegend w tile dirt 3\nlegend c concrete\n"
                     "legend d concrete dirt 1\nlegend e concrete dirt 2\n"
                     "legend f concrete dirt 3\nlegend j joint\nlegend m mullion\n"
                     "legend # obstacle\nlegend ~ void\ngrid\n",
                     kinds[kind], (unsigned long long)seed, (unsigned long long)seed, (int)g.mm,
                     g.cols, g.rows);
    size_t len = (size_t)n;
    for (int row = g.rows - 1; row >= 0; row--) {
        for (int c = 0; c < g.cols; c++) txt[len++] = cell_char(g.cell[(size_t)row * g.cols + c]);
        txt[len++] = '\n';
    }
    free(g.cell);
    char name[48];
    snprintf(name, sizeof name, "gen-%016llx", (unsigned long long)seed);
    int rc = facade_load_buffer(name, txt, len, out, err, errlen);
    free(txt);
    return rc == 0 ? 0 : rc == FACADE_ENOMEM ? EP_ENOMEM : EP_EPHYS;
}
