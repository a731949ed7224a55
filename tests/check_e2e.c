/*
 * check_e2e.c — the controller and its mission end to end against the
 * simulated robot (`crossclimb sim --facade`, its own process, Modbus TCP on
 * loopback), judged by the simulator's ground-truth log, never by the
 * controller's own word:
 *
 *   - the default facade (default robot, no position sensors): a region the
 *     robot can reach cleaned with coverage >= 95 % of its cleanable cells,
 *     no fall, safety factor >= 2.0 all along (so at every release), no
 *     command refused by the PLC, no HOLD;
 *   - with position sensors (a robot INI written here): the default facade
 *     across a mullion, and the mixed, tall-narrow and tiled facades: >= 95 %
 *     of the reachable area (the cells the mission's plan sweeps) cleaned,
 *     the same safety conditions;
 *   - link silence in mid-step (the controller stops exchanging; the
 *     simulator's idle time runs at real-time pace): the PLC watchdog holds,
 *     the operator acknowledges, the half-step and the mission complete;
 *   - the controller process (`crossclimb run --state FILE`) killed with
 *     SIGKILL in mid-step and started again on the same checkpoint: it
 *     finishes that half-step and the mission, no fall.
 *
 * Virtual durations are kept to a few minutes per test so `make check`
 * stays fast.  A simulator without `--facade` skips every test (said on
 * stderr).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "controller/ctl.h"
#include "controller/mission.h"
#include "controller/runlog.h"
#include "controller/simproc.h"
#include "plc_bridge/link.h"
#include "plc_bridge/uri.h"
#include "robot/facade.h"
#include "robot/robotcfg.h"

static const char *bin(void)
{
    const char *b = getenv("CROSSCLIMB_BIN");
    return b && *b ? b : "build/crossclimb";
}

static void src_path(char *out, size_t len, const char *rel)
{
    const char *src = getenv("CROSSCLIMB_SRC");
    snprintf(out, len, "%s/%s", src && *src ? src : ".", rel);
}

static int sim_has_robot = -1;

/* Does the simulator take --facade?  (It did not before the robot landed.) */
static int have_robot_sim(void)
{
    if (sim_has_robot >= 0) return sim_has_robot;
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "'%s' sim --help 2>&1", bin());
    FILE *p = popen(cmd, "r");
    char buf[512];
    sim_has_robot = 0;
    if (p) {
        while (fgets(buf, sizeof buf, p))
            if (strstr(buf, "--facade")) sim_has_robot = 1;
        pclose(p);
    }
    return sim_has_robot;
}

#define SENSOR_ROBOT "[sensors]\nposition_sensors = yes\n"
#define TILED_ROBOT "[cups]\nfoot_b1_mm = 0, -325\nfoot_b2_mm = 0, 325\n[sensors]\nposition_sensors = yes\n"

typedef struct {
    char dir[PATH_MAX];
    char truth[PATH_MAX + 32];
    char robot[PATH_MAX + 32];
    char facade_path[PATH_MAX + 64];
    simproc sp;
    int sim_running;
    facade *fac;
    robotcfg rc;
    params_robot p;
    mis_config mc;
    cc_link *link;
    ctl c;
    mission m;
    cc_status st;
    unsigned holds;          /* HOLDs latched */
    sup_reason first_hold;   /* reason of the first */
    unsigned link_failures;
    /* truth */
    unsigned falls;
    double sf_min;
    size_t region_cells, region_cleaned, planned_cleaned;
} e2e;

static e2e E;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

/* Where both groups stand on good footholds with the cylinders at mid
 * stroke, nearest to the facade's own start: the operator puts the robot
 * down there (the simulator starts it at the facade's start_mm). */
