/*
 * check_plcsim.c — the simulated PLC (sim/plcsim.c) running the shipped PLC
 * program docs/plc/crossclimb.il (sim/fxil.c): first without sockets (scan
 * cycle, special devices, time, the control image as the program keeps it),
 * then `crossclimb sim plc` as a separate process over Modbus TCP on
 * loopback and Modbus RTU on its pseudo-terminal, with a libmodbus client.
 * The program's own behaviour (interlocks, HOLD, watchdog) is tested over
 * Modbus in check_plc_program.c.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/fxil.h"
#include "sim/mbserver.h"
#include "sim/plcsim.h"
#include "controller/simproc.h"

#define MS 1000000LL /* ns */

/* ================================================= plcsim without sockets */

static plcsim ps;
static fxil_program *prog; /* docs/plc/crossclimb.il, loaded once */

#define PROGRAM_VERSION 1u /* D108 of the shipped program */
#define D_ACCEPTED 300u    /* D300: accepted commands, the program's diagnostic */

/* The program's tick D104 after the last scan: its clock counts each scan's
 * own scan time, so after the scan that starts at virtual time t it reads
 * (t + scan_ms) / 10 = next_scan_ms / 10 (wrapping at 65536).  (The interim
 * C image read t / 10; the checks below state the program's clock.) */
static uint16_t program_tick(void)
{
    return (uint16_t)(ps.next_scan_ms / 10u);
}

static fxil_program *the_program(void)
{
    if (!prog) {
        char path[4096], msg[512];
        const char *src = getenv("CROSSCLIMB_SRC");
        snprintf(path, sizeof path, "%s/docs/plc/crossclimb.il", src ? src : ".");
        int rc = fxil_load_file(path, &prog, msg, sizeof msg);
        ck_assert_msg(rc == 0, "%s", msg);
    }
    return prog;
}

/* The program as a fresh PLC's logic (STOP -> RUN: first scan again). */
static plcsim_logic program_logic(void)
{
    fxil_restart(the_program());
    plcsim_logic l = {.self = prog, .scan = fxil_scan};
    return l;
}

/* No plant here: the safety inputs a healthy robot gives the program (X12
 * E-stop not pressed, X13 tether OK, X14 supply OK), set before the first
 * scan so that the program sees no L7 fault. */
static void healthy_inputs(void)
{
    ps.mem.x[012] = ps.mem.x[013] = ps.mem.x[014] = 1;
}

/* A logic that records M8002 per scan, then runs the program. */
typedef struct {
    int m8002[16];
    unsigned scans;
    int fail_at; /* scan number that returns an error, -1 = never */
} rec_logic;
static rec_logic rec;

static int rec_scan(void *self, fxmem *mem, uint32_t scan_ms)
{
    rec_logic *r = self;
    if (r->scans < 16) r->m8002[r->scans] = mem->m[8002];
    if ((int)r->scans == r->fail_at) return -1;
    r->scans++;
    return fxil_scan(prog, mem, scan_ms);
}

static void start_ps(uint32_t scan_ms, plcsim_idle idle, int realtime)
{
    plcsim_config cfg;
    plcsim_config_default(&cfg);
    cfg.scan_ms = scan_ms;
    cfg.idle = idle;
    cfg.realtime = realtime;
    (void)program_logic(); /* loaded, and restarted for a first scan */
    memset(&rec, 0, sizeof rec);
    rec.fail_at = -1;
    plcsim_logic l = {.self = &rec, .scan = rec_scan};
    ck_assert_int_eq(plcsim_init(&ps, &cfg, l, NULL), 0);
    healthy_inputs();
    ck_assert_int_eq(plcsim_start(&ps, 0), 0);
}

/* What the server tells plcsim after a write of count registers at addr. */
static mbs_request_info wrote(uint16_t addr, uint16_t count)
{
    mbs_request_info i;
    memset(&i, 0, sizeof i);
    i.function = 0x10;
    i.wtable = MB_TABLE_HOLDING;
    i.waddr = addr;
    i.wcount = count;
    return i;
}

START_TEST(first_scan)
{
    start_ps(10, PLCSIM_IDLE_FROZEN, 0);
    const uint16_t *d = ps.mem.d;
    ck_assert_uint_eq(ps.scans, 1);
    /* RUN; the program powers up in HOLD (b1), where the C image had no HOLD */
    ck_assert_uint_eq(d[100], CC_FLAG_RUN | CC_FLAG_HOLD);
    ck_assert_uint_eq(d[104], 1); /* the program's clock: the first scan's 10 ms */
    ck_assert_uint_eq(d[104], program_tick());
    ck_assert_uint_eq(d[108], PROGRAM_VERSION);
    ck_assert_uint_eq(d[8010], 100); /* 10 ms in 0.1 ms */
    ck_assert_uint_eq(d[8011], 100);
    ck_assert_uint_eq(d[8012], 100);
    ck_assert_uint_eq(d[109], 100); /* copy of D8012 */
    ck_assert_uint_eq(ps.mem.m[8000], 1);
    ck_assert_uint_eq(ps.mem.m[8039], 1);
    ck_assert_uint_eq(d[8039], 10);
    ck_assert_int_eq(plcsim_advance(&ps, 30), 0);
    ck_assert_uint_eq(ps.scans, 4);
    /* M8002 on during the first scan only */
    ck_assert_int_eq(rec.m8002[0], 1);
    ck_assert_int_eq(rec.m8002[1], 0);
    ck_assert_int_eq(rec.m8002[2], 0);
    ck_assert_int_eq(rec.m8002[3], 0);
    ck_assert_uint_eq(ps.mem.m[8002], 0);
    ck_assert_uint_eq(ps.mem.m[8003], 1);
    ck_assert_int_eq(plcsim_start(&ps, 0), PLCSIM_ESTATE);
}
END_TEST

START_TEST(tick)
{
    start_ps(10, PLCSIM_IDLE_FROZEN, 0);
    uint16_t t0 = ps.mem.d[104];
    ck_assert_int_eq(plcsim_advance(&ps, 1000), 0);
    ck_assert_uint_eq(ps.now_ms, 1000);
    /* 1000 ms of virtual time = 100 ticks of 10 ms (the program's clock is
     * one scan ahead of the C image's: 101 where that read 100) */
    ck_assert_uint_eq(ps.mem.d[104], (uint16_t)(t0 + 100));
    ck_assert_uint_eq(ps.mem.d[104], 101);
    ck_assert_uint_eq(ps.mem.d[104], program_tick());
    ck_assert_int_eq(plcsim_advance(&ps, 5), 0); /* between scans: no scan */
    ck_assert_uint_eq(ps.mem.d[104], 101);
    ck_assert_int_eq(plcsim_advance(&ps, 5), 0);
    ck_assert_uint_eq(ps.mem.d[104], 102);
}
END_TEST

