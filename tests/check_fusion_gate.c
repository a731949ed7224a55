/*
 * check_fusion_gate.c — the controller's perception gate (controller/fusion_gate.h):
 * the verdict → action rule, the vacuum rate from the PLC-time history, the
 * travel frame of feet and proximity, the shipped weights loaded and asked
 * (with and without a camera frame), errors, and no allocation per question.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/fusion_gate.h"
#include "perception/safetensors.h"
#include "perception/weights_write.h"
#include "tests/support/allocprobe.h"

static void weights_path(char *out, size_t len)
{
    const char *src = getenv("CROSSCLIMB_SRC");
    snprintf(out, len, "%s/perception/weights/fusion-default.safetensors", src && *src ? src : ".");
}

static fg_verdict verdict(float risk_a, float risk_b, unsigned path, float p)
{
    fg_verdict v;
    memset(&v, 0, sizeof v);
    v.grip_risk[0] = risk_a;
    v.grip_risk[1] = risk_b;
    for (unsigned k = 0; k < FUSION_PATH; k++) v.path_p[k] = (1.0f - p) / (FUSION_PATH - 1);
    v.path_p[path] = p;
    v.path = path;
    return v;
}

/* Every row of the rule in fusion_gate.h, at and either side of its thresholds. */
START_TEST(test_decide)
{
    fg_config c;
    fg_config_default(&c);
    const float full = FG_FULL_STEP_MM, short_mm = FG_FULL_STEP_MM - c.full_tol_mm - 1.0f;
    fg_verdict v = verdict(0.1f, 0.1f, 0, 0.9f);
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, full), FG_PROCEED);
    /* the lifted group's risk counts, not the other's */
    v = verdict(0.1f, 0.99f, 0, 0.9f);
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, full), FG_PROCEED);
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_B, full), FG_STOP);
    /* risk_stop: the full step (within the tolerance either side) stops ... */
    v = verdict(c.risk_stop, 0.0f, 0, 0.9f);
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, full), FG_STOP);
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, full - c.full_tol_mm), FG_STOP);
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, full + c.full_tol_mm), FG_STOP);
    /* ... a step the mission chose shorter lands elsewhere: the plan stands */
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, short_mm), FG_PROCEED);
    /* unless the path head says no step is safe: then the step is judged as the full one */
    v = verdict(c.risk_stop, 0.0f, 4, 0.5f);
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, short_mm), FG_STOP);
    v = verdict(0.1f, 0.0f, 4, 0.35f); /* STOP first but unsure: P(PROCEED) 0.1625, doubt 0.8375 */
    v.path_p[0] = 0.30f, v.path_p[1] = 0.20f, v.path_p[2] = 0.10f, v.path_p[3] = 0.05f;
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, short_mm), FG_PROCEED); /* doubt 0.70, risk low */
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, full), FG_PROCEED);
    v.grip_risk[HOLD_GROUP_A] = c.risk_act[HOLD_GROUP_A]; /* acts below the stop thresholds: */
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, short_mm), FG_PROCEED); /* not on a chosen step */
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, full), FG_SHORTEN);   /* the full one shorter */
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_B, short_mm), FG_PROCEED); /* B's risk is low */
    /* risk_act shortens the full step, per group */
    v = verdict(c.risk_act[HOLD_GROUP_A], 0.0f, 0, 0.9f);
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, full), FG_SHORTEN);
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, short_mm), FG_PROCEED);
    v = verdict(nextafterf(c.risk_act[HOLD_GROUP_A], 0.0f), 0.0f, 0, 0.9f);
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, full), FG_PROCEED);
    /* doubt: 1 - P(PROCEED) >= doubt_act shortens, or sidesteps when that is the arg max */
    static const fg_action want[FUSION_PATH] = {FG_SHORTEN, FG_SHORTEN, FG_SIDESTEP_LEFT,
                                                FG_SIDESTEP_RIGHT, FG_STOP}; /* STOP: p 0.9 >= stop_act */
    for (unsigned k = 1; k < FUSION_PATH; k++) {
        v = verdict(0.0f, 0.0f, k, 0.9f); /* P(PROCEED) = 0.025: doubt 0.975 */
        ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, full), want[k]);
        ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, short_mm), k == 4 ? FG_STOP : FG_PROCEED);
    }
    v = verdict(0.0f, 0.0f, 1, 0.5f);
    v.path_p[0] = 1.0f - c.doubt_act - 1e-3f; /* just over the threshold */
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, full), FG_SHORTEN);
    v.path_p[0] = 1.0f - c.doubt_act + 1e-3f; /* just under */
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, full), FG_PROCEED);
    /* STOP from the path head, whatever the step */
    v = verdict(0.0f, 0.0f, 4, c.stop_act);
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, short_mm), FG_STOP);
    v = verdict(0.0f, 0.0f, 4, nextafterf(c.stop_act, 0.0f)); /* unsure: the chosen step stands */
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, short_mm), FG_PROCEED);
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, full), FG_SHORTEN); /* the full one: doubt 0.95 */
    /* fail safe */
    v = verdict(nanf(""), 0.0f, 0, 0.9f);
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, full), FG_STOP);
    v = verdict(0.1f, 0.1f, 0, 0.9f);
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_A, nanf("")), FG_STOP);
    ck_assert_int_eq(fg_decide(NULL, &v, HOLD_GROUP_A, full), FG_STOP);
    ck_assert_int_eq(fg_decide(&c, &v, HOLD_GROUP_COUNT, full), FG_STOP);
    ck_assert_str_eq(fg_action_name(FG_SIDESTEP_RIGHT), "sidestep-right");
    ck_assert_str_eq(fg_action_name(FG_ACTION_COUNT), "?");
}
END_TEST

