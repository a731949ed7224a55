/*
 * facade.h — a facade: a grid of surface cells.
 *
 * Part of robot/, the description of the robot and its facade that both the
 * controller (mission planning, footholds) and the simulator (physics) read;
 * robot/ depends on nothing else of ours, so neither of them has to know
 * the other (SPEC §3).
 *
 * The text format (docs/facade-format.md) is a header, a legend that maps a
 * character to a surface, and the grid rows, top row first (as you look at
 * the building).  In memory the facade uses facade coordinates: x to the
 * right, y *upward*, origin at the bottom-left corner, millimetres.  Cell
 * (col, row) covers x in [col*cell_mm, (col+1)*cell_mm) and y in
 * [row*cell_mm, (row+1)*cell_mm); row 0 is the *bottom* row, which is the
 * last line of the grid in the file.
 *
 * Loading is strict: the first error stops the load with a message
 * "file:line:col: what" in the caller's buffer and nothing is returned
 * (nothing half-loaded).  A loaded facade is one allocation, freed with
 * facade_free().
 *
 * Errors: 0 or a negative FACADE_E* code; facade_strerror() gives the text.
 */
#ifndef CROSSCLIMB_FACADE_H
#define CROSSCLIMB_FACADE_H

#include <stddef.h>
#include <stdint.h>

enum {
    FACADE_OK = 0,
    FACADE_EIO = -1,     /* the file cannot be opened or read */
    FACADE_ESYNTAX = -2, /* the text is not a valid facade */
    FACADE_ENOMEM = -3,  /* out of memory */
    FACADE_EARG = -4,    /* bad argument (NULL, unknown direction) */
};

/** facade_strerror: text for a FACADE_E* code (never NULL). */
const char *facade_strerror(int code);

/* Surfaces, in the order of the legend keywords. */
typedef enum {
    FACADE_GLASS = 0, /* seals well, slippery when wet */
    FACADE_TILE,      /* seals a little less well */
    FACADE_CONCRETE,  /* porous: leaks */
    FACADE_JOINT,     /* joint or gap between panels: leaks so much a cup cannot seal */
    FACADE_MULLION,   /* window frame, narrower than a cup: a cup across it leaks */
    FACADE_OBSTACLE,  /* vent, sign, ledge: cannot be stood on, blocks a lifted foot */
    FACADE_VOID,      /* no facade: beyond an edge, an opening */
    FACADE_SURF_COUNT
} facade_surface;

#define FACADE_DIRT_MAX 3        /* dirt levels 0 (clean) .. 3 */
#define FACADE_NAME_MAX 63       /* facade <name> */
#define FACADE_CELL_MM_MAX 1000  /* cell_mm 1..1000 */
#define FACADE_DIM_MAX 4000      /* cols, rows 1..4000 */
#define FACADE_CELLS_MAX 4000000 /* cols * rows */

/* A cell byte: surface in bits 0-3, dirt level in bits 4-5. */
#define FACADE_CELL_SURFACE(c) ((facade_surface)((c)&0x0Fu))
#define FACADE_CELL_DIRT(c) ((int)(((c) >> 4) & 0x03u))
#define FACADE_CELL(surf, dirt) ((uint8_t)(((unsigned)(surf)&0x0Fu) | (((unsigned)(dirt)&0x03u) << 4)))

typedef struct facade {
    char name[FACADE_NAME_MAX + 1]; /* from the header line "facade <name>" */
    uint32_t cell_mm;               /* side of a square cell, mm */
    uint32_t cols, rows;            /* grid size, cells */
    int has_start;                  /* 1 when the header gave start_mm */
    double start_x_mm, start_y_mm;  /* suggested start of the robot centre, mm */
    uint8_t legend[128];            /* char -> cell byte; 0xFF = not in the legend */
    uint8_t cells[];                /* rows*cols cell bytes, row 0 = bottom, row-major */
} facade;

/** facade_surface_name: "glass", "tile", ... (the legend keyword); "?" if out of range. */
const char *facade_surface_name(facade_surface s);

/**
 * facade_load_buffer: parse a facade from text[0..len) (need not be
 * NUL-terminated).  name is used in messages ("name:line:col: ...").  On
 * success *out is a new facade owned by the caller; on error *out is NULL
 * and err (may be NULL) holds the message.  Returns 0 or FACADE_ESYNTAX /
 * FACADE_ENOMEM / FACADE_EARG.
 */
int facade_load_buffer(const char *name, const char *text, size_t len, facade **out, char *err,
                       size_t errlen);

/**
 * facade_load_file: read path (at most 64 MiB) and parse it as
 * facade_load_buffer does, naming the file in messages.  Returns 0 or a
 * FACADE_E* code (FACADE_EIO when it cannot be read).
 */
int facade_load_file(const char *path, facade **out, char *err, size_t errlen);

/** facade_free: release a facade from a loader (NULL is fine). */
void facade_free(facade *f);

/** facade_width_mm / facade_height_mm: size of the grid, mm. */
double facade_width_mm(const facade *f);
double facade_height_mm(const facade *f);

/** facade_cell: the cell byte at (col, row), row 0 = bottom; VOID outside the grid. */
uint8_t facade_cell(const facade *f, int64_t col, int64_t row);

/** facade_cell_at: the cell byte under the point (x_mm, y_mm); VOID outside. */
uint8_t facade_cell_at(const facade *f, double x_mm, double y_mm);

/* What lies under a cup: area fractions per surface (summing to 1) and the
 * area-weighted mean dirt level (0..3). */
typedef struct {
    double frac[FACADE_SURF_COUNT];
    double dirt_mean;
} facade_cover;

/**
 * facade_cup_cover: area fractions of the surfaces under a circle (a cup of
 * diameter diam_mm centred at x_mm, y_mm), by sampling a fixed 24 x 24 grid
 * of points over the circle (about 450 points inside; fractions to about
 * 0.2 %).  Deterministic.  Returns 0 or FACADE_EARG.
 */
int facade_cup_cover(const facade *f, double x_mm, double y_mm, double diam_mm, facade_cover *out);

/**
 * facade_circle_touches: 1 when any cell of surface s intersects the circle
 * (exact circle/square test), else 0.  Cells outside the grid count as VOID.
 */
int facade_circle_touches(const facade *f, double x_mm, double y_mm, double diam_mm,
                          facade_surface s);

/* Directions along the facade, in the order of the proximity sensors. */
typedef enum {
    FACADE_DIR_XP = 0, /* +X, to the right */
    FACADE_DIR_XM,     /* -X */
    FACADE_DIR_YP,     /* +Y, up */
    FACADE_DIR_YM,     /* -Y */
    FACADE_DIR_COUNT
} facade_dir;

/**
 * facade_ray_mm: distance (mm) from (x_mm, y_mm) along dir to the nearest
 * obstacle or edge (the first OBSTACLE or VOID cell, or the end of the
 * grid), looking no further than max_mm.  0 when the point itself is on
 * such a cell; -1 when nothing is found within max_mm.
 */
double facade_ray_mm(const facade *f, double x_mm, double y_mm, facade_dir dir, double max_mm);

/** facade_count: number of cells of surface s (all dirt levels). */
size_t facade_count(const facade *f, facade_surface s);

#endif
