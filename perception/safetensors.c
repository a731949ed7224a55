/*
 * safetensors.c — strict safetensors reader (see safetensors.h for the rules).
 *
 * One path for files and memory: a tiny byte source (FILE * or buffer) is
 * read front to back by st_parse_source(): 8-byte length, header, data.  The
 * header is validated twice over: json-c (strict mode, UTF-8 checked) for the
 * syntax, and a raw scan for the two things json-c silently accepts —
 * duplicate keys (it keeps the last) and "\u0000" escapes (it truncates the
 * key at the NUL, so "pool.weight\u0000x" would pose as "pool.weight").
 */
#include "safetensors.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "perr.h"

#define ST_DATA_ALIGN 64 /* data region alignment inside the block: cache line */
#define ST_JSON_DEPTH 8  /* top object > entry object > array: 3 levels needed */

/* ---- errors ---- */

const char *st_strerror(int code)
{
    switch (code) {
    case ST_OK: return "success";
    case ST_E_IO: return "cannot read file";
    case ST_E_TRUNCATED: return "file truncated before the header length";
    case ST_E_HEADER_LEN: return "header length runs beyond the end of the file";
    case ST_E_HEADER_CAP: return "header larger than the limit";
    case ST_E_JSON: return "header is not a strict JSON object";
    case ST_E_SCHEMA: return "header entry malformed";
    case ST_E_DTYPE: return "unsupported dtype (only F32)";
    case ST_E_SIZE: return "tensor size does not match its data_offsets";
    case ST_E_OVERFLOW: return "tensor shape overflows";
    case ST_E_RANGE: return "data_offsets out of range";
    case ST_E_OVERLAP: return "tensors overlap";
    case ST_E_COVERAGE: return "data region not exactly covered (gap or trailing bytes)";
    case ST_E_LIMIT: return "header exceeds a reader limit";
    case ST_E_NOMEM: return "out of memory";
    case ST_E_ARG: return "invalid argument";
    default: return "unknown error";
    }
}

/* ---- byte source: a FILE or a buffer, read sequentially ---- */

typedef struct {
    FILE *fp;           /* file source, or NULL */
    const uint8_t *mem; /* memory source when fp == NULL */
    size_t pos;         /* bytes consumed so far */
} st_source;

/* Read exactly N bytes into DST; 0 or -1 when the source ends early. */
static int src_read(st_source *s, void *dst, size_t n)
{
    if (n == 0) return 0;
    if (s->fp) {
        if (fread(dst, 1, n, s->fp) != n) return -1;
    } else {
        memcpy(dst, s->mem + s->pos, n);
    }
    s->pos += n;
    return 0;
}

/* ---- raw header scan ---- */

/* json-c's strict mode still accepts a few things RFC 8259 does not
 * ('single-quoted' keys, NaN, Infinity, "1.", "00", raw control characters
 * and lone surrogates in strings), so the header is first checked token by
 * token here; json-c then checks the grammar.  The scan also counts ':'
 * outside strings: one per object member, which json-c's member count must
 * match (json-c keeps only the last of duplicate keys) — and it refuses
 * "\u0000", which json-c would use to cut a key short. */

static int is_delim(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '}' || c == ']' ||
           c == ':';
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d == 16u) return 0;
        *v = *v << 4 | d;
    }
    return 1;
}

/* A string starting at h[*i] == '"'; *i ends past the closing quote. */
static const char *lex_string(const char *h, size_t n, size_t *i)
{
    size_t k = *i + 1;
    for (;;) {
        if (k >= n) return "unterminated string";
        unsigned char c = (unsigned char)h[k];
        if (c == '"') break;
        if (c < 0x20) return "control character inside a string";
        if (c != '\\') {
            k++;
            continue;
        }
        if (k + 1 >= n) return "unterminated escape";
        char e = h[k + 1];
        if (strchr("\"\\/bfnrt", e) && e != '\0') {
            k += 2;
            continue;
        }
        unsigned u, lo;
        if (e != 'u' || k + 6 > n || !hex4(h + k + 2, &u)) return "invalid escape in a string";
        if (u == 0) return "\\u0000 escape (NUL) in a string";
        if (u >= 0xDC00 && u <= 0xDFFF) return "lone low surrogate in a string";
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (k + 12 > n || h[k + 6] != '\\' || h[k + 7] != 'u' || !hex4(h + k + 8, &lo) ||
                lo < 0xDC00 || lo > 0xDFFF)
                return "lone high surrogate in a string";
            k += 6;
        }
        k += 6;
    }
    *i = k + 1;
    return NULL;
}

