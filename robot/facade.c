/*
 * facade.c — the facade text format: strict loader and geometric queries.
 *
 * The loader reads the header line by line, then checks the whole grid
 * (row count, row lengths, every character in the legend) *before* it
 * allocates anything, so a broken file never allocates and a huge "size"
 * with a short grid costs nothing.  Only then is the single block (struct +
 * cells) allocated and filled.
 */
#include "facade.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FACADE_FILE_MAX (64u * 1024u * 1024u) /* bytes; a 4000x4000 grid is 16 MB */
#define COVER_SAMPLES 24                      /* per side of the sampling grid */

const char *facade_strerror(int code)
{
    switch (code) {
    case FACADE_OK: return "ok";
    case FACADE_EIO: return "cannot read the facade file";
    case FACADE_ESYNTAX: return "invalid facade";
    case FACADE_ENOMEM: return "out of memory";
    case FACADE_EARG: return "invalid argument";
    default: return "unknown facade error";
    }
}

static const char *const surface_names[FACADE_SURF_COUNT] = {
    "glass", "tile", "concrete", "joint", "mullion", "obstacle", "void",
};

const char *facade_surface_name(facade_surface s)
{
    if ((unsigned)s >= FACADE_SURF_COUNT) return "?";
    return surface_names[s];
}

/* ------------------------------------------------------------ the parser */

/* One line of the text: [p, p+len) without the newline and a trailing CR;
 * lineno is 1-based. */
typedef struct {
    const char *p;
    size_t len;
    unsigned lineno;
} fline;

typedef struct {
    const char *name; /* for messages */
    const char *text;
    size_t len;
    size_t pos;       /* start of the next line */
    unsigned lineno;  /* number of the line last returned */
    char *err;
    size_t errlen;
} fparser;

/* Header fields as read, with the line each came from (0 = not yet). */
typedef struct {
    char name[FACADE_NAME_MAX + 1];
    unsigned long cell_mm, cols, rows;
    long start_x_mm, start_y_mm;
    unsigned line_facade, line_cell, line_size, line_start, n_legend;
    size_t col_start; /* column of the start_mm x value */
    uint8_t legend[128];
    unsigned legend_line[128];
} fheader;

