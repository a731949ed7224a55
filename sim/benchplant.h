/*
 * benchplant.h — the robot on a test bench: a small, deterministic plant for
 * the simulated PLC (a plcsim_plant), used by `crossclimb sim plc` when no
 * robot simulator is attached, so the PLC program can be exercised over
 * Modbus with inputs that answer its outputs.
 *
 * The model (every number in benchplant_config):
 *  - safety inputs healthy: X12 E-stop (normally closed) = 1, X13 tether OK
 *    = 1, X14 supply OK = 1, X22 enable key = 1; edge sensors X15-X20 and
 *    water low X21 off; spares off.
 *  - legs: valve Y4 (group A) / Y5 (group B) on = legs down.  Each group's
 *    lift runs 0 (down) .. leg_travel_ms (up) at 1 ms per ms towards the
 *    valve: down switch X5/X7 on only at 0, up switch X4/X6 on only at the
 *    top, both off on the way.  Both groups start down.
 *  - vacuum, per group, only while that group's legs are down (legs not
 *    down = 0 kPa, nothing to seal on): blow-off Y10/Y11 -> 0 at once;
 *    vacuum Y6/Y7 on -> first-order rise towards vac_target_kpa, reaching
 *    vac_sealed_kpa vac_seal_ms after starting from 0; off -> first-order
 *    fall to 0 with the same time constant.  The six cups of a group read
 *    the group's value; the vacuum switch X10/X11 is on at >= vac_sealed_kpa.
 *    Cups start at 0 kPa: the switches come on only after the program turns
 *    the vacuums on.
 *  - cylinders: Y0/Y1 move the X cylinder +/-, Y2/Y3 the Y cylinder, at
 *    cyl_speed_mm_s between 0 and cyl_stroke_mm (both valves or none: stop);
 *    end switches X0 (-end) / X1 (+end), X2 / X3.
 *  - analog blocks (written with fxil_block_write, read by the program with
 *    FROM): unit 0 BFM#0-11 cup vacuum in 0.1 kPa (A1a..A2c, B1a..B2c);
 *    unit 1 BFM#0-3 proximity 0xFFFF (no echo), #4 tether N, #5 supply kPa,
 *    #6/#7 X/Y cylinder position mm.
 *  - input forcing, a sim-only test facility like GX Developer's forced
 *    ON/OFF: D7900 = mask X0-X17, D7901 = forced values X0-X17, D7902 = mask
 *    X20-X37, D7903 = values X20-X37 (bit n = X octal n, as in D101/D102).
 *    Where a mask bit is 1 the input takes the forced value instead of the
 *    model's, so a test presses the E-stop by forcing X12 = 0 over Modbus.
 *
 * Time: each input refresh first integrates the model over the virtual time
 * since the previous one with the outputs of the last output refresh (legs
 * first, then vacuum on the new leg state, then cylinders), then writes X and
 * the blocks.  No allocation, no clock of its own: runs are deterministic.
 *
 * Errors: 0 or a negative BENCHPLANT_E* code; benchplant_strerror() gives
 * the text.
 */
#ifndef CROSSCLIMB_BENCHPLANT_H
#define CROSSCLIMB_BENCHPLANT_H

#include <stdint.h>

#include "fxil.h"
#include "fxmem.h"
#include "plcsim.h"

enum {
    BENCHPLANT_OK = 0,
    BENCHPLANT_EARG = -1, /* null pointer or a configuration value out of range */
};

/* Input forcing registers (sim-only). */
#define BENCHPLANT_D_FORCE_MASK_LO 7900u /* mask X0-X17 */
#define BENCHPLANT_D_FORCE_VAL_LO 7901u  /* forced values X0-X17 */
#define BENCHPLANT_D_FORCE_MASK_HI 7902u /* mask X20-X37 */
#define BENCHPLANT_D_FORCE_VAL_HI 7903u  /* forced values X20-X37 */

/* Analog blocks as the program reads them (docs/plc/README.md §2). */
#define BENCHPLANT_UNIT_CUPS 0u   /* BFM#0-11 cup vacuum, 0.1 kPa */
#define BENCHPLANT_UNIT_MISC 1u   /* BFM#0-3 proximity, #4 tether, #5 supply, #6-7 positions */
#define BENCHPLANT_BFM_TETHER 4u
#define BENCHPLANT_BFM_SUPPLY 5u
#define BENCHPLANT_BFM_POS_X 6u
#define BENCHPLANT_BFM_POS_Y 7u

typedef struct {
    uint32_t leg_travel_ms; /* leg stroke time, down <-> up, 1..60000 ms (default 400) */
    double vac_target_kpa;  /* vacuum the pump reaches, kPa below atmosphere (60) */
    double vac_sealed_kpa;  /* vacuum switch threshold, 0 < sealed < target (45) */
    double vac_seal_ms;     /* time from 0 kPa to sealed with the vacuum on, > 0 (1000) */
    double cyl_speed_mm_s;  /* cylinder speed, > 0 (150) */
    double cyl_stroke_mm;   /* cylinder stroke, > 0 (300) */
    double cyl_start_mm[2]; /* X, Y cylinder start positions, 0..stroke (150, 150) */
    uint16_t tether_n;      /* tether tension, N (150) */
    uint16_t supply_kpa;    /* supply pressure, kPa (600) */
} benchplant_config;

typedef struct benchplant {
    benchplant_config cfg;
    fxil_program *prog;    /* whose blocks carry the analog values; not owned */
    double tau_ms;         /* vacuum time constant derived from cfg, ms */
    int started;           /* 0 until the first input refresh */
    uint64_t last_ms;      /* virtual time of the last input refresh, ms */
    uint16_t y;            /* Y0-Y17 at the last output refresh */
    double lift_ms[2];     /* group A, B: 0 = down .. leg_travel_ms = up */
    double vac_kpa[2];     /* group A, B vacuum, kPa below atmosphere */
    double cyl_mm[2];      /* X, Y cylinder position, mm */
    uint32_t x_model;      /* X0-X37 from the model, before forcing (bit n = X octal n) */
} benchplant;

/** benchplant_strerror: text for a BENCHPLANT_E* code (never NULL). */
const char *benchplant_strerror(int code);

/** benchplant_config_default: the defaults given in benchplant_config. */
void benchplant_config_default(benchplant_config *cfg);

/**
 * benchplant_init: the bench at rest (legs down, cups at 0 kPa, cylinders at
 * their start positions) writing its analog values into prog's blocks.
 * Returns 0 or BENCHPLANT_EARG (null, or a configuration value out of range).
 */
int benchplant_init(benchplant *bp, const benchplant_config *cfg, fxil_program *prog);

/**
 * benchplant_input: plcsim input refresh: integrate up to now_ms (virtual,
 * ms; never backwards), then write X0-X37 (with forcing) into mem->x and the
 * analog values into the blocks.  self is the benchplant.
 */
void benchplant_input(void *self, fxmem *mem, uint64_t now_ms);

/**
 * benchplant_output: plcsim output refresh: remember Y0-Y17, which drive the
 * model until the next output refresh.  self is the benchplant.
 */
void benchplant_output(void *self, const fxmem *mem, uint64_t now_ms);

/** benchplant_plant: bp as a plcsim plant. */
plcsim_plant benchplant_plant(benchplant *bp);

#endif
