/*
 * bench_controller.c — the controller's cost and the mission's yield.
 *
 *  1. CPU per cycle without I/O: ctl_step() on a fixed status (the robot
 *     standing, RUNNING, idle) in a tight loop; then ctl_step() + mis_step()
 *     through whole missions on the scripted robot of tests/fakeplant.h
 *     (only the two calls are timed, not the fake robot), mean and worst
 *     cycle (the worst is a planning decision at a half-step boundary), and
 *     the dry-run planning of mis_begin() apart; all beside the wire time of
 *     one 19200-baud RTU cycle (SPEC §11: a small fraction of it).
 *  2. The cleaning rate achieved against the gait-time floor: a mission on
 *     the simulated robot (`crossclimb sim --facade`, its own process, over
 *     Modbus TCP), area cleaned by the simulator's truth per hour of virtual
 *     time, against the fastest possible half-step sequence on a lane from
 *     the configured speeds and vacuum times (release, lift, stroke, lower,
 *     seal; with and without the controller's settle time).
 *  3. The whole demo (`crossclimb demo`, default facade) in simulated
 *     seconds per wall second.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../fakeplant.h"
#include "controller/ctl.h"
#include "controller/mission.h"
#include "controller/simproc.h"
#include "plc_bridge/link.h"
#include "plc_bridge/uri.h"
#include "robot/facade.h"
#include "robot/robotcfg.h"

#define STEADY_CYCLES 2000000u

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *src_dir(void)
{
    const char *s = getenv("CROSSCLIMB_SRC");
    return s && *s ? s : ".";
}

static const char *bin(void)
{
    const char *b = getenv("CROSSCLIMB_BIN");
    return b && *b ? b : "build/crossclimb";
}

/* The wire time of one control cycle at 19200 baud 8E1 (FC 0x17 request of
 * the command block + reply with the status block, as RTU frames). */
static double wire_ms(void)
{
    unsigned req = link_rtu_frame_bytes(1 + 2 + 2 + 2 + 2 + 1 + 2 * CC_CMD_COUNT);
    unsigned rsp = link_rtu_frame_bytes(1 + 1 + 2 * CC_STATUS_COUNT);
    return link_wire_floor_ms(19200, req, rsp);
}

static int bench_steady(void)
{
    static ctl c;
    params_robot p;
    char err[128];
    cc_status st;
    params_defaults(&p);
    if (ctl_init(&c, &p, err, sizeof err)) return 1;
    memset(&st, 0, sizeof st);
    st.x = CC_X_ESTOP_OK | CC_X_TETHER_OK | CC_X_SUPPLY_OK | CC_X_ENABLE_KEY | CC_X_A_DOWN | CC_X_B_DOWN |
           CC_X_A_VAC_OK | CC_X_B_VAC_OK | CC_X_XCYL_MINUS_END | CC_X_YCYL_MINUS_END;
    st.y = CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC;
    st.flags = CC_FLAG_RUN;
    for (unsigned i = 0; i < CC_CUPS_N; i++) st.cup_kpa[i] = 60.0f;
    ctl_start(&c, &st, -1);
    ctl_acknowledge(&c);
    /* echo every command at once: RESET, then AUTO: RUNNING */
    for (int i = 0; i < 10; i++) {
        st.tick++;
        st.heartbeat_echo = c.cmd.heartbeat;
        ctl_step(&c, &st, NULL);
        st.seq_echo = c.cmd.seq;
    }
    if (ctl_phase(&c) != SUP_RUNNING) {
        fprintf(stderr, "bench_controller: the fake status did not reach RUNNING\n");
        return 1;
    }
    double t0 = now_s();
    for (unsigned i = 0; i < STEADY_CYCLES; i++) {
        st.tick++;
        st.heartbeat_echo = c.cmd.heartbeat;
        st.seq_echo = c.cmd.seq;
        ctl_step(&c, &st, NULL);
    }
    double dt = now_s() - t0;
    double ns = dt / STEADY_CYCLES * 1e9;
    printf("ctl_step on a fixed status (RUNNING, idle):     %7.0f ns per cycle   %.5f %% of the %.1f ms 19200-baud wire cycle\n",
           ns, ns * 1e-6 / wire_ms() * 100.0, wire_ms());
    return 0;
}

