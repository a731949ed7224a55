/*
 * robotplant.h — the simulated robot as the plant of the simulated PLC: the
 * robot adapter (sim/robotsim: physics + sensors) behind the analog blocks
 * the PLC program reads with FROM, the ground-truth log at its cadence, and
 * what the PLC sees once the robot has fallen.  `crossclimb sim --facade F`
 * runs the PLC program over it (docs/sim-plc.md §3b).
 *
 * A plcsim_plant:
 *   input(now):  robotsim_input (physics to now, sensors -> X0-X22 and
 *                robotsim.analog[]), then the analog values into the
 *                simulated special-function blocks with fxil_block_write:
 *                unit 0 BFM#0-11 the twelve cup transducers (0.1 kPa), unit 1
 *                BFM#0-3 proximity (mm), #4 tether (N), #5 supply (kPa), #6-7
 *                cylinder positions (mm) — the layout rung 38 reads
 *                (docs/plc/README.md §2).  Then, when due, a "state" line of
 *                the ground-truth log.
 *   output(now): robotsim_output (physics to now with the old valves, then
 *                the Y image drives the valves).
 *
 * After a FALL the physics is frozen (only its clock runs, phys_step) and
 * the PLC keeps running; the sensors show a robot that is off the wall and
 * hangs on its tether: every cup transducer reads 0, both vacuum switches
 * X10 X11 are off, proximity has no echo (0xFFFF) and the tether carries the
 * robot's weight.  The ground-truth log gets the "fall" line (and a state
 * line) at the first input refresh that sees it, flushed at once.
 *
 * Faults (sim/faults.h): with a schedule attached (robotplant_set_faults)
 * both refreshes advance the physics through flt_advance_to_us, stopping at
 * every fault start and end, so a fault takes effect at its exact
 * millisecond whatever the scan time.  Each start and end is a "fault"
 * line of the ground-truth log, written when the physics reaches it:
 *   {"type":"fault","t_us":12500000,"event":"start","kind":"cup_leak",
 *    "line":4,"fault":"at 12.5s cup_leak cup=A1b rate_kpa_s=8 until=32.5s"}
 * (t_us is the fault's own time; "fault" its canonical line, flt_format).
 * A fault still active at the end of the run has no "end" line.  The check
 * for a due event is one comparison per refresh (the next event time is
 * kept); the schedule's own O(n) work runs only at events.
 *
 * Truth cadence: a state line at the first input refresh at or after every
 * truth_ms of virtual time (t = 0 included); none after the fall; a final
 * one and the "end" line at robotplant_finish.  The log is written with
 * json-c, which allocates per line: that happens at the cadence, never per
 * scan.  Nothing else here allocates after robotplant_init.
 *
 * Cost counters: the wall time spent in the physics and sensors (input and
 * output refresh) and in the truth log, read with CLOCK_MONOTONIC around the
 * calls (the sim is single-threaded, so this is CPU time unless the process
 * is preempted).
 *
 * Errors: 0 or a negative ROBOTPLANT_E* code; robotplant_strerror() gives
 * the text.
 */
#ifndef CROSSCLIMB_ROBOTPLANT_H
#define CROSSCLIMB_ROBOTPLANT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../robot/facade.h"
#include "../robot/robotcfg.h"
#include "faults.h"
#include "fxil.h"
#include "fxmem.h"
#include "plcsim.h"
#include "robotsim.h"
#include "truthlog.h"

enum {
    ROBOTPLANT_OK = 0,
    ROBOTPLANT_EARG = -1,   /* null pointer, bad cadence, or the robot cannot be placed */
    ROBOTPLANT_ENOMEM = -2, /* out of memory */
    ROBOTPLANT_ETRUTH = -3, /* the ground-truth log could not be written */
    ROBOTPLANT_ESTATE = -4, /* truth log opened twice */
};

/** robotplant_strerror: text for a ROBOTPLANT_E* code (never NULL). */
const char *robotplant_strerror(int code);

/* The analog blocks as rung 38 reads them (docs/plc/README.md §2). */
#define ROBOTPLANT_UNIT_CUPS 0u /* BFM#0-11: cup vacuum, 0.1 kPa */
#define ROBOTPLANT_UNIT_MISC 1u /* BFM#0-3 proximity, #4 tether, #5 supply, #6-7 positions */
#define ROBOTPLANT_MISC_N 8u

#define ROBOTPLANT_TRUTH_MS_DEFAULT 100u
#define ROBOTPLANT_TRUTH_MS_MAX 3600000u /* one state line an hour at the least */

typedef struct robotplant robotplant;

/* Called once, at the input refresh that first sees the fall. */
typedef void (*robotplant_fall_fn)(void *ctx, const phys_state *ps);

/* Called at the end of every input refresh (e.g. camera frame dumps). */
typedef void (*robotplant_input_fn)(void *ctx, const robotplant *rp, uint64_t now_ms);

