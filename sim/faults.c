/*
 * faults.c — the fault scenario format (docs/faults-format.md): strict
 * loader, canonical printer, and the application of faults to the robot's
 * hooks at their virtual times.
 *
 * The loader makes two passes over the text with the same line parser: the
 * first checks everything and counts the faults without allocating, the
 * second fills the single block.  So a broken file never allocates and a
 * good one is never half-loaded.
 */
#include "faults.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *flt_strerror(int code)
{
    switch (code) {
    case FLT_OK: return "ok";
    case FLT_EIO: return "cannot read the fault scenario";
    case FLT_ESYNTAX: return "invalid fault scenario";
    case FLT_ENOMEM: return "out of memory";
    case FLT_EARG: return "invalid argument";
    default: return "unknown fault scenario error";
    }
}

/* ------------------------------------------------------------ vocabulary */

typedef enum {
    K_CUP = 0,
    K_RATE_KPA_S,
    K_SENSOR,
    K_VALUE_KPA,
    K_VALUE_MM,
    K_VALUE_N,
    K_STATE,
    K_OFFSET_KPA,
    K_OFFSET_MM,
    K_OFFSET_N,
    K_SD_KPA,
    K_SD_MM,
    K_SD_N,
    K_AXIS,
    K_SWITCH,
    K_OUTPUT,
    K_KPA,
    K_SPEED_M_S,
    K_DURATION,
    K_UNTIL,
    K_COUNT
} key_id;

#define KB(k) (1u << (k))
#define K_END (KB(K_DURATION) | KB(K_UNTIL))

/* numeric: 1 = a number checked against lo..hi (lo excluded when lo_open) */
typedef struct {
    const char *name;
    const char *hint; /* what "needs key=<hint>" shows */
    int numeric;
    double lo, hi;
    int lo_open;
} key_info;

static const key_info keys[K_COUNT] = {
    [K_CUP] = {"cup", "<A1a..B2c>", 0, 0, 0, 0},
    [K_RATE_KPA_S] = {"rate_kpa_s", "<kPa/s>", 1, 0.0, 1000.0, 1},
    [K_SENSOR] = {"sensor", "<name>", 0, 0, 0, 0},
    [K_VALUE_KPA] = {"value_kpa", "<kPa>", 1, 0.0, 1000.0, 0},
    [K_VALUE_MM] = {"value_mm", "<mm>", 1, 0.0, 65000.0, 0},
    [K_VALUE_N] = {"value_n", "<N>", 1, 0.0, 65000.0, 0},
    [K_STATE] = {"state", "<on|off>", 0, 0, 0, 0},
    [K_OFFSET_KPA] = {"offset_kpa", "<kPa>", 1, -1000.0, 1000.0, 0},
    [K_OFFSET_MM] = {"offset_mm", "<mm>", 1, -65000.0, 65000.0, 0},
    [K_OFFSET_N] = {"offset_n", "<N>", 1, -65000.0, 65000.0, 0},
    [K_SD_KPA] = {"sd_kpa", "<kPa>", 1, 0.0, 1000.0, 1},
    [K_SD_MM] = {"sd_mm", "<mm>", 1, 0.0, 65000.0, 1},
    [K_SD_N] = {"sd_n", "<N>", 1, 0.0, 65000.0, 1},
    [K_AXIS] = {"axis", "<x|y>", 0, 0, 0, 0},
    [K_SWITCH] = {"switch", "<X0..X7>", 0, 0, 0, 0},
    [K_OUTPUT] = {"output", "<Y0..Y13>", 0, 0, 0, 0},
    [K_KPA] = {"kpa", "<kPa>", 1, 0.0, 1000.0, 0},
    [K_SPEED_M_S] = {"speed_m_s", "<m/s>", 1, 0.0, 100.0, 1},
    [K_DURATION] = {"duration", "<time>", 0, 0, 0, 0},
    [K_UNTIL] = {"until", "<time>", 0, 0, 0, 0},
};

#define K_SENSOR_VALUES                                                                            \
    (KB(K_VALUE_KPA) | KB(K_VALUE_MM) | KB(K_VALUE_N) | KB(K_STATE) | KB(K_OFFSET_KPA) |          \
     KB(K_OFFSET_MM) | KB(K_OFFSET_N) | KB(K_SD_KPA) | KB(K_SD_MM) | KB(K_SD_N))

typedef struct {
    const char *name;
    uint32_t allowed;
    uint32_t required; /* checked in key order; the sensor's value key separately */
} kind_info;

