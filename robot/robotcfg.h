/*
 * robotcfg.h — the robot's configuration (SPEC §2: every number is
 * configuration, not code).  Part of robot/, shared by the controller and
 * the simulator.
 *
 * An INI file (sim/robots/default.ini documents every key) read with inih.
 * Keys carry their unit in the file ("stroke_x_mm"); the struct holds SI
 * units (m, s, kg, N, Pa, rad) with the unit in the field name, so the
 * physics never converts.  Anything not in the file keeps its default,
 * which is SPEC §2's default robot.  Unknown sections or keys, duplicate
 * keys, values that are not numbers or are out of range, and inconsistent
 * values (sealed above nominal, ...) are errors naming file and line.
 *
 * Errors: 0 or a negative ROBOTCFG_E* code; robotcfg_strerror() gives the
 * text and the caller's buffer "file:line: what".
 */
#ifndef CROSSCLIMB_ROBOTCFG_H
#define CROSSCLIMB_ROBOTCFG_H

#include <stddef.h>
#include <stdint.h>

#include "facade.h"

enum {
    ROBOTCFG_OK = 0,
    ROBOTCFG_EIO = -1,     /* file cannot be read */
    ROBOTCFG_ESYNTAX = -2, /* not INI, unknown section/key, duplicate key */
    ROBOTCFG_EVALUE = -3,  /* a value not a number, out of range, or inconsistent */
    ROBOTCFG_EARG = -4,    /* bad argument */
};

/** robotcfg_strerror: text for a ROBOTCFG_E* code (never NULL). */
const char *robotcfg_strerror(int code);

/* Groups and feet: cup i = group*6 + foot*3 + k (k = a, b, c), the order of
 * the analog block (A1a A1b A1c A2a A2b A2c B1a ... B2c). */
#define ROBOTCFG_GROUPS 2
#define ROBOTCFG_FEET 2   /* per group */
#define ROBOTCFG_CUPS_PER_FOOT 3
#define ROBOTCFG_CUPS 12

