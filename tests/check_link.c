/*
 * check_link.c — the supervised link against real peers, each its own
 * process: the simulated FX PLC (`crossclimb sim plc`) over Modbus TCP on
 * loopback and over RTU on a pseudo-terminal pair, and a Modbus server built
 * on Debian's python3-pymodbus (tests/peers/pymodbus_plc.py) standing in for
 * a PLC whose stack nobody here wrote.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plc_bridge/link.h"
#include "plc_bridge/uri.h"
#include "controller/simproc.h"

/* Log sink that counts notices and keeps the last one. */
typedef struct {
    int n;
    char last[400];
} log_capture;

static void capture_log(void *user, const char *msg)
{
    log_capture *c = user;
    c->n++;
    snprintf(c->last, sizeof c->last, "%s", msg);
}

static void start_sim(simproc *sp, const char *const *args)
{
    int rc = simproc_start(sp, NULL, args);
    ck_assert_msg(rc == 0, "simulated PLC did not start: %s", simproc_strerror(rc));
}

static void start_pymodbus(simproc *sp, int no_fc17)
{
    const char *py = getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
    const char *src = getenv("CROSSCLIMB_SRC") ? getenv("CROSSCLIMB_SRC") : ".";
    char script[512];
    snprintf(script, sizeof script, "%s/tests/peers/pymodbus_plc.py", src);
    const char *argv[] = {py, script, no_fc17 ? "--no-fc17" : NULL, NULL};
    int rc = simproc_spawn(sp, argv);
    ck_assert_msg(rc == 0, "pymodbus peer did not start: %s", simproc_strerror(rc));
}

static cc_link *open_uri(const char *uri_s, log_capture *cap)
{
    link_uri uri;
    char err[256];
    cc_link *l = NULL;
    ck_assert_msg(link_uri_parse(uri_s, 0, &uri, err, sizeof err) == 0, "%s: %s", uri_s, err);
    ck_assert_int_eq(link_open(&uri, &l), 0);
    if (cap) link_set_log(l, capture_log, cap);
    return l;
}

static cc_link *open_tcp(int port, unsigned timeout_ms, unsigned retries, log_capture *cap)
{
    char uri[128];
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d?timeout_ms=%u&retries=%u", port, timeout_ms,
             retries);
    return open_uri(uri, cap);
}

static cc_command make_cmd(uint16_t seq, uint16_t hb, uint16_t outputs)
{
    cc_command c = {.seq = seq, .heartbeat = hb, .outputs = outputs, .mode = CC_MODE_AUTO,
                    .period_ms = 10};
    return c;
}

/* A RESET cycle, then n cycles with one AUTO command.  The PLC program
 * powers up in HOLD, which only a RESET leaves: command 1 is the RESET
 * (heartbeat 0), command 2 the AUTO request.  lag: cycles by which the
 * echoes trail.  With FC 0x17 the simulated PLC answers from memory as it
 * was before this cycle's scans, so echoes lag one cycle and the tick
 * advances by the period hint (10 ms = 1 tick) per cycle in frozen idle;
 * with FC 0x10 + 0x03 the scans run between write and read (lag 0), and so
 * does a peer that applies writes at once (pymodbus). */
static void run_cycles_checked(cc_link *l, int n, int lag, int exact_tick)
{
    cc_status st;
    uint16_t outputs = CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC | CC_Y_BEACON;
    cc_command r = {.seq = 1, .heartbeat = 0, .outputs = 0, .mode = CC_MODE_RESET, .period_ms = 10};
    int rrc = link_cycle(l, &r, &st, NULL);
    ck_assert_msg(rrc == 0, "RESET cycle: %s (%s)", link_strerror(rrc), link_last_error(l));
    uint16_t prev_tick = st.tick;
    for (int i = 1; i <= n; i++) {
        cc_command c = make_cmd(2, (uint16_t)i, outputs);
        int rc = link_cycle(l, &c, &st, NULL);
        ck_assert_msg(rc == 0, "cycle %d: %s (%s)", i, link_strerror(rc), link_last_error(l));
        ck_assert(st.flags & CC_FLAG_RUN);
        if (i > lag) {
            ck_assert_uint_eq(st.heartbeat_echo, (unsigned)(i - lag));
            ck_assert_uint_eq(st.seq_echo, 2);
            ck_assert_uint_eq(st.y, outputs);
            if (exact_tick) ck_assert_uint_eq((uint16_t)(st.tick - prev_tick), 1);
        }
        prev_tick = st.tick;
    }
}

