/*
 * runlog.h — the run log: one JSON object per line (JSON Lines) for every
 * event of a `crossclimb run` / `crossclimb demo`, and the mission
 * checkpoint file.  docs/log-format.md documents every record.
 *
 * Every record has "type" first, then "t" (PLC time since the controller
 * started, seconds, from the PLC tick D104: never the laptop clock) and
 * "n" (record number, from 0).  Types: start, plan, command, status, hold,
 * ack, operator, fault, mission (lane-begin, lane-end, step-begin,
 * step-end, shortened, sidestep, blocked, paused, resumed, stopped, done),
 * progress, end.
 *
 * The record writers are called from the control loop, so they allocate
 * nothing after runlog_open: a record is built in a fixed line buffer of
 * RUNLOG_LINE_MAX bytes inside the runlog (not a json-c tree) and the file
 * uses a stdio buffer inside the runlog too (a log to stdout "-" uses
 * stdout's own buffer, which stdio allocates on stdout's first write).
 * The text is what json-c wrote before (compact, "/" escaped as "\/").
 *
 * A record is written whole (one fwrite of one line, flushed) so a log cut
 * by a crash ends on a complete line.  A record longer than the buffer is
 * not written at all, never in part: the writer returns RUNLOG_EIO, its
 * record number is used up (the log shows the gap, which `crossclimb
 * report` rejects) and runlog_close() returns RUNLOG_EIO.  After a failed
 * write every later record is dropped and runlog_close() reports it.
 * Numbers: mm to 0.1, kPa to 0.1, seconds to 0.01, factors to 1e-3;
 * NaN and infinity are null.
 *
 * The checkpoint (runlog_checkpoint_write/read) is the mission's mis_dyn as
 * one JSON object of named fields (mis_checkpoint_fields()); written to
 * PATH.tmp and renamed over PATH, so PATH is always a whole checkpoint.
 * Writing uses no heap (a fixed buffer); reading uses json-c.
 *
 * Errors: 0 or a negative RUNLOG_E* code; runlog_strerror() gives the text.
 */
#ifndef CROSSCLIMB_RUNLOG_H
#define CROSSCLIMB_RUNLOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "controller/ctl.h"
#include "controller/mission.h"

enum {
    RUNLOG_OK = 0,
    RUNLOG_EARG = -1,   /* null argument */
    RUNLOG_EIO = -2,    /* the file cannot be opened or written, or a record is too long */
    RUNLOG_ENOMEM = -3, /* runlog_open could not allocate */
    RUNLOG_EPARSE = -4, /* a checkpoint that is not one (message names the field) */
};

/** runlog_strerror: text for a RUNLOG_E* code (never NULL). */
const char *runlog_strerror(int code);

/* The longest record line, bytes with its newline.  The longest real record
 * (a fusion mission event, or a start record with long paths) is under
 * 1 kB; the margin is for file names and fault details. */
#define RUNLOG_LINE_MAX 16384

typedef struct runlog runlog;

/**
 * runlog_open: a log written to path ("-" = stdout), truncated.  *out is
 * the caller's, freed with runlog_close().  Returns 0, RUNLOG_EIO (message
 * with the path in err) or RUNLOG_ENOMEM.
 */
int runlog_open(runlog **out, const char *path, char *err, size_t errlen);

/** runlog_close: flush and close (stdout is only flushed); NULL is fine.  Returns 0 or RUNLOG_EIO. */
int runlog_close(runlog *rl);

/** runlog_records: records written so far (not counting records lost as too long). */
uint64_t runlog_records(const runlog *rl);

/* What the start record says about the run. */
typedef struct runlog_start_info {
    const char *program;      /* "run" / "demo" */
    const char *version;      /* crossclimb version */
    const char *plc_uri;
    const char *facade_path, *facade_name;
    const char *robot_path;   /* NULL: built-in default */
    const params_robot *params;
    const mis_config *mission;
    int resumed;              /* 1: from a checkpoint */
    const char *state_path;   /* checkpoint file, NULL none */
    unsigned status_every;    /* cycles between status records */
    const char *camera_uri;   /* the gate's camera (tcp://HOST:PORT), NULL none */
} runlog_start_info;

