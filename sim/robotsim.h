/*
 * robotsim.h — the robot as the simulated PLC's plant: physics + sensors.
 *
 * The adapter has the two plcsim_plant callbacks:
 *   output(): the Y image (mem->y[0..15]; Y10 octal is y[8]) drives the valves;
 *   input():  the physics runs up to now_ms in steps of cfg->step_us (<= 1 ms),
 *             then the sensors are read: the discrete ones into mem->x[0..18]
 *             (X0..X22 octal) and the analog ones into robotsim.analog[] (the
 *             caller copies them into the special-function blocks the PLC
 *             program reads with FROM; they never go into D registers here).
 *
 * Sensor models (docs/simulator.md "Sensors"): noise, quantisation and a
 * per-transducer offset on the cup vacuum; noise, quantisation and dropouts
 * on proximity; noise on tether tension, supply and position.  Noise and
 * gusts come from two xoshiro256** streams seeded from one 64-bit seed
 * (splitmix64), so a run is deterministic for a seed: same seed, same
 * outputs -> same state and readings, bit for bit.  No rand(), no clock.
 *
 * Errors: 0 or a negative PHYS_E* code from phys_init.
 */
#ifndef CROSSCLIMB_ROBOTSIM_H
#define CROSSCLIMB_ROBOTSIM_H

#include <stddef.h>
#include <stdint.h>

#include "../robot/facade.h"
#include "fxmem.h"
#include "physics.h"
#include "plcsim.h"
#include "../robot/robotcfg.h"

/* The analog block layout (fixed; the PLC program reads it with FROM). */
enum {
    ROBOTSIM_AN_CUP0 = 0,    /* [0..11] cup vacuum A1a..B2c, 0.1 kPa below atmosphere */
    ROBOTSIM_AN_PROX0 = 12,  /* [12..15] proximity +X -X +Y -Y, mm; 0xFFFF = no echo */
    ROBOTSIM_AN_TETHER = 16, /* tether tension, N */
    ROBOTSIM_AN_SUPPLY = 17, /* supply pressure, kPa */
    ROBOTSIM_AN_POS_X = 18,  /* X cylinder position, mm; 0xFFFF = no sensor fitted */
    ROBOTSIM_AN_POS_Y = 19,  /* Y cylinder position, mm; 0xFFFF = no sensor fitted */
    ROBOTSIM_ANALOG_N = 20
};

#define ROBOTSIM_NO_VALUE 0xFFFFu
#define ROBOTSIM_X_COUNT 19 /* X0..X22 octal: the inputs the robot drives */

/* xoshiro256** state (seeded through splitmix64). */
typedef struct {
    uint64_t s[4];
} robotsim_rng;

/** robotsim_rng_seed: seed a stream; stream selects an independent one. */
void robotsim_rng_seed(robotsim_rng *r, uint64_t seed, uint64_t stream);

/** robotsim_rng_next: 64 random bits (xoshiro256**). */
uint64_t robotsim_rng_next(robotsim_rng *r);

/** robotsim_rng_uniform: uniform in [0, 1), 53 bits. */
double robotsim_rng_uniform(robotsim_rng *r);

/** robotsim_rng_gauss: approximately standard normal (sum of 12 uniforms
 *  minus 6: no libm, identical on every platform; |value| <= 6). */
double robotsim_rng_gauss(robotsim_rng *r);

/* A fault on one analog channel (sim/faults.h sets these; all zero = a
 * healthy sensor).  Values in the channel's SI unit: Pa for the cup
 * transducers and the supply, m for proximity and position, N for the
 * tether. */
typedef struct {
    int stuck;           /* 1: reads stuck_value whatever the truth (no noise, no dropout) */
    double stuck_value;  /* the value it is stuck at */
    double offset;       /* added to the truth (on top of the calibration offset) */
    double noise_sd;     /* extra noise, standard deviation (adds in quadrature) */
} robotsim_sensor_fault;

typedef struct robotsim {
    phys_state phys;                     /* the physics (its env is the world) */
    uint64_t seed;
    robotsim_rng rng_env;                /* gusts */
    robotsim_rng rng_sensor;             /* sensor noise, dropouts */
    uint16_t analog[ROBOTSIM_ANALOG_N];  /* the analog values, layout above */
    uint32_t x_bits;                     /* the inputs last written (bit n = X octal n) */
    uint16_t y_bits;                     /* the outputs last read (bit n = Y octal n) */
    double vac_offset_pa[PHYS_CUPS];     /* each transducer's offset (config + spread) */
    double wind_steady_m_s;              /* steady wind (cfg; a scenario may change it); the
                                            physics sees it plus the gust every step */
    double gust_elapsed_s;               /* time into the current gust; < 0: none */
    double gust_peak_m_s;                /* its peak */
    uint64_t samples;                    /* sensor readings taken */
    /* fault hooks (sim/faults.h); zero = healthy */
    robotsim_sensor_fault an_fault[ROBOTSIM_ANALOG_N]; /* per analog channel */
    uint32_t x_stuck_on;                 /* inputs (bit n = X octal n) reading 1 whatever the truth */
    uint32_t x_stuck_off;                /* inputs reading 0 (a dead switch); wins over x_stuck_on */
    double fault_gust_peak_m_s;          /* an injected gust: 1 - cos bump of this peak, added */
    uint64_t fault_gust_start_us;        /*   to the wind from start for len; len 0 = none */
    uint64_t fault_gust_len_us;
} robotsim;

/**
 * robotsim_init: the robot placed on fac (start NULL = phys_start_default)
 * with sensors seeded from seed; cfg and fac must outlive it.  Takes a
 * first sensor reading so analog[] and x_bits are valid at once.  Returns 0
 * or a PHYS_E* code with a message in err.
 */
int robotsim_init(robotsim *rs, const robotcfg *cfg, const facade *fac, const phys_start *start,
                  uint64_t seed, char *err, size_t errlen);

/** robotsim_free: release what robotsim_init allocated. */
void robotsim_free(robotsim *rs);

/** robotsim_plant: the adapter for plcsim_init (self = rs). */
plcsim_plant robotsim_plant(robotsim *rs);

/** robotsim_output: plcsim output refresh: mem->y[0..15] -> valves (self = robotsim). */
void robotsim_output(void *self, const fxmem *mem, uint64_t now_ms);

/** robotsim_input: plcsim input refresh: physics to now_ms, then sensors -> mem->x, analog[]. */
void robotsim_input(void *self, fxmem *mem, uint64_t now_ms);

/** robotsim_set_outputs: the valve image as CC_Y_* bits (for tests and tools). */
void robotsim_set_outputs(robotsim *rs, uint16_t y);

/** robotsim_advance_to_us: run the physics (and gusts) up to t_us, steps <= cfg->step_us. */
void robotsim_advance_to_us(robotsim *rs, uint64_t t_us);

/** robotsim_sample: read every sensor now into analog[] and x_bits. */
void robotsim_sample(robotsim *rs);

#endif