START_TEST(tick_wraps)
{
    start_ps(1000, PLCSIM_IDLE_FROZEN, 0);
    /* the program's clock reads one 1000 ms scan (100 ticks) ahead of the
     * scan's start: 655000 ms -> 65600 ticks, wrapped */
    ck_assert_int_eq(plcsim_advance(&ps, 654000), 0);
    ck_assert_uint_eq(ps.mem.d[104], 65500);
    ck_assert_int_eq(plcsim_advance(&ps, 1000), 0); /* 656000 ms = 65600 ticks */
    ck_assert_uint_eq(ps.mem.d[104], 65600 - 65536);
    ck_assert_uint_eq(ps.mem.d[104], program_tick());
    ck_assert_uint_eq(ps.mem.d[8012], 10000);
}
END_TEST

START_TEST(clocks)
{
    start_ps(1, PLCSIM_IDLE_FROZEN, 0);
    /* t = 0: all clocks in their first (on) half */
    ck_assert_uint_eq(ps.mem.m[8011], 1);
    ck_assert_uint_eq(ps.mem.m[8012], 1);
    ck_assert_uint_eq(ps.mem.m[8013], 1);
    plcsim_advance(&ps, 5); /* t = 5 */
    ck_assert_uint_eq(ps.mem.m[8011], 0);
    ck_assert_uint_eq(ps.mem.m[8012], 1);
    plcsim_advance(&ps, 45); /* t = 50 */
    ck_assert_uint_eq(ps.mem.m[8011], 1);
    ck_assert_uint_eq(ps.mem.m[8012], 0);
    ck_assert_uint_eq(ps.mem.m[8013], 1);
    plcsim_advance(&ps, 450); /* t = 500 */
    ck_assert_uint_eq(ps.mem.m[8013], 0);
}
END_TEST

START_TEST(echoes_and_count)
{
    start_ps(10, PLCSIM_IDLE_FROZEN, 0);
    uint16_t *d = ps.mem.d;
    ck_assert_uint_eq(d[105], 0);
    /* The program evaluates the cleared command block (mode 0 = HOLD) in its
     * first scan and accepts it: D300 starts at 1, where the C image had 0.
     * Mode 0 commands (D203 = 0 here) are always accepted, so every new
     * sequence number below is an accepted command. */
    ck_assert_uint_eq(d[D_ACCEPTED], 1);
    d[200] = 5;
    d[201] = 9;
    plcsim_advance(&ps, 10);
    ck_assert_uint_eq(d[105], 5);
    ck_assert_uint_eq(d[106], 9);
    ck_assert_uint_eq(d[D_ACCEPTED], 1 + 1);
    d[201] = 10; /* heartbeat only: no new command */
    plcsim_advance(&ps, 50);
    ck_assert_uint_eq(d[105], 5);
    ck_assert_uint_eq(d[106], 10);
    ck_assert_uint_eq(d[D_ACCEPTED], 1 + 1);
    d[200] = 6;
    plcsim_advance(&ps, 10);
    ck_assert_uint_eq(d[105], 6);
    ck_assert_uint_eq(d[D_ACCEPTED], 1 + 2);
    d[200] = 0; /* back to 0 is a change too */
    plcsim_advance(&ps, 10);
    ck_assert_uint_eq(d[105], 0);
    ck_assert_uint_eq(d[D_ACCEPTED], 1 + 3);
}
END_TEST

START_TEST(io_packing)
{
    start_ps(10, PLCSIM_IDLE_FROZEN, 0);
    fxmem *m = &ps.mem;
    /* The program drives D202 onto Y only for an accepted AUTO/MANUAL
     * command out of HOLD, and Y0/Y2 (cylinders) only under L3: so the
     * inputs hold the L3 condition (A up, B down and sealed) and no fault,
     * the request goes RESET, then MANUAL with a new sequence number, and it
     * keeps both vacuums Y6 Y7 on as the power-up HOLD left them (switching
     * them off is L1/L2's business, checked in check_plc_program.c). */
    m->x[0] = 1;     /* X0 */
    m->x[04] = 1;    /* X4 A legs up */
    m->x[07] = 1;    /* X7 B legs down */
    m->x[010] = 1;   /* X10 */
    m->x[011] = 1;   /* X11 B vacuum switch */
    m->x[012] = 1;   /* X12 E-stop not pressed */
    m->x[013] = 1;   /* X13 tether OK */
    m->x[014] = 1;   /* X14 supply OK */
    m->x[021] = 1;   /* X21 */
    m->x[037] = 1;   /* X37 */
    m->x[040] = 1;   /* X40: not in D101/D102 */
    m->d[200] = 1;
    m->d[203] = CC_MODE_RESET;
    plcsim_advance(&ps, 10);
    ck_assert_uint_eq(m->d[105], 1);
    m->d[200] = 2;
    m->d[202] = 0xA0F5;
    m->d[203] = CC_MODE_MANUAL;
    m->y[020] = 1;   /* Y20: not driven by the program */
    plcsim_advance(&ps, 10);
    ck_assert_uint_eq(m->d[105], 2);
    ck_assert_uint_eq(m->d[101], 0x1F91); /* X0 X4 X7 X10-X14 */
    ck_assert_uint_eq(m->d[102], 0x8002);
    ck_assert_uint_eq(m->y[0], 1);
    ck_assert_uint_eq(m->y[1], 0);
    ck_assert_uint_eq(m->y[2], 1);
    ck_assert_uint_eq(m->y[015], 1); /* bit 13 = Y15 */
    ck_assert_uint_eq(m->y[017], 1); /* bit 15 = Y17 */
    ck_assert_uint_eq(m->y[020], 1);
    ck_assert_uint_eq(m->y[06], 1);
    ck_assert_uint_eq(m->y[07], 1);
    ck_assert_uint_eq(m->d[103], 0xA0F5);
    m->d[200] = 3;
    m->d[202] = 0x00F0; /* cylinders and spares off; legs stay down, vacuums on */
    plcsim_advance(&ps, 10);
    ck_assert_uint_eq(m->d[103], 0x00F0);
    ck_assert_uint_eq(m->y[0], 0);
    ck_assert_uint_eq(m->y[015], 0);
}
END_TEST

