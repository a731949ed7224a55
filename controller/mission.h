/*
 * mission.h — the cleaning mission (SPEC §6 "Mission"): clean a rectangle of
 * the facade in lanes, footholds chosen off joints, mullions, obstacles and
 * void, around obstacles, inside the edges; pause, resume, stop, progress.
 *
 * CPU: a decision is made once per half-step; foothold verdicts and the
 * holding group's friction are cached (allocated by mis_init), and the
 * lookahead has a budget, so the slowest cycle stays well under a
 * millisecond (tests/bench/bench_controller.c).
 *
 * Pure logic on top of the controller (ctl.h): each cycle mis_step() gets the
 * status block of the cycle and, when the gait is idle, asks ctl for the next
 * half-step (ctl_half_to with absolute cylinder targets) and switches brush
 * and spray (ctl_set_aux).  It never touches the link, never reads a clock
 * (all time is the PLC tick, ctl.now_ticks) and never allocates after
 * mis_init(): the two coverage maps are allocated there.
 *
 * Geometry (docs/simulator.md, gait.h).  The carriage C — the centre of the
 * cross, where the brush turns — is at (B_x, A_y): the X body (group A)
 * slides under it along X, the Y body (group B) along Y.  With the cylinder
 * carriages at s = (s_x, s_y) on bodies of stroke S:
 *     A = (C_x - s_x + S_x/2, C_y)          B = (C_x, C_y + S_y/2 - s_y)
 * So along X, B's half-steps move the carriage (B is the "mover" of X) and
 * A's half-steps only move A (the "follower"); along Y, A is the mover and
 * B the follower.  A pose is (C, s); mis_pose_group_mm() gives the bodies.
 *
 * The plan.  Lanes are horizontal: the carriage sweeps X at a lane height
 * C_y, the brush (a disc of brush_width_mm) cleaning a band of that width.
 * The region [x0, x1] x [y0, y1] is what the brush must cover: the carriage
 * runs x0..x1 on each lane, and the lanes are spaced so that the bands cover
 * y0..y1.  With position sensors on the cylinders lanes are spread evenly
 * with lane_overlap_mm of overlap; without them a cylinder stops only at its
 * ends, so every move is a whole stroke, the carriage lives on a lattice of
 * pitch S around its start (after homing, below) and lanes are a whole
 * number of strokes apart (two for the default 300 mm stroke and 600 mm
 * brush).  Lanes are taken in boustrophedon order from the end of the region
 * nearer the start; each lane is entered from its nearer end.
 *
 * A lane is three phases: REACH_Y (the carriage to the lane's height, brush
 * off), REACH_START (to the lane's start, brush off) and RUN (to its end,
 * brush and spray on during the half-steps that move the carriage, i.e. the
 * mover's).  Each phase advances along one axis towards a target: the mover
 * steps while it has room, the follower steps to give it room.
 *
 * Footholds (every half-step, before it is asked for):
 *   - every cup circle of the group that will land, on the facade map
 *     (facade_cup_cover): joint + mullion + obstacle + void share
 *     <= foothold_bad_max (a cup across a joint or mullion cannot seal),
 *     at the planned landing and pos_tol_mm + 2 mm either side of it along
 *     the move (where the cylinder may really stop);
 *   - the path of the lifted group: no cup circle may touch an obstacle
 *     cell anywhere along it (a lifted foot cannot pass over one);
 *   - the group that holds alone during the half-step, at the start and at
 *     the end of the move (the centre of mass moves with the lifted body and
 *     the carriage): predicted safety factor against slip and twist with the
 *     map's wet friction per cup (dirt lowering it), cups at
 *     vac_pred_factor x nominal vacuum, the full mass and the brush reaction
 *     >= safety_factor_required — the supervisor verifies the real cups
 *     again before the release (S2); the map only makes the robot more
 *     careful;
 *   - live sensors: an edge sensor (X15-X20) looking the way the lifted
 *     group moves forbids a landing beyond the robot's present outline in
 *     that direction; a proximity distance (D122-D125) shorter than the
 *     landing's reach along the carriage's line + prox_margin_mm forbids it.
 * A step that fails is shortened (position sensors: cylinder targets on a
 * fixed grid of step_quant_mm — the same targets whatever few mm the robot
 * stands off its plan — down to step_min_mm, the longest first, each with a
 * lookahead of two steps that the other group and then this one can go on
 * from, bounded to a fixed number of checks per decision); when
 * no length works the robot sidesteps the lane by sidestep_mm (up to
 * detours_max per lane) and returns to the lane once the way is clear; when
 * that fails the rest of the lane is skipped (recorded).
 *
 * Homing: without position sensors a cylinder between its ends is at an
 * unknown place (the operator sets the robot down with both at mid stroke:
 * start_cyl_mm).  Before the lanes each such cylinder is driven to an end
 * with its follower group lifted, so the carriage stays where it started.
 *
 * Dry run: mis_begin() runs the same planner on the map alone (no sensors,
 * every step assumed to land) from the start pose.  It gives the planned
 * area (the cells the brush will sweep inside the region: "reachable"), the
 * half-steps it takes and a time estimate; lanes the dry run cannot reach
 * are reported and skipped live as well.
 *
 * Pause (mis_pause): the half-step under way completes, then the robot
 * stands on both groups, brush off; mis_resume() continues exactly where it
 * stopped; while paused the operator may jog the robot, one checked
 * half-step at a time (mis_jog), and resume goes on from the new pose.
 * Stop (mis_stop): the same, then the mission ends STOPPED.  A
 * controller HOLD suspends the mission (nothing is asked while not
 * RUNNING); after the operator's acknowledge the gait resumes its own
 * half-step and the mission goes on.
 *
 * Restart: mis_checkpoint() is everything needed to continue (pose, lane,
 * phase, the half-step in flight); mis_restore() takes it back, and the
 * half-step in flight is handed to the controller before its first AUTO
 * command (ctl_resume_half_to), so a controller killed in mid-step finishes
 * that very half-step instead of putting a foot down somewhere unplanned.
 *
 * Errors: 0 or a negative MIS_E* code; mis_strerror() gives the text.
 */
