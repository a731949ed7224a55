/*
 * cmd_plc.c — `crossclimb plc ...`: the PLC technician's tools (SPEC §10).
 *
 *   plc ports                         serial ports (libserialport)
 *   plc get [--plc URI] DEVICE...     read FX devices: D100 X0-X17 D110-D121 T5
 *   plc set [--plc URI] DEVICE VALUE --yes
 *   plc monitor [--plc URI] [--count N] [--interval-ms N]
 *   plc program check FILE            (cli/cmd_plc_program.c)
 *
 * get/monitor only read.  set writes outside the command block, so it needs
 * --yes and every write is logged (stderr and the commissioning log).
 */
#include <errno.h>
#include <libserialport.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "plc_bridge/image.h"
#include "plc_bridge/link.h"
#include "plc_bridge/regmap.h"
#include "plc_bridge/uri.h"

#define DEFAULT_PLC_URI "tcp://127.0.0.1:1502"

static void plc_usage(FILE *f)
{
    fprintf(f,
            "usage: crossclimb plc ports\n"
            "       crossclimb plc get [--plc URI] DEVICE|RANGE...\n"
            "       crossclimb plc set [--plc URI] DEVICE VALUE --yes\n"
            "       crossclimb plc monitor [--plc URI] [--count N] [--interval-ms MS]\n"
            "       crossclimb plc program check FILE...   (validate an FX1N instruction list)\n"
            "       crossclimb plc program list FILE       (step-numbered listing for GX Developer)\n"
            "\n"
            "URI: tcp://HOST:PORT or rtu:PATH?baud=19200&parity=E&data=8&stop=1&slave=1&rs485=0\n"
            "     (also timeout_ms=, byte_timeout_ms=, retries=); default " DEFAULT_PLC_URI "\n"
            "DEVICE: FX names, X/Y octal: D100 D8012 M8000 X17 Y4 T5 C3 S10; RANGE: X0-X17 "
            "D110-D121\n");
}

/* Shared option parsing: --plc URI, --yes, --count N, --interval-ms N;
 * positional arguments are kept in order. */
typedef struct {
    const char *uri;
    int yes;
    long count;
    long interval_ms;
    int npos;
    char *pos[128];
} plc_opts;

static int parse_long_arg(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || errno || *end || end == v || n < lo || n > hi) {
        fprintf(stderr, "crossclimb plc: %s %s: expected a whole number %ld..%ld\n", opt,
                v ? v : "(missing)", lo, hi);
        return -1;
    }
    *out = n;
    return 0;
}

static int parse_opts(int argc, char **argv, plc_opts *o)
{
    o->uri = DEFAULT_PLC_URI;
    o->yes = 0;
    o->count = 0;
    o->interval_ms = 200;
    o->npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--plc")) {
            if (++i >= argc) {
                fprintf(stderr, "crossclimb plc: --plc needs a URI\n");
                return -1;
            }
            o->uri = argv[i];
        } else if (!strncmp(a, "--plc=", 6)) {
            o->uri = a + 6;
        } else if (!strcmp(a, "--yes")) {
            o->yes = 1;
        } else if (!strcmp(a, "--count")) {
            const char *v = ++i < argc ? argv[i] : NULL;
            if (parse_long_arg("--count", v, 1, 1000000000L, &o->count)) return -1;
        } else if (!strcmp(a, "--interval-ms")) {
            const char *v = ++i < argc ? argv[i] : NULL;
            if (parse_long_arg("--interval-ms", v, 0, 60000, &o->interval_ms)) return -1;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "crossclimb plc %s: unknown option '%s'\n", argv[0], a);
            return -1;
        } else {
            if (o->npos >= (int)(sizeof o->pos / sizeof o->pos[0])) {
                fprintf(stderr, "crossclimb plc %s: too many arguments\n", argv[0]);
                return -1;
            }
            o->pos[o->npos++] = argv[i];
        }
    }
    return 0;
}

