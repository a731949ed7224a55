/*
 * check_simrobot.c — `crossclimb sim --facade F`: the shipped PLC program
 * running over the simulated robot, as its own process (controller/simproc.h,
 * simproc_spawn with the test's argv) with frozen idle time, driven by this
 * test over Modbus TCP with libmodbus: no controller.  Each exchange writes
 * the command block (FC 0x10: virtual time advances by the period hint D204,
 * the scans of the period run) and reads the status block (FC 0x03).
 *
 * What happened to the robot is judged by the ground-truth log (--truth),
 * never by what the PLC reports:
 *  - a scripted gait (a half-step of A with an X stroke, then of B with a Y
 *    stroke, end switch to end switch) moves A by one stroke along x and B by
 *    one stroke along y on glass, to the millimetre, with every command
 *    accepted by the PLC and no fall;
 *  - a FALL a correct PLC cannot prevent: a heavy robot whose A group has
 *    its lower cups on a joint.  A's manifold switch stays on, so the PLC's
 *    interlock L2 lets B go; the truth log says FALL (slip) with its reason,
 *    the status block shows the fallen robot (every cup 0, switches off) and
 *    the sim exits 3.  The same release on plain glass holds (factor < 2:
 *    the controller's check, not the PLC's);
 *  - determinism: same seed and requests -> byte-identical truth logs and
 *    identical readings; another seed -> other readings (sensor noise) but
 *    the same physics; with gusts, another seed -> another wind;
 *  - every facade in sim/facades/ starts and holds the robot 10 s with a
 *    safety factor >= 2.
 *
 * Env: CROSSCLIMB_BIN (the binary), CROSSCLIMB_SRC (the sources).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <modbus.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controller/simproc.h"
#include "plc_bridge/regmap.h"
#include "tests/support/tmpdir.h"

#define PERIOD_MS 10u
#define MAX_WAIT_MS 8000u /* longest single movement waited for */
#define STROKE_M 0.300    /* default robot: X and Y strokes */
#define POSE_TOL_M 0.001  /* +-1 mm */
#define DWELL_MS 200u     /* keep driving into the end stop after the end switch */
#define SETTLE_MS 500u

#define Y_GRIP (CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC)
#define X_A_GRIPS (CC_X_A_DOWN | CC_X_A_VAC_OK)
#define X_B_GRIPS (CC_X_B_DOWN | CC_X_B_VAC_OK)

/* ------------------------------------------------------------ the rig */

static simproc sp;
static modbus_t *ctx;
static uint16_t st[CC_STATUS_COUNT];       /* status block after the last exchange */
static uint16_t seq, hb, out_req, mode_req; /* the command block being sent */
static uint64_t t_ms;                      /* virtual time: the sum of the periods sent */
static uint64_t readings_hash;             /* FNV-1a of every status block read */
static int strict;                         /* 1: every exchange must show no rejection */

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

/* A path in the test's scratch directory (tests/support/tmpdir.h), copied. */
static void in_dir(char *out, size_t len, const char *name)
{
    int n = snprintf(out, len, "%s", tmp_path(name));
    ck_assert(n > 0 && (size_t)n < len);
}

static void write_file(const char *path, const char *text)
{
    write_bytes(path, text, strlen(text));
}

/* Start `crossclimb sim --facade F [--robot R] --seed N --truth T` with frozen
 * idle time on a free port, connect, read the power-up status. */
