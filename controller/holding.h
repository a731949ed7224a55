/*
 * holding.h — the holding model: how safely one foot group holds the robot
 * on the facade (SPEC §2, §6 S1/S2).
 *
 * Model (SI inside, units in every name):
 *
 *   per cup      F_i  [N]   = dp_i [Pa] * A [m^2]          A = pi d^2 / 4 = 7.854e-3 m^2 at 100 mm
 *                dp_i = cup reading D110+i in kPa * 1000 (vacuum below atmosphere)
 *   group        N    [N]   = sum_i F_i - P                P: loads pulling the robot off
 *                                                          the facade (wind suction, brush reaction)
 *   shear        S    [N]   = m [kg] * g [m/s^2] + S_x     weight along the facade (-Y; the facade
 *                                                          is vertical, +Y up) plus other in-plane
 *                                                          loads S_x (wind drag, brush)
 *   twist        T    [N m]  = |dx| [m] * S [N]            dx: sideways (X) offset of the centre of
 *                                                          mass from the group's cup centroid c;
 *                                                          the shear S acts at the centre of mass
 *   twist lever  r_i  [m]   = max(|p_i - c|, d/3)          a disc's own friction radius is 2R/3
 *   per-cup      N_i  [N]   = max(F_i - P/6, 0)
 *   slip margin  slip       = 1 / (S / (mu sum N_i) + T / (mu sum N_i r_i))
 *                                                          friction shared linearly by the shear
 *                                                          and the twist, as the simulator's check
 *                                                          (docs/simulator.md); T = 0 gives
 *                                                          mu * N / S
 *   peel margin  peel       = M_r / M_o about the footprint's lower edge:
 *                M_r [N m]  = sum_i F_i * l_i               l_i = y_i - y_e [m]: lever of cup i
 *                                                          above the edge y_e = min_i y_i - d/2
 *                                                          (the lower rim of the lowest cups)
 *                M_o [N m]  = m g h + P * l_c               h: centre of mass above the facade;
 *                                                          the weight, parallel to the facade at
 *                                                          height h, tips the robot's top away
 *                                                          about the lower edge whatever the
 *                                                          centre's height on the facade (moment
 *                                                          of (0,-mg,0) at (x,y,h) about the X axis
 *                                                          = m g h); P acts at the group centre,
 *                                                          l_c = 0 - y_e above the edge
 *   safety factor SF        = min(slip, peel)               required >= 2.0 (SPEC §2)
 *
 * Lever arms with the default geometry (cup a straight up on an 80 mm
 * circle, b and c 40 mm below the foot centre, cup radius 50 mm):
 *   group A (feet at y = 0):     y_e = -90 mm;  l = 170, 50, 50 mm per foot
 *   group B (feet at y = -400, +400): y_e = -490 mm; lower foot 170, 50, 50,
 *                                 upper foot 970, 850, 850 mm
 * Hand check (tests/check_holding.c): 6 cups x 60 kPa x 7.854e-3 m^2 =
 * 2827 N; mu 0.5 -> 1414 N against 25 kg x 9.81 = 245 N: slip 5.76.
 *
 * Twist arm (hold_twist_arm_mm).  The centre of mass: bodies A and B
 * (body_a_kg, body_b_kg) at their centres, the rest m_r = m - m_A - m_B at
 * the carriage.  With the carriage as origin, body A sits at
 * x = S_x/2 - s_x (s_x: X cylinder position, 0..S_x) and body B at x = 0, so
 *   x_cog = m_A (S_x/2 - s_x) / m,   dx = x_cog - (x_body + x_c)
 * where x_c is the mean x of the group's cup offsets (0 for the default
 * robot).  Default robot: A holding dx = (1 - m_A/m)(s_x - S_x/2), up to
 * 120 mm at a stroke end; B holding dx = (m_A/m)(S_x/2 - s_x), up to 30 mm.
 * The mean lever r_i of either group is 404 mm: at 120 mm the twist costs A
 * a factor 1 / (1 + 0.120/0.404) = 0.771 of its slip margin.
 * s_x is known as: the position sensor (pos_valid[0]) pos_mm[0] +/- pos_tol_mm;
 * without it the end switches X0 (s_x = 0) or X1 (s_x = S_x), +/- pos_tol_mm;
 * otherwise unknown: the worst |dx| over 0..S_x.  The largest |dx| over
 * that interval is used (conservative).
 *
 * Friction rule (the supervisor and the gait have no map of the facade):
 * mu is the params' mu_dry / mu_wet, which params_from_robotcfg takes from
 * glass, the slipperiest surface a verified cup can stand on: joint and
 * mullion leak too much (5 /s) for a cup over them to hold "sealed", and
 * verification needs every cup >= vac_sealed_kpa.  The mission predicts
 * footholds with the facade's own mu per cup (controller/mission.c).
 *
 * "Verified" (S1, S2, S3) is one definition used by the gait and the
 * supervisor alike: every cup of the group >= sealed, its vacuum switch on,
 * its legs-down switch on and legs-up switch off, and SF >= required with
 * the load of hold_load_for_group() (twist included).
 *
 * Errors: 0 or a negative HOLD_E* code; hold_strerror() gives the text.
 */
#ifndef CROSSCLIMB_HOLDING_H
#define CROSSCLIMB_HOLDING_H

#include <stdint.h>

#include "controller/params.h"
#include "plc_bridge/image.h"

enum {
    HOLD_OK = 0,
    HOLD_EARG = -1,    /* null argument or bad group */
    HOLD_ESENSOR = -2, /* a cup reading outside 0..vac_plausible_max_kpa (or NaN) */
};

