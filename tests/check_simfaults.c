/*
 * check_simfaults.c — `crossclimb sim --facade F --faults S`: fault scenarios
 * injected into the simulated robot under the PLC program, as its own
 * process (controller/simproc.h, simproc_spawn) with frozen idle time,
 * driven by this test over Modbus TCP with libmodbus: no controller.
 *
 * Each fault kind of docs/faults-format.md, injected by a scenario at a
 * time, must show its effect where a test or an evaluation looks: in the
 * ground-truth log (--truth) or in what the PLC reports (the status block):
 *  - every fault start and end is a "fault" line of the truth log at the
 *    fault's exact millisecond (also off the 10 ms scan grid);
 *  - cup leak: that cup's true vacuum falls, the others' do not;
 *  - sensor stuck: the reading is frozen at the value (no noise) while the
 *    truth is elsewhere; sensor offset: the mean reading shifts; sensor
 *    noise: its spread grows;
 *  - cylinder stall: no motion while commanded, motion after;
 *  - reed switch dead: the carriage reaches the end, the switch never says so;
 *  - valve stuck: the group's vacuum stays on although the PLC drives it off;
 *  - supply drop: D127 falls, X14 drops, the PLC holds with reason 5;
 *  - wind gust: the wind in the truth log rises and the safety factor falls;
 *  - link silence: requests go unanswered for exactly its window of virtual
 *    time (each dropped command write still advances time by D204), the
 *    PLC's watchdog trips (D100 b3, hold reason 3) and answers resume;
 *  - same scenario, seed and requests -> byte-identical truth logs.
 * (camera blackout is tests/check_camchannel.c: it needs the camera channel.)
 * mbs_peek_write, which the link silence uses, is unit-tested here too.
 *
 * Env: CROSSCLIMB_BIN (the binary), CROSSCLIMB_SRC (the sources).
 */
#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <modbus.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller/simproc.h"
#include "plc_bridge/regmap.h"
#include "sim/mbserver.h"
#include "tests/support/tmpdir.h"

#define MAX_WAIT_MS 8000u
#define Y_GRIP (CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC)
#define Y_B_HOLDS (CC_Y_B_DOWN | CC_Y_B_VAC)

/* ------------------------------------------------------------ the rig */

static simproc sp;
static modbus_t *ctx;
static uint16_t st[CC_STATUS_COUNT];        /* status block after the last answered exchange */
static uint16_t seq, hb, out_req, mode_req;  /* the command block being sent */
static uint16_t period_ms;                   /* D204 sent */
static uint64_t t_ms;                        /* virtual time: the sum of the periods sent */
static char truth[PATH_MAX];

static const char *src_dir(void)
{
    const char *s = getenv("CROSSCLIMB_SRC");
    return s && *s ? s : ".";
}

static const char *bin_path(void)
{
    const char *b = getenv("CROSSCLIMB_BIN");
    return b && *b ? b : "build/crossclimb";
}

/*
 * Start `crossclimb sim --facade default --faults S --truth T` (S holds
 * scenario) with frozen idle time and a state line every 50 ms, connect
 * and read the power-up status.  extra: more arguments (may be NULL).
 */
