/*
 * check_fxil_program.c — the shipped PLC program docs/plc/crossclimb.il run
 * by the interpreter directly on fxmem, driven as the laptop and the physics
 * would: X inputs and the command block D200-D204 written between scans of
 * 10 ms, the status block D100-D131 and Y read back.  Covers the interlocks
 * L1-L5 (each violated once, each allowed transition), the L6 watchdog, the
 * L7 faults with the HOLD pattern and reason, and RESET.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plc_bridge/regmap.h"
#include "sim/fxil.h"

#define SCAN_MS 10u

static fxmem mem;
static fxil_program *prog;
static uint16_t seq;   /* last command sequence number sent */
static int heartbeat;  /* the laptop increments D201 every cycle */

static uint16_t reg(unsigned d) { return mem.d[d]; }
static uint16_t status(unsigned off) { return mem.d[CC_STATUS_FIRST + off]; }
static uint16_t flags(void) { return status(CC_ST_FLAGS); }

static unsigned yword(void)
{
    unsigned v = 0;
    for (unsigned i = 0; i < 16; i++) v |= (unsigned)mem.y[i] << i;
    return v;
}

/* Set the inputs X0-X37 from a CC_X_* mask. */
static void set_inputs(uint32_t xs)
{
    for (unsigned i = 0; i < 32; i++) mem.x[i] = (uint8_t)((xs >> i) & 1u);
}

static void set_x(uint32_t bit, int on)
{
    for (unsigned i = 0; i < 32; i++)
        if (bit == (1u << i)) mem.x[i] = (uint8_t)(on ? 1 : 0);
}

/* One laptop cycle: heartbeat, then one PLC scan. */
static void cycle(void)
{
    if (heartbeat) mem.d[CC_CMD_FIRST + CC_CMD_HEARTBEAT]++;
    ck_assert_int_eq(fxil_scan(prog, &mem, SCAN_MS), 0);
}

static void cycles(int n)
{
    for (int i = 0; i < n; i++) cycle();
}

/* Send one command (new sequence number) and run the cycle it arrives in. */
static void command(unsigned outputs, unsigned mode)
{
    seq++;
    mem.d[CC_CMD_FIRST + CC_CMD_SEQ] = seq;
    mem.d[CC_CMD_FIRST + CC_CMD_OUTPUTS] = (uint16_t)outputs;
    mem.d[CC_CMD_FIRST + CC_CMD_MODE] = (uint16_t)mode;
    cycle();
}

static int accepted(void) { return status(CC_ST_SEQ_ECHO) == seq && !(flags() & CC_FLAG_REJECTED); }

/* The command just sent was refused and nothing moved. */
static void assert_rejected(unsigned y_before, uint16_t echo_before)
{
    ck_assert_msg(flags() & CC_FLAG_REJECTED, "b4 not set (D100 = 0x%04X)", flags());
    ck_assert_uint_eq(status(CC_ST_SEQ_ECHO), echo_before);
    ck_assert_uint_eq(yword(), y_before);
    ck_assert_uint_eq(status(CC_ST_Y), y_before);
}

/* Request outputs expecting a refusal by an interlock. */
static void expect_refused(unsigned outputs)
{
    unsigned y = yword();
    uint16_t echo = status(CC_ST_SEQ_ECHO);
    command(outputs, CC_MODE_AUTO);
    assert_rejected(y, echo);
    cycles(3); /* not retried: still refused, still unchanged */
    assert_rejected(y, echo);
}

static void expect_accepted(unsigned outputs, unsigned mode)
{
    command(outputs, mode);
    ck_assert_msg(accepted(), "command %u (outputs 0x%04X mode %u) not accepted: D100 0x%04X D105 %u",
                  seq, outputs, mode, flags(), status(CC_ST_SEQ_ECHO));
    if (mode == CC_MODE_AUTO || mode == CC_MODE_MANUAL) {
        ck_assert_uint_eq(yword(), outputs);
        ck_assert_uint_eq(status(CC_ST_Y), outputs);
    }
}

/* Both groups standing on the wall: legs down, vacuum switches on, no faults. */
#define X_BOTH_GRIP                                                                         \
    (CC_X_A_DOWN | CC_X_B_DOWN | CC_X_A_VAC_OK | CC_X_B_VAC_OK | CC_X_ESTOP_OK |            \
     CC_X_TETHER_OK | CC_X_SUPPLY_OK)
