/*
 * check_camchannel.c — the simulator's camera channel (docs/camera-channel.md):
 * `crossclimb sim --facade F --camera tcp://127.0.0.1:0` as its own process
 * (controller/simproc.h, simproc_spawn) with frozen idle time, the robot
 * driven over Modbus TCP (libmodbus) and frames read by a plain TCP client:
 *  - a frame is one binary PGM of 64 x 48 whose header carries the virtual
 *    time of the PLC's last scan in ms, the frame number, online=1 and the
 *    heading asked for (bare FRAME: +Y, 90 degrees; numbers and axis names);
 *  - the frame changes when the robot moves, much more than between two
 *    frames of a robot standing still;
 *  - a camera_blackout fault gives all-zero frames with online=0 for its
 *    window (and fault lines in the truth log), then frames come back;
 *  - a bad request gets "ERR <reason>" and the connection survives; a line
 *    longer than 63 bytes gets ERR and the connection is closed;
 *  - clients are served one after another (the next waits in the backlog);
 *  - --dump-frames writes valid PGMs at the cadence of virtual time;
 *  - serving frames never changes the robot: the truth log of a run with
 *    frame requests is byte-identical to one without;
 *  - camsrv_parse_request and camsrv_parse_uri, the pure parts, directly.
 *
 * Env: CROSSCLIMB_BIN (the binary), CROSSCLIMB_SRC (the sources).
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "controller/simproc.h"
#include "plc_bridge/regmap.h"
#include "sim/camserver.h"
#include "tests/support/tmpdir.h"

#define FRAME_W 64u
#define FRAME_H 48u
#define MAX_WAIT_MS 8000u
#define Y_GRIP (CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC)
#define Y_B_HOLDS (CC_Y_B_DOWN | CC_Y_B_VAC)

/* ------------------------------------------------------------ the rig */

static simproc sp;
static modbus_t *ctx;
static int cam_port;
static uint16_t st[CC_STATUS_COUNT];
static uint16_t seq, hb, out_req, mode_req;
static uint64_t t_ms; /* virtual time: the sum of the periods sent (10 ms each) */

static const char *src_dir(void)
{
    const char *s = getenv("CROSSCLIMB_SRC");
    return s && *s ? s : ".";
}

static const char *bin_path(void)
{
    const char *b = getenv("CROSSCLIMB_BIN");
    return b && *b ? b : "build/crossclimb";
}

/*
 * Start `crossclimb sim --facade default --camera tcp://127.0.0.1:0` with
 * frozen idle time, seed 1, and the extra arguments (NULL-terminated, may
 * be NULL); take the camera's port from the ready line; connect Modbus.
 */
