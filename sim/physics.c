/*
 * physics.c — the robot's physics, one fixed step at a time.
 *
 * Order inside a step (dt <= 1 ms): legs, cylinders (frame kinematics),
 * vacuum (manifolds, then cups), water, brush coverage, then the holding
 * check on the new state.  Each part reads the valves as they are
 * (phys_valves: the PLC's image ps->y with stuck-valve faults) and the
 * environment ps->env.  The equations and their derivations are in
 * docs/simulator.md; the comments here say which one is which.
 */
#include "physics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plc_bridge/regmap.h"

#define PI 3.14159265358979323846

const char *phys_strerror(int code)
{
    switch (code) {
    case PHYS_OK: return "ok";
    case PHYS_EARG: return "invalid physics setup";
    case PHYS_ENOMEM: return "out of memory";
    default: return "unknown physics error";
    }
}

const char *phys_fall_name(phys_fall f)
{
    static const char *const n[PHYS_FALL_COUNT] = {"none", "no_contact", "pull_off", "slip",
                                                   "peel"};
    return (unsigned)f < PHYS_FALL_COUNT ? n[f] : "?";
}

const char *phys_cyl_state_name(phys_cyl_state s)
{
    static const char *const n[PHYS_CYL_STATE_COUNT] = {"stopped", "moving", "cushion",
                                                        "stalled"};
    return (unsigned)s < PHYS_CYL_STATE_COUNT ? n[s] : "?";
}

const char *phys_stall_name(phys_stall s)
{
    static const char *const n[PHYS_STALL_COUNT] = {"none",     "both_grip", "free",
                                                    "obstacle", "pressure",  "fault"};
    return (unsigned)s < PHYS_STALL_COUNT ? n[s] : "?";
}

const char *phys_leg_state_name(phys_leg_state s)
{
    static const char *const n[PHYS_LEG_STATE_COUNT] = {"up", "moving", "down", "held"};
    return (unsigned)s < PHYS_LEG_STATE_COUNT ? n[s] : "?";
}

/* ----------------------------------------------------------- geometry */

void phys_carriage_m(const phys_state *ps, double xy[2])
{
    /* The carriage sits cyl_pos - stroke/2 from the X body's centre along x. */
    xy[0] = ps->body_m[PHYS_GROUP_A][0] + ps->cyl_pos_m[PHYS_CYL_X] - 0.5 * ps->cfg->stroke_m[0];
    xy[1] = ps->body_m[PHYS_GROUP_A][1];
}

void phys_cup_m(const phys_state *ps, int i, double xy[2])
{
    int g = i / PHYS_CUPS_PER_GROUP;
    xy[0] = ps->body_m[g][0] + ps->cup_off_m[i][0];
    xy[1] = ps->body_m[g][1] + ps->cup_off_m[i][1];
}

/* Keep the free group's body where the cylinders put it relative to the
 * fixed one:  B - A = (sx - Sx/2, Sy/2 - sy)  (docs/simulator.md, "Frame"). */
static void place_from(phys_state *ps, phys_group fixed)
{
    double dx = ps->cyl_pos_m[PHYS_CYL_X] - 0.5 * ps->cfg->stroke_m[0];
    double dy = 0.5 * ps->cfg->stroke_m[1] - ps->cyl_pos_m[PHYS_CYL_Y];
    if (fixed == PHYS_GROUP_A) {
        ps->body_m[PHYS_GROUP_B][0] = ps->body_m[PHYS_GROUP_A][0] + dx;
        ps->body_m[PHYS_GROUP_B][1] = ps->body_m[PHYS_GROUP_A][1] + dy;
    } else {
        ps->body_m[PHYS_GROUP_A][0] = ps->body_m[PHYS_GROUP_B][0] - dx;
        ps->body_m[PHYS_GROUP_A][1] = ps->body_m[PHYS_GROUP_B][1] - dy;
    }
}

double phys_mass_kg(const phys_state *ps)
{
    return ps->cfg->mass_dry_kg + ps->water_kg;
}

double phys_wind_force_n(const phys_state *ps)
{
    const robotcfg *c = ps->cfg;
    double v = ps->env.wind_m_s;
    return 0.5 * c->air_density_kg_m3 * v * v * c->wind_cd * c->wind_area_m2;
}

/* Centre of mass in the facade plane: bodies at their centres, the rest
 * (carriage, tank, water, brush) at the carriage. */
static void cog_m(const phys_state *ps, double xy[2])
{
    const robotcfg *c = ps->cfg;
    double m = phys_mass_kg(ps), mc = m - c->body_a_kg - c->body_b_kg, car[2];
    phys_carriage_m(ps, car);
    for (int k = 0; k < 2; k++)
        xy[k] = (c->body_a_kg * ps->body_m[PHYS_GROUP_A][k] +
                 c->body_b_kg * ps->body_m[PHYS_GROUP_B][k] + mc * car[k]) /
                m;
}

/* Supply pressure factor for cylinders and legs: 0 at supply_min, 1 at
 * nominal, linear, capped at 1.5. */
static double pressure_factor(const phys_state *ps)
{
    const robotcfg *c = ps->cfg;
    double f = (ps->env.supply_pa - c->supply_min_pa) / (c->supply_nominal_pa - c->supply_min_pa);
    return f < 0.0 ? 0.0 : f > 1.5 ? 1.5 : f;
}

/* ------------------------------------------------------------- init */

void phys_start_default(phys_start *st, const robotcfg *cfg, const facade *fac)
{
    memset(st, 0, sizeof *st);
    st->x_mm = fac ? fac->start_x_mm : 0.0;
    st->y_mm = fac ? fac->start_y_mm : 0.0;
    for (int a = 0; a < PHYS_CYL_COUNT; a++) st->cyl_mm[a] = 0.5 * cfg->stroke_m[a] * 1e3;
    for (int g = 0; g < PHYS_GROUP_COUNT; g++) {
        st->legs_down[g] = 1;
        st->vac_kpa[g] = cfg->vac_nominal_pa / 1e3;
    }
    st->water_kg = cfg->water_start_kg;
}

