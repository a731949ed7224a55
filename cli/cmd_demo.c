/*
 * cmd_demo.c — `crossclimb demo`: the main job on a simulated robot.
 *
 * Starts the simulator as its own process (SPEC §3: never linked; its own
 * executable, /proc/self/exe, `sim --facade F --seed N --truth LOG --listen
 * tcp://127.0.0.1:0 --camera tcp://127.0.0.1:0 --idle frozen`), connects to
 * it over Modbus TCP on loopback exactly as `run` connects to a real PLC
 * gateway, and runs a whole mission in virtual time (cli_run_mission, shared
 * with `run`).  The perception gate gets the simulated camera's frames
 * (docs/camera-channel.md): the camera's address is taken from the
 * simulator's ready line ("camera tcp://127.0.0.1:PORT"); with --fusion off,
 * or a simulator without --camera, there is no camera.
 *
 * The operator's acknowledge is given automatically ONLY for the start-up
 * HOLD; any other HOLD ends the demo (outcome=held) — a real `run` asks the
 * operator every time.
 *
 * The result is judged by the simulator's ground-truth log, never by the
 * controller's own word: falls (fall lines), coverage (cells the brush
 * really cleaned of the area the plan could reach), area (cleaned cells in
 * the region) and the minimum safety factor (the truth's sf_min over the
 * whole run) come from it, read after the simulator has stopped.
 *
 * A simulator without the robot (`sim --facade` missing: an older build)
 * gets the interim link demo: cycles against `sim plc` and a link-only
 * result line.
 */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cli/console.h"
#include "controller/simproc.h"
#include "plc_bridge/image.h"
#include "plc_bridge/link.h"
#include "plc_bridge/uri.h"
#include "robot/facade.h"

#define DEMO_SEED_DEFAULT "1"
#define DEMO_MAX_SIM_S 14400.0     /* 4 h of virtual time: a mission longer than this is stuck */
#define DEMO_LINK_LOST_CYCLES 200u /* the simulator is gone */
#define DEMO_TRUTH_MS "1000"       /* cleaned cells accumulate between lines; sf_min is exact */
/* Response timeout of the link to the simulator on loopback (it answers in
 * well under a millisecond), ms, as text for the URI and for the
 * simulator's --silence-step-ms. */
#define DEMO_TIMEOUT_MS "300"
#define DEMO_INTERIM_CYCLES 200

typedef struct {
    simproc sp;
    int running;
    char truth[PATH_MAX];
    int sim_exit;
    uint8_t *cleaned;
    const char *faults;                /* --faults FILE, or NULL */
    unsigned fault_starts, fault_ends; /* the truth log's fault records (--faults) */
    char camera_uri[96];               /* from the ready line, "" none */
} demo_ctx;

