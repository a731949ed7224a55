/*
 * cmd_fusion_data.c — `crossclimb fusion dataset` and `crossclimb fusion
 * eval`: labelled examples from the simulator (sim/episodes.h) into a
 * CCFUSION dataset (perception/dataset.h), and the trained model measured
 * against the rule-based baseline (perception/eval.h) on data it was not
 * trained on.  docs/perception-data.md describes both.
 *
 * The front composes the modules: sim/ makes plain readings and labels,
 * perception/ knows snapshots and tokens; the conversion between them (the
 * travel frame is already the simulator's) is ep_to_snapshot below.
 *
 * Next to every dataset goes a manifest (FILE.manifest, text): the seed,
 * every facade with the FNV-1a hash of its cells, and the sequences of a
 * degrading cup (first record, length, group, loss step).  `fusion eval`
 * reads it for the lead time and, given the training data's manifest,
 * proves the split: no facade in common, another seed.
 *
 * Exit status: 0 success, 1 runtime failure (a file cannot be read or
 * written, a split violated), 2 usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "controller/fusion_gate.h"
#include "perception/dataset.h"
#include "perception/eval.h"
#include "perception/features.h"
#include "perception/fusion.h"
#include "perception/weights_write.h"
#include "robot/facade.h"
#include "robot/robotcfg.h"
#include "sim/episodes.h"

#define MED "crossclimb fusion dataset"
#define MEE "crossclimb fusion eval"

/* Independent streams of one --seed. */
#define SALT_FACADE 0xFACADE5u
#define SALT_SEQ 0x5E9u

#define MAX_FACADES 512
#define MANIFEST_SUFFIX ".manifest"

/* ------------------------------------------------------------ helpers */

/* A whole number in [lo, hi] from VAL for option OPT of command ME. */
static int parse_u(const char *me, const char *opt, const char *val, unsigned long long lo,
                   unsigned long long hi, unsigned long long *out)
{
    errno = 0;
    char *end;
    unsigned long long v = 0;
    if (val[0] >= '0' && val[0] <= '9') v = strtoull(val, &end, 10);
    if (!(val[0] >= '0' && val[0] <= '9') || errno || *end || v < lo || v > hi) {
        fprintf(stderr, "%s: %s: '%s' is not a whole number in %llu..%llu\n", me, opt, val, lo, hi);
        return CLI_EXIT_USAGE;
    }
    *out = v;
    return 0;
}

/* A finite number in [lo, hi] from VAL for option OPT of command ME. */
static int parse_d(const char *me, const char *opt, const char *val, double lo, double hi,
                   double *out)
{
    errno = 0;
    char *end;
    double v = strtod(val, &end);
    if (!val[0] || errno || *end || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "%s: %s: '%s' is not a number in [%g, %g]\n", me, opt, val, lo, hi);
        return CLI_EXIT_USAGE;
    }
    *out = v;
    return 0;
}

static uint64_t fnv1a64(const void *data, size_t n, uint64_t h)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

#define FNV_INIT 0xcbf29ce484222325u

/* What identifies a facade: its geometry and cells, not its name. */
static uint64_t facade_hash(const facade *f)
{
    uint32_t dims[3] = {f->cell_mm, f->cols, f->rows};
    uint64_t h = fnv1a64(dims, sizeof dims, FNV_INIT);
    return fnv1a64(f->cells, (size_t)f->cols * f->rows, h);
}

