/*
 * params.c — default robot parameters and their validation.  See params.h.
 */
#include "params.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "robot/robotcfg.h"

#define PI 3.14159265358979323846

const char *params_strerror(int code)
{
    switch (code) {
    case PARAMS_OK: return "ok";
    case PARAMS_EARG: return "bad argument";
    case PARAMS_ERANGE: return "parameter out of range";
    case PARAMS_EORDER: return "parameters inconsistent";
    default: return "unknown params error";
    }
}

void params_defaults(params_robot *p)
{
    *p = (params_robot){0};
    p->stroke_x_mm = 300.0f;
    p->stroke_y_mm = 300.0f;
    p->pos_tol_mm = 3.0f;
    p->stall_progress_mm = 2.0f;
    p->stall_ticks = 100; /* 1 s without 2 mm: at 0.1 m/s a cylinder makes 100 mm */

    p->cup_diameter_mm = 100.0f;
    /* Geometry as the simulator's default robot: feet 400 mm either side of
     * the body centre along the body's axis, cups on an 80 mm circle with
     * cup a straight up (90 deg). */
    p->cup_tri_radius_mm = 80.0f;
    p->cup_tri_angle_deg = 90.0f;
    p->foot_mm[0][0][0] = -400.0f; /* A1: X body, -X end */
    p->foot_mm[0][1][0] = 400.0f;  /* A2: +X end */
    p->foot_mm[1][0][1] = -400.0f; /* B1: Y body, lower end */
    p->foot_mm[1][1][1] = 400.0f;  /* B2: upper end */

    p->vac_nominal_kpa = 60.0f;
    p->vac_sealed_kpa = 45.0f;
    p->vac_released_kpa = 10.0f;
    p->vac_plausible_max_kpa = 100.0f;
    p->vac_hyst_kpa = 1.0f;
    p->brush_reaction_n = 20.0f; /* sim/robots/default.ini [brush] reaction_n */
    p->leak_max_kpa_per_s = 2.0f; /* 60 -> 45 kPa would take 7.5 s with the pump off */

    p->mass_kg = 25.0f;
    p->tank_kg = 4.0f;
    p->body_a_kg = 5.0f; /* sim/robots/default.ini body_a_kg, body_b_kg */
    p->body_b_kg = 5.0f;
    p->com_height_mm = 120.0f;
    p->gravity_m_s2 = 9.81f;
    p->mu_dry = 0.5f;
    p->mu_wet = 0.25f;
    p->assume_wet = 1;
    p->safety_factor_required = 2.0f;

    /* Timeouts: about twice to three times the nominal time of each step. */
    p->verify_timeout_ticks = 300;  /* 3 s */
    p->release_timeout_ticks = 200; /* 2 s, nominal 0.5 s */
    p->lift_timeout_ticks = 150;    /* 1.5 s, nominal 0.3-0.5 s */
    p->move_timeout_ticks = 600;    /* 6 s, nominal 300 mm / 0.1 m/s = 3 s */
    p->lower_timeout_ticks = 150;   /* 1.5 s */
    p->grip_timeout_ticks = 300;    /* 3 s, nominal 1 s */
    p->settle_ticks = 50;           /* 0.5 s */
    p->settle_timeout_ticks = 300;  /* 3 s of windows */
    p->echo_timeout_ticks = 100;    /* 1 s: five times the 19200-baud cycle */

    p->reseat_max = 3;
    p->shift_mm = 20.0f;
    p->shift_speed_mm_s = 100.0f;

    p->period_ms = 10;
    p->link_fail_max = 3;
    /* 100 exchanges: 0.2 s on a 2 ms TCP gateway, 6 s on a 60 ms RTU wire */
    p->tick_stall_cycles = 100;
}

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int code,
                                                      const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static int in_range_u(unsigned long v, unsigned long lo, unsigned long hi)
{
    return v >= lo && v <= hi;
}

/* Range check of one float field; the name is the field's name. */
#define CHECK_F(field, lo, hi)                                                                   \
    do {                                                                                         \
        if (!(p->field >= (lo) && p->field <= (hi)))                                             \
            return fail(err, errlen, PARAMS_ERANGE, #field " %g outside %g..%g",                 \
                        (double)p->field, (double)(lo), (double)(hi));                           \
    } while (0)
#define CHECK_U(field, lo, hi)                                                                   \
    do {                                                                                         \
        if (!in_range_u((unsigned long)p->field, (lo), (hi)))                                    \
            return fail(err, errlen, PARAMS_ERANGE, #field " %lu outside %lu..%lu",              \
                        (unsigned long)p->field, (unsigned long)(lo), (unsigned long)(hi));      \
    } while (0)

