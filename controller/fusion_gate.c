/*
 * fusion_gate.c — the perception model asked before each half-step
 * (fusion_gate.h).
 */
#include "controller/fusion_gate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FG_PROX_PLAUSIBLE_MM 5000.0f /* beyond: the sensor is broken (dropout) */

const char *fg_strerror(int code)
{
    switch (code) {
    case FG_OK: return "ok";
    case FG_EARG: return "bad argument";
    case FG_EMODEL: return "the fusion weights could not be loaded";
    case FG_ENOMEM: return "out of memory for the fusion workspace";
    case FG_EINFER: return "fusion inference failed";
    default: return "unknown fusion gate error";
    }
}

const char *fg_action_name(fg_action a)
{
    static const char *const names[FG_ACTION_COUNT] = {"proceed", "shorten", "sidestep-left",
                                                       "sidestep-right", "stop"};
    return (unsigned)a < FG_ACTION_COUNT ? names[a] : "?";
}

void fg_config_default(fg_config *cfg)
{
    cfg->risk_act[HOLD_GROUP_A] = cfg->risk_act[HOLD_GROUP_B] = 0.80f;
    cfg->doubt_act = 0.80f;
    cfg->stop_act = 0.80f;
    cfg->risk_stop = 0.95f;
    cfg->full_tol_mm = 50.0f;
}

int fg_config_from_meta(const st_file *f, const char *name, fg_config *cfg, char *err, size_t errlen)
{
    if (!f || !cfg) return FG_EARG;
    const struct {
        const char *key;
        float *dst;
    } keys[] = {{FG_META_RISK_ACT_A, &cfg->risk_act[HOLD_GROUP_A]},
                {FG_META_RISK_ACT_B, &cfg->risk_act[HOLD_GROUP_B]},
                {FG_META_DOUBT_ACT, &cfg->doubt_act},
                {FG_META_STOP_ACT, &cfg->stop_act},
                {FG_META_RISK_STOP, &cfg->risk_stop}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = st_meta_get(f, keys[i].key);
        if (!v) continue;
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        if (errno || end == v || *end || !(x >= 0.0 && x <= 1.0)) {
            if (err && errlen)
                snprintf(err, errlen, "%s: metadata '%s' = '%.32s': expected a number in [0, 1]",
                         name ? name : "<weights>", keys[i].key, v);
            return FG_EMODEL;
        }
        *keys[i].dst = (float)x;
    }
    return FG_OK;
}

int fg_open(fusion_gate *g, const char *path, char *err, size_t errlen)
{
    int rc = FG_OK;
    if (!g || !path) return FG_EARG;
    memset(g, 0, sizeof *g);
    fg_config_default(&g->cfg);
    if (fusion_model_load(&g->model, path, FUSION_LOAD_FEATURES, err, errlen) != 0) {
        rc = FG_EMODEL;
        goto err;
    }
    if ((rc = fg_config_from_meta(&g->model.file, path, &g->cfg, err, errlen)) != FG_OK) goto err;
    if (fusion_workspace_init(&g->ws, &g->model, FEAT_MAX_TOKENS, NULL, 0) != 0) {
        if (err && errlen) snprintf(err, errlen, "%s: %s", path, fg_strerror(FG_ENOMEM));
        rc = FG_ENOMEM;
        goto err;
    }
    g->open = 1;
    return FG_OK;
err:
    fusion_model_free(&g->model);
    memset(g, 0, sizeof *g);
    return rc;
}

void fg_close(fusion_gate *g)
{
    if (!g) return;
    if (g->open) {
        fusion_workspace_free(&g->ws);
        fusion_model_free(&g->model);
    }
    memset(g, 0, sizeof *g);
}

void fg_observe(fusion_gate *g, const cc_status *st, uint32_t now_ticks)
{
    if (!g || !g->open || !st) return;
    if (g->hist_n > 0) {
        unsigned last = (g->hist_head + FG_HISTORY_N - 1) % FG_HISTORY_N;
        if ((uint32_t)(now_ticks - g->hist_ticks[last]) * 10u < FG_SAMPLE_MS) return;
    }
    memcpy(g->hist_kpa[g->hist_head], st->cup_kpa, sizeof g->hist_kpa[0]);
    g->hist_ticks[g->hist_head] = now_ticks;
    g->hist_head = (g->hist_head + 1) % FG_HISTORY_N;
    if (g->hist_n < FG_HISTORY_N) g->hist_n++;
}

/* Least-squares slope of cup c over the history, kPa/s (0 with < 2 samples). */
static float rate_kpa_s(const fusion_gate *g, unsigned c)
{
    if (g->hist_n < 2) return 0.0f;
    const unsigned first = (g->hist_head + FG_HISTORY_N - g->hist_n) % FG_HISTORY_N;
    const uint32_t t0 = g->hist_ticks[first];
    double st = 0, stt = 0, sv = 0, stv = 0;
    for (unsigned j = 0; j < g->hist_n; j++) {
        unsigned k = (first + j) % FG_HISTORY_N;
        double t = (double)(uint32_t)(g->hist_ticks[k] - t0) * 0.01; /* s */
        double v = (double)g->hist_kpa[k][c];
        st += t;
        stt += t * t;
        sv += v;
        stv += t * v;
    }
    double n = (double)g->hist_n, den = n * stt - st * st;
    return den > 0.0 ? (float)((n * stv - st * sv) / den) : 0.0f;
}

/* The status block's proximity index (+X, -X, +Y, -Y) of facade vector v. */
static unsigned prox_index(const double v[2])
{
    if (v[0] > 0.5) return 0;
    if (v[0] < -0.5) return 1;
    return v[1] > 0.0 ? 2 : 3;
}

