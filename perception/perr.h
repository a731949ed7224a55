/*
 * perr.h — the one error-message helper of the perception module (internal).
 *
 * Every perception function that fails fills the caller's buffer with a
 * sentence and returns its module's negative code; these two do the
 * formatting so each call site reads `return perr_fail(err, n, CODE, ...)`.
 */
#ifndef CROSSCLIMB_PERR_H
#define CROSSCLIMB_PERR_H

#include <stddef.h>

/** perr_fail: printf fmt into err[errlen] (if err and errlen); returns code. */
int perr_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/**
 * perr_fail_tensor: "FILE: tensor 'NAME': details" (the tensor part only when
 * tensor is not NULL) into err[errlen]; returns code.
 */
int perr_fail_tensor(char *err, size_t errlen, int code, const char *file, const char *tensor,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