START_TEST(test_tcp_cycles)
{
    simproc sp;
    const char *args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen", NULL};
    start_sim(&sp, args);
    cc_link *l = open_tcp(sp.tcp_port, 1000, 0, NULL);
    run_cycles_checked(l, 50, 1, 1);
    const link_stats *s = link_get_stats(l);
    /* the status read after connecting (nothing is written before the
     * status is known), then one transaction and 98 RTU bytes per cycle:
     * the RESET cycle and the 50 AUTO cycles */
    ck_assert_uint_eq(s->cycles, 1u + 50u);
    ck_assert_uint_eq(s->resyncs, 1);
    ck_assert_uint_eq(s->transactions, 1u + 1u + 50u);
    ck_assert_uint_eq(s->rtu_bytes_tx, 8u + 29u * 51u);
    ck_assert_uint_eq(s->rtu_bytes_rx, 69u + 69u * 51u);
    ck_assert_uint_eq(s->bytes_tx, (7u + 5u) + (7u + 26u) * 51u); /* MBAP + PDU */
    ck_assert_uint_eq(s->latency_n, 52);
    ck_assert(s->latency_min_ms <= s->latency_max_ms);
    ck_assert_int_eq(link_get_state(l), LINK_UP);
    link_close(l);
    ck_assert_int_eq(simproc_stop(&sp), 0);
}
END_TEST

START_TEST(test_rtu_pty_cycles)
{
    simproc sp;
    const char *args[] = {"--rtu-pty", "--idle", "frozen", NULL};
    start_sim(&sp, args);
    ck_assert(sp.pty_path[0] != '\0');
    char uri[256];
    snprintf(uri, sizeof uri, "rtu:%s?baud=19200&parity=E&timeout_ms=1000&retries=0",
             sp.pty_path);
    cc_link *l = open_uri(uri, NULL);
    run_cycles_checked(l, 30, 1, 1);
    const link_stats *s = link_get_stats(l);
    ck_assert_uint_eq(s->transactions, 1u + 31u); /* + the RESET cycle */
    ck_assert_uint_eq(s->bytes_tx, 8u + 29u * 31u); /* real RTU frames: addr + PDU + CRC */
    ck_assert_uint_eq(s->bytes_rx, 69u + 69u * 31u);
    ck_assert_uint_eq(s->crc_errors, 0);
    link_close(l);
    ck_assert_int_eq(simproc_stop(&sp), 0);
}
END_TEST

START_TEST(test_rtu_rs485_not_supported)
{
    simproc sp;
    log_capture cap = {0, ""};
    const char *args[] = {"--rtu-pty", "--idle", "frozen", NULL};
    start_sim(&sp, args);
    char uri[256];
    snprintf(uri, sizeof uri, "rtu:%s?rs485=1&timeout_ms=1000", sp.pty_path);
    cc_link *l = open_uri(uri, &cap);
    /* a pty has no RS-485 ioctl: a notice, not an error */
    ck_assert_int_eq(link_connect(l), 0);
    ck_assert_int_eq(cap.n, 1);
    ck_assert_ptr_nonnull(strstr(cap.last, "RS-485"));
    run_cycles_checked(l, 3, 1, 1);
    link_close(l);
    simproc_stop(&sp);
}
END_TEST

START_TEST(test_fallback_without_fc17)
{
    simproc sp;
    log_capture cap = {0, ""};
    const char *args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen", "--no-fc17", NULL};
    start_sim(&sp, args);
    cc_link *l = open_tcp(sp.tcp_port, 1000, 0, &cap);
    run_cycles_checked(l, 10, 0, 1);
    const link_stats *s = link_get_stats(l);
    ck_assert_int_eq(s->fc17_fallback, 1);
    /* the first status read, the refused 0x17, then FC 0x10 + FC 0x03 for
     * each of the 11 cycles (RESET and 10 AUTO) */
    ck_assert_uint_eq(s->transactions, 2u + 2u * 11u);
    ck_assert_uint_eq(s->exceptions, 1);
    ck_assert_int_eq(cap.n, 1); /* said once */
    ck_assert_ptr_nonnull(strstr(cap.last, "0x17"));
    ck_assert_int_eq(link_get_state(l), LINK_UP);
    link_close(l);
    simproc_stop(&sp);
}
END_TEST

