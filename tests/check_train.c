/*
 * check_train.c — Check suites for the fusion trainer (perception/train.c),
 * the dataset format (perception/dataset.c), the safetensors writer
 * (perception/weights_write.c) and `crossclimb fusion train`
 * (cli/cmd_fusion_train.c).
 *
 * Gradient check: every parameter tensor's backpropagated gradient is
 * compared with central differences of the trainer's double-precision loss
 * on tiny models (H = 4), with and without self-attention, Hp != H, with a
 * modality empty in every example and an example with no token at all.
 * The step is h = 2^-13 (the difference is divided by the float-rounded
 * step actually taken).  Truncation error of central differences is
 * h²/6·|L'''| ≈ 3e-9·|L'''|, rounding error ≈ 1e-16·|L|/h ≈ 1e-12: both far
 * below the bound asserted, |bp − fd| <= 1e-6·max(|bp|, |fd|) + 1e-9, which
 * still catches any wrong term (a missing factor or index error is O(1)
 * relative).  The per-tensor figures are printed.
 *
 * The CLI is tested in-process: this file includes cli/cmd_fusion_train.c
 * and runs cmd_fusion_train in a forked child with its output captured
 * (the front command's dispatch of `fusion train` is tested separately
 * against $CROSSCLIMB_BIN).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "perception/dataset.h"
#include "perception/features.h"
#include "perception/fusion.h"
#include "tests/support/tmpdir.h"
#include "perception/safetensors.h"
#include "perception/train.h"
#include "perception/weights_write.h"

#include "cli/cmd_fusion_train.c" /* cmd_fusion_train, run in a child below */
#include "tests/support/allocprobe.h"

int main(void);

/* ---- temp dir fixture ---- */

/* Whole file into a malloc'ed buffer. */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    uint8_t *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Files in tmpdir whose name contains SUB. */
static int count_files(const char *sub)
{
    DIR *d = opendir(tmp_dir());
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, sub)) n++;
    closedir(d);
    return n;
}

/* ---- tiny examples ---- */

#define MAXEX 8
#define MAXTOK 6

/* A set of token examples with their own storage. */
typedef struct {
    size_t k;
    float rows[MAXEX][FUSION_MODALITIES][MAXTOK * 8];
    ds_example ex[MAXEX];
} exset;

static float urand(ds_rng *r, double lo, double hi)
{
    return (float)(lo + (hi - lo) * ds_rng_uniform(r));
}

/* K examples with token counts NS[i], widths of S, random values and labels. */
static void make_examples(exset *e, const train_shape *s, const size_t ns[][3], size_t k,
                          uint64_t seed)
{
    ds_rng r;
    ds_rng_seed(&r, seed);
    memset(e, 0, sizeof *e);
    e->k = k;
    for (size_t i = 0; i < k; i++) {
        ds_example *x = &e->ex[i];
        for (int m = 0; m < FUSION_MODALITIES; m++) {
            ck_assert_uint_le(ns[i][m] * s->D[m], MAXTOK * 8);
            for (size_t j = 0; j < ns[i][m] * s->D[m]; j++) e->rows[i][m][j] = urand(&r, -1, 1);
            x->in.rows[m] = ns[i][m] ? e->rows[i][m] : NULL;
            x->in.n[m] = ns[i][m];
        }
        x->y.hold[0] = (uint8_t)ds_rng_below(&r, 2);
        x->y.hold[1] = (uint8_t)ds_rng_below(&r, 2);
        x->y.path = (uint8_t)ds_rng_below(&r, FUSION_PATH);
    }
}

/* Mean loss over the examples with the current parameters. */
static double mean_loss(trainer *t, const exset *e)
{
    double L = 0;
    for (size_t i = 0; i < e->k; i++) {
        train_result r;
        ck_assert_int_eq(trainer_forward(t, &e->ex[i], &r), 0);
        L += r.loss;
    }
    return L / (double)e->k;
}

/* ================= gradient check ================= */

typedef struct {
    const char *what;
    train_shape shape;
    size_t k;
    size_t ns[MAXEX][3];
    int empty_modality; /* -1 none; else this modality has no token in any example */
} grad_case;

static const grad_case grad_cases[] = {
    {"pooling only, all modalities", {4, 4, {3, 2, 5}, 0}, 4,
     {{3, 2, 2}, {2, 1, 3}, {1, 2, 1}, {2, 2, 2}}, -1},
    {"self-attention, all modalities", {4, 4, {3, 2, 5}, 1}, 4,
     {{3, 2, 2}, {2, 1, 3}, {1, 2, 1}, {2, 2, 2}}, -1},
    {"self-attention, Hp 3, camera empty everywhere", {4, 3, {3, 2, 5}, 1}, 3,
     {{3, 2, 0}, {1, 1, 0}, {2, 3, 0}}, FUSION_CAMERA},
    {"pooling only, Hp 6, proximity empty, one example with no token", {4, 6, {3, 2, 5}, 0}, 4,
     {{3, 0, 2}, {0, 0, 0}, {2, 0, 3}, {1, 0, 1}}, FUSION_PROXIMITY},
};
#define N_GRAD_CASES (sizeof grad_cases / sizeof grad_cases[0])

START_TEST(gradient_matches_finite_differences)
{
    const grad_case *gc = &grad_cases[_i];
    char err[512];
    train_model m;
    ck_assert_int_eq(train_model_init(&m, &gc->shape, 100 + (uint64_t)_i, err, sizeof err), 0);
    /* non-zero biases and larger weights, so every path of the graph matters */
    ds_rng r;
    ds_rng_seed(&r, 7);
    for (size_t j = 0; j < m.nparams; j++) m.params[j] += urand(&r, -0.5, 0.5);
    static exset e;
    make_examples(&e, &gc->shape, gc->ns, gc->k, 42 + (uint64_t)_i);
    train_config c;
    train_config_default(&c);
    c.grip_weight = 0.7; /* non-default loss weights are part of the check */
    c.path_weight = 1.3;
    trainer t;
    ck_assert_int_eq(trainer_init(&t, &m, &c, MAXTOK * 3, err, sizeof err), 0);
    trainer_zero_grad(&t);
    for (size_t i = 0; i < e.k; i++)
        ck_assert_int_eq(trainer_accumulate(&t, &e.ex[i], 1.0 / (double)e.k, NULL), 0);
    const double *g = trainer_grad(&t);

    printf("gradient check: %s (H=%zu Hp=%zu, %zu params)\n", gc->what, m.shape.H, m.shape.Hp,
           m.nparams);
    const double h = 0x1p-16;
    for (int ti = 0; ti < TRAIN_NTENSORS; ti++) {
        const train_tensor *tt = &m.t[ti];
        if (!tt->numel) continue;
        double max_rel = 0, max_abs = 0, max_g = 0;
        int empty = (gc->empty_modality >= 0 && (ti == TRAIN_PROJ_P_W + 2 * gc->empty_modality ||
                                                 ti == TRAIN_PROJ_P_B + 2 * gc->empty_modality));
        for (size_t j = tt->offset; j < tt->offset + tt->numel; j++) {
            const float p0 = m.params[j];
            const float pp = (float)((double)p0 + h), pm = (float)((double)p0 - h);
            m.params[j] = pp;
            const double lp = mean_loss(&t, &e);
            m.params[j] = pm;
            const double lm = mean_loss(&t, &e);
            m.params[j] = p0;
            const double fd = (lp - lm) / ((double)pp - (double)pm);
            const double d = fabs(fd - g[j]);
            const double scale = fmax(fabs(fd), fabs(g[j]));
            if (empty) { /* no token: the loss does not depend on it at all */
                ck_assert_msg(g[j] == 0.0 && lp == lm, "%s[%zu]: gradient %g, fd %g (empty modality)",
                              tt->name, j - tt->offset, g[j], fd);
            }
            ck_assert_msg(d <= 1e-6 * scale + 1e-9,
                          "%s: %s[%zu]: backprop %.12g, finite differences %.12g", gc->what,
                          tt->name, j - tt->offset, g[j], fd);
            if (scale > 1e-9 && d / scale > max_rel) max_rel = d / scale;
            if (d > max_abs) max_abs = d;
            if (fabs(g[j]) > max_g) max_g = fabs(g[j]);
        }
        printf("  %-24s %4zu  max|grad| %.3e  max|bp-fd| %.2e  (/max|grad| %.1e; worst "
               "element rel %.1e)%s\n",
               tt->name, tt->numel, max_g, max_abs, max_g > 0 ? max_abs / max_g : 0.0, max_rel,
               empty ? "  empty modality: exactly 0" : "");
    }
    trainer_free(&t);
    train_model_free(&m);
}
END_TEST

