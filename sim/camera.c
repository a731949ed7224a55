/*
 * camera.c — render the facade ahead of the robot as a small grayscale
 * frame; dump frames as binary PGM.  The model is written down in
 * camera.h.
 *
 * The ray geometry depends only on the configuration, so cam_init tabulates
 * it per sub-sample row (distance ahead, lateral scale) and per sub-sample
 * column (u' = x / f); a render is then two multiply-adds and one cell
 * lookup per sample point, plus three RNG draws per pixel for the noise.
 */
#include "camera.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PI 3.14159265358979323846
#define RNG_STREAM_LIGHT 3 /* robotsim uses 1 (gusts) and 2 (sensors) */
#define RNG_STREAM_NOISE 4

const char *cam_strerror(int code)
{
    switch (code) {
    case CAM_OK: return "ok";
    case CAM_EARG: return "invalid camera argument";
    case CAM_EIO: return "cannot write the camera frame";
    default: return "unknown camera error";
    }
}

void cam_defaults(cam_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->width_px = 64;
    cfg->height_px = 48;
    cfg->hfov_deg = 60.0;
    cfg->mount_ahead_mm = 450.0; /* just beyond the leading feet (400 mm from the centre) */
    cfg->mount_lateral_mm = 0.0;
    cfg->mount_height_mm = 300.0;
    cfg->tilt_deg = 45.0; /* sees 570..1210 mm ahead of the carriage: the next footholds */
    cfg->supersample = 2;
    cfg->gain_base = 0.8;
    cfg->gain_swing = 0.15;
    cfg->gain_period_s = 60.0;
    cfg->gradient = 0.2;
    cfg->noise_dn = 2.0;
    cfg->dirt_darken = 0.15;
    cfg->reflect[FACADE_GLASS] = 0.40;
    cfg->reflect[FACADE_TILE] = 0.70;
    cfg->reflect[FACADE_CONCRETE] = 0.55;
    cfg->reflect[FACADE_JOINT] = 0.12; /* a joint is a dark line */
    cfg->reflect[FACADE_MULLION] = 0.80;
    cfg->reflect[FACADE_OBSTACLE] = 0.25;
    cfg->reflect[FACADE_VOID] = 0.95; /* past the edge the camera sees the sky */
}

void cam_frame_init(cam_frame *fr, uint8_t *buf, size_t cap)
{
    memset(fr, 0, sizeof *fr);
    fr->pixels = buf;
    fr->cap = buf ? cap : 0;
}

static int cfg_fail(char *err, size_t errlen, const char *what, double v, const char *range)
{
    if (err && errlen) snprintf(err, errlen, "camera: %s %g out of range %s", what, v, range);
    return CAM_EARG;
}

/* 1 when lo <= v <= hi (false for NaN). */
static int in_range(double v, double lo, double hi)
{
    return v >= lo && v <= hi;
}

static int check_config(const cam_config *c, char *err, size_t errlen)
{
    if (c->width_px < 1 || c->width_px > CAM_MAX_W)
        return cfg_fail(err, errlen, "width_px", c->width_px, "1..256");
    if (c->height_px < 1 || c->height_px > CAM_MAX_H)
        return cfg_fail(err, errlen, "height_px", c->height_px, "1..256");
    if (!in_range(c->hfov_deg, 1.0, 170.0))
        return cfg_fail(err, errlen, "hfov_deg", c->hfov_deg, "1..170");
    if (!in_range(c->mount_ahead_mm, -10000.0, 10000.0))
        return cfg_fail(err, errlen, "mount_ahead_mm", c->mount_ahead_mm, "-10000..10000");
    if (!in_range(c->mount_lateral_mm, -10000.0, 10000.0))
        return cfg_fail(err, errlen, "mount_lateral_mm", c->mount_lateral_mm, "-10000..10000");
    if (!in_range(c->mount_height_mm, 1.0, 10000.0))
        return cfg_fail(err, errlen, "mount_height_mm", c->mount_height_mm, "1..10000");
    if (!in_range(c->tilt_deg, 0.0, 85.0))
        return cfg_fail(err, errlen, "tilt_deg", c->tilt_deg, "0..85");
    if (c->supersample < 1 || c->supersample > CAM_MAX_SUPERSAMPLE)
        return cfg_fail(err, errlen, "supersample", c->supersample, "1..4");
    if (!in_range(c->gain_base, 0.01, 4.0))
        return cfg_fail(err, errlen, "gain_base", c->gain_base, "0.01..4");
    if (!in_range(c->gain_swing, 0.0, 0.9))
        return cfg_fail(err, errlen, "gain_swing", c->gain_swing, "0..0.9");
    if (!in_range(c->gain_period_s, 0.1, 1e6))
        return cfg_fail(err, errlen, "gain_period_s", c->gain_period_s, "0.1..1e6");
    /* |gx xn + gy yn| <= 0.71: a gradient up to 1 keeps the light positive */
    if (!in_range(c->gradient, 0.0, 1.0))
        return cfg_fail(err, errlen, "gradient", c->gradient, "0..1");
    if (!in_range(c->noise_dn, 0.0, 64.0))
        return cfg_fail(err, errlen, "noise_dn", c->noise_dn, "0..64");
    if (!in_range(c->dirt_darken, 0.0, 1.0 / FACADE_DIRT_MAX))
        return cfg_fail(err, errlen, "dirt_darken", c->dirt_darken, "0..0.333");
    for (int s = 0; s < FACADE_SURF_COUNT; s++) {
        if (!in_range(c->reflect[s], 0.0, 1.0)) {
            char what[48];
            snprintf(what, sizeof what, "reflect[%s]", facade_surface_name((facade_surface)s));
            return cfg_fail(err, errlen, what, c->reflect[s], "0..1");
        }
    }
    return 0;
}

