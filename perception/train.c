/*
 * train.c — backpropagation through the attention-fusion model and Adam
 * (see train.h for the model, the loss and the guarantees).
 *
 * Shapes: T tokens (Tp + Tq + Tc), H token width, Hp pooling width, D[m]
 * input widths.  Weights are [out, in] row-major floats as in the file;
 * activations and gradients are double, row-major, one example at a time.
 * Each backward step is written beside the forward step it undoes.
 */
#include "train.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perr.h"

#include "weights_write.h"

const char *train_strerror(int code)
{
    switch (code) {
    case TRAIN_OK: return "success";
    case TRAIN_E_ARG: return "invalid argument";
    case TRAIN_E_NOMEM: return "out of memory";
    case TRAIN_E_SHAPE: return "data widths differ from the model's";
    case TRAIN_E_TOKENS: return "example has more tokens than the trainer holds";
    case TRAIN_E_LOAD: return "cannot load the initial weights";
    case TRAIN_E_WRITE: return "cannot write the weights";
    case TRAIN_E_NONFINITE: return "loss or parameters became non-finite";
    default: return "unknown error";
    }
}

static const char *const tensor_names[TRAIN_NTENSORS] = {
    "proj.pressure.weight",   "proj.pressure.bias",   "proj.proximity.weight",
    "proj.proximity.bias",    "proj.camera.weight",   "proj.camera.bias",
    "self_attn.query.weight", "self_attn.query.bias", "self_attn.key.weight",
    "self_attn.key.bias",     "self_attn.value.weight", "self_attn.value.bias",
    "pool.weight",            "pool.bias",            "head.grip.weight",
    "head.grip.bias",         "head.path.weight",     "head.path.bias"};

/* ---- the model's parameter table ---- */

void train_model_free(train_model *m)
{
    if (!m) return;
    free(m->params);
    memset(m, 0, sizeof *m);
}

/* Lay out the tensors of shape S in M and allocate params (zeroed). */
static int model_alloc(train_model *m, const train_shape *s, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (!s) return perr_fail(err, errlen, TRAIN_E_ARG, "no model shape");
    if (s->H == 0 || s->H > TRAIN_MAX_H || s->Hp == 0 || s->Hp > TRAIN_MAX_H)
        return perr_fail(err, errlen, TRAIN_E_ARG, "H = %zu, Hp = %zu: each must be 1..%u", s->H,
                       s->Hp, TRAIN_MAX_H);
    for (int k = 0; k < FUSION_MODALITIES; k++)
        if (s->D[k] == 0 || s->D[k] > DS_MAX_WIDTH)
            return perr_fail(err, errlen, TRAIN_E_ARG, "%s input width %zu, must be 1..%u",
                           fusion_modality_name(k), s->D[k], DS_MAX_WIDTH);
    const size_t H = s->H;
    const size_t dims[TRAIN_NTENSORS][2] = {
        {H, s->D[0]}, {H, 0}, {H, s->D[1]}, {H, 0}, {H, s->D[2]}, {H, 0},
        {H, H},       {H, 0}, {H, H},       {H, 0}, {H, H},       {H, 0},
        {s->Hp, H},   {s->Hp, 0}, {FUSION_GRIP, H}, {FUSION_GRIP, 0}, {FUSION_PATH, H},
        {FUSION_PATH, 0}};
    m->shape = *s;
    m->shape.self_attn = s->self_attn ? 1 : 0;
    size_t off = 0;
    for (int i = 0; i < TRAIN_NTENSORS; i++) {
        train_tensor *t = &m->t[i];
        t->name = tensor_names[i];
        t->rows = dims[i][0];
        t->cols = dims[i][1];
        t->offset = off;
        int absent = !m->shape.self_attn && i >= TRAIN_ATTN_Q_W && i <= TRAIN_ATTN_V_B;
        t->numel = absent ? 0 : t->rows * (t->cols ? t->cols : 1);
        off += t->numel; /* at most ~ 3·1024·4096 + 3·1024² floats: no overflow */
    }
    m->nparams = off;
    m->params = calloc(off, sizeof *m->params);
    if (!m->params) return perr_fail(err, errlen, TRAIN_E_NOMEM, "no memory for %zu parameters", off);
    return 0;
}