/* With no token at all, f = 0: only the heads' biases get a gradient. */
START_TEST(gradient_of_tokenless_example)
{
    char err[512];
    train_shape s = {4, 4, {3, 2, 5}, 1};
    train_model m;
    ck_assert_int_eq(train_model_init(&m, &s, 3, err, sizeof err), 0);
    trainer t;
    ck_assert_int_eq(trainer_init(&t, &m, NULL, 4, err, sizeof err), 0);
    ds_example ex = {.y = {{1, 0}, FUSION_PATH_STOP}};
    trainer_zero_grad(&t);
    train_result r;
    ck_assert_int_eq(trainer_accumulate(&t, &ex, 1.0, &r), 0);
    ck_assert_uint_eq(r.T, 0);
    const double *g = trainer_grad(&t);
    for (int ti = 0; ti < TRAIN_NTENSORS; ti++) {
        const train_tensor *tt = &m.t[ti];
        int head_bias = ti == TRAIN_GRIP_B || ti == TRAIN_PATH_B;
        for (size_t j = tt->offset; j < tt->offset + tt->numel; j++)
            if (!head_bias) ck_assert_msg(g[j] == 0.0, "%s has gradient %g", tt->name, g[j]);
    }
    /* the head biases: ½(σ(b) − target) with the defaults' weight 1, b = 0 at init */
    ck_assert_double_eq_tol(g[m.t[TRAIN_GRIP_B].offset + 0], 0.5 * (0.5 - 0.0), 1e-15);
    ck_assert_double_eq_tol(g[m.t[TRAIN_GRIP_B].offset + 1], 0.5 * (0.5 - 1.0), 1e-15);
    ck_assert_double_eq_tol(g[m.t[TRAIN_PATH_B].offset + FUSION_PATH_STOP], 0.2 - 1.0, 1e-15);
    ck_assert_double_eq_tol(r.loss, log(2.0) + log(5.0), 1e-12);
    trainer_free(&t);
    train_model_free(&m);
}
END_TEST

/* ================= Adam ================= */

START_TEST(adam_first_step_is_lr)
{
    /* bias-corrected Adam: the first step moves every parameter with a
     * non-zero gradient by lr·g/(|g| + eps) ≈ lr·sign(g) */
    char err[512];
    train_shape s = {2, 2, {1, 1, 1}, 0};
    train_model m;
    ck_assert_int_eq(train_model_init(&m, &s, 5, err, sizeof err), 0);
    train_config c;
    train_config_default(&c);
    c.lr = 0.01;
    trainer t;
    ck_assert_int_eq(trainer_init(&t, &m, &c, 3, err, sizeof err), 0);
    float before[64];
    ck_assert_uint_le(m.nparams, 64);
    memcpy(before, m.params, m.nparams * sizeof(float));
    static exset e;
    const size_t ns[1][3] = {{1, 1, 1}};
    make_examples(&e, &s, ns, 1, 9);
    trainer_zero_grad(&t);
    ck_assert_int_eq(trainer_accumulate(&t, &e.ex[0], 1.0, NULL), 0);
    const double *g = trainer_grad(&t);
    ck_assert_int_eq(trainer_adam_step(&t), 0);
    for (size_t j = 0; j < m.nparams; j++) {
        double want = (double)before[j] - 0.01 * g[j] / (fabs(g[j]) + 1e-8);
        ck_assert_msg(fabs((double)m.params[j] - want) <= 1e-7, "param %zu: %.9g, want %.9g", j,
                      (double)m.params[j], want);
    }
    /* a non-finite gradient is refused and changes nothing */
    memcpy(before, m.params, m.nparams * sizeof(float));
    t.grad[0] = NAN;
    ck_assert_int_eq(trainer_adam_step(&t), TRAIN_E_NONFINITE);
    ck_assert_int_eq(memcmp(before, m.params, m.nparams * sizeof(float)), 0);
    trainer_free(&t);
    train_model_free(&m);
}
END_TEST

/* ================= training on synthetic data ================= */

static void synthetic(dataset *ds, size_t n, uint64_t seed)
{
    ds_builder b;
    const uint8_t *d;
    size_t len;
    char err[512];
    ck_assert_int_eq(ds_synthetic(&b, n, seed), 0);
    ck_assert_int_eq(ds_build_finish(&b, &d, &len), 0);
    ck_assert_int_eq(ds_parse_buffer(ds, d, len, "synthetic", err, sizeof err), 0);
    ds_build_free(&b);
}

static size_t *iota(size_t n)
{
    size_t *idx = malloc(n * sizeof *idx);
    ck_assert_ptr_nonnull(idx);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    return idx;
}

/* Train a fresh H=8 pooling model on DS for EPOCHS (lr 0.01, batch 16). */
static void train_on(train_model *m, const dataset *ds, size_t H, int sa, uint64_t seed,
                     int epochs, train_stats *first, train_stats *last)
{
    char err[512];
    train_shape s = {H, H, {ds->D[0], ds->D[1], ds->D[2]}, sa};
    ck_assert_int_eq(train_model_init(m, &s, seed, err, sizeof err), 0);
    train_config c;
    train_config_default(&c);
    c.lr = 0.01;
    c.batch = 16;
    c.seed = seed;
    trainer t;
    ck_assert_int_eq(trainer_init(&t, m, &c, ds->max_tokens, err, sizeof err), 0);
    size_t *idx = iota(ds->count);
    for (int e = 0; e < epochs; e++) {
        train_stats st;
        ck_assert_int_eq(trainer_epoch(&t, ds, idx, ds->count, &st), 0);
        if (e == 0 && first) *first = st;
        if (last) *last = st;
    }
    free(idx);
    trainer_free(&t);
}

