/* Bad configuration: one clear line on stderr naming the variable, the value
 * and the value used instead; the program runs on. A bad value falls back to
 * its default, except a bad mode: log, which changes nothing, so the peer
 * sees the reset it would have seen without the library. Keywords are
 * matched in any case; a log that cannot be opened is said in words; log
 * mode with nowhere to log is said too. */
#include <stdio.h>
#include <unistd.h>

#include "harness.h"

/* What the peer sees: the library's drain, or the reset of a run that
 * changes nothing. */
enum wire { WIRE_DRAINED, WIRE_RESET };

struct bad_value {
    const char *setting, *expect;
    int lines;      /* on stderr */
    enum wire wire;
};

static void check_wire(const struct exchange *x, enum wire wire)
{
    if (wire == WIRE_DRAINED)
        CHECK(x->peer.eof && x->delta.out_rsts == 0, "eof %d, OutRsts %ld", x->peer.eof,
              x->delta.out_rsts);
    else
        CHECK(x->peer.reset && x->delta.out_rsts > 0, "reset %d, OutRsts %ld", x->peer.reset,
              x->delta.out_rsts);
}

static int lines_in(const char *text)
{
    int lines = 0;
    for (const char *c = text; *c; c++)
        lines += *c == '\n';
    return lines;
}

static void bad_value_case(const struct bad_value *bv)
{
    char name[160];
    static struct exchange x;
    const char *env[] = {bv->setting, NULL};

    snprintf(name, sizeof name, "%s: warned, %s", bv->setting,
             bv->wire == WIRE_RESET ? "changes nothing" : "the default used");
    case_begin(name);
    exchange_run(&x, 1, env, 4, "accept queued:10 read:1 close", 10);
    CHECK(x.server_status == 0, "server exit %d", x.server_status);
    CHECK(contains(x.server.err, bv->expect), "stderr: %s", x.server.err);
    CHECK(lines_in(x.server.err) == bv->lines, "%d lines on stderr, want %d: %s",
          lines_in(x.server.err), bv->lines, x.server.err);
    check_wire(&x, bv->wire);
    case_end();
}

/* Words in any case: accepted without a warning, and they mean the word. */
static void case_any_case(void)
{
    static struct exchange x;
    const char *env[] = {"NORST_LOG=STDERR", "NORST_MODE=Log", "NORST_LOG_FORMAT=JSON", NULL};

    case_begin("keywords in any case: NORST_LOG=STDERR is stderr, NORST_MODE=Log is log");
    unlink("STDERR");
    exchange_run(&x, 1, env, 4, "accept queued:10 read:1 close", 10);
    CHECK(x.server_status == 0, "server exit %d", x.server_status);
    CHECK(contains(x.server.err, "{\"time\":") &&
              contains(x.server.err, "\"action\":\"log-only\""),
          "no JSON event on stderr: %s", x.server.err);
    CHECK(!contains(x.server.err, "ignoring"), "warned: %s", x.server.err);
    CHECK(access("STDERR", F_OK) != 0, "a file named STDERR was created");
    check_wire(&x, WIRE_RESET);
    case_end();
}

int main(void)
{
    static const struct bad_value cases[] = {
        {"NORST_LINGER_MS=abc", "ignoring NORST_LINGER_MS=\"abc\" (expected milliseconds, 0 to 3600000); using the default 30000", 1, WIRE_DRAINED},
        {"NORST_LINGER_MS=-5", "ignoring NORST_LINGER_MS=\"-5\"", 1, WIRE_DRAINED},
        {"NORST_LINGER_MS=99999999999999999999999", "ignoring NORST_LINGER_MS=\"99999999999999999999999\"", 1, WIRE_DRAINED},
        {"NORST_LINGER_MS=3600001", "ignoring NORST_LINGER_MS=\"3600001\"", 1, WIRE_DRAINED},
        {"NORST_LINGER_MS=", "ignoring NORST_LINGER_MS=\"\"", 1, WIRE_DRAINED},
        /* and a second line: log mode with no log records nothing */
        {"NORST_MODE=lgo", "ignoring NORST_MODE=\"lgo\" (expected drain, unread, always, log or off); using log, the mode that changes nothing", 2, WIRE_RESET},
        {"NORST_MODE=", "ignoring NORST_MODE=\"\"", 2, WIRE_RESET},
        {"NORST_MAX_BYTES=1x", "ignoring NORST_MAX_BYTES=\"1x\" (expected a byte count, 0 for no byte bound); using the default 16777216", 1, WIRE_DRAINED},
        {"NORST_MAX_BYTES=18446744073709551616", "ignoring NORST_MAX_BYTES=\"18446744073709551616\"", 1, WIRE_DRAINED},
        {"NORST_IDLE_MS=5s", "ignoring NORST_IDLE_MS=\"5s\" (expected milliseconds, 0 to 3600000); using the default 5000", 1, WIRE_DRAINED},
        {"NORST_BLOCK_MS=-1", "ignoring NORST_BLOCK_MS=\"-1\" (expected milliseconds, 0 to 3600000); using the default (0; 2000 with NORST_ASYNC=0)", 1, WIRE_DRAINED},
        {"NORST_ASYNC=yes", "ignoring NORST_ASYNC=\"yes\" (expected 0 or 1); using 1", 1, WIRE_DRAINED},
        {"NORST_LOG_FORMAT=xml", "ignoring NORST_LOG_FORMAT=\"xml\" (expected text or json); using text", 1, WIRE_DRAINED},
        {"NORST_STATS=yes", "ignoring NORST_STATS=\"yes\" (expected 0 or 1); using 0", 1, WIRE_DRAINED},
        {"NORST_SYSLOG_PRIORITY=daemon.loud", "ignoring NORST_SYSLOG_PRIORITY=\"daemon.loud\" (expected FACILITY.LEVEL, as daemon.notice or local0.info); using the default daemon.notice", 1, WIRE_DRAINED},
        {"NORST_LOG=/nonexistent-dir/norst.log", "libnorst: NORST_LOG=\"/nonexistent-dir/norst.log\": cannot open for appending (No such file or directory); logging disabled", 1, WIRE_DRAINED},
        {"NORST_MODE=\x1b[31mred", "ignoring NORST_MODE=\"\\u001b[31mred\"", 2, WIRE_RESET},
        {"NORST_MODE=log", "libnorst: mode log and no log: closes change nothing and nothing is recorded; set NORST_LOG to a FILE, stderr, syslog or journal", 1, WIRE_RESET},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        bad_value_case(&cases[i]);
    case_any_case();
    return harness_done();
}