static void sim_start(const char *const *extra)
{
    char facade_path[PATH_MAX];
    const char *argv[40];
    int n = 0;
    snprintf(facade_path, sizeof facade_path, "%s/sim/facades/default.txt", src_dir());
    argv[n++] = bin_path();
    argv[n++] = "sim";
    argv[n++] = "--facade";
    argv[n++] = facade_path;
    argv[n++] = "--listen";
    argv[n++] = "tcp://127.0.0.1:0";
    argv[n++] = "--camera";
    argv[n++] = "tcp://127.0.0.1:0";
    argv[n++] = "--idle";
    argv[n++] = "frozen";
    for (int i = 0; extra && extra[i]; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    int rc = simproc_spawn(&sp, argv);
    ck_assert_msg(rc == 0, "simproc_spawn: %s", simproc_strerror(rc));
    const char *c = strstr(sp.ready, ", camera tcp://127.0.0.1:");
    ck_assert_msg(c != NULL, "ready line without the camera: %s", sp.ready);
    cam_port = atoi(c + strlen(", camera tcp://127.0.0.1:"));
    ck_assert_int_gt(cam_port, 0);
    ctx = modbus_new_tcp("127.0.0.1", sp.tcp_port);
    ck_assert_ptr_nonnull(ctx);
    modbus_set_response_timeout(ctx, 5, 0);
    ck_assert_msg(modbus_connect(ctx) == 0, "connect: %s", modbus_strerror(errno));
    seq = hb = out_req = mode_req = 0;
    t_ms = 0;
}

static int sim_stop(void)
{
    modbus_close(ctx);
    modbus_free(ctx);
    ctx = NULL;
    return simproc_stop(&sp);
}

static uint32_t xword(void) { return (uint32_t)st[CC_ST_X_LO] | (uint32_t)st[CC_ST_X_HI] << 16; }

/* One 10 ms exchange: the command block (time advances), then the status. */
static void cycle(void)
{
    hb++;
    uint16_t cmd[CC_CMD_COUNT] = {seq, hb, out_req, mode_req, 10, 0, 0, 0};
    ck_assert_int_eq(modbus_write_registers(ctx, CC_CMD_FIRST, CC_CMD_COUNT, cmd), CC_CMD_COUNT);
    t_ms += 10;
    ck_assert_int_eq(modbus_read_registers(ctx, CC_STATUS_FIRST, CC_STATUS_COUNT, st),
                     CC_STATUS_COUNT);
}

static void cycles_until(uint64_t until_ms)
{
    while (t_ms < until_ms) cycle();
}

static void command(uint16_t outputs, uint16_t mode)
{
    seq++;
    out_req = outputs;
    mode_req = mode;
    cycle();
    ck_assert_msg(st[CC_ST_SEQ_ECHO] == seq && !(st[CC_ST_FLAGS] & CC_FLAG_REJECTED),
                  "t %llu ms: command 0x%04X mode %u refused (D100 0x%04X)",
                  (unsigned long long)t_ms, outputs, mode, st[CC_ST_FLAGS]);
}

/* Cycle until every bit of `bits` is on in X0-X37. */
static void wait_inputs(uint32_t bits, const char *what)
{
    uint64_t t0 = t_ms;
    while ((xword() & bits) != bits) {
        ck_assert_msg(t_ms - t0 < MAX_WAIT_MS, "%s never came (D101 0x%04X)", what,
                      st[CC_ST_X_LO]);
        cycle();
    }
}

/* Cycle until A's six cups read <= 10 kPa. */
static void wait_a_released(void)
{
    uint64_t t0 = t_ms;
    for (;;) {
        unsigned high = 0;
        for (unsigned i = 0; i < 6; i++) high += st[CC_ST_CUP_FIRST + i] > 100;
        if (!high) return;
        ck_assert_msg(t_ms - t0 < MAX_WAIT_MS, "A never released");
        cycle();
    }
}

/* ------------------------------------------------------- camera client */

typedef struct {
    int err;                   /* 1: an "ERR ..." line came instead */
    char err_text[256];
    unsigned long long t_ms, frame;
    int online;
    double heading_deg;
    unsigned w, h;
    uint8_t px[FRAME_W * FRAME_H];
} answer;

static int cam_connect(void)
{
    struct sockaddr_in a;
    struct timeval tv = {5, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)cam_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "camera connect: %s",
                  strerror(errno));
    return fd;
}

