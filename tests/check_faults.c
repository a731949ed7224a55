/*
 * check_faults.c — fault scenarios (sim/faults.h): the strict loader and
 * its messages, the canonical printer, and every fault kind applied to the
 * simulated robot at its virtual time with its physical effect, cleared at
 * its end, deterministically.  Expected numbers come from the model's
 * equations (docs/simulator.md) and say where they come from.
 */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plc_bridge/regmap.h"
#include "robot/facade.h"
#include "robot/robotcfg.h"
#include "sim/camera.h"
#include "sim/faults.h"
#include "sim/physics.h"
#include "sim/robotsim.h"

static const char *src_dir(void)
{
    const char *s = getenv("CROSSCLIMB_SRC");
    return s && *s ? s : ".";
}

static flt_sched *load_ok(const char *text)
{
    flt_sched *s = NULL;
    char err[512];
    int rc = flt_load_buffer("t.txt", text, strlen(text), &s, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_ptr_nonnull(s);
    return s;
}

static void expect_err(const char *text, const char *msg)
{
    flt_sched *s = (flt_sched *)(uintptr_t)1;
    char err[512];
    int rc = flt_load_buffer("t.txt", text, strlen(text), &s, err, sizeof err);
    ck_assert_int_eq(rc, FLT_ESYNTAX);
    ck_assert_ptr_null(s); /* nothing half-loaded */
    ck_assert_str_eq(err, msg);
}

/* 5 m x 5 m of glass in 50 mm cells. */
static facade *glass_facade(void)
{
    enum { N = 100 };
    size_t cap = (size_t)(N + 1) * N + 256;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    int n = snprintf(text, cap, "facade glass\ncell_mm 50\nsize %d %d\nlegend . glass\ngrid\n", N, N);
    for (int r = 0; r < N; r++) {
        memset(text + n, '.', N);
        n += N;
        text[n++] = '\n';
    }
    facade *f = NULL;
    char err[256];
    ck_assert_msg(facade_load_buffer("glass", text, (size_t)n, &f, err, sizeof err) == 0, "%s", err);
    free(text);
    return f;
}

/* The robot at (2500, 2500) mm; groups down as given at 60 kPa; X and Y
 * cylinders at x_mm / mid stroke. */
static robotsim *robot_at(const robotcfg *cfg, const facade *f, int a_down, int b_down, double x_mm,
                          uint64_t seed)
{
    phys_start st;
    phys_start_default(&st, cfg, f);
    st.x_mm = 2500.0;
    st.y_mm = 2500.0;
    st.legs_down[PHYS_GROUP_A] = a_down;
    st.legs_down[PHYS_GROUP_B] = b_down;
    st.cyl_mm[PHYS_CYL_X] = x_mm;
    robotsim *rs = malloc(sizeof *rs);
    ck_assert_ptr_nonnull(rs);
    char err[256];
    ck_assert_msg(robotsim_init(rs, cfg, f, &st, seed, err, sizeof err) == 0, "%s", err);
    return rs;
}

static void robot_free(robotsim *rs)
{
    robotsim_free(rs);
    free(rs);
}

/* Advance with the schedule to t_ms. */
static void run_to(flt_sched *s, robotsim *rs, uint64_t t_ms)
{
    ck_assert_int_ge(flt_advance_to_us(s, rs, t_ms * 1000u), 0);
}

#define Y_BOTH (CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC)

/* ------------------------------------------------------------- parsing */

/* Every kind parses, with its target, value and times in the file's units. */
START_TEST(test_parse_every_kind)
{
    flt_sched *s = load_ok("# every kind\n"
                           "at 0s reed_dead switch=X1\n"
                           "at 3s sensor_stuck sensor=cup:B2a value_kpa=55   # a comment\n"
                           "at 3s sensor_stuck sensor=X12 state=off duration=500ms\r\n"
                           "\n"
                           "   at 4s sensor_offset sensor=prox:-Y offset_mm=-150.5\n"
                           "at 5s\tsensor_noise sensor=tether sd_n=15 until=9.25s\n"
                           "at 6s cylinder_stall axis=y\n"
                           "at 7s valve_stuck output=Y11 state=on\n"
                           "at 8s supply_drop kpa=300\n"
                           "at 9s link_silence duration=2s\n"
                           "at 10s wind_gust speed_m_s=25 duration=1.5s\n"
                           "at 11s camera_blackout duration=4s\n"
                           "at 12.5s cup_leak cup=A1b rate_kpa_s=8\n"
                           "at 12500ms sensor_stuck sensor=pos:Y value_mm=12\n");
    ck_assert_uint_eq(s->n, 13);
    const flt_fault *f = s->faults;
    ck_assert_int_eq(f[0].kind, FLT_REED_DEAD);
    ck_assert_int_eq(f[0].target, 1);
    ck_assert_uint_eq(f[0].start_ms, 0);
    ck_assert(f[0].end_ms == FLT_FOREVER);
    ck_assert_uint_eq(f[0].line, 2);
    ck_assert_int_eq(f[1].kind, FLT_SENSOR_STUCK);
    ck_assert_int_eq(f[1].target, ROBOTSIM_AN_CUP0 + 9); /* B2a: group 6 + foot 3 + cup 0 */
    ck_assert_double_eq(f[1].value, 55.0);
    ck_assert_int_eq(f[2].target, FLT_INPUT0 + 10); /* X12 octal = bit 10 */
    ck_assert_int_eq(f[2].state, 0);
    ck_assert_uint_eq(f[2].end_ms, 3500);
    ck_assert_int_eq(f[3].kind, FLT_SENSOR_OFFSET);
    ck_assert_int_eq(f[3].target, ROBOTSIM_AN_PROX0 + FACADE_DIR_YM);
    ck_assert_double_eq(f[3].value, -150.5);
    ck_assert_uint_eq(f[3].line, 6);
    ck_assert_int_eq(f[4].kind, FLT_SENSOR_NOISE);
    ck_assert_int_eq(f[4].target, ROBOTSIM_AN_TETHER);
    ck_assert_uint_eq(f[4].end_ms, 9250);
    ck_assert_int_eq(f[5].kind, FLT_CYLINDER_STALL);
    ck_assert_int_eq(f[5].target, PHYS_CYL_Y);
    ck_assert_int_eq(f[6].kind, FLT_VALVE_STUCK);
    ck_assert_int_eq(f[6].target, 9); /* Y11 octal */
    ck_assert_int_eq(f[6].state, 1);
    ck_assert_int_eq(f[7].kind, FLT_SUPPLY_DROP);
    ck_assert_double_eq(f[7].value, 300.0);
    ck_assert_int_eq(f[8].kind, FLT_LINK_SILENCE);
    ck_assert_uint_eq(f[8].end_ms, 11000);
    ck_assert_int_eq(f[9].kind, FLT_WIND_GUST);
    ck_assert_uint_eq(f[9].end_ms, 11500);
    ck_assert_int_eq(f[10].kind, FLT_CAMERA_BLACKOUT);
    ck_assert_int_eq(f[11].kind, FLT_CUP_LEAK);
    ck_assert_int_eq(f[11].target, 1); /* A1b */
    ck_assert_uint_eq(f[11].start_ms, 12500);
    ck_assert_double_eq(f[11].value, 8.0);
    ck_assert_uint_eq(f[12].start_ms, 12500);
    ck_assert_int_eq(f[12].target, ROBOTSIM_AN_POS_Y);
    for (size_t i = 0; i < s->n; i++) ck_assert_int_eq(f[i].active, 0);
    flt_free(s);

    /* an empty scenario, and one of comments only, have no faults */
    s = load_ok("");
    ck_assert_uint_eq(s->n, 0);
    flt_free(s);
    s = load_ok("# nothing\n\n   # at all\n");
    ck_assert_uint_eq(s->n, 0);
    flt_free(s);
}
END_TEST

/* flt_format prints a canonical line that loads back to the same fault. */
START_TEST(test_format_roundtrip)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/sim/scenarios/combined.txt", src_dir());
    flt_sched *s;
    ck_assert_msg(flt_load_file(path, &s, err, sizeof err) == 0, "%s", err);
    char text[8192];
    size_t o = 0;
    for (size_t i = 0; i < s->n; i++) {
        int n = flt_format(&s->faults[i], text + o, sizeof text - o);
        ck_assert_int_gt(n, 0);
        o += (size_t)n;
        text[o++] = '\n';
    }
    text[o] = '\0';
    flt_sched *t = load_ok(text);
    ck_assert_uint_eq(t->n, s->n);
    for (size_t i = 0; i < s->n; i++) {
        const flt_fault *a = &s->faults[i], *b = &t->faults[i];
        ck_assert_int_eq(a->kind, b->kind);
        ck_assert_uint_eq(a->start_ms, b->start_ms);
        ck_assert(a->end_ms == b->end_ms);
        ck_assert_int_eq(a->target, b->target);
        ck_assert_int_eq(a->state, b->state);
        ck_assert_double_eq(a->value, b->value);
    }
    char line[256];
    flt_format(&s->faults[2], line, sizeof line);
    ck_assert_str_eq(line, "at 8s cup_leak cup=A1b rate_kpa_s=8 until=23s");
    flt_format(&s->faults[3], line, sizeof line);
    ck_assert_str_eq(line, "at 10s sensor_offset sensor=supply offset_kpa=-40 until=30s");
    flt_format(&s->faults[4], line, sizeof line);
    ck_assert_str_eq(line, "at 12.5s camera_blackout until=16.5s");
    /* truncation is reported like snprintf */
    ck_assert_int_ge(flt_format(&s->faults[2], line, 8), 8);
    ck_assert_str_eq(line, "at 8s c");
    flt_free(t);
    flt_free(s);
}
END_TEST