static fusion_gate G;

static void open_gate(void)
{
    char path[4096], err[512];
    weights_path(path, sizeof path);
    ck_assert_msg(fg_open(&G, path, err, sizeof err) == 0, "%s", err);
}

static void status_with(cc_status *st, float base_kpa)
{
    memset(st, 0, sizeof *st);
    for (unsigned c = 0; c < CC_CUPS_N; c++) st->cup_kpa[c] = base_kpa;
}

/* A cup falling 1.5 kPa/s while the others stand: the rate is the slope of
 * the last 1.0 s of samples, one per 100 ms of PLC time however often the
 * loop runs (ticks of 10 ms). */
START_TEST(test_rate_from_history)
{
    open_gate();
    cc_status st;
    float feet[4][2] = {{-400, 0}, {400, 0}, {0, -400}, {0, 400}};
    feat_snapshot s;
    for (uint32_t t = 0; t <= 300; t++) { /* 3 s, every 10 ms tick */
        status_with(&st, 58.0f);
        st.cup_kpa[4] = 58.0f - 1.5f * (float)t * 0.01f;
        fg_observe(&G, &st, 1000u + t);
    }
    ck_assert_uint_eq(G.hist_n, FG_HISTORY_N);
    ck_assert_int_eq(fg_snapshot(&G, &st, 0, 1, feet, NULL, &s), 0);
    ck_assert_msg(fabsf(s.vacuum_rate_kpa_s[4] + 1.5f) < 1e-3f, "rate %g", (double)s.vacuum_rate_kpa_s[4]);
    ck_assert_msg(fabsf(s.vacuum_rate_kpa_s[0]) < 1e-4f, "rate %g", (double)s.vacuum_rate_kpa_s[0]);
    ck_assert_float_eq(s.vacuum_kpa[4], st.cup_kpa[4]);
    fg_close(&G);
}
END_TEST

/* Feet and proximity in the travel frame: moving -X, "ahead" is -X and
 * "right" is +Y (ahead turned -90 degrees), as the training data's. */
START_TEST(test_travel_frame)
{
    open_gate();
    cc_status st;
    status_with(&st, 58.0f);
    st.prox_mm[0] = 100.0f; st.prox_valid[0] = 1; /* +X */
    st.prox_mm[1] = 200.0f; st.prox_valid[1] = 1; /* -X */
    st.prox_mm[2] = 300.0f; st.prox_valid[2] = 1; /* +Y */
    st.prox_valid[3] = 0;                          /* -Y: no echo */
    float feet[4][2] = {{-400, 10}, {400, 10}, {5, -400}, {5, 400}};
    feat_snapshot s;
    ck_assert_int_eq(fg_snapshot(&G, &st, 0, -1, feet, NULL, &s), 0);
    /* right = +Y: x' = y; ahead = -X: y' = -x */
    ck_assert_float_eq(s.foot_mm[0][0], 10.0f);
    ck_assert_float_eq(s.foot_mm[0][1], 400.0f);
    ck_assert_float_eq(s.foot_mm[3][0], 400.0f);
    ck_assert_float_eq(s.foot_mm[3][1], -5.0f);
    /* slots right, left, ahead, behind = +Y, -Y, -X, +X */
    ck_assert_float_eq(s.proximity[FEAT_PX].distance_mm, 300.0f);
    ck_assert(s.proximity[FEAT_NX].no_echo && !s.proximity[FEAT_NX].dropout);
    ck_assert_float_eq(s.proximity[FEAT_PY].distance_mm, 200.0f);
    ck_assert_float_eq(s.proximity[FEAT_NY].distance_mm, 100.0f);
    ck_assert(!s.camera.online);
    ck_assert(s.holding[0] && s.holding[1]);
    /* moving +Y: ahead +Y, right +X: the identity */
    ck_assert_int_eq(fg_snapshot(&G, &st, 1, 1, feet, NULL, &s), 0);
    ck_assert_float_eq(s.foot_mm[1][0], 400.0f);
    ck_assert_float_eq(s.foot_mm[1][1], 10.0f);
    ck_assert_float_eq(s.proximity[FEAT_PX].distance_mm, 100.0f);
    /* an implausible reading is a broken sensor: no token */
    st.prox_mm[0] = 60000.0f;
    ck_assert_int_eq(fg_snapshot(&G, &st, 1, 1, feet, NULL, &s), 0);
    ck_assert(s.proximity[FEAT_PX].dropout);
    ck_assert_int_eq(fg_snapshot(&G, &st, 2, 1, feet, NULL, &s), FG_EARG);
    ck_assert_int_eq(fg_snapshot(&G, &st, 0, 0, feet, NULL, &s), FG_EARG);
    fg_close(&G);
}
END_TEST

