/*
 * train.h — the trainer of the attention-fusion model (SPEC §7):
 * backpropagation through the whole model, Adam, mini-batches, deterministic
 * for a seed.
 *
 * The model is the one perception/fusion.c runs (see fusion.h):
 *
 *   X0 = rows( P·Wpᵀ+bp ; Q·Wqᵀ+bq ; C·Wcᵀ+bc )                    [T, H]
 *   with self-attention:  X = X0 + softmax_rows((X0·Wqᵀ+bq)(X0·Wkᵀ+bk)ᵀ/√H)·(X0·Wvᵀ+bv)
 *   without:              X = X0
 *   E = tanh(X·Waᵀ+ba) [T, Hp];  s_t = Σ_j E_tj;  α = softmax_t(s);  f = Σ_t α_t X_t
 *   grip = σ(Wg·f+bg) [2]  (risk, group A, B);  path = softmax(Wr·f+br) [5]
 *
 * Loss of one example with labels hold[2] (1 = the next foothold seals and
 * holds) and path class c:
 *
 *   L = grip_weight · ½ Σ_g BCE(grip_g, 1 − hold_g) + path_weight · (−log path_c)
 *
 * (the grip output is a RISK, so its target is 1 − hold; BCE and the
 * cross-entropy are computed from the logits, stable for any value).  A
 * mini-batch's loss is the mean over its examples.
 *
 * Numerics: parameters are float32 (as in the weights file); the trainer's
 * forward and backward read them as float and compute every activation and
 * gradient in double, so the gradient is the exact derivative of the
 * double-precision loss up to rounding (tests/check_train.c compares it with
 * central differences).  fusion_forward on the written file agrees with the
 * trainer's forward to float rounding.  Adam's moments are double; each step
 * rounds the updated parameter to float once.
 *
 * Determinism: one thread, a fixed order of every sum, and the project PRNG
 * (xoshiro256**, dataset.h) for initialisation and shuffling: the same seed,
 * data and options give byte-identical weights.
 *
 * Memory: trainer_init makes the only allocations (gradient, Adam moments,
 * activations for up to max_tokens tokens, a feat_tokens for snapshot
 * records); trainer_forward, trainer_accumulate, trainer_adam_step,
 * trainer_epoch and trainer_evaluate allocate nothing.
 *
 * Errors: 0 or a negative TRAIN_E_* code, train_strerror(code), and a caller
 * message buffer (may be NULL) for the details.
 */
#ifndef CROSSCLIMB_PERCEPTION_TRAIN_H
#define CROSSCLIMB_PERCEPTION_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "fusion.h"
#include "safetensors.h"

/* Parameter tensors, in the order of the weights-file contract. */
enum {
    TRAIN_PROJ_P_W = 0, TRAIN_PROJ_P_B, /* proj.pressure.{weight,bias}  [H, Dp], [H] */
    TRAIN_PROJ_Q_W, TRAIN_PROJ_Q_B,     /* proj.proximity.*             [H, Dq], [H] */
    TRAIN_PROJ_C_W, TRAIN_PROJ_C_B,     /* proj.camera.*                [H, Dc], [H] */
    TRAIN_ATTN_Q_W, TRAIN_ATTN_Q_B,     /* self_attn.query.*            [H, H], [H] (optional) */
    TRAIN_ATTN_K_W, TRAIN_ATTN_K_B,     /* self_attn.key.* */
    TRAIN_ATTN_V_W, TRAIN_ATTN_V_B,     /* self_attn.value.* */
    TRAIN_POOL_W, TRAIN_POOL_B,         /* pool.*                       [Hp, H], [Hp] */
    TRAIN_GRIP_W, TRAIN_GRIP_B,         /* head.grip.*                  [2, H], [2] */
    TRAIN_PATH_W, TRAIN_PATH_B,         /* head.path.*                  [5, H], [5] */
    TRAIN_NTENSORS
};

