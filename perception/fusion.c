/*
 * fusion.c — attention-fusion inference (SPEC §7), float32 storage.
 *
 * Numerics: every intermediate is stored as float32, as PyTorch stores it;
 * dot products and sums accumulate in double and are rounded once, so the
 * only difference from the PyTorch reference is PyTorch's own float32
 * rounding (|Δ| ≈ 1e-7 relative; the golden tolerance is 1e-5 + 1e-5·|ref|).
 * A float accumulation was tried and measured: it fails the large-inputs
 * golden case (fused off by 1.6x the tolerance), the double one uses half of
 * it at most.  Transcendentals are the float ones (tanhf, expf); softmax
 * subtracts the maximum first, so large scores cannot overflow expf.
 *
 * Shapes: T tokens (Tp + Tq + Tc), H token width, Hp pooling width,
 * D[m] modality input widths.  Matrices are row-major; weights come [out, in]
 * as PyTorch's nn.Linear stores them, and the token-side ones are repacked
 * at load time as Wt [in, out] in double, so that y = x·Wᵀ runs across
 * output lanes (gemv_t) without horizontal sums or per-call conversions.
 */
#include "fusion.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perr.h"

#include "features.h"

/* ---- errors and names ---- */

const char *fusion_strerror(int code)
{
    switch (code) {
    case FUSION_OK: return "success";
    case FUSION_E_UNKNOWN_TENSOR: return "tensor not part of the weights-file contract";
    case FUSION_E_MISSING: return "required tensor missing";
    case FUSION_E_SHAPE: return "tensor shape inconsistent";
    case FUSION_E_NONFINITE: return "non-finite value in a tensor";
    case FUSION_E_FEATURES: return "projection widths do not match the feature layout";
    case FUSION_E_CAPACITY: return "more tokens than the workspace holds";
    case FUSION_E_INPUT: return "invalid input matrices";
    case FUSION_E_NOMEM: return "out of memory";
    case FUSION_E_ARG: return "invalid argument";
    default: return code < 0 && code > FUSION_E_UNKNOWN_TENSOR ? st_strerror(code) : "unknown error";
    }
}

const char *fusion_modality_name(int m)
{
    static const char *const n[FUSION_MODALITIES] = {"pressure", "proximity", "camera"};
    return m >= 0 && m < FUSION_MODALITIES ? n[m] : "?";
}

const char *fusion_path_name(int k)
{
    static const char *const n[FUSION_PATH] = {"PROCEED", "SHORTEN", "SIDESTEP_LEFT",
                                               "SIDESTEP_RIGHT", "STOP"};
    return k >= 0 && k < FUSION_PATH ? n[k] : "?";
}

/* ---- the weights-file contract ---- */

static const char *const proj_w[FUSION_MODALITIES] = {
    "proj.pressure.weight", "proj.proximity.weight", "proj.camera.weight"};
static const char *const proj_b[FUSION_MODALITIES] = {"proj.pressure.bias", "proj.proximity.bias",
                                                      "proj.camera.bias"};
static const char *const attn_names[6] = {"self_attn.query.weight", "self_attn.query.bias",
                                          "self_attn.key.weight",   "self_attn.key.bias",
                                          "self_attn.value.weight", "self_attn.value.bias"};
static const char *const other_weights[] = {"pool.weight",      "pool.bias",
                                            "head.grip.weight", "head.grip.bias",
                                            "head.path.weight", "head.path.bias"};
static const char *const input_names[FUSION_MODALITIES] = {"input.pressure", "input.proximity",
                                                           "input.camera"};
static const char *const expect_names[FUSION_CMP_N] = {"expect.tokens", "expect.scores",
                                                       "expect.alpha",  "expect.fused",
                                                       "expect.grip",   "expect.path"};

static int in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(name, list[i])) return 1;
    return 0;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int known_name(const char *name, unsigned flags)
{
    if (in_list(name, proj_w, NELEM(proj_w)) || in_list(name, proj_b, NELEM(proj_b)) ||
        in_list(name, attn_names, NELEM(attn_names)) ||
        in_list(name, other_weights, NELEM(other_weights)))
        return 1;
    if (flags & FUSION_LOAD_REFERENCE)
        return in_list(name, input_names, NELEM(input_names)) ||
               in_list(name, expect_names, NELEM(expect_names));
    return 0;
}