/** hold_strerror: text for a HOLD_E* code (never NULL). */
const char *hold_strerror(int code);

typedef enum { HOLD_GROUP_A = 0, HOLD_GROUP_B, HOLD_GROUP_COUNT } hold_group;

/** hold_group_name: "A", "B" ("?" out of range). */
const char *hold_group_name(hold_group g);

/** hold_other: the other group. */
hold_group hold_other(hold_group g);

/* The PLC I/O of one group (regmap.h bits) and where its cups start in the
 * status block's cup array. */
typedef struct {
    uint16_t y_down, y_vac, y_blow; /* CC_Y_*: legs down, vacuum on, blow-off */
    uint32_t x_up, x_down, x_vac_ok;/* CC_X_*: legs-up switch, legs-down switch, vacuum switch */
    unsigned cup_first;             /* 0 for A, 6 for B */
} hold_group_io;

/** hold_io: the I/O of group g (g must be valid). */
const hold_group_io *hold_io(hold_group g);

#define HOLD_MARGIN_MAX 1000.0f /* a margin with no load is reported as this */

typedef struct {
    float mass_kg;       /* robot mass with its water, kg */
    float mu;            /* friction coefficient cup-surface */
    float pull_n;        /* P: loads pulling the robot off the facade, N (>= 0) */
    float shear_extra_n; /* S_x: in-plane loads besides the weight, N (>= 0) */
    const float *cup_mu; /* per-cup friction [6] of this foothold (map), or NULL: mu for all */
    float twist_arm_mm;  /* |dx|: sideways offset of the centre of mass from the group's
                            cup centroid, mm (>= 0; 0: no twist) */
} hold_load;

typedef struct {
    float cup_force_n[PARAMS_CUPS_PER_GROUP]; /* F_i */
    float cup_lever_mm[PARAMS_CUPS_PER_GROUP];/* l_i */
    float normal_n;      /* sum F_i */
    float net_normal_n;  /* N = sum F_i - P */
    float friction_n;    /* mu * N */
    float shear_n;       /* S */
    float twist_nm;      /* T = |dx| * S */
    float twist_cap_nm;  /* mu * sum N_i r_i */
    float slip_margin;
    float restore_nm;    /* M_r */
    float overturn_nm;   /* M_o */
    float peel_margin;
    float safety_factor; /* min(slip, peel) */
    float min_cup_kpa;   /* the weakest cup */
} hold_result;

/**
 * hold_eval: the holding of group g whose six cups read cup_kpa[0..5] (kPa
 * below atmosphere) under load.  On HOLD_ESENSOR the result is filled as far
 * as possible but its safety factor is 0: an implausible reading is never
 * trusted.  Returns 0 or a HOLD_E* code.
 */
int hold_eval(const params_robot *p, hold_group g, const float cup_kpa[PARAMS_CUPS_PER_GROUP],
              const hold_load *load, hold_result *r);

/**
 * hold_load_for: the load the controller assumes now: the full mass (no
 * water-level sensor: the tank is counted full), mu_wet when assume_wet or
 * when the spray pump is driven (Y13 in D103), else mu_dry; the brush
 * reaction (brush_reaction_n) as pull while the brush motor is driven (Y12
 * in D103); no twist (twist_arm_mm 0: hold_load_for_group adds it).  No
 * wind: the robot has no wind sensor and the tether carries no load (its
 * tension says nothing of the wind); the required factor of 2 is the
 * margin for it.
 */
void hold_load_for(const params_robot *p, const cc_status *st, hold_load *load);

/**
 * hold_twist_arm_mm: the twist arm |dx| in mm (>= 0) for group g holding
 * alone, from the X cylinder's position as st knows it (see "Twist arm"
 * above; st NULL: unknown, the worst case).
 */
float hold_twist_arm_mm(const params_robot *p, const cc_status *st, hold_group g);

/** hold_load_for_group: hold_load_for() plus the twist arm of group g. */
void hold_load_for_group(const params_robot *p, const cc_status *st, hold_group g, hold_load *load);

/**
 * hold_group_verified: 1 when group g is verified in st (see above), else 0.
 * r (may be NULL) receives the holding evaluation.
 */
int hold_group_verified(const params_robot *p, const cc_status *st, hold_group g, hold_result *r);

/*
 * The friction under each group's cups where it stands now, from the facade
 * map (the mission knows the footholds; wet values, dirt included): the S2
 * check then uses the same friction as the mission's prediction and the
 * physics — a mullion (0.2 wet) or grime is weaker than the glass value
 * (mu_wet) the check would otherwise assume for every cup.
 */
typedef struct {
    float mu[HOLD_GROUP_COUNT][PARAMS_CUPS_PER_GROUP];
    uint8_t known[HOLD_GROUP_COUNT]; /* 0: use the load's uniform mu */
} hold_friction;

/** hold_friction_clear: nothing known (uniform mu for both groups). */
void hold_friction_clear(hold_friction *fr);

/**
 * hold_friction_set: the friction of group g's six cups (0..2 each), or
 * mu NULL to forget it.  Returns 0 or HOLD_EARG (bad group or value).
 */
int hold_friction_set(hold_friction *fr, hold_group g, const float mu[PARAMS_CUPS_PER_GROUP]);

/**
 * hold_group_verified_fr: hold_group_verified with the per-cup friction of
 * fr for the groups it knows (fr may be NULL).
 */
int hold_group_verified_fr(const params_robot *p, const hold_friction *fr, const cc_status *st,
                           hold_group g, hold_result *r);

/** hold_group_grips: the PLC's own notion (interlocks L1-L4): vacuum switch and legs-down switch. */
int hold_group_grips(const cc_status *st, hold_group g);

#endif