static void sim_start(const char *scenario, const char *seed, const char *truth_name,
                      const char *const *extra)
{
    char facade[PATH_MAX], faults[PATH_MAX];
    const char *argv[40];
    int n = 0;
    snprintf(facade, sizeof facade, "%s/sim/facades/default.txt", src_dir());
    snprintf(faults, sizeof faults, "%s", tmp_path("scenario.txt"));
    snprintf(truth, sizeof truth, "%s", tmp_path(truth_name));
    write_bytes(faults, scenario, strlen(scenario));
    argv[n++] = bin_path();
    argv[n++] = "sim";
    argv[n++] = "--facade";
    argv[n++] = facade;
    argv[n++] = "--listen";
    argv[n++] = "tcp://127.0.0.1:0";
    argv[n++] = "--idle";
    argv[n++] = "frozen";
    argv[n++] = "--seed";
    argv[n++] = seed;
    argv[n++] = "--truth";
    argv[n++] = truth;
    argv[n++] = "--truth-ms";
    argv[n++] = "50";
    argv[n++] = "--faults";
    argv[n++] = faults;
    for (int i = 0; extra && extra[i]; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    int rc = simproc_spawn(&sp, argv);
    ck_assert_msg(rc == 0, "simproc_spawn: %s", simproc_strerror(rc));
    ctx = modbus_new_tcp("127.0.0.1", sp.tcp_port);
    ck_assert_ptr_nonnull(ctx);
    modbus_set_response_timeout(ctx, 5, 0);
    ck_assert_msg(modbus_connect(ctx) == 0, "connect: %s", modbus_strerror(errno));
    ck_assert_int_eq(modbus_read_registers(ctx, CC_STATUS_FIRST, CC_STATUS_COUNT, st),
                     CC_STATUS_COUNT);
    seq = hb = out_req = mode_req = 0;
    period_ms = 10;
    t_ms = 0;
}

/* SIGTERM: the sim's exit status. */
static int sim_stop(void)
{
    modbus_close(ctx);
    modbus_free(ctx);
    ctx = NULL;
    return simproc_stop(&sp);
}

static uint16_t flags(void) { return st[CC_ST_FLAGS]; }
static uint32_t xword(void) { return (uint32_t)st[CC_ST_X_LO] | (uint32_t)st[CC_ST_X_HI] << 16; }

#define EX_WRITE 1 /* try_exchange: the command write was answered */
#define EX_READ 2  /* ... and the status read */

/*
 * Write the command block (FC 0x10; virtual time advances by period_ms
 * whether the write is answered or, during a link silence, dropped), then
 * read the status (a read never moves time; it is skipped when the write
 * went unanswered).  Returns EX_WRITE | EX_READ as they were answered.
 */
static int try_exchange(void)
{
    uint16_t cmd[CC_CMD_COUNT] = {seq, hb, out_req, mode_req, period_ms, 0, 0, 0};
    int w = modbus_write_registers(ctx, CC_CMD_FIRST, CC_CMD_COUNT, cmd);
    t_ms += period_ms;
    if (w != CC_CMD_COUNT) return 0;
    if (modbus_read_registers(ctx, CC_STATUS_FIRST, CC_STATUS_COUNT, st) != CC_STATUS_COUNT)
        return EX_WRITE;
    return EX_WRITE | EX_READ;
}

static void cycle(void)
{
    hb++;
    ck_assert_msg(try_exchange() == (EX_WRITE | EX_READ), "t %llu ms: no answer: %s",
                  (unsigned long long)t_ms, modbus_strerror(errno));
}

/* Cycle until virtual time reaches until_ms. */
static void cycles_until(uint64_t until_ms)
{
    while (t_ms < until_ms) cycle();
}

/* A new command that the PLC must accept (echo, no rejection). */
static void accept(uint16_t outputs, uint16_t mode)
{
    seq++;
    out_req = outputs;
    mode_req = mode;
    cycle();
    ck_assert_msg(st[CC_ST_SEQ_ECHO] == seq && !(flags() & CC_FLAG_REJECTED),
                  "t %llu ms: command %u (outputs 0x%04X, mode %u) refused: D100 0x%04X "
                  "D101 0x%04X D105 %u",
                  (unsigned long long)t_ms, seq, outputs, mode, flags(), st[CC_ST_X_LO],
                  st[CC_ST_SEQ_ECHO]);
}

/* The power-up HOLD acknowledged, both groups gripping in AUTO. */
static void reset_and_grip(void)
{
    accept(0, CC_MODE_RESET);
    accept(Y_GRIP, CC_MODE_AUTO);
}

typedef int (*cond_fn)(unsigned arg);

static void wait_for(cond_fn cond, unsigned arg, const char *what)
{
    uint64_t t0 = t_ms;
    while (!cond(arg)) {
        ck_assert_msg(t_ms - t0 < MAX_WAIT_MS, "t %llu ms: %s never came (D101 0x%04X)",
                      (unsigned long long)t_ms, what, st[CC_ST_X_LO]);
        cycle();
    }
}

static int cond_inputs_on(unsigned bits) { return (xword() & bits) == bits; }

static int cond_released_a(unsigned unused)
{
    (void)unused;
    for (unsigned i = 0; i < 6; i++)
        if (st[CC_ST_CUP_FIRST + i] > 100) return 0;
    return 1;
}

static int cond_a_up(unsigned unused)
{
    (void)unused;
    return (xword() & (CC_X_A_UP | CC_X_A_DOWN)) == CC_X_A_UP;
}

/* Both groups sealed, then A released and lifted while B holds: the
 * cylinders can move (SPEC §6; check_simrobot's half-step). */
static void lift_a(void)
{
    reset_and_grip();
    wait_for(cond_inputs_on, CC_X_A_VAC_OK | CC_X_B_VAC_OK | CC_X_A_DOWN | CC_X_B_DOWN,
             "both groups gripping");
    accept(Y_B_HOLDS | CC_Y_A_DOWN | CC_Y_A_BLOW, CC_MODE_AUTO);
    wait_for(cond_released_a, 0, "A released");
    accept(Y_B_HOLDS, CC_MODE_AUTO);
    wait_for(cond_a_up, 0, "A up");
}

/* --------------------------------------------------------- truth log */

typedef struct {
    json_object **line;
    size_t n;
    char *text;
    size_t len;
} truth_log;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    ck_assert_ptr_nonnull(buf);
    for (;;) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        cap *= 2;
        buf = realloc(buf, cap + 1);
        ck_assert_ptr_nonnull(buf);
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Every line of the log as a JSON object (each must parse). */
static void truth_read(const char *path, truth_log *tl)
{
    memset(tl, 0, sizeof *tl);
    tl->text = slurp(path, &tl->len);
    size_t cap = 256;
    tl->line = malloc(cap * sizeof *tl->line);
    ck_assert_ptr_nonnull(tl->line);
    char *copy = strdup(tl->text), *save = NULL;
    ck_assert_ptr_nonnull(copy);
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        json_object *o = json_tokener_parse(l);
        ck_assert_msg(o != NULL, "%s:%zu: not JSON: %s", path, tl->n + 1, l);
        if (tl->n == cap) {
            cap *= 2;
            tl->line = realloc(tl->line, cap * sizeof *tl->line);
            ck_assert_ptr_nonnull(tl->line);
        }
        tl->line[tl->n++] = o;
    }
    free(copy);
    ck_assert_msg(tl->n >= 2, "%s: %zu lines", path, tl->n);
}

