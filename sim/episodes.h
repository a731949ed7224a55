/*
 * episodes.h — labelled situations from the physics, for training and
 * evaluating the perception model (SPEC §7; docs/perception-data.md).
 *
 * The simulator side of `crossclimb fusion dataset`: it places the robot on
 * a facade at a sampled pose and gait phase, injects faults, runs the
 * physics and the sensor models for the last seconds before a decision
 * (so vacuum rates are real), renders the camera view ahead, and labels the
 * situation from the physics — never from the readings:
 *
 *   hold[g]  1 when group g's next foothold (its footprint moved one full
 *            step ahead) seals and holds: put down there, the vacuum built
 *            up with the physics reaches "sealed" on every cup within the
 *            grip timeout, a settle window passes with a bounded leak rate,
 *            and the group alone then holds the robot with the required
 *            safety factor (ep_grip_check);
 *   path     PROCEED when the full step is safe (both groups' moves clear of
 *            obstacles and both new footholds seal and hold), SHORTEN when
 *            only the short step is, SIDESTEP_LEFT / _RIGHT when ahead is
 *            unsafe and a lateral step to that side is safe (left first),
 *            STOP when nothing is (ep_step_safe).
 *
 * Everything is in plain numbers: this module knows nothing of the
 * perception code (SPEC §3: sim/ never includes perception/); the CLI turns
 * an ep_example into a perception snapshot.  Readings are given in the
 * TRAVEL FRAME the perception features use: "ahead" is the travel
 * direction, "right" is ahead turned -90 degrees (as the camera sees it),
 * so the proximity slots are right, left, ahead, behind (the features'
 * +X, -X, +Y, -Y) and foot positions are (right, ahead) offsets from the
 * carriage.
 *
 * Deterministic: every random choice comes from robotsim_rng streams
 * seeded from the caller's 64-bit seed; the physics has no randomness.  The
 * same world, configuration and seed give the same example, byte for byte.
 *
 * Errors: 0 or a negative EP_E* code; ep_strerror() gives the text and the
 * caller's buffer the details.
 */
#ifndef CROSSCLIMB_EPISODES_H
#define CROSSCLIMB_EPISODES_H

#include <stddef.h>
#include <stdint.h>

#include "../robot/facade.h"
#include "../robot/robotcfg.h"
#include "camera.h"
#include "physics.h"

enum {
    EP_OK = 0,
    EP_EARG = -1,    /* bad argument or configuration */
    EP_ENOMEM = -2,  /* out of memory */
    EP_EPHYS = -3,   /* the physics or the camera refused a setup (message in err) */
    EP_EREJECT = -4, /* no acceptable situation found within the retries */
};

/** ep_strerror: text for an EP_E* code (never NULL). */
const char *ep_strerror(int code);

#define EP_CUPS PHYS_CUPS
#define EP_FEET 4
#define EP_CAM_W 64 /* camera frame of an example (the perception default) */
#define EP_CAM_H 48

/* Path classes, in the perception model's order (fusion.h). */
enum {
    EP_PATH_PROCEED = 0,
    EP_PATH_SHORTEN,
    EP_PATH_SIDESTEP_LEFT,
    EP_PATH_SIDESTEP_RIGHT,
    EP_PATH_STOP,
    EP_PATH_COUNT
};

/* Travel-frame proximity slots (the features' +X, -X, +Y, -Y order). */
enum { EP_SLOT_RIGHT = 0, EP_SLOT_LEFT, EP_SLOT_AHEAD, EP_SLOT_BEHIND, EP_SLOTS };

/* Candidate steps, in the order the path label tries them. */
enum { EP_STEP_FULL = 0, EP_STEP_SHORT, EP_STEP_LEFT, EP_STEP_RIGHT, EP_STEPS };

