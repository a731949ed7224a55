/*
 * check_camera.c — the simulated camera (sim/camera.h) against the
 * geometry and the brightness model: uniform glass within the noise bound,
 * a joint at the column (and row) the pinhole model puts it, dirt darker
 * by its factor, the lighting, seeds, blackout, and PGM dumps.
 */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "robot/facade.h"
#include "robot/robotcfg.h"
#include "sim/camera.h"
#include "sim/physics.h"
#include "sim/robotsim.h"

#define CX 2500.0 /* carriage position used throughout, mm */
#define CY 2500.0

/* A 5 m x 5 m facade of 10 mm cells; fill(x_mm, y_mm) of the cell centre
 * gives its legend character: . glass, j joint, 1 2 3 glass with dirt. */
typedef char (*fill_fn)(double x_mm, double y_mm);

static facade *make_facade(fill_fn fill)
{
    enum { N = 500, CELL = 10 };
    size_t cap = (size_t)(N + 1) * N + 512;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    int n = snprintf(text, cap,
                     "facade cam\ncell_mm %d\nsize %d %d\nlegend . glass\nlegend j joint\n"
                     "legend 1 glass dirt 1\nlegend 2 glass dirt 2\nlegend 3 glass dirt 3\ngrid\n",
                     CELL, N, N);
    for (int r = N - 1; r >= 0; r--) { /* top row first */
        for (int c = 0; c < N; c++) text[n++] = fill((c + 0.5) * CELL, (r + 0.5) * CELL);
        text[n++] = '\n';
    }
    facade *f = NULL;
    char err[256];
    ck_assert_msg(facade_load_buffer("cam", text, (size_t)n, &f, err, sizeof err) == 0, "%s", err);
    free(text);
    return f;
}

static char glass(double x, double y)
{
    (void)x;
    (void)y;
    return '.';
}

/* Three short joints, each seen by one of the poses of test_joint_column
 * (a straight-down view covers +-173 mm across and +-130 mm along):
 *   a vertical one x 1100..1120 around (1000, 1000), heading +Y;
 *   a horizontal one y 2380..2400 around (2500, 2500), heading +X;
 *   a vertical one x 3880..3900 around (4000, 4000), heading -Y. */
static char joints(double x, double y)
{
    if (x >= 1100.0 && x < 1120.0 && y > 700.0 && y < 1300.0) return 'j';
    if (y >= 2380.0 && y < 2400.0 && x > 2200.0 && x < 2800.0) return 'j';
    if (x >= 3880.0 && x < 3900.0 && y > 3700.0 && y < 4300.0) return 'j';
    return '.';
}

/* A joint across the travel direction 300..320 mm ahead of the lens. */
static char joint_ahead(double x, double y)
{
    (void)x;
    return y >= 3250.0 && y < 3270.0 ? 'j' : '.';
}

/* Clean glass left of x = 2500, dirt 2 right of it. */
static char half_dirty(double x, double y)
{
    (void)y;
    return x < CX ? '.' : '2';
}

/* Bands of dirt 0..3 across the view (by x). */
static char dirt_bands(double x, double y)
{
    (void)y;
    static const char lv[4] = {'.', '1', '2', '3'};
    int b = (int)floor((x - 2300.0) / 100.0);
    return b >= 0 && b < 4 ? lv[b] : '.';
}

static cam_state *cam_new(const cam_config *cfg, uint64_t seed)
{
    cam_state *cam = malloc(sizeof *cam);
    ck_assert_ptr_nonnull(cam);
    char err[256];
    ck_assert_msg(cam_init(cam, cfg, seed, err, sizeof err) == 0, "%s", err);
    return cam;
}

/* A quiet camera: no noise, no gradient (exact brightness). */
static void quiet(cam_config *c)
{
    cam_defaults(c);
    c->noise_dn = 0.0;
    c->gradient = 0.0;
}

/* round(255 x gain x reflectance), as the renderer quantises. */
static int grey(const cam_state *cam, uint64_t t_us, double refl)
{
    return (int)floor(255.0 * cam_gain(cam, t_us) * refl + 0.5);
}