START_TEST(synthetic_loss_decreases_and_accuracy)
{
    dataset tr, te;
    synthetic(&tr, 600, 1);
    synthetic(&te, 400, 2); /* held out: another seed */
    train_model m;
    train_stats first, last, ev;
    train_on(&m, &tr, 8, 0, 1, 25, &first, &last);
    char err[512];
    trainer t;
    ck_assert_int_eq(trainer_init(&t, &m, NULL, te.max_tokens, err, sizeof err), 0);
    size_t *idx = iota(te.count);
    ck_assert_int_eq(trainer_evaluate(&t, &te, idx, te.count, &ev), 0);
    double ga = (double)ev.grip_correct / (2.0 * (double)ev.n),
           pa = (double)ev.path_correct / (double)ev.n;
    printf("synthetic (600 train, 400 held out, H=8, 25 epochs): loss %.4f -> %.4f; held out: "
           "loss %.4f, grip acc %.3f, path acc %.3f\n",
           first.loss, last.loss, ev.loss, ga, pa);
    ck_assert_double_lt(last.loss, 0.5 * first.loss);
    ck_assert_double_ge(ga, 0.90);
    ck_assert_double_ge(pa, 0.85);
    free(idx);
    trainer_free(&t);
    train_model_free(&m);
    ds_free(&tr);
    ds_free(&te);
}
END_TEST

START_TEST(same_seed_same_bytes_other_seed_differs)
{
    dataset ds;
    synthetic(&ds, 120, 3);
    uint8_t *buf[3];
    size_t len[3];
    const uint64_t seeds[3] = {11, 11, 12};
    char err[512];
    for (int k = 0; k < 3; k++) {
        train_model m;
        train_on(&m, &ds, 6, 1, seeds[k], 3, NULL, NULL);
        const st_meta meta[] = {{"seed", k < 2 ? "11" : "12"}};
        ck_assert_int_eq(train_model_write(&m, tmp_path(k == 0 ? "a.safetensors"
                                                        : k == 1 ? "b.safetensors"
                                                                 : "c.safetensors"),
                                           meta, 1, err, sizeof err),
                         0);
        train_model_free(&m);
    }
    buf[0] = slurp(tmp_path("a.safetensors"), &len[0]);
    buf[1] = slurp(tmp_path("b.safetensors"), &len[1]);
    buf[2] = slurp(tmp_path("c.safetensors"), &len[2]);
    ck_assert_uint_eq(len[0], len[1]);
    ck_assert_int_eq(memcmp(buf[0], buf[1], len[0]), 0);
    /* same header length (only the seed metadata digit differs): compare the data */
    ck_assert_uint_eq(len[0], len[2]);
    size_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | buf[0][i];
    ck_assert_int_ne(memcmp(buf[0] + 8 + hl, buf[2] + 8 + hl, len[0] - 8 - hl), 0);
    for (int k = 0; k < 3; k++) free(buf[k]);
    ck_assert_int_eq(count_files(".tmp."), 0); /* no temporary left behind */
    ds_free(&ds);
}
END_TEST

