/*
 * bench_sim.c — how fast the robot simulator runs with a client in the loop:
 * `crossclimb sim --facade sim/facades/default.txt --idle frozen` as its own
 * process, a scripted client cycling FC 0x17 (write D200-D204, read
 * D100-D131) over Modbus TCP on loopback, as the controller does.
 *
 * Prints per scenario: simulated seconds per wall second (the SPEC §11 goal
 * is >= 1000x), wall us per cycle, and the cost per simulated second from
 * the sim's own counters (its exit summary: physics+sensors, PLC program,
 * truth log, whole process CPU) and the client's CPU.  Scenarios: holding
 * and walking (a reactive half-step gait: release, lift, stroke, lower,
 * grip, alternating groups and directions) at D204 = 10 ms; holding at
 * D204 = 60 ms (a 19200-baud RTU cycle); walking with the truth log on.
 *
 * A lock-step client and sim hand the CPU to each other twice a cycle; on
 * two CPUs every hand-over is a cross-CPU wake-up, which in a VM costs far
 * more than the work.  The "one CPU" scenarios pin the bench and the sim to
 * one CPU (sched_setaffinity, inherited by the child): the arrangement for
 * a campaign of runs (one client+sim pair per CPU).
 *
 * The sim's stderr goes to a scratch file (the bench's stderr is
 * redirected around the spawn) so its summary can be read.
 */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#include <errno.h>
#include <sched.h>
#include <modbus.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "controller/simproc.h"
#include "plc_bridge/regmap.h"

#define WARMUP 200
#define Y_GRIP (CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC)

typedef struct {
    const char *label;
    int walk;          /* 1: the gait; 0: both groups holding */
    uint16_t period_ms;
    int truth;         /* 1: --truth FILE (a state line every 100 ms) */
    int one_cpu;       /* 1: client and sim pinned to one CPU */
    unsigned cycles;
} scenario;

/* What the sim says at exit (its summary on stderr). */
typedef struct {
    unsigned long long virt_ms;
    double phys_us, plc_us, truth_us, cpu_us; /* per simulated second */
    int ok;
} sim_costs;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(int who)
{
    struct rusage ru;
    if (getrusage(who, &ru) != 0) return 0.0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* ------------------------------------------------------------ the client */

typedef struct {
    modbus_t *ctx;
    uint16_t seq, hb, out, mode, period;
    uint16_t st[CC_STATUS_COUNT];
    unsigned refused;
    /* gait */
    unsigned half;  /* half-steps begun */
    int phase;
} client;

/* One FC 0x17 cycle: the reply shows the scans before this write. */
static int cycle(client *c)
{
    uint16_t cmd[5] = {c->seq, ++c->hb, c->out, c->mode, c->period};
    int rc = modbus_write_and_read_registers(c->ctx, CC_CMD_FIRST, 5, cmd, CC_STATUS_FIRST,
                                             CC_STATUS_COUNT, c->st);
    if (rc != CC_STATUS_COUNT) {
        fprintf(stderr, "bench_sim: FC 0x17: %s\n", modbus_strerror(errno));
        return -1;
    }
    if (c->st[CC_ST_FLAGS] & CC_FLAG_REJECTED) c->refused++;
    return 0;
}

static void command(client *c, uint16_t out, uint16_t mode)
{
    if (out == c->out && mode == c->mode) return;
    c->seq++;
    c->out = out;
    c->mode = mode;
}

static uint32_t xw(const client *c)
{
    return (uint32_t)c->st[CC_ST_X_LO] | (uint32_t)c->st[CC_ST_X_HI] << 16;
}

static int cups_all(const client *c, unsigned g, int sealed)
{
    for (unsigned i = 0; i < 6; i++) {
        uint16_t v = c->st[CC_ST_CUP_FIRST + g * 6 + i];
        if (sealed ? v < 450 : v > 100) return 0;
    }
    return 1;
}

/*
 * The gait, one decision per cycle from the (one cycle old) status:
 * half-steps (A X+), (B Y+), (A X-), (B Y-), ... — back and forth, so the
 * robot never walks off the facade.
 */
static void gait(client *c)
{
    static const uint16_t strokes[4] = {CC_Y_X_PLUS, CC_Y_Y_PLUS, CC_Y_X_MINUS, CC_Y_Y_MINUS};
    static const uint32_t ends[4] = {CC_X_XCYL_PLUS_END, CC_X_YCYL_PLUS_END, CC_X_XCYL_MINUS_END,
                                     CC_X_YCYL_MINUS_END};
    unsigned k = c->half % 4, g = k % 2;
    uint16_t down = g ? CC_Y_B_DOWN : CC_Y_A_DOWN, vac = g ? CC_Y_B_VAC : CC_Y_A_VAC;
    uint16_t blow = g ? CC_Y_B_BLOW : CC_Y_A_BLOW;
    uint16_t keep = g ? (CC_Y_A_DOWN | CC_Y_A_VAC) : (CC_Y_B_DOWN | CC_Y_B_VAC);
    uint32_t up_x = g ? CC_X_B_UP : CC_X_A_UP, down_x = g ? CC_X_B_DOWN : CC_X_A_DOWN;
    uint32_t x = xw(c);
    switch (c->phase) {
    case 0: /* release */
        command(c, keep | down | blow, CC_MODE_AUTO);
        if (cups_all(c, g, 0)) c->phase = 1;
        break;
    case 1: /* lift */
        command(c, keep, CC_MODE_AUTO);
        if ((x & (up_x | down_x)) == up_x) c->phase = 2;
        break;
    case 2: /* stroke to the end switch */
        command(c, keep | strokes[k], CC_MODE_AUTO);
        if (x & ends[k]) c->phase = 3;
        break;
    case 3: /* lower */
        command(c, keep | down, CC_MODE_AUTO);
        if (x & down_x) c->phase = 4;
        break;
    default: /* grip until sealed, then the next half-step */
        command(c, keep | down | vac, CC_MODE_AUTO);
        if (cups_all(c, g, 1)) {
            c->phase = 0;
            c->half++;
        }
        break;
    }
}

/* ------------------------------------------------------------- the sim */

static void read_costs(const char *path, sim_costs *sc)
{
    char line[1024];
    FILE *f = fopen(path, "r");
    memset(sc, 0, sizeof *sc);
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        const char *p;
        if ((p = strstr(line, "stopped at virtual time ")) != NULL)
            (void)sscanf(p, "stopped at virtual time %llu ms", &sc->virt_ms);
        if ((p = strstr(line, "per simulated second: ")) != NULL &&
            sscanf(p,
                   "per simulated second: physics+sensors %lf us, PLC program %lf us, "
                   "truth log %lf us, process CPU %lf us",
                   &sc->phys_us, &sc->plc_us, &sc->truth_us, &sc->cpu_us) == 4)
            sc->ok = 1;
    }
    fclose(f);
}

