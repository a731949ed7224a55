/*
 * cmd_sim.c — `crossclimb sim ...`: the simulators.
 *
 *   crossclimb sim --facade F [...]   the robot: the simulated FX PLC
 *       (sim/plcsim) running the instruction-list PLC program (sim/fxil,
 *       docs/plc/crossclimb.il by default) over the simulated robot on a
 *       facade (sim/robotplant: physics, sensors, ground-truth log), behind
 *       a Modbus TCP and/or RTU-on-pty slave (sim/mbserver).
 *   crossclimb sim plc [...]          the same PLC over the bench plant
 *       (sim/benchplant), for the link and the PLC program's own tests.
 *
 * Both print the same 'listening on' / 'rtu pty' / 'program' / 'ready'
 * lines, so controller/simproc.h starts either.  docs/sim-plc.md.
 *
 * The robot simulator also takes a fault scenario (--faults, sim/faults.h:
 * the plant applies it with the physics, the Modbus server goes silent
 * during link_silence) and serves camera frames next to the Modbus link
 * (--camera, sim/camserver.h, docs/camera-channel.md) in the same select
 * loop.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "robot/facade.h"
#include "robot/robotcfg.h"
#include "plc_bridge/regmap.h"
#include "sim/benchplant.h"
#include "sim/camserver.h"
#include "sim/faults.h"
#include "sim/fxil.h"
#include "sim/mbserver.h"
#include "sim/plcsim.h"
#include "sim/robotplant.h"

#define SIM_PROGRAM_ENV "CROSSCLIMB_PLC_PROGRAM"
#define SIM_PROGRAM_NAME "crossclimb.il"
#define SIM_EXIT_FALL 3 /* `crossclimb sim`: stopped after the robot fell */
#define SIM_STEP_US_MIN 10u
#define SIM_STEP_US_MAX 1000u

static volatile sig_atomic_t sim_stop;

static void on_signal(int sig)
{
    (void)sig;
    sim_stop = 1;
}

/* Everything the command line says. */
typedef struct {
    const char *who;     /* message prefix: "crossclimb sim" or "crossclimb sim plc" */
    int robot;           /* 1: the robot plant; 0: the bench plant (sim plc) */
    plcsim_config pcfg;
    mbs_config mcfg;
    const char *listen;  /* --listen URI, NULL = default */
    const char *program; /* --program FILE, NULL = search */
    /* the robot only */
    const char *facade;  /* --facade FILE (required) */
    const char *robot_ini; /* --robot FILE, NULL = built-in defaults */
    const char *truth;   /* --truth FILE, NULL = no ground-truth log */
    uint64_t seed;       /* --seed N */
    uint32_t truth_ms;   /* --truth-ms N */
    uint32_t step_us;    /* --step-us N, 0 = the robot configuration's */
    const char *faults;  /* --faults FILE, NULL = no fault scenario */
    const char *camera;  /* --camera URI, NULL = no camera channel */
    const char *dump_dir; /* --dump-frames DIR, NULL = no frame dumps */
    uint32_t dump_every_ms; /* --dump-every-ms N */
    int dump_every_given;
    uint32_t silence_step_ms; /* --silence-step-ms N, 0 = the period hint D204 */
    int have_start;      /* --start X,Y given */
    double start_mm[2];  /* the robot's centre (the carriage) at the start, facade mm */
} sim_opts;

