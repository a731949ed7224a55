/*
 * fuzz_mbserver.c — libFuzzer target for the FX3 MODBUS slave's PDU handler
 * (mbs_handle_pdu): any bytes as a request PDU, against one device memory
 * that keeps the writes of earlier inputs.  Checks the answer's shape:
 * length within the buffer, same function code or the exception form with a
 * code 01..03, and a read answer's byte count matching its length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/fxmem.h"
#include "sim/mbserver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fxmem mem;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t rsp[MBS_PDU_MAX];
    uint8_t small[8];
    mbs_request_info info;

    int n = mbs_handle_pdu_info(&mem, data, size, rsp, sizeof rsp, &info);
    if (size == 0) {
        if (n != MBS_EPDU) abort();
        return 0;
    }
    if (n < 2 || (size_t)n > sizeof rsp) abort();
    if (rsp[0] & 0x80u) {
        if (n != 2 || rsp[1] < 1 || rsp[1] > 3 || info.exception != rsp[1]) abort();
        if ((rsp[0] & 0x7Fu) != (data[0] & 0x7Fu) || info.wcount != 0) abort();
    } else {
        if (rsp[0] != data[0] || info.exception != 0) abort();
        switch (rsp[0]) {
        case 0x01: case 0x02: case 0x03: case 0x04: case 0x17:
            if ((size_t)rsp[1] + 2 != (size_t)n) abort();
            break;
        default:
            break;
        }
    }
    /* A small buffer: an error or an answer that fits, never an overrun. */
    n = mbs_handle_pdu(&mem, data, size, small, sizeof small);
    if (n != MBS_EBUF && (n < 2 || (size_t)n > sizeof small)) abort();
    return 0;
}
