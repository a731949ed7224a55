/*
 * console.c — the operator console (console.h): ncurses, characters only
 * (no colour-only signal: readable in sunlight and over any SSH terminal).
 *
 * Layout at 80x24 (larger terminals give the map the extra room):
 *   row 0        title: program, PLC time, supervisor phase, PLC flags
 *   left         the facade map, scaled to fit: '.' to clean, '*' cleaned,
 *                '#' obstacle, '|' joint/mullion, ' ' void, '-' other
 *                surface; 'A'/'B' the group bodies, '@' the carriage
 *   right        gait and step, link, mission progress, hold reason, the 12
 *                cup vacuum bars with the released (10) and sealed (45)
 *                thresholds as '|' marks, the alarm list with PLC times
 *   bottom       the last messages of the loop, then the key line with the
 *                E-stop key first
 */
#include "cli/console.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller/ctl.h"
#include "controller/mission.h"
#include "plc_bridge/regmap.h"
#include "robot/facade.h"

#define CON_MSGS 32
#define CON_MSG_LEN 200
#define CON_ALARMS 16
#define CON_BAR 10           /* characters of a vacuum bar */
#define CON_BAR_KPA 60.0f    /* full scale */

typedef struct {
    uint32_t ticks;
    char text[64];
} con_alarm;

struct con {
    const char *prog;
    int up;                  /* ncurses owns the terminal */
    int done;                /* end() was called: lines again */
    int dead;                /* the terminal could not be taken: lines */
    SCREEN *scr;
    double last_draw;
    int force;               /* redraw at the next draw() */
    int help;                /* the help overlay is up */
    char msgs[CON_MSGS][CON_MSG_LEN];
    unsigned msg_n;          /* messages so far (ring) */
    con_alarm alarms[CON_ALARMS];
    unsigned alarm_n;
    int was_held;            /* -1 before the first draw */
    uint64_t seen_holds;
};

static double con_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int con_wanted(void)
{
    const char *t = getenv("TERM");
    return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && t && *t && strcmp(t, "dumb") != 0;
}

con *con_open(const char *prog)
{
    con *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    k->prog = prog;
    k->was_held = -1;
    k->force = 1;
    return k;
}

static void con_take(con *k)
{
    if (k->up || k->done || k->dead) return;
    k->scr = newterm(NULL, stdout, stdin);
    if (!k->scr) {
        k->dead = 1;
        fprintf(stderr, "crossclimb %s: the console cannot use this terminal: progress lines instead\n", k->prog);
        return;
    }
    set_term(k->scr);
    cbreak(); /* Ctrl-C still interrupts: the loop holds the robot and leaves */
    noecho();
    nodelay(stdscr, TRUE);
    keypad(stdscr, TRUE);
    curs_set(0);
    k->up = 1;
    k->force = 1;
}

static void con_give_back(con *k)
{
    if (k->up) {
        endwin();
        delscreen(k->scr);
        k->scr = NULL;
        k->up = 0;
    }
}

void con_close(con *k)
{
    if (!k) return;
    con_give_back(k);
    free(k);
}

/* ------------------------------------------------------------ the hooks */

static void con_message(void *user, const char *line)
{
    con *k = user;
    if (k->done || k->dead) { /* lines again */
        printf("%s: %s\n", k->prog, line);
        return;
    }
    snprintf(k->msgs[k->msg_n % CON_MSGS], CON_MSG_LEN, "%s", line);
    k->msg_n++;
    k->force = 1;
}

static void con_end(void *user)
{
    con *k = user;
    con_give_back(k);
    k->done = 1;
    /* the last messages, as lines, for the scrollback */
    unsigned first = k->msg_n > 6 ? k->msg_n - 6 : 0;
    for (unsigned i = first; i < k->msg_n; i++) printf("%s: %s\n", k->prog, k->msgs[i % CON_MSGS]);
}

