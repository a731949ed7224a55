/*
 * check_plc_program.c — the shipped PLC program docs/plc/crossclimb.il as
 * the laptop sees it: `crossclimb sim plc` runs it over the bench plant in
 * its own process (controller/simproc.h) with frozen idle time, and this test
 * talks Modbus TCP to it with libmodbus.  Each exchange writes the command
 * block D200-D207 (FC 0x10; virtual time advances by the period hint D204
 * and the scans of that period run) and then reads the status block
 * D100-D131 (FC 0x03): the state after those scans.
 *
 * Covers: power-up HOLD (reason 1) and RESET; a full half-step of each group
 * with every transition accepted and echoed; every interlock L1-L5 violated
 * once (refused, D100 b4, outputs and echo unchanged); the L6 watchdog to the
 * scan; E-stop, tether and supply faults (forced with D7900-D7903) latching
 * HOLD with its output pattern and reason, RESET refused while the fault is
 * active and accepted after; the D300 count of accepted commands.
 */
#include <check.h>
#include <errno.h>
#include <modbus.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/simproc.h"
#include "plc_bridge/regmap.h"

#define D_ACCEPTED 300u      /* D300: accepted commands (rung 40) */
#define D_FORCE 7900u        /* D7900-D7903: bench plant input forcing */
#define MAX_WAIT_MS 5000u    /* longest any bench movement may take here */

#define Y_GRIP (CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC)
#define Y_HOLD_SET (CC_Y_A_VAC | CC_Y_B_VAC | CC_Y_BEACON)
#define X_A_GRIPS (CC_X_A_DOWN | CC_X_A_VAC_OK)
#define X_B_GRIPS (CC_X_B_DOWN | CC_X_B_VAC_OK)

static simproc sp;
static modbus_t *ctx;
static uint16_t st[CC_STATUS_COUNT]; /* the status block after the last exchange */
static uint16_t seq, hb, out_req, mode_req; /* the command block being sent */
static unsigned accepted_n;          /* commands this test saw accepted */

