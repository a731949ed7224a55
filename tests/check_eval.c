/*
 * check_eval.c — Check suites for perception/eval.c (AUROC, confusion,
 * the rule-based baseline, the false-alarm threshold, the first flag, the
 * modality ablation) and for the shipped weights in perception/weights/.
 *
 * Every expected number is computed by hand in the comment next to it.
 * The shipped-weights test needs CROSSCLIMB_SRC (set by the Makefile).
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perception/eval.h"
#include "perception/features.h"
#include "perception/fusion.h"
#include "perception/safetensors.h"

int main(void);

#define SHIPPED "perception/weights/fusion-default.safetensors"

/* ---- AUROC ---- */

START_TEST(auroc_hand_computed)
{
    /* positives 0.35, 0.8; negatives 0.1, 0.4: pairs (pos > neg)
     * 0.35>0.1 yes, 0.35>0.4 no, 0.8>0.1 yes, 0.8>0.4 yes -> 3/4 */
    const double s[4] = {0.1, 0.4, 0.35, 0.8};
    const uint8_t y[4] = {0, 0, 1, 1};
    double a = -1;
    ck_assert_int_eq(eval_auroc(s, y, 4, &a), 0);
    ck_assert_double_eq_tol(a, 0.75, 1e-12);

    /* ties count one half: positives 0.5, 0.9; negatives 0.5, 0.2:
     * 0.5~0.5 -> 0.5, 0.5>0.2 -> 1, 0.9>0.5 -> 1, 0.9>0.2 -> 1: 3.5/4 */
    const double t[4] = {0.5, 0.5, 0.2, 0.9};
    const uint8_t z[4] = {1, 0, 0, 1};
    ck_assert_int_eq(eval_auroc(t, z, 4, &a), 0);
    ck_assert_double_eq_tol(a, 0.875, 1e-12);

    /* perfect, inverted, all tied */
    const double u[4] = {1, 2, 3, 4};
    const uint8_t up[4] = {0, 0, 1, 1}, dn[4] = {1, 1, 0, 0};
    ck_assert_int_eq(eval_auroc(u, up, 4, &a), 0);
    ck_assert_double_eq_tol(a, 1.0, 1e-12);
    ck_assert_int_eq(eval_auroc(u, dn, 4, &a), 0);
    ck_assert_double_eq_tol(a, 0.0, 1e-12);
    const double same[4] = {7, 7, 7, 7};
    ck_assert_int_eq(eval_auroc(same, up, 4, &a), 0);
    ck_assert_double_eq_tol(a, 0.5, 1e-12);

    /* five items, mixed ties: positives 3, 2; negatives 1, 2, 3:
     * 3 vs (1,2,3) = 1 + 1 + 0.5, 2 vs (1,2,3) = 1 + 0.5 + 0 -> 4/6 */
    const double v[5] = {3, 2, 1, 2, 3};
    const uint8_t vy[5] = {1, 1, 0, 0, 0};
    ck_assert_int_eq(eval_auroc(v, vy, 5, &a), 0);
    ck_assert_double_eq_tol(a, 4.0 / 6.0, 1e-12);
}
END_TEST

START_TEST(auroc_undefined_and_bad_args)
{
    const double s[3] = {1, 2, 3};
    const uint8_t none[3] = {0, 0, 0}, all[3] = {1, 1, 1};
    double a = 42;
    ck_assert_int_eq(eval_auroc(s, none, 3, &a), EVAL_E_UNDEFINED);
    ck_assert_int_eq(eval_auroc(s, all, 3, &a), EVAL_E_UNDEFINED);
    ck_assert_double_eq(a, 42);
    ck_assert_int_eq(eval_auroc(s, none, 0, &a), EVAL_E_ARG);
    ck_assert_int_eq(eval_auroc(NULL, none, 3, &a), EVAL_E_ARG);
    ck_assert_str_eq(eval_strerror(EVAL_E_UNDEFINED), "AUROC undefined: only one class present");
}
END_TEST

/* ---- path ---- */

