/*
 * fakeplant.h — a small scripted robot for the controller's unit tests.
 *
 * The PLC is the shipped program docs/plc/crossclimb.il run by the project's
 * own interpreter (sim/fxil), one 10 ms scan per exchange, so the interlocks
 * L1-L7 that refuse commands here are exactly the ones on the robot.  The
 * robot around it is deliberately simple and deterministic (no dynamics, no
 * noise), per 10 ms tick:
 *   legs     1 mm down / 1.34 mm up per tick over a 40 mm stroke (0.4 / 0.3 s);
 *            up switch <= 1 mm, down switch >= 39 mm
 *   cups     on the facade only with the legs down; vacuum on: +0.75 kPa per
 *            tick up to the cup's reachable vacuum cup_max_kpa (45 kPa in
 *            0.6 s); a slow leak lowers cup_max by cup_sag per tick; blow-off
 *            -1.2 kPa per tick; vacuum off -0.02; off the facade -5
 *   switches vacuum switch on when the group's mean >= 40 kPa
 *   cylinders 1.5 mm per tick (0.15 m/s) while exactly one valve is on; end
 *            switches within 1 mm of an end; position sensor optional
 * Faults and tricks: E-stop / tether / supply switches, stuck legs, stalled
 * cylinders, a group whose blow-off does nothing, forced X bits and cup
 * readings (implausible values), a PLC that refuses the next new command
 * behind the controller's back (force_reject), one that ignores commands
 * (frozen) and one that stopped scanning behind a gateway that still
 * answers with the last status block (stopped).
 *
 * Exchange order (as a real FC 0x17 against a PLC scanning every 10 ms):
 * physics for 10 ms with the outputs driven, inputs and analog blocks
 * refreshed, command block written, one scan, status block read.
 *
 * Only static inline helpers: tests/ may hold no support .c file.
 */
#ifndef CROSSCLIMB_TESTS_FAKEPLANT_H
#define CROSSCLIMB_TESTS_FAKEPLANT_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctl.h"
#include "plc_bridge/image.h"
#include "plc_bridge/regmap.h"
#include "sim/fxil.h"

#define FP_TICK_MS 10u
#define FP_LEG_STROKE_MM 40.0f
#define FP_CUPS 12u

typedef struct fp_world {
    fxil_program *prog;
    fxmem mem;
    uint16_t y;                  /* outputs driven after the last scan */
    /* the robot */
    float leg_mm[2];             /* 0 up .. 40 down */
    float cup_kpa[FP_CUPS];
    float cup_max_kpa[FP_CUPS];  /* reachable vacuum (< 45: the cup never seals) */
    float cup_sag_kpa[FP_CUPS];  /* cup_max lost per tick while on the facade with vacuum on */
    float pos_mm[2];
    float stroke_mm[2];
    int pos_sensor;
    /* faults */
    int estop, tether_fault, supply_fault;
    int cyl_stall[2];
    int leg_stuck[2];
    int no_release[2];
    uint32_t x_force_on, x_force_off;
    float cup_force_kpa[FP_CUPS]; /* >= 0: the transducer reads this instead */
    int force_reject;             /* the next new command is refused behind our back */
    int frozen;                   /* the PLC ignores commands (no scan evaluates D200) */
    int stopped;                  /* the PLC does not scan: the status block stands still */
    /* bookkeeping */
    uint16_t last_seq;
    int have_seq;
    unsigned exchanges, accepted, refused, refused_rule[6]; /* [0]: HOLD latched, [1..5]: L1..L5 */
} fp_world;

static inline void fp_set_x(fp_world *w, uint32_t xs)
{
    for (unsigned i = 0; i < 32; i++) w->mem.x[i] = (uint8_t)((xs >> i) & 1u);
}

static inline uint32_t fp_inputs(const fp_world *w)
{
    uint32_t x = CC_X_ENABLE_KEY;
    for (unsigned a = 0; a < 2; a++) {
        if (w->pos_mm[a] <= 1.0f) x |= a ? CC_X_YCYL_MINUS_END : CC_X_XCYL_MINUS_END;
        if (w->pos_mm[a] >= w->stroke_mm[a] - 1.0f) x |= a ? CC_X_YCYL_PLUS_END : CC_X_XCYL_PLUS_END;
    }
    for (unsigned g = 0; g < 2; g++) {
        float mean = 0.0f;
        for (unsigned i = 0; i < 6; i++) mean += w->cup_kpa[g * 6 + i] / 6.0f;
        if (w->leg_mm[g] <= 1.0f) x |= g ? CC_X_B_UP : CC_X_A_UP;
        if (w->leg_mm[g] >= FP_LEG_STROKE_MM - 1.0f) x |= g ? CC_X_B_DOWN : CC_X_A_DOWN;
        if (mean >= 40.0f) x |= g ? CC_X_B_VAC_OK : CC_X_A_VAC_OK;
    }
    if (!w->estop) x |= CC_X_ESTOP_OK;
    if (!w->tether_fault) x |= CC_X_TETHER_OK;
    if (!w->supply_fault) x |= CC_X_SUPPLY_OK;
    return (x | w->x_force_on) & ~w->x_force_off;
}

