/*
 * ctl.c — the per-cycle glue.  See ctl.h.
 */
#include "ctl.h"

#include <stdio.h>
#include <string.h>

#define AUX_OUTPUTS (CC_Y_BRUSH | CC_Y_SPRAY)

const char *ctl_strerror(int code)
{
    switch (code) {
    case CTL_OK: return "ok";
    case CTL_EARG: return "bad argument";
    case CTL_ESTATE: return "not possible in this state";
    case CTL_EFAULT: return "a fault is still active";
    case CTL_ELINK: return "link exchange failed";
    case CTL_EBUSY: return "gait busy";
    case CTL_ERANGE: return "target outside the cylinder stroke";
    case CTL_ENOSENSOR: return "target between the ends needs a position sensor";
    case CTL_EPOSITION: return "cylinder position unknown";
    default: return "unknown controller error";
    }
}

static int from_gait(int rc)
{
    switch (rc) {
    case GAIT_OK: return CTL_OK;
    case GAIT_EBUSY: return CTL_EBUSY;
    case GAIT_ERANGE: return CTL_ERANGE;
    case GAIT_ENOSENSOR: return CTL_ENOSENSOR;
    case GAIT_EPOSITION: return CTL_EPOSITION;
    default: return CTL_EARG;
    }
}

int ctl_init(ctl *c, const params_robot *p, char *err, size_t errlen)
{
    if (!c || !p) return CTL_EARG;
    memset(c, 0, sizeof *c);
    if (params_validate(p, err, errlen)) return CTL_EARG;
    c->params = *p;
    gait_init(&c->gait, &c->params);
    sup_init(&c->sup, &c->params);
    c->gait.fr = &c->friction;
    c->sup.fr = &c->friction;
    return 0;
}

int ctl_set_friction(ctl *c, hold_group g, const float mu[PARAMS_CUPS_PER_GROUP])
{
    if (!c) return CTL_EARG;
    return hold_friction_set(&c->friction, g, mu) ? CTL_EARG : 0;
}

/* Make (outputs, mode) the command of the next exchange with a new number. */
static void new_command(ctl *c, uint16_t outputs, cc_mode mode, const cc_status *st)
{
    c->cmd.seq++;
    c->cmd.outputs = outputs;
    c->cmd.mode = mode;
    c->pending = 1;
    c->pending_since_ticks = c->now_ticks;
    c->rej_at_send = st ? (st->flags & CC_FLAG_REJECTED) != 0 : 1;
    c->stats.commands++;
}

int ctl_start(ctl *c, const cc_status *st, long last_d200)
{
    if (!c || !st || !c->params.period_ms) return CTL_EARG;
    c->started = 1;
    c->last = *st;
    c->now_ticks = 0;
    c->link_fail_run = 0;
    c->tick_same_run = 0;
    c->jog = 0;
    sup_start(&c->sup, st, 0);
    sup_observe(&c->sup, st, 0);
    gait_invalidate(&c->gait);
    /* A number the PLC has not evaluated: after the last one written (the
     * PLC evaluated it, D20 = D200) and not the echo. */
    uint16_t base = last_d200 >= 0 ? (uint16_t)last_d200 : st->seq_echo;
    c->cmd.seq = base;
    c->cmd.heartbeat = st->heartbeat_echo;
    c->cmd.period_ms = c->params.period_ms;
    new_command(c, sup_hold_pattern(st->y), CC_MODE_HOLD, st);
    if (c->cmd.seq == st->seq_echo) c->cmd.seq++;
    c->cmd.heartbeat++;
    return 0;
}

/* The echo of the command in flight. */
static void check_echo(ctl *c, const cc_status *st)
{
    if (!c->pending) return;
    if (st->seq_echo == c->cmd.seq) {
        c->pending = 0;
        c->stats.accepted++;
        if (c->cmd.mode == CC_MODE_RESET && c->sup.phase == SUP_RESETTING) {
            sup_reset_accepted(&c->sup);
            gait_invalidate(&c->gait); /* re-derive where the robot is before moving */
        } else if (c->cmd.mode == CC_MODE_AUTO) {
            sup_enabled(&c->sup);
        }
    } else if ((st->flags & CC_FLAG_REJECTED) && !c->rej_at_send) {
        c->pending = 0;
        if (c->cmd.mode == CC_MODE_RESET) {
            sup_fault(&c->sup, SUP_R_RESET_REFUSED, 0, st, c->now_ticks);
        } else if (st->flags & CC_FLAG_HOLD) {
            c->stats.refused_explained++; /* its cause is latched by sup_observe */
            sup_fault(&c->sup, SUP_R_PLC_HOLD, 0, st, c->now_ticks);
        } else {
            c->stats.refused_by_plc++;
            sup_fault(&c->sup, SUP_R_REJECTED, 0, st, c->now_ticks);
        }
    } else if (c->now_ticks - c->pending_since_ticks >= c->params.echo_timeout_ticks) {
        c->stats.echo_timeouts++;
        sup_fault(&c->sup, SUP_R_ECHO_TIMEOUT, 0, st, c->now_ticks);
        c->pending_since_ticks = c->now_ticks; /* still in flight: time it again */
    }
}