#ifndef CROSSCLIMB_MISSION_H
#define CROSSCLIMB_MISSION_H

#include <stddef.h>
#include <stdint.h>

#include "controller/ctl.h"
#include "controller/fusion_gate.h"
#include "controller/holding.h"
#include "controller/params.h"
#include "plc_bridge/image.h"
#include "robot/facade.h"
#include "robot/robotcfg.h"

enum {
    MIS_OK = 0,
    MIS_EARG = -1,    /* null argument, bad configuration */
    MIS_ESTATE = -2,  /* not possible in this state */
    MIS_ENOMEM = -3,  /* the coverage maps could not be allocated (mis_init only) */
    MIS_ERANGE = -4,  /* region or start outside the facade */
    MIS_ECKPT = -5,   /* checkpoint of another mission (region, start, version) */
    MIS_EJOG = -6,    /* a jog refused: mis_jog_reason() says why */
};

/** mis_strerror: text for a MIS_E* code (never NULL). */
const char *mis_strerror(int code);

#define MIS_LANES_MAX 256u
#define MIS_EVENTS_MAX 64u
#define MIS_CHECKPOINT_VERSION 1u

typedef enum {
    MIS_WAITING = 0, /* not begun, or the controller not RUNNING yet */
    MIS_HOMING,      /* cylinders to known ends */
    MIS_TRANSIT,     /* to the next lane (brush off) */
    MIS_CLEANING,    /* along a lane */
    MIS_PAUSING,     /* pause asked: the half-step under way completes */
    MIS_PAUSED,
    MIS_STOPPING,    /* stop asked: the half-step under way completes */
    MIS_DONE,        /* every lane done (parts that cannot be reached skipped) */
    MIS_STOPPED,     /* ended by mis_stop() */
    MIS_STATE_COUNT
} mis_state;

