/* NORST_MODE: drain (the default) acts on unread data, and on an accepted
 * socket whose peer sent within the last few round trips (its bytes may be
 * in flight: arriving after the close, they are answered with an RST,
 * TCPAbortOnData while our FIN is unacknowledged, a bare TcpOutRsts from
 * the FIN_WAIT2 timewait socket after); a peer quiet for longer gets the
 * plain close. unread lingers on unread data only. always lingers on every connected close; log changes
 * nothing but reports each would-be RST; off changes nothing and reports
 * nothing. */
#include <stdio.h>

#include "harness.h"

/* Server reads 1 of 10 queued bytes and closes: a would-be RST. */
static void unread_case(const char *mode, int expect_rst, const char *expect_log)
{
    char name[96], setting[64];
    struct exchange x;
    const char *env[] = {setting, "NORST_LOG=stderr", NULL};

    snprintf(setting, sizeof setting, "NORST_MODE=%s", mode);
    snprintf(name, sizeof name, "mode %s: close with 9 bytes unread", mode);
    case_begin(name);
    exchange_run(&x, 1, env, 4, "accept queued:10 read:1 close", 10);
    CHECK(x.server_status == 0, "server: %s", x.server.err);
    CHECK(x.delta.abort_on_close == expect_rst, "AbortOnClose %ld", x.delta.abort_on_close);
    CHECK(x.delta.out_rsts == expect_rst, "OutRsts %ld", x.delta.out_rsts);
    CHECK(expect_rst ? x.peer.reset : x.peer.eof, "client: eof %d reset %d", x.peer.eof, x.peer.reset);
    if (expect_log)
        CHECK(contains(x.server.err, expect_log), "log: %s", x.server.err);
    else
        CHECK(!contains(x.server.err, "libnorst"), "log: %s", x.server.err);
    case_end();
}

/* The request arrives after the server's close: at once (script "accept
 * close"), or after the connection sat quiet (the peer then counts as
 * done, and drain mode leaves the close alone). */
static void in_flight_case(const char *mode, const char *script, int expect_rst)
{
    char name[128], setting[64];
    struct proc server;
    struct counters before;
    const char *env[] = {setting, "NORST_LINGER_MS=3000", NULL};

    snprintf(setting, sizeof setting, "NORST_MODE=%s", mode);
    snprintf(name, sizeof name, "mode %s, server \"%s\": request bytes arrive after its close",
             mode, script);
    case_begin(name);
    counters_read(&before);
    closer_start(&server, 1, env, 4, script);
    int fd = peer_connect(4, 5000);
    sleep_ms(200); /* the server has closed (or is lingering) by now */
    peer_send_pattern(fd, 100);
    sleep_ms(100);
    close(fd);
    CHECK(proc_finish(&server, 5000) == 0, "server: %s", server.err);
    struct counters delta = counters_since(&before);
    CHECK(delta.out_rsts == expect_rst, "OutRsts %ld", delta.out_rsts);
    CHECK(delta.abort_on_close == 0, "AbortOnClose %ld", delta.abort_on_close);
    case_end();
}

int main(void)
{
    unread_case("drain", 0, "action=drain outcome=peer-eof drained=9");
    unread_case("always", 0, "action=drain outcome=peer-eof drained=9");
    unread_case("unread", 0, "action=drain outcome=peer-eof drained=9");
    unread_case("log", 1, "action=log-only outcome=none drained=0 ms=0 rst=sent");
    unread_case("off", 1, NULL);
    in_flight_case("drain", "accept close", 0);
    in_flight_case("unread", "accept close", 1);
    in_flight_case("drain", "accept sleep:150 close", 1);
    in_flight_case("always", "accept sleep:150 close", 0);
    in_flight_case("off", "accept close", 1);
    return harness_done();
}
