/*
 * cmd_report.c — `crossclimb report LOG -o FILE.svg`: a run log
 * (docs/log-format.md) as one SVG page: a summary table (the end record's
 * numbers, printed exactly as the log printed them), the coverage map, the
 * vacuum trace of every cup against the sealed/released thresholds, and a
 * timeline of half-steps, HOLDs, acknowledges, faults and operator commands.
 *
 * The log is read strictly: every line must be a JSON object with `type`,
 * `t` and `n` (0, 1, 2, … without gaps), `start` first, nothing after `end`,
 * and the fields the report uses of the right kind.  A bad line is named
 * FILE:LINE on stderr and the command exits 1 without touching the output
 * (the SVG is written to a temporary file next to it and renamed).
 *
 * What the controller's log alone can tell about coverage is limited (see
 * docs/log-format.md "Reports"): it has the region, the brush width, the
 * carriage's moves with the brush on (mission step-end records of kind
 * `clean`) and how every lane ended; it has no facade map, so obstacles and
 * voids are not drawn and "cleaned" is the controller's estimate, not the
 * simulator's truth.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"

#define RPT_CUPS 12
static const char *const cup_names[RPT_CUPS] = {"A1a", "A1b", "A1c", "A2a", "A2b", "A2c",
                                                "B1a", "B1b", "B1c", "B2a", "B2b", "B2c"};

typedef struct {
    double t;
    float kpa[RPT_CUPS];
} rpt_status;

typedef struct {
    double t0, t1; /* t1 < 0: never ended */
    char kind[16];
    double c0[2], c1[2];
    int brush;
} rpt_step;

typedef struct {
    double t;
    char what[16]; /* hold, ack, fault, operator, paused, blocked, ... */
    char label[128];
} rpt_event;

typedef struct {
    int lane, ended;
    double y_mm, x_from, x_to;
    char end[16];
} rpt_lane;

typedef struct {
    const char *path;
    long line;
    /* start */
    char program[16];
    double region[4], brush_mm, sealed, released;
    /* plan */
    int have_plan;
    long lanes, lanes_skipped, region_cells, planned_cells;
    /* records */
    rpt_status *st;
    size_t nst, capst;
    rpt_step *steps;
    size_t nsteps, capsteps;
    rpt_event *ev;
    size_t nev, capev;
    rpt_lane *lane;
    size_t nlane, caplane;
    double t_last;
    /* end */
    json_object *end; /* owned (a reference kept) */
} rpt;

static int bad(rpt *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(rpt *r, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "crossclimb report: %s:%ld: ", r->path, r->line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

static void *grow(void *p, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap) return p;
    size_t nc = *cap ? *cap * 2 : 64;
    void *q = realloc(p, nc * sz);
    if (!q) {
        fprintf(stderr, "crossclimb report: out of memory\n");
        exit(CLI_EXIT_FAIL);
    }
    *cap = nc;
    return q;
}

static int is_num(json_object *o)
{
    return o && (json_object_is_type(o, json_type_double) || json_object_is_type(o, json_type_int));
}

static int get_num(rpt *r, json_object *obj, const char *key, double *out)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !is_num(v))
        return bad(r, "field '%s': missing or not a number", key);
    *out = json_object_get_double(v);
    if (!isfinite(*out)) return bad(r, "field '%s': not finite", key);
    return 0;
}

static int get_str(rpt *r, json_object *obj, const char *key, char *out, size_t n)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return bad(r, "field '%s': missing or not a string", key);
    snprintf(out, n, "%s", json_object_get_string(v));
    return 0;
}

/* an array of exactly n numbers (nulls allowed when allow_null: NAN) */
static int get_arr(rpt *r, json_object *obj, const char *key, double *out, size_t n, int allow_null)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_array) ||
        json_object_array_length(v) != n)
        return bad(r, "field '%s': missing or not an array of %zu", key, n);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!e && allow_null)
            out[i] = NAN;
        else if (!is_num(e))
            return bad(r, "field '%s'[%zu]: not a number", key, i);
        else
            out[i] = json_object_get_double(e);
    }
    return 0;
}

static void add_event(rpt *r, double t, const char *what, const char *label)
{
    r->ev = grow(r->ev, &r->capev, r->nev, sizeof *r->ev);
    rpt_event *e = &r->ev[r->nev++];
    e->t = t;
    snprintf(e->what, sizeof e->what, "%s", what);
    snprintf(e->label, sizeof e->label, "%s", label);
}

