/*
 * check_holding.c — the holding model against hand computation, the
 * "verified" definition, and the robot parameters (controller/holding.h,
 * controller/params.h).
 *
 * Hand numbers (default robot, g = 9.81 m/s^2):
 *   A    = pi * 0.05^2 = 7.853982e-3 m^2
 *   F    = 60 kPa * A = 471.239 N per cup; 6 cups: 2827.43 N
 *   mu 0.5: friction 1413.72 N; weight 25 kg * 9.81 = 245.25 N; slip 5.7644
 *   peel, group A: levers 170, 50, 50 mm per foot (edge 90 mm below the feet)
 *     M_r = 471.239 * 2 * 0.270 = 254.469 N m; M_o = 245.25 * 0.120 = 29.43 N m
 *     peel = 8.6466
 *   group B: levers 170 50 50 + 970 850 850 mm = 2.940 m: M_r = 1385.44 N m, peel 47.076
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "controller/holding.h"
#include "controller/params.h"

#define EPS_REL 1e-4

static params_robot P;

static void setup(void)
{
    params_defaults(&P);
}

static void near(double got, double want, const char *what)
{
    double tol = fabs(want) * EPS_REL + 1e-6;
    ck_assert_msg(fabs(got - want) <= tol, "%s: got %.6f, want %.6f", what, got, want);
}

static void all_cups(float v[6], float kpa)
{
    for (unsigned i = 0; i < 6; i++) v[i] = kpa;
}

/* Twist (hand computation, default robot, g 9.81, mu 0.25, 60 kPa):
 *   group A cups x -400, -469.282, -330.718, 400, 469.282, 330.718 mm,
 *   y 80, -40, -40: centroid (0, 0); levers 407.922, 470.983, 333.128 mm
 *   each twice: sum 2.424067 m, mean 404.0 mm
 *   friction mu sum N = 0.25 * 2827.433 = 706.858 N
 *   twist capacity mu sum N r = 0.25 * 471.239 * 2.424067 = 285.5786 N m
 *   X cylinder at its + end (s 300): dx = (1 - 5/25) * 150 = 120 mm
 *   T = 0.120 * 245.25 = 29.43 N m
 *   slip = 1 / (245.25 / 706.858 + 29.43 / 285.5786) = 2.22216 (2.8823 untwisted)
 *   group B (levers mean 404.0 mm, capacity 285.5772 N m), s 0:
 *   dx = 5/25 * 150 = 30 mm, T = 7.3575 N m, slip 2.68297 */
START_TEST(test_twist_hand_numbers)
{
    float kpa[6];
    hold_result r;
    hold_load load = {.mass_kg = 25.0f, .mu = 0.25f, .twist_arm_mm = 120.0f};
    all_cups(kpa, 60.0f);
    ck_assert_int_eq(hold_eval(&P, HOLD_GROUP_A, kpa, &load, &r), 0);
    near(r.friction_n, 706.8583, "friction N");
    near(r.twist_cap_nm, 285.5786, "A twist capacity N m");
    near(r.twist_nm, 29.43, "A twist N m");
    near(r.slip_margin, 2.222164, "A slip with twist");
    load.twist_arm_mm = 0.0f;
    ck_assert_int_eq(hold_eval(&P, HOLD_GROUP_A, kpa, &load, &r), 0);
    near(r.slip_margin, 2.882190, "A slip without twist");
    near(r.twist_nm, 0.0, "no twist");
    load.twist_arm_mm = 30.0f;
    ck_assert_int_eq(hold_eval(&P, HOLD_GROUP_B, kpa, &load, &r), 0);
    near(r.twist_cap_nm, 285.5772, "B twist capacity N m");
    near(r.twist_nm, 7.3575, "B twist N m");
    near(r.slip_margin, 2.682969, "B slip with twist");
}
END_TEST