static int good_start(const char *path, const params_robot *p, double out[2])
{
    facade *f = NULL;
    mission m;
    mis_config mc;
    char err[256];
    int found = 0;
    if (facade_load_file(path, &f, err, sizeof err)) return 0;
    mis_config_defaults(&mc);
    mc.region_mm[2] = facade_width_mm(f);
    mc.region_mm[3] = facade_height_mm(f);
    mc.start_mm[0] = f->start_x_mm;
    mc.start_mm[1] = f->start_y_mm;
    if (mis_init(&m, &mc, p, f, err, sizeof err) == 0) {
        for (int r = 0; r <= 60 && !found; r++)
            for (int dy = -r; dy <= r && !found; dy++)
                for (int dx = -r; dx <= r && !found; dx++) {
                    if (abs(dx) != r && abs(dy) != r) continue;
                    double c[2] = {f->start_x_mm + 5.0 * dx, f->start_y_mm + 5.0 * dy};
                    if (mis_foothold_ok(&m, HOLD_GROUP_A, c, NULL) && mis_foothold_ok(&m, HOLD_GROUP_B, c, NULL)) {
                        out[0] = c[0];
                        out[1] = c[1];
                        found = 1;
                    }
                }
        mis_free(&m);
    }
    facade_free(f);
    return found;
}

/* A copy of the facade file with its start_mm at (x, y). */
static void facade_moved_start(const char *src, const char *dst, double x, double y)
{
    FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
    ck_assert(in && out);
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, in) > 0) {
        if (!strncmp(line, "start_mm ", 9))
            fprintf(out, "start_mm %.0f %.0f\n", x, y);
        else
            fputs(line, out);
    }
    free(line);
    fclose(in);
    fclose(out);
}

/* Start the simulator on facade rel (under the source tree), robot_ini text
 * (NULL: default robot), idle "frozen" or "realtime"; move_start: the robot
 * set down on good footholds near the facade's start point. */
static void sim_start_at(const char *rel, const char *robot_ini, const char *idle, int move_start)
{
    char err[256];
    memset(&E, 0, sizeof E);
    const char *td = getenv("TMPDIR");
    snprintf(E.dir, sizeof E.dir, "%s/crossclimb-e2e.XXXXXX", td && *td ? td : "/tmp");
    ck_assert(mkdtemp(E.dir) != NULL);
    snprintf(E.truth, sizeof E.truth, "%s/truth.jsonl", E.dir);
    src_path(E.facade_path, sizeof E.facade_path, rel);
    if (robot_ini) {
        snprintf(E.robot, sizeof E.robot, "%s/robot.ini", E.dir);
        write_file(E.robot, robot_ini);
        ck_assert_int_eq(robotcfg_load_file(E.robot, &E.rc, err, sizeof err), 0);
    } else {
        robotcfg_defaults(&E.rc);
    }
    ck_assert_int_eq(params_from_robotcfg(&E.p, &E.rc, err, sizeof err), 0);
    if (move_start) {
        double st[2];
        ck_assert_msg(good_start(E.facade_path, &E.p, st), "%s: no good start near its start point", rel);
        char moved[PATH_MAX + 32];
        snprintf(moved, sizeof moved, "%s/facade.txt", E.dir);
        facade_moved_start(E.facade_path, moved, st[0], st[1]);
        fprintf(stderr, "e2e %s: the robot set down at (%.0f, %.0f) mm\n", rel, st[0], st[1]);
        snprintf(E.facade_path, sizeof E.facade_path, "%s", moved);
    }
    const char *argv[24];
    int k = 0;
    argv[k++] = bin();
    argv[k++] = "sim";
    argv[k++] = "--facade";
    argv[k++] = E.facade_path;
    argv[k++] = "--truth";
    argv[k++] = E.truth;
    argv[k++] = "--truth-ms";
    argv[k++] = "1000";
    argv[k++] = "--seed";
    argv[k++] = "7";
    argv[k++] = "--listen";
    argv[k++] = "tcp://127.0.0.1:0";
    argv[k++] = "--idle";
    argv[k++] = idle;
    if (robot_ini) {
        argv[k++] = "--robot";
        argv[k++] = E.robot;
    }
    argv[k] = NULL;
    ck_assert_int_eq(simproc_spawn(&E.sp, argv), 0);
    E.sim_running = 1;
    ck_assert_int_eq(facade_load_file(E.facade_path, &E.fac, err, sizeof err), 0);
}

