/*
 * runlog.c — JSON Lines run log and mission checkpoint.  See runlog.h and
 * docs/log-format.md.
 */
#include "runlog.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TICKS_PER_S 100.0

struct runlog {
    FILE *fp;
    int own;      /* fclose at the end (not stdout) */
    uint64_t n;   /* records written */
    int failed;   /* a write failed: later records are dropped, close reports it */
};

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
        rl->fp = stdout;
    } else {
        rl->fp = fopen(path, "w");
        if (!rl->fp) {
            int e = errno;
            free(rl);
            return fail(err, errlen, RUNLOG_EIO, "%s: %s", path, strerror(e));
        }
        rl->own = 1;
    }
    *out = rl;
    return 0;
}

int runlog_close(runlog *rl)
{
    if (!rl) return 0;
    int rc = rl->failed ? RUNLOG_EIO : 0;
    if (fflush(rl->fp) != 0) rc = RUNLOG_EIO;
    if (rl->own && fclose(rl->fp) != 0) rc = RUNLOG_EIO;
    free(rl);
    return rc;
}

uint64_t runlog_records(const runlog *rl)
{
    return rl ? rl->n : 0;
}

/* A number with a fixed number of decimals (json-c writes it as printed). */
static json_object *num(double v, int decimals)
{
    char buf[48];
    if (!isfinite(v)) return NULL; /* JSON has no NaN: the field is null */
    snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return json_object_new_double_s(v, buf);
}

static json_object *record(const runlog *rl, const char *type, uint32_t ticks)
{
    json_object *o = json_object_new_object();
    if (!o) return NULL;
    json_object_object_add(o, "type", json_object_new_string(type));
    json_object_object_add(o, "t", num((double)ticks / TICKS_PER_S, 2));
    json_object_object_add(o, "n", json_object_new_uint64(rl->n));
    return o;
}

/* Write o as one line and free it. */
static int emit(runlog *rl, json_object *o)
{
    if (!o) return RUNLOG_ENOMEM;
    int rc = 0;
    if (!rl->failed) {
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        if (!s || fputs(s, rl->fp) < 0 || fputc('\n', rl->fp) < 0 || fflush(rl->fp) != 0) {
            rl->failed = 1;
            rc = RUNLOG_EIO;
        } else {
            rl->n++;
        }
    } else {
        rc = RUNLOG_EIO;
    }
    json_object_put(o);
    return rc;
}

