/*
 * check_physics.c — the robot configuration, the physics and the plant
 * adapter against values computed by hand from the model's equations
 * (docs/simulator.md).  Each test says where its expected number comes from.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plc_bridge/regmap.h"
#include "robot/facade.h"
#include "sim/fxmem.h"
#include "sim/physics.h"
#include "robot/robotcfg.h"
#include "sim/robotsim.h"

#define G PHYS_G_M_S2

static const char *src_dir(void)
{
    const char *s = getenv("CROSSCLIMB_SRC");
    return s && *s ? s : ".";
}

/* A facade of cols x rows cells of cell_mm; fill(col, row) gives the legend
 * character of each cell (row 0 = bottom).  Legend: . glass, j joint,
 * m mullion, # obstacle, ~ void, c concrete. */
typedef char (*cell_fn)(int col, int row);

static facade *make_facade(int cols, int rows, int cell_mm, cell_fn fill)
{
    size_t cap = (size_t)(cols + 1) * (size_t)rows + 512;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    int n = snprintf(text, cap,
                     "facade test\ncell_mm %d\nsize %d %d\nlegend . glass\nlegend j joint\n"
                     "legend m mullion\nlegend # obstacle\nlegend ~ void\nlegend c concrete\n"
                     "grid\n",
                     cell_mm, cols, rows);
    for (int r = rows - 1; r >= 0; r--) { /* the file lists the top row first */
        for (int c = 0; c < cols; c++) text[n++] = fill(c, r);
        text[n++] = '\n';
    }
    facade *f = NULL;
    char err[256];
    int rc = facade_load_buffer("test", text, (size_t)n, &f, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    free(text);
    return f;
}

static char all_glass(int c, int r)
{
    (void)c;
    (void)r;
    return '.';
}

/* 5 m x 5 m of glass, 50 mm cells */
static facade *glass_facade(void)
{
    return make_facade(100, 100, 50, all_glass);
}

/* Glass with a 300 mm joint band at y 2.35..2.65 m (rows 47..52): with the
 * carriage at y = 2.5 m and the cylinders at mid stroke, all six A cups
 * (y from 2.41 to 2.63 m) are on the joint, the B feet at 2.1 and 2.9 m on glass. */
static char joint_band(int c, int r)
{
    (void)c;
    return r >= 47 && r <= 52 ? 'j' : '.';
}

/* Start at (2500, 2500) mm, mid stroke, groups as given, vacuum in kPa. */
static void start_at(phys_start *st, const robotcfg *cfg, const facade *f, int a_down, int b_down,
                     double vac_kpa)
{
    phys_start_default(st, cfg, f);
    st->x_mm = 2500.0;
    st->y_mm = 2500.0;
    st->legs_down[PHYS_GROUP_A] = a_down;
    st->legs_down[PHYS_GROUP_B] = b_down;
    st->vac_kpa[PHYS_GROUP_A] = st->vac_kpa[PHYS_GROUP_B] = vac_kpa;
}

static void init_ok(phys_state *ps, const robotcfg *cfg, const facade *f, const phys_start *st)
{
    char err[256];
    int rc = phys_init(ps, cfg, f, st, err, sizeof err);
    ck_assert_msg(rc == 0, "phys_init: %s", err);
}

static void run_ms(phys_state *ps, int ms)
{
    for (int i = 0; i < ms; i++) phys_step(ps, 1000);
}

/* ------------------------------------------------------- configuration */

START_TEST(test_defaults_are_spec)
{
    robotcfg c;
    robotcfg_defaults(&c);
    /* SPEC §2 table */
    ck_assert_double_eq_tol(c.mass_dry_kg + c.tank_kg, 25.0, 1e-12);
    ck_assert_double_eq_tol(c.tank_kg, 4.0, 1e-12);
    ck_assert_double_eq_tol(c.stroke_m[0], 0.300, 1e-12);
    ck_assert_double_eq_tol(c.stroke_m[1], 0.300, 1e-12);
    ck_assert(c.speed_up_m_s >= 0.10 && c.speed_down_m_s <= 0.20 && c.speed_side_m_s >= 0.10 &&
              c.speed_side_m_s <= 0.20);
    ck_assert(c.speed_up_m_s < c.speed_side_m_s); /* slower lifting against gravity */
    ck_assert_double_eq_tol(c.leg_stroke_m, 0.040, 1e-12);
    ck_assert(c.leg_down_s >= 0.3 && c.leg_down_s <= 0.5 && c.leg_up_s >= 0.3 && c.leg_up_s <= 0.5);
    ck_assert_double_eq_tol(c.cup_diameter_m, 0.100, 1e-12);
    ck_assert_double_eq_tol(robotcfg_cup_area_m2(&c), 7.853981633974483e-3, 1e-15);
    ck_assert_double_eq_tol(c.vac_nominal_pa, 60000.0, 1e-9);
    ck_assert_double_eq_tol(c.vac_sealed_pa, 45000.0, 1e-9);
    ck_assert_double_eq_tol(c.vac_released_pa, 10000.0, 1e-9);
    ck_assert_double_eq(c.mu_dry[FACADE_GLASS], 0.5);
    ck_assert_double_eq(c.mu_wet[FACADE_GLASS], 0.25);
    ck_assert_double_eq(c.required_factor, 2.0);
    ck_assert_double_eq_tol(c.brush_width_m, 0.600, 1e-12);
    ck_assert_uint_eq(c.step_us, 1000);
    /* cups of a foot in an equilateral triangle, not overlapping */
    ck_assert(sqrt(3.0) * c.cup_tri_radius_m >= c.cup_diameter_m);
}
END_TEST

/* sim/robots/default.ini says exactly what the built-in defaults say. */
START_TEST(test_default_ini_matches)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/sim/robots/default.ini", src_dir());
    robotcfg a, b;
    int rc = robotcfg_load_file(path, &a, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    robotcfg_defaults(&b);
    ck_assert(memcmp(&a, &b, sizeof a) == 0);
}
END_TEST

typedef struct {
    const char *text;
    int code;
    const char *msg;
} cfg_bad;

static const cfg_bad cfg_bads[] = {
    {"[robot]\nmass_dry_kg = abc\n", ROBOTCFG_EVALUE,
     "bad.ini:2: [robot] mass_dry_kg = 'abc': not a number"},
    {"[robot]\nmass_dry_kg = 20\ncolour = red\n", ROBOTCFG_ESYNTAX,
     "bad.ini:3: unknown key 'colour' in [robot]"},
    {"; comment\n[motor]\n", ROBOTCFG_ESYNTAX,
     "bad.ini:2: unknown section [motor] (expected robot, cylinders, legs, cups, vacuum, leak, "
     "friction, safety, brush, wind, sensors or sim)"},
    {"[cups]\ndiameter_mm = 5\n", ROBOTCFG_EVALUE,
     "bad.ini:2: [cups] diameter_mm = 5: out of range 10..1000"},
    {"[cups]\ndiameter_mm = 90\n\ndiameter_mm = 95\n", ROBOTCFG_ESYNTAX,
     "bad.ini:4: duplicate key 'diameter_mm' in [cups] (first on line 2)"},
    {"[robot]\nthis is not ini\n", ROBOTCFG_ESYNTAX,
     "bad.ini:2: syntax error (expected [section], key = value, or a ; or # comment)"},
    {"[vacuum]\nsealed_kpa = 50\nnominal_kpa = 40\n", ROBOTCFG_EVALUE,
     "bad.ini:3: [vacuum] sealed_kpa (50) must be below nominal_kpa (40)"},
    {"mass_dry_kg = 3\n", ROBOTCFG_ESYNTAX, "bad.ini:1: 'mass_dry_kg' outside a section"},
    {"[sensors]\nposition_sensors = maybe\n", ROBOTCFG_EVALUE,
     "bad.ini:2: [sensors] position_sensors = 'maybe': expected yes or no"},
    {"[cups]\nfoot_a1_mm = 100\n", ROBOTCFG_EVALUE,
     "bad.ini:2: [cups] foot_a1_mm = '100': expected two numbers 'x, y'"},
    {"[sim]\nstep_us = 10.5\n", ROBOTCFG_EVALUE, "bad.ini:2: [sim] step_us = '10.5': expected an integer"},
    {"[sim]\nstep_us = 2000\n", ROBOTCFG_EVALUE, "bad.ini:2: [sim] step_us = 2000: out of range 10..1000"},
    {"[legs]\nup_ms = 300\n  down_ms = 400\n", ROBOTCFG_ESYNTAX,
     "bad.ini:3: indented line continues the value of 'up_ms' (remove the indentation)"},
    {"[cups]\ntriangle_radius_mm = 50\n", ROBOTCFG_EVALUE,
     "bad.ini:2: [cups] triangle_radius_mm (50) puts the cups 86.6025 mm apart, closer than "
     "diameter_mm (100): they would overlap"},
    {"[robot]\nwater_start_kg = 5\n", ROBOTCFG_EVALUE,
     "bad.ini:2: [robot] water_start_kg (5) exceeds tank_kg (4)"},
    {"[wind]\nspeed_m_s = inf\n", ROBOTCFG_EVALUE, "bad.ini:2: [wind] speed_m_s = 'inf': not a number"},
};
#define N_CFG_BAD (sizeof cfg_bads / sizeof cfg_bads[0])

START_TEST(test_cfg_errors)
{
    const cfg_bad *b = &cfg_bads[_i];
    robotcfg c, d;
    char err[512];
    memset(&c, 0x55, sizeof c);
    int rc = robotcfg_load_buffer("bad.ini", b->text, strlen(b->text), &c, err, sizeof err);
    ck_assert_int_eq(rc, b->code);
    ck_assert_str_eq(err, b->msg);
    /* never half-loaded: an error leaves the defaults */
    robotcfg_defaults(&d);
    ck_assert(memcmp(&c, &d, sizeof c) == 0);
}
END_TEST

START_TEST(test_cfg_values)
{
    static const char ini[] = "# a robot\n[robot]\nmass_dry_kg = 30 ; heavier\n"
                              "[cups]\nfoot_b2_mm = 10, 450\ntriangle_angle_deg = -90\n"
                              "[sensors]\nposition_sensors = yes\n[wind]\ngust_rate_per_min = 6\n";
    robotcfg c;
    char err[256];
    int rc = robotcfg_load_buffer("ok.ini", ini, strlen(ini), &c, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_double_eq(c.mass_dry_kg, 30.0);
    ck_assert_double_eq_tol(c.foot_m[1][1][0], 0.010, 1e-15);
    ck_assert_double_eq_tol(c.foot_m[1][1][1], 0.450, 1e-15);
    ck_assert_double_eq_tol(c.cup_tri_angle_rad, -M_PI / 2.0, 1e-15);
    ck_assert_int_eq(c.position_sensors, 1);
    ck_assert_double_eq_tol(c.gust_rate_per_s, 0.1, 1e-15);
    ck_assert_double_eq_tol(robotcfg_mass_kg(&c, 4.0), 34.0, 1e-12);

    /* a file: missing, then a real one with an error naming it */
    ck_assert_int_eq(robotcfg_load_file("/nonexistent/r.ini", &c, err, sizeof err), ROBOTCFG_EIO);
    ck_assert_msg(strstr(err, "/nonexistent/r.ini") != NULL, "%s", err);
    char path[] = "/tmp/check_physics_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    static const char bad[] = "[legs]\nstroke_mm = 40\nup_ms = fast\n";
    ck_assert_int_eq(write(fd, bad, sizeof bad - 1), (ssize_t)(sizeof bad - 1));
    close(fd);
    rc = robotcfg_load_file(path, &c, err, sizeof err);
    unlink(path);
    ck_assert_int_eq(rc, ROBOTCFG_EVALUE);
    char expect[256];
    snprintf(expect, sizeof expect, "%s:3: [legs] up_ms = 'fast': not a number", path);
    ck_assert_str_eq(err, expect);
}
END_TEST

/* ------------------------------------------------------------- holding */

/* Holding force = dp * A: 60 kPa on a 100 mm cup = 60000 * pi * 0.05^2 = 471.24 N. */
START_TEST(test_cup_force)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    phys_start st;
    start_at(&st, &cfg, f, 1, 1, 60.0);
    phys_state ps;
    init_ok(&ps, &cfg, f, &st);
    double expect = 60000.0 * M_PI * 0.05 * 0.05;
    ck_assert_double_eq_tol(expect, 471.238898, 1e-6);
    for (int i = 0; i < PHYS_CUPS; i++) ck_assert_double_eq_tol(ps.force_n[i], expect, 1e-9);
    ck_assert_int_eq(ps.hold.n_contact, 12);
    ck_assert_double_eq_tol(ps.hold.normal_n, 12.0 * expect, 1e-6);
    /* dry glass, both groups: factor = mu * sum F / W = 0.5 * 5654.9 / (25 * 9.80665) = 11.53 */
    ck_assert_double_eq_tol(ps.hold.factor, 0.5 * 12.0 * expect / (25.0 * G), 1e-9);
    ck_assert_int_eq(ps.hold.limit, PHYS_FALL_SLIP);
    phys_free(&ps);
    facade_free(f);
}
END_TEST

/* Slip exactly where mu * N equals the shear load.  Only group B grips, no
 * leak (vacuum constant with the ejector off), no wind, cylinders at mid
 * stroke so the centre of mass is above the footprint centroid (no twist).
 * Shear = W = m g; friction = mu * 6 * p * A; equal at p* = W / (6 mu A). */
START_TEST(test_slip_exact)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    cfg.leak_per_s[FACADE_GLASS] = 0.0;
    facade *f = glass_facade();
    double A = robotcfg_cup_area_m2(&cfg), W = 25.0 * G, mu = 0.5;
    double pstar = W / (6.0 * mu * A); /* = 245.17 / (3 * 7.854e-3) = 10.405 kPa */
    ck_assert_double_eq_tol(pstar, 10405.2, 0.1);
    for (int side = -1; side <= 1; side += 2) {
        phys_start st;
        start_at(&st, &cfg, f, 0, 1, pstar * (1.0 + side * 1e-4) / 1e3);
        phys_state ps;
        init_ok(&ps, &cfg, f, &st);
        phys_set_outputs(&ps, CC_Y_B_DOWN); /* ejector off: the check valves hold */
        ck_assert_double_eq_tol(ps.hold.shear_n, W, 1e-9);
        ck_assert_double_eq_tol(ps.hold.friction_n, mu * 6.0 * A * pstar * (1.0 + side * 1e-4),
                                1e-6);
        ck_assert_double_eq_tol(ps.hold.torque_nm, 0.0, 1e-9);
        ck_assert_double_eq_tol(ps.hold.factor, 1.0 + side * 1e-4, 1e-9);
        ck_assert_int_eq(ps.hold.limit, PHYS_FALL_SLIP);
        run_ms(&ps, 10);
        if (side > 0) {
            ck_assert_int_eq(ps.fallen, 0);
        } else {
            ck_assert_int_eq(ps.fallen, 1);
            ck_assert_int_eq(ps.fall, PHYS_FALL_SLIP);
            ck_assert_uint_eq(ps.fall_t_us, 1000); /* on the first step */
            ck_assert_msg(strncmp(ps.fall_reason, "slip:", 5) == 0, "%s", ps.fall_reason);
        }
        phys_free(&ps);
    }
    facade_free(f);
}
END_TEST

