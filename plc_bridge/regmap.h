/*
 * regmap.h — the register map: the contract between crossclimb and the PLC.
 *
 * Two halves:
 *  1. FX device names (X0, Y17, M8000, D100, T5, C200, S10) and their Modbus
 *     addresses under Mitsubishi's FX3 MODBUS *standard device assignment*
 *     (FX3U-485ADP-MB default), so an FX3U/FX3G slave is a drop-in for the
 *     FX1N gateway.  X and Y numbers are octal (X0..X7, X10..X17, ...).
 *  2. The control image (SPEC §4): the status block D100..D131 the PLC
 *     writes, the command block D200..D207 the laptop writes, with the bit
 *     assignments of every flag and I/O word.
 *
 * This header is shared by plc_bridge (the laptop side) and sim (the
 * simulated PLC); it is the only thing sim may use from plc_bridge.
 *
 * Errors: every function returns 0 or a negative REGMAP_E* code;
 * regmap_strerror() turns a code into text.
 */
#ifndef CROSSCLIMB_REGMAP_H
#define CROSSCLIMB_REGMAP_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- errors */
enum {
    REGMAP_OK = 0,
    REGMAP_ESYNTAX = -1,  /* not a device name at all ("Q5", "D", "D1x") */
    REGMAP_EOCTAL = -2,   /* X/Y number with a digit 8 or 9 ("X8") */
    REGMAP_ERANGE = -3,   /* device number outside the FX range ("D9000") */
    REGMAP_EORDER = -4,   /* range whose end precedes its start or mixes kinds */
    REGMAP_ENOMAP = -5,   /* device has no Modbus address for that access */
    REGMAP_EBUF = -6,     /* caller's buffer too small */
};

/** regmap_strerror: text for a REGMAP_E* code (never NULL). */
const char *regmap_strerror(int code);

/* ------------------------------------------------------------ FX devices */
typedef enum {
    FX_DEV_X = 0, /* inputs, octal, X0-X377 */
    FX_DEV_Y,     /* outputs, octal, Y0-Y377 */
    FX_DEV_M,     /* aux relays M0-M7679, special M8000-M8511 */
    FX_DEV_S,     /* states S0-S4095 */
    FX_DEV_T,     /* timers T0-T511: contact (bit) and current value (word) */
    FX_DEV_C,     /* counters C0-C255: contact (bit) and value (word, C0-C199 16-bit) */
    FX_DEV_D,     /* data registers D0-D7999, special D8000-D8511 */
    FX_DEV_COUNT
} fx_dev_kind;

typedef struct {
    fx_dev_kind kind;
    uint16_t num; /* device number as a value: Y10 (octal) -> 8, D100 -> 100 */
} fx_device;

typedef struct {
    fx_device first;
    uint16_t count; /* >= 1 */
} fx_range;

/* Limits of the FX3 standard assignment (device numbers, inclusive). */
#define FX_XY_MAX 0377u
#define FX_M_MAX 7679u
#define FX_M_SPECIAL_FIRST 8000u
#define FX_M_SPECIAL_LAST 8511u
#define FX_S_MAX 4095u
#define FX_T_MAX 511u
#define FX_C_MAX 255u
#define FX_C16_MAX 199u /* C200-C255 are 32-bit: no 16-bit word mapping */
#define FX_D_MAX 7999u
#define FX_D_SPECIAL_FIRST 8000u
#define FX_D_SPECIAL_LAST 8511u

/** fx_device_valid: 1 when dev lies in the FX range of its kind, else 0. */
int fx_device_valid(fx_device dev);

/**
 * fx_parse_device: parse one device name ("D100", "x17", "M8000").
 * Case-insensitive, no spaces.  Returns 0, REGMAP_ESYNTAX, REGMAP_EOCTAL or
 * REGMAP_ERANGE.
 */
int fx_parse_device(const char *s, fx_device *out);

/**
 * fx_parse_range: parse "D110-D121", "X0-X17" or a single device ("Y4",
 * count 1).  The end may omit the kind letter ("D110-121").  Returns 0 or a
 * REGMAP_E* code (EORDER for a reversed or mixed range).
 */
int fx_parse_range(const char *s, fx_range *out);

/**
 * fx_format_device: write the canonical name ("Y10", "D8012") into buf.
 * Returns 0 or REGMAP_EBUF / REGMAP_ERANGE.
 */
int fx_format_device(fx_device dev, char *buf, size_t len);

/** fx_device_is_word: 1 for D (register-only devices), 0 for X/Y/M/S, T/C both. */
int fx_device_is_word(fx_device dev);

/* ------------------------------------------------------- Modbus tables */
typedef enum {
    MB_TABLE_COIL = 0,       /* FC 01/05/0F */
    MB_TABLE_DISCRETE_INPUT, /* FC 02 */
    MB_TABLE_HOLDING,        /* FC 03/06/10/16/17 */
    MB_TABLE_INPUT_REG,      /* FC 04 (same assignment as holding, read-only) */
    MB_TABLE_COUNT
} mb_table;

