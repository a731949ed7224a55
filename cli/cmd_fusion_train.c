/*
 * cmd_fusion_train.c — `crossclimb fusion train`: train the attention-fusion
 * model on a labelled dataset (perception/dataset.h) and write its weights
 * (perception/train.h), or make a SYNTHETIC dataset to exercise the trainer
 * before simulator data exist.  docs/perception-training.md describes it.
 *
 * Exit status: 0 success, 1 runtime failure (a file cannot be read, parsed
 * or written; training diverged), 2 usage error.  Every message names the
 * option or the file (and the record) it is about.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "perception/dataset.h"
#include "perception/train.h"
#include "perception/weights_write.h"

int cmd_fusion_train(int argc, char **argv);

#define ME "crossclimb fusion train"

/* Independent streams from one --seed (splitmix64 scrambles the difference). */
#define SEED_DATA 0x5eed0da7au  /* synthetic examples */
#define SEED_SHUFFLE 0x5eed5a1fu /* mini-batch order */
#define SEED_SPLIT 0x5eed0f17u  /* --holdout split */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: crossclimb fusion train --data FILE --out WEIGHTS.safetensors [OPTIONS]\n"
            "       crossclimb fusion train --synthetic N --out WEIGHTS.safetensors [OPTIONS]\n"
            "       crossclimb fusion train --synthetic N --save-data FILE [--seed N]\n"
            "\n"
            "Train the attention-fusion model (SPEC 7) by backpropagation and Adam on a\n"
            "CCFUSION dataset; write the weights (safetensors, the weights-file contract)\n"
            "atomically.  Deterministic: the same data and options give the same bytes.\n"
            "\n"
            "  --data FILE       labelled examples (docs/perception-training.md)\n"
            "  --synthetic N     instead: N SYNTHETIC examples made by ds_synthetic from\n"
            "                    --seed (made-up rules, not simulator data)\n"
            "  --save-data FILE  with --synthetic: also write those examples to FILE\n"
            "                    (alone, without --out: only write them)\n"
            "  --out FILE        weights to write\n"
            "  --epochs N        passes over the data (default 20)\n"
            "  --lr X            Adam step size (default 0.001)\n"
            "  --batch N         examples per mini-batch (default 32)\n"
            "  --seed N          initial weights, shuffling, --holdout split and\n"
            "                    --synthetic data (default 1)\n"
            "  --hidden H        token width of a fresh model (default 16)\n"
            "  --pool HP         pooling width of a fresh model (default H)\n"
            "  --self-attn       a fresh model with self-attention\n"
            "  --init FILE       continue from these weights (sizes come from the file)\n"
            "  --grip-weight X   weight of the grip cross-entropy in the loss (default 1)\n"
            "  --path-weight X   weight of the path cross-entropy (default 1)\n"
            "  --holdout F       fraction of the examples kept out of training and\n"
            "                    reported separately, 0 <= F < 1 (default 0)\n"
            "\n"
            "Prints the loss and accuracy of every epoch (as seen while training), then\n"
            "of the final weights.  Exit status: 0 done, 1 runtime error, 2 usage error.\n");
}

/* Options after parsing. */
typedef struct {
    const char *data, *out, *save_data, *init;
    unsigned long long synthetic; /* 0: none */
    unsigned long long epochs, batch, seed, hidden, pool;
    double lr, grip_weight, path_weight, holdout;
    int self_attn, have_hidden, have_pool;
} opts;

static int bad_value(const char *opt, const char *val, const char *want)
{
    fprintf(stderr, ME ": %s: '%s' is not %s\n", opt, val, want);
    return CLI_EXIT_USAGE;
}

/* A whole number in [lo, hi] from VAL for option OPT. */
static int parse_u(const char *opt, const char *val, unsigned long long lo, unsigned long long hi,
                   unsigned long long *out)
{
    char want[96];
    snprintf(want, sizeof want, "a whole number in %llu..%llu", lo, hi);
    if (!val[0] || val[0] == '-' || val[0] == '+' || val[0] == ' ') return bad_value(opt, val, want);
    errno = 0;
    char *end;
    unsigned long long v = strtoull(val, &end, 0);
    if (errno || *end || v < lo || v > hi) return bad_value(opt, val, want);
    *out = v;
    return 0;
}

