/*
 * fuzz_faults.c — the fault scenario loader (sim/faults.h).  Every input
 * must give 0 or an error with a "name:line:col: " message and nothing
 * returned; a loaded scenario must hold only valid faults in time order,
 * print (flt_format) to text that loads back to the same faults, and apply
 * to a robot and reset it to exactly its baseline hooks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robot/facade.h"
#include "robot/robotcfg.h"
#include "sim/faults.h"
#include "sim/robotsim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One robot for every input (its physics never runs here: only the hooks
 * are exercised), and a pristine copy of its hooks. */
static robotsim *robot(void)
{
    static robotcfg cfg;
    static facade *fac;
    static robotsim *rs;
    if (rs) return rs;
    static const char text[] = "facade f\ncell_mm 500\nsize 4 4\nlegend . glass\ngrid\n"
                               "....\n....\n....\n....\n";
    char err[256];
    robotcfg_defaults(&cfg);
    if (facade_load_buffer("f", text, sizeof text - 1, &fac, err, sizeof err) != 0) abort();
    rs = calloc(1, sizeof *rs);
    if (!rs || robotsim_init(rs, &cfg, fac, NULL, 1, err, sizeof err) != 0) abort();
    return rs;
}

static void check_same(const flt_sched *a, const flt_sched *b)
{
    if (a->n != b->n) abort();
    for (size_t i = 0; i < a->n; i++) {
        const flt_fault *x = &a->faults[i], *y = &b->faults[i];
        if (x->kind != y->kind || x->start_ms != y->start_ms || x->end_ms != y->end_ms ||
            x->target != y->target || x->state != y->state || x->value != y->value)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy without a terminating NUL: the loader must respect size */
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    if (size) memcpy(text, data, size);

    flt_sched *s = (flt_sched *)(uintptr_t)1;
    char err[512];
    err[0] = '\0';
    int rc = flt_load_buffer("fuzz.txt", text, size, &s, err, sizeof err);
    free(text);
    if (rc != 0) {
        if (s != NULL || strncmp(err, "fuzz.txt:", 9) != 0) abort();
        return 0;
    }
    if (!s || s->n > FLT_MAX_FAULTS) abort();

    /* valid faults, in time order; printed and loaded back: the same */
    size_t cap = s->n * 160 + 1, o = 0;
    char *out = malloc(cap);
    if (!out) abort();
    for (size_t i = 0; i < s->n; i++) {
        const flt_fault *f = &s->faults[i];
        if ((unsigned)f->kind >= FLT_KIND_COUNT || f->end_ms <= f->start_ms || f->active) abort();
        if (i && f->start_ms < s->faults[i - 1].start_ms) abort();
        int n = flt_format(f, out + o, cap - o);
        if (n <= 0 || (size_t)n >= 159) abort();
        o += (size_t)n;
        out[o++] = '\n';
    }
    flt_sched *t = NULL;
    if (flt_load_buffer("again", out, o, &t, err, sizeof err) != 0) abort();
    check_same(s, t);
    flt_free(t);
    free(out);

    /* apply at the first event times, then reset: the hooks are the baseline again */
    robotsim *rs = robot();
    phys_env env0 = rs->phys.env;
    robotsim_sensor_fault an0[ROBOTSIM_ANALOG_N];
    memcpy(an0, rs->an_fault, sizeof an0);
    uint32_t xon = rs->x_stuck_on, xoff = rs->x_stuck_off;
    uint64_t now = 0;
    for (int k = 0; k < 64 && now != FLT_FOREVER; k++) {
        if (flt_apply(s, rs, now) < 0) abort();
        (void)flt_link_silent(s, now);
        uint64_t next = flt_next_event_ms(s, now);
        if (next != FLT_FOREVER && next <= now) abort();
        now = next;
    }
    flt_reset(s, rs);
    if (memcmp(&env0, &rs->phys.env, sizeof env0) != 0 ||
        memcmp(an0, rs->an_fault, sizeof an0) != 0 || xon != rs->x_stuck_on ||
        xoff != rs->x_stuck_off || rs->fault_gust_len_us != 0)
        abort();
    flt_free(s);
    return 0;
}
