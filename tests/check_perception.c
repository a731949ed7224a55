/*
 * check_perception.c — Check suites for perception/: the strict safetensors
 * reader, the fusion model (against the PyTorch golden cases), the feature
 * extraction, the no-allocation guarantee and `crossclimb fusion check`.
 *
 * Broken files are written by the tests themselves into a mkdtemp directory:
 * raw header text for reader errors, a small tensor-list builder for model
 * errors.  Environment (set by `make check-unit`): CROSSCLIMB_SHARED for the
 * golden cases, CROSSCLIMB_BIN for the front command — a missing one fails.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "perception/features.h"
#include "perception/fusion.h"
#include "tests/support/tmpdir.h"
#include "perception/safetensors.h"
#include "tests/support/allocprobe.h"

int main(void);

static const char *const golden_cases[] = {
    "camera-offline-h8.safetensors",
    "large-inputs-h16.safetensors",
    "pool-h16.safetensors",
    "selfattn-h32.safetensors",
};
#define N_GOLDEN (sizeof golden_cases / sizeof golden_cases[0])

/* ---- temp dir fixture ---- */

/* A safetensors file: 8-byte LE length LEN_FIELD (or the JSON's real length
 * when LEN_FIELD is UINT64_MAX), the JSON text, then DATA_LEN bytes 0x3f. */
static const char *write_raw(const char *name, const char *json, uint64_t len_field,
                             size_t data_len)
{
    size_t jl = strlen(json);
    uint64_t n = len_field == UINT64_MAX ? jl : len_field;
    size_t total = 8 + jl + data_len;
    uint8_t *b = malloc(total);
    ck_assert_ptr_nonnull(b);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(n >> (8 * i));
    memcpy(b + 8, json, jl);
    memset(b + 8 + jl, 0x3f, data_len);
    const char *p = tmp_path(name);
    write_bytes(p, b, total);
    free(b);
    return p;
}

/* ---- tensor-list builder (valid files unless a test bends them) ---- */

typedef struct {
    char name[64];
    size_t ndim, shape[2];
} tb_tensor;

typedef struct {
    tb_tensor t[48];
    size_t n;
    const char *nan_in; /* tensor whose element 0 becomes NaN */
} tb;