static inline uint16_t fp_reg(float v, float scale)
{
    float r = roundf(v * scale);
    if (!(r > 0.0f)) return 0;
    return r > 65534.0f ? 65534u : (uint16_t)r;
}

/* Inputs X and the analog blocks from the robot, as the PLC reads them. */
static inline void fp_refresh(fp_world *w)
{
    fp_set_x(w, fp_inputs(w));
    for (unsigned i = 0; i < FP_CUPS; i++) {
        float v = w->cup_force_kpa[i] >= 0.0f ? w->cup_force_kpa[i] : w->cup_kpa[i];
        fxil_block_write(w->prog, 0, i, fp_reg(v, 10.0f));
    }
    for (unsigned i = 0; i < 4; i++) fxil_block_write(w->prog, 1, i, CC_NO_VALUE);
    fxil_block_write(w->prog, 1, 4, 40);  /* tether N */
    fxil_block_write(w->prog, 1, 5, 600); /* supply kPa */
    for (unsigned a = 0; a < 2; a++)
        fxil_block_write(w->prog, 1, 6 + a, w->pos_sensor ? fp_reg(w->pos_mm[a], 1.0f) : CC_NO_VALUE);
}

static inline uint16_t fp_y(const fp_world *w)
{
    uint16_t v = 0;
    for (unsigned i = 0; i < 16; i++) v |= (uint16_t)(w->mem.y[i] ? 1u << i : 0u);
    return v;
}

/* 10 ms of the robot with the outputs w->y. */
static inline void fp_physics(fp_world *w)
{
    const uint16_t y = w->y;
    for (unsigned g = 0; g < 2; g++) {
        int down = (y & (g ? CC_Y_B_DOWN : CC_Y_A_DOWN)) != 0;
        if (!w->leg_stuck[g]) w->leg_mm[g] += down ? 1.0f : -1.34f;
        if (w->leg_mm[g] < 0.0f) w->leg_mm[g] = 0.0f;
        if (w->leg_mm[g] > FP_LEG_STROKE_MM) w->leg_mm[g] = FP_LEG_STROKE_MM;
    }
    for (unsigned i = 0; i < FP_CUPS; i++) {
        unsigned g = i / 6;
        int contact = w->leg_mm[g] >= FP_LEG_STROKE_MM - 1.0f;
        int vac = (y & (g ? CC_Y_B_VAC : CC_Y_A_VAC)) != 0;
        int blow = (y & (g ? CC_Y_B_BLOW : CC_Y_A_BLOW)) != 0;
        float *v = &w->cup_kpa[i];
        if (!contact) {
            *v -= 5.0f;
        } else if (blow) {
            if (!w->no_release[g]) *v -= 1.2f;
        } else if (vac) {
            w->cup_max_kpa[i] -= w->cup_sag_kpa[i];
            if (w->cup_max_kpa[i] < 0.0f) w->cup_max_kpa[i] = 0.0f;
            *v += 0.75f;
            if (*v > w->cup_max_kpa[i]) *v = w->cup_max_kpa[i];
        } else {
            *v -= 0.02f;
        }
        if (*v < 0.0f) *v = 0.0f;
    }
    for (unsigned a = 0; a < 2; a++) {
        int plus = (y & (a ? CC_Y_Y_PLUS : CC_Y_X_PLUS)) != 0;
        int minus = (y & (a ? CC_Y_Y_MINUS : CC_Y_X_MINUS)) != 0;
        if (plus != minus && !w->cyl_stall[a]) w->pos_mm[a] += plus ? 1.5f : -1.5f;
        if (w->pos_mm[a] < 0.0f) w->pos_mm[a] = 0.0f;
        if (w->pos_mm[a] > w->stroke_mm[a]) w->pos_mm[a] = w->stroke_mm[a];
    }
}

static inline void fp_status(const fp_world *w, cc_status *st)
{
    cc_status_decode(&w->mem.d[CC_STATUS_FIRST], st);
}

