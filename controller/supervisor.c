/*
 * supervisor.c — S1-S4 and the HOLD sequence.  See supervisor.h.
 */
#include "supervisor.h"

#include <string.h>

#define CYL_VALVES (CC_Y_X_PLUS | CC_Y_X_MINUS | CC_Y_Y_PLUS | CC_Y_Y_MINUS)
#define SPARE_OUTPUTS 0xE000u /* Y15-Y17 */

const char *sup_strerror(int code)
{
    switch (code) {
    case SUP_OK: return "ok";
    case SUP_EARG: return "bad argument";
    case SUP_ESTATE: return "not held: nothing to acknowledge";
    case SUP_EFAULT: return "a fault is still active";
    default: return "unknown supervisor error";
    }
}

const char *sup_phase_name(sup_phase ph)
{
    static const char *const names[SUP_PHASE_COUNT] = {"held", "resetting", "enabling", "running"};
    return (unsigned)ph < SUP_PHASE_COUNT ? names[ph] : "?";
}

const char *sup_reason_name(sup_reason r)
{
    static const char *const names[SUP_R_COUNT] = {
        "none",          "startup",          "operator",         "link-down",
        "echo-timeout",  "tick-stalled",     "rejected",         "reset-refused",    "estop",
        "tether",        "supply",           "watchdog",         "plc-hold",
        "cup-implausible", "ends-implausible", "legs-implausible", "position-implausible",
        "gait",          "bad-mode",         "bad-output",       "s1-no-grip",
        "s1-last-grip",  "s2-release",       "s3-motion",        "l1",
        "l2",            "l3",               "l4",               "l5"};
    return (unsigned)r < SUP_R_COUNT ? names[r] : "?";
}

uint16_t sup_hold_pattern(uint16_t y)
{
    return (uint16_t)((y & (CC_Y_A_DOWN | CC_Y_B_DOWN)) | CC_Y_A_VAC | CC_Y_B_VAC | CC_Y_BEACON);
}

void sup_init(sup *s, const params_robot *p)
{
    memset(s, 0, sizeof *s);
    s->p = p;
    s->phase = SUP_HELD;
    s->reason = SUP_R_STARTUP;
    s->hold_out = sup_hold_pattern(CC_Y_A_DOWN | CC_Y_B_DOWN);
}

void sup_start(sup *s, const cc_status *st, uint32_t now_ticks)
{
    s->phase = SUP_HELD;
    s->reason = SUP_R_STARTUP;
    s->detail = 0;
    s->held_at_ticks = now_ticks;
    s->hold_out = sup_hold_pattern(st->y);
    s->last_y = st->y;
    s->v_ok[0] = s->v_ok[1] = 0;
}

void sup_fault(sup *s, sup_reason reason, unsigned detail, const cc_status *st, uint32_t now_ticks)
{
    if (s->phase == SUP_HELD) return; /* the first reason of a HOLD stays */
    s->phase = SUP_HELD;
    s->reason = reason;
    s->detail = detail;
    s->held_at_ticks = now_ticks;
    s->hold_out = sup_hold_pattern(st ? st->y : s->last_y);
    s->holds++;
    if ((unsigned)reason < SUP_R_COUNT) s->faults[reason]++;
}

/* Status faults now, as a bit mask; *first gets the one that names a HOLD
 * (the PLC's own ranking first: E-stop, tether, supply, watchdog, HOLD). */
static uint32_t status_faults(const sup *s, const cc_status *st)
{
    const params_robot *p = s->p;
    uint32_t m = 0;
    if ((st->flags & CC_FLAG_ESTOP) || !(st->x & CC_X_ESTOP_OK)) m |= 1u << SUP_R_ESTOP;
    if ((st->flags & CC_FLAG_TETHER) || !(st->x & CC_X_TETHER_OK)) m |= 1u << SUP_R_TETHER;
    if ((st->flags & CC_FLAG_SUPPLY_LOW) || !(st->x & CC_X_SUPPLY_OK)) m |= 1u << SUP_R_SUPPLY;
    if (st->flags & CC_FLAG_WATCHDOG) m |= 1u << SUP_R_WATCHDOG;
    if (st->flags & CC_FLAG_HOLD) m |= 1u << SUP_R_PLC_HOLD;
    for (unsigned i = 0; i < CC_CUPS_N; i++)
        if (!(st->cup_kpa[i] >= 0.0f && st->cup_kpa[i] <= p->vac_plausible_max_kpa))
            m |= 1u << SUP_R_CUP_IMPLAUSIBLE;
    if (((st->x & CC_X_XCYL_MINUS_END) && (st->x & CC_X_XCYL_PLUS_END)) ||
        ((st->x & CC_X_YCYL_MINUS_END) && (st->x & CC_X_YCYL_PLUS_END)))
        m |= 1u << SUP_R_ENDS_IMPLAUSIBLE;
    if (((st->x & CC_X_A_UP) && (st->x & CC_X_A_DOWN)) ||
        ((st->x & CC_X_B_UP) && (st->x & CC_X_B_DOWN)))
        m |= 1u << SUP_R_LEGS_IMPLAUSIBLE;
    for (unsigned a = 0; a < 2; a++) {
        float s_mm = a ? p->stroke_y_mm : p->stroke_x_mm;
        if (st->pos_valid[a] && !(st->pos_mm[a] <= s_mm + 2.0f * p->pos_tol_mm))
            m |= 1u << SUP_R_POS_IMPLAUSIBLE;
    }
    return m;
}