fg_action fg_decide(const fg_config *cfg, const fg_verdict *v, hold_group lifted, float step_mm)
{
    if (!cfg || !v || (unsigned)lifted >= HOLD_GROUP_COUNT || v->path >= FUSION_PATH) return FG_STOP; /* fail safe */
    const float r = v->grip_risk[lifted], p_go = v->path_p[0], p_stop = v->path_p[4];
    if (isnan(r) || isnan(p_go) || isnan(p_stop) || isnan(step_mm)) return FG_STOP; /* NaN stops */
    const int full = fabsf(step_mm - FG_FULL_STEP_MM) <= cfg->full_tol_mm;
    const int none_safe = v->path == 4; /* the path head ranks "no step is safe" first */
    if (none_safe && p_stop >= cfg->stop_act) return FG_STOP;
    /* the grip risk is the full step's foothold's; on a step the mission
     * chose otherwise it stops only when the path head, too, says no step is
     * safe (a torn lip fails on any foothold; a mapped joint the mission
     * already steps short of does not) */
    if (r >= cfg->risk_stop && (full || none_safe)) return FG_STOP;
    if (!full) return FG_PROCEED; /* shortening a step the mission already chose is not the model's call */
    if (r >= cfg->risk_act[lifted] || 1.0f - p_go >= cfg->doubt_act) {
        if (v->path == 2) return FG_SIDESTEP_LEFT;
        if (v->path == 3) return FG_SIDESTEP_RIGHT;
        return FG_SHORTEN; /* a STOP costs a wait or a pause: only the stop thresholds stop */
    }
    return FG_PROCEED;
}

/* A frame the features take: online, pixels, a whole number of patches within the maximum. */
static int camera_usable(const feat_camera *cam)
{
    return cam && cam->online && cam->pixels && cam->width > 0 && cam->height > 0 &&
           cam->width % FEAT_PATCH == 0 && cam->height % FEAT_PATCH == 0 &&
           cam->width <= FEAT_MAX_CAM_W && cam->height <= FEAT_MAX_CAM_H;
}

int fg_snapshot(const fusion_gate *g, const cc_status *st, unsigned axis, int dir,
                const float foot_mm[4][2], const feat_camera *cam, feat_snapshot *out)
{
    if (!g || !st || !foot_mm || !out || axis > 1 || (dir != 1 && dir != -1)) return FG_EARG;
    feat_snapshot s;
    feat_snapshot_init(&s);
    /* the travel frame: ahead a, right r = a turned -90 degrees */
    const double a[2] = {axis == 0 ? (double)dir : 0.0, axis == 1 ? (double)dir : 0.0};
    const double r[2] = {a[1], -a[0]};
    for (unsigned c = 0; c < FEAT_CUPS; c++) {
        s.vacuum_kpa[c] = st->cup_kpa[c];
        s.vacuum_rate_kpa_s[c] = rate_kpa_s(g, c);
    }
    for (unsigned f = 0; f < 4; f++) {
        const double x = (double)foot_mm[f][0], y = (double)foot_mm[f][1];
        s.foot_mm[f][0] = (float)(x * r[0] + y * r[1]);
        s.foot_mm[f][1] = (float)(x * a[0] + y * a[1]);
    }
    s.holding[0] = s.holding[1] = true;
    const double slot_v[FEAT_PROX][2] = {{r[0], r[1]}, {-r[0], -r[1]}, {a[0], a[1]}, {-a[0], -a[1]}};
    for (unsigned k = 0; k < FEAT_PROX; k++) {
        unsigned i = prox_index(slot_v[k]);
        feat_proximity *q = &s.proximity[k];
        q->dropout = false;
        q->no_echo = !st->prox_valid[i];
        q->distance_mm = st->prox_valid[i] ? st->prox_mm[i] : FEAT_DIST_SCALE_MM * 2.0f;
        if (st->prox_valid[i] && !(st->prox_mm[i] >= 0.0f && st->prox_mm[i] <= FG_PROX_PLAUSIBLE_MM))
            q->dropout = true;
    }
    if (camera_usable(cam))
        s.camera = *cam;
    else
        s.camera.online = false;
    *out = s;
    return FG_OK;
}

int fg_ask(fusion_gate *g, const cc_status *st, hold_group lifted, unsigned axis, int dir,
           float step_mm, const float foot_mm[4][2], const feat_camera *cam, fg_verdict *v)
{
    if (!g || !g->open || !st || !foot_mm || !v || (unsigned)lifted >= HOLD_GROUP_COUNT) return FG_EARG;
    feat_snapshot s;
    int rc = fg_snapshot(g, st, axis, dir, foot_mm, cam, &s);
    if (rc) return rc;
    fusion_input in;
    fusion_output out;
    if (feat_extract(&s, &g->tok, NULL, 0) != 0) return FG_EINFER;
    feat_to_input(&g->tok, &in);
    if (fusion_forward(&g->model, &g->ws, &in, &out) != 0) return FG_EINFER;
    memset(v, 0, sizeof *v);
    for (unsigned k = 0; k < HOLD_GROUP_COUNT; k++) v->grip_risk[k] = out.grip[k];
    v->path = 0;
    for (unsigned k = 0; k < FUSION_PATH; k++) {
        v->path_p[k] = out.path[k];
        if (out.path[k] > out.path[v->path]) v->path = k;
    }
    for (unsigned m = 0; m < FUSION_MODALITIES; m++) {
        v->share[m] = out.share[m];
        v->n_tokens[m] = (unsigned)out.n[m];
    }
    v->action = fg_decide(&g->cfg, v, lifted, step_mm);
    g->asked++;
    g->acted[v->action]++;
    return FG_OK;
}
