/* placeholder until the sim subcommand lands */
#include <stdio.h>
#include "cli.h"
int cmd_sim(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "crossclimb %s: not built yet\n", argv[0]);
    return CLI_EXIT_FAIL;
}
