/*
 * camclient.c — the controller's client of the camera channel (camclient.h).
 */
#include "controller/camclient.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CAMC_URI_MAX 160u
#define CAMC_SIZE_LINE_MAX 12u /* "WWWW HHHH\n" and a little */
#define CAMC_ERR_LINE_MAX CAMC_HEADER_MAX

static const char camc_magic[] = "P5\n";
static const char camc_comment[] = "# crossclimb camera";
static const char camc_maxval[] = "255\n";

struct camc {
    int fd;                          /* -1: not connected */
    unsigned timeout_ms;             /* whole exchange */
    struct sockaddr_storage addr;    /* resolved by camc_open */
    socklen_t addr_len;
    char uri[CAMC_URI_MAX + 1];
    char err[512];
    uint8_t hdr[CAMC_HEADER_MAX];    /* the header as it comes (and the first pixels) */
    uint8_t *pix;                    /* FEAT_MAX_CAM_W * FEAT_MAX_CAM_H bytes */
};

const char *camc_strerror(int code)
{
    switch (code) {
    case CAMC_OK: return "ok";
    case CAMC_EARG: return "bad argument";
    case CAMC_EURI: return "not a camera URI (tcp://HOST:PORT)";
    case CAMC_ENOMEM: return "out of memory for the camera client";
    case CAMC_ECONNECT: return "cannot connect to the camera";
    case CAMC_ETIMEOUT: return "the camera did not answer in time";
    case CAMC_EIO: return "camera connection failed";
    case CAMC_EPROTO: return "the camera's answer is not a frame";
    case CAMC_ESERVER: return "the camera refused the request";
    case CAMC_EPARTIAL: return "the frame header is incomplete";
    default: return "unknown camera client error";
    }
}

/* ------------------------------------------------------------ the header */

/* A fixed text lit at b[pos..]: 1 whole, 0 a valid beginning (partial), -1 not. */
static int match_fixed(const uint8_t *b, size_t len, size_t pos, const char *lit, size_t lit_len)
{
    size_t have = len - pos < lit_len ? len - pos : lit_len;
    if (have == 0) return lit_len == 0 ? 1 : 0; /* b may be NULL with len 0 */
    if (memcmp(b + pos, lit, have) != 0) return -1;
    return have == lit_len ? 1 : 0;
}

static int is_blank(uint8_t ch) { return ch == ' ' || ch == '\t'; }

/* The comment line b[s..e) (without its '\n'): the magic, then words with
 * exactly one online=0|1.  Returns 0 with *online, or CAMC_EPROTO. */
static int parse_comment(const uint8_t *b, size_t s, size_t e, bool *online)
{
    const size_t ml = sizeof camc_comment - 1;
    int seen = 0;
    if (e - s < ml || memcmp(b + s, camc_comment, ml) != 0) return CAMC_EPROTO;
    size_t i = s + ml;
    if (i == e || !is_blank(b[i])) return CAMC_EPROTO; /* "# crossclimb cameraX" or no words */
    while (i < e) {
        while (i < e && is_blank(b[i])) i++;
        size_t w = i;
        while (i < e && !is_blank(b[i])) i++;
        const size_t wl = i - w;
        if (wl >= 7 && memcmp(b + w, "online=", 7) == 0) {
            if (wl != 8 || (b[w + 7] != '0' && b[w + 7] != '1') || seen) return CAMC_EPROTO;
            *online = b[w + 7] == '1';
            seen = 1;
        }
    }
    return seen ? CAMC_OK : CAMC_EPROTO;
}

/* A decimal 1..9999 at b[*pos..end), no sign, no leading zero. */
static int parse_dim(const uint8_t *b, size_t end, size_t *pos, unsigned *out)
{
    size_t i = *pos;
    unsigned v = 0;
    if (i >= end || b[i] < '1' || b[i] > '9') return CAMC_EPROTO;
    while (i < end && b[i] >= '0' && b[i] <= '9') {
        if (i - *pos >= 4) return CAMC_EPROTO;
        v = v * 10u + (unsigned)(b[i] - '0');
        i++;
    }
    *pos = i;
    *out = v;
    return CAMC_OK;
}

