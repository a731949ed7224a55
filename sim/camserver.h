/*
 * camserver.h — the simulator's camera channel: frames of the simulated
 * camera (sim/camera.h) served next to the Modbus link, and dumped to PGM
 * files for inspection.  docs/camera-channel.md is the protocol.
 *
 * The channel: TCP on one listen address (loopback unless the caller names
 * another host), one client at a time (the next waits in the listen backlog
 * and is served when this one has gone).  A request is one line:
 *
 *     FRAME\n                 the view ahead along +Y (up the facade)
 *     FRAME <heading>\n       <heading> in degrees in the facade plane,
 *                             counterclockwise from +X (0 = +X, 90 = +Y,
 *                             180 = -X, -90 = -Y), -360..360, or one of
 *                             +X -X +Y -Y
 *
 * (a '\r' before the '\n' is allowed).  The answer is one binary PGM:
 *
 *     P5\n# crossclimb camera t_ms=<ms> frame=<n> online=<0|1> heading_deg=<h>\n
 *     <w> <h>\n255\n<w x h bytes, row 0 = the far edge>
 *
 * rendered on demand from the robot's physics state as the last PLC scan
 * left it (t_ms is that state's virtual time), so a frame is consistent
 * with what Modbus shows.  A camera blackout (a fault) gives all-zero
 * pixels and online=0.  A request that is not understood is answered
 * "ERR <reason>\n" and the connection stays open; a line longer than
 * CAMSRV_LINE_MAX - 1 bytes is answered "ERR request longer than 63
 * bytes\n" and the connection is closed (the stream cannot be trusted).
 * A client that leaves answers unread until the socket buffer is full is
 * disconnected: the simulator never blocks on it.
 *
 * Served in the simulator's select loop (camsrv_channel -> plcsim), no
 * threads.  The served frames draw their noise from the camera's own
 * streams (sim/camera.h): serving frames never changes the robot's physics,
 * sensors or ground-truth log.  Dumped frames use a second camera state of
 * the same seed, so dumping does not change the frames served either.
 *
 * Memory: camsrv_open allocates one block (about 190 KiB: two camera
 * states, a frame and its answer buffer); requests, renders and dumps
 * allocate nothing.
 *
 * Errors: 0 or a negative CAMSRV_E* code; camsrv_strerror() gives the text.
 */
#ifndef CROSSCLIMB_CAMSERVER_H
#define CROSSCLIMB_CAMSERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/select.h>

#include "camera.h"
#include "physics.h"
#include "plcsim.h"

enum {
    CAMSRV_OK = 0,
    CAMSRV_EARG = -1,    /* NULL, or a bad camera configuration or cadence */
    CAMSRV_EURI = -2,    /* listen URI not understood */
    CAMSRV_ELISTEN = -3, /* socket, bind or listen failed */
    CAMSRV_ENOMEM = -4,  /* out of memory */
    CAMSRV_EDUMP = -5,   /* the dump directory cannot be made, or a frame not written */
    CAMSRV_EREQ = -6,    /* a request line that is not understood */
    CAMSRV_EIO = -7,     /* accept or receive failed */
};

/** camsrv_strerror: text for a CAMSRV_E* code (never NULL). */
const char *camsrv_strerror(int code);

#define CAMSRV_LINE_MAX 64                /* bytes of a request line, its '\n' included */
#define CAMSRV_HEADER_MAX 160             /* bytes of an answer's PGM header */
#define CAMSRV_HEADING_DEFAULT_DEG 90.0   /* "FRAME" alone: +Y, up the facade */
#define CAMSRV_DUMP_EVERY_MS_DEFAULT 1000u
#define CAMSRV_DUMP_EVERY_MS_MAX 3600000u /* one frame an hour at the least */