static void truth_free(truth_log *tl)
{
    for (size_t i = 0; i < tl->n; i++) json_object_put(tl->line[i]);
    free(tl->line);
    free(tl->text);
}

static json_object *jget(json_object *o, const char *key)
{
    json_object *v;
    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no '%s' in %s", key,
                  json_object_to_json_string(o));
    return v;
}

static const char *jtype(json_object *o) { return json_object_get_string(jget(o, "type")); }
static uint64_t jt_us(json_object *o) { return (uint64_t)json_object_get_int64(jget(o, "t_us")); }

/* The last state line at or before at_ms. */
static json_object *state_at(const truth_log *tl, uint64_t at_ms)
{
    json_object *best = NULL;
    for (size_t i = 0; i < tl->n; i++)
        if (!strcmp(jtype(tl->line[i]), "state") && jt_us(tl->line[i]) <= at_ms * 1000u)
            best = tl->line[i];
    ck_assert_msg(best != NULL, "no state line at or before %llu ms", (unsigned long long)at_ms);
    return best;
}

static double cup_vac_kpa(json_object *state, unsigned cup)
{
    json_object *c = json_object_array_get_idx(jget(state, "cups"), cup);
    ck_assert_ptr_nonnull(c);
    return json_object_get_double(jget(c, "vac_kpa"));
}

static double pair_idx(json_object *state, const char *key, unsigned i)
{
    return json_object_get_double(json_object_array_get_idx(jget(state, key), i));
}

static double factor(json_object *state)
{
    return json_object_get_double(jget(jget(state, "sf"), "factor"));
}

/* The one "fault" line with this event ("start"/"end") and kind; fails
 * unless there is exactly one. */
static json_object *fault_line(const truth_log *tl, const char *event, const char *kind)
{
    json_object *found = NULL;
    int n = 0;
    for (size_t i = 0; i < tl->n; i++) {
        json_object *o = tl->line[i];
        if (strcmp(jtype(o), "fault") != 0) continue;
        if (strcmp(json_object_get_string(jget(o, "event")), event) != 0) continue;
        if (strcmp(json_object_get_string(jget(o, "kind")), kind) != 0) continue;
        found = o;
        n++;
    }
    ck_assert_msg(n == 1, "%d '%s' fault lines for %s", n, event, kind);
    return found;
}

/* The truth log says kind started at start_ms and ended at end_ms. */
static void assert_fault_window(const truth_log *tl, const char *kind, uint64_t start_ms,
                                uint64_t end_ms)
{
    ck_assert_uint_eq(jt_us(fault_line(tl, "start", kind)), start_ms * 1000u);
    ck_assert_uint_eq(jt_us(fault_line(tl, "end", kind)), end_ms * 1000u);
}

/* ----------------------------------------------------- status samples */

#define SAMPLES_MAX 2048

typedef struct {
    uint64_t t_ms[SAMPLES_MAX];
    uint16_t v[SAMPLES_MAX];
    size_t n;
} series;

/* Cycle until until_ms, recording status word `index` after each exchange. */
static void record_until(series *s, unsigned index, uint64_t until_ms)
{
    while (t_ms < until_ms) {
        cycle();
        ck_assert_uint_lt(s->n, SAMPLES_MAX);
        s->t_ms[s->n] = t_ms;
        s->v[s->n++] = st[index];
    }
}

/* Mean and standard deviation of the samples taken in [from_ms, to_ms]. */
static void stats_in(const series *s, uint64_t from_ms, uint64_t to_ms, double *mean, double *sd,
                     size_t *count)
{
    double sum = 0.0, sq = 0.0;
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->t_ms[i] < from_ms || s->t_ms[i] > to_ms) continue;
        sum += s->v[i];
        sq += (double)s->v[i] * s->v[i];
        n++;
    }
    ck_assert_uint_gt(n, 10);
    *mean = sum / (double)n;
    *sd = sqrt(fmax(0.0, sq / (double)n - *mean * *mean));
    if (count) *count = n;
}