static double col_mean(const cam_frame *fr, unsigned i)
{
    double s = 0.0;
    for (unsigned j = 0; j < fr->height; j++) s += fr->pixels[j * fr->width + i];
    return s / fr->height;
}

/* ------------------------------------------------------------- tests */

START_TEST(test_config)
{
    cam_config c;
    cam_defaults(&c);
    ck_assert_uint_eq(c.width_px, 64);
    ck_assert_uint_eq(c.height_px, 48);
    char err[256];
    cam_state *cam = malloc(sizeof *cam);
    ck_assert_ptr_nonnull(cam);
    ck_assert_int_eq(cam_init(cam, NULL, 1, err, sizeof err), 0);
    /* f = (W/2) / tan(hfov/2) = 32 / tan(30 deg) */
    ck_assert_double_eq_tol(cam->focal_px, 32.0 / tan(M_PI / 6.0), 1e-12);
    c.tilt_deg = 95.0;
    ck_assert_int_eq(cam_init(cam, &c, 1, err, sizeof err), CAM_EARG);
    ck_assert_str_eq(err, "camera: tilt_deg 95 out of range 0..85");
    cam_defaults(&c);
    c.width_px = 300;
    ck_assert_int_eq(cam_init(cam, &c, 1, err, sizeof err), CAM_EARG);
    ck_assert_str_eq(err, "camera: width_px 300 out of range 1..256");
    cam_defaults(&c);
    c.reflect[FACADE_JOINT] = 1.5;
    ck_assert_int_eq(cam_init(cam, &c, 1, err, sizeof err), CAM_EARG);
    ck_assert_str_eq(err, "camera: reflect[joint] 1.5 out of range 0..1");
    cam_defaults(&c);
    c.hfov_deg = NAN;
    ck_assert_int_eq(cam_init(cam, &c, 1, err, sizeof err), CAM_EARG);
    ck_assert_str_eq(cam_strerror(CAM_EIO), "cannot write the camera frame");
    ck_assert_double_eq(cam_heading_rad(FACADE_DIR_YP), M_PI / 2.0);
    ck_assert_double_eq(cam_heading_rad(FACADE_DIR_XM), M_PI);
    /* a buffer too small, or none */
    uint8_t small[100];
    cam_frame fr;
    cam_frame_init(&fr, small, sizeof small);
    facade *f = make_facade(glass);
    ck_assert_int_eq(cam_init(cam, NULL, 1, err, sizeof err), 0);
    ck_assert_int_eq(cam_render_pose(cam, f, CX, CY, 0.0, 0, 0, &fr), CAM_EARG);
    cam_frame_init(&fr, NULL, 4096);
    ck_assert_int_eq(cam_render_pose(cam, f, CX, CY, 0.0, 0, 0, &fr), CAM_EARG);
    facade_free(f);
    free(cam);
}
END_TEST

/* Uniform glass: every pixel is 255 gain(t) 0.40 + noise, and the noise
 * (Irwin-Hall, |n| < 6 sd) plus rounding bounds it: |p - mean| <= 6 x 2 +
 * 0.5 grey levels.  The spread is the configured 2 grey levels; with the
 * noise off every pixel is exactly the rounded value. */
