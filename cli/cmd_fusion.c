/* placeholder until the fusion subcommand lands */
#include <stdio.h>
#include "cli.h"
int cmd_fusion(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "crossclimb %s: not built yet\n", argv[0]);
    return CLI_EXIT_FAIL;
}
