/*
 * supervisor.h — the safety supervisor (SPEC §6 S1-S4) and the HOLD /
 * acknowledge / RESET / AUTO sequence.
 *
 * Pure: input = the status block of the cycle and the PLC time (now_ticks,
 * D104 extended); output = the (outputs, mode) pair that may go to the link.
 * Every requested pair passes sup_check() before it can reach the link.
 *
 * Phases:
 *   HELD       mode 0 with the HOLD pattern; left only by sup_acknowledge()
 *              (the operator) when no fault is active
 *   RESETTING  mode 3 RESET sent; when the PLC echoes it -> ENABLING, when it
 *              refuses it -> HELD (RESET_REFUSED)
 *   ENABLING   mode 1 AUTO with the outputs of a freshly derived gait (the
 *              caller re-derives where the robot is); echo -> RUNNING
 *   RUNNING    mode 1 AUTO, gait requests
 *
 * Checks of a request (ENABLING, RUNNING), first failing rule wins:
 *   mode       only AUTO (MANUAL is for commissioning, never the controller)
 *   outputs    no spare bits Y15-Y17
 *   L5         never Y0 with Y1, nor Y2 with Y3
 *   S1         some group verified now (holding.h) and the request keeps at
 *              least one verified group gripping (vacuum on, no blow-off,
 *              legs down)
 *   S2         a release of G (vacuum going off, or blow-off) only while the
 *              other group has been verified continuously for settle_ticks
 *              (verified includes safety factor >= required)
 *   S3         a cylinder valve only while exactly one group is up (up switch,
 *              not down switch) and the other verified
 *   L4         legs going up only while the other group is verified
 *   L1-L5      finally the PLC's own rules (sup_plc_check), so a request the
 *              PLC would refuse is caught here first
 * A failing request is counted (refused[reason]), never sent, and turned
 * into a HOLD.
 *
 * Faults seen in the status every cycle (S4): E-stop (D100 b2 or X12 off),
 * tether (b5 or X13 off), supply (b6 or X14 off), watchdog (b3), PLC HOLD
 * (b1) while ENABLING/RUNNING, implausible sensors (a cup outside
 * 0..vac_plausible_max_kpa, both end switches of a cylinder, legs up and
 * down switches together, a cylinder position beyond its stroke).  The
 * caller adds link loss, echo timeout, a stalled PLC tick, rejected commands
 * and gait failures with sup_fault().
 *
 * HOLD pattern: mode 0, outputs = both vacuums on, blow-offs off, cylinders
 * stopped, brush and spray off, beacon on, legs as D103 showed them when the
 * hold was latched (frozen, so the command does not change while held).
 *
 * Errors: 0 or a negative SUP_E* code; sup_strerror() gives the text.
 */
#ifndef CROSSCLIMB_SUPERVISOR_H
#define CROSSCLIMB_SUPERVISOR_H

#include <stdint.h>

#include "controller/holding.h"
#include "controller/params.h"
#include "plc_bridge/image.h"

enum {
    SUP_OK = 0,
    SUP_EARG = -1,   /* null argument */
    SUP_ESTATE = -2, /* not possible in this phase (acknowledge while running) */
    SUP_EFAULT = -3, /* acknowledge refused: a fault is still active */
};

/** sup_strerror: text for a SUP_E* code (never NULL). */
const char *sup_strerror(int code);

typedef enum { SUP_HELD = 0, SUP_RESETTING, SUP_ENABLING, SUP_RUNNING, SUP_PHASE_COUNT } sup_phase;

/** sup_phase_name: "held", "resetting", "enabling", "running". */
const char *sup_phase_name(sup_phase ph);

typedef enum {
    SUP_R_NONE = 0,
    SUP_R_STARTUP,          /* controller started: the operator acknowledges */
    SUP_R_OPERATOR,         /* operator asked for a hold */
    SUP_R_LINK_DOWN,        /* link_fail_max failed cycles in a row */
    SUP_R_ECHO_TIMEOUT,     /* a command not echoed in D105 in time */
    SUP_R_TICK_STALLED,     /* the PLC tick D104 stands still: the PLC is not scanning */
    SUP_R_REJECTED,         /* the PLC refused a command (D100 b4) */
    SUP_R_RESET_REFUSED,    /* the PLC refused the RESET */
    SUP_R_ESTOP,            /* E-stop pressed or wire broken */
    SUP_R_TETHER,           /* tether fault */
    SUP_R_SUPPLY,           /* supply air low */
    SUP_R_WATCHDOG,         /* the PLC watchdog tripped (L6) */
    SUP_R_PLC_HOLD,         /* the PLC is in HOLD for another reason */
    SUP_R_CUP_IMPLAUSIBLE,  /* a cup reading outside 0..vac_plausible_max_kpa */
    SUP_R_ENDS_IMPLAUSIBLE, /* both end switches of one cylinder */
    SUP_R_LEGS_IMPLAUSIBLE, /* legs up and down switch of one group together */
    SUP_R_POS_IMPLAUSIBLE,  /* a cylinder position beyond its stroke */
    SUP_R_GAIT,             /* the gait failed (detail: gait_fail code) */
    SUP_R_BAD_MODE,         /* a request in a mode the controller may not use */
    SUP_R_BAD_OUTPUT,       /* a request with spare outputs Y15-Y17 */
    SUP_R_S1_NO_GRIP,       /* no group verified */
    SUP_R_S1_LAST_GRIP,     /* the request lets go of the last verified group */
    SUP_R_S2_RELEASE,       /* release without the other group verified for the settle time */
    SUP_R_S3_MOTION,        /* cylinder motion without one group up and the other verified */
    SUP_R_L1,               /* PLC interlocks, mirrored: A release while B does not grip */
    SUP_R_L2,               /* B release while A does not grip */
    SUP_R_L3,               /* cylinder without exactly one group up and the other gripping */
    SUP_R_L4,               /* legs going up while the other group does not grip */
    SUP_R_L5,               /* both directions of one cylinder */
    SUP_R_COUNT
} sup_reason;

