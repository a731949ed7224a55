/*
 * perr.c — error-message formatting for the perception module.  See perr.h.
 */
#include "perr.h"

#include <stdarg.h>
#include <stdio.h>

int perr_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

int perr_fail_tensor(char *err, size_t errlen, int code, const char *file, const char *tensor,
                     const char *fmt, ...)
{
    if (!err || errlen == 0) return code;
    int n = tensor ? snprintf(err, errlen, "%s: tensor '%s': ", file, tensor)
                   : snprintf(err, errlen, "%s: ", file);
    if (n < 0 || (size_t)n >= errlen) return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}
