/*
 * camera.h — the simulated camera: a small grayscale view of the facade
 * ahead of the robot, rendered from the facade map (SPEC §7, §8).
 *
 * Geometry: a pinhole camera on the carriage (the centre of the cross),
 * mount_ahead_mm in front of it along the travel direction and
 * mount_lateral_mm to its right, mount_height_mm (h) off the facade, its
 * optical axis tilted tilt_deg (t) from the facade normal towards "ahead".
 * "Ahead" is the travel direction the caller gives as a heading in the
 * facade plane (0 = +X, pi/2 = +Y; cam_heading_rad() for the four axes).
 * Image row 0 is the far edge (top of the picture), column 0 the left;
 * "right" is the travel direction turned -90 degrees, as a person outside
 * the building looking at the facade sees it (travelling +Y, image right
 * is facade +X).  Square pixels, focal length f = (W/2) / tan(hfov/2)
 * pixels; the image point u' = (x - W/2) / f, v' = (H/2 - y) / f (x, y in
 * pixels from the top-left corner) looks along (u', v' cos t + sin t,
 * v' sin t - cos t) in (right, ahead, out of the facade) coordinates and
 * meets the facade at
 *     s = h / (cos t - v' sin t),  lateral = s u',  ahead = s (v' cos t + sin t)
 * from the point under the lens (tilt 0: lateral = h u', ahead = h v').  A
 * ray that misses the facade plane (s <= 0: tilt + half the vertical field
 * of view >= 90 degrees) sees the sky, as does a ray past the facade's edge
 * (VOID).
 *
 * Brightness = 255 x light(t, pixel) x reflectance(surface, dirt) + noise,
 * rounded and clamped to 0..255:
 *   reflectance  per surface (config, defaults below), x (1 - dirt_darken x
 *                level) for dirt levels 1..3; supersample^2 points averaged
 *                per pixel;
 *   light        gain(t) x (1 + gradient x (gx * xn + gy * yn)), xn, yn the
 *                pixel centre in [-0.5, 0.5] (right, up), (gx, gy) a unit
 *                direction drawn from the seed; gain(t) = gain_base x (1 +
 *                gain_swing x (0.6 sin(2 pi t / P1 + f1) + 0.4 sin(2 pi t /
 *                P2 + f2))), periods and phases drawn from the seed: a slow
 *                change that depends on virtual time only;
 *   noise        Gaussian, standard deviation noise_dn grey levels: the
 *                Irwin-Hall sum of 12 16-bit uniforms (three 64-bit draws
 *                of xoshiro256**) minus 6, so |noise| < 6 noise_dn exactly.
 * The lighting parameters and the noise come from two robotsim_rng streams
 * (3 and 4) of the seed: same seed, same sequence of renders -> the same
 * frames, byte for byte.
 *
 * A camera blackout (the fault hook env.camera_blackout of the physics, or
 * the blackout argument of cam_render_pose) gives an all-zero frame with
 * online = 0; it draws no noise.
 *
 * Frames live in a caller-owned buffer; rendering never allocates.  The
 * camera state holds per-row and per-column ray tables (about 26 KiB).
 *
 * Errors: 0 or a negative CAM_E* code; cam_strerror() gives the text.
 */
#ifndef CROSSCLIMB_CAMERA_H
#define CROSSCLIMB_CAMERA_H

#include <stddef.h>
#include <stdint.h>

#include "../robot/facade.h"
#include "physics.h"
#include "robotsim.h"

enum {
    CAM_OK = 0,
    CAM_EARG = -1, /* bad configuration, NULL, or a frame buffer too small */
    CAM_EIO = -2,  /* a PGM file could not be written */
};

/** cam_strerror: text for a CAM_E* code (never NULL). */
const char *cam_strerror(int code);

#define CAM_MAX_W 256
#define CAM_MAX_H 256
#define CAM_MAX_SUPERSAMPLE 4
#define CAM_PGM_HEADER_MAX 128 /* bytes; cam_pgm_header never writes more */

/* The camera: size, mounting (mm, degrees), exposure, lighting, noise. */
typedef struct {
    unsigned width_px, height_px; /* 64 x 48 (perception wants multiples of 8, <= 128 x 96) */
    double hfov_deg;              /* horizontal field of view, 60; square pixels */
    double mount_ahead_mm;        /* lens ahead of the carriage along the travel direction, 450 */
    double mount_lateral_mm;      /* to the right of it, 0 */
    double mount_height_mm;       /* off the facade, 300 */
    double tilt_deg;              /* from the facade normal towards ahead, 45 (0..85) */
    unsigned supersample;         /* sample points per pixel side, 2 (1..4) */
    double gain_base;             /* grey level / 255 of reflectance 1 under mean light, 0.8 */
    double gain_swing;            /* relative amplitude of the slow gain change, 0.15 */
    double gain_period_s;         /* its time scale: P1 = (0.5..1.5) x, P2 = (2..4) x; 60 s */
    double gradient;              /* relative brightness change across the frame, 0.2 */
    double noise_dn;              /* sensor noise, standard deviation in grey levels, 2.0 */
    double dirt_darken;           /* reflectance lost per dirt level, 0.15 */
    double reflect[FACADE_SURF_COUNT]; /* glass 0.40, tile 0.70, concrete 0.55, joint 0.12,
                                          mullion 0.80, obstacle 0.25, void (sky) 0.95 */
} cam_config;