/* Every shipped scenario loads; <kind>.txt and <kind>_<variant>.txt hold
 * that kind only, and combined.txt holds every kind. */
START_TEST(test_shipped_scenarios)
{
    char dir[1024], path[2048], err[512];
    snprintf(dir, sizeof dir, "%s/sim/scenarios", src_dir());
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int files = 0, kind_files = 0;
    while ((e = readdir(d)) != NULL) {
        size_t nl = strlen(e->d_name);
        if (nl < 5 || strcmp(e->d_name + nl - 4, ".txt") != 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        flt_sched *s;
        ck_assert_msg(flt_load_file(path, &s, err, sizeof err) == 0, "%s", err);
        ck_assert_msg(s->n > 0, "%s has no faults", e->d_name);
        files++;
        unsigned seen = 0;
        for (size_t i = 0; i < s->n; i++) seen |= 1u << s->faults[i].kind;
        if (strcmp(e->d_name, "combined.txt") == 0) {
            ck_assert_uint_eq(seen, (1u << FLT_KIND_COUNT) - 1);
        } else {
            int k;
            for (k = 0; k < FLT_KIND_COUNT; k++) {
                const size_t kl = strlen(flt_kind_name((flt_kind)k));
                if (nl - 4 >= kl && strncmp(e->d_name, flt_kind_name((flt_kind)k), kl) == 0 &&
                    (nl - 4 == kl || e->d_name[kl] == '_'))
                    break;
            }
            ck_assert_msg(k < FLT_KIND_COUNT, "%s: not named after a fault kind", e->d_name);
            ck_assert_msg(seen == 1u << k, "%s holds other kinds", e->d_name);
            kind_files |= 1 << k;
        }
        flt_free(s);
    }
    closedir(d);
    ck_assert_int_eq(kind_files, (1 << FLT_KIND_COUNT) - 1); /* a file for every kind */
    ck_assert_int_eq(files, FLT_KIND_COUNT + 1 + 3);          /* + combined + cup_leak_torn* */
}
END_TEST

typedef struct {
    const char *file;
    const char *msg;
} bad_case;

static const bad_case bad_cases[] = {
    {"bad_axis.txt", "bad_axis.txt:1:27: axis='z': expected x or y"},
    {"bad_both_end.txt", "bad_both_end.txt:1:35: give duration or until, not both"},
    {"bad_cup.txt", "bad_cup.txt:1:20: unknown cup 'A3b' (expected A1a..A2c or B1a..B2c)"},
    {"bad_digits.txt",
     "bad_digits.txt:1:35: rate_kpa_s='1.1234567': too many digits (at most 9 before the point, 6 "
     "after)"},
    {"bad_duplicate.txt", "bad_duplicate.txt:1:24: duplicate key 'cup' (first at column 16)"},
    {"bad_duration_unit.txt",
     "bad_duration_unit.txt:1:29: duration='2min': expected a number and a unit, like 1.5s or "
     "250ms"},
    {"bad_fine_time.txt", "bad_fine_time.txt:1:4: time 1.0005s is finer than a millisecond"},
    {"bad_gust_no_end.txt",
     "bad_gust_no_end.txt:1:8: wind_gust needs duration= or until= (a gust ends)"},
    {"bad_input.txt",
     "bad_input.txt:1:27: unknown input 'X8' (expected X0..X7, X10..X17 or X20..X22; FX "
     "numbering is octal)"},
    {"bad_missing_key.txt", "bad_missing_key.txt:2:7: cup_leak needs rate_kpa_s=<kPa/s>"},
    {"bad_missing_value.txt", "bad_missing_value.txt:1:20: missing value after 'cup='"},
    {"bad_no_at.txt",
     "bad_no_at.txt:1:1: expected 'at <time> <fault> [key=value ...]', not 'cup_leak'"},
    {"bad_no_kind.txt",
     "bad_no_kind.txt:1:6: missing the fault after the time (cup_leak, sensor_stuck, ...)"},
    {"bad_not_keyvalue.txt", "bad_not_keyvalue.txt:1:24: expected key=value, not 'rate_kpa_s'"},
    {"bad_nul.txt", "bad_nul.txt:2:11: NUL byte"},
    {"bad_number.txt",
     "bad_number.txt:1:35: rate_kpa_s='8x' is not a number (like 8, 0.5 or -2.25)"},
    {"bad_offset_input.txt",
     "bad_offset_input.txt:1:28: sensor_offset applies to analog sensors, not the input X5"},
    {"bad_output.txt",
     "bad_output.txt:1:26: unknown output 'Y8' (expected Y0..Y7 or Y10..Y13: the valves, brush "
     "and spray; FX numbering is octal)"},
    {"bad_range.txt", "bad_range.txt:1:23: kpa=1200 is out of range (0 <= kpa <= 1000)"},
    {"bad_sensor.txt",
     "bad_sensor.txt:1:27: unknown sensor 'pressure' (expected cup:A1a..cup:B2c, prox:+X, "
     "prox:-X, prox:+Y, prox:-Y, tether, supply, pos:X, pos:Y or an input X0..X22)"},
    {"bad_sensor_cup.txt",
     "bad_sensor_cup.txt:1:31: unknown cup 'C1a' (expected A1a..A2c or B1a..B2c)"},
    {"bad_sensor_no_value.txt", "bad_sensor_no_value.txt:1:7: sensor_noise of tether needs sd_n=<N>"},
    {"bad_sensor_unit.txt",
     "bad_sensor_unit.txt:1:35: sensor cup:B2a reads kPa: use value_kpa, not value_mm"},
    {"bad_state.txt", "bad_state.txt:1:35: state='open': expected on or off"},
    {"bad_switch.txt",
     "bad_switch.txt:1:24: unknown reed switch 'X10' (expected X0..X7: the cylinder and leg end "
     "switches)"},
    {"bad_time.txt",
     "bad_time.txt:1:4: bad time '12.5': expected a number and a unit, like 12.5s or 250ms"},
    {"bad_time_order.txt",
     "bad_time_order.txt:3:4: at 3s is earlier than the fault on line 1 (at 12.5s): faults must "
     "be in time order"},
    {"bad_unknown_fault.txt",
     "bad_unknown_fault.txt:3:7: unknown fault 'cup_leek' (expected cup_leak, sensor_stuck, "
     "sensor_offset, sensor_noise, cylinder_stall, reed_dead, valve_stuck, supply_drop, "
     "link_silence, wind_gust or camera_blackout)"},
    {"bad_unknown_key.txt",
     "bad_unknown_key.txt:2:24: unknown key 'rate' for cup_leak (expected cup, rate_kpa_s, "
     "duration or until)"},
    {"bad_until.txt", "bad_until.txt:1:29: until=3s is not after the fault's start (5s)"},
    {"bad_zero_duration.txt", "bad_zero_duration.txt:1:32: duration=0s must be more than 0"},
};
#define N_BAD (sizeof bad_cases / sizeof bad_cases[0])

/* Each broken scenario in tests/faults/ gives its message, naming the file
 * (as given), line and column, and returns nothing. */
START_TEST(test_bad_file)
{
    const bad_case *bc = &bad_cases[_i];
    char path[1024], err[512], expect[1200];
    snprintf(path, sizeof path, "%s/tests/faults/%s", src_dir(), bc->file);
    flt_sched *s = (flt_sched *)(uintptr_t)1;
    int rc = flt_load_file(path, &s, err, sizeof err);
    ck_assert_int_eq(rc, FLT_ESYNTAX);
    ck_assert_ptr_null(s);
    snprintf(expect, sizeof expect, "%s/tests/faults/%s", src_dir(), bc->msg);
    ck_assert_str_eq(err, expect);
}
END_TEST

/* Every bad_*.txt in tests/faults has its expected message above. */
START_TEST(test_bad_files_all_listed)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/faults", src_dir());
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    size_t seen = 0;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "bad_", 4) != 0) continue;
        size_t i;
        for (i = 0; i < N_BAD; i++)
            if (strcmp(bad_cases[i].file, e->d_name) == 0) break;
        ck_assert_msg(i < N_BAD, "%s has no expected message in check_faults.c", e->d_name);
        seen++;
    }
    closedir(d);
    ck_assert_uint_eq(seen, N_BAD);
}
END_TEST

