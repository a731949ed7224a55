/*
 * status_print.c — the status block as a technician reads it, shared by
 * `plc monitor` and `demo`.
 */
#include <stdio.h>

#include "cli.h"

void cli_print_status(FILE *f, const cc_status *st, const cc_link *l)
{
    static const char *const flag_names[8] = {"RUN",     "HOLD",   "ESTOP",      "WATCHDOG",
                                              "REJECTED", "TETHER", "SUPPLY_LOW", "MANUAL"};
    static const char *const cup_names[CC_CUPS_N] = {"A1a", "A1b", "A1c", "A2a", "A2b", "A2c",
                                                     "B1a", "B1b", "B1c", "B2a", "B2b", "B2c"};
    static const char *const prox_names[CC_PROX_N] = {"+X", "-X", "+Y", "-Y"};
    const link_stats *s = link_get_stats(l);
    fprintf(f, "PLC status block D100-D131   link %s   latency %.3f ms (mean)\n",
           link_state_name(link_get_state(l)),
           s->latency_n ? s->latency_sum_ms / (double)s->latency_n : 0.0);
    fprintf(f, "D100 flags   0x%04x ", (unsigned)st->flags);
    for (unsigned b = 0; b < 8; b++)
        if (st->flags & (1u << b)) fprintf(f, " %s", flag_names[b]);
    fprintf(f, "\nD101/2 X     0x%08lx   D103 Y 0x%04x\n", (unsigned long)st->x, (unsigned)st->y);
    fprintf(f, "D104 tick    %u   D105 seq echo %u   D106 heartbeat echo %u\n", (unsigned)st->tick,
           (unsigned)st->seq_echo, (unsigned)st->heartbeat_echo);
    fprintf(f, "D107 hold    %u (%s)   D108 version %u   D109 scan max %.1f ms\n",
           (unsigned)st->hold_reason, cc_hold_reason_name(st->hold_reason), (unsigned)st->version,
           (double)st->scan_max_ms);
    fprintf(f, "D110-121 cup vacuum kPa:");
    for (unsigned i = 0; i < CC_CUPS_N; i++)
        fprintf(f, "%s %s %.1f", i == 6 ? "\n                        " : "", cup_names[i],
               (double)st->cup_kpa[i]);
    fprintf(f, "\nD122-125 proximity mm: ");
    for (unsigned i = 0; i < CC_PROX_N; i++) {
        if (st->prox_valid[i])
            fprintf(f, " %s %.0f", prox_names[i], (double)st->prox_mm[i]);
        else
            fprintf(f, " %s none", prox_names[i]);
    }
    fprintf(f, "\nD126 tether %.0f N   D127 supply %.0f kPa   D128/9 position ", (double)st->tether_n,
           (double)st->supply_kpa);
    for (unsigned i = 0; i < 2; i++) {
        if (st->pos_valid[i])
            fprintf(f, "%s%.0f mm", i ? " / " : "", (double)st->pos_mm[i]);
        else
            fprintf(f, "%sno sensor", i ? " / " : "");
    }
    fprintf(f, "\n");
}