sup_reason sup_observe(sup *s, const cc_status *st, uint32_t now_ticks)
{
    static const sup_reason order[] = {
        SUP_R_ESTOP,           SUP_R_TETHER,           SUP_R_SUPPLY,          SUP_R_WATCHDOG,
        SUP_R_PLC_HOLD,        SUP_R_CUP_IMPLAUSIBLE,  SUP_R_ENDS_IMPLAUSIBLE, SUP_R_LEGS_IMPLAUSIBLE,
        SUP_R_POS_IMPLAUSIBLE};
    for (unsigned g = 0; g < HOLD_GROUP_COUNT; g++) {
        int ok = hold_group_verified_fr(s->p, s->fr, st, (hold_group)g, &s->hr[g]);
        if (ok && !s->v_ok[g]) s->v_since_ticks[g] = now_ticks;
        s->v_ok[g] = ok;
    }
    s->last_y = st->y;
    s->active = status_faults(s, st);
    if (s->phase == SUP_HELD) return SUP_R_NONE;
    /* The PLC is in HOLD (watchdog, b1) until our RESET is accepted: a fault
     * only once we are enabling or running. */
    uint32_t live = s->active;
    if (s->phase == SUP_RESETTING) live &= ~((1u << SUP_R_WATCHDOG) | (1u << SUP_R_PLC_HOLD));
    for (unsigned i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (live & (1u << order[i])) {
            sup_fault(s, order[i], 0, st, now_ticks);
            return order[i];
        }
    }
    return SUP_R_NONE;
}

sup_reason sup_plc_check(const cc_status *st, uint16_t outputs, cc_mode mode)
{
    const uint32_t x = st->x;
    const uint16_t y = st->y, r = outputs;
    const int grips_a = (x & CC_X_A_VAC_OK) && (x & CC_X_A_DOWN);
    const int grips_b = (x & CC_X_B_VAC_OK) && (x & CC_X_B_DOWN);
    const int l7 = !(x & CC_X_ESTOP_OK) || !(x & CC_X_TETHER_OK) || !(x & CC_X_SUPPLY_OK);
    switch (mode) {
    case CC_MODE_HOLD: return SUP_R_NONE;
    case CC_MODE_RESET: return l7 ? SUP_R_RESET_REFUSED : SUP_R_NONE;
    case CC_MODE_AUTO:
    case CC_MODE_MANUAL: break;
    default: return SUP_R_BAD_MODE;
    }
    if ((st->flags & CC_FLAG_HOLD) || l7) return SUP_R_PLC_HOLD;
    if ((((y & CC_Y_A_VAC) && !(r & CC_Y_A_VAC)) || (r & CC_Y_A_BLOW)) && !grips_b) return SUP_R_L1;
    if ((((y & CC_Y_B_VAC) && !(r & CC_Y_B_VAC)) || (r & CC_Y_B_BLOW)) && !grips_a) return SUP_R_L2;
    if (r & CYL_VALVES) {
        int l3 = ((x & CC_X_A_UP) && !(x & CC_X_B_UP) && grips_b) ||
                 ((x & CC_X_B_UP) && !(x & CC_X_A_UP) && grips_a);
        if (!l3) return SUP_R_L3;
    }
    if (((y & CC_Y_A_DOWN) && !(r & CC_Y_A_DOWN) && !grips_b) ||
        ((y & CC_Y_B_DOWN) && !(r & CC_Y_B_DOWN) && !grips_a))
        return SUP_R_L4;
    if (((r & CC_Y_X_PLUS) && (r & CC_Y_X_MINUS)) || ((r & CC_Y_Y_PLUS) && (r & CC_Y_Y_MINUS)))
        return SUP_R_L5;
    return SUP_R_NONE;
}