#define Y_BOTH_GRIP (CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC)
#define Y_HOLD_SET (CC_Y_A_VAC | CC_Y_B_VAC | CC_Y_BEACON)

static void setup(void)
{
    char path[4096], msg[512];
    const char *src = getenv("CROSSCLIMB_SRC");
    snprintf(path, sizeof path, "%s/docs/plc/crossclimb.il", src ? src : ".");
    int rc = fxil_load_file(path, &prog, msg, sizeof msg);
    ck_assert_msg(rc == 0, "%s", msg);
    fxmem_clear(&mem);
    seq = 0;
    heartbeat = 1;
    set_inputs(X_BOTH_GRIP);
    cycle(); /* power-up scan */
}

static void teardown(void)
{
    fxil_free(prog);
    prog = NULL;
}

/* RESET then AUTO with both groups gripping. */
static void start_auto(void)
{
    expect_accepted(0, CC_MODE_RESET);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, 0);
    expect_accepted(Y_BOTH_GRIP, CC_MODE_AUTO);
}

/* From both gripping: release A (vacuum off, blow-off) and lift it. */
static void lift_a(void)
{
    start_auto();
    expect_accepted(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_A_BLOW, CC_MODE_AUTO);
    set_x(CC_X_A_VAC_OK, 0);
    cycles(5);
    expect_accepted(CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_AUTO); /* A legs up (L4: B grips) */
    set_x(CC_X_A_DOWN, 0);
    set_x(CC_X_A_UP, 1);
    cycles(5);
}

/* --------------------------------------------------------------- start-up */

START_TEST(test_power_up_hold)
{
    ck_assert_uint_eq(flags() & CC_FLAG_RUN, CC_FLAG_RUN);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, CC_FLAG_HOLD);
    ck_assert_uint_eq(status(CC_ST_HOLD_REASON), CC_HOLD_COMMANDED);
    /* power-up: the HOLD pattern plus both legs down (rung 1: a restarted
     * PLC must never lift a foot) */
    ck_assert_uint_eq(yword(), Y_HOLD_SET | (1u << 4) | (1u << 5));
    ck_assert_uint_eq(status(CC_ST_VERSION), 1);
    /* A command in AUTO while held is refused, whatever it asks. */
    unsigned y = yword();
    command(Y_BOTH_GRIP, CC_MODE_AUTO);
    assert_rejected(y, 0);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, CC_FLAG_HOLD);
    start_auto();
    ck_assert_uint_eq(status(CC_ST_HOLD_REASON), CC_HOLD_NONE);
    ck_assert_uint_eq(flags() & (CC_FLAG_HOLD | CC_FLAG_REJECTED | CC_FLAG_MANUAL), 0);
}
END_TEST

START_TEST(test_power_up_clears_latched_command)
{
    /* D200-D203 are latched on an FX1N: a restart in AUTO must still come up in HOLD. */
    start_auto();
    mem.d[CC_CMD_FIRST + CC_CMD_MODE] = CC_MODE_AUTO;
    fxil_restart(prog);
    for (unsigned i = 100; i < 132; i++) mem.d[i] = 0;
    for (unsigned i = 0; i < 1536; i++) mem.m[i] = 0; /* non-latched M cleared at RUN */
    cycle();
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, CC_FLAG_HOLD);
    ck_assert_uint_eq(mem.d[CC_CMD_FIRST + CC_CMD_MODE], 0);
    ck_assert_uint_eq(status(CC_ST_HOLD_REASON), CC_HOLD_COMMANDED);
}
END_TEST

