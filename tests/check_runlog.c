/*
 * check_runlog.c — the run log writer (controller/runlog.c): no heap
 * allocation per record (the control loop calls it), strings escaped
 * exactly as json-c escapes them, NaN as null, and a record too long for
 * the line buffer dropped whole, never written in part.
 */
#include <check.h>
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctl.h"
#include "controller/mission.h"
#include "controller/params.h"
#include "controller/runlog.h"
#include "tests/support/tmpdir.h"
#include "tests/support/allocprobe.h"

/* Shared fixtures: big structs, so static rather than on the test's stack. */
static ctl c;
static params_robot prm;
static mis_config mcfg;
static mis_dyn dyn;
static mis_plan plan;

static void fixtures(void)
{
    char err[256];
    params_defaults(&prm);
    mis_config_defaults(&mcfg);
    ck_assert_msg(ctl_init(&c, &prm, err, sizeof err) == 0, "ctl_init: %s", err);
    memset(&dyn, 0, sizeof dyn);
    memset(&plan, 0, sizeof plan);
    plan.lanes = 3;
    plan.region_cells = 100;
    plan.cell_m2 = 0.0025;
}

/* The whole file as a string (static buffer; fails the test if it does not fit). */
static const char *slurp(const char *path)
{
    static char buf[1 << 16];
    FILE *fp = fopen(path, "r");
    ck_assert_msg(fp != NULL, "%s", path);
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    ck_assert(!ferror(fp) && feof(fp));
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

/* Line i (from 0) of text, parsed by json-c; NULL when there is no such line. */
static json_object *line_json(const char *text, int i)
{
    static char line[RUNLOG_LINE_MAX + 16];
    for (; i > 0; i--) {
        text = strchr(text, '\n');
        if (!text) return NULL;
        text++;
    }
    const char *nl = strchr(text, '\n');
    if (!nl) return NULL;
    ck_assert_uint_lt((size_t)(nl - text), sizeof line);
    memcpy(line, text, (size_t)(nl - text));
    line[nl - text] = '\0';
    json_object *o = json_tokener_parse(line);
    ck_assert_msg(o != NULL, "line %d is not JSON: %s", i, line);
    return o;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (; *text; text++) n += *text == '\n';
    return n;
}

/* One record of every kind the log has (every mission event type too). */
static void write_every_kind(runlog *rl, uint32_t t)
{
    static const runlog_start_info si = {"demo", "test", "tcp://127.0.0.1:1502", "sim/facades/default.txt",
                                         "glass", NULL, &prm, &mcfg, 0, "/tmp/state.json", 100,
                                         "tcp://127.0.0.1:40123"};
    cc_status st;
    cc_command cmd = {.seq = 7, .mode = CC_MODE_HOLD, .outputs = 3};
    memset(&st, 0, sizeof st);
    st.cup_kpa[0] = 47.25f;
    st.prox_valid[1] = 1;
    st.prox_mm[1] = 120.0f;
    st.pos_mm[0] = NAN;
    st.pos_valid[0] = 1;
    mis_progress pr = {.lane = 1, .lanes = 3, .fraction = 0.5, .area_m2 = 1.25, .time_left_s = 60.0};
    runlog_summary sum = {.outcome = "completed", .coverage = 0.9, .source = "truth"};
    ck_assert_int_eq(runlog_start(rl, t, &si), 0);
    ck_assert_int_eq(runlog_plan(rl, t, &plan, &dyn), 0);
    ck_assert_int_eq(runlog_command(rl, t, &cmd, &c), 0);
    ck_assert_int_eq(runlog_status(rl, t, &st, &c), 0);
    ck_assert_int_eq(runlog_hold(rl, t, &c, &st), 0);
    ck_assert_int_eq(runlog_hold(rl, t, &c, NULL), 0);
    ck_assert_int_eq(runlog_ack(rl, t, "operator", -1, &c), 0);
    ck_assert_int_eq(runlog_operator(rl, t, "pause", 0), 0);
    ck_assert_int_eq(runlog_fault(rl, t, "link", "timed out / \"retry\""), 0);
    for (int e = 0; e < MIS_EV_TYPE_COUNT; e++) {
        mis_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = (mis_event_type)e;
        ev.ticks = t;
        ev.move.target_mm[1] = NAN;
        snprintf(ev.reason, sizeof ev.reason, "why %d", e);
        ck_assert_int_eq(runlog_mission(rl, &ev), 0);
    }
    ck_assert_int_eq(runlog_progress(rl, t, &pr), 0);
    ck_assert_int_eq(runlog_end(rl, t, &sum), 0);
}

START_TEST(every_record_is_one_json_line)
{
    char err[256];
    runlog *rl = NULL;
    fixtures();
    ck_assert_int_eq(runlog_open(&rl, tmp_path("every.jsonl"), err, sizeof err), 0);
    write_every_kind(rl, 250);
    uint64_t n = runlog_records(rl);
    ck_assert_int_eq(runlog_close(rl), 0);
    const char *text = slurp(tmp_path("every.jsonl"));
    ck_assert_int_eq(count_lines(text), (int)n);
    for (int i = 0; i < (int)n; i++) {
        json_object *o = line_json(text, i), *v;
        ck_assert(json_object_object_get_ex(o, "type", &v));
        ck_assert(json_object_object_get_ex(o, "t", &v));
        ck_assert_double_eq_tol(json_object_get_double(v), 2.5, 1e-9); /* 250 ticks of 10 ms */
        ck_assert(json_object_object_get_ex(o, "n", &v));
        ck_assert_int_eq(json_object_get_int64(v), i);
        if (i == 0) { /* the start record names the gate's camera */
            ck_assert(json_object_object_get_ex(o, "camera", &v));
            ck_assert_str_eq(json_object_get_string(v), "tcp://127.0.0.1:40123");
        }
        json_object_put(o);
    }
}
END_TEST


#if ALLOC_PROBE_WORKS
START_TEST(records_allocate_nothing)
{
    char err[256];
    runlog *rl = NULL;
    fixtures();
    ck_assert_int_eq(runlog_open(&rl, tmp_path("run.jsonl"), err, sizeof err), 0);

    alloc_probe_selftest();

    /* The first records right after open: the file's stdio buffer is the
     * runlog's own, so even these allocate nothing. */
    alloc_snap a = alloc_snapshot();
    write_every_kind(rl, 1);
    alloc_snap b = alloc_snapshot();
    alloc_assert_same(&a, &b, "runlog records");

    /* The checkpoint is written after every half-step, inside the loop too. */
    ck_assert_int_eq(runlog_checkpoint_write(tmp_path("state.json"), &dyn, err, sizeof err), 0);

    a = alloc_snapshot();
    for (uint32_t i = 0; i < 1000; i++) {
        write_every_kind(rl, 2 + i);
        if (i % 100 == 0)
            ck_assert_int_eq(runlog_checkpoint_write(tmp_path("state.json"), &dyn, err, sizeof err), 0);
    }
    b = alloc_snapshot();
    alloc_assert_same(&a, &b, "runlog records");

    uint64_t n = runlog_records(rl);
    ck_assert_int_eq(runlog_close(rl), 0);
    /* every line whole and JSON, numbered without gaps */
    static char line[RUNLOG_LINE_MAX + 2];
    FILE *fp = fopen(tmp_path("run.jsonl"), "r");
    ck_assert(fp != NULL);
    uint64_t i = 0;
    for (; fgets(line, sizeof line, fp); i++) {
        size_t len = strlen(line);
        ck_assert(len > 0 && line[len - 1] == '\n');
        json_object *o = json_tokener_parse(line), *v;
        ck_assert_msg(o != NULL, "line %lu is not JSON", (unsigned long)i);
        ck_assert(json_object_object_get_ex(o, "n", &v));
        ck_assert_uint_eq((uint64_t)json_object_get_int64(v), i);
        json_object_put(o);
    }
    fclose(fp);
    ck_assert_uint_eq(i, n);
}
END_TEST
#endif

/* The text of the "detail" value in a fault line: between "detail": and the closing }. */
static const char *detail_text(const char *line, char *out, size_t len)
{
    const char *p = strstr(line, "\"detail\":");
    ck_assert(p != NULL);
    p += strlen("\"detail\":");
    const char *end = strstr(p, "}\n");
    ck_assert(end != NULL);
    ck_assert_uint_lt((size_t)(end - p), len);
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    return out;
}

START_TEST(strings_escaped_as_json_c_does)
{
    char err[256], got[64];
    /* every byte but NUL, one at a time, between two letters: the text must be
     * what json-c writes for the same string, byte for byte */
    for (int ch = 1; ch < 256; ch++) {
        char s[4] = {'a', (char)ch, 'z', '\0'};
        runlog *rl = NULL;
        ck_assert_int_eq(runlog_open(&rl, tmp_path("esc.jsonl"), err, sizeof err), 0);
        ck_assert_int_eq(runlog_fault(rl, 0, "k", s), 0);
        ck_assert_int_eq(runlog_close(rl), 0);
        json_object *js = json_object_new_string(s);
        const char *want = json_object_to_json_string_ext(js, JSON_C_TO_STRING_PLAIN);
        ck_assert_msg(!strcmp(detail_text(slurp(tmp_path("esc.jsonl")), got, sizeof got), want),
                      "byte 0x%02x: wrote %s, json-c writes %s", ch, got, want);
        json_object_put(js);
    }

    /* and a mixed detail parses back to the same string */
    static const char tricky[] = "say \"hi\" \\ back\\slash\nnew line\ttab \x01\x1f ctl / slash caf\xc3\xa9";
    runlog *rl = NULL;
    ck_assert_int_eq(runlog_open(&rl, tmp_path("esc.jsonl"), err, sizeof err), 0);
    ck_assert_int_eq(runlog_fault(rl, 5, "weird \"kind\"", tricky), 0);
    ck_assert_int_eq(runlog_close(rl), 0);
    const char *text = slurp(tmp_path("esc.jsonl"));
    ck_assert_int_eq(count_lines(text), 1);
    json_object *o = line_json(text, 0), *v;
    ck_assert(json_object_object_get_ex(o, "detail", &v));
    ck_assert_str_eq(json_object_get_string(v), tricky);
    ck_assert(json_object_object_get_ex(o, "kind", &v));
    ck_assert_str_eq(json_object_get_string(v), "weird \"kind\"");
    json_object_put(o);
}
END_TEST

START_TEST(nan_and_infinity_are_null)
{
    char err[256];
    runlog *rl = NULL;
    mis_progress pr = {.lane = 2, .lanes = 4, .fraction = NAN, .area_m2 = 1.0 / 3.0, .time_left_s = INFINITY,
                       .c_mm = {-INFINITY, 12.345}};
    fixtures();
    pr.state = 0;
    ck_assert_int_eq(runlog_open(&rl, tmp_path("nan.jsonl"), err, sizeof err), 0);
    ck_assert_int_eq(runlog_progress(rl, 1234, &pr), 0);
    ck_assert_int_eq(runlog_close(rl), 0);
    const char *text = slurp(tmp_path("nan.jsonl"));
    char want[512];
    snprintf(want, sizeof want,
             "{\"type\":\"progress\",\"t\":12.34,\"n\":0,\"state\":\"%s\",\"phase\":\"%s\",\"lane\":2,"
             "\"lanes\":4,\"half_steps\":0,\"half_steps_planned\":0,\"fraction\":null,\"area_m2\":0.333,"
             "\"time_left_s\":null,\"c_mm\":[null,12.3]}\n",
             mis_state_name(pr.state), mis_phase_name(pr.phase));
    ck_assert_str_eq(text, want);
}
END_TEST

START_TEST(too_long_a_record_is_not_written)
{
    char err[256];
    static char big[RUNLOG_LINE_MAX + 100];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';

    runlog *rl = NULL;
    ck_assert_int_eq(runlog_open(&rl, tmp_path("long.jsonl"), err, sizeof err), 0);
    ck_assert_int_eq(runlog_fault(rl, 1, "before", "short"), 0);
    ck_assert_int_eq(runlog_fault(rl, 2, "huge", big), RUNLOG_EIO);
    ck_assert_int_eq(runlog_fault(rl, 3, "after", "short"), 0); /* the log goes on */
    ck_assert_uint_eq(runlog_records(rl), 2);
    ck_assert_int_eq(runlog_close(rl), RUNLOG_EIO); /* but the loss is reported */
    const char *text = slurp(tmp_path("long.jsonl"));
    ck_assert_str_eq(text, "{\"type\":\"fault\",\"t\":0.01,\"n\":0,\"kind\":\"before\",\"detail\":\"short\"}\n"
                           "{\"type\":\"fault\",\"t\":0.03,\"n\":2,\"kind\":\"after\",\"detail\":\"short\"}\n");

    /* At the edge: a line of exactly RUNLOG_LINE_MAX bytes with its newline is
     * written, one byte more is not.  Escapes count as written ("\/" is 2). */
    int longest = 0;
    for (size_t len = RUNLOG_LINE_MAX - 80; len < RUNLOG_LINE_MAX; len++) {
        for (int slash = 0; slash < 2; slash++) {
            big[len] = '\0';
            if (slash) big[len - 1] = '/';
            ck_assert_int_eq(runlog_open(&rl, tmp_path("edge.jsonl"), err, sizeof err), 0);
            int rc = runlog_fault(rl, 0, "k", big);
            int rc_close = runlog_close(rl);
            big[len] = 'x';
            big[len - 1] = 'x';
            text = slurp(tmp_path("edge.jsonl"));
            size_t n = strlen(text);
            if (rc == 0) {
                ck_assert_int_eq(rc_close, 0);
                ck_assert_uint_le(n, RUNLOG_LINE_MAX);
                ck_assert_int_eq(text[n - 1], '\n');
                if ((int)n > longest) longest = (int)n;
            } else {
                ck_assert_int_eq(rc, RUNLOG_EIO);
                ck_assert_int_eq(rc_close, RUNLOG_EIO);
                ck_assert_uint_eq(n, 0); /* nothing, not half a line */
            }
        }
    }
    ck_assert_int_eq(longest, RUNLOG_LINE_MAX);
}
END_TEST

START_TEST(write_error_is_reported)
{
    char err[256];
    runlog *rl = NULL;
    ck_assert_int_eq(runlog_open(&rl, "/dev/full", err, sizeof err), 0);
    ck_assert_int_eq(runlog_fault(rl, 0, "k", "d"), RUNLOG_EIO);
    ck_assert_int_eq(runlog_fault(rl, 0, "k", "d"), RUNLOG_EIO); /* dropped after a failure */
    ck_assert_uint_eq(runlog_records(rl), 0);
    ck_assert_int_eq(runlog_close(rl), RUNLOG_EIO);
    ck_assert_int_eq(runlog_fault(NULL, 0, "k", "d"), RUNLOG_EARG);
    ck_assert_int_eq(runlog_open(&rl, "/nonexistent-dir/x.jsonl", err, sizeof err), RUNLOG_EIO);
    ck_assert(strstr(err, "/nonexistent-dir/x.jsonl") != NULL);
}
END_TEST

static Suite *runlog_suite(void)
{
    Suite *s = suite_create("runlog");
    TCase *tc = tcase_create("writer");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
#if ALLOC_PROBE_WORKS
    tcase_add_test(tc, records_allocate_nothing);
#endif
    tcase_add_test(tc, every_record_is_one_json_line);
    tcase_add_test(tc, strings_escaped_as_json_c_does);
    tcase_add_test(tc, nan_and_infinity_are_null);
    tcase_add_test(tc, too_long_a_record_is_not_written);
    tcase_add_test(tc, write_error_is_reported);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(runlog_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