enum {
    TRAIN_OK = 0,
    TRAIN_E_ARG = -1,    /* NULL, zero or absurd size, option out of range */
    TRAIN_E_NOMEM = -2,  /* allocation failed */
    TRAIN_E_SHAPE = -3,  /* example or dataset widths differ from the model's */
    TRAIN_E_TOKENS = -4, /* an example has more tokens than the trainer was made for */
    TRAIN_E_LOAD = -5,   /* --init weights cannot be loaded (message has the reader's) */
    TRAIN_E_WRITE = -6,  /* the weights file cannot be written */
    TRAIN_E_NONFINITE = -7, /* the loss or a parameter became NaN or infinite */
};

#define TRAIN_MAX_H 1024u  /* largest H or Hp trainer_init/train_model_init accept */

/* The sizes of a model. */
typedef struct {
    size_t H;                    /* token width */
    size_t Hp;                   /* pooling width (rows of pool.weight) */
    size_t D[FUSION_MODALITIES]; /* Dp, Dq, Dc: projection input widths */
    int self_attn;               /* 1: with self_attn.* */
} train_shape;

/* One parameter tensor: a [rows, cols] weight or a [rows] bias (cols 0). */
typedef struct {
    const char *name; /* weights-file contract name */
    size_t rows, cols;
    size_t offset;    /* index of its first element in params */
    size_t numel;     /* 0 when absent (self_attn.* without self-attention) */
} train_tensor;

/* A trainable model: every parameter in one float array, contract order. */
typedef struct {
    train_shape shape;
    size_t nparams;
    float *params;
    train_tensor t[TRAIN_NTENSORS];
} train_model;

/*
 * train_model_init — a fresh model of shape S: weights Xavier-uniform
 * (U(−a, a), a = √(6/(fan_in + fan_out))), biases 0, drawn from SEED.
 */
int train_model_init(train_model *m, const train_shape *s, uint64_t seed, char *err,
                     size_t errlen);

/* train_model_from_fusion — a trainable copy of a loaded model's weights. */
int train_model_from_fusion(train_model *m, const fusion_model *f, char *err, size_t errlen);

/* train_model_load — fusion_model_load(PATH) then train_model_from_fusion
 * (TRAIN_E_LOAD with the reader's message when the file is refused). */
int train_model_load(train_model *m, const char *path, char *err, size_t errlen);

/* train_model_free — release; NULL-safe, idempotent. */
void train_model_free(train_model *m);

/*
 * train_model_serialize / train_model_write — the model as a safetensors
 * file with exactly the contract names (self_attn.* only when present) and
 * NMETA __metadata__ pairs (plain ASCII, see weights_write.h).  _write
 * replaces PATH atomically (temporary file + rename).
 */
int train_model_serialize(const train_model *m, const st_meta *meta, size_t nmeta, uint8_t **out,
                          size_t *len, char *err, size_t errlen);
int train_model_write(const train_model *m, const char *path, const st_meta *meta, size_t nmeta,
                      char *err, size_t errlen);

/* Optimisation settings. */
typedef struct {
    double lr;          /* Adam step size (default 1e-3) */
    double beta1;       /* 0.9 */
    double beta2;       /* 0.999 */
    double eps;         /* 1e-8 */
    double grip_weight; /* weight of the grip BCE term (default 1) */
    double path_weight; /* weight of the path cross-entropy term (default 1) */
    size_t batch;       /* examples per mini-batch (default 32) */
    uint64_t seed;      /* shuffling stream (default 1) */
} train_config;

/* train_config_default — the defaults above. */
void train_config_default(train_config *c);

/* The forward results of one example (double; views valid until the next call). */
typedef struct {
    size_t T, H;
    double grip[FUSION_GRIP];  /* risk, group A, B */
    double path[FUSION_PATH];  /* probabilities */
    double loss;               /* weighted total, as trained */
    double loss_grip;          /* ½ Σ_g BCE, unweighted */
    double loss_path;          /* −log path_c, unweighted */
    int grip_correct;          /* 0..2: (risk > 0.5) == (hold == 0) */
    int path_correct;          /* 0/1: first argmax == label */
    const double *tokens;      /* [T, H] after self-attention */
    const double *scores;      /* [T] */
    const double *alpha;       /* [T] */
    const double *fused;       /* [H] */
} train_result;