static void sim_start(const char *rel, const char *robot_ini, const char *idle)
{
    sim_start_at(rel, robot_ini, idle, 0);
}

/* The controller in this process: link, ctl, mission begun on region. */
static void ctl_start_on(const double region[4])
{
    char err[256], uri_s[160];
    link_uri uri;
    snprintf(uri_s, sizeof uri_s, "%s?timeout_ms=1000", E.sp.tcp_uri);
    ck_assert_int_eq(link_uri_parse(uri_s, 0, &uri, err, sizeof err), 0);
    ck_assert_int_eq(link_open(&uri, &E.link), 0);
    ck_assert_int_eq(link_connect(E.link), 0);
    ck_assert_int_eq(ctl_init(&E.c, &E.p, err, sizeof err), 0);
    ck_assert_int_eq(ctl_open(&E.c, E.link, &E.st), 0);
    mis_config_from_robotcfg(&E.mc, &E.rc);
    memcpy(E.mc.region_mm, region, sizeof E.mc.region_mm);
    E.mc.start_mm[0] = E.fac->start_x_mm;
    E.mc.start_mm[1] = E.fac->start_y_mm;
    ck_assert_int_eq(mis_init(&E.m, &E.mc, &E.c.params, E.fac, err, sizeof err), 0);
    ck_assert_int_eq(mis_begin(&E.m, &E.st, E.c.now_ticks), 0);
    ck_assert_msg(E.m.plan.planned_cells > 0, "nothing of the region can be reached");
}

/* One cycle; the start-up HOLD is acknowledged, nothing else. */
static void e2e_cycle(void)
{
    uint64_t holds = E.c.sup.holds;
    int rc = ctl_cycle(&E.c, E.link, &E.st);
    if (rc == CTL_ELINK) {
        E.link_failures++;
    } else {
        ck_assert_int_eq(rc, 0);
        ck_assert_int_eq(mis_step(&E.m, &E.c, &E.st), 0);
    }
    if (E.c.sup.holds != holds) {
        if (!E.holds) E.first_hold = E.c.sup.reason;
        E.holds++;
    }
    if (ctl_phase(&E.c) == SUP_HELD && E.c.sup.reason == SUP_R_STARTUP && !E.c.link_fail_run)
        ck_assert_int_eq(ctl_acknowledge(&E.c), 0);
    mis_event ev;
    while (mis_next_event(&E.m, &ev)) {
    }
}

static void run_to_end(unsigned max_cycles)
{
    for (unsigned i = 0; i < max_cycles && !mis_finished(&E.m); i++) {
        e2e_cycle();
        ck_assert_msg(ctl_phase(&E.c) != SUP_HELD || E.c.sup.reason == SUP_R_STARTUP,
                      "HOLD at %.1f s: %s", E.c.now_ticks / 100.0, sup_reason_name(E.c.sup.reason));
    }
    ck_assert_msg(mis_finished(&E.m), "mission not finished in %u cycles (%s)", max_cycles,
                  mis_state_name((mis_state)E.m.d.state));
    for (unsigned i = 0; i < 30; i++) e2e_cycle(); /* the last command echoed */
}

