/*
 * eval.c — metrics and the rule-based baseline (definitions in eval.h and
 * docs/perception-data.md).
 */
#include "eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *eval_strerror(int code)
{
    switch (code) {
    case EVAL_OK: return "success";
    case EVAL_E_ARG: return "invalid argument";
    case EVAL_E_NOMEM: return "out of memory";
    case EVAL_E_UNDEFINED: return "AUROC undefined: only one class present";
    default: return "unknown error";
    }
}

/* ---- AUROC ---- */

typedef struct {
    double s;
    uint8_t pos;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    double x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return x < y ? -1 : x > y ? 1 : 0;
}

int eval_auroc(const double *score, const uint8_t *positive, size_t n, double *auroc)
{
    if (!score || !positive || !auroc || n == 0) return EVAL_E_ARG;
    scored *v = malloc(n * sizeof *v);
    if (!v) return EVAL_E_NOMEM;
    size_t npos = 0;
    for (size_t i = 0; i < n; i++) {
        v[i].s = score[i];
        v[i].pos = positive[i] != 0;
        npos += v[i].pos;
    }
    size_t nneg = n - npos;
    int rc = EVAL_E_UNDEFINED;
    if (npos && nneg) {
        qsort(v, n, sizeof *v, cmp_scored);
        /* Mann-Whitney: sum of the positives' ranks, ties at their mid-rank
         * (ranks from 1); U = R - npos (npos + 1) / 2, AUROC = U / (npos nneg). */
        double rank_sum = 0.0;
        for (size_t i = 0; i < n;) {
            size_t j = i;
            size_t p = 0;
            while (j < n && v[j].s == v[i].s) p += v[j++].pos;
            double mid = 0.5 * ((double)(i + 1) + (double)j); /* ranks i+1 .. j */
            rank_sum += mid * (double)p;
            i = j;
        }
        double u = rank_sum - 0.5 * (double)npos * ((double)npos + 1.0);
        *auroc = u / ((double)npos * (double)nneg);
        rc = 0;
    }
    free(v);
    return rc;
}

/* ---- path ---- */

void eval_confusion_clear(eval_confusion *c)
{
    memset(c, 0, sizeof *c);
}

void eval_confusion_add(eval_confusion *c, unsigned truth, unsigned predicted)
{
    if (truth >= FUSION_PATH || predicted >= FUSION_PATH) return;
    c->m[truth][predicted]++;
    c->n++;
}

double eval_accuracy(const eval_confusion *c)
{
    if (!c->n) return 0.0;
    size_t d = 0;
    for (int k = 0; k < FUSION_PATH; k++) d += c->m[k][k];
    return (double)d / (double)c->n;
}

unsigned eval_path_argmax(const float p[FUSION_PATH])
{
    unsigned best = 0;
    for (unsigned k = 1; k < FUSION_PATH; k++)
        if (p[k] > p[best]) best = k;
    return best;
}

/* ---- baseline ---- */

void eval_baseline_default(eval_baseline_cfg *c)
{
    c->sealed_kpa = 45.0f;
    c->margin_kpa = 5.0f;
    c->fall_kpa_s = 3.0f;
    c->rise_kpa_s = 5.0f;
    c->foot_reach_mm = 130.0f;
    c->step_mm = 300.0f;
    c->short_mm = 150.0f;
    c->side_mm = 300.0f;
    c->clear_mm = 50.0f;
}

/* Distance seen by proximity slot P: dropout = 0 (unknown is blocked),
 * no echo = infinitely far. */
static double seen_mm(const feat_snapshot *s, int p)
{
    const feat_proximity *q = &s->proximity[p];
    if (q->dropout) return 0.0;
    if (q->no_echo) return INFINITY;
    return q->distance_mm;
}