/* A number -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at h[*i]. */
static const char *lex_number(const char *h, size_t n, size_t *i)
{
    size_t k = *i;
#define DIGIT(k) ((k) < n && h[k] >= '0' && h[k] <= '9')
    if (k < n && h[k] == '-') k++;
    if (!DIGIT(k)) return "invalid number";
    if (h[k] == '0') k++;
    else
        while (DIGIT(k)) k++;
    if (k < n && h[k] == '.') {
        k++;
        if (!DIGIT(k)) return "invalid number (no digit after '.')";
        while (DIGIT(k)) k++;
    }
    if (k < n && (h[k] == 'e' || h[k] == 'E')) {
        k++;
        if (k < n && (h[k] == '+' || h[k] == '-')) k++;
        if (!DIGIT(k)) return "invalid number (no exponent digits)";
        while (DIGIT(k)) k++;
    }
#undef DIGIT
    *i = k;
    return NULL;
}

/* Check every token of H[0, N); count ':' outside strings into *COLONS.
 * On error *WHY says what and *AT where. */
static int lex_header(const char *h, size_t n, size_t *colons, const char **why, size_t *at)
{
    static const char *const lits[3] = {"true", "false", "null"};
    *colons = 0;
    size_t i = 0;
    while (i < n) {
        char c = h[i];
        *at = i;
        *why = NULL;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '{' || c == '}' ||
            c == '[' || c == ']' || c == ',') {
            i++;
            continue;
        }
        if (c == ':') {
            (*colons)++;
            i++;
            continue;
        }
        if (c == '"') {
            *why = lex_string(h, n, &i);
            if (*why) return -1;
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            *why = lex_number(h, n, &i);
        } else {
            int lit = c == 't' ? 0 : c == 'f' ? 1 : c == 'n' ? 2 : -1;
            size_t ll = lit >= 0 ? strlen(lits[lit]) : 0;
            if (lit < 0 || i + ll > n || memcmp(h + i, lits[lit], ll) != 0) {
                *why = c == '\0' ? "NUL byte" : "unexpected character";
                return -1;
            }
            i += ll;
        }
        if (!*why && i < n && !is_delim(h[i])) *why = "unexpected character after a value";
        if (*why) return -1;
    }
    return 0;
}

/* Members of every object in the tree (json-c collapses duplicates). */
static size_t count_members(struct json_object *o)
{
    size_t n = 0;
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v)
        {
            (void)k;
            n += 1 + count_members(v);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        size_t len = json_object_array_length(o);
        for (size_t i = 0; i < len; i++) n += count_members(json_object_array_get_idx(o, i));
    }
    return n;
}

/* ---- helpers ---- */

static int add_ok(size_t a, size_t b, size_t *r)
{
    if (a > SIZE_MAX - b) return 0;
    *r = a + b;
    return 1;
}

static size_t align_up(size_t x, size_t a)
{
    return (x + a - 1) / a * a; /* callers keep x far below SIZE_MAX */
}

/* A non-negative JSON integer into *v; 0 when it is anything else. */
static int json_size(struct json_object *o, size_t *v)
{
    if (!json_object_is_type(o, json_type_int)) return 0;
    if (json_object_get_int64(o) < 0) return 0;
    uint64_t u = json_object_get_uint64(o); /* json-c saturates beyond UINT64_MAX */
    if (u > SIZE_MAX) u = SIZE_MAX;
    *v = (size_t)u;
    return 1;
}

static int name_ok(const char *s, size_t len)
{
    if (len == 0 || len > ST_NAME_MAX) return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) return 0;
    }
    return 1;
}