static const kind_info kinds[FLT_KIND_COUNT] = {
    [FLT_CUP_LEAK] = {"cup_leak", KB(K_CUP) | KB(K_RATE_KPA_S) | K_END,
                      KB(K_CUP) | KB(K_RATE_KPA_S)},
    [FLT_SENSOR_STUCK] = {"sensor_stuck",
                          KB(K_SENSOR) | KB(K_VALUE_KPA) | KB(K_VALUE_MM) | KB(K_VALUE_N) |
                              KB(K_STATE) | K_END,
                          KB(K_SENSOR)},
    [FLT_SENSOR_OFFSET] = {"sensor_offset",
                           KB(K_SENSOR) | KB(K_OFFSET_KPA) | KB(K_OFFSET_MM) | KB(K_OFFSET_N) |
                               K_END,
                           KB(K_SENSOR)},
    [FLT_SENSOR_NOISE] = {"sensor_noise",
                          KB(K_SENSOR) | KB(K_SD_KPA) | KB(K_SD_MM) | KB(K_SD_N) | K_END,
                          KB(K_SENSOR)},
    [FLT_CYLINDER_STALL] = {"cylinder_stall", KB(K_AXIS) | K_END, KB(K_AXIS)},
    [FLT_REED_DEAD] = {"reed_dead", KB(K_SWITCH) | K_END, KB(K_SWITCH)},
    [FLT_VALVE_STUCK] = {"valve_stuck", KB(K_OUTPUT) | KB(K_STATE) | K_END,
                         KB(K_OUTPUT) | KB(K_STATE)},
    [FLT_SUPPLY_DROP] = {"supply_drop", KB(K_KPA) | K_END, KB(K_KPA)},
    [FLT_LINK_SILENCE] = {"link_silence", K_END, 0},
    [FLT_WIND_GUST] = {"wind_gust", KB(K_SPEED_M_S) | K_END, KB(K_SPEED_M_S)},
    [FLT_CAMERA_BLACKOUT] = {"camera_blackout", K_END, 0},
};

const char *flt_kind_name(flt_kind k)
{
    return (unsigned)k < FLT_KIND_COUNT ? kinds[k].name : "?";
}

/* What an analog channel reads: its file unit and the SI scale. */
typedef enum { U_KPA = 0, U_MM, U_N, U_INPUT } unit_class;

static unit_class channel_unit(int target)
{
    if (target >= FLT_INPUT0) return U_INPUT;
    if (target >= ROBOTSIM_AN_PROX0 && target < ROBOTSIM_AN_PROX0 + 4) return U_MM;
    if (target == ROBOTSIM_AN_POS_X || target == ROBOTSIM_AN_POS_Y) return U_MM;
    if (target == ROBOTSIM_AN_TETHER) return U_N;
    return U_KPA; /* cups, supply */
}

static double unit_si(unit_class u)
{
    return u == U_KPA ? 1e3 : u == U_MM ? 1e-3 : 1.0;
}

/* The value key of each sensor fault kind per unit (-1: not applicable). */
static int sensor_value_key(flt_kind k, unit_class u)
{
    static const int tab[3][4] = {
        {K_VALUE_KPA, K_VALUE_MM, K_VALUE_N, K_STATE},
        {K_OFFSET_KPA, K_OFFSET_MM, K_OFFSET_N, -1},
        {K_SD_KPA, K_SD_MM, K_SD_N, -1},
    };
    return tab[k - FLT_SENSOR_STUCK][u];
}

static const char *const unit_word[3] = {"kPa", "mm", "N"};

/* ----------------------------------------------------------------- names */

static void cup_name(int i, char buf[4])
{
    buf[0] = (char)('A' + i / 6);
    buf[1] = (char)('1' + (i / 3) % 2);
    buf[2] = (char)('a' + i % 3);
    buf[3] = '\0';
}

/* "A1a".."B2c" -> 0..11; -1 otherwise. */
static int cup_parse(const char *p, size_t len)
{
    if (len != 3 || (p[0] != 'A' && p[0] != 'B') || (p[1] != '1' && p[1] != '2') || p[2] < 'a' ||
        p[2] > 'c')
        return -1;
    return (p[0] - 'A') * 6 + (p[1] - '1') * 3 + (p[2] - 'a');
}

/* An FX device number written in octal after the letter ("X17" = 15):
 * 1 or 2 octal digits, no leading zero; -1 otherwise. */
static int octal_parse(const char *p, size_t len, char letter)
{
    if (len < 2 || len > 3 || p[0] != letter) return -1;
    if (len == 3 && p[1] == '0') return -1;
    int v = 0;
    for (size_t i = 1; i < len; i++) {
        if (p[i] < '0' || p[i] > '7') return -1;
        v = v * 8 + (p[i] - '0');
    }
    return v;
}

static const char *const prox_names[4] = {"+X", "-X", "+Y", "-Y"};

static int tok_eq(const char *p, size_t len, const char *word)
{
    size_t n = strlen(word);
    return len == n && memcmp(p, word, n) == 0;
}

static void sensor_name(int target, char *buf, size_t cap)
{
    if (target >= FLT_INPUT0) {
        snprintf(buf, cap, "X%o", (unsigned)(target - FLT_INPUT0));
    } else if (target < ROBOTSIM_AN_PROX0) {
        char c[4];
        cup_name(target - ROBOTSIM_AN_CUP0, c);
        snprintf(buf, cap, "cup:%s", c);
    } else if (target < ROBOTSIM_AN_TETHER) {
        snprintf(buf, cap, "prox:%s", prox_names[target - ROBOTSIM_AN_PROX0]);
    } else if (target == ROBOTSIM_AN_TETHER) {
        snprintf(buf, cap, "tether");
    } else if (target == ROBOTSIM_AN_SUPPLY) {
        snprintf(buf, cap, "supply");
    } else {
        snprintf(buf, cap, "pos:%c", target == ROBOTSIM_AN_POS_X ? 'X' : 'Y');
    }
}

/* ---------------------------------------------------------------- parser */

typedef struct {
    const char *p;
    size_t len;
    size_t col; /* 1-based */
} tok;

typedef struct {
    const char *name;
    const char *text;
    size_t len;
    size_t pos;      /* start of the next line */
    unsigned lineno; /* of the line last read */
    char *err;
    size_t errlen;
    /* the previous fault, for the time order */
    uint64_t prev_ms;
    unsigned prev_line;
} parser;