static void sim_usage(FILE *f)
{
    fprintf(f,
            "usage: crossclimb sim --facade FILE [OPTIONS]     the robot on a facade\n"
            "       crossclimb sim plc [OPTIONS]                the PLC over a bench plant\n"
            "\n"
            "A simulated Mitsubishi FX PLC, answering like an FX3 MODBUS slave (standard\n"
            "device assignment), runs the PLC program (an FX1N instruction list) every scan\n"
            "over the simulated robot: physics of the cross frame, cylinders, legs, per-cup\n"
            "vacuum, holding, slip and peel, with noisy sensors (docs/simulator.md).\n"
            "\n"
            "robot:\n"
            "  --facade FILE       the facade (docs/facade-format.md; sim/facades/*.txt);\n"
            "                      the robot starts at its start point. Required.\n"
            "  --robot FILE        robot configuration INI (default: built in, the same as\n"
            "                      sim/robots/default.ini)\n"
            "  --start X,Y         set the robot down with its centre here (facade mm)\n"
            "                      instead of the facade's start point\n"
            "  --seed N            seed of the sensor noise and gusts, 0..2^64-1 (default 1)\n"
            "  --truth FILE        write the ground-truth log (JSON Lines) to FILE; the\n"
            "                      controller never sees it\n"
            "  --truth-ms N        a state line every N ms of virtual time, 0..%u\n"
            "                      (default %u; 0 = only at a fall and at the end)\n"
            "  --step-us N         physics integration step, %u..%u us (default: the\n"
            "                      robot file's [sim] step_us, 1000)\n"
            "  --faults FILE       inject the timed faults of a scenario (docs/faults-format.md;\n"
            "                      sim/scenarios/*.txt); each start and end is a truth log line\n"
            "  --silence-step-ms N with --idle frozen, virtual ms a request dropped by a\n"
            "                      link_silence stands for, 1..60000 (default: the period hint\n"
            "                      D204); give the client's response timeout\n"
            "\n"
            "camera (docs/camera-channel.md):\n"
            "  --camera URI        serve camera frames on tcp://HOST:PORT (port 0 picks a free\n"
            "                      port; use 127.0.0.1 so nothing listens beyond loopback):\n"
            "                      'FRAME [heading_deg]\\n' -> one binary PGM (64 x 48)\n"
            "  --dump-frames DIR   also write the view as DIR/frame-<t_ms>.pgm ...\n"
            "  --dump-every-ms N   ... every N ms of virtual time, 1..%u (default %u)\n"
            "\n"
            "program:\n"
            "  --program FILE      the instruction list to run.  Default: the file named by\n"
            "                      $" SIM_PROGRAM_ENV ", else " SIM_PROGRAM_NAME " in\n"
            "                      EXEDIR/../docs/plc/ or EXEDIR/../share/crossclimb/\n"
            "\n"
            "transports:\n"
            "  --listen URI        Modbus TCP on tcp://HOST:PORT (default " MBS_DEFAULT_LISTEN
            "\n"
            "                      unless only --rtu-pty is given); port 0 picks a free port\n"
            "  --rtu-pty           Modbus RTU on a new pseudo-terminal\n"
            "  --pty-link PATH     also make PATH a symlink to the pty (implies --rtu-pty)\n"
            "  --slave N           RTU slave id, 1..247 (default 1)\n"
            "\n"
            "time:\n"
            "  --scan-ms N         virtual scan time, 1..%u ms (default %u)\n"
            "  --idle MODE         between exchanges virtual time runs at real-time pace\n"
            "                      (realtime, default) or stands still (frozen)\n"
            "  --realtime          all time real-time paced; requests do not advance it\n"
            "                      Otherwise each write into D200-D207 advances virtual\n"
            "                      time by the period hint D204 (ms; 0 = 10, max 1000).\n"
            "\n"
            "test hooks (never on a real robot): --no-fc17, --drop-reply N,\n"
            "  --silent-after N, as for 'crossclimb sim plc' (see its --help).\n"
            "\n"
            "Prints 'listening on URI', 'rtu pty PATH', 'program PATH (N steps)', 'facade\n"
            "...', 'robot ...', 'truth ...', 'faults ...', 'camera on URI', 'frames ...',\n"
            "then 'ready (...)' (which names the camera URI too).  A FALL is reported on\n"
            "stderr and in the truth log; the PLC keeps running and the sensors show the\n"
            "fallen robot (every cup 0 kPa).  SIGINT or SIGTERM stops it: exit 0, or %d\n"
            "after a fall.  Exit 1: a bad file (file:line:col), no program, cannot listen,\n"
            "write the truth log or the frames; exit 2: bad arguments.\n"
            "See docs/sim-plc.md and docs/simulator.md.\n",
            ROBOTPLANT_TRUTH_MS_MAX, ROBOTPLANT_TRUTH_MS_DEFAULT, SIM_STEP_US_MIN,
            SIM_STEP_US_MAX, CAMSRV_DUMP_EVERY_MS_MAX, CAMSRV_DUMP_EVERY_MS_DEFAULT,
            PLCSIM_SCAN_MS_MAX, PLCSIM_SCAN_MS_DEFAULT, SIM_EXIT_FALL);
}

static void plc_usage(FILE *f)
{
    fprintf(f,
            "usage: crossclimb sim plc [OPTIONS]\n"
            "\n"
            "A simulated Mitsubishi FX PLC answering like an FX3 MODBUS slave (standard\n"
            "device assignment: D0-D8511, M0-M8511, S, T, C, Y0-Y377, X0-X377) and running\n"
            "the PLC program, an FX1N instruction list, every scan over a bench plant (the\n"
            "robot's I/O on a test bench; D7900-D7903 force inputs, for tests).  The robot\n"
            "on a facade is 'crossclimb sim --facade FILE'.\n"
            "\n"
            "program:\n"
            "  --program FILE      the instruction list to run.  Default: the file named by\n"
            "                      $" SIM_PROGRAM_ENV ", else " SIM_PROGRAM_NAME " in\n"
            "                      EXEDIR/../docs/plc/ (a build tree) or\n"
            "                      EXEDIR/../share/crossclimb/ (installed).  A program\n"
            "                      with an error is refused (exit 1).  Prints\n"
            "                      'program PATH (N steps)'\n"
            "\n"
            "transports:\n"
            "  --listen URI        Modbus TCP on URI, tcp://HOST:PORT (default\n"
            "                      " MBS_DEFAULT_LISTEN " unless only --rtu-pty is given);\n"
            "                      port 0 picks a free port; prints 'listening on URI'\n"
            "  --rtu-pty           Modbus RTU on a new pseudo-terminal; prints 'rtu pty PATH'\n"
            "  --pty-link PATH     also make PATH a symlink to the pty (removed at exit;\n"
            "                      implies --rtu-pty)\n"
            "  --slave N           RTU slave id, 1..247 (default 1); TCP answers any unit id\n"
            "\n"
            "time:\n"
            "  --scan-ms N         virtual scan time, 1..%u ms (default %u)\n"
            "  --idle MODE         between exchanges virtual time runs at real-time pace\n"
            "                      (realtime, default) or stands still (frozen)\n"
            "  --realtime          all time real-time paced; requests do not advance it\n"
            "                      Otherwise each write into D200-D207 advances virtual\n"
            "                      time by the period hint D204 (ms; 0 = 10, max 1000).\n"
            "\n"
            "test hooks (for link-supervision tests; never on a real robot):\n"
            "  --no-fc17           answer FC 0x17 with exception 01 (a gateway without it)\n"
            "  --drop-reply N      apply but do not answer the N-th command-block write\n"
            "  --silent-after N    after N requests, neither apply nor answer (stay connected)\n"
            "\n"
            "After the transport and program lines it prints 'ready (...)'.  SIGINT or\n"
            "SIGTERM stops it (exit 0).  Exit 1: no program / a program with an error /\n"
            "cannot listen / make the pty; exit 2: bad arguments.\n"
            "See docs/sim-plc.md.\n",
            PLCSIM_SCAN_MS_MAX, PLCSIM_SCAN_MS_DEFAULT);
}

