/*
 * fuzz_plc_names.c — the operator-typed text of plc_bridge: link URIs and FX
 * device names / ranges.  Both parsers must answer every input with 0 or an
 * error code, never read past the string, and leave the output untouched on
 * error; a parsed URI must print and parse back to the same value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plc_bridge/regmap.h"
#include "plc_bridge/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    link_uri u, before, again;
    char err[256], text[600];
    memset(&u, 0xA5, sizeof u);
    before = u;
    int rc = link_uri_parse(s, (int)(size & 1u), &u, err, sizeof err);
    if (rc != 0) {
        if (memcmp(&u, &before, sizeof u) != 0) abort(); /* half-written on error */
    } else if (link_uri_format(&u, text, sizeof text) == 0) {
        if (link_uri_parse(text, 1, &again, err, sizeof err) != 0) abort();
        if (again.kind != u.kind || again.port != u.port || again.baud != u.baud ||
            again.slave != u.slave || strcmp(again.host, u.host) || strcmp(again.path, u.path))
            abort();
    }

    fx_range r;
    fx_device d;
    if (fx_parse_range(s, &r) == 0) {
        if (r.count == 0 || !fx_device_valid(r.first)) abort();
        fx_device last = {r.first.kind, (uint16_t)(r.first.num + r.count - 1u)};
        if (!fx_device_valid(last)) abort();
    }
    if (fx_parse_device(s, &d) == 0) {
        mb_table t;
        uint16_t a;
        fx_device back;
        if (fx_format_device(d, text, sizeof text) != 0) abort();
        if (fx_map_bit(d, &t, &a) == 0) {
            if (fx_unmap(t, a, &back) != 0 || back.kind != d.kind || back.num != d.num) abort();
        }
        if (fx_map_word(d, &a) == 0) {
            if (fx_unmap(MB_TABLE_HOLDING, a, &back) != 0 || back.num != d.num) abort();
        }
    }
    free(s);
    return 0;
}
