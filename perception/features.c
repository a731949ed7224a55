/*
 * features.c — perception snapshot -> fusion tokens (layouts in features.h).
 *
 * Pure arithmetic on caller memory: no allocation, no I/O, so the control
 * loop can call it every cycle.
 */
#include "features.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "perr.h"

const char *feat_strerror(int code)
{
    switch (code) {
    case FEAT_OK: return "success";
    case FEAT_E_ARG: return "invalid argument";
    case FEAT_E_VALUE: return "sensor value not finite";
    case FEAT_E_CAMERA: return "camera frame geometry not supported";
    default: return "unknown error";
    }
}

void feat_snapshot_init(feat_snapshot *s)
{
    if (!s) return;
    memset(s, 0, sizeof *s);
    for (int i = 0; i < FEAT_PROX; i++) s->proximity[i].dropout = true;
    s->camera.online = false;
}

static float clamp01(float x)
{
    return x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x;
}

int feat_extract(const feat_snapshot *s, feat_tokens *out, char *err, size_t errlen)
{
    static const char *const prox_name[FEAT_PROX] = {"+X", "-X", "+Y", "-Y"};
    static const float prox_dir[FEAT_PROX][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
    static const char *const foot_name[4] = {"A1", "A2", "B1", "B2"};
    if (!s || !out) return perr_fail(err, errlen, FEAT_E_ARG, "features: NULL argument");

    /* Validate everything first so *out is untouched on error. */
    for (int c = 0; c < FEAT_CUPS; c++) {
        if (!isfinite(s->vacuum_kpa[c]) || !isfinite(s->vacuum_rate_kpa_s[c]))
            return perr_fail(err, errlen, FEAT_E_VALUE, "features: cup %d (%s): %s is not finite", c,
                             foot_name[c / 3], isfinite(s->vacuum_kpa[c]) ? "vacuum rate" : "vacuum");
    }
    for (int f = 0; f < 4; f++)
        if (!isfinite(s->foot_mm[f][0]) || !isfinite(s->foot_mm[f][1]))
            return perr_fail(err, errlen, FEAT_E_VALUE, "features: foot %s position is not finite",
                             foot_name[f]);
    for (int p = 0; p < FEAT_PROX; p++) {
        const feat_proximity *q = &s->proximity[p];
        if (!q->dropout && !q->no_echo && isnan(q->distance_mm))
            return perr_fail(err, errlen, FEAT_E_VALUE,
                             "features: proximity %s distance is NaN (mark it dropout or no_echo)",
                             prox_name[p]);
    }
    const feat_camera *cam = &s->camera;
    size_t pr = 0, pc = 0; /* patch rows, columns */
    if (cam->online) {
        if (cam->width == 0 || cam->height == 0 || cam->width % FEAT_PATCH ||
            cam->height % FEAT_PATCH || cam->width > FEAT_MAX_CAM_W ||
            cam->height > FEAT_MAX_CAM_H)
            return perr_fail(err, errlen, FEAT_E_CAMERA,
                             "features: camera frame %ux%u: width and height must be positive "
                             "multiples of %d, at most %dx%d",
                             cam->width, cam->height, FEAT_PATCH, FEAT_MAX_CAM_W, FEAT_MAX_CAM_H);
        if (!cam->pixels)
            return perr_fail(err, errlen, FEAT_E_CAMERA, "features: camera online without pixels");
        pr = cam->height / FEAT_PATCH;
        pc = cam->width / FEAT_PATCH;
    }

    /* Pressure: [FEAT_CUPS, FEAT_DP] */
    for (int c = 0; c < FEAT_CUPS; c++) {
        float *t = out->pressure + (size_t)c * FEAT_DP;
        int g = c < FEAT_CUPS / 2 ? FEAT_GROUP_A : FEAT_GROUP_B;
        int foot = c / 3;
        t[0] = s->vacuum_kpa[c] / FEAT_VACUUM_SCALE_KPA;
        t[1] = asinhf(s->vacuum_rate_kpa_s[c] / FEAT_RATE_SCALE_KPA_S);
        t[2] = g == FEAT_GROUP_A ? 1.0f : 0.0f;
        t[3] = g == FEAT_GROUP_B ? 1.0f : 0.0f;
        t[4] = s->foot_mm[foot][0] / FEAT_FOOT_SCALE_MM;
        t[5] = s->foot_mm[foot][1] / FEAT_FOOT_SCALE_MM;
        t[6] = s->holding[g] ? 1.0f : 0.0f;
    }
    out->n_pressure = FEAT_CUPS;

    /* Proximity: [n_proximity <= 4, FEAT_DQ], dropped-out sensors skipped */
    size_t n = 0;
    for (int p = 0; p < FEAT_PROX; p++) {
        const feat_proximity *q = &s->proximity[p];
        if (q->dropout) continue;
        float *t = out->proximity + n * FEAT_DQ;
        t[0] = q->no_echo ? 1.0f : clamp01(q->distance_mm / FEAT_DIST_SCALE_MM);
        t[1] = prox_dir[p][0];
        t[2] = prox_dir[p][1];
        t[3] = q->no_echo ? 1.0f : 0.0f;
        n++;
    }
    out->n_proximity = n;

    /* Camera: [pr*pc, FEAT_DC], patch (r, c) covers pixels rows 8r..8r+7, cols 8c..8c+7 */
    for (size_t r = 0; r < pr; r++) {
        for (size_t c = 0; c < pc; c++) {
            float *t = out->camera + (r * pc + c) * FEAT_DC;
            for (size_t y = 0; y < FEAT_PATCH; y++) {
                const uint8_t *px = cam->pixels + (r * FEAT_PATCH + y) * cam->width + c * FEAT_PATCH;
                for (size_t x = 0; x < FEAT_PATCH; x++)
                    t[y * FEAT_PATCH + x] = (float)px[x] / 255.0f - 0.5f;
            }
            t[64] = ((float)r + 0.5f) / (float)pr;
            t[65] = ((float)c + 0.5f) / (float)pc;
        }
    }
    out->n_camera = pr * pc;
    return 0;
}

void feat_to_input(const feat_tokens *t, fusion_input *in)
{
    in->rows[FUSION_PRESSURE] = t->pressure;
    in->n[FUSION_PRESSURE] = t->n_pressure;
    in->rows[FUSION_PROXIMITY] = t->proximity;
    in->n[FUSION_PROXIMITY] = t->n_proximity;
    in->rows[FUSION_CAMERA] = t->camera;
    in->n[FUSION_CAMERA] = t->n_camera;
}