/* More messages, from buffers. */
START_TEST(test_errors_inline)
{
    expect_err("at -1s link_silence\n",
               "t.txt:1:4: bad time '-1s': expected a number and a unit, like 12.5s or 250ms");
    expect_err("at 1.5ms link_silence\n", "t.txt:1:4: time 1.5ms is finer than a millisecond");
    expect_err("at 1s link_silence duration=0.0001s\n",
               "t.txt:1:29: duration=0.0001s is finer than a millisecond");
    expect_err("at 1s link_silence until=1s\n",
               "t.txt:1:26: until=1s is not after the fault's start (1s)");
    expect_err("at 1s link_silence cup=A1a\n",
               "t.txt:1:20: unknown key 'cup' for link_silence (expected duration or until)");
    expect_err("at 1s cup_leak rate_kpa_s=0 cup=A1a\n",
               "t.txt:1:27: rate_kpa_s=0 is out of range (0 < rate_kpa_s <= 1000)");
    expect_err("at 1s cup_leak rate_kpa_s=3.\n",
               "t.txt:1:27: rate_kpa_s='3.' is not a number (like 8, 0.5 or -2.25)");
    expect_err("at 1s supply_drop kpa=-3\n",
               "t.txt:1:23: kpa=-3 is out of range (0 <= kpa <= 1000)");
    expect_err("at 1s sensor_stuck sensor=X10 value_kpa=3\n",
               "t.txt:1:31: sensor X10 is an input: use state, not value_kpa");
    expect_err("at 1s sensor_stuck sensor=cup:A1a state=on\n",
               "t.txt:1:35: sensor cup:A1a reads kPa: use value_kpa, not state");
    expect_err("at 1s sensor_stuck sensor=prox:+Z value_mm=3\n",
               "t.txt:1:32: unknown proximity sensor '+Z' (expected +X, -X, +Y or -Y)");
    expect_err("at 1s sensor_stuck sensor=X10\n",
               "t.txt:1:7: sensor_stuck of X10 needs state=<on|off>");
    expect_err("at 1s sensor_stuck value_kpa=3\n", "t.txt:1:7: sensor_stuck needs sensor=<name>");
    expect_err("at 1s valve_stuck output=Y14 state=on\n",
               "t.txt:1:26: unknown output 'Y14' (expected Y0..Y7 or Y10..Y13: the valves, brush "
               "and spray; FX numbering is octal)");
    expect_err("at 1s valve_stuck output=Y06 state=on\n",
               "t.txt:1:26: unknown output 'Y06' (expected Y0..Y7 or Y10..Y13: the valves, brush "
               "and spray; FX numbering is octal)");
    expect_err("at 1s valve_stuck state=on\n", "t.txt:1:7: valve_stuck needs output=<Y0..Y13>");
    expect_err("at\n", "t.txt:1:3: missing the time after 'at'");
    expect_err("at 1000000000s link_silence\n",
               "t.txt:1:4: bad time '1000000000s': expected a number and a unit, like 12.5s or "
               "250ms");
    expect_err("at 1s camera_blackout duration=999999999s\n",
               "t.txt:1:32: duration=999999999s ends after 999999999s");
    expect_err("at 1s camera_blackout until=1000000000s\n",
               "t.txt:1:29: until='1000000000s': expected a number and a unit, like 1.5s or "
               "250ms");
    expect_err("at 1s link_silence # fine\nAT 2s link_silence\n",
               "t.txt:2:1: expected 'at <time> <fault> [key=value ...]', not 'AT'");
    expect_err("at 1s wind_gust speed_m_s=200 duration=1s\n",
               "t.txt:1:27: speed_m_s=200 is out of range (0 < speed_m_s <= 100)");
    expect_err("at 1s link_silence \x01\xff\n", "t.txt:1:20: expected key=value, not '\\x01\\xFF'");
    expect_err("at 1s cup_leak cup=A1a=2 rate_kpa_s=1\n",
               "t.txt:1:20: unknown cup 'A1a=2' (expected A1a..A2c or B1a..B2c)");
    /* a # anywhere starts a comment */
    expect_err("at 1s cup_leak cup=A1#b rate_kpa_s=1\n",
               "t.txt:1:20: unknown cup 'A1' (expected A1a..A2c or B1a..B2c)");
    /* equal times are in order */
    flt_sched *s = load_ok("at 1s link_silence duration=1s\nat 1000ms camera_blackout\n");
    ck_assert_uint_eq(s->n, 2);
    flt_free(s);
    /* arguments */
    char err[64];
    ck_assert_int_eq(flt_load_buffer("x", "", 0, NULL, err, sizeof err), FLT_EARG);
    ck_assert_int_eq(flt_load_file("/nonexistent/s.txt", &s, err, sizeof err), FLT_EIO);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err, "/nonexistent/s.txt") != NULL, "%s", err);
    ck_assert_str_eq(flt_strerror(FLT_ESYNTAX), "invalid fault scenario");
    ck_assert_str_eq(flt_kind_name(FLT_WIND_GUST), "wind_gust");
    ck_assert_str_eq(flt_kind_name(FLT_KIND_COUNT), "?");
}
END_TEST