/* Peel at the computed moment.  A test robot with its centre of mass 1.5 m
 * off the facade and grippy cups (mu 0.9), so peel governs.  Group B grips:
 * its feet at (0, -0.4) and (0, +0.4) from B's centre, cups on a circle of
 * r = 0.08 m at 90, 210, 330 degrees.  The weight tips the robot about the
 * rim tangent below the lowest cups (y_min - R); each cup's lever is
 * d_i = y_i - y_min + R.  Overturning  M_o = W h;  restoring  M_r = F sum d_i;
 * equal at F* = W h / sum d_i. */
START_TEST(test_peel_exact)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    cfg.leak_per_s[FACADE_GLASS] = 0.0;
    cfg.cg_height_m = 1.5;
    cfg.mu_dry[FACADE_GLASS] = 0.9;
    facade *f = glass_facade();
    double A = robotcfg_cup_area_m2(&cfg), W = 25.0 * G, R = 0.05, r = 0.08;
    double ys[6], ymin = 1e9, sumd = 0.0;
    for (int foot = 0; foot < 2; foot++)
        for (int k = 0; k < 3; k++) {
            double y = (foot ? 0.4 : -0.4) + r * sin(M_PI / 2.0 + k * 2.0 * M_PI / 3.0);
            ys[foot * 3 + k] = y;
            if (y < ymin) ymin = y;
        }
    for (int i = 0; i < 6; i++) sumd += ys[i] - ymin + R;
    /* by hand: levers 0.05, 0.05, 0.17, 0.85, 0.85, 0.97 -> 2.94 m */
    ck_assert_double_eq_tol(sumd, 2.94, 1e-9);
    double Fstar = W * cfg.cg_height_m / sumd, pstar = Fstar / A; /* 125.1 N, 15.93 kPa */
    /* slip would need mu 6 F = W: 0.9 * 6 * 125.1 = 675 N >> 245 N: peel governs */
    for (int side = -1; side <= 1; side += 2) {
        phys_start st;
        start_at(&st, &cfg, f, 0, 1, pstar * (1.0 + side * 1e-4) / 1e3);
        phys_state ps;
        init_ok(&ps, &cfg, f, &st);
        phys_set_outputs(&ps, CC_Y_B_DOWN);
        ck_assert_int_eq(ps.hold.limit, PHYS_FALL_PEEL);
        ck_assert_double_eq_tol(ps.hold.peel_moment_nm, W * 1.5, 1e-9);
        ck_assert_double_eq_tol(ps.hold.restore_nm, Fstar * (1.0 + side * 1e-4) * sumd, 1e-6);
        ck_assert_double_eq_tol(ps.hold.peel_axis[1], -1.0, 1e-12);
        ck_assert_double_eq_tol(ps.hold.factor, 1.0 + side * 1e-4, 1e-9);
        run_ms(&ps, 5);
        ck_assert_int_eq(ps.fallen, side < 0);
        if (side < 0) {
            ck_assert_int_eq(ps.fall, PHYS_FALL_PEEL);
            ck_assert_msg(strncmp(ps.fall_reason, "peel:", 5) == 0, "%s", ps.fall_reason);
        }
        phys_free(&ps);
    }
    facade_free(f);
}
END_TEST