static int pose_c(rpt *r, json_object *rec, const char *key, double c[2])
{
    json_object *p;
    if (!json_object_object_get_ex(rec, key, &p) || !json_object_is_type(p, json_type_object))
        return bad(r, "field '%s': missing or not an object", key);
    return get_arr(r, p, "c_mm", c, 2, 0);
}

static int rec_mission(rpt *r, json_object *rec, double t)
{
    char ev[24], s[64];
    if (get_str(r, rec, "event", ev, sizeof ev)) return -1;
    if (!strcmp(ev, "step-begin")) {
        r->steps = grow(r->steps, &r->capsteps, r->nsteps, sizeof *r->steps);
        rpt_step *p = &r->steps[r->nsteps];
        memset(p, 0, sizeof *p);
        p->t0 = t;
        p->t1 = -1.0;
        if (get_str(r, rec, "kind", p->kind, sizeof p->kind) || pose_c(r, rec, "before", p->c0) ||
            pose_c(r, rec, "after", p->c1))
            return -1;
        r->nsteps++;
    } else if (!strcmp(ev, "step-end")) {
        if (!r->nsteps || r->steps[r->nsteps - 1].t1 >= 0.0) return bad(r, "step-end without step-begin");
        rpt_step *p = &r->steps[r->nsteps - 1];
        char kind[16];
        double aux;
        if (get_str(r, rec, "kind", kind, sizeof kind) || pose_c(r, rec, "before", p->c0) ||
            pose_c(r, rec, "after", p->c1) || get_num(r, rec, "aux", &aux))
            return -1;
        if (strcmp(kind, p->kind)) return bad(r, "step-end of kind '%s' after a step-begin of '%s'", kind, p->kind);
        p->t1 = t;
        p->brush = ((long)aux & 1024) != 0 || !strcmp(kind, "clean");
    } else if (!strcmp(ev, "lane-begin") || !strcmp(ev, "lane-end")) {
        double lane, y;
        if (get_num(r, rec, "lane", &lane) || get_num(r, rec, "y_mm", &y)) return -1;
        if (!strcmp(ev, "lane-begin")) {
            r->lane = grow(r->lane, &r->caplane, r->nlane, sizeof *r->lane);
            rpt_lane *l = &r->lane[r->nlane++];
            memset(l, 0, sizeof *l);
            l->lane = (int)lane;
            l->y_mm = y;
        } else {
            double x[2];
            rpt_lane *l = NULL;
            for (size_t i = r->nlane; i-- > 0;)
                if (r->lane[i].lane == (int)lane && !r->lane[i].ended) {
                    l = &r->lane[i];
                    break;
                }
            if (!l) { /* a skipped lane never begins */
                r->lane = grow(r->lane, &r->caplane, r->nlane, sizeof *r->lane);
                l = &r->lane[r->nlane++];
                memset(l, 0, sizeof *l);
                l->lane = (int)lane;
            }
            l->y_mm = y;
            if (get_str(r, rec, "end", l->end, sizeof l->end)) return -1;
            if (get_arr(r, rec, "x_mm", x, 2, 1)) return -1;
            l->x_from = fmin(x[0], x[1]);
            l->x_to = fmax(x[0], x[1]);
            l->ended = 1;
        }
    } else if (!strcmp(ev, "paused") || !strcmp(ev, "blocked") || !strcmp(ev, "stopped") ||
               !strcmp(ev, "resumed")) {
        char why[40] = "";
        json_object *v;
        if ((json_object_object_get_ex(rec, "reason", &v) || json_object_object_get_ex(rec, "because", &v)) &&
            json_object_is_type(v, json_type_string))
            snprintf(why, sizeof why, " %s", json_object_get_string(v));
        snprintf(s, sizeof s, "%s%s", ev, why);
        add_event(r, t, "mission", s);
    }
    return 0;
}

