/*
 * runlog.c — JSON Lines run log and mission checkpoint.  See runlog.h and
 * docs/log-format.md.
 */
#include "runlog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TICKS_PER_S 100.0

/* ------------------------------------------------------------ the line writer
 *
 * The record writers run inside the control loop, which must not allocate
 * after start-up, so a record is built in a fixed buffer of the runlog
 * (not a json-c tree) and written with one fwrite.  The output is byte for
 * byte what json-c 0.16 wrote with JSON_C_TO_STRING_PLAIN: compact, keys in
 * the order added, strings escaped as json_escape_str does (including "\/"),
 * numbers printed "%.*f" and non-finite numbers as null.
 */

typedef struct jw {
    char buf[RUNLOG_LINE_MAX];
    size_t n;     /* bytes used; one byte is always kept for the '\n' */
    int overflow; /* something did not fit: the line must not be written */
    int first;    /* the next item is the first of its object or array: no comma */
    int keyed;    /* a key was just written: its value follows without a comma */
} jw;

struct runlog {
    FILE *fp;
    int own;        /* fclose at the end (not stdout) */
    uint64_t n;     /* the next record number */
    uint64_t lost;  /* records too long for the line buffer: numbered, not written */
    int failed;     /* a write failed: later records are dropped, close reports it */
    jw w;           /* the line being built */
    char iobuf[BUFSIZ]; /* stdio's buffer for our own file, so its first write does not malloc one */
};

/* Append len bytes, or mark the line as overflowing: once set, nothing more
 * is appended and emit() drops the whole line. */
static void jw_raw(jw *w, const char *s, size_t len)
{
    if (w->overflow || len > sizeof w->buf - 1 - w->n) {
        w->overflow = 1;
        return;
    }
    memcpy(w->buf + w->n, s, len);
    w->n += len;
}

__attribute__((format(printf, 2, 3))) static void jw_fmt(jw *w, const char *fmt, ...)
{
    if (w->overflow) return;
    size_t room = sizeof w->buf - 1 - w->n; /* the '\n' byte is not offered */
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(w->buf + w->n, room + 1, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k > room) {
        w->overflow = 1;
        return;
    }
    w->n += (size_t)k;
}

/* The comma before an item, unless it is the first or follows its key. */
static void jw_item(jw *w)
{
    if (w->keyed)
        w->keyed = 0;
    else if (!w->first)
        jw_raw(w, ",", 1);
    w->first = 0;
}

/* A JSON string as json-c escapes it: \b \n \r \t \f \" \\ \/ by name,
 * other bytes below 0x20 as \u00xx (lowercase hex), the rest as they are. */
static void jw_quoted(jw *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    jw_raw(w, "\"", 1);
    const char *run = s; /* start of the bytes not yet copied */
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[6];
        size_t elen = 2;
        esc[0] = '\\';
        switch (c) {
        case '\b': esc[1] = 'b'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\f': esc[1] = 'f'; break;
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '/': esc[1] = '/'; break;
        default:
            if (c >= 0x20) continue;
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            elen = 6;
            break;
        }
        jw_raw(w, run, (size_t)(s - run));
        jw_raw(w, esc, elen);
        run = s + 1;
    }
    jw_raw(w, run, (size_t)(s - run));
    jw_raw(w, "\"", 1);
}

static void jw_key(jw *w, const char *k)
{
    jw_item(w);
    jw_quoted(w, k);
    jw_raw(w, ":", 1);
    w->keyed = 1;
}

static void jw_obj_begin(jw *w)
{
    jw_item(w);
    jw_raw(w, "{", 1);
    w->first = 1;
}

static void jw_arr_begin(jw *w)
{
    jw_item(w);
    jw_raw(w, "[", 1);
    w->first = 1;
}

/* After a close the enclosing container has an item: the next one takes a comma. */
static void jw_obj_end(jw *w)
{
    jw_raw(w, "}", 1);
    w->first = 0;
}

static void jw_arr_end(jw *w)
{
    jw_raw(w, "]", 1);
    w->first = 0;
}

static void jw_null(jw *w)
{
    jw_item(w);
    jw_raw(w, "null", 4);
}