START_TEST(test_uniform_glass)
{
    facade *f = make_facade(glass);
    cam_config c;
    cam_defaults(&c);
    c.gradient = 0.0;
    cam_state *cam = cam_new(&c, 7);
    uint8_t px[64 * 48];
    cam_frame fr;
    cam_frame_init(&fr, px, sizeof px);
    double sum = 0.0, sum2 = 0.0;
    int n = 0;
    for (int k = 0; k < 10; k++) {
        uint64_t t = 1000000u * (uint64_t)k;
        ck_assert_int_eq(cam_render_pose(cam, f, CX, CY, cam_heading_rad(FACADE_DIR_YP), t, 0, &fr),
                         0);
        ck_assert_int_eq(fr.online, 1);
        ck_assert_uint_eq(fr.seq, (uint64_t)k);
        double expect = 255.0 * cam_gain(cam, t) * c.reflect[FACADE_GLASS];
        for (size_t i = 0; i < sizeof px; i++) {
            ck_assert_msg(fabs(px[i] - expect) <= 6.0 * c.noise_dn + 0.5, "pixel %zu: %d vs %.2f",
                          i, px[i], expect);
            sum += px[i] - expect;
            sum2 += (px[i] - expect) * (px[i] - expect);
            n++;
        }
    }
    double mean = sum / n, sd = sqrt(sum2 / n - mean * mean);
    ck_assert_double_eq_tol(mean, 0.0, 0.1);
    ck_assert_double_eq_tol(sd, sqrt(4.0 + 1.0 / 12.0), 0.1); /* noise and rounding */
    free(cam);

    quiet(&c);
    cam = cam_new(&c, 7);
    ck_assert_int_eq(cam_render_pose(cam, f, CX, CY, 0.3, 5000000u, 0, &fr), 0);
    int g = grey(cam, 5000000u, c.reflect[FACADE_GLASS]);
    for (size_t i = 0; i < sizeof px; i++) ck_assert_int_eq(px[i], g);
    free(cam);
    facade_free(f);
}
END_TEST

/* The expected grey of each column for a joint whose lateral offset from
 * the lens is [l0, l1) mm, looking straight at the facade (tilt 0): image
 * x = W/2 + L f / h, so the joint spans x0..x1; a pixel averages its
 * supersample^2 points at x = i + (k + 0.5) / s, each joint or glass
 * (W = 64, f = 55.43 px, h = 300 mm: L 100..120 mm is x 50.48..54.17:
 * columns 51-53 joint, 50 half, 54 glass: its points 54.25, 54.75 miss it). */
static void check_joint_columns(const cam_state *cam, const cam_frame *fr, double l0, double l1)
{
    const cam_config *c = &cam->cfg;
    unsigned s = c->supersample;
    double x0 = 0.5 * c->width_px + l0 * cam->focal_px / c->mount_height_mm;
    double x1 = 0.5 * c->width_px + l1 * cam->focal_px / c->mount_height_mm;
    double g = cam_gain(cam, fr->t_us);
    int full = 0;
    for (unsigned i = 0; i < fr->width; i++) {
        unsigned in = 0;
        for (unsigned k = 0; k < s; k++) {
            double u = i + (k + 0.5) / s;
            in += u >= x0 && u < x1;
        }
        double share = (double)in / s;
        int expect = (int)floor(255.0 * g *
                                    (share * c->reflect[FACADE_JOINT] +
                                     (1.0 - share) * c->reflect[FACADE_GLASS]) +
                                0.5);
        for (unsigned j = 0; j < fr->height; j++) {
            int p = fr->pixels[j * fr->width + i];
            ck_assert_msg(p == expect, "column %u row %u: %d, expected %d (share %.2f)", i,
                          j, p, expect, share);
        }
        full += in == s;
    }
    ck_assert_int_ge(full, 3);
}