START_TEST(confusion_and_accuracy)
{
    eval_confusion c;
    eval_confusion_clear(&c);
    ck_assert_double_eq(eval_accuracy(&c), 0.0);
    eval_confusion_add(&c, FUSION_PATH_PROCEED, FUSION_PATH_PROCEED);
    eval_confusion_add(&c, FUSION_PATH_STOP, FUSION_PATH_STOP);
    eval_confusion_add(&c, FUSION_PATH_SHORTEN, FUSION_PATH_PROCEED);
    eval_confusion_add(&c, FUSION_PATH_SIDESTEP_LEFT, FUSION_PATH_SIDESTEP_RIGHT);
    eval_confusion_add(&c, 9, 0); /* out of range: ignored */
    ck_assert_uint_eq(c.n, 4);
    ck_assert_uint_eq(c.m[FUSION_PATH_SHORTEN][FUSION_PATH_PROCEED], 1);
    ck_assert_uint_eq(c.m[FUSION_PATH_SIDESTEP_LEFT][FUSION_PATH_SIDESTEP_RIGHT], 1);
    ck_assert_double_eq_tol(eval_accuracy(&c), 0.5, 1e-12);
    const float p[FUSION_PATH] = {0.1f, 0.3f, 0.3f, 0.2f, 0.1f};
    ck_assert_uint_eq(eval_path_argmax(p), 1); /* the first of a tie */
}
END_TEST

/* ---- baseline ---- */

/* A healthy snapshot: both groups holding at 58 kPa, steady, feet at the
 * default robot's places, every proximity sensor without echo, camera off. */
static void healthy(feat_snapshot *s)
{
    feat_snapshot_init(s);
    for (int c = 0; c < FEAT_CUPS; c++) {
        s->vacuum_kpa[c] = 58.0f;
        s->vacuum_rate_kpa_s[c] = 0.0f;
    }
    static const float feet[4][2] = {{-400, 0}, {400, 0}, {0, -400}, {0, 400}};
    memcpy(s->foot_mm, feet, sizeof feet);
    s->holding[0] = s->holding[1] = true;
    for (int p = 0; p < FEAT_PROX; p++) {
        s->proximity[p].dropout = false;
        s->proximity[p].no_echo = true;
        s->proximity[p].distance_mm = 2000.0f;
    }
}

START_TEST(baseline_grip_rules)
{
    feat_snapshot s;
    eval_verdict v;
    healthy(&s);
    eval_baseline(NULL, &s, &v);
    /* every cup: level (50 - 58) / 5 = -1.6, trend (0 - 3) / 3 = -1: score -1 */
    ck_assert_double_eq_tol(v.grip_score[0], -1.0, 1e-6);
    ck_assert_int_eq(v.grip_flag[0] | v.grip_flag[1], 0);
    ck_assert_uint_eq(v.path, FUSION_PATH_PROCEED);

    /* A2b (cup 4) at 48 kPa, steady: level (50 - 48) / 5 = 0.4 > 0: A flagged, path STOP */
    s.vacuum_kpa[4] = 48.0f;
    eval_baseline(NULL, &s, &v);
    ck_assert_double_eq_tol(v.grip_score[0], 0.4, 1e-6);
    ck_assert_int_eq(v.grip_flag[0], 1);
    ck_assert_int_eq(v.grip_flag[1], 0);
    ck_assert_uint_eq(v.path, FUSION_PATH_STOP);

    /* the same cup rising at 10 kPa/s is still sealing: its level does not count */
    s.vacuum_rate_kpa_s[4] = 10.0f;
    eval_baseline(NULL, &s, &v);
    ck_assert_int_eq(v.grip_flag[0], 0);
    /* trend (-10 - 3) / 3 = -4.33 < the other cups' -1 */
    ck_assert_double_eq_tol(v.grip_score[0], -1.0, 1e-6);

    /* B1c (cup 8) at 58 kPa but falling 4.5 kPa/s: trend (4.5 - 3) / 3 = 0.5: B flagged */
    healthy(&s);
    s.vacuum_rate_kpa_s[8] = -4.5f;
    eval_baseline(NULL, &s, &v);
    ck_assert_double_eq_tol(v.grip_score[1], 0.5, 1e-6);
    ck_assert_int_eq(v.grip_flag[1], 1);

    /* a group being released (not holding) at 5 kPa, falling fast: no evidence */
    healthy(&s);
    s.holding[0] = false;
    for (int c = 0; c < 6; c++) {
        s.vacuum_kpa[c] = 5.0f;
        s.vacuum_rate_kpa_s[c] = -80.0f;
    }
    eval_baseline(NULL, &s, &v);
    ck_assert_double_eq(v.grip_score[0], EVAL_NO_EVIDENCE);
    ck_assert_int_eq(v.grip_flag[0], 0);
    ck_assert_uint_eq(v.path, FUSION_PATH_PROCEED);

    /* thresholds are the configuration's: a 10 kPa margin flags 58 - 1 = 57 */
    eval_baseline_cfg c;
    eval_baseline_default(&c);
    c.margin_kpa = 15.0f;
    healthy(&s);
    s.vacuum_kpa[0] = 57.0f;
    eval_baseline(&c, &s, &v);
    ck_assert_int_eq(v.grip_flag[0], 1); /* 57 < 45 + 15 */
}
END_TEST

