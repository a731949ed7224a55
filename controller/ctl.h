/*
 * ctl.h — the controller's per-cycle glue: status in, command out.
 *
 * One cycle (SPEC §6):  status of this exchange
 *   -> PLC time: D104 extended to 32 bits (now_ticks; never the laptop clock)
 *   -> supervisor: faults in the status (S4), verification of each group
 *   -> echo of the command in flight: accepted (D105 = seq), refused (D100
 *      b4 appeared), or not echoed within echo_timeout_ticks
 *   -> gait request (ENABLING / RUNNING), or an operator jog
 *   -> supervisor gate sup_check() (S1-S3, PLC rules mirrored, HOLD pattern)
 *   -> the command of the next exchange.
 *
 * Command rules (the echo rule of docs/register-map.md):
 *   - the sequence number D200 changes exactly when the outputs D202 or the
 *     mode D203 change; the heartbeat D201 is +1 every cycle; D204 is the
 *     period hint (params.period_ms);
 *   - a command is pending until the PLC echoes it in D105 or refuses it (D100
 *     b4 set where it was clear when the command was sent).  A new command
 *     waits while one is pending (counted in stats.deferred) — except a HOLD,
 *     which always goes out at once;
 *   - a refusal is a fault (SUP_R_REJECTED -> HOLD) unless the same status
 *     shows the PLC in HOLD, whose own cause the supervisor has already
 *     latched (stats.refused_explained); a refused RESET is
 *     SUP_R_RESET_REFUSED; no echo in echo_timeout_ticks is
 *     SUP_R_ECHO_TIMEOUT;
 *   - D104 must move: tick_stall_cycles good exchanges in a row with the
 *     same tick (a stopped PLC behind a gateway that still answers) is
 *     SUP_R_TICK_STALLED, because every timeout runs on that tick;
 *   - at start the controller takes over the numbers: the first command
 *     (mode 0 HOLD) gets a sequence number different from both the echo D105
 *     and the last D200 written (read back by ctl_open), so the PLC
 *     evaluates it.
 *
 * Start and resume: a started controller is HELD (reason STARTUP) until the
 * operator acknowledges; then RESET, and when the PLC echoes it the gait
 * forgets where the robot is and re-derives it from the status before its
 * first AUTO command (ENABLING); the echo of that command makes it RUNNING.
 * The same happens after every HOLD.
 *
 * No heap: the struct is the caller's; it holds the parameters, the gait and
 * the supervisor, which point into it, so it must not be copied or moved
 * after ctl_init().
 *
 * Errors: 0 or a negative CTL_E* code; ctl_strerror() gives the text.
 */
#ifndef CROSSCLIMB_CTL_H
#define CROSSCLIMB_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "controller/gait.h"
#include "controller/holding.h"
#include "controller/params.h"
#include "controller/supervisor.h"
#include "plc_bridge/image.h"
#include "plc_bridge/link.h"

enum {
    CTL_OK = 0,
    CTL_EARG = -1,      /* null argument, bad parameters, outputs not allowed */
    CTL_ESTATE = -2,    /* not started, or not possible in this phase */
    CTL_EFAULT = -3,    /* acknowledge refused: a fault is still active */
    CTL_ELINK = -4,     /* the exchange failed (ctl->last_link_rc has the LINK_E* code) */
    CTL_EBUSY = -5,     /* the gait is not idle */
    CTL_ERANGE = -6,    /* target outside a stroke */
    CTL_ENOSENSOR = -7, /* target between the ends without a position sensor */
    CTL_EPOSITION = -8, /* a cylinder position is unknown */
};

/** ctl_strerror: text for a CTL_E* code (never NULL). */
const char *ctl_strerror(int code);

typedef struct {
    uint64_t cycles;            /* ctl_step() calls */
    uint64_t link_failures;     /* cycles without a status */
    uint64_t commands;          /* new sequence numbers */
    uint64_t accepted;          /* commands echoed in D105 */
    uint64_t refused_by_plc;    /* refused by the PLC and not explained: each one a HOLD */
    uint64_t refused_explained; /* refused while the PLC was in HOLD (its cause already latched) */
    uint64_t deferred;          /* cycles a new request waited for the echo of the last */
    uint64_t echo_timeouts;
} ctl_stats;

typedef struct ctl {
    params_robot params;     /* a copy: gait and supervisor point here */
    hold_friction friction;  /* per-cup friction of the footholds: gait and supervisor point here */
    gait gait;
    sup sup;
    cc_command cmd;          /* the command of the next exchange */
    cc_status last;          /* the last status received */
    int started;
    int pending;             /* cmd.seq not yet echoed nor refused */
    uint32_t pending_since_ticks;  /* now_ticks when it was sent */
    int rej_at_send;         /* D100 b4 was already set when it was sent */
    uint32_t now_ticks;      /* PLC time, D104 extended */
    unsigned link_fail_run;  /* failed exchanges in a row */
    unsigned tick_same_run;  /* good exchanges in a row with an unchanged D104 */
    int last_link_rc;        /* LINK_E* code of the last failed exchange (ctl_cycle) */
    int jog;                 /* operator jog active: jog_outputs replace the gait's */
    uint16_t jog_outputs;
    uint16_t aux;            /* brush / spray wanted while running */
    ctl_stats stats;
} ctl;