/* A group's cups meet the facade: what is under each decides whether it
 * touches, how much it leaks and how well it grips (docs: "Cups"). */
static void touch_down(phys_state *ps, phys_group g)
{
    const robotcfg *c = ps->cfg;
    ps->geo_valid = 0;
    for (int i = (int)g * PHYS_CUPS_PER_GROUP; i < ((int)g + 1) * PHYS_CUPS_PER_GROUP; i++) {
        double p[2];
        facade_cover cv;
        phys_cup_m(ps, i, p);
        facade_cup_cover(ps->fac, p[0] * 1e3, p[1] * 1e3, c->cup_diameter_m * 1e3, &cv);
        double wall = 1.0 - cv.frac[FACADE_VOID] - cv.frac[FACADE_OBSTACLE];
        double leak = cv.dirt_mean * c->leak_dirt_per_s, mud = 0.0, muw = 0.0;
        for (int s = 0; s < FACADE_SURF_COUNT; s++) {
            leak += cv.frac[s] * c->leak_per_s[s];
            mud += cv.frac[s] * c->mu_dry[s];
            muw += cv.frac[s] * c->mu_wet[s];
        }
        ps->cup_touch[i] = wall >= c->contact_min;
        if (ps->cup_touch[i]) {
            /* friction of the part on the wall, dirt lowering it */
            double dirt = cv.dirt_mean / wall;
            double k = 1.0 - c->mu_dirt_factor * dirt;
            ps->cup_mu_dry[i] = mud / wall * k;
            ps->cup_mu_wet[i] = muw / wall * k;
        } else {
            ps->cup_mu_dry[i] = ps->cup_mu_wet[i] = 0.0;
        }
        ps->cup_leak_per_s[i] = leak;
        ps->vac_pa[i] = 0.0; /* the cup lands at atmospheric pressure */
        ps->force_n[i] = 0.0;
    }
}

static void lift_off(phys_state *ps, phys_group g)
{
    ps->geo_valid = 0;
    for (int i = (int)g * PHYS_CUPS_PER_GROUP; i < ((int)g + 1) * PHYS_CUPS_PER_GROUP; i++) {
        ps->cup_touch[i] = 0;
        ps->vac_pa[i] = 0.0; /* a lifted cup is open to the air */
        ps->force_n[i] = 0.0;
    }
}

static int group_touches(const phys_state *ps, phys_group g)
{
    for (int i = (int)g * PHYS_CUPS_PER_GROUP; i < ((int)g + 1) * PHYS_CUPS_PER_GROUP; i++)
        if (ps->cup_touch[i]) return 1;
    return 0;
}

int phys_init(phys_state *ps, const robotcfg *cfg, const facade *fac, const phys_start *start,
              char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!ps || !cfg || !fac) return PHYS_EARG;
    memset(ps, 0, sizeof *ps);
    phys_start st;
    if (start)
        st = *start;
    else
        phys_start_default(&st, cfg, fac);
    for (int a = 0; a < PHYS_CYL_COUNT; a++) {
        if (!(st.cyl_mm[a] >= 0.0 && st.cyl_mm[a] <= cfg->stroke_m[a] * 1e3)) {
            if (err && errlen)
                snprintf(err, errlen, "start: %c cylinder at %g mm is outside its stroke 0..%g mm",
                         a ? 'Y' : 'X', st.cyl_mm[a], cfg->stroke_m[a] * 1e3);
            return PHYS_EARG;
        }
    }
    if (!isfinite(st.x_mm) || !isfinite(st.y_mm) || cfg->step_us < 1 || cfg->step_us > 1000 ||
        !(st.water_kg >= 0.0 && st.water_kg <= cfg->tank_kg)) {
        if (err && errlen) snprintf(err, errlen, "start: bad position, step or water");
        return PHYS_EARG;
    }
    ps->cfg = cfg;
    ps->fac = fac;
    ps->env.wind_m_s = cfg->wind_m_s;
    ps->env.supply_pa = cfg->supply_pa;
    ps->env.tether_n = cfg->tether_nominal_n;
    ps->env.estop_ok = 1;
    ps->env.enable_key = 1;
    ps->cup_area_m2 = robotcfg_cup_area_m2(cfg);
    ps->wind_dir[0] = cos(cfg->wind_dir_rad);
    ps->wind_dir[1] = sin(cfg->wind_dir_rad);

    for (int g = 0; g < PHYS_GROUP_COUNT; g++)
        for (int f = 0; f < ROBOTCFG_FEET; f++)
            for (int k = 0; k < ROBOTCFG_CUPS_PER_FOOT; k++) {
                int i = g * PHYS_CUPS_PER_GROUP + f * ROBOTCFG_CUPS_PER_FOOT + k;
                double ang = cfg->cup_tri_angle_rad + k * (2.0 * PI / 3.0);
                ps->cup_off_m[i][0] = cfg->foot_m[g][f][0] + cfg->cup_tri_radius_m * cos(ang);
                ps->cup_off_m[i][1] = cfg->foot_m[g][f][1] + cfg->cup_tri_radius_m * sin(ang);
            }

    /* place the cross: carriage at the start point */
    double car[2] = {st.x_mm * 1e-3, st.y_mm * 1e-3};
    ps->cyl_pos_m[PHYS_CYL_X] = st.cyl_mm[PHYS_CYL_X] * 1e-3;
    ps->cyl_pos_m[PHYS_CYL_Y] = st.cyl_mm[PHYS_CYL_Y] * 1e-3;
    ps->body_m[PHYS_GROUP_A][0] = car[0] - (ps->cyl_pos_m[PHYS_CYL_X] - 0.5 * cfg->stroke_m[0]);
    ps->body_m[PHYS_GROUP_A][1] = car[1];
    place_from(ps, PHYS_GROUP_A);
    ps->carriage_prev_m[0] = car[0];
    ps->carriage_prev_m[1] = car[1];

    for (int g = 0; g < PHYS_GROUP_COUNT; g++) {
        if (st.legs_down[g]) {
            ps->leg_ext_m[g] = cfg->leg_stroke_m;
            ps->leg_state[g] = PHYS_LEG_DOWN;
            ps->y |= (uint16_t)(g == PHYS_GROUP_A ? CC_Y_A_DOWN : CC_Y_B_DOWN);
            touch_down(ps, (phys_group)g);
            for (int i = (int)g * PHYS_CUPS_PER_GROUP; i < ((int)g + 1) * PHYS_CUPS_PER_GROUP; i++) {
                if (!ps->cup_touch[i]) continue;
                ps->vac_pa[i] = st.vac_kpa[g] * 1e3;
                ps->force_n[i] = ps->vac_pa[i] * ps->cup_area_m2;
            }
            ps->grips[g] = group_touches(ps, (phys_group)g);
        } else {
            ps->leg_state[g] = PHYS_LEG_UP;
        }
    }
    /* The PLC starts with every output off; the legs are kept where they were
     * placed until the first output image arrives. */
    ps->water_kg = st.water_kg;

    size_t ncells = (size_t)fac->cols * fac->rows;
    ps->cleaned = calloc(ncells ? ncells : 1, 1);
    if (!ps->cleaned) {
        if (err && errlen) snprintf(err, errlen, "out of memory for the cleaned-cell map");
        return PHYS_ENOMEM;
    }
    ps->cleanable_n = ncells - facade_count(fac, FACADE_OBSTACLE) - facade_count(fac, FACADE_VOID);

    phys_evaluate(ps, &ps->hold);
    ps->sf_min = ps->hold.factor;
    return 0;
}