START_TEST(test_joint_column)
{
    facade *f = make_facade(joints);
    cam_config c;
    quiet(&c);
    c.tilt_deg = 0.0;
    c.mount_ahead_mm = 0.0;
    cam_state *cam = cam_new(&c, 1);
    uint8_t px[64 * 48];
    cam_frame fr;
    cam_frame_init(&fr, px, sizeof px);
    /* +Y: right is +x; the joint x 1100..1120 is 100..120 mm right */
    ck_assert_int_eq(
        cam_render_pose(cam, f, 1000.0, 1000.0, cam_heading_rad(FACADE_DIR_YP), 0, 0, &fr), 0);
    check_joint_columns(cam, &fr, 100.0, 120.0);
    ck_assert_double_eq_tol(0.5 * 64 + 100.0 * cam->focal_px / 300.0, 50.475, 1e-3);
    ck_assert_double_eq_tol(0.5 * 64 + 120.0 * cam->focal_px / 300.0, 54.170, 1e-3);
    /* +X: right is -y; the joint y 2380..2400 is 100..120 mm right */
    ck_assert_int_eq(cam_render_pose(cam, f, CX, CY, cam_heading_rad(FACADE_DIR_XP), 0, 0, &fr), 0);
    check_joint_columns(cam, &fr, 100.0, 120.0);
    /* -Y: right is -x; the joint x 3880..3900 is 100..120 mm right */
    ck_assert_int_eq(
        cam_render_pose(cam, f, 4000.0, 4000.0, cam_heading_rad(FACADE_DIR_YM), 0, 0, &fr), 0);
    check_joint_columns(cam, &fr, 100.0, 120.0);
    /* the lens 40 mm to the right: the joint appears 40 mm further left */
    free(cam);
    c.mount_lateral_mm = 40.0;
    cam = cam_new(&c, 1);
    ck_assert_int_eq(
        cam_render_pose(cam, f, 1000.0, 1000.0, cam_heading_rad(FACADE_DIR_YP), 0, 0, &fr), 0);
    check_joint_columns(cam, &fr, 60.0, 80.0);
    free(cam);
    facade_free(f);
}
END_TEST

/* Tilted 45 deg: a point D mm ahead of the lens is seen alpha = atan(D/h)
 * from the normal, v' = tan(alpha - tilt) above the centre: row = H/2 -
 * v' f.  The joint 300..320 mm ahead: rows 22.21..24.00, so row 23 is
 * joint, every row from 25 down and up to 21 glass. */
START_TEST(test_joint_row_tilted)
{
    facade *f = make_facade(joint_ahead);
    cam_config c;
    quiet(&c);
    cam_state *cam = cam_new(&c, 1);
    uint8_t px[64 * 48];
    cam_frame fr;
    cam_frame_init(&fr, px, sizeof px);
    ck_assert_int_eq(cam_render_pose(cam, f, CX, CY, cam_heading_rad(FACADE_DIR_YP), 0, 0, &fr), 0);
    double t = M_PI / 4.0, h = c.mount_height_mm;
    double r_near = 24.0 - tan(atan(300.0 / h) - t) * cam->focal_px;
    double r_far = 24.0 - tan(atan(320.0 / h) - t) * cam->focal_px;
    ck_assert_double_eq_tol(r_near, 24.0, 1e-9);
    ck_assert_double_eq_tol(r_far, 22.21, 0.01);
    int gj = grey(cam, 0, c.reflect[FACADE_JOINT]), gg = grey(cam, 0, c.reflect[FACADE_GLASS]);
    for (unsigned j = 0; j < 48; j++)
        for (unsigned i = 0; i < 64; i++) {
            int p = px[j * 64 + i];
            if (j >= r_far && j + 1 <= r_near)
                ck_assert_msg(p == gj, "row %u: %d", j, p);
            else if (j + 1 <= r_far || j >= r_near)
                ck_assert_msg(p == gg, "row %u: %d", j, p);
        }
    /* perspective: the far rows cover more facade than the near ones */
    double near_mm = cam->row_ahead_mm[2 * 47 + 1] - cam->row_ahead_mm[2 * 47];
    double far_mm = cam->row_ahead_mm[1] - cam->row_ahead_mm[0];
    ck_assert_double_lt(near_mm, 0.0); /* rows go down the image = nearer */
    ck_assert_double_gt(fabs(far_mm), 3.0 * fabs(near_mm));
    free(cam);
    facade_free(f);
}
END_TEST

/* Dirt is darker: reflectance x (1 - 0.15 level); dirt 2 gives 0.7 of the
 * clean glass, and the levels are ordered. */
