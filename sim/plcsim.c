/*
 * plcsim.c — the simulated FX PLC and its virtual time.  See plcsim.h.
 */
#include "plcsim.h"

#include <errno.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#define NS_PER_MS 1000000LL

const char *plcsim_strerror(int code)
{
    switch (code) {
    case PLCSIM_OK: return "ok";
    case PLCSIM_EARG: return "bad argument";
    case PLCSIM_ESTATE: return "PLC not started (or started twice)";
    case PLCSIM_ELOGIC: return "PLC program error: PLC in STOP";
    case PLCSIM_EIO: return "server loop failed";
    default: return "unknown error";
    }
}

void plcsim_config_default(plcsim_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->scan_ms = PLCSIM_SCAN_MS_DEFAULT;
    cfg->idle = PLCSIM_IDLE_REALTIME;
}

int plcsim_init(plcsim *ps, const plcsim_config *cfg, plcsim_logic logic,
                const plcsim_plant *plant)
{
    if (!ps || !cfg || !logic.scan) return PLCSIM_EARG;
    if (cfg->scan_ms < 1 || cfg->scan_ms > PLCSIM_SCAN_MS_MAX) return PLCSIM_EARG;
    if (cfg->idle != PLCSIM_IDLE_REALTIME && cfg->idle != PLCSIM_IDLE_FROZEN) return PLCSIM_EARG;
    memset(ps, 0, sizeof *ps);
    fxmem_clear(&ps->mem);
    ps->cfg = *cfg;
    ps->logic = logic;
    if (plant) ps->plant = *plant;
    return 0;
}

int64_t plcsim_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* STOP after a program error: outputs off (an FX in STOP drops its outputs),
 * M8000 off; the data registers keep their values. */
static void go_stop(plcsim *ps, int rc, uint64_t t)
{
    fxmem *m = &ps->mem;
    ps->running = 0;
    ps->logic_rc = rc;
    memset(m->y, 0, sizeof m->y);
    m->m[8000] = 0;
    m->m[8001] = 1;
    if (ps->plant.output) ps->plant.output(ps->plant.self, m, t);
}

/* One scan at virtual time t (ms): input refresh, specials, logic, output refresh. */
static int scan_once(plcsim *ps, uint64_t t)
{
    fxmem *m = &ps->mem;
    int first = ps->scans == 0;
    /* Scan time in 0.1 ms, the unit of D8010-D8012; constant scan, so the
     * virtual scan time itself. */
    uint32_t st32 = ps->cfg.scan_ms * 10u;
    uint16_t st = (uint16_t)(st32 > 0xFFFFu ? 0xFFFFu : st32);

    if (ps->plant.input) ps->plant.input(ps->plant.self, m, t);
    m->m[8000] = 1; /* RUN monitor, normally open */
    m->m[8001] = 0; /* RUN monitor, normally closed */
    m->m[8002] = (uint8_t)first; /* initial pulse: first scan only */
    m->m[8003] = (uint8_t)!first;
    /* Clocks from virtual time: on for the first half of each period. */
    m->m[8011] = (uint8_t)(t % 10u < 5u);
    m->m[8012] = (uint8_t)(t % 100u < 50u);
    m->m[8013] = (uint8_t)(t % 1000u < 500u);
    m->m[8039] = 1; /* constant scan mode */
    m->d[8039] = (uint16_t)ps->cfg.scan_ms;
    m->d[8010] = st;
    if (first || st < m->d[8011]) m->d[8011] = st;
    if (first || st > m->d[8012]) m->d[8012] = st;

    int rc = ps->logic.scan(ps->logic.self, m, ps->cfg.scan_ms);
    if (rc < 0) {
        go_stop(ps, rc, t);
        return PLCSIM_ELOGIC;
    }
    if (ps->plant.output) ps->plant.output(ps->plant.self, m, t);
    m->m[8002] = 0;
    m->m[8003] = 1;
    ps->scans++;
    return 0;
}

int plcsim_start(plcsim *ps, int64_t real_now_ns)
{
    if (!ps || !ps->logic.scan) return PLCSIM_EARG;
    if (ps->started) return PLCSIM_ESTATE;
    ps->started = 1;
    ps->running = 1;
    ps->now_ms = 0;
    ps->next_scan_ms = 0;
    ps->anchor_real_ns = real_now_ns;
    ps->anchor_virt_ms = 0;
    return plcsim_advance(ps, 0); /* the first scan, at t = 0 */
}

int plcsim_advance(plcsim *ps, uint64_t dt_ms)
{
    int rc = 0;
    if (!ps || !ps->started) return PLCSIM_ESTATE;
    uint64_t target = ps->now_ms + dt_ms;
    while (ps->next_scan_ms <= target) {
        if (!ps->running) {
            /* STOP: no scans; jump the scan grid past target at once. */
            uint64_t n = (target - ps->next_scan_ms) / ps->cfg.scan_ms + 1;
            ps->next_scan_ms += n * ps->cfg.scan_ms;
            break;
        }
        if (scan_once(ps, ps->next_scan_ms) != 0) rc = PLCSIM_ELOGIC;
        ps->next_scan_ms += ps->cfg.scan_ms;
    }
    ps->now_ms = target;
    return rc;
}

