/*
 * check_facade.c — the facade format: every shipped facade loads, every
 * broken one in tests/facades/ fails with its file:line:col message, and
 * the geometric queries agree with hand-computed values.
 */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robot/facade.h"

static const char *src_dir(void)
{
    const char *s = getenv("CROSSCLIMB_SRC");
    return s && *s ? s : ".";
}

static facade *load_text(const char *text)
{
    facade *f = NULL;
    char err[256];
    int rc = facade_load_buffer("t.txt", text, strlen(text), &f, err, sizeof err);
    ck_assert_msg(rc == 0, "load failed: %s", err);
    return f;
}

/* Expect text to fail with exactly message msg. */
static void expect_error(const char *text, size_t len, const char *msg)
{
    facade *f = (facade *)(uintptr_t)1; /* must be reset to NULL on error */
    char err[256];
    int rc = facade_load_buffer("t.txt", text, len, &f, err, sizeof err);
    ck_assert_int_eq(rc, FACADE_ESYNTAX);
    ck_assert_ptr_null(f);
    ck_assert_str_eq(err, msg);
}

static void expect_err(const char *text, const char *msg)
{
    expect_error(text, strlen(text), msg);
}

/* ------------------------------------------------------- shipped facades */

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

START_TEST(test_shipped_facades_load)
{
    char dir[1024], path[1400], err[512];
    snprintf(dir, sizeof dir, "%s/sim/facades", src_dir());
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    int n = 0, have_default = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!ends_with(e->d_name, ".txt")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        facade *f = NULL;
        int rc = facade_load_file(path, &f, err, sizeof err);
        ck_assert_msg(rc == 0, "%s", err);
        /* the suggested start is on something a robot can stand on */
        facade_surface s = FACADE_CELL_SURFACE(facade_cell_at(f, f->start_x_mm, f->start_y_mm));
        ck_assert_msg(s != FACADE_OBSTACLE && s != FACADE_VOID, "%s: start on %s", path,
                      facade_surface_name(s));
        if (strcmp(e->d_name, "default.txt") == 0) have_default = 1;
        facade_free(f);
        n++;
    }
    closedir(d);
    ck_assert_int_ge(n, 4);
    ck_assert(have_default);
}
END_TEST

