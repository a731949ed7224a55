/*
 * fxil.c — FX1N instruction-list parser, checker and interpreter.  See fxil.h.
 *
 * Semantics follow the FX1S/FX1N/FX2N programming manual:
 *  - one result register (the "operation result"), a block stack for
 *    LD...ANB/ORB and an 11-level MPS stack;
 *  - every instruction writes device memory as it executes, so of two
 *    instructions driving one device the later one in the program wins
 *    (SET/RST priority, double coils);
 *  - LDP/LDF/ANDP/ANDF/ORP/ORF, PLS/PLF, counter coils and the pulse (P)
 *    forms of applied instructions each keep their own edge memory, one per
 *    instruction, cleared at STOP->RUN (so LDP M8000 pulses on the first scan);
 *  - timers count ticks of their clock (1, 10 or 100 ms) that occurred since
 *    the previous scan while their coil is driven; the current value stops at
 *    the set value and the contact is on from there; like on the FX a contact
 *    can close up to one tick early and up to one scan late.  T0-T199 100 ms,
 *    T200-T245 10 ms, T246-T249 1 ms retentive, T250-T255 100 ms retentive;
 *  - C0-C199 16-bit up counters count rising edges of their coil up to the
 *    set value; the contact stays on until RST;
 *  - 16-bit applied instructions work on signed 16-bit words; ADD/SUB wrap
 *    and set M8020 zero, M8021 borrow, M8022 carry.
 *
 * Step sizes (FX1N programming manual, "number of steps"; an FX step is one
 * 16-bit program word):
 *   LD LDI AND ANI OR ORI            1   (2 with special M8000-M8255)
 *   LDP LDF ANDP ANDF ORP ORF        2
 *   ANB ORB MPS MRD MPP INV NOP END  1
 *   OUT Y, M                         1   (S, special M: 2; T K/D: 3; C0-C199 K/D: 3)
 *   SET Y, M                         1   (S, special M: 2)
 *   RST Y, M                         1   (S, special M, T, C: 2; D: 3)
 *   PLS PLF                          2
 *   16-bit applied instruction       1 + 2 per operand: MOV 5, CMP 7, ZCP 9,
 *                                    ADD/SUB 7, INC/DEC 3, WAND/WOR 7, ZRST 5,
 *                                    FROM/TO 9 (P forms the same)
 */
#include "fxil.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------- FX1N ranges */
#define FX1N_XY_MAX 0177u
#define FX1N_M_MAX 1535u
#define FX1N_M_SP_FIRST 8000u
#define FX1N_M_SP_LAST 8255u
#define FX1N_S_MAX 999u
#define FX1N_T_MAX 255u
#define FX1N_C_MAX 255u
#define FX1N_C16_MAX 199u
#define FX1N_D_MAX 7999u
#define FX1N_D_SP_FIRST 8000u
#define FX1N_D_SP_LAST 8255u

#define FILE_MAX (8u << 20) /* bytes; a full 8000-step program with comments is < 1 MiB */
#define TOKEN_MAX 15u       /* longest operand token accepted ("K4X177" is 6) */

/* ------------------------------------------------------- instructions */
typedef enum {
    OP_LD, OP_LDI, OP_LDP, OP_LDF,
    OP_AND, OP_ANI, OP_ANDP, OP_ANDF,
    OP_OR, OP_ORI, OP_ORP, OP_ORF,
    OP_ANB, OP_ORB, OP_MPS, OP_MRD, OP_MPP, OP_INV,
    OP_OUT, OP_SET, OP_RST, OP_PLS, OP_PLF,
    OP_NOP, OP_END,
    OP_MOV, OP_CMP, OP_ZCP, OP_ADD, OP_SUB, OP_INC, OP_DEC, OP_WAND, OP_WOR, OP_ZRST,
    OP_FROM, OP_TO,
} fxil_op;

typedef struct {
    const char *name;
    uint8_t op;
    uint8_t pulse; /* P form of an applied instruction */
} mnemonic;

static const mnemonic mnemonics[] = {
    {"LD", OP_LD, 0},     {"LDI", OP_LDI, 0},   {"LDP", OP_LDP, 0},   {"LDF", OP_LDF, 0},
    {"AND", OP_AND, 0},   {"ANI", OP_ANI, 0},   {"ANDP", OP_ANDP, 0}, {"ANDF", OP_ANDF, 0},
    {"OR", OP_OR, 0},     {"ORI", OP_ORI, 0},   {"ORP", OP_ORP, 0},   {"ORF", OP_ORF, 0},
    {"ANB", OP_ANB, 0},   {"ORB", OP_ORB, 0},   {"MPS", OP_MPS, 0},   {"MRD", OP_MRD, 0},
    {"MPP", OP_MPP, 0},   {"INV", OP_INV, 0},   {"OUT", OP_OUT, 0},   {"SET", OP_SET, 0},
    {"RST", OP_RST, 0},   {"PLS", OP_PLS, 0},   {"PLF", OP_PLF, 0},   {"NOP", OP_NOP, 0},
    {"END", OP_END, 0},   {"MOV", OP_MOV, 0},   {"MOVP", OP_MOV, 1},  {"CMP", OP_CMP, 0},
    {"CMPP", OP_CMP, 1},  {"ZCP", OP_ZCP, 0},   {"ZCPP", OP_ZCP, 1},  {"ADD", OP_ADD, 0},
    {"ADDP", OP_ADD, 1},  {"SUB", OP_SUB, 0},   {"SUBP", OP_SUB, 1},  {"INC", OP_INC, 0},
    {"INCP", OP_INC, 1},  {"DEC", OP_DEC, 0},   {"DECP", OP_DEC, 1},  {"WAND", OP_WAND, 0},
    {"WANDP", OP_WAND, 1}, {"WOR", OP_WOR, 0},  {"WORP", OP_WOR, 1},  {"ZRST", OP_ZRST, 0},
    {"ZRSTP", OP_ZRST, 1}, {"FROM", OP_FROM, 0}, {"FROMP", OP_FROM, 1}, {"TO", OP_TO, 0},
    {"TOP", OP_TO, 1},
};
#define N_MNEMONICS (sizeof mnemonics / sizeof mnemonics[0])

static const char *op_name(unsigned op, unsigned pulse)
{
    for (size_t i = 0; i < N_MNEMONICS; i++)
        if (mnemonics[i].op == op && mnemonics[i].pulse == pulse) return mnemonics[i].name;
    return "?";
}

static int is_load(unsigned op) { return op <= OP_LDF; }
static int is_series(unsigned op) { return (op >= OP_AND && op <= OP_ORF) || op == OP_INV; }
static int is_applied(unsigned op) { return op >= OP_MOV; }
static int is_output(unsigned op) { return (op >= OP_OUT && op <= OP_PLF) || is_applied(op); }
static int is_edge_contact(unsigned op)
{
    return op == OP_LDP || op == OP_LDF || op == OP_ANDP || op == OP_ANDF || op == OP_ORP ||
           op == OP_ORF;
}

/* ------------------------------------------------------------ operands */
enum { OPD_NONE = 0, OPD_DEV, OPD_KN, OPD_CONST };

typedef struct {
    uint8_t type;  /* OPD_* */
    uint8_t dev;   /* fx_dev_kind for OPD_DEV and OPD_KN */
    uint8_t kn;    /* OPD_KN: digits as written (checked to be 1-4) */
    uint8_t hex;   /* OPD_CONST written as H */
    int32_t val;   /* device number, or the constant */
    uint16_t col;  /* 1-based column of the operand in its line, for messages */
} fxil_opd;