/* Pull-off: wind blowing straight off the facade (pull fraction 1), drag
 * 0.5 rho v^2 cd A_w against the vacuum forces: margin = sum F / F_w. */
START_TEST(test_wind_pull)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    cfg.wind_shear_frac = 0.0;
    cfg.wind_pull_frac = 1.0;
    cfg.wind_m_s = 30.0;
    facade *f = glass_facade();
    phys_start st;
    start_at(&st, &cfg, f, 1, 1, 60.0);
    phys_state ps;
    init_ok(&ps, &cfg, f, &st);
    double Fw = 0.5 * 1.225 * 30.0 * 30.0 * 1.2 * 0.3; /* 198.45 N */
    ck_assert_double_eq_tol(phys_wind_force_n(&ps), Fw, 1e-9);
    ck_assert_double_eq_tol(ps.hold.pull_n, Fw, 1e-9);
    ck_assert_double_eq_tol(ps.hold.pull_margin, ps.hold.normal_n / Fw, 1e-9);
    /* slip: N_i = F_i - F_w/12, friction 0.5 (sum F - F_w) */
    ck_assert_double_eq_tol(ps.hold.friction_n, 0.5 * (ps.hold.normal_n - Fw), 1e-6);
    phys_free(&ps);
    facade_free(f);
}
END_TEST

/* -------------------------------------------------------------- vacuum */

/* Six cups on glass rising together from 0 with the ejector on.  With the
 * manifold droop c and n = 6 open check valves the group obeys
 *   dp/dt = (src - p) / T - k p,   T = tau (1 + n c)
 * (docs/simulator.md), so p(t) = p_eq (1 - exp(-t / tau*)) with
 *   p_eq = src / (1 + k T),  tau* = T / (1 + k T).
 * After tau*, p is 63.2 % of the way; sealed (45 kPa) is reached at
 * tau* ln(p_eq / (p_eq - 45 kPa)), about 1 s (SPEC §2). */
START_TEST(test_vacuum_time_constant)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    phys_start st;
    start_at(&st, &cfg, f, 1, 1, 60.0);
    st.vac_kpa[PHYS_GROUP_B] = 0.0;
    phys_state ps;
    init_ok(&ps, &cfg, f, &st);
    double k = cfg.leak_per_s[FACADE_GLASS], src = cfg.vac_nominal_pa;
    double T = cfg.ejector_tau_s * (1.0 + 6.0 * cfg.ejector_droop);
    double peq = src / (1.0 + k * T), taus = T / (1.0 + k * T);
    ck_assert_double_eq_tol(taus, 0.7206, 1e-4);
    phys_set_outputs(&ps, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC);
    int n_tau = (int)lround(taus * 1000.0), t45 = -1, t = 0;
    for (; t < n_tau; t++) {
        phys_step(&ps, 1000);
        if (t45 < 0 && ps.vac_pa[6] >= cfg.vac_sealed_pa) t45 = t + 1;
    }
    double expect = peq * (1.0 - exp(-(n_tau / 1000.0) / taus));
    for (int i = 6; i < 12; i++) ck_assert_double_eq_tol(ps.vac_pa[i], expect, 0.002 * peq);
    ck_assert_double_eq_tol(ps.vac_pa[6] / peq, 1.0 - exp(-1.0), 0.003); /* 63.2 % */
    for (; t45 < 0 && t < 3000; t++) {
        phys_step(&ps, 1000);
        if (ps.vac_pa[6] >= cfg.vac_sealed_pa) t45 = t + 1;
    }
    double t45_expect = taus * log(peq / (peq - cfg.vac_sealed_pa)); /* 1.002 s */
    ck_assert_double_eq_tol(t45 / 1000.0, t45_expect, 0.003);
    ck_assert_double_eq_tol(t45 / 1000.0, 1.0, 0.05);
    /* the vacuum switch X11 is on (manifold >= sealed) */
    run_ms(&ps, 2000);
    ck_assert(phys_inputs(&ps) & CC_X_B_VAC_OK);
    phys_free(&ps);
    facade_free(f);
}
END_TEST

/* Blow-off: dp/dt = -p (1/tau_b + k), so 60 -> 10 kPa takes
 * ln(6) / (1/tau_b + k) = 0.4996 s on glass (SPEC: about 0.5 s). */
START_TEST(test_blowoff)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    phys_start st;
    start_at(&st, &cfg, f, 1, 1, 60.0);
    phys_state ps;
    init_ok(&ps, &cfg, f, &st);
    phys_set_outputs(&ps, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_BLOW);
    double expect = log(6.0) / (1.0 / cfg.blowoff_tau_s + cfg.leak_per_s[FACADE_GLASS]);
    int t10 = -1;
    for (int t = 0; t < 2000 && t10 < 0; t++) {
        phys_step(&ps, 1000);
        if (ps.vac_pa[6] <= cfg.vac_released_pa) t10 = t + 1;
    }
    ck_assert_double_eq_tol(t10 / 1000.0, expect, 0.0011);
    ck_assert_double_eq_tol(expect, 0.5, 0.01);
    ck_assert(!(phys_inputs(&ps) & CC_X_B_VAC_OK));
    ck_assert_int_eq(ps.fallen, 0);
    phys_free(&ps);
    facade_free(f);
}
END_TEST

/* A cup over a joint cannot seal: all six A cups on the joint band leak at
 * k = 5 /s; the group settles at p_eq = src / (1 + k T) with
 * T = 0.451 * 1.6 = 0.7216 s: 60 / 4.608 = 13.02 kPa < 45.  (B holds the
 * robot meanwhile: placed at nominal vacuum.) */
