/*
 * cmd_run.c — `crossclimb run`: the cleaning mission against any PLC link,
 * and the mission loop it shares with `crossclimb demo` (cli_run_mission).
 *
 * The loop, one exchange per cycle (SPEC §6): ctl_cycle() (status in,
 * command out, every check of the supervisor), mis_step() (the mission asks
 * for the next half-step when the gait is idle), then the operator's
 * commands, the run log (docs/log-format.md), the checkpoint file and the
 * progress lines.  All time is the PLC's (ctl.now_ticks).
 *
 * The operator: a controller starts HELD.  `run` asks the operator to
 * acknowledge it (type `ack`), and every later HOLD too; `demo`
 * acknowledges the start-up HOLD by itself and nothing else (a HOLD in a
 * demo ends it as outcome=held).  Commands are lines on stdin: ack, pause,
 * resume, stop, hold, jog, status, quit (docs/operator.md).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli/console.h"
#include "controller/camclient.h"
#include "controller/ctl.h"
#include "controller/mission.h"
#include "controller/runlog.h"
#include "plc_bridge/link.h"
#include "plc_bridge/uri.h"
#include "robot/facade.h"
#include "robot/robotcfg.h"

#ifndef CROSSCLIMB_VERSION
#define CROSSCLIMB_VERSION "0.1.0"
#endif

#define TICKS_PER_S 100.0
#define INPUT_EVERY_CYCLES 8u        /* stdin is polled this often */
#define FINISH_CYCLES 30u            /* cycles after the mission ends: the last command echoed */
#define HOLD_EXIT_CYCLES 200u        /* cycles to get a HOLD echoed before leaving */
#define FALL_SUSPECT_CYCLES 100u     /* every cup near 0 this long after the start: a fall */

static volatile sig_atomic_t run_signal;

static void on_signal(int sig)
{
    run_signal = sig;
}

/* ------------------------------------------------------------ arguments */

int cli_parse_pair(const char *s, double out[2])
{
    char *end;
    errno = 0;
    out[0] = strtod(s, &end);
    if (errno || end == s || *end != ',') return -1;
    const char *q = end + 1;
    out[1] = strtod(q, &end);
    if (errno || end == q || *end) return -1;
    return isfinite(out[0]) && isfinite(out[1]) ? 0 : -1;
}

int cli_parse_region(const char *s, double out[4])
{
    const char *q = s;
    for (int i = 0; i < 4; i++) {
        char *end;
        errno = 0;
        out[i] = strtod(q, &end);
        if (errno || end == q || !isfinite(out[i])) return -1;
        if (i < 3 && *end != ',') return -1;
        if (i == 3 && *end) return -1;
        q = end + 1;
    }
    return out[0] < out[2] && out[1] < out[3] ? 0 : -1;
}

/* ------------------------------------------------------------- the loop */

typedef struct {
    const cli_run_opts *o;
    FILE *out;
    runlog *rl;
    ctl *c;
    mission *m;
    cc_link *link;
    char inbuf[512];
    size_t inlen;
    int stdin_open;
    int quit;
    int held_prompted;
    int step_once;           /* single step: pause at the next half-step's begin */
    const cc_status *st;     /* the status of this cycle, NULL when the exchange failed */
    char errbuf[256];
    camc *cam;               /* --camera: the gate's frames, or NULL */
    uint64_t cam_frames, cam_failures;
    int cam_down;            /* the last fetch failed (said once, and in the log) */
    uint64_t park_holds;     /* HOLDs the run itself set to leave the robot safe at its end */
} run_ctx;