static void cam_send(int fd, const char *text)
{
    size_t n = strlen(text);
    ck_assert_int_eq(send(fd, text, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Read exactly n bytes (fails the test on EOF or timeout). */
static void read_exact(int fd, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        ck_assert_msg(r > 0, "camera: %s", r == 0 ? "connection closed" : strerror(errno));
        p += r;
        n -= (size_t)r;
    }
}

/* One answer: an ERR line, or a PGM whose header is parsed strictly. */
static void cam_read(int fd, answer *a)
{
    char hdr[256];
    size_t n = 0;
    int lines = 0;
    memset(a, 0, sizeof *a);
    /* byte by byte up to the end of the header (or the ERR line) */
    while (lines < 4) {
        ck_assert_uint_lt(n, sizeof hdr - 1);
        read_exact(fd, hdr + n, 1);
        if (hdr[n++] != '\n') continue;
        lines++;
        if (n >= 4 && !memcmp(hdr, "ERR ", 4)) {
            hdr[n - 1] = '\0';
            a->err = 1;
            snprintf(a->err_text, sizeof a->err_text, "%s", hdr + 4);
            return;
        }
    }
    hdr[n] = '\0';
    int used = 0;
    ck_assert_msg(sscanf(hdr,
                         "P5\n# crossclimb camera t_ms=%llu frame=%llu online=%d "
                         "heading_deg=%lf\n%u %u\n255\n%n",
                         &a->t_ms, &a->frame, &a->online, &a->heading_deg, &a->w, &a->h,
                         &used) == 6 &&
                      (size_t)used == n,
                  "bad PGM header: %s", hdr);
    ck_assert_uint_eq(a->w, FRAME_W);
    ck_assert_uint_eq(a->h, FRAME_H);
    read_exact(fd, a->px, sizeof a->px);
}

/* Ask one question, get one answer. */
static void cam_ask(int fd, const char *req, answer *a)
{
    cam_send(fd, req);
    cam_read(fd, a);
}

static double mean_px(const answer *a)
{
    double s = 0.0;
    for (size_t i = 0; i < sizeof a->px; i++) s += a->px[i];
    return s / (double)sizeof a->px;
}

/* Mean absolute difference of two frames, grey levels. */
static double mad(const answer *a, const answer *b)
{
    double s = 0.0;
    for (size_t i = 0; i < sizeof a->px; i++) s += abs((int)a->px[i] - (int)b->px[i]);
    return s / (double)sizeof a->px;
}

/* 1 when fd has something to read (or is closed) within ms. */
static int readable_within(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}

/* ---------------------------------------------------------- the frames */

START_TEST(test_frame_header)
{
    answer a;
    sim_start(NULL);
    int fd = cam_connect();
    cam_ask(fd, "FRAME\n", &a);
    ck_assert(!a.err);
    ck_assert_uint_eq(a.t_ms, 0);
    ck_assert_uint_eq(a.frame, 0);
    ck_assert_int_eq(a.online, 1);
    ck_assert_double_eq(a.heading_deg, 90.0);
    /* glass under a mean light: neither black nor white */
    ck_assert_double_gt(mean_px(&a), 30.0);
    ck_assert_double_lt(mean_px(&a), 220.0);
    cam_ask(fd, "FRAME -Y\r\n", &a);
    ck_assert_double_eq(a.heading_deg, -90.0);
    ck_assert_uint_eq(a.frame, 1);
    cam_ask(fd, "FRAME 45.5\n", &a);
    ck_assert_double_eq(a.heading_deg, 45.5);
    /* the time is that of the PLC's last scan: the Modbus clock */
    for (int i = 0; i < 50; i++) cycle();
    cam_ask(fd, "FRAME 0\n", &a);
    ck_assert_uint_eq(a.t_ms, t_ms);
    ck_assert_double_eq(a.heading_deg, 0.0);
    close(fd);
    ck_assert_int_eq(sim_stop(), 0);
}
END_TEST

/*
 * B grips, A is lifted, the Y cylinder runs from mid stroke to its + end:
 * the carriage (and the camera on it) climbs 150 mm.  The view ahead (+Y)
 * changes much more than two frames of a robot standing still for as long
 * do (noise and the slow light change only).
 */
START_TEST(test_frame_changes_after_move)
{
    answer f0, f1, f2;
    sim_start(NULL);
    int fd = cam_connect();
    command(0, CC_MODE_RESET);
    command(Y_GRIP, CC_MODE_AUTO);
    wait_inputs(CC_X_A_VAC_OK | CC_X_B_VAC_OK, "both groups sealed");
    command(Y_B_HOLDS | CC_Y_A_DOWN | CC_Y_A_BLOW, CC_MODE_AUTO);
    wait_a_released();
    command(Y_B_HOLDS, CC_MODE_AUTO);
    wait_inputs(CC_X_A_UP, "A up");
    cam_ask(fd, "FRAME\n", &f0);
    uint64_t still = t_ms + 2000;
    cycles_until(still); /* standing still as long as the stroke takes */
    cam_ask(fd, "FRAME\n", &f1);
    command(Y_B_HOLDS | CC_Y_Y_PLUS, CC_MODE_AUTO);
    wait_inputs(CC_X_YCYL_PLUS_END, "Y + end");
    cycles_until(still + 2000);
    cam_ask(fd, "FRAME\n", &f2);
    double noise = mad(&f0, &f1), moved = mad(&f1, &f2); /* about 2.4 and 13 */
    ck_assert_msg(moved > 3.0 * noise && moved > 5.0,
                  "the view barely changed: %.2f grey levels moved, %.2f standing still", moved,
                  noise);
    close(fd);
    ck_assert_int_eq(sim_stop(), 0);
}
END_TEST

/* A camera_blackout from 1 s to 2 s: zeros and online=0, then frames again;
 * the truth log has the fault's start and end. */
START_TEST(test_blackout)
{
    char faults[PATH_MAX], truth[PATH_MAX];
    static const char scen[] = "at 1s camera_blackout duration=1s\n";
    answer a;
    snprintf(faults, sizeof faults, "%s", tmp_path("blackout.txt"));
    snprintf(truth, sizeof truth, "%s", tmp_path("blackout.jsonl"));
    write_bytes(faults, scen, strlen(scen));
    const char *extra[] = {"--faults", faults, "--truth", truth, NULL};
    sim_start(extra);
    int fd = cam_connect();
    cycles_until(990);
    cam_ask(fd, "FRAME\n", &a);
    ck_assert_int_eq(a.online, 1);
    ck_assert_double_gt(mean_px(&a), 30.0);
    cycles_until(1000);
    cam_ask(fd, "FRAME\n", &a); /* the scan at 1000 ms saw the fault start */
    ck_assert_uint_eq(a.t_ms, 1000);
    ck_assert_int_eq(a.online, 0);
    for (size_t i = 0; i < sizeof a.px; i++) ck_assert_uint_eq(a.px[i], 0);
    cycles_until(1990);
    cam_ask(fd, "FRAME -X\n", &a);
    ck_assert_int_eq(a.online, 0);
    ck_assert_double_eq(mean_px(&a), 0.0);
    cycles_until(2000);
    cam_ask(fd, "FRAME\n", &a);
    ck_assert_int_eq(a.online, 1);
    ck_assert_double_gt(mean_px(&a), 30.0);
    close(fd);
    ck_assert_int_eq(sim_stop(), 0);
    FILE *f = fopen(truth, "r");
    ck_assert_ptr_nonnull(f);
    char line[4096];
    int starts = 0, ends = 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "{\"type\":\"fault\",\"t_us\":1000000,\"event\":\"start\","
                         "\"kind\":\"camera_blackout\",\"line\":1,"
                         "\"fault\":\"at 1s camera_blackout until=2s\"}"))
            starts++;
        if (strstr(line, "{\"type\":\"fault\",\"t_us\":2000000,\"event\":\"end\","
                         "\"kind\":\"camera_blackout\""))
            ends++;
    }
    fclose(f);
    ck_assert_int_eq(starts, 1);
    ck_assert_int_eq(ends, 1);
}
END_TEST