/* "[a, b]" of a tensor, or of an expected shape (0 in WANT = any), for messages. */
static const char *dims_str(char *buf, size_t len, size_t ndim, const size_t *d)
{
    size_t n = (size_t)snprintf(buf, len, "[");
    for (size_t i = 0; i < ndim && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%zu", i ? ", " : "", d[i]);
    if (n < len) snprintf(buf + n, len - n, "]");
    return buf;
}

/* Find NAME; FUSION_E_MISSING with a message when it is not there. */
static int need(const st_file *f, const char *name, const st_tensor **t, const char *file,
                const char *why, char *err, size_t errlen)
{
    *t = st_find(f, name);
    if (*t) return 0;
    return perr_fail_tensor(err, errlen, FUSION_E_MISSING, file, name, "missing%s%s", why ? " " : "",
                   why ? why : "");
}

/* Check T has shape [d0] (NDIM 1) or [d0, d1] (NDIM 2); WHY explains the
 * expectation in the message ("H = 16 from proj.pressure.weight"). */
static int want_shape(const st_tensor *t, size_t ndim, size_t d0, size_t d1, const char *file,
                      const char *why, char *err, size_t errlen)
{
    size_t want[2] = {d0, d1};
    if (t->ndim == ndim && t->shape[0] == d0 && (ndim == 1 || t->shape[1] == d1)) return 0;
    char got[96], exp[64];
    return perr_fail_tensor(err, errlen, FUSION_E_SHAPE, file, t->name, "shape %s, expected %s (%s)",
                   dims_str(got, sizeof got, t->ndim, t->shape),
                   dims_str(exp, sizeof exp, ndim, want), why);
}

static void set_linear(fusion_linear *l, const st_tensor *w, const st_tensor *b)
{
    l->w = w->data;
    l->wt = NULL;
    l->bd = NULL;
    l->b = b->data;
    l->out = w->shape[0];
    l->in = w->shape[1];
}

/* Store the token-side weights transposed (Wt [in, out]) and in double,
 * biases in double too, in one allocation: the layout gemv_t reads,
 * converted once instead of on every multiply.  Each layer's out·in + out
 * values are already in the file as floats, so twice the file size bounds
 * the allocation and nothing can overflow. */
static int pack_model(fusion_model *m)
{
    fusion_linear *ls[FUSION_MODALITIES + 4] = {&m->proj[0], &m->proj[1], &m->proj[2], &m->pool};
    size_t n = FUSION_MODALITIES + 1, count = 0;
    if (m->has_self_attn) {
        ls[n++] = &m->attn_q;
        ls[n++] = &m->attn_k;
        ls[n++] = &m->attn_v;
    }
    for (size_t i = 0; i < n; i++) count += ls[i]->out * ls[i]->in + ls[i]->out;
    m->packed = malloc(count * sizeof(double)); /* count >= 4: every layer has a bias */
    if (!m->packed) return FUSION_E_NOMEM;
    double *p = m->packed;
    for (size_t i = 0; i < n; i++) {
        fusion_linear *l = ls[i];
        for (size_t o = 0; o < l->out; o++)
            for (size_t k = 0; k < l->in; k++) p[k * l->out + o] = (double)l->w[o * l->in + k];
        l->wt = p;
        p += l->out * l->in;
        for (size_t o = 0; o < l->out; o++) p[o] = (double)l->b[o];
        l->bd = p;
        p += l->out;
    }
    return 0;
}

void fusion_model_free(fusion_model *m)
{
    if (!m) return;
    free(m->packed);
    st_free(&m->file);
    memset(m, 0, sizeof *m);
}

int fusion_model_from_st(fusion_model *m, st_file *f, const char *name, unsigned flags, char *err,
                         size_t errlen)
{
    const char *file = name ? name : "<model>";
    if (!m || !f) {
        if (f) st_free(f);
        return perr_fail_tensor(err, errlen, FUSION_E_ARG, file, NULL, "NULL argument");
    }
    memset(m, 0, sizeof *m);
    m->file = *f; /* ownership moves now, whatever happens next */
    memset(f, 0, sizeof *f);
    const st_file *sf = &m->file;
    const st_tensor *w, *b;
    char why[128];
    int rc;

    for (size_t i = 0; i < sf->ntensors; i++) {
        const st_tensor *t = &sf->tensors[i];
        if (!known_name(t->name, flags)) {
            rc = perr_fail_tensor(err, errlen, FUSION_E_UNKNOWN_TENSOR, file, t->name,
                         "not part of the %s contract (proj.*, self_attn.*, pool.*, head.*%s)",
                         (flags & FUSION_LOAD_REFERENCE) ? "reference-case" : "weights-file",
                         (flags & FUSION_LOAD_REFERENCE) ? ", input.*, expect.*" : "");
            goto err;
        }
        for (size_t j = 0; j < t->numel; j++) {
            if (!isfinite(t->data[j])) {
                rc = perr_fail_tensor(err, errlen, FUSION_E_NONFINITE, file, t->name,
                             "element %zu is %s", j, isnan(t->data[j]) ? "NaN" : "infinite");
                goto err;
            }
        }
    }

    /* Projections fix H and the input widths D[m]. */
    for (int mo = 0; mo < FUSION_MODALITIES; mo++) {
        if ((rc = need(sf, proj_w[mo], &w, file, "(every modality needs a projection)", err,
                       errlen)) != 0 ||
            (rc = need(sf, proj_b[mo], &b, file, NULL, err, errlen)) != 0)
            goto err;
        if (w->ndim != 2 || w->shape[0] == 0 || w->shape[1] == 0) {
            char got[96];
            rc = perr_fail_tensor(err, errlen, FUSION_E_SHAPE, file, w->name,
                         "shape %s, expected [H, D] with H, D >= 1",
                         dims_str(got, sizeof got, w->ndim, w->shape));
            goto err;
        }
        if (mo == 0) m->H = w->shape[0];
        snprintf(why, sizeof why, "H = %zu from %s", m->H, proj_w[0]);
        if ((rc = want_shape(w, 2, m->H, w->shape[1], file, why, err, errlen)) != 0 ||
            (rc = want_shape(b, 1, m->H, 0, file, why, err, errlen)) != 0)
            goto err;
        m->D[mo] = w->shape[1];
        set_linear(&m->proj[mo], w, b);
    }
    const size_t H = m->H;
    snprintf(why, sizeof why, "H = %zu from %s", H, proj_w[0]);

    /* Self-attention: all six tensors or none. */
    size_t present = 0;
    for (size_t i = 0; i < NELEM(attn_names); i++) present += st_find(sf, attn_names[i]) != NULL;
    if (present != 0 && present != NELEM(attn_names)) {
        for (size_t i = 0; i < NELEM(attn_names); i++)
            if (!st_find(sf, attn_names[i])) {
                rc = perr_fail_tensor(err, errlen, FUSION_E_MISSING, file, attn_names[i],
                             "missing (self-attention needs all of "
                             "self_attn.{query,key,value}.{weight,bias})");
                goto err;
            }
    }
    if (present) {
        fusion_linear *dst[3] = {&m->attn_q, &m->attn_k, &m->attn_v};
        for (int i = 0; i < 3; i++) {
            w = st_find(sf, attn_names[2 * i]);
            b = st_find(sf, attn_names[2 * i + 1]);
            if ((rc = want_shape(w, 2, H, H, file, why, err, errlen)) != 0 ||
                (rc = want_shape(b, 1, H, 0, file, why, err, errlen)) != 0)
                goto err;
            set_linear(dst[i], w, b);
        }
        m->has_self_attn = 1;
    }

    /* Pooling: Hp comes from pool.weight's rows, it need not equal H. */
    if ((rc = need(sf, "pool.weight", &w, file, NULL, err, errlen)) != 0 ||
        (rc = need(sf, "pool.bias", &b, file, NULL, err, errlen)) != 0)
        goto err;
    if (w->ndim != 2 || w->shape[0] == 0) {
        char got[96];
        rc = perr_fail_tensor(err, errlen, FUSION_E_SHAPE, file, w->name, "shape %s, expected [Hp, %zu] (%s)",
                     dims_str(got, sizeof got, w->ndim, w->shape), H, why);
        goto err;
    }
    m->Hp = w->shape[0];
    if ((rc = want_shape(w, 2, m->Hp, H, file, why, err, errlen)) != 0) goto err;
    snprintf(why, sizeof why, "Hp = %zu from pool.weight", m->Hp);
    if ((rc = want_shape(b, 1, m->Hp, 0, file, why, err, errlen)) != 0) goto err;
    set_linear(&m->pool, w, b);

    /* Heads: fixed output counts, H inputs. */
    snprintf(why, sizeof why, "%d grip outputs, H = %zu", FUSION_GRIP, H);
    if ((rc = need(sf, "head.grip.weight", &w, file, NULL, err, errlen)) != 0 ||
        (rc = need(sf, "head.grip.bias", &b, file, NULL, err, errlen)) != 0 ||
        (rc = want_shape(w, 2, FUSION_GRIP, H, file, why, err, errlen)) != 0 ||
        (rc = want_shape(b, 1, FUSION_GRIP, 0, file, why, err, errlen)) != 0)
        goto err;
    set_linear(&m->grip, w, b);
    snprintf(why, sizeof why, "%d path classes, H = %zu", FUSION_PATH, H);
    if ((rc = need(sf, "head.path.weight", &w, file, NULL, err, errlen)) != 0 ||
        (rc = need(sf, "head.path.bias", &b, file, NULL, err, errlen)) != 0 ||
        (rc = want_shape(w, 2, FUSION_PATH, H, file, why, err, errlen)) != 0 ||
        (rc = want_shape(b, 1, FUSION_PATH, 0, file, why, err, errlen)) != 0)
        goto err;
    set_linear(&m->path, w, b);

    if (flags & FUSION_LOAD_FEATURES) {
        static const size_t feat_d[FUSION_MODALITIES] = {FEAT_DP, FEAT_DQ, FEAT_DC};
        for (int mo = 0; mo < FUSION_MODALITIES; mo++)
            if (m->D[mo] != feat_d[mo]) {
                rc = perr_fail_tensor(err, errlen, FUSION_E_FEATURES, file, proj_w[mo],
                             "input width %zu, but the %s features (features.h) are %zu wide",
                             m->D[mo], fusion_modality_name(mo), feat_d[mo]);
                goto err;
            }
    }
    if (pack_model(m) != 0) {
        rc = perr_fail_tensor(err, errlen, FUSION_E_NOMEM, file, NULL, "no memory to pack the weights");
        goto err;
    }
    return 0;
err:
    fusion_model_free(m);
    return rc;
}

int fusion_model_load(fusion_model *m, const char *path, unsigned flags, char *err, size_t errlen)
{
    if (!m) return perr_fail_tensor(err, errlen, FUSION_E_ARG, path ? path : "?", NULL, "NULL model");
    memset(m, 0, sizeof *m);
    st_file f;
    int rc = st_load_file(path, &f, err, errlen);
    if (rc != 0) return rc;
    return fusion_model_from_st(m, &f, path, flags, err, errlen);
}

/* ---- workspace ---- */

/* Elements per buffer, rounded up to 16 so every buffer stays 64-byte aligned. */
static size_t pad16(size_t n)
{
    return (n + 15) / 16 * 16;
}

/* Element counts of the workspace buffers, each padded to 16 (64-byte
 * multiples, so every buffer stays aligned); 0 on overflow.  Doubles come
 * first in the block: dacc [H], then kt and vd [T·H] with self-attention.
 * Floats: x [T·H], with self-attention y and q [T·H]; att, scores, alpha
 * [T]; fused [H]; row [max(H, Hp)]. */
static int ws_sizes(const fusion_model *m, size_t max_tokens, size_t *doubles, size_t *floats)
{
    if (!m || m->H == 0 || max_tokens == 0) return 0;
    const size_t lim = SIZE_MAX / 64; /* keeps every sum and byte count below SIZE_MAX */
    if (max_tokens > lim / 16 || m->H > lim / 16 || m->Hp > lim / 16 ||
        max_tokens > lim / 16 / m->H)
        return 0;
    size_t th = pad16(max_tokens * m->H), t = pad16(max_tokens), h = pad16(m->H);
    size_t row = pad16(m->Hp > m->H ? m->Hp : m->H);
    *doubles = h + (m->has_self_attn ? 2 * th : 0);
    *floats = (m->has_self_attn ? 3 : 1) * th + 3 * t + h + row;
    return 1;
}

size_t fusion_workspace_bytes(const fusion_model *m, size_t max_tokens)
{
    size_t d, f;
    if (!ws_sizes(m, max_tokens, &d, &f)) return 0;
    return d * sizeof(double) + f * sizeof(float);
}

void fusion_workspace_free(fusion_workspace *ws)
{
    if (!ws) return;
    free(ws->owned);
    memset(ws, 0, sizeof *ws);
}

int fusion_workspace_init(fusion_workspace *ws, const fusion_model *m, size_t max_tokens, void *mem,
                          size_t bytes)
{
    if (!ws || !m) return FUSION_E_ARG;
    memset(ws, 0, sizeof *ws);
    size_t need_bytes = fusion_workspace_bytes(m, max_tokens);
    if (need_bytes == 0) return FUSION_E_ARG;
    if (mem) {
        if (bytes < need_bytes || ((uintptr_t)mem & 15u) != 0) return FUSION_E_ARG;
    } else {
        if (posix_memalign(&mem, 64, need_bytes) != 0) return FUSION_E_NOMEM;
        ws->owned = mem;
    }
    memset(mem, 0, need_bytes);
    size_t th = pad16(max_tokens * m->H), t = pad16(max_tokens);
    double *d = mem; /* doubles first: the block is 16-byte aligned */
    ws->dacc = d, d += pad16(m->H);
    if (m->has_self_attn) {
        ws->kt = d, d += th;
        ws->vd = d, d += th;
    }
    float *p = (float *)(void *)d;
    ws->max_tokens = max_tokens;
    ws->H = m->H;
    ws->Hp = m->Hp;
    ws->has_self_attn = m->has_self_attn;
    ws->x = p, p += th;
    if (m->has_self_attn) {
        ws->y = p, p += th;
        ws->q = p, p += th;
    }
    ws->att = p, p += t;
    ws->scores = p, p += t;
    ws->alpha = p, p += t;
    ws->fused = p, p += pad16(m->H);
    ws->row = p;
    return 0;
}

/* ---- kernels (llm.c style: shapes beside each) ---- */

/* Σ a[i]·b[i] in double (the heads: 7 short rows, not worth vectorising). */
static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * (double)b[i];
    return s;
}