int camc_parse_header(const uint8_t *buf, size_t len, camc_header *h)
{
    if ((!buf && len) || !h) return CAMC_EARG;
    camc_header r = {false, 0, 0, 0};
    size_t pos = 0;
    int m = match_fixed(buf, len, pos, camc_magic, sizeof camc_magic - 1);
    if (m < 0) return CAMC_EPROTO;
    if (m == 0) return CAMC_EPARTIAL;
    pos += sizeof camc_magic - 1;

    /* the comment line: printable, at most CAMC_COMMENT_MAX bytes with its '\n' */
    const size_t cs = pos;
    const size_t ml = sizeof camc_comment - 1;
    if (match_fixed(buf, len, cs, camc_comment, ml) < 0) return CAMC_EPROTO;
    size_t nl = cs;
    while (nl < len && nl - cs < CAMC_COMMENT_MAX && buf[nl] != '\n') {
        if ((buf[nl] < 0x20 && buf[nl] != '\t') || buf[nl] > 0x7e) return CAMC_EPROTO;
        nl++;
    }
    if (nl - cs >= CAMC_COMMENT_MAX) return CAMC_EPROTO;
    if (nl == len) return CAMC_EPARTIAL;
    if (parse_comment(buf, cs, nl, &r.online)) return CAMC_EPROTO;
    pos = nl + 1;

    /* "W H\n" */
    const size_t ss = pos;
    nl = ss;
    while (nl < len && nl - ss < CAMC_SIZE_LINE_MAX && buf[nl] != '\n') {
        if (!(buf[nl] == ' ' || (buf[nl] >= '0' && buf[nl] <= '9'))) return CAMC_EPROTO;
        nl++;
    }
    if (nl - ss >= CAMC_SIZE_LINE_MAX) return CAMC_EPROTO;
    if (nl == len) return CAMC_EPARTIAL;
    size_t i = ss;
    if (parse_dim(buf, nl, &i, &r.width)) return CAMC_EPROTO;
    if (i >= nl || buf[i] != ' ') return CAMC_EPROTO;
    i++;
    if (parse_dim(buf, nl, &i, &r.height) || i != nl) return CAMC_EPROTO;
    if (r.width % FEAT_PATCH || r.height % FEAT_PATCH || r.width > FEAT_MAX_CAM_W ||
        r.height > FEAT_MAX_CAM_H)
        return CAMC_EPROTO;
    pos = nl + 1;

    m = match_fixed(buf, len, pos, camc_maxval, sizeof camc_maxval - 1);
    if (m < 0) return CAMC_EPROTO;
    if (m == 0) return CAMC_EPARTIAL;
    r.header_len = pos + sizeof camc_maxval - 1;
    *h = r;
    return CAMC_OK;
}

/* ------------------------------------------------------------ the client */

/* tcp://HOST:PORT into host and port (text); 0 or -1. */
static int split_uri(const char *uri, char *host, size_t hostlen, char *port, size_t portlen)
{
    static const char scheme[] = "tcp://";
    if (strncmp(uri, scheme, sizeof scheme - 1) != 0) return -1;
    const char *hs = uri + sizeof scheme - 1, *he, *ps;
    if (*hs == '[') {
        hs++;
        he = strchr(hs, ']');
        if (!he || he[1] != ':') return -1;
        ps = he + 2;
        for (const char *q = hs; q < he; q++)
            if (!(strchr("0123456789abcdefABCDEF:.", *q))) return -1;
    } else {
        he = strchr(hs, ':');
        if (!he) return -1;
        ps = he + 1;
        for (const char *q = hs; q < he; q++)
            if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
                  *q == '.' || *q == '-'))
                return -1;
    }
    const size_t hl = (size_t)(he - hs), pl = strlen(ps);
    if (hl == 0 || hl >= hostlen || pl == 0 || pl > 5 || pl >= portlen) return -1;
    unsigned long p = 0;
    for (size_t k = 0; k < pl; k++) {
        if (ps[k] < '0' || ps[k] > '9') return -1;
        p = p * 10u + (unsigned long)(ps[k] - '0');
    }
    if (ps[0] == '0' || p < 1 || p > 65535) return -1;
    memcpy(host, hs, hl);
    host[hl] = '\0';
    memcpy(port, ps, pl + 1);
    return 0;
}