/* Stop the simulator (it closes the truth log) and read the truth. */
static void judge(const double region[4])
{
    if (E.sim_running) {
        int x = simproc_stop(&E.sp);
        E.sim_running = 0;
        ck_assert_msg(x == 0, "the simulator exited with %d (3: a fall)", x);
    }
    const facade *f = E.fac;
    uint8_t *cleaned = calloc((size_t)f->cols * f->rows, 1);
    ck_assert(cleaned != NULL);
    FILE *fp = fopen(E.truth, "r");
    ck_assert_msg(fp != NULL, "%s", E.truth);
    char *line = NULL;
    size_t cap = 0;
    int saw_end = 0;
    E.sf_min = -1.0;
    while (getline(&line, &cap, fp) > 0) {
        json_object *o = json_tokener_parse(line), *v;
        ck_assert(o != NULL);
        const char *type = json_object_get_string(json_object_object_get(o, "type"));
        if (!strcmp(type, "fall")) E.falls++;
        if (!strcmp(type, "end")) {
            saw_end = 1;
            E.sf_min = json_object_get_double(json_object_object_get(o, "sf_min"));
        }
        if (!strcmp(type, "state") && json_object_object_get_ex(o, "cleaned_new", &v))
            for (size_t i = 0; i < json_object_array_length(v); i++) {
                json_object *cr = json_object_array_get_idx(v, i);
                int64_t col = json_object_get_int64(json_object_array_get_idx(cr, 0));
                int64_t row = json_object_get_int64(json_object_array_get_idx(cr, 1));
                ck_assert(col >= 0 && row >= 0 && col < (int64_t)f->cols && row < (int64_t)f->rows);
                cleaned[(size_t)row * f->cols + (size_t)col] = 1;
            }
        json_object_put(o);
    }
    free(line);
    fclose(fp);
    ck_assert(saw_end);
    /* the region's cleanable cells, from the facade file itself */
    for (uint32_t row = 0; row < f->rows; row++)
        for (uint32_t col = 0; col < f->cols; col++) {
            facade_surface s = FACADE_CELL_SURFACE(f->cells[(size_t)row * f->cols + col]);
            double x = (col + 0.5) * f->cell_mm, y = (row + 0.5) * f->cell_mm;
            if (s == FACADE_OBSTACLE || s == FACADE_VOID) continue;
            if (x < region[0] || x > region[2] || y < region[1] || y > region[3]) continue;
            size_t i = (size_t)row * f->cols + col;
            E.region_cells++;
            if (cleaned[i]) E.region_cleaned++;
            if (cleaned[i] && E.m.plan_map[i]) E.planned_cleaned++;
        }
    free(cleaned);
}

static void e2e_teardown(void)
{
    if (E.sim_running) simproc_stop(&E.sp);
    E.sim_running = 0;
    link_close(E.link);
    E.link = NULL;
    mis_free(&E.m);
    facade_free(E.fac);
    E.fac = NULL;
    if (E.dir[0]) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", E.dir);
        if (system(cmd) != 0) fprintf(stderr, "check_e2e: could not remove %s\n", E.dir);
    }
}

/* What every run must show, by the truth and by the PLC. */
static void assert_safe(void)
{
    ck_assert_uint_eq(E.falls, 0);
    ck_assert_msg(E.sf_min >= 2.0, "minimum safety factor %.3f < 2.0", E.sf_min);
    ck_assert_uint_eq(E.c.stats.refused_by_plc, 0);
    ck_assert_uint_eq(E.c.stats.refused_explained, 0);
    ck_assert_uint_eq(E.c.sup.refused_total, 0);
}

static double reachable_coverage(void)
{
    return E.m.plan.planned_cells ? (double)E.planned_cleaned / (double)E.m.plan.planned_cells : 0.0;
}

/* ------------------------------------------------------------------ tests */

START_TEST(test_default_facade)
{
    ck_assert_msg(have_robot_sim(), "'%s sim --help' names no --facade: not the simulator these tests need", bin());
    /* the start panel of the glass curtain wall: two lanes, the brush over
     * 600 x 1200 mm between the mullions (what the default robot, whole
     * strokes only, reaches from its start) */
    const double region[4] = {3600, 2800, 4200, 4000};
    sim_start("sim/facades/default.txt", NULL, "frozen");
    ctl_start_on(region);
    ck_assert_int_eq(E.m.d.lattice, 3);
    run_to_end(60000);
    ck_assert_int_eq(E.m.d.state, MIS_DONE);
    judge(region);
    assert_safe();
    ck_assert_uint_eq(E.holds, 0);
    double cov = (double)E.region_cleaned / (double)E.region_cells;
    fprintf(stderr, "e2e default: %zu of %zu region cells cleaned (%.1f %%), sf_min %.3f, %.0f s\n",
            E.region_cleaned, E.region_cells, 100.0 * cov, E.sf_min, E.c.now_ticks / 100.0);
    ck_assert_msg(cov >= 0.95, "coverage %.3f of the region", cov);
    ck_assert_msg(reachable_coverage() >= 0.95, "coverage %.3f of the reachable area", reachable_coverage());
    e2e_teardown();
}
END_TEST