/* 4 double lanes (and 4 float lanes for the results): GCC/clang vector
 * extensions, lowered to what the target has (two SSE2 registers on
 * baseline x86-64, NEON on aarch64, scalar code elsewhere).  On x86-64
 * gemv_t is also built for AVX2 and chosen at load time by the dynamic
 * linker (target_clones): no intrinsics, no -m flags in the Makefile. */
typedef double v4d __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));

#if defined(__x86_64__) && defined(__GNUC__)
#define FUSION_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define FUSION_CLONES
#endif

/* y[O] = (float)(x[I] · Wt[I, O] + b[O]);  Wt row stride LD and b (or
 * NULL) in double.
 * Wt is a weight matrix stored transposed in double at load time, or an
 * activation matrix kept in that layout.  Outputs go 8 at a time across
 * vector lanes (no horizontal sums), accumulated in double over i — even and
 * odd i in separate chains so the adds overlap — and rounded once: the
 * result is the float nearest the exact sum, and what remains of the
 * difference to PyTorch is PyTorch's own float32 rounding. */
FUSION_CLONES
static void gemv_t(float *y, const float *x, size_t I, const double *wt, size_t ld, size_t O,
                   const double *b)
{
    size_t o = 0;
    for (; o + 8 <= O; o += 8) {
        const double *w = wt + o;
        v4d a0 = {0, 0, 0, 0}, a1 = a0, c0 = a0, c1 = a0;
        size_t i = 0;
        v4d w0, w1, w2, w3; /* unaligned loads through memcpy (no v4d-returning helper:
                               its ABI would differ between the clones) */
        for (; i + 2 <= I; i += 2, w += 2 * ld) {
            const double xa = (double)x[i], xc = (double)x[i + 1];
            memcpy(&w0, w, sizeof w0);
            memcpy(&w1, w + 4, sizeof w1);
            memcpy(&w2, w + ld, sizeof w2);
            memcpy(&w3, w + ld + 4, sizeof w3);
            a0 += xa * w0, a1 += xa * w1;
            c0 += xc * w2, c1 += xc * w3;
        }
        if (i < I) {
            const double xa = (double)x[i];
            memcpy(&w0, w, sizeof w0);
            memcpy(&w1, w + 4, sizeof w1);
            a0 += xa * w0, a1 += xa * w1;
        }
        a0 += c0, a1 += c1;
        if (b) {
            memcpy(&w0, b + o, sizeof w0);
            memcpy(&w1, b + o + 4, sizeof w1);
            a0 += w0, a1 += w1;
        }
        v4f f[2] = {__builtin_convertvector(a0, v4f), __builtin_convertvector(a1, v4f)};
        memcpy(y + o, f, sizeof f); /* each output rounded to float once */
    }
    for (; o < O; o++) { /* leftover outputs (O not a multiple of 8): scalar */
        double acc = 0;
        for (size_t i = 0; i < I; i++) acc += (double)x[i] * wt[i * ld + o];
        y[o] = (float)(acc + (b ? b[o] : 0.0));
    }
}