/* A whole mission on the fake robot; only ctl_step + mis_step are timed. */
static int bench_fake_mission(const char *label, const double region[4], int pos_sensor)
{
    static ctl c;
    static mission m;
    static fp_world w;
    fp_run r;
    facade *f = NULL;
    params_robot p;
    mis_config mc;
    char err[256], path[4096];
    snprintf(path, sizeof path, "%s/sim/facades/default.txt", src_dir());
    if (facade_load_file(path, &f, err, sizeof err)) {
        fprintf(stderr, "bench_controller: %s\n", err);
        return 1;
    }
    params_defaults(&p);
    mis_config_defaults(&mc);
    memcpy(mc.region_mm, region, sizeof mc.region_mm);
    mc.start_mm[0] = f->start_x_mm;
    mc.start_mm[1] = f->start_y_mm;
    if (fp_init(&w, 150.0f, 150.0f, pos_sensor) || ctl_init(&c, &p, err, sizeof err) ||
        fp_run_start(&r, &c, &w) || mis_init(&m, &mc, &c.params, f, err, sizeof err)) {
        fprintf(stderr, "bench_controller: setup failed\n");
        return 1;
    }
    double t0 = now_s();
    mis_begin(&m, &r.st, c.now_ticks);
    double plan_ms = (now_s() - t0) * 1e3;
    ctl_acknowledge(&c);
    double sum = 0.0, worst = 0.0;
    unsigned long cycles = 0;
    mis_event ev;
    while (!mis_finished(&m) && cycles < 2000000ul) {
        cc_command cmd = c.cmd;
        fp_exchange(&w, &cmd, &r.st);
        double a = now_s();
        ctl_step(&c, &r.st, NULL);
        mis_step(&m, &c, &r.st);
        double b = now_s() - a;
        sum += b;
        if (b > worst) worst = b;
        cycles++;
        while (mis_next_event(&m, &ev)) {
        }
    }
    double mean_us = sum / (double)cycles * 1e6;
    printf("ctl_step + mis_step, %-28s %5.2f us mean, %7.1f us worst per cycle (%lu cycles, %u half-steps, %s); "
           "plan %.1f ms; mean %.4f %% of the wire cycle\n",
           label, mean_us, worst * 1e6, cycles, m.d.half_steps, mis_state_name((mis_state)m.d.state), plan_ms,
           mean_us * 1e-3 / wire_ms() * 100.0);
    int rc = mis_finished(&m) && w.refused == 0 ? 0 : 1;
    mis_free(&m);
    fp_free(&w);
    facade_free(f);
    return rc;
}