START_TEST(test_silent_peer_degraded_then_down)
{
    simproc sp;
    /* 6 requests: the first status read and 5 cycles */
    const char *args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen", "--silent-after",
                          "6", NULL};
    start_sim(&sp, args);
    cc_link *l = open_tcp(sp.tcp_port, 100, 1, NULL);
    cc_status st;
    for (int i = 1; i <= 5; i++) {
        cc_command c = make_cmd(1, (uint16_t)i, CC_Y_A_VAC);
        ck_assert_int_eq(link_cycle(l, &c, &st, NULL), 0);
    }
    ck_assert_int_eq(link_get_state(l), LINK_UP);
    link_state seen[LINK_DOWN_AFTER];
    for (unsigned i = 0; i < LINK_DOWN_AFTER; i++) {
        cc_command c = make_cmd(1, (uint16_t)(6 + i), CC_Y_A_VAC);
        ck_assert_int_eq(link_cycle(l, &c, &st, NULL), LINK_ETIMEOUT);
        seen[i] = link_get_state(l);
    }
    ck_assert_int_eq(seen[0], LINK_DEGRADED);
    ck_assert_int_eq(seen[LINK_DOWN_AFTER - 2], LINK_DEGRADED);
    ck_assert_int_eq(seen[LINK_DOWN_AFTER - 1], LINK_DOWN);
    const link_stats *s = link_get_stats(l);
    /* each failed cycle: the exchange, then one retry which starts with the
     * status re-read (echo rule) and times out too */
    ck_assert_uint_eq(s->timeouts, 2u * LINK_DOWN_AFTER);
    ck_assert_uint_eq(s->cycles_failed, LINK_DOWN_AFTER);
    ck_assert_uint_eq(s->consecutive_failures, LINK_DOWN_AFTER);
    link_close(l);
    simproc_stop(&sp);
}
END_TEST

START_TEST(test_reconnect_after_restart)
{
    simproc sp;
    const char *args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen", NULL};
    start_sim(&sp, args);
    int port = sp.tcp_port;
    cc_link *l = open_tcp(port, 300, 0, NULL);
    cc_status st;
    /* command 1 is a RESET: the one command the program accepts at power-up
     * (HOLD) whatever the bench's inputs, as the C image accepted any */
    cc_command c = make_cmd(1, 1, CC_Y_A_VAC);
    c.mode = CC_MODE_RESET;
    ck_assert_int_eq(link_cycle(l, &c, &st, NULL), 0);
    ck_assert_int_eq(simproc_stop(&sp), 0);

    /* PLC gone: the cycle fails and the link is not UP */
    c.heartbeat = 2;
    ck_assert_int_ne(link_cycle(l, &c, &st, NULL), 0);
    ck_assert_int_ne(link_get_state(l), LINK_UP);

    /* PLC back on the same port, fresh memory: the link reconnects, re-reads
     * the status block before writing, and cycles again */
    char listen[64];
    snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", port);
    const char *args2[] = {"--listen", listen, "--idle", "frozen", NULL};
    start_sim(&sp, args2);
    uint64_t resyncs_before = link_get_stats(l)->resyncs;
    c.heartbeat = 3;
    int rc = link_cycle(l, &c, &st, NULL);
    ck_assert_msg(rc == 0, "%s (%s)", link_strerror(rc), link_last_error(l));
    ck_assert_uint_eq(link_get_stats(l)->connects, 2);
    ck_assert_uint_eq(link_get_stats(l)->resyncs, resyncs_before + 1);
    ck_assert_int_eq(link_get_state(l), LINK_DEGRADED); /* first cycle after a failure */
    c.heartbeat = 4;
    ck_assert_int_eq(link_cycle(l, &c, &st, NULL), 0);
    ck_assert_int_eq(link_get_state(l), LINK_UP);
    ck_assert_uint_eq(st.seq_echo, 1); /* the new PLC accepted command 1 once */
    link_close(l);
    simproc_stop(&sp);
}
END_TEST