/* The shipped weights answer: probabilities and shares that sum to one, no
 * camera share (offline), the counters. */
START_TEST(test_ask_shipped)
{
    open_gate();
    cc_status st;
    status_with(&st, 58.0f);
    float feet[4][2] = {{-400, 0}, {400, 0}, {0, -400}, {0, 400}};
    fg_observe(&G, &st, 0);
    fg_verdict v;
    ck_assert_int_eq(fg_ask(&G, &st, HOLD_GROUP_B, 1, 1, FG_FULL_STEP_MM, feet, NULL, &v), 0);
    float sp = 0.0f, ss = 0.0f;
    for (unsigned k = 0; k < FUSION_PATH; k++) sp += v.path_p[k];
    for (unsigned k = 0; k < FUSION_MODALITIES; k++) ss += v.share[k];
    ck_assert(fabsf(sp - 1.0f) < 1e-5f && fabsf(ss - 1.0f) < 1e-5f);
    ck_assert_float_eq(v.share[2], 0.0f);
    ck_assert_uint_eq(v.n_tokens[0], FEAT_CUPS);
    ck_assert_uint_eq(v.n_tokens[2], 0);
    ck_assert(v.grip_risk[0] > 0.0f && v.grip_risk[0] < 1.0f);
    ck_assert_int_eq(v.action, fg_decide(&G.cfg, &v, HOLD_GROUP_B, FG_FULL_STEP_MM));
    ck_assert_uint_eq(G.asked, 1);
    ck_assert_uint_eq(G.acted[v.action], 1);
    /* a NaN reading is refused, not guessed at */
    st.cup_kpa[3] = nanf("");
    ck_assert_int_eq(fg_ask(&G, &st, HOLD_GROUP_B, 1, 1, FG_FULL_STEP_MM, feet, NULL, &v), FG_EINFER);
    ck_assert_int_eq(fg_ask(&G, &st, HOLD_GROUP_COUNT, 1, 1, FG_FULL_STEP_MM, feet, NULL, &v), FG_EARG);
    fg_close(&G);
    ck_assert_int_eq(fg_ask(&G, &st, HOLD_GROUP_B, 1, 1, FG_FULL_STEP_MM, feet, NULL, &v), FG_EARG); /* closed */
}
END_TEST

/* A 64 x 48 frame with some structure (a bright band, a dark joint). */
static uint8_t frame_px[FEAT_CAM_W * FEAT_CAM_H];

static feat_camera test_frame(void)
{
    for (unsigned y = 0; y < FEAT_CAM_H; y++)
        for (unsigned x = 0; x < FEAT_CAM_W; x++)
            frame_px[y * FEAT_CAM_W + x] = (uint8_t)(y == 20 || y == 21 ? 10 : 120 + (x * 2u) % 100u);
    return (feat_camera){.online = true, .width = FEAT_CAM_W, .height = FEAT_CAM_H, .pixels = frame_px};
}

/* The camera row of the snapshot table: an online frame gives one token per
 * 8x8 patch and a share of the attention; offline, NULL or a frame of bad
 * geometry gives none (and still an answer). */
