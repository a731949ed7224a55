/*
 * fxil.h — Mitsubishi FX1N instruction-list (IL) programs: parser, checker
 * and interpreter.
 *
 * The simulated PLC runs the very file a technician types into GX Developer's
 * list mode (docs/plc/crossclimb.il), so the interlocks that go on the robot
 * are the interlocks the tests exercise (SPEC §5).
 *
 * Text format: one instruction per line, mnemonic then operands separated by
 * blanks ("OUT T0 K5", "MOV K4X0 D101", "FROM K0 K0 D110 K12"); ';' starts a
 * comment; blank lines are ignored; case-insensitive.  Operands: bit devices
 * X Y (octal) M S T C, word devices D and T/C current values, Kn groups of
 * X/Y/M/S (K1-K4), decimal constants K-32768..K32767, hex constants H0-HFFFF.
 *
 * Life cycle: fxil_load_file()/fxil_load_buffer() parse (fxil_parse_buffer)
 * and check (fxil_check) a program once, allocating everything it needs;
 * fxil_scan() then runs it once per call without any allocation.  The
 * program object also holds the run state (edge memories, virtual clock,
 * scan-time statistics) and the simulated special-function blocks read and
 * written with FROM/TO, so fxil_scan() matches the scan hook of plcsim:
 *     plcsim_logic logic = { prog, fxil_scan };
 *
 * Errors: every int function returns 0 or a negative FXIL_E* code;
 * fxil_strerror() gives the text of a code; functions that read a program
 * also fill a caller-provided buffer with "FILE:LINE: message".
 */
#ifndef CROSSCLIMB_FXIL_H
#define CROSSCLIMB_FXIL_H

#include <stddef.h>
#include <stdint.h>

#include "fxmem.h"

/* ---------------------------------------------------------------- errors */
enum {
    FXIL_OK = 0,
    FXIL_EINVAL = -1,   /* bad argument, or a program that did not pass fxil_check */
    FXIL_EIO = -2,      /* the file cannot be read */
    FXIL_ENOMEM = -3,   /* out of memory while loading */
    FXIL_ESYNTAX = -4,  /* unknown instruction, malformed operand, stray character */
    FXIL_EOPERAND = -5, /* wrong number or kind of operands for the instruction */
    FXIL_ERANGE = -6,   /* device or constant outside the FX1N range */
    FXIL_EOCTAL = -7,   /* X/Y number with a digit 8 or 9 (X and Y are octal) */
    FXIL_ESTRUCT = -8,  /* circuit: MPS/MRD/MPP, ANB/ORB, output without LD, no output */
    FXIL_ENOEND = -9,   /* no END, or an instruction after END */
    FXIL_ESTEPS = -10,  /* more steps than the FX1N program memory holds */
    FXIL_EUNSUP = -11,  /* valid on an FX1N but not simulated (C200-C255) */
};

/** fxil_strerror: text for an FXIL_E* code (never NULL). */
const char *fxil_strerror(int code);

/* ------------------------------------------------------------- limits */
#define FXIL_FX1N_STEPS 8000u /* FX1N program memory, steps */
#define FXIL_MPS_DEPTH 11u    /* FX: MPS may nest 11 levels */
#define FXIL_BLOCK_DEPTH 16u  /* LD/LDI blocks pending an ANB/ORB (ours; FX advises <= 8) */
#define FXIL_UNITS 8u         /* special-function blocks, unit numbers K0-K7 */
#define FXIL_BFM_WORDS 32u    /* buffer-memory words per simulated unit, BFM#0-#31 */

/*
 * The simulated special-function blocks (analog inputs): 8 units of 32
 * buffer-memory words.  The physics writes the values the blocks would
 * convert (in engineering units, see docs/plc/README.md) and the program
 * reads them with FROM; TO writes land here too.  All 8 units are present.
 */
typedef struct fxil_blocks {
    uint16_t bfm[FXIL_UNITS][FXIL_BFM_WORDS];
} fxil_blocks;

typedef struct fxil_program fxil_program;

/* --------------------------------------------------------- loading */

