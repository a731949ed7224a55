/*
 * robotplant.c — the simulated robot as the PLC's plant.  See robotplant.h.
 */
#include "robotplant.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "../plc_bridge/regmap.h"

/* X10 / X11 as indices of mem->x (bit n = X octal n, as CC_X_*). */
#define RP_X_A_VAC_BIT 8u
#define RP_X_B_VAC_BIT 9u

const char *robotplant_strerror(int code)
{
    switch (code) {
    case ROBOTPLANT_OK: return "ok";
    case ROBOTPLANT_EARG: return "bad argument or robot placement";
    case ROBOTPLANT_ENOMEM: return "out of memory";
    case ROBOTPLANT_ETRUTH: return "cannot write the ground-truth log";
    case ROBOTPLANT_ESTATE: return "ground-truth log already open";
    default: return "unknown robot plant error";
    }
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The analog image into the blocks rung 38 reads with FROM. */
static void write_blocks(robotplant *rp)
{
    const uint16_t *an = rp->rs.analog;
    for (unsigned i = 0; i < PHYS_CUPS; i++)
        (void)fxil_block_write(rp->prog, ROBOTPLANT_UNIT_CUPS, i, an[ROBOTSIM_AN_CUP0 + i]);
    for (unsigned i = 0; i < ROBOTPLANT_MISC_N; i++)
        (void)fxil_block_write(rp->prog, ROBOTPLANT_UNIT_MISC, i, an[ROBOTSIM_AN_PROX0 + i]);
}

/*
 * What the sensors say about a fallen robot.  The physics stops moving it
 * (only its clock runs), but its last state is a robot sliding off the wall;
 * the controller must not read that as a robot still holding: the cups are
 * off the facade (0 kPa, switches open), the proximity sensors look into
 * the air, the tether carries the weight.
 */
static void fall_image(robotplant *rp, fxmem *mem)
{
    uint16_t *an = rp->rs.analog;
    for (unsigned i = 0; i < PHYS_CUPS; i++) an[ROBOTSIM_AN_CUP0 + i] = 0;
    for (unsigned i = 0; i < FACADE_DIR_COUNT; i++) an[ROBOTSIM_AN_PROX0 + i] = ROBOTSIM_NO_VALUE;
    double w_n = phys_mass_kg(&rp->rs.phys) * PHYS_G_M_S2;
    an[ROBOTSIM_AN_TETHER] = (uint16_t)(w_n < 65534.0 ? lround(w_n) : 65534);
    mem->x[RP_X_A_VAC_BIT] = 0;
    mem->x[RP_X_B_VAC_BIT] = 0;
}

int robotplant_init(robotplant *rp, const robotcfg *cfg, const facade *fac, uint64_t seed,
                    fxil_program *prog, char *err, size_t errlen)
{
    if (!rp || !cfg || !fac || !prog) return ROBOTPLANT_EARG;
    memset(rp, 0, sizeof *rp);
    int rc = robotsim_init(&rp->rs, cfg, fac, NULL, seed, err, errlen);
    if (rc == PHYS_ENOMEM) return ROBOTPLANT_ENOMEM;
    if (rc != 0) return ROBOTPLANT_EARG;
    rp->prog = prog;
    write_blocks(rp); /* so FROM reads the robot even before the first input refresh */
    return 0;
}

int robotplant_truth_open(robotplant *rp, FILE *fp, uint32_t truth_ms)
{
    if (!rp || !fp || truth_ms > ROBOTPLANT_TRUTH_MS_MAX) return ROBOTPLANT_EARG;
    if (rp->tl) return ROBOTPLANT_ESTATE;
    int rc = truthlog_open(&rp->tl, fp, &rp->rs.phys, rp->rs.seed);
    if (rc == TRUTHLOG_ENOMEM) return ROBOTPLANT_ENOMEM;
    if (rc != 0) return ROBOTPLANT_ETRUTH;
    rp->truth_fp = fp;
    rp->truth_ms = truth_ms;
    rp->next_truth_ms = 0;
    return 0;
}

void robotplant_on_fall(robotplant *rp, robotplant_fall_fn fn, void *ctx)
{
    if (!rp) return;
    rp->on_fall = fn;
    rp->on_fall_ctx = ctx;
}

/* One state line now; the first error is kept and stops further lines. */
static void truth_state(robotplant *rp)
{
    if (!rp->tl || rp->truth_rc) return;
    uint64_t t0 = mono_ns();
    if (truthlog_state(rp->tl, &rp->rs.phys) != 0) rp->truth_rc = ROBOTPLANT_ETRUTH;
    rp->truth_any = 1;
    rp->truth_last_us = rp->rs.phys.t_us;
    rp->truth_lines++;
    rp->truth_ns += mono_ns() - t0;
}

void robotplant_input(void *self, fxmem *mem, uint64_t now_ms)
{
    robotplant *rp = self;
    if (!rp || !mem) return;
    uint64_t t0 = mono_ns();
    robotsim_input(&rp->rs, mem, now_ms);
    int fallen = rp->rs.phys.fallen;
    if (fallen) fall_image(rp, mem);
    write_blocks(rp);
    rp->inputs++;
    rp->plant_ns += mono_ns() - t0;

    if (fallen && !rp->fall_seen) {
        rp->fall_seen = 1;
        truth_state(rp); /* truthlog writes the "fall" line before it */
        /* whoever watches the log (a test, an evaluation) sees the fall now */
        if (rp->tl && !rp->truth_rc && fflush(rp->truth_fp) != 0) rp->truth_rc = ROBOTPLANT_ETRUTH;
        if (rp->on_fall) rp->on_fall(rp->on_fall_ctx, &rp->rs.phys);
    } else if (!fallen && rp->tl && rp->truth_ms && now_ms >= rp->next_truth_ms) {
        truth_state(rp);
        /* the next multiple of the cadence: a slow scan never makes lines bunch up */
        rp->next_truth_ms = now_ms - now_ms % rp->truth_ms + rp->truth_ms;
    }
}

void robotplant_output(void *self, const fxmem *mem, uint64_t now_ms)
{
    robotplant *rp = self;
    if (!rp || !mem) return;
    uint64_t t0 = mono_ns();
    robotsim_output(&rp->rs, mem, now_ms);
    rp->plant_ns += mono_ns() - t0;
}

plcsim_plant robotplant_plant(robotplant *rp)
{
    plcsim_plant p = {.self = rp, .input = robotplant_input, .output = robotplant_output};
    return p;
}

int robotplant_fallen(const robotplant *rp)
{
    return rp && rp->rs.phys.fallen;
}

int robotplant_finish(robotplant *rp)
{
    if (!rp || !rp->tl) return 0;
    if (!rp->truth_any || rp->truth_last_us != rp->rs.phys.t_us) truth_state(rp);
    int rc = truthlog_close(rp->tl, &rp->rs.phys);
    rp->tl = NULL;
    if (rc != 0 && !rp->truth_rc) rp->truth_rc = ROBOTPLANT_ETRUTH;
    return rp->truth_rc;
}

void robotplant_free(robotplant *rp)
{
    if (!rp) return;
    if (rp->tl) {
        (void)truthlog_close(rp->tl, &rp->rs.phys);
        rp->tl = NULL;
    }
    robotsim_free(&rp->rs);
}