/** mb_table_name: "coil", "discrete input", "holding register", "input register". */
const char *mb_table_name(mb_table t);

/*
 * Standard assignment, bit devices (coils and discrete inputs alike, except X
 * which is discrete-input only):
 *   0x0000-0x1DFF M0-M7679      0x1E00-0x1FFF M8000-M8511
 *   0x2000-0x2FFF S0-S4095      0x3000-0x31FF TS0-TS511
 *   0x3200-0x32FF CS0-CS255     0x3300-0x33FF Y0-Y377
 *   0x3400-0x34FF X0-X377 (discrete inputs only)
 * Word devices (holding and input registers alike):
 *   0x0000-0x1F3F D0-D7999      0x1F40-0x213F D8000-D8511
 *   0x2140-0x233F TN0-TN511     0x2340-0x2407 CN0-CN199
 */
#define MB_BIT_M 0x0000u
#define MB_BIT_M_SPECIAL 0x1E00u
#define MB_BIT_S 0x2000u
#define MB_BIT_TS 0x3000u
#define MB_BIT_CS 0x3200u
#define MB_BIT_Y 0x3300u
#define MB_BIT_X 0x3400u
#define MB_REG_D 0x0000u
#define MB_REG_D_SPECIAL 0x1F40u
#define MB_REG_TN 0x2140u
#define MB_REG_CN 0x2340u

/**
 * fx_map_bit: Modbus address of a bit device.  X -> discrete input table,
 * Y/M/S/T(contact)/C(contact) -> coil table (also readable as discrete
 * inputs).  Returns 0, REGMAP_ERANGE, or REGMAP_ENOMAP for D.
 */
int fx_map_bit(fx_device dev, mb_table *table, uint16_t *addr);

/**
 * fx_map_word: Modbus holding-register address of a word device: D, T
 * (current value), C0-C199 (current value).  Returns 0, REGMAP_ERANGE, or
 * REGMAP_ENOMAP for X/Y/M/S and the 32-bit counters C200-C255.
 */
int fx_map_word(fx_device dev, uint16_t *addr);

/**
 * fx_unmap: the FX device behind a Modbus address of a table.  Coil and
 * discrete-input tables share the bit assignment (X only in discrete
 * inputs); holding and input-register tables share the word assignment, so
 * for T and C the caller knows from the table whether the contact or the
 * value is meant.  Returns 0 or REGMAP_ENOMAP for an unassigned address.
 */
int fx_unmap(mb_table table, uint16_t addr, fx_device *out);

/* ------------------------------------------------------- control image */
#define CC_STATUS_FIRST 100u /* D100 */
#define CC_STATUS_COUNT 32u  /* D100..D131 */
#define CC_CMD_FIRST 200u    /* D200 */
#define CC_CMD_COUNT 8u      /* D200..D207 */

/* Status block offsets (register = D100 + offset). */
enum {
    CC_ST_FLAGS = 0,       /* D100 flag bits, CC_FLAG_* */
    CC_ST_X_LO = 1,        /* D101 X0-X17 packed, bit n = X(octal n) */
    CC_ST_X_HI = 2,        /* D102 X20-X37 packed */
    CC_ST_Y = 3,           /* D103 Y0-Y17 as actually driven */
    CC_ST_TICK = 4,        /* D104 10 ms free-running tick, wraps at 65536 */
    CC_ST_SEQ_ECHO = 5,    /* D105 last accepted command sequence number */
    CC_ST_HB_ECHO = 6,     /* D106 last heartbeat seen */
    CC_ST_HOLD_REASON = 7, /* D107 code of the first fault, CC_HOLD_* */
    CC_ST_VERSION = 8,     /* D108 PLC program version */
    CC_ST_SCAN_MAX = 9,    /* D109 max scan time, 0.1 ms (copy of D8012) */
    CC_ST_CUP_FIRST = 10,  /* D110..D121 cup vacuum, 0.1 kPa below atmosphere */
    CC_ST_PROX_FIRST = 22, /* D122..D125 proximity mm (+X -X +Y -Y), 0xFFFF = no echo */
    CC_ST_TETHER = 26,     /* D126 tether tension, N */
    CC_ST_SUPPLY = 27,     /* D127 supply pressure, kPa */
    CC_ST_POS_X = 28,      /* D128 X cylinder position mm, 0xFFFF = no sensor */
    CC_ST_POS_Y = 29,      /* D129 Y cylinder position mm, 0xFFFF = no sensor */
    /* D130, D131 reserved (read as part of the block, zero) */
};

