/*
 * image.h — the control image as typed values with units (SPEC §4).
 *
 * Raw blocks are uint16_t arrays exactly as on the wire:
 *   status  [CC_STATUS_COUNT = 32]  D100..D131, PLC -> laptop
 *   command [CC_CMD_COUNT = 8]      D200..D207, laptop -> PLC
 * Decoding never fails: raw values that mean "no sensor / no echo" become
 * the *_valid flags; plausibility is the controller's business.
 */
#ifndef CROSSCLIMB_IMAGE_H
#define CROSSCLIMB_IMAGE_H

#include <stdint.h>

#include "regmap.h"

typedef struct {
    uint16_t flags;           /* CC_FLAG_* */
    uint32_t x;               /* X0..X37, bit n = X octal n (CC_X_*) */
    uint16_t y;               /* Y0..Y17 as driven (CC_Y_*) */
    uint16_t tick;            /* 10 ms PLC tick, wraps */
    uint16_t seq_echo;        /* last accepted command sequence number */
    uint16_t heartbeat_echo;  /* last heartbeat seen */
    uint16_t hold_reason;     /* cc_hold_reason code */
    uint16_t version;         /* PLC program version */
    float scan_max_ms;        /* max scan time, ms */
    float cup_kpa[CC_CUPS_N]; /* vacuum below atmosphere, kPa; A1a..A2c, B1a..B2c */
    float prox_mm[CC_PROX_N]; /* +X -X +Y -Y distance along the facade, mm */
    uint8_t prox_valid[CC_PROX_N]; /* 0 = no echo */
    float tether_n;           /* tether tension, N */
    float supply_kpa;         /* supply pressure, kPa (gauge) */
    float pos_mm[2];          /* X, Y cylinder positions, mm */
    uint8_t pos_valid[2];     /* 0 = no sensor fitted */
} cc_status;

typedef struct {
    uint16_t seq;       /* changes exactly when outputs or mode change */
    uint16_t heartbeat; /* +1 every cycle */
    uint16_t outputs;   /* requested Y0..Y17 (CC_Y_*) */
    cc_mode mode;
    uint16_t period_ms; /* cycle period hint */
} cc_command;

/** cc_status_decode: raw D100..D131 -> typed status.  Cannot fail. */
void cc_status_decode(const uint16_t raw[CC_STATUS_COUNT], cc_status *st);

/** cc_status_encode: typed status -> raw block (used by tests and simulators). */
void cc_status_encode(const cc_status *st, uint16_t raw[CC_STATUS_COUNT]);

/** cc_command_encode: typed command -> raw D200..D207 (reserved words zero). */
void cc_command_encode(const cc_command *cmd, uint16_t raw[CC_CMD_COUNT]);

/**
 * cc_command_decode: raw D200..D207 -> typed command.  Returns 0, or -1 when
 * the mode word is not a cc_mode (cmd->mode is then CC_MODE_HOLD).
 */
int cc_command_decode(const uint16_t raw[CC_CMD_COUNT], cc_command *cmd);

/** cc_mode_name: "hold", "auto", "manual", "reset" ("unknown" otherwise). */
const char *cc_mode_name(unsigned mode);

/** cc_tick_diff_ms: ms from tick a to tick b across the 16-bit wrap (b after a). */
uint32_t cc_tick_diff_ms(uint16_t a, uint16_t b);

#endif