void phys_free(phys_state *ps)
{
    if (!ps) return;
    free(ps->cleaned);
    ps->cleaned = NULL;
}

void phys_set_outputs(phys_state *ps, uint16_t y)
{
    ps->y = y;
}

uint16_t phys_valves(const phys_state *ps)
{
    return (uint16_t)((ps->y | ps->env.y_stuck_on) & ~ps->env.y_stuck_off);
}

/* ---------------------------------------------------------------- legs */

static double group_force_n(const phys_state *ps, phys_group g)
{
    double f = 0.0;
    for (int i = (int)g * PHYS_CUPS_PER_GROUP; i < ((int)g + 1) * PHYS_CUPS_PER_GROUP; i++) f += ps->force_n[i];
    return f;
}

/* One valve per group (Y4 / Y5: on = down; off = up, the valve's spring
 * side).  Travel at stroke / time, scaled by the supply.  A foot cannot
 * lift off while its cups hold more than the leg can pull (docs: "Legs"). */
static void legs_step(phys_state *ps, double dt_s, double pf)
{
    const robotcfg *c = ps->cfg;
    for (int g = 0; g < PHYS_GROUP_COUNT; g++) {
        uint16_t mask = (uint16_t)(g == PHYS_GROUP_A ? CC_Y_A_DOWN : CC_Y_B_DOWN);
        int was_down = ps->leg_ext_m[g] >= c->leg_stroke_m;
        int held = 0;
        if (phys_valves(ps) & mask) {
            ps->leg_ext_m[g] += c->leg_stroke_m / c->leg_down_s * pf * dt_s;
            if (ps->leg_ext_m[g] > c->leg_stroke_m) ps->leg_ext_m[g] = c->leg_stroke_m;
        } else if (was_down && group_force_n(ps, (phys_group)g) >
                                   ROBOTCFG_FEET * c->leg_lift_force_n) {
            held = 1;
        } else {
            ps->leg_ext_m[g] -= c->leg_stroke_m / c->leg_up_s * pf * dt_s;
            if (ps->leg_ext_m[g] < 0.0) ps->leg_ext_m[g] = 0.0;
        }
        int down = ps->leg_ext_m[g] >= c->leg_stroke_m;
        if (down && !was_down) touch_down(ps, (phys_group)g);
        if (!down && was_down) lift_off(ps, (phys_group)g);
        ps->grips[g] = down && group_touches(ps, (phys_group)g);
        ps->leg_state[g] = held                      ? PHYS_LEG_HELD
                           : down                    ? PHYS_LEG_DOWN
                           : ps->leg_ext_m[g] <= 0.0 ? PHYS_LEG_UP
                                                     : PHYS_LEG_MOVING;
    }
}

/* ----------------------------------------------------------- cylinders */

/* Would group g's cups, with its body at b, run into an obstacle? */
static int hits_obstacle(const phys_state *ps, phys_group g, const double b[2])
{
    double d_mm = ps->cfg->cup_diameter_m * 1e3;
    for (int i = (int)g * PHYS_CUPS_PER_GROUP; i < ((int)g + 1) * PHYS_CUPS_PER_GROUP; i++) {
        double x = (b[0] + ps->cup_off_m[i][0]) * 1e3, y = (b[1] + ps->cup_off_m[i][1]) * 1e3;
        if (facade_circle_touches(ps->fac, x, y, d_mm, FACADE_OBSTACLE)) return 1;
    }
    return 0;
}

/* Distance covered in dt_s starting dist_m from the end: full speed v
 * outside the cushion, v * cushion_factor inside it (docs: "Cylinders"). */
static double travel_m(const robotcfg *c, double dist_m, double v_m_s, double dt_s, int *cushion)
{
    double moved = 0.0, t = dt_s;
    double free_m = dist_m - c->cushion_m;
    *cushion = free_m <= 0.0;
    if (free_m > 0.0) {
        double d = v_m_s * t;
        if (d < free_m) return d;
        moved = free_m;
        t -= free_m / v_m_s;
        *cushion = 1;
    }
    double d = v_m_s * c->cushion_factor * t;
    double left = dist_m - moved;
    return moved + (d < left ? d : left);
}

/* 5/3 closed-centre valves: one solenoid moves, none or both stop.  Which
 * group moves depends on which grips (docs: "Frame"):
 *   A grips: X +  moves B +x,   Y +  moves B -y
 *   B grips: X +  moves A -x,   Y +  moves A +y
 * (+ = the carriage toward the cylinder's + end.) */
