/*
 * uri.c — parse and print PLC link URIs.  See uri.h.
 */
#include "uri.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *uri_strerror(int code)
{
    switch (code) {
    case URI_OK: return "success";
    case URI_ESCHEME: return "unknown link scheme (expected tcp://HOST:PORT or rtu:PATH?...)";
    case URI_EHOST: return "missing or too long host or device path";
    case URI_EPORT: return "missing or invalid port";
    case URI_EPARAM: return "unknown link parameter";
    case URI_EVALUE: return "invalid link parameter value";
    default: return "unknown URI error";
    }
}

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Strict unsigned decimal in [lo, hi]; the whole string must be digits. */
static int parse_u32(const char *s, size_t len, uint32_t lo, uint32_t hi, uint32_t *out)
{
    if (len == 0 || len > 10) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10u + (uint64_t)(s[i] - '0');
    }
    if (v < lo || v > hi) return -1;
    *out = (uint32_t)v;
    return 0;
}

static void set_defaults(link_uri *u)
{
    memset(u, 0, sizeof *u);
    u->baud = URI_DEFAULT_BAUD;
    u->parity = 'E';
    u->data_bits = 8;
    u->stop_bits = 1;
    u->slave = 1;
    u->response_timeout_ms = URI_DEFAULT_RESPONSE_TIMEOUT_MS;
    u->byte_timeout_ms = URI_DEFAULT_BYTE_TIMEOUT_MS;
    u->retries = URI_DEFAULT_RETRIES;
}

/* Apply one key=value pair of the query. */
static int apply_param(link_uri *u, const char *kv, size_t len, char *err, size_t errlen)
{
    const char *eq = memchr(kv, '=', len);
    if (!eq)
        return fail(err, errlen, URI_EPARAM, "'%.*s': expected key=value", (int)len, kv);
    size_t klen = (size_t)(eq - kv);
    const char *v = eq + 1;
    size_t vlen = len - klen - 1;
    uint32_t n = 0;
    int rtu = u->kind == LINK_RTU;

#define KEY(name) (klen == sizeof(name) - 1 && !memcmp(kv, name, klen))
#define NUM(lo, hi)                                                                          \
    do {                                                                                     \
        if (parse_u32(v, vlen, (lo), (hi), &n))                                              \
            return fail(err, errlen, URI_EVALUE, "%.*s=%.*s: expected a whole number %u..%u", \
                        (int)klen, kv, (int)vlen, v, (unsigned)(lo), (unsigned)(hi));        \
    } while (0)

    if (KEY("slave")) {
        NUM(rtu ? 1u : 0u, rtu ? 247u : 255u);
        u->slave = (uint8_t)n;
    } else if (KEY("timeout_ms")) {
        NUM(1u, 60000u);
        u->response_timeout_ms = n;
    } else if (KEY("byte_timeout_ms")) {
        NUM(1u, 60000u);
        u->byte_timeout_ms = n;
    } else if (KEY("retries")) {
        NUM(0u, 10u);
        u->retries = (uint8_t)n;
    } else if (rtu && KEY("baud")) {
        NUM(300u, 4000000u);
        u->baud = n;
    } else if (rtu && KEY("parity")) {
        if (vlen != 1 || !strchr("NEOneo", v[0]))
            return fail(err, errlen, URI_EVALUE, "parity=%.*s: expected N, E or O", (int)vlen, v);
        u->parity = (char)(v[0] & ~0x20); /* upper case */
    } else if (rtu && KEY("data")) {
        NUM(5u, 8u);
        u->data_bits = (uint8_t)n;
    } else if (rtu && KEY("stop")) {
        NUM(1u, 2u);
        u->stop_bits = (uint8_t)n;
    } else if (rtu && KEY("rs485")) {
        NUM(0u, 1u);
        u->rs485 = (uint8_t)n;
    } else {
        return fail(err, errlen, URI_EPARAM, "'%.*s' is not a parameter of a %s link", (int)klen,
                    kv, rtu ? "rtu:" : "tcp://");
    }
#undef KEY
#undef NUM
    return 0;
}