/* Too many faults is an error; the limit itself loads. */
START_TEST(test_limits)
{
    size_t cap = (size_t)(FLT_MAX_FAULTS + 1) * 24 + 1;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    size_t o = 0;
    for (int i = 0; i < FLT_MAX_FAULTS; i++)
        o += (size_t)snprintf(text + o, cap - o, "at %ds link_silence\n", i);
    flt_sched *s = NULL;
    char err[256];
    ck_assert_int_eq(flt_load_buffer("big", text, o, &s, err, sizeof err), 0);
    ck_assert_uint_eq(s->n, FLT_MAX_FAULTS);
    flt_free(s);
    o += (size_t)snprintf(text + o, cap - o, "at 99999s link_silence\n");
    ck_assert_int_eq(flt_load_buffer("big", text, o, &s, err, sizeof err), FLT_ESYNTAX);
    ck_assert_str_eq(err, "big:10001:1: more than 10000 faults");
    ck_assert_ptr_null(s);
    free(text);
}
END_TEST

/* ------------------------------------------------------------ applying */

/* A leaking cup with the ejector off loses vacuum at the given rate (at
 * nominal vacuum): the fault adds k = rate / 60 kPa to its leak, so from
 * the start p(t) = p0 exp(-(k_glass + k) (t - t0)), while its neighbours
 * only see k_glass.  Before the start it is exactly like them. */
START_TEST(test_cup_leak_ejector_off)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    robotsim *rs = robot_at(&cfg, f, 1, 1, 150.0, 1);
    robotsim_set_outputs(rs, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC); /* A's ejector off */
    flt_sched *s = load_ok("at 1s cup_leak cup=A1b rate_kpa_s=8 duration=2s\n");
    run_to(s, rs, 1000);
    ck_assert_double_eq(rs->phys.vac_pa[1], rs->phys.vac_pa[0]);
    ck_assert_double_eq(rs->phys.env.cup_leak_per_s[1], 8.0 / 60.0);
    double p0 = rs->phys.vac_pa[1];
    run_to(s, rs, 1010);
    double k_glass = cfg.leak_per_s[FACADE_GLASS];
    double k = k_glass + 8.0 / 60.0;
    double rate_kpa_s = (p0 - rs->phys.vac_pa[1]) / 0.010 / 1e3;
    /* p0 ~ 59.88 kPa: about 8 kPa/s x p0/60 + the glass leak (0.12 kPa/s),
     * averaged over the 10 ms: p0 (1 - exp(-k dt)) / dt */
    ck_assert_double_eq_tol(rate_kpa_s, p0 * (1.0 - exp(-k * 0.010)) / 0.010 / 1e3, 1e-6);
    ck_assert_double_eq_tol(rate_kpa_s, 8.0 + 0.12, 0.1);
    run_to(s, rs, 2000);
    ck_assert_double_eq_tol(rs->phys.vac_pa[1], p0 * exp(-(k_glass + 8.0 / 60.0) * 1.0),
                            1e-6 * p0);
    ck_assert_double_eq_tol(rs->phys.vac_pa[0], p0 * exp(-k_glass * 1.0), 1e-6 * p0);
    /* at 3 s it ends: back to the glass leak alone */
    run_to(s, rs, 3000);
    ck_assert_double_eq(rs->phys.env.cup_leak_per_s[1], 0.0);
    double p3 = rs->phys.vac_pa[1];
    run_to(s, rs, 4000);
    ck_assert_double_eq_tol(rs->phys.vac_pa[1], p3 * exp(-k_glass), 1e-6 * p3);
    ck_assert_int_eq(s->faults[0].active, 0);
    flt_free(s);
    robot_free(rs);
    facade_free(f);
}
END_TEST

/* With the ejector on a leaking cup settles lower: dp/dt = (p_m - p)/tau -
 * k p = 0 gives p = p_m / (1 + k tau) (docs "Cups and vacuum"); when the
 * fault ends it refills to the manifold. */
START_TEST(test_cup_leak_ejector_on)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    robotsim *rs = robot_at(&cfg, f, 1, 1, 150.0, 1);
    robotsim_set_outputs(rs, Y_BOTH);
    flt_sched *s = load_ok("at 1s cup_leak cup=A1b rate_kpa_s=8 until=20s\n");
    run_to(s, rs, 15000);
    double k = cfg.leak_per_s[FACADE_GLASS] + 8.0 / 60.0, tau = cfg.ejector_tau_s;
    double pm = rs->phys.manifold_pa[PHYS_GROUP_A];
    ck_assert_double_eq_tol(rs->phys.vac_pa[1], pm / (1.0 + k * tau), 1.0); /* 1 Pa */
    ck_assert_double_lt(rs->phys.vac_pa[1], 0.95 * rs->phys.vac_pa[0]);     /* ~56.5 vs 59.9 kPa */
    robotsim_sample(rs);
    ck_assert(rs->x_bits & CC_X_A_VAC_OK); /* one cup does not drop the manifold switch */
    run_to(s, rs, 30000);
    ck_assert_double_eq_tol(rs->phys.vac_pa[1], rs->phys.vac_pa[0], 1.0);
    flt_free(s);
    robot_free(rs);
    facade_free(f);
}
END_TEST

/* A stuck transducer reads its value exactly (550 x 0.1 kPa), whatever the
 * truth, until the fault ends; a stuck input reads its state. */
