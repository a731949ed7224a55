/*
 * bench_link.c — the link's cost per control cycle against the simulated PLC
 * over Modbus TCP on loopback (and RTU on a pseudo-terminal), beside the
 * wire-time floor of a real RTU line.
 *
 * Prints: transactions per cycle, bytes per cycle as RTU frames (request +
 * reply) against the control image's minimum (98), cycles per second and
 * mean latency, and the floor per cycle at 9600/19200/38400/115200 baud 8E1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plc_bridge/link.h"
#include "controller/simproc.h"

#define WARMUP 200
#define CYCLES 5000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int run(const char *label, const char *uri_s)
{
    link_uri uri;
    char err[256];
    cc_link *l = NULL;
    cc_status st;
    if (link_uri_parse(uri_s, 0, &uri, err, sizeof err) || link_open(&uri, &l)) {
        fprintf(stderr, "bench_link: %s: %s\n", uri_s, err);
        return 1;
    }
    link_set_log(l, NULL, NULL);
    /* The PLC program powers up in HOLD: a RESET (command 1) first, then the
     * AUTO command 2 for the warm-up and the measured cycles. */
    cc_command r = {1, 0, 0, CC_MODE_RESET, 10};
    if (link_cycle(l, &r, &st, NULL)) {
        fprintf(stderr, "bench_link: %s: %s\n", label, link_last_error(l));
        link_close(l);
        return 1;
    }
    for (int i = 0; i < WARMUP; i++) {
        cc_command c = {2, (uint16_t)(i + 1), CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC, CC_MODE_AUTO, 10};
        if (link_cycle(l, &c, &st, NULL)) {
            fprintf(stderr, "bench_link: %s: %s\n", label, link_last_error(l));
            link_close(l);
            return 1;
        }
    }
    link_stats s0 = *link_get_stats(l);
    double t0 = now_s();
    for (int i = 0; i < CYCLES; i++) {
        cc_command c = {2, (uint16_t)(WARMUP + 1 + i), CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC, CC_MODE_AUTO, 10};
        if (link_cycle(l, &c, &st, NULL)) {
            fprintf(stderr, "bench_link: %s: %s\n", label, link_last_error(l));
            link_close(l);
            return 1;
        }
    }
    double dt = now_s() - t0;
    const link_stats *s = link_get_stats(l);
    double tx = (double)(s->transactions - s0.transactions) / CYCLES;
    double rtu_bytes = (double)(s->rtu_bytes_tx + s->rtu_bytes_rx - s0.rtu_bytes_tx -
                                s0.rtu_bytes_rx) / CYCLES;
    printf("%-28s transactions/cycle %.2f   RTU bytes/cycle %.1f (minimum 98)   "
           "%.0f cycles/s   %.1f us/cycle\n",
           label, tx, rtu_bytes, CYCLES / dt, dt / CYCLES * 1e6);
    link_close(l);
    return 0;
}

int main(void)
{
    static const unsigned bauds[] = {9600, 19200, 38400, 115200};
    simproc sp;
    int rc = 0;
    printf("link benchmark: %d cycles after %d warm-up, simulated PLC with frozen idle time\n",
           CYCLES, WARMUP);
    const char *tcp_args[] = {"--listen", "tcp://127.0.0.1:0", "--rtu-pty", "--idle", "frozen",
                              NULL};
    if (simproc_start(&sp, NULL, tcp_args)) {
        fprintf(stderr, "bench_link: cannot start the simulated PLC\n");
        return 1;
    }
    char uri[256];
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d?timeout_ms=1000", sp.tcp_port);
    rc |= run("FC 0x17, TCP loopback", uri);
    snprintf(uri, sizeof uri, "rtu:%s?timeout_ms=1000", sp.pty_path);
    rc |= run("FC 0x17, RTU on a pty", uri);
    simproc_stop(&sp);

    const char *fb_args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen", "--no-fc17",
                             NULL};
    if (simproc_start(&sp, NULL, fb_args) == 0) {
        snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d?timeout_ms=1000", sp.tcp_port);
        rc |= run("FC 0x10 + 0x03 fallback, TCP", uri);
        simproc_stop(&sp);
    }

    /* 0x17: 29-byte request + 69-byte reply; fallback: 0x10 25 + 8, 0x03 8 + 69 */
    printf("\nwire-time floor per cycle, RTU 8E1 (11 bits a character, 3.5-character gaps, "
           "1.75 ms above 19200):\n");
    printf("%8s  %14s  %10s  %22s\n", "baud", "FC 0x17 (98 B)", "cycles/s", "fallback (110 B, 2 tx)");
    for (size_t i = 0; i < sizeof bauds / sizeof bauds[0]; i++) {
        double f17 = link_wire_floor_ms(bauds[i], 29, 69);
        double fb = link_wire_floor_ms(bauds[i], 25, 8) + link_wire_floor_ms(bauds[i], 8, 69);
        printf("%8u  %11.2f ms  %10.1f  %19.2f ms\n", bauds[i], f17, 1000.0 / f17, fb);
    }
    return rc;
}