/* out[T, O] = in[T, I] · W[O, I]ᵀ + b[O], W packed as Wt [I, O] (double) */
static void linear_forward(float *out, const float *in, size_t T, const fusion_linear *l)
{
    for (size_t t = 0; t < T; t++)
        gemv_t(out + t * l->out, in + t * l->in, l->in, l->wt, l->out, l->out, l->bd);
}

/* p[n] = softmax(z[n]) in place-safe form (p may equal z); n >= 1.
 * The max is subtracted first so expf never overflows. */
static void softmax(float *p, const float *z, size_t n)
{
    float mx = z[0];
    for (size_t i = 1; i < n; i++)
        if (z[i] > mx) mx = z[i];
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        p[i] = expf(z[i] - mx);
        sum += (double)p[i];
    }
    for (size_t i = 0; i < n; i++) p[i] = (float)((double)p[i] / sum);
}

/* σ(x) without overflow on either side. */
static float sigmoidf(float x)
{
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/* y[T, H] = x[T, H] + softmax_rows(q·kᵀ/√H)[T, T] · v[T, H]
 * with q, k, v [T, H] = x·Wᵀ + b, each rounded to float as PyTorch stores
 * them.  k (transposed, kt [H, T]) and v [T, H] are then held in double so
 * both products are gemv_t calls: att[T] = q_i · kt, row[H] = att · v.
 * ATT [T] holds one row of attention probabilities at a time. */
static void self_attention(const fusion_model *m, fusion_workspace *ws, size_t T)
{
    const size_t H = m->H;
    const double scale = 1.0 / sqrt((double)H);
    double *kt = ws->kt, *vd = ws->vd;
    linear_forward(ws->q, ws->x, T, &m->attn_q); /* q [T, H] */
    linear_forward(ws->y, ws->x, T, &m->attn_k); /* k [T, H] in y, free until the loop below */
    for (size_t t = 0; t < T; t++)               /* kt [H, T] = kᵀ */
        for (size_t h = 0; h < H; h++) kt[h * T + t] = (double)ws->y[t * H + h];
    linear_forward(ws->y, ws->x, T, &m->attn_v); /* v [T, H] */
    for (size_t n = 0; n < T * H; n++) vd[n] = (double)ws->y[n];
    for (size_t i = 0; i < T; i++) {
        gemv_t(ws->att, ws->q + i * H, H, kt, T, T, NULL); /* att [T] = q_i · kᵀ */
        for (size_t j = 0; j < T; j++) ws->att[j] = (float)((double)ws->att[j] * scale);
        softmax(ws->att, ws->att, T);
        gemv_t(ws->row, ws->att, T, vd, H, H, NULL); /* row [H] = att · v */
        const float *xi = ws->x + i * H;
        float *yi = ws->y + i * H;
        for (size_t h = 0; h < H; h++) yi[h] = xi[h] + ws->row[h]; /* residual */
    }
}

int fusion_forward(const fusion_model *m, fusion_workspace *ws, const fusion_input *in,
                   fusion_output *out)
{
    if (!m || !ws || !in || !out || !ws->x) return FUSION_E_ARG;
    if (ws->H != m->H || ws->Hp != m->Hp || ws->has_self_attn != m->has_self_attn)
        return FUSION_E_ARG; /* made for another shape of model */
    size_t T = 0;
    for (int mo = 0; mo < FUSION_MODALITIES; mo++) {
        if (in->n[mo] && !in->rows[mo]) return FUSION_E_INPUT;
        if (in->n[mo] > ws->max_tokens - T) return FUSION_E_CAPACITY;
        T += in->n[mo];
    }
    const size_t H = m->H, Hp = m->Hp;

    /* Projection: x[T, H] = rows(P[Tp, Dp]·Wpᵀ; Q[Tq, Dq]·Wqᵀ; C[Tc, Dc]·Wcᵀ) + biases */
    size_t row = 0;
    for (int mo = 0; mo < FUSION_MODALITIES; mo++) {
        linear_forward(ws->x + row * H, in->rows[mo], in->n[mo], &m->proj[mo]);
        row += in->n[mo];
    }

    /* Optional self-attention with residual: tokens move to y[T, H]. */
    const float *x = ws->x;
    if (m->has_self_attn && T > 0) {
        self_attention(m, ws, T);
        x = ws->y;
    }

    /* Pooling: e[Hp] = x_t·Waᵀ + ba;  s_t = Σ_j tanh(e_j)   s[T] (E [T, Hp] one row at a time) */
    for (size_t t = 0; t < T; t++) {
        linear_forward(ws->row, x + t * H, 1, &m->pool);
        double s = 0;
        for (size_t j = 0; j < Hp; j++) s += (double)tanhf(ws->row[j]);
        ws->scores[t] = (float)s;
    }
    /* α[T] = softmax_t(s);  f[H] = Σ_t α_t x_t */
    double *acc = ws->dacc;
    for (size_t h = 0; h < H; h++) acc[h] = 0;
    if (T > 0) {
        softmax(ws->alpha, ws->scores, T);
        for (size_t t = 0; t < T; t++) {
            const double a = (double)ws->alpha[t];
            const float *xt = x + t * H;
            for (size_t h = 0; h < H; h++) acc[h] += a * (double)xt[h];
        }
    }
    for (size_t h = 0; h < H; h++) ws->fused[h] = (float)acc[h];

    /* Heads: grip[2] = σ(Wg·f + bg);  path[5] = softmax(Wr·f + br) */
    for (size_t k = 0; k < FUSION_GRIP; k++)
        out->grip[k] = sigmoidf((float)(dot(m->grip.w + k * H, ws->fused, H) + (double)m->grip.b[k]));
    float logits[FUSION_PATH];
    for (size_t k = 0; k < FUSION_PATH; k++)
        logits[k] = (float)(dot(m->path.w + k * H, ws->fused, H) + (double)m->path.b[k]);
    softmax(out->path, logits, FUSION_PATH);

    /* Attention share per modality: Σ α over its rows. */
    row = 0;
    for (int mo = 0; mo < FUSION_MODALITIES; mo++) {
        double s = 0;
        for (size_t t = row; t < row + in->n[mo]; t++) s += (double)ws->alpha[t];
        out->share[mo] = (float)s;
        out->n[mo] = in->n[mo];
        row += in->n[mo];
    }
    out->T = T;
    out->H = H;
    out->tokens = x;
    out->scores = ws->scores;
    out->alpha = ws->alpha;
    out->fused = ws->fused;
    return 0;
}

/* ---- reference cases ---- */

void fusion_case_free(fusion_case *c)
{
    if (!c) return;
    fusion_model_free(&c->model);
    memset(c, 0, sizeof *c);
}

/* Find the inputs and expectations of a case whose model is loaded. */
static int case_bind(fusion_case *c, const char *path, char *err, size_t errlen)
{
    const fusion_model *m = &c->model;
    const st_tensor *t;
    char why[96];
    int rc;

    for (int mo = 0; mo < FUSION_MODALITIES; mo++) {
        t = st_find(&m->file, input_names[mo]);
        if (!t) continue; /* absent modality: 0 rows */
        snprintf(why, sizeof why, "%s width %zu from %s", fusion_modality_name(mo), m->D[mo],
                 proj_w[mo]);
        if (t->ndim != 2 || t->shape[1] != m->D[mo]) {
            char got[96];
            return perr_fail_tensor(err, errlen, FUSION_E_SHAPE, path, t->name,
                           "shape %s, expected [T, %zu] (%s)",
                           dims_str(got, sizeof got, t->ndim, t->shape), m->D[mo], why);
        }
        c->input.rows[mo] = t->data;
        c->input.n[mo] = t->shape[0];
        c->T += t->shape[0]; /* numel fits size_t, so the row sum does too */
    }
    const size_t H = m->H, T = c->T;
    const size_t want[FUSION_CMP_N][2] = {{T, H}, {T, 0}, {T, 0}, {H, 0}, {FUSION_GRIP, 0},
                                          {FUSION_PATH, 0}};
    snprintf(why, sizeof why, "T = %zu input rows, H = %zu", T, H);
    for (int k = 0; k < FUSION_CMP_N; k++) {
        if ((rc = need(&m->file, expect_names[k], &t, path,
                       "(a reference case needs every expect.*)", err, errlen)) != 0 ||
            (rc = want_shape(t, k == 0 ? 2 : 1, want[k][0], want[k][1], path, why, err,
                             errlen)) != 0)
            return rc;
        c->expect[k] = t->data;
    }
    return 0;
}

int fusion_case_from_st(fusion_case *c, st_file *f, const char *name, char *err, size_t errlen)
{
    const char *file = name ? name : "<case>";
    if (!c) {
        if (f) st_free(f);
        return perr_fail_tensor(err, errlen, FUSION_E_ARG, file, NULL, "NULL case");
    }
    memset(c, 0, sizeof *c);
    int rc = fusion_model_from_st(&c->model, f, file, FUSION_LOAD_REFERENCE, err, errlen);
    if (rc == 0) rc = case_bind(c, file, err, errlen);
    if (rc != 0) fusion_case_free(c);
    return rc;
}

int fusion_case_load(fusion_case *c, const char *path, char *err, size_t errlen)
{
    if (!c) return perr_fail_tensor(err, errlen, FUSION_E_ARG, path ? path : "?", NULL, "NULL case");
    memset(c, 0, sizeof *c);
    st_file f;
    int rc = st_load_file(path, &f, err, errlen);
    if (rc != 0) return rc;
    return fusion_case_from_st(c, &f, path, err, errlen);
}

/* Largest difference of N values C against REF, into *R. */
static void compare(fusion_cmp *r, const char *name, const float *c, const float *ref, size_t n)
{
    r->name = name;
    r->count = n;
    r->max_abs = 0;
    r->worst_ratio = 0;
    r->ok = 1;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)c[i] - (double)ref[i]);
        double tol = FUSION_ATOL + FUSION_RTOL * fabs((double)ref[i]);
        if (!(d <= tol)) r->ok = 0; /* NaN fails too */
        if (isnan(d)) d = HUGE_VAL;
        if (d > r->max_abs) r->max_abs = d;
        if (d / tol > r->worst_ratio) r->worst_ratio = d / tol;
    }
}

int fusion_case_compare(const fusion_case *c, const fusion_output *out, fusion_cmp cmp[FUSION_CMP_N])
{
    static const char *const names[FUSION_CMP_N] = {"tokens", "scores", "alpha",
                                                    "fused",  "grip",   "path"};
    const size_t H = c->model.H, T = c->T;
    int bad = 0;
    if (out->T != T || out->H != H) { /* not this case's output at all */
        for (int k = 0; k < FUSION_CMP_N; k++)
            cmp[k] = (fusion_cmp){names[k], 0, HUGE_VAL, HUGE_VAL, 0};
        return FUSION_CMP_N;
    }
    const float *got[FUSION_CMP_N] = {out->tokens, out->scores, out->alpha,
                                      out->fused,  out->grip,   out->path};
    const size_t n[FUSION_CMP_N] = {T * H, T, T, H, FUSION_GRIP, FUSION_PATH};
    for (int k = 0; k < FUSION_CMP_N; k++) {
        compare(&cmp[k], names[k], got[k], c->expect[k], n[k]);
        bad += !cmp[k].ok;
    }
    return bad;
}