START_TEST(test_twist_arm_from_status)
{
    cc_status st;
    memset(&st, 0, sizeof st);
    /* unknown position: the worst case over the stroke */
    near(hold_twist_arm_mm(&P, &st, HOLD_GROUP_A), 120.0, "A unknown");
    near(hold_twist_arm_mm(&P, &st, HOLD_GROUP_B), 30.0, "B unknown");
    near(hold_twist_arm_mm(&P, NULL, HOLD_GROUP_A), 120.0, "A no status");
    /* position sensor: pos +/- pos_tol (3 mm) */
    st.pos_valid[0] = 1;
    st.pos_mm[0] = 150.0f;
    near(hold_twist_arm_mm(&P, &st, HOLD_GROUP_A), 0.8 * 3.0, "A mid stroke");
    near(hold_twist_arm_mm(&P, &st, HOLD_GROUP_B), 0.2 * 3.0, "B mid stroke");
    st.pos_mm[0] = 300.0f;
    near(hold_twist_arm_mm(&P, &st, HOLD_GROUP_A), 120.0, "A + end");
    near(hold_twist_arm_mm(&P, &st, HOLD_GROUP_B), 30.0, "B + end");
    st.pos_mm[0] = 100.0f; /* dx A = 0.8 * (103 - 150) */
    near(hold_twist_arm_mm(&P, &st, HOLD_GROUP_A), 0.8 * 53.0, "A at 100 mm");
    /* end switches without a sensor */
    st.pos_valid[0] = 0;
    st.x = CC_X_XCYL_MINUS_END;
    near(hold_twist_arm_mm(&P, &st, HOLD_GROUP_A), 120.0, "A - end switch");
    near(hold_twist_arm_mm(&P, &st, HOLD_GROUP_B), 30.0, "B - end switch");
    st.x = CC_X_XCYL_PLUS_END;
    near(hold_twist_arm_mm(&P, &st, HOLD_GROUP_B), 30.0, "B + end switch");
    /* lighter body A: B's arm shrinks */
    P.body_a_kg = 2.5f;
    near(hold_twist_arm_mm(&P, &st, HOLD_GROUP_B), 15.0, "B, 2.5 kg body A");
    near(hold_twist_arm_mm(&P, &st, HOLD_GROUP_A), 0.9 * 150.0, "A, 2.5 kg body A");
}
END_TEST

START_TEST(test_twist_release_check)
{
    /* the demo's case: A alone, X at its end, wet, cups at 53 kPa:
     * untwisted 2.546 would pass, with twist 1.963 must not */
    float kpa[6];
    hold_result r;
    hold_load load = {.mass_kg = 25.0f, .mu = 0.25f};
    all_cups(kpa, 53.0f);
    ck_assert_int_eq(hold_eval(&P, HOLD_GROUP_A, kpa, &load, &r), 0);
    ck_assert(r.safety_factor >= 2.0f);
    load.twist_arm_mm = 120.0f;
    ck_assert_int_eq(hold_eval(&P, HOLD_GROUP_A, kpa, &load, &r), 0);
    ck_assert(r.safety_factor < 2.0f);
    near(r.safety_factor, 1.0 / (245.25 / (0.25 * 6 * 53e3 * 7.853982e-3) +
                                 29.43 / (0.25 * 53e3 * 7.853982e-3 * 2.424067)),
         "A at 53 kPa, twisted");
}
END_TEST

START_TEST(test_cup_area)
{
    near(params_cup_area_m2(&P), 7.853982e-3, "cup area m^2");
    P.cup_diameter_mm = 80.0f;
    near(params_cup_area_m2(&P), 5.026548e-3, "80 mm cup area m^2");
}
END_TEST

