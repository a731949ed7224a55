/*
 * benchplant.c — the robot on a test bench, as a plcsim plant.  See benchplant.h.
 */
#include "benchplant.h"

#include <math.h>
#include <string.h>

#include "../plc_bridge/regmap.h"

#define BP_CUPS_PER_GROUP 6u
#define BP_MAX_TRAVEL_MS 60000u

const char *benchplant_strerror(int code)
{
    switch (code) {
    case BENCHPLANT_OK: return "ok";
    case BENCHPLANT_EARG: return "bad argument or bench plant configuration";
    default: return "unknown error";
    }
}

void benchplant_config_default(benchplant_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->leg_travel_ms = 400;   /* SPEC §2: leg lift 0.3-0.5 s */
    cfg->vac_target_kpa = 60.0; /* SPEC §2: nominal vacuum */
    cfg->vac_sealed_kpa = 45.0; /* SPEC §2: "sealed" */
    cfg->vac_seal_ms = 1000.0;  /* SPEC §2: about 1 s to sealed on glass */
    cfg->cyl_speed_mm_s = 150.0;
    cfg->cyl_stroke_mm = 300.0;
    cfg->cyl_start_mm[0] = 150.0; /* carriages centred: neither end switch on */
    cfg->cyl_start_mm[1] = 150.0;
    cfg->tether_n = 150;
    cfg->supply_kpa = 600;
}

/* A finite number in [lo, hi]. */
static int in_range(double v, double lo, double hi)
{
    return isfinite(v) && v >= lo && v <= hi;
}

static int config_ok(const benchplant_config *c)
{
    if (c->leg_travel_ms < 1 || c->leg_travel_ms > BP_MAX_TRAVEL_MS) return 0;
    if (!in_range(c->vac_target_kpa, 1e-3, 100.0)) return 0; /* below atmosphere: < 100 kPa */
    if (!in_range(c->vac_sealed_kpa, 1e-3, c->vac_target_kpa) ||
        c->vac_sealed_kpa >= c->vac_target_kpa)
        return 0;
    if (!in_range(c->vac_seal_ms, 1e-3, 1e7)) return 0;
    if (!in_range(c->cyl_speed_mm_s, 1e-3, 1e5)) return 0;
    if (!in_range(c->cyl_stroke_mm, 1e-3, 65534.0)) return 0; /* fits BFM mm, below 0xFFFF */
    for (int i = 0; i < 2; i++)
        if (!in_range(c->cyl_start_mm[i], 0.0, c->cyl_stroke_mm)) return 0;
    return 1;
}

/* X0-X37 as the bench model has them (bit n = X octal n, CC_X_*). */
static uint32_t model_inputs(const benchplant *bp)
{
    const benchplant_config *c = &bp->cfg;
    uint32_t x = CC_X_ESTOP_OK | CC_X_TETHER_OK | CC_X_SUPPLY_OK | CC_X_ENABLE_KEY;
    if (bp->cyl_mm[0] <= 0.0) x |= CC_X_XCYL_MINUS_END;
    if (bp->cyl_mm[0] >= c->cyl_stroke_mm) x |= CC_X_XCYL_PLUS_END;
    if (bp->cyl_mm[1] <= 0.0) x |= CC_X_YCYL_MINUS_END;
    if (bp->cyl_mm[1] >= c->cyl_stroke_mm) x |= CC_X_YCYL_PLUS_END;
    if (bp->lift_ms[0] >= (double)c->leg_travel_ms) x |= CC_X_A_UP;
    if (bp->lift_ms[0] <= 0.0) x |= CC_X_A_DOWN;
    if (bp->lift_ms[1] >= (double)c->leg_travel_ms) x |= CC_X_B_UP;
    if (bp->lift_ms[1] <= 0.0) x |= CC_X_B_DOWN;
    if (bp->vac_kpa[0] >= c->vac_sealed_kpa) x |= CC_X_A_VAC_OK;
    if (bp->vac_kpa[1] >= c->vac_sealed_kpa) x |= CC_X_B_VAC_OK;
    return x;
}

/* 0.1 kPa units of the cup blocks; never 0xFFFF ("no value"). */
static uint16_t deci(double kpa)
{
    long v = lround(kpa * 10.0);
    if (v < 0) v = 0;
    if (v > 0xFFFE) v = 0xFFFE;
    return (uint16_t)v;
}

static void write_blocks(benchplant *bp)
{
    const benchplant_config *c = &bp->cfg;
    for (unsigned g = 0; g < 2; g++)
        for (unsigned i = 0; i < BP_CUPS_PER_GROUP; i++)
            (void)fxil_block_write(bp->prog, BENCHPLANT_UNIT_CUPS, g * BP_CUPS_PER_GROUP + i,
                                   deci(bp->vac_kpa[g]));
    for (unsigned i = 0; i < CC_PROX_N; i++)
        (void)fxil_block_write(bp->prog, BENCHPLANT_UNIT_MISC, i, CC_NO_VALUE);
    (void)fxil_block_write(bp->prog, BENCHPLANT_UNIT_MISC, BENCHPLANT_BFM_TETHER, c->tether_n);
    (void)fxil_block_write(bp->prog, BENCHPLANT_UNIT_MISC, BENCHPLANT_BFM_SUPPLY, c->supply_kpa);
    (void)fxil_block_write(bp->prog, BENCHPLANT_UNIT_MISC, BENCHPLANT_BFM_POS_X,
                           (uint16_t)lround(bp->cyl_mm[0]));
    (void)fxil_block_write(bp->prog, BENCHPLANT_UNIT_MISC, BENCHPLANT_BFM_POS_Y,
                           (uint16_t)lround(bp->cyl_mm[1]));
}