/* 1 when virtual time runs by itself between exchanges. */
static int idle_runs(const plcsim *ps)
{
    return ps->cfg.realtime || ps->cfg.idle == PLCSIM_IDLE_REALTIME;
}

int plcsim_catch_up(plcsim *ps, int64_t real_now_ns)
{
    if (!ps || !ps->started) return PLCSIM_ESTATE;
    if (!idle_runs(ps) || real_now_ns <= ps->anchor_real_ns) return 0;
    uint64_t target =
        ps->anchor_virt_ms + (uint64_t)((real_now_ns - ps->anchor_real_ns) / NS_PER_MS);
    if (target <= ps->now_ms) return 0;
    return plcsim_advance(ps, target - ps->now_ms);
}

uint32_t plcsim_period_ms(const plcsim *ps)
{
    uint32_t p = ps->mem.d[CC_CMD_FIRST + CC_CMD_PERIOD];
    if (p == 0) return PLCSIM_PERIOD_DEFAULT_MS;
    return p > PLCSIM_PERIOD_MAX_MS ? PLCSIM_PERIOD_MAX_MS : p;
}

int plcsim_on_request(plcsim *ps, const mbs_request_info *info, int64_t real_now_ns)
{
    if (!ps || !info) return PLCSIM_EARG;
    if (!ps->started) return PLCSIM_ESTATE;
    if (ps->cfg.realtime) return 0;
    if (!mbs_info_touches(info, MB_TABLE_HOLDING, CC_CMD_FIRST, CC_CMD_COUNT)) return 0;
    uint32_t p = plcsim_period_ms(ps);
    int rc = plcsim_advance(ps, p);
    ps->advanced_ms += p;
    /* This exchange covers the next p ms of real time: idle time resumes
     * only when they have passed without another command write. */
    ps->anchor_virt_ms = ps->now_ms;
    ps->anchor_real_ns = real_now_ns + (int64_t)p * NS_PER_MS;
    return rc;
}

int64_t plcsim_wait_ns(const plcsim *ps, int64_t real_now_ns)
{
    if (!ps || !ps->started || !idle_runs(ps)) return -1;
    /* next_scan_ms > now_ms >= anchor_virt_ms: the next scan is due when the
     * idle clock reaches it. */
    int64_t due = ps->anchor_real_ns + (int64_t)(ps->next_scan_ms - ps->anchor_virt_ms) * NS_PER_MS;
    return due > real_now_ns ? due - real_now_ns : 0;
}

static void hook_before(void *owner)
{
    (void)plcsim_catch_up(owner, plcsim_mono_ns());
}

static void hook_after(void *owner, const mbs_request_info *info)
{
    (void)plcsim_on_request(owner, info, plcsim_mono_ns());
}

mbs_hooks plcsim_hooks(plcsim *ps)
{
    mbs_hooks h = {.owner = ps, .before = hook_before, .after = hook_after};
    return h;
}

int plcsim_serve_channels(plcsim *ps, mbs_server *srv, const plcsim_channel *chan, size_t n,
                          volatile sig_atomic_t *stop, const sigset_t *waitmask)
{
    if (!ps || !srv || !stop || (n && !chan)) return PLCSIM_EARG;
    if (!ps->started) return PLCSIM_ESTATE;
    while (!*stop) {
        fd_set rd;
        int maxfd = -1;
        struct timespec ts, *tp = NULL;
        int64_t now = plcsim_mono_ns();
        /* A logic error leaves the PLC in STOP; serving goes on. */
        (void)plcsim_catch_up(ps, now);
        FD_ZERO(&rd);
        mbs_server_prepare(srv, &rd, &maxfd);
        for (size_t i = 0; i < n; i++) chan[i].prepare(chan[i].self, &rd, &maxfd);
        int64_t w = plcsim_wait_ns(ps, now);
        if (w >= 0) {
            ts.tv_sec = (time_t)(w / 1000000000LL);
            ts.tv_nsec = (long)(w % 1000000000LL);
            tp = &ts;
        }
        int rc = pselect(maxfd + 1, &rd, NULL, NULL, tp, waitmask);
        if (rc < 0) {
            if (errno == EINTR) continue;
            return PLCSIM_EIO;
        }
        if (rc == 0) continue;
        if (mbs_server_dispatch(srv, &rd) != 0) return PLCSIM_EIO;
        if (n) {
            /* a channel reads the plant: bring it up to the idle clock as a
             * Modbus request would (the before hook) */
            (void)plcsim_catch_up(ps, plcsim_mono_ns());
            for (size_t i = 0; i < n; i++)
                if (chan[i].dispatch(chan[i].self, &rd) != 0) return PLCSIM_EIO;
        }
    }
    return 0;
}

int plcsim_serve(plcsim *ps, mbs_server *srv, volatile sig_atomic_t *stop,
                 const sigset_t *waitmask)
{
    return plcsim_serve_channels(ps, srv, NULL, 0, stop, waitmask);
}
