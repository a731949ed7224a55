/* placeholder until the plc subcommand lands */
#include <stdio.h>
#include "cli.h"
int cmd_plc(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "crossclimb %s: not built yet\n", argv[0]);
    return CLI_EXIT_FAIL;
}