/* A string; NULL is null. */
static void jw_str(jw *w, const char *s)
{
    if (!s) {
        jw_null(w);
        return;
    }
    jw_item(w);
    jw_quoted(w, s);
}

/* A number with a fixed number of decimals; JSON has no NaN or infinity, so
 * those are null (the value is not known). */
static void jw_num(jw *w, double v, int decimals)
{
    if (!isfinite(v)) {
        jw_null(w);
        return;
    }
    jw_item(w);
    jw_fmt(w, "%.*f", decimals, v);
}

static void jw_int(jw *w, int64_t v)
{
    jw_item(w);
    jw_fmt(w, "%" PRId64, v);
}

static void jw_uint(jw *w, uint64_t v)
{
    jw_item(w);
    jw_fmt(w, "%" PRIu64, v);
}

static void jw_bool(jw *w, int v)
{
    jw_item(w);
    if (v)
        jw_raw(w, "true", 4);
    else
        jw_raw(w, "false", 5);
}

/* key: value shorthands, in the order the record lists them */
static void kv_str(jw *w, const char *k, const char *v)
{
    jw_key(w, k);
    jw_str(w, v);
}

static void kv_num(jw *w, const char *k, double v, int decimals)
{
    jw_key(w, k);
    jw_num(w, v, decimals);
}

static void kv_int(jw *w, const char *k, int64_t v)
{
    jw_key(w, k);
    jw_int(w, v);
}

static void kv_uint(jw *w, const char *k, uint64_t v)
{
    jw_key(w, k);
    jw_uint(w, v);
}

static void kv_bool(jw *w, const char *k, int v)
{
    jw_key(w, k);
    jw_bool(w, v);
}

static void kv_pair(jw *w, const char *k, double a, double b, int decimals)
{
    jw_key(w, k);
    jw_arr_begin(w);
    jw_num(w, a, decimals);
    jw_num(w, b, decimals);
    jw_arr_end(w);
}

/* ------------------------------------------------------------ the log */

const char *runlog_strerror(int code)
{
    switch (code) {
    case RUNLOG_OK: return "ok";
    case RUNLOG_EARG: return "bad argument";
    case RUNLOG_EIO: return "cannot write or read the file";
    case RUNLOG_ENOMEM: return "out of memory";
    case RUNLOG_EPARSE: return "not a valid checkpoint";
    default: return "unknown run log error";
    }
}

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int code,
                                                      const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

int runlog_open(runlog **out, const char *path, char *err, size_t errlen)
{
    if (!out || !path) return fail(err, errlen, RUNLOG_EARG, "no log path");
    *out = NULL;
    runlog *rl = calloc(1, sizeof *rl);
    if (!rl) return fail(err, errlen, RUNLOG_ENOMEM, "out of memory");
    if (!strcmp(path, "-")) {
        rl->fp = stdout; /* its buffer is stdio's: allocated by the first write to stdout, if any */
    } else {
        rl->fp = fopen(path, "w");
        if (!rl->fp) {
            int e = errno;
            free(rl);
            return fail(err, errlen, RUNLOG_EIO, "%s: %s", path, strerror(e));
        }
        setvbuf(rl->fp, rl->iobuf, _IOFBF, sizeof rl->iobuf);
        rl->own = 1;
    }
    *out = rl;
    return 0;
}

int runlog_close(runlog *rl)
{
    if (!rl) return 0;
    int rc = rl->failed || rl->lost ? RUNLOG_EIO : 0;
    if (fflush(rl->fp) != 0) rc = RUNLOG_EIO;
    if (rl->own && fclose(rl->fp) != 0) rc = RUNLOG_EIO;
    free(rl);
    return rc;
}

uint64_t runlog_records(const runlog *rl)
{
    return rl ? rl->n - rl->lost : 0;
}

/* Start a record: "type", "t", "n" first. */
static jw *record(runlog *rl, const char *type, uint32_t ticks)
{
    jw *w = &rl->w;
    w->n = 0;
    w->overflow = 0;
    w->first = 1;
    w->keyed = 0;
    jw_obj_begin(w);
    kv_str(w, "type", type);
    kv_num(w, "t", (double)ticks / TICKS_PER_S, 2);
    kv_uint(w, "n", rl->n);
    return w;
}

