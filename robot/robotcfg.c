/*
 * robotcfg.c — the robot configuration: one table of keys (section, name,
 * unit scale, range, SPEC §2 default), read with inih.
 *
 * inih is driven through ini_parse_stream() with our own line reader, so
 * the handler always knows the line it is looking at (the packaged inih
 * does not pass line numbers to handlers).
 */
#include "robotcfg.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ROBOTCFG_FILE_MAX (1024u * 1024u)
#define ROBOTCFG_LINE_MAX 180 /* below inih's 200-byte line buffer */

#define PI 3.14159265358979323846

const char *robotcfg_strerror(int code)
{
    switch (code) {
    case ROBOTCFG_OK: return "ok";
    case ROBOTCFG_EIO: return "cannot read the robot configuration";
    case ROBOTCFG_ESYNTAX: return "invalid robot configuration";
    case ROBOTCFG_EVALUE: return "invalid value in the robot configuration";
    case ROBOTCFG_EARG: return "invalid argument";
    default: return "unknown robot configuration error";
    }
}

typedef enum { K_DOUBLE = 0, K_PAIR, K_BOOL, K_U32, K_TYPE_COUNT } key_type;

typedef struct {
    const char *section;
    const char *name;
    key_type type;
    size_t off;      /* offsetof in robotcfg */
    double scale;    /* file unit -> SI */
    double min, max; /* range in file units (both components of a pair) */
    double def, def2;/* default in file units (def2: second of a pair) */
} cfg_key;

#define OFF(f) offsetof(robotcfg, f)
#define D(sec, key, field, scale, lo, hi, def) {sec, key, K_DOUBLE, OFF(field), scale, lo, hi, def, 0}
#define P(sec, key, field, lo, hi, dx, dy) {sec, key, K_PAIR, OFF(field), 1e-3, lo, hi, dx, dy}

/* deg -> rad */
#define DEG (PI / 180.0)