int benchplant_init(benchplant *bp, const benchplant_config *cfg, fxil_program *prog)
{
    if (!bp || !cfg || !prog || !config_ok(cfg)) return BENCHPLANT_EARG;
    memset(bp, 0, sizeof *bp);
    bp->cfg = *cfg;
    bp->prog = prog;
    /* First-order rise from 0: v(t) = T (1 - e^(-t/tau)) reaches S at
     * t = tau ln(T / (T - S)); tau from the configured time to sealed. */
    bp->tau_ms = cfg->vac_seal_ms / log(cfg->vac_target_kpa / (cfg->vac_target_kpa - cfg->vac_sealed_kpa));
    bp->cyl_mm[0] = cfg->cyl_start_mm[0];
    bp->cyl_mm[1] = cfg->cyl_start_mm[1];
    bp->x_model = model_inputs(bp);
    write_blocks(bp);
    return 0;
}

/* Advance the model by dt_ms with the outputs bp->y. */
static void integrate(benchplant *bp, double dt_ms)
{
    const benchplant_config *c = &bp->cfg;
    static const uint16_t leg_down[2] = {CC_Y_A_DOWN, CC_Y_B_DOWN};
    static const uint16_t vac_on[2] = {CC_Y_A_VAC, CC_Y_B_VAC};
    static const uint16_t blow[2] = {CC_Y_A_BLOW, CC_Y_B_BLOW};
    static const uint16_t plus[2] = {CC_Y_X_PLUS, CC_Y_Y_PLUS};
    static const uint16_t minus[2] = {CC_Y_X_MINUS, CC_Y_Y_MINUS};
    double travel = (double)c->leg_travel_ms;
    double decay = exp(-dt_ms / bp->tau_ms);

    for (int g = 0; g < 2; g++) {
        /* Legs: lift in ms of travel, towards the valve. */
        if (bp->y & leg_down[g]) bp->lift_ms[g] = fmax(0.0, bp->lift_ms[g] - dt_ms);
        else bp->lift_ms[g] = fmin(travel, bp->lift_ms[g] + dt_ms);
        /* Vacuum: cups seal only against the surface, i.e. legs down. */
        if (bp->lift_ms[g] > 0.0 || (bp->y & blow[g])) {
            bp->vac_kpa[g] = 0.0;
        } else {
            double target = (bp->y & vac_on[g]) ? c->vac_target_kpa : 0.0;
            bp->vac_kpa[g] = target + (bp->vac_kpa[g] - target) * decay;
        }
    }
    for (int k = 0; k < 2; k++) {
        int p = (bp->y & plus[k]) != 0, m = (bp->y & minus[k]) != 0;
        if (p == m) continue; /* closed centre: none or both = stop */
        double d = c->cyl_speed_mm_s * dt_ms / 1000.0;
        double pos = bp->cyl_mm[k] + (p ? d : -d);
        bp->cyl_mm[k] = fmin(c->cyl_stroke_mm, fmax(0.0, pos));
    }
}

void benchplant_input(void *self, fxmem *mem, uint64_t now_ms)
{
    benchplant *bp = self;
    if (!bp || !mem) return;
    double dt = 0.0;
    if (bp->started && now_ms > bp->last_ms) dt = (double)(now_ms - bp->last_ms);
    if (!bp->started || now_ms > bp->last_ms) bp->last_ms = now_ms;
    bp->started = 1;
    integrate(bp, dt);

    bp->x_model = model_inputs(bp);
    const uint16_t *d = mem->d;
    uint32_t mask = (uint32_t)d[BENCHPLANT_D_FORCE_MASK_LO] |
                    (uint32_t)d[BENCHPLANT_D_FORCE_MASK_HI] << 16;
    uint32_t val = (uint32_t)d[BENCHPLANT_D_FORCE_VAL_LO] |
                   (uint32_t)d[BENCHPLANT_D_FORCE_VAL_HI] << 16;
    uint32_t x = (bp->x_model & ~mask) | (val & mask);
    for (unsigned i = 0; i < 32; i++) mem->x[i] = (uint8_t)((x >> i) & 1u);
    write_blocks(bp);
}

void benchplant_output(void *self, const fxmem *mem, uint64_t now_ms)
{
    benchplant *bp = self;
    (void)now_ms; /* the outputs act from the next input refresh on */
    if (!bp || !mem) return;
    uint16_t y = 0;
    for (unsigned i = 0; i < 16; i++)
        if (mem->y[i]) y = (uint16_t)(y | (1u << i));
    bp->y = y;
}

plcsim_plant benchplant_plant(benchplant *bp)
{
    plcsim_plant p = {.self = bp, .input = benchplant_input, .output = benchplant_output};
    return p;
}