static void tb_add(tb *b, const char *name, size_t ndim, size_t d0, size_t d1)
{
    ck_assert_uint_lt(b->n, 48);
    tb_tensor *t = &b->t[b->n++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->shape[0] = d0;
    t->shape[1] = d1;
}

static tb_tensor *tb_get(tb *b, const char *name)
{
    for (size_t i = 0; i < b->n; i++)
        if (!strcmp(b->t[i].name, name)) return &b->t[i];
    ck_abort_msg("builder has no tensor %s", name);
    return NULL;
}

static void tb_remove(tb *b, const char *name)
{
    tb_tensor *t = tb_get(b, name);
    size_t i = (size_t)(t - b->t);
    memmove(&b->t[i], &b->t[i + 1], (b->n - i - 1) * sizeof *t);
    b->n--;
}

static void tb_linear(tb *b, const char *prefix, size_t out, size_t in)
{
    char n[64];
    snprintf(n, sizeof n, "%s.weight", prefix);
    tb_add(b, n, 2, out, in);
    snprintf(n, sizeof n, "%s.bias", prefix);
    tb_add(b, n, 1, out, 0);
}

/* The standard model: H, Hp, optional self-attention, widths 7/4/66. */
static void tb_model(tb *b, size_t H, size_t Hp, int attn)
{
    memset(b, 0, sizeof *b);
    tb_linear(b, "proj.pressure", H, FEAT_DP);
    tb_linear(b, "proj.proximity", H, FEAT_DQ);
    tb_linear(b, "proj.camera", H, FEAT_DC);
    if (attn) {
        tb_linear(b, "self_attn.query", H, H);
        tb_linear(b, "self_attn.key", H, H);
        tb_linear(b, "self_attn.value", H, H);
    }
    tb_linear(b, "pool", Hp, H);
    tb_linear(b, "head.grip", 2, H);
    tb_linear(b, "head.path", 5, H);
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* The file image of B (malloc'd, *len bytes), weights uniform in ±0.3. */
static uint8_t *tb_image(const tb *b, size_t *len)
{
    char json[8192];
    size_t jn = (size_t)snprintf(json, sizeof json, "{\"__metadata__\":{\"format\":\"test\"}");
    size_t off = 0;
    for (size_t i = 0; i < b->n; i++) {
        const tb_tensor *t = &b->t[i];
        size_t numel = t->ndim == 2 ? t->shape[0] * t->shape[1] : t->shape[0];
        char shape[64];
        if (t->ndim == 2) snprintf(shape, sizeof shape, "[%zu,%zu]", t->shape[0], t->shape[1]);
        else snprintf(shape, sizeof shape, "[%zu]", t->shape[0]);
        jn += (size_t)snprintf(json + jn, sizeof json - jn,
                               ",\"%s\":{\"dtype\":\"F32\",\"shape\":%s,\"data_offsets\":[%zu,%zu]}",
                               t->name, shape, off, off + numel * 4);
        off += numel * 4;
    }
    jn += (size_t)snprintf(json + jn, sizeof json - jn, "}");
    ck_assert_uint_lt(jn, sizeof json);
    *len = 8 + jn + off;
    uint8_t *img = malloc(*len);
    ck_assert_ptr_nonnull(img);
    for (int i = 0; i < 8; i++) img[i] = (uint8_t)((uint64_t)jn >> (8 * i));
    memcpy(img + 8, json, jn);
    uint32_t seed = 12345;
    uint8_t *d = img + 8 + jn;
    for (size_t i = 0; i < b->n; i++) {
        const tb_tensor *t = &b->t[i];
        size_t numel = t->ndim == 2 ? t->shape[0] * t->shape[1] : t->shape[0];
        for (size_t j = 0; j < numel; j++) {
            float v = ((float)(lcg(&seed) % 2001) - 1000.0f) * 0.0003f;
            if (j == 0 && b->nan_in && !strcmp(b->nan_in, t->name)) v = NAN;
            memcpy(d, &v, 4); /* tests run little-endian (x86-64, aarch64) */
            d += 4;
        }
    }
    return img;
}

static const char *tb_write(const tb *b, const char *name)
{
    size_t len;
    uint8_t *img = tb_image(b, &len);
    const char *p = tmp_path(name);
    write_bytes(p, img, len);
    free(img);
    return p;
}

static const char *golden_path(const char *name)
{
    static char p[4][1024];
    static int k;
    const char *shared = getenv("CROSSCLIMB_SHARED");
    ck_assert_msg(shared != NULL && shared[0],
                  "CROSSCLIMB_SHARED is not set: run through `make check-unit`");
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/fusion-golden/%s", shared, name);
    struct stat sb;
    ck_assert_msg(stat(p[k], &sb) == 0, "golden case %s missing: %s", p[k], strerror(errno));
    return p[k];
}

/* Assert CODE and that the message names the file and (when given) the tensor. */
#define ASSERT_ERR(rc, code, err, path, tensor)                                                   \
    do {                                                                                          \
        ck_assert_int_eq((rc), (code));                                                           \
        ck_assert_msg(strstr((err), (path)) != NULL, "message lacks file: %s", (err));            \
        if (tensor) {                                                                             \
            char want_[128];                                                                      \
            snprintf(want_, sizeof want_, "tensor '%s'", (const char *)(tensor));                 \
            ck_assert_msg(strstr((err), want_) != NULL, "message lacks %s: %s", want_, (err));    \
        }                                                                                         \
    } while (0)

/* Load PATH with st_load_file and, from its bytes, st_parse_buffer: both
 * must give the same code.  Returns the code; ERR gets the file message. */
static int st_both(const char *path, char *err, size_t errlen)
{
    st_file f;
    int rc = st_load_file(path, &f, err, errlen);
    st_free(&f);
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    char err2[ST_ERR_LEN];
    st_file g;
    int rc2 = st_parse_buffer(buf, n, "mem", &g, err2, sizeof err2);
    st_free(&g);
    ck_assert_msg(rc == rc2, "file path gives %d, buffer path %d (%s)", rc, rc2, err2);
    return rc;
}

/* ================= safetensors reader ================= */

START_TEST(st_valid_small)
{
    const char *p = write_raw("ok.safetensors",
                              "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]},"
                              "\"__metadata__\":{\"note\":\"hi\"},"
                              "\"a\":{\"dtype\":\"F32\",\"shape\":[3,1],\"data_offsets\":[0,12]},"
                              "\"z\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[20,20]}}   ",
                              UINT64_MAX, 20);
    st_file f;
    char err[ST_ERR_LEN] = "";
    ck_assert_int_eq(st_load_file(p, &f, err, sizeof err), 0);
    ck_assert_uint_eq(f.ntensors, 3);
    ck_assert_str_eq(f.tensors[0].name, "a"); /* sorted by offset */
    ck_assert_str_eq(f.tensors[1].name, "b");
    const st_tensor *a = st_find(&f, "a");
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->ndim, 2);
    ck_assert_uint_eq(a->shape[0], 3);
    ck_assert_uint_eq(a->numel, 3);
    ck_assert_uint_eq((uintptr_t)a->data % 4, 0);
    float v;
    memcpy(&v, (const uint8_t[]){0x3f, 0x3f, 0x3f, 0x3f}, 4);
    ck_assert(memcmp(&a->data[2], &v, 4) == 0);
    ck_assert_uint_eq(st_find(&f, "z")->numel, 0);
    ck_assert_ptr_null(st_find(&f, "missing"));
    ck_assert_str_eq(st_meta_get(&f, "note"), "hi");
    ck_assert_ptr_null(st_meta_get(&f, "other"));
    st_free(&f);
    ck_assert_ptr_null(f.block);
    st_free(&f); /* idempotent */
    /* every escape JSON allows, and a surrogate pair */
    p = write_raw("ok2.safetensors",
                  "{\"__metadata__\":{\"k\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"},"
                  "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                  UINT64_MAX, 4);
    ck_assert_msg(st_load_file(p, &f, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(st_meta_get(&f, "k"), "\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
    st_free(&f);
}
END_TEST

START_TEST(st_rejects_truncated_header)
{
    char err[ST_ERR_LEN];
    const uint8_t five[5] = {8, 0, 0, 0, 0};
    const char *p = tmp_path("short.safetensors");
    write_bytes(p, five, sizeof five);
    ASSERT_ERR(st_both(p, err, sizeof err), ST_E_TRUNCATED, err, p, NULL);
    const char *e = tmp_path("empty.safetensors");
    write_bytes(e, "", 0);
    ASSERT_ERR(st_both(e, err, sizeof err), ST_E_TRUNCATED, err, e, NULL);
}
END_TEST

START_TEST(st_rejects_header_beyond_file)
{
    char err[ST_ERR_LEN];
    const char *p = write_raw("beyond.safetensors", "{}", 1000, 0);
    ASSERT_ERR(st_both(p, err, sizeof err), ST_E_HEADER_LEN, err, p, NULL);
    ck_assert_ptr_nonnull(strstr(err, "1000"));
}
END_TEST

START_TEST(st_rejects_header_over_cap)
{
    char err[ST_ERR_LEN];
    const char *p = write_raw("cap.safetensors", "{}", (uint64_t)ST_HEADER_CAP + 1, 0);
    ASSERT_ERR(st_both(p, err, sizeof err), ST_E_HEADER_CAP, err, p, NULL);
    const char *q = write_raw("huge.safetensors", "{}", UINT64_MAX - 1, 0);
    ASSERT_ERR(st_both(q, err, sizeof err), ST_E_HEADER_CAP, err, q, NULL);
}
END_TEST

START_TEST(st_rejects_invalid_json)
{
    static const char *const bad[] = {
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}",   /* unterminated */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],}}", /* trailing comma */
        "{'a':1}",                                                          /* single quotes */
        "[]",                                                               /* not an object */
        "{} x",                                                             /* trailing garbage */
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"), /* duplicate key */
        "{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", /* NUL */
        "{\"\xff\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",      /* UTF-8 */
        "",
        /* json-c's strict mode lets these through; the reader does not */
        "{\"__metadata__\":{\"k\":NaN}}",
        "{\"__metadata__\":{\"k\":Infinity}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.],\"data_offsets\":[0,4]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}",
        "{\"__metadata__\":{\"k\":\"tab\there\"}}",
        "{\"__metadata__\":{\"k\":\"\\ud800\"}}",
        "{\"__metadata__\":{\"k\":\"\\udc00\"}}",
        "{/*c*/}",
        "{\"__metadata__\":{\"k\":\"\\x41\"}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} true",
    };
    char err[ST_ERR_LEN];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "json%zu.safetensors", i);
        const char *p = write_raw(name, bad[i], UINT64_MAX, 4);
        int rc = st_both(p, err, sizeof err);
        ck_assert_msg(rc == ST_E_JSON, "case %zu: got %d (%s)", i, rc, err);
        ck_assert_ptr_nonnull(strstr(err, p));
    }
    /* an embedded NUL byte in the header */
    const char *p = tmp_path("nul.safetensors");
    const uint8_t img[8 + 4] = {4, 0, 0, 0, 0, 0, 0, 0, '{', '}', 0, ' '};
    write_bytes(p, img, sizeof img);
    ASSERT_ERR(st_both(p, err, sizeof err), ST_E_JSON, err, p, NULL);
}
END_TEST

START_TEST(st_rejects_dtype)
{
    char err[ST_ERR_LEN];
    const char *p = write_raw("f16.safetensors",
                              "{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                              UINT64_MAX, 4);
    ASSERT_ERR(st_both(p, err, sizeof err), ST_E_DTYPE, err, p, "w");
    ck_assert_ptr_nonnull(strstr(err, "F16"));
    const char *q = write_raw("f64.safetensors",
                              "{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
                              UINT64_MAX, 8);
    ASSERT_ERR(st_both(q, err, sizeof err), ST_E_DTYPE, err, q, "w");
}
END_TEST

START_TEST(st_rejects_size_mismatch)
{
    char err[ST_ERR_LEN];
    const char *p = write_raw("size.safetensors",
                              "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}",
                              UINT64_MAX, 20);
    ASSERT_ERR(st_both(p, err, sizeof err), ST_E_SIZE, err, p, "w");
    ck_assert_ptr_nonnull(strstr(err, "24"));
}
END_TEST

START_TEST(st_rejects_overlap)
{
    char err[ST_ERR_LEN];
    const char *p = write_raw("overlap.safetensors",
                              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                              "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                              UINT64_MAX, 12);
    ASSERT_ERR(st_both(p, err, sizeof err), ST_E_OVERLAP, err, p, "b");
    ck_assert_ptr_nonnull(strstr(err, "'a'"));
    const char *q = write_raw("same.safetensors",
                              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                              "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                              UINT64_MAX, 8);
    ASSERT_ERR(st_both(q, err, sizeof err), ST_E_OVERLAP, err, q, "b");
}
END_TEST

START_TEST(st_rejects_gap_and_trailing)
{
    char err[ST_ERR_LEN];
    const char *p = write_raw("gap.safetensors",
                              "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                              "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                              UINT64_MAX, 12);
    ASSERT_ERR(st_both(p, err, sizeof err), ST_E_COVERAGE, err, p, "b");
    const char *q = write_raw("trail.safetensors",
                              "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                              UINT64_MAX, 5);
    ASSERT_ERR(st_both(q, err, sizeof err), ST_E_COVERAGE, err, q, "a");
    ck_assert_ptr_nonnull(strstr(err, "1 trailing"));
    const char *r = write_raw("lead.safetensors",
                              "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                              UINT64_MAX, 8);
    ASSERT_ERR(st_both(r, err, sizeof err), ST_E_COVERAGE, err, r, "a");
    const char *s = write_raw("nodata.safetensors", "{}", UINT64_MAX, 3);
    ASSERT_ERR(st_both(s, err, sizeof err), ST_E_COVERAGE, err, s, NULL);
}
END_TEST

START_TEST(st_rejects_offsets_out_of_range)
{
    char err[ST_ERR_LEN];
    const char *p = write_raw("range.safetensors",
                              "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                              UINT64_MAX, 4);
    ASSERT_ERR(st_both(p, err, sizeof err), ST_E_RANGE, err, p, "w");
    const char *q = write_raw("rev.safetensors",
                              "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}",
                              UINT64_MAX, 8);
    ASSERT_ERR(st_both(q, err, sizeof err), ST_E_RANGE, err, q, "w");
    const char *r = write_raw("big.safetensors",
                              "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],"
                              "\"data_offsets\":[18446744073709551612,18446744073709551615]}}",
                              UINT64_MAX, 4);
    ASSERT_ERR(st_both(r, err, sizeof err), ST_E_RANGE, err, r, "w");
}
END_TEST

START_TEST(st_rejects_shape_overflow)
{
    char err[ST_ERR_LEN];
    const char *p = write_raw("ovf.safetensors",
                              "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,2],"
                              "\"data_offsets\":[0,4]}}",
                              UINT64_MAX, 4);
    ASSERT_ERR(st_both(p, err, sizeof err), ST_E_OVERFLOW, err, p, "w");
    /* fits size_t as a count, overflows as bytes */
    const char *q = write_raw("ovf4.safetensors",
                              "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],"
                              "\"data_offsets\":[0,4]}}",
                              UINT64_MAX, 4);
    ASSERT_ERR(st_both(q, err, sizeof err), ST_E_OVERFLOW, err, q, "w");
}
END_TEST

START_TEST(st_rejects_schema)
{
    static const struct {
        const char *json;
        int code;
    } bad[] = {
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", ST_E_SCHEMA},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", ST_E_SCHEMA},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", ST_E_SCHEMA},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", ST_E_SCHEMA},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", ST_E_SCHEMA},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,4]}}", ST_E_SCHEMA},
        {"{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", ST_E_SCHEMA},
        {"{\"w\":[1]}", ST_E_SCHEMA},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}",
         ST_E_LIMIT},
    };
    char err[ST_ERR_LEN];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "schema%zu.safetensors", i);
        const char *p = write_raw(name, bad[i].json, UINT64_MAX, 4);
        int rc = st_both(p, err, sizeof err);
        ck_assert_msg(rc == bad[i].code, "case %zu: got %d want %d (%s)", i, rc, bad[i].code, err);
        ASSERT_ERR(rc, bad[i].code, err, p, "w");
    }
    const char *m = write_raw("meta.safetensors", "{\"__metadata__\":{\"k\":1}}", UINT64_MAX, 0);
    ASSERT_ERR(st_both(m, err, sizeof err), ST_E_SCHEMA, err, m, NULL);
    ck_assert_ptr_nonnull(strstr(err, "'k'"));
    const char *c = write_raw("ctl.safetensors",
                              "{\"a\\nb\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                              UINT64_MAX, 4);
    ASSERT_ERR(st_both(c, err, sizeof err), ST_E_LIMIT, err, c, NULL);
}
END_TEST

START_TEST(st_rejects_missing_file_and_args)
{
    char err[ST_ERR_LEN];
    st_file f;
    const char *p = tmp_path("does-not-exist.safetensors");
    ASSERT_ERR(st_load_file(p, &f, err, sizeof err), ST_E_IO, err, p, NULL);
    ASSERT_ERR(st_load_file(tmp_dir(), &f, err, sizeof err), ST_E_IO, err, tmp_dir(), NULL);
    ck_assert_int_eq(st_parse_buffer(NULL, 5, NULL, &f, err, sizeof err), ST_E_ARG);
    ck_assert_int_eq(st_parse_buffer((const uint8_t *)"", 0, NULL, NULL, NULL, 0), ST_E_ARG);
    ck_assert_int_eq(st_parse_buffer((const uint8_t *)"", 0, NULL, &f, NULL, 0), ST_E_TRUNCATED);
    ck_assert_str_eq(st_strerror(ST_E_DTYPE), "unsupported dtype (only F32)");
    ck_assert_str_eq(st_strerror(12345), "unknown error");
}
END_TEST

/* Every proper prefix of a valid file is rejected, none crashes. */
START_TEST(st_every_truncation_rejected)
{
    tb b;
    tb_model(&b, 4, 3, 1);
    size_t len;
    uint8_t *img = tb_image(&b, &len);
    st_file f;
    ck_assert_int_eq(st_parse_buffer(img, len, "full", &f, NULL, 0), 0);
    st_free(&f);
    for (size_t n = 0; n < len; n++) {
        uint8_t *cut = malloc(n ? n : 1); /* exact size: ASan sees any over-read */
        memcpy(cut, img, n);
        int rc = st_parse_buffer(cut, n, "cut", &f, NULL, 0);
        ck_assert_msg(rc < 0, "prefix of %zu bytes accepted", n);
        ck_assert_ptr_null(f.block);
        free(cut);
    }
    free(img);
}
END_TEST

START_TEST(st_file_and_buffer_agree_on_golden)
{
    const char *p = golden_path("selfattn-h32.safetensors");
    st_file a, b;
    char err[ST_ERR_LEN];
    ck_assert_msg(st_load_file(p, &a, err, sizeof err) == 0, "%s", err);
    FILE *fp = fopen(p, "rb");
    ck_assert_ptr_nonnull(fp);
    static uint8_t buf[1 << 17];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    ck_assert_int_eq(st_parse_buffer(buf + 0, n, p, &b, err, sizeof err), 0);
    ck_assert_uint_eq(a.ntensors, b.ntensors);
    ck_assert_uint_eq(a.ntensors, 27);
    ck_assert_uint_eq(a.data_len, b.data_len);
    for (size_t i = 0; i < a.ntensors; i++) {
        ck_assert_str_eq(a.tensors[i].name, b.tensors[i].name);
        ck_assert_int_eq(memcmp(a.tensors[i].data, b.tensors[i].data, a.tensors[i].numel * 4), 0);
    }
    ck_assert_str_eq(st_meta_get(&a, "format"), "crossclimb-fusion");
    st_free(&a);
    st_free(&b);
}
END_TEST

/* ================= fusion model: loading ================= */

START_TEST(model_loads_builder_file)
{
    tb b;
    tb_model(&b, 6, 3, 1); /* Hp != H on purpose */
    const char *p = tb_write(&b, "model.safetensors");
    fusion_model m;
    char err[ST_ERR_LEN] = "";
    ck_assert_msg(fusion_model_load(&m, p, FUSION_LOAD_FEATURES, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(m.H, 6);
    ck_assert_uint_eq(m.Hp, 3);
    ck_assert_uint_eq(m.D[0], FEAT_DP);
    ck_assert_uint_eq(m.D[1], FEAT_DQ);
    ck_assert_uint_eq(m.D[2], FEAT_DC);
    ck_assert_int_eq(m.has_self_attn, 1);
    fusion_model_free(&m);
    fusion_model_free(&m);

    tb_model(&b, 5, 5, 0);
    p = tb_write(&b, "noattn.safetensors");
    ck_assert_int_eq(fusion_model_load(&m, p, 0, err, sizeof err), 0);
    ck_assert_int_eq(m.has_self_attn, 0);
    fusion_model_free(&m);
}
END_TEST

START_TEST(model_rejects_unknown_tensor)
{
    tb b;
    char err[ST_ERR_LEN];
    fusion_model m;
    tb_model(&b, 4, 4, 0);
    tb_add(&b, "pool.extra", 1, 4, 0);
    const char *p = tb_write(&b, "unknown.safetensors");
    ASSERT_ERR(fusion_model_load(&m, p, 0, err, sizeof err), FUSION_E_UNKNOWN_TENSOR, err, p,
               "pool.extra");
    ck_assert_ptr_null(m.file.block);
    /* input.* is only allowed in a reference case */
    tb_model(&b, 4, 4, 0);
    tb_add(&b, "input.pressure", 2, 12, FEAT_DP);
    p = tb_write(&b, "input.safetensors");
    ASSERT_ERR(fusion_model_load(&m, p, 0, err, sizeof err), FUSION_E_UNKNOWN_TENSOR, err, p,
               "input.pressure");
    ck_assert_int_eq(fusion_model_load(&m, p, FUSION_LOAD_REFERENCE, err, sizeof err), 0);
    fusion_model_free(&m);
}
END_TEST

START_TEST(model_rejects_missing_tensor)
{
    static const char *const required[] = {"proj.pressure.weight", "proj.camera.bias",
                                           "pool.weight",          "pool.bias",
                                           "head.grip.weight",     "head.path.bias"};
    char err[ST_ERR_LEN];
    fusion_model m;
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        tb b;
        tb_model(&b, 4, 4, 0);
        tb_remove(&b, required[i]);
        const char *p = tb_write(&b, "missing.safetensors");
        ASSERT_ERR(fusion_model_load(&m, p, 0, err, sizeof err), FUSION_E_MISSING, err, p,
                   required[i]);
    }
    tb b;
    tb_model(&b, 4, 4, 1);
    tb_remove(&b, "self_attn.key.bias");
    const char *p = tb_write(&b, "partial.safetensors");
    ASSERT_ERR(fusion_model_load(&m, p, 0, err, sizeof err), FUSION_E_MISSING, err, p,
               "self_attn.key.bias");
}
END_TEST

START_TEST(model_rejects_wrong_shapes)
{
    static const struct {
        const char *name;
        size_t ndim, d0, d1;
    } bad[] = {
        {"head.path.weight", 2, 4, 4},      /* 4 path classes instead of 5 */
        {"head.grip.weight", 2, 2, 3},      /* wrong H */
        {"head.grip.bias", 1, 3, 0},        /* 3 grip outputs */
        {"proj.proximity.weight", 2, 5, 4}, /* H differs from proj.pressure */
        {"proj.camera.bias", 1, 5, 0},
        {"self_attn.value.weight", 2, 4, 3},
        {"pool.weight", 2, 4, 5}, /* input width must be H */
        {"pool.bias", 1, 3, 0},   /* Hp from pool.weight */
        {"proj.pressure.weight", 1, 4, 0},
    };
    char err[ST_ERR_LEN];
    fusion_model m;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tb b;
        tb_model(&b, 4, 4, 1);
        tb_tensor *t = tb_get(&b, bad[i].name);
        t->ndim = bad[i].ndim;
        t->shape[0] = bad[i].d0;
        t->shape[1] = bad[i].d1;
        const char *p = tb_write(&b, "shape.safetensors");
        int rc = fusion_model_load(&m, p, 0, err, sizeof err);
        ck_assert_msg(rc == FUSION_E_SHAPE, "%s: got %d (%s)", bad[i].name, rc, err);
        ASSERT_ERR(rc, FUSION_E_SHAPE, err, p, bad[i].name);
    }
    /* the message says what was expected */
    tb b;
    tb_model(&b, 4, 4, 0);
    tb_get(&b, "head.path.weight")->shape[0] = 4;
    const char *p = tb_write(&b, "path4.safetensors");
    ck_assert_int_eq(fusion_model_load(&m, p, 0, err, sizeof err), FUSION_E_SHAPE);
    ck_assert_msg(strstr(err, "[4, 4]") && strstr(err, "expected [5, 4]"), "%s", err);
}
END_TEST

START_TEST(model_rejects_nonfinite_and_feature_mismatch)
{
    char err[ST_ERR_LEN];
    fusion_model m;
    tb b;
    tb_model(&b, 4, 4, 0);
    b.nan_in = "pool.weight";
    const char *p = tb_write(&b, "nan.safetensors");
    ASSERT_ERR(fusion_model_load(&m, p, 0, err, sizeof err), FUSION_E_NONFINITE, err, p,
               "pool.weight");

    tb_model(&b, 4, 4, 0);
    tb_get(&b, "proj.proximity.weight")->shape[1] = 5;
    p = tb_write(&b, "dq5.safetensors");
    ck_assert_int_eq(fusion_model_load(&m, p, 0, err, sizeof err), 0); /* fine on its own */
    fusion_model_free(&m);
    ASSERT_ERR(fusion_model_load(&m, p, FUSION_LOAD_FEATURES, err, sizeof err), FUSION_E_FEATURES,
               err, p, "proj.proximity.weight");
    ck_assert_str_eq(fusion_strerror(FUSION_E_FEATURES),
                     "projection widths do not match the feature layout");
    ck_assert_str_eq(fusion_strerror(ST_E_OVERLAP), st_strerror(ST_E_OVERLAP));
}
END_TEST

START_TEST(model_passes_reader_errors_through)
{
    char err[ST_ERR_LEN];
    fusion_model m;
    const char *p = write_raw("f16m.safetensors",
                              "{\"pool.weight\":{\"dtype\":\"F16\",\"shape\":[2],"
                              "\"data_offsets\":[0,4]}}",
                              UINT64_MAX, 4);
    ASSERT_ERR(fusion_model_load(&m, p, 0, err, sizeof err), ST_E_DTYPE, err, p, "pool.weight");
    fusion_case c;
    ASSERT_ERR(fusion_case_load(&c, p, err, sizeof err), ST_E_DTYPE, err, p, "pool.weight");
}
END_TEST

START_TEST(case_rejects_bad_reference)
{
    char err[ST_ERR_LEN];
    fusion_case c;
    tb b;
    tb_model(&b, 4, 4, 0); /* weights only: no expect.* */
    const char *p = tb_write(&b, "weights-only.safetensors");
    ASSERT_ERR(fusion_case_load(&c, p, err, sizeof err), FUSION_E_MISSING, err, p, "expect.tokens");

    tb_model(&b, 4, 4, 0);
    tb_add(&b, "input.pressure", 2, 3, FEAT_DP);
    tb_add(&b, "input.camera", 2, 2, 65); /* wrong width */
    p = tb_write(&b, "badinput.safetensors");
    ASSERT_ERR(fusion_case_load(&c, p, err, sizeof err), FUSION_E_SHAPE, err, p, "input.camera");

    tb_model(&b, 4, 4, 0);
    tb_add(&b, "input.pressure", 2, 3, FEAT_DP);
    tb_add(&b, "expect.tokens", 2, 2, 4); /* T is 3 */
    tb_add(&b, "expect.scores", 1, 3, 0);
    tb_add(&b, "expect.alpha", 1, 3, 0);
    tb_add(&b, "expect.fused", 1, 4, 0);
    tb_add(&b, "expect.grip", 1, 2, 0);
    tb_add(&b, "expect.path", 1, 5, 0);
    p = tb_write(&b, "badexpect.safetensors");
    ASSERT_ERR(fusion_case_load(&c, p, err, sizeof err), FUSION_E_SHAPE, err, p, "expect.tokens");
    tb_get(&b, "expect.tokens")->shape[0] = 3;
    p = tb_write(&b, "goodexpect.safetensors");
    ck_assert_msg(fusion_case_load(&c, p, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(c.T, 3);
    ck_assert_uint_eq(c.input.n[FUSION_PROXIMITY], 0); /* absent modality: 0 rows */
    fusion_case_free(&c);
}
END_TEST

/* ================= fusion model: golden cases ================= */

static void run_case(const char *name, fusion_cmp cmp[FUSION_CMP_N], fusion_output *o)
{
    fusion_case c;
    fusion_workspace ws;
    char err[ST_ERR_LEN];
    const char *p = golden_path(name);
    ck_assert_msg(fusion_case_load(&c, p, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(fusion_workspace_init(&ws, &c.model, c.T, NULL, 0), 0);
    ck_assert_int_eq(fusion_forward(&c.model, &ws, &c.input, o), 0);
    int bad = fusion_case_compare(&c, o, cmp);
    for (int k = 0; k < FUSION_CMP_N; k++)
        ck_assert_msg(cmp[k].ok && cmp[k].worst_ratio <= 1.0,
                      "%s: %s max |c-ref| %.3g (%.3f of tolerance)", name, cmp[k].name,
                      cmp[k].max_abs, cmp[k].worst_ratio);
    ck_assert_int_eq(bad, 0);
    ck_assert_uint_eq(cmp[FUSION_CMP_TOKENS].count, c.T * c.model.H);
    double share = 0, asum = 0, psum = 0;
    for (int mo = 0; mo < FUSION_MODALITIES; mo++) share += (double)o->share[mo];
    for (size_t t = 0; t < o->T; t++) asum += (double)o->alpha[t];
    for (int k = 0; k < FUSION_PATH; k++) psum += (double)o->path[k];
    ck_assert_double_eq_tol(share, 1.0, 1e-6);
    ck_assert_double_eq_tol(asum, 1.0, 1e-6);
    ck_assert_double_eq_tol(psum, 1.0, 1e-6);
    /* *o's array pointers dangle from here on; callers read only its value fields */
    fusion_workspace_free(&ws);
    fusion_case_free(&c);
}

START_TEST(golden_case_agrees)
{
    fusion_cmp cmp[FUSION_CMP_N];
    fusion_output o;
    run_case(golden_cases[_i], cmp, &o);
    printf("golden %-32s", golden_cases[_i]);
    for (int k = 0; k < FUSION_CMP_N; k++) printf(" %s %.2e", cmp[k].name, cmp[k].max_abs);
    printf("\n");
}
END_TEST

START_TEST(golden_camera_offline_answers)
{
    fusion_cmp cmp[FUSION_CMP_N];
    fusion_output o;
    run_case("camera-offline-h8.safetensors", cmp, &o);
    ck_assert_uint_eq(o.n[FUSION_CAMERA], 0);
    ck_assert_uint_eq(o.T, 16);
    ck_assert(o.share[FUSION_CAMERA] == 0.0f);
    ck_assert(o.share[FUSION_PRESSURE] > 0.0f && o.share[FUSION_PROXIMITY] > 0.0f);
}
END_TEST

/* A full model run with modalities switched off at call time. */
START_TEST(forward_with_modalities_offline)
{
    fusion_case c;
    fusion_workspace ws;
    fusion_output o;
    char err[ST_ERR_LEN];
    ck_assert_msg(fusion_case_load(&c, golden_path("selfattn-h32.safetensors"), err, sizeof err) ==
                      0,
                  "%s", err);
    ck_assert_int_eq(fusion_workspace_init(&ws, &c.model, c.T, NULL, 0), 0);
    fusion_input in = c.input;
    in.n[FUSION_CAMERA] = 0;
    ck_assert_int_eq(fusion_forward(&c.model, &ws, &in, &o), 0);
    ck_assert_uint_eq(o.T, 16);
    ck_assert(o.share[FUSION_CAMERA] == 0.0f);
    ck_assert_double_eq_tol((double)(o.share[0] + o.share[1]), 1.0, 1e-6);
    in.rows[FUSION_CAMERA] = NULL;
    in.n[FUSION_PROXIMITY] = 0;
    ck_assert_int_eq(fusion_forward(&c.model, &ws, &in, &o), 0);
    ck_assert_uint_eq(o.T, 12);
    ck_assert_double_eq_tol((double)o.share[FUSION_PRESSURE], 1.0, 1e-6);
    for (int k = 0; k < FUSION_GRIP; k++) ck_assert(o.grip[k] > 0.0f && o.grip[k] < 1.0f);

    /* no tokens at all: f = 0, heads answer from their biases */
    fusion_input none = {{NULL, NULL, NULL}, {0, 0, 0}};
    ck_assert_int_eq(fusion_forward(&c.model, &ws, &none, &o), 0);
    ck_assert_uint_eq(o.T, 0);
    for (size_t h = 0; h < o.H; h++) ck_assert(o.fused[h] == 0.0f);
    for (int k = 0; k < FUSION_GRIP; k++) {
        double want = 1.0 / (1.0 + exp(-(double)c.model.grip.b[k]));
        ck_assert_double_eq_tol((double)o.grip[k], want, 1e-6);
    }
    double psum = 0;
    for (int k = 0; k < FUSION_PATH; k++) psum += (double)o.path[k];
    ck_assert_double_eq_tol(psum, 1.0, 1e-6);
    fusion_workspace_free(&ws);
    fusion_case_free(&c);
}
END_TEST

START_TEST(forward_argument_errors)
{
    fusion_case c;
    fusion_workspace ws, small;
    fusion_output o;
    char err[ST_ERR_LEN];
    ck_assert_int_eq(fusion_case_load(&c, golden_path("pool-h16.safetensors"), err, sizeof err), 0);
    ck_assert_int_eq(fusion_workspace_init(&small, &c.model, c.T - 1, NULL, 0), 0);
    o.T = 12345;
    ck_assert_int_eq(fusion_forward(&c.model, &small, &c.input, &o), FUSION_E_CAPACITY);
    ck_assert_uint_eq(o.T, 12345); /* untouched */
    fusion_input in = c.input;
    in.rows[FUSION_PROXIMITY] = NULL;
    ck_assert_int_eq(fusion_forward(&c.model, &small, &in, &o), FUSION_E_INPUT);
    ck_assert_int_eq(fusion_forward(NULL, &small, &c.input, &o), FUSION_E_ARG);
    ck_assert_int_eq(fusion_workspace_init(&ws, &c.model, 0, NULL, 0), FUSION_E_ARG);

    /* a workspace made for another model shape is refused */
    fusion_case other;
    ck_assert_int_eq(
        fusion_case_load(&other, golden_path("selfattn-h32.safetensors"), err, sizeof err), 0);
    ck_assert_int_eq(fusion_forward(&other.model, &small, &other.input, &o), FUSION_E_ARG);

    /* caller memory: same results as the allocated workspace */
    size_t bytes = fusion_workspace_bytes(&c.model, c.T);
    ck_assert_uint_gt(bytes, 0);
    void *mem = NULL;
    ck_assert_int_eq(posix_memalign(&mem, 64, bytes), 0);
    ck_assert_int_eq(fusion_workspace_init(&ws, &c.model, c.T, mem, bytes - 1), FUSION_E_ARG);
    ck_assert_int_eq(fusion_workspace_init(&ws, &c.model, c.T, mem, bytes), 0);
    ck_assert_ptr_null(ws.owned);
    ck_assert_int_eq(fusion_forward(&c.model, &ws, &c.input, &o), 0);
    fusion_cmp cmp[FUSION_CMP_N];
    ck_assert_int_eq(fusion_case_compare(&c, &o, cmp), 0);
    fusion_workspace_free(&ws);
    free(mem);
    fusion_workspace_free(&small);
    fusion_case_free(&other);
    fusion_case_free(&c);
}
END_TEST

/* Compare detects a disagreement (the check can fail). */
START_TEST(compare_detects_disagreement)
{
    fusion_case c;
    fusion_workspace ws;
    fusion_output o;
    char err[ST_ERR_LEN];
    ck_assert_int_eq(fusion_case_load(&c, golden_path("pool-h16.safetensors"), err, sizeof err), 0);
    ck_assert_int_eq(fusion_workspace_init(&ws, &c.model, c.T, NULL, 0), 0);
    ck_assert_int_eq(fusion_forward(&c.model, &ws, &c.input, &o), 0);
    o.grip[1] += 1e-4f;
    fusion_cmp cmp[FUSION_CMP_N];
    ck_assert_int_eq(fusion_case_compare(&c, &o, cmp), 1);
    ck_assert_int_eq(cmp[FUSION_CMP_GRIP].ok, 0);
    ck_assert_double_gt(cmp[FUSION_CMP_GRIP].worst_ratio, 1.0);
    o.grip[1] = NAN;
    ck_assert_int_eq(fusion_case_compare(&c, &o, cmp), 1);
    ck_assert(isinf(cmp[FUSION_CMP_GRIP].max_abs));
    fusion_workspace_free(&ws);
    fusion_case_free(&c);
}
END_TEST

/* ================= features ================= */

START_TEST(features_default_snapshot)
{
    feat_snapshot s;
    static feat_tokens t;
    feat_snapshot_init(&s);
    ck_assert_int_eq(feat_extract(&s, &t, NULL, 0), 0);
    ck_assert_uint_eq(t.n_pressure, 12);
    ck_assert_uint_eq(t.n_proximity, 0); /* all dropped out */
    ck_assert_uint_eq(t.n_camera, 0);    /* offline */
}
END_TEST

START_TEST(features_layout)
{
    feat_snapshot s;
    static feat_tokens t;
    static uint8_t px[FEAT_CAM_W * FEAT_CAM_H];
    feat_snapshot_init(&s);
    for (int c = 0; c < FEAT_CUPS; c++) {
        s.vacuum_kpa[c] = 60.0f - (float)c;
        s.vacuum_rate_kpa_s[c] = -10.0f * (float)c;
    }
    s.foot_mm[2][0] = 150.0f; /* B1 */
    s.foot_mm[2][1] = -300.0f;
    s.holding[FEAT_GROUP_B] = true;
    s.proximity[FEAT_NX] = (feat_proximity){.distance_mm = 250.0f};
    s.proximity[FEAT_PY] = (feat_proximity){.distance_mm = 5000.0f};
    s.proximity[FEAT_NY] = (feat_proximity){.no_echo = true};
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i % 251);
    s.camera = (feat_camera){.online = true, .width = FEAT_CAM_W, .height = FEAT_CAM_H, .pixels = px};
    char err[128];
    ck_assert_int_eq(feat_extract(&s, &t, err, sizeof err), 0);

    const float *cup7 = t.pressure + 7 * FEAT_DP; /* B1b */
    ck_assert_double_eq_tol((double)cup7[0], 53.0 / 60.0, 1e-7);
    ck_assert_double_eq_tol((double)cup7[1], asinh(-70.0), 1e-6); /* asinh(rate / 1 kPa/s) */
    ck_assert(cup7[2] == 0.0f && cup7[3] == 1.0f);
    ck_assert_double_eq_tol((double)cup7[4], 0.5, 1e-7);
    ck_assert_double_eq_tol((double)cup7[5], -1.0, 1e-7);
    ck_assert(cup7[6] == 1.0f);
    ck_assert(t.pressure[0 * FEAT_DP + 2] == 1.0f && t.pressure[0 * FEAT_DP + 6] == 0.0f);

    ck_assert_uint_eq(t.n_proximity, 3); /* +X dropped out */
    const float *q0 = t.proximity, *q1 = t.proximity + FEAT_DQ, *q2 = t.proximity + 2 * FEAT_DQ;
    ck_assert(q0[0] == 0.25f && q0[1] == -1.0f && q0[2] == 0.0f && q0[3] == 0.0f); /* -X */
    ck_assert(q1[0] == 1.0f && q1[1] == 0.0f && q1[2] == 1.0f && q1[3] == 0.0f);   /* +Y clamped */
    ck_assert(q2[0] == 1.0f && q2[2] == -1.0f && q2[3] == 1.0f);                   /* -Y no echo */

    ck_assert_uint_eq(t.n_camera, 48);
    /* patch 9 = row 1, col 1: first pixel at (8, 8) */
    const float *p9 = t.camera + 9 * FEAT_DC;
    size_t i0 = 8 * FEAT_CAM_W + 8;
    ck_assert_double_eq_tol((double)p9[0], (double)(i0 % 251) / 255.0 - 0.5, 1e-6);
    size_t i63 = 15 * FEAT_CAM_W + 15;
    ck_assert_double_eq_tol((double)p9[63], (double)(i63 % 251) / 255.0 - 0.5, 1e-6);
    ck_assert_double_eq_tol((double)p9[64], 1.5 / 6.0, 1e-7);
    ck_assert_double_eq_tol((double)p9[65], 1.5 / 8.0, 1e-7);
    const float *p47 = t.camera + 47 * FEAT_DC;
    ck_assert_double_eq_tol((double)p47[64], 5.5 / 6.0, 1e-7);
    ck_assert_double_eq_tol((double)p47[65], 7.5 / 8.0, 1e-7);

    fusion_input in;
    feat_to_input(&t, &in);
    ck_assert_ptr_eq(in.rows[FUSION_CAMERA], t.camera);
    ck_assert_uint_eq(in.n[FUSION_PROXIMITY], 3);

    /* The rate column resolves a slow leak (a tearing lip, -0.5 kPa/s) and
     * keeps fast rates apart (a release, -15 vs -60 kPa/s); it is odd. */
    s.vacuum_rate_kpa_s[0] = -0.5f;
    s.vacuum_rate_kpa_s[1] = 0.5f;
    s.vacuum_rate_kpa_s[2] = -15.0f;
    s.vacuum_rate_kpa_s[3] = -60.0f;
    ck_assert_int_eq(feat_extract(&s, &t, err, sizeof err), 0);
    ck_assert_double_eq_tol((double)t.pressure[0 * FEAT_DP + 1], asinh(-0.5), 1e-6);
    ck_assert(t.pressure[0 * FEAT_DP + 1] < -0.45f);
    ck_assert(t.pressure[1 * FEAT_DP + 1] == -t.pressure[0 * FEAT_DP + 1]);
    ck_assert(t.pressure[3 * FEAT_DP + 1] < t.pressure[2 * FEAT_DP + 1] - 1.0f);
}
END_TEST

START_TEST(features_offline_and_errors)
{
    feat_snapshot s;
    static feat_tokens t;
    static uint8_t px[FEAT_MAX_CAM_W * FEAT_MAX_CAM_H];
    char err[160];
    feat_snapshot_init(&s);
    s.camera = (feat_camera){.online = false, .width = 64, .height = 48, .pixels = px};
    for (int p = 0; p < FEAT_PROX; p++) s.proximity[p] = (feat_proximity){.distance_mm = 100, .dropout = true};
    ck_assert_int_eq(feat_extract(&s, &t, err, sizeof err), 0);
    ck_assert_uint_eq(t.n_camera, 0);
    ck_assert_uint_eq(t.n_proximity, 0);

    s.camera = (feat_camera){.online = true, .width = FEAT_MAX_CAM_W, .height = FEAT_MAX_CAM_H,
                             .pixels = px};
    ck_assert_int_eq(feat_extract(&s, &t, err, sizeof err), 0);
    ck_assert_uint_eq(t.n_camera, FEAT_MAX_CAMERA);

    s.camera.width = 60;
    ck_assert_int_eq(feat_extract(&s, &t, err, sizeof err), FEAT_E_CAMERA);
    ck_assert_ptr_nonnull(strstr(err, "60x96"));
    s.camera.width = FEAT_MAX_CAM_W + 8;
    ck_assert_int_eq(feat_extract(&s, &t, err, sizeof err), FEAT_E_CAMERA);
    s.camera = (feat_camera){.online = true, .width = 64, .height = 48, .pixels = NULL};
    ck_assert_int_eq(feat_extract(&s, &t, err, sizeof err), FEAT_E_CAMERA);
    s.camera.online = false;
    s.vacuum_kpa[4] = NAN;
    ck_assert_int_eq(feat_extract(&s, &t, err, sizeof err), FEAT_E_VALUE);
    ck_assert_ptr_nonnull(strstr(err, "cup 4"));
    s.vacuum_kpa[4] = 1;
    s.proximity[FEAT_PY] = (feat_proximity){.distance_mm = NAN};
    ck_assert_int_eq(feat_extract(&s, &t, err, sizeof err), FEAT_E_VALUE);
    ck_assert_ptr_nonnull(strstr(err, "+Y"));
    ck_assert_int_eq(feat_extract(NULL, &t, err, sizeof err), FEAT_E_ARG);
    ck_assert_str_eq(feat_strerror(FEAT_E_CAMERA), "camera frame geometry not supported");
}
END_TEST

/* Features feed a golden model end to end (its widths are the feature layout). */
START_TEST(features_drive_golden_model)
{
    fusion_model m;
    fusion_workspace ws;
    fusion_output o;
    char err[ST_ERR_LEN];
    ck_assert_msg(fusion_model_load(&m, golden_path("selfattn-h32.safetensors"),
                                    FUSION_LOAD_REFERENCE | FUSION_LOAD_FEATURES, err,
                                    sizeof err) == 0,
                  "%s", err);
    ck_assert_int_eq(fusion_workspace_init(&ws, &m, FEAT_MAX_TOKENS, NULL, 0), 0);
    feat_snapshot s;
    static feat_tokens t;
    static uint8_t px[FEAT_CAM_W * FEAT_CAM_H];
    feat_snapshot_init(&s);
    for (int c = 0; c < FEAT_CUPS; c++) s.vacuum_kpa[c] = 58.0f;
    s.holding[0] = true;
    s.proximity[FEAT_PX] = (feat_proximity){.distance_mm = 400};
    memset(px, 128, sizeof px);
    s.camera = (feat_camera){.online = true, .width = FEAT_CAM_W, .height = FEAT_CAM_H, .pixels = px};
    ck_assert_int_eq(feat_extract(&s, &t, err, sizeof err), 0);
    fusion_input in;
    feat_to_input(&t, &in);
    ck_assert_int_eq(fusion_forward(&m, &ws, &in, &o), 0);
    ck_assert_uint_eq(o.T, 12 + 1 + 48);
    ck_assert_double_eq_tol((double)(o.share[0] + o.share[1] + o.share[2]), 1.0, 1e-6);
    s.camera.online = false; /* camera blackout: the model still answers */
    ck_assert_int_eq(feat_extract(&s, &t, err, sizeof err), 0);
    feat_to_input(&t, &in);
    ck_assert_int_eq(fusion_forward(&m, &ws, &in, &o), 0);
    ck_assert_uint_eq(o.T, 13);
    ck_assert(o.share[FUSION_CAMERA] == 0.0f);
    fusion_workspace_free(&ws);
    fusion_model_free(&m);
}
END_TEST

/* ================= no allocation per call ================= */


#if ALLOC_PROBE_WORKS
START_TEST(forward_allocates_nothing)
{
    fusion_case c;
    fusion_workspace ws;
    fusion_output o;
    char err[ST_ERR_LEN];
    ck_assert_int_eq(fusion_case_load(&c, golden_path("selfattn-h32.safetensors"), err, sizeof err),
                     0);
    ck_assert_int_eq(fusion_workspace_init(&ws, &c.model, FEAT_MAX_TOKENS, NULL, 0), 0);
    feat_snapshot s;
    static feat_tokens t;
    static uint8_t px[FEAT_CAM_W * FEAT_CAM_H];
    feat_snapshot_init(&s);
    s.camera = (feat_camera){.online = true, .width = FEAT_CAM_W, .height = FEAT_CAM_H, .pixels = px};
    fusion_input fin;
    ck_assert_int_eq(fusion_forward(&c.model, &ws, &c.input, &o), 0); /* warm (lazy libm init) */

    alloc_probe_selftest();

    alloc_snap a = alloc_snapshot();
    for (int i = 0; i < 1000; i++) {
        ck_assert(fusion_forward(&c.model, &ws, &c.input, &o) == 0);
        ck_assert(feat_extract(&s, &t, NULL, 0) == 0);
        feat_to_input(&t, &fin);
        ck_assert(fusion_forward(&c.model, &ws, &fin, &o) == 0);
    }
    alloc_snap b = alloc_snapshot();
    alloc_assert_same(&a, &b, "fusion_forward/feat_extract");
    fusion_workspace_free(&ws);
    fusion_case_free(&c);
}
END_TEST
#endif

/* ================= crossclimb fusion check ================= */

/* Run $CROSSCLIMB_BIN with ARGV (NULL-terminated, argv[0] ignored); exit status. */
static int run_cli(const char *const *argv)
{
    const char *bin = getenv("CROSSCLIMB_BIN");
    ck_assert_msg(bin != NULL && bin[0], "CROSSCLIMB_BIN is not set: run through `make check-unit`");
    ck_assert_msg(access(bin, X_OK) == 0, "%s: %s", bin, strerror(errno));
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

START_TEST(cli_fusion_check)
{
    const char *good = golden_path("pool-h16.safetensors");
    const char *good2 = golden_path("camera-offline-h8.safetensors");
    const char *a1[] = {"crossclimb", "fusion", "check", good, good2, NULL};
    ck_assert_int_eq(run_cli(a1), 0);

    tb b;
    tb_model(&b, 4, 4, 0); /* a weights file is not a reference case */
    const char *weights = tb_write(&b, "weights.safetensors");
    const char *a2[] = {"crossclimb", "fusion", "check", weights, NULL};
    ck_assert_int_eq(run_cli(a2), 1);

    const char *broken = write_raw("broken.safetensors",
                                   "{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                                   UINT64_MAX, 4);
    const char *a3[] = {"crossclimb", "fusion", "check", good, broken, NULL};
    ck_assert_int_eq(run_cli(a3), 1);

    const char *a4[] = {"crossclimb", "fusion", "check", NULL};
    ck_assert_int_eq(run_cli(a4), 2);
    const char *a5[] = {"crossclimb", "fusion", "frobnicate", NULL};
    ck_assert_int_eq(run_cli(a5), 2);
    const char *a6[] = {"crossclimb", "fusion", "--help", NULL};
    ck_assert_int_eq(run_cli(a6), 0);
    const char *a7[] = {"crossclimb", "fusion", NULL};
    ck_assert_int_eq(run_cli(a7), 2);
    const char *a8[] = {"crossclimb", "fusion", "check", "--bogus", good, NULL};
    ck_assert_int_eq(run_cli(a8), 2);
}
END_TEST

/* Capture stdout of the CLI to check what it prints. */
START_TEST(cli_fusion_check_output)
{
    const char *bin = getenv("CROSSCLIMB_BIN");
    ck_assert_msg(bin != NULL && bin[0], "CROSSCLIMB_BIN is not set");
    const char *good = golden_path("selfattn-h32.safetensors");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' fusion check '%s' 2>&1", bin, good);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char out[8192];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    ck_assert_int_eq(WEXITSTATUS(st), 0);
    static const char *const want[] = {"tokens", "scores", "alpha", "fused", "grip", "path",
                                       "max |c-ref|", "agrees", "attention share"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(out, want[i]) != NULL, "output lacks '%s':\n%s", want[i], out);
    ck_assert_ptr_null(strstr(out, "DISAGREE"));
}
END_TEST

/* ================= runner ================= */

static Suite *perception_suite(void)
{
    Suite *s = suite_create("perception");
    TCase *tc = tcase_create("safetensors");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, st_valid_small);
    tcase_add_test(tc, st_rejects_truncated_header);
    tcase_add_test(tc, st_rejects_header_beyond_file);
    tcase_add_test(tc, st_rejects_header_over_cap);
    tcase_add_test(tc, st_rejects_invalid_json);
    tcase_add_test(tc, st_rejects_dtype);
    tcase_add_test(tc, st_rejects_size_mismatch);
    tcase_add_test(tc, st_rejects_overlap);
    tcase_add_test(tc, st_rejects_gap_and_trailing);
    tcase_add_test(tc, st_rejects_offsets_out_of_range);
    tcase_add_test(tc, st_rejects_shape_overflow);
    tcase_add_test(tc, st_rejects_schema);
    tcase_add_test(tc, st_rejects_missing_file_and_args);
    tcase_add_test(tc, st_every_truncation_rejected);
    tcase_add_test(tc, st_file_and_buffer_agree_on_golden);
    suite_add_tcase(s, tc);

    tc = tcase_create("model");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, model_loads_builder_file);
    tcase_add_test(tc, model_rejects_unknown_tensor);
    tcase_add_test(tc, model_rejects_missing_tensor);
    tcase_add_test(tc, model_rejects_wrong_shapes);
    tcase_add_test(tc, model_rejects_nonfinite_and_feature_mismatch);
    tcase_add_test(tc, model_passes_reader_errors_through);
    tcase_add_test(tc, case_rejects_bad_reference);
    suite_add_tcase(s, tc);

    tc = tcase_create("golden");
    tcase_add_loop_test(tc, golden_case_agrees, 0, (int)N_GOLDEN);
    tcase_add_test(tc, golden_camera_offline_answers);
    tcase_add_test(tc, forward_with_modalities_offline);
    tcase_add_test(tc, forward_argument_errors);
    tcase_add_test(tc, compare_detects_disagreement);
#if ALLOC_PROBE_WORKS
    tcase_add_test(tc, forward_allocates_nothing);
#endif
    suite_add_tcase(s, tc);

    tc = tcase_create("features");
    tcase_add_test(tc, features_default_snapshot);
    tcase_add_test(tc, features_layout);
    tcase_add_test(tc, features_offline_and_errors);
    tcase_add_test(tc, features_drive_golden_model);
    suite_add_tcase(s, tc);

    tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, cli_fusion_check);
    tcase_add_test(tc, cli_fusion_check_output);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(perception_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