/* The rules of supervisor.h in order; SUP_R_NONE when the request may go. */
static sup_reason rules(const sup *s, const cc_status *st, uint16_t out, cc_mode mode,
                        uint32_t now_ticks)
{
    if (mode != CC_MODE_AUTO) return SUP_R_BAD_MODE;
    if (out & SPARE_OUTPUTS) return SUP_R_BAD_OUTPUT;
    if (((out & CC_Y_X_PLUS) && (out & CC_Y_X_MINUS)) ||
        ((out & CC_Y_Y_PLUS) && (out & CC_Y_Y_MINUS)))
        return SUP_R_L5;
    /* S1 */
    if (!s->v_ok[HOLD_GROUP_A] && !s->v_ok[HOLD_GROUP_B]) return SUP_R_S1_NO_GRIP;
    int keeps = 0;
    for (unsigned g = 0; g < HOLD_GROUP_COUNT; g++) {
        const hold_group_io *io = hold_io((hold_group)g);
        if (s->v_ok[g] && (out & io->y_vac) && (out & io->y_down) && !(out & io->y_blow)) keeps = 1;
    }
    if (!keeps) return SUP_R_S1_LAST_GRIP;
    /* S2 */
    for (unsigned g = 0; g < HOLD_GROUP_COUNT; g++) {
        const hold_group_io *io = hold_io((hold_group)g);
        const hold_group h = hold_other((hold_group)g);
        int release = ((st->y & io->y_vac) && !(out & io->y_vac)) || (out & io->y_blow);
        if (release && !(s->v_ok[h] && now_ticks - s->v_since_ticks[h] >= s->p->settle_ticks))
            return SUP_R_S2_RELEASE;
    }
    /* S3 */
    if (out & CYL_VALVES) {
        int ok = 0;
        for (unsigned g = 0; g < HOLD_GROUP_COUNT; g++) {
            const hold_group_io *io = hold_io((hold_group)g);
            if ((st->x & io->x_up) && !(st->x & io->x_down) && s->v_ok[hold_other((hold_group)g)])
                ok = 1;
        }
        if (!ok) return SUP_R_S3_MOTION;
    }
    /* legs going up */
    for (unsigned g = 0; g < HOLD_GROUP_COUNT; g++) {
        const hold_group_io *io = hold_io((hold_group)g);
        if ((st->y & io->y_down) && !(out & io->y_down) && !s->v_ok[hold_other((hold_group)g)])
            return SUP_R_L4;
    }
    /* the PLC's own rules, mirrored: never send what it would refuse */
    return sup_plc_check(st, out, mode);
}

sup_reason sup_check(sup *s, const cc_status *st, uint16_t *outputs, cc_mode *mode,
                     uint32_t now_ticks)
{
    sup_reason r = SUP_R_NONE;
    switch (s->phase) {
    case SUP_HELD:
        *outputs = s->hold_out;
        *mode = CC_MODE_HOLD;
        return SUP_R_NONE;
    case SUP_RESETTING:
        *outputs = s->hold_out;
        *mode = CC_MODE_RESET;
        return SUP_R_NONE;
    default: break;
    }
    r = rules(s, st, *outputs, *mode, now_ticks);
    if (r != SUP_R_NONE) {
        s->refused[r]++;
        s->refused_total++;
        sup_fault(s, r, 0, st, now_ticks);
        *outputs = s->hold_out;
        *mode = CC_MODE_HOLD;
    }
    return r;
}

int sup_acknowledge(sup *s)
{
    if (!s) return SUP_EARG;
    if (s->phase != SUP_HELD) return SUP_ESTATE;
    if (s->active & SUP_BLOCKING_MASK) return SUP_EFAULT;
    s->phase = SUP_RESETTING;
    return 0;
}

void sup_reset_accepted(sup *s)
{
    if (s->phase == SUP_RESETTING) s->phase = SUP_ENABLING;
}

void sup_enabled(sup *s)
{
    if (s->phase == SUP_ENABLING) s->phase = SUP_RUNNING;
}

uint32_t sup_verified_for(const sup *s, hold_group g, uint32_t now_ticks)
{
    if ((unsigned)g >= HOLD_GROUP_COUNT || !s->v_ok[g]) return 0;
    return now_ticks - s->v_since_ticks[g];
}