int camc_open(camc **out, const char *uri, unsigned timeout_ms, char *err, size_t errlen)
{
    char host[256], port[8];
    struct addrinfo hints, *ai = NULL;
    camc *c = NULL;
    int rc = CAMC_OK;
    if (err && errlen) err[0] = '\0';
    if (!out || !uri) return CAMC_EARG;
    *out = NULL;
    if (strlen(uri) > CAMC_URI_MAX || split_uri(uri, host, sizeof host, port, sizeof port)) {
        if (err && errlen)
            snprintf(err, errlen, "camera '%.*s': a camera URI is tcp://HOST:PORT (PORT 1..65535)", 120,
                     uri);
        rc = CAMC_EURI;
        goto fail;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g != 0 || !ai || ai->ai_addrlen > sizeof(struct sockaddr_storage)) {
        if (err && errlen)
            snprintf(err, errlen, "camera '%s': cannot resolve '%s': %s", uri, host,
                     g ? gai_strerror(g) : "no address");
        rc = CAMC_EURI;
        goto fail;
    }
    c = calloc(1, sizeof *c);
    if (c) c->pix = malloc((size_t)FEAT_MAX_CAM_W * FEAT_MAX_CAM_H);
    if (!c || !c->pix) {
        if (err && errlen) snprintf(err, errlen, "camera '%s': %s", uri, camc_strerror(CAMC_ENOMEM));
        rc = CAMC_ENOMEM;
        goto fail;
    }
    c->fd = -1;
    c->timeout_ms = timeout_ms ? timeout_ms : CAMC_TIMEOUT_MS_DEFAULT;
    memcpy(&c->addr, ai->ai_addr, ai->ai_addrlen);
    c->addr_len = ai->ai_addrlen;
    snprintf(c->uri, sizeof c->uri, "%s", uri);
    freeaddrinfo(ai);
    *out = c;
    return CAMC_OK;
fail:
    if (ai) freeaddrinfo(ai);
    if (c) free(c->pix);
    free(c);
    return rc;
}

void camc_close(camc *c)
{
    if (!c) return;
    if (c->fd >= 0) close(c->fd);
    free(c->pix);
    free(c);
}

const char *camc_last_error(const camc *c) { return c ? c->err : "no camera client"; }

const char *camc_uri(const camc *c) { return c ? c->uri : ""; }

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on the socket until the deadline: 0, CAMC_ETIMEOUT or CAMC_EIO. */
static int wait_fd(camc *c, short events, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - now_ms();
        if (left <= 0) return CAMC_ETIMEOUT;
        struct pollfd p = {c->fd, events, 0};
        int r = poll(&p, 1, (int)left);
        if (r > 0) return CAMC_OK;
        if (r == 0) return CAMC_ETIMEOUT;
        if (errno != EINTR) return CAMC_EIO;
    }
}

static int connect_to(camc *c, int64_t deadline_ms)
{
    c->fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        snprintf(c->err, sizeof c->err, "camera %s: socket: %s", c->uri, strerror(errno));
        return CAMC_ECONNECT;
    }
    int one = 1;
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (const struct sockaddr *)&c->addr, c->addr_len) == 0) return CAMC_OK;
    if (errno != EINPROGRESS && errno != EINTR) {
        snprintf(c->err, sizeof c->err, "camera %s: connect: %s", c->uri, strerror(errno));
        return CAMC_ECONNECT;
    }
    int rc = wait_fd(c, POLLOUT, deadline_ms);
    if (rc) {
        snprintf(c->err, sizeof c->err, "camera %s: connect: %s", c->uri,
                 rc == CAMC_ETIMEOUT ? "timed out" : strerror(errno));
        return rc == CAMC_ETIMEOUT ? CAMC_ETIMEOUT : CAMC_ECONNECT;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
        snprintf(c->err, sizeof c->err, "camera %s: connect: %s", c->uri, strerror(soerr ? soerr : errno));
        return CAMC_ECONNECT;
    }
    return CAMC_OK;
}

static int send_all(camc *c, const char *buf, size_t n, int64_t deadline_ms)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = send(c->fd, buf + done, n - done, MSG_NOSIGNAL);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = wait_fd(c, POLLOUT, deadline_ms);
            if (rc == CAMC_OK) continue;
            snprintf(c->err, sizeof c->err, "camera %s: sending the request: %s", c->uri,
                     rc == CAMC_ETIMEOUT ? "timed out" : strerror(errno));
            return rc;
        }
        snprintf(c->err, sizeof c->err, "camera %s: sending the request: %s", c->uri, strerror(errno));
        return CAMC_EIO;
    }
    return CAMC_OK;
}

/* Some bytes into buf[0..cap): *got > 0, or an error (the peer's close is CAMC_EIO). */
static int recv_some(camc *c, uint8_t *buf, size_t cap, int64_t deadline_ms, size_t *got)
{
    for (;;) {
        ssize_t r = recv(c->fd, buf, cap, 0);
        if (r > 0) {
            *got = (size_t)r;
            return CAMC_OK;
        }
        if (r == 0) {
            snprintf(c->err, sizeof c->err, "camera %s: the camera closed the connection", c->uri);
            return CAMC_EIO;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int rc = wait_fd(c, POLLIN, deadline_ms);
            if (rc == CAMC_OK) continue;
            snprintf(c->err, sizeof c->err, "camera %s: no frame within %u ms", c->uri, c->timeout_ms);
            return rc;
        }
        snprintf(c->err, sizeof c->err, "camera %s: receiving the frame: %s", c->uri, strerror(errno));
        return CAMC_EIO;
    }
}

