/* NORST_STATS=1: one summary line at exit with exact counts, and every
 * logged event names the function that closed the socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* The sockets handed to the reaper depend on timing (a peer's FIN seen at
 * the first look needs none); at exit each has ended. 1 when the counts
 * after the two names are there and equal. */
static int handoffs_all_ended(const char *text, const char *started, const char *ended)
{
    const char *s = strstr(text, started), *e = strstr(text, ended);
    return s && e && atol(s + strlen(started)) == atol(e + strlen(ended));
}

int main(void)
{
    struct proc server;
    char out[4096];
    const char *env[] = {"NORST_STATS=1", "NORST_LOG=stderr", NULL};
    const char *argv[] = {"./echo-server", "-n", "2", "5000", NULL};
    const char *client[] = {"./echo-client", "127.0.0.1", "5000", "twelve bytes", NULL};

    case_begin("stats line at exit: 3 closes, 2 would-be resets drained clean");
    proc_start(&server, 1, env, argv, 1);
    run_client(client, out, sizeof out);
    run_client(client, out, sizeof out);
    CHECK(proc_finish(&server, 5000) == 0, "server: %s", server.err);
    CHECK(contains(server.err, " closes=3 tcp_closes=3 would_reset=2 drained_clean=2 bound_hit=0 "
                               "skipped_shared=0 drained_bytes=22 lingering_started="),
          "stderr: %s", server.err);
    CHECK(handoffs_all_ended(server.err, " lingering_started=", " lingering_ended="), "stderr: %s",
          server.err);
    case_end();

    case_begin("each event names its call site");
    /* the process's identity comes between the verdict and the call site */
    CHECK(count_of(server.err, " rst=none comm=echo-server ") == 2, "stderr: %s", server.err);
    CHECK(count_of(server.err, ": close() from handle_client_rst+0x") == 2, "stderr: %s",
          server.err);
    CHECK(contains(server.err, "/echo-server\n"), "stderr: %s", server.err);
    case_end();

    case_begin("in a JSON log the stats line is a JSON object too, and UTF-8 in a path stays UTF-8");
    const char *json_env[] = {"NORST_STATS=1", "NORST_LOG=stderr", "NORST_LOG_FORMAT=json", NULL};
    /* a directory of this run's own: another run may be using its copy */
    char dir[64], script[160], program[96], site[128], frame_obj[128];
    snprintf(dir, sizeof dir, "/tmp/norst-caf\xc3\xa9-%d", (int)getpid());
    snprintf(script, sizeof script, "mkdir -p %s && cp ./echo-server %s/", dir, dir);
    snprintf(program, sizeof program, "%s/echo-server", dir);
    snprintf(site, sizeof site, " in %s\",\"stack\":[", program);
    snprintf(frame_obj, sizeof frame_obj, "\"obj\":\"%s\"", program);
    const char *copy[] = {"/bin/sh", "-c", script, NULL};
    const char *renamed[] = {program, "-n", "1", "5000", NULL};
    struct proc cp;
    proc_start(&cp, 0, NULL, copy, 0);
    CHECK(proc_finish(&cp, 5000) == 0, "copy: %s", cp.err);
    proc_start(&server, 1, json_env, renamed, 1);
    run_client(client, out, sizeof out);
    CHECK(proc_finish(&server, 5000) == 0, "server: %s", server.err);
    CHECK(contains(server.err, ",\"stats\":{\"closes\":2,\"tcp_closes\":2,\"would_reset\":1,"
                               "\"drained_clean\":1,\"bound_hit\":0,\"skipped_shared\":0,\"drained_bytes\":11,"
                               "\"lingering_started\":"),
          "stderr: %s", server.err);
    CHECK(handoffs_all_ended(server.err, "\"lingering_started\":", "\"lingering_ended\":"),
          "stderr: %s", server.err);
    CHECK(contains(server.err, site), "stderr: %s", server.err);
    CHECK(contains(server.err, frame_obj), "stderr: %s", server.err);
    unlink(program);
    rmdir(dir);
    case_end();
    return harness_done();
}