int train_model_init(train_model *m, const train_shape *s, uint64_t seed, char *err,
                     size_t errlen)
{
    if (!m) return perr_fail(err, errlen, TRAIN_E_ARG, "NULL model");
    int rc = model_alloc(m, s, err, errlen);
    if (rc != 0) return rc;
    ds_rng r;
    ds_rng_seed(&r, seed);
    for (int i = 0; i < TRAIN_NTENSORS; i++) {
        const train_tensor *t = &m->t[i];
        if (!t->cols || !t->numel) continue; /* biases start at 0 */
        const double a = sqrt(6.0 / (double)(t->rows + t->cols));
        float *p = m->params + t->offset;
        for (size_t k = 0; k < t->numel; k++) p[k] = (float)(a * (2.0 * ds_rng_uniform(&r) - 1.0));
    }
    return 0;
}

int train_model_from_fusion(train_model *m, const fusion_model *f, char *err, size_t errlen)
{
    if (!m || !f || !f->H) return perr_fail(err, errlen, TRAIN_E_ARG, "NULL or empty model");
    train_shape s = {.H = f->H, .Hp = f->Hp, .self_attn = f->has_self_attn};
    for (int k = 0; k < FUSION_MODALITIES; k++) s.D[k] = f->D[k];
    int rc = model_alloc(m, &s, err, errlen);
    if (rc != 0) return rc;
    const fusion_linear *src[TRAIN_NTENSORS / 2] = {&f->proj[0], &f->proj[1], &f->proj[2],
                                                    &f->attn_q,  &f->attn_k,  &f->attn_v,
                                                    &f->pool,    &f->grip,    &f->path};
    for (int i = 0; i < TRAIN_NTENSORS; i++) {
        const train_tensor *t = &m->t[i];
        if (!t->numel) continue;
        const fusion_linear *l = src[i / 2];
        memcpy(m->params + t->offset, (i % 2) ? l->b : l->w, t->numel * sizeof(float));
    }
    return 0;
}

int train_model_load(train_model *m, const char *path, char *err, size_t errlen)
{
    if (!m || !path) return perr_fail(err, errlen, TRAIN_E_ARG, "NULL argument");
    memset(m, 0, sizeof *m);
    fusion_model f;
    int rc = fusion_model_load(&f, path, 0, err, errlen);
    if (rc != 0) return TRAIN_E_LOAD; /* err has the reader's message */
    rc = train_model_from_fusion(m, &f, err, errlen);
    fusion_model_free(&f);
    return rc;
}

int train_model_serialize(const train_model *m, const st_meta *meta, size_t nmeta, uint8_t **out,
                          size_t *len, char *err, size_t errlen)
{
    if (!m || !m->params) return perr_fail(err, errlen, TRAIN_E_ARG, "empty model");
    wt_tensor w[TRAIN_NTENSORS];
    size_t n = 0;
    for (int i = 0; i < TRAIN_NTENSORS; i++) {
        const train_tensor *t = &m->t[i];
        if (!t->numel) continue;
        w[n] = (wt_tensor){.name = t->name, .ndim = t->cols ? 2 : 1,
                           .shape = {t->rows, t->cols}, .data = m->params + t->offset};
        n++;
    }
    int rc = wt_serialize(w, n, meta, nmeta, out, len, err, errlen);
    return rc == 0 ? 0 : rc == WT_E_NOMEM ? TRAIN_E_NOMEM : TRAIN_E_WRITE;
}

int train_model_write(const train_model *m, const char *path, const st_meta *meta, size_t nmeta,
                      char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    int rc = train_model_serialize(m, meta, nmeta, &buf, &len, err, errlen);
    if (rc != 0) return rc;
    rc = wt_write_atomic(path, buf, len, err, errlen);
    free(buf);
    return rc == 0 ? 0 : TRAIN_E_WRITE;
}

