/*
 * bench_fusion.c — microseconds per fusion inference, allocations per call,
 * and the ratio to PyTorch 1.13 eager on this machine class.
 *
 * Cases: every golden reference case (its own inputs), and two pooling-only
 * models with random weights (fixed seed) built in memory through
 * st_parse_buffer — H=16 with 16 tokens (12 cups + 4 proximity) and H=32
 * with 64 tokens (+ 48 camera patches) — the sizes of the PyTorch figures:
 * 150 µs and 312 µs per call (batch 1, one thread, eager mode).
 *
 * Method: a warm-up, then 21 timed batches sized to ~10 ms each; the figure
 * is the median batch time divided by the batch size (CLOCK_MONOTONIC).
 * Allocations: glibc mallinfo2() before and after 10000 calls (heap bytes in
 * use and mmapped blocks must not move).  Runtime: a few seconds.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "perception/features.h"
#include "perception/fusion.h"
#include "perception/safetensors.h"

int main(void);

#define REPEATS 21
#define BATCH_NS 10e6 /* ~10 ms per timed batch */
#define ALLOC_CALLS 10000

static const double pytorch_pool_h16_t16_us = 150.0;
static const double pytorch_pool_h32_t64_us = 312.0;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static volatile float sink; /* keeps the compiler from dropping the calls */

/* Median µs per fusion_forward; exits on error. */
static double time_forward(const fusion_model *m, fusion_workspace *ws, const fusion_input *in)
{
    fusion_output o;
    double t0 = now_ns();
    long warm = 0;
    while (now_ns() - t0 < 50e6 || warm < 10) { /* 50 ms warm-up */
        if (fusion_forward(m, ws, in, &o) != 0) {
            fprintf(stderr, "bench_fusion: forward failed\n");
            exit(1);
        }
        warm++;
    }
    double per = (now_ns() - t0) / (double)warm;
    long batch = (long)(BATCH_NS / per);
    if (batch < 1) batch = 1;
    double us[REPEATS];
    for (int r = 0; r < REPEATS; r++) {
        double s = now_ns();
        for (long i = 0; i < batch; i++) fusion_forward(m, ws, in, &o);
        us[r] = (now_ns() - s) / 1e3 / (double)batch;
        sink = o.path[0];
    }
    qsort(us, REPEATS, sizeof us[0], cmp_double);
    return us[REPEATS / 2];
}

/* Heap bytes in use and mmapped blocks gained over ALLOC_CALLS calls. */
static void alloc_delta(const fusion_model *m, fusion_workspace *ws, const fusion_input *in,
                        long *bytes, long *blocks)
{
    fusion_output o;
    struct mallinfo2 a = mallinfo2();
    for (int i = 0; i < ALLOC_CALLS; i++) fusion_forward(m, ws, in, &o);
    struct mallinfo2 b = mallinfo2();
    *bytes = (long)b.uordblks - (long)a.uordblks;
    *blocks = (long)b.hblks - (long)a.hblks;
}

/* ---- random pooling-only model, built as a file image ---- */

static uint32_t rng = 20240601u;

static float frand(float scale) /* uniform in [-scale, scale] */
{
    rng = rng * 1664525u + 1013904223u;
    return ((float)(rng >> 8) / 16777216.0f * 2.0f - 1.0f) * scale;
}