typedef struct robotcfg {
    /* [robot] */
    double mass_dry_kg;      /* robot without water (SPEC: 25 kg with a full 4 kg tank) */
    double body_a_kg;        /* X cylinder body with group A feet (part of mass_dry) */
    double body_b_kg;        /* Y cylinder body with group B feet (part of mass_dry) */
    double tank_kg;          /* water capacity */
    double water_start_kg;   /* water at the start */
    double water_low_kg;     /* X21 "water low" below this */
    double drain_kg_s;       /* water use while the spray pump runs */
    double cg_height_m;      /* centre of mass above the facade (peel lever) */
    /* [cylinders] */
    double stroke_m[2];       /* X, Y cylinder stroke */
    double speed_side_m_s;    /* horizontal travel at nominal supply */
    double speed_up_m_s;      /* moving a group upward (lifting against gravity) */
    double speed_down_m_s;    /* moving a group downward */
    double cushion_m;         /* end cushioning length */
    double cushion_factor;    /* speed fraction inside the cushion */
    double reed_window_m;     /* reed switch closes this near its end */
    double supply_nominal_pa; /* supply at which the speeds above hold */
    double supply_min_pa;     /* below this a cylinder does not move */
    /* [legs] */
    double leg_stroke_m;
    double leg_down_s;        /* full stroke down at nominal supply */
    double leg_up_s;          /* full stroke up */
    double leg_switch_m;      /* up/down switches close this near their end */
    double leg_lift_force_n;  /* per foot: a foot cannot lift off against more vacuum force */
    /* [cups] */
    double cup_diameter_m;
    double cup_tri_radius_m;  /* cup centres on a circle of this radius around the foot */
    double cup_tri_angle_rad; /* direction of cup a from the foot centre (b, c at +120, +240 deg) */
    double foot_m[ROBOTCFG_GROUPS][ROBOTCFG_FEET][2]; /* foot centre from its body centre, x y */
    double contact_min;       /* wall fraction under a cup needed for it to touch (else it hangs) */
    /* [vacuum] */
    double vac_nominal_pa;    /* ejector vacuum at full supply */
    double vac_sealed_pa;     /* "sealed" threshold (vacuum switches, verification) */
    double vac_released_pa;   /* "released" threshold */
    double ejector_tau_s;     /* per-cup fill time constant through its check valve */
    double ejector_droop;     /* manifold drop per unit of cup inflow (dimensionless) */
    double ejector_full_pa;   /* supply needed for the nominal vacuum */
    double blowoff_tau_s;     /* blow-off decay time constant */
    double vac_switch_hyst_pa;/* vacuum switch hysteresis */
    /* [leak]: fraction of a cup's vacuum lost per second, per surface under it */
    double leak_per_s[FACADE_SURF_COUNT];
    double leak_dirt_per_s;   /* extra per dirt level */
    /* [friction] */
    double mu_dry[FACADE_SURF_COUNT]; /* obstacle, void: 0 */
    double mu_wet[FACADE_SURF_COUNT];
    double mu_dirt_factor;    /* mu *= 1 - factor * dirt level */
    double wet_dry_s;         /* the surface stays wet this long after spraying */
    /* [safety] */
    double required_factor;   /* the controller's target (SPEC: 2.0); FALL is below 1 */
    /* [brush] */
    double brush_width_m;     /* diameter of the disc brush on the carriage */
    double brush_reaction_n;  /* pushes the robot off the facade while the brush runs */
    /* [wind] */
    double wind_m_s;          /* steady wind speed */
    double wind_dir_rad;      /* in the facade plane, 0 = +X, pi/2 = +Y */
    double wind_area_m2;
    double wind_cd;
    double wind_shear_frac;   /* share of the drag acting along the facade */
    double wind_pull_frac;    /* share acting normal to it, pulling the robot off */
    double wind_height_m;     /* centre of pressure above the facade */
    double air_density_kg_m3;
    double gust_m_s;          /* gust peak added to the steady wind */
    double gust_rate_per_s;   /* mean gust arrivals */
    double gust_s;            /* gust duration (1 - cos shape) */
    /* [sensors] */
    double vac_noise_pa;      /* transducer noise, standard deviation */
    double vac_quant_pa;      /* transducer resolution (>= 0.1 kPa, the register unit) */
    double vac_offset_pa;     /* offset of every transducer */
    double vac_offset_spread_pa; /* per-transducer calibration spread (std. dev., from the seed) */
    double prox_noise_m;
    double prox_quant_m;
    double prox_max_m;        /* beyond: no echo */
    double prox_dropout;      /* probability of a missing echo per reading */
    double pos_noise_m;
    double edge_lookahead_m;  /* edge sensors look this far beyond the outermost cup rim */
    double tether_nominal_n;
    double tether_noise_n;
    double tether_min_n;      /* X13 "tether OK" within [min, max] */
    double tether_max_n;
    double supply_pa;         /* air supply at the start */
    double supply_noise_pa;
    double supply_ok_pa;      /* X14 "supply OK" at or above */
    /* the two 4-byte fields last, together: the struct has no padding, so
     * two configurations can be compared with memcmp */
    int position_sensors;     /* [sensors] linear position sensors on the cylinders fitted */
    uint32_t step_us;         /* [sim] integration step, 10..1000 us */
} robotcfg;

/** robotcfg_defaults: SPEC §2's default robot (what sim/robots/default.ini says). */
void robotcfg_defaults(robotcfg *cfg);

/**
 * robotcfg_load_buffer: defaults, then the INI text[0..len) over them.
 * name is used in messages.  On error cfg is left as the defaults (never
 * half-loaded) and err holds "name:line: what".  Returns 0 or a
 * ROBOTCFG_E* code.
 */
int robotcfg_load_buffer(const char *name, const char *text, size_t len, robotcfg *cfg, char *err,
                         size_t errlen);

/** robotcfg_load_file: robotcfg_load_buffer on the file's contents (<= 1 MiB). */
int robotcfg_load_file(const char *path, robotcfg *cfg, char *err, size_t errlen);

/** robotcfg_cup_area_m2: area of one cup, pi d^2 / 4. */
double robotcfg_cup_area_m2(const robotcfg *cfg);

/** robotcfg_mass_kg: total mass with water_kg of water. */
double robotcfg_mass_kg(const robotcfg *cfg, double water_kg);

#endif
