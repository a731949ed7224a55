/*
 * camserver.c — the camera channel and the frame dumps.  See camserver.h
 * and docs/camera-channel.md.
 */
#include "camserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CAMSRV_PI 3.14159265358979323846
#define CAMSRV_HEADING_MAX_DEG 360.0
#define CAMSRV_SHOW_MAX 24 /* characters of a client's word echoed in an ERR answer */
#define CAMSRV_BACKLOG 4

struct camsrv {
    const phys_state *ps; /* the robot looked at; not owned */
    camsrv_stats stats;
    /* the channel */
    int listen_fd;
    int client_fd;
    char uri[96];
    size_t line_used;            /* bytes of a request line received so far */
    char line[CAMSRV_LINE_MAX];
    double heading_deg;          /* last one asked for: dumps look that way too */
    /* dumps */
    int dumping;                 /* 1 while frames are dumped (0 after a failure) */
    uint32_t dump_every_ms;
    uint64_t next_dump_ms;
    char dump_dir[PATH_MAX];
    char dump_path[PATH_MAX + 32];
    /* cameras: served frames and dumped frames draw their own noise */
    cam_state cam;
    cam_state dump_cam;
    uint8_t pixels[CAM_MAX_W * CAM_MAX_H];
    uint8_t out[CAMSRV_HEADER_MAX + CAM_MAX_W * CAM_MAX_H]; /* header + pixels: one send */
};

const char *camsrv_strerror(int code)
{
    switch (code) {
    case CAMSRV_OK: return "ok";
    case CAMSRV_EARG: return "bad argument";
    case CAMSRV_EURI: return "bad camera URI";
    case CAMSRV_ELISTEN: return "cannot listen";
    case CAMSRV_ENOMEM: return "out of memory";
    case CAMSRV_EDUMP: return "cannot write a camera frame";
    case CAMSRV_EREQ: return "bad camera request";
    case CAMSRV_EIO: return "I/O error";
    default: return "unknown camera server error";
    }
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen) return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void camsrv_config_default(camsrv_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->dump_every_ms = CAMSRV_DUMP_EVERY_MS_DEFAULT;
    cfg->seed = 1;
}

/* ============================================================ the URI */

int camsrv_parse_uri(const char *uri, char *host, size_t hostlen, uint16_t *port, char *err,
                     size_t errlen)
{
    static const char scheme[] = "tcp://";
    if (!uri || !host || !port || strncmp(uri, scheme, sizeof scheme - 1) != 0) {
        set_err(err, errlen, "'%s': a camera URI is tcp://HOST:PORT", uri ? uri : "");
        return CAMSRV_EURI;
    }
    const char *h = uri + sizeof scheme - 1, *hend, *p;
    if (*h == '[') { /* [v6]:port */
        h++;
        hend = strchr(h, ']');
        if (!hend) {
            set_err(err, errlen, "'%s': missing ']' after the IPv6 address", uri);
            return CAMSRV_EURI;
        }
        p = hend + 1;
    } else {
        hend = h + strcspn(h, ":/?");
        p = hend;
    }
    size_t hl = (size_t)(hend - h);
    if (hl == 0) {
        set_err(err, errlen, "'%s': no host", uri);
        return CAMSRV_EURI;
    }
    if (hl >= hostlen) {
        set_err(err, errlen, "'%s': host name too long", uri);
        return CAMSRV_EURI;
    }
    /* No default port: the Modbus one (1502) would be a trap. */
    if (*p != ':' || p[1] < '0' || p[1] > '9') {
        set_err(err, errlen, "'%s': the port must be given, a number 0..65535 (0: any free port)",
                uri);
        return CAMSRV_EURI;
    }
    char *end;
    errno = 0;
    unsigned long pv = strtoul(p + 1, &end, 10);
    if (errno || pv > 65535 || *end != '\0') {
        set_err(err, errlen, "'%s': the port must be a number 0..65535 (0: any free port)", uri);
        return CAMSRV_EURI;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)pv;
    return 0;
}