START_TEST(baseline_path_rules)
{
    /* feet at +-400: reach 400 + 130 = 530 on every side.
     * PROCEED needs ahead >= 530 + 300 + 50 = 880, SHORTEN >= 730,
     * a sidestep needs that side >= 880. */
    feat_snapshot s;
    eval_verdict v;
    healthy(&s);
    s.proximity[FEAT_PY].no_echo = false;
    s.proximity[FEAT_PY].distance_mm = 880.0f;
    eval_baseline(NULL, &s, &v);
    ck_assert_uint_eq(v.path, FUSION_PATH_PROCEED);
    s.proximity[FEAT_PY].distance_mm = 879.0f;
    eval_baseline(NULL, &s, &v);
    ck_assert_uint_eq(v.path, FUSION_PATH_SHORTEN);
    s.proximity[FEAT_PY].distance_mm = 729.0f; /* left: no echo, far */
    eval_baseline(NULL, &s, &v);
    ck_assert_uint_eq(v.path, FUSION_PATH_SIDESTEP_LEFT);
    s.proximity[FEAT_NX].no_echo = false;
    s.proximity[FEAT_NX].distance_mm = 500.0f;
    eval_baseline(NULL, &s, &v);
    ck_assert_uint_eq(v.path, FUSION_PATH_SIDESTEP_RIGHT);
    s.proximity[FEAT_PX].dropout = true; /* unknown counts as blocked */
    eval_baseline(NULL, &s, &v);
    ck_assert_uint_eq(v.path, FUSION_PATH_STOP);
    /* a dropped-out sensor ahead is blocked too, whatever the others say */
    healthy(&s);
    s.proximity[FEAT_PY].dropout = true;
    eval_baseline(NULL, &s, &v);
    ck_assert_uint_eq(v.path, FUSION_PATH_SIDESTEP_LEFT);
    /* the reach follows the feet: a foot 100 mm further ahead needs 100 mm more */
    healthy(&s);
    s.foot_mm[3][1] = 500.0f;
    s.proximity[FEAT_PY].no_echo = false;
    s.proximity[FEAT_PY].distance_mm = 950.0f; /* < 500 + 130 + 350 = 980 */
    eval_baseline(NULL, &s, &v);
    ck_assert_uint_eq(v.path, FUSION_PATH_SHORTEN);
}
END_TEST

/* ---- lead time helpers ---- */