static void add_str(json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static json_object *pair(double a, double b, int decimals)
{
    json_object *arr = json_object_new_array();
    json_object_array_add(arr, num(a, decimals));
    json_object_array_add(arr, num(b, decimals));
    return arr;
}

int runlog_start(runlog *rl, uint32_t ticks, const runlog_start_info *in)
{
    if (!rl || !in) return RUNLOG_EARG;
    json_object *o = record(rl, "start", ticks);
    if (!o) return RUNLOG_ENOMEM;
    add_str(o, "program", in->program);
    add_str(o, "version", in->version);
    add_str(o, "plc", in->plc_uri);
    add_str(o, "facade", in->facade_path);
    add_str(o, "facade_name", in->facade_name);
    add_str(o, "robot", in->robot_path ? in->robot_path : "built-in default");
    json_object_object_add(o, "resumed", json_object_new_boolean(in->resumed));
    add_str(o, "state", in->state_path);
    json_object_object_add(o, "status_every", json_object_new_int((int)in->status_every));
    if (in->mission) {
        const mis_config *m = in->mission;
        json_object *r = json_object_new_array();
        for (int i = 0; i < 4; i++) json_object_array_add(r, num(m->region_mm[i], 1));
        json_object_object_add(o, "region_mm", r);
        json_object_object_add(o, "start_mm", pair(m->start_mm[0], m->start_mm[1], 1));
        json_object_object_add(o, "brush_width_mm", num(m->brush_width_mm, 1));
        json_object_object_add(o, "foothold_bad_max", num(m->foothold_bad_max, 3));
        json_object_object_add(o, "detours_max", json_object_new_int((int)m->detours_max));
    }
    if (in->params) {
        const params_robot *p = in->params;
        json_object *po = json_object_new_object();
        json_object_object_add(po, "stroke_mm", pair(p->stroke_x_mm, p->stroke_y_mm, 1));
        json_object_object_add(po, "cup_diameter_mm", num(p->cup_diameter_mm, 1));
        json_object_object_add(po, "vac_sealed_kpa", num(p->vac_sealed_kpa, 1));
        json_object_object_add(po, "vac_released_kpa", num(p->vac_released_kpa, 1));
        json_object_object_add(po, "mass_kg", num(p->mass_kg, 2));
        json_object_object_add(po, "mu_wet", num(p->mu_wet, 3));
        json_object_object_add(po, "safety_factor_required", num(p->safety_factor_required, 2));
        json_object_object_add(po, "settle_ticks", json_object_new_int((int)p->settle_ticks));
        json_object_object_add(po, "period_ms", json_object_new_int(p->period_ms));
        json_object_object_add(o, "params", po);
    }
    return emit(rl, o);
}

int runlog_plan(runlog *rl, uint32_t ticks, const mis_plan *pl, const mis_dyn *d)
{
    if (!rl || !pl || !d) return RUNLOG_EARG;
    json_object *o = record(rl, "plan", ticks);
    if (!o) return RUNLOG_ENOMEM;
    json_object_object_add(o, "lanes", json_object_new_int((int)pl->lanes));
    json_object_object_add(o, "lanes_skipped", json_object_new_int((int)pl->lanes_skipped));
    json_object_object_add(o, "lanes_partial", json_object_new_int((int)pl->lanes_partial));
    json_object_object_add(o, "half_steps", json_object_new_int((int)pl->half_steps));
    json_object_object_add(o, "clean_steps", json_object_new_int((int)pl->clean_steps));
    json_object_object_add(o, "region_cells", json_object_new_uint64(pl->region_cells));
    json_object_object_add(o, "planned_cells", json_object_new_uint64(pl->planned_cells));
    json_object_object_add(o, "region_m2", num((double)pl->region_cells * pl->cell_m2, 3));
    json_object_object_add(o, "reachable_m2", num((double)pl->planned_cells * pl->cell_m2, 3));
    json_object_object_add(o, "est_s", num(pl->est_s, 1));
    json_object_object_add(o, "complete", json_object_new_boolean(pl->complete));
    json_object_object_add(o, "lattice", json_object_new_int(d->lattice));
    json_object_object_add(o, "start_cyl_known",
                           pair(d->pose.s_known[0], d->pose.s_known[1], 0));
    return emit(rl, o);
}

int runlog_command(runlog *rl, uint32_t ticks, const cc_command *cmd, const ctl *c)
{
    if (!rl || !cmd) return RUNLOG_EARG;
    json_object *o = record(rl, "command", ticks);
    if (!o) return RUNLOG_ENOMEM;
    json_object_object_add(o, "seq", json_object_new_int(cmd->seq));
    json_object_object_add(o, "mode", json_object_new_string(cc_mode_name((unsigned)cmd->mode)));
    json_object_object_add(o, "outputs", json_object_new_int(cmd->outputs));
    if (c) {
        json_object_object_add(o, "phase", json_object_new_string(sup_phase_name(c->sup.phase)));
        json_object_object_add(o, "gait", json_object_new_string(gait_state_name(c->gait.state)));
        json_object_object_add(o, "group", json_object_new_string(hold_group_name(c->gait.g)));
    }
    return emit(rl, o);
}

int runlog_status(runlog *rl, uint32_t ticks, const cc_status *st, const ctl *c)
{
    if (!rl || !st || !c) return RUNLOG_EARG;
    json_object *o = record(rl, "status", ticks);
    if (!o) return RUNLOG_ENOMEM;
    json_object_object_add(o, "flags", json_object_new_int(st->flags));
    json_object_object_add(o, "x", json_object_new_int64((int64_t)st->x));
    json_object_object_add(o, "y", json_object_new_int(st->y));
    json_object_object_add(o, "tick", json_object_new_int(st->tick));
    json_object_object_add(o, "seq_echo", json_object_new_int(st->seq_echo));
    json_object_object_add(o, "hold_reason", json_object_new_int(st->hold_reason));
    json_object *cups = json_object_new_array();
    for (unsigned i = 0; i < CC_CUPS_N; i++) json_object_array_add(cups, num(st->cup_kpa[i], 1));
    json_object_object_add(o, "cup_kpa", cups);
    json_object *prox = json_object_new_array();
    for (unsigned i = 0; i < CC_PROX_N; i++)
        json_object_array_add(prox, st->prox_valid[i] ? num(st->prox_mm[i], 0) : NULL);
    json_object_object_add(o, "prox_mm", prox);
    json_object *pos = json_object_new_array();
    for (unsigned i = 0; i < 2; i++) json_object_array_add(pos, st->pos_valid[i] ? num(st->pos_mm[i], 1) : NULL);
    json_object_object_add(o, "pos_mm", pos);
    json_object_object_add(o, "supply_kpa", num(st->supply_kpa, 0));
    json_object_object_add(o, "tether_n", num(st->tether_n, 0));
    json_object_object_add(o, "phase", json_object_new_string(sup_phase_name(c->sup.phase)));
    json_object_object_add(o, "gait", json_object_new_string(gait_state_name(c->gait.state)));
    json_object_object_add(o, "kind", json_object_new_string(gait_kind_name(c->gait.kind)));
    json_object_object_add(o, "group", json_object_new_string(hold_group_name(c->gait.g)));
    json_object_object_add(o, "sf", pair(c->sup.hr[0].safety_factor, c->sup.hr[1].safety_factor, 3));
    json_object_object_add(o, "cycles", json_object_new_uint64(c->stats.cycles));
    json_object_object_add(o, "link_failures", json_object_new_uint64(c->stats.link_failures));
    return emit(rl, o);
}

int runlog_hold(runlog *rl, uint32_t ticks, const ctl *c, const cc_status *st)
{
    if (!rl || !c) return RUNLOG_EARG;
    json_object *o = record(rl, "hold", ticks);
    if (!o) return RUNLOG_ENOMEM;
    json_object_object_add(o, "reason", json_object_new_string(sup_reason_name(c->sup.reason)));
    json_object_object_add(o, "detail",
                           c->sup.reason == SUP_R_GAIT
                               ? json_object_new_string(gait_fail_name((gait_fail)c->sup.detail))
                               : NULL);
    json_object_object_add(o, "holds", json_object_new_uint64(c->sup.holds));
    json_object_object_add(o, "gait", json_object_new_string(gait_state_name(c->gait.state)));
    json_object_object_add(o, "plc_hold_reason", st ? json_object_new_int(st->hold_reason) : NULL);
    json_object_object_add(o, "plc_flags", st ? json_object_new_int(st->flags) : NULL);
    return emit(rl, o);
}

int runlog_ack(runlog *rl, uint32_t ticks, const char *by, int rc, const ctl *c)
{
    if (!rl) return RUNLOG_EARG;
    json_object *o = record(rl, "ack", ticks);
    if (!o) return RUNLOG_ENOMEM;
    add_str(o, "by", by);
    json_object_object_add(o, "ok", json_object_new_boolean(rc == 0));
    add_str(o, "error", rc ? ctl_strerror(rc) : NULL);
    if (c) add_str(o, "reason", sup_reason_name(c->sup.reason));
    return emit(rl, o);
}

int runlog_operator(runlog *rl, uint32_t ticks, const char *command, int rc)
{
    if (!rl) return RUNLOG_EARG;
    json_object *o = record(rl, "operator", ticks);
    if (!o) return RUNLOG_ENOMEM;
    add_str(o, "command", command);
    json_object_object_add(o, "ok", json_object_new_boolean(rc == 0));
    return emit(rl, o);
}

int runlog_fault(runlog *rl, uint32_t ticks, const char *kind, const char *detail)
{
    if (!rl) return RUNLOG_EARG;
    json_object *o = record(rl, "fault", ticks);
    if (!o) return RUNLOG_ENOMEM;
    add_str(o, "kind", kind);
    add_str(o, "detail", detail);
    return emit(rl, o);
}

static json_object *pose_json(const mis_pose *p)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "c_mm", pair(p->c_mm[0], p->c_mm[1], 1));
    json_object_object_add(o, "s_mm", pair(p->s_mm[0], p->s_mm[1], 1));
    return o;
}