static void start(void)
{
    static const char *const args[] = {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen", NULL};
    int rc = simproc_start(&sp, NULL, args);
    ck_assert_msg(rc == 0, "simproc_start: %s", simproc_strerror(rc));
    ck_assert_int_gt(sp.tcp_port, 0);
    ctx = modbus_new_tcp("127.0.0.1", sp.tcp_port);
    ck_assert_ptr_nonnull(ctx);
    modbus_set_response_timeout(ctx, 2, 0);
    ck_assert_msg(modbus_connect(ctx) == 0, "connect: %s", modbus_strerror(errno));
    ck_assert_int_eq(modbus_read_registers(ctx, CC_STATUS_FIRST, CC_STATUS_COUNT, st),
                     CC_STATUS_COUNT);
    seq = hb = out_req = mode_req = 0;
    accepted_n = 0;
}

static void stop(void)
{
    modbus_close(ctx);
    modbus_free(ctx);
    ctx = NULL;
    ck_assert_int_eq(simproc_stop(&sp), 0);
}

static uint16_t flags(void) { return st[CC_ST_FLAGS]; }
static uint16_t yword(void) { return st[CC_ST_Y]; }
static uint32_t xword(void) { return (uint32_t)st[CC_ST_X_LO] | (uint32_t)st[CC_ST_X_HI] << 16; }

/* Write the command block with period hint period_ms, read the status. */
static void exchange(uint16_t period_ms)
{
    uint16_t cmd[CC_CMD_COUNT] = {seq, hb, out_req, mode_req, period_ms, 0, 0, 0};
    ck_assert_int_eq(modbus_write_registers(ctx, CC_CMD_FIRST, CC_CMD_COUNT, cmd), CC_CMD_COUNT);
    ck_assert_int_eq(modbus_read_registers(ctx, CC_STATUS_FIRST, CC_STATUS_COUNT, st),
                     CC_STATUS_COUNT);
}

/* One laptop cycle with the same command: heartbeat +1. */
static void cycle(uint16_t period_ms)
{
    hb++;
    exchange(period_ms);
}

/* A new command (new sequence number) in one 10 ms cycle. */
static void command(uint16_t outputs, uint16_t mode)
{
    seq++;
    out_req = outputs;
    mode_req = mode;
    cycle(10);
}

static void expect_accepted(uint16_t outputs, uint16_t mode)
{
    command(outputs, mode);
    ck_assert_msg(st[CC_ST_SEQ_ECHO] == seq && !(flags() & CC_FLAG_REJECTED),
                  "command %u (outputs 0x%04X, mode %u) not accepted: D100 0x%04X D105 %u "
                  "D101 0x%04X",
                  seq, outputs, mode, flags(), st[CC_ST_SEQ_ECHO], st[CC_ST_X_LO]);
    if (mode == CC_MODE_AUTO || mode == CC_MODE_MANUAL) ck_assert_uint_eq(yword(), outputs);
    accepted_n++;
}

/* The command just sent was refused: b4, outputs and echo as before it. */
static void assert_refused(const char *what, uint16_t y_before, uint16_t echo_before)
{
    ck_assert_msg(flags() & CC_FLAG_REJECTED, "%s: not refused (D100 0x%04X)", what, flags());
    ck_assert_msg(yword() == y_before, "%s: D103 0x%04X, was 0x%04X", what, yword(), y_before);
    ck_assert_msg(st[CC_ST_SEQ_ECHO] == echo_before, "%s: D105 %u, was %u", what,
                  st[CC_ST_SEQ_ECHO], echo_before);
}

/* An AUTO request an interlock must refuse; still refused, nothing moved,
 * after a few more cycles (a refused command is never retried). */
static void expect_refused(const char *what, uint16_t outputs)
{
    uint16_t y = yword(), echo = st[CC_ST_SEQ_ECHO];
    command(outputs, CC_MODE_AUTO);
    assert_refused(what, y, echo);
    for (int i = 0; i < 3; i++) cycle(10);
    assert_refused(what, y, echo);
}

/* Cycle (heartbeat moving, period_ms each) until the inputs masked by mask
 * read want; fails after MAX_WAIT_MS.  Returns the virtual ms it took. */
static unsigned wait_inputs(uint32_t mask, uint32_t want, uint16_t period_ms)
{
    unsigned ms = 0;
    while ((xword() & mask) != want) {
        ck_assert_msg(ms < MAX_WAIT_MS, "inputs 0x%08X & 0x%08X never became 0x%08X", xword(),
                      mask, want);
        cycle(period_ms);
        ms += period_ms;
    }
    return ms;
}

/* Force inputs X0-X37 (mask, values) through the bench plant's D7900-D7903;
 * not a command-block write, so no time passes until the next cycle. */
static void force(uint32_t mask, uint32_t values)
{
    uint16_t f[4] = {(uint16_t)mask, (uint16_t)values, (uint16_t)(mask >> 16),
                     (uint16_t)(values >> 16)};
    ck_assert_int_eq(modbus_write_registers(ctx, D_FORCE, 4, f), 4);
}

static uint16_t accepted_count(void)
{
    uint16_t v = 0;
    ck_assert_int_eq(modbus_read_registers(ctx, D_ACCEPTED, 1, &v), 1);
    return v;
}

/* ------------------------------------------------------------ sequences */

/* From power-up: RESET, AUTO with both groups down and sucking, until both
 * grip (every cup sealed). */
static void grip_both(void)
{
    expect_accepted(0, CC_MODE_RESET);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, 0);
    expect_accepted(Y_GRIP, CC_MODE_AUTO);
    unsigned ms = wait_inputs(X_A_GRIPS | X_B_GRIPS, X_A_GRIPS | X_B_GRIPS, 50);
    ck_assert_uint_le(ms, 1500); /* about 1 s to sealed */
    for (unsigned i = 0; i < CC_CUPS_N; i++) ck_assert_uint_ge(st[CC_ST_CUP_FIRST + i], 450);
}

