/* Runs one scenario in one mode: the server in a process group of its own
 * (so that a hang can be ended with everything it started), one peer per
 * connection step, all on 127.0.0.1 of the namespace the test runs in. */
#include "run.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PEER_MS 7500    /* a peer that has seen no end by then: hang */
#define SERVER_MS 8000  /* the server's exit, counted from its start */
#define SERVER_PATH "./tests/progs/tortured"

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The server's environment: the driver's own (sanitizer options
 * included), LD_PRELOAD only for a run with the library (after the
 * sanitizer runtime NORST_TEST_RUNTIME names, as tests/harness.c does),
 * the log on stderr, and the mode's settings. */
static void set_environment(const struct mode *m, const char *lib)
{
    char preload[8192];
    const char *runtime = getenv("NORST_TEST_RUNTIME");
    snprintf(preload, sizeof preload, "%s%s%s", runtime ? runtime : "", runtime ? ":" : "", lib);
    if (m->preload)
        setenv("LD_PRELOAD", preload, 1);
    else
        unsetenv("LD_PRELOAD");
    setenv("NORST_LOG", "stderr", 1);
    /* Under AddressSanitizer (make check-asan): a process that exits while
     * a thread still works is a scenario here, and LeakSanitizer, unable to
     * stop that thread, would report it. */
    const char *asan = getenv("ASAN_OPTIONS");
    if (asan) {
        char options[4096];
        snprintf(options, sizeof options, "%s:detect_leaks=0", asan);
        setenv("ASAN_OPTIONS", options, 1);
    }
    for (int i = 0; m->env[i]; i++)
        putenv((char *)m->env[i]);
}

static pid_t start_server(const struct scenario *sc, const struct mode *m, const char *lib,
                          int port, int *out_fd, const char *err_path)
{
    char *argv[MAX_STEPS + 8], buf[MAX_STEPS + 1][64];
    int out[2];
    scenario_argv(sc, port, argv, buf);
    if (pipe2(out, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(out[1], 1);
        dup2(err, 2);
        set_environment(m, lib);
        execv(SERVER_PATH, argv);
        _exit(127);
    }
    setpgid(pid, pid); /* no race with the child's own call: both set the same */
    close(out[1]);
    *out_fd = out[0];
    return pid;
}

/* Appends what the server printed; 1 once text is there. */
static int read_until(int fd, char *buf, size_t len, const char *text, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    size_t used = strlen(buf);
    while (!(text && strstr(buf, text)) && now_ms() < deadline && used < len - 1) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t got = read(fd, buf + used, len - 1 - used);
        if (got <= 0)
            break;
        used += (size_t)got;
        buf[used] = '\0';
    }
    return text && strstr(buf, text);
}

static int peer_connect(int port, struct peer_seen *seen)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    socklen_t len = sizeof sa;
    if (fd >= 0 && getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        seen->port = ntohs(sa.sin_port);
    return fd;
}

static void peer_send(int fd, long n, struct peer_seen *seen)
{
    static const char buf[4096];
    while (n > 0) {
        ssize_t put = send(fd, buf, n < (long)sizeof buf ? (size_t)n : sizeof buf, MSG_NOSIGNAL);
        if (put < 0) {
            seen->rst |= errno == ECONNRESET || errno == EPIPE;
            return;
        }
        n -= put;
    }
}

struct peer {
    int fd;
    int part2_sent, done;
    long close_at; /* after the reply's end: when to close (linger_ms) */
};

/* After part1 (sent at connect): part2 when its time has come, then
 * SHUT_WR or the early close. */
static void peer_rest(const struct step *st, struct peer *p, struct peer_seen *seen, long t0)
{
    if (p->part2_sent || now_ms() < t0 + st->pause_ms)
        return;
    peer_send(p->fd, st->part2, seen);
    p->part2_sent = 1;
    if (st->early_close) {
        close(p->fd);
        p->done = 1;
    } else if (st->shut_wr) {
        shutdown(p->fd, SHUT_WR);
    }
}