/* ------------------------------------------------------------- faults */

/* A leak off the scan grid: the fault lines name its exact milliseconds;
 * A1b's true vacuum falls to its leak equilibrium (k = 5 /s with the
 * ejector on: 60 / (1 + 5 x 0.451) ~ 18 kPa), A1a's does not, and it
 * recovers once the leak ends. */
START_TEST(test_cup_leak)
{
    sim_start("at 1003ms cup_leak cup=A1b rate_kpa_s=300 until=2507ms\n", "1", "leak.jsonl",
              NULL);
    reset_and_grip();
    series s = {.n = 0};
    record_until(&s, CC_ST_CUP_FIRST + 1, 4500);
    ck_assert_int_eq(sim_stop(), 0);

    truth_log tl;
    truth_read(truth, &tl);
    assert_fault_window(&tl, "cup_leak", 1003, 2507);
    json_object *start = fault_line(&tl, "start", "cup_leak");
    ck_assert_int_eq(json_object_get_int(jget(start, "line")), 1);
    ck_assert_str_eq(json_object_get_string(jget(start, "fault")),
                     "at 1.003s cup_leak cup=A1b rate_kpa_s=300 until=2.507s");
    ck_assert_double_gt(cup_vac_kpa(state_at(&tl, 1000), 1), 55.0);
    json_object *mid = state_at(&tl, 2450);
    ck_assert_double_lt(cup_vac_kpa(mid, 1), 25.0);
    ck_assert_double_gt(cup_vac_kpa(mid, 0), 50.0);
    ck_assert_double_gt(cup_vac_kpa(state_at(&tl, 4500), 1), 45.0);
    truth_free(&tl);
    /* what the PLC reports follows (0.1 kPa) */
    double mean, sd;
    stats_in(&s, 2000, 2500, &mean, &sd, NULL);
    ck_assert_double_lt(mean, 250.0);
}
END_TEST

/* B2a's transducer reads exactly 33.0 kPa, no noise, for its second; the
 * truth stays near 60; before and after it reads the truth with noise. */
START_TEST(test_sensor_stuck)
{
    sim_start("at 1s sensor_stuck sensor=cup:B2a value_kpa=33 duration=1s\n", "2", "stuck.jsonl",
              NULL);
    reset_and_grip();
    series s = {.n = 0};
    record_until(&s, CC_ST_CUP_FIRST + 9, 3000);
    ck_assert_int_eq(sim_stop(), 0);
    double mean, sd;
    stats_in(&s, 1100, 1900, &mean, &sd, NULL);
    ck_assert_double_eq(mean, 330.0);
    ck_assert_double_eq(sd, 0.0);
    stats_in(&s, 2200, 3000, &mean, &sd, NULL);
    ck_assert_double_gt(mean, 550.0);
    ck_assert_double_gt(sd, 0.5); /* noise is back: the reading moves again */

    truth_log tl;
    truth_read(truth, &tl);
    assert_fault_window(&tl, "sensor_stuck", 1000, 2000);
    ck_assert_double_gt(cup_vac_kpa(state_at(&tl, 1500), 9), 55.0);
    truth_free(&tl);
}
END_TEST

/* A2a reads 6 kPa high while its offset lasts; the truth does not move. */
START_TEST(test_sensor_offset)
{
    sim_start("at 1s sensor_offset sensor=cup:A2a offset_kpa=6 until=2s\n", "3", "offset.jsonl",
              NULL);
    reset_and_grip();
    series s = {.n = 0};
    record_until(&s, CC_ST_CUP_FIRST + 3, 3000);
    ck_assert_int_eq(sim_stop(), 0);
    double before, during, after, sd;
    stats_in(&s, 300, 900, &before, &sd, NULL);
    stats_in(&s, 1100, 1900, &during, &sd, NULL);
    stats_in(&s, 2200, 3000, &after, &sd, NULL);
    ck_assert_double_eq_tol(during - before, 60.0, 5.0);
    ck_assert_double_eq_tol(after - before, 0.0, 5.0);
    truth_log tl;
    truth_read(truth, &tl);
    assert_fault_window(&tl, "sensor_offset", 1000, 2000);
    ck_assert_double_eq_tol(cup_vac_kpa(state_at(&tl, 1500), 3),
                            cup_vac_kpa(state_at(&tl, 900), 3), 0.5);
    truth_free(&tl);
}
END_TEST