/* Half-step of group A, first part: release A (allowed: B grips) and lift it. */
static void lift_a(void)
{
    expect_accepted(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_A_BLOW, CC_MODE_AUTO);
    wait_inputs(CC_X_A_VAC_OK, 0, 10);
    for (unsigned i = 0; i < 6; i++) ck_assert_uint_eq(st[CC_ST_CUP_FIRST + i], 0);
    expect_accepted(CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_AUTO); /* legs up (L4: B grips) */
    unsigned ms = wait_inputs(CC_X_A_UP | CC_X_A_DOWN, CC_X_A_UP, 10);
    ck_assert_uint_ge(ms, 390); /* the bench's 400 ms leg travel */
    ck_assert_uint_le(ms, 420);
}

/* Half-step of group A, second part: A down again and sucking until sealed. */
static void set_down_a(void)
{
    expect_accepted(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_AUTO);
    wait_inputs(CC_X_A_UP | CC_X_A_DOWN, CC_X_A_DOWN, 10);
    expect_accepted(Y_GRIP, CC_MODE_AUTO);
    wait_inputs(X_A_GRIPS | X_B_GRIPS, X_A_GRIPS | X_B_GRIPS, 50);
}

static void lift_b(void)
{
    expect_accepted(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_BLOW, CC_MODE_AUTO);
    wait_inputs(CC_X_B_VAC_OK, 0, 10);
    for (unsigned i = 6; i < 12; i++) ck_assert_uint_eq(st[CC_ST_CUP_FIRST + i], 0);
    expect_accepted(CC_Y_A_DOWN | CC_Y_A_VAC, CC_MODE_AUTO);
    wait_inputs(CC_X_B_UP | CC_X_B_DOWN, CC_X_B_UP, 10);
}

static void set_down_b(void)
{
    expect_accepted(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC, CC_MODE_AUTO);
    wait_inputs(CC_X_B_UP | CC_X_B_DOWN, CC_X_B_DOWN, 10);
    expect_accepted(Y_GRIP, CC_MODE_AUTO);
    wait_inputs(X_A_GRIPS | X_B_GRIPS, X_A_GRIPS | X_B_GRIPS, 50);
}

/* ------------------------------------------------------------- power-up */

START_TEST(test_power_up_hold_and_reset)
{
    start();
    ck_assert_uint_eq(flags() & (CC_FLAG_RUN | CC_FLAG_HOLD), CC_FLAG_RUN | CC_FLAG_HOLD);
    ck_assert_uint_eq(st[CC_ST_HOLD_REASON], CC_HOLD_COMMANDED);
    ck_assert_uint_eq(st[CC_ST_SEQ_ECHO], 0);
    ck_assert_uint_eq(st[CC_ST_VERSION], 1);
    /* HOLD pattern, and both legs down: rung 1 commands them down at
     * power-up because a restarted PLC must never lift a foot */
    ck_assert_uint_eq(yword(), Y_HOLD_SET | CC_Y_A_DOWN | CC_Y_B_DOWN);
    ck_assert_uint_eq(accepted_count(), 1);  /* the power-up evaluation of mode 0 */
    /* the bench: healthy safety inputs, analog values through FROM */
    uint32_t safe = CC_X_ESTOP_OK | CC_X_TETHER_OK | CC_X_SUPPLY_OK | CC_X_ENABLE_KEY;
    ck_assert_uint_eq(xword() & safe, safe);
    ck_assert_uint_eq(st[CC_ST_TETHER], 150);
    ck_assert_uint_eq(st[CC_ST_SUPPLY], 600);
    ck_assert_uint_eq(st[CC_ST_PROX_FIRST], CC_NO_VALUE);

    /* AUTO while held: refused, still held */
    uint16_t y = yword();
    command(Y_GRIP, CC_MODE_AUTO);
    assert_refused("AUTO in HOLD", y, 0);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, CC_FLAG_HOLD);
    /* RESET with no fault: HOLD left, reason and b4 cleared, nothing moved */
    expect_accepted(0, CC_MODE_RESET);
    ck_assert_uint_eq(flags() & (CC_FLAG_HOLD | CC_FLAG_REJECTED), 0);
    ck_assert_uint_eq(st[CC_ST_HOLD_REASON], CC_HOLD_NONE);
    ck_assert_uint_eq(yword(), y);
    ck_assert_uint_eq(accepted_count(), 1 + 1); /* the refused AUTO is not counted */
    stop();
}
END_TEST