/* "--name VALUE" or "--name=VALUE": 1 when argv[*i] is option name (value
 * in *val, *i moved past it), 0 when it is not, -1 when the value is missing. */
static int opt_value(const char *who, int argc, char **argv, int *i, const char *name,
                     const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value\n", who, name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

/* Whole decimal number in [min, max] or a message naming the option. */
static int parse_u64(const char *who, const char *name, const char *s, unsigned long long min,
                     unsigned long long max, unsigned long long *out)
{
    char *end;
    if (*s < '0' || *s > '9') goto bad;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max) goto bad;
    *out = v;
    return 0;
bad:
    fprintf(stderr, "%s: %s '%s': must be a whole number %llu..%llu\n", who, name, s, min, max);
    return -1;
}

/* A non-empty file argument, or a message naming the option. */
static int need_path(const char *who, const char *name, const char *v)
{
    if (*v) return 0;
    fprintf(stderr, "%s: %s needs a %s\n", who, name,
            strcmp(name, "--pty-link") == 0 ? "path" : "file");
    return -1;
}

/* Copy src into dst[len]: 0, or -1 when it does not fit. */
static int copy_path(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);
    if (n >= len) return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

/*
 * Parse argv[1..] into o.  Returns 0, 1 for --help (printed), or -1 after a
 * message naming the bad argument.  The robot's options exist only without
 * "plc"; the rest is common.
 */