/** sup_reason_name: "estop", "s2-release", ... ("?" out of range). */
const char *sup_reason_name(sup_reason r);

/* Faults that block an acknowledge while active (bits 1 << sup_reason). */
#define SUP_BLOCKING_MASK                                                                        \
    ((1u << SUP_R_ESTOP) | (1u << SUP_R_TETHER) | (1u << SUP_R_SUPPLY) |                          \
     (1u << SUP_R_CUP_IMPLAUSIBLE) | (1u << SUP_R_ENDS_IMPLAUSIBLE) |                             \
     (1u << SUP_R_LEGS_IMPLAUSIBLE) | (1u << SUP_R_POS_IMPLAUSIBLE))

typedef struct sup {
    const params_robot *p;   /* caller's, outlives the supervisor */
    const hold_friction *fr; /* per-cup friction of the footholds (ctl's), or NULL */
    sup_phase phase;
    sup_reason reason;       /* first fault of the current (or last) HOLD */
    unsigned detail;         /* gait_fail for SUP_R_GAIT, else 0 */
    uint32_t held_at_ticks;        /* tick of the HOLD */
    uint16_t hold_out;       /* frozen HOLD pattern */
    uint16_t last_y;         /* D103 of the last status */
    uint32_t active;         /* status faults active now, bit per sup_reason */
    int v_ok[HOLD_GROUP_COUNT];         /* verified in the last status */
    uint32_t v_since_ticks[HOLD_GROUP_COUNT]; /* continuously since */
    hold_result hr[HOLD_GROUP_COUNT];   /* holding of each group in the last status */
    /* counters */
    uint64_t holds;                     /* HOLDs latched */
    uint64_t refused[SUP_R_COUNT];      /* requests refused, by rule */
    uint64_t refused_total;
    uint64_t faults[SUP_R_COUNT];       /* HOLDs by first reason */
} sup;

/** sup_init: HELD with reason STARTUP; p must outlive s. */
void sup_init(sup *s, const params_robot *p);

/**
 * sup_start: the first status of a (re)started controller: HELD with reason
 * STARTUP and the HOLD pattern of st (legs as D103 shows them).
 */
void sup_start(sup *s, const cc_status *st, uint32_t now_ticks);

/**
 * sup_observe: look at this cycle's status: track verification (S1/S2),
 * detect the status faults (S4) and latch a HOLD for the first one.
 * Returns the reason latched now, or SUP_R_NONE.
 */
sup_reason sup_observe(sup *s, const cc_status *st, uint32_t now_ticks);

/**
 * sup_fault: latch a HOLD for reason (detail: gait_fail for SUP_R_GAIT).
 * In HELD only the first reason is kept.  st may be NULL (link down: the
 * last D103 seen gives the legs).
 */
void sup_fault(sup *s, sup_reason reason, unsigned detail, const cc_status *st, uint32_t now_ticks);

/**
 * sup_check: the last gate before the link.  *outputs and *mode are the
 * request; they are replaced by what may be sent: in HELD the HOLD pattern
 * and mode 0, in RESETTING the HOLD pattern and mode 3, in ENABLING/RUNNING
 * the request when it passes every rule, else (counted, latched) the HOLD
 * pattern and mode 0.  Returns the rule that refused it, or SUP_R_NONE.
 */
sup_reason sup_check(sup *s, const cc_status *st, uint16_t *outputs, cc_mode *mode,
                     uint32_t now_ticks);

/**
 * sup_plc_check: would the PLC program accept (outputs, mode) as a new
 * command in the state st shows (docs/plc/README.md "Commands")?  Mode 0 is
 * always accepted; RESET needs X12, X13, X14; AUTO/MANUAL need no HOLD
 * latched (b1, or an L7 fault now) and L1-L5.  Returns SUP_R_NONE, the first
 * L rule violated (SUP_R_L1..L5), SUP_R_PLC_HOLD, SUP_R_RESET_REFUSED or
 * SUP_R_BAD_MODE.
 */
sup_reason sup_plc_check(const cc_status *st, uint16_t outputs, cc_mode mode);

/**
 * sup_acknowledge: the operator acknowledges a HOLD: HELD -> RESETTING.
 * Returns 0, SUP_ESTATE (not held) or SUP_EFAULT (a blocking fault is still
 * active; the reason stays).
 */
int sup_acknowledge(sup *s);

/** sup_reset_accepted: the PLC echoed the RESET: RESETTING -> ENABLING. */
void sup_reset_accepted(sup *s);

/** sup_enabled: the PLC echoed the first AUTO command: ENABLING -> RUNNING. */
void sup_enabled(sup *s);

/** sup_verified_for: ticks group g has been verified continuously (0 if not verified). */
uint32_t sup_verified_for(const sup *s, hold_group g, uint32_t now_ticks);

/** sup_hold_pattern: the HOLD outputs for D103 y: legs as they are, vacuums and beacon on. */
uint16_t sup_hold_pattern(uint16_t y);

#endif