/* The tether load cell's spread grows from its own 1 N to about 15 N. */
START_TEST(test_sensor_noise)
{
    sim_start("at 1s sensor_noise sensor=tether sd_n=15 until=3s\n", "4", "noise.jsonl", NULL);
    reset_and_grip();
    series s = {.n = 0};
    record_until(&s, CC_ST_TETHER, 3000);
    ck_assert_int_eq(sim_stop(), 0);
    double mean0, sd0, mean1, sd1;
    stats_in(&s, 100, 900, &mean0, &sd0, NULL);
    stats_in(&s, 1100, 2900, &mean1, &sd1, NULL);
    ck_assert_double_lt(sd0, 3.0);
    ck_assert_double_gt(sd1, 10.0);
    ck_assert_double_lt(sd1, 20.0);
    ck_assert_double_eq_tol(mean1, mean0, 5.0);
    truth_log tl;
    truth_read(truth, &tl);
    assert_fault_window(&tl, "sensor_noise", 1000, 3000);
    truth_free(&tl);
}
END_TEST

/* The X cylinder is jammed until 3.5 s: commanded X+ with A lifted, the
 * carriage stays at mid stroke; after the jam it runs to the end. */
START_TEST(test_cylinder_stall)
{
    sim_start("at 0s cylinder_stall axis=x until=3500ms\n", "5", "stall.jsonl", NULL);
    lift_a();
    ck_assert_uint_lt(t_ms, 2500);
    accept(Y_B_HOLDS | CC_Y_X_PLUS, CC_MODE_AUTO);
    uint64_t t_cmd = t_ms;
    cycles_until(3500);
    ck_assert_uint_eq(xword() & (CC_X_XCYL_MINUS_END | CC_X_XCYL_PLUS_END), 0);
    wait_for(cond_inputs_on, CC_X_XCYL_PLUS_END, "X+ end after the jam");
    uint64_t t_end = t_ms;
    ck_assert_int_eq(sim_stop(), 0);

    truth_log tl;
    truth_read(truth, &tl);
    ck_assert_uint_eq(jt_us(fault_line(&tl, "start", "cylinder_stall")), 0);
    ck_assert_uint_eq(jt_us(fault_line(&tl, "end", "cylinder_stall")), 3500000u);
    ck_assert_double_eq_tol(pair_idx(state_at(&tl, t_cmd), "cyl_mm", 0), 150.0, 0.05);
    ck_assert_double_eq_tol(pair_idx(state_at(&tl, 3450), "cyl_mm", 0), 150.0, 0.05);
    ck_assert_double_gt(pair_idx(state_at(&tl, t_end), "cyl_mm", 0), 297.0);
    truth_free(&tl);
}
END_TEST

/* X1 (X cylinder at + end) is dead: the truth has the carriage at the end,
 * the input never says so; X0 at the other end still works. */
START_TEST(test_reed_dead)
{
    sim_start("at 0s reed_dead switch=X1\n", "6", "reed.jsonl", NULL);
    lift_a();
    accept(Y_B_HOLDS | CC_Y_X_PLUS, CC_MODE_AUTO);
    uint64_t until = t_ms + 2500; /* 150 mm at 0.15 m/s with the cushion: 1.2 s */
    while (t_ms < until) {
        cycle();
        ck_assert_msg(!(xword() & CC_X_XCYL_PLUS_END), "t %llu ms: the dead X1 closed",
                      (unsigned long long)t_ms);
    }
    uint64_t t_plus = t_ms;
    accept(Y_B_HOLDS | CC_Y_X_MINUS, CC_MODE_AUTO);
    wait_for(cond_inputs_on, CC_X_XCYL_MINUS_END, "X0 at the - end");
    ck_assert_int_eq(sim_stop(), 0);

    truth_log tl;
    truth_read(truth, &tl);
    ck_assert_uint_eq(jt_us(fault_line(&tl, "start", "reed_dead")), 0);
    for (size_t i = 0; i < tl.n; i++) /* to the end of the run: no end line */
        if (!strcmp(jtype(tl.line[i]), "fault"))
            ck_assert_str_eq(json_object_get_string(jget(tl.line[i], "event")), "start");
    ck_assert_double_gt(pair_idx(state_at(&tl, t_plus - 50), "cyl_mm", 0), 299.0);
    truth_free(&tl);
}
END_TEST

/* Y6 (A's vacuum) sticks on from 1 s to 3 s.  The PLC turns it off at
 * 1.5 s (B holds): D103 shows it off, but A's manifold stays pulled and X10
 * stays on until the valve follows the PLC again at 3 s. */
START_TEST(test_valve_stuck)
{
    sim_start("at 1s valve_stuck output=Y6 state=on until=3s\n", "7", "valve.jsonl", NULL);
    reset_and_grip();
    cycles_until(1500);
    accept(Y_B_HOLDS | CC_Y_A_DOWN, CC_MODE_AUTO); /* A's vacuum off */
    while (t_ms < 2950) {
        cycle();
        ck_assert_uint_eq(st[CC_ST_Y] & CC_Y_A_VAC, 0);
        ck_assert_msg(xword() & CC_X_A_VAC_OK, "t %llu ms: X10 off while Y6 is stuck on",
                      (unsigned long long)t_ms);
    }
    cycles_until(3500);
    ck_assert_uint_eq(xword() & CC_X_A_VAC_OK, 0);
    ck_assert_int_eq(sim_stop(), 0);

    truth_log tl;
    truth_read(truth, &tl);
    assert_fault_window(&tl, "valve_stuck", 1000, 3000);
    ck_assert_double_gt(pair_idx(state_at(&tl, 2900), "manifold_kpa", 0), 55.0);
    ck_assert_double_lt(pair_idx(state_at(&tl, 3400), "manifold_kpa", 0), 1.0);
    truth_free(&tl);
}
END_TEST

