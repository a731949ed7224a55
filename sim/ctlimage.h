/*
 * ctlimage.h — the interim control image, in C, as a plcsim logic.
 *
 * Until the instruction-list interpreter runs the PLC program of docs/plc/,
 * this small logic keeps the status block of the control image (SPEC §4)
 * alive so the laptop side has a PLC to talk to.  Every scan:
 *   D100 = RUN (b0); no other flag: the interlocks, HOLD and the watchdog
 *          come with the PLC program, not here
 *   D101, D102 = X0-X17, X20-X37 packed (bit n = X octal n, MOV K4X0 D101)
 *   Y0-Y17 = D202, bit n -> Y octal n (driven every scan, not gated by D200)
 *   D103 = Y0-Y17 as driven
 *   D104 = PLC tick: virtual time of the scan in 10 ms, wraps at 65536
 *   D105 = D200 when D200 differs from D105 (a command is accepted), and
 *   D300 (sim-only diagnostic register) counts the accepted commands
 *   D106 = D201 (last heartbeat seen)
 *   D107 = 0 (no hold reason), D108 = CTL_VERSION, D109 = D8012
 * D110..D131 are left alone (analog values: the plant's).
 *
 * Errors: the scan never fails (returns 0).
 */
#ifndef CROSSCLIMB_CTLIMAGE_H
#define CROSSCLIMB_CTLIMAGE_H

#include <stdint.h>

#include "fxmem.h"
#include "plcsim.h"

#define CTL_VERSION 1u     /* D108: version of this interim program */
#define CTL_D_ACCEPTED 300u /* D300: accepted commands, sim-only diagnostic */

typedef struct ctl_image {
    uint64_t t_ms; /* virtual time of the next scan, ms (the sum of the scan times) */
} ctl_image;

/** ctl_init: a fresh image, time 0 (the PLC's first scan is at virtual time 0). */
void ctl_init(ctl_image *ctl);

/** ctl_scan: one scan of the image over mem; scan_ms = the PLC's scan time, ms. Returns 0. */
int ctl_scan(void *self, fxmem *mem, uint32_t scan_ms);

/** ctl_logic: the image as a plcsim logic. */
plcsim_logic ctl_logic(ctl_image *ctl);

#endif