static int record(rpt *r, json_object *rec)
{
    char type[24], s[128], a[40], b[40];
    double t, n;
    if (!json_object_is_type(rec, json_type_object)) return bad(r, "not a JSON object");
    if (get_str(r, rec, "type", type, sizeof type) || get_num(r, rec, "t", &t) || get_num(r, rec, "n", &n))
        return -1;
    if (n != (double)(r->line - 1)) return bad(r, "record number %.0f, expected %ld", n, r->line - 1);
    if (r->line == 1 && strcmp(type, "start")) return bad(r, "the first record is '%s', not 'start'", type);
    if (r->end) return bad(r, "a record after the end record");
    if (t < 0.0) return bad(r, "negative time");
    r->t_last = t;
    if (!strcmp(type, "start")) {
        json_object *p;
        if (r->line != 1) return bad(r, "a second start record");
        if (get_str(r, rec, "program", r->program, sizeof r->program) ||
            get_arr(r, rec, "region_mm", r->region, 4, 0) || get_num(r, rec, "brush_width_mm", &r->brush_mm))
            return -1;
        if (!(r->region[0] < r->region[2] && r->region[1] < r->region[3])) return bad(r, "empty region_mm");
        if (!json_object_object_get_ex(rec, "params", &p) || !json_object_is_type(p, json_type_object))
            return bad(r, "field 'params': missing or not an object");
        if (get_num(r, p, "vac_sealed_kpa", &r->sealed) || get_num(r, p, "vac_released_kpa", &r->released))
            return -1;
    } else if (!strcmp(type, "plan")) {
        double v[4];
        if (get_num(r, rec, "lanes", &v[0]) || get_num(r, rec, "lanes_skipped", &v[1]) ||
            get_num(r, rec, "region_cells", &v[2]) || get_num(r, rec, "planned_cells", &v[3]))
            return -1;
        r->have_plan = 1;
        r->lanes = (long)v[0];
        r->lanes_skipped = (long)v[1];
        r->region_cells = (long)v[2];
        r->planned_cells = (long)v[3];
    } else if (!strcmp(type, "status")) {
        double k[RPT_CUPS];
        if (get_arr(r, rec, "cup_kpa", k, RPT_CUPS, 0)) return -1;
        r->st = grow(r->st, &r->capst, r->nst, sizeof *r->st);
        r->st[r->nst].t = t;
        for (int i = 0; i < RPT_CUPS; i++) r->st[r->nst].kpa[i] = (float)k[i];
        r->nst++;
    } else if (!strcmp(type, "hold")) {
        json_object *d;
        if (get_str(r, rec, "reason", a, sizeof a)) return -1;
        b[0] = '\0';
        if (json_object_object_get_ex(rec, "detail", &d) && json_object_is_type(d, json_type_string))
            snprintf(b, sizeof b, "%s", json_object_get_string(d));
        snprintf(s, sizeof s, "HOLD %s%s%s", a, b[0] ? " " : "", b);
        add_event(r, t, "hold", s);
    } else if (!strcmp(type, "ack")) {
        json_object *ok;
        if (get_str(r, rec, "by", a, sizeof a)) return -1;
        if (!json_object_object_get_ex(rec, "ok", &ok) || !json_object_is_type(ok, json_type_boolean))
            return bad(r, "field 'ok': missing or not a boolean");
        snprintf(s, sizeof s, "ACK %s%s", a, json_object_get_boolean(ok) ? "" : " refused");
        add_event(r, t, "ack", s);
    } else if (!strcmp(type, "fault")) {
        if (get_str(r, rec, "kind", a, sizeof a)) return -1;
        snprintf(s, sizeof s, "FAULT %s", a);
        add_event(r, t, "fault", s);
    } else if (!strcmp(type, "operator")) {
        if (get_str(r, rec, "command", a, sizeof a)) return -1;
        snprintf(s, sizeof s, "OP %s", a);
        add_event(r, t, "operator", s);
    } else if (!strcmp(type, "mission")) {
        return rec_mission(r, rec, t);
    } else if (!strcmp(type, "end")) {
        static const char *const need[] = {"falls", "coverage", "area_m2", "sim_time_s", "rate_m2_per_h",
                                           "min_safety_factor", "holds", "refused_commands"};
        if (get_str(r, rec, "outcome", a, sizeof a)) return -1;
        for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
            double v;
            if (get_num(r, rec, need[i], &v)) return -1;
        }
        r->end = json_object_get(rec);
    } else if (strcmp(type, "command") && strcmp(type, "progress")) {
        return bad(r, "unknown record type '%s'", type);
    }
    return 0;
}

