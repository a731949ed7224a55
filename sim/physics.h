/*
 * physics.h — the robot on the facade: cross-frame kinematics, cylinders,
 * legs, per-cup vacuum, holding (slip, twist, peel, pull-off), water,
 * brush coverage.  docs/simulator.md derives every equation used here.
 *
 * SI units inside (m, s, kg, N, Pa) with the unit in every name; the facade
 * works in mm and is converted at the boundary.  Facade coordinates: x to
 * the right, y up, origin at the facade's bottom-left corner.
 *
 * The state is one caller-owned struct.  phys_init allocates the only heap
 * block (the cleaned-cell map, one byte per facade cell); phys_step never
 * allocates.  The physics is deterministic: no randomness and no clock
 * (noise, gusts and sensor models live in robotsim.c).
 *
 * Valves are the PLC outputs (CC_Y_* bits of plc_bridge/regmap.h); the
 * discrete sensors come back as CC_X_* bits (phys_inputs).
 *
 * Errors: 0 or a negative PHYS_E* code; phys_strerror() gives the text.
 */
#ifndef CROSSCLIMB_PHYSICS_H
#define CROSSCLIMB_PHYSICS_H

#include <stddef.h>
#include <stdint.h>

#include "../robot/facade.h"
#include "../robot/robotcfg.h"

enum {
    PHYS_OK = 0,
    PHYS_EARG = -1,   /* bad configuration, facade or start pose */
    PHYS_ENOMEM = -2, /* out of memory (the cleaned-cell map) */
};

/** phys_strerror: text for a PHYS_E* code (never NULL). */
const char *phys_strerror(int code);

#define PHYS_CUPS ROBOTCFG_CUPS
#define PHYS_CUPS_PER_GROUP 6
#define PHYS_SF_MAX 1000.0 /* "no load" margins are reported as this */
#define PHYS_G_M_S2 9.80665

typedef enum { PHYS_GROUP_A = 0, PHYS_GROUP_B, PHYS_GROUP_COUNT } phys_group;
typedef enum { PHYS_CYL_X = 0, PHYS_CYL_Y, PHYS_CYL_COUNT } phys_cyl;

typedef enum {
    PHYS_CYL_STOPPED = 0, /* valve centre (both solenoids off, or both on) or at the end */
    PHYS_CYL_MOVING,
    PHYS_CYL_CUSHION,     /* moving inside the end cushion, slowed */
    PHYS_CYL_STALLED,     /* commanded but not moving: see phys_stall */
    PHYS_CYL_STATE_COUNT
} phys_cyl_state;

typedef enum {
    PHYS_STALL_NONE = 0,
    PHYS_STALL_BOTH_GRIP, /* both groups on the facade: the frame is pinned at both ends */
    PHYS_STALL_FREE,      /* no group on the facade: nothing to push against */
    PHYS_STALL_OBSTACLE,  /* a lifted foot would run into an obstacle */
    PHYS_STALL_PRESSURE,  /* supply below supply_min */
    PHYS_STALL_FAULT,     /* injected fault (env.cyl_jammed) */
    PHYS_STALL_COUNT
} phys_stall;

typedef enum {
    PHYS_LEG_UP = 0,  /* retracted */
    PHYS_LEG_MOVING,
    PHYS_LEG_DOWN,    /* extended to the facade */
    PHYS_LEG_HELD,    /* told to lift but the cups' vacuum force is more than the leg can pull */
    PHYS_LEG_STATE_COUNT
} phys_leg_state;

typedef enum {
    PHYS_FALL_NONE = 0,
    PHYS_FALL_NO_CONTACT, /* no cup touches the facade */
    PHYS_FALL_PULL_OFF,   /* loads pulling off exceed the vacuum forces */
    PHYS_FALL_SLIP,       /* shear and twist beyond friction */
    PHYS_FALL_PEEL,       /* overturning moment beyond the cups' restoring moment */
    PHYS_FALL_COUNT
} phys_fall;

/* What the world does to the robot; the caller may change it between steps
 * (robotsim sets the gusty wind every step, fault scenarios the rest). */
