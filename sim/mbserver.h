/*
 * mbserver.h — a Modbus slave that answers like an FX3 MODBUS slave
 * (FX3U-485ADP-MB, standard device assignment) over an fxmem device memory.
 *
 * Two layers:
 *  1. mbs_handle_pdu(): a pure function (no I/O, no heap, no globals) that
 *     turns one request PDU into the whole response PDU, normal or exception,
 *     reading and writing the device memory.  Unit-tested and fuzzed.
 *  2. mbs_server: the transports.  Modbus TCP on one listen address (clients
 *     one after another) and Modbus RTU on a pseudo-terminal, in one select
 *     loop run by the owner (plcsim_serve).  libmodbus receives (framing, RTU
 *     CRC, MBAP); the answer is sent at once by us, never by modbus_reply():
 *     libmodbus 3.1.6's modbus_reply stalls for the response timeout on some
 *     exceptions and mishandles 0x07 and 0x11.
 *
 * Function codes (SPEC §4): 0x01 0x02 0x03 0x04 0x05 0x06 0x07 0x08 (sub 0,
 * return query data) 0x0F 0x10 0x11 (slave id 0xF3, run 0xFF) 0x16 0x17.
 * Exceptions: 01 unknown function or sub-function; 02 an address of the range
 * not assigned (regmap's fx_unmap); 03 a bad quantity, byte count, length or
 * coil value.  Checks go in the Modbus order: quantity (03) before address (02).
 *
 * A dead link (a fault scenario's link_silence): the owner's `silent` hook
 * makes the server read and drop requests, unanswered and unapplied, on an
 * open connection; the `dropped` hook lets the owner keep time running.
 *
 * Errors: 0 or a negative MBS_E* code; mbs_strerror() gives the text.
 */
#ifndef CROSSCLIMB_MBSERVER_H
#define CROSSCLIMB_MBSERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/select.h>

#include "../plc_bridge/regmap.h"
#include "fxmem.h"

/* ---------------------------------------------------------------- errors */
enum {
    MBS_OK = 0,
    MBS_EPDU = -1,    /* empty request PDU: nothing to answer */
    MBS_EBUF = -2,    /* response buffer too small */
    MBS_EURI = -3,    /* listen URI not understood */
    MBS_ELISTEN = -4, /* socket, bind or listen failed */
    MBS_EPTY = -5,    /* pseudo-terminal could not be made */
    MBS_ELINK = -6,   /* --pty-link symlink could not be made */
    MBS_ENOMEM = -7,  /* allocation or libmodbus context failed */
    MBS_EARG = -8,    /* bad argument (slave id, null) */
    MBS_EIO = -9,     /* select or accept failed */
};

/** mbs_strerror: text for an MBS_E* code (never NULL). */
const char *mbs_strerror(int code);

/* ------------------------------------------------------- protocol limits */
#define MBS_PDU_MAX 253u           /* Modbus PDU, bytes */
#define MBS_MAX_READ_BITS 2000u    /* FC 01/02 */
#define MBS_MAX_WRITE_BITS 1968u   /* FC 0F */
#define MBS_MAX_READ_REGS 125u     /* FC 03/04 and the read of FC 17 */
#define MBS_MAX_WRITE_REGS 123u    /* FC 10 */
#define MBS_MAX_WR_WRITE_REGS 121u /* the write of FC 17 */

#define MBS_SLAVE_ID 0xF3u  /* FC 11 slave id of an FX3 */
#define MBS_RUN_ON 0xFFu    /* FC 11 run indicator: RUN (M8000 on) */
#define MBS_RUN_OFF 0x00u   /* FC 11 run indicator: STOP */

/* Exception codes. */
#define MBS_EX_ILLEGAL_FUNCTION 0x01u
#define MBS_EX_ILLEGAL_ADDRESS 0x02u
#define MBS_EX_ILLEGAL_VALUE 0x03u

/* FC 07 answers one byte of vendor data: M8060..M8067 (the FX error flags:
 * I/O configuration, PLC hardware, communication, serial, parameter, syntax,
 * circuit, operation), bit n = M(8060+n).  0 on a healthy PLC. */
#define MBS_EXSTATUS_FIRST_M 8060u

/* What one request did: seen by the owner (plcsim) after the response is
 * built and before it is sent. */
typedef struct mbs_request_info {
    uint8_t function;  /* request function code (0 when the PDU was empty) */
    uint8_t exception; /* exception code answered, 0 = normal answer */
    uint8_t broadcast; /* RTU slave 0: applied, not answered */
    uint8_t wtable;    /* mb_table written (MB_TABLE_COIL / MB_TABLE_HOLDING) when wcount > 0 */
    uint16_t waddr;    /* first address written */
    uint16_t wcount;   /* coils or registers written; 0 = nothing written */
} mbs_request_info;

/**
 * mbs_handle_pdu: answer one request PDU (function code + data, no address
 * or checksum) against mem.  Writes are applied before the response is built,
 * so FC 17 reads what it has just written (Modbus spec: write before read).
 * Returns the response PDU length (> 0; 2 for an exception), MBS_EPDU for an
 * empty request or MBS_EBUF when rsp_cap is smaller than the answer (nothing
 * is written to mem then).  rsp_cap >= MBS_PDU_MAX is always enough.
 */
int mbs_handle_pdu(fxmem *mem, const uint8_t *req_pdu, size_t req_len, uint8_t *rsp_pdu,
                   size_t rsp_cap);

/**
 * mbs_handle_pdu_info: mbs_handle_pdu that also reports what the request did
 * (function, exception, write range) in *info (may be NULL).
 */