static int read_log(rpt *r, const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    if (!f) {
        fprintf(stderr, "crossclimb report: %s: %s\n", path, strerror(errno));
        return -1;
    }
    r->path = path;
    r->line = 0;
    while ((len = getline(&buf, &cap, f)) >= 0) {
        r->line++;
        if (len > 0 && buf[len - 1] == '\n') buf[--len] = '\0';
        json_tokener *tok = json_tokener_new();
        json_object *o = json_tokener_parse_ex(tok, buf, (int)len + 1);
        enum json_tokener_error e = json_tokener_get_error(tok);
        if (e != json_tokener_success || !o) {
            bad(r, "not JSON: %s", e == json_tokener_success ? "empty" : json_tokener_error_desc(e));
            json_tokener_free(tok);
            rc = -1;
            break;
        }
        size_t used = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (used < (size_t)len + 1 && buf[used] != '\0') {
            bad(r, "text after the JSON object");
            json_object_put(o);
            rc = -1;
            break;
        }
        rc = record(r, o);
        json_object_put(o);
        if (rc) break;
    }
    if (!rc && ferror(f)) {
        fprintf(stderr, "crossclimb report: %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    if (!rc && r->line == 0) {
        fprintf(stderr, "crossclimb report: %s: empty log\n", path);
        rc = -1;
    }
    free(buf);
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------------ SVG */

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t') fputc(*s, f);
        }
    }
}

static void text(FILE *f, double x, double y, const char *attr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void text(FILE *f, double x, double y, const char *attr, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\"%s%s>", x, y, attr ? " " : "", attr ? attr : "");
    xml_text(f, buf);
    fputs("</text>\n", f);
}

enum { CELL_MISSED, CELL_CLEANED, CELL_UNREACH };

static void band(uint8_t *m, int cols, int rows, double cell, const double *reg, double x0, double x1, double y0,
                 double y1, uint8_t v, int only_missed)
{
    for (int j = 0; j < rows; j++) {
        double cy = reg[1] + (j + 0.5) * cell;
        if (cy < y0 || cy > y1) continue;
        for (int i = 0; i < cols; i++) {
            double cx = reg[0] + (i + 0.5) * cell;
            if (cx < x0 || cx > x1) continue;
            if (only_missed && m[j * cols + i] != CELL_MISSED) continue;
            m[j * cols + i] = v;
        }
    }
}

