/*
 * fuzz_facade.c — the facade loader (and, on the same bytes, the robot
 * configuration loader).  Every input must give 0 or an error code with a
 * message, nothing returned on error, and a loaded facade must answer every
 * query without reading outside its grid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "robot/facade.h"
#include "robot/robotcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy without a terminating NUL: the loader must respect size */
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    if (size) memcpy(text, data, size);

    facade *f = (facade *)(uintptr_t)1;
    char err[256];
    err[0] = '\0';
    int rc = facade_load_buffer("fuzz.txt", text, size, &f, err, sizeof err);
    if (rc != 0) {
        if (f != NULL || err[0] == '\0') abort();
    } else {
        if (!f || f->cols == 0 || f->rows == 0 || f->cell_mm == 0) abort();
        double w = facade_width_mm(f), h = facade_height_mm(f);
        for (size_t i = 0; i < (size_t)f->cols * f->rows; i++)
            if (FACADE_CELL_SURFACE(f->cells[i]) >= FACADE_SURF_COUNT) abort();
        facade_cover cv;
        double pts[4][2] = {{f->start_x_mm, f->start_y_mm}, {0.0, 0.0}, {w, h}, {w * 0.5, -10.0}};
        for (int p = 0; p < 4; p++) {
            if (facade_cup_cover(f, pts[p][0], pts[p][1], 100.0, &cv) != 0) abort();
            double sum = 0.0;
            for (int s = 0; s < FACADE_SURF_COUNT; s++) sum += cv.frac[s];
            if (sum < 0.999 || sum > 1.001) abort();
            (void)facade_circle_touches(f, pts[p][0], pts[p][1], 100.0, FACADE_OBSTACLE);
            for (int d = 0; d < FACADE_DIR_COUNT; d++) {
                double r = facade_ray_mm(f, pts[p][0], pts[p][1], (facade_dir)d, 2000.0);
                if (r > 2000.0) abort();
            }
        }
        facade_free(f);
    }

    robotcfg cfg;
    rc = robotcfg_load_buffer("fuzz.ini", text, size, &cfg, err, sizeof err);
    if (rc != 0 && err[0] == '\0') abort();
    free(text);
    return 0;
}