/* Put (outputs, mode) in the next command under the sequence rules. */
static void set_command(ctl *c, uint16_t outputs, cc_mode mode, const cc_status *st)
{
    if (outputs == c->cmd.outputs && mode == c->cmd.mode) return;
    if (c->pending && mode != CC_MODE_HOLD) {
        c->stats.deferred++; /* one command in flight at a time; a HOLD never waits */
        return;
    }
    new_command(c, outputs, mode, st);
}

int ctl_step(ctl *c, const cc_status *st, cc_command *out)
{
    uint16_t outputs = 0;
    cc_mode mode = CC_MODE_HOLD;
    if (!c) return CTL_EARG;
    if (!c->started) return CTL_ESTATE;
    c->stats.cycles++;
    c->cmd.heartbeat++;
    c->cmd.period_ms = c->params.period_ms;

    if (!st) { /* no status: nothing new is known, the command stays (or holds) */
        c->stats.link_failures++;
        if (++c->link_fail_run >= c->params.link_fail_max)
            sup_fault(&c->sup, SUP_R_LINK_DOWN, 0, NULL, c->now_ticks);
        if (c->sup.phase == SUP_HELD) {
            c->jog = 0;
            set_command(c, c->sup.hold_out, CC_MODE_HOLD, NULL);
        }
        if (out) *out = c->cmd;
        return 0;
    }
    c->link_fail_run = 0;
    c->tick_same_run = st->tick == c->last.tick ? c->tick_same_run + 1 : 0;
    c->now_ticks += (uint16_t)(st->tick - c->last.tick);
    c->last = *st;

    sup_observe(&c->sup, st, c->now_ticks);
    if (c->tick_same_run >= c->params.tick_stall_cycles)
        sup_fault(&c->sup, SUP_R_TICK_STALLED, 0, st, c->now_ticks);
    check_echo(c, st);

    if (c->sup.phase == SUP_ENABLING || c->sup.phase == SUP_RUNNING) {
        gait_update(&c->gait, st, c->now_ticks, &outputs);
        if (c->sup.phase == SUP_RUNNING) {
            if (c->jog) outputs = c->jog_outputs;
            outputs |= c->aux;
        }
        mode = CC_MODE_AUTO;
    }
    sup_check(&c->sup, st, &outputs, &mode, c->now_ticks);
    if (c->gait.state == GAIT_FAILED &&
        (c->sup.phase == SUP_ENABLING || c->sup.phase == SUP_RUNNING)) {
        sup_fault(&c->sup, SUP_R_GAIT, (unsigned)c->gait.fail, st, c->now_ticks);
        sup_check(&c->sup, st, &outputs, &mode, c->now_ticks); /* now the HOLD pattern */
    }
    if (c->sup.phase == SUP_HELD) c->jog = 0; /* a jog never survives a HOLD */
    set_command(c, outputs, mode, st);
    if (out) *out = c->cmd;
    return 0;
}

int ctl_open(ctl *c, cc_link *link, cc_status *st)
{
    uint16_t d200 = 0;
    if (!c || !link || !st) return CTL_EARG;
    int rc = link_read_status(link, st, NULL);
    if (rc) {
        c->last_link_rc = rc;
        return CTL_ELINK;
    }
    long last = link_read_regs(link, CC_CMD_FIRST + CC_CMD_SEQ, 1, &d200) ? -1L : (long)d200;
    return ctl_start(c, st, last);
}

int ctl_cycle(ctl *c, cc_link *link, cc_status *st)
{
    if (!c || !link || !st) return CTL_EARG;
    if (!c->started) return CTL_ESTATE;
    int rc = link_cycle(link, &c->cmd, st, NULL);
    if (rc) c->last_link_rc = rc;
    ctl_step(c, rc ? NULL : st, NULL);
    return rc ? CTL_ELINK : 0;
}

