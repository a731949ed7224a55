/*
 * faults.h — fault scenarios: a text file of timed faults (SPEC §8) and
 * their application to the simulated robot.
 *
 * The format (docs/faults-format.md) is one fault per line:
 *
 *     # the vacuum of one cup goes, then the supply sags
 *     at 12.5s cup_leak cup=A1b rate_kpa_s=8 duration=5s
 *     at 20s   supply_drop kpa=300 until=30s
 *     at 31s   link_silence duration=2s
 *
 * Loading is strict: the first error stops the load with "file:line:col:
 * what" in the caller's buffer and nothing is returned (never half
 * loaded).  A loaded schedule is one allocation (flt_free).
 *
 * Applying: flt_apply(sched, rs, now_ms) makes the fault hooks of the
 * robot (the physics' env, robotsim's sensor and gust hooks) say which
 * faults are active at now_ms: active = start <= now < end.  The hooks are
 * recomputed from the values they had before the first flt_apply (the
 * baseline) plus every active fault, in file order, whenever a fault starts
 * or ends; between those moments flt_apply writes nothing.  So the result
 * depends only on the scenario and the time, never on how often flt_apply
 * is called; flt_advance_to_us also splits the physics exactly at fault
 * boundaries, so a fault starts at its time whatever the scan period.
 *
 * link_silence is not a property of the robot: the Modbus server asks
 * flt_link_silent(sched, now_ms) and, while it says 1, does not answer
 * (requests are read and dropped) — virtual time keeps running (SPEC §8).
 *
 * Errors: 0 or a negative FLT_E* code; flt_strerror() gives the text.
 */
#ifndef CROSSCLIMB_FAULTS_H
#define CROSSCLIMB_FAULTS_H

#include <stddef.h>
#include <stdint.h>

#include "physics.h"
#include "robotsim.h"

enum {
    FLT_OK = 0,
    FLT_EIO = -1,     /* the file cannot be read */
    FLT_ESYNTAX = -2, /* the text is not a valid scenario */
    FLT_ENOMEM = -3,  /* out of memory */
    FLT_EARG = -4,    /* bad argument */
};

/** flt_strerror: text for an FLT_E* code (never NULL). */
const char *flt_strerror(int code);

typedef enum {
    FLT_CUP_LEAK = 0,    /* target cup; value = leak rate at nominal vacuum, kPa/s */
    FLT_SENSOR_STUCK,    /* target sensor; value = reading (kPa, mm, N) or state (inputs) */
    FLT_SENSOR_OFFSET,   /* target analog sensor; value = offset (kPa, mm, N) */
    FLT_SENSOR_NOISE,    /* target analog sensor; value = extra standard deviation */
    FLT_CYLINDER_STALL,  /* target PHYS_CYL_X / PHYS_CYL_Y */
    FLT_REED_DEAD,       /* target input bit X0..X7: reads 0 */
    FLT_VALVE_STUCK,     /* target output bit Y0..Y13; state on / off */
    FLT_SUPPLY_DROP,     /* value = supply pressure, kPa */
    FLT_LINK_SILENCE,    /* no target: the Modbus server stays silent */
    FLT_WIND_GUST,       /* value = gust peak added to the wind, m/s (1 - cos over the fault) */
    FLT_CAMERA_BLACKOUT, /* no target: black frames, camera offline */
    FLT_KIND_COUNT
} flt_kind;

#define FLT_FOREVER UINT64_MAX   /* end_ms of a fault without duration/until */
#define FLT_MAX_FAULTS 10000     /* per scenario */
#define FLT_FILE_MAX (1u << 20)  /* bytes */
#define FLT_TIME_MAX_MS 999999999999ull /* 999 999 999 s */
#define FLT_INPUT0 64            /* sensor targets >= this are inputs: X bit = target - FLT_INPUT0 */

/* One fault as loaded (values in the file's units), plus whether
 * flt_apply currently has it active. */
typedef struct {
    flt_kind kind;
    unsigned line;     /* its line in the file */
    uint64_t start_ms; /* active from start_ms ... */
    uint64_t end_ms;   /* ... until end_ms (exclusive); FLT_FOREVER: to the end of the run */
    int target;        /* cup 0..11, analog channel ROBOTSIM_AN_* or FLT_INPUT0 + X bit,
                          cylinder, input bit, output bit; -1 when the kind has none */
    int state;         /* valve_stuck, sensor_stuck of an input: 1 on, 0 off */
    double value;      /* see flt_kind (file units) */
    uint8_t active;    /* flt_apply: active at the last call */
} flt_fault;