int cam_init(cam_state *cam, const cam_config *cfg, uint64_t seed, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!cam) return CAM_EARG;
    cam_config c;
    if (cfg)
        c = *cfg;
    else
        cam_defaults(&c);
    int rc = check_config(&c, err, errlen);
    if (rc) return rc;
    memset(cam, 0, sizeof *cam);
    cam->cfg = c;
    cam->seed = seed;
    unsigned s = c.supersample, w = c.width_px, h = c.height_px;
    cam->focal_px = 0.5 * w / tan(0.5 * c.hfov_deg * PI / 180.0);

    /* Rays: in (right, ahead, out-of-facade) coordinates the
     * ray of image point (u', v') is (u', v' cos t + sin t, v' sin t - cos t)
     * from the lens at height h; it meets the facade after
     * s = h / (cos t - v' sin t), at lateral s u' and ahead s (v' cos t + sin t). */
    double t = c.tilt_deg * PI / 180.0, ct = cos(t), st = sin(t);
    for (unsigned jj = 0; jj < h * s; jj++) {
        double v = (0.5 * h - (jj + 0.5) / s) / cam->focal_px; /* up = positive */
        double den = ct - v * st;
        if (den <= 1e-9) {
            cam->row_sky[jj] = 1;
            continue;
        }
        cam->row_scale_mm[jj] = c.mount_height_mm / den;
        cam->row_ahead_mm[jj] = cam->row_scale_mm[jj] * (v * ct + st);
    }
    for (unsigned ii = 0; ii < w * s; ii++)
        cam->col_u[ii] = ((ii + 0.5) / s - 0.5 * w) / cam->focal_px;

    for (unsigned b = 0; b < 64; b++) {
        unsigned surf = b & 0x0Fu, dirt = (b >> 4) & 0x03u;
        double r = surf < FACADE_SURF_COUNT ? c.reflect[surf] : c.reflect[FACADE_VOID];
        cam->refl_lut[b] = (float)(r * (1.0 - c.dirt_darken * dirt));
    }

    /* Lighting: two slow sinusoids for the gain, one direction for the
     * gradient, all from the seed's light stream. */
    robotsim_rng lr;
    robotsim_rng_seed(&lr, seed, RNG_STREAM_LIGHT);
    cam->light_p_s[0] = c.gain_period_s * (0.5 + robotsim_rng_uniform(&lr));
    cam->light_p_s[1] = c.gain_period_s * (2.0 + 2.0 * robotsim_rng_uniform(&lr));
    cam->light_phase[0] = 2.0 * PI * robotsim_rng_uniform(&lr);
    cam->light_phase[1] = 2.0 * PI * robotsim_rng_uniform(&lr);
    double th = 2.0 * PI * robotsim_rng_uniform(&lr);
    cam->grad_dir[0] = cos(th);
    cam->grad_dir[1] = sin(th);
    robotsim_rng_seed(&cam->rng_noise, seed, RNG_STREAM_NOISE);
    return 0;
}

