/*
 * cmd_plc_program.c — `crossclimb plc program check|list FILE...`: check an
 * FX1N instruction-list program as a programming tool would (FX1N device
 * ranges, circuit structure, END, 8000 steps) and print it with step numbers
 * for entry in GX Developer's list mode.
 *
 * Exit status: 0 every file OK, 1 a file failed, 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sim/fxil.h"

int cmd_plc_program(int argc, char **argv);

static void program_usage(FILE *f)
{
    fprintf(f,
            "usage: crossclimb plc program check FILE...\n"
            "       crossclimb plc program list FILE\n"
            "\n"
            "  check  validate FX1N instruction-list programs: instructions and operands,\n"
            "         FX1N device ranges (X/Y octal), LD/ANB/ORB blocks, MPS/MRD/MPP,\n"
            "         END, and the step count against the FX1N's %u steps.\n"
            "         Prints 'FILE: OK, N steps (FX1N limit %u)' or 'FILE:LINE: message'.\n"
            "  list   print the program with FX step numbers, one instruction a line,\n"
            "         as GX Developer's list mode shows it (step, instruction, source line).\n"
            "\n"
            "The shipped program is docs/plc/crossclimb.il.  Exit status: 0 OK,\n"
            "1 a program has errors, 2 usage error.\n",
            FXIL_FX1N_STEPS, FXIL_FX1N_STEPS);
}

static int program_check(int nfiles, char **files)
{
    int status = CLI_EXIT_OK;
    for (int i = 0; i < nfiles; i++) {
        char msg[512];
        fxil_program *p = NULL;
        int rc = fxil_load_file(files[i], &p, msg, sizeof msg);
        if (rc) {
            fprintf(stderr, "%s\n", msg);
            status = CLI_EXIT_FAIL;
            continue;
        }
        printf("%s: OK, %u steps (FX1N limit %u)\n", files[i], fxil_steps(p), FXIL_FX1N_STEPS);
        fxil_free(p);
    }
    fflush(stdout);
    return status;
}

static int program_list(const char *file)
{
    char msg[512];
    fxil_program *p = NULL;
    int rc = fxil_load_file(file, &p, msg, sizeof msg);
    if (rc) {
        fprintf(stderr, "%s\n", msg);
        return CLI_EXIT_FAIL;
    }
    printf("; %s: %u steps (FX1N limit %u)\n", file, fxil_steps(p), FXIL_FX1N_STEPS);
    printf("; step  instruction                  source line\n");
    for (size_t i = 0; i < fxil_count(p); i++) {
        char text[96];
        unsigned step = 0, line = 0;
        fxil_format(p, i, text, sizeof text, &step, &line);
        printf("%6u  %-28s ; line %u\n", step, text, line);
    }
    fflush(stdout);
    fxil_free(p);
    return CLI_EXIT_OK;
}

int cmd_plc_program(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            program_usage(stdout);
            return CLI_EXIT_OK;
        }
    }
    if (argc < 2) {
        program_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *sub = argv[1];
    for (int i = 2; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "crossclimb plc program %s: unknown option '%s'\n", sub, argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (!strcmp(sub, "check")) {
        if (argc < 3) {
            fprintf(stderr, "crossclimb plc program check: name at least one FILE\n");
            return CLI_EXIT_USAGE;
        }
        return program_check(argc - 2, argv + 2);
    }
    if (!strcmp(sub, "list")) {
        if (argc != 3) {
            fprintf(stderr, "crossclimb plc program list: name exactly one FILE\n");
            return CLI_EXIT_USAGE;
        }
        return program_list(argv[2]);
    }
    fprintf(stderr, "crossclimb plc program: '%s' is not a subcommand (check, list)\n", sub);
    program_usage(stderr);
    return CLI_EXIT_USAGE;
}
