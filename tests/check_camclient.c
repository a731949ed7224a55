/*
 * check_camclient.c — the controller's camera client (controller/camclient.h):
 *  - camc_parse_header, the pure part: good headers (online, offline, the
 *    largest frame, a tab in the comment) and bad ones (truncated: every
 *    prefix incomplete; wrong magic; bad, zero, signed or padded sizes; not
 *    a multiple of 8; too large; maxval other than 255; no, twice or a bad
 *    online=; another comment; a comment too long; a control byte);
 *  - camc_open: tcp://HOST:PORT strictly, anything else an error naming the URI;
 *  - a real exchange with `crossclimb sim --facade default --listen
 *    tcp://127.0.0.1:0 --camera tcp://127.0.0.1:0` (controller/simproc.h):
 *    frames along every heading, many on one connection, the pixels the
 *    picture of the facade (not flat);
 *  - timeouts: a listening socket that never answers gives CAMC_ETIMEOUT
 *    within about the timeout; the simulator's camera busy with another
 *    client times out too, and once it is free the client reconnects and
 *    gets frames; a dead simulator is an error at once, never a stall;
 *  - a scripted server (a forked child answering canned bytes): an ERR
 *    answer, a bad header, a short frame, extra bytes — each an error with
 *    the connection closed and online false, and the next call reconnects;
 *  - no allocation in camc_frame (mallinfo2; not registered under ASan).
 *
 * Env: CROSSCLIMB_BIN (the binary), CROSSCLIMB_SRC (the sources).
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "controller/camclient.h"
#include "controller/simproc.h"
#include "tests/support/allocprobe.h"

#define TIMEOUT_MS 200u

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse(const char *s, camc_header *h) { return camc_parse_header((const uint8_t *)s, strlen(s), h); }

/* ------------------------------------------------------- the header parser */

START_TEST(test_header_good)
{
    camc_header h;
    const char *a = "P5\n# crossclimb camera t_ms=12340 frame=17 online=1 heading_deg=90\n64 48\n255\n";
    ck_assert_int_eq(parse(a, &h), CAMC_OK);
    ck_assert(h.online);
    ck_assert_uint_eq(h.width, 64);
    ck_assert_uint_eq(h.height, 48);
    ck_assert_uint_eq(h.header_len, strlen(a));
    /* the pixels after it do not matter to the header */
    char b[256];
    snprintf(b, sizeof b, "%s\x01\x02P5", a);
    ck_assert_int_eq(camc_parse_header((const uint8_t *)b, strlen(a) + 4, &h), CAMC_OK);
    ck_assert_uint_eq(h.header_len, strlen(a));
    ck_assert_int_eq(parse("P5\n# crossclimb camera t_ms=0 frame=0 online=0 heading_deg=270\n64 48\n255\n", &h),
                     CAMC_OK);
    ck_assert(!h.online);
    ck_assert_int_eq(parse("P5\n# crossclimb camera online=1\n128 96\n255\n", &h), CAMC_OK);
    ck_assert_uint_eq(h.width, FEAT_MAX_CAM_W);
    ck_assert_uint_eq(h.height, FEAT_MAX_CAM_H);
    ck_assert_int_eq(parse("P5\n# crossclimb camera\tonline=1\n8 8\n255\n", &h), CAMC_OK);
    ck_assert_uint_eq(h.width, 8);
}
END_TEST

START_TEST(test_header_truncated)
{
    const char *a = "P5\n# crossclimb camera t_ms=12340 frame=17 online=1 heading_deg=90\n64 48\n255\n";
    camc_header h;
    for (size_t n = 0; n < strlen(a); n++)
        ck_assert_msg(camc_parse_header((const uint8_t *)a, n, &h) == CAMC_EPARTIAL, "prefix of %zu bytes", n);
    ck_assert_int_eq(camc_parse_header(NULL, 0, &h), CAMC_EPARTIAL);
    ck_assert_int_eq(camc_parse_header(NULL, 3, &h), CAMC_EARG);
    ck_assert_int_eq(camc_parse_header((const uint8_t *)a, 3, NULL), CAMC_EARG);
}
END_TEST