/* The supply sags to 300 kPa for a second: D127 follows, X14 drops and the
 * PLC holds with reason 5 (supply); once the air is back, RESET works. */
START_TEST(test_supply_drop)
{
    sim_start("at 1s supply_drop kpa=300 until=2s\n", "8", "supply.jsonl", NULL);
    reset_and_grip();
    series s = {.n = 0};
    record_until(&s, CC_ST_SUPPLY, 1900);
    ck_assert_uint_eq(xword() & CC_X_SUPPLY_OK, 0);
    ck_assert(flags() & CC_FLAG_HOLD);
    ck_assert(flags() & CC_FLAG_SUPPLY_LOW);
    ck_assert_uint_eq(st[CC_ST_HOLD_REASON], CC_HOLD_SUPPLY);
    double mean, sd;
    stats_in(&s, 200, 900, &mean, &sd, NULL);
    ck_assert_double_eq_tol(mean, 600.0, 5.0);
    stats_in(&s, 1100, 1900, &mean, &sd, NULL);
    ck_assert_double_eq_tol(mean, 300.0, 5.0);
    cycles_until(2200);
    ck_assert(xword() & CC_X_SUPPLY_OK);
    ck_assert(!(flags() & CC_FLAG_SUPPLY_LOW));
    ck_assert(flags() & CC_FLAG_HOLD); /* latched until RESET */
    accept(0, CC_MODE_RESET);
    accept(Y_GRIP, CC_MODE_AUTO);
    cycle();
    ck_assert(!(flags() & CC_FLAG_HOLD));
    ck_assert_int_eq(sim_stop(), 0);

    truth_log tl;
    truth_read(truth, &tl);
    assert_fault_window(&tl, "supply_drop", 1000, 2000);
    truth_free(&tl);
}
END_TEST

/* A 40 m/s gust over 2 s: the wind in the truth log peaks at the middle
 * and the safety factor falls with it, then both come back. */
START_TEST(test_wind_gust)
{
    sim_start("at 1s wind_gust speed_m_s=40 until=3s\n", "9", "gust.jsonl", NULL);
    reset_and_grip();
    cycles_until(3800);
    ck_assert_int_eq(sim_stop(), 0);

    truth_log tl;
    truth_read(truth, &tl);
    assert_fault_window(&tl, "wind_gust", 1000, 3000);
    json_object *calm = state_at(&tl, 900), *peak = state_at(&tl, 2000),
                *after = state_at(&tl, 3500);
    ck_assert_double_eq_tol(json_object_get_double(jget(calm, "wind_m_s")), 0.0, 0.01);
    ck_assert_double_eq_tol(json_object_get_double(jget(peak, "wind_m_s")), 40.0, 0.5);
    ck_assert_double_lt(factor(peak), 0.8 * factor(calm));
    ck_assert_double_eq_tol(factor(after), factor(calm), 0.05 * factor(calm));
    truth_free(&tl);
}
END_TEST

/*
 * The link is silent from 1 s to 3 s.  The test cycles in AUTO with a
 * 50 ms period hint and a 100 ms response timeout (wall time; an answer
 * takes well under a millisecond, so a loaded machine is no excuse for
 * missing one): every request sent during the window goes unanswered and
 * still advances the frozen clock by D204 — the status read that follows the
 * 950 ms write (1000 -> 1050 ms), then 39 command writes — the program's watchdog trips 500 ms after the last
 * heartbeat it saw (D100 b3, HOLD, reason 3), and the first answer after the
 * window shows it.  The robot keeps hanging on its cups (truth log).
 */