/* One PLC scan with the inputs refreshed; bookkeeping of a new command. */
static inline void fp_scan(fp_world *w)
{
    const uint16_t seq = w->mem.d[CC_CMD_FIRST + CC_CMD_SEQ];
    const int fresh = !w->have_seq || seq != w->last_seq;
    const uint16_t y_before = fp_y(w), echo_before = w->mem.d[CC_STATUS_FIRST + CC_ST_SEQ_ECHO];
    fp_refresh(w);
    if (fxil_scan(w->prog, &w->mem, FP_TICK_MS) != 0) abort();
    if (fresh) {
        w->have_seq = 1;
        w->last_seq = seq;
        if (w->mem.d[CC_STATUS_FIRST + CC_ST_SEQ_ECHO] == seq && w->force_reject) {
            /* refused for a reason the controller cannot see */
            w->force_reject = 0;
            for (unsigned i = 0; i < 16; i++) w->mem.y[i] = (uint8_t)((y_before >> i) & 1u);
            w->mem.m[104] = 1; /* b4 latch */
            w->mem.d[CC_STATUS_FIRST + CC_ST_SEQ_ECHO] = echo_before;
            w->mem.d[CC_STATUS_FIRST + CC_ST_FLAGS] |= CC_FLAG_REJECTED;
            w->mem.d[CC_STATUS_FIRST + CC_ST_Y] = y_before;
            w->refused++;
        } else if (w->mem.d[CC_STATUS_FIRST + CC_ST_SEQ_ECHO] == seq) {
            w->accepted++;
        } else {
            w->refused++;
            int any = 0;
            for (unsigned k = 1; k <= 5; k++)
                if (w->mem.m[220 + k]) {
                    w->refused_rule[k]++;
                    any = 1;
                }
            if (!any) w->refused_rule[0]++;
        }
    }
    w->y = fp_y(w);
}

/* Power-up: the PLC program's first scan with the robot standing on both
 * groups at 60 kPa, cylinders at (x_mm, y_mm).  Returns 0 or -1 (program). */
static inline int fp_init(fp_world *w, float x_mm, float y_mm, int pos_sensor)
{
    char path[4096], msg[512];
    const char *src = getenv("CROSSCLIMB_SRC");
    memset(w, 0, sizeof *w);
    snprintf(path, sizeof path, "%s/docs/plc/crossclimb.il", src ? src : ".");
    if (fxil_load_file(path, &w->prog, msg, sizeof msg)) {
        fprintf(stderr, "fakeplant: %s\n", msg);
        return -1;
    }
    fxmem_clear(&w->mem);
    w->stroke_mm[0] = w->stroke_mm[1] = 300.0f;
    w->pos_mm[0] = x_mm;
    w->pos_mm[1] = y_mm;
    w->pos_sensor = pos_sensor;
    for (unsigned g = 0; g < 2; g++) w->leg_mm[g] = FP_LEG_STROKE_MM;
    for (unsigned i = 0; i < FP_CUPS; i++) {
        w->cup_kpa[i] = w->cup_max_kpa[i] = 60.0f;
        w->cup_force_kpa[i] = -1.0f;
    }
    /* outputs as a running PLC had them: legs down, vacuums on (the HOLD of
     * the power-up scan keeps the legs as they are) */
    w->y = CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC;
    for (unsigned i = 0; i < 16; i++) w->mem.y[i] = (uint8_t)((w->y >> i) & 1u);
    fp_scan(w); /* M8002: D200-D203 cleared, HOLD, reason 1 */
    w->accepted = w->refused = 0;
    return 0;
}

static inline void fp_free(fp_world *w)
{
    fxil_free(w->prog);
    w->prog = NULL;
}

/* Put group g in the air (legs up, cups 0) as if a step had been under way. */
static inline void fp_lift(fp_world *w, unsigned g)
{
    w->leg_mm[g] = 0.0f;
    for (unsigned i = 0; i < 6; i++) w->cup_kpa[g * 6 + i] = 0.0f;
    w->y &= (uint16_t) ~(g ? (CC_Y_B_DOWN | CC_Y_B_VAC) : (CC_Y_A_DOWN | CC_Y_A_VAC));
    for (unsigned i = 0; i < 16; i++) w->mem.y[i] = (uint8_t)((w->y >> i) & 1u);
}

/* One exchange: physics, command block written, one scan, status read. */
static inline void fp_exchange(fp_world *w, const cc_command *cmd, cc_status *st)
{
    fp_physics(w);
    if (!w->frozen) {
        uint16_t raw[CC_CMD_COUNT];
        cc_command_encode(cmd, raw);
        memcpy(&w->mem.d[CC_CMD_FIRST], raw, sizeof raw);
    } else {
        w->mem.d[CC_CMD_FIRST + CC_CMD_HEARTBEAT] = cmd->heartbeat; /* only the heartbeat lands */
    }
    if (!w->stopped) fp_scan(w);
    w->exchanges++;
    fp_status(w, st);
}

/* Time passing without an exchange (link silence): physics and scans. */
static inline void fp_idle(fp_world *w, unsigned ticks)
{
    for (unsigned i = 0; i < ticks; i++) {
        fp_physics(w);
        fp_scan(w);
    }
}