/* ERR for what is not a request, and the connection goes on; a line
 * longer than 63 bytes: ERR, then the server hangs up. */
START_TEST(test_bad_requests)
{
    answer a;
    char buf[16];
    sim_start(NULL);
    int fd = cam_connect();
    cam_ask(fd, "HELLO\n", &a);
    ck_assert(a.err);
    ck_assert_str_eq(a.err_text, "unknown request 'HELLO' (expected FRAME or FRAME <heading_deg>)");
    cam_ask(fd, "\n", &a);
    ck_assert(a.err);
    ck_assert_ptr_nonnull(strstr(a.err_text, "empty request"));
    cam_ask(fd, "FRAME 1e3\n", &a);
    ck_assert(a.err);
    ck_assert_ptr_nonnull(strstr(a.err_text, "bad heading '1e3'"));
    cam_ask(fd, "FRAME 361\n", &a);
    ck_assert(a.err);
    cam_ask(fd, "FRAME 90 x\n", &a);
    ck_assert(a.err);
    ck_assert_ptr_nonnull(strstr(a.err_text, "too many words"));
    cam_ask(fd, "frame\n", &a); /* words are case-sensitive */
    ck_assert(a.err);
    cam_ask(fd, "FRAME\n", &a); /* still connected, still served */
    ck_assert(!a.err);
    ck_assert_uint_eq(a.frame, 0);
    /* two requests in one packet: two answers, in order */
    cam_send(fd, "FRAME +X\nFRAME -X\n");
    cam_read(fd, &a);
    ck_assert_double_eq(a.heading_deg, 0.0);
    cam_read(fd, &a);
    ck_assert_double_eq(a.heading_deg, 180.0);
    char longline[101];
    memset(longline, 'A', 100);
    longline[100] = '\0';
    cam_ask(fd, longline, &a);
    ck_assert(a.err);
    ck_assert_str_eq(a.err_text, "request longer than 63 bytes");
    ck_assert_int_eq(recv(fd, buf, sizeof buf, 0), 0); /* closed */
    close(fd);
    /* the server goes on with the next client */
    fd = cam_connect();
    cam_ask(fd, "FRAME\n", &a);
    ck_assert(!a.err);
    close(fd);
    ck_assert_int_eq(sim_stop(), 0);
}
END_TEST