/* Close the record and write it as one line, flushed.  A line that did not
 * fit is not written at all (never half a line): its number is used up, so
 * the log shows the gap, and runlog_close reports the loss. */
static int emit(runlog *rl)
{
    jw *w = &rl->w;
    if (rl->failed) return RUNLOG_EIO;
    jw_obj_end(w);
    if (w->overflow) {
        rl->n++;
        rl->lost++;
        return RUNLOG_EIO;
    }
    w->buf[w->n++] = '\n'; /* the byte jw_raw keeps free */
    if (fwrite(w->buf, 1, w->n, rl->fp) != w->n || fflush(rl->fp) != 0) {
        rl->failed = 1;
        return RUNLOG_EIO;
    }
    rl->n++;
    return 0;
}

int runlog_start(runlog *rl, uint32_t ticks, const runlog_start_info *in)
{
    if (!rl || !in) return RUNLOG_EARG;
    jw *w = record(rl, "start", ticks);
    kv_str(w, "program", in->program);
    kv_str(w, "version", in->version);
    kv_str(w, "plc", in->plc_uri);
    kv_str(w, "facade", in->facade_path);
    kv_str(w, "facade_name", in->facade_name);
    kv_str(w, "robot", in->robot_path ? in->robot_path : "built-in default");
    kv_bool(w, "resumed", in->resumed);
    kv_str(w, "state", in->state_path);
    kv_int(w, "status_every", (int)in->status_every);
    kv_str(w, "camera", in->camera_uri);
    if (in->mission) {
        const mis_config *m = in->mission;
        jw_key(w, "region_mm");
        jw_arr_begin(w);
        for (int i = 0; i < 4; i++) jw_num(w, m->region_mm[i], 1);
        jw_arr_end(w);
        kv_pair(w, "start_mm", m->start_mm[0], m->start_mm[1], 1);
        kv_num(w, "brush_width_mm", m->brush_width_mm, 1);
        kv_num(w, "foothold_bad_max", m->foothold_bad_max, 3);
        kv_int(w, "detours_max", (int)m->detours_max);
    }
    if (in->params) {
        const params_robot *p = in->params;
        jw_key(w, "params");
        jw_obj_begin(w);
        kv_pair(w, "stroke_mm", p->stroke_x_mm, p->stroke_y_mm, 1);
        kv_num(w, "cup_diameter_mm", p->cup_diameter_mm, 1);
        kv_num(w, "vac_sealed_kpa", p->vac_sealed_kpa, 1);
        kv_num(w, "vac_released_kpa", p->vac_released_kpa, 1);
        kv_num(w, "mass_kg", p->mass_kg, 2);
        kv_num(w, "mu_wet", p->mu_wet, 3);
        kv_num(w, "safety_factor_required", p->safety_factor_required, 2);
        kv_int(w, "settle_ticks", (int)p->settle_ticks);
        kv_int(w, "period_ms", p->period_ms);
        jw_obj_end(w);
    }
    return emit(rl);
}

int runlog_plan(runlog *rl, uint32_t ticks, const mis_plan *pl, const mis_dyn *d)
{
    if (!rl || !pl || !d) return RUNLOG_EARG;
    jw *w = record(rl, "plan", ticks);
    kv_int(w, "lanes", (int)pl->lanes);
    kv_int(w, "lanes_skipped", (int)pl->lanes_skipped);
    kv_int(w, "lanes_partial", (int)pl->lanes_partial);
    kv_int(w, "half_steps", (int)pl->half_steps);
    kv_int(w, "clean_steps", (int)pl->clean_steps);
    kv_uint(w, "region_cells", pl->region_cells);
    kv_uint(w, "planned_cells", pl->planned_cells);
    kv_num(w, "region_m2", (double)pl->region_cells * pl->cell_m2, 3);
    kv_num(w, "reachable_m2", (double)pl->planned_cells * pl->cell_m2, 3);
    kv_num(w, "est_s", pl->est_s, 1);
    kv_bool(w, "complete", pl->complete);
    kv_int(w, "lattice", d->lattice);
    kv_pair(w, "start_cyl_known", d->pose.s_known[0], d->pose.s_known[1], 0);
    return emit(rl);
}

