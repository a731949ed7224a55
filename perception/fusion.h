/*
 * fusion.h — the attention-fusion model of SPEC §7, inference only.
 *
 *   X  = rows( P·Wpᵀ+bp ; Q·Wqᵀ+bq ; C·Wcᵀ+bc )                X: [T, H]
 *   if self_attn.*:  X = X + softmax_rows((X·Wqᵀ+bq)(X·Wkᵀ+bk)ᵀ/√H)·(X·Wvᵀ+bv)
 *   E  = tanh(X·Waᵀ+ba)  [T, Hp];  s_t = Σ_j E_tj;  α = softmax_t(s);  f = Σ_t α_t X_t
 *   grip = sigmoid(Wg·f+bg) [2] (risk for group A, B)
 *   path = softmax(Wr·f+br) [5] over PROCEED, SHORTEN, SIDESTEP_LEFT, SIDESTEP_RIGHT, STOP
 *
 * Weights-file contract (safetensors, F32 only; every size comes from here):
 *   proj.pressure.weight [H, Dp]   proj.pressure.bias [H]     required
 *   proj.proximity.weight [H, Dq]  proj.proximity.bias [H]    required
 *   proj.camera.weight [H, Dc]     proj.camera.bias [H]       required
 *   self_attn.{query,key,value}.weight [H, H], .bias [H]      all six or none
 *   pool.weight [Hp, H]            pool.bias [Hp]             required
 *   head.grip.weight [2, H]        head.grip.bias [2]         required
 *   head.path.weight [5, H]        head.path.bias [5]         required
 * No other name is allowed, except in a reference case (FUSION_LOAD_REFERENCE):
 *   input.pressure [Tp, Dp], input.proximity [Tq, Dq], input.camera [Tc, Dc]
 *   (each optional: absent = 0 rows), expect.tokens [T, H], expect.scores [T],
 *   expect.alpha [T], expect.fused [H], expect.grip [2], expect.path [5]
 *   (all required; T = Tp + Tq + Tc).  Weights must be finite.
 *
 * Memory: fusion_model_load makes two allocations: the weights file (read
 * once) and a repacked copy of the token-side weights (transposed, double);
 * fusion_workspace_init makes the workspace's only allocation (or uses the
 * caller's memory), sized for a maximum token count.  fusion_forward then
 * allocates nothing and takes no lock: one workspace per thread, models
 * shared read-only.
 *
 * Errors: 0 or a negative code — the ST_E_* codes of safetensors.h when the
 * file itself is bad, FUSION_E_* below when it is a valid safetensors file
 * that is not a fusion model; fusion_strerror() describes both, and the
 * message buffer names the file and the tensor.
 */
#ifndef CROSSCLIMB_PERCEPTION_FUSION_H
#define CROSSCLIMB_PERCEPTION_FUSION_H

#include <stddef.h>

#include "safetensors.h"

#define FUSION_GRIP 2 /* grip risk outputs: group A, group B */
#define FUSION_PATH 5 /* path classes */
#define FUSION_MODALITIES 3

enum { FUSION_PRESSURE = 0, FUSION_PROXIMITY = 1, FUSION_CAMERA = 2 };
enum {
    FUSION_PATH_PROCEED = 0,
    FUSION_PATH_SHORTEN = 1,
    FUSION_PATH_SIDESTEP_LEFT = 2,
    FUSION_PATH_SIDESTEP_RIGHT = 3,
    FUSION_PATH_STOP = 4,
};

/* Codes below -31 belong to fusion; -1..-31 are passed through from st_*. */
enum {
    FUSION_OK = 0,
    FUSION_E_UNKNOWN_TENSOR = -32, /* name outside the weights-file contract */
    FUSION_E_MISSING = -33,        /* required tensor absent (or self_attn incomplete) */
    FUSION_E_SHAPE = -34,          /* tensor shape inconsistent with the others */
    FUSION_E_NONFINITE = -35,      /* NaN or infinity in a weight */
    FUSION_E_FEATURES = -36,       /* projection widths differ from features.h layout */
    FUSION_E_CAPACITY = -37,       /* more tokens than the workspace was sized for */
    FUSION_E_INPUT = -38,          /* input rows given for a NULL matrix, etc. */
    FUSION_E_NOMEM = -39,          /* workspace allocation failed */
    FUSION_E_ARG = -40,            /* NULL pointer or zero max_tokens */
};

