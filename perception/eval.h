/*
 * eval.h — measuring the fusion model (SPEC §7) against a rule-based
 * baseline: AUROC of the grip risk, path accuracy and confusion matrix, the
 * baseline's rules, the threshold that matches a false-alarm rate, the
 * first flag of a sequence (lead time), and the ablation that drops one
 * modality's tokens.  docs/perception-data.md gives the definitions and
 * the figures.
 *
 * Independent of everything but perception/ (features.h, fusion.h): the
 * CLI (`crossclimb fusion eval`) composes it with the dataset reader.
 *
 * The baseline (eval_baseline) sees what the controller's thresholds see,
 * on the same feature snapshot the model gets:
 *   grip risk of a HOLDING group: for each of its cups, with vacuum v and
 *     rate r,
 *       level = (sealed + margin - v) / margin     (only when r < rise: a cup
 *                                                   still building up is not judged
 *                                                   by its level)
 *       trend = (-r - fall) / fall
 *     score = the largest level or trend over the group's cups; the rule
 *     flags the group when score > 0, i.e. some cup below sealed + margin
 *     and not rising, or some cup falling faster than fall kPa/s.  A group
 *     that is not holding (being released or lifted) gives no evidence:
 *     score EVAL_NO_EVIDENCE, never flagged.
 *   path: STOP when a holding group is flagged (no step can be trusted);
 *     otherwise with the distances d(slot) of the proximity sensors (no
 *     echo = infinitely far, dropout = 0: unknown counts as blocked) and the
 *     reach of the feet (the farthest foot position toward that side plus
 *     foot_reach_mm, the cup ring and a cup radius):
 *       PROCEED         d(ahead) >= reach(ahead) + step + clear
 *       SHORTEN         d(ahead) >= reach(ahead) + short + clear
 *       SIDESTEP_LEFT   d(left)  >= reach(left)  + side + clear
 *       SIDESTEP_RIGHT  d(right) >= reach(right) + side + clear
 *       STOP            otherwise
 *   The travel frame is the features' (+Y ahead, +X right).
 *
 * Errors: 0 or a negative EVAL_E_* code, eval_strerror(code).
 */
#ifndef CROSSCLIMB_PERCEPTION_EVAL_H
#define CROSSCLIMB_PERCEPTION_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "features.h"
#include "fusion.h"

enum {
    EVAL_OK = 0,
    EVAL_E_ARG = -1,       /* NULL, n = 0, label out of range */
    EVAL_E_NOMEM = -2,     /* allocation failed */
    EVAL_E_UNDEFINED = -3, /* AUROC without a positive or without a negative */
};

/* eval_strerror — a short description of an EVAL_E_* code. */
const char *eval_strerror(int code);

/* The baseline's score for a group that gives no evidence (not holding). */
#define EVAL_NO_EVIDENCE (-1000.0)

/*
 * eval_auroc — area under the ROC curve of SCORE for telling POSITIVE[i]
 * != 0 from 0, over N items: the probability that a random positive scores
 * higher than a random negative, ties counting one half (Mann-Whitney U
 * with mid-ranks).  One allocation (the ranks), freed before returning.
 * Returns 0 (*AUROC set), EVAL_E_ARG, EVAL_E_NOMEM, or EVAL_E_UNDEFINED when
 * every item has the same class.
 */
int eval_auroc(const double *score, const uint8_t *positive, size_t n, double *auroc);

/* A path confusion matrix: m[truth][predicted]. */
typedef struct {
    size_t m[FUSION_PATH][FUSION_PATH];
    size_t n;
} eval_confusion;

/* eval_confusion_clear — all counts 0. */
void eval_confusion_clear(eval_confusion *c);

/* eval_confusion_add — count one decision (classes >= FUSION_PATH ignored). */
void eval_confusion_add(eval_confusion *c, unsigned truth, unsigned predicted);

/* eval_accuracy — the diagonal's share (0 for an empty matrix). */
double eval_accuracy(const eval_confusion *c);

/* eval_path_argmax — the first class of the largest probability. */
unsigned eval_path_argmax(const float p[FUSION_PATH]);

/* The baseline's thresholds (eval_baseline_default; see the top of the file). */
typedef struct {
    float sealed_kpa;    /* 45: the robot's "sealed" */
    float margin_kpa;    /* 5 */
    float fall_kpa_s;    /* 3: a cup losing more per second is flagged */
    float rise_kpa_s;    /* 5: a cup gaining more per second is still sealing */
    float foot_reach_mm; /* 130: cup ring radius 80 + cup radius 50 */
    float step_mm;       /* 300 */
    float short_mm;      /* 150 */
    float side_mm;       /* 300 */
    float clear_mm;      /* 50 */
} eval_baseline_cfg;

/* eval_baseline_default — the values above. */
void eval_baseline_default(eval_baseline_cfg *c);

/* What the baseline says about one snapshot. */
typedef struct {
    double grip_score[2]; /* group A, B; > 0 = flagged; EVAL_NO_EVIDENCE when not holding */
    int grip_flag[2];     /* 1 when score > 0 */
    unsigned path;        /* FUSION_PATH_* */
} eval_verdict;

/* eval_baseline — the rules above on snapshot S (C NULL: the defaults). */
void eval_baseline(const eval_baseline_cfg *c, const feat_snapshot *s, eval_verdict *v);

/*
 * eval_threshold_for_far — the threshold T that makes "score > T" flag as
 * many of the N negatives' scores NEG as possible while flagging at most a
 * share FAR_MAX of them (ties are flagged together or not at all).  *FAR
 * gets the share flagged.  Returns 0, EVAL_E_ARG, EVAL_E_NOMEM.
 */
int eval_threshold_for_far(const double *neg, size_t n, double far_max, double *thr, double *far);

/* eval_first_flag — the first index i < K with SCORE[i] > THR; K when none. */
size_t eval_first_flag(const double *score, size_t k, double thr);

/*
 * eval_drop_modality — OUT = IN with modality M's tokens removed (0 rows),
 * the others untouched: the model then runs as if that sensor were offline.
 * M outside 0..2 copies IN unchanged.
 */
void eval_drop_modality(const fusion_input *in, int m, fusion_input *out);

#endif
