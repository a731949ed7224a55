/*
 * simproc.c — run the simulated PLC (or another peer) as a child process.  See simproc.h.
 */
#include "simproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SIMPROC_MAX_ARGS 32

const char *simproc_strerror(int code)
{
    switch (code) {
    case SIMPROC_OK: return "ok";
    case SIMPROC_EARG: return "bad argument";
    case SIMPROC_ESPAWN: return "cannot start the simulator";
    case SIMPROC_EEXIT: return "the simulator ended before it was ready";
    case SIMPROC_ETIMEOUT: return "the simulator did not get ready in time";
    case SIMPROC_EWAIT: return "cannot reap the simulator";
    default: return "unknown error";
    }
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copy src into dst[cap], cut if need be. */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Take one line of the child's output. */
static void take_line(simproc *sp, const char *line)
{
    static const char tcp[] = "listening on ", pty[] = "rtu pty ", ready[] = "ready";
    if (!strncmp(line, tcp, sizeof tcp - 1)) {
        const char *uri = line + sizeof tcp - 1;
        const char *colon = strrchr(uri, ':');
        copy_str(sp->tcp_uri, sizeof sp->tcp_uri, uri);
        if (colon) sp->tcp_port = atoi(colon + 1);
    } else if (!strncmp(line, pty, sizeof pty - 1)) {
        copy_str(sp->pty_path, sizeof sp->pty_path, line + sizeof pty - 1);
    } else if (!strncmp(line, ready, sizeof ready - 1)) {
        copy_str(sp->ready, sizeof sp->ready, line);
    }
}

/* Reap the child within timeout_ms (polling waitpid every 10 ms). */
static int reap(pid_t pid, int timeout_ms, int *status)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) return 0;
        if (r < 0 && errno != EINTR) return -1;
        if (now_ms() >= deadline) return 1;
        struct timespec d = {0, 10 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
}

static void kill_and_reap(simproc *sp)
{
    int st;
    if (sp->pid > 0) {
        kill(sp->pid, SIGKILL);
        (void)reap(sp->pid, SIMPROC_STOP_TIMEOUT_MS, &st);
    }
    if (sp->out_fd >= 0) close(sp->out_fd);
    sp->pid = 0;
    sp->out_fd = -1;
}

int simproc_start(simproc *sp, const char *bin, const char *const *args)
{
    const char *argv[SIMPROC_MAX_ARGS + 4];
    int n = 0;
    if (!sp) return SIMPROC_EARG;
    if (!bin) bin = getenv("CROSSCLIMB_BIN");
    if (!bin || !*bin) bin = "build/crossclimb";
    argv[n++] = bin;
    argv[n++] = "sim";
    argv[n++] = "plc";
    for (int i = 0; args && args[i]; i++) {
        if (i >= SIMPROC_MAX_ARGS) return SIMPROC_EARG;
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    return simproc_spawn(sp, argv);
}

int simproc_spawn(simproc *sp, const char *const *argv)
{
    int pfd[2] = {-1, -1}, rc;
    char buf[1024];
    size_t used = 0;

    if (!sp || !argv || !argv[0]) return SIMPROC_EARG;
    memset(sp, 0, sizeof *sp);
    sp->out_fd = -1;
    const char *bin = argv[0];

    if (pipe(pfd) != 0) return SIMPROC_ESPAWN;
    fflush(NULL); /* no buffered output duplicated into the child */
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return SIMPROC_ESPAWN;
    }
    if (pid == 0) {
        /* The sim must not outlive the test that started it: SIGTERM when
         * the parent dies, so it exits cleanly (its pty link removed).  Its
         * own process group keeps it out of a SIGKILL to the test's group
         * (Check kills a test's group when the test ends). */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(127);
        dup2(pfd[1], STDOUT_FILENO);
        close(pfd[0]);
        close(pfd[1]);
        execv(bin, (char *const *)argv);
        fprintf(stderr, "simproc: cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    (void)fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
    sp->pid = pid;
    sp->out_fd = pfd[0];

    long long deadline = now_ms() + SIMPROC_START_TIMEOUT_MS;
    while (!sp->ready[0]) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            rc = SIMPROC_ETIMEOUT;
            goto err;
        }
        struct pollfd p = {.fd = sp->out_fd, .events = POLLIN};
        int pr = poll(&p, 1, (int)left);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) continue;
        ssize_t r = read(sp->out_fd, buf + used, sizeof buf - 1 - used);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            rc = SIMPROC_EEXIT;
            goto err;
        }
        used += (size_t)r;
        buf[used] = '\0';
        char *nl;
        while ((nl = strchr(buf, '\n')) != NULL) {
            *nl = '\0';
            take_line(sp, buf);
            size_t rest = used - (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, rest + 1);
            used = rest;
        }
        if (used == sizeof buf - 1) used = 0; /* an absurd line: drop it */
    }
    return 0;
err:
    kill_and_reap(sp);
    return rc;
}

int simproc_stop(simproc *sp)
{
    int st = 0, r;
    if (!sp || sp->pid <= 0) return SIMPROC_EARG;
    kill(sp->pid, SIGTERM);
    r = reap(sp->pid, SIMPROC_STOP_TIMEOUT_MS, &st);
    if (r == 1) { /* would not die */
        kill(sp->pid, SIGKILL);
        r = reap(sp->pid, SIMPROC_STOP_TIMEOUT_MS, &st);
    }
    if (sp->out_fd >= 0) close(sp->out_fd);
    sp->out_fd = -1;
    sp->pid = 0;
    if (r != 0) return SIMPROC_EWAIT;
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return SIMPROC_EWAIT;
}
