/*
 * fuzz_camc.c — the camera client's header parser (controller/camclient.h,
 * camc_parse_header).  Every input must give 0, CAMC_EPARTIAL or
 * CAMC_EPROTO; an accepted header must lie inside the input, have sizes in
 * range, and parse the same from any longer input that starts with it;
 * every proper prefix of an accepted header must be CAMC_EPARTIAL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controller/camclient.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    camc_header h;
    memset(&h, 0xA5, sizeof h);
    int rc = camc_parse_header(data, size, &h);
    if (rc != CAMC_OK && rc != CAMC_EPARTIAL && rc != CAMC_EPROTO) abort();
    if (rc == CAMC_EPARTIAL && size >= CAMC_HEADER_MAX) abort();
    if (rc != CAMC_OK) return 0;
    if (h.header_len == 0 || h.header_len > size || h.header_len > CAMC_HEADER_MAX) abort();
    if (h.width == 0 || h.height == 0 || h.width % 8 || h.height % 8 || h.width > FEAT_MAX_CAM_W ||
        h.height > FEAT_MAX_CAM_H)
        abort();
    if (data[h.header_len - 1] != '\n') abort();
    /* the header alone parses the same; each shorter prefix is incomplete */
    camc_header g;
    if (camc_parse_header(data, h.header_len, &g) != CAMC_OK || memcmp(&g, &h, sizeof g) != 0) abort();
    for (size_t n = 0; n < h.header_len; n++)
        if (camc_parse_header(data, n, &g) != CAMC_EPARTIAL) abort();
    return 0;
}