START_TEST(test_dirt_darker)
{
    facade *f = make_facade(half_dirty);
    cam_config c;
    cam_defaults(&c);
    c.gradient = 0.0;
    c.tilt_deg = 0.0;
    c.mount_ahead_mm = 0.0;
    cam_state *cam = cam_new(&c, 2);
    uint8_t px[64 * 48];
    cam_frame fr;
    cam_frame_init(&fr, px, sizeof px);
    ck_assert_int_eq(cam_render_pose(cam, f, CX, CY, cam_heading_rad(FACADE_DIR_YP), 0, 0, &fr), 0);
    double clean = 0.0, dirty = 0.0;
    for (unsigned i = 0; i < 30; i++) clean += col_mean(&fr, i) / 30.0;
    for (unsigned i = 34; i < 64; i++) dirty += col_mean(&fr, i) / 30.0;
    ck_assert_double_lt(dirty, clean);
    ck_assert_double_eq_tol(dirty / clean, 1.0 - 2.0 * c.dirt_darken, 0.01);
    free(cam);
    facade_free(f);

    f = make_facade(dirt_bands); /* x 2300-2400 clean, then dirt 1, 2, 3 per 100 mm */
    quiet(&c);
    c.tilt_deg = 0.0;
    c.mount_ahead_mm = 0.0;
    c.mount_height_mm = 400.0; /* 462 mm wide: all four bands */
    cam = cam_new(&c, 2);
    ck_assert_int_eq(cam_render_pose(cam, f, 2500.0, CY, cam_heading_rad(FACADE_DIR_YP), 0, 0, &fr),
                     0);
    double lvl[4];
    for (int b = 0; b < 4; b++) {
        double centre_l = 2350.0 + 100.0 * b - 2500.0;
        unsigned col = (unsigned)(32.0 + centre_l * cam->focal_px / 400.0);
        lvl[b] = col_mean(&fr, col);
        ck_assert_double_eq(lvl[b], grey(cam, 0, 0.40 * (1.0 - 0.15 * b)));
    }
    ck_assert(lvl[0] > lvl[1] && lvl[1] > lvl[2] && lvl[2] > lvl[3]);
    free(cam);
    facade_free(f);
}
END_TEST

/* Same seed and the same renders: byte-identical frames; another seed:
 * different noise and lighting. */
START_TEST(test_seed)
{
    facade *f = make_facade(joints);
    cam_state *a = cam_new(NULL, 42), *b = cam_new(NULL, 42), *c = cam_new(NULL, 43);
    uint8_t pa[64 * 48], pb[64 * 48], pc[64 * 48];
    cam_frame fa, fb, fc;
    cam_frame_init(&fa, pa, sizeof pa);
    cam_frame_init(&fb, pb, sizeof pb);
    cam_frame_init(&fc, pc, sizeof pc);
    for (int k = 0; k < 5; k++) {
        double x = CX + 37.0 * k;
        uint64_t t = 400000u * (uint64_t)k;
        ck_assert_int_eq(cam_render_pose(a, f, x, CY, 0.5 * k, t, 0, &fa), 0);
        ck_assert_int_eq(cam_render_pose(b, f, x, CY, 0.5 * k, t, 0, &fb), 0);
        ck_assert_int_eq(cam_render_pose(c, f, x, CY, 0.5 * k, t, 0, &fc), 0);
        ck_assert(memcmp(pa, pb, sizeof pa) == 0);
        ck_assert(memcmp(pa, pc, sizeof pa) != 0);
    }
    ck_assert_double_ne(cam_gain(a, 30000000u), cam_gain(c, 30000000u));
    free(a);
    free(b);
    free(c);
    facade_free(f);
}
END_TEST

/* Lighting: the gain moves slowly (its slope is at most base x swing x
 * 2 pi (0.6 / P1 + 0.4 / P2) < base x swing x 2 pi / 30 per second, P1 >=
 * 30 s) and stays within base (1 +- swing); the gradient is linear across
 * the frame: on uniform glass each corner pixel is 255 g 0.4 (1 + grad
 * (gx xn + gy yn)) to within the rounding. */
