/*
 * cmd_sim.c — `crossclimb sim MODE ...`: the simulators.
 *
 * Only `sim plc` exists for now: the simulated FX PLC (sim/plcsim) running
 * the instruction-list PLC program (sim/fxil, docs/plc/crossclimb.il by
 * default) over the bench plant (sim/benchplant) behind a Modbus TCP and/or
 * RTU-on-pty slave (sim/mbserver).  The robot simulator comes as another
 * plant.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sim/benchplant.h"
#include "sim/fxil.h"
#include "sim/mbserver.h"
#include "sim/plcsim.h"

#define SIM_PROGRAM_ENV "CROSSCLIMB_PLC_PROGRAM"
#define SIM_PROGRAM_NAME "crossclimb.il"

static volatile sig_atomic_t sim_stop;

static void on_signal(int sig)
{
    (void)sig;
    sim_stop = 1;
}

static void sim_usage(FILE *f)
{
    fprintf(f,
            "usage: crossclimb sim MODE [OPTIONS]\n"
            "\n"
            "modes:\n"
            "  plc      the simulated FX PLC running the PLC program: Modbus TCP / RTU slave\n"
            "\n"
            "'crossclimb sim plc --help' lists its options.  The robot simulator\n"
            "(facades, physics, faults) is not built yet.\n");
}

static void plc_usage(FILE *f)
{
    fprintf(f,
            "usage: crossclimb sim plc [OPTIONS]\n"
            "\n"
            "A simulated Mitsubishi FX PLC answering like an FX3 MODBUS slave (standard\n"
            "device assignment: D0-D8511, M0-M8511, S, T, C, Y0-Y377, X0-X377) and running\n"
            "the PLC program, an FX1N instruction list, every scan over a bench plant (the\n"
            "robot's I/O on a test bench; D7900-D7903 force inputs, for tests).\n"
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
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val)
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
        fprintf(stderr, "crossclimb sim plc: %s needs a value\n", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

/* Whole decimal number in [min, max] or a message naming the option. */
static int parse_uint(const char *name, const char *s, unsigned long min, unsigned long max,
                      unsigned long *out)
{
    char *end;
    if (*s < '0' || *s > '9') goto bad;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max) goto bad;
    *out = v;
    return 0;
bad:
    fprintf(stderr, "crossclimb sim plc: %s '%s': must be a whole number %lu..%lu\n", name, s,
            min, max);
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
 * The program to run: --program FILE (opt), else $CROSSCLIMB_PLC_PROGRAM,
 * else crossclimb.il next to the executable: <exe dir>/../docs/plc/ for a
 * build tree (build/crossclimb), <exe dir>/../share/crossclimb/ for an
 * installed one.  The path goes to out[len] and where it came from to *from
 * ("" or " (from $...)").  Returns 0, or -1 after a message naming the
 * paths tried.
 */
static int find_program(const char *opt, char *out, size_t len, const char **from)
{
    static const char *const rel[] = {"/../docs/plc/" SIM_PROGRAM_NAME,
                                      "/../share/crossclimb/" SIM_PROGRAM_NAME};
    char exe[PATH_MAX], tried[2][PATH_MAX + 64];
    const char *env = getenv(SIM_PROGRAM_ENV);
    *from = "";
    if (opt) {
        if (copy_path(out, len, opt) == 0) return 0;
        fprintf(stderr, "crossclimb sim plc: --program: path too long\n");
        return -1;
    }
    if (env && *env) {
        *from = " (from $" SIM_PROGRAM_ENV ")";
        if (copy_path(out, len, env) == 0) return 0;
        fprintf(stderr, "crossclimb sim plc: $" SIM_PROGRAM_ENV ": path too long\n");
        return -1;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        fprintf(stderr,
                "crossclimb sim plc: cannot find my own executable (/proc/self/exe: %s) to look "
                "for the PLC program; give --program FILE or set $" SIM_PROGRAM_ENV "\n",
                n < 0 ? strerror(errno) : "empty");
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
            "crossclimb sim plc: no PLC program found: tried %s and %s; give --program FILE "
            "or set $" SIM_PROGRAM_ENV "\n",
            tried[0], tried[1]);
    return -1;
}