static int perr(parser *ps, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "name:line:col: message" into the caller's buffer; FLT_ESYNTAX. */
static int perr(parser *ps, size_t col, const char *fmt, ...)
{
    if (ps->err && ps->errlen) {
        int n = snprintf(ps->err, ps->errlen, "%s:%u:%zu: ", ps->name, ps->lineno, col);
        if (n >= 0 && (size_t)n < ps->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return FLT_ESYNTAX;
}

/* A token for a message: printable ASCII as is, other bytes as \xNN, at
 * most 40 characters then "...". */
static const char *show(const char *p, size_t len, char buf[192])
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (o >= 40) {
            memcpy(buf + o, "...", 4);
            return buf;
        }
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7F)
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, 8, "\\x%02X", c);
    }
    buf[o] = '\0';
    return buf;
}

/* Milliseconds as the shortest seconds text: 12500 -> "12.5s". */
static void fmt_time(uint64_t ms, char buf[32])
{
    unsigned long long s = (unsigned long long)(ms / 1000u), r = (unsigned long long)(ms % 1000u);
    if (r == 0) {
        snprintf(buf, 32, "%llus", s);
        return;
    }
    int n = snprintf(buf, 32, "%llu.%03llu", s, r);
    while (n > 0 && buf[n - 1] == '0') buf[--n] = '\0';
    snprintf(buf + n, (size_t)(32 - n), "s");
}

/* A decimal "[-]ddd[.ddd]" at the start of p[0..len): up to 9 digits
 * before the point and 6 after.  Returns the characters used (> 0), 0 when
 * it is not a number, -1 when it has too many digits.  *num / 10^*scale
 * is the value (exact integers, scale 0..6). */
static int lex_decimal(const char *p, size_t len, int allow_neg, int64_t *num, int *scale)
{
    size_t i = 0;
    int neg = 0;
    if (allow_neg && i < len && p[i] == '-') {
        neg = 1;
        i++;
    }
    size_t d0 = i;
    int64_t v = 0; /* at most 9 + 6 digits are accumulated: < 2^63 */
    for (; i < len && p[i] >= '0' && p[i] <= '9'; i++)
        if (i - d0 < 9) v = v * 10 + (p[i] - '0');
    size_t nint = i - d0;
    if (nint == 0) return 0;
    int fd = 0;
    if (i < len && p[i] == '.') {
        size_t f0 = ++i;
        for (; i < len && p[i] >= '0' && p[i] <= '9'; i++)
            if (i - f0 < 6) v = v * 10 + (p[i] - '0');
        if (i == f0) return 0; /* "3." */
        if (i - f0 > 6) return -1;
        fd = (int)(i - f0);
    }
    if (nint > 9) return -1;
    *num = neg ? -v : v;
    *scale = fd;
    return (int)i;
}

static const double pow10_tab[7] = {1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6};

/* A time "<decimal>s" or "<decimal>ms" as whole milliseconds.
 * Returns 0, -1 (not a time), -2 (finer than a millisecond). */
static int parse_time(const char *p, size_t len, uint64_t *ms)
{
    int64_t num;
    int scale;
    int n = lex_decimal(p, len, 0, &num, &scale);
    if (n <= 0) return -1;
    const char *u = p + n;
    size_t ul = len - (size_t)n;
    int64_t per_unit_us; /* microseconds per unit */
    if (tok_eq(u, ul, "s"))
        per_unit_us = 1000000;
    else if (tok_eq(u, ul, "ms"))
        per_unit_us = 1000;
    else
        return -1;
    /* num / 10^scale units = num * per_unit_us / 10^scale us, exactly */
    int64_t den = 1;
    for (int k = 0; k < scale; k++) den *= 10;
    /* num * per_unit_us could overflow (1e15 * 1e6): whole and fraction apart */
    int64_t whole = num / den, frac = num % den;
    uint64_t us = (uint64_t)whole * (uint64_t)per_unit_us;
    int64_t frac_us_num = frac * per_unit_us; /* frac < 1e6, product < 1e12 */
    if (frac_us_num % den != 0) return -2;
    us += (uint64_t)(frac_us_num / den);
    if (us % 1000u != 0) return -2;
    *ms = us / 1000u;
    return 0;
}

/* One key=value of the line being parsed. */
typedef struct {
    int present;
    size_t col;  /* of the key */
    size_t vcol; /* of the value */
    const char *v;
    size_t vlen;
} keyval;

/* Parse a number value of key k; range-checked. */
static int parse_number(parser *ps, key_id k, const keyval *kv, double *out)
{
    char b[192];
    int64_t num;
    int scale;
    int n = lex_decimal(kv->v, kv->vlen, 1, &num, &scale);
    if (n == -1)
        return perr(ps, kv->vcol, "%s='%s': too many digits (at most 9 before the point, 6 after)",
                    keys[k].name, show(kv->v, kv->vlen, b));
    if (n <= 0 || (size_t)n != kv->vlen)
        return perr(ps, kv->vcol, "%s='%s' is not a number (like 8, 0.5 or -2.25)", keys[k].name,
                    show(kv->v, kv->vlen, b));
    /* one correctly rounded division: the same double strtod would give */
    double v = (double)num / pow10_tab[scale];
    const key_info *ki = &keys[k];
    if (v > ki->hi || v < ki->lo || (ki->lo_open && v <= ki->lo))
        return perr(ps, kv->vcol, "%s=%s is out of range (%g %s %s <= %g)", ki->name,
                    show(kv->v, kv->vlen, b), ki->lo, ki->lo_open ? "<" : "<=", ki->name, ki->hi);
    *out = v;
    return 0;
}