START_TEST(test_brief_hand_numbers)
{
    /* 6 cups x 60 kPa x 7.854e-3 m^2 = 2827 N; mu 0.5 -> 1414 N vs 245 N -> 5.76 */
    float kpa[6];
    hold_load load = {.mass_kg = 25.0f, .mu = 0.5f};
    hold_result r;
    all_cups(kpa, 60.0f);
    ck_assert_int_eq(hold_eval(&P, HOLD_GROUP_A, kpa, &load, &r), 0);
    for (unsigned i = 0; i < 6; i++) near(r.cup_force_n[i], 471.2389, "cup force N");
    near(r.normal_n, 2827.433, "normal N");
    near(r.net_normal_n, 2827.433, "net normal N");
    near(r.friction_n, 1413.717, "friction N");
    near(r.shear_n, 245.25, "shear N");
    near(r.slip_margin, 5.764393, "slip margin");
    ck_assert_msg(fabs(r.slip_margin - 5.76) < 0.005, "slip %.4f is not 5.76", (double)r.slip_margin);
    near(r.restore_nm, 254.4690, "restoring moment N m");
    near(r.overturn_nm, 29.43, "overturning moment N m");
    near(r.peel_margin, 8.646586, "peel margin");
    near(r.safety_factor, 5.764393, "safety factor = min(slip, peel)");
    near(r.min_cup_kpa, 60.0, "min cup kPa");
}
END_TEST

START_TEST(test_lever_arms)
{
    /* cup a straight up on the 80 mm circle: a at +80, b and c at -40 mm from
     * the foot centre; the edge is the lower rim of b/c: 40 + 50 = 90 mm below */
    static const float want_a[6] = {170, 50, 50, 170, 50, 50};
    static const float want_b[6] = {170, 50, 50, 970, 850, 850};
    float kpa[6];
    hold_load load = {.mass_kg = 25.0f, .mu = 0.5f};
    hold_result r;
    all_cups(kpa, 60.0f);
    ck_assert_int_eq(hold_eval(&P, HOLD_GROUP_A, kpa, &load, &r), 0);
    for (unsigned i = 0; i < 6; i++) near(r.cup_lever_mm[i], want_a[i], "group A lever mm");
    ck_assert_int_eq(hold_eval(&P, HOLD_GROUP_B, kpa, &load, &r), 0);
    for (unsigned i = 0; i < 6; i++) near(r.cup_lever_mm[i], want_b[i], "group B lever mm");
    near(r.restore_nm, 471.2389 * 2.940, "group B restoring N m");
    near(r.peel_margin, 471.2389 * 2.940 / 29.43, "group B peel");
    near(r.safety_factor, 5.764393, "group B: slip governs");
}
END_TEST

START_TEST(test_one_cup_lost)
{
    /* A1a (the apex cup of foot 1) reads 0: 5 cups carry */
    float kpa[6];
    hold_load load = {.mass_kg = 25.0f, .mu = 0.5f};
    hold_result r;
    all_cups(kpa, 60.0f);
    kpa[0] = 0.0f;
    ck_assert_int_eq(hold_eval(&P, HOLD_GROUP_A, kpa, &load, &r), 0);
    near(r.normal_n, 2356.194, "normal N with a cup lost");
    near(r.slip_margin, 0.5 * 2356.194 / 245.25, "slip");
    near(r.restore_nm, 471.2389 * 0.370, "restoring N m (50+50 + 170+50+50 mm)");
    near(r.peel_margin, 471.2389 * 0.370 / 29.43, "peel");
    near(r.min_cup_kpa, 0.0, "min cup");
}
END_TEST

START_TEST(test_peel_governs)
{
    /* centre of mass 600 mm off the facade: M_o = 245.25 * 0.6 = 147.15 N m */
    float kpa[6];
    hold_load load = {.mass_kg = 25.0f, .mu = 0.5f};
    hold_result r;
    P.com_height_mm = 600.0f;
    all_cups(kpa, 60.0f);
    ck_assert_int_eq(hold_eval(&P, HOLD_GROUP_A, kpa, &load, &r), 0);
    near(r.overturn_nm, 147.15, "overturning N m");
    near(r.peel_margin, 254.4690 / 147.15, "peel");
    ck_assert(r.peel_margin < r.slip_margin);
    near(r.safety_factor, r.peel_margin, "safety factor is the peel margin");
}
END_TEST