int params_validate(const params_robot *p, char *err, size_t errlen)
{
    if (!p) return fail(err, errlen, PARAMS_EARG, "no parameters");
    CHECK_F(stroke_x_mm, 10.0f, 5000.0f);
    CHECK_F(stroke_y_mm, 10.0f, 5000.0f);
    CHECK_F(pos_tol_mm, 0.1f, 100.0f);
    CHECK_F(stall_progress_mm, 0.1f, 100.0f);
    CHECK_U(stall_ticks, 1u, 60000u);
    CHECK_F(cup_diameter_mm, 10.0f, 1000.0f);
    CHECK_F(cup_tri_radius_mm, 1.0f, 2000.0f);
    CHECK_F(cup_tri_angle_deg, -360.0f, 360.0f);
    for (unsigned g = 0; g < PARAMS_GROUPS; g++)
        for (unsigned f = 0; f < PARAMS_FEET; f++)
            for (unsigned k = 0; k < 2; k++)
                if (!(fabsf(p->foot_mm[g][f][k]) <= 5000.0f))
                    return fail(err, errlen, PARAMS_ERANGE, "foot_mm[%u][%u][%u] %g outside -5000..5000",
                                g, f, k, (double)p->foot_mm[g][f][k]);
    CHECK_F(vac_nominal_kpa, 1.0f, 100.0f);
    CHECK_F(vac_sealed_kpa, 0.1f, 100.0f);
    CHECK_F(vac_released_kpa, 0.0f, 100.0f);
    CHECK_F(vac_hyst_kpa, 0.0f, 20.0f);
    CHECK_F(brush_reaction_n, 0.0f, 10000.0f);
    CHECK_F(vac_plausible_max_kpa, 1.0f, 1000.0f);
    CHECK_F(leak_max_kpa_per_s, 0.0f, 100.0f);
    CHECK_F(mass_kg, 1.0f, 500.0f);
    CHECK_F(tank_kg, 0.0f, 100.0f);
    CHECK_F(body_a_kg, 0.0f, 500.0f);
    CHECK_F(body_b_kg, 0.0f, 500.0f);
    CHECK_F(com_height_mm, 0.0f, 5000.0f);
    CHECK_F(gravity_m_s2, 0.1f, 100.0f);
    CHECK_F(mu_dry, 0.01f, 2.0f);
    CHECK_F(mu_wet, 0.01f, 2.0f);
    CHECK_F(safety_factor_required, 1.0f, 100.0f);
    CHECK_U(verify_timeout_ticks, 1u, 60000u);
    CHECK_U(release_timeout_ticks, 1u, 60000u);
    CHECK_U(lift_timeout_ticks, 1u, 60000u);
    CHECK_U(move_timeout_ticks, 1u, 60000u);
    CHECK_U(lower_timeout_ticks, 1u, 60000u);
    CHECK_U(grip_timeout_ticks, 1u, 60000u);
    CHECK_U(settle_ticks, 1u, 60000u);
    CHECK_U(settle_timeout_ticks, 1u, 60000u);
    CHECK_U(echo_timeout_ticks, 1u, 60000u);
    CHECK_U(reseat_max, 0u, 20u);
    CHECK_F(shift_mm, 0.0f, 1000.0f);
    CHECK_F(shift_speed_mm_s, 1.0f, 10000.0f);
    CHECK_U(period_ms, 1u, 10000u);
    CHECK_U(link_fail_max, 1u, 1000u);
    CHECK_U(tick_stall_cycles, 2u, 100000u);
    if (!(p->vac_released_kpa < p->vac_sealed_kpa))
        return fail(err, errlen, PARAMS_EORDER, "vac_released_kpa %g >= vac_sealed_kpa %g",
                    (double)p->vac_released_kpa, (double)p->vac_sealed_kpa);
    if (!(p->vac_sealed_kpa + p->vac_hyst_kpa <= p->vac_nominal_kpa))
        return fail(err, errlen, PARAMS_EORDER, "vac_sealed_kpa %g + vac_hyst_kpa %g > vac_nominal_kpa %g",
                    (double)p->vac_sealed_kpa, (double)p->vac_hyst_kpa, (double)p->vac_nominal_kpa);
    if (!(p->vac_sealed_kpa <= p->vac_nominal_kpa))
        return fail(err, errlen, PARAMS_EORDER, "vac_sealed_kpa %g > vac_nominal_kpa %g",
                    (double)p->vac_sealed_kpa, (double)p->vac_nominal_kpa);
    if (!(p->vac_nominal_kpa <= p->vac_plausible_max_kpa))
        return fail(err, errlen, PARAMS_EORDER, "vac_nominal_kpa %g > vac_plausible_max_kpa %g",
                    (double)p->vac_nominal_kpa, (double)p->vac_plausible_max_kpa);
    if (!(p->tank_kg < p->mass_kg))
        return fail(err, errlen, PARAMS_EORDER, "tank_kg %g >= mass_kg %g", (double)p->tank_kg,
                    (double)p->mass_kg);
    if (!(p->body_a_kg + p->body_b_kg <= p->mass_kg))
        return fail(err, errlen, PARAMS_EORDER, "body_a_kg %g + body_b_kg %g > mass_kg %g",
                    (double)p->body_a_kg, (double)p->body_b_kg, (double)p->mass_kg);
    if (p->settle_timeout_ticks < p->settle_ticks)
        return fail(err, errlen, PARAMS_EORDER, "settle_timeout_ticks %lu < settle_ticks %lu",
                    (unsigned long)p->settle_timeout_ticks, (unsigned long)p->settle_ticks);
    if (p->shift_mm >= p->stroke_x_mm && p->shift_mm >= p->stroke_y_mm)
        return fail(err, errlen, PARAMS_EORDER, "shift_mm %g not smaller than a stroke",
                    (double)p->shift_mm);
    return 0;
}