START_TEST(test_link_silence)
{
    sim_start("at 1s link_silence duration=2s\n", "10", "silence.jsonl", NULL);
    period_ms = 50;
    reset_and_grip();
    cycles_until(950);
    ck_assert(!(flags() & (CC_FLAG_HOLD | CC_FLAG_WATCHDOG)));
    modbus_set_response_timeout(ctx, 0, 100000);
    /* the write at 950 ms is answered and moves time to 1000 ms: the read
     * after it already falls into the silence */
    hb++;
    ck_assert_int_eq(try_exchange(), EX_WRITE);
    unsigned dropped = 0;
    uint64_t first_answer = 0;
    while (!first_answer) {
        hb++;
        uint64_t sent_at = t_ms;
        int r = try_exchange();
        if (r & EX_WRITE) {
            ck_assert_int_eq(r, EX_WRITE | EX_READ);
            first_answer = sent_at;
        } else {
            dropped++;
        }
        ck_assert_uint_lt(dropped, 100);
    }
    ck_assert_uint_eq(dropped, 39); /* (3000 - 1050) / 50: the dropped read took the first 50 ms */
    /* the test's own clock counts writes only: it is 50 ms behind the PLC's
     * after the dropped read, so the PLC's 3000 ms is its 2950 */
    ck_assert_uint_eq(first_answer, 2950);
    modbus_set_response_timeout(ctx, 5, 0);
    ck_assert(flags() & CC_FLAG_WATCHDOG);
    ck_assert(flags() & CC_FLAG_HOLD);
    ck_assert_uint_eq(st[CC_ST_HOLD_REASON], CC_HOLD_WATCHDOG);
    /* the PLC's clock ran through the silence: D104 counts 10 ms ticks */
    ck_assert_uint_ge(st[CC_ST_TICK], 300);
    /* it answers normally again, and RESET clears the watchdog */
    accept(0, CC_MODE_RESET);
    cycle();
    ck_assert(!(flags() & CC_FLAG_WATCHDOG));
    ck_assert_int_eq(sim_stop(), 0);

    truth_log tl;
    truth_read(truth, &tl);
    assert_fault_window(&tl, "link_silence", 1000, 3000);
    json_object *mid = state_at(&tl, 2000);
    ck_assert_uint_ge(jt_us(mid), 1950000u); /* virtual time ran during the silence */
    ck_assert(!json_object_get_boolean(jget(mid, "fallen")));
    ck_assert_double_ge(factor(mid), 2.0);
    truth_free(&tl);
}
END_TEST

/*
 * The same silence with idle realtime: virtual time runs by the wall clock
 * through it, so a controller cycling in real time (one exchange per 50 ms
 * of wall time, 40 ms timeouts) sees the watchdog trip and the answers come
 * back about a second later, without any request moving time.
 */
START_TEST(test_link_silence_realtime_idle)
{
    static const char *const idle[] = {"--idle", "realtime", NULL};
    sim_start("at 500ms link_silence duration=1s\n", "12", "silence_rt.jsonl", idle);
    period_ms = 50;
    modbus_set_response_timeout(ctx, 0, 40000);
    reset_and_grip();
    unsigned dropped = 0, answered_after = 0;
    for (int i = 0; i < 200 && answered_after < 5; i++) {
        hb++;
        int r = try_exchange();
        if (!(r & EX_WRITE)) dropped++;
        else if (dropped) answered_after++;
        struct timespec d = {0, 50 * 1000 * 1000};
        if (!(r & EX_WRITE)) d.tv_nsec -= 40 * 1000 * 1000; /* the timeout took 40 ms */
        nanosleep(&d, NULL);
    }
    ck_assert_uint_ge(dropped, 10);       /* 1 s of silence, about 20 tries */
    ck_assert_uint_eq(answered_after, 5); /* and it ended */
    ck_assert(flags() & CC_FLAG_WATCHDOG);
    ck_assert_uint_eq(st[CC_ST_HOLD_REASON], CC_HOLD_WATCHDOG);
    ck_assert_int_eq(sim_stop(), 0);
    truth_log tl;
    truth_read(truth, &tl);
    assert_fault_window(&tl, "link_silence", 500, 1500);
    truth_free(&tl);
}
END_TEST

/* ---------------------------------------------------------- determinism */

static const char combined[] =
    "# every robot fault kind and the link within 4 s\n"
    "at 300ms  wind_gust speed_m_s=20 duration=1s\n"
    "at 500ms  sensor_noise sensor=cup:A1c sd_kpa=2 duration=2s\n"
    "at 700ms  cup_leak cup=A1b rate_kpa_s=20 duration=1.5s\n"
    "at 900ms  sensor_stuck sensor=cup:B2a value_kpa=55 until=3s\n"
    "at 1s     sensor_offset sensor=supply offset_kpa=-40 until=2s\n"
    "at 1200ms supply_drop kpa=500 duration=1s\n"
    "at 1500ms valve_stuck output=Y11 state=off duration=1s\n"
    "at 1700ms camera_blackout duration=400ms\n"
    "at 2s     link_silence duration=300ms\n"
    "at 2500ms reed_dead switch=X3 duration=1s\n"
    "at 2600ms cylinder_stall axis=y duration=500ms\n";

/* A fixed request script (nothing depends on an answer), link silence included. */
static void fixed_script(void)
{
    period_ms = 20;
    modbus_set_response_timeout(ctx, 0, 40000);
    seq = 1;
    mode_req = CC_MODE_RESET;
    while (t_ms < 4000) {
        if (t_ms == 100) {
            seq++;
            out_req = Y_GRIP;
            mode_req = CC_MODE_AUTO;
        }
        hb++;
        (void)try_exchange();
    }
}

