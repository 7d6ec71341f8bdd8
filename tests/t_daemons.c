/* Real daemons from the distribution, unmodified, and clients still
 * sending when the daemon closes on them (a rejected upload, a protocol
 * error): without the library they are reset; with it, in its default
 * mode, each reads the daemon's last reply, then its FIN.
 *
 * haproxy's frontend is bound to its second thread, which blocks nearly
 * every signal, SIGHUP with its handler too, as thread pools do: the
 * background thread must still start from a close there. redis-server's
 * crash handlers have SA_NODEFER | SA_RESETHAND. A daemon that is not
 * installed skips. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

#define CLIENTS 4
#define DRIP_BYTES 1024
#define DRIPS 50     /* one every DRIP_MS: past the close, still sending */
#define DRIP_MS 10

struct daemon {
    const char *name;
    const char *probe;      /* a shell command that fails when it is missing */
    const char *argv[12];
    const char *first;      /* what the client sends first: the daemon closes on it */
    const char *reply;      /* what its last reply holds */
};

static char haproxy_cfg[64];

static void write_haproxy_cfg(void)
{
    snprintf(haproxy_cfg, sizeof haproxy_cfg, "/tmp/norst-haproxy-%d.cfg", (int)getpid());
    FILE *f = fopen(haproxy_cfg, "w");
    if (!f)
        return;
    fputs("global\n  nbthread 2\n  maxconn 100\n"
          "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n"
          "frontend deny_all\n  bind 127.0.0.1:5000 thread 2\n  http-request deny\n",
          f);
    fclose(f);
}

/* Up to 5 s for the daemon to listen. The probe that gets in ends
 * politely (our FIN, then all it sends, to its EOF): haproxy answers an
 * empty connection, which a socket already closed would reset. */
static int wait_listening(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(5000),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < 250; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (ok) {
            char sink[512];
            struct timeval one_s = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &one_s, sizeof one_s);
            shutdown(fd, SHUT_WR);
            while (recv(fd, sink, sizeof sink, 0) > 0)
                ;
        }
        close(fd);
        if (ok)
            return 1;
        sleep_ms(20);
    }
    return 0;
}

struct upload {
    int reset;      /* ECONNRESET or EPIPE, sending or reading */
    int got_reply;  /* the daemon's reply arrived */
    int eof;
};

/* first, then DRIPS drips: the daemon has closed by the second or so; then
 * our FIN, and everything that comes back. */
static struct upload slow_upload(const struct daemon *d)
{
    struct upload u = {0, 0, 0};
    char reply[4096];
    size_t got = 0;
    char drip[DRIP_BYTES];
    memset(drip, 'x', sizeof drip);
    int fd = peer_connect(4, 5000);
    struct timeval three_s = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &three_s, sizeof three_s);
    send(fd, d->first, strlen(d->first), MSG_NOSIGNAL);
    for (int i = 0; i < DRIPS && !u.reset; i++) {
        if (send(fd, drip, sizeof drip, MSG_NOSIGNAL) < 0)
            u.reset = errno == ECONNRESET || errno == EPIPE;
        sleep_ms(DRIP_MS);
    }
    shutdown(fd, SHUT_WR);
    for (;;) {
        ssize_t n = recv(fd, reply + got, sizeof reply - 1 - got, 0);
        if (n == 0)
            u.eof = 1;
        if (n < 0 && errno == ECONNRESET)
            u.reset = 1;
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == sizeof reply - 1)
            got = 0; /* only the start matters */
    }
    reply[got] = '\0';
    u.got_reply = contains(reply, d->reply);
    close(fd);
    return u;
}

static void run(const struct daemon *d, int with_shim)
{
    char name[160];
    struct proc server;
    struct counters before;
    const char *env[] = {"NORST_LOG=stderr", NULL};
    int resets = 0, replies = 0, eofs = 0;

    snprintf(name, sizeof name, "%s, %d clients still sending when it closes: %s", d->name, CLIENTS,
             with_shim ? "each gets the reply and an EOF" : "without the library, resets");
    case_begin(name);
    proc_start(&server, with_shim, env, d->argv, 0);
    if (!wait_listening()) {
        kill(server.pid, SIGKILL);
        proc_finish(&server, 5000);
        CHECK(0, "%s never listened: %s%s", d->name, server.out, server.err);
        case_end();
        return;
    }
    /* Not before: each refused connect while it started was an RST. */
    counters_read(&before);
    for (int i = 0; i < CLIENTS; i++) {
        struct upload u = slow_upload(d);
        resets += u.reset;
        replies += u.got_reply;
        eofs += u.eof && !u.reset;
    }
    sleep_ms(100);
    kill(server.pid, SIGTERM);
    proc_finish(&server, 5000);
    struct counters delta = counters_since(&before);
    if (with_shim) {
        CHECK(resets == 0 && eofs == CLIENTS && replies == CLIENTS,
              "%d resets, %d EOFs, %d replies of %d; log: %s", resets, eofs, replies, CLIENTS, server.err);
        CHECK(delta.out_rsts == 0, "OutRsts %ld AbortOnClose %ld AbortOnData %ld; log: %s", delta.out_rsts, delta.abort_on_close, delta.abort_on_data, server.err);
        CHECK(count_of(server.err, "action=drain outcome=peer-eof") == CLIENTS, "log: %s", server.err);
    } else {
        /* The case is real: the kernel resets such a client. */
        CHECK(resets >= 1 && delta.abort_on_close + delta.abort_on_data >= 1,
              "%d resets; AbortOnClose %ld AbortOnData %ld", resets, delta.abort_on_close,
              delta.abort_on_data);
    }
    case_end();
}

int main(void)
{
    write_haproxy_cfg();
    const struct daemon daemons[] = {
        {"haproxy (frontend on its signal-blocking thread)", "haproxy -v",
         {"/usr/sbin/haproxy", "-db", "-f", haproxy_cfg, NULL},
         "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n", "403 Forbidden"},
        {"redis-server (a protocol error)", "redis-server --version",
         {"/usr/bin/redis-server", "--port", "5000", "--bind", "127.0.0.1", "--save", "", "--appendonly",
          "no", NULL},
         "*abc\r\n", "-ERR Protocol error"},
    };
    for (size_t i = 0; i < sizeof daemons / sizeof daemons[0]; i++) {
        char probe[96];
        snprintf(probe, sizeof probe, "%s >/dev/null 2>&1", daemons[i].probe);
        if (system(probe) != 0 || access(daemons[i].argv[0], X_OK) != 0) {
            char why[128];
            snprintf(why, sizeof why, "%s is not installed", daemons[i].argv[0]);
            case_begin(daemons[i].name);
            case_skip(why);
            case_end();
            continue;
        }
        run(&daemons[i], 0);
        run(&daemons[i], 1);
    }
    unlink(haproxy_cfg);
    return harness_done();
}