/* ------------------------------------------------ the controller in the loop */

#define FP_TRACE_MAX 256u

typedef struct fp_run {
    ctl *c;
    fp_world *w;
    cc_status st;           /* status of the last exchange */
    cc_command prev;        /* previous command sent */
    int have_prev;
    unsigned cycles;
    unsigned seq_errors;    /* number changed without a content change, or not +1 */
    unsigned hb_errors;     /* heartbeat not +1 */
    unsigned period_errors; /* D204 not the configured period */
    unsigned mirror_refusals; /* AUTO commands sent that sup_plc_check says the PLC refuses */
    uint16_t or_outputs_auto; /* union of every AUTO output word sent */
    gait_state trace[FP_TRACE_MAX]; /* gait states, consecutive duplicates dropped */
    unsigned trace_n;
} fp_run;

static inline void fp_trace(fp_run *r)
{
    gait_state s = r->c->gait.state;
    if (r->trace_n && r->trace[r->trace_n - 1] == s) return;
    if (r->trace_n < FP_TRACE_MAX) r->trace[r->trace_n++] = s;
}

/* Rules every command must keep, checked as it is sent. */
static inline void fp_check_command(fp_run *r, const cc_command *cmd)
{
    if (r->have_prev) {
        int changed = cmd->outputs != r->prev.outputs || cmd->mode != r->prev.mode;
        if (changed ? cmd->seq != (uint16_t)(r->prev.seq + 1u) : cmd->seq != r->prev.seq)
            r->seq_errors++;
        if (cmd->heartbeat != (uint16_t)(r->prev.heartbeat + 1u)) r->hb_errors++;
    }
    if (cmd->period_ms != r->c->params.period_ms) r->period_errors++;
    if (cmd->mode == CC_MODE_AUTO) {
        r->or_outputs_auto |= cmd->outputs;
        if (sup_plc_check(&r->st, cmd->outputs, cmd->mode) != SUP_R_NONE) r->mirror_refusals++;
    }
    r->prev = *cmd;
    r->have_prev = 1;
}

/* Start a controller on the world's current status (D200 read back). */
static inline int fp_run_start(fp_run *r, ctl *c, fp_world *w)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    r->w = w;
    fp_status(w, &r->st);
    int rc = ctl_start(c, &r->st, (long)w->mem.d[CC_CMD_FIRST + CC_CMD_SEQ]);
    fp_trace(r);
    return rc;
}

/* One cycle: the pending command goes out, the status comes back, the
 * controller makes the next command. */
static inline void fp_cycle(fp_run *r)
{
    cc_command cmd = r->c->cmd;
    fp_check_command(r, &cmd);
    fp_exchange(r->w, &cmd, &r->st);
    ctl_step(r->c, &r->st, NULL);
    r->cycles++;
    fp_trace(r);
}

typedef int (*fp_pred)(const fp_run *r);

/* Cycle until pred holds (checked after each cycle) or max cycles. Returns 1 when it held. */
static inline int fp_until(fp_run *r, fp_pred pred, unsigned max)
{
    for (unsigned i = 0; i < max; i++) {
        fp_cycle(r);
        if (pred(r)) return 1;
    }
    return 0;
}

static inline void fp_cycles(fp_run *r, unsigned n)
{
    for (unsigned i = 0; i < n; i++) fp_cycle(r);
}

static inline int fp_is_running(const fp_run *r) { return r->c->sup.phase == SUP_RUNNING; }
static inline int fp_is_held(const fp_run *r) { return r->c->sup.phase == SUP_HELD; }
static inline int fp_is_idle(const fp_run *r)
{
    return r->c->sup.phase == SUP_RUNNING && gait_idle(&r->c->gait) && !r->c->pending;
}

/* Acknowledge and run until RUNNING (RESET, re-derive, AUTO echoed). */
static inline int fp_ack_and_run(fp_run *r, unsigned max)
{
    if (ctl_acknowledge(r->c)) return 0;
    return fp_until(r, fp_is_running, max);
}

/* Does the trace contain the states seq[0..n) in this order (not necessarily adjacent)? */
static inline int fp_trace_has(const fp_run *r, const gait_state *seq, unsigned n)
{
    unsigned k = 0;
    for (unsigned i = 0; i < r->trace_n && k < n; i++)
        if (r->trace[i] == seq[k]) k++;
    return k == n;
}

static inline void fp_trace_print(const fp_run *r, const char *label)
{
    fprintf(stderr, "%s:", label);
    for (unsigned i = 0; i < r->trace_n; i++) fprintf(stderr, " %s", gait_state_name(r->trace[i]));
    fprintf(stderr, "\n");
}

#endif