static int sim_plc(int argc, char **argv)
{
    static plcsim ps;    /* 40 kB of device memory: not on the stack */
    static benchplant bp;
    fxil_program *prog = NULL;
    benchplant_config bcfg;
    plcsim_plant plant;
    plcsim_logic logic;
    plcsim_config pcfg;
    mbs_config mcfg;
    mbs_server *srv = NULL;
    mbs_hooks hooks;
    char err[512];
    char path[PATH_MAX], shown[PATH_MAX];
    const char *listen = NULL, *program = NULL, *from = "";
    int exit_code = CLI_EXIT_FAIL;
    struct sigaction sa;
    sigset_t block, waitmask;
    int blocked = 0, rc;

    plcsim_config_default(&pcfg);
    mbs_config_default(&mcfg);
    mcfg.listen_uri = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        unsigned long n;
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            plc_usage(stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(a, "--rtu-pty")) {
            mcfg.rtu_pty = 1;
        } else if (!strcmp(a, "--realtime")) {
            pcfg.realtime = 1;
        } else if (!strcmp(a, "--no-fc17")) {
            mcfg.no_fc17 = 1;
        } else if ((r = opt_value(argc, argv, &i, "--listen", &v)) != 0) {
            char host[256];
            uint16_t port;
            if (r < 0) return CLI_EXIT_USAGE;
            if (mbs_parse_tcp_uri(v, host, sizeof host, &port, err, sizeof err) != 0) {
                fprintf(stderr, "crossclimb sim plc: --listen %s\n", err);
                return CLI_EXIT_USAGE;
            }
            listen = v;
        } else if ((r = opt_value(argc, argv, &i, "--program", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (!*v) {
                fprintf(stderr, "crossclimb sim plc: --program needs a file\n");
                return CLI_EXIT_USAGE;
            }
            program = v;
        } else if ((r = opt_value(argc, argv, &i, "--pty-link", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (!*v) {
                fprintf(stderr, "crossclimb sim plc: --pty-link needs a path\n");
                return CLI_EXIT_USAGE;
            }
            mcfg.pty_link = v;
            mcfg.rtu_pty = 1;
        } else if ((r = opt_value(argc, argv, &i, "--slave", &v)) != 0) {
            if (r < 0 || parse_uint("--slave", v, 1, 247, &n)) return CLI_EXIT_USAGE;
            mcfg.slave = (int)n;
        } else if ((r = opt_value(argc, argv, &i, "--scan-ms", &v)) != 0) {
            if (r < 0 || parse_uint("--scan-ms", v, 1, PLCSIM_SCAN_MS_MAX, &n))
                return CLI_EXIT_USAGE;
            pcfg.scan_ms = (uint32_t)n;
        } else if ((r = opt_value(argc, argv, &i, "--idle", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (!strcmp(v, "realtime")) {
                pcfg.idle = PLCSIM_IDLE_REALTIME;
            } else if (!strcmp(v, "frozen")) {
                pcfg.idle = PLCSIM_IDLE_FROZEN;
            } else {
                fprintf(stderr, "crossclimb sim plc: --idle '%s': must be realtime or frozen\n", v);
                return CLI_EXIT_USAGE;
            }
        } else if ((r = opt_value(argc, argv, &i, "--drop-reply", &v)) != 0) {
            if (r < 0 || parse_uint("--drop-reply", v, 1, 0xFFFFFFFFul, &n)) return CLI_EXIT_USAGE;
            mcfg.drop_reply = (unsigned)n;
        } else if ((r = opt_value(argc, argv, &i, "--silent-after", &v)) != 0) {
            if (r < 0 || parse_uint("--silent-after", v, 1, 0xFFFFFFFFul, &n))
                return CLI_EXIT_USAGE;
            mcfg.silent_after = (unsigned)n;
        } else {
            fprintf(stderr, "crossclimb sim plc: unknown argument '%s' (see --help)\n", a);
            return CLI_EXIT_USAGE;
        }
    }
    /* TCP unless only the pty was asked for: two sims with --rtu-pty must
     * not fight over port 1502. */
    if (listen) mcfg.listen_uri = listen;
    else if (!mcfg.rtu_pty) mcfg.listen_uri = MBS_DEFAULT_LISTEN;

    setvbuf(stdout, NULL, _IOLBF, 0);

    /* The program first: a PLC whose program does not pass the check never
     * goes to RUN, and nothing listens. */
    if (find_program(program, path, sizeof path, &from) != 0) return CLI_EXIT_FAIL;
    err[0] = '\0';
    rc = fxil_load_file(path, &prog, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "crossclimb sim plc: %s%s\n", err[0] ? err : fxil_strerror(rc), from);
        return CLI_EXIT_FAIL;
    }
    if (!realpath(path, shown)) (void)copy_path(shown, sizeof shown, path);

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

    benchplant_config_default(&bcfg);
    rc = benchplant_init(&bp, &bcfg, prog);
    if (rc != 0) {
        fprintf(stderr, "crossclimb sim plc: %s\n", benchplant_strerror(rc));
        goto out;
    }
    plant = benchplant_plant(&bp);
    logic.self = prog;
    logic.scan = fxil_scan;
    if (plcsim_init(&ps, &pcfg, logic, &plant) != 0) {
        fprintf(stderr, "crossclimb sim plc: bad PLC configuration\n");
        goto out;
    }
    hooks = plcsim_hooks(&ps);
    rc = mbs_server_open(&srv, &ps.mem, &mcfg, &hooks, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "crossclimb sim plc: %s\n", err[0] ? err : mbs_strerror(rc));
        exit_code = rc == MBS_EURI ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
        goto out;
    }
    rc = plcsim_start(&ps, plcsim_mono_ns());
    if (rc != 0) {
        fprintf(stderr, "crossclimb sim plc: %s\n", plcsim_strerror(rc));
        goto out;
    }
    if (mbs_server_tcp_uri(srv)) printf("listening on %s\n", mbs_server_tcp_uri(srv));
    if (mbs_server_pty_path(srv)) printf("rtu pty %s\n", mbs_server_pty_path(srv));
    if (mcfg.pty_link) printf("pty link %s\n", mcfg.pty_link);
    printf("program %s (%u steps)%s\n", shown, fxil_steps(prog), from);
    printf("ready (slave %d, scan %u ms, time %s, bench plant)\n", mcfg.slave,
           (unsigned)pcfg.scan_ms,
           pcfg.realtime ? "realtime"
           : pcfg.idle == PLCSIM_IDLE_FROZEN ? "by exchange, frozen when idle"
                                             : "by exchange, realtime when idle");
    fflush(stdout);

    rc = plcsim_serve(&ps, srv, &sim_stop, blocked ? &waitmask : NULL);
    if (rc != 0) {
        fprintf(stderr, "crossclimb sim plc: %s\n", plcsim_strerror(rc));
        goto out;
    }
    const mbs_stats *st = mbs_server_stats(srv);
    fprintf(stderr,
            "crossclimb sim plc: stopped at virtual time %llu ms: %llu requests, "
            "%llu command writes, %llu exceptions, %llu bad frames, %llu for other slaves, "
            "%llu scans\n",
            (unsigned long long)ps.now_ms, (unsigned long long)st->requests,
            (unsigned long long)st->cmd_writes, (unsigned long long)st->exceptions,
            (unsigned long long)st->bad_frames, (unsigned long long)st->foreign,
            (unsigned long long)ps.scans);
    exit_code = CLI_EXIT_OK;
out:
    mbs_server_close(srv);
    fxil_free(prog);
    if (blocked) sigprocmask(SIG_UNBLOCK, &block, NULL);
    return exit_code;
}

int cmd_sim(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "crossclimb sim: which simulator? Only 'plc' exists for now "
                        "(the robot simulator comes next).\n");
        sim_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        sim_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "plc")) return sim_plc(argc - 1, argv + 1);
    fprintf(stderr, "crossclimb sim: '%s' is not a simulator; only 'plc' exists for now\n",
            argv[1]);
    sim_usage(stderr);
    return CLI_EXIT_USAGE;
}