static int perr(fparser *ps, unsigned line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Write "name:line:col: message" into the caller's buffer; FACADE_ESYNTAX. */
static int perr(fparser *ps, unsigned line, size_t col, const char *fmt, ...)
{
    if (ps->err && ps->errlen) {
        int n = snprintf(ps->err, ps->errlen, "%s:%u:%zu: ", ps->name, line, col);
        if (n >= 0 && (size_t)n < ps->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return FACADE_ESYNTAX;
}

/* Next line; 0 at the end of the text.  A NUL byte anywhere is an error
 * reported by the caller through *nul_col (1-based, 0 = none). */
static int next_line(fparser *ps, fline *ln, size_t *nul_col)
{
    if (ps->pos >= ps->len) return 0;
    const char *s = ps->text + ps->pos;
    size_t rest = ps->len - ps->pos;
    const char *nl = memchr(s, '\n', rest);
    size_t n = nl ? (size_t)(nl - s) : rest;
    ps->pos += nl ? n + 1 : n;
    ps->lineno++;
    ln->p = s;
    ln->len = n;
    ln->lineno = ps->lineno;
    if (ln->len && ln->p[ln->len - 1] == '\r') ln->len--; /* CRLF files */
    const char *z = memchr(s, '\0', n);
    *nul_col = z ? (size_t)(z - s) + 1 : 0;
    return 1;
}

/* Where the text ends, as line:col, for "missing ..." errors. */
static void end_position(const fparser *ps, unsigned *line, size_t *col)
{
    unsigned l = 1;
    size_t c = 1;
    for (size_t i = 0; i < ps->len; i++) {
        if (ps->text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

#define MAX_TOKENS 8

typedef struct {
    const char *p;
    size_t len;
    size_t col; /* 1-based column of the first character */
} ftoken;

/* Split a header line at blanks (space, tab).  Returns the number of tokens
 * (at most MAX_TOKENS + 1: one more means "too many"). */
static int tokenize(const fline *ln, ftoken *tok)
{
    int n = 0;
    size_t i = 0;
    while (i < ln->len) {
        while (i < ln->len && (ln->p[i] == ' ' || ln->p[i] == '\t')) i++;
        if (i >= ln->len) break;
        size_t start = i;
        while (i < ln->len && ln->p[i] != ' ' && ln->p[i] != '\t') i++;
        if (n <= MAX_TOKENS) {
            tok[n].p = ln->p + start;
            tok[n].len = i - start;
            tok[n].col = start + 1;
        }
        n++;
        if (n > MAX_TOKENS) break;
    }
    return n;
}

static int tok_is(const ftoken *t, const char *word)
{
    size_t n = strlen(word);
    return t->len == n && memcmp(t->p, word, n) == 0;
}

/* A decimal integer of at most 9 digits with an optional leading '-' when
 * allow_neg; 0 on success. */
static int tok_long(const ftoken *t, int allow_neg, long *out)
{
    size_t i = 0;
    int neg = 0;
    if (allow_neg && t->len > 1 && t->p[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (t->len - i == 0 || t->len - i > 9) return -1;
    long v = 0;
    for (; i < t->len; i++) {
        if (t->p[i] < '0' || t->p[i] > '9') return -1;
        v = v * 10 + (t->p[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

/* Printable form of a byte for messages: 'q', or '\x09'. */
static void show_char(unsigned char c, char buf[8])
{
    if (c >= 0x20 && c < 0x7F)
        snprintf(buf, 8, "'%c'", c);
    else
        snprintf(buf, 8, "'\\x%02X'", c);
}

static int surface_parse(const ftoken *t, facade_surface *out)
{
    for (int s = 0; s < FACADE_SURF_COUNT; s++) {
        if (tok_is(t, surface_names[s])) {
            *out = (facade_surface)s;
            return 0;
        }
    }
    return -1;
}

/* Too many tokens on a line: complain about the first one too many. */
static int extra_token(fparser *ps, const fline *ln, const ftoken *tok, int ntok, int want)
{
    (void)ntok;
    return perr(ps, ln->lineno, tok[want].col, "unexpected '%.*s' after '%.*s'",
                (int)(tok[want].len > 32 ? 32 : tok[want].len), tok[want].p,
                (int)(tok[0].len > 32 ? 32 : tok[0].len), tok[0].p);
}

static int dup_field(fparser *ps, const fline *ln, const ftoken *t, unsigned first)
{
    return perr(ps, ln->lineno, t->col, "duplicate '%.*s' (first on line %u)", (int)t->len, t->p,
                first);
}

/* One "legend <c> <surface> [dirt <1..3>]" line. */
static int parse_legend(fparser *ps, fheader *h, const fline *ln, const ftoken *tok, int ntok)
{
    if (ntok < 3)
        return perr(ps, ln->lineno, ln->len + 1,
                    "legend needs a character and a surface: legend <c> <surface> [dirt <1-3>]");
    if (ntok == 4 && tok_is(&tok[3], "dirt"))
        return perr(ps, ln->lineno, ln->len + 1, "dirt needs a level: 1, 2 or 3");
    if (ntok != 3 && ntok != 5) return extra_token(ps, ln, tok, ntok, ntok > 5 ? 5 : 3);
    const ftoken *ct = &tok[1];
    unsigned char c = (unsigned char)ct->p[0];
    if (ct->len != 1 || c < 0x21 || c > 0x7E)
        return perr(ps, ln->lineno, ct->col,
                    "legend character must be one printable character, not '%.*s'",
                    (int)(ct->len > 32 ? 32 : ct->len), ct->p);
    if (h->legend[c] != 0xFF)
        return perr(ps, ln->lineno, ct->col, "duplicate legend entry '%c' (first on line %u)", c,
                    h->legend_line[c]);
    facade_surface s;
    if (surface_parse(&tok[2], &s) != 0)
        return perr(ps, ln->lineno, tok[2].col,
                    "unknown surface '%.*s' (expected glass, tile, concrete, joint, mullion, "
                    "obstacle or void)",
                    (int)(tok[2].len > 32 ? 32 : tok[2].len), tok[2].p);
    long dirt = 0;
    if (ntok == 5) {
        if (!tok_is(&tok[3], "dirt"))
            return perr(ps, ln->lineno, tok[3].col, "expected 'dirt <1-3>', not '%.*s'",
                        (int)(tok[3].len > 32 ? 32 : tok[3].len), tok[3].p);
        if (tok_long(&tok[4], 0, &dirt) != 0 || dirt < 1 || dirt > FACADE_DIRT_MAX)
            return perr(ps, ln->lineno, tok[4].col, "dirt level must be 1, 2 or 3, not '%.*s'",
                        (int)(tok[4].len > 32 ? 32 : tok[4].len), tok[4].p);
        if (s == FACADE_JOINT || s == FACADE_OBSTACLE || s == FACADE_VOID)
            return perr(ps, ln->lineno, tok[3].col,
                        "dirt applies to glass, tile, concrete or mullion, not %s",
                        surface_names[s]);
    }
    h->legend[c] = FACADE_CELL(s, dirt);
    h->legend_line[c] = ln->lineno;
    h->n_legend++;
    return 0;
}

/* One header line (not blank, not a comment).  Sets *grid when it is the
 * "grid" line. */
static int parse_header_line(fparser *ps, fheader *h, const fline *ln, int *grid)
{
    ftoken tok[MAX_TOKENS + 1];
    int ntok = tokenize(ln, tok);
    if (ntok > MAX_TOKENS) return extra_token(ps, ln, tok, ntok, MAX_TOKENS);
    const ftoken *kw = &tok[0];
    long v1, v2;

    if (tok_is(kw, "facade")) {
        if (h->line_facade) return dup_field(ps, ln, kw, h->line_facade);
        if (ntok < 2) return perr(ps, ln->lineno, ln->len + 1, "facade needs a name");
        if (ntok > 2) return extra_token(ps, ln, tok, ntok, 2);
        if (tok[1].len > FACADE_NAME_MAX)
            return perr(ps, ln->lineno, tok[1].col, "facade name longer than %d characters",
                        FACADE_NAME_MAX);
        for (size_t i = 0; i < tok[1].len; i++) {
            char c = tok[1].p[i];
            int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '_' || c == '-' || c == '.';
            if (!ok) {
                char sc[8];
                show_char((unsigned char)c, sc);
                return perr(ps, ln->lineno, tok[1].col + i,
                            "character %s not allowed in a facade name (A-Z a-z 0-9 _ - .)", sc);
            }
        }
        memcpy(h->name, tok[1].p, tok[1].len);
        h->name[tok[1].len] = '\0';
        h->line_facade = ln->lineno;
    } else if (tok_is(kw, "cell_mm")) {
        if (h->line_cell) return dup_field(ps, ln, kw, h->line_cell);
        if (ntok < 2) return perr(ps, ln->lineno, ln->len + 1, "cell_mm needs a value in mm");
        if (ntok > 2) return extra_token(ps, ln, tok, ntok, 2);
        if (tok_long(&tok[1], 0, &v1) != 0 || v1 < 1 || v1 > FACADE_CELL_MM_MAX)
            return perr(ps, ln->lineno, tok[1].col, "cell_mm must be an integer 1..%d, not '%.*s'",
                        FACADE_CELL_MM_MAX, (int)(tok[1].len > 32 ? 32 : tok[1].len), tok[1].p);
        h->cell_mm = (unsigned long)v1;
        h->line_cell = ln->lineno;
    } else if (tok_is(kw, "size")) {
        if (h->line_size) return dup_field(ps, ln, kw, h->line_size);
        if (ntok < 3) return perr(ps, ln->lineno, ln->len + 1, "size needs <cols> <rows>");
        if (ntok > 3) return extra_token(ps, ln, tok, ntok, 3);
        for (int i = 1; i <= 2; i++) {
            long v;
            if (tok_long(&tok[i], 0, &v) != 0 || v < 1 || v > FACADE_DIM_MAX)
                return perr(ps, ln->lineno, tok[i].col,
                            "size %s must be an integer 1..%d, not '%.*s'",
                            i == 1 ? "cols" : "rows", FACADE_DIM_MAX,
                            (int)(tok[i].len > 32 ? 32 : tok[i].len), tok[i].p);
            if (i == 1) h->cols = (unsigned long)v;
            else h->rows = (unsigned long)v;
        }
        if (h->cols * h->rows > FACADE_CELLS_MAX)
            return perr(ps, ln->lineno, tok[1].col, "size %lu x %lu is more than %d cells",
                        h->cols, h->rows, FACADE_CELLS_MAX);
        h->line_size = ln->lineno;
    } else if (tok_is(kw, "start_mm")) {
        if (h->line_start) return dup_field(ps, ln, kw, h->line_start);
        if (ntok < 3) return perr(ps, ln->lineno, ln->len + 1, "start_mm needs <x> <y> in mm");
        if (ntok > 3) return extra_token(ps, ln, tok, ntok, 3);
        if (tok_long(&tok[1], 1, &v1) != 0)
            return perr(ps, ln->lineno, tok[1].col, "start_mm x must be an integer, not '%.*s'",
                        (int)(tok[1].len > 32 ? 32 : tok[1].len), tok[1].p);
        if (tok_long(&tok[2], 1, &v2) != 0)
            return perr(ps, ln->lineno, tok[2].col, "start_mm y must be an integer, not '%.*s'",
                        (int)(tok[2].len > 32 ? 32 : tok[2].len), tok[2].p);
        h->start_x_mm = v1;
        h->start_y_mm = v2;
        h->line_start = ln->lineno;
        h->col_start = tok[1].col;
    } else if (tok_is(kw, "legend")) {
        return parse_legend(ps, h, ln, tok, ntok);
    } else if (tok_is(kw, "grid")) {
        if (ntok > 1) return extra_token(ps, ln, tok, ntok, 1);
        *grid = 1;
    } else {
        return perr(ps, ln->lineno, kw->col,
                    "unknown header keyword '%.*s' (expected facade, cell_mm, size, start_mm, "
                    "legend or grid)",
                    (int)(kw->len > 32 ? 32 : kw->len), kw->p);
    }
    return 0;
}

/* The header is complete at the "grid" line: every required field present. */
static int check_header(fparser *ps, const fheader *h, const fline *gl)
{
    const char *missing = !h->line_facade ? "facade <name>"
                          : !h->line_cell ? "cell_mm <mm>"
                          : !h->line_size ? "size <cols> <rows>"
                          : !h->n_legend  ? "legend <c> <surface>"
                                          : NULL;
    if (missing) return perr(ps, gl->lineno, 1, "missing '%s' before 'grid'", missing);
    if (h->line_start) {
        double w = (double)h->cols * (double)h->cell_mm;
        double ht = (double)h->rows * (double)h->cell_mm;
        if (h->start_x_mm < 0 || (double)h->start_x_mm >= w || h->start_y_mm < 0 ||
            (double)h->start_y_mm >= ht)
            return perr(ps, h->line_start, h->col_start,
                        "start_mm %ld %ld lies outside the facade (0..%.0f x 0..%.0f mm)",
                        h->start_x_mm, h->start_y_mm, w, ht);
    }
    return 0;
}

/* Check one grid row against the header (length, legend). */
static int check_row(fparser *ps, const fheader *h, const fline *ln, size_t nul_col,
                     unsigned long rowno)
{
    if (nul_col) return perr(ps, ln->lineno, nul_col, "NUL byte in the grid");
    size_t n = ln->len < h->cols ? ln->len : h->cols;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)ln->p[i];
        if (c >= 128 || h->legend[c] == 0xFF) {
            char sc[8];
            show_char(c, sc);
            return perr(ps, ln->lineno, i + 1, "unknown cell %s (not in the legend)", sc);
        }
    }
    if (ln->len < h->cols)
        return perr(ps, ln->lineno, ln->len + 1, "grid line %lu has %zu cells, size says %lu",
                    rowno, ln->len, h->cols);
    if (ln->len > h->cols)
        return perr(ps, ln->lineno, h->cols + 1, "grid line %lu is longer than %lu cells", rowno,
                    h->cols);
    return 0;
}

static int is_blank(const fline *ln)
{
    for (size_t i = 0; i < ln->len; i++)
        if (ln->p[i] != ' ' && ln->p[i] != '\t') return 0;
    return 1;
}

int facade_load_buffer(const char *name, const char *text, size_t len, facade **out, char *err,
                       size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!out) return FACADE_EARG;
    *out = NULL;
    if (!text && len) return FACADE_EARG;
    if (!name) name = "<facade>";

    fparser ps = {.name = name, .text = text ? text : "", .len = len, .err = err, .errlen = errlen};
    fheader h;
    memset(&h, 0, sizeof h);
    memset(h.legend, 0xFF, sizeof h.legend);
    fline ln;
    size_t nul_col;
    int rc = 0, grid = 0;
    unsigned grid_line = 0;

    /* Header, up to and including the "grid" line. */
    while (!grid && next_line(&ps, &ln, &nul_col)) {
        if (nul_col) return perr(&ps, ln.lineno, nul_col, "NUL byte in the header");
        size_t i = 0;
        while (i < ln.len && (ln.p[i] == ' ' || ln.p[i] == '\t')) i++;
        if (i == ln.len || ln.p[i] == '#') continue; /* blank or comment */
        rc = parse_header_line(&ps, &h, &ln, &grid);
        if (rc) return rc;
        if (grid) {
            grid_line = ln.lineno;
            rc = check_header(&ps, &h, &ln);
            if (rc) return rc;
        }
    }
    if (!grid) {
        unsigned l;
        size_t c;
        end_position(&ps, &l, &c);
        return perr(&ps, l, c, "no 'grid' line (the header ends with 'grid', then the rows)");
    }

    /* Pass 1: validate every row without storing anything. */
    size_t grid_pos = ps.pos;
    unsigned grid_lineno = ps.lineno;
    unsigned long nrows = 0;
    while (nrows < h.rows && next_line(&ps, &ln, &nul_col)) {
        rc = check_row(&ps, &h, &ln, nul_col, nrows + 1);
        if (rc) return rc;
        nrows++;
    }
    if (nrows < h.rows) {
        unsigned l;
        size_t c;
        end_position(&ps, &l, &c);
        return perr(&ps, l, c, "grid has %lu rows, size says %lu (grid starts after line %u)",
                    nrows, h.rows, grid_line);
    }
    while (next_line(&ps, &ln, &nul_col)) {
        if (nul_col) return perr(&ps, ln.lineno, nul_col, "NUL byte after the grid");
        if (!is_blank(&ln))
            return perr(&ps, ln.lineno, 1, "grid has more rows than size says (%lu)", h.rows);
    }

    /* Pass 2: one allocation, fill from the bottom up (the file lists the
     * top row first). */
    size_t ncells = (size_t)h.cols * (size_t)h.rows;
    facade *f = malloc(sizeof *f + ncells);
    if (!f) {
        if (err && errlen) snprintf(err, errlen, "%s: out of memory for %zu cells", name, ncells);
        return FACADE_ENOMEM;
    }
    memset(f, 0, sizeof *f);
    memcpy(f->name, h.name, sizeof f->name);
    f->cell_mm = (uint32_t)h.cell_mm;
    f->cols = (uint32_t)h.cols;
    f->rows = (uint32_t)h.rows;
    f->has_start = h.line_start != 0;
    f->start_x_mm = f->has_start ? (double)h.start_x_mm : 0.5 * facade_width_mm(f);
    f->start_y_mm = f->has_start ? (double)h.start_y_mm : 0.5 * facade_height_mm(f);
    memcpy(f->legend, h.legend, sizeof f->legend);
    ps.pos = grid_pos;
    ps.lineno = grid_lineno;
    for (unsigned long r = 0; r < h.rows; r++) {
        next_line(&ps, &ln, &nul_col);
        uint8_t *dst = f->cells + (size_t)(h.rows - 1 - r) * h.cols;
        for (unsigned long c = 0; c < h.cols; c++) dst[c] = h.legend[(unsigned char)ln.p[c]];
    }
    *out = f;
    return 0;
}

int facade_load_file(const char *path, facade **out, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!path || !out) return FACADE_EARG;
    *out = NULL;
    int rc = FACADE_EIO;
    char *buf = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (err && errlen) snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return FACADE_EIO;
    }
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            if (cap >= FACADE_FILE_MAX) {
                if (err && errlen) snprintf(err, errlen, "%s: larger than %u bytes", path,
                                            FACADE_FILE_MAX);
                goto out;
            }
            size_t ncap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = FACADE_ENOMEM;
                if (err && errlen) snprintf(err, errlen, "%s: out of memory", path);
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0) break;
    }
    if (ferror(fp)) {
        if (err && errlen) snprintf(err, errlen, "%s: read error", path);
        goto out;
    }
    rc = facade_load_buffer(path, buf, len, out, err, errlen);
out:
    free(buf);
    fclose(fp);
    return rc;
}

void facade_free(facade *f)
{
    free(f);
}

/* --------------------------------------------------------------- queries */

double facade_width_mm(const facade *f)
{
    return (double)f->cols * (double)f->cell_mm;
}

double facade_height_mm(const facade *f)
{
    return (double)f->rows * (double)f->cell_mm;
}

static const uint8_t cell_void = FACADE_CELL(FACADE_VOID, 0);

uint8_t facade_cell(const facade *f, int64_t col, int64_t row)
{
    if (col < 0 || row < 0 || col >= (int64_t)f->cols || row >= (int64_t)f->rows) return cell_void;
    return f->cells[(size_t)row * f->cols + (size_t)col];
}

uint8_t facade_cell_at(const facade *f, double x_mm, double y_mm)
{
    /* Written so that NaN falls through to VOID. */
    if (!(x_mm >= 0.0 && y_mm >= 0.0)) return cell_void;
    double c = x_mm / (double)f->cell_mm, r = y_mm / (double)f->cell_mm;
    if (!(c < (double)f->cols && r < (double)f->rows)) return cell_void;
    return f->cells[(size_t)r * f->cols + (size_t)c];
}

int facade_cup_cover(const facade *f, double x_mm, double y_mm, double diam_mm, facade_cover *out)
{
    if (!f || !out || !(diam_mm > 0.0)) return FACADE_EARG;
    memset(out, 0, sizeof *out);
    double r = 0.5 * diam_mm, step = diam_mm / COVER_SAMPLES;
    unsigned count[FACADE_SURF_COUNT] = {0};
    unsigned n = 0, dirt = 0;
    for (int i = 0; i < COVER_SAMPLES; i++) {
        double dy = -r + (i + 0.5) * step;
        for (int j = 0; j < COVER_SAMPLES; j++) {
            double dx = -r + (j + 0.5) * step;
            if (dx * dx + dy * dy > r * r) continue;
            uint8_t c = facade_cell_at(f, x_mm + dx, y_mm + dy);
            count[FACADE_CELL_SURFACE(c)]++;
            dirt += (unsigned)FACADE_CELL_DIRT(c);
            n++;
        }
    }
    for (int s = 0; s < FACADE_SURF_COUNT; s++) out->frac[s] = (double)count[s] / n;
    out->dirt_mean = (double)dirt / n;
    return 0;
}

int facade_circle_touches(const facade *f, double x_mm, double y_mm, double diam_mm,
                          facade_surface s)
{
    if (!f) return 0;
    double r = 0.5 * diam_mm, cell = (double)f->cell_mm;
    if (!isfinite(x_mm) || !isfinite(y_mm) || !(r > 0.0)) return s == FACADE_VOID;
    /* Outside the grid by more than the radius: all VOID. */
    if (x_mm + r <= 0.0 || y_mm + r <= 0.0 || x_mm - r >= facade_width_mm(f) ||
        y_mm - r >= facade_height_mm(f))
        return s == FACADE_VOID;
    int64_t c0 = (int64_t)floor((x_mm - r) / cell), c1 = (int64_t)floor((x_mm + r) / cell);
    int64_t r0 = (int64_t)floor((y_mm - r) / cell), r1 = (int64_t)floor((y_mm + r) / cell);
    for (int64_t row = r0; row <= r1; row++) {
        for (int64_t col = c0; col <= c1; col++) {
            if (FACADE_CELL_SURFACE(facade_cell(f, col, row)) != s) continue;
            /* nearest point of the cell square to the centre */
            double lx = (double)col * cell, ly = (double)row * cell;
            double nx = x_mm < lx ? lx : (x_mm > lx + cell ? lx + cell : x_mm);
            double ny = y_mm < ly ? ly : (y_mm > ly + cell ? ly + cell : y_mm);
            double dx = x_mm - nx, dy = y_mm - ny;
            if (dx * dx + dy * dy < r * r) return 1;
        }
    }
    return 0;
}

static int blocks_view(uint8_t c)
{
    facade_surface s = FACADE_CELL_SURFACE(c);
    return s == FACADE_OBSTACLE || s == FACADE_VOID;
}

double facade_ray_mm(const facade *f, double x_mm, double y_mm, facade_dir dir, double max_mm)
{
    if (!f || (unsigned)dir >= FACADE_DIR_COUNT) return -1.0;
    uint8_t here = facade_cell_at(f, x_mm, y_mm);
    if (blocks_view(here)) return 0.0;
    /* The point is inside the grid (VOID otherwise), so the indices fit. */
    double cell = (double)f->cell_mm;
    int64_t col = (int64_t)(x_mm / cell), row = (int64_t)(y_mm / cell);
    int64_t dc = dir == FACADE_DIR_XP ? 1 : dir == FACADE_DIR_XM ? -1 : 0;
    int64_t dr = dir == FACADE_DIR_YP ? 1 : dir == FACADE_DIR_YM ? -1 : 0;
    for (;;) {
        /* distance to the far boundary of the current cell in dir */
        double d;
        switch (dir) {
        case FACADE_DIR_XP: d = (double)(col + 1) * cell - x_mm; break;
        case FACADE_DIR_XM: d = x_mm - (double)col * cell; break;
        case FACADE_DIR_YP: d = (double)(row + 1) * cell - y_mm; break;
        default: d = y_mm - (double)row * cell; break;
        }
        if (d > max_mm) return -1.0;
        col += dc;
        row += dr;
        if (blocks_view(facade_cell(f, col, row))) return d;
    }
}

size_t facade_count(const facade *f, facade_surface s)
{
    size_t n = 0, total = (size_t)f->cols * f->rows;
    for (size_t i = 0; i < total; i++)
        if (FACADE_CELL_SURFACE(f->cells[i]) == s) n++;
    return n;
}