START_TEST(test_pull_and_shear_loads)
{
    /* 500 N pulling off at the group centre (90 mm above the edge), 100 N more shear */
    float kpa[6];
    hold_load load = {.mass_kg = 25.0f, .mu = 0.5f, .pull_n = 500.0f, .shear_extra_n = 100.0f};
    hold_result r;
    all_cups(kpa, 60.0f);
    ck_assert_int_eq(hold_eval(&P, HOLD_GROUP_A, kpa, &load, &r), 0);
    near(r.net_normal_n, 2327.433, "net normal N");
    near(r.shear_n, 345.25, "shear N");
    near(r.slip_margin, 0.5 * 2327.433 / 345.25, "slip");
    near(r.overturn_nm, 29.43 + 500.0 * 0.090, "overturning N m");
    near(r.peel_margin, 254.4690 / 74.43, "peel");
    /* pulled off outright: no margin at all */
    load.pull_n = 3000.0f;
    ck_assert_int_eq(hold_eval(&P, HOLD_GROUP_A, kpa, &load, &r), 0);
    ck_assert(r.safety_factor == 0.0f);
}
END_TEST

START_TEST(test_wet_threshold)
{
    /* wet glass mu 0.25: all cups at the 45 kPa threshold give 2.16 >= 2;
     * at 41 kPa 1.97 < 2 */
    float kpa[6];
    hold_load load = {.mass_kg = 25.0f, .mu = 0.25f};
    hold_result r;
    all_cups(kpa, 45.0f);
    ck_assert_int_eq(hold_eval(&P, HOLD_GROUP_A, kpa, &load, &r), 0);
    near(r.slip_margin, 0.25 * 6 * 45e3 * 7.853982e-3 / 245.25, "slip at 45 kPa wet");
    ck_assert(r.safety_factor >= 2.0f);
    all_cups(kpa, 41.0f);
    ck_assert_int_eq(hold_eval(&P, HOLD_GROUP_A, kpa, &load, &r), 0);
    ck_assert_msg(r.safety_factor < 2.0f, "sf %.3f", (double)r.safety_factor);
}
END_TEST

START_TEST(test_implausible_readings)
{
    float kpa[6];
    hold_load load = {.mass_kg = 25.0f, .mu = 0.5f};
    hold_result r;
    const float bad[] = {150.0f, -1.0f, NAN, INFINITY};
    for (unsigned k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        all_cups(kpa, 60.0f);
        kpa[4] = bad[k];
        ck_assert_int_eq(hold_eval(&P, HOLD_GROUP_B, kpa, &load, &r), HOLD_ESENSOR);
        ck_assert_msg(r.safety_factor == 0.0f, "an implausible reading is trusted (%g)", (double)bad[k]);
    }
    ck_assert_int_eq(hold_eval(NULL, HOLD_GROUP_A, kpa, &load, &r), HOLD_EARG);
    ck_assert_int_eq(hold_eval(&P, (hold_group)2, kpa, &load, &r), HOLD_EARG);
    ck_assert_str_eq(hold_strerror(HOLD_ESENSOR), "implausible cup reading");
    ck_assert_str_eq(hold_group_name(HOLD_GROUP_B), "B");
    ck_assert_int_eq(hold_other(HOLD_GROUP_A), HOLD_GROUP_B);
}
END_TEST

/* A status with both groups standing: legs down, switches on, cups at kpa. */
static void standing(cc_status *st, float kpa)
{
    memset(st, 0, sizeof *st);
    st->x = CC_X_A_DOWN | CC_X_B_DOWN | CC_X_A_VAC_OK | CC_X_B_VAC_OK | CC_X_ESTOP_OK |
            CC_X_TETHER_OK | CC_X_SUPPLY_OK;
    st->y = CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC;
    for (unsigned i = 0; i < 12; i++) st->cup_kpa[i] = kpa;
}

