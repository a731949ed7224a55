/*
 * features.h — turn one perception snapshot into fusion tokens (SPEC §7).
 *
 * Independent of Modbus and of every other module: the caller fills a plain
 * feat_snapshot in engineering units (kPa, kPa/s, mm, 8-bit pixels) and gets
 * three token matrices, one row per token, laid out as below.  The widths are
 * the projection input sizes of the model (proj.*.weight is [H, D]); a
 * weights file used with these features must match them, which
 * fusion_model_load(..., FUSION_LOAD_FEATURES, ...) checks.
 *
 * Pressure token, one per cup, always 12 rows (cups 0-5 group A, 6-11 group
 * B; cups 3k..3k+2 sit on foot k: A1, A2, B1, B2) — width FEAT_DP = 7:
 *   [0] vacuum / 60            kPa below atmosphere; 1.0 = nominal grip
 *   [1] asinh(d(vacuum)/dt / 1) kPa/s, signed log squash with a 1 kPa/s
 *                              knee: linear (r / 1 kPa/s) for |r| below about
 *                              1 kPa/s, logarithmic above it.  A leak shows
 *                              as a negative rate: a tearing lip's -0.5 /
 *                              -1 kPa/s gives -0.48 / -0.88, a released
 *                              group's -15 / -60 kPa/s gives -3.4 / -4.8, a
 *                              landing group's +30 kPa/s +4.1.  (It was
 *                              rate / 100 kPa/s, which made the slow leaks
 *                              -0.005…-0.01: invisible to the model; a
 *                              linear 1-2 kPa/s scale would have to clamp
 *                              and lose the fast rates.)  The sensor noise
 *                              of the 1 s least-squares slope, ~0.03 kPa/s,
 *                              stays ~0.03.
 *   [2] group A one-hot        1 for cups 0-5
 *   [3] group B one-hot        1 for cups 6-11
 *   [4] foot x / 300           mm in the cross frame; 300 mm = the stroke
 *   [5] foot y / 300           mm
 *   [6] holding                1 when the cup's group is commanded to grip
 *                              (vacuum on), 0 while it is released/lifted —
 *                              low vacuum means danger only in the first case
 *
 * Proximity token, one per sensor NOT dropped out (0..4 rows, in the order
 * +X, -X, +Y, -Y) — width FEAT_DQ = 4:
 *   [0] distance / 1000        mm, clamped to [0, 1]; 1 when there is no echo
 *   [1] direction x            +1 (+X), -1 (-X), 0 (Y sensors)
 *   [2] direction y            +1 (+Y), -1 (-Y), 0 (X sensors)
 *   [3] no echo                1 when nothing is in range, else 0
 * ("dropout" = the sensor is broken or its value implausible: no token at
 * all; "no echo" = the sensor works and sees nothing: a token saying so.)
 *
 * Camera token, one per 8x8 patch of the grayscale frame (default 64x48 ->
 * 8 columns x 6 rows = 48 tokens), patches in row-major order, top-left
 * first; an offline camera gives 0 rows — width FEAT_DC = 66:
 *   [0..63]  patch pixels row-major, p / 255 - 0.5 (centred, in [-0.5, 0.5])
 *   [64]     patch row position    (row + 0.5) / rows, in (0, 1)
 *   [65]     patch column position (col + 0.5) / cols, in (0, 1)
 *
 * Errors: 0 or a negative FEAT_E_* code, feat_strerror(code), and an
 * optional message buffer naming the field.
 */
#ifndef CROSSCLIMB_PERCEPTION_FEATURES_H
#define CROSSCLIMB_PERCEPTION_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fusion.h"

#define FEAT_CUPS 12      /* 2 groups x 2 feet x 3 cups */
#define FEAT_PROX 4       /* +X, -X, +Y, -Y */
#define FEAT_PATCH 8      /* camera patch edge, pixels */
#define FEAT_DP 7         /* pressure token width */
#define FEAT_DQ 4         /* proximity token width */
#define FEAT_DC 66        /* camera token width: 64 pixels + row + col */
#define FEAT_CAM_W 64     /* default frame width, pixels */
#define FEAT_CAM_H 48     /* default frame height, pixels */
#define FEAT_MAX_CAM_W 128 /* largest frame accepted */
#define FEAT_MAX_CAM_H 96
#define FEAT_MAX_CAMERA ((FEAT_MAX_CAM_W / FEAT_PATCH) * (FEAT_MAX_CAM_H / FEAT_PATCH)) /* 192 */
#define FEAT_MAX_TOKENS (FEAT_CUPS + FEAT_PROX + FEAT_MAX_CAMERA)                      /* 208 */