/* Read PATH whole; 0 or -1 with the message printed under ME. */
static int read_all(const char *me, const char *path, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "%s: %s: cannot open: %s\n", me, path, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    int rc = -1;
    for (;;) {
        if (*len == cap) {
            size_t ncap = cap ? cap * 2 : (size_t)1 << 16;
            uint8_t *nb = realloc(*buf, ncap);
            if (!nb) {
                fprintf(stderr, "%s: %s: no memory to read it\n", me, path);
                break;
            }
            *buf = nb;
            cap = ncap;
        }
        size_t n = fread(*buf + *len, 1, cap - *len, fp);
        *len += n;
        if (n == 0) {
            if (ferror(fp)) fprintf(stderr, "%s: %s: read error\n", me, path);
            else rc = 0;
            break;
        }
    }
    fclose(fp);
    if (rc) {
        free(*buf);
        *buf = NULL;
    }
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *const path_names[FUSION_PATH] = {"PROCEED", "SHORTEN", "SIDESTEP_LEFT",
                                                    "SIDESTEP_RIGHT", "STOP"};

/* An ep_example's readings as a perception snapshot (PIXELS must outlive S). */
static void ep_to_snapshot(const ep_example *ex, feat_snapshot *s)
{
    feat_snapshot_init(s);
    for (int c = 0; c < FEAT_CUPS; c++) {
        s->vacuum_kpa[c] = ex->vacuum_kpa[c];
        s->vacuum_rate_kpa_s[c] = ex->vacuum_rate_kpa_s[c];
    }
    for (int f = 0; f < 4; f++) {
        s->foot_mm[f][0] = ex->foot_mm[f][0];
        s->foot_mm[f][1] = ex->foot_mm[f][1];
    }
    s->holding[0] = ex->holding[0] != 0;
    s->holding[1] = ex->holding[1] != 0;
    /* the simulator's slots are the features' order: right, left, ahead, behind */
    for (int p = 0; p < FEAT_PROX; p++) {
        s->proximity[p].distance_mm = ex->prox_mm[p];
        s->proximity[p].no_echo = ex->prox_no_echo[p] != 0;
        s->proximity[p].dropout = ex->prox_dropout[p] != 0;
    }
    s->camera.online = ex->camera_online != 0;
    if (s->camera.online) {
        s->camera.width = EP_CAM_W;
        s->camera.height = EP_CAM_H;
        s->camera.pixels = ex->pixels;
    }
}

/* ================================================================ dataset */

static void usage_dataset(FILE *f)
{
    fprintf(f,
            "usage: crossclimb fusion dataset --out FILE [--n N] [--seed S] [--facades DIR]\n"
            "                                 [--gen-facades K] [--faults-rate X]\n"
            "                                 [--sequences F] [--seq-len L] [--robot INI]\n"
            "\n"
            "Labelled examples for the fusion model from the simulated robot: poses on\n"
            "facades, gait phases, injected faults, the sensor readings of the last second\n"
            "and the camera view ahead; labels from the physics (docs/perception-data.md):\n"
            "per group, whether its next foothold seals and holds, and the safe path\n"
            "(PROCEED, SHORTEN, SIDESTEP_LEFT, SIDESTEP_RIGHT, STOP).  Deterministic for a\n"
            "seed.  Writes FILE (CCFUSION, atomically) and FILE.manifest (seed, facades\n"
            "with their hashes, sequences).\n"
            "\n"
            "  --out FILE         the dataset to write\n"
            "  --n N              examples (records), default 2000\n"
            "  --seed S           default 1; facades, poses, faults and sensors follow it\n"
            "  --facades DIR      also use every DIR/*.txt facade (e.g. sim/facades)\n"
            "  --gen-facades K    facades generated from the seed, default 32 (0: only DIR)\n"
            "  --faults-rate X    share of situations with injected faults, default 0.3\n"
            "  --sequences F      share of the examples in sequences of a degrading cup,\n"
            "                     default 0.2 (for the lead time of 'fusion eval')\n"
            "  --seq-len L        steps (1 s apart) per sequence, 5..100, default 12\n"
            "  --robot INI        robot configuration (default: the built-in default robot)\n"
            "\n"
            "Prints the facades, the counts per label and the time taken.  Exit status: 0\n"
            "done, 1 runtime error, 2 usage error.\n");
}

typedef struct {
    const char *out, *facades, *robot;
    unsigned long long n, seed, gen, seq_len;
    double faults_rate, seq_share;
} ds_opts;

static int parse_dataset(int argc, char **argv, ds_opts *o)
{
    *o = (ds_opts){.n = 2000, .seed = 1, .gen = 32, .seq_len = 12, .faults_rate = 0.3,
                   .seq_share = 0.2};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage_dataset(stdout);
            return -1;
        }
        static const char *const opts[] = {"--out",         "--n",         "--seed",
                                           "--facades",     "--gen-facades", "--faults-rate",
                                           "--sequences",   "--seq-len",   "--robot"};
        int known = 0;
        for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) known |= !strcmp(a, opts[k]);
        if (!known) {
            fprintf(stderr, MED ": unknown %s '%s'\n", a[0] == '-' ? "option" : "argument", a);
            usage_dataset(stderr);
            return CLI_EXIT_USAGE;
        }
        if (i + 1 >= argc || !argv[i + 1][0]) {
            fprintf(stderr, MED ": %s needs a value\n", a);
            return CLI_EXIT_USAGE;
        }
        const char *v = argv[++i];
        int rc = 0;
        if (!strcmp(a, "--out")) o->out = v;
        else if (!strcmp(a, "--facades")) o->facades = v;
        else if (!strcmp(a, "--robot")) o->robot = v;
        else if (!strcmp(a, "--n")) rc = parse_u(MED, a, v, 1, DS_MAX_RECORDS, &o->n);
        else if (!strcmp(a, "--seed")) rc = parse_u(MED, a, v, 0, UINT64_MAX, &o->seed);
        else if (!strcmp(a, "--gen-facades")) rc = parse_u(MED, a, v, 0, MAX_FACADES, &o->gen);
        else if (!strcmp(a, "--seq-len")) rc = parse_u(MED, a, v, 5, 100, &o->seq_len);
        else if (!strcmp(a, "--faults-rate")) rc = parse_d(MED, a, v, 0.0, 1.0, &o->faults_rate);
        else rc = parse_d(MED, a, v, 0.0, 0.9, &o->seq_share);
        if (rc) return rc;
    }
    if (!o->out) {
        fprintf(stderr, MED ": --out FILE is required\n");
        usage_dataset(stderr);
        return CLI_EXIT_USAGE;
    }
    if (o->gen == 0 && !o->facades) {
        fprintf(stderr, MED ": --gen-facades 0 needs --facades DIR (no facade to use)\n");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* The facades of a run: every *.txt file of DIR (sorted by name), then the
 * generated ones.  Names and sources for the manifest. */
typedef struct {
    facade *f[MAX_FACADES * 2];
    char *source[MAX_FACADES * 2]; /* file path, or NULL: generated */
    size_t n;
} facade_set;

static void facade_set_free(facade_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        facade_free(s->f[i]);
        free(s->source[i]);
    }
    s->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_facades(const ds_opts *o, facade_set *s)
{
    char err[512];
    int status = -1;
    char **names = NULL;
    size_t nn = 0;
    DIR *d = NULL;
    if (o->facades) {
        d = opendir(o->facades);
        if (!d) {
            fprintf(stderr, MED ": --facades %s: %s\n", o->facades, strerror(errno));
            goto out;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            size_t l = strlen(e->d_name);
            if (l < 5 || strcmp(e->d_name + l - 4, ".txt") || e->d_name[0] == '.') continue;
            if (nn == MAX_FACADES) {
                fprintf(stderr, MED ": --facades %s: more than %d facades\n", o->facades,
                        MAX_FACADES);
                goto out;
            }
            char **nb = realloc(names, (nn + 1) * sizeof *names);
            if (nb) names = nb;
            size_t pl = strlen(o->facades) + l + 2;
            if (!nb || !(names[nn] = malloc(pl))) {
                fprintf(stderr, MED ": no memory for the facade list\n");
                goto out;
            }
            snprintf(names[nn++], pl, "%s/%s", o->facades, e->d_name);
        }
        if (nn == 0) {
            fprintf(stderr, MED ": --facades %s: no *.txt facade in it\n", o->facades);
            goto out;
        }
        qsort(names, nn, sizeof *names, cmp_str);
        for (size_t i = 0; i < nn; i++) {
            if (facade_load_file(names[i], &s->f[s->n], err, sizeof err) != 0) {
                fprintf(stderr, MED ": %s\n", err);
                goto out;
            }
            s->source[s->n++] = names[i];
            names[i] = NULL;
        }
    }
    for (unsigned long long k = 0; k < o->gen; k++) {
        int rc = ep_facade_generate(ep_mix_seed(o->seed ^ SALT_FACADE, k), &s->f[s->n], err,
                                    sizeof err);
        if (rc) {
            fprintf(stderr, MED ": generating facade %llu: %s: %s\n", k, ep_strerror(rc), err);
            goto out;
        }
        s->source[s->n++] = NULL;
    }
    status = 0;
out:
    if (d) closedir(d);
    for (size_t i = 0; i < nn; i++) free(names[i]);
    free(names);
    return status;
}

/* A growing text buffer for the manifest. */
typedef struct {
    char *p;
    size_t len, cap;
    int failed;
} textbuf;

static void tb_printf(textbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tb_printf(textbuf *t, const char *fmt, ...)
{
    if (t->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->p && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t ncap = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
        char *nb = realloc(t->p, ncap);
        if (!nb) {
            t->failed = 1;
            return;
        }
        t->p = nb;
        t->cap = ncap;
    }
}

/* Counts printed at the end. */
typedef struct {
    size_t n, hold[2][2], path[FUSION_PATH], phase[EP_PHASE_COUNT], faulted, tries;
    size_t safe[EP_STEPS], seq, seq_lost, blackout;
} ds_counts;

static void count_example(ds_counts *c, const ep_example *ex)
{
    c->n++;
    for (int g = 0; g < 2; g++) c->hold[g][ex->hold[g]]++;
    c->path[ex->path]++;
    c->phase[ex->sit.phase]++;
    c->faulted += ep_faults_count(&ex->sit.faults) > 0;
    c->blackout += !ex->camera_online;
    for (int k = 0; k < EP_STEPS; k++) c->safe[k] += ex->safe[k] == 1;
}

static int add_example(ds_builder *b, const ep_example *ex, ds_counts *c)
{
    feat_snapshot s;
    ep_to_snapshot(ex, &s);
    ds_labels y = {.hold = {ex->hold[0], ex->hold[1]}, .path = ex->path};
    int rc = ds_build_snapshot(b, &s, &y);
    if (rc) fprintf(stderr, MED ": example refused by the dataset builder: %s\n", ds_strerror(rc));
    else count_example(c, ex);
    return rc;
}

static const char *const cup_names[EP_CUPS] = {"A1a", "A1b", "A1c", "A2a", "A2b", "A2c",
                                               "B1a", "B1b", "B1c", "B2a", "B2b", "B2c"};

int cmd_fusion_dataset(int argc, char **argv);
int cmd_fusion_dataset(int argc, char **argv)
{
    ds_opts o;
    int rc = parse_dataset(argc, argv, &o);
    if (rc < 0) return CLI_EXIT_OK;
    if (rc) return rc;

    int status = CLI_EXIT_FAIL;
    char err[1024];
    facade_set fs = {0};
    ds_builder b = {0};
    textbuf man = {0};
    ep_example *exs = NULL;
    size_t *per_facade = NULL;
    char *man_path = NULL;
    robotcfg robot;
    const double t_start = now_s();

    robotcfg_defaults(&robot);
    if (o.robot && robotcfg_load_file(o.robot, &robot, err, sizeof err) != 0) {
        fprintf(stderr, MED ": --robot: %s\n", err);
        goto out;
    }
    if (load_facades(&o, &fs) != 0) goto out;
    ep_world w;
    if (ep_world_init(&w, &robot, (const facade *const *)fs.f, fs.n) != 0) {
        fprintf(stderr, MED ": no facade\n");
        goto out;
    }
    w.cfg.faults_rate = o.faults_rate;
    const size_t L = (size_t)o.seq_len;
    const size_t n_seq = (size_t)floor((double)o.n * o.seq_share / (double)L);
    const size_t n_single = (size_t)o.n - n_seq * L;
    exs = calloc(L, sizeof *exs);
    per_facade = calloc(fs.n, sizeof *per_facade);
    man_path = malloc(strlen(o.out) + sizeof MANIFEST_SUFFIX);
    if (!exs || !per_facade || !man_path) {
        fprintf(stderr, MED ": no memory\n");
        goto out;
    }
    sprintf(man_path, "%s%s", o.out, MANIFEST_SUFFIX);
    const size_t D[FUSION_MODALITIES] = {FEAT_DP, FEAT_DQ, FEAT_DC};
    if ((rc = ds_build_start(&b, D, 0)) != 0) {
        fprintf(stderr, MED ": %s\n", ds_strerror(rc));
        goto out;
    }
    printf("dataset: %llu examples (%zu single, %zu sequences of %zu), seed %llu, faults rate "
           "%g, %zu facades (%zu from %s, %llu generated)\n",
           o.n, n_single, n_seq, L, o.seed, o.faults_rate, fs.n, fs.n - (size_t)o.gen,
           o.facades ? o.facades : "-", o.gen);
    fflush(stdout);

    ds_counts cnt = {0};
    textbuf seqs = {0};
    size_t done = 0, next_report = o.n / 10 ? o.n / 10 : 1;
    for (size_t i = 0; i < n_single; i++) {
        unsigned tries = 0;
        rc = ep_example_make(&w, ep_mix_seed(o.seed, i), &exs[0], &tries, err, sizeof err);
        if (rc) {
            fprintf(stderr, MED ": example %zu: %s: %s\n", i, ep_strerror(rc), err);
            free(seqs.p);
            goto out;
        }
        cnt.tries += tries;
        per_facade[exs[0].sit.facade]++;
        if (add_example(&b, &exs[0], &cnt) != 0) {
            free(seqs.p);
            goto out;
        }
        if (++done >= next_report) {
            fflush(stdout);
            fprintf(stderr, "  %zu/%llu examples (%.1f s)\n", done, o.n, now_s() - t_start);
            next_report += o.n / 10 ? o.n / 10 : 1;
        }
    }
    for (size_t j = 0; j < n_seq; j++) {
        ep_sequence_info info;
        rc = ep_sequence_make(&w, ep_mix_seed(o.seed ^ SALT_SEQ, j), L, exs, &info, err,
                              sizeof err);
        if (rc) {
            fprintf(stderr, MED ": sequence %zu: %s: %s\n", j, ep_strerror(rc), err);
            free(seqs.p);
            goto out;
        }
        tb_printf(&seqs, "sequence %zu %zu group %c cup %s loss %d facade %u\n", b.count, L,
                  info.group ? 'B' : 'A', cup_names[info.cup], info.loss_step,
                  exs[0].sit.facade);
        cnt.seq++;
        cnt.seq_lost += info.loss_step >= 0;
        for (size_t k = 0; k < L; k++) {
            per_facade[exs[k].sit.facade]++;
            if (add_example(&b, &exs[k], &cnt) != 0) {
                free(seqs.p);
                goto out;
            }
        }
        done += L;
        if (done >= next_report) {
            fprintf(stderr, "  %zu/%llu examples (%.1f s)\n", done, o.n, now_s() - t_start);
            next_report += o.n / 10 ? o.n / 10 : 1;
        }
    }
    const uint8_t *bytes;
    size_t len;
    if ((rc = ds_build_finish(&b, &bytes, &len)) != 0) {
        fprintf(stderr, MED ": %s\n", ds_strerror(rc));
        free(seqs.p);
        goto out;
    }
    const uint64_t data_hash = fnv1a64(bytes, len, FNV_INIT);

    /* The manifest: what the data are made of, for the split check. */
    const char *base = strrchr(o.out, '/') ? strrchr(o.out, '/') + 1 : o.out;
    tb_printf(&man, "# crossclimb fusion dataset manifest (docs/perception-data.md)\n"
                    "ccfusion-manifest 1\n");
    tb_printf(&man, "data %s fnv1a64 %016" PRIx64 " records %zu\n", base, data_hash, b.count);
    tb_printf(&man, "seed %llu\n", o.seed);
    tb_printf(&man, "options n=%llu gen-facades=%llu faults-rate=%g sequences=%g seq-len=%zu%s%s\n",
              o.n, o.gen, o.faults_rate, o.seq_share, L, o.facades ? " facades=" : "",
              o.facades ? o.facades : "");
    for (size_t i = 0; i < fs.n; i++)
        tb_printf(&man, "facade %zu %s fnv1a64 %016" PRIx64 " examples %zu %s %s\n", i,
                  fs.f[i]->name, facade_hash(fs.f[i]), per_facade[i],
                  fs.source[i] ? "file" : "generated", fs.source[i] ? fs.source[i] : "-");
    if (seqs.p) tb_printf(&man, "%s", seqs.p);
    free(seqs.p);
    if (man.failed) {
        fprintf(stderr, MED ": no memory for the manifest\n");
        goto out;
    }
    if (wt_write_atomic(o.out, bytes, len, err, sizeof err) != 0 ||
        wt_write_atomic(man_path, man.p, man.len, err, sizeof err) != 0) {
        fprintf(stderr, MED ": %s\n", err);
        goto out;
    }

    for (size_t i = 0; i < fs.n; i++)
        printf("facade %2zu %-28s %-9s %5zu examples  fnv1a64 %016" PRIx64 "\n", i, fs.f[i]->name,
               fs.source[i] ? "file" : "generated", per_facade[i], facade_hash(fs.f[i]));
    printf("labels: hold A: %zu seal and hold, %zu do not;  hold B: %zu / %zu\n", cnt.hold[0][1],
           cnt.hold[0][0], cnt.hold[1][1], cnt.hold[1][0]);
    printf("path:");
    for (int k = 0; k < FUSION_PATH; k++) printf(" %s %zu", path_names[k], cnt.path[k]);
    printf("\nsafe steps: full %zu, short %zu, left %zu, right %zu\n", cnt.safe[0], cnt.safe[1],
           cnt.safe[2], cnt.safe[3]);
    printf("phases: settled %zu, releasing %zu; with faults %zu; camera offline %zu; "
           "sequences %zu (seal lost in %zu); poses tried %zu for %zu single examples\n",
           cnt.phase[EP_PHASE_SETTLED], cnt.phase[EP_PHASE_RELEASING], cnt.faulted, cnt.blackout,
           cnt.seq, cnt.seq_lost, cnt.tries, n_single);
    printf("wrote %s (%zu records, %zu bytes, fnv1a64 %016" PRIx64 ") and %s\n", o.out, b.count,
           len, data_hash, man_path);
    printf("took %.1f s\n", now_s() - t_start);
    status = CLI_EXIT_OK;
out:
    free(man.p);
    free(man_path);
    free(per_facade);
    free(exs);
    ds_build_free(&b);
    facade_set_free(&fs);
    return status;
}

/* =================================================================== eval */

static void usage_eval(FILE *f)
{
    fprintf(f,
            "usage: crossclimb fusion eval --weights W --data FILE [--manifest M]\n"
            "                              [--train-manifest M]\n"
            "\n"
            "Measure the fusion model W on a dataset it was not trained on, against the\n"
            "rule-based baseline (vacuum and proximity thresholds; docs/perception-data.md):\n"
            "grip-risk AUROC per group, path accuracy and confusion matrix, the lead time on\n"
            "the sequences of a degrading cup (how many steps earlier the model flags the\n"
            "seal loss than the baseline, at the same or a lower false-alarm rate), and an\n"
            "ablation that drops each modality's tokens in turn.\n"
            "\n"
            "  --weights W          the model (safetensors, the features' widths)\n"
            "  --data FILE          snapshot examples (crossclimb fusion dataset)\n"
            "  --manifest M         FILE's manifest (default FILE.manifest): sequences, facades\n"
            "  --train-manifest M   the manifest of the data W was trained on: the split is\n"
            "                       checked (no facade in common, another seed, and W's\n"
            "                       data hash is that data's); a violation is an error\n"
            "\n"
            "Exit status: 0 done, 1 runtime error or split violated, 2 usage error.\n");
}

typedef struct {
    const char *weights, *data, *manifest, *train_manifest;
} ev_opts;

static int parse_eval(int argc, char **argv, ev_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage_eval(stdout);
            return -1;
        }
        const char **dst = !strcmp(a, "--weights")          ? &o->weights
                           : !strcmp(a, "--data")           ? &o->data
                           : !strcmp(a, "--manifest")       ? &o->manifest
                           : !strcmp(a, "--train-manifest") ? &o->train_manifest
                                                            : NULL;
        if (!dst) {
            fprintf(stderr, MEE ": unknown %s '%s'\n", a[0] == '-' ? "option" : "argument", a);
            usage_eval(stderr);
            return CLI_EXIT_USAGE;
        }
        if (i + 1 >= argc || !argv[i + 1][0]) {
            fprintf(stderr, MEE ": %s needs a value\n", a);
            return CLI_EXIT_USAGE;
        }
        *dst = argv[++i];
    }
    if (!o->weights || !o->data) {
        fprintf(stderr, MEE ": %s is required\n", !o->weights ? "--weights W" : "--data FILE");
        usage_eval(stderr);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* A parsed manifest: the parts eval uses. */
typedef struct {
    int present;
    uint64_t seed, data_hash;
    int have_seed, have_data;
    size_t n_fac, n_seq;
    uint64_t *fac_hash;
    char (*fac_name)[FACADE_NAME_MAX + 1];
    size_t (*seq)[4]; /* first record, length, group, loss step + 1 (0 = none) */
} manifest;

static void manifest_free(manifest *m)
{
    free(m->fac_hash);
    free(m->fac_name);
    free(m->seq);
    memset(m, 0, sizeof *m);
}

/* Read manifest PATH; MUST: a missing file is an error.  0, or -1 printed. */
static int manifest_load(const char *path, int must, manifest *m)
{
    memset(m, 0, sizeof *m);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        if (!must && errno == ENOENT) return 0;
        fprintf(stderr, MEE ": %s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    char line[1024];
    unsigned lineno = 0;
    int status = -1;
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        char name[FACADE_NAME_MAX + 1], gch;
        unsigned long long a, b2, h;
        int loss;
        unsigned fi;
        if (line[0] == '#' || line[0] == '\n') continue;
        if (!strncmp(line, "ccfusion-manifest ", 18) || !strncmp(line, "options ", 8)) continue;
        if (sscanf(line, "seed %llu", &a) == 1) {
            m->seed = a;
            m->have_seed = 1;
        } else if (!strncmp(line, "data ", 5)) {
            char *p = strstr(line, " fnv1a64 ");
            if (!p || sscanf(p, " fnv1a64 %llx", &h) != 1) {
                fprintf(stderr, MEE ": %s:%u: not a manifest line: %.60s\n", path, lineno, line);
                goto out;
            }
            m->data_hash = h;
            m->have_data = 1;
        } else if (sscanf(line, "facade %llu %63s fnv1a64 %llx", &a, name, &h) == 3) {
            uint64_t *nh = realloc(m->fac_hash, (m->n_fac + 1) * sizeof *nh);
            if (nh) m->fac_hash = nh;
            char(*nn)[FACADE_NAME_MAX + 1] = realloc(m->fac_name, (m->n_fac + 1) * sizeof *nn);
            if (nn) m->fac_name = nn;
            if (!nh || !nn) {
                fprintf(stderr, MEE ": %s: no memory\n", path);
                goto out;
            }
            m->fac_hash[m->n_fac] = h;
            memcpy(m->fac_name[m->n_fac], name, sizeof name);
            m->n_fac++;
        } else if (sscanf(line, "sequence %llu %llu group %c cup %*s loss %d facade %u", &a, &b2,
                          &gch, &loss, &fi) == 5 &&
                   (gch == 'A' || gch == 'B') && b2 >= 1 && loss >= -1 && loss < (int)b2) {
            size_t(*ns)[4] = realloc(m->seq, (m->n_seq + 1) * sizeof *ns);
            if (!ns) {
                fprintf(stderr, MEE ": %s: no memory\n", path);
                goto out;
            }
            m->seq = ns;
            m->seq[m->n_seq][0] = (size_t)a;
            m->seq[m->n_seq][1] = (size_t)b2;
            m->seq[m->n_seq][2] = gch == 'B';
            m->seq[m->n_seq][3] = (size_t)(loss + 1);
            m->n_seq++;
        } else {
            fprintf(stderr, MEE ": %s:%u: not a manifest line: %.60s\n", path, lineno, line);
            goto out;
        }
    }
    m->present = 1;
    status = 0;
out:
    fclose(fp);
    if (status) manifest_free(m);
    return status;
}

/* The model's outputs and the baseline's over the dataset: variant 0 is
 * the full model, 1..3 the model without pressure, proximity, camera. */
#define VARIANTS (1 + FUSION_MODALITIES)
typedef struct {
    size_t n;
    double *grip[VARIANTS][2]; /* [n] risk */
    uint8_t *path[VARIANTS];   /* [n] arg max */
    double *base_grip[2];      /* [n] baseline score */
    uint8_t *base_path;        /* [n] */
    uint8_t *risk[2];          /* [n] truth: 1 = the foothold does not hold */
    uint8_t *truth_path;       /* [n] */
} ev_results;

static void ev_free(ev_results *r)
{
    for (int v = 0; v < VARIANTS; v++) {
        free(r->grip[v][0]);
        free(r->grip[v][1]);
        free(r->path[v]);
    }
    free(r->base_grip[0]);
    free(r->base_grip[1]);
    free(r->base_path);
    free(r->risk[0]);
    free(r->risk[1]);
    free(r->truth_path);
}

static int ev_alloc(ev_results *r, size_t n)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    int ok = 1;
    for (int v = 0; v < VARIANTS; v++) {
        for (int g = 0; g < 2; g++) ok &= (r->grip[v][g] = calloc(n, sizeof(double))) != NULL;
        ok &= (r->path[v] = calloc(n, 1)) != NULL;
    }
    for (int g = 0; g < 2; g++) {
        ok &= (r->base_grip[g] = calloc(n, sizeof(double))) != NULL;
        ok &= (r->risk[g] = calloc(n, 1)) != NULL;
    }
    ok &= (r->base_path = calloc(n, 1)) != NULL;
    ok &= (r->truth_path = calloc(n, 1)) != NULL;
    return ok ? 0 : -1;
}

/* Lead time of one scorer: threshold matched to FAR_MAX on every hold = 1
 * decision, then per sequence with a loss the first flag of the degrading
 * group.  FIRST[j] = the flag step (the sequence length when never). */
typedef struct {
    double thr, far;
    size_t n_seq;   /* sequences with a loss */
    double lead_mean; /* mean of loss step - first flag */
    size_t detected;  /* flagged at or before the loss */
} ev_lead;

static int lead_time(const manifest *mf, const ev_results *r, const double *const score[2],
                     double far_max, size_t *first, ev_lead *out, int use_rule)
{
    memset(out, 0, sizeof *out);
    size_t nneg = 0;
    for (size_t i = 0; i < r->n; i++) nneg += !r->risk[0][i] + !r->risk[1][i];
    double *neg = malloc((nneg ? nneg : 1) * sizeof *neg);
    if (!neg) return EVAL_E_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++)
        for (int g = 0; g < 2; g++)
            if (!r->risk[g][i]) neg[k++] = score[g][i];
    int rc = 0;
    if (use_rule) {
        /* the baseline's own operating point: flagged when its score > 0 */
        size_t fl = 0;
        for (size_t i = 0; i < nneg; i++) fl += neg[i] > 0.0;
        out->thr = 0.0;
        out->far = nneg ? (double)fl / (double)nneg : 0.0;
    } else if (nneg) {
        rc = eval_threshold_for_far(neg, nneg, far_max, &out->thr, &out->far);
    }
    free(neg);
    if (rc) return rc;
    double sum = 0.0;
    for (size_t j = 0; j < mf->n_seq; j++) {
        size_t first_rec = mf->seq[j][0], len = mf->seq[j][1], g = mf->seq[j][2];
        first[j] = len;
        if (mf->seq[j][3] == 0 || first_rec + len > r->n) continue;
        size_t loss = mf->seq[j][3] - 1;
        first[j] = eval_first_flag(score[g] + first_rec, len, out->thr);
        out->n_seq++;
        sum += (double)loss - (double)first[j];
        out->detected += first[j] <= loss;
    }
    out->lead_mean = out->n_seq ? sum / (double)out->n_seq : 0.0;
    return 0;
}

