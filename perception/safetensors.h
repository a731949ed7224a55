/*
 * safetensors.h — a strict reader for safetensors files of float32 tensors.
 *
 * File layout (https://github.com/huggingface/safetensors):
 *
 *   bytes [0, 8)          N, the JSON header length, unsigned 64-bit little-endian
 *   bytes [8, 8+N)        JSON object: "NAME": {"dtype": "F32", "shape": [d0, ...],
 *                         "data_offsets": [begin, end]}, plus an optional
 *                         "__metadata__": {"key": "string", ...}
 *   bytes [8+N, EOF)      the data region; offsets are relative to its start
 *
 * "Strict" means: anything the format does not allow, and anything this
 * project does not use, is an error with a message naming the file and the
 * tensor — header over ST_HEADER_CAP, invalid or non-strict JSON, duplicate
 * keys, NUL escapes, unknown entry keys, any dtype but F32, negative or
 * non-integer dims, sizes that overflow size_t, offsets outside the data
 * region, begin > end, end - begin != numel * 4, overlapping tensors, and
 * any byte of the data region not covered by exactly one tensor (so the file
 * length is exact: no gaps, no trailing bytes).
 *
 * Memory: a loaded file is ONE allocation (tensor table, names, metadata and
 * the data region, 64-byte aligned) owned by the st_file; st_free releases it.
 * The file is read once, front to back.  Tensor data is exposed as const
 * float * in host byte order (converted at load time on big-endian hosts).
 *
 * Errors: every function returns 0 on success or a negative ST_E_* code;
 * st_strerror(code) names the class, and the caller's message buffer (may be
 * NULL) receives the details: "FILE: tensor 'NAME': what is wrong".
 */
#ifndef CROSSCLIMB_PERCEPTION_SAFETENSORS_H
#define CROSSCLIMB_PERCEPTION_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define ST_HEADER_CAP ((size_t)16 << 20) /* 16 MiB: far above any sane header */
#define ST_MAX_DIMS 8                    /* rank limit per tensor */
#define ST_MAX_TENSORS 4096              /* entries limit per file */
#define ST_NAME_MAX 255                  /* bytes of a tensor name, without NUL */
#define ST_ERR_LEN 512                   /* a message buffer this size is never truncated
                                            except for absurdly long names */

enum {
    ST_OK = 0,
    ST_E_IO = -1,         /* cannot open / stat / read the file */
    ST_E_TRUNCATED = -2,  /* shorter than the 8-byte length prefix */
    ST_E_HEADER_LEN = -3, /* header length runs beyond the end of the file */
    ST_E_HEADER_CAP = -4, /* header length above ST_HEADER_CAP */
    ST_E_JSON = -5,       /* not a strict JSON object (syntax, UTF-8, NUL, duplicate key) */
    ST_E_SCHEMA = -6,     /* entry is not {dtype, shape, data_offsets}; bad metadata */
    ST_E_DTYPE = -7,      /* dtype other than F32 */
    ST_E_SIZE = -8,       /* end - begin differs from product(shape) * 4 */
    ST_E_OVERFLOW = -9,   /* product(shape) * 4 does not fit in size_t */
    ST_E_RANGE = -10,     /* data_offsets reversed or beyond the data region */
    ST_E_OVERLAP = -11,   /* two tensors share bytes */
    ST_E_COVERAGE = -12,  /* gap between tensors or trailing bytes: length not exact */
    ST_E_LIMIT = -13,     /* too many tensors or dims, name too long or unprintable */
    ST_E_NOMEM = -14,     /* out of memory */
    ST_E_ARG = -15,       /* invalid argument (NULL pointer) */
};

/* One tensor: a view into the st_file's allocation. */
typedef struct {
    const char *name;          /* NUL-terminated, printable */
    size_t ndim;               /* 0 .. ST_MAX_DIMS (0 = scalar, numel 1) */
    size_t shape[ST_MAX_DIMS]; /* dims, row-major (last dim contiguous) */
    size_t numel;              /* product of shape */
    size_t begin, end;         /* byte offsets in the data region, end - begin == numel*4 */
    const float *data;         /* numel floats, 4-byte aligned, host byte order */
} st_tensor;

/* One __metadata__ entry (both strings NUL-terminated, inside the allocation). */
typedef struct {
    const char *key;
    const char *value;
} st_meta;

/* A loaded file.  Zero-initialise, or rely on st_parse_* to set every field. */
typedef struct {
    void *block;         /* the single allocation, NULL when empty */
    size_t ntensors;     /* number of tensors */
    st_tensor *tensors;  /* sorted by data offset (file order) */
    size_t nmeta;        /* number of __metadata__ entries */
    st_meta *meta;       /* in header order */
    size_t header_len;   /* N */
    size_t data_len;     /* bytes of the data region */
} st_file;

/*
 * st_load_file — read and validate PATH.  On success *out owns one
 * allocation (release with st_free).  Returns 0 or a negative ST_E_* code;
 * on failure *out is empty and err (errlen bytes, may be NULL) says what and
 * where, starting with PATH.
 */
int st_load_file(const char *path, st_file *out, char *err, size_t errlen);

/*
 * st_parse_buffer — the same validation on LEN bytes in memory (a complete
 * file image).  NAME labels error messages (NULL: "<memory>").  The bytes are
 * copied; DATA need not be aligned and may be freed afterwards.  Same return
 * and error convention as st_load_file; the two share one code path.
 */
int st_parse_buffer(const uint8_t *data, size_t len, const char *name, st_file *out, char *err,
                    size_t errlen);

/* st_free — release what st_load_file / st_parse_buffer allocated; *f becomes empty.
 * Safe on an empty or already freed st_file and on NULL. */
void st_free(st_file *f);

/* st_find — the tensor called NAME, or NULL when there is none. */
const st_tensor *st_find(const st_file *f, const char *name);

/* st_meta_get — the __metadata__ value for KEY, or NULL. */
const char *st_meta_get(const st_file *f, const char *key);

/* st_strerror — a short description of an ST_E_* code ("unknown error" otherwise). */
const char *st_strerror(int code);

#endif