/* A finite number in [lo, hi] (in (lo, hi] when LO_OPEN) from VAL for option OPT. */
static int parse_d(const char *opt, const char *val, double lo, double hi, int lo_open, double *out)
{
    char want[96];
    snprintf(want, sizeof want, "a number in %s%g, %g%s", lo_open ? "(" : "[", lo, hi, "]");
    errno = 0;
    char *end;
    double v = strtod(val, &end);
    if (!val[0] || errno || *end || !isfinite(v) || v < lo || (lo_open && v == lo) || v > hi)
        return bad_value(opt, val, want);
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, opts *o)
{
    *o = (opts){.epochs = 20, .batch = 32, .seed = 1, .hidden = 16, .lr = 1e-3,
                .grip_weight = 1.0, .path_weight = 1.0};
    int rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return -1;
        }
        if (!strcmp(a, "--self-attn")) {
            o->self_attn = 1;
            continue;
        }
        static const char *const with_value[] = {
            "--data",  "--out",    "--save-data", "--init",   "--synthetic",   "--epochs",
            "--batch", "--seed",   "--hidden",    "--pool",   "--lr",          "--grip-weight",
            "--path-weight", "--holdout"};
        int known = 0;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
            known |= !strcmp(a, with_value[k]);
        if (!known) {
            fprintf(stderr, ME ": unknown %s '%s'\n", a[0] == '-' ? "option" : "argument", a);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, ME ": %s needs a value\n", a);
            return CLI_EXIT_USAGE;
        }
        const char *v = argv[++i];
        rc = 0;
        if (!strcmp(a, "--data")) o->data = v;
        else if (!strcmp(a, "--out")) o->out = v;
        else if (!strcmp(a, "--save-data")) o->save_data = v;
        else if (!strcmp(a, "--init")) o->init = v;
        else if (!strcmp(a, "--synthetic")) rc = parse_u(a, v, 1, DS_MAX_RECORDS, &o->synthetic);
        else if (!strcmp(a, "--epochs")) rc = parse_u(a, v, 1, 1000000, &o->epochs);
        else if (!strcmp(a, "--batch")) rc = parse_u(a, v, 1, DS_MAX_RECORDS, &o->batch);
        else if (!strcmp(a, "--seed")) rc = parse_u(a, v, 0, UINT64_MAX, &o->seed);
        else if (!strcmp(a, "--hidden")) {
            rc = parse_u(a, v, 1, TRAIN_MAX_H, &o->hidden);
            o->have_hidden = 1;
        } else if (!strcmp(a, "--pool")) {
            rc = parse_u(a, v, 1, TRAIN_MAX_H, &o->pool);
            o->have_pool = 1;
        } else if (!strcmp(a, "--lr")) rc = parse_d(a, v, 0, 10, 1, &o->lr);
        else if (!strcmp(a, "--grip-weight")) rc = parse_d(a, v, 0, 1e6, 0, &o->grip_weight);
        else if (!strcmp(a, "--path-weight")) rc = parse_d(a, v, 0, 1e6, 0, &o->path_weight);
        else if (!strcmp(a, "--holdout")) {
            rc = parse_d(a, v, 0, 0.99, 0, &o->holdout);
        }
        if (rc) return rc;
        if (!v[0]) {
            fprintf(stderr, ME ": %s: empty value\n", a);
            return CLI_EXIT_USAGE;
        }
    }
    if (o->data && o->synthetic) {
        fprintf(stderr, ME ": --data and --synthetic exclude each other\n");
        return CLI_EXIT_USAGE;
    }
    if (!o->data && !o->synthetic) {
        fprintf(stderr, ME ": give --data FILE or --synthetic N\n");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (o->save_data && !o->synthetic) {
        fprintf(stderr, ME ": --save-data needs --synthetic N\n");
        return CLI_EXIT_USAGE;
    }
    if (!o->out && !o->save_data) {
        fprintf(stderr, ME ": --out FILE is required (where the weights go)\n");
        return CLI_EXIT_USAGE;
    }
    if (o->init && (o->have_hidden || o->have_pool || o->self_attn)) {
        fprintf(stderr, ME ": --init takes the model's sizes from the file; drop %s\n",
                o->have_hidden ? "--hidden" : o->have_pool ? "--pool" : "--self-attn");
        return CLI_EXIT_USAGE;
    }
    if (!o->have_pool) o->pool = o->hidden;
    return 0;
}

/* Read PATH whole into *BUF (malloc'ed); 0 or -1 with the message printed. */
static int read_file(const char *path, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, ME ": %s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    for (;;) {
        if (*len == cap) {
            size_t ncap = cap ? cap * 2 : 1 << 16;
            uint8_t *nb = ncap > cap ? realloc(*buf, ncap) : NULL;
            if (!nb) {
                fprintf(stderr, ME ": %s: no memory to read it\n", path);
                break;
            }
            *buf = nb;
            cap = ncap;
        }
        size_t n = fread(*buf + *len, 1, cap - *len, f);
        *len += n;
        if (n == 0) {
            if (!ferror(f)) {
                fclose(f);
                return 0;
            }
            fprintf(stderr, ME ": %s: read error\n", path);
            break;
        }
    }
    fclose(f);
    free(*buf);
    *buf = NULL;
    return -1;
}