static double auroc_or_nan(const double *s, const uint8_t *pos, size_t n)
{
    double a;
    return eval_auroc(s, pos, n, &a) == 0 ? a : NAN;
}

static void print_confusion(const char *title, const eval_confusion *c)
{
    static const char *const ab[FUSION_PATH] = {"PROCEED", "SHORTEN", "LEFT", "RIGHT", "STOP"};
    printf("  confusion matrix, %s (rows: truth, columns: predicted)\n  %-9s", title, "");
    for (int k = 0; k < FUSION_PATH; k++) printf(" %8s", ab[k]);
    printf("\n");
    for (int t = 0; t < FUSION_PATH; t++) {
        printf("  %-9s", ab[t]);
        for (int p = 0; p < FUSION_PATH; p++) printf(" %8zu", c->m[t][p]);
        printf("\n");
    }
}

/* The split: the weights were not trained on these data.  0 ok, -1 violated (printed). */
static int check_split(const ev_opts *o, const fusion_model *m, uint64_t data_hash,
                       const manifest *mf)
{
    const char *wh = st_meta_get(&m->file, "data_fnv1a64");
    char mine[24];
    snprintf(mine, sizeof mine, "%016" PRIx64, data_hash);
    if (wh && !strcmp(wh, mine)) {
        fprintf(stderr, MEE ": %s is the very data %s was trained on (fnv1a64 %s)\n", o->data,
                o->weights, mine);
        return -1;
    }
    printf("split: %s was trained on data fnv1a64 %s; these data are %s\n", o->weights,
           wh ? wh : "(not recorded)", mine);
    if (!o->train_manifest) {
        printf("split: no --train-manifest: facades and seeds not checked\n");
        return 0;
    }
    manifest tm;
    if (manifest_load(o->train_manifest, 1, &tm) != 0) return -1;
    int status = -1;
    if (!mf->present) {
        fprintf(stderr, MEE ": --train-manifest needs the data's own manifest too\n");
        goto out;
    }
    if (tm.have_data && wh) {
        char th[24];
        snprintf(th, sizeof th, "%016" PRIx64, tm.data_hash);
        if (strcmp(th, wh) != 0) {
            fprintf(stderr,
                    MEE ": %s describes data fnv1a64 %s, but %s was trained on %s: not its "
                        "training manifest\n",
                    o->train_manifest, th, o->weights, wh);
            goto out;
        }
    }
    if (tm.have_seed && mf->have_seed && tm.seed == mf->seed) {
        fprintf(stderr, MEE ": split violated: training and evaluation data share seed %llu\n",
                (unsigned long long)tm.seed);
        goto out;
    }
    for (size_t i = 0; i < mf->n_fac; i++)
        for (size_t j = 0; j < tm.n_fac; j++)
            if (mf->fac_hash[i] == tm.fac_hash[j]) {
                fprintf(stderr,
                        MEE ": split violated: facade %s (fnv1a64 %016" PRIx64
                            ") is also in the training data (as %s)\n",
                        mf->fac_name[i], mf->fac_hash[i], tm.fac_name[j]);
                goto out;
            }
    printf("split: checked against %s: seeds %llu (training) and %llu (here), %zu facades here, "
           "%zu in training, none in common\n",
           o->train_manifest, (unsigned long long)tm.seed, (unsigned long long)mf->seed,
           mf->n_fac, tm.n_fac);
    status = 0;
out:
    manifest_free(&tm);
    return status;
}

