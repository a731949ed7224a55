/*
 * camclient.h — the controller's client of the camera channel
 * (docs/camera-channel.md; SPEC §7): one frame of the view along a heading,
 * asked for before each half-step and handed to the perception gate as a
 * feat_camera (perception/features.h).  Perception and the gate never see
 * the network: the mission gets the frames through its optional frame
 * source (mission.h: camera_fn), which the front (cli/cmd_run.c) points at
 * camc_frame.
 *
 * Address: exactly tcp://HOST:PORT (HOST a name, an IPv4 address or an
 * IPv6 address in brackets; PORT 1..65535); anything else is CAMC_EURI with
 * a message naming the URI.  HOST is resolved once, by camc_open.
 *
 * Connection: lazy (the first camc_frame connects) and made again after
 * any error: an error closes the connection, so the next call reconnects.
 *
 * Exchange (camc_frame): the request line "FRAME <heading>\n" (heading in
 * degrees, %.1f, counterclockwise from +X: 0 +X, 90 +Y, 180 -X, 270 -Y),
 * then one binary PGM read with poll()-based timeouts, the whole exchange
 * (connect included) bounded by the client's timeout_ms.  The answer is
 * read strictly (camc_parse_header):
 *
 *   P5\n
 *   # crossclimb camera ... online=0|1 ...\n   (at most CAMC_COMMENT_MAX bytes)
 *   W H\n        W, H multiples of 8, 8..FEAT_MAX_CAM_W / 8..FEAT_MAX_CAM_H,
 *                decimal, no sign, no leading zero
 *   255\n
 *   exactly W*H bytes of pixels
 *
 * The server's "ERR <reason>\n" answer is CAMC_ESERVER (reason in the last
 * error).  Any error leaves out->online false.
 *
 * Memory: camc_open allocates the client and its pixel buffer
 * (FEAT_MAX_CAM_W * FEAT_MAX_CAM_H bytes, owned by the client: a frame's
 * pixels are valid until the next camc_frame or camc_close);
 * camc_frame allocates nothing (the control loop's rule).
 *
 * Errors: 0 or a negative CAMC_E* code (camc_strerror); the last error's
 * sentence is camc_last_error.
 */
#ifndef CROSSCLIMB_CONTROLLER_CAMCLIENT_H
#define CROSSCLIMB_CONTROLLER_CAMCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perception/features.h"

enum {
    CAMC_OK = 0,
    CAMC_EARG = -1,     /* NULL pointer, non-finite heading */
    CAMC_EURI = -2,     /* not tcp://HOST:PORT, or HOST does not resolve */
    CAMC_ENOMEM = -3,   /* the client or its buffer could not be allocated */
    CAMC_ECONNECT = -4, /* connect failed */
    CAMC_ETIMEOUT = -5, /* the exchange did not complete within timeout_ms */
    CAMC_EIO = -6,      /* send or receive failed, or the server closed the connection */
    CAMC_EPROTO = -7,   /* the answer is not a frame of the protocol */
    CAMC_ESERVER = -8,  /* the server answered ERR <reason> */
    CAMC_EPARTIAL = -9, /* camc_parse_header: the header is not complete yet */
};

#define CAMC_TIMEOUT_MS_DEFAULT 200u /* whole exchange, connect included */
#define CAMC_COMMENT_MAX 160u        /* the comment line, its '\n' included */
#define CAMC_HEADER_MAX 192u         /* the whole header: "P5\n" + comment + "W H\n" + "255\n" */

/** camc_strerror: text of a CAMC_E* code (never NULL). */
const char *camc_strerror(int code);

/* The header of one answer, as camc_parse_header reads it. */
typedef struct camc_header {
    bool online;       /* the comment's online=1 */
    unsigned width;    /* pixels, multiple of 8 */
    unsigned height;   /* pixels, multiple of 8 */
    size_t header_len; /* bytes of the header; the pixels start there */
} camc_header;

/**
 * camc_parse_header: read the PGM header at the start of buf[0..len)
 * (see above; pure, no I/O, no allocation).  Returns 0 with *h filled,
 * CAMC_EPARTIAL when the bytes so far are a valid beginning of a header but
 * not all of it, CAMC_EPROTO when they cannot be one (a buffer of
 * CAMC_HEADER_MAX bytes or more without a whole header is one), CAMC_EARG
 * for NULL pointers.
 */
int camc_parse_header(const uint8_t *buf, size_t len, camc_header *h);

typedef struct camc camc;

/**
 * camc_open: a client of the camera at uri (tcp://HOST:PORT; HOST resolved
 * here), each exchange bounded by timeout_ms (0: CAMC_TIMEOUT_MS_DEFAULT).
 * Does not connect.  Returns 0 with *out set, CAMC_EARG, CAMC_EURI (message
 * in err naming the URI) or CAMC_ENOMEM.  Release with camc_close.
 */
int camc_open(camc **out, const char *uri, unsigned timeout_ms, char *err, size_t errlen);

/**
 * camc_frame: one frame of the view along heading_deg (degrees, any finite
 * value; sent normalised to [0, 360) with %.1f).  Connects when not
 * connected.  On success *out is the frame (online as the header says; the
 * pixels in the client's buffer).  On any error out->online is false and
 * the connection is closed.  Returns 0 or a negative CAMC_E* code.  No
 * allocation.
 */
int camc_frame(camc *c, double heading_deg, feat_camera *out);

/** camc_last_error: a sentence about the last error ("" after a success; never NULL). */
const char *camc_last_error(const camc *c);

/** camc_uri: the URI the client was opened with (never NULL). */
const char *camc_uri(const camc *c);

/** camc_close: close the connection and free the client; NULL-safe. */
void camc_close(camc *c);

#endif