static void svg_map(FILE *f, const rpt *r, double X, double Y, double W, double H)
{
    const double *reg = r->region;
    double rw = reg[2] - reg[0], rh = reg[3] - reg[1];
    double cell = 50.0;
    while (rw / cell > 200 || rh / cell > 200) cell *= 2;
    int cols = (int)ceil(rw / cell - 1e-9), rows = (int)ceil(rh / cell - 1e-9);
    double sc = fmin(W / (cols * cell), H / (rows * cell));
    double half = r->brush_mm / 2.0;
    uint8_t *m = calloc((size_t)cols * rows, 1);
    if (!m) return;
    /* cleaned: the carriage's moves with the brush on, a band of the brush's width */
    for (size_t k = 0; k < r->nsteps; k++) {
        const rpt_step *p = &r->steps[k];
        if (p->t1 < 0.0 || !p->brush) continue;
        band(m, cols, rows, cell, reg, fmin(p->c0[0], p->c1[0]) - half, fmax(p->c0[0], p->c1[0]) + half,
             fmin(p->c0[1], p->c1[1]) - half, fmax(p->c0[1], p->c1[1]) + half, CELL_CLEANED, 0);
    }
    /* unreachable: a skipped lane's band, and the rest of a blocked lane */
    for (size_t k = 0; k < r->nlane; k++) {
        const rpt_lane *l = &r->lane[k];
        if (!l->ended) continue;
        double y0 = l->y_mm - half, y1 = l->y_mm + half;
        if (!strcmp(l->end, "skipped") || isnan(l->x_from))
            band(m, cols, rows, cell, reg, reg[0], reg[2], y0, y1, CELL_UNREACH, 1);
        else if (!strcmp(l->end, "blocked")) {
            band(m, cols, rows, cell, reg, reg[0], l->x_from - half, y0, y1, CELL_UNREACH, 1);
            band(m, cols, rows, cell, reg, l->x_to + half, reg[2], y0, y1, CELL_UNREACH, 1);
        }
    }
    size_t cnt[3] = {0, 0, 0};
    static const char *const fill[3] = {"url(#missed)", "url(#cleaned)", "url(#unreach)"};
    double ox = X, oy = Y + rows * cell * sc; /* row 0 at the bottom */
    for (int j = 0; j < rows; j++) {
        for (int i = 0; i < cols;) {
            int v = m[j * cols + i], e = i;
            while (e < cols && m[j * cols + e] == v) e++;
            cnt[v] += (size_t)(e - i);
            fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n", ox + i * cell * sc,
                    oy - (j + 1) * cell * sc, (e - i) * cell * sc, cell * sc, fill[v]);
            i = e;
        }
    }
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" stroke=\"#000\"/>\n", ox, Y,
            cols * cell * sc, rows * cell * sc);
    /* the carriage's path */
    for (size_t k = 0; k < r->nsteps; k++) {
        const rpt_step *p = &r->steps[k];
        if (p->t1 < 0.0) continue;
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" stroke-width=\"1\"%s/>\n",
                ox + (p->c0[0] - reg[0]) * sc, oy - (p->c0[1] - reg[1]) * sc, ox + (p->c1[0] - reg[0]) * sc,
                oy - (p->c1[1] - reg[1]) * sc, p->brush ? "" : " stroke-dasharray=\"3,3\"");
    }
    text(f, X, Y + rows * cell * sc + 14, "font-size=\"11\"", "region x %.0f..%.0f mm, y %.0f..%.0f mm; grid %.0f mm",
         reg[0], reg[2], reg[1], reg[3], cell);
    double ly = Y + rows * cell * sc + 22;
    const char *names[3] = {"missed (no brush pass logged)", "cleaned (brush on, controller's estimate)",
                            "unreachable (lane skipped or blocked)"};
    int order[3] = {CELL_CLEANED, CELL_MISSED, CELL_UNREACH};
    for (int q = 0; q < 3; q++) {
        int v = order[q];
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"14\" fill=\"%s\" stroke=\"#000\"/>\n", X,
                ly + q * 18, fill[v]);
        text(f, X + 20, ly + q * 18 + 11, "font-size=\"11\"", "%s: %zu cells", names[v], cnt[v]);
    }
    text(f, X, ly + 3 * 18 + 11, "font-size=\"11\"", "solid line: carriage move with brush; dashed: brush off");
    text(f, X, ly + 4 * 18 + 11, "font-size=\"11\"",
         "The log has no facade map: obstacles and voids are not shown.");
    free(m);
}

static void svg_vacuum(FILE *f, const rpt *r, double X, double Y, double tmax)
{
    const double pw = 150, ph = 80, gx = 12, gy = 34;
    double vmax = fmax(70.0, r->sealed + 10.0);
    for (size_t k = 0; k < r->nst; k++)
        for (int c = 0; c < RPT_CUPS; c++) vmax = fmax(vmax, r->st[k].kpa[c]);
    for (int c = 0; c < RPT_CUPS; c++) {
        double x = X + (c % 6) * (pw + gx), y = Y + (c / 6) * (ph + gy);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fff\" stroke=\"#000\"/>\n", x,
                y, pw, ph);
        text(f, x + 2, y - 3, "font-size=\"11\" font-weight=\"bold\"", "cup %s (kPa)", cup_names[c]);
        double ys = y + ph - r->sealed / vmax * ph, yr = y + ph - r->released / vmax * ph;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#060\" stroke-dasharray=\"6,3\"/>\n",
                x, ys, x + pw, ys);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#a00\" stroke-dasharray=\"1,3\"/>\n",
                x, yr, x + pw, yr);
        text(f, x + pw - 2, ys - 2, "font-size=\"8\" text-anchor=\"end\"", "sealed %.1f", r->sealed);
        text(f, x + pw - 2, yr - 2, "font-size=\"8\" text-anchor=\"end\"", "released %.1f", r->released);
        if (!r->nst) {
            text(f, x + 4, y + ph / 2, "font-size=\"10\"", "no status records");
            continue;
        }
        fprintf(f, "<polyline fill=\"none\" stroke=\"#004\" stroke-width=\"1\" points=\"");
        for (size_t k = 0; k < r->nst; k++)
            fprintf(f, "%.1f,%.1f ", x + r->st[k].t / tmax * pw, y + ph - r->st[k].kpa[c] / vmax * ph);
        fputs("\"/>\n", f);
    }
    text(f, X, Y + 2 * (ph + gy) - 16, "font-size=\"11\"",
         "x: PLC time 0..%.1f s; y: 0..%.0f kPa; dashed: sealed threshold; dotted: released threshold", tmax, vmax);
}