START_TEST(request_advances_time)
{
    start_ps(10, PLCSIM_IDLE_FROZEN, 0);
    mbs_request_info cmd = wrote(200, 8), other = wrote(300, 1);
    ck_assert_uint_eq(plcsim_period_ms(&ps), 10); /* D204 = 0 -> 10 */
    ck_assert_int_eq(plcsim_on_request(&ps, &cmd, 0), 0);
    ck_assert_uint_eq(ps.now_ms, 10);
    ck_assert_uint_eq(ps.scans, 2);
    ps.mem.d[204] = 250;
    plcsim_on_request(&ps, &cmd, 0);
    ck_assert_uint_eq(ps.now_ms, 260);
    ck_assert_uint_eq(ps.mem.d[104], 27); /* the program's clock: 260 ms + the scan's 10 */
    ck_assert_uint_eq(ps.mem.d[104], program_tick());
    ps.mem.d[204] = 5000; /* clamped to 1000 */
    ck_assert_uint_eq(plcsim_period_ms(&ps), 1000);
    plcsim_on_request(&ps, &cmd, 0);
    ck_assert_uint_eq(ps.now_ms, 1260);
    plcsim_on_request(&ps, &other, 0); /* outside the command block */
    ck_assert_uint_eq(ps.now_ms, 1260);
    mbs_request_info last = wrote(207, 1), before = wrote(199, 1), exc = wrote(200, 8);
    exc.exception = 2;
    plcsim_on_request(&ps, &before, 0);
    plcsim_on_request(&ps, &exc, 0);
    ck_assert_uint_eq(ps.now_ms, 1260);
    plcsim_on_request(&ps, &last, 0);
    ck_assert_uint_eq(ps.now_ms, 2260);
    /* frozen: real time does nothing */
    ck_assert_int_eq(plcsim_catch_up(&ps, 3600000 * MS), 0);
    ck_assert_uint_eq(ps.now_ms, 2260);
    ck_assert_int_eq(plcsim_wait_ns(&ps, 0), -1);
}
END_TEST

START_TEST(idle_realtime)
{
    start_ps(10, PLCSIM_IDLE_REALTIME, 0);
    /* started at real 0: idle time runs from there */
    ck_assert_int_eq(plcsim_wait_ns(&ps, 0), 10 * MS);
    ck_assert_int_eq(plcsim_wait_ns(&ps, 3 * MS), 7 * MS);
    plcsim_catch_up(&ps, 35 * MS + 5);
    ck_assert_uint_eq(ps.now_ms, 35);
    ck_assert_uint_eq(ps.scans, 4); /* 0, 10, 20, 30 */
    ck_assert_int_eq(plcsim_wait_ns(&ps, 35 * MS), 5 * MS);
    /* a command write at real 40 ms: +10 ms, covering real 40..50 ms */
    mbs_request_info cmd = wrote(200, 8);
    plcsim_catch_up(&ps, 40 * MS);
    ck_assert_uint_eq(ps.now_ms, 40);
    plcsim_on_request(&ps, &cmd, 40 * MS);
    ck_assert_uint_eq(ps.now_ms, 50);
    plcsim_catch_up(&ps, 45 * MS); /* covered: no idle time */
    ck_assert_uint_eq(ps.now_ms, 50);
    plcsim_catch_up(&ps, 65 * MS); /* 15 ms past the covered period */
    ck_assert_uint_eq(ps.now_ms, 65);
    /* a fast client: 100 command writes in 1 ms of real time = 1 s virtual */
    for (int i = 0; i < 100; i++) {
        plcsim_catch_up(&ps, 66 * MS);
        plcsim_on_request(&ps, &cmd, 66 * MS);
    }
    /* idle caught up to 66 first; the last write covers real 66..76 ms;
     * the next scan (1070) is due 4 ms after that */
    ck_assert_uint_eq(ps.now_ms, 1066);
    ck_assert_int_eq(plcsim_wait_ns(&ps, 66 * MS), 14 * MS);
}
END_TEST

START_TEST(realtime_mode)
{
    start_ps(10, PLCSIM_IDLE_FROZEN, 1); /* --realtime wins over --idle frozen */
    mbs_request_info cmd = wrote(200, 8);
    plcsim_on_request(&ps, &cmd, 0);
    ck_assert_uint_eq(ps.now_ms, 0);
    plcsim_catch_up(&ps, 123 * MS);
    ck_assert_uint_eq(ps.now_ms, 123);
    ck_assert_uint_eq(ps.mem.d[104], 13); /* last scan at 120 ms, + its 10 ms */
    ck_assert_uint_eq(ps.mem.d[104], program_tick());
}
END_TEST

START_TEST(logic_error_stops)
{
    uint8_t rsp[8];
    static const uint8_t id[] = {0x11};
    start_ps(10, PLCSIM_IDLE_FROZEN, 0);
    rec.fail_at = 2;
    /* outputs on: the program's power-up HOLD pattern (Y6 Y7 Y14), where
     * the C image drove D202 */
    ck_assert_int_eq(plcsim_advance(&ps, 10), 0);
    ck_assert_uint_eq(ps.mem.y[06], 1);
    ck_assert_uint_eq(ps.mem.y[014], 1);
    ck_assert_int_eq(mbs_handle_pdu(&ps.mem, id, 1, rsp, sizeof rsp), 4);
    ck_assert_uint_eq(rsp[3], 0xFF);
    ck_assert_int_eq(plcsim_advance(&ps, 10), PLCSIM_ELOGIC);
    ck_assert_int_eq(ps.running, 0);
    ck_assert_uint_eq(ps.mem.y[06], 0); /* STOP drops the outputs */
    ck_assert_uint_eq(ps.mem.y[014], 0);
    ck_assert_uint_eq(ps.mem.m[8000], 0);
    ck_assert_int_eq(mbs_handle_pdu(&ps.mem, id, 1, rsp, sizeof rsp), 4);
    ck_assert_uint_eq(rsp[3], 0x00);
    uint64_t scans = ps.scans;
    ck_assert_int_eq(plcsim_advance(&ps, 1000), 0); /* time runs, no scans */
    ck_assert_uint_eq(ps.scans, scans);
    ck_assert_uint_eq(ps.now_ms, 1020);
    ck_assert_uint_eq(ps.next_scan_ms % 10, 0);
    ck_assert_uint_gt(ps.next_scan_ms, ps.now_ms);
}
END_TEST

START_TEST(bad_config)
{
    plcsim_config cfg;
    plcsim_logic none = {0};
    plcsim_logic l = program_logic();
    plcsim_config_default(&cfg);
    ck_assert_int_eq(plcsim_init(&ps, &cfg, none, NULL), PLCSIM_EARG);
    cfg.scan_ms = 0;
    ck_assert_int_eq(plcsim_init(&ps, &cfg, l, NULL), PLCSIM_EARG);
    cfg.scan_ms = 1001;
    ck_assert_int_eq(plcsim_init(&ps, &cfg, l, NULL), PLCSIM_EARG);
    cfg.scan_ms = 10;
    ck_assert_int_eq(plcsim_init(&ps, &cfg, l, NULL), 0);
    ck_assert_int_eq(plcsim_advance(&ps, 10), PLCSIM_ESTATE);
    ck_assert_str_eq(plcsim_strerror(PLCSIM_ELOGIC), "PLC program error: PLC in STOP");
}
END_TEST

