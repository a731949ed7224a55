/*
 * bench_camera.c — what a simulated camera frame costs: rendering
 * (geometry, facade lookups, lighting, noise, quantisation) for several
 * sizes and supersampling, and dumping a frame as PGM (temporary file and
 * rename).  The carriage walks up and across the default facade while the
 * heading turns every 500 frames, so every row of the ray tables and
 * every kind of surface is used.  Prints microseconds of CPU per frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "robot/facade.h"
#include "sim/camera.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const facade_dir headings[4] = {FACADE_DIR_YP, FACADE_DIR_XP, FACADE_DIR_YM, FACADE_DIR_XM};

/* Render n frames with cfg; returns us of CPU per frame (and a checksum so
 * nothing is optimised away). */
static double bench_render(const facade *f, const cam_config *cfg, int n, int blackout,
                           unsigned long *sum)
{
    cam_state *cam = malloc(sizeof *cam);
    static uint8_t px[CAM_MAX_W * CAM_MAX_H];
    char err[256];
    if (!cam || cam_init(cam, cfg, 1, err, sizeof err) != 0) {
        fprintf(stderr, "bench_camera: %s\n", err);
        exit(1);
    }
    cam_frame fr;
    cam_frame_init(&fr, px, sizeof px);
    double w = facade_width_mm(f), h = facade_height_mm(f);
    double t0 = cpu_s();
    for (int k = 0; k < n; k++) {
        double x = 800.0 + (double)((k * 7) % 6000) * (w - 1600.0) / 6000.0;
        double y = 800.0 + (double)((k * 3) % 5000) * (h - 1600.0) / 5000.0;
        double hd = cam_heading_rad(headings[(k / 500) % 4]);
        cam_render_pose(cam, f, x, y, hd, (uint64_t)k * 100000u, blackout, &fr);
        *sum += px[(size_t)k % ((size_t)fr.width * fr.height)];
    }
    double us = (cpu_s() - t0) / n * 1e6;
    free(cam);
    return us;
}

int main(void)
{
    const char *src = getenv("CROSSCLIMB_SRC");
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/sim/facades/default.txt", src && *src ? src : ".");
    facade *f = NULL;
    if (facade_load_file(path, &f, err, sizeof err) != 0) {
        fprintf(stderr, "bench_camera: %s\n", err);
        return 1;
    }
    unsigned long sum = 0;
    struct {
        const char *label;
        unsigned w, h, ss;
        double noise;
        int blackout;
    } runs[] = {
        {"64x48, 2x2 supersampling (default)", 64, 48, 2, 2.0, 0},
        {"64x48, 1 sample per pixel", 64, 48, 1, 2.0, 0},
        {"64x48, 2x2, no noise", 64, 48, 2, 0.0, 0},
        {"128x96, 2x2 (largest perception frame)", 128, 96, 2, 2.0, 0},
        {"64x48, blackout", 64, 48, 2, 2.0, 1},
    };
    int n = 20000;
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        cam_config c;
        cam_defaults(&c);
        c.width_px = runs[i].w;
        c.height_px = runs[i].h;
        c.supersample = runs[i].ss;
        c.noise_dn = runs[i].noise;
        double us = bench_render(f, &c, n, runs[i].blackout, &sum);
        printf("camera render %-40s %8.2f us CPU per frame  (%d frames)\n", runs[i].label, us, n);
    }

    /* PGM dumps into a temporary directory, one file overwritten */
    char dir[] = "/tmp/bench_camera_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/frame.pgm", dir);
    cam_state *cam = malloc(sizeof *cam);
    static uint8_t px[64 * 48];
    if (!cam || cam_init(cam, NULL, 1, err, sizeof err) != 0) return 1;
    cam_frame fr;
    cam_frame_init(&fr, px, sizeof px);
    cam_render_pose(cam, f, 3900.0, 3100.0, 0.0, 0, 0, &fr);
    int nw = 2000;
    double t0 = cpu_s();
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    for (int k = 0; k < nw; k++) {
        fr.t_us = (uint64_t)k;
        if (cam_write_pgm(&fr, path, err, sizeof err) != 0) {
            fprintf(stderr, "bench_camera: %s\n", err);
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &w1);
    double cpu_us = (cpu_s() - t0) / nw * 1e6;
    double wall_us = ((double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) * 1e-9) /
                     nw * 1e6;
    printf("camera PGM dump 64x48 (temp file + rename, /tmp)   %8.2f us CPU, %8.2f us wall per frame"
           "  (%d frames)\n",
           cpu_us, wall_us, nw);
    unlink(path);
    rmdir(dir);
    free(cam);
    facade_free(f);
    printf("(checksum %lu)\n", sum);
    return 0;
}