double cam_heading_rad(facade_dir dir)
{
    switch (dir) {
    case FACADE_DIR_XP: return 0.0;
    case FACADE_DIR_XM: return PI;
    case FACADE_DIR_YP: return 0.5 * PI;
    case FACADE_DIR_YM: return -0.5 * PI;
    default: return 0.0;
    }
}

double cam_gain(const cam_state *cam, uint64_t t_us)
{
    double ts = (double)t_us * 1e-6;
    double w = 0.6 * sin(2.0 * PI * ts / cam->light_p_s[0] + cam->light_phase[0]) +
               0.4 * sin(2.0 * PI * ts / cam->light_p_s[1] + cam->light_phase[1]);
    return cam->cfg.gain_base * (1.0 + cam->cfg.gain_swing * w);
}

/* xoshiro256** exactly as robotsim_rng_next (the same stream, bit for bit:
 * check_camera tests it), inlined here because the noise draws three per
 * pixel and the call would cost more than the generator. */
static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(robotsim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl64(s[1] * 5u, 7) * 9u;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return out;
}

/* Irwin-Hall: twelve 16-bit uniforms (k + 0.5) / 65536 from three 64-bit
 * draws, minus 6: mean 0, variance 1 (to 1e-10), |value| < 6; no libm. */
static inline double gauss12(robotsim_rng *r)
{
    int64_t sum = 0; /* <= 12 x 65535: exact as a double */
    for (int k = 0; k < 3; k++) {
        uint64_t x = rng_next(r);
        sum += (int64_t)((x & 0xFFFFu) + ((x >> 16) & 0xFFFFu) + ((x >> 32) & 0xFFFFu) + (x >> 48));
    }
    return ((double)sum + 6.0) * (1.0 / 65536.0) - 6.0;
}

double cam_noise_gauss(robotsim_rng *r)
{
    return gauss12(r);
}

/* The cell byte under (x, y) mm, as facade_cell_at (VOID outside, NaN too),
 * inlined: this is the inner loop. */
static inline uint8_t cell_at(const facade *f, double inv_cell, double cols, double rows, double x,
                              double y)
{
    double c = x * inv_cell, r = y * inv_cell;
    if (!(c >= 0.0 && r >= 0.0 && c < cols && r < rows)) return FACADE_CELL(FACADE_VOID, 0);
    /* signed conversions: one instruction each, where size_t needs several */
    return f->cells[(int64_t)r * (int64_t)f->cols + (int64_t)c];
}

/* An axis-aligned heading gives exact 0 / +-1 components, so the image
 * axes line up with the facade grid without rounding drift. */
static double snap(double v)
{
    return fabs(v) < 1e-12 ? 0.0 : v;
}