static int open_link(const char *uri_s, cc_link **out)
{
    link_uri uri;
    char err[256];
    if (link_uri_parse(uri_s, 0, &uri, err, sizeof err) != 0) {
        fprintf(stderr, "crossclimb plc: --plc '%s': %s\n", uri_s, err);
        return CLI_EXIT_USAGE;
    }
    if (link_open(&uri, out) != 0) {
        fprintf(stderr, "crossclimb plc: cannot set up a link for %s\n", uri_s);
        return CLI_EXIT_FAIL;
    }
    if (link_connect(*out) != 0) {
        fprintf(stderr, "crossclimb plc: %s: %s\n", uri_s, link_last_error(*out));
        link_close(*out);
        *out = NULL;
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* ------------------------------------------------------------------ ports */
static int plc_ports(void)
{
    struct sp_port **ports = NULL;
    enum sp_return r = sp_list_ports(&ports);
    if (r != SP_OK) {
        char *msg = sp_last_error_message();
        fprintf(stderr, "crossclimb plc ports: cannot list serial ports: %s\n",
                msg ? msg : "error");
        sp_free_error_message(msg);
        return CLI_EXIT_FAIL;
    }
    int n = 0;
    for (; ports[n]; n++) {
        struct sp_port *p = ports[n];
        const char *desc = sp_get_port_description(p);
        enum sp_transport t = sp_get_port_transport(p);
        printf("%s\n  description: %s\n", sp_get_port_name(p), desc ? desc : "-");
        if (t == SP_TRANSPORT_USB) {
            int vid = 0, pid = 0;
            const char *man = sp_get_port_usb_manufacturer(p);
            const char *prod = sp_get_port_usb_product(p);
            const char *ser = sp_get_port_usb_serial(p);
            printf("  transport:   USB\n");
            if (sp_get_port_usb_vid_pid(p, &vid, &pid) == SP_OK)
                printf("  usb id:      %04x:%04x\n", (unsigned)vid, (unsigned)pid);
            printf("  manufacturer: %s\n  product:     %s\n  serial:      %s\n",
                   man ? man : "-", prod ? prod : "-", ser ? ser : "-");
        } else {
            printf("  transport:   %s\n", t == SP_TRANSPORT_BLUETOOTH ? "Bluetooth" : "native");
        }
    }
    if (n == 0)
        printf("no serial ports found. (Pseudo-terminals are not listed; an rtu: URI on a pty "
               "path still works.)\n");
    sp_free_port_list(ports);
    return CLI_EXIT_OK;
}

/* -------------------------------------------------------------------- get */
static int print_range(cc_link *l, fx_range r)
{
    char name[16];
    fx_device d = r.first;
    mb_table table;
    uint16_t addr;
    int rc = 0;
    unsigned done = 0;
    /* Word devices (D, and T/C values) read as registers, others as bits;
     * T and C also show their contact. */
    int words = fx_map_word(d, &addr) == 0;
    int bits = fx_map_bit(d, &table, &addr) == 0;
    while (done < r.count) {
        unsigned chunk = r.count - done;
        fx_device cur = {d.kind, (uint16_t)(d.num + done)};
        uint16_t regs[125];
        uint8_t bv[125];
        if (chunk > 125) chunk = 125;
        if (words) {
            fx_map_word(cur, &addr);
            rc = link_read_regs(l, addr, (uint16_t)chunk, regs);
            if (rc) break;
        }
        if (bits) {
            fx_map_bit(cur, &table, &addr);
            rc = link_read_bits(l, table, addr, (uint16_t)chunk, bv);
            if (rc) break;
        }
        for (unsigned i = 0; i < chunk; i++) {
            fx_device di = {d.kind, (uint16_t)(cur.num + i)};
            fx_format_device(di, name, sizeof name);
            if (words && bits)
                printf("%-7s %6u  (contact %s)\n", name, (unsigned)regs[i], bv[i] ? "on" : "off");
            else if (words)
                printf("%-7s %6u  0x%04x  %6d\n", name, (unsigned)regs[i], (unsigned)regs[i],
                       (int)(int16_t)regs[i]);
            else
                printf("%-7s %u\n", name, (unsigned)bv[i]);
        }
        done += chunk;
    }
    if (rc) {
        fx_format_device(d, name, sizeof name);
        fprintf(stderr, "crossclimb plc get: %s: %s (%s)\n", name, link_strerror(rc),
                link_last_error(l));
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static int plc_get(int argc, char **argv)
{
    plc_opts o;
    cc_link *l = NULL;
    fx_range ranges[64];
    int rc = CLI_EXIT_OK;
    if (parse_opts(argc, argv, &o)) return CLI_EXIT_USAGE;
    if (o.npos == 0) {
        fprintf(stderr, "crossclimb plc get: name at least one device (e.g. D100 or X0-X17)\n");
        return CLI_EXIT_USAGE;
    }
    if (o.npos > 64) {
        fprintf(stderr, "crossclimb plc get: at most 64 devices or ranges at once\n");
        return CLI_EXIT_USAGE;
    }
    for (int i = 0; i < o.npos; i++) {
        int e = fx_parse_range(o.pos[i], &ranges[i]);
        if (e) {
            fprintf(stderr, "crossclimb plc get: '%s': %s\n", o.pos[i], regmap_strerror(e));
            return CLI_EXIT_USAGE;
        }
        uint16_t a;
        mb_table t;
        if (fx_map_word(ranges[i].first, &a) != 0 && fx_map_bit(ranges[i].first, &t, &a) != 0) {
            fprintf(stderr, "crossclimb plc get: '%s': %s\n", o.pos[i],
                    regmap_strerror(REGMAP_ENOMAP));
            return CLI_EXIT_USAGE;
        }
    }
    rc = open_link(o.uri, &l);
    if (rc) return rc;
    for (int i = 0; i < o.npos && rc == CLI_EXIT_OK; i++) rc = print_range(l, ranges[i]);
    link_close(l);
    return rc;
}

/* -------------------------------------------------------------------- set */

/* Append one line to the commissioning log: writes outside the command
 * block are rare, deliberate and must be traceable. */
static void log_write(const char *uri, const char *dev, long value, int ok)
{
    char path[512];
    const char *dir = getenv("CROSSCLIMB_LOG_DIR");
    const char *home = getenv("HOME");
    char tbuf[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "crossclimb plc set: %s %s = %ld on %s: %s\n", tbuf, dev, value, uri,
            ok ? "written" : "FAILED");
    if (dir) {
        snprintf(path, sizeof path, "%s/plc-writes.log", dir);
    } else if (home) {
        char d1[480];
        snprintf(d1, sizeof d1, "%s/.local/state/crossclimb", home);
        char d0[480];
        snprintf(d0, sizeof d0, "%s/.local/state", home);
        mkdir(d0, 0755);
        mkdir(d1, 0755);
        snprintf(path, sizeof path, "%s/plc-writes.log", d1);
    } else {
        return;
    }
    FILE *f = fopen(path, "a");
    if (!f) {
        fprintf(stderr, "crossclimb plc set: cannot append to %s: %s\n", path, strerror(errno));
        return;
    }
    fprintf(f, "%s set %s = %ld via %s: %s\n", tbuf, dev, value, uri, ok ? "written" : "FAILED");
    fclose(f);
}

static int plc_set(int argc, char **argv)
{
    plc_opts o;
    cc_link *l = NULL;
    fx_device dev;
    long value;
    uint16_t addr;
    mb_table table;
    int rc;
    if (parse_opts(argc, argv, &o)) return CLI_EXIT_USAGE;
    if (o.npos != 2) {
        fprintf(stderr, "crossclimb plc set: expected DEVICE VALUE (e.g. plc set D300 5 --yes)\n");
        return CLI_EXIT_USAGE;
    }
    int e = fx_parse_device(o.pos[0], &dev);
    if (e) {
        fprintf(stderr, "crossclimb plc set: '%s': %s\n", o.pos[0], regmap_strerror(e));
        return CLI_EXIT_USAGE;
    }
    if (dev.kind == FX_DEV_X) {
        fprintf(stderr, "crossclimb plc set: '%s': X devices are inputs and cannot be written\n",
                o.pos[0]);
        return CLI_EXIT_USAGE;
    }
    int is_word = fx_map_word(dev, &addr) == 0;
    if (!is_word && fx_map_bit(dev, &table, &addr) != 0) {
        fprintf(stderr, "crossclimb plc set: '%s': %s\n", o.pos[0], regmap_strerror(REGMAP_ENOMAP));
        return CLI_EXIT_USAGE;
    }
    if (parse_long_arg("VALUE", o.pos[1], is_word ? -32768 : 0, is_word ? 65535 : 1, &value))
        return CLI_EXIT_USAGE;
    if (!o.yes) {
        fprintf(stderr,
                "crossclimb plc set: refusing to write %s = %ld without --yes: a write outside "
                "the command block can move the robot; repeat with --yes to confirm\n",
                o.pos[0], value);
        return CLI_EXIT_USAGE;
    }
    rc = open_link(o.uri, &l);
    if (rc) return rc;
    int lr = is_word ? link_write_reg(l, addr, (uint16_t)value) : link_write_bit(l, addr, (int)value);
    log_write(o.uri, o.pos[0], value, lr == 0);
    if (lr) {
        fprintf(stderr, "crossclimb plc set: %s: %s (%s)\n", o.pos[0], link_strerror(lr),
                link_last_error(l));
        rc = CLI_EXIT_FAIL;
    }
    link_close(l);
    return rc;
}

/* ---------------------------------------------------------------- monitor */
static volatile sig_atomic_t monitor_stop;
static void on_sigint(int sig)
{
    (void)sig;
    monitor_stop = 1;
}

static int plc_monitor(int argc, char **argv)
{
    plc_opts o;
    cc_link *l = NULL;
    cc_status st;
    int rc;
    if (parse_opts(argc, argv, &o)) return CLI_EXIT_USAGE;
    if (o.npos) {
        fprintf(stderr, "crossclimb plc monitor: unexpected argument '%s'\n", o.pos[0]);
        return CLI_EXIT_USAGE;
    }
    rc = open_link(o.uri, &l);
    if (rc) return rc;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int tty = isatty(STDOUT_FILENO);
    long n = 0;
    int failures = 0;
    /* Read-only: monitor never writes the command block, so it cannot take
     * control from the controller or feed the PLC watchdog. */
    while (!monitor_stop && (o.count == 0 || n < o.count)) {
        int lr = link_read_status(l, &st, NULL);
        if (lr) {
            fprintf(stderr, "crossclimb plc monitor: %s (%s)\n", link_strerror(lr),
                    link_last_error(l));
            if (++failures >= 3 && o.count) {
                rc = CLI_EXIT_FAIL;
                break;
            }
        } else {
            failures = 0;
            if (tty) printf("\033[H\033[2J");
            cli_print_status(stdout, &st, l);
            if (!tty) printf("--\n");
            fflush(stdout);
            n++;
        }
        if (o.interval_ms) {
            struct timespec ts = {o.interval_ms / 1000, (o.interval_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    link_close(l);
    return rc;
}

int cmd_plc(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        plc_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "program")) return cmd_plc_program(argc - 1, argv + 1);
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            plc_usage(stdout);
            return CLI_EXIT_OK;
        }
    if (!strcmp(sub, "ports")) {
        if (argc > 2) {
            fprintf(stderr, "crossclimb plc ports: takes no arguments\n");
            return CLI_EXIT_USAGE;
        }
        return plc_ports();
    }
    if (!strcmp(sub, "get")) return plc_get(argc - 1, argv + 1);
    if (!strcmp(sub, "set")) return plc_set(argc - 1, argv + 1);
    if (!strcmp(sub, "monitor")) return plc_monitor(argc - 1, argv + 1);
    fprintf(stderr, "crossclimb plc: '%s' is not a plc command\n", sub);
    plc_usage(stderr);
    return CLI_EXIT_USAGE;
}