START_TEST(threshold_matches_false_alarm_rate)
{
    const double neg[10] = {0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.6, 0.4, 0.5, 0.0};
    double thr, far;
    /* 20 % of 10 = 2: flag 0.9 and 0.8 -> threshold 0.7 ("score > 0.7") */
    ck_assert_int_eq(eval_threshold_for_far(neg, 10, 0.2, &thr, &far), 0);
    ck_assert_double_eq(thr, 0.7);
    ck_assert_double_eq_tol(far, 0.2, 1e-12);
    /* 0 %: nothing flagged, threshold = the largest negative */
    ck_assert_int_eq(eval_threshold_for_far(neg, 10, 0.0, &thr, &far), 0);
    ck_assert_double_eq(thr, 0.9);
    ck_assert_double_eq(far, 0.0);
    /* ties stay together: three at 0.5, allowed 2 of 4 -> only 0.9 */
    const double tie[4] = {0.5, 0.9, 0.5, 0.5};
    ck_assert_int_eq(eval_threshold_for_far(tie, 4, 0.5, &thr, &far), 0);
    ck_assert_double_eq(thr, 0.5);
    ck_assert_double_eq_tol(far, 0.25, 1e-12);
    /* 100 %: everything */
    ck_assert_int_eq(eval_threshold_for_far(tie, 4, 1.0, &thr, &far), 0);
    ck_assert_double_eq(far, 1.0);
    ck_assert(0.5 > thr);
    ck_assert_int_eq(eval_threshold_for_far(tie, 0, 0.1, &thr, &far), EVAL_E_ARG);

    const double seq[5] = {0.1, 0.2, 0.71, 0.6, 0.9};
    ck_assert_uint_eq(eval_first_flag(seq, 5, 0.7), 2);
    ck_assert_uint_eq(eval_first_flag(seq, 5, 0.95), 5);
    ck_assert_uint_eq(eval_first_flag(seq, 5, 0.0), 0);
}
END_TEST

/* ---- ablation ---- */

/* A model file: the shipped weights (CROSSCLIMB_SRC). */
static const char *shipped_path(void)
{
    static char p[4096];
    const char *src = getenv("CROSSCLIMB_SRC");
    snprintf(p, sizeof p, "%s/%s", src && src[0] ? src : ".", SHIPPED);
    return p;
}