START_TEST(test_header_bad)
{
    static const char *const bad[] = {
        "P6\n# crossclimb camera online=1\n64 48\n255\n",     /* wrong magic */
        "P5 \n# crossclimb camera online=1\n64 48\n255\n",    /* magic with a blank */
        "ERR unknown request\n",                              /* the server's error is no frame */
        "\x89PNG\r\n",                                        /* another format */
        "P5\n# some other camera online=1\n64 48\n255\n",     /* not our comment */
        "P5\n# crossclimb cameras online=1\n64 48\n255\n",    /* nor this */
        "P5\n# crossclimb camera\n64 48\n255\n",              /* no online= */
        "P5\n# crossclimb camera t_ms=1 frame=2\n64 48\n255\n",
        "P5\n# crossclimb camera online=2\n64 48\n255\n",     /* online is 0 or 1 */
        "P5\n# crossclimb camera online=\n64 48\n255\n",
        "P5\n# crossclimb camera online=10\n64 48\n255\n",
        "P5\n# crossclimb camera online=1 online=1\n64 48\n255\n", /* twice */
        "P5\n# crossclimb camera online=1\x01\n64 48\n255\n",  /* a control byte */
        "P5\n64 48\n255\n",                                   /* no comment line */
        "P5\n# crossclimb camera online=1\n60 48\n255\n",     /* not multiples of 8 */
        "P5\n# crossclimb camera online=1\n64 44\n255\n",
        "P5\n# crossclimb camera online=1\n136 48\n255\n",    /* too large */
        "P5\n# crossclimb camera online=1\n64 104\n255\n",
        "P5\n# crossclimb camera online=1\n12800 48\n255\n",
        "P5\n# crossclimb camera online=1\n0 48\n255\n",      /* bad sizes */
        "P5\n# crossclimb camera online=1\n64 0\n255\n",
        "P5\n# crossclimb camera online=1\n064 48\n255\n",
        "P5\n# crossclimb camera online=1\n+64 48\n255\n",
        "P5\n# crossclimb camera online=1\n-64 48\n255\n",
        "P5\n# crossclimb camera online=1\n64  48\n255\n",
        "P5\n# crossclimb camera online=1\n 64 48\n255\n",
        "P5\n# crossclimb camera online=1\n64 48 \n255\n",
        "P5\n# crossclimb camera online=1\n64\n255\n",
        "P5\n# crossclimb camera online=1\n64 48 8\n255\n",
        "P5\n# crossclimb camera online=1\n64\t48\n255\n",
        "P5\n# crossclimb camera online=1\n64 48\n65535\n",   /* maxval other than 255 */
        "P5\n# crossclimb camera online=1\n64 48\n254\n",
        "P5\n# crossclimb camera online=1\n64 48\n255 \n",
        "P5\n# crossclimb camera online=1\n64 48\n0255\n",
    };
    camc_header h;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(parse(bad[i], &h) == CAMC_EPROTO, "accepted or partial: '%s'", bad[i]);
    /* a comment line of CAMC_COMMENT_MAX bytes without its end: no header, not a partial one */
    char longc[512];
    int n = snprintf(longc, sizeof longc, "P5\n# crossclimb camera online=1 ");
    memset(longc + n, 'x', CAMC_COMMENT_MAX);
    longc[n + CAMC_COMMENT_MAX] = '\0';
    ck_assert_int_eq(parse(longc, &h), CAMC_EPROTO);
    /* the same with its end, but too long */
    longc[n + CAMC_COMMENT_MAX - 1] = '\n';
    ck_assert_int_eq(parse(longc, &h), CAMC_EPROTO);
}
END_TEST

