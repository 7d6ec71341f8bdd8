/* Load: 8 server threads close 8 x 1000 connections with unread data at
 * once while a 1 ms interval timer interrupts their drains; 8 client
 * processes check every reply byte against what the server derived from
 * their seed. Every byte arrives, no RST, no fd leak, no deadlock; and a
 * close() made inside the signal handler closes in order too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "harness.h"

#define THREADS 8
#define PER_THREAD 1000
#define REPLY 4096
#define CLIENTS 8

static int one_connection(uint32_t seed)
{
    unsigned char req[500] = {0}, buf[8192];
    size_t got = 0;
    int bad = 0;
    int fd = peer_connect(4, 5000);
    memcpy(req, &seed, sizeof seed);
    peer_send(fd, req, sizeof req);
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            bad += n < 0; /* a reset */
            break;
        }
        for (ssize_t i = 0; i < n; i++)
            bad += buf[i] != (unsigned char)((seed + (uint32_t)(got + (size_t)i) * 7) & 0xff);
        got += (size_t)n;
    }
    close(fd);
    return bad || got != REPLY;
}

static void client(int id)
{
    int bad = 0;
    for (int i = 0; i < THREADS * PER_THREAD / CLIENTS; i++)
        bad += one_connection((uint32_t)(id * 100000 + i));
    _exit(bad > 255 ? 255 : bad);
}

static void load(const char *mode)
{
    char name[128], threads[8], per[8], reply[8];
    struct proc server;
    struct counters before;
    const char *env[] = {mode, NULL};
    const char *argv[] = {"./tests/progs/loadsrv", threads, per, reply, "5000", NULL};
    pid_t pids[CLIENTS];
    int bad = 0;

    snprintf(threads, sizeof threads, "%d", THREADS);
    snprintf(per, sizeof per, "%d", PER_THREAD);
    snprintf(reply, sizeof reply, "%d", REPLY);
    snprintf(name, sizeof name, "load: %d threads x %d closes with unread data, 1 ms SIGALRM, %s",
             THREADS, PER_THREAD, mode);
    case_begin(name);
    counters_read(&before);
    proc_start(&server, 1, env, argv, 1);
    for (int c = 0; c < CLIENTS; c++)
        if ((pids[c] = fork()) == 0)
            client(c);
    for (int c = 0; c < CLIENTS; c++) {
        int status;
        waitpid(pids[c], &status, 0);
        bad += WIFEXITED(status) ? WEXITSTATUS(status) : 1000;
    }
    CHECK(proc_finish(&server, 60000) == 0, "server did not finish (deadlock?): %s", server.err);
    struct counters delta = counters_since(&before);
    char want[64];
    snprintf(want, sizeof want, "served=%d ", THREADS * PER_THREAD);
    CHECK(bad == 0, "%d connections with a wrong, short or reset reply", bad);
    CHECK(contains(server.out, want), "server: %s", server.out);
    CHECK(contains(server.out, "handler_close=0 handler_peer=eof"), "close in a handler: %s", server.out);
    const char *start = strstr(server.out, "fds_start="), *end = strstr(server.out, "fds_end=");
    CHECK(start && end && atoi(start + 10) == atoi(end + 8), "fd leak: %s", server.out);
    const char *alarms = strstr(server.out, "alarms=");
    CHECK(alarms && atoi(alarms + 7) > 100, "too few signals to matter: %s", server.out);
    CHECK(delta.out_rsts == 0, "OutRsts %ld", delta.out_rsts);
    case_end();
}

int main(void)
{
    load("NORST_MODE=drain");
    load("NORST_ASYNC=0");
    return harness_done();
}