START_TEST(ablation_drops_the_right_tokens)
{
    float a[2 * 3] = {1, 2, 3, 4, 5, 6}, b[1 * 2] = {7, 8}, c[3 * 1] = {9, 10, 11};
    fusion_input in = {.rows = {a, b, c}, .n = {2, 1, 3}};
    for (int m = 0; m < FUSION_MODALITIES; m++) {
        fusion_input out;
        eval_drop_modality(&in, m, &out);
        for (int k = 0; k < FUSION_MODALITIES; k++) {
            ck_assert_uint_eq(out.n[k], k == m ? 0 : in.n[k]);
            ck_assert_ptr_eq(out.rows[k], k == m ? NULL : in.rows[k]);
        }
    }
    fusion_input same;
    eval_drop_modality(&in, -1, &same);
    ck_assert_mem_eq(&same, &in, sizeof in);

    /* With a real model: dropping the camera's tokens is the camera being
     * offline, dropping the proximity tokens is every sensor dropped out. */
    fusion_model m;
    fusion_workspace ws;
    char err[ST_ERR_LEN];
    ck_assert_msg(fusion_model_load(&m, shipped_path(), FUSION_LOAD_FEATURES, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_int_eq(fusion_workspace_init(&ws, &m, FEAT_MAX_TOKENS, NULL, 0), 0);
    static uint8_t px[FEAT_CAM_W * FEAT_CAM_H];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 37u + (i >> 6) * 11u);
    feat_snapshot s;
    healthy(&s);
    s.vacuum_kpa[3] = 41.0f;
    s.vacuum_rate_kpa_s[3] = -2.0f;
    s.proximity[FEAT_PY].no_echo = false;
    s.proximity[FEAT_PY].distance_mm = 700.0f;
    s.camera = (feat_camera){.online = true, .width = FEAT_CAM_W, .height = FEAT_CAM_H, .pixels = px};
    static feat_tokens t, t_off;
    ck_assert_int_eq(feat_extract(&s, &t, err, sizeof err), 0);
    ck_assert_uint_eq(t.n_camera, 48);
    ck_assert_uint_eq(t.n_proximity, 4);
    fusion_input full, dropped, offline;
    feat_to_input(&t, &full);
    for (int mod = FUSION_PROXIMITY; mod <= FUSION_CAMERA; mod++) {
        feat_snapshot s2 = s;
        if (mod == FUSION_CAMERA) s2.camera.online = false;
        else
            for (int p = 0; p < FEAT_PROX; p++) s2.proximity[p].dropout = true;
        ck_assert_int_eq(feat_extract(&s2, &t_off, err, sizeof err), 0);
        feat_to_input(&t_off, &offline);
        eval_drop_modality(&full, mod, &dropped);
        fusion_output o1, o2;
        ck_assert_int_eq(fusion_forward(&m, &ws, &dropped, &o1), 0);
        float g1[2] = {o1.grip[0], o1.grip[1]}, p1[FUSION_PATH];
        memcpy(p1, o1.path, sizeof p1);
        ck_assert_int_eq(fusion_forward(&m, &ws, &offline, &o2), 0);
        ck_assert_uint_eq(o2.n[mod], 0);
        ck_assert_float_eq(g1[0], o2.grip[0]);
        ck_assert_float_eq(g1[1], o2.grip[1]);
        for (int k = 0; k < FUSION_PATH; k++) ck_assert_float_eq(p1[k], o2.path[k]);
        ck_assert_float_eq(o2.share[mod], 0.0f);
    }
    fusion_workspace_free(&ws);
    fusion_model_free(&m);
}
END_TEST

/* ---- the shipped weights ---- */

START_TEST(shipped_weights_load_strictly)
{
    fusion_model m;
    char err[ST_ERR_LEN];
    /* the strict reader, and the features' widths */
    int rc = fusion_model_load(&m, shipped_path(), FUSION_LOAD_FEATURES, err, sizeof err);
    ck_assert_msg(rc == 0, "%s: %s", shipped_path(), err);
    ck_assert_uint_eq(m.D[FUSION_PRESSURE], FEAT_DP);
    ck_assert_uint_eq(m.D[FUSION_PROXIMITY], FEAT_DQ);
    ck_assert_uint_eq(m.D[FUSION_CAMERA], FEAT_DC);
    ck_assert_uint_ge(m.H, 4);
    ck_assert_uint_le(m.H, 64); /* small: microseconds per decision */
    /* made by the trainer from simulator data, as the README says */
    const char *trainer = st_meta_get(&m.file, "trainer");
    const char *data = st_meta_get(&m.file, "data");
    ck_assert_ptr_nonnull(trainer);
    ck_assert_str_eq(trainer, "crossclimb fusion train");
    ck_assert_ptr_nonnull(data);
    ck_assert_str_eq(data, "dataset file");
    ck_assert_ptr_nonnull(st_meta_get(&m.file, "data_fnv1a64"));
    /* it answers on a token-less input and on a healthy snapshot */
    fusion_workspace ws;
    ck_assert_int_eq(fusion_workspace_init(&ws, &m, FEAT_MAX_TOKENS, NULL, 0), 0);
    fusion_input none = {{NULL, NULL, NULL}, {0, 0, 0}};
    fusion_output o;
    ck_assert_int_eq(fusion_forward(&m, &ws, &none, &o), 0);
    for (int g = 0; g < 2; g++) ck_assert(o.grip[g] > 0.0f && o.grip[g] < 1.0f);
    fusion_workspace_free(&ws);
    fusion_model_free(&m);
}
END_TEST

static Suite *eval_suite(void)
{
    Suite *s = suite_create("eval");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, auroc_hand_computed);
    tcase_add_test(tc, auroc_undefined_and_bad_args);
    tcase_add_test(tc, confusion_and_accuracy);
    tcase_add_test(tc, threshold_matches_false_alarm_rate);
    suite_add_tcase(s, tc);
    tc = tcase_create("baseline");
    tcase_add_test(tc, baseline_grip_rules);
    tcase_add_test(tc, baseline_path_rules);
    suite_add_tcase(s, tc);
    tc = tcase_create("model");
    tcase_add_test(tc, ablation_drops_the_right_tokens);
    tcase_add_test(tc, shipped_weights_load_strictly);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(eval_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