int runlog_mission(runlog *rl, const mis_event *ev)
{
    if (!rl || !ev) return RUNLOG_EARG;
    json_object *o = record(rl, "mission", ev->ticks);
    if (!o) return RUNLOG_ENOMEM;
    add_str(o, "event", mis_event_name(ev->type));
    switch (ev->type) {
    case MIS_EV_PLAN:
        json_object_object_add(o, "lanes", json_object_new_int((int)ev->a));
        json_object_object_add(o, "half_steps", json_object_new_int((int)ev->b));
        break;
    case MIS_EV_LANE_BEGIN:
        json_object_object_add(o, "lane", json_object_new_int((int)ev->a));
        json_object_object_add(o, "y_mm", num(ev->y, 1));
        break;
    case MIS_EV_LANE_END:
        json_object_object_add(o, "lane", json_object_new_int((int)ev->a));
        add_str(o, "end", mis_lane_end_name((mis_lane_end)ev->b));
        json_object_object_add(o, "x_mm", pair(ev->x0, ev->x1, 1));
        json_object_object_add(o, "y_mm", num(ev->y, 1));
        break;
    case MIS_EV_STEP_BEGIN:
    case MIS_EV_STEP_END:
    case MIS_EV_SHORTENED: {
        const mis_move *mv = &ev->move;
        add_str(o, "kind", mis_move_kind_name(mv->kind));
        add_str(o, "group", hold_group_name(mv->group));
        add_str(o, "axis", mv->axis ? "Y" : "X");
        json_object *t = json_object_new_array();
        for (int i = 0; i < 2; i++)
            json_object_array_add(t, isnan(mv->target_mm[i]) ? NULL : num(mv->target_mm[i], 1));
        json_object_object_add(o, "target_mm", t);
        json_object_object_add(o, "nominal_mm", num(mv->nominal_mm, 1));
        json_object_object_add(o, "chosen_mm", num(mv->chosen_mm, 1));
        json_object_object_add(o, "before", pose_json(&mv->before));
        json_object_object_add(o, "after", pose_json(&mv->after));
        json_object_object_add(o, "aux", json_object_new_int(mv->aux));
        if (ev->type == MIS_EV_STEP_BEGIN) json_object_object_add(o, "lane", json_object_new_int((int)ev->a));
        if (ev->type == MIS_EV_STEP_END) {
            json_object_object_add(o, "duration_s", num((double)ev->b / TICKS_PER_S, 2));
            json_object_object_add(o, "recovery_shift", json_object_new_boolean(ev->a != 0));
        }
        if (ev->type == MIS_EV_SHORTENED)
            add_str(o, "because", mis_block_name((mis_block)ev->b));
        break;
    }
    case MIS_EV_SIDESTEP:
        json_object_object_add(o, "lane", json_object_new_int((int)ev->a));
        add_str(o, "because", mis_block_name((mis_block)ev->b));
        json_object_object_add(o, "c_mm", pair(ev->x0, ev->x1, 1));
        json_object_object_add(o, "offset_mm", num(ev->y, 1));
        break;
    case MIS_EV_BLOCKED:
        json_object_object_add(o, "lane", json_object_new_int((int)ev->a));
        add_str(o, "because", mis_block_name((mis_block)ev->b));
        json_object_object_add(o, "c_mm", pair(ev->x0, ev->y, 1));
        add_str(o, "where", ev->reason);
        break;
    case MIS_EV_PAUSED:
    case MIS_EV_RESUMED:
    case MIS_EV_STOPPED:
        if (ev->type == MIS_EV_PAUSED) add_str(o, "reason", ev->reason);
        json_object_object_add(o, "lane", json_object_new_int((int)ev->a));
        json_object_object_add(o, "c_mm", pair(ev->x0, ev->y, 1));
        break;
    case MIS_EV_FUSION: {
        const fg_verdict *v = &ev->fusion;
        add_str(o, "group", hold_group_name(ev->move.group));
        add_str(o, "axis", ev->move.axis ? "Y" : "X");
        json_object_object_add(o, "grip_risk", pair(v->grip_risk[0], v->grip_risk[1], 3));
        json_object *pp = json_object_new_object();
        for (unsigned k = 0; k < FUSION_PATH; k++)
            json_object_object_add(pp, fusion_path_name((int)k), num(v->path_p[k], 3));
        json_object_object_add(o, "path", pp);
        json_object *sh = json_object_new_object();
        for (unsigned k = 0; k < FUSION_MODALITIES; k++)
            json_object_object_add(sh, fusion_modality_name((int)k), num(v->share[k], 3));
        json_object_object_add(o, "attention_share", sh);
        add_str(o, "verdict", fg_action_name(v->action));
        add_str(o, "taken", fg_action_name((fg_action)ev->a));
        json_object_object_add(o, "chosen_mm", num(ev->move.chosen_mm, 1));
        if (ev->reason[0]) add_str(o, "note", ev->reason);
        break;
    }
    case MIS_EV_DONE:
        json_object_object_add(o, "lanes_done", json_object_new_int((int)ev->a));
        json_object_object_add(o, "lanes_skipped", json_object_new_int((int)ev->b));
        if (ev->reason[0]) add_str(o, "note", ev->reason);
        break;
    default: break;
    }
    return emit(rl, o);
}