void eval_baseline(const eval_baseline_cfg *cfg, const feat_snapshot *s, eval_verdict *v)
{
    eval_baseline_cfg def;
    if (!cfg) {
        eval_baseline_default(&def);
        cfg = &def;
    }
    int any = 0;
    for (int g = 0; g < 2; g++) {
        double best = EVAL_NO_EVIDENCE;
        if (s->holding[g]) {
            for (int c = g * (FEAT_CUPS / 2); c < (g + 1) * (FEAT_CUPS / 2); c++) {
                double vac = s->vacuum_kpa[c], rate = s->vacuum_rate_kpa_s[c];
                double trend = (-rate - cfg->fall_kpa_s) / cfg->fall_kpa_s;
                if (trend > best) best = trend;
                if (rate < cfg->rise_kpa_s) {
                    double level = (cfg->sealed_kpa + cfg->margin_kpa - vac) / cfg->margin_kpa;
                    if (level > best) best = level;
                }
            }
        }
        v->grip_score[g] = best;
        v->grip_flag[g] = best > 0.0;
        any |= v->grip_flag[g];
    }
    if (any) {
        v->path = FUSION_PATH_STOP;
        return;
    }
    /* reach of the feet toward each side, travel frame (+X right, +Y ahead) */
    double ahead = -INFINITY, right = -INFINITY, left = -INFINITY;
    for (int f = 0; f < 4; f++) {
        if (s->foot_mm[f][1] > ahead) ahead = s->foot_mm[f][1];
        if (s->foot_mm[f][0] > right) right = s->foot_mm[f][0];
        if (-s->foot_mm[f][0] > left) left = -s->foot_mm[f][0];
    }
    ahead += cfg->foot_reach_mm;
    right += cfg->foot_reach_mm;
    left += cfg->foot_reach_mm;
    if (seen_mm(s, FEAT_PY) >= ahead + cfg->step_mm + cfg->clear_mm)
        v->path = FUSION_PATH_PROCEED;
    else if (seen_mm(s, FEAT_PY) >= ahead + cfg->short_mm + cfg->clear_mm)
        v->path = FUSION_PATH_SHORTEN;
    else if (seen_mm(s, FEAT_NX) >= left + cfg->side_mm + cfg->clear_mm)
        v->path = FUSION_PATH_SIDESTEP_LEFT;
    else if (seen_mm(s, FEAT_PX) >= right + cfg->side_mm + cfg->clear_mm)
        v->path = FUSION_PATH_SIDESTEP_RIGHT;
    else
        v->path = FUSION_PATH_STOP;
}

/* ---- lead time ---- */

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x > y ? -1 : x < y ? 1 : 0;
}

int eval_threshold_for_far(const double *neg, size_t n, double far_max, double *thr, double *far)
{
    if (!neg || !thr || !far || n == 0 || !(far_max >= 0.0)) return EVAL_E_ARG;
    double *v = malloc(n * sizeof *v);
    if (!v) return EVAL_E_NOMEM;
    memcpy(v, neg, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_desc);
    /* "score > T" flags the negatives above T; with T = v[m] (descending)
     * that is v[0..i) for the first i with v[i] == v[m]: never more than
     * m = floor(far_max n), and ties stay together. */
    size_t m = (size_t)floor(far_max * (double)n + 1e-9);
    if (m >= n) {
        *thr = v[n - 1] - 1.0; /* everything may be flagged */
        *far = 1.0;
    } else {
        *thr = v[m];
        size_t k = 0;
        while (k < n && v[k] > v[m]) k++;
        *far = (double)k / (double)n;
    }
    free(v);
    return 0;
}

size_t eval_first_flag(const double *score, size_t k, double thr)
{
    for (size_t i = 0; i < k; i++)
        if (score[i] > thr) return i;
    return k;
}

/* ---- ablation ---- */

void eval_drop_modality(const fusion_input *in, int m, fusion_input *out)
{
    *out = *in;
    if (m < 0 || m >= FUSION_MODALITIES) return;
    out->n[m] = 0;
    out->rows[m] = NULL;
}