int params_from_robotcfg(params_robot *p, const robotcfg *rc, char *err, size_t errlen)
{
    if (!p || !rc) return fail(err, errlen, PARAMS_EARG, "no robot configuration");
    params_defaults(p);
    p->stroke_x_mm = (float)(rc->stroke_m[0] * 1e3);
    p->stroke_y_mm = (float)(rc->stroke_m[1] * 1e3);
    p->cup_diameter_mm = (float)(rc->cup_diameter_m * 1e3);
    p->cup_tri_radius_mm = (float)(rc->cup_tri_radius_m * 1e3);
    p->cup_tri_angle_deg = (float)(rc->cup_tri_angle_rad * 180.0 / PI);
    for (unsigned g = 0; g < PARAMS_GROUPS; g++)
        for (unsigned f = 0; f < PARAMS_FEET; f++)
            for (unsigned k = 0; k < 2; k++) p->foot_mm[g][f][k] = (float)(rc->foot_m[g][f][k] * 1e3);
    p->vac_nominal_kpa = (float)(rc->vac_nominal_pa * 1e-3);
    p->vac_sealed_kpa = (float)(rc->vac_sealed_pa * 1e-3);
    p->vac_released_kpa = (float)(rc->vac_released_pa * 1e-3);
    /* the model counts the tank full: no level sensor tells it otherwise */
    p->mass_kg = (float)(rc->mass_dry_kg + rc->tank_kg);
    p->tank_kg = (float)rc->tank_kg;
    p->body_a_kg = (float)rc->body_a_kg;
    p->body_b_kg = (float)rc->body_b_kg;
    p->com_height_mm = (float)(rc->cg_height_m * 1e3);
    p->brush_reaction_n = (float)rc->brush_reaction_n;
    p->mu_dry = (float)rc->mu_dry[FACADE_GLASS];
    p->mu_wet = (float)rc->mu_wet[FACADE_GLASS];
    p->safety_factor_required = (float)rc->required_factor;
    /* a whole stroke at the slowest speed, twice, in ticks of 10 ms */
    double v = rc->speed_side_m_s;
    if (rc->speed_up_m_s < v) v = rc->speed_up_m_s;
    if (rc->speed_down_m_s < v) v = rc->speed_down_m_s;
    double s = rc->stroke_m[0] > rc->stroke_m[1] ? rc->stroke_m[0] : rc->stroke_m[1];
    if (v > 0.0) {
        double need = 2.0 * s / v * 100.0;
        if (need > (double)p->move_timeout_ticks && need < 60000.0)
            p->move_timeout_ticks = (uint32_t)ceil(need);
    }
    return params_validate(p, err, errlen);
}

double params_cup_area_m2(const params_robot *p)
{
    double d_m = (double)p->cup_diameter_mm * 1e-3;
    return 0.25 * PI * d_m * d_m;
}

int params_cup_xy_mm(const params_robot *p, unsigned g, unsigned cup, double xy_mm[2])
{
    if (!p || !xy_mm || g >= PARAMS_GROUPS || cup >= PARAMS_CUPS_PER_GROUP) return PARAMS_EARG;
    unsigned foot = cup / PARAMS_CUPS_PER_FOOT, k = cup % PARAMS_CUPS_PER_FOOT;
    double a = ((double)p->cup_tri_angle_deg + 120.0 * (double)k) * PI / 180.0;
    double r = (double)p->cup_tri_radius_mm;
    xy_mm[0] = (double)p->foot_mm[g][foot][0] + r * cos(a);
    xy_mm[1] = (double)p->foot_mm[g][foot][1] + r * sin(a);
    return 0;
}