START_TEST(test_no_double_apply)
{
    simproc sp;
    /* the PLC applies the 4th command-block write but its reply is lost:
     * command 1 is the RESET that leaves the power-up HOLD, commands 2-4 are
     * the AUTO commands (B's vacuum stays on: switching it off would be
     * refused by L2, A not gripping on the bench) */
    const char *args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen", "--drop-reply",
                          "4", NULL};
    start_sim(&sp, args);
    cc_link *l = open_tcp(sp.tcp_port, 200, 2, NULL);
    cc_status st;
    for (uint16_t seq = 1; seq <= 4; seq++) {
        cc_command c = make_cmd(seq, seq,
                                (uint16_t)(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC | (seq == 4 ? CC_Y_BEACON : 0)));
        if (seq == 1) c.mode = CC_MODE_RESET;
        int rc = link_cycle(l, &c, &st, NULL);
        ck_assert_msg(rc == 0, "seq %u: %s", seq, link_strerror(rc));
    }
    const link_stats *s = link_get_stats(l);
    ck_assert_uint_eq(s->timeouts, 1);
    ck_assert_uint_eq(s->resyncs, 2); /* after connecting, after the timeout */
    ck_assert_uint_eq(s->confirmed_by_echo, 1); /* D105 showed command 4 applied */
    ck_assert_uint_eq(s->resent, 0);
    /* the PLC counts accepted commands in D300: its power-up evaluation of
     * the cleared command block (mode 0), then four commands, four
     * acceptances — command 4 was not applied twice */
    uint16_t accepted = 0;
    ck_assert_int_eq(link_read_regs(l, 300, 1, &accepted), 0);
    ck_assert_uint_eq(accepted, 1 + 4);
    link_close(l);
    simproc_stop(&sp);
}
END_TEST

START_TEST(test_sequence_guard)
{
    simproc sp;
    const char *args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen", NULL};
    start_sim(&sp, args);
    cc_link *l = open_tcp(sp.tcp_port, 1000, 0, NULL);
    cc_status st;
    cc_command c = make_cmd(7, 1, CC_Y_A_VAC);
    ck_assert_int_eq(link_cycle(l, &c, &st, NULL), 0);
    uint64_t tx = link_get_stats(l)->transactions;
    c = make_cmd(7, 2, CC_Y_A_VAC | CC_Y_X_PLUS); /* new outputs, old number */
    ck_assert_int_eq(link_cycle(l, &c, &st, NULL), LINK_ESEQ);
    ck_assert_uint_eq(link_get_stats(l)->transactions, tx); /* nothing sent */
    link_close(l);
    simproc_stop(&sp);
}
END_TEST

START_TEST(test_pymodbus_cycles)
{
    simproc sp;
    start_pymodbus(&sp, 0);
    cc_link *l = open_tcp(sp.tcp_port, 2000, 0, NULL);
    run_cycles_checked(l, 20, 0, 0); /* its tick is real time: not checked exactly */
    ck_assert_uint_eq(link_get_stats(l)->transactions, 1u + 21u); /* + the RESET cycle */
    ck_assert_int_eq(link_get_stats(l)->fc17_fallback, 0);
    ck_assert_int_eq(link_get_state(l), LINK_UP);
    link_close(l);
    simproc_stop(&sp);
}
END_TEST

START_TEST(test_pymodbus_fallback_and_exceptions)
{
    simproc sp;
    log_capture cap = {0, ""};
    start_pymodbus(&sp, 1);
    cc_link *l = open_tcp(sp.tcp_port, 2000, 0, &cap);
    run_cycles_checked(l, 10, 0, 0);
    const link_stats *s = link_get_stats(l);
    ck_assert_int_eq(s->fc17_fallback, 1);
    ck_assert_int_eq(cap.n, 1);
    ck_assert_uint_eq(s->transactions, 2u + 2u * 11u); /* RESET and 10 AUTO cycles */
    /* an address the peer does not have: its exception reply, not a timeout */
    uint16_t v;
    ck_assert_int_eq(link_read_regs(l, 5000, 1, &v), LINK_EEXCEPTION);
    ck_assert_ptr_nonnull(strstr(link_last_error(l), "address"));
    ck_assert_uint_eq(s->exceptions, 2);
    ck_assert_uint_eq(s->timeouts, 0);
    /* and the link goes on */
    cc_status st;
    cc_command c = make_cmd(2, 11, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC | CC_Y_BEACON); /* the AUTO command */
    ck_assert_int_eq(link_cycle(l, &c, &st, NULL), 0);
    link_close(l);
    simproc_stop(&sp);
}
END_TEST

static Suite *link_suite(void)
{
    Suite *s = suite_create("link");
    TCase *t = tcase_create("simulated-plc");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, test_tcp_cycles);
    tcase_add_test(t, test_rtu_pty_cycles);
    tcase_add_test(t, test_rtu_rs485_not_supported);
    tcase_add_test(t, test_fallback_without_fc17);
    tcase_add_test(t, test_silent_peer_degraded_then_down);
    tcase_add_test(t, test_reconnect_after_restart);
    tcase_add_test(t, test_no_double_apply);
    tcase_add_test(t, test_sequence_guard);
    suite_add_tcase(s, t);
    t = tcase_create("pymodbus-peer");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, test_pymodbus_cycles);
    tcase_add_test(t, test_pymodbus_fallback_and_exceptions);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(link_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
