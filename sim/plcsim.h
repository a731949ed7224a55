/*
 * plcsim.h — the simulated FX PLC: device memory, scan cycle, virtual time.
 *
 * A scan is  input refresh (plant -> X)  ->  logic  ->  output refresh
 * (Y -> plant), run every scan_ms of *virtual* time (ms).  The PLC's own
 * special devices are kept like an FX does: M8000 on in RUN, M8002 on during
 * the first scan only (M8003 the opposite), M8011/M8012/M8013 10 ms / 100 ms
 * / 1 s clocks, D8010/D8011/D8012 current/min/max scan time in 0.1 ms, and
 * constant scan mode M8039 with D8039 = scan_ms.
 *
 * Time (SPEC §8):
 *  - each request that writes into the command block D200..D207 (FC 06, 10,
 *    16, 17) advances virtual time by the period hint D204 (ms; 0 -> 10,
 *    clamped to 1..1000), running the scans that fall due.  The answer to
 *    that request is built first, from memory as it is: it shows the scans of
 *    the previous exchanges plus this request's write.
 *  - between exchanges, virtual time runs at real-time pace (idle realtime,
 *    default) or stands still (idle frozen, for tests).  A request "covers"
 *    the next D204 ms of real time: idle time only starts counting when that
 *    much real time has passed without another command write, so a
 *    controller cycling in real time gets real time, not twice it.
 *  - realtime mode: virtual time is real time since the start; requests do
 *    not advance it.
 *
 * The logic is pluggable: `crossclimb sim plc` runs the PLC program, an
 * FX1N instruction list, with sim/fxil.c (plcsim_logic {prog, fxil_scan}) —
 * there is no PLC logic in C (SPEC §5).  The interpreter keeps the same
 * special devices itself from its own clock, which counts each scan's
 * scan_ms: after the scan that starts at virtual time t it reads t + scan_ms
 * (so the program's 10 ms tick D104 is next_scan_ms / 10).  The plant is
 * pluggable too: sim/benchplant.c (the robot on a test bench) or the robot
 * simulator.
 *
 * Errors: 0 or a negative PLCSIM_E* code; plcsim_strerror() gives the text.
 */
#ifndef CROSSCLIMB_PLCSIM_H
#define CROSSCLIMB_PLCSIM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/select.h>

#include "fxmem.h"
#include "mbserver.h"

enum {
    PLCSIM_OK = 0,
    PLCSIM_EARG = -1,   /* bad configuration or argument */
    PLCSIM_ESTATE = -2, /* not started, or started twice */
    PLCSIM_ELOGIC = -3, /* the logic's scan failed: the PLC went to STOP */
    PLCSIM_EIO = -4,    /* the select loop or the server failed */
};

/** plcsim_strerror: text for a PLCSIM_E* code (never NULL). */
const char *plcsim_strerror(int code);

/* The PLC program: one scan over the device memory (scan_ms = scan time, ms).
 * Returns 0, or negative to stop the PLC (like an FX program error). */
typedef struct {
    void *self;
    int (*scan)(void *self, fxmem *mem, uint32_t scan_ms);
} plcsim_logic;

/* The machine around the PLC; either callback may be NULL. */
typedef struct {
    void *self;
    /* input refresh: write the sensors into X (and analog values into D) */
    void (*input)(void *self, fxmem *mem, uint64_t now_ms);
    /* output refresh: the Y image, as the logic left it, drives the machine */
    void (*output)(void *self, const fxmem *mem, uint64_t now_ms);
} plcsim_plant;

typedef enum {
    PLCSIM_IDLE_REALTIME = 0, /* no exchange: virtual time runs at real-time pace */
    PLCSIM_IDLE_FROZEN,       /* no exchange: virtual time stands still */
} plcsim_idle;

#define PLCSIM_SCAN_MS_DEFAULT 10u
#define PLCSIM_SCAN_MS_MAX 1000u
#define PLCSIM_PERIOD_DEFAULT_MS 10u /* D204 = 0 */
#define PLCSIM_PERIOD_MAX_MS 1000u

typedef struct {
    uint32_t scan_ms; /* virtual scan time, 1..PLCSIM_SCAN_MS_MAX ms */
    plcsim_idle idle; /* time between exchanges */
    int realtime;     /* 1: all time real-time paced; requests do not advance it */
} plcsim_config;

