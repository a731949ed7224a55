/*
 * cmd_demo.c — `crossclimb demo`: the main job on its built-in default.
 *
 * Until the controller lands, the demo proves the spine end to end: it
 * starts the simulated FX PLC as its own process (SPEC §3: never linked,
 * reached over Modbus TCP on loopback exactly like a real PLC gateway),
 * acknowledges the power-up HOLD, commands both groups to grip in AUTO, runs
 * control cycles (one FC 0x17 transaction each) and prints what it read and
 * what the link cost.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "controller/simproc.h"
#include "plc_bridge/image.h"
#include "plc_bridge/link.h"
#include "plc_bridge/uri.h"

#define DEMO_CYCLES_DEFAULT 200
#define DEMO_PERIOD_MS 10

static void demo_usage(FILE *f)
{
    fprintf(f, "usage: crossclimb demo [--plc URI] [--cycles N]\n"
               "\n"
               "Without --plc, starts the simulated PLC (crossclimb sim plc) as its own process on\n"
               "loopback and talks to it over Modbus TCP.  Acknowledges the power-up HOLD, commands\n"
               "both foot groups to grip in AUTO, runs N control cycles (default %d, %d ms each in\n"
               "the PLC's virtual time) and prints the status block and the link statistics.\n",
            DEMO_CYCLES_DEFAULT, DEMO_PERIOD_MS);
}

/* Cycle until the PLC echoes seq (or gives up after max cycles).
 * Returns 0 when echoed, 1 when not, or a negative LINK_E* code. */
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

int cmd_demo(int argc, char **argv)
{
    const char *plc = NULL;
    long cycles = DEMO_CYCLES_DEFAULT;
    simproc sp;
    int have_sim = 0, rc = CLI_EXIT_FAIL;
    cc_link *l = NULL;
    char uri_s[256], err[256], exe[PATH_MAX];
    link_uri uri;
    cc_status st;

    setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines appear as they happen */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            demo_usage(stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(argv[i], "--plc") && i + 1 < argc) {
            plc = argv[++i];
        } else if (!strcmp(argv[i], "--cycles") && i + 1 < argc) {
            char *end;
            errno = 0;
            cycles = strtol(argv[++i], &end, 10);
            if (errno || *end || cycles < 1 || cycles > 10000000L) {
                fprintf(stderr, "crossclimb demo: --cycles %s: expected 1..10000000\n", argv[i]);
                return CLI_EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "crossclimb demo: unknown argument '%s'\n", argv[i]);
            demo_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }

    if (!plc) {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) {
            fprintf(stderr, "crossclimb demo: cannot find my own executable: %s\n", strerror(errno));
            return CLI_EXIT_FAIL;
        }
        exe[n] = '\0';
        const char *args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen", NULL};
        printf("demo: starting the simulated PLC: %s sim plc %s %s %s %s\n", exe, args[0], args[1],
               args[2], args[3]);
        int sr = simproc_start(&sp, exe, args);
        if (sr) {
            fprintf(stderr, "crossclimb demo: the simulated PLC did not start: %s\n",
                    simproc_strerror(sr));
            return CLI_EXIT_FAIL;
        }
        have_sim = 1;
        printf("demo: simulated PLC pid %ld: %s\n", (long)sp.pid, sp.ready);
        snprintf(uri_s, sizeof uri_s, "%s?timeout_ms=1000", sp.tcp_uri);
        plc = uri_s;
    }
    if (link_uri_parse(plc, 0, &uri, err, sizeof err)) {
        fprintf(stderr, "crossclimb demo: --plc '%s': %s\n", plc, err);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (link_open(&uri, &l) || link_connect(l)) {
        fprintf(stderr, "crossclimb demo: %s: %s\n", plc, l ? link_last_error(l) : "no memory");
        goto out;
    }
    printf("demo: connected to %s\n", plc);

    if (link_read_status(l, &st, NULL)) {
        fprintf(stderr, "crossclimb demo: reading the status block: %s\n", link_last_error(l));
        goto out;
    }
    printf("demo: power-up status (PLC program version %u):\n", (unsigned)st.version);
    cli_print_status(stdout, &st, l);

    /* Acknowledge the power-up HOLD, then AUTO with both groups gripping:
     * the robot's safe state on the wall. */
    cc_command c = {.seq = (uint16_t)(st.seq_echo + 1u), .heartbeat = st.heartbeat_echo,
                    .outputs = CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC, .mode = CC_MODE_RESET,
                    .period_ms = DEMO_PERIOD_MS};
    int e = cycle_until_echo(l, &c, &st, 20);
    if (e) {
        fprintf(stderr, "crossclimb demo: RESET not accepted (%s)\n",
                e < 0 ? link_strerror(e) : "no echo");
        goto out;
    }
    printf("demo: RESET accepted (sequence %u)\n", (unsigned)c.seq);
    c.seq++;
    c.mode = CC_MODE_AUTO;
    e = cycle_until_echo(l, &c, &st, 20);
    if (e) {
        fprintf(stderr, "crossclimb demo: AUTO not accepted (%s)\n",
                e < 0 ? link_strerror(e) : "no echo");
        goto out;
    }
    printf("demo: AUTO accepted (sequence %u): both groups grip\n", (unsigned)c.seq);
    link_stats s0 = *link_get_stats(l);
    for (long i = 0; i < cycles; i++) {
        c.heartbeat++;
        int lr = link_cycle(l, &c, &st, NULL);
        if (lr) {
            fprintf(stderr, "crossclimb demo: cycle %ld: %s (%s)\n", i + 1, link_strerror(lr),
                    link_last_error(l));
            goto out;
        }
        if ((i + 1) % 50 == 0 || i + 1 == cycles)
            printf("demo: cycle %ld  tick %u  D105 %u  D106 %u  flags 0x%04x  cup A1a %.1f kPa\n",
                   i + 1, (unsigned)st.tick, (unsigned)st.seq_echo, (unsigned)st.heartbeat_echo,
                   (unsigned)st.flags, (double)st.cup_kpa[0]);
    }
    printf("demo: status after %ld cycles:\n", cycles);
    cli_print_status(stdout, &st, l);
    const link_stats *s = link_get_stats(l);
    printf("demo: link: %llu cycles, %llu transactions, %.1f transactions and %.1f RTU bytes per "
           "steady cycle (minimum 1 and 98), latency min/mean/max %.3f/%.3f/%.3f ms, timeouts %llu, "
           "exceptions %llu\n",
           (unsigned long long)s->cycles, (unsigned long long)s->transactions,
           (double)(s->transactions - s0.transactions) / (double)cycles,
           (double)(s->rtu_bytes_tx + s->rtu_bytes_rx - s0.rtu_bytes_tx - s0.rtu_bytes_rx) /
               (double)cycles,
           s->latency_min_ms, s->latency_n ? s->latency_sum_ms / (double)s->latency_n : 0.0,
           s->latency_max_ms, (unsigned long long)s->timeouts,
           (unsigned long long)s->exceptions);
    printf("result: outcome=link-demo-ok cycles=%llu transactions=%llu held=%s\n",
           (unsigned long long)s->cycles, (unsigned long long)s->transactions,
           (st.flags & CC_FLAG_HOLD) ? "yes" : "no");
    rc = CLI_EXIT_OK;
out:
    link_close(l);
    if (have_sim) {
        int x = simproc_stop(&sp);
        if (x != 0 && rc == CLI_EXIT_OK) {
            fprintf(stderr, "crossclimb demo: the simulated PLC exited with status %d\n", x);
            rc = CLI_EXIT_FAIL;
        }
    }
    return rc;
}