int runlog_command(runlog *rl, uint32_t ticks, const cc_command *cmd, const ctl *c)
{
    if (!rl || !cmd) return RUNLOG_EARG;
    jw *w = record(rl, "command", ticks);
    kv_int(w, "seq", cmd->seq);
    kv_str(w, "mode", cc_mode_name((unsigned)cmd->mode));
    kv_int(w, "outputs", cmd->outputs);
    if (c) {
        kv_str(w, "phase", sup_phase_name(c->sup.phase));
        kv_str(w, "gait", gait_state_name(c->gait.state));
        kv_str(w, "group", hold_group_name(c->gait.g));
    }
    return emit(rl);
}

int runlog_status(runlog *rl, uint32_t ticks, const cc_status *st, const ctl *c)
{
    if (!rl || !st || !c) return RUNLOG_EARG;
    jw *w = record(rl, "status", ticks);
    kv_int(w, "flags", st->flags);
    kv_int(w, "x", (int64_t)st->x);
    kv_int(w, "y", st->y);
    kv_int(w, "tick", st->tick);
    kv_int(w, "seq_echo", st->seq_echo);
    kv_int(w, "hold_reason", st->hold_reason);
    jw_key(w, "cup_kpa");
    jw_arr_begin(w);
    for (unsigned i = 0; i < CC_CUPS_N; i++) jw_num(w, st->cup_kpa[i], 1);
    jw_arr_end(w);
    jw_key(w, "prox_mm");
    jw_arr_begin(w);
    for (unsigned i = 0; i < CC_PROX_N; i++) {
        if (st->prox_valid[i])
            jw_num(w, st->prox_mm[i], 0);
        else
            jw_null(w);
    }
    jw_arr_end(w);
    jw_key(w, "pos_mm");
    jw_arr_begin(w);
    for (unsigned i = 0; i < 2; i++) {
        if (st->pos_valid[i])
            jw_num(w, st->pos_mm[i], 1);
        else
            jw_null(w);
    }
    jw_arr_end(w);
    kv_num(w, "supply_kpa", st->supply_kpa, 0);
    kv_num(w, "tether_n", st->tether_n, 0);
    kv_str(w, "phase", sup_phase_name(c->sup.phase));
    kv_str(w, "gait", gait_state_name(c->gait.state));
    kv_str(w, "kind", gait_kind_name(c->gait.kind));
    kv_str(w, "group", hold_group_name(c->gait.g));
    kv_pair(w, "sf", c->sup.hr[0].safety_factor, c->sup.hr[1].safety_factor, 3);
    kv_uint(w, "cycles", c->stats.cycles);
    kv_uint(w, "link_failures", c->stats.link_failures);
    return emit(rl);
}

int runlog_hold(runlog *rl, uint32_t ticks, const ctl *c, const cc_status *st)
{
    if (!rl || !c) return RUNLOG_EARG;
    jw *w = record(rl, "hold", ticks);
    kv_str(w, "reason", sup_reason_name(c->sup.reason));
    kv_str(w, "detail", c->sup.reason == SUP_R_GAIT ? gait_fail_name((gait_fail)c->sup.detail) : NULL);
    kv_uint(w, "holds", c->sup.holds);
    kv_str(w, "gait", gait_state_name(c->gait.state));
    jw_key(w, "plc_hold_reason");
    if (st)
        jw_int(w, st->hold_reason);
    else
        jw_null(w);
    jw_key(w, "plc_flags");
    if (st)
        jw_int(w, st->flags);
    else
        jw_null(w);
    return emit(rl);
}

int runlog_ack(runlog *rl, uint32_t ticks, const char *by, int rc, const ctl *c)
{
    if (!rl) return RUNLOG_EARG;
    jw *w = record(rl, "ack", ticks);
    kv_str(w, "by", by);
    kv_bool(w, "ok", rc == 0);
    kv_str(w, "error", rc ? ctl_strerror(rc) : NULL);
    if (c) kv_str(w, "reason", sup_reason_name(c->sup.reason));
    return emit(rl);
}