START_TEST(test_status_block)
{
    fxil_program *p = prog;
    for (unsigned i = 0; i < CC_CUPS_N; i++) fxil_block_write(p, 0, i, (uint16_t)(450 + i));
    for (unsigned i = 0; i < 4; i++) fxil_block_write(p, 1, i, (uint16_t)(1000 + i));
    fxil_block_write(p, 1, 2, CC_NO_VALUE);
    fxil_block_write(p, 1, 4, 35);   /* tether N */
    fxil_block_write(p, 1, 5, 620);  /* supply kPa */
    fxil_block_write(p, 1, 6, 150);  /* X cylinder mm */
    fxil_block_write(p, 1, 7, CC_NO_VALUE);
    set_x(CC_X_EDGE_YM, 1);     /* X20 */
    set_x(CC_X_ENABLE_KEY, 1);  /* X22 */
    cycles(9); /* 10 scans of 10 ms so far */
    for (unsigned i = 0; i < CC_CUPS_N; i++) ck_assert_uint_eq(status(CC_ST_CUP_FIRST + i), 450 + i);
    ck_assert_uint_eq(status(CC_ST_PROX_FIRST + 0), 1000);
    ck_assert_uint_eq(status(CC_ST_PROX_FIRST + 2), CC_NO_VALUE);
    ck_assert_uint_eq(status(CC_ST_PROX_FIRST + 3), 1003);
    ck_assert_uint_eq(status(CC_ST_TETHER), 35);
    ck_assert_uint_eq(status(CC_ST_SUPPLY), 620);
    ck_assert_uint_eq(status(CC_ST_POS_X), 150);
    ck_assert_uint_eq(status(CC_ST_POS_Y), CC_NO_VALUE);
    ck_assert_uint_eq(status(CC_ST_X_LO), X_BOTH_GRIP & 0xFFFFu);
    ck_assert_uint_eq(status(CC_ST_X_HI), (CC_X_EDGE_YM | CC_X_ENABLE_KEY) >> 16);
    ck_assert_uint_eq(status(CC_ST_Y), yword());
    ck_assert_uint_eq(status(CC_ST_TICK), 10); /* 100 ms of 10 ms ticks */
    ck_assert_uint_eq(status(CC_ST_SCAN_MAX), 100); /* D8012: 10 ms in 0.1 ms */
    ck_assert_uint_eq(status(CC_ST_HB_ECHO), reg(CC_CMD_FIRST + CC_CMD_HEARTBEAT));
    ck_assert_uint_eq(status(30) | status(31), 0);
}
END_TEST

START_TEST(test_tick_wraps)
{
    /* D104 runs free across the restart of its tick source and wraps at 65536. */
    uint16_t last = status(CC_ST_TICK);
    for (int i = 0; i < 70000; i++) {
        cycle();
        uint16_t now = status(CC_ST_TICK);
        ck_assert_uint_eq((uint16_t)(now - last), 1);
        last = now;
    }
}
END_TEST

/* ------------------------------------------------------------ interlocks */

START_TEST(test_l1_group_a_release)
{
    start_auto();
    /* B not gripping (vacuum switch off): A may not let go nor blow off. */
    set_x(CC_X_B_VAC_OK, 0);
    cycle();
    expect_refused(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC);                         /* A vac off */
    expect_refused(Y_BOTH_GRIP | CC_Y_A_BLOW);                                      /* A blow-off */
    /* B legs not down: the same. */
    set_x(CC_X_B_VAC_OK, 1);
    set_x(CC_X_B_DOWN, 0);
    cycle();
    expect_refused(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_A_BLOW);
    /* B grips: allowed, echo updates and b4 clears. */
    set_x(CC_X_B_DOWN, 1);
    cycle();
    expect_accepted(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_A_BLOW, CC_MODE_AUTO);
    ck_assert_uint_eq(flags() & CC_FLAG_REJECTED, 0);
}
END_TEST

START_TEST(test_l2_group_b_release)
{
    start_auto();
    set_x(CC_X_A_VAC_OK, 0);
    cycle();
    expect_refused(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC);
    expect_refused(Y_BOTH_GRIP | CC_Y_B_BLOW);
    set_x(CC_X_A_VAC_OK, 1);
    set_x(CC_X_A_DOWN, 0);
    cycle();
    expect_refused(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_BLOW);
    set_x(CC_X_A_DOWN, 1);
    cycle();
    expect_accepted(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_BLOW, CC_MODE_AUTO);
}
END_TEST

