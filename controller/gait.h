/*
 * gait.h — the half-step sequence of SPEC §6 as an explicit state machine.
 *
 * Pure: the input of a cycle is the status block of that cycle and the PLC
 * time (D104 extended to 32 bits by the caller: now_ticks, 10 ms each); the
 * output is the requested outputs word Y0-Y17.  No clock, no I/O, no heap.
 * The safety supervisor checks every request afterwards; the gait is built
 * so that it never makes one the supervisor (or the PLC) would refuse.
 *
 * Half-step of group G (lifted) while H (the other) holds:
 *   VERIFY   H verified (every cup >= sealed, vacuum switch, legs down, safety
 *            factor >= required; holding.h) continuously for settle_ticks —
 *            the same condition the supervisor's S2 asks before a release
 *   RELEASE  G vacuum off + blow-off until every G cup <= released
 *   LIFT     G legs up until its legs-up switch (and not the down switch)
 *   MOVE     cylinder valves towards the targets; each cylinder stops at its
 *            end switch or, with a position sensor, at the target position;
 *            stall (no progress) and move timeouts
 *   LOWER    G legs down until its legs-down switch
 *   GRIP     G vacuum on until every G cup >= sealed and its vacuum switch
 *   SETTLE   settle_ticks with every G cup >= sealed and a bounded leak rate
 *            (drop of any cup from its peak in the window, per second of
 *            window, <= leak_max_kpa_per_s); a window with too much drop starts
 *            again until settle_timeout_ticks
 *   then the roles swap (a full step is two half-steps: G, then H).
 * Every state has a timeout in PLC ticks.  During RELEASE..SETTLE H must
 * stay verified, else the gait fails (HOLDER_LOST).
 *
 * Recovery: GRIP timeout or a failed SETTLE -> reseat (RELEASE, LIFT, LOWER,
 * GRIP again) up to reseat_max times -> shifted foothold (RELEASE, LIFT, MOVE
 * shift_mm along X — or Y if X has no room —, LOWER, GRIP) -> FAILED (the
 * supervisor holds and the operator is asked).
 *
 * Kinematics (SPEC §2) and the sign of a move.  The carriages of the two
 * rodless cylinders are bolted together at the centre C.  The X body carries
 * A, the Y body carries B; p_x, p_y are the carriage positions on their
 * bodies (0 at the -end switch, stroke at the +end switch; valve "+X" drives
 * the carriage towards the +end).  So C_x = A_x + p_x and C_y = A_y (the X
 * body slides along X only), and C_y = B_y + p_y, C_x = B_x.  Hence
 *     A = (B_x - p_x, B_y + p_y)   (up to constant offsets).
 *   B grips, A lifted: B fixed, so A moves by (-dp_x, +dp_y): to move A by
 *     (dx, dy) the cylinders change by dp = (-dx, +dy).
 *   A grips, B lifted: A fixed, so B moves by (+dp_x, -dp_y): dp = (+dx, -dy).
 * A full step (A then B by the same (dx, dy)) brings the cylinders back to
 * where they were; the robot has moved (dx, dy).  gait_cyl_delta_mm() is
 * this table.  Targets are stored as absolute cylinder positions, so a
 * half-step resumed after a HOLD or a restart never moves twice.
 *
 * Without position sensors a cylinder's position is known only at its end
 * switches: a move must then go from end to end (|dp| = stroke); a move
 * that would stop between the ends is refused (GAIT_ENOSENSOR).  The shifted
 * foothold is then timed at shift_speed_mm_s (it only has to leave the bad
 * spot; the new grip verifies the result).
 *
 * Restart: gait_invalidate() forgets the physical state; the next
 * gait_update() derives it from the status block (which groups are
 * verified, which legs are up, where the cylinders are) before any motion
 * and continues — through VERIFY — with the step the status calls for.
 *
 * Errors: 0 or a negative GAIT_E* code; gait_strerror() gives the text.
 */
#ifndef CROSSCLIMB_GAIT_H
#define CROSSCLIMB_GAIT_H

#include <stdint.h>

#include "controller/holding.h"
#include "controller/params.h"
#include "plc_bridge/image.h"

enum {
    GAIT_OK = 0,
    GAIT_EARG = -1,      /* null argument, bad group, NaN */
    GAIT_EBUSY = -2,     /* a request while not IDLE */
    GAIT_ERANGE = -3,    /* a target outside a cylinder's stroke */
    GAIT_ENOSENSOR = -4, /* a target between the ends without a position sensor */
    GAIT_EPOSITION = -5, /* the cylinder's position is unknown (no sensor, not at an end) */
};