/* A plant: inputs follow outputs (Y15 -> X1), recorded at each refresh. */
typedef struct {
    unsigned inputs, outputs;
    uint64_t last_t;
} echo_plant;

static void plant_in(void *self, fxmem *mem, uint64_t now_ms)
{
    echo_plant *p = self;
    p->inputs++;
    p->last_t = now_ms;
    mem->x[1] = mem->y[015];
}

static void plant_out(void *self, const fxmem *mem, uint64_t now_ms)
{
    echo_plant *p = self;
    (void)mem;
    (void)now_ms;
    p->outputs++;
}

START_TEST(plant_refresh)
{
    echo_plant ep = {0};
    plcsim_plant plant = {.self = &ep, .input = plant_in, .output = plant_out};
    plcsim_config cfg;
    plcsim_config_default(&cfg);
    cfg.idle = PLCSIM_IDLE_FROZEN;
    ck_assert_int_eq(plcsim_init(&ps, &cfg, program_logic(), &plant), 0);
    healthy_inputs();
    ck_assert_int_eq(plcsim_start(&ps, 0), 0);
    /* The program leaves HOLD on RESET (scan 2) and drives D202 onto Y in
     * AUTO (scan 3): scan 3 drives Y0; the input sees it at scan 4.  (The C
     * image drove D202 from scan 2 on; the same refresh order is checked.)
     * The echo plant keeps no L3 condition, so the output is the spare Y15
     * — no interlock — beside the vacuums Y6 Y7 that the power-up HOLD
     * turned on (switching them off is L1/L2's business), and the plant
     * copies Y15 to X1. */
    ps.mem.d[200] = 1;
    ps.mem.d[203] = CC_MODE_RESET;
    plcsim_advance(&ps, 10);
    ps.mem.d[200] = 2;
    ps.mem.d[202] = (1u << 13) | CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC; /* Y15, legs down, Y6 Y7 */
    ps.mem.d[203] = CC_MODE_AUTO;
    plcsim_advance(&ps, 10); /* scan 3 drives Y15; the input sees it at scan 4 */
    ck_assert_uint_eq(ps.mem.y[015], 1);
    ck_assert_uint_eq(ps.mem.d[101] & (1u << 1), 0);
    plcsim_advance(&ps, 10);
    ck_assert_uint_eq(ps.mem.d[101] & (1u << 1), 1u << 1);
    ck_assert_uint_eq(ep.inputs, 4);
    ck_assert_uint_eq(ep.outputs, 4);
    ck_assert_uint_eq(ep.last_t, 30);
}
END_TEST

/* ======================================== crossclimb sim plc, over sockets */

static simproc sp;

static void start_sim(const char *const *args)
{
    int rc = simproc_start(&sp, NULL, args);
    ck_assert_msg(rc == 0, "simproc_start: %s", simproc_strerror(rc));
}

static modbus_t *tcp_client(void)
{
    ck_assert_int_gt(sp.tcp_port, 0);
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", sp.tcp_port);
    ck_assert_ptr_nonnull(ctx);
    modbus_set_response_timeout(ctx, 2, 0);
    ck_assert_msg(modbus_connect(ctx) == 0, "connect: %s", modbus_strerror(errno));
    return ctx;
}

static modbus_t *rtu_client(const char *path, int slave)
{
    modbus_t *ctx = modbus_new_rtu(path, 19200, 'E', 8, 1);
    ck_assert_ptr_nonnull(ctx);
    modbus_set_slave(ctx, slave);
    modbus_set_response_timeout(ctx, 2, 0);
    ck_assert_msg(modbus_connect(ctx) == 0, "connect %s: %s", path, modbus_strerror(errno));
    return ctx;
}

static void client_free(modbus_t *ctx)
{
    modbus_close(ctx);
    modbus_free(ctx);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One control cycle: write D200..D207, read D100..D131 (FC 17). */
static void cycle(modbus_t *ctx, uint16_t seq, uint16_t hb, uint16_t outputs, uint16_t mode,
                  uint16_t *st)
{
    uint16_t cmd[8] = {seq, hb, outputs, mode, 10, 0, 0, 0};
    int rc = modbus_write_and_read_registers(ctx, 200, 8, cmd, 100, 32, st);
    ck_assert_msg(rc == 32, "FC 17: %d %s", rc, modbus_strerror(errno));
}

/* The control image over a link: two cycles, then report slave id and
 * read exception status by raw requests. */
static void exercise_link(modbus_t *ctx, int slave, int rtu)
{
    uint16_t st[32];
    uint8_t ids[MODBUS_MAX_PDU_LENGTH];
    uint8_t rsp[MODBUS_TCP_MAX_ADU_LENGTH];

    /* The program powers up in HOLD: command 7 is the RESET that leaves it,
     * command 8 the AUTO request (both groups' legs down and vacuums on, which
     * the interlocks allow from there; the C image drove any D202 at once). */
    const uint16_t grip = CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC;
    cycle(ctx, 7, 1, 0, CC_MODE_RESET, st);
    /* the reply shows the scans before this write: RUN, HOLD, nothing
     * accepted yet */
    ck_assert_uint_eq(st[CC_ST_FLAGS] & CC_FLAG_RUN, CC_FLAG_RUN);
    ck_assert_uint_eq(st[CC_ST_FLAGS] & CC_FLAG_HOLD, CC_FLAG_HOLD);
    ck_assert_uint_eq(st[CC_ST_SEQ_ECHO], 0);
    ck_assert_uint_eq(st[CC_ST_TICK], 1); /* the program's clock: the first scan's 10 ms */
    ck_assert_uint_eq(st[CC_ST_VERSION], 1);
    ck_assert_uint_eq(st[CC_ST_SCAN_MAX], 100);
    cycle(ctx, 8, 2, grip, CC_MODE_AUTO, st);
    ck_assert_uint_eq(st[CC_ST_SEQ_ECHO], 7);
    ck_assert_uint_eq(st[CC_ST_HB_ECHO], 1);
    ck_assert_uint_eq(st[CC_ST_FLAGS] & CC_FLAG_HOLD, 0);
    ck_assert_uint_eq(st[CC_ST_TICK], 2); /* one period of 10 ms */
    cycle(ctx, 8, 3, grip, CC_MODE_AUTO, st);
    ck_assert_uint_eq(st[CC_ST_SEQ_ECHO], 8);
    ck_assert_uint_eq(st[CC_ST_HB_ECHO], 2);
    ck_assert_uint_eq(st[CC_ST_Y], grip);
    ck_assert_uint_eq(st[CC_ST_TICK], 3);
    uint16_t d105 = 0;
    ck_assert_int_eq(modbus_read_registers(ctx, 105, 1, &d105), 1);
    ck_assert_uint_eq(d105, 8);

    int n = modbus_report_slave_id(ctx, sizeof ids, ids);
    ck_assert_int_eq(n, 2);
    ck_assert_uint_eq(ids[0], 0xF3);
    ck_assert_uint_eq(ids[1], 0xFF);

    uint8_t raw[2] = {(uint8_t)slave, 0x07};
    ck_assert_int_gt(modbus_send_raw_request(ctx, raw, 2), 0);
    n = modbus_receive_confirmation(ctx, rsp);
    int off = rtu ? 1 : 7;
    ck_assert_int_eq(n, rtu ? 5 : 9);
    ck_assert_uint_eq(rsp[off], 0x07);
    ck_assert_uint_eq(rsp[off + 1], 0x00);
}

/* An exception is answered at once, not after the response timeout. */
static void exception_fast(modbus_t *ctx)
{
    uint16_t v;
    double t0 = now_s();
    errno = 0;
    ck_assert_int_eq(modbus_read_registers(ctx, 0x2408, 1, &v), -1);
    ck_assert_msg(errno == EMBXILADD, "errno %d: %s", errno, modbus_strerror(errno));
    ck_assert_msg(now_s() - t0 < 1.0, "exception took %.3f s", now_s() - t0);
    errno = 0;
    ck_assert_int_eq(modbus_write_bit(ctx, 0x3400, 1), -1); /* X0 is no coil */
    ck_assert_int_eq(errno, EMBXILADD);
    errno = 0;
    uint8_t bits[8];
    ck_assert_int_eq(modbus_read_bits(ctx, 0x3400, 1, bits), -1);
    ck_assert_int_eq(errno, EMBXILADD);
    ck_assert_msg(now_s() - t0 < 1.0, "exceptions took %.3f s", now_s() - t0);
    ck_assert_int_eq(modbus_read_input_bits(ctx, 0x3400, 8, bits), 8); /* X0-X7 */
}

START_TEST(tcp_control_cycle)
{
    static const char *const args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen", NULL};
    start_sim(args);
    ck_assert_str_eq(sp.pty_path, "");
    ck_assert_ptr_nonnull(strstr(sp.tcp_uri, "tcp://127.0.0.1:"));
    modbus_t *ctx = tcp_client();
    exercise_link(ctx, 1, 0);
    exception_fast(ctx);
    client_free(ctx);
    ck_assert_int_eq(simproc_stop(&sp), 0);
}
END_TEST

/* Raw MBAP exchange on a plain socket, for what libmodbus clients cannot frame. */
static int raw_tcp(int port, const uint8_t *adu, size_t len, uint8_t *out, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(write(fd, adu, len), (ssize_t)len);
    size_t got = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 1000) <= 0) break;
        ssize_t r = read(fd, out + got, cap - got);
        if (r <= 0) break;
        got += (size_t)r;
        if (got >= 7 && got >= 6u + (size_t)(out[4] << 8 | out[5])) break;
    }
    close(fd);
    return (int)got;
}

