/*
 * truthlog.c — the ground-truth JSON Lines writer (json-c).
 */
#include "truthlog.h"

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct truthlog {
    FILE *fp;
    int fall_written;
    size_t ncells;
    uint8_t *seen; /* cleaned cells already reported */
    uint64_t seen_n; /* how many of them: the scan is skipped while cleaned_n equals it */
};

const char *truthlog_strerror(int code)
{
    switch (code) {
    case TRUTHLOG_OK: return "ok";
    case TRUTHLOG_EIO: return "cannot write the ground-truth log";
    case TRUTHLOG_ENOMEM: return "out of memory";
    case TRUTHLOG_EARG: return "invalid argument";
    default: return "unknown ground-truth log error";
    }
}

/* A number with a fixed number of decimals (null when not finite). */
static json_object *num(double v, int decimals)
{
    if (!isfinite(v)) return NULL;
    char buf[64];
    snprintf(buf, sizeof buf, "%.*f", decimals, v);
    if (strspn(buf, "-0.") == strlen(buf)) /* a zero: never "-0.000" */
        snprintf(buf, sizeof buf, "%.*f", decimals, 0.0);
    return json_object_new_double_s(strtod(buf, NULL), buf);
}

static json_object *pair(double a, double b, int decimals)
{
    json_object *arr = json_object_new_array();
    json_object_array_add(arr, num(a, decimals));
    json_object_array_add(arr, num(b, decimals));
    return arr;
}

/* Write one object as a line and free it. */
static int emit(truthlog *tl, json_object *o)
{
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    int rc = (s && fputs(s, tl->fp) >= 0 && fputc('\n', tl->fp) != EOF) ? 0 : TRUTHLOG_EIO;
    json_object_put(o);
    return rc;
}

int truthlog_open(truthlog **out, FILE *fp, const phys_state *ps, uint64_t seed)
{
    if (!out || !fp || !ps || !ps->fac) return TRUTHLOG_EARG;
    *out = NULL;
    truthlog *tl = calloc(1, sizeof *tl);
    if (!tl) return TRUTHLOG_ENOMEM;
    tl->fp = fp;
    tl->ncells = (size_t)ps->fac->cols * ps->fac->rows;
    tl->seen = calloc(tl->ncells ? tl->ncells : 1, 1);
    if (!tl->seen) {
        free(tl);
        return TRUTHLOG_ENOMEM;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("start"));
    json_object_object_add(o, "version", json_object_new_int(1));
    json_object_object_add(o, "facade", json_object_new_string(ps->fac->name));
    json_object_object_add(o, "cell_mm", json_object_new_int((int)ps->fac->cell_mm));
    json_object_object_add(o, "cols", json_object_new_int((int)ps->fac->cols));
    json_object_object_add(o, "rows", json_object_new_int((int)ps->fac->rows));
    json_object_object_add(o, "seed", json_object_new_uint64(seed));
    json_object_object_add(o, "step_us", json_object_new_int((int)ps->cfg->step_us));
    json_object_object_add(o, "mass_kg", num(phys_mass_kg(ps), 3));
    json_object_object_add(o, "required_factor", num(ps->cfg->required_factor, 2));
    int rc = emit(tl, o);
    if (rc) {
        free(tl->seen);
        free(tl);
        return rc;
    }
    *out = tl;
    return 0;
}

static int write_fall(truthlog *tl, const phys_state *ps)
{
    if (!ps->fallen || tl->fall_written) return 0;
    tl->fall_written = 1;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("fall"));
    json_object_object_add(o, "t_us", json_object_new_uint64(ps->fall_t_us));
    json_object_object_add(o, "kind", json_object_new_string(phys_fall_name(ps->fall)));
    json_object_object_add(o, "reason", json_object_new_string(ps->fall_reason));
    return emit(tl, o);
}