/* Command block offsets (register = D200 + offset). */
enum {
    CC_CMD_SEQ = 0,       /* D200 sequence number: changes exactly when 202/203 change */
    CC_CMD_HEARTBEAT = 1, /* D201 +1 every cycle */
    CC_CMD_OUTPUTS = 2,   /* D202 requested outputs Y0-Y17 */
    CC_CMD_MODE = 3,      /* D203 cc_mode */
    CC_CMD_PERIOD = 4,    /* D204 cycle period hint, ms */
    /* D205..D207 reserved, written as zero */
};

/* D100 flags. */
#define CC_FLAG_RUN (1u << 0)
#define CC_FLAG_HOLD (1u << 1)
#define CC_FLAG_ESTOP (1u << 2)
#define CC_FLAG_WATCHDOG (1u << 3)
#define CC_FLAG_REJECTED (1u << 4)
#define CC_FLAG_TETHER (1u << 5)
#define CC_FLAG_SUPPLY_LOW (1u << 6)
#define CC_FLAG_MANUAL (1u << 7)

/* D203 modes. */
typedef enum {
    CC_MODE_HOLD = 0,
    CC_MODE_AUTO = 1,
    CC_MODE_MANUAL = 2,
    CC_MODE_RESET = 3,
    CC_MODE_COUNT
} cc_mode;

/* D107 hold reasons (first fault wins). */
typedef enum {
    CC_HOLD_NONE = 0,
    CC_HOLD_COMMANDED = 1, /* mode 0 requested by the laptop */
    CC_HOLD_ESTOP = 2,
    CC_HOLD_WATCHDOG = 3,
    CC_HOLD_TETHER = 4,
    CC_HOLD_SUPPLY = 5,
    CC_HOLD_COUNT
} cc_hold_reason;

/** cc_hold_reason_name: short text for a D107 code ("estop"; "unknown" if out of range). */
const char *cc_hold_reason_name(unsigned code);

/* Outputs Y0-Y17 (bit n of D103/D202 = Y octal n). */
#define CC_Y_X_PLUS (1u << 0)    /* Y0 X cylinder +X */
#define CC_Y_X_MINUS (1u << 1)   /* Y1 X cylinder -X */
#define CC_Y_Y_PLUS (1u << 2)    /* Y2 Y cylinder +Y */
#define CC_Y_Y_MINUS (1u << 3)   /* Y3 Y cylinder -Y */
#define CC_Y_A_DOWN (1u << 4)    /* Y4 group A legs down */
#define CC_Y_B_DOWN (1u << 5)    /* Y5 group B legs down */
#define CC_Y_A_VAC (1u << 6)     /* Y6 group A vacuum on */
#define CC_Y_B_VAC (1u << 7)     /* Y7 group B vacuum on */
#define CC_Y_A_BLOW (1u << 8)    /* Y10 group A blow-off */
#define CC_Y_B_BLOW (1u << 9)    /* Y11 group B blow-off */
#define CC_Y_BRUSH (1u << 10)    /* Y12 brush motor */
#define CC_Y_SPRAY (1u << 11)    /* Y13 spray pump */
#define CC_Y_BEACON (1u << 12)   /* Y14 alarm beacon */

/* Inputs X0-X37 (bit n of the 32-bit word D101 | D102<<16 = X octal n). */
#define CC_X_XCYL_MINUS_END (1u << 0) /* X0 */
#define CC_X_XCYL_PLUS_END (1u << 1)  /* X1 */
#define CC_X_YCYL_MINUS_END (1u << 2) /* X2 */
#define CC_X_YCYL_PLUS_END (1u << 3)  /* X3 */
#define CC_X_A_UP (1u << 4)           /* X4 */
#define CC_X_A_DOWN (1u << 5)         /* X5 */
#define CC_X_B_UP (1u << 6)           /* X6 */
#define CC_X_B_DOWN (1u << 7)         /* X7 */
#define CC_X_A_VAC_OK (1u << 8)       /* X10 */
#define CC_X_B_VAC_OK (1u << 9)       /* X11 */
#define CC_X_ESTOP_OK (1u << 10)      /* X12 normally closed: 0 = pressed or broken */
#define CC_X_TETHER_OK (1u << 11)     /* X13 */
#define CC_X_SUPPLY_OK (1u << 12)     /* X14 */
#define CC_X_EDGE_XP (1u << 13)       /* X15 */
#define CC_X_EDGE_XM (1u << 14)       /* X16 */
#define CC_X_EDGE_YP (1u << 15)       /* X17 */
#define CC_X_EDGE_YM (1u << 16)       /* X20 */
#define CC_X_WATER_LOW (1u << 17)     /* X21 */
#define CC_X_ENABLE_KEY (1u << 18)    /* X22 */

#define CC_CUPS_N 12u     /* A1a A1b A1c A2a A2b A2c B1a ... B2c */
#define CC_PROX_N 4u      /* +X -X +Y -Y */
#define CC_NO_VALUE 0xFFFFu

#endif