START_TEST(tcp_diagnostics_and_unknown)
{
    static const char *const args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen", NULL};
    uint8_t out[300];
    start_sim(args);
    /* FC 08 sub 0 echo: libmodbus frames it short; the MBAP length is followed */
    static const uint8_t diag[] = {0x12, 0x34, 0, 0, 0, 6, 0x01, 0x08, 0x00, 0x00, 0xA5, 0x37};
    ck_assert_int_eq(raw_tcp(sp.tcp_port, diag, sizeof diag, out, sizeof out), 12);
    ck_assert_mem_eq(out, diag, sizeof diag);
    /* FC 2B with data: exception 01, answered at once */
    static const uint8_t mei[] = {0x00, 0x07, 0, 0, 0, 5, 0x01, 0x2B, 0x0E, 0x01, 0x00};
    double t0 = now_s();
    ck_assert_int_eq(raw_tcp(sp.tcp_port, mei, sizeof mei, out, sizeof out), 9);
    ck_assert_mem_eq(out, ((const uint8_t[]){0x00, 0x07, 0, 0, 0, 3, 0x01, 0xAB, 0x01}), 9);
    ck_assert_msg(now_s() - t0 < 0.5, "took %.3f s", now_s() - t0);
    /* unit id 0xFF is answered and echoed */
    static const uint8_t rd[] = {0x00, 0x09, 0, 0, 0, 6, 0xFF, 0x03, 0x00, 0x6C, 0x00, 0x01};
    ck_assert_int_eq(raw_tcp(sp.tcp_port, rd, sizeof rd, out, sizeof out), 11);
    ck_assert_uint_eq(out[6], 0xFF);
    ck_assert_uint_eq(out[10], 1); /* D108 = version 1 */
    ck_assert_int_eq(simproc_stop(&sp), 0);
}
END_TEST

START_TEST(tcp_clients_in_turn)
{
    static const char *const args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen", NULL};
    uint16_t v;
    start_sim(args);
    modbus_t *a = tcp_client();
    modbus_t *b = tcp_client(); /* connected (backlog), served when a has gone */
    ck_assert_int_eq(modbus_read_registers(a, 108, 1, &v), 1);
    ck_assert_uint_eq(v, 1);
    client_free(a);
    ck_assert_int_eq(modbus_read_registers(b, 108, 1, &v), 1);
    ck_assert_int_eq(modbus_write_register(b, 300, 77), 1);
    client_free(b);
    for (int i = 0; i < 5; i++) {
        modbus_t *c = tcp_client();
        ck_assert_int_eq(modbus_read_registers(c, 300, 1, &v), 1);
        ck_assert_uint_eq(v, 77 + i);
        ck_assert_int_eq(modbus_write_register(c, 300, (uint16_t)(78 + i)), 1);
        client_free(c);
    }
    ck_assert_int_eq(simproc_stop(&sp), 0);
}
END_TEST

START_TEST(tcp_idle_realtime)
{
    static const char *const args[] = {"--listen", "tcp://127.0.0.1:0", NULL};
    uint16_t t0, t1;
    start_sim(args);
    modbus_t *ctx = tcp_client();
    ck_assert_int_eq(modbus_read_registers(ctx, 104, 1, &t0), 1);
    struct timespec d = {0, 300 * 1000 * 1000};
    nanosleep(&d, NULL);
    ck_assert_int_eq(modbus_read_registers(ctx, 104, 1, &t1), 1);
    /* 300 ms of real time = about 30 ticks of 10 ms */
    ck_assert_msg((uint16_t)(t1 - t0) >= 25 && (uint16_t)(t1 - t0) <= 60, "tick %u -> %u", t0, t1);
    client_free(ctx);
    ck_assert_int_eq(simproc_stop(&sp), 0);
}
END_TEST