/* ======================================================= the requests */

/* word[0..n) as printable ASCII in buf, cut after CAMSRV_SHOW_MAX characters:
 * a client's bytes never reach its ERR answer raw. */
static const char *show(const char *word, size_t n, char buf[CAMSRV_SHOW_MAX + 4])
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < CAMSRV_SHOW_MAX; i++) {
        unsigned char c = (unsigned char)word[i];
        buf[k++] = c >= 0x20 && c < 0x7F && c != '\'' ? (char)c : '?';
    }
    if (n > CAMSRV_SHOW_MAX) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
    return buf;
}

/* A decimal number, -ddd[.ddd], strictly (no exponent, no inf/nan): 0 or -1. */
static int parse_degrees(const char *p, size_t n, double *out)
{
    size_t i = 0, digits = 0;
    double v = 0.0, scale = 1.0;
    int neg = 0;
    if (i < n && (p[i] == '-' || p[i] == '+')) neg = p[i++] == '-';
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++)
        if (digits < 12) v = v * 10.0 + (p[i] - '0');
    if (i < n && p[i] == '.') {
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++) {
            scale *= 0.1;
            if (scale > 1e-12) v += (p[i] - '0') * scale;
        }
    }
    if (i != n || digits == 0 || digits > 12) return -1;
    *out = neg ? -v : v;
    return 0;
}

static int word_is(const char *p, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(p, w, n) == 0;
}

int camsrv_parse_request(const char *line, size_t len, double *heading_deg, char *why,
                         size_t whylen)
{
    static const char usage[] = "(expected FRAME or FRAME <heading_deg>)";
    static const struct {
        const char *name;
        double deg;
    } axes[] = {{"+X", 0.0}, {"-X", 180.0}, {"+Y", 90.0}, {"-Y", -90.0}};
    char shown[CAMSRV_SHOW_MAX + 4];
    const char *w[3];
    size_t wl[3], nw = 0, i = 0;
    if (!line || !heading_deg) return CAMSRV_EREQ;
    if (len > 0 && line[len - 1] == '\r') len--;
    /* split into at most three words on blanks (the third is an error) */
    while (i < len && nw < 3) {
        while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
        if (i == len) break;
        w[nw] = line + i;
        while (i < len && line[i] != ' ' && line[i] != '\t') i++;
        wl[nw] = (size_t)(line + i - w[nw]);
        nw++;
    }
    if (nw == 0) {
        set_err(why, whylen, "empty request %s", usage);
        return CAMSRV_EREQ;
    }
    if (!word_is(w[0], wl[0], "FRAME")) {
        set_err(why, whylen, "unknown request '%s' %s", show(w[0], wl[0], shown), usage);
        return CAMSRV_EREQ;
    }
    if (nw == 3) {
        set_err(why, whylen, "too many words after FRAME %s", usage);
        return CAMSRV_EREQ;
    }
    if (nw == 1) {
        *heading_deg = CAMSRV_HEADING_DEFAULT_DEG;
        return 0;
    }
    for (size_t k = 0; k < sizeof axes / sizeof axes[0]; k++) {
        if (word_is(w[1], wl[1], axes[k].name)) {
            *heading_deg = axes[k].deg;
            return 0;
        }
    }
    double deg;
    if (parse_degrees(w[1], wl[1], &deg) != 0 || deg < -CAMSRV_HEADING_MAX_DEG ||
        deg > CAMSRV_HEADING_MAX_DEG) {
        set_err(why, whylen,
                "bad heading '%s' (expected degrees -360..360 from +X towards +Y, or +X, -X, "
                "+Y, -Y)",
                show(w[1], wl[1], shown));
        return CAMSRV_EREQ;
    }
    *heading_deg = deg;
    return 0;
}

/* ========================================================= the socket */