/* Each of the four kinds the issue asks for has the features that make it that kind. */
START_TEST(test_shipped_facade_kinds)
{
    char path[1400], err[512];
    facade *f;
    /* glass curtain wall with mullions: the default */
    snprintf(path, sizeof path, "%s/sim/facades/default.txt", src_dir());
    ck_assert_msg(facade_load_file(path, &f, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_gt(facade_count(f, FACADE_GLASS), 10000);
    ck_assert_uint_gt(facade_count(f, FACADE_MULLION), 500);
    facade_free(f);
    /* tiled wall with joints */
    snprintf(path, sizeof path, "%s/sim/facades/tiled.txt", src_dir());
    ck_assert_msg(facade_load_file(path, &f, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_gt(facade_count(f, FACADE_TILE), 10000);
    ck_assert_uint_gt(facade_count(f, FACADE_JOINT), 1000);
    facade_free(f);
    /* mixed with obstacles and dirt bands */
    snprintf(path, sizeof path, "%s/sim/facades/mixed.txt", src_dir());
    ck_assert_msg(facade_load_file(path, &f, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_gt(facade_count(f, FACADE_OBSTACLE), 100);
    int dirt[FACADE_DIRT_MAX + 1] = {0};
    for (size_t i = 0; i < (size_t)f->cols * f->rows; i++) dirt[FACADE_CELL_DIRT(f->cells[i])]++;
    ck_assert_int_gt(dirt[1], 0);
    ck_assert_int_gt(dirt[2], 0);
    ck_assert_int_gt(dirt[3], 0);
    facade_free(f);
    /* tall and narrow, with the edge at the top: the top row is void, the bottom is not */
    snprintf(path, sizeof path, "%s/sim/facades/tall_narrow.txt", src_dir());
    ck_assert_msg(facade_load_file(path, &f, err, sizeof err) == 0, "%s", err);
    ck_assert_double_gt(facade_height_mm(f), 3.0 * facade_width_mm(f));
    ck_assert_int_eq(FACADE_CELL_SURFACE(facade_cell(f, 0, f->rows - 1)), FACADE_VOID);
    ck_assert_int_ne(FACADE_CELL_SURFACE(facade_cell(f, 0, 1)), FACADE_VOID);
    facade_free(f);
}
END_TEST

/* ------------------------------------------------------- broken facades */

typedef struct {
    const char *file;
    const char *msg; /* exact, after the directory part of the path */
} bad_case;

static const bad_case bad_cases[] = {
    {"bad_unknown_cell.txt", "bad_unknown_cell.txt:12:7: unknown cell 'q' (not in the legend)"},
    {"bad_tab_in_grid.txt", "bad_tab_in_grid.txt:10:3: unknown cell '\\x09' (not in the legend)"},
    {"bad_row_short.txt", "bad_row_short.txt:10:8: grid line 2 has 7 cells, size says 8"},
    {"bad_row_long.txt", "bad_row_long.txt:11:9: grid line 3 is longer than 8 cells"},
    {"bad_rows_missing.txt",
     "bad_rows_missing.txt:12:1: grid has 3 rows, size says 4 (grid starts after line 8)"},
    {"bad_rows_extra.txt", "bad_rows_extra.txt:13:1: grid has more rows than size says (4)"},
    {"bad_missing_size.txt", "bad_missing_size.txt:7:1: missing 'size <cols> <rows>' before 'grid'"},
    {"bad_dup_legend.txt", "bad_dup_legend.txt:7:8: duplicate legend entry 'j' (first on line 6)"},
    {"bad_dup_size.txt", "bad_dup_size.txt:5:1: duplicate 'size' (first on line 4)"},
    {"bad_keyword.txt",
     "bad_keyword.txt:5:1: unknown header keyword 'colour' (expected facade, cell_mm, size, "
     "start_mm, legend or grid)"},
    {"bad_surface.txt",
     "bad_surface.txt:6:10: unknown surface 'wood' (expected glass, tile, concrete, joint, "
     "mullion, obstacle or void)"},
    {"bad_dirt.txt", "bad_dirt.txt:6:16: dirt applies to glass, tile, concrete or mullion, not joint"},
    {"bad_dirt_level.txt", "bad_dirt_level.txt:6:21: dirt level must be 1, 2 or 3, not '4'"},
    {"bad_no_grid.txt",
     "bad_no_grid.txt:8:1: no 'grid' line (the header ends with 'grid', then the rows)"},
    {"bad_empty.txt", "bad_empty.txt:1:1: no 'grid' line (the header ends with 'grid', then the rows)"},
    {"bad_start_outside.txt",
     "bad_start_outside.txt:5:10: start_mm 500 100 lies outside the facade (0..400 x 0..200 mm)"},
    {"bad_cell_mm.txt", "bad_cell_mm.txt:3:9: cell_mm must be an integer 1..1000, not '0'"},
};
#define N_BAD (sizeof bad_cases / sizeof bad_cases[0])

START_TEST(test_bad_facade_file)
{
    const bad_case *bc = &bad_cases[_i];
    char dir[1024], path[1400], err[512];
    snprintf(dir, sizeof dir, "%s/tests/facades", src_dir());
    snprintf(path, sizeof path, "%s/%s", dir, bc->file);
    facade *f = NULL;
    int rc = facade_load_file(path, &f, err, sizeof err);
    ck_assert_int_eq(rc, FACADE_ESYNTAX);
    ck_assert_ptr_null(f);
    /* the message names the path as given, then line and column */
    ck_assert_msg(strncmp(err, dir, strlen(dir)) == 0 && err[strlen(dir)] == '/',
                  "message does not start with the path: %s", err);
    ck_assert_str_eq(err + strlen(dir) + 1, bc->msg);
}
END_TEST

/* Every bad_*.txt in tests/facades has its expected message above. */
START_TEST(test_bad_facades_all_listed)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/facades", src_dir());
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "bad_", 4) != 0) continue;
        size_t i;
        for (i = 0; i < N_BAD; i++)
            if (strcmp(bad_cases[i].file, e->d_name) == 0) break;
        ck_assert_msg(i < N_BAD, "%s has no expected message in check_facade.c", e->d_name);
        n++;
    }
    closedir(d);
    ck_assert_int_eq(n, (int)N_BAD);
}
END_TEST

START_TEST(test_missing_file)
{
    facade *f = NULL;
    char err[256];
    ck_assert_int_eq(facade_load_file("/nonexistent/x.txt", &f, err, sizeof err), FACADE_EIO);
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(err, "/nonexistent/x.txt") != NULL, "%s", err);
    ck_assert_str_eq(facade_strerror(FACADE_EIO), "cannot read the facade file");
}
END_TEST

#define HDR "facade t\ncell_mm 10\nsize 3 2\nlegend . glass\n"

START_TEST(test_buffer_errors)
{
    /* NUL in the grid: line 6 (grid starts at 6), column 2 */
    static const char nul[] = HDR "grid\n.\0.\n...\n";
    expect_error(nul, sizeof nul - 1, "t.txt:6:2: NUL byte in the grid");
    expect_err(HDR "grid\n...\n...\n###\n",
                 "t.txt:8:1: grid has more rows than size says (2)");
    expect_err("facade a/b\n",
                 "t.txt:1:9: character '/' not allowed in a facade name (A-Z a-z 0-9 _ - .)");
    expect_err("facade t\ncell_mm 10\nsize 4000 4000\n",
                 "t.txt:3:6: size 4000 x 4000 is more than 4000000 cells");
    expect_err("facade t\nsize 3 2\ncell_mm 10\ngrid\n...\n...\n",
                 "t.txt:4:1: missing 'legend <c> <surface>' before 'grid'");
    expect_err("cell_mm 10\nsize 3 2\nlegend . glass\ngrid\n",
                 "t.txt:4:1: missing 'facade <name>' before 'grid'");
    expect_err("facade t\nlegend .. glass\n",
                 "t.txt:2:8: legend character must be one printable character, not '..'");
    expect_err("facade t\nlegend . glass dust 2\n",
                 "t.txt:2:16: expected 'dirt <1-3>', not 'dust'");
    expect_err("facade t\nlegend . glass dirt\n", "t.txt:2:20: dirt needs a level: 1, 2 or 3");
    expect_err("facade t\ncell_mm 10 mm\n", "t.txt:2:12: unexpected 'mm' after 'cell_mm'");
    expect_err("facade t\nsize 3\n", "t.txt:2:7: size needs <cols> <rows>");
    expect_err("facade t\nsize -3 2\n", "t.txt:2:6: size cols must be an integer 1..4000, not '-3'");
    expect_err("facade t\nstart_mm 1 x\n", "t.txt:2:12: start_mm y must be an integer, not 'x'");
    /* a huge size with a short grid is refused before anything is allocated */
    expect_err("facade t\ncell_mm 1\nsize 2000 2000\nlegend . glass\ngrid\n..\n",
                 "t.txt:6:3: grid line 1 has 2 cells, size says 2000");
    /* NULL out */
    ck_assert_int_eq(facade_load_buffer("t", "", 0, NULL, NULL, 0), FACADE_EARG);
}
END_TEST

START_TEST(test_header_details)
{
    /* comments, blank lines, CRLF line ends, trailing blank lines, no start */
    facade *f = load_text("# a comment\r\n\r\nfacade crlf-1.0\r\ncell_mm 10\r\nsize 3 2\r\n"
                          "   # indented comment\r\nlegend . glass\r\nlegend d tile dirt 3\r\n"
                          "grid\r\n.d.\r\n...\r\n\r\n\r\n");
    ck_assert_str_eq(f->name, "crlf-1.0");
    ck_assert_uint_eq(f->cell_mm, 10);
    ck_assert_uint_eq(f->cols, 3);
    ck_assert_uint_eq(f->rows, 2);
    ck_assert_int_eq(f->has_start, 0);
    /* default start: the centre */
    ck_assert_double_eq(f->start_x_mm, 15.0);
    ck_assert_double_eq(f->start_y_mm, 10.0);
    ck_assert_uint_eq(f->legend['d'], FACADE_CELL(FACADE_TILE, 3));
    ck_assert_uint_eq(f->legend['x'], 0xFF);
    facade_free(f);
    facade_free(NULL);
}
END_TEST

/* Row 0 is the bottom: the first grid line of the file is the top row. */
START_TEST(test_orientation)
{
    facade *f = load_text("facade o\ncell_mm 100\nsize 2 3\nstart_mm 50 250\n"
                          "legend t tile\nlegend g glass\nlegend c concrete\n"
                          "grid\ntt\ngg\ncc\n");
    ck_assert_double_eq(facade_width_mm(f), 200.0);
    ck_assert_double_eq(facade_height_mm(f), 300.0);
    ck_assert_int_eq(FACADE_CELL_SURFACE(facade_cell(f, 0, 0)), FACADE_CONCRETE);
    ck_assert_int_eq(FACADE_CELL_SURFACE(facade_cell(f, 1, 2)), FACADE_TILE);
    ck_assert_int_eq(FACADE_CELL_SURFACE(facade_cell_at(f, 150.0, 250.0)), FACADE_TILE);
    ck_assert_int_eq(FACADE_CELL_SURFACE(facade_cell_at(f, 0.0, 0.0)), FACADE_CONCRETE);
    ck_assert_int_eq(FACADE_CELL_SURFACE(facade_cell_at(f, 199.9, 199.9)), FACADE_GLASS);
    /* outside the grid and NaN are void */
    ck_assert_int_eq(FACADE_CELL_SURFACE(facade_cell_at(f, 200.0, 10.0)), FACADE_VOID);
    ck_assert_int_eq(FACADE_CELL_SURFACE(facade_cell_at(f, -0.1, 10.0)), FACADE_VOID);
    ck_assert_int_eq(FACADE_CELL_SURFACE(facade_cell_at(f, NAN, 10.0)), FACADE_VOID);
    ck_assert_int_eq(FACADE_CELL_SURFACE(facade_cell(f, -1, 0)), FACADE_VOID);
    ck_assert_double_eq(f->start_y_mm, 250.0);
    facade_free(f);
}
END_TEST

/* Area fraction of the strip |x| < w/2 inside a circle of radius r:
 * (2/pi) (asin s + s sqrt(1 - s^2)), s = w / (2r). */
static double strip_fraction(double w, double r)
{
    double s = w / (2.0 * r);
    return 2.0 / M_PI * (asin(s) + s * sqrt(1.0 - s * s));
}

START_TEST(test_cup_cover)
{
    /* 10 mm cells: a 50 mm wide vertical joint (5 cells) through glass, a
     * dirt-2 glass block on the right, void beyond the grid. */
    char text[4096];
    int n = snprintf(text, sizeof text,
                     "facade c\ncell_mm 10\nsize 40 20\nlegend . glass\nlegend j joint\n"
                     "legend d glass dirt 2\ngrid\n");
    for (int r = 0; r < 20; r++) {
        for (int c = 0; c < 40; c++) text[n++] = c >= 10 && c < 15 ? 'j' : c >= 30 ? 'd' : '.';
        text[n++] = '\n';
    }
    text[n] = '\0';
    facade *f = load_text(text);
    facade_cover cv;
    /* A 100 mm cup centred on the joint (x = 125 mm): the joint's share is the
     * strip fraction for w = 50, r = 50: (2/pi)(pi/6 + 0.5 * 0.866) = 0.609. */
    ck_assert_int_eq(facade_cup_cover(f, 125.0, 100.0, 100.0, &cv), 0);
    double expect = strip_fraction(50.0, 50.0);
    ck_assert_double_eq_tol(cv.frac[FACADE_JOINT], expect, 0.01);
    ck_assert_double_eq_tol(cv.frac[FACADE_GLASS], 1.0 - expect, 0.01);
    double sum = 0.0;
    for (int s = 0; s < FACADE_SURF_COUNT; s++) sum += cv.frac[s];
    ck_assert_double_eq_tol(sum, 1.0, 1e-12);
    /* Entirely on glass: fraction 1, no dirt. */
    facade_cup_cover(f, 250.0, 100.0, 100.0, &cv);
    ck_assert_double_eq(cv.frac[FACADE_GLASS], 1.0);
    ck_assert_double_eq(cv.dirt_mean, 0.0);
    /* Centred on the boundary between clean glass and dirt-2 glass (x = 300):
     * half the area is dirty: mean dirt 2 * 0.5 = 1. */
    facade_cup_cover(f, 300.0, 100.0, 100.0, &cv);
    ck_assert_double_eq_tol(cv.dirt_mean, 1.0, 0.01);
    /* Centred on the right edge of the grid (x = 400): half void. */
    facade_cup_cover(f, 400.0, 100.0, 100.0, &cv);
    ck_assert_double_eq_tol(cv.frac[FACADE_VOID], 0.5, 0.01);
    ck_assert_int_eq(facade_cup_cover(f, 0.0, 0.0, 0.0, &cv), FACADE_EARG);

    /* circle_touches: exact.  The joint covers x in [100, 150). */
    ck_assert_int_eq(facade_circle_touches(f, 49.0, 100.0, 100.0, FACADE_JOINT), 0); /* reaches 99 */
    ck_assert_int_eq(facade_circle_touches(f, 51.0, 100.0, 100.0, FACADE_JOINT), 1); /* reaches 101 */
    ck_assert_int_eq(facade_circle_touches(f, 201.0, 100.0, 100.0, FACADE_JOINT), 0); /* from 151 */
    ck_assert_int_eq(facade_circle_touches(f, 199.0, 100.0, 100.0, FACADE_JOINT), 1); /* from 149 */
    ck_assert_int_eq(facade_circle_touches(f, 100.0, 40.0, 100.0, FACADE_VOID), 1);  /* below y = 0 */
    ck_assert_int_eq(facade_circle_touches(f, 100.0, 60.0, 100.0, FACADE_VOID), 0);
    ck_assert_int_eq(facade_circle_touches(f, -500.0, 60.0, 100.0, FACADE_VOID), 1);
    facade_free(f);
}
END_TEST

START_TEST(test_ray)
{
    /* 100 mm cells, 10 x 5; an obstacle at column 6 of row 2, void at column 0 of row 2. */
    facade *f = load_text("facade r\ncell_mm 100\nsize 10 5\nlegend . glass\nlegend # obstacle\n"
                          "legend ~ void\ngrid\n..........\n..........\n~.....#...\n"
                          "..........\n..........\n");
    /* from (250, 250): +X to the obstacle's face at x = 600: 350 mm */
    ck_assert_double_eq_tol(facade_ray_mm(f, 250.0, 250.0, FACADE_DIR_XP, 5000.0), 350.0, 1e-9);
    /* -X to the void cell's face at x = 100: 150 mm */
    ck_assert_double_eq_tol(facade_ray_mm(f, 250.0, 250.0, FACADE_DIR_XM, 5000.0), 150.0, 1e-9);
    /* +Y to the top edge at y = 500: 250 mm; -Y to the bottom edge: 250 mm */
    ck_assert_double_eq_tol(facade_ray_mm(f, 250.0, 250.0, FACADE_DIR_YP, 5000.0), 250.0, 1e-9);
    ck_assert_double_eq_tol(facade_ray_mm(f, 250.0, 250.0, FACADE_DIR_YM, 5000.0), 250.0, 1e-9);
    /* beyond max: none */
    ck_assert_double_eq(facade_ray_mm(f, 250.0, 250.0, FACADE_DIR_XP, 349.0), -1.0);
    /* on the obstacle: 0 */
    ck_assert_double_eq(facade_ray_mm(f, 650.0, 250.0, FACADE_DIR_XP, 5000.0), 0.0);
    /* right of the obstacle looking -X: its far face at x = 700 */
    ck_assert_double_eq_tol(facade_ray_mm(f, 950.0, 250.0, FACADE_DIR_XM, 5000.0), 250.0, 1e-9);
    ck_assert_double_eq(facade_ray_mm(f, 250.0, 250.0, FACADE_DIR_COUNT, 5000.0), -1.0);
    ck_assert_uint_eq(facade_count(f, FACADE_OBSTACLE), 1);
    ck_assert_str_eq(facade_surface_name(FACADE_MULLION), "mullion");
    facade_free(f);
}
END_TEST

static Suite *facade_suite(void)
{
    Suite *s = suite_create("facade");
    TCase *tc = tcase_create("facade");
    tcase_add_test(tc, test_shipped_facades_load);
    tcase_add_test(tc, test_shipped_facade_kinds);
    tcase_add_loop_test(tc, test_bad_facade_file, 0, (int)N_BAD);
    tcase_add_test(tc, test_bad_facades_all_listed);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_buffer_errors);
    tcase_add_test(tc, test_header_details);
    tcase_add_test(tc, test_orientation);
    tcase_add_test(tc, test_cup_cover);
    tcase_add_test(tc, test_ray);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(facade_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
