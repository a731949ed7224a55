/*
 * truthlog.h — the simulator's ground-truth log: JSON Lines (json-c) that
 * the controller never sees and that tests and evaluation judge a run by.
 *
 * One object per line, "type" first:
 *   start  facade, grid, seed, step, robot mass
 *   state  t_us, pose (bodies, carriage, cylinders, legs), valve image,
 *          per cup: touching, true vacuum (kPa) and force (N), manifolds,
 *          the safety factor with its slip and peel margins and which one
 *          limits, the minimum so far, water, wetness, wind, cleaned-cell
 *          count and the cells cleaned since the previous state line
 *   fall   once, when the robot falls: time, kind, reason
 *   end    time, fallen, minimum safety factor (and when), cleaned / cleanable
 * Numbers are printed with fixed decimals (0.1 mm, 1 Pa, 0.01 N, 1e-4 of
 * a factor), so the same run gives a byte-identical log.
 *
 * Errors: 0 or a negative TRUTHLOG_E* code; truthlog_strerror() gives the text.
 */
#ifndef CROSSCLIMB_TRUTHLOG_H
#define CROSSCLIMB_TRUTHLOG_H

#include <stdint.h>
#include <stdio.h>

#include "physics.h"

enum {
    TRUTHLOG_OK = 0,
    TRUTHLOG_EIO = -1,    /* writing failed */
    TRUTHLOG_ENOMEM = -2, /* out of memory */
    TRUTHLOG_EARG = -3,   /* bad argument */
};

/** truthlog_strerror: text for a TRUTHLOG_E* code (never NULL). */
const char *truthlog_strerror(int code);

typedef struct truthlog truthlog;

/**
 * truthlog_open: start a log on fp (the caller's, left open) for the robot
 * in ps (initialised) with the given seed; writes the "start" line.
 * Returns 0 or a TRUTHLOG_E* code.
 */
int truthlog_open(truthlog **out, FILE *fp, const phys_state *ps, uint64_t seed);

/**
 * truthlog_state: write a "state" line for ps now, preceded by the "fall"
 * line the first time ps has fallen.  Returns 0 or TRUTHLOG_EIO.
 */
int truthlog_state(truthlog *tl, const phys_state *ps);

/**
 * truthlog_close: write the "end" line (and a pending "fall" line), flush,
 * free the log (not fp).  Returns 0 or TRUTHLOG_EIO; frees in any case.
 */
int truthlog_close(truthlog *tl, const phys_state *ps);

#endif