/* ---------------------------------------------------- allowed transitions */

START_TEST(test_half_steps)
{
    start();
    grip_both();
    ck_assert_uint_eq(st[CC_ST_POS_X], 150);
    ck_assert_uint_eq(xword() & (CC_X_XCYL_MINUS_END | CC_X_XCYL_PLUS_END), 0);

    /* group A moves +X while B holds */
    lift_a();
    expect_accepted(CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_X_PLUS, CC_MODE_AUTO); /* L3: A up, B grips */
    unsigned ms = wait_inputs(CC_X_XCYL_PLUS_END, CC_X_XCYL_PLUS_END, 10);
    ck_assert_uint_ge(ms, 990); /* 150 mm at 150 mm/s */
    ck_assert_uint_le(ms, 1010);
    ck_assert_uint_eq(st[CC_ST_POS_X], 300);
    expect_accepted(CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_AUTO); /* stop at the end switch */
    set_down_a();

    /* group B moves +Y while A holds */
    lift_b();
    expect_accepted(CC_Y_A_DOWN | CC_Y_A_VAC | CC_Y_Y_PLUS, CC_MODE_AUTO);
    wait_inputs(CC_X_YCYL_PLUS_END, CC_X_YCYL_PLUS_END, 10);
    ck_assert_uint_eq(st[CC_ST_POS_Y], 300);
    expect_accepted(CC_Y_A_DOWN | CC_Y_A_VAC, CC_MODE_AUTO);
    set_down_b();

    /* back: brush and spray on while both grip (no interlock on them) */
    expect_accepted(Y_GRIP | CC_Y_BRUSH | CC_Y_SPRAY, CC_MODE_AUTO);
    ck_assert_uint_eq(flags() & (CC_FLAG_HOLD | CC_FLAG_REJECTED | CC_FLAG_WATCHDOG), 0);
    /* D300 counted each accepted command once, though each stayed in D200
     * for many scans, plus the power-up evaluation */
    ck_assert_uint_eq(accepted_count(), 1 + accepted_n);
    stop();
}
END_TEST

/* -------------------------------------------------------------- interlocks */

START_TEST(test_interlocks_refused)
{
    start();
    grip_both();
    /* L3: a cylinder with both groups down */
    expect_refused("L3 (both groups down)", Y_GRIP | CC_Y_X_PLUS);
    expect_refused("L3 (both groups down)", Y_GRIP | CC_Y_Y_MINUS);

    lift_a(); /* accepted after refusals: b4 cleared again */
    ck_assert_uint_eq(flags() & CC_FLAG_REJECTED, 0);
    /* L2: B's vacuum off while A (lifted) does not grip */
    expect_refused("L2 (B vacuum off)", CC_Y_B_DOWN);
    expect_refused("L2 (B blow-off)", CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_B_BLOW);
    /* L4: B's legs up while A does not grip */
    expect_refused("L4 (B legs up)", CC_Y_B_VAC);
    /* L5: both directions of one cylinder (L3 holds: A up, B grips) */
    expect_refused("L5 (X both ways)", CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_X_PLUS | CC_Y_X_MINUS);
    expect_refused("L5 (Y both ways)", CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_Y_PLUS | CC_Y_Y_MINUS);
    ck_assert_uint_eq(st[CC_ST_POS_X], 150); /* nothing moved */
    /* allowed from here: one direction */
    expect_accepted(CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_X_MINUS, CC_MODE_AUTO);
    expect_accepted(CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_AUTO);
    set_down_a();

    lift_b();
    /* L1: A's vacuum off, or its blow-off, while B (lifted) does not grip */
    expect_refused("L1 (A vacuum off)", CC_Y_A_DOWN);
    expect_refused("L1 (A blow-off)", CC_Y_A_DOWN | CC_Y_A_VAC | CC_Y_A_BLOW);
    /* L4: A's legs up while B does not grip */
    expect_refused("L4 (A legs up)", CC_Y_A_VAC);
    set_down_b();
    ck_assert_uint_eq(flags() & (CC_FLAG_HOLD | CC_FLAG_REJECTED), 0);
    ck_assert_uint_eq(accepted_count(), 1 + accepted_n); /* refused ones are not counted */
    stop();
}
END_TEST