struct robotplant {
    robotsim rs;              /* the robot: physics, sensors, RNG */
    fxil_program *prog;       /* whose blocks carry the analog values; not owned */
    /* ground truth */
    truthlog *tl;             /* NULL: no log */
    FILE *truth_fp;           /* the caller's */
    uint32_t truth_ms;        /* state-line cadence, ms of virtual time; 0 = none */
    uint64_t next_truth_ms;   /* virtual time of the next state line */
    int truth_any;            /* a state line was written ... */
    uint64_t truth_last_us;   /* ... at this physics time */
    int truth_rc;             /* first truth log error (ROBOTPLANT_ETRUTH), 0 if none */
    /* fall */
    int fall_seen;            /* the fall has been reported */
    robotplant_fall_fn on_fall;
    void *on_fall_ctx;
    robotplant_input_fn on_input;
    void *on_input_ctx;
    /* fault schedule (not owned; NULL = none) */
    flt_sched *faults;
    uint64_t flt_next_ms;     /* its next start or end after the physics' time (FLT_FOREVER: none) */
    uint8_t *flt_seen;        /* per fault: active as last logged (one block, set_faults) */
    uint64_t flt_started;     /* fault starts and ends seen so far */
    uint64_t flt_ended;
    /* cost counters */
    uint64_t inputs;          /* input refreshes */
    uint64_t plant_ns;        /* physics + sensors + blocks */
    uint64_t truth_ns;        /* truth log lines */
    uint64_t truth_lines;     /* state lines written */
};

/**
 * robotplant_init: the robot placed on fac at the facade's start point
 * (phys_start_default), its sensors seeded from seed, writing its analog
 * values into prog's blocks (a first reading is written at once).  cfg,
 * fac and prog must outlive it.  Returns 0, ROBOTPLANT_EARG (message in
 * err, e.g. the start leaves the robot off the facade) or ROBOTPLANT_ENOMEM.
 */
int robotplant_init(robotplant *rp, const robotcfg *cfg, const facade *fac, uint64_t seed,
                    fxil_program *prog, char *err, size_t errlen);

/**
 * robotplant_truth_open: write the ground-truth log on fp (left open, the
 * caller's), a state line every truth_ms of virtual time (0 = only at the
 * fall and the end; at most ROBOTPLANT_TRUTH_MS_MAX).  Writes the "start"
 * line now.  Returns 0, ROBOTPLANT_EARG, ROBOTPLANT_ESTATE,
 * ROBOTPLANT_ENOMEM or ROBOTPLANT_ETRUTH.
 */
int robotplant_truth_open(robotplant *rp, FILE *fp, uint32_t truth_ms);

/** robotplant_on_fall: call fn(ctx, physics) once when the robot falls (NULL = none). */
void robotplant_on_fall(robotplant *rp, robotplant_fall_fn fn, void *ctx);

/** robotplant_on_input: call fn(ctx, rp, now_ms) after every input refresh (NULL = none). */
void robotplant_on_input(robotplant *rp, robotplant_input_fn fn, void *ctx);

/**
 * robotplant_set_faults: drive the robot's fault hooks from schedule s
 * (not owned; it must outlive rp and drive no other robot) from the next
 * refresh on.  Attach it before the PLC starts: faults that start at 0 take
 * effect in the first scan.  Allocates one byte per fault, once.  Returns
 * 0, ROBOTPLANT_EARG (NULL, or a schedule already attached) or
 * ROBOTPLANT_ENOMEM.
 */
int robotplant_set_faults(robotplant *rp, flt_sched *s);

/**
 * robotplant_input: plcsim input refresh (self = robotplant): robotsim to
 * now_ms, X0-X22 into mem->x, the analog values into the blocks, the fall
 * image when fallen, a truth state line when due.
 */
void robotplant_input(void *self, fxmem *mem, uint64_t now_ms);

/** robotplant_output: plcsim output refresh (self = robotplant): Y0-Y17 -> valves. */
void robotplant_output(void *self, const fxmem *mem, uint64_t now_ms);

/** robotplant_plant: rp as a plcsim plant. */
plcsim_plant robotplant_plant(robotplant *rp);

/** robotplant_fallen: 1 once the robot has fallen. */
int robotplant_fallen(const robotplant *rp);

/**
 * robotplant_finish: end the ground-truth log: a last state line (unless
 * one was written at this very time) and the "end" line, flushed; the log
 * is closed (fp stays open).  Returns 0, or ROBOTPLANT_ETRUTH when this or
 * any earlier line could not be written.  Without a log: 0.
 */
int robotplant_finish(robotplant *rp);

/** robotplant_free: release the robot (and a log robotplant_finish did not close). */
void robotplant_free(robotplant *rp);

#endif
