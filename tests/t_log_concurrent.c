/* Concurrent writers to one log file (8 threads, then 8 forked processes,
 * 400 closes each way): every event is one whole line, and with
 * NORST_LOG_FORMAT=json every line is a valid JSON object, as a real JSON
 * parser (Python's json module) reads it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

#define TOTAL 400
#define CLIENTS 8

static void client(void)
{
    for (int i = 0; i < TOTAL / CLIENTS; i++) {
        int fd = peer_connect(4, 5000);
        peer_send_pattern(fd, 10);
        peer_read_all(fd, 5000);
        close(fd);
    }
    _exit(0);
}

static void run(int forked)
{
    char name[128], path[64], setting[96], check[256], total[16], out[256];
    struct proc server;
    const char *env[] = {setting, "NORST_LOG_FORMAT=json", NULL};
    const char *argv_threads[] = {"./tests/progs/threadsrv", "8", total, "5000", NULL};
    const char *argv_forked[] = {"./tests/progs/threadsrv", "-f", "8", total, "5000", NULL};
    pid_t pids[CLIENTS];

    snprintf(total, sizeof total, "%d", TOTAL);
    snprintf(path, sizeof path, "/tmp/norst-concurrent-%d-%d.json", (int)getpid(), forked);
    snprintf(setting, sizeof setting, "NORST_LOG=%s", path);
    unlink(path);
    snprintf(name, sizeof name, "%d closes from 8 %s into one JSON log: %d whole, valid lines", TOTAL,
             forked ? "forked processes" : "threads", TOTAL);
    case_begin(name);
    proc_start(&server, 1, env, forked ? argv_forked : argv_threads, 1);
    for (int c = 0; c < CLIENTS; c++)
        if ((pids[c] = fork()) == 0)
            client();
    for (int c = 0; c < CLIENTS; c++)
        waitpid(pids[c], NULL, 0);
    CHECK(proc_finish(&server, 30000) == 0, "server: %s", server.err);

    snprintf(check, sizeof check,
             "python3 -c 'import json,sys; e=[json.loads(l) for l in open(sys.argv[1])]; "
             "print(len(e), sum(x[\"action\"]==\"drain\" and x[\"rst\"] is False for x in e))' %s",
             path);
    FILE *py = popen(check, "r");
    out[0] = '\0';
    if (py) {
        if (!fgets(out, sizeof out, py))
            out[0] = '\0';
        pclose(py);
    }
    char want[32];
    snprintf(want, sizeof want, "%d %d\n", TOTAL, TOTAL);
    CHECK(strcmp(out, want) == 0, "python3 json read \"%s\", want \"%s\" (file %s)", out, want, path);
    if (strcmp(out, want) == 0)
        unlink(path);
    case_end();
}

int main(void)
{
    run(0);
    run(1);
    return harness_done();
}