/* ---------------------------------------------------------------- watchdog */

START_TEST(test_watchdog)
{
    start();
    expect_accepted(0, CC_MODE_RESET);
    expect_accepted(Y_GRIP, CC_MODE_AUTO);
    for (int i = 0; i < 20; i++) cycle(10); /* heartbeat alive: 200 ms, no trip */
    ck_assert_uint_eq(flags() & (CC_FLAG_WATCHDOG | CC_FLAG_HOLD), 0);
    /* The last change: the scan of this cycle sees it.  From now on the
     * cycles keep D201 and advance 10 ms (D204 = 10) each: one scan. */
    cycle(10);
    uint16_t t0 = st[CC_ST_TICK];
    for (unsigned k = 1; k <= 49; k++) {
        exchange(10);
        ck_assert_uint_eq((uint16_t)(st[CC_ST_TICK] - t0), k);
        ck_assert_msg((flags() & (CC_FLAG_WATCHDOG | CC_FLAG_HOLD)) == 0,
                      "tripped after only %u ms", 10 * k);
    }
    exchange(10); /* 500 ms of virtual time without a change: this scan trips */
    ck_assert_uint_eq((uint16_t)(st[CC_ST_TICK] - t0), 50);
    ck_assert_uint_eq(flags() & (CC_FLAG_WATCHDOG | CC_FLAG_HOLD),
                      CC_FLAG_WATCHDOG | CC_FLAG_HOLD);
    ck_assert_uint_eq(st[CC_ST_HOLD_REASON], CC_HOLD_WATCHDOG);
    ck_assert_uint_eq(yword(), Y_GRIP | CC_Y_BEACON); /* HOLD pattern, legs as they were */
    /* the heartbeat back: still held until a RESET, which clears b3 */
    for (int i = 0; i < 5; i++) cycle(10);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, CC_FLAG_HOLD);
    expect_accepted(0, CC_MODE_RESET);
    ck_assert_uint_eq(flags() & (CC_FLAG_WATCHDOG | CC_FLAG_HOLD), 0);
    ck_assert_uint_eq(st[CC_ST_HOLD_REASON], CC_HOLD_NONE);
    /* MANUAL (commissioning) has no watchdog: 2 s without a heartbeat */
    expect_accepted(Y_GRIP, CC_MODE_MANUAL);
    for (int i = 0; i < 20; i++) exchange(100);
    ck_assert_uint_eq(flags() & (CC_FLAG_WATCHDOG | CC_FLAG_HOLD), 0);
    stop();
}
END_TEST

/* ------------------------------------------------------------------ faults */

typedef struct {
    uint32_t input;  /* the X forced off */
    uint16_t flag;   /* its live D100 flag */
    uint16_t reason; /* D107 */
    const char *name;
} fault_case;

static const fault_case faults[] = {
    {CC_X_ESTOP_OK, CC_FLAG_ESTOP, CC_HOLD_ESTOP, "E-stop (X12)"},
    {CC_X_TETHER_OK, CC_FLAG_TETHER, CC_HOLD_TETHER, "tether (X13)"},
    {CC_X_SUPPLY_OK, CC_FLAG_SUPPLY_LOW, CC_HOLD_SUPPLY, "supply (X14)"},
};

