/*
 * link.h — the supervised Modbus link to the PLC (SPEC §4, §11).
 *
 * One opaque context per PLC (like libmodbus's modbus_t).  One control cycle
 * is one FC 0x17 transaction: write the command block D200..D207 and read the
 * status block D100..D131.  A peer that answers ILLEGAL FUNCTION to 0x17 gets
 * FC 0x10 + FC 0x03 for the rest of the link's life, said once through the
 * log callback.
 *
 * Supervision:
 *  - every transaction has the URI's response and byte timeouts;
 *  - a failed cycle is retried up to uri.retries times inside link_cycle();
 *  - a broken connection is closed before it is connected again;
 *  - echo rule: after a timeout or a reconnect, nothing is written before the
 *    status block (and with it D105, the last accepted sequence number) has
 *    been read again.  The PLC applies a command only when D200 differs from
 *    its echo, and the caller makes a new sequence number only for a new
 *    command, so a command whose reply was lost is never applied twice; when
 *    its echo is missing the same command (same number) is sent again.
 *  - state: UP (last cycle clean), DEGRADED (errors, retries, or fewer than
 *    LINK_DOWN_AFTER failed cycles in a row), DOWN (not connected, or
 *    LINK_DOWN_AFTER failed cycles in a row).
 *
 * Errors: 0 or a negative LINK_E* code; link_strerror() gives the text and
 * link_last_error() the detail of the last failure (libmodbus's message).
 */
#ifndef CROSSCLIMB_LINK_H
#define CROSSCLIMB_LINK_H

#include <stdint.h>

#include "image.h"
#include "regmap.h"
#include "uri.h"

enum {
    LINK_OK = 0,
    LINK_EARG = -1,       /* bad argument (range too long, null) */
    LINK_ENOMEM = -2,     /* libmodbus context could not be made */
    LINK_ECONNECT = -3,   /* connect failed / connection lost */
    LINK_ETIMEOUT = -4,   /* no (complete) reply within the timeouts */
    LINK_EEXCEPTION = -5, /* the peer answered with a Modbus exception */
    LINK_ECRC = -6,       /* RTU frame with a bad CRC */
    LINK_EPROTO = -7,     /* malformed or mismatched reply */
    LINK_ESEQ = -8,       /* command content changed without a new sequence number */
};

typedef enum { LINK_DOWN = 0, LINK_DEGRADED, LINK_UP, LINK_STATE_COUNT } link_state;

#define LINK_DOWN_AFTER 3u /* failed cycles in a row before the link is DOWN */

typedef struct {
    uint64_t cycles;             /* link_cycle() calls that succeeded */
    uint64_t cycles_failed;      /* link_cycle() calls that failed after all retries */
    uint64_t transactions;       /* request/reply exchanges attempted */
    uint64_t bytes_tx, bytes_rx; /* ADU bytes actually sent / received on this link */
    uint64_t rtu_bytes_tx;       /* the same requests as RTU frames (addr + PDU + CRC) */
    uint64_t rtu_bytes_rx;       /* the same replies as RTU frames */
    uint64_t timeouts, crc_errors, exceptions, proto_errors, conn_errors;
    uint64_t connects;           /* successful connects (first one included) */
    uint64_t resyncs;            /* status re-reads before writing after a failure */
    uint64_t confirmed_by_echo;  /* after a lost reply: echo showed the command applied */
    uint64_t resent;             /* after a lost reply: echo missing, same command sent again */
    uint32_t consecutive_failures;
    int fc17_fallback;           /* 1 once the peer refused FC 0x17 */
    double latency_min_ms, latency_max_ms, latency_sum_ms; /* successful transactions */
    uint64_t latency_n;
} link_stats;

typedef struct cc_link cc_link;

/** Log sink for one-off notices (fallback, RS-485 not supported). */
typedef void (*link_log_fn)(void *user, const char *msg);

/** link_strerror: text for a LINK_E* code. */
const char *link_strerror(int code);

/** link_state_name: "DOWN", "DEGRADED", "UP". */
const char *link_state_name(link_state s);

/**
 * link_open: make a link for uri (not connected yet).  *out is owned by the
 * caller and freed with link_close().  Returns 0 or LINK_ENOMEM / LINK_EARG.
 */
int link_open(const link_uri *uri, cc_link **out);

/** link_close: close the connection and free the link (NULL is fine). */
void link_close(cc_link *link);

/** link_set_log: where one-off notices go (default: stderr). */
void link_set_log(cc_link *link, link_log_fn fn, void *user);

/**
 * link_connect: connect (closing any old connection first).  Returns 0 or
 * LINK_ECONNECT.  An RS-485 request the adapter cannot honour is logged, not
 * an error.
 */
int link_connect(cc_link *link);

/**
 * link_cycle: one control exchange, with supervision (see above).  Connects
 * when needed.  On success *st holds the status read in this cycle (raw copy
 * in raw if not NULL).  Returns 0 or the LINK_E* code of the last failure.
 */
int link_cycle(cc_link *link, const cc_command *cmd, cc_status *st,
               uint16_t raw[CC_STATUS_COUNT]);

/**
 * link_read_status: read D100..D131 only (FC 0x03), nothing written.
 * Returns 0 or a LINK_E* code.
 */
int link_read_status(cc_link *link, cc_status *st, uint16_t raw[CC_STATUS_COUNT]);

/**
 * link_read_regs / link_read_bits: read n registers (FC 03) or n bits (FC 01
 * coils or FC 02 discrete inputs) at a Modbus address.  n <= 125 / 2000.
 * Returns 0 or a LINK_E* code.
 */
int link_read_regs(cc_link *link, uint16_t addr, uint16_t n, uint16_t *dst);
int link_read_bits(cc_link *link, mb_table table, uint16_t addr, uint16_t n, uint8_t *dst);

/** link_write_reg / link_write_bit: FC 06 / FC 05.  Returns 0 or a LINK_E* code. */
int link_write_reg(cc_link *link, uint16_t addr, uint16_t value);
int link_write_bit(cc_link *link, uint16_t addr, int value);

/** link_get_state: the supervision state. */
link_state link_get_state(const cc_link *link);

/** link_get_stats: the statistics (valid until link_close). */
const link_stats *link_get_stats(const cc_link *link);

/** link_last_error: detail of the last failure ("" if none). */
const char *link_last_error(const cc_link *link);

/** link_get_uri: the URI the link was opened with. */
const link_uri *link_get_uri(const cc_link *link);

/**
 * link_rtu_frame_bytes: bytes of an RTU frame carrying a PDU of pdu_len bytes
 * (slave address + PDU + CRC).  Used for the wire-cost figures.
 */
unsigned link_rtu_frame_bytes(unsigned pdu_len);

/**
 * link_wire_floor_ms: the least time one request/reply pair can take on an
 * RTU wire: (req + rsp) characters of 11 bits (8E1 or 8N2) at baud, plus the
 * 3.5-character silent interval after each frame (fixed at 1.75 ms above
 * 19200 baud, as the Modbus serial-line spec says).  PLC turnaround excluded.
 */
double link_wire_floor_ms(unsigned baud, unsigned req_bytes, unsigned rsp_bytes);

#endif