/** mis_state_name: "waiting", "homing", ... ("?" out of range). */
const char *mis_state_name(mis_state s);

typedef enum {
    MIS_PH_REACH_Y = 0, /* carriage to the lane's height */
    MIS_PH_REACH_START, /* to the lane's start */
    MIS_PH_RUN,         /* along the lane, cleaning */
    MIS_PHASE_COUNT
} mis_phase;

/** mis_phase_name: "reach-y", "reach-start", "run". */
const char *mis_phase_name(mis_phase p);

typedef enum {
    MIS_MV_HOME = 0,  /* homing a cylinder */
    MIS_MV_TRANSIT,   /* between lanes, brush off */
    MIS_MV_CLEAN,     /* on a lane (brush on when the carriage moves) */
    MIS_MV_SIDESTEP,  /* off the lane and back, around something */
    MIS_MV_JOG,       /* the operator's jog while paused (mis_jog) */
    MIS_MV_KIND_COUNT
} mis_move_kind;

/** mis_move_kind_name: "home", "transit", "clean", "sidestep", "jog". */
const char *mis_move_kind_name(mis_move_kind k);

/* Why a step (or a lane) could not go on. */
typedef enum {
    MIS_BLK_NONE = 0,
    MIS_BLK_RANGE,    /* no room on the cylinder */
    MIS_BLK_FOOTHOLD, /* a cup would land on joint, mullion, obstacle or void */
    MIS_BLK_PATH,     /* the lifted group would run into an obstacle */
    MIS_BLK_HOLDING,  /* the holding group's predicted safety factor too low */
    MIS_BLK_EDGE,     /* edge sensor */
    MIS_BLK_PROX,     /* proximity distance */
    MIS_BLK_COUNT
} mis_block;

/** mis_block_name: "none", "range", "foothold", ... */
const char *mis_block_name(mis_block b);

/* How a lane ended. */
typedef enum {
    MIS_LANE_OPEN = 0, /* not ended */
    MIS_LANE_REACHED,  /* the carriage ran to the lane's end */
    MIS_LANE_BLOCKED,  /* no foothold on, or around, the rest of the lane */
    MIS_LANE_SKIPPED,  /* the lane could not be reached at all */
    MIS_LANE_END_COUNT
} mis_lane_end;

/** mis_lane_end_name: "open", "reached", "blocked", "skipped". */
const char *mis_lane_end_name(mis_lane_end e);

/* Times of the robot, for estimates and the gait-time floor. */
typedef struct mis_timing {
    double speed_side_mm_s;   /* X cylinder */
    double speed_up_mm_s;     /* Y cylinder lifting a group */
    double speed_down_mm_s;   /* Y cylinder lowering a group */
    double cushion_mm;        /* end cushion ... */
    double cushion_factor;    /* ... and its speed fraction */
    double leg_up_s, leg_down_s;
    double release_s;         /* blow-off from nominal to released */
    double grip_s;            /* vacuum from 0 to sealed */
} mis_timing;