START_TEST(tcp_no_fc17)
{
    static const char *const args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen",
                                       "--no-fc17", NULL};
    /* mode 3 RESET: a command the program accepts at power-up (in HOLD,
     * where it refuses AUTO; the C image accepted any) */
    uint16_t st[32], cmd[8] = {1, 1, 0, CC_MODE_RESET, 10, 0, 0, 0};
    start_sim(args);
    modbus_t *ctx = tcp_client();
    double t0 = now_s();
    errno = 0;
    ck_assert_int_eq(modbus_write_and_read_registers(ctx, 200, 8, cmd, 100, 32, st), -1);
    ck_assert_int_eq(errno, EMBXILFUN);
    ck_assert(now_s() - t0 < 1.0);
    /* the fallback: FC 10 then FC 03 */
    ck_assert_int_eq(modbus_write_registers(ctx, 200, 8, cmd), 8);
    ck_assert_int_eq(modbus_read_registers(ctx, 100, 32, st), 32);
    ck_assert_int_eq(modbus_write_registers(ctx, 200, 8, cmd), 8);
    ck_assert_int_eq(modbus_read_registers(ctx, 100, 32, st), 32);
    ck_assert_uint_eq(st[CC_ST_SEQ_ECHO], 1);
    client_free(ctx);
    ck_assert_int_eq(simproc_stop(&sp), 0);
}
END_TEST

START_TEST(tcp_drop_reply)
{
    static const char *const args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen",
                                       "--drop-reply", "2", NULL};
    /* RESET commands: accepted in the power-up HOLD (see tcp_no_fc17) */
    uint16_t st[32], cmd[8] = {1, 1, 0, CC_MODE_RESET, 10, 0, 0, 0};
    start_sim(args);
    modbus_t *ctx = tcp_client();
    modbus_set_response_timeout(ctx, 0, 500000);
    ck_assert_int_eq(modbus_read_registers(ctx, 100, 32, st), 32); /* not a command write */
    ck_assert_int_eq(modbus_write_and_read_registers(ctx, 200, 8, cmd, 100, 32, st), 32);
    cmd[0] = 2;
    errno = 0;
    ck_assert_int_eq(modbus_write_and_read_registers(ctx, 200, 8, cmd, 100, 32, st), -1);
    ck_assert_int_eq(errno, ETIMEDOUT);
    client_free(ctx);
    /* the dropped command was applied, and its period ran */
    ctx = tcp_client();
    ck_assert_int_eq(modbus_read_registers(ctx, 100, 32, st), 32);
    ck_assert_uint_eq(st[CC_ST_SEQ_ECHO], 2);
    ck_assert_uint_eq(st[CC_ST_TICK], 1 + 2); /* the first scan's 10 ms and two periods */
    cmd[0] = 3;
    ck_assert_int_eq(modbus_write_and_read_registers(ctx, 200, 8, cmd, 100, 32, st), 32);
    client_free(ctx);
    ck_assert_int_eq(simproc_stop(&sp), 0);
}
END_TEST

START_TEST(tcp_silent_after)
{
    static const char *const args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen",
                                       "--silent-after", "3", NULL};
    uint16_t v;
    start_sim(args);
    modbus_t *ctx = tcp_client();
    modbus_set_response_timeout(ctx, 0, 300000);
    ck_assert_int_eq(modbus_write_register(ctx, 300, 5), 1);
    ck_assert_int_eq(modbus_read_registers(ctx, 300, 1, &v), 1);
    ck_assert_int_eq(modbus_read_registers(ctx, 300, 1, &v), 1);
    errno = 0;
    ck_assert_int_eq(modbus_write_register(ctx, 300, 6), -1); /* 4th: silence */
    ck_assert_int_eq(errno, ETIMEDOUT);
    errno = 0;
    ck_assert_int_eq(modbus_read_registers(ctx, 300, 1, &v), -1);
    ck_assert_int_eq(errno, ETIMEDOUT);
    client_free(ctx);
    ck_assert_int_eq(simproc_stop(&sp), 0);
}
END_TEST

/* Raw RTU frame on the client's fd; returns the bytes read back. */
static int raw_rtu(modbus_t *ctx, const uint8_t *frame, size_t len, uint8_t *out, size_t cap,
                   int timeout_ms)
{
    int fd = modbus_get_socket(ctx);
    ck_assert_int_eq(write(fd, frame, len), (ssize_t)len);
    size_t got = 0;
    while (got < cap) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) <= 0) break;
        ssize_t r = read(fd, out + got, cap - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    return (int)got;
}

