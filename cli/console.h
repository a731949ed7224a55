/*
 * console.h — the operator console (SPEC §9, issue 7): ncurses on the
 * terminal of `crossclimb run` and `crossclimb demo` (docs/operator.md,
 * "Console").
 *
 * A cli_ui (cli.h) for cli_run_mission(): the loop calls draw() after every
 * cycle (the console redraws at most every CON_REDRAW_MS of wall time, at
 * once after a key or a resize), poll_key() for the operator's commands
 * (never blocking), message() with each line it would have printed, and
 * end() when the loop is over.  The terminal is taken over at the first
 * draw(), so errors before the loop still print as lines; end() gives it
 * back, and later messages print as lines again ("PROG: text").
 *
 * Keys (shown on the bottom line and in the '?' help overlay):
 *   SPACE or e  E-STOP: HOLD now (ctl_operator_hold) — on every screen,
 *               the help overlay and the too-small screen included
 *   a           acknowledge a HOLD (the start-up HOLD too: "start")
 *   p / r       pause / resume
 *   n           single step: from a pause, one half-step, then paused again
 *   h l k j     jog -X +X +Y -Y (also the arrow keys): while paused, one
 *               half-step checked like the mission's (mis_jog); a refusal
 *               says why ("jog refused: ...")
 *   s           stop the mission after the half-step under way
 *   q           quit: HOLD and leave; refused while the robot is not safe
 *               (cli_run_safe: HELD, or both groups gripping with no
 *               half-step in flight)
 *   ?           help overlay (any key closes it)
 * A resize (KEY_RESIZE, from ncurses' SIGWINCH handler) redraws at once.
 * Below 80x24 the console says so and shows only the E-stop key, which is
 * then the only key that works.
 */
#ifndef CROSSCLIMB_CONSOLE_H
#define CROSSCLIMB_CONSOLE_H

#include "cli/cli.h"

#define CON_MIN_COLS 80
#define CON_MIN_ROWS 24
#define CON_REDRAW_MS 100

typedef struct con con;

/** con_open: a console for program prog ("run", "demo"); NULL when out of memory. */
con *con_open(const char *prog);

/** con_ui: the hooks for cli_run_opts.ui (ui_user = the con). */
const cli_ui *con_ui(void);

/** con_close: give the terminal back (if still taken) and free k (NULL is fine). */
void con_close(con *k);

/** con_wanted: 1 when stdin and stdout are terminals (and TERM is set). */
int con_wanted(void);

#endif
