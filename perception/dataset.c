/*
 * dataset.c — the CCFUSION dataset format: strict parser, builder, synthetic
 * examples and the project's PRNG (layout in dataset.h).
 *
 * The parser runs twice over the bytes: the first pass validates every field
 * and counts what the data need (floats, snapshots, pixels), the second
 * fills one allocation with the converted data.  Both passes are the same
 * function, so what is counted is what is filled.
 */
#include "dataset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perr.h"

const char *ds_strerror(int code)
{
    switch (code) {
    case DS_OK: return "success";
    case DS_E_IO: return "cannot read or write the file";
    case DS_E_FORMAT: return "not a CCFUSION dataset header";
    case DS_E_TRUNCATED: return "dataset truncated";
    case DS_E_RECORD: return "record field out of range";
    case DS_E_VALUE: return "non-finite value in a record";
    case DS_E_TRAILING: return "bytes after the last record";
    case DS_E_NOMEM: return "out of memory";
    case DS_E_ARG: return "invalid argument";
    default: return "unknown error";
    }
}

/* ---- PRNG: xoshiro256** (Blackman & Vigna), seeded with splitmix64 ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void ds_rng_seed(ds_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t ds_rng_next(ds_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double ds_rng_uniform(ds_rng *r)
{
    return (double)(ds_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t ds_rng_below(ds_rng *r, uint64_t n)
{
    if (n <= 1) return 0;
    uint64_t lim = UINT64_MAX - UINT64_MAX % n; /* reject the biased tail */
    uint64_t x;
    do x = ds_rng_next(r);
    while (x >= lim);
    return x % n;
}