int truthlog_state(truthlog *tl, const phys_state *ps)
{
    if (!tl || !ps) return TRUTHLOG_EARG;
    int rc = write_fall(tl, ps);
    if (rc) return rc;
    double car[2];
    phys_carriage_m(ps, car);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("state"));
    json_object_object_add(o, "t_us", json_object_new_uint64(ps->t_us));
    json_object_object_add(o, "a_m", pair(ps->body_m[0][0], ps->body_m[0][1], 4));
    json_object_object_add(o, "b_m", pair(ps->body_m[1][0], ps->body_m[1][1], 4));
    json_object_object_add(o, "carriage_m", pair(car[0], car[1], 4));
    json_object_object_add(o, "cyl_mm",
                           pair(ps->cyl_pos_m[0] * 1e3, ps->cyl_pos_m[1] * 1e3, 1));
    json_object_object_add(o, "legs_mm",
                           pair(ps->leg_ext_m[0] * 1e3, ps->leg_ext_m[1] * 1e3, 1));
    json_object_object_add(o, "y", json_object_new_int(ps->y));
    json_object *cups = json_object_new_array();
    for (int i = 0; i < PHYS_CUPS; i++) {
        json_object *c = json_object_new_object();
        json_object_object_add(c, "touch", json_object_new_boolean(ps->cup_touch[i]));
        json_object_object_add(c, "vac_kpa", num(ps->vac_pa[i] / 1e3, 3));
        json_object_object_add(c, "force_n", num(ps->force_n[i], 2));
        json_object_array_add(cups, c);
    }
    json_object_object_add(o, "cups", cups);
    json_object_object_add(o, "manifold_kpa",
                           pair(ps->manifold_pa[0] / 1e3, ps->manifold_pa[1] / 1e3, 3));
    json_object *sf = json_object_new_object();
    json_object_object_add(sf, "factor", num(ps->hold.factor, 4));
    json_object_object_add(sf, "slip", num(ps->hold.slip_margin, 4));
    json_object_object_add(sf, "peel", num(ps->hold.peel_margin, 4));
    json_object_object_add(sf, "limit", json_object_new_string(phys_fall_name(ps->hold.limit)));
    json_object_object_add(sf, "contact", json_object_new_int(ps->hold.n_contact));
    json_object_object_add(o, "sf", sf);
    json_object_object_add(o, "sf_min", num(ps->sf_min, 4));
    json_object_object_add(o, "water_kg", num(ps->water_kg, 4));
    json_object_object_add(o, "wet", json_object_new_boolean(ps->wet_left_s > 0.0));
    json_object_object_add(o, "wind_m_s", num(ps->env.wind_m_s, 2));
    json_object_object_add(o, "fallen", json_object_new_boolean(ps->fallen));
    json_object_object_add(o, "cleaned_n", json_object_new_uint64(ps->cleaned_n));
    /* the cells cleaned since the last state line, as [col, row] (row 0 = bottom) */
    json_object *fresh = json_object_new_array();
    uint32_t cols = ps->fac->cols;
    /* Cells are only ever added to the cleaned map, so an unchanged count
     * means nothing new: skip the scan of every cell (most state lines). */
    for (size_t i = 0; tl->seen_n != ps->cleaned_n && i < tl->ncells; i++) {
        if (!ps->cleaned[i] || tl->seen[i]) continue;
        tl->seen[i] = 1;
        tl->seen_n++;
        json_object *cell = json_object_new_array();
        json_object_array_add(cell, json_object_new_int((int)(i % cols)));
        json_object_array_add(cell, json_object_new_int((int)(i / cols)));
        json_object_array_add(fresh, cell);
    }
    json_object_object_add(o, "cleaned_new", fresh);
    return emit(tl, o);
}

int truthlog_close(truthlog *tl, const phys_state *ps)
{
    if (!tl) return TRUTHLOG_EARG;
    int rc = ps ? write_fall(tl, ps) : 0;
    if (ps && rc == 0) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string("end"));
        json_object_object_add(o, "t_us", json_object_new_uint64(ps->t_us));
        json_object_object_add(o, "fallen", json_object_new_boolean(ps->fallen));
        json_object_object_add(o, "fall", json_object_new_string(phys_fall_name(ps->fall)));
        json_object_object_add(o, "sf_min", num(ps->sf_min, 4));
        json_object_object_add(o, "sf_min_t_us", json_object_new_uint64(ps->sf_min_t_us));
        json_object_object_add(o, "cleaned_n", json_object_new_uint64(ps->cleaned_n));
        json_object_object_add(o, "cleanable_n", json_object_new_uint64(ps->cleanable_n));
        rc = emit(tl, o);
    }
    if (fflush(tl->fp) != 0 && rc == 0) rc = TRUTHLOG_EIO;
    free(tl->seen);
    free(tl);
    return rc;
}