START_TEST(test_open_uri)
{
    static const char *const bad[] = {"udp://127.0.0.1:5", "tcp://127.0.0.1", "tcp://127.0.0.1:0",
                                      "tcp://127.0.0.1:70000", "tcp://:5", "tcp://127.0.0.1:5/x",
                                      "tcp://127.0.0.1:5?timeout_ms=3", "127.0.0.1:5", "tcp://[::1:5",
                                      "tcp://127.0.0.1:+5", "tcp://127.0.0.1:05", "tcp://a b:5", ""};
    char err[512];
    camc *c = (camc *)(uintptr_t)1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(camc_open(&c, bad[i], 0, err, sizeof err) == CAMC_EURI, "accepted '%s'", bad[i]);
        ck_assert_ptr_null(c);
        ck_assert_msg(strstr(err, bad[i]) != NULL, "message does not name '%s': %s", bad[i], err);
    }
    ck_assert_int_eq(camc_open(&c, "tcp://no-such-host.invalid:5", 0, err, sizeof err), CAMC_EURI);
    ck_assert_msg(strstr(err, "no-such-host.invalid") != NULL, "%s", err);
    ck_assert_int_eq(camc_open(NULL, "tcp://127.0.0.1:5", 0, err, sizeof err), CAMC_EARG);
    static const char *const good[] = {"tcp://127.0.0.1:5", "tcp://[::1]:5", "tcp://localhost:65535"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ck_assert_msg(camc_open(&c, good[i], 0, err, sizeof err) == CAMC_OK, "'%s': %s", good[i], err);
        ck_assert_str_eq(camc_uri(c), good[i]);
        ck_assert_str_eq(camc_last_error(c), "");
        camc_close(c);
    }
    camc_close(NULL);
    feat_camera f = {.online = true};
    ck_assert_int_eq(camc_frame(NULL, 0.0, &f), CAMC_EARG);
    ck_assert(!f.online);
    ck_assert_str_eq(camc_strerror(CAMC_ETIMEOUT), "the camera did not answer in time");
}
END_TEST

/* ------------------------------------------------------- the real camera */

static simproc sp;
static char cam_uri[96];

static void sim_start(void)
{
    const char *src = getenv("CROSSCLIMB_SRC"), *bin = getenv("CROSSCLIMB_BIN");
    char facade_path[PATH_MAX];
    snprintf(facade_path, sizeof facade_path, "%s/sim/facades/default.txt", src && *src ? src : ".");
    const char *argv[] = {bin && *bin ? bin : "build/crossclimb", "sim", "--facade", facade_path, "--listen",
                          "tcp://127.0.0.1:0", "--camera", "tcp://127.0.0.1:0", "--idle", "frozen", NULL};
    int rc = simproc_spawn(&sp, argv);
    ck_assert_msg(rc == 0, "simproc_spawn: %s", simproc_strerror(rc));
    const char *c = strstr(sp.ready, ", camera tcp://127.0.0.1:");
    ck_assert_msg(c != NULL, "ready line without the camera: %s", sp.ready);
    int port = atoi(c + strlen(", camera tcp://127.0.0.1:"));
    ck_assert_int_gt(port, 0);
    snprintf(cam_uri, sizeof cam_uri, "tcp://127.0.0.1:%d", port);
}

static camc *open_cam(const char *uri, unsigned timeout_ms)
{
    camc *c = NULL;
    char err[512];
    ck_assert_msg(camc_open(&c, uri, timeout_ms, err, sizeof err) == 0, "%s", err);
    return c;
}

START_TEST(test_sim_exchange)
{
    sim_start();
    camc *c = open_cam(cam_uri, TIMEOUT_MS);
    static const double headings[] = {90.0, 0.0, 180.0, 270.0, -90.0, 450.0, 359.99, 12.5};
    feat_camera f;
    for (size_t i = 0; i < sizeof headings / sizeof headings[0]; i++) {
        int rc = camc_frame(c, headings[i], &f);
        ck_assert_msg(rc == 0, "heading %g: %s", headings[i], camc_last_error(c));
        ck_assert(f.online);
        ck_assert_uint_eq(f.width, 64);
        ck_assert_uint_eq(f.height, 48);
        ck_assert_ptr_nonnull(f.pixels);
        unsigned lo = 255, hi = 0;
        for (unsigned k = 0; k < f.width * f.height; k++) {
            if (f.pixels[k] < lo) lo = f.pixels[k];
            if (f.pixels[k] > hi) hi = f.pixels[k];
        }
        ck_assert_msg(hi > lo + 10, "a flat frame (%u..%u)", lo, hi);
    }
    for (int i = 0; i < 200; i++) ck_assert_msg(camc_frame(c, 90.0 * (i % 4), &f) == 0, "%s", camc_last_error(c));
    ck_assert_int_eq(camc_frame(c, nan(""), &f), CAMC_EARG);
    ck_assert(!f.online);
    ck_assert_int_eq(camc_frame(c, 90.0, &f), 0); /* still fine */
    /* the simulator gone: an error at once, never a stall */
    ck_assert_int_eq(simproc_stop(&sp), 0);
    int64_t t0 = mono_ms();
    int rc = camc_frame(c, 90.0, &f);
    ck_assert_int_ne(rc, 0);
    ck_assert(!f.online);
    ck_assert_int_ne(camc_frame(c, 90.0, &f), 0); /* reconnect refused */
    ck_assert_int_lt(mono_ms() - t0, (int64_t)(2 * TIMEOUT_MS + 100));
    ck_assert_msg(strstr(camc_last_error(c), cam_uri) != NULL, "%s", camc_last_error(c));
    camc_close(c);
}
END_TEST