/* Load flags. */
#define FUSION_LOAD_REFERENCE 0x1u /* allow input.* and expect.* (reference case files) */
#define FUSION_LOAD_FEATURES 0x2u  /* require Dp, Dq, Dc of features.h (FEAT_DP/DQ/DC) */

/* A linear layer y = W·x + b, W [out, in] row-major: a view into the file. */
typedef struct {
    const float *w;  /* [out, in] as in the file */
    const double *wt; /* [in, out] transposed double copy (token-side layers), else NULL */
    const float *b;  /* [out] */
    const double *bd; /* [out] double copy of b, with wt */
    size_t out, in;
} fusion_linear;

/* A loaded model; read-only after fusion_model_load. */
typedef struct {
    st_file file;                        /* owns the weights as read */
    double *packed;                      /* transposed token-side weights (the wt views) */
    size_t H;                            /* token width */
    size_t Hp;                           /* pooling width (rows of pool.weight) */
    size_t D[FUSION_MODALITIES];         /* Dp, Dq, Dc: projection input widths */
    int has_self_attn;                   /* 1 when self_attn.* present */
    fusion_linear proj[FUSION_MODALITIES]; /* [H, D_m] */
    fusion_linear attn_q, attn_k, attn_v;  /* [H, H] each, when has_self_attn */
    fusion_linear pool;                  /* [Hp, H] */
    fusion_linear grip;                  /* [2, H] */
    fusion_linear path;                  /* [5, H] */
} fusion_model;

/* The per-call inputs: row-major token matrices, one per modality.  A
 * modality with 0 rows (or a NULL pointer with 0 rows) contributes none. */
typedef struct {
    const float *rows[FUSION_MODALITIES]; /* [n[m], D[m]] */
    size_t n[FUSION_MODALITIES];          /* token count per modality */
} fusion_input;

/* Scratch memory for fusion_forward, sized for max_tokens (see _bytes). */
typedef struct {
    size_t max_tokens;
    size_t H, Hp;         /* sizes it was made for */
    int has_self_attn;
    void *owned;          /* allocation made by fusion_workspace_init, or NULL */
    double *dacc;         /* [H] double accumulators for one output row */
    float *x;             /* [max_T, H] tokens */
    float *y;             /* [max_T, H] self-attention output (then the tokens) */
    float *q;             /* [max_T, H] self-attention queries */
    double *kt;           /* [H, max_T] keys, transposed, self-attention only */
    double *vd;           /* [max_T, H] values, self-attention only */
    float *att;           /* [max_T] one row of attention probabilities */
    float *scores;        /* [max_T] */
    float *alpha;         /* [max_T] */
    float *fused;         /* [H] */
    float *row;           /* [max(H, Hp)] one row of scratch */
} fusion_workspace;

/* The results of one call.  Array pointers point into the workspace and
 * stay valid until the next fusion_forward on it. */
typedef struct {
    size_t T, H;                       /* tokens used, token width */
    size_t n[FUSION_MODALITIES];       /* tokens per modality */
    const float *tokens;               /* [T, H] final tokens (after self-attention) */
    const float *scores;               /* [T] pooling score s_t */
    const float *alpha;                /* [T] attention weights, sum 1 (T > 0) */
    const float *fused;                /* [H] pooled vector f */
    float grip[FUSION_GRIP];           /* grip risk, group A, group B, in (0, 1) */
    float path[FUSION_PATH];           /* path probabilities, sum 1 */
    float share[FUSION_MODALITIES];    /* Σ α over each modality's tokens, sum 1 (T > 0) */
} fusion_output;

/*
 * fusion_model_load — read PATH and bind it as a model (FLAGS:
 * FUSION_LOAD_*).  Returns 0 or a negative ST_E_* / FUSION_E_* code with the
 * message in ERR; on failure *m is empty.  Release with fusion_model_free.
 */
int fusion_model_load(fusion_model *m, const char *path, unsigned flags, char *err, size_t errlen);

/*
 * fusion_model_from_st — bind an already parsed file as a model.  Takes
 * ownership of *F on success AND on failure (*F is left empty either way).
 * NAME labels messages.  Same returns as fusion_model_load.
 */