START_TEST(test_determinism)
{
    char t1[PATH_MAX];
    truth_log a, b;
    sim_start(combined, "11", "det1.jsonl", NULL);
    fixed_script();
    ck_assert_int_eq(sim_stop(), 0);
    snprintf(t1, sizeof t1, "%s", truth);
    sim_start(combined, "11", "det2.jsonl", NULL);
    fixed_script();
    ck_assert_int_eq(sim_stop(), 0);
    truth_read(t1, &a);
    truth_read(truth, &b);
    ck_assert_uint_eq(a.len, b.len);
    ck_assert_msg(memcmp(a.text, b.text, a.len) == 0, "same scenario, seed, requests: logs differ");
    /* 11 starts and 11 ends, in time order */
    unsigned faults = 0;
    uint64_t last = 0;
    for (size_t i = 0; i < a.n; i++) {
        if (strcmp(jtype(a.line[i]), "fault") != 0) continue;
        faults++;
        ck_assert_uint_ge(jt_us(a.line[i]), last);
        last = jt_us(a.line[i]);
    }
    ck_assert_uint_eq(faults, 22);
    truth_free(&a);
    truth_free(&b);
}
END_TEST

/* ----------------------------------------------------- mbs_peek_write */

START_TEST(test_peek_write)
{
    static const uint8_t fc10[] = {0x10, 0x00, 0xC8, 0x00, 0x08, 0x10};
    static const uint8_t fc06[] = {0x06, 0x00, 0xCC, 0x00, 0x32};
    static const uint8_t fc17[] = {0x17, 0x00, 0x64, 0x00, 0x20, 0x00, 0xC8, 0x00, 0x05, 0x0A};
    static const uint8_t fc03[] = {0x03, 0x00, 0xC8, 0x00, 0x08};
    static const uint8_t fc05[] = {0x05, 0x33, 0x00, 0xFF, 0x00};
    static const uint8_t short17[] = {0x17, 0x00, 0x64, 0x00, 0x20, 0x00, 0xC8};
    mbs_request_info in;
    mbs_peek_write(fc10, sizeof fc10, &in);
    ck_assert_uint_eq(in.function, 0x10);
    ck_assert_uint_eq(in.wtable, MB_TABLE_HOLDING);
    ck_assert_uint_eq(in.waddr, 200);
    ck_assert_uint_eq(in.wcount, 8);
    ck_assert(mbs_info_touches(&in, MB_TABLE_HOLDING, CC_CMD_FIRST, CC_CMD_COUNT));
    mbs_peek_write(fc06, sizeof fc06, &in);
    ck_assert(mbs_info_touches(&in, MB_TABLE_HOLDING, CC_CMD_FIRST, CC_CMD_COUNT));
    ck_assert_uint_eq(in.waddr, 204);
    mbs_peek_write(fc17, sizeof fc17, &in);
    ck_assert_uint_eq(in.waddr, 200);
    ck_assert_uint_eq(in.wcount, 5);
    mbs_peek_write(fc03, sizeof fc03, &in);
    ck_assert_uint_eq(in.function, 0x03);
    ck_assert_uint_eq(in.wcount, 0);
    ck_assert(!mbs_info_touches(&in, MB_TABLE_HOLDING, CC_CMD_FIRST, CC_CMD_COUNT));
    mbs_peek_write(fc05, sizeof fc05, &in);
    ck_assert_uint_eq(in.wtable, MB_TABLE_COIL);
    ck_assert_uint_eq(in.wcount, 1);
    mbs_peek_write(short17, sizeof short17, &in); /* too short to name its write */
    ck_assert_uint_eq(in.wcount, 0);
    mbs_peek_write(NULL, 0, &in);
    ck_assert_uint_eq(in.function, 0);
}
END_TEST

static Suite *simfaults_suite(void)
{
    Suite *s = suite_create("sim-faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, test_cup_leak);
    tcase_add_test(tc, test_sensor_stuck);
    tcase_add_test(tc, test_sensor_offset);
    tcase_add_test(tc, test_sensor_noise);
    tcase_add_test(tc, test_cylinder_stall);
    tcase_add_test(tc, test_reed_dead);
    tcase_add_test(tc, test_valve_stuck);
    tcase_add_test(tc, test_supply_drop);
    tcase_add_test(tc, test_wind_gust);
    tcase_add_test(tc, test_link_silence);
    tcase_add_test(tc, test_link_silence_realtime_idle);
    tcase_add_test(tc, test_determinism);
    suite_add_tcase(s, tc);
    TCase *unit = tcase_create("peek");
    tcase_add_test(unit, test_peek_write);
    suite_add_tcase(s, unit);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(simfaults_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