/* Statistics over a set of examples (means over examples). */
typedef struct {
    size_t n;            /* examples */
    double loss, loss_grip, loss_path;
    size_t grip_correct; /* of 2n grip decisions */
    size_t path_correct; /* of n path decisions */
} train_stats;

/* The trainer: the model it updates, its settings and its memory. */
typedef struct {
    train_model *m;   /* not owned */
    train_config cfg;
    size_t max_tokens;
    ds_rng rng;       /* shuffling */
    uint64_t step;    /* Adam steps taken */
    double b1t, b2t;  /* beta1^step, beta2^step */
    void *block;      /* the one allocation */
    double *grad;     /* [nparams] ∂L/∂θ accumulated */
    double *adam_m, *adam_v; /* [nparams] */
    /* activations and their gradients (double) */
    double *x0, *q, *k, *v, *att, *x, *e, *s, *alpha, *f;
    double *dx, *dx0, *dq, *dk, *dv, *drow, *dz, *ds, *df;
    feat_tokens *scratch; /* for snapshot records */
} trainer;

/*
 * trainer_init — a trainer for M (which it updates in place) with settings C
 * (NULL: defaults) and room for MAX_TOKENS tokens per example (>= 1).
 * The shuffling stream is seeded with C->seed.
 */
int trainer_init(trainer *t, train_model *m, const train_config *c, size_t max_tokens, char *err,
                 size_t errlen);

/* trainer_free — release; NULL-safe, idempotent. */
void trainer_free(trainer *t);

/* trainer_forward — loss and outputs of one example; no gradient.
 * TRAIN_E_ARG, TRAIN_E_TOKENS (more than max_tokens), TRAIN_E_SHAPE. */
int trainer_forward(trainer *t, const ds_example *ex, train_result *r);

/* trainer_zero_grad — set the accumulated gradient to 0. */
void trainer_zero_grad(trainer *t);

/* trainer_accumulate — forward and backward of one example: grad +=
 * SCALE · ∂L/∂θ.  *R (may be NULL) gets the forward results. */
int trainer_accumulate(trainer *t, const ds_example *ex, double scale, train_result *r);

/* trainer_grad — the accumulated gradient, [nparams] in params order. */
const double *trainer_grad(const trainer *t);

/* trainer_adam_step — one Adam update of every parameter from the
 * accumulated gradient (bias-corrected moments).  TRAIN_E_NONFINITE when a
 * gradient is not finite (or beyond 1e150): nothing changes; or, never seen
 * in practice, when an updated parameter would leave the float range: that
 * parameter keeps its value. */
int trainer_adam_step(trainer *t);

/*
 * trainer_epoch — one pass over the N dataset indices IDX (shuffled in
 * place with the trainer's stream), in mini-batches of cfg.batch: each batch
 * is forward + backward of its examples (mean loss), then one Adam step.
 * *ST (may be NULL) gets the loss and accuracy seen during the pass (each
 * example evaluated with the weights before its batch's step).
 */
int trainer_epoch(trainer *t, const dataset *ds, size_t *idx, size_t n, train_stats *st);

/* trainer_evaluate — loss and accuracy of the current weights over IDX. */
int trainer_evaluate(trainer *t, const dataset *ds, const size_t *idx, size_t n, train_stats *st);

/* train_check_dataset — TRAIN_E_SHAPE (message names both) when DS's widths
 * differ from M's, TRAIN_E_ARG for an empty dataset. */
int train_check_dataset(const train_model *m, const dataset *ds, const char *name, char *err,
                        size_t errlen);

/* train_strerror — a short description of a TRAIN_E_* code. */
const char *train_strerror(int code);

#endif