int runlog_operator(runlog *rl, uint32_t ticks, const char *command, int rc)
{
    if (!rl) return RUNLOG_EARG;
    jw *w = record(rl, "operator", ticks);
    kv_str(w, "command", command);
    kv_bool(w, "ok", rc == 0);
    return emit(rl);
}

int runlog_fault(runlog *rl, uint32_t ticks, const char *kind, const char *detail)
{
    if (!rl) return RUNLOG_EARG;
    jw *w = record(rl, "fault", ticks);
    kv_str(w, "kind", kind);
    kv_str(w, "detail", detail);
    return emit(rl);
}

static void kv_pose(jw *w, const char *k, const mis_pose *p)
{
    jw_key(w, k);
    jw_obj_begin(w);
    kv_pair(w, "c_mm", p->c_mm[0], p->c_mm[1], 1);
    kv_pair(w, "s_mm", p->s_mm[0], p->s_mm[1], 1);
    jw_obj_end(w);
}

int runlog_mission(runlog *rl, const mis_event *ev)
{
    if (!rl || !ev) return RUNLOG_EARG;
    jw *w = record(rl, "mission", ev->ticks);
    kv_str(w, "event", mis_event_name(ev->type));
    switch (ev->type) {
    case MIS_EV_PLAN:
        kv_int(w, "lanes", (int)ev->a);
        kv_int(w, "half_steps", (int)ev->b);
        break;
    case MIS_EV_LANE_BEGIN:
        kv_int(w, "lane", (int)ev->a);
        kv_num(w, "y_mm", ev->y, 1);
        break;
    case MIS_EV_LANE_END:
        kv_int(w, "lane", (int)ev->a);
        kv_str(w, "end", mis_lane_end_name((mis_lane_end)ev->b));
        kv_pair(w, "x_mm", ev->x0, ev->x1, 1);
        kv_num(w, "y_mm", ev->y, 1);
        break;
    case MIS_EV_STEP_BEGIN:
    case MIS_EV_STEP_END:
    case MIS_EV_SHORTENED: {
        const mis_move *mv = &ev->move;
        kv_str(w, "kind", mis_move_kind_name(mv->kind));
        kv_str(w, "group", hold_group_name(mv->group));
        kv_str(w, "axis", mv->axis ? "Y" : "X");
        kv_pair(w, "target_mm", mv->target_mm[0], mv->target_mm[1], 1); /* NaN: the cylinder does not move */
        kv_num(w, "nominal_mm", mv->nominal_mm, 1);
        kv_num(w, "chosen_mm", mv->chosen_mm, 1);
        kv_pose(w, "before", &mv->before);
        kv_pose(w, "after", &mv->after);
        kv_int(w, "aux", mv->aux);
        if (ev->type == MIS_EV_STEP_BEGIN) kv_int(w, "lane", (int)ev->a);
        if (ev->type == MIS_EV_STEP_END) {
            kv_num(w, "duration_s", (double)ev->b / TICKS_PER_S, 2);
            kv_bool(w, "recovery_shift", ev->a != 0);
        }
        if (ev->type == MIS_EV_SHORTENED) kv_str(w, "because", mis_block_name((mis_block)ev->b));
        break;
    }
    case MIS_EV_SIDESTEP:
        kv_int(w, "lane", (int)ev->a);
        kv_str(w, "because", mis_block_name((mis_block)ev->b));
        kv_pair(w, "c_mm", ev->x0, ev->x1, 1);
        kv_num(w, "offset_mm", ev->y, 1);
        break;
    case MIS_EV_BLOCKED:
        kv_int(w, "lane", (int)ev->a);
        kv_str(w, "because", mis_block_name((mis_block)ev->b));
        kv_pair(w, "c_mm", ev->x0, ev->y, 1);
        kv_str(w, "where", ev->reason);
        break;
    case MIS_EV_PAUSED:
    case MIS_EV_RESUMED:
    case MIS_EV_STOPPED:
        if (ev->type == MIS_EV_PAUSED) kv_str(w, "reason", ev->reason);
        kv_int(w, "lane", (int)ev->a);
        kv_pair(w, "c_mm", ev->x0, ev->y, 1);
        break;
    case MIS_EV_FUSION: {
        const fg_verdict *v = &ev->fusion;
        kv_str(w, "group", hold_group_name(ev->move.group));
        kv_str(w, "axis", ev->move.axis ? "Y" : "X");
        kv_pair(w, "grip_risk", v->grip_risk[0], v->grip_risk[1], 3);
        jw_key(w, "path");
        jw_obj_begin(w);
        for (unsigned k = 0; k < FUSION_PATH; k++) kv_num(w, fusion_path_name((int)k), v->path_p[k], 3);
        jw_obj_end(w);
        jw_key(w, "attention_share");
        jw_obj_begin(w);
        for (unsigned k = 0; k < FUSION_MODALITIES; k++)
            kv_num(w, fusion_modality_name((int)k), v->share[k], 3);
        jw_obj_end(w);
        kv_str(w, "verdict", fg_action_name(v->action));
        kv_str(w, "taken", fg_action_name((fg_action)ev->a));
        kv_num(w, "chosen_mm", ev->move.chosen_mm, 1);
        if (ev->reason[0]) kv_str(w, "note", ev->reason);
        break;
    }
    case MIS_EV_DONE:
        kv_int(w, "lanes_done", (int)ev->a);
        kv_int(w, "lanes_skipped", (int)ev->b);
        if (ev->reason[0]) kv_str(w, "note", ev->reason);
        break;
    default: break;
    }
    return emit(rl);
}