static void peer_read(const struct step *st, struct peer *p, struct peer_seen *seen)
{
    char buf[65536];
    for (;;) {
        ssize_t got = recv(p->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (got > 0) {
            seen->bytes += got;
            continue;
        }
        if (got < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        seen->eof = got == 0;
        seen->rst |= got < 0 && errno == ECONNRESET;
        p->done = 1;
        if (seen->eof && st->linger_ms)
            p->close_at = now_ms() + st->linger_ms;
        else
            close(p->fd);
        return;
    }
}

static void play_peers(const struct scenario *sc, int port, struct run_result *res)
{
    struct peer peers[MAX_STEPS] = {{0}};
    for (int i = 0; i < sc->nsteps; i++) {
        peers[i].done = 1;
        if (sc->steps[i].open_only)
            continue;
        peers[i].fd = peer_connect(port, &res->peers[i]);
        if (peers[i].fd < 0)
            continue;
        peers[i].done = 0;
        peer_send(peers[i].fd, sc->steps[i].part1, &res->peers[i]);
    }
    long t0 = now_ms();
    for (;;) {
        struct pollfd pfd[MAX_STEPS];
        int n = 0, idx[MAX_STEPS];
        int lingering = 0;
        for (int i = 0; i < sc->nsteps; i++) {
            if (peers[i].close_at && now_ms() >= peers[i].close_at) {
                close(peers[i].fd);
                peers[i].close_at = 0;
            }
            lingering |= peers[i].close_at != 0;
            if (peers[i].done)
                continue;
            peer_rest(&sc->steps[i], &peers[i], &res->peers[i], t0);
            if (peers[i].done)
                continue;
            pfd[n] = (struct pollfd){peers[i].fd, POLLIN, 0};
            idx[n++] = i;
        }
        if ((n == 0 && !lingering) || now_ms() > t0 + PEER_MS)
            break;
        poll(pfd, (nfds_t)n, 5);
        for (int k = 0; k < n; k++)
            if (pfd[k].revents)
                peer_read(&sc->steps[idx[k]], &peers[idx[k]], &res->peers[idx[k]]);
    }
    for (int i = 0; i < sc->nsteps; i++) {
        res->peers[i].timed_out = !peers[i].done;
        if (!peers[i].done || peers[i].close_at)
            close(peers[i].fd);
    }
}

static void read_small(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t got = f ? fread(buf, 1, len - 1, f) : 0;
    buf[got] = '\0';
    if (f)
        fclose(f);
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keeps the "fd" and "st" lines of raw, sorted: processes print them in an
 * order that timing decides. */
static void sorted_lines(char *raw, char *out, size_t len)
{
    char *lines[512], *save;
    int n = 0;
    for (char *l = strtok_r(raw, "\n", &save); l && n < 512; l = strtok_r(NULL, "\n", &save))
        if (strncmp(l, "fd ", 3) == 0 || strncmp(l, "st ", 3) == 0)
            lines[n++] = l;
    qsort(lines, (size_t)n, sizeof lines[0], by_text);
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s\n", lines[i]);
}

/* Where each thread of process pid waits: "[pid/tid: syscall N in WCHAN]". */
static size_t note_threads(pid_t pid, char *out, size_t len)
{
    char path[320], line[128], wchan[64];
    size_t used = 0;
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d)) && used < len;) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%s/syscall", (int)pid, e->d_name);
        read_small(path, line, sizeof line);
        snprintf(path, sizeof path, "/proc/%d/task/%s/wchan", (int)pid, e->d_name);
        read_small(path, wchan, sizeof wchan);
        used += (size_t)snprintf(out + used, len - used, " [%d/%s: syscall %.*s in %s]", (int)pid,
                                 e->d_name, (int)strcspn(line, " \n"), line, wchan);
    }
    if (d)
        closedir(d);
    return used < len ? used : len;
}

/* The same for every process of the hung server's process group. */
static void note_group(pid_t pgid, char *out, size_t len)
{
    char path[64], stat[512];
    size_t used = 0;
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d)) && used < len;) {
        int pgrp = 0;
        snprintf(path, sizeof path, "/proc/%.20s/stat", e->d_name);
        read_small(path, stat, sizeof stat);
        const char *after_comm = strrchr(stat, ')'); /* "pid (comm) state ppid pgrp" */
        if (after_comm && sscanf(after_comm, ") %*c %*d %d", &pgrp) == 1 && pgrp == pgid)
            used += note_threads(atoi(e->d_name), out + used, len - used);
    }
    if (d)
        closedir(d);
}

static void wait_server(pid_t pid, long t0, struct run_result *res)
{
    while (waitpid(pid, &res->status, WNOHANG) == 0) {
        if (now_ms() > t0 + SERVER_MS) {
            res->hung = 1;
            note_group(pid, res->hang, sizeof res->hang);
            kill(-pid, SIGKILL);
            waitpid(pid, &res->status, 0);
            break;
        }
        struct timespec ms = {0, 2000000};
        nanosleep(&ms, NULL);
    }
    kill(-pid, SIGKILL); /* anything it left behind */
}

void run_scenario(const struct scenario *sc, const struct mode *m, const char *lib, int port,
                  struct run_result *res)
{
    static char raw[65536];
    char err_path[64];
    int out_fd;
    memset(res, 0, sizeof *res);
    raw[0] = '\0';
    snprintf(err_path, sizeof err_path, "/tmp/torture-%d.err", (int)getpid());
    long t0 = now_ms();
    pid_t pid = start_server(sc, m, lib, port, &out_fd, err_path);
    if (pid < 0) {
        res->hung = 1;
        return;
    }
    if (read_until(out_fd, raw, sizeof raw, "listening on port", 5000))
        play_peers(sc, port, res);
    wait_server(pid, t0, res);
    read_until(out_fd, raw, sizeof raw, NULL, 1000);
    close(out_fd);
    res->ms = now_ms() - t0;
    sorted_lines(raw, res->out, sizeof res->out);
    read_small(err_path, res->err, sizeof res->err);
    unlink(err_path);
}
