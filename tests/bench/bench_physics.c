/*
 * bench_physics.c — what the robot simulator costs, without the PLC or the
 * link: the physics alone at 1 ms steps, and the plant adapter (physics +
 * sensor models) driven like the simulated PLC drives it (10 ms scans).
 *
 * The robot walks a scripted gait on the default facade (release, lift,
 * stroke with brush and spray, lower, seal; four half steps that bring it
 * back where it started), so cylinders, legs, vacuum, cleaning and the
 * holding check all run.  Prints, per run: simulated seconds, CPU time,
 * ns of CPU per simulated second, simulated seconds per wall second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "plc_bridge/regmap.h"
#include "robot/facade.h"
#include "sim/fxmem.h"
#include "sim/physics.h"
#include "robot/robotcfg.h"
#include "sim/robotsim.h"

#define SIM_S 600 /* simulated seconds per run */

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One half step of 5.8 s moving group g while h holds; cyl_cmd is the
 * cylinder valve for the stroke. */
static uint16_t half_step(int g, uint32_t ms, uint16_t cyl_cmd)
{
    uint16_t down_g = g ? CC_Y_B_DOWN : CC_Y_A_DOWN, down_h = g ? CC_Y_A_DOWN : CC_Y_B_DOWN;
    uint16_t vac_g = g ? CC_Y_B_VAC : CC_Y_A_VAC, vac_h = g ? CC_Y_A_VAC : CC_Y_B_VAC;
    uint16_t blow_g = g ? CC_Y_B_BLOW : CC_Y_A_BLOW;
    uint16_t y = down_h | vac_h;
    if (ms < 800) return y | down_g | blow_g;                               /* release */
    if (ms < 1300) return y;                                                /* legs up */
    if (ms < 3800) return y | cyl_cmd | CC_Y_BRUSH | CC_Y_SPRAY;            /* stroke */
    if (ms < 4300) return y | down_g;                                       /* legs down */
    return y | down_g | vac_g;                                              /* seal */
}

/* +x then back: (A holds, X+ moves B) (B holds, X- moves A)
 *               (B holds, X+ moves A back) (A holds, X- moves B back) */
static uint16_t gait(uint64_t t_ms)
{
    uint32_t cycle = (uint32_t)(t_ms % 23200u), k = cycle / 5800u, ms = cycle % 5800u;
    static const int moving[4] = {1, 0, 0, 1};
    static const uint16_t cmd[4] = {CC_Y_X_PLUS, CC_Y_X_MINUS, CC_Y_X_PLUS, CC_Y_X_MINUS};
    return half_step(moving[k], ms, cmd[k]);
}

static void report(const char *label, double sim_s, double cpu_s, double wall_s)
{
    printf("%-44s %6.0f s simulated  %7.3f s CPU  %9.0f ns CPU per simulated s  %8.0fx real time\n",
           label, sim_s, cpu_s, cpu_s / sim_s * 1e9, sim_s / wall_s);
}

int main(void)
{
    const char *src = getenv("CROSSCLIMB_SRC");
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/sim/facades/default.txt", src && *src ? src : ".");
    facade *f = NULL;
    if (facade_load_file(path, &f, err, sizeof err) != 0) {
        fprintf(stderr, "bench_physics: %s\n", err);
        return 1;
    }
    robotcfg cfg;
    robotcfg_defaults(&cfg);
    phys_start st;
    phys_start_default(&st, &cfg, f);
    st.cyl_mm[0] = 0.0; /* the gait starts at the X cylinder's - end */

    /* 1. physics alone, 1 ms steps */
    phys_state ps;
    if (phys_init(&ps, &cfg, f, &st, err, sizeof err) != 0) {
        fprintf(stderr, "bench_physics: %s\n", err);
        return 1;
    }
    double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
    for (uint64_t t = 0; t < SIM_S * 1000u; t++) {
        phys_set_outputs(&ps, gait(t));
        phys_step(&ps, 1000);
    }
    double c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w1 = clock_s(CLOCK_MONOTONIC);
    report("physics alone (1 ms steps, walking)", SIM_S, c1 - c0, w1 - w0);
    printf("  walked: X travel %.1f m, %zu cells cleaned, min safety factor %.2f, %s\n",
           ps.cyl_travel_m[0], ps.cleaned_n, ps.sf_min, ps.fallen ? ps.fall_reason : "no fall");
    int fell = ps.fallen;
    phys_free(&ps);

    /* 2. the same with the robot standing still (both groups holding) */
    if (phys_init(&ps, &cfg, f, &st, err, sizeof err) != 0) return 1;
    phys_set_outputs(&ps, CC_Y_A_DOWN | CC_Y_B_DOWN | CC_Y_A_VAC | CC_Y_B_VAC);
    c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    w0 = clock_s(CLOCK_MONOTONIC);
    for (uint64_t t = 0; t < SIM_S * 1000u; t++) phys_step(&ps, 1000);
    c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    w1 = clock_s(CLOCK_MONOTONIC);
    report("physics alone (1 ms steps, holding)", SIM_S, c1 - c0, w1 - w0);
    phys_free(&ps);

    /* 3. the plant adapter as the PLC drives it: input + output every 10 ms scan */
    robotsim *rs = malloc(sizeof *rs);
    fxmem *mem = calloc(1, sizeof *mem);
    if (!rs || !mem || robotsim_init(rs, &cfg, f, &st, 1, err, sizeof err) != 0) {
        fprintf(stderr, "bench_physics: robotsim: %s\n", err);
        return 1;
    }
    c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    w0 = clock_s(CLOCK_MONOTONIC);
    for (uint64_t t = 0; t < SIM_S * 1000u; t += 10) {
        robotsim_input(rs, mem, t);
        uint16_t y = gait(t);
        for (unsigned b = 0; b < 16; b++) mem->y[b] = (uint8_t)((y >> b) & 1u);
        robotsim_output(rs, mem, t);
    }
    c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    w1 = clock_s(CLOCK_MONOTONIC);
    report("robotsim plant (physics + sensors, 10 ms scans)", SIM_S, c1 - c0, w1 - w0);
    printf("  %llu sensor readings; %s\n", (unsigned long long)rs->samples,
           rs->phys.fallen ? rs->phys.fall_reason : "no fall");
    fell |= rs->phys.fallen;
    robotsim_free(rs);
    free(rs);
    free(mem);
    facade_free(f);
    if (fell) printf("  note: the scripted gait fell; the figures after the fall are cheaper\n");
    return 0;
}