/* Run the model (and its ablations) and the baseline over every example. */
static int run_all(const fusion_model *m, fusion_workspace *ws, const dataset *ds,
                   feat_tokens *scratch, ev_results *r)
{
    for (size_t i = 0; i < ds->count; i++) {
        ds_example ex;
        if (ds_get(ds, i, scratch, &ex) != 0) return -1;
        const feat_snapshot *s = ds->rec[i].snap;
        for (int v = 0; v < VARIANTS; v++) {
            fusion_input in;
            eval_drop_modality(&ex.in, v - 1, &in);
            fusion_output out;
            int rc = fusion_forward(m, ws, &in, &out);
            if (rc) {
                fprintf(stderr, MEE ": record %zu: %s\n", i, fusion_strerror(rc));
                return -1;
            }
            r->grip[v][0][i] = out.grip[0];
            r->grip[v][1][i] = out.grip[1];
            r->path[v][i] = (uint8_t)eval_path_argmax(out.path);
        }
        eval_verdict bv;
        eval_baseline(NULL, s, &bv);
        for (int g = 0; g < 2; g++) {
            r->base_grip[g][i] = bv.grip_score[g];
            r->risk[g][i] = !ex.y.hold[g];
        }
        r->base_path[i] = (uint8_t)bv.path;
        r->truth_path[i] = ex.y.path;
    }
    return 0;
}