START_TEST(test_joint_cannot_seal)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = make_facade(100, 100, 50, joint_band);
    phys_start st;
    start_at(&st, &cfg, f, 1, 1, 60.0);
    st.vac_kpa[PHYS_GROUP_A] = 0.0;
    phys_state ps;
    init_ok(&ps, &cfg, f, &st);
    for (int i = 0; i < 6; i++) ck_assert_double_eq_tol(ps.cup_leak_per_s[i], 5.0, 1e-12);
    for (int i = 6; i < 12; i++) ck_assert_double_eq_tol(ps.cup_leak_per_s[i], 0.002, 1e-12);
    phys_set_outputs(&ps, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC);
    run_ms(&ps, 10000);
    double T = cfg.ejector_tau_s * (1.0 + 6.0 * cfg.ejector_droop);
    double peq = cfg.vac_nominal_pa / (1.0 + 5.0 * T);
    ck_assert_double_eq_tol(peq, 13020.8, 0.1);
    for (int i = 0; i < 6; i++) {
        ck_assert_double_lt(ps.vac_pa[i], cfg.vac_sealed_pa);
        ck_assert_double_eq_tol(ps.vac_pa[i], peq, 0.002 * peq);
    }
    for (int i = 6; i < 12; i++) ck_assert_double_ge(ps.vac_pa[i], cfg.vac_sealed_pa);
    /* the manifold (src + c sum p) / (1 + 6c) = (60 + 0.6 * 13.02) / 1.6 = 42.4 kPa:
     * A's switch stays off */
    uint32_t x = phys_inputs(&ps);
    ck_assert(!(x & CC_X_A_VAC_OK));
    ck_assert(x & CC_X_B_VAC_OK);
    phys_free(&ps);
    facade_free(f);
}
END_TEST

/* A cup half over a mullion: its leak is the area-weighted sum of the
 * surfaces under it, k = f_m * 5 + (1 - f_m) * 0.002 (facade_cup_cover). */
static char mullion_col(int c, int r)
{
    (void)r;
    return c == 49 ? 'm' : '.';
}

START_TEST(test_mullion_overlap)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = make_facade(100, 100, 50, mullion_col); /* mullion at x 2.45..2.50 m */
    phys_start st;
    start_at(&st, &cfg, f, 1, 1, 60.0); /* A (on glass) holds */
    st.vac_kpa[PHYS_GROUP_B] = 0.0;
    phys_state ps;
    init_ok(&ps, &cfg, f, &st);
    /* B's cups a sit at x = 2.5 m, on the mullion's right edge (half over
     * it), cups b at x = 2.431 m reach 30 mm onto it, cups c (2.569 m) miss it */
    for (int i = 6; i < 12; i++) {
        double p[2];
        facade_cover cv;
        phys_cup_m(&ps, i, p);
        facade_cup_cover(f, p[0] * 1e3, p[1] * 1e3, 100.0, &cv);
        double k = cv.frac[FACADE_MULLION] * 5.0 + cv.frac[FACADE_GLASS] * 0.002;
        ck_assert_double_eq_tol(ps.cup_leak_per_s[i], k, 1e-12);
        if (i % 3 == 0) ck_assert_double_gt(cv.frac[FACADE_MULLION], 0.2);
    }
    phys_set_outputs(&ps, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC);
    run_ms(&ps, 5000);
    ck_assert_double_lt(ps.vac_pa[6], cfg.vac_sealed_pa); /* B1a: half over the mullion */
    ck_assert_double_lt(ps.vac_pa[7], cfg.vac_sealed_pa); /* B1b: a quarter over it */
    ck_assert_double_ge(ps.vac_pa[8], cfg.vac_sealed_pa); /* B1c: clear */
    phys_free(&ps);
    facade_free(f);
}
END_TEST

/* ----------------------------------------------------------- cylinders */

/* Travel time from end to end = (S - c) / v + c / (f v): the last c = 15 mm
 * cushioned at f = 0.3.  X: 285/0.15 + 15/0.045 = 1900 + 333.3 = 2233.3 ms.
 * Y lifting a group: v = 0.10 -> 2850 + 500 = 3350 ms; lowering: v = 0.20 ->
 * 1425 + 250 = 1675 ms.  Reed switches at the ends. */
static int travel_ms(phys_state *ps, int cyl, uint16_t valves, double target_m)
{
    phys_set_outputs(ps, valves);
    for (int t = 1; t < 20000; t++) {
        phys_step(ps, 1000);
        if (fabs(ps->cyl_pos_m[cyl] - target_m) < 1e-12) return t;
    }
    return -1;
}

static double travel_expect_ms(const robotcfg *c, double v)
{
    return ((0.3 - c->cushion_m) / v + c->cushion_m / (c->cushion_factor * v)) * 1000.0;
}

START_TEST(test_cylinder_travel_time)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    phys_start st;
    start_at(&st, &cfg, f, 0, 1, 60.0); /* B grips, A lifted */
    st.cyl_mm[0] = st.cyl_mm[1] = 0.0;
    phys_state ps;
    init_ok(&ps, &cfg, f, &st);
    uint16_t hold = CC_Y_B_DOWN | CC_Y_B_VAC;
    uint32_t x = phys_inputs(&ps);
    ck_assert(x & CC_X_XCYL_MINUS_END);
    ck_assert(!(x & CC_X_XCYL_PLUS_END));
    ck_assert(x & CC_X_A_UP);
    ck_assert(x & CC_X_B_DOWN);

    double e = travel_expect_ms(&cfg, 0.15);
    ck_assert_double_eq_tol(e, 2233.33, 0.01);
    int t = travel_ms(&ps, 0, hold | CC_Y_X_PLUS, 0.3);
    ck_assert_double_eq_tol(t, e, 1.0); /* within one step */
    x = phys_inputs(&ps);
    ck_assert(x & CC_X_XCYL_PLUS_END);
    ck_assert(!(x & CC_X_XCYL_MINUS_END));
    ck_assert_int_eq(ps.cyl_state[0], PHYS_CYL_CUSHION); /* arrived during this step */
    run_ms(&ps, 1);
    ck_assert_int_eq(ps.cyl_state[0], PHYS_CYL_STOPPED);

    /* B grips: Y+ moves A up (lifting): 0.10 m/s */
    t = travel_ms(&ps, 1, hold | CC_Y_Y_PLUS, 0.3);
    ck_assert_double_eq_tol(t, travel_expect_ms(&cfg, 0.10), 1.0);
    ck_assert(phys_inputs(&ps) & CC_X_YCYL_PLUS_END);
    /* and Y- lowers it: 0.20 m/s */
    t = travel_ms(&ps, 1, hold | CC_Y_Y_MINUS, 0.0);
    ck_assert_double_eq_tol(t, travel_expect_ms(&cfg, 0.20), 1.0);
    ck_assert(phys_inputs(&ps) & CC_X_YCYL_MINUS_END);

    /* supply 375 kPa: factor (375 - 150) / (600 - 150) = 0.5: twice the time */
    ps.env.supply_pa = 375000.0;
    t = travel_ms(&ps, 1, hold | CC_Y_Y_PLUS, 0.3);
    ck_assert_double_eq_tol(t, travel_expect_ms(&cfg, 0.05), 1.0);
    /* below supply_min: stalled */
    ps.env.supply_pa = 100000.0;
    phys_set_outputs(&ps, hold | CC_Y_Y_MINUS);
    run_ms(&ps, 100);
    ck_assert_int_eq(ps.cyl_state[1], PHYS_CYL_STALLED);
    ck_assert_int_eq(ps.cyl_stall[1], PHYS_STALL_PRESSURE);
    ck_assert_double_eq(ps.cyl_pos_m[1], 0.3);
    ck_assert(!(phys_inputs(&ps) & CC_X_SUPPLY_OK));
    /* both solenoids of a 5/3 valve: stop */
    ps.env.supply_pa = 600000.0;
    phys_set_outputs(&ps, hold | CC_Y_Y_MINUS | CC_Y_Y_PLUS);
    run_ms(&ps, 100);
    ck_assert_int_eq(ps.cyl_state[1], PHYS_CYL_STOPPED);
    ck_assert_double_eq(ps.cyl_pos_m[1], 0.3);
    ck_assert_int_eq(ps.fallen, 0);
    phys_free(&ps);
    facade_free(f);
}
END_TEST

/* Kinematics of the cross frame (SPEC §2):  B - A = (sx - Sx/2, Sy/2 - sy).
 *   B grips: X- (carriage to the - end) moves A +300 mm in x, B stays;
 *            Y+ moves A +300 mm in y.
 *   A grips: X+ moves B +300 mm in x; Y- moves B +300 mm in y. */