/* Gait phase of the snapshot. */
typedef enum {
    EP_PHASE_SETTLED = 0, /* both groups down; the leading group landed t_since_land_s ago
                             (its vacuum may still be rising); the trailing group is next */
    EP_PHASE_RELEASING,   /* the trailing group's blow-off has started: its vacuum falls
                             and it no longer holds (holding = 0) */
    EP_PHASE_COUNT
} ep_phase;

/** ep_phase_name: "settled", "releasing" ("?" out of range). */
const char *ep_phase_name(ep_phase p);

/* Faults of one situation (none: ep_faults_none).  A leak is the fault
 * file's cup_leak (docs/faults-format.md): rate_kpa_s is the vacuum lost
 * per second at the nominal vacuum with the ejector off, so the physics
 * gets k = rate / nominal_kpa per second; here it may grow linearly in
 * time (a lip tearing), rate(t) = leak_kpa_s + leak_growth_kpa_s2 * t, t
 * the episode time (0 = the start of the snapshot's simulation). */
typedef struct {
    int leak_cup;              /* 0..11, -1 none */
    double leak_kpa_s;         /* at episode time 0 */
    double leak_growth_kpa_s2; /* >= 0 */
    int offset_cup;            /* transducer offset: 0..11, -1 none */
    double offset_kpa;
    int stuck_cup;             /* transducer stuck: 0..11, -1 none */
    double stuck_kpa;
    int prox_offset_slot;      /* proximity offset: EP_SLOT_*, -1 none */
    double prox_offset_mm;
    uint8_t prox_dropout;      /* bit per EP_SLOT_*: the sensor is declared broken (no token) */
    int camera_blackout;       /* 1: black frames, camera offline */
    double supply_kpa;         /* supply pressure; 0 = the configured supply */
} ep_faults;

/** ep_faults_none: no fault at all. */
void ep_faults_none(ep_faults *f);

/** ep_faults_count: how many faults f holds (each dropped sensor counts once). */
int ep_faults_count(const ep_faults *f);

/** ep_leak_kpa_s: the leak rate of the faulted cup at episode time t_s (0 without a leak). */
double ep_leak_kpa_s(const ep_faults *f, double t_s);

/* Settings of the generator (ep_config_default; docs/perception-data.md). */
typedef struct {
    double step_mm;            /* full step along the travel direction, 300 (the stroke) */
    double short_mm;           /* shortened step, 150 */
    double side_mm;            /* sidestep, 300 */
    double grip_timeout_s;     /* every cup >= sealed within this after touch-down, 3 */
    double settle_s;           /* settle window, 0.5 */
    double settle_timeout_s;   /* windows tried until this after sealing, 3 */
    double leak_max_kpa_s;     /* largest drop from the peak per second of window, 2 */
    double required_factor;    /* the group alone must hold with this; 0 = the robot's */
    double land_delay_s[2];    /* the trailing / leading group lands this long after the
                                  snapshot (one half-step / two), 4 and 8 */
    double history_s;          /* vacuum history before the snapshot, 1 */
    double sample_s;           /* its sampling period, 0.1 */
    double since_land_s[2];    /* settled phase: time since the leading group's touch-down, 0.5..4 */
    double release_s[2];       /* releasing phase: time since blow-off started, 0.1..0.5 */
    double release_share;      /* share of releasing snapshots, 0.25 */
    double faults_rate;        /* probability that a situation has faults, 0.3 */
    double cup_leak_max;       /* plausible current foothold: surface leak of every cup, 1/s, 0.5 */
    double edge_margin_mm;     /* carriage kept this far inside the grid, 700 */
    double seq_step_s;         /* time between the steps of a sequence, 1 */
    double seq_growth_kpa_s2[2]; /* a sequence's leak grows this much per second, 0.5..3 */
    unsigned max_tries;        /* poses tried before EP_EREJECT, 4000 */
    unsigned tries_per_facade; /* poses tried on one facade before another is drawn, 100 */
} ep_config;

/** ep_config_default: the settings above. */
void ep_config_default(ep_config *c);