static int set_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Bind and listen on uri; the real address goes to cs->uri. */
static int listen_open(camsrv *cs, const char *uri, char *err, size_t errlen)
{
    char host[256], portstr[8];
    uint16_t port;
    struct addrinfo hints, *res = NULL;
    int fd = -1, saved = 0, one = 1, rc;
    rc = camsrv_parse_uri(uri, host, sizeof host, &port, err, errlen);
    if (rc) return rc;
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        set_err(err, errlen, "cannot listen on %s: %s", uri, gai_strerror(gai));
        rc = CAMSRV_ELISTEN;
        goto out;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        /* a restarted sim may bind while old connections linger in TIME_WAIT */
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (set_cloexec(fd) == 0 && set_nonblock(fd) == 0 &&
            bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, CAMSRV_BACKLOG) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        set_err(err, errlen, "cannot listen on %s: %s", uri, strerror(saved));
        rc = CAMSRV_ELISTEN;
        goto out;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char num[INET6_ADDRSTRLEN] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        set_err(err, errlen, "cannot listen on %s: getsockname: %s", uri, strerror(errno));
        rc = CAMSRV_ELISTEN;
        goto out;
    }
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, num, sizeof num);
        snprintf(cs->uri, sizeof cs->uri, "tcp://[%s]:%u", num, (unsigned)ntohs(s6->sin6_port));
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, num, sizeof num);
        snprintf(cs->uri, sizeof cs->uri, "tcp://%s:%u", num, (unsigned)ntohs(s4->sin_port));
    }
    cs->listen_fd = fd;
    fd = -1;
    rc = 0;
out:
    if (fd >= 0) close(fd);
    if (res) freeaddrinfo(res);
    return rc;
}

/* The dump directory: made when missing (one level), else it must be a
 * writable directory. */
static int dump_dir_open(camsrv *cs, const char *dir, char *err, size_t errlen)
{
    struct stat st;
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof cs->dump_dir) {
        set_err(err, errlen, "'%s': %s", dir, n ? "path too long" : "empty path");
        return CAMSRV_EDUMP;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        set_err(err, errlen, "%s: %s", dir, strerror(errno));
        return CAMSRV_EDUMP;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        set_err(err, errlen, "%s: not a directory", dir);
        return CAMSRV_EDUMP;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        set_err(err, errlen, "%s: %s", dir, strerror(errno));
        return CAMSRV_EDUMP;
    }
    memcpy(cs->dump_dir, dir, n + 1);
    cs->dumping = 1;
    return 0;
}

int camsrv_open(camsrv **out, const camsrv_config *cfg, const phys_state *ps, char *err,
                size_t errlen)
{
    int rc;
    camsrv *cs = NULL;
    if (err && errlen) err[0] = '\0';
    if (!out || !cfg || !ps || !ps->fac) {
        set_err(err, errlen, "camsrv_open: null argument");
        return CAMSRV_EARG;
    }
    *out = NULL;
    if (cfg->dump_dir && (cfg->dump_every_ms < 1 || cfg->dump_every_ms > CAMSRV_DUMP_EVERY_MS_MAX)) {
        set_err(err, errlen, "frame dump cadence %u ms out of range 1..%u",
                (unsigned)cfg->dump_every_ms, CAMSRV_DUMP_EVERY_MS_MAX);
        return CAMSRV_EARG;
    }
    cs = calloc(1, sizeof *cs);
    if (!cs) {
        set_err(err, errlen, "out of memory");
        return CAMSRV_ENOMEM;
    }
    cs->ps = ps;
    cs->listen_fd = cs->client_fd = -1;
    cs->heading_deg = CAMSRV_HEADING_DEFAULT_DEG;
    rc = cam_init(&cs->cam, cfg->cam, cfg->seed, err, errlen);
    if (rc == 0) rc = cam_init(&cs->dump_cam, cfg->cam, cfg->seed, err, errlen);
    if (rc != 0) {
        rc = CAMSRV_EARG;
        goto err;
    }
    if (cfg->listen_uri) {
        rc = listen_open(cs, cfg->listen_uri, err, errlen);
        if (rc) goto err;
    }
    if (cfg->dump_dir) {
        rc = dump_dir_open(cs, cfg->dump_dir, err, errlen);
        if (rc) goto err;
        cs->dump_every_ms = cfg->dump_every_ms;
        cs->next_dump_ms = 0;
    }
    *out = cs;
    return 0;
err:
    camsrv_close(cs);
    return rc;
}