START_TEST(test_sensor_stuck)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    robotsim *rs = robot_at(&cfg, f, 1, 1, 150.0, 3);
    robotsim_set_outputs(rs, Y_BOTH);
    flt_sched *s = load_ok("at 1s sensor_stuck sensor=cup:B2a value_kpa=55 until=2s\n"
                           "at 1s sensor_stuck sensor=X12 state=off until=2s\n"
                           "at 1s sensor_stuck sensor=X21 state=on until=2s\n");
    run_to(s, rs, 900);
    robotsim_sample(rs);
    ck_assert_int_lt(abs((int)rs->analog[9] - 600), 15); /* ~600 with offset and noise */
    ck_assert(rs->x_bits & CC_X_ESTOP_OK);
    ck_assert(!(rs->x_bits & CC_X_WATER_LOW));
    run_to(s, rs, 1000);
    for (int i = 0; i < 50; i++) {
        run_to(s, rs, 1000 + 10u * (unsigned)i);
        robotsim_sample(rs);
        ck_assert_uint_eq(rs->analog[9], 550);
        ck_assert(!(rs->x_bits & CC_X_ESTOP_OK));
        ck_assert(rs->x_bits & CC_X_WATER_LOW);
        ck_assert(phys_inputs(&rs->phys) & CC_X_ESTOP_OK); /* the truth is unchanged */
    }
    run_to(s, rs, 2000);
    robotsim_sample(rs);
    ck_assert_int_lt(abs((int)rs->analog[9] - 600), 15);
    ck_assert(rs->x_bits & CC_X_ESTOP_OK);
    ck_assert(!(rs->x_bits & CC_X_WATER_LOW));
    flt_free(s);
    robot_free(rs);
    facade_free(f);
}
END_TEST

static void sample_stats(flt_sched *s, robotsim *rs, uint64_t from_ms, int n, int ch, double *mean,
                         double *sd)
{
    double sum = 0.0, sum2 = 0.0;
    for (int i = 0; i < n; i++) {
        run_to(s, rs, from_ms + (uint64_t)i);
        robotsim_sample(rs);
        double v = rs->analog[ch];
        sum += v;
        sum2 += v * v;
    }
    *mean = sum / n;
    *sd = sqrt(sum2 / n - *mean * *mean);
}

/* An offset shifts the mean reading by itself (+6 kPa = +60 register units;
 * the noise, 0.2 kPa, averages out); -150 mm on a proximity sensor. */
START_TEST(test_sensor_offset)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    cfg.prox_dropout = 0.0;
    facade *f = glass_facade();
    robotsim *rs = robot_at(&cfg, f, 1, 1, 150.0, 4);
    robotsim_set_outputs(rs, Y_BOTH);
    flt_sched *s = load_ok("at 1s sensor_offset sensor=cup:A2a offset_kpa=6 until=2s\n"
                           "at 1s sensor_offset sensor=prox:-Y offset_mm=-150 until=2s\n");
    double m0, m1, m2, sd, p0, p1;
    sample_stats(s, rs, 0, 400, 3, &m0, &sd);
    sample_stats(s, rs, 400, 1, ROBOTSIM_AN_PROX0 + FACADE_DIR_YM, &p0, &sd);
    sample_stats(s, rs, 1000, 400, 3, &m1, &sd);
    sample_stats(s, rs, 1400, 1, ROBOTSIM_AN_PROX0 + FACADE_DIR_YM, &p1, &sd);
    sample_stats(s, rs, 2000, 400, 3, &m2, &sd);
    ck_assert_double_eq_tol(m1 - m0, 60.0, 1.0);
    ck_assert_double_eq_tol(m2 - m0, 0.0, 1.0);
    /* the -Y proximity: 2500 mm to the bottom edge is beyond 2000 mm (no
     * echo), so it stays "no echo": an offset does not invent an echo */
    ck_assert_double_eq(p0, ROBOTSIM_NO_VALUE);
    ck_assert_double_eq(p1, ROBOTSIM_NO_VALUE);
    flt_free(s);
    robot_free(rs);

    /* near the bottom edge: 1000 mm to it, read 150 mm short */
    phys_start st;
    phys_start_default(&st, &cfg, f);
    st.x_mm = 2500.0;
    st.y_mm = 1000.0;
    rs = malloc(sizeof *rs);
    char err[256];
    ck_assert_msg(robotsim_init(rs, &cfg, f, &st, 4, err, sizeof err) == 0, "%s", err);
    robotsim_set_outputs(rs, Y_BOTH);
    s = load_ok("at 1s sensor_offset sensor=prox:-Y offset_mm=-150\n");
    int ch = ROBOTSIM_AN_PROX0 + FACADE_DIR_YM;
    sample_stats(s, rs, 0, 300, ch, &p0, &sd);
    sample_stats(s, rs, 1000, 300, ch, &p1, &sd);
    ck_assert_double_eq_tol(p0, 1000.0, 1.0); /* 3 mm noise, mean of 300 */
    ck_assert_double_eq_tol(p1, 850.0, 1.0);
    flt_free(s);
    robot_free(rs);
    facade_free(f);
}
END_TEST

/* Extra noise adds in quadrature: tether 1 N -> sqrt(1 + 15^2) = 15.03 N. */
START_TEST(test_sensor_noise)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    robotsim *rs = robot_at(&cfg, f, 1, 1, 150.0, 5);
    robotsim_set_outputs(rs, Y_BOTH);
    flt_sched *s = load_ok("at 2s sensor_noise sensor=tether sd_n=15 duration=2s\n");
    double m0, sd0, m1, sd1, m2, sd2;
    sample_stats(s, rs, 0, 2000, ROBOTSIM_AN_TETHER, &m0, &sd0);
    sample_stats(s, rs, 2000, 2000, ROBOTSIM_AN_TETHER, &m1, &sd1);
    sample_stats(s, rs, 4000, 2000, ROBOTSIM_AN_TETHER, &m2, &sd2);
    ck_assert_double_eq_tol(sd0, 1.0, 0.15); /* 1 N, read in whole N */
    ck_assert_double_eq_tol(sd1, sqrt(1.0 + 225.0), 1.0);
    ck_assert_double_eq_tol(sd2, 1.0, 0.15);
    ck_assert_double_eq_tol(m1, 40.0, 1.5);
    ck_assert_double_eq(rs->an_fault[ROBOTSIM_AN_TETHER].noise_sd, 0.0);
    flt_free(s);
    robot_free(rs);
    facade_free(f);
}
END_TEST

/* Ms until the X carriage reaches the + end (B lifted, A gripping, X+). */
static uint64_t x_stroke_ms(const char *scenario, uint64_t *stalled_ms)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    robotsim *rs = robot_at(&cfg, f, 1, 0, 0.0, 6);
    robotsim_set_outputs(rs, CC_Y_A_DOWN | CC_Y_A_VAC | CC_Y_X_PLUS);
    flt_sched *s = load_ok(scenario);
    uint64_t t = 0;
    *stalled_ms = 0;
    while (rs->phys.cyl_pos_m[PHYS_CYL_X] < cfg.stroke_m[0] && t < 20000) {
        double before = rs->phys.cyl_pos_m[PHYS_CYL_X];
        run_to(s, rs, ++t);
        if (rs->phys.cyl_state[PHYS_CYL_X] == PHYS_CYL_STALLED) {
            ck_assert_int_eq(rs->phys.cyl_stall[PHYS_CYL_X], PHYS_STALL_FAULT);
            ck_assert_double_eq(rs->phys.cyl_pos_m[PHYS_CYL_X], before);
            (*stalled_ms)++;
        }
    }
    ck_assert(!rs->phys.fallen);
    flt_free(s);
    robot_free(rs);
    facade_free(f);
    return t;
}