/* The trainer's double forward and fusion_forward on the written file agree. */
static void check_agreement(train_model *m, const exset *e)
{
    char err[ST_ERR_LEN];
    const char *path = tmp_path("agree.safetensors");
    ck_assert_int_eq(train_model_write(m, path, NULL, 0, err, sizeof err), 0);
    fusion_model f;
    ck_assert_msg(fusion_model_load(&f, path, 0, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(f.H, m->shape.H);
    ck_assert_uint_eq(f.Hp, m->shape.Hp);
    ck_assert_int_eq(f.has_self_attn, m->shape.self_attn);
    /* a round trip through the file is exact */
    train_model back;
    ck_assert_int_eq(train_model_from_fusion(&back, &f, err, sizeof err), 0);
    ck_assert_uint_eq(back.nparams, m->nparams);
    ck_assert_int_eq(memcmp(back.params, m->params, m->nparams * sizeof(float)), 0);
    train_model_free(&back);

    fusion_workspace ws;
    ck_assert_int_eq(fusion_workspace_init(&ws, &f, MAXTOK * 3, NULL, 0), 0);
    trainer t;
    ck_assert_int_eq(trainer_init(&t, m, NULL, MAXTOK * 3, err, sizeof err), 0);
    double worst = 0;
    for (size_t i = 0; i < e->k; i++) {
        train_result r;
        fusion_output o;
        ck_assert_int_eq(trainer_forward(&t, &e->ex[i], &r), 0);
        ck_assert_int_eq(fusion_forward(&f, &ws, &e->ex[i].in, &o), 0);
        ck_assert_uint_eq(o.T, r.T);
        const struct {
            const float *c;
            const double *ref;
            size_t n;
        } cmp[] = {{o.grip, r.grip, FUSION_GRIP}, {o.path, r.path, FUSION_PATH},
                   {o.fused, r.fused, r.H},       {o.alpha, r.alpha, r.T},
                   {o.scores, r.scores, r.T},     {o.tokens, r.tokens, r.T * r.H}};
        for (size_t k = 0; k < sizeof cmp / sizeof cmp[0]; k++)
            for (size_t j = 0; j < cmp[k].n; j++) {
                double d = fabs((double)cmp[k].c[j] - cmp[k].ref[j]);
                double tol = FUSION_ATOL + FUSION_RTOL * fabs(cmp[k].ref[j]);
                ck_assert_msg(d <= tol, "example %zu, output %zu[%zu]: fusion %.9g, trainer %.9g",
                              i, k, j, (double)cmp[k].c[j], cmp[k].ref[j]);
                if (d / tol > worst) worst = d / tol;
            }
    }
    printf("fusion_forward vs trainer (H=%zu, self-attention %s): worst |diff| %.3f of the "
           "golden tolerance\n",
           m->shape.H, m->shape.self_attn ? "yes" : "no", worst);
    trainer_free(&t);
    fusion_workspace_free(&ws);
    fusion_model_free(&f);
}

START_TEST(written_weights_load_and_agree)
{
    for (int sa = 0; sa <= 1; sa++) {
        char err[512];
        train_shape s = {5, 3, {3, 2, 4}, sa};
        train_model m;
        ck_assert_int_eq(train_model_init(&m, &s, 21, err, sizeof err), 0);
        static exset e;
        const size_t ns[5][3] = {{3, 2, 1}, {0, 2, 3}, {2, 0, 0}, {0, 0, 0}, {6, 4, 6}};
        make_examples(&e, &s, ns, 5, 77);
        /* a few Adam steps so the weights are not just the initial draw */
        trainer t;
        ck_assert_int_eq(trainer_init(&t, &m, NULL, MAXTOK * 3, err, sizeof err), 0);
        for (int it = 0; it < 20; it++) {
            trainer_zero_grad(&t);
            for (size_t i = 0; i < e.k; i++)
                ck_assert_int_eq(trainer_accumulate(&t, &e.ex[i], 0.2, NULL), 0);
            ck_assert_int_eq(trainer_adam_step(&t), 0);
        }
        trainer_free(&t);
        check_agreement(&m, &e);
        train_model_free(&m);
    }
}
END_TEST

START_TEST(empty_modality_weights_untouched)
{
    /* no camera token in any example: training leaves proj.camera.* exactly as drawn */
    char err[512];
    train_shape s = {4, 4, {3, 2, 5}, 1};
    train_model m;
    ck_assert_int_eq(train_model_init(&m, &s, 8, err, sizeof err), 0);
    const train_tensor *cw = &m.t[TRAIN_PROJ_C_W], *pw = &m.t[TRAIN_PROJ_P_W];
    float cam[32], pre[32];
    memcpy(cam, m.params + cw->offset, cw->numel * sizeof(float));
    memcpy(pre, m.params + pw->offset, pw->numel * sizeof(float));
    static exset e;
    const size_t ns[3][3] = {{3, 2, 0}, {2, 0, 0}, {1, 1, 0}};
    make_examples(&e, &s, ns, 3, 5);
    trainer t;
    ck_assert_int_eq(trainer_init(&t, &m, NULL, 8, err, sizeof err), 0);
    for (int it = 0; it < 10; it++) {
        trainer_zero_grad(&t);
        for (size_t i = 0; i < e.k; i++)
            ck_assert_int_eq(trainer_accumulate(&t, &e.ex[i], 1.0 / 3, NULL), 0);
        ck_assert_int_eq(trainer_adam_step(&t), 0);
    }
    ck_assert_int_eq(memcmp(cam, m.params + cw->offset, cw->numel * sizeof(float)), 0);
    ck_assert_int_ne(memcmp(pre, m.params + pw->offset, pw->numel * sizeof(float)), 0);
    trainer_free(&t);
    train_model_free(&m);
}
END_TEST

START_TEST(trainer_refuses_bad_input)
{
    char err[512];
    train_shape s = {4, 4, {3, 2, 5}, 0};
    train_model m;
    ck_assert_int_eq(train_model_init(&m, &s, 8, err, sizeof err), 0);
    trainer t;
    ck_assert_int_eq(trainer_init(&t, &m, NULL, 4, err, sizeof err), 0);
    static exset e;
    const size_t ns[1][3] = {{3, 2, 0}};
    make_examples(&e, &s, ns, 1, 5);
    train_result r;
    ck_assert_int_eq(trainer_forward(&t, &e.ex[0], &r), TRAIN_E_TOKENS); /* 5 > 4 */
    e.ex[0].in.n[0] = 2;
    ck_assert_int_eq(trainer_forward(&t, &e.ex[0], &r), 0);
    e.ex[0].y.path = 5;
    ck_assert_int_eq(trainer_forward(&t, &e.ex[0], &r), TRAIN_E_ARG);
    e.ex[0].y.path = 0;
    e.ex[0].in.rows[1] = NULL;
    ck_assert_int_eq(trainer_accumulate(&t, &e.ex[0], 1, &r), TRAIN_E_ARG);
    /* a dataset of other widths */
    dataset ds;
    synthetic(&ds, 4, 1);
    size_t idx[4] = {0, 1, 2, 3};
    ck_assert_int_eq(trainer_epoch(&t, &ds, idx, 4, NULL), TRAIN_E_SHAPE);
    ck_assert_int_eq(train_check_dataset(&m, &ds, "syn", err, sizeof err), TRAIN_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(err, "syn: token widths 7/4/66"));
    trainer_free(&t);
    /* sizes and settings */
    train_model bad;
    train_shape s0 = {0, 4, {3, 2, 5}, 0};
    ck_assert_int_eq(train_model_init(&bad, &s0, 1, err, sizeof err), TRAIN_E_ARG);
    train_config c;
    train_config_default(&c);
    c.lr = -1;
    ck_assert_int_eq(trainer_init(&t, &m, &c, 4, err, sizeof err), TRAIN_E_ARG);
    train_config_default(&c);
    c.batch = 0;
    ck_assert_int_eq(trainer_init(&t, &m, &c, 4, err, sizeof err), TRAIN_E_ARG);
    ck_assert_int_eq(trainer_init(&t, &m, NULL, 0, err, sizeof err), TRAIN_E_ARG);
    ck_assert_int_eq(train_model_load(&bad, tmp_path("missing.safetensors"), err, sizeof err),
                     TRAIN_E_LOAD);
    ck_assert_ptr_nonnull(strstr(err, "missing.safetensors"));
    ds_free(&ds);
    train_model_free(&m);
}
END_TEST


#if ALLOC_PROBE_WORKS
START_TEST(training_allocates_nothing)
{
    /* snapshot records (feat_extract per example) and self-attention: the
     * whole per-example forward/backward and the Adam step */
    dataset ds;
    synthetic(&ds, 40, 4);
    char err[512];
    train_shape s = {6, 5, {FEAT_DP, FEAT_DQ, FEAT_DC}, 1};
    train_model m;
    ck_assert_int_eq(train_model_init(&m, &s, 1, err, sizeof err), 0);
    train_config c;
    train_config_default(&c);
    c.batch = 8;
    trainer t;
    ck_assert_int_eq(trainer_init(&t, &m, &c, ds.max_tokens, err, sizeof err), 0);
    size_t *idx = iota(ds.count);
    train_stats st;
    ck_assert_int_eq(trainer_epoch(&t, &ds, idx, ds.count, &st), 0); /* warm libm */
    alloc_probe_selftest();
    alloc_snap a = alloc_snapshot();
    for (int e = 0; e < 3; e++) {
        ck_assert(trainer_epoch(&t, &ds, idx, ds.count, &st) == 0);
        ck_assert(trainer_evaluate(&t, &ds, idx, ds.count, &st) == 0);
    }
    alloc_snap b = alloc_snapshot();
    alloc_assert_same(&a, &b, "training step");
    free(idx);
    trainer_free(&t);
    train_model_free(&m);
    ds_free(&ds);
}
END_TEST
#endif

/* ================= dataset format ================= */

START_TEST(dataset_round_trip)
{
    char err[512];
    const size_t D[3] = {3, 2, 5};
    train_shape s = {4, 4, {3, 2, 5}, 0};
    static exset e;
    const size_t ns[4][3] = {{3, 2, 1}, {0, 0, 0}, {0, 2, 6}, {6, 0, 0}};
    make_examples(&e, &s, ns, 4, 13);
    ds_builder b;
    ck_assert_int_eq(ds_build_start(&b, D, 0), 0);
    for (size_t i = 0; i < e.k; i++) ck_assert_int_eq(ds_build_tokens(&b, &e.ex[i].in, &e.ex[i].y), 0);
    const uint8_t *data;
    size_t len;
    ck_assert_int_eq(ds_build_finish(&b, &data, &len), 0);
    dataset ds;
    ck_assert_msg(ds_parse_buffer(&ds, data, len, "rt", err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(ds.count, 4);
    ck_assert_uint_eq(ds.max_tokens, 8);
    ck_assert_uint_eq(ds.flags, 0);
    for (size_t i = 0; i < e.k; i++) {
        ds_example x;
        ck_assert_int_eq(ds_get(&ds, i, NULL, &x), 0);
        ck_assert_int_eq(memcmp(&x.y, &e.ex[i].y, sizeof x.y), 0);
        for (int m = 0; m < 3; m++) {
            ck_assert_uint_eq(x.in.n[m], e.ex[i].in.n[m]);
            if (x.in.n[m])
                ck_assert_int_eq(memcmp(x.in.rows[m], e.ex[i].in.rows[m],
                                        x.in.n[m] * D[m] * sizeof(float)),
                                 0);
        }
    }
    ck_assert_int_eq(ds_get(&ds, 4, NULL, &(ds_example){0}), DS_E_ARG);
    /* the file path gives the same */
    const char *p = tmp_path("rt.ccfusion");
    write_bytes(p, data, len);
    dataset d2;
    ck_assert_int_eq(ds_load_file(&d2, p, err, sizeof err), 0);
    ck_assert_uint_eq(d2.count, 4);
    ds_free(&d2);
    ds_free(&ds);
    ds_build_free(&b);
}
END_TEST

START_TEST(dataset_snapshots_extract_like_features)
{
    /* a snapshot record gives exactly feat_extract's tokens of the snapshot */
    feat_snapshot s;
    feat_snapshot_init(&s);
    static uint8_t px[16 * 8];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 7);
    for (int c = 0; c < FEAT_CUPS; c++) {
        s.vacuum_kpa[c] = 40.0f + (float)c;
        s.vacuum_rate_kpa_s[c] = -(float)c;
    }
    s.holding[0] = true;
    s.foot_mm[2][1] = -120.5f;
    s.proximity[FEAT_PX] = (feat_proximity){250.0f, false, false};
    s.proximity[FEAT_PY] = (feat_proximity){0.0f, true, false};
    s.camera = (feat_camera){.online = true, .width = 16, .height = 8, .pixels = px};
    static const size_t D[3] = {FEAT_DP, FEAT_DQ, FEAT_DC};
    ds_builder b;
    ck_assert_int_eq(ds_build_start(&b, D, DS_FLAG_SYNTHETIC), 0);
    ds_labels y = {{0, 1}, FUSION_PATH_SHORTEN};
    ck_assert_int_eq(ds_build_snapshot(&b, &s, &y), 0);
    s.camera.online = false;
    ck_assert_int_eq(ds_build_snapshot(&b, &s, &y), 0);
    const uint8_t *data;
    size_t len;
    ck_assert_int_eq(ds_build_finish(&b, &data, &len), 0);
    ck_assert_uint_eq(len, DS_HEADER_BYTES + 2 * DS_SNAPSHOT_HEAD + sizeof px);
    dataset ds;
    char err[512];
    ck_assert_msg(ds_parse_buffer(&ds, data, len, "snap", err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(ds.flags, DS_FLAG_SYNTHETIC);
    ck_assert_uint_eq(ds.n_snapshots, 2);
    ck_assert_uint_eq(ds.max_tokens, 12 + 2 + 2);
    static feat_tokens want, got;
    s.camera.online = true;
    ck_assert_int_eq(feat_extract(&s, &want, NULL, 0), 0);
    ds_example x;
    ck_assert_int_eq(ds_get(&ds, 0, NULL, &x), DS_E_ARG); /* a snapshot needs scratch */
    ck_assert_int_eq(ds_get(&ds, 0, &got, &x), 0);
    ck_assert_uint_eq(x.in.n[0], 12);
    ck_assert_uint_eq(x.in.n[1], 2);
    ck_assert_uint_eq(x.in.n[2], 2);
    ck_assert_int_eq(memcmp(x.in.rows[0], want.pressure, 12 * FEAT_DP * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(x.in.rows[1], want.proximity, 2 * FEAT_DQ * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(x.in.rows[2], want.camera, 2 * FEAT_DC * sizeof(float)), 0);
    ck_assert_int_eq(x.y.hold[0], 0);
    ck_assert_int_eq(x.y.path, FUSION_PATH_SHORTEN);
    ck_assert_int_eq(ds_get(&ds, 1, &got, &x), 0);
    ck_assert_uint_eq(x.in.n[2], 0);
    ds_free(&ds);
    /* a snapshot needs the feature widths */
    ds_build_free(&b);
    const size_t D2[3] = {3, 2, 5};
    ck_assert_int_eq(ds_build_start(&b, D2, 0), 0);
    ck_assert_int_eq(ds_build_snapshot(&b, &s, &y), DS_E_RECORD);
    ds_build_free(&b);
}
END_TEST

/* A small valid tokens dataset (widths 2/1/3, two records) for the error tests. */
static size_t small_dataset(uint8_t *out, size_t cap)
{
    const size_t D[3] = {2, 1, 3};
    float p[4] = {1, 2, 3, 4}, q[1] = {5}, c[3] = {6, 7, 8};
    fusion_input a = {{p, q, c}, {2, 1, 1}}, z = {{NULL, NULL, c}, {0, 0, 1}};
    ds_labels y = {{1, 0}, 3};
    ds_builder b;
    ck_assert_int_eq(ds_build_start(&b, D, 0), 0);
    ck_assert_int_eq(ds_build_tokens(&b, &a, &y), 0);
    ck_assert_int_eq(ds_build_tokens(&b, &z, &y), 0);
    const uint8_t *d;
    size_t len;
    ck_assert_int_eq(ds_build_finish(&b, &d, &len), 0);
    ck_assert_uint_le(len, cap);
    memcpy(out, d, len);
    ds_build_free(&b);
    return len;
}

/* Parse B (LEN) and expect CODE with WANT in the message. */
static void expect_error(const uint8_t *b, size_t len, int code, const char *want)
{
    dataset ds;
    char err[512] = "";
    int rc = ds_parse_buffer(&ds, b, len, "bad.ccfusion", err, sizeof err);
    ck_assert_msg(rc == code, "expected %d (%s), got %d: %s", code, want, rc, err);
    ck_assert_msg(strstr(err, want) != NULL, "message lacks '%s': %s", want, err);
    ck_assert_ptr_null(ds.block);
}

START_TEST(dataset_rejects_malformed)
{
    uint8_t good[512], b[600];
    size_t n = small_dataset(good, sizeof good);
    /* record 0 at 40: 12 + 4·(4+1+3) = 44 bytes; record 1 at 84: 12 + 12 = 24; total 108 */
    ck_assert_uint_eq(n, 108);
    dataset ds;
    char err[512];
    ck_assert_int_eq(ds_parse_buffer(&ds, good, n, "ok", err, sizeof err), 0);
    ds_free(&ds);
#define MUT(stmt)                                                                                  \
    do {                                                                                           \
        memcpy(b, good, n);                                                                        \
        stmt;                                                                                      \
    } while (0)
    MUT(b[0] = 'X');
    expect_error(b, n, DS_E_FORMAT, "bad.ccfusion: not a crossclimb fusion dataset");
    MUT(b[8] = 2);
    expect_error(b, n, DS_E_FORMAT, "version 2");
    MUT(b[12] = 4);
    expect_error(b, n, DS_E_FORMAT, "unknown flags 0x4");
    MUT(b[20] = 0);
    expect_error(b, n, DS_E_FORMAT, "header Dq = 0");
    MUT(b[25] = 0x20); /* Dc = 3 + 8192 */
    expect_error(b, n, DS_E_FORMAT, "header Dc = 8195");
    MUT(b[28] = 1);
    expect_error(b, n, DS_E_FORMAT, "reserved");
    MUT(b[32] = 3);
    expect_error(b, n, DS_E_TRUNCATED, "record 2 (byte offset 108): file ends");
    MUT(b[32] = 1);
    expect_error(b, n, DS_E_TRAILING, "24 bytes after the last of 1 records");
    MUT(b[39] = 1);
    expect_error(b, n, DS_E_FORMAT, "header count");
    MUT(b[84] = 7);
    expect_error(b, n, DS_E_RECORD, "bad.ccfusion: record 1 (byte offset 84): kind 7");
    MUT(b[85] = 2);
    expect_error(b, n, DS_E_RECORD, "record 1 (byte offset 84): hold label of group A is 2");
    MUT(b[86] = 9);
    expect_error(b, n, DS_E_RECORD, "hold label of group B is 9");
    MUT(b[43] = 5);
    expect_error(b, n, DS_E_RECORD, "record 0 (byte offset 40): path class 5, must be 0..4");
    MUT(b[50] = 1);
    expect_error(b, n, DS_E_RECORD, "reserved u16");
    MUT(b[44] = 9);
    expect_error(b, n, DS_E_TRUNCATED, "record 0");
    MUT((b[45] = 4, b[44] = 0)); /* 1024 pressure tokens: over the limit */
    expect_error(b, n, DS_E_RECORD, "1026 tokens");
    /* NaN in record 0, pressure token 1 column 0 (float 2 at 52 + 8) */
    MUT((b[60] = 0, b[61] = 0, b[62] = 0xc0, b[63] = 0x7f));
    expect_error(b, n, DS_E_VALUE, "record 0 (byte offset 40): pressure token 1 column 0 is not finite");
    /* infinity in the camera row of record 1 (column 2, at 84 + 12 + 8) */
    MUT((b[104] = 0, b[105] = 0, b[106] = 0x80, b[107] = 0x7f));
    expect_error(b, n, DS_E_VALUE, "record 1 (byte offset 84): camera token 0 column 2");
    /* trailing byte */
    memcpy(b, good, n);
    b[n] = 0;
    expect_error(b, n + 1, DS_E_TRAILING, "1 bytes after the last of 2 records");
    /* snapshot record in a dataset of other widths */
    MUT(b[84] = 2);
    expect_error(b, n, DS_E_RECORD, "not the feature layout");
    /* every truncation is refused */
    for (size_t k = 0; k < n; k++) {
        int rc = ds_parse_buffer(&ds, good, k, "t", err, sizeof err);
        ck_assert_msg(rc == DS_E_TRUNCATED || rc == DS_E_FORMAT, "length %zu: rc %d", k, rc);
    }
    ck_assert_int_eq(ds_parse_buffer(&ds, NULL, 0, "t", err, sizeof err), DS_E_TRUNCATED);
    ck_assert_int_eq(ds_load_file(&ds, tmp_path("none"), err, sizeof err), DS_E_IO);
    ck_assert_ptr_nonnull(strstr(err, "none: cannot open"));
#undef MUT
}
END_TEST

START_TEST(dataset_rejects_bad_snapshots)
{
    ds_builder b;
    ck_assert_int_eq(ds_synthetic(&b, 1, 5), 0);
    const uint8_t *d;
    size_t n;
    ck_assert_int_eq(ds_build_finish(&b, &d, &n), 0);
    uint8_t *g = malloc(n), *x = malloc(n);
    memcpy(g, d, n);
    ds_build_free(&b);
    const size_t r0 = DS_HEADER_BYTES;
    ck_assert_uint_eq(g[r0], DS_KIND_SNAPSHOT);
#define SNAP(stmt, code, msg)                                                                      \
    do {                                                                                           \
        memcpy(x, g, n);                                                                           \
        stmt;                                                                                      \
        expect_error(x, n, code, msg);                                                             \
    } while (0)
    SNAP((x[r0 + 4 + 3] = 0x7f, x[r0 + 4 + 2] = 0x80), DS_E_VALUE, "cup 0 vacuum is not finite");
    SNAP((x[r0 + 52 + 7] = 0xff, x[r0 + 52 + 6] = 0xff), DS_E_VALUE, "cup 1 vacuum rate");
    SNAP((x[r0 + 100 + 15] = 0x7f, x[r0 + 100 + 14] = 0xc0), DS_E_VALUE, "foot 1 y is not finite");
    SNAP((x[r0 + 132 + 11] = 0x7f, x[r0 + 132 + 10] = 0xc0), DS_E_VALUE,
         "proximity +Y distance is not finite");
    SNAP(x[r0 + 148] = 2, DS_E_RECORD, "holding A is 2");
    SNAP(x[r0 + 151] = 4, DS_E_RECORD, "proximity -X flags 0x04");
    SNAP(x[r0 + 154] = 3, DS_E_RECORD, "camera online is 3");
    SNAP(x[r0 + 155] = 1, DS_E_RECORD, "reserved byte 155");
    SNAP(x[r0 + 156] = 33, DS_E_RECORD, "camera frame 33x16");
    SNAP((x[r0 + 156] = 0, x[r0 + 157] = 1), DS_E_RECORD, "camera frame 256x16");
    SNAP(x[r0 + 154] = 0, DS_E_RECORD, "camera offline but 32x16 pixels");
    SNAP(x[r0 + 158] = 24, DS_E_TRUNCATED, "camera needs 768 pixel bytes, 512 left");
    expect_error(g, DS_HEADER_BYTES + 100, DS_E_TRUNCATED, "snapshot record needs 160 bytes");
#undef SNAP
    free(g);
    free(x);
}
END_TEST

START_TEST(synthetic_data_is_deterministic_and_labelled)
{
    ds_builder a, b;
    const uint8_t *da, *db;
    size_t la, lb;
    ck_assert_int_eq(ds_synthetic(&a, 50, 9), 0);
    ck_assert_int_eq(ds_synthetic(&b, 50, 9), 0);
    ck_assert_int_eq(ds_build_finish(&a, &da, &la), 0);
    ck_assert_int_eq(ds_build_finish(&b, &db, &lb), 0);
    ck_assert_uint_eq(la, lb);
    ck_assert_int_eq(memcmp(da, db, la), 0);
    ds_build_free(&b);
    ck_assert_int_eq(ds_synthetic(&b, 50, 10), 0);
    ck_assert_int_eq(ds_build_finish(&b, &db, &lb), 0);
    ck_assert(la != lb || memcmp(da, db, la) != 0);
    dataset ds;
    char err[512];
    ck_assert_int_eq(ds_parse_buffer(&ds, da, la, "syn", err, sizeof err), 0);
    ck_assert_uint_eq(ds.flags & DS_FLAG_SYNTHETIC, DS_FLAG_SYNTHETIC);
    /* every class of label occurs in a larger draw */
    ds_free(&ds);
    ds_build_free(&a);
    ds_build_free(&b);
    synthetic(&ds, 2000, 1);
    size_t path[FUSION_PATH] = {0}, nohold = 0, cam_off = 0;
    for (size_t i = 0; i < ds.count; i++) {
        path[ds.rec[i].y.path]++;
        nohold += !ds.rec[i].y.hold[0] + !ds.rec[i].y.hold[1];
        cam_off += ds.rec[i].n[FUSION_CAMERA] == 0;
    }
    for (int k = 0; k < FUSION_PATH; k++) ck_assert_uint_gt(path[k], 10);
    ck_assert_uint_gt(nohold, 200);
    ck_assert_uint_gt(cam_off, 20);
    ds_free(&ds);
}
END_TEST

/* ================= safetensors writer ================= */

START_TEST(writer_output_is_strict_and_atomic)
{
    float w[6] = {1, 2, 3, 4, 5, 6}, bias[2] = {-1, 0.5f};
    wt_tensor t[2] = {{"a.weight", 2, {2, 3}, w}, {"a.bias", 1, {2}, bias}};
    st_meta meta[1] = {{"k", "v"}};
    uint8_t *buf;
    size_t len;
    char err[ST_ERR_LEN];
    ck_assert_int_eq(wt_serialize(t, 2, meta, 1, &buf, &len, err, sizeof err), 0);
    st_file f;
    ck_assert_msg(st_parse_buffer(buf, len, "w", &f, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(f.ntensors, 2);
    ck_assert_uint_eq(f.header_len % 8, 0);
    const st_tensor *a = st_find(&f, "a.weight");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(memcmp(a->data, w, sizeof w), 0);
    ck_assert_str_eq(st_meta_get(&f, "k"), "v");
    st_free(&f);
    free(buf);
    /* refusals */
    float nan1[1] = {NAN};
    wt_tensor bad[2] = {{"x", 1, {1}, nan1}, {"x", 1, {1}, w}};
    ck_assert_int_eq(wt_serialize(bad, 1, NULL, 0, &buf, &len, err, sizeof err), WT_E_ARG);
    ck_assert_ptr_nonnull(strstr(err, "not finite"));
    bad[0].data = w;
    ck_assert_int_eq(wt_serialize(bad, 2, NULL, 0, &buf, &len, err, sizeof err), WT_E_ARG);
    ck_assert_ptr_nonnull(strstr(err, "given twice"));
    st_meta q[1] = {{"k", "has \"quote\""}};
    ck_assert_int_eq(wt_serialize(t, 2, q, 1, &buf, &len, err, sizeof err), WT_E_ARG);
    /* atomic replacement: the old file stays whole when the write fails */
    const char *p = tmp_path("w.safetensors");
    write_bytes(p, "old", 3);
    ck_assert_int_eq(wt_write(p, t, 2, NULL, 0, err, sizeof err), 0);
    size_t n;
    uint8_t *got = slurp(p, &n);
    ck_assert_uint_gt(n, 3);
    free(got);
    ck_assert_int_eq(wt_write(tmp_path("no/such/dir/w.safetensors"), t, 2, NULL, 0, err,
                              sizeof err),
                     WT_E_IO);
    ck_assert_ptr_nonnull(strstr(err, "no/such/dir/w.safetensors"));
    /* a directory in the way of the rename: the temporary is removed */
    ck_assert_int_eq(mkdir(tmp_path("dir.safetensors"), 0755), 0);
    ck_assert_int_eq(wt_write(tmp_path("dir.safetensors"), t, 2, NULL, 0, err, sizeof err),
                     WT_E_IO);
    ck_assert_ptr_nonnull(strstr(err, "rename"));
    ck_assert_int_eq(count_files(".tmp."), 0);
}
END_TEST

/* ================= crossclimb fusion train (in-process) ================= */

/* Run cmd_fusion_train(ARGV) in a child, stdout+stderr into OUT (CAP bytes);
 * the exit status. */
static int run_train(const char *const *argv, char *out, size_t cap)
{
    int argc = 0;
    while (argv[argc]) argc++;
    char log[300]; /* not tmp_path: its ring would recycle the caller's paths */
    snprintf(log, sizeof log, "%s/cli.log", tmp_dir());
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        int rc = cmd_fusion_train(argc, (char **)argv);
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st));
    size_t n;
    uint8_t *b = slurp(log, &n);
    if (n >= cap) n = cap - 1;
    memcpy(out, b, n);
    out[n] = '\0';
    free(b);
    return WEXITSTATUS(st);
}

#define HAS(out, s) ck_assert_msg(strstr(out, s) != NULL, "output lacks '%s':\n%s", s, out)

START_TEST(cli_usage_errors)
{
    static char out[8192];
    const char *w = tmp_path("w.safetensors");
    struct {
        const char *argv[12];
        const char *msg;
    } cases[] = {
        {{"train", NULL}, "give --data FILE or --synthetic N"},
        {{"train", "--data", "x", NULL}, "--out FILE is required"},
        {{"train", "--synthetic", "10", "--data", "x", "--out", w, NULL}, "exclude each other"},
        {{"train", "--synthetic", "ten", "--out", w, NULL}, "--synthetic: 'ten' is not a whole number"},
        {{"train", "--synthetic", "10", "--out", w, "--epochs", "0", NULL}, "--epochs: '0'"},
        {{"train", "--synthetic", "10", "--out", w, "--epochs", "-3", NULL}, "--epochs: '-3'"},
        {{"train", "--synthetic", "10", "--out", w, "--lr", "0", NULL}, "--lr: '0' is not a number"},
        {{"train", "--synthetic", "10", "--out", w, "--lr", "nan", NULL}, "--lr: 'nan'"},
        {{"train", "--synthetic", "10", "--out", w, "--holdout", "1", NULL}, "--holdout: '1'"},
        {{"train", "--synthetic", "10", "--out", w, "--hidden", "4096", NULL}, "--hidden: '4096'"},
        {{"train", "--synthetic", "10", "--out", w, "--frob", NULL}, "unknown option '--frob'"},
        {{"train", "--synthetic", "10", "--out", w, "stray", NULL}, "unknown argument 'stray'"},
        {{"train", "--synthetic", "10", "--out", NULL}, "--out needs a value"},
        {{"train", "--data", "x", "--save-data", "y", NULL}, "--save-data needs --synthetic"},
        {{"train", "--data", "x", "--out", w, "--init", "i", "--hidden", "4", NULL},
         "drop --hidden"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_msg(run_train(cases[i].argv, out, sizeof out) == 2, "case %zu: %s", i, out);
        HAS(out, cases[i].msg);
    }
    const char *help[] = {"train", "--help", NULL};
    ck_assert_int_eq(run_train(help, out, sizeof out), 0);
    HAS(out, "usage: crossclimb fusion train --data FILE --out WEIGHTS.safetensors");
    ck_assert_int_eq(access(w, F_OK), -1); /* nothing written */
}
END_TEST

START_TEST(cli_runtime_errors)
{
    static char out[8192];
    const char *w = tmp_path("w.safetensors");
    const char *a1[] = {"train", "--data", tmp_path("missing.ccfusion"), "--out", w, NULL};
    ck_assert_int_eq(run_train(a1, out, sizeof out), 1);
    HAS(out, "missing.ccfusion: cannot open");
    /* a corrupt record: named by file, record and offset */
    uint8_t b[512];
    size_t n = small_dataset(b, sizeof b);
    b[84 + 3] = 9;
    const char *bad = tmp_path("bad.ccfusion");
    write_bytes(bad, b, n);
    const char *a2[] = {"train", "--data", bad, "--out", w, NULL};
    ck_assert_int_eq(run_train(a2, out, sizeof out), 1);
    HAS(out, "bad.ccfusion: record 1 (byte offset 84): path class 9");
    /* --init that is not a weights file */
    b[84 + 3] = 0;
    const char *good = tmp_path("good.ccfusion");
    write_bytes(good, b, n);
    const char *a3[] = {"train", "--data", good, "--out", w, "--init", bad, NULL};
    ck_assert_int_eq(run_train(a3, out, sizeof out), 1);
    HAS(out, "--init: ");
    HAS(out, "bad.ccfusion");
    /* --init weights of other widths than the data */
    const char *syn = tmp_path("syn.safetensors");
    const char *a4[] = {"train", "--synthetic", "8", "--out", syn, "--epochs", "1", "--hidden", "4",
                        NULL};
    ck_assert_int_eq(run_train(a4, out, sizeof out), 0);
    const char *a5[] = {"train", "--data", good, "--out", w, "--init", syn, NULL};
    ck_assert_int_eq(run_train(a5, out, sizeof out), 1);
    HAS(out, "token widths 2/1/3");
    HAS(out, "are 7/4/66");
    /* the output cannot be written: exit 1, message names --out */
    const char *a6[] = {"train", "--data", good, "--out", tmp_path("no/dir/w.safetensors"),
                        "--epochs", "1", NULL};
    ck_assert_int_eq(run_train(a6, out, sizeof out), 1);
    HAS(out, "note: widths differ from the feature layout 7/4/66");
    HAS(out, "--out: ");
    HAS(out, "no/dir/w.safetensors");
    ck_assert_int_eq(access(w, F_OK), -1);
}
END_TEST

START_TEST(cli_trains_synthetic_and_round_trips)
{
    static char out[16384];
    const char *w1 = tmp_path("w1.safetensors"), *w2 = tmp_path("w2.safetensors"),
               *w3 = tmp_path("w3.safetensors"), *data = tmp_path("syn.ccfusion");
    /* write the synthetic data only */
    const char *a0[] = {"train", "--synthetic", "200", "--save-data", data, "--seed", "4", NULL};
    ck_assert_int_eq(run_train(a0, out, sizeof out), 0);
    HAS(out, "wrote 200 SYNTHETIC examples");
    dataset ds;
    char err[512];
    ck_assert_int_eq(ds_load_file(&ds, data, err, sizeof err), 0);
    ck_assert_uint_eq(ds.count, 200);
    ck_assert_uint_eq(ds.flags, DS_FLAG_SYNTHETIC);
    ds_free(&ds);
    /* train on it in memory and from the file: the same bytes */
    const char *a1[] = {"train", "--synthetic", "200", "--out", w1, "--seed", "4", "--epochs", "3",
                        "--hidden", "6", "--self-attn", "--holdout", "0.2", NULL};
    ck_assert_int_eq(run_train(a1, out, sizeof out), 0);
    HAS(out, "(SYNTHETIC, not simulator data)");
    HAS(out, "training on 160, holding out 40");
    HAS(out, "epoch 1/3 loss");
    HAS(out, "epoch 3/3 loss");
    HAS(out, "| holdout loss");
    HAS(out, "final weights: training loss");
    HAS(out, "wrote ");
    const char *a2[] = {"train", "--data", data, "--out", w2, "--seed", "4", "--epochs", "3",
                        "--hidden", "6", "--self-attn", "--holdout", "0.2", NULL};
    ck_assert_int_eq(run_train(a2, out, sizeof out), 0);
    size_t n1, n2;
    uint8_t *b1 = slurp(w1, &n1), *b2 = slurp(w2, &n2);
    /* metadata says "synthetic" vs "dataset file": compare the tensors */
    fusion_model m1, m2;
    ck_assert_int_eq(fusion_model_load(&m1, w1, FUSION_LOAD_FEATURES, err, sizeof err), 0);
    ck_assert_int_eq(fusion_model_load(&m2, w2, FUSION_LOAD_FEATURES, err, sizeof err), 0);
    ck_assert_int_eq(m1.has_self_attn, 1);
    ck_assert_uint_eq(m1.H, 6);
    ck_assert_uint_eq(m1.file.data_len, m2.file.data_len);
    ck_assert_int_eq(memcmp(m1.file.tensors[0].data, m2.file.tensors[0].data, m1.file.data_len), 0);
    ck_assert_str_eq(st_meta_get(&m1.file, "data"), "synthetic");
    ck_assert_str_eq(st_meta_get(&m2.file, "data"), "dataset file");
    ck_assert_str_eq(st_meta_get(&m1.file, "data_fnv1a64"), st_meta_get(&m2.file, "data_fnv1a64"));
    fusion_model_free(&m2);
    /* again from the file: byte-identical */
    ck_assert_int_eq(run_train(a2, out, sizeof out), 0);
    size_t n3;
    uint8_t *b3 = slurp(w2, &n3);
    ck_assert_uint_eq(n2, n3);
    ck_assert_int_eq(memcmp(b2, b3, n2), 0);
    /* continue from w1 for one epoch */
    const char *a3[] = {"train", "--data", data, "--out", w3, "--init", w1, "--epochs", "1", NULL};
    ck_assert_int_eq(run_train(a3, out, sizeof out), 0);
    HAS(out, "H=6 Hp=6 self-attention=yes");
    HAS(out, "from ");
    fusion_model m3;
    ck_assert_int_eq(fusion_model_load(&m3, w3, FUSION_LOAD_FEATURES, err, sizeof err), 0);
    ck_assert_str_eq(st_meta_get(&m3.file, "init"), "file");
    ck_assert_int_ne(memcmp(m1.file.tensors[0].data, m3.file.tensors[0].data, m1.file.data_len), 0);
    fusion_model_free(&m3);
    fusion_model_free(&m1);
    free(b1);
    free(b2);
    free(b3);
    ck_assert_int_eq(count_files(".tmp."), 0);
}
END_TEST

/* The front command dispatches `fusion train` (cli/cmd_fusion.c). */
START_TEST(cli_binary_dispatches_train)
{
    const char *bin = getenv("CROSSCLIMB_BIN");
    ck_assert_msg(bin != NULL && bin[0], "CROSSCLIMB_BIN is not set: run through `make check-unit`");
    char cmd[1024];
    const char *w = tmp_path("bin.safetensors");
    snprintf(cmd, sizeof cmd,
             "'%s' fusion train --synthetic 20 --out '%s' --epochs 1 --hidden 4 2>&1", bin, w);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    static char out[8192];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "`crossclimb fusion train` failed (is it dispatched to cmd_fusion_train in "
                  "cli/cmd_fusion.c?):\n%s", out);
    HAS(out, "epoch 1/1");
    fusion_model m;
    char err[ST_ERR_LEN];
    ck_assert_msg(fusion_model_load(&m, w, FUSION_LOAD_FEATURES, err, sizeof err) == 0, "%s", err);
    fusion_model_free(&m);
}
END_TEST

/* ================= runner ================= */

static Suite *train_suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("gradient");
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, (int)N_GRAD_CASES);
    tcase_add_test(tc, gradient_of_tokenless_example);
    tcase_add_test(tc, adam_first_step_is_lr);
    suite_add_tcase(s, tc);

    tc = tcase_create("training");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, synthetic_loss_decreases_and_accuracy);
    tcase_add_test(tc, same_seed_same_bytes_other_seed_differs);
    tcase_add_test(tc, written_weights_load_and_agree);
    tcase_add_test(tc, empty_modality_weights_untouched);
    tcase_add_test(tc, trainer_refuses_bad_input);
#if ALLOC_PROBE_WORKS
    tcase_add_test(tc, training_allocates_nothing);
#endif
    suite_add_tcase(s, tc);

    tc = tcase_create("dataset");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, dataset_round_trip);
    tcase_add_test(tc, dataset_snapshots_extract_like_features);
    tcase_add_test(tc, dataset_rejects_malformed);
    tcase_add_test(tc, dataset_rejects_bad_snapshots);
    tcase_add_test(tc, synthetic_data_is_deterministic_and_labelled);
    tcase_add_test(tc, writer_output_is_strict_and_atomic);
    suite_add_tcase(s, tc);

    tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, cli_usage_errors);
    tcase_add_test(tc, cli_runtime_errors);
    tcase_add_test(tc, cli_trains_synthetic_and_round_trips);
    suite_add_tcase(s, tc);

    tc = tcase_create("cli-dispatch");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, cli_binary_dispatches_train);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(train_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