/* Normalisation scales (documented above, shared with docs/perception.md). */
#define FEAT_VACUUM_SCALE_KPA 60.0f
#define FEAT_RATE_SCALE_KPA_S 1.0f /* knee of the rate column: asinh(rate / scale) */
#define FEAT_FOOT_SCALE_MM 300.0f
#define FEAT_DIST_SCALE_MM 1000.0f

enum {
    FEAT_OK = 0,
    FEAT_E_ARG = -1,    /* NULL pointer */
    FEAT_E_VALUE = -2,  /* a sensor value is NaN or infinite */
    FEAT_E_CAMERA = -3, /* frame size not a multiple of 8, too large, or no pixels */
};

enum { FEAT_GROUP_A = 0, FEAT_GROUP_B = 1 };
enum { FEAT_PX = 0, FEAT_NX = 1, FEAT_PY = 2, FEAT_NY = 3 }; /* proximity order */

/* One proximity sensor reading. */
typedef struct {
    float distance_mm; /* measured distance along the facade, mm */
    bool no_echo;      /* working sensor, nothing in range (distance ignored) */
    bool dropout;      /* sensor broken / implausible: contributes no token */
} feat_proximity;

/* A grayscale camera frame, row-major, width*height bytes. */
typedef struct {
    bool online;           /* false: zero camera tokens */
    unsigned width;        /* pixels, multiple of 8, <= FEAT_MAX_CAM_W */
    unsigned height;       /* pixels, multiple of 8, <= FEAT_MAX_CAM_H */
    const uint8_t *pixels; /* width*height bytes, 0 = black */
} feat_camera;

/* One perception snapshot, engineering units. */
typedef struct {
    float vacuum_kpa[FEAT_CUPS];      /* kPa below atmosphere, cup order A1a..B2c */
    float vacuum_rate_kpa_s[FEAT_CUPS]; /* kPa/s, positive = building up */
    float foot_mm[4][2];              /* x, y of feet A1, A2, B1, B2 in the frame, mm */
    bool holding[2];                  /* group A, group B commanded to grip */
    feat_proximity proximity[FEAT_PROX]; /* +X, -X, +Y, -Y */
    feat_camera camera;
} feat_snapshot;

/* Token matrices of one snapshot; caller-owned (about 54 KiB), reused. */
typedef struct {
    size_t n_pressure;                         /* always FEAT_CUPS */
    size_t n_proximity;                        /* sensors not dropped out, 0..4 */
    size_t n_camera;                           /* patches, 0 when offline */
    float pressure[FEAT_CUPS * FEAT_DP];       /* [n_pressure, FEAT_DP] */
    float proximity[FEAT_PROX * FEAT_DQ];      /* [n_proximity, FEAT_DQ] */
    float camera[FEAT_MAX_CAMERA * FEAT_DC];   /* [n_camera, FEAT_DC] */
} feat_tokens;

/*
 * feat_snapshot_init — a snapshot with every cup at 0 kPa, no group holding,
 * feet at the origin, all proximity sensors dropped out and the camera
 * offline: the caller sets what it has.
 */
void feat_snapshot_init(feat_snapshot *s);

/*
 * feat_extract — build the tokens of snapshot S into *OUT (no allocation).
 * Returns 0, FEAT_E_ARG, FEAT_E_VALUE (non-finite reading; message names
 * the cup or sensor) or FEAT_E_CAMERA (bad frame geometry).
 */
int feat_extract(const feat_snapshot *s, feat_tokens *out, char *err, size_t errlen);

/* feat_to_input — point IN at the token matrices of T (no copy): the
 * fusion_input for fusion_forward.  T must outlive the call. */
void feat_to_input(const feat_tokens *t, fusion_input *in);

/* feat_strerror — a short description of a FEAT_E_* code. */
const char *feat_strerror(int code);

#endif