/* Travel time = (S - c)/v + c/(f v) = 285/0.15 + 15/0.045 = 2233.3 ms
 * (docs "Cylinders"): the first whole ms is 2234.  A 1 s stall in the
 * middle stops the carriage for exactly 1000 steps and adds 1000 ms. */
START_TEST(test_cylinder_stall)
{
    uint64_t stalled;
    ck_assert_uint_eq(x_stroke_ms("", &stalled), 2234);
    ck_assert_uint_eq(stalled, 0);
    ck_assert_uint_eq(x_stroke_ms("at 0.5s cylinder_stall axis=x duration=1s\n", &stalled), 3234);
    ck_assert_uint_eq(stalled, 1000);
    /* the other axis: no effect on X */
    ck_assert_uint_eq(x_stroke_ms("at 0.5s cylinder_stall axis=y duration=1s\n", &stalled), 2234);
}
END_TEST

/* A supply drop to 375 kPa halves the cylinder speed, f_p = (375 - 150) /
 * (600 - 150) = 0.5: 4466.7 ms for the stroke; X14 opens, the supply
 * reading follows, and both come back when it ends. */
START_TEST(test_supply_drop)
{
    uint64_t stalled;
    ck_assert_uint_eq(x_stroke_ms("at 0s supply_drop kpa=375\n", &stalled), 4467);
    /* half the stroke at full speed (1000 ms = 150 mm), the rest at half:
     * 135 mm / 0.075 + 15 mm / 0.0225 = 1800 + 666.7 ms */
    ck_assert_uint_eq(x_stroke_ms("at 1s supply_drop kpa=375\n", &stalled), 3467);

    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    robotsim *rs = robot_at(&cfg, f, 1, 1, 150.0, 7);
    robotsim_set_outputs(rs, Y_BOTH);
    flt_sched *s = load_ok("at 1s supply_drop kpa=375 duration=1s\n");
    run_to(s, rs, 1500);
    robotsim_sample(rs);
    ck_assert_double_eq(rs->phys.env.supply_pa, 375e3);
    ck_assert(!(rs->x_bits & CC_X_SUPPLY_OK));
    ck_assert_int_lt(abs((int)rs->analog[ROBOTSIM_AN_SUPPLY] - 375), 10);
    run_to(s, rs, 2000);
    robotsim_sample(rs);
    ck_assert_double_eq(rs->phys.env.supply_pa, cfg.supply_pa);
    ck_assert(rs->x_bits & CC_X_SUPPLY_OK);
    flt_free(s);
    robot_free(rs);
    facade_free(f);
}
END_TEST

/* A dead reed switch never reports the end: the carriage is at the + end
 * (the true X1 is on) but the PLC's X1 stays 0 until the fault ends. */
START_TEST(test_reed_dead)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    robotsim *rs = robot_at(&cfg, f, 1, 0, 0.0, 8);
    robotsim_set_outputs(rs, CC_Y_A_DOWN | CC_Y_A_VAC | CC_Y_X_PLUS);
    flt_sched *s = load_ok("at 0s reed_dead switch=X1 until=5s\n");
    for (uint64_t t = 10; t <= 4990; t += 10) {
        run_to(s, rs, t);
        robotsim_sample(rs);
        ck_assert(!(rs->x_bits & CC_X_XCYL_PLUS_END));
    }
    ck_assert_double_eq(rs->phys.cyl_pos_m[PHYS_CYL_X], cfg.stroke_m[0]);
    ck_assert(phys_inputs(&rs->phys) & CC_X_XCYL_PLUS_END);
    ck_assert(!(rs->x_bits & CC_X_XCYL_MINUS_END));
    run_to(s, rs, 5000);
    robotsim_sample(rs);
    ck_assert(rs->x_bits & CC_X_XCYL_PLUS_END);
    flt_free(s);
    robot_free(rs);
    facade_free(f);
}
END_TEST

/* Y6 stuck on: after the PLC clears Y6 the group's ejector keeps pulling
 * (manifold ~60 kPa, X10 on); without the fault the manifold vents and X10
 * opens.  Y7 stuck off: B's vacuum goes although the PLC keeps Y7 on. */
START_TEST(test_valve_stuck)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    for (int with_fault = 0; with_fault <= 1; with_fault++) {
        robotsim *rs = robot_at(&cfg, f, 1, 1, 150.0, 9);
        robotsim_set_outputs(rs, Y_BOTH);
        flt_sched *s = load_ok(with_fault ? "at 1s valve_stuck output=Y6 state=on until=8s\n" : "");
        run_to(s, rs, 2000);
        robotsim_set_outputs(rs, Y_BOTH & ~CC_Y_A_VAC); /* the PLC clears Y6 */
        run_to(s, rs, 5000);
        robotsim_sample(rs);
        ck_assert_uint_eq(rs->phys.y & CC_Y_A_VAC, 0);
        if (with_fault) {
            ck_assert(phys_valves(&rs->phys) & CC_Y_A_VAC);
            ck_assert_double_gt(rs->phys.manifold_pa[PHYS_GROUP_A], 59000.0);
            ck_assert(rs->x_bits & CC_X_A_VAC_OK);
        } else {
            ck_assert_double_eq(rs->phys.manifold_pa[PHYS_GROUP_A], 0.0);
            ck_assert(!(rs->x_bits & CC_X_A_VAC_OK));
        }
        run_to(s, rs, 8010); /* ended at 8 s: the steps after it see Y6 off again */
        robotsim_sample(rs);
        ck_assert_double_eq(rs->phys.manifold_pa[PHYS_GROUP_A], 0.0);
        ck_assert(!(rs->x_bits & CC_X_A_VAC_OK));
        flt_free(s);
        robot_free(rs);
    }

    robotsim *rs = robot_at(&cfg, f, 1, 1, 150.0, 9);
    robotsim_set_outputs(rs, Y_BOTH);
    flt_sched *s = load_ok("at 1s valve_stuck output=Y7 state=off duration=3s\n");
    run_to(s, rs, 1500);
    ck_assert_uint_eq(rs->phys.env.y_stuck_off, CC_Y_B_VAC);
    ck_assert_double_eq(rs->phys.manifold_pa[PHYS_GROUP_B], 0.0);
    run_to(s, rs, 5000);
    ck_assert_double_gt(rs->phys.manifold_pa[PHYS_GROUP_B], 59000.0);
    flt_free(s);
    robot_free(rs);
    facade_free(f);
}
END_TEST

/* A 25 m/s gust over 2 s (1 - cos, peak at the middle): the wind reaches
 * exactly 25 m/s at 2 s, the drag 0.5 rho v^2 cd A = 137.81 N loads the
 * robot (half of it pulling off), the safety factor drops, and all of it
 * is back to the calm values after the gust. */