/* The hooks a schedule writes (their baseline is kept to restore them). */
typedef struct {
    double cup_leak_per_s[PHYS_CUPS];
    int cyl_jammed[PHYS_CYL_COUNT];
    double supply_pa;
    uint16_t y_stuck_on, y_stuck_off;
    int camera_blackout;
    robotsim_sensor_fault an_fault[ROBOTSIM_ANALOG_N];
    uint32_t x_stuck_on, x_stuck_off;
    double gust_peak_m_s;
    uint64_t gust_start_us, gust_len_us;
} flt_hooks;

typedef struct flt_sched {
    size_t n;            /* faults, in file (= time) order */
    int attached;        /* base holds the hooks from before the first flt_apply */
    flt_hooks base;
    uint64_t changes;    /* faults started or ended so far (flt_apply) */
    flt_fault faults[];  /* n entries */
} flt_sched;

/**
 * flt_load_buffer: parse a scenario from text[0..len) (need not be
 * NUL-terminated; at most FLT_FILE_MAX bytes).  name is used in messages
 * ("name:line:col: what").  On success *out is a new schedule owned by the
 * caller (one allocation; an empty scenario has n = 0); on error *out is
 * NULL and err (may be NULL) holds the message.  Returns 0 or
 * FLT_ESYNTAX / FLT_ENOMEM / FLT_EARG.
 */
int flt_load_buffer(const char *name, const char *text, size_t len, flt_sched **out, char *err,
                    size_t errlen);

/**
 * flt_load_file: read path (at most FLT_FILE_MAX bytes) and parse it as
 * flt_load_buffer does, naming the file in messages.  Returns 0 or an
 * FLT_E* code (FLT_EIO when it cannot be read).
 */
int flt_load_file(const char *path, flt_sched **out, char *err, size_t errlen);

/** flt_free: release a schedule from a loader (NULL is fine). */
void flt_free(flt_sched *s);

/** flt_kind_name: "cup_leak", "sensor_stuck", ... (the file's word); "?" out of range. */
const char *flt_kind_name(flt_kind k);

/**
 * flt_format: the fault as one canonical scenario line (no newline), e.g.
 * "at 12.5s cup_leak cup=A1b rate_kpa_s=8 until=17.5s"; loading it gives
 * the same fault back.  Returns the length (snprintf-like: >= cap means
 * truncated) or FLT_EARG.
 */
int flt_format(const flt_fault *f, char *buf, size_t cap);

/**
 * flt_apply: activate and clear faults at virtual time now_ms on rs (see
 * the top of this file).  The first call takes the baseline of the hooks
 * from rs; use one schedule for one robot (flt_reset to change).  No heap.
 * Returns how many faults started or ended at this call (>= 0) or
 * FLT_EARG.
 */
int flt_apply(flt_sched *s, robotsim *rs, uint64_t now_ms);

/**
 * flt_reset: put rs's hooks back to the baseline (when rs is the robot the
 * schedule was applied to; NULL skips that), mark every fault inactive and
 * forget the baseline: the next flt_apply starts afresh.
 */
void flt_reset(flt_sched *s, robotsim *rs);

/**
 * flt_next_event_ms: the first time after now_ms at which a fault starts
 * or ends; FLT_FOREVER when none does.
 */
uint64_t flt_next_event_ms(const flt_sched *s, uint64_t now_ms);

/**
 * flt_advance_to_us: run rs (robotsim_advance_to_us) up to t_us, stopping
 * at every fault start and end on the way to flt_apply it, so faults take
 * effect exactly at their times.  Returns the number of faults started or
 * ended, or FLT_EARG.
 */
int flt_advance_to_us(flt_sched *s, robotsim *rs, uint64_t t_us);

/**
 * flt_link_silent: 1 when a link_silence fault is active at now_ms: the
 * simulated PLC's Modbus server must then not answer (it reads and drops
 * requests; it does not close the connection).  Pure: needs no flt_apply.
 */
int flt_link_silent(const flt_sched *s, uint64_t now_ms);

#endif