/* A facade, a region, the robot with position sensors: >= 95 % of what the
 * plan reaches, safely. */
static void facade_case(const char *rel, const char *robot_ini, const double region[4], double min_reach_m2,
                        int move_start)
{
    ck_assert_msg(have_robot_sim(), "'%s sim --help' names no --facade: not the simulator these tests need", bin());
    sim_start_at(rel, robot_ini, "frozen", move_start);
    ctl_start_on(region);
    ck_assert_int_eq(E.m.d.lattice, 0);
    double reach_m2 = (double)E.m.plan.planned_cells * E.m.plan.cell_m2;
    ck_assert_msg(reach_m2 >= min_reach_m2, "%s: only %.2f m2 reachable", rel, reach_m2);
    run_to_end(200000);
    judge(region);
    assert_safe();
    fprintf(stderr, "e2e %s: %.1f %% of %.2f m2 reachable (%.1f %% of the region), sf_min %.3f, %u holds, %.0f s\n",
            rel, 100.0 * reachable_coverage(), reach_m2,
            100.0 * (double)E.region_cleaned / (double)E.region_cells, E.sf_min, E.holds,
            E.c.now_ticks / 100.0);
    ck_assert_uint_eq(E.holds, 0);
    ck_assert_msg(reachable_coverage() >= 0.95, "%s: coverage %.3f of the reachable area", rel,
                  reachable_coverage());
    e2e_teardown();
}

START_TEST(test_default_facade_across_mullion)
{
    /* the mullion at x 4650..4700 lies inside: shortened steps cross it */
    const double region[4] = {4000, 2800, 5300, 3400};
    facade_case("sim/facades/default.txt", SENSOR_ROBOT, region, 0.75, 0);
}
END_TEST

START_TEST(test_mixed_facade)
{
    /* concrete panels: the joint at x 2500..2550 inside */
    const double region[4] = {1300, 600, 3100, 1500};
    facade_case("sim/facades/mixed.txt", SENSOR_ROBOT, region, 1.2, 0);
}
END_TEST

START_TEST(test_tall_narrow_facade)
{
    /* glass strip: the transom at y 3000..3050 between the lanes */
    const double region[4] = {600, 2400, 1900, 3900};
    facade_case("sim/facades/tall_narrow.txt", SENSOR_ROBOT, region, 1.5, 0);
}
END_TEST

START_TEST(test_tiled_facade)
{
    /* tiles in running bond, 25 mm courses 325 mm apart.  With the default
     * geometry no pose at mid stroke has both groups off the joints (B's
     * feet 800 mm apart fall in different phases of the courses; the
     * facade's own start puts a cup of each group on a joint and the
     * controller rightly holds, S1): a robot configured for this wall has
     * B's feet one course period either side, and is set down nearby */
    const double region[4] = {2400, 1800, 3600, 2500};
    facade_case("sim/facades/tiled.txt", TILED_ROBOT, region, 0.4, 1);
}
END_TEST

/* Link silence in mid-step: the controller stops exchanging while a
 * cylinder moves; the simulator's time runs on in real time, the PLC's
 * watchdog holds; the controller sees it, holds too; the operator
 * acknowledges; the half-step completes and so does the mission. */
static int gait_moving(void) { return E.c.gait.state == GAIT_MOVE && E.m.d.half_steps >= 3; }

