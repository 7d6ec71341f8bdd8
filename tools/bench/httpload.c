/* Connection-per-request HTTP load with a bad request every so often: the
 * nginx anchor, where nginx's own lingering close is set against the
 * library's.
 *
 *   httpload PORT SECONDS THREADS BAD_EVERY -- SERVER...
 *
 * Starts SERVER (listening on 127.0.0.1:PORT; its pid is the process that
 * serves, so run nginx with "master_process off"). THREADS threads, each one
 * connection after another for SECONDS, closed-loop: connect, send the
 * request, read the response to EOF, close. The requests are "GET /" with
 * "Connection: close", but every BAD_EVERY-th connection is a POST whose
 * declared body (4 KiB) is past the server's client_max_body_size (1k in
 * the benchmark's nginx.conf), and which sends 64 KiB more past that body,
 * all in one go. nginx reads and discards the declared body whatever
 * lingering_close says, answers 413 and closes: the 64 KiB past the body are
 * what it leaves unread, for its own lingering close or for the library.
 * Latency: from connect to the response's EOF.
 *
 * Prints one line: requests= rps= ok_200= ok_413= client_resets= errors=
 * p50_us= p99_us= server_cpu_ms= server_cpu_us_per_req= abort_on_close=
 * abort_on_data= out_rsts=. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_THREADS 64
#define BODY_BYTES 4096
#define PAST_BODY_BYTES 65536
#define MAX_SAMPLES 4000000

static const char good_request[] = "GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";
static char bad_request[256 + BODY_BYTES + PAST_BODY_BYTES];
static size_t bad_len;

struct shared {
    int port, bad_every;
    long long deadline;
    atomic_uint seq;
    atomic_long ok_200, ok_413, resets, errors, samples;
    long long *latency_ns;
};

enum outcome { GOT_200, GOT_413, RESET, FAILED };

/* One connection, start to end. */
static enum outcome exchange(struct shared *sh, unsigned seq)
{
    struct timeval tv = {5, 0};
    int fd = connect_loopback(sh->port, seq);
    if (fd < 0)
        return errno == ECONNRESET ? RESET : FAILED;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int bad = sh->bad_every > 0 && seq % (unsigned)sh->bad_every == 0;
    enum outcome result = FAILED;
    char head[16] = "", buf[4096];
    size_t got = 0;
    if ((bad ? write_all(fd, bad_request, bad_len) : write_all(fd, good_request, sizeof good_request - 1)) < 0) {
        result = errno == ECONNRESET || errno == EPIPE ? RESET : FAILED;
        goto out;
    }
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            result = errno == ECONNRESET ? RESET : FAILED;
            goto out;
        }
        if (n == 0)
            break;
        if (got < sizeof head - 1) {
            size_t take = (size_t)n < sizeof head - 1 - got ? (size_t)n : sizeof head - 1 - got;
            memcpy(head + got, buf, take);
            got += take;
        }
    }
    if (strncmp(head, "HTTP/1.1 200", 12) == 0)
        result = GOT_200;
    else if (strncmp(head, "HTTP/1.1 413", 12) == 0)
        result = GOT_413;
out:
    close(fd);
    return result;
}

static void *load_thread(void *arg)
{
    struct shared *sh = arg;
    while (now_ns() < sh->deadline) {
        long long t0 = now_ns();
        switch (exchange(sh, atomic_fetch_add(&sh->seq, 1) + 1)) {
        case GOT_200:
            atomic_fetch_add(&sh->ok_200, 1);
            break;
        case GOT_413:
            atomic_fetch_add(&sh->ok_413, 1);
            break;
        case RESET:
            atomic_fetch_add(&sh->resets, 1);
            continue;
        case FAILED:
            atomic_fetch_add(&sh->errors, 1);
            continue;
        }
        long i = atomic_fetch_add(&sh->samples, 1);
        if (i < MAX_SAMPLES)
            sh->latency_ns[i] = now_ns() - t0;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 7 || strcmp(argv[5], "--") != 0) {
        fprintf(stderr, "usage: httpload PORT SECONDS THREADS BAD_EVERY -- SERVER...\n");
        return 2;
    }
    static struct shared sh;
    double seconds = atof(argv[2]);
    int threads = atoi(argv[3]);
    sh.port = atoi(argv[1]);
    sh.bad_every = atoi(argv[4]);
    if (threads < 1 || threads > MAX_THREADS || seconds <= 0 || seconds > 60 || sh.bad_every < 0) {
        fprintf(stderr, "httpload: 1..%d threads, 0..60 s, BAD_EVERY >= 0 (0: none)\n", MAX_THREADS);
        return 2;
    }
    bad_len = (size_t)snprintf(bad_request, 256,
                               "POST / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
                               "Content-Length: %d\r\n\r\n",
                               BODY_BYTES);
    memset(bad_request + bad_len, 'x', BODY_BYTES + PAST_BODY_BYTES);
    bad_len += BODY_BYTES + PAST_BODY_BYTES;
    sh.latency_ns = calloc(MAX_SAMPLES, sizeof *sh.latency_ns);
    if (!sh.latency_ns)
        bench_die("calloc");

    pid_t server = server_spawn(argv + 6, sh.port, 10000);
    if (server < 0) {
        fprintf(stderr, "httpload: the server did not listen on port %d\n", sh.port);
        return 3;
    }
    struct counters before;
    pthread_t t[MAX_THREADS];
    counters_read(&before);
    long cpu_before = proc_cpu_ms(server);
    long long start = now_ns();
    sh.deadline = start + (long long)(seconds * 1e9);
    for (int i = 0; i < threads; i++)
        if (pthread_create(&t[i], NULL, load_thread, &sh) != 0)
            bench_die("pthread_create");
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double elapsed = (double)(now_ns() - start) / 1e9;
    /* The server's last lingering sockets are its work too: a moment for
     * them before its CPU time is read. */
    sleep_us(200000);
    long cpu_ms = proc_cpu_ms(server) - cpu_before;

    long ok = sh.ok_200 + sh.ok_413, n = sh.samples < MAX_SAMPLES ? sh.samples : MAX_SAMPLES;
    long long p50 = quantile(sh.latency_ns, (size_t)n, 0.50), p99 = quantile(sh.latency_ns, (size_t)n, 0.99);
    printf("requests=%ld rps=%.0f ok_200=%ld ok_413=%ld client_resets=%ld errors=%ld p50_us=%lld p99_us=%lld "
           "server_cpu_ms=%ld server_cpu_us_per_req=%.1f",
           ok, (double)ok / elapsed, (long)sh.ok_200, (long)sh.ok_413, (long)sh.resets, (long)sh.errors,
           p50 / 1000, p99 / 1000, cpu_ms, ok ? 1000.0 * (double)cpu_ms / (double)ok : 0.0);
    counters_print_since(&before);
    printf("\n");
    fflush(stdout);
    server_kill(server);
    return 0;
}