static int parse_query(link_uri *u, const char *q, char *err, size_t errlen)
{
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        int rc = apply_param(u, q, len, err, errlen);
        if (rc) return rc;
        if (!amp) break;
        q = amp + 1;
        if (!*q) return fail(err, errlen, URI_EPARAM, "empty parameter after '&'");
    }
    return 0;
}

int link_uri_parse(const char *s, int allow_port0, link_uri *out, char *err, size_t errlen)
{
    link_uri u;
    set_defaults(&u);
    if (!s) return fail(err, errlen, URI_ESCHEME, "no link URI given");
    const char *q = strchr(s, '?');
    size_t mainlen = q ? (size_t)(q - s) : strlen(s);

    if (!strncmp(s, "tcp://", 6)) {
        u.kind = LINK_TCP;
        const char *h = s + 6;
        size_t hlen = mainlen - 6;
        const char *colon = memchr(h, ':', hlen);
        if (!colon)
            return fail(err, errlen, URI_EPORT, "'%s': tcp link needs a port (tcp://HOST:PORT)", s);
        size_t nlen = (size_t)(colon - h);
        if (nlen == 0 || nlen > URI_HOST_MAX)
            return fail(err, errlen, URI_EHOST, "'%s': missing or too long host", s);
        memcpy(u.host, h, nlen);
        u.host[nlen] = '\0';
        uint32_t port;
        const char *p = colon + 1;
        size_t plen = hlen - nlen - 1;
        if (parse_u32(p, plen, allow_port0 ? 0u : 1u, 65535u, &port))
            return fail(err, errlen, URI_EPORT, "'%.*s': port must be a number %u..65535",
                        (int)plen, p, allow_port0 ? 0u : 1u);
        u.port = (uint16_t)port;
        u.slave = 1; /* FX gateways answer unit 1; the simulated PLC any */
    } else if (!strncmp(s, "rtu:", 4)) {
        u.kind = LINK_RTU;
        const char *p = s + 4;
        size_t plen = mainlen - 4;
        if (plen >= 2 && p[0] == '/' && p[1] == '/') { /* tolerate rtu:///dev/x */
            p += 2;
            plen -= 2;
        }
        if (plen == 0 || plen > URI_PATH_MAX)
            return fail(err, errlen, URI_EHOST, "'%s': rtu link needs a device path (rtu:/dev/ttyUSB0)",
                        s);
        memcpy(u.path, p, plen);
        u.path[plen] = '\0';
    } else {
        return fail(err, errlen, URI_ESCHEME,
                    "'%s': unknown link (expected tcp://HOST:PORT or rtu:PATH?baud=...)", s);
    }
    if (q) {
        int rc = parse_query(&u, q + 1, err, errlen);
        if (rc) return rc;
    }
    *out = u;
    return 0;
}

int link_uri_format(const link_uri *u, char *buf, size_t len)
{
    int n;
    if (u->kind == LINK_TCP)
        n = snprintf(buf, len, "tcp://%s:%u?slave=%u&timeout_ms=%u&retries=%u", u->host,
                     (unsigned)u->port, (unsigned)u->slave, (unsigned)u->response_timeout_ms,
                     (unsigned)u->retries);
    else
        /* "rtu://X" is read as "rtu:X", so a path that itself starts with
         * "//" needs the prefix written out to survive the round trip. */
        n = snprintf(buf, len,
                     "rtu:%s%s?baud=%u&parity=%c&data=%u&stop=%u&slave=%u&rs485=%u&timeout_ms=%u"
                     "&byte_timeout_ms=%u&retries=%u",
                     strncmp(u->path, "//", 2) ? "" : "//", u->path, (unsigned)u->baud, u->parity, (unsigned)u->data_bits,
                     (unsigned)u->stop_bits, (unsigned)u->slave, (unsigned)u->rs485,
                     (unsigned)u->response_timeout_ms, (unsigned)u->byte_timeout_ms,
                     (unsigned)u->retries);
    if (n < 0 || (size_t)n >= len) return URI_EHOST;
    return 0;
}