/**
 * fxil_parse_buffer: parse len bytes of IL text into a new program (syntax
 * only: mnemonics, operand syntax, octal X/Y).  name is used in messages.
 * Returns 0 and *out, or FXIL_ESYNTAX/EOPERAND/ERANGE/EOCTAL/ESTEPS/ENOMEM/
 * EINVAL with "name:line: message" in msg (may be NULL).  The program cannot
 * run before fxil_check() accepts it.
 */
int fxil_parse_buffer(const char *name, const char *text, size_t len, fxil_program **out,
                      char *msg, size_t msglen);

/**
 * fxil_check: validate a parsed program as a programming tool does for an
 * FX1N — operand kinds, FX1N device ranges, constants, circuit structure
 * (LD/ANB/ORB blocks, MPS/MRD/MPP balance and depth, outputs with a
 * condition), END, and the step count (FX step sizes) against 8000 steps.
 * On success the program is ready to run.  Returns 0 or a negative code with
 * "name:line: message" in msg.
 */
int fxil_check(fxil_program *prog, char *msg, size_t msglen);

/**
 * fxil_load_buffer: fxil_parse_buffer() then fxil_check(); the program is
 * freed again on error.  Returns 0 and *out, or the first error.
 */
int fxil_load_buffer(const char *name, const char *text, size_t len, fxil_program **out,
                     char *msg, size_t msglen);

/**
 * fxil_load_file: read path (at most 8 MiB) and fxil_load_buffer() it with
 * the path as name.  Returns 0 and *out, FXIL_EIO ("path: reason") or the
 * first parse/check error.
 */
int fxil_load_file(const char *path, fxil_program **out, char *msg, size_t msglen);

/** fxil_free: release a program (NULL is fine). */
void fxil_free(fxil_program *prog);

/* ------------------------------------------------------- inspection */

/** fxil_steps: program size in FX steps including END (0 before fxil_check). */
unsigned fxil_steps(const fxil_program *prog);

/** fxil_count: number of instructions. */
size_t fxil_count(const fxil_program *prog);

/**
 * fxil_format: instruction i in canonical list form ("OUT T0 K5") into buf,
 * with its step number and source line.  Returns 0, FXIL_EINVAL (i out of
 * range) or FXIL_ERANGE (buf too small, text truncated).
 */
int fxil_format(const fxil_program *prog, size_t i, char *buf, size_t len, unsigned *step,
                unsigned *line);

/* ------------------------------------------------------------ running */

/**
 * fxil_scan: run the program once on mem, as the PLC does between input and
 * output refresh (the caller refreshes X before and Y after).  scan_ms is the
 * virtual time since the previous scan; it advances the 1/10/100 ms clocks the
 * timers count, M8011-M8013 and D8010-D8012 (0.1 ms units).  Deterministic;
 * no allocation.  self is the fxil_program.  Returns 0, or FXIL_EINVAL for a
 * NULL argument or a program fxil_check() has not accepted.
 */
int fxil_scan(void *self, fxmem *mem, uint32_t scan_ms);

/**
 * fxil_restart: STOP -> RUN: the next scan is a first scan again (M8002),
 * edge memories and the virtual clock start from zero.  Device memory is
 * the caller's and is left alone; so are the blocks.
 */
void fxil_restart(fxil_program *prog);

/** fxil_blocks_of: the program's special-function blocks (never NULL for a program). */
fxil_blocks *fxil_blocks_of(fxil_program *prog);

/**
 * fxil_block_read / fxil_block_write: one buffer-memory word of a unit.
 * Returns 0 or FXIL_ERANGE (unit >= FXIL_UNITS or bfm >= FXIL_BFM_WORDS).
 */
int fxil_block_read(const fxil_program *prog, unsigned unit, unsigned bfm, uint16_t *val);
int fxil_block_write(fxil_program *prog, unsigned unit, unsigned bfm, uint16_t val);

/** fxil_now_ms: virtual time the program has run, ms (sum of scan_ms). */
uint64_t fxil_now_ms(const fxil_program *prog);

#endif