/* A mission on the simulated robot: truth area per virtual hour. */
static int bench_rate(const char *robot_text, const double region[4], const char *label, double *rate_out)
{
    static ctl c;
    static mission m;
    simproc sp;
    cc_link *l = NULL;
    link_uri uri;
    cc_status st;
    facade *f = NULL;
    robotcfg rc;
    params_robot p;
    mis_config mc;
    char err[256], fpath[4096], dir[] = "/tmp/crossclimb-bench.XXXXXX", truth[4096], robot[4096], uri_s[160];
    int ret = 1;
    if (!mkdtemp(dir)) return 1;
    snprintf(fpath, sizeof fpath, "%s/sim/facades/default.txt", src_dir());
    snprintf(truth, sizeof truth, "%s/truth.jsonl", dir);
    snprintf(robot, sizeof robot, "%s/robot.ini", dir);
    FILE *rf = fopen(robot, "w");
    if (!rf) return 1;
    fputs(robot_text, rf);
    fclose(rf);
    if (facade_load_file(fpath, &f, err, sizeof err) || robotcfg_load_file(robot, &rc, err, sizeof err) ||
        params_from_robotcfg(&p, &rc, err, sizeof err)) {
        fprintf(stderr, "bench_controller: %s\n", err);
        return 1;
    }
    const char *argv[] = {bin(), "sim", "--facade", fpath, "--robot", robot, "--truth", truth, "--truth-ms", "1000",
                          "--listen", "tcp://127.0.0.1:0", "--idle", "frozen", NULL};
    if (simproc_spawn(&sp, argv)) {
        fprintf(stderr, "bench_controller: the simulator did not start (no 'sim --facade'?)\n");
        facade_free(f);
        return 1;
    }
    snprintf(uri_s, sizeof uri_s, "%s?timeout_ms=1000", sp.tcp_uri);
    mis_config_from_robotcfg(&mc, &rc);
    memcpy(mc.region_mm, region, sizeof mc.region_mm);
    mc.start_mm[0] = f->start_x_mm;
    mc.start_mm[1] = f->start_y_mm;
    if (link_uri_parse(uri_s, 0, &uri, err, sizeof err) || link_open(&uri, &l) || link_connect(l) ||
        ctl_init(&c, &p, err, sizeof err) || ctl_open(&c, l, &st) ||
        mis_init(&m, &mc, &c.params, f, err, sizeof err) || mis_begin(&m, &st, c.now_ticks))
        goto out;
    double t0 = now_s();
    unsigned long cycles = 0;
    mis_event ev;
    while (!mis_finished(&m) && cycles < 3000000ul) {
        if (ctl_cycle(&c, l, &st) == 0) mis_step(&m, &c, &st);
        if (ctl_phase(&c) == SUP_HELD) {
            if (c.sup.reason != SUP_R_STARTUP) break;
            ctl_acknowledge(&c);
        }
        while (mis_next_event(&m, &ev)) {
        }
        cycles++;
    }
    double wall = now_s() - t0, sim_s = c.now_ticks / 100.0;
    simproc_stop(&sp);
    /* the truth: cells cleaned inside the region */
    FILE *tf = fopen(truth, "r");
    char *line = NULL;
    size_t cap = 0, cleaned = 0;
    uint8_t *map = calloc((size_t)f->cols * f->rows, 1);
    while (tf && map && getline(&line, &cap, tf) > 0) {
        json_object *o = json_tokener_parse(line), *v;
        if (o && json_object_object_get_ex(o, "cleaned_new", &v))
            for (size_t i = 0; i < json_object_array_length(v); i++) {
                json_object *cr = json_object_array_get_idx(v, i);
                int64_t col = json_object_get_int64(json_object_array_get_idx(cr, 0));
                int64_t row = json_object_get_int64(json_object_array_get_idx(cr, 1));
                double x = (col + 0.5) * f->cell_mm, y = (row + 0.5) * f->cell_mm;
                size_t idx = (size_t)row * f->cols + (size_t)col;
                if (x >= region[0] && x <= region[2] && y >= region[1] && y <= region[3] && !map[idx]) {
                    map[idx] = 1;
                    cleaned++;
                }
            }
        json_object_put(o);
    }
    free(line);
    free(map);
    if (tf) fclose(tf);
    double area = (double)cleaned * f->cell_mm * f->cell_mm * 1e-6;
    double rate = sim_s > 0 ? area / sim_s * 3600.0 : 0.0;
    /* the floor: on a lane each stroke of the X cylinder is one half-step of
     * A and one of B, and the brush sweeps brush_width x stroke per pair */
    double t_half = mis_half_step_floor_s(&mc, &c.params, 0, 0, c.params.stroke_x_mm, 0);
    double t_half_settle = mis_half_step_floor_s(&mc, &c.params, 0, 0, c.params.stroke_x_mm, 1);
    double per_pair_m2 = mc.brush_width_mm * 1e-3 * c.params.stroke_x_mm * 1e-3;
    double floor_rate = per_pair_m2 / (2.0 * t_half) * 3600.0;
    double floor_rate_s = per_pair_m2 / (2.0 * t_half_settle) * 3600.0;
    printf("cleaning rate, %-34s %6.1f m2/h (%.2f m2 in %.0f s of virtual time, %u half-steps, %s); floor %.1f m2/h "
           "(half-step %.2f s), %.1f m2/h with the settle (%.2f s): %.0f %% / %.0f %% of the floor; %.0fx real time\n",
           label, rate, area, sim_s, m.d.half_steps, mis_state_name((mis_state)m.d.state), floor_rate, t_half,
           floor_rate_s, t_half_settle, 100.0 * rate / floor_rate, 100.0 * rate / floor_rate_s, sim_s / wall);
    if (rate_out) *rate_out = rate;
    ret = mis_finished(&m) ? 0 : 1;
out:
    if (ret) fprintf(stderr, "bench_controller: %s: %s\n", label, err);
    link_close(l);
    mis_free(&m);
    facade_free(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench_controller: could not remove %s\n", dir);
    return ret;
}

/* The whole `crossclimb demo`: simulated seconds per wall second. */
static int bench_demo(void)
{
    char cmd[4200], line[1024];
    snprintf(cmd, sizeof cmd, "'%s' demo 2>/dev/null", bin());
    double t0 = now_s();
    FILE *p = popen(cmd, "r");
    double sim_s = -1.0;
    if (!p) return 1;
    while (fgets(line, sizeof line, p)) {
        const char *q = strstr(line, "sim_time_s=");
        if (!strncmp(line, "result: ", 8) && q) sim_s = atof(q + 11);
    }
    int st = pclose(p);
    double wall = now_s() - t0;
    printf("crossclimb demo (default facade, default robot):   %.1f s simulated in %.2f s wall: %.0f simulated s per wall s (exit %d)\n",
           sim_s, wall, sim_s / wall, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return sim_s > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

int main(void)
{
    int rc = 0;
    const double small[4] = {3600, 2800, 4200, 4000};  /* the start panel's reach, whole strokes */
    const double wide[4] = {3000, 2800, 5300, 4000};   /* across a mullion, position sensors */
    printf("wire time of one control cycle, RTU 19200 8E1: %.2f ms\n", wire_ms());
    rc |= bench_steady();
    rc |= bench_fake_mission("default robot, 1.2 x 1.2 m:", small, 0);
    rc |= bench_fake_mission("position sensors, 2.3 x 1.2 m:", wide, 1);
    rc |= bench_rate("[robot]\nmass_dry_kg = 21\n", small, "default robot, start panel:", NULL);
    rc |= bench_rate("[sensors]\nposition_sensors = yes\n", wide, "position sensors, 2.3 x 1.2 m:", NULL);
    rc |= bench_demo();
    return rc;
}