START_TEST(test_lighting)
{
    cam_config c;
    cam_defaults(&c);
    cam_state *cam = cam_new(&c, 9);
    double lo = 1e9, hi = -1e9, prev = cam_gain(cam, 0);
    for (uint64_t t = 0; t <= 600000000u; t += 100000u) { /* 10 min, every 0.1 s */
        double g = cam_gain(cam, t);
        ck_assert_double_le(g, c.gain_base * (1.0 + c.gain_swing) + 1e-12);
        ck_assert_double_ge(g, c.gain_base * (1.0 - c.gain_swing) - 1e-12);
        ck_assert_double_le(fabs(g - prev), c.gain_base * c.gain_swing * 2.0 * M_PI / 30.0 * 0.1);
        prev = g;
        if (g < lo) lo = g;
        if (g > hi) hi = g;
    }
    ck_assert_double_gt(hi - lo, c.gain_base * c.gain_swing); /* it does change */
    free(cam);

    facade *f = make_facade(glass);
    c.noise_dn = 0.0;
    cam = cam_new(&c, 9);
    uint8_t px[64 * 48];
    cam_frame fr;
    cam_frame_init(&fr, px, sizeof px);
    ck_assert_int_eq(cam_render_pose(cam, f, CX, CY, 0.0, 0, 0, &fr), 0);
    /* pixel (i, j): 255 g 0.4 (1 + grad (gx xn + gy yn)), xn = (i+0.5)/64 - 0.5,
     * yn = 0.5 - (j+0.5)/48 */
    double g = cam_gain(cam, 0);
    for (unsigned j = 0; j < 48; j += 47)
        for (unsigned i = 0; i < 64; i += 63) {
            double xn = (i + 0.5) / 64.0 - 0.5, yn = 0.5 - (j + 0.5) / 48.0;
            double v = 255.0 * 0.4 * g *
                       (1.0 + c.gradient * (cam->grad_dir[0] * xn + cam->grad_dir[1] * yn));
            ck_assert_double_eq_tol(px[j * 64 + i], v, 0.5 + 1e-9);
        }
    int spread = abs((int)px[0] - (int)px[47 * 64 + 63]) + abs((int)px[63] - (int)px[47 * 64]);
    ck_assert_int_gt(spread, 5); /* a visible gradient along one diagonal or the other */
    free(cam);
    facade_free(f);
}
END_TEST

/* Blackout: zeros, offline, and no noise drawn (the next frame is the one
 * a camera without the blackout would give). */
START_TEST(test_blackout)
{
    facade *f = make_facade(glass);
    cam_state *a = cam_new(NULL, 3), *b = cam_new(NULL, 3);
    uint8_t pa[64 * 48], pb[64 * 48];
    cam_frame fa, fb;
    cam_frame_init(&fa, pa, sizeof pa);
    cam_frame_init(&fb, pb, sizeof pb);
    memset(pa, 0x5A, sizeof pa);
    ck_assert_int_eq(cam_render_pose(a, f, CX, CY, 0.0, 1000, 1, &fa), 0);
    ck_assert_int_eq(fa.online, 0);
    ck_assert_uint_eq(fa.t_us, 1000);
    for (size_t i = 0; i < sizeof pa; i++) ck_assert_uint_eq(pa[i], 0);
    ck_assert_int_eq(cam_render_pose(a, f, CX, CY, 0.0, 2000, 0, &fa), 0);
    ck_assert_int_eq(cam_render_pose(b, f, CX, CY, 0.0, 2000, 0, &fb), 0);
    ck_assert_int_eq(fa.online, 1);
    ck_assert(memcmp(pa, pb, sizeof pa) == 0);
    ck_assert_uint_eq(fa.seq, 1);
    ck_assert_uint_eq(fb.seq, 0);

    /* through the physics' hook */
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    phys_state ps;
    phys_start st;
    phys_start_default(&st, &cfg, f);
    st.x_mm = CX;
    st.y_mm = CY;
    char err[256];
    ck_assert_msg(phys_init(&ps, &cfg, f, &st, err, sizeof err) == 0, "%s", err);
    ps.env.camera_blackout = 1;
    ck_assert_int_eq(cam_render(a, &ps, 0.0, &fa), 0);
    ck_assert_int_eq(fa.online, 0);
    ps.env.camera_blackout = 0;
    ps.t_us = 2000;
    /* cam_render = cam_render_pose at the carriage, the physics' time */
    cam_state *c2 = cam_new(NULL, 3), *d2 = cam_new(NULL, 3);
    ck_assert_int_eq(cam_render(c2, &ps, 0.7, &fa), 0);
    ck_assert_int_eq(cam_render_pose(d2, f, CX, CY, 0.7, 2000, 0, &fb), 0);
    ck_assert(memcmp(pa, pb, sizeof pa) == 0);
    ck_assert_uint_eq(fa.t_us, 2000);
    phys_free(&ps);
    free(a);
    free(b);
    free(c2);
    free(d2);
    facade_free(f);
}
END_TEST