/** cam_defaults: the default camera (values in the comments above). */
void cam_defaults(cam_config *cfg);

/* The camera's state: configuration, ray tables, lighting, noise stream. */
typedef struct {
    cam_config cfg;
    double focal_px;              /* pinhole focal length, pixels */
    double light_p_s[2];          /* gain periods P1, P2 */
    double light_phase[2];        /* their phases, rad */
    double grad_dir[2];           /* gradient direction (gx, gy) in the image */
    float refl_lut[64];           /* reflectance of a cell byte (surface | dirt << 4) */
    /* per sub-sample row (height x supersample): distance ahead of the lens
     * and the lateral scale (mm per unit of u'); sky = 1 where the ray
     * misses the facade */
    double row_ahead_mm[CAM_MAX_H * CAM_MAX_SUPERSAMPLE];
    double row_scale_mm[CAM_MAX_H * CAM_MAX_SUPERSAMPLE];
    uint8_t row_sky[CAM_MAX_H * CAM_MAX_SUPERSAMPLE];
    double col_u[CAM_MAX_W * CAM_MAX_SUPERSAMPLE]; /* per sub-sample column: u' = x / f */
    robotsim_rng rng_noise;
    uint64_t seed;
    uint64_t frames;              /* renders so far (blackout frames included) */
} cam_state;

/* A frame in the caller's buffer. */
typedef struct {
    uint8_t *pixels;    /* width x height bytes, row-major, row 0 = far edge */
    size_t cap;         /* bytes available at pixels */
    unsigned width, height;
    int online;         /* 0: blackout (every pixel 0) */
    uint64_t t_us;      /* virtual time of the frame */
    uint64_t seq;       /* frame number, 0 = the first render after cam_init */
} cam_frame;

/** cam_frame_init: a frame using buf[0..cap) (the caller's; never freed here). */
void cam_frame_init(cam_frame *fr, uint8_t *buf, size_t cap);

/**
 * cam_init: check cfg (NULL = the defaults), build the ray tables, draw
 * the lighting from seed.  Returns 0 or CAM_EARG with the reason in err
 * ("camera: tilt_deg 95 out of range 0..85").
 */
int cam_init(cam_state *cam, const cam_config *cfg, uint64_t seed, char *err, size_t errlen);

/**
 * cam_noise_gauss: the camera's Gaussian draw from r (the Irwin-Hall sum
 * of the twelve 16-bit parts of three robotsim_rng_next values, minus 6):
 * mean 0, variance 1, |value| < 6.  Exposed for tests and tools.
 */
double cam_noise_gauss(robotsim_rng *r);

/** cam_heading_rad: the heading of a facade direction (+X 0, -X pi, +Y pi/2, -Y -pi/2). */
double cam_heading_rad(facade_dir dir);

/** cam_gain: the global light gain at virtual time t_us (before the gradient). */
double cam_gain(const cam_state *cam, uint64_t t_us);

/**
 * cam_render_pose: render the view of a carriage at (x_mm, y_mm) on fac
 * travelling along heading_rad, at virtual time t_us, into fr (its cap
 * must hold width x height bytes).  blackout != 0: zeros, online = 0.
 * No heap.  Returns 0 or CAM_EARG (NULL, buffer too small).
 */
int cam_render_pose(cam_state *cam, const facade *fac, double x_mm, double y_mm,
                    double heading_rad, uint64_t t_us, int blackout, cam_frame *fr);

/**
 * cam_render: cam_render_pose for the robot in ps: its carriage, its time
 * ps->t_us and its blackout fault ps->env.camera_blackout.
 */
int cam_render(cam_state *cam, const phys_state *ps, double heading_rad, cam_frame *fr);

/**
 * cam_pgm_header: the binary PGM (P5) header of fr into buf (at most
 * CAM_PGM_HEADER_MAX bytes, NUL-terminated):
 *   "P5\n# crossclimb camera t_us=<t> frame=<seq> online=<0|1>\n<w> <h>\n255\n"
 * Returns its length (without the NUL) or CAM_EARG.
 */
int cam_pgm_header(const cam_frame *fr, char *buf, size_t cap);

/**
 * cam_write_pgm: write fr as a binary PGM file, atomically for readers: a
 * temporary file beside path, then rename (no fsync: frames are
 * diagnostics; a crash may lose the last one but never leaves half a
 * file under path).  No heap.  Returns 0, CAM_EARG or CAM_EIO (message in
 * err naming the path; nothing is left behind).
 */
int cam_write_pgm(const cam_frame *fr, const char *path, char *err, size_t errlen);

#endif
