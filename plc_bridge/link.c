/*
 * link.c — supervised Modbus link to the PLC.  See link.h for the rules.
 */
#include "link.h"

#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cc_link {
    link_uri uri;
    modbus_t *mb;
    int connected;
    int need_resync;        /* a reply was lost: read the status before writing */
    int have_last;          /* last_cmd holds the last command block written */
    uint16_t last_cmd[CC_CMD_COUNT];
    link_state state;
    link_stats stats;
    link_log_fn log;
    void *log_user;
    char last_error[160];
};

const char *link_strerror(int code)
{
    switch (code) {
    case LINK_OK: return "success";
    case LINK_EARG: return "invalid argument";
    case LINK_ENOMEM: return "out of memory";
    case LINK_ECONNECT: return "cannot connect to the PLC / connection lost";
    case LINK_ETIMEOUT: return "no reply from the PLC within the timeout";
    case LINK_EEXCEPTION: return "the PLC answered with a Modbus exception";
    case LINK_ECRC: return "reply with a bad CRC";
    case LINK_EPROTO: return "malformed reply";
    case LINK_ESEQ: return "command changed without a new sequence number";
    default: return "unknown link error";
    }
}

const char *link_state_name(link_state s)
{
    static const char *const names[LINK_STATE_COUNT] = {"DOWN", "DEGRADED", "UP"};
    return (unsigned)s < LINK_STATE_COUNT ? names[s] : "?";
}

static void log_stderr(void *user, const char *msg)
{
    (void)user;
    fprintf(stderr, "crossclimb: link: %s\n", msg);
}