static void say(run_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(run_ctx *x, const char *fmt, ...)
{
    va_list ap;
    if (x->o->ui) { /* the console shows it */
        char line[512];
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        x->o->ui->message(x->o->ui_user, line);
        return;
    }
    fprintf(x->out, "%s: ", x->o->prog);
    va_start(ap, fmt);
    vfprintf(x->out, fmt, ap);
    va_end(ap);
    fputc('\n', x->out);
}

/* The mission's frame source (mission.h camera_fn): camc_frame, bounded by
 * its timeout; a failure (the gate then sees the camera offline) is said
 * and logged once, and so is the camera's return. */
static int run_camera(void *user, double heading_deg, feat_camera *out)
{
    run_ctx *x = user;
    int rc = camc_frame(x->cam, heading_deg, out);
    if (rc) {
        x->cam_failures++;
        if (!x->cam_down) {
            x->cam_down = 1;
            say(x, "%s (the gate sees the camera offline until it answers)", camc_last_error(x->cam));
            runlog_fault(x->rl, x->c->now_ticks, "camera", camc_last_error(x->cam));
        }
    } else {
        x->cam_frames++;
        if (x->cam_down) {
            x->cam_down = 0;
            say(x, "camera %s answers again (%ux%u%s)", camc_uri(x->cam), out->width, out->height,
                out->online ? "" : ", offline");
            runlog_fault(x->rl, x->c->now_ticks, "camera-back", camc_uri(x->cam));
        }
    }
    return rc;
}

static double now_s(const run_ctx *x)
{
    return (double)x->c->now_ticks / TICKS_PER_S;
}

static void progress_line(run_ctx *x)
{
    mis_progress pr;
    mis_get_progress(x->m, &pr);
    say(x, "t=%.1f s %s lane %u/%u half-step %u/%u done %.1f %% area %.2f m2 left ~%.0f s carriage (%.0f, %.0f) mm",
        now_s(x), mis_state_name(pr.state), pr.lane, pr.lanes, pr.half_steps, pr.half_steps_planned,
        100.0 * pr.fraction, pr.area_m2, pr.time_left_s, pr.c_mm[0], pr.c_mm[1]);
    runlog_progress(x->rl, x->c->now_ticks, &pr);
}

static void checkpoint(run_ctx *x)
{
    if (!x->o->state_path) return;
    char err[256];
    if (runlog_checkpoint_write(x->o->state_path, mis_checkpoint(x->m), err, sizeof err)) {
        runlog_fault(x->rl, x->c->now_ticks, "checkpoint", err);
        say(x, "warning: %s", err);
    }
}

static void do_ack(run_ctx *x, const char *by)
{
    int rc = ctl_acknowledge(x->c);
    runlog_ack(x->rl, x->c->now_ticks, by, rc, x->c);
    if (rc)
        say(x, "acknowledge refused: %s (reason %s)", ctl_strerror(rc), sup_reason_name(x->c->sup.reason));
    else
        say(x, "acknowledged (%s): RESET, then AUTO once the robot's state is re-derived", by);
    x->held_prompted = 0;
}

/* The operator's jog (mis_jog): one checked half-step while paused. */
static int do_jog(run_ctx *x, unsigned axis, int dir)
{
    const char sg = dir > 0 ? '+' : '-', an = axis ? 'Y' : 'X';
    int rc = mis_jog(x->m, x->c, x->st, axis, dir);
    if (rc == 0) {
        const mis_move *mv = &x->m->d.move;
        say(x, "jog %c%c: group %s lifted, %.0f mm along %c (the mission stays paused)", sg, an,
            hold_group_name(mv->group), mv->chosen_mm, an);
    } else {
        say(x, "jog refused: %s", rc == MIS_EJOG ? mis_jog_reason(x->m) : mis_strerror(rc));
    }
    char what[16];
    snprintf(what, sizeof what, "jog %c%c", sg, an == 'X' ? 'x' : 'y');
    runlog_operator(x->rl, x->c->now_ticks, what, rc);
    return rc;
}

/* "jog +x" ... "jog -y": 0 with axis and dir, -1 when it is not one. */
static int parse_jog(const char *s, unsigned *axis, int *dir)
{
    if (strncmp(s, "jog", 3) != 0) return -1;
    s += 3;
    while (*s == ' ' || *s == '\t') s++;
    if ((s[0] != '+' && s[0] != '-') || (s[1] != 'x' && s[1] != 'X' && s[1] != 'y' && s[1] != 'Y') || s[2])
        return -1;
    *dir = s[0] == '+' ? 1 : -1;
    *axis = s[1] == 'y' || s[1] == 'Y';
    return 0;
}

static void operator_command(run_ctx *x, char *line)
{
    char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = '\0';
    if (!n) return;
    int rc = 0;
    if (!strcmp(s, "ack") || !strcmp(s, "a")) {
        do_ack(x, "operator");
        return;
    } else if (!strcmp(s, "pause") || !strcmp(s, "p")) {
        rc = mis_pause(x->m, "operator");
        say(x, rc ? "pause: not possible now (%s)" : "pause: the half-step under way completes, then the robot waits (%s)",
            mis_state_name((mis_state)x->m->d.state));
    } else if (!strcmp(s, "resume") || !strcmp(s, "r")) {
        rc = mis_resume(x->m);
        say(x, rc ? "resume: nothing paused" : "resume: going on from where it stopped");
    } else if (!strcmp(s, "stop") || !strcmp(s, "s")) {
        rc = mis_stop(x->m);
        say(x, rc ? "stop: the mission has ended already" : "stop: the half-step under way completes, then the mission ends");
    } else if (!strcmp(s, "hold") || !strcmp(s, "h")) {
        rc = ctl_operator_hold(x->c);
        say(x, "hold: the PLC holds now (acknowledge with 'ack')");
    } else if (!strcmp(s, "status") || !strcmp(s, "?")) {
        char d[160];
        say(x, "%s", ctl_describe(x->c, d, sizeof d));
        progress_line(x);
    } else if (!strcmp(s, "quit") || !strcmp(s, "q")) {
        x->quit = 1;
    } else if (!strncmp(s, "jog", 3)) {
        unsigned axis;
        int dir;
        if (parse_jog(s, &axis, &dir) == 0) {
            do_jog(x, axis, dir); /* logs its own operator record */
            return;
        }
        say(x, "jog: expected 'jog +x', 'jog -x', 'jog +y' or 'jog -y'");
        rc = -1;
    } else {
        say(x, "unknown command '%s' (ack, pause, resume, stop, hold, jog +x|-x|+y|-y, status, quit)", s);
        rc = -1;
    }
    runlog_operator(x->rl, x->c->now_ticks, s, rc);
}

int cli_run_safe(const ctl *c, const mission *m)
{
    if (ctl_phase(c) == SUP_HELD) return 1;
    return c->gait.state == GAIT_IDLE && !c->pending && !m->d.inflight;
}

/* A command from the console (cli_ui.poll_key). */
static void ui_command(run_ctx *x, cli_key k)
{
    char line[16] = "";
    switch (k) {
    case CLI_KEY_ACK: snprintf(line, sizeof line, "ack"); break;
    case CLI_KEY_PAUSE: snprintf(line, sizeof line, "pause"); break;
    case CLI_KEY_RESUME: snprintf(line, sizeof line, "resume"); break;
    case CLI_KEY_STOP: snprintf(line, sizeof line, "stop"); break;
    case CLI_KEY_HOLD: snprintf(line, sizeof line, "hold"); break;
    case CLI_KEY_QUIT:
        if (!cli_run_safe(x->c, x->m)) {
            say(x, "quit refused: the robot is not in a safe state (HOLD first with the E-stop key, or wait "
                   "until both groups grip between half-steps)");
            runlog_operator(x->rl, x->c->now_ticks, "quit", -1);
            return;
        }
        snprintf(line, sizeof line, "quit");
        break;
    case CLI_KEY_STEP: {
        int rc = -1;
        if (x->m->d.state == MIS_PAUSED) {
            rc = mis_resume(x->m);
            if (!rc) x->step_once = 1;
        } else if (x->m->d.state != MIS_PAUSING) {
            rc = mis_pause(x->m, "single step");
        }
        say(x, rc ? "step: not possible now (%s)" : "step: one half-step, then paused (%s)",
            mis_state_name((mis_state)x->m->d.state));
        runlog_operator(x->rl, x->c->now_ticks, "step", rc);
        return;
    }
    case CLI_KEY_JOG_XP: do_jog(x, 0, 1); return;
    case CLI_KEY_JOG_XM: do_jog(x, 0, -1); return;
    case CLI_KEY_JOG_YP: do_jog(x, 1, 1); return;
    case CLI_KEY_JOG_YM: do_jog(x, 1, -1); return;
    default: return;
    }
    operator_command(x, line);
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Lines waiting on stdin, without blocking. */
static void poll_input(run_ctx *x)
{
    if (!x->stdin_open) return;
    struct pollfd pf = {.fd = STDIN_FILENO, .events = POLLIN};
    if (poll(&pf, 1, 0) <= 0) return;
    ssize_t r = read(STDIN_FILENO, x->inbuf + x->inlen, sizeof x->inbuf - 1 - x->inlen);
    if (r <= 0) {
        if (r == 0 || (errno != EINTR && errno != EAGAIN)) x->stdin_open = 0; /* EOF: no operator */
        return;
    }
    x->inlen += (size_t)r;
    x->inbuf[x->inlen] = '\0';
    char *nl;
    while ((nl = strchr(x->inbuf, '\n')) != NULL) {
        *nl = '\0';
        operator_command(x, x->inbuf);
        size_t rest = x->inlen - (size_t)(nl + 1 - x->inbuf);
        memmove(x->inbuf, nl + 1, rest + 1);
        x->inlen = rest;
    }
    if (x->inlen == sizeof x->inbuf - 1) x->inlen = 0; /* an absurd line: dropped */
}

static void event_line(run_ctx *x, const mis_event *ev)
{
    switch (ev->type) {
    case MIS_EV_PLAN: break;
    case MIS_EV_LANE_BEGIN: say(x, "t=%.1f s lane %u begins at y = %.0f mm", (double)ev->ticks / TICKS_PER_S, ev->a + 1, ev->y); break;
    case MIS_EV_LANE_END:
        say(x, "t=%.1f s lane %u %s: carriage x %.0f..%.0f mm at y = %.0f mm", (double)ev->ticks / TICKS_PER_S,
            ev->a + 1, mis_lane_end_name((mis_lane_end)ev->b), ev->x0, ev->x1, ev->y);
        break;
    case MIS_EV_SIDESTEP:
        say(x, "t=%.1f s sidestep (%s): %+.0f mm off the lane line", (double)ev->ticks / TICKS_PER_S,
            mis_block_name((mis_block)ev->b), ev->y);
        break;
    case MIS_EV_BLOCKED:
        say(x, "t=%.1f s blocked (%s, %s) at (%.0f, %.0f) mm", (double)ev->ticks / TICKS_PER_S,
            mis_block_name((mis_block)ev->b), ev->reason, ev->x0, ev->y);
        break;
    case MIS_EV_PAUSED: say(x, "t=%.1f s paused (%s)", (double)ev->ticks / TICKS_PER_S, ev->reason); break;
    case MIS_EV_RESUMED: say(x, "t=%.1f s resumed", (double)ev->ticks / TICKS_PER_S); break;
    case MIS_EV_STOPPED: say(x, "t=%.1f s mission stopped", (double)ev->ticks / TICKS_PER_S); break;
    case MIS_EV_DONE: say(x, "t=%.1f s mission done: %u lanes, %u skipped", (double)ev->ticks / TICKS_PER_S, ev->a, ev->b); break;
    case MIS_EV_STEP_END:
        say(x, "t=%.1f s half-step %s %s along %c: carriage (%.0f, %.0f) -> (%.0f, %.0f) mm in %.1f s%s",
            (double)ev->ticks / TICKS_PER_S, mis_move_kind_name(ev->move.kind), hold_group_name(ev->move.group),
            ev->move.axis ? 'Y' : 'X', ev->move.before.c_mm[0], ev->move.before.c_mm[1], ev->move.after.c_mm[0],
            ev->move.after.c_mm[1], (double)ev->b / TICKS_PER_S, ev->a ? " (foothold shifted to recover)" : "");
        break;
    default: break;
    }
}

/* Cycle until the PLC shows the HOLD echoed (leaving with the robot held). */
static void hold_and_settle(run_ctx *x)
{
    cc_status st;
    const uint64_t before = x->c->sup.holds;
    ctl_operator_hold(x->c);
    x->park_holds += x->c->sup.holds - before;
    for (unsigned i = 0; i < HOLD_EXIT_CYCLES; i++) {
        if (ctl_cycle(x->c, x->link, &st) == 0 && !x->c->pending && (st.flags & CC_FLAG_HOLD)) break;
    }
}

static int all_cups_near_zero(const cc_status *st)
{
    for (unsigned i = 0; i < CC_CUPS_N; i++)
        if (st->cup_kpa[i] > 1.0f) return 0;
    return 1;
}

int cli_default_weights(char *out, size_t len)
{
    static const char *const rel[2] = {"/../perception/weights/fusion-default.safetensors",
                                        "/../share/crossclimb/fusion-default.safetensors"};
    char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n > 0) {
        dir[n] = '\0';
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        for (int i = 0; i < 2; i++) {
            snprintf(out, len, "%s%s", dir, rel[i]);
            if (access(out, R_OK) == 0) return 0;
        }
    }
    const char *src = getenv("CROSSCLIMB_SRC");
    if (src && *src) {
        snprintf(out, len, "%s/perception/weights/fusion-default.safetensors", src);
        if (access(out, R_OK) == 0) return 0;
    }
    return -1;
}

void cli_fusion_option(cli_run_opts *o, const char *v)
{
    o->fusion_off = !strcmp(v, "off");
    o->fusion_path = o->fusion_off ? NULL : v;
}

int cli_run_mission(const cli_run_opts *o, cli_run_out *res)
{
    static ctl c;
    static mission m;
    static fusion_gate gate;
    run_ctx x;
    facade *fac = NULL;
    robotcfg rcfg;
    params_robot p;
    mis_config mc;
    link_uri uri;
    cc_status st;
    char err[512];
    int rc = CLI_EXIT_FAIL, have_mission = 0;
    const char *outcome = "error";

    memset(&x, 0, sizeof x);
    memset(res, 0, sizeof *res);
    x.o = o;
    x.out = o->out ? o->out : stdout;
    x.c = &c;
    x.m = &m;
    x.stdin_open = o->operator_input && !o->ui; /* the console reads keys itself */
    run_signal = 0;

    if (facade_load_file(o->facade_path, &fac, err, sizeof err)) {
        fprintf(stderr, "crossclimb %s: --facade: %s\n", o->prog, err);
        goto out;
    }
    if (o->robot_path) {
        if (robotcfg_load_file(o->robot_path, &rcfg, err, sizeof err)) {
            fprintf(stderr, "crossclimb %s: --robot: %s\n", o->prog, err);
            goto out;
        }
    } else {
        robotcfg_defaults(&rcfg);
    }
    if (params_from_robotcfg(&p, &rcfg, err, sizeof err)) {
        fprintf(stderr, "crossclimb %s: robot configuration: %s\n", o->prog, err);
        goto out;
    }
    mis_config_from_robotcfg(&mc, &rcfg);
    if (o->have_region) {
        memcpy(mc.region_mm, o->region_mm, sizeof mc.region_mm);
    } else { /* the whole facade: what can be reached of it */
        mc.region_mm[0] = mc.region_mm[1] = 0.0;
        mc.region_mm[2] = facade_width_mm(fac);
        mc.region_mm[3] = facade_height_mm(fac);
    }
    if (o->have_start) {
        mc.start_mm[0] = o->start_mm[0];
        mc.start_mm[1] = o->start_mm[1];
    } else if (fac->has_start) {
        mc.start_mm[0] = fac->start_x_mm;
        mc.start_mm[1] = fac->start_y_mm;
    } else {
        mc.start_mm[0] = 0.5 * facade_width_mm(fac);
        mc.start_mm[1] = 0.5 * facade_height_mm(fac);
    }
    if (ctl_init(&c, &p, err, sizeof err)) {
        fprintf(stderr, "crossclimb %s: controller: %s\n", o->prog, err);
        goto out;
    }
    if (mis_init(&m, &mc, &c.params, fac, err, sizeof err)) {
        fprintf(stderr, "crossclimb %s: %s\n", o->prog, err);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    have_mission = 1;
    if (!o->fusion_off) {
        char wbuf[PATH_MAX];
        const char *wpath = o->fusion_path;
        if (!wpath && cli_default_weights(wbuf, sizeof wbuf) == 0) wpath = wbuf;
        if (!wpath) {
            fprintf(x.out, "fusion: off (no shipped weights found; --fusion FILE)\n");
        } else if (fg_open(&gate, wpath, err, sizeof err)) {
            fprintf(stderr, "crossclimb %s: --fusion: %s\n", o->prog, err);
            rc = CLI_EXIT_USAGE;
            goto out;
        } else {
            m.gate = &gate;
            fprintf(x.out, "fusion: %s asked before each half-step\n", wpath);
        }
    } else {
        fprintf(x.out, "fusion: off\n");
    }
    if (o->camera_uri && camc_open(&x.cam, o->camera_uri, CAMC_TIMEOUT_MS_DEFAULT, err, sizeof err)) {
        fprintf(stderr, "crossclimb %s: --camera: %s\n", o->prog, err);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (x.cam && !m.gate) {
        fprintf(x.out, "camera: %s not used (no fusion model to give the frames to)\n", o->camera_uri);
        camc_close(x.cam);
        x.cam = NULL;
    } else if (x.cam) {
        feat_camera f;
        m.camera_fn = run_camera;
        m.camera_user = &x;
        if (camc_frame(x.cam, 90.0, &f) == 0)
            fprintf(x.out, "camera: %s, %ux%u frames along each half-step's travel%s\n", o->camera_uri, f.width,
                    f.height, f.online ? "" : " (offline now)");
        else
            fprintf(x.out, "camera: %s: %s (the gate sees the camera offline until it answers)\n",
                    o->camera_uri, camc_last_error(x.cam));
    } else if (m.gate) {
        fprintf(x.out, "camera: none (the gate sees the camera offline; --camera tcp://HOST:PORT)\n");
    }
    mis_dyn cp;
    int resume = 0;
    if (o->state_path && !o->fresh_state && access(o->state_path, F_OK) == 0) {
        if (runlog_checkpoint_read(o->state_path, &cp, err, sizeof err)) {
            fprintf(stderr, "crossclimb %s: --state: %s\n", o->prog, err);
            rc = CLI_EXIT_USAGE;
            goto out;
        }
        resume = 1;
    }
    if (link_uri_parse(o->plc_uri, 0, &uri, err, sizeof err)) {
        fprintf(stderr, "crossclimb %s: --plc '%s': %s\n", o->prog, o->plc_uri, err);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (link_open(&uri, &x.link) || link_connect(x.link)) {
        fprintf(stderr, "crossclimb %s: %s: %s\n", o->prog, o->plc_uri,
                x.link ? link_last_error(x.link) : "no memory");
        goto out;
    }
    if (ctl_open(&c, x.link, &st)) {
        fprintf(stderr, "crossclimb %s: reading the status block: %s\n", o->prog, link_last_error(x.link));
        goto out;
    }
    if (resume) {
        int mr = mis_restore(&m, &cp, &st, c.now_ticks);
        if (mr) {
            fprintf(stderr, "crossclimb %s: --state %s: %s (start afresh with --fresh)\n", o->prog,
                    o->state_path, mis_strerror(mr));
            rc = CLI_EXIT_USAGE;
            goto out;
        }
    } else {
        mis_begin(&m, &st, c.now_ticks);
    }
    if (o->log_path && runlog_open(&x.rl, o->log_path, err, sizeof err)) {
        fprintf(stderr, "crossclimb %s: --log: %s\n", o->prog, err);
        goto out;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    runlog_start_info si = {o->prog, CROSSCLIMB_VERSION, o->plc_uri, o->facade_path, fac->name,
                            o->robot_path, &c.params, &mc, resume, o->state_path, o->status_every,
                            x.cam ? camc_uri(x.cam) : NULL};
    runlog_start(x.rl, c.now_ticks, &si);
    runlog_plan(x.rl, c.now_ticks, &m.plan, &m.d);
    const mis_plan *pl = &m.plan;
    say(&x, "facade %s (%s), robot %s, PLC %s", fac->name, o->facade_path,
        o->robot_path ? o->robot_path : "built-in default", o->plc_uri);
    say(&x, "plan: %u lanes (%u cannot be reached), %u half-steps, brush over %.2f m2 of the region's "
            "%.2f m2 (%.0f %%), about %.0f s; cylinders %s",
        pl->lanes, pl->lanes_skipped, pl->half_steps, (double)pl->planned_cells * pl->cell_m2,
        (double)pl->region_cells * pl->cell_m2,
        pl->region_cells ? 100.0 * (double)pl->planned_cells / (double)pl->region_cells : 0.0, pl->est_s,
        m.d.lattice ? "without position sensors: whole strokes" : "with position sensors");
    if (resume)
        say(&x, "resuming from %s: lane %u, %u half-steps done%s", o->state_path, m.d.lane_i + 1,
            m.d.half_steps, m.d.inflight ? ", finishing the half-step in flight" : "");
    checkpoint(&x);

    uint16_t last_seq = c.cmd.seq;
    runlog_command(x.rl, c.now_ticks, &c.cmd, &c);
    uint64_t seen_holds = c.sup.holds;
    if (ctl_phase(&c) == SUP_HELD) runlog_hold(x.rl, c.now_ticks, &c, &st); /* the start-up HOLD */
    unsigned fail_run = 0, finish = 0, zero_run = 0, falls = 0, auto_acked = 0;
    uint64_t cycles = 0;
    uint32_t last_progress = c.now_ticks;
    const uint32_t progress_ticks = (uint32_t)(o->progress_s * TICKS_PER_S);
    int was_running = 0;
    double wall_due = wall_s();
    uint32_t paced_ticks = c.now_ticks;
    outcome = "completed";
    for (;;) {
        if (run_signal || x.quit) {
            say(&x, "%s: holding the robot and leaving", run_signal ? "signal" : "quit");
            hold_and_settle(&x);
            outcome = "interrupted";
            break;
        }
        int cr = ctl_cycle(&c, x.link, &st);
        cycles++;
        x.st = NULL; /* until this cycle's status is good */
        if (cr == CTL_ELINK) {
            if (fail_run++ == 0) {
                runlog_fault(x.rl, c.now_ticks, "link", link_last_error(x.link));
                say(&x, "t=%.1f s link: %s", now_s(&x), link_last_error(x.link));
            }
            if (o->link_lost_cycles && fail_run >= o->link_lost_cycles) {
                say(&x, "link lost for %u cycles: giving up", fail_run);
                outcome = "link-lost";
                break;
            }
        } else {
            if (fail_run) {
                char d[96];
                snprintf(d, sizeof d, "back after %u failed cycles", fail_run);
                runlog_fault(x.rl, c.now_ticks, "link-back", d);
                say(&x, "t=%.1f s link %s", now_s(&x), d);
            }
            fail_run = 0;
            mis_step(&m, &c, &st);
            x.st = &st;
            /* the controller's own word on a fall: every cup at nothing */
            if (was_running && all_cups_near_zero(&st)) {
                if (++zero_run == FALL_SUSPECT_CYCLES) {
                    falls++;
                    runlog_fault(x.rl, c.now_ticks, "fall-suspected", "every cup reads 0 kPa");
                    say(&x, "t=%.1f s every cup reads 0 kPa: the robot may have fallen", now_s(&x));
                }
            } else {
                zero_run = 0;
            }
        }
        if (c.cmd.seq != last_seq) {
            last_seq = c.cmd.seq;
            runlog_command(x.rl, c.now_ticks, &c.cmd, &c);
        }
        if (c.sup.holds != seen_holds) {
            seen_holds = c.sup.holds;
            runlog_hold(x.rl, c.now_ticks, &c, cr ? NULL : &st);
            char d[160];
            say(&x, "t=%.1f s HOLD: %s", now_s(&x), ctl_describe(&c, d, sizeof d));
            x.held_prompted = 0;
        }
        const sup_phase ph = ctl_phase(&c);
        if (ph == SUP_RUNNING) was_running = 1;
        if (ph == SUP_HELD && !c.link_fail_run) {
            if (o->auto_ack_startup && c.sup.reason == SUP_R_STARTUP && !auto_acked) {
                auto_acked = 1;
                do_ack(&x, "auto-startup");
            } else if (o->auto_ack_startup && c.sup.reason != SUP_R_STARTUP) {
                say(&x, "t=%.1f s held (%s): a demo acknowledges only the start-up HOLD", now_s(&x),
                    sup_reason_name(c.sup.reason));
                outcome = "held";
                break;
            } else if (!x.held_prompted && !o->auto_ack_startup && !o->headless) {
                say(&x, o->ui ? "held (%s): check the robot, then press 'a' to acknowledge"
                              : "held (%s): check the robot, then type 'ack' to acknowledge",
                    sup_reason_name(c.sup.reason));
                x.held_prompted = 1;
            }
        }
        if (cycles % INPUT_EVERY_CYCLES == 0) poll_input(&x);
        if (o->ui) {
            cli_key k;
            while ((k = o->ui->poll_key(o->ui_user)) != CLI_KEY_NONE) ui_command(&x, k);
        }

        mis_event ev;
        int save = 0;
        while (mis_next_event(&m, &ev)) {
            runlog_mission(x.rl, &ev);
            if (!o->quiet_steps || (ev.type != MIS_EV_STEP_BEGIN && ev.type != MIS_EV_STEP_END) ||
                (ev.type == MIS_EV_STEP_END && ev.move.kind == MIS_MV_JOG)) /* a jog's end: always */
                event_line(&x, &ev);
            if (ev.type == MIS_EV_STEP_BEGIN && x.step_once) { /* single step: this one, then wait */
                x.step_once = 0;
                mis_pause(&m, "single step");
            }
            if (ev.type != MIS_EV_PLAN) save = 1;
        }
        if (save) checkpoint(&x);
        if (o->status_every && cycles % o->status_every == 0 && cr == 0) runlog_status(x.rl, c.now_ticks, &st, &c);
        if (progress_ticks && c.now_ticks - last_progress >= progress_ticks) {
            last_progress = c.now_ticks;
            progress_line(&x);
        }
        if (o->auto_ack_startup && !o->ui && m.d.state == MIS_PAUSED) {
            /* water low, a fusion STOP, a refused request: the mission asks
             * the operator, and a headless demo has none */
            say(&x, "t=%.1f s the mission paused (%s): a headless demo has no operator to answer it",
                now_s(&x), m.d.pause_reason);
            hold_and_settle(&x);
            outcome = "paused";
            break;
        }
        if (mis_finished(&m)) {
            if (finish++ >= FINISH_CYCLES && !c.pending) {
                outcome = m.d.state == MIS_STOPPED ? "stopped" : "completed";
                break;
            }
        }
        if (o->max_sim_s > 0.0 && now_s(&x) > o->max_sim_s) {
            say(&x, "t=%.1f s the time limit of %.0f s is over", now_s(&x), o->max_sim_s);
            hold_and_settle(&x);
            outcome = "timeout";
            break;
        }
        if (o->ui) o->ui->draw(o->ui_user, cr ? NULL : &st, &c, &m, link_get_stats(x.link));
        /* pacing: PLC time at most `speed` x wall time; a HELD console waits at 1x (the operator's time is real) */
        double speed = o->speed;
        if (o->ui && ph == SUP_HELD && (speed <= 0.0 || speed > 1.0)) speed = 1.0;
        double now_w = wall_s();
        if (speed > 0.0) {
            wall_due += (double)(uint32_t)(c.now_ticks - paced_ticks) / TICKS_PER_S / speed;
            if (wall_due > now_w) {
                double d = wall_due - now_w;
                struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
                nanosleep(&ts, NULL);
            } else if (now_w - wall_due > 0.25) {
                wall_due = now_w; /* behind: no burst to catch up */
            }
        } else {
            wall_due = now_w;
        }
        paced_ticks = c.now_ticks;
    }
    if (o->ui) o->ui->end(o->ui_user); /* back to lines: the summary and the result line */
    checkpoint(&x);
    progress_line(&x);

    mis_progress pr;
    mis_get_progress(&m, &pr);
    runlog_summary *s = &res->summary;
    snprintf(res->outcome, sizeof res->outcome, "%s", outcome);
    s->outcome = res->outcome;
    s->falls = falls;
    s->coverage = pr.fraction;
    s->area_m2 = pr.area_m2;
    s->sim_time_s = now_s(&x);
    s->rate_m2_per_h = s->sim_time_s > 0.0 ? s->area_m2 / s->sim_time_s * 3600.0 : 0.0;
    s->min_safety_factor = c.gait.sf_at_release_min;
    /* latched HOLDs during the run: not the start-up HOLD, not the one that
     * parks the robot when the run ends paused, interrupted or timed out */
    s->holds = (unsigned)(c.sup.holds - x.park_holds);
    s->refused_commands = (unsigned)(c.stats.refused_by_plc + c.stats.refused_explained);
    s->source = "controller";
    s->cycles = cycles;
    s->link_failures = c.stats.link_failures;
    s->half_steps = m.d.half_steps;
    s->reseats = c.gait.reseats_total;
    s->shifts = c.gait.shifts_total;
    s->fusion_on = m.gate != NULL;
    if (m.gate) {
        s->fusion_asked = m.gate->asked;
        s->fusion_careful = m.gate->asked - m.gate->acted[FG_PROCEED];
    }
    /* what the demo needs to judge the run by the simulator's truth */
    res->plan_map = malloc(m.ncells ? m.ncells : 1);
    if (res->plan_map) memcpy(res->plan_map, m.plan_map, m.ncells);
    res->cols = fac->cols;
    res->rows = fac->rows;
    res->cell_mm = fac->cell_mm;
    memcpy(res->region_mm, m.d.region_mm, sizeof res->region_mm);
    res->planned_cells = m.plan.planned_cells;
    res->region_cells = m.plan.region_cells;
    if (o->finish && o->finish(o->finish_user, res)) fprintf(stderr, "crossclimb %s: judging the run failed\n", o->prog);
    runlog_end(x.rl, c.now_ticks, s);
    if (x.rl && runlog_close(x.rl)) fprintf(stderr, "crossclimb %s: --log %s: write failed\n", o->prog, o->log_path);
    x.rl = NULL;
    rc = strcmp(s->outcome, "completed") == 0 && s->falls == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (x.rl) runlog_close(x.rl);
    link_close(x.link);
    if (have_mission) mis_free(&m);
    fg_close(&gate);
    camc_close(x.cam);
    facade_free(fac);
    res->exit_code = rc;
    return rc;
}

void cli_run_out_free(cli_run_out *res)
{
    if (!res) return;
    free(res->plan_map);
    res->plan_map = NULL;
}

/* ------------------------------------------------------------ `run` */

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: crossclimb run --plc URI --facade FILE [OPTIONS]\n"
            "\n"
            "Clean a region of the facade with the robot behind the PLC link URI\n"
            "(tcp://HOST:PORT, rtu:/dev/ttyUSB0?baud=19200&parity=E&slave=1): lanes at the\n"
            "robot's step pitch, brush and spray on along them, footholds off joints,\n"
            "mullions, obstacles and edges (docs/operator.md).\n"
            "\n"
            "  --plc URI            the PLC link (required)\n"
            "  --facade FILE        the facade map (docs/facade-format.md; required)\n"
            "  --robot FILE         robot configuration INI (default: built in, as\n"
            "                       sim/robots/default.ini)\n"
            "  --region X0,Y0,X1,Y1 the area to clean, facade mm (default: the whole facade,\n"
            "                       as far as it can be reached)\n"
            "  --start X,Y          where the robot's centre (the carriage) stands, facade mm\n"
            "                       (default: the facade's start_mm, else its centre); the\n"
            "                       cylinders at mid stroke unless sensed or at an end\n"
            "  --log FILE           JSON Lines run log (docs/log-format.md)\n"
            "  --state FILE         mission checkpoint: written after every half-step; when\n"
            "                       FILE exists the mission continues from it (a controller\n"
            "                       restarted in mid-step finishes that half-step first)\n"
            "  --fresh              ignore an existing --state FILE and start afresh\n"
            "  --fusion FILE|off    perception weights asked before each half-step; they can\n"
            "                       only make the robot more careful (default: the shipped\n"
            "                       perception/weights/fusion-default.safetensors)\n"
            "  --camera URI         the camera channel, tcp://HOST:PORT (docs/camera-channel.md):\n"
            "                       before each half-step the gate gets the view along its\n"
            "                       travel (at most 200 ms a frame; no answer: the camera\n"
            "                       counts as offline); default none (camera offline)\n"
            "  --headless           no prompts and no console; progress lines only (the\n"
            "                       console is used when stdin and stdout are a terminal)\n"
            "  --progress-s S       a progress line every S seconds of PLC time (default 30)\n"
            "  --status-every N     a status record in the log every N cycles (default 100)\n"
            "\n"
            "The controller starts HELD: check the robot, then type 'ack' (and Enter), or\n"
            "press 'a' in the console ('?' lists its keys; SPACE is the E-stop).\n"
            "Commands on stdin: ack, pause, resume, stop, hold, status, quit, and while\n"
            "paused jog +x|-x|+y|-y (one checked half-step; h/j/k/l or arrows in the console).\n"
            "Ends with one line 'result: outcome=... falls=... coverage=... area_m2=...\n"
            "sim_time_s=... rate_m2_per_h=... min_safety_factor=... holds=...\n"
            "refused_commands=...'; exit 0 only for a completed mission.\n");
}

int cmd_run(int argc, char **argv)
{
    cli_run_opts o;
    cli_run_out res;
    memset(&o, 0, sizeof o);
    o.prog = "run";
    o.progress_s = 30.0;
    o.status_every = 100;
    o.operator_input = 1;
    o.quiet_steps = 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            run_usage(stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(a, "--headless")) {
            o.headless = 1;
        } else if (!strcmp(a, "--fresh")) {
            o.fresh_state = 1;
        } else if (!v) {
            fprintf(stderr, "crossclimb run: %s: missing value (or unknown argument)\n", a);
            run_usage(stderr);
            return CLI_EXIT_USAGE;
        } else if (!strcmp(a, "--plc")) {
            o.plc_uri = v;
            i++;
        } else if (!strcmp(a, "--fusion")) {
            cli_fusion_option(&o, v);
            i++;
        } else if (!strcmp(a, "--camera")) {
            o.camera_uri = v;
            i++;
        } else if (!strcmp(a, "--facade")) {
            o.facade_path = v;
            i++;
        } else if (!strcmp(a, "--robot")) {
            o.robot_path = v;
            i++;
        } else if (!strcmp(a, "--log")) {
            o.log_path = v;
            i++;
        } else if (!strcmp(a, "--state")) {
            o.state_path = v;
            i++;
        } else if (!strcmp(a, "--region")) {
            if (cli_parse_region(v, o.region_mm)) {
                fprintf(stderr, "crossclimb run: --region '%s': expected X0,Y0,X1,Y1 in mm with X0 < X1, Y0 < Y1\n", v);
                return CLI_EXIT_USAGE;
            }
            o.have_region = 1;
            i++;
        } else if (!strcmp(a, "--start")) {
            if (cli_parse_pair(v, o.start_mm)) {
                fprintf(stderr, "crossclimb run: --start '%s': expected X,Y in mm\n", v);
                return CLI_EXIT_USAGE;
            }
            o.have_start = 1;
            i++;
        } else if (!strcmp(a, "--progress-s")) {
            char *end;
            o.progress_s = strtod(v, &end);
            if (*end || !(o.progress_s >= 0.0 && o.progress_s <= 86400.0)) {
                fprintf(stderr, "crossclimb run: --progress-s '%s': expected 0..86400\n", v);
                return CLI_EXIT_USAGE;
            }
            i++;
        } else if (!strcmp(a, "--status-every")) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 0 || n > 1000000) {
                fprintf(stderr, "crossclimb run: --status-every '%s': expected 0..1000000\n", v);
                return CLI_EXIT_USAGE;
            }
            o.status_every = (unsigned)n;
            i++;
        } else {
            fprintf(stderr, "crossclimb run: unknown argument '%s'\n", a);
            run_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (!o.plc_uri || !o.facade_path) {
        fprintf(stderr, "crossclimb run: --plc and --facade are required\n");
        run_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    con *k = NULL;
    if (!o.headless && con_wanted() && (k = con_open(o.prog)) != NULL) { /* the console (docs/operator.md) */
        o.ui = con_ui();
        o.ui_user = k;
    }
    int rc = cli_run_mission(&o, &res);
    con_close(k);
    if (res.summary.outcome) {
        char line[512];
        printf("%s\n", runlog_result_line(&res.summary, line, sizeof line));
    }
    cli_run_out_free(&res);
    return rc;
}