/* "[2, 3]" into BUF for messages. */
static const char *shape_str(const st_tensor *t, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    n += (size_t)snprintf(buf + n, len - n, "[");
    for (size_t i = 0; i < t->ndim && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%zu", i ? ", " : "", t->shape[i]);
    if (n < len) snprintf(buf + n, len - n, "]");
    return buf;
}

static int cmp_offset(const void *a, const void *b)
{
    const st_tensor *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Validate one tensor entry VAL called NAME into *T (name already set). */
static int parse_entry(struct json_object *val, st_tensor *t, size_t data_len, const char *file,
                       char *err, size_t errlen)
{
    const char *nm = t->name;
    if (!json_object_is_type(val, json_type_object))
        return perr_fail_tensor(err, errlen, ST_E_SCHEMA, file, nm,
                       "entry is not an object {dtype, shape, data_offsets}");
    struct json_object *dtype = NULL, *shape = NULL, *offs = NULL;
    json_object_object_foreach(val, k, v)
    {
        if (!strcmp(k, "dtype")) dtype = v;
        else if (!strcmp(k, "shape")) shape = v;
        else if (!strcmp(k, "data_offsets")) offs = v;
        else
            return perr_fail_tensor(err, errlen, ST_E_SCHEMA, file, nm,
                           "unknown key '%.64s' (allowed: dtype, shape, data_offsets)", k);
    }
    if (!dtype || !shape || !offs)
        return perr_fail_tensor(err, errlen, ST_E_SCHEMA, file, nm, "missing '%s'",
                       !dtype ? "dtype" : !shape ? "shape" : "data_offsets");

    if (!json_object_is_type(dtype, json_type_string))
        return perr_fail_tensor(err, errlen, ST_E_SCHEMA, file, nm, "dtype is not a string");
    if (strcmp(json_object_get_string(dtype), "F32") != 0)
        return perr_fail_tensor(err, errlen, ST_E_DTYPE, file, nm, "dtype '%.32s' is not supported (only F32)",
                       json_object_get_string(dtype));

    if (!json_object_is_type(shape, json_type_array))
        return perr_fail_tensor(err, errlen, ST_E_SCHEMA, file, nm, "shape is not an array");
    size_t ndim = json_object_array_length(shape);
    if (ndim > ST_MAX_DIMS)
        return perr_fail_tensor(err, errlen, ST_E_LIMIT, file, nm, "shape has %zu dims (limit %d)", ndim,
                       ST_MAX_DIMS);
    t->ndim = ndim;
    t->numel = 1;
    int overflow = 0;
    for (size_t i = 0; i < ndim; i++) {
        size_t d;
        if (!json_size(json_object_array_get_idx(shape, i), &d))
            return perr_fail_tensor(err, errlen, ST_E_SCHEMA, file, nm,
                           "shape[%zu] is not a non-negative integer", i);
        t->shape[i] = d;
        if (d != 0 && t->numel > SIZE_MAX / d) overflow = 1;
        else t->numel *= d;
    }
    char sb[160];
    if (overflow || t->numel > SIZE_MAX / sizeof(float))
        return perr_fail_tensor(err, errlen, ST_E_OVERFLOW, file, nm,
                       "shape %s: element count times 4 bytes overflows size_t",
                       shape_str(t, sb, sizeof sb));
    size_t bytes = t->numel * sizeof(float);

    if (!json_object_is_type(offs, json_type_array) || json_object_array_length(offs) != 2)
        return perr_fail_tensor(err, errlen, ST_E_SCHEMA, file, nm, "data_offsets is not [begin, end]");
    if (!json_size(json_object_array_get_idx(offs, 0), &t->begin) ||
        !json_size(json_object_array_get_idx(offs, 1), &t->end))
        return perr_fail_tensor(err, errlen, ST_E_SCHEMA, file, nm,
                       "data_offsets are not non-negative integers");
    if (t->begin > t->end)
        return perr_fail_tensor(err, errlen, ST_E_RANGE, file, nm, "data_offsets [%zu, %zu]: begin > end",
                       t->begin, t->end);
    if (t->end > data_len)
        return perr_fail_tensor(err, errlen, ST_E_RANGE, file, nm,
                       "data_offsets [%zu, %zu] beyond the data region of %zu bytes", t->begin,
                       t->end, data_len);
    if (t->end - t->begin != bytes)
        return perr_fail_tensor(err, errlen, ST_E_SIZE, file, nm,
                       "shape %s needs %zu bytes of F32, data_offsets [%zu, %zu] hold %zu",
                       shape_str(t, sb, sizeof sb), bytes, t->begin, t->end, t->end - t->begin);
    return 0;
}

/* ---- the one parser ---- */

/* Read and validate a complete file image of FILE_LEN bytes from SRC. */
static int st_parse_source(st_source *src, size_t file_len, const char *file, st_file *out,
                           char *err, size_t errlen)
{
    struct json_tokener *tok = NULL;
    struct json_object *root = NULL;
    char *hdr = NULL;
    void *block = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    if (file_len < 8) {
        rc = perr_fail_tensor(err, errlen, ST_E_TRUNCATED, file, NULL,
                     "file is %zu bytes, shorter than the 8-byte header length", file_len);
        goto out;
    }
    uint8_t lenb[8];
    if (src_read(src, lenb, 8) != 0) {
        rc = perr_fail_tensor(err, errlen, ST_E_IO, file, NULL, "read error in the header length");
        goto out;
    }
    uint64_t n64 = 0;
    for (int i = 7; i >= 0; i--) n64 = n64 << 8 | lenb[i];
    if (n64 > ST_HEADER_CAP) {
        rc = perr_fail_tensor(err, errlen, ST_E_HEADER_CAP, file, NULL,
                     "header length %llu exceeds the limit of %zu bytes", (unsigned long long)n64,
                     ST_HEADER_CAP);
        goto out;
    }
    size_t hlen = (size_t)n64;
    if (hlen > file_len - 8) {
        rc = perr_fail_tensor(err, errlen, ST_E_HEADER_LEN, file, NULL,
                     "header length %zu runs beyond the end of the file (%zu bytes after the "
                     "length prefix)",
                     hlen, file_len - 8);
        goto out;
    }
    size_t data_len = file_len - 8 - hlen;

    hdr = malloc(hlen + 1);
    if (!hdr) {
        rc = perr_fail_tensor(err, errlen, ST_E_NOMEM, file, NULL, "no memory for a %zu-byte header", hlen);
        goto out;
    }
    if (src_read(src, hdr, hlen) != 0) {
        rc = perr_fail_tensor(err, errlen, ST_E_IO, file, NULL, "read error in the header");
        goto out;
    }
    hdr[hlen] = '\0';

    size_t colons, at = 0;
    const char *why = NULL;
    if (lex_header(hdr, hlen, &colons, &why, &at) != 0) {
        rc = perr_fail_tensor(err, errlen, ST_E_JSON, file, NULL, "invalid JSON header at byte %zu: %s", at,
                     why);
        goto out;
    }
    tok = json_tokener_new_ex(ST_JSON_DEPTH);
    if (!tok) {
        rc = perr_fail_tensor(err, errlen, ST_E_NOMEM, file, NULL, "no memory for the JSON parser");
        goto out;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    /* hlen <= 16 MiB fits an int */
    root = json_tokener_parse_ex(tok, hdr, (int)hlen);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (!root || jerr != json_tokener_success) {
        rc = perr_fail_tensor(err, errlen, ST_E_JSON, file, NULL, "invalid JSON header at byte %zu: %s",
                     json_tokener_get_parse_end(tok),
                     jerr == json_tokener_continue ? "unexpected end of header"
                                                   : json_tokener_error_desc(jerr));
        goto out;
    }
    if (json_tokener_get_parse_end(tok) != hlen) {
        rc = perr_fail_tensor(err, errlen, ST_E_JSON, file, NULL,
                     "invalid JSON header: extra bytes after the object at byte %zu",
                     json_tokener_get_parse_end(tok));
        goto out;
    }
    if (!json_object_is_type(root, json_type_object)) {
        rc = perr_fail_tensor(err, errlen, ST_E_JSON, file, NULL, "JSON header is not an object");
        goto out;
    }
    if (count_members(root) != colons) {
        rc = perr_fail_tensor(err, errlen, ST_E_JSON, file, NULL, "duplicate key in the JSON header");
        goto out;
    }

    /* Pass 1: count tensors and metadata, size the string area. */
    size_t ntens = 0, nmeta = 0, strbytes = 0;
    json_object_object_foreach(root, key, val)
    {
        size_t klen = strlen(key);
        if (!strcmp(key, "__metadata__")) {
            if (!json_object_is_type(val, json_type_object)) {
                rc = perr_fail_tensor(err, errlen, ST_E_SCHEMA, file, NULL, "__metadata__ is not an object");
                goto out;
            }
            json_object_object_foreach(val, mk, mv)
            {
                if (!json_object_is_type(mv, json_type_string)) {
                    rc = perr_fail_tensor(err, errlen, ST_E_SCHEMA, file, NULL,
                                 "__metadata__ value '%.64s' is not a string", mk);
                    goto out;
                }
                strbytes += strlen(mk) + 1 + (size_t)json_object_get_string_len(mv) + 1;
                nmeta++;
            }
            continue;
        }
        if (!name_ok(key, klen)) {
            rc = perr_fail_tensor(err, errlen, ST_E_LIMIT, file, NULL,
                         "tensor name '%.64s' is empty, longer than %d bytes or has control "
                         "characters",
                         key, ST_NAME_MAX);
            goto out;
        }
        if (++ntens > ST_MAX_TENSORS) {
            rc = perr_fail_tensor(err, errlen, ST_E_LIMIT, file, NULL, "more than %d tensors",
                         ST_MAX_TENSORS);
            goto out;
        }
        strbytes += klen + 1;
    }

    /* The single allocation: [tensors][meta][pad][data (64-aligned)][strings].
     * Sizes other than data_len are bounded by the 16 MiB header. */
    size_t off_meta = align_up(ntens * sizeof(st_tensor), sizeof(void *));
    size_t off_data = align_up(off_meta + nmeta * sizeof(st_meta), ST_DATA_ALIGN);
    size_t off_str, total;
    if (!add_ok(off_data, data_len, &off_str) || !add_ok(off_str, strbytes, &total)) {
        rc = perr_fail_tensor(err, errlen, ST_E_NOMEM, file, NULL, "file too large to load");
        goto out;
    }
    if (posix_memalign(&block, ST_DATA_ALIGN, total ? total : 1) != 0) {
        block = NULL;
        rc = perr_fail_tensor(err, errlen, ST_E_NOMEM, file, NULL, "no memory to load %zu bytes", total);
        goto out;
    }
    uint8_t *base = block;
    st_tensor *tensors = block;
    st_meta *meta = (st_meta *)(void *)(base + off_meta);
    uint8_t *data = base + off_data;
    char *strs = (char *)(base + off_str);
    memset(block, 0, off_data);

    /* Pass 2: fill the table and check each entry on its own. */
    size_t it = 0, im = 0;
    json_object_object_foreach(root, key2, val2)
    {
        if (!strcmp(key2, "__metadata__")) {
            json_object_object_foreach(val2, mk, mv)
            {
                size_t kl = strlen(mk), vl = (size_t)json_object_get_string_len(mv);
                memcpy(strs, mk, kl + 1);
                meta[im].key = strs;
                strs += kl + 1;
                memcpy(strs, json_object_get_string(mv), vl);
                strs[vl] = '\0';
                meta[im].value = strs;
                strs += vl + 1;
                im++;
            }
            continue;
        }
        st_tensor *t = &tensors[it++];
        size_t kl = strlen(key2);
        memcpy(strs, key2, kl + 1);
        t->name = strs;
        strs += kl + 1;
        rc = parse_entry(val2, t, data_len, file, err, errlen);
        if (rc != 0) goto out;
    }

    /* Whole-file checks: sorted by offset, each tensor must start exactly
     * where the previous one ended, the first at 0 and the last ending at the
     * end of the file.  Zero-byte tensors sit on a boundary.  Every begin is
     * then a sum of multiples of 4, so every data pointer is float-aligned. */
    qsort(tensors, ntens, sizeof *tensors, cmp_offset);
    size_t expect = 0;
    const char *prev = NULL;
    for (size_t i = 0; i < ntens; i++) {
        st_tensor *t = &tensors[i];
        if (t->begin < expect) {
            rc = perr_fail_tensor(err, errlen, ST_E_OVERLAP, file, t->name,
                         "data_offsets [%zu, %zu] overlap tensor '%.64s' (which ends at %zu)",
                         t->begin, t->end, prev ? prev : "?", expect);
            goto out;
        }
        if (t->begin > expect) {
            rc = perr_fail_tensor(err, errlen, ST_E_COVERAGE, file, t->name,
                         "gap of %zu bytes before it: data bytes [%zu, %zu) belong to no tensor",
                         t->begin - expect, expect, t->begin);
            goto out;
        }
        if (t->end > expect) {
            expect = t->end;
            prev = t->name;
        }
    }
    if (expect != data_len) {
        rc = perr_fail_tensor(err, errlen, ST_E_COVERAGE, file, prev,
                     "%zu trailing bytes after the last tensor: the file is %zu bytes but "
                     "header and tensors account for %zu",
                     data_len - expect, file_len, 8 + hlen + expect);
        goto out;
    }

    if (src_read(src, data, data_len) != 0) {
        rc = perr_fail_tensor(err, errlen, ST_E_IO, file, NULL, "read error in the data region");
        goto out;
    }
    if (src->fp && fgetc(src->fp) != EOF) {
        rc = perr_fail_tensor(err, errlen, ST_E_IO, file, NULL, "file grew while it was read");
        goto out;
    }
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__)
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (size_t i = 0; i + 4 <= data_len; i += 4) { /* the format is little-endian */
        uint8_t a = data[i], b = data[i + 1];
        data[i] = data[i + 3];
        data[i + 1] = data[i + 2];
        data[i + 2] = b;
        data[i + 3] = a;
    }
#endif
#endif
    for (size_t i = 0; i < ntens; i++)
        tensors[i].data = (const float *)(const void *)(data + tensors[i].begin);

    out->block = block;
    out->ntensors = ntens;
    out->tensors = tensors;
    out->nmeta = nmeta;
    out->meta = meta;
    out->header_len = hlen;
    out->data_len = data_len;
    block = NULL;
    rc = 0;
out:
    free(block);
    json_object_put(root);
    if (tok) json_tokener_free(tok);
    free(hdr);
    return rc;
}

int st_parse_buffer(const uint8_t *data, size_t len, const char *name, st_file *out, char *err,
                    size_t errlen)
{
    const char *file = name ? name : "<memory>";
    if (!out || (!data && len)) return perr_fail_tensor(err, errlen, ST_E_ARG, file, NULL, "NULL argument");
    st_source src = {.fp = NULL, .mem = data, .pos = 0};
    return st_parse_source(&src, len, file, out, err, errlen);
}

int st_load_file(const char *path, st_file *out, char *err, size_t errlen)
{
    if (!out) return perr_fail_tensor(err, errlen, ST_E_ARG, path ? path : "?", NULL, "NULL argument");
    memset(out, 0, sizeof *out);
    if (!path) return perr_fail_tensor(err, errlen, ST_E_ARG, "?", NULL, "NULL path");
    int rc;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        rc = perr_fail_tensor(err, errlen, ST_E_IO, path, NULL, "%s", strerror(errno));
        goto out;
    }
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0) {
        rc = perr_fail_tensor(err, errlen, ST_E_IO, path, NULL, "%s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = perr_fail_tensor(err, errlen, ST_E_IO, path, NULL, "not a regular file");
        goto out;
    }
    if ((uintmax_t)sb.st_size > SIZE_MAX) {
        rc = perr_fail_tensor(err, errlen, ST_E_NOMEM, path, NULL, "file too large");
        goto out;
    }
    st_source src = {.fp = fp, .mem = NULL, .pos = 0};
    rc = st_parse_source(&src, (size_t)sb.st_size, path, out, err, errlen);
out:
    if (fp) fclose(fp);
    return rc;
}

void st_free(st_file *f)
{
    if (!f) return;
    free(f->block);
    memset(f, 0, sizeof *f);
}

const st_tensor *st_find(const st_file *f, const char *name)
{
    if (!f || !name) return NULL;
    for (size_t i = 0; i < f->ntensors; i++)
        if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

const char *st_meta_get(const st_file *f, const char *key)
{
    if (!f || !key) return NULL;
    for (size_t i = 0; i < f->nmeta; i++)
        if (!strcmp(f->meta[i].key, key)) return f->meta[i].value;
    return NULL;
}