typedef struct {
    double wind_m_s;     /* wind speed now (steady + gust), direction from the config */
    double supply_pa;    /* air supply pressure */
    double tether_n;     /* tether tension (a sensor reading; not a load in the model) */
    int estop_ok;        /* X12: 1 = E-stop circuit closed (healthy) */
    int enable_key;      /* X22 */
    int cyl_jammed[PHYS_CYL_COUNT];      /* fault: cylinder stalls */
    double cup_leak_per_s[PHYS_CUPS];    /* fault: extra leak per cup */
    uint16_t y_stuck_on;                 /* fault: these valves (CC_Y_* bits) stay energised
                                            whatever the PLC drives */
    uint16_t y_stuck_off;                /* fault: these valves stay off (wins over y_stuck_on) */
    int camera_blackout;                 /* fault: the camera (sim/camera.h) gives black frames
                                            and reports itself offline; the physics ignores it */
} phys_env;

/* The holding check of one moment: the margins and what they were made of. */
typedef struct {
    int n_contact;          /* cups touching the facade */
    double normal_n;        /* sum of cup vacuum forces F_i = dp_i * A */
    double pull_n;          /* loads pulling the robot off the facade (wind, brush) */
    double shear_n;         /* |in-plane load| (weight, wind) */
    double friction_n;      /* sum mu_i * N_i: what friction can hold */
    double torque_nm;       /* |twist| of the in-plane loads about the footprint centroid */
    double torque_cap_nm;   /* what friction can hold against twist */
    double peel_moment_nm;  /* overturning moment about the critical edge */
    double restore_nm;      /* restoring moment of the cups about that edge */
    double peel_axis[2];    /* outward normal of that edge (unit, in the facade plane) */
    double mass_kg;         /* robot mass now (with water) */
    double pull_margin;     /* normal_n / pull_n */
    double slip_margin;     /* 1 / (shear/friction + torque/torque_cap) */
    double peel_margin;     /* min(restoring / overturning over the edges, pull margin) */
    double factor;          /* min(slip, peel): the safety factor; < 1 is a FALL */
    phys_fall limit;        /* which check gave the factor */
} phys_holding;

/* Where and how the robot starts (phys_start_default fills it). */
typedef struct {
    double x_mm, y_mm;                /* carriage (centre of the cross), facade mm */
    double cyl_mm[PHYS_CYL_COUNT];    /* carriage position on each cylinder, 0..stroke */
    int legs_down[PHYS_GROUP_COUNT];  /* 1: group on the facade */
    double vac_kpa[PHYS_GROUP_COUNT]; /* initial vacuum of the touching cups of a group */
    double water_kg;
} phys_start;

/* The footprint geometry the holding check needs: it only changes when a
 * cup touches down or lifts off (a touching cup never moves), so the step
 * keeps it cached.  Support lines: the hull edges and the four axes. */
#define PHYS_LINES_MAX (PHYS_CUPS + 4)
typedef struct {
    int n;                                   /* touching cups */
    uint8_t idx[PHYS_CUPS];                  /* their cup indices */
    double pts_m[PHYS_CUPS][2];              /* their centres */
    double cen_m[2];                         /* centroid of the centres */
    double lever_m[PHYS_CUPS];               /* twist lever max(|p - cen|, D/3) */
    int nlines;
    double normal[PHYS_LINES_MAX][2];        /* outward unit normal of a support line */
    double cax_m[PHYS_LINES_MAX];            /* its offset: max p.n + R */
    double dist_m[PHYS_LINES_MAX][PHYS_CUPS];/* lever of each cup about it: cax - p.n */
} phys_geo;