typedef struct plcsim {
    fxmem mem;              /* the PLC's devices, served over Modbus */
    plcsim_config cfg;
    plcsim_logic logic;
    plcsim_plant plant;
    int started;            /* plcsim_start done */
    int running;            /* RUN (1) or STOP after a logic error (0) */
    int logic_rc;           /* the logic's error code that stopped the PLC */
    uint64_t now_ms;        /* virtual time, ms since start */
    uint64_t next_scan_ms;  /* virtual time of the next scan */
    uint64_t scans;         /* scans run */
    uint64_t advanced_ms;   /* virtual time added by command writes */
    int64_t anchor_real_ns; /* idle pacing: real time (CLOCK_MONOTONIC) at which */
    uint64_t anchor_virt_ms;/*   virtual time anchor_virt_ms starts running */
} plcsim;

/** plcsim_config_default: scan 10 ms, idle realtime, not realtime. */
void plcsim_config_default(plcsim_config *cfg);

/**
 * plcsim_init: clear the memory, keep cfg, logic and plant (NULL = none).
 * Returns 0 or PLCSIM_EARG (scan_ms out of range, logic without scan).
 */
int plcsim_init(plcsim *ps, const plcsim_config *cfg, plcsim_logic logic,
                const plcsim_plant *plant);

/**
 * plcsim_start: go to RUN at virtual time 0: run the first scan (M8002) and
 * anchor the idle clock at real_now_ns (CLOCK_MONOTONIC, ns).  Returns 0,
 * PLCSIM_ESTATE when started twice or PLCSIM_ELOGIC.
 */
int plcsim_start(plcsim *ps, int64_t real_now_ns);

/**
 * plcsim_advance: move virtual time forward by dt_ms, running every scan
 * that falls due (scans at multiples of scan_ms).  Returns 0, PLCSIM_ESTATE
 * or PLCSIM_ELOGIC (the PLC is in STOP then; time still advances).
 */
int plcsim_advance(plcsim *ps, uint64_t dt_ms);

/**
 * plcsim_catch_up: bring virtual time up to what the idle clock says at
 * real_now_ns (idle realtime or realtime mode; nothing when frozen).
 */
int plcsim_catch_up(plcsim *ps, int64_t real_now_ns);

/**
 * plcsim_on_request: account for one handled Modbus request: a write into
 * the command block advances virtual time by the period hint D204 and
 * re-anchors the idle clock (not in realtime mode).  Returns as advance.
 */
int plcsim_on_request(plcsim *ps, const mbs_request_info *info, int64_t real_now_ns);

/**
 * plcsim_period_ms: the period hint D204 as used: 0 -> 10, clamped 1..1000 ms.
 */
uint32_t plcsim_period_ms(const plcsim *ps);

/**
 * plcsim_wait_ns: how long (ns) the server may sleep at real_now_ns before
 * the next idle scan is due; -1 = forever (frozen idle).
 */
int64_t plcsim_wait_ns(const plcsim *ps, int64_t real_now_ns);

/** plcsim_mono_ns: CLOCK_MONOTONIC now, ns. */
int64_t plcsim_mono_ns(void);

/**
 * plcsim_hooks: mbserver hooks bound to ps (before: catch up idle time;
 * after: plcsim_on_request with the clock read then).
 */
mbs_hooks plcsim_hooks(plcsim *ps);

/*
 * A side channel served in the same select loop as Modbus (the simulator's
 * camera, sim/camserver.h): no threads, so what it reads of the PLC and the
 * plant is consistent with what Modbus sees.  prepare adds its descriptors
 * to rd; dispatch serves those of rd that are ready and returns 0 (a broken
 * client is handled, not an error) or negative to end the loop.
 */
typedef struct {
    void *self;
    void (*prepare)(const void *self, fd_set *rd, int *maxfd);
    int (*dispatch)(void *self, const fd_set *rd);
} plcsim_channel;

/**
 * plcsim_serve_channels: plcsim_serve that also serves the n side channels
 * in chan (may be NULL when n is 0).  Idle time is caught up before a
 * channel is dispatched, as it is before a Modbus request.  Returns as
 * plcsim_serve (PLCSIM_EIO also when a channel's dispatch fails).
 */
int plcsim_serve_channels(plcsim *ps, mbs_server *srv, const plcsim_channel *chan, size_t n,
                          volatile sig_atomic_t *stop, const sigset_t *waitmask);

/**
 * plcsim_serve: the event loop: serve srv and run idle time until *stop is
 * set.  Signals meant to stop the loop must be blocked by the caller;
 * waitmask (may be NULL) is the mask under which the loop sleeps (pselect),
 * so a signal arriving at any moment wakes it.  Returns 0 when stopped, or
 * PLCSIM_EIO.  A logic error does not end the loop (the PLC stays in STOP
 * and keeps answering, like an FX).
 */
int plcsim_serve(plcsim *ps, mbs_server *srv, volatile sig_atomic_t *stop,
                 const sigset_t *waitmask);

#endif