static int parse_key_time(parser *ps, key_id k, const keyval *kv, uint64_t *ms)
{
    char b[192];
    int rc = parse_time(kv->v, kv->vlen, ms);
    if (rc == -1)
        return perr(ps, kv->vcol, "%s='%s': expected a number and a unit, like 1.5s or 250ms",
                    keys[k].name, show(kv->v, kv->vlen, b));
    if (rc == -2)
        return perr(ps, kv->vcol, "%s=%s is finer than a millisecond", keys[k].name,
                    show(kv->v, kv->vlen, b));
    if (*ms > FLT_TIME_MAX_MS)
        return perr(ps, kv->vcol, "%s=%s is too late (at most 999999999s)", keys[k].name,
                    show(kv->v, kv->vlen, b));
    return 0;
}

/* The sensor names of docs/faults-format.md -> target. */
static int parse_sensor(parser *ps, const keyval *kv, int *target)
{
    char b[192];
    const char *p = kv->v;
    size_t n = kv->vlen;
    if (n >= 4 && memcmp(p, "cup:", 4) == 0) {
        int c = cup_parse(p + 4, n - 4);
        if (c < 0)
            return perr(ps, kv->vcol + 4, "unknown cup '%s' (expected A1a..A2c or B1a..B2c)",
                        show(p + 4, n - 4, b));
        *target = ROBOTSIM_AN_CUP0 + c;
        return 0;
    }
    if (n >= 5 && memcmp(p, "prox:", 5) == 0) {
        for (int d = 0; d < 4; d++)
            if (tok_eq(p + 5, n - 5, prox_names[d])) {
                *target = ROBOTSIM_AN_PROX0 + d;
                return 0;
            }
        return perr(ps, kv->vcol + 5, "unknown proximity sensor '%s' (expected +X, -X, +Y or -Y)",
                    show(p + 5, n - 5, b));
    }
    if (tok_eq(p, n, "tether")) {
        *target = ROBOTSIM_AN_TETHER;
        return 0;
    }
    if (tok_eq(p, n, "supply")) {
        *target = ROBOTSIM_AN_SUPPLY;
        return 0;
    }
    if (tok_eq(p, n, "pos:X") || tok_eq(p, n, "pos:Y")) {
        *target = p[4] == 'X' ? ROBOTSIM_AN_POS_X : ROBOTSIM_AN_POS_Y;
        return 0;
    }
    if (n >= 1 && p[0] == 'X') {
        int x = octal_parse(p, n, 'X');
        if (x < 0 || x >= ROBOTSIM_X_COUNT)
            return perr(ps, kv->vcol,
                        "unknown input '%s' (expected X0..X7, X10..X17 or X20..X22; FX numbering "
                        "is octal)",
                        show(p, n, b));
        *target = FLT_INPUT0 + x;
        return 0;
    }
    return perr(ps, kv->vcol,
                "unknown sensor '%s' (expected cup:A1a..cup:B2c, prox:+X, prox:-X, prox:+Y, "
                "prox:-Y, tether, supply, pos:X, pos:Y or an input X0..X22)",
                show(p, n, b));
}

/* Parse the value of key k into the fault (names, numbers, times). */
static int parse_value(parser *ps, key_id k, const keyval *kv, flt_fault *f, double *num,
                       uint64_t *end_ms)
{
    char b[192];
    const char *p = kv->v;
    size_t n = kv->vlen;
    switch (k) {
    case K_CUP: {
        int c = cup_parse(p, n);
        if (c < 0)
            return perr(ps, kv->vcol, "unknown cup '%s' (expected A1a..A2c or B1a..B2c)",
                        show(p, n, b));
        f->target = c;
        return 0;
    }
    case K_SENSOR: return parse_sensor(ps, kv, &f->target);
    case K_STATE:
        if (tok_eq(p, n, "on") || tok_eq(p, n, "off")) {
            f->state = tok_eq(p, n, "on");
            return 0;
        }
        return perr(ps, kv->vcol, "state='%s': expected on or off", show(p, n, b));
    case K_AXIS:
        if (tok_eq(p, n, "x") || tok_eq(p, n, "y")) {
            f->target = p[0] == 'x' ? PHYS_CYL_X : PHYS_CYL_Y;
            return 0;
        }
        return perr(ps, kv->vcol, "axis='%s': expected x or y", show(p, n, b));
    case K_SWITCH: {
        int x = octal_parse(p, n, 'X');
        if (x < 0 || x > 7)
            return perr(ps, kv->vcol,
                        "unknown reed switch '%s' (expected X0..X7: the cylinder and leg end "
                        "switches)",
                        show(p, n, b));
        f->target = x;
        return 0;
    }
    case K_OUTPUT: {
        int y = octal_parse(p, n, 'Y');
        if (y < 0 || y > 11)
            return perr(ps, kv->vcol,
                        "unknown output '%s' (expected Y0..Y7 or Y10..Y13: the valves, brush "
                        "and spray; FX numbering is octal)",
                        show(p, n, b));
        f->target = y;
        return 0;
    }
    case K_DURATION: {
        uint64_t d;
        int rc = parse_key_time(ps, k, kv, &d);
        if (rc) return rc;
        if (d == 0) return perr(ps, kv->vcol, "duration=%s must be more than 0", show(p, n, b));
        if (d > FLT_TIME_MAX_MS - f->start_ms)
            return perr(ps, kv->vcol, "duration=%s ends after 999999999s", show(p, n, b));
        *end_ms = f->start_ms + d;
        return 0;
    }
    case K_UNTIL: {
        uint64_t u;
        int rc = parse_key_time(ps, k, kv, &u);
        if (rc) return rc;
        if (u <= f->start_ms) {
            char t[32];
            fmt_time(f->start_ms, t);
            return perr(ps, kv->vcol, "until=%s is not after the fault's start (%s)",
                        show(p, n, b), t);
        }
        *end_ms = u;
        return 0;
    }
    default: return parse_number(ps, k, kv, num);
    }
}