static void sim_start(const char *facade, const char *robot, const char *seed, const char *truth)
{
    const char *argv[24];
    int n = 0;
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
    if (robot) {
        argv[n++] = "--robot";
        argv[n++] = robot;
    }
    argv[n] = NULL;
    int rc = simproc_spawn(&sp, argv);
    ck_assert_msg(rc == 0, "simproc_spawn %s: %s", facade, simproc_strerror(rc));
    ck_assert_int_gt(sp.tcp_port, 0);
    ck_assert_msg(strstr(sp.ready, "robot on ") && strstr(sp.ready, "seed "), "ready line: %s",
                  sp.ready);
    ctx = modbus_new_tcp("127.0.0.1", sp.tcp_port);
    ck_assert_ptr_nonnull(ctx);
    modbus_set_response_timeout(ctx, 5, 0);
    ck_assert_msg(modbus_connect(ctx) == 0, "connect: %s", modbus_strerror(errno));
    ck_assert_int_eq(modbus_read_registers(ctx, CC_STATUS_FIRST, CC_STATUS_COUNT, st),
                     CC_STATUS_COUNT);
    seq = hb = out_req = mode_req = 0;
    t_ms = 0;
    readings_hash = 1469598103934665603ull;
    strict = 0;
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

static void hash_status(void)
{
    for (unsigned i = 0; i < CC_STATUS_COUNT; i++) {
        readings_hash ^= st[i];
        readings_hash *= 1099511628211ull;
    }
}

/* Write the command block (period hint PERIOD_MS), read the status. */
static void exchange(void)
{
    uint16_t cmd[CC_CMD_COUNT] = {seq, hb, out_req, mode_req, PERIOD_MS, 0, 0, 0};
    ck_assert_int_eq(modbus_write_registers(ctx, CC_CMD_FIRST, CC_CMD_COUNT, cmd), CC_CMD_COUNT);
    t_ms += PERIOD_MS;
    ck_assert_int_eq(modbus_read_registers(ctx, CC_STATUS_FIRST, CC_STATUS_COUNT, st),
                     CC_STATUS_COUNT);
    hash_status();
    if (strict)
        ck_assert_msg(!(flags() & (CC_FLAG_REJECTED | CC_FLAG_HOLD)),
                      "t %llu ms: the PLC refused (D100 0x%04X, reason %u, outputs 0x%04X)",
                      (unsigned long long)t_ms, flags(), st[CC_ST_HOLD_REASON], out_req);
}

/* One laptop cycle with the same command: heartbeat +1. */
static void cycle(void)
{
    hb++;
    exchange();
}

static void cycles_ms(unsigned ms)
{
    for (unsigned t = 0; t < ms; t += PERIOD_MS) cycle();
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
    if (mode == CC_MODE_AUTO) ck_assert_uint_eq(st[CC_ST_Y], outputs);
}

/* The power-up HOLD acknowledged, both groups gripping in AUTO. */
static void reset_and_grip(void)
{
    accept(0, CC_MODE_RESET);
    accept(Y_GRIP, CC_MODE_AUTO);
    strict = 1;
}

typedef int (*cond_fn)(unsigned arg);

/* Cycle until cond(arg) holds; fails after MAX_WAIT_MS.  Returns the ms taken. */
static unsigned wait_for(cond_fn cond, unsigned arg, const char *what)
{
    unsigned ms = 0;
    while (!cond(arg)) {
        ck_assert_msg(ms < MAX_WAIT_MS, "t %llu ms: %s never came (D101 0x%04X)",
                      (unsigned long long)t_ms, what, st[CC_ST_X_LO]);
        cycle();
        ms += PERIOD_MS;
    }
    return ms;
}

static int cond_inputs_on(unsigned bits) { return (xword() & bits) == bits; }

/* arg: group 0/1; every cup of the group reads <= released (10 kPa). */
static int cond_released(unsigned g)
{
    for (unsigned i = 0; i < 6; i++)
        if (st[CC_ST_CUP_FIRST + g * 6 + i] > 100) return 0;
    return 1;
}

/* arg: group 0/1; every cup of the group reads >= sealed (45 kPa). */
static int cond_sealed(unsigned g)
{
    for (unsigned i = 0; i < 6; i++)
        if (st[CC_ST_CUP_FIRST + g * 6 + i] < 450) return 0;
    return 1;
}

/* arg: group 0/1; its legs at the up switch and not at the down one. */
static int cond_up(unsigned g)
{
    uint32_t up = g ? CC_X_B_UP : CC_X_A_UP, down = g ? CC_X_B_DOWN : CC_X_A_DOWN;
    return (xword() & (up | down)) == up;
}

/*
 * A half-step of group g (0 = A, 1 = B) while the other holds, as SPEC §6
 * has it: release with blow-off until every cup reads <= 10 kPa, lift, drive
 * the cylinder valve `stroke` until the end switch `end_x` (and DWELL_MS into
 * the end stop), lower, grip until every cup reads >= 45 kPa, settle.
 */
static void half_step(unsigned g, uint16_t stroke, uint32_t end_x)
{
    uint16_t down = g ? CC_Y_B_DOWN : CC_Y_A_DOWN;
    uint16_t vac = g ? CC_Y_B_VAC : CC_Y_A_VAC;
    uint16_t blow = g ? CC_Y_B_BLOW : CC_Y_A_BLOW;
    uint16_t keep = g ? (CC_Y_A_DOWN | CC_Y_A_VAC) : (CC_Y_B_DOWN | CC_Y_B_VAC);
    uint32_t x_down = g ? CC_X_B_DOWN : CC_X_A_DOWN;

    accept(keep | down | blow, CC_MODE_AUTO); /* release (L1/L2: the other grips) */
    wait_for(cond_released, g, "released");
    accept(keep, CC_MODE_AUTO);               /* lift (L4) */
    wait_for(cond_up, g, "legs up");
    accept(keep | stroke, CC_MODE_AUTO);      /* stroke (L3) */
    wait_for(cond_inputs_on, end_x, "end switch");
    cycles_ms(DWELL_MS);
    accept(keep, CC_MODE_AUTO);               /* stop */
    accept(keep | down, CC_MODE_AUTO);        /* lower */
    wait_for(cond_inputs_on, x_down, "legs down");
    accept(keep | down | vac, CC_MODE_AUTO);  /* grip */
    wait_for(cond_sealed, g, "sealed");
    cycles_ms(SETTLE_MS);
    ck_assert_msg(cond_sealed(g), "t %llu ms: a cup lost its seal while settling",
                  (unsigned long long)t_ms);
}

/* --------------------------------------------------------- truth log */

typedef struct {
    uint64_t t_us;
    double a[2], b[2]; /* body centres, m */
    double factor;
    int fallen;
} truth_state;

typedef struct {
    truth_state *s;
    size_t n;
    int falls;            /* "fall" lines */
    char fall_kind[32];
    char fall_reason[256];
    int end_seen, end_fallen;
    double end_sf_min;
    uint64_t end_t_us;
    char *text;           /* the whole file */
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
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
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

static double jnum(json_object *o, const char *key)
{
    json_object *v;
    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no '%s'", key);
    return json_object_get_double(v);
}

static void jpair(json_object *o, const char *key, double out[2])
{
    json_object *v;
    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no '%s'", key);
    out[0] = json_object_get_double(json_object_array_get_idx(v, 0));
    out[1] = json_object_get_double(json_object_array_get_idx(v, 1));
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v;
    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no '%s'", key);
    return json_object_get_string(v);
}

/* Read and parse a ground-truth log: every line must be a JSON object. */
static void truth_read(const char *path, truth_log *tl)
{
    memset(tl, 0, sizeof *tl);
    tl->text = slurp(path, &tl->len);
    size_t cap = 1024;
    tl->s = malloc(cap * sizeof *tl->s);
    ck_assert_ptr_nonnull(tl->s);
    char *copy = strdup(tl->text), *save = NULL;
    ck_assert_ptr_nonnull(copy);
    int lineno = 0;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        json_object *o = json_tokener_parse(line);
        ck_assert_msg(o != NULL, "%s:%d: not JSON", path, lineno);
        const char *type = jstr(o, "type");
        if (lineno == 1) ck_assert_str_eq(type, "start");
        if (!strcmp(type, "state")) {
            if (tl->n == cap) {
                cap *= 2;
                tl->s = realloc(tl->s, cap * sizeof *tl->s);
                ck_assert_ptr_nonnull(tl->s);
            }
            truth_state *s = &tl->s[tl->n++];
            json_object *sf, *v;
            ck_assert(json_object_object_get_ex(o, "t_us", &v));
            s->t_us = (uint64_t)json_object_get_int64(v);
            jpair(o, "a_m", s->a);
            jpair(o, "b_m", s->b);
            ck_assert(json_object_object_get_ex(o, "sf", &sf));
            s->factor = jnum(sf, "factor");
            ck_assert(json_object_object_get_ex(o, "fallen", &v));
            s->fallen = json_object_get_boolean(v);
        } else if (!strcmp(type, "fall")) {
            tl->falls++;
            snprintf(tl->fall_kind, sizeof tl->fall_kind, "%s", jstr(o, "kind"));
            snprintf(tl->fall_reason, sizeof tl->fall_reason, "%s", jstr(o, "reason"));
        } else if (!strcmp(type, "end")) {
            json_object *v;
            tl->end_seen = 1;
            ck_assert(json_object_object_get_ex(o, "fallen", &v));
            tl->end_fallen = json_object_get_boolean(v);
            tl->end_sf_min = jnum(o, "sf_min");
            ck_assert(json_object_object_get_ex(o, "t_us", &v));
            tl->end_t_us = (uint64_t)json_object_get_int64(v);
        } else {
            ck_assert_str_eq(type, "start");
        }
        json_object_put(o);
    }
    free(copy);
    ck_assert_msg(tl->end_seen, "%s: no end line", path);
    ck_assert_msg(tl->n > 0, "%s: no state line", path);
}

static void truth_free(truth_log *tl)
{
    free(tl->s);
    free(tl->text);
}

/* The last state line at or before t_ms. */
static const truth_state *truth_at(const truth_log *tl, uint64_t at_ms)
{
    const truth_state *best = NULL;
    for (size_t i = 0; i < tl->n; i++)
        if (tl->s[i].t_us <= at_ms * 1000u) best = &tl->s[i];
    ck_assert_msg(best != NULL, "no state line before %llu ms", (unsigned long long)at_ms);
    return best;
}

static void assert_moved(const char *what, const truth_state *s0, const truth_state *s1,
                         const double da[2], const double db[2])
{
    for (int k = 0; k < 2; k++) {
        double ma = s1->a[k] - s0->a[k], mb = s1->b[k] - s0->b[k];
        ck_assert_msg(ma > da[k] - POSE_TOL_M && ma < da[k] + POSE_TOL_M,
                      "%s: A moved %.4f m along %c, expected %.3f", what, ma, "xy"[k], da[k]);
        ck_assert_msg(mb > db[k] - POSE_TOL_M && mb < db[k] + POSE_TOL_M,
                      "%s: B moved %.4f m along %c, expected %.3f", what, mb, "xy"[k], db[k]);
    }
}

/* The text after the first line (the "start" line names the seed). */
static const char *after_start(const truth_log *tl)
{
    const char *nl = strchr(tl->text, '\n');
    ck_assert_ptr_nonnull(nl);
    return nl + 1;
}

/* ---------------------------------------------------------------- gait */

START_TEST(test_gait_one_stroke_each_way)
{
    char facade[PATH_MAX], truth[PATH_MAX];
    snprintf(facade, sizeof facade, "%s/sim/facades/default.txt", src_dir());
    in_dir(truth, sizeof truth, "gait.jsonl");
    sim_start(facade, NULL, "1", truth);
    reset_and_grip();
    wait_for(cond_inputs_on, X_A_GRIPS | X_B_GRIPS, "both groups gripping");
    cycles_ms(SETTLE_MS);

    /* The robot starts with the cylinders at mid stroke: one half-step each
     * to put them at an end, so the measured ones run end to end. */
    half_step(0, CC_Y_X_PLUS, CC_X_XCYL_PLUS_END);  /* A -150 mm in x */
    half_step(1, CC_Y_Y_PLUS, CC_X_YCYL_PLUS_END);  /* B -150 mm in y */
    uint64_t t0 = t_ms;
    /* B holds, the X cylinder from + to - end: A's body slides +300 mm in x */
    half_step(0, CC_Y_X_MINUS, CC_X_XCYL_MINUS_END);
    uint64_t t1 = t_ms;
    /* A holds, the Y cylinder from + to - end: B moves +300 mm in y (up) */
    half_step(1, CC_Y_Y_MINUS, CC_X_YCYL_MINUS_END);
    uint64_t t2 = t_ms;
    ck_assert_uint_eq(st[CC_ST_SEQ_ECHO], seq);
    ck_assert_int_eq(sim_stop(), 0);

    truth_log tl;
    truth_read(truth, &tl);
    ck_assert_int_eq(tl.falls, 0);
    ck_assert(!tl.end_fallen);
    /* one group alone on dry glass holds 5.8 times the load */
    ck_assert_msg(tl.end_sf_min >= 2.0, "minimum safety factor %.3f", tl.end_sf_min);
    ck_assert_uint_ge(tl.end_t_us, t2 * 1000u);
    const truth_state *s0 = truth_at(&tl, t0), *s1 = truth_at(&tl, t1), *s2 = truth_at(&tl, t2);
    static const double zero[2] = {0.0, 0.0}, xs[2] = {STROKE_M, 0.0}, ys[2] = {0.0, STROKE_M};
    assert_moved("half-step of A (X stroke)", s0, s1, xs, zero);
    assert_moved("half-step of B (Y stroke)", s1, s2, zero, ys);
    /* and all the way: from the facade's start point (3900, 3100) mm */
    ck_assert_double_eq_tol(s2->a[0], 3.900 - 0.150 + STROKE_M, POSE_TOL_M);
    ck_assert_double_eq_tol(s2->b[1], 3.100 - 0.150 + STROKE_M, POSE_TOL_M);
    truth_free(&tl);
}
END_TEST

/* ---------------------------------------------------------------- fall */

/*
 * A 5 m x 5 m glass facade (25 mm cells) with a 75 mm horizontal joint at
 * y 2425..2500 mm: with the robot at (2500, 2500) the lower cups (b, c) of
 * both A feet, centred at y 2460, sit on it; B's feet (y 2100, 2900) are on
 * glass.  joint = 0: the same facade without the joint.
 */
static void write_joint_facade(const char *path, int joint)
{
    size_t cap = 201u * 200u + 512u, n;
    char *t = malloc(cap);
    ck_assert_ptr_nonnull(t);
    n = (size_t)snprintf(t, cap,
                         "facade joint_test\ncell_mm 25\nsize 200 200\nstart_mm 2500 2500\n"
                         "legend . glass\nlegend j joint\ngrid\n");
    for (int r = 199; r >= 0; r--) {
        char c = joint && r >= 97 && r <= 99 ? 'j' : '.';
        memset(t + n, c, 200);
        n += 200;
        t[n++] = '\n';
    }
    t[n] = '\0';
    write_file(path, t);
    free(t);
}

/*
 * The PLC sees one vacuum switch per group, on the manifold.  A's lower
 * cups on the joint settle near 16 kPa, but its upper two keep the manifold
 * near 47.5 kPa: switch on, so the interlock L2 (B may release while A
 * grips, X10 and X5) accepts B's release, as it must.  The robot weighs
 * 100 kg: both groups hold it with a factor of about 2.3, A alone only 0.8
 * on the joint: FALL (slip) within a second of the blow-off.  Every-cup
 * verification (S2) is the controller's job; this is what happens without.
 */
START_TEST(test_fall_release_onto_joint)
{
    char facade[PATH_MAX], robot[PATH_MAX], truth[PATH_MAX];
    in_dir(robot, sizeof robot, "heavy.ini");
    write_file(robot, "; 100 kg with the 4 kg of water\n[robot]\nmass_dry_kg = 96\n");
    for (int joint = 1; joint >= 0; joint--) {
        in_dir(facade, sizeof facade, joint ? "joint.txt" : "glass.txt");
        in_dir(truth, sizeof truth, joint ? "joint.jsonl" : "glass.jsonl");
        write_joint_facade(facade, joint);
        sim_start(facade, robot, "3", truth);
        reset_and_grip();
        cycles_ms(5000); /* A's joint cups settle at their leak equilibrium */
        ck_assert_msg(cond_inputs_on(X_A_GRIPS | X_B_GRIPS), "D101 0x%04X", st[CC_ST_X_LO]);
        if (joint) ck_assert(!cond_sealed(0)); /* the cups say what the switch does not */
        else ck_assert(cond_sealed(0));
        strict = 0; /* after a fall the PLC may well hold; only the release must pass */
        accept(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_BLOW, CC_MODE_AUTO);
        cycles_ms(3000);
        ck_assert(flags() & CC_FLAG_RUN); /* the PLC keeps running */
        if (joint) {
            /* what the controller sees of the fallen robot */
            for (unsigned i = 0; i < CC_CUPS_N; i++) ck_assert_uint_eq(st[CC_ST_CUP_FIRST + i], 0);
            ck_assert_uint_eq(xword() & (CC_X_A_VAC_OK | CC_X_B_VAC_OK), 0);
            for (unsigned i = 0; i < CC_PROX_N; i++)
                ck_assert_uint_eq(st[CC_ST_PROX_FIRST + i], CC_NO_VALUE);
            ck_assert_int_eq(sim_stop(), 3); /* SIGTERM after a fall: exit 3 */
        } else {
            ck_assert(cond_sealed(0));
            ck_assert_int_eq(sim_stop(), 0);
        }

        truth_log tl;
        truth_read(truth, &tl);
        const truth_state *last = &tl.s[tl.n - 1];
        if (joint) {
            ck_assert_int_eq(tl.falls, 1);
            ck_assert_str_eq(tl.fall_kind, "slip");
            ck_assert_msg(!strncmp(tl.fall_reason, "slip: shear ", 12), "reason: %s",
                          tl.fall_reason);
            ck_assert(tl.end_fallen);
            ck_assert(last->fallen);
            ck_assert_double_lt(tl.end_sf_min, 1.0);
            /* it held until the release: 5 s of both groups above the required 2 */
            ck_assert_double_ge(truth_at(&tl, 5000)->factor, 2.0);
            ck_assert(!truth_at(&tl, 5000)->fallen);
        } else {
            ck_assert_int_eq(tl.falls, 0);
            ck_assert(!tl.end_fallen);
            /* A alone on glass: 0.5 * 6 * 60 kPa * A / (100 kg g) = 1.44, holding
             * but below the required 2 */
            ck_assert_double_gt(last->factor, 1.3);
            ck_assert_double_lt(last->factor, 1.6);
        }
        truth_free(&tl);
    }
}
END_TEST

/* ---------------------------------------------------------- determinism */

/* A fixed request script (no decision depends on a reading): the same
 * requests whatever the seed. */
static void fixed_script(void)
{
    static const struct {
        uint16_t y, mode;
        unsigned ms;
    } steps[] = {
        {0, CC_MODE_RESET, 10},
        {Y_GRIP, CC_MODE_AUTO, 1500},
        {CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_A_DOWN | CC_Y_A_BLOW, CC_MODE_AUTO, 800}, /* release A */
        {CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_AUTO, 600},                            /* lift A */
        {CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_X_MINUS, CC_MODE_AUTO, 1500},            /* stroke */
        {CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_AUTO, 100},
        {CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_A_DOWN, CC_MODE_AUTO, 600},              /* lower A */
        {Y_GRIP, CC_MODE_AUTO, 2000},                                             /* grip A */
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        accept(steps[i].y, steps[i].mode);
        cycles_ms(steps[i].ms - PERIOD_MS);
    }
}

/* Run the script with seed on facade (robot may be NULL) into truth; returns
 * the hash of every status block read. */
static uint64_t scripted_run(const char *facade, const char *robot, const char *seed,
                             const char *truth)
{
    sim_start(facade, robot, seed, truth);
    fixed_script();
    ck_assert_int_eq(sim_stop(), 0);
    return readings_hash;
}

START_TEST(test_determinism)
{
    char facade[PATH_MAX], robot[PATH_MAX], t1[PATH_MAX], t2[PATH_MAX], t3[PATH_MAX];
    snprintf(facade, sizeof facade, "%s/sim/facades/default.txt", src_dir());
    in_dir(t1, sizeof t1, "a.jsonl");
    in_dir(t2, sizeof t2, "b.jsonl");
    in_dir(t3, sizeof t3, "c.jsonl");
    uint64_t h1 = scripted_run(facade, NULL, "7", t1);
    uint64_t h2 = scripted_run(facade, NULL, "7", t2);
    uint64_t h3 = scripted_run(facade, NULL, "8", t3);
    truth_log a, b, c;
    truth_read(t1, &a);
    truth_read(t2, &b);
    truth_read(t3, &c);
    /* same seed, same requests: the same bytes, the same readings */
    ck_assert_uint_eq(a.len, b.len);
    ck_assert_msg(memcmp(a.text, b.text, a.len) == 0, "same seed: truth logs differ");
    ck_assert_uint_eq(h1, h2);
    /* another seed: other sensor noise, so other readings ... */
    ck_assert_msg(h1 != h3, "seeds 7 and 8 gave the same readings");
    /* ... but the noise never feeds back into the physics: past the start
     * line (which names the seed) the truth is the same */
    ck_assert_msg(strcmp(a.text, c.text) != 0, "seeds 7 and 8: identical start lines");
    ck_assert_str_eq(after_start(&a), after_start(&c));
    ck_assert_uint_ge(a.n, 70); /* 7.1 s at a state line every 100 ms */
    truth_free(&a);
    truth_free(&b);
    truth_free(&c);

    /* With gusts the seed drives the wind too: the physics differs. */
    in_dir(robot, sizeof robot, "gusty.ini");
    write_file(robot, "[wind]\ngust_m_s = 8\ngust_rate_per_min = 60\ngust_ms = 2000\n");
    (void)scripted_run(facade, robot, "7", t1);
    (void)scripted_run(facade, robot, "7", t2);
    (void)scripted_run(facade, robot, "8", t3);
    truth_read(t1, &a);
    truth_read(t2, &b);
    truth_read(t3, &c);
    ck_assert_msg(a.len == b.len && memcmp(a.text, b.text, a.len) == 0,
                  "gusts, same seed: truth logs differ");
    ck_assert_msg(strcmp(after_start(&a), after_start(&c)) != 0,
                  "gusts, seeds 7 and 8: the same wind");
    truth_free(&a);
    truth_free(&b);
    truth_free(&c);
}
END_TEST

/* ------------------------------------------------------------- facades */

static int is_facade(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 4 && !strcmp(e->d_name + n - 4, ".txt");
}

START_TEST(test_every_facade_holds)
{
    char fdir[PATH_MAX], facade[PATH_MAX + 256], truth[PATH_MAX];
    struct dirent **names;
    snprintf(fdir, sizeof fdir, "%s/sim/facades", src_dir());
    int n = scandir(fdir, &names, is_facade, alphasort);
    ck_assert_msg(n >= 4, "%s: %d facades", fdir, n);
    for (int i = 0; i < n; i++) {
        snprintf(facade, sizeof facade, "%s/%s", fdir, names[i]->d_name);
        in_dir(truth, sizeof truth, "facade.jsonl");
        sim_start(facade, NULL, "1", truth);
        reset_and_grip();
        cycles_ms(10000);
        ck_assert_msg(cond_inputs_on(X_A_GRIPS | X_B_GRIPS), "%s: D101 0x%04X",
                      names[i]->d_name, st[CC_ST_X_LO]);
        ck_assert_int_eq(sim_stop(), 0);
        truth_log tl;
        truth_read(truth, &tl);
        ck_assert_msg(tl.falls == 0 && !tl.end_fallen, "%s: fell: %s", names[i]->d_name,
                      tl.fall_reason);
        ck_assert_msg(tl.end_sf_min >= 2.0, "%s: minimum safety factor %.3f", names[i]->d_name,
                      tl.end_sf_min);
        for (size_t k = 0; k < tl.n; k++) ck_assert_double_ge(tl.s[k].factor, 2.0);
        ck_assert_uint_ge(tl.end_t_us, 10000000u);
        ck_assert_uint_ge(tl.n, 100);
        truth_free(&tl);
        unlink(truth);
        free(names[i]);
    }
    free(names);
}
END_TEST

static Suite *simrobot_suite(void)
{
    Suite *s = suite_create("sim-robot-over-modbus");
    TCase *tc = tcase_create("robot");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, test_gait_one_stroke_each_way);
    tcase_add_test(tc, test_fall_release_onto_joint);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_every_facade_holds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(simrobot_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