START_TEST(test_kinematics)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    phys_start st;
    start_at(&st, &cfg, f, 0, 1, 60.0);
    st.cyl_mm[0] = 300.0;
    st.cyl_mm[1] = 0.0;
    phys_state ps;
    init_ok(&ps, &cfg, f, &st);
    double a0[2] = {ps.body_m[0][0], ps.body_m[0][1]}, b0[2] = {ps.body_m[1][0], ps.body_m[1][1]};
    double cup0[2], cup1[2];
    phys_cup_m(&ps, 0, cup0);
    uint16_t hold_b = CC_Y_B_DOWN | CC_Y_B_VAC;
    ck_assert_int_gt(travel_ms(&ps, 0, hold_b | CC_Y_X_MINUS, 0.0), 0);
    ck_assert_double_eq_tol(ps.body_m[0][0] - a0[0], 0.300, 1e-12);
    ck_assert_double_eq_tol(ps.body_m[0][1] - a0[1], 0.0, 1e-12);
    ck_assert_double_eq_tol(ps.body_m[1][0] - b0[0], 0.0, 1e-12);
    ck_assert_double_eq_tol(ps.body_m[1][1] - b0[1], 0.0, 1e-12);
    phys_cup_m(&ps, 0, cup1); /* A's feet moved with it */
    ck_assert_double_eq_tol(cup1[0] - cup0[0], 0.300, 1e-12);
    ck_assert_int_gt(travel_ms(&ps, 1, hold_b | CC_Y_Y_PLUS, 0.3), 0);
    ck_assert_double_eq_tol(ps.body_m[0][1] - a0[1], 0.300, 1e-12);
    ck_assert_double_eq_tol(ps.body_m[1][1] - b0[1], 0.0, 1e-12);

    /* swap: A down and gripping, B up */
    phys_set_outputs(&ps, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC);
    run_ms(&ps, 3000);
    phys_set_outputs(&ps, CC_Y_A_DOWN | CC_Y_A_VAC | CC_Y_B_BLOW);
    run_ms(&ps, 1500);
    ck_assert_int_eq(ps.grips[PHYS_GROUP_A], 1);
    ck_assert_int_eq(ps.grips[PHYS_GROUP_B], 0);
    ck_assert(phys_inputs(&ps) & CC_X_B_UP);
    double a1[2] = {ps.body_m[0][0], ps.body_m[0][1]}, b1[2] = {ps.body_m[1][0], ps.body_m[1][1]};
    uint16_t hold_a = CC_Y_A_DOWN | CC_Y_A_VAC;
    ck_assert_int_gt(travel_ms(&ps, 0, hold_a | CC_Y_X_PLUS, 0.3), 0);
    ck_assert_double_eq_tol(ps.body_m[1][0] - b1[0], 0.300, 1e-12);
    ck_assert_double_eq_tol(ps.body_m[0][0] - a1[0], 0.0, 1e-12);
    ck_assert_int_gt(travel_ms(&ps, 1, hold_a | CC_Y_Y_MINUS, 0.0), 0);
    ck_assert_double_eq_tol(ps.body_m[1][1] - b1[1], 0.300, 1e-12);
    /* the robot walked one stroke in x and in y: both bodies +300 mm from the start */
    ck_assert_double_eq_tol(ps.body_m[0][0] - a0[0], 0.300, 1e-12);
    ck_assert_double_eq_tol(ps.body_m[1][0] - b0[0], 0.300, 1e-12);
    ck_assert_double_eq_tol(ps.body_m[0][1] - a0[1], 0.300, 1e-12);
    ck_assert_double_eq_tol(ps.body_m[1][1] - b0[1], 0.300, 1e-12);
    ck_assert_int_eq(ps.fallen, 0);
    ck_assert_double_gt(ps.sf_min, 2.0);
    phys_free(&ps);
    facade_free(f);
}
END_TEST

/* Both groups on the facade: the frame is pinned at both ends and the
 * cylinder stalls; an obstacle in the path of a lifted foot stalls it too. */
static char obstacle_right(int c, int r)
{
    (void)r;
    return c >= 62 ? '#' : '.'; /* obstacle from x = 3.1 m */
}

START_TEST(test_stalls)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = make_facade(100, 100, 50, obstacle_right);
    phys_start st;
    start_at(&st, &cfg, f, 1, 1, 60.0);
    phys_state ps;
    init_ok(&ps, &cfg, f, &st);
    double a0 = ps.body_m[0][0];
    phys_set_outputs(&ps, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC | CC_Y_X_MINUS);
    run_ms(&ps, 500);
    ck_assert_int_eq(ps.cyl_state[0], PHYS_CYL_STALLED);
    ck_assert_int_eq(ps.cyl_stall[0], PHYS_STALL_BOTH_GRIP);
    ck_assert_double_eq(ps.cyl_pos_m[0], 0.15);
    ck_assert_double_eq(ps.body_m[0][0], a0);
    phys_free(&ps);

    /* B grips; X- moves A toward +x.  A2's rightmost cup rim starts at
     * 2.5 + 0.4 + 0.0693 + 0.05 = 3.0193 m; the obstacle begins at 3.1 m:
     * A stops within one step of 80.7 mm of travel, 69.3 mm short of the end. */
    start_at(&st, &cfg, f, 0, 1, 60.0);
    init_ok(&ps, &cfg, f, &st);
    phys_set_outputs(&ps, CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_X_MINUS);
    run_ms(&ps, 3000);
    ck_assert_int_eq(ps.cyl_state[0], PHYS_CYL_STALLED);
    ck_assert_int_eq(ps.cyl_stall[0], PHYS_STALL_OBSTACLE);
    double moved = ps.body_m[0][0] - a0;
    double room = 3.1 - (2.5 + 0.4 + 0.08 * cos(M_PI / 6.0) + 0.05);
    ck_assert_double_le(moved, room);
    ck_assert_double_ge(moved, room - 0.15 * 0.001);
    ck_assert(!(phys_inputs(&ps) & CC_X_XCYL_MINUS_END));
    ck_assert_int_eq(ps.fallen, 0);
    phys_free(&ps);
    facade_free(f);
}
END_TEST

/* ---------------------------------------------------------------- legs */

/* Legs: 40 mm down in 0.4 s, up in 0.3 s; a foot cannot lift while its cups
 * hold more than 2 x 300 N per group: per cup 100 N = 12.73 kPa. */
START_TEST(test_legs)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    phys_start st;
    start_at(&st, &cfg, f, 0, 1, 60.0);
    phys_state ps;
    init_ok(&ps, &cfg, f, &st);
    uint16_t hold_b = CC_Y_B_DOWN | CC_Y_B_VAC;
    phys_set_outputs(&ps, hold_b | CC_Y_A_DOWN);
    int t = 0;
    while (!(phys_inputs(&ps) & CC_X_A_DOWN) && t < 1000) {
        phys_step(&ps, 1000);
        t++;
    }
    /* the down switch closes 2 mm before the end: 38/40 of 400 ms = 380 ms */
    ck_assert_int_ge(t, 380);
    ck_assert_int_le(t, 381);
    run_ms(&ps, 20);
    ck_assert_int_eq(ps.leg_state[PHYS_GROUP_A], PHYS_LEG_DOWN);
    ck_assert_int_eq(ps.grips[PHYS_GROUP_A], 1);
    /* cups land at atmospheric pressure */
    ck_assert_double_eq(ps.vac_pa[0], 0.0);
    phys_set_outputs(&ps, hold_b);
    t = 0;
    while (!(phys_inputs(&ps) & CC_X_A_UP) && t < 1000) {
        phys_step(&ps, 1000);
        t++;
    }
    ck_assert_int_ge(t, 285); /* 38/40 of 300 ms, within one step (rounding of the sum) */
    ck_assert_int_le(t, 286);

    /* B, gripping at 60 kPa, is told to lift: held */
    phys_set_outputs(&ps, CC_Y_A_DOWN);
    run_ms(&ps, 500); /* A down again (no vacuum: touching, not holding) */
    phys_set_outputs(&ps, CC_Y_A_DOWN | CC_Y_A_VAC | CC_Y_B_VAC);
    run_ms(&ps, 3000);
    phys_set_outputs(&ps, CC_Y_A_DOWN | CC_Y_A_VAC);
    run_ms(&ps, 50);
    ck_assert_int_eq(ps.leg_state[PHYS_GROUP_B], PHYS_LEG_HELD);
    ck_assert(phys_inputs(&ps) & CC_X_B_DOWN);
    /* blow-off: it lifts once the group force is below 600 N, i.e. after
     * ln(p0 / 12732 Pa) / (1/tau_b + k) from the p0 the cups had */
    double p0 = ps.vac_pa[6];
    phys_set_outputs(&ps, CC_Y_A_DOWN | CC_Y_A_VAC | CC_Y_B_BLOW);
    double lift_pa = 2.0 * cfg.leg_lift_force_n / (6.0 * ps.cup_area_m2);
    ck_assert_double_eq_tol(lift_pa, 12732.4, 0.1);
    t = 0;
    while (ps.leg_state[PHYS_GROUP_B] == PHYS_LEG_HELD && t < 3000) {
        phys_step(&ps, 1000);
        t++;
    }
    double expect = log(p0 / lift_pa) / (1.0 / cfg.blowoff_tau_s + cfg.leak_per_s[FACADE_GLASS]);
    /* within two steps: the legs see the force of the step before */
    ck_assert_double_eq_tol(t / 1000.0, expect, 0.0021);
    run_ms(&ps, 400);
    ck_assert_int_eq(ps.grips[PHYS_GROUP_B], 0);
    ck_assert_double_eq(ps.vac_pa[6], 0.0); /* lifted cup: open */
    ck_assert_int_eq(ps.fallen, 0);
    phys_free(&ps);
    facade_free(f);
}
END_TEST