/**
 * ctl_init: a controller for robot p (copied; checked with params_validate,
 * message in err).  Not started: call ctl_start() or ctl_open() with the
 * first status.  Returns 0 or CTL_EARG.
 */
int ctl_init(ctl *c, const params_robot *p, char *err, size_t errlen);

/**
 * ctl_start: take over from the first status block st.  last_d200 is the
 * sequence number last written to D200 (read back), or -1 when unknown.
 * The controller is HELD (reason STARTUP) and its first command is mode 0
 * HOLD.  Returns 0 or CTL_EARG.
 */
int ctl_start(ctl *c, const cc_status *st, long last_d200);

/**
 * ctl_step: one cycle without I/O.  st is the status of the exchange that
 * just happened, or NULL when it failed.  *out (may be NULL) receives the
 * command for the next exchange (also kept in c->cmd).  Returns 0,
 * CTL_ESTATE (not started) or CTL_EARG.
 */
int ctl_step(ctl *c, const cc_status *st, cc_command *out);

/**
 * ctl_open: ctl_start() over a link: reads the status block and D200, then
 * starts.  *st receives the status.  Returns 0 or CTL_ELINK.
 */
int ctl_open(ctl *c, cc_link *link, cc_status *st);

/**
 * ctl_cycle: one exchange over the link (link_cycle with c->cmd) and
 * ctl_step() on its result.  *st receives the status.  Returns 0, or
 * CTL_ELINK when the exchange failed (the controller already counted it and
 * holds after link_fail_max in a row), or CTL_ESTATE.
 */
int ctl_cycle(ctl *c, cc_link *link, cc_status *st);

/**
 * ctl_acknowledge: the operator acknowledges the HOLD: RESET, then AUTO
 * once the state is re-derived.  Returns 0, CTL_ESTATE (not held, not
 * started, or the link is failing) or CTL_EFAULT (a fault is still active).
 */
int ctl_acknowledge(ctl *c);

/** ctl_operator_hold: the operator asks for a HOLD (reason OPERATOR).  Returns 0 or CTL_ESTATE. */
int ctl_operator_hold(ctl *c);

/**
 * ctl_half_step / ctl_full_step / ctl_half_to: gait requests (gait.h) made
 * from the last status.  Only while RUNNING.  Returns 0, CTL_ESTATE,
 * CTL_EBUSY, CTL_ERANGE, CTL_ENOSENSOR, CTL_EPOSITION or CTL_EARG.
 */
int ctl_half_step(ctl *c, hold_group lifted, float dx_mm, float dy_mm);
int ctl_full_step(ctl *c, hold_group first, float dx_mm, float dy_mm);
int ctl_half_to(ctl *c, hold_group lifted, const float target_mm[2]);

/**
 * ctl_resume_half_to: after a restart (or any start), before the first AUTO
 * command: give the gait the half-step that was in flight when the last
 * controller stopped (lift `lifted`, cylinders to target_mm, NaN = stays), so
 * that when it derives the robot's state from the status it finishes that
 * half-step instead of putting a lifted group down where it happens to be.
 * Only while HELD or RESETTING (the gait not derived yet).  Returns 0,
 * CTL_ESTATE or the codes of ctl_half_to.
 */
int ctl_resume_half_to(ctl *c, hold_group lifted, const float target_mm[2]);

/** ctl_cancel: drop the rest of the gait's plan (a half-step under way completes safely). */
void ctl_cancel(ctl *c);

/**
 * ctl_jog: operator jog: from the next cycle the outputs requested are
 * outputs instead of the gait's, still through the supervisor (a jog it
 * refuses is a HOLD).  Only while RUNNING.  Returns 0 or CTL_ESTATE.
 */
int ctl_jog(ctl *c, uint16_t outputs);

/** ctl_jog_clear: back to the gait's outputs. */
void ctl_jog_clear(ctl *c);

/**
 * ctl_set_aux: brush and spray (CC_Y_BRUSH | CC_Y_SPRAY, or 0) added to the
 * outputs while RUNNING (never in HOLD).  Returns 0 or CTL_EARG for other bits.
 */
int ctl_set_aux(ctl *c, uint16_t bits);

/**
 * ctl_set_friction: the per-cup friction (map values) of group g's foothold
 * for the S2 check, or mu NULL to fall back to the uniform mu of the
 * parameters.  Returns 0 or CTL_EARG.
 */
int ctl_set_friction(ctl *c, hold_group g, const float mu[PARAMS_CUPS_PER_GROUP]);

/** ctl_phase: the supervisor phase. */
sup_phase ctl_phase(const ctl *c);

/**
 * ctl_describe: one line for logs and the console: phase, hold reason,
 * gait state and group, sequence, pending.  Returns buf.
 */
const char *ctl_describe(const ctl *c, char *buf, size_t len);

#endif