static const cfg_key keys[] = {
    D("robot", "mass_dry_kg", mass_dry_kg, 1, 1, 500, 21),
    D("robot", "body_a_kg", body_a_kg, 1, 0, 500, 5),
    D("robot", "body_b_kg", body_b_kg, 1, 0, 500, 5),
    D("robot", "tank_kg", tank_kg, 1, 0, 100, 4),
    D("robot", "water_start_kg", water_start_kg, 1, 0, 100, 4),
    D("robot", "water_low_kg", water_low_kg, 1, 0, 100, 0.4),
    D("robot", "drain_g_s", drain_kg_s, 1e-3, 0, 1000, 3.3),
    D("robot", "cg_height_mm", cg_height_m, 1e-3, 0, 5000, 120),

    D("cylinders", "stroke_x_mm", stroke_m[0], 1e-3, 10, 5000, 300),
    D("cylinders", "stroke_y_mm", stroke_m[1], 1e-3, 10, 5000, 300),
    D("cylinders", "speed_side_m_s", speed_side_m_s, 1, 0.001, 10, 0.15),
    D("cylinders", "speed_up_m_s", speed_up_m_s, 1, 0.001, 10, 0.10),
    D("cylinders", "speed_down_m_s", speed_down_m_s, 1, 0.001, 10, 0.20),
    D("cylinders", "cushion_mm", cushion_m, 1e-3, 0, 1000, 15),
    D("cylinders", "cushion_factor", cushion_factor, 1, 0.01, 1, 0.3),
    D("cylinders", "reed_window_mm", reed_window_m, 1e-3, 0.1, 100, 3),
    D("cylinders", "supply_nominal_kpa", supply_nominal_pa, 1e3, 50, 2000, 600),
    D("cylinders", "supply_min_kpa", supply_min_pa, 1e3, 0, 2000, 150),

    D("legs", "stroke_mm", leg_stroke_m, 1e-3, 1, 500, 40),
    D("legs", "down_ms", leg_down_s, 1e-3, 10, 10000, 400),
    D("legs", "up_ms", leg_up_s, 1e-3, 10, 10000, 300),
    D("legs", "switch_window_mm", leg_switch_m, 1e-3, 0.1, 100, 2),
    D("legs", "lift_force_n", leg_lift_force_n, 1, 0, 100000, 300),

    D("cups", "diameter_mm", cup_diameter_m, 1e-3, 10, 1000, 100),
    D("cups", "triangle_radius_mm", cup_tri_radius_m, 1e-3, 1, 2000, 80),
    D("cups", "triangle_angle_deg", cup_tri_angle_rad, DEG, -360, 360, 90),
    P("cups", "foot_a1_mm", foot_m[0][0], -5000, 5000, -400, 0),
    P("cups", "foot_a2_mm", foot_m[0][1], -5000, 5000, 400, 0),
    P("cups", "foot_b1_mm", foot_m[1][0], -5000, 5000, 0, -400),
    P("cups", "foot_b2_mm", foot_m[1][1], -5000, 5000, 0, 400),
    D("cups", "contact_min", contact_min, 1, 0.01, 1, 0.5),

    D("vacuum", "nominal_kpa", vac_nominal_pa, 1e3, 1, 100, 60),
    D("vacuum", "sealed_kpa", vac_sealed_pa, 1e3, 0.1, 100, 45),
    D("vacuum", "released_kpa", vac_released_pa, 1e3, 0, 100, 10),
    /* 6 cups rising together see tau * (1 + 6 droop) = 0.451 * 1.6 = 0.722 s:
     * 0 -> 45 of 60 kPa in 0.722 * ln 4 = 1.0 s on glass (SPEC: about 1 s). */
    D("vacuum", "ejector_tau_ms", ejector_tau_s, 1e-3, 1, 100000, 451),
    D("vacuum", "ejector_droop", ejector_droop, 1, 0, 10, 0.1),
    D("vacuum", "ejector_full_supply_kpa", ejector_full_pa, 1e3, 1, 2000, 400),
    /* 60 -> 10 kPa: 0.279 * ln 6 = 0.50 s (SPEC: about 0.5 s). */
    D("vacuum", "blowoff_tau_ms", blowoff_tau_s, 1e-3, 1, 100000, 279),
    D("vacuum", "switch_hysteresis_kpa", vac_switch_hyst_pa, 1e3, 0, 50, 2),

    D("leak", "glass_per_s", leak_per_s[FACADE_GLASS], 1, 0, 1000, 0.002),
    D("leak", "tile_per_s", leak_per_s[FACADE_TILE], 1, 0, 1000, 0.02),
    D("leak", "concrete_per_s", leak_per_s[FACADE_CONCRETE], 1, 0, 1000, 0.08),
    D("leak", "joint_per_s", leak_per_s[FACADE_JOINT], 1, 0, 1000, 5),
    D("leak", "mullion_per_s", leak_per_s[FACADE_MULLION], 1, 0, 1000, 5),
    D("leak", "obstacle_per_s", leak_per_s[FACADE_OBSTACLE], 1, 0, 1000, 20),
    D("leak", "void_per_s", leak_per_s[FACADE_VOID], 1, 0, 1000, 20),
    D("leak", "dirt_per_s", leak_dirt_per_s, 1, 0, 1000, 0.01),

    D("friction", "glass_dry", mu_dry[FACADE_GLASS], 1, 0, 2, 0.5),
    D("friction", "glass_wet", mu_wet[FACADE_GLASS], 1, 0, 2, 0.25),
    D("friction", "tile_dry", mu_dry[FACADE_TILE], 1, 0, 2, 0.6),
    D("friction", "tile_wet", mu_wet[FACADE_TILE], 1, 0, 2, 0.35),
    D("friction", "concrete_dry", mu_dry[FACADE_CONCRETE], 1, 0, 2, 0.7),
    D("friction", "concrete_wet", mu_wet[FACADE_CONCRETE], 1, 0, 2, 0.5),
    D("friction", "joint_dry", mu_dry[FACADE_JOINT], 1, 0, 2, 0.6),
    D("friction", "joint_wet", mu_wet[FACADE_JOINT], 1, 0, 2, 0.4),
    D("friction", "mullion_dry", mu_dry[FACADE_MULLION], 1, 0, 2, 0.4),
    D("friction", "mullion_wet", mu_wet[FACADE_MULLION], 1, 0, 2, 0.2),
    D("friction", "dirt_factor", mu_dirt_factor, 1, 0, 0.33, 0.15),
    D("friction", "wet_dry_s", wet_dry_s, 1, 0, 100000, 120),

    D("safety", "required_factor", required_factor, 1, 1, 100, 2.0),

    D("brush", "width_mm", brush_width_m, 1e-3, 0, 5000, 600),
    D("brush", "reaction_n", brush_reaction_n, 1, 0, 10000, 20),

    D("wind", "speed_m_s", wind_m_s, 1, 0, 100, 0),
    D("wind", "direction_deg", wind_dir_rad, DEG, -360, 360, 0),
    D("wind", "area_m2", wind_area_m2, 1, 0, 100, 0.3),
    D("wind", "drag_coeff", wind_cd, 1, 0, 10, 1.2),
    D("wind", "shear_fraction", wind_shear_frac, 1, 0, 1, 0.5),
    D("wind", "pull_fraction", wind_pull_frac, 1, 0, 1, 0.5),
    D("wind", "height_mm", wind_height_m, 1e-3, 0, 5000, 150),
    D("wind", "air_density_kg_m3", air_density_kg_m3, 1, 0.1, 10, 1.225),
    D("wind", "gust_m_s", gust_m_s, 1, 0, 100, 0),
    D("wind", "gust_rate_per_min", gust_rate_per_s, 1.0 / 60.0, 0, 600, 0),
    D("wind", "gust_ms", gust_s, 1e-3, 10, 600000, 3000),

    D("sensors", "vacuum_noise_kpa", vac_noise_pa, 1e3, 0, 100, 0.2),
    D("sensors", "vacuum_quant_kpa", vac_quant_pa, 1e3, 0.1, 100, 0.1),
    D("sensors", "vacuum_offset_kpa", vac_offset_pa, 1e3, -100, 100, 0),
    D("sensors", "vacuum_offset_spread_kpa", vac_offset_spread_pa, 1e3, 0, 100, 0.3),
    D("sensors", "proximity_noise_mm", prox_noise_m, 1e-3, 0, 1000, 3),
    D("sensors", "proximity_quant_mm", prox_quant_m, 1e-3, 1, 1000, 1),
    D("sensors", "proximity_max_mm", prox_max_m, 1e-3, 1, 60000, 2000),
    D("sensors", "proximity_dropout", prox_dropout, 1, 0, 1, 0.01),
    {"sensors", "position_sensors", K_BOOL, OFF(position_sensors), 1, 0, 1, 0, 0},
    D("sensors", "position_noise_mm", pos_noise_m, 1e-3, 0, 100, 0.5),
    D("sensors", "edge_lookahead_mm", edge_lookahead_m, 1e-3, 0, 2000, 50),
    D("sensors", "tether_nominal_n", tether_nominal_n, 1, 0, 60000, 40),
    D("sensors", "tether_noise_n", tether_noise_n, 1, 0, 1000, 1),
    D("sensors", "tether_min_n", tether_min_n, 1, 0, 60000, 10),
    D("sensors", "tether_max_n", tether_max_n, 1, 0, 60000, 400),
    D("sensors", "supply_kpa", supply_pa, 1e3, 0, 2000, 600),
    D("sensors", "supply_noise_kpa", supply_noise_pa, 1e3, 0, 100, 2),
    D("sensors", "supply_ok_kpa", supply_ok_pa, 1e3, 0, 2000, 450),

    {"sim", "step_us", K_U32, OFF(step_us), 1, 10, 1000, 1000, 0},
};