START_TEST(test_l4_legs_up)
{
    start_auto();
    expect_accepted(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_AUTO); /* A released */
    set_x(CC_X_A_VAC_OK, 0);
    set_x(CC_X_B_VAC_OK, 0); /* B stops gripping */
    cycle();
    expect_refused(CC_Y_B_DOWN | CC_Y_B_VAC); /* A legs up while B does not grip */
    /* B legs up while A does not grip (A released) */
    set_x(CC_X_B_VAC_OK, 1);
    cycle();
    expect_refused(CC_Y_A_DOWN | CC_Y_B_VAC);
    /* with B gripping, A may go up */
    expect_accepted(CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_AUTO);
    /* putting legs down again is never refused by L4 */
    set_x(CC_X_B_VAC_OK, 0);
    cycle();
    expect_accepted(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_AUTO);
}
END_TEST

START_TEST(test_l3_cylinders)
{
    start_auto();
    /* Both groups down: no cylinder may move. */
    expect_refused(Y_BOTH_GRIP | CC_Y_X_PLUS);
    expect_refused(Y_BOTH_GRIP | CC_Y_Y_MINUS);
    lift_a();
    unsigned base = CC_Y_B_DOWN | CC_Y_B_VAC;
    /* A up, B grips: allowed. */
    expect_accepted(base | CC_Y_X_PLUS, CC_MODE_AUTO);
    expect_accepted(base | CC_Y_X_PLUS | CC_Y_Y_MINUS | CC_Y_BRUSH | CC_Y_SPRAY, CC_MODE_AUTO);
    expect_accepted(base, CC_MODE_AUTO); /* stop */
    /* Both groups up: refused. */
    set_x(CC_X_B_UP, 1);
    cycle();
    expect_refused(base | CC_Y_Y_PLUS);
    set_x(CC_X_B_UP, 0);
    /* A up but B's vacuum switch off: refused. */
    set_x(CC_X_B_VAC_OK, 0);
    cycle();
    expect_refused(base | CC_Y_X_MINUS);
    set_x(CC_X_B_VAC_OK, 1);
    cycle();
    expect_accepted(base | CC_Y_X_MINUS, CC_MODE_AUTO);
    /* L3 holds while moving: the PLC stops the cylinders when B stops gripping. */
    set_x(CC_X_B_VAC_OK, 0);
    cycle();
    ck_assert_uint_eq(yword(), base);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, 0);
}
END_TEST

START_TEST(test_l5_opposite_valves)
{
    lift_a();
    unsigned base = CC_Y_B_DOWN | CC_Y_B_VAC;
    expect_refused(base | CC_Y_X_PLUS | CC_Y_X_MINUS);
    expect_refused(base | CC_Y_Y_PLUS | CC_Y_Y_MINUS);
    expect_refused(base | CC_Y_X_PLUS | CC_Y_X_MINUS | CC_Y_Y_PLUS);
    expect_accepted(base | CC_Y_X_PLUS | CC_Y_Y_PLUS, CC_MODE_AUTO);
    expect_accepted(base | CC_Y_X_MINUS | CC_Y_Y_MINUS, CC_MODE_AUTO);
}
END_TEST

START_TEST(test_manual_same_interlocks)
{
    expect_accepted(0, CC_MODE_RESET);
    expect_accepted(Y_BOTH_GRIP, CC_MODE_MANUAL);
    ck_assert_uint_eq(flags() & CC_FLAG_MANUAL, CC_FLAG_MANUAL);
    unsigned y = yword();
    uint16_t echo = status(CC_ST_SEQ_ECHO);
    command(Y_BOTH_GRIP | CC_Y_X_PLUS, CC_MODE_MANUAL); /* L3 */
    assert_rejected(y, echo);
    set_x(CC_X_B_VAC_OK, 0);
    cycle();
    command(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_MANUAL); /* L1 */
    assert_rejected(y, echo);
    /* no watchdog in MANUAL: 2 s without a heartbeat */
    heartbeat = 0;
    cycles(200);
    ck_assert_uint_eq(flags() & (CC_FLAG_WATCHDOG | CC_FLAG_HOLD), 0);
}
END_TEST