#define INSN_RUNG_START 0x01u /* a load that starts a new rung: clear the block stack */

typedef struct {
    uint8_t op;
    uint8_t pulse;
    uint8_t nopd;
    uint8_t flags;
    uint16_t edge;  /* edge-memory slot, for instructions that keep one */
    uint16_t step;  /* step number of this instruction */
    uint32_t line;
    fxil_opd o[4];
} fxil_insn;

struct fxil_program {
    char *name;
    fxil_insn *insn;
    size_t n, cap;
    uint8_t *edge; /* one per edge slot: drive/device state at the previous execution */
    size_t nedge;
    unsigned steps;
    unsigned nlines;
    int checked;
    /* run state */
    uint64_t now_ms;
    int first_scan;
    uint16_t scan_min, scan_max; /* D8011/D8012, 0.1 ms */
    fxil_blocks blocks;
};

/* ------------------------------------------------------------- errors */
const char *fxil_strerror(int code)
{
    switch (code) {
    case FXIL_OK: return "success";
    case FXIL_EINVAL: return "invalid argument or unchecked program";
    case FXIL_EIO: return "cannot read the program file";
    case FXIL_ENOMEM: return "out of memory";
    case FXIL_ESYNTAX: return "syntax error";
    case FXIL_EOPERAND: return "wrong operands for the instruction";
    case FXIL_ERANGE: return "device or constant outside the FX1N range";
    case FXIL_EOCTAL: return "X and Y numbers are octal (digits 0-7)";
    case FXIL_ESTRUCT: return "circuit structure error";
    case FXIL_ENOEND: return "END missing or misplaced";
    case FXIL_ESTEPS: return "program larger than the FX1N's 8000 steps";
    case FXIL_EUNSUP: return "not supported by the simulator";
    default: return "unknown fxil error";
    }
}

#if defined(__GNUC__) || defined(__clang__)
#define FXIL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FXIL_PRINTF(a, b)
#endif

static int fail(char *msg, size_t msglen, int code, const char *name, unsigned line,
                const char *fmt, ...) FXIL_PRINTF(6, 7);

