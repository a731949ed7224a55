/*
 * holding.c — the holding model.  See holding.h for the formulas.
 */
#include "holding.h"

#include <math.h>
#include <string.h>

const char *hold_strerror(int code)
{
    switch (code) {
    case HOLD_OK: return "ok";
    case HOLD_EARG: return "bad argument";
    case HOLD_ESENSOR: return "implausible cup reading";
    default: return "unknown holding error";
    }
}

const char *hold_group_name(hold_group g)
{
    static const char *const names[HOLD_GROUP_COUNT] = {"A", "B"};
    return (unsigned)g < HOLD_GROUP_COUNT ? names[g] : "?";
}

hold_group hold_other(hold_group g)
{
    return g == HOLD_GROUP_A ? HOLD_GROUP_B : HOLD_GROUP_A;
}

static const hold_group_io group_io[HOLD_GROUP_COUNT] = {
    {CC_Y_A_DOWN, CC_Y_A_VAC, CC_Y_A_BLOW, CC_X_A_UP, CC_X_A_DOWN, CC_X_A_VAC_OK, 0},
    {CC_Y_B_DOWN, CC_Y_B_VAC, CC_Y_B_BLOW, CC_X_B_UP, CC_X_B_DOWN, CC_X_B_VAC_OK, 6},
};

const hold_group_io *hold_io(hold_group g)
{
    return &group_io[(unsigned)g < HOLD_GROUP_COUNT ? g : HOLD_GROUP_A];
}

static float margin(double num, double den)
{
    if (num <= 0.0) return 0.0f;
    if (den <= 0.0) return HOLD_MARGIN_MAX;
    double m = num / den;
    return m > (double)HOLD_MARGIN_MAX ? HOLD_MARGIN_MAX : (float)m;
}

/* mu of cup i: the map's for this foothold when known, else the load's */
static double cup_mu_of(const hold_load *load, unsigned i)
{
    if (load->cup_mu && isfinite(load->cup_mu[i]) && load->cup_mu[i] >= 0.0f) return (double)load->cup_mu[i];
    return (double)load->mu;
}