/* The answer begins "ERR ": 1 (its line whole in hdr[0..got): the reason in
 * err), 0 (could still be), -1 (not an ERR answer). */
static int err_answer(camc *c, size_t got)
{
    static const char e[] = "ERR ";
    if (match_fixed(c->hdr, got, 0, e, sizeof e - 1) < 0) return -1;
    const uint8_t *nl = memchr(c->hdr, '\n', got);
    if (!nl) return got < sizeof c->hdr ? 0 : 1;
    int n = (int)(nl - c->hdr);
    if (n > 0 && c->hdr[n - 1] == '\r') n--;
    snprintf(c->err, sizeof c->err, "camera %s: %.*s", c->uri, n, (const char *)c->hdr);
    return 1;
}

int camc_frame(camc *c, double heading_deg, feat_camera *out)
{
    char req[32];
    camc_header h;
    size_t got = 0;
    int rc;
    if (!out) return CAMC_EARG;
    out->online = false;
    out->width = out->height = 0;
    out->pixels = NULL;
    if (!c) return CAMC_EARG;
    if (!isfinite(heading_deg)) {
        snprintf(c->err, sizeof c->err, "camera %s: heading is not a number", c->uri);
        return CAMC_EARG;
    }
    const int64_t deadline = now_ms() + (int64_t)c->timeout_ms;
    double hd = fmod(heading_deg, 360.0);
    if (hd < 0.0) hd += 360.0;
    const int rn = snprintf(req, sizeof req, "FRAME %.1f\n", hd);
    c->err[0] = '\0';
    if (c->fd < 0 && (rc = connect_to(c, deadline)) != CAMC_OK) goto fail;
    if ((rc = send_all(c, req, (size_t)rn, deadline)) != CAMC_OK) goto fail;

    /* the header (the first pixels may come with it) */
    for (;;) {
        rc = camc_parse_header(c->hdr, got, &h);
        if (rc == CAMC_OK) break;
        if (rc != CAMC_EPARTIAL) {
            int e = err_answer(c, got);
            if (e > 0) {
                rc = CAMC_ESERVER;
                goto fail;
            }
            if (e < 0) {
                snprintf(c->err, sizeof c->err, "camera %s: the answer is not a crossclimb camera PGM "
                         "(P5, '# crossclimb camera ... online=0|1', W H in multiples of 8 up to %ux%u, 255)",
                         c->uri, FEAT_MAX_CAM_W, FEAT_MAX_CAM_H);
                goto fail;
            }
        }
        if (got == sizeof c->hdr) {
            rc = CAMC_EPROTO;
            snprintf(c->err, sizeof c->err, "camera %s: header longer than %u bytes", c->uri, CAMC_HEADER_MAX);
            goto fail;
        }
        size_t n = 0;
        if ((rc = recv_some(c, c->hdr + got, sizeof c->hdr - got, deadline, &n)) != CAMC_OK) goto fail;
        got += n;
    }
    const size_t need = (size_t)h.width * h.height, extra = got - h.header_len;
    if (extra > need) {
        rc = CAMC_EPROTO;
        snprintf(c->err, sizeof c->err, "camera %s: more bytes than one %ux%u frame", c->uri, h.width, h.height);
        goto fail;
    }
    memcpy(c->pix, c->hdr + h.header_len, extra);
    size_t have = extra;
    while (have < need) {
        size_t n = 0;
        if ((rc = recv_some(c, c->pix + have, need - have, deadline, &n)) != CAMC_OK) goto fail;
        have += n;
    }
    /* the protocol never sends unasked: a byte waiting now is not ours to
     * skip (the next answer would be read out of step); the server's close
     * after the frame ends the connection here, so the next call reconnects */
    uint8_t probe;
    ssize_t pk = recv(c->fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (pk > 0) {
        rc = CAMC_EPROTO;
        snprintf(c->err, sizeof c->err, "camera %s: more bytes than one %ux%u frame", c->uri, h.width, h.height);
        goto fail;
    }
    if (pk == 0) {
        close(c->fd);
        c->fd = -1;
    }
    out->online = h.online;
    out->width = h.width;
    out->height = h.height;
    out->pixels = c->pix;
    return CAMC_OK;
fail:
    if (!c->err[0]) snprintf(c->err, sizeof c->err, "camera %s: %s", c->uri, camc_strerror(rc));
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    out->online = false;
    out->width = out->height = 0;
    out->pixels = NULL;
    return rc;
}
