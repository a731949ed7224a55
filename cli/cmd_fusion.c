/*
 * cmd_fusion.c — `crossclimb fusion ...`: the perception model from the
 * command line.
 *
 *   crossclimb fusion check FILE...   run each reference case (weights +
 *                                     input.* + expect.*) and compare every
 *                                     intermediate with PyTorch's
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "perception/fusion.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: crossclimb fusion check FILE...\n"
            "       crossclimb fusion train --data FILE --out WEIGHTS [...]  (see 'fusion train --help')\n"
            "       crossclimb fusion dataset --out FILE [...]  (see 'fusion dataset --help')\n"
            "       crossclimb fusion eval --weights W --data FILE [...]  (see 'fusion eval --help')\n"
            "       crossclimb fusion calibrate --weights W --data FILE --out W2 [--far X]\n"
            "       crossclimb fusion --help\n"
            "\n"
            "check  load each reference case (a safetensors file with the model weights,\n"
            "       input.* and expect.*, e.g. ../shared/fusion-golden/*.safetensors),\n"
            "       run one inference and print, for each intermediate (tokens, scores,\n"
            "       alpha, fused, grip, path), the largest |c - ref| and whether every\n"
            "       value is within %g + %g*|ref|.\n"
            "\n"
            "exit status: 0 every file agrees, 1 a file disagrees or cannot be loaded,\n"
            "2 usage error.\n",
            FUSION_ATOL, FUSION_RTOL);
}

/* Run one case; 0 agree, 1 disagree or error (message printed). */
static int check_one(const char *path)
{
    fusion_case c;
    fusion_workspace ws = {0};
    char err[ST_ERR_LEN];
    int rc = fusion_case_load(&c, path, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "crossclimb fusion check: %s\n", err);
        return 1;
    }
    const fusion_model *m = &c.model;
    int status = 1;
    /* at least one token of room: a case with no tokens still runs the heads */
    rc = fusion_workspace_init(&ws, m, c.T ? c.T : 1, NULL, 0);
    if (rc != 0) {
        fprintf(stderr, "crossclimb fusion check: %s: workspace for %zu tokens: %s\n", path, c.T,
                fusion_strerror(rc));
        goto out;
    }
    fusion_output o;
    rc = fusion_forward(m, &ws, &c.input, &o);
    if (rc != 0) {
        fprintf(stderr, "crossclimb fusion check: %s: forward: %s\n", path, fusion_strerror(rc));
        goto out;
    }
    const char *note = st_meta_get(&m->file, "note");
    printf("%s: H=%zu Hp=%zu D=%zu/%zu/%zu self-attention=%s tokens=%zu (pressure %zu, "
           "proximity %zu, camera %zu)%s%s\n",
           path, m->H, m->Hp, m->D[0], m->D[1], m->D[2], m->has_self_attn ? "yes" : "no", c.T,
           c.input.n[0], c.input.n[1], c.input.n[2], note ? "\n  note: " : "", note ? note : "");
    fusion_cmp cmp[FUSION_CMP_N];
    int bad = fusion_case_compare(&c, &o, cmp);
    for (int k = 0; k < FUSION_CMP_N; k++)
        printf("  %-7s %5zu values  max |c-ref| %.3e  (%.3f of tolerance)  %s\n", cmp[k].name,
               cmp[k].count, cmp[k].max_abs, cmp[k].worst_ratio, cmp[k].ok ? "ok" : "DISAGREE");
    printf("  attention share: pressure %.4f, proximity %.4f, camera %.4f\n", (double)o.share[0],
           (double)o.share[1], (double)o.share[2]);
    printf("%s: %s (|c-ref| <= %g + %g*|ref|)\n", path,
           bad ? "DISAGREES with the reference" : "agrees with the reference", FUSION_ATOL,
           FUSION_RTOL);
    status = bad ? 1 : 0;
out:
    fusion_workspace_free(&ws);
    fusion_case_free(&c);
    return status;
}

int cmd_fusion(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(sub, "train")) return cmd_fusion_train(argc - 1, argv + 1);
    if (!strcmp(sub, "dataset")) return cmd_fusion_dataset(argc - 1, argv + 1);
    if (!strcmp(sub, "eval")) return cmd_fusion_eval(argc - 1, argv + 1);
    if (!strcmp(sub, "calibrate")) return cmd_fusion_calibrate(argc - 1, argv + 1);
    if (strcmp(sub, "check") != 0) {
        fprintf(stderr, "crossclimb fusion: unknown subcommand '%s'\n", sub);
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    int first = 2;
    if (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 2 && !strcmp(argv[2], "--")) first = 3;
    if (first >= argc) {
        fprintf(stderr, "crossclimb fusion check: no FILE given\n");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    for (int i = first; i < argc && first == 2; i++)
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "crossclimb fusion check: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    int fail = 0;
    for (int i = first; i < argc; i++) fail |= check_one(argv[i]);
    return fail ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