START_TEST(test_sequence_number_evaluated_once)
{
    start_auto();
    /* D202 changed without a new sequence number: ignored. */
    mem.d[CC_CMD_FIRST + CC_CMD_OUTPUTS] = CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC;
    cycles(3);
    ck_assert_uint_eq(yword(), Y_BOTH_GRIP);
    /* A refused command is not retried when its interlock clears later. */
    set_x(CC_X_B_VAC_OK, 0);
    cycle();
    expect_refused(CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_B_VAC);
    set_x(CC_X_B_VAC_OK, 1);
    cycles(3);
    ck_assert_uint_eq(yword(), Y_BOTH_GRIP);
    ck_assert_uint_eq(flags() & CC_FLAG_REJECTED, CC_FLAG_REJECTED);
    /* an invalid mode is refused */
    unsigned y = yword();
    uint16_t echo = status(CC_ST_SEQ_ECHO);
    command(Y_BOTH_GRIP, 7);
    assert_rejected(y, echo);
}
END_TEST

/* -------------------------------------------------------------- watchdog */

START_TEST(test_watchdog)
{
    start_auto();
    cycles(100); /* heartbeat alive: 1 s, no trip */
    ck_assert_uint_eq(flags() & (CC_FLAG_WATCHDOG | CC_FLAG_HOLD), 0);
    heartbeat = 0; /* the last change was in the cycle just run */
    for (int k = 1; k <= 49; k++) {
        cycle();
        ck_assert_msg((flags() & (CC_FLAG_WATCHDOG | CC_FLAG_HOLD)) == 0,
                      "tripped after only %d ms", k * (int)SCAN_MS);
    }
    cycle(); /* 500 ms without a change */
    ck_assert_uint_eq(flags() & CC_FLAG_WATCHDOG, CC_FLAG_WATCHDOG);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, CC_FLAG_HOLD);
    ck_assert_uint_eq(status(CC_ST_HOLD_REASON), CC_HOLD_WATCHDOG);
    ck_assert_uint_eq(yword(), CC_Y_A_DOWN | CC_Y_B_DOWN | Y_HOLD_SET);
    /* heartbeat back: still held until RESET; RESET clears b3 */
    heartbeat = 1;
    cycles(5);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, CC_FLAG_HOLD);
    expect_accepted(0, CC_MODE_RESET);
    ck_assert_uint_eq(flags() & (CC_FLAG_WATCHDOG | CC_FLAG_HOLD), 0);
    ck_assert_uint_eq(status(CC_ST_HOLD_REASON), CC_HOLD_NONE);
}
END_TEST

START_TEST(test_watchdog_restarts_on_change)
{
    start_auto();
    /* A heartbeat that changes every 400 ms never trips. */
    heartbeat = 0;
    for (int i = 0; i < 10; i++) {
        cycles(40);
        mem.d[CC_CMD_FIRST + CC_CMD_HEARTBEAT]++;
    }
    cycle();
    ck_assert_uint_eq(flags() & (CC_FLAG_WATCHDOG | CC_FLAG_HOLD), 0);
}
END_TEST

/* ---------------------------------------------------------------- faults */

typedef struct {
    uint32_t input;  /* the X that drops */
    uint16_t flag;   /* its D100 flag */
    uint16_t reason; /* D107 */
} fault_case;

static const fault_case faults[] = {
    {CC_X_ESTOP_OK, CC_FLAG_ESTOP, CC_HOLD_ESTOP},
    {CC_X_TETHER_OK, CC_FLAG_TETHER, CC_HOLD_TETHER},
    {CC_X_SUPPLY_OK, CC_FLAG_SUPPLY_LOW, CC_HOLD_SUPPLY},
};