START_TEST(test_wind_gust)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    robotsim *rs = robot_at(&cfg, f, 1, 0, 150.0, 10);
    robotsim_set_outputs(rs, CC_Y_A_DOWN | CC_Y_A_VAC);
    flt_sched *s = load_ok("at 1s wind_gust speed_m_s=25 duration=2s\n");
    run_to(s, rs, 900);
    double sf_calm = rs->phys.hold.factor;
    ck_assert_double_eq(rs->phys.env.wind_m_s, 0.0);
    ck_assert_double_eq(rs->phys.hold.pull_n, 0.0);
    run_to(s, rs, 1500);
    ck_assert_double_eq_tol(rs->phys.env.wind_m_s, 12.5, 1e-9); /* 25 x 0.5 (1 - cos(pi/2)) */
    run_to(s, rs, 2000);
    ck_assert_double_eq_tol(rs->phys.env.wind_m_s, 25.0, 1e-9);
    double drag = 0.5 * 1.225 * 25.0 * 25.0 * 1.2 * 0.3;
    ck_assert_double_eq_tol(drag, 137.8125, 1e-9);
    ck_assert_double_eq_tol(rs->phys.hold.pull_n, 0.5 * drag, 1e-6);
    /* about 5.42 against 5.77 calm: the pull unloads the cups (friction
     * 0.5 x (2827 - 69) N) while the shear grows to |(69, -245)| N */
    ck_assert_double_lt(rs->phys.hold.factor, sf_calm - 0.25);
    ck_assert(!rs->phys.fallen);
    run_to(s, rs, 3000);
    ck_assert_double_eq(rs->phys.env.wind_m_s, 0.0);
    ck_assert_uint_eq(rs->fault_gust_len_us, 0);
    run_to(s, rs, 3100);
    ck_assert_double_eq_tol(rs->phys.hold.factor, sf_calm, 1e-3 * sf_calm);
    flt_free(s);
    robot_free(rs);
    facade_free(f);
}
END_TEST

/* The camera goes dark (zeros, offline) for the blackout and comes back. */
START_TEST(test_camera_blackout)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    robotsim *rs = robot_at(&cfg, f, 1, 1, 150.0, 11);
    flt_sched *s = load_ok("at 1s camera_blackout duration=4s\n");
    cam_state *cam = malloc(sizeof *cam);
    ck_assert_ptr_nonnull(cam);
    char err[256];
    ck_assert_msg(cam_init(cam, NULL, 11, err, sizeof err) == 0, "%s", err);
    uint8_t px[64 * 48];
    cam_frame fr;
    cam_frame_init(&fr, px, sizeof px);
    uint64_t times[] = {500, 1000, 3000, 4999, 5000, 6000};
    int online[] = {1, 0, 0, 0, 1, 1};
    for (int i = 0; i < 6; i++) {
        run_to(s, rs, times[i]);
        ck_assert_int_eq(cam_render(cam, &rs->phys, cam_heading_rad(FACADE_DIR_YP), &fr), 0);
        ck_assert_int_eq(fr.online, online[i]);
        ck_assert_uint_eq(fr.t_us, times[i] * 1000u);
        unsigned long sum = 0;
        for (size_t k = 0; k < sizeof px; k++) sum += px[k];
        if (online[i])
            ck_assert_uint_gt(sum, 0);
        else
            ck_assert_uint_eq(sum, 0);
    }
    free(cam);
    flt_free(s);
    robot_free(rs);
    facade_free(f);
}
END_TEST

/* link_silence is a query for the Modbus server; it touches no hook. */
START_TEST(test_link_silence)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    robotsim *rs = robot_at(&cfg, f, 1, 1, 150.0, 12);
    robotsim *ref = robot_at(&cfg, f, 1, 1, 150.0, 12);
    flt_sched *s = load_ok("at 30s link_silence duration=2s\nat 45s link_silence until=45.3s\n");
    ck_assert_int_eq(flt_link_silent(s, 0), 0);
    ck_assert_int_eq(flt_link_silent(s, 29999), 0);
    ck_assert_int_eq(flt_link_silent(s, 30000), 1);
    ck_assert_int_eq(flt_link_silent(s, 31999), 1);
    ck_assert_int_eq(flt_link_silent(s, 32000), 0);
    ck_assert_int_eq(flt_link_silent(s, 45299), 1);
    ck_assert_int_eq(flt_link_silent(s, 45300), 0);
    ck_assert_int_eq(flt_link_silent(NULL, 31000), 0);
    run_to(s, rs, 31000);
    robotsim_advance_to_us(ref, 31000000u);
    ck_assert(memcmp(&rs->phys.env, &ref->phys.env, sizeof rs->phys.env) == 0);
    ck_assert_int_eq(s->faults[0].active, 1);
    flt_free(s);
    robot_free(rs);
    robot_free(ref);
    facade_free(f);
}
END_TEST

/* Overlaps: leaks add; the later supply drop wins; a later stuck state
 * wins; everything returns to the baseline; flt_reset restores it too. */
START_TEST(test_overlap_and_reset)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    facade *f = glass_facade();
    robotsim *rs = robot_at(&cfg, f, 1, 1, 150.0, 13);
    flt_sched *s = load_ok("at 1s cup_leak cup=A1a rate_kpa_s=6 duration=4s\n"
                           "at 2s cup_leak cup=A1a rate_kpa_s=3 duration=1s\n"
                           "at 2s supply_drop kpa=400 duration=3s\n"
                           "at 3s supply_drop kpa=250 duration=1s\n"
                           "at 3s valve_stuck output=Y6 state=on duration=2s\n"
                           "at 3.5s valve_stuck output=Y6 state=off duration=1s\n");
    ck_assert_int_eq(flt_apply(s, rs, 1000), 1);
    ck_assert_int_eq(flt_apply(s, rs, 1000), 0); /* nothing new: nothing written */
    ck_assert_double_eq(rs->phys.env.cup_leak_per_s[0], 0.1);
    ck_assert_int_eq(flt_apply(s, rs, 2000), 2);
    ck_assert_double_eq_tol(rs->phys.env.cup_leak_per_s[0], 0.15, 1e-15);
    ck_assert_double_eq(rs->phys.env.supply_pa, 400e3);
    ck_assert_int_eq(flt_apply(s, rs, 3000), 3); /* leak 2 ends; drop 2 and Y6-on start */
    ck_assert_double_eq(rs->phys.env.cup_leak_per_s[0], 0.1);
    ck_assert_double_eq(rs->phys.env.supply_pa, 250e3);
    ck_assert_uint_eq(rs->phys.env.y_stuck_on, CC_Y_A_VAC);
    ck_assert_int_eq(flt_apply(s, rs, 3500), 1);
    ck_assert_uint_eq(rs->phys.env.y_stuck_on, 0);
    ck_assert_uint_eq(rs->phys.env.y_stuck_off, CC_Y_A_VAC);
    ck_assert_int_eq(flt_apply(s, rs, 4000), 1);
    ck_assert_double_eq(rs->phys.env.supply_pa, 400e3);
    ck_assert_int_eq(flt_apply(s, rs, 4500), 1);
    ck_assert_uint_eq(rs->phys.env.y_stuck_on, CC_Y_A_VAC);
    ck_assert_uint_eq(rs->phys.env.y_stuck_off, 0);
    ck_assert_int_eq(flt_apply(s, rs, 5000), 3);
    ck_assert_double_eq(rs->phys.env.cup_leak_per_s[0], 0.0);
    ck_assert_double_eq(rs->phys.env.supply_pa, cfg.supply_pa);
    ck_assert_uint_eq(rs->phys.env.y_stuck_on | rs->phys.env.y_stuck_off, 0);
    ck_assert_uint_eq(s->changes, 12);
    /* back in time: the same state as then (L1, S1, S2, V1 active again) */
    ck_assert_int_eq(flt_apply(s, rs, 3000), 4);
    ck_assert_double_eq(rs->phys.env.supply_pa, 250e3);
    flt_reset(s, rs);
    ck_assert_double_eq(rs->phys.env.supply_pa, cfg.supply_pa);
    ck_assert_uint_eq(rs->phys.env.y_stuck_on, 0);
    ck_assert_int_eq(s->attached, 0);
    ck_assert_int_eq(flt_apply(NULL, rs, 0), FLT_EARG);
    ck_assert_int_eq(flt_advance_to_us(s, NULL, 0), FLT_EARG);
    /* the next events */
    ck_assert_uint_eq(flt_next_event_ms(s, 0), 1000);
    ck_assert_uint_eq(flt_next_event_ms(s, 1000), 2000);
    ck_assert_uint_eq(flt_next_event_ms(s, 3000), 3500);
    ck_assert_uint_eq(flt_next_event_ms(s, 4500), 5000);
    ck_assert(flt_next_event_ms(s, 5000) == FLT_FOREVER);
    flt_free(s);
    robot_free(rs);
    facade_free(f);
}
END_TEST