typedef struct {
    const char *listen_uri;  /* "tcp://HOST:PORT" (port 0 = any free one); NULL = no channel */
    const char *dump_dir;    /* write a PGM here every dump_every_ms; NULL = no dumps */
    uint32_t dump_every_ms;  /* 1..CAMSRV_DUMP_EVERY_MS_MAX */
    uint64_t seed;           /* of the lighting and the noise: the robot's seed */
    const cam_config *cam;   /* NULL = cam_defaults (64 x 48) */
} camsrv_config;

typedef struct {
    uint64_t clients;   /* connections accepted */
    uint64_t frames;    /* frames sent */
    uint64_t errors;    /* ERR answers */
    uint64_t stalled;   /* clients dropped because their socket was full */
    uint64_t dumps;     /* frames written to the dump directory */
    uint64_t render_ns; /* wall time spent rendering (served and dumped) */
} camsrv_stats;

typedef struct camsrv camsrv;

/** camsrv_config_default: no channel, no dumps, cadence 1000 ms, seed 1, default camera. */
void camsrv_config_default(camsrv_config *cfg);

/**
 * camsrv_parse_uri: split "tcp://HOST:PORT" ("tcp://[::1]:PORT" for IPv6)
 * into host and port; unlike a Modbus address the port must be given (0 =
 * any free port).  Returns 0 or CAMSRV_EURI with the reason in err.
 */
int camsrv_parse_uri(const char *uri, char *host, size_t hostlen, uint16_t *port, char *err,
                     size_t errlen);

/**
 * camsrv_parse_request: one request line line[0..len) without its '\n' (a
 * trailing '\r' is ignored).  On success *heading_deg is the heading asked
 * for (CAMSRV_HEADING_DEFAULT_DEG for a bare FRAME).  Returns 0 or
 * CAMSRV_EREQ with the reason for the ERR answer in why (printable ASCII,
 * the client's words shown at most 24 characters long).  Pure.
 */
int camsrv_parse_request(const char *line, size_t len, double *heading_deg, char *why,
                         size_t whylen);

/**
 * camsrv_open: the camera (cfg->cam, seeded with cfg->seed) looking at the
 * robot ps (read at each render; it must outlive the server), listening on
 * cfg->listen_uri and/or dumping to cfg->dump_dir (made if missing, one
 * level).  Returns 0 or CAMSRV_EARG / EURI / ELISTEN / ENOMEM / EDUMP with
 * the detail in err.
 */
int camsrv_open(camsrv **out, const camsrv_config *cfg, const phys_state *ps, char *err,
                size_t errlen);

/** camsrv_uri: "tcp://127.0.0.1:PORT" with the real port, or NULL without a channel. */
const char *camsrv_uri(const camsrv *cs);

/** camsrv_prepare: add the descriptor to watch (the client, else the listen socket). */
void camsrv_prepare(const camsrv *cs, fd_set *rd, int *maxfd);

/**
 * camsrv_dispatch: accept a client, or read its requests and answer every
 * complete one.  Returns 0 (a broken client is dropped, not an error).
 */
int camsrv_dispatch(camsrv *cs, const fd_set *rd);

/** camsrv_channel: cs as a side channel of the simulator's loop (plcsim_serve_channels). */
plcsim_channel camsrv_channel(camsrv *cs);

/**
 * camsrv_dump_tick: at the first call at or after every dump_every_ms of
 * virtual time (t = 0 included), write the frame of now as
 * DIR/frame-<t_ms, 10 digits>.pgm (atomically: cam_write_pgm), looking
 * along the heading the last request asked for (+Y before any).  Call it
 * after each input refresh (robotplant_on_input).  Returns 0, or
 * CAMSRV_EDUMP the first time a frame cannot be written (message in err;
 * dumping stops there).
 */
int camsrv_dump_tick(camsrv *cs, uint64_t now_ms, char *err, size_t errlen);

/** camsrv_stats_get: counters since open. */
const camsrv_stats *camsrv_stats_get(const camsrv *cs);

/** camsrv_close: close the sockets and free.  NULL is fine. */
void camsrv_close(camsrv *cs);

#endif