/* Write "name:line: message" (line 0: "name: message") and return code. */
static int fail(char *msg, size_t msglen, int code, const char *name, unsigned line,
                const char *fmt, ...)
{
    if (!msg || msglen == 0) return code;
    int n = line ? snprintf(msg, msglen, "%s:%u: ", name, line) : snprintf(msg, msglen, "%s: ", name);
    if (n < 0) n = 0;
    if ((size_t)n < msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg + n, msglen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ------------------------------------------------------------ helpers */
static const char dev_letter[FX_DEV_COUNT] = {'X', 'Y', 'M', 'S', 'T', 'C', 'D'};

static int is_octal_dev(unsigned kind) { return kind == FX_DEV_X || kind == FX_DEV_Y; }

/* Device name into buf: "X17", "D100" (numbers may be out of range). */
static void dev_name(unsigned kind, long num, char *buf, size_t len)
{
    if (is_octal_dev(kind))
        snprintf(buf, len, "%c%lo", dev_letter[kind], (unsigned long)num);
    else
        snprintf(buf, len, "%c%ld", dev_letter[kind], num);
}

/* Operand as written canonically: "K4X0", "H10C0", "K-5", "T0". */
static void opd_text(const fxil_opd *o, char *buf, size_t len)
{
    char d[24];
    switch (o->type) {
    case OPD_CONST:
        if (o->hex)
            snprintf(buf, len, "H%X", (unsigned)o->val);
        else
            snprintf(buf, len, "K%ld", (long)o->val);
        break;
    case OPD_KN:
        dev_name(o->dev, o->val, d, sizeof d);
        snprintf(buf, len, "K%u%s", (unsigned)o->kn, d);
        break;
    case OPD_DEV: dev_name(o->dev, o->val, buf, len); break;
    default: snprintf(buf, len, "?"); break;
    }
}

/* 1 when every device first..first+count-1 of kind is an FX1N device. */
static int fx1n_valid(unsigned kind, long first, long count)
{
    long last = first + count - 1;
    if (first < 0 || count < 1) return 0;
    switch (kind) {
    case FX_DEV_X:
    case FX_DEV_Y: return last <= (long)FX1N_XY_MAX;
    case FX_DEV_M:
        return last <= (long)FX1N_M_MAX ||
               (first >= (long)FX1N_M_SP_FIRST && last <= (long)FX1N_M_SP_LAST);
    case FX_DEV_S: return last <= (long)FX1N_S_MAX;
    case FX_DEV_T: return last <= (long)FX1N_T_MAX;
    case FX_DEV_C: return last <= (long)FX1N_C_MAX;
    case FX_DEV_D:
        return last <= (long)FX1N_D_MAX ||
               (first >= (long)FX1N_D_SP_FIRST && last <= (long)FX1N_D_SP_LAST);
    default: return 0;
    }
}

static const char *fx1n_range_text(unsigned kind)
{
    switch (kind) {
    case FX_DEV_X: return "X0-X177";
    case FX_DEV_Y: return "Y0-Y177";
    case FX_DEV_M: return "M0-M1535, M8000-M8255";
    case FX_DEV_S: return "S0-S999";
    case FX_DEV_T: return "T0-T255";
    case FX_DEV_C: return "C0-C255";
    case FX_DEV_D: return "D0-D7999, D8000-D8255";
    default: return "?";
    }
}

/* ------------------------------------------------------------- parsing */

/* Parse a decimal number of s[0..n); 1 on success (value capped at 9999999). */
static int parse_dec(const char *s, size_t n, long *out)
{
    long v = 0;
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return 0;
        v = v * 10 + (s[i] - '0');
        if (v > 9999999) v = 9999999;
    }
    *out = v;
    return 1;
}

/*
 * One operand token (upper-cased, NUL-terminated) into *o.  Returns 0 or an
 * error code with the message in msg.
 */
static int parse_operand(const char *tok, fxil_opd *o, const char *name, unsigned line,
                         unsigned opno, char *msg, size_t msglen)
{
    const char *orig = tok; /* as written, for messages */
    size_t n = strlen(tok);
    long v;
    memset(o, 0, sizeof *o);
    if (tok[0] == 'K' && n >= 3 && isdigit((unsigned char)tok[1]) && isalpha((unsigned char)tok[2])) {
        /* Kn group: K<digit><bit device> */
        const char *p = strchr("XYMS", tok[2]);
        if (!p)
            return fail(msg, msglen, FXIL_EOPERAND, name, line,
                        "operand %u '%s': a Kn group needs X, Y, M or S (e.g. K4X0, K2M100)",
                        opno, tok);
        o->type = OPD_KN;
        o->kn = (uint8_t)(tok[1] - '0');
        o->dev = (uint8_t)(p - "XYMS");
        tok += 2;
        n -= 2;
    } else if (tok[0] == 'K') {
        const char *s = tok + 1;
        size_t m = n - 1;
        int neg = 0;
        if (m > 0 && (*s == '-' || *s == '+')) {
            neg = *s == '-';
            s++;
            m--;
        }
        if (!parse_dec(s, m, &v))
            return fail(msg, msglen, FXIL_ESYNTAX, name, line,
                        "operand %u '%s': not a decimal constant (K-32768..K32767)", opno, tok);
        if (neg) v = -v;
        if (v < -32768 || v > 32767)
            return fail(msg, msglen, FXIL_ERANGE, name, line,
                        "operand %u '%s': 16-bit constant outside K-32768..K32767", opno, tok);
        o->type = OPD_CONST;
        o->val = (int32_t)v;
        return 0;
    } else if (tok[0] == 'H') {
        unsigned long h = 0;
        if (n < 2)
            return fail(msg, msglen, FXIL_ESYNTAX, name, line,
                        "operand %u '%s': not a hex constant (H0..HFFFF)", opno, tok);
        for (size_t i = 1; i < n; i++) {
            int c = (unsigned char)tok[i];
            if (!isxdigit(c))
                return fail(msg, msglen, FXIL_ESYNTAX, name, line,
                            "operand %u '%s': not a hex constant (H0..HFFFF)", opno, tok);
            h = h * 16u + (unsigned long)(isdigit(c) ? c - '0' : c - 'A' + 10);
            if (h > 0xFFFFu)
                return fail(msg, msglen, FXIL_ERANGE, name, line,
                            "operand %u '%s': 16-bit constant outside H0..HFFFF", opno, tok);
        }
        o->type = OPD_CONST;
        o->hex = 1;
        o->val = (int32_t)h;
        return 0;
    } else {
        o->type = OPD_DEV;
    }

    /* A device name: letter and number (octal for X and Y). */
    const char *p = strchr("XYMSTCD", tok[0]);
    if (!p || tok[0] == '\0' || n < 2) {
        if (tok[0] == 'V' || tok[0] == 'Z' || tok[0] == 'P' || tok[0] == 'I')
            return fail(msg, msglen, FXIL_EUNSUP, name, line,
                        "operand %u '%s': %c devices are not supported by the simulator", opno,
                        orig, tok[0]);
        return fail(msg, msglen, FXIL_ESYNTAX, name, line,
                    "operand %u '%s': not a device (X Y M S T C D), Kn group or constant (K, H)",
                    opno, orig);
    }
    unsigned kind = (unsigned)(p - "XYMSTCD");
    unsigned long num = 0;
    int bad_octal = 0;
    for (size_t i = 1; i < n; i++) {
        if (!isdigit((unsigned char)tok[i]))
            return fail(msg, msglen, FXIL_ESYNTAX, name, line,
                        "operand %u '%s': not a device number", opno, orig);
        unsigned d = (unsigned)(tok[i] - '0');
        if (is_octal_dev(kind) && d > 7) bad_octal = 1;
        num = num * (is_octal_dev(kind) ? 8u : 10u) + d;
        if (num > 0xFFFFu) num = 0x10000u;
    }
    if (bad_octal)
        return fail(msg, msglen, FXIL_EOCTAL, name, line,
                    "operand %u '%s': X and Y numbers are octal (digits 0-7: X7 is followed by X10)",
                    opno, orig);
    if (num > 0xFFFFu)
        return fail(msg, msglen, FXIL_ERANGE, name, line,
                    "operand %u '%s': outside the FX1N range (%s)", opno, orig, fx1n_range_text(kind));
    o->dev = (uint8_t)kind;
    o->val = (int32_t)num;
    return 0;
}

static int grow(fxil_program *p)
{
    if (p->n < p->cap) return 0;
    size_t ncap = p->cap ? p->cap * 2 : 64;
    fxil_insn *ni = realloc(p->insn, ncap * sizeof *ni);
    if (!ni) return FXIL_ENOMEM;
    p->insn = ni;
    p->cap = ncap;
    return 0;
}

void fxil_free(fxil_program *prog)
{
    if (!prog) return;
    free(prog->name);
    free(prog->insn);
    free(prog->edge);
    free(prog);
}

static int is_blank(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* Parse one line [s, e) (comment already cut) into p; 0 or an error. */
static int parse_line(fxil_program *p, const char *s, const char *e, const char *line_start,
                      unsigned line, char *msg, size_t msglen)
{
    char tok[5][TOKEN_MAX + 1];
    unsigned col[5];
    unsigned nt = 0;
    const char *name = p->name;
    while (s < e) {
        while (s < e && is_blank((unsigned char)*s)) s++;
        if (s >= e) break;
        const char *t = s;
        while (s < e && !is_blank((unsigned char)*s)) s++;
        size_t tl = (size_t)(s - t);
        for (size_t i = 0; i < tl; i++) {
            unsigned char c = (unsigned char)t[i];
            if (c < 0x21 || c > 0x7E)
                return fail(msg, msglen, FXIL_ESYNTAX, name, line,
                            "unexpected character 0x%02X at column %u", c,
                            (unsigned)(t - line_start) + (unsigned)i + 1u);
        }
        if (nt == 5)
            return fail(msg, msglen, FXIL_EOPERAND, name, line,
                        "too many operands for %s (at most 4)", tok[0]);
        if (tl > TOKEN_MAX)
            return fail(msg, msglen, FXIL_ESYNTAX, name, line, "'%.*s...' at column %u is too long",
                        (int)TOKEN_MAX, t, (unsigned)(t - line_start) + 1u);
        for (size_t i = 0; i < tl; i++) tok[nt][i] = (char)toupper((unsigned char)t[i]);
        tok[nt][tl] = '\0';
        col[nt] = (unsigned)(t - line_start) + 1u;
        nt++;
    }
    if (nt == 0) return 0;

    const mnemonic *mn = NULL;
    for (size_t i = 0; i < N_MNEMONICS; i++)
        if (!strcmp(mnemonics[i].name, tok[0])) mn = &mnemonics[i];
    if (!mn) {
        if (tok[0][0] == 'D' && tok[0][1] != '\0') {
            for (size_t i = 0; i < N_MNEMONICS; i++)
                if (!strcmp(mnemonics[i].name, tok[0] + 1) && is_applied(mnemonics[i].op))
                    return fail(msg, msglen, FXIL_EUNSUP, name, line,
                                "32-bit instruction '%s' is not supported (use 16-bit %s)", tok[0],
                                tok[0] + 1);
        }
        return fail(msg, msglen, FXIL_ESYNTAX, name, line, "unknown instruction '%s'", tok[0]);
    }
    if (p->n >= FXIL_FX1N_STEPS)
        return fail(msg, msglen, FXIL_ESTEPS, name, line,
                    "more than %u instructions: cannot fit the FX1N's %u steps",
                    FXIL_FX1N_STEPS, FXIL_FX1N_STEPS);
    int rc = grow(p);
    if (rc) return fail(msg, msglen, rc, name, line, "out of memory");
    fxil_insn *in = &p->insn[p->n];
    memset(in, 0, sizeof *in);
    in->op = mn->op;
    in->pulse = mn->pulse;
    in->line = line;
    in->nopd = (uint8_t)(nt - 1);
    for (unsigned i = 1; i < nt; i++) {
        rc = parse_operand(tok[i], &in->o[i - 1], name, line, i, msg, msglen);
        if (rc) return rc;
        in->o[i - 1].col = (uint16_t)(col[i] > 0xFFFFu ? 0xFFFFu : col[i]);
    }
    /* Edge memory: edge contacts, PLS/PLF, counter coils, pulse applied instructions. */
    if (is_edge_contact(in->op) || in->op == OP_PLS || in->op == OP_PLF || in->pulse ||
        (in->op == OP_OUT && in->nopd >= 1 && in->o[0].type == OPD_DEV && in->o[0].dev == FX_DEV_C))
        in->edge = (uint16_t)p->nedge++;
    p->n++;
    return 0;
}

int fxil_parse_buffer(const char *name, const char *text, size_t len, fxil_program **out,
                      char *msg, size_t msglen)
{
    int rc = 0;
    fxil_program *p = NULL;
    if (msg && msglen) msg[0] = '\0';
    if (!name) name = "<buffer>";
    if (!out || (!text && len)) return fail(msg, msglen, FXIL_EINVAL, name, 0, "invalid argument");
    *out = NULL;
    p = calloc(1, sizeof *p);
    if (!p) return fail(msg, msglen, FXIL_ENOMEM, name, 0, "out of memory");
    p->name = strdup(name);
    if (!p->name) {
        rc = fail(msg, msglen, FXIL_ENOMEM, name, 0, "out of memory");
        goto out;
    }
    size_t pos = 0;
    unsigned line = 0;
    while (pos < len) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        const char *e = nl ? nl : text + len;
        pos = (size_t)(e - text) + (nl ? 1u : 0u);
        if (line < 0xFFFFFFFEu) line++;
        if (memchr(s, '\0', (size_t)(e - s))) {
            rc = fail(msg, msglen, FXIL_ESYNTAX, name, line, "NUL byte in program text");
            goto out;
        }
        const char *semi = memchr(s, ';', (size_t)(e - s));
        rc = parse_line(p, s, semi ? semi : e, s, line, msg, msglen);
        if (rc) goto out;
    }
    p->nlines = line;
    if (p->nedge) {
        p->edge = calloc(p->nedge, 1);
        if (!p->edge) {
            rc = fail(msg, msglen, FXIL_ENOMEM, name, 0, "out of memory");
            goto out;
        }
    }
    fxil_restart(p);
    *out = p;
    p = NULL;
out:
    fxil_free(p);
    return rc;
}

/* ------------------------------------------------------------ checking */

/* Operand classes. */
enum {
    CL_X = 1u << 0, CL_Y = 1u << 1, CL_M = 1u << 2, CL_S = 1u << 3, CL_T = 1u << 4,
    CL_C = 1u << 5, CL_D = 1u << 6, CL_K = 1u << 7, CL_KNX = 1u << 8, CL_KNY = 1u << 9,
    CL_KNM = 1u << 10, CL_KNS = 1u << 11,
};
#define CL_CONTACT (CL_X | CL_Y | CL_M | CL_S | CL_T | CL_C)
#define CL_SRC (CL_K | CL_D | CL_T | CL_C | CL_KNX | CL_KNY | CL_KNM | CL_KNS)
#define CL_DST (CL_D | CL_T | CL_C | CL_KNY | CL_KNM | CL_KNS)
#define CL_BITOUT (CL_Y | CL_M | CL_S)

static unsigned opd_class(const fxil_opd *o)
{
    switch (o->type) {
    case OPD_CONST: return CL_K;
    case OPD_DEV: return 1u << o->dev;
    case OPD_KN: return CL_KNX << o->dev;
    default: return 0;
    }
}

static const char *class_text(unsigned cl)
{
    switch (cl) {
    case CL_CONTACT: return "a bit device (X, Y, M, S, T, C)";
    case CL_SRC: return "a word source (K, H, D, T, C, KnX, KnY, KnM, KnS)";
    case CL_DST: return "a word destination (D, T, C, KnY, KnM, KnS)";
    case CL_BITOUT: return "an output bit (Y, M, S)";
    case CL_BITOUT | CL_T | CL_C: return "Y, M, S, or T/C with a set value";
    case CL_BITOUT | CL_T | CL_C | CL_D: return "Y, M, S, T, C or D";
    case CL_Y | CL_M: return "Y or M";
    case CL_K: return "a constant (K or H)";
    default: return "another operand";
    }
}

typedef struct {
    const fxil_program *p;
    const fxil_insn *in;
    char *msg;
    size_t msglen;
} chk_ctx;

/* Error about operand i of the instruction. */
static int opd_fail(const chk_ctx *c, int code, unsigned i, const char *fmt, ...) FXIL_PRINTF(4, 5);
static int opd_fail(const chk_ctx *c, int code, unsigned i, const char *fmt, ...)
{
    char what[160], ot[32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    opd_text(&c->in->o[i], ot, sizeof ot);
    return fail(c->msg, c->msglen, code, c->p->name, c->in->line, "%s operand %u '%s' (column %u): %s",
                op_name(c->in->op, c->in->pulse), i + 1, ot, (unsigned)c->in->o[i].col, what);
}

/*
 * Operand i must be of one of the classes in cl; count consecutive devices
 * (or Kn groups, or words) must be FX1N devices.  0 or an error.
 */
static int want(const chk_ctx *c, unsigned i, unsigned cl, long count)
{
    const fxil_opd *o = &c->in->o[i];
    if (!(opd_class(o) & cl)) return opd_fail(c, FXIL_EOPERAND, i, "expected %s", class_text(cl));
    if (o->type == OPD_CONST) return 0;
    long first = o->val, n = count;
    if (o->type == OPD_KN) {
        if (o->kn < 1 || o->kn > 4)
            return opd_fail(c, FXIL_ERANGE, i,
                            "K%u is a 32-bit group; 16-bit instructions take K1-K4", (unsigned)o->kn);
        n = count * 4 * o->kn;
    }
    if (!fx1n_valid(o->dev, first, n)) {
        char last[24];
        dev_name(o->dev, first + n - 1, last, sizeof last);
        if (n > 1 && fx1n_valid(o->dev, first, 1))
            return opd_fail(c, FXIL_ERANGE, i, "reaches %s, outside the FX1N range (%s)", last,
                            fx1n_range_text(o->dev));
        return opd_fail(c, FXIL_ERANGE, i, "outside the FX1N range (%s)", fx1n_range_text(o->dev));
    }
    if (o->dev == FX_DEV_C && first + n - 1 > (long)FX1N_C16_MAX)
        return opd_fail(c, FXIL_EUNSUP, i,
                        "32-bit counters C200-C255 are not supported by the simulator");
    return 0;
}

static int want_const(const chk_ctx *c, unsigned i, long lo, long hi, const char *what)
{
    const fxil_opd *o = &c->in->o[i];
    if (o->type != OPD_CONST)
        return opd_fail(c, FXIL_EOPERAND, i, "expected a constant (K or H) for %s", what);
    if (o->val < lo || o->val > hi)
        return opd_fail(c, FXIL_ERANGE, i, "%s must be %ld..%ld", what, lo, hi);
    return 0;
}

static int nopd(const chk_ctx *c, unsigned lo, unsigned hi)
{
    unsigned n = c->in->nopd;
    if (n >= lo && n <= hi) return 0;
    const char *nm = op_name(c->in->op, c->in->pulse);
    if (lo == hi)
        return fail(c->msg, c->msglen, FXIL_EOPERAND, c->p->name, c->in->line,
                    "%s takes %u operand%s, not %u", nm, lo, lo == 1 ? "" : "s", n);
    return fail(c->msg, c->msglen, FXIL_EOPERAND, c->p->name, c->in->line,
                "%s takes %u or %u operands, not %u", nm, lo, hi, n);
}

static int is_special_m(const fxil_opd *o)
{
    return o->type == OPD_DEV && o->dev == FX_DEV_M && o->val >= (int32_t)FX1N_M_SP_FIRST;
}

/* Validate the operands of one instruction and compute its step count. */
static int check_operands(const chk_ctx *c, unsigned *steps)
{
    const fxil_insn *in = c->in;
    const fxil_opd *o = in->o;
    int rc;
    switch ((fxil_op)in->op) {
    case OP_LD: case OP_LDI: case OP_AND: case OP_ANI: case OP_OR: case OP_ORI:
        if ((rc = nopd(c, 1, 1)) || (rc = want(c, 0, CL_CONTACT, 1))) return rc;
        *steps = is_special_m(&o[0]) ? 2 : 1;
        return 0;
    case OP_LDP: case OP_LDF: case OP_ANDP: case OP_ANDF: case OP_ORP: case OP_ORF:
        if ((rc = nopd(c, 1, 1)) || (rc = want(c, 0, CL_CONTACT, 1))) return rc;
        *steps = 2;
        return 0;
    case OP_ANB: case OP_ORB: case OP_MPS: case OP_MRD: case OP_MPP: case OP_INV:
    case OP_NOP: case OP_END:
        if ((rc = nopd(c, 0, 0))) return rc;
        *steps = 1;
        return 0;
    case OP_OUT:
        if ((rc = nopd(c, 1, 2)) || (rc = want(c, 0, CL_BITOUT | CL_T | CL_C, 1))) return rc;
        if (o[0].dev == FX_DEV_T || o[0].dev == FX_DEV_C) {
            if (in->nopd != 2)
                return opd_fail(c, FXIL_EOPERAND, 0,
                                "a timer or counter coil needs a set value (e.g. OUT %s K10)",
                                o[0].dev == FX_DEV_T ? "T0" : "C0");
            if (o[1].type == OPD_CONST) {
                if ((rc = want_const(c, 1, 0, 32767, "the set value"))) return rc;
            } else if ((rc = want(c, 1, CL_D, 1))) {
                return rc;
            }
            *steps = 3;
            return 0;
        }
        if (in->nopd != 1) return nopd(c, 1, 1);
        *steps = (o[0].dev == FX_DEV_S || is_special_m(&o[0])) ? 2 : 1;
        return 0;
    case OP_SET:
        if ((rc = nopd(c, 1, 1)) || (rc = want(c, 0, CL_BITOUT, 1))) return rc;
        *steps = (o[0].dev == FX_DEV_S || is_special_m(&o[0])) ? 2 : 1;
        return 0;
    case OP_RST:
        if ((rc = nopd(c, 1, 1)) || (rc = want(c, 0, CL_BITOUT | CL_T | CL_C | CL_D, 1))) return rc;
        if (o[0].dev == FX_DEV_D)
            *steps = 3;
        else if (o[0].dev == FX_DEV_Y || (o[0].dev == FX_DEV_M && !is_special_m(&o[0])))
            *steps = 1;
        else
            *steps = 2;
        return 0;
    case OP_PLS: case OP_PLF:
        if ((rc = nopd(c, 1, 1)) || (rc = want(c, 0, CL_Y | CL_M, 1))) return rc;
        if (is_special_m(&o[0]))
            return opd_fail(c, FXIL_EOPERAND, 0, "special M cannot be driven by PLS/PLF");
        *steps = 2;
        return 0;
    case OP_MOV:
        if ((rc = nopd(c, 2, 2)) || (rc = want(c, 0, CL_SRC, 1)) || (rc = want(c, 1, CL_DST, 1)))
            return rc;
        break;
    case OP_CMP:
        if ((rc = nopd(c, 3, 3)) || (rc = want(c, 0, CL_SRC, 1)) || (rc = want(c, 1, CL_SRC, 1)) ||
            (rc = want(c, 2, CL_BITOUT, 3)))
            return rc;
        break;
    case OP_ZCP:
        if ((rc = nopd(c, 4, 4)) || (rc = want(c, 0, CL_SRC, 1)) || (rc = want(c, 1, CL_SRC, 1)) ||
            (rc = want(c, 2, CL_SRC, 1)) || (rc = want(c, 3, CL_BITOUT, 3)))
            return rc;
        break;
    case OP_ADD: case OP_SUB: case OP_WAND: case OP_WOR:
        if ((rc = nopd(c, 3, 3)) || (rc = want(c, 0, CL_SRC, 1)) || (rc = want(c, 1, CL_SRC, 1)) ||
            (rc = want(c, 2, CL_DST, 1)))
            return rc;
        break;
    case OP_INC: case OP_DEC:
        if ((rc = nopd(c, 1, 1)) || (rc = want(c, 0, CL_DST, 1))) return rc;
        break;
    case OP_ZRST: {
        unsigned cl = CL_BITOUT | CL_T | CL_C | CL_D;
        if ((rc = nopd(c, 2, 2)) || (rc = want(c, 0, cl, 1)) || (rc = want(c, 1, cl, 1))) return rc;
        if (o[0].dev != o[1].dev)
            return opd_fail(c, FXIL_EOPERAND, 1, "ZRST needs two devices of the same kind");
        if (o[1].val >= o[0].val && !fx1n_valid(o[0].dev, o[0].val, o[1].val - o[0].val + 1))
            return opd_fail(c, FXIL_ERANGE, 1, "the range crosses a gap in the FX1N devices");
        break;
    }
    case OP_FROM: case OP_TO: {
        unsigned dir = in->op == OP_FROM ? CL_DST : CL_SRC;
        if ((rc = nopd(c, 4, 4)) || (rc = want_const(c, 0, 0, FXIL_UNITS - 1, "the unit number")) ||
            (rc = want_const(c, 1, 0, FXIL_BFM_WORDS - 1, "the buffer-memory number")) ||
            (rc = want_const(c, 3, 1, FXIL_BFM_WORDS, "the word count")))
            return rc;
        if (o[1].val + o[3].val > (int32_t)FXIL_BFM_WORDS)
            return opd_fail(c, FXIL_ERANGE, 3, "BFM#%ld..#%ld: the simulated units have BFM#0-#%u",
                            (long)o[1].val, (long)(o[1].val + o[3].val - 1), FXIL_BFM_WORDS - 1);
        if ((rc = want(c, 2, dir, o[3].val))) return rc;
        break;
    }
    }
    /* 16-bit applied instruction: 1 step + 2 per operand. */
    *steps = 1u + 2u * in->nopd;
    return 0;
}

typedef struct {
    int blocks;        /* logic blocks pending (1 = a complete result) */
    int mps;           /* MPS depth */
    int mps_blocks[FXIL_MPS_DEPTH];
    unsigned mps_line[FXIL_MPS_DEPTH];
    unsigned block_line[FXIL_BLOCK_DEPTH + 1];
    unsigned rung_line;
    int has_output;    /* the current rung has an output */
    int prev_output;   /* the previous (non-NOP) instruction was an output */
} struct_state;

static int check_structure(const chk_ctx *c, struct_state *st, fxil_insn *in)
{
    const char *name = c->p->name;
    unsigned line = in->line;
    const char *nm = op_name(in->op, in->pulse);
    if (is_load(in->op)) {
        if (st->blocks == 0 || (st->prev_output && st->mps == 0)) {
            in->flags |= INSN_RUNG_START;
            st->blocks = 1;
            st->block_line[0] = line;
            st->rung_line = line;
            st->has_output = 0;
        } else if (st->prev_output && st->mps > 0) {
            return fail(c->msg, c->msglen, FXIL_ESTRUCT, name, line,
                        "MPS at line %u is left open at the end of its rung (close the branch "
                        "with MPP before a new rung)",
                        st->mps_line[st->mps - 1]);
        } else {
            if (st->blocks >= (int)FXIL_BLOCK_DEPTH)
                return fail(c->msg, c->msglen, FXIL_ESTRUCT, name, line,
                            "more than %u LD/LDI blocks waiting for ANB/ORB", FXIL_BLOCK_DEPTH);
            st->block_line[st->blocks] = line;
            st->blocks++;
        }
        st->prev_output = 0;
        return 0;
    }
    if (is_series(in->op)) {
        if (st->blocks == 0)
            return fail(c->msg, c->msglen, FXIL_ESTRUCT, name, line,
                        "%s without a preceding LD/LDI (a rung starts with LD)", nm);
        st->prev_output = 0;
        return 0;
    }
    switch ((fxil_op)in->op) {
    case OP_ANB:
    case OP_ORB: {
        int floor = st->mps > 0 ? st->mps_blocks[st->mps - 1] : 1;
        if (st->blocks < 2)
            return fail(c->msg, c->msglen, FXIL_ESTRUCT, name, line,
                        "%s needs two blocks: start the second block with LD/LDI before %s", nm, nm);
        if (st->blocks - 1 < floor)
            return fail(c->msg, c->msglen, FXIL_ESTRUCT, name, line,
                        "%s joins across the branch point of MPS at line %u", nm,
                        st->mps_line[st->mps - 1]);
        st->blocks--;
        st->prev_output = 0;
        return 0;
    }
    case OP_MPS:
        if (st->blocks == 0)
            return fail(c->msg, c->msglen, FXIL_ESTRUCT, name, line, "MPS without a preceding LD/LDI");
        if (st->mps >= (int)FXIL_MPS_DEPTH)
            return fail(c->msg, c->msglen, FXIL_ESTRUCT, name, line,
                        "MPS nested deeper than %u levels", FXIL_MPS_DEPTH);
        st->mps_blocks[st->mps] = st->blocks;
        st->mps_line[st->mps] = line;
        st->mps++;
        st->prev_output = 0;
        return 0;
    case OP_MRD:
    case OP_MPP:
        if (st->mps == 0)
            return fail(c->msg, c->msglen, FXIL_ESTRUCT, name, line, "%s without a matching MPS", nm);
        if (st->blocks != st->mps_blocks[st->mps - 1])
            return fail(c->msg, c->msglen, FXIL_ESTRUCT, name, line,
                        "%s: the block started by LD at line %u is not joined with ANB/ORB", nm,
                        st->block_line[st->blocks - 1]);
        if (in->op == OP_MPP) st->mps--;
        st->prev_output = 0;
        return 0;
    case OP_NOP: return 0;
    case OP_END:
        if (st->mps > 0)
            return fail(c->msg, c->msglen, FXIL_ESTRUCT, name, line,
                        "MPS at line %u is left open at END (no MPP)", st->mps_line[st->mps - 1]);
        if (st->blocks > 1)
            return fail(c->msg, c->msglen, FXIL_ESTRUCT, name, line,
                        "the block started by LD at line %u is not joined with ANB/ORB at END",
                        st->block_line[st->blocks - 1]);
        if (st->blocks == 1 && !st->has_output)
            return fail(c->msg, c->msglen, FXIL_ESTRUCT, name, line,
                        "the rung starting at line %u has no output instruction", st->rung_line);
        return 0;
    default: break;
    }
    if (is_output(in->op)) {
        if (st->blocks == 0)
            return fail(c->msg, c->msglen, FXIL_ESTRUCT, name, line,
                        "%s without a preceding LD/LDI: an output needs a condition (e.g. LD "
                        "M8000)",
                        nm);
        if (st->blocks > 1)
            return fail(c->msg, c->msglen, FXIL_ESTRUCT, name, line,
                        "%s: the block started by LD at line %u is not joined with ANB/ORB (or the "
                        "rung at line %u has no output)",
                        nm, st->block_line[st->blocks - 1], st->rung_line);
        st->has_output = 1;
        st->prev_output = 1;
        return 0;
    }
    return 0;
}

int fxil_check(fxil_program *prog, char *msg, size_t msglen)
{
    struct_state st;
    unsigned total = 0;
    size_t end_at = (size_t)-1;
    int rc = 0;
    if (msg && msglen) msg[0] = '\0';
    if (!prog) return fail(msg, msglen, FXIL_EINVAL, "<program>", 0, "invalid argument");
    prog->checked = 0;
    prog->steps = 0;
    memset(&st, 0, sizeof st);
    for (size_t i = 0; i < prog->n; i++) {
        fxil_insn *in = &prog->insn[i];
        chk_ctx c = {prog, in, msg, msglen};
        unsigned steps = 0;
        if (end_at != (size_t)-1)
            return fail(msg, msglen, FXIL_ENOEND, prog->name, in->line,
                        "instruction after END (line %u): the PLC never executes it",
                        prog->insn[end_at].line);
        in->flags = 0;
        if ((rc = check_operands(&c, &steps))) return rc;
        if ((rc = check_structure(&c, &st, in))) return rc;
        in->step = (uint16_t)(total > 0xFFFFu ? 0xFFFFu : total);
        total += steps;
        if (in->op == OP_END) end_at = i;
    }
    if (end_at == (size_t)-1)
        return fail(msg, msglen, FXIL_ENOEND, prog->name, prog->nlines ? prog->nlines : 1,
                    "missing END (the program must end with END)");
    if (total > FXIL_FX1N_STEPS)
        return fail(msg, msglen, FXIL_ESTEPS, prog->name, prog->insn[end_at].line,
                    "program has %u steps; the FX1N holds %u", total, FXIL_FX1N_STEPS);
    prog->steps = total;
    prog->checked = 1;
    return 0;
}

int fxil_load_buffer(const char *name, const char *text, size_t len, fxil_program **out,
                     char *msg, size_t msglen)
{
    fxil_program *p = NULL;
    if (out) *out = NULL;
    int rc = fxil_parse_buffer(name, text, len, out ? &p : NULL, msg, msglen);
    if (rc) goto out;
    rc = fxil_check(p, msg, msglen);
    if (rc) goto out;
    *out = p;
    p = NULL;
out:
    fxil_free(p);
    return rc;
}

int fxil_load_file(const char *path, fxil_program **out, char *msg, size_t msglen)
{
    FILE *f = NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    if (msg && msglen) msg[0] = '\0';
    if (!path || !out) return fail(msg, msglen, FXIL_EINVAL, "<file>", 0, "invalid argument");
    *out = NULL;
    f = fopen(path, "rb");
    if (!f) {
        rc = fail(msg, msglen, FXIL_EIO, path, 0, "%s", strerror(errno));
        goto out;
    }
    for (;;) {
        if (len == cap) {
            if (cap >= FILE_MAX) {
                rc = fail(msg, msglen, FXIL_EIO, path, 0, "file larger than %u bytes", FILE_MAX);
                goto out;
            }
            size_t ncap = cap ? cap * 2 : 16384;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = fail(msg, msglen, FXIL_ENOMEM, path, 0, "out of memory");
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        rc = fail(msg, msglen, FXIL_EIO, path, 0, "read error");
        goto out;
    }
    rc = fxil_load_buffer(path, buf, len, out, msg, msglen);
out:
    if (f) fclose(f);
    free(buf);
    return rc;
}

/* ---------------------------------------------------------- inspection */
unsigned fxil_steps(const fxil_program *prog) { return prog && prog->checked ? prog->steps : 0; }

size_t fxil_count(const fxil_program *prog) { return prog ? prog->n : 0; }

int fxil_format(const fxil_program *prog, size_t i, char *buf, size_t len, unsigned *step,
                unsigned *line)
{
    if (!prog || i >= prog->n || !buf || len == 0) return FXIL_EINVAL;
    const fxil_insn *in = &prog->insn[i];
    int n = snprintf(buf, len, "%s", op_name(in->op, in->pulse));
    for (unsigned k = 0; k < in->nopd && n >= 0 && (size_t)n < len; k++) {
        char ot[32];
        opd_text(&in->o[k], ot, sizeof ot);
        n += snprintf(buf + n, len - (size_t)n, " %s", ot);
    }
    if (step) *step = in->step;
    if (line) *line = in->line;
    return (n < 0 || (size_t)n >= len) ? FXIL_ERANGE : 0;
}

fxil_blocks *fxil_blocks_of(fxil_program *prog) { return prog ? &prog->blocks : NULL; }

int fxil_block_read(const fxil_program *prog, unsigned unit, unsigned bfm, uint16_t *val)
{
    if (!prog || !val) return FXIL_EINVAL;
    if (unit >= FXIL_UNITS || bfm >= FXIL_BFM_WORDS) return FXIL_ERANGE;
    *val = prog->blocks.bfm[unit][bfm];
    return 0;
}

int fxil_block_write(fxil_program *prog, unsigned unit, unsigned bfm, uint16_t val)
{
    if (!prog) return FXIL_EINVAL;
    if (unit >= FXIL_UNITS || bfm >= FXIL_BFM_WORDS) return FXIL_ERANGE;
    prog->blocks.bfm[unit][bfm] = val;
    return 0;
}

uint64_t fxil_now_ms(const fxil_program *prog) { return prog ? prog->now_ms : 0; }

void fxil_restart(fxil_program *prog)
{
    if (!prog) return;
    if (prog->edge) memset(prog->edge, 0, prog->nedge);
    prog->now_ms = 0;
    prog->first_scan = 1;
    prog->scan_min = 0;
    prog->scan_max = 0;
}

/* ------------------------------------------------------------- running */

/* Device memory access.  Checked programs only name FX1N devices, all of
 * which lie inside fxmem's FX3-sized arrays. */
static int get_bit(const fxmem *m, unsigned kind, unsigned n)
{
    switch (kind) {
    case FX_DEV_X: return m->x[n];
    case FX_DEV_Y: return m->y[n];
    case FX_DEV_M: return m->m[n];
    case FX_DEV_S: return m->s[n];
    case FX_DEV_T: return m->ts[n];
    case FX_DEV_C: return m->cs[n];
    default: return 0;
    }
}

static void set_bit(fxmem *m, unsigned kind, unsigned n, int v)
{
    uint8_t b = v ? 1 : 0;
    switch (kind) {
    case FX_DEV_X: m->x[n] = b; break;
    case FX_DEV_Y: m->y[n] = b; break;
    case FX_DEV_M: m->m[n] = b; break;
    case FX_DEV_S: m->s[n] = b; break;
    case FX_DEV_T: m->ts[n] = b; break;
    case FX_DEV_C: m->cs[n] = b; break;
    default: break;
    }
}

/* Word idx of an operand (consecutive words for FROM/TO). */
static uint16_t rd_word(const fxmem *m, const fxil_opd *o, unsigned idx)
{
    unsigned n = (unsigned)o->val + idx;
    switch (o->type) {
    case OPD_CONST: return (uint16_t)o->val;
    case OPD_DEV:
        switch (o->dev) {
        case FX_DEV_D: return m->d[n];
        case FX_DEV_T: return m->tn[n];
        case FX_DEV_C: return (uint16_t)((uint32_t)m->cn[n] & 0xFFFFu);
        default: return 0;
        }
    case OPD_KN: {
        unsigned bits = 4u * o->kn, base = (unsigned)o->val + idx * bits;
        uint16_t v = 0;
        for (unsigned i = 0; i < bits; i++)
            if (get_bit(m, o->dev, base + i)) v = (uint16_t)(v | (1u << i));
        return v;
    }
    default: return 0;
    }
}

static void wr_word(fxmem *m, const fxil_opd *o, unsigned idx, uint16_t v)
{
    unsigned n = (unsigned)o->val + idx;
    switch (o->type) {
    case OPD_DEV:
        switch (o->dev) {
        case FX_DEV_D: m->d[n] = v; break;
        case FX_DEV_T: m->tn[n] = v; break;
        case FX_DEV_C: m->cn[n] = (int32_t)(int16_t)v; break; /* 16-bit counters are signed */
        default: break;
        }
        break;
    case OPD_KN: {
        /* Only the group's 4*n bits are written; higher bits of v are dropped. */
        unsigned bits = 4u * o->kn, base = (unsigned)o->val + idx * bits;
        for (unsigned i = 0; i < bits; i++) set_bit(m, o->dev, base + i, (v >> i) & 1u);
        break;
    }
    default: break;
    }
}

static int16_t rd_signed(const fxmem *m, const fxil_opd *o) { return (int16_t)rd_word(m, o, 0); }

/* Clear device n of kind as RST does. */
static void reset_dev(fxmem *m, unsigned kind, unsigned n)
{
    switch (kind) {
    case FX_DEV_T: m->tn[n] = 0; m->ts[n] = 0; break;
    case FX_DEV_C: m->cn[n] = 0; m->cs[n] = 0; break;
    case FX_DEV_D: m->d[n] = 0; break;
    default: set_bit(m, kind, n, 0); break;
    }
}

static int32_t set_value(const fxmem *m, const fxil_opd *o)
{
    int32_t k = o->type == OPD_CONST ? o->val : (int32_t)(int16_t)m->d[o->val];
    return k < 0 ? 0 : k;
}

/* Three consecutive result bits (CMP/ZCP). */
static void put3(fxmem *m, const fxil_opd *o, int a, int b, int c)
{
    unsigned n = (unsigned)o->val;
    set_bit(m, o->dev, n, a);
    set_bit(m, o->dev, n + 1, b);
    set_bit(m, o->dev, n + 2, c);
}

static void add_flags(fxmem *m, int32_t r)
{
    m->m[8020] = (uint16_t)r == 0;  /* zero */
    m->m[8021] = r < -32768;        /* borrow */
    m->m[8022] = r > 32767;         /* carry */
}

int fxil_scan(void *self, fxmem *mem, uint32_t scan_ms)
{
    fxil_program *p = self;
    uint8_t bstack[FXIL_BLOCK_DEPTH], mstack[FXIL_MPS_DEPTH];
    unsigned bsp = 0, msp = 0;
    int acc = 0;
    if (!p || !mem || !p->checked) return FXIL_EINVAL;

    /* Virtual time and the clock ticks timers count this scan. */
    uint64_t prev = p->now_ms, now = prev + scan_ms;
    p->now_ms = now;
    uint32_t tick1 = scan_ms;
    uint32_t tick10 = (uint32_t)(now / 10u - prev / 10u);
    uint32_t tick100 = (uint32_t)(now / 100u - prev / 100u);

    /* Special devices, as the FX sets them before the program runs. */
    uint32_t st = scan_ms > 3276u ? 32767u : scan_ms * 10u; /* 0.1 ms */
    if (p->first_scan || st < p->scan_min) p->scan_min = (uint16_t)st;
    if (p->first_scan || st > p->scan_max) p->scan_max = (uint16_t)st;
    mem->m[8000] = 1;                          /* RUN monitor: always on */
    mem->m[8001] = 0;                          /* RUN monitor inverted */
    mem->m[8002] = p->first_scan ? 1 : 0;      /* initial pulse */
    mem->m[8003] = p->first_scan ? 0 : 1;      /* initial pulse inverted */
    mem->m[8011] = (now % 10u) < 5u;           /* 10 ms clock, 50 % duty */
    mem->m[8012] = (now % 100u) < 50u;         /* 100 ms clock */
    mem->m[8013] = (now % 1000u) < 500u;       /* 1 s clock */
    mem->d[8010] = (uint16_t)st;               /* this scan, 0.1 ms */
    mem->d[8011] = p->scan_min;
    mem->d[8012] = p->scan_max;

    for (size_t i = 0; i < p->n; i++) {
        const fxil_insn *in = &p->insn[i];
        const fxil_opd *o = in->o;
        int v, exec;
        switch ((fxil_op)in->op) {
        case OP_LD: case OP_LDI: case OP_LDP: case OP_LDF:
            v = get_bit(mem, o[0].dev, (unsigned)o[0].val);
            if (in->op == OP_LDI) {
                v = !v;
            } else if (in->op != OP_LD) {
                int was = p->edge[in->edge];
                p->edge[in->edge] = (uint8_t)v;
                v = in->op == OP_LDP ? (v && !was) : (!v && was);
            }
            if (in->flags & INSN_RUNG_START) {
                bsp = 0;
                msp = 0;
            } else if (bsp < FXIL_BLOCK_DEPTH) {
                bstack[bsp++] = (uint8_t)acc;
            }
            acc = v;
            break;
        case OP_AND: case OP_ANI: case OP_ANDP: case OP_ANDF:
        case OP_OR: case OP_ORI: case OP_ORP: case OP_ORF:
            v = get_bit(mem, o[0].dev, (unsigned)o[0].val);
            if (in->op == OP_ANI || in->op == OP_ORI) {
                v = !v;
            } else if (is_edge_contact(in->op)) {
                int was = p->edge[in->edge];
                p->edge[in->edge] = (uint8_t)v;
                v = (in->op == OP_ANDP || in->op == OP_ORP) ? (v && !was) : (!v && was);
            }
            if (in->op >= OP_OR)
                acc = acc || v;
            else
                acc = acc && v;
            break;
        case OP_ANB: if (bsp) acc = bstack[--bsp] && acc; break;
        case OP_ORB: if (bsp) acc = bstack[--bsp] || acc; break;
        case OP_MPS: if (msp < FXIL_MPS_DEPTH) mstack[msp++] = (uint8_t)acc; break;
        case OP_MRD: if (msp) acc = mstack[msp - 1]; break;
        case OP_MPP: if (msp) acc = mstack[--msp]; break;
        case OP_INV: acc = !acc; break;
        case OP_NOP: break;
        case OP_END: goto done;
        case OP_OUT: {
            unsigned n = (unsigned)o[0].val;
            if (o[0].dev == FX_DEV_T) {
                int32_t k = set_value(mem, &o[1]);
                int retentive = n >= 246;
                if (acc) {
                    uint32_t t = n < 200 ? tick100 : n < 246 ? tick10 : n < 250 ? tick1 : tick100;
                    uint32_t cur = mem->tn[n];
                    if (cur < (uint32_t)k) {
                        cur += t;
                        if (cur > (uint32_t)k) cur = (uint32_t)k;
                    }
                    mem->tn[n] = (uint16_t)cur;
                    mem->ts[n] = (int32_t)mem->tn[n] >= k;
                } else if (!retentive) {
                    mem->tn[n] = 0;
                    mem->ts[n] = 0;
                }
            } else if (o[0].dev == FX_DEV_C) {
                int32_t k = set_value(mem, &o[1]);
                if (acc && !p->edge[in->edge] && mem->cn[n] < k) mem->cn[n]++;
                p->edge[in->edge] = (uint8_t)(acc ? 1 : 0);
                mem->cs[n] = mem->cn[n] >= k;
            } else {
                set_bit(mem, o[0].dev, n, acc);
            }
            break;
        }
        case OP_SET: if (acc) set_bit(mem, o[0].dev, (unsigned)o[0].val, 1); break;
        case OP_RST: if (acc) reset_dev(mem, o[0].dev, (unsigned)o[0].val); break;
        case OP_PLS:
        case OP_PLF: {
            int was = p->edge[in->edge];
            p->edge[in->edge] = (uint8_t)(acc ? 1 : 0);
            v = in->op == OP_PLS ? (acc && !was) : (!acc && was);
            set_bit(mem, o[0].dev, (unsigned)o[0].val, v);
            break;
        }
        default: {
            /* Applied instructions: P forms run once on the rising edge of their drive. */
            if (in->pulse) {
                exec = acc && !p->edge[in->edge];
                p->edge[in->edge] = (uint8_t)(acc ? 1 : 0);
            } else {
                exec = acc;
            }
            if (!exec) break;
            switch ((fxil_op)in->op) {
            case OP_MOV: wr_word(mem, &o[1], 0, rd_word(mem, &o[0], 0)); break;
            case OP_CMP: {
                int16_t a = rd_signed(mem, &o[0]), b = rd_signed(mem, &o[1]);
                put3(mem, &o[2], a > b, a == b, a < b);
                break;
            }
            case OP_ZCP: {
                int16_t lo = rd_signed(mem, &o[0]), hi = rd_signed(mem, &o[1]);
                int16_t s = rd_signed(mem, &o[2]);
                if (lo > hi) hi = lo; /* FX: S1 > S2 is treated as S2 = S1 */
                put3(mem, &o[3], s < lo, s >= lo && s <= hi, s > hi);
                break;
            }
            case OP_ADD:
            case OP_SUB: {
                int32_t a = rd_signed(mem, &o[0]), b = rd_signed(mem, &o[1]);
                int32_t r = in->op == OP_ADD ? a + b : a - b;
                add_flags(mem, r);
                wr_word(mem, &o[2], 0, (uint16_t)((uint32_t)r & 0xFFFFu));
                break;
            }
            case OP_INC: wr_word(mem, &o[0], 0, (uint16_t)(rd_word(mem, &o[0], 0) + 1u)); break;
            case OP_DEC: wr_word(mem, &o[0], 0, (uint16_t)(rd_word(mem, &o[0], 0) - 1u)); break;
            case OP_WAND:
                wr_word(mem, &o[2], 0, (uint16_t)(rd_word(mem, &o[0], 0) & rd_word(mem, &o[1], 0)));
                break;
            case OP_WOR:
                wr_word(mem, &o[2], 0, (uint16_t)(rd_word(mem, &o[0], 0) | rd_word(mem, &o[1], 0)));
                break;
            case OP_ZRST: {
                unsigned a = (unsigned)o[0].val, b = (unsigned)o[1].val;
                if (a > b) b = a; /* FX: D1 > D2 resets D1 only */
                for (unsigned n = a; n <= b; n++) reset_dev(mem, o[0].dev, n);
                break;
            }
            case OP_FROM: {
                const uint16_t *bfm = p->blocks.bfm[o[0].val] + o[1].val;
                for (unsigned k = 0; k < (unsigned)o[3].val; k++) wr_word(mem, &o[2], k, bfm[k]);
                break;
            }
            case OP_TO: {
                uint16_t *bfm = p->blocks.bfm[o[0].val] + o[1].val;
                for (unsigned k = 0; k < (unsigned)o[3].val; k++) bfm[k] = rd_word(mem, &o[2], k);
                break;
            }
            default: break;
            }
            break;
        }
        }
    }
done:
    p->first_scan = 0;
    return 0;
}