/* What the generator works on: the robot, the facades to sample from, the
 * settings and the camera.  All borrowed; they must outlive every call. */
typedef struct {
    const robotcfg *robot;
    const facade *const *facades;
    size_t n_facades;
    ep_config cfg;
    cam_config cam; /* width/height must be EP_CAM_W x EP_CAM_H */
} ep_world;

/**
 * ep_world_init: a world for ROBOT and the N facades with the default
 * settings and camera.  Returns 0 or EP_EARG (NULL, no facade).
 */
int ep_world_init(ep_world *w, const robotcfg *robot, const facade *const *facades, size_t n);

/* The result of putting one group down on one foothold (ep_grip_check). */
typedef struct {
    int ok;              /* 1: sealed, settled and holds */
    int touching;        /* cups of the group that touch the facade (6 = all) */
    int sealed;          /* every cup reached sealed within the grip timeout */
    int settled;         /* a settle window passed */
    double t_seal_s;     /* touch-down to sealed (when sealed) */
    double vac_min_kpa;  /* the lowest cup's true vacuum at the end */
    double factor;       /* safety factor of the group alone at the end (0 when not sealed) */
    const char *why;     /* "ok", "no contact", "no seal", "leak in settle", "weak hold" */
} ep_grip;

/**
 * ep_grip_check: put GROUP's footprint down with its body centre at
 * BODY_MM (facade mm) on F and run the physics: legs down, ejector on,
 * vacuum build-up with the cups' surfaces and the faults' leak and supply
 * (their time is T_LAND_S plus the time since touch-down), then settle
 * windows, then the holding check of the group alone.  The other group is
 * held ideal (sealed, not leaking) during the check, so that only this
 * foothold decides.  Returns 0 (result in *OUT) or EP_EPHYS.
 */
int ep_grip_check(const ep_world *w, const facade *f, int group, const double body_mm[2],
                  const ep_faults *flt, double t_land_s, ep_grip *out, char *err, size_t errlen);

/**
 * ep_sweep_clear: 1 when GROUP's cups, lifted, can travel in a straight line
 * from their places with the body at BODY_MM to BODY_MM + D_MM without
 * touching an obstacle (the physics stalls a cylinder that would), else 0.
 * Checked every 5 mm of travel with the exact circle/cell test.
 */
int ep_sweep_clear(const ep_world *w, const facade *f, int group, const double body_mm[2],
                   const double d_mm[2]);

/* A situation: where the robot is, what it does, what is wrong. */
typedef struct {
    unsigned facade;          /* index into the world's facades */
    facade_dir heading;       /* travel direction */
    int first_group;          /* the trailing group, which moves next (0 A, 1 B) */
    ep_phase phase;
    double carriage_mm[2];    /* facade mm */
    double cyl_mm[2];         /* X, Y carriage positions on their bodies */
    double t_since_land_s;    /* settled: since the leading group's touch-down */
    double t_release_s;       /* releasing: since the blow-off started */
    double t0_s;              /* episode time of the simulation's start (sequences) */
    ep_faults faults;
    uint64_t seed;            /* sensors, camera light and noise */
} ep_situation;

/* One labelled example: the situation, the readings, the ground truth. */
typedef struct {
    ep_situation sit;
    /* readings, as the controller would have them (travel frame) */
    float vacuum_kpa[EP_CUPS];        /* last reading, A1a..B2c */
    float vacuum_rate_kpa_s[EP_CUPS]; /* least-squares slope of the history */
    float foot_mm[EP_FEET][2];        /* (right, ahead) of feet A1 A2 B1 B2 from the carriage */
    uint8_t holding[2];               /* group commanded to grip */
    float prox_mm[EP_SLOTS];          /* right, left, ahead, behind; 2000 when no echo */
    uint8_t prox_no_echo[EP_SLOTS];
    uint8_t prox_dropout[EP_SLOTS];
    uint8_t camera_online;
    uint8_t pixels[EP_CAM_W * EP_CAM_H]; /* row 0 = far edge; zeros when offline */
    /* ground truth */
    uint8_t hold[2];                  /* next foothold of group A / B seals and holds */
    uint8_t path;                     /* EP_PATH_* */
    ep_grip grip[2];                  /* the full step's footholds, group A / B */
    int8_t safe[EP_STEPS];            /* candidate steps: 1 safe, 0 not, -1 not evaluated */
    double body_mm[2][2];             /* group bodies at the snapshot, facade mm */
    double t_snap_s;                  /* episode time of the snapshot (t0_s + simulated) */
} ep_example;

