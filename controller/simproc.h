/*
 * simproc.h — run `crossclimb sim plc` as a child process: for
 * `crossclimb demo` (SPEC §3: the controller starts the simulator as its own
 * process and talks to it over Modbus TCP, never linking it) and for tests.
 * simproc_spawn() runs any peer that prints the same lines (the pymodbus
 * stand-in PLC of the tests does).
 *
 * simproc_start() forks and execs the binary with "sim plc" and the given
 * arguments, reads the child's stdout until the 'ready' line (after
 * 'listening on tcp://HOST:PORT' and/or 'rtu pty PATH') and returns the pid,
 * the TCP port and the pty path.  simproc_stop() sends SIGTERM, reaps the
 * child and gives its exit status.  The child runs in its own process group
 * and gets SIGTERM if the test process dies first (PR_SET_PDEATHSIG), so a
 * failed or crashed test leaves no sim and no pty link behind.
 *
 * Binary: the bin argument, else $CROSSCLIMB_BIN, else build/crossclimb.
 * The child's stderr is the test's stderr.
 *
 * Errors: 0 or a negative SIMPROC_E* code; simproc_strerror() gives the text.
 */
#ifndef CROSSCLIMB_SIMPROC_H
#define CROSSCLIMB_SIMPROC_H

#include <sys/types.h>

enum {
    SIMPROC_OK = 0,
    SIMPROC_EARG = -1,    /* null or too many arguments */
    SIMPROC_ESPAWN = -2,  /* pipe or fork failed */
    SIMPROC_EEXIT = -3,   /* the child ended before it was ready */
    SIMPROC_ETIMEOUT = -4,/* no 'ready' line within the start timeout */
    SIMPROC_EWAIT = -5,   /* waitpid failed, or the child would not die */
};

#define SIMPROC_START_TIMEOUT_MS 10000 /* from fork to the 'ready' line */
#define SIMPROC_STOP_TIMEOUT_MS 5000   /* from SIGTERM to the exit, then SIGKILL */

typedef struct simproc {
    pid_t pid;          /* child, 0 when not running */
    int out_fd;         /* read end of the child's stdout, -1 when closed */
    int tcp_port;       /* real TCP port, 0 when not listening on TCP */
    char tcp_uri[96];   /* "tcp://127.0.0.1:PORT", "" without TCP */
    char pty_path[128]; /* "/dev/pts/N", "" without RTU */
    char ready[256];    /* the 'ready (...)' line, without the newline */
} simproc;

/** simproc_strerror: text for a SIMPROC_E* code (never NULL). */
const char *simproc_strerror(int code);

/**
 * simproc_start: start `BIN sim plc ARGS...` (args: NULL-terminated list,
 * may be NULL; e.g. {"--listen", "tcp://127.0.0.1:0", "--idle", "frozen",
 * NULL}) and wait until it is ready.  bin NULL = $CROSSCLIMB_BIN or
 * build/crossclimb.  On failure the child is killed and reaped.
 */
int simproc_start(simproc *sp, const char *bin, const char *const *args);

/**
 * simproc_spawn: start argv[0] with argv (NULL-terminated, argv[0] the path
 * to execute) and wait for its 'ready' line as simproc_start does.
 * Returns 0 or a negative SIMPROC_E* code.
 */
int simproc_spawn(simproc *sp, const char *const *argv);

/**
 * simproc_stop: SIGTERM, wait (SIGKILL after SIMPROC_STOP_TIMEOUT_MS), reap.
 * Returns the exit status 0..255, 128+N when killed by signal N, or a
 * negative SIMPROC_E* code.  Safe to call twice (returns SIMPROC_EARG).
 */
int simproc_stop(simproc *sp);

#endif