#define N_KEYS (sizeof keys / sizeof keys[0])

static const char *const sections[] = {"robot",  "cylinders", "legs",  "cups",    "vacuum",
                                       "leak",   "friction",  "safety", "brush",  "wind",
                                       "sensors", "sim"};
#define N_SECTIONS (sizeof sections / sizeof sections[0])

static double *dfield(robotcfg *cfg, const cfg_key *k)
{
    return (double *)(void *)((char *)cfg + k->off);
}

void robotcfg_defaults(robotcfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_KEYS; i++) {
        const cfg_key *k = &keys[i];
        switch (k->type) {
        case K_DOUBLE: *dfield(cfg, k) = k->def * k->scale; break;
        case K_PAIR:
            dfield(cfg, k)[0] = k->def * k->scale;
            dfield(cfg, k)[1] = k->def2 * k->scale;
            break;
        case K_BOOL: *(int *)(void *)((char *)cfg + k->off) = k->def != 0; break;
        default: *(uint32_t *)(void *)((char *)cfg + k->off) = (uint32_t)k->def; break;
        }
    }
    /* obstacle and void cannot be stood on: no friction (not configurable) */
    cfg->mu_dry[FACADE_OBSTACLE] = cfg->mu_dry[FACADE_VOID] = 0.0;
    cfg->mu_wet[FACADE_OBSTACLE] = cfg->mu_wet[FACADE_VOID] = 0.0;
}