static cli_key con_poll_key(void *user)
{
    con *k = user;
    if (!k->up) return CLI_KEY_NONE;
    for (;;) {
        int ch = getch();
        if (ch == ERR) return CLI_KEY_NONE;
        k->force = 1;
        if (ch == ' ' || ch == 'e' || ch == 'E') { /* the E-stop: whatever screen is up */
            k->help = 0;
            return CLI_KEY_HOLD;
        }
        if (ch == KEY_RESIZE) { /* ncurses has the new size (SIGWINCH): all of it again */
            clearok(curscr, TRUE);
            continue;
        }
        if (k->help) { /* any other key closes the overlay */
            k->help = 0;
            continue;
        }
        if (COLS < CON_MIN_COLS || LINES < CON_MIN_ROWS) continue; /* only the E-stop there */
        switch (ch) {
        case '?': k->help = 1; continue;
        case 'a': return CLI_KEY_ACK;
        case 'p': return CLI_KEY_PAUSE;
        case 'r': return CLI_KEY_RESUME;
        case 'n': return CLI_KEY_STEP;
        case 's': return CLI_KEY_STOP;
        case 'q': return CLI_KEY_QUIT;
        case 'l': case KEY_RIGHT: return CLI_KEY_JOG_XP;
        case 'h': case KEY_LEFT: return CLI_KEY_JOG_XM;
        case 'k': case KEY_UP: return CLI_KEY_JOG_YP;
        case 'j': case KEY_DOWN: return CLI_KEY_JOG_YM;
        default: continue;
        }
    }
}

/* ------------------------------------------------------------- drawing */