int fusion_model_from_st(fusion_model *m, st_file *f, const char *name, unsigned flags, char *err,
                         size_t errlen);

/* fusion_model_free — release the model's memory; *m becomes empty.  NULL-safe. */
void fusion_model_free(fusion_model *m);

/* fusion_workspace_bytes — bytes of caller memory fusion_workspace_init
 * needs for M and MAX_TOKENS (0 when the size would overflow). */
size_t fusion_workspace_bytes(const fusion_model *m, size_t max_tokens);

/*
 * fusion_workspace_init — carve a workspace for M and up to MAX_TOKENS tokens
 * out of MEM (BYTES >= fusion_workspace_bytes, 16-byte aligned), or allocate
 * it when MEM is NULL.  Returns 0, FUSION_E_ARG or FUSION_E_NOMEM.
 */
int fusion_workspace_init(fusion_workspace *ws, const fusion_model *m, size_t max_tokens, void *mem,
                          size_t bytes);

/* fusion_workspace_free — release what fusion_workspace_init allocated.  NULL-safe. */
void fusion_workspace_free(fusion_workspace *ws);

/*
 * fusion_forward — one inference.  No allocation, no I/O.  Returns 0, or
 * FUSION_E_ARG (NULL, or a workspace made for another shape of model),
 * FUSION_E_CAPACITY (more tokens than ws->max_tokens), FUSION_E_INPUT (rows
 * but a NULL matrix); *out is untouched on error.  With 0 tokens in all
 * modalities the fused vector is 0 and the heads answer from their biases.
 */
int fusion_forward(const fusion_model *m, fusion_workspace *ws, const fusion_input *in,
                   fusion_output *out);

/* fusion_strerror — a short description of a FUSION_E_* or ST_E_* code. */
const char *fusion_strerror(int code);

/* fusion_modality_name — "pressure", "proximity", "camera" (or "?"). */
const char *fusion_modality_name(int m);

/* fusion_path_name — "PROCEED" .. "STOP" (or "?"). */
const char *fusion_path_name(int k);

/* ---- reference cases (fusion-golden files) ---- */

enum {
    FUSION_CMP_TOKENS = 0,
    FUSION_CMP_SCORES,
    FUSION_CMP_ALPHA,
    FUSION_CMP_FUSED,
    FUSION_CMP_GRIP,
    FUSION_CMP_PATH,
    FUSION_CMP_N
};

#define FUSION_ATOL 1e-5 /* agreement: |c - ref| <= ATOL + RTOL * |ref| */
#define FUSION_RTOL 1e-5

/* A reference case: model + inputs + expected intermediates (views into the model's file). */
typedef struct {
    fusion_model model;
    fusion_input input;
    size_t T;                            /* Tp + Tq + Tc */
    const float *expect[FUSION_CMP_N];   /* tokens [T,H], scores [T], alpha [T], fused [H],
                                            grip [2], path [5] */
} fusion_case;

/* One comparison of an intermediate with its reference. */
typedef struct {
    const char *name;   /* "tokens", "scores", ... */
    size_t count;       /* values compared */
    double max_abs;     /* largest |c - ref| (infinity when a value is NaN) */
    double worst_ratio; /* largest |c - ref| / (ATOL + RTOL |ref|): <= 1 agrees */
    int ok;             /* every value within tolerance */
} fusion_cmp;

/* fusion_case_load — load a reference case file.  Same returns as
 * fusion_model_load; release with fusion_case_free. */
int fusion_case_load(fusion_case *c, const char *path, char *err, size_t errlen);

/* fusion_case_from_st — the same from an already parsed file; takes
 * ownership of *F on success and on failure, like fusion_model_from_st. */
int fusion_case_from_st(fusion_case *c, st_file *f, const char *name, char *err, size_t errlen);

/* fusion_case_free — release a case; NULL-safe. */
void fusion_case_free(fusion_case *c);

/* fusion_case_compare — compare OUT with the case's expectations into
 * CMP[FUSION_CMP_N]; returns how many intermediates disagree (0 = agree). */
int fusion_case_compare(const fusion_case *c, const fusion_output *out, fusion_cmp cmp[FUSION_CMP_N]);

#endif