/* Comma list of the keys in mask: "cup, rate_kpa_s, duration or until". */
static void key_list(uint32_t mask, char *buf, size_t cap)
{
    size_t o = 0;
    int total = 0, done = 0;
    for (int k = 0; k < K_COUNT; k++) total += (mask >> k) & 1u;
    buf[0] = '\0';
    for (int k = 0; k < K_COUNT && o < cap; k++) {
        if (!((mask >> k) & 1u)) continue;
        const char *sep = done == 0 ? "" : done == total - 1 ? " or " : ", ";
        int n = snprintf(buf + o, cap - o, "%s%s", sep, keys[k].name);
        if (n < 0) break;
        o += (size_t)n;
        done++;
    }
}

/* Split the next blank-separated token from line[*i..len). */
static int next_tok(const char *line, size_t len, size_t *i, tok *t)
{
    while (*i < len && (line[*i] == ' ' || line[*i] == '\t')) (*i)++;
    if (*i >= len) return 0;
    size_t s = *i;
    while (*i < len && line[*i] != ' ' && line[*i] != '\t') (*i)++;
    t->p = line + s;
    t->len = *i - s;
    t->col = s + 1;
    return 1;
}

/* Parse one line (without its newline): 1 = a fault in *f, 0 = blank or
 * comment, < 0 = error (message written). */
static int parse_line(parser *ps, const char *line, size_t len, flt_fault *f)
{
    char b[192], list[256];
    const char *nul = memchr(line, '\0', len);
    if (nul) return perr(ps, (size_t)(nul - line) + 1, "NUL byte");
    const char *hash = memchr(line, '#', len);
    if (hash) len = (size_t)(hash - line); /* a comment runs to the end of the line */
    size_t i = 0;
    tok t;
    if (!next_tok(line, len, &i, &t)) return 0;
    if (!tok_eq(t.p, t.len, "at"))
        return perr(ps, t.col, "expected 'at <time> <fault> [key=value ...]', not '%s'",
                    show(t.p, t.len, b));
    size_t end_col = t.col + t.len;
    memset(f, 0, sizeof *f);
    f->line = ps->lineno;
    f->target = -1;
    f->end_ms = FLT_FOREVER;

    /* the time */
    if (!next_tok(line, len, &i, &t)) return perr(ps, end_col, "missing the time after 'at'");
    int rc = parse_time(t.p, t.len, &f->start_ms);
    if (rc == -1)
        return perr(ps, t.col, "bad time '%s': expected a number and a unit, like 12.5s or 250ms",
                    show(t.p, t.len, b));
    if (rc == -2) return perr(ps, t.col, "time %s is finer than a millisecond", show(t.p, t.len, b));
    if (f->start_ms > FLT_TIME_MAX_MS)
        return perr(ps, t.col, "time %s is too late (at most 999999999s)", show(t.p, t.len, b));
    if (ps->prev_line && f->start_ms < ps->prev_ms) {
        char tp[32];
        fmt_time(ps->prev_ms, tp);
        return perr(ps, t.col,
                    "at %s is earlier than the fault on line %u (at %s): faults must be in time "
                    "order",
                    show(t.p, t.len, b), ps->prev_line, tp);
    }
    end_col = t.col + t.len;

    /* the kind */
    if (!next_tok(line, len, &i, &t))
        return perr(ps, end_col, "missing the fault after the time (cup_leak, sensor_stuck, ...)");
    int kind = -1;
    for (int k = 0; k < FLT_KIND_COUNT; k++)
        if (tok_eq(t.p, t.len, kinds[k].name)) kind = k;
    if (kind < 0)
        return perr(ps, t.col,
                    "unknown fault '%s' (expected cup_leak, sensor_stuck, sensor_offset, "
                    "sensor_noise, cylinder_stall, reed_dead, valve_stuck, supply_drop, "
                    "link_silence, wind_gust or camera_blackout)",
                    show(t.p, t.len, b));
    f->kind = (flt_kind)kind;
    const kind_info *ki = &kinds[kind];
    size_t kind_col = t.col;

    /* key=value pairs, each value parsed as it comes */
    keyval kv[K_COUNT];
    memset(kv, 0, sizeof kv);
    double num = 0.0;
    uint64_t end_ms = FLT_FOREVER;
    while (next_tok(line, len, &i, &t)) {
        const char *eq = memchr(t.p, '=', t.len);
        if (!eq || eq == t.p)
            return perr(ps, t.col, "expected key=value, not '%s'", show(t.p, t.len, b));
        size_t kl = (size_t)(eq - t.p);
        int k = -1;
        for (int j = 0; j < K_COUNT; j++)
            if (((ki->allowed >> j) & 1u) && tok_eq(t.p, kl, keys[j].name)) k = j;
        if (k < 0) {
            key_list(ki->allowed, list, sizeof list);
            return perr(ps, t.col, "unknown key '%s' for %s (expected %s)", show(t.p, kl, b),
                        ki->name, list);
        }
        if (kv[k].present)
            return perr(ps, t.col, "duplicate key '%s' (first at column %zu)", keys[k].name,
                        kv[k].col);
        if (kl + 1 == t.len) return perr(ps, t.col + kl + 1, "missing value after '%s='", keys[k].name);
        kv[k].present = 1;
        kv[k].col = t.col;
        kv[k].v = eq + 1;
        kv[k].vlen = t.len - kl - 1;
        kv[k].vcol = t.col + kl + 1;
        if (k == K_DURATION && kv[K_UNTIL].present)
            return perr(ps, t.col, "give duration or until, not both");
        if (k == K_UNTIL && kv[K_DURATION].present)
            return perr(ps, t.col, "give duration or until, not both");
        double v = 0.0;
        rc = parse_value(ps, (key_id)k, &kv[k], f, &v, &end_ms);
        if (rc) return rc;
        if (keys[k].numeric) num = v;
    }

    /* what must be there */
    for (int k = 0; k < K_COUNT; k++)
        if (((ki->required >> k) & 1u) && !kv[k].present)
            return perr(ps, kind_col, "%s needs %s=%s", ki->name, keys[k].name, keys[k].hint);
    if (f->kind >= FLT_SENSOR_STUCK && f->kind <= FLT_SENSOR_NOISE) {
        char sn[32];
        sensor_name(f->target, sn, sizeof sn);
        unit_class u = channel_unit(f->target);
        int want = sensor_value_key(f->kind, u);
        if (want < 0)
            return perr(ps, kv[K_SENSOR].vcol, "%s applies to analog sensors, not the input %s",
                        ki->name, sn);
        for (int k = 0; k < K_COUNT; k++) {
            if (!((K_SENSOR_VALUES >> k) & 1u) || !kv[k].present || k == want) continue;
            if (u == U_INPUT)
                return perr(ps, kv[k].col, "sensor %s is an input: use state, not %s", sn,
                            keys[k].name);
            return perr(ps, kv[k].col, "sensor %s reads %s: use %s, not %s", sn, unit_word[u],
                        keys[want].name, keys[k].name);
        }
        if (!kv[want].present)
            return perr(ps, kind_col, "%s of %s needs %s=%s", ki->name, sn, keys[want].name,
                        keys[want].hint);
    }
    if (f->kind == FLT_WIND_GUST && end_ms == FLT_FOREVER)
        return perr(ps, kind_col, "wind_gust needs duration= or until= (a gust ends)");
    f->end_ms = end_ms;
    f->value = num;
    ps->prev_ms = f->start_ms;
    ps->prev_line = ps->lineno;
    return 1;
}