static void demo_usage(FILE *f)
{
    fprintf(f,
            "usage: crossclimb demo [--facade FILE] [--sim-facade FILE] [--robot FILE]\n"
            "                       [--region X0,Y0,X1,Y1]\n"
            "                       [--start X,Y] [--faults FILE] [--seed N] [--log FILE]\n"
            "                       [--truth FILE] [--max-sim-s S] [--steps]\n"
            "\n"
            "Starts the simulated robot (crossclimb sim --facade FILE) as its own process on\n"
            "loopback and runs a whole cleaning mission against it over Modbus TCP, in\n"
            "virtual time.  The start-up HOLD is acknowledged automatically (and nothing\n"
            "else: any other HOLD ends the demo; a real 'crossclimb run' asks the operator).\n"
            "\n"
            "  --facade FILE   the facade (default: sim/facades/default.txt)\n"
            "  --sim-facade FILE  the facade the simulated robot really climbs, when it\n"
            "                  differs from the controller's map (--facade): defects the\n"
            "                  survey missed; same size and cell as the map\n"
            "  --robot FILE    robot configuration INI for the simulator and the controller\n"
            "  --region, --start   as for 'crossclimb run' (default: the whole facade, as far\n"
            "                  as the robot can reach it, from the facade's start point)\n"
            "  --faults FILE   fault scenario for the simulator (docs/faults-format.md)\n"
            "  --seed N        simulator seed (default " DEMO_SEED_DEFAULT ")\n"
            "  --log FILE      keep the run log (JSON Lines, docs/log-format.md)\n"
            "  --truth FILE    keep the simulator's ground-truth log\n"
            "  --max-sim-s S   give up after S seconds of virtual time (default %.0f)\n"
            "  --steps         a line per half-step\n"
            "  --fusion FILE|off  perception weights asked before each half-step (only\n"
            "                  ever more careful; default: the shipped weights); the gate\n"
            "                  gets the simulated camera's view along each half-step (the\n"
            "                  simulator runs with --camera; not with --fusion off)\n"
            "  --headless      progress lines even on a terminal (no console)\n"
            "  --speed 1x|10x|max  pace virtual time for watching (default: 10x in the\n"
            "                  console, max otherwise); on a terminal the console is used and\n"
            "                  the operator acknowledges the start-up HOLD (key 'a')\n"
            "\n"
            "Ends with 'result: outcome=... falls=... coverage=... area_m2=... sim_time_s=...\n"
            "rate_m2_per_h=... min_safety_factor=... holds=... refused_commands=...', where\n"
            "falls, coverage, area and min_safety_factor come from the simulator's truth.\n"
            "Exit 0 only for a completed mission with no fall.\n",
            DEMO_MAX_SIM_S);
}

/* The camera's tcp://HOST:PORT named by the ready line ("..., camera
 * tcp://127.0.0.1:PORT)") into out; 0, or -1 when it names none. */