/**
 * ep_label: the ground truth of EX->sit (hold, path, grip, safe) from the
 * physics, with the bodies at EX->body_mm (ep_observe fills them).
 * Returns 0 or EP_EPHYS.
 */
int ep_label(const ep_world *w, ep_example *ex, char *err, size_t errlen);

/**
 * ep_observe: run the situation EX->sit on the physics with the sensor
 * models (the trailing group holding, the leading group landing, the
 * history, the release) and fill the readings and body_mm of *EX.
 * Returns 0, EP_EPHYS, or EP_EREJECT when the robot falls during it.
 */
int ep_observe(const ep_world *w, ep_example *ex, char *err, size_t errlen);

/**
 * ep_example_make: one labelled example from SEED: a facade, a plausible
 * pose (every current cup touches, its surface leaks at most cup_leak_max),
 * a heading, a phase and faults (with probability faults_rate), observed
 * and labelled.  Situations the robot falls in are redrawn.  *TRIES (may
 * be NULL) gets the poses tried.  Returns 0, EP_EREJECT, EP_EPHYS.
 */
int ep_example_make(const ep_world *w, uint64_t seed, ep_example *ex, unsigned *tries, char *err,
                    size_t errlen);

/* How a sequence of a degrading cup went (ep_sequence_make). */
typedef struct {
    int group;       /* the group of the degrading cup */
    int cup;         /* the cup */
    int loss_step;   /* first step from which hold[group] stays 0; -1 never */
    double r0_kpa_s, growth_kpa_s2;
} ep_sequence_info;

/**
 * ep_sequence_make: K consecutive decision points (seq_step_s apart) of
 * one robot whose cup leaks more and more (a tearing lip), on a
 * pose where every next foothold is good: the only thing that changes is
 * the leak, so hold[group] goes from 1 to 0 at loss_step.  The growth is
 * drawn so that the seal is lost inside the sequence.  EX has K entries.
 * Returns 0, EP_EREJECT, EP_EPHYS.
 */
int ep_sequence_make(const ep_world *w, uint64_t seed, size_t k, ep_example *ex,
                     ep_sequence_info *info, char *err, size_t errlen);

/**
 * ep_facade_generate: a random facade from SEED (text in the facade
 * format, loaded strictly): a glass curtain wall, a tiled wall, concrete
 * panels with windows, or a mix; with dirt, obstacles and, sometimes, an
 * edge or an opening.  5-9 m by 4-8 m.  *OUT is the caller's (facade_free).
 * Returns 0 or EP_ENOMEM / EP_EPHYS (the loader refused it: a bug).
 */
int ep_facade_generate(uint64_t seed, facade **out, char *err, size_t errlen);

/** ep_travel_vectors: unit ahead and right vectors of a heading (facade frame). */
void ep_travel_vectors(facade_dir heading, double ahead[2], double right[2]);

/** ep_slot_dir: the facade direction of travel-frame slot SLOT for HEADING. */
facade_dir ep_slot_dir(facade_dir heading, int slot);

/** ep_mix_seed: a well-mixed 64-bit seed for item INDEX of a run seeded SEED. */
uint64_t ep_mix_seed(uint64_t seed, uint64_t index);

#endif