/* ---- little-endian access ---- */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static float getf(const uint8_t *p)
{
    uint32_t u = get32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- parser ---- */

static const char *const prox_names[FEAT_PROX] = {"+X", "-X", "+Y", "-Y"};

/* What pass 1 counts and pass 2 fills. */
typedef struct {
    size_t floats, snapshots, pixels;
    float *fp;         /* pass 2: next free float */
    feat_snapshot *sp; /* pass 2: next free snapshot */
    uint8_t *pp;       /* pass 2: next free pixel */
} ds_fill;

/* Size a snapshot record's tokens from its fields (same rules as feat_extract). */
static void snap_tokens(const feat_snapshot *s, uint32_t n[FUSION_MODALITIES])
{
    n[0] = FEAT_CUPS;
    n[1] = 0;
    for (int i = 0; i < FEAT_PROX; i++) n[1] += !s->proximity[i].dropout;
    n[2] = s->camera.online ? (s->camera.width / FEAT_PATCH) * (s->camera.height / FEAT_PATCH) : 0;
}

/* Parse one snapshot record at P (AVAIL bytes) into *S (pixels not copied). */
static int parse_snapshot(const uint8_t *p, size_t avail, feat_snapshot *s, size_t *used,
                          const char *where, char *err, size_t errlen)
{
    if (avail < DS_SNAPSHOT_HEAD)
        return perr_fail(err, errlen, DS_E_TRUNCATED, "%s: snapshot record needs %d bytes, %zu left",
                       where, DS_SNAPSHOT_HEAD, avail);
    feat_snapshot_init(s);
    for (int c = 0; c < FEAT_CUPS; c++) {
        s->vacuum_kpa[c] = getf(p + 4 + 4 * c);
        s->vacuum_rate_kpa_s[c] = getf(p + 52 + 4 * c);
        if (!isfinite(s->vacuum_kpa[c]) || !isfinite(s->vacuum_rate_kpa_s[c]))
            return perr_fail(err, errlen, DS_E_VALUE, "%s: cup %d %s is not finite", where, c,
                           isfinite(s->vacuum_kpa[c]) ? "vacuum rate" : "vacuum");
    }
    for (int f = 0; f < 4; f++)
        for (int k = 0; k < 2; k++) {
            s->foot_mm[f][k] = getf(p + 100 + 8 * f + 4 * k);
            if (!isfinite(s->foot_mm[f][k]))
                return perr_fail(err, errlen, DS_E_VALUE, "%s: foot %d %c is not finite", where, f,
                               k ? 'y' : 'x');
        }
    for (int i = 0; i < FEAT_PROX; i++) {
        feat_proximity *q = &s->proximity[i];
        q->distance_mm = getf(p + 132 + 4 * i);
        if (!isfinite(q->distance_mm))
            return perr_fail(err, errlen, DS_E_VALUE, "%s: proximity %s distance is not finite",
                           where, prox_names[i]);
        uint8_t fl = p[150 + i];
        if (fl & ~3u)
            return perr_fail(err, errlen, DS_E_RECORD,
                           "%s: proximity %s flags 0x%02x (only bit 0 no_echo, bit 1 dropout)",
                           where, prox_names[i], fl);
        q->no_echo = fl & 1u;
        q->dropout = (fl & 2u) != 0;
    }
    for (int g = 0; g < 2; g++) {
        if (p[148 + g] > 1)
            return perr_fail(err, errlen, DS_E_RECORD, "%s: holding %c is %u, must be 0 or 1", where,
                           g ? 'B' : 'A', p[148 + g]);
        s->holding[g] = p[148 + g];
    }
    uint8_t online = p[154];
    unsigned w = get16(p + 156), h = get16(p + 158);
    if (online > 1)
        return perr_fail(err, errlen, DS_E_RECORD, "%s: camera online is %u, must be 0 or 1", where,
                       online);
    if (p[155] != 0)
        return perr_fail(err, errlen, DS_E_RECORD, "%s: reserved byte 155 is %u, must be 0", where,
                       p[155]);
    if (!online && (w || h))
        return perr_fail(err, errlen, DS_E_RECORD, "%s: camera offline but %ux%u pixels", where, w,
                       h);
    if (online && (w == 0 || h == 0 || w % FEAT_PATCH || h % FEAT_PATCH || w > FEAT_MAX_CAM_W ||
                   h > FEAT_MAX_CAM_H))
        return perr_fail(err, errlen, DS_E_RECORD,
                       "%s: camera frame %ux%u (must be multiples of %d, at most %dx%d)", where, w,
                       h, FEAT_PATCH, FEAT_MAX_CAM_W, FEAT_MAX_CAM_H);
    size_t px = online ? (size_t)w * h : 0;
    if (avail - DS_SNAPSHOT_HEAD < px)
        return perr_fail(err, errlen, DS_E_TRUNCATED, "%s: camera needs %zu pixel bytes, %zu left",
                       where, px, avail - DS_SNAPSHOT_HEAD);
    s->camera.online = online;
    s->camera.width = w;
    s->camera.height = h;
    s->camera.pixels = online ? p + DS_SNAPSHOT_HEAD : NULL;
    *used = DS_SNAPSHOT_HEAD + px;
    return 0;
}

/* One pass over the records; REC == NULL in pass 1. */
static int parse_records(const uint8_t *data, size_t len, const dataset *ds, ds_record *rec,
                         ds_fill *fill, size_t *max_tokens, const char *name, char *err,
                         size_t errlen)
{
    static const char *const mod[FUSION_MODALITIES] = {"pressure", "proximity", "camera"};
    const int feat_layout = ds->D[0] == FEAT_DP && ds->D[1] == FEAT_DQ && ds->D[2] == FEAT_DC;
    size_t pos = DS_HEADER_BYTES;
    char where[384];
    *max_tokens = 1;
    for (size_t i = 0; i < ds->count; i++) {
        snprintf(where, sizeof where, "%s: record %zu (byte offset %zu)", name, i, pos);
        size_t avail = len - pos;
        if (avail < 4)
            return perr_fail(err, errlen, DS_E_TRUNCATED,
                           "%s: file ends before the record (header count says %zu records)",
                           where, ds->count);
        const uint8_t *p = data + pos;
        ds_record r = {.kind = p[0], .offset = pos};
        if (p[0] != DS_KIND_TOKENS && p[0] != DS_KIND_SNAPSHOT)
            return perr_fail(err, errlen, DS_E_RECORD, "%s: kind %u (1 = tokens, 2 = snapshot)",
                           where, p[0]);
        for (int g = 0; g < 2; g++) {
            if (p[1 + g] > 1)
                return perr_fail(err, errlen, DS_E_RECORD,
                               "%s: hold label of group %c is %u, must be 0 or 1", where,
                               g ? 'B' : 'A', p[1 + g]);
            r.y.hold[g] = p[1 + g];
        }
        if (p[3] >= FUSION_PATH)
            return perr_fail(err, errlen, DS_E_RECORD, "%s: path class %u, must be 0..%d", where,
                           p[3], FUSION_PATH - 1);
        r.y.path = p[3];
        size_t used = 0;
        if (p[0] == DS_KIND_TOKENS) {
            if (avail < DS_TOKENS_HEAD)
                return perr_fail(err, errlen, DS_E_TRUNCATED,
                               "%s: tokens record needs %d bytes, %zu left", where,
                               DS_TOKENS_HEAD, avail);
            size_t T = 0, nf = 0;
            for (int m = 0; m < FUSION_MODALITIES; m++) {
                r.n[m] = get16(p + 4 + 2 * m);
                T += r.n[m];
                nf += r.n[m] * ds->D[m];
            }
            if (get16(p + 10) != 0)
                return perr_fail(err, errlen, DS_E_RECORD, "%s: reserved u16 at 10 is %u, must be 0",
                               where, get16(p + 10));
            if (T > DS_MAX_TOKENS)
                return perr_fail(err, errlen, DS_E_RECORD,
                               "%s: %zu tokens (%u + %u + %u), limit %u", where, T, r.n[0],
                               r.n[1], r.n[2], DS_MAX_TOKENS);
            /* nf <= 1024 * 4096 floats: no overflow */
            if ((avail - DS_TOKENS_HEAD) / 4 < nf)
                return perr_fail(err, errlen, DS_E_TRUNCATED,
                               "%s: %zu token values need %zu bytes, %zu left", where, nf,
                               nf * 4, avail - DS_TOKENS_HEAD);
            const uint8_t *q = p + DS_TOKENS_HEAD;
            for (int m = 0; m < FUSION_MODALITIES; m++) {
                size_t cnt = r.n[m] * ds->D[m];
                if (!rec) { /* pass 1: validate */
                    for (size_t k = 0; k < cnt; k++)
                        if (!isfinite(getf(q + 4 * k)))
                            return perr_fail(err, errlen, DS_E_VALUE,
                                           "%s: %s token %zu column %zu is not finite", where,
                                           mod[m], k / ds->D[m], k % ds->D[m]);
                    fill->floats += cnt;
                } else {
                    r.rows[m] = cnt ? fill->fp : NULL;
                    for (size_t k = 0; k < cnt; k++) *fill->fp++ = getf(q + 4 * k);
                }
                q += 4 * cnt;
            }
            if (T > *max_tokens) *max_tokens = T;
            used = DS_TOKENS_HEAD + 4 * nf;
        } else {
            if (!feat_layout)
                return perr_fail(err, errlen, DS_E_RECORD,
                               "%s: snapshot record, but the header's widths %zu/%zu/%zu are not "
                               "the feature layout %d/%d/%d",
                               where, ds->D[0], ds->D[1], ds->D[2], FEAT_DP, FEAT_DQ, FEAT_DC);
            feat_snapshot s;
            int rc = parse_snapshot(p, avail, &s, &used, where, err, errlen);
            if (rc != 0) return rc;
            snap_tokens(&s, r.n);
            size_t T = (size_t)r.n[0] + r.n[1] + r.n[2];
            if (T > *max_tokens) *max_tokens = T;
            size_t px = s.camera.online ? (size_t)s.camera.width * s.camera.height : 0;
            if (!rec) {
                fill->snapshots++;
                fill->pixels += px;
            } else {
                if (px) {
                    memcpy(fill->pp, s.camera.pixels, px);
                    s.camera.pixels = fill->pp;
                    fill->pp += px;
                }
                *fill->sp = s;
                r.snap = fill->sp++;
            }
        }
        if (rec) rec[i] = r;
        pos += used;
    }
    if (pos != len)
        return perr_fail(err, errlen, DS_E_TRAILING,
                       "%s: %zu bytes after the last of %zu records (at byte offset %zu)", name,
                       len - pos, ds->count, pos);
    return 0;
}

void ds_free(dataset *ds)
{
    if (!ds) return;
    free(ds->block);
    memset(ds, 0, sizeof *ds);
}

static size_t align16(size_t n)
{
    return (n + 15) / 16 * 16;
}

int ds_parse_buffer(dataset *ds, const uint8_t *data, size_t len, const char *name, char *err,
                    size_t errlen)
{
    if (!ds) return perr_fail(err, errlen, DS_E_ARG, "ds_parse_buffer: NULL dataset");
    memset(ds, 0, sizeof *ds);
    if (!name) name = "<memory>";
    if (!data && len) return perr_fail(err, errlen, DS_E_ARG, "%s: NULL data", name);
    if (len < DS_HEADER_BYTES)
        return perr_fail(err, errlen, DS_E_TRUNCATED,
                       "%s: %zu bytes, shorter than the %d-byte header", name, len,
                       DS_HEADER_BYTES);
    if (memcmp(data, DS_MAGIC, 8) != 0)
        return perr_fail(err, errlen, DS_E_FORMAT,
                       "%s: not a crossclimb fusion dataset (magic is not \"" DS_MAGIC "\")",
                       name);
    uint32_t version = get32(data + 8), flags = get32(data + 12);
    if (version != DS_VERSION)
        return perr_fail(err, errlen, DS_E_FORMAT, "%s: version %u, this reader knows %u", name,
                       version, DS_VERSION);
    if (flags & ~DS_FLAG_SYNTHETIC)
        return perr_fail(err, errlen, DS_E_FORMAT, "%s: unknown flags 0x%x (known: 0x1 synthetic)",
                       name, flags);
    static const char *const dn[FUSION_MODALITIES] = {"Dp", "Dq", "Dc"};
    dataset hd = {.flags = flags};
    for (int m = 0; m < FUSION_MODALITIES; m++) {
        uint32_t d = get32(data + 16 + 4 * m);
        if (d == 0 || d > DS_MAX_WIDTH)
            return perr_fail(err, errlen, DS_E_FORMAT, "%s: header %s = %u, must be 1..%u", name,
                           dn[m], d, DS_MAX_WIDTH);
        hd.D[m] = d;
    }
    if (get32(data + 28) != 0)
        return perr_fail(err, errlen, DS_E_FORMAT, "%s: header reserved field is %u, must be 0",
                       name, get32(data + 28));
    uint64_t count = get64(data + 32);
    if (count > DS_MAX_RECORDS)
        return perr_fail(err, errlen, DS_E_FORMAT, "%s: header count %llu, limit %u", name,
                       (unsigned long long)count, DS_MAX_RECORDS);
    /* every record is at least 12 bytes: a count the file cannot hold is truncation */
    if (count > (len - DS_HEADER_BYTES) / DS_TOKENS_HEAD)
        return perr_fail(err, errlen, DS_E_TRUNCATED,
                       "%s: header count %llu records, but only %zu bytes follow the header", name,
                       (unsigned long long)count, len - DS_HEADER_BYTES);
    hd.count = (size_t)count;

    ds_fill fill = {0};
    size_t max_tokens;
    int rc = parse_records(data, len, &hd, NULL, &fill, &max_tokens, name, err, errlen);
    if (rc != 0) return rc;
    /* sizes are bounded by len (each float, snapshot and pixel came from its bytes) */
    size_t b_rec = align16(hd.count * sizeof(ds_record));
    size_t b_flt = align16(fill.floats * sizeof(float));
    size_t b_snp = align16(fill.snapshots * sizeof(feat_snapshot));
    size_t total = b_rec + b_flt + b_snp + fill.pixels;
    void *block = malloc(total ? total : 1);
    if (!block) return perr_fail(err, errlen, DS_E_NOMEM, "%s: no memory for %zu bytes", name, total);
    uint8_t *bp = block;
    ds_record *rec = (ds_record *)(void *)bp;
    ds_fill f2 = {.fp = (float *)(void *)(bp + b_rec),
                  .sp = (feat_snapshot *)(void *)(bp + b_rec + b_flt),
                  .pp = bp + b_rec + b_flt + b_snp};
    rc = parse_records(data, len, &hd, rec, &f2, &max_tokens, name, err, errlen);
    if (rc != 0) { /* cannot happen: pass 1 accepted the same bytes */
        free(block);
        return rc;
    }
    hd.rec = rec;
    hd.block = block;
    hd.max_tokens = max_tokens;
    hd.n_snapshots = fill.snapshots;
    *ds = hd;
    return 0;
}

int ds_load_file(dataset *ds, const char *path, char *err, size_t errlen)
{
    if (!ds || !path) return perr_fail(err, errlen, DS_E_ARG, "ds_load_file: NULL argument");
    memset(ds, 0, sizeof *ds);
    FILE *f = fopen(path, "rb");
    if (!f) return perr_fail(err, errlen, DS_E_IO, "%s: cannot open: %s", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 1 << 16;
            uint8_t *nb = ncap > cap ? realloc(buf, ncap) : NULL;
            if (!nb) {
                rc = perr_fail(err, errlen, DS_E_NOMEM, "%s: no memory to read it", path);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) rc = perr_fail(err, errlen, DS_E_IO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (rc == 0) rc = ds_parse_buffer(ds, buf, len, path, err, errlen);
    free(buf);
    return rc;
}

int ds_get(const dataset *ds, size_t i, feat_tokens *scratch, ds_example *ex)
{
    if (!ds || !ex || i >= ds->count) return DS_E_ARG;
    const ds_record *r = &ds->rec[i];
    ex->y = r->y;
    if (r->kind == DS_KIND_TOKENS) {
        for (int m = 0; m < FUSION_MODALITIES; m++) {
            ex->in.rows[m] = r->rows[m];
            ex->in.n[m] = r->n[m];
        }
        return 0;
    }
    if (!scratch) return DS_E_ARG;
    /* validated at parse time: feat_extract cannot fail here */
    if (feat_extract(r->snap, scratch, NULL, 0) != 0) return DS_E_ARG;
    feat_to_input(scratch, &ex->in);
    return 0;
}

/* ---- builder ---- */

static int bd_reserve(ds_builder *b, size_t more)
{
    if (b->failed) return -1;
    if (b->cap - b->len >= more) return 0;
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap - b->len < more) {
        if (ncap > SIZE_MAX / 2) {
            b->failed = 1;
            return -1;
        }
        ncap *= 2;
    }
    uint8_t *nb = realloc(b->buf, ncap);
    if (!nb) {
        b->failed = 1;
        return -1;
    }
    b->buf = nb;
    b->cap = ncap;
    return 0;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void putf(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put32(p, u);
}

void ds_build_free(ds_builder *b)
{
    if (!b) return;
    free(b->buf);
    memset(b, 0, sizeof *b);
}

int ds_build_start(ds_builder *b, const size_t D[FUSION_MODALITIES], uint32_t flags)
{
    if (!b || !D) return DS_E_ARG;
    memset(b, 0, sizeof *b);
    if (flags & ~DS_FLAG_SYNTHETIC) return DS_E_ARG;
    for (int m = 0; m < FUSION_MODALITIES; m++) {
        if (D[m] == 0 || D[m] > DS_MAX_WIDTH) return DS_E_ARG;
        b->D[m] = D[m];
    }
    if (bd_reserve(b, DS_HEADER_BYTES) != 0) return DS_E_NOMEM;
    uint8_t *p = b->buf;
    memset(p, 0, DS_HEADER_BYTES);
    memcpy(p, DS_MAGIC, 8);
    put32(p + 8, DS_VERSION);
    put32(p + 12, flags);
    for (int m = 0; m < FUSION_MODALITIES; m++) put32(p + 16 + 4 * m, (uint32_t)D[m]);
    b->len = DS_HEADER_BYTES;
    return 0;
}

static int labels_ok(const ds_labels *y)
{
    return y && y->hold[0] <= 1 && y->hold[1] <= 1 && y->path < FUSION_PATH;
}

static void put_labels(uint8_t *p, uint8_t kind, const ds_labels *y)
{
    p[0] = kind;
    p[1] = y->hold[0];
    p[2] = y->hold[1];
    p[3] = y->path;
}

int ds_build_tokens(ds_builder *b, const fusion_input *in, const ds_labels *y)
{
    if (!b || !b->buf || !in) return DS_E_ARG;
    if (!labels_ok(y)) return DS_E_RECORD;
    if (b->count >= DS_MAX_RECORDS) return DS_E_RECORD;
    size_t T = 0, nf = 0;
    for (int m = 0; m < FUSION_MODALITIES; m++) {
        if (in->n[m] > DS_MAX_TOKENS) return DS_E_RECORD;
        if (in->n[m] && !in->rows[m]) return DS_E_ARG;
        T += in->n[m];
        nf += in->n[m] * b->D[m];
        for (size_t k = 0; k < in->n[m] * b->D[m]; k++)
            if (!isfinite(in->rows[m][k])) return DS_E_VALUE;
    }
    if (T > DS_MAX_TOKENS) return DS_E_RECORD;
    if (bd_reserve(b, DS_TOKENS_HEAD + 4 * nf) != 0) return DS_E_NOMEM;
    uint8_t *p = b->buf + b->len;
    put_labels(p, DS_KIND_TOKENS, y);
    for (int m = 0; m < FUSION_MODALITIES; m++) put16(p + 4 + 2 * m, (unsigned)in->n[m]);
    put16(p + 10, 0);
    p += DS_TOKENS_HEAD;
    for (int m = 0; m < FUSION_MODALITIES; m++)
        for (size_t k = 0; k < in->n[m] * b->D[m]; k++, p += 4) putf(p, in->rows[m][k]);
    b->len += DS_TOKENS_HEAD + 4 * nf;
    b->count++;
    return 0;
}

int ds_build_snapshot(ds_builder *b, const feat_snapshot *s, const ds_labels *y)
{
    if (!b || !b->buf || !s) return DS_E_ARG;
    if (!labels_ok(y)) return DS_E_RECORD;
    if (b->D[0] != FEAT_DP || b->D[1] != FEAT_DQ || b->D[2] != FEAT_DC) return DS_E_RECORD;
    if (b->count >= DS_MAX_RECORDS) return DS_E_RECORD;
    const feat_camera *c = &s->camera;
    size_t px = 0;
    if (c->online) {
        if (c->width == 0 || c->height == 0 || c->width % FEAT_PATCH || c->height % FEAT_PATCH ||
            c->width > FEAT_MAX_CAM_W || c->height > FEAT_MAX_CAM_H || !c->pixels)
            return DS_E_RECORD;
        px = (size_t)c->width * c->height;
    }
    for (int i = 0; i < FEAT_CUPS; i++)
        if (!isfinite(s->vacuum_kpa[i]) || !isfinite(s->vacuum_rate_kpa_s[i])) return DS_E_VALUE;
    for (int f = 0; f < 4; f++)
        if (!isfinite(s->foot_mm[f][0]) || !isfinite(s->foot_mm[f][1])) return DS_E_VALUE;
    for (int i = 0; i < FEAT_PROX; i++) /* an unused distance (dropout, no echo) is stored as 0 */
        if (!s->proximity[i].dropout && !s->proximity[i].no_echo &&
            !isfinite(s->proximity[i].distance_mm))
            return DS_E_VALUE;
    if (bd_reserve(b, DS_SNAPSHOT_HEAD + px) != 0) return DS_E_NOMEM;
    uint8_t *p = b->buf + b->len;
    memset(p, 0, DS_SNAPSHOT_HEAD);
    put_labels(p, DS_KIND_SNAPSHOT, y);
    for (int i = 0; i < FEAT_CUPS; i++) {
        putf(p + 4 + 4 * i, s->vacuum_kpa[i]);
        putf(p + 52 + 4 * i, s->vacuum_rate_kpa_s[i]);
    }
    for (int f = 0; f < 4; f++)
        for (int k = 0; k < 2; k++) putf(p + 100 + 8 * f + 4 * k, s->foot_mm[f][k]);
    for (int i = 0; i < FEAT_PROX; i++) {
        const feat_proximity *q = &s->proximity[i];
        float d = q->dropout || q->no_echo ? (isfinite(q->distance_mm) ? q->distance_mm : 0.0f)
                                           : q->distance_mm;
        putf(p + 132 + 4 * i, d);
        p[150 + i] = (uint8_t)((q->no_echo ? 1u : 0u) | (q->dropout ? 2u : 0u));
    }
    p[148] = s->holding[0];
    p[149] = s->holding[1];
    p[154] = c->online;
    if (c->online) {
        put16(p + 156, c->width);
        put16(p + 158, c->height);
        memcpy(p + DS_SNAPSHOT_HEAD, c->pixels, px);
    }
    b->len += DS_SNAPSHOT_HEAD + px;
    b->count++;
    return 0;
}

int ds_build_finish(ds_builder *b, const uint8_t **data, size_t *len)
{
    if (!b || !b->buf || !data || !len) return DS_E_ARG;
    if (b->failed) return DS_E_NOMEM;
    uint64_t c = b->count;
    for (int i = 0; i < 8; i++) b->buf[32 + i] = (uint8_t)(c >> (8 * i));
    *data = b->buf;
    *len = b->len;
    return 0;
}

/* ---- synthetic examples ---- */

/* Uniform in [lo, hi), as float. */
static float urange(ds_rng *r, double lo, double hi)
{
    return (float)(lo + (hi - lo) * ds_rng_uniform(r));
}

int ds_synthetic(ds_builder *b, size_t n, uint64_t seed)
{
    static const size_t D[FUSION_MODALITIES] = {FEAT_DP, FEAT_DQ, FEAT_DC};
    int rc = ds_build_start(b, D, DS_FLAG_SYNTHETIC);
    if (rc != 0) return rc;
    if (n > DS_MAX_RECORDS) return DS_E_ARG;
    ds_rng r;
    ds_rng_seed(&r, seed);
    uint8_t px[DS_SYN_CAM_W * DS_SYN_CAM_H];
    enum { PC = DS_SYN_CAM_W / FEAT_PATCH, PR = DS_SYN_CAM_H / FEAT_PATCH };
    for (size_t e = 0; e < n; e++) {
        feat_snapshot s;
        ds_labels y = {{1, 1}, FUSION_PATH_PROCEED};
        feat_snapshot_init(&s);
        /* Which groups hold: both (1/3), only A (1/3), only B (1/3). */
        unsigned st = (unsigned)ds_rng_below(&r, 3);
        s.holding[0] = st != 2;
        s.holding[1] = st != 1;
        /* Feet around their nominal places, mm. */
        static const float foot0[4][2] = {{-150, 100}, {150, 100}, {-150, -100}, {150, -100}};
        for (int f = 0; f < 4; f++)
            for (int k = 0; k < 2; k++) s.foot_mm[f][k] = foot0[f][k] + urange(&r, -30, 30);
        /* Cups: a holding group is sealed (50..60 kPa, steady) unless it
         * leaks (1 in 4): 1..3 of its cups low (10..35 kPa) and falling. */
        for (int g = 0; g < 2; g++) {
            int leak = s.holding[g] && ds_rng_below(&r, 4) == 0;
            int nbad = leak ? 1 + (int)ds_rng_below(&r, 3) : 0;
            for (int c = 6 * g; c < 6 * g + 6; c++) {
                if (s.holding[g]) {
                    s.vacuum_kpa[c] = urange(&r, 50, 60);
                    s.vacuum_rate_kpa_s[c] = urange(&r, -3, 3);
                } else { /* released: near 0 */
                    s.vacuum_kpa[c] = urange(&r, 0, 4);
                    s.vacuum_rate_kpa_s[c] = urange(&r, -2, 2);
                }
            }
            for (int k = 0; k < nbad; k++) {
                int c = 6 * g + (int)ds_rng_below(&r, 6);
                s.vacuum_kpa[c] = urange(&r, 10, 35);
                s.vacuum_rate_kpa_s[c] = urange(&r, -60, -15);
            }
            if (leak) y.hold[g] = 0;
        }
        /* Camera: textured facade; a dark patch ahead of a lifted group
         * (1 in 3) means its next foothold will not seal.  A bright patch
         * anywhere (1 in 3) is a distractor.  Offline (1 in 8) only when
         * both groups hold, so no label depends on a camera that is absent. */
        int online = st != 0 || ds_rng_below(&r, 8) != 0;
        if (online) {
            for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(100 + ds_rng_below(&r, 61));
            int lifted = st == 1 ? 1 : st == 2 ? 0 : -1;
            if (lifted >= 0 && ds_rng_below(&r, 3) == 0) {
                int pc = lifted * (PC / 2) + (int)ds_rng_below(&r, PC / 2);
                int pr = (int)ds_rng_below(&r, PR);
                for (int yy = 0; yy < FEAT_PATCH; yy++)
                    for (int xx = 0; xx < FEAT_PATCH; xx++)
                        px[(pr * FEAT_PATCH + yy) * DS_SYN_CAM_W + pc * FEAT_PATCH + xx] =
                            (uint8_t)ds_rng_below(&r, 41);
                y.hold[lifted] = 0;
            }
            if (ds_rng_below(&r, 3) == 0) {
                int pc = (int)ds_rng_below(&r, PC), pr = (int)ds_rng_below(&r, PR);
                for (int yy = 0; yy < FEAT_PATCH; yy++)
                    for (int xx = 0; xx < FEAT_PATCH; xx++) {
                        uint8_t *q = &px[(pr * FEAT_PATCH + yy) * DS_SYN_CAM_W + pc * FEAT_PATCH + xx];
                        if (*q >= 100) *q = (uint8_t)(200 + ds_rng_below(&r, 56));
                    }
            }
            s.camera = (feat_camera){.online = true, .width = DS_SYN_CAM_W,
                                     .height = DS_SYN_CAM_H, .pixels = px};
        }
        /* Proximity: +X, -X, +Y (ahead) always work; -Y drops out 1 in 3. */
        float dist[FEAT_PROX];
        for (int i = 0; i < FEAT_PROX; i++) {
            feat_proximity *q = &s.proximity[i];
            q->dropout = false;
            q->no_echo = ds_rng_below(&r, 5) == 0;
            dist[i] = q->no_echo ? 2000.0f : urange(&r, 80, 1000);
            q->distance_mm = q->no_echo ? 0.0f : dist[i];
        }
        s.proximity[FEAT_NY].dropout = ds_rng_below(&r, 3) == 0;
        float ahead = dist[FEAT_PY];
        int left_clear = dist[FEAT_NX] > 500, right_clear = dist[FEAT_PX] > 500;
        y.path = ahead > 600   ? FUSION_PATH_PROCEED
                 : ahead > 300 ? FUSION_PATH_SHORTEN
                 : left_clear  ? FUSION_PATH_SIDESTEP_LEFT
                 : right_clear ? FUSION_PATH_SIDESTEP_RIGHT
                               : FUSION_PATH_STOP;
        if ((rc = ds_build_snapshot(b, &s, &y)) != 0) return rc;
    }
    return b->failed ? DS_E_NOMEM : 0;
}