static int synth_model(fusion_model *m, size_t H)
{
    struct {
        const char *name;
        size_t out, in; /* in == 0: bias [out] */
    } t[] = {
        {"proj.pressure.weight", H, FEAT_DP},  {"proj.pressure.bias", H, 0},
        {"proj.proximity.weight", H, FEAT_DQ}, {"proj.proximity.bias", H, 0},
        {"proj.camera.weight", H, FEAT_DC},    {"proj.camera.bias", H, 0},
        {"pool.weight", H, H},                 {"pool.bias", H, 0},
        {"head.grip.weight", FUSION_GRIP, H},  {"head.grip.bias", FUSION_GRIP, 0},
        {"head.path.weight", FUSION_PATH, H},  {"head.path.bias", FUSION_PATH, 0},
    };
    const size_t n = sizeof t / sizeof t[0];
    char json[4096];
    size_t jn = (size_t)snprintf(json, sizeof json, "{");
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t numel = t[i].in ? t[i].out * t[i].in : t[i].out;
        char shape[48];
        if (t[i].in) snprintf(shape, sizeof shape, "[%zu,%zu]", t[i].out, t[i].in);
        else snprintf(shape, sizeof shape, "[%zu]", t[i].out);
        jn += (size_t)snprintf(json + jn, sizeof json - jn,
                               "%s\"%s\":{\"dtype\":\"F32\",\"shape\":%s,\"data_offsets\":[%zu,%zu]}",
                               i ? "," : "", t[i].name, shape, off, off + numel * 4);
        off += numel * 4;
    }
    jn += (size_t)snprintf(json + jn, sizeof json - jn, "}");
    size_t len = 8 + jn + off;
    uint8_t *img = malloc(len);
    if (!img) return -1;
    for (int i = 0; i < 8; i++) img[i] = (uint8_t)((uint64_t)jn >> (8 * i));
    memcpy(img + 8, json, jn);
    uint8_t *d = img + 8 + jn;
    for (size_t i = 0; i < n; i++) {
        size_t numel = t[i].in ? t[i].out * t[i].in : t[i].out;
        float scale = t[i].in ? 1.0f / (float)t[i].in : 0.1f; /* PyTorch-like init range */
        for (size_t j = 0; j < numel; j++, d += 4) {
            float v = frand(scale);
            uint32_t u;
            memcpy(&u, &v, 4);
            for (int k = 0; k < 4; k++) d[k] = (uint8_t)(u >> (8 * k)); /* little-endian file */
        }
    }
    st_file f;
    char err[ST_ERR_LEN];
    int rc = st_parse_buffer(img, len, "synthetic", &f, err, sizeof err);
    free(img);
    if (rc == 0) rc = fusion_model_from_st(m, &f, "synthetic", FUSION_LOAD_FEATURES, err, sizeof err);
    if (rc != 0) fprintf(stderr, "bench_fusion: %s\n", err);
    return rc;
}

static int bench_synthetic(size_t H, size_t n_camera, double pytorch_us, long *worst_bytes,
                           long *worst_blocks)
{
    fusion_model m;
    fusion_workspace ws;
    if (synth_model(&m, H) != 0) return 1;
    static float p[FEAT_CUPS * FEAT_DP], q[FEAT_PROX * FEAT_DQ], c[FEAT_MAX_CAMERA * FEAT_DC];
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) p[i] = frand(1.0f);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) q[i] = frand(1.0f);
    for (size_t i = 0; i < n_camera * FEAT_DC; i++) c[i] = frand(0.5f);
    fusion_input in = {{p, q, c}, {FEAT_CUPS, FEAT_PROX, n_camera}};
    size_t T = FEAT_CUPS + FEAT_PROX + n_camera;
    if (fusion_workspace_init(&ws, &m, T, NULL, 0) != 0) return 1;
    double us = time_forward(&m, &ws, &in);
    long bytes, blocks;
    alloc_delta(&m, &ws, &in, &bytes, &blocks);
    if (labs(bytes) > labs(*worst_bytes)) *worst_bytes = bytes;
    if (labs(blocks) > labs(*worst_blocks)) *worst_blocks = blocks;
    char label[48];
    snprintf(label, sizeof label, "pooling-only random H=%zu", H);
    printf("%-34s %3zu %3zu %3zu  %-4s %9.2f  %+6ld B\n", label, m.H, m.Hp, T, "no", us, bytes);
    printf("    speedup vs PyTorch 1.13 eager (batch 1, 1 thread): %.0f/%.2f = %.0fx\n",
           pytorch_us, us, pytorch_us / us);
    fusion_workspace_free(&ws);
    fusion_model_free(&m);
    return 0;
}

