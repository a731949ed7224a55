/*
 * uri.h — PLC link addresses (SPEC §3).
 *
 *   tcp://HOST:PORT[?slave=N&timeout_ms=N&byte_timeout_ms=N&retries=N]
 *   rtu:PATH[?baud=19200&parity=E&data=8&stop=1&slave=1&rs485=0
 *             &timeout_ms=N&byte_timeout_ms=N&retries=N]
 *
 * Defaults suit an FX link: 19200 baud, 8E1, slave 1, RS-232 (rs485=0).
 * Errors: 0 or a negative URI_E* code; the err buffer gets a sentence that
 * names the offending part ("baud=12x: not a number").
 */
#ifndef CROSSCLIMB_URI_H
#define CROSSCLIMB_URI_H

#include <stddef.h>
#include <stdint.h>

enum {
    URI_OK = 0,
    URI_ESCHEME = -1, /* neither tcp:// nor rtu: */
    URI_EHOST = -2,   /* empty or too long host / path */
    URI_EPORT = -3,   /* port missing or not 1..65535 */
    URI_EPARAM = -4,  /* unknown query parameter, or one not valid for the scheme */
    URI_EVALUE = -5,  /* parameter value out of range or not a number */
};

typedef enum { LINK_TCP = 0, LINK_RTU, LINK_KIND_COUNT } link_kind;

#define URI_HOST_MAX 255
#define URI_PATH_MAX 255

typedef struct {
    link_kind kind;
    char host[URI_HOST_MAX + 1]; /* tcp */
    uint16_t port;               /* tcp; 0 only when the caller allows it */
    char path[URI_PATH_MAX + 1]; /* rtu: device path */
    uint32_t baud;               /* rtu */
    char parity;                 /* 'N', 'E' or 'O' */
    uint8_t data_bits;           /* 5..8 */
    uint8_t stop_bits;           /* 1 or 2 */
    uint8_t rs485;               /* 1: ask the adapter for RS-485 mode */
    uint8_t slave;               /* 1..247 (tcp: unit id, 0..255) */
    uint32_t response_timeout_ms;
    uint32_t byte_timeout_ms;
    uint8_t retries;             /* extra attempts per cycle after a failure */
} link_uri;

#define URI_DEFAULT_BAUD 19200u
#define URI_DEFAULT_RESPONSE_TIMEOUT_MS 300u
#define URI_DEFAULT_BYTE_TIMEOUT_MS 100u
#define URI_DEFAULT_RETRIES 2u

/** uri_strerror: text for a URI_E* code. */
const char *uri_strerror(int code);

/**
 * link_uri_parse: parse s into out (defaults filled in first).  allow_port0
 * permits tcp port 0 (a server asking for any free port).  Returns 0 or a
 * URI_E* code with a sentence in err (may be NULL).
 */
int link_uri_parse(const char *s, int allow_port0, link_uri *out, char *err, size_t errlen);

/**
 * link_uri_format: canonical text of u ("rtu:/dev/ttyUSB0?baud=19200&parity=E&...").
 * Returns 0, or URI_EHOST when buf is too small.
 */
int link_uri_format(const link_uri *u, char *buf, size_t len);

#endif