int train_check_dataset(const train_model *m, const dataset *ds, const char *name, char *err,
                        size_t errlen)
{
    if (!m || !ds) return perr_fail(err, errlen, TRAIN_E_ARG, "NULL argument");
    if (!name) name = "dataset";
    if (ds->count == 0) return perr_fail(err, errlen, TRAIN_E_ARG, "%s: no examples", name);
    for (int k = 0; k < FUSION_MODALITIES; k++)
        if (ds->D[k] != m->shape.D[k])
            return perr_fail(err, errlen, TRAIN_E_SHAPE,
                           "%s: token widths %zu/%zu/%zu (pressure/proximity/camera), the model's "
                           "are %zu/%zu/%zu (%s width differs)",
                           name, ds->D[0], ds->D[1], ds->D[2], m->shape.D[0], m->shape.D[1],
                           m->shape.D[2], fusion_modality_name(k));
    return 0;
}

/* ---- trainer memory ---- */

void train_config_default(train_config *c)
{
    if (!c) return;
    *c = (train_config){.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                        .grip_weight = 1.0, .path_weight = 1.0, .batch = 32, .seed = 1};
}

void trainer_free(trainer *t)
{
    if (!t) return;
    free(t->block);
    memset(t, 0, sizeof *t);
}

int trainer_init(trainer *t, train_model *m, const train_config *c, size_t max_tokens, char *err,
                 size_t errlen)
{
    if (!t) return perr_fail(err, errlen, TRAIN_E_ARG, "NULL trainer");
    memset(t, 0, sizeof *t);
    if (!m || !m->params) return perr_fail(err, errlen, TRAIN_E_ARG, "no model");
    train_config cfg;
    if (c) cfg = *c;
    else train_config_default(&cfg);
    if (!(cfg.lr > 0 && cfg.lr < 1e3) || !(cfg.beta1 >= 0 && cfg.beta1 < 1) ||
        !(cfg.beta2 >= 0 && cfg.beta2 < 1) || !(cfg.eps > 0 && cfg.eps < 1) ||
        !(cfg.grip_weight >= 0 && cfg.grip_weight <= 1e6) ||
        !(cfg.path_weight >= 0 && cfg.path_weight <= 1e6) || cfg.batch == 0 ||
        cfg.batch > DS_MAX_RECORDS)
        return perr_fail(err, errlen, TRAIN_E_ARG,
                       "settings out of range (lr in (0, 1000), betas in [0, 1), eps in (0, 1), "
                       "loss weights in [0, 1e6], batch 1..%u)", DS_MAX_RECORDS);
    if (max_tokens == 0 || max_tokens > DS_MAX_TOKENS)
        return perr_fail(err, errlen, TRAIN_E_ARG, "max_tokens %zu, must be 1..%u", max_tokens,
                       DS_MAX_TOKENS);
    const size_t T = max_tokens, H = m->shape.H, Hp = m->shape.Hp, P = m->nparams;
    const size_t TH = T * H, TT = m->shape.self_attn ? T * T : 0, sa = m->shape.self_attn ? 1 : 0;
    /* grad, adam_m, adam_v; x0, q, k, v, x, dx, dx0, dq, dk, dv; att; e; s, alpha, drow, ds;
       f, df; dz */
    size_t nd = 3 * P + (2 + 8 * sa) * TH + TT + T * Hp + 4 * T + 2 * H + Hp;
    size_t bytes = nd * sizeof(double) + sizeof(feat_tokens);
    void *block = calloc(1, bytes);
    if (!block) return perr_fail(err, errlen, TRAIN_E_NOMEM, "no memory for the trainer (%zu bytes)",
                               bytes);
    double *d = block;
#define TAKE(ptr, n) (ptr = d, d += (n))
    TAKE(t->grad, P);
    TAKE(t->adam_m, P);
    TAKE(t->adam_v, P);
    TAKE(t->x0, TH);
    TAKE(t->dx, TH);
    if (sa) {
        TAKE(t->q, TH);
        TAKE(t->k, TH);
        TAKE(t->v, TH);
        TAKE(t->x, TH);
        TAKE(t->dx0, TH);
        TAKE(t->dq, TH);
        TAKE(t->dk, TH);
        TAKE(t->dv, TH);
        TAKE(t->att, TT);
    }
    TAKE(t->e, T * Hp);
    TAKE(t->s, T);
    TAKE(t->alpha, T);
    TAKE(t->drow, T);
    TAKE(t->ds, T);
    TAKE(t->f, H);
    TAKE(t->df, H);
    TAKE(t->dz, Hp);
#undef TAKE
    t->scratch = (feat_tokens *)(void *)d; /* doubles keep it 8-byte aligned */
    t->block = block;
    t->m = m;
    t->cfg = cfg;
    t->max_tokens = max_tokens;
    t->b1t = t->b2t = 1.0;
    ds_rng_seed(&t->rng, cfg.seed);
    return 0;
}