static int parse_opts(int argc, char **argv, sim_opts *o)
{
    const char *who = o->who;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        unsigned long long n;
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            if (o->robot) sim_usage(stdout);
            else plc_usage(stdout);
            return 1;
        } else if (!strcmp(a, "--rtu-pty")) {
            o->mcfg.rtu_pty = 1;
        } else if (!strcmp(a, "--realtime")) {
            o->pcfg.realtime = 1;
        } else if (!strcmp(a, "--no-fc17")) {
            o->mcfg.no_fc17 = 1;
        } else if ((r = opt_value(who, argc, argv, &i, "--listen", &v)) != 0) {
            char host[256], err[256];
            uint16_t port;
            if (r < 0) return -1;
            if (mbs_parse_tcp_uri(v, host, sizeof host, &port, err, sizeof err) != 0) {
                fprintf(stderr, "%s: --listen %s\n", who, err);
                return -1;
            }
            o->listen = v;
        } else if ((r = opt_value(who, argc, argv, &i, "--program", &v)) != 0) {
            if (r < 0 || need_path(who, "--program", v)) return -1;
            o->program = v;
        } else if ((r = opt_value(who, argc, argv, &i, "--pty-link", &v)) != 0) {
            if (r < 0 || need_path(who, "--pty-link", v)) return -1;
            o->mcfg.pty_link = v;
            o->mcfg.rtu_pty = 1;
        } else if ((r = opt_value(who, argc, argv, &i, "--slave", &v)) != 0) {
            if (r < 0 || parse_u64(who, "--slave", v, 1, 247, &n)) return -1;
            o->mcfg.slave = (int)n;
        } else if ((r = opt_value(who, argc, argv, &i, "--scan-ms", &v)) != 0) {
            if (r < 0 || parse_u64(who, "--scan-ms", v, 1, PLCSIM_SCAN_MS_MAX, &n)) return -1;
            o->pcfg.scan_ms = (uint32_t)n;
        } else if ((r = opt_value(who, argc, argv, &i, "--idle", &v)) != 0) {
            if (r < 0) return -1;
            if (!strcmp(v, "realtime")) {
                o->pcfg.idle = PLCSIM_IDLE_REALTIME;
            } else if (!strcmp(v, "frozen")) {
                o->pcfg.idle = PLCSIM_IDLE_FROZEN;
            } else {
                fprintf(stderr, "%s: --idle '%s': must be realtime or frozen\n", who, v);
                return -1;
            }
        } else if ((r = opt_value(who, argc, argv, &i, "--drop-reply", &v)) != 0) {
            if (r < 0 || parse_u64(who, "--drop-reply", v, 1, 0xFFFFFFFFull, &n)) return -1;
            o->mcfg.drop_reply = (unsigned)n;
        } else if (o->robot && (r = opt_value(who, argc, argv, &i, "--silence-step-ms", &v)) != 0) {
            if (r < 0 || parse_u64(who, "--silence-step-ms", v, 1, 60000, &n)) return -1;
            o->silence_step_ms = (uint32_t)n;
        } else if ((r = opt_value(who, argc, argv, &i, "--silent-after", &v)) != 0) {
            if (r < 0 || parse_u64(who, "--silent-after", v, 1, 0xFFFFFFFFull, &n)) return -1;
            o->mcfg.silent_after = (unsigned)n;
        } else if (o->robot && (r = opt_value(who, argc, argv, &i, "--facade", &v)) != 0) {
            if (r < 0 || need_path(who, "--facade", v)) return -1;
            o->facade = v;
        } else if (o->robot && (r = opt_value(who, argc, argv, &i, "--robot", &v)) != 0) {
            if (r < 0 || need_path(who, "--robot", v)) return -1;
            o->robot_ini = v;
        } else if (o->robot && (r = opt_value(who, argc, argv, &i, "--truth-ms", &v)) != 0) {
            if (r < 0 || parse_u64(who, "--truth-ms", v, 0, ROBOTPLANT_TRUTH_MS_MAX, &n))
                return -1;
            o->truth_ms = (uint32_t)n;
        } else if (o->robot && (r = opt_value(who, argc, argv, &i, "--truth", &v)) != 0) {
            if (r < 0 || need_path(who, "--truth", v)) return -1;
            o->truth = v;
        } else if (o->robot && (r = opt_value(who, argc, argv, &i, "--start", &v)) != 0) {
            if (r < 0) return -1;
            if (cli_parse_pair(v, o->start_mm)) {
                fprintf(stderr, "%s: --start '%s': expected X,Y in mm\n", who, v);
                return -1;
            }
            o->have_start = 1;
        } else if (o->robot && (r = opt_value(who, argc, argv, &i, "--seed", &v)) != 0) {
            if (r < 0 || parse_u64(who, "--seed", v, 0, UINT64_MAX, &n)) return -1;
            o->seed = (uint64_t)n;
        } else if (o->robot && (r = opt_value(who, argc, argv, &i, "--step-us", &v)) != 0) {
            if (r < 0 || parse_u64(who, "--step-us", v, SIM_STEP_US_MIN, SIM_STEP_US_MAX, &n))
                return -1;
            o->step_us = (uint32_t)n;
        } else if (o->robot && (r = opt_value(who, argc, argv, &i, "--faults", &v)) != 0) {
            if (r < 0 || need_path(who, "--faults", v)) return -1;
            o->faults = v;
        } else if (o->robot && (r = opt_value(who, argc, argv, &i, "--camera", &v)) != 0) {
            char host[256], err[256];
            uint16_t port;
            if (r < 0) return -1;
            if (camsrv_parse_uri(v, host, sizeof host, &port, err, sizeof err) != 0) {
                fprintf(stderr, "%s: --camera %s\n", who, err);
                return -1;
            }
            o->camera = v;
        } else if (o->robot && (r = opt_value(who, argc, argv, &i, "--dump-frames", &v)) != 0) {
            if (r < 0) return -1;
            if (!*v) {
                fprintf(stderr, "%s: --dump-frames needs a directory\n", who);
                return -1;
            }
            o->dump_dir = v;
        } else if (o->robot &&
                   (r = opt_value(who, argc, argv, &i, "--dump-every-ms", &v)) != 0) {
            if (r < 0 ||
                parse_u64(who, "--dump-every-ms", v, 1, CAMSRV_DUMP_EVERY_MS_MAX, &n))
                return -1;
            o->dump_every_ms = (uint32_t)n;
            o->dump_every_given = 1;
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (see --help)\n", who, a);
            return -1;
        }
    }
    if (o->robot && !o->facade) {
        fprintf(stderr, "%s: --facade FILE is required (e.g. sim/facades/default.txt; see "
                        "--help)\n", who);
        return -1;
    }
    if (o->dump_every_given && !o->dump_dir) {
        fprintf(stderr, "%s: --dump-every-ms needs --dump-frames DIR\n", who);
        return -1;
    }
    /* TCP unless only the pty was asked for: two sims with --rtu-pty must
     * not fight over port 1502. */
    if (o->listen) o->mcfg.listen_uri = o->listen;
    else if (!o->mcfg.rtu_pty) o->mcfg.listen_uri = MBS_DEFAULT_LISTEN;
    return 0;
}

/*
 * The program to run: --program FILE (opt), else $CROSSCLIMB_PLC_PROGRAM,
 * else crossclimb.il next to the executable: <exe dir>/../docs/plc/ for a
 * build tree (build/crossclimb), <exe dir>/../share/crossclimb/ for an
 * installed one.  The path goes to out[len] and where it came from to *from
 * ("" or " (from $...)").  Returns 0, or -1 after a message naming the
 * paths tried.
 */