static void cylinders_step(phys_state *ps, double dt_s, double pf)
{
    const robotcfg *c = ps->cfg;
    static const uint16_t plus[PHYS_CYL_COUNT] = {CC_Y_X_PLUS, CC_Y_Y_PLUS};
    static const uint16_t minus[PHYS_CYL_COUNT] = {CC_Y_X_MINUS, CC_Y_Y_MINUS};
    for (int a = 0; a < PHYS_CYL_COUNT; a++) {
        uint16_t y = phys_valves(ps);
        int up = (y & plus[a]) != 0, dn = (y & minus[a]) != 0;
        int cmd = up && !dn ? 1 : dn && !up ? -1 : 0;
        ps->cyl_vel_m_s[a] = 0.0;
        ps->cyl_stall[a] = PHYS_STALL_NONE;
        if (cmd == 0) {
            ps->cyl_state[a] = PHYS_CYL_STOPPED;
            continue;
        }
        double dist = cmd > 0 ? c->stroke_m[a] - ps->cyl_pos_m[a] : ps->cyl_pos_m[a];
        if (dist <= 0.0) { /* resting on the end */
            ps->cyl_state[a] = PHYS_CYL_STOPPED;
            continue;
        }
        phys_stall why = PHYS_STALL_NONE;
        int ga = ps->grips[PHYS_GROUP_A], gb = ps->grips[PHYS_GROUP_B];
        if (ps->env.cyl_jammed[a]) why = PHYS_STALL_FAULT;
        else if (pf <= 0.0) why = PHYS_STALL_PRESSURE;
        else if (ga && gb) why = PHYS_STALL_BOTH_GRIP;
        else if (!ga && !gb) why = PHYS_STALL_FREE;
        if (why != PHYS_STALL_NONE) {
            ps->cyl_state[a] = PHYS_CYL_STALLED;
            ps->cyl_stall[a] = why;
            continue;
        }
        phys_group fixed = ga ? PHYS_GROUP_A : PHYS_GROUP_B;
        phys_group moving = ga ? PHYS_GROUP_B : PHYS_GROUP_A;
        /* direction the moving body goes per + of the cylinder position */
        double sign = a == PHYS_CYL_X ? (fixed == PHYS_GROUP_A ? 1.0 : -1.0)
                                      : (fixed == PHYS_GROUP_A ? -1.0 : 1.0);
        double v;
        if (a == PHYS_CYL_X) v = c->speed_side_m_s;
        else v = sign * cmd > 0 ? c->speed_up_m_s : c->speed_down_m_s; /* moving group up? */
        v *= pf;
        int cushion;
        double d = travel_m(c, dist, v, dt_s, &cushion);
        double newpos = ps->cyl_pos_m[a] + cmd * d;
        if (cmd > 0 && c->stroke_m[a] - newpos < 1e-12) newpos = c->stroke_m[a];
        if (cmd < 0 && newpos < 1e-12) newpos = 0.0;
        double b[2] = {ps->body_m[moving][0], ps->body_m[moving][1]};
        b[a] += sign * (newpos - ps->cyl_pos_m[a]);
        if (hits_obstacle(ps, moving, b)) {
            ps->cyl_state[a] = PHYS_CYL_STALLED;
            ps->cyl_stall[a] = PHYS_STALL_OBSTACLE;
            continue;
        }
        ps->cyl_vel_m_s[a] = (newpos - ps->cyl_pos_m[a]) / dt_s;
        ps->cyl_travel_m[a] += fabs(newpos - ps->cyl_pos_m[a]);
        ps->cyl_pos_m[a] = newpos;
        place_from(ps, fixed);
        ps->cyl_state[a] = cushion ? PHYS_CYL_CUSHION : PHYS_CYL_MOVING;
    }
}

/* -------------------------------------------------------------- vacuum */

/* Quasi-static manifold behind the per-cup check valves: the ejector's
 * vacuum src droops with the air flowing in from the cups whose check valve
 * is open (cup vacuum below the manifold's):
 *     p_m = src - droop * sum_open (p_m - p_i)
 *  => p_m = (src + droop * sum_open p_i) / (1 + droop * n_open),
 * solved by shrinking the open set until it is consistent. */
static double manifold_pa(const phys_state *ps, phys_group g, double src_pa)
{
    double droop = ps->cfg->ejector_droop;
    const double *p = &ps->vac_pa[g * PHYS_CUPS_PER_GROUP];
    uint8_t open[PHYS_CUPS_PER_GROUP];
    memset(open, 1, sizeof open);
    double pm = src_pa;
    for (int iter = 0; iter <= PHYS_CUPS_PER_GROUP; iter++) {
        double sum = 0.0;
        int n = 0;
        for (int k = 0; k < PHYS_CUPS_PER_GROUP; k++)
            if (open[k]) {
                sum += p[k];
                n++;
            }
        pm = (src_pa + droop * sum) / (1.0 + droop * n);
        int changed = 0;
        for (int k = 0; k < PHYS_CUPS_PER_GROUP; k++) {
            uint8_t o = p[k] < pm;
            if (o != open[k]) {
                open[k] = o;
                changed = 1;
            }
        }
        if (!changed) break;
    }
    return pm;
}

/* Per cup, over the step the linear ODE  dp/dt = a - b p  is integrated
 * exactly:  p(t+dt) = p_inf + (p - p_inf) exp(-b dt),  p_inf = a / b, with
 *   ejector on, check valve open (p < p_m):  a = p_m / tau,  b = 1/tau + k
 *   check valve closed / ejector off:        a = 0,          b = k
 *   blow-off:                                a = 0,          b = 1/tau_b + k
 * k = the cup's leak rate (surface + dirt + injected fault), 1/s. */