int cam_render_pose(cam_state *cam, const facade *fac, double x_mm, double y_mm,
                    double heading_rad, uint64_t t_us, int blackout, cam_frame *fr)
{
    if (!cam || !fac || !fr || !fr->pixels) return CAM_EARG;
    const cam_config *c = &cam->cfg;
    unsigned w = c->width_px, h = c->height_px, s = c->supersample;
    if (fr->cap < (size_t)w * h) return CAM_EARG;
    fr->width = w;
    fr->height = h;
    fr->t_us = t_us;
    fr->seq = cam->frames++;
    if (blackout) {
        memset(fr->pixels, 0, (size_t)w * h);
        fr->online = 0;
        return 0;
    }
    fr->online = 1;

    double a[2] = {snap(cos(heading_rad)), snap(sin(heading_rad))}; /* ahead */
    double r[2] = {a[1], -a[0]};                                     /* right */
    double mx = x_mm + a[0] * c->mount_ahead_mm + r[0] * c->mount_lateral_mm;
    double my = y_mm + a[1] * c->mount_ahead_mm + r[1] * c->mount_lateral_mm;
    /* the division in facade_cell_at, as a multiplication: identical cells
     * except exactly on a cell boundary, where either side is right */
    double inv_cell = 1.0 / (double)fac->cell_mm, cols = (double)fac->cols, rows = (double)fac->rows;
    double gain = cam_gain(cam, t_us);
    double grad = c->gradient, norm = 1.0 / (double)(s * s);
    float sky = cam->refl_lut[FACADE_CELL(FACADE_VOID, 0)];
    double col_light[CAM_MAX_W];
    for (unsigned i = 0; i < w; i++)
        col_light[i] = gain * grad * cam->grad_dir[0] * ((i + 0.5) / w - 0.5);

    for (unsigned j = 0; j < h; j++) {
        float acc[CAM_MAX_W];
        memset(acc, 0, sizeof(float) * w);
        for (unsigned k = 0; k < s; k++) {
            unsigned jj = j * s + k;
            if (cam->row_sky[jj]) {
                for (unsigned i = 0; i < w; i++) acc[i] += sky * (float)s;
                continue;
            }
            double px = mx + a[0] * cam->row_ahead_mm[jj], py = my + a[1] * cam->row_ahead_mm[jj];
            double lx = r[0] * cam->row_scale_mm[jj], ly = r[1] * cam->row_scale_mm[jj];
            const double *u = cam->col_u;
            for (unsigned i = 0; i < w; i++) {
                float sum = 0.0f;
                for (unsigned kk = 0; kk < s; kk++, u++)
                    sum += cam->refl_lut[cell_at(fac, inv_cell, cols, rows, px + lx * *u,
                                                 py + ly * *u) &
                                         0x3Fu];
                acc[i] += sum;
            }
        }
        double row_light = gain * (1.0 + grad * cam->grad_dir[1] * (0.5 - (j + 0.5) / h));
        uint8_t *out = fr->pixels + (size_t)j * w;
        for (unsigned i = 0; i < w; i++) {
            double v = 255.0 * (row_light + col_light[i]) * (double)acc[i] * norm;
            if (c->noise_dn > 0.0) v += c->noise_dn * gauss12(&cam->rng_noise);
            /* round half up, clamped: v + 0.5 > 0 here, so truncation is floor */
            out[i] = !(v > -0.5) ? 0 : v >= 254.5 ? 255 : (uint8_t)(int)(v + 0.5);
        }
    }
    return 0;
}

int cam_render(cam_state *cam, const phys_state *ps, double heading_rad, cam_frame *fr)
{
    if (!ps) return CAM_EARG;
    double car[2];
    phys_carriage_m(ps, car);
    return cam_render_pose(cam, ps->fac, car[0] * 1e3, car[1] * 1e3, heading_rad, ps->t_us,
                           ps->env.camera_blackout, fr);
}

int cam_pgm_header(const cam_frame *fr, char *buf, size_t cap)
{
    if (!fr || !buf || cap == 0) return CAM_EARG;
    int n = snprintf(buf, cap, "P5\n# crossclimb camera t_us=%llu frame=%llu online=%d\n%u %u\n255\n",
                     (unsigned long long)fr->t_us, (unsigned long long)fr->seq, fr->online ? 1 : 0,
                     fr->width, fr->height);
    if (n < 0 || (size_t)n >= cap) return CAM_EARG;
    return n;
}

/* write() all of buf, retrying on EINTR and short writes; 0 or errno. */
static int write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int cam_write_pgm(const cam_frame *fr, const char *path, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!fr || !fr->pixels || !path || !path[0] || fr->width == 0 || fr->height == 0 ||
        fr->cap < (size_t)fr->width * fr->height) {
        if (err && errlen) snprintf(err, errlen, "camera: no frame or no path to write");
        return CAM_EARG;
    }
    char hdr[CAM_PGM_HEADER_MAX], tmp[PATH_MAX];
    int hl = cam_pgm_header(fr, hdr, sizeof hdr);
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    if (hl < 0 || n < 0 || (size_t)n >= sizeof tmp) {
        if (err && errlen) snprintf(err, errlen, "%s: path too long", path);
        return CAM_EARG;
    }
    int rc = CAM_EIO, e = 0;
    const char *what = NULL;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        e = errno;
        what = "create a temporary file beside it";
        goto out;
    }
    if ((e = write_all(fd, hdr, (size_t)hl)) != 0 ||
        (e = write_all(fd, fr->pixels, (size_t)fr->width * fr->height)) != 0)
        what = "write";
    else if (fchmod(fd, 0644) != 0)
        e = errno, what = "chmod";
    if (close(fd) != 0 && !what) e = errno, what = "close";
    if (!what && rename(tmp, path) != 0) e = errno, what = "rename";
    if (what) {
        unlink(tmp);
        goto out;
    }
    rc = 0;
out:
    if (rc && err && errlen)
        snprintf(err, errlen, "%s: cannot %s: %s (nothing written)", path, what, strerror(e));
    return rc;
}