int main(void)
{
    static const char *const cases[] = {"camera-offline-h8.safetensors",
                                        "large-inputs-h16.safetensors", "pool-h16.safetensors",
                                        "selfattn-h32.safetensors"};
    const char *shared = getenv("CROSSCLIMB_SHARED");
    long worst_bytes = 0, worst_blocks = 0;
    int fail = 0;

    printf("fusion inference, median of %d batches (~10 ms each) after a 50 ms warm-up, one "
           "thread\n",
           REPEATS);
    printf("%-34s %3s %3s %3s  %-4s %9s  %s\n", "case", "H", "Hp", "T", "attn", "us/call",
           "heap delta/10k calls");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[1024];
        char err[ST_ERR_LEN];
        fusion_case c;
        fusion_workspace ws;
        if (!shared) {
            printf("%-34s skipped: CROSSCLIMB_SHARED not set\n", cases[i]);
            continue;
        }
        snprintf(path, sizeof path, "%s/fusion-golden/%s", shared, cases[i]);
        if (fusion_case_load(&c, path, err, sizeof err) != 0) {
            fprintf(stderr, "bench_fusion: %s\n", err);
            fail = 1;
            continue;
        }
        if (fusion_workspace_init(&ws, &c.model, c.T, NULL, 0) != 0) {
            fusion_case_free(&c);
            fail = 1;
            continue;
        }
        double us = time_forward(&c.model, &ws, &c.input);
        long bytes, blocks;
        alloc_delta(&c.model, &ws, &c.input, &bytes, &blocks);
        if (labs(bytes) > labs(worst_bytes)) worst_bytes = bytes;
        if (labs(blocks) > labs(worst_blocks)) worst_blocks = blocks;
        printf("%-34s %3zu %3zu %3zu  %-4s %9.2f  %+6ld B\n", cases[i], c.model.H, c.model.Hp, c.T,
               c.model.has_self_attn ? "yes" : "no", us, bytes);
        fusion_workspace_free(&ws);
        fusion_case_free(&c);
    }
    fail |= bench_synthetic(16, 0, pytorch_pool_h16_t16_us, &worst_bytes, &worst_blocks);
    fail |= bench_synthetic(32, 48, pytorch_pool_h32_t64_us, &worst_bytes, &worst_blocks);

    /* feature extraction of a full snapshot (64x48 camera) */
    {
        feat_snapshot s;
        static feat_tokens t;
        static uint8_t px[FEAT_CAM_W * FEAT_CAM_H];
        feat_snapshot_init(&s);
        for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 7);
        for (int k = 0; k < FEAT_PROX; k++) s.proximity[k] = (feat_proximity){.distance_mm = 500};
        s.camera = (feat_camera){.online = true, .width = FEAT_CAM_W, .height = FEAT_CAM_H,
                                 .pixels = px};
        const long n = 20000;
        double t0 = now_ns();
        for (long i = 0; i < n; i++) {
            s.vacuum_kpa[i % FEAT_CUPS] = (float)(i % 60);
            feat_extract(&s, &t, NULL, 0);
        }
        sink = t.camera[0];
        printf("feature extraction (12 cups, 4 proximity, 64x48 camera): %.2f us/call\n",
               (now_ns() - t0) / 1e3 / (double)n);
    }

    printf("allocations per call: heap in use moved by %+ld bytes and mmapped blocks by %+ld "
           "over %d calls per case (mallinfo2) -> %s\n",
           worst_bytes, worst_blocks, ALLOC_CALLS,
           worst_bytes == 0 && worst_blocks == 0 ? "0 allocations per call" : "ALLOCATES");
    return fail || worst_bytes != 0 || worst_blocks != 0;
}