/* FNV-1a, 64 bits: names the exact training data in the weights' metadata. */
static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

static void print_stats(const char *label, const train_stats *s)
{
    printf("%s loss %.4f (grip %.4f, path %.4f)  grip acc %.3f  path acc %.3f", label, s->loss,
           s->loss_grip, s->loss_path, s->n ? (double)s->grip_correct / (2.0 * (double)s->n) : 0.0,
           s->n ? (double)s->path_correct / (double)s->n : 0.0);
}

int cmd_fusion_train(int argc, char **argv)
{
    opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc < 0) return CLI_EXIT_OK; /* --help */
    if (rc) return rc;

    int status = CLI_EXIT_FAIL;
    char err[ST_ERR_LEN + 256];
    uint8_t *file = NULL;
    const uint8_t *bytes;
    size_t len;
    ds_builder b = {0};
    dataset ds = {0};
    train_model m = {0};
    trainer t = {0};
    size_t *idx = NULL;
    char dname[64];
    const char *data_name = o.data;

    /* The examples: a file, or synthetic ones. */
    if (o.synthetic) {
        if ((rc = ds_synthetic(&b, (size_t)o.synthetic, o.seed ^ SEED_DATA)) != 0 ||
            (rc = ds_build_finish(&b, &bytes, &len)) != 0) {
            fprintf(stderr, ME ": synthetic data: %s\n", ds_strerror(rc));
            goto out;
        }
        snprintf(dname, sizeof dname, "synthetic(%llu, seed %llu)", o.synthetic, o.seed);
        data_name = dname;
        if (o.save_data) {
            if (wt_write_atomic(o.save_data, bytes, len, err, sizeof err) != 0) {
                fprintf(stderr, ME ": --save-data: %s\n", err);
                goto out;
            }
            printf("wrote %llu SYNTHETIC examples to %s (%zu bytes)\n", o.synthetic, o.save_data,
                   len);
            if (!o.out) {
                status = CLI_EXIT_OK;
                goto out;
            }
        }
    } else {
        if (read_file(o.data, &file, &len) != 0) goto out;
        bytes = file;
    }
    if ((rc = ds_parse_buffer(&ds, bytes, len, data_name, err, sizeof err)) != 0) {
        fprintf(stderr, ME ": %s\n", err);
        goto out;
    }
    const uint64_t data_hash = fnv1a64(bytes, len);
    free(file);
    file = NULL;
    ds_build_free(&b);

    /* The model: fresh, or from --init. */
    if (o.init) {
        if ((rc = train_model_load(&m, o.init, err, sizeof err)) != 0) {
            fprintf(stderr, ME ": --init: %s\n", err);
            goto out;
        }
    } else {
        train_shape s = {.H = (size_t)o.hidden, .Hp = (size_t)o.pool, .self_attn = o.self_attn};
        for (int k = 0; k < FUSION_MODALITIES; k++) s.D[k] = ds.D[k];
        if ((rc = train_model_init(&m, &s, o.seed, err, sizeof err)) != 0) {
            fprintf(stderr, ME ": %s\n", err);
            goto out;
        }
    }
    if ((rc = train_check_dataset(&m, &ds, data_name, err, sizeof err)) != 0) {
        fprintf(stderr, ME ": %s%s%s\n", err, o.init ? " in --init " : "", o.init ? o.init : "");
        goto out;
    }

    /* Training and held-out indices. */
    idx = malloc(ds.count * sizeof *idx);
    if (!idx) {
        fprintf(stderr, ME ": no memory\n");
        goto out;
    }
    for (size_t i = 0; i < ds.count; i++) idx[i] = i;
    size_t n_hold = (size_t)floor(o.holdout * (double)ds.count), n_train = ds.count - n_hold;
    if (n_hold) {
        ds_rng sr;
        ds_rng_seed(&sr, o.seed ^ SEED_SPLIT);
        for (size_t i = ds.count; i > 1; i--) {
            size_t j = (size_t)ds_rng_below(&sr, i), tmp = idx[i - 1];
            idx[i - 1] = idx[j];
            idx[j] = tmp;
        }
    }
    if (n_train == 0) {
        fprintf(stderr, ME ": --holdout %g leaves no example to train on\n", o.holdout);
        goto out;
    }
    size_t *hold = idx + n_train;

    train_config cfg;
    train_config_default(&cfg);
    cfg.lr = o.lr;
    cfg.batch = (size_t)o.batch;
    cfg.grip_weight = o.grip_weight;
    cfg.path_weight = o.path_weight;
    cfg.seed = o.seed ^ SEED_SHUFFLE;
    if ((rc = trainer_init(&t, &m, &cfg, ds.max_tokens, err, sizeof err)) != 0) {
        fprintf(stderr, ME ": %s\n", err);
        goto out;
    }
    const train_shape *sh = &m.shape;
    printf("data: %s: %zu examples%s, widths %zu/%zu/%zu, up to %zu tokens; training on %zu, "
           "holding out %zu\n",
           data_name, ds.count, (ds.flags & DS_FLAG_SYNTHETIC) ? " (SYNTHETIC, not simulator data)" : "",
           ds.D[0], ds.D[1], ds.D[2], ds.max_tokens, n_train, n_hold);
    printf("model: H=%zu Hp=%zu self-attention=%s, %zu parameters%s%s; Adam lr %g, batch %zu, "
           "%llu epochs, seed %llu\n",
           sh->H, sh->Hp, sh->self_attn ? "yes" : "no", m.nparams, o.init ? ", from " : ", fresh",
           o.init ? o.init : "", cfg.lr, cfg.batch, o.epochs, o.seed);

    if (ds.D[0] != FEAT_DP || ds.D[1] != FEAT_DQ || ds.D[2] != FEAT_DC)
        printf("note: widths differ from the feature layout %d/%d/%d (features.h): the "
               "controller's loader (FUSION_LOAD_FEATURES) will refuse these weights\n",
               FEAT_DP, FEAT_DQ, FEAT_DC);
    train_stats st, sv;
    for (unsigned long long e = 1; e <= o.epochs; e++) {
        if ((rc = trainer_epoch(&t, &ds, idx, n_train, &st)) != 0) {
            fprintf(stderr, ME ": epoch %llu: %s\n", e, train_strerror(rc));
            goto out;
        }
        char label[48];
        snprintf(label, sizeof label, "epoch %*llu/%llu", e < 10 && o.epochs >= 10 ? 2 : 1, e,
                 o.epochs);
        print_stats(label, &st);
        if (n_hold) {
            if ((rc = trainer_evaluate(&t, &ds, hold, n_hold, &sv)) != 0) {
                fprintf(stderr, ME ": holdout: %s\n", train_strerror(rc));
                goto out;
            }
            print_stats("  | holdout", &sv);
        }
        printf("\n");
        fflush(stdout);
    }
    if ((rc = trainer_evaluate(&t, &ds, idx, n_train, &st)) != 0) {
        fprintf(stderr, ME ": final evaluation: %s\n", train_strerror(rc));
        goto out;
    }
    print_stats("final weights: training", &st);
    if (n_hold) {
        if ((rc = trainer_evaluate(&t, &ds, hold, n_hold, &sv)) != 0) {
            fprintf(stderr, ME ": holdout: %s\n", train_strerror(rc));
            goto out;
        }
        print_stats("  | holdout", &sv);
    }
    printf("\n");

    /* The weights, with how they were made (no paths, no time: reproducible bytes). */
    char v_data[96], v_n[32], v_ep[32], v_lr[40], v_batch[32], v_seed[32], v_hash[32], v_w[64],
        v_hold[40];
    snprintf(v_data, sizeof v_data, "%s", o.synthetic ? "synthetic" : "dataset file");
    snprintf(v_n, sizeof v_n, "%zu", n_train);
    snprintf(v_ep, sizeof v_ep, "%llu", o.epochs);
    snprintf(v_lr, sizeof v_lr, "%.17g", cfg.lr);
    snprintf(v_batch, sizeof v_batch, "%zu", cfg.batch);
    snprintf(v_seed, sizeof v_seed, "%llu", o.seed);
    snprintf(v_hash, sizeof v_hash, "%016" PRIx64, data_hash);
    snprintf(v_w, sizeof v_w, "grip %.17g, path %.17g", cfg.grip_weight, cfg.path_weight);
    snprintf(v_hold, sizeof v_hold, "%.17g", o.holdout);
    const st_meta meta[] = {{"trainer", "crossclimb fusion train"},
                            {"data", v_data},
                            {"data_fnv1a64", v_hash},
                            {"examples_trained", v_n},
                            {"holdout", v_hold},
                            {"epochs", v_ep},
                            {"lr", v_lr},
                            {"batch", v_batch},
                            {"seed", v_seed},
                            {"loss_weights", v_w},
                            {"init", o.init ? "file" : "fresh"}};
    if ((rc = train_model_write(&m, o.out, meta, sizeof meta / sizeof meta[0], err,
                                sizeof err)) != 0) {
        fprintf(stderr, ME ": --out: %s\n", err);
        goto out;
    }
    printf("wrote %s (%zu parameters)\n", o.out, m.nparams);
    status = CLI_EXIT_OK;
out:
    free(idx);
    trainer_free(&t);
    train_model_free(&m);
    ds_free(&ds);
    ds_build_free(&b);
    free(file);
    return status;
}
