/* The upload a server rejects early, over a real path (tests/progs/wanlink:
 * 100 ms RTT, 2 Mbit/s). The server reads the request's head and whatever
 * else has come (into its own buffer), answers 413 and closes at once; the
 * rest of the 1 MB upload is still on its way, so at the instant of the
 * close nothing is unread. Without the library the
 * upload's next segment draws an RST and the client, which reads its
 * answer only once it has sent everything (as most clients do), never
 * sees the 413. With the library's default, the close lingers because the
 * peer sent a moment ago (classify.c, peer_activity): the client's upload
 * completes into the drain, it reads the 413 and the EOF, and no RST
 * leaves; NORST_MODE=unread, which looks only at unread bytes, resets as
 * without the library. No setting is changed for the default. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "wan.h"

#define UPLOAD (1024 * 1024)
#define HEAD 1000
#define ANSWER 200

static void upload(const char *title, int with_shim, const char *mode, int expect_clean)
{
    static char chunk[16384];
    struct wan w;
    struct proc server;
    struct counters before;
    char name[160], setting[64];
    const char *opts[] = {"--rtt", "100", "--rate", "2000", NULL};
    const char *env[] = {setting, "NORST_LOG=stderr", NULL};

    snprintf(setting, sizeof setting, "NORST_MODE=%s", mode);
    snprintf(name, sizeof name, "1 MB upload rejected after its head, 100 ms RTT, 2 Mbit/s: %s", title);
    if (wan_case_begin(&w, name, opts) < 0)
        return;
    counters_read(&before);
    closer_start(&server, with_shim, with_shim ? env : NULL, 4, "accept read:1000 readq write:200 close sleep:6000");
    int c = wan_connect(&w, 5000);
    size_t sent = 0;
    int send_errno = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (sent < UPLOAD) {
        ssize_t n = send(c, chunk, sizeof chunk, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            send_errno = errno;
            break;
        }
        sent += (size_t)n;
    }
    struct peer_result r = peer_read_all(c, 10000);
    long ms = elapsed_ms_since(&start);
    close(c);
    proc_finish(&server, 15000);
    struct counters delta = counters_since(&before);
    wan_stop(&w);
    printf("%s: sent %zu of %d (%s) in %ld ms; read %zu bytes, %s; server OutRsts %ld "
           "AbortOnData %ld; close ms=%ld\n",
           title, sent, UPLOAD, send_errno ? strerror(send_errno) : "no error", ms, r.bytes,
           r.eof ? "then EOF" : r.reset ? "then a reset" : "then nothing", delta.out_rsts,
           delta.abort_on_data, number_after(server.out, "ms="));
    if (expect_clean) {
        CHECK(sent == UPLOAD && send_errno == 0, "the upload failed after %zu bytes: %s", sent,
              strerror(send_errno));
        CHECK(r.bytes == ANSWER && r.pattern_ok && r.eof && !r.reset, "answer: %zu bytes, eof %d reset %d",
              r.bytes, r.eof, r.reset);
        CHECK(delta.out_rsts == 0, "OutRsts %ld", delta.out_rsts);
        long close_ms = number_after(server.out, "ms=");
        CHECK(close_ms >= 0 && close_ms < 50, "close took %ld ms", close_ms);
    } else {
        CHECK(!(sent == UPLOAD && r.bytes == ANSWER && r.eof), "the client got its answer cleanly");
        CHECK(delta.out_rsts >= 1, "OutRsts %ld", delta.out_rsts);
    }
    case_end();
}

int main(void)
{
    int listener_check = wan_listen(5999); /* fails early where the namespace lacks what wanlink needs */
    if (listener_check >= 0)
        close(listener_check);
    upload("without the library, the client never reads its 413", 0, "drain", 0);
    upload("the library's default: the whole 413 and an EOF, no RST", 1, "drain", 1);
    upload("NORST_MODE=unread: reset as without the library", 1, "unread", 0);
    return harness_done();
}