int runlog_progress(runlog *rl, uint32_t ticks, const mis_progress *pr)
{
    if (!rl || !pr) return RUNLOG_EARG;
    jw *w = record(rl, "progress", ticks);
    kv_str(w, "state", mis_state_name(pr->state));
    kv_str(w, "phase", mis_phase_name(pr->phase));
    kv_int(w, "lane", (int)pr->lane);
    kv_int(w, "lanes", (int)pr->lanes);
    kv_int(w, "half_steps", (int)pr->half_steps);
    kv_int(w, "half_steps_planned", (int)pr->half_steps_planned);
    kv_num(w, "fraction", pr->fraction, 4);
    kv_num(w, "area_m2", pr->area_m2, 3);
    kv_num(w, "time_left_s", pr->time_left_s, 1);
    kv_pair(w, "c_mm", pr->c_mm[0], pr->c_mm[1], 1);
    return emit(rl);
}

int runlog_end(runlog *rl, uint32_t ticks, const runlog_summary *s)
{
    if (!rl || !s) return RUNLOG_EARG;
    jw *w = record(rl, "end", ticks);
    kv_str(w, "outcome", s->outcome);
    kv_int(w, "falls", (int)s->falls);
    kv_num(w, "coverage", s->coverage, 4);
    kv_num(w, "area_m2", s->area_m2, 3);
    kv_num(w, "sim_time_s", s->sim_time_s, 2);
    kv_num(w, "rate_m2_per_h", s->rate_m2_per_h, 3);
    kv_num(w, "min_safety_factor", s->min_safety_factor, 3);
    kv_int(w, "holds", (int)s->holds);
    kv_int(w, "refused_commands", (int)s->refused_commands);
    kv_str(w, "source", s->source);
    kv_uint(w, "cycles", s->cycles);
    kv_uint(w, "link_failures", s->link_failures);
    kv_int(w, "half_steps", (int)s->half_steps);
    kv_int(w, "reseats", (int)s->reseats);
    kv_int(w, "shifts", (int)s->shifts);
    kv_bool(w, "fusion", s->fusion_on);
    kv_uint(w, "fusion_asked", s->fusion_asked);
    kv_uint(w, "fusion_careful", s->fusion_careful);
    return emit(rl);
}

const char *runlog_result_line(const runlog_summary *s, char *buf, size_t len)
{
    if (!buf || !len) return buf;
    snprintf(buf, len,
             "result: outcome=%s falls=%u coverage=%.3f area_m2=%.2f sim_time_s=%.1f "
             "rate_m2_per_h=%.2f min_safety_factor=%.2f holds=%u refused_commands=%u",
             s->outcome, s->falls, s->coverage, s->area_m2, s->sim_time_s, s->rate_m2_per_h,
             s->min_safety_factor, s->holds, s->refused_commands);
    return buf;
}