/* Start the sim with its stderr into errpath. */
static int start_sim(simproc *sp, const char *facade, const char *truth, const char *errpath)
{
    const char *argv[16];
    int n = 0;
    const char *bin = getenv("CROSSCLIMB_BIN");
    argv[n++] = bin && *bin ? bin : "build/crossclimb";
    argv[n++] = "sim";
    argv[n++] = "--facade";
    argv[n++] = facade;
    argv[n++] = "--listen";
    argv[n++] = "tcp://127.0.0.1:0";
    argv[n++] = "--idle";
    argv[n++] = "frozen";
    if (truth) {
        argv[n++] = "--truth";
        argv[n++] = truth;
    }
    argv[n] = NULL;
    FILE *ef = fopen(errpath, "w");
    if (!ef) return -1;
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(ef), STDERR_FILENO);
    int rc = simproc_spawn(sp, argv);
    dup2(saved, STDERR_FILENO);
    close(saved);
    fclose(ef);
    if (rc != 0) fprintf(stderr, "bench_sim: cannot start the sim: %s\n", simproc_strerror(rc));
    return rc;
}

static int run(const scenario *s, const char *facade, const char *dir)
{
    char errpath[512], truth[512];
    simproc sp;
    client c;
    sim_costs sc;
    cpu_set_t all, one;
    int rc = 1, started = 0, pinned = 0;
    memset(&c, 0, sizeof c);
    c.period = s->period_ms;
    snprintf(errpath, sizeof errpath, "%s/sim.err", dir);
    snprintf(truth, sizeof truth, "%s/truth.jsonl", dir);
    if (s->one_cpu && sched_getaffinity(0, sizeof all, &all) == 0) {
        CPU_ZERO(&one);
        for (int k = 0; k < CPU_SETSIZE; k++)
            if (CPU_ISSET(k, &all)) {
                CPU_SET(k, &one);
                break;
            }
        pinned = sched_setaffinity(0, sizeof one, &one) == 0;
    }
    if (start_sim(&sp, facade, s->truth ? truth : NULL, errpath) != 0) goto done;
    started = 1;
    c.ctx = modbus_new_tcp("127.0.0.1", sp.tcp_port);
    if (!c.ctx || modbus_connect(c.ctx) != 0) {
        fprintf(stderr, "bench_sim: connect: %s\n", modbus_strerror(errno));
        goto done;
    }
    modbus_set_response_timeout(c.ctx, 2, 0);
    command(&c, 0, CC_MODE_RESET);
    if (cycle(&c)) goto done;
    command(&c, Y_GRIP, CC_MODE_AUTO);
    for (int i = 0; i < WARMUP; i++)
        if (cycle(&c)) goto done;

    double cpu0 = cpu_s(RUSAGE_SELF), t0 = now_s();
    for (unsigned i = 0; i < s->cycles; i++) {
        if (s->walk) gait(&c);
        if (cycle(&c)) goto done;
    }
    double wall = now_s() - t0, client_cpu = cpu_s(RUSAGE_SELF) - cpu0;
    if (c.st[CC_ST_FLAGS] & CC_FLAG_HOLD) {
        fprintf(stderr, "bench_sim: %s: the PLC went to HOLD (reason %u)\n", s->label,
                c.st[CC_ST_HOLD_REASON]);
        goto done;
    }
    modbus_close(c.ctx);
    modbus_free(c.ctx);
    c.ctx = NULL;
    started = 0;
    int st = simproc_stop(&sp);
    read_costs(errpath, &sc);
    if (st != 0 || !sc.ok) {
        fprintf(stderr, "bench_sim: %s: the sim exited %d%s\n", s->label, st,
                sc.ok ? "" : " without its cost summary");
        goto done;
    }
    double sim_s = (double)s->cycles * s->period_ms * 1e-3;
    printf("%-36s %6.0fx %7.1f %8.1f | %7.0f %7.0f %7.0f %7.0f %7.0f | %3u %3u\n", s->label,
           sim_s / wall, wall / s->cycles * 1e6, sim_s, sc.phys_us, sc.plc_us, sc.truth_us,
           sc.cpu_us, client_cpu / sim_s * 1e6, c.half, c.refused);
    rc = 0;
done:
    if (c.ctx) {
        modbus_close(c.ctx);
        modbus_free(c.ctx);
    }
    if (started) (void)simproc_stop(&sp);
    if (pinned) (void)sched_setaffinity(0, sizeof all, &all);
    return rc;
}

