/*
 * params.h — the controller's robot parameters (SPEC §2: every number is
 * configuration, not code).
 *
 * A plain struct the caller owns.  params_defaults() gives SPEC §2's default
 * robot; the geometry (feet, cup triangle, centre-of-mass height) follows the
 * simulator's default robot (sim/robots/default.ini) so that the holding
 * model of the controller and the physics of the simulator describe the same
 * machine.  params_from_robotcfg() fills it from the INI robot configuration
 * (robot/robotcfg.h); callers may change fields by hand and call
 * params_validate().
 *
 * Units are in the field names: _mm, _kpa, _kg, _n, _ticks (one PLC tick =
 * 10 ms, D104), _ms.  All timing of the controller is in PLC ticks, never
 * the laptop clock (SPEC §6).
 *
 * Facade frame: +X to the right, +Y up (gravity is -Y), Z out of the facade.
 * Cup i of the status block is group (i / 6), foot ((i % 6) / 3), corner
 * (i % 3) = a, b, c: A1a A1b A1c A2a A2b A2c B1a ... B2c.
 *
 * Errors: 0 or a negative PARAMS_E* code; params_strerror() gives the text.
 */
#ifndef CROSSCLIMB_PARAMS_H
#define CROSSCLIMB_PARAMS_H

#include <stddef.h>
#include <stdint.h>

enum {
    PARAMS_OK = 0,
    PARAMS_EARG = -1,   /* null argument */
    PARAMS_ERANGE = -2, /* a value outside its range */
    PARAMS_EORDER = -3, /* values inconsistent with each other (released >= sealed, ...) */
};

/** params_strerror: text for a PARAMS_E* code (never NULL). */
const char *params_strerror(int code);

#define PARAMS_GROUPS 2         /* A (on the X body), B (on the Y body) */
#define PARAMS_FEET 2           /* per group */
#define PARAMS_CUPS_PER_FOOT 3  /* equilateral triangle */
#define PARAMS_CUPS_PER_GROUP (PARAMS_FEET * PARAMS_CUPS_PER_FOOT)

typedef struct params_robot {
    /* cylinders (rodless, end positions sensed by reed switches) */
    float stroke_x_mm;           /* 300 */
    float stroke_y_mm;           /* 300 */
    float pos_tol_mm;            /* "there" with a position sensor: |pos - target| <= tol */
    float stall_progress_mm;     /* a moving cylinder must advance this much ... */
    uint32_t stall_ticks;        /* ... within this time (position sensors only) */

    /* cups and feet */
    float cup_diameter_mm;       /* 100 (area 7.854e-3 m^2) */
    float cup_tri_radius_mm;     /* cup centres on this circle around the foot centre */
    float cup_tri_angle_deg;     /* direction of cup a from the foot centre; b, c at +120, +240 */
    float foot_mm[PARAMS_GROUPS][PARAMS_FEET][2]; /* foot centre from the group's body centre, x y */

    /* vacuum, kPa below atmosphere */
    float vac_nominal_kpa;       /* 60 */
    float vac_sealed_kpa;        /* >= 45: a cup is sealed */
    float vac_released_kpa;      /* <= 10: a cup is released */
    float vac_plausible_max_kpa; /* a reading above this is a sensor fault (100: vacuum cannot exceed 1 atm) */
    float brush_reaction_n;      /* the brush pulls the robot off the facade while Y12 runs, N (20) */
    float vac_hyst_kpa;          /* GRIP -> SETTLE needs sealed + this (1.0: 3 sigma of the reading noise) */
    float leak_max_kpa_per_s;    /* settle: largest allowed drop of any cup's vacuum */

    /* load */
    float mass_kg;               /* 25 with a full 4 kg tank: the model uses the full mass */
    float body_a_kg;             /* 5: X cylinder body with the group A feet (part of mass_kg) */
    float body_b_kg;             /* 5: Y cylinder body with the group B feet (part of mass_kg);
                                    the rest (carriage, tank, water, brush) is at the carriage:
                                    the twist lever of the holding model */
    float tank_kg;               /* 4 (documentation of what mass_kg contains) */
    float com_height_mm;         /* centre of mass above the facade: the peel lever */
    float gravity_m_s2;          /* 9.81 */
    float mu_dry;                /* 0.5 dry glass */
    float mu_wet;                /* 0.25 wet glass */
    int assume_wet;              /* 1: always use mu_wet (a cleaning robot wets the facade) */
    float safety_factor_required;/* 2.0 against slip and against peel */

    /* step timeouts, PLC ticks (10 ms) */
    uint32_t verify_timeout_ticks;  /* holder not verified for the settle time */
    uint32_t release_timeout_ticks; /* cups not <= released with blow-off (nominal 0.5 s) */
    uint32_t lift_timeout_ticks;    /* legs-up switch (nominal 0.3-0.5 s) */
    uint32_t move_timeout_ticks;    /* cylinders at their targets (300 mm at 0.1 m/s = 3 s) */
    uint32_t lower_timeout_ticks;   /* legs-down switch */
    uint32_t grip_timeout_ticks;    /* every cup >= sealed (nominal 1 s) */
    uint32_t settle_ticks;          /* settle window: bounded leak rate over this time */
    uint32_t settle_timeout_ticks;  /* settle windows retried until this */
    uint32_t echo_timeout_ticks;    /* a command not echoed in D105 within this is a fault */

    /* recovery */
    unsigned reseat_max;         /* reseats (release, lift, lower, grip) before a shifted foothold */
    float shift_mm;              /* shifted foothold: offset along X (or Y if X has no room) */
    float shift_speed_mm_s;      /* without position sensors the shift is timed at this speed */

    /* link */
    uint16_t period_ms;          /* cycle period hint, D204 */
    unsigned link_fail_max;      /* failed cycles in a row before the link is a fault */
    unsigned tick_stall_cycles;  /* good exchanges in a row with the same D104 before the PLC
                                    counts as stopped (all timing stands still without it) */
} params_robot;

/** params_defaults: SPEC §2's default robot with the controller's default timeouts. */
void params_defaults(params_robot *p);

struct robotcfg;

/**
 * params_from_robotcfg: the robot described by a robot configuration
 * (robot/robotcfg.h, the INI file the simulator reads too): strokes, cup
 * geometry, vacuum thresholds, mass with a full tank, centre-of-mass
 * height, glass friction (the slipperiest surface a foot is put on),
 * required safety factor; the step timeouts of params_defaults(), the move
 * timeout raised to twice the slowest stroke when the cylinders are slower.
 * Then params_validate() (message in err).  Returns 0 or a PARAMS_E* code.
 */
int params_from_robotcfg(params_robot *p, const struct robotcfg *rc, char *err, size_t errlen);

/**
 * params_validate: check ranges and consistency.  On error err (may be NULL)
 * names the field ("vac_released_kpa 50 >= vac_sealed_kpa 45").  Returns 0 or
 * a PARAMS_E* code.
 */
int params_validate(const params_robot *p, char *err, size_t errlen);

/** params_cup_area_m2: area of one cup, pi d^2 / 4, m^2. */
double params_cup_area_m2(const params_robot *p);

/**
 * params_cup_xy_mm: position of cup (0..5 within its group) of group g
 * (0 = A, 1 = B) relative to the group's body centre, mm, facade frame.
 * Returns 0 or PARAMS_EARG.
 */
int params_cup_xy_mm(const params_robot *p, unsigned g, unsigned cup, double xy_mm[2]);

#endif
