/*
 * weights_write.c — safetensors writer and atomic file replacement
 * (see weights_write.h).
 */
#include "weights_write.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perr.h"

const char *wt_strerror(int code)
{
    switch (code) {
    case WT_OK: return "success";
    case WT_E_ARG: return "invalid tensor or metadata";
    case WT_E_NOMEM: return "out of memory";
    case WT_E_IO: return "cannot write file";
    default: return "unknown error";
    }
}

/* A growing text buffer for the JSON header. */
typedef struct {
    char *p;
    size_t len, cap;
    int bad;
} sbuf;

__attribute__((format(printf, 2, 3))) static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->bad) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->bad = 1;
            return;
        }
        if (b->p && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = b->cap ? b->cap * 2 : 1024;
        while (ncap < b->len + (size_t)n + 1) ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->bad = 1;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
}

/* Printable ASCII without '"' and '\\': safe to put in JSON as is. */
static int plain_ascii(const char *s, size_t maxlen)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\' || n >= maxlen) return 0;
    }
    return 1;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

int wt_serialize(const wt_tensor *t, size_t n, const st_meta *meta, size_t nmeta, uint8_t **out,
                 size_t *len, char *err, size_t errlen)
{
    if (!out || !len || (n && !t) || (nmeta && !meta))
        return perr_fail(err, errlen, WT_E_ARG, "wt_serialize: NULL argument");
    *out = NULL;
    *len = 0;
    if (n > ST_MAX_TENSORS)
        return perr_fail(err, errlen, WT_E_ARG, "%zu tensors (limit %d)", n, ST_MAX_TENSORS);
    size_t data_len = 0;
    for (size_t i = 0; i < n; i++) {
        const wt_tensor *x = &t[i];
        if (!x->name || !x->name[0] || !plain_ascii(x->name, ST_NAME_MAX))
            return perr_fail(err, errlen, WT_E_ARG, "tensor %zu: name empty, over %d bytes or not "
                           "plain printable ASCII", i, ST_NAME_MAX);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(t[j].name, x->name))
                return perr_fail(err, errlen, WT_E_ARG, "tensor '%s': name given twice", x->name);
        if (x->ndim > ST_MAX_DIMS)
            return perr_fail(err, errlen, WT_E_ARG, "tensor '%s': %zu dims", x->name, x->ndim);
        size_t numel = 1;
        for (size_t d = 0; d < x->ndim; d++) {
            if (x->shape[d] && numel > SIZE_MAX / 4 / x->shape[d])
                return perr_fail(err, errlen, WT_E_ARG, "tensor '%s': shape overflows", x->name);
            numel *= x->shape[d];
        }
        if (numel && !x->data)
            return perr_fail(err, errlen, WT_E_ARG, "tensor '%s': no data", x->name);
        for (size_t k = 0; k < numel; k++)
            if (!isfinite(x->data[k]))
                return perr_fail(err, errlen, WT_E_ARG, "tensor '%s': element %zu is not finite",
                               x->name, k);
        if (data_len > SIZE_MAX / 2 - numel * 4)
            return perr_fail(err, errlen, WT_E_ARG, "tensors too large");
        data_len += numel * 4;
    }
    for (size_t i = 0; i < nmeta; i++)
        if (!meta[i].key || !meta[i].value || !meta[i].key[0] ||
            !plain_ascii(meta[i].key, 256) || !plain_ascii(meta[i].value, 4096))
            return perr_fail(err, errlen, WT_E_ARG,
                           "metadata %zu: key or value missing, too long or not plain printable "
                           "ASCII", i);

    sbuf h = {0};
    sb_printf(&h, "{");
    if (nmeta) {
        sb_printf(&h, "\"__metadata__\":{");
        for (size_t i = 0; i < nmeta; i++)
            sb_printf(&h, "%s\"%s\":\"%s\"", i ? "," : "", meta[i].key, meta[i].value);
        sb_printf(&h, "}");
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t numel = 1;
        sb_printf(&h, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[", (i || nmeta) ? "," : "",
                  t[i].name);
        for (size_t d = 0; d < t[i].ndim; d++) {
            sb_printf(&h, "%s%zu", d ? "," : "", t[i].shape[d]);
            numel *= t[i].shape[d];
        }
        sb_printf(&h, "],\"data_offsets\":[%zu,%zu]}", off, off + numel * 4);
        off += numel * 4;
    }
    sb_printf(&h, "}");
    while (!h.bad && h.len % 8) sb_printf(&h, " "); /* data starts 8-byte aligned */
    if (h.bad) {
        free(h.p);
        return perr_fail(err, errlen, WT_E_NOMEM, "no memory for the header");
    }
    size_t total = 8 + h.len + data_len;
    uint8_t *b = malloc(total ? total : 1);
    if (!b) {
        free(h.p);
        return perr_fail(err, errlen, WT_E_NOMEM, "no memory for %zu bytes", total);
    }
    uint64_t hl = h.len;
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(hl >> (8 * i));
    memcpy(b + 8, h.p, h.len);
    free(h.p);
    uint8_t *p = b + 8 + hl;
    for (size_t i = 0; i < n; i++) {
        size_t numel = 1;
        for (size_t d = 0; d < t[i].ndim; d++) numel *= t[i].shape[d];
        for (size_t k = 0; k < numel; k++, p += 4) {
            uint32_t u;
            memcpy(&u, &t[i].data[k], 4);
            put_le32(p, u);
        }
    }
    *out = b;
    *len = total;
    return 0;
}

int wt_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    if (!path || !path[0] || (len && !data))
        return perr_fail(err, errlen, WT_E_ARG, "wt_write_atomic: no path or no data");
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (!tmp) return perr_fail(err, errlen, WT_E_NOMEM, "%s: no memory", path);
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return perr_fail(err, errlen, WT_E_IO, "%s: cannot create a temporary file beside it: %s",
                       path, strerror(e));
    }
    const char *what = NULL;
    int e = 0;
    const uint8_t *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            what = "write", e = errno;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (!what && fchmod(fd, 0644) != 0) what = "chmod", e = errno;
    if (!what && fsync(fd) != 0) what = "fsync", e = errno;
    if (close(fd) != 0 && !what) what = "close", e = errno;
    if (!what && rename(tmp, path) != 0) what = "rename", e = errno;
    if (what) {
        unlink(tmp);
        free(tmp);
        return perr_fail(err, errlen, WT_E_IO, "%s: %s failed: %s (nothing written)", path, what,
                       strerror(e));
    }
    free(tmp);
    /* make the rename durable: sync the directory (best effort) */
    char *dir = strdup(path);
    if (dir) {
        char *slash = strrchr(dir, '/');
        const char *d = slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".";
        int dfd = open(d, O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    return 0;
}

int wt_write(const char *path, const wt_tensor *t, size_t n, const st_meta *meta, size_t nmeta,
             char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    int rc = wt_serialize(t, n, meta, nmeta, &buf, &len, err, errlen);
    if (rc != 0) return rc;
    rc = wt_write_atomic(path, buf, len, err, errlen);
    free(buf);
    return rc;
}