/* A listener on 127.0.0.1 that never accepts: connects succeed (backlog), nothing answers. */
static int silent_listener(int *port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(s, 4), 0);
    socklen_t l = sizeof a;
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &l), 0);
    *port = ntohs(a.sin_port);
    return s;
}

START_TEST(test_timeout_then_reconnect)
{
    int port;
    int ls = silent_listener(&port);
    char uri[64];
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d", port);
    camc *c = open_cam(uri, TIMEOUT_MS);
    feat_camera f = {.online = true};
    int64_t t0 = mono_ms();
    ck_assert_int_eq(camc_frame(c, 90.0, &f), CAMC_ETIMEOUT);
    int64_t dt = mono_ms() - t0;
    ck_assert(!f.online);
    ck_assert_msg(dt >= (int64_t)TIMEOUT_MS - 5 && dt < (int64_t)TIMEOUT_MS + 150, "timed out after %lld ms",
                  (long long)dt);
    ck_assert_msg(strstr(camc_last_error(c), "200 ms") != NULL, "%s", camc_last_error(c));
    camc_close(c);
    close(ls);

    /* the simulator's camera busy with another client: the request waits
     * in the backlog and times out; once free, the client reconnects */
    sim_start();
    c = open_cam(cam_uri, TIMEOUT_MS);
    ck_assert_int_eq(camc_frame(c, 90.0, &f), 0);
    int hog = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)atoi(strrchr(cam_uri, ':') + 1));
    camc_close(c); /* let the hog be the one served */
    ck_assert_int_eq(connect(hog, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(write(hog, "FRAME\n", 6), 6);
    char buf[4096];
    ck_assert_int_gt(read(hog, buf, sizeof buf), 0); /* served: it holds the camera now */
    c = open_cam(cam_uri, TIMEOUT_MS);
    t0 = mono_ms();
    ck_assert_int_eq(camc_frame(c, 0.0, &f), CAMC_ETIMEOUT);
    dt = mono_ms() - t0;
    ck_assert_msg(dt < (int64_t)TIMEOUT_MS + 150, "timed out after %lld ms", (long long)dt);
    ck_assert(!f.online);
    close(hog);
    int ok = 0;
    for (int i = 0; i < 10 && !ok; i++) ok = camc_frame(c, 0.0, &f) == 0; /* reconnects */
    ck_assert_msg(ok, "no frame after the camera was free: %s", camc_last_error(c));
    ck_assert(f.online);
    ck_assert_uint_eq(f.width, 64);
    ck_assert_int_eq(camc_frame(c, 180.0, &f), 0);
    camc_close(c);
    ck_assert_int_eq(simproc_stop(&sp), 0);
}
END_TEST

/* ------------------------------------------------------- a scripted server */

/* A child answering connection k with answers[k] (n bytes each), after
 * reading the request line, then shutting its side down and waiting for
 * the client to close. */
static pid_t scripted(const char *const *answers, const size_t *lens, int n, int *port)
{
    int ls = silent_listener(port);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        for (int k = 0; k < n; k++) {
            int s = accept(ls, NULL, NULL);
            if (s < 0) _exit(1);
            char ch;
            while (read(s, &ch, 1) == 1 && ch != '\n') {
            }
            if (write(s, answers[k], lens[k]) != (ssize_t)lens[k]) _exit(1);
            shutdown(s, SHUT_WR);
            while (read(s, &ch, 1) > 0) {
            }
            close(s);
        }
        _exit(0);
    }
    close(ls);
    return pid;
}

static size_t frame_bytes(char *out, size_t cap, const char *header, size_t npix)
{
    size_t h = strlen(header);
    ck_assert_uint_le(h + npix, cap);
    memcpy(out, header, h);
    for (size_t i = 0; i < npix; i++) out[h + i] = (char)(i & 0xff);
    return h + npix;
}