const double *trainer_grad(const trainer *t)
{
    return t ? t->grad : NULL;
}

void trainer_zero_grad(trainer *t)
{
    if (t && t->grad) memset(t->grad, 0, t->m->nparams * sizeof *t->grad);
}

/* ---- kernels ---- */

/* y[O] = W[O, I]·x[I] + b[O] (W, b float; x, y double) */
static void lin(double *y, const float *w, const float *b, const double *x, size_t O, size_t I)
{
    for (size_t o = 0; o < O; o++) {
        const float *wo = w + o * I;
        double acc = 0;
        for (size_t i = 0; i < I; i++) acc += (double)wo[i] * x[i];
        y[o] = acc + (double)b[o];
    }
}

/* The same with a float input row (the token matrices). */
static void lin_f(double *y, const float *w, const float *b, const float *x, size_t O, size_t I)
{
    for (size_t o = 0; o < O; o++) {
        const float *wo = w + o * I;
        double acc = 0;
        for (size_t i = 0; i < I; i++) acc += (double)wo[i] * (double)x[i];
        y[o] = acc + (double)b[o];
    }
}

/* Backward of y = W·x + b for one row: gW[O, I] += dy ⊗ x;  gb += dy;
 * dx[I] += Wᵀ·dy (when dx is not NULL). */
static void lin_back(double *gw, double *gb, double *dx, const float *w, const double *x,
                     const double *dy, size_t O, size_t I)
{
    for (size_t o = 0; o < O; o++) {
        const double g = dy[o];
        double *gwo = gw + o * I;
        for (size_t i = 0; i < I; i++) gwo[i] += g * x[i];
        gb[o] += g;
        if (dx) {
            const float *wo = w + o * I;
            for (size_t i = 0; i < I; i++) dx[i] += (double)wo[i] * g;
        }
    }
}

/* p[n] = softmax(z[n]) (p may be z), n >= 1; the max is subtracted first. */
static void softmax_d(double *p, const double *z, size_t n)
{
    double mx = z[0];
    for (size_t i = 1; i < n; i++)
        if (z[i] > mx) mx = z[i];
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        p[i] = exp(z[i] - mx);
        sum += p[i];
    }
    for (size_t i = 0; i < n; i++) p[i] /= sum;
}