/* The model W (the features' widths) with a workspace, and the dataset
 * DATA parsed; *HASH gets the FNV-1a of DATA's bytes.  0, or -1 with a
 * message naming the file (ME: the command).  The caller frees all three. */
static int load_model_and_data(const char *me, const char *weights, const char *data, fusion_model *m,
                               fusion_workspace *ws, dataset *ds, uint64_t *hash)
{
    char err[ST_ERR_LEN + 256];
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc, status = -1;
    if ((rc = fusion_model_load(m, weights, FUSION_LOAD_FEATURES, err, sizeof err)) != 0) {
        fprintf(stderr, "%s: --weights: %s\n", me, err);
        goto out;
    }
    if ((rc = fusion_workspace_init(ws, m, FEAT_MAX_TOKENS, NULL, 0)) != 0) {
        fprintf(stderr, "%s: workspace: %s\n", me, fusion_strerror(rc));
        goto out;
    }
    if (read_all(me, data, &bytes, &len) != 0) goto out;
    if ((rc = ds_parse_buffer(ds, bytes, len, data, err, sizeof err)) != 0) {
        fprintf(stderr, "%s: %s\n", me, err);
        goto out;
    }
    *hash = fnv1a64(bytes, len, FNV_INIT);
    status = 0;
out:
    free(bytes);
    return status;
}