static void svg_timeline(FILE *f, const rpt *r, double X, double Y, double W, double tmax)
{
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>\n", X, Y + 40, X + W, Y + 40);
    for (int k = 0; k <= 10; k++) {
        double x = X + W * k / 10.0;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>\n", x, Y + 40, x, Y + 44);
        text(f, x, Y + 55, "font-size=\"9\" text-anchor=\"middle\"", "%.0f s", tmax * k / 10.0);
    }
    text(f, X - 4, Y + 22, "font-size=\"10\" text-anchor=\"end\"", "steps");
    for (size_t k = 0; k < r->nsteps; k++) {
        const rpt_step *p = &r->steps[k];
        double t1 = p->t1 < 0.0 ? r->t_last : p->t1;
        fprintf(f,
                "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"24\" fill=\"%s\" stroke=\"#000\" "
                "stroke-width=\"0.5\"><title>",
                X + p->t0 / tmax * W, Y + 10, fmax(0.5, (t1 - p->t0) / tmax * W),
                p->brush ? "url(#cleaned)" : (p->t1 < 0.0 ? "url(#unreach)" : "#ddd"));
        fprintf(f, "%s %.2f-%.2f s%s</title></rect>\n", p->kind, p->t0, t1, p->t1 < 0.0 ? " (not ended)" : "");
    }
    text(f, X, Y + 6, "font-size=\"9\"", "%zu half-steps: hatched = brush on (clean), grey = transit/home/sidestep, "
                                         "dotted = not ended",
         r->nsteps);
    /* events on rows below, labelled */
    double ey = Y + 70;
    static const char *const mark[] = {"hold", "H", "ack", "A", "fault", "F", "operator", "O", "mission", "M"};
    size_t shown = 0;
    for (size_t k = 0; k < r->nev; k++) {
        const rpt_event *e = &r->ev[k];
        const char *sym = "?";
        for (size_t q = 0; q < sizeof mark / sizeof mark[0]; q += 2)
            if (!strcmp(mark[q], e->what)) sym = mark[q + 1];
        double x = X + e->t / tmax * W;
        int row = (int)(shown % 6);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" stroke-dasharray=\"%s\"/>\n",
                x, Y + 8, x, ey + row * 14 - 8, !strcmp(e->what, "hold") ? "4,2" : "1,2");
        text(f, x + 2, ey + row * 14, !strcmp(e->what, "hold") ? "font-size=\"10\" font-weight=\"bold\""
                                                               : "font-size=\"10\"",
             "[%s] %.2f s %s", sym, e->t, e->label);
        shown++;
    }
    text(f, X, ey + 6 * 14 + 6, "font-size=\"9\"",
         "[H] HOLD (dashed)  [A] acknowledge  [F] fault  [O] operator  [M] mission pause/block/stop");
}

