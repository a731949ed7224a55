/*
 * regmap.c — FX device names and the FX3 MODBUS standard device assignment.
 * See regmap.h for the tables.
 */
#include "regmap.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const char *regmap_strerror(int code)
{
    switch (code) {
    case REGMAP_OK: return "success";
    case REGMAP_ESYNTAX: return "not an FX device name (expected e.g. D100, X17, M8000)";
    case REGMAP_EOCTAL: return "X and Y numbers are octal: digits 8 and 9 are not allowed";
    case REGMAP_ERANGE: return "device number outside the FX range";
    case REGMAP_EORDER: return "range end before its start, or a range of two device kinds";
    case REGMAP_ENOMAP: return "device has no Modbus address for this access";
    case REGMAP_EBUF: return "buffer too small";
    default: return "unknown register-map error";
    }
}

static const char kind_letter[FX_DEV_COUNT] = {'X', 'Y', 'M', 'S', 'T', 'C', 'D'};

int fx_device_valid(fx_device dev)
{
    unsigned n = dev.num;
    switch (dev.kind) {
    case FX_DEV_X:
    case FX_DEV_Y: return n <= FX_XY_MAX;
    case FX_DEV_M: return n <= FX_M_MAX || (n >= FX_M_SPECIAL_FIRST && n <= FX_M_SPECIAL_LAST);
    case FX_DEV_S: return n <= FX_S_MAX;
    case FX_DEV_T: return n <= FX_T_MAX;
    case FX_DEV_C: return n <= FX_C_MAX;
    case FX_DEV_D: return n <= FX_D_MAX || (n >= FX_D_SPECIAL_FIRST && n <= FX_D_SPECIAL_LAST);
    case FX_DEV_COUNT: break;
    }
    return 0;
}

int fx_device_is_word(fx_device dev)
{
    return dev.kind == FX_DEV_D;
}

/* Parse the kind letter and number of s[0..len). */
static int parse_n(const char *s, size_t len, int kind_given, fx_dev_kind kind_if_absent,
                   fx_device *out)
{
    fx_dev_kind kind = kind_if_absent;
    size_t i = 0;
    if (len == 0) return REGMAP_ESYNTAX;
    if (kind_given || isalpha((unsigned char)s[0])) {
        int c = toupper((unsigned char)s[0]);
        const char *p = memchr(kind_letter, c, sizeof kind_letter);
        if (!p) return REGMAP_ESYNTAX;
        kind = (fx_dev_kind)(p - kind_letter);
        i = 1;
    }
    if (i >= len) return REGMAP_ESYNTAX;
    int octal = (kind == FX_DEV_X || kind == FX_DEV_Y);
    unsigned long v = 0;
    int bad_octal = 0;
    for (; i < len; i++) {
        if (!isdigit((unsigned char)s[i])) return REGMAP_ESYNTAX;
        unsigned d = (unsigned)(s[i] - '0');
        if (octal && d > 7) bad_octal = 1;
        v = v * (octal ? 8u : 10u) + d;
        if (v > 0xFFFFu) v = 0x10000u; /* saturate: reported as out of range */
    }
    if (bad_octal) return REGMAP_EOCTAL;
    if (v > 0xFFFFu) return REGMAP_ERANGE;
    fx_device dev = {kind, (uint16_t)v};
    if (!fx_device_valid(dev)) return REGMAP_ERANGE;
    *out = dev;
    return 0;
}

int fx_parse_device(const char *s, fx_device *out)
{
    if (!s || !isalpha((unsigned char)s[0])) return REGMAP_ESYNTAX;
    return parse_n(s, strlen(s), 1, FX_DEV_D, out);
}

int fx_parse_range(const char *s, fx_range *out)
{
    if (!s) return REGMAP_ESYNTAX;
    const char *dash = strchr(s, '-');
    fx_device a, b;
    int rc;
    if (!dash) {
        rc = fx_parse_device(s, &a);
        if (rc) return rc;
        out->first = a;
        out->count = 1;
        return 0;
    }
    if (!isalpha((unsigned char)s[0])) return REGMAP_ESYNTAX;
    rc = parse_n(s, (size_t)(dash - s), 1, FX_DEV_D, &a);
    if (rc) return rc;
    const char *e = dash + 1;
    rc = parse_n(e, strlen(e), 0, a.kind, &b);
    if (rc) return rc;
    if (b.kind != a.kind || b.num < a.num) return REGMAP_EORDER;
    /* M and D ranges may not straddle the gap before the special area. */
    for (unsigned n = a.num; n <= b.num; n++) {
        fx_device d = {a.kind, (uint16_t)n};
        if (!fx_device_valid(d)) return REGMAP_ERANGE;
    }
    out->first = a;
    out->count = (uint16_t)(b.num - a.num + 1u);
    return 0;
}

int fx_format_device(fx_device dev, char *buf, size_t len)
{
    int n;
    if (!fx_device_valid(dev)) return REGMAP_ERANGE;
    if (dev.kind == FX_DEV_X || dev.kind == FX_DEV_Y)
        n = snprintf(buf, len, "%c%o", kind_letter[dev.kind], (unsigned)dev.num);
    else
        n = snprintf(buf, len, "%c%u", kind_letter[dev.kind], (unsigned)dev.num);
    if (n < 0 || (size_t)n >= len) return REGMAP_EBUF;
    return 0;
}

