/*
 * weights_write.h — write safetensors files of float32 tensors, atomically.
 *
 * The writer produces exactly what perception's strict reader
 * (safetensors.h) accepts: an 8-byte little-endian header length, a JSON
 * header padded with spaces to a multiple of 8 bytes, then the tensors'
 * float32 little-endian data back to back in the order given (no gaps, no
 * trailing bytes).  The output is a pure function of the arguments: same
 * tensors and metadata, same bytes.
 *
 * Files are written atomically: into a temporary file beside the target
 * (same directory, mkstemp), flushed and fsync'ed, then renamed over the
 * target; on any error the temporary is removed and the target is left as it
 * was.  wt_write_atomic does this for any byte buffer (datasets use it too).
 */
#ifndef CROSSCLIMB_PERCEPTION_WEIGHTS_WRITE_H
#define CROSSCLIMB_PERCEPTION_WEIGHTS_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "safetensors.h"

/* One tensor to write: NAME (printable, 1..255 bytes), shape, numel floats. */
typedef struct {
    const char *name;
    size_t ndim;              /* 1 or 2 here; up to ST_MAX_DIMS allowed */
    size_t shape[ST_MAX_DIMS];
    const float *data;        /* product(shape) values, must be finite */
} wt_tensor;

enum {
    WT_OK = 0,
    WT_E_ARG = -1,   /* bad name, shape, a non-finite value, a metadata string not plain ASCII */
    WT_E_NOMEM = -2, /* out of memory */
    WT_E_IO = -3,    /* cannot create, write, sync or rename (message says which) */
};

/*
 * wt_serialize — the file image of N tensors and NMETA metadata pairs
 * (printable ASCII without '"' or '\\'; NMETA may be 0) into a malloc'ed
 * buffer *OUT of *LEN bytes (caller frees).  Names must be distinct.
 */
int wt_serialize(const wt_tensor *t, size_t n, const st_meta *meta, size_t nmeta, uint8_t **out,
                 size_t *len, char *err, size_t errlen);

/* wt_write — wt_serialize, then wt_write_atomic to PATH. */
int wt_write(const char *path, const wt_tensor *t, size_t n, const st_meta *meta, size_t nmeta,
             char *err, size_t errlen);

/*
 * wt_write_atomic — write LEN bytes to PATH via a temporary file in the same
 * directory and rename(2); nothing half-written is ever visible at PATH.
 * Returns 0 or WT_E_IO with the message ("PATH: what failed: strerror").
 */
int wt_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* wt_strerror — a short description of a WT_E_* code. */
const char *wt_strerror(int code);

#endif