static int write_svg(FILE *f, const rpt *r, const char *logpath)
{
    const double W = 1000, H = 1000;
    double tmax = r->t_last > 0.0 ? r->t_last : 1.0;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "font-family=\"sans-serif\">\n",
            W, H, W, H);
    fputs("<defs>\n"
          "<pattern id=\"cleaned\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
          "<rect width=\"6\" height=\"6\" fill=\"#bfe6bf\"/><path d=\"M0,6 L6,0\" stroke=\"#050\" stroke-width=\"1\"/>"
          "</pattern>\n"
          "<pattern id=\"missed\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\">"
          "<rect width=\"8\" height=\"8\" fill=\"#fff\"/><path d=\"M1,1 L7,7 M7,1 L1,7\" stroke=\"#b00\" "
          "stroke-width=\"0.8\"/></pattern>\n"
          "<pattern id=\"unreach\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
          "<rect width=\"6\" height=\"6\" fill=\"#ccc\"/><circle cx=\"3\" cy=\"3\" r=\"1\" fill=\"#333\"/></pattern>\n"
          "</defs>\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n",
          f);
    text(f, 20, 28, "font-size=\"18\" font-weight=\"bold\"", "crossclimb run report: %s", logpath);
    text(f, 20, 46, "font-size=\"11\"", "program %s; %zu status records; last record at %.2f s", r->program, r->nst,
         r->t_last);

    /* summary table */
    double tx = 20, ty = 70;
    text(f, tx, ty, "font-size=\"14\" font-weight=\"bold\"", "Summary (end record)");
    static const char *const keys[] = {"outcome",   "source",        "falls",         "coverage",
                                       "area_m2",   "sim_time_s",    "rate_m2_per_h", "min_safety_factor",
                                       "holds",     "refused_commands", "cycles",     "link_failures",
                                       "half_steps"};
    size_t nk = sizeof keys / sizeof keys[0];
    for (size_t i = 0; i < nk; i++) {
        double y = ty + 10 + i * 18;
        json_object *v = NULL;
        const char *val;
        if (!r->end)
            val = i == 0 ? "no end record (log cut short)" : "-";
        else if (!json_object_object_get_ex(r->end, keys[i], &v) || !v)
            val = "-";
        else if (json_object_is_type(v, json_type_string))
            val = json_object_get_string(v);
        else
            val = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"360\" height=\"18\" fill=\"%s\" stroke=\"#888\"/>\n", tx, y,
                i % 2 ? "#fff" : "#f2f2f2");
        text(f, tx + 4, y + 13, "font-size=\"12\"", "%s", keys[i]);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" font-family=\"monospace\" class=\"summary\" "
                   "id=\"sum-%s\">",
                tx + 170, y + 13, keys[i]);
        xml_text(f, val);
        fputs("</text>\n", f);
    }
    if (r->have_plan)
        text(f, tx, ty + 10 + nk * 18 + 16, "font-size=\"11\"",
             "plan: %ld lanes (%ld skipped), %ld of %ld region cells reachable", r->lanes, r->lanes_skipped,
             r->planned_cells, r->region_cells);

    /* coverage map to the right */
    text(f, 420, 70, "font-size=\"14\" font-weight=\"bold\"", "Coverage map (from the controller's log)");
    svg_map(f, r, 420, 80, 560, 250);

    text(f, 20, 470, "font-size=\"14\" font-weight=\"bold\"", "Vacuum per cup");
    svg_vacuum(f, r, 20, 500, tmax);

    text(f, 20, 770, "font-size=\"14\" font-weight=\"bold\"", "Timeline: half-steps, HOLDs, acknowledges, faults");
    svg_timeline(f, r, 60, 780, 900, tmax);
    fputs("</svg>\n", f);
    return ferror(f) ? -1 : 0;
}

static void report_usage(FILE *f)
{
    fprintf(f, "usage: crossclimb report LOG -o FILE.svg\n"
               "  LOG: a run log (JSON Lines) of `crossclimb run --log` or `crossclimb demo --log`\n"
               "  -o FILE.svg: the report (written to a temporary file, then renamed)\n");
}

int cmd_report(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            report_usage(stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "crossclimb report: %s: missing value\n", argv[i]);
                return CLI_EXIT_USAGE;
            }
            out = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "crossclimb report: unknown option '%s'\n", argv[i]);
            report_usage(stderr);
            return CLI_EXIT_USAGE;
        } else if (!in) {
            in = argv[i];
        } else {
            fprintf(stderr, "crossclimb report: one log only ('%s')\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "crossclimb report: LOG and -o FILE.svg are required\n");
        report_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    rpt r;
    memset(&r, 0, sizeof r);
    int rc = CLI_EXIT_FAIL;
    char tmp[4096];
    FILE *f = NULL;
    if (read_log(&r, in)) goto done;
    if (snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", out) >= (int)sizeof tmp) {
        fprintf(stderr, "crossclimb report: %s: name too long\n", out);
        goto done;
    }
    int fd = mkstemp(tmp);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        fprintf(stderr, "crossclimb report: %s: %s\n", out, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        goto done;
    }
    int wr = write_svg(f, &r, in);
    if (fclose(f) || wr) {
        fprintf(stderr, "crossclimb report: %s: write failed: %s\n", out, strerror(errno));
        unlink(tmp);
        goto done;
    }
    if (rename(tmp, out)) {
        fprintf(stderr, "crossclimb report: %s: %s\n", out, strerror(errno));
        unlink(tmp);
        goto done;
    }
    printf("report: %s -> %s (%zu half-steps, %zu status records, %zu events)\n", in, out, r.nsteps, r.nst, r.nev);
    rc = CLI_EXIT_OK;
done:
    free(r.st);
    free(r.steps);
    free(r.ev);
    free(r.lane);
    if (r.end) json_object_put(r.end);
    return rc;
}