/* --------------------------------------------------------------- falls */

/* Releasing both groups is a FALL: blow-off on both from 60 kPa; the robot
 * slips when 0.5 * 12 * p * A = W, p = 5.20 kPa, reached after
 * ln(60 / 5.20) / (1/tau_b + k) = 0.682 s. */
START_TEST(test_release_both_falls)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    phys_start st;
    start_at(&st, &cfg, f, 1, 1, 60.0);
    phys_state ps;
    init_ok(&ps, &cfg, f, &st);
    phys_set_outputs(&ps, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_BLOW | CC_Y_B_BLOW);
    run_ms(&ps, 2000);
    ck_assert_int_eq(ps.fallen, 1);
    ck_assert_int_eq(ps.fall, PHYS_FALL_SLIP);
    double pfall = 25.0 * G / (0.5 * 12.0 * ps.cup_area_m2);
    double tfall = log(60000.0 / pfall) / (1.0 / cfg.blowoff_tau_s + cfg.leak_per_s[FACADE_GLASS]);
    ck_assert_double_eq_tol(tfall, 0.682, 0.001);
    ck_assert_double_eq_tol(ps.fall_t_us / 1e6, tfall, 0.0011);
    ck_assert_double_lt(ps.sf_min, 1.0);
    /* after a fall nothing moves but the clock */
    double v = ps.vac_pa[0];
    uint64_t t0 = ps.t_us;
    run_ms(&ps, 10);
    ck_assert_double_eq(ps.vac_pa[0], v);
    ck_assert_uint_eq(ps.t_us, t0 + 10000);
    phys_free(&ps);

    /* lifting both groups: no cup on the facade at all */
    start_at(&st, &cfg, f, 1, 1, 5.0);
    init_ok(&ps, &cfg, f, &st);
    phys_set_outputs(&ps, 0);
    run_ms(&ps, 500);
    ck_assert_int_eq(ps.fallen, 1);
    ck_assert_int_eq(ps.fall, PHYS_FALL_NO_CONTACT);
    phys_free(&ps);
    facade_free(f);
}
END_TEST

/* Releasing B while A stands on a joint.  A's cups settle at
 * p_eq = src / (1 + 5 T) = 13.02 kPa (test_joint_cannot_seal); once B is
 * released A alone must hold:  factor = mu_joint * 6 * p_eq * A / (m g).
 * Default robot (25 kg, joint mu 0.6): 0.6 * 6 * 102.26 / 245.17 = 1.502 ->
 * holds (but below the required 2).  A 49 kg robot: 0.766 -> FALL. */
START_TEST(test_release_one_on_joint)
{
    for (int heavy = 0; heavy <= 1; heavy++) {
        robotcfg cfg;
        robotcfg_defaults(&cfg);
        if (heavy) cfg.mass_dry_kg = 45.0;
        facade *f = make_facade(100, 100, 50, joint_band);
        phys_start st;
        start_at(&st, &cfg, f, 1, 1, 60.0); /* B holds while A seals as well as it can */
        st.vac_kpa[PHYS_GROUP_A] = 0.0;
        phys_state ps;
        init_ok(&ps, &cfg, f, &st);
        phys_set_outputs(&ps, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC);
        run_ms(&ps, 8000);
        ck_assert_int_eq(ps.fallen, 0);
        double T = cfg.ejector_tau_s * (1.0 + 6.0 * cfg.ejector_droop);
        double peq = cfg.vac_nominal_pa / (1.0 + 5.0 * T);
        double W = (cfg.mass_dry_kg + 4.0) * G;
        double expect = 0.6 * 6.0 * peq * ps.cup_area_m2 / W;
        phys_set_outputs(&ps, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_BLOW);
        run_ms(&ps, 3000);
        if (expect < 1.0) {
            ck_assert_double_eq_tol(expect, 0.766, 0.001);
            ck_assert_int_eq(ps.fallen, 1);
            ck_assert_int_eq(ps.fall, PHYS_FALL_SLIP);
        } else {
            ck_assert_double_eq_tol(expect, 1.502, 0.001);
            ck_assert_int_eq(ps.fallen, 0);
            ck_assert_double_eq_tol(ps.hold.factor, expect, 0.002 * expect);
            ck_assert_double_lt(ps.hold.factor, cfg.required_factor);
        }
        phys_free(&ps);
        facade_free(f);
    }
}
END_TEST

/* ---------------------------------------------------------- water, wet */

/* Spraying drains the tank at 3.3 g/s and wets the glass (mu 0.5 -> 0.25):
 * the factor halves at once, then rises as the robot gets lighter:
 * factor(t2) / factor(t1) = m(t1) / m(t2). */
START_TEST(test_water_drain)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    cfg.leak_per_s[FACADE_GLASS] = 0.0;
    facade *f = glass_facade();
    phys_start st;
    start_at(&st, &cfg, f, 0, 1, 30.0);
    phys_state ps;
    init_ok(&ps, &cfg, f, &st);
    phys_set_outputs(&ps, CC_Y_B_DOWN);
    run_ms(&ps, 1);
    double dry = ps.hold.factor;
    phys_set_outputs(&ps, CC_Y_B_DOWN | CC_Y_SPRAY);
    run_ms(&ps, 1);
    double wet1 = ps.hold.factor, m1 = phys_mass_kg(&ps);
    ck_assert_double_eq_tol(wet1 / dry, 0.5 * (25.0 / m1), 1e-9);
    run_ms(&ps, 60000);
    double wet2 = ps.hold.factor, m2 = phys_mass_kg(&ps);
    ck_assert_double_eq_tol(ps.water_kg, 4.0 - 0.0033 * 60.001, 1e-9); /* 60.001 s of spraying */
    ck_assert_double_eq_tol(m1 - m2, 0.0033 * 60.0, 1e-9);
    ck_assert_double_gt(wet2, wet1);
    ck_assert_double_eq_tol(wet2 / wet1, m1 / m2, 1e-9);
    /* spray off: the facade dries after wet_dry_s */
    phys_set_outputs(&ps, CC_Y_B_DOWN);
    run_ms(&ps, (int)(cfg.wet_dry_s * 1000.0) + 1);
    ck_assert_double_eq_tol(ps.hold.factor / wet2, 2.0, 1e-9);
    phys_free(&ps);

    /* water low (X21) below 0.4 kg: from 0.5 kg after (0.1 / 0.0033) = 30.3 s */
    start_at(&st, &cfg, f, 0, 1, 30.0);
    st.water_kg = 0.5;
    init_ok(&ps, &cfg, f, &st);
    phys_set_outputs(&ps, CC_Y_B_DOWN | CC_Y_SPRAY);
    run_ms(&ps, 30300);
    ck_assert(!(phys_inputs(&ps) & CC_X_WATER_LOW));
    run_ms(&ps, 10);
    ck_assert(phys_inputs(&ps) & CC_X_WATER_LOW);
    phys_free(&ps);
    facade_free(f);
}
END_TEST