/* ----------------------------------------------------------- the parser */

typedef struct {
    const char *name;  /* file name for messages */
    const char *text;
    size_t len, pos;
    unsigned lineno;   /* line last handed to inih */
    robotcfg cfg;      /* being filled; copied out only on success */
    unsigned line_of[N_KEYS]; /* where each key was set (0 = default) */
    int rc;            /* first error */
    char *err;
    size_t errlen;
} cfg_parse;

static int cerr(cfg_parse *cp, int code, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record the first error: "name:line: what" (line 0: "name: what"). */
static int cerr(cfg_parse *cp, int code, unsigned line, const char *fmt, ...)
{
    if (cp->rc) return cp->rc;
    cp->rc = code;
    if (cp->err && cp->errlen) {
        int n = line ? snprintf(cp->err, cp->errlen, "%s:%u: ", cp->name, line)
                     : snprintf(cp->err, cp->errlen, "%s: ", cp->name);
        if (n >= 0 && (size_t)n < cp->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(cp->err + n, cp->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return code;
}

/* inih's reader: one line per call (lines were checked to fit). */
static char *reader(char *str, int num, void *stream)
{
    cfg_parse *cp = stream;
    if (cp->pos >= cp->len || num < 2) return NULL;
    const char *s = cp->text + cp->pos;
    size_t rest = cp->len - cp->pos;
    const char *nl = memchr(s, '\n', rest);
    size_t n = nl ? (size_t)(nl - s) + 1 : rest;
    if (n > (size_t)num - 1) n = (size_t)num - 1; /* cannot happen: pre-checked */
    memcpy(str, s, n);
    str[n] = '\0';
    cp->pos += n;
    cp->lineno++;
    return str;
}

static int parse_double(const char *s, double *out, const char **end)
{
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (e == s || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    *end = e;
    return 0;
}

static int is_blank_rest(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    return *s == '\0';
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    cfg_parse *cp = user;
    if (cp->rc) return 0;
    unsigned line = cp->lineno;
    if (!section[0])
        return cerr(cp, ROBOTCFG_ESYNTAX, line, "'%s' outside a section", name), 0;
    size_t i;
    for (i = 0; i < N_KEYS; i++)
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0) break;
    if (i == N_KEYS)
        return cerr(cp, ROBOTCFG_ESYNTAX, line, "unknown key '%s' in [%s]", name, section), 0;
    const cfg_key *k = &keys[i];
    if (cp->line_of[i]) {
        /* inih reads an indented line as a continuation of the previous value */
        const char *raw = cp->text;
        size_t p = 0;
        for (unsigned l = 1; l < line && p < cp->len; p++)
            if (raw[p] == '\n') l++;
        if (p < cp->len && (raw[p] == ' ' || raw[p] == '\t'))
            return cerr(cp, ROBOTCFG_ESYNTAX, line,
                        "indented line continues the value of '%s' (remove the indentation)",
                        name),
                   0;
        return cerr(cp, ROBOTCFG_ESYNTAX, line, "duplicate key '%s' in [%s] (first on line %u)",
                    name, section, cp->line_of[i]),
               0;
    }
    cp->line_of[i] = line;

    double v[2] = {0, 0};
    const char *e = value;
    switch (k->type) {
    case K_BOOL: {
        static const char *const yes[] = {"yes", "true", "on", "1"};
        static const char *const no[] = {"no", "false", "off", "0"};
        int b = -1;
        for (size_t j = 0; j < 4; j++) {
            if (strcasecmp(value, yes[j]) == 0) b = 1;
            if (strcasecmp(value, no[j]) == 0) b = 0;
        }
        if (b < 0)
            return cerr(cp, ROBOTCFG_EVALUE, line, "[%s] %s = '%s': expected yes or no", section,
                        name, value),
                   0;
        *(int *)(void *)((char *)&cp->cfg + k->off) = b;
        return 1;
    }
    case K_PAIR:
        if (parse_double(value, &v[0], &e) != 0) goto not_number;
        while (*e == ' ' || *e == '\t') e++;
        if (*e == ',') e++;
        if (parse_double(e, &v[1], &e) != 0 || !is_blank_rest(e))
            return cerr(cp, ROBOTCFG_EVALUE, line, "[%s] %s = '%s': expected two numbers 'x, y'",
                        section, name, value),
                   0;
        break;
    default:
        if (parse_double(value, &v[0], &e) != 0 || !is_blank_rest(e)) goto not_number;
        if (k->type == K_U32 && v[0] != floor(v[0]))
            return cerr(cp, ROBOTCFG_EVALUE, line, "[%s] %s = '%s': expected an integer", section,
                        name, value),
                   0;
        break;
    }
    for (int j = 0; j < (k->type == K_PAIR ? 2 : 1); j++) {
        if (v[j] < k->min || v[j] > k->max)
            return cerr(cp, ROBOTCFG_EVALUE, line, "[%s] %s = %s: out of range %g..%g", section,
                        name, value, k->min, k->max),
                   0;
    }
    if (k->type == K_U32) {
        *(uint32_t *)(void *)((char *)&cp->cfg + k->off) = (uint32_t)v[0];
    } else {
        dfield(&cp->cfg, k)[0] = v[0] * k->scale;
        if (k->type == K_PAIR) dfield(&cp->cfg, k)[1] = v[1] * k->scale;
    }
    return 1;
not_number:
    return cerr(cp, ROBOTCFG_EVALUE, line, "[%s] %s = '%s': not a number", section, name, value),
           0;
}

/* Lines inih cannot take whole (too long, NUL) and section headers naming
 * no section of ours (inih would skip an empty unknown section silently). */
static int prescan(cfg_parse *cp)
{
    unsigned line = 1;
    size_t start = 0;
    for (size_t i = 0; i <= cp->len; i++) {
        if (i < cp->len && cp->text[i] == '\0')
            return cerr(cp, ROBOTCFG_ESYNTAX, line, "NUL byte");
        if (i < cp->len && cp->text[i] != '\n') continue;
        if (i - start > ROBOTCFG_LINE_MAX)
            return cerr(cp, ROBOTCFG_ESYNTAX, line, "line longer than %d characters",
                        ROBOTCFG_LINE_MAX);
        const char *p = cp->text + start, *end = cp->text + i;
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if (p < end && *p == '[') {
            const char *q = memchr(p, ']', (size_t)(end - p));
            if (q) {
                size_t n = (size_t)(q - p - 1);
                size_t s;
                for (s = 0; s < N_SECTIONS; s++)
                    if (strlen(sections[s]) == n && memcmp(sections[s], p + 1, n) == 0) break;
                if (s == N_SECTIONS)
                    return cerr(cp, ROBOTCFG_ESYNTAX, line,
                                "unknown section [%.*s] (expected robot, cylinders, legs, cups, "
                                "vacuum, leak, friction, safety, brush, wind, sensors or sim)",
                                (int)(n > 40 ? 40 : n), p + 1);
            }
        }
        line++;
        start = i + 1;
    }
    return 0;
}

static size_t key_index(const char *section, const char *name)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0) return i;
    return 0; /* not reached: callers name existing keys */
}

/* The later of the lines where two keys were set (0 when both defaults). */
static unsigned line2(const cfg_parse *cp, const char *s1, const char *k1, const char *s2,
                      const char *k2)
{
    unsigned a = cp->line_of[key_index(s1, k1)], b = cp->line_of[key_index(s2, k2)];
    return a > b ? a : b;
}

/* Values that are each in range but do not fit together. */
static int cross_check(cfg_parse *cp)
{
    const robotcfg *c = &cp->cfg;
    if (!(c->vac_sealed_pa < c->vac_nominal_pa))
        return cerr(cp, ROBOTCFG_EVALUE, line2(cp, "vacuum", "sealed_kpa", "vacuum", "nominal_kpa"),
                    "[vacuum] sealed_kpa (%g) must be below nominal_kpa (%g)",
                    c->vac_sealed_pa / 1e3, c->vac_nominal_pa / 1e3);
    if (!(c->vac_released_pa < c->vac_sealed_pa))
        return cerr(cp, ROBOTCFG_EVALUE, line2(cp, "vacuum", "released_kpa", "vacuum", "sealed_kpa"),
                    "[vacuum] released_kpa (%g) must be below sealed_kpa (%g)",
                    c->vac_released_pa / 1e3, c->vac_sealed_pa / 1e3);
    if (!(c->body_a_kg + c->body_b_kg < c->mass_dry_kg)) {
        unsigned l = line2(cp, "robot", "body_a_kg", "robot", "body_b_kg");
        unsigned lm = cp->line_of[key_index("robot", "mass_dry_kg")];
        return cerr(cp, ROBOTCFG_EVALUE, l > lm ? l : lm,
                    "[robot] body_a_kg + body_b_kg (%g) must be below mass_dry_kg (%g)",
                    c->body_a_kg + c->body_b_kg, c->mass_dry_kg);
    }
    if (!(c->water_start_kg <= c->tank_kg))
        return cerr(cp, ROBOTCFG_EVALUE, line2(cp, "robot", "water_start_kg", "robot", "tank_kg"),
                    "[robot] water_start_kg (%g) exceeds tank_kg (%g)", c->water_start_kg,
                    c->tank_kg);
    for (int a = 0; a < 2; a++) {
        if (!(c->cushion_m < c->stroke_m[a]))
            return cerr(cp, ROBOTCFG_EVALUE,
                        line2(cp, "cylinders", "cushion_mm", "cylinders",
                              a ? "stroke_y_mm" : "stroke_x_mm"),
                        "[cylinders] cushion_mm (%g) must be shorter than stroke_%c_mm (%g)",
                        c->cushion_m * 1e3, a ? 'y' : 'x', c->stroke_m[a] * 1e3);
    }
    if (!(c->supply_min_pa < c->supply_nominal_pa))
        return cerr(cp, ROBOTCFG_EVALUE,
                    line2(cp, "cylinders", "supply_min_kpa", "cylinders", "supply_nominal_kpa"),
                    "[cylinders] supply_min_kpa (%g) must be below supply_nominal_kpa (%g)",
                    c->supply_min_pa / 1e3, c->supply_nominal_pa / 1e3);
    if (!(2.0 * c->leg_switch_m < c->leg_stroke_m))
        return cerr(cp, ROBOTCFG_EVALUE, line2(cp, "legs", "switch_window_mm", "legs", "stroke_mm"),
                    "[legs] switch_window_mm (%g) must be under half of stroke_mm (%g)",
                    c->leg_switch_m * 1e3, c->leg_stroke_m * 1e3);
    /* cups of a foot sit sqrt(3) * radius apart and must not overlap */
    if (!(sqrt(3.0) * c->cup_tri_radius_m >= c->cup_diameter_m))
        return cerr(cp, ROBOTCFG_EVALUE,
                    line2(cp, "cups", "triangle_radius_mm", "cups", "diameter_mm"),
                    "[cups] triangle_radius_mm (%g) puts the cups %g mm apart, closer than "
                    "diameter_mm (%g): they would overlap",
                    c->cup_tri_radius_m * 1e3, sqrt(3.0) * c->cup_tri_radius_m * 1e3,
                    c->cup_diameter_m * 1e3);
    if (!(c->tether_min_n < c->tether_max_n))
        return cerr(cp, ROBOTCFG_EVALUE,
                    line2(cp, "sensors", "tether_min_n", "sensors", "tether_max_n"),
                    "[sensors] tether_min_n (%g) must be below tether_max_n (%g)",
                    c->tether_min_n, c->tether_max_n);
    return 0;
}

int robotcfg_load_buffer(const char *name, const char *text, size_t len, robotcfg *cfg, char *err,
                         size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!cfg || (!text && len)) return ROBOTCFG_EARG;
    int rc;
    cfg_parse *cp = calloc(1, sizeof *cp);
    if (!cp) {
        robotcfg_defaults(cfg);
        if (err && errlen) snprintf(err, errlen, "%s: out of memory", name ? name : "<robot>");
        return ROBOTCFG_EARG;
    }
    cp->name = name ? name : "<robot>";
    cp->text = text ? text : "";
    cp->len = len;
    cp->err = err;
    cp->errlen = errlen;
    robotcfg_defaults(&cp->cfg);
    robotcfg_defaults(cfg);

    rc = prescan(cp);
    if (rc) goto out;
    int line = ini_parse_stream(reader, cp, handler, cp);
    if (cp->rc) {
        rc = cp->rc;
        goto out;
    }
    if (line != 0) {
        rc = cerr(cp, ROBOTCFG_ESYNTAX, line > 0 ? (unsigned)line : 0,
                  "syntax error (expected [section], key = value, or a ; or # comment)");
        goto out;
    }
    rc = cross_check(cp);
    if (rc) goto out;
    *cfg = cp->cfg;
out:
    free(cp);
    return rc;
}

int robotcfg_load_file(const char *path, robotcfg *cfg, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!path || !cfg) return ROBOTCFG_EARG;
    robotcfg_defaults(cfg);
    int rc = ROBOTCFG_EIO;
    char *buf = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (err && errlen) snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return ROBOTCFG_EIO;
    }
    buf = malloc(ROBOTCFG_FILE_MAX + 1);
    if (!buf) {
        if (err && errlen) snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    size_t len = fread(buf, 1, ROBOTCFG_FILE_MAX + 1, fp);
    if (ferror(fp)) {
        if (err && errlen) snprintf(err, errlen, "%s: read error", path);
        goto out;
    }
    if (len > ROBOTCFG_FILE_MAX) {
        if (err && errlen) snprintf(err, errlen, "%s: larger than %u bytes", path,
                                    ROBOTCFG_FILE_MAX);
        goto out;
    }
    rc = robotcfg_load_buffer(path, buf, len, cfg, err, errlen);
out:
    free(buf);
    fclose(fp);
    return rc;
}

double robotcfg_cup_area_m2(const robotcfg *cfg)
{
    return 0.25 * PI * cfg->cup_diameter_m * cfg->cup_diameter_m;
}

double robotcfg_mass_kg(const robotcfg *cfg, double water_kg)
{
    return cfg->mass_dry_kg + water_kg;
}