typedef struct mis_config {
    double region_mm[4];       /* x0 y0 x1 y1: the area the brush must cover */
    double start_mm[2];        /* the carriage at the start, facade mm */
    double start_cyl_mm[2];    /* cylinders at the start when neither sensed nor at an end */
    double brush_width_mm;     /* 600 */
    double lane_overlap_mm;    /* with position sensors: overlap of neighbouring lanes (50) */
    double step_min_mm;        /* shortest half-step with position sensors (40) */
    double step_quant_mm;      /* step-length search resolution (10) */
    double foothold_bad_max;   /* joint+mullion+obstacle+void share under a cup (0.03) */
    double path_sample_mm;     /* obstacle check spacing along a lifted path (20) */
    double prox_margin_mm;     /* clearance kept to what a proximity sensor sees (30) */
    double sidestep_mm;        /* sidestep off a lane (0: one stroke) */
    double fusion_stop_wait_s; /* a STOP verdict waits this long before the gate is asked again (2) */
    unsigned fusion_stops_max; /* STOP verdicts in a row before the mission pauses and asks (3) */
    double jog_mm;             /* an operator jog with position sensors (50; whole strokes without) */
    unsigned detours_max;      /* sidesteps per lane (4) */
    uint16_t aux_bits;         /* what runs while cleaning: CC_Y_BRUSH | CC_Y_SPRAY */
    int pause_on_water_low;    /* X21 pauses the mission (1) */
    /* holding prediction (from the robot configuration) */
    double mu_wet[FACADE_SURF_COUNT];
    double mu_dirt_factor;     /* mu x (1 - factor x dirt level) */
    double vac_pred_factor;    /* cups assumed at this share of nominal vacuum (0.95) */
    double body_a_kg, body_b_kg; /* the rest of the mass is at the carriage */
    double brush_reaction_n;   /* pull-off while the brush turns */
    mis_timing timing;
} mis_config;

/**
 * mis_config_defaults: the default robot's mission settings; region and
 * start are left 0 (the caller sets them).
 */
void mis_config_defaults(mis_config *cfg);

/**
 * mis_config_from_robotcfg: brush width, friction, masses and times from a
 * robot configuration (the rest as mis_config_defaults).
 */
void mis_config_from_robotcfg(mis_config *cfg, const robotcfg *rc);

/**
 * mis_half_step_floor_s: the fastest a half-step can be with this robot:
 * release + lift + travel of travel_mm on axis (0 X, 1 Y; up: the lifted
 * group moves up) + lower + grip; plus the controller's settle time when
 * with_settle.
 */
double mis_half_step_floor_s(const mis_config *cfg, const params_robot *p, unsigned axis, int up,
                             double travel_mm, int with_settle);

/* A pose: carriage and cylinder carriages; s_known = 0 when assumed. */
typedef struct mis_pose {
    double c_mm[2];
    double s_mm[2];
    int s_known[2];
} mis_pose;

/** mis_pose_group_mm: the body centre of group g in pose ps (see above). */
void mis_pose_group_mm(const params_robot *p, const mis_pose *ps, hold_group g, double out_mm[2]);

/* One half-step the mission asks for. */
typedef struct mis_move {
    hold_group group;      /* lifted */
    unsigned axis;         /* the axis it travels */
    float target_mm[2];    /* cylinder targets, NaN = stays */
    mis_move_kind kind;
    double nominal_mm;     /* the step length wanted ... */
    double chosen_mm;      /* ... and the one taken (a shifted foothold when they differ) */
    mis_pose before, after;/* planned poses */
    uint16_t aux;          /* brush/spray during it */
} mis_move;

typedef enum {
    MIS_EV_PLAN = 0,   /* the dry run's result (mis_plan) */
    MIS_EV_LANE_BEGIN, /* a = lane index, y = lane height */
    MIS_EV_LANE_END,   /* a = lane, b = mis_lane_end, x0..x1 the carriage's cleaned span */
    MIS_EV_STEP_BEGIN, /* move */
    MIS_EV_STEP_END,   /* move, ticks = its duration, a = 1 if a recovery shift changed it */
    MIS_EV_SHORTENED,  /* move: a shifted foothold (chosen_mm != nominal_mm), b = mis_block of the nominal */
    MIS_EV_SIDESTEP,   /* y = offset from the lane line (0: back on it), b = mis_block that forced it */
    MIS_EV_BLOCKED,    /* b = mis_block: the phase could not go on */
    MIS_EV_PAUSED,     /* reason */
    MIS_EV_RESUMED,
    MIS_EV_STOPPED,
    MIS_EV_DONE,
    MIS_EV_FUSION,     /* fusion: the gate's verdict before the half-step move; a = action taken (fg_action) */
    MIS_EV_TYPE_COUNT
} mis_event_type;