static double sigmoid_d(double z)
{
    if (z >= 0) return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

/* BCE(σ(z), y) from the logit: max(z, 0) − z·y + log(1 + e^−|z|). */
static double bce_logit(double z, double y)
{
    return (z > 0 ? z : 0) - z * y + log1p(exp(-fabs(z)));
}

/* ---- forward and backward ---- */

static const float *P_(const trainer *t, int i)
{
    return t->m->params + t->m->t[i].offset;
}

static double *G_(trainer *t, int i)
{
    return t->grad + t->m->t[i].offset;
}

static int check_example(const trainer *t, const ds_example *ex, size_t *T)
{
    if (!t || !t->block || !ex) return TRAIN_E_ARG;
    size_t n = 0;
    for (int mo = 0; mo < FUSION_MODALITIES; mo++) {
        if (ex->in.n[mo] && !ex->in.rows[mo]) return TRAIN_E_ARG;
        if (ex->in.n[mo] > t->max_tokens - n) return TRAIN_E_TOKENS;
        n += ex->in.n[mo];
    }
    if (ex->y.hold[0] > 1 || ex->y.hold[1] > 1 || ex->y.path >= FUSION_PATH) return TRAIN_E_ARG;
    *T = n;
    return 0;
}

/* The forward pass of EX (T tokens) into the trainer's buffers and *R. */
static void forward(trainer *t, const ds_example *ex, size_t T, train_result *r)
{
    const train_shape *sh = &t->m->shape;
    const size_t H = sh->H, Hp = sh->Hp;

    /* X0[T, H] = rows(P·Wpᵀ+bp; Q·Wqᵀ+bq; C·Wcᵀ+bc) */
    size_t row = 0;
    for (int mo = 0; mo < FUSION_MODALITIES; mo++) {
        const float *w = P_(t, TRAIN_PROJ_P_W + 2 * mo), *b = P_(t, TRAIN_PROJ_P_B + 2 * mo);
        for (size_t i = 0; i < ex->in.n[mo]; i++, row++)
            lin_f(t->x0 + row * H, w, b, ex->in.rows[mo] + i * sh->D[mo], H, sh->D[mo]);
    }

    /* Self-attention: q, k, v [T, H];  att[T, T] = softmax_rows(q·kᵀ/√H);  X = X0 + att·v */
    const double *x = t->x0;
    if (sh->self_attn && T > 0) {
        const double c = 1.0 / sqrt((double)H);
        for (size_t i = 0; i < T; i++) {
            const double *xi = t->x0 + i * H;
            lin(t->q + i * H, P_(t, TRAIN_ATTN_Q_W), P_(t, TRAIN_ATTN_Q_B), xi, H, H);
            lin(t->k + i * H, P_(t, TRAIN_ATTN_K_W), P_(t, TRAIN_ATTN_K_B), xi, H, H);
            lin(t->v + i * H, P_(t, TRAIN_ATTN_V_W), P_(t, TRAIN_ATTN_V_B), xi, H, H);
        }
        for (size_t i = 0; i < T; i++) {
            double *a = t->att + i * T;
            const double *qi = t->q + i * H;
            for (size_t j = 0; j < T; j++) {
                const double *kj = t->k + j * H;
                double acc = 0;
                for (size_t h = 0; h < H; h++) acc += qi[h] * kj[h];
                a[j] = acc * c;
            }
            softmax_d(a, a, T);
            double *xo = t->x + i * H;
            memcpy(xo, t->x0 + i * H, H * sizeof *xo); /* residual */
            for (size_t j = 0; j < T; j++) {
                const double *vj = t->v + j * H;
                for (size_t h = 0; h < H; h++) xo[h] += a[j] * vj[h];
            }
        }
        x = t->x;
    }

    /* Pooling: E[T, Hp] = tanh(X·Waᵀ+ba);  s_t = Σ_j E_tj;  α = softmax(s);  f = Σ α_t X_t */
    for (size_t i = 0; i < T; i++) {
        double *e = t->e + i * Hp;
        lin(e, P_(t, TRAIN_POOL_W), P_(t, TRAIN_POOL_B), x + i * H, Hp, H);
        double s = 0;
        for (size_t j = 0; j < Hp; j++) {
            e[j] = tanh(e[j]);
            s += e[j];
        }
        t->s[i] = s;
    }
    for (size_t h = 0; h < H; h++) t->f[h] = 0;
    if (T > 0) {
        softmax_d(t->alpha, t->s, T);
        for (size_t i = 0; i < T; i++)
            for (size_t h = 0; h < H; h++) t->f[h] += t->alpha[i] * x[i * H + h];
    }

    /* Heads and loss */
    double g[FUSION_GRIP], z[FUSION_PATH];
    lin(g, P_(t, TRAIN_GRIP_W), P_(t, TRAIN_GRIP_B), t->f, FUSION_GRIP, H);
    lin(z, P_(t, TRAIN_PATH_W), P_(t, TRAIN_PATH_B), t->f, FUSION_PATH, H);
    r->loss_grip = 0;
    r->grip_correct = 0;
    for (int k = 0; k < FUSION_GRIP; k++) {
        const double target = 1.0 - ex->y.hold[k]; /* the output is a risk */
        r->grip[k] = sigmoid_d(g[k]);
        r->loss_grip += 0.5 * bce_logit(g[k], target);
        r->grip_correct += (r->grip[k] > 0.5) == (ex->y.hold[k] == 0);
    }
    double mx = z[0];
    size_t am = 0;
    for (size_t k = 1; k < FUSION_PATH; k++)
        if (z[k] > mx) mx = z[k], am = k;
    double sum = 0;
    for (size_t k = 0; k < FUSION_PATH; k++) sum += exp(z[k] - mx);
    const double lse = mx + log(sum);
    for (size_t k = 0; k < FUSION_PATH; k++) r->path[k] = exp(z[k] - lse);
    r->loss_path = lse - z[ex->y.path];
    r->path_correct = am == ex->y.path;
    r->loss = t->cfg.grip_weight * r->loss_grip + t->cfg.path_weight * r->loss_path;
    r->T = T;
    r->H = H;
    r->tokens = x;
    r->scores = t->s;
    r->alpha = t->alpha;
    r->fused = t->f;
}

/* The backward pass of EX after forward(): grad += SCALE · ∂L/∂θ. */
static void backward(trainer *t, const ds_example *ex, size_t T, const train_result *r,
                     double scale)
{
    const train_shape *sh = &t->m->shape;
    const size_t H = sh->H, Hp = sh->Hp;
    const double *x = sh->self_attn && T > 0 ? t->x : t->x0;

    /* Heads: ∂L/∂g_k = w_g·½(σ(g_k) − (1 − hold_k));  ∂L/∂z = w_p·(p − onehot(c)) */
    double dg[FUSION_GRIP], dzp[FUSION_PATH];
    for (int k = 0; k < FUSION_GRIP; k++)
        dg[k] = scale * t->cfg.grip_weight * 0.5 * (r->grip[k] - (1.0 - ex->y.hold[k]));
    for (int k = 0; k < FUSION_PATH; k++)
        dzp[k] = scale * t->cfg.path_weight * (r->path[k] - (k == ex->y.path ? 1.0 : 0.0));
    lin_back(G_(t, TRAIN_GRIP_W), G_(t, TRAIN_GRIP_B), NULL, P_(t, TRAIN_GRIP_W), t->f, dg,
             FUSION_GRIP, H);
    lin_back(G_(t, TRAIN_PATH_W), G_(t, TRAIN_PATH_B), NULL, P_(t, TRAIN_PATH_W), t->f, dzp,
             FUSION_PATH, H);
    if (T == 0) return; /* f = 0 is a constant: nothing below the heads gets a gradient */
    /* df[H] = Wgᵀ·dg + Wrᵀ·dz */
    double *df = t->df;
    for (size_t h = 0; h < H; h++) df[h] = 0;
    const float *wg = P_(t, TRAIN_GRIP_W), *wr = P_(t, TRAIN_PATH_W);
    for (size_t k = 0; k < FUSION_GRIP; k++)
        for (size_t h = 0; h < H; h++) df[h] += dg[k] * (double)wg[k * H + h];
    for (size_t k = 0; k < FUSION_PATH; k++)
        for (size_t h = 0; h < H; h++) df[h] += dzp[k] * (double)wr[k * H + h];

    /* f = Σ_t α_t X_t:  dX_t = α_t·df;  dα_t = X_t·df */
    double *dx = t->dx;
    for (size_t i = 0; i < T; i++) {
        double da = 0;
        for (size_t h = 0; h < H; h++) {
            dx[i * H + h] = t->alpha[i] * df[h];
            da += x[i * H + h] * df[h];
        }
        t->drow[i] = da;
    }
    /* α = softmax(s):  ds_t = α_t (dα_t − Σ_u α_u dα_u) */
    double dot = 0;
    for (size_t i = 0; i < T; i++) dot += t->alpha[i] * t->drow[i];
    for (size_t i = 0; i < T; i++) t->ds[i] = t->alpha[i] * (t->drow[i] - dot);
    /* s_t = Σ_j tanh(Z_tj):  dZ_tj = ds_t (1 − E_tj²);  Z = X·Waᵀ + ba */
    for (size_t i = 0; i < T; i++) {
        const double *e = t->e + i * Hp;
        for (size_t j = 0; j < Hp; j++) t->dz[j] = t->ds[i] * (1.0 - e[j] * e[j]);
        lin_back(G_(t, TRAIN_POOL_W), G_(t, TRAIN_POOL_B), dx + i * H, P_(t, TRAIN_POOL_W),
                 x + i * H, t->dz, Hp, H);
    }

    /* Self-attention: X = X0 + A·V, A = softmax_rows(c·Q·Kᵀ) */
    const double *dproj = dx;
    if (sh->self_attn) {
        const double c = 1.0 / sqrt((double)H);
        memcpy(t->dx0, dx, T * H * sizeof *dx); /* residual */
        memset(t->dq, 0, T * H * sizeof *t->dq);
        memset(t->dk, 0, T * H * sizeof *t->dk);
        memset(t->dv, 0, T * H * sizeof *t->dv);
        for (size_t i = 0; i < T; i++) {
            const double *a = t->att + i * T, *dxi = dx + i * H, *qi = t->q + i * H;
            /* dA_ij = dX_i · V_j;  dV_j += A_ij dX_i */
            double m = 0;
            for (size_t j = 0; j < T; j++) {
                const double *vj = t->v + j * H;
                double *dvj = t->dv + j * H;
                double acc = 0;
                for (size_t h = 0; h < H; h++) {
                    acc += dxi[h] * vj[h];
                    dvj[h] += a[j] * dxi[h];
                }
                t->drow[j] = acc;
                m += a[j] * acc;
            }
            /* dS_ij = A_ij (dA_ij − Σ_k A_ik dA_ik);  S = c·Q·Kᵀ:
               dQ_i += c Σ_j dS_ij K_j;  dK_j += c dS_ij Q_i */
            double *dqi = t->dq + i * H;
            for (size_t j = 0; j < T; j++) {
                const double dsij = c * a[j] * (t->drow[j] - m);
                const double *kj = t->k + j * H;
                double *dkj = t->dk + j * H;
                for (size_t h = 0; h < H; h++) {
                    dqi[h] += dsij * kj[h];
                    dkj[h] += dsij * qi[h];
                }
            }
        }
        /* Q, K, V = X0·Wᵀ + b */
        for (size_t i = 0; i < T; i++) {
            const double *x0i = t->x0 + i * H;
            double *dx0i = t->dx0 + i * H;
            lin_back(G_(t, TRAIN_ATTN_Q_W), G_(t, TRAIN_ATTN_Q_B), dx0i, P_(t, TRAIN_ATTN_Q_W),
                     x0i, t->dq + i * H, H, H);
            lin_back(G_(t, TRAIN_ATTN_K_W), G_(t, TRAIN_ATTN_K_B), dx0i, P_(t, TRAIN_ATTN_K_W),
                     x0i, t->dk + i * H, H, H);
            lin_back(G_(t, TRAIN_ATTN_V_W), G_(t, TRAIN_ATTN_V_B), dx0i, P_(t, TRAIN_ATTN_V_W),
                     x0i, t->dv + i * H, H, H);
        }
        dproj = t->dx0;
    }

    /* Projections: X0_t = W_m·in_t + b_m:  gW_m += dX0_t ⊗ in_t;  gb_m += dX0_t */
    size_t row = 0;
    for (int mo = 0; mo < FUSION_MODALITIES; mo++) {
        const size_t D = sh->D[mo];
        double *gw = G_(t, TRAIN_PROJ_P_W + 2 * mo), *gb = G_(t, TRAIN_PROJ_P_B + 2 * mo);
        for (size_t i = 0; i < ex->in.n[mo]; i++, row++) {
            const float *in = ex->in.rows[mo] + i * D;
            const double *dy = dproj + row * H;
            for (size_t h = 0; h < H; h++) {
                const double gh = dy[h];
                double *gwh = gw + h * D;
                for (size_t d = 0; d < D; d++) gwh[d] += gh * (double)in[d];
                gb[h] += gh;
            }
        }
    }
}

int trainer_forward(trainer *t, const ds_example *ex, train_result *r)
{
    size_t T;
    int rc = check_example(t, ex, &T);
    if (rc != 0 || !r) return rc ? rc : TRAIN_E_ARG;
    forward(t, ex, T, r);
    return isfinite(r->loss) ? 0 : TRAIN_E_NONFINITE;
}

int trainer_accumulate(trainer *t, const ds_example *ex, double scale, train_result *r)
{
    size_t T;
    int rc = check_example(t, ex, &T);
    if (rc != 0) return rc;
    train_result local;
    if (!r) r = &local;
    forward(t, ex, T, r);
    if (!isfinite(r->loss)) return TRAIN_E_NONFINITE;
    backward(t, ex, T, r, scale);
    return 0;
}

int trainer_adam_step(trainer *t)
{
    if (!t || !t->block) return TRAIN_E_ARG;
    const size_t P = t->m->nparams;
    for (size_t i = 0; i < P; i++)
        if (!(fabs(t->grad[i]) < 1e150)) return TRAIN_E_NONFINITE; /* also NaN */
    const train_config *c = &t->cfg;
    t->step++;
    t->b1t *= c->beta1;
    t->b2t *= c->beta2;
    const double k1 = 1.0 / (1.0 - t->b1t), k2 = 1.0 / (1.0 - t->b2t);
    int bad = 0;
    for (size_t i = 0; i < P; i++) {
        const double g = t->grad[i];
        double *m = &t->adam_m[i], *v = &t->adam_v[i];
        *m = c->beta1 * *m + (1.0 - c->beta1) * g;
        *v = c->beta2 * *v + (1.0 - c->beta2) * g * g;
        double p = (double)t->m->params[i] - c->lr * (*m * k1) / (sqrt(*v * k2) + c->eps);
        if (!(fabs(p) <= FLT_MAX)) {
            bad = 1;
            continue;
        }
        t->m->params[i] = (float)p;
    }
    return bad ? TRAIN_E_NONFINITE : 0;
}

static void stats_add(train_stats *st, const train_result *r)
{
    st->n++;
    st->loss += r->loss;
    st->loss_grip += r->loss_grip;
    st->loss_path += r->loss_path;
    st->grip_correct += (size_t)r->grip_correct;
    st->path_correct += (size_t)r->path_correct;
}

static void stats_finish(train_stats *st)
{
    if (st->n == 0) return;
    st->loss /= (double)st->n;
    st->loss_grip /= (double)st->n;
    st->loss_path /= (double)st->n;
}

static int check_run(const trainer *t, const dataset *ds, const size_t *idx, size_t n)
{
    if (!t || !t->block || !ds || (n && !idx)) return TRAIN_E_ARG;
    if (train_check_dataset(t->m, ds, NULL, NULL, 0) != 0) return TRAIN_E_SHAPE;
    if (ds->max_tokens > t->max_tokens) return TRAIN_E_TOKENS;
    for (size_t i = 0; i < n; i++)
        if (idx[i] >= ds->count) return TRAIN_E_ARG;
    return 0;
}

int trainer_epoch(trainer *t, const dataset *ds, size_t *idx, size_t n, train_stats *st)
{
    int rc = check_run(t, ds, idx, n);
    if (rc != 0) return rc;
    train_stats acc = {0};
    for (size_t i = n; i > 1; i--) { /* Fisher–Yates */
        size_t j = (size_t)ds_rng_below(&t->rng, i);
        size_t tmp = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = tmp;
    }
    for (size_t b0 = 0; b0 < n; b0 += t->cfg.batch) {
        size_t nb = n - b0 < t->cfg.batch ? n - b0 : t->cfg.batch;
        trainer_zero_grad(t);
        for (size_t i = b0; i < b0 + nb; i++) {
            ds_example ex;
            train_result r;
            if ((rc = ds_get(ds, idx[i], t->scratch, &ex)) != 0) return TRAIN_E_ARG;
            if ((rc = trainer_accumulate(t, &ex, 1.0 / (double)nb, &r)) != 0) return rc;
            stats_add(&acc, &r);
        }
        if ((rc = trainer_adam_step(t)) != 0) return rc;
    }
    stats_finish(&acc);
    if (st) *st = acc;
    return 0;
}

int trainer_evaluate(trainer *t, const dataset *ds, const size_t *idx, size_t n, train_stats *st)
{
    int rc = check_run(t, ds, idx, n);
    if (rc != 0) return rc;
    train_stats acc = {0};
    for (size_t i = 0; i < n; i++) {
        ds_example ex;
        train_result r;
        if (ds_get(ds, idx[i], t->scratch, &ex) != 0) return TRAIN_E_ARG;
        if ((rc = trainer_forward(t, &ex, &r)) != 0) return rc;
        stats_add(&acc, &r);
    }
    stats_finish(&acc);
    if (st) *st = acc;
    return 0;
}