int ctl_acknowledge(ctl *c)
{
    if (!c || !c->started) return CTL_ESTATE;
    if (c->link_fail_run) return CTL_ESTATE; /* nothing is acknowledged blind */
    int rc = sup_acknowledge(&c->sup);
    if (rc == SUP_EFAULT) return CTL_EFAULT;
    return rc ? CTL_ESTATE : 0;
}

int ctl_operator_hold(ctl *c)
{
    if (!c || !c->started) return CTL_ESTATE;
    sup_fault(&c->sup, SUP_R_OPERATOR, 0, &c->last, c->now_ticks);
    c->jog = 0;
    set_command(c, c->sup.hold_out, CC_MODE_HOLD, &c->last);
    return 0;
}

static int running(const ctl *c)
{
    return c && c->started && c->sup.phase == SUP_RUNNING;
}

int ctl_half_step(ctl *c, hold_group lifted, float dx_mm, float dy_mm)
{
    if (!running(c)) return CTL_ESTATE;
    return from_gait(gait_request_half_step(&c->gait, &c->last, lifted, dx_mm, dy_mm));
}

int ctl_full_step(ctl *c, hold_group first, float dx_mm, float dy_mm)
{
    if (!running(c)) return CTL_ESTATE;
    return from_gait(gait_request_full_step(&c->gait, &c->last, first, dx_mm, dy_mm));
}

int ctl_half_to(ctl *c, hold_group lifted, const float target_mm[2])
{
    if (!running(c)) return CTL_ESTATE;
    return from_gait(gait_request_half_to(&c->gait, &c->last, lifted, target_mm));
}

int ctl_resume_half_to(ctl *c, hold_group lifted, const float target_mm[2])
{
    if (!c || !c->started || !target_mm) return CTL_ESTATE;
    if (c->sup.phase != SUP_HELD && c->sup.phase != SUP_RESETTING) return CTL_ESTATE;
    /* The gait accepts requests only when IDLE; here it is UNKNOWN (it
     * derives on its first update).  Make the plan on a copy that looks
     * idle, then give the plan alone to the real gait: gait_invalidate()
     * keeps a plan, and derive() resumes it (gait.h "Restart"). */
    gait tmp = c->gait;
    tmp.state = GAIT_IDLE;
    tmp.plan_n = tmp.plan_i = 0;
    int rc = gait_request_half_to(&tmp, &c->last, lifted, target_mm);
    if (rc) return from_gait(rc);
    c->gait.plan[0] = tmp.plan[0];
    c->gait.plan_n = 1;
    c->gait.plan_i = 0;
    c->gait.plan_half = 0;
    return 0;
}

void ctl_cancel(ctl *c)
{
    if (c) gait_cancel(&c->gait);
}

int ctl_jog(ctl *c, uint16_t outputs)
{
    if (!running(c)) return CTL_ESTATE;
    c->jog = 1;
    c->jog_outputs = outputs;
    return 0;
}

void ctl_jog_clear(ctl *c)
{
    if (c) c->jog = 0;
}

int ctl_set_aux(ctl *c, uint16_t bits)
{
    if (!c || (bits & ~AUX_OUTPUTS)) return CTL_EARG;
    c->aux = bits;
    return 0;
}

sup_phase ctl_phase(const ctl *c)
{
    return c->sup.phase;
}

const char *ctl_describe(const ctl *c, char *buf, size_t len)
{
    if (!buf || !len) return buf;
    if (c->sup.phase == SUP_HELD)
        snprintf(buf, len, "held reason=%s%s%s seq=%u%s", sup_reason_name(c->sup.reason),
                 c->sup.reason == SUP_R_GAIT ? "/" : "",
                 c->sup.reason == SUP_R_GAIT ? gait_fail_name((gait_fail)c->sup.detail) : "",
                 (unsigned)c->cmd.seq, c->pending ? " pending" : "");
    else
        snprintf(buf, len, "%s gait=%s/%s group=%s step=%u/%u seq=%u%s",
                 sup_phase_name(c->sup.phase), gait_state_name(c->gait.state),
                 gait_kind_name(c->gait.kind), hold_group_name(c->gait.g), c->gait.plan_i,
                 c->gait.plan_n, (unsigned)c->cmd.seq, c->pending ? " pending" : "");
    return buf;
}