static void vacuum_step(phys_state *ps, double dt_s)
{
    const robotcfg *c = ps->cfg;
    double ej = ps->env.supply_pa / c->ejector_full_pa;
    if (ej > 1.0) ej = 1.0;
    if (ej < 0.0) ej = 0.0;
    for (int g = 0; g < PHYS_GROUP_COUNT; g++) {
        uint16_t vac_mask = (uint16_t)(g == PHYS_GROUP_A ? CC_Y_A_VAC : CC_Y_B_VAC);
        uint16_t blow_mask = (uint16_t)(g == PHYS_GROUP_A ? CC_Y_A_BLOW : CC_Y_B_BLOW);
        uint16_t y = phys_valves(ps);
        int blow = (y & blow_mask) != 0;
        double src = (y & vac_mask) && !blow ? c->vac_nominal_pa * ej : 0.0;
        /* blow-off pressurises the manifold; with the ejector off it vents */
        double pm = src > 0.0 ? manifold_pa(ps, (phys_group)g, src) : 0.0;
        ps->manifold_pa[g] = pm;
        for (int i = (int)g * PHYS_CUPS_PER_GROUP; i < ((int)g + 1) * PHYS_CUPS_PER_GROUP; i++) {
            if (!ps->cup_touch[i]) {
                ps->vac_pa[i] = 0.0;
                ps->force_n[i] = 0.0;
                continue;
            }
            double k = ps->cup_leak_per_s[i] + ps->env.cup_leak_per_s[i];
            double p = ps->vac_pa[i], a = 0.0, b = k;
            if (blow) {
                b = 1.0 / c->blowoff_tau_s + k;
            } else if (src > 0.0 && p < pm) {
                a = pm / c->ejector_tau_s;
                b = 1.0 / c->ejector_tau_s + k;
            }
            double pinf = b > 0.0 ? a / b : p;
            if (b != ps->exp_b[i] || dt_s != ps->exp_dt_s[i]) { /* regimes rarely change */
                ps->exp_b[i] = b;
                ps->exp_dt_s[i] = dt_s;
                ps->exp_val[i] = exp(-b * dt_s);
            }
            p = pinf + (p - pinf) * ps->exp_val[i];
            if (p < 0.0) p = 0.0;
            ps->vac_pa[i] = p;
            ps->force_n[i] = p * ps->cup_area_m2;
        }
        /* the group's vacuum switch sits on the manifold, with hysteresis */
        if (pm >= c->vac_sealed_pa) ps->vac_switch[g] = 1;
        else if (pm < c->vac_sealed_pa - c->vac_switch_hyst_pa) ps->vac_switch[g] = 0;
    }
}

/* ----------------------------------------------------- water and brush */

static void water_step(phys_state *ps, double dt_s)
{
    const robotcfg *c = ps->cfg;
    if ((phys_valves(ps) & CC_Y_SPRAY) && ps->water_kg > 0.0) {
        ps->water_kg -= c->drain_kg_s * dt_s;
        if (ps->water_kg < 0.0) ps->water_kg = 0.0;
        ps->wet_left_s = c->wet_dry_s; /* sprayed now: wet, drying starts when it stops */
    } else if (ps->wet_left_s > 0.0) {
        ps->wet_left_s -= dt_s;
        if (ps->wet_left_s < 0.0) ps->wet_left_s = 0.0;
    }
}

/* Mark the cells under the disc brush (diameter brush_width) centred at the
 * carriage: a cell is cleaned when its centre lies under the brush. */
static void mark_cleaned(phys_state *ps, const double car[2])
{
    const facade *f = ps->fac;
    double cell = f->cell_mm * 1e-3, r = 0.5 * ps->cfg->brush_width_m;
    int64_t c0 = (int64_t)floor((car[0] - r) / cell), c1 = (int64_t)floor((car[0] + r) / cell);
    int64_t r0 = (int64_t)floor((car[1] - r) / cell), r1 = (int64_t)floor((car[1] + r) / cell);
    if (c0 < 0) c0 = 0;
    if (r0 < 0) r0 = 0;
    if (c1 >= (int64_t)f->cols) c1 = (int64_t)f->cols - 1;
    if (r1 >= (int64_t)f->rows) r1 = (int64_t)f->rows - 1;
    for (int64_t row = r0; row <= r1; row++) {
        double dy = ((double)row + 0.5) * cell - car[1];
        for (int64_t col = c0; col <= c1; col++) {
            double dx = ((double)col + 0.5) * cell - car[0];
            if (dx * dx + dy * dy > r * r) continue;
            size_t idx = (size_t)row * f->cols + (size_t)col;
            facade_surface s = FACADE_CELL_SURFACE(f->cells[idx]);
            if (s == FACADE_OBSTACLE || s == FACADE_VOID || ps->cleaned[idx]) continue;
            ps->cleaned[idx] = 1;
            ps->cleaned_n++;
        }
    }
}

/* The brush cleans while it turns, the spray wets (with water in the tank)
 * and the carriage moves over the facade; marks every half cell of travel. */
static void brush_step(phys_state *ps)
{
    double car[2];
    phys_carriage_m(ps, car);
    int moved = car[0] != ps->carriage_prev_m[0] || car[1] != ps->carriage_prev_m[1];
    ps->carriage_prev_m[0] = car[0];
    ps->carriage_prev_m[1] = car[1];
    uint16_t y = phys_valves(ps);
    int on = (y & CC_Y_BRUSH) && (y & CC_Y_SPRAY) && ps->water_kg > 0.0;
    if (!on) {
        ps->brush_marked = 0;
        return;
    }
    if (!moved) return;
    double half = 0.5e-3 * ps->fac->cell_mm;
    double dx = car[0] - ps->brush_last_m[0], dy = car[1] - ps->brush_last_m[1];
    if (ps->brush_marked && dx * dx + dy * dy < half * half) return;
    mark_cleaned(ps, car);
    ps->brush_last_m[0] = car[0];
    ps->brush_last_m[1] = car[1];
    ps->brush_marked = 1;
}

/* ------------------------------------------------------------- holding */

static double cross2(const double a[2], const double b[2])
{
    return a[0] * b[1] - a[1] * b[0];
}