/* Run the parser over the whole text; out == NULL counts only. */
static int parse_all(parser *ps, flt_fault *out, size_t *count)
{
    size_t n = 0;
    ps->pos = 0;
    ps->lineno = 0;
    ps->prev_ms = 0;
    ps->prev_line = 0;
    while (ps->pos < ps->len) {
        const char *s = ps->text + ps->pos;
        size_t rest = ps->len - ps->pos;
        const char *nl = memchr(s, '\n', rest);
        size_t ll = nl ? (size_t)(nl - s) : rest;
        ps->pos += nl ? ll + 1 : ll;
        ps->lineno++;
        if (ll && s[ll - 1] == '\r') ll--; /* CRLF files */
        flt_fault f;
        int rc = parse_line(ps, s, ll, &f);
        if (rc < 0) return rc;
        if (rc == 0) continue;
        if (n >= FLT_MAX_FAULTS) return perr(ps, 1, "more than %d faults", FLT_MAX_FAULTS);
        if (out) out[n] = f;
        n++;
    }
    *count = n;
    return 0;
}

int flt_load_buffer(const char *name, const char *text, size_t len, flt_sched **out, char *err,
                    size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (out) *out = NULL;
    if (!out || (!text && len)) {
        if (err && errlen) snprintf(err, errlen, "flt_load_buffer: no text or no result");
        return FLT_EARG;
    }
    parser ps = {.name = name ? name : "scenario", .text = text, .len = len, .err = err,
                 .errlen = errlen};
    if (len > FLT_FILE_MAX) {
        if (err && errlen) snprintf(err, errlen, "%s: larger than %u bytes", ps.name, FLT_FILE_MAX);
        return FLT_ESYNTAX;
    }
    size_t n = 0;
    int rc = parse_all(&ps, NULL, &n); /* check everything before allocating */
    if (rc) return rc;
    flt_sched *s = calloc(1, sizeof *s + n * sizeof(flt_fault));
    if (!s) {
        if (err && errlen) snprintf(err, errlen, "%s: out of memory", ps.name);
        return FLT_ENOMEM;
    }
    size_t n2 = 0;
    rc = parse_all(&ps, s->faults, &n2); /* cannot fail: the same text passed */
    if (rc || n2 != n) {
        free(s);
        return rc ? rc : FLT_ESYNTAX;
    }
    s->n = n;
    *out = s;
    return 0;
}