unsigned link_rtu_frame_bytes(unsigned pdu_len)
{
    return 1u + pdu_len + 2u; /* slave address, PDU, CRC-16 */
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int link_open(const link_uri *uri, cc_link **out)
{
    cc_link *l = NULL;
    char port[8];
    if (!uri || !out) return LINK_EARG;
    l = calloc(1, sizeof *l);
    if (!l) return LINK_ENOMEM;
    l->uri = *uri;
    l->log = log_stderr;
    l->state = LINK_DOWN;
    if (uri->kind == LINK_TCP) {
        snprintf(port, sizeof port, "%u", (unsigned)uri->port);
        l->mb = modbus_new_tcp_pi(uri->host, port);
    } else {
        l->mb = modbus_new_rtu(uri->path, (int)uri->baud, uri->parity, uri->data_bits,
                               uri->stop_bits);
    }
    if (!l->mb) goto err;
    if (modbus_set_slave(l->mb, uri->slave) != 0) goto err;
    modbus_set_error_recovery(l->mb, MODBUS_ERROR_RECOVERY_NONE);
    modbus_set_response_timeout(l->mb, uri->response_timeout_ms / 1000u,
                                (uri->response_timeout_ms % 1000u) * 1000u);
    modbus_set_byte_timeout(l->mb, uri->byte_timeout_ms / 1000u,
                            (uri->byte_timeout_ms % 1000u) * 1000u);
    *out = l;
    return 0;
err:
    if (l && l->mb) modbus_free(l->mb);
    free(l);
    return LINK_ENOMEM;
}

void link_close(cc_link *l)
{
    if (!l) return;
    if (l->connected) modbus_close(l->mb);
    modbus_free(l->mb);
    free(l);
}

void link_set_log(cc_link *l, link_log_fn fn, void *user)
{
    l->log = fn ? fn : log_stderr;
    l->log_user = user;
}

link_state link_get_state(const cc_link *l) { return l->state; }
const link_stats *link_get_stats(const cc_link *l) { return &l->stats; }
const char *link_last_error(const cc_link *l) { return l->last_error; }
const link_uri *link_get_uri(const cc_link *l) { return &l->uri; }

int link_connect(cc_link *l)
{
    if (l->connected) {
        modbus_close(l->mb);
        l->connected = 0;
    }
    l->need_resync = 1; /* whatever happened while we were away: read first */
    if (modbus_connect(l->mb) != 0) {
        snprintf(l->last_error, sizeof l->last_error, "connect: %s", modbus_strerror(errno));
        l->stats.conn_errors++;
        l->state = LINK_DOWN;
        return LINK_ECONNECT;
    }
    l->connected = 1;
    l->stats.connects++;
    if (l->uri.kind == LINK_RTU && l->uri.rs485) {
        if (modbus_rtu_set_serial_mode(l->mb, MODBUS_RTU_RS485) != 0) {
            char msg[400];
            snprintf(msg, sizeof msg,
                     "%s: adapter does not support the RS-485 ioctl (%s); assuming it switches "
                     "direction itself",
                     l->uri.path, strerror(errno));
            l->log(l->log_user, msg);
        }
    }
    return 0;
}

/* Classify errno after a failed libmodbus call, update statistics, and
 * decide what the link must do before its next write. */
static int classify(cc_link *l, const char *what)
{
    int e = errno;
    snprintf(l->last_error, sizeof l->last_error, "%s: %s", what, modbus_strerror(e));
    if (e == ETIMEDOUT) {
        l->stats.timeouts++;
        l->need_resync = 1;
        modbus_flush(l->mb); /* a late reply must not pass for the next one */
        return LINK_ETIMEOUT;
    }
    if (e == EMBBADCRC) {
        l->stats.crc_errors++;
        l->need_resync = 1;
        modbus_flush(l->mb);
        return LINK_ECRC;
    }
    if (e >= EMBXILFUN && e <= EMBXGTAR) {
        l->stats.exceptions++;
        return LINK_EEXCEPTION;
    }
    if (e == EMBBADDATA || e == EMBBADEXC || e == EMBUNKEXC || e == EMBMDATA || e == EMBBADSLAVE) {
        l->stats.proto_errors++;
        l->need_resync = 1;
        modbus_flush(l->mb);
        return LINK_EPROTO;
    }
    /* Anything else (ECONNRESET, EPIPE, EBADF, EIO...) means the connection
     * is gone: close it now, connect again before the next transaction. */
    l->stats.conn_errors++;
    if (l->connected) modbus_close(l->mb);
    l->connected = 0;
    l->need_resync = 1;
    return LINK_ECONNECT;
}

/* Account one transaction of req/rsp PDU sizes (rsp 0 = no reply). */
static void account(cc_link *l, unsigned req_pdu, unsigned rsp_pdu, int ok, double t0)
{
    unsigned hdr = l->uri.kind == LINK_TCP ? 7u : 1u; /* MBAP or slave address */
    unsigned tail = l->uri.kind == LINK_TCP ? 0u : 2u; /* CRC */
    l->stats.transactions++;
    l->stats.bytes_tx += hdr + req_pdu + tail;
    l->stats.rtu_bytes_tx += link_rtu_frame_bytes(req_pdu);
    if (rsp_pdu) {
        l->stats.bytes_rx += hdr + rsp_pdu + tail;
        l->stats.rtu_bytes_rx += link_rtu_frame_bytes(rsp_pdu);
    }
    if (ok) {
        double dt = now_ms() - t0;
        if (l->stats.latency_n == 0 || dt < l->stats.latency_min_ms) l->stats.latency_min_ms = dt;
        if (dt > l->stats.latency_max_ms) l->stats.latency_max_ms = dt;
        l->stats.latency_sum_ms += dt;
        l->stats.latency_n++;
    }
}

/* Exception replies carry 2 PDU bytes; count them as received. */
static unsigned rsp_len_on_error(int rc)
{
    return rc == LINK_EEXCEPTION ? 2u : 0u;
}

static int tx_read_regs(cc_link *l, uint16_t addr, uint16_t n, uint16_t *dst)
{
    double t0 = now_ms();
    if (modbus_read_registers(l->mb, addr, n, dst) != (int)n) {
        int rc = classify(l, "read registers");
        account(l, 5u, rsp_len_on_error(rc), 0, t0);
        return rc;
    }
    account(l, 5u, 2u + 2u * n, 1, t0);
    return 0;
}

static int tx_write_regs(cc_link *l, uint16_t addr, uint16_t n, const uint16_t *src)
{
    double t0 = now_ms();
    if (modbus_write_registers(l->mb, addr, n, src) != (int)n) {
        int rc = classify(l, "write registers");
        account(l, 6u + 2u * n, rsp_len_on_error(rc), 0, t0);
        return rc;
    }
    account(l, 6u + 2u * n, 5u, 1, t0);
    return 0;
}

static int tx_write_read(cc_link *l, const uint16_t *cmd, uint16_t *status)
{
    double t0 = now_ms();
    unsigned req = 10u + 2u * CC_CMD_COUNT, rsp = 2u + 2u * CC_STATUS_COUNT;
    if (modbus_write_and_read_registers(l->mb, CC_CMD_FIRST, CC_CMD_COUNT, cmd, CC_STATUS_FIRST,
                                        CC_STATUS_COUNT, status) != (int)CC_STATUS_COUNT) {
        int e = errno;
        int rc = classify(l, "FC 0x17 write/read");
        account(l, req, rsp_len_on_error(rc), 0, t0);
        errno = e;
        return rc;
    }
    account(l, req, rsp, 1, t0);
    return 0;
}

static int ensure_connected(cc_link *l)
{
    return l->connected ? 0 : link_connect(l);
}

/* One attempt of a cycle: resync if needed, then the exchange. */
static int cycle_once(cc_link *l, const uint16_t cmd[CC_CMD_COUNT], uint16_t status[CC_STATUS_COUNT])
{
    int rc = ensure_connected(l);
    if (rc) return rc;
    if (l->need_resync) {
        rc = tx_read_regs(l, CC_STATUS_FIRST, CC_STATUS_COUNT, status);
        if (rc) return rc;
        l->need_resync = 0;
        l->stats.resyncs++;
        if (l->have_last) {
            /* The last command written may or may not have reached the PLC.
             * Its echo tells: present -> applied, the write below carries the
             * same number and is not applied again; missing -> sent again. */
            if (status[CC_ST_SEQ_ECHO] == l->last_cmd[CC_CMD_SEQ])
                l->stats.confirmed_by_echo++;
            else if (cmd[CC_CMD_SEQ] == l->last_cmd[CC_CMD_SEQ])
                l->stats.resent++;
        }
    }
    /* From here the block may reach the PLC, reply or not: remember it so a
     * later re-read can tell whether it was applied. */
    memcpy(l->last_cmd, cmd, sizeof l->last_cmd);
    l->have_last = 1;
    if (!l->stats.fc17_fallback) {
        rc = tx_write_read(l, cmd, status);
        if (rc == 0) return 0;
        if (rc != LINK_EEXCEPTION || errno != EMBXILFUN) return rc;
        l->stats.fc17_fallback = 1;
        char msg[200];
        snprintf(msg, sizeof msg,
                 "peer answers ILLEGAL FUNCTION to FC 0x17; using FC 0x10 + FC 0x03 on this link "
                 "from now on (2 transactions a cycle)");
        l->log(l->log_user, msg);
    }
    rc = tx_write_regs(l, CC_CMD_FIRST, CC_CMD_COUNT, cmd);
    if (rc) return rc;
    return tx_read_regs(l, CC_STATUS_FIRST, CC_STATUS_COUNT, status);
}

int link_cycle(cc_link *l, const cc_command *cmd, cc_status *st, uint16_t raw[CC_STATUS_COUNT])
{
    uint16_t out[CC_CMD_COUNT];
    uint16_t status[CC_STATUS_COUNT];
    int rc = LINK_EARG;
    if (!l || !cmd || !st) return LINK_EARG;
    cc_command_encode(cmd, out);
    /* Guard the sequence rule here too: same number, other content would let
     * the PLC ignore a real change (or a resend apply a different command). */
    if (l->have_last && out[CC_CMD_SEQ] == l->last_cmd[CC_CMD_SEQ] &&
        (out[CC_CMD_OUTPUTS] != l->last_cmd[CC_CMD_OUTPUTS] ||
         out[CC_CMD_MODE] != l->last_cmd[CC_CMD_MODE])) {
        snprintf(l->last_error, sizeof l->last_error,
                 "command %u changed outputs or mode without a new sequence number",
                 (unsigned)out[CC_CMD_SEQ]);
        return LINK_ESEQ;
    }
    unsigned attempts = 1u + l->uri.retries, a;
    int resync_before = l->need_resync;
    for (a = 0; a < attempts; a++) {
        rc = cycle_once(l, out, status);
        if (rc == 0) break;
        if (rc == LINK_EEXCEPTION) break; /* the PLC answered: retrying changes nothing */
    }
    if (rc == 0) {
        /* UP only for a first-try cycle after a clean one; a cycle that
         * needed a retry or followed a failure is DEGRADED. */
        int clean = a == 0 && l->stats.consecutive_failures == 0 && !resync_before;
        l->stats.cycles++;
        l->stats.consecutive_failures = 0;
        l->state = clean ? LINK_UP : LINK_DEGRADED;
        cc_status_decode(status, st);
        if (raw) memcpy(raw, status, sizeof status);
        return 0;
    }
    l->stats.cycles_failed++;
    l->stats.consecutive_failures++;
    l->state = (!l->connected || l->stats.consecutive_failures >= LINK_DOWN_AFTER) ? LINK_DOWN
                                                                                 : LINK_DEGRADED;
    return rc;
}

int link_read_status(cc_link *l, cc_status *st, uint16_t raw[CC_STATUS_COUNT])
{
    uint16_t status[CC_STATUS_COUNT];
    int rc = link_read_regs(l, CC_STATUS_FIRST, CC_STATUS_COUNT, status);
    if (rc) return rc;
    if (st) cc_status_decode(status, st);
    if (raw) memcpy(raw, status, sizeof status);
    return 0;
}

int link_read_regs(cc_link *l, uint16_t addr, uint16_t n, uint16_t *dst)
{
    if (!l || !dst || n == 0 || n > MODBUS_MAX_READ_REGISTERS) return LINK_EARG;
    int rc = ensure_connected(l);
    if (rc) return rc;
    rc = tx_read_regs(l, addr, n, dst);
    if (rc == 0) {
        l->need_resync = 0; /* nothing is pending that a read would not show */
        if (l->state == LINK_DOWN) l->state = LINK_DEGRADED;
    }
    return rc;
}

int link_read_bits(cc_link *l, mb_table table, uint16_t addr, uint16_t n, uint8_t *dst)
{
    if (!l || !dst || n == 0 || n > MODBUS_MAX_READ_BITS) return LINK_EARG;
    if (table != MB_TABLE_COIL && table != MB_TABLE_DISCRETE_INPUT) return LINK_EARG;
    int rc = ensure_connected(l);
    if (rc) return rc;
    double t0 = now_ms();
    int got = table == MB_TABLE_COIL ? modbus_read_bits(l->mb, addr, n, dst)
                                     : modbus_read_input_bits(l->mb, addr, n, dst);
    unsigned rsp = 2u + (n + 7u) / 8u;
    if (got != (int)n) {
        rc = classify(l, table == MB_TABLE_COIL ? "read coils" : "read discrete inputs");
        account(l, 5u, rsp_len_on_error(rc), 0, t0);
        return rc;
    }
    account(l, 5u, rsp, 1, t0);
    return 0;
}

int link_write_reg(cc_link *l, uint16_t addr, uint16_t value)
{
    if (!l) return LINK_EARG;
    int rc = ensure_connected(l);
    if (rc) return rc;
    double t0 = now_ms();
    if (modbus_write_register(l->mb, addr, value) != 1) {
        rc = classify(l, "write register");
        account(l, 5u, rsp_len_on_error(rc), 0, t0);
        return rc;
    }
    account(l, 5u, 5u, 1, t0);
    return 0;
}

int link_write_bit(cc_link *l, uint16_t addr, int value)
{
    if (!l) return LINK_EARG;
    int rc = ensure_connected(l);
    if (rc) return rc;
    double t0 = now_ms();
    if (modbus_write_bit(l->mb, addr, value ? 1 : 0) != 1) {
        rc = classify(l, "write coil");
        account(l, 5u, rsp_len_on_error(rc), 0, t0);
        return rc;
    }
    account(l, 5u, 5u, 1, t0);
    return 0;
}

double link_wire_floor_ms(unsigned baud, unsigned req_bytes, unsigned rsp_bytes)
{
    if (baud == 0) return 0.0;
    double char_ms = 11.0 * 1000.0 / (double)baud;
    double gap_ms = baud > 19200u ? 1.75 : 3.5 * char_ms;
    return (double)(req_bytes + rsp_bytes) * char_ms + 2.0 * gap_ms;
}
