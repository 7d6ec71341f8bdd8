/* Bad configuration: one clear line on stderr naming the variable, the value
 * and the default used instead; the program runs on, with the default. */
#include <stdio.h>

#include "harness.h"

struct bad_value {
    const char *setting, *expect;
};

static void bad_value_case(const struct bad_value *bv)
{
    char name[128];
    struct exchange x;
    const char *env[] = {bv->setting, NULL};

    snprintf(name, sizeof name, "bad value %s: warned, default used", bv->setting);
    case_begin(name);
    exchange_run(&x, 1, env, 4, "accept queued:10 read:1 close", 10);
    CHECK(x.server_status == 0, "server exit %d", x.server_status);
    CHECK(contains(x.server.err, bv->expect), "stderr: %s", x.server.err);
    /* exactly one line */
    int lines = 0;
    for (const char *c = x.server.err; *c; c++)
        lines += *c == '\n';
    CHECK(lines == 1, "%d lines on stderr: %s", lines, x.server.err);
    /* the default (drain) still protects the peer */
    CHECK(x.peer.eof && x.delta.out_rsts == 0, "eof %d, OutRsts %ld", x.peer.eof, x.delta.out_rsts);
    case_end();
}

int main(void)
{
    static const struct bad_value cases[] = {
        {"NORST_LINGER_MS=abc", "ignoring NORST_LINGER_MS=\"abc\" (expected milliseconds, 0 to 3600000); using the default 30000"},
        {"NORST_LINGER_MS=-5", "ignoring NORST_LINGER_MS=\"-5\""},
        {"NORST_LINGER_MS=99999999999999999999999", "ignoring NORST_LINGER_MS=\"99999999999999999999999\""},
        {"NORST_LINGER_MS=3600001", "ignoring NORST_LINGER_MS=\"3600001\""},
        {"NORST_LINGER_MS=", "ignoring NORST_LINGER_MS=\"\""},
        {"NORST_MODE=bogus", "ignoring NORST_MODE=\"bogus\" (expected drain, unread, always, log or off); using the default drain"},
        {"NORST_MAX_BYTES=1x", "ignoring NORST_MAX_BYTES=\"1x\" (expected a byte count, 0 for no byte bound); using the default 16777216"},
        {"NORST_MAX_BYTES=18446744073709551616", "ignoring NORST_MAX_BYTES=\"18446744073709551616\""},
        {"NORST_IDLE_MS=5s", "ignoring NORST_IDLE_MS=\"5s\" (expected milliseconds, 0 to 3600000); using the default 5000"},
        {"NORST_BLOCK_MS=-1", "ignoring NORST_BLOCK_MS=\"-1\" (expected milliseconds, 0 to 3600000); using the default (0; 2000 with NORST_ASYNC=0)"},
        {"NORST_ASYNC=yes", "ignoring NORST_ASYNC=\"yes\" (expected 0 or 1); using 1"},
        {"NORST_LOG_FORMAT=xml", "ignoring NORST_LOG_FORMAT=\"xml\" (expected text or json); using text"},
        {"NORST_STATS=yes", "ignoring NORST_STATS=\"yes\" (expected 0 or 1); using 0"},
        {"NORST_LOG=/nonexistent-dir/norst.log", "NORST_LOG=\"/nonexistent-dir/norst.log\": cannot open for appending"},
        {"NORST_MODE=\x1b[31mred", "ignoring NORST_MODE=\"\\u001b[31mred\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        bad_value_case(&cases[i]);
    return harness_done();
}