static int find_program(const char *who, const char *opt, char *out, size_t len,
                        const char **from)
{
    static const char *const rel[] = {"/../docs/plc/" SIM_PROGRAM_NAME,
                                      "/../share/crossclimb/" SIM_PROGRAM_NAME};
    char exe[PATH_MAX], tried[2][PATH_MAX + 64];
    const char *env = getenv(SIM_PROGRAM_ENV);
    *from = "";
    if (opt) {
        if (copy_path(out, len, opt) == 0) return 0;
        fprintf(stderr, "%s: --program: path too long\n", who);
        return -1;
    }
    if (env && *env) {
        *from = " (from $" SIM_PROGRAM_ENV ")";
        if (copy_path(out, len, env) == 0) return 0;
        fprintf(stderr, "%s: $" SIM_PROGRAM_ENV ": path too long\n", who);
        return -1;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        fprintf(stderr,
                "%s: cannot find my own executable (/proc/self/exe: %s) to look "
                "for the PLC program; give --program FILE or set $" SIM_PROGRAM_ENV "\n",
                who, n < 0 ? strerror(errno) : "empty");
        return -1;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    for (size_t i = 0; i < 2; i++) {
        int w = snprintf(tried[i], sizeof tried[i], "%s%s", exe, rel[i]);
        if (w < 0 || (size_t)w >= sizeof tried[i]) tried[i][0] = '\0';
        else if (access(tried[i], R_OK) == 0 && copy_path(out, len, tried[i]) == 0) return 0;
    }
    fprintf(stderr,
            "%s: no PLC program found: tried %s and %s; give --program FILE "
            "or set $" SIM_PROGRAM_ENV "\n",
            who, tried[0], tried[1]);
    return -1;
}

/* The PLC program's scan, timed: the cost of the interpreter per run. */
typedef struct {
    fxil_program *prog;
    uint64_t ns;
} timed_logic;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int timed_scan(void *self, fxmem *mem, uint32_t scan_ms)
{
    timed_logic *tl = self;
    uint64_t t0 = mono_ns();
    int rc = fxil_scan(tl->prog, mem, scan_ms);
    tl->ns += mono_ns() - t0;
    return rc;
}

/* Printed once, the moment the plant sees the fall. */
static void report_fall(void *ctx, const phys_state *ps)
{
    const char *who = ctx;
    fprintf(stderr, "%s: FALL at virtual time %llu.%03llu s: %s (%s)\n", who,
            (unsigned long long)(ps->fall_t_us / 1000000u),
            (unsigned long long)(ps->fall_t_us / 1000u % 1000u), ps->fall_reason,
            phys_fall_name(ps->fall));
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

/* The robot's part of the exit summary: fall or minimum safety factor, and
 * the cost per simulated second (bench_sim reads the second line). */
static void robot_summary(const sim_opts *o, const plcsim *ps, const robotplant *rp,
                          const timed_logic *tlg)
{
    const phys_state *ph = &rp->rs.phys;
    struct rusage ru;
    double user_s = 0.0, sys_s = 0.0;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        user_s = tv_s(ru.ru_utime);
        sys_s = tv_s(ru.ru_stime);
    }
    if (ph->fallen)
        fprintf(stderr, "%s: the robot FELL at virtual time %.3f s (%s)\n", o->who,
                (double)ph->fall_t_us * 1e-6, phys_fall_name(ph->fall));
    else
        fprintf(stderr, "%s: no fall; minimum safety factor %.3f at virtual time %.3f s\n",
                o->who, ph->sf_min, (double)ph->sf_min_t_us * 1e-6);
    double sim_s = (double)ps->now_ms * 1e-3;
    double per = sim_s > 0.0 ? 1e6 / sim_s : 0.0; /* us per simulated s, from s */
    fprintf(stderr,
            "%s: cost: physics+sensors %.3f ms, PLC program %.3f ms, truth log %.3f ms "
            "(%llu state lines), process CPU %.3f s user + %.3f s sys\n",
            o->who, (double)rp->plant_ns * 1e-6, (double)tlg->ns * 1e-6,
            (double)rp->truth_ns * 1e-6, (unsigned long long)rp->truth_lines, user_s, sys_s);
    fprintf(stderr,
            "%s: per simulated second: physics+sensors %.1f us, PLC program %.1f us, "
            "truth log %.1f us, process CPU %.1f us\n",
            o->who, (double)rp->plant_ns * 1e-9 * per, (double)tlg->ns * 1e-9 * per,
            (double)rp->truth_ns * 1e-9 * per, (user_s + sys_s) * per);
}

/*
 * The Modbus server's view of a fault scenario: plcsim's hooks (idle time,
 * time by exchange) plus link_silence.  While flt_link_silent says so at
 * the PLC's virtual time, requests are read and dropped.  Time must keep
 * running through the silence (SPEC §8) so that the PLC's watchdog trips:
 * with idle realtime (and --realtime) it runs by the wall clock anyway; with
 * idle frozen only requests move it, so every dropped request advances it
 * by the period hint D204 in force, as an applied command write would,
 * without applying anything.  Reads count too: a controller whose replies
 * stopped re-reads the status block before it writes again (the echo rule),
 * and if those reads did not move time the silence would never end.  A
 * controller that keeps trying therefore sees the watchdog trip after
 * 500 ms of virtual time, and the silence end after its duration.  A real
 * controller waits its response timeout for each unanswered request, not
 * one period: --silence-step-ms says how much virtual time a dropped request
 * stands for (the demo passes its link timeout), so a 2 s silence costs a
 * few timeouts of wall time instead of 2 s / D204 of them.
 */
typedef struct {
    plcsim *ps;
    mbs_hooks plc;           /* plcsim_hooks(ps) */
    const flt_sched *faults;
    uint32_t step_ms;        /* virtual ms per dropped request in frozen idle; 0 = D204 */
} link_glue;

static void link_before(void *owner)
{
    link_glue *g = owner;
    g->plc.before(g->plc.owner);
}

static void link_after(void *owner, const mbs_request_info *info)
{
    link_glue *g = owner;
    g->plc.after(g->plc.owner, info);
}

static int link_silent(void *owner)
{
    link_glue *g = owner;
    return flt_link_silent(g->faults, g->ps->now_ms);
}

static void link_dropped(void *owner, const mbs_request_info *info)
{
    link_glue *g = owner;
    (void)info;
    if (g->ps->cfg.realtime || g->ps->cfg.idle != PLCSIM_IDLE_FROZEN) return;
    /* a STOPped PLC still keeps time; its error is already reported */
    (void)plcsim_advance(g->ps, g->step_ms ? g->step_ms : plcsim_period_ms(g->ps));
}

static mbs_hooks link_hooks(link_glue *g)
{
    mbs_hooks h = {.owner = g,
                   .before = link_before,
                   .after = link_after,
                   .silent = link_silent,
                   .dropped = link_dropped};
    return h;
}

/* Frame dumps: after each input refresh; the first failure is reported
 * once (dumping stops) and makes the exit status 1. */
typedef struct {
    const char *who;
    camsrv *cs;
    int failed;
} dump_glue;

static void dump_tick(void *ctx, const robotplant *rp, uint64_t now_ms)
{
    dump_glue *d = ctx;
    char err[PATH_MAX + 128];
    (void)rp;
    if (camsrv_dump_tick(d->cs, now_ms, err, sizeof err) != 0) {
        fprintf(stderr, "%s: --dump-frames: %s (no more frames are written)\n", d->who, err);
        d->failed = 1;
    }
}

/* Load the fault scenario: 0, or -1 after the loader's file:line:col message. */
static int load_faults(const sim_opts *o, flt_sched **out)
{
    char err[512];
    err[0] = '\0';
    int rc = flt_load_file(o->faults, out, err, sizeof err);
    if (rc == 0) return 0;
    fprintf(stderr, "%s: %s\n", o->who, err[0] ? err : flt_strerror(rc));
    return -1;
}

/* The camera's part of the exit summary. */
static void camera_summary(const sim_opts *o, const camsrv *cs)
{
    const camsrv_stats *c = camsrv_stats_get(cs);
    fprintf(stderr,
            "%s: camera: %llu frames to %llu clients, %llu bad requests, %llu clients stalled, "
            "%llu frames dumped, rendering %.3f ms\n",
            o->who, (unsigned long long)c->frames, (unsigned long long)c->clients,
            (unsigned long long)c->errors, (unsigned long long)c->stalled,
            (unsigned long long)c->dumps, (double)c->render_ns * 1e-6);
}

/* Open the ground-truth log file: 0, or -1 after a message naming it. */
static int open_truth(const sim_opts *o, robotplant *rp, FILE **fp)
{
    *fp = fopen(o->truth, "w");
    if (!*fp) {
        fprintf(stderr, "%s: --truth %s: %s\n", o->who, o->truth, strerror(errno));
        return -1;
    }
    int rc = robotplant_truth_open(rp, *fp, o->truth_ms);
    if (rc != 0) {
        fprintf(stderr, "%s: --truth %s: %s\n", o->who, o->truth, robotplant_strerror(rc));
        fclose(*fp);
        *fp = NULL;
        (void)unlink(o->truth); /* nothing half-written */
        return -1;
    }
    return 0;
}

static int sim_run(sim_opts *o)
{
    /* 40 kB of device memory and the robot: not on the stack */
    static plcsim ps;
    static benchplant bp;
    static robotplant rp;
    fxil_program *prog = NULL;
    facade *fac = NULL;
    robotcfg rcfg;
    int rp_live = 0;
    FILE *truth_fp = NULL;
    benchplant_config bcfg;
    plcsim_plant plant;
    plcsim_logic logic;
    timed_logic tlg = {NULL, 0};
    mbs_server *srv = NULL;
    mbs_hooks hooks;
    flt_sched *faults = NULL;
    link_glue lglue;
    camsrv *cam = NULL;
    camsrv_config ccfg;
    dump_glue dglue = {o->who, NULL, 0};
    plcsim_channel chan = {NULL, NULL, NULL};
    char err[512];
    char path[PATH_MAX], shown[PATH_MAX];
    const char *from = "";
    int exit_code = CLI_EXIT_FAIL;
    struct sigaction sa;
    sigset_t block, waitmask;
    int blocked = 0, rc;

    setvbuf(stdout, NULL, _IOLBF, 0);

    /* The program first: a PLC whose program does not pass the check never
     * goes to RUN, and nothing listens. */
    if (find_program(o->who, o->program, path, sizeof path, &from) != 0) return CLI_EXIT_FAIL;
    err[0] = '\0';
    rc = fxil_load_file(path, &prog, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "%s: %s%s\n", o->who, err[0] ? err : fxil_strerror(rc), from);
        return CLI_EXIT_FAIL;
    }
    if (!realpath(path, shown)) (void)copy_path(shown, sizeof shown, path);

    if (o->robot) {
        /* The loaders' messages name file, line (and column): print them as they are. */
        err[0] = '\0';
        rc = facade_load_file(o->facade, &fac, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "%s: %s\n", o->who, err[0] ? err : facade_strerror(rc));
            goto out;
        }
        if (o->have_start) { /* set down elsewhere than the facade's start point */
            if (!(o->start_mm[0] >= 0.0 && o->start_mm[0] <= facade_width_mm(fac) && o->start_mm[1] >= 0.0 &&
                  o->start_mm[1] <= facade_height_mm(fac))) {
                fprintf(stderr, "%s: --start %g,%g: outside the facade (%g x %g mm)\n", o->who, o->start_mm[0],
                        o->start_mm[1], facade_width_mm(fac), facade_height_mm(fac));
                rc = -1;
                goto out;
            }
            fac->has_start = 1;
            fac->start_x_mm = o->start_mm[0];
            fac->start_y_mm = o->start_mm[1];
        }
        if (o->robot_ini) {
            err[0] = '\0';
            rc = robotcfg_load_file(o->robot_ini, &rcfg, err, sizeof err);
            if (rc != 0) {
                fprintf(stderr, "%s: %s\n", o->who, err[0] ? err : robotcfg_strerror(rc));
                goto out;
            }
        } else {
            robotcfg_defaults(&rcfg);
        }
        if (o->step_us) rcfg.step_us = o->step_us;
        err[0] = '\0';
        rc = robotplant_init(&rp, &rcfg, fac, o->seed, prog, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "%s: %s: the robot cannot start there: %s\n", o->who, o->facade,
                    err[0] ? err : robotplant_strerror(rc));
            goto out;
        }
        rp_live = 1;
        robotplant_on_fall(&rp, report_fall, (void *)o->who);
        if (o->faults) {
            if (load_faults(o, &faults) != 0) goto out;
            rc = robotplant_set_faults(&rp, faults);
            if (rc != 0) {
                fprintf(stderr, "%s: --faults %s: %s\n", o->who, o->faults,
                        robotplant_strerror(rc));
                goto out;
            }
        }
        plant = robotplant_plant(&rp);
        tlg.prog = prog;
        logic.self = &tlg;
        logic.scan = timed_scan;
    } else {
        benchplant_config_default(&bcfg);
        rc = benchplant_init(&bp, &bcfg, prog);
        if (rc != 0) {
            fprintf(stderr, "%s: %s\n", o->who, benchplant_strerror(rc));
            goto out;
        }
        plant = benchplant_plant(&bp);
        logic.self = prog;
        logic.scan = fxil_scan;
    }

    /* SIGINT/SIGTERM only set a flag; they stay blocked except while the loop
     * sleeps in pselect, so a signal can never slip in before the sleep. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN; /* a client gone mid-answer is not a reason to die */
    sigaction(SIGPIPE, &sa, NULL);
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &block, &waitmask) == 0) blocked = 1;
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGTERM);

    if (plcsim_init(&ps, &o->pcfg, logic, &plant) != 0) {
        fprintf(stderr, "%s: bad PLC configuration\n", o->who);
        goto out;
    }
    hooks = plcsim_hooks(&ps);
    if (faults) {
        lglue.ps = &ps;
        lglue.plc = hooks;
        lglue.faults = faults;
        lglue.step_ms = o->silence_step_ms;
        hooks = link_hooks(&lglue);
    }
    rc = mbs_server_open(&srv, &ps.mem, &o->mcfg, &hooks, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", o->who, err[0] ? err : mbs_strerror(rc));
        exit_code = rc == MBS_EURI ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
        goto out;
    }
    if (o->camera || o->dump_dir) {
        camsrv_config_default(&ccfg);
        ccfg.listen_uri = o->camera;
        ccfg.dump_dir = o->dump_dir;
        if (o->dump_every_given) ccfg.dump_every_ms = o->dump_every_ms;
        ccfg.seed = o->seed;
        rc = camsrv_open(&cam, &ccfg, &rp.rs.phys, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "%s: %s%s\n", o->who,
                    rc == CAMSRV_EDUMP ? "--dump-frames " : rc == CAMSRV_EARG ? "" : "--camera ",
                    err[0] ? err : camsrv_strerror(rc));
            exit_code = rc == CAMSRV_EURI ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
            goto out;
        }
        if (o->dump_dir) {
            dglue.cs = cam;
            robotplant_on_input(&rp, dump_tick, &dglue);
        }
    }
    /* The truth log last: a run that cannot start leaves no log behind. */
    if (o->robot && o->truth && open_truth(o, &rp, &truth_fp) != 0) goto out;
    rc = plcsim_start(&ps, plcsim_mono_ns());
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", o->who, plcsim_strerror(rc));
        goto out;
    }
    if (mbs_server_tcp_uri(srv)) printf("listening on %s\n", mbs_server_tcp_uri(srv));
    if (mbs_server_pty_path(srv)) printf("rtu pty %s\n", mbs_server_pty_path(srv));
    if (o->mcfg.pty_link) printf("pty link %s\n", o->mcfg.pty_link);
    printf("program %s (%u steps)%s\n", shown, fxil_steps(prog), from);
    const char *timing = o->pcfg.realtime ? "realtime"
                         : o->pcfg.idle == PLCSIM_IDLE_FROZEN ? "by exchange, frozen when idle"
                                                              : "by exchange, realtime when idle";
    if (o->robot) {
        double car[2];
        phys_carriage_m(&rp.rs.phys, car);
        if (!realpath(o->facade, path)) (void)copy_path(path, sizeof path, o->facade);
        printf("facade %s (%s, %u x %u cells of %u mm, start %.0f %.0f mm)\n", path, fac->name,
               (unsigned)fac->cols, (unsigned)fac->rows, (unsigned)fac->cell_mm, car[0] * 1e3,
               car[1] * 1e3);
        if (o->robot_ini && !realpath(o->robot_ini, path))
            (void)copy_path(path, sizeof path, o->robot_ini);
        printf("robot %s (%.1f kg, step %u us)\n", o->robot_ini ? path : "built-in defaults",
               phys_mass_kg(&rp.rs.phys), (unsigned)rcfg.step_us);
        if (o->truth) {
            if (o->truth_ms)
                printf("truth %s (a state line every %u ms)\n", o->truth, (unsigned)o->truth_ms);
            else
                printf("truth %s (state lines at a fall and at the end)\n", o->truth);
        }
        if (faults) {
            if (!realpath(o->faults, path)) (void)copy_path(path, sizeof path, o->faults);
            printf("faults %s (%zu fault%s)\n", path, faults->n, faults->n == 1 ? "" : "s");
        }
        if (camsrv_uri(cam)) printf("camera on %s\n", camsrv_uri(cam));
        if (o->dump_dir)
            printf("frames %s (one every %u ms of virtual time)\n", o->dump_dir,
                   (unsigned)(o->dump_every_given ? o->dump_every_ms
                                                  : CAMSRV_DUMP_EVERY_MS_DEFAULT));
        /* simproc keeps the ready line: the camera's address goes in it too */
        printf("ready (slave %d, scan %u ms, time %s, robot on %s, seed %llu%s%s)\n",
               o->mcfg.slave, (unsigned)o->pcfg.scan_ms, timing, fac->name,
               (unsigned long long)o->seed, camsrv_uri(cam) ? ", camera " : "",
               camsrv_uri(cam) ? camsrv_uri(cam) : "");
    } else {
        printf("ready (slave %d, scan %u ms, time %s, bench plant)\n", o->mcfg.slave,
               (unsigned)o->pcfg.scan_ms, timing);
    }
    fflush(stdout);

    if (camsrv_uri(cam)) chan = camsrv_channel(cam);
    rc = plcsim_serve_channels(&ps, srv, &chan, camsrv_uri(cam) ? 1u : 0u, &sim_stop,
                               blocked ? &waitmask : NULL);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", o->who, plcsim_strerror(rc));
        goto out;
    }
    const mbs_stats *st = mbs_server_stats(srv);
    fprintf(stderr,
            "%s: stopped at virtual time %llu ms: %llu requests, "
            "%llu command writes, %llu exceptions, %llu bad frames, %llu for other slaves, "
            "%llu scans\n",
            o->who, (unsigned long long)ps.now_ms, (unsigned long long)st->requests,
            (unsigned long long)st->cmd_writes, (unsigned long long)st->exceptions,
            (unsigned long long)st->bad_frames, (unsigned long long)st->foreign,
            (unsigned long long)ps.scans);
    exit_code = CLI_EXIT_OK;
    if (o->robot) {
        robot_summary(o, &ps, &rp, &tlg);
        if (faults)
            fprintf(stderr,
                    "%s: faults: %llu started, %llu ended; link silence dropped %llu requests\n",
                    o->who, (unsigned long long)rp.flt_started, (unsigned long long)rp.flt_ended,
                    (unsigned long long)st->link_dropped);
        if (cam) camera_summary(o, cam);
        if (dglue.failed) exit_code = CLI_EXIT_FAIL;
        if (truth_fp) {
            rc = robotplant_finish(&rp);
            if (fclose(truth_fp) != 0 && rc == 0) rc = ROBOTPLANT_ETRUTH;
            truth_fp = NULL;
            if (rc != 0) {
                fprintf(stderr, "%s: --truth %s: %s\n", o->who, o->truth,
                        robotplant_strerror(rc));
                exit_code = CLI_EXIT_FAIL;
            }
        }
        /* a fall is what a test must not miss: it decides the status */
        if (robotplant_fallen(&rp)) exit_code = SIM_EXIT_FALL;
    }