/* Convex hull (Andrew's monotone chain), counter-clockwise, of n <= 12
 * points; returns the number of hull vertices written to h, which needs
 * room for 2n points while the chains are built. */
static int convex_hull(double pts[][2], int n, double h[][2])
{
    /* insertion sort by x, then y */
    for (int i = 1; i < n; i++) {
        double t0 = pts[i][0], t1 = pts[i][1];
        int j = i - 1;
        while (j >= 0 && (pts[j][0] > t0 || (pts[j][0] == t0 && pts[j][1] > t1))) {
            pts[j + 1][0] = pts[j][0];
            pts[j + 1][1] = pts[j][1];
            j--;
        }
        pts[j + 1][0] = t0;
        pts[j + 1][1] = t1;
    }
    if (n < 3) {
        for (int i = 0; i < n; i++) {
            h[i][0] = pts[i][0];
            h[i][1] = pts[i][1];
        }
        return n;
    }
    int k = 0;
    for (int pass = 0; pass < 2; pass++) {
        int start = k;
        for (int idx = 0; idx < n; idx++) {
            int i = pass == 0 ? idx : n - 1 - idx;
            while (k >= start + 2) {
                double u[2] = {h[k - 1][0] - h[k - 2][0], h[k - 1][1] - h[k - 2][1]};
                double v[2] = {pts[i][0] - h[k - 2][0], pts[i][1] - h[k - 2][1]};
                if (cross2(u, v) > 1e-15) break;
                k--;
            }
            h[k][0] = pts[i][0];
            h[k][1] = pts[i][1];
            k++;
        }
        k--; /* the last point starts the other chain */
    }
    return k;
}

/* The footprint of the touching cups: centroid, twist levers, support
 * lines (hull edges, the four axes) and every cup's lever about each. */