/* Past the facade's top edge the camera sees the sky (void, bright); a
 * camera tilted so far that rays miss the facade plane sees sky too. */
START_TEST(test_edge_and_sky)
{
    facade *f = make_facade(glass); /* 5 m high */
    cam_config c;
    quiet(&c);
    cam_state *cam = cam_new(&c, 1);
    uint8_t px[64 * 48];
    cam_frame fr;
    cam_frame_init(&fr, px, sizeof px);
    /* lens at y 4350 + 450 = 4800; rows more than 200 mm ahead are beyond the edge */
    ck_assert_int_eq(cam_render_pose(cam, f, CX, 4350.0, cam_heading_rad(FACADE_DIR_YP), 0, 0, &fr),
                     0);
    int gs = grey(cam, 0, c.reflect[FACADE_VOID]), gg = grey(cam, 0, c.reflect[FACADE_GLASS]);
    ck_assert_int_eq(px[0], gs);            /* top row: far, sky */
    ck_assert_int_eq(px[47 * 64 + 10], gg); /* bottom row: near, glass */
    free(cam);
    c.tilt_deg = 85.0; /* + 23.4 deg half vertical field: the top rows look above the plane */
    cam = cam_new(&c, 1);
    ck_assert_int_ne(cam->row_sky[0], 0);
    ck_assert_int_eq(cam->row_sky[2 * 48 - 1], 0);
    ck_assert_int_eq(cam_render_pose(cam, f, CX, 1000.0, cam_heading_rad(FACADE_DIR_YP), 0, 0, &fr),
                     0);
    ck_assert_int_eq(px[0], gs);
    free(cam);
    facade_free(f);
}
END_TEST

/* PGM: the header is exact, the file is header + W x H bytes, it parses
 * back to the same pixels, and no temporary file is left behind. */