START_TEST(test_fault_latches_hold)
{
    const fault_case *f = &faults[_i];
    start();
    grip_both();
    lift_a();
    /* moving: X cylinder, A's blow-off (allowed: B grips), brush, spray */
    uint16_t moving = CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_X_PLUS | CC_Y_A_BLOW | CC_Y_BRUSH |
                      CC_Y_SPRAY;
    expect_accepted(moving, CC_MODE_AUTO);
    uint16_t echo = st[CC_ST_SEQ_ECHO];

    force(f->input, 0);
    cycle(10);
    ck_assert_msg((flags() & (f->flag | CC_FLAG_HOLD)) == (f->flag | CC_FLAG_HOLD),
                  "%s: D100 0x%04X", f->name, flags());
    ck_assert_uint_eq(st[CC_ST_HOLD_REASON], f->reason);
    /* HOLD pattern: Y6 Y7 Y14 on; Y0-Y3, Y10-Y13 off; legs as they were
     * (A up: Y4 off, B down: Y5 on) */
    ck_assert_uint_eq(yword(), CC_Y_B_DOWN | Y_HOLD_SET);
    /* requests are refused while held */
    uint16_t y = yword();
    command(moving, CC_MODE_AUTO);
    assert_refused("AUTO in HOLD", y, echo);
    /* RESET with the fault still active: refused, still held */
    command(0, CC_MODE_RESET);
    assert_refused("RESET with the fault active", y, echo);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, CC_FLAG_HOLD);
    for (int i = 0; i < 10; i++) cycle(10);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, CC_FLAG_HOLD);
    /* the fault clears: HOLD stays until a RESET, with the first reason */
    force(0, 0);
    for (int i = 0; i < 10; i++) cycle(10);
    ck_assert_uint_eq(flags() & (f->flag | CC_FLAG_HOLD), CC_FLAG_HOLD);
    ck_assert_uint_eq(st[CC_ST_HOLD_REASON], f->reason);
    expect_accepted(0, CC_MODE_RESET);
    ck_assert_uint_eq(flags() & (CC_FLAG_HOLD | CC_FLAG_REJECTED), 0);
    ck_assert_uint_eq(st[CC_ST_HOLD_REASON], CC_HOLD_NONE);
    ck_assert_uint_eq(yword(), y); /* RESET itself moves nothing */
    /* and AUTO works again: A still up, B gripping */
    ck_assert_uint_eq(xword() & (CC_X_A_UP | X_B_GRIPS), CC_X_A_UP | X_B_GRIPS);
    expect_accepted(CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_AUTO);
    stop();
}
END_TEST

/* --------------------------------------------------------- input forcing */

START_TEST(test_input_forcing)
{
    start();
    grip_both(); /* the bench at rest: its inputs stay as they are */
    uint32_t x = xword();
    uint32_t forced = CC_X_ENABLE_KEY | CC_X_WATER_LOW | CC_X_XCYL_PLUS_END | CC_X_A_DOWN;
    ck_assert_uint_eq(x & forced, CC_X_ENABLE_KEY | CC_X_A_DOWN);
    /* X22 off, X21 on (high word), X1 on, X5 off (low word) */
    force(forced, CC_X_WATER_LOW | CC_X_XCYL_PLUS_END);
    uint16_t rb[4];
    ck_assert_int_eq(modbus_read_registers(ctx, D_FORCE, 4, rb), 4);
    ck_assert_uint_eq(rb[0], CC_X_XCYL_PLUS_END | CC_X_A_DOWN);
    ck_assert_uint_eq(rb[1], CC_X_XCYL_PLUS_END);
    ck_assert_uint_eq(rb[2], (CC_X_ENABLE_KEY | CC_X_WATER_LOW) >> 16);
    ck_assert_uint_eq(rb[3], CC_X_WATER_LOW >> 16);
    ck_assert_uint_eq(xword(), x); /* no scan yet */
    cycle(10);
    ck_assert_uint_eq(xword(), (x & ~(CC_X_ENABLE_KEY | CC_X_A_DOWN)) | CC_X_WATER_LOW |
                                   CC_X_XCYL_PLUS_END);
    /* the program sees what is forced: A no longer grips for L2 */
    expect_refused("L2 with X5 forced off", CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC);
    force(0, 0);
    cycle(10);
    ck_assert_uint_eq(xword(), x);
    expect_accepted(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC, CC_MODE_AUTO);
    stop();
}
END_TEST

static Suite *program_suite(void)
{
    Suite *s = suite_create("plc-program-over-modbus");
    TCase *tc = tcase_create("program");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_power_up_hold_and_reset);
    tcase_add_test(tc, test_half_steps);
    tcase_add_test(tc, test_interlocks_refused);
    tcase_add_test(tc, test_watchdog);
    tcase_add_loop_test(tc, test_fault_latches_hold, 0, (int)(sizeof faults / sizeof faults[0]));
    tcase_add_test(tc, test_input_forcing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(program_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