static void build_geo(const phys_state *ps, phys_geo *g)
{
    const robotcfg *c = ps->cfg;
    g->n = 0;
    g->cen_m[0] = g->cen_m[1] = 0.0;
    for (int i = 0; i < PHYS_CUPS; i++) {
        if (!ps->cup_touch[i]) continue;
        g->idx[g->n] = (uint8_t)i;
        phys_cup_m(ps, i, g->pts_m[g->n]);
        g->n++;
    }
    int n = g->n;
    for (int i = 0; i < n; i++) {
        g->cen_m[0] += g->pts_m[i][0] / n;
        g->cen_m[1] += g->pts_m[i][1] / n;
    }
    double rmin = c->cup_diameter_m / 3.0; /* a disc's own friction radius, 2R/3 */
    for (int i = 0; i < n; i++) {
        double r = hypot(g->pts_m[i][0] - g->cen_m[0], g->pts_m[i][1] - g->cen_m[1]);
        g->lever_m[i] = r > rmin ? r : rmin;
    }
    double hull[2 * PHYS_CUPS][2], tmp[PHYS_CUPS][2];
    memcpy(tmp, g->pts_m, sizeof(double) * 2 * (size_t)n);
    int nh = convex_hull(tmp, n, hull);
    g->nlines = 0;
    for (int k = 0; nh >= 3 && k < nh; k++) {
        double e[2] = {hull[(k + 1) % nh][0] - hull[k][0], hull[(k + 1) % nh][1] - hull[k][1]};
        double len = hypot(e[0], e[1]);
        if (len <= 0.0) continue;
        g->normal[g->nlines][0] = e[1] / len;
        g->normal[g->nlines][1] = -e[0] / len;
        g->nlines++;
    }
    static const double axes[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
    for (int k = 0; k < 4; k++) {
        g->normal[g->nlines][0] = axes[k][0];
        g->normal[g->nlines][1] = axes[k][1];
        g->nlines++;
    }
    double R = 0.5 * c->cup_diameter_m;
    for (int k = 0; k < g->nlines; k++) {
        const double *nv = g->normal[k];
        double cax = -INFINITY;
        for (int i = 0; i < n; i++) {
            double d = g->pts_m[i][0] * nv[0] + g->pts_m[i][1] * nv[1];
            if (d > cax) cax = d;
        }
        g->cax_m[k] = cax + R;
        for (int i = 0; i < n; i++)
            g->dist_m[k][i] = g->cax_m[k] - (g->pts_m[i][0] * nv[0] + g->pts_m[i][1] * nv[1]);
    }
}

/* Peel about one support line (normal nv, offset cax, cup levers dist):
 * updates h when it is the worst so far. */
static void peel_line(const double nv[2], double cax, const double *dist, const double *F, int n,
                      const double load[4][2], const double pull[2], phys_holding *h,
                      double *worst)
{
    /* load[0] = weight, [1] = wind shear, [2] = cog, [3] = carriage;
     * pull[0] = wind pull (at the cog), pull[1] = brush (at the carriage) */
    double mo = load[0][0] * nv[0] + load[0][1] * nv[1] + load[1][0] * nv[0] + load[1][1] * nv[1] +
                pull[0] * (cax - (load[2][0] * nv[0] + load[2][1] * nv[1])) +
                pull[1] * (cax - (load[3][0] * nv[0] + load[3][1] * nv[1]));
    if (mo <= 1e-12) return;
    double mr = 0.0;
    for (int i = 0; i < n; i++) mr += F[i] * dist[i];
    double m = mr / mo;
    if (m < *worst) {
        *worst = m;
        h->peel_moment_nm = mo;
        h->restore_nm = mr;
        h->peel_axis[0] = nv[0];
        h->peel_axis[1] = nv[1];
    }
}

void phys_evaluate(const phys_state *ps, phys_holding *h)
{
    const robotcfg *c = ps->cfg;
    memset(h, 0, sizeof *h);
    h->mass_kg = phys_mass_kg(ps);
    phys_geo local;
    const phys_geo *g = &ps->geo;
    if (!ps->geo_valid) {
        build_geo(ps, &local);
        g = &local;
    }
    int n = g->n, wet = ps->wet_left_s > 0.0;
    double F[PHYS_CUPS], mu[PHYS_CUPS];
    for (int i = 0; i < n; i++) {
        int ci = g->idx[i];
        F[i] = ps->force_n[ci];
        mu[i] = wet ? ps->cup_mu_wet[ci] : ps->cup_mu_dry[ci];
        h->normal_n += F[i];
    }
    h->n_contact = n;
    if (n == 0) {
        h->limit = PHYS_FALL_NO_CONTACT;
        return; /* every margin 0 */
    }

    /* Loads (docs: "Holding"): weight at the centre of mass, height h_cg;
     * wind drag split into shear along the facade (at the centre of mass,
     * height h_w) and a pull normal to it; brush reaction at the carriage. */
    double W = h->mass_kg * PHYS_G_M_S2;
    double Fw = phys_wind_force_n(ps);
    double Sw[2] = {Fw * c->wind_shear_frac * ps->wind_dir[0],
                    Fw * c->wind_shear_frac * ps->wind_dir[1]};
    double S[2] = {Sw[0], Sw[1] - W};
    double Pw = Fw * c->wind_pull_frac;
    double Pb = (phys_valves(ps) & CC_Y_BRUSH) ? c->brush_reaction_n : 0.0;
    double cog[2], car[2];
    cog_m(ps, cog);
    phys_carriage_m(ps, car);
    h->pull_n = Pw + Pb;
    h->shear_n = hypot(S[0], S[1]);
    h->pull_margin = h->pull_n > 0.0 ? h->normal_n / h->pull_n : PHYS_SF_MAX;

    /* Slip: each cup presses with N_i = F_i - pull/n; friction holds
     * sum mu_i N_i against the shear and, with lever |p_i - c| (at least
     * 2R/3, a disc's own friction radius), against the twist of the shear
     * about the footprint centroid c.  Linear interaction:
     *   slip margin = 1 / (S / sum mu N + T / sum mu N r). */
    for (int i = 0; i < n; i++) {
        double Ni = F[i] - h->pull_n / n;
        if (Ni < 0.0) Ni = 0.0;
        h->friction_n += mu[i] * Ni;
        h->torque_cap_nm += mu[i] * Ni * g->lever_m[i];
    }
    double arm[2] = {cog[0] - g->cen_m[0], cog[1] - g->cen_m[1]};
    h->torque_nm = fabs(cross2(arm, S));
    double u = 0.0;
    if (h->shear_n > 0.0) u += h->friction_n > 0.0 ? h->shear_n / h->friction_n : INFINITY;
    if (h->torque_nm > 1e-12)
        u += h->torque_cap_nm > 0.0 ? h->torque_nm / h->torque_cap_nm : INFINITY;
    h->slip_margin = u > 0.0 ? 1.0 / u : PHYS_SF_MAX;
    if (h->slip_margin > PHYS_SF_MAX) h->slip_margin = PHYS_SF_MAX;

    /* Peel / overturn about a support line of the footprint: the rim
     * tangent with outward normal n (at c_ax = max p_i.n + R).  Loads tip
     * the robot about it with
     *   M_o = h_cg (W.n) + h_w (S_w.n) + P_w (c_ax - cog.n) + P_b (c_ax - car.n)
     * and the cups hold it down with  M_r = sum F_i (c_ax - p_i.n).
     * Lines checked: every hull edge, the four axes, and the one facing the
     * shear load. */
    const double load[4][2] = {{0.0, -W * c->cg_height_m},
                               {Sw[0] * c->wind_height_m, Sw[1] * c->wind_height_m},
                               {cog[0], cog[1]},
                               {car[0], car[1]}};
    const double pull[2] = {Pw, Pb};
    double peel = PHYS_SF_MAX;
    for (int k = 0; k < g->nlines; k++)
        peel_line(g->normal[k], g->cax_m[k], g->dist_m[k], F, n, load, pull, h, &peel);
    if (h->shear_n > 0.0) {
        double nv[2] = {S[0] / h->shear_n, S[1] / h->shear_n}, dist[PHYS_CUPS];
        double cax = -INFINITY;
        for (int i = 0; i < n; i++) {
            double d = g->pts_m[i][0] * nv[0] + g->pts_m[i][1] * nv[1];
            if (d > cax) cax = d;
        }
        cax += 0.5 * c->cup_diameter_m;
        for (int i = 0; i < n; i++)
            dist[i] = cax - (g->pts_m[i][0] * nv[0] + g->pts_m[i][1] * nv[1]);
        peel_line(nv, cax, dist, F, n, load, pull, h, &peel);
    }
    h->peel_margin = peel;
    phys_fall peel_kind = PHYS_FALL_PEEL;
    if (h->pull_margin < h->peel_margin) {
        h->peel_margin = h->pull_margin;
        peel_kind = PHYS_FALL_PULL_OFF;
    }
    if (h->slip_margin <= h->peel_margin) {
        h->factor = h->slip_margin;
        h->limit = PHYS_FALL_SLIP;
    } else {
        h->factor = h->peel_margin;
        h->limit = peel_kind;
    }
}

/* A FALL ends the run: say why, with the numbers. */
static void record_fall(phys_state *ps)
{
    const phys_holding *h = &ps->hold;
    ps->fallen = 1;
    ps->fall = h->limit;
    ps->fall_t_us = ps->t_us;
    char *r = ps->fall_reason;
    size_t n = sizeof ps->fall_reason;
    switch (h->limit) {
    case PHYS_FALL_NO_CONTACT:
        snprintf(r, n, "no_contact: no cup touches the facade (both groups lifted or off the edge)");
        break;
    case PHYS_FALL_PULL_OFF:
        snprintf(r, n, "pull_off: %.1f N pulling off against %.1f N of vacuum force (factor %.4f)",
                 h->pull_n, h->normal_n, h->factor);
        break;
    case PHYS_FALL_SLIP:
        snprintf(r, n,
                 "slip: shear %.1f N vs friction %.1f N, twist %.2f vs %.2f N*m on %d cups "
                 "(factor %.4f)",
                 h->shear_n, h->friction_n, h->torque_nm, h->torque_cap_nm, h->n_contact,
                 h->factor);
        break;
    default:
        snprintf(r, n,
                 "peel: overturning %.2f N*m vs restoring %.2f N*m about the edge facing "
                 "(%.2f, %.2f) on %d cups (factor %.4f)",
                 h->peel_moment_nm, h->restore_nm, h->peel_axis[0], h->peel_axis[1],
                 h->n_contact, h->factor);
        break;
    }
}

/* ---------------------------------------------------------------- step */

static void step_once(phys_state *ps, uint32_t dt_us)
{
    if (ps->fallen) {
        ps->t_us += dt_us;
        return;
    }
    double dt_s = dt_us * 1e-6;
    double pf = pressure_factor(ps);
    legs_step(ps, dt_s, pf);
    cylinders_step(ps, dt_s, pf);
    vacuum_step(ps, dt_s);
    water_step(ps, dt_s);
    brush_step(ps);
    ps->t_us += dt_us;
    if (!ps->geo_valid) {
        build_geo(ps, &ps->geo);
        ps->geo_valid = 1;
    }
    phys_evaluate(ps, &ps->hold);
    if (ps->hold.factor < ps->sf_min) {
        ps->sf_min = ps->hold.factor;
        ps->sf_min_t_us = ps->t_us;
    }
    if (ps->hold.factor < 1.0) record_fall(ps);
}

void phys_step(phys_state *ps, uint32_t dt_us)
{
    uint32_t max = ps->cfg->step_us;
    while (dt_us > 0) {
        uint32_t d = dt_us < max ? dt_us : max;
        step_once(ps, d);
        dt_us -= d;
    }
}

void phys_advance_to(phys_state *ps, uint64_t t_us)
{
    while (ps->t_us < t_us) {
        uint64_t left = t_us - ps->t_us;
        step_once(ps, left < ps->cfg->step_us ? (uint32_t)left : ps->cfg->step_us);
    }
}

/* ------------------------------------------------------------- sensors */

double phys_prox_m(const phys_state *ps, facade_dir dir, double max_m)
{
    double car[2];
    phys_carriage_m(ps, car);
    double d = facade_ray_mm(ps->fac, car[0] * 1e3, car[1] * 1e3, dir, max_m * 1e3);
    return d < 0.0 ? -1.0 : d * 1e-3;
}

/* Edge sensor dir: looks at the facade edge_lookahead beyond the rim of the
 * outermost cup in that direction; on when it sees no facade (VOID). */
static int edge_seen(const phys_state *ps, facade_dir dir)
{
    const robotcfg *c = ps->cfg;
    double best = -INFINITY, at[2] = {0, 0};
    double dv[2] = {dir == FACADE_DIR_XP ? 1.0 : dir == FACADE_DIR_XM ? -1.0 : 0.0,
                    dir == FACADE_DIR_YP ? 1.0 : dir == FACADE_DIR_YM ? -1.0 : 0.0};
    for (int i = 0; i < PHYS_CUPS; i++) {
        double p[2];
        phys_cup_m(ps, i, p);
        double d = p[0] * dv[0] + p[1] * dv[1];
        if (d > best) {
            best = d;
            at[0] = p[0];
            at[1] = p[1];
        }
    }
    double reach = 0.5 * c->cup_diameter_m + c->edge_lookahead_m;
    double x = (at[0] + dv[0] * reach) * 1e3, y = (at[1] + dv[1] * reach) * 1e3;
    return FACADE_CELL_SURFACE(facade_cell_at(ps->fac, x, y)) == FACADE_VOID;
}

uint32_t phys_inputs(const phys_state *ps)
{
    const robotcfg *c = ps->cfg;
    uint32_t x = 0;
    if (ps->cyl_pos_m[PHYS_CYL_X] <= c->reed_window_m) x |= CC_X_XCYL_MINUS_END;
    if (ps->cyl_pos_m[PHYS_CYL_X] >= c->stroke_m[0] - c->reed_window_m) x |= CC_X_XCYL_PLUS_END;
    if (ps->cyl_pos_m[PHYS_CYL_Y] <= c->reed_window_m) x |= CC_X_YCYL_MINUS_END;
    if (ps->cyl_pos_m[PHYS_CYL_Y] >= c->stroke_m[1] - c->reed_window_m) x |= CC_X_YCYL_PLUS_END;
    if (ps->leg_ext_m[PHYS_GROUP_A] <= c->leg_switch_m) x |= CC_X_A_UP;
    if (ps->leg_ext_m[PHYS_GROUP_A] >= c->leg_stroke_m - c->leg_switch_m) x |= CC_X_A_DOWN;
    if (ps->leg_ext_m[PHYS_GROUP_B] <= c->leg_switch_m) x |= CC_X_B_UP;
    if (ps->leg_ext_m[PHYS_GROUP_B] >= c->leg_stroke_m - c->leg_switch_m) x |= CC_X_B_DOWN;
    if (ps->vac_switch[PHYS_GROUP_A]) x |= CC_X_A_VAC_OK;
    if (ps->vac_switch[PHYS_GROUP_B]) x |= CC_X_B_VAC_OK;
    if (ps->env.estop_ok) x |= CC_X_ESTOP_OK;
    if (ps->env.tether_n >= c->tether_min_n && ps->env.tether_n <= c->tether_max_n)
        x |= CC_X_TETHER_OK;
    if (ps->env.supply_pa >= c->supply_ok_pa) x |= CC_X_SUPPLY_OK;
    if (edge_seen(ps, FACADE_DIR_XP)) x |= CC_X_EDGE_XP;
    if (edge_seen(ps, FACADE_DIR_XM)) x |= CC_X_EDGE_XM;
    if (edge_seen(ps, FACADE_DIR_YP)) x |= CC_X_EDGE_YP;
    if (edge_seen(ps, FACADE_DIR_YM)) x |= CC_X_EDGE_YM;
    if (ps->water_kg < c->water_low_kg) x |= CC_X_WATER_LOW;
    if (ps->env.enable_key) x |= CC_X_ENABLE_KEY;
    return x;
}