static int ready_camera(const char *ready, char *out, size_t len)
{
    static const char key[] = "camera tcp://";
    const char *p = strstr(ready, key);
    if (!p) return -1;
    p += sizeof "camera " - 1;
    size_t n = strcspn(p, ",) \t");
    if (n == 0 || n >= len) return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* Does `exe sim --help` mention opt?  1 yes, 0 no, -1 could not run it. */
static int sim_supports(const char *exe, const char *opt)
{
    int pfd[2];
    char buf[16384];
    size_t used = 0;
    if (pipe(pfd) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(pfd[1], STDOUT_FILENO);
        dup2(pfd[1], STDERR_FILENO);
        close(pfd[0]);
        close(pfd[1]);
        execl(exe, exe, "sim", "--help", (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    for (;;) {
        ssize_t r = read(pfd[0], buf + used, sizeof buf - 1 - used);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        used += (size_t)r;
        if (used == sizeof buf - 1) break;
    }
    buf[used] = '\0';
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return strstr(buf, opt) != NULL;
}

/* The default facade: next to a build tree or an installed binary, or in
 * the source tree named by $CROSSCLIMB_SRC. */
static int default_facade(const char *exe, char *out, size_t len)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", exe);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    const char *src = getenv("CROSSCLIMB_SRC");
    const char *cands[3][2] = {{dir, "/../sim/facades/default.txt"},
                               {dir, "/../share/crossclimb/facades/default.txt"},
                               {src ? src : ".", "/sim/facades/default.txt"}};
    for (int i = 0; i < 3; i++) {
        snprintf(out, len, "%s%s", cands[i][0], cands[i][1]);
        if (access(out, R_OK) == 0) return 0;
    }
    return -1;
}

/* ------------------------------------------------------ the interim demo */

static int cycle_until_echo(cc_link *l, cc_command *c, cc_status *st, int max)
{
    for (int i = 0; i < max; i++) {
        c->heartbeat++;
        int rc = link_cycle(l, c, st, NULL);
        if (rc) return rc;
        if (st->seq_echo == c->seq) return 0;
        if (st->flags & CC_FLAG_REJECTED && i > 0) return 1;
    }
    return 1;
}

/* The simulator has no robot: acknowledge, grip in AUTO, cycle, report the link. */
static int demo_interim(const char *exe)
{
    simproc sp;
    cc_link *l = NULL;
    link_uri uri;
    cc_status st;
    char uri_s[160], err[256];
    int rc = CLI_EXIT_FAIL;
    const char *args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen", NULL};
    printf("demo: this simulator has no robot (no 'sim --facade'): the interim link demo\n");
    int sr = simproc_start(&sp, exe, args);
    if (sr) {
        fprintf(stderr, "crossclimb demo: the simulated PLC did not start: %s\n", simproc_strerror(sr));
        return CLI_EXIT_FAIL;
    }
    printf("demo: simulated PLC pid %ld: %s\n", (long)sp.pid, sp.ready);
    snprintf(uri_s, sizeof uri_s, "%s?timeout_ms=1000", sp.tcp_uri);
    if (link_uri_parse(uri_s, 0, &uri, err, sizeof err) || link_open(&uri, &l) || link_connect(l) ||
        link_read_status(l, &st, NULL)) {
        fprintf(stderr, "crossclimb demo: %s: %s\n", uri_s, l ? link_last_error(l) : err);
        goto out;
    }
    cc_command c = {.seq = (uint16_t)(st.seq_echo + 1u), .heartbeat = st.heartbeat_echo,
                    .outputs = CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC,
                    .mode = CC_MODE_RESET, .period_ms = 10};
    if (cycle_until_echo(l, &c, &st, 20)) goto out;
    printf("demo: RESET accepted (sequence %u)\n", (unsigned)c.seq);
    c.seq++;
    c.mode = CC_MODE_AUTO;
    if (cycle_until_echo(l, &c, &st, 20)) goto out;
    printf("demo: AUTO accepted (sequence %u): both groups grip\n", (unsigned)c.seq);
    for (int i = 0; i < DEMO_INTERIM_CYCLES; i++) {
        c.heartbeat++;
        if (link_cycle(l, &c, &st, NULL)) goto out;
    }
    const link_stats *s = link_get_stats(l);
    printf("result: outcome=link-demo-ok cycles=%llu transactions=%llu held=%s\n",
           (unsigned long long)s->cycles, (unsigned long long)s->transactions,
           (st.flags & CC_FLAG_HOLD) ? "yes" : "no");
    rc = CLI_EXIT_OK;
out:
    link_close(l);
    if (simproc_stop(&sp) != 0 && rc == CLI_EXIT_OK) rc = CLI_EXIT_FAIL;
    return rc;
}

/* ------------------------------------------------------------- the truth */

/* Stop the simulator (it writes the truth log's end line) and judge the
 * run by that log: falls, cleaned cells, sf_min. */
static int judge(void *user, cli_run_out *res)
{
    demo_ctx *d = user;
    runlog_summary *s = &res->summary;
    FILE *fp = NULL;
    char *line = NULL;
    size_t cap = 0;
    int rc = -1;
    unsigned falls = 0;
    double sf_min = -1.0;
    int saw_end = 0;

    if (d->running) {
        d->sim_exit = simproc_stop(&d->sp);
        d->running = 0;
    }
    const size_t ncells = (size_t)res->cols * res->rows;
    d->cleaned = calloc(ncells ? ncells : 1, 1);
    if (!d->cleaned) goto out;
    fp = fopen(d->truth, "r");
    if (!fp) {
        fprintf(stderr, "crossclimb demo: the truth log %s: %s\n", d->truth, strerror(errno));
        goto out;
    }
    while (getline(&line, &cap, fp) > 0) {
        json_object *o = json_tokener_parse(line), *v;
        if (!o) continue;
        const char *type = json_object_object_get_ex(o, "type", &v) ? json_object_get_string(v) : "";
        if (!strcmp(type, "state") && json_object_object_get_ex(o, "cleaned_new", &v)) {
            size_t n = json_object_array_length(v);
            for (size_t i = 0; i < n; i++) {
                json_object *cr = json_object_array_get_idx(v, i);
                if (json_object_array_length(cr) != 2) continue;
                int64_t col = json_object_get_int64(json_object_array_get_idx(cr, 0));
                int64_t row = json_object_get_int64(json_object_array_get_idx(cr, 1));
                if (col >= 0 && row >= 0 && (uint64_t)col < res->cols && (uint64_t)row < res->rows)
                    d->cleaned[(size_t)row * res->cols + (size_t)col] = 1;
            }
        } else if (!strcmp(type, "fall")) {
            falls++;
        } else if (!strcmp(type, "fault")) { /* an injected fault started or ended (--faults) */
            const char *ev = json_object_object_get_ex(o, "event", &v) ? json_object_get_string(v) : "";
            if (!strcmp(ev, "start")) d->fault_starts++;
            else if (!strcmp(ev, "end")) d->fault_ends++;
        } else if (!strcmp(type, "end")) {
            saw_end = 1;
            if (json_object_object_get_ex(o, "sf_min", &v)) sf_min = json_object_get_double(v);
            if (json_object_object_get_ex(o, "fallen", &v) && json_object_get_boolean(v) && !falls) falls = 1;
        }
        json_object_put(o);
    }
    if (!saw_end) {
        fprintf(stderr, "crossclimb demo: the truth log %s has no end line\n", d->truth);
        goto out;
    }
    size_t hit = 0, in_region = 0;
    for (uint32_t row = 0; row < res->rows; row++)
        for (uint32_t col = 0; col < res->cols; col++) {
            size_t i = (size_t)row * res->cols + col;
            if (!d->cleaned[i]) continue;
            double x = (col + 0.5) * res->cell_mm, y = (row + 0.5) * res->cell_mm;
            if (x < res->region_mm[0] || x > res->region_mm[2] || y < res->region_mm[1] || y > res->region_mm[3])
                continue;
            in_region++; /* the simulator never counts obstacle or void as cleaned */
            if (res->plan_map && res->plan_map[i]) hit++;
        }
    const double cell_m2 = (double)res->cell_mm * res->cell_mm * 1e-6;
    s->falls = falls;
    s->coverage = res->planned_cells ? (double)hit / (double)res->planned_cells : 0.0;
    s->area_m2 = (double)in_region * cell_m2;
    s->rate_m2_per_h = s->sim_time_s > 0.0 ? s->area_m2 / s->sim_time_s * 3600.0 : 0.0;
    s->min_safety_factor = sf_min;
    s->source = "truth";
    if (falls) snprintf(res->outcome, sizeof res->outcome, "fall");
    printf("demo: truth: %u fall(s), minimum safety factor %.3f, %zu cells cleaned in the region "
           "(%.2f m2), %.1f %% of the %zu the plan could reach, %.1f %% of the region's %zu\n",
           falls, sf_min, in_region, s->area_m2, 100.0 * s->coverage, res->planned_cells,
           res->region_cells ? 100.0 * (double)in_region / (double)res->region_cells : 0.0, res->region_cells);
    /* a line of its own: the result line's fields are fixed (issue 5, tests/test_demo.sh) */
    if (d->faults)
        printf("demo: truth: faults=%u injected (%u ended before the end of the run)\n", d->fault_starts,
               d->fault_ends);
    rc = 0;
out:
    free(line);
    if (fp) fclose(fp);
    return rc;
}

/* Remove a file we made in our temporary directory, then the directory. */
static void tmp_cleanup(const char *dir, const char *const *files, int n)
{
    char p[PATH_MAX];
    for (int i = 0; i < n; i++) {
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, files[i]) < sizeof p) unlink(p);
        if ((size_t)snprintf(p, sizeof p, "%s/%s.tmp", dir, files[i]) < sizeof p) unlink(p);
    }
    rmdir(dir);
}

/* --sim-facade: the world must be the map's grid (size, cell) for the truth's
 * cleaned cells to be judged against the plan.  0; CLI_EXIT_FAIL when a file
 * cannot be loaded, CLI_EXIT_USAGE when the grids differ (with a message). */
static int same_grid(const char *map_path, const char *world_path)
{
    facade *m = NULL, *w = NULL;
    char err[512];
    int rc = CLI_EXIT_FAIL;
    if (facade_load_file(map_path, &m, err, sizeof err) || facade_load_file(world_path, &w, err, sizeof err)) {
        fprintf(stderr, "crossclimb demo: %s\n", err);
        goto out;
    }
    rc = CLI_EXIT_USAGE;
    if (m->cols != w->cols || m->rows != w->rows || m->cell_mm != w->cell_mm) {
        fprintf(stderr,
                "crossclimb demo: --sim-facade %s: %ux%u cells of %u mm, the map %s is %ux%u of %u mm "
                "(they must match)\n",
                world_path, w->cols, w->rows, w->cell_mm, map_path, m->cols, m->rows, m->cell_mm);
        goto out;
    }
    rc = 0;
out:
    facade_free(m);
    facade_free(w);
    return rc;
}

int cmd_demo(int argc, char **argv)
{
    static demo_ctx d;
    cli_run_opts o;
    cli_run_out res;
    /* the temporary directory's name is short: its files' names fit */
    char exe[PATH_MAX], facade_buf[PATH_MAX], tmpdir[1024] = "", log_buf[PATH_MAX],
        state_buf[PATH_MAX], uri_s[160], start_buf[64];
    const char *seed = DEMO_SEED_DEFAULT, *faults = NULL, *truth = NULL, *sim_facade = NULL;
    int rc = CLI_EXIT_FAIL, headless = 0;
    double speed = -1.0; /* not given */
    con *ui = NULL;

    memset(&d, 0, sizeof d);
    memset(&o, 0, sizeof o);
    memset(&res, 0, sizeof res);
    o.prog = "demo";
    o.progress_s = 30.0;
    o.status_every = 100;
    o.auto_ack_startup = 1;
    o.headless = 1;
    o.quiet_steps = 1;
    o.max_sim_s = DEMO_MAX_SIM_S;
    o.link_lost_cycles = DEMO_LINK_LOST_CYCLES;
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines appear as they happen */

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            demo_usage(stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(a, "--steps")) {
            o.quiet_steps = 0;
        } else if (!strcmp(a, "--headless")) {
            headless = 1;
        } else if (!strcmp(a, "--fusion") && v) {
            cli_fusion_option(&o, v);
            i++;
        } else if (!strcmp(a, "--speed") && v) {
            speed = !strcmp(v, "1x") ? 1.0 : !strcmp(v, "10x") ? 10.0 : !strcmp(v, "max") ? 0.0 : -2.0;
            if (speed < -1.0) {
                fprintf(stderr, "crossclimb demo: --speed '%s': expected 1x, 10x or max\n", v);
                return CLI_EXIT_USAGE;
            }
            i++;
        } else if (!v) {
            fprintf(stderr, "crossclimb demo: %s: missing value (or unknown argument)\n", a);
            demo_usage(stderr);
            return CLI_EXIT_USAGE;
        } else if (!strcmp(a, "--facade")) {
            o.facade_path = v;
            i++;
        } else if (!strcmp(a, "--sim-facade")) {
            sim_facade = v;
            i++;
        } else if (!strcmp(a, "--robot")) {
            o.robot_path = v;
            i++;
        } else if (!strcmp(a, "--faults")) {
            faults = v;
            i++;
        } else if (!strcmp(a, "--log")) {
            o.log_path = v;
            i++;
        } else if (!strcmp(a, "--truth")) {
            truth = v;
            i++;
        } else if (!strcmp(a, "--seed")) {
            char *end;
            errno = 0;
            unsigned long long sv = strtoull(v, &end, 10);
            (void)sv;
            if (errno || *end || !*v || *v == '-') {
                fprintf(stderr, "crossclimb demo: --seed '%s': expected 0..2^64-1\n", v);
                return CLI_EXIT_USAGE;
            }
            seed = v;
            i++;
        } else if (!strcmp(a, "--region")) {
            if (cli_parse_region(v, o.region_mm)) {
                fprintf(stderr, "crossclimb demo: --region '%s': expected X0,Y0,X1,Y1 in mm with X0 < X1, Y0 < Y1\n", v);
                return CLI_EXIT_USAGE;
            }
            o.have_region = 1;
            i++;
        } else if (!strcmp(a, "--start")) {
            if (cli_parse_pair(v, o.start_mm)) {
                fprintf(stderr, "crossclimb demo: --start '%s': expected X,Y in mm\n", v);
                return CLI_EXIT_USAGE;
            }
            o.have_start = 1;
            i++;
        } else if (!strcmp(a, "--max-sim-s")) {
            char *end;
            o.max_sim_s = strtod(v, &end);
            if (*end || !(o.max_sim_s > 0.0 && o.max_sim_s <= 1e7)) {
                fprintf(stderr, "crossclimb demo: --max-sim-s '%s': expected a number of seconds > 0\n", v);
                return CLI_EXIT_USAGE;
            }
            i++;
        } else {
            fprintf(stderr, "crossclimb demo: unknown argument '%s'\n", a);
            demo_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }

    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        fprintf(stderr, "crossclimb demo: cannot find my own executable: %s\n", strerror(errno));
        return CLI_EXIT_FAIL;
    }
    exe[n] = '\0';
    int has_robot = sim_supports(exe, "--facade");
    if (has_robot == 0) {
        if (o.facade_path || faults || o.have_region) {
            fprintf(stderr, "crossclimb demo: this simulator has no robot (no 'sim --facade')\n");
            return CLI_EXIT_FAIL;
        }
        return demo_interim(exe);
    }
    if (faults && sim_supports(exe, "--faults") != 1) {
        fprintf(stderr, "crossclimb demo: --faults: this simulator does not take fault scenarios yet\n");
        return CLI_EXIT_USAGE;
    }
    if (!o.facade_path) {
        if (default_facade(exe, facade_buf, sizeof facade_buf)) {
            fprintf(stderr, "crossclimb demo: cannot find sim/facades/default.txt (give --facade)\n");
            return CLI_EXIT_FAIL;
        }
        o.facade_path = facade_buf;
    }
    if (sim_facade && (rc = same_grid(o.facade_path, sim_facade)) != 0) return rc;
    /* our own files in a temporary directory, removed at the end */
    const char *td = getenv("TMPDIR");
    if (!td || !*td || strlen(td) > sizeof tmpdir - 32) td = "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/crossclimb-demo.XXXXXX", td);
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "crossclimb demo: temporary directory %s: %s\n", tmpdir, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    if (truth)
        snprintf(d.truth, sizeof d.truth, "%s", truth);
    else
        snprintf(d.truth, sizeof d.truth, "%s/truth.jsonl", tmpdir);
    if (!o.log_path) {
        snprintf(log_buf, sizeof log_buf, "%s/run.jsonl", tmpdir);
        o.log_path = log_buf;
    }
    snprintf(state_buf, sizeof state_buf, "%s/state.json", tmpdir);
    o.state_path = state_buf;

    const char *sargv[32];
    int k = 0;
    sargv[k++] = exe;
    sargv[k++] = "sim";
    sargv[k++] = "--facade";
    sargv[k++] = sim_facade ? sim_facade : o.facade_path;
    sargv[k++] = "--seed";
    sargv[k++] = seed;
    sargv[k++] = "--truth";
    sargv[k++] = d.truth;
    sargv[k++] = "--truth-ms";
    sargv[k++] = DEMO_TRUTH_MS;
    if (o.robot_path) {
        sargv[k++] = "--robot";
        sargv[k++] = o.robot_path;
    }
    if (faults) {
        sargv[k++] = "--faults";
        sargv[k++] = faults;
        d.faults = faults; /* judge() counts the truth's fault records */
        /* an unanswered request costs the controller its response timeout:
         * in a silence each dropped request stands for that much PLC time */
        sargv[k++] = "--silence-step-ms";
        sargv[k++] = DEMO_TIMEOUT_MS;
    }
    if (o.have_start) { /* the simulated robot stands where the controller is told it stands */
        snprintf(start_buf, sizeof start_buf, "%.3f,%.3f", o.start_mm[0], o.start_mm[1]);
        sargv[k++] = "--start";
        sargv[k++] = start_buf;
    }
    sargv[k++] = "--listen";
    sargv[k++] = "tcp://127.0.0.1:0";
    /* the gate's camera: only when there is a gate to give the frames to */
    const int want_camera = !o.fusion_off && sim_supports(exe, "--camera") == 1;
    if (want_camera) {
        sargv[k++] = "--camera";
        sargv[k++] = "tcp://127.0.0.1:0";
    }
    sargv[k++] = "--idle";
    sargv[k++] = "frozen";
    sargv[k] = NULL;
    printf("demo: starting the simulator: %s sim --facade %s --seed %s%s%s --listen tcp://127.0.0.1:0%s --idle frozen\n",
           exe, sim_facade ? sim_facade : o.facade_path, seed, faults ? " --faults " : "", faults ? faults : "",
           want_camera ? " --camera tcp://127.0.0.1:0" : "");
    int sr = simproc_spawn(&d.sp, sargv);
    if (sr) {
        fprintf(stderr, "crossclimb demo: the simulator did not start: %s\n", simproc_strerror(sr));
        goto out;
    }
    d.running = 1;
    printf("demo: simulator pid %ld: %s\n", (long)d.sp.pid, d.sp.ready);
    snprintf(uri_s, sizeof uri_s, "%s?timeout_ms=" DEMO_TIMEOUT_MS, d.sp.tcp_uri);
    o.plc_uri = uri_s;
    if (want_camera) {
        if (ready_camera(d.sp.ready, d.camera_uri, sizeof d.camera_uri) == 0)
            o.camera_uri = d.camera_uri;
        else
            fprintf(stderr, "crossclimb demo: the simulator's ready line names no camera: the gate sees the camera offline\n");
    }
    o.finish = judge;
    o.finish_user = &d;

    if (!headless && con_wanted() && (ui = con_open(o.prog)) != NULL) { /* the console: the operator acks */
        o.ui = con_ui();
        o.ui_user = ui;
        o.auto_ack_startup = 0;
        o.headless = 0;
    }
    o.speed = speed >= 0.0 ? speed : ui ? 10.0 : 0.0;
    rc = cli_run_mission(&o, &res);
    con_close(ui);
    if (res.summary.outcome) {
        char line[512];
        if (d.sim_exit != 0 && d.sim_exit != 3)
            fprintf(stderr, "crossclimb demo: the simulator exited with status %d\n", d.sim_exit);
        if (d.sim_exit < 0 || (d.sim_exit != 0 && d.sim_exit != 3)) rc = CLI_EXIT_FAIL;
        printf("%s\n", runlog_result_line(&res.summary, line, sizeof line));
    }
out:
    if (d.running) {
        simproc_stop(&d.sp);
        d.running = 0;
    }
    free(d.cleaned);
    d.cleaned = NULL;
    cli_run_out_free(&res);
    const char *ours[] = {"truth.jsonl", "run.jsonl", "state.json"};
    if (tmpdir[0]) tmp_cleanup(tmpdir, ours, 3);
    return rc;
}