START_TEST(test_pgm)
{
    facade *f = make_facade(joints);
    cam_state *cam = cam_new(NULL, 5);
    uint8_t px[64 * 48];
    cam_frame fr;
    cam_frame_init(&fr, px, sizeof px);
    ck_assert_int_eq(cam_render_pose(cam, f, CX, CY, 0.0, 12345678u, 0, &fr), 0);
    char dir[] = "/tmp/check_camera_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256], err[512];
    snprintf(path, sizeof path, "%s/frame.pgm", dir);
    ck_assert_msg(cam_write_pgm(&fr, path, err, sizeof err) == 0, "%s", err);
    static const char hdr[] = "P5\n# crossclimb camera t_us=12345678 frame=0 online=1\n64 48\n255\n";
    char h2[CAM_PGM_HEADER_MAX];
    ck_assert_int_eq(cam_pgm_header(&fr, h2, sizeof h2), (int)strlen(hdr));
    ck_assert_str_eq(h2, hdr);
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    uint8_t buf[8192];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    ck_assert_uint_eq(n, strlen(hdr) + sizeof px);
    ck_assert(memcmp(buf, hdr, strlen(hdr)) == 0);
    /* parse it back as a PGM reader would: magic, comment, size, maxval */
    unsigned w = 0, h = 0, maxv = 0;
    unsigned long long t = 0;
    int used = 0;
    ck_assert_int_eq(sscanf((const char *)buf, "P5\n# crossclimb camera t_us=%llu frame=%*u online=%*d\n%u %u\n%u%n",
                            &t, &w, &h, &maxv, &used),
                     4);
    ck_assert_uint_eq(t, 12345678u);
    ck_assert_uint_eq(w, 64);
    ck_assert_uint_eq(h, 48);
    ck_assert_uint_eq(maxv, 255);
    ck_assert_int_eq(buf[used], '\n');
    ck_assert(memcmp(buf + used + 1, px, sizeof px) == 0);
    /* overwrite atomically: a second frame replaces the first */
    ck_assert_int_eq(cam_render_pose(cam, f, CX, CY, 0.0, 0, 1, &fr), 0);
    ck_assert_msg(cam_write_pgm(&fr, path, err, sizeof err) == 0, "%s", err);
    fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    static const char hdr2[] = "P5\n# crossclimb camera t_us=0 frame=1 online=0\n64 48\n255\n";
    ck_assert_uint_eq(n, strlen(hdr2) + sizeof px);
    ck_assert(memcmp(buf, hdr2, strlen(hdr2)) == 0);
    /* only frame.pgm in the directory */
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') {
            ck_assert_str_eq(e->d_name, "frame.pgm");
            files++;
        }
    closedir(d);
    ck_assert_int_eq(files, 1);
    /* an unwritable place: an error naming the path, nothing written */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/missing/frame.pgm", dir);
    ck_assert_int_eq(cam_write_pgm(&fr, bad, err, sizeof err), CAM_EIO);
    ck_assert_msg(strncmp(err, bad, strlen(bad)) == 0 && strstr(err, "nothing written"), "%s", err);
    ck_assert_int_eq(cam_write_pgm(&fr, "", err, sizeof err), CAM_EARG);
    unlink(path);
    rmdir(dir);
    free(cam);
    facade_free(f);
}
END_TEST

/* The camera's noise is the seeded RNG's stream (robotsim_rng_next,
 * inlined): twelve 16-bit parts of three draws, Irwin-Hall; mean 0,
 * variance 1, bounded by 6. */
START_TEST(test_noise_stream)
{
    robotsim_rng a, b;
    robotsim_rng_seed(&a, 77, 4);
    robotsim_rng_seed(&b, 77, 4);
    double s = 0.0, s2 = 0.0, mx = 0.0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double g = cam_noise_gauss(&a);
        uint64_t sum = 0;
        for (int k = 0; k < 3; k++) {
            uint64_t x = robotsim_rng_next(&b);
            for (int q = 0; q < 4; q++) sum += (x >> (16 * q)) & 0xFFFFu;
        }
        ck_assert_double_eq(g, ((double)sum + 6.0) / 65536.0 - 6.0);
        s += g;
        s2 += g * g;
        if (fabs(g) > mx) mx = fabs(g);
    }
    ck_assert_double_eq_tol(s / n, 0.0, 0.01);
    ck_assert_double_eq_tol(s2 / n, 1.0, 0.02);
    ck_assert_double_lt(mx, 6.0);
}
END_TEST

static Suite *camera_suite(void)
{
    Suite *s = suite_create("camera");
    TCase *tc = tcase_create("camera");
    tcase_add_test(tc, test_config);
    tcase_add_test(tc, test_uniform_glass);
    tcase_add_test(tc, test_joint_column);
    tcase_add_test(tc, test_joint_row_tilted);
    tcase_add_test(tc, test_dirt_darker);
    tcase_add_test(tc, test_seed);
    tcase_add_test(tc, test_lighting);
    tcase_add_test(tc, test_blackout);
    tcase_add_test(tc, test_edge_and_sky);
    tcase_add_test(tc, test_pgm);
    tcase_add_test(tc, test_noise_stream);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(camera_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