int cmd_fusion_eval(int argc, char **argv);
int cmd_fusion_eval(int argc, char **argv)
{
    ev_opts o;
    int rc = parse_eval(argc, argv, &o);
    if (rc < 0) return CLI_EXIT_OK;
    if (rc) return rc;

    int status = CLI_EXIT_FAIL;
    fusion_model m = {0};
    fusion_workspace ws = {0};
    dataset ds = {0};
    manifest mf = {0};
    ev_results r = {0};
    feat_tokens *scratch = NULL;
    size_t *first[VARIANTS + 1] = {0};
    char *man_path = NULL;

    uint64_t data_hash = 0;
    if (load_model_and_data(MEE, o.weights, o.data, &m, &ws, &ds, &data_hash) != 0) goto out;
    if (ds.n_snapshots != ds.count || ds.count == 0) {
        fprintf(stderr,
                MEE ": %s: %zu of %zu records are snapshots: the baseline needs the sensor "
                    "snapshot of every example (crossclimb fusion dataset writes them)\n",
                o.data, ds.n_snapshots, ds.count);
        goto out;
    }
    if (!o.manifest) {
        if (!(man_path = malloc(strlen(o.data) + sizeof MANIFEST_SUFFIX))) {
            fprintf(stderr, MEE ": no memory\n");
            goto out;
        }
        sprintf(man_path, "%s%s", o.data, MANIFEST_SUFFIX);
    }
    if (manifest_load(o.manifest ? o.manifest : man_path, o.manifest != NULL, &mf) != 0) goto out;
    if (mf.present && mf.have_data && mf.data_hash != data_hash) {
        fprintf(stderr, MEE ": %s describes other data (fnv1a64 %016" PRIx64 ", not %016" PRIx64 ")\n",
                o.manifest ? o.manifest : man_path, mf.data_hash, data_hash);
        goto out;
    }
    printf("eval: %s: H=%zu Hp=%zu self-attention=%s; data %s: %zu examples, %zu sequences\n",
           o.weights, m.H, m.Hp, m.has_self_attn ? "yes" : "no", o.data, ds.count, mf.n_seq);
    if (check_split(&o, &m, data_hash, &mf) != 0) goto out;

    scratch = malloc(sizeof *scratch);
    if (!scratch || ev_alloc(&r, ds.count) != 0) {
        fprintf(stderr, MEE ": no memory\n");
        goto out;
    }
    for (int v = 0; v <= VARIANTS; v++)
        if (!(first[v] = calloc(mf.n_seq ? mf.n_seq : 1, sizeof(size_t)))) {
            fprintf(stderr, MEE ": no memory\n");
            goto out;
        }
    if (run_all(&m, &ws, &ds, scratch, &r) != 0) goto out;

    /* ---- grip ---- */
    size_t pos[2] = {0, 0};
    for (size_t i = 0; i < r.n; i++) pos[0] += r.risk[0][i], pos[1] += r.risk[1][i];
    printf("\ngrip risk (positive: the next foothold does not seal and hold; A %zu of %zu, B %zu)\n",
           pos[0], r.n, pos[1]);
    double au[VARIANTS][2], au_b[2];
    for (int g = 0; g < 2; g++) {
        for (int v = 0; v < VARIANTS; v++) au[v][g] = auroc_or_nan(r.grip[v][g], r.risk[g], r.n);
        au_b[g] = auroc_or_nan(r.base_grip[g], r.risk[g], r.n);
    }
    size_t acc_m = 0, acc_b = 0;
    for (size_t i = 0; i < r.n; i++)
        for (int g = 0; g < 2; g++) {
            acc_m += (r.grip[0][g][i] > 0.5) == r.risk[g][i];
            acc_b += (r.base_grip[g][i] > 0.0) == r.risk[g][i];
        }
    printf("                      model   baseline\n");
    printf("  AUROC group A       %.3f   %.3f\n", au[0][0], au_b[0]);
    printf("  AUROC group B       %.3f   %.3f\n", au[0][1], au_b[1]);
    printf("  accuracy            %.3f   %.3f   (model: risk > 0.5; baseline: its rule)\n",
           (double)acc_m / (2.0 * (double)r.n), (double)acc_b / (2.0 * (double)r.n));

    /* ---- path ---- */
    eval_confusion cm[VARIANTS], cb;
    eval_confusion_clear(&cb);
    for (int v = 0; v < VARIANTS; v++) eval_confusion_clear(&cm[v]);
    for (size_t i = 0; i < r.n; i++) {
        for (int v = 0; v < VARIANTS; v++) eval_confusion_add(&cm[v], r.truth_path[i], r.path[v][i]);
        eval_confusion_add(&cb, r.truth_path[i], r.base_path[i]);
    }
    printf("\npath\n  accuracy            %.3f   %.3f\n", eval_accuracy(&cm[0]), eval_accuracy(&cb));
    print_confusion("model", &cm[0]);
    print_confusion("baseline", &cb);

    /* ---- lead time ---- */
    ev_lead lb, lm[VARIANTS];
    int have_lead = mf.n_seq > 0;
    if (have_lead) {
        const double *bs[2] = {r.base_grip[0], r.base_grip[1]};
        if (lead_time(&mf, &r, bs, 0.0, first[VARIANTS], &lb, 1) != 0) {
            fprintf(stderr, MEE ": no memory\n");
            goto out;
        }
        for (int v = 0; v < VARIANTS; v++) {
            const double *ms[2] = {r.grip[v][0], r.grip[v][1]};
            if (lead_time(&mf, &r, ms, lb.far, first[v], &lm[v], 0) != 0) {
                fprintf(stderr, MEE ": no memory\n");
                goto out;
            }
        }
        size_t earlier = 0, same = 0, later = 0;
        double diff = 0.0;
        for (size_t j = 0; j < mf.n_seq; j++) {
            if (mf.seq[j][3] == 0) continue;
            long d = (long)first[VARIANTS][j] - (long)first[0][j];
            earlier += d > 0;
            same += d == 0;
            later += d < 0;
            diff += (double)d;
        }
        printf("\nlead time: %zu sequences of a degrading cup, %zu with the seal lost\n", mf.n_seq,
               lb.n_seq);
        printf("  baseline rule: false-alarm rate %.4f (hold = 1 decisions flagged)\n", lb.far);
        printf("  model: threshold %.4f gives false-alarm rate %.4f (<= the baseline's)\n",
               lm[0].thr, lm[0].far);
        printf("  first flag before the loss, mean steps: model %.2f, baseline %.2f; flagged by "
               "the loss: model %zu, baseline %zu of %zu\n",
               lm[0].lead_mean, lb.lead_mean, lm[0].detected, lb.detected, lb.n_seq);
        printf("  the model flags %.2f steps earlier than the baseline on average (earlier in %zu, "
               "same step in %zu, later in %zu sequences)\n",
               lb.n_seq ? diff / (double)lb.n_seq : 0.0, earlier, same, later);
    } else {
        printf("\nlead time: no sequences (no manifest next to the data, or none in it)\n");
    }

    /* ---- ablation ---- */
    static const char *const drop_name[VARIANTS] = {"full model", "without pressure",
                                                    "without proximity", "without camera"};
    printf("\nablation (the modality's tokens dropped; change from the full model)\n");
    printf("  %-18s %9s %9s %9s %9s\n", "", "AUROC A", "AUROC B", "path acc", "lead");
    for (int v = 0; v < VARIANTS; v++) {
        double pa = eval_accuracy(&cm[v]);
        double lead = have_lead ? lm[v].lead_mean : NAN;
        if (v == 0)
            printf("  %-18s %9.3f %9.3f %9.3f %9.2f\n", drop_name[v], au[0][0], au[0][1], pa, lead);
        else
            printf("  %-18s %+9.3f %+9.3f %+9.3f %+9.2f\n", drop_name[v], au[v][0] - au[0][0],
                   au[v][1] - au[0][1], pa - eval_accuracy(&cm[0]),
                   have_lead ? lead - lm[0].lead_mean : NAN);
    }
    int beats = au[0][0] > au_b[0] && au[0][1] > au_b[1] && eval_accuracy(&cm[0]) > eval_accuracy(&cb) &&
                (!have_lead || lm[0].lead_mean > lb.lead_mean);
    printf("\nverdict: the fused model %s the baseline on grip AUROC (both groups), path "
           "accuracy%s\n",
           beats ? "beats" : "does NOT beat", have_lead ? " and lead time" : "");
    status = CLI_EXIT_OK;
out:
    for (int v = 0; v <= VARIANTS; v++) free(first[v]);
    ev_free(&r);
    free(scratch);
    free(man_path);
    manifest_free(&mf);
    ds_free(&ds);
    fusion_workspace_free(&ws);
    fusion_model_free(&m);
    return status;
}