/** gait_strerror: text for a GAIT_E* code (never NULL). */
const char *gait_strerror(int code);

typedef enum {
    GAIT_UNKNOWN = 0, /* physical state not known: derived from the next status */
    GAIT_IDLE,        /* both groups verified, nothing requested */
    GAIT_VERIFY,
    GAIT_RELEASE,
    GAIT_LIFT,
    GAIT_MOVE,
    GAIT_LOWER,
    GAIT_GRIP,
    GAIT_SETTLE,
    GAIT_FAILED,      /* see gait.fail; outputs are the safe pattern, the supervisor holds */
    GAIT_STATE_COUNT
} gait_state;

/** gait_state_name: "idle", "verify", ... ("?" out of range). */
const char *gait_state_name(gait_state s);

typedef enum {
    GAIT_FAIL_NONE = 0,
    GAIT_FAIL_VERIFY_TIMEOUT,  /* holder not verified for the settle time */
    GAIT_FAIL_RELEASE_TIMEOUT, /* a G cup stayed above released */
    GAIT_FAIL_LIFT_TIMEOUT,    /* G legs-up switch not reached */
    GAIT_FAIL_MOVE_TIMEOUT,    /* cylinders not at their targets in time */
    GAIT_FAIL_STALL,           /* a cylinder made no progress (position sensor) */
    GAIT_FAIL_POSITION_LOST,   /* a move to a position lost its position sensor */
    GAIT_FAIL_LOWER_TIMEOUT,   /* G legs-down switch not reached */
    GAIT_FAIL_GRIP_TIMEOUT,    /* a cup will not seal: reseats and shifted foothold spent */
    GAIT_FAIL_SETTLE_LEAK,     /* seal lost or leaking in settle: recovery spent */
    GAIT_FAIL_HOLDER_LOST,     /* H stopped being verified during the half-step */
    GAIT_FAIL_NO_GRIP,         /* derived state: no group verified */
    GAIT_FAIL_COUNT
} gait_fail;

/** gait_fail_name: "release-timeout", ... ("?" out of range). */
const char *gait_fail_name(gait_fail f);

/* What the current half-step is for. */
typedef enum {
    GAIT_KIND_STEP = 0, /* a requested half-step */
    GAIT_KIND_RESEAT,   /* recovery: lift and put down again in place */
    GAIT_KIND_SHIFT,    /* recovery: shifted foothold */
    GAIT_KIND_REGRIP,   /* derived: put a group that does not grip back down */
    GAIT_KIND_COUNT
} gait_kind;

/** gait_kind_name: "step", "reseat", "shift", "regrip". */
const char *gait_kind_name(gait_kind k);

typedef enum {
    GAIT_GOAL_NONE = 0, /* this cylinder does not move */
    GAIT_GOAL_END,      /* to the end switch at target_mm (0 or stroke) */
    GAIT_GOAL_POS,      /* to target_mm by the position sensor (or the end switch on the way) */
    GAIT_GOAL_TIMED,    /* dir for timed_ticks (or to the end switch): the shift without sensor */
    GAIT_GOAL_COUNT
} gait_goal_mode;

/** gait_goal_name: "none", "end", "position", "timed". */
const char *gait_goal_name(gait_goal_mode m);

typedef struct {
    gait_goal_mode mode;
    float target_mm;      /* END, POS: absolute carriage position */
    int8_t dir;           /* TIMED: +1 / -1 */
    uint32_t timed_ticks; /* TIMED */
} gait_goal;

typedef struct {
    hold_group group;     /* the lifted group G */
    gait_goal axis[2];    /* X, Y cylinder */
} gait_half;

#define GAIT_PLAN_MAX 2 /* a full step */