START_TEST(rtu_control_cycle)
{
    char link[64];
    struct stat lst;
    snprintf(link, sizeof link, "/tmp/crossclimb-check-pty.%d", (int)getpid());
    const char *const args[] = {"--rtu-pty", "--pty-link", link, "--slave", "3",
                                "--idle", "frozen", NULL};
    start_sim(args);
    ck_assert_int_eq(sp.tcp_port, 0); /* pty only: no TCP */
    ck_assert_ptr_nonnull(strstr(sp.pty_path, "/dev/pts/"));
    ck_assert_int_eq(lstat(link, &lst), 0);
    ck_assert(S_ISLNK(lst.st_mode));

    modbus_t *ctx = rtu_client(link, 3);
    exercise_link(ctx, 3, 1);
    exception_fast(ctx);

    /* another slave: no answer; then slave 3 is still answered at once */
    uint16_t v;
    modbus_set_slave(ctx, 4);
    modbus_set_response_timeout(ctx, 0, 300000);
    errno = 0;
    ck_assert_int_eq(modbus_read_registers(ctx, 108, 1, &v), -1);
    ck_assert_int_eq(errno, ETIMEDOUT);
    modbus_set_slave(ctx, 3);
    ck_assert_int_eq(modbus_read_registers(ctx, 108, 1, &v), 1);
    ck_assert_uint_eq(v, 1);

    /* broadcast write (slave 0, FC 06 D300 = 4321): applied, not answered */
    static const uint8_t bcast[] = {0x00, 0x06, 0x01, 0x2C, 0x10, 0xE1};
    ck_assert_int_gt(modbus_send_raw_request(ctx, bcast, sizeof bcast), 0);
    struct pollfd pf = {.fd = modbus_get_socket(ctx), .events = POLLIN};
    ck_assert_int_eq(poll(&pf, 1, 300), 0);
    ck_assert_int_eq(modbus_read_registers(ctx, 300, 1, &v), 1);
    ck_assert_uint_eq(v, 4321);

    /* FC 08 echo, a frame libmodbus 3.1.6 cannot frame on either side */
    uint8_t out[32];
    static const uint8_t diag[] = {0x03, 0x08, 0x00, 0x00, 0xA5, 0x37, 0x00, 0x00};
    uint8_t f[8];
    memcpy(f, diag, 6);
    uint16_t crc = 0xFFFF;
    for (int i = 0; i < 6; i++) {
        crc ^= f[i];
        for (int b = 0; b < 8; b++) crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    f[6] = (uint8_t)(crc & 0xFF);
    f[7] = (uint8_t)(crc >> 8);
    ck_assert_int_eq(raw_rtu(ctx, f, 8, out, 8, 1000), 8);
    ck_assert_mem_eq(out, f, 8);
    /* a broken CRC: no answer, and the next request is fine */
    f[7] ^= 0xFF;
    ck_assert_int_eq(raw_rtu(ctx, f, 8, out, 8, 300), 0);
    ck_assert_int_eq(modbus_read_registers(ctx, 108, 1, &v), 1);
    client_free(ctx);

    /* a second client on the same pty after the first closed */
    ctx = rtu_client(sp.pty_path, 3);
    ck_assert_int_eq(modbus_read_registers(ctx, 105, 1, &v), 1);
    ck_assert_uint_eq(v, 8);
    client_free(ctx);

    ck_assert_int_eq(simproc_stop(&sp), 0);
    ck_assert_int_eq(lstat(link, &lst), -1); /* the link is gone */
}
END_TEST

START_TEST(tcp_and_rtu_together)
{
    static const char *const args[] = {"--listen", "tcp://127.0.0.1:0", "--rtu-pty",
                                       "--idle", "frozen", NULL};
    uint16_t v;
    start_sim(args);
    ck_assert_int_gt(sp.tcp_port, 0);
    ck_assert_str_ne(sp.pty_path, "");
    modbus_t *t = tcp_client();
    modbus_t *r = rtu_client(sp.pty_path, 1);
    ck_assert_int_eq(modbus_write_register(t, 300, 11), 1);
    ck_assert_int_eq(modbus_read_registers(r, 300, 1, &v), 1);
    ck_assert_uint_eq(v, 11);
    ck_assert_int_eq(modbus_write_register(r, 300, 12), 1);
    ck_assert_int_eq(modbus_read_registers(t, 300, 1, &v), 1);
    ck_assert_uint_eq(v, 12);
    client_free(t);
    client_free(r);
    ck_assert_int_eq(simproc_stop(&sp), 0);
}
END_TEST

/* Run the binary with args, output discarded; its exit status. */
static int run_cli(const char *const *args)
{
    const char *bin = getenv("CROSSCLIMB_BIN");
    const char *argv[16];
    int n = 0;
    if (!bin || !*bin) bin = "build/crossclimb";
    argv[n++] = bin;
    for (int i = 0; args[i] && n < 15; i++) argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

START_TEST(cli_arguments)
{
    static const char *const help1[] = {"sim", "--help", NULL};
    static const char *const help2[] = {"sim", "plc", "--help", NULL};
    static const char *const none[] = {"sim", NULL};
    static const char *const robot[] = {"sim", "robot", NULL};
    static const char *const uri[] = {"sim", "plc", "--listen", "udp://x:1", NULL};
    static const char *const port[] = {"sim", "plc", "--listen", "tcp://127.0.0.1:70000", NULL};
    static const char *const slave[] = {"sim", "plc", "--slave", "248", NULL};
    static const char *const scan[] = {"sim", "plc", "--scan-ms", "x", NULL};
    static const char *const idle[] = {"sim", "plc", "--idle", "slow", NULL};
    static const char *const drop[] = {"sim", "plc", "--drop-reply", "0", NULL};
    static const char *const missing[] = {"sim", "plc", "--silent-after", NULL};
    static const char *const unknown[] = {"sim", "plc", "--frobnicate", NULL};
    static const char *const noprog[] = {"sim", "plc", "--program", NULL};
    static const char *const emptyprog[] = {"sim", "plc", "--program", "", NULL};
    ck_assert_int_eq(run_cli(noprog), 2);
    ck_assert_int_eq(run_cli(emptyprog), 2);
    ck_assert_int_eq(run_cli(help1), 0);
    ck_assert_int_eq(run_cli(help2), 0);
    ck_assert_int_eq(run_cli(none), 2);
    ck_assert_int_eq(run_cli(robot), 2);
    ck_assert_int_eq(run_cli(uri), 2);
    ck_assert_int_eq(run_cli(port), 2);
    ck_assert_int_eq(run_cli(slave), 2);
    ck_assert_int_eq(run_cli(scan), 2);
    ck_assert_int_eq(run_cli(idle), 2);
    ck_assert_int_eq(run_cli(drop), 2);
    ck_assert_int_eq(run_cli(missing), 2);
    ck_assert_int_eq(run_cli(unknown), 2);
}
END_TEST

/* Run bin sim plc args with $CROSSCLIMB_PLC_PROGRAM = env (NULL: unset),
 * stdout and stderr into out[cap]; SIGTERM once its 'ready' line is out.
 * Returns the exit status (128 + N when killed by signal N). */
static int run_capture(const char *bin, const char *const *args, const char *env, char *out,
                       size_t cap)
{
    const char *argv[16];
    int n = 0, pfd[2], st, stopped = 0;
    size_t used = 0;
    argv[n++] = bin;
    argv[n++] = "sim";
    argv[n++] = "plc";
    for (int i = 0; args[i] && n < 15; i++) argv[n++] = args[i];
    argv[n] = NULL;
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        if (env) setenv("CROSSCLIMB_PLC_PROGRAM", env, 1);
        else unsetenv("CROSSCLIMB_PLC_PROGRAM");
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(pfd[1]);
    double deadline = now_s() + 10.0;
    for (;;) {
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        ck_assert_msg(now_s() < deadline, "the sim neither ended nor got ready: %.*s", (int)used,
                      out);
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t r = read(pfd[0], out + used, cap - 1 - used);
        if (r <= 0) break;
        used += (size_t)r;
        out[used] = '\0';
        if (!stopped && (!strncmp(out, "ready", 5) || strstr(out, "\nready"))) {
            kill(pid, SIGTERM);
            stopped = 1;
        }
        if (used == cap - 1) break;
    }
    out[used] = '\0';
    close(pfd[0]);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Copy file src to dst with mode. */
static void copy_file(const char *src, const char *dst, mode_t mode)
{
    char buf[65536];
    int in = open(src, O_RDONLY), outf = open(dst, O_WRONLY | O_CREAT | O_TRUNC, mode);
    ck_assert_msg(in >= 0 && outf >= 0, "copy %s -> %s: %s", src, dst, strerror(errno));
    ssize_t r;
    while ((r = read(in, buf, sizeof buf)) > 0) ck_assert_int_eq(write(outf, buf, (size_t)r), r);
    ck_assert_int_eq(r, 0);
    close(in);
    close(outf);
}

START_TEST(cli_program_lookup)
{
    static const char *const base[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen", NULL};
    const char *bin = getenv("CROSSCLIMB_BIN");
    const char *src = getenv("CROSSCLIMB_SRC");
    char out[8192], want[8192], path[4096], real[4096], tmp[] = "/tmp/crossclimb-lookup.XXXXXX";
    if (!bin || !*bin) bin = "build/crossclimb";
    if (!src || !*src) src = ".";
    unsigned steps = fxil_steps(the_program());

    /* default from a build tree: <exe dir>/../docs/plc/crossclimb.il */
    ck_assert_int_eq(run_capture(bin, base, NULL, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/docs/plc/crossclimb.il", src);
    ck_assert_ptr_nonnull(realpath(path, real));
    snprintf(want, sizeof want, "\nprogram %s (%u steps)\nready (", real, steps);
    ck_assert_msg(strstr(out, want), "'%s' not in:\n%s", want, out);

    /* $CROSSCLIMB_PLC_PROGRAM wins over the default, --program over both */
    snprintf(path, sizeof path, "%s/tests/plc/self_hold.il", src);
    ck_assert_ptr_nonnull(realpath(path, real));
    ck_assert_int_eq(run_capture(bin, base, path, out, sizeof out), 0);
    snprintf(want, sizeof want, "\nprogram %s (5 steps) (from $CROSSCLIMB_PLC_PROGRAM)\n", real);
    ck_assert_msg(strstr(out, want), "'%s' not in:\n%s", want, out);
    char bad[4096];
    snprintf(bad, sizeof bad, "%s/tests/plc/unknown_instruction.il", src);
    const char *const explicit[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen",
                                    "--program", path, NULL};
    ck_assert_int_eq(run_capture(bin, explicit, bad, out, sizeof out), 0);
    snprintf(want, sizeof want, "\nprogram %s (5 steps)\n", real);
    ck_assert_msg(strstr(out, want), "'%s' not in:\n%s", want, out);

    /* a program with an error is refused: FILE:LINE: message, exit 1 */
    const char *const broken[] = {"--listen", "tcp://127.0.0.1:0", "--program", bad, NULL};
    ck_assert_int_eq(run_capture(bin, broken, NULL, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "unknown_instruction.il:3: unknown instruction 'JMP'"));
    ck_assert_ptr_null(strstr(out, "ready"));
    ck_assert_int_eq(run_capture(bin, base, bad, out, sizeof out), 1); /* from the env too */
    ck_assert_ptr_nonnull(strstr(out, "unknown_instruction.il:3:"));
    ck_assert_ptr_nonnull(strstr(out, "$CROSSCLIMB_PLC_PROGRAM"));
    const char *const missing[] = {"--program", "/nonexistent/x.il", NULL};
    ck_assert_int_eq(run_capture(bin, missing, NULL, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "/nonexistent/x.il"));

    /* an installed layout: PREFIX/bin/crossclimb finds
     * PREFIX/share/crossclimb/crossclimb.il; without it, both paths tried
     * are named */
    char dir[4096], ibin[4096], il[4096];
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    snprintf(dir, sizeof dir, "%s/bin", tmp);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(ibin, sizeof ibin, "%s/bin/crossclimb", tmp);
    copy_file(bin, ibin, 0755);
    ck_assert_int_eq(run_capture(ibin, base, NULL, out, sizeof out), 1);
    snprintf(want, sizeof want, "%s/bin/../docs/plc/crossclimb.il", tmp);
    ck_assert_msg(strstr(out, "no PLC program found") && strstr(out, want), "%s", out);
    snprintf(want, sizeof want, "%s/bin/../share/crossclimb/crossclimb.il", tmp);
    ck_assert_msg(strstr(out, want), "%s", out);
    ck_assert_ptr_null(strstr(out, "ready"));
    snprintf(dir, sizeof dir, "%s/share", tmp);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(dir, sizeof dir, "%s/share/crossclimb", tmp);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(il, sizeof il, "%s/share/crossclimb/crossclimb.il", tmp);
    snprintf(path, sizeof path, "%s/docs/plc/crossclimb.il", src);
    copy_file(path, il, 0644);
    ck_assert_int_eq(run_capture(ibin, base, NULL, out, sizeof out), 0);
    ck_assert_ptr_nonnull(realpath(il, real));
    snprintf(want, sizeof want, "\nprogram %s (%u steps)\n", real, steps);
    ck_assert_msg(strstr(out, want), "'%s' not in:\n%s", want, out);
    unlink(il);
    unlink(ibin);
    snprintf(dir, sizeof dir, "%s/share/crossclimb", tmp);
    rmdir(dir);
    snprintf(dir, sizeof dir, "%s/share", tmp);
    rmdir(dir);
    snprintf(dir, sizeof dir, "%s/bin", tmp);
    rmdir(dir);
    ck_assert_int_eq(rmdir(tmp), 0);
}
END_TEST

START_TEST(cli_port_in_use)
{
    static const char *const args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen", NULL};
    char uri[96];
    start_sim(args);
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d", sp.tcp_port);
    const char *const again[] = {"sim", "plc", "--listen", uri, NULL};
    ck_assert_int_eq(run_cli(again), 1);
    ck_assert_int_eq(simproc_stop(&sp), 0);
    ck_assert_int_eq(simproc_stop(&sp), SIMPROC_EARG);
}
END_TEST

static Suite *plcsim_suite(void)
{
    Suite *s = suite_create("plcsim");
    TCase *tc = tcase_create("plc");
    tcase_add_test(tc, first_scan);
    tcase_add_test(tc, tick);
    tcase_add_test(tc, tick_wraps);
    tcase_add_test(tc, clocks);
    tcase_add_test(tc, echoes_and_count);
    tcase_add_test(tc, io_packing);
    tcase_add_test(tc, request_advances_time);
    tcase_add_test(tc, idle_realtime);
    tcase_add_test(tc, realtime_mode);
    tcase_add_test(tc, logic_error_stops);
    tcase_add_test(tc, bad_config);
    tcase_add_test(tc, plant_refresh);
    suite_add_tcase(s, tc);

    TCase *proc = tcase_create("process");
    tcase_set_timeout(proc, 60);
    tcase_add_test(proc, tcp_control_cycle);
    tcase_add_test(proc, tcp_diagnostics_and_unknown);
    tcase_add_test(proc, tcp_clients_in_turn);
    tcase_add_test(proc, tcp_idle_realtime);
    tcase_add_test(proc, tcp_no_fc17);
    tcase_add_test(proc, tcp_drop_reply);
    tcase_add_test(proc, tcp_silent_after);
    tcase_add_test(proc, rtu_control_cycle);
    tcase_add_test(proc, tcp_and_rtu_together);
    tcase_add_test(proc, cli_arguments);
    tcase_add_test(proc, cli_port_in_use);
    tcase_add_test(proc, cli_program_lookup);
    suite_add_tcase(s, proc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(plcsim_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