typedef struct phys_state {
    const robotcfg *cfg;
    const facade *fac;
    uint64_t t_us;                       /* simulated time */
    uint16_t y;                          /* valve outputs Y0-Y17 (CC_Y_* bits) */
    phys_env env;

    /* frame: body centres (the X body carries A, the Y body carries B) */
    double body_m[PHYS_GROUP_COUNT][2];
    double cyl_pos_m[PHYS_CYL_COUNT];    /* carriage on each body, 0 = -end .. stroke = +end */
    double cyl_vel_m_s[PHYS_CYL_COUNT];  /* signed, along the cylinder */
    phys_cyl_state cyl_state[PHYS_CYL_COUNT];
    phys_stall cyl_stall[PHYS_CYL_COUNT];
    double cyl_travel_m[PHYS_CYL_COUNT]; /* total distance travelled */

    /* legs: one valve and extension per group; 0 = up .. leg_stroke = down */
    double leg_ext_m[PHYS_GROUP_COUNT];
    phys_leg_state leg_state[PHYS_GROUP_COUNT];
    int grips[PHYS_GROUP_COUNT];         /* legs down and at least one cup touching */

    /* cups, index = group*6 + foot*3 + k */
    double cup_off_m[PHYS_CUPS][2];      /* from the body centre (from the config) */
    uint8_t cup_touch[PHYS_CUPS];        /* on the facade (legs down, enough wall under it) */
    double cup_leak_per_s[PHYS_CUPS];    /* from the surface under it, at touch-down */
    double cup_mu_dry[PHYS_CUPS], cup_mu_wet[PHYS_CUPS];
    double vac_pa[PHYS_CUPS];            /* true vacuum, Pa below atmosphere */
    double force_n[PHYS_CUPS];           /* vac_pa * area while touching */
    double manifold_pa[PHYS_GROUP_COUNT];/* group manifold (behind the check valves) */
    int vac_switch[PHYS_GROUP_COUNT];    /* X10/X11 with hysteresis */
    double cup_area_m2;

    /* water, wetness */
    double water_kg;
    double wet_left_s;                   /* > 0: the facade is wet */

    /* holding */
    phys_holding hold;                   /* of the last step */
    double sf_min;                       /* minimum safety factor so far */
    uint64_t sf_min_t_us;
    int fallen;
    phys_fall fall;
    uint64_t fall_t_us;
    char fall_reason[192];

    /* caches (derived, not state): footprint geometry, per-cup exp(-b dt),
     * wind direction */
    int geo_valid;
    phys_geo geo;
    double exp_b[PHYS_CUPS], exp_dt_s[PHYS_CUPS], exp_val[PHYS_CUPS];
    double wind_dir[2];

    /* cleaning: one byte per facade cell (row 0 = bottom), 1 = cleaned */
    uint8_t *cleaned;
    size_t cleaned_n, cleanable_n;
    double brush_last_m[2];
    int brush_marked;
    double carriage_prev_m[2];
} phys_state;

/** phys_start_default: the facade's start point (or its centre), cylinders
 *  at mid stroke, both groups down at nominal vacuum, the configured water. */
void phys_start_default(phys_start *st, const robotcfg *cfg, const facade *fac);

/**
 * phys_init: the robot placed at start (NULL = phys_start_default) on fac.
 * cfg and fac must outlive the state.  Returns 0, PHYS_EARG (message in
 * err: start outside the strokes, bad step) or PHYS_ENOMEM.
 */
int phys_init(phys_state *ps, const robotcfg *cfg, const facade *fac, const phys_start *start,
              char *err, size_t errlen);

/** phys_free: release the cleaned-cell map (the struct is the caller's). */
void phys_free(phys_state *ps);

/** phys_set_outputs: the valve image Y0-Y17 (CC_Y_* bits) from now on. */
void phys_set_outputs(phys_state *ps, uint16_t y);

/**
 * phys_valves: the valves as they actually are: the PLC's image ps->y with
 * the stuck-valve faults applied, (y | env.y_stuck_on) & ~env.y_stuck_off.
 * Every part of the step reads this, never ps->y, so a stuck valve ignores
 * what the PLC drives.
 */
uint16_t phys_valves(const phys_state *ps);

/**
 * phys_step: advance by dt_us (1..cfg->step_us; larger values are split).
 * After a fall only the clock moves.  No heap.
 */
void phys_step(phys_state *ps, uint32_t dt_us);

/** phys_advance_to: step (cfg->step_us, last step shorter) until t_us. */
void phys_advance_to(phys_state *ps, uint64_t t_us);

/**
 * phys_evaluate: the holding check of the state as it is (pure; phys_step
 * runs it every step into ps->hold).
 */
void phys_evaluate(const phys_state *ps, phys_holding *out);

/** phys_inputs: the discrete sensors as CC_X_* bits (X0-X22), true values. */
uint32_t phys_inputs(const phys_state *ps);

/** phys_carriage_m: centre of the cross on the facade, m. */
void phys_carriage_m(const phys_state *ps, double xy[2]);

/** phys_cup_m: centre of cup i on the facade, m. */
void phys_cup_m(const phys_state *ps, int i, double xy[2]);

/** phys_prox_m: distance from the carriage along dir to an obstacle or edge, m; -1 none within max_m. */
double phys_prox_m(const phys_state *ps, facade_dir dir, double max_m);

/** phys_mass_kg: total mass now (dry + water). */
double phys_mass_kg(const phys_state *ps);

/** phys_wind_force_n: drag of the wind now, 0.5 rho v^2 cd A, N. */
double phys_wind_force_n(const phys_state *ps);

/** Names for logs: "slip", "moving", "both_grip", "held", ... */
const char *phys_fall_name(phys_fall f);
const char *phys_cyl_state_name(phys_cyl_state s);
const char *phys_stall_name(phys_stall s);
const char *phys_leg_state_name(phys_leg_state s);

#endif