typedef struct gait {
    const params_robot *p; /* caller's, outlives the gait */
    gait_state state;
    gait_fail fail;
    gait_state resume_to;  /* where VERIFY goes (RELEASE for a fresh half-step) */
    gait_kind kind;
    int plan_half;         /* the current half-step is plan[plan_i] */
    hold_group g;          /* G: the group lifted (or to be lifted) now */
    gait_goal goal[2];     /* current motion (the plan's, or the shift) */
    gait_half plan[GAIT_PLAN_MAX];
    unsigned plan_n, plan_i;
    uint16_t g_keep;       /* G's outputs held during VERIFY */
    uint32_t state_since_ticks;  /* tick of entry into the state */
    int v_ok[HOLD_GROUP_COUNT];         /* verified in the last status */
    uint32_t v_since_ticks[HOLD_GROUP_COUNT]; /* ... continuously since */
    /* MOVE */
    uint32_t move_since_ticks;
    int8_t mv_dir[2];
    uint8_t mv_done[2];
    float mv_prog_mm[2];
    uint32_t mv_prog_since_ticks[2];
    /* SETTLE */
    uint32_t win_since_ticks;
    float win_kpa[PARAMS_CUPS_PER_GROUP]; /* peak of each G cup in the window */
    double win_pos_sum_mm[2];             /* position readings of X, Y in the window, mm */
    uint32_t win_pos_n[2];                /* ... how many (both groups grip: the cylinders stand still) */
    /* recovery of the current half-step */
    unsigned reseats;
    int shifted;
    /* statistics */
    unsigned transitions, half_steps, reseats_total, shifts_total, derives;
    const hold_friction *fr; /* per-cup friction of the footholds (ctl's), or NULL */
    float sf_at_release_min; /* holder's safety factor at every release, minimum (0: none yet) */
    float sf_at_release_last;
} gait;

/**
 * gait_settled_pos_mm: the mean of the position readings of axis (0 X, 1 Y)
 * over the last settle window — both groups gripping, the cylinders standing
 * still — which averages the sensor's noise and quantisation away (a single
 * reading at 0.5 mm noise and 1 mm steps would add a random walk to the
 * mission's dead reckoning).  Valid from the SETTLE of a half-step until the
 * next half-step starts.  Returns 1 and *mm, or 0 when there were no valid
 * readings (no sensor, or no settle yet).
 */
int gait_settled_pos_mm(const gait *g, unsigned axis, double *mm);

/** gait_init: a gait in UNKNOWN state for the robot p (p must outlive g). */
void gait_init(gait *g, const params_robot *p);

/**
 * gait_cyl_delta_mm: the cylinder changes (X, Y, mm) that move the lifted
 * group G by (dx_mm, dy_mm) on the facade (see the kinematics above).
 */
void gait_cyl_delta_mm(hold_group lifted, float dx_mm, float dy_mm, float dp_mm[2]);

/**
 * gait_cyl_known_mm: the position of cylinder axis (0 X, 1 Y) from st: the
 * position sensor, else 0 / stroke at an end switch.  Returns 1 and *mm, or 0
 * when it is not known.
 */
int gait_cyl_known_mm(const params_robot *p, const cc_status *st, unsigned axis, float *mm);

/**
 * gait_request_half_step: move group G by (dx_mm, dy_mm) on the facade (one
 * half-step).  Targets are made absolute from st now.  Only in IDLE.
 * Returns 0 or GAIT_EBUSY / ERANGE / ENOSENSOR / EPOSITION / EARG.
 */
int gait_request_half_step(gait *g, const cc_status *st, hold_group G, float dx_mm, float dy_mm);

/**
 * gait_request_full_step: move the robot by (dx_mm, dy_mm): group first,
 * then the other, each by (dx, dy).  Both halves are checked now.  Only in
 * IDLE.  Returns 0 or a GAIT_E* code.
 */
int gait_request_full_step(gait *g, const cc_status *st, hold_group first, float dx_mm,
                           float dy_mm);

/**
 * gait_request_half_to: lift G and put the cylinders at absolute positions
 * target_mm[axis] (NaN: that cylinder stays).  Without a position sensor a
 * target must be an end (0 or stroke).  Only in IDLE.  Returns 0 or a
 * GAIT_E* code.
 */
int gait_request_half_to(gait *g, const cc_status *st, hold_group G, const float target_mm[2]);

/**
 * gait_update: one cycle.  Derives the state first when UNKNOWN, takes the
 * transitions the status allows, and writes the outputs the state asks for
 * into *outputs (CC_Y_* bits: legs, vacuums, blow-offs, cylinder valves;
 * never brush, spray or beacon).  Returns 0 or GAIT_EARG.
 */
int gait_update(gait *g, const cc_status *st, uint32_t now_ticks, uint16_t *outputs);

/**
 * gait_invalidate: forget where the robot is (after a HOLD, a link loss or a
 * restart).  The plan is kept: the next gait_update() derives the state from
 * the status and resumes it.  A FAILED gait becomes UNKNOWN too.
 */
void gait_invalidate(gait *g);

/** gait_cancel: drop the plan (the current half-step still completes safely). */
void gait_cancel(gait *g);

/** gait_idle: 1 when IDLE with nothing planned (a new request is accepted). */
int gait_idle(const gait *g);

#endif
