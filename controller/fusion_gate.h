/*
 * fusion_gate.h — the controller's use of the perception model (SPEC §6 S5,
 * §7): before each half-step the mission asks the gate; the verdict can only
 * make the robot more careful.
 *
 * The gate turns what the controller has — the status block of every cycle
 * (cup vacuum, proximity), the mission's pose (feet relative to the
 * carriage) and the direction of the coming half-step — into the snapshot the
 * model was trained on (perception/features.h; the dataset's conventions of
 * sim/episodes.c, docs/perception-data.md):
 *
 *   vacuum_kpa[12]        the status block's cups, kPa below atmosphere
 *   vacuum_rate_kpa_s[12] least-squares slope of each cup over the last
 *                         FG_HISTORY_S (1.0 s), one sample per FG_SAMPLE_MS
 *                         (100 ms) of PLC time (D104) — fixed ring, no heap
 *   foot_mm[4][2]         feet A1, A2, B1, B2 relative to the carriage, in
 *                         the travel frame: [0] to the right, [1] ahead
 *   holding[2]            both groups commanded to grip (the moment before
 *                         the release of the lifted group)
 *   proximity[4]          right, left, ahead, behind of the travel direction;
 *                         "no value" (0xFFFF) = no echo; implausible = dropout
 *   camera                the frame the caller hands to fg_ask/fg_snapshot
 *                         (the view along the travel direction; the mission
 *                         fetches it from its frame source, mission.h
 *                         camera_fn — the gate itself knows no network), one
 *                         token per 8x8 patch; NULL, offline (online=0, a
 *                         failed fetch) or a frame of bad geometry (not a
 *                         multiple of 8, too large, no pixels) -> offline:
 *                         zero camera tokens, as the model was trained for a
 *                         dead camera
 *
 * The verdict → action rule (fg_decide), never less careful than PROCEED.
 * The model rates ONE foothold per group: the footprint moved one full step
 * (FG_FULL_STEP_MM, the stroke) along the travel direction, as the training
 * data labels it (docs/perception-data.md).  Its grip risk therefore speaks
 * about the half-step the mission chose only when that step is the full
 * step within full_tol_mm; a step the mission already shortened (for a
 * mapped joint, an edge, a lane end) lands elsewhere, and the model says
 * nothing about it.  With p = path probabilities, r = grip risk of the
 * lifted group:
 *   arg max STOP with p[STOP] >= stop_act                    -> FG_STOP
 *   r >= risk_stop on the full step, or on any step when the
 *   arg max is STOP (no step is safe: a torn lip fails on any
 *   foothold; a mapped joint the mission already steps short
 *   of does not make its chosen step unsafe)                 -> FG_STOP
 *   full step and (r >= risk_act[lifted] or
 *                  1 - p[PROCEED] >= doubt_act)              -> a sidestep
 *        when the path head ranks one first, else FG_SHORTEN (a STOP
 *        costs a wait or a pause: only the stop thresholds stop)
 *   anything else                                            -> FG_PROCEED
 * The thresholds are chosen on validation data, never on the runs they are
 * judged by: `crossclimb fusion calibrate` picks each for a false-alarm
 * rate on held-out examples and writes them into the weights file's
 * metadata (FG_META_*); fg_open reads them from there.  A weights file
 * without them gets fg_config_default (a cautious model: act only on a
 * confident verdict).
 *
 * Memory: fg_open allocates the model and its workspace; fg_observe and
 * fg_ask allocate nothing (the control loop's rule).
 *
 * Errors: 0 or a negative FG_E* code (fg_strerror), model errors as
 * FG_EMODEL with the loader's message in err.
 */
#ifndef CROSSCLIMB_CONTROLLER_FUSION_GATE_H
#define CROSSCLIMB_CONTROLLER_FUSION_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "controller/holding.h"
#include "controller/params.h"
#include "perception/features.h"
#include "perception/fusion.h"
#include "plc_bridge/image.h"

enum {
    FG_OK = 0,
    FG_EARG = -1,   /* NULL pointer, bad axis/direction */
    FG_EMODEL = -2, /* the weights file could not be loaded (message in err) */
    FG_ENOMEM = -3, /* workspace allocation failed */
    FG_EINFER = -4, /* features or inference failed (non-finite reading, ...) */
};

/** fg_strerror: text of an FG_E* code (never NULL). */
const char *fg_strerror(int code);

typedef enum {
    FG_PROCEED = 0,
    FG_SHORTEN,
    FG_SIDESTEP_LEFT,
    FG_SIDESTEP_RIGHT,
    FG_STOP,
    FG_ACTION_COUNT
} fg_action;

/** fg_action_name: "proceed", "shorten", "sidestep-left", "sidestep-right", "stop" ("?"). */
const char *fg_action_name(fg_action a);

