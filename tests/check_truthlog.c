/*
 * check_truthlog.c — the ground-truth log: a short run that cleans a strip
 * and then falls (both groups released) must log a start line, state lines
 * with every cup, the cells as they get cleaned, one fall line, an end line
 * that agrees with the physics, and be byte-identical when run again.
 */
#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plc_bridge/regmap.h"
#include "robot/facade.h"
#include "sim/physics.h"
#include "robot/robotcfg.h"
#include "sim/truthlog.h"

/* 4 x 4 m of glass, 50 mm cells */
static facade *glass(void)
{
    static char text[100000];
    int n = snprintf(text, sizeof text, "facade tl\ncell_mm 50\nsize 80 80\nlegend . glass\ngrid\n");
    for (int r = 0; r < 80; r++) {
        memset(text + n, '.', 80);
        n += 80;
        text[n++] = '\n';
    }
    facade *f = NULL;
    char err[256];
    ck_assert_msg(facade_load_buffer("tl", text, (size_t)n, &f, err, sizeof err) == 0, "%s", err);
    return f;
}

/* The run: A holds, the X cylinder carries B (and the carriage with the
 * brush) 300 mm; B comes down; then both groups are blown off.  State every
 * 100 ms.  Returns the log text (malloc'd, length in *len); ps keeps the final state. */
static char *run(phys_state *ps, const robotcfg *cfg, const facade *f, size_t *len)
{
    phys_start st;
    phys_start_default(&st, cfg, f);
    st.legs_down[PHYS_GROUP_B] = 0;
    st.cyl_mm[0] = 0.0;
    char err[256];
    ck_assert_msg(phys_init(ps, cfg, f, &st, err, sizeof err) == 0, "%s", err);
    char *buf = NULL;
    FILE *fp = open_memstream(&buf, len);
    ck_assert_ptr_nonnull(fp);
    truthlog *tl = NULL;
    ck_assert_int_eq(truthlog_open(&tl, fp, ps, 42), 0);
    const uint16_t hold_a = CC_Y_A_DOWN | CC_Y_A_VAC;
    for (int t = 0; t < 8000; t++) {
        uint16_t y = t < 2500   ? hold_a | CC_Y_X_PLUS | CC_Y_BRUSH | CC_Y_SPRAY
                     : t < 5000 ? hold_a | CC_Y_B_DOWN | CC_Y_B_VAC
                                : CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_BLOW | CC_Y_B_BLOW;
        phys_set_outputs(ps, y);
        phys_step(ps, 1000);
        if ((t + 1) % 100 == 0) ck_assert_int_eq(truthlog_state(tl, ps), 0);
    }
    ck_assert_int_eq(truthlog_close(tl, ps), 0);
    fclose(fp);
    return buf;
}

START_TEST(test_truthlog)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass();
    phys_state ps;
    size_t len = 0;
    char *log = run(&ps, &cfg, f, &len);
    ck_assert_int_eq(ps.fallen, 1);

    int n_start = 0, n_state = 0, n_fall = 0, n_end = 0;
    size_t cleaned = 0;
    char *save = NULL;
    for (char *line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_object *o = json_tokener_parse(line);
        ck_assert_msg(o != NULL, "not JSON: %s", line);
        const char *type = json_object_get_string(json_object_object_get(o, "type"));
        if (strcmp(type, "start") == 0) {
            n_start++;
            ck_assert_int_eq(n_state + n_fall + n_end, 0); /* first */
            ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "facade")), "tl");
            ck_assert_uint_eq(json_object_get_uint64(json_object_object_get(o, "seed")), 42);
            ck_assert_double_eq(json_object_get_double(json_object_object_get(o, "mass_kg")),
                                25.0);
        } else if (strcmp(type, "state") == 0) {
            n_state++;
            json_object *cups = json_object_object_get(o, "cups");
            ck_assert_uint_eq(json_object_array_length(cups), 12);
            json_object *a0 = json_object_array_get_idx(cups, 0);
            double vac = json_object_get_double(json_object_object_get(a0, "vac_kpa"));
            double force = json_object_get_double(json_object_object_get(a0, "force_n"));
            /* force = vac * area, to the printed precision */
            ck_assert_double_eq_tol(force, vac * 1e3 * 7.853981633974483e-3, 0.01);
            if (n_state == 1) ck_assert_double_eq_tol(vac, 60.0, 0.2);
            json_object *fresh = json_object_object_get(o, "cleaned_new");
            cleaned += json_object_array_length(fresh);
            ck_assert_uint_eq(json_object_get_uint64(json_object_object_get(o, "cleaned_n")),
                              cleaned);
            json_object *sf = json_object_object_get(o, "sf");
            ck_assert_ptr_nonnull(json_object_object_get(sf, "factor"));
            ck_assert_ptr_nonnull(json_object_object_get(o, "carriage_m"));
        } else if (strcmp(type, "fall") == 0) {
            n_fall++;
            ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "kind")), "slip");
            ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "reason")),
                             ps.fall_reason);
            ck_assert_uint_eq(json_object_get_uint64(json_object_object_get(o, "t_us")),
                              ps.fall_t_us);
        } else if (strcmp(type, "end") == 0) {
            n_end++;
            ck_assert(json_object_get_boolean(json_object_object_get(o, "fallen")));
            ck_assert_double_eq_tol(json_object_get_double(json_object_object_get(o, "sf_min")),
                                    ps.sf_min, 0.00006);
            ck_assert_uint_eq(json_object_get_uint64(json_object_object_get(o, "cleaned_n")),
                              ps.cleaned_n);
        } else {
            ck_abort_msg("unknown type %s", type);
        }
        json_object_put(o);
    }
    ck_assert_int_eq(n_start, 1);
    ck_assert_int_eq(n_state, 80);
    ck_assert_int_eq(n_fall, 1);
    ck_assert_int_eq(n_end, 1);
    ck_assert_uint_gt(cleaned, 100); /* the 300 mm sweep: about 185 cells */
    ck_assert_uint_eq(cleaned, ps.cleaned_n);
    free(log);
    phys_free(&ps);

    /* the same run again: the same bytes */
    size_t l1 = 0, l2 = 0;
    phys_state p1, p2;
    char *b1 = run(&p1, &cfg, f, &l1), *b2 = run(&p2, &cfg, f, &l2);
    ck_assert_uint_eq(l1, l2);
    ck_assert(memcmp(b1, b2, l1) == 0);
    ck_assert_ptr_null(strstr(b1, "-0.0")); /* no negative zeros */
    free(b1);
    free(b2);
    phys_free(&p1);
    phys_free(&p2);
    facade_free(f);
    ck_assert_str_eq(truthlog_strerror(TRUTHLOG_EIO), "cannot write the ground-truth log");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("truthlog");
    TCase *tc = tcase_create("truthlog");
    tcase_add_test(tc, test_truthlog);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
