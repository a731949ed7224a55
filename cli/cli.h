/*
 * cli.h — the front command `crossclimb SUBCOMMAND ...`, git-style.
 *
 * The front composes the modules; the modules never know it.  Each
 * subcommand lives in cli/cmd_NAME.c and has the signature below: argv[0] is
 * the subcommand's own name; it returns the process exit status (0 success,
 * 1 runtime failure, 2 usage error), printing its own messages to stderr.
 */
#ifndef CROSSCLIMB_CLI_H
#define CROSSCLIMB_CLI_H

int cmd_plc(int argc, char **argv);    /* cli/cmd_plc.c: commissioning tools */
int cmd_plc_program(int argc, char **argv); /* cli/cmd_plc_program.c: plc program check|list */
int cmd_sim(int argc, char **argv);    /* cli/cmd_sim.c: the simulated PLC / robot */
int cmd_fusion(int argc, char **argv); /* cli/cmd_fusion.c: the perception model */
int cmd_fusion_train(int argc, char **argv); /* cli/cmd_fusion_train.c: fusion train */
int cmd_fusion_dataset(int argc, char **argv); /* cli/cmd_fusion_data.c: fusion dataset */
int cmd_fusion_eval(int argc, char **argv);    /* cli/cmd_fusion_data.c: fusion eval */
int cmd_fusion_calibrate(int argc, char **argv); /* cli/cmd_fusion_data.c: fusion calibrate */
int cmd_demo(int argc, char **argv);   /* cli/cmd_demo.c: the main job on the default sim */
int cmd_run(int argc, char **argv);    /* cli/cmd_run.c: the cleaning mission against a PLC */
int cmd_report(int argc, char **argv); /* cli/cmd_report.c: a run log as an SVG */

#include <stdio.h>

#include "controller/runlog.h"
#include "plc_bridge/image.h"
#include "plc_bridge/link.h"

/** cli_print_status: the status block st, with the link's state, as text on f. */
void cli_print_status(FILE *f, const cc_status *st, const cc_link *l);

/* The mission loop shared by `run` and `demo` (cli/cmd_run.c). */
struct cli_run_out;
struct ctl;
struct mission;

/* Operator commands a user interface hands to the mission loop. */
typedef enum {
    CLI_KEY_NONE = 0,
    CLI_KEY_ACK,    /* acknowledge a HOLD (also: start after the start-up HOLD) */
    CLI_KEY_PAUSE,
    CLI_KEY_RESUME,
    CLI_KEY_STEP,   /* single half-step: resume for one half-step, then pause again */
    CLI_KEY_STOP,
    CLI_KEY_HOLD,   /* the E-stop key: ctl_operator_hold() at once */
    CLI_KEY_QUIT,   /* refused by the loop unless the robot is safe (cli_run_safe) */
    CLI_KEY_JOG_XP, /* jog: one checked half-step while paused (mis_jog), +X ... */
    CLI_KEY_JOG_XM, /* ... -X */
    CLI_KEY_JOG_YP, /* ... +Y (up) */
    CLI_KEY_JOG_YM  /* ... -Y (down) */
} cli_key;

/*
 * A user interface on the mission loop (the console, cli/console.h).  With
 * one, the loop reads no stdin lines and prints no lines: message() gets them.
 *   draw:     after every cycle (the UI throttles itself); st may be NULL
 *             when the exchange failed
 *   poll_key: non-blocking: the next operator command, or CLI_KEY_NONE
 *   message:  a line the loop would have printed (no prefix, no newline)
 *   end:      the loop is over (the terminal goes back to lines)
 */
typedef struct cli_ui {
    void (*draw)(void *user, const cc_status *st, const struct ctl *c, const struct mission *m,
                 const link_stats *ls);
    cli_key (*poll_key)(void *user);
    void (*message)(void *user, const char *line);
    void (*end)(void *user);
} cli_ui;

typedef struct cli_run_opts {
    const char *prog;          /* "run" / "demo": message prefix */
    const char *plc_uri, *facade_path, *robot_path, *log_path, *state_path;
    int have_region, have_start;
    double region_mm[4], start_mm[2];
    int fresh_state;           /* ignore an existing state file */
    int headless;              /* no prompts */
    int operator_input;        /* read operator commands from stdin */
    int auto_ack_startup;      /* acknowledge the start-up HOLD (demo only; any other HOLD ends the run) */
    int quiet_steps;           /* no line per half-step */
    double progress_s;        /* progress line period, PLC seconds (0: none) */
    unsigned status_every;     /* status record period, cycles (0: none) */
    double max_sim_s;          /* give up after this much PLC time (0: never) */
    unsigned link_lost_cycles; /* give up after this many failed exchanges in a row (0: never) */
    FILE *out;                 /* progress lines (default stdout) */
    /* called after the loop, before the end record: may replace the
     * summary (the demo puts the simulator's truth there); 0 or -1 */
    int (*finish)(void *user, struct cli_run_out *res);
    void *finish_user;
    const cli_ui *ui;          /* the console, or NULL: progress lines */
    void *ui_user;
    double speed;              /* PLC seconds per wall second (0: as fast as possible) */
    const char *fusion_path;   /* perception weights asked before each half-step (S5), or NULL: the shipped ones */
    int fusion_off;            /* --fusion off: no model (the mission's own checks only) */
    const char *camera_uri;    /* --camera tcp://HOST:PORT: frames for the gate, or NULL (camera offline) */
} cli_run_opts;

/*
 * cli_default_weights: the shipped fusion weights next to a build tree
 * (EXEDIR/../perception/weights/), an installed binary
 * (EXEDIR/../share/crossclimb/) or in $CROSSCLIMB_SRC.  Returns 0 with the
 * path in out, or -1 when there are none.
 */
int cli_default_weights(char *out, size_t len);

/* cli_fusion_option: parse the value of --fusion (FILE or "off") into o. */
void cli_fusion_option(cli_run_opts *o, const char *v);

typedef struct cli_run_out {
    char outcome[24];
    runlog_summary summary;    /* the controller's own word */
    int exit_code;
    uint8_t *plan_map;         /* cells the plan sweeps (cols x rows, row 0 bottom); free with cli_run_out_free */
    uint32_t cols, rows, cell_mm;
    double region_mm[4];
    size_t planned_cells, region_cells;
} cli_run_out;

/**
 * cli_run_mission: open the link, run the mission to its end (or the
 * operator's quit, a limit, a lost link), write the log; *res receives the
 * summary.  Returns the exit status (0 only for a completed mission).
 */
int cli_run_mission(const cli_run_opts *o, cli_run_out *res);

/** cli_run_out_free: release what cli_run_mission() left in *res. */
void cli_run_out_free(cli_run_out *res);

/**
 * cli_run_safe: the robot may be left by the operator's quit: the controller
 * HELD, or both groups verified gripping (gait IDLE) with no half-step of
 * the mission in flight.
 */
int cli_run_safe(const struct ctl *c, const struct mission *m);

/** cli_parse_pair / cli_parse_region: "X,Y" / "X0,Y0,X1,Y1" (mm).  Return 0 or -1. */
int cli_parse_pair(const char *s, double out[2]);
int cli_parse_region(const char *s, double out[4]);

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

#endif