static void put(int y, int x, int w, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void put(int y, int x, int w, const char *fmt, ...)
{
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    if (w > 0) mvaddnstr(y, x, b, w);
}

/* 80 characters: the whole line fits 80 columns, the E-stop key first */
static const char *const key_line = "SPACE/e=E-STOP(HOLD) a=ack p=pause r=resume n=step hjkl=jog s=stop q=quit ?=help";

static void draw_keys(void)
{
    attron(A_REVERSE);
    mvhline(LINES - 1, 0, ' ', COLS);
    put(LINES - 1, 0, COLS, "%s", key_line);
    attroff(A_REVERSE);
}

static char map_char(const mission *m, const facade *f, double x0, double y0, double x1, double y1)
{
    const double cm = (double)f->cell_mm;
    int64_t c0 = (int64_t)(x0 / cm), c1 = (int64_t)(x1 / cm), r0 = (int64_t)(y0 / cm), r1 = (int64_t)(y1 / cm);
    if (c1 <= c0) c1 = c0 + 1;
    if (r1 <= r0) r1 = r0 + 1;
    int64_t sc = (c1 - c0 + 5) / 6, sr = (r1 - r0 + 5) / 6; /* at most ~6x6 samples a character */
    int cleaned = 0, planned = 0, obst = 0, joint = 0, voidn = 0, n = 0;
    for (int64_t r = r0; r < r1; r += sr)
        for (int64_t c = c0; c < c1; c += sc) {
            if (c < 0 || r < 0 || (uint64_t)c >= f->cols || (uint64_t)r >= f->rows) {
                voidn++;
                n++;
                continue;
            }
            size_t i = (size_t)r * f->cols + (size_t)c;
            facade_surface s = FACADE_CELL_SURFACE(f->cells[i]);
            if (m->live_map && m->live_map[i]) cleaned++;
            if (m->plan_map && m->plan_map[i]) planned++;
            if (s == FACADE_OBSTACLE) obst++;
            else if (s == FACADE_JOINT || s == FACADE_MULLION) joint++;
            else if (s == FACADE_VOID) voidn++;
            n++;
        }
    if (cleaned) return '*';
    if (planned) return '.';
    if (obst) return '#';
    if (voidn * 2 > n) return ' ';
    if (joint) return '|';
    return '-';
}

static void draw_map(const mission *m, int top, int left, int w, int h)
{
    const facade *f = m->fac;
    if (!f || w < 4 || h < 3) return;
    put(top, left, w, "facade %s (%.1f x %.1f m)", f->name, facade_width_mm(f) / 1000.0, facade_height_mm(f) / 1000.0);
    top++;
    h--;
    const double fw = facade_width_mm(f), fh = facade_height_mm(f);
    /* a character is about twice as tall as wide */
    double sx = fw / w, sy = fh / h;
    if (sy < 2.0 * sx) sy = 2.0 * sx;
    else sx = sy / 2.0;
    int mw = (int)(fw / sx), mh = (int)(fh / sy);
    if (mw > w) mw = w;
    if (mh > h) mh = h;
    for (int j = 0; j < mh; j++) {
        double y1 = fh - j * sy, y0 = y1 - sy; /* row 0 of the screen: the top of the facade */
        for (int i = 0; i < mw; i++)
            mvaddch(top + j, left + i, (chtype)(unsigned char)map_char(m, f, i * sx, y0, (i + 1) * sx, y1));
    }
    /* the robot: group bodies and the carriage */
    for (int g = 0; g < HOLD_GROUP_COUNT; g++) {
        double b[2];
        mis_pose_group_mm(m->p, &m->d.pose, (hold_group)g, b);
        int i = (int)(b[0] / sx), j = (int)((fh - b[1]) / sy);
        if (i >= 0 && i < mw && j >= 0 && j < mh) mvaddch(top + j, left + i, g == HOLD_GROUP_A ? 'A' : 'B');
    }
    int i = (int)(m->d.pose.c_mm[0] / sx), j = (int)((fh - m->d.pose.c_mm[1]) / sy);
    if (i >= 0 && i < mw && j >= 0 && j < mh) mvaddch(top + j, left + i, '@');
    put(top + mh, left, w, "@ robot A/B groups * cleaned . to clean # obstacle | joint");
}

static void bar(char *out, float kpa, float rel, float sealed)
{
    int fill = (int)(kpa / CON_BAR_KPA * CON_BAR + 0.5f);
    int ir = (int)(rel / CON_BAR_KPA * CON_BAR), is = (int)(sealed / CON_BAR_KPA * CON_BAR);
    for (int i = 0; i < CON_BAR; i++) out[i] = i < fill ? '#' : '.';
    if (ir >= 0 && ir < CON_BAR) out[ir] = '|';
    if (is >= 0 && is < CON_BAR) out[is] = '|';
    out[CON_BAR] = '\0';
}

static void flags_text(char *b, size_t len, uint16_t fl)
{
    static const char *const names[] = {"RUN", "HOLD", "ESTOP", "WDOG", "REJECTED", "TETHER", "SUPPLY-LOW", "MANUAL"};
    b[0] = '\0';
    for (unsigned i = 0; i < 8; i++)
        if (fl & (1u << i)) {
            size_t n = strlen(b);
            snprintf(b + n, len - n, "%s%s", n ? " " : "", names[i]);
        }
    if (!b[0]) snprintf(b, len, "-");
}

static void draw_help(void)
{
    static const char *const lines[] = {
        "Keys",
        "SPACE or e  E-STOP: HOLD now (works on every screen)",
        "a           acknowledge a HOLD / start after the start-up HOLD",
        "p           pause after the half-step under way",
        "r           resume",
        "n           single step: from a pause, one half-step, then pause",
        "h or LEFT   jog -X  | while paused: one half-step, checked",
        "l or RIGHT  jog +X  | as the mission's (footholds, path,",
        "k or UP     jog +Y  | range, holding); the mission stays",
        "j or DOWN   jog -Y  | paused ('r' goes on from there)",
        "s           stop the mission after the half-step under way",
        "q           quit: HOLD and leave (refused unless the robot is safe:",
        "            HELD, or both groups gripping, no half-step in flight)",
        "?           this help (any key closes it)",
        "Fusion line: the model's action, grip risk % of A/B, attention % on",
        "            pressure/proximity/camera (it can only add care)",
    };
    const int n = (int)(sizeof lines / sizeof lines[0]), w = 72; /* the longest line + 4, <= 80 */
    int top = (LINES - n - 2) / 2, left = (COLS - w) / 2;
    for (int i = 0; i < n + 2; i++) mvhline(top + i, left, ' ', w);
    mvaddch(top, left, '+');
    mvhline(top, left + 1, '-', w - 2);
    mvaddch(top, left + w - 1, '+');
    mvhline(top + n + 1, left + 1, '-', w - 2);
    mvaddch(top + n + 1, left, '+');
    mvaddch(top + n + 1, left + w - 1, '+');
    for (int i = 0; i < n; i++) {
        mvaddch(top + 1 + i, left, '|');
        put(top + 1 + i, left + 2, w - 4, "%s", lines[i]);
        mvaddch(top + 1 + i, left + w - 1, '|');
    }
}

static void con_note_alarms(con *k, const ctl *c)
{
    const int held = ctl_phase(c) == SUP_HELD;
    if ((held && k->was_held != 1) || c->sup.holds != k->seen_holds) {
        con_alarm *a = &k->alarms[k->alarm_n % CON_ALARMS];
        a->ticks = c->now_ticks;
        snprintf(a->text, sizeof a->text, "HOLD %s (PLC %s)", sup_reason_name(c->sup.reason),
                 cc_hold_reason_name(c->last.hold_reason));
        k->alarm_n++;
        k->force = 1;
    }
    k->seen_holds = c->sup.holds;
    k->was_held = held;
}

static void con_draw(void *user, const cc_status *st, const ctl *c, const mission *m, const link_stats *ls)
{
    con *k = user;
    (void)st;
    if (k->done || k->dead) return;
    con_note_alarms(k, c);
    double now = con_wall();
    if (!k->force && now - k->last_draw < CON_REDRAW_MS / 1000.0) return;
    con_take(k);
    if (!k->up) return;
    k->last_draw = now;
    k->force = 0;
    erase();
    if (COLS < CON_MIN_COLS || LINES < CON_MIN_ROWS) {
        put(0, 0, COLS, "terminal too small: %dx%d, the console needs %dx%d", COLS, LINES, CON_MIN_COLS, CON_MIN_ROWS);
        put(1, 0, COLS, "enlarge the terminal; until then only the E-stop key works");
        put(2, 0, COLS, "phase %s, mission %s, hold %s", sup_phase_name(ctl_phase(c)),
            mis_state_name((mis_state)m->d.state), ctl_phase(c) == SUP_HELD ? sup_reason_name(c->sup.reason) : "none");
        attron(A_REVERSE);
        mvhline(LINES - 1, 0, ' ', COLS);
        put(LINES - 1, 0, COLS, "SPACE/e = E-STOP (HOLD)");
        attroff(A_REVERSE);
        refresh();
        return;
    }
    const params_robot *p = &c->params;
    const sup_phase ph = ctl_phase(c);
    char fl[96], d[160];
    flags_text(fl, sizeof fl, c->last.flags);
    attron(A_BOLD);
    put(0, 0, COLS, "crossclimb %s  t=%.1f s  %s%s  PLC flags: %s", k->prog, c->now_ticks / 100.0,
        ph == SUP_HELD ? "*** HELD *** " : "", sup_phase_name(ph), fl);
    attroff(A_BOLD);

    const int nmsg = 5;
    const int body = LINES - 2 - nmsg; /* rows 1 .. body */
    const int rx = COLS / 2 < 40 ? 40 : COLS / 2, rw = COLS - rx;
    draw_map(m, 1, 0, rx - 1, body);

    mis_progress pr;
    mis_get_progress(m, &pr);
    int y = 1;
    put(y++, rx, rw, "half-step %u/%u  gait %s (%s)", pr.half_steps, pr.half_steps_planned,
        gait_state_name(c->gait.state), hold_group_name(c->gait.g));
    double lat = ls && ls->latency_n ? ls->latency_sum_ms / (double)ls->latency_n : 0.0;
    unsigned long long errs = ls ? (unsigned long long)(ls->timeouts + ls->crc_errors + ls->exceptions +
                                                        ls->proto_errors + ls->conn_errors) : 0ull;
    put(y++, rx, rw, "Link %s lat %.1f/%.1f ms err %llu",
        c->link_fail_run ? (c->link_fail_run > 3 ? "DOWN" : "DEGRADED") : "UP", lat,
        ls ? ls->latency_max_ms : 0.0, errs);
    char left_s[32] = "?";
    if (pr.time_left_s >= 0.0 && pr.half_steps > 0) snprintf(left_s, sizeof left_s, "~%.0f s", pr.time_left_s);
    put(y++, rx, rw, "%s lane %u/%u %.0f%% left %s", mis_state_name(pr.state), pr.lane, pr.lanes,
        100.0 * pr.fraction, left_s);
    put(y++, rx, rw, "Hold: %s", ph == SUP_HELD ? sup_reason_name(c->sup.reason) : "none");
    /* the perception gate's last verdict: action, grip risk of A/B, attention
     * share in % on pressure/proximity/camera (S5: it only adds care) */
    if (!m->gate) {
        put(y++, rx, rw, "Fusion off");
    } else if (!m->has_verdict) {
        put(y++, rx, rw, "Fusion on, no verdict yet");
    } else {
        static const char *const act[FG_ACTION_COUNT] = {"proceed", "shorten", "side-L", "side-R", "STOP"};
        const fg_verdict *v = &m->last_verdict;
        put(y++, rx, rw, "Fusion %s risk %.0f/%.0f%% att %.0f/%.0f/%.0f",
            (unsigned)v->action < FG_ACTION_COUNT ? act[v->action] : "?", 100.0 * (double)v->grip_risk[0],
            100.0 * (double)v->grip_risk[1], 100.0 * (double)v->share[0], 100.0 * (double)v->share[1],
            100.0 * (double)v->share[2]);
    }
    put(y++, rx, rw, "%s", ctl_describe(c, d, sizeof d));
    put(y++, rx, rw, "cups 0..%.0f kPa |=rel %.0f,seal %.0f S=sealed", (double)CON_BAR_KPA,
        (double)p->vac_released_kpa, (double)p->vac_sealed_kpa);
    static const char *const cup[CC_CUPS_N] = {"A1a", "A1b", "A1c", "A2a", "A2b", "A2c",
                                               "B1a", "B1b", "B1c", "B2a", "B2b", "B2c"};
    for (unsigned i = 0; i < CC_CUPS_N / 2; i++) {
        char b1[CON_BAR + 1], b2[CON_BAR + 1];
        float v1 = c->last.cup_kpa[i], v2 = c->last.cup_kpa[i + CC_CUPS_N / 2];
        bar(b1, v1, p->vac_released_kpa, p->vac_sealed_kpa);
        bar(b2, v2, p->vac_released_kpa, p->vac_sealed_kpa);
        put(y++, rx, rw, "%s[%s]%3.0f%c %s[%s]%3.0f%c", cup[i], b1, (double)v1,
            v1 >= p->vac_sealed_kpa ? 'S' : v1 <= p->vac_released_kpa ? 'r' : ' ', cup[i + CC_CUPS_N / 2], b2,
            (double)v2, v2 >= p->vac_sealed_kpa ? 'S' : v2 <= p->vac_released_kpa ? 'r' : ' ');
    }
    put(y++, rx, rw, "Alarms (PLC time):%s", k->alarm_n ? "" : " none");
    for (unsigned i = 0; y <= body && i < k->alarm_n && i < CON_ALARMS; i++) {
        const con_alarm *a = &k->alarms[(k->alarm_n - 1 - i) % CON_ALARMS]; /* newest first */
        put(y++, rx, rw, " t=%.1f s %s", a->ticks / 100.0, a->text);
    }
    mvhline(body + 1, 0, '-', COLS);
    unsigned first = k->msg_n > (unsigned)nmsg - 1 ? k->msg_n - ((unsigned)nmsg - 1) : 0;
    int my = body + 2;
    for (unsigned i = first; i < k->msg_n; i++) put(my++, 0, COLS, "%s", k->msgs[i % CON_MSGS]);
    if (k->help) draw_help();
    draw_keys();
    refresh();
}

static const cli_ui con_hooks = {con_draw, con_poll_key, con_message, con_end};

const cli_ui *con_ui(void)
{
    return &con_hooks;
}