START_TEST(test_ask_camera)
{
    open_gate();
    cc_status st;
    status_with(&st, 58.0f);
    float feet[4][2] = {{-400, 0}, {400, 0}, {0, -400}, {0, 400}};
    fg_observe(&G, &st, 0);
    feat_camera cam = test_frame();
    feat_snapshot s;
    ck_assert_int_eq(fg_snapshot(&G, &st, 1, 1, feet, &cam, &s), 0);
    ck_assert(s.camera.online);
    ck_assert_uint_eq(s.camera.width, 64);
    ck_assert_uint_eq(s.camera.height, 48);
    ck_assert_ptr_eq(s.camera.pixels, frame_px);
    fg_verdict v;
    ck_assert_int_eq(fg_ask(&G, &st, HOLD_GROUP_B, 1, 1, FG_FULL_STEP_MM, feet, &cam, &v), 0);
    ck_assert_uint_eq(v.n_tokens[2], 48);
    ck_assert_msg(v.share[2] > 0.0f, "camera share %g", (double)v.share[2]);
    float ss = 0.0f;
    for (unsigned k = 0; k < FUSION_MODALITIES; k++) ss += v.share[k];
    ck_assert(fabsf(ss - 1.0f) < 1e-5f);
    /* offline (a blackout): no tokens */
    cam.online = false;
    ck_assert_int_eq(fg_ask(&G, &st, HOLD_GROUP_B, 1, 1, FG_FULL_STEP_MM, feet, &cam, &v), 0);
    ck_assert_uint_eq(v.n_tokens[2], 0);
    ck_assert_float_eq(v.share[2], 0.0f);
    /* bad geometry or no pixels: offline, not an error */
    cam = test_frame();
    cam.width = 60;
    ck_assert_int_eq(fg_ask(&G, &st, HOLD_GROUP_B, 1, 1, FG_FULL_STEP_MM, feet, &cam, &v), 0);
    ck_assert_uint_eq(v.n_tokens[2], 0);
    cam = test_frame();
    cam.pixels = NULL;
    ck_assert_int_eq(fg_snapshot(&G, &st, 1, 1, feet, &cam, &s), 0);
    ck_assert(!s.camera.online);
    cam = test_frame();
    cam.height = FEAT_MAX_CAM_H + 8;
    ck_assert_int_eq(fg_ask(&G, &st, HOLD_GROUP_B, 1, 1, FG_FULL_STEP_MM, feet, &cam, &v), 0);
    ck_assert_uint_eq(v.n_tokens[2], 0);
    fg_close(&G);
}
END_TEST

START_TEST(test_open_errors)
{
    char err[512] = "";
    ck_assert_int_eq(fg_open(&G, "/nonexistent/w.safetensors", err, sizeof err), FG_EMODEL);
    ck_assert_msg(strstr(err, "/nonexistent/w.safetensors") != NULL, "message: %s", err);
    ck_assert_int_eq(G.open, 0);
    fg_close(&G); /* closing a gate that never opened is harmless */
    ck_assert_int_eq(fg_open(NULL, "x", err, sizeof err), FG_EARG);
    ck_assert_str_eq(fg_strerror(FG_EMODEL), "the fusion weights could not be loaded");
}
END_TEST