START_TEST(test_fault_latches_hold)
{
    const fault_case *f = &faults[_i];
    lift_a();
    unsigned moving = CC_Y_B_DOWN | CC_Y_B_VAC | CC_Y_X_PLUS | CC_Y_BRUSH | CC_Y_SPRAY;
    expect_accepted(moving, CC_MODE_AUTO);
    set_x(f->input, 0);
    cycle();
    ck_assert_uint_eq(flags() & f->flag, f->flag);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, CC_FLAG_HOLD);
    ck_assert_uint_eq(status(CC_ST_HOLD_REASON), f->reason);
    /* HOLD pattern: cylinders, blow-offs, brush, spray off; both vacuums and
     * the beacon on; legs as they were (A up, B down). */
    ck_assert_uint_eq(yword(), CC_Y_B_DOWN | Y_HOLD_SET);
    ck_assert_uint_eq(status(CC_ST_Y), CC_Y_B_DOWN | Y_HOLD_SET);
    /* requests are refused while held */
    unsigned y = yword();
    uint16_t echo = status(CC_ST_SEQ_ECHO);
    command(moving, CC_MODE_AUTO);
    assert_rejected(y, echo);
    /* RESET with the fault still active: refused, still held */
    command(0, CC_MODE_RESET);
    assert_rejected(y, echo);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, CC_FLAG_HOLD);
    cycles(10);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, CC_FLAG_HOLD);
    /* the fault clears: HOLD stays until a RESET */
    set_x(f->input, 1);
    cycles(10);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, CC_FLAG_HOLD);
    ck_assert_uint_eq(flags() & f->flag, 0);
    ck_assert_uint_eq(status(CC_ST_HOLD_REASON), f->reason);
    expect_accepted(0, CC_MODE_RESET);
    ck_assert_uint_eq(flags() & (CC_FLAG_HOLD | CC_FLAG_REJECTED), 0);
    ck_assert_uint_eq(status(CC_ST_HOLD_REASON), CC_HOLD_NONE);
    ck_assert_uint_eq(yword(), y); /* RESET itself moves nothing */
    /* and AUTO works again */
    expect_accepted(CC_Y_B_DOWN | CC_Y_B_VAC, CC_MODE_AUTO);
}
END_TEST

START_TEST(test_first_fault_wins)
{
    start_auto();
    set_x(CC_X_ESTOP_OK, 0);
    cycle();
    set_x(CC_X_TETHER_OK, 0);
    cycle();
    ck_assert_uint_eq(status(CC_ST_HOLD_REASON), CC_HOLD_ESTOP);
    ck_assert_uint_eq(flags() & (CC_FLAG_ESTOP | CC_FLAG_TETHER), CC_FLAG_ESTOP | CC_FLAG_TETHER);
    /* E-stop released, tether still bad: RESET refused */
    set_x(CC_X_ESTOP_OK, 1);
    command(0, CC_MODE_RESET);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, CC_FLAG_HOLD);
    set_x(CC_X_TETHER_OK, 1);
    expect_accepted(0, CC_MODE_RESET);
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, 0);
}
END_TEST

START_TEST(test_commanded_hold)
{
    start_auto();
    expect_accepted(Y_BOTH_GRIP | CC_Y_BRUSH, CC_MODE_AUTO);
    expect_accepted(Y_BOTH_GRIP, CC_MODE_HOLD); /* echoed */
    ck_assert_uint_eq(flags() & CC_FLAG_HOLD, CC_FLAG_HOLD);
    ck_assert_uint_eq(status(CC_ST_HOLD_REASON), CC_HOLD_COMMANDED);
    ck_assert_uint_eq(yword(), CC_Y_A_DOWN | CC_Y_B_DOWN | Y_HOLD_SET);
    /* a later fault does not overwrite the first reason */
    set_x(CC_X_SUPPLY_OK, 0);
    cycle();
    ck_assert_uint_eq(status(CC_ST_HOLD_REASON), CC_HOLD_COMMANDED);
    set_x(CC_X_SUPPLY_OK, 1);
    expect_accepted(0, CC_MODE_RESET);
    expect_accepted(Y_BOTH_GRIP, CC_MODE_AUTO);
}
END_TEST

static Suite *program_suite(void)
{
    Suite *s = suite_create("crossclimb.il");
    TCase *tc = tcase_create("program");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_power_up_hold);
    tcase_add_test(tc, test_power_up_clears_latched_command);
    tcase_add_test(tc, test_status_block);
    tcase_add_test(tc, test_tick_wraps);
    tcase_add_test(tc, test_l1_group_a_release);
    tcase_add_test(tc, test_l2_group_b_release);
    tcase_add_test(tc, test_l3_cylinders);
    tcase_add_test(tc, test_l4_legs_up);
    tcase_add_test(tc, test_l5_opposite_valves);
    tcase_add_test(tc, test_manual_same_interlocks);
    tcase_add_test(tc, test_sequence_number_evaluated_once);
    tcase_add_test(tc, test_watchdog);
    tcase_add_test(tc, test_watchdog_restarts_on_change);
    tcase_add_loop_test(tc, test_fault_latches_hold, 0, (int)(sizeof faults / sizeof faults[0]));
    tcase_add_test(tc, test_first_fault_wins);
    tcase_add_test(tc, test_commanded_hold);
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