/* ------------------------------------------------------------ calibrate */

#define MEC "crossclimb fusion calibrate"
#define CAL_FAR_DEFAULT 0.05
#define CAL_STOP_FAR_DEFAULT 0.01 /* the thresholds that stop: a STOP costs a wait or a pause */

static void usage_calibrate(FILE *f)
{
    fprintf(f,
            "usage: crossclimb fusion calibrate --weights W --data FILE --out W2 [--far X]\n"
            "                                   [--stop-far Y]\n"
            "\n"
            "Choose the perception gate's thresholds (controller/fusion_gate.h) for the\n"
            "model W on validation data FILE (crossclimb fusion dataset; never the data W\n"
            "was trained on, never the runs the gate is judged by), and write W2: W's\n"
            "tensors and metadata with the thresholds added (gate.*), atomically.  Each\n"
            "threshold is the lowest that flags at most a share X of the examples where\n"
            "acting would be a false alarm:\n"
            "  gate.risk_act_a/b  grip risk, over the footholds that do hold (share X)\n"
            "  gate.doubt_act     1 - P(PROCEED), over the examples labelled PROCEED (X)\n"
            "  gate.stop_act      P(STOP), over the examples not labelled STOP (share Y)\n"
            "  gate.risk_stop     grip risk, both groups' footholds that hold (Y)\n"
            "Prints each threshold with its false-alarm share and how many of the\n"
            "dangerous examples it catches.\n"
            "\n"
            "  --weights W   the model (safetensors, the features' widths)\n"
            "  --data FILE   validation examples (snapshots)\n"
            "  --out W2      the calibrated weights to write (may be W itself)\n"
            "  --far X       false-alarm share of the thresholds that shorten a step,\n"
            "                0 < X < 0.5, default 0.05\n"
            "  --stop-far Y  false-alarm share of the thresholds that stop, 0 < Y <= X,\n"
            "                default 0.01 (or X when X is smaller)\n"
            "\n"
            "Exit status: 0 done, 1 runtime error (or FILE is W's training data), 2 usage error.\n");
}

typedef struct {
    const char *weights, *data, *out;
    double far, stop_far; /* stop_far < 0: not given */
} cal_opts;