int hold_eval(const params_robot *p, hold_group g, const float cup_kpa[PARAMS_CUPS_PER_GROUP],
              const hold_load *load, hold_result *r)
{
    int rc = HOLD_OK;
    if (!p || !cup_kpa || !load || !r || (unsigned)g >= HOLD_GROUP_COUNT) return HOLD_EARG;
    memset(r, 0, sizeof *r);

    const double area_m2 = params_cup_area_m2(p);
    const double r_cup_mm = 0.5 * (double)p->cup_diameter_mm;
    double xy[PARAMS_CUPS_PER_GROUP][2];
    double y_edge_mm = INFINITY;
    for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
        params_cup_xy_mm(p, (unsigned)g, i, xy[i]);
        if (xy[i][1] - r_cup_mm < y_edge_mm) y_edge_mm = xy[i][1] - r_cup_mm;
    }

    /* cup centroid c of the group (body frame, mm) */
    double cen_mm[2] = {0.0, 0.0};
    for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
        cen_mm[0] += xy[i][0] / PARAMS_CUPS_PER_GROUP;
        cen_mm[1] += xy[i][1] / PARAMS_CUPS_PER_GROUP;
    }
    const double r_min_mm = (double)p->cup_diameter_mm / 3.0; /* d/3: a disc's friction radius */

    double sum_f_n = 0.0, restore_nm = 0.0;
    float min_kpa = INFINITY;
    for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
        float kpa = cup_kpa[i];
        if (!(kpa >= 0.0f && kpa <= p->vac_plausible_max_kpa)) {
            rc = HOLD_ESENSOR; /* keep going so the caller sees the other cups */
            kpa = 0.0f;
        }
        if (kpa < min_kpa) min_kpa = kpa;
        double f_n = (double)kpa * 1e3 * area_m2; /* F_i = dp_i * A */
        double lever_mm = xy[i][1] - y_edge_mm;   /* l_i = y_i - y_e */
        r->cup_force_n[i] = (float)f_n;
        r->cup_lever_mm[i] = (float)lever_mm;
        sum_f_n += f_n;
        restore_nm += f_n * lever_mm * 1e-3;
    }
    double pull_n = load->pull_n > 0.0f ? (double)load->pull_n : 0.0;
    double weight_n = (double)load->mass_kg * (double)p->gravity_m_s2;
    double net_n = sum_f_n - pull_n;
    double shear_n = weight_n + (load->shear_extra_n > 0.0f ? (double)load->shear_extra_n : 0.0);
    double friction_n = net_n > 0.0 ? (double)load->mu * net_n : 0.0;
    if (load->cup_mu && net_n > 0.0) { /* per cup: sum mu_i N_i */
        friction_n = 0.0;
        for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
            double n_i = (double)r->cup_force_n[i] - pull_n / PARAMS_CUPS_PER_GROUP;
            if (n_i > 0.0) friction_n += cup_mu_of(load, i) * n_i;
        }
    }
    /* twist: T [N m] = |dx| [m] * S [N] against mu * sum N_i r_i [N m],
     * N_i = max(F_i - P/6, 0), r_i = max(|p_i - c|, d/3) [m] */
    double cap_nm = 0.0;
    for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
        double n_i = (double)r->cup_force_n[i] - pull_n / PARAMS_CUPS_PER_GROUP;
        if (n_i < 0.0) n_i = 0.0;
        double r_mm = hypot(xy[i][0] - cen_mm[0], xy[i][1] - cen_mm[1]);
        if (r_mm < r_min_mm) r_mm = r_min_mm;
        cap_nm += cup_mu_of(load, i) * n_i * r_mm * 1e-3;
    }
    double arm_mm = load->twist_arm_mm > 0.0f ? (double)load->twist_arm_mm : 0.0;
    double twist_nm = arm_mm * 1e-3 * shear_n;
    /* slip = 1 / (S / mu N + T / cap): the shear and the twist share the friction */
    double use = 0.0;
    if (shear_n > 0.0) use += friction_n > 0.0 ? shear_n / friction_n : INFINITY;
    if (twist_nm > 0.0) use += cap_nm > 0.0 ? twist_nm / cap_nm : INFINITY;
    double lever_c_mm = 0.0 - y_edge_mm; /* group centre above the edge */
    double overturn_nm =
        weight_n * (double)p->com_height_mm * 1e-3 + pull_n * lever_c_mm * 1e-3;

    r->normal_n = (float)sum_f_n;
    r->net_normal_n = (float)net_n;
    r->friction_n = (float)friction_n;
    r->shear_n = (float)shear_n;
    r->twist_nm = (float)twist_nm;
    r->twist_cap_nm = (float)cap_nm;
    r->slip_margin = friction_n <= 0.0 ? 0.0f : margin(1.0, use);
    r->restore_nm = (float)restore_nm;
    r->overturn_nm = (float)overturn_nm;
    /* pulled off outright (N <= 0): no peel margin either */
    r->peel_margin = net_n > 0.0 ? margin(restore_nm, overturn_nm) : 0.0f;
    r->safety_factor = r->slip_margin < r->peel_margin ? r->slip_margin : r->peel_margin;
    r->min_cup_kpa = min_kpa;
    if (rc) r->safety_factor = 0.0f;
    return rc;
}

void hold_load_for(const params_robot *p, const cc_status *st, hold_load *load)
{
    int wet = p->assume_wet || (st && (st->y & CC_Y_SPRAY));
    load->mass_kg = p->mass_kg;
    load->mu = wet ? p->mu_wet : p->mu_dry;
    /* the brush's reaction pulls the robot off while it runs (D103 Y12):
     * the mission plans clean moves with it, the check must count it too */
    load->pull_n = st && (st->y & CC_Y_BRUSH) ? p->brush_reaction_n : 0.0f;
    load->shear_extra_n = 0.0f;
    load->twist_arm_mm = 0.0f;
    load->cup_mu = NULL;
}

/* x of the centre of mass minus x of group g's cup centroid, mm, with the X
 * cylinder at s_mm (carriage frame: body A at S_x/2 - s, body B at 0, the
 * rest of the mass at 0). */