/* ------------------------------------------------------------ checkpoint */

/* Append to buf[*used..len); 0 or -1 when it does not fit. */
__attribute__((format(printf, 4, 5))) static int put(char *buf, size_t len, size_t *used,
                                                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, len - *used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len - *used) return -1;
    *used += (size_t)n;
    return 0;
}

int runlog_checkpoint_write(const char *path, const mis_dyn *d, char *err, size_t errlen)
{
    static char buf[8192]; /* no heap: the checkpoint is written after every half-step */
    char tmp[4096];
    size_t used = 0, n;
    int rc = 0, fd = -1;
    if (!path || !d) return fail(err, errlen, RUNLOG_EARG, "no checkpoint path");
    const mis_field *f = mis_checkpoint_fields(&n);
    int fits = put(buf, sizeof buf, &used, "{\"type\":\"crossclimb-checkpoint\"") == 0;
    for (size_t i = 0; i < n && fits; i++) {
        const char *p = (const char *)d + f[i].offset;
        int r = 0;
        switch (f[i].type) {
        case MIS_F_DOUBLE: {
            double v;
            memcpy(&v, p, sizeof v);
            r = isfinite(v) ? put(buf, sizeof buf, &used, ",\"%s\":%.17g", f[i].name, v)
                            : put(buf, sizeof buf, &used, ",\"%s\":null", f[i].name);
            break;
        }
        case MIS_F_FLOAT: {
            float v;
            memcpy(&v, p, sizeof v);
            r = isfinite(v) ? put(buf, sizeof buf, &used, ",\"%s\":%.9g", f[i].name, (double)v)
                            : put(buf, sizeof buf, &used, ",\"%s\":null", f[i].name);
            break;
        }
        case MIS_F_INT: {
            int v;
            memcpy(&v, p, sizeof v);
            r = put(buf, sizeof buf, &used, ",\"%s\":%d", f[i].name, v);
            break;
        }
        case MIS_F_UINT: {
            unsigned v;
            memcpy(&v, p, sizeof v);
            r = put(buf, sizeof buf, &used, ",\"%s\":%u", f[i].name, v);
            break;
        }
        case MIS_F_U16: {
            uint16_t v;
            memcpy(&v, p, sizeof v);
            r = put(buf, sizeof buf, &used, ",\"%s\":%u", f[i].name, (unsigned)v);
            break;
        }
        case MIS_F_U32: {
            uint32_t v;
            memcpy(&v, p, sizeof v);
            r = put(buf, sizeof buf, &used, ",\"%s\":%lu", f[i].name, (unsigned long)v);
            break;
        }
        case MIS_F_U64: {
            uint64_t v;
            memcpy(&v, p, sizeof v);
            r = put(buf, sizeof buf, &used, ",\"%s\":%llu", f[i].name, (unsigned long long)v);
            break;
        }
        case MIS_F_STR: {
            /* only [A-Za-z0-9 _.:-] are kept: no escaping needed */
            char s[64];
            size_t k = 0;
            for (size_t j = 0; j < f[i].size && p[j] && k + 1 < sizeof s; j++) {
                char ch = p[j];
                int okc = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                          ch == ' ' || ch == '_' || ch == '.' || ch == ':' || ch == '-';
                s[k++] = okc ? ch : '_';
            }
            s[k] = '\0';
            r = put(buf, sizeof buf, &used, ",\"%s\":\"%s\"", f[i].name, s);
            break;
        }
        default: r = -1; break;
        }
        fits = r == 0;
    }
    if (!fits || put(buf, sizeof buf, &used, "}\n"))
        return fail(err, errlen, RUNLOG_EIO, "%s: checkpoint does not fit its buffer", path);
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return fail(err, errlen, RUNLOG_EIO, "%s: path too long", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = fail(err, errlen, RUNLOG_EIO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    for (size_t off = 0; off < used;) {
        ssize_t w = write(fd, buf + off, used - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            rc = fail(err, errlen, RUNLOG_EIO, "%s: %s", tmp, strerror(errno));
            goto out;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = fail(err, errlen, RUNLOG_EIO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) rc = fail(err, errlen, RUNLOG_EIO, "%s: %s", path, strerror(errno));
out:
    if (fd >= 0) close(fd);
    if (rc) unlink(tmp);
    return rc;
}

/* One checkpoint field from its JSON value into p.  Returns 1, or 0 when
 * the value has the wrong type or range. */
static int field_from_json(const mis_field *f, json_object *v, char *p)
{
    enum json_type jt = json_object_get_type(v);
    if (f->type == MIS_F_STR) {
        if (jt != json_type_string) return 0;
        snprintf(p, f->size, "%s", json_object_get_string(v));
        return 1;
    }
    if (jt == json_type_null && f->type == MIS_F_DOUBLE) {
        double nanv = NAN;
        memcpy(p, &nanv, sizeof nanv);
        return 1;
    }
    if (jt == json_type_null && f->type == MIS_F_FLOAT) {
        float nanf = NAN;
        memcpy(p, &nanf, sizeof nanf);
        return 1;
    }
    if (jt != json_type_int && jt != json_type_double) return 0;
    double dv = json_object_get_double(v);
    switch (f->type) {
    case MIS_F_DOUBLE: memcpy(p, &dv, sizeof dv); return 1;
    case MIS_F_FLOAT: {
        float fv = (float)dv;
        memcpy(p, &fv, sizeof fv);
        return 1;
    }
    case MIS_F_INT: {
        if (dv < -2147483648.0 || dv > 2147483647.0) return 0;
        int iv = (int)json_object_get_int64(v);
        memcpy(p, &iv, sizeof iv);
        return 1;
    }
    case MIS_F_UINT:
    case MIS_F_U32: {
        if (dv < 0 || dv > 4294967295.0) return 0;
        uint32_t uv = (uint32_t)json_object_get_int64(v);
        if (f->type == MIS_F_UINT) {
            unsigned u = uv;
            memcpy(p, &u, sizeof u);
        } else {
            memcpy(p, &uv, sizeof uv);
        }
        return 1;
    }
    case MIS_F_U16: {
        if (dv < 0 || dv > 65535.0) return 0;
        uint16_t uv = (uint16_t)json_object_get_int64(v);
        memcpy(p, &uv, sizeof uv);
        return 1;
    }
    case MIS_F_U64: {
        if (dv < 0) return 0;
        uint64_t uv = json_object_get_uint64(v);
        memcpy(p, &uv, sizeof uv);
        return 1;
    }
    default: return 0;
    }
}

int runlog_checkpoint_read(const char *path, mis_dyn *d, char *err, size_t errlen)
{
    size_t n;
    int rc = 0;
    if (!path || !d) return fail(err, errlen, RUNLOG_EARG, "no checkpoint path");
    json_object *o = json_object_from_file(path);
    if (!o) {
        FILE *fp = fopen(path, "r");
        if (!fp) return fail(err, errlen, RUNLOG_EIO, "%s: %s", path, strerror(errno));
        fclose(fp);
        return fail(err, errlen, RUNLOG_EPARSE, "%s: not JSON", path);
    }
    mis_dyn tmp;
    memset(&tmp, 0, sizeof tmp);
    json_object *ty;
    if (!json_object_object_get_ex(o, "type", &ty) ||
        strcmp(json_object_get_string(ty) ? json_object_get_string(ty) : "", "crossclimb-checkpoint")) {
        rc = fail(err, errlen, RUNLOG_EPARSE, "%s: not a crossclimb checkpoint", path);
        goto out;
    }
    const mis_field *f = mis_checkpoint_fields(&n);
    for (size_t i = 0; i < n; i++) {
        json_object *v;
        char *p = (char *)&tmp + f[i].offset;
        if (!json_object_object_get_ex(o, f[i].name, &v)) {
            rc = fail(err, errlen, RUNLOG_EPARSE, "%s: field '%s' missing", path, f[i].name);
            goto out;
        }
        if (!field_from_json(&f[i], v, p)) {
            rc = fail(err, errlen, RUNLOG_EPARSE, "%s: field '%s' has a bad value", path, f[i].name);
            goto out;
        }
    }
    *d = tmp;
out:
    json_object_put(o);
    return rc;
}
