/*
 * fxmem.c — device memory of the simulated FX PLC.  See fxmem.h.
 */
#include "fxmem.h"

#include <string.h>

void fxmem_clear(fxmem *mem)
{
    memset(mem, 0, sizeof *mem);
}

/* Pointer to a bit device's cell; NULL for word-only devices. */
static uint8_t *bit_cell(fxmem *mem, fx_device dev)
{
    switch (dev.kind) {
    case FX_DEV_X: return &mem->x[dev.num];
    case FX_DEV_Y: return &mem->y[dev.num];
    case FX_DEV_M: return &mem->m[dev.num];
    case FX_DEV_S: return &mem->s[dev.num];
    case FX_DEV_T: return &mem->ts[dev.num];
    case FX_DEV_C: return &mem->cs[dev.num];
    default: return NULL;
    }
}

int fxmem_get_bit(const fxmem *mem, fx_device dev, int *val)
{
    if (!fx_device_valid(dev)) return REGMAP_ERANGE;
    const uint8_t *p = bit_cell((fxmem *)mem, dev);
    if (!p) return REGMAP_ENOMAP;
    *val = *p ? 1 : 0;
    return 0;
}

int fxmem_set_bit(fxmem *mem, fx_device dev, int val)
{
    if (!fx_device_valid(dev)) return REGMAP_ERANGE;
    uint8_t *p = bit_cell(mem, dev);
    if (!p) return REGMAP_ENOMAP;
    *p = val ? 1 : 0;
    return 0;
}

int fxmem_get_word(const fxmem *mem, fx_device dev, uint16_t *val)
{
    if (!fx_device_valid(dev)) return REGMAP_ERANGE;
    switch (dev.kind) {
    case FX_DEV_D: *val = mem->d[dev.num]; return 0;
    case FX_DEV_T: *val = mem->tn[dev.num]; return 0;
    case FX_DEV_C: *val = (uint16_t)((uint32_t)mem->cn[dev.num] & 0xFFFFu); return 0;
    default: return REGMAP_ENOMAP;
    }
}

int fxmem_set_word(fxmem *mem, fx_device dev, uint16_t val)
{
    if (!fx_device_valid(dev)) return REGMAP_ERANGE;
    switch (dev.kind) {
    case FX_DEV_D: mem->d[dev.num] = val; return 0;
    case FX_DEV_T: mem->tn[dev.num] = val; return 0;
    case FX_DEV_C:
        /* A 16-bit counter holds a signed 16-bit value. */
        mem->cn[dev.num] = dev.num <= FX_C16_MAX ? (int32_t)(int16_t)val : (int32_t)val;
        return 0;
    default: return REGMAP_ENOMAP;
    }
}

int fxmem_mb_read_bit(const fxmem *mem, mb_table table, uint16_t addr, int *val)
{
    fx_device dev;
    if (table != MB_TABLE_COIL && table != MB_TABLE_DISCRETE_INPUT) return REGMAP_ENOMAP;
    int rc = fx_unmap(table, addr, &dev);
    if (rc) return rc;
    return fxmem_get_bit(mem, dev, val);
}

int fxmem_mb_write_bit(fxmem *mem, uint16_t coil_addr, int val)
{
    fx_device dev;
    int rc = fx_unmap(MB_TABLE_COIL, coil_addr, &dev);
    if (rc) return rc;
    return fxmem_set_bit(mem, dev, val);
}

int fxmem_mb_read_reg(const fxmem *mem, uint16_t addr, uint16_t *val)
{
    fx_device dev;
    int rc = fx_unmap(MB_TABLE_HOLDING, addr, &dev);
    if (rc) return rc;
    return fxmem_get_word(mem, dev, val);
}

int fxmem_mb_write_reg(fxmem *mem, uint16_t addr, uint16_t val)
{
    fx_device dev;
    int rc = fx_unmap(MB_TABLE_HOLDING, addr, &dev);
    if (rc) return rc;
    return fxmem_set_word(mem, dev, val);
}