START_TEST(test_link_silence_mid_step)
{
    ck_assert_msg(have_robot_sim(), "'%s sim --help' names no --facade: not the simulator these tests need", bin());
    const double region[4] = {3600, 2800, 4200, 3400};
    sim_start("sim/facades/default.txt", NULL, "realtime");
    ctl_start_on(region);
    unsigned i;
    for (i = 0; i < 60000 && !gait_moving(); i++) e2e_cycle();
    ck_assert(gait_moving());
    const unsigned steps = E.m.d.half_steps;
    ck_assert(E.m.d.inflight);
    struct timespec ts = {0, 800 * 1000 * 1000}; /* 0.8 s: the watchdog is 0.5 s */
    nanosleep(&ts, NULL);
    for (i = 0; i < 200 && ctl_phase(&E.c) != SUP_HELD; i++) e2e_cycle();
    ck_assert_int_eq(ctl_phase(&E.c), SUP_HELD);
    ck_assert_msg(E.c.sup.reason == SUP_R_WATCHDOG || E.c.sup.reason == SUP_R_PLC_HOLD,
                  "held for %s", sup_reason_name(E.c.sup.reason));
    ck_assert(E.st.flags & CC_FLAG_WATCHDOG);
    ck_assert_uint_eq(E.m.d.half_steps, steps); /* nothing moved on */
    for (i = 0; i < 50; i++) e2e_cycle();
    ck_assert_int_eq(ctl_acknowledge(&E.c), 0); /* the operator */
    unsigned holds = E.holds;
    for (i = 0; i < 60000 && !mis_finished(&E.m); i++) e2e_cycle();
    ck_assert(mis_finished(&E.m));
    ck_assert_int_eq(E.m.d.state, MIS_DONE);
    ck_assert_uint_eq(E.holds, holds); /* a clean resume: no further HOLD */
    ck_assert_uint_eq(E.m.d.half_steps, E.m.plan.half_steps);
    judge(region);
    ck_assert_uint_eq(E.falls, 0);
    ck_assert_msg(E.sf_min >= 2.0, "minimum safety factor %.3f", E.sf_min);
    ck_assert_uint_eq(E.c.stats.refused_by_plc, 0);
    ck_assert_uint_eq(E.c.sup.refused_total, 0);
    e2e_teardown();
}
END_TEST

/* ------------------------------------------ the controller process killed */

typedef struct {
    pid_t pid;
    int in_fd;
} child;

/* `crossclimb run ...` with stdin a pipe and stdout/stderr to out_path. */
static child spawn_run(const char *const *args, const char *out_path)
{
    int pfd[2];
    child ch = {0, -1};
    ck_assert_int_eq(pipe(pfd), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) _exit(126);
        dup2(pfd[0], STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(pfd[0]);
        close(pfd[1]);
        execv(bin(), (char *const *)args);
        _exit(127);
    }
    close(pfd[0]);
    ch.pid = pid;
    ch.in_fd = pfd[1];
    return ch;
}

static int checkpoint_field(const char *path, const char *name, double *v)
{
    json_object *o = json_object_from_file(path), *f;
    if (!o) return 0;
    int ok = json_object_object_get_ex(o, name, &f);
    if (ok) *v = json_object_get_double(f);
    json_object_put(o);
    return ok;
}