int runlog_progress(runlog *rl, uint32_t ticks, const mis_progress *pr)
{
    if (!rl || !pr) return RUNLOG_EARG;
    json_object *o = record(rl, "progress", ticks);
    if (!o) return RUNLOG_ENOMEM;
    add_str(o, "state", mis_state_name(pr->state));
    add_str(o, "phase", mis_phase_name(pr->phase));
    json_object_object_add(o, "lane", json_object_new_int((int)pr->lane));
    json_object_object_add(o, "lanes", json_object_new_int((int)pr->lanes));
    json_object_object_add(o, "half_steps", json_object_new_int((int)pr->half_steps));
    json_object_object_add(o, "half_steps_planned", json_object_new_int((int)pr->half_steps_planned));
    json_object_object_add(o, "fraction", num(pr->fraction, 4));
    json_object_object_add(o, "area_m2", num(pr->area_m2, 3));
    json_object_object_add(o, "time_left_s", num(pr->time_left_s, 1));
    json_object_object_add(o, "c_mm", pair(pr->c_mm[0], pr->c_mm[1], 1));
    return emit(rl, o);
}

int runlog_end(runlog *rl, uint32_t ticks, const runlog_summary *s)
{
    if (!rl || !s) return RUNLOG_EARG;
    json_object *o = record(rl, "end", ticks);
    if (!o) return RUNLOG_ENOMEM;
    add_str(o, "outcome", s->outcome);
    json_object_object_add(o, "falls", json_object_new_int((int)s->falls));
    json_object_object_add(o, "coverage", num(s->coverage, 4));
    json_object_object_add(o, "area_m2", num(s->area_m2, 3));
    json_object_object_add(o, "sim_time_s", num(s->sim_time_s, 2));
    json_object_object_add(o, "rate_m2_per_h", num(s->rate_m2_per_h, 3));
    json_object_object_add(o, "min_safety_factor", num(s->min_safety_factor, 3));
    json_object_object_add(o, "holds", json_object_new_int((int)s->holds));
    json_object_object_add(o, "refused_commands", json_object_new_int((int)s->refused_commands));
    add_str(o, "source", s->source);
    json_object_object_add(o, "cycles", json_object_new_uint64(s->cycles));
    json_object_object_add(o, "link_failures", json_object_new_uint64(s->link_failures));
    json_object_object_add(o, "half_steps", json_object_new_int((int)s->half_steps));
    json_object_object_add(o, "reseats", json_object_new_int((int)s->reseats));
    json_object_object_add(o, "shifts", json_object_new_int((int)s->shifts));
    json_object_object_add(o, "fusion", json_object_new_boolean(s->fusion_on));
    json_object_object_add(o, "fusion_asked", json_object_new_uint64(s->fusion_asked));
    json_object_object_add(o, "fusion_careful", json_object_new_uint64(s->fusion_careful));
    return emit(rl, o);
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
