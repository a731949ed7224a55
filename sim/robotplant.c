/*
 * robotplant.c — the simulated robot as the PLC's plant.  See robotplant.h.
 */
#include "robotplant.h"

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
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

void robotplant_on_input(robotplant *rp, robotplant_input_fn fn, void *ctx)
{
    if (!rp) return;
    rp->on_input = fn;
    rp->on_input_ctx = ctx;
}

int robotplant_set_faults(robotplant *rp, flt_sched *s)
{
    if (!rp || !s || rp->faults) return ROBOTPLANT_EARG;
    rp->flt_seen = calloc(s->n ? s->n : 1, 1);
    if (!rp->flt_seen) return ROBOTPLANT_ENOMEM;
    rp->faults = s;
    /* "an event is due now": the first refresh applies the schedule at the
     * physics' time, which starts the faults that begin there */
    rp->flt_next_ms = rp->rs.phys.t_us / 1000u;
    return 0;
}

/* A "fault" line of the ground-truth log: fault f started (or ended).  json-c
 * allocates, but only at a fault's start or end, never per scan. */
static void truth_fault(robotplant *rp, const flt_fault *f, int started)
{
    char text[256];
    if (!rp->tl || rp->truth_rc) return;
    uint64_t t0 = mono_ns();
    if (flt_format(f, text, sizeof text) < 0) text[0] = '\0';
    uint64_t t_ms = started ? f->start_ms : f->end_ms;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("fault"));
    json_object_object_add(o, "t_us", json_object_new_uint64(t_ms * 1000u));
    json_object_object_add(o, "event", json_object_new_string(started ? "start" : "end"));
    json_object_object_add(o, "kind", json_object_new_string(flt_kind_name(f->kind)));
    json_object_object_add(o, "line", json_object_new_int((int)f->line));
    json_object_object_add(o, "fault", json_object_new_string(text));
    const char *line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    if (!line || fputs(line, rp->truth_fp) < 0 || fputc('\n', rp->truth_fp) == EOF)
        rp->truth_rc = ROBOTPLANT_ETRUTH;
    json_object_put(o);
    rp->truth_ns += mono_ns() - t0;
}

/* After flt_apply at an event: log every fault whose activity changed. */
static void fault_events(robotplant *rp)
{
    flt_sched *s = rp->faults;
    for (size_t i = 0; i < s->n; i++) {
        uint8_t a = s->faults[i].active;
        if (a == rp->flt_seen[i]) continue;
        rp->flt_seen[i] = a;
        if (a) rp->flt_started++;
        else rp->flt_ended++;
        truth_fault(rp, &s->faults[i], a);
    }
}

/*
 * The physics up to t_us, with the fault schedule: flt_advance_to_us up to
 * each fault event on the way (it applies the event at its exact time), the
 * starts and ends logged there, then plain physics for the rest.  Between
 * events the hooks do not change, so the common case is one comparison.
 */
static void advance_to_us(robotplant *rp, uint64_t t_us)
{
    flt_sched *s = rp->faults;
    while (s && rp->flt_next_ms != FLT_FOREVER && rp->flt_next_ms * 1000u <= t_us) {
        (void)flt_advance_to_us(s, &rp->rs, rp->flt_next_ms * 1000u);
        fault_events(rp);
        rp->flt_next_ms = flt_next_event_ms(s, rp->flt_next_ms);
    }
    robotsim_advance_to_us(&rp->rs, t_us);
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
    advance_to_us(rp, now_ms * 1000u);
    robotsim_input(&rp->rs, mem, now_ms); /* the physics is there: sensors only */
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
    if (rp->on_input) rp->on_input(rp->on_input_ctx, rp, now_ms);
}

void robotplant_output(void *self, const fxmem *mem, uint64_t now_ms)
{
    robotplant *rp = self;
    if (!rp || !mem) return;
    uint64_t t0 = mono_ns();
    advance_to_us(rp, now_ms * 1000u); /* with the old valves, through fault events */
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
    free(rp->flt_seen);
    rp->flt_seen = NULL;
    rp->faults = NULL;
    robotsim_free(&rp->rs);
}