const char *mb_table_name(mb_table t)
{
    switch (t) {
    case MB_TABLE_COIL: return "coil";
    case MB_TABLE_DISCRETE_INPUT: return "discrete input";
    case MB_TABLE_HOLDING: return "holding register";
    case MB_TABLE_INPUT_REG: return "input register";
    case MB_TABLE_COUNT: break;
    }
    return "unknown table";
}

int fx_map_bit(fx_device dev, mb_table *table, uint16_t *addr)
{
    if (!fx_device_valid(dev)) return REGMAP_ERANGE;
    unsigned a;
    mb_table t = MB_TABLE_COIL;
    switch (dev.kind) {
    case FX_DEV_X: a = MB_BIT_X + dev.num; t = MB_TABLE_DISCRETE_INPUT; break;
    case FX_DEV_Y: a = MB_BIT_Y + dev.num; break;
    case FX_DEV_M:
        a = dev.num <= FX_M_MAX ? MB_BIT_M + dev.num
                                : MB_BIT_M_SPECIAL + (dev.num - FX_M_SPECIAL_FIRST);
        break;
    case FX_DEV_S: a = MB_BIT_S + dev.num; break;
    case FX_DEV_T: a = MB_BIT_TS + dev.num; break;
    case FX_DEV_C: a = MB_BIT_CS + dev.num; break;
    default: return REGMAP_ENOMAP;
    }
    *table = t;
    *addr = (uint16_t)a;
    return 0;
}

int fx_map_word(fx_device dev, uint16_t *addr)
{
    if (!fx_device_valid(dev)) return REGMAP_ERANGE;
    unsigned a;
    switch (dev.kind) {
    case FX_DEV_D:
        a = dev.num <= FX_D_MAX ? MB_REG_D + dev.num
                                : MB_REG_D_SPECIAL + (dev.num - FX_D_SPECIAL_FIRST);
        break;
    case FX_DEV_T: a = MB_REG_TN + dev.num; break;
    case FX_DEV_C:
        if (dev.num > FX_C16_MAX) return REGMAP_ENOMAP;
        a = MB_REG_CN + dev.num;
        break;
    default: return REGMAP_ENOMAP;
    }
    *addr = (uint16_t)a;
    return 0;
}

/* One row of an assignment table: [base, base+len) -> kind, first number. */
typedef struct {
    uint16_t base;
    uint16_t len;
    fx_dev_kind kind;
    uint16_t first;
} assign_row;

static const assign_row bit_rows[] = {
    {MB_BIT_M, FX_M_MAX + 1, FX_DEV_M, 0},
    {MB_BIT_M_SPECIAL, FX_M_SPECIAL_LAST - FX_M_SPECIAL_FIRST + 1, FX_DEV_M, FX_M_SPECIAL_FIRST},
    {MB_BIT_S, FX_S_MAX + 1, FX_DEV_S, 0},
    {MB_BIT_TS, FX_T_MAX + 1, FX_DEV_T, 0},
    {MB_BIT_CS, FX_C_MAX + 1, FX_DEV_C, 0},
    {MB_BIT_Y, FX_XY_MAX + 1, FX_DEV_Y, 0},
    {MB_BIT_X, FX_XY_MAX + 1, FX_DEV_X, 0},
};

static const assign_row word_rows[] = {
    {MB_REG_D, FX_D_MAX + 1, FX_DEV_D, 0},
    {MB_REG_D_SPECIAL, FX_D_SPECIAL_LAST - FX_D_SPECIAL_FIRST + 1, FX_DEV_D, FX_D_SPECIAL_FIRST},
    {MB_REG_TN, FX_T_MAX + 1, FX_DEV_T, 0},
    {MB_REG_CN, FX_C16_MAX + 1, FX_DEV_C, 0},
};

int fx_unmap(mb_table table, uint16_t addr, fx_device *out)
{
    const assign_row *rows;
    size_t n;
    if (table == MB_TABLE_COIL || table == MB_TABLE_DISCRETE_INPUT) {
        rows = bit_rows;
        n = sizeof bit_rows / sizeof bit_rows[0];
    } else if (table == MB_TABLE_HOLDING || table == MB_TABLE_INPUT_REG) {
        rows = word_rows;
        n = sizeof word_rows / sizeof word_rows[0];
    } else {
        return REGMAP_ENOMAP;
    }
    for (size_t i = 0; i < n; i++) {
        if (addr >= rows[i].base && addr - rows[i].base < rows[i].len) {
            if (table == MB_TABLE_COIL && rows[i].kind == FX_DEV_X) return REGMAP_ENOMAP;
            out->kind = rows[i].kind;
            out->num = (uint16_t)(rows[i].first + (addr - rows[i].base));
            return 0;
        }
    }
    return REGMAP_ENOMAP;
}

const char *cc_hold_reason_name(unsigned code)
{
    static const char *const names[CC_HOLD_COUNT] = {
        "none", "commanded", "estop", "watchdog", "tether", "supply",
    };
    return code < CC_HOLD_COUNT ? names[code] : "unknown";
}