int flt_load_file(const char *path, flt_sched **out, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (out) *out = NULL;
    if (!path || !out) return FLT_EARG;
    int rc = FLT_EIO;
    char *buf = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (err && errlen) snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return FLT_EIO;
    }
    size_t len = 0, cap = FLT_FILE_MAX + 1; /* one byte more tells "too large" */
    buf = malloc(cap);
    if (!buf) {
        rc = FLT_ENOMEM;
        if (err && errlen) snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    for (;;) {
        size_t n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0 || len == cap) break;
    }
    if (ferror(fp)) {
        if (err && errlen) snprintf(err, errlen, "%s: read error", path);
        goto out;
    }
    if (len > FLT_FILE_MAX) {
        if (err && errlen) snprintf(err, errlen, "%s: larger than %u bytes", path, FLT_FILE_MAX);
        goto out;
    }
    rc = flt_load_buffer(path, buf, len, out, err, errlen);
out:
    free(buf);
    fclose(fp);
    return rc;
}

void flt_free(flt_sched *s)
{
    free(s);
}

/* ------------------------------------------------------------- printing */

/* A value as the shortest decimal of at most 6 places: 8, 0.5, -2.25. */
static void fmt_num(double v, char buf[48])
{
    int n = snprintf(buf, 48, "%.6f", v);
    while (n > 0 && buf[n - 1] == '0') buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '.') buf[--n] = '\0';
}

int flt_format(const flt_fault *f, char *buf, size_t cap)
{
    if (!f || (unsigned)f->kind >= FLT_KIND_COUNT || (!buf && cap)) return FLT_EARG;
    char t[32], v[48], name[32], line[256];
    fmt_time(f->start_ms, t);
    fmt_num(f->value, v);
    int n = snprintf(line, sizeof line, "at %s %s", t, kinds[f->kind].name);
    size_t o = n > 0 ? (size_t)n : 0;
    switch (f->kind) {
    case FLT_CUP_LEAK:
        cup_name(f->target, name);
        o += (size_t)snprintf(line + o, sizeof line - o, " cup=%s rate_kpa_s=%s", name, v);
        break;
    case FLT_SENSOR_STUCK:
    case FLT_SENSOR_OFFSET:
    case FLT_SENSOR_NOISE: {
        sensor_name(f->target, name, sizeof name);
        unit_class u = channel_unit(f->target);
        int k = sensor_value_key(f->kind, u);
        if (k == K_STATE)
            o += (size_t)snprintf(line + o, sizeof line - o, " sensor=%s state=%s", name,
                                  f->state ? "on" : "off");
        else if (k >= 0)
            o += (size_t)snprintf(line + o, sizeof line - o, " sensor=%s %s=%s", name,
                                  keys[k].name, v);
        break;
    }
    case FLT_CYLINDER_STALL:
        o += (size_t)snprintf(line + o, sizeof line - o, " axis=%c",
                              f->target == PHYS_CYL_Y ? 'y' : 'x');
        break;
    case FLT_REED_DEAD:
        o += (size_t)snprintf(line + o, sizeof line - o, " switch=X%o", (unsigned)f->target);
        break;
    case FLT_VALVE_STUCK:
        o += (size_t)snprintf(line + o, sizeof line - o, " output=Y%o state=%s",
                              (unsigned)f->target, f->state ? "on" : "off");
        break;
    case FLT_SUPPLY_DROP: o += (size_t)snprintf(line + o, sizeof line - o, " kpa=%s", v); break;
    case FLT_WIND_GUST: o += (size_t)snprintf(line + o, sizeof line - o, " speed_m_s=%s", v); break;
    default: break;
    }
    if (f->end_ms != FLT_FOREVER && o < sizeof line) {
        fmt_time(f->end_ms, t);
        o += (size_t)snprintf(line + o, sizeof line - o, " until=%s", t);
    }
    return snprintf(buf, cap, "%s", line);
}

/* ------------------------------------------------------------ applying */

static void hooks_get(const robotsim *rs, flt_hooks *h)
{
    const phys_env *e = &rs->phys.env;
    memcpy(h->cup_leak_per_s, e->cup_leak_per_s, sizeof h->cup_leak_per_s);
    memcpy(h->cyl_jammed, e->cyl_jammed, sizeof h->cyl_jammed);
    h->supply_pa = e->supply_pa;
    h->y_stuck_on = e->y_stuck_on;
    h->y_stuck_off = e->y_stuck_off;
    h->camera_blackout = e->camera_blackout;
    memcpy(h->an_fault, rs->an_fault, sizeof h->an_fault);
    h->x_stuck_on = rs->x_stuck_on;
    h->x_stuck_off = rs->x_stuck_off;
    h->gust_peak_m_s = rs->fault_gust_peak_m_s;
    h->gust_start_us = rs->fault_gust_start_us;
    h->gust_len_us = rs->fault_gust_len_us;
}

static void hooks_put(robotsim *rs, const flt_hooks *h)
{
    phys_env *e = &rs->phys.env;
    memcpy(e->cup_leak_per_s, h->cup_leak_per_s, sizeof h->cup_leak_per_s);
    memcpy(e->cyl_jammed, h->cyl_jammed, sizeof h->cyl_jammed);
    e->supply_pa = h->supply_pa;
    e->y_stuck_on = h->y_stuck_on;
    e->y_stuck_off = h->y_stuck_off;
    e->camera_blackout = h->camera_blackout;
    memcpy(rs->an_fault, h->an_fault, sizeof h->an_fault);
    rs->x_stuck_on = h->x_stuck_on;
    rs->x_stuck_off = h->x_stuck_off;
    rs->fault_gust_peak_m_s = h->gust_peak_m_s;
    rs->fault_gust_start_us = h->gust_start_us;
    rs->fault_gust_len_us = h->gust_len_us;
}