/* The disc brush (600 mm) on the carriage cleans while brush and spray run
 * and the carriage moves: a 300 mm sweep covers a stadium of
 * 0.6 x 0.3 + pi 0.3^2 = 0.4627 m2 = 185 cells of 50 mm. */
START_TEST(test_brush_cleans)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    phys_start st;
    start_at(&st, &cfg, f, 1, 0, 60.0); /* A grips: X moves the carriage with B */
    st.cyl_mm[0] = 0.0;
    phys_state ps;
    init_ok(&ps, &cfg, f, &st);
    uint16_t hold_a = CC_Y_A_DOWN | CC_Y_A_VAC;
    /* brush without motion cleans nothing; motion without the brush neither */
    phys_set_outputs(&ps, hold_a | CC_Y_BRUSH | CC_Y_SPRAY);
    run_ms(&ps, 500);
    ck_assert_uint_eq(ps.cleaned_n, 0);
    phys_set_outputs(&ps, hold_a | CC_Y_X_PLUS);
    run_ms(&ps, 2500);
    ck_assert_uint_eq(ps.cleaned_n, 0);
    phys_set_outputs(&ps, hold_a | CC_Y_X_MINUS | CC_Y_BRUSH | CC_Y_SPRAY);
    run_ms(&ps, 2500);
    ck_assert_double_eq(ps.cyl_pos_m[0], 0.0);
    double expect = (0.6 * 0.3 + M_PI * 0.09) / (0.05 * 0.05);
    ck_assert_double_eq_tol((double)ps.cleaned_n, expect, 0.08 * expect);
    ck_assert_uint_eq(ps.cleanable_n, 10000);
    /* the brush pushes the robot off: pull 20 N */
    ck_assert_double_eq_tol(ps.hold.pull_n, 20.0, 1e-12);
    phys_free(&ps);
    facade_free(f);
}
END_TEST

/* ----------------------------------------------------- sensors, adapter */

/* Edge sensors look 50 mm past the outermost cup rim: near the top of a
 * facade whose top rows are void, X17 (+Y edge) closes. */
static char void_top(int c, int r)
{
    (void)c;
    return r >= 90 ? '~' : '.'; /* void from y = 4.5 m */
}

START_TEST(test_edge_and_proximity)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = make_facade(100, 100, 50, void_top);
    phys_start st;
    start_at(&st, &cfg, f, 1, 1, 60.0);
    /* B2's top cup: y + 0.4 + 0.08 + 0.05 (+ 0.05 look-ahead) = y + 0.58 */
    st.y_mm = 4500.0 - 580.0 - 1.0;
    phys_state ps;
    init_ok(&ps, &cfg, f, &st);
    ck_assert(!(phys_inputs(&ps) & CC_X_EDGE_YP));
    phys_free(&ps);
    st.y_mm = 4500.0 - 580.0 + 1.0;
    init_ok(&ps, &cfg, f, &st);
    uint32_t x = phys_inputs(&ps);
    ck_assert(x & CC_X_EDGE_YP);
    ck_assert(!(x & (CC_X_EDGE_XP | CC_X_EDGE_XM | CC_X_EDGE_YM)));
    /* proximity from the carriage: up to the void at 4.5 m = 579 mm; right
     * to the grid's edge at 5 m: 2500 mm, beyond the 2000 mm range */
    ck_assert_double_eq_tol(phys_prox_m(&ps, FACADE_DIR_YP, 2.0), 0.579, 1e-9);
    ck_assert_double_eq(phys_prox_m(&ps, FACADE_DIR_XP, 2.0), -1.0);
    phys_free(&ps);
    facade_free(f);
}
END_TEST

/* The plant adapter: Y outputs in, X inputs and the analog block out. */
START_TEST(test_plant_adapter)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    cfg.vac_noise_pa = cfg.vac_offset_spread_pa = 0.0;
    cfg.prox_noise_m = 0.0;
    cfg.prox_dropout = 0.0;
    cfg.tether_noise_n = cfg.supply_noise_pa = cfg.pos_noise_m = 0.0;
    facade *f = glass_facade();
    phys_start st;
    start_at(&st, &cfg, f, 1, 1, 60.0);
    st.x_mm = 1000.0;
    st.y_mm = 1500.0;
    robotsim *rs = malloc(sizeof *rs);
    fxmem *mem = calloc(1, sizeof *mem);
    ck_assert_ptr_nonnull(rs);
    ck_assert_ptr_nonnull(mem);
    char err[256];
    ck_assert_int_eq(robotsim_init(rs, &cfg, f, &st, 7, err, sizeof err), 0);
    plcsim_plant p = robotsim_plant(rs);
    ck_assert_ptr_eq(p.self, rs);
    /* Y4 Y5 Y6 Y7 (legs down, vacuum on) */
    mem->y[4] = mem->y[5] = mem->y[6] = mem->y[7] = 1;
    p.output(p.self, mem, 0);
    ck_assert_uint_eq(rs->y_bits, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC);
    p.input(p.self, mem, 2000);
    ck_assert_uint_eq(rs->phys.t_us, 2000000);
    /* X5 X7 legs down, X10 X11 vacuum, X12 E-stop healthy, X13 X14, X22 key */
    static const int on[] = {5, 7, 8, 9, 10, 11, 12, 18};
    for (size_t i = 0; i < sizeof on / sizeof on[0]; i++) ck_assert_uint_eq(mem->x[on[i]], 1);
    static const int off[] = {0, 1, 2, 3, 4, 6, 13, 14, 15, 16, 17};
    for (size_t i = 0; i < sizeof off / sizeof off[0]; i++) ck_assert_uint_eq(mem->x[off[i]], 0);
    /* cups: the true vacuum in 0.1 kPa (no noise, no offset) */
    for (int i = 0; i < 12; i++)
        ck_assert_uint_eq(rs->analog[ROBOTSIM_AN_CUP0 + i],
                          (unsigned)floor(rs->phys.vac_pa[i] / 100.0 + 0.5));
    ck_assert_uint_ge(rs->analog[ROBOTSIM_AN_CUP0], 580);
    /* proximity from the carriage at (1000, 1500): -X 1000 mm, -Y 1500 mm,
     * +X 4000 and +Y 3500: beyond 2000 mm, no echo */
    ck_assert_uint_eq(rs->analog[ROBOTSIM_AN_PROX0 + 1], 1000);
    ck_assert_uint_eq(rs->analog[ROBOTSIM_AN_PROX0 + 3], 1500);
    ck_assert_uint_eq(rs->analog[ROBOTSIM_AN_PROX0 + 0], 0xFFFF);
    ck_assert_uint_eq(rs->analog[ROBOTSIM_AN_PROX0 + 2], 0xFFFF);
    ck_assert_uint_eq(rs->analog[ROBOTSIM_AN_TETHER], 40);
    ck_assert_uint_eq(rs->analog[ROBOTSIM_AN_SUPPLY], 600);
    ck_assert_uint_eq(rs->analog[ROBOTSIM_AN_POS_X], 0xFFFF); /* no position sensors */
    ck_assert_uint_eq(rs->analog[ROBOTSIM_AN_POS_Y], 0xFFFF);
    /* E-stop pressed: X12 opens */
    rs->phys.env.estop_ok = 0;
    p.input(p.self, mem, 2010);
    ck_assert_uint_eq(mem->x[10], 0);
    /* Y10 (octal) = y[8]: A blow-off */
    memset(mem->y, 0, sizeof mem->y);
    mem->y[4] = mem->y[5] = mem->y[7] = mem->y[8] = 1;
    p.output(p.self, mem, 2010);
    ck_assert_uint_eq(rs->y_bits, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_A_BLOW);
    p.input(p.self, mem, 3010);
    ck_assert_uint_lt(rs->analog[ROBOTSIM_AN_CUP0], 100); /* < 10 kPa after 1 s of blow-off */
    robotsim_free(rs);

    /* position sensors fitted: mid stroke = 150 mm */
    cfg.position_sensors = 1;
    ck_assert_int_eq(robotsim_init(rs, &cfg, f, &st, 7, err, sizeof err), 0);
    ck_assert_uint_eq(rs->analog[ROBOTSIM_AN_POS_X], 150);
    ck_assert_uint_eq(rs->analog[ROBOTSIM_AN_POS_Y], 150);
    robotsim_free(rs);
    free(mem);
    free(rs);
    facade_free(f);
}
END_TEST