/* The robot's state every 10 ms of a scripted run with the combined
 * scenario: the readings, inputs, true vacuum, bodies, wind, factor. */
typedef struct {
    uint16_t analog[ROBOTSIM_ANALOG_N];
    uint32_t x_bits;
    double vac_pa[PHYS_CUPS];
    double body_m[2][2];
    double cyl_m[2];
    double wind, factor;
} snap;

/* 45 s, two half steps of 20 s: both grip until 12 s, then A releases,
 * lifts, strokes X+ (brush, spray) over 14-19 s (through the X stall at
 * 15-17 s), lowers, seals; from 20 s B the same with Y+.  The time is
 * advanced in chunks of chunk_ms. */
static void combined_run(const facade *f, uint64_t seed, unsigned chunk_ms, snap *out, size_t n)
{
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/sim/scenarios/combined.txt", src_dir());
    flt_sched *s;
    ck_assert_msg(flt_load_file(path, &s, err, sizeof err) == 0, "%s", err);
    robotsim *rs = robot_at(&cfg, f, 1, 1, 0.0, seed);
    for (size_t k = 0; k < n; k++) {
        uint64_t t = (uint64_t)k * 10u; /* ms */
        uint32_t ph = (uint32_t)(t % 20000u);
        int g = t >= 20000u; /* 0: A moves, 1: B moves */
        uint16_t keep = g ? (CC_Y_A_DOWN | CC_Y_A_VAC) : (CC_Y_B_DOWN | CC_Y_B_VAC);
        uint16_t down = g ? CC_Y_B_DOWN : CC_Y_A_DOWN, vac = g ? CC_Y_B_VAC : CC_Y_A_VAC;
        uint16_t blow = g ? CC_Y_B_BLOW : CC_Y_A_BLOW, cyl = g ? CC_Y_Y_PLUS : CC_Y_X_PLUS;
        uint16_t y = keep;
        if (ph < 12000) y |= down | vac;
        else if (ph < 13000) y |= down | blow;
        else if (ph < 14000) y |= 0;
        else if (ph < 19000) y |= cyl | CC_Y_BRUSH | CC_Y_SPRAY;
        else if (ph < 19500) y |= down;
        else y |= down | vac;
        robotsim_set_outputs(rs, y);
        /* advance to t + 10 ms in chunks */
        for (uint64_t u = t + chunk_ms; u < t + 10u; u += chunk_ms) run_to(s, rs, u);
        run_to(s, rs, t + 10u);
        robotsim_sample(rs);
        snap *sn = &out[k];
        memset(sn, 0, sizeof *sn);
        memcpy(sn->analog, rs->analog, sizeof sn->analog);
        sn->x_bits = rs->x_bits;
        memcpy(sn->vac_pa, rs->phys.vac_pa, sizeof sn->vac_pa);
        memcpy(sn->body_m, rs->phys.body_m, sizeof sn->body_m);
        memcpy(sn->cyl_m, rs->phys.cyl_pos_m, sizeof sn->cyl_m);
        sn->wind = rs->phys.env.wind_m_s;
        sn->factor = rs->phys.hold.factor;
    }
    ck_assert_msg(!rs->phys.fallen, "%s", rs->phys.fall_reason);
    ck_assert_uint_eq(s->changes, 2 * s->n); /* every fault started and ended */
    flt_free(s);
    robot_free(rs);
}

/* Same scenario + seed -> identical state sequences, however the time is
 * chopped (faults are applied at their exact times); another seed gives
 * the same physics and other readings. */
START_TEST(test_determinism)
{
    facade *f = glass_facade();
    enum { N = 4500 }; /* 45 s */
    snap *a = calloc(N, sizeof *a), *b = calloc(N, sizeof *b), *c = calloc(N, sizeof *c);
    ck_assert(a && b && c);
    combined_run(f, 42, 10, a, N);
    combined_run(f, 42, 3, b, N);
    ck_assert(memcmp(a, b, N * sizeof *a) == 0);
    combined_run(f, 43, 10, c, N);
    int readings_differ = 0;
    for (size_t k = 0; k < N; k++) {
        ck_assert(memcmp(a[k].vac_pa, c[k].vac_pa, sizeof a[k].vac_pa) == 0);
        ck_assert(memcmp(a[k].body_m, c[k].body_m, sizeof a[k].body_m) == 0);
        if (memcmp(a[k].analog, c[k].analog, sizeof a[k].analog) != 0) readings_differ = 1;
    }
    ck_assert(readings_differ);
    /* the faults did something: the X cylinder moved, stalled 15-17 s */
    ck_assert_double_eq(a[1500].cyl_m[0], a[1699].cyl_m[0]);
    ck_assert_double_lt(a[1499].cyl_m[0], 0.3);
    ck_assert_uint_eq(a[2600].analog[9], 550); /* B2a stuck at 55 kPa from 24 s */
    ck_assert_double_gt(a[350].wind, 10.0);     /* the gust, 2-5 s */
    free(a);
    free(b);
    free(c);
    facade_free(f);
}
END_TEST

static Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_parse_every_kind);
    tcase_add_test(tc, test_format_roundtrip);
    tcase_add_test(tc, test_shipped_scenarios);
    tcase_add_loop_test(tc, test_bad_file, 0, (int)N_BAD);
    tcase_add_test(tc, test_bad_files_all_listed);
    tcase_add_test(tc, test_errors_inline);
    tcase_add_test(tc, test_limits);
    suite_add_tcase(s, tc);
    tc = tcase_create("apply");
    tcase_add_test(tc, test_cup_leak_ejector_off);
    tcase_add_test(tc, test_cup_leak_ejector_on);
    tcase_add_test(tc, test_sensor_stuck);
    tcase_add_test(tc, test_sensor_offset);
    tcase_add_test(tc, test_sensor_noise);
    tcase_add_test(tc, test_cylinder_stall);
    tcase_add_test(tc, test_supply_drop);
    tcase_add_test(tc, test_reed_dead);
    tcase_add_test(tc, test_valve_stuck);
    tcase_add_test(tc, test_wind_gust);
    tcase_add_test(tc, test_camera_blackout);
    tcase_add_test(tc, test_link_silence);
    tcase_add_test(tc, test_overlap_and_reset);
    tcase_add_test(tc, test_determinism);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(faults_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