/** mis_event_name: "plan", "lane-begin", ... */
const char *mis_event_name(mis_event_type t);

typedef struct mis_event {
    mis_event_type type;
    uint32_t ticks;        /* PLC time */
    unsigned a, b;
    double x0, x1, y;
    mis_move move;
    fg_verdict fusion;     /* MIS_EV_FUSION */
    char reason[48];
} mis_event;

/* The dry run's result. */
typedef struct mis_plan {
    unsigned lanes;            /* lanes of the region */
    unsigned lanes_skipped;    /* lanes the dry run could not reach */
    unsigned lanes_partial;    /* lanes ended before their end */
    unsigned half_steps;       /* half-steps of the whole mission */
    unsigned clean_steps;      /* of which moving the brush */
    size_t region_cells;       /* cleanable cells (not obstacle, not void) of the region */
    size_t planned_cells;      /* of which the brush will sweep: the reachable area */
    double cell_m2;            /* area of one cell */
    double est_s;              /* time estimate: half-step floors with the settle */
    int complete;              /* 0 when the dry run hit its step bound */
} mis_plan;

typedef struct mis_progress {
    mis_state state;
    mis_phase phase;
    unsigned lane, lanes;      /* lane (1-based; 0 before the first), lanes in the plan */
    unsigned half_steps, half_steps_planned;
    double fraction;           /* share of the planned cells swept (controller's estimate) */
    double area_m2;            /* swept inside the region (estimate) */
    double time_left_s;        /* remaining planned half-steps x mean half-step time */
    double elapsed_s;          /* PLC time since mis_begin */
    double c_mm[2];            /* carriage */
} mis_progress;

/* Everything that changes while the mission runs: the checkpoint. */
typedef struct mis_dyn {
    uint32_t version;
    double region_mm[4], start_mm[2];
    mis_pose pose;
    int state, resume_state, phase;       /* mis_state, mis_state, mis_phase */
    unsigned lane_i;                      /* current lane */
    int lane_dir;                         /* +1 / -1 */
    double lane_y_mm, lane_xs_mm, lane_xe_mm; /* current lane's height, start, end */
    double lane_from_mm;                  /* where cleaning began on this lane */
    int lane_cleaning;                    /* the RUN phase has moved the brush */
    unsigned lanes_n;                     /* lanes of the region */
    double lanes_y0_mm, lanes_pitch_mm;   /* lane k at y0 + k pitch (in visiting order) */
    int lanes_down;                       /* visiting order: 1 top down */
    int lattice;                          /* moves are whole strokes (no position sensors) */
    double lattice_mm[2];                 /* the carriage's lattice origin */
    double prev_lane_y_mm;                /* the last lane cleaned (NaN: none) */
    int detour;                           /* 1: moving off/back the lane line */
    unsigned detour_axis;
    double detour_target_mm;
    double detour_adv_mm;                 /* lane progress when the detour began */
    unsigned detours_used;
    int unstuck;             /* try_unstick half-steps in this lane (bounded: the planner's grid may undo one) */
    int inflight;                         /* a half-step asked and not finished */
    mis_move move;                        /* that half-step */
    uint32_t move_since_ticks;
    int preset_done;                      /* the half-step in flight handed to ctl after a restart */
    unsigned half_steps, clean_steps, sidesteps, shortened, blocked, lanes_done, lanes_skipped,
        lanes_partial;
    uint64_t half_ticks_sum;              /* for the mean half-step time */
    uint32_t begun_ticks;
    char pause_reason[32];
} mis_dyn;

/* Friction of a holding group's cups from the map, by position (the same
 * holder is asked about again and again while candidates are weighed). */