START_TEST(test_verified)
{
    cc_status st;
    hold_result r;
    standing(&st, 60.0f);
    ck_assert_int_eq(hold_group_verified(&P, &st, HOLD_GROUP_A, &r), 1);
    /* no position sensor, no end switch: the worst twist arm, 120 mm for A
     * (test_twist_hand_numbers); untwisted it would be 2.882196 */
    near(r.safety_factor, 2.222164, "wet (assume_wet) safety factor at 60 kPa, worst twist");
    ck_assert_int_eq(hold_group_verified(&P, &st, HOLD_GROUP_B, NULL), 1);
    ck_assert_int_eq(hold_group_grips(&st, HOLD_GROUP_A), 1);

    st.cup_kpa[2] = 44.9f; /* one cup below sealed */
    ck_assert_int_eq(hold_group_verified(&P, &st, HOLD_GROUP_A, NULL), 0);
    ck_assert_int_eq(hold_group_verified(&P, &st, HOLD_GROUP_B, NULL), 1);
    standing(&st, 60.0f);
    st.x &= ~CC_X_B_VAC_OK; /* vacuum switch off */
    ck_assert_int_eq(hold_group_verified(&P, &st, HOLD_GROUP_B, NULL), 0);
    ck_assert_int_eq(hold_group_grips(&st, HOLD_GROUP_B), 0);
    standing(&st, 60.0f);
    st.x &= ~CC_X_A_DOWN; /* legs not down */
    ck_assert_int_eq(hold_group_verified(&P, &st, HOLD_GROUP_A, NULL), 0);
    standing(&st, 60.0f);
    st.x |= CC_X_A_UP; /* up and down switch together */
    ck_assert_int_eq(hold_group_verified(&P, &st, HOLD_GROUP_A, NULL), 0);
    standing(&st, 60.0f);
    st.cup_kpa[7] = 120.0f; /* implausible */
    ck_assert_int_eq(hold_group_verified(&P, &st, HOLD_GROUP_B, NULL), 0);

    /* cups sealed but the safety factor too low: 30 kg at 45 kPa wet = 1.80 */
    standing(&st, 45.0f);
    /* X cylinder measured at mid stroke: twist arm 0.8 * 3 mm (pos_tol) */
    st.pos_valid[0] = 1;
    st.pos_mm[0] = 150.0f;
    ck_assert_int_eq(hold_group_verified(&P, &st, HOLD_GROUP_A, NULL), 1);
    P.mass_kg = 30.0f;
    ck_assert_int_eq(hold_group_verified(&P, &st, HOLD_GROUP_A, &r), 0);
    {
        const double f = 45e3 * 7.853982e-3, w = 30.0 * 9.81;
        const double arm = (1.0 - 5.0 / 30.0) * 3.0e-3;
        near(r.safety_factor, 1.0 / (w / (0.25 * 6 * f) + arm * w / (0.25 * f * 2.424067)),
             "sf with 30 kg");
    }
    /* without the position, the worst arm: 45 kPa no longer verifies A */
    P.mass_kg = 25.0f;
    st.pos_valid[0] = 0;
    ck_assert_int_eq(hold_group_verified(&P, &st, HOLD_GROUP_A, NULL), 0);
}
END_TEST

START_TEST(test_load_for)
{
    cc_status st;
    hold_load load;
    standing(&st, 60.0f);
    hold_load_for(&P, &st, &load);
    near(load.mu, 0.25, "assume_wet: mu wet");
    near(load.mass_kg, 25.0, "full mass");
    P.assume_wet = 0;
    hold_load_for(&P, &st, &load);
    near(load.mu, 0.5, "dry with the spray off");
    st.y |= CC_Y_SPRAY;
    hold_load_for(&P, &st, &load);
    near(load.mu, 0.25, "wet while spraying");
    ck_assert(load.pull_n == 0.0f && load.shear_extra_n == 0.0f);
    /* the brush motor driven: its reaction pulls the robot off */
    hold_result r0, r1;
    hold_group_verified(&P, &st, HOLD_GROUP_A, &r0);
    st.y |= CC_Y_BRUSH;
    hold_load_for(&P, &st, &load);
    near(load.pull_n, 20.0, "brush reaction while Y12 runs");
    hold_group_verified(&P, &st, HOLD_GROUP_A, &r1);
    /* N = sum F - P: 2827 N - 20 N */
    near(r1.net_normal_n, r0.net_normal_n - 20.0, "net normal force less the brush pull");
    ck_assert(r1.safety_factor < r0.safety_factor);
}
END_TEST