/** runlog_start: the "start" record (configuration).  Returns 0 or RUNLOG_EIO. */
int runlog_start(runlog *rl, uint32_t ticks, const runlog_start_info *info);

/** runlog_plan: the "plan" record of the mission's dry run.  Returns 0 or RUNLOG_EIO. */
int runlog_plan(runlog *rl, uint32_t ticks, const mis_plan *plan, const mis_dyn *d);

/** runlog_command: a "command" record for a new command (new sequence number). */
int runlog_command(runlog *rl, uint32_t ticks, const cc_command *cmd, const ctl *c);

/** runlog_status: a "status" record: the summary of status and controller. */
int runlog_status(runlog *rl, uint32_t ticks, const cc_status *st, const ctl *c);

/** runlog_hold: a "hold" record: the controller latched a HOLD for reason. */
int runlog_hold(runlog *rl, uint32_t ticks, const ctl *c, const cc_status *st);

/** runlog_ack: an "ack" record: who acknowledged (operator / auto-startup) and the result code. */
int runlog_ack(runlog *rl, uint32_t ticks, const char *by, int rc, const ctl *c);

/** runlog_operator: an "operator" record: a command the operator gave (pause, resume, ...). */
int runlog_operator(runlog *rl, uint32_t ticks, const char *command, int rc);

/** runlog_fault: a "fault" record: kind ("link", "refused", ...) and detail. */
int runlog_fault(runlog *rl, uint32_t ticks, const char *kind, const char *detail);

/** runlog_mission: a "mission" record for a mission event. */
int runlog_mission(runlog *rl, const mis_event *ev);

/** runlog_progress: a "progress" record. */
int runlog_progress(runlog *rl, uint32_t ticks, const mis_progress *pr);

/* The summary of the end record (and the result line). */
typedef struct runlog_summary {
    const char *outcome;      /* completed, stopped, held, paused, timeout, link-lost, interrupted, fall, error */
    unsigned falls;
    double coverage;          /* share of the reachable area cleaned */
    double area_m2;
    double sim_time_s;
    double rate_m2_per_h;
    double min_safety_factor;
    unsigned holds;           /* HOLDs latched, the start-up HOLD not counted */
    unsigned refused_commands;/* commands the PLC refused */
    const char *source;       /* "controller" or "truth": whose word falls/coverage/sf are */
    uint64_t cycles, link_failures;
    unsigned half_steps;
    unsigned reseats, shifts;  /* the gait's recoveries: a cup that would not seal */
    int fusion_on;             /* the perception gate was asked (S5) */
    uint64_t fusion_asked;     /* verdicts */
    uint64_t fusion_careful;   /* of which not "proceed" */
} runlog_summary;

/** runlog_end: the "end" record. */
int runlog_end(runlog *rl, uint32_t ticks, const runlog_summary *s);

/**
 * runlog_result_line: the one summary line
 * "result: outcome=… falls=… coverage=… area_m2=… sim_time_s=… rate_m2_per_h=…
 * min_safety_factor=… holds=… refused_commands=…" into buf.  Returns buf.
 */
const char *runlog_result_line(const runlog_summary *s, char *buf, size_t len);

/**
 * runlog_checkpoint_write: d as JSON to path (PATH.tmp, then renamed).
 * No heap.  Returns 0 or RUNLOG_EIO (message in err).
 */
int runlog_checkpoint_write(const char *path, const mis_dyn *d, char *err, size_t errlen);

/**
 * runlog_checkpoint_read: a checkpoint file into *d (every field required).
 * Returns 0, RUNLOG_EIO or RUNLOG_EPARSE (message naming file and field).
 */
int runlog_checkpoint_read(const char *path, mis_dyn *d, char *err, size_t errlen);

#endif