out:
    mbs_server_close(srv);
    camsrv_close(cam);
    if (rp_live) robotplant_free(&rp); /* before the file: it may still end the log */
    flt_free(faults); /* after the robot it drove */
    if (truth_fp) { /* a run that never got going: no log */
        fclose(truth_fp);
        (void)unlink(o->truth);
    }
    facade_free(fac);
    fxil_free(prog);
    if (blocked) sigprocmask(SIG_UNBLOCK, &block, NULL);
    return exit_code;
}

/* Defaults shared by both simulators. */
static void opts_default(sim_opts *o, int robot)
{
    memset(o, 0, sizeof *o);
    o->robot = robot;
    o->who = robot ? "crossclimb sim" : "crossclimb sim plc";
    plcsim_config_default(&o->pcfg);
    mbs_config_default(&o->mcfg);
    o->mcfg.listen_uri = NULL;
    o->seed = 1;
    o->truth_ms = ROBOTPLANT_TRUTH_MS_DEFAULT;
}

int cmd_sim(int argc, char **argv)
{
    sim_opts o;
    int robot = !(argc >= 2 && !strcmp(argv[1], "plc"));
    if (argc >= 2 && robot && !strcmp(argv[1], "help")) {
        sim_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc >= 2 && robot && argv[1][0] != '-') {
        fprintf(stderr, "crossclimb sim: '%s' is not a simulator or an option; "
                        "'crossclimb sim --facade FILE' runs the robot, "
                        "'crossclimb sim plc' the PLC on a bench\n",
                argv[1]);
        return CLI_EXIT_USAGE;
    }
    opts_default(&o, robot);
    /* sim plc: its own argv[0] is "plc" */
    int r = robot ? parse_opts(argc, argv, &o) : parse_opts(argc - 1, argv + 1, &o);
    if (r > 0) return CLI_EXIT_OK;
    if (r < 0) return CLI_EXIT_USAGE;
    return sim_run(&o);
}