const char *camsrv_uri(const camsrv *cs)
{
    return cs && cs->listen_fd >= 0 ? cs->uri : NULL;
}

const camsrv_stats *camsrv_stats_get(const camsrv *cs)
{
    return &cs->stats;
}

void camsrv_prepare(const camsrv *cs, fd_set *rd, int *maxfd)
{
    /* One client at a time: the listen socket waits while one is served. */
    int fd = cs->client_fd >= 0 ? cs->client_fd : cs->listen_fd;
    if (fd < 0) return;
    FD_SET(fd, rd);
    if (fd > *maxfd) *maxfd = fd;
}

static void drop_client(camsrv *cs)
{
    if (cs->client_fd >= 0) close(cs->client_fd);
    cs->client_fd = -1;
    cs->line_used = 0;
}

/* Close after an answer: what the client has already sent is read and
 * discarded first, so the close is a FIN after the answer, not a reset
 * that could destroy it before the client has read it. */
static void hang_up(camsrv *cs)
{
    char sink[256];
    (void)shutdown(cs->client_fd, SHUT_WR);
    for (int i = 0; i < 64 && recv(cs->client_fd, sink, sizeof sink, 0) > 0; i++) continue;
    drop_client(cs);
}

static void client_accept(camsrv *cs)
{
    int one = 1;
    int fd = accept(cs->listen_fd, NULL, NULL);
    if (fd < 0) return; /* EAGAIN (client gone), EMFILE...: again on the next wake-up */
    /* Non-blocking: a client that stops reading must never stall the PLC. */
    if (set_cloexec(fd) != 0 || set_nonblock(fd) != 0) {
        close(fd);
        return;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    cs->client_fd = fd;
    cs->line_used = 0;
    cs->stats.clients++;
}

/* Send all of buf, or drop the client: 0 sent, -1 dropped. */
static int send_or_drop(camsrv *cs, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = send(cs->client_fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            /* EAGAIN: its answers pile up unread; anything else: it is gone */
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) cs->stats.stalled++;
            drop_client(cs);
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_err(camsrv *cs, const char *why)
{
    char msg[CAMSRV_LINE_MAX + 192];
    int n = snprintf(msg, sizeof msg, "ERR %s\n", why);
    if (n < 0) return -1;
    if ((size_t)n >= sizeof msg) { /* cut, but still one line */
        n = (int)sizeof msg - 1;
        msg[n - 1] = '\n';
    }
    cs->stats.errors++;
    return send_or_drop(cs, msg, (size_t)n);
}

/* Render the view along heading_deg of the robot as it is into fr. */
static void render(camsrv *cs, cam_state *cam, double heading_deg, cam_frame *fr)
{
    uint64_t t0 = mono_ns();
    cam_frame_init(fr, cs->pixels, sizeof cs->pixels);
    /* cam_render cannot fail: the camera is initialised and the buffer holds
     * the largest frame */
    (void)cam_render(cam, cs->ps, heading_deg * (CAMSRV_PI / 180.0), fr);
    cs->stats.render_ns += mono_ns() - t0;
}

/* One frame along heading_deg, as the answer to a request. */
static int send_frame(camsrv *cs, double heading_deg)
{
    cam_frame fr;
    cs->heading_deg = heading_deg;
    render(cs, &cs->cam, heading_deg, &fr);
    int h = snprintf((char *)cs->out, CAMSRV_HEADER_MAX,
                     "P5\n# crossclimb camera t_ms=%llu frame=%llu online=%d heading_deg=%g\n"
                     "%u %u\n255\n",
                     (unsigned long long)(fr.t_us / 1000u), (unsigned long long)fr.seq,
                     fr.online ? 1 : 0, heading_deg, fr.width, fr.height);
    if (h < 0 || h >= (int)CAMSRV_HEADER_MAX) return send_err(cs, "internal: header too long");
    size_t npx = (size_t)fr.width * fr.height;
    memcpy(cs->out + h, fr.pixels, npx);
    if (send_or_drop(cs, cs->out, (size_t)h + npx) != 0) return -1;
    cs->stats.frames++;
    return 0;
}

/* Answer one complete request line (without its '\n'): 0, or -1 when the
 * client was dropped. */
static int serve_line(camsrv *cs, const char *line, size_t len)
{
    char why[192];
    double deg;
    if (camsrv_parse_request(line, len, &deg, why, sizeof why) != 0) return send_err(cs, why);
    return send_frame(cs, deg);
}

static void client_serve(camsrv *cs)
{
    ssize_t r = recv(cs->client_fd, cs->line + cs->line_used, sizeof cs->line - cs->line_used, 0);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        drop_client(cs); /* closed or reset */
        return;
    }
    if (r < 0) return;
    cs->line_used += (size_t)r;
    /* every complete line, in order (a client may send several at once) */
    for (;;) {
        char *nl = memchr(cs->line, '\n', cs->line_used);
        if (!nl) break;
        size_t len = (size_t)(nl - cs->line), rest = cs->line_used - len - 1;
        if (serve_line(cs, cs->line, len) != 0) return; /* dropped */
        memmove(cs->line, nl + 1, rest);
        cs->line_used = rest;
    }
    if (cs->line_used == sizeof cs->line) {
        /* no newline in a whole buffer: where the next request starts is
         * anybody's guess, so say why and hang up */
        char why[64];
        snprintf(why, sizeof why, "request longer than %u bytes", CAMSRV_LINE_MAX - 1u);
        if (send_err(cs, why) == 0) hang_up(cs);
    }
}

int camsrv_dispatch(camsrv *cs, const fd_set *rd)
{
    if (!cs || !rd) return 0;
    if (cs->client_fd >= 0) {
        if (FD_ISSET(cs->client_fd, rd)) client_serve(cs);
    } else if (cs->listen_fd >= 0 && FD_ISSET(cs->listen_fd, rd)) {
        client_accept(cs);
    }
    return 0;
}

static void chan_prepare(const void *self, fd_set *rd, int *maxfd)
{
    camsrv_prepare(self, rd, maxfd);
}

static int chan_dispatch(void *self, const fd_set *rd)
{
    return camsrv_dispatch(self, rd);
}

plcsim_channel camsrv_channel(camsrv *cs)
{
    plcsim_channel c = {.self = cs, .prepare = chan_prepare, .dispatch = chan_dispatch};
    return c;
}

/* ============================================================= dumps */

int camsrv_dump_tick(camsrv *cs, uint64_t now_ms, char *err, size_t errlen)
{
    cam_frame fr;
    if (!cs || !cs->dumping || now_ms < cs->next_dump_ms) return 0;
    /* the next multiple of the cadence: a slow scan never makes dumps bunch up */
    cs->next_dump_ms = now_ms - now_ms % cs->dump_every_ms + cs->dump_every_ms;
    render(cs, &cs->dump_cam, cs->heading_deg, &fr);
    snprintf(cs->dump_path, sizeof cs->dump_path, "%s/frame-%010llu.pgm", cs->dump_dir,
             (unsigned long long)(fr.t_us / 1000u));
    if (cam_write_pgm(&fr, cs->dump_path, err, errlen) != 0) {
        cs->dumping = 0; /* one message, not one per frame */
        return CAMSRV_EDUMP;
    }
    cs->stats.dumps++;
    return 0;
}

void camsrv_close(camsrv *cs)
{
    if (!cs) return;
    if (cs->client_fd >= 0) close(cs->client_fd);
    if (cs->listen_fd >= 0) close(cs->listen_fd);
    free(cs);
}