START_TEST(test_params_defaults_and_validation)
{
    char err[160];
    params_robot q;
    double xy[2];
    ck_assert_int_eq(params_validate(&P, err, sizeof err), 0);
    near(P.stroke_x_mm, 300, "stroke x");
    near(P.stroke_y_mm, 300, "stroke y");
    near(P.cup_diameter_mm, 100, "cup diameter");
    near(P.vac_sealed_kpa, 45, "sealed");
    near(P.vac_released_kpa, 10, "released");
    near(P.vac_nominal_kpa, 60, "nominal");
    near(P.mass_kg, 25, "mass");
    near(P.tank_kg, 4, "tank");
    near(P.mu_dry, 0.5, "mu dry");
    near(P.mu_wet, 0.25, "mu wet");
    near(P.safety_factor_required, 2.0, "required factor");
    ck_assert_uint_eq(P.reseat_max, 3);

    q = P;
    q.vac_released_kpa = 50.0f;
    ck_assert_int_eq(params_validate(&q, err, sizeof err), PARAMS_EORDER);
    ck_assert_msg(strstr(err, "vac_released_kpa") != NULL, "%s", err);
    q = P;
    q.stroke_x_mm = 0.0f;
    ck_assert_int_eq(params_validate(&q, err, sizeof err), PARAMS_ERANGE);
    ck_assert_msg(strstr(err, "stroke_x_mm") != NULL, "%s", err);
    q = P;
    q.grip_timeout_ticks = 0;
    ck_assert_int_eq(params_validate(&q, err, sizeof err), PARAMS_ERANGE);
    ck_assert_msg(strstr(err, "grip_timeout_ticks") != NULL, "%s", err);
    q = P;
    q.mu_wet = NAN;
    ck_assert_int_eq(params_validate(&q, NULL, 0), PARAMS_ERANGE);
    ck_assert_int_eq(params_validate(NULL, err, sizeof err), PARAMS_EARG);
    ck_assert_str_eq(params_strerror(PARAMS_EORDER), "parameters inconsistent");

    ck_assert_int_eq(params_cup_xy_mm(&P, 0, 0, xy), 0); /* A1a */
    near(xy[0], -400.0, "A1a x");
    near(xy[1], 80.0, "A1a y");
    ck_assert_int_eq(params_cup_xy_mm(&P, 0, 1, xy), 0); /* A1b */
    near(xy[0], -400.0 - 69.282032, "A1b x");
    near(xy[1], -40.0, "A1b y");
    ck_assert_int_eq(params_cup_xy_mm(&P, 1, 3, xy), 0); /* B2a */
    near(xy[0], 0.0, "B2a x");
    near(xy[1], 480.0, "B2a y");
    ck_assert_int_eq(params_cup_xy_mm(&P, 2, 0, xy), PARAMS_EARG);
    ck_assert_int_eq(params_cup_xy_mm(&P, 0, 6, xy), PARAMS_EARG);
}
END_TEST

static Suite *holding_suite(void)
{
    Suite *s = suite_create("holding");
    TCase *t = tcase_create("model");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, test_cup_area);
    tcase_add_test(t, test_brief_hand_numbers);
    tcase_add_test(t, test_lever_arms);
    tcase_add_test(t, test_one_cup_lost);
    tcase_add_test(t, test_peel_governs);
    tcase_add_test(t, test_pull_and_shear_loads);
    tcase_add_test(t, test_wet_threshold);
    tcase_add_test(t, test_implausible_readings);
    tcase_add_test(t, test_twist_hand_numbers);
    tcase_add_test(t, test_twist_arm_from_status);
    tcase_add_test(t, test_twist_release_check);
    suite_add_tcase(s, t);
    t = tcase_create("verified");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, test_verified);
    tcase_add_test(t, test_load_for);
    suite_add_tcase(s, t);
    t = tcase_create("params");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, test_params_defaults_and_validation);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(holding_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