int mbs_handle_pdu_info(fxmem *mem, const uint8_t *req_pdu, size_t req_len, uint8_t *rsp_pdu,
                        size_t rsp_cap, mbs_request_info *info);

/**
 * mbs_peek_write: what the request PDU would write, without applying or
 * checking it: info->function and, for FC 05 06 0F 10 16 17 long enough to
 * carry their address and quantity, info->wtable / waddr / wcount (0 = no
 * write).  Pure; for requests that are dropped unanswered (link silence).
 */
void mbs_peek_write(const uint8_t *req_pdu, size_t req_len, mbs_request_info *info);

/**
 * mbs_info_touches: 1 when the request wrote into [first, first+count) of the
 * given table (e.g. the command block D200..D207 of the holding table), else 0.
 */
int mbs_info_touches(const mbs_request_info *info, mb_table table, uint16_t first,
                     uint16_t count);

/**
 * mbs_parse_tcp_uri: split "tcp://HOST:PORT" ("tcp://[::1]:1502" for IPv6;
 * port 0 = any free port; no port = 1502) into host and port.  Returns 0 or
 * MBS_EURI (with a reason in err when err is not NULL).
 */
int mbs_parse_tcp_uri(const char *uri, char *host, size_t hostlen, uint16_t *port, char *err,
                      size_t errlen);

#define MBS_DEFAULT_LISTEN "tcp://127.0.0.1:1502"

/* ---------------------------------------------------------------- server */
typedef struct mbs_config {
    const char *listen_uri; /* "tcp://HOST:PORT", NULL = no TCP */
    int rtu_pty;            /* 1 = serve Modbus RTU on a new pseudo-terminal */
    const char *pty_link;   /* symlink made to the pty slave, removed at close; NULL = none */
    int slave;              /* RTU slave id 1..247 (TCP answers any unit id, echoing it) */
    /* Test hooks (link supervision tests): */
    int no_fc17;            /* answer FC 17 with exception 01, like a gateway without it */
    unsigned drop_reply;    /* apply but do not answer the N-th command-block write (1-based); 0 = off */
    unsigned silent_after;  /* after N requests, neither apply nor answer (link stays open); 0 = off */
} mbs_config;

/** mbs_config_default: TCP on MBS_DEFAULT_LISTEN, no pty, slave 1, no test hooks. */
void mbs_config_default(mbs_config *cfg);

/* Callbacks into the owner; any may be NULL. */
typedef struct mbs_hooks {
    void *owner;
    /* A request has arrived and is about to be handled: bring the memory up
     * to date (plcsim runs the idle scans that are due). */
    void (*before)(void *owner);
    /* The request was handled and its answer built (or it was a broadcast);
     * it is sent right after this returns.  plcsim advances time here. */
    void (*after)(void *owner, const mbs_request_info *info);
    /* Link silence (a fault scenario's link_silence): asked for every
     * request, after `before` (so the owner's clock is current); nonzero =
     * the link is dead: the request is read and dropped, neither applied nor
     * answered, and the connection stays open, like a cut serial line. */
    int (*silent)(void *owner);
    /* A request dropped by `silent`: info says what it would have written
     * (mbs_peek_write; nothing was).  The owner may let time run for it. */
    void (*dropped)(void *owner, const mbs_request_info *info);
} mbs_hooks;

typedef struct mbs_stats {
    uint64_t requests;     /* requests for this slave (or broadcast) handled */
    uint64_t replies;      /* answers sent */
    uint64_t exceptions;   /* of which exceptions */
    uint64_t cmd_writes;   /* successful writes into the command block D200..D207 */
    uint64_t dropped;      /* answers withheld by --drop-reply */
    uint64_t silenced;     /* requests ignored by --silent-after */
    uint64_t link_dropped; /* requests dropped while the `silent` hook said so */
    uint64_t foreign;      /* RTU requests for another slave */
    uint64_t bad_frames;   /* CRC errors, broken MBAP, partial frames */
    uint64_t connections;  /* TCP connections accepted */
} mbs_stats;

typedef struct mbs_server mbs_server;

/**
 * mbs_server_open: open the transports of cfg serving mem: bind and listen
 * (TCP), make the pty pair and the link (RTU).  On failure returns an MBS_E*
 * code with the detail (which address, which errno) in err.
 */
int mbs_server_open(mbs_server **out, fxmem *mem, const mbs_config *cfg, const mbs_hooks *hooks,
                    char *err, size_t errlen);

/** mbs_server_tcp_uri: "tcp://127.0.0.1:PORT" with the real port, or NULL without TCP. */
const char *mbs_server_tcp_uri(const mbs_server *srv);

/** mbs_server_tcp_port: the real TCP port, 0 without TCP. */
int mbs_server_tcp_port(const mbs_server *srv);

/** mbs_server_pty_path: "/dev/pts/N", or NULL without RTU. */
const char *mbs_server_pty_path(const mbs_server *srv);

/** mbs_server_stats: counters since open. */
const mbs_stats *mbs_server_stats(const mbs_server *srv);

/**
 * mbs_server_prepare: add the descriptors to watch for reading to rd and
 * raise *maxfd.  While a TCP client is connected the listen socket is left
 * out, so the next client is accepted when this one has gone.
 */
void mbs_server_prepare(const mbs_server *srv, fd_set *rd, int *maxfd);

/**
 * mbs_server_dispatch: serve the descriptors of rd that are ready: accept a
 * client, or receive one request and answer it.  Returns 0 (a broken
 * connection or frame is handled, not an error) or MBS_EIO.
 */
int mbs_server_dispatch(mbs_server *srv, const fd_set *rd);

/** mbs_server_close: close every socket and the pty, remove the link, free. NULL is fine. */
void mbs_server_close(mbs_server *srv);

#endif