static int parse_calibrate(int argc, char **argv, cal_opts *o)
{
    memset(o, 0, sizeof *o);
    o->far = CAL_FAR_DEFAULT;
    o->stop_far = -1.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage_calibrate(stdout);
            return -1;
        }
        const int is_far = !strcmp(a, "--far"), is_stop_far = !strcmp(a, "--stop-far");
        const char **dst = !strcmp(a, "--weights") ? &o->weights
                           : !strcmp(a, "--data")  ? &o->data
                           : !strcmp(a, "--out")   ? &o->out
                                                   : NULL;
        if (!dst && !is_far && !is_stop_far) {
            fprintf(stderr, MEC ": unknown %s '%s'\n", a[0] == '-' ? "option" : "argument", a);
            usage_calibrate(stderr);
            return CLI_EXIT_USAGE;
        }
        if (i + 1 >= argc || !argv[i + 1][0]) {
            fprintf(stderr, MEC ": %s needs a value\n", a);
            return CLI_EXIT_USAGE;
        }
        if (is_far || is_stop_far) {
            if (parse_d(MEC, a, argv[++i], 1e-6, 0.4999, is_far ? &o->far : &o->stop_far)) return CLI_EXIT_USAGE;
        } else {
            *dst = argv[++i];
        }
    }
    if (!o->weights || !o->data || !o->out) {
        fprintf(stderr, MEC ": %s is required\n", !o->weights ? "--weights W" : !o->data ? "--data FILE" : "--out W2");
        usage_calibrate(stderr);
        return CLI_EXIT_USAGE;
    }
    if (o->stop_far < 0.0) o->stop_far = o->far < CAL_STOP_FAR_DEFAULT ? o->far : CAL_STOP_FAR_DEFAULT;
    if (o->stop_far > o->far) {
        fprintf(stderr, MEC ": --stop-far %g: more than --far %g (stopping must be the rarer act)\n", o->stop_far,
                o->far);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* One threshold: the lowest T with "score >= T" flagging at most far of the
 * NNEG negatives; prints it with the share of the NPOS positives caught. */
static int cal_one(const char *what, const double *neg, size_t nneg, const double *pos, size_t npos,
                   double far, double *thr)
{
    double t = 0.0, got = 0.0;
    if (nneg == 0) {
        fprintf(stderr, MEC ": %s: no example where acting would be a false alarm\n", what);
        return -1;
    }
    if (eval_threshold_for_far(neg, nneg, far, &t, &got) != 0) {
        fprintf(stderr, MEC ": %s: no memory\n", what);
        return -1;
    }
    /* eval flags score > t; the gate acts on score >= thr: the next float up */
    double thr_v = nextafter(t, INFINITY);
    if (thr_v > 1.0) thr_v = 1.0;
    if (thr_v < 0.0) thr_v = 0.0;
    size_t caught = 0;
    for (size_t i = 0; i < npos; i++) caught += pos[i] >= thr_v;
    printf("  %-18s %.6f   false alarms %.4f of %zu   caught %.3f of %zu\n", what, thr_v, got, nneg,
           npos ? (double)caught / (double)npos : 0.0, npos);
    *thr = thr_v;
    return 0;
}


/* An example's labels, kept from the one pass over the data. */
typedef struct {
    uint8_t hold[2], path;
} cal_label;

/* Score column COL of the n examples (risk A, risk B, doubt, P(STOP); 4 per
 * example) appended to NEG where acting on it is a false alarm (the
 * group's foothold holds; the path is PROCEED; the path is not STOP) and
 * to POS otherwise. */
static void cal_split(const double *score, const cal_label *lab, size_t n, unsigned col, double *neg,
                      size_t *nn, double *pos, size_t *np)
{
    for (size_t i = 0; i < n; i++) {
        const int safe = col < 2 ? lab[i].hold[col] != 0 : col == 2 ? lab[i].path == 0 : lab[i].path != 4;
        if (safe)
            neg[(*nn)++] = score[4 * i + col];
        else
            pos[(*np)++] = score[4 * i + col];
    }
}

/* The whole rule (fg_decide) on the validation data with these thresholds,
 * each group in turn the lifted one: how often it acts where the full step
 * is safe (the path label PROCEED and the group's foothold holds), how often
 * it stops there, how often it acts where the full step is not safe, and how
 * often it acts on a step the mission chose shorter (150 mm). */
static void cal_rule_rates(const cal_label *lab, size_t n, const fusion_output *outs, const fg_config *cfg)
{
    size_t safe = 0, unsafe = 0, act_safe = 0, stop_safe = 0, act_unsafe = 0, act_short = 0;
    for (size_t i = 0; i < n; i++) {
        fg_verdict fv;
        memset(&fv, 0, sizeof fv);
        fv.grip_risk[0] = outs[i].grip[0];
        fv.grip_risk[1] = outs[i].grip[1];
        for (unsigned k = 0; k < FUSION_PATH; k++) fv.path_p[k] = outs[i].path[k];
        fv.path = eval_path_argmax(outs[i].path);
        for (int g = 0; g < 2; g++) {
            const fg_action a = fg_decide(cfg, &fv, (hold_group)g, FG_FULL_STEP_MM);
            const fg_action as = fg_decide(cfg, &fv, (hold_group)g, 0.5f * FG_FULL_STEP_MM);
            if (lab[i].path == 0 && lab[i].hold[g]) {
                safe++;
                act_safe += a != FG_PROCEED;
                stop_safe += a == FG_STOP;
                act_short += as != FG_PROCEED;
            } else {
                unsafe++;
                act_unsafe += a != FG_PROCEED;
            }
        }
    }
    const double ns = safe ? (double)safe : 1.0, nu = unsafe ? (double)unsafe : 1.0;
    printf("the rule (fg_decide), each group lifted in turn, %zu safe and %zu unsafe full steps:\n", safe, unsafe);
    printf("  acts on a safe full step       %.4f (stops %.4f)\n", (double)act_safe / ns, (double)stop_safe / ns);
    printf("  acts on an unsafe full step    %.4f\n", (double)act_unsafe / nu);
    printf("  acts on a safe 150 mm step     %.4f\n", (double)act_short / ns);
}

int cmd_fusion_calibrate(int argc, char **argv)
{
    cal_opts o;
    int rc = parse_calibrate(argc, argv, &o);
    if (rc < 0) return CLI_EXIT_OK;
    if (rc) return rc;

    int status = CLI_EXIT_FAIL;
    char err[ST_ERR_LEN + 256];
    fusion_model m = {0};
    fusion_workspace ws = {0};
    dataset ds = {0};
    uint8_t *image = NULL;
    feat_tokens *scratch = NULL;
    double *score = NULL;
    fusion_output *outs = NULL;
    cal_label *lab = NULL;
    wt_tensor *tens = NULL;
    st_meta *meta = NULL;
    size_t image_len = 0;

    uint64_t data_hash = 0;
    if (load_model_and_data(MEC, o.weights, o.data, &m, &ws, &ds, &data_hash) != 0) goto out;
    char hash[17];
    snprintf(hash, sizeof hash, "%016" PRIx64, data_hash);
    const char *trained = st_meta_get(&m.file, "data_fnv1a64");
    if (trained && !strcmp(trained, hash)) {
        fprintf(stderr, MEC ": %s is the data %s was trained on: calibrate on held-out data\n", o.data,
                o.weights);
        goto out;
    }
    if (ds.count == 0) {
        fprintf(stderr, MEC ": %s: no examples\n", o.data);
        goto out;
    }
    const size_t n = ds.count;
    /* score columns: risk A, risk B, doubt, P(STOP); then negatives/positives;
     * out: every example's grip and path outputs (the rule's rates) */
    scratch = malloc(sizeof *scratch);
    score = calloc(4 * n + 4 * n, sizeof *score);
    outs = calloc(n, sizeof *outs);
    lab = calloc(n, sizeof *lab);
    if (!scratch || !score || !outs || !lab) {
        fprintf(stderr, MEC ": no memory\n");
        goto out;
    }
    double *neg = score + 4 * n, *pos = neg + 2 * n;
    size_t nn = 0, np = 0;
    fg_config cfg;
    fg_config_default(&cfg);
    printf("calibrate: %s on %s (%zu examples), false-alarm share %.4f (stops %.4f)\n", o.weights, o.data, n,
           o.far, o.stop_far);
    for (size_t i = 0; i < n; i++) {
        ds_example ex;
        fusion_output fo;
        if (ds_get(&ds, i, scratch, &ex) != 0 || (rc = fusion_forward(&m, &ws, &ex.in, &fo)) != 0) {
            fprintf(stderr, MEC ": %s: record %zu cannot be evaluated\n", o.data, i);
            goto out;
        }
        score[4 * i + 0] = fo.grip[0];
        score[4 * i + 1] = fo.grip[1];
        score[4 * i + 2] = 1.0 - (double)fo.path[0];
        score[4 * i + 3] = fo.path[4];
        outs[i] = fo;
        lab[i] = (cal_label){{ex.y.hold[0], ex.y.hold[1]}, ex.y.path};
    }
    /* grip: negatives are the footholds that hold (acting on them is a false alarm) */
    for (unsigned g = 0; g < 2; g++) {
        double t = 1.0;
        nn = np = 0;
        cal_split(score, lab, n, g, neg, &nn, pos, &np);
        if (cal_one(g ? "risk_act_b" : "risk_act_a", neg, nn, pos, np, o.far, &t) != 0) goto out;
        cfg.risk_act[g] = (float)t;
    }
    double v = 1.0;
    nn = np = 0;
    cal_split(score, lab, n, 0, neg, &nn, pos, &np); /* both groups pooled */
    cal_split(score, lab, n, 1, neg, &nn, pos, &np);
    if (cal_one("risk_stop", neg, nn, pos, np, o.stop_far, &v) != 0) goto out;
    cfg.risk_stop = (float)v;
    nn = np = 0;
    cal_split(score, lab, n, 2, neg, &nn, pos, &np);
    if (cal_one("doubt_act", neg, nn, pos, np, o.far, &v) != 0) goto out;
    cfg.doubt_act = (float)v;
    nn = np = 0;
    cal_split(score, lab, n, 3, neg, &nn, pos, &np);
    if (cal_one("stop_act", neg, nn, pos, np, o.stop_far, &v) != 0) goto out;
    cfg.stop_act = (float)v;
    cal_rule_rates(lab, n, outs, &cfg);

    /* W2: W's tensors, W's metadata without old gate.* keys, the new ones */
    const st_file *f = &m.file;
    tens = calloc(f->ntensors ? f->ntensors : 1, sizeof *tens);
    meta = calloc(f->nmeta + 8, sizeof *meta);
    if (!tens || !meta) {
        fprintf(stderr, MEC ": no memory\n");
        goto out;
    }
    for (size_t i = 0; i < f->ntensors; i++) {
        tens[i].name = f->tensors[i].name;
        tens[i].ndim = f->tensors[i].ndim;
        memcpy(tens[i].shape, f->tensors[i].shape, sizeof tens[i].shape);
        tens[i].data = f->tensors[i].data;
    }
    size_t nm = 0;
    for (size_t i = 0; i < f->nmeta; i++)
        if (strncmp(f->meta[i].key, "gate.", 5) != 0) meta[nm++] = f->meta[i];
    char vals[6][96];
    snprintf(vals[0], sizeof vals[0], "%.6f", (double)cfg.risk_act[0]);
    snprintf(vals[1], sizeof vals[1], "%.6f", (double)cfg.risk_act[1]);
    snprintf(vals[2], sizeof vals[2], "%.6f", (double)cfg.doubt_act);
    snprintf(vals[3], sizeof vals[3], "%.6f", (double)cfg.stop_act);
    snprintf(vals[4], sizeof vals[4], "%.6f", (double)cfg.risk_stop);
    snprintf(vals[5], sizeof vals[5], "far %.4f, stop far %.4f, on %zu examples, fnv1a64 %s", o.far, o.stop_far,
             n, hash);
    meta[nm++] = (st_meta){FG_META_RISK_ACT_A, vals[0]};
    meta[nm++] = (st_meta){FG_META_RISK_ACT_B, vals[1]};
    meta[nm++] = (st_meta){FG_META_DOUBT_ACT, vals[2]};
    meta[nm++] = (st_meta){FG_META_STOP_ACT, vals[3]};
    meta[nm++] = (st_meta){FG_META_RISK_STOP, vals[4]};
    meta[nm++] = (st_meta){"gate.calibration", vals[5]};
    if ((rc = wt_serialize(tens, f->ntensors, meta, nm, &image, &image_len, err, sizeof err)) != 0 ||
        (rc = wt_write_atomic(o.out, image, image_len, err, sizeof err)) != 0) {
        fprintf(stderr, MEC ": %s: %s\n", o.out, err[0] ? err : wt_strerror(rc));
        goto out;
    }
    printf("calibrate: wrote %s (%zu bytes)\n", o.out, image_len);
    status = CLI_EXIT_OK;
out:
    free(image);
    free(meta);
    free(tens);
    free(lab);
    free(outs);
    free(score);
    free(scratch);
    ds_free(&ds);
    fusion_workspace_free(&ws);
    fusion_model_free(&m);
    return status;
}
