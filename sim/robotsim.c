/*
 * robotsim.c — the plant adapter: valves in, sensors out, with the
 * deterministic noise and gust generators.
 */
#include "robotsim.h"

#include <math.h>
#include <string.h>

#include "plc_bridge/regmap.h"

#define PI 3.14159265358979323846

/* ------------------------------------------------------------------ RNG */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void robotsim_rng_seed(robotsim_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t robotsim_rng_next(robotsim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5u, 7) * 9u;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double robotsim_rng_uniform(robotsim_rng *r)
{
    return (double)(robotsim_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double robotsim_rng_gauss(robotsim_rng *r)
{
    /* Irwin-Hall: the sum of 12 U(0,1) has mean 6 and variance 1. */
    double s = 0.0;
    for (int i = 0; i < 12; i++) s += robotsim_rng_uniform(r);
    return s - 6.0;
}

/* ----------------------------------------------------------------- time */

/* An injected gust (fault hook): a 1 - cos bump of fault_gust_peak_m_s over
 * [start, start + len), evaluated at t_us (the end of the step, as the
 * random gusts are). */
static double fault_gust_m_s(const robotsim *rs, uint64_t t_us)
{
    uint64_t start = rs->fault_gust_start_us, len = rs->fault_gust_len_us;
    if (len == 0 || t_us <= start || t_us - start >= len) return 0.0;
    double phase = (double)(t_us - start) / (double)len;
    return rs->fault_gust_peak_m_s * 0.5 * (1.0 - cos(2.0 * PI * phase));
}

/* Gusts: arrivals at gust_rate_per_s (Bernoulli per step, rate*dt), each a
 * 1 - cos bump of gust_s with a peak of 0.5..1.5 x gust_m_s, added to the
 * steady wind (and the injected gust, if any). */
static void gust_step(robotsim *rs, double dt_s, uint64_t t_end_us)
{
    const robotcfg *c = rs->phys.cfg;
    double gust = 0.0;
    if (rs->gust_elapsed_s >= 0.0) {
        rs->gust_elapsed_s += dt_s;
        if (rs->gust_elapsed_s >= c->gust_s) rs->gust_elapsed_s = -1.0;
    } else if (c->gust_rate_per_s > 0.0 && c->gust_m_s > 0.0) {
        if (robotsim_rng_uniform(&rs->rng_env) < c->gust_rate_per_s * dt_s) {
            rs->gust_elapsed_s = 0.0;
            rs->gust_peak_m_s = c->gust_m_s * (0.5 + robotsim_rng_uniform(&rs->rng_env));
        }
    }
    if (rs->gust_elapsed_s >= 0.0)
        gust = rs->gust_peak_m_s * 0.5 * (1.0 - cos(2.0 * PI * rs->gust_elapsed_s / c->gust_s));
    if (rs->fault_gust_len_us) gust += fault_gust_m_s(rs, t_end_us);
    rs->phys.env.wind_m_s = rs->wind_steady_m_s + gust;
}

void robotsim_advance_to_us(robotsim *rs, uint64_t t_us)
{
    uint32_t step = rs->phys.cfg->step_us;
    while (rs->phys.t_us < t_us) {
        uint64_t left = t_us - rs->phys.t_us;
        uint32_t dt = left < step ? (uint32_t)left : step;
        gust_step(rs, dt * 1e-6, rs->phys.t_us + dt);
        phys_step(&rs->phys, dt);
    }
}

/* -------------------------------------------------------------- sensors */

/* A value in SI units as a register of `unit` (0..65534; 0xFFFF is "none"). */
static uint16_t to_register(double v, double unit)
{
    v = floor(v / unit + 0.5);
    if (!(v > 0.0)) return 0;
    if (v > 65534.0) return 65534;
    return (uint16_t)v;
}

/* value + noise, quantised to q, as a register.  An analog fault on the
 * channel (an_fault[ch]) adds its offset and noise, or replaces the reading
 * by its stuck value; the noise is drawn in every case, so a fault on one
 * channel never changes the noise of another. */
static uint16_t reading(robotsim *rs, int ch, double value, double noise_sd, double q, double unit)
{
    const robotsim_sensor_fault *f = &rs->an_fault[ch];
    if (f->noise_sd > 0.0) noise_sd = sqrt(noise_sd * noise_sd + f->noise_sd * f->noise_sd);
    double v = value + noise_sd * robotsim_rng_gauss(&rs->rng_sensor);
    if (f->offset != 0.0) v += f->offset;
    if (f->stuck) return to_register(f->stuck_value, unit);
    if (q > 0.0) v = floor(v / q + 0.5) * q;
    return to_register(v, unit);
}

void robotsim_sample(robotsim *rs)
{
    const phys_state *ps = &rs->phys;
    const robotcfg *c = ps->cfg;
    /* cup vacuum: Pa in, 0.1 kPa (100 Pa) registers out */
    for (int i = 0; i < PHYS_CUPS; i++)
        rs->analog[ROBOTSIM_AN_CUP0 + i] =
            reading(rs, ROBOTSIM_AN_CUP0 + i, ps->vac_pa[i] + rs->vac_offset_pa[i],
                    c->vac_noise_pa, c->vac_quant_pa, 100.0);
    for (int d = 0; d < FACADE_DIR_COUNT; d++) {
        int ch = ROBOTSIM_AN_PROX0 + d;
        double m = phys_prox_m(ps, (facade_dir)d, c->prox_max_m);
        int drop = robotsim_rng_uniform(&rs->rng_sensor) < c->prox_dropout;
        uint16_t v = reading(rs, ch, m, c->prox_noise_m, c->prox_quant_m, 1e-3);
        /* a stuck sensor keeps answering its value: no dropout, no "no echo" */
        rs->analog[ch] = rs->an_fault[ch].stuck ? v
                         : (m < 0.0 || drop)    ? ROBOTSIM_NO_VALUE
                                                : v;
    }
    rs->analog[ROBOTSIM_AN_TETHER] =
        reading(rs, ROBOTSIM_AN_TETHER, ps->env.tether_n, c->tether_noise_n, 0.0, 1.0);
    rs->analog[ROBOTSIM_AN_SUPPLY] =
        reading(rs, ROBOTSIM_AN_SUPPLY, ps->env.supply_pa, c->supply_noise_pa, 0.0, 1e3);
    for (int a = 0; a < PHYS_CYL_COUNT; a++)
        rs->analog[ROBOTSIM_AN_POS_X + a] =
            c->position_sensors
                ? reading(rs, ROBOTSIM_AN_POS_X + a, ps->cyl_pos_m[a], c->pos_noise_m, 0.0, 1e-3)
                : ROBOTSIM_NO_VALUE;
    rs->x_bits = (phys_inputs(ps) | rs->x_stuck_on) & ~rs->x_stuck_off;
    rs->samples++;
}

/* ---------------------------------------------------------------- plant */

int robotsim_init(robotsim *rs, const robotcfg *cfg, const facade *fac, const phys_start *start,
                  uint64_t seed, char *err, size_t errlen)
{
    if (!rs) return PHYS_EARG;
    memset(rs, 0, sizeof *rs);
    int rc = phys_init(&rs->phys, cfg, fac, start, err, errlen);
    if (rc) return rc;
    rs->seed = seed;
    robotsim_rng_seed(&rs->rng_env, seed, 1);
    robotsim_rng_seed(&rs->rng_sensor, seed, 2);
    for (int i = 0; i < PHYS_CUPS; i++)
        rs->vac_offset_pa[i] =
            cfg->vac_offset_pa + cfg->vac_offset_spread_pa * robotsim_rng_gauss(&rs->rng_sensor);
    rs->gust_elapsed_s = -1.0;
    rs->wind_steady_m_s = cfg->wind_m_s;
    rs->y_bits = rs->phys.y;
    robotsim_sample(rs);
    return 0;
}

void robotsim_free(robotsim *rs)
{
    if (rs) phys_free(&rs->phys);
}

void robotsim_set_outputs(robotsim *rs, uint16_t y)
{
    rs->y_bits = y;
    phys_set_outputs(&rs->phys, y);
}

void robotsim_output(void *self, const fxmem *mem, uint64_t now_ms)
{
    robotsim *rs = self;
    /* valves switch at now_ms: the physics up to then ran with the old ones */
    robotsim_advance_to_us(rs, now_ms * 1000u);
    uint16_t y = 0;
    for (unsigned n = 0; n < 16; n++)
        if (mem->y[n]) y |= (uint16_t)(1u << n);
    robotsim_set_outputs(rs, y);
}

void robotsim_input(void *self, fxmem *mem, uint64_t now_ms)
{
    robotsim *rs = self;
    robotsim_advance_to_us(rs, now_ms * 1000u);
    robotsim_sample(rs);
    for (unsigned n = 0; n < ROBOTSIM_X_COUNT; n++) mem->x[n] = (uint8_t)((rs->x_bits >> n) & 1u);
}

plcsim_plant robotsim_plant(robotsim *rs)
{
    plcsim_plant p = {.self = rs, .input = robotsim_input, .output = robotsim_output};
    return p;
}