/* One scripted run: a half step of group A while B holds, through the
 * adapter with noise and gusts; returns the checksum of everything read. */
static void scripted_run(robotsim *rs, const robotcfg *cfg, const facade *f, uint64_t seed,
                         uint16_t *trace, size_t ntrace)
{
    fxmem *mem = calloc(1, sizeof *mem);
    ck_assert_ptr_nonnull(mem);
    char err[256];
    ck_assert_int_eq(robotsim_init(rs, cfg, f, NULL, seed, err, sizeof err), 0);
    static const struct {
        uint64_t at_ms;
        uint16_t y;
    } script[] = {
        {0, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC},
        {1500, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_A_BLOW},
        {2300, CC_Y_B_DOWN | CC_Y_B_VAC},
        {2800, CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_Y_PLUS | CC_Y_BRUSH | CC_Y_SPRAY},
        {5200, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC},
        {5700, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC},
    };
    size_t k = 0, n = 0;
    for (uint64_t t = 0; t <= 7000; t += 10) {
        robotsim_input(rs, mem, t);
        if (k < sizeof script / sizeof script[0] && script[k].at_ms == t) {
            for (unsigned b = 0; b < 16; b++) mem->y[b] = (uint8_t)((script[k].y >> b) & 1u);
            k++;
        }
        robotsim_output(rs, mem, t);
        for (int i = 0; i < ROBOTSIM_ANALOG_N && n < ntrace; i++) trace[n++] = rs->analog[i];
    }
    free(mem);
}

/* Determinism: the same seed gives the same state and readings bit for bit;
 * another seed gives other noise (but the same physics: noise never feeds
 * back into the plant). */
START_TEST(test_determinism)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    cfg.gust_m_s = 8.0;
    cfg.gust_rate_per_s = 0.5;
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/sim/facades/default.txt", src_dir());
    facade *f;
    ck_assert_msg(facade_load_file(path, &f, err, sizeof err) == 0, "%s", err);
    enum { NT = 701 * ROBOTSIM_ANALOG_N };
    uint16_t *t1 = calloc(NT, 2), *t2 = calloc(NT, 2), *t3 = calloc(NT, 2);
    robotsim *r1 = malloc(sizeof *r1), *r2 = malloc(sizeof *r2), *r3 = malloc(sizeof *r3);
    ck_assert(t1 && t2 && t3 && r1 && r2 && r3);
    scripted_run(r1, &cfg, f, 42, t1, NT);
    scripted_run(r2, &cfg, f, 42, t2, NT);
    scripted_run(r3, &cfg, f, 43, t3, NT);
    ck_assert(memcmp(t1, t2, NT * 2) == 0);
    ck_assert(memcmp(r1->phys.vac_pa, r2->phys.vac_pa, sizeof r1->phys.vac_pa) == 0);
    ck_assert(memcmp(r1->phys.body_m, r2->phys.body_m, sizeof r1->phys.body_m) == 0);
    ck_assert(memcmp(&r1->phys.hold, &r2->phys.hold, sizeof r1->phys.hold) == 0);
    ck_assert(memcmp(r1->phys.cleaned, r2->phys.cleaned, (size_t)f->cols * f->rows) == 0);
    ck_assert_uint_eq(r1->phys.cleaned_n, r2->phys.cleaned_n);
    ck_assert_uint_gt(r1->phys.cleaned_n, 0);
    ck_assert(memcmp(t1, t3, NT * 2) != 0);
    /* the half step happened: A and the carriage went up 150 mm (B gripping,
     * Y carriage to the + end), brushing on the way */
    ck_assert_double_eq_tol(r1->phys.cyl_pos_m[1], 0.3, 1e-12);
    ck_assert_int_eq(r1->phys.fallen, 0);
    /* the gusts too: same seed, same wind */
    ck_assert_double_eq(r1->phys.env.wind_m_s, r2->phys.env.wind_m_s);
    robotsim_free(r1);
    robotsim_free(r2);
    robotsim_free(r3);
    free(r1);
    free(r2);
    free(r3);
    free(t1);
    free(t2);
    free(t3);
    facade_free(f);
}
END_TEST

/* The RNG: xoshiro256** from splitmix64, reproducible; the Gaussian has
 * mean 0 and variance 1 (Irwin-Hall). */
START_TEST(test_rng)
{
    robotsim_rng a, b;
    robotsim_rng_seed(&a, 1, 0);
    robotsim_rng_seed(&b, 1, 0);
    for (int i = 0; i < 100; i++) ck_assert_uint_eq(robotsim_rng_next(&a), robotsim_rng_next(&b));
    robotsim_rng_seed(&b, 1, 1);
    ck_assert_uint_ne(robotsim_rng_next(&a), robotsim_rng_next(&b));
    double s = 0.0, s2 = 0.0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double g = robotsim_rng_gauss(&a);
        s += g;
        s2 += g * g;
    }
    ck_assert_double_eq_tol(s / n, 0.0, 0.01);
    ck_assert_double_eq_tol(s2 / n, 1.0, 0.02);
    double u = robotsim_rng_uniform(&a);
    ck_assert(u >= 0.0 && u < 1.0);
}
END_TEST

/* Every shipped facade takes the default robot at its start point without a fall. */
START_TEST(test_shipped_facades_hold)
{
    static const char *const names[] = {"default.txt", "tiled.txt", "mixed.txt", "tall_narrow.txt"};
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    for (size_t i = 0; i < 4; i++) {
        char path[1024], err[512];
        snprintf(path, sizeof path, "%s/sim/facades/%s", src_dir(), names[i]);
        facade *f;
        ck_assert_msg(facade_load_file(path, &f, err, sizeof err) == 0, "%s", err);
        phys_state ps;
        init_ok(&ps, &cfg, f, NULL);
        phys_set_outputs(&ps, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC);
        run_ms(&ps, 5000);
        ck_assert_msg(!ps.fallen, "%s: %s", names[i], ps.fall_reason);
        ck_assert_msg(ps.hold.factor >= cfg.required_factor, "%s: factor %.2f", names[i],
                      ps.hold.factor);
        phys_free(&ps);
        facade_free(f);
    }
}
END_TEST

static Suite *physics_suite(void)
{
    Suite *s = suite_create("physics");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, test_defaults_are_spec);
    tcase_add_test(tc, test_default_ini_matches);
    tcase_add_loop_test(tc, test_cfg_errors, 0, (int)N_CFG_BAD);
    tcase_add_test(tc, test_cfg_values);
    suite_add_tcase(s, tc);
    tc = tcase_create("physics");
    tcase_add_test(tc, test_cup_force);
    tcase_add_test(tc, test_slip_exact);
    tcase_add_test(tc, test_peel_exact);
    tcase_add_test(tc, test_wind_pull);
    tcase_add_test(tc, test_vacuum_time_constant);
    tcase_add_test(tc, test_blowoff);
    tcase_add_test(tc, test_joint_cannot_seal);
    tcase_add_test(tc, test_mullion_overlap);
    tcase_add_test(tc, test_cylinder_travel_time);
    tcase_add_test(tc, test_kinematics);
    tcase_add_test(tc, test_stalls);
    tcase_add_test(tc, test_legs);
    tcase_add_test(tc, test_release_both_falls);
    tcase_add_test(tc, test_release_one_on_joint);
    tcase_add_test(tc, test_water_drain);
    tcase_add_test(tc, test_brush_cleans);
    tcase_add_test(tc, test_edge_and_proximity);
    tcase_add_test(tc, test_shipped_facades_hold);
    suite_add_tcase(s, tc);
    tc = tcase_create("robotsim");
    tcase_add_test(tc, test_plant_adapter);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_rng);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(physics_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