START_TEST(test_scripted_errors)
{
    static char good[8192], shortf[8192], extra[8192], off[8192];
    const char *hdr = "P5\n# crossclimb camera t_ms=0 frame=0 online=1 heading_deg=90\n64 48\n255\n";
    size_t ngood = frame_bytes(good, sizeof good, hdr, 64 * 48);
    size_t nshort = frame_bytes(shortf, sizeof shortf, hdr, 64 * 48 - 10);
    size_t nextra = frame_bytes(extra, sizeof extra, hdr, 64 * 48 + 5);
    size_t noff = frame_bytes(off, sizeof off, "P5\n# crossclimb camera online=0\n64 48\n255\n", 64 * 48);
    static const char err_line[] = "ERR bad heading '1e3' (expected degrees -360..360)\n";
    static const char bad_hdr[] = "P5\n# crossclimb camera online=1\n60 48\n255\n";
    const char *const answers[] = {err_line, good, bad_hdr, good, shortf, off, extra, good};
    const size_t lens[] = {sizeof err_line - 1, ngood, sizeof bad_hdr - 1, ngood, nshort, noff, nextra, ngood};
    const int want[] = {CAMC_ESERVER, 0, CAMC_EPROTO, 0, CAMC_EIO, 0, CAMC_EPROTO, 0};
    const int n = (int)(sizeof lens / sizeof lens[0]);
    int port;
    pid_t pid = scripted(answers, lens, n, &port);
    char uri[64];
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d", port);
    camc *c = open_cam(uri, 1000);
    feat_camera f;
    for (int k = 0; k < n; k++) {
        int rc = camc_frame(c, 90.0, &f);
        ck_assert_msg(rc == want[k], "answer %d: %d (%s), want %d", k, rc, camc_last_error(c), want[k]);
        if (rc == 0) {
            ck_assert_uint_eq(f.width, 64);
            ck_assert_uint_eq(f.pixels[100], 100);
            ck_assert_uint_eq(f.pixels[64 * 48 - 1], (64 * 48 - 1) & 0xff);
            ck_assert(f.online == (k != 5));
        } else {
            ck_assert(!f.online);
        }
        if (k == 0) ck_assert_msg(strstr(camc_last_error(c), "ERR bad heading") != NULL, "%s", camc_last_error(c));
        if (k < n - 1 && rc == 0) {
            /* the scripted server answers one request per connection: close to move on */
            camc_close(c);
            c = open_cam(uri, 1000);
        }
    }
    camc_close(c);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
END_TEST

/* ------------------------------------------------------- no allocation */


#if ALLOC_PROBE_WORKS
START_TEST(test_frame_allocates_nothing)
{
    sim_start();
    camc *c = open_cam(cam_uri, TIMEOUT_MS);
    feat_camera f;
    ck_assert_int_eq(camc_frame(c, 90.0, &f), 0); /* warm */
    alloc_probe_selftest();
    alloc_snap a = alloc_snapshot();
    for (int i = 0; i < 300; i++) ck_assert(camc_frame(c, 90.0 * (i % 4), &f) == 0);
    /* errors and reconnects allocate nothing either */
    ck_assert_int_eq(simproc_stop(&sp), 0);
    for (int i = 0; i < 5; i++) ck_assert(camc_frame(c, 90.0, &f) != 0);
    alloc_snap b = alloc_snapshot();
    alloc_assert_same(&a, &b, "camc_frame");
    camc_close(c);
}
END_TEST
#endif

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("camclient");
    TCase *tp = tcase_create("parser");
    tcase_add_test(tp, test_header_good);
    tcase_add_test(tp, test_header_truncated);
    tcase_add_test(tp, test_header_bad);
    tcase_add_test(tp, test_open_uri);
    suite_add_tcase(s, tp);
    TCase *tn = tcase_create("network");
    tcase_set_timeout(tn, 60);
    tcase_add_test(tn, test_sim_exchange);
    tcase_add_test(tn, test_timeout_then_reconnect);
    tcase_add_test(tn, test_scripted_errors);
#if ALLOC_PROBE_WORKS
    tcase_add_test(tn, test_frame_allocates_nothing);
#endif
    suite_add_tcase(s, tn);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