int main(void)
{
    static const scenario scenarios[] = {
        {"holding, D204 10 ms, 2 CPUs", 0, 10, 0, 0, 20000},
        {"walking, D204 10 ms, 2 CPUs", 1, 10, 0, 0, 20000},
        {"holding, D204 10 ms, one CPU", 0, 10, 0, 1, 20000},
        {"walking, D204 10 ms, one CPU", 1, 10, 0, 1, 20000},
        {"walking, D204 10 ms, one CPU, --truth", 1, 10, 1, 1, 20000},
        {"walking, D204 60 ms, one CPU", 1, 60, 0, 1, 5000},
    };
    char facade[4096], dir[256];
    const char *src = getenv("CROSSCLIMB_SRC"), *tmp = getenv("TMPDIR");
    snprintf(facade, sizeof facade, "%s/sim/facades/default.txt", src && *src ? src : ".");
    snprintf(dir, sizeof dir, "%s/bench_sim.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bench_sim: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    printf("robot simulator benchmark: crossclimb sim --facade sim/facades/default.txt "
           "--idle frozen,\na scripted client cycling FC 0x17 over TCP loopback "
           "(%d warm-up cycles, then 20000 at 10 ms / 5000 at 60 ms)\n\n",
           WARMUP);
    printf("%-36s %7s %7s %8s | %-39s | %s\n", "", "speed", "wall", "sim", "CPU us per simulated s",
           "half");
    printf("%-36s %7s %7s %8s | %7s %7s %7s %7s %7s | %3s %3s\n", "scenario", "x real",
           "us/cyc", "s", "physics", "PLC", "truth", "sim", "client", "stp", "ref");
    int rc = 0;
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        rc |= run(&scenarios[i], facade, dir);
    printf("\nspeed: simulated s per wall s; us/cyc: wall time per FC 0x17 cycle; CPU per "
           "simulated s: the sim's physics+sensors,\nPLC program, truth log and whole process "
           "(its own counters, at exit), and this client; stp: half-steps walked; ref: "
           "cycles\nwith a refused command (D100 b4).  Goal (SPEC 11): >= 1000x real time.\n");
    char p[512];
    snprintf(p, sizeof p, "%s/sim.err", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/truth.jsonl", dir);
    unlink(p);
    rmdir(dir);
    return rc;
}
