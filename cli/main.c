/*
 * main.c — `crossclimb`: one front command, git-style (SPEC §3).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef CROSSCLIMB_VERSION
#define CROSSCLIMB_VERSION "0.1.0"
#endif

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} cli_command;

static const cli_command commands[] = {
    {"run", cmd_run, "clean a region of a facade: the mission against a PLC link"},
    {"demo", cmd_demo, "the mission on a simulated robot, in virtual time"},
    {"sim", cmd_sim, "the simulated robot under the PLC program (sim --facade F), or the PLC alone (sim plc)"},
    {"plc", cmd_plc, "commissioning: ports, get, set, monitor against a PLC link"},
    {"fusion", cmd_fusion, "perception model: check reference cases"},
    {"report", cmd_report, "a run log as an SVG report: coverage, vacuum, timeline"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: crossclimb COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'crossclimb COMMAND --help' describes each; man crossclimb for the rest.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("crossclimb %s\n", CROSSCLIMB_VERSION);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "crossclimb: '%s' is not a command\n", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
