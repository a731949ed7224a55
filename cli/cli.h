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
int cmd_demo(int argc, char **argv);   /* cli/cmd_demo.c: the main job on the default sim */

#include <stdio.h>

#include "plc_bridge/image.h"
#include "plc_bridge/link.h"

/** cli_print_status: the status block st, with the link's state, as text on f. */
void cli_print_status(FILE *f, const cc_status *st, const cc_link *l);

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

#endif