/* One client at a time: the second one's request waits in the backlog
 * until the first has gone, Modbus is served meanwhile. */
START_TEST(test_clients_one_after_another)
{
    answer a;
    sim_start(NULL);
    int c1 = cam_connect(), c2 = cam_connect();
    cam_ask(c1, "FRAME\n", &a);
    cam_send(c2, "FRAME\n");
    ck_assert(!readable_within(c2, 300));
    cycle(); /* Modbus does not wait for the camera */
    cam_ask(c1, "FRAME\n", &a);
    ck_assert_uint_eq(a.frame, 1);
    close(c1);
    cam_read(c2, &a);
    ck_assert(!a.err);
    ck_assert_uint_eq(a.frame, 2);
    close(c2);
    ck_assert_int_eq(sim_stop(), 0);
}
END_TEST

/* --dump-frames DIR --dump-every-ms 100: DIR is made, a PGM every 100 ms
 * of virtual time from t = 0, nothing else left in it. */
START_TEST(test_dump_frames)
{
    char dir[PATH_MAX], path[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s", tmp_path("frames"));
    const char *extra[] = {"--dump-frames", dir, "--dump-every-ms", "100", NULL};
    sim_start(extra);
    cycles_until(500);
    ck_assert_int_eq(sim_stop(), 0);
    for (unsigned t = 0; t <= 500; t += 100) {
        snprintf(path, sizeof path, "%s/frame-%010u.pgm", dir, t);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
        char magic[3] = "";
        unsigned long long t_us, frame;
        int online;
        unsigned w, h, maxv;
        ck_assert_int_eq(fscanf(f, "%2s\n# crossclimb camera t_us=%llu frame=%llu online=%d\n%u %u\n%u",
                                magic, &t_us, &frame, &online, &w, &h, &maxv),
                         7);
        ck_assert_str_eq(magic, "P5");
        ck_assert_uint_eq(t_us, t * 1000ull);
        ck_assert_uint_eq(frame, t / 100u);
        ck_assert_int_eq(online, 1);
        ck_assert_uint_eq(w, FRAME_W);
        ck_assert_uint_eq(h, FRAME_H);
        ck_assert_uint_eq(maxv, 255);
        ck_assert_int_eq(fgetc(f), '\n');
        uint8_t px[FRAME_W * FRAME_H + 1];
        ck_assert_uint_eq(fread(px, 1, sizeof px, f), FRAME_W * FRAME_H); /* and no more */
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/frame-%010u.pgm", dir, 600u);
    ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

/* The same Modbus requests with and without frame requests in between:
 * byte-identical truth logs (the camera draws its own noise). */
START_TEST(test_frames_leave_the_truth_alone)
{
    char t1[PATH_MAX], t2[PATH_MAX];
    answer a;
    snprintf(t1, sizeof t1, "%s", tmp_path("with.jsonl"));
    snprintf(t2, sizeof t2, "%s", tmp_path("without.jsonl"));
    for (int with = 1; with >= 0; with--) {
        const char *extra[] = {"--truth", with ? t1 : t2, NULL};
        sim_start(extra);
        int fd = with ? cam_connect() : -1;
        command(0, CC_MODE_RESET);
        command(Y_GRIP, CC_MODE_AUTO);
        while (t_ms < 1500) {
            cycle();
            if (with && t_ms % 50 == 0) cam_ask(fd, t_ms % 100 ? "FRAME\n" : "FRAME 0\n", &a);
        }
        if (with) close(fd);
        ck_assert_int_eq(sim_stop(), 0);
    }
    FILE *f1 = fopen(t1, "rb"), *f2 = fopen(t2, "rb");
    ck_assert(f1 && f2);
    int c1, c2;
    long n = 0;
    do {
        c1 = fgetc(f1);
        c2 = fgetc(f2);
        ck_assert_msg(c1 == c2, "truth logs differ at byte %ld", n);
        n++;
    } while (c1 != EOF);
    ck_assert_int_gt(n, 1000);
    fclose(f1);
    fclose(f2);
}
END_TEST

/* ------------------------------------------------------ the pure parts */

START_TEST(test_parse_request)
{
    char why[192];
    double deg = -1.0;
    ck_assert_int_eq(camsrv_parse_request("FRAME", 5, &deg, why, sizeof why), 0);
    ck_assert_double_eq(deg, CAMSRV_HEADING_DEFAULT_DEG);
    ck_assert_int_eq(camsrv_parse_request("FRAME\r", 6, &deg, why, sizeof why), 0);
    ck_assert_int_eq(camsrv_parse_request("  FRAME \t -12.5 ", 16, &deg, why, sizeof why), 0);
    ck_assert_double_eq(deg, -12.5);
    ck_assert_int_eq(camsrv_parse_request("FRAME +Y", 8, &deg, why, sizeof why), 0);
    ck_assert_double_eq(deg, 90.0);
    ck_assert_int_eq(camsrv_parse_request("FRAME -360", 10, &deg, why, sizeof why), 0);
    ck_assert_double_eq(deg, -360.0);
    static const char *const bad[] = {"", "FRAMES", "FRAME 360.5", "FRAME nan", "FRAME inf",
                                      "FRAME 1e2", "FRAME .", "FRAME -", "FRAME +Z",
                                      "FRAME 1 2", "FRAME 0x10", "GET / HTTP/1.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        ck_assert_msg(camsrv_parse_request(bad[i], strlen(bad[i]), &deg, why, sizeof why) ==
                          CAMSRV_EREQ,
                      "accepted '%s'", bad[i]);
        ck_assert_msg(why[0] != '\0', "no reason for '%s'", bad[i]);
    }
    /* a client's bytes come back printable and cut */
    static const char evil[] = "\x01\xff'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    ck_assert_int_eq(camsrv_parse_request(evil, sizeof evil - 1, &deg, why, sizeof why),
                     CAMSRV_EREQ);
    ck_assert_str_eq(why, "unknown request '???AAAAAAAAAAAAAAAAAAAAA...' (expected FRAME or "
                          "FRAME <heading_deg>)");
}
END_TEST

START_TEST(test_parse_uri)
{
    char host[64], err[256];
    uint16_t port = 1;
    ck_assert_int_eq(camsrv_parse_uri("tcp://127.0.0.1:0", host, sizeof host, &port, err,
                                      sizeof err),
                     0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_uint_eq(port, 0);
    ck_assert_int_eq(camsrv_parse_uri("tcp://[::1]:1600", host, sizeof host, &port, err,
                                      sizeof err),
                     0);
    ck_assert_str_eq(host, "::1");
    ck_assert_uint_eq(port, 1600);
    static const char *const bad[] = {"udp://127.0.0.1:5", "tcp://127.0.0.1", "tcp://:5",
                                      "tcp://127.0.0.1:65536", "tcp://127.0.0.1:5x",
                                      "tcp://[::1", "127.0.0.1:5", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(camsrv_parse_uri(bad[i], host, sizeof host, &port, err, sizeof err) ==
                          CAMSRV_EURI,
                      "accepted '%s'", bad[i]);
    ck_assert_ptr_nonnull(strstr(err, "''"));
}
END_TEST

static Suite *camchannel_suite(void)
{
    Suite *s = suite_create("sim-camera-channel");
    TCase *tc = tcase_create("channel");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, test_frame_header);
    tcase_add_test(tc, test_frame_changes_after_move);
    tcase_add_test(tc, test_blackout);
    tcase_add_test(tc, test_bad_requests);
    tcase_add_test(tc, test_clients_one_after_another);
    tcase_add_test(tc, test_dump_frames);
    tcase_add_test(tc, test_frames_leave_the_truth_alone);
    suite_add_tcase(s, tc);
    TCase *unit = tcase_create("parse");
    tcase_add_test(unit, test_parse_request);
    tcase_add_test(unit, test_parse_uri);
    suite_add_tcase(s, unit);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(camchannel_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