#define MIS_MU_CACHE 16u
#define MIS_FOOTHOLD_CACHE 4096u
typedef struct mis_mu_cache {
    unsigned next;
    unsigned lookahead_left; /* lookahead checks left in this decision */
    struct {
        int valid;
        hold_group g;
        double pos_mm[2];
        double mu[PARAMS_CUPS_PER_GROUP];
    } e[MIS_MU_CACHE];
    /* foothold verdicts by (group, position), direct-mapped: candidate
     * landings lie on a grid and recur across the lookahead */
    struct {
        int8_t state;  /* 0 empty, 1 ok, 2 not ok */
        int8_t g;
        double pos_mm[2];
    } fh[MIS_FOOTHOLD_CACHE];
} mis_mu_cache;

typedef struct mission {
    mis_config cfg;
    mis_mu_cache *mu_cache;  /* allocated by mis_init: written while planning */
    const params_robot *p;   /* caller's (ctl.params), outlives the mission */
    const facade *fac;       /* caller's, outlives the mission */
    double cup_off_mm[PARAMS_GROUPS][PARAMS_CUPS_PER_GROUP][2]; /* cup centres from their body's */
    uint8_t *plan_map;       /* cells the dry run swept (1 byte per facade cell) */
    uint8_t *live_map;       /* cells swept live (controller's estimate) */
    size_t ncells;
    size_t live_hits;        /* live-swept cells of the region that the plan has */
    size_t live_region;      /* live-swept cells of the region */
    int begun;
    mis_dyn d;
    mis_plan plan;
    uint32_t now_ticks;
    mis_event ev[MIS_EVENTS_MAX];
    unsigned ev_head, ev_n, ev_lost;
    int dry;                 /* planning on the map alone (no events, no sensors) */
    int fr_synced;           /* ctl knows the friction under both groups */
    fusion_gate *gate;       /* asked before each half-step (S5), or NULL; the caller's */
    /* The gate's camera (optional; the caller's, e.g. camc_frame behind it):
     * the view along heading_deg (0 +X, 90 +Y, 180 -X, 270 -Y: the travel
     * direction of the half-step) into *out, 0 or negative (a failure: the
     * camera counts as offline).  Asked before each fg_ask; it must return
     * within its own bound and must not allocate.  NULL: camera offline. */
    int (*camera_fn)(void *user, double heading_deg, feat_camera *out);
    void *camera_user;
    unsigned gate_stops;     /* STOP verdicts in a row for the half-step waiting */
    uint32_t gate_wait_until;/* ticks: a STOP waits before it asks again */
    fg_verdict last_verdict; /* the last verdict (console) */
    int has_verdict;
    char jog_reason[128];    /* why the last mis_jog() was refused ("" when it was not) */
} mission;

/**
 * mis_init: a mission for robot p (ctl.params) on facade fac with cfg
 * (checked: region inside the facade, start on it; message in err).
 * Allocates the coverage maps and the friction cache.  Returns 0, MIS_EARG, MIS_ERANGE or
 * MIS_ENOMEM.
 */
int mis_init(mission *m, const mis_config *cfg, const params_robot *p, const facade *fac, char *err,
             size_t errlen);

/** mis_free: release the coverage maps and the cache (the struct is the caller's). */
void mis_free(mission *m);

/**
 * mis_begin: the first status of the run: where the cylinders are (sensors,
 * end switches, else start_cyl_mm), the dry run, the MIS_EV_PLAN event.
 * Returns 0, MIS_ESTATE (begun already) or MIS_EARG.
 */
int mis_begin(mission *m, const cc_status *st, uint32_t now_ticks);

/**
 * mis_step: one cycle, after ctl_step()/ctl_cycle() on st.  Asks ctl for
 * the next half-step when the gait is idle and the controller RUNNING,
 * switches aux, tracks pause/stop/done.  Returns 0, MIS_EARG or MIS_ESTATE
 * (not begun).
 */
int mis_step(mission *m, ctl *c, const cc_status *st);

/** mis_pause / mis_resume / mis_stop: see above.  Return 0 or MIS_ESTATE. */
int mis_pause(mission *m, const char *reason);
int mis_resume(mission *m);
int mis_stop(mission *m);