/* Force bit b on (on != 0) or off in a pair of masks: the later fault wins. */
static void force_bit(uint32_t *on_mask, uint32_t *off_mask, uint32_t b, int on)
{
    if (on) {
        *on_mask |= b;
        *off_mask &= ~b;
    } else {
        *off_mask |= b;
        *on_mask &= ~b;
    }
}

/* The effect of one active fault on the hooks (file units -> SI).  Leaks,
 * offsets and noise add up; stuck values, states, supply and gusts: the
 * later fault wins. */
static void effect(const flt_fault *f, const robotsim *rs, flt_hooks *h)
{
    switch (f->kind) {
    case FLT_CUP_LEAK:
        /* rate at nominal vacuum -> the physics' proportional leak k (1/s) */
        h->cup_leak_per_s[f->target] += f->value * 1e3 / rs->phys.cfg->vac_nominal_pa;
        break;
    case FLT_SENSOR_STUCK:
        if (f->target >= FLT_INPUT0) {
            force_bit(&h->x_stuck_on, &h->x_stuck_off, 1u << (f->target - FLT_INPUT0), f->state);
        } else {
            h->an_fault[f->target].stuck = 1;
            h->an_fault[f->target].stuck_value = f->value * unit_si(channel_unit(f->target));
        }
        break;
    case FLT_SENSOR_OFFSET:
        h->an_fault[f->target].offset += f->value * unit_si(channel_unit(f->target));
        break;
    case FLT_SENSOR_NOISE: {
        double sd = f->value * unit_si(channel_unit(f->target));
        double old = h->an_fault[f->target].noise_sd;
        h->an_fault[f->target].noise_sd = sqrt(old * old + sd * sd);
        break;
    }
    case FLT_CYLINDER_STALL: h->cyl_jammed[f->target] = 1; break;
    case FLT_REED_DEAD:
        force_bit(&h->x_stuck_on, &h->x_stuck_off, 1u << f->target, 0);
        break;
    case FLT_VALVE_STUCK: {
        uint32_t on = h->y_stuck_on, off = h->y_stuck_off;
        force_bit(&on, &off, 1u << f->target, f->state);
        h->y_stuck_on = (uint16_t)on;
        h->y_stuck_off = (uint16_t)off;
        break;
    }
    case FLT_SUPPLY_DROP: h->supply_pa = f->value * 1e3; break;
    case FLT_WIND_GUST:
        h->gust_peak_m_s = f->value;
        h->gust_start_us = f->start_ms * 1000u;
        h->gust_len_us = (f->end_ms - f->start_ms) * 1000u;
        break;
    case FLT_CAMERA_BLACKOUT: h->camera_blackout = 1; break;
    default: break; /* link_silence: flt_link_silent */
    }
}

static int is_active(const flt_fault *f, uint64_t now_ms)
{
    return f->start_ms <= now_ms && now_ms < f->end_ms;
}

int flt_apply(flt_sched *s, robotsim *rs, uint64_t now_ms)
{
    if (!s || !rs || !rs->phys.cfg) return FLT_EARG;
    if (!s->attached) {
        hooks_get(rs, &s->base);
        s->attached = 1;
    }
    int changed = 0;
    for (size_t i = 0; i < s->n; i++) {
        uint8_t a = (uint8_t)is_active(&s->faults[i], now_ms);
        if (a != s->faults[i].active) {
            s->faults[i].active = a;
            changed++;
        }
    }
    if (!changed) return 0;
    /* recompute from the baseline: the hooks depend only on the active set */
    flt_hooks h = s->base;
    for (size_t i = 0; i < s->n; i++)
        if (s->faults[i].active) effect(&s->faults[i], rs, &h);
    hooks_put(rs, &h);
    s->changes += (uint64_t)changed;
    return changed;
}

void flt_reset(flt_sched *s, robotsim *rs)
{
    if (!s) return;
    if (s->attached && rs) hooks_put(rs, &s->base);
    for (size_t i = 0; i < s->n; i++) s->faults[i].active = 0;
    s->attached = 0;
}

uint64_t flt_next_event_ms(const flt_sched *s, uint64_t now_ms)
{
    uint64_t next = FLT_FOREVER;
    if (!s) return next;
    for (size_t i = 0; i < s->n; i++) {
        const flt_fault *f = &s->faults[i];
        if (f->start_ms > now_ms && f->start_ms < next) next = f->start_ms;
        if (f->end_ms > now_ms && f->end_ms < next) next = f->end_ms;
    }
    return next;
}

int flt_advance_to_us(flt_sched *s, robotsim *rs, uint64_t t_us)
{
    if (!s || !rs) return FLT_EARG;
    int total = flt_apply(s, rs, rs->phys.t_us / 1000u);
    if (total < 0) return total;
    while (rs->phys.t_us < t_us) {
        uint64_t ev = flt_next_event_ms(s, rs->phys.t_us / 1000u);
        uint64_t stop = ev != FLT_FOREVER && ev * 1000u < t_us ? ev * 1000u : t_us;
        robotsim_advance_to_us(rs, stop);
        int rc = flt_apply(s, rs, rs->phys.t_us / 1000u);
        if (rc < 0) return rc;
        total += rc;
    }
    return total;
}

int flt_link_silent(const flt_sched *s, uint64_t now_ms)
{
    if (!s) return 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->faults[i].kind == FLT_LINK_SILENCE && is_active(&s->faults[i], now_ms)) return 1;
    return 0;
}