START_TEST(test_controller_killed_mid_step)
{
    ck_assert_msg(have_robot_sim(), "'%s sim --help' names no --facade: not the simulator these tests need", bin());
    const double region[4] = {3600, 2800, 4200, 4000};
    char uri_s[160], state[PATH_MAX + 32], out1[PATH_MAX + 32], out2[PATH_MAX + 32], log2[PATH_MAX + 32];
    sim_start("sim/facades/default.txt", NULL, "frozen");
    snprintf(uri_s, sizeof uri_s, "%s?timeout_ms=1000", E.sp.tcp_uri);
    snprintf(state, sizeof state, "%s/state.json", E.dir);
    snprintf(out1, sizeof out1, "%s/run1.out", E.dir);
    snprintf(out2, sizeof out2, "%s/run2.out", E.dir);
    snprintf(log2, sizeof log2, "%s/run2.jsonl", E.dir);
    const char *args1[] = {bin(), "run", "--plc", uri_s, "--facade", E.facade_path, "--region",
                           "3600,2800,4200,4000", "--state", state, "--headless", NULL};
    child c1 = spawn_run(args1, out1);
    ck_assert(write(c1.in_fd, "ack\n", 4) == 4);
    /* wait for a half-step in flight well into the mission, then kill */
    double inflight = 0, steps = 0;
    int killed = 0;
    for (int i = 0; i < 20000 && !killed; i++) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
        if (checkpoint_field(state, "inflight", &inflight) && checkpoint_field(state, "half_steps", &steps) &&
            inflight == 1.0 && steps >= 5.0) {
            struct timespec t2 = {0, 15 * 1000 * 1000}; /* into the half-step */
            nanosleep(&t2, NULL);
            kill(c1.pid, SIGKILL);
            killed = 1;
        }
    }
    int st1;
    waitpid(c1.pid, &st1, 0);
    close(c1.in_fd);
    ck_assert_msg(killed, "the first controller never had a half-step in flight");
    ck_assert(WIFSIGNALED(st1) && WTERMSIG(st1) == SIGKILL);
    double after_kill_inflight = 0;
    ck_assert(checkpoint_field(state, "inflight", &after_kill_inflight));
    fprintf(stderr, "e2e restart: killed with %.0f half-steps done, in flight %.0f\n", steps, after_kill_inflight);

    const char *args2[] = {bin(), "run", "--plc", uri_s, "--facade", E.facade_path, "--region",
                           "3600,2800,4200,4000", "--state", state, "--log", log2, "--headless", NULL};
    child c2 = spawn_run(args2, out2);
    ck_assert(write(c2.in_fd, "ack\n", 4) == 4);
    int st2;
    waitpid(c2.pid, &st2, 0);
    close(c2.in_fd);
    char cmd[PATH_MAX * 2];
    snprintf(cmd, sizeof cmd, "grep -q '^result: outcome=completed falls=0 .* refused_commands=0$' '%s'", out2);
    int grc = system(cmd);
    if (grc != 0) {
        snprintf(cmd, sizeof cmd, "cat '%s' >&2", out2);
        ck_assert(system(cmd) >= 0);
    }
    ck_assert_msg(WIFEXITED(st2) && WEXITSTATUS(st2) == 0, "the second controller failed");
    ck_assert_int_eq(grc, 0);
    snprintf(cmd, sizeof cmd, "grep -q 'resuming from' '%s'", out2);
    ck_assert_int_eq(system(cmd), 0);
    /* the second controller's log: resumed, and its first half-step ended is
     * the one that was in flight (no group put down in place first) */
    snprintf(cmd, sizeof cmd, "grep -q '\"resumed\":true' '%s'", log2);
    ck_assert_int_eq(system(cmd), 0);

    /* the whole mission, by the truth */
    char err[256];
    mis_config_from_robotcfg(&E.mc, &E.rc);
    memcpy(E.mc.region_mm, region, sizeof E.mc.region_mm);
    E.mc.start_mm[0] = E.fac->start_x_mm;
    E.mc.start_mm[1] = E.fac->start_y_mm;
    ck_assert_int_eq(mis_init(&E.m, &E.mc, &E.p, E.fac, err, sizeof err), 0);
    judge(region);
    ck_assert_uint_eq(E.falls, 0);
    ck_assert_msg(E.sf_min >= 2.0, "minimum safety factor %.3f", E.sf_min);
    double cov = (double)E.region_cleaned / (double)E.region_cells;
    fprintf(stderr, "e2e restart: %.1f %% of the region cleaned, sf_min %.3f\n", 100.0 * cov, E.sf_min);
    ck_assert_msg(cov >= 0.95, "coverage %.3f", cov);
    e2e_teardown();
}
END_TEST

static Suite *e2e_suite(void)
{
    Suite *s = suite_create("e2e");
    TCase *t = tcase_create("facades");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_default_facade);
    tcase_add_test(t, test_default_facade_across_mullion);
    tcase_add_test(t, test_mixed_facade);
    tcase_add_test(t, test_tall_narrow_facade);
    tcase_add_test(t, test_tiled_facade);
    suite_add_tcase(s, t);
    t = tcase_create("faults");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_link_silence_mid_step);
    tcase_add_test(t, test_controller_killed_mid_step);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(e2e_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
