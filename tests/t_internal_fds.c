/* A daemon that closes every fd at start-up must not take the shim's log
 * with it: after each way of closing everything, the close that follows is
 * still drained and still logged to the file. dup2() onto the log's number
 * moves the log out of the way instead of writing into the app's fd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void close_all_first(const char *how)
{
    char name[96], path[64], setting[96], text[8192];
    struct exchange x;
    const char *env[] = {setting, NULL};
    const char *argv[] = {"./tests/progs/closer", "-C", how, "5000", "accept", "queued:10", "read:1", "close", NULL};

    snprintf(path, sizeof path, "/tmp/norst-internal-%d-%s.log", (int)getpid(), how);
    snprintf(setting, sizeof setting, "NORST_LOG=%s", path);
    snprintf(name, sizeof name, "start-up closes every fd (%s): the log survives", how);
    unlink(path);
    case_begin(name);
    exchange_run_argv(&x, 1, env, argv, 4, 10);
    CHECK(x.server_status == 0, "server: %s", x.server.err);
    read_text_file(path, text, sizeof text);
    CHECK(x.peer.eof && x.delta.out_rsts == 0, "eof %d OutRsts %ld", x.peer.eof, x.delta.out_rsts);
    CHECK(contains(text, "unread=9 action=drain outcome=peer-eof"), "log file: %s", text);
    unlink(path);
    case_end();
}

int main(void)
{
    close_all_first("loop");
    close_all_first("closefrom");
    close_all_first("close_range");
    close_all_first("syscall");
    close_all_first("dup2");
    return harness_done();
}