static double twist_dx_mm(const params_robot *p, hold_group g, double s_mm)
{
    const double m = (double)p->mass_kg, ma = (double)p->body_a_kg;
    const double half = 0.5 * (double)p->stroke_x_mm;
    const double body_a_x = half - s_mm;
    const double x_cog = m > 0.0 ? ma * body_a_x / m : 0.0;
    double cen_x = 0.0;
    for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++) {
        double xy[2];
        params_cup_xy_mm(p, (unsigned)g, i, xy);
        cen_x += xy[0] / PARAMS_CUPS_PER_GROUP;
    }
    const double body_x = g == HOLD_GROUP_A ? body_a_x : 0.0;
    return x_cog - (body_x + cen_x);
}

float hold_twist_arm_mm(const params_robot *p, const cc_status *st, hold_group g)
{
    if (!p || (unsigned)g >= HOLD_GROUP_COUNT) return 0.0f;
    const double stroke = (double)p->stroke_x_mm, tol = (double)p->pos_tol_mm;
    double lo = 0.0, hi = stroke; /* unknown: anywhere on the stroke */
    if (st && st->pos_valid[0] && isfinite(st->pos_mm[0])) {
        lo = (double)st->pos_mm[0] - tol;
        hi = (double)st->pos_mm[0] + tol;
    } else if (st && (st->x & CC_X_XCYL_MINUS_END) && !(st->x & CC_X_XCYL_PLUS_END)) {
        lo = -tol;
        hi = tol;
    } else if (st && (st->x & CC_X_XCYL_PLUS_END) && !(st->x & CC_X_XCYL_MINUS_END)) {
        lo = stroke - tol;
        hi = stroke + tol;
    }
    if (lo < 0.0) lo = 0.0;
    if (hi > stroke) hi = stroke;
    if (hi < lo) lo = hi = lo > stroke ? stroke : lo;
    /* dx is linear in s: the largest |dx| is at an end of the interval */
    double a = fabs(twist_dx_mm(p, g, lo)), b = fabs(twist_dx_mm(p, g, hi));
    return (float)(a > b ? a : b);
}

void hold_load_for_group(const params_robot *p, const cc_status *st, hold_group g, hold_load *load)
{
    hold_load_for(p, st, load);
    load->twist_arm_mm = hold_twist_arm_mm(p, st, g);
}

int hold_group_grips(const cc_status *st, hold_group g)
{
    const hold_group_io *io = hold_io(g);
    return (st->x & io->x_vac_ok) && (st->x & io->x_down);
}

int hold_group_verified(const params_robot *p, const cc_status *st, hold_group g, hold_result *r)
{
    return hold_group_verified_fr(p, NULL, st, g, r);
}

void hold_friction_clear(hold_friction *fr)
{
    if (fr) memset(fr, 0, sizeof *fr);
}

int hold_friction_set(hold_friction *fr, hold_group g, const float mu[PARAMS_CUPS_PER_GROUP])
{
    if (!fr || (unsigned)g >= HOLD_GROUP_COUNT) return HOLD_EARG;
    if (!mu) {
        fr->known[g] = 0;
        return HOLD_OK;
    }
    for (unsigned i = 0; i < PARAMS_CUPS_PER_GROUP; i++)
        if (!(isfinite(mu[i]) && mu[i] >= 0.0f && mu[i] <= 2.0f)) return HOLD_EARG;
    memcpy(fr->mu[g], mu, sizeof fr->mu[g]);
    fr->known[g] = 1;
    return HOLD_OK;
}

int hold_group_verified_fr(const params_robot *p, const hold_friction *fr, const cc_status *st,
                           hold_group g, hold_result *r)
{
    hold_result local;
    hold_load load;
    hold_result *res = r ? r : &local;
    const hold_group_io *io = hold_io(g);

    hold_load_for_group(p, st, g, &load);
    if (fr && fr->known[g]) load.cup_mu = fr->mu[g];
    int rc = hold_eval(p, g, &st->cup_kpa[io->cup_first], &load, res);
    if (rc) return 0;
    if (!(st->x & io->x_vac_ok) || !(st->x & io->x_down) || (st->x & io->x_up)) return 0;
    if (!(res->min_cup_kpa >= p->vac_sealed_kpa)) return 0;
    return res->safety_factor >= p->safety_factor_required;
}