/**
 * mis_jog: the operator's jog (SPEC §9): ONE half-step while the mission is
 * PAUSED (the controller RUNNING, the gait idle with both groups gripping,
 * no half-step in flight), moving a group's body by dir (+1 / -1) along
 * axis (0 X, 1 Y).  The mover of the axis (it carries the carriage) is
 * tried first, then the follower (its body moves the same way, the
 * carriage stays).  The length is cfg.jog_mm, shortened to what the
 * cylinder has left; without a position sensor on that cylinder it is the
 * rest of the stroke (a cylinder stops only at its ends).  The move is
 * checked exactly as a mission half-step (footholds with the landing
 * tolerance, the lifted path, the cylinder's range, the holding group's
 * predicted safety factor, the live edge and proximity sensors of st; the
 * perception gate when there is one, S5), then asked of the controller (ctl_half_to: the gait's and the supervisor's
 * checks S1-S4 apply) and tracked like any half-step: MIS_EV_STEP_BEGIN /
 * MIS_EV_STEP_END of kind MIS_MV_JOG, the pose from the status when it is
 * over, the checkpoint.  The mission stays PAUSED; mis_resume() goes on
 * from the new pose.  Returns 0, MIS_EARG (bad axis or dir), MIS_ESTATE
 * (not begun) or MIS_EJOG (refused: mis_jog_reason()).
 */
int mis_jog(mission *m, ctl *c, const cc_status *st, unsigned axis, int dir);

/** mis_jog_reason: why the last mis_jog() was refused ("" after an accepted one; never NULL). */
const char *mis_jog_reason(const mission *m);

/** mis_finished: 1 when DONE or STOPPED. */
int mis_finished(const mission *m);

/** mis_get_progress: where the mission stands. */
void mis_get_progress(const mission *m, mis_progress *out);

/**
 * mis_next_event: take the oldest event not yet taken into *ev.  Returns 1,
 * or 0 when there is none.  Events beyond MIS_EVENTS_MAX not taken in time
 * are counted in ev_lost.
 */
int mis_next_event(mission *m, mis_event *ev);

/** mis_checkpoint: the state to save (see mis_dyn). */
const mis_dyn *mis_checkpoint(const mission *m);

/**
 * mis_restore: continue from a checkpoint of the same region and start
 * (instead of mis_begin; the dry run is made again from the start).  st is
 * the first status.  Returns 0, MIS_ECKPT or MIS_EARG.
 */
int mis_restore(mission *m, const mis_dyn *cp, const cc_status *st, uint32_t now_ticks);

/* The checkpoint's fields by name, for a text form (runlog.h). */
typedef enum { MIS_F_DOUBLE = 0, MIS_F_INT, MIS_F_UINT, MIS_F_U16, MIS_F_U32, MIS_F_U64,
               MIS_F_FLOAT, MIS_F_STR, MIS_F_TYPE_COUNT } mis_field_type;
typedef struct mis_field {
    const char *name;
    mis_field_type type;
    size_t offset;   /* in mis_dyn */
    size_t size;     /* MIS_F_STR: buffer size */
} mis_field;

/** mis_checkpoint_fields: the table of mis_dyn's fields; *n receives its length. */
const mis_field *mis_checkpoint_fields(size_t *n);

/**
 * mis_cell_in_region: 1 when the centre of cell (col, row) lies in the
 * region and the cell is cleanable (not obstacle, not void).
 */
int mis_cell_in_region(const mission *m, uint32_t col, uint32_t row);

/**
 * mis_foothold_ok: would group g, its body centre at pos_mm, stand there
 * (the cup test above)?  *bad_share (may be NULL) receives the worst cup's
 * share of joint + mullion + obstacle + void.
 */
int mis_foothold_ok(const mission *m, hold_group g, const double pos_mm[2], double *bad_share);

/**
 * mis_predict_sf: predicted safety factor of holder alone in pose ps
 * (slip with twist, map friction, brush on when brush).
 */
double mis_predict_sf(const mission *m, const mis_pose *ps, hold_group holder, int brush);

#endif