#define FG_SAMPLE_MS 100u /* vacuum history sample period, PLC ms */
#define FG_HISTORY_N 11u  /* samples: 1.0 s of history, as the training data */

#define FG_FULL_STEP_MM 300.0f /* the model's foothold: one full step (the dataset's step_mm) */

/* The thresholds' keys in the weights file's __metadata__ (decimal strings). */
#define FG_META_RISK_ACT_A "gate.risk_act_a"
#define FG_META_RISK_ACT_B "gate.risk_act_b"
#define FG_META_DOUBT_ACT "gate.doubt_act"
#define FG_META_STOP_ACT "gate.stop_act"
#define FG_META_RISK_STOP "gate.risk_stop"

typedef struct {
    float risk_act[HOLD_GROUP_COUNT]; /* grip risk (A, B) that shortens a full step (0.80) */
    float doubt_act;  /* 1 - P(PROCEED) that shortens a full step (0.80) */
    float stop_act;   /* P(STOP), the arg max, that stops (0.80) */
    float risk_stop;  /* grip risk that stops a full step (0.95) */
    float full_tol_mm; /* a chosen step within this of FG_FULL_STEP_MM is the full step (50: a cup radius) */
} fg_config;

/** fg_config_default: the thresholds above (a weights file without calibration). */
void fg_config_default(fg_config *cfg);

/**
 * fg_config_from_meta: the thresholds the weights file f carries (FG_META_*;
 * a key that is absent keeps *cfg's value).  Returns 0, or FG_EMODEL with
 * "name: key 'K' = 'V': ..." in err when a value is not a number in [0, 1].
 */
int fg_config_from_meta(const st_file *f, const char *name, fg_config *cfg, char *err, size_t errlen);

typedef struct {
    float grip_risk[HOLD_GROUP_COUNT];   /* next foothold of A, B does not seal and hold, 0..1 */
    float path_p[FUSION_PATH];           /* PROCEED, SHORTEN, LEFT, RIGHT, STOP */
    unsigned path;                       /* argmax of path_p */
    float share[FUSION_MODALITIES];      /* attention share: pressure, proximity, camera */
    unsigned n_tokens[FUSION_MODALITIES];
    fg_action action;                    /* fg_decide's */
} fg_verdict;

typedef struct fusion_gate {
    fusion_model model;
    fusion_workspace ws;
    feat_tokens tok;                      /* ~54 KiB, reused */
    fg_config cfg;
    float hist_kpa[FG_HISTORY_N][FEAT_CUPS]; /* ring of samples */
    uint32_t hist_ticks[FG_HISTORY_N];
    unsigned hist_n, hist_head;           /* samples held, next slot */
    int open;
    uint64_t asked, acted[FG_ACTION_COUNT];
} fusion_gate;

/**
 * fg_open: load the weights at path (features layout checked) and size the
 * workspace for every token the features can make.  Returns 0, FG_EARG,
 * FG_EMODEL (message in err) or FG_ENOMEM.  Release with fg_close.
 */
int fg_open(fusion_gate *g, const char *path, char *err, size_t errlen);

/** fg_close: release the model; NULL-safe; *g becomes closed. */
void fg_close(fusion_gate *g);

/**
 * fg_observe: every cycle: keeps one sample of the cups per FG_SAMPLE_MS of
 * PLC time (now_ticks, 10 ms each) for the rate.  No allocation.
 */
void fg_observe(fusion_gate *g, const cc_status *st, uint32_t now_ticks);

/**
 * fg_ask: the verdict before a half-step of group `lifted` along axis (0 X,
 * 1 Y) in direction dir (+1/-1) of step_mm (the lifted group's move, mm;
 * fg_decide's), with the feet at foot_mm (A1, A2, B1, B2,
 * facade frame, relative to the carriage, mm) and the camera's view along
 * that direction cam (NULL: camera offline; its pixels are only read during
 * the call).  Fills *v (action by fg_decide).  Returns 0, FG_EARG or
 * FG_EINFER.  No allocation.
 */
int fg_ask(fusion_gate *g, const cc_status *st, hold_group lifted, unsigned axis, int dir,
           float step_mm, const float foot_mm[4][2], const feat_camera *cam, fg_verdict *v);

/**
 * fg_snapshot: the perception snapshot fg_ask gives the model (see above)
 * for a half-step along axis in direction dir with the frame cam (NULL:
 * offline).  Returns 0 or FG_EARG.
 */
int fg_snapshot(const fusion_gate *g, const cc_status *st, unsigned axis, int dir,
                const float foot_mm[4][2], const feat_camera *cam, feat_snapshot *out);

/**
 * fg_decide: the action of verdict v for a half-step of step_mm (the
 * lifted group's move, mm) under cfg (the rule above).  Fails safe: NULL,
 * a bad group or NaN -> FG_STOP.
 */
fg_action fg_decide(const fg_config *cfg, const fg_verdict *v, hold_group lifted, float step_mm);

#endif