/* A file image with one tensor and the given metadata, parsed. */
static void file_with_meta(const st_meta *meta, size_t nmeta, st_file *f)
{
    static const float one[1] = {1.0f};
    const wt_tensor t = {.name = "x", .ndim = 1, .shape = {1}, .data = one};
    uint8_t *img = NULL;
    size_t len = 0;
    char err[256] = "";
    ck_assert_msg(wt_serialize(&t, 1, meta, nmeta, &img, &len, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(st_parse_buffer(img, len, "t.safetensors", f, err, sizeof err) == 0, "%s", err);
    free(img);
}

/* The thresholds travel with the weights (fusion calibrate writes them). */
START_TEST(test_config_from_meta)
{
    fg_config c, d;
    fg_config_default(&d);
    st_file f;
    const st_meta good[] = {{FG_META_RISK_ACT_A, "0.5"}, {FG_META_RISK_ACT_B, "0.25"},
                            {FG_META_DOUBT_ACT, "0.75"}, {FG_META_RISK_STOP, "1"}};
    file_with_meta(good, 4, &f);
    c = d;
    char err[256] = "";
    ck_assert_int_eq(fg_config_from_meta(&f, "t.safetensors", &c, err, sizeof err), FG_OK);
    ck_assert_float_eq(c.risk_act[HOLD_GROUP_A], 0.5f);
    ck_assert_float_eq(c.risk_act[HOLD_GROUP_B], 0.25f);
    ck_assert_float_eq(c.doubt_act, 0.75f);
    ck_assert_float_eq(c.risk_stop, 1.0f);
    ck_assert_float_eq(c.stop_act, d.stop_act); /* absent: kept */
    st_free(&f);
    static const char *const bad[] = {"1.5", "-0.1", "abc", "", "0.5x", "nan", "inf"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const st_meta m[] = {{FG_META_STOP_ACT, bad[i]}};
        file_with_meta(m, 1, &f);
        c = d;
        err[0] = '\0';
        ck_assert_int_eq(fg_config_from_meta(&f, "t.safetensors", &c, err, sizeof err), FG_EMODEL);
        ck_assert_msg(strstr(err, "t.safetensors") && strstr(err, FG_META_STOP_ACT), "message: %s", err);
        ck_assert_float_eq(c.stop_act, d.stop_act);
        st_free(&f);
    }
}
END_TEST

/* The shipped weights are calibrated: fg_open takes their thresholds, not the defaults. */
START_TEST(test_shipped_calibrated)
{
    char path[1024];
    weights_path(path, sizeof path);
    st_file f;
    char err[512] = "";
    ck_assert_msg(st_load_file(path, &f, err, sizeof err) == 0, "%s", err);
    const char *keys[] = {FG_META_RISK_ACT_A, FG_META_RISK_ACT_B, FG_META_DOUBT_ACT, FG_META_STOP_ACT,
                          FG_META_RISK_STOP};
    float want[5];
    for (int i = 0; i < 5; i++) {
        const char *v = st_meta_get(&f, keys[i]);
        ck_assert_msg(v != NULL, "%s: no %s (make weights calibrates)", path, keys[i]);
        want[i] = strtof(v, NULL);
    }
    ck_assert_ptr_nonnull(st_meta_get(&f, "gate.calibration"));
    st_free(&f);
    ck_assert_msg(fg_open(&G, path, err, sizeof err) == 0, "%s", err);
    ck_assert_float_eq(G.cfg.risk_act[HOLD_GROUP_A], want[0]);
    ck_assert_float_eq(G.cfg.risk_act[HOLD_GROUP_B], want[1]);
    ck_assert_float_eq(G.cfg.doubt_act, want[2]);
    ck_assert_float_eq(G.cfg.stop_act, want[3]);
    ck_assert_float_eq(G.cfg.risk_stop, want[4]);
    /* stopping is rarer than shortening: its thresholds are the higher */
    ck_assert(G.cfg.risk_stop > G.cfg.risk_act[HOLD_GROUP_A] && G.cfg.risk_stop > G.cfg.risk_act[HOLD_GROUP_B]);
    fg_close(&G);
}
END_TEST

#if ALLOC_PROBE_WORKS
/* The control loop's rule: observe and ask allocate nothing. */
START_TEST(test_no_allocation)
{
    open_gate();
    cc_status st;
    status_with(&st, 58.0f);
    float feet[4][2] = {{-400, 0}, {400, 0}, {0, -400}, {0, 400}};
    fg_verdict v;
    feat_camera cam = test_frame();
    ck_assert_int_eq(fg_ask(&G, &st, HOLD_GROUP_A, 0, 1, FG_FULL_STEP_MM, feet, &cam, &v), 0); /* warm */
    alloc_probe_selftest();
    alloc_snap a = alloc_snapshot();
    for (uint32_t i = 0; i < 2000; i++) {
        st.cup_kpa[i % CC_CUPS_N] = 50.0f + (float)(i % 7);
        fg_observe(&G, &st, i * 3u);
        ck_assert(fg_ask(&G, &st, (hold_group)(i & 1u), i & 1u, (i & 2u) ? 1 : -1, FG_FULL_STEP_MM, feet, (i & 4u) ? &cam : NULL, &v) == 0);
    }
    alloc_snap b = alloc_snapshot();
    alloc_assert_same(&a, &b, "fg_observe/fg_ask");
    fg_close(&G);
}
END_TEST
#endif

int main(void)
{
    Suite *s = suite_create("fusion_gate");
    TCase *tc = tcase_create("gate");
    tcase_add_test(tc, test_decide);
    tcase_add_test(tc, test_rate_from_history);
    tcase_add_test(tc, test_travel_frame);
    tcase_add_test(tc, test_ask_shipped);
    tcase_add_test(tc, test_ask_camera);
    tcase_add_test(tc, test_open_errors);
    tcase_add_test(tc, test_config_from_meta);
    tcase_add_test(tc, test_shipped_calibrated);
#if ALLOC_PROBE_WORKS
    tcase_add_test(tc, test_no_allocation);
#endif
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
