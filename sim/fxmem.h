/*
 * fxmem.h — the device memory of a simulated FX PLC.
 *
 * One flat, caller-owned struct (no heap): every bit and word device of the
 * FX3 standard Modbus assignment, indexed by device number as a value
 * (Y10 octal -> y[8], M8000 -> m[8000], D8012 -> d[8012]).  Indices that are
 * not devices (M7680..M7999, D8000 below the special range is fine) are never
 * reached because every access goes through fx_device_valid().
 *
 * The Modbus server (mbserver.c) and the instruction-list interpreter both
 * read and write this memory; the server maps Modbus addresses with
 * regmap.h's fx_unmap().
 *
 * Errors: 0 or a negative REGMAP_E* code (the devices are regmap's).
 */
#ifndef CROSSCLIMB_FXMEM_H
#define CROSSCLIMB_FXMEM_H

#include <stdint.h>

#include "../plc_bridge/regmap.h"

typedef struct fxmem {
    uint8_t x[FX_XY_MAX + 1];             /* inputs, 0/1 */
    uint8_t y[FX_XY_MAX + 1];             /* outputs, 0/1 */
    uint8_t m[FX_M_SPECIAL_LAST + 1];     /* aux relays incl. special M8000-M8511 */
    uint8_t s[FX_S_MAX + 1];              /* states */
    uint8_t ts[FX_T_MAX + 1];             /* timer contacts */
    uint8_t cs[FX_C_MAX + 1];             /* counter contacts */
    uint16_t d[FX_D_SPECIAL_LAST + 1];    /* data registers incl. special D8000-D8511 */
    uint16_t tn[FX_T_MAX + 1];            /* timer current values */
    int32_t cn[FX_C_MAX + 1];             /* counter current values (C200+ are 32-bit) */
} fxmem;

/** fxmem_clear: every device to 0. */
void fxmem_clear(fxmem *mem);

/**
 * fxmem_get_bit / fxmem_set_bit: a bit device (X Y M S, T and C contacts).
 * Returns 0, REGMAP_ERANGE (outside the FX range) or REGMAP_ENOMAP (D).
 */
int fxmem_get_bit(const fxmem *mem, fx_device dev, int *val);
int fxmem_set_bit(fxmem *mem, fx_device dev, int val);

/**
 * fxmem_get_word / fxmem_set_word: a 16-bit word device (D, T value, C value;
 * a 32-bit counter gives/takes its low word).  Returns 0, REGMAP_ERANGE or
 * REGMAP_ENOMAP (X Y M S).
 */
int fxmem_get_word(const fxmem *mem, fx_device dev, uint16_t *val);
int fxmem_set_word(fxmem *mem, fx_device dev, uint16_t val);

/**
 * fxmem_mb_read_bit / fxmem_mb_write_bit: one bit by Modbus table and
 * address (standard assignment).  Writes to the discrete-input table are
 * refused.  Returns 0 or REGMAP_ENOMAP (address not assigned / not writable).
 */
int fxmem_mb_read_bit(const fxmem *mem, mb_table table, uint16_t addr, int *val);
int fxmem_mb_write_bit(fxmem *mem, uint16_t coil_addr, int val);

/**
 * fxmem_mb_read_reg / fxmem_mb_write_reg: one register by address (holding
 * and input-register tables share the assignment).  Returns 0 or
 * REGMAP_ENOMAP.
 */
int fxmem_mb_read_reg(const fxmem *mem, uint16_t addr, uint16_t *val);
int fxmem_mb_write_reg(fxmem *mem, uint16_t addr, uint16_t val);

#endif
